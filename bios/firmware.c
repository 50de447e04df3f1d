/* bios/firmware.c: firmware images and the Linux bzImage loader (see
 * firmware.h).
 *
 * firmware_load checks only what the board relies on: a system BIOS is a
 * whole number of 64 KiB blocks (its last 128 KiB are mirrored below 1 MiB,
 * its reset vector is the last 16 bytes), an option ROM starts with 55 AA
 * and its size byte covers no more than the file. An option ROM whose
 * checksum is wrong is accepted, as QEMU accepts it: SeaBIOS checks the
 * checksum itself when it scans the ROM and says so on its debug console.
 *
 * linux_image_load lays a kernel out as QEMU's x86_load_linux does for a
 * "high and recent" bzImage (boot protocol 2.02+, LOADED_HIGH):
 *   setup (boot sector + setup_sects sectors)   at 0x10000 (real_addr)
 *   setup heap up to heap_end_ptr = 0xFE00 (relative to the setup)
 *   command line                                at 0x20000
 *   protected-mode kernel (rest of the file)    at 0x100000
 *   initrd at (initrd_max - size) & ~4095, where initrd_max is the header's
 *   initrd_addr_max (0x37FFFFFF before protocol 2.03; no limit with
 *   XLF_CAN_BE_LOADED_ABOVE_4G) capped below RAM minus QEMU's 0x28000-byte
 *   ACPI reservation at the top (SeaBIOS puts its tables there).
 * Patched header fields: type_of_loader 0xB0 (QEMU's id), loadflags
 * CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr, ramdisk_image/size. The board
 * hands the pieces to fw_cfg (SETUP_*, KERNEL_*, INITRD_*, CMDLINE_*) and
 * the linuxboot option ROM copies them into RAM at boot.
 *
 * Refused, with one line naming the file: zImage (not LOADED_HIGH), boot
 * protocol older than 2.02, files without the "HdrS" header (a multiboot ELF
 * goes through bios/multiboot.c instead: linux_image_probe tells them
 * apart), a command line longer than the kernel's cmdline_size, a kernel or
 * initrd that does not fit in RAM.
 */
#include "firmware.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYSTEM_BIOS_UNIT    0x10000u     /* 64 KiB */
#define SYSTEM_BIOS_MAX     (16u << 20)
#define OPTION_ROM_MAX      0x20000u     /* 128 KiB */

/* Linux boot protocol header (arch/x86/boot/header.S), byte offsets */
#define LH_SETUP_SECTS      0x1F1
#define LH_HEADER_MAGIC     0x202        /* "HdrS" */
#define LH_VERSION          0x206
#define LH_TYPE_OF_LOADER   0x210
#define LH_LOADFLAGS        0x211
#define LH_RAMDISK_IMAGE    0x218
#define LH_RAMDISK_SIZE     0x21C
#define LH_HEAP_END_PTR     0x224
#define LH_CMD_LINE_PTR     0x228
#define LH_INITRD_ADDR_MAX  0x22C
#define LH_XLOADFLAGS       0x236
#define LH_CMDLINE_SIZE     0x238
#define LH_HEADER_END       0x240        /* fields up to cmdline_size */

#define LOADED_HIGH         0x01
#define CAN_USE_HEAP        0x80
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define LOADER_TYPE_QEMU    0xB0

#define LINUX_REAL_ADDR     0x10000u
#define LINUX_CMDLINE_ADDR  0x20000u
#define LINUX_KERNEL_ADDR   0x100000u
#define LINUX_ACPI_RESERVE  0x28000u     /* QEMU's acpi_data_size for the pc machine */
#define LINUX_HEAP_END      (LINUX_CMDLINE_ADDR - LINUX_REAL_ADDR - 0x200)
/* The command line must end below the EBDA (0x9FC00). */
#define LINUX_CMDLINE_ROOM  (0x9F000u - LINUX_CMDLINE_ADDR)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_default_firmware(const char *path)
{
    return strcmp(path, FIRMWARE_DEFAULT_BIOS) == 0 || strcmp(path, FIRMWARE_DEFAULT_VGABIOS) == 0;
}

/* The whole file, if it is a regular file of at most max bytes. what names
 * it in messages ("kernel", "initrd", "BIOS"). */
static uint8_t *read_whole_file(const char *path, const char *what, uint64_t max, uint32_t *size,
                                char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (e == ENOENT && is_default_firmware(path))
            set_err(err, errlen, "%s: %s not found: install Debian's seabios package "
                    "(apt-get install seabios)", path, what);
        else
            set_err(err, errlen, "%s: cannot open %s: %s", path, what, strerror(e));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s: %s is not a regular file", path, what);
        fclose(f);
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        set_err(err, errlen, "%s: %s is too big (%llu bytes, at most %llu)", path, what,
                (unsigned long long)st.st_size, (unsigned long long)max);
        fclose(f);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        set_err(err, errlen, "%s: out of host memory reading %s", path, what);
        fclose(f);
        return NULL;
    }
    if (fread(buf, 1, len, f) != len) {
        set_err(err, errlen, "%s: cannot read %s: %s", path, what,
                ferror(f) ? strerror(errno) : "file shrank while reading");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (uint32_t)len;
    return buf;
}

int firmware_load(const char *path, enum firmware_kind kind, uint8_t **bytes, uint32_t *size,
                  char *err, size_t errlen)
{
    bool system = kind == FIRMWARE_SYSTEM_BIOS;
    uint32_t len;
    uint8_t *buf = read_whole_file(path, system ? "BIOS image" : "option ROM",
                                   system ? SYSTEM_BIOS_MAX : OPTION_ROM_MAX, &len, err, errlen);
    if (!buf)
        return -1;
    if (system) {
        if (len == 0 || len % SYSTEM_BIOS_UNIT != 0) {
            set_err(err, errlen, "%s: BIOS image size %u is not a multiple of 64 KiB", path, len);
            free(buf);
            return -1;
        }
    } else {
        if (len < 3 || buf[0] != 0x55 || buf[1] != 0xAA) {
            set_err(err, errlen, "%s: not an option ROM (no 55 AA signature)", path);
            free(buf);
            return -1;
        }
        if (buf[2] == 0 || (uint32_t)buf[2] * 512 > len) {
            set_err(err, errlen, "%s: option ROM size byte says %u bytes but the file has %u",
                    path, (unsigned)buf[2] * 512, len);
            free(buf);
            return -1;
        }
    }
    *bytes = buf;
    *size = len;
    return 0;
}

static uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool has_linux_magic(const uint8_t *buf, uint32_t len)
{
    return len >= LH_HEADER_MAGIC + 4 && memcmp(buf + LH_HEADER_MAGIC, "HdrS", 4) == 0;
}

int linux_image_probe(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t head[LH_HEADER_MAGIC + 4];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    return has_linux_magic(head, (uint32_t)got);
}

void linux_image_free(struct linux_image *li)
{
    if (!li)
        return;
    free(li->setup);
    free(li->kernel);
    free(li->initrd);
    free(li->cmdline);
    free(li);
}

/* Everything about the file itself; fills protocol, setup, kernel. */
static int linux_split(struct linux_image *li, const char *path, uint8_t *file, uint32_t len,
                       char *err, size_t errlen)
{
    if (!has_linux_magic(file, len)) {
        if (len >= 4 && memcmp(file, "\x7F" "ELF", 4) == 0)
            set_err(err, errlen, "%s: an ELF file, not a Linux bzImage (a multiboot kernel "
                    "is loaded by the multiboot path)", path);
        else
            set_err(err, errlen, "%s: not a Linux bzImage (no \"HdrS\" boot header at 0x202)", path);
        return -1;
    }
    if (len < LH_HEADER_END) {
        set_err(err, errlen, "%s: truncated Linux boot header", path);
        return -1;
    }
    li->protocol = get_le16(file + LH_VERSION);
    if (li->protocol < 0x202) {
        set_err(err, errlen, "%s: Linux boot protocol %u.%02u is too old (2.02 or later needed)",
                path, li->protocol >> 8, li->protocol & 0xFF);
        return -1;
    }
    if (!(file[LH_LOADFLAGS] & LOADED_HIGH)) {
        set_err(err, errlen, "%s: a zImage (loaded low); only bzImage kernels are supported", path);
        return -1;
    }
    uint32_t setup_sects = file[LH_SETUP_SECTS] ? file[LH_SETUP_SECTS] : 4;
    uint32_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= len) {
        set_err(err, errlen, "%s: invalid Linux boot header (setup of %u bytes, file of %u)",
                path, setup_size, len);
        return -1;
    }
    if (setup_size > LINUX_HEAP_END) {
        set_err(err, errlen, "%s: real-mode setup of %u bytes does not fit below its heap", path,
                setup_size);
        return -1;
    }
    li->setup_size = setup_size;
    li->setup_addr = LINUX_REAL_ADDR;
    li->setup = malloc(setup_size);
    li->kernel_size = len - setup_size;
    li->kernel_addr = LINUX_KERNEL_ADDR;
    li->kernel = malloc(li->kernel_size);
    if (!li->setup || !li->kernel) {
        set_err(err, errlen, "%s: out of host memory", path);
        return -1;
    }
    memcpy(li->setup, file, setup_size);
    memcpy(li->kernel, file + setup_size, li->kernel_size);
    return 0;
}

struct linux_image *linux_image_load(const char *kernel_path, const char *initrd_path,
                                     const char *cmdline, uint32_t ram_size,
                                     char *err, size_t errlen)
{
    if (!cmdline)
        cmdline = "";
    struct linux_image *li = calloc(1, sizeof *li);
    if (!li) {
        set_err(err, errlen, "%s: out of host memory", kernel_path);
        return NULL;
    }
    uint32_t len;
    uint8_t *file = read_whole_file(kernel_path, "kernel", UINT32_MAX, &len, err, errlen);
    if (!file)
        goto fail;
    int split = linux_split(li, kernel_path, file, len, err, errlen);
    free(file);
    if (split != 0)
        goto fail;
    uint8_t *hdr = li->setup;

    if ((uint64_t)li->kernel_addr + li->kernel_size > ram_size) {
        set_err(err, errlen, "%s: the kernel (%u bytes at 0x%x) does not fit in %u MiB of RAM",
                kernel_path, li->kernel_size, li->kernel_addr, ram_size >> 20);
        goto fail;
    }

    /* Command line: the kernel says how long it may be. */
    size_t cmdline_len = strlen(cmdline);
    uint32_t cmdline_max = li->protocol >= 0x206 ? get_le32(hdr + LH_CMDLINE_SIZE) : 255;
    if (cmdline_len > cmdline_max || cmdline_len + 1 > LINUX_CMDLINE_ROOM) {
        set_err(err, errlen, "%s: command line of %zu bytes is longer than the kernel accepts (%u)",
                kernel_path, cmdline_len, cmdline_max);
        goto fail;
    }
    li->cmdline = strdup(cmdline);
    if (!li->cmdline) {
        set_err(err, errlen, "%s: out of host memory", kernel_path);
        goto fail;
    }
    li->cmdline_size = (uint32_t)cmdline_len + 1;
    li->cmdline_addr = LINUX_CMDLINE_ADDR;

    /* Highest byte the initrd may occupy. */
    uint32_t initrd_max;
    if (li->protocol >= 0x20C && (get_le16(hdr + LH_XLOADFLAGS) & XLF_CAN_BE_LOADED_ABOVE_4G))
        initrd_max = UINT32_MAX;
    else if (li->protocol >= 0x203)
        initrd_max = get_le32(hdr + LH_INITRD_ADDR_MAX);
    else
        initrd_max = 0x37FFFFFF;
    if (ram_size > LINUX_ACPI_RESERVE && initrd_max >= ram_size - LINUX_ACPI_RESERVE)
        initrd_max = ram_size - LINUX_ACPI_RESERVE - 1;

    if (initrd_path) {
        li->initrd = read_whole_file(initrd_path, "initrd", ram_size, &li->initrd_size, err, errlen);
        if (!li->initrd)
            goto fail;
        uint32_t kernel_end = li->kernel_addr + li->kernel_size;
        if (li->initrd_size >= initrd_max ||
            ((initrd_max - li->initrd_size) & ~4095u) < kernel_end) {
            set_err(err, errlen, "%s: initrd of %u bytes does not fit between the kernel (ending "
                    "at 0x%x) and 0x%x; give the machine more RAM", initrd_path, li->initrd_size,
                    kernel_end, initrd_max + 1);
            goto fail;
        }
        li->initrd_addr = (initrd_max - li->initrd_size) & ~4095u;
        put_le32(hdr + LH_RAMDISK_IMAGE, li->initrd_addr);
        put_le32(hdr + LH_RAMDISK_SIZE, li->initrd_size);
    }

    hdr[LH_TYPE_OF_LOADER] = LOADER_TYPE_QEMU;
    hdr[LH_LOADFLAGS] |= CAN_USE_HEAP;
    put_le16(hdr + LH_HEAP_END_PTR, LINUX_HEAP_END);
    put_le32(hdr + LH_CMD_LINE_PTR, li->cmdline_addr);
    return li;

fail:
    linux_image_free(li);
    return NULL;
}
