/* devices/vga.h: private to devices/vga.c and devices/vga_render.c.
 *
 * The state of the stdvga device, shared by the register/memory half
 * (vga.c) and the display half (vga_render.c). Nothing outside these two
 * files includes this header; the public interface is vga_create() in
 * devices/device.h.
 *
 * VGA memory layout (as QEMU keeps it): the four 64 KiB planes are the
 * first 256 KiB of vram, interleaved: byte p of the 32-bit word at
 * vram[4 * ma] is plane p at memory address ma. The VBE modes and the
 * linear framebuffer see vram as plain bytes, so a banked VBE mode and the
 * planes alias the same storage.
 */
#ifndef FOX86_DEVICES_VGA_H
#define FOX86_DEVICES_VGA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/display.h"
#include "devices/pci.h"

#define VGA_PLANE_SIZE   0x10000u          /* bytes per plane (memory addresses 0-0xFFFF) */
#define VGA_CRTC_REGS    0x19
#define VGA_AR_REGS      0x15

/* Bochs VBE "dispi" registers */
enum {
    VBE_ID = 0, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH,
    VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VIDEO_MEMORY_64K, VBE_NREGS
};
#define VBE_EN_ENABLED    0x01u
#define VBE_EN_GETCAPS    0x02u
#define VBE_EN_8BIT_DAC   0x20u
#define VBE_EN_LFB        0x40u
#define VBE_EN_NOCLEARMEM 0x80u
#define VBE_MAX_XRES      2560u
#define VBE_MAX_YRES      1600u
#define VBE_MAX_BPP       32u
#define VBE_ID0           0xB0C0u
#define VBE_ID5           0xB0C5u

struct machine;

/* Everything besides video memory that the picture depends on, as the last
 * render saw it (built zeroed, so it compares with memcmp). Registers that
 * only steer CPU accesses (map mask, write/read modes, set/reset, bit
 * mask, VBE bank, indexes) are left out: planar drawing changes them all
 * the time without changing the picture. The text cursor is apart. */
struct vga_view {
    uint8_t  sr1, sr3, gr5_shift, gr6, ar_video, pel_mask;
    uint8_t  cr[VGA_CRTC_REGS];    /* the cursor registers 0A, 0B, 0E, 0F read as 0 */
    uint8_t  ar[VGA_AR_REGS];
    uint8_t  palette[256 * 3];
    uint16_t vbe_regs[VBE_NREGS];  /* the bank reads as 0 */
    uint32_t vbe_line_bytes, vbe_start;
};

/* What decides the text cursor's and blinking characters' pixels. */
struct vga_blink {
    uint8_t cr0a, cr0b, cr0e, cr0f;
    bool    cursor_on, chars_on;   /* phases of the virtual-time blink */
};

struct vga {
    struct machine   *machine;
    struct pci_device pci;
    bool              has_pci;

    uint8_t  *vram;                /* vram_size bytes, owned; planes in the first 256 KiB */
    uint32_t  vram_size;           /* a power of two >= 1 MiB */
    uint32_t  lfb_addr;            /* where BAR 0 is mapped now, or PCI_BAR_UNMAPPED */
    uint32_t  mmio_addr;           /* where BAR 2 is mapped now, or PCI_BAR_UNMAPPED */

    /* legacy registers */
    uint8_t  misc;                 /* misc output (0x3C2 / 0x3CC) */
    uint8_t  feature;              /* feature control (0x3xA / 0x3CA) */
    uint8_t  sr_index, sr[8];      /* sequencer */
    uint8_t  gr_index, gr[16];     /* graphics controller */
    uint8_t  cr_index, cr[VGA_CRTC_REGS];
    uint8_t  ar_index;             /* attribute index incl. bit 5 (palette address source) */
    bool     ar_flipflop;          /* true: the next 0x3C0 write is data */
    uint8_t  ar[VGA_AR_REGS];
    uint8_t  pel_mask;
    uint8_t  dac_read_index, dac_write_index, dac_sub_index;
    uint8_t  dac_state;            /* 0x3C7 read: 0 after a write index, 3 after a read index */
    uint8_t  dac_cache[3];         /* the triplet being written */
    uint8_t  palette[256 * 3];     /* as written (8-bit); 6-bit DAC mode uses the low 6 bits */
    uint32_t latch;                /* byte p = plane p, loaded by every CPU read */

    /* Bochs VBE */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_NREGS];
    uint32_t vbe_line_bytes;       /* bytes per line of the enabled mode (after the fix-up) */
    uint32_t vbe_start;            /* byte offset of the first displayed pixel */

    /* render output */
    uint32_t *fb;
    uint32_t  fb_pixels;           /* capacity of fb */

    /* Change tracking (vga_render.c): a render redraws only the rows whose
     * source bytes or registers changed since the previous render. */
    uint64_t *vram_dirty;          /* bit per 4 KiB page of vram written since the last
                                      render through the 0xA0000 window (LFB writes come
                                      from phys dirty logging, PHYS_DIRTY_VGA) */
    uint64_t  plane2_dirty;        /* of the planes' 64 pages, those where plane 2 (the
                                      text font) may have been written */
    uint64_t *lfb_bits;            /* scratch for phys_dirty_get_and_clear */
    uint32_t  vram_pages;
    bool      vram_any_dirty;      /* some bit of vram_dirty is set */
    bool      redraw_all;          /* next render redraws every row (memory changed
                                      behind the tracking: load, clear, remap) */
    bool      drawn;               /* fb holds the last picture of draw_view/blink */
    struct vga_view  draw_view;
    struct vga_blink draw_blink;
    int       draw_width, draw_height;
    uint64_t  rows_pending[DISPLAY_MAX_HEIGHT / 64];  /* redrawn since the last render_frame */
    bool      report_all;          /* the next render_frame reports every row */
};

/* vram bytes [offset, offset + len) were written behind phys dirty logging. */
static inline void vga_vram_written(struct vga *v, uint32_t offset, uint32_t len)
{
    if (len == 0 || offset >= v->vram_size)
        return;
    uint32_t last = offset + len - 1 < v->vram_size ? offset + len - 1 : v->vram_size - 1;
    for (uint32_t p = offset >> 12; p <= last >> 12; p++)
        v->vram_dirty[p / 64] |= 1ull << (p % 64);
    v->vram_any_dirty = true;
}

/* vga_render.c */
bool vga_get_text(void *opaque, struct display_text *text);
const uint32_t *vga_render(void *opaque, int *width, int *height, int *stride_pixels);
bool vga_render_frame(void *opaque, struct display_frame *frame);
void vga_invalidate(void *opaque);

static inline bool vga_vbe_enabled(const struct vga *v)
{
    return v->vbe_regs[VBE_ENABLE] & VBE_EN_ENABLED;
}

/* Effective bits per pixel of the enabled VBE mode (15 counts as 16). */
static inline unsigned vga_vbe_bits(const struct vga *v)
{
    return v->vbe_regs[VBE_BPP] == 15 ? 16 : v->vbe_regs[VBE_BPP];
}

#endif
