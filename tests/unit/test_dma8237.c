/* tests/unit/test_dma8237.c: the two 8237A DMA controllers without a CPU.
 *
 * Each test builds a machine with only the DMA device, programs channels
 * through the ports as a BIOS or driver would, and plays the device side
 * with dma8237_transfer, checking guest RAM, the registers and the status.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

struct bench {
    struct machine *m;
    struct dma8237 *dma;
};

static struct bench bench_new(void)
{
    char err[128];
    struct bench b;
    b.m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b.m);
    ck_assert_int_eq(dma8237_create(b.m, &b.dma), 0);
    ck_assert_ptr_nonnull(b.dma);
    return b;
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }

/* Program an 8-bit channel (0-3) the way Linux's set_dma_* helpers do. */
static void setup8(struct bench *b, int chan, uint8_t mode, uint32_t phys, uint16_t count)
{
    static const uint16_t page_port[4] = { 0x87, 0x83, 0x81, 0x82 };
    out8(b, 0x0A, (uint8_t)(4 | chan));            /* mask */
    out8(b, 0x0C, 0);                              /* clear flip-flop */
    out8(b, 0x0B, (uint8_t)(mode | chan));
    out8(b, (uint16_t)(chan * 2), (uint8_t)phys);
    out8(b, (uint16_t)(chan * 2), (uint8_t)(phys >> 8));
    out8(b, page_port[chan], (uint8_t)(phys >> 16));
    out8(b, (uint16_t)(chan * 2 + 1), (uint8_t)count);
    out8(b, (uint16_t)(chan * 2 + 1), (uint8_t)(count >> 8));
    out8(b, 0x0A, (uint8_t)chan);                  /* unmask */
}

static uint16_t read16(struct bench *b, uint16_t port)
{
    uint8_t lo = in8(b, port);
    uint8_t hi = in8(b, port);
    return (uint16_t)(lo | hi << 8);
}

START_TEST(power_on_all_masked)
{
    struct bench b = bench_new();
    ck_assert_uint_eq(in8(&b, 0x0F), 0xFF);       /* all four masked */
    ck_assert_uint_eq(in8(&b, 0xDE), 0xFF);
    ck_assert_uint_eq(in8(&b, 0x08), 0x00);
    uint8_t buf[16] = { 0 };
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, buf, 16, true), 0);
    /* 0x80 is left free for the board's POST port, 0x81-0x8F are ours */
    ck_assert_uint_eq(b.m->io.owner[0x80], 0);
    ck_assert_uint_ne(b.m->io.owner[0x81], 0);
    ck_assert_uint_ne(b.m->io.owner[0x8F], 0);
    out8(&b, 0x84, 0x5A);                          /* plain storage */
    ck_assert_uint_eq(in8(&b, 0x84), 0x5A);
    /* a second DMA cannot take the same ports */
    ck_assert_int_eq(dma8237_create(b.m, NULL), -1);
    machine_destroy(b.m);
}
END_TEST

START_TEST(registers_and_flip_flop)
{
    struct bench b = bench_new();
    out8(&b, 0x0C, 0);
    out8(&b, 0x02, 0x34); out8(&b, 0x02, 0x12);    /* ch1 address 0x1234 */
    out8(&b, 0x03, 0xFF); out8(&b, 0x03, 0x01);    /* ch1 count 0x01FF */
    out8(&b, 0x83, 0x07);
    out8(&b, 0x0C, 0);
    ck_assert_uint_eq(read16(&b, 0x02), 0x1234);
    ck_assert_uint_eq(read16(&b, 0x03), 0x01FF);
    ck_assert_uint_eq(in8(&b, 0x83), 0x07);
    /* flip-flop toggles on every access, clear puts it back to low */
    out8(&b, 0x0C, 0);
    ck_assert_uint_eq(in8(&b, 0x02), 0x34);
    out8(&b, 0x0C, 0);
    ck_assert_uint_eq(in8(&b, 0x02), 0x34);
    /* single mask, clear mask, write all masks */
    out8(&b, 0x0E, 0);
    ck_assert_uint_eq(in8(&b, 0x0F), 0xF0);
    out8(&b, 0x0A, 0x06);
    ck_assert_uint_eq(in8(&b, 0x0F), 0xF4);
    out8(&b, 0x0F, 0x09);
    ck_assert_uint_eq(in8(&b, 0x0F), 0xF9);
    /* software request shows in status bits 4-7 */
    out8(&b, 0x09, 0x05);
    ck_assert_uint_eq(in8(&b, 0x08), 0x20);
    /* master clear: all masked, requests gone */
    out8(&b, 0x0D, 0);
    ck_assert_uint_eq(in8(&b, 0x0F), 0xFF);
    ck_assert_uint_eq(in8(&b, 0x08), 0x00);
    machine_destroy(b.m);
}
END_TEST

START_TEST(transfer_to_ram_with_tc)
{
    struct bench b = bench_new();
    /* channel 2 (floppy): write to memory, single mode, 512 bytes at 0x23400 */
    setup8(&b, 2, 0x46, 0x23400, 511);
    uint8_t data[600];
    for (int i = 0; i < 600; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, 256, true), 256);
    ck_assert(!dma8237_terminal_count(b.dma, 2));
    ck_assert_uint_eq(in8(&b, 0x08) & 0x0F, 0);
    out8(&b, 0x0C, 0);
    ck_assert_uint_eq(read16(&b, 0x04), 0x3500);   /* address advanced */
    ck_assert_uint_eq(read16(&b, 0x05), 255);      /* count left - 1 */
    /* the device offers more than is left: only 256 more move */
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data + 256, 344, true), 256);
    ck_assert(dma8237_terminal_count(b.dma, 2));
    ck_assert_mem_eq(b.m->mem.ram + 0x23400, data, 512);
    ck_assert_uint_eq(b.m->mem.ram[0x23400 + 512], 0);
    ck_assert_uint_eq(read16(&b, 0x05), 0xFFFF);
    /* TC bit in status, cleared by the read; the channel masked itself */
    ck_assert_uint_eq(in8(&b, 0x08), 0x04);
    ck_assert_uint_eq(in8(&b, 0x08), 0x00);
    ck_assert_uint_eq(in8(&b, 0x0F) & 0x04, 0x04);
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, 16, true), 0);
    machine_destroy(b.m);
}
END_TEST

START_TEST(read_from_memory_and_direction)
{
    struct bench b = bench_new();
    for (int i = 0; i < 64; i++)
        b.m->mem.ram[0x1000 + i] = (uint8_t)(0x40 + i);
    /* channel 1: read from memory */
    setup8(&b, 1, 0x48, 0x1000, 15);
    uint8_t buf[16];
    /* the device direction must match the programming */
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, buf, 16, true), 0);
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, buf, 16, false), 16);
    ck_assert_mem_eq(buf, b.m->mem.ram + 0x1000, 16);
    /* decrement: bytes come from 0x103F downwards */
    setup8(&b, 1, 0x68, 0x103F, 3);
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, buf, 4, false), 4);
    ck_assert_uint_eq(buf[0], 0x40 + 0x3F);
    ck_assert_uint_eq(buf[3], 0x40 + 0x3C);
    /* verify: counts, moves nothing */
    setup8(&b, 3, 0x40, 0x5000, 9);
    memset(buf, 0xAA, sizeof buf);
    ck_assert_int_eq(dma8237_transfer(b.dma, 3, buf, 16, true), 10);
    ck_assert_uint_eq(b.m->mem.ram[0x5000], 0);
    ck_assert(dma8237_terminal_count(b.dma, 3));
    machine_destroy(b.m);
}
END_TEST

START_TEST(wrap_inside_page)
{
    struct bench b = bench_new();
    /* 8 bytes from 0x1FFFC: the address wraps to 0x10000, not 0x20000 */
    setup8(&b, 0, 0x44, 0x1FFFC, 7);
    uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    ck_assert_int_eq(dma8237_transfer(b.dma, 0, data, 8, true), 8);
    ck_assert_mem_eq(b.m->mem.ram + 0x1FFFC, data, 4);
    ck_assert_mem_eq(b.m->mem.ram + 0x10000, data + 4, 4);
    ck_assert_uint_eq(b.m->mem.ram[0x20000], 0);
    machine_destroy(b.m);
}
END_TEST

START_TEST(autoinit_reloads)
{
    struct bench b = bench_new();
    setup8(&b, 1, 0x54, 0x8000, 3);               /* write, autoinit, 4 bytes */
    uint8_t data[6] = { 9, 8, 7, 6, 5, 4 };
    /* the call stops at terminal count even with autoinit */
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, data, 6, true), 4);
    ck_assert(dma8237_terminal_count(b.dma, 1));
    ck_assert_uint_eq(in8(&b, 0x08) & 0x0F, 0x02);
    ck_assert_uint_eq(in8(&b, 0x0F) & 0x02, 0);   /* not masked */
    out8(&b, 0x0C, 0);
    ck_assert_uint_eq(read16(&b, 0x02), 0x8000);   /* reloaded */
    ck_assert_uint_eq(read16(&b, 0x03), 3);
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, data + 4, 2, true), 2);
    ck_assert(!dma8237_terminal_count(b.dma, 1));
    ck_assert_uint_eq(b.m->mem.ram[0x8000], 5);    /* second pass starts over */
    ck_assert_uint_eq(b.m->mem.ram[0x8001], 4);
    ck_assert_uint_eq(b.m->mem.ram[0x8002], 7);
    machine_destroy(b.m);
}
END_TEST

START_TEST(sixteen_bit_channel)
{
    struct bench b = bench_new();
    /* channel 5: word address 0x8000 in page 0x03 -> physical
     * (0x03 & 0xFE) << 16 | 0x8000 << 1 = 0x30000; count 3 = 4 words */
    out8(&b, 0xD4, 0x05);                          /* mask ch5 */
    out8(&b, 0xD8, 0);
    out8(&b, 0xD6, 0x45);                          /* single, write, ch5 */
    out8(&b, 0xC4, 0x00); out8(&b, 0xC4, 0x80);
    out8(&b, 0xC6, 0x03); out8(&b, 0xC6, 0x00);
    out8(&b, 0x8B, 0x03);
    out8(&b, 0xD4, 0x01);                          /* unmask ch5 */
    ck_assert_uint_eq(in8(&b, 0xDE), 0xFD);
    uint8_t data[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    ck_assert_int_eq(dma8237_transfer(b.dma, 5, data, 10, true), 8);
    ck_assert_mem_eq(b.m->mem.ram + 0x30000, data, 8);
    ck_assert_uint_eq(b.m->mem.ram[0x30008], 0);
    ck_assert(dma8237_terminal_count(b.dma, 5));
    ck_assert_uint_eq(in8(&b, 0xD0) & 0x0F, 0x02); /* TC of ch5 = bit 1 of DMA2 */
    out8(&b, 0xD8, 0);
    ck_assert_uint_eq(read16(&b, 0xC4), 0x8004);   /* counted in words */
    /* odd ports of DMA2 are not decoded */
    ck_assert_uint_eq(in8(&b, 0xC5), 0xFF);
    /* 128 KiB wrap: word address 0xFFFF of page 0x02 is at 0x3FFFE, the
     * next word at 0x20000 */
    out8(&b, 0xD8, 0);
    out8(&b, 0xD6, 0x45);
    out8(&b, 0xC4, 0xFF); out8(&b, 0xC4, 0xFF);
    out8(&b, 0xC6, 0x01); out8(&b, 0xC6, 0x00);
    out8(&b, 0x8B, 0x02);
    out8(&b, 0xD4, 0x01);
    ck_assert_int_eq(dma8237_transfer(b.dma, 5, data, 4, true), 4);
    ck_assert_uint_eq(b.m->mem.ram[0x3FFFE], 1);
    ck_assert_uint_eq(b.m->mem.ram[0x3FFFF], 2);
    ck_assert_uint_eq(b.m->mem.ram[0x20000], 3);
    ck_assert_uint_eq(b.m->mem.ram[0x20001], 4);
    machine_destroy(b.m);
}
END_TEST

START_TEST(masked_and_disabled_channel)
{
    struct bench b = bench_new();
    setup8(&b, 2, 0x44, 0x9000, 15);
    out8(&b, 0x0A, 0x06);                          /* mask ch2 again */
    uint8_t data[16] = { 0x11 };
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, 16, true), 0);
    ck_assert_uint_eq(b.m->mem.ram[0x9000], 0);
    out8(&b, 0x0A, 0x02);
    out8(&b, 0x08, 0x04);                          /* command: controller disable */
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, 16, true), 0);
    out8(&b, 0x08, 0x00);
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, 16, true), 16);
    ck_assert_uint_eq(b.m->mem.ram[0x9000], 0x11);
    /* bad channel numbers and lengths move nothing */
    ck_assert_int_eq(dma8237_transfer(b.dma, 8, data, 16, true), 0);
    ck_assert_int_eq(dma8237_transfer(b.dma, -1, data, 16, true), 0);
    ck_assert_int_eq(dma8237_transfer(b.dma, 2, data, -5, true), 0);
    /* machine reset masks everything again */
    machine_reset(b.m);
    ck_assert_uint_eq(in8(&b, 0x0F), 0xFF);
    machine_destroy(b.m);
}
END_TEST

START_TEST(transfer_to_top_of_address_space)
{
    struct bench b = bench_new();
    /* page 0xFF, the last 256 bytes of the 16 MiB ISA space (and of RAM) */
    setup8(&b, 1, 0x44, 0xFFFF00, 0xFF);
    uint8_t data[256];
    memset(data, 0x77, sizeof data);
    ck_assert_int_eq(dma8237_transfer(b.dma, 1, data, 256, true), 256);
    ck_assert_uint_eq(b.m->mem.ram[0xFFFFFF], 0x77);
    machine_destroy(b.m);
}
END_TEST

static Suite *dma_suite(void)
{
    Suite *s = suite_create("dma8237");
    TCase *tc = tcase_create("dma");
    tcase_add_test(tc, power_on_all_masked);
    tcase_add_test(tc, registers_and_flip_flop);
    tcase_add_test(tc, transfer_to_ram_with_tc);
    tcase_add_test(tc, read_from_memory_and_direction);
    tcase_add_test(tc, wrap_inside_page);
    tcase_add_test(tc, autoinit_reloads);
    tcase_add_test(tc, sixteen_bit_channel);
    tcase_add_test(tc, masked_and_disabled_channel);
    tcase_add_test(tc, transfer_to_top_of_address_space);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dma_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
