/* tests/unit/test_rtc_cmos.c: the MC146818 RTC and CMOS RAM without a CPU.
 *
 * The RTC sits on a machine (no CPU run) with its clock starting at
 * 2026-11-21 07:37:00 UTC (a Saturday). Time moves by adding to
 * m->idle_ns; advance_to plays the machine's loop, calling next_event at
 * each deadline the device reports. IRQ 8 records its level and edges.
 */
#include <check.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "device_clock.h"

#define BASE_TIME 1795246620            /* 2026-11-21 07:37:00 UTC */
#define SEC       1000000000ull

struct bench {
    struct machine  *m;
    struct rtc_cmos *rtc;
    struct irq_line  irq8;
    int              dev;
    bool             level;
    int              rising;
};

static void bench_irq(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    (void)pin;
    if (level && !b->level)
        b->rising++;
    b->level = level;
}

static struct bench *bench_new(void)
{
    char err[128];
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    b->irq8 = (struct irq_line){ .set_level = bench_irq, .opaque = b };
    ck_assert_int_eq(rtc_cmos_create(b->m, &b->irq8, BASE_TIME, &b->rtc), 0);
    ck_assert_ptr_nonnull(b->rtc);
    b->dev = b->m->ndevices - 1;
    machine_reset(b->m);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static uint8_t rd(struct bench *b, uint8_t index)
{
    ioport_write(&b->m->io, 0x70, index, 1);
    return (uint8_t)ioport_read(&b->m->io, 0x71, 1);
}

static void wr(struct bench *b, uint8_t index, uint8_t v)
{
    ioport_write(&b->m->io, 0x70, index, 1);
    ioport_write(&b->m->io, 0x71, v, 1);
}

static uint64_t call_next_event(struct bench *b) { return device_clock_event(b->m, b->dev); }
static void set_time(struct bench *b, uint64_t t) { device_clock_set(b->m, t); }
/* The machine's loop, device side: run every deadline up to t, then sit at t. */
static void advance_to(struct bench *b, uint64_t t) { device_clock_advance(b->m, b->dev, t); }

/* seconds, minutes, hours, weekday, day, month, year, century */
static void check_time(struct bench *b, const uint8_t want[8])
{
    static const uint8_t regs[8] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32 };
    for (int i = 0; i < 8; i++)
        ck_assert_msg(rd(b, regs[i]) == want[i], "register 0x%02x: 0x%02x, want 0x%02x",
                      regs[i], rd(b, regs[i]), want[i]);
}

START_TEST(power_on_bcd_and_binary)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(rd(b, 0x0A), 0x26);
    ck_assert_uint_eq(rd(b, 0x0B), 0x02);
    ck_assert_uint_eq(rd(b, 0x0C), 0x00);
    ck_assert_uint_eq(rd(b, 0x0D), 0x80);
    check_time(b, (const uint8_t[]){ 0x00, 0x37, 0x07, 0x07, 0x21, 0x11, 0x26, 0x20 });
    wr(b, 0x0B, 0x06);                              /* binary */
    check_time(b, (const uint8_t[]){ 0, 37, 7, 7, 21, 11, 26, 20 });
    ck_assert_uint_eq(ioport_read(&b->m->io, 0x70, 1), 0xFF);
    ck_assert_uint_eq(rtc_cmos_get(b->rtc, 0x09), 26);
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);     /* no interrupt enabled */
    /* the ports are taken */
    ck_assert_int_eq(rtc_cmos_create(b->m, NULL, 0, NULL), -1);
    bench_free(b);
}
END_TEST

START_TEST(time_advances)
{
    struct bench *b = bench_new();
    set_time(b, SEC - 1);
    ck_assert_uint_eq(rd(b, 0x00), 0x00);
    set_time(b, SEC);
    ck_assert_uint_eq(rd(b, 0x00), 0x01);
    set_time(b, 83 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(b, 0x00), 0x23);
    ck_assert_uint_eq(rd(b, 0x02), 0x38);
    /* midnight: Sunday 2026-11-22 */
    set_time(b, 58980 * SEC - 1);
    check_time(b, (const uint8_t[]){ 0x59, 0x59, 0x23, 0x07, 0x21, 0x11, 0x26, 0x20 });
    set_time(b, 58980 * SEC);
    check_time(b, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x01, 0x22, 0x11, 0x26, 0x20 });
    /* 40 days on: 2027-01-01 00:00:00, a Friday */
    set_time(b, (58980 + 40 * 86400ull) * SEC);
    check_time(b, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27, 0x20 });
    bench_free(b);
}
END_TEST

/* UIP is set for the 244 us (8 ticks of 32768 Hz) before each update; the
 * registers still hold the old second then. */
START_TEST(uip_window)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(rd(b, 0x0A) & 0x80, 0);
    set_time(b, 999755859);
    ck_assert_uint_eq(rd(b, 0x0A) & 0x80, 0);
    set_time(b, 999755860);                         /* tick 32760 */
    ck_assert_uint_eq(rd(b, 0x0A), 0xA6);
    ck_assert_uint_eq(rd(b, 0x00), 0x00);
    set_time(b, SEC - 1);
    ck_assert_uint_eq(rd(b, 0x0A) & 0x80, 0x80);
    set_time(b, SEC);
    ck_assert_uint_eq(rd(b, 0x0A) & 0x80, 0);
    ck_assert_uint_eq(rd(b, 0x00), 0x01);
    /* SET: no updates, so no UIP */
    set_time(b, 2 * SEC - 1000);
    wr(b, 0x0B, 0x82);
    ck_assert_uint_eq(rd(b, 0x0A) & 0x80, 0);
    bench_free(b);
}
END_TEST

START_TEST(set_and_write_time)
{
    struct bench *b = bench_new();
    set_time(b, 2 * SEC + SEC / 4);
    ck_assert_uint_eq(rd(b, 0x0C), 0x50);           /* polled: PF (rate 6) and UF */
    wr(b, 0x0B, 0x82);                              /* SET */
    set_time(b, 5 * SEC);
    ck_assert_uint_eq(rd(b, 0x00), 0x02);           /* held */
    ck_assert_uint_eq(rd(b, 0x0C) & 0x10, 0);       /* no update-ended while SET */
    wr(b, 0x00, 0x58);
    wr(b, 0x02, 0x59);
    wr(b, 0x04, 0x23);
    wr(b, 0x07, 0x31);
    wr(b, 0x08, 0x12);
    wr(b, 0x09, 0x99);
    wr(b, 0x32, 0x19);
    ck_assert_uint_eq(rd(b, 0x09), 0x99);
    set_time(b, 5 * SEC + SEC / 2);
    wr(b, 0x0B, 0x02);                              /* run: 1999-12-31 23:59:58 */
    ck_assert_uint_eq(rd(b, 0x00), 0x58);
    set_time(b, 6 * SEC);                           /* the divider's phase is kept */
    ck_assert_uint_eq(rd(b, 0x00), 0x59);
    set_time(b, 7 * SEC);
    check_time(b, (const uint8_t[]){ 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
    /* a single register written while running */
    wr(b, 0x02, 0x30);
    set_time(b, 8 * SEC);
    check_time(b, (const uint8_t[]){ 0x01, 0x30, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
    bench_free(b);
}
END_TEST

START_TEST(divider_stop_and_restart)
{
    struct bench *b = bench_new();
    set_time(b, 3 * SEC + SEC / 4);
    wr(b, 0x0A, 0x76);                              /* divider reset: stopped */
    set_time(b, 10 * SEC);
    ck_assert_uint_eq(rd(b, 0x00), 0x03);
    wr(b, 0x0A, 0x26);                              /* first update 500 ms later */
    set_time(b, 10 * SEC + SEC / 2 - 1);
    ck_assert_uint_eq(rd(b, 0x00), 0x03);
    set_time(b, 10 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(b, 0x00), 0x04);
    set_time(b, 11 * SEC + SEC / 2);
    ck_assert_uint_eq(rd(b, 0x00), 0x05);
    bench_free(b);
}
END_TEST

/* Rate 6 (1024 Hz): PF every 32 ticks, i.e. at 976562.5 ns steps. */
START_TEST(periodic_interrupt)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    wr(b, 0x0B, 0x42);                              /* PIE */
    ck_assert_uint_eq(b->m->devices[b->dev].deadline, 976563);   /* lowered at once */
    ck_assert_uint_eq(call_next_event(b), 976563);
    advance_to(b, 976562);
    ck_assert(!b->level);
    advance_to(b, 976563);
    ck_assert(b->level);
    ck_assert_int_eq(b->rising, 1);
    advance_to(b, 1500000);                         /* stays high until reg C is read */
    ck_assert(b->level);
    ck_assert_uint_eq(rd(b, 0x0C), 0xC0);           /* IRQF | PF */
    ck_assert(!b->level);
    ck_assert_uint_eq(rd(b, 0x0C), 0x00);
    ck_assert_uint_eq(call_next_event(b), 1953125);
    /* a second of interrupts, each acknowledged by reading reg C */
    b->rising = 0;
    while (machine_now(b->m) < SEC) {
        uint64_t next = call_next_event(b);
        set_time(b, next);
        call_next_event(b);
        ck_assert(b->level);
        ck_assert_uint_eq(rd(b, 0x0C) & 0xC0, 0xC0);
    }
    ck_assert_int_eq(b->rising, 1024 - 1);
    ck_assert_uint_eq(machine_now(b->m), SEC);
    /* polled with PIE off: PF still appears, without IRQF or IRQ */
    wr(b, 0x0B, 0x02);
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    set_time(b, SEC + 2000000);
    ck_assert_uint_eq(rd(b, 0x0C), 0x40);
    ck_assert(!b->level);
    /* a pending flag raises the IRQ when its enable is set */
    set_time(b, SEC + 4000000);
    wr(b, 0x0B, 0x42);
    ck_assert(b->level);
    ck_assert_uint_eq(rd(b, 0x0C), 0xC0);
    /* rate 15 is 2 Hz */
    wr(b, 0x0A, 0x2F);
    uint64_t now = machine_now(b->m);
    ck_assert_uint_eq(call_next_event(b), (now / (SEC / 2) + 1) * (SEC / 2));
    bench_free(b);
}
END_TEST

START_TEST(alarm_and_update_interrupts)
{
    struct bench *b = bench_new();
    wr(b, 0x0A, 0x20);                              /* no periodic flag */
    wr(b, 0x01, 0x05);                              /* alarm 07:37:05 */
    wr(b, 0x03, 0x37);
    wr(b, 0x05, 0x07);
    wr(b, 0x0B, 0x22);                              /* AIE */
    advance_to(b, 5 * SEC - 1);
    ck_assert(!b->level);
    rd(b, 0x0C);
    advance_to(b, 5 * SEC);
    ck_assert(b->level);
    ck_assert_uint_eq(rd(b, 0x0C), 0xB0);           /* IRQF | AF | UF */
    advance_to(b, 100 * SEC);
    ck_assert(!b->level);
    ck_assert_uint_eq(rd(b, 0x0C) & 0x20, 0);
    /* don't-care hours and minutes: every minute at :30 */
    wr(b, 0x05, 0xC0);
    wr(b, 0x03, 0xFF);
    wr(b, 0x01, 0x30);
    b->rising = 0;
    advance_to(b, 150 * SEC - 1);                   /* 07:39:29 */
    ck_assert_int_eq(b->rising, 0);
    advance_to(b, 150 * SEC);
    ck_assert_int_eq(b->rising, 1);
    ck_assert_uint_eq(rd(b, 0x0C), 0xB0);
    /* polled alarm with interrupts off: AF seen after the fact */
    wr(b, 0x0B, 0x02);
    set_time(b, 215 * SEC);
    ck_assert_uint_eq(rd(b, 0x0C), 0x30);           /* 07:40:30 passed */
    set_time(b, 216 * SEC);
    ck_assert_uint_eq(rd(b, 0x0C), 0x10);
    /* update-ended interrupts: one per second */
    wr(b, 0x0B, 0x12);
    b->rising = 0;
    for (int i = 1; i <= 3; i++) {
        advance_to(b, (216 + i) * SEC);
        ck_assert(b->level);
        ck_assert_uint_eq(rd(b, 0x0C), 0x90);
    }
    ck_assert_int_eq(b->rising, 3);
    /* setting SET clears UIE */
    wr(b, 0x0B, 0x92);
    ck_assert_uint_eq(rd(b, 0x0B), 0x82);
    bench_free(b);
}
END_TEST

START_TEST(twelve_hour_mode)
{
    struct bench *b = bench_new();
    wr(b, 0x0B, 0x00);                              /* 12 hours, BCD */
    ck_assert_uint_eq(rd(b, 0x04), 0x07);           /* 7 AM */
    set_time(b, (4 * 3600 + 23 * 60) * SEC);        /* 12:00 */
    ck_assert_uint_eq(rd(b, 0x04), 0x92);           /* 12 PM */
    set_time(b, (6 * 3600) * SEC);                  /* 13:37 */
    ck_assert_uint_eq(rd(b, 0x04), 0x81);
    set_time(b, (16 * 3600 + 23 * 60) * SEC);       /* 00:00 */
    ck_assert_uint_eq(rd(b, 0x04), 0x12);           /* 12 AM */
    wr(b, 0x0B, 0x04);                              /* 12 hours, binary */
    ck_assert_uint_eq(rd(b, 0x04), 12);
    set_time(b, (28 * 3600 + 23 * 60) * SEC);       /* 12:00 */
    ck_assert_uint_eq(rd(b, 0x04), 0x8C);
    /* 3 PM written in 12-hour mode reads 15 in 24-hour mode */
    wr(b, 0x0B, 0x00);                              /* 12 hours, BCD */
    wr(b, 0x0B, 0x80);                              /* SET */
    wr(b, 0x04, 0x83);
    wr(b, 0x0B, 0x00);
    wr(b, 0x0B, 0x02);
    ck_assert_uint_eq(rd(b, 0x04), 0x15);
    ck_assert_uint_eq(rd(b, 0x02), 0x00);
    ck_assert_uint_eq(rd(b, 0x07), 0x22);
    bench_free(b);
}
END_TEST

START_TEST(cmos_ram_survives_reset)
{
    struct bench *b = bench_new();
    rtc_cmos_set(b->rtc, 0x10, 0x40);               /* floppy: 1.44M */
    rtc_cmos_set(b->rtc, 0x15, 0x80);
    rtc_cmos_set(b->rtc, 0x34, 0x12);
    rtc_cmos_set(b->rtc, 0x7F, 0x55);
    rtc_cmos_set(b->rtc, 128, 0x66);                /* out of range: ignored */
    rtc_cmos_set(b->rtc, -1, 0x66);
    rtc_cmos_set(b->rtc, 0x0C, 0x66);               /* a clock register: ignored */
    ck_assert_uint_eq(rtc_cmos_get(b->rtc, 0x0C), 0);
    ck_assert_uint_eq(rtc_cmos_get(b->rtc, 200), 0xFF);
    ck_assert_uint_eq(rd(b, 0x10), 0x40);
    ck_assert_uint_eq(rd(b, 0x15), 0x80);
    ck_assert_uint_eq(rd(b, 0x90), 0x40);           /* bit 7 is the NMI mask */
    ck_assert_uint_eq(rd(b, 0xFF), 0x55);
    wr(b, 0x40, 0xA5);
    wr(b, 0x0D, 0x00);                              /* read-only */
    ck_assert_uint_eq(rd(b, 0x0D), 0x80);
    /* interrupts on, a flag pending, then reset */
    wr(b, 0x0B, 0x72);
    set_time(b, SEC);
    call_next_event(b);
    ck_assert(b->level);
    machine_reset(b->m);
    ck_assert(!b->level);
    ck_assert_uint_eq(rd(b, 0x0B), 0x02);           /* enables cleared, format kept */
    ck_assert_uint_eq(rd(b, 0x0C), 0x00);
    ck_assert_uint_eq(rd(b, 0x0A), 0x26);
    ck_assert_uint_eq(rd(b, 0x10), 0x40);
    ck_assert_uint_eq(rd(b, 0x15), 0x80);
    ck_assert_uint_eq(rd(b, 0x34), 0x12);
    ck_assert_uint_eq(rd(b, 0x40), 0xA5);
    ck_assert_uint_eq(rtc_cmos_get(b->rtc, 0x7F), 0x55);
    ck_assert_uint_eq(rd(b, 0x00), 0x01);           /* the clock kept running */
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rtc_cmos");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, power_on_bcd_and_binary);
    tcase_add_test(tc, time_advances);
    tcase_add_test(tc, uip_window);
    tcase_add_test(tc, set_and_write_time);
    tcase_add_test(tc, divider_stop_and_restart);
    tcase_add_test(tc, periodic_interrupt);
    tcase_add_test(tc, alarm_and_update_interrupts);
    tcase_add_test(tc, twelve_hour_mode);
    tcase_add_test(tc, cmos_ram_survives_reset);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
