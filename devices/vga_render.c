/* devices/vga_render.c: what the stdvga shows (core/display.h), from its
 * registers and memory (devices/vga.h).
 *
 * The picture is kept in fb between render calls and only the rows that
 * may have changed are redrawn (see "change tracking" below). It is in
 * the mode's logical resolution: mode 13h is 320x200, mode 3 720x400, 40-column text
 * 360x400; frontends scale to the screen's aspect. Rows the CRTC repeats
 * (double scan, or the max scan line count in modes whose rows do not
 * differ per scan line, as in 13h) are emitted once.
 *
 * The CRTC is followed as hardware scans memory: per scan line the
 * memory address counter starts at the start address (or 0 after the line
 * compare line), advances by 2 x offset per character row, and each
 * character clock's counter becomes a memory address by the byte, word
 * (bit 13 or 15 into bit 0) or doubleword (bits 14-15 into 0-1) mapping,
 * with CRTC mode bits 0/1 putting row scan bits 0/1 into address bits 13/14
 * (the CGA/Hercules interleave of modes 4-6).
 *
 * Text: 8 or 9 dot characters (line graphics 0xC0-0xDF repeat column 8 in
 * column 9 when enabled), fonts from plane 2 chosen by the character map
 * select and attribute bit 3, blink (attribute bit 7 as blink or as
 * background intensity), the cursor, mono underline. Blinking follows
 * virtual time: the cursor every 8 frames, characters every 16, at 70 Hz.
 * Graphics: 16-colour planar (with colour plane enable and pel panning),
 * CGA 4-colour interleaved shift mode, 256-colour (chain-4 13h or
 * unchained mode X; the CRTC address mapping decides), all through the
 * attribute palette (not in 256-colour mode) and the DAC with the pel mask.
 * VBE: 4 (planar), 8 (DAC), 15, 16, 24 and 32 bpp from the dispi registers.
 *
 * Change tracking: a row is redrawn when a 4 KiB page of vram it reads
 * was written (window writes mark vga.vram_dirty, LFB writes are read from
 * phys dirty logging, PHYS_DIRTY_VGA), every row when a register the
 * picture depends on changed (struct vga_view: mode, palette, DAC, start
 * address, panning ...), when memory changed behind the tracking
 * (redraw_all), when the font was written or characters blink; the text
 * cursor's rows when it moves or blinks. Invariant: fb after any render
 * equals what a full redraw would give. Redrawn rows collect in
 * rows_pending until render_frame reports them.
 *
 * Not modelled: horizontal/vertical timing beyond the display end values
 * (no overscan border), smooth scrolling in text modes, the preset row
 * scan, split-screen pel panning reset, the 16-bit (PEL clock) mode.
 */
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "devices/pci.h"
#include "devices/vga.h"
#include "mmu/phys.h"

#define FRAME_NS          (31778ull * 449)   /* as input status 1 in vga.c */
#define CURSOR_BLINK_NS   (FRAME_NS * 8)     /* on/off half period */
#define CHAR_BLINK_NS     (FRAME_NS * 16)

/* The scan geometry of the current VGA (non-VBE) mode. */
struct scan {
    int      lines;            /* CRTC scan lines displayed (vertical display end + 1) */
    int      merge;            /* CRTC lines per output line */
    int      char_clocks;      /* horizontal display end + 1 */
    int      max_scan;         /* max scan line (rows per character row - 1) */
    bool     double_scan;
    int      line_compare;
    uint32_t start;            /* start address (counter units) */
    uint32_t pitch;            /* counter advance per character row */
};

static uint32_t dac_colour(const struct vga *v, unsigned index)
{
    const uint8_t *c = &v->palette[(index & v->pel_mask & 0xFF) * 3];
    uint32_t rgb[3];
    for (int i = 0; i < 3; i++) {
        if (v->vbe_regs[VBE_ENABLE] & VBE_EN_8BIT_DAC) {
            rgb[i] = c[i];
        } else {
            uint32_t six = c[i] & 0x3F;
            rgb[i] = (six << 2) | (six >> 4);
        }
    }
    return rgb[0] << 16 | rgb[1] << 8 | rgb[2];
}

/* The 16 colours a 4-bit pixel/attribute value gives through the
 * attribute controller (colour plane enable, palette, colour select). */
static void attr_palette(const struct vga *v, uint32_t out[16])
{
    for (unsigned n = 0; n < 16; n++) {
        unsigned p = v->ar[n & v->ar[0x12] & 0xF];
        if (v->ar[0x10] & 0x80)
            p = (p & 0x0F) | ((v->ar[0x14] & 0x03u) << 4);
        else
            p &= 0x3F;
        p |= (v->ar[0x14] & 0x0Cu) << 4;
        out[n] = dac_colour(v, p);
    }
}

static void scan_geometry(const struct vga *v, struct scan *s)
{
    const uint8_t *cr = v->cr;
    s->lines = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3) + 1;
    s->char_clocks = cr[1] + 1;
    s->max_scan = cr[9] & 0x1F;
    s->double_scan = cr[9] & 0x80;
    s->line_compare = cr[0x18] | (cr[7] & 0x10) << 4 | (cr[9] & 0x40) << 3;
    s->start = (uint32_t)cr[0x0C] << 8 | cr[0x0D];
    s->pitch = 2u * cr[0x13];
    s->merge = s->double_scan ? 2 : 1;
    /* without the CGA/Hercules interleave every scan line of a row shows
     * the same memory, so a row is one output line in graphics modes */
    bool graphics = (v->gr[6] & 0x01) || (v->ar[0x10] & 0x01);
    if (graphics && (cr[0x17] & 3) == 3)
        s->merge *= s->max_scan + 1;
    if (s->merge > s->lines)
        s->merge = s->lines;
}

/* Memory address (0-0xFFFF) of character clock counter value c on row scan rs. */
static uint32_t crtc_address(const struct vga *v, uint32_t c, unsigned rs)
{
    uint32_t ma;
    c &= 0xFFFF;
    if (v->cr[0x14] & 0x40)
        ma = (c << 2) | ((c >> 14) & 3);
    else if (!(v->cr[0x17] & 0x40))
        ma = (c << 1) | ((c >> ((v->cr[0x17] & 0x20) ? 15 : 13)) & 1);
    else
        ma = c;
    if (!(v->cr[0x17] & 0x01))
        ma = (ma & ~0x2000u) | (rs & 1u) << 13;
    if (!(v->cr[0x17] & 0x02))
        ma = (ma & ~0x4000u) | (rs & 2u) << 13;
    return ma & 0xFFFF;
}

static bool text_mode(const struct vga *v)
{
    return !(v->gr[6] & 0x01) && !(v->ar[0x10] & 0x01);
}

/* Displayed at all? (sequencer screen off, palette address source 0) */
static bool display_on(const struct vga *v)
{
    return !(v->sr[1] & 0x20) && (v->ar_index & 0x20);
}

static uint8_t plane_byte(const struct vga *v, uint32_t ma, int plane)
{
    return v->vram[(size_t)(ma & 0xFFFF) * 4 + plane];
}

bool vga_get_text(void *opaque, struct display_text *t)
{
    struct vga *v = opaque;
    if (vga_vbe_enabled(v) || !text_mode(v) || !display_on(v))
        return false;
    struct scan s;
    scan_geometry(v, &s);
    int cols = s.char_clocks;
    int rows = s.lines / ((s.max_scan + 1) * (s.double_scan ? 2 : 1));
    if (cols > DISPLAY_TEXT_MAX_COLS)
        cols = DISPLAY_TEXT_MAX_COLS;
    if (rows > DISPLAY_TEXT_MAX_ROWS)
        rows = DISPLAY_TEXT_MAX_ROWS;
    t->cols = cols;
    t->rows = rows;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            uint32_t ma = crtc_address(v, s.start + (uint32_t)r * s.pitch + (uint32_t)c, 0);
            t->cells[r * cols + c] = (uint16_t)(plane_byte(v, ma, 0) | plane_byte(v, ma, 1) << 8);
        }
    uint32_t cursor = ((uint32_t)v->cr[0x0E] << 8 | v->cr[0x0F]) - s.start;
    cursor &= 0xFFFF;
    t->cursor_visible = false;
    t->cursor_col = t->cursor_row = 0;
    if (s.pitch) {
        t->cursor_row = (int)(cursor / s.pitch);
        t->cursor_col = (int)(cursor % s.pitch);
        unsigned cstart = v->cr[0x0A] & 0x1F, cend = v->cr[0x0B] & 0x1F;
        t->cursor_visible = !(v->cr[0x0A] & 0x20) && cstart <= cend &&
                            cstart <= (unsigned)s.max_scan &&
                            t->cursor_row < rows && t->cursor_col < cols;
    }
    return true;
}

/* Make room for w x h pixels; false if out of memory. */
static bool fb_reserve(struct vga *v, int w, int h)
{
    uint32_t need = (uint32_t)w * (uint32_t)h;
    if (need <= v->fb_pixels)
        return true;
    uint32_t *fb = realloc(v->fb, (size_t)need * sizeof *fb);
    if (!fb)
        return false;
    v->fb = fb;
    v->fb_pixels = need;
    return true;
}

/* Offset of font block n (0-7) in plane 2. */
static uint32_t font_base(unsigned n)
{
    return (n & 3) * 0x4000u + (n >> 2) * 0x2000u;
}

static void render_text_line(struct vga *v, uint32_t *out, const struct scan *s,
                             uint32_t row_counter, unsigned rs, const uint32_t pal[16],
                             bool cursor_on, bool blink_on)
{
    int cw = (v->sr[1] & 0x01) ? 8 : 9;
    unsigned sr3 = v->sr[3];
    uint32_t map_a = font_base(((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3));
    uint32_t map_b = font_base(((sr3 >> 4) & 1) << 2 | (sr3 & 3));
    uint32_t cursor_addr = (uint32_t)v->cr[0x0E] << 8 | v->cr[0x0F];
    unsigned cstart = v->cr[0x0A] & 0x1F, cend = v->cr[0x0B] & 0x1F;
    bool cursor_line = cursor_on && !(v->cr[0x0A] & 0x20) && rs >= cstart && rs <= cend;
    bool blink_attr = v->ar[0x10] & 0x08;
    bool line_graphics = v->ar[0x10] & 0x04;
    bool mono = v->ar[0x10] & 0x02;
    for (int c = 0; c < s->char_clocks; c++) {
        uint32_t counter = (row_counter + (uint32_t)c) & 0xFFFF;
        uint32_t ma = crtc_address(v, counter, rs);
        unsigned ch = plane_byte(v, ma, 0), at = plane_byte(v, ma, 1);
        uint32_t font = (at & 0x08) ? map_a : map_b;
        unsigned glyph = plane_byte(v, font + ch * 32 + rs, 2);
        unsigned fg = at & 0x0F, bg = at >> 4;
        if (blink_attr) {
            bg &= 7;
            if ((at & 0x80) && !blink_on)
                glyph = 0;
        }
        if (mono && (at & 0x77) == 0x01 && rs == (v->cr[0x14] & 0x1Fu))
            glyph = 0xFF;
        if (cursor_line && counter == cursor_addr)
            glyph = 0xFF;
        uint32_t *px = out + c * cw;
        for (int b = 0; b < 8; b++)
            px[b] = pal[(glyph & (0x80u >> b)) ? fg : bg];
        if (cw == 9)
            px[8] = (line_graphics && ch >= 0xC0 && ch <= 0xDF && (glyph & 1)) ? pal[fg] : pal[bg];
    }
}

/* One scan line of a graphics mode, from counter value row_counter. */
static void render_graphics_line(struct vga *v, uint32_t *out, int width,
                                 uint32_t row_counter, unsigned rs, const uint32_t pal[16],
                                 unsigned pan)
{
    unsigned shift = (v->gr[5] >> 5) & 3;      /* 0 planar, 1 CGA interleave, 2/3 256-colour */
    int per_clock = shift >= 2 ? 4 : 8;
    int prev_clock = -1;
    uint8_t planes[4] = { 0 };
    for (int x = 0; x < width; x++) {
        int pos = x + (int)pan;
        int clock = pos / per_clock, i = pos % per_clock;
        if (clock != prev_clock) {
            uint32_t ma = crtc_address(v, row_counter + (uint32_t)clock, rs);
            for (int p = 0; p < 4; p++)
                planes[p] = plane_byte(v, ma, p);
            prev_clock = clock;
        }
        if (shift >= 2) {
            out[x] = dac_colour(v, planes[i]);
        } else if (shift == 1) {
            /* 2 bits per pixel: pixels 0-3 from planes 0/2, 4-7 from 1/3 */
            int lo = i < 4 ? 0 : 1, bit = 6 - 2 * (i & 3);
            unsigned n = (planes[lo] >> bit) & 3;
            n |= ((planes[lo + 2] >> bit) & 3) << 2;
            out[x] = pal[n];
        } else {
            unsigned bit = 7 - (unsigned)i, n = 0;
            for (int p = 0; p < 4; p++)
                n |= ((planes[p] >> bit) & 1u) << p;
            out[x] = pal[n];
        }
    }
}

/* Bit per vram page: any of pages [first, last] set? */
static bool pages_dirty(const uint64_t *bits, uint32_t first, uint32_t last)
{
    for (uint32_t p = first; p <= last; p++)
        if ((bits[p / 64] >> (p % 64)) & 1)
            return true;
    return false;
}

static void row_drawn(struct vga *v, int y)
{
    if (y < DISPLAY_MAX_HEIGHT)
        v->rows_pending[y / 64] |= 1ull << (y % 64);
}

/* Which of the planar area's 64 vram pages (4 memory addresses per vram
 * dword: page = ma >> 10) a scan line reads, for clocks counter values. */
static uint64_t line_pages(const struct vga *v, uint32_t row_counter, unsigned rs, int clocks)
{
    uint64_t mask = 0;
    for (int c = 0; c < clocks; c++)
        mask |= 1ull << (crtc_address(v, row_counter + (uint32_t)c, rs) >> 10);
    return mask;
}

/* Redraw the rows that need it: all, or those reading dirty pages (bits
 * over vram pages) or showing the old or new cursor (cursor_moved). */
static const uint32_t *render_vga(struct vga *v, int *width, int *height, bool all,
                                  const uint64_t *dirty, const struct vga_blink *blink,
                                  bool cursor_moved, uint32_t old_cursor)
{
    struct scan s;
    scan_geometry(v, &s);
    bool text = text_mode(v);
    int w;
    if (text)
        w = s.char_clocks * ((v->sr[1] & 0x01) ? 8 : 9);
    else
        w = s.char_clocks * (((v->gr[5] >> 5) & 3) >= 2 ? 4 : 8);
    int h = s.lines / s.merge;
    if (h < 1 || !fb_reserve(v, w, h))
        return NULL;
    uint32_t pal[16];
    attr_palette(v, pal);
    bool cursor_on = blink->cursor_on;
    bool blink_on = blink->chars_on;           /* only looked at with blinking enabled */
    unsigned pan = v->ar[0x13];
    if (((v->gr[5] >> 5) & 3) >= 2)
        pan = (pan >> 1) & 3;
    else
        pan = pan < 8 ? pan : 0;
    int per_clock = text ? 1 : ((v->gr[5] >> 5) & 3) >= 2 ? 4 : 8;
    int clocks = text ? s.char_clocks : (w - 1 + (int)pan) / per_clock + 1;
    uint64_t dirty64 = dirty[0];                   /* the planes: vram pages 0-63 */
    if (text && !all) {
        /* a glyph written may be on any row */
        unsigned sr3 = v->sr[3];
        uint32_t map_a = font_base(((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3));
        uint32_t map_b = font_base(((sr3 >> 4) & 1) << 2 | (sr3 & 3));
        uint64_t fonts = 0xFFull << (map_a >> 10) | 0xFFull << (map_b >> 10);
        all = (v->plane2_dirty & fonts) != 0;
    }
    uint32_t cursor_addr = (uint32_t)v->cr[0x0E] << 8 | v->cr[0x0F];

    uint32_t row_counter = s.start;
    unsigned rs = 0;
    int sub = 0;
    for (int line = 0; line < s.lines; line++) {
        bool redraw = line % s.merge == 0 && line / s.merge < h;
        if (redraw && !all) {
            bool cursor_here = cursor_moved && text &&
                (((cursor_addr - row_counter) & 0xFFFF) < (uint32_t)clocks ||
                 ((old_cursor - row_counter) & 0xFFFF) < (uint32_t)clocks);
            redraw = cursor_here || (dirty64 && (line_pages(v, row_counter, rs, clocks) & dirty64));
        }
        if (redraw) {
            uint32_t *out = v->fb + (size_t)(line / s.merge) * (size_t)w;
            row_drawn(v, line / s.merge);
            if (text)
                render_text_line(v, out, &s, row_counter, rs, pal, cursor_on, blink_on);
            else
                render_graphics_line(v, out, w, row_counter, rs, pal, pan);
        }
        if (line == s.line_compare) {
            row_counter = 0;
            rs = 0;
            sub = 0;
            continue;
        }
        if (s.double_scan && ++sub < 2)
            continue;
        sub = 0;
        if (rs >= (unsigned)s.max_scan) {
            rs = 0;
            row_counter += s.pitch;
        } else {
            rs++;
        }
    }
    *width = w;
    *height = h;
    return v->fb;
}

/* Bytes of vram a VBE row starting at byte row reads. */
static uint64_t vbe_row_bytes(unsigned bits, int w)
{
    return bits == 4 ? ((uint64_t)w / 8 + 1) * 4 : (uint64_t)w * (bits / 8);
}

static const uint32_t *render_vbe(struct vga *v, int *width, int *height, bool all,
                                  const uint64_t *dirty)
{
    const uint16_t *r = v->vbe_regs;
    int w = r[VBE_XRES], h = r[VBE_YRES];
    unsigned bits = vga_vbe_bits(v);
    uint32_t line = v->vbe_line_bytes;
    if (w <= 0 || h <= 0 || !line || !fb_reserve(v, w, h))
        return NULL;
    uint32_t pal[16];
    if (bits == 4)
        attr_palette(v, pal);
    for (int y = 0; y < h; y++) {
        uint32_t *out = v->fb + (size_t)y * (size_t)w;
        uint64_t row = (uint64_t)v->vbe_start + (uint64_t)y * line;
        if (bits == 4)
            row &= ~3ull;
        uint64_t need = vbe_row_bytes(bits, w);
        if (!all && (row + need > v->vram_size ||
                     !pages_dirty(dirty, (uint32_t)(row >> 12), (uint32_t)((row + need - 1) >> 12))))
            continue;
        row_drawn(v, y);
        if (row + need > v->vram_size) {               /* cannot happen after the fix-up */
            memset(out, 0, (size_t)w * sizeof *out);
            continue;
        }
        const uint8_t *src = v->vram + row;
        for (int x = 0; x < w; x++) {
            switch (bits) {
            case 4: {
                /* planar: byte x/8 of each plane, 4 planes per vram dword */
                const uint8_t *g = v->vram + row + (size_t)(x / 8) * 4;
                unsigned bit = 7 - (unsigned)(x % 8), n = 0;
                for (int p = 0; p < 4; p++)
                    n |= ((g[p] >> bit) & 1u) << p;
                out[x] = pal[n];
                break;
            }
            case 8:
                out[x] = dac_colour(v, src[x]);
                break;
            case 16: {
                unsigned px = src[2 * x] | src[2 * x + 1] << 8;
                uint32_t rr, gg, bb;
                if (r[VBE_BPP] == 15) {
                    rr = (px >> 10) & 0x1F; gg = (px >> 5) & 0x1F; bb = px & 0x1F;
                    gg = (gg << 3) | (gg >> 2);
                } else {
                    rr = (px >> 11) & 0x1F; gg = (px >> 5) & 0x3F; bb = px & 0x1F;
                    gg = (gg << 2) | (gg >> 4);
                }
                rr = (rr << 3) | (rr >> 2);
                bb = (bb << 3) | (bb >> 2);
                out[x] = rr << 16 | gg << 8 | bb;
                break;
            }
            case 24:
                out[x] = (uint32_t)src[3 * x + 2] << 16 | (uint32_t)src[3 * x + 1] << 8 | src[3 * x];
                break;
            default:
                out[x] = ((uint32_t)src[4 * x + 2] << 16 | (uint32_t)src[4 * x + 1] << 8 |
                          src[4 * x]);
                break;
            }
        }
    }
    *width = w;
    *height = h;
    return v->fb;
}

/* The registers the picture depends on (struct vga_view). */
static void view_of(const struct vga *v, struct vga_view *view)
{
    memset(view, 0, sizeof *view);
    view->sr1 = v->sr[1];
    view->sr3 = v->sr[3];
    view->gr5_shift = v->gr[5] & 0x60;
    view->gr6 = v->gr[6];
    view->ar_video = v->ar_index & 0x20;
    view->pel_mask = v->pel_mask;
    memcpy(view->cr, v->cr, sizeof view->cr);
    view->cr[0x0A] = view->cr[0x0B] = view->cr[0x0E] = view->cr[0x0F] = 0;
    memcpy(view->ar, v->ar, sizeof view->ar);
    memcpy(view->palette, v->palette, sizeof view->palette);
    memcpy(view->vbe_regs, v->vbe_regs, sizeof view->vbe_regs);
    view->vbe_regs[VBE_BANK] = 0;
    view->vbe_line_bytes = v->vbe_line_bytes;
    view->vbe_start = v->vbe_start;
}

static void blink_of(const struct vga *v, struct vga_blink *b)
{
    memset(b, 0, sizeof *b);
    if (vga_vbe_enabled(v) || !text_mode(v))
        return;
    uint64_t now = machine_now(v->machine);
    b->cr0a = v->cr[0x0A];
    b->cr0b = v->cr[0x0B];
    b->cr0e = v->cr[0x0E];
    b->cr0f = v->cr[0x0F];
    b->cursor_on = (now / CURSOR_BLINK_NS) % 2 == 0;
    b->chars_on = (v->ar[0x10] & 0x08) && (now / CHAR_BLINK_NS) % 2 == 0;
}

/* The vram bytes the current picture may read: the planes in VGA modes,
 * the displayed lines in VBE modes. */
static void shown_range(const struct vga *v, uint32_t *first, uint32_t *len)
{
    *first = 0;
    *len = 4 * VGA_PLANE_SIZE;
    if (vga_vbe_enabled(v)) {
        unsigned bits = vga_vbe_bits(v);
        uint64_t start = bits == 4 ? v->vbe_start & ~3u : v->vbe_start;
        uint64_t end = start + (uint64_t)(v->vbe_regs[VBE_YRES] ? v->vbe_regs[VBE_YRES] - 1 : 0) *
                       v->vbe_line_bytes + vbe_row_bytes(bits, v->vbe_regs[VBE_XRES]);
        if (end > v->vram_size)
            end = v->vram_size;
        *first = (uint32_t)start;
        *len = (uint32_t)(end - start);
    }
}

/* Stores through the linear framebuffer to the shown part of vram, from
 * phys dirty logging, into vram_dirty. */
static void collect_lfb_writes(struct vga *v)
{
    if (v->lfb_addr == PCI_BAR_UNMAPPED)
        return;
    uint32_t first, len;
    shown_range(v, &first, &len);
    if (len == 0)
        return;
    uint32_t page0 = first >> 12;
    uint32_t npages = ((first & 0xFFF) + len + 0xFFF) >> 12;
    memset(v->lfb_bits, 0, ((npages + 63) / 64) * sizeof *v->lfb_bits);
    if (!phys_dirty_get_and_clear(&v->machine->mem, PHYS_DIRTY_VGA, v->lfb_addr + (page0 << 12),
                                  npages << 12, v->lfb_bits))
        return;
    for (uint32_t w = 0; w < (npages + 63) / 64; w++)
        for (uint64_t bits = v->lfb_bits[w]; bits; bits &= bits - 1) {
            uint32_t p = page0 + w * 64 + (uint32_t)__builtin_ctzll(bits);
            if (p < v->vram_pages)
                v->vram_dirty[p / 64] |= 1ull << (p % 64);
            if (p < 64)
                v->plane2_dirty |= 1ull << p;    /* any plane: the font too */
        }
    v->vram_any_dirty = true;
}

/* Bring fb up to date, redrawing only what changed; NULL when blanked. */
static const uint32_t *vga_update(struct vga *v, int *width, int *height)
{
    collect_lfb_writes(v);
    struct vga_view view;
    struct vga_blink blink;
    view_of(v, &view);
    blink_of(v, &blink);
    bool all = !v->drawn || v->redraw_all || memcmp(&view, &v->draw_view, sizeof view) != 0 ||
               blink.chars_on != v->draw_blink.chars_on;
    bool cursor_moved = memcmp(&blink, &v->draw_blink, sizeof blink) != 0;
    if (!all && !cursor_moved && !v->vram_any_dirty) {
        *width = v->draw_width;            /* nothing to do: the common case */
        *height = v->draw_height;
        return v->fb;
    }
    uint32_t old_cursor = (uint32_t)v->draw_blink.cr0e << 8 | v->draw_blink.cr0f;
    int w = 0, h = 0;
    const uint32_t *px = NULL;
    if (vga_vbe_enabled(v))
        px = render_vbe(v, &w, &h, all, v->vram_dirty);
    else if (display_on(v))
        px = render_vga(v, &w, &h, all, v->vram_dirty, &blink, cursor_moved, old_cursor);
    if (v->vram_any_dirty)
        memset(v->vram_dirty, 0, (v->vram_pages / 64) * sizeof *v->vram_dirty);
    v->vram_any_dirty = false;
    v->plane2_dirty = 0;
    v->redraw_all = false;
    if (!px) {
        v->drawn = false;
        v->report_all = true;
        return NULL;
    }
    if (w != v->draw_width || h != v->draw_height)
        v->report_all = true;
    v->drawn = true;
    memcpy(&v->draw_view, &view, sizeof view);   /* padding too: compared with memcmp */
    memcpy(&v->draw_blink, &blink, sizeof blink);
    v->draw_width = w;
    v->draw_height = h;
    *width = w;
    *height = h;
    return px;
}

const uint32_t *vga_render(void *opaque, int *width, int *height, int *stride_pixels)
{
    struct vga *v = opaque;
    int w = 0, h = 0;
    const uint32_t *px = vga_update(v, &w, &h);
    if (!px)
        return NULL;
    *width = w;
    *height = h;
    *stride_pixels = w;
    return px;
}

bool vga_render_frame(void *opaque, struct display_frame *f)
{
    struct vga *v = opaque;
    f->pixels = vga_render(v, &f->width, &f->height, &f->stride_pixels);
    if (!f->pixels)
        return false;
    int h = f->height < DISPLAY_MAX_HEIGHT ? f->height : DISPLAY_MAX_HEIGHT;
    if (v->report_all)
        for (int i = 0; i < DISPLAY_MAX_HEIGHT / 64; i++)
            v->rows_pending[i] = ~0ull;
    f->changed_first = f->changed_end = 0;
    for (int i = 0; i < DISPLAY_MAX_HEIGHT / 64; i++) {
        uint64_t rows = v->rows_pending[i];
        if (i * 64 + 64 > h)
            rows &= i * 64 < h ? (1ull << (h - i * 64)) - 1 : 0;
        f->changed[i] = rows;
        if (rows) {
            if (f->changed_end == 0)
                f->changed_first = i * 64 + __builtin_ctzll(rows);
            f->changed_end = i * 64 + 64 - __builtin_clzll(rows);
        }
    }
    memset(v->rows_pending, 0, sizeof v->rows_pending);
    v->report_all = false;
    return true;
}

void vga_invalidate(void *opaque)
{
    struct vga *v = opaque;
    v->redraw_all = true;
    v->report_all = true;
}
