/* translator/portable.c: the portable backend, no host code generation.
 *
 * A block is the array of its pre-decoded instructions, each with the
 * interpreter's handler for its form (the specialised one of
 * exec_select_int/exec_select_flow, or exec_table[op]); running it calls
 * them in order with the interpreter's EIP discipline wherever it can be
 * observed: before an instruction that may fault, touch memory, branch or
 * read EIP, cpu->eip, next_eip and icount hold exactly what the
 * interpreter would have there, so a fault (cpu_raise unwinds with longjmp
 * to cpu_run) leaves the interpreter's state. "Pure" instructions
 * (register and immediate forms of ALU, MOV, shifts, LEA ...: tb_insn.pure,
 * set by portable_prepare_block) can do none of that, so between them the
 * EIP and the count stay in locals and are committed before the next
 * impure instruction and at the end.
 *
 * Only the last instruction of a block can have a non-zero class (but
 * RDTSC, see scan.c): callouts (SENS/PRIV/IOPL/IO) are that instruction's
 * ordinary handler, which consults the virtual CPU state, counted by
 * operation (a mid-block RDTSC is not counted here). After each impure
 * instruction but the last the block checks that control fell through
 * (REP), that its page's code generation did not move (the instruction
 * wrote its own code: the rest is re-translated), that no TLB flush
 * happened, and the budget; any of them ends it early. A pure instruction
 * cannot change any of these. A block that the budget may cut (icount + n
 * past end) runs instruction by instruction with every check.
 *
 * The run loop: the instruction boundary (interrupts, NMI, HLT, stop
 * requests, single step: cpu_engine_boundary) before every block, so an
 * interrupt waits at most one block (64 instructions); then the block for
 * CS:EIP: after a block that completed, a successor on the same linear
 * page with no TLB flush since the block started is on the same physical
 * page, so its links are checked by key and code generation without a TLB
 * lookup (portable_chain); otherwise from the jump cache (linear EIP and
 * mode -> block, emptied at every TLB flush and cache flush: within one
 * TLB epoch a linear address keeps its physical one), which serves
 * returns and indirect jumps; otherwise through the cache (tcache_find),
 * whose result enters the jump cache; where no block can start, one
 * instruction in the interpreter.
 *
 * Usage: see tcache.h (tcache_engine).
 */
#include "tcache_int.h"

#include <string.h>

#include "core/mem.h"
#include "mmu/phys.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Only register and immediate operands (LEA: its memory operand, which it
 * does not access). */
static bool operands_in_registers(const struct insn *in)
{
    for (int i = 0; i < in->nopnd; i++) {
        unsigned kind = in->opnd[i].kind;
        if (kind == OPND_MEM && in->op == OP_LEA && i == 1)
            continue;
        if (kind != OPND_REG && kind != OPND_IMM)
            return false;
    }
    return true;
}

/* An instruction that cannot fault, access memory, branch, read EIP or
 * change icount, whatever its operands' values: ALU, moves, shifts and
 * flag operations on registers. (Not DIV/IDIV/AAM: #DE; not LEA with a
 * register source: #UD; not the x87: FIP and #NM.) */
static bool insn_is_pure(const struct insn *in)
{
    switch (in->op) {
    case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB:
    case OP_XOR: case OP_CMP: case OP_TEST: case OP_INC: case OP_DEC: case OP_NEG:
    case OP_NOT: case OP_MUL: case OP_IMUL1: case OP_IMUL:
    case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR: case OP_SHL: case OP_SHR:
    case OP_SAR: case OP_SHLD: case OP_SHRD:
    case OP_DAA: case OP_DAS: case OP_AAA: case OP_AAS: case OP_AAD: case OP_SALC:
    case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC: case OP_BSF: case OP_BSR:
    case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_XCHG: case OP_XADD:
    case OP_CMPXCHG: case OP_BSWAP: case OP_CMOVCC: case OP_SETCC: case OP_CBW:
    case OP_CWD: case OP_LAHF: case OP_SAHF: case OP_CMC: case OP_CLC: case OP_STC:
    case OP_CLD: case OP_STD: case OP_NOP:
        return operands_in_registers(in) && !(in->prefixes & PFX_LOCK);
    case OP_LEA:
        return in->nopnd == 2 && in->opnd[1].kind == OPND_MEM && operands_in_registers(in);
    default:
        return false;
    }
}

/* tb_insn.kind */
enum {
    PK_PURE,     /* insn_is_pure: only the handler runs, EIP and icount stay in locals */
    PK_PLAIN,    /* may fault or access memory: state committed before, checks after */
    PK_STRING,   /* MOVS ... SCAS: may repeat (next_eip = eip) and charge icount */
};

void portable_prepare_block(struct tblock *b)
{
    uint32_t offset = 0;
    for (int i = 0; i < b->n; i++) {
        struct tb_insn *ti = &b->insn[i];
        unsigned op = ti->insn.op;
        ti->kind = insn_is_pure(&ti->insn) ? PK_PURE
                 : op == OP_MOVS || op == OP_CMPS || op == OP_STOS || op == OP_LODS ||
                   op == OP_SCAS ? PK_STRING : PK_PLAIN;
        ti->index = (uint8_t)i;
        ti->offset = (uint16_t)offset;
        offset += ti->insn.len;
    }
}

/* The block one instruction at a time with every check after each: for a
 * block the budget may end inside. */
static __attribute__((noinline)) bool run_block_stepwise(struct tcache *tc, struct cpu *cpu,
                                                         const struct tblock *b, uint64_t end)
{
    const uint32_t *page_gen = &cpu->mem->code_gen[b->phys >> 12];
    uint32_t epoch = cpu->tlb_epoch;
    const struct tb_insn *ti = b->insn;
    const struct tb_insn *last = b->insn + b->n - 1;
    for (; ti != last; ti++) {
        uint32_t next = (cpu->eip + ti->insn.len) & b->eip_mask;
        cpu->next_eip = next;
        ti->fn(cpu, &ti->insn);
        cpu->eip = cpu->next_eip;
        cpu->icount++;
        if (cpu->eip != next || *page_gen != b->gen || epoch != cpu->tlb_epoch ||
            cpu->icount >= end) {
            tc->stats.insns_run += (uint64_t)(ti - b->insn) + 1;
            tc->stats.early_exits++;
            return false;
        }
    }
    return true;
}

/* All but the last instruction of b, the budget allowing all of them
 * (icount + n <= end); false on an early exit, with the interpreter's
 * state after the instruction that caused it. Before each impure
 * instruction the interpreter's eip, next_eip and icount are stored from
 * the block's start values and the instruction's offset and index, so
 * pure instructions in between cost nothing but their handler. Only a
 * string instruction changes icount besides the retirement (REP charges
 * its iterations) or can leave next_eip elsewhere (a REP interrupted). */
static inline __attribute__((always_inline)) bool
run_block_body(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    const struct tb_insn *ti = b->insn;
    const struct tb_insn *last = b->insn + b->n - 1;
    const uint32_t *page_gen = &cpu->mem->code_gen[b->phys >> 12];
    uint32_t epoch = cpu->tlb_epoch;
    uint32_t eip_mask = b->eip_mask;
    uint32_t first_eip = cpu->eip;
    /* icount before instruction ti is icount_base + ti->index */
    uint64_t icount_base = cpu->icount;
    for (; ti != last; ti++) {
        if (likely(ti->kind == PK_PURE)) {
            ti->fn(cpu, &ti->insn);
            continue;
        }
        uint32_t eip = first_eip + ti->offset;
        uint32_t next = (eip + ti->insn.len) & eip_mask;
        cpu->eip = eip & eip_mask;
        cpu->icount = icount_base + ti->index;
        cpu->next_eip = next;
        ti->fn(cpu, &ti->insn);
        bool stop = cpu->next_eip != next || *page_gen != b->gen || epoch != cpu->tlb_epoch;
        if (ti->kind == PK_STRING) {
            /* the rest of the block must still fit the budget after the
             * iterations it charged, or the loop goes on from the next one */
            icount_base = cpu->icount - ti->index;
            stop |= cpu->icount + (uint64_t)(b->n - ti->index) > end;
        }
        if (unlikely(stop)) {
            cpu->eip = cpu->next_eip;
            cpu->icount++;
            tc->stats.insns_run += (uint64_t)ti->index + 1;
            tc->stats.early_exits++;
            return false;
        }
    }
    cpu->eip = (first_eip + last->offset) & eip_mask;
    cpu->icount = icount_base + last->index;
    return true;
}

static inline __attribute__((always_inline)) bool
run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    const struct tb_insn *last = b->insn + b->n - 1;
    tc->stats.blocks_run++;
    if (likely(cpu->icount + b->n <= end)) {
        if (b->n > 1 && !run_block_body(tc, cpu, b, end))
            return false;
    } else if (!run_block_stepwise(tc, cpu, b, end)) {
        return false;
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

bool portable_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    return run_block(tc, cpu, b, end);
}

/* The successor of prev, a block that completed without a mode-affecting
 * last instruction (not sync), started at linear address prev_lin with the
 * TLB at epoch: when CS:EIP is on the same linear page and no TLB flush
 * happened since, it is on the same physical page, so prev's links are
 * checked by key and generation with no TLB lookup. NULL: ask the cache. */
static inline struct tblock *portable_chain(struct tcache *tc, struct cpu *cpu,
                                            const struct tblock *prev, uint32_t prev_lin,
                                            uint32_t epoch, uint32_t mode)
{
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    uint32_t lin = cs->base + eip;
    if (((lin ^ prev_lin) & TLB_PAGE_MASK) != 0 || epoch != cpu->tlb_epoch ||
        tc->map_generation != cpu->mem->generation)
        return NULL;
    uint32_t phys = (prev->phys & TLB_PAGE_MASK) | (lin & ~TLB_PAGE_MASK);
    uint32_t gen = phys_code_gen(cpu->mem, phys);
    for (int k = 0; k < 2; k++) {
        struct tblock *c = prev->link[k];
        if (c && c->phys == phys && c->mode == mode && c->gen == gen &&
            (uint64_t)eip + c->bytes - 1 <= cs->limit) {
            tc->stats.chained++;
            return c;
        }
    }
    return NULL;
}

static inline uint32_t jump_index(uint32_t lin)
{
    return (lin ^ (lin >> 10)) & (TB_JUMP_SIZE - 1);
}

/* Empty the jump cache unless it belongs to the current TLB epoch and
 * cache contents. */
static inline void jump_cache_sync(struct tcache *tc, const struct cpu *cpu)
{
    if (unlikely(tc->jump_epoch != cpu->tlb_epoch || tc->jump_flushes != tc->flush_count)) {
        memset(tc->jump, 0, sizeof tc->jump);
        tc->jump_epoch = cpu->tlb_epoch;
        tc->jump_flushes = tc->flush_count;
    }
}

/* The block for CS:EIP from the jump cache: an entry made in this TLB
 * epoch maps the same linear address to the same physical one, so the key
 * (linear EIP, mode), the code generation and the CS limit decide. NULL:
 * ask the cache. */
static inline struct tblock *jump_cache_find(struct tcache *tc, struct cpu *cpu, uint32_t mode)
{
    if (tc->map_generation != cpu->mem->generation)
        return NULL;
    jump_cache_sync(tc, cpu);
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    uint32_t lin = cs->base + eip;
    const struct tb_jump *j = &tc->jump[jump_index(lin)];
    struct tblock *b = j->b;
    tc->stats.jump_lookups++;
    if (b && j->lin == lin && j->mode == mode && b->gen == phys_code_gen(cpu->mem, b->phys) &&
        (uint64_t)eip + b->bytes - 1 <= cs->limit) {
        tc->stats.jump_hits++;
        return b;
    }
    return NULL;
}

/* Remember b, just found by tcache_find for CS:EIP, in the jump cache. */
static inline void jump_cache_enter(struct tcache *tc, struct cpu *cpu, struct tblock *b,
                                    uint32_t mode)
{
    jump_cache_sync(tc, cpu);
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    tc->jump[jump_index(lin)] = (struct tb_jump){ .lin = lin, .mode = mode, .b = b };
}

static enum cpu_stop portable_run(struct cpu *cpu, uint64_t end, void *opaque)
{
    struct tcache *tc = opaque;
    struct tblock *prev = NULL;
    uint32_t prev_lin = 0, prev_epoch = 0;
    uint32_t mode = tcache_mode(cpu);
    while (cpu->icount < end) {
        int r = cpu_engine_boundary(cpu);
        if (unlikely(r != -1)) {
            if (r >= 0)
                return (enum cpu_stop)r;
            prev = NULL;   /* an interrupt was delivered, or one instruction ran */
            mode = tcache_mode(cpu);
            continue;
        }
        struct tblock *b = NULL;
        if (prev && !prev->sync)
            b = portable_chain(tc, cpu, prev, prev_lin, prev_epoch, mode);
        if (!b)
            b = jump_cache_find(tc, cpu, mode);
        if (!b) {
            b = tcache_find(tc, cpu, prev, mode);
            if (b && b->n == 0)
                b = NULL;   /* the interpreter's */
            if (b)
                jump_cache_enter(tc, cpu, b, mode);
        }
        if (!b) {
            tc->stats.interp_steps++;
            cpu_engine_step(cpu);
            prev = NULL;
            mode = tcache_mode(cpu);
            continue;
        }
        prev_lin = cpu->seg[SEG_CS].base + cpu->eip;
        prev_epoch = cpu->tlb_epoch;
        bool completed;
        if (tc->lockstep && tc->lockstep_countdown-- == 0) {
            tc->lockstep_countdown = tc->cfg.lockstep_every > 1 ? tc->cfg.lockstep_every - 1 : 0;
            if (!lockstep_run_block(tc, cpu, b, end, &completed)) {
                cpu->stop_requested = true;
                return CPU_STOP_REQUEST;
            }
        } else {
            completed = run_block(tc, cpu, b, end);
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
