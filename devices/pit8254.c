/* devices/pit8254.c: the Intel 8254 programmable interval timer and the
 * PC's port 0x61 (system control port B), as one device.
 *
 *   0x40-0x42  counters 0-2 (count writes, count/status reads)
 *   0x43       control word, counter latch and read-back commands
 *   0x61       bit 0 counter 2 gate, bit 1 speaker data enable, bits 2-3
 *              parity/IOCHK check enables (stored only), bit 4 refresh
 *              request toggle, bit 5 counter 2 OUT (bits 4-5 read-only)
 *
 * Counter 0 (gate tied high) drives the irq line (IRQ 0), counter 1 (gate
 * high) is the DRAM refresh counter and drives nothing, counter 2's gate is
 * port 0x61 bit 0 and its OUT is read back in bit 5 (and, ANDed with bit 1,
 * is the speaker signal). Modelled: all six modes with their gate behaviour,
 * binary and BCD counting, LSB / MSB / LSB-then-MSB access, the counter
 * latch and read-back commands (status byte with OUT and null count), count
 * 0 meaning 65536 (10000 in BCD).
 *
 * The speaker (OUT2 AND port 0x61 bit 1) is reported to m->speaker
 * (core/speaker.h) whenever it changes: a square wave for mode 3 with the
 * gate open (and its successor, when a new count waits for the reload), a
 * level otherwise (with the one change a mode 0/1 count brings at terminal
 * count). Mode 2's one-clock pulses and mode 4/5 strobes are reported as the
 * level between them: they are clicks, not tones.
 *
 * Time: the 1193182 Hz input clock is derived from virtual time by exact
 * integer arithmetic, clock edge c happening at ceil(c * 1e9 / 1193182) ns.
 * Nothing accumulates: a counting element is described by the count it was
 * loaded with and the clock edge it was loaded on (a "segment"), and its
 * value and OUT at any time are computed from the edges elapsed since then.
 * As on the chip, a count written to the count register reaches the
 * counting element on the first clock edge after the write (the datasheet's
 * "N+1 clocks" of mode 0). Invariants:
 *   - a counter is either not counting (value frozen in held_value, OUT in
 *     held_out: after reset, after a control word, modes 1/5 before their
 *     trigger, modes 2/3 with gate low) or counting from (count, start);
 *   - in modes 2/3 a count written while counting waits in (next_count,
 *     next_start) until the end of the current period (the datasheet loads
 *     it at the next reload; for mode 3 we wait for the end of the whole
 *     period, not the half period);
 *   - modes 0/4 with gate low keep counting_d frozen (suspended).
 *
 * IRQ 0 follows counter 0's OUT as the datasheet defines it. Mode 2 is low
 * for one clock before each reload and high otherwise, mode 3 is a square
 * wave; both give the PIC one rising edge per period, at the reload, and
 * keep the line high long enough for the PIC (which drops a request whose
 * line falls before INTA) to see it. After reset the counters are idle with
 * OUT low; a control word puts OUT into the mode's initial state (low in
 * mode 0, high otherwise), as on the chip.
 *
 * next_event reports the next change of IRQ 0 (TIME_NEVER when counter 0
 * has none coming). When the guest reprograms counter 0, the machine has
 * already noted the old deadline: pit_deadline_changed() tells it
 * (machine_timer_changed) so next_event runs before the next instruction.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define PIT_BASE        0x40
#define PIT_PORT_B      0x61
#define PIT_HZ          1193182u
#define NS_PER_SEC      1000000000u
#define PIT_NEVER       UINT64_MAX   /* clock edge that never comes */
#define REFRESH_CLOCKS  18u          /* 18 clocks = 15.085 us: the BIOS's refresh period */

enum { ACCESS_LATCH = 0, ACCESS_LSB = 1, ACCESS_MSB = 2, ACCESS_WORD = 3 };

/* port 0x61 */
enum { PORTB_GATE2 = 1u << 0, PORTB_SPEAKER = 1u << 1, PORTB_WRITABLE = 0x0F,
       PORTB_REFRESH = 1u << 4, PORTB_OUT2 = 1u << 5 };

/* status byte (read-back) */
enum { STATUS_OUT = 1u << 7, STATUS_NULL_COUNT = 1u << 6 };

struct pit_counter {
    /* programming (control word) */
    uint8_t  mode_bits;         /* control word bits 3-1 as written (6, 7 alias 2, 3) */
    uint8_t  mode;              /* effective mode 0-5 */
    uint8_t  access;            /* ACCESS_LSB / _MSB / _WORD */
    bool     bcd;
    bool     gate;              /* gate input level (counters 0, 1: always high) */

    /* count register */
    uint32_t count_reg;         /* 1..65536 (BCD: 1..10000) */
    bool     count_reg_valid;   /* a full count was written since the control word */
    bool     write_msb_next;    /* ACCESS_WORD: the next count byte is the MSB */
    uint8_t  write_lsb;         /* ACCESS_WORD: LSB waiting for its MSB */
    uint64_t null_until;        /* null count is set until this clock edge */

    /* counting element */
    bool     counting;
    uint32_t count;             /* count loaded into the counting element */
    uint64_t start;             /* clock edge on which it was loaded */
    bool     suspended;         /* modes 0/4, gate low: counting stopped at suspended_d */
    uint64_t suspended_d;
    bool     out_before_start;  /* OUT between the write and the load edge */
    uint32_t value_before_start;/* value read between the write and the load edge */
    bool     next_pending;      /* modes 2/3: a new count waits for the reload */
    uint32_t next_count;
    uint64_t next_start;
    bool     held_out;          /* OUT when not counting */
    uint32_t held_value;        /* counting element when not counting (binary, 0..65535) */

    /* reads */
    bool     read_msb_next;     /* ACCESS_WORD: the next read (live or latched) is the MSB */
    bool     count_latched;
    uint16_t latched_count;     /* as the guest reads it (BCD already applied) */
    bool     status_latched;
    uint8_t  latched_status;
};

struct pit8254 {
    struct machine    *machine;
    struct irq_line   *irq;         /* counter 0 OUT; may be NULL */
    bool               irq_level;   /* last level driven on irq */
    uint64_t           irq_clock;   /* clock edge irq_level was computed for */
    struct pit_counter counter[3];
    uint8_t            port_b;      /* port 0x61 bits 0-3 */
    struct speaker_change speaker_last;  /* last reported (host side, not saved) */
    bool               speaker_reported;
};

/* ---- clock arithmetic (exact, overflow-free for any 64-bit time) ---- */

/* Clock edges that happened in (0, t_ns]. */
static uint64_t pit_clock_at(uint64_t t_ns)
{
    return t_ns / NS_PER_SEC * PIT_HZ + t_ns % NS_PER_SEC * PIT_HZ / NS_PER_SEC;
}

/* Virtual time of clock edge c: the smallest t with pit_clock_at(t) >= c. */
static uint64_t pit_time_of_clock(uint64_t c)
{
    if (c == PIT_NEVER || c / PIT_HZ >= UINT64_MAX / NS_PER_SEC)
        return TIME_NEVER;
    return c / PIT_HZ * NS_PER_SEC + (c % PIT_HZ * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static uint32_t bcd_to_bin16(uint16_t v)
{
    return (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u + (v & 15);
}

static uint16_t bin_to_bcd16(uint32_t v)
{
    v %= 10000;
    return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}

/* ---- one counter as a function of elapsed clocks d (d = 0: load edge) ---- */

static uint32_t counter_modulus(const struct pit_counter *c)
{
    return c->bcd ? 10000u : 65536u;
}

static bool mode_out(uint8_t mode, uint32_t n, uint64_t d)
{
    switch (mode) {
    case 0:
    case 1:
        return d >= n;                  /* low while counting, high at terminal count */
    case 2:
        return n < 2 || d % n != n - 1; /* low while the count is 1 */
    case 3:
        return n < 2 || d % n < (n + 1) / 2;
    default:                            /* 4, 5: low for the one clock at count 0 */
        return d != n;
    }
}

/* Smallest d' > d where the OUT changes, or PIT_NEVER. */
static uint64_t mode_next_change(uint8_t mode, uint32_t n, uint64_t d)
{
    uint64_t base = n ? d - d % n : 0;
    switch (mode) {
    case 0:
    case 1:
        return d < n ? n : PIT_NEVER;
    case 2:
        if (n < 2)
            return PIT_NEVER;
        return d % n < n - 1 ? base + n - 1 : base + n;
    case 3:
        if (n < 2)
            return PIT_NEVER;
        return d % n < (n + 1) / 2 ? base + (n + 1) / 2 : base + n;
    default:
        return d < n ? n : d == n ? n + 1 : PIT_NEVER;
    }
}

/* The counting element's value (binary, 0..modulus-1). */
static uint32_t mode_value(uint8_t mode, uint32_t n, uint64_t d, uint32_t modulus)
{
    switch (mode) {
    case 2:
        return n - (uint32_t)(d % n);               /* n, n-1, ..., 1, reload */
    case 3:
        /* decrements by two; an odd count reads even (low bit not shown) */
        return (n - (uint32_t)(d * 2 % n)) & ~1u;
    default:                                        /* wraps after terminal count */
        return (uint32_t)((n + modulus - d % modulus) % modulus);
    }
}

/* Promote a count waiting for the reload once its load edge has come. */
static void counter_advance(struct pit_counter *c, uint64_t clk)
{
    if (c->next_pending && clk >= c->next_start) {
        c->count = c->next_count;
        c->start = c->next_start;
        c->next_pending = false;
    }
}

/* Elapsed clocks since the load edge; false before the load edge. */
static bool counter_elapsed(const struct pit_counter *c, uint64_t clk, uint64_t *d)
{
    if (c->suspended) {
        *d = c->suspended_d;
        return true;
    }
    if (clk < c->start)
        return false;
    *d = clk - c->start;
    return true;
}

static bool counter_out(struct pit_counter *c, uint64_t clk)
{
    counter_advance(c, clk);
    if (!c->counting)
        return c->held_out;
    uint64_t d;
    if (!counter_elapsed(c, clk, &d))
        return c->out_before_start;
    return mode_out(c->mode, c->count, d);
}

static uint32_t counter_value(struct pit_counter *c, uint64_t clk)
{
    counter_advance(c, clk);
    if (!c->counting)
        return c->held_value;
    uint64_t d;
    if (!counter_elapsed(c, clk, &d))
        return c->value_before_start;
    return mode_value(c->mode, c->count, d, counter_modulus(c)) & 0xFFFF;
}

/* The value as the guest reads it (BCD applied). */
static uint16_t counter_read_value(struct pit_counter *c, uint64_t clk)
{
    uint32_t v = counter_value(c, clk);
    return c->bcd ? bin_to_bcd16(v) : (uint16_t)v;
}

/* start + d, or PIT_NEVER if d is PIT_NEVER (or the sum does not fit). */
static uint64_t clock_after(uint64_t start, uint64_t d)
{
    return d == PIT_NEVER || d >= PIT_NEVER - start ? PIT_NEVER : start + d;
}

/* Next clock edge after clk on which OUT changes, or PIT_NEVER. */
static uint64_t counter_next_change(struct pit_counter *c, uint64_t clk)
{
    counter_advance(c, clk);
    if (!c->counting || c->suspended)
        return PIT_NEVER;
    uint64_t d, next;
    if (!counter_elapsed(c, clk, &d)) {
        /* before the load edge: the change at the load, or the first one after */
        next = mode_out(c->mode, c->count, 0) != c->out_before_start
                   ? c->start
                   : clock_after(c->start, mode_next_change(c->mode, c->count, 0));
    } else {
        next = clock_after(c->start, mode_next_change(c->mode, c->count, d));
    }
    if (c->next_pending && next > c->next_start) {
        /* the reload comes first (only with a period of 1: no edges) */
        bool out_then = mode_out(c->mode, c->count, c->next_start - 1 - c->start);
        if (out_then != mode_out(c->mode, c->next_count, 0))
            return c->next_start;
        return clock_after(c->next_start, mode_next_change(c->mode, c->next_count, 0));
    }
    return next;
}

/* Start counting count from the edge after clk (OUT until then: out_now). */
static void counter_load(struct pit_counter *c, uint64_t clk, uint32_t count)
{
    bool out_now = counter_out(c, clk);
    /* Until the load edge a real 8254 still shows the old value, but one ISA
     * I/O cycle (about 1 us) outlasts a PIT clock, so software never sees it
     * there (Linux's fast TSC calibration relies on exactly that); here two
     * port reads take nanoseconds, so read the new count at once, as QEMU's
     * PIT does. */
    c->value_before_start = count & 0xFFFFu;
    c->out_before_start = out_now;
    c->counting = true;
    c->count = count;
    c->start = clk + 1;
    c->suspended = false;
    c->next_pending = false;
    if (c->null_until > c->start)
        c->null_until = c->start;
}

/* Stop the counting element where it is (control word, gate low in 2/3). */
static void counter_hold(struct pit_counter *c, uint64_t clk, bool out)
{
    c->held_value = counter_value(c, clk);
    c->held_out = out;
    c->counting = false;
    c->suspended = false;
    c->next_pending = false;
}

/* A complete count arrived in the count register. */
static void counter_count_written(struct pit_counter *c, uint64_t clk, uint32_t raw)
{
    uint32_t n = c->bcd ? bcd_to_bin16((uint16_t)raw) % 10000u : raw;
    if (n == 0)
        n = counter_modulus(c);
    c->count_reg = n;
    c->count_reg_valid = true;
    c->null_until = PIT_NEVER;

    switch (c->mode) {
    case 0:
    case 4:
        /* loaded on the next edge, counting only while the gate is high;
         * mode 0 OUT goes low at once, mode 4 OUT stays high */
        counter_load(c, clk, n);
        if (c->mode == 0)
            c->out_before_start = false;
        if (!c->gate) {
            c->suspended = true;
            c->suspended_d = 0;
        }
        break;
    case 1:
    case 5:
        /* waits for a gate trigger; a running one-shot keeps its count */
        break;
    case 2:
    case 3:
        if (!c->gate)
            break;                  /* loaded when the gate rises */
        if (c->counting && clk >= c->start) {
            /* takes effect at the reload that ends the current period */
            uint64_t d = clk - c->start;
            c->next_pending = true;
            c->next_count = n;
            c->next_start = c->start + (d / c->count + 1) * c->count;
            c->null_until = c->next_start;
        } else {
            counter_load(c, clk, n);
            c->out_before_start = true;
        }
        break;
    }
}

static void counter_set_gate(struct pit_counter *c, uint64_t clk, bool gate)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    switch (c->mode) {
    case 0:
    case 4:
        if (!c->counting)
            break;
        if (!gate) {
            uint64_t d;
            c->suspended_d = counter_elapsed(c, clk, &d) ? d : 0;
            c->suspended = true;
        } else if (c->suspended) {
            /* the next edge continues from where it stopped */
            c->start = clk - c->suspended_d;
            c->suspended = false;
        }
        break;
    case 1:
    case 5:
        if (gate && c->count_reg_valid)
            counter_load(c, clk, c->count_reg);     /* (re)trigger */
        break;
    case 2:
    case 3:
        if (!gate) {
            if (c->counting)
                counter_hold(c, clk, true);         /* OUT forced high */
            else
                c->held_out = true;
        } else if (c->count_reg_valid) {
            counter_load(c, clk, c->count_reg);     /* restart the period */
            c->out_before_start = true;
        }
        break;
    }
}

static void counter_control_word(struct pit_counter *c, uint64_t clk, uint8_t cw)
{
    uint8_t mode_bits = cw >> 1 & 7;
    c->access = cw >> 4 & 3;
    c->mode_bits = mode_bits;
    c->mode = mode_bits >= 6 ? mode_bits - 4 : mode_bits;
    c->bcd = cw & 1;
    /* all control logic resets; OUT goes to the mode's initial state */
    counter_hold(c, clk, c->mode != 0);
    c->count_reg_valid = false;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
    c->null_until = PIT_NEVER;
}

static void counter_latch_count(struct pit_counter *c, uint64_t clk)
{
    if (c->count_latched)
        return;                     /* the first latch holds until read */
    c->latched_count = counter_read_value(c, clk);
    c->count_latched = true;
}

static void counter_latch_status(struct pit_counter *c, uint64_t clk)
{
    if (c->status_latched)
        return;
    uint8_t s = (uint8_t)(c->access << 4 | c->mode_bits << 1 | (c->bcd ? 1 : 0));
    if (counter_out(c, clk))
        s |= STATUS_OUT;
    if (clk < c->null_until)
        s |= STATUS_NULL_COUNT;
    c->latched_status = s;
    c->status_latched = true;
}

static uint8_t counter_read(struct pit_counter *c, uint64_t clk)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    /* the latch, when set, stands in for the counting element until the
     * bytes the access mode asks for have been read */
    uint16_t v = c->count_latched ? c->latched_count : counter_read_value(c, clk);
    bool msb;
    bool last = true;
    switch (c->access) {
    case ACCESS_LSB:
        msb = false;
        break;
    case ACCESS_MSB:
        msb = true;
        break;
    default:
        msb = c->read_msb_next;
        last = msb;
        c->read_msb_next = !msb;
        break;
    }
    if (last)
        c->count_latched = false;
    return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void counter_write(struct pit_counter *c, uint64_t clk, uint8_t v)
{
    switch (c->access) {
    case ACCESS_LSB:
        counter_count_written(c, clk, v);
        break;
    case ACCESS_MSB:
        counter_count_written(c, clk, (uint32_t)v << 8);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = v;
            c->write_msb_next = true;
            c->null_until = PIT_NEVER;
            /* mode 0: writing the first byte stops the count */
            if (c->mode == 0 && c->counting)
                counter_hold(c, clk, counter_out(c, clk));
        } else {
            c->write_msb_next = false;
            counter_count_written(c, clk, (uint32_t)v << 8 | c->write_lsb);
        }
        break;
    }
}

/* ---- the device ---- */

static uint64_t pit_now_clock(struct pit8254 *p)
{
    return pit_clock_at(machine_now(p->machine));
}

/* Drive IRQ 0 with counter 0's OUT at clock clk. Should the machine come
 * late and OUT have gone low and high again since the last look (mode 2's
 * one-clock low), the rising edge is still delivered as a pulse. */
static void pit_update_irq(struct pit8254 *p, uint64_t clk)
{
    struct pit_counter *c0 = &p->counter[0];
    bool missed = p->irq_level && clk > p->irq_clock &&
                  counter_next_change(c0, p->irq_clock) <= clk;
    bool level = counter_out(c0, clk);
    p->irq_clock = clk;
    if (missed && level)
        irq_set_level(p->irq, false);
    if (level != p->irq_level || missed) {
        p->irq_level = level;
        irq_set_level(p->irq, level);
    }
}

static uint64_t pit_deadline(struct pit8254 *p, uint64_t clk)
{
    return pit_time_of_clock(counter_next_change(&p->counter[0], clk));
}

/* Stand-in for a machine_timer_changed() kick: counter 0 was reprogrammed
 * while the machine holds our old deadline (and the nearest of all, for
 * this CPU slice and a HLT in it). Lower our deadline and end the slice after this instruction,
 * as machine_request_exit() does, so the loop picks the new one up. */
static void pit_deadline_changed(struct pit8254 *p, uint64_t clk)
{
    machine_timer_changed(p->machine, p, pit_deadline(p, clk));
}

/* What the speaker does from clock clk on, as core/speaker.h describes it. */
static struct speaker_change pit_speaker_now(struct pit8254 *p, uint64_t clk, uint64_t now_ns)
{
    struct pit_counter *c = &p->counter[2];
    struct speaker_change s = { .at_ns = now_ns };
    if (!(p->port_b & PORTB_SPEAKER))
        return s;                   /* data disabled: the cone rests */
    counter_advance(c, clk);
    if (c->counting && !c->suspended && c->mode == 3 && c->count >= 2) {
        s.period_clocks = c->count;
        s.start_clock = c->start;
        return s;
    }
    s.level = counter_out(c, clk);
    return s;
}

static bool speaker_same(const struct speaker_change *a, const struct speaker_change *b)
{
    return a->period_clocks == b->period_clocks && a->level == b->level
        && (a->period_clocks == 0 || a->start_clock == b->start_clock);
}

static void pit_speaker_push(struct pit8254 *p, struct speaker_change s)
{
    if (p->speaker_reported && speaker_same(&s, &p->speaker_last))
        return;
    speaker_push(&p->machine->speaker, s);
    p->speaker_last = s;
    p->speaker_reported = true;
}

/* Report the speaker after a port write: its state now and, when one is
 * already known, the change counter 2 will make on its own (a count
 * waiting for the reload in mode 3, terminal count in modes 0 and 1). */
static void pit_speaker_update(struct pit8254 *p, uint64_t clk)
{
    struct pit_counter *c = &p->counter[2];
    pit_speaker_push(p, pit_speaker_now(p, clk, machine_now(p->machine)));
    if (!(p->port_b & PORTB_SPEAKER) || !c->counting || c->suspended)
        return;
    if (c->mode == 3 && c->next_pending && c->next_count >= 2) {
        pit_speaker_push(p, (struct speaker_change){
            .at_ns = pit_time_of_clock(c->next_start),
            .period_clocks = c->next_count, .start_clock = c->next_start });
    } else if (c->mode <= 1) {
        uint64_t edge = counter_next_change(c, clk);
        if (edge != PIT_NEVER)
            pit_speaker_push(p, (struct speaker_change){
                .at_ns = pit_time_of_clock(edge), .level = !counter_out(c, clk) });
    }
}

static void pit_write_control(struct pit8254 *p, uint64_t clk, uint8_t v)
{
    unsigned sel = v >> 6;
    if (sel == 3) {
        /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
        for (int i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & 0x10))
                counter_latch_status(&p->counter[i], clk);
            if (!(v & 0x20))
                counter_latch_count(&p->counter[i], clk);
        }
        return;
    }
    struct pit_counter *c = &p->counter[sel];
    if ((v >> 4 & 3) == ACCESS_LATCH)
        counter_latch_count(c, clk);
    else
        counter_control_word(c, clk, v);
}

static void pit_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct pit8254 *p = opaque;
    uint64_t clk = pit_now_clock(p);
    uint8_t v = (uint8_t)value;
    (void)size;
    if (port == PIT_PORT_B) {
        p->port_b = v & PORTB_WRITABLE;
        counter_set_gate(&p->counter[2], clk, v & PORTB_GATE2);
        pit_speaker_update(p, clk);
        return;
    }
    pit_update_irq(p, clk);         /* edges due before the write */
    if (port == PIT_BASE + 3)
        pit_write_control(p, clk, v);
    else
        counter_write(&p->counter[port - PIT_BASE], clk, v);
    pit_update_irq(p, clk);
    pit_deadline_changed(p, clk);
    if (port == PIT_BASE + 2 || (port == PIT_BASE + 3 && (v >> 6 == 2 || v >> 6 == 3)))
        pit_speaker_update(p, clk);
}

static uint32_t pit_port_read(void *opaque, uint16_t port, int size)
{
    struct pit8254 *p = opaque;
    uint64_t clk = pit_now_clock(p);
    (void)size;
    if (port == PIT_PORT_B) {
        uint8_t v = p->port_b;
        if (clk / REFRESH_CLOCKS & 1)
            v |= PORTB_REFRESH;
        if (counter_out(&p->counter[2], clk))
            v |= PORTB_OUT2;
        return v;
    }
    if (port == PIT_BASE + 3)
        return 0xFF;                /* the control register is write-only */
    return counter_read(&p->counter[port - PIT_BASE], clk);
}

static uint64_t pit_next_event(void *opaque, uint64_t now_ns)
{
    struct pit8254 *p = opaque;
    uint64_t clk = pit_clock_at(now_ns);
    pit_update_irq(p, clk);
    return pit_deadline(p, clk);
}

static void pit_reset(void *opaque)
{
    struct pit8254 *p = opaque;
    for (int i = 0; i < 3; i++) {
        p->counter[i] = (struct pit_counter){
            .access = ACCESS_WORD, .gate = i != 2, .null_until = PIT_NEVER,
        };
    }
    p->port_b = 0;
    p->irq_level = false;
    p->irq_clock = 0;
    irq_set_level(p->irq, false);
    pit_speaker_update(p, 0);
}

static const struct ioport_ops pit_port_ops = { pit_port_read, pit_port_write };

/* ---- save state ---- */

/* Times (start, null_until, ...) are absolute clock edges of the virtual
 * clock, which is saved with the machine: they are saved as they are. */
static const struct state_field pit_counter_fields[] = {
    STATE_U8(struct pit_counter, mode_bits),
    STATE_U8(struct pit_counter, mode),
    STATE_U8(struct pit_counter, access),
    STATE_BOOL(struct pit_counter, bcd),
    STATE_BOOL(struct pit_counter, gate),
    STATE_U32(struct pit_counter, count_reg),
    STATE_BOOL(struct pit_counter, count_reg_valid),
    STATE_BOOL(struct pit_counter, write_msb_next),
    STATE_U8(struct pit_counter, write_lsb),
    STATE_U64(struct pit_counter, null_until),
    STATE_BOOL(struct pit_counter, counting),
    STATE_U32(struct pit_counter, count),
    STATE_U64(struct pit_counter, start),
    STATE_BOOL(struct pit_counter, suspended),
    STATE_U64(struct pit_counter, suspended_d),
    STATE_BOOL(struct pit_counter, out_before_start),
    STATE_U32(struct pit_counter, value_before_start),
    STATE_BOOL(struct pit_counter, next_pending),
    STATE_U32(struct pit_counter, next_count),
    STATE_U64(struct pit_counter, next_start),
    STATE_BOOL(struct pit_counter, held_out),
    STATE_U32(struct pit_counter, held_value),
    STATE_BOOL(struct pit_counter, read_msb_next),
    STATE_BOOL(struct pit_counter, count_latched),
    STATE_U16(struct pit_counter, latched_count),
    STATE_BOOL(struct pit_counter, status_latched),
    STATE_U8(struct pit_counter, latched_status),
};
static const struct state_desc pit_counter_state = STATE_DESC("pit_counter", 1, pit_counter_fields);

static const struct state_field pit_fields[] = {
    STATE_BOOL(struct pit8254, irq_level),
    STATE_U64(struct pit8254, irq_clock),
    STATE_STRUCT_ARRAY(struct pit8254, counter, pit_counter_state),
    STATE_U8(struct pit8254, port_b),
};
static const struct state_desc pit_state = STATE_DESC("pit8254", 1, pit_fields);

/* Counts are divisors: a loaded zero (or an impossible mode) is refused. */
static int pit_post_load(void *opaque)
{
    struct pit8254 *p = opaque;
    for (int i = 0; i < 3; i++) {
        const struct pit_counter *c = &p->counter[i];
        if (c->mode > 5 || c->access > ACCESS_WORD || c->count_reg > 65536
            || c->count > 65536 || c->next_count > 65536
            || (c->counting && c->count == 0) || (c->next_pending && c->next_count == 0))
            return -1;
    }
    irq_set_level(p->irq, p->irq_level);
    p->speaker_reported = false;    /* report the loaded state afresh */
    pit_speaker_update(p, pit_now_clock(p));
    return 0;
}

static const struct device_ops pit8254_device_ops = {
    .name = "pit8254",
    .state = &pit_state,
    .post_load = pit_post_load,
    .reset = pit_reset,
    .next_event = pit_next_event,
    .destroy = free,
};

int pit8254_create(struct machine *m, struct irq_line *irq, struct pit8254 **out)
{
    if (out)
        *out = NULL;
    struct pit8254 *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    p->machine = m;
    p->irq = irq;
    pit_reset(p);
    if (ioport_register(&m->io, PIT_BASE, 4, &pit_port_ops, p) != 0) {
        free(p);
        return -1;
    }
    if (ioport_register(&m->io, PIT_PORT_B, 1, &pit_port_ops, p) != 0) {
        ioport_unregister(&m->io, PIT_BASE, 4);
        free(p);
        return -1;
    }
    if (machine_add_device(m, &pit8254_device_ops, p) != 0) {
        ioport_unregister(&m->io, PIT_BASE, 4);
        ioport_unregister(&m->io, PIT_PORT_B, 1);
        free(p);
        return -1;
    }
    if (out)
        *out = p;
    return 0;
}
