/* core/except.c: raising exceptions and delivering exceptions and
 * interrupts through the real-mode IVT or the protected-mode IDT.
 *
 * Follows the Intel SDM Vol. 3, chapter 6 (6.12 handler invocation, 6.13
 * error codes, 6.15 exception classes and Table 6-5 for #DF), 20.3
 * (interrupts from V86 mode) and the INT n pseudocode of Vol. 2.
 *
 * Protocol (see cpu.h):
 *   - cpu_raise records pending_vector/pending_error and longjmps to
 *     *cpu->fault_env; the run loop then calls cpu_deliver_exception.
 *   - Return addresses: an exception returns to cpu->eip (the faulting
 *     instruction; a trap-class exception such as single-step #DB must be
 *     raised by the loop after it has committed eip = next_eip). A software
 *     interrupt (INT n, INT3, INTO, INT1, from an exec handler) returns to
 *     cpu->next_eip. An external interrupt, delivered by the loop between
 *     instructions, returns to cpu->eip.
 *   - Delivery sets both cpu->eip and cpu->next_eip to the handler, so it
 *     works from an exec handler (the loop commits next_eip) and from the
 *     loop itself.
 *   - Delivery is fault-before-commit: every descriptor read, check and
 *     stack write happens before CS, SS, ESP, EFLAGS or CPL change, so a
 *     fault during delivery leaves the interrupted state intact for the
 *     next exception (or #DF).
 *   - cpu_deliver_exception catches faults during delivery with its own
 *     setjmp and applies Table 6-5: benign + anything runs serially;
 *     contributory + contributory and page fault + (contributory or page
 *     fault) become #DF(0); any fault while delivering #DF is a triple
 *     fault: cpu->shutdown is set and stop_reason filled for the loop.
 *   - EXT (bit 0 of selector error codes) is 1 for everything but INT n,
 *     INT3 and INTO; the IDT bit (bit 1) marks an error in a gate.
 *   - For fault-class exceptions the EFLAGS image pushed has RF = 1
 *     (SDM 17.3.1.1), so IRET does not re-trigger an instruction breakpoint.
 * Not supported: CR4.VME / PVI (virtual interrupt redirection).
 */
#include <stdio.h>

#include "prot.h"
#include "mem.h"

noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error_code)
{
    cpu->pending_vector = vector;
    cpu->pending_error = error_code;
    longjmp(*cpu->fault_env, 1);
}

/* ------------------------------------------------------- classification */

enum exc_class { EXC_CLASS_BENIGN, EXC_CLASS_CONTRIBUTORY, EXC_CLASS_PAGE };

static enum exc_class exception_class(int vector)
{
    switch (vector) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
        return EXC_CLASS_CONTRIBUTORY;
    case EXC_PF:
        return EXC_CLASS_PAGE;
    default:
        return EXC_CLASS_BENIGN;
    }
}

static bool exception_is_fault(int vector)
{
    switch (vector) {
    case EXC_DE: case EXC_BR: case EXC_UD: case EXC_NM: case EXC_TS:
    case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF: case EXC_MF: case EXC_AC:
        return true;
    default:
        return false;
    }
}

/* Vectors whose exceptions push an error code (SDM Table 6-1); the
 * error_code passed to cpu_raise for any other vector is ignored. */
static bool exception_has_error_code(int vector)
{
    switch (vector) {
    case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
    case EXC_PF: case EXC_AC:
        return true;
    default:
        return false;
    }
}

/* ------------------------------------------------------------ real mode */

static void deliver_real(struct cpu *cpu, int vector, uint32_t return_eip)
{
    uint32_t entry = (uint32_t)vector * 4;
    if (entry + 3 > cpu->idtr.limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint16_t new_ip = cpu_lin_read16(cpu, cpu->idtr.base + entry, MEM_READ | MEM_SYSTEM);
    uint16_t new_cs = cpu_lin_read16(cpu, cpu->idtr.base + entry + 2, MEM_READ | MEM_SYSTEM);

    struct stack_cursor sk;
    stk_current(cpu, &sk);
    stk_check_push_room(cpu, &sk, 6);
    stk_push(cpu, &sk, cpu_get_eflags(cpu), 2);
    stk_push(cpu, &sk, cpu->seg[SEG_CS].sel, 2);
    stk_push(cpu, &sk, return_eip, 2);

    stk_commit(cpu, &sk, false);
    cpu_load_seg_real(cpu, SEG_CS, new_cs);
    cpu_set_eflags(cpu, 0, FL_IF | FL_TF | FL_AC);
    cpu->eip = cpu->next_eip = new_ip;
}

/* ------------------------------------------------------- protected mode */

void tss_inner_stack(struct cpu *cpu, int dpl, uint32_t ext, uint16_t *ss, uint32_t *esp)
{
    const struct seg_cache *tr = &cpu->seg[SEG_TR];
    bool tss32 = (tr->flags & 0xF) == DESC_TSS32_BUSY || (tr->flags & 0xF) == DESC_TSS32_AVAIL;
    uint32_t at = tss32 ? (uint32_t)dpl * 8 + 4 : (uint32_t)dpl * 4 + 2;
    if (!tr->valid || at + (tss32 ? 5 : 3) > tr->limit)
        cpu_raise(cpu, EXC_TS, sel_error(tr->sel, ext));
    if (tss32) {
        *esp = cpu_lin_read32(cpu, tr->base + at, MEM_READ | MEM_SYSTEM);
        *ss = cpu_lin_read16(cpu, tr->base + at + 4, MEM_READ | MEM_SYSTEM);
    } else {
        *esp = cpu_lin_read16(cpu, tr->base + at, MEM_READ | MEM_SYSTEM);
        *ss = cpu_lin_read16(cpu, tr->base + at + 2, MEM_READ | MEM_SYSTEM);
    }
}

static bool gate_type_ok_in_idt(struct desc gate)
{
    if (desc_is_seg(gate))
        return false;
    switch (desc_type(gate)) {
    case DESC_TASKGATE:
    case DESC_INTGATE16: case DESC_TRAPGATE16:
    case DESC_INTGATE32: case DESC_TRAPGATE32:
        return true;
    default:
        return false;
    }
}

void deliver_event(struct cpu *cpu, int vector, unsigned how,
                   uint32_t error_code, uint32_t return_eip)
{
    if (!cpu_protected(cpu)) {
        deliver_real(cpu, vector, return_eip);
        return;
    }
    uint32_t ext = (how & EV_SOFTWARE) ? 0 : 1;
    uint32_t idt_error = (uint32_t)vector * 8 + 2 + ext;
    uint32_t entry = (uint32_t)vector * 8;
    if (entry + 7 > cpu->idtr.limit)
        cpu_raise(cpu, EXC_GP, idt_error);
    struct desc gate;
    gate.lo = cpu_lin_read32(cpu, cpu->idtr.base + entry, MEM_READ | MEM_SYSTEM);
    gate.hi = cpu_lin_read32(cpu, cpu->idtr.base + entry + 4, MEM_READ | MEM_SYSTEM);
    if (!gate_type_ok_in_idt(gate))
        cpu_raise(cpu, EXC_GP, idt_error);
    if ((how & EV_SOFTWARE) && desc_dpl(gate) < cpu->cpl)
        cpu_raise(cpu, EXC_GP, (uint32_t)vector * 8 + 2);
    if (!desc_present(gate))
        cpu_raise(cpu, EXC_NP, idt_error);

    if (desc_type(gate) == DESC_TASKGATE) {
        uint16_t tss_sel = gate_selector(gate);
        if (tss_sel & 4)
            cpu_raise(cpu, EXC_GP, sel_error(tss_sel, ext));
        struct desc tss = seg_fetch_or_raise(cpu, tss_sel, EXC_GP, ext);
        task_switch(cpu, tss_sel, tss, TASK_INT, ext, error_code, return_eip);
        return;
    }

    bool gate32 = desc_type(gate) & 8;
    bool interrupt_gate = (desc_type(gate) & 7) == DESC_INTGATE16;
    int size = gate32 ? 4 : 2;
    uint32_t offset = gate_offset(gate);
    if (!gate32)
        offset &= 0xFFFF;
    bool has_error = error_code != NO_ERROR_CODE;
    bool v86 = cpu_v86(cpu);

    uint16_t cs_sel = gate_selector(gate);
    if (sel_is_null(cs_sel))
        cpu_raise(cpu, EXC_GP, ext);
    struct desc cs = seg_fetch_or_raise(cpu, cs_sel, EXC_GP, ext);
    if (!desc_is_code(cs) || desc_dpl(cs) > cpu->cpl)
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, ext));
    if (!desc_present(cs))
        cpu_raise(cpu, EXC_NP, sel_error(cs_sel, ext));
    int dpl = desc_dpl(cs);
    bool inner = !desc_conforming(cs) && dpl < cpu->cpl;
    if (v86 && (!inner || dpl != 0))
        cpu_raise(cpu, EXC_GP, sel_error(cs_sel, ext));
    int new_cpl = inner ? dpl : cpu->cpl;

    uint32_t eflags_image = cpu_get_eflags(cpu);
    if (how & EV_FAULT)
        eflags_image |= FL_RF;

    struct stack_cursor sk;
    if (inner) {
        uint16_t new_ss;
        uint32_t new_esp;
        tss_inner_stack(cpu, dpl, ext, &new_ss, &new_esp);
        struct desc ssd = seg_check_stack(cpu, new_ss, dpl, EXC_TS, ext);
        seg_cache_from_desc(&sk.ss, new_ss, ssd);
        sk.esp = new_esp;
        sk.access = MEM_SYSTEM;
        sk.ss_error = sel_error(new_ss, ext);
        uint32_t words = (v86 ? 9 : 5) + (has_error ? 1 : 0);
        stk_check_push_room(cpu, &sk, words * (uint32_t)size);
    } else {
        stk_current(cpu, &sk);
        sk.ss_error = ext;
        stk_check_push_room(cpu, &sk, (3u + (has_error ? 1 : 0)) * (uint32_t)size);
    }
    if (offset > desc_limit(cs))
        cpu_raise(cpu, EXC_GP, ext);
    cs = seg_mark_accessed(cpu, cs_sel, cs);

    if (v86) {
        stk_push(cpu, &sk, cpu->seg[SEG_GS].sel, size);
        stk_push(cpu, &sk, cpu->seg[SEG_FS].sel, size);
        stk_push(cpu, &sk, cpu->seg[SEG_DS].sel, size);
        stk_push(cpu, &sk, cpu->seg[SEG_ES].sel, size);
    }
    if (inner) {
        stk_push(cpu, &sk, cpu->seg[SEG_SS].sel, size);
        stk_push(cpu, &sk, cpu->gpr[R_ESP], size);
    }
    stk_push(cpu, &sk, eflags_image, size);
    stk_push(cpu, &sk, cpu->seg[SEG_CS].sel, size);
    stk_push(cpu, &sk, return_eip, size);
    if (has_error)
        stk_push(cpu, &sk, error_code, size);

    /* commit */
    stk_commit(cpu, &sk, inner);
    seg_load_cs(cpu, cs_sel, cs, new_cpl);
    if (v86) {
        seg_make_null(cpu, SEG_ES, 0);
        seg_make_null(cpu, SEG_DS, 0);
        seg_make_null(cpu, SEG_FS, 0);
        seg_make_null(cpu, SEG_GS, 0);
    }
    cpu_set_eflags(cpu, 0, FL_TF | FL_NT | FL_RF | FL_VM | (interrupt_gate ? FL_IF : 0));
    cpu->eip = cpu->next_eip = offset;
}

/* --------------------------------------------------------------- public */

void cpu_deliver_interrupt(struct cpu *cpu, int vector, bool software, uint32_t error_code)
{
    if (software)
        deliver_event(cpu, vector, EV_SOFTWARE, NO_ERROR_CODE, cpu->next_eip);
    else
        deliver_event(cpu, vector, 0, error_code, cpu->eip);
}

void cpu_deliver_exception(struct cpu *cpu)
{
    jmp_buf *outer_env = cpu->fault_env;
    jmp_buf delivery_env;
    volatile int vector = cpu->pending_vector;
    volatile uint32_t error_code = cpu->pending_error;

    cpu->exceptions_taken++;
    cpu->fault_env = &delivery_env;
    if (setjmp(delivery_env) != 0) {
        /* a fault while delivering vector (SDM Table 6-5) */
        int second = cpu->pending_vector;
        if (vector == EXC_DF) {
            cpu->shutdown = true;
            snprintf(cpu->stop_reason, sizeof cpu->stop_reason,
                     "triple fault: exception %d (error %#x) while delivering #DF at %04x:%08x",
                     second, cpu->pending_error, cpu->seg[SEG_CS].sel, cpu->eip);
            cpu->delivering = -1;
            cpu->fault_env = outer_env;
            return;
        }
        enum exc_class first_class = exception_class(vector);
        enum exc_class second_class = exception_class(second);
        if ((first_class == EXC_CLASS_CONTRIBUTORY && second_class == EXC_CLASS_CONTRIBUTORY) ||
            (first_class == EXC_CLASS_PAGE && second_class != EXC_CLASS_BENIGN)) {
            vector = EXC_DF;
            error_code = 0;
        } else {
            vector = second;
            error_code = cpu->pending_error;
        }
        cpu->exceptions_taken++;
    }
    cpu->delivering = vector;
    deliver_event(cpu, vector, exception_is_fault(vector) ? EV_FAULT : 0,
                  exception_has_error_code(vector) ? error_code : NO_ERROR_CODE, cpu->eip);
    cpu->delivering = -1;
    cpu->fault_env = outer_env;
}
