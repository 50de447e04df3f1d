/* tests/unit/test_fw_cfg.c: QEMU's fw_cfg device without a CPU.
 *
 * The device is created on a machine with 16 MiB of RAM and driven through
 * the port map as SeaBIOS drives it: the traditional interface (16-bit
 * select at 0x510, byte reads at 0x511) and the DMA interface (a descriptor
 * the test builds in guest RAM, its address written big-endian to 0x514 and
 * 0x518).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/fw_cfg.h"

struct bench {
    struct machine *m;
    struct fw_cfg *fw;
};

static struct bench bench_new(void)
{
    char err[200];
    struct bench b;
    b.m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_msg(b.m != NULL, "%s", err);
    ck_assert_int_eq(fw_cfg_create(b.m, &b.fw), 0);
    ck_assert_ptr_nonnull(b.fw);
    return b;
}

static void select_key(struct bench *b, uint16_t key) { ioport_write(&b->m->io, 0x510, key, 2); }
static uint8_t data8(struct bench *b) { return (uint8_t)ioport_read(&b->m->io, 0x511, 1); }

static void read_bytes(struct bench *b, uint16_t key, uint8_t *out, size_t n)
{
    select_key(b, key);
    for (size_t i = 0; i < n; i++)
        out[i] = data8(b);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Write a descriptor at desc and start it, as a guest does. */
static uint32_t dma(struct bench *b, uint32_t desc, uint32_t control, uint32_t length, uint64_t addr)
{
    uint8_t d[16];
    uint32_t words[4] = { control, length, (uint32_t)(addr >> 32), (uint32_t)addr };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[4 * i + j] = (uint8_t)(words[i] >> (24 - 8 * j));
    phys_load(&b->m->mem, desc, d, sizeof d);
    ioport_write(&b->m->io, 0x514, 0, 4);                              /* high half: 0 */
    ioport_write(&b->m->io, 0x518, __builtin_bswap32(desc), 4);        /* low half, go */
    uint8_t ctl[4];
    phys_copy_out(&b->m->mem, desc, ctl, 4);
    return be32(ctl);
}

/* Find a file through the directory as SeaBIOS does; returns its key. */
static int find_file(struct bench *b, const char *name, uint32_t *size)
{
    uint8_t count_be[4];
    read_bytes(b, FW_CFG_FILE_DIR, count_be, 4);   /* the rest follows on the same stream */
    uint32_t count = be32(count_be);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t e[64];
        for (int j = 0; j < 64; j++)
            e[j] = data8(b);
        if (strncmp((char *)e + 8, name, 56) == 0) {
            *size = be32(e);
            return e[4] << 8 | e[5];
        }
    }
    return -1;
}

START_TEST(signature_and_id)
{
    struct bench b = bench_new();
    uint8_t sig[4];
    read_bytes(&b, FW_CFG_SIGNATURE, sig, 4);
    ck_assert_mem_eq(sig, "QEMU", 4);
    uint8_t id[4];
    read_bytes(&b, FW_CFG_ID, id, 4);
    ck_assert_uint_eq(id[0] | id[1] << 8 | id[2] << 16 | (uint32_t)id[3] << 24, 3);
    /* past the end: zeros */
    ck_assert_uint_eq(data8(&b), 0);
    ck_assert_uint_eq(data8(&b), 0);
    /* the write-channel bit (0x4000) selects the same item for reading */
    read_bytes(&b, 0x4000 | FW_CFG_SIGNATURE, sig, 4);
    ck_assert_mem_eq(sig, "QEMU", 4);
    /* a byte read at the selector port reads data too (QEMU's combined port) */
    select_key(&b, FW_CFG_SIGNATURE);
    ck_assert_uint_eq(ioport_read(&b.m->io, 0x510, 1), 'Q');
    ck_assert_uint_eq(data8(&b), 'E');
    /* the DMA registers read back "QEMU CFG" */
    ck_assert_uint_eq(ioport_read(&b.m->io, 0x514, 4), 'Q' | 'E' << 8 | 'M' << 16 | (uint32_t)'U' << 24);
    ck_assert_uint_eq(ioport_read(&b.m->io, 0x518, 4), ' ' | 'C' << 8 | 'F' << 16 | (uint32_t)'G' << 24);
    ck_assert_uint_eq(ioport_read(&b.m->io, 0x51B, 1), 'G');
    machine_destroy(b.m);
}
END_TEST

START_TEST(integers_little_endian_and_duplicates)
{
    struct bench b = bench_new();
    ck_assert_int_eq(fw_cfg_add_i16(b.fw, FW_CFG_NB_CPUS, 0x0102), 0);
    ck_assert_int_eq(fw_cfg_add_i32(b.fw, FW_CFG_RAM_SIZE, 0x11223344), 0);
    ck_assert_int_eq(fw_cfg_add_i64(b.fw, FW_CFG_E820_TABLE, 0x0102030405060708ull), 0);
    ck_assert_int_eq(fw_cfg_add_i16(b.fw, FW_CFG_NB_CPUS, 7), -1);          /* taken */
    ck_assert_int_eq(fw_cfg_add_i32(b.fw, FW_CFG_SIGNATURE, 7), -1);        /* built in */
    ck_assert_int_eq(fw_cfg_add_i32(b.fw, FW_CFG_FILE_DIR, 7), -1);         /* generated */
    ck_assert_int_eq(fw_cfg_add_i32(b.fw, FW_CFG_FILE_FIRST + 3, 7), -1);   /* file keys */
    uint8_t v[8];
    read_bytes(&b, FW_CFG_NB_CPUS, v, 3);
    ck_assert_uint_eq(v[0], 0x02); ck_assert_uint_eq(v[1], 0x01); ck_assert_uint_eq(v[2], 0);
    read_bytes(&b, FW_CFG_RAM_SIZE, v, 4);
    ck_assert_uint_eq(v[0], 0x44); ck_assert_uint_eq(v[3], 0x11);
    read_bytes(&b, FW_CFG_E820_TABLE, v, 8);
    ck_assert_uint_eq(v[0], 0x08); ck_assert_uint_eq(v[7], 0x01);
    /* a key nobody added reads as zeros */
    read_bytes(&b, FW_CFG_UUID, v, 4);
    ck_assert_uint_eq(v[0] | v[1] | v[2] | v[3], 0);
    machine_destroy(b.m);
}
END_TEST

START_TEST(selector_rewinds_and_reset)
{
    struct bench b = bench_new();
    const char blob[] = "abcdef";
    ck_assert_int_eq(fw_cfg_add_bytes(b.fw, FW_CFG_KERNEL_CMDLINE, blob, 6), 0);
    select_key(&b, FW_CFG_KERNEL_CMDLINE);
    ck_assert_uint_eq(data8(&b), 'a');
    ck_assert_uint_eq(data8(&b), 'b');
    select_key(&b, FW_CFG_KERNEL_CMDLINE);          /* selecting again rewinds */
    ck_assert_uint_eq(data8(&b), 'a');
    for (int i = 0; i < 5; i++)
        data8(&b);
    ck_assert_uint_eq(data8(&b), 0);                /* past the end */
    /* machine reset: key 0 selected at offset 0, the items kept */
    b.m->devices[0].ops->reset(b.m->devices[0].state);
    ck_assert_uint_eq(data8(&b), 'Q');
    select_key(&b, FW_CFG_KERNEL_CMDLINE);
    ck_assert_uint_eq(data8(&b), 'a');
    machine_destroy(b.m);
}
END_TEST

START_TEST(file_directory_sorted)
{
    struct bench b = bench_new();
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "etc/e820", "E820", 4), 0);
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "bootorder", "/rom@genroms/linuxboot.bin\n", 27), 0);
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "genroms/linuxboot.bin", "\x55\xAA\x01", 3), 0);
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "bootorder", "x", 1), -1);      /* name taken */
    char long_name[57];
    memset(long_name, 'n', 56);
    long_name[56] = 0;
    ck_assert_int_eq(fw_cfg_add_file(b.fw, long_name, "x", 1), -1);       /* 56 bytes: too long */
    long_name[55] = 0;
    ck_assert_int_eq(fw_cfg_add_file(b.fw, long_name, "x", 1), 0);        /* 55 bytes: fits */

    /* the directory: be32 count, then entries sorted by name, keys in order */
    uint8_t dir[4 + 4 * 64];
    read_bytes(&b, FW_CFG_FILE_DIR, dir, sizeof dir);
    ck_assert_uint_eq(be32(dir), 4);
    const char *order[4] = { "bootorder", "etc/e820", "genroms/linuxboot.bin", long_name };
    uint32_t sizes[4] = { 27, 4, 3, 1 };
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = dir + 4 + 64 * i;
        ck_assert_str_eq((const char *)e + 8, order[i]);
        ck_assert_uint_eq(be32(e), sizes[i]);
        ck_assert_uint_eq(e[4] << 8 | e[5], FW_CFG_FILE_FIRST + i);
        ck_assert_uint_eq(e[6] | e[7], 0);
    }

    /* read a file by name, the SeaBIOS way */
    uint32_t size;
    int key = find_file(&b, "bootorder", &size);
    ck_assert_int_eq(key, FW_CFG_FILE_FIRST);
    ck_assert_uint_eq(size, 27);
    char text[28] = { 0 };
    read_bytes(&b, (uint16_t)key, (uint8_t *)text, 27);
    ck_assert_str_eq(text, "/rom@genroms/linuxboot.bin\n");
    key = find_file(&b, "genroms/linuxboot.bin", &size);
    ck_assert_int_eq(key, FW_CFG_FILE_FIRST + 2);
    uint8_t rom[4];
    read_bytes(&b, (uint16_t)key, rom, 4);
    ck_assert_uint_eq(rom[0], 0x55); ck_assert_uint_eq(rom[1], 0xAA); ck_assert_uint_eq(rom[2], 1);
    ck_assert_uint_eq(rom[3], 0);                   /* past its end */
    ck_assert_int_eq(find_file(&b, "etc/none", &size), -1);
    machine_destroy(b.m);
}
END_TEST

START_TEST(dma_select_read_skip)
{
    struct bench b = bench_new();
    uint8_t blob[300];
    for (int i = 0; i < 300; i++)
        blob[i] = (uint8_t)(i * 7 + 1);
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "etc/blob", blob, sizeof blob), 0);
    uint16_t key = FW_CFG_FILE_FIRST;
    const uint32_t desc = 0x8000, buf = 0x100000;

    /* select + read 100 bytes above 1 MiB */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)key << 16 | 0x08 | 0x02, 100, buf), 0);
    uint8_t got[300];
    phys_copy_out(&b.m->mem, buf, got, 100);
    ck_assert_mem_eq(got, blob, 100);
    /* skip 50, then read 10 without selecting: continues at 150 */
    ck_assert_uint_eq(dma(&b, desc, 0x04, 50, 0), 0);
    ck_assert_uint_eq(dma(&b, desc, 0x02, 10, buf), 0);
    phys_copy_out(&b.m->mem, buf, got, 10);
    ck_assert_mem_eq(got, blob + 150, 10);
    /* the traditional port continues from the same offset */
    ck_assert_uint_eq(data8(&b), blob[160]);

    /* reading past the end: the item's bytes, then zeros for the rest */
    uint8_t ff[64];
    memset(ff, 0xFF, sizeof ff);
    phys_load(&b.m->mem, buf, ff, sizeof ff);
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)key << 16 | 0x08 | 0x02, 0, buf), 0);  /* rewind */
    ck_assert_uint_eq(dma(&b, desc, 0x04, 290, 0), 0);
    ck_assert_uint_eq(dma(&b, desc, 0x02, 32, buf), 0);
    phys_copy_out(&b.m->mem, buf, got, 64);
    ck_assert_mem_eq(got, blob + 290, 10);
    for (int i = 10; i < 32; i++)
        ck_assert_uint_eq(got[i], 0);
    for (int i = 32; i < 64; i++)
        ck_assert_uint_eq(got[i], 0xFF);            /* beyond length: untouched */
    ck_assert_uint_eq(data8(&b), 0);                /* offset stayed at the end */

    /* control 0 (no operation): nothing happens, control stays 0 */
    ck_assert_uint_eq(dma(&b, desc, 0, 16, buf), 0);
    machine_destroy(b.m);
}
END_TEST

START_TEST(dma_write_and_bad_addresses)
{
    struct bench b = bench_new();
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "etc/blob", "0123456789", 10), 0);
    const uint32_t desc = 0x8000, buf = 0x9000;
    uint8_t before[16], after[16];

    /* writes are refused: ERROR, nothing consumed */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x10, 4, buf), 0x01);
    ck_assert_uint_eq(data8(&b), '0');

    /* a target beyond 4 GiB is an error */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 4,
                          0x100000000ull), 0x01);
    /* unassigned memory (above the 16 MiB of RAM): goes nowhere, succeeds */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 10,
                          0xFFFF0000u), 0);
    /* straddling the end of RAM: the RAM part is written */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 10,
                          (16u << 20) - 4), 0);
    phys_copy_out(&b.m->mem, (16u << 20) - 4, after, 4);
    ck_assert_mem_eq(after, "0123", 4);
    /* a huge zero-filling read into nowhere finishes (and does not hang) */
    ck_assert_uint_eq(dma(&b, desc, 0x02, 0xFFFFFFFFu, 0x80000000u), 0x01);   /* runs past 4 GiB */
    ck_assert_uint_eq(dma(&b, desc, 0x02, 0x7FFFFFF0u, 0x80000000u), 0);

    /* ROM is not written by DMA */
    static uint8_t rom[4096];
    memset(rom, 0xEE, sizeof rom);
    ck_assert_int_eq(phys_add_rom(&b.m->mem, 0xF0000, sizeof rom, rom), 0);
    phys_copy_out(&b.m->mem, 0xF0000, before, sizeof before);
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 10,
                          0xF0000), 0);
    phys_copy_out(&b.m->mem, 0xF0000, after, sizeof after);
    ck_assert_mem_eq(before, after, sizeof after);
    /* ...nor the ROM part of a range straddling RAM and ROM */
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 10,
                          0xF0000 - 5), 0);
    phys_copy_out(&b.m->mem, 0xF0000 - 5, after, 10);
    ck_assert_mem_eq(after, "01234", 5);
    ck_assert_uint_eq(after[5], 0xEE);

    /* device RAM (a framebuffer) is written like RAM */
    static uint8_t vram[8192];
    ck_assert_int_eq(phys_add_devram(&b.m->mem, 0xE0000000u, sizeof vram, vram), 0);
    ck_assert_uint_eq(dma(&b, desc, (uint32_t)FW_CFG_FILE_FIRST << 16 | 0x08 | 0x02, 10,
                          0xE0000000u + 4090), 0);
    ck_assert_mem_eq(vram + 4090, "0123456789", 10);

    /* a descriptor address beyond 4 GiB: ignored */
    ioport_write(&b.m->io, 0x514, __builtin_bswap32(1), 4);
    ioport_write(&b.m->io, 0x518, __builtin_bswap32(desc), 4);
    /* the high half was used once and cleared: the next transfer is below 4 GiB */
    ioport_write(&b.m->io, 0x518, __builtin_bswap32(desc), 4);

    /* odd-sized accesses are ignored, not crashes */
    ioport_write(&b.m->io, 0x514, 1, 1);
    ioport_write(&b.m->io, 0x510, 1, 4);
    ioport_write(&b.m->io, 0x511, 1, 1);
    ck_assert_uint_eq(ioport_read(&b.m->io, 0x510, 2), 0xFFFF);
    machine_destroy(b.m);
}
END_TEST

START_TEST(copies_items)
{
    struct bench b = bench_new();
    char text[] = "console=ttyS0";
    ck_assert_int_eq(fw_cfg_add_bytes(b.fw, FW_CFG_CMDLINE_DATA, text, sizeof text), 0);
    ck_assert_int_eq(fw_cfg_add_file(b.fw, "etc/x", text, sizeof text), 0);
    ck_assert_int_eq(fw_cfg_add_bytes(b.fw, FW_CFG_INITRD_DATA, NULL, 0), 0);   /* empty item */
    text[0] = 'X';
    uint8_t got[4];
    read_bytes(&b, FW_CFG_CMDLINE_DATA, got, 1);
    ck_assert_uint_eq(got[0], 'c');
    read_bytes(&b, FW_CFG_FILE_FIRST, got, 1);
    ck_assert_uint_eq(got[0], 'c');
    read_bytes(&b, FW_CFG_INITRD_DATA, got, 1);
    ck_assert_uint_eq(got[0], 0);
    machine_destroy(b.m);
}
END_TEST

START_TEST(ports_taken)
{
    struct bench b = bench_new();
    struct fw_cfg *second;
    ck_assert_int_eq(fw_cfg_create(b.m, &second), -1);
    ck_assert_ptr_null(second);
    machine_destroy(b.m);
}
END_TEST

static Suite *fw_cfg_suite(void)
{
    Suite *s = suite_create("fw_cfg");
    TCase *tc = tcase_create("fw_cfg");
    tcase_add_test(tc, signature_and_id);
    tcase_add_test(tc, integers_little_endian_and_duplicates);
    tcase_add_test(tc, selector_rewinds_and_reset);
    tcase_add_test(tc, file_directory_sorted);
    tcase_add_test(tc, dma_select_read_skip);
    tcase_add_test(tc, dma_write_and_bad_addresses);
    tcase_add_test(tc, copies_items);
    tcase_add_test(tc, ports_taken);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fw_cfg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
