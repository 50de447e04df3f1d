/* tests/unit/test_fdc82077.c: the 82077AA floppy controller without a CPU.
 *
 * A machine with the 8237 DMA pair and the FDC on in-memory images (a
 * small blockdev implemented here). The tests program the controller
 * through its ports the way SeaBIOS and Linux do, with the MSR handshake
 * checked byte by byte, and look at guest RAM, the image, the results and
 * the IRQ line.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/blockdev.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define SZ_1440K 1474560u
#define SZ_720K  737280u
#define SPT      18
#define HEADS    2

/* ---- in-memory blockdev ---- */

struct memdisk {
    struct blockdev bd;
    uint8_t *data;
    bool     fail;          /* every access returns -EIO */
};

static int memdisk_read(struct blockdev *bd, uint64_t off, void *buf, size_t len)
{
    struct memdisk *d = (struct memdisk *)bd;
    ck_assert_uint_le(off + len, bd->size);
    if (d->fail) {
        bd->errors++;
        return -EIO;
    }
    memcpy(buf, d->data + off, len);
    bd->reads += len;
    return 0;
}

static int memdisk_write(struct blockdev *bd, uint64_t off, const void *buf, size_t len)
{
    struct memdisk *d = (struct memdisk *)bd;
    ck_assert_uint_le(off + len, bd->size);
    if (bd->read_only)
        return -EROFS;
    if (d->fail) {
        bd->errors++;
        return -EIO;
    }
    memcpy(d->data + off, buf, len);
    bd->writes += len;
    return 0;
}

static void memdisk_close(struct blockdev *bd)
{
    struct memdisk *d = (struct memdisk *)bd;
    free(d->data);
    free(d);
}

static const struct blockdev_ops memdisk_ops = {
    .read = memdisk_read, .write = memdisk_write, .close = memdisk_close,
};

/* Every byte says where it is: sector number in the first bytes. */
static struct memdisk *memdisk_new(uint64_t size, bool read_only)
{
    struct memdisk *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    d->data = malloc(size);
    ck_assert_ptr_nonnull(d->data);
    for (uint64_t i = 0; i < size; i++)
        d->data[i] = (uint8_t)(i * 31 + (i >> 9));
    for (uint64_t lba = 0; lba < size / 512; lba++) {
        d->data[lba * 512] = (uint8_t)lba;
        d->data[lba * 512 + 1] = (uint8_t)(lba >> 8);
    }
    d->bd = (struct blockdev){ .ops = &memdisk_ops, .size = size, .read_only = read_only,
                               .name = "memdisk" };
    return d;
}

static uint8_t *sector_data(struct memdisk *d, int c, int h, int r)
{
    return d->data + (((size_t)c * HEADS + (size_t)h) * SPT + (size_t)(r - 1)) * 512;
}

/* ---- bench ---- */

struct bench {
    struct machine  *m;
    struct dma8237  *dma;
    struct irq_line  irq;
    bool             irq_level;
    int              irq_edges;
    struct memdisk  *disk[2];
};

static void bench_irq(void *opaque, int pin, bool level)
{
    (void)pin;
    struct bench *b = opaque;
    if (level && !b->irq_level)
        b->irq_edges++;
    b->irq_level = level;
}

static struct bench *bench_new(struct memdisk *d0, struct memdisk *d1)
{
    char err[128];
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    b->irq = (struct irq_line){ .set_level = bench_irq, .opaque = b, .pin = 6 };
    ck_assert_int_eq(dma8237_create(b->m, &b->dma), 0);
    b->disk[0] = d0;
    b->disk[1] = d1;
    struct blockdev *drives[2] = { d0 ? &d0->bd : NULL, d1 ? &d1->bd : NULL };
    ck_assert_int_eq(fdc82077_create(b->m, &b->irq, b->dma, drives), 0);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    for (int i = 0; i < 2; i++)
        if (b->disk[i])
            blockdev_close(&b->disk[i]->bd);
    free(b);
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }

/* Command bytes, each only when MSR says RQM with DIO clear. */
static void fdc_cmd(struct bench *b, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(in8(b, 0x3F4) & (0x80 | 0x40), 0x80);
        out8(b, 0x3F5, (uint8_t)va_arg(ap, int));
    }
    va_end(ap);
}

/* n result bytes, each with MSR = RQM | DIO | CB; then the FDC is idle. */
static void fdc_results(struct bench *b, uint8_t *res, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_uint_eq(in8(b, 0x3F4) & 0xF0, 0xD0);
        res[i] = in8(b, 0x3F5);
    }
    ck_assert_uint_eq(in8(b, 0x3F4) & 0xF0, 0x80);
}

static void sense_interrupt(struct bench *b, uint8_t *st0, uint8_t *pcn)
{
    uint8_t res[2];
    fdc_cmd(b, 1, 0x08);
    fdc_results(b, res, 2);
    *st0 = res[0];
    *pcn = res[1];
}

/* DOR reset and the four sense interrupts, as SeaBIOS/Linux do; then
 * the 1.44M data rate and DMA mode. */
static void fdc_init(struct bench *b)
{
    out8(b, 0x3F2, 0x00);
    out8(b, 0x3F2, 0x0C);
    ck_assert(b->irq_level);
    for (int i = 0; i < 4; i++) {
        uint8_t st0, pcn;
        sense_interrupt(b, &st0, &pcn);
    }
    out8(b, 0x3F7, 0x00);                   /* 500 kbps */
    fdc_cmd(b, 3, 0x03, 0xAF, 0x02);        /* SPECIFY, DMA */
}

static void seek(struct bench *b, int drive, int head, int cyl)
{
    uint8_t st0, pcn;
    fdc_cmd(b, 3, 0x0F, head << 2 | drive, cyl);
    ck_assert(b->irq_level);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20 | head << 2 | drive);
    ck_assert_uint_eq(pcn, cyl);
    ck_assert(!b->irq_level);
}

/* Channel 2 as SeaBIOS programs it: mode 0x46 (write memory) / 0x4A. */
static void dma_setup(struct bench *b, bool to_memory, uint32_t addr, uint16_t len)
{
    out8(b, 0x0A, 0x06);
    out8(b, 0x0C, 0x00);
    out8(b, 0x0B, to_memory ? 0x46 : 0x4A);
    out8(b, 0x04, (uint8_t)addr);
    out8(b, 0x04, (uint8_t)(addr >> 8));
    out8(b, 0x81, (uint8_t)(addr >> 16));
    out8(b, 0x05, (uint8_t)(len - 1));
    out8(b, 0x05, (uint8_t)((len - 1) >> 8));
    out8(b, 0x0A, 0x02);
}

/* A 9-byte data command; returns its 7 result bytes in res. */
static void data_cmd(struct bench *b, uint8_t op, int drive, int c, int h, int r, int eot,
                     uint8_t *res)
{
    int before = b->irq_edges;
    fdc_cmd(b, 9, op, h << 2 | drive, c, h, r, 2, eot, 0x1B, 0xFF);
    ck_assert_int_eq(b->irq_edges, before + 1);
    ck_assert(b->irq_level);
    fdc_results(b, res, 7);
    ck_assert(!b->irq_level);
}

/* ---- tests ---- */

START_TEST(reset_sequence)
{
    struct bench *b = bench_new(memdisk_new(SZ_1440K, false), NULL);
    ck_assert_uint_eq(in8(b, 0x3F2), 0x0C);     /* QEMU's power-on DOR: running */
    ck_assert_uint_eq(in8(b, 0x3F4), 0x80);
    ck_assert(!b->irq_level);
    out8(b, 0x3F2, 0x08);                       /* reset held */
    ck_assert_uint_eq(in8(b, 0x3F4), 0x00);
    ck_assert(!b->irq_level);
    out8(b, 0x3F2, 0x0C);                       /* release */
    ck_assert(b->irq_level);
    ck_assert_int_eq(b->irq_edges, 1);
    ck_assert_uint_eq(in8(b, 0x3F4), 0x80);
    ck_assert_uint_eq(in8(b, 0x3F0) & 0x80, 0x80);
    for (int i = 0; i < 4; i++) {
        uint8_t st0, pcn;
        sense_interrupt(b, &st0, &pcn);
        ck_assert_uint_eq(st0, 0xC0 | i);
        ck_assert_uint_eq(pcn, 0);
        ck_assert(!b->irq_level);               /* dropped at the first one */
    }
    /* nothing left: SENSE INTERRUPT is an invalid command */
    uint8_t res[1];
    fdc_cmd(b, 1, 0x08);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x80);
    /* DSR software reset: the same again */
    out8(b, 0x3F4, 0x80);
    ck_assert(b->irq_level);
    ck_assert_int_eq(b->irq_edges, 2);
    uint8_t st0, pcn;
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0xC0);
    /* SeaBIOS's enable from DOR 0: bit 2 alone, and it waits for IRQ 6 */
    out8(b, 0x3F2, 0x00);
    ck_assert(!b->irq_level);
    out8(b, 0x3F2, 0x04);
    ck_assert(b->irq_level);
    ck_assert_uint_eq(in8(b, 0x3F0) & 0x80, 0x80);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0xC0);
    /* a seek before the other three are read: they are gone */
    fdc_cmd(b, 3, 0x0F, 0x00, 3);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 3);
    fdc_cmd(b, 1, 0x08);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x80);
    bench_free(b);
}
END_TEST

START_TEST(version_specify_configure_lock)
{
    struct bench *b = bench_new(NULL, NULL);
    fdc_init(b);
    uint8_t res[10];
    fdc_cmd(b, 1, 0x10);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x90);
    /* DUMPREG after SPECIFY: SRT/HUT, HLT/ND; power-on CONFIGURE 0x20 */
    fdc_cmd(b, 1, 0x0E);
    fdc_results(b, res, 10);
    ck_assert_uint_eq(res[4], 0xAF);
    ck_assert_uint_eq(res[5], 0x02);
    ck_assert_uint_eq(res[7], 0x00);
    ck_assert_uint_eq(res[8], 0x20);
    ck_assert_uint_eq(res[9], 0x00);
    /* CONFIGURE: implied seek, threshold 8, precomp track 0x10 */
    fdc_cmd(b, 4, 0x13, 0x00, 0x47, 0x10);
    ck_assert_uint_eq(in8(b, 0x3F4), 0x80);     /* no result phase */
    fdc_cmd(b, 1, 0x94);                        /* LOCK */
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x10);
    out8(b, 0x3F4, 0x80);                       /* reset keeps locked parameters */
    fdc_cmd(b, 1, 0x0E);
    fdc_results(b, res, 10);
    ck_assert_uint_eq(res[7], 0x80);
    ck_assert_uint_eq(res[8], 0x47);
    ck_assert_uint_eq(res[9], 0x10);
    ck_assert_uint_eq(res[4], 0xAF);            /* SPECIFY survives resets */
    fdc_cmd(b, 1, 0x14);                        /* UNLOCK */
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x00);
    out8(b, 0x3F4, 0x80);
    fdc_cmd(b, 1, 0x0E);
    fdc_results(b, res, 10);
    ck_assert_uint_eq(res[8], 0x20);
    ck_assert_uint_eq(res[9], 0x00);
    /* PERPENDICULAR MODE with OW: drive bits in DUMPREG byte 7 */
    fdc_cmd(b, 2, 0x12, 0x80 | 0x04);
    fdc_cmd(b, 1, 0x0E);
    fdc_results(b, res, 10);
    ck_assert_uint_eq(res[7], 0x04);
    bench_free(b);
}
END_TEST

START_TEST(recalibrate_seek_sense)
{
    struct bench *b = bench_new(memdisk_new(SZ_1440K, false), memdisk_new(SZ_1440K, true));
    fdc_init(b);
    uint8_t st0, pcn, res[1];
    fdc_cmd(b, 3, 0x0F, 0x00, 10);
    ck_assert(b->irq_level);
    ck_assert_uint_eq(in8(b, 0x3F4), 0x81);     /* drive 0 busy until sensed */
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 10);
    ck_assert_uint_eq(in8(b, 0x3F4), 0x80);
    /* SENSE DRIVE STATUS: not on track 0, writable */
    fdc_cmd(b, 2, 0x04, 0x00);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x28);
    fdc_cmd(b, 2, 0x07, 0x00);                  /* RECALIBRATE */
    ck_assert(b->irq_level);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 0);
    fdc_cmd(b, 2, 0x04, 0x04);                  /* head 1: T0, head bit */
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x3C);
    fdc_cmd(b, 2, 0x04, 0x01);                  /* drive 1 is write protected */
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x79);
    /* relative seeks: 0xCF steps in (up), 0x8F out */
    fdc_cmd(b, 3, 0xCF, 0x00, 5);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(pcn, 5);
    fdc_cmd(b, 3, 0x8F, 0x04, 2);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x24);
    ck_assert_uint_eq(pcn, 3);
    /* two drives seek: one status each, the line comes back for the second */
    fdc_cmd(b, 3, 0x0F, 0x00, 7);
    fdc_cmd(b, 3, 0x0F, 0x01, 9);
    ck_assert_uint_eq(in8(b, 0x3F4), 0x83);
    int edges = b->irq_edges;
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x20);
    ck_assert_uint_eq(pcn, 7);
    ck_assert(b->irq_level);
    ck_assert_int_eq(b->irq_edges, edges + 1);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x21);
    ck_assert_uint_eq(pcn, 9);
    ck_assert(!b->irq_level);
    /* drive 2 does not exist: recalibrate ends with equipment check */
    fdc_cmd(b, 2, 0x07, 0x02);
    sense_interrupt(b, &st0, &pcn);
    ck_assert_uint_eq(st0, 0x72);
    bench_free(b);
}
END_TEST

START_TEST(read_sector_dma)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    seek(b, 0, 0, 0);
    dma_setup(b, true, 0x12000, 512);
    uint8_t res[7];
    data_cmd(b, 0xE6, 0, 0, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x00);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[2], 0x00);
    ck_assert_uint_eq(res[3], 0);               /* C H R N: next sector */
    ck_assert_uint_eq(res[4], 0);
    ck_assert_uint_eq(res[5], 2);
    ck_assert_uint_eq(res[6], 2);
    ck_assert_mem_eq(b->m->mem.ram + 0x12000, d->data, 512);
    ck_assert_uint_eq(b->m->mem.ram[0x12200], 0);
    ck_assert_uint_eq(in8(b, 0x08) & 0x04, 0x04);   /* DMA TC on channel 2 */
    /* cylinder 79, head 1, sector 18: the last sector */
    seek(b, 0, 1, 79);
    dma_setup(b, true, 0x20000, 512);
    data_cmd(b, 0xE6, 0, 79, 1, 18, SPT, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[3], 80);              /* EOT with TC: C+1, R=1 ... */
    ck_assert_uint_eq(res[4], 0);               /* ... and MT flips H */
    ck_assert_uint_eq(res[5], 1);
    ck_assert_mem_eq(b->m->mem.ram + 0x20000, d->data + SZ_1440K - 512, 512);
    bench_free(b);
}
END_TEST

START_TEST(multi_sector_mt_and_eot)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    seek(b, 0, 0, 3);
    /* sectors 17, 18 of head 0 and 1, 2 of head 1 */
    dma_setup(b, true, 0x30000, 4 * 512);
    uint8_t res[7];
    data_cmd(b, 0xC6, 0, 3, 0, 17, SPT, res);
    ck_assert_uint_eq(res[0], 0x04);            /* ended on head 1 */
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[3], 3);
    ck_assert_uint_eq(res[4], 1);
    ck_assert_uint_eq(res[5], 3);
    ck_assert_mem_eq(b->m->mem.ram + 0x30000, sector_data(d, 3, 0, 17), 2 * 512);
    ck_assert_mem_eq(b->m->mem.ram + 0x30400, sector_data(d, 3, 1, 1), 2 * 512);
    /* without MT the command stops at EOT; the DMA count is not used up:
     * abnormal termination with End of Cylinder, ID C+1, R=1 */
    dma_setup(b, true, 0x40000, 8 * 512);
    data_cmd(b, 0x46, 0, 3, 0, 17, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x80);
    ck_assert_uint_eq(res[2], 0x00);
    ck_assert_uint_eq(res[3], 4);
    ck_assert_uint_eq(res[4], 0);
    ck_assert_uint_eq(res[5], 1);
    ck_assert_mem_eq(b->m->mem.ram + 0x40000, sector_data(d, 3, 0, 17), 2 * 512);
    ck_assert_uint_eq(b->m->mem.ram[0x40400], 0);
    /* EOT below the last sector: DOS reads up to EOT exactly, TC there */
    dma_setup(b, true, 0x50000, 3 * 512);
    data_cmd(b, 0x46, 0, 3, 0, 2, 4, res);
    ck_assert_uint_eq(res[0], 0x00);
    ck_assert_uint_eq(res[3], 4);
    ck_assert_uint_eq(res[5], 1);
    ck_assert_mem_eq(b->m->mem.ram + 0x50000, sector_data(d, 3, 0, 2), 3 * 512);
    bench_free(b);
}
END_TEST

START_TEST(write_round_trip)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    seek(b, 0, 1, 2);
    for (int i = 0; i < 1024; i++)
        b->m->mem.ram[0x60000 + i] = (uint8_t)(0xA5 ^ i);
    dma_setup(b, false, 0x60000, 1024);
    uint8_t res[7];
    data_cmd(b, 0xC5, 0, 2, 1, 5, SPT, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[5], 7);
    ck_assert_mem_eq(sector_data(d, 2, 1, 5), b->m->mem.ram + 0x60000, 1024);
    ck_assert_uint_eq(sector_data(d, 2, 1, 7)[0], (uint8_t)(((2 * 2 + 1) * SPT) + 6));
    /* and back through a read into another buffer */
    dma_setup(b, true, 0x70000, 1024);
    data_cmd(b, 0xE6, 0, 2, 1, 5, SPT, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_mem_eq(b->m->mem.ram + 0x70000, b->m->mem.ram + 0x60000, 1024);
    bench_free(b);
}
END_TEST

START_TEST(write_protected)
{
    struct memdisk *d = memdisk_new(SZ_1440K, true);
    struct bench *b = bench_new(NULL, d);
    fdc_init(b);
    seek(b, 1, 0, 0);
    memset(b->m->mem.ram + 0x60000, 0xEE, 512);
    uint8_t before[512];
    memcpy(before, d->data, 512);
    dma_setup(b, false, 0x60000, 512);
    uint8_t res[7];
    data_cmd(b, 0xC5, 1, 0, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x41);            /* abnormal, drive 1 */
    ck_assert_uint_eq(res[1], 0x02);            /* Not Writable */
    ck_assert_mem_eq(d->data, before, 512);
    ck_assert_uint_eq(d->bd.writes, 0);
    /* FORMAT too */
    fdc_cmd(b, 6, 0x4D, 0x01, 2, SPT, 0x54, 0xF6);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x02);
    bench_free(b);
}
END_TEST

START_TEST(read_id_and_rate)
{
    struct bench *b = bench_new(memdisk_new(SZ_1440K, false), memdisk_new(SZ_720K, false));
    fdc_init(b);
    seek(b, 0, 0, 5);
    uint8_t res[7];
    fdc_cmd(b, 2, 0x4A, 0x04);
    ck_assert(b->irq_level);
    fdc_results(b, res, 7);
    ck_assert(!b->irq_level);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[3], 5);
    ck_assert_uint_eq(res[4], 1);
    ck_assert_uint_ge(res[5], 1);
    ck_assert_uint_le(res[5], SPT);
    ck_assert_uint_eq(res[6], 2);
    /* the 720K disk in drive 1 needs 250 kbps: at 500 no address marks */
    fdc_cmd(b, 2, 0x4A, 0x01);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x01);
    out8(b, 0x3F7, 0x02);
    fdc_cmd(b, 2, 0x4A, 0x01);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x01);
    ck_assert_uint_eq(res[1], 0x00);
    /* FM (MFM bit clear): nothing found either */
    fdc_cmd(b, 2, 0x0A, 0x01);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x01);
    /* cylinder beyond the 720K disk's 80 tracks */
    seek(b, 1, 0, 82);
    fdc_cmd(b, 2, 0x4A, 0x01);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x01);
    bench_free(b);
}
END_TEST

START_TEST(disk_change_line)
{
    struct bench *b = bench_new(memdisk_new(SZ_1440K, false), NULL);
    fdc_init(b);
    out8(b, 0x3F2, 0x1C);                       /* drive 0, motor on */
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x80);  /* set at power-on */
    seek(b, 0, 0, 0);                           /* no step: stays set */
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x80);
    seek(b, 0, 0, 1);                           /* a step with a disk in clears it */
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x00);
    seek(b, 0, 0, 0);
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x00);
    /* drive 1 is empty: steps do not clear its line */
    out8(b, 0x3F2, 0x2D);
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x80);
    seek(b, 1, 0, 1);
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x80);
    /* an FDC reset does not touch the drive's latch */
    out8(b, 0x3F2, 0x18);
    out8(b, 0x3F2, 0x1C);
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x00);
    /* a machine reset is a power cycle */
    machine_reset(b->m);
    out8(b, 0x3F2, 0x1C);
    ck_assert_uint_eq(in8(b, 0x3F7) & 0x80, 0x80);
    bench_free(b);
}
END_TEST

START_TEST(pio_read_and_write)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    fdc_cmd(b, 3, 0x03, 0xAF, 0x03);            /* SPECIFY ND=1: non-DMA */
    seek(b, 0, 0, 1);
    int edges = b->irq_edges;
    fdc_cmd(b, 9, 0x46, 0x00, 1, 0, 4, 2, 5, 0x1B, 0xFF);   /* sectors 4 and 5 */
    uint8_t data[1024];
    for (int i = 0; i < 1024; i++) {
        ck_assert_uint_eq(in8(b, 0x3F4), 0xF0);  /* RQM DIO NDMA CB */
        ck_assert(b->irq_level);
        data[i] = in8(b, 0x3F5);
    }
    ck_assert_int_ge(b->irq_edges, edges + 1024);   /* an interrupt per byte ... */
    ck_assert(b->irq_level);                        /* ... and one for the result */
    ck_assert_mem_eq(data, sector_data(d, 1, 0, 4), 1024);
    uint8_t res[7];
    fdc_results(b, res, 7);
    ck_assert(!b->irq_level);
    ck_assert_uint_eq(res[0], 0x40);            /* PIO ends at EOT: abnormal, EN */
    ck_assert_uint_eq(res[1], 0x80);
    ck_assert_uint_eq(res[3], 2);
    ck_assert_uint_eq(res[5], 1);
    /* PIO write of one sector */
    fdc_cmd(b, 9, 0x45, 0x00, 1, 0, 9, 2, 9, 0x1B, 0xFF);
    for (int i = 0; i < 512; i++) {
        ck_assert_uint_eq(in8(b, 0x3F4), 0xB0);  /* RQM NDMA CB, DIO clear */
        out8(b, 0x3F5, (uint8_t)(i ^ 0x3C));
    }
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x80);
    for (int i = 0; i < 512; i++)
        ck_assert_uint_eq(sector_data(d, 1, 0, 9)[i], (uint8_t)(i ^ 0x3C));
    bench_free(b);
}
END_TEST

START_TEST(errors)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    uint8_t res[7];
    /* invalid opcode: one result byte 0x80, no interrupt */
    int edges = b->irq_edges;
    fdc_cmd(b, 1, 0x1F);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x80);
    fdc_cmd(b, 1, 0x30);                        /* VERSION with a bit it does not have */
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x80);
    ck_assert_int_eq(b->irq_edges, edges);
    seek(b, 0, 0, 0);
    /* sector 19 of an 18-sector track: No Data */
    dma_setup(b, true, 0x10000, 512);
    data_cmd(b, 0xE6, 0, 0, 0, 19, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x04);
    ck_assert_uint_eq(res[2], 0x00);
    ck_assert_uint_eq(b->m->mem.ram[0x10000], 0);
    /* the head is on cylinder 0, the command says 5: No Data, Wrong Cylinder */
    data_cmd(b, 0xE6, 0, 5, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x04);
    ck_assert_uint_eq(res[2], 0x10);
    /* ... unless implied seek is on */
    fdc_cmd(b, 4, 0x13, 0x00, 0x60, 0x00);
    data_cmd(b, 0xE6, 0, 5, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x00);
    ck_assert_mem_eq(b->m->mem.ram + 0x10000, sector_data(d, 5, 0, 1), 512);
    /* DMA channel masked: overrun */
    out8(b, 0x0A, 0x06);
    data_cmd(b, 0xE6, 0, 5, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x10);
    /* DMA gate (DOR bit 3) closed in DMA mode: no DRQ, overrun */
    dma_setup(b, true, 0x10000, 512);
    out8(b, 0x3F2, 0x14);
    data_cmd(b, 0xE6, 0, 5, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x10);
    out8(b, 0x3F2, 0x1C);
    /* backend error: data error in ID / data field */
    dma_setup(b, true, 0x10000, 512);
    d->fail = true;
    data_cmd(b, 0xE6, 0, 5, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x40);
    ck_assert_uint_eq(res[1], 0x20);
    ck_assert_uint_eq(res[2], 0x20);
    d->fail = false;
    /* empty drive 1: no address marks */
    data_cmd(b, 0xE6, 1, 0, 0, 1, SPT, res);
    ck_assert_uint_eq(res[0], 0x41);
    ck_assert_uint_eq(res[1], 0x01);
    /* FIFO read with nothing to give, FIFO write during the result phase */
    ck_assert_uint_eq(in8(b, 0x3F5), 0);
    fdc_cmd(b, 1, 0x10);
    out8(b, 0x3F5, 0x10);
    fdc_results(b, res, 1);
    ck_assert_uint_eq(res[0], 0x90);
    bench_free(b);
}
END_TEST

START_TEST(verify_and_format)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    seek(b, 0, 1, 4);
    /* FORMAT head 1 of cylinder 4: 18 IDs through DMA, filler 0xF6 */
    uint8_t ids[SPT * 4];
    for (int i = 0; i < SPT; i++) {
        ids[i * 4] = 4; ids[i * 4 + 1] = 1; ids[i * 4 + 2] = (uint8_t)(i + 1); ids[i * 4 + 3] = 2;
    }
    memcpy(b->m->mem.ram + 0x8000, ids, sizeof ids);
    dma_setup(b, false, 0x8000, sizeof ids);
    uint8_t res[7];
    fdc_cmd(b, 6, 0x4D, 0x04, 2, SPT, 0x54, 0xF6);
    ck_assert(b->irq_level);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    for (int r = 1; r <= SPT; r++)
        for (int i = 0; i < 512; i++)
            ck_assert_uint_eq(sector_data(d, 4, 1, r)[i], 0xF6);
    ck_assert_uint_ne(sector_data(d, 4, 0, SPT)[100], 0xF6);   /* head 0 untouched */
    ck_assert_uint_ne(sector_data(d, 5, 0, 1)[100], 0xF6);
    /* VERIFY EC=1, 3 sectors: no data moves, normal termination */
    memset(b->m->mem.ram + 0x9000, 0, 512);
    fdc_cmd(b, 9, 0x56, 0x84, 4, 1, 1, 2, SPT, 0x1B, 3);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[5], 4);
    /* EC=1 with more sectors than the track has: End of Cylinder */
    fdc_cmd(b, 9, 0x56, 0x84, 4, 1, 17, 2, SPT, 0x1B, 5);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x44);
    ck_assert_uint_eq(res[1], 0x80);
    /* EC=0: to EOT, successfully */
    fdc_cmd(b, 9, 0x56, 0x04, 4, 1, 10, 2, SPT, 0x1B, 0xFF);
    fdc_results(b, res, 7);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    bench_free(b);
}
END_TEST

START_TEST(read_track_and_dumpreg)
{
    struct memdisk *d = memdisk_new(SZ_1440K, false);
    struct bench *b = bench_new(d, memdisk_new(SZ_1440K, false));
    fdc_init(b);
    seek(b, 0, 1, 6);
    seek(b, 1, 0, 9);
    /* READ TRACK starts at the first sector after the index, whatever R says */
    dma_setup(b, true, 0x10000, 3 * 512);
    uint8_t res[10];
    data_cmd(b, 0x42, 0, 6, 1, 7, 3, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_uint_eq(res[3], 7);
    ck_assert_uint_eq(res[5], 1);
    ck_assert_mem_eq(b->m->mem.ram + 0x10000, sector_data(d, 6, 1, 1), 3 * 512);
    fdc_cmd(b, 1, 0x0E);
    fdc_results(b, res, 10);
    ck_assert_uint_eq(res[0], 6);               /* PCN of drives 0-3 */
    ck_assert_uint_eq(res[1], 9);
    ck_assert_uint_eq(res[2], 0);
    ck_assert_uint_eq(res[3], 0);
    ck_assert_uint_eq(res[6], 3);               /* EOT of the last command */
    bench_free(b);
}
END_TEST

START_TEST(cmos_types_and_geometry)
{
    ck_assert_uint_eq(fdc82077_cmos_type(368640), 1);
    ck_assert_uint_eq(fdc82077_cmos_type(1228800), 2);
    ck_assert_uint_eq(fdc82077_cmos_type(737280), 3);
    ck_assert_uint_eq(fdc82077_cmos_type(1474560), 4);
    ck_assert_uint_eq(fdc82077_cmos_type(2949120), 5);
    ck_assert_uint_eq(fdc82077_cmos_type(0), 0);
    ck_assert_uint_eq(fdc82077_cmos_type(1000000), 0);
    /* 360K: 40 cylinders, 9 sectors, 250 kbps; sector 10 does not exist */
    struct memdisk *d = memdisk_new(368640, false);
    struct bench *b = bench_new(d, NULL);
    fdc_init(b);
    out8(b, 0x3F7, 0x02);
    seek(b, 0, 1, 39);
    dma_setup(b, true, 0x10000, 512);
    uint8_t res[7];
    data_cmd(b, 0xE6, 0, 39, 1, 9, 9, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_mem_eq(b->m->mem.ram + 0x10000, d->data + 368640 - 512, 512);
    data_cmd(b, 0xE6, 0, 39, 1, 10, 10, res);
    ck_assert_uint_eq(res[1], 0x04);
    /* 40-track media also read at 300K (in a 1.2M drive; SeaBIOS's first try) */
    out8(b, 0x3F7, 0x01);
    dma_setup(b, true, 0x10000, 512);
    data_cmd(b, 0xE6, 0, 39, 1, 9, 9, res);
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    out8(b, 0x3F7, 0x00);                       /* but not at 500K */
    data_cmd(b, 0xE6, 0, 39, 1, 9, 9, res);
    ck_assert_uint_eq(res[1], 0x01);
    bench_free(b);
    /* an odd-sized image: 1.44M geometry, sectors past its end not found */
    d = memdisk_new(600 * 512, false);
    b = bench_new(d, NULL);
    fdc_init(b);
    seek(b, 0, 1, 16);                          /* head 1 of cylinder 16: LBA 594.. */
    dma_setup(b, true, 0x10000, 512);
    data_cmd(b, 0xE6, 0, 16, 1, 6, SPT, res);    /* LBA 599, the last one */
    ck_assert_uint_eq(res[0], 0x04);
    ck_assert_uint_eq(res[1], 0x00);
    ck_assert_mem_eq(b->m->mem.ram + 0x10000, d->data + 599 * 512, 512);
    data_cmd(b, 0xE6, 0, 16, 1, 7, SPT, res);
    ck_assert_uint_eq(res[0], 0x44);
    ck_assert_uint_eq(res[1], 0x04);
    bench_free(b);
}
END_TEST

static Suite *fdc_suite(void)
{
    Suite *s = suite_create("fdc82077");
    TCase *tc = tcase_create("fdc");
    tcase_add_test(tc, reset_sequence);
    tcase_add_test(tc, version_specify_configure_lock);
    tcase_add_test(tc, recalibrate_seek_sense);
    tcase_add_test(tc, read_sector_dma);
    tcase_add_test(tc, multi_sector_mt_and_eot);
    tcase_add_test(tc, write_round_trip);
    tcase_add_test(tc, write_protected);
    tcase_add_test(tc, read_id_and_rate);
    tcase_add_test(tc, disk_change_line);
    tcase_add_test(tc, pio_read_and_write);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, verify_and_format);
    tcase_add_test(tc, read_track_and_dumpreg);
    tcase_add_test(tc, cmos_types_and_geometry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fdc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
