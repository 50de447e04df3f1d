/* tests/unit/test_pc.c: the board (devices/pc.c) without a CPU run: what
 * SeaBIOS reads from CMOS, fw_cfg and PCI after the board is built. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/fw_cfg.h"
#include "devices/pc.h"

static struct machine *board(uint32_t ram_mb, const char *boot_order)
{
    char err[256];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = ram_mb << 20 },
                                       err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct pc_config cfg = { .vga = true, .boot_order = boot_order, .rtc_base = 1767225600 };
    ck_assert_msg(pc_create(m, &cfg, NULL, err, sizeof err) == 0, "%s", err);
    machine_reset(m);
    return m;
}

static uint8_t cmos(struct machine *m, uint8_t index)
{
    ioport_write(&m->io, 0x70, index, 1);
    return (uint8_t)ioport_read(&m->io, 0x71, 1);
}

START_TEST(cmos_memory_and_boot_order)
{
    struct machine *m = board(256, "cad");
    ck_assert_uint_eq(cmos(m, 0x15) | cmos(m, 0x16) << 8, 640);
    ck_assert_uint_eq(cmos(m, 0x17) | cmos(m, 0x18) << 8, 0xFFFF);      /* 255 MiB, capped */
    ck_assert_uint_eq(cmos(m, 0x34) | cmos(m, 0x35) << 8, (256 - 16) * 16); /* 64 KiB units */
    /* SeaBIOS: boot order = 0x3D | (0x38 & 0xF0) << 4, a nibble per device */
    uint32_t order = cmos(m, 0x3D) | (uint32_t)(cmos(m, 0x38) & 0xF0) << 4;
    ck_assert_uint_eq(order, 0x312);   /* c = 2, a = 1, d = 3 */
    ck_assert_uint_eq(cmos(m, 0x10), 0);   /* no floppy drives */
    ck_assert_uint_eq(cmos(m, 0x14) & 0x01, 0);
    machine_destroy(m);
}
END_TEST

START_TEST(fw_cfg_signature_and_ram)
{
    struct machine *m = board(64, "d");
    ioport_write(&m->io, 0x510, FW_CFG_SIGNATURE, 2);
    char sig[5] = { 0 };
    for (int i = 0; i < 4; i++)
        sig[i] = (char)ioport_read(&m->io, 0x511, 1);
    ck_assert_str_eq(sig, "QEMU");
    ioport_write(&m->io, 0x510, FW_CFG_RAM_SIZE, 2);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= (uint64_t)ioport_read(&m->io, 0x511, 1) << (8 * i);
    ck_assert_uint_eq(ram, 64u << 20);
    ck_assert_uint_eq(cmos(m, 0x3D) & 0x0F, 3);
    machine_destroy(m);
}
END_TEST

START_TEST(pci_devices)
{
    struct machine *m = board(32, NULL);
    static const struct { int devfn; uint32_t id; } want[] = {
        { 0x00, 0x12378086 }, { 0x08, 0x70008086 }, { 0x09, 0x70108086 }, { 0x0B, 0x71138086 },
        { 0x10, 0x11111234 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ioport_write(&m->io, 0xCF8, 0x80000000u | (uint32_t)want[i].devfn << 8, 4);
        ck_assert_uint_eq(ioport_read(&m->io, 0xCFC, 4), want[i].id);
    }
    machine_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pc");
    TCase *tc = tcase_create("board");
    tcase_add_test(tc, cmos_memory_and_boot_order);
    tcase_add_test(tc, fw_cfg_signature_and_ram);
    tcase_add_test(tc, pci_devices);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
