/* devices/device.h: what every device is, and the IRQ lines between them.
 *
 * A device is its own state struct plus one const struct device_ops for its
 * type. A device file exposes only a create function, which allocates the
 * state, registers its ports (ioport_register) and MMIO ranges
 * (phys_add_mmio) with the state as the opaque pointer, keeps the IRQ lines
 * and backends it was handed, and hands itself to the machine with
 * machine_add_device(); from then on the machine owns it (reset, timers,
 * destroy). Nothing else in a device file is public.
 *
 * Time is pulled: a device never runs on its own. The machine asks each
 * device for its next event (an absolute virtual time in ns, or TIME_NEVER),
 * runs the CPU up to the nearest one, and calls next_event again once that
 * time has come; the device does what is due and reports the next one.
 *
 * Create is not reset: create wires, reset puts the registers into their
 * power-on state and may be called any number of times (machine reset).
 *
 * Save/restore will be a versioned table of fields per device type plus a
 * post-load hook (see docs/style.md); it is not part of the ops yet.
 *
 * IRQ lines are small objects: the receiver (a PIC, later) fills set_level
 * and opaque; a device only calls irq_set_level(). A line nobody connected
 * (set_level NULL) or a NULL line pointer is valid and goes nowhere.
 *
 * Usage (inside a device file):
 *   static const struct device_ops uart_ops = {
 *       .name = "uart16550", .reset = uart_reset, .destroy = free,
 *   };
 *   ...
 *   machine_add_device(mach, &uart_ops, uart);
 *   irq_set_level(uart->irq, true);
 */
#ifndef FOX86_DEVICE_H
#define FOX86_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_NEVER UINT64_MAX

struct device_ops {
    const char *name;
    /* Power-on register state. Idempotent. */
    void (*reset)(void *dev);
    /* Do what is due at virtual time now_ns and return the time of the next
     * event (> now_ns), or TIME_NEVER. NULL: the device has no timers. */
    uint64_t (*next_event)(void *dev, uint64_t now_ns);
    /* Release everything the device allocated, including dev itself. */
    void (*destroy)(void *dev);
};

struct irq_line {
    void (*set_level)(void *opaque, int pin, bool level);   /* receiver; NULL: unconnected */
    void *opaque;                                           /* receiver's state */
    int   pin;                                              /* input number at the receiver */
    bool  level;                                            /* last level driven by the device */
};

static inline void irq_set_level(struct irq_line *irq, bool level)
{
    if (!irq)
        return;
    irq->level = level;
    if (irq->set_level)
        irq->set_level(irq->opaque, irq->pin, level);
}

/* Create functions, one per device file (each returns 0, or -1 if its
 * ports are taken or memory ran out; the machine owns the device either way
 * once machine_add_device succeeded). */
struct machine;
struct chardev;

/* debugport.c: 0xE9 / 0x402 output to out; isa-debug-exit at exit_iobase. */
int debugport_create(struct machine *m, struct chardev *out, bool exit_device,
                     uint16_t exit_iobase, uint16_t exit_iosize);
/* uart16550.c: a 16550A at iobase (COM1: 0x3F8) on backend (may be NULL),
 * interrupting through irq (may be NULL: unconnected). */
int uart16550_create(struct machine *m, uint16_t iobase, struct irq_line *irq,
                     struct chardev *backend);
/* pic8259.c: master + slave 8259A at 0x20/0xA0 and the ELCR at 0x4D0;
 * intr (may be NULL) is driven with the master's INT output, *out (may be
 * NULL) receives the device. pic8259_irq: input line IRQ 0-15 for other
 * devices (NULL for 2, the cascade). pic8259_intr_ack: the INTA cycle
 * (returns the vector), for cpu->intr_ack with the device as intr_opaque.
 * pic8259_new/free: the same device on a bare port map, without a machine
 * (CPU-less tests); new returns NULL if the ports are taken. */
struct pic8259;
struct ioport_map;
int pic8259_create(struct machine *m, struct irq_line *intr, struct pic8259 **out);
struct pic8259 *pic8259_new(struct ioport_map *io, struct irq_line *intr);
void pic8259_free(struct pic8259 *pic);
struct irq_line *pic8259_irq(struct pic8259 *pic, int irq);
int pic8259_intr_ack(void *opaque);

#endif
