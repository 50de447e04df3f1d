/* devices/lapic.c: the processor's local APIC, in its xAPIC form (version
 * 0x14, six LVT entries: QEMU's APIC), for the single CPU of the machine.
 *
 * Modelled (SDM Vol. 3A, chapter 10):
 *   - IA32_APIC_BASE (MSR 0x1B) through cpu->msr_hook: base (bits 31:12,
 *     the 4 KiB register page moves with it), BSP (bit 8, read-only, set),
 *     global enable (bit 11). Clearing bit 11 puts the APIC in its reset
 *     state and hardware-disables it until the next reset, as on the P6
 *     family: no register page, CPUID.1:EDX.APIC clear, LINT0 is the CPU's
 *     INTR pin and LINT1 its NMI pin. Reserved bits raise #GP(0).
 *   - Registers (32-bit, 16-byte aligned; narrower reads see the bytes of
 *     the 32-bit value, narrower writes are refused): ID, version
 *     0x00050014, TPR, APR, PPR, EOI, LDR, DFR (flat / cluster), SVR
 *     (vector and software enable; bit 9 focus checking is stored), ISR /
 *     TMR / IRR (256 bits each), ESR (errors accumulate and are latched by
 *     a write), ICR, the LVT (timer, thermal, performance, LINT0, LINT1,
 *     error) and the timer's initial/current count and divide registers.
 *   - Acceptance: a fixed or lowest-priority interrupt sets its IRR bit
 *     (and TMR for level-triggered, clears it for edge); vectors 0-15 are
 *     refused with ESR "received illegal vector". The CPU's INTR is raised
 *     while the highest IRR vector's priority class is above PPR[7:4]
 *     (PPR = TPR, or ISRV & 0xF0 if that class is higher) and the APIC is
 *     software-enabled; the acknowledge moves it from IRR to ISR. EOI
 *     clears the highest ISR bit and, if its TMR bit is set, tells the I/O
 *     APIC (lapic_set_eoi_listener). A software-disabled APIC keeps
 *     accepting into IRR but delivers nothing; NMI messages always go.
 *   - LINT0 / LINT1: the 8259's INTR reaches the CPU while LINT0 is
 *     unmasked in ExtINT mode (the acknowledge is then the 8259's INTA) or
 *     the APIC is hardware-disabled. The reset value of LINT0 on this BSP
 *     is ExtINT unmasked (0x700), QEMU's choice, so real-mode software that
 *     never touches the APIC keeps the 8259's interrupts. A rising edge in
 *     NMI mode raises NMI, in fixed mode accepts the LVT vector.
 *   - Timer: counts at 1 GHz (QEMU's APIC bus clock, one count per virtual
 *     ns) divided by 1-128 (DCR). Writing the initial count starts it
 *     (0 stops it); at 0 it interrupts with the LVT vector unless masked and
 *     stops (one-shot) or reloads (periodic). Expiry times are exact; the
 *     current count is computed from the virtual clock when read. A DCR
 *     write mid-count keeps the current count and continues at the new
 *     rate. TSC-deadline mode is not advertised (CPUID.1:ECX.24 clear), so
 *     LVT timer bit 18 is reserved.
 *   - ICR: self, all-including-self, all-excluding-self and destination
 *     (physical or logical) IPIs; fixed and NMI delivered. With one CPU,
 *     INIT and STARTUP to other processors go nowhere (SeaBIOS broadcasts
 *     INIT-SIPI-SIPI, finds no new CPU and continues); the delivery status
 *     bit always reads idle.
 * Not modelled: INIT / STARTUP / SMI to this processor (logged as
 * unimplemented), Remote IRR of level-triggered LINT pins, the thermal and
 * performance monitoring sources (their LVTs are stored), x2APIC, lowest-
 * priority arbitration (there is one CPU), send/receive checksum errors.
 */
#include "devices/lapic.h"

#include <stdlib.h>

#include "core/machine.h"
#include "devices/device.h"

#define APIC_DEFAULT_BASE    0xFEE00000u
#define APIC_PAGE_SIZE       0x1000u
#define MSR_IA32_APIC_BASE   0x1B
#define APIC_BASE_BSP        (1u << 8)
#define APIC_BASE_ENABLE     (1u << 11)
#define APIC_BASE_ADDR_MASK  0xFFFFF000u

#define APIC_VERSION         0x00050014u   /* max LVT entry 5, version 0x14 */
#define SVR_ENABLE           (1u << 8)
#define SVR_WRITABLE         0x000003FFu   /* vector, enable, focus check */
#define DFR_FLAT             0xFu

/* Register offsets in the page */
enum {
    REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_APR = 0x90, REG_PPR = 0xA0,
    REG_EOI = 0xB0, REG_RRD = 0xC0, REG_LDR = 0xD0, REG_DFR = 0xE0, REG_SVR = 0xF0,
    REG_ISR = 0x100, REG_TMR = 0x180, REG_IRR = 0x200, REG_ESR = 0x280,
    REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310, REG_LVT = 0x320,
    REG_TIMER_INITIAL = 0x380, REG_TIMER_CURRENT = 0x390, REG_TIMER_DIVIDE = 0x3E0,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

#define LVT_MASKED           (1u << 16)
#define LVT_LEVEL_TRIGGER    (1u << 15)
#define LVT_TIMER_PERIODIC   (1u << 17)
#define LVT_RESET            LVT_MASKED
#define LVT0_RESET_BSP       0x00000700u   /* ExtINT, unmasked (QEMU) */

/* Writable LVT bits per entry (vector, delivery mode, polarity, trigger,
 * mask, timer mode); delivery status and Remote IRR read as 0. */
static const uint32_t lvt_writable[LVT_COUNT] = {
    [LVT_TIMER] = 0x000300FFu, [LVT_THERMAL] = 0x000107FFu, [LVT_PERF] = 0x000107FFu,
    [LVT_LINT0] = 0x0001A7FFu, [LVT_LINT1] = 0x0001A7FFu, [LVT_ERROR] = 0x000100FFu,
};

#define ICR_WRITABLE         0x000CCFFFu
#define ICR_DEST_LOGICAL     (1u << 11)
#define ICR_LEVEL_ASSERT     (1u << 14)
#define ICR_TRIGGER_LEVEL    (1u << 15)

/* ESR bits */
#define ESR_SEND_ILLEGAL     (1u << 5)
#define ESR_RECV_ILLEGAL     (1u << 6)
#define ESR_ILLEGAL_REG      (1u << 7)

struct lapic {
    struct machine *machine;
    struct cpu *cpu;
    struct pic8259 *pic;                 /* ExtINT acknowledges go here */
    struct irq_line lint_in[2];          /* LINT0 (the 8259's INTR), LINT1 */
    bool lint_level[2];
    void (*eoi_listener)(void *opaque, uint8_t vector);
    void *eoi_opaque;

    uint32_t apic_base;                  /* IA32_APIC_BASE (bits 63:32 are 0) */
    uint32_t mapped_at;                  /* where the page is mapped, if mapped */
    bool mapped;

    uint8_t id;
    uint8_t tpr;
    uint32_t ldr, dfr, svr;
    uint32_t irr[8], isr[8], tmr[8];     /* bit v of word v / 32 */
    uint32_t esr;                        /* as latched by the last ESR write */
    uint32_t esr_pending;                /* errors since then */
    uint32_t icr_low, icr_high;
    uint32_t lvt[LVT_COUNT];
    uint32_t timer_initial;
    uint32_t timer_divide;               /* DCR bits 0, 1, 3 */
    uint64_t timer_deadline;             /* when the count next reaches 0; TIME_NEVER: stopped */
};

static bool hw_enabled(const struct lapic *s) { return s->apic_base & APIC_BASE_ENABLE; }
static bool sw_enabled(const struct lapic *s) { return hw_enabled(s) && (s->svr & SVR_ENABLE); }
static int lvt_mode(uint32_t lvt) { return (lvt >> 8) & 7; }

static bool bit_test(const uint32_t *reg, int v) { return reg[v >> 5] & (1u << (v & 31)); }
static void bit_set(uint32_t *reg, int v) { reg[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t *reg, int v) { reg[v >> 5] &= ~(1u << (v & 31)); }

/* The highest vector set in a 256-bit register, or -1. */
static int highest_vector(const uint32_t *reg)
{
    for (int i = 7; i >= 0; i--)
        if (reg[i])
            return i * 32 + 31 - __builtin_clz(reg[i]);
    return -1;
}

static uint8_t ppr(const struct lapic *s)
{
    int isrv = highest_vector(s->isr);
    uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xF0);
    return (s->tpr & 0xF0) >= isr_class ? s->tpr : isr_class;
}

/* The vector the APIC would hand the CPU now, or -1. */
static int deliverable_vector(const struct lapic *s)
{
    if (!sw_enabled(s))
        return -1;
    int v = highest_vector(s->irr);
    if (v < 0 || (v & 0xF0) <= (ppr(s) & 0xF0))
        return -1;
    return v;
}

/* The 8259's INTR reaches the CPU: through LINT0 in ExtINT mode, or
 * directly when the APIC is hardware-disabled. */
static bool extint_passes(const struct lapic *s)
{
    if (!hw_enabled(s))
        return true;
    uint32_t l = s->lvt[LVT_LINT0];
    return !(l & LVT_MASKED) && lvt_mode(l) == APIC_DM_EXTINT;
}

static void update_intr(struct lapic *s)
{
    bool level = deliverable_vector(s) >= 0 || (extint_passes(s) && s->lint_level[0]);
    cpu_set_intr(s->cpu, level);
}

static void raise_error(struct lapic *s, uint32_t bit);

/* A fixed / lowest-priority / NMI ... interrupt arrives at this APIC. */
static void accept(struct lapic *s, int mode, uint8_t vector, bool level_triggered)
{
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (vector < 16) {
            raise_error(s, ESR_RECV_ILLEGAL);
            return;
        }
        bit_set(s->irr, vector);
        if (level_triggered)
            bit_set(s->tmr, vector);
        else
            bit_clear(s->tmr, vector);
        update_intr(s);
        break;
    case APIC_DM_NMI:
        cpu_raise_nmi(s->cpu);
        break;
    case APIC_DM_EXTINT:
        machine_log(s->machine, LOG_UNIMP, "lapic: ExtINT message (only LINT0 ExtINT is wired)\n");
        break;
    default:
        machine_log(s->machine, LOG_UNIMP, "lapic: delivery mode %d to this CPU ignored\n", mode);
        break;
    }
}

static void raise_error(struct lapic *s, uint32_t bit)
{
    if (s->esr_pending & bit)
        return;                          /* already reported (also bounds recursion) */
    s->esr_pending |= bit;
    uint32_t l = s->lvt[LVT_ERROR];
    if (!(l & LVT_MASKED))
        accept(s, APIC_DM_FIXED, (uint8_t)l, false);
}

/* An LVT source fires (timer, LINT edge). */
static void lvt_fire(struct lapic *s, int entry)
{
    uint32_t l = s->lvt[entry];
    if (l & LVT_MASKED)
        return;
    int mode = entry == LVT_TIMER ? APIC_DM_FIXED : lvt_mode(l);
    if (mode == APIC_DM_EXTINT)
        return;                          /* handled as a level by update_intr */
    accept(s, mode, (uint8_t)l, entry != LVT_TIMER && (l & LVT_LEVEL_TRIGGER));
}

static bool match_dest(const struct lapic *s, uint8_t dest, bool logical)
{
    if (dest == 0xFF)
        return true;
    if (!logical)
        return dest == s->id;
    uint8_t ld = (uint8_t)(s->ldr >> 24);
    if ((s->dfr >> 28) == DFR_FLAT)
        return (ld & dest) != 0;
    /* cluster model: high nibble cluster (15: all), low nibble members */
    return ((dest >> 4) == 0xF || (dest >> 4) == (ld >> 4)) && (ld & dest & 0xF);
}

bool lapic_deliver(struct lapic *s, uint8_t dest, bool dest_logical, int delivery_mode,
                   uint8_t vector, bool level_triggered)
{
    if (!hw_enabled(s) || !match_dest(s, dest, dest_logical))
        return false;
    accept(s, delivery_mode, vector, level_triggered);
    return true;
}

void lapic_set_eoi_listener(struct lapic *s, void (*eoi)(void *opaque, uint8_t vector),
                            void *opaque)
{
    s->eoi_listener = eoi;
    s->eoi_opaque = opaque;
}

int lapic_intr_ack(void *opaque)
{
    struct lapic *s = opaque;
    int v = deliverable_vector(s);
    if (v >= 0) {
        bit_clear(s->irr, v);
        bit_set(s->isr, v);
        update_intr(s);
        return v;
    }
    if (extint_passes(s) && s->lint_level[0])
        return pic8259_intr_ack(s->pic);   /* its INTR change comes back through LINT0 */
    /* the request went away (TPR raised) between INTR and the acknowledge */
    update_intr(s);
    return sw_enabled(s) ? (int)(s->svr & 0xFF) : -1;
}

/* ---- timer ---- */

static unsigned timer_shift(const struct lapic *s)
{
    unsigned v = ((s->timer_divide >> 1) & 4) | (s->timer_divide & 3);
    return (v + 1) & 7;                  /* 0-6: divide by 2..128, 7: by 1 */
}

/* Fire every expiry due by now; afterwards the deadline is in the future. */
static void timer_catch_up(struct lapic *s, uint64_t now)
{
    if (s->timer_deadline > now)
        return;
    lvt_fire(s, LVT_TIMER);
    uint64_t period = (uint64_t)s->timer_initial << timer_shift(s);
    if ((s->lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) && period) {
        /* periods missed while nobody looked collapse into one interrupt */
        uint64_t missed = (now - s->timer_deadline) / period;
        s->timer_deadline += (missed + 1) * period;
    } else {
        s->timer_deadline = TIME_NEVER;
    }
}

static uint32_t timer_current(struct lapic *s)
{
    uint64_t now = machine_now(s->machine);
    timer_catch_up(s, now);
    if (s->timer_deadline == TIME_NEVER)
        return 0;
    unsigned shift = timer_shift(s);
    return (uint32_t)((s->timer_deadline - now + (1u << shift) - 1) >> shift);
}

static void timer_start(struct lapic *s, uint32_t count)
{
    uint64_t now = machine_now(s->machine);
    s->timer_deadline = count ? now + ((uint64_t)count << timer_shift(s)) : TIME_NEVER;
    if (count)
        machine_timer_changed(s->machine, s, s->timer_deadline);
}

static uint64_t lapic_next_event(void *opaque, uint64_t now)
{
    struct lapic *s = opaque;
    timer_catch_up(s, now);
    return s->timer_deadline;
}

/* ---- registers ---- */

static void eoi(struct lapic *s)
{
    int v = highest_vector(s->isr);
    if (v < 0)
        return;
    bit_clear(s->isr, v);
    if (bit_test(s->tmr, v) && s->eoi_listener)
        s->eoi_listener(s->eoi_opaque, (uint8_t)v);
    update_intr(s);
}

static void send_ipi(struct lapic *s)
{
    uint32_t icr = s->icr_low;
    int mode = lvt_mode(icr);
    uint8_t vector = (uint8_t)icr;
    bool to_self;
    switch ((icr >> 18) & 3) {
    case 0: to_self = match_dest(s, (uint8_t)(s->icr_high >> 24), icr & ICR_DEST_LOGICAL); break;
    case 1: to_self = true; break;       /* self */
    case 2: to_self = true; break;       /* all including self */
    default: to_self = false; break;     /* all excluding self: there is nobody else */
    }
    if (mode == APIC_DM_INIT && !(icr & ICR_LEVEL_ASSERT))
        return;                          /* INIT level de-assert: arbitration IDs only */
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        raise_error(s, ESR_SEND_ILLEGAL);
        return;
    }
    if (to_self)
        accept(s, mode, vector, false);
}

static void mask_all_lvts(struct lapic *s)
{
    for (int i = 0; i < LVT_COUNT; i++)
        s->lvt[i] |= LVT_MASKED;
}

static uint32_t reg_read(struct lapic *s, uint32_t reg)
{
    switch (reg) {
    case REG_ID:            return (uint32_t)s->id << 24;
    case REG_VERSION:       return APIC_VERSION;
    case REG_TPR:           return s->tpr;
    case REG_APR:           return 0;    /* one CPU: no arbitration */
    case REG_PPR:           return ppr(s);
    case REG_LDR:           return s->ldr;
    case REG_DFR:           return s->dfr;
    case REG_SVR:           return s->svr;
    case REG_ESR:           return s->esr;
    case REG_ICR_LOW:       return s->icr_low;   /* delivery status: always idle */
    case REG_ICR_HIGH:      return s->icr_high;
    case REG_TIMER_INITIAL: return s->timer_initial;
    case REG_TIMER_CURRENT: return timer_current(s);
    case REG_TIMER_DIVIDE:  return s->timer_divide;
    default: break;
    }
    if (reg >= REG_ISR && reg < REG_ISR + 0x80)
        return s->isr[(reg - REG_ISR) >> 4];
    if (reg >= REG_TMR && reg < REG_TMR + 0x80)
        return s->tmr[(reg - REG_TMR) >> 4];
    if (reg >= REG_IRR && reg < REG_IRR + 0x80)
        return s->irr[(reg - REG_IRR) >> 4];
    if (reg >= REG_LVT && reg < REG_LVT + LVT_COUNT * 0x10) {
        if (reg == REG_LVT + LVT_TIMER * 0x10)
            timer_catch_up(s, machine_now(s->machine));
        return s->lvt[(reg - REG_LVT) >> 4];
    }
    if (reg != REG_EOI && reg != REG_RRD && reg != 0)
        raise_error(s, ESR_ILLEGAL_REG);
    return 0;
}

static void reg_write(struct lapic *s, uint32_t reg, uint32_t v)
{
    switch (reg) {
    case REG_ID:      s->id = (uint8_t)(v >> 24); s->cpu->cpuid_apic_id = s->id; return;
    case REG_TPR:     s->tpr = (uint8_t)v; update_intr(s); return;
    case REG_EOI:     eoi(s); return;
    case REG_LDR:     s->ldr = v & 0xFF000000u; return;
    case REG_DFR:     s->dfr = v | 0x0FFFFFFFu; return;
    case REG_SVR:
        s->svr = v & SVR_WRITABLE;
        if (!(s->svr & SVR_ENABLE))
            mask_all_lvts(s);            /* software disable masks every LVT entry */
        update_intr(s);
        return;
    case REG_ESR:     s->esr = s->esr_pending; s->esr_pending = 0; return;
    case REG_ICR_LOW: s->icr_low = v & ICR_WRITABLE; send_ipi(s); return;
    case REG_ICR_HIGH: s->icr_high = v & 0xFF000000u; return;
    case REG_TIMER_INITIAL:
        s->timer_initial = v;
        timer_start(s, v);
        return;
    case REG_TIMER_DIVIDE: {
        uint32_t count = timer_current(s);
        s->timer_divide = v & 0xBu;
        if (s->timer_deadline != TIME_NEVER)
            timer_start(s, count);
        return;
    }
    default: break;
    }
    if (reg >= REG_LVT && reg < REG_LVT + LVT_COUNT * 0x10) {
        int i = (int)(reg - REG_LVT) >> 4;
        if (i == LVT_TIMER)
            timer_catch_up(s, machine_now(s->machine));   /* expiries so far use the old entry */
        uint32_t val = v & lvt_writable[i];
        if (!(s->svr & SVR_ENABLE))
            val |= LVT_MASKED;           /* cannot be unmasked while software-disabled */
        s->lvt[i] = val;
        update_intr(s);
        return;
    }
    /* read-only, reserved or not present */
    machine_log(s->machine, LOG_GUEST_ERRORS, "lapic: write 0x%08x to register 0x%03x ignored\n",
                v, reg);
    if (reg != REG_VERSION && reg != REG_APR && reg != REG_PPR && reg != REG_RRD &&
        reg != REG_TIMER_CURRENT && !(reg >= REG_ISR && reg < REG_IRR + 0x80))
        raise_error(s, ESR_ILLEGAL_REG);
}

static uint32_t lapic_mmio_read(void *opaque, uint32_t offset, int size)
{
    struct lapic *s = opaque;
    uint32_t reg = offset & 0xFF0u;
    unsigned byte = offset & 0xFu;
    if (byte + (unsigned)size > 4)
        return 0;                        /* bytes 4-15 of each register are reserved */
    uint32_t v = reg_read(s, reg) >> (byte * 8);
    return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void lapic_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct lapic *s = opaque;
    if (size != 4 || (offset & 0xFu)) {
        machine_log(s->machine, LOG_GUEST_ERRORS,
                    "lapic: %d-byte write at offset 0x%03x ignored (registers are 32-bit)\n",
                    size, offset);
        return;
    }
    reg_write(s, offset & 0xFF0u, value);
}

static const struct mmio_ops lapic_mmio_ops = { lapic_mmio_read, lapic_mmio_write };

/* Map the register page where IA32_APIC_BASE says, or nowhere if disabled. */
static void remap(struct lapic *s)
{
    uint32_t want = s->apic_base & APIC_BASE_ADDR_MASK;
    bool map = hw_enabled(s);
    if (s->mapped && (!map || s->mapped_at != want)) {
        phys_remove_region(&s->machine->mem, s->mapped_at, PHYS_MMIO);
        s->mapped = false;
    }
    if (map && !s->mapped) {
        if (phys_add_mmio(&s->machine->mem, want, APIC_PAGE_SIZE, &lapic_mmio_ops, s) == 0) {
            s->mapped = true;
            s->mapped_at = want;
        } else {
            machine_log(s->machine, LOG_GUEST_ERRORS,
                        "lapic: no room to map the registers at 0x%08x\n", want);
        }
    }
}

/* The register state of power-on / reset (10.4.7.1), IA32_APIC_BASE apart. */
static void regs_reset(struct lapic *s)
{
    s->id = 0;
    s->tpr = 0;
    s->ldr = 0;
    s->dfr = 0xFFFFFFFFu;
    s->svr = 0xFF;
    for (int i = 0; i < 8; i++)
        s->irr[i] = s->isr[i] = s->tmr[i] = 0;
    s->esr = s->esr_pending = 0;
    s->icr_low = s->icr_high = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        s->lvt[i] = LVT_RESET;
    s->timer_initial = 0;
    s->timer_divide = 0;
    s->timer_deadline = TIME_NEVER;
    s->cpu->cpuid_apic_id = 0;
}

static bool lapic_msr(void *opaque, uint32_t msr, uint64_t *value, bool write)
{
    struct lapic *s = opaque;
    if (msr != MSR_IA32_APIC_BASE)
        return false;
    if (!write) {
        *value = s->apic_base;
        return true;
    }
    if (*value & ~(uint64_t)(APIC_BASE_ADDR_MASK | APIC_BASE_ENABLE | APIC_BASE_BSP))
        return false;                    /* reserved bits, and bits 35:32 of a 32-bit bus */
    bool was_enabled = hw_enabled(s);
    /* P6 family: once disabled, enabled again only by a reset (SDM 10.4.3) */
    bool enable = (*value & APIC_BASE_ENABLE) && was_enabled;
    s->apic_base = ((uint32_t)*value & APIC_BASE_ADDR_MASK) | (s->apic_base & APIC_BASE_BSP) |
                   (enable ? APIC_BASE_ENABLE : 0);
    if (was_enabled && !enable) {
        regs_reset(s);
        s->lvt[LVT_LINT0] = LVT_RESET;
        s->cpu->cpuid_apic = false;
    }
    remap(s);
    update_intr(s);
    return true;
}

static void lint_set_level(void *opaque, int pin, bool level)
{
    struct lapic *s = opaque;
    bool rising = level && !s->lint_level[pin];
    s->lint_level[pin] = level;
    if (rising) {
        if (!hw_enabled(s)) {
            if (pin == 1)
                cpu_raise_nmi(s->cpu);   /* LINT1 is the NMI pin */
        } else {
            lvt_fire(s, pin ? LVT_LINT1 : LVT_LINT0);
        }
    }
    update_intr(s);
}

struct irq_line *lapic_lint(struct lapic *s, int n)
{
    return n >= 0 && n < 2 ? &s->lint_in[n] : NULL;
}

static void lapic_reset(void *opaque)
{
    struct lapic *s = opaque;
    s->apic_base = APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
    regs_reset(s);
    s->lvt[LVT_LINT0] = LVT0_RESET_BSP;
    s->cpu->cpuid_apic = true;
    remap(s);
    update_intr(s);
}

static const struct state_field lapic_fields[] = {
    STATE_BOOL_ARRAY(struct lapic, lint_level),
    STATE_U32(struct lapic, apic_base),
    STATE_U8(struct lapic, id),
    STATE_U8(struct lapic, tpr),
    STATE_U32(struct lapic, ldr),
    STATE_U32(struct lapic, dfr),
    STATE_U32(struct lapic, svr),
    STATE_ARRAY(struct lapic, irr),
    STATE_ARRAY(struct lapic, isr),
    STATE_ARRAY(struct lapic, tmr),
    STATE_U32(struct lapic, esr),
    STATE_U32(struct lapic, esr_pending),
    STATE_U32(struct lapic, icr_low),
    STATE_U32(struct lapic, icr_high),
    STATE_ARRAY(struct lapic, lvt),
    STATE_U32(struct lapic, timer_initial),
    STATE_U32(struct lapic, timer_divide),
    STATE_U64(struct lapic, timer_deadline),
};
static const struct state_desc lapic_state = STATE_DESC("lapic", 1, lapic_fields);

/* The page mapping, the CPU's CPUID view and its INTR line follow from the
 * registers. */
static int lapic_post_load(void *opaque)
{
    struct lapic *s = opaque;
    s->cpu->cpuid_apic = hw_enabled(s);
    s->cpu->cpuid_apic_id = s->id;
    remap(s);
    update_intr(s);
    return 0;
}

static const struct device_ops lapic_device_ops = {
    .name = "lapic",
    .state = &lapic_state,
    .post_load = lapic_post_load,
    .reset = lapic_reset,
    .next_event = lapic_next_event,
    .destroy = free,
};

int lapic_create(struct machine *m, struct pic8259 *pic, struct lapic **out)
{
    struct lapic *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->machine = m;
    s->cpu = &m->cpu;
    s->pic = pic;
    for (int n = 0; n < 2; n++)
        s->lint_in[n] = (struct irq_line){ .set_level = lint_set_level, .opaque = s, .pin = n };
    if (machine_add_device(m, &lapic_device_ops, s) != 0) {
        free(s);
        return -1;
    }
    m->cpu.intr_ack = lapic_intr_ack;
    m->cpu.intr_opaque = s;
    m->cpu.msr_hook = lapic_msr;
    m->cpu.msr_opaque = s;
    lapic_reset(s);
    if (out)
        *out = s;
    return 0;
}
