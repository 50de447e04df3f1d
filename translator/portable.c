/* translator/portable.c: the portable backend, no host code generation.
 *
 * A block is the array of its pre-decoded instructions, each with the
 * interpreter's handler for its form (the specialised one of
 * exec_select_int/exec_select_flow, or exec_table[op]); running it calls
 * them in order with the interpreter's EIP discipline: next_eip set
 * before, eip committed and icount advanced after each one, so a fault
 * anywhere (cpu_raise unwinds with longjmp to cpu_run) leaves exactly the
 * interpreter's state. Only the last instruction of a block can have a
 * non-zero class: callouts (SENS/PRIV/IOPL/IO) are that instruction's
 * ordinary handler, which consults the virtual CPU state, counted by
 * operation. After each instruction but the last the block checks that
 * control fell through, that its page's code generation did not move
 * (the instruction wrote its own code: the rest is re-translated), that
 * no TLB flush happened, and the budget; any of them ends it early.
 *
 * The run loop: the instruction boundary (interrupts, NMI, HLT, stop
 * requests, single step: cpu_engine_boundary) before every block, so an
 * interrupt waits at most one block (64 instructions); then the block for
 * CS:EIP through the previous block's links or the cache (tcache_find);
 * where no block can start, one instruction in the interpreter.
 */
#include "tcache_int.h"

#include "mmu/phys.h"

bool portable_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    const uint32_t *page_gen = &cpu->mem->code_gen[b->phys >> 12];
    uint32_t epoch = cpu->tlb_epoch;
    const struct tb_insn *ti = b->insn;
    const struct tb_insn *last = b->insn + b->n - 1;
    tc->stats.blocks_run++;
    for (; ti != last; ti++) {
        uint32_t next = (cpu->eip + ti->insn.len) & b->eip_mask;
        cpu->next_eip = next;
        ti->fn(cpu, &ti->insn);
        cpu->eip = cpu->next_eip;
        cpu->icount++;
        if (__builtin_expect(cpu->eip != next || *page_gen != b->gen ||
                             epoch != cpu->tlb_epoch || cpu->icount >= end, 0)) {
            tc->stats.insns_run += (uint64_t)(ti - b->insn) + 1;
            tc->stats.early_exits++;
            return false;
        }
    }
    if (b->callout)
        tc->stats.callouts[last->insn.op]++;
    cpu->next_eip = (cpu->eip + last->insn.len) & b->eip_mask;
    last->fn(cpu, &last->insn);
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (b->sync)
        cpu_engine_retire_sync(cpu, &last->insn);
    tc->stats.insns_run += b->n;
    return true;
}

static enum cpu_stop portable_run(struct cpu *cpu, uint64_t end, void *opaque)
{
    struct tcache *tc = opaque;
    struct tblock *prev = NULL;
    uint32_t mode = tcache_mode(cpu);
    while (cpu->icount < end) {
        int r = cpu_engine_boundary(cpu);
        if (__builtin_expect(r != -1, 0)) {
            if (r >= 0)
                return (enum cpu_stop)r;
            prev = NULL;   /* an interrupt was delivered, or one instruction ran */
            mode = tcache_mode(cpu);
            continue;
        }
        struct tblock *b = tcache_find(tc, cpu, prev, mode);
        if (!b) {
            tc->stats.interp_steps++;
            cpu_engine_step(cpu);
            prev = NULL;
            mode = tcache_mode(cpu);
            continue;
        }
        bool completed;
        if (tc->lockstep && tc->lockstep_countdown-- == 0) {
            tc->lockstep_countdown = tc->cfg.lockstep_every > 1 ? tc->cfg.lockstep_every - 1 : 0;
            if (!lockstep_run_block(tc, cpu, b, end, &completed)) {
                cpu->stop_requested = true;
                return CPU_STOP_REQUEST;
            }
        } else {
            completed = portable_run_block(tc, cpu, b, end);
        }
        prev = completed ? b : NULL;
        if (b->sync)
            mode = tcache_mode(cpu);
    }
    return CPU_STOP_BUDGET;
}

static void portable_format_stats(void *opaque, char *buf, size_t len)
{
    tcache_format_stats(opaque, buf, len);
}

struct cpu_engine portable_engine(struct tcache *tc)
{
    return (struct cpu_engine){ .name = "portable", .run = portable_run,
                                .format_stats = portable_format_stats, .opaque = tc };
}
