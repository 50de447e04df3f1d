/* devices/i440fx.c: the Intel 82441FX PCI and memory controller (PMC) of
 * the i440FX chipset, as the host bridge at 00:00.0.
 *
 * Identity as QEMU's "pc" machine presents it: 8086:1237 revision 02,
 * class 06 00 00 (host bridge), subsystem 1af4:1100 (SeaBIOS looks for it
 * to take its QEMU paths, fw_cfg among them).
 *
 * Modelled: the Programmable Attribute Map registers PAM0-PAM6 (0x59-0x5F)
 * steering 0xC0000-0xFFFFF. PAM0 bits 5:4 cover 0xF0000-0xFFFFF (64 KiB);
 * PAM1-PAM6 hold two nibbles each, low then high, for the 16 KiB segments
 * 0xC0000, 0xC4000, ... 0xEC000. In a nibble bit 0 (RE) sends reads to
 * DRAM and bit 1 (WE) sends writes to DRAM; otherwise reads go to PCI
 * (the BIOS ROM's low alias for 0xE0000-0xFFFFF, all ones below) and
 * writes are dropped. Each of the 13 areas is one PHYS_SHADOW region.
 * Reset puts every PAM at 0 (ROM reads, dropped writes), as at power-on.
 *
 * Stored only (plain read/write registers with QEMU's reset values):
 * PMCCFG, DETURBO, DBC, AXC, DRAMR, DRAMC, DRAMT (0x50-0x58), the DRAM
 * row boundaries and types (0x60-0x68), MTT/CLT (0x70-0x71), SMRAM (0x72,
 * default 0x02, with the D_LCK lock; SMM space is not modelled, so D_OPEN
 * does not open RAM over the VGA window: logged as unimplemented),
 * ERRCMD/ERRSTS (0x90-0x91), TRC (0x93).
 * Not modelled: DRAM sizing (the DRB values have no effect), caching,
 * SMM, error reporting.
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"

#define I440FX_PAM0      0x59
#define I440FX_PAM_LAST  0x5F
#define I440FX_SMRAM     0x72
#define SMRAM_D_OPEN     0x40
#define SMRAM_D_CLS      0x20
#define SMRAM_D_LCK      0x10
#define SMRAM_G_SMRAME   0x08
#define SMRAM_WRITABLE   (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)
#define I440FX_NUM_PAM_AREAS 13

#define PAM_BIOS_BASE    0xF0000u
#define PAM_BIOS_SIZE    0x10000u
#define PAM_SEG_BASE     0xC0000u
#define PAM_SEG_SIZE     0x4000u
#define BIOS_LOW_SIZE    0x20000u     /* 0xE0000-0xFFFFF */

enum { PAM_READ_ENABLE = 1, PAM_WRITE_ENABLE = 2 };

struct i440fx {
    struct machine *machine;
    struct pci_device pci;
    /* host bytes for 0xE0000-0xFFFFF when the caller's image could not be
     * used in place (it does not cover whole segments); else NULL */
    uint8_t *bios_copy;
};

/* Area i: 0 is the 64 KiB BIOS area, 1-12 the 16 KiB segments. */
static uint32_t pam_area_base(int i)
{
    return i == 0 ? PAM_BIOS_BASE : PAM_SEG_BASE + (uint32_t)(i - 1) * PAM_SEG_SIZE;
}

static uint32_t pam_area_size(int i)
{
    return i == 0 ? PAM_BIOS_SIZE : PAM_SEG_SIZE;
}

/* The two attribute bits (RE, WE) of area i. */
static unsigned pam_area_attr(const struct i440fx *s, int i)
{
    if (i == 0)
        return (s->pci.config[I440FX_PAM0] >> 4) & 3;
    uint8_t reg = s->pci.config[I440FX_PAM0 + 1 + (i - 1) / 2];
    return ((i - 1) & 1 ? reg >> 4 : reg) & 3;
}

static void i440fx_update_pam(struct i440fx *s)
{
    for (int i = 0; i < I440FX_NUM_PAM_AREAS; i++) {
        unsigned attr = pam_area_attr(s, i);
        phys_set_shadow(&s->machine->mem, pam_area_base(i), attr & PAM_READ_ENABLE,
                        attr & PAM_WRITE_ENABLE);
    }
}

/* SMRAM: D_LCK clears D_OPEN and freezes everything but D_CLS until reset.
 * Opening or enabling SMRAM has no effect here (no SMM): say so. */
static void i440fx_smram_written(struct i440fx *s)
{
    uint8_t *smram = &s->pci.config[I440FX_SMRAM];
    if (*smram & SMRAM_D_LCK) {
        *smram &= (uint8_t)~SMRAM_D_OPEN;
        s->pci.wmask[I440FX_SMRAM] = SMRAM_D_CLS;
    }
    if (*smram & (SMRAM_D_OPEN | SMRAM_G_SMRAME))
        machine_log(s->machine, LOG_UNIMP, "i440fx: SMRAM 0x%02x: SMM space is not modelled\n",
                    *smram);
}

static void i440fx_config_written(struct pci_device *dev, int offset, uint32_t value, int size)
{
    if (offset <= I440FX_PAM_LAST && offset + size > I440FX_PAM0)
        i440fx_update_pam(dev->opaque);
    if (offset <= I440FX_SMRAM && offset + size > I440FX_SMRAM)
        i440fx_smram_written(dev->opaque);
}

static void i440fx_reset(void *opaque)
{
    struct i440fx *s = opaque;
    uint8_t *c = s->pci.config;
    pci_set_word(c + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(c + PCI_STATUS, 0);
    memset(c + 0x50, 0, 0x9);           /* 0x50-0x58 */
    memset(c + I440FX_PAM0, 0, I440FX_PAM_LAST - I440FX_PAM0 + 1);
    memset(c + 0x60, 0, 0x9);           /* 0x60-0x68 */
    c[0x70] = 0;
    c[0x71] = 0;
    c[I440FX_SMRAM] = 0x02;             /* C_BASE_SEG: SMRAM would be at 0xA0000 */
    s->pci.wmask[I440FX_SMRAM] = SMRAM_WRITABLE;
    c[0x90] = 0;
    c[0x91] = 0;
    c[0x93] = 0;
    i440fx_update_pam(s);
}

static void i440fx_destroy(void *opaque)
{
    struct i440fx *s = opaque;
    free(s->bios_copy);
    free(s);
}

/* ---- save state ---- */

/* No table: the configuration space (PAM, SMRAM) is saved by the PCI bus
 * (pci.c) and the bridge holds nothing else a guest sees. */

/* Steer 0xC0000-0xFFFFF as the loaded PAM registers say; a locked SMRAM
 * register stays locked. */
static int i440fx_post_load(void *opaque)
{
    struct i440fx *s = opaque;
    s->pci.wmask[I440FX_SMRAM] =
        (s->pci.config[I440FX_SMRAM] & SMRAM_D_LCK) ? SMRAM_D_CLS : SMRAM_WRITABLE;
    i440fx_update_pam(s);
    return 0;
}

static const struct device_ops i440fx_device_ops = {
    .name = "i440fx",
    .post_load = i440fx_post_load,
    .reset = i440fx_reset,
    .destroy = i440fx_destroy,
};

/* ROM bytes for the area at base from an image whose last byte is at
 * 0xFFFFF, or NULL (all ones) below the image. The image starts on an area
 * boundary, so an area is either wholly inside it or wholly below. */
static uint8_t *rom_for_area(uint8_t *image, uint32_t image_size, uint32_t base)
{
    if (!image || base < 0x100000u - image_size)
        return NULL;
    return image + (base - (0x100000u - image_size));
}

int i440fx_create(struct machine *m, struct pci_bus *bus, uint8_t *bios_low, uint32_t bios_low_size)
{
    struct i440fx *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->machine = m;

    /* The image's last byte is at 0xFFFFF (bios_low[0] at 0xE0000 for the
     * usual 128 KiB). Use it in place when every area it reaches is whole
     * (it is at least 128 KiB, or a multiple of 64 KiB); else the areas get
     * a copy padded below with ones. */
    uint8_t *image = NULL;
    uint32_t image_size = 0;
    if (bios_low && bios_low_size >= BIOS_LOW_SIZE) {
        image = bios_low + (bios_low_size - BIOS_LOW_SIZE);
        image_size = BIOS_LOW_SIZE;
    } else if (bios_low && bios_low_size % PAM_BIOS_SIZE == 0) {
        image = bios_low_size ? bios_low : NULL;
        image_size = bios_low_size;
    } else if (bios_low) {
        s->bios_copy = malloc(BIOS_LOW_SIZE);
        if (!s->bios_copy) {
            free(s);
            return -1;
        }
        memset(s->bios_copy, 0xFF, BIOS_LOW_SIZE - bios_low_size);
        memcpy(s->bios_copy + BIOS_LOW_SIZE - bios_low_size, bios_low, bios_low_size);
        image = s->bios_copy;
        image_size = BIOS_LOW_SIZE;
    }

    pci_config_init(&s->pci, 0x8086, 0x1237, 0x02, 0x060000, 0x00);
    pci_set_subsystem(&s->pci, 0x1AF4, 0x1100);
    s->pci.name = "i440fx";
    s->pci.opaque = s;
    s->pci.config_written = i440fx_config_written;
    /* PAM0 has only HIENABLE (bits 5:4); PAM1-6 two nibbles of RE/WE */
    s->pci.wmask[I440FX_PAM0] = 0x30;
    for (int r = I440FX_PAM0 + 1; r <= I440FX_PAM_LAST; r++)
        s->pci.wmask[r] = 0x33;
    memset(s->pci.wmask + 0x50, 0xFF, 0x9);
    memset(s->pci.wmask + 0x60, 0xFF, 0x9);
    s->pci.wmask[0x70] = 0xFF;
    s->pci.wmask[0x71] = 0xFF;
    s->pci.wmask[I440FX_SMRAM] = SMRAM_WRITABLE;   /* C_BASE_SEG is fixed */
    s->pci.wmask[0x90] = 0xFF;
    s->pci.w1cmask[0x91] = 0xFF;        /* ERRSTS: write one to clear */
    s->pci.wmask[0x93] = 0xFF;

    for (int i = 0; i < I440FX_NUM_PAM_AREAS; i++) {
        uint32_t base = pam_area_base(i);
        uint8_t *host = rom_for_area(image, image_size, base);
        if (phys_add_shadow(&m->mem, base, pam_area_size(i), host) != 0) {
            for (int j = 0; j < i; j++)
                phys_remove_region(&m->mem, pam_area_base(j), PHYS_SHADOW);
            i440fx_destroy(s);
            return -1;
        }
    }
    if (pci_register_device(bus, &s->pci, PCI_DEVFN(0, 0)) != 0) {
        for (int j = 0; j < I440FX_NUM_PAM_AREAS; j++)
            phys_remove_region(&m->mem, pam_area_base(j), PHYS_SHADOW);
        i440fx_destroy(s);
        return -1;
    }
    if (machine_add_device(m, &i440fx_device_ops, s) != 0)
        return -1;  /* bus and memory map still point at s: leaked, the machine is unusable */
    i440fx_reset(s);
    return 0;
}
