/* tests/unit/test_pci.c: PCI bus 0 (mechanism #1, BARs, INTx), the i440FX
 * host bridge (IDs, PAM shadowing) and the PIIX3 ISA bridge (PIRQ routing,
 * port 0x92), without a CPU.
 *
 * Each test builds a machine with the bus, drives configuration space
 * through ports 0xCF8/0xCFC as a guest would, and watches the results:
 * a fake function records its BAR map callbacks, the PIRQ outputs are
 * recorded directly or read back from a real 8259 PIC's IRR, and the PAM
 * tests replay SeaBIOS's make_bios_writable/readonly through phys_read and
 * phys_write.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"

#define BIOS_SIZE (128u << 10)

struct map_call {
    int bar;
    uint32_t old_addr, new_addr;
};

/* A function with an I/O BAR, two memory BARs and a ROM. */
struct fake {
    struct pci_device pci;
    struct map_call calls[32];
    int ncalls;
};

struct bench {
    struct machine *m;
    struct pci_bus *bus;
    struct pic8259 *pic;
    struct irq_line pirq_out[4];   /* bus->pirq[] when no PIIX3 is present */
    bool pirq_level[4];
    uint8_t *bios;
};

static void fake_map(struct pci_device *dev, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct fake *f = dev->opaque;
    ck_assert_int_lt(f->ncalls, 32);
    f->calls[f->ncalls++] = (struct map_call){ bar, old_addr, new_addr };
}

static struct fake *fake_new(struct bench *b, int devfn, uint8_t header_type, uint8_t pin)
{
    struct fake *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    pci_config_init(&f->pci, 0x1234, 0x5678, 0x01, 0x020000, header_type);
    f->pci.config[PCI_INTERRUPT_PIN] = pin;
    pci_register_bar(&f->pci, 0, 32, PCI_BAR_IO, fake_map);
    pci_register_bar(&f->pci, 1, 1u << 20, PCI_BAR_MEM | PCI_BAR_PREFETCH, fake_map);
    pci_register_bar(&f->pci, 2, 4096, PCI_BAR_MEM, NULL);
    pci_register_bar(&f->pci, PCI_ROM_SLOT, 64u << 10, PCI_BAR_MEM, fake_map);
    f->pci.opaque = f;
    ck_assert_int_eq(pci_register_device(b->bus, &f->pci, devfn), 0);
    return f;
}

static void record_pirq(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    b->pirq_level[pin] = level;
}

/* with_chipset: PIC, i440FX (with a BIOS image) and PIIX3; else a bare bus
 * whose PIRQ outputs are recorded in pirq_level[]. */
static struct bench *bench_new(bool with_chipset)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16u << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_int_eq(pci_bus_create(b->m, &b->bus), 0);
    if (with_chipset) {
        b->bios = malloc(BIOS_SIZE);
        ck_assert_ptr_nonnull(b->bios);
        for (uint32_t i = 0; i < BIOS_SIZE; i++)
            b->bios[i] = (uint8_t)(i * 7 + (i >> 8) + 1);
        ck_assert_int_eq(phys_add_rom(&b->m->mem, 0xFFFE0000u, BIOS_SIZE, b->bios), 0);
        ck_assert_int_eq(pic8259_create(b->m, NULL, &b->pic), 0);
        ck_assert_int_eq(i440fx_create(b->m, b->bus, b->bios, BIOS_SIZE), 0);
        struct irq_line *isa_irq[16];
        for (int i = 0; i < 16; i++)
            isa_irq[i] = pic8259_irq(b->pic, i);
        ck_assert_int_eq(piix3_create(b->m, b->bus, isa_irq), 0);
    } else {
        for (int i = 0; i < 4; i++) {
            b->pirq_out[i] = (struct irq_line){ .set_level = record_pirq, .opaque = b, .pin = i };
            b->bus->pirq[i] = &b->pirq_out[i];
        }
    }
    ck_assert_int_eq(machine_reset(b->m), 0);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b->bios);
    free(b);
}

static void out(struct bench *b, uint16_t port, uint32_t v, int size) { ioport_write(&b->m->io, port, v, size); }
static uint32_t in(struct bench *b, uint16_t port, int size) { return ioport_read(&b->m->io, port, size); }

static uint32_t cfg_read(struct bench *b, int devfn, int off, int size)
{
    out(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xFC), 4);
    return in(b, (uint16_t)(0xCFC + (off & 3)), size);
}

static void cfg_write(struct bench *b, int devfn, int off, uint32_t v, int size)
{
    out(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xFC), 4);
    out(b, (uint16_t)(0xCFC + (off & 3)), v, size);
}

static void check_call(struct fake *f, int i, int bar, uint32_t old_addr, uint32_t new_addr)
{
    ck_assert_int_gt(f->ncalls, i);
    ck_assert_int_eq(f->calls[i].bar, bar);
    ck_assert_uint_eq(f->calls[i].old_addr, old_addr);
    ck_assert_uint_eq(f->calls[i].new_addr, new_addr);
}

START_TEST(host_bridge_ids_and_mechanism1)
{
    struct bench *b = bench_new(true);
    ck_assert_uint_eq(cfg_read(b, 0, 0x00, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(b, 0, 0x08, 4), 0x06000002);
    ck_assert_uint_eq(cfg_read(b, 0, 0x2C, 4), 0x11001AF4);
    ck_assert_uint_eq(cfg_read(b, 0, 0x0E, 1), 0x00);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 0), 0x00, 4), 0x70008086);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 0), 0x08, 4) >> 8, 0x060100);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 0), 0x0E, 1), 0x80);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 0), 0x04, 2), 0x0007);
    /* byte and word lanes of one dword */
    ck_assert_uint_eq(cfg_read(b, 0, 0x00, 1), 0x86);
    ck_assert_uint_eq(cfg_read(b, 0, 0x01, 1), 0x80);
    ck_assert_uint_eq(cfg_read(b, 0, 0x02, 2), 0x1237);
    ck_assert_uint_eq(cfg_read(b, 0, 0x03, 1), 0x12);
    ck_assert_uint_eq(cfg_read(b, 0, 0x2E, 2), 0x1100);
    ck_assert_uint_eq(cfg_read(b, 0, 0x01, 2), 0x3780);    /* unaligned word */
    ck_assert_uint_eq(cfg_read(b, 0, 0x03, 2), 0xFF12);    /* cut at 0xCFF */
    /* absent functions, other buses, the enable bit clear */
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(5, 0), 0x00, 4), 0xFFFFFFFF);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(0, 1), 0x00, 4), 0xFFFFFFFF);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 1), 0x00, 2), 0xFFFF);
    out(b, 0xCF8, 0x80010000u, 4);
    ck_assert_uint_eq(in(b, 0xCFC, 4), 0xFFFFFFFF);
    out(b, 0xCF8, 0x00000000u, 4);
    ck_assert_uint_eq(in(b, 0xCFC, 4), 0xFFFFFFFF);
    out(b, 0xCFC, 0x12345678, 4);                           /* goes nowhere */
    ck_assert_uint_eq(cfg_read(b, 0, 0x00, 4), 0x12378086);
    /* the address register: dword only, reserved bits read as zero */
    out(b, 0xCF8, 0xFF0000FFu, 4);
    ck_assert_uint_eq(in(b, 0xCF8, 4), 0x800000FC);
    out(b, 0xCF8, 0x80000000u, 4);
    out(b, 0xCFB, 0x01, 1);                                 /* Linux's probe pokes this */
    out(b, 0xCF8, 0x1234, 2);
    ck_assert_uint_eq(in(b, 0xCF8, 4), 0x80000000);
    ck_assert_uint_eq(in(b, 0xCF8, 2), 0xFFFF);
    ck_assert_uint_eq(in(b, 0xCFA, 1), 0xFF);
    /* read-only header fields ignore writes */
    cfg_write(b, 0, 0x00, 0xFFFFFFFF, 4);
    cfg_write(b, 0, 0x08, 0, 4);
    ck_assert_uint_eq(cfg_read(b, 0, 0x00, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(b, 0, 0x08, 4), 0x06000002);
    /* writable plain registers */
    cfg_write(b, 0, 0x0D, 0x40, 1);
    ck_assert_uint_eq(cfg_read(b, 0, 0x0D, 1), 0x40);
    cfg_write(b, PCI_DEVFN(1, 0), 0x3C, 0x0B, 1);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(1, 0), 0x3C, 1), 0x0B);
    bench_free(b);
}
END_TEST

START_TEST(multifunction_visibility)
{
    struct bench *b = bench_new(false);
    struct fake *f1 = fake_new(b, PCI_DEVFN(3, 1), 0x00, 1);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 1), 0x00, 4), 0xFFFFFFFF);   /* no function 0 */
    cfg_write(b, PCI_DEVFN(3, 1), 0x3C, 0x05, 1);
    ck_assert_uint_eq(f1->pci.config[0x3C], 0);
    struct fake *f0 = fake_new(b, PCI_DEVFN(3, 0), 0x80, 1);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 0), 0x0E, 1), 0x80);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 1), 0x00, 4), 0x56781234);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 2), 0x00, 4), 0xFFFFFFFF);
    /* a taken devfn cannot be registered twice */
    struct pci_device other = { 0 };
    pci_config_init(&other, 0x1111, 0x2222, 0, 0, 0);
    ck_assert_int_eq(pci_register_device(b->bus, &other, PCI_DEVFN(3, 0)), -1);
    ck_assert_int_eq(pci_register_device(b->bus, &other, 256), -1);
    bench_free(b);
    free(f0);
    free(f1);
}
END_TEST

START_TEST(bar_sizing_and_mapping)
{
    struct bench *b = bench_new(false);
    int fn = PCI_DEVFN(3, 0);
    struct fake *f = fake_new(b, fn, 0x00, 1);
    /* type bits before sizing */
    ck_assert_uint_eq(cfg_read(b, fn, 0x10, 4), 0x00000001);
    ck_assert_uint_eq(cfg_read(b, fn, 0x14, 4), 0x00000008);
    ck_assert_uint_eq(cfg_read(b, fn, 0x18, 4), 0x00000000);
    /* sizing: all ones reads back the size mask with the type bits */
    for (int off = 0x10; off <= 0x24; off += 4)
        cfg_write(b, fn, off, 0xFFFFFFFF, 4);
    cfg_write(b, fn, 0x30, 0xFFFFF800, 4);
    ck_assert_uint_eq(cfg_read(b, fn, 0x10, 4), 0xFFFFFFE1);
    ck_assert_uint_eq(cfg_read(b, fn, 0x14, 4), 0xFFF00008);
    ck_assert_uint_eq(cfg_read(b, fn, 0x18, 4), 0xFFFFF000);
    ck_assert_uint_eq(cfg_read(b, fn, 0x1C, 4), 0);           /* no BAR 3 */
    ck_assert_uint_eq(cfg_read(b, fn, 0x30, 4), 0xFFFF0000);
    cfg_write(b, fn, 0x30, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(b, fn, 0x30, 4), 0xFFFF0001);
    ck_assert_int_eq(f->ncalls, 0);                          /* command register is 0 */
    /* program addresses, then enable decoding */
    cfg_write(b, fn, 0x10, 0xC000, 4);
    cfg_write(b, fn, 0x14, 0xE0000000, 4);
    cfg_write(b, fn, 0x18, 0xE0100000, 4);
    cfg_write(b, fn, 0x30, 0xFEB00000, 4);
    ck_assert_uint_eq(cfg_read(b, fn, 0x10, 4), 0xC001);
    ck_assert_int_eq(f->ncalls, 0);
    cfg_write(b, fn, 0x04, PCI_COMMAND_IO, 2);
    ck_assert_int_eq(f->ncalls, 1);
    check_call(f, 0, 0, PCI_BAR_UNMAPPED, 0xC000);
    cfg_write(b, fn, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    ck_assert_int_eq(f->ncalls, 2);                          /* ROM not enabled yet */
    check_call(f, 1, 1, PCI_BAR_UNMAPPED, 0xE0000000);
    ck_assert_uint_eq(f->pci.bars[2].addr, 0xE0100000);      /* map NULL: tracked anyway */
    cfg_write(b, fn, 0x30, 0xFEB00001, 4);
    check_call(f, 2, PCI_ROM_SLOT, PCI_BAR_UNMAPPED, 0xFEB00000);
    /* moving, rewriting the same value, sizing while decoded */
    cfg_write(b, fn, 0x10, 0xC100, 4);
    check_call(f, 3, 0, 0xC000, 0xC100);
    cfg_write(b, fn, 0x10, 0xC100, 4);
    cfg_write(b, fn, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    ck_assert_int_eq(f->ncalls, 4);
    cfg_write(b, fn, 0x10, 0xFFFFFFFF, 4);
    check_call(f, 4, 0, 0xC100, PCI_BAR_UNMAPPED);
    cfg_write(b, fn, 0x10, 0xC100, 4);
    check_call(f, 5, 0, PCI_BAR_UNMAPPED, 0xC100);
    cfg_write(b, fn, 0x17, 0xD0, 1);                         /* one byte of the address */
    check_call(f, 6, 1, 0xE0000000, 0xD0000000);
    cfg_write(b, fn, 0x12, 0x0001, 2);                       /* I/O BAR above 64 KiB */
    check_call(f, 7, 0, 0xC100, PCI_BAR_UNMAPPED);
    cfg_write(b, fn, 0x12, 0x0000, 2);
    check_call(f, 8, 0, PCI_BAR_UNMAPPED, 0xC100);
    /* low address bits below the size are not writable */
    cfg_write(b, fn, 0x10, 0xC11F, 4);
    ck_assert_uint_eq(cfg_read(b, fn, 0x10, 4), 0xC101);
    ck_assert_int_eq(f->ncalls, 9);
    /* command register off: everything unmapped */
    cfg_write(b, fn, 0x04, 0, 2);
    ck_assert_int_eq(f->ncalls, 12);
    check_call(f, 9, 0, 0xC100, PCI_BAR_UNMAPPED);
    check_call(f, 10, 1, 0xD0000000, PCI_BAR_UNMAPPED);
    check_call(f, 11, PCI_ROM_SLOT, 0xFEB00000, PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(f->pci.bars[2].addr, PCI_BAR_UNMAPPED);
    /* reset unmaps and clears the addresses */
    cfg_write(b, fn, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    ck_assert_int_eq(f->ncalls, 15);
    cfg_write(b, fn, 0x3C, 0x0A, 1);
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert_int_eq(f->ncalls, 18);
    check_call(f, 15, 0, 0xC100, PCI_BAR_UNMAPPED);
    check_call(f, 16, 1, 0xD0000000, PCI_BAR_UNMAPPED);
    check_call(f, 17, PCI_ROM_SLOT, 0xFEB00000, PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(cfg_read(b, fn, 0x04, 2), 0);
    ck_assert_uint_eq(cfg_read(b, fn, 0x10, 4), 0x00000001);
    ck_assert_uint_eq(cfg_read(b, fn, 0x14, 4), 0x00000008);
    ck_assert_uint_eq(cfg_read(b, fn, 0x30, 4), 0);
    ck_assert_uint_eq(cfg_read(b, fn, 0x3C, 1), 0);
    ck_assert_uint_eq(cfg_read(b, fn, 0x3D, 1), 1);          /* pin is hardware */
    ck_assert_uint_eq(cfg_read(b, fn, 0x00, 4), 0x56781234);
    /* an address of 0 is not decoded */
    cfg_write(b, fn, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    ck_assert_int_eq(f->ncalls, 18);
    bench_free(b);
    free(f);
}
END_TEST

START_TEST(status_and_command_masks)
{
    struct bench *b = bench_new(false);
    int fn = PCI_DEVFN(4, 0);
    struct fake *f = fake_new(b, fn, 0x00, 1);
    /* the device reports errors; the guest clears them by writing ones */
    pci_set_word(f->pci.config + PCI_STATUS, 0x2200);       /* master abort, 66 MHz-ish bit */
    cfg_write(b, fn, 0x06, 0x0000, 2);
    ck_assert_uint_eq(cfg_read(b, fn, 0x06, 2), 0x2200);
    cfg_write(b, fn, 0x06, 0xFFFF, 2);
    ck_assert_uint_eq(cfg_read(b, fn, 0x06, 2), 0x0200);
    /* reserved command bits stay 0 */
    cfg_write(b, fn, 0x04, 0xFFFF, 2);
    ck_assert_uint_eq(cfg_read(b, fn, 0x04, 2), 0x057F);
    /* DMA follows the bus master bit */
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];
    cfg_write(b, fn, 0x04, 0x0003, 2);
    ck_assert_int_eq(pci_dma_write(&f->pci, 0x1000, buf, 8), -1);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0x1000, 4), 0);
    cfg_write(b, fn, 0x04, 0x0007, 2);
    ck_assert_int_eq(pci_dma_write(&f->pci, 0x1000, buf, 8), 0);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0x1004, 4), 0x08070605);
    phys_write(&b->m->mem, 0x1000, 0xAABBCCDD, 4);
    ck_assert_int_eq(pci_dma_read(&f->pci, 0x1000, back, 8), 0);
    ck_assert_uint_eq(back[0], 0xDD);
    ck_assert_uint_eq(back[7], 8);
    ck_assert_int_eq(pci_dma_read(&f->pci, 0xFFFFFFFC, back, 8), 0);   /* past 4 GiB: ones */
    ck_assert_uint_eq(back[7], 0xFF);
    bench_free(b);
    free(f);
}
END_TEST

START_TEST(intx_swizzle)
{
    struct bench *b = bench_new(false);
    struct fake *a = fake_new(b, PCI_DEVFN(3, 0), 0x00, 1);  /* INTA of slot 3: PIRQC */
    struct fake *d = fake_new(b, PCI_DEVFN(4, 0), 0x00, 4);  /* INTD of slot 4: PIRQC */
    struct fake *c = fake_new(b, PCI_DEVFN(2, 0), 0x00, 3);  /* INTC of slot 2: PIRQD */
    pci_set_irq(&a->pci, true);
    ck_assert(b->pirq_level[2]);
    ck_assert_int_eq(b->bus->pirq_count[2], 1);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 0), 0x06, 2) & 0x08, 0x08);   /* status: INTx */
    pci_set_irq(&d->pci, true);
    ck_assert_int_eq(b->bus->pirq_count[2], 2);
    pci_set_irq(&a->pci, false);
    ck_assert(b->pirq_level[2]);                             /* d still asserts */
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(3, 0), 0x06, 2) & 0x08, 0);
    pci_set_irq(&d->pci, false);
    ck_assert(!b->pirq_level[2]);
    ck_assert_int_eq(b->bus->pirq_count[2], 0);
    pci_set_irq(&c->pci, true);
    ck_assert(b->pirq_level[3]);
    ck_assert(!b->pirq_level[0] && !b->pirq_level[1] && !b->pirq_level[2]);
    /* INTx disable (command bit 10) masks the pin; status still shows it */
    cfg_write(b, PCI_DEVFN(2, 0), 0x04, 0x0400, 2);
    ck_assert(!b->pirq_level[3]);
    ck_assert_uint_eq(cfg_read(b, PCI_DEVFN(2, 0), 0x06, 2) & 0x08, 0x08);
    cfg_write(b, PCI_DEVFN(2, 0), 0x04, 0x0000, 2);
    ck_assert(b->pirq_level[3]);
    /* reset deasserts */
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert(!b->pirq_level[3]);
    ck_assert_int_eq(b->bus->pirq_count[3], 0);
    ck_assert(!c->pci.irq_asserted);
    /* a NULL pirq output goes nowhere */
    b->bus->pirq[3] = NULL;
    pci_set_irq(&c->pci, true);
    ck_assert_int_eq(b->bus->pirq_count[3], 1);
    bench_free(b);
    free(a);
    free(c);
    free(d);
}
END_TEST

static uint8_t pic_irr(struct bench *b, uint16_t port)
{
    out(b, port, 0x0A, 1);                                   /* OCW3: read IRR */
    return (uint8_t)in(b, port, 1);
}

/* IRR of the 16 inputs (bit 2 is the cascade). */
static uint16_t irr16(struct bench *b)
{
    return (uint16_t)(pic_irr(b, 0x20) | pic_irr(b, 0xA0) << 8);
}

START_TEST(pirq_routing_to_pic)
{
    struct bench *b = bench_new(true);
    int piix = PCI_DEVFN(1, 0);
    for (int r = 0x60; r <= 0x63; r++)
        ck_assert_uint_eq(cfg_read(b, piix, r, 1), 0x80);
    ck_assert_uint_eq(cfg_read(b, piix, 0x60, 4), 0x80808080);
    struct fake *f1 = fake_new(b, PCI_DEVFN(4, 0), 0x00, 1); /* PIRQD */
    struct fake *f2 = fake_new(b, PCI_DEVFN(5, 0), 0x00, 1); /* PIRQA */
    /* routing disabled: nothing reaches the PIC */
    pci_set_irq(&f1->pci, true);
    ck_assert_uint_eq(irr16(b), 0);
    /* route PIRQD to IRQ 11: the held level shows at once */
    cfg_write(b, piix, 0x63, 0x0B, 1);
    ck_assert_uint_eq(irr16(b), 1u << 11 | 1u << 2);
    /* PIRQA to IRQ 11 too: the line is the OR of both */
    cfg_write(b, piix, 0x60, 0x0B, 1);
    pci_set_irq(&f2->pci, true);
    pci_set_irq(&f1->pci, false);
    ck_assert_uint_eq(irr16(b), 1u << 11 | 1u << 2);
    pci_set_irq(&f2->pci, false);
    ck_assert_uint_eq(irr16(b), 0);
    pci_set_irq(&f2->pci, true);
    ck_assert_uint_eq(irr16(b), 1u << 11 | 1u << 2);
    /* an ISA device owns IRQ 5: routing changes elsewhere leave it alone */
    irq_set_level(pic8259_irq(b->pic, 5), true);
    ck_assert_uint_eq(irr16(b), 1u << 11 | 1u << 5 | 1u << 2);
    /* move PIRQA to IRQ 10 (dword write of all four): 11 is released */
    cfg_write(b, piix, 0x60, 0x0B80800A, 4);
    ck_assert_uint_eq(cfg_read(b, piix, 0x60, 4), 0x0B80800A);
    ck_assert_uint_eq(irr16(b), 1u << 10 | 1u << 5 | 1u << 2);
    /* reserved targets route nowhere */
    cfg_write(b, piix, 0x60, 0x08, 1);
    ck_assert_uint_eq(irr16(b), 1u << 5);
    cfg_write(b, piix, 0x60, 0x0D, 1);
    ck_assert_uint_eq(irr16(b), 1u << 5);
    cfg_write(b, piix, 0x60, 0x03, 1);
    ck_assert_uint_eq(irr16(b), 1u << 5 | 1u << 3);
    cfg_write(b, piix, 0x60, 0x83, 1);                       /* disabled again */
    ck_assert_uint_eq(irr16(b), 1u << 5);
    ck_assert_uint_eq(cfg_read(b, piix, 0x60, 1), 0x83);
    cfg_write(b, piix, 0x61, 0x7F, 1);                       /* bits 6:4 reserved */
    ck_assert_uint_eq(cfg_read(b, piix, 0x61, 1), 0x0F);
    /* reset: routes back to 0x80, PIRQ lines released, ISA line untouched */
    cfg_write(b, piix, 0x60, 0x0C, 1);
    ck_assert_uint_eq(irr16(b), 1u << 12 | 1u << 5 | 1u << 2);
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert_uint_eq(cfg_read(b, piix, 0x60, 4), 0x80808080);
    ck_assert_uint_eq(cfg_read(b, piix, 0x4C, 1), 0x4D);
    ck_assert_uint_eq(cfg_read(b, piix, 0x69, 1), 0x02);
    ck_assert_uint_eq(cfg_read(b, piix, 0x70, 1), 0x80);
    ck_assert_uint_eq(irr16(b), 0);                          /* PIC reset: 5 needs a new edge */
    irq_set_level(pic8259_irq(b->pic, 5), false);
    irq_set_level(pic8259_irq(b->pic, 5), true);
    ck_assert_uint_eq(irr16(b), 1u << 5);
    bench_free(b);
    free(f1);
    free(f2);
}
END_TEST

static uint32_t rd(struct bench *b, uint32_t a) { return phys_read(&b->m->mem, a, 4); }
static void wr(struct bench *b, uint32_t a, uint32_t v) { phys_write(&b->m->mem, a, v, 4); }
static uint32_t bios_at(struct bench *b, uint32_t a)
{
    uint32_t v;
    memcpy(&v, b->bios + (a - 0xE0000), 4);
    return v;
}

START_TEST(pam_seabios_sequence)
{
    struct bench *b = bench_new(true);
    /* power-on: ROM reads, dropped writes, nothing below 0xE0000 */
    ck_assert_uint_eq(rd(b, 0xFFFF0), bios_at(b, 0xFFFF0));
    ck_assert_uint_eq(rd(b, 0xFFFFFFF0), bios_at(b, 0xFFFF0));
    ck_assert_uint_eq(rd(b, 0xF0000), bios_at(b, 0xF0000));
    ck_assert_uint_eq(rd(b, 0xE4000), bios_at(b, 0xE4000));
    ck_assert_uint_eq(rd(b, 0xE0000), bios_at(b, 0xE0000));
    ck_assert_uint_eq(rd(b, 0xC0000), 0xFFFFFFFF);
    ck_assert_uint_eq(rd(b, 0xDC000), 0xFFFFFFFF);
    wr(b, 0xF0000, 0x11223344);
    wr(b, 0xC0000, 0x11223344);
    ck_assert_uint_eq(rd(b, 0xF0000), bios_at(b, 0xF0000));
    ck_assert_uint_eq(b->m->mem.ram[0xF0000], 0);
    ck_assert_uint_eq(b->m->mem.ram[0xC0000], 0);
    for (int r = 0x59; r <= 0x5F; r++)
        ck_assert_uint_eq(cfg_read(b, 0, r, 1), 0);

    /* make_bios_writable: read-modify-write the dwords at 0x58 and 0x5C */
    uint8_t pam[8];
    uint32_t d0 = cfg_read(b, 0, 0x58, 4), d1 = cfg_read(b, 0, 0x5C, 4);
    memcpy(pam, &d0, 4);
    memcpy(pam + 4, &d1, 4);
    bool ram_present = pam[1] & 0x10;
    ck_assert(!ram_present);
    for (int i = 0; i < 6; i++)
        pam[2 + i] = 0x33;
    pam[1] = 0x30;
    memcpy(&d0, pam, 4);
    memcpy(&d1, pam + 4, 4);
    cfg_write(b, 0, 0x58, d0, 4);
    cfg_write(b, 0, 0x5C, d1, 4);
    ck_assert_uint_eq(cfg_read(b, 0, 0x59, 1), 0x30);
    ck_assert_uint_eq(cfg_read(b, 0, 0x5C, 4), 0x33333333);
    /* RAM now answers (zero), so copy the BIOS down from the 4 GiB alias */
    ck_assert_uint_eq(rd(b, 0xF0000), 0);
    for (uint32_t a = 0xE0000; a < 0x100000; a += 4)
        wr(b, a, rd(b, 0xFFF00000u + a));
    ck_assert_uint_eq(rd(b, 0xF0000), bios_at(b, 0xF0000));
    ck_assert_uint_eq(rd(b, 0xEC010), bios_at(b, 0xEC010));
    ck_assert_uint_eq(rd(b, 0xFFFF0), bios_at(b, 0xFFFF0));
    wr(b, 0xF1000, 0xCAFEF00D);                              /* the BIOS patches itself */
    wr(b, 0xC8000, 0x0000AA55);                              /* an option ROM is copied */
    ck_assert_uint_eq(rd(b, 0xF1000), 0xCAFEF00D);
    ck_assert_uint_eq(rd(b, 0xC8000), 0x0000AA55);

    /* make_bios_readonly: byte writes of 0x11 to PAM1-6, 0x10 to PAM0 */
    for (int i = 0; i < 6; i++)
        cfg_write(b, 0, 0x5A + i, 0x11, 1);
    cfg_write(b, 0, 0x59, 0x10, 1);
    ck_assert_uint_eq(cfg_read(b, 0, 0x58, 4), 0x11111000);
    wr(b, 0xF1000, 0x12345678);
    wr(b, 0xC8000, 0x12345678);
    ck_assert_uint_eq(rd(b, 0xF1000), 0xCAFEF00D);           /* RAM, write-protected */
    ck_assert_uint_eq(rd(b, 0xC8000), 0x0000AA55);
    ck_assert_uint_eq(rd(b, 0xF0000), bios_at(b, 0xF0000));
    ck_assert_uint_eq(rd(b, 0xFFFFFFF0), bios_at(b, 0xFFFF0));   /* the alias is still ROM */

    /* each nibble steers its own 16 KiB: PAM1 = 0x30 makes 0xC0000 PCI, 0xC4000 RAM */
    cfg_write(b, 0, 0x5A, 0x30, 1);
    wr(b, 0xC4000, 0x44444444);
    wr(b, 0xC0000, 0x44444444);
    ck_assert_uint_eq(rd(b, 0xC4000), 0x44444444);
    ck_assert_uint_eq(rd(b, 0xC0000), 0xFFFFFFFF);
    ck_assert_uint_eq(b->m->mem.ram[0xC0000], 0);
    ck_assert_uint_eq(rd(b, 0xC7FFC), 0);
    ck_assert_uint_eq(rd(b, 0xC8000), 0x0000AA55);           /* PAM2 unchanged */
    /* PAM6 high nibble is 0xEC000-0xEFFFF */
    cfg_write(b, 0, 0x5F, 0x01, 1);
    ck_assert_uint_eq(rd(b, 0xE8000), bios_at(b, 0xE8000));  /* RAM copy, same bytes */
    wr(b, 0xE8000, 0x55);                                    /* dropped: read-only */
    ck_assert_uint_eq(rd(b, 0xE8000), bios_at(b, 0xE8000));
    phys_load(&b->m->mem, 0xEC000, "\x01\x02\x03\x04", 4);   /* dropped: ROM view */
    ck_assert_uint_eq(rd(b, 0xEC000), bios_at(b, 0xEC000));
    cfg_write(b, 0, 0x5F, 0x31, 1);
    /* write-only (WE without RE): writes reach RAM while reads see the ROM */
    cfg_write(b, 0, 0x59, 0x20, 1);
    wr(b, 0xF2000, 0x5A5AA5A5);
    ck_assert_uint_eq(rd(b, 0xF2000), bios_at(b, 0xF2000));
    cfg_write(b, 0, 0x59, 0x10, 1);
    ck_assert_uint_eq(rd(b, 0xF2000), 0x5A5AA5A5);
    /* PAM0's reserved bits do not stick */
    cfg_write(b, 0, 0x59, 0xFF, 1);
    ck_assert_uint_eq(cfg_read(b, 0, 0x59, 1), 0x30);

    /* reset: PAM = 0, the ROM answers again; RAM keeps its contents */
    cfg_write(b, 0, 0x72, 0x4A, 1);                          /* D_OPEN, G_SMRAME: stored */
    ck_assert_uint_eq(cfg_read(b, 0, 0x72, 1), 0x4A);
    cfg_write(b, 0, 0x72, 0xFF, 1);                          /* D_LCK closes and locks */
    ck_assert_uint_eq(cfg_read(b, 0, 0x72, 1), 0x3A);
    cfg_write(b, 0, 0x72, 0x42, 1);                          /* only D_CLS still moves */
    ck_assert_uint_eq(cfg_read(b, 0, 0x72, 1), 0x1A);
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert_uint_eq(cfg_read(b, 0, 0x58, 4), 0);
    ck_assert_uint_eq(cfg_read(b, 0, 0x5C, 4), 0);
    ck_assert_uint_eq(cfg_read(b, 0, 0x72, 1), 0x02);
    cfg_write(b, 0, 0x72, 0x40, 1);                          /* unlocked again */
    ck_assert_uint_eq(cfg_read(b, 0, 0x72, 1), 0x42);
    ck_assert_uint_eq(rd(b, 0xF1000), bios_at(b, 0xF1000));
    ck_assert_uint_eq(rd(b, 0xC8000), 0xFFFFFFFF);
    ck_assert_uint_eq(b->m->mem.ram[0xC8000], 0x55);
    bench_free(b);
}
END_TEST

START_TEST(pam_short_bios_image)
{
    char err[128];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = 16u << 20 }, err,
                                       sizeof err);
    ck_assert_ptr_nonnull(m);
    struct pci_bus *bus;
    ck_assert_int_eq(pci_bus_create(m, &bus), 0);
    /* 72 KiB: its last byte at 0xFFFFF, so it starts at 0xEE000 */
    uint32_t size = 72u << 10;
    uint8_t *img = malloc(size);
    ck_assert_ptr_nonnull(img);
    memset(img, 0x5C, size);
    img[0] = 0xA1;
    img[size - 1] = 0xB2;
    ck_assert_int_eq(i440fx_create(m, bus, img, size), 0);
    ck_assert_int_eq(machine_reset(m), 0);
    ck_assert_uint_eq(phys_read(&m->mem, 0xEDFFF, 1), 0xFF);
    ck_assert_uint_eq(phys_read(&m->mem, 0xEE000, 1), 0xA1);
    ck_assert_uint_eq(phys_read(&m->mem, 0xFFFFF, 1), 0xB2);
    ck_assert_uint_eq(phys_read(&m->mem, 0xF8000, 1), 0x5C);
    machine_destroy(m);
    free(img);
    /* no image at all: all ones */
    m = machine_create(&(struct machine_config){ .ram_size = 16u << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(pci_bus_create(m, &bus), 0);
    ck_assert_int_eq(i440fx_create(m, bus, NULL, 0), 0);
    ck_assert_int_eq(machine_reset(m), 0);
    ck_assert_uint_eq(phys_read(&m->mem, 0xFFFF0, 4), 0xFFFFFFFF);
    /* a second host bridge cannot take 00.0 */
    ck_assert_int_eq(i440fx_create(m, bus, NULL, 0), -1);
    machine_destroy(m);
}
END_TEST

START_TEST(reset_control_0xcf9)
{
    struct bench *b = bench_new(true);
    ck_assert_uint_eq(in(b, 0xCF9, 1), 0);
    out(b, 0xCF9, 0x02, 1);                                  /* select hard reset */
    ck_assert_uint_eq(in(b, 0xCF9, 1), 0x02);
    ck_assert(!b->m->reset_requested);
    out(b, 0xCF8, 0x80000000u, 4);                           /* dword at 0xCF8: address only */
    ck_assert_uint_eq(in(b, 0xCF9, 1), 0x02);
    out(b, 0xCF9, 0x06, 1);                                  /* reset CPU */
    ck_assert(b->m->reset_requested);
    b->m->reset_requested = false;
    out(b, 0xCF9, 0x04, 1);                                  /* soft reset: also a reset here */
    ck_assert(b->m->reset_requested);
    b->m->reset_requested = false;
    out(b, 0xCF9, 0xFF, 1);
    ck_assert_uint_eq(in(b, 0xCF9, 1), 0x0A);
    b->m->reset_requested = false;
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert_uint_eq(in(b, 0xCF9, 1), 0);
    bench_free(b);
}
END_TEST

START_TEST(port92_a20_and_fast_reset)
{
    struct bench *b = bench_new(true);
    struct phys_mem *pm = &b->m->mem;
    ck_assert(phys_a20_enabled(pm));
    ck_assert_uint_eq(in(b, 0x92, 1), 0x02);                 /* the gate as it is */
    phys_write(pm, 0x000010, 0x11111111, 4);
    phys_write(pm, 0x100010, 0x22222222, 4);
    out(b, 0x92, 0x00, 1);
    ck_assert(!phys_a20_enabled(pm));
    ck_assert_uint_eq(in(b, 0x92, 1), 0x00);
    ck_assert_uint_eq(phys_read(pm, 0x100010, 4), 0x11111111);   /* wraps to 0 */
    out(b, 0x92, 0x02, 1);
    ck_assert(phys_a20_enabled(pm));
    ck_assert_uint_eq(phys_read(pm, 0x100010, 4), 0x22222222);
    ck_assert(!b->m->reset_requested);
    /* other bits are stored */
    out(b, 0x92, 0x0A, 1);
    ck_assert_uint_eq(in(b, 0x92, 1), 0x0A);
    /* the keyboard controller may move the gate: reads follow it */
    phys_set_a20(pm, false);
    ck_assert_uint_eq(in(b, 0x92, 1), 0x08);
    phys_set_a20(pm, true);
    /* bit 0: a 0-to-1 transition resets */
    out(b, 0x92, 0x03, 1);
    ck_assert(b->m->reset_requested);
    b->m->reset_requested = false;
    out(b, 0x92, 0x03, 1);
    ck_assert(!b->m->reset_requested);                       /* no new transition */
    out(b, 0x92, 0x02, 1);
    out(b, 0x92, 0x03, 1);
    ck_assert(b->m->reset_requested);
    b->m->reset_requested = false;
    /* reset clears the stored bits but leaves the gate to the board */
    out(b, 0x92, 0x08, 1);
    ck_assert(!phys_a20_enabled(pm));
    ck_assert_int_eq(machine_reset(b->m), 0);
    ck_assert_uint_eq(in(b, 0x92, 1) & ~0x02u, 0);
    out(b, 0x92, 0x01, 1);                                   /* bit 0 was cleared: a transition */
    ck_assert(b->m->reset_requested);
    bench_free(b);
}
END_TEST

static Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("pci");
    tcase_add_test(tc, host_bridge_ids_and_mechanism1);
    tcase_add_test(tc, multifunction_visibility);
    tcase_add_test(tc, bar_sizing_and_mapping);
    tcase_add_test(tc, status_and_command_masks);
    tcase_add_test(tc, intx_swizzle);
    tcase_add_test(tc, pirq_routing_to_pic);
    tcase_add_test(tc, pam_seabios_sequence);
    tcase_add_test(tc, pam_short_bios_image);
    tcase_add_test(tc, reset_control_0xcf9);
    tcase_add_test(tc, port92_a20_and_fast_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pci_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
