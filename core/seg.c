/* core/seg.c: loading segment registers with the protection checks, and the
 * uncommitted stack cursor used by far transfers and interrupts.
 *
 * Follows the Intel SDM Vol. 3, 5.4-5.8 (segment-level protection) and the
 * MOV/POP/LDS pages of Vol. 2:
 *   - DS/ES/FS/GS: a null selector loads an unusable register (valid =
 *     false) without a fault; otherwise the descriptor must be data or
 *     readable code, and for data / non-conforming code max(CPL, RPL) <= DPL.
 *     Errors raise #GP(selector) (#TS inside a task switch); not present #NP.
 *   - SS: the selector must be non-null, RPL = DPL = CPL, writable data;
 *     not present raises #SS(selector).
 *   - The accessed bit is set in the descriptor in memory when a segment is
 *     loaded (and before the register changes).
 * Error codes are selector & ~3 with bit 2 (TI) kept and bit 0 = EXT.
 * A null selector makes the register unusable (valid = false) and leaves
 * the rest of the hidden cache as it was.
 * In real mode a load sets the selector and base = sel << 4 and leaves the
 * cached limit and attributes alone (so "unreal mode" works as on hardware);
 * in V86 mode a load also sets limit 0xFFFF and DPL 3 read/write data.
 * CS is loaded only by the control-transfer code (exec_sys.c, except.c,
 * task.c) through seg_load_cs.
 *
 * Invariant: nothing here changes a segment register before every check
 * that can fault has passed.
 */
#include "prot.h"

#include "mem.h"

/* ---------------------------------------------------------------- stack */

void stk_current(struct cpu *cpu, struct stack_cursor *sk)
{
    sk->ss = cpu->seg[SEG_SS];
    sk->esp = cpu->gpr[R_ESP];
    sk->access = 0;
    sk->ss_error = 0;
}

static bool stk_big(const struct stack_cursor *sk)
{
    return sk->ss.flags & SEGF_DB;
}

static uint32_t stk_offset(const struct stack_cursor *sk, uint32_t esp)
{
    return stk_big(sk) ? esp : (esp & 0xFFFF);
}

/* Are bytes [off, off + len) inside the stack segment (expand-up or -down)? */
static bool stk_range_ok(const struct stack_cursor *sk, uint32_t off, uint32_t len)
{
    uint32_t top = stk_big(sk) ? 0xFFFFFFFFu : 0xFFFFu;
    uint64_t last = (uint64_t)off + len - 1;
    if (last > top)
        return false;
    if ((sk->ss.flags & (SEGF_CODE | SEGF_DC)) == SEGF_DC)   /* expand-down data */
        return off > sk->ss.limit;
    return last <= sk->ss.limit;
}

void stk_check_push_room(struct cpu *cpu, const struct stack_cursor *sk, uint32_t n)
{
    uint32_t low = sk->esp - n;
    if (!stk_big(sk) && (sk->esp & 0xFFFF) < n) {
        /* a 16-bit stack wraps; check the two pieces */
        uint32_t below = n - (sk->esp & 0xFFFF);
        if ((sk->esp & 0xFFFF) && !stk_range_ok(sk, 0, sk->esp & 0xFFFF))
            cpu_raise(cpu, EXC_SS, sk->ss_error);
        if (!stk_range_ok(sk, 0x10000 - below, below))
            cpu_raise(cpu, EXC_SS, sk->ss_error);
        return;
    }
    if (n && !stk_range_ok(sk, stk_offset(sk, low), n))
        cpu_raise(cpu, EXC_SS, sk->ss_error);
}

void stk_check_pop_room(struct cpu *cpu, const struct stack_cursor *sk, uint32_t skip, uint32_t n)
{
    uint32_t off = stk_offset(sk, sk->esp + skip);
    if (!stk_big(sk) && off + n > 0x10000) {
        if (!stk_range_ok(sk, off, 0x10000 - off) || !stk_range_ok(sk, 0, off + n - 0x10000))
            cpu_raise(cpu, EXC_SS, sk->ss_error);
        return;
    }
    if (n && !stk_range_ok(sk, off, n))
        cpu_raise(cpu, EXC_SS, sk->ss_error);
}

static void stk_write(struct cpu *cpu, const struct stack_cursor *sk, uint32_t off,
                      uint32_t value, int size)
{
    if (!stk_range_ok(sk, off, (uint32_t)size))
        cpu_raise(cpu, EXC_SS, sk->ss_error);
    uint32_t lin = sk->ss.base + off;
    unsigned access = MEM_WRITE | sk->access;
    if (size == 4)
        cpu_lin_write32(cpu, lin, value, access);
    else
        cpu_lin_write16(cpu, lin, (uint16_t)value, access);
}

static uint32_t stk_read(struct cpu *cpu, const struct stack_cursor *sk, uint32_t off, int size)
{
    if (!stk_range_ok(sk, off, (uint32_t)size))
        cpu_raise(cpu, EXC_SS, sk->ss_error);
    uint32_t lin = sk->ss.base + off;
    if (size == 4)
        return cpu_lin_read32(cpu, lin, MEM_READ | sk->access);
    return cpu_lin_read16(cpu, lin, MEM_READ | sk->access);
}

void stk_adjust(struct stack_cursor *sk, uint32_t delta)
{
    if (stk_big(sk))
        sk->esp += delta;
    else
        sk->esp = (sk->esp & 0xFFFF0000u) | ((sk->esp + delta) & 0xFFFF);
}

void stk_push(struct cpu *cpu, struct stack_cursor *sk, uint32_t value, int size)
{
    uint32_t off = stk_offset(sk, sk->esp - (uint32_t)size);
    stk_write(cpu, sk, off, value, size);
    stk_adjust(sk, (uint32_t)-size);
}

uint32_t stk_pop(struct cpu *cpu, struct stack_cursor *sk, int size)
{
    uint32_t v = stk_read(cpu, sk, stk_offset(sk, sk->esp), size);
    stk_adjust(sk, (uint32_t)size);
    return v;
}

uint32_t stk_peek(struct cpu *cpu, const struct stack_cursor *sk, uint32_t skip, int size)
{
    return stk_read(cpu, sk, stk_offset(sk, sk->esp + skip), size);
}

void stk_commit(struct cpu *cpu, const struct stack_cursor *sk, bool load_ss)
{
    if (load_ss)
        cpu->seg[SEG_SS] = sk->ss;
    cpu->gpr[R_ESP] = sk->esp;
}

/* ---------------------------------------------------------- descriptors */

struct desc seg_fetch_or_raise(struct cpu *cpu, uint16_t sel, int vector, uint32_t ext)
{
    struct desc d;
    if (!desc_fetch(cpu, sel, &d))
        cpu_raise(cpu, vector, sel_error(sel, ext));
    return d;
}

struct desc seg_mark_accessed(struct cpu *cpu, uint16_t sel, struct desc d)
{
    if (!(d.hi & DESC_ACCESSED)) {
        d.hi |= DESC_ACCESSED;
        desc_store_hi(cpu, sel, d.hi);
    }
    return d;
}

/* The hidden base, limit and attributes are kept (only "usable" is
 * cleared), so a later real-mode load that sets only the base finds the
 * limit that was there before, as on Intel hardware. */
void seg_make_null(struct cpu *cpu, int seg, uint16_t sel)
{
    struct seg_cache *sc = &cpu->seg[seg];
    sc->sel = sel;
    sc->valid = false;
}

void seg_load_cs(struct cpu *cpu, uint16_t sel, struct desc d, int cpl)
{
    uint16_t cs = (uint16_t)((sel & 0xFFFC) | cpl);
    seg_cache_from_desc(&cpu->seg[SEG_CS], cs, d);
    cpu->seg[SEG_CS].valid = true;
    cpu->cpl = (uint8_t)cpl;
}

void seg_load_v86(struct cpu *cpu, int seg, uint16_t sel)
{
    struct seg_cache *sc = &cpu->seg[seg];
    sc->sel = sel;
    sc->base = (uint32_t)sel << 4;
    sc->limit = 0xFFFF;
    sc->flags = SEGF_P | (3u << SEGF_DPL_SHIFT) | SEGF_S | SEGF_RW | SEGF_A;
    sc->valid = true;
}

struct desc seg_check_stack(struct cpu *cpu, uint16_t sel, int cpl, int bad_vector, uint32_t ext)
{
    if (sel_is_null(sel))
        cpu_raise(cpu, bad_vector, sel_error(sel, ext));
    struct desc d = seg_fetch_or_raise(cpu, sel, bad_vector, ext);
    if (sel_rpl(sel) != cpl || !desc_writable_data(d) || desc_dpl(d) != cpl)
        cpu_raise(cpu, bad_vector, sel_error(sel, ext));
    if (!desc_present(d))
        cpu_raise(cpu, EXC_SS, sel_error(sel, ext));
    return seg_mark_accessed(cpu, sel, d);
}

void seg_load_data_checked(struct cpu *cpu, int seg, uint16_t sel, int cpl,
                           int bad_vector, uint32_t ext)
{
    if (seg == SEG_SS) {
        struct desc d = seg_check_stack(cpu, sel, cpl, bad_vector, ext);
        seg_cache_from_desc(&cpu->seg[SEG_SS], sel, d);
        cpu->seg[SEG_SS].valid = true;
        return;
    }
    if (sel_is_null(sel)) {
        seg_make_null(cpu, seg, sel);
        return;
    }
    struct desc d = seg_fetch_or_raise(cpu, sel, bad_vector, ext);
    bool data = desc_is_seg(d) && !desc_is_code(d);
    if (!data && !desc_readable_code(d))
        cpu_raise(cpu, bad_vector, sel_error(sel, ext));
    if ((data || !desc_conforming(d)) &&
        (sel_rpl(sel) > desc_dpl(d) || cpl > desc_dpl(d)))
        cpu_raise(cpu, bad_vector, sel_error(sel, ext));
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, sel_error(sel, ext));
    d = seg_mark_accessed(cpu, sel, d);
    seg_cache_from_desc(&cpu->seg[seg], sel, d);
    cpu->seg[seg].valid = true;
}

void seg_null_inaccessible(struct cpu *cpu)
{
    static const int data_segs[] = { SEG_ES, SEG_FS, SEG_GS, SEG_DS };
    for (unsigned i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++) {
        struct seg_cache *sc = &cpu->seg[data_segs[i]];
        bool code = sc->flags & SEGF_CODE;
        bool conforming = code && (sc->flags & SEGF_DC);
        if (sc->valid && !conforming && seg_cache_dpl(sc) < cpu->cpl)
            seg_make_null(cpu, data_segs[i], 0);
    }
}

/* ---------------------------------------------------------------- public */

void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t sel)
{
    if (cpu_v86(cpu)) {
        seg_load_v86(cpu, seg, sel);
        return;
    }
    struct seg_cache *sc = &cpu->seg[seg];
    sc->sel = sel;
    sc->base = (uint32_t)sel << 4;
    sc->valid = true;
}

void cpu_load_seg(struct cpu *cpu, int seg, uint16_t sel)
{
    if (!cpu_protected(cpu) || cpu_v86(cpu)) {
        cpu_load_seg_real(cpu, seg, sel);
        return;
    }
    if (seg == SEG_CS || seg > SEG_GS)     /* CS only through control transfers */
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    seg_load_data_checked(cpu, seg, sel, cpu->cpl, EXC_GP, 0);
}
