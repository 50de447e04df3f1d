/* devices/pic8259.c: the PC's two cascaded Intel 8259A interrupt controllers
 * plus the PIIX3 edge/level control registers (ELCR), as one device.
 *
 *   0x20-0x21    master: IRQ 0-7, its INT output drives the CPU's INTR
 *   0xA0-0xA1    slave:  IRQ 8-15, its INT output drives master IR2
 *   0x4D0/0x4D1  ELCR for master/slave: bit set = that input is level
 *                triggered (IRQ 0, 1, 2, 8 and 13 are always edge)
 *
 * Behaviour follows the 8259A datasheet: ICW1-ICW4 (single/cascade, ICW4
 * needed, vector base = ICW2 & 0xF8, LTIM, AEOI, SFNM; MCS-80 mode and
 * buffered mode are accepted and ignored), OCW1 (IMR), OCW2 (all seven EOI
 * and rotation commands), OCW3 (IRR/ISR read select, poll, special mask).
 *
 * Invariants and modelling choices:
 *   - line holds each input's current level. An input's request (IRR bit)
 *     is set by a rising edge (edge mode) or by the level (level mode), and
 *     in both modes is cleared when the line goes low: on the real chip the
 *     request must stay high until acknowledged, or the acknowledge finds
 *     nothing and returns the spurious vector (base + 7, ISR untouched).
 *     So a device must hold its line high until the guest clears the
 *     cause; a zero-width pulse (high then low in one call) is lost.
 *   - The cascade is wired as on a PC whatever ICW1 SNGL / ICW3 say: the
 *     slave's INT is master IR2. An acknowledge of IR2 acknowledges the
 *     slave in the same call; the slave's INT is modelled as dropping during
 *     the INTA cycle, so a further slave request is a new edge on IR2.
 *   - Special mask mode: only IMR and the in-service level itself inhibit;
 *     priority against other ISR bits is not enforced (datasheet: "enables
 *     interrupts from all other levels, lower as well as higher").
 *   - ICW1 clears IMR, ISR and the edge latches (requests of edge inputs
 *     already high), resets priority to fixed, SMM off, read IRR, and the
 *     ICW4 features if IC4 = 0. (The datasheet does not say ISR is cleared;
 *     doing so, as QEMU does, keeps a re-initialised chip usable.)
 *   - After reset (power-on) both chips are in QEMU's post-reset state: not
 *     initialised by ICW, IMR = 0 (real hardware leaves it undefined until
 *     ICW1), vector base 0, IR7 lowest priority, read select IRR, ELCR 0.
 *   - The device keeps intr_level = master INT; it calls irq_set_level on
 *     the INTR line it was given only when that changes (and on reset).
 *   - Input IRQ 2 is the cascade: pic8259_irq(pic, 2) is NULL (on an AT
 *     bus ISA IRQ 2 is routed to IRQ 9; wire such a device to 9).
 *   - Port accesses wider than a byte act on the low byte, except ELCR,
 *     where a word at 0x4D0 covers both registers.
 *
 * Usage (board): the INTR output is an ordinary irq_line whose receiver
 * is the CPU, e.g. set_level = a two-line adapter calling cpu_set_intr():
 *   struct pic8259 *pic;
 *   pic8259_create(m, &cpu_intr_line, &pic);
 *   m->cpu.intr_ack = pic8259_intr_ack;  m->cpu.intr_opaque = pic;
 *   uart16550_create(m, 0x3F8, pic8259_irq(pic, 4), backend);
 * CPU-less (tests): pic = pic8259_new(&io, &intr_line); ... pic8259_free(pic).
 */
#include <stdlib.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xA0
#define PIC_ELCR_BASE   0x4D0
#define PIC_CASCADE_IR  2

/* ICW1 / ICW4 / OCW bits */
#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define ICW1_INIT  0x10
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define OCW3_SEL   0x08   /* with bit 4 clear: this is OCW3, not OCW2 */
#define OCW3_RIS   0x01
#define OCW3_RR    0x02
#define OCW3_POLL  0x04
#define OCW3_SMM   0x20
#define OCW3_ESMM  0x40

enum pic_init {
    PIC_READY,      /* operational: odd port is OCW1 */
    PIC_WANT_ICW2,
    PIC_WANT_ICW3,
    PIC_WANT_ICW4,
};

struct pic_chip {
    uint8_t irr;                /* requests */
    uint8_t isr;                /* in service */
    uint8_t imr;                /* masked */
    uint8_t line;               /* current input levels */
    uint8_t elcr;               /* level-triggered inputs (ELCR), masked by elcr_mask */
    uint8_t elcr_mask;          /* ELCR bits that exist */
    uint8_t vector_base;        /* ICW2 & 0xF8 */
    uint8_t lowest;             /* IR with the lowest priority (7 = fixed priority) */
    uint8_t icw3;               /* stored only: the cascade is hard-wired */
    enum pic_init init;
    bool    icw4_needed;        /* ICW1 IC4 */
    bool    single;             /* ICW1 SNGL */
    bool    ltim;               /* ICW1 LTIM: every input level triggered */
    bool    auto_eoi;           /* ICW4 AEOI */
    bool    sfnm;               /* ICW4 special fully nested mode */
    bool    rotate_aeoi;        /* OCW2 rotate in auto-EOI mode */
    bool    special_mask;       /* OCW3 special mask mode */
    bool    read_isr;           /* OCW3 RIS: even-port reads return ISR, else IRR */
    bool    poll;               /* OCW3 P: the next read is the poll word */
};

struct pic8259 {
    struct pic_chip  chip[2];       /* 0 master, 1 slave */
    struct irq_line  inputs[16];    /* IRQ 0-15 as handed to devices (2 unused) */
    struct irq_line *intr;          /* to the CPU's INTR; may be NULL */
    bool             intr_level;    /* master INT as last driven on intr */
};

static uint8_t chip_level_mask(const struct pic_chip *c)
{
    return c->ltim ? 0xFF : c->elcr;
}

/* Highest-priority IR among the bits of mask (non-zero). */
static int chip_highest(const struct pic_chip *c, uint8_t mask)
{
    for (int i = 1; i <= 8; i++) {
        int ir = (c->lowest + i) & 7;
        if (mask & (1u << ir))
            return ir;
    }
    return -1;
}

/* Priority rank of ir: 0 = highest. */
static int chip_rank(const struct pic_chip *c, int ir)
{
    return (ir - c->lowest - 1) & 7;
}

/* The IR this chip would present on INTA now, or -1 (its INT output low). */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
    uint8_t req = c->irr & ~c->imr;
    if (c->special_mask)
        req &= ~c->isr;
    if (!req)
        return -1;
    int ir = chip_highest(c, req);
    if (c->special_mask || !c->isr)
        return ir;
    int busy = chip_highest(c, c->isr);
    if (chip_rank(c, ir) < chip_rank(c, busy))
        return ir;
    /* SFNM: the slave may interrupt again while IR2 is in service; it did
     * its own nesting */
    if (is_master && c->sfnm && ir == PIC_CASCADE_IR && busy == PIC_CASCADE_IR)
        return ir;
    return -1;
}

static void chip_set_input(struct pic_chip *c, int ir, bool level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    bool was = c->line & bit;
    if (level) {
        c->line |= bit;
        if (!was || (chip_level_mask(c) & bit))
            c->irr |= bit;
    } else {
        c->line &= ~bit;
        c->irr &= ~bit;
    }
}

/* INTA on one chip for ir: in service (unless AEOI), request consumed. */
static void chip_ack(struct pic_chip *c, int ir)
{
    uint8_t bit = (uint8_t)(1u << ir);
    c->irr &= ~bit;
    if (chip_level_mask(c) & bit & c->line)
        c->irr |= bit;              /* level mode: the line still requests */
    if (c->auto_eoi) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)ir;
    } else {
        c->isr |= bit;
    }
}

/* Propagate slave INT to master IR2 and master INT to the CPU. */
static void pic_update(struct pic8259 *p)
{
    chip_set_input(&p->chip[0], PIC_CASCADE_IR, chip_pending(&p->chip[1], false) >= 0);
    bool level = chip_pending(&p->chip[0], true) >= 0;
    if (level != p->intr_level) {
        p->intr_level = level;
        irq_set_level(p->intr, level);
    }
}

static void pic_input_set_level(void *opaque, int pin, bool level)
{
    struct pic8259 *p = opaque;
    chip_set_input(&p->chip[pin >> 3], pin & 7, level);
    pic_update(p);
}

int pic8259_intr_ack(void *opaque)
{
    struct pic8259 *p = opaque;
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int vector;
    int ir = chip_pending(m, true);
    if (ir < 0) {
        vector = m->vector_base + 7;            /* spurious IRQ 7 */
    } else {
        chip_ack(m, ir);
        if (ir == PIC_CASCADE_IR) {
            int sir = chip_pending(s, false);
            if (sir < 0) {
                vector = s->vector_base + 7;    /* spurious IRQ 15 */
            } else {
                chip_ack(s, sir);
                vector = s->vector_base + sir;
            }
            chip_set_input(m, PIC_CASCADE_IR, false);   /* slave INT drops in INTA */
        } else {
            vector = m->vector_base + ir;
        }
    }
    pic_update(p);
    return vector;
}

static void chip_eoi(struct pic_chip *c, int ir, bool rotate)
{
    if (ir < 0)
        return;
    c->isr &= (uint8_t)~(1u << ir);
    if (rotate)
        c->lowest = (uint8_t)ir;
}

static void chip_write_ocw2(struct pic_chip *c, uint8_t v)
{
    int level = v & 7;
    int highest_isr = c->isr ? chip_highest(c, c->isr) : -1;
    switch (v >> 5) {
    case 0: c->rotate_aeoi = false; break;                  /* rotate in AEOI clear */
    case 1: chip_eoi(c, highest_isr, false); break;         /* non-specific EOI */
    case 2: break;                                          /* no operation */
    case 3: chip_eoi(c, level, false); break;               /* specific EOI */
    case 4: c->rotate_aeoi = true; break;                   /* rotate in AEOI set */
    case 5: chip_eoi(c, highest_isr, true); break;          /* rotate on non-specific EOI */
    case 6: c->lowest = (uint8_t)level; break;              /* set priority */
    case 7: chip_eoi(c, level, true); break;                /* rotate on specific EOI */
    }
}

static void chip_write_ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & OCW3_ESMM)
        c->special_mask = v & OCW3_SMM;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    c->poll = v & OCW3_POLL;
}

static void chip_write_icw1(struct pic_chip *c, uint8_t v)
{
    c->icw4_needed = v & ICW1_IC4;
    c->single = v & ICW1_SNGL;
    c->ltim = v & ICW1_LTIM;
    c->imr = 0;
    c->isr = 0;
    c->lowest = 7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    if (!c->icw4_needed) {
        c->auto_eoi = false;
        c->sfnm = false;
    }
    c->rotate_aeoi = false;
    /* edge sense reset: an edge input needs a new low-to-high transition */
    c->irr = c->line & chip_level_mask(c);
    c->init = PIC_WANT_ICW2;
}

static void chip_write_odd(struct pic_chip *c, uint8_t v)
{
    switch (c->init) {
    case PIC_READY:
        c->imr = v;
        break;
    case PIC_WANT_ICW2:
        c->vector_base = v & 0xF8;
        c->init = !c->single ? PIC_WANT_ICW3 : c->icw4_needed ? PIC_WANT_ICW4 : PIC_READY;
        break;
    case PIC_WANT_ICW3:
        c->icw3 = v;
        c->init = c->icw4_needed ? PIC_WANT_ICW4 : PIC_READY;
        break;
    case PIC_WANT_ICW4:
        c->auto_eoi = v & ICW4_AEOI;
        c->sfnm = v & ICW4_SFNM;
        c->init = PIC_READY;
        break;
    }
}

static void pic_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct pic8259 *p = opaque;
    struct pic_chip *c = &p->chip[port >= PIC_SLAVE_BASE];
    uint8_t v = (uint8_t)value;
    if (port & 1)
        chip_write_odd(c, v);
    else if (v & ICW1_INIT)
        chip_write_icw1(c, v);
    else if (v & OCW3_SEL)
        chip_write_ocw3(c, v);
    else
        chip_write_ocw2(c, v);
    pic_update(p);
}

/* Poll command: the read acts as an INTA on this chip alone. */
static uint8_t chip_poll(struct pic_chip *c, bool is_master)
{
    int ir = chip_pending(c, is_master);
    if (ir < 0)
        return 0;
    chip_ack(c, ir);
    return (uint8_t)(0x80 | ir);
}

static uint32_t pic_port_read(void *opaque, uint16_t port, int size)
{
    struct pic8259 *p = opaque;
    bool slave = port >= PIC_SLAVE_BASE;
    struct pic_chip *c = &p->chip[slave];
    if (c->poll) {
        c->poll = false;
        uint8_t v = chip_poll(c, !slave);
        pic_update(p);
        return v;
    }
    if (port & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint32_t elcr_port_read(void *opaque, uint16_t port, int size)
{
    struct pic8259 *p = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size && port + i < PIC_ELCR_BASE + 2; i++)
        v |= (uint32_t)p->chip[port + i - PIC_ELCR_BASE].elcr << (8 * i);
    return v;
}

static void elcr_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct pic8259 *p = opaque;
    for (int i = 0; i < size && port + i < PIC_ELCR_BASE + 2; i++) {
        struct pic_chip *c = &p->chip[port + i - PIC_ELCR_BASE];
        c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
        c->irr |= c->line & chip_level_mask(c);
    }
    pic_update(p);
}

static void pic_reset(void *opaque)
{
    struct pic8259 *p = opaque;
    for (int i = 0; i < 2; i++) {
        struct pic_chip *c = &p->chip[i];
        uint8_t line = c->line, mask = c->elcr_mask;
        /* lines stay as the devices drive them; a line already high needs
         * a new edge, as after ICW1 */
        *c = (struct pic_chip){ .line = line, .elcr_mask = mask, .lowest = 7 };
    }
    p->intr_level = false;
    irq_set_level(p->intr, false);
    pic_update(p);
}

static const struct ioport_ops pic_port_ops = { pic_port_read, pic_port_write };
static const struct ioport_ops elcr_port_ops = { elcr_port_read, elcr_port_write };

/* ---- save state ---- */

static const struct state_field pic_chip_fields[] = {
    STATE_U8(struct pic_chip, irr),
    STATE_U8(struct pic_chip, isr),
    STATE_U8(struct pic_chip, imr),
    STATE_U8(struct pic_chip, line),
    STATE_U8(struct pic_chip, elcr),
    STATE_U8(struct pic_chip, elcr_mask),
    STATE_U8(struct pic_chip, vector_base),
    STATE_U8(struct pic_chip, lowest),
    STATE_U8(struct pic_chip, icw3),
    STATE_INT(struct pic_chip, init),
    STATE_BOOL(struct pic_chip, icw4_needed),
    STATE_BOOL(struct pic_chip, single),
    STATE_BOOL(struct pic_chip, ltim),
    STATE_BOOL(struct pic_chip, auto_eoi),
    STATE_BOOL(struct pic_chip, sfnm),
    STATE_BOOL(struct pic_chip, rotate_aeoi),
    STATE_BOOL(struct pic_chip, special_mask),
    STATE_BOOL(struct pic_chip, read_isr),
    STATE_BOOL(struct pic_chip, poll),
};
static const struct state_desc pic_chip_state = STATE_DESC("pic_chip", 1, pic_chip_fields);

static const struct state_field pic_fields[] = {
    STATE_STRUCT_ARRAY(struct pic8259, chip, pic_chip_state),
    STATE_BOOL(struct pic8259, intr_level),
};
static const struct state_desc pic_state = STATE_DESC("pic8259", 1, pic_fields);

/* The CPU's INTR follows the loaded master INT. */
static int pic_post_load(void *opaque)
{
    struct pic8259 *p = opaque;
    for (int i = 0; i < 2; i++)
        if (p->chip[i].lowest > 7 || (unsigned)p->chip[i].init > PIC_WANT_ICW4)
            return -1;
    irq_set_level(p->intr, p->intr_level);
    pic_update(p);
    return 0;
}

static const struct device_ops pic8259_device_ops = {
    .name = "pic8259",
    .state = &pic_state,
    .post_load = pic_post_load,
    .reset = pic_reset,
    .destroy = free,
};

struct pic8259 *pic8259_new(struct ioport_map *io, struct irq_line *intr)
{
    struct pic8259 *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    /* check first: ioport has no unregister, so fail before registering any */
    static const uint16_t bases[] = { PIC_MASTER_BASE, PIC_SLAVE_BASE, PIC_ELCR_BASE };
    if (io->nranges + 3 > IOPORT_MAX_RANGES)
        goto fail;
    for (int i = 0; i < 3; i++)
        if (io->owner[bases[i]] || io->owner[bases[i] + 1])
            goto fail;
    p->intr = intr;
    p->chip[0].elcr_mask = 0xF8;    /* IRQ 0, 1, 2 are edge only */
    p->chip[1].elcr_mask = 0xDE;    /* IRQ 8 and 13 are edge only */
    for (int i = 0; i < 16; i++)
        p->inputs[i] = (struct irq_line){ .set_level = pic_input_set_level, .opaque = p, .pin = i };
    ioport_register(io, PIC_MASTER_BASE, 2, &pic_port_ops, p);
    ioport_register(io, PIC_SLAVE_BASE, 2, &pic_port_ops, p);
    ioport_register(io, PIC_ELCR_BASE, 2, &elcr_port_ops, p);
    pic_reset(p);
    return p;
fail:
    free(p);
    return NULL;
}

void pic8259_free(struct pic8259 *pic)
{
    free(pic);
}

int pic8259_create(struct machine *m, struct irq_line *intr, struct pic8259 **out)
{
    struct pic8259 *p = pic8259_new(&m->io, intr);
    if (out)
        *out = p;
    if (!p)
        return -1;
    if (machine_add_device(m, &pic8259_device_ops, p) != 0) {
        if (out)
            *out = NULL;
        return -1;  /* the port map still points at p: leaked, the machine is unusable */
    }
    return 0;
}

struct irq_line *pic8259_irq(struct pic8259 *pic, int irq)
{
    if (!pic || irq < 0 || irq > 15 || irq == PIC_CASCADE_IR)
        return NULL;
    return &pic->inputs[irq];
}
