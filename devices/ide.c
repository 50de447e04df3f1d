/* devices/ide.c: the PIIX3 IDE function (8086:7010) with two legacy
 * channels, ATA hard disks and bus-master DMA.
 *
 * Modelled: the task files at 0x1F0-0x1F7/0x3F6 (IRQ 14) and
 * 0x170-0x177/0x376 (IRQ 15), two drives per channel with separate
 * register copies (writes go to both, the selected one answers), HOB
 * registers for LBA48, nIEN and software reset, CHS/LBA28/LBA48
 * addressing, PIO (16- and 32-bit data port, one interrupt per DRQ block)
 * and the bus master at BAR 4 (PRD tables, read through pci_dma_*). The
 * command set is what BIOSes, DOS and Linux use (see ata_command()); the
 * ATAPI CD-ROM is in ide_atapi.c.
 *
 * Timing is not modelled: every command completes while the guest writes
 * it (BSY is never seen), its interrupt raised at once; a DMA command runs
 * when the bus master is started. An absent drive reads 0 in every
 * register, as QEMU answers (SeaBIOS and Linux probe with that).
 *
 * Not modelled: native-mode channels, the IDE timing registers' effect
 * (0x40-0x4B just hold what the guest writes), overlapped/queued commands,
 * SMART, security, HPA (READ NATIVE MAX reports the size), power states.
 *
 * Media errors: a failed read reports UNC, a failed write ABRT (ATA defines
 * UNC for reads only), both with ERR, logged under LOG_GUEST_ERRORS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/blockdev.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/ide.h"
#include "devices/pci.h"

enum { BM_CMD_START = 0x01, BM_CMD_TO_MEMORY = 0x08 };
enum { BM_ST_ACTIVE = 0x01, BM_ST_ERROR = 0x02, BM_ST_INTR = 0x04, BM_ST_DMA_CAP = 0x60 };
#define BM_MAX_PRD 8192            /* a 64 KiB table: the spec forbids crossing 64 KiB */

struct machine *ide_machine(const struct ide_drive *d)
{
    return d->ch->ide->machine;
}

static struct ide_drive *cur_drive(struct ide_channel *ch)
{
    return &ch->drive[ch->cur];
}

void ide_put_string(uint8_t *words, int first_word, int nwords, const char *s)
{
    size_t len = strlen(s);
    for (int i = 0; i < nwords * 2; i++) {
        char c = (size_t)i < len ? s[i] : ' ';
        words[2 * first_word + (i ^ 1)] = (uint8_t)c;
    }
}

/* ---- interrupts ---- */

static void channel_update_irq(struct ide_channel *ch)
{
    irq_set_level(ch->irq, ch->irq_pending && !(ch->devctl & DEVCTL_NIEN));
}

void ide_raise_irq(struct ide_drive *d)
{
    struct ide_channel *ch = d->ch;
    ch->irq_pending = true;
    if (!(ch->devctl & DEVCTL_NIEN))
        ch->bm_status |= BM_ST_INTR;
    channel_update_irq(ch);
}

static void lower_irq(struct ide_channel *ch)
{
    ch->irq_pending = false;
    channel_update_irq(ch);
}

/* ---- command completion ---- */

static void ata_done(struct ide_drive *d)
{
    d->pio = PIO_NONE;
    d->dma = DMA_NONE;
    d->status = ST_DRDY | ST_DSC;
    ide_raise_irq(d);
}

static void ata_error(struct ide_drive *d, uint8_t error)
{
    d->pio = PIO_NONE;
    d->dma = DMA_NONE;
    d->error = error;
    d->status = ST_DRDY | ST_DSC | ST_ERR;
    ide_raise_irq(d);
}

void ide_set_signature(struct ide_drive *d)
{
    d->nsector = 1;
    d->sector = 1;
    d->lcyl = d->cdrom ? 0x14 : 0x00;
    d->hcyl = d->cdrom ? 0xEB : 0x00;
    d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
}

/* Aborting a command: an ATAPI device also shows its signature, so drivers
 * that try IDENTIFY DEVICE first learn what it is. */
static void ata_abort(struct ide_drive *d)
{
    if (d->cdrom)
        ide_set_signature(d);
    ata_error(d, ER_ABRT);
}

/* ---- addressing ---- */

static uint64_t ata_count(const struct ide_drive *d)
{
    if (d->lba48) {
        uint32_t n = (uint32_t)d->hob_nsector << 8 | d->nsector;
        return n ? n : 65536;
    }
    return d->nsector ? d->nsector : 256;
}

/* The starting sector, or false (IDNF) for a CHS address off the geometry. */
static bool ata_start_lba(const struct ide_drive *d, uint64_t *lba)
{
    if (d->lba48) {
        *lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 |
               (uint64_t)d->hob_sector << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    if (d->select & 0x40) {
        *lba = (uint64_t)(d->select & 0x0F) << 24 | (uint64_t)d->hcyl << 16 |
               (uint64_t)d->lcyl << 8 | d->sector;
        return true;
    }
    uint32_t cyl = (uint32_t)d->hcyl << 8 | d->lcyl, head = d->select & 0x0F;
    if (d->sector == 0 || d->sector > d->cur_secs || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_secs + d->sector - 1;
    return true;
}

/* Leave the address of the last sector transferred in the registers. */
static void ata_set_sector(struct ide_drive *d, uint64_t lba)
{
    if (d->lba48) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->hob_sector = (uint8_t)(lba >> 24);
        d->hob_lcyl = (uint8_t)(lba >> 32);
        d->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (d->select & 0x40) {
        d->sector = (uint8_t)lba;
        d->lcyl = (uint8_t)(lba >> 8);
        d->hcyl = (uint8_t)(lba >> 16);
        d->select = (uint8_t)((d->select & 0xF0) | ((lba >> 24) & 0x0F));
    } else {
        uint32_t per_cyl = (uint32_t)d->cur_heads * d->cur_secs;
        uint64_t cyl = lba / per_cyl;
        uint32_t r = (uint32_t)(lba % per_cyl);
        d->hcyl = (uint8_t)(cyl >> 8);
        d->lcyl = (uint8_t)cyl;
        d->select = (uint8_t)((d->select & 0xF0) | (r / d->cur_secs));
        d->sector = (uint8_t)(r % d->cur_secs + 1);
    }
}

/* Decode the address and count of a read/write command; false: the
 * command has been failed with IDNF. */
static bool ata_setup_range(struct ide_drive *d, bool lba48)
{
    uint64_t lba, count;
    d->lba48 = lba48;
    count = ata_count(d);
    if (!ata_start_lba(d, &lba) || lba > d->nsectors || count > d->nsectors - lba) {
        machine_log(ide_machine(d), LOG_GUEST_ERRORS,
                    "ide: sector range %llu+%llu outside the disk (%llu sectors)\n",
                    (unsigned long long)lba, (unsigned long long)count,
                    (unsigned long long)d->nsectors);
        ata_error(d, ER_IDNF);
        return false;
    }
    d->lba = lba;
    d->remaining = (uint32_t)count;
    return true;
}

/* ---- IDENTIFY DEVICE ---- */

static void ata_identify(struct ide_drive *d)
{
    uint8_t *p = d->buf;
    uint64_t lba28 = d->nsectors < 0x0FFFFFFF ? d->nsectors : 0x0FFFFFFF;
    uint32_t cur_chs = (uint32_t)d->cyls * d->cur_heads * d->cur_secs;
    char serial[21];

    memset(p, 0, 512);
    ide_put16(p, 0, 0x0040);                       /* fixed disk, not removable */
    ide_put16(p, 1, d->cyls);
    ide_put16(p, 3, d->heads);
    ide_put16(p, 4, (uint16_t)(512 * d->secs));    /* obsolete: bytes per track */
    ide_put16(p, 5, 512);                          /* obsolete: bytes per sector */
    ide_put16(p, 6, d->secs);
    snprintf(serial, sizeof serial, "FOX86-%d%d", d->ch->index, d->unit);
    ide_put_string(p, 10, 10, serial);
    ide_put16(p, 20, 3);                           /* buffer type: dual ported, cached */
    ide_put16(p, 21, 512);
    ide_put16(p, 22, 4);
    ide_put_string(p, 23, 4, "1.0");
    ide_put_string(p, 27, 20, "FOX86 HARDDISK");
    ide_put16(p, 47, 0x8000 | IDE_MULT_MAX);
    ide_put16(p, 48, 1);                           /* 32-bit PIO */
    ide_put16(p, 49, 1 << 11 | 1 << 9 | 1 << 8);   /* IORDY, LBA, DMA */
    ide_put16(p, 51, 0x200);
    ide_put16(p, 52, 0x200);
    ide_put16(p, 53, 1 | 2 | 4);                   /* words 54-58, 64-70 and 88 valid */
    ide_put16(p, 54, d->cyls);
    ide_put16(p, 55, d->cur_heads);
    ide_put16(p, 56, d->cur_secs);
    ide_put16(p, 57, (uint16_t)cur_chs);
    ide_put16(p, 58, (uint16_t)(cur_chs >> 16));
    ide_put16(p, 59, d->mult ? 0x100 | d->mult : 0);
    ide_put16(p, 60, (uint16_t)lba28);
    ide_put16(p, 61, (uint16_t)(lba28 >> 16));
    ide_put16(p, 62, 0x07);                        /* single-word DMA 0-2 (obsolete) */
    uint16_t mw = 0x07, udma = 0x3F;
    if ((d->dma_mode & 0xF8) == 0x20)
        mw |= (uint16_t)(0x100 << (d->dma_mode & 7));
    if ((d->dma_mode & 0xF8) == 0x40)
        udma |= (uint16_t)(0x100 << (d->dma_mode & 7));
    ide_put16(p, 63, mw);
    ide_put16(p, 64, 0x03);                        /* PIO 3 and 4 */
    ide_put16(p, 65, 120);
    ide_put16(p, 66, 120);
    ide_put16(p, 67, 120);
    ide_put16(p, 68, 120);
    ide_put16(p, 80, 0x7E);                        /* ATA-1 to ATA-6 */
    ide_put16(p, 81, 0x19);                        /* ATA/ATAPI-6 T13 1410D revision 3a */
    ide_put16(p, 82, 1 << 14 | 1 << 5);            /* NOP, write cache */
    ide_put16(p, 83, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10);   /* FLUSH CACHE (EXT), LBA48 */
    ide_put16(p, 84, 1 << 14);
    ide_put16(p, 85, (uint16_t)(d->write_cache ? 1 << 5 : 0));
    ide_put16(p, 86, 1 << 13 | 1 << 12 | 1 << 10);
    ide_put16(p, 87, 1 << 14);
    ide_put16(p, 88, udma);
    ide_put16(p, 93, 1 | 1 << 14 | 1 << 13);       /* reset result, 80-conductor cable */
    for (int w = 0; w < 4; w++)
        ide_put16(p, 100 + w, (uint16_t)(d->nsectors >> (16 * w)));
    /* word 255: signature 0xA5 and a checksum making the 512 bytes sum to 0 */
    uint8_t sum = 0xA5;
    for (int i = 0; i < 510; i++)
        sum = (uint8_t)(sum + p[i]);
    p[510] = 0xA5;
    p[511] = (uint8_t)-sum;
}

/* ---- PIO ---- */

static void pio_start(struct ide_drive *d, enum pio_kind kind, uint32_t len, bool irq)
{
    d->pio = kind;
    d->pos = 0;
    d->end = len;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (irq)
        ide_raise_irq(d);
}

/* The next DRQ block of a PIO read: fetch it, then interrupt. */
static void ata_read_block(struct ide_drive *d)
{
    uint32_t n = d->remaining < d->block ? d->remaining : d->block;
    int r = blockdev_read(d->bd, d->lba * 512, d->buf, (size_t)n * 512);
    if (r < 0) {
        machine_log(ide_machine(d), LOG_GUEST_ERRORS, "ide: read error at sector %llu: %s\n",
                    (unsigned long long)d->lba, strerror(-r));
        ata_set_sector(d, d->lba);
        ata_error(d, ER_UNC);
        return;
    }
    ata_set_sector(d, d->lba + n - 1);
    d->lba += n;
    d->remaining -= n;
    pio_start(d, PIO_ATA_READ, n * 512, true);
}

static void ata_write_block_ready(struct ide_drive *d, bool irq)
{
    uint32_t n = d->remaining < d->block ? d->remaining : d->block;
    pio_start(d, PIO_ATA_WRITE, n * 512, irq);
}

static void ata_write_block_done(struct ide_drive *d)
{
    uint32_t n = d->end / 512;
    int r = blockdev_write(d->bd, d->lba * 512, d->buf, (size_t)n * 512);
    if (r < 0) {
        machine_log(ide_machine(d), LOG_GUEST_ERRORS, "ide: write error at sector %llu: %s\n",
                    (unsigned long long)d->lba, strerror(-r));
        ata_set_sector(d, d->lba);
        ata_error(d, ER_ABRT);
        return;
    }
    ata_set_sector(d, d->lba + n - 1);
    d->lba += n;
    d->remaining -= n;
    if (d->remaining)
        ata_write_block_ready(d, true);
    else
        ata_done(d);
}

/* The guest has read or written the whole PIO buffer. */
static void pio_end(struct ide_drive *d)
{
    switch (d->pio) {
    case PIO_IDENTIFY:
        d->pio = PIO_NONE;
        d->status = (uint8_t)(d->status & ~ST_DRQ);
        break;
    case PIO_ATA_READ:
        if (d->remaining) {
            ata_read_block(d);
        } else {
            d->pio = PIO_NONE;
            d->status = ST_DRDY | ST_DSC;
        }
        break;
    case PIO_ATA_WRITE:
        ata_write_block_done(d);
        break;
    case PIO_PACKET:
        d->pio = PIO_NONE;
        atapi_packet_received(d);
        break;
    case PIO_ATAPI_IN:
        d->pio = PIO_NONE;
        atapi_chunk_done(d);
        break;
    case PIO_NONE:
        break;
    }
}

static bool pio_is_in(enum pio_kind k)
{
    return k == PIO_IDENTIFY || k == PIO_ATA_READ || k == PIO_ATAPI_IN;
}

static uint32_t data_read(struct ide_channel *ch, int size)
{
    struct ide_drive *d = cur_drive(ch);
    if (!d->present || !(d->status & ST_DRQ) || !pio_is_in(d->pio)) {
        machine_log(ch->ide->machine, LOG_GUEST_ERRORS,
                    "ide%d: data port read with no data to transfer\n", ch->index);
        return 0;
    }
    /* the buffer has 4 spare bytes, so a read past an odd end stays inside */
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)d->buf[d->pos + (uint32_t)i] << (8 * i);
    d->pos += (uint32_t)size;
    if (d->pos >= d->end)
        pio_end(d);
    return v;
}

static void data_write(struct ide_channel *ch, uint32_t v, int size)
{
    struct ide_drive *d = cur_drive(ch);
    if (!d->present || !(d->status & ST_DRQ) || (d->pio != PIO_ATA_WRITE && d->pio != PIO_PACKET)) {
        machine_log(ch->ide->machine, LOG_GUEST_ERRORS,
                    "ide%d: data port write with no transfer expecting data\n", ch->index);
        return;
    }
    for (int i = 0; i < size && d->pos < d->end; i++)
        d->buf[d->pos++] = (uint8_t)(v >> (8 * i));
    if (d->pos >= d->end)
        pio_end(d);
}

/* ---- bus-master DMA ---- */

static int dma_fetch(struct ide_drive *d, uint64_t pos, void *dst, uint32_t n)
{
    if (d->dma == DMA_ATAPI_IN)
        return atapi_fetch(d, pos, dst, n);
    return blockdev_read(d->bd, d->dma_offset + pos, dst, n);
}

/* Walk the PRD table and move the whole transfer. Returns 0, -1 for a
 * table too short or a bus error (BM error bit set), or -2 for a medium
 * error (the drive reports it). */
static int bm_transfer(struct ide_channel *ch, struct ide_drive *d, bool *table_left)
{
    struct ide *ide = ch->ide;
    uint32_t table = ch->bm_prd & ~3u;
    bool to_memory = d->dma != DMA_ATA_WRITE;
    uint64_t done = 0;

    *table_left = false;
    for (int i = 0; i < BM_MAX_PRD; i++) {
        uint8_t e[8];
        if (done == d->dma_len) {
            *table_left = true;     /* transfer finished before the table */
            return 0;
        }
        if (pci_dma_read(&ide->pci, table + 8u * (uint32_t)i, e, 8) != 0)
            return -1;
        uint32_t addr = pci_get_long(e) & ~1u;
        uint32_t count = pci_get_word(e + 4) & 0xFFFEu;
        bool eot = e[7] & 0x80;
        if (count == 0)
            count = 0x10000;
        uint32_t n = d->dma_len - done < count ? (uint32_t)(d->dma_len - done) : count;
        if (to_memory) {
            int r = dma_fetch(d, done, ide->dma_buf, n);
            if (r < 0)
                return -2;
            if (pci_dma_write(&ide->pci, addr, ide->dma_buf, n) != 0)
                return -1;
        } else {
            if (pci_dma_read(&ide->pci, addr, ide->dma_buf, n) != 0)
                return -1;
            if (blockdev_write(d->bd, d->dma_offset + done, ide->dma_buf, n) < 0)
                return -2;
        }
        done += n;
        if (eot) {
            if (done < d->dma_len)
                break;
            *table_left = n < count;
            return 0;
        }
    }
    if (done == d->dma_len)
        return 0;
    machine_log(ide->machine, LOG_GUEST_ERRORS,
                "ide%d: PRD table at 0x%08x covers %llu of %llu bytes\n", ch->index, table,
                (unsigned long long)done, (unsigned long long)d->dma_len);
    return -1;
}

static void bm_run(struct ide_channel *ch, struct ide_drive *d)
{
    bool table_left;
    enum dma_kind kind = d->dma;
    bool dir_to_memory = ch->bm_cmd & BM_CMD_TO_MEMORY;
    if (dir_to_memory != (kind != DMA_ATA_WRITE))
        machine_log(ch->ide->machine, LOG_GUEST_ERRORS,
                    "ide%d: bus master direction does not match the command\n", ch->index);
    int r = bm_transfer(ch, d, &table_left);

    if (r == 0 && !table_left)
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;    /* the table ran out with the data */
    if (r == -1)
        ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
    if (r == -2) {
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
        machine_log(ch->ide->machine, LOG_GUEST_ERRORS, "ide%d: medium error during DMA\n",
                    ch->index);
    }
    if (kind == DMA_ATAPI_IN) {
        d->dma = DMA_NONE;
        atapi_dma_done(d, r);
        return;
    }
    if (r == 0) {
        ata_set_sector(d, d->lba + d->remaining - 1);
        ata_done(d);
    } else {
        ata_set_sector(d, d->lba);
        ata_error(d, (r == -2 && kind == DMA_ATA_READ) ? ER_UNC : ER_ABRT);
    }
}

void ide_start_dma(struct ide_drive *d, enum dma_kind kind, uint64_t offset, uint64_t len)
{
    d->dma = kind;
    d->dma_offset = offset;
    d->dma_len = len;
    d->pio = PIO_NONE;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (d->ch->bm_cmd & BM_CMD_START)
        bm_run(d->ch, d);
}

static void ata_start_dma(struct ide_drive *d, bool write)
{
    ide_start_dma(d, write ? DMA_ATA_WRITE : DMA_ATA_READ, d->lba * 512, (uint64_t)d->remaining * 512);
}

static uint32_t bm_read(void *opaque, uint16_t port, int size)
{
    struct ide *ide = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t off = (uint32_t)(port - ide->bm_base) + (uint32_t)i;
        if (off >= 16)
            break;
        struct ide_channel *ch = &ide->ch[off >> 3];
        uint8_t b = 0;
        switch (off & 7) {
        case 0: b = ch->bm_cmd; break;
        case 2: b = ch->bm_status; break;
        case 4: case 5: case 6: case 7: b = (uint8_t)(ch->bm_prd >> (8 * ((off & 7) - 4))); break;
        }
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void bm_write_cmd(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->bm_cmd;
    ch->bm_cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
    if (!(v & BM_CMD_START)) {
        /* stopping aborts whatever had not run */
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
        return;
    }
    if (old & BM_CMD_START)
        return;
    ch->bm_status |= BM_ST_ACTIVE;
    for (int u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        if (d->present && d->dma != DMA_NONE) {
            bm_run(ch, d);
            break;
        }
    }
}

static void bm_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct ide *ide = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t off = (uint32_t)(port - ide->bm_base) + (uint32_t)i;
        if (off >= 16)
            break;
        struct ide_channel *ch = &ide->ch[off >> 3];
        uint8_t b = (uint8_t)(value >> (8 * i));
        switch (off & 7) {
        case 0: bm_write_cmd(ch, b); break;
        case 2:
            ch->bm_status = (uint8_t)((ch->bm_status & ~(BM_ST_DMA_CAP | ((b & (BM_ST_ERROR | BM_ST_INTR)))))
                                      | (b & BM_ST_DMA_CAP));
            break;
        case 4: case 5: case 6: case 7: {
            int shift = 8 * (int)((off & 7) - 4);
            ch->bm_prd = (ch->bm_prd & ~(0xFFu << shift)) | (uint32_t)b << shift;
            ch->bm_prd &= ~3u;
            break;
        }
        }
    }
}

static const struct ioport_ops bm_ops = { bm_read, bm_write };

static void bm_map(struct pci_device *dev, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct ide *ide = dev->opaque;
    struct ioport_map *io = &ide->machine->io;
    if (ide->bm_mapped)
        ioport_unregister(io, ide->bm_base, 16);
    ide->bm_mapped = false;
    if (new_addr == PCI_BAR_UNMAPPED)
        return;
    if (new_addr > 0x10000 - 16 ||
        ioport_register(io, (uint16_t)new_addr, 16, &bm_ops, ide) != 0) {
        machine_log(ide->machine, LOG_GUEST_ERRORS,
                    "ide: bus-master ports at 0x%x outside the port space or overlapping others\n",
                    new_addr);
        return;
    }
    ide->bm_base = (uint16_t)new_addr;
    ide->bm_mapped = true;
}

/* ---- ATA commands ---- */

static bool set_features(struct ide_drive *d)
{
    switch (d->feature) {
    case 0x02: d->write_cache = true; return true;
    case 0x82: d->write_cache = false; return true;
    case 0x03: {
        uint8_t mode = d->nsector;
        switch (mode >> 3) {
        case 0: d->pio_mode = 0; return mode <= 1;        /* PIO default (with/without IORDY) */
        case 1: if ((mode & 7) > 4) return false; d->pio_mode = mode & 7; return true;
        case 4: if ((mode & 7) > 2) return false; d->dma_mode = mode; return true;
        case 8: if ((mode & 7) > 5) return false; d->dma_mode = mode; return true;
        default: return false;
        }
    }
    default:
        return true;               /* look-ahead, reverting to defaults, ...: nothing to change */
    }
}

/* PIO read/write setup common to the single-sector and multiple forms. */
static void ata_pio_rw(struct ide_drive *d, bool lba48, bool write, uint32_t block)
{
    if (!ata_setup_range(d, lba48))
        return;
    d->block = block;
    if (write)
        ata_write_block_ready(d, false);
    else
        ata_read_block(d);
}

static void ata_command(struct ide_drive *d, uint8_t cmd)
{
    struct machine *m = ide_machine(d);
    d->error = 0;

    if (d->cdrom) {
        switch (cmd) {
        case 0xA0: atapi_packet_command(d); return;
        case 0xA1: atapi_identify(d); pio_start(d, PIO_IDENTIFY, 512, true); return;
        case 0x08:                                        /* DEVICE RESET */
            atapi_reset(d, false);
            ide_set_signature(d);
            d->error = 0x01;
            d->status = 0;
            return;
        case 0x90:
            ide_set_signature(d);
            d->error = 0x01;
            d->status = 0;
            ide_raise_irq(d);
            return;
        case 0xEF:
            if (set_features(d)) ata_done(d); else ata_abort(d);
            return;
        case 0x00:
            ata_abort(d);
            return;
        case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE4: case 0xE6:
            ata_done(d);
            return;
        case 0xE5:
            d->nsector = 0xFF;
            ata_done(d);
            return;
        case 0xEC:                 /* IDENTIFY DEVICE: abort, the signature says ATAPI */
            ata_abort(d);
            return;
        default:
            machine_log(m, LOG_UNIMP, "ide: ATAPI drive: ATA command 0x%02x unsupported\n", cmd);
            ata_abort(d);
            return;
        }
    }

    switch (cmd) {
    case 0xEC:
        ata_identify(d);
        pio_start(d, PIO_IDENTIFY, 512, true);
        break;
    case 0x20: case 0x21: ata_pio_rw(d, false, false, 1); break;
    case 0x24:            ata_pio_rw(d, true, false, 1); break;
    case 0x30: case 0x31: ata_pio_rw(d, false, true, 1); break;
    case 0x34:            ata_pio_rw(d, true, true, 1); break;
    case 0xC4: case 0x29: case 0xC5: case 0x39:
        if (!d->mult) {
            machine_log(m, LOG_GUEST_ERRORS, "ide: READ/WRITE MULTIPLE with multiple mode off\n");
            ata_abort(d);
            break;
        }
        ata_pio_rw(d, cmd == 0x29 || cmd == 0x39, cmd == 0xC5 || cmd == 0x39, d->mult);
        break;
    case 0xC6:                     /* SET MULTIPLE MODE: a power of two up to the maximum */
        if (d->nsector > IDE_MULT_MAX || (d->nsector & (d->nsector - 1))) {
            ata_abort(d);
            break;
        }
        d->mult = d->nsector;
        ata_done(d);
        break;
    case 0xC8: case 0xC9: case 0x25: case 0xCA: case 0xCB: case 0x35:
        if (ata_setup_range(d, cmd == 0x25 || cmd == 0x35))
            ata_start_dma(d, cmd == 0xCA || cmd == 0xCB || cmd == 0x35);
        break;
    case 0x40: case 0x41: case 0x42:   /* READ VERIFY SECTORS (EXT): nothing can fail */
        if (ata_setup_range(d, cmd == 0x42)) {
            ata_set_sector(d, d->lba + d->remaining - 1);
            ata_done(d);
        }
        break;
    case 0x70:                     /* SEEK */
        d->lba48 = false;
        {
            uint64_t lba;
            if (!ata_start_lba(d, &lba) || lba >= d->nsectors)
                ata_error(d, ER_IDNF);
            else
                ata_done(d);
        }
        break;
    case 0x91:                     /* INITIALIZE DEVICE PARAMETERS */
        if (d->nsector == 0) {
            ata_abort(d);
            break;
        }
        d->cur_secs = d->nsector;
        d->cur_heads = (uint16_t)((d->select & 0x0F) + 1);
        ata_done(d);
        break;
    case 0xEF:
        if (set_features(d))
            ata_done(d);
        else
            ata_abort(d);
        break;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE6:   /* power management: always active */
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x99:
        ata_done(d);
        break;
    case 0xE5: case 0x98:          /* CHECK POWER MODE */
        d->nsector = 0xFF;
        ata_done(d);
        break;
    case 0xE7: case 0xEA:          /* FLUSH CACHE (EXT) */
        if (blockdev_flush(d->bd) < 0) {
            machine_log(m, LOG_GUEST_ERRORS, "ide: flush failed\n");
            ata_abort(d);
        } else {
            ata_done(d);
        }
        break;
    case 0x90:                     /* EXECUTE DEVICE DIAGNOSTIC */
        ide_set_signature(d);
        d->error = 0x01;
        d->status = ST_DRDY | ST_DSC;
        ide_raise_irq(d);
        break;
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17:
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
        ata_done(d);               /* RECALIBRATE */
        break;
    case 0xF8: case 0x27: {        /* READ NATIVE MAX ADDRESS (EXT): no HPA, the size */
        uint64_t max = d->nsectors - 1;
        if (cmd == 0xF8 && max > 0x0FFFFFFF)
            max = 0x0FFFFFFF;
        d->lba48 = cmd == 0x27;
        d->select |= 0x40;
        ata_set_sector(d, max);
        ata_done(d);
        break;
    }
    default:
        machine_log(m, LOG_UNIMP, "ide: ATA command 0x%02x unsupported\n", cmd);
        ata_abort(d);
        break;
    }
}

/* ---- resets ---- */

static void drive_reset(struct ide_drive *d, bool power_on)
{
    d->pio = PIO_NONE;
    d->dma = DMA_NONE;
    d->pos = d->end = 0;
    d->feature = d->hob_feature = 0;
    d->select = 0xA0;
    d->error = 0x01;               /* diagnostic: no error */
    d->mult = IDE_MULT_MAX;        /* QEMU's default; drivers set their own */
    d->cur_heads = d->heads;
    d->cur_secs = d->secs;
    if (power_on) {
        d->write_cache = true;
        d->pio_mode = 0;
        d->dma_mode = 0;
    }
    ide_set_signature(d);
    if (!d->present)
        d->status = 0;
    else if (d->cdrom) {
        d->status = 0;             /* ATAPI: DRDY stays clear after reset */
        atapi_reset(d, power_on);
    } else {
        d->status = ST_DRDY | ST_DSC;
    }
}

static void channel_reset(struct ide_channel *ch, bool power_on)
{
    for (int u = 0; u < 2; u++)
        drive_reset(&ch->drive[u], power_on);
    ch->cur = 0;
    ch->irq_pending = false;
    if (power_on) {
        ch->devctl = 0;
        ch->bm_cmd = 0;
        ch->bm_status = 0;
        ch->bm_prd = 0;
    }
    channel_update_irq(ch);
}

static void devctl_write(struct ide_channel *ch, uint8_t v)
{
    uint8_t old = ch->devctl;
    ch->devctl = v & (DEVCTL_NIEN | DEVCTL_SRST | DEVCTL_HOB);
    if (!(old & DEVCTL_SRST) && (v & DEVCTL_SRST)) {
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            d->pio = PIO_NONE;
            d->dma = DMA_NONE;
            if (d->present)
                d->status = ST_BSY;
        }
        ch->irq_pending = false;
    } else if ((old & DEVCTL_SRST) && !(v & DEVCTL_SRST)) {
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            bool locked = d->locked;
            drive_reset(d, false);
            d->locked = locked;
        }
        ch->cur = 0;
    }
    channel_update_irq(ch);
}

/* ---- the task file ports ---- */

static uint8_t taskfile_read(struct ide_channel *ch, int reg)
{
    struct ide_drive *d = cur_drive(ch);
    bool any = ch->drive[0].present || ch->drive[1].present;
    bool hob = ch->devctl & DEVCTL_HOB;
    if (reg == 6)
        return any ? d->select : 0;
    if (!d->present)
        return 0;
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    case 7:
        lower_irq(ch);
        return d->status;
    }
    return 0;
}

static void taskfile_write(struct ide_channel *ch, int reg, uint8_t v)
{
    /* any command block write clears HOB */
    ch->devctl &= (uint8_t)~DEVCTL_HOB;
    for (int u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        switch (reg) {
        case 1: d->hob_feature = d->feature; d->feature = v; break;
        case 2: d->hob_nsector = d->nsector; d->nsector = v; break;
        case 3: d->hob_sector = d->sector; d->sector = v; break;
        case 4: d->hob_lcyl = d->lcyl; d->lcyl = v; break;
        case 5: d->hob_hcyl = d->hcyl; d->hcyl = v; break;
        case 6: d->select = v | 0xA0; break;
        }
    }
    if (reg == 6)
        ch->cur = (v >> 4) & 1;
    if (reg == 7) {
        struct ide_drive *d = cur_drive(ch);
        if (!d->present)
            return;                /* nobody answers to an absent drive's commands */
        lower_irq(ch);
        /* as QEMU: while BSY or DRQ only an ATAPI DEVICE RESET is taken */
        if ((d->status & (ST_BSY | ST_DRQ)) && !(d->cdrom && v == 0x08 && !(d->status & ST_BSY))) {
            machine_log(ch->ide->machine, LOG_GUEST_ERRORS,
                        "ide%d: command 0x%02x ignored: the drive is busy or transferring\n",
                        ch->index, v);
            return;
        }
        d->pio = PIO_NONE;
        d->dma = DMA_NONE;
        ata_command(d, v);
    }
}

static uint32_t channel_read(void *opaque, uint16_t port, int size)
{
    struct ide_channel *ch = opaque;
    int reg = port - ch->iobase;
    if (reg == 0)
        return data_read(ch, size);
    uint32_t v = 0;
    for (int i = 0; i < size && reg + i < 8; i++)
        v |= (uint32_t)taskfile_read(ch, reg + i) << (8 * i);
    return v;
}

static void channel_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct ide_channel *ch = opaque;
    int reg = port - ch->iobase;
    if (reg == 0) {
        data_write(ch, value, size);
        return;
    }
    for (int i = 0; i < size && reg + i < 8; i++)
        taskfile_write(ch, reg + i, (uint8_t)(value >> (8 * i)));
}

static uint32_t ctl_read(void *opaque, uint16_t port, int size)
{
    struct ide_channel *ch = opaque;
    struct ide_drive *d = cur_drive(ch);
    return d->present ? d->status : 0;     /* alternate status: no interrupt side effect */
}

static void ctl_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    devctl_write(opaque, (uint8_t)value);
}

static const struct ioport_ops channel_ops = { channel_read, channel_write };
static const struct ioport_ops ctl_ops = { ctl_read, ctl_write };

/* ---- the device ---- */

static void ide_reset(void *opaque)
{
    struct ide *ide = opaque;
    for (int c = 0; c < 2; c++)
        channel_reset(&ide->ch[c], true);
}

static void ide_destroy(void *opaque)
{
    struct ide *ide = opaque;
    for (int c = 0; c < 2; c++)
        for (int u = 0; u < 2; u++)
            free(ide->ch[c].drive[u].buf);
    free(ide->dma_buf);
    free(ide);
}

/* ---- save state ---- */

/* Per drive: the task file, the transfer in progress (with its PIO buffer)
 * and the ATAPI state; the medium and its geometry are host configuration.
 * Per channel: selection, device control, INTRQ and the bus master's
 * registers. Configuration space is saved by the PCI bus; where BAR 4 is
 * decoded (bm_base) follows from it when the bus maps it again. */
static const struct state_field ide_drive_fields[] = {
    STATE_U16(struct ide_drive, cur_heads),
    STATE_U16(struct ide_drive, cur_secs),
    STATE_U8(struct ide_drive, feature),
    STATE_U8(struct ide_drive, nsector),
    STATE_U8(struct ide_drive, sector),
    STATE_U8(struct ide_drive, lcyl),
    STATE_U8(struct ide_drive, hcyl),
    STATE_U8(struct ide_drive, select),
    STATE_U8(struct ide_drive, hob_feature),
    STATE_U8(struct ide_drive, hob_nsector),
    STATE_U8(struct ide_drive, hob_sector),
    STATE_U8(struct ide_drive, hob_lcyl),
    STATE_U8(struct ide_drive, hob_hcyl),
    STATE_U8(struct ide_drive, status),
    STATE_U8(struct ide_drive, error),
    STATE_U8(struct ide_drive, mult),
    STATE_BOOL(struct ide_drive, write_cache),
    STATE_U8(struct ide_drive, pio_mode),
    STATE_U8(struct ide_drive, dma_mode),
    STATE_PTR_BYTES(struct ide_drive, buf, IDE_PIO_BUF_SIZE + 4),
    STATE_U32(struct ide_drive, pos),
    STATE_U32(struct ide_drive, end),
    STATE_INT(struct ide_drive, pio),
    STATE_BOOL(struct ide_drive, lba48),
    STATE_U64(struct ide_drive, lba),
    STATE_U32(struct ide_drive, remaining),
    STATE_U32(struct ide_drive, block),
    STATE_INT(struct ide_drive, dma),
    STATE_U64(struct ide_drive, dma_offset),
    STATE_U64(struct ide_drive, dma_len),
    STATE_ARRAY(struct ide_drive, packet),
    STATE_U32(struct ide_drive, byte_limit),
    STATE_BOOL(struct ide_drive, packet_dma),
    STATE_U32(struct ide_drive, chunk),
    STATE_U64(struct ide_drive, data_sent),
    STATE_BOOL(struct ide_drive, from_reply),
    STATE_U64(struct ide_drive, data_offset),
    STATE_U64(struct ide_drive, data_remaining),
    STATE_ARRAY(struct ide_drive, reply),
    STATE_U8(struct ide_drive, sense_key),
    STATE_U8(struct ide_drive, asc),
    STATE_U8(struct ide_drive, ascq),
    STATE_BOOL(struct ide_drive, unit_attention),
    STATE_BOOL(struct ide_drive, locked),
};
static const struct state_desc ide_drive_state = STATE_DESC("ide_drive", 1, ide_drive_fields);

static const struct state_field ide_channel_fields[] = {
    STATE_STRUCT_ARRAY(struct ide_channel, drive, ide_drive_state),
    STATE_INT(struct ide_channel, cur),
    STATE_U8(struct ide_channel, devctl),
    STATE_BOOL(struct ide_channel, irq_pending),
    STATE_U8(struct ide_channel, bm_cmd),
    STATE_U8(struct ide_channel, bm_status),
    STATE_U32(struct ide_channel, bm_prd),
};
static const struct state_desc ide_channel_state = STATE_DESC("ide_channel", 1, ide_channel_fields);

static const struct state_field ide_fields[] = {
    STATE_STRUCT_ARRAY(struct ide, ch, ide_channel_state),
};
static const struct state_desc ide_state = STATE_DESC("piix3-ide", 1, ide_fields);

/* Buffer positions and block sizes index the PIO buffer: check them. */
static int ide_post_load(void *opaque)
{
    struct ide *ide = opaque;
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        if (ch->cur < 0 || ch->cur > 1)
            return -1;
        for (int u = 0; u < 2; u++) {
            const struct ide_drive *d = &ch->drive[u];
            if (d->end > IDE_PIO_BUF_SIZE || d->pos > d->end || d->block > IDE_MULT_MAX
                || d->mult > IDE_MULT_MAX || (unsigned)d->pio > PIO_ATAPI_IN
                || (unsigned)d->dma > DMA_ATAPI_IN || d->chunk > IDE_PIO_BUF_SIZE)
                return -1;
        }
        channel_update_irq(ch);
    }
    return 0;
}

static const struct device_ops ide_ops = {
    .name = "piix3-ide", .reset = ide_reset, .destroy = ide_destroy,
    .state = &ide_state,
    .post_load = ide_post_load,
};

static void drive_init(struct ide_drive *d, const struct ide_drive_config *cfg)
{
    /* a CD-ROM drive may be empty; a hard disk without an image is no drive */
    d->present = cfg->cdrom ? (cfg->present || cfg->bd) : cfg->bd != NULL;
    d->cdrom = cfg->cdrom;
    d->bd = cfg->bd;
    if (!d->present || d->cdrom)
        return;
    d->nsectors = d->bd->size / 512;
    /* the usual translation-free geometry: 16 heads, 63 sectors */
    d->heads = 16;
    d->secs = 63;
    uint64_t cyls = d->nsectors / (16 * 63);
    d->cyls = (uint16_t)(cyls > 16383 ? 16383 : cyls < 1 ? 1 : cyls);
}

int ide_create(struct machine *m, struct pci_bus *bus, int devfn, struct irq_line *irq14,
               struct irq_line *irq15, const struct ide_drive_config drives[4])
{
    static const uint16_t iobase[2] = { 0x1F0, 0x170 }, ctlport[2] = { 0x3F6, 0x376 };
    struct ide *ide = calloc(1, sizeof *ide);
    if (!ide)
        return -1;
    ide->machine = m;
    ide->dma_buf = malloc(0x10000);
    if (!ide->dma_buf) {
        free(ide);
        return -1;
    }
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &ide->ch[c];
        ch->ide = ide;
        ch->index = c;
        ch->irq = c ? irq15 : irq14;
        ch->iobase = iobase[c];
        ch->ctlport = ctlport[c];
        for (int u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            d->ch = ch;
            d->unit = u;
            if (drives)
                drive_init(d, &drives[2 * c + u]);
            d->buf = calloc(1, IDE_PIO_BUF_SIZE + 4);
            if (!d->buf) {
                ide_destroy(ide);
                return -1;
            }
        }
    }
    pci_config_init(&ide->pci, 0x8086, 0x7010, 0x00, 0x010180, 0x00);
    /* IDETIM, SIDETIM and friends: storage only */
    for (int r = 0x40; r < 0x4C; r++)
        ide->pci.wmask[r] = 0xFF;
    pci_register_bar(&ide->pci, 4, 16, PCI_BAR_IO, bm_map);
    ide->pci.opaque = ide;
    ide->pci.name = "piix3-ide";

    /* the legacy ports; on failure take back only the ranges we got */
    struct { uint16_t first, count; const struct ioport_ops *ops; struct ide_channel *ch; } ranges[4] = {
        { 0x1F0, 8, &channel_ops, &ide->ch[0] }, { 0x3F6, 1, &ctl_ops, &ide->ch[0] },
        { 0x170, 8, &channel_ops, &ide->ch[1] }, { 0x376, 1, &ctl_ops, &ide->ch[1] },
    };
    int got = 0;
    while (got < 4 && ioport_register(&m->io, ranges[got].first, ranges[got].count,
                                      ranges[got].ops, ranges[got].ch) == 0)
        got++;
    if (got < 4 || (bus && pci_register_device(bus, &ide->pci, devfn) != 0)) {
        while (got--)
            ioport_unregister(&m->io, ranges[got].first, ranges[got].count);
        ide_destroy(ide);
        return -1;
    }
    if (machine_add_device(m, &ide_ops, ide) != 0) {
        ide_destroy(ide);
        return -1;
    }
    ide_reset(ide);
    return 0;
}
