/* tests/unit/test_ide.c: the PIIX3 IDE function without a CPU.
 *
 * The tests drive the task file, control and bus-master ports as a driver
 * would, with in-memory block devices (struct memdisk below) standing in
 * for image files, and check what lands in the disk and in guest RAM.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/blockdev.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"


/* An in-memory disk; fail makes every read and write return -EIO. */
struct memdisk {
    struct blockdev bd;
    uint8_t *data;
    bool fail;
};

static int mem_read(struct blockdev *bd, uint64_t off, void *buf, size_t len)
{
    struct memdisk *md = (struct memdisk *)bd;
    ck_assert(off + len <= bd->size);
    if (md->fail) { bd->errors++; return -EIO; }
    memcpy(buf, md->data + off, len);
    bd->reads += len;
    return 0;
}

static int mem_write(struct blockdev *bd, uint64_t off, const void *buf, size_t len)
{
    struct memdisk *md = (struct memdisk *)bd;
    ck_assert(off + len <= bd->size);
    if (md->fail) { bd->errors++; return -EIO; }
    if (bd->read_only) return -EROFS;
    memcpy(md->data + off, buf, len);
    bd->writes += len;
    return 0;
}

static void mem_close(struct blockdev *bd)
{
    struct memdisk *md = (struct memdisk *)bd;
    free(md->data);
    free(md);
}

static const struct blockdev_ops mem_ops = { .read = mem_read, .write = mem_write, .close = mem_close };

/* Byte i of sector s is (s * 3 + i) & 0xFF (2048-byte blocks: the same per 512). */
static struct memdisk *memdisk_new(uint64_t size)
{
    struct memdisk *md = calloc(1, sizeof *md);
    md->data = malloc(size);
    ck_assert_ptr_nonnull(md->data);
    for (uint64_t i = 0; i < size; i++)
        md->data[i] = (uint8_t)((i / 512) * 3 + i % 512);
    md->bd = (struct blockdev){ .ops = &mem_ops, .size = size, .name = "mem" };
    return md;
}

static uint8_t pattern(uint64_t sector, uint32_t i) { return (uint8_t)(sector * 3 + i); }

struct bench {
    struct machine *m;
    struct pci_bus *bus;
    struct pci_device *pci;
    struct irq_line irq[2];
    bool level[2];
    int edges[2];
    struct memdisk *disk[4];
};

static void bench_irq(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    if (level && !b->level[pin])
        b->edges[pin]++;
    b->level[pin] = level;
}

#define DISK_SIZE (64u << 20)      /* 131072 sectors: 130 cylinders of 16 x 63 */
#define CD_SIZE   (300u * 2048)
#define BM_BASE   0xC000
#define DEVFN     PCI_DEVFN(1, 0)   /* function 0 here: a lone 01.1 is invisible without 01.0 */

enum { NONE, DISK, CD, EMPTY_CD };

static struct bench *bench_new(int p0, int p1, int s0, int s1)
{
    struct bench *b = calloc(1, sizeof *b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_int_eq(pci_bus_create(b->m, &b->bus), 0);
    struct ide_drive_config cfg[4] = { 0 };
    int kinds[4] = { p0, p1, s0, s1 };
    for (int i = 0; i < 4; i++) {
        if (kinds[i] == DISK || kinds[i] == CD)
            b->disk[i] = memdisk_new(kinds[i] == DISK ? DISK_SIZE : CD_SIZE);
        cfg[i] = (struct ide_drive_config){ .bd = b->disk[i] ? &b->disk[i]->bd : NULL,
                                            .cdrom = kinds[i] == CD || kinds[i] == EMPTY_CD,
                                            .present = kinds[i] != NONE };
    }
    for (int i = 0; i < 2; i++)
        b->irq[i] = (struct irq_line){ .set_level = bench_irq, .opaque = b, .pin = i };
    ck_assert_int_eq(ide_create(b->m, b->bus, DEVFN, &b->irq[0], &b->irq[1], cfg), 0);
    machine_reset(b->m);
    b->pci = b->bus->devices[DEVFN];
    ck_assert_ptr_nonnull(b->pci);
    return b;
}

/* What the BIOS does: assign BAR 4 and enable I/O and bus mastering,
 * through configuration mechanism #1. */
static void map_bar4(struct bench *b)
{
    uint32_t cfg = 0x80000000u | (uint32_t)DEVFN << 8;
    ioport_write(&b->m->io, 0xCF8, cfg | 0x20, 4);
    ioport_write(&b->m->io, 0xCFC, BM_BASE | 1, 4);
    ioport_write(&b->m->io, 0xCF8, cfg | PCI_COMMAND, 4);
    ioport_write(&b->m->io, 0xCFC, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    ck_assert_uint_eq(b->pci->bars[4].addr, BM_BASE);
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    for (int i = 0; i < 4; i++)
        if (b->disk[i])
            blockdev_close(&b->disk[i]->bd);
    free(b);
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static void out16(struct bench *b, uint16_t port, uint16_t v) { ioport_write(&b->m->io, port, v, 2); }
static void out32(struct bench *b, uint16_t port, uint32_t v) { ioport_write(&b->m->io, port, v, 4); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }
static uint16_t in16(struct bench *b, uint16_t port) { return (uint16_t)ioport_read(&b->m->io, port, 2); }
static uint32_t in32(struct bench *b, uint16_t port) { return ioport_read(&b->m->io, port, 4); }

#define PRI 0x1F0
#define SEC 0x170
static uint16_t ctl(uint16_t base) { return base == PRI ? 0x3F6 : 0x376; }

/* LBA28 command: device register 0xE0 | dev << 4 | lba 27:24. */
static void ata_lba28(struct bench *b, uint16_t base, int dev, uint8_t cmd, uint32_t lba, uint8_t count)
{
    out8(b, base + 6, (uint8_t)(0xE0 | dev << 4 | ((lba >> 24) & 0xF)));
    out8(b, base + 2, count);
    out8(b, base + 3, (uint8_t)lba);
    out8(b, base + 4, (uint8_t)(lba >> 8));
    out8(b, base + 5, (uint8_t)(lba >> 16));
    out8(b, base + 7, cmd);
}

static void ata_lba48(struct bench *b, uint16_t base, int dev, uint8_t cmd, uint64_t lba, uint16_t count)
{
    out8(b, base + 6, (uint8_t)(0x40 | dev << 4));
    out8(b, base + 2, (uint8_t)(count >> 8));
    out8(b, base + 3, (uint8_t)(lba >> 24));
    out8(b, base + 4, (uint8_t)(lba >> 32));
    out8(b, base + 5, (uint8_t)(lba >> 40));
    out8(b, base + 2, (uint8_t)count);
    out8(b, base + 3, (uint8_t)lba);
    out8(b, base + 4, (uint8_t)(lba >> 8));
    out8(b, base + 5, (uint8_t)(lba >> 16));
    out8(b, base + 7, cmd);
}

static void read_words(struct bench *b, uint16_t base, uint8_t *buf, int nbytes)
{
    for (int i = 0; i < nbytes; i += 2) {
        uint16_t w = in16(b, base);
        buf[i] = (uint8_t)w;
        buf[i + 1] = (uint8_t)(w >> 8);
    }
}

static uint16_t word(const uint8_t *p, int w) { return (uint16_t)(p[2 * w] | p[2 * w + 1] << 8); }

static void ata_string(const uint8_t *p, int first, int nwords, char *out)
{
    for (int i = 0; i < nwords * 2; i++)
        out[i] = (char)p[2 * first + (i ^ 1)];
    out[nwords * 2] = 0;
}

START_TEST(identify_device)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    out8(b, PRI + 6, 0xA0);
    out8(b, PRI + 7, 0xEC);
    ck_assert_int_eq(b->edges[0], 1);
    ck_assert(b->level[0]);
    ck_assert_uint_eq(in8(b, 0x3F6), 0x58);         /* alternate status: the IRQ stays */
    ck_assert(b->level[0]);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x58);       /* status read acknowledges it */
    ck_assert(!b->level[0]);
    uint8_t id[512];
    read_words(b, PRI, id, 512);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);       /* DRQ gone after 256 words */
    ck_assert_uint_eq(word(id, 0), 0x0040);
    ck_assert_uint_eq(word(id, 1), 130);
    ck_assert_uint_eq(word(id, 3), 16);
    ck_assert_uint_eq(word(id, 6), 63);
    char s[41];
    ata_string(id, 27, 20, s);
    ck_assert_str_eq(s, "FOX86 HARDDISK                          ");
    ck_assert_uint_eq(word(id, 47), 0x8010);
    ck_assert_uint_eq(word(id, 49) & 0x0300, 0x0300);   /* LBA, DMA */
    ck_assert_uint_eq(word(id, 53) & 7, 7);
    ck_assert_uint_eq(word(id, 54), 130);
    ck_assert_uint_eq(word(id, 55), 16);
    ck_assert_uint_eq(word(id, 56), 63);
    ck_assert_uint_eq(word(id, 57) | (uint32_t)word(id, 58) << 16, 130 * 16 * 63);
    ck_assert_uint_eq(word(id, 59), 0x110);
    ck_assert_uint_eq(word(id, 60) | (uint32_t)word(id, 61) << 16, 131072);
    ck_assert_uint_eq(word(id, 63) & 7, 7);
    ck_assert_uint_eq(word(id, 64), 3);
    ck_assert(word(id, 83) & (1 << 10));
    ck_assert(word(id, 83) & (1 << 13));
    ck_assert(word(id, 86) & (1 << 10));
    ck_assert_uint_eq(word(id, 88) & 0x3F, 0x3F);
    ck_assert_uint_eq(word(id, 100), 0);
    ck_assert_uint_eq(word(id, 101), 2);             /* 131072 = 0x20000 */
    ck_assert_uint_eq(word(id, 102), 0);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + id[i]);
    ck_assert_uint_eq(id[510], 0xA5);
    ck_assert_uint_eq(sum, 0);

    /* SET FEATURES UDMA 5 shows up in word 88; IDENTIFY PACKET on a disk aborts */
    out8(b, PRI + 1, 0x03);
    out8(b, PRI + 2, 0x45);
    out8(b, PRI + 7, 0xEF);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    out8(b, PRI + 7, 0xEC);
    read_words(b, PRI, id, 512);
    ck_assert_uint_eq(word(id, 88), 0x203F);
    out8(b, PRI + 7, 0xA1);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x04);
    bench_free(b);
}
END_TEST

START_TEST(lba28_round_trip)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    uint8_t *disk = b->disk[0]->data;
    /* WRITE SECTORS: DRQ without an interrupt for the first block, then one per sector */
    ata_lba28(b, PRI, 0, 0x30, 1000, 3);
    ck_assert_int_eq(b->edges[0], 0);
    ck_assert_uint_eq(in8(b, 0x3F6), 0x58);
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < 256; i++)
            out16(b, PRI, (uint16_t)(0xA000 + s * 256 + i));
        ck_assert_int_eq(b->edges[0], s + 1);
        in8(b, PRI + 7);
    }
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < 256; i++) {
            ck_assert_uint_eq(disk[(1000 + s) * 512 + 2 * i], (uint8_t)(s * 256 + i));
            ck_assert_uint_eq(disk[(1000 + s) * 512 + 2 * i + 1], (uint8_t)((0xA000 + s * 256 + i) >> 8));
        }
    ck_assert_uint_eq(disk[999 * 512 + 511], pattern(999, 511));
    ck_assert_uint_eq(disk[1003 * 512], pattern(1003, 0));
    /* the registers hold the last sector */
    ck_assert_uint_eq(in8(b, PRI + 3), (1002) & 0xFF);
    ck_assert_uint_eq(in8(b, PRI + 4), 1002 >> 8);

    /* READ SECTORS, with 32-bit data port reads */
    b->edges[0] = 0;
    ata_lba28(b, PRI, 0, 0x20, 999, 3);
    uint8_t got[3 * 512];
    for (int s = 0; s < 3; s++) {
        ck_assert_int_eq(b->edges[0], s + 1);
        ck_assert_uint_eq(in8(b, PRI + 7), 0x58);
        for (int i = 0; i < 128; i++) {
            uint32_t v = in32(b, PRI);
            memcpy(got + s * 512 + 4 * i, &v, 4);
        }
    }
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_int_eq(b->edges[0], 3);
    ck_assert_int_eq(memcmp(got, disk + 999 * 512, sizeof got), 0);
    ck_assert_uint_eq(got[512], 0x00);
    ck_assert_uint_eq(got[513], 0xA0);

    /* count 0 means 256 sectors */
    ata_lba28(b, PRI, 0, 0x20, 0, 0);
    for (int s = 0; s < 256; s++)
        for (int i = 0; i < 256; i++)
            in16(b, PRI);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_uint_eq(in8(b, PRI + 3), 255);
    bench_free(b);
}
END_TEST

START_TEST(lba48_and_hob)
{
    struct bench *b = bench_new(NONE, NONE, DISK, NONE);
    uint8_t *disk = b->disk[2]->data;
    ata_lba48(b, SEC, 0, 0x34, 0x1FF00, 2);          /* WRITE SECTORS EXT */
    for (int i = 0; i < 512; i++) {
        out16(b, SEC, 0x1234);
        if (i == 255)
            ck_assert_uint_eq(in8(b, SEC + 7), 0x58);  /* the driver's interrupt handler */
    }
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);
    ck_assert_int_eq(b->edges[1], 2);
    ck_assert_uint_eq(disk[0x1FF00 * 512], 0x34);
    ck_assert_uint_eq(disk[0x1FF01 * 512 + 511], 0x12);
    ck_assert_uint_eq(disk[0x1FF02 * 512], pattern(0x1FF02, 0));
    /* HOB reads: the high bytes of the last sector 0x1FF01 */
    ck_assert_uint_eq(in8(b, SEC + 3), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 4), 0xFF);
    ck_assert_uint_eq(in8(b, SEC + 5), 0x01);
    out8(b, 0x376, 0x80);
    ck_assert_uint_eq(in8(b, SEC + 3), 0x00);
    ck_assert_uint_eq(in8(b, SEC + 4), 0x00);
    out8(b, 0x376, 0x00);

    ata_lba48(b, SEC, 0, 0x24, 0x1FF01, 1);          /* READ SECTORS EXT */
    uint8_t got[512];
    read_words(b, SEC, got, 512);
    ck_assert_uint_eq(got[0], 0x34);
    ck_assert_uint_eq(got[1], 0x12);
    /* a sector beyond 2^28 (and beyond this disk): IDNF */
    ata_lba48(b, SEC, 0, 0x24, 0x010000000000ull, 1);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_uint_eq(in8(b, SEC + 1), 0x10);
    bench_free(b);
}
END_TEST

START_TEST(chs_addressing)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    uint8_t *disk = b->disk[0]->data;
    /* C/H/S 2/3/4 with the default 16 x 63: sector (2 * 16 + 3) * 63 + 3 = 2208 */
    out8(b, PRI + 6, 0xA3);
    out8(b, PRI + 2, 1);
    out8(b, PRI + 3, 4);
    out8(b, PRI + 4, 2);
    out8(b, PRI + 5, 0);
    out8(b, PRI + 7, 0x20);
    uint8_t got[512];
    read_words(b, PRI, got, 512);
    ck_assert_int_eq(memcmp(got, disk + 2208 * 512, 512), 0);
    ck_assert_uint_eq(got[0], pattern(2208, 0));

    /* INITIALIZE DEVICE PARAMETERS: 8 heads, 32 sectors; then 1/2/5 = (1 * 8 + 2) * 32 + 4 = 324 */
    out8(b, PRI + 6, 0xA7);
    out8(b, PRI + 2, 32);
    out8(b, PRI + 7, 0x91);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    out8(b, PRI + 6, 0xA2);
    out8(b, PRI + 2, 1);
    out8(b, PRI + 3, 5);
    out8(b, PRI + 4, 1);
    out8(b, PRI + 5, 0);
    out8(b, PRI + 7, 0x30);
    for (int i = 0; i < 256; i++)
        out16(b, PRI, 0xBEEF);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_uint_eq(disk[324 * 512], 0xEF);
    ck_assert_uint_eq(disk[324 * 512 + 1], 0xBE);
    ck_assert_uint_eq(disk[323 * 512], pattern(323, 0));
    /* sector 0 or a head past the geometry: IDNF */
    out8(b, PRI + 3, 0);
    out8(b, PRI + 7, 0x20);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x10);
    out8(b, PRI + 6, 0xA9);
    out8(b, PRI + 3, 1);
    out8(b, PRI + 7, 0x20);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x10);
    /* IDENTIFY reports the current geometry */
    out8(b, PRI + 7, 0xEC);
    uint8_t id[512];
    read_words(b, PRI, id, 512);
    ck_assert_uint_eq(word(id, 55), 8);
    ck_assert_uint_eq(word(id, 56), 32);
    bench_free(b);
}
END_TEST

START_TEST(multiple_mode)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    uint8_t *disk = b->disk[0]->data;
    out8(b, PRI + 2, 3);
    out8(b, PRI + 7, 0xC6);                         /* not a power of two */
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    out8(b, PRI + 2, 0);
    out8(b, PRI + 7, 0xC6);                         /* 0: off */
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ata_lba28(b, PRI, 0, 0xC4, 10, 10);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);       /* READ MULTIPLE with the mode off */
    ck_assert_uint_eq(in8(b, PRI + 1), 0x04);
    out8(b, PRI + 2, 4);
    out8(b, PRI + 7, 0xC6);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);

    b->edges[0] = 0;
    ata_lba28(b, PRI, 0, 0xC4, 10, 10);             /* blocks of 4, 4, 2 sectors */
    uint8_t got[10 * 512];
    for (int blk = 0, done = 0; blk < 3; blk++) {
        int n = blk < 2 ? 4 : 2;
        ck_assert_int_eq(b->edges[0], blk + 1);
        ck_assert_uint_eq(in8(b, PRI + 7), 0x58);
        read_words(b, PRI, got + done * 512, n * 512);
        done += n;
    }
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_int_eq(memcmp(got, disk + 10 * 512, sizeof got), 0);

    b->edges[0] = 0;
    ata_lba48(b, PRI, 0, 0x39, 100, 6);             /* WRITE MULTIPLE EXT: 4 + 2 */
    for (int i = 0; i < 4 * 256; i++)
        out16(b, PRI, 0x7777);
    ck_assert_int_eq(b->edges[0], 1);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x58);
    for (int i = 0; i < 2 * 256; i++)
        out16(b, PRI, 0x7777);
    ck_assert_int_eq(b->edges[0], 2);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_uint_eq(disk[105 * 512 + 511], 0x77);
    ck_assert_uint_eq(disk[106 * 512], pattern(106, 0));
    bench_free(b);
}
END_TEST

START_TEST(errors)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    /* the range runs past the end: IDNF, nothing transferred */
    ata_lba28(b, PRI, 0, 0x20, 131071, 2);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x10);
    ata_lba28(b, PRI, 0, 0x20, 131071, 1);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x58);
    read_words(b, PRI, (uint8_t[512]){ 0 }, 512);
    ata_lba28(b, PRI, 0, 0x40, 131000, 100);        /* READ VERIFY too */
    ck_assert_uint_eq(in8(b, PRI + 1), 0x10);
    /* a failing medium: UNC on reads, ABRT on writes, ERR set, the machine lives */
    b->disk[0]->fail = true;
    ata_lba28(b, PRI, 0, 0x20, 5, 1);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x40);
    ata_lba28(b, PRI, 0, 0x30, 5, 1);
    for (int i = 0; i < 256; i++)
        out16(b, PRI, 0);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x04);
    /* unknown command: ABRT */
    out8(b, PRI + 7, 0x5C);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x51);
    ck_assert_uint_eq(in8(b, PRI + 1), 0x04);
    /* a command written in the middle of a transfer is ignored (as QEMU does) */
    b->disk[0]->fail = false;
    ata_lba28(b, PRI, 0, 0x20, 77, 1);
    in16(b, PRI);
    out8(b, PRI + 7, 0xEC);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x58);
    ck_assert_uint_eq(in16(b, PRI), pattern(77, 2) | pattern(77, 3) << 8);
    for (int i = 2; i < 256; i++)
        in16(b, PRI);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    /* data port with nothing to transfer: 0, no effect */
    ck_assert_uint_eq(in16(b, PRI), 0);
    bench_free(b);
}
END_TEST

START_TEST(software_reset_and_absent_slave)
{
    struct bench *b = bench_new(DISK, NONE, DISK, CD);
    /* absent slave on the primary: every register reads 0, commands are ignored */
    out8(b, PRI + 6, 0xB0);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x00);
    ck_assert_uint_eq(in8(b, 0x3F6), 0x00);
    out8(b, PRI + 2, 0x55);
    ck_assert_uint_eq(in8(b, PRI + 2), 0x00);
    out8(b, PRI + 7, 0xEC);
    ck_assert_int_eq(b->edges[0], 0);
    out8(b, PRI + 6, 0xA0);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_uint_eq(in8(b, PRI + 2), 0x55);       /* the master latched the write */

    /* SRST on the secondary: BSY while set, signatures afterwards, master selected */
    out8(b, SEC + 6, 0xB0);
    out8(b, 0x376, 0x04);
    ck_assert_uint_eq(in8(b, 0x376) & 0x80, 0x80);
    out8(b, 0x376, 0x00);
    ck_assert_uint_eq(in8(b, SEC + 6) & 0x10, 0);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);
    ck_assert_uint_eq(in8(b, SEC + 1), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 2), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 3), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 4), 0x00);
    ck_assert_uint_eq(in8(b, SEC + 5), 0x00);
    out8(b, SEC + 6, 0xB0);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x00);       /* ATAPI: DRDY clear after reset */
    ck_assert_uint_eq(in8(b, SEC + 2), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 3), 0x01);
    ck_assert_uint_eq(in8(b, SEC + 4), 0x14);
    ck_assert_uint_eq(in8(b, SEC + 5), 0xEB);
    /* IDENTIFY DEVICE on the ATAPI drive aborts, keeping the signature */
    out8(b, SEC + 4, 0);
    out8(b, SEC + 7, 0xEC);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_uint_eq(in8(b, SEC + 1), 0x04);
    ck_assert_uint_eq(in8(b, SEC + 4), 0x14);
    ck_assert_uint_eq(in8(b, SEC + 5), 0xEB);
    bench_free(b);
}
END_TEST

START_TEST(nien_masks_irq)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    out8(b, 0x3F6, 0x02);
    out8(b, PRI + 7, 0xE7);                          /* FLUSH CACHE */
    ck_assert_int_eq(b->edges[0], 0);
    ck_assert(!b->level[0]);
    out8(b, 0x3F6, 0x00);                            /* unmasking shows the pending one */
    ck_assert(b->level[0]);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert(!b->level[0]);
    bench_free(b);
}
END_TEST

/* PRD entries in guest RAM. */
static void prd(struct bench *b, uint32_t table, int i, uint32_t addr, uint32_t count, bool eot)
{
    phys_write(&b->m->mem, table + 8 * (uint32_t)i, addr, 4);
    phys_write(&b->m->mem, table + 8 * (uint32_t)i + 4, (count & 0xFFFF) | (eot ? 0x80000000u : 0), 4);
}

START_TEST(busmaster_dma)
{
    struct bench *b = bench_new(DISK, NONE, NONE, NONE);
    uint8_t *disk = b->disk[0]->data;
    map_bar4(b);
    ck_assert_uint_eq(b->pci->config[PCI_VENDOR_ID], 0x86);
    ck_assert_uint_eq(pci_get_word(b->pci->config + PCI_DEVICE_ID), 0x7010);
    ck_assert_uint_eq(b->pci->config[PCI_CLASS_PROG], 0x80);
    ck_assert_uint_eq(pci_get_word(b->pci->config + PCI_CLASS_DEVICE), 0x0101);
    ck_assert_uint_eq(b->pci->bars[4].size, 16);
    ck_assert_uint_eq(b->pci->bars[4].type, PCI_BAR_IO);

    /* READ DMA of 130 sectors: 1024 bytes + a 0 (= 64 KiB) entry */
    prd(b, 0x10000, 0, 0x20000, 1024, false);
    prd(b, 0x10000, 1, 0x30000, 0, true);
    out32(b, BM_BASE + 4, 0x10000);
    ck_assert_uint_eq(in32(b, BM_BASE + 4), 0x10000);
    out8(b, BM_BASE, 0x08);                          /* to memory, not started */
    ata_lba28(b, PRI, 0, 0xC8, 50, 130);
    ck_assert_uint_eq(in8(b, 0x3F6), 0x58);          /* waits for the engine */
    ck_assert_int_eq(b->edges[0], 0);
    out8(b, BM_BASE, 0x09);
    ck_assert_int_eq(b->edges[0], 1);
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 7, 0x04);   /* interrupt, not active, no error */
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    uint8_t *ram = b->m->mem.ram;
    ck_assert_int_eq(memcmp(ram + 0x20000, disk + 50 * 512, 1024), 0);
    ck_assert_int_eq(memcmp(ram + 0x30000, disk + 52 * 512, 65536), 0);
    ck_assert_uint_eq(in8(b, PRI + 3), 179);          /* last sector 50 + 129 */
    out8(b, BM_BASE, 0x08);
    out8(b, BM_BASE + 2, 0x04);                      /* write 1 to clear */
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 7, 0);

    /* WRITE DMA EXT with the engine started first */
    memset(ram + 0x40000, 0xD5, 1536);
    prd(b, 0x10000, 0, 0x40000, 1536, true);
    out8(b, BM_BASE, 0x01);
    ata_lba48(b, PRI, 0, 0x35, 7000, 3);
    ck_assert_int_eq(b->edges[0], 2);
    ck_assert_uint_eq(in8(b, PRI + 7), 0x50);
    ck_assert_uint_eq(disk[7000 * 512], 0xD5);
    ck_assert_uint_eq(disk[7002 * 512 + 511], 0xD5);
    ck_assert_uint_eq(disk[7003 * 512], pattern(7003, 0));
    out8(b, BM_BASE, 0x00);
    out8(b, BM_BASE + 2, 0x06);

    /* a PRD table shorter than the transfer: BM error, ATA error */
    prd(b, 0x10000, 0, 0x20000, 512, true);
    out8(b, BM_BASE, 0x08);
    ata_lba28(b, PRI, 0, 0xC8, 0, 2);
    out8(b, BM_BASE, 0x09);
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 7, 0x06);
    ck_assert_uint_eq(in8(b, PRI + 7) & 0x01, 0x01);
    out8(b, BM_BASE, 0x00);
    out8(b, BM_BASE + 2, 0x06);

    /* a table without EOT, far too short for 32 MiB: the walk stops at 8192 entries */
    for (int i = 0; i < 8192; i++)
        prd(b, 0x100000, i, 0x200000, 2, false);
    out32(b, BM_BASE + 4, 0x100000);
    out8(b, BM_BASE, 0x08);
    ata_lba48(b, PRI, 0, 0x25, 0, 0);                /* 65536 sectors */
    out8(b, BM_BASE, 0x09);
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 7, 0x06);
    ck_assert_uint_eq(in8(b, PRI + 7) & 1, 1);
    out8(b, BM_BASE, 0x00);
    out8(b, BM_BASE + 2, 0x06);

    /* a table at the top of the address space (open bus reads as all ones): no crash */
    out32(b, BM_BASE + 4, 0xFFFFFFF8);
    out8(b, BM_BASE, 0x08);
    ata_lba28(b, PRI, 0, 0xC8, 0, 1);
    out8(b, BM_BASE, 0x09);
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 4, 4);
    out8(b, BM_BASE, 0x00);
    out8(b, BM_BASE + 2, 0x06);

    /* bus mastering off in the command register: the transfer fails */
    b->pci->config[PCI_COMMAND] &= (uint8_t)~PCI_COMMAND_MASTER;
    out32(b, BM_BASE + 4, 0x10000);
    prd(b, 0x10000, 0, 0x20000, 512, true);
    out8(b, BM_BASE, 0x08);
    ata_lba28(b, PRI, 0, 0xC8, 0, 1);
    out8(b, BM_BASE, 0x09);
    ck_assert_uint_eq(in8(b, BM_BASE + 2) & 2, 2);
    ck_assert_uint_eq(in8(b, PRI + 7) & 1, 1);
    bench_free(b);
}
END_TEST

/* ---- ATAPI ---- */

/* Issue a PACKET command; returns with the drive's first response. */
static void packet(struct bench *b, uint16_t base, int dev, const uint8_t cdb[12], uint16_t limit, bool dma)
{
    out8(b, base + 6, (uint8_t)(0xA0 | dev << 4));
    out8(b, base + 1, dma ? 1 : 0);
    out8(b, base + 4, (uint8_t)limit);
    out8(b, base + 5, (uint8_t)(limit >> 8));
    out8(b, base + 7, 0xA0);
    ck_assert_uint_eq(in8(b, ctl(base)) & 0x88, 0x08);   /* DRQ, not busy */
    ck_assert_uint_eq(in8(b, base + 2) & 3, 1);          /* CoD: send the command */
    for (int i = 0; i < 12; i += 2)
        out16(b, base, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
}

/* Read a PIO data-in phase; returns the bytes; chunks[] gets each byte count. */
static int read_data(struct bench *b, uint16_t base, uint8_t *buf, int max, int *chunks, int *nchunks)
{
    int total = 0;
    *nchunks = 0;
    while (in8(b, ctl(base)) & 0x08) {
        ck_assert_uint_eq(in8(b, base + 2) & 3, 2);       /* IO: data to the host */
        int n = in8(b, base + 4) | in8(b, base + 5) << 8;
        chunks[(*nchunks)++] = n;
        in8(b, base + 7);
        for (int i = 0; i < n; i += 2) {
            uint16_t w = in16(b, base);
            if (total + i < max) buf[total + i] = (uint8_t)w;
            if (total + i + 1 < max) buf[total + i + 1] = (uint8_t)(w >> 8);
        }
        total += n;
    }
    ck_assert_uint_eq(in8(b, base + 2) & 3, 3);           /* ending status */
    return total;
}

/* Run a command that should succeed and return its data length. */
static int atapi_in(struct bench *b, const uint8_t cdb[12], uint16_t limit, uint8_t *buf, int max)
{
    int chunks[64], nchunks;
    packet(b, SEC, 0, cdb, limit, false);
    int n = read_data(b, SEC, buf, max, chunks, &nchunks);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);
    return n;
}

static void request_sense(struct bench *b, uint8_t *key, uint8_t *asc)
{
    uint8_t sense[18];
    ck_assert_int_eq(atapi_in(b, (uint8_t[12]){ 0x03, 0, 0, 0, 18 }, 0x1000, sense, 18), 18);
    ck_assert_uint_eq(sense[0], 0x70);
    *key = sense[2] & 0x0F;
    *asc = sense[12];
}

START_TEST(atapi_basics)
{
    struct bench *b = bench_new(NONE, NONE, CD, NONE);
    uint8_t buf[4096], key, asc;

    /* IDENTIFY PACKET DEVICE */
    out8(b, SEC + 6, 0xA0);
    out8(b, SEC + 7, 0xA1);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x58);
    read_words(b, SEC, buf, 512);
    ck_assert_uint_eq(word(buf, 0), 0x85C0);
    char s[41];
    ata_string(buf, 27, 20, s);
    ck_assert_str_eq(s, "FOX86 DVD-ROM                           ");
    ck_assert(word(buf, 49) & (1 << 8));

    /* INQUIRY answers even with the power-on unit attention pending */
    ck_assert_int_eq(atapi_in(b, (uint8_t[12]){ 0x12, 0, 0, 0, 36 }, 0x200, buf, sizeof buf), 36);
    ck_assert_uint_eq(buf[0], 0x05);
    ck_assert_uint_eq(buf[1], 0x80);
    ck_assert_int_eq(memcmp(buf + 16, "FOX86 DVD-ROM", 13), 0);

    /* TEST UNIT READY: the unit attention once, then ready */
    packet(b, SEC, 0, (uint8_t[12]){ 0x00 }, 0, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_uint_eq(in8(b, SEC + 1) >> 4, 0x6);
    ck_assert_uint_eq(in8(b, SEC + 2) & 3, 3);
    packet(b, SEC, 0, (uint8_t[12]){ 0x00 }, 0, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);

    /* READ CAPACITY */
    ck_assert_int_eq(atapi_in(b, (uint8_t[12]){ 0x25 }, 8, buf, sizeof buf), 8);
    ck_assert_uint_eq(buf[2] << 8 | buf[3], 299);
    ck_assert_uint_eq(buf[6] << 8 | buf[7], 2048);

    /* READ(10) of 2 blocks at 10 with a 3000-byte limit: chunks 3000 and 1096, one IRQ each + the end */
    int chunks[8], nchunks;
    b->edges[1] = 0;
    packet(b, SEC, 0, (uint8_t[12]){ 0x28, 0, 0, 0, 0, 10, 0, 0, 2 }, 3000, false);
    ck_assert_int_eq(read_data(b, SEC, buf, sizeof buf, chunks, &nchunks), 4096);
    ck_assert_int_eq(nchunks, 2);
    ck_assert_int_eq(chunks[0], 3000);
    ck_assert_int_eq(chunks[1], 1096);
    ck_assert_int_eq(b->edges[1], 3);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);
    ck_assert_int_eq(memcmp(buf, b->disk[2]->data + 10 * 2048, 4096), 0);

    /* an odd limit is rounded down to even for all but the last chunk */
    packet(b, SEC, 0, (uint8_t[12]){ 0x28, 0, 0, 0, 0, 3, 0, 0, 1 }, 1001, false);
    ck_assert_int_eq(read_data(b, SEC, buf, sizeof buf, chunks, &nchunks), 2048);
    ck_assert_int_eq(chunks[0], 1000);
    ck_assert_int_eq(memcmp(buf, b->disk[2]->data + 3 * 2048, 2048), 0);

    /* out of range: CHECK CONDITION, then REQUEST SENSE says ILLEGAL REQUEST / 0x21 */
    packet(b, SEC, 0, (uint8_t[12]){ 0x28, 0, 0, 0, 0x01, 0x2B, 0, 0, 2 }, 0x800, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_uint_eq(in8(b, SEC + 1) >> 4, 0x5);
    request_sense(b, &key, &asc);
    ck_assert_uint_eq(key, 5);
    ck_assert_uint_eq(asc, 0x21);
    request_sense(b, &key, &asc);                   /* reading the sense cleared it */
    ck_assert_uint_eq(key, 0);

    /* unknown opcode */
    packet(b, SEC, 0, (uint8_t[12]){ 0xFF }, 0x800, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    request_sense(b, &key, &asc);
    ck_assert_uint_eq(key, 5);
    ck_assert_uint_eq(asc, 0x20);

    /* READ TOC, LBA: track 1 at 0, lead-out at 300 */
    int n = atapi_in(b, (uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 100 }, 0x800, buf, sizeof buf);
    ck_assert_int_eq(n, 20);
    ck_assert_uint_eq(buf[1], 18);
    ck_assert_uint_eq(buf[2], 1);
    ck_assert_uint_eq(buf[3], 1);
    ck_assert_uint_eq(buf[5], 0x14);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(buf[11], 0);
    ck_assert_uint_eq(buf[14], 0xAA);
    ck_assert_uint_eq(buf[18] << 8 | buf[19], 300);
    /* MSF: lead-out 300 + 150 = 450 frames = 0:06:00 */
    n = atapi_in(b, (uint8_t[12]){ 0x43, 2, 0, 0, 0, 0, 0, 0, 100 }, 0x800, buf, sizeof buf);
    ck_assert_uint_eq(buf[8], 0);                   /* track 1: 00:02:00 */
    ck_assert_uint_eq(buf[9], 0);
    ck_assert_uint_eq(buf[10], 2);
    ck_assert_uint_eq(buf[11], 0);
    ck_assert_uint_eq(buf[17], 0);
    ck_assert_uint_eq(buf[18], 6);
    ck_assert_uint_eq(buf[19], 0);
    /* format 1: sessions */
    n = atapi_in(b, (uint8_t[12]){ 0x43, 0, 1, 0, 0, 0, 0, 0, 100 }, 0x800, buf, sizeof buf);
    ck_assert_int_eq(n, 12);
    ck_assert_uint_eq(buf[1], 10);

    /* MODE SENSE(10) capabilities page; GET CONFIGURATION says CD-ROM for this size */
    n = atapi_in(b, (uint8_t[12]){ 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 100 }, 0x800, buf, sizeof buf);
    ck_assert_int_eq(n, 28);
    ck_assert_uint_eq(buf[8], 0x2A);
    n = atapi_in(b, (uint8_t[12]){ 0x46, 0, 0, 0, 0, 0, 0, 0, 100 }, 0x800, buf, sizeof buf);
    ck_assert_uint_eq(buf[6] << 8 | buf[7], 0x0008);
    n = atapi_in(b, (uint8_t[12]){ 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, 0x800, buf, sizeof buf);
    ck_assert_int_eq(n, 8);
    ck_assert_uint_eq(buf[5], 0x02);
    bench_free(b);
}
END_TEST

START_TEST(atapi_empty_drive)
{
    struct bench *b = bench_new(NONE, NONE, EMPTY_CD, NONE);
    uint8_t key, asc, buf[64];
    packet(b, SEC, 0, (uint8_t[12]){ 0x00 }, 0, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_uint_eq(in8(b, SEC + 1) >> 4, 0x2);
    request_sense(b, &key, &asc);
    ck_assert_uint_eq(key, 2);
    ck_assert_uint_eq(asc, 0x3A);
    packet(b, SEC, 0, (uint8_t[12]){ 0x25 }, 8, false);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x51);
    ck_assert_int_eq(atapi_in(b, (uint8_t[12]){ 0x12, 0, 0, 0, 36 }, 0x200, buf, sizeof buf), 36);
    bench_free(b);
}
END_TEST

START_TEST(atapi_dma)
{
    struct bench *b = bench_new(DISK, NONE, CD, NONE);
    map_bar4(b);
    packet(b, SEC, 0, (uint8_t[12]){ 0x00 }, 0, false);   /* eat the unit attention */
    in8(b, SEC + 7);
    prd(b, 0x8000, 0, 0x50000, 3 * 2048, true);
    out32(b, BM_BASE + 8 + 4, 0x8000);
    out8(b, BM_BASE + 8, 0x08);
    b->edges[1] = 0;
    packet(b, SEC, 0, (uint8_t[12]){ 0x28, 0, 0, 0, 0, 7, 0, 0, 3 }, 0, true);
    ck_assert_int_eq(b->edges[1], 0);
    out8(b, BM_BASE + 8, 0x09);
    ck_assert_int_eq(b->edges[1], 1);
    ck_assert_uint_eq(in8(b, BM_BASE + 10) & 7, 0x04);
    ck_assert_uint_eq(in8(b, SEC + 7), 0x50);
    ck_assert_uint_eq(in8(b, SEC + 2) & 3, 3);
    ck_assert_int_eq(memcmp(b->m->mem.ram + 0x50000, b->disk[2]->data + 7 * 2048, 3 * 2048), 0);
    /* the primary channel's engine saw nothing */
    ck_assert_uint_eq(in8(b, BM_BASE + 2), 0);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ide");
    TCase *tc = tcase_create("ide");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, identify_device);
    tcase_add_test(tc, lba28_round_trip);
    tcase_add_test(tc, lba48_and_hob);
    tcase_add_test(tc, chs_addressing);
    tcase_add_test(tc, multiple_mode);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, software_reset_and_absent_slave);
    tcase_add_test(tc, nien_masks_irq);
    tcase_add_test(tc, busmaster_dma);
    tcase_add_test(tc, atapi_basics);
    tcase_add_test(tc, atapi_empty_drive);
    tcase_add_test(tc, atapi_dma);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
