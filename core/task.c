/* core/task.c: the hardware task switch.
 *
 * Follows the Intel SDM Vol. 3, 7.3 (task switching steps), Table 7-1
 * (exception conditions checked during a task switch), 7.4 (nesting: NT,
 * back link, busy bit) and 7.6 (16-bit TSS).
 *
 * Reached from: JMP/CALL to a TSS descriptor or task gate (exec_sys.c),
 * INT n / exceptions / interrupts through an IDT task gate (except.c), and
 * IRET with NT = 1 (back link). The caller does the gate/TSS privilege
 * checks of its instruction; task_switch does the rest, in this order:
 *   1. new TSS descriptor: a TSS type (busy for IRET, available otherwise:
 *      #TS resp. #GP), present (#NP), limit >= 0x67 (32-bit) or 0x2B
 *      (16-bit) (#TS); the old TSS must hold the state to be saved (#TS);
 *   2. read the whole new TSS (faults still in the old task);
 *   3. save EIP (return_eip), EFLAGS (NT cleared for IRET), the general
 *      and segment registers into the old TSS; CALL/INT: write the back
 *      link into the new TSS and set NT in the new EFLAGS; JMP/IRET: clear
 *      the old TSS's busy bit; JMP/CALL/INT: set the new TSS's busy bit.
 *      (The SDM clears the old busy bit before saving; doing it after
 *      means a #PF while saving leaves the descriptors untouched. The old
 *      TSS pages are not probed in advance, so such a #PF can leave the old
 *      TSS partly rewritten, which a restarted switch overwrites.)
 *   4. commit: TR, CR0.TS, CR3 (32-bit TSS with paging on; TLB flushed),
 *      EFLAGS, EIP, general registers, every segment selector (marked
 *      unusable until its descriptor is checked);
 *   5. in the new task's context: LDTR (#TS), CS (#TS / #NP), SS (#TS /
 *      #SS), DS ES FS GS (#TS / #NP), all with EXT from the event; a V86
 *      task (EFLAGS.VM) loads its segments the real-mode way at CPL 3;
 *   6. INT with an error code: push it on the new stack (#SS);
 *      EIP beyond the CS limit: #GP; T bit in the new TSS: DR6.BT and #DB.
 * 16-bit TSS (as observed on hardware and in other emulators): the upper
 * halves of the general registers load as 0xFFFF, EFLAGS and EIP are
 * zero-extended, FS and GS become null; no CR3 and no T bit.
 */
#include "prot.h"

#include "mem.h"

/* 32-bit TSS field offsets */
enum {
    TSS32_LINK = 0x00, TSS32_CR3 = 0x1C, TSS32_EIP = 0x20, TSS32_EFLAGS = 0x24,
    TSS32_GPR = 0x28, TSS32_SEG = 0x48, TSS32_LDT = 0x60, TSS32_TRAP = 0x64,
    TSS32_MIN_LIMIT = 0x67,
};
/* 16-bit TSS field offsets */
enum {
    TSS16_LINK = 0, TSS16_IP = 14, TSS16_FLAGS = 16, TSS16_GPR = 18, TSS16_SEG = 34,
    TSS16_LDT = 42, TSS16_MIN_LIMIT = 0x2B,
};

#define DR6_BT (1u << 15)

struct tss_state {
    uint32_t eip, eflags, cr3;
    uint32_t gpr[8];
    uint16_t sel[6];      /* ES CS SS DS FS GS, the SEG_* order */
    uint16_t ldt;
    bool     trap;
};

static bool tss_type_32(int type)
{
    return type == DESC_TSS32_AVAIL || type == DESC_TSS32_BUSY;
}

static bool tss_type_any(int type)
{
    return type == DESC_TSS16_AVAIL || type == DESC_TSS16_BUSY ||
           type == DESC_TSS32_AVAIL || type == DESC_TSS32_BUSY;
}

static uint32_t sys_read(struct cpu *cpu, uint32_t lin, int size)
{
    return size == 4 ? cpu_lin_read32(cpu, lin, MEM_READ | MEM_SYSTEM)
                     : cpu_lin_read16(cpu, lin, MEM_READ | MEM_SYSTEM);
}

static void sys_write(struct cpu *cpu, uint32_t lin, uint32_t v, int size)
{
    if (size == 4)
        cpu_lin_write32(cpu, lin, v, MEM_WRITE | MEM_SYSTEM);
    else
        cpu_lin_write16(cpu, lin, (uint16_t)v, MEM_WRITE | MEM_SYSTEM);
}

static void tss_read(struct cpu *cpu, uint32_t base, bool tss32, struct tss_state *st)
{
    if (tss32) {
        st->cr3 = sys_read(cpu, base + TSS32_CR3, 4);
        st->eip = sys_read(cpu, base + TSS32_EIP, 4);
        st->eflags = sys_read(cpu, base + TSS32_EFLAGS, 4);
        for (int i = 0; i < 8; i++)
            st->gpr[i] = sys_read(cpu, base + TSS32_GPR + 4u * (uint32_t)i, 4);
        for (int i = 0; i < 6; i++)
            st->sel[i] = (uint16_t)sys_read(cpu, base + TSS32_SEG + 4u * (uint32_t)i, 2);
        st->ldt = (uint16_t)sys_read(cpu, base + TSS32_LDT, 2);
        st->trap = sys_read(cpu, base + TSS32_TRAP, 2) & 1;
    } else {
        st->cr3 = cpu->cr3;
        st->eip = sys_read(cpu, base + TSS16_IP, 2);
        st->eflags = sys_read(cpu, base + TSS16_FLAGS, 2);
        for (int i = 0; i < 8; i++)
            st->gpr[i] = 0xFFFF0000u | sys_read(cpu, base + TSS16_GPR + 2u * (uint32_t)i, 2);
        for (int i = 0; i < 4; i++)
            st->sel[i] = (uint16_t)sys_read(cpu, base + TSS16_SEG + 2u * (uint32_t)i, 2);
        st->sel[SEG_FS] = 0;
        st->sel[SEG_GS] = 0;
        st->ldt = (uint16_t)sys_read(cpu, base + TSS16_LDT, 2);
        st->trap = false;
    }
}

static void tss_save(struct cpu *cpu, uint32_t base, bool tss32, uint32_t eip, uint32_t eflags)
{
    if (tss32) {
        sys_write(cpu, base + TSS32_EIP, eip, 4);
        sys_write(cpu, base + TSS32_EFLAGS, eflags, 4);
        for (int i = 0; i < 8; i++)
            sys_write(cpu, base + TSS32_GPR + 4u * (uint32_t)i, cpu->gpr[i], 4);
        for (int i = 0; i < 6; i++)
            sys_write(cpu, base + TSS32_SEG + 4u * (uint32_t)i, cpu->seg[i].sel, 2);
    } else {
        sys_write(cpu, base + TSS16_IP, eip, 2);
        sys_write(cpu, base + TSS16_FLAGS, eflags, 2);
        for (int i = 0; i < 8; i++)
            sys_write(cpu, base + TSS16_GPR + 2u * (uint32_t)i, cpu->gpr[i], 2);
        for (int i = 0; i < 4; i++)
            sys_write(cpu, base + TSS16_SEG + 2u * (uint32_t)i, cpu->seg[i].sel, 2);
    }
}

/* Step 5: LDTR and the segment registers, checked in the new task. */
static void load_task_segments(struct cpu *cpu, const struct tss_state *st, uint32_t ext)
{
    uint16_t ldt = st->ldt;
    if (sel_is_null(ldt)) {
        seg_make_null(cpu, SEG_LDTR, ldt);
    } else {
        if (ldt & 4)
            cpu_raise(cpu, EXC_TS, sel_error(ldt, ext));
        struct desc d = seg_fetch_or_raise(cpu, ldt, EXC_TS, ext);
        if (desc_is_seg(d) || desc_type(d) != DESC_LDT || !desc_present(d))
            cpu_raise(cpu, EXC_TS, sel_error(ldt, ext));
        seg_cache_from_desc(&cpu->seg[SEG_LDTR], ldt, d);
    }

    if (cpu->eflags & FL_VM) {
        for (int s = SEG_ES; s <= SEG_GS; s++)
            seg_load_v86(cpu, s, st->sel[s]);
        cpu->cpl = 3;
        return;
    }

    uint16_t cs_sel = st->sel[SEG_CS];
    int cpl = sel_rpl(cs_sel);
    if (sel_is_null(cs_sel))
        cpu_raise(cpu, EXC_TS, sel_error(cs_sel, ext));
    struct desc cs = seg_fetch_or_raise(cpu, cs_sel, EXC_TS, ext);
    if (!desc_is_code(cs) ||
        (desc_conforming(cs) ? desc_dpl(cs) > cpl : desc_dpl(cs) != cpl))
        cpu_raise(cpu, EXC_TS, sel_error(cs_sel, ext));
    if (!desc_present(cs))
        cpu_raise(cpu, EXC_NP, sel_error(cs_sel, ext));
    cs = seg_mark_accessed(cpu, cs_sel, cs);
    seg_load_cs(cpu, cs_sel, cs, cpl);

    seg_load_data_checked(cpu, SEG_SS, st->sel[SEG_SS], cpl, EXC_TS, ext);
    static const int data_segs[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
    for (unsigned i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++)
        seg_load_data_checked(cpu, data_segs[i], st->sel[data_segs[i]], cpl, EXC_TS, ext);
}

void task_switch(struct cpu *cpu, uint16_t tss_sel, struct desc tss_desc,
                 enum task_reason why, uint32_t ext, uint32_t error_code,
                 uint32_t return_eip)
{
    /* 1. the new TSS descriptor, and the old TSS */
    int type = desc_type(tss_desc);
    bool busy = type == DESC_TSS16_BUSY || type == DESC_TSS32_BUSY;
    if (desc_is_seg(tss_desc) || !tss_type_any(type))
        cpu_raise(cpu, why == TASK_IRET ? EXC_TS : EXC_GP, sel_error(tss_sel, ext));
    if (why == TASK_IRET && !busy)
        cpu_raise(cpu, EXC_TS, sel_error(tss_sel, ext));
    if (why != TASK_IRET && busy)
        cpu_raise(cpu, EXC_GP, sel_error(tss_sel, ext));
    if (!desc_present(tss_desc))
        cpu_raise(cpu, EXC_NP, sel_error(tss_sel, ext));
    bool new32 = tss_type_32(type);
    if (desc_limit(tss_desc) < (new32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        cpu_raise(cpu, EXC_TS, sel_error(tss_sel, ext));

    struct seg_cache old_tr = cpu->seg[SEG_TR];
    bool old32 = tss_type_32(old_tr.flags & 0xF);
    if (!old_tr.valid || old_tr.limit < (old32 ? 0x5Fu : 0x29u))
        cpu_raise(cpu, EXC_TS, sel_error(old_tr.sel, ext));
    struct desc old_desc = { 0, 0 };
    if (why == TASK_JMP || why == TASK_IRET)
        old_desc = seg_fetch_or_raise(cpu, old_tr.sel, EXC_TS, ext);

    /* 2. read the new task's state */
    uint32_t new_base = desc_base(tss_desc);
    struct tss_state st;
    tss_read(cpu, new_base, new32, &st);

    /* 3. old task out, busy bits and link */
    uint32_t old_eflags = cpu_get_eflags(cpu);
    if (why == TASK_IRET)
        old_eflags &= ~(uint32_t)FL_NT;
    tss_save(cpu, old_tr.base, old32, return_eip, old_eflags);
    if (why == TASK_CALL || why == TASK_INT) {
        sys_write(cpu, new_base + (new32 ? TSS32_LINK : TSS16_LINK), old_tr.sel, 2);
        st.eflags |= FL_NT;
    }
    if (why == TASK_JMP || why == TASK_IRET)
        desc_store_hi(cpu, old_tr.sel, old_desc.hi & ~DESC_TSS_BUSY);
    if (why != TASK_IRET) {
        tss_desc.hi |= DESC_TSS_BUSY;
        desc_store_hi(cpu, tss_sel, tss_desc.hi);
    }

    /* 4. commit the new task's registers */
    seg_cache_from_desc(&cpu->seg[SEG_TR], tss_sel, tss_desc);
    cpu->cr0 |= CR0_TS;
    if (new32 && (cpu->cr0 & CR0_PG)) {
        cpu->cr3 = st.cr3;
        cpu_tlb_flush(cpu, false);
    }
    for (int i = 0; i < 8; i++)
        cpu->gpr[i] = st.gpr[i];
    cpu_set_eflags(cpu, st.eflags, FL_VALID_MASK);
    cpu->eip = cpu->next_eip = st.eip;
    for (int s = SEG_ES; s <= SEG_GS; s++) {
        cpu->seg[s].sel = st.sel[s];
        cpu->seg[s].valid = false;
    }
    cpu->seg[SEG_LDTR].sel = st.ldt;
    cpu->seg[SEG_LDTR].valid = false;
    cpu->cpl = (cpu->eflags & FL_VM) ? 3 : (uint8_t)sel_rpl(st.sel[SEG_CS]);

    /* 5. segment registers, faults in the new task */
    load_task_segments(cpu, &st, ext);

    /* 6. error code, EIP, T bit */
    if (why == TASK_INT && error_code != NO_ERROR_CODE) {
        struct stack_cursor sk;
        stk_current(cpu, &sk);
        sk.ss_error = ext;
        int size = new32 ? 4 : 2;
        stk_check_push_room(cpu, &sk, (uint32_t)size);
        stk_push(cpu, &sk, error_code, size);
        stk_commit(cpu, &sk, false);
    }
    if (cpu->eip > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, ext);
    if (st.trap) {
        cpu->dr[6] |= DR6_BT;
        cpu_raise(cpu, EXC_DB, NO_ERROR_CODE);
    }
}
