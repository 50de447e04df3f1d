/* devices/ide.h: private to ide.c (the controller, ATA disks, bus-master
 * DMA) and ide_atapi.c (the ATAPI CD-ROM). Not for other devices.
 */
#ifndef FOX86_IDE_H
#define FOX86_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

struct machine;
struct blockdev;

/* status register */
enum { ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DF = 0x20, ST_DRDY = 0x40, ST_BSY = 0x80 };
/* error register */
enum { ER_AMNF = 0x01, ER_ABRT = 0x04, ER_IDNF = 0x10, ER_UNC = 0x40 };
/* device control register */
enum { DEVCTL_NIEN = 0x02, DEVCTL_SRST = 0x04, DEVCTL_HOB = 0x80 };
/* ATAPI interrupt reason (sector count register) */
enum { IREASON_COD = 0x01, IREASON_IO = 0x02 };

/* What the PIO buffer holds, i.e. what to do once the guest has read or
 * written all of it. */
enum pio_kind {
    PIO_NONE,                      /* no PIO transfer: DRQ is clear */
    PIO_IDENTIFY,                  /* data in, then the command is done */
    PIO_ATA_READ,                  /* data in: the next block, or done */
    PIO_ATA_WRITE,                 /* data out: write the block, then the next one */
    PIO_PACKET,                    /* the 12-byte ATAPI command packet */
    PIO_ATAPI_IN,                  /* data in: the next chunk, or the ending status */
};

/* Where DMA (and ATAPI PIO) data come from or go to. */
enum dma_kind { DMA_NONE, DMA_ATA_READ, DMA_ATA_WRITE, DMA_ATAPI_IN };

#define IDE_PIO_BUF_SIZE  (64 * 1024 + 2048)   /* an ATAPI chunk (<= 0xFFFE bytes) or 16 sectors */
#define IDE_REPLY_SIZE    2048                 /* an ATAPI command's reply (not disc data) */
#define IDE_MULT_MAX      16                   /* READ/WRITE MULTIPLE block, sectors */
#define CD_BLOCK          2048u

struct ide_channel;

struct ide_drive {
    struct ide_channel *ch;
    int unit;                      /* 0 master, 1 slave */
    bool present, cdrom;
    struct blockdev *bd;           /* NULL: no medium (CD-ROM) */
    uint64_t nsectors;             /* ATA: 512-byte sectors */
    uint16_t cyls, heads, secs;    /* default CHS geometry */
    uint16_t cur_heads, cur_secs;  /* INITIALIZE DEVICE PARAMETERS */

    /* task file (the guest writes both drives' copies; each answers with its own) */
    uint8_t feature, nsector, sector, lcyl, hcyl, select;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t status, error;

    uint8_t mult;                  /* READ/WRITE MULTIPLE block size; 0: disabled */
    bool    write_cache;
    uint8_t pio_mode, dma_mode;    /* SET FEATURES transfer mode: dma_mode 0x20|n MWDMA, 0x40|n UDMA */

    /* PIO transfer */
    uint8_t *buf;                  /* IDE_PIO_BUF_SIZE + 4 bytes */
    uint32_t pos, end;
    enum pio_kind pio;

    /* current ATA data command */
    bool     lba48;
    uint64_t lba;                  /* next sector to transfer */
    uint32_t remaining;            /* sectors left */
    uint32_t block;                /* sectors in the current PIO block */

    /* DMA waiting for (or done by) the bus master */
    enum dma_kind dma;
    uint64_t dma_offset;           /* byte offset in the medium (ATA, ATAPI disc reads) */
    uint64_t dma_len;              /* bytes */

    /* ATAPI */
    uint8_t  packet[12];
    uint32_t byte_limit;           /* PIO byte count limit from LBA mid/high */
    bool     packet_dma;           /* PACKET with the Features DMA bit: data through the bus master */
    uint32_t chunk;                /* bytes in the current PIO chunk */
    uint64_t data_sent;            /* bytes of the reply/disc data already sent */
    bool     from_reply;           /* data in from reply[] (else from the disc at data_offset) */
    uint64_t data_offset;          /* disc byte offset of the next chunk */
    uint64_t data_remaining;       /* bytes left to send */
    uint8_t  reply[IDE_REPLY_SIZE];
    uint8_t  sense_key, asc, ascq;
    bool     unit_attention;       /* reported once after power-on */
    bool     locked;               /* PREVENT MEDIUM REMOVAL */
};

struct ide;

struct ide_channel {
    struct ide *ide;
    int index;                     /* 0 primary, 1 secondary */
    struct ide_drive drive[2];
    int cur;                       /* selected drive (DEV bit) */
    uint8_t devctl;
    struct irq_line *irq;
    bool irq_pending;              /* INTRQ of the selected... of the channel, before nIEN */
    uint16_t iobase, ctlport;

    /* bus master (BAR 4 + 8 * index) */
    uint8_t  bm_cmd, bm_status;
    uint32_t bm_prd;
};

struct ide {
    struct machine *machine;
    struct pci_device pci;
    struct ide_channel ch[2];
    uint8_t *dma_buf;              /* bounce buffer for one PRD entry (64 KiB) */
    uint16_t bm_base;              /* where BAR 4 is decoded, if bm_mapped */
    bool bm_mapped;
};

/* ide.c, for ide_atapi.c */
void ide_raise_irq(struct ide_drive *d);
void ide_start_dma(struct ide_drive *d, enum dma_kind kind, uint64_t offset, uint64_t len);
void ide_set_signature(struct ide_drive *d);
struct machine *ide_machine(const struct ide_drive *d);

/* ide_atapi.c */
void atapi_identify(struct ide_drive *d);           /* fills d->buf with IDENTIFY PACKET DEVICE */
void atapi_packet_command(struct ide_drive *d);     /* PACKET (0xA0) written */
void atapi_packet_received(struct ide_drive *d);    /* the 12 bytes are in d->buf */
void atapi_chunk_done(struct ide_drive *d);         /* the guest read the PIO chunk */
/* the bus master finished: 0 ok, -1 PRD table or bus error, -2 medium error */
void atapi_dma_done(struct ide_drive *d, int result);
int  atapi_fetch(struct ide_drive *d, uint64_t pos, void *dst, uint32_t n);   /* DMA source */
void atapi_reset(struct ide_drive *d, bool power_on);

/* ATA string: two characters per word, the first in the high byte, space padded. */
void ide_put_string(uint8_t *words, int first_word, int nwords, const char *s);
static inline void ide_put16(uint8_t *buf, int word, uint16_t v)
{
    buf[2 * word] = (uint8_t)v;
    buf[2 * word + 1] = (uint8_t)(v >> 8);
}

#endif
