/* devices/vga.c: QEMU's "stdvga" PCI VGA (1234:1111) as SeaVGABIOS's
 * vgabios-stdvga.bin and Linux's bochs-drm expect it: registers, memory,
 * Bochs VBE and the PCI function. The picture is made in vga_render.c.
 *
 * Modelled:
 *   - the legacy registers at 0x3B0-0x3DF: misc output, sequencer, CRTC
 *     (with the CR11 write protection), graphics controller, attribute
 *     controller with its flip-flop, DAC (pel mask, read/write index and
 *     sub-index), feature control, input status 0/1. Misc output bit 0
 *     selects the 0x3Dx (colour) or 0x3Bx (mono) CRTC/status block; the
 *     other block reads all ones and ignores writes, as QEMU does.
 *   - Input status 1 follows virtual time: a fixed 70 Hz, 449-line frame
 *     (31.778 us lines, 400 visible, vertical retrace on lines 412-413), so
 *     guests that wait for retrace make progress.
 *   - 256 KiB of planar memory in the 0xA0000-0xBFFFF window (memory map
 *     select honoured) with the full pipeline: latches, write modes 0-3,
 *     set/reset, rotate, logical function, bit mask, map mask, read modes
 *     0/1 (colour compare / don't care), odd/even (host address bit 0
 *     selects the plane pair; with GR6 chain odd/even the memory address
 *     has bit 0 cleared, so text cell i is at memory address 2i of planes
 *     0 and 1 as on hardware) and chain-4 (address bits 0-1 select the
 *     plane, the memory address has them cleared). The CRTC side of those
 *     address mappings (byte/word/doubleword mode) is in vga_render.c.
 *   - Bochs VBE (dispi) at 0x1CE (index) / 0x1CF and 0x1D0 (data), 16-bit:
 *     ID, resolution, depth (4, 8, 15, 16, 24, 32), enable (GETCAPS, LFB,
 *     8-bit DAC, no-clear), 64 KiB banks in the 0xA0000 window, virtual
 *     width/height and the display start offsets. Every value is fixed up
 *     when a mode is enabled (QEMU's rules: depth, width multiple of 8, the
 *     mode and its offsets must fit in vram), so nothing derived from a
 *     guest value reaches outside vram.
 *   - PCI: BAR 0 = the linear framebuffer (all of vram, prefetchable,
 *     device RAM the CPU reaches directly); BAR 2 = 4 KiB MMIO with the VGA
 *     ports at 0x400, the dispi registers at 0x500 and QEMU's extended
 *     registers at 0x600 (size, little-endian framebuffer).
 * Not modelled: the expansion ROM BAR (the board must supply the VGA BIOS,
 * see the report), EDID at BAR 2 offset 0 (reads zero), the misc output
 * RAM-enable and page bits, 128 KiB-map address bit 16 as odd/even page,
 * vertical retrace interrupts, and big-endian framebuffers.
 *
 * Change tracking for the renderer: every write through the 0xA0000 window
 * marks the vram page it lands in (vga_vram_written), plane-2 writes the
 * font pages too; LFB stores are found by phys dirty logging
 * (PHYS_DIRTY_VGA, enabled at creation); memory changed behind both (the
 * VBE clear, a reset, a load, the BAR moving) sets redraw_all.
 *
 * Reset leaves every register zero (nothing displayed until the BIOS
 * programs a mode; QEMU does the same), the VBE ID 0xB0C5, the pel mask
 * 0xFF; vram keeps its contents.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "devices/vga.h"
#include "mmu/phys.h"

#define VGA_IO_BASE     0x3B0
#define VGA_IO_COUNT    0x30
#define VBE_IO_BASE     0x1CE
#define VBE_IO_COUNT    3
#define VGA_WINDOW_BASE 0xA0000u
#define VGA_WINDOW_SIZE 0x20000u
#define VGA_MMIO_SIZE   0x1000u
#define VGA_MIN_VRAM    (1u << 20)
#define VGA_MAX_VRAM    (256u << 20)

/* Virtual display timing for input status 1 (mode 3/12h-like, ~70 Hz). */
#define VGA_LINE_NS        31778u
#define VGA_LINE_ACTIVE_NS 25422u    /* 80 of 100 character clocks */
#define VGA_FRAME_LINES    449u
#define VGA_VISIBLE_LINES  400u
#define VGA_VRETRACE_FIRST 412u
#define VGA_VRETRACE_LINES 2u

/* writable bits of the sequencer and graphics controller registers (as QEMU) */
static const uint8_t sr_writable[8] = { 0x03, 0x3D, 0x0F, 0x3F, 0x0E, 0x00, 0x00, 0xFF };
static const uint8_t gr_writable[16] = { 0x0F, 0x0F, 0x0F, 0x1F, 0x07, 0x7B, 0x0F, 0x0F, 0xFF };

/* ---- planar memory ------------------------------------------------------ */

/* A 4-bit plane set as a 32-bit word: byte p is 0xFF where bit p is set. */
static uint32_t expand_planes(unsigned bits)
{
    uint32_t w = 0;
    for (int p = 0; p < 4; p++)
        if (bits & (1u << p))
            w |= 0xFFu << (8 * p);
    return w;
}

static uint32_t planes_load(const struct vga *v, uint32_t ma)
{
    const uint8_t *b = v->vram + (size_t)ma * 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Memory addresses the planar path may use: 64 KiB per plane in VGA modes;
 * all of vram (as 4-byte groups) in the VBE 4 bpp planar modes. */
static uint32_t planar_limit(const struct vga *v)
{
    return vga_vbe_enabled(v) ? v->vram_size / 4 : VGA_PLANE_SIZE;
}

static uint8_t rotate_right(uint8_t val, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)((val >> n) | (val << (8 - n))) : val;
}

static void planar_write(struct vga *v, uint32_t ma, unsigned plane_mask, uint8_t val)
{
    if (ma >= planar_limit(v) || !(plane_mask & 0xF))
        return;
    unsigned bit_mask = v->gr[8];
    uint32_t data;
    switch (v->gr[5] & 3) {
    case 0: {
        uint32_t esr = expand_planes(v->gr[1]);
        data = rotate_right(val, v->gr[3]) * 0x01010101u;
        data = (data & ~esr) | (expand_planes(v->gr[0]) & esr);
        break;
    }
    case 1:                     /* the latches, untouched by function and bit mask */
        data = v->latch;
        goto store;
    case 2:
        data = expand_planes(val);
        break;
    default:                    /* 3: the rotated value ANDs the bit mask */
        bit_mask &= rotate_right(val, v->gr[3]);
        data = expand_planes(v->gr[0]);
        break;
    }
    switch ((v->gr[3] >> 3) & 3) {
    case 1: data &= v->latch; break;
    case 2: data |= v->latch; break;
    case 3: data ^= v->latch; break;
    default: break;
    }
    uint32_t bm = bit_mask * 0x01010101u;
    data = (data & bm) | (v->latch & ~bm);
store:
    for (int p = 0; p < 4; p++)
        if (plane_mask & (1u << p))
            v->vram[(size_t)ma * 4 + p] = (uint8_t)(data >> (8 * p));
    vga_vram_written(v, ma * 4, 4);
    if ((plane_mask & 4) && ma < VGA_PLANE_SIZE)
        v->plane2_dirty |= 1ull << (ma >> 10);
}

static uint8_t planar_read(struct vga *v, uint32_t ma, unsigned plane)
{
    if (ma >= planar_limit(v))
        return 0xFF;
    v->latch = planes_load(v, ma);
    if (!(v->gr[5] & 0x08))
        return (uint8_t)(v->latch >> (8 * (plane & 3)));
    /* read mode 1: bit set where the pixel's colour (in the planes that
     * "colour don't care" selects) equals colour compare */
    uint32_t diff = (v->latch ^ expand_planes(v->gr[2])) & expand_planes(v->gr[7]);
    diff |= diff >> 16;
    diff |= diff >> 8;
    return (uint8_t)~diff;
}

/* Offset inside the 128 KiB window -> host address bits the memory map
 * select decodes, or -1 when the window position is not decoded. */
static int32_t window_decode(const struct vga *v, uint32_t offset)
{
    switch ((v->gr[6] >> 2) & 3) {
    case 0: return (int32_t)offset;                                   /* A0000, 128K */
    case 1: return offset < 0x10000 ? (int32_t)offset : -1;           /* A0000, 64K */
    case 2: return offset >= 0x10000 && offset < 0x18000 ? (int32_t)(offset - 0x10000) : -1;
    default: return offset >= 0x18000 ? (int32_t)(offset - 0x18000) : -1;
    }
}

/* The VBE bank applies when a VBE mode is on and the window is A0000/64K. */
static uint32_t vbe_bank_offset(const struct vga *v)
{
    if (vga_vbe_enabled(v) && ((v->gr[6] >> 2) & 3) == 1)
        return (uint32_t)v->vbe_regs[VBE_BANK] << 16;
    return 0;
}

static uint8_t window_read_byte(struct vga *v, uint32_t offset)
{
    int32_t a = window_decode(v, offset);
    if (a < 0)
        return 0xFF;
    uint32_t addr = (uint32_t)a + vbe_bank_offset(v);
    if (vga_vbe_enabled(v) && vga_vbe_bits(v) != 4)
        return addr < v->vram_size ? v->vram[addr] : 0xFF;
    if (!vga_vbe_enabled(v))
        addr &= 0xFFFF;
    if (v->sr[4] & 0x08)                                /* chain 4 */
        return planar_read(v, addr & ~3u, addr & 3);
    unsigned plane = v->gr[4] & 3;
    if (v->gr[5] & 0x10)                                /* host odd/even */
        plane = (plane & 2) | (addr & 1);
    if (v->gr[6] & 0x02)                                /* chain odd/even */
        addr &= ~1u;
    return planar_read(v, addr, plane);
}

static void window_write_byte(struct vga *v, uint32_t offset, uint8_t val)
{
    int32_t a = window_decode(v, offset);
    if (a < 0)
        return;
    uint32_t addr = (uint32_t)a + vbe_bank_offset(v);
    if (vga_vbe_enabled(v) && vga_vbe_bits(v) != 4) {
        if (addr < v->vram_size) {
            v->vram[addr] = val;
            vga_vram_written(v, addr, 1);
        }
        return;
    }
    if (!vga_vbe_enabled(v))
        addr &= 0xFFFF;
    unsigned plane_mask = v->sr[2] & 0xF;
    if (v->sr[4] & 0x08) {                              /* chain 4 */
        planar_write(v, addr & ~3u, plane_mask & (1u << (addr & 3)), val);
        return;
    }
    if (!(v->sr[4] & 0x04))                             /* odd/even */
        plane_mask &= (addr & 1) ? 0xA : 0x5;
    if (v->gr[6] & 0x02)                                /* chain odd/even */
        addr &= ~1u;
    planar_write(v, addr, plane_mask, val);
}

static uint32_t window_read(void *opaque, uint32_t offset, int size)
{
    struct vga *v = opaque;
    uint32_t val = 0;
    for (int i = 0; i < size; i++)
        val |= (uint32_t)window_read_byte(v, (offset + (uint32_t)i) & (VGA_WINDOW_SIZE - 1))
               << (8 * i);
    return val;
}

static void window_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct vga *v = opaque;
    for (int i = 0; i < size; i++)
        window_write_byte(v, (offset + (uint32_t)i) & (VGA_WINDOW_SIZE - 1),
                          (uint8_t)(value >> (8 * i)));
}

static const struct mmio_ops vga_window_ops = { window_read, window_write };

/* ---- legacy ports ------------------------------------------------------- */

/* Is the port in the CRTC/status block misc output bit 0 does not select? */
static bool port_in_other_block(const struct vga *v, uint16_t port)
{
    if (v->misc & 0x01)
        return port >= 0x3B0 && port <= 0x3BF;
    return port >= 0x3D0 && port <= 0x3DF;
}

static uint8_t input_status_1(const struct vga *v)
{
    uint64_t frame_ns = (uint64_t)VGA_LINE_NS * VGA_FRAME_LINES;
    uint64_t t = machine_now(v->machine) % frame_ns;
    uint32_t line = (uint32_t)(t / VGA_LINE_NS);
    uint32_t in_line = (uint32_t)(t % VGA_LINE_NS);
    uint8_t st = 0;
    if (line >= VGA_VISIBLE_LINES || in_line >= VGA_LINE_ACTIVE_NS)
        st |= 0x01;             /* display disabled (blanking) */
    if (line >= VGA_VRETRACE_FIRST && line < VGA_VRETRACE_FIRST + VGA_VRETRACE_LINES)
        st |= 0x08;             /* vertical retrace */
    return st;
}

static uint8_t vga_port_read(struct vga *v, uint16_t port)
{
    if (port_in_other_block(v, port))
        return 0xFF;
    switch (port) {
    case 0x3C0:
        return v->ar_index;
    case 0x3C1: {
        unsigned i = v->ar_index & 0x1F;
        return i < VGA_AR_REGS ? v->ar[i] : 0;
    }
    case 0x3C2:
        return 0x00;            /* input status 0: no retrace interrupt, switch sense 0 */
    case 0x3C4:
        return v->sr_index;
    case 0x3C5:
        return v->sr[v->sr_index];
    case 0x3C6:
        return v->pel_mask;
    case 0x3C7:
        return v->dac_state;
    case 0x3C8:
        return v->dac_write_index;
    case 0x3C9: {
        uint8_t val = v->palette[v->dac_read_index * 3 + v->dac_sub_index];
        if (!(v->vbe_regs[VBE_ENABLE] & VBE_EN_8BIT_DAC))
            val &= 0x3F;
        if (++v->dac_sub_index == 3) {
            v->dac_sub_index = 0;
            v->dac_read_index++;
        }
        return val;
    }
    case 0x3CA:
        return v->feature;
    case 0x3CC:
        return v->misc;
    case 0x3CE:
        return v->gr_index;
    case 0x3CF:
        return v->gr[v->gr_index];
    case 0x3B4: case 0x3D4:
        return v->cr_index;
    case 0x3B5: case 0x3D5:
        return v->cr_index < VGA_CRTC_REGS ? v->cr[v->cr_index] : 0xFF;
    case 0x3BA: case 0x3DA:
        v->ar_flipflop = false;
        return input_status_1(v);
    default:
        return 0xFF;
    }
}

static void crtc_write(struct vga *v, uint8_t val)
{
    unsigned i = v->cr_index;
    if (i >= VGA_CRTC_REGS) {
        machine_log(v->machine, LOG_UNIMP, "vga: write 0x%02x to CRTC register 0x%02x\n", val, i);
        return;
    }
    if (i <= 7 && (v->cr[0x11] & 0x80)) {
        /* CR11 bit 7 protects CR0-CR7, except the line compare bit 8 */
        if (i == 7)
            v->cr[7] = (uint8_t)((v->cr[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->cr[i] = val;
}

static void ar_write(struct vga *v, uint8_t val)
{
    if (!v->ar_flipflop) {
        v->ar_index = val & 0x3F;
        v->ar_flipflop = true;
        return;
    }
    v->ar_flipflop = false;
    unsigned i = v->ar_index & 0x1F;
    switch (i) {
    case 0x00 ... 0x0F: v->ar[i] = val & 0x3F; break;
    case 0x10: v->ar[i] = val & ~0x10; break;
    case 0x11: v->ar[i] = val; break;
    case 0x12: v->ar[i] = val & 0x3F; break;
    case 0x13: v->ar[i] = val & 0x0F; break;
    case 0x14: v->ar[i] = val & 0x0F; break;
    default:
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: attribute register 0x%02x\n", i);
        break;
    }
}

static void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
    if (port_in_other_block(v, port))
        return;
    switch (port) {
    case 0x3C0:
        ar_write(v, val);
        break;
    case 0x3C2:
        v->misc = val & ~0x10;
        break;
    case 0x3C4:
        v->sr_index = val & 7;
        break;
    case 0x3C5:
        v->sr[v->sr_index] = val & sr_writable[v->sr_index];
        break;
    case 0x3C6:
        v->pel_mask = val;
        break;
    case 0x3C7:
        v->dac_read_index = val;
        v->dac_sub_index = 0;
        v->dac_state = 3;
        break;
    case 0x3C8:
        v->dac_write_index = val;
        v->dac_sub_index = 0;
        v->dac_state = 0;
        break;
    case 0x3C9:
        v->dac_cache[v->dac_sub_index] = val;
        if (++v->dac_sub_index == 3) {
            memcpy(&v->palette[v->dac_write_index * 3], v->dac_cache, 3);
            v->dac_sub_index = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3CE:
        v->gr_index = val & 0x0F;
        break;
    case 0x3CF:
        v->gr[v->gr_index] = val & gr_writable[v->gr_index];
        break;
    case 0x3B4: case 0x3D4:
        v->cr_index = val;
        break;
    case 0x3B5: case 0x3D5:
        crtc_write(v, val);
        break;
    case 0x3BA: case 0x3DA:
        v->feature = val & 0x10;
        break;
    default:
        break;
    }
}

/* Word and dword accesses are consecutive byte accesses (outw 0x3C4 sets
 * index and data), as ISA decoding of an 8-bit device does. */
static uint32_t vga_io_read(void *opaque, uint16_t port, int size)
{
    struct vga *v = opaque;
    uint32_t val = 0;
    for (int i = 0; i < size; i++) {
        uint32_t p = (uint32_t)port + (uint32_t)i;
        uint8_t b = p < VGA_IO_BASE + VGA_IO_COUNT ? vga_port_read(v, (uint16_t)p) : 0xFF;
        val |= (uint32_t)b << (8 * i);
    }
    return val;
}

static void vga_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct vga *v = opaque;
    for (int i = 0; i < size; i++) {
        uint32_t p = (uint32_t)port + (uint32_t)i;
        if (p < VGA_IO_BASE + VGA_IO_COUNT)
            vga_port_write(v, (uint16_t)p, (uint8_t)(value >> (8 * i)));
    }
}

static const struct ioport_ops vga_io_ops = { vga_io_read, vga_io_write };

/* ---- Bochs VBE ---------------------------------------------------------- */

/* Make the enabled mode's registers consistent and inside vram (QEMU's
 * rules): unknown depths become 8, the width a non-zero multiple of 8 up to
 * the maximum, the virtual width at least the width, the height at least 1
 * and what fits, and offsets that would run past vram are dropped. */
static void vbe_fixup(struct vga *v)
{
    uint16_t *r = v->vbe_regs;
    if (!vga_vbe_enabled(v))
        return;
    switch (r[VBE_BPP]) {
    case 4: case 8: case 15: case 16: case 24: case 32:
        break;
    default:
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: VBE depth %u, using 8\n", r[VBE_BPP]);
        r[VBE_BPP] = 8;
        break;
    }
    uint32_t bits = vga_vbe_bits(v);
    r[VBE_XRES] &= ~7u;
    if (r[VBE_XRES] == 0)
        r[VBE_XRES] = 8;
    if (r[VBE_XRES] > VBE_MAX_XRES)
        r[VBE_XRES] = VBE_MAX_XRES;
    r[VBE_VIRT_WIDTH] &= ~7u;
    if (r[VBE_VIRT_WIDTH] > VBE_MAX_XRES)
        r[VBE_VIRT_WIDTH] = VBE_MAX_XRES;
    if (r[VBE_VIRT_WIDTH] < r[VBE_XRES])
        r[VBE_VIRT_WIDTH] = r[VBE_XRES];

    uint32_t line = r[VBE_VIRT_WIDTH] * bits / 8;      /* >= 4, <= 10240 */
    uint32_t max_lines = v->vram_size / line;
    if (r[VBE_YRES] == 0)
        r[VBE_YRES] = 1;
    if (r[VBE_YRES] > VBE_MAX_YRES)
        r[VBE_YRES] = VBE_MAX_YRES;
    if (r[VBE_YRES] > max_lines)
        r[VBE_YRES] = (uint16_t)max_lines;

    if (r[VBE_X_OFFSET] > VBE_MAX_XRES)
        r[VBE_X_OFFSET] = VBE_MAX_XRES;
    uint64_t screen = (uint64_t)r[VBE_YRES] * line;
    uint64_t start = (uint64_t)r[VBE_X_OFFSET] * bits / 8 + (uint64_t)r[VBE_Y_OFFSET] * line;
    if (start + screen > v->vram_size) {
        r[VBE_Y_OFFSET] = 0;
        start = (uint64_t)r[VBE_X_OFFSET] * bits / 8;
        if (start + screen > v->vram_size) {
            r[VBE_X_OFFSET] = 0;
            start = 0;
        }
    }
    r[VBE_VIRT_HEIGHT] = (uint16_t)(max_lines > 0xFFFF ? 0xFFFF : max_lines);
    v->vbe_line_bytes = line;
    v->vbe_start = (uint32_t)start;
}

static uint16_t vbe_read(struct vga *v)
{
    unsigned i = v->vbe_index;
    if (i == VBE_VIDEO_MEMORY_64K)
        return (uint16_t)(v->vram_size >> 16);
    if (i >= VBE_VIDEO_MEMORY_64K)
        return 0;
    if (v->vbe_regs[VBE_ENABLE] & VBE_EN_GETCAPS) {
        if (i == VBE_XRES)
            return VBE_MAX_XRES;
        if (i == VBE_YRES)
            return VBE_MAX_YRES;
        if (i == VBE_BPP)
            return VBE_MAX_BPP;
    }
    return v->vbe_regs[i];
}

static void vbe_write(struct vga *v, uint16_t val)
{
    uint16_t *r = v->vbe_regs;
    switch (v->vbe_index) {
    case VBE_ID:
        if (val >= VBE_ID0 && val <= VBE_ID5)
            r[VBE_ID] = val;
        else
            machine_log(v->machine, LOG_GUEST_ERRORS, "vga: VBE ID 0x%04x\n", val);
        break;
    case VBE_XRES: case VBE_YRES: case VBE_BPP: case VBE_VIRT_WIDTH:
    case VBE_X_OFFSET: case VBE_Y_OFFSET:
        r[v->vbe_index] = val;
        vbe_fixup(v);
        break;
    case VBE_BANK: {
        uint16_t banks = (uint16_t)(v->vram_size >> 16);   /* a power of two */
        if (val >= banks)
            machine_log(v->machine, LOG_GUEST_ERRORS, "vga: VBE bank %u of %u\n", val, banks);
        r[VBE_BANK] = val & (uint16_t)(banks - 1);
        break;
    }
    case VBE_ENABLE:
        if ((val & VBE_EN_ENABLED) && !vga_vbe_enabled(v)) {
            r[VBE_VIRT_WIDTH] = r[VBE_XRES];
            r[VBE_VIRT_HEIGHT] = r[VBE_YRES];
            r[VBE_X_OFFSET] = 0;
            r[VBE_Y_OFFSET] = 0;
            r[VBE_ENABLE] = val;
            vbe_fixup(v);
            /* graphics, window at A0000/64K, as QEMU sets them */
            v->gr[6] = (uint8_t)((v->gr[6] & ~0x0C) | 0x05);
            if (!(val & VBE_EN_NOCLEARMEM)) {
                memset(v->vram, 0, (size_t)r[VBE_YRES] * v->vbe_line_bytes);
                v->redraw_all = true;
            }
        } else if (!(val & VBE_EN_ENABLED)) {
            r[VBE_BANK] = 0;
        }
        r[VBE_ENABLE] = val;
        vbe_fixup(v);
        break;
    case VBE_VIRT_HEIGHT:
        break;                  /* computed from vram and the line length */
    default:
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: VBE register 0x%x write\n", v->vbe_index);
        break;
    }
}

/* 0x1CE: index; 0x1CF and 0x1D0: data. A dword at 0x1CE is index + data. */
static uint32_t vbe_io_read(void *opaque, uint16_t port, int size)
{
    struct vga *v = opaque;
    if (port == VBE_IO_BASE)
        return size == 4 ? (uint32_t)v->vbe_index | (uint32_t)vbe_read(v) << 16 : v->vbe_index;
    return vbe_read(v);
}

static void vbe_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct vga *v = opaque;
    if (port == VBE_IO_BASE) {
        v->vbe_index = (uint16_t)(size == 1 ? (value & 0xFF) : value);
        if (size == 4)
            vbe_write(v, (uint16_t)(value >> 16));
        return;
    }
    vbe_write(v, (uint16_t)(size == 1 ? (value & 0xFF) : value));
}

static const struct ioport_ops vbe_io_ops = { vbe_io_read, vbe_io_write };

/* ---- BAR 2: the MMIO register window ------------------------------------ */

#define MMIO_VGA_PORTS 0x400u     /* 0x400-0x41F: ports 0x3C0-0x3DF */
#define MMIO_DISPI     0x500u     /* 0x500-0x515: dispi register n at 0x500 + 2n */
#define MMIO_QEXT      0x600u     /* 0x600 size of this block, 0x604 byte order */
#define QEXT_SIZE      8u
#define QEXT_LITTLE    0x1e1e1e1eu

static uint32_t mmio_read(void *opaque, uint32_t offset, int size)
{
    struct vga *v = opaque;
    if (offset >= MMIO_VGA_PORTS && offset + (uint32_t)size <= MMIO_VGA_PORTS + 0x20)
        return vga_io_read(v, (uint16_t)(0x3C0 + offset - MMIO_VGA_PORTS), size);
    if (offset >= MMIO_DISPI && offset < MMIO_DISPI + 2 * VBE_NREGS && size <= 2) {
        uint16_t saved = v->vbe_index;
        v->vbe_index = (uint16_t)((offset - MMIO_DISPI) / 2);
        uint32_t val = vbe_read(v);
        v->vbe_index = saved;
        return size == 1 ? (val >> (8 * (offset & 1))) & 0xFF : val;
    }
    if (offset == MMIO_QEXT)
        return QEXT_SIZE;
    if (offset == MMIO_QEXT + 4)
        return QEXT_LITTLE;
    return 0;
}

static void mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct vga *v = opaque;
    if (offset >= MMIO_VGA_PORTS && offset + (uint32_t)size <= MMIO_VGA_PORTS + 0x20) {
        vga_io_write(v, (uint16_t)(0x3C0 + offset - MMIO_VGA_PORTS), value, size);
    } else if (offset >= MMIO_DISPI && offset < MMIO_DISPI + 2 * VBE_NREGS && size == 2 &&
               !(offset & 1)) {
        uint16_t saved = v->vbe_index;
        v->vbe_index = (uint16_t)((offset - MMIO_DISPI) / 2);
        vbe_write(v, (uint16_t)value);
        v->vbe_index = saved;
    } else if (offset == MMIO_QEXT + 4 && size == 4) {
        if (value != QEXT_LITTLE)
            machine_log(v->machine, LOG_UNIMP, "vga: big-endian framebuffer requested\n");
    } else {
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: MMIO write 0x%x size %d\n", offset, size);
    }
}

static const struct mmio_ops vga_mmio_ops = { mmio_read, mmio_write };

/* ---- PCI BARs ----------------------------------------------------------- */

static void vga_map_lfb(struct pci_device *dev, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct vga *v = dev->opaque;
    (void)old_addr;   /* what we mapped may differ if mapping failed: trust our own record */
    if (v->lfb_addr != PCI_BAR_UNMAPPED)
        phys_remove_region(&v->machine->mem, v->lfb_addr, PHYS_DEVRAM);
    v->lfb_addr = PCI_BAR_UNMAPPED;
    v->redraw_all = true;
    if (new_addr == PCI_BAR_UNMAPPED)
        return;
    if (phys_add_devram(&v->machine->mem, new_addr, v->vram_size, v->vram) == 0)
        v->lfb_addr = new_addr;
    else
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: cannot map the framebuffer at 0x%x\n",
                    new_addr);
}

static void vga_map_mmio(struct pci_device *dev, int bar, uint32_t old_addr, uint32_t new_addr)
{
    struct vga *v = dev->opaque;
    (void)old_addr;   /* what we mapped may differ if mapping failed: trust our own record */
    if (v->mmio_addr != PCI_BAR_UNMAPPED)
        phys_remove_region(&v->machine->mem, v->mmio_addr, PHYS_MMIO);
    v->mmio_addr = PCI_BAR_UNMAPPED;
    if (new_addr == PCI_BAR_UNMAPPED)
        return;
    if (phys_add_mmio(&v->machine->mem, new_addr, VGA_MMIO_SIZE, &vga_mmio_ops, v) == 0)
        v->mmio_addr = new_addr;
    else
        machine_log(v->machine, LOG_GUEST_ERRORS, "vga: cannot map BAR 2 at 0x%x\n", new_addr);
}

/* ---- device ------------------------------------------------------------- */

static void vga_reset(void *opaque)
{
    struct vga *v = opaque;
    v->misc = v->feature = 0;
    v->sr_index = v->gr_index = v->cr_index = 0;
    memset(v->sr, 0, sizeof v->sr);
    memset(v->gr, 0, sizeof v->gr);
    memset(v->cr, 0, sizeof v->cr);
    memset(v->ar, 0, sizeof v->ar);
    v->ar_index = 0;
    v->ar_flipflop = false;
    v->pel_mask = 0xFF;
    v->dac_read_index = v->dac_write_index = v->dac_sub_index = v->dac_state = 0;
    memset(v->dac_cache, 0, sizeof v->dac_cache);
    memset(v->palette, 0, sizeof v->palette);
    v->latch = 0;
    v->vbe_index = 0;
    memset(v->vbe_regs, 0, sizeof v->vbe_regs);
    v->vbe_regs[VBE_ID] = VBE_ID5;
    v->vbe_line_bytes = 0;
    v->vbe_start = 0;
    v->redraw_all = true;
}

static void vga_destroy(void *opaque)
{
    struct vga *v = opaque;
    free(v->vram);
    free(v->vram_dirty);
    free(v->lfb_bits);
    free(v->fb);
    free(v);
}

/* ---- save state ---- */

/* Every register, the palette, the latches, the VBE registers and the
 * whole video memory. Where BARs 0 and 2 are mapped follows from the
 * configuration space (saved by the PCI bus, which maps them again); the
 * rendered picture is redrawn from this. */
static const struct state_field vga_fields[] = {
    STATE_U8(struct vga, misc),
    STATE_U8(struct vga, feature),
    STATE_U8(struct vga, sr_index),
    STATE_ARRAY(struct vga, sr),
    STATE_U8(struct vga, gr_index),
    STATE_ARRAY(struct vga, gr),
    STATE_U8(struct vga, cr_index),
    STATE_ARRAY(struct vga, cr),
    STATE_U8(struct vga, ar_index),
    STATE_BOOL(struct vga, ar_flipflop),
    STATE_ARRAY(struct vga, ar),
    STATE_U8(struct vga, pel_mask),
    STATE_U8(struct vga, dac_read_index),
    STATE_U8(struct vga, dac_write_index),
    STATE_U8(struct vga, dac_sub_index),
    STATE_U8(struct vga, dac_state),
    STATE_ARRAY(struct vga, dac_cache),
    STATE_ARRAY(struct vga, palette),
    STATE_U32(struct vga, latch),
    STATE_U16(struct vga, vbe_index),
    STATE_ARRAY(struct vga, vbe_regs),
    STATE_U32(struct vga, vbe_line_bytes),
    STATE_U32(struct vga, vbe_start),
    STATE_PTR_BYTES_VAR(struct vga, vram, vram_size),
};
static const struct state_desc vga_state = STATE_DESC("vga", 1, vga_fields);

/* Register indexes and the VBE mode size index arrays and size buffers. */
static int vga_post_load(void *opaque)
{
    struct vga *v = opaque;
    if (v->sr_index >= sizeof v->sr || v->gr_index >= sizeof v->gr || v->dac_sub_index > 2
        || v->vbe_regs[VBE_XRES] > VBE_MAX_XRES || v->vbe_regs[VBE_YRES] > VBE_MAX_YRES
        || v->vbe_start > v->vram_size)
        return -1;
    v->redraw_all = true;         /* vram was replaced behind the tracking */
    return 0;
}

static const struct device_ops vga_device_ops = {
    .name = "vga", .reset = vga_reset, .destroy = vga_destroy,
    .state = &vga_state,
    .post_load = vga_post_load,
};

static const struct display_ops vga_display_ops = {
    .get_text = vga_get_text, .render = vga_render,
    .render_frame = vga_render_frame, .invalidate = vga_invalidate,
};

/* vram_size is rounded up to a power of two in [1 MiB, 256 MiB] (a PCI BAR
 * is a power of two; QEMU rounds its vgamem_mb the same way). */
static uint32_t vga_vram_size(uint32_t requested)
{
    uint32_t size = VGA_MIN_VRAM;
    while (size < requested && size < VGA_MAX_VRAM)
        size <<= 1;
    return size;
}

int vga_create(struct machine *m, struct pci_bus *bus, int devfn, uint32_t vram_size)
{
    struct vga *v = calloc(1, sizeof *v);
    if (!v)
        return -1;
    v->machine = m;
    v->vram_size = vga_vram_size(vram_size);
    v->vram = calloc(1, v->vram_size);
    v->vram_pages = v->vram_size >> 12;
    v->vram_dirty = calloc(v->vram_pages / 64, sizeof *v->vram_dirty);
    v->lfb_bits = calloc(v->vram_pages / 64 + 1, sizeof *v->lfb_bits);
    if (!v->vram || !v->vram_dirty || !v->lfb_bits) {
        vga_destroy(v);
        return -1;
    }
    v->lfb_addr = v->mmio_addr = PCI_BAR_UNMAPPED;
    vga_reset(v);
    if (machine_add_device(m, &vga_device_ops, v) != 0) {
        vga_destroy(v);
        return -1;
    }
    if (ioport_register(&m->io, VGA_IO_BASE, VGA_IO_COUNT, &vga_io_ops, v) != 0 ||
        ioport_register(&m->io, VBE_IO_BASE, VBE_IO_COUNT, &vbe_io_ops, v) != 0 ||
        phys_add_mmio(&m->mem, VGA_WINDOW_BASE, VGA_WINDOW_SIZE, &vga_window_ops, v) != 0)
        return -1;
    if (bus) {
        pci_config_init(&v->pci, 0x1234, 0x1111, 0x02, 0x030000, 0);
        pci_set_subsystem(&v->pci, 0x1AF4, 0x1100);
        v->pci.name = "VGA";
        v->pci.opaque = v;
        pci_register_bar(&v->pci, 0, v->vram_size, PCI_BAR_MEM | PCI_BAR_PREFETCH, vga_map_lfb);
        pci_register_bar(&v->pci, 2, VGA_MMIO_SIZE, PCI_BAR_MEM, vga_map_mmio);
        if (pci_register_device(bus, &v->pci, devfn) != 0)
            return -1;
        v->has_pci = true;
    }
    /* LFB stores are found through dirty logging; window writes mark vram_dirty */
    phys_dirty_enable(&m->mem, PHYS_DIRTY_VGA, true);
    m->display.ops = &vga_display_ops;
    m->display.opaque = v;
    return 0;
}
