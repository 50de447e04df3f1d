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
 * Save/restore is data (core/savestate.h): state is a versioned table of
 * the fields a guest can observe; post_load recomputes what is derived from
 * them. The machine saves and loads every device by its table (instance
 * number = order among devices of the same name) and afterwards asks every
 * device for its next event again, so post_load need not touch deadlines.
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

struct state_desc;

struct device_ops {
    const char *name;
    /* Save state: the fields of the state struct (NULL: nothing to save). */
    const struct state_desc *state;
    /* After the fields were loaded (of every device, before any post_load):
     * recompute what is derived (IRQ output levels, memory and port
     * mappings, display dirtiness) and check what the fields must satisfy
     * (indexes in range); 0, or -1 if the loaded state is inconsistent.
     * Host-side things (backends, pointers, caches) are never saved. */
    int (*post_load)(void *dev);
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
 * once machine_add_device succeeded). A device that other devices or the
 * board talk to hands itself back through **out (out may be NULL). */
struct machine;
struct chardev;
struct blockdev;
struct pci_bus;

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

/* pit8254.c: the 8254 PIT at 0x40-0x43 (counter 0 drives irq, counter 2
 * the speaker) and port 0x61 (speaker gate and data, refresh toggle, counter
 * 2 output). All six modes, BCD, latch and read-back commands. */
struct pit8254;
int pit8254_create(struct machine *m, struct irq_line *irq, struct pit8254 **out);

/* rtc_cmos.c: MC146818 RTC and 128 bytes of CMOS RAM at 0x70/0x71 (bit 7
 * of 0x70 is the NMI mask). The clock starts at base_time (seconds since
 * 1970, UTC) and runs on virtual time; alarm, periodic and update-ended
 * interrupts on irq (IRQ 8). rtc_cmos_set: a CMOS byte the board fills
 * before reset (memory sizes, floppy types, boot order, equipment);
 * CMOS contents survive machine reset, as on a PC. */
struct rtc_cmos;
int rtc_cmos_create(struct machine *m, struct irq_line *irq, int64_t base_time,
                    struct rtc_cmos **out);
void rtc_cmos_set(struct rtc_cmos *rtc, int index, uint8_t value);
uint8_t rtc_cmos_get(struct rtc_cmos *rtc, int index);

/* dma8237.c: the two cascaded 8237A DMA controllers (channels 0-3 at
 * 0x00-0x0F, 4-7 at 0xC0-0xDF, page registers at 0x80-0x8F).
 * dma8237_transfer: the device on channel chan (0-7) moves up to len bytes
 * between buf and guest memory as the guest programmed the channel;
 * to_memory is the device's direction (true: device to memory, a DMA
 * "write" transfer). Returns the bytes moved (0 if the channel is masked or
 * programmed the other way); the channel's count and address advance, and
 * terminal count sets the status bit (autoinit reloads). Verify-mode
 * transfers move nothing but count. */
struct dma8237;
int dma8237_create(struct machine *m, struct dma8237 **out);
int dma8237_transfer(struct dma8237 *dma, int chan, void *buf, int len, bool to_memory);
/* True once the channel's count has run out (terminal count reached). */
bool dma8237_terminal_count(struct dma8237 *dma, int chan);

/* i8042.c: the keyboard controller at 0x60/0x64 with a PS/2 keyboard
 * (IRQ 1) and mouse (IRQ 12). It fills m->input. Output port bit 1 is the
 * A20 gate (phys_set_a20); pulsing bit 0 (command 0xFE) resets the machine. */
struct i8042;
int i8042_create(struct machine *m, struct irq_line *kbd_irq, struct irq_line *mouse_irq,
                 struct i8042 **out);

/* pci.c: see devices/pci.h. */

/* i440fx.c: the i440FX host bridge at 00:00.0 (QEMU's IDs, with subsystem
 * 1af4:1100 so SeaBIOS takes its QEMU paths). PAM registers 0x59-0x5F steer
 * 0xC0000-0xFFFFF between RAM and bios_low (the BIOS image's last 128 KiB,
 * seen at 0xE0000; may be NULL) and ROM-less PCI space below it. */
int i440fx_create(struct machine *m, struct pci_bus *bus, uint8_t *bios_low, uint32_t bios_low_size);

/* piix3.c: the PIIX3 PCI-to-ISA bridge at 00:01.0: PIRQ A-D routing
 * (registers 0x60-0x63) onto the ISA IRQ lines, and port 0x92 (fast A20,
 * fast reset). isa_irq: the board's 16 ISA IRQ lines (each reaching the
 * 8259 and the I/O APIC, as QEMU's PIRQ outputs do); entries may be NULL. */
int piix3_create(struct machine *m, struct pci_bus *bus, struct irq_line *const isa_irq[16]);

/* lapic.c: the CPU's local APIC (xAPIC at 0xFEE00000, IA32_APIC_BASE MSR,
 * timer at 1 GHz / divide). Create takes over the CPU's interrupt input:
 * it sets m->cpu.intr_ack (lapic_intr_ack) and msr_hook, and drives
 * cpu_set_intr / cpu_raise_nmi itself. pic receives the acknowledges of
 * ExtINT interrupts (the 8259's INTR wired to lapic_lint(lapic, 0)).
 * lapic_lint: the LINT0 (n = 0) and LINT1 (n = 1) input pins.
 * See devices/lapic.h for the I/O APIC side. */
struct lapic;
int lapic_create(struct machine *m, struct pic8259 *pic, struct lapic **out);
struct irq_line *lapic_lint(struct lapic *lapic, int n);
int lapic_intr_ack(void *opaque);

/* ioapic.c: an 82093AA I/O APIC at 0xFEC00000 (24 pins, version 0x11)
 * delivering to lapic. ioapic_irq: input pin 0-23 (NULL otherwise); a
 * line's level is the logical assertion (polarity is stored, not applied). */
struct ioapic;
int ioapic_create(struct machine *m, struct lapic *lapic, struct ioapic **out);
struct irq_line *ioapic_irq(struct ioapic *ioapic, int pin);

/* ide.c: the PIIX3 IDE function at 00:01.1 with the two legacy channels
 * (0x1F0/0x3F6 on irq14, 0x170/0x376 on irq15) and bus-master DMA (BAR 4).
 * drives[0..3]: primary master, primary slave, secondary master, secondary
 * slave; a NULL blockdev is an absent drive, except a CD-ROM drive which
 * may be empty. */
struct ide_drive_config {
    struct blockdev *bd;           /* NULL: no drive (or an empty CD-ROM drive if cdrom) */
    bool cdrom;                    /* ATAPI CD-ROM drive (ISO 9660 images, 2048-byte sectors) */
    bool present;                  /* a drive is attached at this position */
};
int ide_create(struct machine *m, struct pci_bus *bus, int devfn, struct irq_line *irq14,
               struct irq_line *irq15, const struct ide_drive_config drives[4]);

/* piix4_pm.c: the PIIX4 power-management function (ACPI, SMBus) at devfn
 * (00:01.3 on the pc board, 8086:7113): the PM block at PMBA, the GPE0
 * block at 0xAFE0, APM ports 0xB2/0xB3, QEMU's hotplug ports at 0xAE00 and
 * 0xAF00, and an SMBus host with no devices. The SCI (and the SMBus
 * interrupt when routed to IRQ 9) drives sci, an ISA IRQ 9 level line.
 * isa_devices (PIIX4_PM_*) says which legacy ports the board has, for the
 * decode-enable bits SeaBIOS's DSDT reads. Sleep type S5 (and S4) exits
 * the machine with status 0.
 * piix4_pm_power_button: the power button was pressed (PWRBTN_STS).
 * piix4_pm_gpe_event: general-purpose event bit (0-15) became active. */
struct piix4_pm;
enum { PIIX4_PM_LPT = 0x01, PIIX4_PM_COM1 = 0x02, PIIX4_PM_COM2 = 0x04 };
int piix4_pm_create(struct machine *m, struct pci_bus *bus, int devfn, struct irq_line *sci,
                    unsigned isa_devices, struct piix4_pm **out);
void piix4_pm_power_button(struct piix4_pm *pm);
void piix4_pm_gpe_event(struct piix4_pm *pm, int bit);

/* fdc82077.c: an 82077AA floppy controller at 0x3F0-0x3F7 (IRQ 6, DMA 2)
 * with two drives; a NULL blockdev is an empty drive. The drive type
 * (360K, 720K, 1.2M, 1.44M, 2.88M) follows the image size.
 * fdc82077_cmos_type: the CMOS 0x10 nibble for an image of that size (0 none). */
int fdc82077_create(struct machine *m, struct irq_line *irq, struct dma8237 *dma,
                    struct blockdev *drives[2]);
uint8_t fdc82077_cmos_type(uint64_t image_size);

/* vga.c: a PCI VGA (QEMU's "stdvga", 1234:1111) at devfn on bus: the legacy
 * registers at 0x3B0-0x3DF, the 0xA0000-0xBFFFF window, the Bochs VBE
 * registers at 0x1CE/0x1CF and a linear framebuffer of vram_size bytes at
 * BAR 0. It fills m->display. */
int vga_create(struct machine *m, struct pci_bus *bus, int devfn, uint32_t vram_size);

/* fw_cfg.c: QEMU's firmware configuration device: selector 0x510 (16-bit),
 * data 0x511, DMA address 0x514-0x51B. The board adds items before reset;
 * items are copied. See devices/fw_cfg.h for the keys. */
struct fw_cfg;
int fw_cfg_create(struct machine *m, struct fw_cfg **out);
int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value);
int fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value);
int fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value);
/* A named file in the directory (key FW_CFG_FILE_FIRST + n); -1 if the name
 * is taken or longer than 55 bytes. */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len);

#endif
