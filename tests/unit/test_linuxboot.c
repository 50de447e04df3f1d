/* tests/unit/test_linuxboot.c: firmware images, the bzImage loader and the
 * linuxboot option ROM.
 *
 * The bzImage tests build small synthetic kernels (a boot header with the
 * fields QEMU reads, then a protected-mode part) in temporary files. The
 * option ROM is checked as SeaBIOS checks it (signature, size, checksum,
 * $PnP header with a BEV), disassembled with Capstone, and finally run on
 * the CPU: its BEV is entered with a machine whose fw_cfg holds a synthetic
 * kernel laid out by linux_image_load, exactly as the board will do, and
 * must copy everything into RAM and jump to the setup code.
 */
#include <capstone/capstone.h>
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bios/firmware.h"
#include "core/cpu.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/fw_cfg.h"

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A temporary file holding len bytes; the caller unlinks and frees the name. */
static char *temp_file(const void *data, size_t len)
{
    char *path = strdup("/tmp/fox86-linuxboot-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void drop_file(char *path)
{
    unlink(path);
    free(path);
}

struct fake_kernel {
    uint16_t protocol;
    uint8_t  setup_sects;      /* 0: the "means 4" case */
    uint8_t  loadflags;
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;
    uint16_t xloadflags;
    uint32_t kernel_bytes;     /* protected-mode part */
};

/* A bzImage: setup code starting with HLT at 0x200 (the setup entry), the
 * header, then kernel_bytes of pattern (byte i = i * 13 + 5). */
static char *make_kernel(const struct fake_kernel *k, uint32_t *setup_size_out)
{
    uint32_t sects = k->setup_sects ? k->setup_sects : 4;
    uint32_t setup_size = (sects + 1) * 512;
    size_t len = setup_size + k->kernel_bytes;
    uint8_t *f = calloc(1, len);
    f[0x1F1] = k->setup_sects;
    put16(f + 0x1FE, 0xAA55);
    f[0x200] = 0xF4;                       /* hlt: where the ROM jumps */
    memcpy(f + 0x202, "HdrS", 4);
    put16(f + 0x206, k->protocol);
    f[0x211] = k->loadflags;
    put32(f + 0x214, 0x100000);            /* code32_start */
    put32(f + 0x22C, k->initrd_addr_max);
    put16(f + 0x236, k->xloadflags);
    put32(f + 0x238, k->cmdline_size);
    for (uint32_t i = 0; i < k->kernel_bytes; i++)
        f[setup_size + i] = (uint8_t)(i * 13 + 5);
    char *path = temp_file(f, len);
    free(f);
    if (setup_size_out)
        *setup_size_out = setup_size;
    return path;
}

static const struct fake_kernel modern = {
    .protocol = 0x020F, .setup_sects = 30, .loadflags = 0x01,
    .initrd_addr_max = 0x7FFFFFFF, .cmdline_size = 2047, .kernel_bytes = 100000,
};

START_TEST(bzimage_layout)
{
    uint32_t setup_size;
    char *kpath = make_kernel(&modern, &setup_size);
    uint8_t rd[10000];
    memset(rd, 0x5A, sizeof rd);
    char *ipath = temp_file(rd, sizeof rd);
    ck_assert(linux_image_probe(kpath));
    ck_assert(!linux_image_probe(ipath));

    char err[256] = "";
    struct linux_image *li = linux_image_load(kpath, ipath, "console=ttyS0 quiet", 64u << 20,
                                              err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_eq(li->protocol, 0x020F);
    ck_assert_uint_eq(li->setup_size, 31 * 512);
    ck_assert_uint_eq(li->setup_addr, 0x10000);
    ck_assert_uint_eq(li->kernel_size, 100000);
    ck_assert_uint_eq(li->kernel_addr, 0x100000);
    ck_assert_uint_eq(li->kernel[0], 5);
    ck_assert_uint_eq(li->kernel[99999], (uint8_t)(99999 * 13 + 5));
    ck_assert_str_eq(li->cmdline, "console=ttyS0 quiet");
    ck_assert_uint_eq(li->cmdline_size, 20);
    ck_assert_uint_eq(li->cmdline_addr, 0x20000);
    /* initrd: below RAM minus QEMU's 0x28000-byte ACPI area, page aligned */
    ck_assert_uint_eq(li->initrd_size, sizeof rd);
    ck_assert_uint_eq(li->initrd_addr, ((64u << 20) - 0x28000 - 1 - 10000) & ~4095u);
    ck_assert_uint_eq(li->initrd[9999], 0x5A);

    const uint8_t *h = li->setup;
    ck_assert_uint_eq(h[0x210], 0xB0);                     /* type_of_loader */
    ck_assert_uint_eq(h[0x211], 0x81);                     /* LOADED_HIGH | CAN_USE_HEAP */
    ck_assert_uint_eq(le16(h + 0x224), 0xFE00);            /* heap_end_ptr */
    ck_assert_uint_eq(le32(h + 0x228), 0x20000);           /* cmd_line_ptr */
    ck_assert_uint_eq(le32(h + 0x218), li->initrd_addr);   /* ramdisk_image */
    ck_assert_uint_eq(le32(h + 0x21C), 10000);             /* ramdisk_size */
    ck_assert_mem_eq(h + 0x202, "HdrS", 4);
    linux_image_free(li);

    /* the header's initrd_addr_max wins when below the top of RAM */
    struct fake_kernel low = modern;
    low.initrd_addr_max = 0x00FFFFFF;
    char *kpath2 = make_kernel(&low, NULL);
    li = linux_image_load(kpath2, ipath, NULL, 64u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_eq(li->initrd_addr, (0x00FFFFFFu - 10000) & ~4095u);
    ck_assert_str_eq(li->cmdline, "");
    ck_assert_uint_eq(li->cmdline_size, 1);
    linux_image_free(li);

    /* no initrd: ramdisk fields stay 0 */
    li = linux_image_load(kpath, NULL, "x", 32u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_ptr_null(li->initrd);
    ck_assert_uint_eq(li->initrd_size, 0);
    ck_assert_uint_eq(le32(li->setup + 0x218), 0);
    linux_image_free(li);
    drop_file(kpath);
    drop_file(kpath2);
    drop_file(ipath);
}
END_TEST

START_TEST(bzimage_old_protocols)
{
    char err[256];
    uint8_t rd[100] = { 0 };
    char *ipath = temp_file(rd, sizeof rd);
    /* 2.02: initrd_addr_max is not in the header: 0x37FFFFFF; cmdline 255 */
    struct fake_kernel k = modern;
    k.protocol = 0x0202;
    k.initrd_addr_max = 0x1000;            /* ignored before 2.03 */
    k.setup_sects = 0;                     /* means 4 */
    char *kpath = make_kernel(&k, NULL);
    struct linux_image *li = linux_image_load(kpath, ipath, NULL, 2048u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_eq(li->setup_size, 5 * 512);
    ck_assert_uint_eq(li->initrd_addr, (0x37FFFFFFu - 100) & ~4095u);
    linux_image_free(li);
    char cmd[300];
    memset(cmd, 'a', 256);
    cmd[256] = 0;
    li = linux_image_load(kpath, NULL, cmd, 64u << 20, err, sizeof err);
    ck_assert_ptr_null(li);
    ck_assert_msg(strstr(err, "command line") && strstr(err, kpath), "%s", err);
    cmd[255] = 0;
    li = linux_image_load(kpath, NULL, cmd, 64u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    linux_image_free(li);
    drop_file(kpath);

    /* 2.12 with XLF_CAN_BE_LOADED_ABOVE_4G: only RAM limits the initrd */
    k = modern;
    k.protocol = 0x020C;
    k.initrd_addr_max = 0x1FFFFF;
    k.xloadflags = 0x02;
    kpath = make_kernel(&k, NULL);
    li = linux_image_load(kpath, ipath, NULL, 128u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_eq(li->initrd_addr, ((128u << 20) - 0x28000 - 1 - 100) & ~4095u);
    linux_image_free(li);
    drop_file(kpath);
    drop_file(ipath);
}
END_TEST

START_TEST(bzimage_refused)
{
    char err[256];
    struct fake_kernel k = modern;
    char *kpath;

    k.protocol = 0x0201;                   /* too old */
    kpath = make_kernel(&k, NULL);
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "2.01") && strstr(err, kpath), "%s", err);
    drop_file(kpath);

    k = modern;
    k.loadflags = 0;                       /* zImage */
    kpath = make_kernel(&k, NULL);
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "zImage"), "%s", err);
    drop_file(kpath);

    /* an ELF (a multiboot kernel): not HdrS, the probe says no */
    uint8_t elf[1024] = { 0x7F, 'E', 'L', 'F', 1, 1, 1 };
    kpath = temp_file(elf, sizeof elf);
    ck_assert(!linux_image_probe(kpath));
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "ELF") && strstr(err, "multiboot"), "%s", err);
    drop_file(kpath);

    /* junk and a tiny file */
    uint8_t junk[100] = { 1, 2, 3 };
    kpath = temp_file(junk, sizeof junk);
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "not a Linux bzImage"), "%s", err);
    drop_file(kpath);

    /* setup claiming more sectors than the file has */
    k = modern;
    k.kernel_bytes = 0;
    kpath = make_kernel(&k, NULL);
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "invalid Linux boot header"), "%s", err);
    drop_file(kpath);

    /* missing file */
    ck_assert_ptr_null(linux_image_load("/nonexistent/bzImage", NULL, NULL, 64u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent/bzImage") && strstr(err, "No such file"), "%s", err);
    ck_assert(!linux_image_probe("/nonexistent/bzImage"));

    /* initrd too big for the RAM left above the kernel */
    k = modern;
    kpath = make_kernel(&k, NULL);
    size_t big = 15u << 20;
    uint8_t *rd = calloc(1, big);
    char *ipath = temp_file(rd, big);
    free(rd);
    ck_assert_ptr_null(linux_image_load(kpath, ipath, NULL, 16u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "initrd") && strstr(err, ipath), "%s", err);
    /* ...but fits with more RAM */
    struct linux_image *li = linux_image_load(kpath, ipath, NULL, 32u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_ge(li->initrd_addr, li->kernel_addr + li->kernel_size);
    ck_assert_uint_le(li->initrd_addr + li->initrd_size, (32u << 20) - 0x28000);
    linux_image_free(li);
    /* a kernel bigger than RAM */
    ck_assert_ptr_null(linux_image_load(kpath, NULL, NULL, 1u << 20, err, sizeof err));
    ck_assert_msg(strstr(err, "does not fit"), "%s", err);
    drop_file(kpath);
    drop_file(ipath);
}
END_TEST

START_TEST(host_kernel)
{
    glob_t g;
    if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        globfree(&g);
        return;                            /* none on this host */
    }
    const char *path = g.gl_pathv[0];
    if (access(path, R_OK) != 0) {
        globfree(&g);
        return;
    }
    char err[256];
    ck_assert(linux_image_probe(path));
    struct linux_image *li = linux_image_load(path, NULL, "console=ttyS0", 256u << 20, err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    ck_assert_uint_ge(li->protocol, 0x020A);
    ck_assert_uint_eq(li->setup[0x210], 0xB0);
    ck_assert_uint_eq(le32(li->setup + 0x228), 0x20000);
    ck_assert_uint_gt(li->kernel_size, 1u << 20);
    linux_image_free(li);
    globfree(&g);
}
END_TEST

START_TEST(firmware_files)
{
    char err[256];
    uint8_t *bytes;
    uint32_t size;
    /* missing file: one line naming it */
    ck_assert_int_eq(firmware_load("/nonexistent/bios.bin", FIRMWARE_SYSTEM_BIOS, &bytes, &size,
                                   err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/bios.bin") && !strchr(err, '\n'), "%s", err);
    ck_assert_ptr_null(strstr(err, "seabios"));
    if (access(FIRMWARE_DEFAULT_BIOS, R_OK) != 0) {
        ck_assert_int_eq(firmware_load(FIRMWARE_DEFAULT_BIOS, FIRMWARE_SYSTEM_BIOS, &bytes, &size,
                                       err, sizeof err), -1);
        ck_assert_msg(strstr(err, "seabios"), "%s", err);
    } else {
        ck_assert_int_eq(firmware_load(FIRMWARE_DEFAULT_BIOS, FIRMWARE_SYSTEM_BIOS, &bytes, &size,
                                       err, sizeof err), 0);
        ck_assert_uint_eq(size % 65536, 0);
        ck_assert_uint_eq(bytes[size - 16], 0xEA);       /* the reset vector's far jump */
        free(bytes);
    }
    if (access(FIRMWARE_DEFAULT_VGABIOS, R_OK) == 0) {
        ck_assert_int_eq(firmware_load(FIRMWARE_DEFAULT_VGABIOS, FIRMWARE_OPTION_ROM, &bytes, &size,
                                       err, sizeof err), 0);
        ck_assert_uint_eq(bytes[0], 0x55);
        free(bytes);
    }

    /* system BIOS size rules */
    uint8_t *img = calloc(1, 0x30000);
    char *p = temp_file(img, 0x18000);
    ck_assert_int_eq(firmware_load(p, FIRMWARE_SYSTEM_BIOS, &bytes, &size, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "64 KiB") && strstr(err, p), "%s", err);
    drop_file(p);
    p = temp_file(img, 0x20000);
    ck_assert_int_eq(firmware_load(p, FIRMWARE_SYSTEM_BIOS, &bytes, &size, err, sizeof err), 0);
    ck_assert_uint_eq(size, 0x20000);
    free(bytes);
    drop_file(p);
    p = temp_file(img, 0);
    ck_assert_int_eq(firmware_load(p, FIRMWARE_SYSTEM_BIOS, &bytes, &size, err, sizeof err), -1);
    drop_file(p);

    /* option ROM rules */
    p = temp_file(img, 1024);              /* no signature */
    ck_assert_int_eq(firmware_load(p, FIRMWARE_OPTION_ROM, &bytes, &size, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "55 AA"), "%s", err);
    drop_file(p);
    img[0] = 0x55; img[1] = 0xAA; img[2] = 4;            /* claims 2048 bytes */
    p = temp_file(img, 1024);
    ck_assert_int_eq(firmware_load(p, FIRMWARE_OPTION_ROM, &bytes, &size, err, sizeof err), -1);
    drop_file(p);
    img[2] = 2;                                          /* bad checksum: accepted */
    p = temp_file(img, 1024);
    ck_assert_int_eq(firmware_load(p, FIRMWARE_OPTION_ROM, &bytes, &size, err, sizeof err), 0);
    ck_assert_uint_eq(size, 1024);
    free(bytes);
    drop_file(p);
    p = temp_file(img, 0x30000);                         /* > 128 KiB */
    ck_assert_int_eq(firmware_load(p, FIRMWARE_OPTION_ROM, &bytes, &size, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "too big"), "%s", err);
    drop_file(p);
    free(img);
}
END_TEST

static uint16_t rom_bev(void)
{
    uint16_t pnp = le16(linuxboot_rom + 0x1A);
    return le16(linuxboot_rom + pnp + 0x1A);
}

START_TEST(rom_structure)
{
    if (linuxboot_rom_size == 0)
        return;                            /* host compiler cannot build 16-bit code */
    const uint8_t *r = linuxboot_rom;
    ck_assert_uint_eq(r[0], 0x55);
    ck_assert_uint_eq(r[1], 0xAA);
    ck_assert_uint_eq(linuxboot_rom_size % 512, 0);
    ck_assert_uint_eq(r[2] * 512u, linuxboot_rom_size);
    uint8_t sum = 0;
    for (uint32_t i = 0; i < linuxboot_rom_size; i++)
        sum = (uint8_t)(sum + r[i]);
    ck_assert_uint_eq(sum, 0);
    ck_assert_uint_eq(r[3], 0xCB);         /* init entry: retf */
    ck_assert_uint_eq(le16(r + 0x18), 0);  /* no PCI data structure */
    uint16_t pnp = le16(r + 0x1A);
    ck_assert_uint_lt(pnp + 32u, linuxboot_rom_size);
    ck_assert_mem_eq(r + pnp, "$PnP", 4);
    ck_assert_uint_eq(r[pnp + 5], 2);      /* 32 bytes */
    sum = 0;
    for (int i = 0; i < 32; i++)
        sum = (uint8_t)(sum + r[pnp + i]);
    ck_assert_uint_eq(sum, 0);
    uint16_t product = le16(r + pnp + 0x10);
    ck_assert_uint_lt(product, linuxboot_rom_size);
    ck_assert_str_eq((const char *)r + product, "Linux loader");
    uint16_t bev = rom_bev();
    ck_assert_uint_gt(bev, pnp + 32u);
    ck_assert_uint_lt(bev, linuxboot_rom_size);
    ck_assert_uint_eq(le16(r + pnp + 0x16), 0);   /* no BCV */
}
END_TEST

START_TEST(rom_disassembles)
{
    if (linuxboot_rom_size == 0)
        return;
    csh cs;
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_16, &cs), CS_ERR_OK);
    /* The code follows the product name string: every instruction from
     * there decodes, through the BEV, up to the final far return. */
    uint16_t bev = rom_bev();
    uint16_t product = le16(linuxboot_rom + le16(linuxboot_rom + 0x1A) + 0x10);
    uint16_t code = (uint16_t)(product + strlen((const char *)linuxboot_rom + product) + 1);
    ck_assert_uint_lt(code, bev);
    cs_insn *insn;
    size_t n = cs_disasm(cs, linuxboot_rom + code, linuxboot_rom_size - code, code, 0, &insn);
    bool saw_bev = false;
    ck_assert_uint_gt(n, 10);
    bool saw_retf = false, saw_out = false, saw_cli = false;
    for (size_t i = 0; i < n && !saw_retf; i++) {
        if (insn[i].id == X86_INS_RETF)
            saw_retf = true;
        if (insn[i].id == X86_INS_OUT)
            saw_out = true;
        if (insn[i].id == X86_INS_CLI)
            saw_cli = true;
        if (insn[i].address == bev)
            saw_bev = true;
    }
    ck_assert(saw_retf && saw_out && saw_cli && saw_bev);
    cs_free(insn, n);
    /* the init entry */
    n = cs_disasm(cs, linuxboot_rom + 3, 1, 3, 1, &insn);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(insn[0].id, X86_INS_RETF);
    cs_free(insn, n);
    cs_close(&cs);
}
END_TEST

/* What the board does: the layout into fw_cfg items. */
static void add_linux_to_fw_cfg(struct fw_cfg *fw, const struct linux_image *li)
{
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_SETUP_ADDR, li->setup_addr), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_SETUP_SIZE, li->setup_size), 0);
    ck_assert_int_eq(fw_cfg_add_bytes(fw, FW_CFG_SETUP_DATA, li->setup, li->setup_size), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_KERNEL_ADDR, li->kernel_addr), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_KERNEL_SIZE, li->kernel_size), 0);
    ck_assert_int_eq(fw_cfg_add_bytes(fw, FW_CFG_KERNEL_DATA, li->kernel, li->kernel_size), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_INITRD_ADDR, li->initrd_addr), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_INITRD_SIZE, li->initrd_size), 0);
    ck_assert_int_eq(fw_cfg_add_bytes(fw, FW_CFG_INITRD_DATA, li->initrd, li->initrd_size), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_CMDLINE_ADDR, li->cmdline_addr), 0);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_CMDLINE_SIZE, li->cmdline_size), 0);
    ck_assert_int_eq(fw_cfg_add_bytes(fw, FW_CFG_CMDLINE_DATA, li->cmdline, li->cmdline_size), 0);
}

static void run_rom(bool with_initrd)
{
    char err[256];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = 32u << 20 }, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    struct fw_cfg *fw;
    ck_assert_int_eq(fw_cfg_create(m, &fw), 0);

    char *kpath = make_kernel(&modern, NULL);
    uint8_t rd[5000];
    for (size_t i = 0; i < sizeof rd; i++)
        rd[i] = (uint8_t)(i ^ 0xA5);
    char *ipath = temp_file(rd, sizeof rd);
    struct linux_image *li = linux_image_load(kpath, with_initrd ? ipath : NULL,
                                              "console=ttyS0 root=/dev/sda", m->mem.ram_size,
                                              err, sizeof err);
    ck_assert_msg(li != NULL, "%s", err);
    add_linux_to_fw_cfg(fw, li);

    /* SeaBIOS has copied the ROM to 0xC8000 and far-calls the BEV with its
     * stack at 0:7000 and interrupts enabled. */
    phys_load(&m->mem, 0xC8000, linuxboot_rom, linuxboot_rom_size);
    struct cpu *cpu = &m->cpu;
    cpu_reset(cpu);
    cpu_load_seg_real(cpu, SEG_CS, 0xC800);
    cpu_load_seg_real(cpu, SEG_SS, 0);
    cpu_load_seg_real(cpu, SEG_DS, 0x40);
    cpu->gpr[R_ESP] = 0x7000;
    cpu->eip = cpu->next_eip = rom_bev();
    cpu_set_eflags(cpu, FL_IF | 2, ~0u);
    enum cpu_stop why = cpu_run(cpu, 1000000);
    ck_assert_int_eq(why, CPU_STOP_HALT);

    /* entered the setup code at 0x1020:0 (its HLT) with the protocol's state */
    ck_assert_uint_eq(cpu->seg[SEG_CS].sel, 0x1020);
    ck_assert_uint_eq(cpu->eip & 0xFFFF, 1);
    ck_assert_uint_eq(cpu->seg[SEG_DS].sel, 0x1000);
    ck_assert_uint_eq(cpu->seg[SEG_ES].sel, 0x1000);
    ck_assert_uint_eq(cpu->seg[SEG_FS].sel, 0x1000);
    ck_assert_uint_eq(cpu->seg[SEG_GS].sel, 0x1000);
    ck_assert_uint_eq(cpu->seg[SEG_SS].sel, 0x1000);
    ck_assert_uint_eq(cpu->gpr[R_ESP] & 0xFFFF, 0x20000 - 0x10000 - 16);
    ck_assert(!(cpu_get_eflags(cpu) & FL_IF));

    /* everything is in RAM where the header says */
    uint8_t *buf = malloc(li->kernel_size);
    phys_copy_out(&m->mem, 0x10000, buf, li->setup_size);
    ck_assert_mem_eq(buf, li->setup, li->setup_size);
    phys_copy_out(&m->mem, 0x100000, buf, li->kernel_size);
    ck_assert_mem_eq(buf, li->kernel, li->kernel_size);
    phys_copy_out(&m->mem, 0x20000, buf, li->cmdline_size);
    ck_assert_str_eq((char *)buf, "console=ttyS0 root=/dev/sda");
    if (with_initrd) {
        phys_copy_out(&m->mem, li->initrd_addr, buf, sizeof rd);
        ck_assert_mem_eq(buf, rd, sizeof rd);
    }
    free(buf);
    linux_image_free(li);
    drop_file(kpath);
    drop_file(ipath);
    machine_destroy(m);
}

START_TEST(rom_boots_kernel)
{
    if (linuxboot_rom_size == 0)
        return;
    run_rom(true);
    run_rom(false);
}
END_TEST

static Suite *linuxboot_suite(void)
{
    Suite *s = suite_create("linuxboot");
    TCase *tc = tcase_create("linuxboot");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, bzimage_layout);
    tcase_add_test(tc, bzimage_old_protocols);
    tcase_add_test(tc, bzimage_refused);
    tcase_add_test(tc, host_kernel);
    tcase_add_test(tc, firmware_files);
    tcase_add_test(tc, rom_structure);
    tcase_add_test(tc, rom_disassembles);
    tcase_add_test(tc, rom_boots_kernel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linuxboot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
