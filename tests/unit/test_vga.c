/* tests/unit/test_vga.c: the stdvga (devices/vga.c, vga_render.c) without a CPU.
 *
 * Each test builds a machine with the VGA on the PCI bus, programs
 * it through ioport_write as a BIOS would (the register tables are the
 * standard IBM VGA mode values, as SeaVGABIOS uses them), writes video
 * memory through phys_write and checks what get_text and render show.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"


#define VRAM_SIZE (16u << 20)
#define LFB_ADDR  0xE0000000u

struct bench {
    struct machine *m;
    struct pci_bus *bus;
    struct pci_device *pci;
};

static struct bench *bench_new(void)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_int_eq(pci_bus_create(b->m, &b->bus), 0);
    ck_assert_int_eq(vga_create(b->m, b->bus, PCI_DEVFN(2, 0), VRAM_SIZE), 0);
    b->pci = b->bus->devices[PCI_DEVFN(2, 0)];
    ck_assert_ptr_nonnull(b->pci);
    machine_reset(b->m);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static void out16(struct bench *b, uint16_t port, uint16_t v) { ioport_write(&b->m->io, port, v, 2); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }
static uint16_t in16(struct bench *b, uint16_t port) { return (uint16_t)ioport_read(&b->m->io, port, 2); }
static void seq(struct bench *b, uint8_t i, uint8_t v) { out16(b, 0x3C4, (uint16_t)(v << 8 | i)); }
static void gc(struct bench *b, uint8_t i, uint8_t v) { out16(b, 0x3CE, (uint16_t)(v << 8 | i)); }
static void crtc(struct bench *b, uint8_t i, uint8_t v) { out8(b, 0x3D4, i); out8(b, 0x3D5, v); }
static void attr(struct bench *b, uint8_t i, uint8_t v)
{
    in8(b, 0x3DA);
    out8(b, 0x3C0, i);
    out8(b, 0x3C0, v);
}
static void dispi(struct bench *b, uint16_t i, uint16_t v) { out16(b, 0x1CE, i); out16(b, 0x1CF, v); }
static uint16_t dispi_get(struct bench *b, uint16_t i) { out16(b, 0x1CE, i); return in16(b, 0x1CF); }
static void mem8(struct bench *b, uint32_t a, uint8_t v) { phys_write(&b->m->mem, a, v, 1); }
static uint8_t rd8(struct bench *b, uint32_t a) { return (uint8_t)phys_read(&b->m->mem, a, 1); }

/* A BIOS mode set: the IBM VGA register table of a mode. */
struct mode_regs {
    uint8_t misc;
    uint8_t seq[4];         /* SR1-SR4 */
    uint8_t crtc[25];
    uint8_t attr[20];       /* AR0-AR13 */
    uint8_t gc[9];
};

static const struct mode_regs mode3 = {
    0x67, { 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
      0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff },
};

static const struct mode_regs mode13 = {
    0x63, { 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
      0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
};

static const struct mode_regs mode12 = {
    0xe3, { 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
      0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
};

/* The EGA 64-colour DAC layout (rgbRGB bits), 6-bit values. */
static void load_ega_palette(struct bench *b)
{
    out8(b, 0x3C8, 0);
    for (int i = 0; i < 64; i++) {
        out8(b, 0x3C9, (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15));
        out8(b, 0x3C9, (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15));
        out8(b, 0x3C9, (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15));
    }
}

static void set_mode(struct bench *b, const struct mode_regs *r)
{
    out8(b, 0x3C2, 0xC3);                  /* what the BIOS's init does first */
    out8(b, 0x3C6, 0xFF);
    in8(b, 0x3DA);
    for (int i = 0; i < 20; i++) {
        out8(b, 0x3C0, (uint8_t)i);
        out8(b, 0x3C0, r->attr[i]);
    }
    out8(b, 0x3C0, 0x14);
    out8(b, 0x3C0, 0x00);
    seq(b, 0, 0x03);
    for (int i = 0; i < 4; i++)
        seq(b, (uint8_t)(i + 1), r->seq[i]);
    for (int i = 0; i < 9; i++)
        gc(b, (uint8_t)i, r->gc[i]);
    crtc(b, 0x11, 0x00);
    for (int i = 0; i < 25; i++)
        crtc(b, (uint8_t)i, r->crtc[i]);
    out8(b, 0x3C2, r->misc);
    out8(b, 0x3C0, 0x20);                  /* palette address source: video on */
}

static uint32_t rgb6(unsigned r, unsigned g, unsigned b)
{
    r = (r << 2) | (r >> 4); g = (g << 2) | (g >> 4); b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

static const uint32_t *render(struct bench *b, int *w, int *h)
{
    int stride;
    const uint32_t *px = display_render(&b->m->display, w, h, &stride);
    if (px)
        ck_assert_int_eq(stride, *w);
    return px;
}

/* ------------------------------------------------------------------------ */

START_TEST(pci_identity_and_reset_state)
{
    struct bench *b = bench_new();
    const uint8_t *c = b->pci->config;
    ck_assert_uint_eq(pci_get_word(c + PCI_VENDOR_ID), 0x1234);
    ck_assert_uint_eq(pci_get_word(c + PCI_DEVICE_ID), 0x1111);
    ck_assert_uint_eq(c[PCI_REVISION_ID], 2);
    ck_assert_uint_eq(c[PCI_CLASS_PROG], 0);
    ck_assert_uint_eq(pci_get_word(c + PCI_CLASS_DEVICE), 0x0300);
    ck_assert_uint_eq(b->pci->bars[0].size, VRAM_SIZE);
    ck_assert_uint_eq(b->pci->bars[0].type, PCI_BAR_MEM | PCI_BAR_PREFETCH);
    ck_assert_uint_eq(b->pci->bars[2].size, 4096);
    ck_assert_uint_eq(b->pci->bars[2].type, PCI_BAR_MEM);
    ck_assert_ptr_eq(b->pci->bus, b->bus);
    ck_assert_int_eq(b->pci->devfn, PCI_DEVFN(2, 0));
    /* after reset nothing is displayed */
    int w, h;
    struct display_text t;
    ck_assert_ptr_null(render(b, &w, &h));
    ck_assert(!display_get_text(&b->m->display, &t));
    ck_assert_uint_eq(dispi_get(b, 0), 0xB0C5);
    ck_assert_uint_eq(dispi_get(b, 0xA), VRAM_SIZE >> 16);
    /* reset keeps vram but clears registers */
    set_mode(b, &mode3);
    mem8(b, 0xB8000, 'Q');
    ck_assert(display_get_text(&b->m->display, &t));
    machine_reset(b->m);
    ck_assert(!display_get_text(&b->m->display, &t));
    ck_assert_ptr_null(render(b, &w, &h));
    set_mode(b, &mode3);
    ck_assert(display_get_text(&b->m->display, &t));
    ck_assert_uint_eq(t.cells[0] & 0xFF, 'Q');
    bench_free(b);
}
END_TEST

START_TEST(registers)
{
    struct bench *b = bench_new();
    /* misc output: bit 0 picks the CRTC block; the other one is open bus */
    out8(b, 0x3C2, 0x66);
    ck_assert_uint_eq(in8(b, 0x3CC), 0x66);
    out8(b, 0x3B4, 0x0E);
    out8(b, 0x3B5, 0x12);
    ck_assert_uint_eq(in8(b, 0x3B5), 0x12);
    ck_assert_uint_eq(in8(b, 0x3D5), 0xFF);
    out8(b, 0x3D4, 0x0F);                           /* ignored: not the active block */
    ck_assert_uint_eq(in8(b, 0x3B4), 0x0E);
    out8(b, 0x3C2, 0x67);
    ck_assert_uint_eq(in8(b, 0x3B5), 0xFF);
    out8(b, 0x3D4, 0x0E);
    ck_assert_uint_eq(in8(b, 0x3D5), 0x12);         /* one set of CRTC registers */
    /* CR11 bit 7 protects CR0-7 except CR7 bit 4 */
    crtc(b, 0x00, 0x5F);
    crtc(b, 0x07, 0x1F);
    crtc(b, 0x11, 0x8E);
    crtc(b, 0x00, 0x33);
    crtc(b, 0x07, 0x00);
    crtc(b, 0x09, 0x4F);                            /* not protected */
    out8(b, 0x3D4, 0x00); ck_assert_uint_eq(in8(b, 0x3D5), 0x5F);
    out8(b, 0x3D4, 0x07); ck_assert_uint_eq(in8(b, 0x3D5), 0x0F);
    out8(b, 0x3D4, 0x09); ck_assert_uint_eq(in8(b, 0x3D5), 0x4F);
    /* sequencer / graphics controller index and writable bits */
    seq(b, 0x04, 0xFF);
    out8(b, 0x3C4, 0x0C);                           /* index wraps to 3 bits */
    ck_assert_uint_eq(in8(b, 0x3C4), 0x04);
    ck_assert_uint_eq(in8(b, 0x3C5), 0x0E);
    gc(b, 0x05, 0xFF);
    ck_assert_uint_eq(in8(b, 0x3CF), 0x7B);
    /* attribute controller: the flip-flop, reset by reading input status 1 */
    in8(b, 0x3DA);
    out8(b, 0x3C0, 0x05);
    out8(b, 0x3C0, 0x2A);
    out8(b, 0x3C0, 0x33);                           /* index again: 0x13 | PAS */
    ck_assert_uint_eq(in8(b, 0x3C0), 0x33);
    in8(b, 0x3DA);
    out8(b, 0x3C0, 0x05);
    ck_assert_uint_eq(in8(b, 0x3C1), 0x2A);
    out8(b, 0x3C0, 0xFF);                           /* palette entries hold 6 bits */
    ck_assert_uint_eq(in8(b, 0x3C1), 0x3F);
    /* DAC: write index, triplets with the sub-index, read back */
    out8(b, 0x3C8, 0x10);
    out8(b, 0x3C9, 0x01); out8(b, 0x3C9, 0x02); out8(b, 0x3C9, 0x03);
    out8(b, 0x3C9, 0x3F); out8(b, 0x3C9, 0x20);
    ck_assert_uint_eq(in8(b, 0x3C8), 0x11);
    ck_assert_uint_eq(in8(b, 0x3C7), 0);
    out8(b, 0x3C7, 0x10);
    ck_assert_uint_eq(in8(b, 0x3C7), 3);
    ck_assert_uint_eq(in8(b, 0x3C9), 0x01);
    ck_assert_uint_eq(in8(b, 0x3C9), 0x02);
    ck_assert_uint_eq(in8(b, 0x3C9), 0x03);
    ck_assert_uint_eq(in8(b, 0x3C9), 0x00);        /* 0x11: not complete, unchanged */
    out8(b, 0x3C6, 0x0F);
    ck_assert_uint_eq(in8(b, 0x3C6), 0x0F);
    /* feature control */
    out8(b, 0x3DA, 0x1F);
    ck_assert_uint_eq(in8(b, 0x3CA), 0x10);
    bench_free(b);
}
END_TEST

START_TEST(retrace_follows_virtual_time)
{
    struct bench *b = bench_new();
    out8(b, 0x3C2, 0x67);
    uint64_t base = machine_now(b->m);
    uint64_t frame = 31778ull * 449;
    b->m->idle_ns += frame - base % frame;          /* start of a frame */
    ck_assert_uint_eq(in8(b, 0x3DA) & 0x09, 0x00);  /* displaying */
    b->m->idle_ns += 26000;                         /* horizontal blanking of line 0 */
    ck_assert_uint_eq(in8(b, 0x3DA) & 0x09, 0x01);
    b->m->idle_ns += 31778ull * 412;                /* line 412: vertical retrace */
    ck_assert_uint_eq(in8(b, 0x3DA) & 0x09, 0x09);
    b->m->idle_ns += 31778ull * 3;                  /* line 415: blanking, retrace over */
    ck_assert_uint_eq(in8(b, 0x3DA) & 0x09, 0x01);
    bench_free(b);
}
END_TEST

START_TEST(text_mode_get_text)
{
    struct bench *b = bench_new();
    set_mode(b, &mode3);
    phys_write(&b->m->mem, 0xB8000, 'H' | 0x1F << 8, 2);
    mem8(b, 0xB8002, 'i');
    mem8(b, 0xB8003, 0x4E);
    phys_write(&b->m->mem, 0xB8000 + 2 * (80 * 24 + 79), '!' | 0x07 << 8, 2);
    crtc(b, 0x0E, 0x00);
    crtc(b, 0x0F, 81);                              /* row 1, column 1 */
    struct display_text t;
    ck_assert(display_get_text(&b->m->display, &t));
    ck_assert_int_eq(t.cols, 80);
    ck_assert_int_eq(t.rows, 25);
    ck_assert_uint_eq(t.cells[0], 'H' | 0x1F << 8);
    ck_assert_uint_eq(t.cells[1], 'i' | 0x4E << 8);
    ck_assert_uint_eq(t.cells[80 * 24 + 79], '!' | 0x07 << 8);
    ck_assert(t.cursor_visible);
    ck_assert_int_eq(t.cursor_row, 1);
    ck_assert_int_eq(t.cursor_col, 1);
    ck_assert_uint_eq(rd8(b, 0xB8002), 'i');        /* reads back in odd/even */
    ck_assert_uint_eq(rd8(b, 0xB8003), 0x4E);
    /* start address scrolls by whole rows; cursor off with CR0A bit 5 */
    crtc(b, 0x0C, 0x00);
    crtc(b, 0x0D, 80);
    crtc(b, 0x0A, 0x2D);
    ck_assert(display_get_text(&b->m->display, &t));
    ck_assert_uint_eq(t.cells[80 * 23 + 79], '!' | 0x07 << 8);
    ck_assert(!t.cursor_visible);
    /* the hardware layout: cell i in planes 0/1 at memory address 2i */
    seq(b, 4, 0x06);
    gc(b, 5, 0x00);
    gc(b, 6, 0x05);
    gc(b, 4, 0);
    ck_assert_uint_eq(rd8(b, 0xA0000), 'H');
    ck_assert_uint_eq(rd8(b, 0xA0002), 'i');
    gc(b, 4, 1);
    ck_assert_uint_eq(rd8(b, 0xA0000), 0x1F);
    ck_assert_uint_eq(rd8(b, 0xA0002), 0x4E);
    /* graphics in the attribute controller: no text */
    attr(b, 0x10, 0x01);
    out8(b, 0x3C0, 0x20);
    ck_assert(!display_get_text(&b->m->display, &t));
    bench_free(b);
}
END_TEST

/* A hand-drawn 8x16 'A'. */
static const uint8_t glyph_A[16] = {
    0x00, 0x00, 0x10, 0x38, 0x6C, 0xC6, 0xC6, 0xFE, 0xC6, 0xC6, 0xC6, 0xC6, 0x00, 0x00, 0x00, 0x00,
};

/* The BIOS's font upload: plane 2 through the sequencer and GC, then back. */
static void load_glyph(struct bench *b, uint8_t ch, const uint8_t rows[16])
{
    seq(b, 0, 0x01); seq(b, 2, 0x04); seq(b, 4, 0x07); seq(b, 0, 0x03);
    gc(b, 4, 0x02); gc(b, 5, 0x00); gc(b, 6, 0x04);
    for (int i = 0; i < 16; i++)
        mem8(b, 0xA0000 + ch * 32u + (unsigned)i, rows[i]);
    seq(b, 0, 0x01); seq(b, 2, 0x03); seq(b, 4, 0x03); seq(b, 0, 0x03);
    gc(b, 6, 0x0E); gc(b, 4, 0x00); gc(b, 5, 0x10);
}

/* BIOS mode 1 (40x25: half dot clock, 40 displayed characters, a 20-word
 * row offset) and the 80x50 text mode (mode 3 with 8-line characters, as
 * DOS's MODE CON LINES=50 sets it): the text view and the picture follow
 * the CRTC. */
START_TEST(text_modes_40x25_and_80x50)
{
    struct bench *b = bench_new();
    struct mode_regs m1 = mode3;
    m1.seq[0] |= 0x08;                 /* SR1: dot clock / 2 */
    m1.crtc[0x00] = 0x2d;
    m1.crtc[0x01] = 0x27;              /* 40 characters */
    m1.crtc[0x02] = 0x28;
    m1.crtc[0x03] = 0x90;
    m1.crtc[0x04] = 0x2b;
    m1.crtc[0x05] = 0xa0;
    m1.crtc[0x13] = 0x14;              /* 20 words a row */
    set_mode(b, &m1);
    load_ega_palette(b);
    phys_write(&b->m->mem, 0xB8000 + 2 * 39, 'R' | 0x1F << 8, 2);          /* row 0, last column */
    phys_write(&b->m->mem, 0xB8000 + 2 * (40 * 24), 'L' | 0x07 << 8, 2);   /* last row, column 0 */
    struct display_text t;
    ck_assert(display_get_text(&b->m->display, &t));
    ck_assert_int_eq(t.cols, 40);
    ck_assert_int_eq(t.rows, 25);
    ck_assert_uint_eq(t.cells[39], 'R' | 0x1F << 8);
    ck_assert_uint_eq(t.cells[40 * 24], 'L' | 0x07 << 8);
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(h, 400);
    ck_assert(w == 360 || w == 720);   /* 40 cells of 9 dots, each shown once or twice */
    /* the last column's cell has the blue background of attribute 1F */
    int cell_x = (w / 40) * 39, found_blue = 0;
    for (int x = cell_x; x < w; x++)
        found_blue |= px[5 * w + x] == rgb6(0, 0, 0x2a);
    ck_assert(found_blue);

    struct mode_regs m50 = mode3;
    m50.crtc[0x09] = (uint8_t)((mode3.crtc[0x09] & ~0x1f) | 7);   /* 8 scan lines a row */
    m50.crtc[0x0a] = 0x06;
    m50.crtc[0x0b] = 0x07;
    set_mode(b, &m50);
    load_ega_palette(b);
    phys_write(&b->m->mem, 0xB8000 + 2 * (80 * 49 + 79), 'Z' | 0x4E << 8, 2);
    ck_assert(display_get_text(&b->m->display, &t));
    ck_assert_int_eq(t.cols, 80);
    ck_assert_int_eq(t.rows, 50);
    ck_assert_uint_eq(t.cells[80 * 49 + 79], 'Z' | 0x4E << 8);
    px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    /* the bottom-right cell (8 lines high) has attribute 4E's red background */
    int found_red = 0;
    for (int x = 720 - 9; x < 720; x++)
        found_red |= px[(400 - 8) * w + x] == rgb6(0x2a, 0, 0);
    ck_assert(found_red);
    bench_free(b);
}
END_TEST

START_TEST(text_mode_render)
{
    struct bench *b = bench_new();
    set_mode(b, &mode3);
    load_ega_palette(b);
    load_glyph(b, 'A', glyph_A);
    const uint8_t bar[16] = { [8] = 0xFF };
    load_glyph(b, 0xC4, bar);                       /* a line-graphics character */
    load_glyph(b, 0x2D, bar);                       /* the same pixels, not line graphics */
    phys_write(&b->m->mem, 0xB8000, 'A' | 0x1F << 8, 2);
    phys_write(&b->m->mem, 0xB8002, 0xC4 | 0x07 << 8, 2);
    phys_write(&b->m->mem, 0xB8004, 0x2D | 0x07 << 8, 2);
    phys_write(&b->m->mem, 0xB8006, 'A' | 0x9F << 8, 2);   /* blinking */
    crtc(b, 0x0E, 0x07);                            /* cursor far away */
    crtc(b, 0x0F, 0xCF);
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    uint32_t white = rgb6(0x3f, 0x3f, 0x3f), blue = rgb6(0, 0, 0x2a), grey = rgb6(0x2a, 0x2a, 0x2a);
    uint32_t black = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 9; x++) {
            bool on = x < 8 && (glyph_A[y] & (0x80 >> x));
            ck_assert_msg(px[y * w + x] == (on ? white : blue), "A pixel %d,%d", x, y);
        }
    /* the ninth column: repeated for 0xC4, background for 0x2D */
    ck_assert_uint_eq(px[8 * w + 9 + 7], grey);
    ck_assert_uint_eq(px[8 * w + 9 + 8], grey);
    ck_assert_uint_eq(px[8 * w + 18 + 7], grey);
    ck_assert_uint_eq(px[8 * w + 18 + 8], black);
    ck_assert_uint_eq(px[7 * w + 9 + 8], black);
    /* blink attribute: AR10 bit 3 set, background blue (bit 7 = blink) */
    ck_assert_uint_eq(px[7 * w + 27 + 0], white);   /* row 7 of 'A' = 0xFE */
    b->m->idle_ns += 31778ull * 449 * 16;           /* half a blink period */
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[7 * w + 27 + 0], blue);
    /* with AR10 bit 3 clear bit 7 is background intensity */
    attr(b, 0x10, 0x04);
    out8(b, 0x3C0, 0x20);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[7 * w + 27 + 0], white);
    ck_assert_uint_eq(px[0 * w + 27 + 0], rgb6(0x15, 0x15, 0x3f));   /* AR9 = 0x39 */
    /* the cursor: lines 13-14 of its cell in the foreground colour */
    crtc(b, 0x0E, 0x00);
    crtc(b, 0x0F, 0x02);
    b->m->idle_ns += 31778ull * 449 * 16;           /* blink phase back on */
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[13 * w + 18 + 0], grey);
    ck_assert_uint_eq(px[12 * w + 18 + 0], black);
    /* 8-dot characters */
    seq(b, 1, 0x01);
    px = render(b, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_uint_eq(px[7 * w + 0], white);
    /* screen off */
    seq(b, 1, 0x21);
    ck_assert_ptr_null(render(b, &w, &h));
    bench_free(b);
}
END_TEST

START_TEST(mode13_chain4)
{
    struct bench *b = bench_new();
    set_mode(b, &mode13);
    out8(b, 0x3C8, 5);
    out8(b, 0x3C9, 0x3f); out8(b, 0x3C9, 0x20); out8(b, 0x3C9, 0x00);
    out8(b, 0x3C8, 9);
    out8(b, 0x3C9, 0x00); out8(b, 0x3C9, 0x00); out8(b, 0x3C9, 0x3f);
    mem8(b, 0xA0000 + 17 + 320 * 9, 5);
    mem8(b, 0xA0000 + 319 + 320 * 199, 9);
    ck_assert_uint_eq(rd8(b, 0xA0000 + 17 + 320 * 9), 5);
    struct display_text t;
    ck_assert(!display_get_text(&b->m->display, &t));
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(px[9 * w + 17], rgb6(0x3f, 0x20, 0));
    ck_assert_uint_eq(px[199 * w + 319], rgb6(0, 0, 0x3f));
    ck_assert_uint_eq(px[9 * w + 16], 0);
    ck_assert_uint_eq(px[10 * w + 17], 0);
    /* the pel mask applies: index 5 & 0x0E = 4 (black) */
    out8(b, 0x3C6, 0x0E);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[9 * w + 17], 0);
    out8(b, 0x3C6, 0xFF);
    /* chain-4 stores pixel A in plane A & 3 at memory address A & ~3:
     * unchained (mode X) the same pixel is plane 1, address 2896 */
    unsigned a = 17 + 320 * 9;
    seq(b, 4, 0x06);
    gc(b, 4, a & 3);
    ck_assert_uint_eq(rd8(b, 0xA0000 + (a & ~3u)), 5);
    /* mode X: byte mode CRTC, pixel x is plane x & 3 at x / 4 */
    crtc(b, 0x14, 0x00);
    crtc(b, 0x17, 0xE3);
    seq(b, 2, 1u << 2);
    mem8(b, 0xA0000 + 10, 9);                        /* x = 42, y = 0 */
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[42], rgb6(0, 0, 0x3f));
    ck_assert_uint_eq(px[41], 0);
    ck_assert_uint_eq(px[43], 0);
    bench_free(b);
}
END_TEST

/* Prefill memory address ma of the four planes through the map mask. */
static void fill_planes(struct bench *b, uint32_t ma, const uint8_t v[4])
{
    gc(b, 5, 0x00); gc(b, 3, 0x00); gc(b, 1, 0x00); gc(b, 8, 0xFF);
    for (int p = 0; p < 4; p++) {
        seq(b, 2, (uint8_t)(1 << p));
        mem8(b, 0xA0000 + ma, v[p]);
    }
    seq(b, 2, 0x0F);
}

static void check_planes(struct bench *b, uint32_t ma, uint8_t p0, uint8_t p1, uint8_t p2,
                         uint8_t p3)
{
    uint8_t want[4] = { p0, p1, p2, p3 };
    gc(b, 5, 0x00);
    for (int p = 0; p < 4; p++) {
        gc(b, 4, (uint8_t)p);
        ck_assert_msg(rd8(b, 0xA0000 + ma) == want[p], "plane %d at %u: 0x%02x, want 0x%02x",
                      p, ma, rd8(b, 0xA0000 + ma), want[p]);
    }
}

START_TEST(planar_write_and_read_modes)
{
    struct bench *b = bench_new();
    set_mode(b, &mode12);
    const uint8_t init[4] = { 0x11, 0x22, 0x33, 0x44 };

    /* write mode 0, set/reset on planes 0-1 (values 1, 0), bit mask 0xF0 */
    fill_planes(b, 0, init);
    rd8(b, 0xA0000);                                /* latches = 11 22 33 44 */
    gc(b, 0, 0x05); gc(b, 1, 0x03); gc(b, 8, 0xF0);
    mem8(b, 0xA0000, 0xAA);
    check_planes(b, 0, 0xF1, 0x02, 0xA3, 0xA4);

    /* write mode 0, rotate right 4 with XOR */
    fill_planes(b, 1, init);
    rd8(b, 0xA0001);
    gc(b, 3, 0x1C);
    mem8(b, 0xA0001, 0x0F);                          /* rotated: 0xF0 */
    check_planes(b, 1, 0xE1, 0xD2, 0xC3, 0xB4);

    /* AND and OR with map mask 0b0101 */
    fill_planes(b, 2, init);
    rd8(b, 0xA0002);
    gc(b, 3, 0x08);
    seq(b, 2, 0x05);
    mem8(b, 0xA0002, 0x0F);                          /* AND */
    seq(b, 2, 0x0F);
    check_planes(b, 2, 0x01, 0x22, 0x03, 0x44);
    rd8(b, 0xA0002);
    gc(b, 3, 0x10);
    mem8(b, 0xA0002, 0x80);                          /* OR, all planes */
    check_planes(b, 2, 0x81, 0xA2, 0x83, 0xC4);

    /* write mode 1: latches copied */
    fill_planes(b, 3, init);
    rd8(b, 0xA0003);
    gc(b, 5, 0x01);
    mem8(b, 0xA0004, 0x00);
    check_planes(b, 4, 0x11, 0x22, 0x33, 0x44);

    /* write mode 2: colour 5 under bit mask 0x0F */
    fill_planes(b, 5, init);
    rd8(b, 0xA0005);
    gc(b, 5, 0x02); gc(b, 8, 0x0F);
    mem8(b, 0xA0005, 0x05);
    check_planes(b, 5, 0x1F, 0x20, 0x3F, 0x40);

    /* write mode 3: set/reset 0x0C, value 0x3C ANDs the bit mask 0xFF */
    fill_planes(b, 6, init);
    rd8(b, 0xA0006);
    gc(b, 5, 0x03); gc(b, 0, 0x0C); gc(b, 8, 0xFF);
    mem8(b, 0xA0006, 0x3C);
    check_planes(b, 6, 0x01, 0x02, 0x3F, 0x7C);

    /* read mode 1: pixels of colour 5 (planes 0 and 2 set, 1 and 3 clear) */
    const uint8_t mix[4] = { 0xF0, 0x30, 0xCC, 0x01 };
    fill_planes(b, 7, mix);
    gc(b, 5, 0x08); gc(b, 2, 0x05); gc(b, 7, 0x0F);
    /* colour of pixel i = bit i of each plane; colour 5 where p0 & ~p1 & p2 & ~p3 */
    ck_assert_uint_eq(rd8(b, 0xA0007), 0xF0 & ~0x30 & 0xCC & ~0x01 & 0xFF);
    gc(b, 7, 0x05);                                  /* don't care about planes 1, 3 */
    ck_assert_uint_eq(rd8(b, 0xA0007), 0xF0 & 0xCC);
    gc(b, 7, 0x00);
    ck_assert_uint_eq(rd8(b, 0xA0007), 0xFF);

    /* the picture: mode 12h is 640x480, pixel 0 of address 7 has colour
     * bits p0=1 p1=0 p2=1 p3=0 -> 5 -> AR5 = 5 -> DAC 5 */
    gc(b, 5, 0x00);
    load_ega_palette(b);
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_uint_eq(px[7 * 8 + 0], rgb6(0x2a, 0, 0x2a));
    /* pixel 7 of address 7: p0=0 p1=0 p2=0 p3=1 -> 8 -> AR8 = 0x38 */
    ck_assert_uint_eq(px[7 * 8 + 7], rgb6(0x15, 0x15, 0x15));
    /* colour plane enable masks plane 3 */
    attr(b, 0x12, 0x07);
    out8(b, 0x3C0, 0x20);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[7 * 8 + 7], 0);
    bench_free(b);
}
END_TEST

static const struct mode_regs mode4 = {
    0x63, { 0x09, 0x03, 0x00, 0x02 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
      0x16, 0x17, 0x01, 0x00, 0x03, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x0f, 0xff },
};

static const struct mode_regs mode0d = {
    0x63, { 0x09, 0x0f, 0x00, 0x06 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xe3, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
      0x16, 0x17, 0x01, 0x00, 0x0f, 0x00 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
};

static uint32_t ega(unsigned i)
{
    return rgb6(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15,
                ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15,
                (i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
}

START_TEST(cga_mode4_and_mode0d)
{
    struct bench *b = bench_new();
    set_mode(b, &mode4);
    load_ega_palette(b);
    /* CGA layout: even rows at B8000, odd rows at BA000, 80 bytes a row,
     * four 2-bit pixels a byte, leftmost in bits 7-6 */
    mem8(b, 0xB8000, 0xE4);                          /* pixels 3 2 1 0 */
    mem8(b, 0xB8001, 0x40);                          /* pixel 4 = 1 */
    mem8(b, 0xBA000 + 1, 0x03);                      /* row 1, pixel 7 = 3 */
    mem8(b, 0xB8000 + 80 + 2, 0x80);                 /* row 2, pixel 8 = 2 */
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(px[0], ega(0x17));
    ck_assert_uint_eq(px[1], ega(0x15));
    ck_assert_uint_eq(px[2], ega(0x13));
    ck_assert_uint_eq(px[3], ega(0x00));
    ck_assert_uint_eq(px[4], ega(0x13));
    ck_assert_uint_eq(px[1 * w + 7], ega(0x17));
    ck_assert_uint_eq(px[1 * w + 6], ega(0x00));
    ck_assert_uint_eq(px[2 * w + 8], ega(0x15));
    ck_assert_uint_eq(px[3 * w + 8], ega(0x00));

    /* mode 0Dh: 320x200 16 colours, dot clock / 2 and double scan */
    set_mode(b, &mode0d);
    load_ega_palette(b);
    gc(b, 5, 0x02);                                  /* write mode 2: colour */
    gc(b, 8, 0x80);
    rd8(b, 0xA0000 + 40 * 199 + 39);
    mem8(b, 0xA0000 + 40 * 199 + 39, 0x0E);          /* pixel (312, 199) */
    gc(b, 8, 0x01);
    rd8(b, 0xA0000 + 40 * 199 + 39);                 /* latch the first pixel */
    mem8(b, 0xA0000 + 40 * 199 + 39, 0x0E);          /* pixel (319, 199) */
    px = render(b, &w, &h);
    ck_assert_int_eq(w, 320);
    ck_assert_int_eq(h, 200);
    ck_assert_uint_eq(px[199 * w + 312], ega(0x16));  /* AR14 = 0x16 */
    ck_assert_uint_eq(px[199 * w + 319], ega(0x16));
    ck_assert_uint_eq(px[199 * w + 313], 0);
    ck_assert_uint_eq(px[198 * w + 312], 0);
    bench_free(b);
}
END_TEST

START_TEST(line_compare_split)
{
    struct bench *b = bench_new();
    set_mode(b, &mode12);
    load_ega_palette(b);
    gc(b, 5, 0x02);
    mem8(b, 0xA0000, 0x01);                          /* address 0: colour 1 */
    mem8(b, 0xA0000 + 0x100, 0x04);                  /* address 0x100: colour 4 */
    crtc(b, 0x0C, 0x01);                             /* start 0x100 */
    crtc(b, 0x0D, 0x00);
    crtc(b, 0x18, 99);                               /* split after line 99 */
    crtc(b, 0x07, 0x3E & ~0x10);
    crtc(b, 0x09, 0x00);
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_uint_eq(px[0], ega(0x04));
    ck_assert_uint_eq(px[99 * w], 0);
    ck_assert_uint_eq(px[100 * w], ega(0x01));
    ck_assert_uint_eq(px[101 * w], 0);
    bench_free(b);
}
END_TEST

START_TEST(vbe_lfb_and_bank)
{
    struct bench *b = bench_new();
    /* SeaVGABIOS's probe: ID0 reads back, ID5 selected */
    dispi(b, 0, 0xB0C0);
    ck_assert_uint_eq(dispi_get(b, 0), 0xB0C0);
    dispi(b, 0, 0x1234);
    ck_assert_uint_eq(dispi_get(b, 0), 0xB0C0);
    dispi(b, 0, 0xB0C5);
    ck_assert_uint_eq(dispi_get(b, 0), 0xB0C5);
    /* GETCAPS maxima */
    dispi(b, 4, 0x02);
    ck_assert_uint_eq(dispi_get(b, 1), 2560);
    ck_assert_uint_eq(dispi_get(b, 2), 1600);
    ck_assert_uint_eq(dispi_get(b, 3), 32);
    dispi(b, 4, 0x00);
    ck_assert_uint_eq(dispi_get(b, 0xA), 256);

    b->pci->bars[0].map(b->pci, 0, PCI_BAR_UNMAPPED, LFB_ADDR);
    b->pci->bars[0].addr = LFB_ADDR;
    phys_write(&b->m->mem, LFB_ADDR + 100, 0xAB, 1);       /* cleared on enable */
    dispi(b, 3, 32);
    dispi(b, 1, 800);
    dispi(b, 2, 600);
    dispi(b, 5, 0);
    dispi(b, 4, 0x41);
    ck_assert_uint_eq(dispi_get(b, 1), 800);
    ck_assert_uint_eq(dispi_get(b, 6), 800);
    ck_assert_uint_eq(dispi_get(b, 7), VRAM_SIZE / 3200);
    ck_assert_uint_eq(phys_read(&b->m->mem, LFB_ADDR + 100, 1), 0);
    /* the whole of vram is behind the BAR */
    phys_write(&b->m->mem, LFB_ADDR + VRAM_SIZE - 4, 0x12345678, 4);
    ck_assert_uint_eq(phys_read(&b->m->mem, LFB_ADDR + VRAM_SIZE - 4, 4), 0x12345678);

    phys_write(&b->m->mem, LFB_ADDR + (10 * 800 + 20) * 4, 0x00123456, 4);
    uint32_t off = (100 * 800 + 10) * 4;             /* 320040: bank 4, 57896 */
    dispi(b, 5, (uint16_t)(off >> 16));
    ck_assert_uint_eq(dispi_get(b, 5), 4);
    phys_write(&b->m->mem, 0xA0000 + (off & 0xFFFF), 0x00ABCDEF, 4);
    ck_assert_uint_eq(phys_read(&b->m->mem, LFB_ADDR + off, 4), 0x00ABCDEF);
    struct display_text t;
    ck_assert(!display_get_text(&b->m->display, &t));
    int w, h;
    const uint32_t *px = render(b, &w, &h);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(w, 800);
    ck_assert_int_eq(h, 600);
    ck_assert_uint_eq(px[10 * 800 + 20], 0x123456);
    ck_assert_uint_eq(px[100 * 800 + 10], 0xABCDEF);
    ck_assert_uint_eq(px[100 * 800 + 11], 0);
    /* display start: Y offset 10 moves line 10 to the top */
    dispi(b, 9, 10);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[0 * 800 + 20], 0x123456);
    dispi(b, 9, 0);

    /* 16 bpp 5:6:5 and 8 bpp through the DAC (also 8-bit DAC mode) */
    dispi(b, 4, 0x00);
    dispi(b, 3, 16);
    dispi(b, 1, 640);
    dispi(b, 2, 480);
    dispi(b, 4, 0xC1);                               /* enable, LFB, no clear */
    phys_write(&b->m->mem, LFB_ADDR + 2 * 3, 0xF800 | 0x07E0, 2);
    px = render(b, &w, &h);
    ck_assert_int_eq(w, 640);
    ck_assert_uint_eq(px[3], 0xFFFF00);
    dispi(b, 4, 0x00);
    dispi(b, 3, 24);
    dispi(b, 4, 0xC1);
    phys_write(&b->m->mem, LFB_ADDR + 3 * 2, 0x112233, 4);  /* B, G, R bytes */
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[2], 0x112233);
    dispi(b, 4, 0x00);
    dispi(b, 3, 15);
    dispi(b, 4, 0xC1);
    phys_write(&b->m->mem, LFB_ADDR, 0x7C00, 2);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[0], 0xFF0000);
    dispi(b, 4, 0x00);
    dispi(b, 3, 8);
    dispi(b, 4, 0xC1);
    out8(b, 0x3C8, 0x42);
    out8(b, 0x3C9, 0x3F); out8(b, 0x3C9, 0x00); out8(b, 0x3C9, 0x10);
    phys_write(&b->m->mem, LFB_ADDR + 5, 0x42, 1);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[5], rgb6(0x3F, 0, 0x10));
    dispi(b, 4, 0xE1);                               /* 8-bit DAC */
    out8(b, 0x3C8, 0x42);
    out8(b, 0x3C9, 0x80); out8(b, 0x3C9, 0x81); out8(b, 0x3C9, 0x82);
    px = render(b, &w, &h);
    ck_assert_uint_eq(px[5], 0x808182);

    /* moving the BAR moves the framebuffer */
    b->pci->bars[0].map(b->pci, 0, LFB_ADDR, 0xD0000000);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xD0000005, 1), 0x42);
    ck_assert_uint_eq(phys_read(&b->m->mem, LFB_ADDR + 5, 1), 0xFF);
    b->pci->bars[0].map(b->pci, 0, 0xD0000000, PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xD0000005, 1), 0xFF);

    /* disabling VBE goes back to the VGA registers (nothing programmed) */
    dispi(b, 4, 0x00);
    ck_assert_ptr_null(render(b, &w, &h));
    bench_free(b);
}
END_TEST

START_TEST(vbe_mmio_bar)
{
    struct bench *b = bench_new();
    b->pci->bars[2].map(b->pci, 2, PCI_BAR_UNMAPPED, 0xFEB00000);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xFEB00500, 2), 0xB0C5);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xFEB00600, 4), 8);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xFEB00604, 4), 0x1e1e1e1e);
    phys_write(&b->m->mem, 0xFEB00502, 1024, 2);     /* XRES */
    ck_assert_uint_eq(dispi_get(b, 1), 1024);
    phys_write(&b->m->mem, 0xFEB00402, 0x67, 1);     /* misc output via 0x3C2 */
    ck_assert_uint_eq(in8(b, 0x3CC), 0x67);
    ck_assert_uint_eq(phys_read(&b->m->mem, 0xFEB0040C, 1), 0x67);
    bench_free(b);
}
END_TEST

START_TEST(vbe_hostile_values)
{
    struct bench *b = bench_new();
    b->pci->bars[0].map(b->pci, 0, PCI_BAR_UNMAPPED, LFB_ADDR);
    dispi(b, 1, 65535);
    dispi(b, 2, 65535);
    dispi(b, 3, 0);
    dispi(b, 4, 0x01);
    ck_assert_uint_eq(dispi_get(b, 3), 8);
    ck_assert_uint_eq(dispi_get(b, 1), 2560);
    ck_assert_uint_eq(dispi_get(b, 2), 1600);
    dispi(b, 8, 65535);
    dispi(b, 9, 65535);
    ck_assert_uint_eq(dispi_get(b, 9), 0);           /* would run past vram */
    dispi(b, 6, 65535);
    dispi(b, 3, 32);
    dispi(b, 1, 2560);
    dispi(b, 2, 65535);
    uint32_t line = dispi_get(b, 6) * 4u;
    ck_assert_uint_le((uint32_t)dispi_get(b, 2) * line, VRAM_SIZE);
    dispi(b, 5, 65535);                              /* bank beyond vram */
    ck_assert_uint_lt(dispi_get(b, 5), VRAM_SIZE >> 16);
    for (uint32_t a = 0; a < 0x20000; a += 0x1001)
        phys_write(&b->m->mem, 0xA0000 + a, 0xFFFFFFFF, 4);
    int w, h;
    ck_assert_ptr_nonnull(render(b, &w, &h));
    ck_assert_int_le(w, 2560);
    /* 4 bpp planar VBE with the biggest bank */
    dispi(b, 4, 0);
    dispi(b, 3, 4);
    dispi(b, 1, 2560);
    dispi(b, 2, 1600);
    dispi(b, 4, 0x01);
    dispi(b, 5, 255);
    seq(b, 2, 0x0F);
    gc(b, 8, 0xFF);
    for (uint32_t a = 0; a < 0x10000; a += 0x777)
        mem8(b, 0xA0000 + a, 0x5A);
    rd8(b, 0xA0000 + 0xFFFF);
    ck_assert_ptr_nonnull(render(b, &w, &h));
    for (uint32_t x = 0; x <= 0xFFFF; x += 4099) {
        dispi(b, 8, (uint16_t)x);
        dispi(b, 9, (uint16_t)(x * 7));
        render(b, &w, &h);
    }
    bench_free(b);
}
END_TEST

/* Random register and memory traffic: whatever the guest does, the device
 * stays inside its memory (run under ASan by the lead). */
START_TEST(vga_register_fuzz)
{
    struct bench *b = bench_new();
    b->pci->bars[0].map(b->pci, 0, PCI_BAR_UNMAPPED, LFB_ADDR);
    uint32_t s = 12345;
    struct display_text t;
    for (int i = 0; i < 20000; i++) {
        s = s * 1103515245u + 12345u;
        uint32_t r = s >> 8;
        switch (r % 8) {
        case 0: seq(b, (uint8_t)(r >> 4), (uint8_t)(r >> 12)); break;
        case 1: gc(b, (uint8_t)(r >> 4), (uint8_t)(r >> 12)); break;
        case 2: crtc(b, (uint8_t)((r >> 4) % 26), (uint8_t)(r >> 12)); break;
        case 3: attr(b, (uint8_t)((r >> 4) & 0x1F), (uint8_t)(r >> 12)); break;
        case 4: out8(b, (uint16_t)(0x3B0 + (r >> 4) % 0x30), (uint8_t)(r >> 12)); break;
        case 5: mem8(b, 0xA0000 + ((r >> 4) & 0x1FFFF), (uint8_t)r); break;
        case 6: rd8(b, 0xA0000 + ((r >> 4) & 0x1FFFF)); break;
        default:
            if ((r >> 4) % 16 == 0)
                dispi(b, (uint16_t)((r >> 8) % 12), (uint16_t)(r >> 12));
            break;
        }
        if (i % 500 == 0) {
            out8(b, 0x3C2, 0x67);
            out8(b, 0x3C0, 0x20);
            int w, h;
            render(b, &w, &h);
            display_get_text(&b->m->display, &t);
        }
    }
    bench_free(b);
}
END_TEST

/* ---- change tracking: render only what changed, report the rows -------- */

static bool frame(struct bench *b, struct display_frame *f)
{
    return display_render_frame(&b->m->display, f);
}

static int rows_reported(const struct display_frame *f)
{
    int n = 0;
    for (int y = 0; y < f->height; y++)
        n += display_row_changed(f, y);
    return n;
}

static void check_nothing_reported(const struct display_frame *f)
{
    ck_assert_int_eq(rows_reported(f), 0);
    ck_assert_int_eq(f->changed_first, f->changed_end);
}

/* Exactly rows [first, end) reported. */
static void check_rows_reported(const struct display_frame *f, int first, int end)
{
    for (int y = 0; y < f->height; y++)
        ck_assert_msg(display_row_changed(f, y) == (y >= first && y < end),
                      "row %d reported %d, want rows %d-%d", y, display_row_changed(f, y),
                      first, end - 1);
    ck_assert_int_eq(f->changed_first, first);
    ck_assert_int_eq(f->changed_end, end);
}

static void vbe_mode(struct bench *b, uint16_t w, uint16_t h, uint16_t bpp)
{
    if (b->pci->bars[0].addr != LFB_ADDR) {
        b->pci->bars[0].map(b->pci, 0, PCI_BAR_UNMAPPED, LFB_ADDR);
        b->pci->bars[0].addr = LFB_ADDR;
    }
    dispi(b, 4, 0x00);
    dispi(b, 3, bpp);
    dispi(b, 1, w);
    dispi(b, 2, h);
    dispi(b, 4, 0x41);
}

START_TEST(dirty_vbe_one_pixel_one_row)
{
    struct bench *b = bench_new();
    vbe_mode(b, 1024, 768, 32);                 /* a line is one 4 KiB page */
    struct display_frame f;
    ck_assert(frame(b, &f));
    ck_assert_int_eq(f.width, 1024);
    ck_assert_int_eq(f.height, 768);
    check_rows_reported(&f, 0, 768);            /* the first frame: everything */
    uint32_t *before = malloc(1024 * 768 * 4);
    memcpy(before, f.pixels, 1024 * 768 * 4);
    /* no writes: nothing reported, the same pixels */
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    ck_assert_int_eq(memcmp(before, f.pixels, 1024 * 768 * 4), 0);
    /* one pixel through the LFB */
    phys_write(&b->m->mem, LFB_ADDR + (300 * 1024 + 17) * 4, 0x00C0FFEE, 4);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 300, 301);
    ck_assert_uint_eq(f.pixels[300 * 1024 + 17], 0xC0FFEE);
    before[300 * 1024 + 17] = 0xC0FFEE;
    ck_assert_int_eq(memcmp(before, f.pixels, 1024 * 768 * 4), 0);
    /* bulk (DMA-like) writes over two lines */
    uint32_t two[2] = { 0x111111, 0x222222 };
    phys_load(&b->m->mem, LFB_ADDR + 500 * 4096 - 4, two, sizeof two);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 499, 501);
    ck_assert_uint_eq(f.pixels[499 * 1024 + 1023], 0x111111);
    ck_assert_uint_eq(f.pixels[500 * 1024], 0x222222);
    /* banked writes through the 0xA0000 window: bank 2 is lines 32-47 */
    dispi(b, 5, 2);
    mem8(b, 0xA0000 + 5 * 4096 + 8, 0x77);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 37, 38);
    ck_assert_uint_eq(f.pixels[37 * 1024 + 2], 0x770000 >> 16);
    /* display start moves: every row */
    dispi(b, 9, 1);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 768);
    ck_assert_uint_eq(f.pixels[299 * 1024 + 17], 0xC0FFEE);
    /* a frontend asks for everything (window exposed) */
    display_invalidate(&b->m->display);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 768);
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    free(before);
    bench_free(b);
}
END_TEST

START_TEST(dirty_mode13_window_rows)
{
    struct bench *b = bench_new();
    set_mode(b, &mode13);
    load_ega_palette(b);
    struct display_frame f;
    ck_assert(frame(b, &f));
    ck_assert_int_eq(f.width, 320);
    ck_assert_int_eq(f.height, 200);
    check_rows_reported(&f, 0, 200);
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    /* pixel (7, 100): window byte 32007, in vram page 31 (window bytes
     * 31744-32767: the rows that read any of it are 99-102) */
    mem8(b, 0xA0000 + 100 * 320 + 7, 4);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 99, 103);
    ck_assert_uint_eq(f.pixels[100 * 320 + 7], rgb6(0x2a, 0, 0));
    ck_assert_uint_eq(f.pixels[100 * 320 + 6], 0);
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    /* a write that does not change the picture still only redraws its rows */
    mem8(b, 0xA0000 + 3, 0);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 4);
    /* drawing registers (map mask, bit mask) do not change the picture */
    seq(b, 2, 0x0F);
    gc(b, 8, 0xFF);
    gc(b, 5, 0x40);
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    /* a palette change redraws everything */
    out8(b, 0x3C8, 4);
    out8(b, 0x3C9, 0x3F); out8(b, 0x3C9, 0x3F); out8(b, 0x3C9, 0x00);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 200);
    ck_assert_uint_eq(f.pixels[100 * 320 + 7], rgb6(0x3F, 0x3F, 0));
    /* so does the pel mask */
    out8(b, 0x3C6, 0x0F);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 200);
    bench_free(b);
}
END_TEST

START_TEST(dirty_text_cursor_rows)
{
    struct bench *b = bench_new();
    set_mode(b, &mode3);
    load_ega_palette(b);
    struct display_frame f;
    ck_assert(frame(b, &f));
    ck_assert_int_eq(f.height, 400);
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    /* a character at text row 5: cell i is vram bytes 8i-8i+3, so a vram
     * page holds cells 0-511: text rows 0-6 read it, their 112 lines */
    mem8(b, 0xB8000 + (5 * 80 + 3) * 2, 'A');
    mem8(b, 0xB8000 + (5 * 80 + 3) * 2 + 1, 0x07);
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 0, 7 * 16);
    /* cells 1024-1535 (text rows 12-19): page 2 */
    mem8(b, 0xB8000 + 1100 * 2, 'B');
    ck_assert(frame(b, &f));
    check_rows_reported(&f, 12 * 16, 20 * 16);
    /* the cursor moves from row 0 to row 20: those two text rows */
    crtc(b, 0x0E, 0x00);
    crtc(b, 0x0F, (uint8_t)(20 * 80));
    crtc(b, 0x0E, (uint8_t)((20 * 80) >> 8));
    ck_assert(frame(b, &f));
    ck_assert(frame(b, &f));
    check_nothing_reported(&f);
    crtc(b, 0x0F, (uint8_t)(21 * 80));
    crtc(b, 0x0E, (uint8_t)((21 * 80) >> 8));
    ck_assert(frame(b, &f));
    for (int y = 0; y < 400; y++)
        ck_assert_int_eq(display_row_changed(&f, y), y / 16 == 20 || y / 16 == 21);
    bench_free(b);
}
END_TEST

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* Random writes and register changes; after each few, the incremental
 * picture must equal a full redraw, and rows not reported must be the
 * same as in the previous frame. */
static void random_equivalence(struct bench *b, int kind)
{
    struct display_frame f;
    ck_assert(frame(b, &f));
    size_t n = (size_t)f.width * (size_t)f.height;
    uint32_t *prev = malloc(n * 4), *inc = malloc(n * 4);
    memcpy(prev, f.pixels, n * 4);
    for (int round = 0; round < 60; round++) {
        int writes = (int)rnd(20);
        for (int i = 0; i < writes; i++) {
            switch (kind) {
            case 0:                                     /* VBE 8 bpp: LFB, or the window */
                if (rnd(4))
                    phys_write(&b->m->mem, LFB_ADDR + rnd(640 * 480), rnd(256), 1);
                else
                    mem8(b, 0xA0000 + rnd(0x10000), (uint8_t)rnd(256));
                break;
            case 1:                                     /* mode 13h */
                mem8(b, 0xA0000 + rnd(64000), (uint8_t)rnd(256));
                break;
            case 2:                                     /* mode 12h, map mask and write modes */
                seq(b, 2, (uint8_t)rnd(16));
                gc(b, 5, (uint8_t)rnd(4));
                gc(b, 8, (uint8_t)rnd(256));
                mem8(b, 0xA0000 + rnd(38400), (uint8_t)rnd(256));
                break;
            default:                                    /* text */
                mem8(b, 0xB8000 + rnd(4000), (uint8_t)rnd(256));
                break;
            }
        }
        if (rnd(8) == 0) {                              /* a palette entry */
            out8(b, 0x3C8, (uint8_t)rnd(256));
            for (int c = 0; c < 3; c++)
                out8(b, 0x3C9, (uint8_t)rnd(64));
        }
        if (kind == 3 && rnd(4) == 0) {                 /* the cursor */
            uint32_t at = rnd(2000);
            crtc(b, 0x0E, (uint8_t)(at >> 8));
            crtc(b, 0x0F, (uint8_t)at);
        }
        if (kind == 3 && rnd(6) == 0)                   /* a glyph line, plane 2, via the LFB */
            phys_write(&b->m->mem, LFB_ADDR + rnd(0x2000) * 4 + 2, rnd(256), 1);
        if (kind == 0 && rnd(10) == 0)
            dispi(b, 5, (uint16_t)rnd(5));
        ck_assert(frame(b, &f));
        ck_assert_uint_eq((size_t)f.width * (size_t)f.height, n);
        for (int y = 0; y < f.height; y++)
            if (!display_row_changed(&f, y))
                ck_assert_msg(memcmp(prev + (size_t)y * f.width, f.pixels + (size_t)y * f.width,
                                     (size_t)f.width * 4) == 0,
                              "kind %d round %d: row %d changed but not reported", kind, round, y);
        memcpy(inc, f.pixels, n * 4);
        display_invalidate(&b->m->display);
        ck_assert(frame(b, &f));
        ck_assert_msg(memcmp(inc, f.pixels, n * 4) == 0,
                      "kind %d round %d: incremental picture differs from a full redraw",
                      kind, round);
        memcpy(prev, f.pixels, n * 4);
    }
    free(prev);
    free(inc);
}

START_TEST(dirty_random_writes_match_full_redraw)
{
    struct bench *b = bench_new();
    vbe_mode(b, 640, 480, 8);
    random_equivalence(b, 0);
    dispi(b, 4, 0x00);
    set_mode(b, &mode13);
    random_equivalence(b, 1);
    set_mode(b, &mode12);
    load_ega_palette(b);
    random_equivalence(b, 2);
    set_mode(b, &mode3);
    load_ega_palette(b);
    random_equivalence(b, 3);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vga");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pci_identity_and_reset_state);
    tcase_add_test(tc, registers);
    tcase_add_test(tc, retrace_follows_virtual_time);
    tcase_add_test(tc, text_mode_get_text);
    tcase_add_test(tc, text_mode_render);
    tcase_add_test(tc, text_modes_40x25_and_80x50);
    tcase_add_test(tc, mode13_chain4);
    tcase_add_test(tc, planar_write_and_read_modes);
    tcase_add_test(tc, cga_mode4_and_mode0d);
    tcase_add_test(tc, line_compare_split);
    tcase_add_test(tc, vbe_lfb_and_bank);
    tcase_add_test(tc, vbe_mmio_bar);
    tcase_add_test(tc, vbe_hostile_values);
    tcase_add_test(tc, vga_register_fuzz);
    tcase_add_test(tc, dirty_vbe_one_pixel_one_row);
    tcase_add_test(tc, dirty_mode13_window_rows);
    tcase_add_test(tc, dirty_text_cursor_rows);
    tcase_add_test(tc, dirty_random_writes_match_full_redraw);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
