/* tests/baremetal/vga_modes.c: a kernel for tests/vga/test_vga_modes.py,
 * not a self-checking test. It programs the VGA itself (fox86 boots a
 * -kernel with no BIOS: every register, the DAC and the text font are
 * at reset values) and shows six known pictures in turn:
 *   text   720x400  mode 03h registers, its own font in plane 2, every
 *                   character and every attribute, blink and cursor off
 *   m12h   640x480  16-colour planar: write mode 2; write mode 0 with
 *                   set/reset and bit mask over loaded latches; write mode
 *                   0 plane by plane through the map mask; rotate with XOR
 *                   and partial set/reset; write mode 3; write mode 1
 *   m13h   320x200  256-colour chain-4, a DAC ramp
 *   modex  320x240  unchained 256-colour (mode 13h with Abrash's changes),
 *                   each plane written through the map mask
 *   vbe8   640x480  Bochs VBE 8 bpp through the LFB, 8-bit DAC
 *   vbe32 1024x768  Bochs VBE 32 bpp through the LFB
 * Each stage, once drawn, says "stage NAME WxH" on port 0xE9 and waits for
 * a make code from the i8042 (polled, interrupts off); after the last the
 * kernel exits with status 33. The pattern and palette formulas here are
 * repeated in test_vga_modes.py, which computes the expected images: keep
 * the two in step.
 *
 * DAC values (6-bit) come from SIX_LEVELS, where fox86's 6-to-8-bit
 * scaling (v << 2 | v >> 4) and QEMU's (v << 2 | (v & 1) * 3) agree, so the
 * same pictures are exact on both.
 * The LFB (BAR 0 of the stdvga at 00:02.0) is put at VBE_LFB_ADDR here: no
 * firmware may have assigned it.
 *
 * Run: fox86 -kernel vga_modes.elf -display none -monitor unix:S,server,nowait
 *      -debugcon file:T -device isa-debug-exit,iobase=0xf4,iosize=0x04
 */
#include "runtime.h"

#define I8042_STATUS_OBF 0x01
#define VGA_PCI_DEV      2
#define VBE_LFB_ADDR     0xE0000000u
#define VBE_INDEX        0x1CE
#define VBE_DATA         0x1CF
#define VBE_ENABLED      0x01
#define VBE_8BIT_DAC     0x20
#define VBE_LFB          0x40

#define VGA_WINDOW       ((volatile uint8_t *)0xA0000)
#define VGA_TEXT         ((volatile uint8_t *)0xB8000)


/* 6-bit DAC levels whose 8-bit scalings agree between fox86 and QEMU */
static const uint8_t SIX_LEVELS[16] = { 0, 2, 4, 6, 8, 10, 12, 14, 49, 51, 53, 55, 57, 59, 61, 63 };

/* the EGA attribute palette of modes 03h and 12h, and the DAC colours the
 * text and 16-colour stages put at those DAC indices */
static const uint8_t EGA_AR[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                    0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F };

struct vga_mode {
    uint8_t misc;
    uint8_t sr[5];
    uint8_t cr[25];
    uint8_t gr[9];
    uint8_t ar[21];
};

static const struct vga_mode MODE_03 = {
    0x67,
    { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x20, 0x0E, 0x00, 0x00,
      0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF },   /* CR0A: cursor off */
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D,
      0x3E, 0x3F, 0x04, 0x00, 0x0F, 0x08, 0x00 },                          /* AR10: no blink */
};

static const struct vga_mode MODE_12 = {
    0xE3,
    { 0x03, 0x01, 0x0F, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xEA, 0x0C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D,
      0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00 },
};

static const struct vga_mode MODE_13 = {
    0x63,
    { 0x03, 0x01, 0x0F, 0x00, 0x0E },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
      0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00 },
};

/* Mode X: 13h unchained (SR4 chain-4 off, CR14 dword off, CR17 byte
 * mode) with the 480-line timing of 12h, scanned twice (CR09 = 0x41). */
static const struct vga_mode MODE_X = {
    0xE3,
    { 0x03, 0x01, 0x0F, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0D, 0x3E, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xEA, 0x2C, 0xDF, 0x28, 0x00, 0xE7, 0x06, 0xE3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
      0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00 },
};

static void seq_write(uint8_t i, uint8_t v) { outb(0x3C4, i); outb(0x3C5, v); }
static void gr_write(uint8_t i, uint8_t v) { outb(0x3CE, i); outb(0x3CF, v); }
static void cr_write(uint8_t i, uint8_t v) { outb(0x3D4, i); outb(0x3D5, v); }

static void vbe_write(uint16_t index, uint16_t v)
{
    outw(VBE_INDEX, index);
    outw(VBE_DATA, v);
}

/* Every register of a mode, in the order a BIOS uses: sequencer held in
 * reset around the clock change, CRTC unlocked (CR11 bit 7) first,
 * the attribute controller's flip-flop reset, the display left on. */
static void set_mode(const struct vga_mode *m)
{
    vbe_write(4, 0);
    seq_write(0, 0x01);
    outb(0x3C2, m->misc);
    for (uint8_t i = 1; i < 5; i++)
        seq_write(i, m->sr[i]);
    seq_write(0, m->sr[0]);
    cr_write(0x11, m->cr[0x11] & 0x7F);
    for (uint8_t i = 0; i < 25; i++)
        cr_write(i, i == 0x11 ? m->cr[i] & 0x7F : m->cr[i]);
    for (uint8_t i = 0; i < 9; i++)
        gr_write(i, m->gr[i]);
    (void)inb(0x3DA);
    for (uint8_t i = 0; i < 21; i++) {
        outb(0x3C0, i);
        outb(0x3C0, m->ar[i]);
    }
    outb(0x3C0, 0x20);
}

/* The DAC: entry i = rgb(i), 6-bit values (or 8-bit with the VBE flag). */
static void set_dac(void (*rgb)(unsigned i, uint8_t out[3]))
{
    outb(0x3C6, 0xFF);
    outb(0x3C8, 0);
    for (unsigned i = 0; i < 256; i++) {
        uint8_t c[3];
        rgb(i, c);
        outb(0x3C9, c[0]);
        outb(0x3C9, c[1]);
        outb(0x3C9, c[2]);
    }
}

/* ---- the patterns (test_vga_modes.py repeats every formula) ---- */

static void dac_ega(unsigned i, uint8_t c[3])
{
    /* attribute value n's DAC index EGA_AR[n] gets colour n; the rest black */
    c[0] = c[1] = c[2] = 0;
    for (unsigned n = 0; n < 16; n++)
        if (EGA_AR[n] == i) {
            c[0] = SIX_LEVELS[(n * 5 + 1) & 15];
            c[1] = SIX_LEVELS[(n * 3 + 7) & 15];
            c[2] = SIX_LEVELS[15 - n];
        }
}

static void dac_ramp13(unsigned i, uint8_t c[3])
{
    c[0] = SIX_LEVELS[i & 15];
    c[1] = SIX_LEVELS[i >> 4];
    c[2] = SIX_LEVELS[(i * 7) & 15];
}

static void dac_ramp_x(unsigned i, uint8_t c[3])
{
    c[0] = SIX_LEVELS[i >> 4];
    c[1] = SIX_LEVELS[(i + 3) & 15];
    c[2] = SIX_LEVELS[((i >> 2) + 5) & 15];
}

static void dac_vbe8(unsigned i, uint8_t c[3])
{
    c[0] = (uint8_t)i;
    c[1] = (uint8_t)(255 - i);
    c[2] = (uint8_t)(i * 5);
}

/* Glyph row r of character ch. B0-BF keep column 8 clear: QEMU repeats it
 * into column 9 for B0-DF, the VGA (and fox86) for C0-DF only. */
static uint8_t glyph_row(unsigned ch, unsigned r)
{
    uint8_t g = (uint8_t)(ch * 167 + r * 73 + (ch >> 3) * r * 5);
    if (ch >= 0xB0 && ch <= 0xBF)
        g &= 0xFE;
    return g;
}

static uint8_t m12_band1(unsigned xb, unsigned y) { return (uint8_t)((xb + (y >> 3)) & 15); }
static uint8_t m12_c0(unsigned y) { return (uint8_t)((y >> 2) & 15); }
static uint8_t m12_c1(unsigned xb, unsigned y) { return (uint8_t)((xb * 5 + y) & 15); }
static uint8_t m12_mask(unsigned xb, unsigned y) { return (uint8_t)((xb * 13) ^ (y * 7)); }
static uint8_t m12_plane(unsigned p, unsigned xb, unsigned y)
{
    return (uint8_t)(xb * (p + 1) * 17 + y * (2 * p + 3));
}
static uint8_t m12_under_xor(unsigned xb, unsigned y) { return (uint8_t)((xb * 3 + y) & 15); }
static uint8_t m12_xor_data(unsigned xb, unsigned y) { return (uint8_t)(xb * 29 + y * 11); }
static uint8_t m12_under_wm3(unsigned xb, unsigned y) { return (uint8_t)((xb + y * 5) & 15); }
static uint8_t m12_wm3_colour(unsigned xb, unsigned y) { return (uint8_t)((xb * 7 + y) & 15); }
static uint8_t m12_wm3_mask(unsigned y) { return (uint8_t)(y * 23); }
static uint8_t m12_wm3_data(unsigned xb, unsigned y) { return (uint8_t)(xb * 53 + y); }

/* ---- the stages ---- */

static void wait_key(const char *name, int w, int h)
{
    while (inb(0x64) & I8042_STATUS_OBF)      /* what came before */
        (void)inb(0x60);
    printf_e9("stage %s %dx%d\n", name, w, h);
    for (;;) {
        if (!(inb(0x64) & I8042_STATUS_OBF)) {
            asm volatile("pause");
            continue;
        }
        if (!(inb(0x60) & 0x80))              /* a make code */
            return;
    }
}

static void stage_text(void)
{
    set_mode(&MODE_03);
    set_dac(dac_ega);
    /* font: plane 2 alone, sequential addressing, at A0000 */
    seq_write(2, 0x04);
    seq_write(4, 0x06);
    gr_write(4, 0x02);
    gr_write(5, 0x00);
    gr_write(6, 0x04);
    for (unsigned ch = 0; ch < 256; ch++)
        for (unsigned r = 0; r < 32; r++)
            VGA_WINDOW[ch * 32 + r] = r < 16 ? glyph_row(ch, r) : 0;
    seq_write(2, MODE_03.sr[2]);
    seq_write(4, MODE_03.sr[4]);
    gr_write(4, MODE_03.gr[4]);
    gr_write(5, MODE_03.gr[5]);
    gr_write(6, MODE_03.gr[6]);
    for (unsigned i = 0; i < 80 * 25; i++) {
        VGA_TEXT[2 * i] = (uint8_t)i;
        VGA_TEXT[2 * i + 1] = (uint8_t)(i * 37);
    }
    wait_key("text", 720, 400);
}

static void stage_m12(void)
{
    volatile uint8_t *mem = VGA_WINDOW;
    set_mode(&MODE_12);
    set_dac(dac_ega);
    for (unsigned a = 0; a < 0x10000; a++)     /* write mode 0, all planes */
        mem[a] = 0;
    /* rows 0-159: write mode 2, one colour per byte */
    gr_write(5, 0x02);
    for (unsigned y = 0; y < 160; y++)
        for (unsigned xb = 0; xb < 80; xb++)
            mem[y * 80 + xb] = m12_band1(xb, y);
    /* rows 160-319: write mode 0 from set/reset; c0 everywhere, then c1
     * through the bit mask, the other bits kept from the latches */
    gr_write(5, 0x00);
    gr_write(1, 0x0F);
    for (unsigned y = 160; y < 320; y++)
        for (unsigned xb = 0; xb < 80; xb++) {
            volatile uint8_t *p = &mem[y * 80 + xb];
            gr_write(0, m12_c0(y));
            gr_write(8, 0xFF);
            *p = 0;
            gr_write(0, m12_c1(xb, y));
            gr_write(8, m12_mask(xb, y));
            uint8_t latch = *p;
            *p = latch;
        }
    gr_write(1, 0x00);
    gr_write(0, 0x00);
    gr_write(8, 0xFF);
    /* rows 320-399: CPU data, one plane at a time through the map mask */
    for (unsigned p = 0; p < 4; p++) {
        seq_write(2, (uint8_t)(1u << p));
        for (unsigned y = 320; y < 400; y++)
            for (unsigned xb = 0; xb < 80; xb++)
                mem[y * 80 + xb] = m12_plane(p, xb, y);
    }
    seq_write(2, 0x0F);
    /* rows 400-479 start as write mode 2 colours */
    gr_write(5, 0x02);
    for (unsigned y = 400; y < 480; y++)
        for (unsigned xb = 0; xb < 80; xb++)
            mem[y * 80 + xb] = y < 440 ? m12_under_xor(xb, y) : m12_under_wm3(xb, y);
    /* rows 400-439: write mode 0, data rotated right by 3, planes 0 and 2
     * from set/reset (y & 15), XORed with the latches */
    gr_write(5, 0x00);
    gr_write(3, 0x18 | 3);
    gr_write(1, 0x05);
    for (unsigned y = 400; y < 440; y++) {
        gr_write(0, (uint8_t)(y & 15));
        for (unsigned xb = 0; xb < 80; xb++) {
            volatile uint8_t *p = &mem[y * 80 + xb];
            (void)*p;
            *p = m12_xor_data(xb, y);
        }
    }
    gr_write(1, 0x00);
    /* rows 440-459: write mode 3, data rotated right by 5 ANDed with the
     * bit mask selects the set/reset colour over the latches */
    gr_write(5, 0x03);
    gr_write(3, 5);
    for (unsigned y = 440; y < 460; y++) {
        gr_write(8, m12_wm3_mask(y));
        for (unsigned xb = 0; xb < 80; xb++) {
            volatile uint8_t *p = &mem[y * 80 + xb];
            gr_write(0, m12_wm3_colour(xb, y));
            (void)*p;
            *p = m12_wm3_data(xb, y);
        }
    }
    /* rows 460-479: write mode 1, the latches of rows 0-19 copied */
    gr_write(5, 0x01);
    gr_write(3, 0x00);
    gr_write(8, 0xFF);
    gr_write(0, 0x00);
    for (unsigned y = 460; y < 480; y++)
        for (unsigned xb = 0; xb < 80; xb++) {
            (void)mem[(y - 460) * 80 + xb];
            mem[y * 80 + xb] = 0;
        }
    gr_write(5, 0x00);
    wait_key("m12h", 640, 480);
}

static void stage_m13(void)
{
    set_mode(&MODE_13);
    set_dac(dac_ramp13);
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++)
            VGA_WINDOW[y * 320 + x] = (uint8_t)(x + y * 3);
    wait_key("m13h", 320, 200);
}

static void stage_modex(void)
{
    volatile uint8_t *mem = VGA_WINDOW;
    set_mode(&MODE_X);
    set_dac(dac_ramp_x);
    seq_write(2, 0x0F);
    for (unsigned a = 0; a < 0x10000; a++)
        mem[a] = 0;
    for (unsigned p = 0; p < 4; p++) {
        seq_write(2, (uint8_t)(1u << p));
        for (unsigned y = 0; y < 240; y++)
            for (unsigned i = 0; i < 80; i++) {
                unsigned x = 4 * i + p;
                mem[y * 80 + i] = (uint8_t)(x ^ (y * 3));
            }
    }
    seq_write(2, 0x0F);
    wait_key("modex", 320, 240);
}


static void vbe_mode(uint16_t w, uint16_t h, uint16_t bpp, uint16_t flags)
{
    vbe_write(4, 0);
    vbe_write(1, w);
    vbe_write(2, h);
    vbe_write(3, bpp);
    vbe_write(4, VBE_ENABLED | VBE_LFB | flags);
}

static void stage_vbe8(void)
{
    vbe_mode(640, 480, 8, VBE_8BIT_DAC);
    set_dac(dac_vbe8);
    volatile uint8_t *fb = (volatile uint8_t *)VBE_LFB_ADDR;
    for (uint32_t y = 0; y < 480; y++)
        for (uint32_t x = 0; x < 640; x++)
            fb[y * 640 + x] = (uint8_t)((x >> 1) ^ y);
    wait_key("vbe8", 640, 480);
}

static void stage_vbe32(void)
{
    vbe_mode(1024, 768, 32, 0);
    volatile uint32_t *fb = (volatile uint32_t *)VBE_LFB_ADDR;
    for (uint32_t y = 0; y < 768; y++)
        for (uint32_t x = 0; x < 1024; x++)
            fb[y * 1024 + x] = (x & 0xFF) << 16 | (y & 0xFF) << 8 | ((x >> 8) | (y >> 8) << 2) << 4 |
                               ((x ^ y) & 0x0F);
    wait_key("vbe32", 1024, 768);
}

void test_main(void)
{
    if (pci_read(VGA_PCI_DEV, 0) != 0x11111234u) {
        puts_e9("no stdvga at 00:02.0\n");
        exit_with(TEST_FAIL_CODE);
    }
    pci_write(VGA_PCI_DEV, 0x10, VBE_LFB_ADDR);                     /* BAR 0 */
    pci_write(VGA_PCI_DEV, 0x04, pci_read(VGA_PCI_DEV, 0x04) | 3);  /* I/O and memory decode */
    stage_text();
    stage_m12();
    stage_m13();
    stage_modex();
    stage_vbe8();
    stage_vbe32();
    finish();
}
