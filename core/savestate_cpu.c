/* core/savestate_cpu.c: the CPU's architectural state as a save-state
 * table (core/savestate.h).
 *
 * Saved: what the guest can observe or what decides what it does next:
 * registers, EFLAGS (lazy flags materialised first), the segment caches
 * (hidden parts included: a real-mode guest with "unreal" limits notices),
 * descriptor-table registers, CPL, control, debug and model-specific
 * registers, the x87, the interrupt inputs and blocking state, and the
 * instruction count (the machine's clock is built on it). The TSC offset is
 * saved as is: it is relative to the virtual clock, which is saved too.
 * Not saved: the TLB and the decoded-instruction cache (flushed after a
 * load), host wiring (memory, ports, callbacks) and exception-delivery
 * scratch, which is idle at the instruction boundaries snapshots are taken
 * at.
 */
#include "cpu.h"

#include "flags.h"
#include "mem.h"
#include "mmu/phys.h"
#include "savestate.h"

static const struct state_field seg_cache_fields[] = {
    STATE_U16(struct seg_cache, sel),
    STATE_U32(struct seg_cache, base),
    STATE_U32(struct seg_cache, limit),
    STATE_U16(struct seg_cache, flags),
    STATE_BOOL(struct seg_cache, valid),
};
static const struct state_desc seg_cache_state = STATE_DESC("seg_cache", 1, seg_cache_fields);

static const struct state_field dtr_fields[] = {
    STATE_U32(struct dtr, base),
    STATE_U16(struct dtr, limit),
};
static const struct state_desc dtr_state = STATE_DESC("dtr", 1, dtr_fields);

static const struct state_field fpu_reg_fields[] = {
    STATE_U64(struct fpu_reg, mant),
    STATE_U16(struct fpu_reg, sign_exp),
};
static const struct state_desc fpu_reg_state = STATE_DESC("fpu_reg", 1, fpu_reg_fields);

static const struct state_field fpu_fields[] = {
    STATE_STRUCT_ARRAY(struct fpu, r, fpu_reg_state),
    STATE_U16(struct fpu, cw),
    STATE_U16(struct fpu, sw),
    STATE_U16(struct fpu, tw),
    STATE_U16(struct fpu, fop),
    STATE_U32(struct fpu, fip),
    STATE_U16(struct fpu, fcs),
    STATE_U32(struct fpu, fdp),
    STATE_U16(struct fpu, fds),
};
static const struct state_desc fpu_state = STATE_DESC("fpu", 1, fpu_fields);

static const struct state_field cpu_fields[] = {
    STATE_ARRAY(struct cpu, gpr),
    STATE_U32(struct cpu, eip),
    STATE_U32(struct cpu, eflags),
    STATE_STRUCT_ARRAY(struct cpu, seg, seg_cache_state),
    STATE_STRUCT(struct cpu, gdtr, dtr_state),
    STATE_STRUCT(struct cpu, idtr, dtr_state),
    STATE_U8(struct cpu, cpl),
    STATE_U32(struct cpu, cr0),
    STATE_U32(struct cpu, cr2),
    STATE_U32(struct cpu, cr3),
    STATE_U32(struct cpu, cr4),
    STATE_ARRAY(struct cpu, dr),
    STATE_U32(struct cpu, sysenter_cs),
    STATE_U32(struct cpu, sysenter_esp),
    STATE_U32(struct cpu, sysenter_eip),
    STATE_ARRAY(struct cpu, perf_evtsel),
    STATE_ARRAY(struct cpu, perf_ctr),
    STATE_U64(struct cpu, tsc_offset),
    STATE_U64(struct cpu, icount),
    STATE_STRUCT(struct cpu, fpu, fpu_state),
    STATE_BOOL(struct cpu, intr),
    STATE_BOOL(struct cpu, nmi_pending),
    STATE_BOOL(struct cpu, nmi_blocked),
    STATE_BOOL(struct cpu, halted),
    STATE_U8(struct cpu, irq_inhibit),
};
const struct state_desc cpu_state_desc = STATE_DESC("cpu", 1, cpu_fields);

void cpu_pre_save(struct cpu *cpu)
{
    cpu_get_eflags(cpu);   /* materialises the lazy flags into cpu->eflags */
}

int cpu_post_load(struct cpu *cpu)
{
    cpu->lf = (struct lazy_flags){ .op = LF_NONE };
    cpu->eflags |= 0x2;
    cpu->next_eip = cpu->eip;
    if (cpu->cpl > 3)
        return -1;
    cpu->pending_vector = -1;
    cpu->pending_error = NO_ERROR_CODE;
    cpu->delivering = -1;
    cpu->shutdown = false;
    /* x87 tags abridged (fpu.h): a state saved with full tags keeps only
     * empty or not */
    uint16_t tw = cpu->fpu.tw;
    cpu->fpu.tw = (uint16_t)(tw & (tw >> 1) & 0x5555) * 3;
    /* RAM was replaced behind the code tracking: a new map generation
     * empties the decoded-instruction cache and every TLB. */
    cpu->mem->generation++;
    cpu_tlb_flush(cpu, true);
    return 0;
}
