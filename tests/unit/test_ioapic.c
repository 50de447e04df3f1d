/* tests/unit/test_ioapic.c: the 82093AA I/O APIC delivering to the local
 * APIC, without running the CPU.
 *
 * The guest programs the I/O APIC through IOREGSEL/IOWIN at 0xFEC00000 and
 * the local APIC at 0xFEE00000; the bench drives input pins, plays the
 * CPU's acknowledge (lapic_intr_ack) and writes EOI. Expected values: the
 * 82093AA datasheet (register layout, reset values, Remote IRR protocol).
 */
#include <check.h>
#include <stdlib.h>

#include "core/machine.h"
#include "devices/device.h"
#include "devices/lapic.h"

#define IOAPIC 0xFEC00000u
#define APIC   0xFEE00000u

struct bench {
    struct machine *m;
    struct lapic   *lapic;
    struct ioapic  *ioapic;
};

static struct bench *bench_new(void)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16u << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    struct pic8259 *pic;
    ck_assert_int_eq(pic8259_create(b->m, NULL, &pic), 0);
    ck_assert_int_eq(lapic_create(b->m, pic, &b->lapic), 0);
    ck_assert_int_eq(ioapic_create(b->m, b->lapic, &b->ioapic), 0);
    ck_assert_int_eq(machine_reset(b->m), 0);
    phys_write(&b->m->mem, APIC + 0xF0, 0x1FF, 4);     /* software-enable the local APIC */
    phys_write(&b->m->mem, APIC + 0x350, 0x10700, 4);  /* and cut off LINT0 */
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static uint32_t io_rd(struct bench *b, uint8_t reg)
{
    phys_write(&b->m->mem, IOAPIC, reg, 4);
    return phys_read(&b->m->mem, IOAPIC + 0x10, 4);
}

static void io_wr(struct bench *b, uint8_t reg, uint32_t v)
{
    phys_write(&b->m->mem, IOAPIC, reg, 4);
    phys_write(&b->m->mem, IOAPIC + 0x10, v, 4);
}

/* Redirection entry for pin: low and high dwords. */
static void route(struct bench *b, int pin, uint32_t low, uint32_t high)
{
    io_wr(b, (uint8_t)(0x11 + 2 * pin), high);
    io_wr(b, (uint8_t)(0x10 + 2 * pin), low);
}

static void pin(struct bench *b, int n, bool level) { irq_set_level(ioapic_irq(b->ioapic, n), level); }
static int ack(struct bench *b) { return lapic_intr_ack(b->lapic); }
static void eoi(struct bench *b) { phys_write(&b->m->mem, APIC + 0xB0, 0, 4); }
static bool irr_bit(struct bench *b, int v)
{
    return phys_read(&b->m->mem, APIC + 0x200 + (v / 32) * 0x10, 4) & (1u << (v % 32));
}
static bool tmr_bit(struct bench *b, int v)
{
    return phys_read(&b->m->mem, APIC + 0x180 + (v / 32) * 0x10, 4) & (1u << (v % 32));
}

#define RTE_LEVEL     (1u << 15)
#define RTE_MASKED    (1u << 16)
#define RTE_REMOTE    (1u << 14)
#define RTE_LOGICAL   (1u << 11)
#define RTE_LOW_POL   (1u << 13)

START_TEST(reset_and_ids)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(io_rd(b, 0x00), 0);
    ck_assert_uint_eq(io_rd(b, 0x01), 0x00170011u);   /* 24 entries, version 0x11 */
    ck_assert_uint_eq(io_rd(b, 0x02), 0);
    for (int p = 0; p < 24; p++) {
        ck_assert_uint_eq(io_rd(b, (uint8_t)(0x10 + 2 * p)), 0x00010000u);
        ck_assert_uint_eq(io_rd(b, (uint8_t)(0x11 + 2 * p)), 0);
    }
    ck_assert_uint_eq(phys_read(&b->m->mem, IOAPIC, 4), 0x3F);   /* IOREGSEL reads back */
    io_wr(b, 0x00, 0xFFFFFFFFu);
    ck_assert_uint_eq(io_rd(b, 0x00), 0x0F000000u);   /* 4-bit ID */
    ck_assert_uint_eq(io_rd(b, 0x02), 0x0F000000u);   /* arbitration ID loaded from it */
    io_wr(b, 0x01, 0);
    ck_assert_uint_eq(io_rd(b, 0x01), 0x00170011u);
    /* delivery status and Remote IRR are read-only */
    io_wr(b, 0x10, 0xFFFFFFFFu);
    ck_assert_uint_eq(io_rd(b, 0x10), 0x0001AFFFu);
    io_wr(b, 0x11, 0xFFFFFFFFu);
    ck_assert_uint_eq(io_rd(b, 0x11), 0xFF000000u);
    ck_assert_uint_eq(io_rd(b, 0x40), 0);             /* beyond entry 23 */
    bench_free(b);
}
END_TEST

START_TEST(edge_delivery)
{
    struct bench *b = bench_new();
    route(b, 2, 0x30, 0);                             /* fixed, physical dest 0, edge */
    pin(b, 2, true);
    ck_assert(irr_bit(b, 0x30));
    ck_assert(!tmr_bit(b, 0x30));
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x30);
    pin(b, 2, true);                                  /* no new edge */
    ck_assert(!irr_bit(b, 0x30));
    pin(b, 2, false);
    eoi(b);
    ck_assert_uint_eq(io_rd(b, 0x14) & RTE_REMOTE, 0);
    pin(b, 2, true);
    ck_assert(irr_bit(b, 0x30));
    ck_assert_int_eq(ack(b), 0x30);
    eoi(b);
    pin(b, 2, false);
    /* an edge on a masked pin is lost, not held (82093AA) */
    route(b, 2, RTE_MASKED | 0x30, 0);
    pin(b, 2, true);
    pin(b, 2, false);
    route(b, 2, 0x30, 0);
    ck_assert(!irr_bit(b, 0x30));
    ck_assert(!b->m->cpu.intr);
    /* destination mismatch: nobody takes it */
    route(b, 2, 0x30, 0x05000000u);
    pin(b, 2, true);
    ck_assert(!irr_bit(b, 0x30));
    bench_free(b);
}
END_TEST

START_TEST(level_remote_irr)
{
    struct bench *b = bench_new();
    route(b, 11, RTE_LEVEL | RTE_LOW_POL | 0x3B, 0);
    pin(b, 11, true);
    ck_assert(irr_bit(b, 0x3B));
    ck_assert(tmr_bit(b, 0x3B));                      /* level-triggered in the TMR */
    ck_assert(io_rd(b, 0x10 + 22) & RTE_REMOTE);
    ck_assert_int_eq(ack(b), 0x3B);
    /* still asserted, but Remote IRR holds it until EOI */
    pin(b, 11, true);
    ck_assert(!irr_bit(b, 0x3B));
    eoi(b);                                           /* EOI broadcast clears Remote IRR */
    ck_assert(irr_bit(b, 0x3B));                      /* and it is delivered again */
    ck_assert(io_rd(b, 0x10 + 22) & RTE_REMOTE);
    ck_assert_int_eq(ack(b), 0x3B);
    pin(b, 11, false);                                /* the device is serviced */
    eoi(b);
    ck_assert_uint_eq(io_rd(b, 0x10 + 22) & RTE_REMOTE, 0);
    ck_assert(!irr_bit(b, 0x3B));
    ck_assert(!b->m->cpu.intr);
    /* asserted while masked: delivered when unmasked */
    route(b, 11, RTE_MASKED | RTE_LEVEL | 0x3B, 0);
    pin(b, 11, true);
    ck_assert(!irr_bit(b, 0x3B));
    route(b, 11, RTE_LEVEL | 0x3B, 0);
    ck_assert(irr_bit(b, 0x3B));
    /* an EOI for another vector leaves Remote IRR alone */
    ck_assert_int_eq(ack(b), 0x3B);
    lapic_deliver(b->lapic, 0, false, APIC_DM_FIXED, 0x50, true);
    ck_assert_int_eq(ack(b), 0x50);
    eoi(b);                                           /* EOI of 0x50 */
    ck_assert(io_rd(b, 0x10 + 22) & RTE_REMOTE);
    pin(b, 11, false);
    eoi(b);                                           /* EOI of 0x3B */
    ck_assert_uint_eq(io_rd(b, 0x10 + 22) & RTE_REMOTE, 0);
    bench_free(b);
}
END_TEST

START_TEST(logical_and_nmi)
{
    struct bench *b = bench_new();
    phys_write(&b->m->mem, APIC + 0xD0, 0x01000000u, 4);   /* flat logical ID bit 0 */
    route(b, 4, RTE_LOGICAL | 0x34, 0x02000000u);
    pin(b, 4, true);
    ck_assert(!irr_bit(b, 0x34));
    pin(b, 4, false);
    route(b, 4, RTE_LOGICAL | (1u << 8) | 0x34, 0x01000000u);   /* lowest priority */
    pin(b, 4, true);
    ck_assert(irr_bit(b, 0x34));
    route(b, 5, (4u << 8), 0);                        /* NMI */
    pin(b, 5, true);
    ck_assert(b->m->cpu.nmi_pending);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reset_and_ids);
    tcase_add_test(tc, edge_delivery);
    tcase_add_test(tc, level_remote_irr);
    tcase_add_test(tc, logical_and_nmi);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
