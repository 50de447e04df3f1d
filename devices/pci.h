/* devices/pci.h: PCI bus 0, configuration mechanism #1, BARs and INTx.
 *
 * The bus (devices/pci.c) owns ports 0xCF8-0xCFF: the 32-bit address
 * register at 0xCF8, the data window at 0xCFC-0xCFF (any size, any byte
 * lane), and the PIIX3 reset control register at 0xCF9 (byte access; bit 2
 * with bit 1 set resets the machine). A PCI function is a struct
 * pci_device embedded in (or owned by) its device's state; it registers
 * with the bus and never touches 0xCF8 itself.
 *
 * Configuration space: config[] holds the 256 bytes; wmask[] says which
 * bits the guest may write, w1cmask[] which are write-one-to-clear (status).
 * The bus handles BAR sizing and decoding: a BAR's address follows guest
 * writes masked to its size; the BAR is decoded (mapped) when its address
 * is set and the command register enables I/O (bit 0) or memory (bit 1)
 * space (ROM BAR: also its enable bit 0). Whenever the decoded address of a
 * BAR changes, the bus calls bar->map(dev, bar, old, new), with
 * PCI_BAR_UNMAPPED as either side: the device then moves its ports
 * (ioport_unregister/ioport_register) or memory (phys_remove_region/phys_add_*).
 *
 * INTx: pci_set_irq drives the function's pin (config[0x3D], 1 = INTA#);
 * the bus swizzles it to PIRQ (slot - 1 + pin - 1) mod 4 (QEMU's piix, the
 * routing SeaBIOS's ACPI tables describe) and drives
 * bus->pirq[n] with the OR of every function asserting it. The PIIX3
 * connects pirq[] to the PIC through its routing registers.
 *
 * Usage (inside a device):
 *   pci_config_init(&d->pci, 0x1234, 0x1111, 0x02, 0x030000, 0);
 *   pci_register_bar(&d->pci, 0, 16 << 20, PCI_BAR_MEM | PCI_BAR_PREFETCH, vga_map_lfb);
 *   d->pci.opaque = d;
 *   pci_register_device(bus, &d->pci, PCI_DEVFN(2, 0));
 */
#ifndef FOX86_PCI_H
#define FOX86_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))
#define PCI_NUM_BARS     6
#define PCI_ROM_SLOT     6                 /* bars[6]: the expansion ROM BAR at 0x30 */
#define PCI_BAR_UNMAPPED 0xFFFFFFFFu

enum { PCI_BAR_MEM = 0, PCI_BAR_IO = 1, PCI_BAR_PREFETCH = 8 };

/* standard configuration registers */
enum {
    PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
    PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CLASS_DEVICE = 0x0A,
    PCI_HEADER_TYPE = 0x0E, PCI_BASE_ADDRESS_0 = 0x10, PCI_SUBSYSTEM_VENDOR_ID = 0x2C,
    PCI_SUBSYSTEM_ID = 0x2E, PCI_ROM_ADDRESS = 0x30, PCI_INTERRUPT_LINE = 0x3C,
    PCI_INTERRUPT_PIN = 0x3D,
};
enum { PCI_COMMAND_IO = 1, PCI_COMMAND_MEMORY = 2, PCI_COMMAND_MASTER = 4 };

struct pci_device;
struct pci_bus;
struct machine;

typedef void (*pci_bar_map_fn)(struct pci_device *dev, int bar, uint32_t old_addr,
                               uint32_t new_addr);

struct pci_bar {
    uint32_t size;                 /* a power of two (I/O >= 4, memory >= 16); 0: none */
    uint8_t  type;                 /* PCI_BAR_IO, or PCI_BAR_MEM | optional PCI_BAR_PREFETCH */
    uint32_t addr;                 /* decoded address now, or PCI_BAR_UNMAPPED */
    pci_bar_map_fn map;            /* may be NULL */
};

struct pci_device {
    struct pci_bus *bus;           /* set by pci_register_device */
    int devfn;
    const char *name;
    uint8_t config[256];
    uint8_t wmask[256];
    uint8_t w1cmask[256];
    struct pci_bar bars[PCI_NUM_BARS + 1];
    void *opaque;                  /* the owning device's state */
    /* Optional: called after the bus applied a guest config write (with the
     * value as written), e.g. the i440FX's PAM registers. */
    void (*config_written)(struct pci_device *dev, int offset, uint32_t value, int size);
    /* Optional: supplies config reads instead of config[] (rarely needed). */
    uint32_t (*config_read)(struct pci_device *dev, int offset, int size);
    bool irq_asserted;             /* INTx# level this function drives */
};

struct pci_bus {
    struct machine *machine;
    struct pci_device *devices[256];   /* by devfn */
    uint32_t config_address;           /* 0xCF8 */
    uint8_t  reset_control;            /* 0xCF9 */
    struct irq_line *pirq[4];          /* PIRQA#-D# outputs; set by the PIIX3 (NULL: nowhere) */
    int pirq_count[4];                 /* functions asserting each PIRQ */
};

/* Create bus 0 on the machine (ports 0xCF8-0xCFF). */
int pci_bus_create(struct machine *m, struct pci_bus **out);
/* On machine reset the bus clears every function's command register and
 * BAR addresses (unmapping them) before the devices' own resets run. */
/* Fill the header: IDs, revision, class (class << 16 | subclass << 8 | prog-if),
 * header type; sets the default wmask (command, cache line, latency,
 * interrupt line, BARs as registered) and w1cmask (status error bits). */
void pci_config_init(struct pci_device *dev, uint16_t vendor, uint16_t device,
                     uint8_t revision, uint32_t class_code, uint8_t header_type);
void pci_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t device);
/* Declare BAR n (0-5, or PCI_ROM_SLOT) before pci_register_device. */
void pci_register_bar(struct pci_device *dev, int bar, uint32_t size, uint8_t type,
                      pci_bar_map_fn map);
/* Put the function at devfn. Returns 0, or -1 if taken. */
int  pci_register_device(struct pci_bus *bus, struct pci_device *dev, int devfn);
void pci_set_irq(struct pci_device *dev, bool level);
/* Guest-physical DMA by a bus master: -1 (nothing moved) if the function's
 * command register has bus mastering off. */
int  pci_dma_read(struct pci_device *dev, uint32_t addr, void *buf, uint32_t len);
int  pci_dma_write(struct pci_device *dev, uint32_t addr, const void *buf, uint32_t len);

/* Little-endian accessors into config[]. */
static inline uint16_t pci_get_word(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

#endif
