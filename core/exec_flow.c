/* core/exec_flow.c: near control flow and the stack: PUSH, POP, PUSHA,
 * POPA, ENTER, LEAVE, JMP, Jcc, JCXZ, LOOP/LOOPE/LOOPNE, CALL, RET.
 *
 * Invariants (cpu.h): a handler branches only by setting cpu->next_eip, and
 * commits nothing before its last faulting access. So:
 *   - a near target beyond the CS limit raises #GP(0) before the return
 *     address is pushed, ESP or the loop counter changes;
 *   - instructions that pop and then can still fault (POP to memory, RET,
 *     LEAVE, POPA) read the stack at computed addresses and move ESP last;
 *   - instructions that push several values (PUSHA, ENTER) write through
 *     computed addresses and move ESP once at the end, so a fault part-way
 *     leaves ESP unchanged (the already-written stack bytes are below ESP,
 *     which is what a restarted instruction overwrites anyway).
 * The stack address size is SS.B (cpu_stack32): with a 16-bit stack only SP
 * moves and addresses wrap at 64 KiB; the upper half of ESP is kept.
 *
 * Usage: exec_register_flow(exec_table) fills this file's rows.
 */
#include "exec.h"
#include "flags.h"

/* ---- stack addressing --------------------------------------------------- */

static inline uint32_t stack_mask(const struct cpu *cpu)
{
    return cpu_stack32(cpu) ? 0xFFFFFFFFu : 0xFFFFu;
}

/* The stack offset of ESP + delta, wrapped to the stack address size. */
static inline uint32_t stack_addr(const struct cpu *cpu, uint32_t delta)
{
    return (cpu->gpr[R_ESP] + delta) & stack_mask(cpu);
}

/* ESP moved by delta; a 16-bit stack keeps the upper half of ESP. */
static inline uint32_t stack_moved(const struct cpu *cpu, uint32_t delta)
{
    uint32_t mask = stack_mask(cpu);
    return (cpu->gpr[R_ESP] & ~mask) | ((cpu->gpr[R_ESP] + delta) & mask);
}

/* ---- near branches ------------------------------------------------------ */

/* Raise #GP(0) if a near target (already truncated to the operand size)
 * lies beyond the CS limit; callers check before committing anything. */
static inline void branch_check(struct cpu *cpu, uint32_t target)
{
    if (target > cpu->seg[SEG_CS].limit)
        cpu_raise(cpu, EXC_GP, 0);
}

static inline uint32_t rel_target(const struct cpu *cpu, const struct insn *in)
{
    uint32_t target = cpu->next_eip + in->imm;
    return in->opsize == 2 ? target & 0xFFFF : target;
}

/* The target of a JMP/CALL operand: relative, or an absolute r/m value. */
static inline uint32_t near_target(struct cpu *cpu, const struct insn *in)
{
    if (in->opnd[0].kind == OPND_REL)
        return rel_target(cpu, in);
    return insn_opnd_read(cpu, in, 0) & size_mask(in->opsize);
}

static void exec_jmp(struct cpu *cpu, const struct insn *in)
{
    uint32_t target = near_target(cpu, in);
    branch_check(cpu, target);
    cpu->next_eip = target;
}

static void exec_jcc(struct cpu *cpu, const struct insn *in)
{
    if (!cpu_cond(cpu, in->cond))
        return;
    uint32_t target = rel_target(cpu, in);
    branch_check(cpu, target);
    cpu->next_eip = target;
}

static void exec_jcxz(struct cpu *cpu, const struct insn *in)
{
    if ((cpu->gpr[R_ECX] & size_mask(in->addrsize)) != 0)
        return;
    uint32_t target = rel_target(cpu, in);
    branch_check(cpu, target);
    cpu->next_eip = target;
}

/* LOOP family: the counter (CX or ECX by address size) is decremented;
 * the branch, and with it any #GP, happens before the counter is stored. */
enum loop_kind { LOOP_ANY, LOOP_WHILE_ZERO, LOOP_WHILE_NONZERO };

static inline void loop_common(struct cpu *cpu, const struct insn *in, enum loop_kind kind)
{
    uint32_t mask = size_mask(in->addrsize);
    uint32_t count = (cpu->gpr[R_ECX] - 1) & mask;
    bool taken = count != 0;
    if (taken && kind != LOOP_ANY)
        taken = cpu_cond(cpu, 4) == (kind == LOOP_WHILE_ZERO);
    if (taken) {
        uint32_t target = rel_target(cpu, in);
        branch_check(cpu, target);
        cpu->next_eip = target;
    }
    cpu->gpr[R_ECX] = (cpu->gpr[R_ECX] & ~mask) | count;
}

static void exec_loop(struct cpu *cpu, const struct insn *in)   { loop_common(cpu, in, LOOP_ANY); }
static void exec_loope(struct cpu *cpu, const struct insn *in)  { loop_common(cpu, in, LOOP_WHILE_ZERO); }
static void exec_loopne(struct cpu *cpu, const struct insn *in) { loop_common(cpu, in, LOOP_WHILE_NONZERO); }

static void exec_call(struct cpu *cpu, const struct insn *in)
{
    uint32_t target = near_target(cpu, in);
    branch_check(cpu, target);
    cpu_push(cpu, cpu->next_eip & size_mask(in->opsize), in->opsize);
    cpu->next_eip = target;
}

/* RET [imm16]: the return address is read and checked before ESP moves. */
static void exec_ret(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t release = in->nopnd > 0 ? in->imm & 0xFFFF : 0;
    uint32_t target = cpu_read_sized(cpu, SEG_SS, stack_addr(cpu, 0), size);
    branch_check(cpu, target);
    cpu->gpr[R_ESP] = stack_moved(cpu, (uint32_t)size + release);
    cpu->next_eip = target;
}

/* ---- stack -------------------------------------------------------------- */

static void exec_push(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t value;
    if (in->opnd[0].kind == OPND_IMM)
        value = in->imm & size_mask(size);     /* 6A pushes Ib sign-extended */
    else
        value = insn_opnd_read(cpu, in, 0);    /* PUSH ESP pushes the old value */
    cpu_push(cpu, value, size);
}

/* POP r/m: a memory destination whose address uses ESP sees ESP already
 * incremented (SDM); ESP is committed only after the store succeeds. */
static void exec_pop(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    if (in->opnd[0].kind == OPND_REG) {
        uint32_t value = cpu_pop(cpu, size);
        cpu_reg_write(cpu, in->opnd[0].reg, value, size);   /* POP ESP: the popped value wins */
        return;
    }
    uint32_t value = cpu_read_sized(cpu, SEG_SS, stack_addr(cpu, 0), size);
    uint32_t old_esp = cpu->gpr[R_ESP];
    uint32_t new_esp = stack_moved(cpu, (uint32_t)size);
    cpu->gpr[R_ESP] = new_esp;
    uint32_t ea = insn_ea(cpu, in);
    cpu->gpr[R_ESP] = old_esp;
    cpu_write_sized(cpu, in->seg, ea, value, size);
    cpu->gpr[R_ESP] = new_esp;
}

static void exec_pusha(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    for (int reg = R_EAX; reg <= R_EDI; reg++) {
        uint32_t addr = stack_addr(cpu, (uint32_t)(-(reg + 1) * size));
        cpu_write_sized(cpu, SEG_SS, addr, cpu->gpr[reg], size);  /* slot of ESP: the old ESP */
    }
    cpu->gpr[R_ESP] = stack_moved(cpu, (uint32_t)(-8 * size));
}

static void exec_popa(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t values[8];
    for (int reg = R_EDI; reg >= R_EAX; reg--) {
        if (reg == R_ESP)
            continue;
        values[reg] = cpu_read_sized(cpu, SEG_SS, stack_addr(cpu, (uint32_t)((R_EDI - reg) * size)), size);
    }
    for (int reg = R_EAX; reg <= R_EDI; reg++) {
        if (reg != R_ESP)
            cpu_reg_write(cpu, reg, values[reg], size);
    }
    cpu->gpr[R_ESP] = stack_moved(cpu, (uint32_t)(8 * size));
}

/* ENTER alloc, level: push eBP, copy level-1 frame pointers from the
 * enclosing frame, push the new frame pointer, reserve alloc bytes.
 * The stack size decides SP vs ESP and BP vs EBP stepping; the operand
 * size decides the push width and whether BP or EBP receives the frame. */
static void exec_enter(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t alloc = in->imm & 0xFFFF;
    uint32_t level = in->imm2 & 31;
    uint32_t mask = stack_mask(cpu);
    uint32_t sp = cpu->gpr[R_ESP] & mask;
    uint32_t bp = cpu->gpr[R_EBP] & mask;

    sp = (sp - (uint32_t)size) & mask;
    cpu_write_sized(cpu, SEG_SS, sp, cpu->gpr[R_EBP], size);
    uint32_t frame = sp;
    if (level > 0) {
        for (uint32_t i = 1; i < level; i++) {
            bp = (bp - (uint32_t)size) & mask;
            uint32_t link = cpu_read_sized(cpu, SEG_SS, bp, size);
            sp = (sp - (uint32_t)size) & mask;
            cpu_write_sized(cpu, SEG_SS, sp, link, size);
        }
        sp = (sp - (uint32_t)size) & mask;
        cpu_write_sized(cpu, SEG_SS, sp, frame, size);
    }
    sp = (sp - alloc) & mask;
    cpu_reg_write(cpu, R_EBP, frame, size);
    cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & ~mask) | sp;
}

/* LEAVE: eSP <- eBP, then pop eBP; the pop is read before either moves. */
static void exec_leave(struct cpu *cpu, const struct insn *in)
{
    int size = in->opsize;
    uint32_t mask = stack_mask(cpu);
    uint32_t frame = cpu->gpr[R_EBP] & mask;
    uint32_t saved = cpu_read_sized(cpu, SEG_SS, frame, size);
    cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & ~mask) | ((frame + (uint32_t)size) & mask);
    cpu_reg_write(cpu, R_EBP, saved, size);
}

/* ---- specialised forms -------------------------------------------------- */

/* exec_select_flow picks, when the run loop caches a decoded instruction,
 * a handler specialised for its form (32-bit operand size) for the common
 * near branches and stack operations; each computes what the generic
 * handler above does for that form. The stack ones check SS.B at run time
 * (the cache key does not include it) and take the generic path for a
 * 16-bit stack. */

/* Jcc rel32, one handler per condition so the condition folds. */
#define JCC_FORM(cc)                                                           \
    static void jcc32_##cc(struct cpu *cpu, const struct insn *in)            \
    {                                                                          \
        if (!cpu_cond_inline(cpu, cc))                                         \
            return;                                                            \
        uint32_t target = cpu->next_eip + in->imm;                             \
        branch_check(cpu, target);                                             \
        cpu->next_eip = target;                                                \
    }
JCC_FORM(0) JCC_FORM(1) JCC_FORM(2) JCC_FORM(3) JCC_FORM(4) JCC_FORM(5) JCC_FORM(6) JCC_FORM(7)
JCC_FORM(8) JCC_FORM(9) JCC_FORM(10) JCC_FORM(11) JCC_FORM(12) JCC_FORM(13) JCC_FORM(14) JCC_FORM(15)

static void jmp_rel32(struct cpu *cpu, const struct insn *in)
{
    uint32_t target = cpu->next_eip + in->imm;
    branch_check(cpu, target);
    cpu->next_eip = target;
}

static void call_rel32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu_stack32(cpu)) {
        exec_call(cpu, in);
        return;
    }
    uint32_t target = cpu->next_eip + in->imm;
    branch_check(cpu, target);
    uint32_t esp = cpu->gpr[R_ESP] - 4;
    cpu_write_sized(cpu, SEG_SS, esp, cpu->next_eip, 4);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = target;
}

static void ret32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu_stack32(cpu)) {
        exec_ret(cpu, in);
        return;
    }
    uint32_t esp = cpu->gpr[R_ESP];
    uint32_t target = cpu_read_sized(cpu, SEG_SS, esp, 4);
    branch_check(cpu, target);
    cpu->gpr[R_ESP] = esp + 4;
    cpu->next_eip = target;
}

static void push_r32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu_stack32(cpu)) {
        exec_push(cpu, in);
        return;
    }
    uint32_t esp = cpu->gpr[R_ESP] - 4;
    cpu_write_sized(cpu, SEG_SS, esp, cpu->gpr[in->opnd[0].reg], 4);   /* PUSH ESP: the old value */
    cpu->gpr[R_ESP] = esp;
}

static void pop_r32(struct cpu *cpu, const struct insn *in)
{
    if (!cpu_stack32(cpu)) {
        exec_pop(cpu, in);
        return;
    }
    uint32_t esp = cpu->gpr[R_ESP];
    uint32_t value = cpu_read_sized(cpu, SEG_SS, esp, 4);
    cpu->gpr[R_ESP] = esp + 4;
    cpu->gpr[in->opnd[0].reg] = value;   /* POP ESP: the popped value wins */
}

exec_fn exec_select_flow(const struct insn *in)
{
    static const exec_fn jcc32[16] = {
        jcc32_0, jcc32_1, jcc32_2, jcc32_3, jcc32_4, jcc32_5, jcc32_6, jcc32_7,
        jcc32_8, jcc32_9, jcc32_10, jcc32_11, jcc32_12, jcc32_13, jcc32_14, jcc32_15,
    };
    const struct opnd *o = &in->opnd[0];
    if (in->opsize != 4)
        return NULL;
    switch (in->op) {
    case OP_JCC:
        return o->kind == OPND_REL ? jcc32[in->cond & 15] : NULL;
    case OP_JMP:
        return o->kind == OPND_REL ? jmp_rel32 : NULL;
    case OP_CALL:
        return o->kind == OPND_REL ? call_rel32 : NULL;
    case OP_RET:
        return in->nopnd == 0 ? ret32 : NULL;
    case OP_PUSH:
        return o->kind == OPND_REG && o->size == 4 ? push_r32 : NULL;
    case OP_POP:
        return o->kind == OPND_REG && o->size == 4 ? pop_r32 : NULL;
    default:
        return NULL;
    }
}

void exec_register_flow(exec_fn *table)
{
    table[OP_PUSH] = exec_push;
    table[OP_POP] = exec_pop;
    table[OP_PUSHA] = exec_pusha;
    table[OP_POPA] = exec_popa;
    table[OP_ENTER] = exec_enter;
    table[OP_LEAVE] = exec_leave;
    table[OP_JMP] = exec_jmp;
    table[OP_JCC] = exec_jcc;
    table[OP_JCXZ] = exec_jcxz;
    table[OP_LOOP] = exec_loop;
    table[OP_LOOPE] = exec_loope;
    table[OP_LOOPNE] = exec_loopne;
    table[OP_CALL] = exec_call;
    table[OP_RET] = exec_ret;
}
