/* tests/unit/test_lapic.c: the local APIC without running the CPU.
 *
 * The bench is a machine with the 8259 pair wired into LINT0, as on the
 * board. The guest's side is MMIO at 0xFEE00000 (phys_read/phys_write)
 * and MSR 0x1B through cpu->msr_hook; the CPU's side is m->cpu.intr,
 * m->cpu.nmi_pending and the acknowledge lapic_intr_ack. Time moves
 * through m->idle_ns and the device's next_event (device_clock.h).
 * Expected values: SDM Vol. 3A chapter 10 and QEMU's reset state.
 */
#include <check.h>
#include <stdlib.h>

#include "core/cpuid.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/lapic.h"
#include "device_clock.h"

#define APIC 0xFEE00000u

struct bench {
    struct machine *m;
    struct pic8259 *pic;
    struct lapic   *lapic;
    struct irq_line pic_intr;
    int             dev;                 /* the lapic's index in m->devices */
};

static void pic_to_lint0(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    (void)pin;
    if (b->lapic)
        irq_set_level(lapic_lint(b->lapic, 0), level);
}

static struct bench *bench_new(void)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16u << 20, .deterministic = true },
                          err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    b->pic_intr = (struct irq_line){ .set_level = pic_to_lint0, .opaque = b };
    ck_assert_int_eq(pic8259_create(b->m, &b->pic_intr, &b->pic), 0);
    ck_assert_int_eq(lapic_create(b->m, b->pic, &b->lapic), 0);
    b->dev = b->m->ndevices - 1;
    ck_assert_int_eq(machine_reset(b->m), 0);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static uint32_t rd(struct bench *b, uint32_t reg) { return phys_read(&b->m->mem, APIC + reg, 4); }
static void wr(struct bench *b, uint32_t reg, uint32_t v) { phys_write(&b->m->mem, APIC + reg, v, 4); }

static bool msr(struct bench *b, uint64_t *v, bool write)
{
    return b->m->cpu.msr_hook(b->m->cpu.msr_opaque, 0x1B, v, write);
}

static bool irr_bit(struct bench *b, int v) { return rd(b, 0x200 + (v / 32) * 0x10) & (1u << (v % 32)); }
static bool isr_bit(struct bench *b, int v) { return rd(b, 0x100 + (v / 32) * 0x10) & (1u << (v % 32)); }
static bool tmr_bit(struct bench *b, int v) { return rd(b, 0x180 + (v / 32) * 0x10) & (1u << (v % 32)); }

static void self_ipi(struct bench *b, uint8_t vector) { wr(b, 0x300, 0x00040000u | vector); }
static int ack(struct bench *b) { return lapic_intr_ack(b->lapic); }

static void enable(struct bench *b) { wr(b, 0xF0, 0x1FF); }

START_TEST(reset_state)
{
    struct bench *b = bench_new();
    uint64_t base = 0;
    ck_assert(msr(b, &base, false));
    ck_assert_uint_eq(base, 0xFEE00900u);            /* enabled, BSP, default base */
    ck_assert_uint_eq(rd(b, 0x20), 0);                /* ID */
    ck_assert_uint_eq(rd(b, 0x30), 0x00050014u);      /* version 0x14, max LVT 5 */
    ck_assert_uint_eq(rd(b, 0x80), 0);                /* TPR */
    ck_assert_uint_eq(rd(b, 0xA0), 0);                /* PPR */
    ck_assert_uint_eq(rd(b, 0xD0), 0);                /* LDR */
    ck_assert_uint_eq(rd(b, 0xE0), 0xFFFFFFFFu);      /* DFR: flat */
    ck_assert_uint_eq(rd(b, 0xF0), 0xFFu);            /* SVR: software-disabled */
    ck_assert_uint_eq(rd(b, 0x320), 0x00010000u);     /* timer masked */
    ck_assert_uint_eq(rd(b, 0x350), 0x00000700u);     /* LINT0: ExtINT (QEMU's BSP) */
    ck_assert_uint_eq(rd(b, 0x360), 0x00010000u);     /* LINT1 masked */
    ck_assert_uint_eq(rd(b, 0x370), 0x00010000u);     /* error masked */
    ck_assert_uint_eq(rd(b, 0x380), 0);
    ck_assert_uint_eq(rd(b, 0x390), 0);
    ck_assert_uint_eq(rd(b, 0x3E0), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(rd(b, 0x200 + i * 0x10) | rd(b, 0x100 + i * 0x10), 0);
    uint32_t regs[4];
    cpuid_query_cpu(&b->m->cpu, 1, 0, regs);
    ck_assert(regs[3] & CPUID_APIC);
    ck_assert_uint_eq(regs[1] >> 24, 0);
    ck_assert(!b->m->cpu.intr);
    bench_free(b);
}
END_TEST

START_TEST(register_bits)
{
    struct bench *b = bench_new();
    wr(b, 0x20, 0x05FFFFFFu);
    ck_assert_uint_eq(rd(b, 0x20), 0x05000000u);
    uint32_t regs[4];
    cpuid_query_cpu(&b->m->cpu, 1, 0, regs);
    ck_assert_uint_eq(regs[1] >> 24, 5);             /* CPUID follows the ID */
    wr(b, 0x20, 0);
    wr(b, 0xD0, 0x01ABCDEFu);
    ck_assert_uint_eq(rd(b, 0xD0), 0x01000000u);      /* LDR: bits 31:24 */
    wr(b, 0xE0, 0);
    ck_assert_uint_eq(rd(b, 0xE0), 0x0FFFFFFFu);      /* DFR: cluster, low bits 1 */
    wr(b, 0x80, 0x1FF);
    ck_assert_uint_eq(rd(b, 0x80), 0xFFu);
    wr(b, 0x80, 0);
    /* software-disabled: LVT writes stay masked */
    wr(b, 0x320, 0x00000030u);
    ck_assert_uint_eq(rd(b, 0x320), 0x00010030u);
    enable(b);
    ck_assert_uint_eq(rd(b, 0xF0), 0x1FFu);
    wr(b, 0x320, 0xFFFFFFFFu);
    ck_assert_uint_eq(rd(b, 0x320), 0x000300FFu);     /* no TSC-deadline bit 18, status 0 */
    wr(b, 0x350, 0xFFFFFFFFu);
    ck_assert_uint_eq(rd(b, 0x350), 0x0001A7FFu);     /* remote IRR, status read 0 */
    wr(b, 0x370, 0xFFFFFFFFu);
    ck_assert_uint_eq(rd(b, 0x370), 0x000100FFu);
    /* the version register is read-only */
    wr(b, 0x30, 0);
    ck_assert_uint_eq(rd(b, 0x30), 0x00050014u);
    /* software disable masks every LVT entry */
    wr(b, 0x320, 0x00000031u);
    wr(b, 0xF0, 0xFF);
    ck_assert_uint_eq(rd(b, 0x320), 0x00010031u);
    /* ICR: delivery status reads idle; high holds bits 31:24 */
    wr(b, 0x310, 0x12345678u);
    ck_assert_uint_eq(rd(b, 0x310), 0x12000000u);
    /* narrow reads see bytes of the register */
    ck_assert_uint_eq(phys_read(&b->m->mem, APIC + 0x30, 1), 0x14u);
    ck_assert_uint_eq(phys_read(&b->m->mem, APIC + 0x32, 1), 0x05u);
    bench_free(b);
}
END_TEST

START_TEST(accept_and_eoi)
{
    struct bench *b = bench_new();
    wr(b, 0x350, 0x10700);            /* LINT0 masked: only APIC vectors here */
    /* software-disabled: accepted into IRR, not delivered */
    self_ipi(b, 0x40);
    ck_assert(irr_bit(b, 0x40));
    ck_assert(!b->m->cpu.intr);
    enable(b);
    ck_assert(b->m->cpu.intr);
    ck_assert_uint_eq(rd(b, 0x300), 0x00040040u);     /* delivery status idle */
    ck_assert_int_eq(ack(b), 0x40);
    ck_assert(!irr_bit(b, 0x40));
    ck_assert(isr_bit(b, 0x40));
    ck_assert(!tmr_bit(b, 0x40));                     /* IPIs are edge */
    ck_assert_uint_eq(rd(b, 0xA0), 0x40);             /* PPR = ISRV class */
    ck_assert(!b->m->cpu.intr);
    /* a higher class nests, a same class waits */
    self_ipi(b, 0x4F);
    ck_assert(!b->m->cpu.intr);
    self_ipi(b, 0x50);
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x50);
    ck_assert_uint_eq(rd(b, 0xA0), 0x50);
    wr(b, 0xB0, 0);                                   /* EOI: the highest ISR bit, 0x50 */
    ck_assert(!isr_bit(b, 0x50));
    ck_assert(isr_bit(b, 0x40));
    ck_assert(!b->m->cpu.intr);                       /* 0x4F is still class 4 */
    wr(b, 0xB0, 0);
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x4F);
    wr(b, 0xB0, 0);
    ck_assert_uint_eq(rd(b, 0xA0), 0);
    ck_assert(!b->m->cpu.intr);
    bench_free(b);
}
END_TEST

START_TEST(tpr_priority)
{
    struct bench *b = bench_new();
    enable(b);
    wr(b, 0x350, 0x10700);
    wr(b, 0x80, 0x50);
    ck_assert_uint_eq(rd(b, 0xA0), 0x50);             /* PPR = TPR */
    self_ipi(b, 0x45);
    self_ipi(b, 0x5F);
    ck_assert(!b->m->cpu.intr);                       /* classes 4 and 5 <= 5 */
    self_ipi(b, 0x61);
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x61);
    ck_assert_uint_eq(rd(b, 0xA0), 0x60);             /* ISRV class above TPR */
    wr(b, 0x80, 0x00);
    ck_assert(!b->m->cpu.intr);                       /* 0x61 in service blocks 0x5F */
    wr(b, 0xB0, 0);
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x5F);
    /* TPR raised between INTR and the acknowledge: the spurious vector */
    wr(b, 0xB0, 0);
    ck_assert(b->m->cpu.intr);
    wr(b, 0x80, 0xF0);
    ck_assert(!b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0xFF);
    ck_assert(irr_bit(b, 0x45));
    bench_free(b);
}
END_TEST

START_TEST(errors)
{
    struct bench *b = bench_new();
    enable(b);
    wr(b, 0x370, 0x000000E0u);                        /* error LVT: vector 0xE0 */
    self_ipi(b, 0x05);                                /* illegal vector */
    ck_assert_uint_eq(rd(b, 0x280), 0);               /* not latched yet */
    wr(b, 0x280, 0);
    ck_assert_uint_eq(rd(b, 0x280), 0x20);            /* send illegal vector */
    ck_assert(irr_bit(b, 0xE0));                      /* the error interrupt */
    ck_assert(!irr_bit(b, 0x05));
    wr(b, 0x280, 0);
    ck_assert_uint_eq(rd(b, 0x280), 0);
    ck_assert_int_eq(ack(b), 0xE0);
    wr(b, 0xB0, 0);
    /* a received illegal vector (a message with vector < 16) */
    ck_assert(lapic_deliver(b->lapic, 0, false, APIC_DM_FIXED, 0x0A, false));
    wr(b, 0x280, 0);
    ck_assert_uint_eq(rd(b, 0x280), 0x40);
    bench_free(b);
}
END_TEST

START_TEST(timer_one_shot)
{
    struct bench *b = bench_new();
    enable(b);
    wr(b, 0x350, 0x10700);
    wr(b, 0x320, 0x30);                               /* one-shot, vector 0x30 */
    wr(b, 0x3E0, 0x3);                                /* divide by 16 */
    uint64_t t0 = machine_now(b->m);
    wr(b, 0x380, 1000);
    ck_assert_uint_eq(rd(b, 0x390), 1000);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), t0 + 16000);
    device_clock_advance(b->m, b->dev, t0 + 1600);
    ck_assert_uint_eq(rd(b, 0x390), 900);
    device_clock_advance(b->m, b->dev, t0 + 1601);
    ck_assert_uint_eq(rd(b, 0x390), 900);             /* counts whole ticks of 16 ns */
    device_clock_advance(b->m, b->dev, t0 + 15999);
    ck_assert(!irr_bit(b, 0x30));
    ck_assert_uint_eq(rd(b, 0x390), 1);
    device_clock_advance(b->m, b->dev, t0 + 16000);
    ck_assert(irr_bit(b, 0x30));
    ck_assert_uint_eq(rd(b, 0x390), 0);
    ck_assert_uint_eq(rd(b, 0x380), 1000);            /* initial count stays */
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), TIME_NEVER);
    ck_assert_int_eq(ack(b), 0x30);
    wr(b, 0xB0, 0);
    /* masked: counts down, no interrupt */
    wr(b, 0x320, 0x10030);
    wr(b, 0x380, 10);
    device_clock_advance(b->m, b->dev, machine_now(b->m) + 1000);
    ck_assert_uint_eq(rd(b, 0x390), 0);
    ck_assert(!irr_bit(b, 0x30));
    /* writing 0 stops it */
    wr(b, 0x320, 0x30);
    wr(b, 0x380, 100);
    wr(b, 0x380, 0);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), TIME_NEVER);
    ck_assert_uint_eq(rd(b, 0x390), 0);
    bench_free(b);
}
END_TEST

START_TEST(timer_periodic)
{
    struct bench *b = bench_new();
    enable(b);
    wr(b, 0x350, 0x10700);
    wr(b, 0x320, 0x20031);                            /* periodic, vector 0x31 */
    wr(b, 0x3E0, 0xB);                                /* divide by 1 */
    uint64_t t0 = machine_now(b->m);
    wr(b, 0x380, 500);
    for (int k = 1; k <= 5; k++) {
        uint64_t next = device_clock_event(b->m, b->dev);
        ck_assert_uint_eq(next, t0 + 500u * k);
        device_clock_set(b->m, next - 1);
        ck_assert_uint_eq(rd(b, 0x390), 1);
        ck_assert(!irr_bit(b, 0x31));
        device_clock_set(b->m, next);
        device_clock_event(b->m, b->dev);
        ck_assert(irr_bit(b, 0x31));
        ck_assert_uint_eq(rd(b, 0x390), 500);         /* reloaded */
        ck_assert_int_eq(ack(b), 0x31);
        wr(b, 0xB0, 0);
    }
    /* a DCR change mid-period keeps the count, at the new rate */
    device_clock_set(b->m, t0 + 2500 + 100);
    ck_assert_uint_eq(rd(b, 0x390), 400);
    wr(b, 0x3E0, 0x0);                                /* divide by 2 */
    ck_assert_uint_eq(rd(b, 0x390), 400);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), t0 + 2600 + 800);
    /* then whole periods of 500 counts at 2 ns */
    device_clock_advance(b->m, b->dev, t0 + 3400);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), t0 + 3400 + 1000);
    bench_free(b);
}
END_TEST

START_TEST(timer_divide_values)
{
    /* DCR bits 3,1,0: 000 /2, 001 /4, 010 /8, 011 /16, 100 /32, 101 /64,
     * 110 /128, 111 /1 */
    static const struct { uint32_t dcr; unsigned div; } table[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
    };
    struct bench *b = bench_new();
    enable(b);
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
        wr(b, 0x3E0, table[i].dcr | 0xFFFFFFF4u);      /* other bits are reserved */
        ck_assert_uint_eq(rd(b, 0x3E0), table[i].dcr);
        uint64_t t0 = machine_now(b->m);
        wr(b, 0x380, 3);
        ck_assert_uint_eq(device_clock_event(b->m, b->dev), t0 + 3u * table[i].div);
        wr(b, 0x380, 0);
    }
    bench_free(b);
}
END_TEST

static void init_pics(struct bench *b)
{
    struct ioport_map *io = &b->m->io;
    ioport_write(io, 0x20, 0x11, 1); ioport_write(io, 0x21, 0x08, 1);
    ioport_write(io, 0x21, 0x04, 1); ioport_write(io, 0x21, 0x01, 1);
    ioport_write(io, 0xA0, 0x11, 1); ioport_write(io, 0xA1, 0x70, 1);
    ioport_write(io, 0xA1, 0x02, 1); ioport_write(io, 0xA1, 0x01, 1);
}

START_TEST(extint_pass_through)
{
    struct bench *b = bench_new();
    init_pics(b);
    /* after reset: LINT0 ExtINT, software-disabled, the 8259 gets through */
    irq_set_level(pic8259_irq(b->pic, 1), true);
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x09);                   /* the 8259's vector */
    irq_set_level(pic8259_irq(b->pic, 1), false);
    ioport_write(&b->m->io, 0x20, 0x20, 1);           /* 8259 EOI */
    ck_assert(!b->m->cpu.intr);
    /* an APIC vector goes before the 8259's */
    enable(b);
    wr(b, 0x350, 0x700);
    self_ipi(b, 0x80);
    irq_set_level(pic8259_irq(b->pic, 3), true);
    ck_assert_int_eq(ack(b), 0x80);
    ck_assert_int_eq(ack(b), 0x0B);
    irq_set_level(pic8259_irq(b->pic, 3), false);
    ioport_write(&b->m->io, 0x20, 0x20, 1);
    wr(b, 0xB0, 0);
    /* LINT0 masked: the 8259 is cut off */
    wr(b, 0x350, 0x10700);
    irq_set_level(pic8259_irq(b->pic, 4), true);
    ck_assert(!b->m->cpu.intr);
    /* hardware-disabled: LINT0 is INTR again, the page and CPUID bit go */
    uint64_t base = 0xFEE00000u | (1u << 8);
    ck_assert(msr(b, &base, true));
    ck_assert(b->m->cpu.intr);
    ck_assert_int_eq(ack(b), 0x0C);
    ck_assert_uint_eq(rd(b, 0x30), 0xFFFFFFFFu);      /* nothing mapped */
    uint32_t regs[4];
    cpuid_query_cpu(&b->m->cpu, 1, 0, regs);
    ck_assert(!(regs[3] & CPUID_APIC));
    /* P6: no re-enabling without reset */
    base = 0xFEE00900u;
    ck_assert(msr(b, &base, true));
    ck_assert(msr(b, &base, false));
    ck_assert_uint_eq(base, 0xFEE00100u);
    ck_assert(!lapic_deliver(b->lapic, 0xFF, false, APIC_DM_FIXED, 0x40, false));
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert(msr(b, &base, false));
    ck_assert_uint_eq(base, 0xFEE00900u);
    bench_free(b);
}
END_TEST

START_TEST(msr_relocation)
{
    struct bench *b = bench_new();
    uint64_t v = 0xFED00900u;
    ck_assert(msr(b, &v, true));
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xFED00030u, 4), 0x00050014u);
    ck_assert_uint_eq(rd(b, 0x30), 0xFFFFFFFFu);
    v = 0;
    ck_assert(msr(b, &v, false));
    ck_assert_uint_eq(v, 0xFED00900u);
    v = 0xFEE00900u | 1;                              /* reserved bit 0 */
    ck_assert(!msr(b, &v, true));
    v = 0x1FEE00900ull;                               /* above the 32-bit bus */
    ck_assert(!msr(b, &v, true));
    v = 0;
    ck_assert(!b->m->cpu.msr_hook(b->m->cpu.msr_opaque, 0x1C, &v, false));
    bench_free(b);
}
END_TEST

START_TEST(lint1_nmi_and_dest)
{
    struct bench *b = bench_new();
    enable(b);
    wr(b, 0x360, 0x400);                              /* LINT1: NMI */
    irq_set_level(lapic_lint(b->lapic, 1), true);
    ck_assert(b->m->cpu.nmi_pending);
    b->m->cpu.nmi_pending = false;
    irq_set_level(lapic_lint(b->lapic, 1), true);     /* no new edge */
    ck_assert(!b->m->cpu.nmi_pending);
    irq_set_level(lapic_lint(b->lapic, 1), false);
    wr(b, 0x360, 0x10400);
    irq_set_level(lapic_lint(b->lapic, 1), true);
    ck_assert(!b->m->cpu.nmi_pending);                /* masked */
    /* NMI IPI to self */
    wr(b, 0x300, 0x00040400u);
    ck_assert(b->m->cpu.nmi_pending);
    /* destinations: physical ID, flat and cluster logical, broadcast */
    wr(b, 0x20, 0x03000000u);
    ck_assert(!lapic_deliver(b->lapic, 0, false, APIC_DM_FIXED, 0x41, false));
    ck_assert(lapic_deliver(b->lapic, 3, false, APIC_DM_FIXED, 0x41, false));
    ck_assert(lapic_deliver(b->lapic, 0xFF, false, APIC_DM_FIXED, 0x42, false));
    wr(b, 0xD0, 0x01000000u);
    ck_assert(lapic_deliver(b->lapic, 0x03, true, APIC_DM_FIXED, 0x43, false));
    ck_assert(!lapic_deliver(b->lapic, 0x02, true, APIC_DM_FIXED, 0x44, false));
    wr(b, 0xE0, 0x0FFFFFFFu);                         /* cluster model */
    wr(b, 0xD0, 0x21000000u);                         /* cluster 2, member bit 0 */
    ck_assert(lapic_deliver(b->lapic, 0x21, true, APIC_DM_FIXED, 0x45, false));
    ck_assert(!lapic_deliver(b->lapic, 0x11, true, APIC_DM_FIXED, 0x46, false));
    ck_assert(irr_bit(b, 0x41) && irr_bit(b, 0x42) && irr_bit(b, 0x43) && irr_bit(b, 0x45));
    ck_assert(!irr_bit(b, 0x44) && !irr_bit(b, 0x46));
    /* INIT / STARTUP broadcast to the others (SeaBIOS's AP wake-up) */
    wr(b, 0x300, 0x000C4500u);
    wr(b, 0x300, 0x000C4600u | 0x9F);
    ck_assert_uint_eq(rd(b, 0x300) & (1u << 12), 0);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, reset_state);
    tcase_add_test(tc, register_bits);
    tcase_add_test(tc, accept_and_eoi);
    tcase_add_test(tc, tpr_priority);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, timer_one_shot);
    tcase_add_test(tc, timer_periodic);
    tcase_add_test(tc, timer_divide_values);
    tcase_add_test(tc, extint_pass_through);
    tcase_add_test(tc, msr_relocation);
    tcase_add_test(tc, lint1_nmi_and_dest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
