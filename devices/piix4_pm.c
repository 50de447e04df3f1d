/* devices/piix4_pm.c: the Intel 82371AB PIIX4 power-management function
 * (ACPI and SMBus) at 00:01.3 as QEMU's pc machine has it (8086:7113,
 * revision 3, class 06 80 00, INTA#), with the QEMU ports the SeaBIOS DSDT
 * reads. SeaBIOS builds its legacy ACPI tables (FADT: PM block at PMBA,
 * SCI on IRQ 9, SMI_CMD 0xB2 with enable 0xF1 / disable 0xF0, GPE0 at
 * 0xAFE0) only when it finds this function.
 *
 * Modelled:
 *   - Configuration: PMBA 0x40 (64-byte PM I/O block, bits 15:6, bit 0 reads
 *     1), decoded while PMREGMISC 0x80 bit 0 is set (like QEMU, not gated by
 *     the command register); SMBBA 0x90 (16 bytes, bits 15:4) decoded while
 *     SMBHSTCFG 0xD2 bit 0 and command bit 0 (I/O) are set; DEVACTB 0x58-0x5B
 *     with APMC_EN (bit 25) preset, as QEMU does without SMM, so SeaBIOS
 *     skips its SMM setup; the DEVRES bytes the DSDT reads (0x5F bit 7 LPT,
 *     0x67 bit 3 COM1, bit 7 COM2) from the board's flags; the other
 *     device-specific bytes are storage.
 *   - PM block: PM1_STS (+0, write-one-to-clear: TMR_STS 0, GBL_STS 5,
 *     PWRBTN_STS 8, RTC_STS 10, WAK_STS 15), PM1_EN (+2), PM1_CNT (+4:
 *     SCI_EN 0, SLP_TYP 12:10, SLP_EN 13 write-only), PM_TMR (+8, 24 bits at
 *     3.579545 MHz from virtual time; TMR_STS on every bit-23 toggle).
 *     SLP_EN with SLP_TYP 0 (the DSDT's _S5) or 2 (QEMU's S4 value) powers
 *     off: the machine exits with status 0, as QEMU does. SLP_TYP 1 (S3)
 *     is not modelled: logged, and the machine wakes at once (WAK_STS set,
 *     nothing lost) so the guest does not wait forever.
 *   - GPE0 block at 0xAFE0 (2 status bytes, write-one-to-clear, 2 enable
 *     bytes), as QEMU's PIIX4 has it outside the PM block.
 *   - SCI (an ISA level line, IRQ 9) = SCI_EN and ((PM1_STS & PM1_EN) for
 *     TMR, GBL, PWRBTN, RTC, or GPE0_STS & GPE0_EN), ORed with the SMBus
 *     completion interrupt when SMBHSTCFG routes it to IRQ 9.
 *   - APM ports 0xB2 (APMC, SMI_CMD) and 0xB3 (APMS, storage): writing the
 *     FADT's ACPI_ENABLE / ACPI_DISABLE values sets / clears SCI_EN, as
 *     QEMU's PIIX4 does in place of an SMI handler.
 *   - QEMU's legacy hotplug ports the DSDT and SeaBIOS read: PCI hotplug at
 *     0xAE00 (up, down, eject, removable = 0xAE0C, bus select; nothing is
 *     pluggable so all read 0) and the CPU-present bitmap at 0xAF00 (32
 *     bytes, CPU 0 present).
 *   - SMBus host controller with no devices on the bus: every transaction
 *     started with START ends at once with DEV_ERR (no acknowledge), KILL
 *     ends one with FAILED; host status is write-one-to-clear.
 * Not modelled: SMI (no SMM in fox86), the PIIX4's own GP/global/device
 * registers in the PM block beyond PM1/PM_TMR (read 0, writes logged), C2/C3
 * (the FADT says unsupported), S1-S3 (see above), throttling, the SMBus
 * slave, and the INTA# pin (the SCI goes straight to IRQ 9, as in QEMU).
 */
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"

/* configuration registers */
#define CFG_PMBA        0x40
#define CFG_DEVACTB     0x58
#define CFG_PMREGMISC   0x80
#define CFG_SMBBA       0x90
#define CFG_SMBHSTCFG   0xD2

#define PMREGMISC_PMIOSE   0x01
#define SMBHSTCFG_HST_EN   0x01
#define SMBHSTCFG_INTRSEL  0x0E
#define SMBHSTCFG_IRQ9     0x08      /* interrupt select 100b */
#define DEVACTB3_APMC_EN   0x02      /* bit 25 of DEVACTB, in byte 0x5B */

#define PM_BLOCK_SIZE   64
#define PM_BASE_MASK    0xFFC0u
#define SMB_BLOCK_SIZE  16
#define SMB_BASE_MASK   0xFFF0u

/* PM block offsets */
#define PM1_STS   0x00
#define PM1_EN    0x02
#define PM1_CNT   0x04
#define PM_TMR    0x08

#define PM1_TMR       0x0001
#define PM1_GBL       0x0020
#define PM1_PWRBTN    0x0100
#define PM1_RTC       0x0400
#define PM1_WAK_STS   0x8000
#define PM1_SCI_EVENTS (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_RTC)

#define CNT_SCI_EN     0x0001
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP    0x1C00
#define CNT_SLP_EN     0x2000

#define SLP_TYP_S5     0         /* the SeaBIOS SSDT's _S5 (and default _S4) */
#define SLP_TYP_S3     1         /* its _S3 */
#define SLP_TYP_S4     2         /* QEMU's s4_val */

#define PM_TIMER_HZ    3579545u
#define PM_TIMER_TOGGLE_SHIFT 23 /* TMR_STS: bit 23 of the 24-bit counter changed */

/* fixed ports */
#define APM_CNT_PORT   0xB2
#define APM_STS_PORT   0xB3
#define ACPI_ENABLE    0xF1
#define ACPI_DISABLE   0xF0
#define GPE0_PORT      0xAFE0
#define GPE0_LEN       4
#define PCIHP_PORT     0xAE00
#define PCIHP_LEN      0x14
#define CPUHP_PORT     0xAF00
#define CPUHP_LEN      32

/* SMBus host registers */
#define SMB_HSTSTS     0x00
#define SMB_SLVSTS     0x01
#define SMB_HSTCNT     0x02
#define SMB_HSTCMD     0x03
#define SMB_HSTADD     0x04
#define SMB_HSTDAT0    0x05
#define SMB_HSTDAT1    0x06
#define SMB_BLKDAT     0x07
#define SMB_SLVCNT     0x08
#define SMB_SHDWCMD    0x09
#define SMB_SLVEVT     0x0A      /* 2 bytes */
#define SMB_SLVDAT     0x0C      /* 2 bytes, read-only */

#define HSTSTS_BUSY    0x01
#define HSTSTS_INTR    0x02
#define HSTSTS_DEV_ERR 0x04
#define HSTSTS_BUS_ERR 0x08
#define HSTSTS_FAILED  0x10
#define HSTSTS_DONE    (HSTSTS_INTR | HSTSTS_DEV_ERR | HSTSTS_BUS_ERR | HSTSTS_FAILED)
#define HSTCNT_INTREN  0x01
#define HSTCNT_KILL    0x02
#define HSTCNT_PROT    0x1C
#define HSTCNT_START   0x40

#define SMB_BLOCK_BYTES 32

struct piix4_pm {
    struct machine *machine;
    struct pci_device pci;
    struct irq_line *sci;
    unsigned isa_devices;          /* PIIX4_PM_* flags for the DEVRES bytes */
    bool sci_level;                /* level last driven on sci */

    uint32_t pm_base;              /* decoded PM block, or PCI_BAR_UNMAPPED */
    uint32_t smb_base;             /* decoded SMBus block, or PCI_BAR_UNMAPPED */

    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint64_t tmr_period_seen;      /* PM timer >> 23 when TMR_STS was last brought up to date */
    uint8_t gpe_sts[2], gpe_en[2];
    uint8_t apm_cnt, apm_sts;
    uint8_t pcihp_bus;             /* BNUM: bus selected for hotplug (storage) */

    uint8_t smb_sts, smb_cnt, smb_cmd, smb_addr, smb_data[2];
    uint8_t smb_block[SMB_BLOCK_BYTES];
    uint8_t smb_block_index;
    uint8_t smb_slvcnt, smb_shdwcmd, smb_slvevt[2];
};

/* ---- PM timer ---- */

/* Counter ticks since virtual time 0 (floor), without 64-bit overflow. */
static uint64_t pm_ticks(uint64_t ns)
{
    return ns / 1000000000u * PM_TIMER_HZ + ns % 1000000000u * PM_TIMER_HZ / 1000000000u;
}

/* The first virtual ns at which the counter reads at least ticks. */
static uint64_t pm_ticks_to_ns(uint64_t ticks)
{
    return ticks / PM_TIMER_HZ * 1000000000u +
           (ticks % PM_TIMER_HZ * 1000000000u + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
}

/* Set TMR_STS if bit 23 toggled since the last look. */
static void pm_timer_update(struct piix4_pm *s, uint64_t now)
{
    uint64_t period = pm_ticks(now) >> PM_TIMER_TOGGLE_SHIFT;
    if (period != s->tmr_period_seen) {
        s->tmr_period_seen = period;
        s->pm1_sts |= PM1_TMR;
    }
}

static uint64_t pm_timer_next_toggle(const struct piix4_pm *s)
{
    return pm_ticks_to_ns((s->tmr_period_seen + 1) << PM_TIMER_TOGGLE_SHIFT);
}

/* ---- SCI ---- */

static bool smbus_irq(const struct piix4_pm *s)
{
    return (s->smb_cnt & HSTCNT_INTREN) && (s->smb_sts & HSTSTS_DONE) &&
           (s->pci.config[CFG_SMBHSTCFG] & SMBHSTCFG_HST_EN) &&
           (s->pci.config[CFG_SMBHSTCFG] & SMBHSTCFG_INTRSEL) == SMBHSTCFG_IRQ9;
}

static void update_sci(struct piix4_pm *s)
{
    bool acpi = (s->pm1_sts & s->pm1_en & PM1_SCI_EVENTS) ||
                (s->gpe_sts[0] & s->gpe_en[0]) || (s->gpe_sts[1] & s->gpe_en[1]);
    bool level = ((s->pm1_cnt & CNT_SCI_EN) && acpi) || smbus_irq(s);
    if (level != s->sci_level) {
        s->sci_level = level;
        irq_set_level(s->sci, level);
    }
}

/* ---- PM block ---- */

static void pm1_sleep(struct piix4_pm *s, unsigned slp_typ)
{
    switch (slp_typ) {
    case SLP_TYP_S5:
    case SLP_TYP_S4:
        /* soft off: a hibernating guest has saved its image by now */
        machine_request_exit(s->machine, 0);
        break;
    case SLP_TYP_S3:
        machine_log(s->machine, LOG_UNIMP, "piix4_pm: S3 suspend not modelled, waking at once\n");
        s->pm1_sts |= PM1_WAK_STS;
        break;
    default:
        machine_log(s->machine, LOG_GUEST_ERRORS, "piix4_pm: sleep with undefined SLP_TYP %u\n",
                    slp_typ);
        s->pm1_sts |= PM1_WAK_STS;
        break;
    }
}

static uint8_t pm_read_byte(struct piix4_pm *s, unsigned off)
{
    switch (off) {
    case PM1_STS:     pm_timer_update(s, machine_now(s->machine)); return (uint8_t)s->pm1_sts;
    case PM1_STS + 1: pm_timer_update(s, machine_now(s->machine)); return (uint8_t)(s->pm1_sts >> 8);
    case PM1_EN:      return (uint8_t)s->pm1_en;
    case PM1_EN + 1:  return (uint8_t)(s->pm1_en >> 8);
    case PM1_CNT:     return (uint8_t)s->pm1_cnt;
    case PM1_CNT + 1: return (uint8_t)(s->pm1_cnt >> 8);
    case PM_TMR: case PM_TMR + 1: case PM_TMR + 2:
        return (uint8_t)(pm_ticks(machine_now(s->machine)) >> (8 * (off - PM_TMR)));
    default:          return 0;   /* PM_TMR bits 31:24 and the registers not modelled */
    }
}

static void pm_write_byte(struct piix4_pm *s, unsigned off, uint8_t v)
{
    switch (off) {
    case PM1_STS: case PM1_STS + 1:
        pm_timer_update(s, machine_now(s->machine));
        s->pm1_sts &= (uint16_t)~((unsigned)v << (8 * (off - PM1_STS)));
        break;
    case PM1_EN: case PM1_EN + 1: {
        uint16_t old = s->pm1_en;
        unsigned shift = 8 * (off - PM1_EN);
        s->pm1_en = (uint16_t)((s->pm1_en & ~(0xFFu << shift)) | (unsigned)v << shift);
        if ((s->pm1_en & PM1_TMR) && !(old & PM1_TMR)) {
            /* the overflow deadline only matters while it can raise an SCI */
            uint64_t now = machine_now(s->machine);
            pm_timer_update(s, now);
            machine_timer_changed(s->machine, s, pm_timer_next_toggle(s));
        }
        break;
    }
    case PM1_CNT:
        s->pm1_cnt = (uint16_t)((s->pm1_cnt & 0xFF00) | v);
        break;
    case PM1_CNT + 1: {
        uint16_t val = (uint16_t)((s->pm1_cnt & 0x00FF) | v << 8);
        s->pm1_cnt = val & (uint16_t)~CNT_SLP_EN;
        if (val & CNT_SLP_EN)
            pm1_sleep(s, (val & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT);
        break;
    }
    case PM_TMR: case PM_TMR + 1: case PM_TMR + 2: case PM_TMR + 3:
        machine_log(s->machine, LOG_GUEST_ERRORS, "piix4_pm: write to the read-only PM timer\n");
        break;
    default:
        machine_log(s->machine, LOG_UNIMP, "piix4_pm: PM register +0x%02x not modelled (write 0x%02x)\n",
                    off, v);
        break;
    }
}

static uint32_t pm_read(void *opaque, uint16_t port, int size)
{
    struct piix4_pm *s = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - s->pm_base) + (unsigned)i;
        uint8_t b = off < PM_BLOCK_SIZE ? pm_read_byte(s, off) : 0xFF;
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void pm_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix4_pm *s = opaque;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - s->pm_base) + (unsigned)i;
        if (off < PM_BLOCK_SIZE)
            pm_write_byte(s, off, (uint8_t)(value >> (8 * i)));
    }
    update_sci(s);
}

static const struct ioport_ops pm_ops = { pm_read, pm_write };

/* ---- GPE0, APM, hotplug ports ---- */

static uint32_t gpe_read(void *opaque, uint16_t port, int size)
{
    struct piix4_pm *s = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - GPE0_PORT) + (unsigned)i;
        uint8_t b = off < 2 ? s->gpe_sts[off] : off < GPE0_LEN ? s->gpe_en[off - 2] : 0xFF;
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix4_pm *s = opaque;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - GPE0_PORT) + (unsigned)i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (off < 2)
            s->gpe_sts[off] &= (uint8_t)~b;
        else if (off < GPE0_LEN)
            s->gpe_en[off - 2] = b;
    }
    update_sci(s);
}

static const struct ioport_ops gpe_ops = { gpe_read, gpe_write };

static uint32_t apm_read(void *opaque, uint16_t port, int size)
{
    struct piix4_pm *s = opaque;
    if (port == APM_STS_PORT)
        return s->apm_sts;
    return size > 1 ? (uint32_t)s->apm_cnt | (uint32_t)s->apm_sts << 8 : s->apm_cnt;
}

static void apm_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix4_pm *s = opaque;
    if (port == APM_STS_PORT) {
        s->apm_sts = (uint8_t)value;
        return;
    }
    if (size > 1)
        s->apm_sts = (uint8_t)(value >> 8);
    s->apm_cnt = (uint8_t)value;
    if (s->apm_cnt == ACPI_ENABLE)
        s->pm1_cnt |= CNT_SCI_EN;
    else if (s->apm_cnt == ACPI_DISABLE)
        s->pm1_cnt &= (uint16_t)~CNT_SCI_EN;
    else if (s->pci.config[CFG_DEVACTB + 3] & DEVACTB3_APMC_EN)
        machine_log(s->machine, LOG_UNIMP, "piix4_pm: SMI for APMC 0x%02x not modelled\n",
                    s->apm_cnt);
    update_sci(s);
}

static const struct ioport_ops apm_ops = { apm_read, apm_write };

/* PCI hotplug: PCIU +0, PCID +4, B0EJ +8, PCRM +0xC, BNUM +0x10. */
static uint32_t pcihp_read(void *opaque, uint16_t port, int size)
{
    struct piix4_pm *s = opaque;
    unsigned off = (unsigned)(port - PCIHP_PORT);
    return off == 0x10 ? s->pcihp_bus : 0;
}

static void pcihp_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix4_pm *s = opaque;
    unsigned off = (unsigned)(port - PCIHP_PORT);
    (void)size;
    if (off == 0x10)
        s->pcihp_bus = (uint8_t)value;
    else if (off == 0x08 && value)
        machine_log(s->machine, LOG_GUEST_ERRORS,
                    "piix4_pm: eject of PCI slots 0x%08x, none is hot-pluggable\n", value);
}

static const struct ioport_ops pcihp_ops = { pcihp_read, pcihp_write };

/* CPU hotplug: one present bit per CPU; fox86 has CPU 0 only. */
static uint32_t cpuhp_read(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    return port == CPUHP_PORT ? 0x01 : 0;
}

static void cpuhp_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    (void)opaque; (void)port; (void)value; (void)size;
}

static const struct ioport_ops cpuhp_ops = { cpuhp_read, cpuhp_write };

/* ---- SMBus host controller ---- */

static void smbus_start(struct piix4_pm *s)
{
    /* every protocol begins with the address byte, which nobody acknowledges */
    s->smb_sts = (uint8_t)((s->smb_sts & ~HSTSTS_BUSY) | HSTSTS_DEV_ERR);
}

static uint8_t smb_read_byte(struct piix4_pm *s, unsigned off)
{
    switch (off) {
    case SMB_HSTSTS:  return s->smb_sts;
    case SMB_SLVSTS:  return 0;
    case SMB_HSTCNT:
        s->smb_block_index = 0;                 /* reading HSTCNT rewinds the block pointer */
        return s->smb_cnt;
    case SMB_HSTCMD:  return s->smb_cmd;
    case SMB_HSTADD:  return s->smb_addr;
    case SMB_HSTDAT0: return s->smb_data[0];
    case SMB_HSTDAT1: return s->smb_data[1];
    case SMB_BLKDAT: {
        uint8_t b = s->smb_block[s->smb_block_index];
        s->smb_block_index = (uint8_t)((s->smb_block_index + 1) % SMB_BLOCK_BYTES);
        return b;
    }
    case SMB_SLVCNT:  return s->smb_slvcnt;
    case SMB_SHDWCMD: return s->smb_shdwcmd;
    case SMB_SLVEVT: case SMB_SLVEVT + 1: return s->smb_slvevt[off - SMB_SLVEVT];
    default:          return 0;                 /* slave data, reserved */
    }
}

static void smb_write_byte(struct piix4_pm *s, unsigned off, uint8_t v)
{
    switch (off) {
    case SMB_HSTSTS:
        s->smb_sts &= (uint8_t)~(v & HSTSTS_DONE);
        break;
    case SMB_SLVSTS:
        break;                                  /* the slave never sees traffic */
    case SMB_HSTCNT:
        s->smb_cnt = v & (HSTCNT_INTREN | HSTCNT_PROT);
        if (v & HSTCNT_KILL)
            s->smb_sts = (uint8_t)((s->smb_sts & ~HSTSTS_BUSY) | HSTSTS_FAILED);
        else if (v & HSTCNT_START)
            smbus_start(s);
        break;
    case SMB_HSTCMD:  s->smb_cmd = v; break;
    case SMB_HSTADD:  s->smb_addr = v; break;
    case SMB_HSTDAT0:
        s->smb_data[0] = v;
        break;
    case SMB_HSTDAT1: s->smb_data[1] = v; break;
    case SMB_BLKDAT:
        s->smb_block[s->smb_block_index] = v;
        s->smb_block_index = (uint8_t)((s->smb_block_index + 1) % SMB_BLOCK_BYTES);
        break;
    case SMB_SLVCNT:  s->smb_slvcnt = v; break;
    case SMB_SHDWCMD: s->smb_shdwcmd = v; break;
    case SMB_SLVEVT: case SMB_SLVEVT + 1: s->smb_slvevt[off - SMB_SLVEVT] = v; break;
    default:          break;                    /* read-only slave data, reserved */
    }
}

static uint32_t smb_read(void *opaque, uint16_t port, int size)
{
    struct piix4_pm *s = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - s->smb_base) + (unsigned)i;
        uint8_t b = off < SMB_BLOCK_SIZE ? smb_read_byte(s, off) : 0xFF;
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void smb_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct piix4_pm *s = opaque;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - s->smb_base) + (unsigned)i;
        if (off < SMB_BLOCK_SIZE)
            smb_write_byte(s, off, (uint8_t)(value >> (8 * i)));
    }
    update_sci(s);
}

static const struct ioport_ops smb_ops = { smb_read, smb_write };

/* ---- configuration space and decoding ---- */

/* Move a decoded block from *cur to want (either may be PCI_BAR_UNMAPPED). */
static void remap(struct piix4_pm *s, uint32_t *cur, uint32_t want, uint16_t len,
                  const struct ioport_ops *ops, const char *what)
{
    if (want == *cur)
        return;
    if (*cur != PCI_BAR_UNMAPPED)
        ioport_unregister(&s->machine->io, (uint16_t)*cur, len);
    *cur = PCI_BAR_UNMAPPED;
    if (want == PCI_BAR_UNMAPPED)
        return;
    if (ioport_register(&s->machine->io, (uint16_t)want, len, ops, s) != 0) {
        machine_log(s->machine, LOG_GUEST_ERRORS,
                    "piix4_pm: %s block at 0x%04x overlaps other ports, not decoded\n", what, want);
        return;
    }
    *cur = want;
}

static void update_mappings(struct piix4_pm *s)
{
    const uint8_t *c = s->pci.config;
    uint32_t pm = pci_get_long(c + CFG_PMBA) & PM_BASE_MASK;
    if (!(c[CFG_PMREGMISC] & PMREGMISC_PMIOSE) || pm == 0)
        pm = PCI_BAR_UNMAPPED;
    uint32_t smb = pci_get_long(c + CFG_SMBBA) & SMB_BASE_MASK;
    if (!(c[CFG_SMBHSTCFG] & SMBHSTCFG_HST_EN) || !(c[PCI_COMMAND] & PCI_COMMAND_IO) || smb == 0)
        smb = PCI_BAR_UNMAPPED;
    remap(s, &s->pm_base, pm, PM_BLOCK_SIZE, &pm_ops, "PM");
    remap(s, &s->smb_base, smb, SMB_BLOCK_SIZE, &smb_ops, "SMBus");
}

static void piix4_pm_config_written(struct pci_device *dev, int offset, uint32_t value, int size)
{
    struct piix4_pm *s = dev->opaque;
    (void)offset; (void)value; (void)size;
    update_mappings(s);
    update_sci(s);                              /* SMBHSTCFG may have moved the SMBus interrupt */
}

static void piix4_pm_reset(void *opaque)
{
    struct piix4_pm *s = opaque;
    uint8_t *c = s->pci.config;
    memset(c + 0x40, 0, 256 - 0x40);
    c[CFG_PMBA] = 0x01;                         /* I/O space indicator */
    c[CFG_SMBBA] = 0x01;
    c[CFG_DEVACTB + 3] = DEVACTB3_APMC_EN;      /* "SMM already set up": there is no SMM */
    /* device decode enables SeaBIOS's DSDT reads for its LPT, COM1, COM2 objects */
    c[0x5F] = (uint8_t)(0x10 | (s->isa_devices & PIIX4_PM_LPT ? 0x80 : 0));
    c[0x63] = 0x60;
    c[0x67] = (uint8_t)((s->isa_devices & PIIX4_PM_COM1 ? 0x08 : 0) |
                        (s->isa_devices & PIIX4_PM_COM2 ? 0x90 : 0));
    pci_set_word(c + PCI_STATUS, 0x0280);       /* fast back-to-back, DEVSEL# medium */

    s->pm1_sts = s->pm1_en = s->pm1_cnt = 0;
    s->tmr_period_seen = pm_ticks(machine_now(s->machine)) >> PM_TIMER_TOGGLE_SHIFT;
    memset(s->gpe_sts, 0, sizeof s->gpe_sts);
    memset(s->gpe_en, 0, sizeof s->gpe_en);
    s->apm_cnt = s->apm_sts = 0;
    s->pcihp_bus = 0;
    s->smb_sts = s->smb_cnt = s->smb_cmd = s->smb_addr = 0;
    memset(s->smb_data, 0, sizeof s->smb_data);
    memset(s->smb_block, 0, sizeof s->smb_block);
    s->smb_block_index = 0;
    s->smb_slvcnt = s->smb_shdwcmd = 0;
    memset(s->smb_slvevt, 0, sizeof s->smb_slvevt);
    update_mappings(s);
    update_sci(s);
}

static uint64_t piix4_pm_next_event(void *opaque, uint64_t now)
{
    struct piix4_pm *s = opaque;
    pm_timer_update(s, now);
    update_sci(s);
    return (s->pm1_en & PM1_TMR) ? pm_timer_next_toggle(s) : TIME_NEVER;
}

static void piix4_pm_destroy(void *opaque)
{
    free(opaque);
}

/* The configuration space is saved with the PCI bus; the decoded blocks
 * follow from it (post_load). */
static const struct state_field piix4_pm_fields[] = {
    STATE_BOOL(struct piix4_pm, sci_level),
    STATE_U16(struct piix4_pm, pm1_sts),
    STATE_U16(struct piix4_pm, pm1_en),
    STATE_U16(struct piix4_pm, pm1_cnt),
    STATE_U64(struct piix4_pm, tmr_period_seen),
    STATE_ARRAY(struct piix4_pm, gpe_sts),
    STATE_ARRAY(struct piix4_pm, gpe_en),
    STATE_U8(struct piix4_pm, apm_cnt),
    STATE_U8(struct piix4_pm, apm_sts),
    STATE_U8(struct piix4_pm, pcihp_bus),
    STATE_U8(struct piix4_pm, smb_sts),
    STATE_U8(struct piix4_pm, smb_cnt),
    STATE_U8(struct piix4_pm, smb_cmd),
    STATE_U8(struct piix4_pm, smb_addr),
    STATE_ARRAY(struct piix4_pm, smb_data),
    STATE_ARRAY(struct piix4_pm, smb_block),
    STATE_U8(struct piix4_pm, smb_block_index),
    STATE_U8(struct piix4_pm, smb_slvcnt),
    STATE_U8(struct piix4_pm, smb_shdwcmd),
    STATE_ARRAY(struct piix4_pm, smb_slvevt),
};
static const struct state_desc piix4_pm_state = STATE_DESC("piix4_pm", 1, piix4_pm_fields);

static int piix4_pm_post_load(void *opaque)
{
    struct piix4_pm *s = opaque;
    if (s->smb_block_index >= SMB_BLOCK_BYTES)
        return -1;
    update_mappings(s);
    irq_set_level(s->sci, s->sci_level);
    return 0;
}

static const struct device_ops piix4_pm_device_ops = {
    .name = "piix4_pm",
    .state = &piix4_pm_state,
    .post_load = piix4_pm_post_load,
    .reset = piix4_pm_reset,
    .next_event = piix4_pm_next_event,
    .destroy = piix4_pm_destroy,
};

void piix4_pm_power_button(struct piix4_pm *s)
{
    s->pm1_sts |= PM1_PWRBTN;
    update_sci(s);
}

void piix4_pm_gpe_event(struct piix4_pm *s, int bit)
{
    if (bit < 0 || bit >= 16)
        return;
    s->gpe_sts[bit / 8] |= (uint8_t)(1u << (bit % 8));
    update_sci(s);
}

int piix4_pm_create(struct machine *m, struct pci_bus *bus, int devfn, struct irq_line *sci,
                    unsigned isa_devices, struct piix4_pm **out)
{
    struct piix4_pm *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->machine = m;
    s->sci = sci;
    s->isa_devices = isa_devices;
    s->pm_base = s->smb_base = PCI_BAR_UNMAPPED;
    pci_config_init(&s->pci, 0x8086, 0x7113, 0x03, 0x068000, 0x00);
    s->pci.config[PCI_INTERRUPT_PIN] = 1;
    s->pci.name = "piix4_pm";
    s->pci.opaque = s;
    s->pci.config_written = piix4_pm_config_written;
    uint8_t *w = s->pci.wmask;
    w[CFG_PMBA] = 0xC0;                         /* base bits 15:6 */
    w[CFG_PMBA + 1] = 0xFF;
    memset(w + 0x44, 0xFF, 0x80 - 0x44);        /* counters, GPI control, DEVACT, DEVRES: storage */
    w[CFG_PMREGMISC] = PMREGMISC_PMIOSE;
    w[CFG_SMBBA] = 0xF0;                        /* base bits 15:4 */
    w[CFG_SMBBA + 1] = 0xFF;
    w[CFG_SMBHSTCFG] = SMBHSTCFG_HST_EN | SMBHSTCFG_INTRSEL;
    w[0xD3] = 0xFF;                             /* SMBSLVC, SMBSHDW1/2: storage */
    w[0xD4] = 0xFF;
    w[0xD5] = 0xFF;

    static const struct { uint16_t first, count; const struct ioport_ops *ops; } fixed[] = {
        { APM_CNT_PORT, 2, &apm_ops }, { GPE0_PORT, GPE0_LEN, &gpe_ops },
        { PCIHP_PORT, PCIHP_LEN, &pcihp_ops }, { CPUHP_PORT, CPUHP_LEN, &cpuhp_ops },
    };
    int n = (int)(sizeof fixed / sizeof fixed[0]), got = 0;
    while (got < n && ioport_register(&m->io, fixed[got].first, fixed[got].count,
                                      fixed[got].ops, s) == 0)
        got++;
    if (got < n || (bus && pci_register_device(bus, &s->pci, devfn) != 0)) {
        while (got--)
            ioport_unregister(&m->io, fixed[got].first, fixed[got].count);
        free(s);
        return -1;
    }
    if (machine_add_device(m, &piix4_pm_device_ops, s) != 0)
        return -1;  /* bus and ports still point at s: leaked, the machine is unusable */
    piix4_pm_reset(s);
    if (out)
        *out = s;
    return 0;
}
