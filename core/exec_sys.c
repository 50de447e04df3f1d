/* core/exec_sys.c: far control transfers, software interrupts, IRET and the
 * segment-register instructions.
 *
 * Covered: JMP_FAR CALL_FAR RET_FAR INT INT3 INTO INT1 IRET MOV_TO_SREG
 * MOV_FROM_SREG PUSH_SREG POP_SREG LDS LES LFS LGS LSS. Semantics follow the
 * Intel SDM Vol. 2 instruction pages (JMP, CALL, RET, INT n, IRET, MOV,
 * PUSH, POP, LDS) and Vol. 3 chapters 5.8 (call gates, privilege changes),
 * 6.12 (interrupt gates), 7.3 (task switches) and 20 (V86 mode).
 *
 * Fault before commit: each handler reads its operands, fetches and checks
 * every descriptor, checks stack room and the target EIP against the new CS
 * limit, then writes the (new) stack through an uncommitted stack cursor
 * (prot.h), and only then commits CS, SS, ESP, EFLAGS, CPL and next_eip.
 * In real and V86 mode the real-address semantics apply (base = sel << 4,
 * no descriptor checks, EIP checked against the CS limit).
 *
 * Choices where the SDM leaves room (P6 behaviour):
 *   - PUSH Sreg with 32-bit operand size moves ESP by 4 and writes only the
 *     low 16 bits (the upper half of the stack slot is left as it was): the
 *     SDM allows this or a zero-extended push and documents the 16-bit move
 *     for Intel's processors; we take it for the P6 model (QEMU zero-extends).
 *     Far CALL, INT and exceptions push CS and SS zero-extended to 32 bits.
 *   - MOV r32, Sreg zero-extends; MOV m16, Sreg always stores 16 bits.
 *   - MOV SS and POP SS set irq_inhibit = 1 (interrupts and single-step
 *     traps wait until the next instruction completes); LSS does not.
 *   - IRET and RET to an outer ring with a 16-bit SS load only SP (the
 *     upper half of ESP keeps the inner value, as hardware does).
 *   - Returning to an outer ring nulls (selector 0, unusable) ES, DS, FS
 *     and GS that hold data or non-conforming code with DPL < new CPL.
 *   - IRET clears cpu->nmi_blocked.
 * Not supported: CR4.VME (INT n in V86 with IOPL < 3 always raises #GP(0)).
 *
 * Usage: exec_table_init() calls exec_register_sys(exec_table).
 */
#include "prot.h"

#include "exec.h"
#include "flags.h"

/* ---- helpers ------------------------------------------------------------ */

static bool cpu_real_like(const struct cpu *cpu)
{
    return !cpu_protected(cpu) || cpu_v86(cpu);
}

/* The far pointer operand: direct (ptr16:16/32) or m16:16/32. */
static uint16_t far_operand(struct cpu *cpu, const struct insn *in, uint32_t *offset)
{
    const struct opnd *o = &in->opnd[0];
    if (o->kind == OPND_FAR) {
        *offset = in->imm & size_mask(in->opsize);
        return (uint16_t)in->imm2;
    }
    if (o->kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    uint32_t ea = insn_ea(cpu, in);
    *offset = cpu_read_sized(cpu, in->seg, ea, in->opsize);
    return cpu_read16(cpu, in->seg, ea + in->opsize);
}

/* Checks of a code segment reached directly by JMP or CALL (not via a gate). */
static void check_direct_code(struct cpu *cpu, uint16_t sel, struct desc d)
{
    if (desc_conforming(d)) {
        if (desc_dpl(d) > cpu->cpl)
            cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
    } else if (sel_rpl(sel) > cpu->cpl || desc_dpl(d) != cpu->cpl) {
        cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
    }
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, sel_error(sel, 0));
}

/* Gate or TSS descriptor privilege: DPL >= CPL and DPL >= RPL, then present. */
static void check_gate_access(struct cpu *cpu, uint16_t sel, struct desc d)
{
    if (desc_dpl(d) < cpu->cpl || desc_dpl(d) < sel_rpl(sel))
        cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
}

/* The code segment named by a call gate (JMP: is_call false). */
static struct desc gate_target(struct cpu *cpu, uint16_t cs_sel, bool is_call)
{
    if (sel_is_null(cs_sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = seg_fetch_or_raise(cpu, cs_sel, EXC_GP, 0);
    if (!desc_is_code(d))
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, 0));
    if (is_call || desc_conforming(d)) {
        if (desc_dpl(d) > cpu->cpl)
            cpu_raise(cpu, EXC_GP, sel_error(cs_sel, 0));
    } else if (desc_dpl(d) != cpu->cpl) {
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, 0));
    }
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, sel_error(cs_sel, 0));
    return d;
}

/* JMP/CALL to a TSS descriptor or a task gate. */
static void far_to_task(struct cpu *cpu, uint16_t sel, struct desc d, enum task_reason why)
{
    check_gate_access(cpu, sel, d);
    uint16_t tss_sel = sel;
    struct desc tss = d;
    if (desc_type(d) == DESC_TASKGATE) {
        if (!desc_present(d))
            cpu_raise(cpu, EXC_NP, sel_error(sel, 0));
        tss_sel = gate_selector(d);
        if (tss_sel & 4)
            cpu_raise(cpu, EXC_GP, sel_error(tss_sel, 0));
        tss = seg_fetch_or_raise(cpu, tss_sel, EXC_GP, 0);
    } else if (sel & 4) {
        cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
    }
    task_switch(cpu, tss_sel, tss, why, 0, NO_ERROR_CODE, cpu->next_eip);
}

static bool is_tss_type(int type)
{
    return type == DESC_TSS16_AVAIL || type == DESC_TSS16_BUSY ||
           type == DESC_TSS32_AVAIL || type == DESC_TSS32_BUSY;
}

/* ---- JMP far ------------------------------------------------------------- */

static void exec_jmp_far(struct cpu *cpu, const struct insn *in)
{
    uint32_t offset;
    uint16_t sel = far_operand(cpu, in, &offset);

    if (cpu_real_like(cpu)) {
        uint32_t limit = cpu_v86(cpu) ? 0xFFFF : cpu->seg[SEG_CS].limit;
        if (offset > limit)
            cpu_raise(cpu, EXC_GP, 0);
        cpu_load_seg_real(cpu, SEG_CS, sel);
        cpu->next_eip = offset;
        return;
    }

    if (sel_is_null(sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = seg_fetch_or_raise(cpu, sel, EXC_GP, 0);
    if (desc_is_seg(d)) {
        if (!desc_is_code(d))
            cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
        check_direct_code(cpu, sel, d);
        if (offset > desc_limit(d))
            cpu_raise(cpu, EXC_GP, 0);
        d = seg_mark_accessed(cpu, sel, d);
        seg_load_cs(cpu, sel, d, cpu->cpl);
        cpu->next_eip = offset;
        return;
    }
    int type = desc_type(d);
    if (type == DESC_CALLGATE16 || type == DESC_CALLGATE32) {
        check_gate_access(cpu, sel, d);
        if (!desc_present(d))
            cpu_raise(cpu, EXC_NP, sel_error(sel, 0));
        uint16_t cs_sel = gate_selector(d);
        struct desc cs = gate_target(cpu, cs_sel, false);
        uint32_t target = gate_offset(d);
        if (type == DESC_CALLGATE16)
            target &= 0xFFFF;
        if (target > desc_limit(cs))
            cpu_raise(cpu, EXC_GP, 0);
        cs = seg_mark_accessed(cpu, cs_sel, cs);
        seg_load_cs(cpu, cs_sel, cs, cpu->cpl);
        cpu->next_eip = target;
        return;
    }
    if (type == DESC_TASKGATE || is_tss_type(type)) {
        far_to_task(cpu, sel, d, TASK_JMP);
        return;
    }
    cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
}

/* ---- CALL far ------------------------------------------------------------ */

/* Same-privilege call: push CS:EIP (size bytes each) and go to cs:target. */
static void call_same_privilege(struct cpu *cpu, uint16_t cs_sel, struct desc cs,
                                uint32_t target, int size)
{
    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_check_push_room(cpu, &sk, 2u * (uint32_t)size);
    if (target > desc_limit(cs))
        cpu_raise(cpu, EXC_GP, 0);
    cs = seg_mark_accessed(cpu, cs_sel, cs);
    stk_push(cpu, &sk, cpu->seg[SEG_CS].sel, size);
    stk_push(cpu, &sk, cpu->next_eip, size);
    stk_commit(cpu, &sk, false);
    seg_load_cs(cpu, cs_sel, cs, cpu->cpl);
    cpu->next_eip = target;
}

/* Call through a gate to a more privileged non-conforming segment (SDM
 * CALL, MORE-PRIVILEGE): new stack from the TSS, parameters copied. */
static void call_inner_privilege(struct cpu *cpu, struct desc gate, uint16_t cs_sel,
                                 struct desc cs, uint32_t target, int size)
{
    int dpl = desc_dpl(cs);
    uint16_t new_ss;
    uint32_t new_esp;
    tss_inner_stack(cpu, dpl, 0, &new_ss, &new_esp);
    struct desc ssd = seg_check_stack(cpu, new_ss, dpl, EXC_TS, 0);

    struct stack_cursor sk;
    seg_cache_from_desc(&sk.ss, new_ss, ssd);
    sk.esp = new_esp;
    sk.access = MEM_SYSTEM;
    sk.ss_error = sel_error(new_ss, 0);
    uint32_t params = (uint32_t)gate_param_count(gate);
    stk_check_push_room(cpu, &sk, (4 + params) * (uint32_t)size);
    if (target > desc_limit(cs))
        cpu_raise(cpu, EXC_GP, 0);

    struct stack_cursor old;
    stk_current(cpu, &old);
    stk_check_pop_room(cpu, &old, 0, params * (uint32_t)size);
    uint32_t values[32];
    for (uint32_t i = 0; i < params; i++)
        values[i] = stk_peek(cpu, &old, i * (uint32_t)size, size);
    cs = seg_mark_accessed(cpu, cs_sel, cs);

    stk_push(cpu, &sk, cpu->seg[SEG_SS].sel, size);
    stk_push(cpu, &sk, cpu->gpr[R_ESP], size);
    for (uint32_t i = params; i-- > 0;)
        stk_push(cpu, &sk, values[i], size);
    stk_push(cpu, &sk, cpu->seg[SEG_CS].sel, size);
    stk_push(cpu, &sk, cpu->next_eip, size);

    stk_commit(cpu, &sk, true);
    seg_load_cs(cpu, cs_sel, cs, dpl);
    cpu->next_eip = target;
}

static void exec_call_far(struct cpu *cpu, const struct insn *in)
{
    uint32_t offset;
    uint16_t sel = far_operand(cpu, in, &offset);
    int size = in->opsize;

    if (cpu_real_like(cpu)) {
        struct stack_cursor sk;
        stk_current(cpu, &sk);
        stk_check_push_room(cpu, &sk, 2u * (uint32_t)size);
        uint32_t limit = cpu_v86(cpu) ? 0xFFFF : cpu->seg[SEG_CS].limit;
        if (offset > limit)
            cpu_raise(cpu, EXC_GP, 0);
        stk_push(cpu, &sk, cpu->seg[SEG_CS].sel, size);
        stk_push(cpu, &sk, cpu->next_eip, size);
        stk_commit(cpu, &sk, false);
        cpu_load_seg_real(cpu, SEG_CS, sel);
        cpu->next_eip = offset;
        return;
    }

    if (sel_is_null(sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = seg_fetch_or_raise(cpu, sel, EXC_GP, 0);
    if (desc_is_seg(d)) {
        if (!desc_is_code(d))
            cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
        check_direct_code(cpu, sel, d);
        call_same_privilege(cpu, sel, d, offset, size);
        return;
    }
    int type = desc_type(d);
    if (type == DESC_CALLGATE16 || type == DESC_CALLGATE32) {
        check_gate_access(cpu, sel, d);
        if (!desc_present(d))
            cpu_raise(cpu, EXC_NP, sel_error(sel, 0));
        uint16_t cs_sel = gate_selector(d);
        struct desc cs = gate_target(cpu, cs_sel, true);
        int gate_size = type == DESC_CALLGATE32 ? 4 : 2;
        uint32_t target = gate_offset(d);
        if (gate_size == 2)
            target &= 0xFFFF;
        if (!desc_conforming(cs) && desc_dpl(cs) < cpu->cpl)
            call_inner_privilege(cpu, d, cs_sel, cs, target, gate_size);
        else
            call_same_privilege(cpu, cs_sel, cs, target, gate_size);
        return;
    }
    if (type == DESC_TASKGATE || is_tss_type(type)) {
        far_to_task(cpu, sel, d, TASK_CALL);
        return;
    }
    cpu_raise(cpu, EXC_GP, sel_error(sel, 0));
}

/* ---- RET far ------------------------------------------------------------- */

/* Checks of the code segment a RET far or IRET returns to. */
static struct desc check_return_cs(struct cpu *cpu, uint16_t cs_sel)
{
    if (sel_is_null(cs_sel))
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d = seg_fetch_or_raise(cpu, cs_sel, EXC_GP, 0);
    int rpl = sel_rpl(cs_sel);
    if (!desc_is_code(d) || rpl < cpu->cpl)
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, 0));
    if (desc_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, 0));
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, sel_error(cs_sel, 0));
    return d;
}

/* The outer stack a return pops: checked SS descriptor and the cursor to
 * commit (ESP, or only SP for a 16-bit SS). */
static void outer_stack(struct cpu *cpu, uint16_t ss_sel, uint32_t esp_value, int rpl,
                        struct stack_cursor *out)
{
    struct desc ssd = seg_check_stack(cpu, ss_sel, rpl, EXC_GP, 0);
    seg_cache_from_desc(&out->ss, ss_sel, ssd);
    out->access = 0;
    out->ss_error = 0;
    if (out->ss.flags & SEGF_DB)
        out->esp = esp_value;
    else
        out->esp = (cpu->gpr[R_ESP] & 0xFFFF0000u) | (esp_value & 0xFFFF);
}

static void exec_ret_far(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t release = (in->nopnd > 0 && in->opnd[0].kind == OPND_IMM) ? (in->imm & 0xFFFF) : 0;
    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_check_pop_room(cpu, &sk, 0, 2u * (uint32_t)size);
    uint32_t new_eip = stk_peek(cpu, &sk, 0, size);
    uint16_t cs_sel = (uint16_t)stk_peek(cpu, &sk, (uint32_t)size, size);

    if (cpu_real_like(cpu)) {
        uint32_t limit = cpu_v86(cpu) ? 0xFFFF : cpu->seg[SEG_CS].limit;
        if (new_eip > limit)
            cpu_raise(cpu, EXC_GP, 0);
        stk_adjust(&sk, 2u * (uint32_t)size + release);
        stk_commit(cpu, &sk, false);
        cpu_load_seg_real(cpu, SEG_CS, cs_sel);
        cpu->next_eip = new_eip;
        return;
    }

    struct desc cs = check_return_cs(cpu, cs_sel);
    int rpl = sel_rpl(cs_sel);
    if (rpl > cpu->cpl) {
        uint32_t at = 2u * (uint32_t)size + release;
        stk_check_pop_room(cpu, &sk, at, 2u * (uint32_t)size);
        uint32_t new_esp = stk_peek(cpu, &sk, at, size);
        uint16_t new_ss = (uint16_t)stk_peek(cpu, &sk, at + (uint32_t)size, size);
        struct stack_cursor outer;
        outer_stack(cpu, new_ss, new_esp, rpl, &outer);
        if (new_eip > desc_limit(cs))
            cpu_raise(cpu, EXC_GP, 0);
        cs = seg_mark_accessed(cpu, cs_sel, cs);
        stk_adjust(&outer, release);
        seg_load_cs(cpu, cs_sel, cs, rpl);
        stk_commit(cpu, &outer, true);
        seg_null_inaccessible(cpu);
        cpu->next_eip = new_eip;
        return;
    }
    if (new_eip > desc_limit(cs))
        cpu_raise(cpu, EXC_GP, 0);
    cs = seg_mark_accessed(cpu, cs_sel, cs);
    stk_adjust(&sk, 2u * (uint32_t)size + release);
    seg_load_cs(cpu, cs_sel, cs, cpu->cpl);
    stk_commit(cpu, &sk, false);
    cpu->next_eip = new_eip;
}

/* ---- INT n, INT3, INTO, INT1 -------------------------------------------- */

static void exec_int(struct cpu *cpu, const struct insn *in)
{
    if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
        cpu_raise(cpu, EXC_GP, 0);
    deliver_event(cpu, (int)(in->imm & 0xFF), EV_SOFTWARE, NO_ERROR_CODE, cpu->next_eip);
}

static void exec_int3(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    deliver_event(cpu, EXC_BP, EV_SOFTWARE, NO_ERROR_CODE, cpu->next_eip);
}

static void exec_into(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if (cpu_get_eflags(cpu) & FL_OF)
        deliver_event(cpu, EXC_OF, EV_SOFTWARE, NO_ERROR_CODE, cpu->next_eip);
}

/* ICEBP: a #DB trap delivered like an external event (no gate DPL check,
 * EXT = 1 in error codes). */
static void exec_int1(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    deliver_event(cpu, EXC_DB, 0, NO_ERROR_CODE, cpu->next_eip);
}

/* ---- IRET ---------------------------------------------------------------- */

/* EFLAGS bits a protected-mode IRET (and, but for RF/VIF/VIP, POPF) may
 * change: IF only when CPL <= IOPL, IOPL only at CPL 0. */
static uint32_t iret_flags_mask(const struct cpu *cpu, int size)
{
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT;
    if (size == 4)
        mask |= FL_RF | FL_AC | FL_ID;
    if (cpu->cpl <= cpu_iopl(cpu))
        mask |= FL_IF;
    if (cpu->cpl == 0) {
        mask |= FL_IOPL;
        if (size == 4)
            mask |= FL_VIF | FL_VIP;
    }
    return mask;
}

static void iret_real_like(struct cpu *cpu, int size)
{
    if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
        cpu_raise(cpu, EXC_GP, 0);
    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_check_pop_room(cpu, &sk, 0, 3u * (uint32_t)size);
    uint32_t new_eip = stk_peek(cpu, &sk, 0, size);
    uint16_t cs_sel = (uint16_t)stk_peek(cpu, &sk, (uint32_t)size, size);
    uint32_t flags = stk_peek(cpu, &sk, 2u * (uint32_t)size, size);
    uint32_t limit = cpu_v86(cpu) ? 0xFFFF : cpu->seg[SEG_CS].limit;
    if (new_eip > limit)
        cpu_raise(cpu, EXC_GP, 0);

    uint32_t mask = size == 4 ? FL_VALID_MASK : (FL_VALID_MASK & 0xFFFF);
    if (cpu_v86(cpu))
        mask &= ~(uint32_t)(FL_VM | FL_IOPL | FL_VIP | FL_VIF);
    else
        mask &= ~(uint32_t)(FL_VM | FL_VIP | FL_VIF);
    stk_adjust(&sk, 3u * (uint32_t)size);
    stk_commit(cpu, &sk, false);
    cpu_load_seg_real(cpu, SEG_CS, cs_sel);
    cpu_set_eflags(cpu, flags, mask);
    cpu->next_eip = new_eip;
}

/* IRET at CPL 0 with VM = 1 in the popped EFLAGS (32-bit operand size). */
static void iret_to_v86(struct cpu *cpu, struct stack_cursor *sk, uint32_t new_eip,
                        uint16_t cs_sel, uint32_t flags)
{
    stk_check_pop_room(cpu, sk, 12, 24);
    uint32_t new_esp = stk_peek(cpu, sk, 12, 4);
    uint16_t new_ss = (uint16_t)stk_peek(cpu, sk, 16, 4);
    uint16_t es = (uint16_t)stk_peek(cpu, sk, 20, 4);
    uint16_t ds = (uint16_t)stk_peek(cpu, sk, 24, 4);
    uint16_t fs = (uint16_t)stk_peek(cpu, sk, 28, 4);
    uint16_t gs = (uint16_t)stk_peek(cpu, sk, 32, 4);
    if (new_eip > 0xFFFF)
        cpu_raise(cpu, EXC_GP, 0);

    cpu_set_eflags(cpu, flags, FL_VALID_MASK);
    seg_load_v86(cpu, SEG_CS, cs_sel);
    seg_load_v86(cpu, SEG_SS, new_ss);
    seg_load_v86(cpu, SEG_ES, es);
    seg_load_v86(cpu, SEG_DS, ds);
    seg_load_v86(cpu, SEG_FS, fs);
    seg_load_v86(cpu, SEG_GS, gs);
    cpu->gpr[R_ESP] = new_esp;
    cpu->cpl = 3;
    cpu->next_eip = new_eip;
}

/* IRET with NT = 1: return to the task in the back link of the current TSS. */
static void iret_task_return(struct cpu *cpu)
{
    const struct seg_cache *tr = &cpu->seg[SEG_TR];
    uint16_t link = cpu_lin_read16(cpu, tr->base, MEM_READ | MEM_SYSTEM);
    if (link & 4)
        cpu_raise(cpu, EXC_TS, sel_error(link, 0));
    struct desc tss = seg_fetch_or_raise(cpu, link, EXC_TS, 0);
    task_switch(cpu, link, tss, TASK_IRET, 0, NO_ERROR_CODE, cpu->next_eip);
}

static void exec_iret(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    if (cpu_real_like(cpu)) {
        iret_real_like(cpu, size);
        cpu->nmi_blocked = false;
        return;
    }
    if (cpu->eflags & FL_NT) {
        iret_task_return(cpu);
        cpu->nmi_blocked = false;
        return;
    }

    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_check_pop_room(cpu, &sk, 0, 3u * (uint32_t)size);
    uint32_t new_eip = stk_peek(cpu, &sk, 0, size);
    uint16_t cs_sel = (uint16_t)stk_peek(cpu, &sk, (uint32_t)size, size);
    uint32_t flags = stk_peek(cpu, &sk, 2u * (uint32_t)size, size);

    if (size == 4 && (flags & FL_VM) && cpu->cpl == 0) {
        iret_to_v86(cpu, &sk, new_eip, cs_sel, flags);
        cpu->nmi_blocked = false;
        return;
    }

    struct desc cs = check_return_cs(cpu, cs_sel);
    int rpl = sel_rpl(cs_sel);
    uint32_t mask = iret_flags_mask(cpu, size);
    if (rpl > cpu->cpl) {
        uint32_t at = 3u * (uint32_t)size;
        stk_check_pop_room(cpu, &sk, at, 2u * (uint32_t)size);
        uint32_t new_esp = stk_peek(cpu, &sk, at, size);
        uint16_t new_ss = (uint16_t)stk_peek(cpu, &sk, at + (uint32_t)size, size);
        struct stack_cursor outer;
        outer_stack(cpu, new_ss, new_esp, rpl, &outer);
        if (new_eip > desc_limit(cs))
            cpu_raise(cpu, EXC_GP, 0);
        cs = seg_mark_accessed(cpu, cs_sel, cs);
        cpu_set_eflags(cpu, flags, mask);
        seg_load_cs(cpu, cs_sel, cs, rpl);
        stk_commit(cpu, &outer, true);
        seg_null_inaccessible(cpu);
    } else {
        if (new_eip > desc_limit(cs))
            cpu_raise(cpu, EXC_GP, 0);
        cs = seg_mark_accessed(cpu, cs_sel, cs);
        cpu_set_eflags(cpu, flags, mask);
        seg_load_cs(cpu, cs_sel, cs, cpu->cpl);
        stk_adjust(&sk, 3u * (uint32_t)size);
        stk_commit(cpu, &sk, false);
    }
    cpu->nmi_blocked = false;
    cpu->next_eip = new_eip;
}

/* ---- segment register moves --------------------------------------------- */

static void exec_mov_to_sreg(struct cpu *cpu, const struct insn *in)
{
    int seg = in->opnd[0].reg;
    if (seg == SEG_CS || seg > SEG_GS)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    uint16_t sel;
    if (in->opnd[1].kind == OPND_MEM)
        sel = cpu_read16(cpu, in->seg, insn_ea(cpu, in));
    else
        sel = (uint16_t)insn_opnd_read(cpu, in, 1);
    cpu_load_seg(cpu, seg, sel);
    if (seg == SEG_SS)
        cpu->irq_inhibit = 1;
}

static void exec_mov_from_sreg(struct cpu *cpu, const struct insn *in)
{
    int seg = in->opnd[1].reg;
    if (seg > SEG_GS)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    uint16_t sel = cpu->seg[seg].sel;
    if (in->opnd[0].kind == OPND_MEM)
        cpu_write16(cpu, in->seg, insn_ea(cpu, in), sel);
    else if (in->opsize == 4)
        cpu->gpr[in->opnd[0].reg] = sel;
    else
        cpu_set_reg16(cpu, in->opnd[0].reg, sel);
}

static void exec_push_sreg(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_adjust(&sk, (uint32_t)-size);
    uint32_t off = cpu_stack32(cpu) ? sk.esp : (sk.esp & 0xFFFF);
    cpu_check_access(cpu, SEG_SS, off, (uint32_t)size, MEM_WRITE);
    cpu_write16(cpu, SEG_SS, off, cpu->seg[in->opnd[0].reg].sel);
    stk_commit(cpu, &sk, false);
}

static void exec_pop_sreg(struct cpu *cpu, const struct insn *in)
{
    int seg = in->opnd[0].reg;
    int size = in->opsize;
    if (seg == SEG_CS || seg > SEG_GS)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    struct stack_cursor sk;
    stk_current(cpu, &sk);
    uint32_t off = cpu_stack32(cpu) ? sk.esp : (sk.esp & 0xFFFF);
    uint16_t sel = (uint16_t)cpu_read_sized(cpu, SEG_SS, off, size);
    stk_adjust(&sk, (uint32_t)size);
    cpu_load_seg(cpu, seg, sel);
    cpu->gpr[R_ESP] = sk.esp;
    if (seg == SEG_SS)
        cpu->irq_inhibit = 1;
}

/* LDS/LES/LFS/LGS/LSS r, m16:16/32 */
static void load_far_pointer(struct cpu *cpu, const struct insn *in, int seg)
{
    if (in->opnd[1].kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    uint32_t ea = insn_ea(cpu, in);
    uint32_t offset = cpu_read_sized(cpu, in->seg, ea, in->opsize);
    uint16_t sel = cpu_read16(cpu, in->seg, ea + in->opsize);
    cpu_load_seg(cpu, seg, sel);
    cpu_reg_write(cpu, in->opnd[0].reg, offset, in->opsize);
}

static void exec_lds(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_DS); }
static void exec_les(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_ES); }
static void exec_lfs(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_FS); }
static void exec_lgs(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_GS); }
static void exec_lss(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_SS); }

void exec_register_sys(exec_fn *table)
{
    table[OP_JMP_FAR] = exec_jmp_far;
    table[OP_CALL_FAR] = exec_call_far;
    table[OP_RET_FAR] = exec_ret_far;
    table[OP_INT] = exec_int;
    table[OP_INT3] = exec_int3;
    table[OP_INTO] = exec_into;
    table[OP_INT1] = exec_int1;
    table[OP_IRET] = exec_iret;
    table[OP_MOV_TO_SREG] = exec_mov_to_sreg;
    table[OP_MOV_FROM_SREG] = exec_mov_from_sreg;
    table[OP_PUSH_SREG] = exec_push_sreg;
    table[OP_POP_SREG] = exec_pop_sreg;
    table[OP_LDS] = exec_lds;
    table[OP_LES] = exec_les;
    table[OP_LFS] = exec_lfs;
    table[OP_LGS] = exec_lgs;
    table[OP_LSS] = exec_lss;
}
