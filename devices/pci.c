/* devices/pci.c: PCI bus 0 behind configuration mechanism #1 (see pci.h).
 *
 * Modelled:
 *   - 0xCF8 CONFIG_ADDRESS (dword accesses only; bit 31 enable, bus 23-16,
 *     devfn 15-8, register 7-2; reserved bits 30-24 and 1-0 read as 0),
 *     0xCFC-0xCFF CONFIG_DATA (byte, word or dword at any lane; an access
 *     running past 0xCFF is cut at the dword's end, missing bytes read as
 *     ones). Only bus 0 exists; an absent function (or function n > 0 of a
 *     slot without function 0) reads all ones and ignores writes.
 *   - 0xCF9 (byte): the PIIX3 reset control register. Writing bit 2 (reset
 *     CPU) resets the machine, whether bit 1 asks for a hard or a soft
 *     reset (a soft reset, INIT, is modelled as a full reset); bits 1 and 3
 *     are stored and read back.
 *   - Guest config writes honour wmask/w1cmask; BAR sizing falls out of the
 *     masks (a BAR's wmask is ~(size - 1) without its type bits).
 *   - Decoding: a BAR is decoded when the command register enables its
 *     space (and, for the ROM BAR, its enable bit is set) and its address is
 *     usable: non-zero, an I/O BAR inside the 64 KiB port space, a memory
 *     BAR not ending at 0xFFFFFFFF (that is the all-ones sizing pattern).
 *     bar->map is called exactly when the decoded address changes.
 *   - INTx: a function's pin is masked by command bit 10 (INTx disable) and
 *     reflected in status bit 3; PIRQ = (slot + pin - 1) mod 4, driven with
 *     the OR of the asserting functions.
 *   - Reset (the bus is a device; it is created before the functions, so
 *     its reset runs first): every function's command, BAR addresses, cache
 *     line size, latency timer, interrupt line, error status and INTx level
 *     are cleared, unmapping its BARs through bar->map.
 * Not modelled: other buses and type 1 headers (bridges), configuration
 * mechanism #2, special cycles, MSI, 64-bit BARs, parity/abort reporting.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_RESET_CONTROL_PORT  0xCF9
#define PCI_CONFIG_DATA_PORT    0xCFC

#define PCI_CONFIG_ENABLE        0x80000000u
#define PCI_CONFIG_ADDRESS_MASK  0x80FFFFFCu   /* reserved bits read as 0 */

#define RCR_SYSTEM_RESET 0x02   /* hard (1) or soft (0) reset */
#define RCR_RESET_CPU    0x04   /* writing 1 starts the reset */
#define RCR_STORED       0x0A   /* bits that read back */

/* configuration registers the bus itself maintains */
enum {
    PCI_CACHE_LINE_SIZE = 0x0C, PCI_LATENCY_TIMER = 0x0D,
};
enum {
    PCI_COMMAND_INTX_DISABLE = 0x400,
    PCI_STATUS_INTERRUPT = 0x08,
    /* parity, signalled/received target abort, master abort, SERR, parity detected */
    PCI_STATUS_ERROR_BITS = 0xF900,
    /* IO, memory, master, special cycles, MWI, VGA snoop, parity, SERR, INTx disable */
    PCI_COMMAND_WRITABLE = 0x057F,
};

static uint32_t bar_offset(int bar)
{
    return bar == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4u * (uint32_t)bar;
}

/* The address BAR n decodes with the current configuration, or
 * PCI_BAR_UNMAPPED. */
static uint32_t bar_decoded_address(const struct pci_device *dev, int bar)
{
    const struct pci_bar *b = &dev->bars[bar];
    uint16_t cmd = pci_get_word(dev->config + PCI_COMMAND);
    uint32_t v = pci_get_long(dev->config + bar_offset(bar));
    uint32_t addr = v & ~(b->size - 1);
    if (b->type & PCI_BAR_IO) {
        addr &= ~3u;
        if (!(cmd & PCI_COMMAND_IO) || addr == 0 || (uint64_t)addr + b->size > 0x10000)
            return PCI_BAR_UNMAPPED;
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY))
        return PCI_BAR_UNMAPPED;
    if (bar == PCI_ROM_SLOT) {
        if (!(v & 1))
            return PCI_BAR_UNMAPPED;
        addr &= ~0x7FFu;
    } else {
        addr &= ~0xFu;
    }
    if (addr == 0 || (uint64_t)addr + b->size - 1 >= 0xFFFFFFFFull)
        return PCI_BAR_UNMAPPED;
    return addr;
}

static void pci_update_mappings(struct pci_device *dev)
{
    for (int i = 0; i <= PCI_ROM_SLOT; i++) {
        struct pci_bar *b = &dev->bars[i];
        if (!b->size)
            continue;
        uint32_t new_addr = bar_decoded_address(dev, i);
        if (new_addr == b->addr)
            continue;
        uint32_t old_addr = b->addr;
        b->addr = new_addr;
        if (b->map)
            b->map(dev, i, old_addr, new_addr);
    }
}

/* INTx as the bus sees it: asserted and not disabled by the command register. */
static bool intx_driven(const struct pci_device *dev)
{
    return dev->irq_asserted &&
           !(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

static int intx_pirq(const struct pci_device *dev)
{
    int pin = dev->config[PCI_INTERRUPT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    /* as QEMU's piix and SeaBIOS's _PRT: slot 1 INTA is PIRQA */
    return ((dev->devfn >> 3) - 1 + pin - 1) & 3;
}

/* Account for a change of intx_driven(dev) from was_driven. */
static void intx_update(struct pci_device *dev, bool was_driven)
{
    struct pci_bus *bus = dev->bus;
    bool driven = intx_driven(dev);
    if (!bus || driven == was_driven)
        return;
    int pirq = intx_pirq(dev);
    if (pirq < 0)
        return;
    if (driven) {
        if (bus->pirq_count[pirq]++ == 0)
            irq_set_level(bus->pirq[pirq], true);
    } else if (bus->pirq_count[pirq] > 0) {
        if (--bus->pirq_count[pirq] == 0)
            irq_set_level(bus->pirq[pirq], false);
    }
}

static void status_set_interrupt(struct pci_device *dev)
{
    if (dev->irq_asserted)
        dev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        dev->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
}

void pci_set_irq(struct pci_device *dev, bool level)
{
    if (dev->irq_asserted == level)
        return;
    bool was = intx_driven(dev);
    dev->irq_asserted = level;
    status_set_interrupt(dev);
    intx_update(dev, was);
}

/* BAR n's config value and write mask as registered (address 0). */
static void bar_init_config(struct pci_device *dev, int bar)
{
    struct pci_bar *b = &dev->bars[bar];
    uint32_t off = bar_offset(bar);
    uint32_t value = 0, mask = 0;
    if (b->size) {
        if (bar == PCI_ROM_SLOT) {
            mask = ~(b->size - 1) | 1u;         /* address and the enable bit */
        } else if (b->type & PCI_BAR_IO) {
            value = PCI_BAR_IO;
            mask = ~(b->size - 1) & ~3u;
        } else {
            value = b->type & PCI_BAR_PREFETCH;  /* 32-bit memory BAR */
            mask = ~(b->size - 1) & ~0xFu;
        }
    }
    pci_set_long(dev->config + off, value);
    pci_set_long(dev->wmask + off, mask);
}

void pci_config_init(struct pci_device *dev, uint16_t vendor, uint16_t device,
                     uint8_t revision, uint32_t class_code, uint8_t header_type)
{
    memset(dev->config, 0, sizeof dev->config);
    memset(dev->wmask, 0, sizeof dev->wmask);
    memset(dev->w1cmask, 0, sizeof dev->w1cmask);
    pci_set_word(dev->config + PCI_VENDOR_ID, vendor);
    pci_set_word(dev->config + PCI_DEVICE_ID, device);
    dev->config[PCI_REVISION_ID] = revision;
    dev->config[PCI_CLASS_PROG] = (uint8_t)class_code;
    dev->config[PCI_CLASS_DEVICE] = (uint8_t)(class_code >> 8);
    dev->config[PCI_CLASS_DEVICE + 1] = (uint8_t)(class_code >> 16);
    dev->config[PCI_HEADER_TYPE] = header_type;
    pci_set_word(dev->wmask + PCI_COMMAND, PCI_COMMAND_WRITABLE);
    dev->wmask[PCI_CACHE_LINE_SIZE] = 0xFF;
    dev->wmask[PCI_LATENCY_TIMER] = 0xFF;
    dev->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    pci_set_word(dev->w1cmask + PCI_STATUS, PCI_STATUS_ERROR_BITS);
    /* BARs declared before this call keep their type bits and masks */
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        bar_init_config(dev, i);
    status_set_interrupt(dev);
}

void pci_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t device)
{
    pci_set_word(dev->config + PCI_SUBSYSTEM_VENDOR_ID, vendor);
    pci_set_word(dev->config + PCI_SUBSYSTEM_ID, device);
}

void pci_register_bar(struct pci_device *dev, int bar, uint32_t size, uint8_t type,
                      pci_bar_map_fn map)
{
    if (bar < 0 || bar > PCI_ROM_SLOT)
        return;
    if (bar == PCI_ROM_SLOT)
        type = PCI_BAR_MEM;
    uint32_t min = bar == PCI_ROM_SLOT ? 2048 : (type & PCI_BAR_IO) ? 4 : 16;
    if (size) {
        /* the decoder needs a power of two no smaller than the type's minimum */
        if (size < min)
            size = min;
        if (size & (size - 1)) {
            uint32_t p = min;
            while (p < size && p < 0x80000000u)
                p <<= 1;
            size = p;
        }
    }
    dev->bars[bar] = (struct pci_bar){
        .size = size, .type = type, .addr = PCI_BAR_UNMAPPED, .map = map,
    };
    bar_init_config(dev, bar);
}

int pci_register_device(struct pci_bus *bus, struct pci_device *dev, int devfn)
{
    if (!bus || !dev || devfn < 0 || devfn > 255 || bus->devices[devfn])
        return -1;
    for (int i = 0; i <= PCI_ROM_SLOT; i++)
        if (!dev->bars[i].size)
            dev->bars[i].addr = PCI_BAR_UNMAPPED;
    dev->bus = bus;
    dev->devfn = devfn;
    bus->devices[devfn] = dev;
    pci_update_mappings(dev);
    if (intx_driven(dev))
        intx_update(dev, false);
    return 0;
}

/* DMA */

static int pci_dma(struct pci_device *dev, uint32_t addr, void *buf, uint32_t len, bool write)
{
    if (!dev->bus || !(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER))
        return -1;
    struct phys_mem *pm = &dev->bus->machine->mem;
    /* nothing answers above 4 GiB: those bytes read as ones, writes are lost */
    uint64_t room = 0x100000000ull - addr;
    uint32_t n = len <= room ? len : (uint32_t)room;
    if (write) {
        phys_load(pm, addr, buf, n);
    } else {
        phys_copy_out(pm, addr, buf, n);
        memset((uint8_t *)buf + n, 0xFF, len - n);
    }
    if (n < len)
        machine_log(dev->bus->machine, LOG_GUEST_ERRORS,
                    "pci %02x.%x: DMA at 0x%08x+%u runs past 4 GiB\n",
                    dev->devfn >> 3, dev->devfn & 7, addr, len);
    return 0;
}

int pci_dma_read(struct pci_device *dev, uint32_t addr, void *buf, uint32_t len)
{
    return pci_dma(dev, addr, buf, len, false);
}

int pci_dma_write(struct pci_device *dev, uint32_t addr, const void *buf, uint32_t len)
{
    return pci_dma(dev, addr, (void *)buf, len, true);
}

/* Configuration space accesses */

/* The function CONFIG_ADDRESS selects, or NULL (disabled, other bus, absent). */
static struct pci_device *bus_selected(struct pci_bus *bus)
{
    uint32_t a = bus->config_address;
    if (!(a & PCI_CONFIG_ENABLE) || ((a >> 16) & 0xFF) != 0)
        return NULL;
    int devfn = (a >> 8) & 0xFF;
    /* a slot without function 0 has no other functions either */
    if ((devfn & 7) && !bus->devices[devfn & ~7])
        return NULL;
    return bus->devices[devfn];
}

static uint32_t config_read(struct pci_device *dev, int offset, int size)
{
    if (dev->config_read)
        return dev->config_read(dev, offset, size);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)dev->config[offset + i] << (8 * i);
    return v;
}

static void config_write(struct pci_device *dev, int offset, uint32_t value, int size)
{
    bool was = intx_driven(dev);
    for (int i = 0; i < size; i++) {
        int o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        dev->config[o] = (uint8_t)((dev->config[o] & ~dev->wmask[o]) | (b & dev->wmask[o]));
        dev->config[o] &= (uint8_t)~(b & dev->w1cmask[o]);
    }
    intx_update(dev, was);
    pci_update_mappings(dev);
    if (dev->config_written)
        dev->config_written(dev, offset, value, size);
}

static uint32_t all_ones(int size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static uint32_t pci_port_read(void *opaque, uint16_t port, int size)
{
    struct pci_bus *bus = opaque;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
        return bus->config_address;
    if (port == PCI_RESET_CONTROL_PORT && size == 1)
        return bus->reset_control;
    if (port < PCI_CONFIG_DATA_PORT)
        return all_ones(size);          /* not the address register: nothing here */
    int lane = port & 3;
    int n = size <= 4 - lane ? size : 4 - lane;
    struct pci_device *dev = bus_selected(bus);
    if (!dev)
        return all_ones(size);
    uint32_t v = config_read(dev, (int)(bus->config_address & 0xFC) + lane, n);
    return (v & all_ones(n)) | (all_ones(size) & ~all_ones(n));
}

static void pci_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct pci_bus *bus = opaque;
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4) {
        bus->config_address = value & PCI_CONFIG_ADDRESS_MASK;
        return;
    }
    if (port == PCI_RESET_CONTROL_PORT && size == 1) {
        bus->reset_control = (uint8_t)(value & RCR_STORED);
        if (value & RCR_RESET_CPU)
            machine_request_reset(bus->machine);
        return;
    }
    if (port < PCI_CONFIG_DATA_PORT)
        return;
    int lane = port & 3;
    int n = size <= 4 - lane ? size : 4 - lane;
    struct pci_device *dev = bus_selected(bus);
    if (dev)
        config_write(dev, (int)(bus->config_address & 0xFC) + lane, value & all_ones(n), n);
}

static void pci_bus_reset(void *opaque)
{
    struct pci_bus *bus = opaque;
    for (int devfn = 0; devfn < 256; devfn++) {
        struct pci_device *dev = bus->devices[devfn];
        if (!dev)
            continue;
        bool was = intx_driven(dev);
        pci_set_word(dev->config + PCI_COMMAND, 0);
        uint16_t status = pci_get_word(dev->config + PCI_STATUS);
        pci_set_word(dev->config + PCI_STATUS, status & (uint16_t)~PCI_STATUS_ERROR_BITS);
        dev->irq_asserted = false;
        status_set_interrupt(dev);
        dev->config[PCI_CACHE_LINE_SIZE] = 0;
        dev->config[PCI_LATENCY_TIMER] = 0;
        dev->config[PCI_INTERRUPT_LINE] = 0;
        for (int i = 0; i <= PCI_ROM_SLOT; i++)
            if (dev->bars[i].size)
                bar_init_config(dev, i);
        intx_update(dev, was);
        pci_update_mappings(dev);
    }
    bus->config_address = 0;
    bus->reset_control = 0;
}

static const struct ioport_ops pci_port_ops = { pci_port_read, pci_port_write };

/* ---- save state ---- */

/* Every function's configuration space is saved here, with the bus (the
 * functions' own devices save what else they hold). Write masks, BAR sizes
 * and callbacks are fixed at creation; BAR addresses, PIRQ counts and
 * levels are derived. */
static const struct state_field pci_function_fields[] = {
    STATE_ARRAY(struct pci_device, config),
    STATE_BOOL(struct pci_device, irq_asserted),
};
static const struct state_desc pci_function_state = STATE_DESC("pci_function", 1, pci_function_fields);

static const struct state_field pci_bus_fields[] = {
    STATE_U32(struct pci_bus, config_address),
    STATE_U8(struct pci_bus, reset_control),
    STATE_PTR_STRUCT_ARRAY(struct pci_bus, devices, pci_function_state),
};
static const struct state_desc pci_bus_state = STATE_DESC("pci-bus", 1, pci_bus_fields);

/* Map the BARs as the loaded configuration decodes them, then drive each
 * PIRQ with the OR of the functions asserting it. */
static int pci_bus_post_load(void *opaque)
{
    struct pci_bus *bus = opaque;
    int count[4] = { 0 };
    for (int devfn = 0; devfn < 256; devfn++) {
        struct pci_device *dev = bus->devices[devfn];
        if (!dev)
            continue;
        pci_update_mappings(dev);
        int pirq = intx_pirq(dev);
        if (intx_driven(dev) && pirq >= 0)
            count[pirq]++;
    }
    for (int i = 0; i < 4; i++) {
        bus->pirq_count[i] = count[i];
        irq_set_level(bus->pirq[i], count[i] > 0);
    }
    return 0;
}

static const struct device_ops pci_bus_device_ops = {
    .name = "pci-bus",
    .state = &pci_bus_state,
    .post_load = pci_bus_post_load,
    .reset = pci_bus_reset,
    .destroy = free,
};

int pci_bus_create(struct machine *m, struct pci_bus **out)
{
    if (out)
        *out = NULL;
    struct pci_bus *bus = calloc(1, sizeof *bus);
    if (!bus)
        return -1;
    bus->machine = m;
    if (ioport_register(&m->io, PCI_CONFIG_ADDRESS_PORT, 8, &pci_port_ops, bus) != 0) {
        free(bus);
        return -1;
    }
    if (machine_add_device(m, &pci_bus_device_ops, bus) != 0) {
        ioport_unregister(&m->io, PCI_CONFIG_ADDRESS_PORT, 8);
        free(bus);
        return -1;
    }
    if (out)
        *out = bus;
    return 0;
}
