/* tests/unit/test_pic8259.c: the dual 8259A PIC without a CPU.
 *
 * Each test builds the device on a bare port map with an INTR line that
 * records its level, programs it through ioport_write as a guest would,
 * drives IRQ lines and plays the CPU's INTA with pic8259_intr_ack. One
 * test wires it into a machine as the board will (the CPU is not run).
 */
#include <check.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

struct bench {
    struct ioport_map io;
    struct irq_line   intr;         /* the PIC's output, received here */
    bool              intr_level;
    int               intr_edges;   /* rising edges seen on INTR */
    struct pic8259   *pic;
};

static void bench_intr(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    if (level && !b->intr_level)
        b->intr_edges++;
    b->intr_level = level;
}

static struct bench *bench_new(void)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    ioport_map_init(&b->io);
    b->intr = (struct irq_line){ .set_level = bench_intr, .opaque = b };
    b->pic = pic8259_new(&b->io, &b->intr);
    ck_assert_ptr_nonnull(b->pic);
    return b;
}

static void bench_free(struct bench *b)
{
    pic8259_free(b->pic);
    free(b);
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->io, port, v, 1); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->io, port, 1); }
static void irq(struct bench *b, int n, bool level) { irq_set_level(pic8259_irq(b->pic, n), level); }
static int ack(struct bench *b) { return pic8259_intr_ack(b->pic); }

/* The BIOS/Linux programming: cascade, ICW4, bases 0x08 / 0x70, 8086 mode.
 * icw4 lets a test add AEOI or SFNM. */
static void init_pics(struct bench *b, uint8_t icw4)
{
    out8(b, 0x20, 0x11); out8(b, 0x21, 0x08); out8(b, 0x21, 0x04); out8(b, 0x21, icw4);
    out8(b, 0xA0, 0x11); out8(b, 0xA1, 0x70); out8(b, 0xA1, 0x02); out8(b, 0xA1, icw4);
}

static uint8_t read_isr(struct bench *b, uint16_t port)
{
    out8(b, port, 0x0B);
    uint8_t v = in8(b, port);
    out8(b, port, 0x0A);
    return v;
}

static uint8_t read_irr(struct bench *b, uint16_t port)
{
    out8(b, port, 0x0A);
    return in8(b, port);
}

START_TEST(power_on_state)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(in8(b, 0x21), 0);         /* QEMU's choice: IMR 0 */
    ck_assert_uint_eq(in8(b, 0xA1), 0);
    ck_assert_uint_eq(in8(b, 0x20), 0);
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    ck_assert_uint_eq(in8(b, 0x4D0), 0);
    ck_assert_uint_eq(in8(b, 0x4D1), 0);
    ck_assert(!b->intr_level);
    ck_assert_ptr_null(pic8259_irq(b->pic, 2));
    ck_assert_ptr_null(pic8259_irq(b->pic, 16));
    irq(b, 1, true);                            /* uninitialised: base 0 */
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 1);
    /* a second PIC cannot take the same ports */
    struct irq_line none = { 0 };
    ck_assert_ptr_null(pic8259_new(&b->io, &none));
    bench_free(b);
}
END_TEST

START_TEST(init_ack_eoi)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    ck_assert_uint_eq(in8(b, 0x21), 0);
    irq(b, 0, true);
    ck_assert(b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x01);
    ck_assert_int_eq(ack(b), 0x08);
    ck_assert(!b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x00);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x01);
    out8(b, 0x20, 0x20);                        /* non-specific EOI */
    ck_assert_uint_eq(read_isr(b, 0x20), 0x00);
    irq(b, 0, false);
    /* ICW2 low bits are ignored; single mode without ICW4 skips ICW3/4 */
    out8(b, 0x20, 0x12); out8(b, 0x21, 0x47);
    out8(b, 0x21, 0xFB);                        /* this is now OCW1 */
    ck_assert_uint_eq(in8(b, 0x21), 0xFB);
    out8(b, 0x21, 0x00);
    irq(b, 6, true);
    ck_assert_int_eq(ack(b), 0x46);
    bench_free(b);
}
END_TEST

START_TEST(masking)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    out8(b, 0x21, 0x08);
    ck_assert_uint_eq(in8(b, 0x21), 0x08);
    irq(b, 3, true);
    ck_assert(!b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x08);  /* IRR is set even when masked */
    out8(b, 0x21, 0x00);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0B);
    out8(b, 0x20, 0x20);
    /* masking the cascade input hides the slave */
    out8(b, 0x21, 0x04);
    irq(b, 11, true);
    ck_assert(!b->intr_level);
    out8(b, 0x21, 0x00);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x73);
    bench_free(b);
}
END_TEST

START_TEST(fixed_priority_nesting)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 5, true);
    irq(b, 3, true);
    ck_assert_int_eq(ack(b), 0x0B);
    ck_assert(!b->intr_level);                  /* 5 waits for 3 */
    irq(b, 1, true);
    ck_assert(b->intr_level);                   /* 1 nests over 3 */
    ck_assert_int_eq(ack(b), 0x09);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x0A);
    out8(b, 0x20, 0x20);                        /* ends 1, the highest */
    ck_assert_uint_eq(read_isr(b, 0x20), 0x08);
    ck_assert(!b->intr_level);
    out8(b, 0x20, 0x20);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0D);
    /* specific EOI picks the level, not the highest */
    irq(b, 1, false); irq(b, 1, true);
    ck_assert_int_eq(ack(b), 0x09);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x22);
    out8(b, 0x20, 0x65);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x02);
    out8(b, 0x20, 0x40);                        /* OCW2 no-op */
    ck_assert_uint_eq(read_isr(b, 0x20), 0x02);
    bench_free(b);
}
END_TEST

START_TEST(rotation)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 1, true);
    ck_assert_int_eq(ack(b), 0x09);
    out8(b, 0x20, 0xA0);                        /* rotate on non-specific EOI: 1 lowest */
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    irq(b, 0, true);
    irq(b, 4, true);
    ck_assert_int_eq(ack(b), 0x0C);             /* order 2..7, 0, 1 */
    out8(b, 0x20, 0xE4);                        /* rotate on specific EOI 4: 4 lowest */
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    irq(b, 6, true);
    ck_assert_int_eq(ack(b), 0x0E);             /* 6 before 0 now */
    ck_assert(!b->intr_level);                  /* 0 ranks below 6 */
    out8(b, 0x20, 0x20);
    ck_assert_int_eq(ack(b), 0x08);
    out8(b, 0x20, 0x20);
    /* set priority: 0xC0 | L makes L the lowest */
    irq(b, 0, false); irq(b, 4, false); irq(b, 6, false);
    out8(b, 0x20, 0xC5);
    irq(b, 5, true); irq(b, 3, true); irq(b, 7, true);
    ck_assert_int_eq(ack(b), 0x0F);             /* order 6, 7, 0, ... 5 */
    ck_assert(!b->intr_level);                  /* 3 ranks below 7 now */
    out8(b, 0x20, 0x20);
    ck_assert_int_eq(ack(b), 0x0B);             /* 3 before 5, the lowest */
    out8(b, 0x20, 0x20);
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    out8(b, 0x20, 0xC7);                        /* back to fixed priority */
    ck_assert_int_eq(ack(b), 0x0D);
    bench_free(b);
}
END_TEST

START_TEST(auto_eoi)
{
    struct bench *b = bench_new();
    init_pics(b, 0x03);                         /* 8086 mode + AEOI */
    irq(b, 3, true);
    ck_assert_int_eq(ack(b), 0x0B);
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    irq(b, 5, true);
    ck_assert(b->intr_level);                   /* nothing in service blocks it */
    ck_assert_int_eq(ack(b), 0x0D);
    irq(b, 3, false); irq(b, 5, false);
    /* rotate in AEOI mode: the acknowledged level becomes the lowest */
    out8(b, 0x20, 0x80);
    irq(b, 3, true);
    ck_assert_int_eq(ack(b), 0x0B);
    irq(b, 0, true); irq(b, 5, true);
    ck_assert_int_eq(ack(b), 0x0D);             /* 4..7 before 0 */
    ck_assert_int_eq(ack(b), 0x08);
    irq(b, 0, false); irq(b, 5, false); irq(b, 3, false);
    out8(b, 0x20, 0x00);                        /* rotate in AEOI clear */
    out8(b, 0x20, 0xC7);
    irq(b, 6, true);
    ck_assert_int_eq(ack(b), 0x0E);
    irq(b, 7, true); irq(b, 0, true);
    ck_assert_int_eq(ack(b), 0x08);             /* 6 did not become the lowest */
    bench_free(b);
}
END_TEST

START_TEST(cascade)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 10, true);
    ck_assert(b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0xA0), 0x04);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x04);
    ck_assert_int_eq(ack(b), 0x72);
    ck_assert(!b->intr_level);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x04);
    ck_assert_uint_eq(read_isr(b, 0xA0), 0x04);
    /* a higher slave request waits: master IR2 is in service (no SFNM) */
    irq(b, 9, true);
    ck_assert(!b->intr_level);
    /* and so do lower master levels */
    irq(b, 3, true);
    ck_assert(!b->intr_level);
    out8(b, 0xA0, 0x20);
    out8(b, 0x20, 0x20);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x71);             /* IR2 ranks above IR3 */
    out8(b, 0xA0, 0x20);
    out8(b, 0x20, 0x20);
    ck_assert_int_eq(ack(b), 0x0B);
    out8(b, 0x20, 0x20);
    /* a master level above IR2 nests over a slave interrupt */
    irq(b, 15, true);
    ck_assert_int_eq(ack(b), 0x77);
    irq(b, 1, true);
    ck_assert_int_eq(ack(b), 0x09);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x06);
    bench_free(b);
}
END_TEST

START_TEST(cascade_sfnm)
{
    struct bench *b = bench_new();
    init_pics(b, 0x11);                         /* special fully nested mode */
    irq(b, 12, true);
    ck_assert_int_eq(ack(b), 0x74);
    irq(b, 9, true);                            /* higher on the slave: passes */
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x71);
    ck_assert_uint_eq(read_isr(b, 0xA0), 0x12);
    irq(b, 3, true);                            /* lower master level still waits */
    ck_assert(!b->intr_level);
    bench_free(b);
}
END_TEST

START_TEST(edge_vs_level)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    /* edge: a held line interrupts once */
    irq(b, 4, true);
    ck_assert_int_eq(ack(b), 0x0C);
    out8(b, 0x20, 0x20);
    ck_assert(!b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0x20), 0);
    irq(b, 4, true);                            /* still high: no new edge */
    ck_assert(!b->intr_level);
    irq(b, 4, false);
    irq(b, 4, true);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0C);
    out8(b, 0x20, 0x20);
    /* level via ELCR: a held line interrupts again after EOI */
    out8(b, 0x4D0, 0x10);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x10);
    ck_assert_int_eq(ack(b), 0x0C);
    ck_assert(!b->intr_level);
    out8(b, 0x20, 0x20);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0C);
    out8(b, 0x20, 0x20);
    irq(b, 4, false);                           /* the device is served */
    ck_assert(!b->intr_level);
    ck_assert_uint_eq(read_irr(b, 0x20), 0);
    /* slave level input through the cascade */
    out8(b, 0x4D1, 0x08);
    irq(b, 11, true);
    ck_assert_int_eq(ack(b), 0x73);
    out8(b, 0xA0, 0x20); out8(b, 0x20, 0x20);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x73);
    out8(b, 0xA0, 0x20); out8(b, 0x20, 0x20);
    irq(b, 11, false);
    ck_assert(!b->intr_level);
    /* ELCR bits for IRQ 0-2, 8 and 13 do not exist; a word covers both */
    out8(b, 0x4D0, 0xFF); out8(b, 0x4D1, 0xFF);
    ck_assert_uint_eq(in8(b, 0x4D0), 0xF8);
    ck_assert_uint_eq(in8(b, 0x4D1), 0xDE);
    ioport_write(&b->io, 0x4D0, 0x0820, 2);
    ck_assert_uint_eq(ioport_read(&b->io, 0x4D0, 2), 0x0820);
    /* level for every input via ICW1 LTIM */
    out8(b, 0x4D0, 0); out8(b, 0x4D1, 0);
    out8(b, 0x20, 0x19); out8(b, 0x21, 0x08); out8(b, 0x21, 0x04); out8(b, 0x21, 0x01);
    irq(b, 1, true);
    ck_assert_int_eq(ack(b), 0x09);
    out8(b, 0x20, 0x20);
    ck_assert_int_eq(ack(b), 0x09);
    bench_free(b);
}
END_TEST

START_TEST(spurious)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 5, true);
    ck_assert(b->intr_level);
    irq(b, 5, false);                           /* gone before INTA */
    ck_assert(!b->intr_level);
    ck_assert_int_eq(ack(b), 0x0F);
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    /* the same for a slave request: the master finds IR2 gone */
    irq(b, 12, true);
    irq(b, 12, false);
    ck_assert_int_eq(ack(b), 0x0F);
    ck_assert_uint_eq(read_isr(b, 0x20), 0);
    ck_assert_uint_eq(read_isr(b, 0xA0), 0);
    /* a real IRQ 7 does set ISR */
    irq(b, 7, true);
    ck_assert_int_eq(ack(b), 0x0F);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x80);
    bench_free(b);
}
END_TEST

START_TEST(poll_mode)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    out8(b, 0x21, 0xFF);                        /* polling with the CPU's INTR unused */
    out8(b, 0x20, 0x0C);
    ck_assert_uint_eq(in8(b, 0x20), 0x00);      /* nothing pending */
    out8(b, 0x21, 0x00);
    irq(b, 3, true);
    irq(b, 6, true);
    out8(b, 0x20, 0x0C);
    ck_assert_uint_eq(in8(b, 0x20), 0x83);      /* acts as INTA */
    ck_assert_uint_eq(read_isr(b, 0x20), 0x08);
    ck_assert_uint_eq(in8(b, 0x20), 0x40);      /* one-shot: back to IRR */
    out8(b, 0x20, 0x20);
    out8(b, 0x20, 0x0C);
    ck_assert_uint_eq(in8(b, 0x21), 0x86);      /* the odd port polls too */
    out8(b, 0x20, 0x20);
    /* a slave request polls as 2 on the master, its level on the slave */
    irq(b, 14, true);
    out8(b, 0x20, 0x0C);
    ck_assert_uint_eq(in8(b, 0x20), 0x82);
    out8(b, 0xA0, 0x0C);
    ck_assert_uint_eq(in8(b, 0xA0), 0x86);
    ck_assert_uint_eq(read_isr(b, 0xA0), 0x40);
    bench_free(b);
}
END_TEST

START_TEST(special_mask_mode)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 3, true);
    ck_assert_int_eq(ack(b), 0x0B);
    irq(b, 5, true);
    ck_assert(!b->intr_level);                  /* lower level blocked by ISR 3 */
    out8(b, 0x20, 0x68);                        /* set special mask mode */
    out8(b, 0x21, 0x08);                        /* handler masks its own level */
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0D);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x28);
    out8(b, 0x20, 0x65);
    out8(b, 0x20, 0x48);                        /* reset special mask mode */
    out8(b, 0x21, 0x00);
    irq(b, 5, false); irq(b, 5, true);
    ck_assert(!b->intr_level);                  /* ISR 3 blocks again */
    out8(b, 0x20, 0x63);
    ck_assert(b->intr_level);
    ck_assert_int_eq(ack(b), 0x0D);
    bench_free(b);
}
END_TEST

START_TEST(reinit_and_intr_edges)
{
    struct bench *b = bench_new();
    init_pics(b, 0x01);
    irq(b, 4, true);
    ck_assert_int_eq(b->intr_edges, 1);
    ck_assert_int_eq(ack(b), 0x0C);
    out8(b, 0x21, 0x80);
    /* ICW1 clears IMR and ISR and the edge latches */
    irq(b, 1, true);
    ck_assert_int_eq(b->intr_edges, 2);
    init_pics(b, 0x01);
    ck_assert_uint_eq(in8(b, 0x21), 0x00);
    ck_assert_uint_eq(read_isr(b, 0x20), 0x00);
    ck_assert_uint_eq(read_irr(b, 0x20), 0x00);
    ck_assert(!b->intr_level);
    irq(b, 1, false); irq(b, 1, true);
    ck_assert(b->intr_level);
    ck_assert_int_eq(b->intr_edges, 3);
    ck_assert_int_eq(ack(b), 0x09);
    bench_free(b);
}
END_TEST

static void cpu_intr_line(void *opaque, int pin, bool level)
{
    cpu_set_intr(opaque, level);
}

START_TEST(machine_wiring_and_reset)
{
    char err[128];
    struct machine_config cfg = { .ram_size = 1u << 20 };
    struct machine *m = machine_create(&cfg, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct irq_line intr = { .set_level = cpu_intr_line, .opaque = &m->cpu };
    struct pic8259 *pic;
    ck_assert_int_eq(pic8259_create(m, &intr, &pic), 0);
    m->cpu.intr_ack = pic8259_intr_ack;
    m->cpu.intr_opaque = pic;
    ck_assert_int_eq(machine_reset(m), 0);
    ioport_write(&m->io, 0x20, 0x11, 1); ioport_write(&m->io, 0x21, 0x20, 1);
    ioport_write(&m->io, 0x21, 0x04, 1); ioport_write(&m->io, 0x21, 0x01, 1);
    ioport_write(&m->io, 0x21, 0x40, 1);
    irq_set_level(pic8259_irq(pic, 4), true);
    ck_assert(m->cpu.intr);
    ck_assert_int_eq(m->cpu.intr_ack(m->cpu.intr_opaque), 0x24);
    ck_assert(!m->cpu.intr);
    irq_set_level(pic8259_irq(pic, 3), true);
    ck_assert(m->cpu.intr);
    ck_assert_int_eq(machine_reset(m), 0);     /* power cycle: PIC back to defaults */
    ck_assert(!m->cpu.intr);
    ck_assert_uint_eq(ioport_read(&m->io, 0x21, 1), 0);
    ioport_write(&m->io, 0x20, 0x0B, 1);
    ck_assert_uint_eq(ioport_read(&m->io, 0x20, 1), 0);
    ioport_write(&m->io, 0x20, 0x0A, 1);
    ck_assert_uint_eq(ioport_read(&m->io, 0x20, 1), 0);   /* held line: no edge */
    irq_set_level(pic8259_irq(pic, 3), false);
    irq_set_level(pic8259_irq(pic, 3), true);
    ck_assert(m->cpu.intr);
    ck_assert_int_eq(m->cpu.intr_ack(m->cpu.intr_opaque), 0x03);
    machine_destroy(m);
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("pic8259");
    TCase *tc = tcase_create("pic");
    tcase_add_test(tc, power_on_state);
    tcase_add_test(tc, init_ack_eoi);
    tcase_add_test(tc, masking);
    tcase_add_test(tc, fixed_priority_nesting);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, auto_eoi);
    tcase_add_test(tc, cascade);
    tcase_add_test(tc, cascade_sfnm);
    tcase_add_test(tc, edge_vs_level);
    tcase_add_test(tc, spurious);
    tcase_add_test(tc, poll_mode);
    tcase_add_test(tc, special_mask_mode);
    tcase_add_test(tc, reinit_and_intr_edges);
    tcase_add_test(tc, machine_wiring_and_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
