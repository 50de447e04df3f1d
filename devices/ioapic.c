/* devices/ioapic.c: the Intel 82093AA I/O APIC at 0xFEC00000, with 24
 * interrupt inputs, delivering to the one local APIC (devices/lapic.c).
 *
 * Modelled (82093AA datasheet):
 *   - IOREGSEL (offset 0x00, 8 bits, readable) selects the register IOWIN
 *     (offset 0x10, 32 bits) reads and writes: 0x00 IOAPICID (bits 27:24
 *     writable), 0x01 IOAPICVER (0x00170011: 24 entries, version 0x11,
 *     read-only), 0x02 IOAPICARB (the arbitration ID, loaded from the ID
 *     when the ID is written), 0x10-0x3F the 24 redirection entries (low
 *     dword at 0x10 + 2n, high at 0x11 + 2n). Other registers read 0.
 *   - Redirection entry: vector, delivery mode, destination mode, polarity
 *     (stored), trigger mode, mask, destination (bits 63:56); delivery
 *     status (bit 12) reads idle, Remote IRR (bit 14) is read-only. Reset:
 *     every entry masked, the rest 0.
 *   - Edge-triggered pins deliver on a rising input while unmasked; an
 *     edge on a masked pin is lost (datasheet: "not delivered or held
 *     pending"). Level-triggered pins deliver while asserted, unmasked and
 *     Remote IRR clear; a fixed / lowest-priority delivery sets Remote IRR
 *     until the local APIC's EOI for that vector, after which a still
 *     asserted input is delivered again. Unmasking an asserted level pin
 *     delivers it.
 *   - Input levels are logical (asserted = true): the board's lines say
 *     "interrupt requested" whatever the electrical polarity, as in QEMU, so
 *     the polarity bit the guest programs (active low for PCI) is stored
 *     but not applied.
 * Not modelled: the 0x40 EOI register (a version 0x20 feature), the APIC
 * bus timing and arbitration, delivery to more than one CPU.
 */
#include <stdlib.h>

#include "core/machine.h"
#include "devices/device.h"
#include "devices/lapic.h"

#define IOAPIC_BASE          0xFEC00000u
#define IOAPIC_PAGE_SIZE     0x1000u
#define IOAPIC_PINS          24
#define IOAPIC_VERSION       0x00170011u

#define IOREGSEL             0x00
#define IOWIN                0x10

enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARB = 0x02, REG_REDIR = 0x10 };

#define RTE_DEST_LOGICAL     (1u << 11)
#define RTE_REMOTE_IRR       (1u << 14)
#define RTE_LEVEL            (1u << 15)
#define RTE_MASKED           (1u << 16)
#define RTE_LOW_WRITABLE     0x0001AFFFu   /* all but delivery status, Remote IRR */
#define RTE_HIGH_WRITABLE    0xFF000000u

struct ioapic {
    struct machine *machine;
    struct lapic *lapic;
    struct irq_line pin_in[IOAPIC_PINS];
    uint32_t asserted;                   /* input levels, bit per pin */
    uint8_t regsel;
    uint8_t id, arb_id;                  /* 4-bit IDs */
    uint64_t redir[IOAPIC_PINS];
};

static void deliver(struct ioapic *s, int pin)
{
    uint64_t e = s->redir[pin];
    int mode = (int)(e >> 8) & 7;
    bool level = e & RTE_LEVEL;
    bool taken = lapic_deliver(s->lapic, (uint8_t)(e >> 56), e & RTE_DEST_LOGICAL, mode,
                               (uint8_t)e, level);
    if (taken && level && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST))
        s->redir[pin] |= RTE_REMOTE_IRR;
}

/* A level-triggered pin that should be delivered now is. */
static void service_level(struct ioapic *s, int pin)
{
    uint64_t e = s->redir[pin];
    if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (s->asserted & (1u << pin)))
        deliver(s, pin);
}

static void pin_set_level(void *opaque, int pin, bool level)
{
    struct ioapic *s = opaque;
    bool rising = level && !(s->asserted & (1u << pin));
    if (level)
        s->asserted |= 1u << pin;
    else
        s->asserted &= ~(1u << pin);
    uint64_t e = s->redir[pin];
    if (e & RTE_LEVEL)
        service_level(s, pin);
    else if (rising && !(e & RTE_MASKED))
        deliver(s, pin);
}

static void ioapic_eoi(void *opaque, uint8_t vector)
{
    struct ioapic *s = opaque;
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        if ((uint8_t)s->redir[pin] == vector && (s->redir[pin] & RTE_REMOTE_IRR)) {
            s->redir[pin] &= ~(uint64_t)RTE_REMOTE_IRR;
            service_level(s, pin);
        }
    }
}

static uint32_t reg_read(struct ioapic *s)
{
    uint8_t r = s->regsel;
    switch (r) {
    case REG_ID:      return (uint32_t)s->id << 24;
    case REG_VERSION: return IOAPIC_VERSION;
    case REG_ARB:     return (uint32_t)s->arb_id << 24;
    default: break;
    }
    if (r >= REG_REDIR && r < REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = s->redir[(r - REG_REDIR) >> 1];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    machine_log(s->machine, LOG_GUEST_ERRORS, "ioapic: read of register 0x%02x\n", r);
    return 0;
}

static void reg_write(struct ioapic *s, uint32_t v)
{
    uint8_t r = s->regsel;
    if (r == REG_ID) {
        s->id = s->arb_id = (uint8_t)((v >> 24) & 0xF);
        return;
    }
    if (r >= REG_REDIR && r < REG_REDIR + 2 * IOAPIC_PINS) {
        int pin = (r - REG_REDIR) >> 1;
        uint64_t e = s->redir[pin];
        if (r & 1) {
            e = (e & 0xFFFFFFFFu) | (uint64_t)(v & RTE_HIGH_WRITABLE) << 32;
        } else {
            e = (e & ~(uint64_t)RTE_LOW_WRITABLE) | (v & RTE_LOW_WRITABLE);
            if (!(e & RTE_LEVEL))
                e &= ~(uint64_t)RTE_REMOTE_IRR;   /* only level entries wait for EOI */
        }
        s->redir[pin] = e;
        service_level(s, pin);
        return;
    }
    machine_log(s->machine, LOG_GUEST_ERRORS, "ioapic: write 0x%08x to register 0x%02x ignored\n",
                v, r);
}

static uint32_t ioapic_mmio_read(void *opaque, uint32_t offset, int size)
{
    struct ioapic *s = opaque;
    if (offset == IOREGSEL)
        return s->regsel;
    if (offset == IOWIN && size == 4)
        return reg_read(s);
    machine_log(s->machine, LOG_GUEST_ERRORS, "ioapic: %d-byte read at offset 0x%x\n", size, offset);
    return 0;
}

static void ioapic_mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct ioapic *s = opaque;
    if (offset == IOREGSEL) {
        s->regsel = (uint8_t)value;
        return;
    }
    if (offset == IOWIN && size == 4) {
        reg_write(s, value);
        return;
    }
    machine_log(s->machine, LOG_GUEST_ERRORS, "ioapic: %d-byte write at offset 0x%x ignored\n",
                size, offset);
}

static const struct mmio_ops ioapic_mmio_ops = { ioapic_mmio_read, ioapic_mmio_write };

static void ioapic_reset(void *opaque)
{
    struct ioapic *s = opaque;
    s->regsel = 0;
    s->id = s->arb_id = 0;
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        s->redir[pin] = RTE_MASKED;
}

struct irq_line *ioapic_irq(struct ioapic *s, int pin)
{
    return pin >= 0 && pin < IOAPIC_PINS ? &s->pin_in[pin] : NULL;
}

static const struct state_field ioapic_fields[] = {
    STATE_U32(struct ioapic, asserted),
    STATE_U8(struct ioapic, regsel),
    STATE_U8(struct ioapic, id),
    STATE_U8(struct ioapic, arb_id),
    STATE_ARRAY(struct ioapic, redir),
};
static const struct state_desc ioapic_state = STATE_DESC("ioapic", 1, ioapic_fields);

static const struct device_ops ioapic_device_ops = {
    .name = "ioapic",
    .state = &ioapic_state,
    .reset = ioapic_reset,
    .destroy = free,
};

int ioapic_create(struct machine *m, struct lapic *lapic, struct ioapic **out)
{
    struct ioapic *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->machine = m;
    s->lapic = lapic;
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        s->pin_in[pin] = (struct irq_line){ .set_level = pin_set_level, .opaque = s, .pin = pin };
    if (phys_add_mmio(&m->mem, IOAPIC_BASE, IOAPIC_PAGE_SIZE, &ioapic_mmio_ops, s) != 0) {
        free(s);
        return -1;
    }
    if (machine_add_device(m, &ioapic_device_ops, s) != 0) {
        phys_remove_region(&m->mem, IOAPIC_BASE, PHYS_MMIO);
        free(s);
        return -1;
    }
    lapic_set_eoi_listener(lapic, ioapic_eoi, s);
    ioapic_reset(s);
    if (out)
        *out = s;
    return 0;
}
