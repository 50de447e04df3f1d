/* devices/pc.c: the board (see pc.h): creates the devices, wires their IRQ
 * lines, maps the firmware, fills CMOS and fw_cfg with what SeaBIOS reads.
 *
 * Interrupts: each ISA IRQ line fans out to 8259 input n and I/O APIC
 * pin n, except IRQ 0 (the PIT), which reaches I/O APIC pin 2 (QEMU's
 * wiring; fw_cfg's IRQ0 override tells SeaBIOS, whose MP table says so).
 * The PIIX3's PIRQ outputs drive the same lines. The 8259's INTR goes to
 * the local APIC's LINT0, which owns the CPU's interrupt input.
 *
 * The board is itself a small device: its reset re-enables A20 (the gate
 * is open after a hardware reset) and it owns the POST code port 0x80,
 * which Linux also writes as an I/O delay.
 */
#include "devices/pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blockdev.h"
#include "core/machine.h"
#include "devices/fw_cfg.h"
#include "devices/ne2000.h"
#include "devices/pci.h"

#define PC_BIOS_LOW_SIZE   0x20000u      /* the BIOS's last 128 KiB, seen at 0xE0000 */
#define PC_VGA_VRAM_SIZE   (16u << 20)
#define PC_POST_PORT       0x80
#define PC_ISA_IRQS        16

struct pc {
    struct machine  *machine;
    struct pic8259  *pic;
    struct lapic    *lapic;
    struct ioapic   *ioapic;
    struct irq_line  isa_irq[PC_ISA_IRQS];   /* fan out to the 8259 and the I/O APIC */
    struct irq_line  nic_irq[PC_MAX_NICS];   /* ISA NICs' own lines, ORed onto isa_irq */
    uint8_t          nic_irq_num[PC_MAX_NICS];
    struct irq_line  pic_intr;               /* the master 8259's INT, into LINT0 */
    struct pci_bus  *pci;
    struct rtc_cmos *rtc;
    struct fw_cfg   *fw;
    struct dma8237  *dma;
    struct piix4_pm *pm;
    uint8_t          post_code;
};

static void pc_reset(void *opaque)
{
    struct pc *pc = opaque;
    phys_set_a20(&pc->machine->mem, true);
    pc->post_code = 0;
}

static const struct device_ops pc_ops = {
    .name = "pc-board", .reset = pc_reset, .destroy = free,
};

static uint32_t post_read(void *opaque, uint16_t port, int size)
{
    (void)port; (void)size;
    return ((struct pc *)opaque)->post_code;
}

static void post_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    (void)port; (void)size;
    ((struct pc *)opaque)->post_code = (uint8_t)value;
}

static const struct ioport_ops post_port_ops = { post_read, post_write };

static void pc_set_pic_intr(void *opaque, int pin, bool level)
{
    (void)pin;
    struct pc *pc = opaque;
    if (pc->lapic)                       /* NULL while the 8259 is being created */
        irq_set_level(lapic_lint(pc->lapic, 0), level);
}

/* An ISA line carries its device's level ORed with the ISA NICs set to it
 * (a NIC may share IRQ 9 with the SCI, or IRQ 10/11 with PCI interrupts). */
static void pc_set_isa_irq(void *opaque, int irq, bool level)
{
    struct pc *pc = opaque;
    for (int i = 0; i < PC_MAX_NICS; i++)
        if (pc->nic_irq[i].level && pc->nic_irq_num[i] == irq)
            level = true;
    irq_set_level(pic8259_irq(pc->pic, irq), level);
    if (irq != 2)
        irq_set_level(ioapic_irq(pc->ioapic, irq == 0 ? 2 : irq), level);
}

static void pc_set_nic_irq(void *opaque, int nic, bool level)
{
    (void)level;
    struct pc *pc = opaque;
    int irq = pc->nic_irq_num[nic];
    pc_set_isa_irq(pc, irq, pc->isa_irq[irq].level);
}

/* x87 FERR# to IRQ 13, as the PC's glue logic routes it. */
static void pc_fpu_ferr(void *opaque, bool level)
{
    irq_set_level(opaque, level);
}

/* QEMU's boot letters to the CMOS boot device codes SeaBIOS reads. */
static int boot_code(char c)
{
    switch (c) {
    case 'a': case 'b': return 1;
    case 'c': return 2;
    case 'd': return 3;
    case 'n': return 4;
    default: return 0;
    }
}

static void pc_fill_cmos(struct pc *pc, const struct pc_config *cfg)
{
    struct rtc_cmos *rtc = pc->rtc;
    uint32_t ram = pc->machine->cfg.ram_size;
    uint32_t ext_kb = ram > (1u << 20) ? (ram - (1u << 20)) >> 10 : 0;
    uint32_t above16_64k = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
    if (ext_kb > 0xFFFF)
        ext_kb = 0xFFFF;
    if (above16_64k > 0xFFFF)
        above16_64k = 0xFFFF;

    rtc_cmos_set(rtc, 0x15, 640 & 0xFF);         /* base memory, KiB */
    rtc_cmos_set(rtc, 0x16, 640 >> 8);
    rtc_cmos_set(rtc, 0x17, (uint8_t)ext_kb);    /* memory above 1 MiB, KiB */
    rtc_cmos_set(rtc, 0x18, (uint8_t)(ext_kb >> 8));
    rtc_cmos_set(rtc, 0x30, (uint8_t)ext_kb);
    rtc_cmos_set(rtc, 0x31, (uint8_t)(ext_kb >> 8));
    rtc_cmos_set(rtc, 0x34, (uint8_t)above16_64k);  /* above 16 MiB, 64 KiB units */
    rtc_cmos_set(rtc, 0x35, (uint8_t)(above16_64k >> 8));
    rtc_cmos_set(rtc, 0x5B, 0);                  /* above 4 GiB: none */
    rtc_cmos_set(rtc, 0x5C, 0);
    rtc_cmos_set(rtc, 0x5D, 0);
    rtc_cmos_set(rtc, 0x5F, 0);                  /* CPUs - 1 */

    int nfloppies = 0;
    uint8_t ftypes = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t t = cfg->floppy[i] ? fdc82077_cmos_type(cfg->floppy[i]->size) : 0;
        if (t)
            nfloppies++;
        ftypes |= (uint8_t)(t << (i ? 0 : 4));
    }
    rtc_cmos_set(rtc, 0x10, ftypes);
    /* Equipment: floppies, FPU, PS/2 mouse; video bits 0 = EGA/VGA. */
    uint8_t equip = 0x02 | 0x04;
    if (nfloppies)
        equip |= (uint8_t)(0x01 | ((nfloppies - 1) << 6));
    rtc_cmos_set(rtc, 0x14, equip);
    rtc_cmos_set(rtc, 0x12, (uint8_t)((cfg->ide[0].present && !cfg->ide[0].cdrom ? 0xF0 : 0) |
                                      (cfg->ide[1].present && !cfg->ide[1].cdrom ? 0x0F : 0)));

    /* Boot order: 0x3D holds the first two devices, 0x38 the third (high
     * nibble) and bit 0 = skip the floppy boot-signature check. */
    const char *order = cfg->boot_order ? cfg->boot_order : "cad";
    int codes[3] = { 0, 0, 0 };
    for (int i = 0; i < 3 && order[i]; i++)
        codes[i] = boot_code(order[i]);
    rtc_cmos_set(rtc, 0x3D, (uint8_t)(codes[1] << 4 | codes[0]));
    rtc_cmos_set(rtc, 0x38, (uint8_t)(codes[2] << 4));
}

static int pc_fill_fw_cfg(struct pc *pc, const struct pc_config *cfg, char *err, size_t errlen)
{
    struct fw_cfg *fw = pc->fw;
    uint32_t ram = pc->machine->cfg.ram_size;
    int rc = 0;
    rc |= fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 1);
    rc |= fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, 1);
    rc |= fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, ram);
    rc |= fw_cfg_add_i16(fw, FW_CFG_NOGRAPHIC, cfg->nographic);
    rc |= fw_cfg_add_i16(fw, FW_CFG_BOOT_MENU, cfg->boot_menu);
    rc |= fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1);   /* the PIT is on I/O APIC pin 2 */

    /* One e820 RAM entry from 0; SeaBIOS reserves its own areas. Packed
     * {u64 address; u64 length; u32 type}, little-endian. */
    uint8_t e820[20] = { 0 };
    uint64_t len = ram;
    memcpy(e820 + 8, &len, 8);
    e820[16] = 1;
    rc |= fw_cfg_add_file(fw, "etc/e820", e820, sizeof(e820));

    if (cfg->vga && cfg->vgabios)
        rc |= fw_cfg_add_file(fw, "pci1234,1111.rom", cfg->vgabios, cfg->vgabios_size);
    for (int i = 0; i < cfg->nfw_items; i++) {
        const struct pc_fw_item *it = &cfg->fw_items[i];
        rc |= it->name ? fw_cfg_add_file(fw, it->name, it->data, it->size)
                       : fw_cfg_add_bytes(fw, it->key, it->data, it->size);
    }
    if (rc) {
        snprintf(err, errlen, "cannot fill the fw_cfg device (duplicate or oversized item)");
        return -1;
    }
    return 0;
}

int pc_create(struct machine *m, const struct pc_config *cfg, struct pc **out,
              char *err, size_t errlen)
{
    struct pc *pc = calloc(1, sizeof(*pc));
    if (!pc || machine_add_device(m, &pc_ops, pc) != 0) {
        free(pc);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    pc->machine = m;
    if (out)
        *out = pc;

#define TRY(call, what)                                                        \
    do {                                                                       \
        if ((call) != 0) {                                                     \
            snprintf(err, errlen, "cannot create the %s (ports in use or out of memory)", what); \
            return -1;                                                         \
        }                                                                      \
    } while (0)

    if (ioport_register(&m->io, PC_POST_PORT, 1, &post_port_ops, pc) != 0) {
        snprintf(err, errlen, "port 0x80 already in use");
        return -1;
    }

    /* Interrupts: the PIC pair's INTR into the local APIC's LINT0 (the
     * APIC owns the CPU's INTR pin and INTA cycle), the I/O APIC beside it. */
    pc->pic_intr = (struct irq_line){ .set_level = pc_set_pic_intr, .opaque = pc };
    TRY(pic8259_create(m, &pc->pic_intr, &pc->pic), "8259 PIC");
    TRY(lapic_create(m, pc->pic, &pc->lapic), "local APIC");
    TRY(ioapic_create(m, pc->lapic, &pc->ioapic), "I/O APIC");
    for (int i = 0; i < PC_ISA_IRQS; i++)
        pc->isa_irq[i] = (struct irq_line){ .set_level = pc_set_isa_irq, .opaque = pc, .pin = i };
    struct irq_line *isa[PC_ISA_IRQS];
    for (int i = 0; i < PC_ISA_IRQS; i++)
        isa[i] = &pc->isa_irq[i];
    m->cpu.fpu_ferr = pc_fpu_ferr;
    m->cpu.fpu_ferr_opaque = isa[13];

    /* Firmware: the whole image at the top of 4 GiB, its tail below 1 MiB. */
    uint8_t *bios_low = NULL;
    uint32_t bios_low_size = 0;
    if (cfg->bios) {
        if (phys_add_rom(&m->mem, (uint32_t)(0x100000000ull - cfg->bios_size), cfg->bios_size,
                         cfg->bios) != 0) {
            snprintf(err, errlen, "cannot map the BIOS image");
            return -1;
        }
        bios_low_size = cfg->bios_size < PC_BIOS_LOW_SIZE ? cfg->bios_size : PC_BIOS_LOW_SIZE;
        bios_low = cfg->bios + cfg->bios_size - bios_low_size;
    }

    TRY(pci_bus_create(m, &pc->pci), "PCI bus");
    TRY(i440fx_create(m, pc->pci, bios_low, bios_low_size), "i440FX host bridge");
    TRY(piix3_create(m, pc->pci, isa), "PIIX3 ISA bridge");

    TRY(pit8254_create(m, isa[0], NULL), "8254 PIT");
    TRY(rtc_cmos_create(m, isa[8], cfg->rtc_base, &pc->rtc), "RTC/CMOS");
    TRY(dma8237_create(m, &pc->dma), "8237 DMA controller");
    TRY(i8042_create(m, isa[1], isa[12], NULL),
        "i8042 keyboard controller");
    TRY(uart16550_create(m, 0x3F8, isa[4], cfg->serial[0]), "COM1 UART");
    TRY(uart16550_create(m, 0x2F8, isa[3], cfg->serial[1]), "COM2 UART");
    TRY(ide_create(m, pc->pci, PCI_DEVFN(1, 1), isa[14], isa[15], cfg->ide), "PIIX3 IDE controller");
    /* ACPI: SeaBIOS builds its tables when it finds this function; the SCI
     * is ISA IRQ 9 (8259 input 9 and I/O APIC pin 9), as its FADT, DSDT and
     * MADT say. Both UARTs always exist. */
    TRY(piix4_pm_create(m, pc->pci, PCI_DEVFN(1, 3), isa[9],
                        PIIX4_PM_COM1 | PIIX4_PM_COM2, &pc->pm), "PIIX4 power management");
    struct blockdev *floppies[2] = { cfg->floppy[0], cfg->floppy[1] };
    TRY(fdc82077_create(m, isa[6], pc->dma, floppies), "floppy controller");
    if (cfg->vga)
        TRY(vga_create(m, pc->pci, PCI_DEVFN(2, 0), PC_VGA_VRAM_SIZE), "VGA");
    /* NICs: PCI cards in the next free slots (after the VGA, as QEMU
     * places them), ISA cards at their ports (QEMU's 0x300 / IRQ 9 default). */
    for (int i = 0; i < cfg->nnics && i < PC_MAX_NICS; i++) {
        const struct pc_nic_config *nic = &cfg->nics[i];
        int rc = -1;
        if (nic->model == PC_NIC_NE2K_ISA) {
            uint8_t irq = nic->irq ? nic->irq : 9;
            pc->nic_irq[i] = (struct irq_line){ .set_level = pc_set_nic_irq, .opaque = pc, .pin = i };
            pc->nic_irq_num[i] = irq;
            if (irq < PC_ISA_IRQS && irq != 2)
                rc = ne2000_isa_create(m, nic->iobase ? nic->iobase : 0x300, &pc->nic_irq[i],
                                       nic->mac, nic->netdev);
        } else {
            int slot = 1;
            while (slot < 32 && pc->pci->devices[PCI_DEVFN(slot, 0)])
                slot++;
            if (slot < 32)
                rc = ne2000_pci_create(m, pc->pci, PCI_DEVFN(slot, 0), nic->mac, nic->netdev);
        }
        if (rc != 0) {
            snprintf(err, errlen, "cannot create NIC %d (ports, IRQ or PCI slot unavailable)", i);
            return -1;
        }
    }
    TRY(fw_cfg_create(m, &pc->fw), "fw_cfg device");
    if (debugport_create(m, cfg->debugcon, cfg->debug_exit, cfg->debug_exit_iobase,
                         cfg->debug_exit_iosize) != 0) {
        snprintf(err, errlen, "-device isa-debug-exit,iobase=0x%x,iosize=0x%x: ports already in use",
                 cfg->debug_exit_iobase, cfg->debug_exit_iosize);
        return -1;
    }
#undef TRY

    pc_fill_cmos(pc, cfg);
    return pc_fill_fw_cfg(pc, cfg, err, errlen);
}
