/* devices/fdc82077.c: an Intel 82077AA floppy disk controller in PC-AT mode
 * with two 3.5"/5.25" drives, on IRQ 6 and DMA channel 2.
 *
 *   0x3F0/0x3F1  SRA/SRB (PS/2-mode registers; minimal: SRA bit 7 = INT)
 *   0x3F2        DOR: drive select, /RESET, DMA gate, motor enables
 *   0x3F3        TDR (tape drive select bits only)
 *   0x3F4        MSR read / DSR write (data rate, software reset)
 *   0x3F5        FIFO (command, PIO execution and result bytes)
 *   0x3F7        DIR read (bit 7 disk change) / CCR write (data rate)
 *   0x3F6 is not decoded: it belongs to the IDE controller.
 *
 * Commands: READ DATA, READ TRACK, WRITE DATA, VERIFY, READ ID, FORMAT
 * TRACK, RECALIBRATE, SEEK (with relative seek), SENSE INTERRUPT STATUS,
 * SENSE DRIVE STATUS, SPECIFY, CONFIGURE, DUMPREG, LOCK, VERSION (0x90),
 * PERPENDICULAR MODE; anything else is invalid (result byte 0x80). READ and
 * WRITE DELETED DATA and the SCAN commands are logged as unimplemented.
 *
 * Media: a drive's blockdev is a raw image of 512-byte sectors whose size
 * gives the geometry (160K-2.88M, DMF 1.68M); an unknown size is taken as
 * 1.44M geometry (logged) and sectors beyond the image end are not found.
 * The ID fields on the "disk" are C = cylinder, H = head, R = 1..spt,
 * N = 2, so a command whose C/H/N do not match what is under the head
 * ends with No Data (plus Wrong/Bad Cylinder), as on the real chip. The
 * data rate (DSR/CCR) must match the medium (250K for 720K and the
 * 40-track 160K-360K media, which also read at 300K as in a 1.2M drive;
 * 500K for 1.2M/1.44M/1.68M, 1M for 2.88M), else Missing Address Mark,
 * which is what BIOS and Linux media probing rely on. MFM=0 (FM) commands
 * find no address marks either.
 *
 * Timing: none. Every command completes the moment its last byte is
 * written; seeks finish at once. DMA-mode commands move all their data
 * through dma8237_transfer right then (a transfer the DMA does not accept,
 * not at terminal count, or DOR bit 3 clear, is an overrun). Non-DMA (SPECIFY ND=1) commands
 * run byte by byte through the FIFO with MSR RQM/DIO/NDMA set and an
 * interrupt per byte; without terminal count they end at EOT with Abnormal
 * Termination + End of Cylinder, which is what the datasheet says and
 * what drivers doing PIO expect.
 *
 * Interrupts: INT is raised for result phases of read/write/format/ID
 * commands (cleared by reading the first result byte), for finished seeks
 * and recalibrates (cleared by SENSE INTERRUPT STATUS, re-raised if
 * another drive's seek status is still waiting), after a reset (the four
 * "ready changed" statuses C0-C3 stay available to SENSE INTERRUPT until
 * the next interrupt; the line drops at the first one, as SeaBIOS reads
 * only one), and per byte in PIO execution. The datasheet has DOR bit 3
 * gate INT as well as DRQ in PC-AT mode; like QEMU, only DMA is gated here
 * (a guest that runs on QEMU may rely on it).
 *
 * Power-on: DOR = 0x0C (out of reset, DMA gate open) as QEMU, not the
 * datasheet's 0x00; the data rate 250K; CONFIGURE 0x20 (implied seek off,
 * FIFO off, polling on), as the datasheet says.
 *
 * Disk change (DIR bit 7): set at power-on and for an empty drive; cleared
 * when a seek or recalibrate actually steps the head of a drive holding a
 * medium (the drive resets its change latch on a step pulse). Drives 2 and
 * 3 do not exist: recalibrate ends with Equipment Check, data commands with
 * Missing Address Mark.
 *
 * Not modelled: FIFO thresholds and the FIFO depth (bytes are handed over
 * one at a time), power down, precompensation, perpendicular recording
 * (stored only), deleted data marks, the drive motors (ignored), media
 * change at run time, non-512-byte sectors.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/blockdev.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define FDC_BASE      0x3F0
#define FDC_DIR_PORT  0x3F7
#define FDC_DMA_CHAN  2
#define FDC_DRIVES    4           /* selectable; only 0 and 1 exist */
#define FDC_SECTOR    512

/* DOR */
#define DOR_SEL_MASK  0x03
#define DOR_NRESET    0x04
#define DOR_DMA_GATE  0x08
/* MSR */
#define MSR_RQM       0x80
#define MSR_DIO       0x40
#define MSR_NDMA      0x20
#define MSR_CB        0x10
/* DSR */
#define DSR_SWRESET   0x80
#define RATE_500K     0
#define RATE_300K     1
#define RATE_250K     2
#define RATE_1M       3
/* ST0 */
#define ST0_ABNORMAL  0x40
#define ST0_INVALID   0x80
#define ST0_READY_CHG 0xC0
#define ST0_SEEK_END  0x20
#define ST0_EQUIP_CHK 0x10
/* ST1 */
#define ST1_MA        0x01
#define ST1_NW        0x02
#define ST1_ND        0x04
#define ST1_OR        0x10
#define ST1_DE        0x20
#define ST1_EN        0x80
/* ST2 */
#define ST2_BC        0x02
#define ST2_WC        0x10
#define ST2_DD        0x20
/* ST3 */
#define ST3_WP        0x40
#define ST3_ONE_5     0x20        /* reads as 1 on the 82077AA (RDY on the 8272A) */
#define ST3_T0        0x10
#define ST3_ONE_3     0x08        /* reads as 1 on the 82077AA (two-side on the 8272A) */
/* CONFIGURE */
#define CONFIG_EIS     0x40
#define CONFIG_DEFAULT 0x20       /* EIS off, FIFO disabled, polling on, threshold 1 */
/* command opcodes (low five bits) */
#define CMD_MT        0x80
#define CMD_MFM       0x40
#define CMD_SK        0x20

enum fdc_phase { PH_COMMAND, PH_EXEC, PH_RESULT };

enum xfer_kind { XF_READ, XF_READ_TRACK, XF_WRITE, XF_VERIFY, XF_FORMAT };

struct fdc_geometry {
    uint64_t size;
    uint8_t  tracks, heads, spt;
    uint8_t  rate;                /* DSR/CCR data rate the medium needs */
    uint8_t  cmos;                /* CMOS 0x10 drive type nibble */
};

static const struct fdc_geometry fdc_geometries[] = {
    {  163840, 40, 1,  8, RATE_250K, 1 },  /* 160K (40-track media: 300K read too) */
    {  184320, 40, 1,  9, RATE_250K, 1 },  /* 180K */
    {  327680, 40, 2,  8, RATE_250K, 1 },  /* 320K */
    {  368640, 40, 2,  9, RATE_250K, 1 },  /* 360K */
    {  737280, 80, 2,  9, RATE_250K, 3 },  /* 720K */
    { 1228800, 80, 2, 15, RATE_500K, 2 },  /* 1.2M */
    { 1474560, 80, 2, 18, RATE_500K, 4 },  /* 1.44M */
    { 1720320, 80, 2, 21, RATE_500K, 4 },  /* 1.68M DMF, in a 1.44M drive */
    { 2949120, 80, 2, 36, RATE_1M,   5 },  /* 2.88M */
};
#define GEOMETRY_1440K (&fdc_geometries[6])

struct fdc_drive {
    struct blockdev *bd;                /* NULL: empty (or no drive) */
    const struct fdc_geometry *geo;     /* NULL without a medium */
    bool    exists;                     /* drives 0 and 1 */
    uint8_t pcn;                        /* present cylinder (head position) */
    uint8_t next_sector;                /* the ID READ ID finds next (rotation) */
    bool    disk_changed;               /* DIR bit 7 latch */
};

/* A data command in progress (also kept after it ends, for the result). */
struct fdc_xfer {
    enum xfer_kind kind;
    int     drive;
    uint8_t head;                       /* physical head (HDS) */
    uint8_t c, h, r, n;                 /* ID of the current sector */
    uint8_t eot;
    bool    mt;
    int     count_left;                 /* VERIFY EC=1 sectors / FORMAT sectors; -1: none */
    uint8_t filler;                     /* FORMAT */
    uint8_t st0, st1, st2;
};

struct fdc82077 {
    struct machine   *machine;
    struct irq_line  *irq;
    struct dma8237   *dma;
    struct fdc_drive  drive[FDC_DRIVES];

    uint8_t dor, tdr, rate, dsr;
    bool    irq_level;                  /* as driven on irq */
    bool    int_pending;                /* the chip's INT output, before the DOR gate */

    enum fdc_phase phase;
    uint8_t cmd[9];
    int     cmd_len, cmd_pos;
    uint8_t result[10];
    int     result_len, result_pos;
    bool    result_irq;                 /* the result phase raised INT: its first read clears it */

    int     reset_sense_left;           /* "ready changed" statuses after reset */
    uint8_t seek_done;                  /* drives with a seek status for SENSE INTERRUPT */
    uint8_t seek_st0[FDC_DRIVES];
    uint8_t drive_busy;                 /* MSR bits 0-3 */

    uint8_t specify[2];                 /* SRT/HUT, HLT/ND */
    uint8_t config;                     /* CONFIGURE byte 2 */
    uint8_t pretrk;
    uint8_t perpendicular;
    uint8_t last_eot;                   /* for DUMPREG */
    bool    lock;

    struct fdc_xfer xfer;
    uint8_t buf[FDC_SECTOR];            /* the sector (or FORMAT ID) in PIO execution */
    int     buf_pos, buf_len;
};

/* ---- interrupt line ---- */

static void fdc_update_irq(struct fdc82077 *f)
{
    bool level = f->int_pending;
    if (level != f->irq_level) {
        f->irq_level = level;
        irq_set_level(f->irq, level);
    }
}

static void fdc_set_int(struct fdc82077 *f, bool pending)
{
    f->int_pending = pending;
    fdc_update_irq(f);
}

/* A new interrupt: a fresh edge even if the line was already up. */
static void fdc_pulse_int(struct fdc82077 *f)
{
    fdc_set_int(f, false);
    fdc_set_int(f, true);
}

/* ---- geometry ---- */

static const struct fdc_geometry *geometry_for_size(uint64_t size)
{
    for (size_t i = 0; i < sizeof fdc_geometries / sizeof fdc_geometries[0]; i++)
        if (fdc_geometries[i].size == size)
            return &fdc_geometries[i];
    return NULL;
}

uint8_t fdc82077_cmos_type(uint64_t image_size)
{
    const struct fdc_geometry *g = geometry_for_size(image_size);
    return g ? g->cmos : 0;
}

/* 40-track 5.25" double-density media are read at 250K in a 360K drive
 * and at 300K in a 1.2M drive; SeaBIOS tries 300K first, Linux's 360K
 * drive type uses 250K, so both are accepted. */
static bool rate_matches(const struct fdc_geometry *g, uint8_t rate)
{
    if (g->tracks == 40 && rate == RATE_300K)
        return true;
    return rate == g->rate;
}

static bool drive_has_medium(const struct fdc_drive *d)
{
    return d->exists && d->bd && d->geo;
}

/* ---- reset ---- */

/* What DOR bit 2 and DSR bit 7 reset: the command state machine and the
 * status; not DOR/TDR/data rate, SPECIFY, nor CONFIGURE while LOCKed. */
static void fdc_soft_reset(struct fdc82077 *f)
{
    f->phase = PH_COMMAND;
    f->cmd_pos = f->cmd_len = 0;
    f->result_pos = f->result_len = 0;
    f->reset_sense_left = 0;
    f->seek_done = 0;
    f->drive_busy = 0;
    f->buf_pos = f->buf_len = 0;
    if (!f->lock) {
        f->config = CONFIG_DEFAULT;
        f->pretrk = 0;
    }
    f->perpendicular &= 0x3C;           /* GAP and WGATE clear */
    fdc_set_int(f, false);
}

/* Leaving reset: the drive polling finds every drive's ready line
 * "changed" and interrupts with four statuses waiting. */
static void fdc_reset_done(struct fdc82077 *f)
{
    f->reset_sense_left = 4;
    fdc_set_int(f, true);
}

static void fdc_reset(void *opaque)
{
    struct fdc82077 *f = opaque;
    /* Out of reset with the DMA gate open, as QEMU starts: SeaBIOS only
     * resets the controller itself when it finds DOR bit 2 clear. */
    f->dor = DOR_NRESET | DOR_DMA_GATE;
    f->tdr = 0;
    f->rate = RATE_250K;
    f->dsr = RATE_250K;
    f->specify[0] = f->specify[1] = 0;
    f->lock = false;
    f->perpendicular = 0;
    f->last_eot = 0;
    for (int i = 0; i < FDC_DRIVES; i++) {
        f->drive[i].pcn = 0;
        f->drive[i].next_sector = 1;
        f->drive[i].disk_changed = f->drive[i].exists;
    }
    fdc_soft_reset(f);
}

/* ---- phases ---- */

static void fdc_result(struct fdc82077 *f, const uint8_t *bytes, int n, bool interrupt)
{
    memcpy(f->result, bytes, (size_t)n);
    f->result_len = n;
    f->result_pos = 0;
    f->phase = PH_RESULT;
    f->result_irq = interrupt;
    if (interrupt) {
        f->reset_sense_left = 0;        /* a new interrupt replaces the reset statuses */
        fdc_pulse_int(f);
    }
}

static void fdc_result1(struct fdc82077 *f, uint8_t b)
{
    fdc_result(f, &b, 1, false);
}

static bool fdc_dma_mode(const struct fdc82077 *f)
{
    return !(f->specify[1] & 1);
}

/* Move the head of drive d to cylinder cyl (step pulses only if it moves). */
static void drive_seek(struct fdc82077 *f, int d, int cyl)
{
    struct fdc_drive *dr = &f->drive[d];
    if (cyl < 0)
        cyl = 0;
    if (cyl > 255)
        cyl = 255;
    if (dr->pcn != cyl && dr->exists) {
        if (dr->bd)
            dr->disk_changed = false;   /* a step pulse with a disk in resets the latch */
        dr->next_sector = 1;
    }
    dr->pcn = (uint8_t)cyl;
}

/* ---- data commands ---- */

static void xfer_finish(struct fdc82077 *f)
{
    struct fdc_xfer *x = &f->xfer;
    uint8_t st0 = (uint8_t)(x->st0 | (x->head << 2) | x->drive);
    uint8_t res[7] = { st0, x->st1, x->st2, x->c, x->h, x->r, x->n };
    fdc_result(f, res, 7, true);
}

static void xfer_fail(struct fdc82077 *f, uint8_t st1, uint8_t st2)
{
    f->xfer.st0 |= ST0_ABNORMAL;
    f->xfer.st1 |= st1;
    f->xfer.st2 |= st2;
    xfer_finish(f);
}

/* Byte offset of sector (cyl, head, sector) under the head, or -1 with
 * st1/st2 set to why it cannot be found. */
static int64_t xfer_locate(struct fdc82077 *f, uint8_t sector, uint8_t *st1, uint8_t *st2)
{
    struct fdc_xfer *x = &f->xfer;
    struct fdc_drive *dr = &f->drive[x->drive];
    const struct fdc_geometry *g = dr->geo;
    *st1 = *st2 = 0;
    if (!drive_has_medium(dr) || !rate_matches(g, f->rate) || !(f->cmd[0] & CMD_MFM) ||
        dr->pcn >= g->tracks || x->head >= g->heads) {
        *st1 = ST1_MA;                  /* no address marks readable on this track */
        return -1;
    }
    if (x->kind != XF_FORMAT && x->c != dr->pcn) {
        *st1 = ST1_ND;
        *st2 = x->c == 0xFF ? ST2_BC : ST2_WC;
        return -1;
    }
    /* FORMAT writes IDs instead of matching them (its caller checks them) */
    if ((x->kind != XF_FORMAT && (x->h != x->head || x->n != 2)) || sector < 1 || sector > g->spt) {
        *st1 = ST1_ND;
        return -1;
    }
    uint64_t lba = ((uint64_t)dr->pcn * g->heads + x->head) * g->spt + (uint64_t)(sector - 1);
    uint64_t off = lba * FDC_SECTOR;
    if (off + FDC_SECTOR > dr->bd->size) {
        *st1 = ST1_ND;                  /* an image shorter than its geometry */
        return -1;
    }
    return (int64_t)off;
}

static bool xfer_to_memory(const struct fdc_xfer *x)
{
    return x->kind == XF_READ || x->kind == XF_READ_TRACK;
}

/* The current sector was handled: advance the ID as the datasheet's
 * "ID after termination" table says and decide whether to go on.
 * Returns true to continue with the next sector. */
static bool xfer_advance(struct fdc82077 *f, bool tc)
{
    struct fdc_xfer *x = &f->xfer;
    f->drive[x->drive].next_sector = (uint8_t)(x->r + 1);
    bool at_eot = x->r == x->eot;
    bool side_switch = at_eot && x->mt && x->head == 0;
    if (at_eot) {
        if (side_switch) {
            x->h ^= 1;
        } else {
            x->c++;
            if (x->mt)
                x->h ^= 1;
        }
        x->r = 1;
    } else {
        x->r++;
    }
    if (x->count_left > 0 && --x->count_left == 0) {
        xfer_finish(f);                 /* VERIFY EC=1: SC sectors done */
        return false;
    }
    if (tc) {
        xfer_finish(f);
        return false;
    }
    if (at_eot && !side_switch) {
        if (x->kind == XF_VERIFY && x->count_left < 0)
            xfer_finish(f);             /* VERIFY EC=0 ends at EOT successfully */
        else
            xfer_fail(f, ST1_EN, 0);
        return false;
    }
    if (side_switch)
        x->head = 1;
    return true;
}

static bool xfer_read_sector(struct fdc82077 *f, int64_t off)
{
    struct fdc_drive *dr = &f->drive[f->xfer.drive];
    if (blockdev_read(dr->bd, (uint64_t)off, f->buf, FDC_SECTOR) != 0) {
        machine_log(f->machine, LOG_GUEST_ERRORS, "fdc82077: drive %d: read error at offset %lld\n",
                    f->xfer.drive, (long long)off);
        xfer_fail(f, ST1_DE, ST2_DD);
        return false;
    }
    return true;
}

static bool xfer_write_sector(struct fdc82077 *f, int64_t off)
{
    struct fdc_drive *dr = &f->drive[f->xfer.drive];
    if (blockdev_write(dr->bd, (uint64_t)off, f->buf, FDC_SECTOR) != 0) {
        machine_log(f->machine, LOG_GUEST_ERRORS, "fdc82077: drive %d: write error at offset %lld\n",
                    f->xfer.drive, (long long)off);
        xfer_fail(f, ST1_DE, ST2_DD);
        return false;
    }
    return true;
}

/* FORMAT: one sector's ID (buf[0..3]) has arrived; write its filler. */
static bool xfer_format_sector(struct fdc82077 *f)
{
    struct fdc_xfer *x = &f->xfer;
    struct fdc_drive *dr = &f->drive[x->drive];
    x->c = f->buf[0];
    x->h = f->buf[1];
    x->r = f->buf[2];
    x->n = f->buf[3];
    uint8_t st1, st2;
    if (xfer_locate(f, 1, &st1, &st2) < 0) {     /* medium, data rate, track */
        xfer_fail(f, st1, st2);
        return false;
    }
    if (x->c != dr->pcn || x->h != x->head || x->n != 2 || x->r < 1 || x->r > dr->geo->spt) {
        machine_log(f->machine, LOG_UNIMP,
                    "fdc82077: FORMAT ID C=%u H=%u R=%u N=%u does not fit the image, skipped\n",
                    x->c, x->h, x->r, x->n);
        return true;
    }
    int64_t off = xfer_locate(f, x->r, &st1, &st2);
    if (off < 0) {
        xfer_fail(f, st1, st2);
        return false;
    }
    memset(f->buf, x->filler, FDC_SECTOR);
    return xfer_write_sector(f, off);
}

/* Run the data command from the current sector on, as far as it goes
 * without the guest: to the end in DMA mode, to the next byte it must
 * read or write in PIO mode. */
static void xfer_run(struct fdc82077 *f)
{
    struct fdc_xfer *x = &f->xfer;
    bool dma = fdc_dma_mode(f);
    for (;;) {
        uint8_t st1, st2;
        if (x->kind == XF_FORMAT) {
            if (x->count_left == 0) {
                xfer_finish(f);
                return;
            }
            if (dma) {
                int got = dma8237_transfer(f->dma, FDC_DMA_CHAN, f->buf, 4, false);
                bool tc = got > 0 && dma8237_terminal_count(f->dma, FDC_DMA_CHAN);
                if (got < 4) {
                    xfer_fail(f, tc ? 0 : ST1_OR, 0);
                    return;
                }
                if (!xfer_format_sector(f))
                    return;
                x->count_left--;
                if (tc && x->count_left > 0) {
                    xfer_finish(f);
                    return;
                }
                continue;
            }
            f->buf_pos = 0;
            f->buf_len = 4;
            f->phase = PH_EXEC;
            fdc_pulse_int(f);
            return;
        }

        int64_t off = xfer_locate(f, x->r, &st1, &st2);
        if (off < 0) {
            xfer_fail(f, st1, st2);
            return;
        }
        if (x->kind == XF_VERIFY) {
            if (!xfer_read_sector(f, off))
                return;
            if (!xfer_advance(f, false))
                return;
            continue;
        }
        if (xfer_to_memory(x) && !xfer_read_sector(f, off))
            return;
        if (!dma) {
            f->buf_pos = 0;
            f->buf_len = FDC_SECTOR;
            f->phase = PH_EXEC;
            fdc_pulse_int(f);
            return;
        }
        int got = dma8237_transfer(f->dma, FDC_DMA_CHAN, f->buf, FDC_SECTOR, xfer_to_memory(x));
        /* TC of this transfer (a refused one leaves an old TC standing) */
        bool tc = got > 0 && dma8237_terminal_count(f->dma, FDC_DMA_CHAN);
        if (got < FDC_SECTOR && !tc) {
            machine_log(f->machine, LOG_GUEST_ERRORS,
                        "fdc82077: DMA channel 2 took %d of %d bytes: overrun\n", got, FDC_SECTOR);
            xfer_fail(f, ST1_OR, 0);
            return;
        }
        if (x->kind == XF_WRITE) {
            if (got < FDC_SECTOR)       /* TC inside the sector: the rest is zeros */
                memset(f->buf + got, 0, (size_t)(FDC_SECTOR - got));
            if (!xfer_write_sector(f, off))
                return;
        }
        if (!xfer_advance(f, tc))
            return;
    }
}

/* PIO: the guest moved the last byte of the buffer. */
static void xfer_pio_buffer_done(struct fdc82077 *f)
{
    struct fdc_xfer *x = &f->xfer;
    if (x->kind == XF_FORMAT) {
        if (!xfer_format_sector(f))
            return;
        x->count_left--;
        xfer_run(f);
        return;
    }
    if (x->kind == XF_WRITE) {
        uint8_t st1, st2;
        int64_t off = xfer_locate(f, x->r, &st1, &st2);
        if (off < 0) {
            xfer_fail(f, st1, st2);
            return;
        }
        if (!xfer_write_sector(f, off))
            return;
    }
    if (xfer_advance(f, false))
        xfer_run(f);
}

static void cmd_data(struct fdc82077 *f, enum xfer_kind kind)
{
    struct fdc_xfer *x = &f->xfer;
    uint8_t op = f->cmd[0];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->drive = f->cmd[1] & 3;
    x->head = (f->cmd[1] >> 2) & 1;
    x->count_left = -1;
    struct fdc_drive *dr = &f->drive[x->drive];

    if (kind == XF_FORMAT) {
        x->c = dr->pcn;
        x->h = x->head;
        x->n = f->cmd[2];
        x->count_left = f->cmd[3];
        x->filler = f->cmd[5];
        if (drive_has_medium(dr) && (x->n != 2 || f->cmd[3] != dr->geo->spt))
            machine_log(f->machine, LOG_UNIMP,
                        "fdc82077: FORMAT with N=%u, %u sectors on a %u-sector medium\n",
                        x->n, f->cmd[3], dr->geo->spt);
    } else {
        x->c = f->cmd[2];
        x->h = f->cmd[3];
        x->r = f->cmd[4];
        x->n = f->cmd[5];
        x->eot = f->cmd[6];
        x->mt = (op & CMD_MT) && kind != XF_READ_TRACK;
        f->last_eot = x->eot;
        if (kind == XF_READ_TRACK)
            x->r = 1;                   /* from the index on, whatever R says */
        if (kind == XF_VERIFY && (f->cmd[1] & 0x80))
            x->count_left = f->cmd[8];  /* EC=1: SC sectors */
        if (x->count_left == 0)
            x->count_left = -1;
        /* implied seek */
        if ((f->config & CONFIG_EIS) && dr->exists && x->c != dr->pcn)
            drive_seek(f, x->drive, x->c);
    }

    if ((kind == XF_WRITE || kind == XF_FORMAT) && drive_has_medium(dr) && dr->bd->read_only) {
        xfer_fail(f, ST1_NW, 0);
        return;
    }
    if (fdc_dma_mode(f) && kind != XF_VERIFY && (!f->dma || !(f->dor & DOR_DMA_GATE))) {
        machine_log(f->machine, LOG_GUEST_ERRORS,
                    "fdc82077: DMA-mode command with the DMA gate (DOR bit 3) closed\n");
        xfer_fail(f, ST1_OR, 0);
        return;
    }
    xfer_run(f);
}

static void cmd_read_id(struct fdc82077 *f)
{
    struct fdc_xfer *x = &f->xfer;
    memset(x, 0, sizeof *x);
    x->kind = XF_READ;
    x->drive = f->cmd[1] & 3;
    x->head = (f->cmd[1] >> 2) & 1;
    x->count_left = -1;
    struct fdc_drive *dr = &f->drive[x->drive];
    x->c = dr->pcn;
    x->h = x->head;
    x->n = 2;
    x->r = dr->next_sector;
    uint8_t st1 = 0, st2 = 0;
    if (drive_has_medium(dr) && (x->r < 1 || x->r > dr->geo->spt))
        x->r = 1;
    if (xfer_locate(f, x->r, &st1, &st2) < 0) {
        xfer_fail(f, st1, st2);
        return;
    }
    dr->next_sector = (uint8_t)(x->r % dr->geo->spt + 1);
    xfer_finish(f);
}

/* ---- other commands ---- */

static void cmd_sense_interrupt(struct fdc82077 *f)
{
    uint8_t res[2];
    if (f->reset_sense_left > 0) {
        int d = 4 - f->reset_sense_left--;
        res[0] = (uint8_t)(ST0_READY_CHG | d);
        res[1] = f->drive[d].pcn;
        fdc_set_int(f, false);
        fdc_result(f, res, 2, false);
        return;
    }
    if (!f->seek_done) {
        fdc_set_int(f, false);
        fdc_result1(f, ST0_INVALID);
        return;
    }
    int d = __builtin_ctz(f->seek_done);
    f->seek_done &= (uint8_t)~(1u << d);
    f->drive_busy &= (uint8_t)~(1u << d);
    res[0] = f->seek_st0[d];
    res[1] = f->drive[d].pcn;
    fdc_set_int(f, false);
    if (f->seek_done)
        fdc_set_int(f, true);           /* another drive's status waits */
    fdc_result(f, res, 2, false);
}

static void seek_finished(struct fdc82077 *f, int d, uint8_t st0)
{
    f->seek_st0[d] = st0;
    f->seek_done |= (uint8_t)(1u << d);
    f->drive_busy |= (uint8_t)(1u << d);    /* until SENSE INTERRUPT reports it */
    f->reset_sense_left = 0;
    f->phase = PH_COMMAND;
    fdc_pulse_int(f);
}

static void cmd_recalibrate(struct fdc82077 *f)
{
    int d = f->cmd[1] & 3;
    if (!f->drive[d].exists) {
        seek_finished(f, d, (uint8_t)(ST0_ABNORMAL | ST0_SEEK_END | ST0_EQUIP_CHK | d));
        return;
    }
    drive_seek(f, d, 0);
    seek_finished(f, d, (uint8_t)(ST0_SEEK_END | d));
}

static void cmd_seek(struct fdc82077 *f)
{
    int d = f->cmd[1] & 3;
    int head = (f->cmd[1] >> 2) & 1;
    int target = f->cmd[2];
    if (f->cmd[0] & 0x80)               /* relative: DIR bit 6 set = inwards (up) */
        target = (f->cmd[0] & 0x40) ? f->drive[d].pcn + f->cmd[2] : f->drive[d].pcn - f->cmd[2];
    drive_seek(f, d, target);
    seek_finished(f, d, (uint8_t)(ST0_SEEK_END | head << 2 | d));
}

static void cmd_sense_drive_status(struct fdc82077 *f)
{
    int d = f->cmd[1] & 3;
    int head = (f->cmd[1] >> 2) & 1;
    struct fdc_drive *dr = &f->drive[d];
    uint8_t st3 = (uint8_t)(ST3_ONE_5 | ST3_ONE_3 | head << 2 | d);
    if (dr->exists && dr->pcn == 0)
        st3 |= ST3_T0;
    if (drive_has_medium(dr) && dr->bd->read_only)
        st3 |= ST3_WP;
    fdc_result1(f, st3);
}

static void cmd_dumpreg(struct fdc82077 *f)
{
    uint8_t res[10] = {
        f->drive[0].pcn, f->drive[1].pcn, f->drive[2].pcn, f->drive[3].pcn,
        f->specify[0], f->specify[1], f->last_eot,
        (uint8_t)((f->lock ? 0x80 : 0) | (f->perpendicular & 0x3F)),
        f->config, f->pretrk,
    };
    fdc_result(f, res, 10, false);
}

/* Command bytes by opcode (low five bits), and the high bits allowed. */
struct fdc_cmd_desc {
    uint8_t len;
    uint8_t flags_ok;
};

static const struct fdc_cmd_desc fdc_cmds[32] = {
    [0x02] = { 9, CMD_MFM },                       /* READ TRACK */
    [0x03] = { 3, 0 },                             /* SPECIFY */
    [0x04] = { 2, 0 },                             /* SENSE DRIVE STATUS */
    [0x05] = { 9, CMD_MT | CMD_MFM },              /* WRITE DATA */
    [0x06] = { 9, CMD_MT | CMD_MFM | CMD_SK },     /* READ DATA */
    [0x07] = { 2, 0 },                             /* RECALIBRATE */
    [0x08] = { 1, 0 },                             /* SENSE INTERRUPT STATUS */
    [0x0A] = { 2, CMD_MFM },                       /* READ ID */
    [0x0D] = { 6, CMD_MFM },                       /* FORMAT TRACK */
    [0x0E] = { 1, 0 },                             /* DUMPREG */
    [0x0F] = { 3, 0xC0 },                          /* SEEK (RS, DIR) */
    [0x10] = { 1, 0 },                             /* VERSION */
    [0x12] = { 2, 0 },                             /* PERPENDICULAR MODE */
    [0x13] = { 4, 0 },                             /* CONFIGURE */
    [0x14] = { 1, CMD_MT },                        /* LOCK (bit 7 = lock) */
    [0x16] = { 9, CMD_MT | CMD_MFM | CMD_SK },     /* VERIFY */
};

static void fdc_execute(struct fdc82077 *f)
{
    uint8_t op = f->cmd[0];
    f->phase = PH_COMMAND;
    f->cmd_pos = 0;
    switch (op & 0x1F) {
    case 0x02: cmd_data(f, XF_READ_TRACK); break;
    case 0x03:
        f->specify[0] = f->cmd[1];
        f->specify[1] = f->cmd[2];
        break;
    case 0x04: cmd_sense_drive_status(f); break;
    case 0x05: cmd_data(f, XF_WRITE); break;
    case 0x06: cmd_data(f, XF_READ); break;
    case 0x07: cmd_recalibrate(f); break;
    case 0x08: cmd_sense_interrupt(f); break;
    case 0x0A: cmd_read_id(f); break;
    case 0x0D: cmd_data(f, XF_FORMAT); break;
    case 0x0E: cmd_dumpreg(f); break;
    case 0x0F: cmd_seek(f); break;
    case 0x10: fdc_result1(f, 0x90); break;
    case 0x12:
        if (f->cmd[1] & 0x80)           /* OW: the drive bits are written too */
            f->perpendicular = f->cmd[1] & 0x3F;
        else
            f->perpendicular = (uint8_t)((f->perpendicular & 0x3C) | (f->cmd[1] & 0x03));
        break;
    case 0x13:
        f->config = f->cmd[2] & 0x7F;
        f->pretrk = f->cmd[3];
        break;
    case 0x14:
        f->lock = op & 0x80;
        fdc_result1(f, f->lock ? 0x10 : 0x00);
        break;
    case 0x16: cmd_data(f, XF_VERIFY); break;
    }
}

static void fdc_command_byte(struct fdc82077 *f, uint8_t v)
{
    if (f->cmd_pos == 0) {
        const struct fdc_cmd_desc *c = &fdc_cmds[v & 0x1F];
        if (!c->len || (v & 0xE0 & ~c->flags_ok)) {
            uint8_t low = v & 0x1F;
            bool known_unimp = low == 0x09 || low == 0x0C || low == 0x11 || low == 0x19 ||
                               low == 0x1D;
            machine_log(f->machine, known_unimp ? LOG_UNIMP : LOG_GUEST_ERRORS,
                        "fdc82077: %s command %#04x\n",
                        known_unimp ? "unimplemented" : "invalid", v);
            fdc_result1(f, ST0_INVALID);
            return;
        }
        f->cmd_len = c->len;
    }
    f->cmd[f->cmd_pos++] = v;
    if (f->cmd_pos == f->cmd_len)
        fdc_execute(f);
}

/* ---- ports ---- */

static uint8_t fdc_msr(const struct fdc82077 *f)
{
    if (!(f->dor & DOR_NRESET))
        return 0;
    switch (f->phase) {
    case PH_COMMAND:
        return (uint8_t)(MSR_RQM | f->drive_busy | (f->cmd_pos ? MSR_CB : 0));
    case PH_EXEC:
        return (uint8_t)(MSR_RQM | MSR_NDMA | MSR_CB | (xfer_to_memory(&f->xfer) ? MSR_DIO : 0));
    case PH_RESULT:
        return (uint8_t)(MSR_RQM | MSR_DIO | MSR_CB | f->drive_busy);
    }
    return 0;
}

static uint8_t fdc_fifo_read(struct fdc82077 *f)
{
    if (f->phase == PH_RESULT) {
        if (f->result_pos == 0 && f->result_irq)
            fdc_set_int(f, false);      /* reading the result acknowledges the interrupt */
        uint8_t v = f->result[f->result_pos++];
        if (f->result_pos >= f->result_len)
            f->phase = PH_COMMAND;
        return v;
    }
    if (f->phase == PH_EXEC && xfer_to_memory(&f->xfer)) {
        uint8_t v = f->buf[f->buf_pos++];
        fdc_set_int(f, false);
        if (f->buf_pos >= f->buf_len)
            xfer_pio_buffer_done(f);
        else
            fdc_set_int(f, true);
        return v;
    }
    machine_log(f->machine, LOG_GUEST_ERRORS, "fdc82077: FIFO read with no data to give (MSR %#04x)\n",
                fdc_msr(f));
    return 0;
}

static void fdc_fifo_write(struct fdc82077 *f, uint8_t v)
{
    if (f->phase == PH_COMMAND) {
        fdc_command_byte(f, v);
        return;
    }
    if (f->phase == PH_EXEC && !xfer_to_memory(&f->xfer)) {
        f->buf[f->buf_pos++] = v;
        fdc_set_int(f, false);
        if (f->buf_pos >= f->buf_len)
            xfer_pio_buffer_done(f);
        else
            fdc_set_int(f, true);
        return;
    }
    machine_log(f->machine, LOG_GUEST_ERRORS, "fdc82077: FIFO write %#04x ignored (MSR %#04x)\n",
                v, fdc_msr(f));
}

static void fdc_write_dor(struct fdc82077 *f, uint8_t v)
{
    uint8_t old = f->dor;
    f->dor = v;
    if (!(v & DOR_NRESET)) {
        if (old & DOR_NRESET)
            fdc_soft_reset(f);
    } else if (!(old & DOR_NRESET)) {
        fdc_reset_done(f);
    }
    fdc_update_irq(f);                  /* the DMA gate gates INT */
}

static uint32_t fdc_port_read(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct fdc82077 *f = opaque;
    switch (port - FDC_BASE) {
    case 0: return f->int_pending ? 0x80 : 0x00;            /* SRA */
    case 1: return 0xC0;                                    /* SRB */
    case 2: return f->dor;
    case 3: return f->tdr;
    case 4: return fdc_msr(f);
    case 5:
        if (!(f->dor & DOR_NRESET))
            return 0;
        return fdc_fifo_read(f);
    case 7: {                                               /* DIR */
        const struct fdc_drive *dr = &f->drive[f->dor & DOR_SEL_MASK];
        return dr->exists && dr->disk_changed ? 0x80 : 0x00;
    }
    }
    return 0xFF;
}

static void fdc_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    (void)size;
    struct fdc82077 *f = opaque;
    uint8_t v = (uint8_t)value;
    switch (port - FDC_BASE) {
    case 2:
        fdc_write_dor(f, v);
        break;
    case 3:
        f->tdr = v & 0x03;
        break;
    case 4:                                                 /* DSR */
        f->dsr = v & 0x7F;
        f->rate = v & 0x03;
        if ((v & DSR_SWRESET) && (f->dor & DOR_NRESET)) {
            fdc_soft_reset(f);
            fdc_reset_done(f);
        }
        break;
    case 5:
        if (f->dor & DOR_NRESET)
            fdc_fifo_write(f, v);
        break;
    case 7:                                                 /* CCR */
        f->rate = v & 0x03;
        f->dsr = (uint8_t)((f->dsr & ~0x03) | f->rate);
        break;
    default:                                                /* SRA/SRB are read-only */
        break;
    }
}

static const struct ioport_ops fdc_port_ops = { fdc_port_read, fdc_port_write };

/* ---- save state ---- */

/* Per drive, the head position and change latch; the medium (blockdev,
 * geometry) is host configuration. A sector being moved by PIO is in buf. */
static const struct state_field fdc_drive_fields[] = {
    STATE_U8(struct fdc_drive, pcn),
    STATE_U8(struct fdc_drive, next_sector),
    STATE_BOOL(struct fdc_drive, disk_changed),
};
static const struct state_desc fdc_drive_state = STATE_DESC("fdc_drive", 1, fdc_drive_fields);

static const struct state_field fdc_xfer_fields[] = {
    STATE_INT(struct fdc_xfer, kind),
    STATE_INT(struct fdc_xfer, drive),
    STATE_U8(struct fdc_xfer, head),
    STATE_U8(struct fdc_xfer, c),
    STATE_U8(struct fdc_xfer, h),
    STATE_U8(struct fdc_xfer, r),
    STATE_U8(struct fdc_xfer, n),
    STATE_U8(struct fdc_xfer, eot),
    STATE_BOOL(struct fdc_xfer, mt),
    STATE_INT(struct fdc_xfer, count_left),
    STATE_U8(struct fdc_xfer, filler),
    STATE_U8(struct fdc_xfer, st0),
    STATE_U8(struct fdc_xfer, st1),
    STATE_U8(struct fdc_xfer, st2),
};
static const struct state_desc fdc_xfer_state = STATE_DESC("fdc_xfer", 1, fdc_xfer_fields);

static const struct state_field fdc_fields[] = {
    STATE_STRUCT_ARRAY(struct fdc82077, drive, fdc_drive_state),
    STATE_U8(struct fdc82077, dor),
    STATE_U8(struct fdc82077, tdr),
    STATE_U8(struct fdc82077, rate),
    STATE_U8(struct fdc82077, dsr),
    STATE_BOOL(struct fdc82077, irq_level),
    STATE_BOOL(struct fdc82077, int_pending),
    STATE_INT(struct fdc82077, phase),
    STATE_ARRAY(struct fdc82077, cmd),
    STATE_INT(struct fdc82077, cmd_len),
    STATE_INT(struct fdc82077, cmd_pos),
    STATE_ARRAY(struct fdc82077, result),
    STATE_INT(struct fdc82077, result_len),
    STATE_INT(struct fdc82077, result_pos),
    STATE_BOOL(struct fdc82077, result_irq),
    STATE_INT(struct fdc82077, reset_sense_left),
    STATE_U8(struct fdc82077, seek_done),
    STATE_ARRAY(struct fdc82077, seek_st0),
    STATE_U8(struct fdc82077, drive_busy),
    STATE_ARRAY(struct fdc82077, specify),
    STATE_U8(struct fdc82077, config),
    STATE_U8(struct fdc82077, pretrk),
    STATE_U8(struct fdc82077, perpendicular),
    STATE_U8(struct fdc82077, last_eot),
    STATE_BOOL(struct fdc82077, lock),
    STATE_STRUCT(struct fdc82077, xfer, fdc_xfer_state),
    STATE_ARRAY(struct fdc82077, buf),
    STATE_INT(struct fdc82077, buf_pos),
    STATE_INT(struct fdc82077, buf_len),
};
static const struct state_desc fdc_state = STATE_DESC("fdc82077", 1, fdc_fields);

/* Indexes into cmd, result, buf and drive must be in range. */
static int fdc_post_load(void *opaque)
{
    struct fdc82077 *f = opaque;
    if ((unsigned)f->phase > PH_RESULT || (unsigned)f->xfer.kind > XF_FORMAT
        || f->xfer.drive < 0 || f->xfer.drive >= FDC_DRIVES
        || f->cmd_len < 0 || f->cmd_len > (int)sizeof f->cmd
        || f->cmd_pos < 0 || f->cmd_pos > (int)sizeof f->cmd
        || f->result_len < 0 || f->result_len > (int)sizeof f->result
        || f->result_pos < 0 || f->result_pos > (int)sizeof f->result
        || f->buf_len < 0 || f->buf_len > FDC_SECTOR || f->buf_pos < 0 || f->buf_pos > FDC_SECTOR)
        return -1;
    irq_set_level(f->irq, f->irq_level);
    return 0;
}

static const struct device_ops fdc_device_ops = {
    .name = "fdc82077",
    .state = &fdc_state,
    .post_load = fdc_post_load,
    .reset = fdc_reset,
    .destroy = free,
};

int fdc82077_create(struct machine *m, struct irq_line *irq, struct dma8237 *dma,
                    struct blockdev *drives[2])
{
    struct fdc82077 *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->machine = m;
    f->irq = irq;
    f->dma = dma;
    for (int i = 0; i < 2; i++) {
        struct fdc_drive *dr = &f->drive[i];
        dr->exists = true;
        dr->bd = drives ? drives[i] : NULL;
        if (!dr->bd)
            continue;
        dr->geo = geometry_for_size(dr->bd->size);
        if (!dr->geo) {
            machine_log(m, LOG_GUEST_ERRORS,
                        "fdc82077: drive %d: image size %llu is no floppy format, using 1.44M geometry\n",
                        i, (unsigned long long)dr->bd->size);
            dr->geo = GEOMETRY_1440K;
        }
    }
    fdc_reset(f);
    if (ioport_register(&m->io, FDC_BASE, 6, &fdc_port_ops, f) != 0) {
        free(f);
        return -1;
    }
    if (ioport_register(&m->io, FDC_DIR_PORT, 1, &fdc_port_ops, f) != 0) {
        ioport_unregister(&m->io, FDC_BASE, 6);
        free(f);
        return -1;
    }
    if (machine_add_device(m, &fdc_device_ops, f) != 0) {
        ioport_unregister(&m->io, FDC_BASE, 6);
        ioport_unregister(&m->io, FDC_DIR_PORT, 1);
        free(f);
        return -1;
    }
    return 0;
}
