/* devices/ide_atapi.c: the ATAPI CD/DVD-ROM drive of the PIIX3 IDE model.
 *
 * Modelled: IDENTIFY PACKET DEVICE, the PACKET protocol (command packet
 * under DRQ with CoD set, data-in chunks sized by the byte count limit in
 * LBA mid/high, one interrupt per chunk and one for the ending status, the
 * interrupt reason in the sector count register), DMA data-in through the
 * bus master when the Features DMA bit is set, sense data, a unit attention
 * once after power-on, and the MMC commands BIOSes, Linux's sr/cdrom
 * drivers and DOS CD drivers use (see atapi_execute()). The medium is a
 * read-only 2048-byte-block image with one data track; an empty drive
 * reports NOT READY / MEDIUM NOT PRESENT.
 *
 * Not modelled: audio, raw sectors (READ CD), writing, media changes at
 * run time (no eject), overlapped commands, a DRQ interrupt for the packet.
 */
#include <string.h>

#include "core/blockdev.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/ide.h"

/* sense keys and additional sense codes */
enum { SK_NO_SENSE = 0x0, SK_NOT_READY = 0x2, SK_MEDIUM_ERROR = 0x3, SK_ILLEGAL_REQUEST = 0x5,
       SK_UNIT_ATTENTION = 0x6, SK_ABORTED_COMMAND = 0xB };
enum { ASC_UNRECOVERED_READ = 0x11, ASC_INVALID_OPCODE = 0x20, ASC_LBA_OUT_OF_RANGE = 0x21,
       ASC_INVALID_FIELD = 0x24, ASC_POWER_ON_RESET = 0x29, ASC_SAVING_UNSUPPORTED = 0x39,
       ASC_MEDIUM_NOT_PRESENT = 0x3A };

#define CD_MAX_BLOCKS 360000u      /* 80 minutes of CD; anything larger is a DVD */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t medium_blocks(const struct ide_drive *d)
{
    return d->bd ? (uint32_t)(d->bd->size / CD_BLOCK) : 0;
}

void atapi_reset(struct ide_drive *d, bool power_on)
{
    d->sense_key = SK_NO_SENSE;
    d->asc = d->ascq = 0;
    d->data_remaining = 0;
    d->chunk = 0;
    if (power_on) {
        d->locked = false;
        d->unit_attention = d->bd != NULL;
    }
}

void atapi_identify(struct ide_drive *d)
{
    uint8_t *p = d->buf;
    memset(p, 0, 512);
    ide_put16(p, 0, 0x85C0);       /* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
    char serial[16] = "FOX86-CD-00";
    serial[9] = (char)('0' + d->ch->index);
    serial[10] = (char)('0' + d->unit);
    ide_put_string(p, 10, 10, serial);
    ide_put16(p, 20, 3);
    ide_put16(p, 21, 512);
    ide_put_string(p, 23, 4, "1.0");
    ide_put_string(p, 27, 20, "FOX86 DVD-ROM");
    ide_put16(p, 48, 1);
    ide_put16(p, 49, 1 << 11 | 1 << 9 | 1 << 8);   /* IORDY, LBA, DMA */
    ide_put16(p, 53, 2 | 4);                       /* words 64-70 and 88 valid */
    ide_put16(p, 62, 0x07);
    uint16_t mw = 0x07, udma = 0x3F;
    if ((d->dma_mode & 0xF8) == 0x20)
        mw |= (uint16_t)(0x100 << (d->dma_mode & 7));
    if ((d->dma_mode & 0xF8) == 0x40)
        udma |= (uint16_t)(0x100 << (d->dma_mode & 7));
    ide_put16(p, 63, mw);
    ide_put16(p, 64, 0x03);
    ide_put16(p, 65, 120);
    ide_put16(p, 66, 120);
    ide_put16(p, 67, 120);
    ide_put16(p, 68, 120);
    ide_put16(p, 71, 30);          /* typical release times, ns */
    ide_put16(p, 72, 30);
    ide_put16(p, 80, 0x1E);        /* ATA/ATAPI-1 to -4 */
    ide_put16(p, 82, 1 << 14 | 1 << 4);            /* NOP, PACKET */
    ide_put16(p, 83, 1 << 14);
    ide_put16(p, 84, 1 << 14);
    ide_put16(p, 85, 1 << 4);
    ide_put16(p, 87, 1 << 14);
    ide_put16(p, 88, udma);
    ide_put16(p, 93, 1 | 1 << 14 | 1 << 13);
}

/* ---- ending a command ---- */

static void atapi_end(struct ide_drive *d, bool error)
{
    d->pio = PIO_NONE;
    d->dma = DMA_NONE;
    d->data_remaining = 0;
    d->nsector = IREASON_IO | IREASON_COD;
    d->status = (uint8_t)(ST_DRDY | ST_DSC | (error ? ST_ERR : 0));
    ide_raise_irq(d);
}

static void atapi_ok(struct ide_drive *d)
{
    d->sense_key = SK_NO_SENSE;
    d->asc = d->ascq = 0;
    d->error = 0;
    atapi_end(d, false);
}

/* CHECK CONDITION: the sense key also goes to the error register's top nibble. */
static void atapi_fail(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->error = (uint8_t)(key << 4 | (key == SK_ILLEGAL_REQUEST || key == SK_ABORTED_COMMAND ? ER_ABRT : 0));
    atapi_end(d, true);
}

int atapi_fetch(struct ide_drive *d, uint64_t pos, void *dst, uint32_t n)
{
    if (d->from_reply) {
        if (pos > IDE_REPLY_SIZE || n > IDE_REPLY_SIZE - pos)
            return -1;
        memcpy(dst, d->reply + pos, n);
        return 0;
    }
    if (!d->bd)
        return -1;
    return blockdev_read(d->bd, d->data_offset + pos, dst, n);
}

static void atapi_next_chunk(struct ide_drive *d)
{
    uint32_t limit = d->byte_limit;
    if (limit == 0 || limit > 0xFFFE)
        limit = 0xFFFE;            /* 0 is invalid and 0xFFFF odd: take the largest even count */
    uint32_t n = d->data_remaining < limit ? (uint32_t)d->data_remaining : limit;
    if (n < d->data_remaining && (n & 1))
        n--;                       /* only the last chunk may be odd */
    if (n == 0)
        n = d->data_remaining < 2 ? (uint32_t)d->data_remaining : 2;
    if (atapi_fetch(d, d->data_sent, d->buf, n) < 0) {
        machine_log(ide_machine(d), LOG_GUEST_ERRORS, "ide: CD-ROM read error at byte %llu\n",
                    (unsigned long long)(d->data_offset + d->data_sent));
        atapi_fail(d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
        return;
    }
    memset(d->buf + n, 0, 4);      /* a word read past an odd end sees zeros */
    d->chunk = n;
    d->lcyl = (uint8_t)n;
    d->hcyl = (uint8_t)(n >> 8);
    d->nsector = IREASON_IO;
    d->pio = PIO_ATAPI_IN;
    d->pos = 0;
    d->end = n;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    ide_raise_irq(d);
}

void atapi_chunk_done(struct ide_drive *d)
{
    d->data_sent += d->chunk;
    d->data_remaining -= d->chunk;
    if (d->data_remaining)
        atapi_next_chunk(d);
    else
        atapi_ok(d);
}

void atapi_dma_done(struct ide_drive *d, int result)
{
    if (result == 0)
        atapi_ok(d);
    else if (result == -2)
        atapi_fail(d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
    else
        atapi_fail(d, SK_ABORTED_COMMAND, 0, 0);
}

/* Send total bytes, from reply[] or from the disc at offset. */
static void atapi_send(struct ide_drive *d, bool from_reply, uint64_t offset, uint64_t total)
{
    d->from_reply = from_reply;
    d->data_offset = offset;
    d->data_sent = 0;
    d->data_remaining = total;
    if (total == 0) {
        atapi_ok(d);
        return;
    }
    if (d->packet_dma)
        ide_start_dma(d, DMA_ATAPI_IN, offset, total);
    else
        atapi_next_chunk(d);
}

static void atapi_reply(struct ide_drive *d, uint32_t len, uint32_t alloc)
{
    atapi_send(d, true, 0, len < alloc ? len : alloc);
}

/* ---- MMC commands ---- */

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;                    /* the 2-second pregap */
    p[0] = (uint8_t)(lba / (75 * 60));
    p[1] = (uint8_t)(lba / 75 % 60);
    p[2] = (uint8_t)(lba % 75);
}

/* A TOC address field (4 bytes): LBA, or 0:M:S:F. */
static void put_toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf) {
        p[0] = 0;
        lba_to_msf(p + 1, lba);
    } else {
        put_be32(p, lba);
    }
}

static void cmd_read_toc(struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    bool msf = c[1] & 2;
    uint8_t format = c[2] & 0x0F, start = c[6];
    uint16_t alloc = be16(c + 7);
    uint8_t *r = d->reply;
    uint32_t len;

    if (format == 0 && (c[9] >> 6))
        format = c[9] >> 6;        /* the old SFF-8020 place for the format */
    memset(r, 0, 64);
    switch (format) {
    case 0:
        if (start > 1 && start != 0xAA) {
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        r[2] = 1;                  /* first track */
        r[3] = 1;                  /* last track */
        len = 4;
        if (start <= 1) {
            r[len + 1] = 0x14;     /* ADR 1, data track */
            r[len + 2] = 1;
            put_toc_addr(r + len + 4, 0, msf);
            len += 8;
        }
        r[len + 1] = 0x14;
        r[len + 2] = 0xAA;         /* lead-out */
        put_toc_addr(r + len + 4, medium_blocks(d), msf);
        len += 8;
        break;
    case 1:                        /* session information */
        r[2] = 1;
        r[3] = 1;
        r[5] = 0x14;
        r[6] = 1;
        put_toc_addr(r + 8, 0, msf);
        len = 12;
        break;
    default:
        machine_log(ide_machine(d), LOG_UNIMP, "ide: READ TOC format %u unsupported\n", format);
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    put_be16(r, (uint16_t)(len - 2));
    atapi_reply(d, len, alloc);
}

static uint32_t mode_page(const struct ide_drive *d, uint8_t page, uint8_t *p)
{
    switch (page) {
    case 0x01:                     /* read error recovery */
        memset(p, 0, 12);
        p[0] = 0x01;
        p[1] = 0x0A;
        p[3] = 5;                  /* read retry count */
        return 12;
    case 0x2A:                     /* CD/DVD capabilities and mechanical status */
        memset(p, 0, 20);
        p[0] = 0x2A;
        p[1] = 0x12;
        p[2] = 0x3B;               /* reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R */
        p[4] = 0x71;               /* audio play, composite, digital ports, multi-session */
        p[5] = 0xFF;               /* CD-DA commands, accurate stream, ... */
        p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));   /* lock, eject, tray */
        put_be16(p + 8, 706);      /* maximum speed, kB/s */
        put_be16(p + 10, 2);       /* volume levels */
        put_be16(p + 12, 512);     /* buffer, KiB */
        put_be16(p + 14, 706);     /* current speed */
        return 20;
    }
    return 0;
}

static void cmd_mode_sense(struct ide_drive *d, bool ten)
{
    const uint8_t *c = d->packet;
    uint8_t pc = c[2] >> 6, page = c[2] & 0x3F;
    uint32_t alloc = ten ? be16(c + 7) : c[4];
    uint32_t hdr = ten ? 8 : 4, len = hdr;
    uint8_t *r = d->reply;

    if (pc == 3) {
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_SAVING_UNSUPPORTED, 0);
        return;
    }
    memset(r, 0, hdr);
    if (page == 0x3F) {
        len += mode_page(d, 0x01, r + len);
        len += mode_page(d, 0x2A, r + len);
    } else {
        uint32_t n = mode_page(d, page, r + len);
        if (!n) {
            machine_log(ide_machine(d), LOG_UNIMP, "ide: MODE SENSE page 0x%02x unsupported\n", page);
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        len += n;
    }
    if (pc == 1)                   /* changeable values: none */
        memset(r + hdr + 2, 0, len - hdr - 2);
    uint8_t medium = d->bd ? 0x01 : 0x70;      /* 120 mm data disc, or no disc */
    if (ten) {
        put_be16(r, (uint16_t)(len - 2));
        r[2] = medium;
    } else {
        r[0] = (uint8_t)(len - 1);
        r[1] = medium;
    }
    atapi_reply(d, len, alloc);
}

static void cmd_get_configuration(struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    uint8_t rt = c[1] & 3;
    uint16_t first = be16(c + 2), alloc = be16(c + 7);
    uint16_t profile = !d->bd ? 0 : medium_blocks(d) > CD_MAX_BLOCKS ? 0x0010 : 0x0008;
    uint8_t *r = d->reply;
    uint32_t len = 8;

    memset(r, 0, 64);
    put_be16(r + 6, profile);
    /* rt 0/1: features from the starting one on; rt 2: that one only */
    if (first == 0) {              /* feature 0: the profile list */
        uint8_t *f = r + len;
        f[2] = 0x03;               /* persistent, current */
        f[3] = 8;
        put_be16(f + 4, 0x0010);
        f[6] = profile == 0x0010;
        put_be16(f + 8, 0x0008);
        f[10] = profile == 0x0008;
        len += 12;
    }
    if (rt == 2 ? first == 1 : first <= 1) {   /* feature 1: core, ATAPI interface */
        uint8_t *f = r + len;
        put_be16(f, 0x0001);
        f[2] = 0x0B;               /* version 2, persistent, current */
        f[3] = 8;
        put_be32(f + 4, 2);
        f[8] = 0x01;               /* DBE */
        len += 12;
    }
    put_be32(r, len - 4);
    atapi_reply(d, len, alloc);
}

static void cmd_get_event_status(struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    uint16_t alloc = be16(c + 7);
    uint8_t *r = d->reply;

    if (!(c[1] & 1)) {             /* only polled operation */
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(r, 0, 8);
    r[3] = 0x10;                   /* supported classes: media */
    if (c[4] & 0x10) {
        put_be16(r, 6);
        r[2] = 0x04;               /* media class */
        r[4] = 0;                  /* no change */
        r[5] = d->bd ? 0x02 : 0x00;   /* media present, tray closed */
        atapi_reply(d, 8, alloc);
    } else {
        put_be16(r, 2);
        r[2] = 0x80;               /* no event available */
        atapi_reply(d, 4, alloc);
    }
}

static void cmd_read_disc_information(struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    uint16_t alloc = be16(c + 7);
    uint8_t *r = d->reply;
    if ((c[1] & 7) != 0) {
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(r, 0, 34);
    put_be16(r, 32);
    r[2] = 0x0E;                   /* last session complete, disc finalized */
    r[3] = 1;                      /* first track */
    r[4] = 1;                      /* sessions */
    r[5] = 1;                      /* first track of the last session */
    r[6] = 1;                      /* last track of the last session */
    r[7] = 0x20;                   /* unrestricted use */
    memset(r + 16, 0xFF, 8);       /* no lead-in / lead-out start times */
    atapi_reply(d, 34, alloc);
}

static void cmd_read(struct ide_drive *d, uint32_t lba, uint32_t count)
{
    uint32_t blocks = medium_blocks(d);
    if (lba > blocks || count > blocks - lba) {
        machine_log(ide_machine(d), LOG_GUEST_ERRORS,
                    "ide: CD-ROM read of %u blocks at %u beyond the disc (%u blocks)\n",
                    count, lba, blocks);
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    atapi_send(d, false, (uint64_t)lba * CD_BLOCK, (uint64_t)count * CD_BLOCK);
}

static bool needs_medium(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x25: case 0x28: case 0xA8: case 0x43: case 0x51: case 0x42:
        return true;
    }
    return false;
}

static void atapi_execute(struct ide_drive *d)
{
    const uint8_t *c = d->packet;
    uint8_t op = c[0];
    uint8_t *r = d->reply;

    /* a unit attention answers the first command after power-on, except
     * those that report status without touching the medium */
    if (d->unit_attention && op != 0x12 && op != 0x03 && op != 0x46 && op != 0x4A) {
        d->unit_attention = false;
        atapi_fail(d, SK_UNIT_ATTENTION, ASC_POWER_ON_RESET, 0);
        return;
    }
    if (!d->bd && needs_medium(op)) {
        atapi_fail(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
        return;
    }
    switch (op) {
    case 0x00:                     /* TEST UNIT READY */
        atapi_ok(d);
        break;
    case 0x03: {                   /* REQUEST SENSE */
        memset(r, 0, 18);
        r[0] = 0x70;
        r[7] = 10;
        if (d->unit_attention) {
            d->unit_attention = false;
            r[2] = SK_UNIT_ATTENTION;
            r[12] = ASC_POWER_ON_RESET;
        } else {
            r[2] = d->sense_key;
            r[12] = d->asc;
            r[13] = d->ascq;
        }
        uint8_t alloc = c[4];
        atapi_reply(d, 18, alloc);         /* atapi_ok (at the end) clears the sense */
        break;
    }
    case 0x12: {                   /* INQUIRY */
        if (c[1] & 1) {            /* no vital product data pages */
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            break;
        }
        memset(r, 0, 36);
        r[0] = 0x05;               /* CD/DVD device */
        r[1] = 0x80;               /* removable */
        r[2] = 0x00;
        r[3] = 0x21;               /* ATAPI version 2, response format 1 */
        r[4] = 31;
        memcpy(r + 8, "FOX86   ", 8);
        memcpy(r + 16, "FOX86 DVD-ROM   ", 16);
        memcpy(r + 32, "1.0 ", 4);
        atapi_reply(d, 36, be16(c + 3));
        break;
    }
    case 0x1B:                     /* START STOP UNIT: nothing moves */
        if ((c[4] & 3) == 2 && d->locked) {
            atapi_fail(d, SK_ILLEGAL_REQUEST, 0x53, 0x02);   /* medium removal prevented */
            break;
        }
        atapi_ok(d);
        break;
    case 0x1E:                     /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = c[4] & 1;
        atapi_ok(d);
        break;
    case 0x25: {                   /* READ CAPACITY(10) */
        put_be32(r, medium_blocks(d) - 1);
        put_be32(r + 4, CD_BLOCK);
        atapi_reply(d, 8, 8);
        break;
    }
    case 0x28:                     /* READ(10) */
        cmd_read(d, be32(c + 2), be16(c + 7));
        break;
    case 0xA8:                     /* READ(12) */
        cmd_read(d, be32(c + 2), be32(c + 6));
        break;
    case 0x2B:                     /* SEEK(10) */
        if (be32(c + 2) >= medium_blocks(d))
            atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            atapi_ok(d);
        break;
    case 0x1A:
        cmd_mode_sense(d, false);
        break;
    case 0x5A:
        cmd_mode_sense(d, true);
        break;
    case 0x43:
        cmd_read_toc(d);
        break;
    case 0x46:
        cmd_get_configuration(d);
        break;
    case 0x4A:
        cmd_get_event_status(d);
        break;
    case 0x51:
        cmd_read_disc_information(d);
        break;
    case 0xBD:                     /* MECHANISM STATUS: no changer, idle, no slots */
        memset(r, 0, 8);
        atapi_reply(d, 8, be16(c + 8));
        break;
    case 0xBB:                     /* SET CD SPEED */
        atapi_ok(d);
        break;
    case 0x42: {                   /* READ SUB-CHANNEL: no audio playing */
        memset(r, 0, 16);
        r[1] = 0x15;               /* no current audio status */
        uint32_t len = 4;
        if (c[2] & 0x40) {         /* sub-Q data wanted */
            uint8_t format = c[3];
            if (format != 1) {
                atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
                break;
            }
            r[4] = 1;              /* current position */
            r[5] = 0x14;
            r[6] = 1;              /* track */
            r[7] = 1;              /* index */
            put_toc_addr(r + 8, 0, c[1] & 2);
            put_toc_addr(r + 12, 0, c[1] & 2);
            len = 16;
        }
        put_be16(r + 2, (uint16_t)(len - 4));
        atapi_reply(d, len, be16(c + 7));
        break;
    }
    default:
        machine_log(ide_machine(d), LOG_UNIMP, "ide: ATAPI command 0x%02x unsupported\n", op);
        atapi_fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

void atapi_packet_command(struct ide_drive *d)
{
    d->packet_dma = d->feature & 1;
    d->byte_limit = (uint32_t)d->hcyl << 8 | d->lcyl;
    d->nsector = IREASON_COD;
    d->pio = PIO_PACKET;
    d->pos = 0;
    d->end = 12;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;      /* no interrupt: IDENTIFY word 0 says 50 us DRQ */
}

void atapi_packet_received(struct ide_drive *d)
{
    memcpy(d->packet, d->buf, 12);
    atapi_execute(d);
}
