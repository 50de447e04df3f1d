/* devices/piix3.c: the Intel 82371SB PIIX3 PCI-to-ISA bridge, function 0
 * at 00:01.0 (8086:7000, class 06 01 00, multifunction header: the IDE
 * function 01.1 lives in ide.c).
 *
 * Modelled:
 *   - PIRQ route control 0x60-0x63 (PIRQRC[A:D]): bit 7 set disables the
 *     route (reset value 0x80); bits 3:0 name the ISA IRQ, valid for
 *     3-7, 9-12, 14 and 15 (other values route nowhere). The bus's PIRQA#-D#
 *     outputs land on four irq_lines here; each ISA IRQ some PIRQ is routed
 *     to is driven with the OR of the PIRQs routed to it. An ISA IRQ no
 *     PIRQ routes to is left alone (ISA devices own it), except that a line
 *     this bridge had driven high is driven low once when its last route
 *     goes away, so no request is left stuck.
 *   - Port 0x92, System Control Port A: bit 1 is the fast A20 gate
 *     (reads return the gate's current state), a 0-to-1 transition of bit 0
 *     resets the machine (fast reset), the other bits are stored. The
 *     chipset ORs this A20 bit with the keyboard controller's; here both
 *     simply set the one gate (phys_set_a20), last writer wins.
 *   - Plain storage, with the datasheet/QEMU reset values, for the other
 *     registers firmware and Linux touch: IORT 0x4C, XBCS 0x4E-0x4F, TOM
 *     0x69, MSTAT 0x6A-0x6B, MBIRQ 0x70-0x71, MBDMA 0x76-0x77, PCSC
 *     0x78-0x79, APICBASE 0x80, DLC 0x82, SMI/power management 0xA0-0xAE.
 * Not modelled: what those stored registers control (ISA clock, BIOS
 * decoding, motherboard device IRQs, DMA routing, SMI, the APIC chip
 * select); the reset control register at 0xCF9 belongs to the bus (pci.c).
 * Reset does not touch A20: the board puts the gate in its power-on state.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"

#define PIIX3_PIRQRC      0x60
#define PIIX3_NUM_PIRQS   4
#define PIRQRC_DISABLE    0x80
#define PIRQRC_IRQ_MASK   0x0F
#define PIIX3_ISA_IRQS    16
/* ISA IRQs a PIRQ may be routed to: 3-7, 9-12, 14, 15 */
#define PIRQ_VALID_IRQS   0xDEF8u

#define PORT_A            0x92
#define PORT_A_FAST_RESET 0x01
#define PORT_A_A20        0x02

struct piix3 {
    struct machine *machine;
    struct pci_device pci;
    struct irq_line *isa_irq[PIIX3_ISA_IRQS];  /* the board's ISA IRQ lines (8259 + I/O APIC) */
    struct irq_line pirq_in[PIIX3_NUM_PIRQS];   /* the bus drives these */
    bool pirq_level[PIIX3_NUM_PIRQS];
    uint16_t isa_driven_high;                   /* ISA IRQs this bridge holds high */
    uint8_t port_a;                             /* 0x92 as written (bit 1 shadowed by the gate) */
};

/* The ISA IRQ PIRQ n is routed to, or -1. */
static int pirq_route(const struct piix3 *s, int n)
{
    uint8_t r = s->pci.config[PIIX3_PIRQRC + n];
    int irq = r & PIRQRC_IRQ_MASK;
    if ((r & PIRQRC_DISABLE) || !(PIRQ_VALID_IRQS & (1u << irq)))
        return -1;
    return irq;
}

/* Drive every routed ISA IRQ with the OR of its PIRQs; release the ones
 * this bridge held high that no asserted PIRQ reaches any more. */
static void piix3_update_irqs(struct piix3 *s)
{
    uint16_t want_high = 0;
    for (int n = 0; n < PIIX3_NUM_PIRQS; n++) {
        int irq = pirq_route(s, n);
        if (irq >= 0 && s->pirq_level[n])
            want_high |= (uint16_t)(1u << irq);
    }
    uint16_t changed = want_high ^ s->isa_driven_high;
    s->isa_driven_high = want_high;
    for (int irq = 0; irq < PIIX3_ISA_IRQS; irq++)
        if (changed & (1u << irq))
            irq_set_level(s->isa_irq[irq], want_high & (1u << irq));
}

static void piix3_pirq_set_level(void *opaque, int pin, bool level)
{
    struct piix3 *s = opaque;
    s->pirq_level[pin] = level;
    piix3_update_irqs(s);
}

static void piix3_config_written(struct pci_device *dev, int offset, uint32_t value, int size)
{
    struct piix3 *s = dev->opaque;
    if (offset < PIIX3_PIRQRC + PIIX3_NUM_PIRQS && offset + size > PIIX3_PIRQRC) {
        for (int n = 0; n < PIIX3_NUM_PIRQS; n++) {
            uint8_t r = dev->config[PIIX3_PIRQRC + n];
            if (!(r & PIRQRC_DISABLE) && pirq_route(s, n) < 0)
                machine_log(s->machine, LOG_GUEST_ERRORS,
                            "piix3: PIRQ%c routed to reserved IRQ %d\n", 'A' + n,
                            r & PIRQRC_IRQ_MASK);
        }
        piix3_update_irqs(s);
    }
}

static uint32_t port_a_read(void *opaque, uint16_t port, int size)
{
    struct piix3 *s = opaque;
    uint8_t v = s->port_a & (uint8_t)~PORT_A_A20;
    if (phys_a20_enabled(&s->machine->mem))
        v |= PORT_A_A20;
    return v;
}

static void port_a_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix3 *s = opaque;
    uint8_t old = s->port_a, v = (uint8_t)value;
    s->port_a = v;
    phys_set_a20(&s->machine->mem, v & PORT_A_A20);
    if ((v & PORT_A_FAST_RESET) && !(old & PORT_A_FAST_RESET))
        machine_request_reset(s->machine);
}

static void piix3_reset(void *opaque)
{
    struct piix3 *s = opaque;
    uint8_t *c = s->pci.config;
    /* the ISA bridge decodes I/O and memory and masters ISA DMA from reset */
    pci_set_word(c + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(c + PCI_STATUS, 0x0200);           /* DEVSEL# medium */
    c[0x4C] = 0x4D;                                 /* IORT */
    pci_set_word(c + 0x4E, 0x0003);                 /* XBCS: RTC, keyboard decode */
    memset(c + PIIX3_PIRQRC, PIRQRC_DISABLE, PIIX3_NUM_PIRQS);
    c[0x69] = 0x02;                                 /* TOM */
    pci_set_word(c + 0x6A, 0);                      /* MSTAT */
    c[0x70] = 0x80;                                 /* MBIRQ0: disabled */
    c[0x71] = 0x80;                                 /* MBIRQ1: disabled */
    c[0x76] = 0x0C;                                 /* MBDMA0/1: disabled */
    c[0x77] = 0x0C;
    pci_set_word(c + 0x78, 0x0002);                 /* PCSC */
    c[0x80] = 0;                                    /* APICBASE */
    c[0x82] = 0;                                    /* DLC */
    memset(c + 0xA0, 0, 0x10);                      /* SMI and power management */
    c[0xA0] = 0x08;                                 /* SMICNTL */
    c[0xA8] = 0x0F;                                 /* FTMR */
    s->port_a = 0;
    piix3_update_irqs(s);
}

static const struct ioport_ops port_a_ops = { port_a_read, port_a_write };

/* ---- save state ---- */

/* The PIRQ route registers are configuration space (saved by the bus);
 * A20 is the machine's. */
static const struct state_field piix3_fields[] = {
    STATE_BOOL_ARRAY(struct piix3, pirq_level),
    STATE_U16(struct piix3, isa_driven_high),
    STATE_U8(struct piix3, port_a),
};
static const struct state_desc piix3_state = STATE_DESC("piix3", 1, piix3_fields);

static int piix3_post_load(void *opaque)
{
    piix3_update_irqs(opaque);
    return 0;
}

static const struct device_ops piix3_device_ops = {
    .name = "piix3",
    .state = &piix3_state,
    .post_load = piix3_post_load,
    .reset = piix3_reset,
    .destroy = free,
};

int piix3_create(struct machine *m, struct pci_bus *bus, struct irq_line *const isa_irq[16])
{
    struct piix3 *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->machine = m;
    for (int irq = 0; irq < PIIX3_ISA_IRQS; irq++)
        s->isa_irq[irq] = isa_irq[irq];
    pci_config_init(&s->pci, 0x8086, 0x7000, 0x00, 0x060100, 0x80);
    s->pci.name = "piix3";
    s->pci.opaque = s;
    s->pci.config_written = piix3_config_written;
    uint8_t *w = s->pci.wmask;
    w[0x4C] = 0x7F;
    w[0x4E] = 0xFF;
    w[0x4F] = 0x03;
    for (int n = 0; n < PIIX3_NUM_PIRQS; n++)
        w[PIIX3_PIRQRC + n] = PIRQRC_DISABLE | PIRQRC_IRQ_MASK;
    w[0x69] = 0xFF;
    w[0x6A] = 0xFF;
    w[0x6B] = 0xFF;
    w[0x70] = 0xCF;
    w[0x71] = 0xCF;
    w[0x76] = 0x8F;
    w[0x77] = 0x8F;
    w[0x78] = 0xFF;
    w[0x79] = 0xFF;
    w[0x80] = 0xFF;
    w[0x82] = 0xFF;
    memset(w + 0xA0, 0xFF, 0x10);
    if (ioport_register(&m->io, PORT_A, 1, &port_a_ops, s) != 0) {
        free(s);
        return -1;
    }
    if (pci_register_device(bus, &s->pci, PCI_DEVFN(1, 0)) != 0) {
        ioport_unregister(&m->io, PORT_A, 1);
        free(s);
        return -1;
    }
    for (int n = 0; n < PIIX3_NUM_PIRQS; n++) {
        s->pirq_in[n] = (struct irq_line){
            .set_level = piix3_pirq_set_level, .opaque = s, .pin = n,
        };
        bus->pirq[n] = &s->pirq_in[n];
        s->pirq_level[n] = bus->pirq_count[n] > 0;
    }
    if (machine_add_device(m, &piix3_device_ops, s) != 0)
        return -1;  /* bus and ports still point at s: leaked, the machine is unusable */
    piix3_reset(s);
    return 0;
}
