/* tests/unit/test_pit8254.c: the 8254 PIT and port 0x61 without a CPU.
 *
 * The PIT sits on a machine (no CPU run). Time moves by adding to
 * m->idle_ns; in between, the bench plays the machine's loop: it calls the
 * device's next_event at each deadline it reports, and the IRQ 0 line
 * records every level change with the virtual time it happened at. The
 * expected times are clock edges of the 1193182 Hz input, edge c being at
 * ceil(c * 1e9 / 1193182) ns; a count written at time 0 is loaded on edge 1.
 */
#include <check.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "device_clock.h"

#define MAX_CHANGES 4096

struct bench {
    struct machine *m;
    struct irq_line irq0;
    int             dev;                    /* index in m->devices */
    int             nchanges;
    uint64_t        change_time[MAX_CHANGES];
    bool            change_level[MAX_CHANGES];
    int             rising;                 /* rising edges seen */
    bool            level;
};

static void bench_irq(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    (void)pin;
    if (level && !b->level)
        b->rising++;
    b->level = level;
    if (b->nchanges < MAX_CHANGES) {
        b->change_time[b->nchanges] = machine_now(b->m);
        b->change_level[b->nchanges] = level;
        b->nchanges++;
    }
}

static struct bench *bench_new(void)
{
    char err[128];
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    b->irq0 = (struct irq_line){ .set_level = bench_irq, .opaque = b };
    struct pit8254 *pit = NULL;
    ck_assert_int_eq(pit8254_create(b->m, &b->irq0, &pit), 0);
    ck_assert_ptr_nonnull(pit);
    b->dev = b->m->ndevices - 1;
    ck_assert_ptr_eq(b->m->devices[b->dev].state, pit);
    machine_reset(b->m);
    b->nchanges = 0;
    b->rising = 0;
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static uint64_t clock_time(uint64_t c) { return (c * 1000000000ull + 1193181) / 1193182; }

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }

static uint64_t call_next_event(struct bench *b) { return device_clock_event(b->m, b->dev); }
static void set_time(struct bench *b, uint64_t t) { device_clock_set(b->m, t); }
/* The machine's loop, device side: run every deadline up to t, then sit at t. */
static void advance_to(struct bench *b, uint64_t t) { device_clock_advance(b->m, b->dev, t); }

static void program(struct bench *b, int counter, uint8_t cw, uint16_t count)
{
    out8(b, 0x43, cw);
    out8(b, 0x40 + counter, count & 0xFF);
    out8(b, 0x40 + counter, count >> 8);
}

static uint16_t latch_read(struct bench *b, int counter)
{
    out8(b, 0x43, (uint8_t)(counter << 6));        /* counter latch command */
    uint8_t lo = in8(b, 0x40 + counter);
    return (uint16_t)(lo | in8(b, 0x40 + counter) << 8);
}

START_TEST(reset_is_idle)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    ck_assert(!b->level);
    ck_assert_uint_eq(in8(b, 0x61) & 0x2F, 0);
    advance_to(b, 100000000);
    ck_assert_int_eq(b->nchanges, 0);
    /* the ports are taken */
    ck_assert_int_eq(pit8254_create(b->m, NULL, NULL), -1);
    bench_free(b);
}
END_TEST

/* Mode 2 with the counts of a test, Linux's HZ=250 tick and count 0:
 * OUT low while the count is 1, so a rising edge at every reload, on clock
 * edges 1 + k * N exactly, however many periods have gone by. */
static void check_mode2(uint32_t n, int periods)
{
    struct bench *b = bench_new();
    program(b, 0, 0x34, (uint16_t)n);
    ck_assert(b->level);                            /* mode 2 OUT starts high */
    ck_assert_int_eq(b->nchanges, 1);
    ck_assert_uint_eq(call_next_event(b), clock_time(n));  /* falls at count 1 */
    b->nchanges = 0;
    b->rising = 0;
    advance_to(b, clock_time(1 + (uint64_t)n * periods) + 1);
    ck_assert_int_eq(b->rising, periods);
    ck_assert_int_eq(b->nchanges, 2 * periods);
    for (int k = 1; k <= periods; k++) {
        ck_assert_uint_eq(b->change_time[2 * k - 2], clock_time((uint64_t)n * k));
        ck_assert(!b->change_level[2 * k - 2]);
        ck_assert_uint_eq(b->change_time[2 * k - 1], clock_time(1 + (uint64_t)n * k));
        ck_assert(b->change_level[2 * k - 1]);
    }
    bench_free(b);
}

START_TEST(mode2_edges)
{
    check_mode2(1000, 20);
    check_mode2(4773, 250);     /* one virtual second of Linux ticks */
    check_mode2(65536, 3);      /* count 0 */
}
END_TEST

START_TEST(mode2_literal_times)
{
    struct bench *b = bench_new();
    program(b, 0, 0x34, 1000);
    advance_to(b, 2000000);
    ck_assert_int_eq(b->nchanges, 5);
    ck_assert_uint_eq(b->change_time[0], 0);        /* control word: OUT high */
    ck_assert_uint_eq(b->change_time[1], 838096);   /* clock 1000: count 1, low */
    ck_assert_uint_eq(b->change_time[2], 838934);   /* clock 1001: reload, high */
    ck_assert_uint_eq(b->change_time[3], 1676191);
    ck_assert_uint_eq(b->change_time[4], 1677029);
    /* no drift after a million periods of 4773 */
    struct bench *c = bench_new();
    program(c, 0, 0x34, 4773);
    uint64_t edge = clock_time(1 + 4773ull * 1000000);
    set_time(c, edge - 2000);
    call_next_event(c);
    c->nchanges = 0;
    advance_to(c, edge);
    ck_assert_int_eq(c->nchanges, 2);
    ck_assert_uint_eq(c->change_time[1], edge);
    ck_assert_uint_eq(edge, 4000227962709ull);
    bench_free(c);
    bench_free(b);
}
END_TEST

/* If the machine looks late, after the low clock has passed, the PIC
 * still gets its rising edge. */
START_TEST(mode2_late_look_keeps_edge)
{
    struct bench *b = bench_new();
    program(b, 0, 0x34, 1000);
    call_next_event(b);
    b->rising = 0;
    set_time(b, clock_time(1001) + 5000);
    call_next_event(b);
    ck_assert_int_eq(b->rising, 1);
    ck_assert(b->level);
    bench_free(b);
}
END_TEST

START_TEST(mode3_square_wave)
{
    struct bench *b = bench_new();
    program(b, 0, 0x36, 100);
    b->nchanges = 0;
    advance_to(b, clock_time(301));
    /* high for 50 clocks from the load edge, low for 50 */
    ck_assert_int_eq(b->nchanges, 6);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(b->change_time[2 * k], clock_time(51 + 100 * k));
        ck_assert(!b->change_level[2 * k]);
        ck_assert_uint_eq(b->change_time[2 * k + 1], clock_time(101 + 100 * k));
        ck_assert(b->change_level[2 * k + 1]);
    }
    /* the count goes down by two: 100, 98, ... */
    set_time(b, clock_time(301 + 10));
    ck_assert_uint_eq(latch_read(b, 0), 80);
    bench_free(b);

    /* odd count: high (N+1)/2, low (N-1)/2 */
    b = bench_new();
    program(b, 0, 0x36, 5);
    b->nchanges = 0;
    advance_to(b, clock_time(11));
    ck_assert_int_eq(b->nchanges, 4);
    ck_assert_uint_eq(b->change_time[0], clock_time(4));
    ck_assert_uint_eq(b->change_time[1], clock_time(6));
    ck_assert_uint_eq(b->change_time[2], clock_time(9));
    ck_assert_uint_eq(b->change_time[3], clock_time(11));
    bench_free(b);
}
END_TEST

/* The SeaBIOS / Linux TSC calibration: gate counter 2 through port 0x61,
 * mode 0, poll bit 5 until OUT goes high N+1 clocks after the write. */
START_TEST(mode0_counter2_calibration)
{
    struct bench *b = bench_new();
    out8(b, 0x61, (in8(b, 0x61) & ~0x02) | 0x01);
    ck_assert_uint_eq(in8(b, 0x61) & 0x03, 0x01);
    set_time(b, clock_time(100));
    program(b, 2, 0xB0, 11931);                     /* 10 ms */
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    set_time(b, clock_time(100 + 11931 + 1) - 1);
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    ck_assert_uint_eq(latch_read(b, 2), 1);
    set_time(b, clock_time(100 + 11931 + 1));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    ck_assert_uint_eq(latch_read(b, 2), 0);
    set_time(b, clock_time(100 + 11931 + 1 + 5));
    ck_assert_uint_eq(latch_read(b, 2), 0xFFFB);    /* counts on, wrapping */
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);   /* OUT stays high */
    /* counter 2 drives no IRQ */
    ck_assert_int_eq(b->nchanges, 0);

    /* gate low stops the count; high resumes it where it was */
    program(b, 2, 0xB0, 1000);
    set_time(b, clock_time(20000));
    uint16_t before = latch_read(b, 2);
    out8(b, 0x61, 0x00);
    set_time(b, clock_time(25000));
    ck_assert_uint_eq(latch_read(b, 2), before);
    out8(b, 0x61, 0x01);
    set_time(b, clock_time(25010));
    ck_assert_uint_eq(latch_read(b, 2), before - 10);
    bench_free(b);
}
END_TEST

/* Linux's quick_pit_calibrate reads the MSB of a free-running count. */
START_TEST(live_reads)
{
    struct bench *b = bench_new();
    out8(b, 0x61, 0x01);
    out8(b, 0x43, 0xB0);
    out8(b, 0x42, 0xFF);
    out8(b, 0x42, 0xFF);
    set_time(b, clock_time(1 + 0x1234));
    ck_assert_uint_eq(in8(b, 0x42), 0xCB);          /* 0xFFFF - 0x1234 = 0xEDCB */
    ck_assert_uint_eq(in8(b, 0x42), 0xED);
    /* MSB-only access */
    out8(b, 0x43, 0xA0);
    out8(b, 0x42, 0x10);                            /* count 0x1000 */
    uint64_t t0 = machine_now(b->m);
    uint64_t c0 = t0 * 1193182 / 1000000000;
    set_time(b, clock_time(c0 + 1 + 0x100));
    ck_assert_uint_eq(in8(b, 0x42), 0x0F);
    bench_free(b);
}
END_TEST

START_TEST(latch_and_readback)
{
    struct bench *b = bench_new();
    program(b, 0, 0x34, 1000);
    /* before the load edge: null count set */
    out8(b, 0x43, 0xE2);                            /* read-back status, counter 0 */
    ck_assert_uint_eq(in8(b, 0x40), 0xC0 | 0x30 | 0x04);
    set_time(b, clock_time(1 + 300));
    out8(b, 0x43, 0x00);                            /* latch counter 0 */
    set_time(b, clock_time(1 + 600));               /* the latch holds */
    out8(b, 0x43, 0x00);                            /* a second latch is ignored */
    ck_assert_uint_eq(in8(b, 0x40), 700 & 0xFF);
    ck_assert_uint_eq(in8(b, 0x40), 700 >> 8);
    ck_assert_uint_eq(latch_read(b, 0), 400);       /* released: a new latch */

    /* read-back of count and status: status first, then LSB, MSB */
    out8(b, 0x43, 0xC2);
    set_time(b, clock_time(1 + 610));
    ck_assert_uint_eq(in8(b, 0x40), 0x80 | 0x30 | 0x04);   /* OUT high, no null count */
    ck_assert_uint_eq(in8(b, 0x40), 400 & 0xFF);
    ck_assert_uint_eq(in8(b, 0x40), 400 >> 8);
    /* while OUT is low (count 1) */
    set_time(b, clock_time(1000));
    out8(b, 0x43, 0xE2);
    ck_assert_uint_eq(in8(b, 0x40), 0x34);
    /* read-back of several counters at once, one clock after loading */
    out8(b, 0x61, 0x01);                            /* counter 2 gate high */
    out8(b, 0x43, 0x96);                            /* counter 2: LSB only, mode 3 */
    out8(b, 0x42, 0x55);
    out8(b, 0x43, 0x54);                            /* counter 1: LSB only, mode 2 */
    out8(b, 0x41, 18);
    set_time(b, clock_time(1001));
    out8(b, 0x43, 0xCE);
    ck_assert_uint_eq(in8(b, 0x41), 0x80 | 0x10 | 0x04);
    ck_assert_uint_eq(in8(b, 0x41), 18);
    ck_assert_uint_eq(in8(b, 0x42), 0x80 | 0x10 | 0x06);
    ck_assert_uint_eq(in8(b, 0x42), 0x54);          /* 0x55 reads even in mode 3 */
    ck_assert_uint_eq(in8(b, 0x40), 0xB4);          /* reloaded: OUT high */
    uint8_t lo = in8(b, 0x40);
    ck_assert_uint_eq(lo | in8(b, 0x40) << 8, 1000);
    bench_free(b);
}
END_TEST

START_TEST(bcd_counting)
{
    struct bench *b = bench_new();
    out8(b, 0x61, 0x01);
    program(b, 2, 0xB1, 0x1000);                    /* BCD 1000, mode 0 */
    set_time(b, clock_time(1 + 250));
    ck_assert_uint_eq(latch_read(b, 2), 0x0750);
    set_time(b, clock_time(1 + 1000));
    ck_assert_uint_eq(latch_read(b, 2), 0x0000);
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    set_time(b, clock_time(1 + 1001));
    ck_assert_uint_eq(latch_read(b, 2), 0x9999);    /* wraps in decimal */
    /* count 0 in BCD is 10000 */
    out8(b, 0x43, 0xB1);
    uint64_t c0 = machine_now(b->m) * 1193182 / 1000000000;
    out8(b, 0x42, 0);
    out8(b, 0x42, 0);
    set_time(b, clock_time(c0 + 1));
    ck_assert_uint_eq(latch_read(b, 2), 0x0000);
    set_time(b, clock_time(c0 + 2));
    ck_assert_uint_eq(latch_read(b, 2), 0x9999);
    set_time(b, clock_time(c0 + 1 + 9999));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    set_time(b, clock_time(c0 + 1 + 10000));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    bench_free(b);
}
END_TEST

START_TEST(mode0_irq_and_mode4_strobe)
{
    struct bench *b = bench_new();
    program(b, 0, 0x30, 50);                        /* mode 0: the one-shot */
    ck_assert(!b->level);
    ck_assert_uint_eq(call_next_event(b), clock_time(51));
    advance_to(b, clock_time(1000));
    ck_assert_int_eq(b->nchanges, 1);
    ck_assert_uint_eq(b->change_time[0], clock_time(51));
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    bench_free(b);

    b = bench_new();
    program(b, 0, 0x38, 50);                        /* mode 4: one low clock */
    b->nchanges = 0;
    advance_to(b, clock_time(1000));
    ck_assert_int_eq(b->nchanges, 2);
    ck_assert_uint_eq(b->change_time[0], clock_time(51));
    ck_assert(!b->change_level[0]);
    ck_assert_uint_eq(b->change_time[1], clock_time(52));
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    bench_free(b);
}
END_TEST

START_TEST(gate_triggered_modes)
{
    struct bench *b = bench_new();
    /* mode 1 on counter 2: nothing until the gate rises */
    program(b, 2, 0xB2, 100);
    set_time(b, clock_time(500));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    out8(b, 0x61, 0x01);                            /* trigger on clock 500 */
    set_time(b, clock_time(501));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    set_time(b, clock_time(600));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    ck_assert_uint_eq(latch_read(b, 2), 1);
    set_time(b, clock_time(601));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    /* retrigger restarts the full count */
    out8(b, 0x61, 0x00);
    set_time(b, clock_time(700));
    out8(b, 0x61, 0x01);
    set_time(b, clock_time(750));
    out8(b, 0x61, 0x00);
    out8(b, 0x61, 0x01);
    set_time(b, clock_time(850));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    set_time(b, clock_time(851));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);

    /* mode 5: strobe N clocks after the trigger */
    out8(b, 0x61, 0x00);
    program(b, 2, 0xBA, 10);
    set_time(b, clock_time(1000));
    out8(b, 0x61, 0x01);
    set_time(b, clock_time(1010));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    set_time(b, clock_time(1011));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0);
    set_time(b, clock_time(1012));
    ck_assert_uint_eq(in8(b, 0x61) & 0x20, 0x20);
    bench_free(b);
}
END_TEST

/* Mode 2: a count written without a control word starts at the reload. */
START_TEST(mode2_new_count_at_reload)
{
    struct bench *b = bench_new();
    program(b, 0, 0x34, 1000);
    advance_to(b, clock_time(1 + 1500));
    b->nchanges = 0;
    out8(b, 0x40, 200 & 0xFF);
    out8(b, 0x40, 0);
    ck_assert_uint_eq(latch_read(b, 0), 500);       /* the current period goes on */
    advance_to(b, clock_time(2001 + 400 + 1));
    ck_assert_int_eq(b->nchanges, 6);
    ck_assert_uint_eq(b->change_time[1], clock_time(2001));
    ck_assert_uint_eq(b->change_time[2], clock_time(2200));
    ck_assert_uint_eq(b->change_time[3], clock_time(2201));
    ck_assert_uint_eq(b->change_time[5], clock_time(2401));
    bench_free(b);
}
END_TEST

/* Programming counter 0 lowers the deadline the machine holds. */
START_TEST(reprogram_lowers_deadline)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    b->m->cpu.stop_requested = false;
    set_time(b, 1000000);
    program(b, 0, 0x34, 100);
    uint64_t c0 = 1000000ull * 1193182 / 1000000000;
    ck_assert_uint_eq(b->m->devices[b->dev].deadline, clock_time(c0 + 100));
    ck_assert(b->m->cpu.stop_requested);            /* the CPU slice ends for it */
    bench_free(b);
}
END_TEST

START_TEST(port61_bits)
{
    struct bench *b = bench_new();
    out8(b, 0x61, 0xFF);
    ck_assert_uint_eq(in8(b, 0x61) & 0x0F, 0x0F);
    out8(b, 0x61, 0x02);
    ck_assert_uint_eq(in8(b, 0x61) & 0x0F, 0x02);
    /* refresh toggles every 18 clocks (15.085 us) */
    ck_assert_uint_eq(in8(b, 0x61) & 0x10, 0);
    set_time(b, 15085);
    ck_assert_uint_eq(in8(b, 0x61) & 0x10, 0);
    set_time(b, 15086);
    ck_assert_uint_eq(in8(b, 0x61) & 0x10, 0x10);
    set_time(b, clock_time(36));
    ck_assert_uint_eq(in8(b, 0x61) & 0x10, 0);
    /* machine reset: port 0x61 0, counters idle again */
    program(b, 0, 0x34, 100);
    machine_reset(b->m);
    ck_assert_uint_eq(in8(b, 0x61) & 0x2F, 0);
    ck_assert(!b->level);
    ck_assert_uint_eq(call_next_event(b), TIME_NEVER);
    bench_free(b);
}
END_TEST

/* The speaker changes the PIT reports (core/speaker.h), newest last. */
static int speaker_drain(struct bench *b, struct speaker_change *out, int max)
{
    int n = 0;
    struct speaker_change c;
    while (speaker_pop(&b->m->speaker, &c))
        if (n < max)
            out[n++] = c;
    return n;
}

START_TEST(speaker_changes)
{
    struct bench *b = bench_new();
    struct speaker_change c[8];
    speaker_drain(b, c, 8);                         /* whatever reset reported */
    set_time(b, 1000000);
    /* a tone as DOS programs it: mode 3 on counter 2, then gate and data on */
    program(b, 2, 0xB6, 2712);
    ck_assert_int_eq(speaker_drain(b, c, 8), 0);    /* data bit still off: silent */
    out8(b, 0x61, 0x03);
    ck_assert_int_eq(speaker_drain(b, c, 8), 1);
    ck_assert_uint_eq(c[0].at_ns, 1000000);
    ck_assert_uint_eq(c[0].period_clocks, 2712);
    /* the gate opened at the clock after the write: the wave starts there */
    ck_assert_uint_eq(c[0].start_clock, 1193 + 1);
    /* the same state again reports nothing */
    out8(b, 0x61, 0x03);
    ck_assert_int_eq(speaker_drain(b, c, 8), 0);
    /* a new count while counting waits for the end of the period: reported
     * now as a change dated at that reload */
    set_time(b, 2000000);
    out8(b, 0x42, 1356 & 0xFF);
    out8(b, 0x42, 1356 >> 8);
    ck_assert_int_eq(speaker_drain(b, c, 8), 1);
    ck_assert_uint_eq(c[0].period_clocks, 1356);
    ck_assert_uint_eq(c[0].start_clock, 1194 + 2712);
    ck_assert_uint_eq(c[0].at_ns, clock_time(1194 + 2712));
    /* data off: the cone rests (level low) */
    set_time(b, 5000000);
    out8(b, 0x61, 0x01);
    ck_assert_int_eq(speaker_drain(b, c, 8), 1);
    ck_assert_uint_eq(c[0].period_clocks, 0);
    ck_assert(!c[0].level);
    /* data on with the gate closed: mode 3 holds OUT high */
    out8(b, 0x61, 0x02);
    ck_assert_int_eq(speaker_drain(b, c, 8), 1);
    ck_assert_uint_eq(c[0].period_clocks, 0);
    ck_assert(c[0].level);
    /* mode 0 one-shot on counter 2 with the gate open: low now, high at
     * terminal count (reported ahead, dated at that clock) */
    out8(b, 0x61, 0x03);
    speaker_drain(b, c, 8);
    set_time(b, 6000000);
    program(b, 2, 0xB0, 100);
    int n = speaker_drain(b, c, 8);
    ck_assert_int_ge(n, 2);
    ck_assert(!c[n - 2].level);
    ck_assert(c[n - 1].level);
    ck_assert_uint_gt(c[n - 1].at_ns, 6000000 + 100 * 838 - 1000);
    ck_assert_uint_lt(c[n - 1].at_ns, 6000000 + 102 * 839);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pit8254");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reset_is_idle);
    tcase_add_test(tc, mode2_edges);
    tcase_add_test(tc, mode2_literal_times);
    tcase_add_test(tc, mode2_late_look_keeps_edge);
    tcase_add_test(tc, mode3_square_wave);
    tcase_add_test(tc, mode0_counter2_calibration);
    tcase_add_test(tc, live_reads);
    tcase_add_test(tc, latch_and_readback);
    tcase_add_test(tc, bcd_counting);
    tcase_add_test(tc, mode0_irq_and_mode4_strobe);
    tcase_add_test(tc, gate_triggered_modes);
    tcase_add_test(tc, mode2_new_count_at_reload);
    tcase_add_test(tc, reprogram_lowers_deadline);
    tcase_add_test(tc, port61_bits);
    tcase_add_test(tc, speaker_changes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
