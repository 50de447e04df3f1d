/* translator/native_emit.c: host code for one block (the native backend).
 *
 * Each guest instruction becomes either host instructions doing the same
 * thing (the common integer forms: MOV, the ALU group, LEA, INC/DEC,
 * shifts, PUSH/POP, Jcc, JMP, CALL, RET ...) or a call to its interpreter
 * handler through native_exec_insn (everything else, and the block's
 * callout). The common x87 forms are direct calls to core/fpu.c's
 * fpu_fast entries (emit_x87), which run them as the interpreter would but
 * with the memory operand from the inline TLB path. Guest registers stay in
 * host registers (native.h).
 *
 * Flags: host arithmetic on the guest registers leaves exactly the guest's
 * arithmetic flags in RFLAGS, so they stay there (FS_HOST) until something
 * else needs RFLAGS. The emitter tracks where they are:
 *   FS_MEM    in cpu->eflags (after every interpreter call);
 *   FS_HOST   in RFLAGS;
 *   FS_SAVED  in R13 (block entry and exit), saved by PUSHFQ before host
 *             code that clobbers RFLAGS (the memory fast path) so that a
 *             fault there still sees them.
 * An instruction that reads flags gets them into RFLAGS first (POPFQ of
 * the arithmetic bits only); an interpreter call stores them to
 * cpu->eflags, a block exit to R13.
 *
 * Memory operands (flat 4 GiB segments, mode TMODE_FLAT4G, 32-bit
 * addressing, no alignment checking) inline the TLB fast path of mem.h:
 * index the 4096-entry TLB by the linear page, compare the tag of the
 * access's last byte with this access kind, and add the entry's addend.
 * A miss jumps to an out-of-line stub that runs the whole instruction in
 * the interpreter (which walks, faults, handles MMIO, ROM, code pages and
 * page-crossing accesses) and comes back, or leaves the block when the
 * helper says so. Since a stub runs the instruction from its start, the
 * fast path performs every check before it changes any guest state.
 * Memory operands through the same base and index registers share one
 * check (plan_groups, mem_operand): the group's first operand checks the
 * span of all their displacements for the strongest access kind among
 * them and keeps the entry's addend in a cpu->jit slot; the others just
 * add it, without touching RFLAGS. That is exact because nothing in
 * between can change the entry's meaning without leaving the block: the
 * registers are not written, an interpreter call leaves when the TLB was
 * flushed or direct write access was taken away (tlb_rights_epoch), and a
 * first operand whose check misses leaves after the interpreter ran it.
 *
 * Budget: the block's first instructions check that R14, the budget left,
 * covers its n instructions; every exit that completes the block takes n
 * off R14, and cpu->icount is computed from it before each interpreter
 * call (exact for faults, RDTSC and the deterministic clock).
 */
#include "native.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fpu.h"
#include "core/mem.h"

#if defined(__x86_64__)

/* Where the guest's arithmetic flags are: cpu->eflags, RFLAGS, R13; or
 * FS_HOST_OF: RFLAGS right but for AF, which is 0, and OF, which is bit 11
 * of R13 (nothing else set there): a register shift on a host whose AF
 * and OF differ from the interpreter's, settled only when something needs
 * them (flags_settle; conditions without OF test RFLAGS as they are); or
 * FS_LOGIC: those the instruction before left, which one host instruction
 * on the 32-bit value fl_save stored in cpu->jit.logic_value (the result
 * register of that instruction, instead of saving RFLAGS: a store instead
 * of PUSHFQ and POP) sets again: AND/OR/XOR/TEST r,r by TEST m32, -1
 * (CF = OF = AF = 0, SF, ZF and PF from the value); ADD and SUB r32, imm
 * by undoing the operation and doing it again on the value; CMP r32, imm
 * by CMP m32, imm (struct replay). AES's table lookups mask an index with
 * AND right before each load; gzip's match loop counts down with SUB
 * right before one. */
enum { FS_MEM, FS_HOST, FS_SAVED, FS_HOST_OF, FS_LOGIC };

/* How FS_LOGIC's flags are set again from cpu->jit.logic_value. */
enum { REPLAY_TEST, REPLAY_ADD, REPLAY_SUB, REPLAY_CMP };
struct replay {
    uint8_t op;                /* REPLAY_* */
    int32_t imm;               /* ADD, SUB, CMP: the immediate */
};

/* groups of memory operands open at once (plan_groups), one addend each */
#define GROUP_SLOTS ((int)(sizeof(((struct cpu *)0)->jit.group_addend) / sizeof(uint64_t)))

/* An out-of-line slow path: instruction i through the interpreter. */
struct stub {
    struct x64_label slow;     /* where the fast path jumps on a miss */
    struct x64_label back;     /* the instruction after, in the main path */
    uint32_t i, eip;
    uint8_t fs_in, fs_out;     /* flags state at the jump / expected back */
    struct replay replay_in;   /* with fs_in FS_LOGIC */
    bool leave;                /* leave the block after the call (a group leader's miss) */
    uint32_t wide_len;         /* a read group's two-page check (R8: its span's start) */
    bool save_flags;           /* a CMP or TEST: coming back, the flags in R13 too and R9 = 1
                                  (emit_loop_edge: R8 and R9 no longer address its operand) */
};

/* A windowed check's miss (tlb_check): the usual check, out of line from
 * R8 again, back with R9 the entry's addend instead of the window's base. */
struct window_miss {
    struct x64_label at, back;
    struct stub *stub;         /* its instruction's slow path */
    unsigned size;
    uint8_t kind;
    bool wide;
};
#define WINDOW_MISSES (2 * SCAN_MAX_INSNS)

/* A loop edge (emit_loop_edge) keeps the guest flags in RFLAGS; when
 * the budget is spent, how to set them there again after its CMP of the
 * budget clobbered them: nothing to do (they are in R13 or memory), one
 * host CMP or TEST run again (its operands unchanged since), the FS_LOGIC
 * replay from a register or from cpu->jit.logic_value; or no way. */
enum { REDO_NONE, REDO_BYTES, REDO_LOGIC_REG, REDO_LOGIC_MEM, REDO_CANNOT };
struct redo {
    uint8_t kind;              /* REDO_* */
    uint8_t len;               /* REDO_BYTES: the instruction's */
    bool maybe_saved;          /* REDO_BYTES: its slow path comes back with R9 = 1 and the
                                  flags in R13 (struct stub's save_flags) */
    int8_t reg;                /* REDO_LOGIC_REG: the host register */
    struct replay replay;      /* REDO_LOGIC_*: how */
    uint8_t bytes[15];
};

/* A conditional jump inside the block, taken: the block ends after its
 * count instructions and goes on at target (emitted out of line). */
struct side_exit {
    struct x64_label at;
    uint32_t count, target;
    uint8_t fs;                /* flags state at the jump */
    struct redo redo;          /* a jump back to the block's start: emit_loop_edge */
    int32_t const_flags;       /* the flags when known (a JE on a zero result), or -1 */
};

struct emitter {
    struct x64_asm a;
    struct native *nt;
    struct tcache_stats *stats;
    struct tblock *b;
    uint32_t i, eip;           /* the instruction being emitted */
    int fs;                    /* FS_* */
    struct stub *stub;         /* the current instruction's stub, if it has one */
    struct stub stubs[SCAN_MAX_INSNS];
    int nstubs;
    bool window_ok;            /* user-mode code: checks may use the host window (tlb_check) */
    struct window_miss window_misses[WINDOW_MISSES];
    int nwindow;
    struct side_exit sides[SCAN_MAX_INSNS];
    int nsides;
    /* memory operands sharing one TLB check (plan_groups): for each
     * instruction the index of its group's leader, or -1; for a leader the
     * group's span of displacements [lo, hi) and whether a member writes */
    int8_t group_of[SCAN_MAX_INSNS];
    int64_t group_lo[SCAN_MAX_INSNS], group_hi[SCAN_MAX_INSNS];   /* (disp + size overflows int32) */
    bool group_write[SCAN_MAX_INSNS];
    bool group_table[SCAN_MAX_INSNS];     /* a leader's group has a table lookup member */
    uint8_t group_slot[SCAN_MAX_INSNS];   /* a leader's cpu->jit.group_addend slot */
    /* a table lookup (plan_groups): the index register's largest value
     * times the scale, which widens the operand's reach; else 0 */
    int64_t table_reach[SCAN_MAX_INSNS];
    bool table_lookup[SCAN_MAX_INSNS];
    /* a member's displacement as from its base register's value at the
     * leader (plan_groups: the base may move by a constant in between) */
    int64_t group_disp[SCAN_MAX_INSNS];
    bool group_stack[SCAN_MAX_INSNS];     /* the grouped access is the stack slot (stack_operand) */
    int group_active[GROUP_SLOTS];        /* the leader whose addend a slot holds, or -1 */
    int r9_slot;                          /* the slot whose addend R9 still holds, or -1 */
    int logic_reg;                        /* the host register holding the result of the last
                                             instruction that wrote flags, a 32-bit AND/OR/XOR/
                                             TEST (or ADD, SUB, CMP with an immediate) whose
                                             flags are in RFLAGS, or -1; valid (logic_valid)
                                             while no host instruction since may have changed
                                             RFLAGS and no guest one wrote its register */
    int logic_gpr;                        /* that guest register */
    uint32_t logic_insn;                  /* and the instruction */
    uint32_t logic_writes;                /* a.flag_writes after it */
    struct replay logic_replay;           /* how logic_reg's value gives those flags */
    struct replay replay;                 /* with fs FS_LOGIC: how to set its flags again */
    /* the host CMP or TEST that set RFLAGS last, when running it again sets
     * them the same: cmp_len bytes at cmp_start, valid while nothing but
     * side exits' Jcc has been emitted since (a->cur == cmp_valid); cmp_at
     * is where emit_alu and emit_test put the instruction being emitted */
    uint8_t *cmp_start, *cmp_valid, *cmp_at;
    int cmp_len;
    bool cmp_saved;                       /* its slow path comes back (stub.save_flags) */
    /* loops (emit_loop_edge): whether jumps back to the block's start may
     * skip its entry for body, how many do, and where a spent budget leaves */
    bool loop_ok;
    int nloops;
    struct x64_label body, budget_exit;
    /* guest flags known to be const_flags (>= 0) while a.flag_writes is
     * still const_writes: after a JNE that fell through on the zero result
     * of a CMP, SUB or logic instruction (zero_result_flags) */
    int32_t const_flags;
    uint32_t const_writes;
};

/* ---- flags ---- */

/* FS_HOST_OF to FS_SAVED: RFLAGS' CF, ZF, SF and PF merged into R13
 * (through the stack: no scratch register is taken). */
static void emit_merge_of(struct x64_asm *a)
{
    x64_pushfq(a);
    x64_alu_mi(a, X64_AND, 32, x64_mem_b(X64_RSP, 0), FL_CF | FL_ZF | FL_SF | FL_PF);
    x64_alu_rm(a, X64_OR, 32, NATIVE_FLAGS, x64_mem_b(X64_RSP, 0));
    x64_lea(a, 64, X64_RSP, x64_mem_b(X64_RSP, 8));
}

/* FS_LOGIC: the flags set again in RFLAGS (the value stays). */
static void emit_logic_flags(struct x64_asm *a, struct replay r)
{
    struct x64_mem value = x64_mem_b(NATIVE_CPU, CPU_OFF(jit.logic_value));
    switch (r.op) {
    case REPLAY_TEST:
        x64_test_mi(a, 32, value, -1);
        break;
    case REPLAY_ADD:   /* the operand back, then the same ADD */
        x64_alu_mi(a, X64_SUB, 32, value, r.imm);
        x64_alu_mi(a, X64_ADD, 32, value, r.imm);
        break;
    case REPLAY_SUB:
        x64_alu_mi(a, X64_ADD, 32, value, r.imm);
        x64_alu_mi(a, X64_SUB, 32, value, r.imm);
        break;
    default:
        x64_alu_mi(a, X64_CMP, 32, value, r.imm);
        break;
    }
}

/* FS_HOST_OF to FS_SAVED, FS_LOGIC to FS_HOST. */
static void flags_settle(struct emitter *e)
{
    if (e->fs == FS_LOGIC) {
        emit_logic_flags(&e->a, e->replay);
        e->fs = FS_HOST;
    } else if (e->fs == FS_HOST_OF) {
        emit_merge_of(&e->a);
        e->fs = FS_SAVED;
    }
}

/* Make FS_MEM or FS_SAVED flags the host's. POPFQ of the arithmetic bits
 * only: TF, DF and AC stay 0, IF and IOPL are ignored at user level. */
static void flags_to_host(struct emitter *e, int fs)
{
    struct x64_asm *a = &e->a;
    if (fs == FS_LOGIC) {
        emit_logic_flags(a, e->replay);
        return;
    }
    if (fs == FS_HOST_OF) {
        emit_merge_of(a);
        fs = FS_SAVED;
    }
    if (fs == FS_MEM) {   /* R11: R8 and R9 may hold a memory operand's address */
        x64_mov_rm(a, 32, X64_R11, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(a, X64_AND, 32, X64_R11, FL_ARITH);
        x64_push_r(a, X64_R11);
        x64_popfq(a);
    } else if (fs == FS_SAVED) {
        x64_push_r(a, NATIVE_FLAGS);
        x64_popfq(a);
    }
}

static void fl_host(struct emitter *e)
{
    flags_to_host(e, e->fs);
    e->fs = FS_HOST;
}

static int written_gpr(const struct insn *in);
static bool stack_shift(const struct emitter *e, const struct insn *in, int32_t *delta);

/* logic_reg still gives the flags in RFLAGS: nothing changed them since,
 * and no instruction since (nor the current one) wrote its register. */
static bool logic_valid(const struct emitter *e)
{
    if (e->fs != FS_HOST || e->logic_reg < 0 || e->a.flag_writes != e->logic_writes)
        return false;
    for (uint32_t j = e->logic_insn + 1; j <= e->i && j < e->b->n; j++) {
        const struct insn *in = &e->b->insn[j].insn;
        int w = written_gpr(in);
        int32_t moved;
        if (w == -2 || w == e->logic_gpr ||
            (e->logic_gpr == R_ESP && (!stack_shift(e, in, &moved) || moved != 0)))
            return false;
    }
    return true;
}

/* The guest flags are the constant e->const_flags (zero_result_flags). */
static bool flags_known(const struct emitter *e)
{
    return e->const_flags >= 0 && e->a.flag_writes == e->const_writes;
}

/* A constant's flags to R13: a MOV instead of PUSHFQ, which is
 * micro-coded and waits for every flag. */
static void flags_const_save(struct emitter *e)
{
    x64_mov_ri(&e->a, 32, NATIVE_FLAGS, (uint32_t)e->const_flags);
    e->fs = FS_SAVED;
}

/* Before host code that clobbers RFLAGS. */
static void fl_save(struct emitter *e)
{
    if ((e->fs == FS_HOST || e->fs == FS_HOST_OF) && flags_known(e)) {
        flags_const_save(e);
        return;
    }
    if (e->fs == FS_LOGIC)
        return;   /* in memory already */
    if (logic_valid(e)) {
        x64_mov_mr(&e->a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.logic_value)), e->logic_reg);
        e->fs = FS_LOGIC;
        e->replay = e->logic_replay;
        return;
    }
    flags_settle(e);
    if (e->fs == FS_HOST) {
        x64_pushfq(&e->a);
        x64_pop_r(&e->a, NATIVE_FLAGS);
        e->fs = FS_SAVED;
    }
}

/* For an instruction that writes only some arithmetic flags (INC/DEC keep
 * CF, rotates keep SF/ZF/AF/PF): partial_begin before it, partial_end
 * with the bits it writes after it. Flags already in RFLAGS just stay
 * there; saved ones are merged with the new bits in R13 rather than
 * reloaded into RFLAGS with POPFQ first (tens of cycles). */
static int partial_begin(struct emitter *e)
{
    if (e->fs == FS_LOGIC) {   /* to R13: callers after fl_save count on FS_SAVED */
        emit_logic_flags(&e->a, e->replay);
        x64_pushfq(&e->a);
        x64_pop_r(&e->a, NATIVE_FLAGS);
        e->fs = FS_SAVED;
    }
    flags_settle(e);
    int fs = e->fs;
    if (fs == FS_MEM) {
        x64_mov_rm(&e->a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(&e->a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
        e->fs = FS_SAVED;
    }
    return e->fs;
}

static void partial_end(struct emitter *e, int fs_before, uint32_t written)
{
    struct x64_asm *a = &e->a;
    if (fs_before == FS_HOST) {
        e->fs = FS_HOST;
        return;
    }
    x64_pushfq(a);
    x64_pop_r(a, X64_R8);
    x64_alu_ri(a, X64_AND, 32, X64_R8, written);
    x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, ~(int64_t)written & 0xFFFFFFFF);
    x64_alu_rr(a, X64_OR, 32, NATIVE_FLAGS, X64_R8);
    e->fs = FS_SAVED;
}

/* CF into RFLAGS for ADC/SBB/RCL/RCR (the other flags they overwrite). */
static void carry_to_host(struct emitter *e)
{
    flags_settle(e);
    if (e->fs == FS_MEM) {
        x64_mov_rm(&e->a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        e->fs = FS_SAVED;
    }
    if (e->fs == FS_SAVED)
        x64_bitop_ri(&e->a, X64_BT, 32, NATIVE_FLAGS, 0);
    e->fs = FS_HOST;
}

/* ---- calls into the interpreter ---- */

/* Run instruction i in the interpreter through a shared thunk (native.c):
 * registers spilled, flags to cpu->eflags, icount exact; on the helper's
 * "leave" the thunk exits for the run loop, else it reloads the registers
 * and returns here with the flags in memory. The last instruction always
 * leaves. Clobbers R8-R11 and RFLAGS. */
static void emit_call_insn(struct emitter *e, int fs, struct replay replay, uint32_t i,
                           uint32_t eip)
{
    struct x64_asm *a = &e->a;
    /* fs, not e->fs: a stub is emitted after the block, with its own state */
    if (fs == FS_LOGIC) {
        emit_logic_flags(a, replay);
        fs = FS_HOST;
    } else if (fs == FS_HOST_OF) {
        emit_merge_of(a);
        fs = FS_SAVED;
    }
    if (fs == FS_HOST) {
        x64_pushfq(a);
        x64_pop_r(a, NATIVE_FLAGS);
        fs = FS_SAVED;
    }
    x64_mov_ri(a, 64, X64_R8, (int64_t)(intptr_t)e->b);
    x64_mov_ri(a, 32, X64_R10, i);
    x64_mov_ri(a, 32, X64_R11, eip);
    x64_call_abs(a, codebuf_to_rx(e->nt->cb, fs == FS_SAVED ? e->nt->call_saved_rw
                                                            : e->nt->call_mem_rw));
}

/* ---- block exits ---- */

/* Flags to R13 (the block boundary state). */
static void end_flags(struct emitter *e)
{
    struct x64_asm *a = &e->a;
    if (e->fs != FS_SAVED && flags_known(e)) {
        flags_const_save(e);
        return;
    }
    flags_settle(e);
    if (e->fs == FS_HOST) {
        x64_pushfq(a);
        x64_pop_r(a, NATIVE_FLAGS);
    } else if (e->fs == FS_MEM) {
        x64_mov_rm(a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
    }
    e->fs = FS_SAVED;
}

/* The block boundary state after count instructions (all n, or up to a
 * side exit): flags in R13, the budget less what ran. */
static void end_block(struct emitter *e, uint32_t count)
{
    end_flags(e);
    x64_lea(&e->a, 64, NATIVE_BUDGET, x64_mem_b(NATIVE_BUDGET, -(int32_t)count));
}

/* Condition cc of the guest flags, wherever they are: the host condition
 * to test instead (cc itself when they are in RFLAGS). Saved ones are
 * tested bit by bit rather than reloaded (POPFQ costs tens of cycles);
 * then RFLAGS only answers this one question, and the flags stay saved.
 * Clobbers R10, R11 (and RFLAGS unless the flags are there); R8 and R9,
 * a memory operand's address, survive. */
static enum x64_cc saved_cond(struct emitter *e, enum x64_cc cc);

static enum x64_cc cond_of(struct emitter *e, enum x64_cc cc)
{
    if (e->fs == FS_HOST)
        return cc;
    /* O, NO, L, GE, LE, G read OF; the rest find RFLAGS right */
    if (e->fs == FS_HOST_OF && (cc >> 1) != 0 && (cc >> 1) < 6)
        return cc;
    flags_settle(e);
    if (e->fs == FS_HOST)   /* (FS_LOGIC: RFLAGS set again) */
        return cc;
    if (e->fs == FS_MEM) {
        x64_mov_rm(&e->a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(&e->a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
        e->fs = FS_SAVED;
    }
    return saved_cond(e, cc);
}

static enum x64_cc saved_cond(struct emitter *e, enum x64_cc cc)
{
    struct x64_asm *a = &e->a;
    static const uint32_t bits[6] = { FL_OF, FL_CF, FL_ZF, FL_CF | FL_ZF, FL_SF, FL_PF };
    bool negate = cc & 1;
    int pair = cc >> 1;
    if (pair < 6) {
        x64_test_ri(a, 32, NATIVE_FLAGS, bits[pair]);
    } else {
        /* L: SF != OF (OF is bit 11, SF bit 7); LE: that or ZF */
        x64_mov_rr(a, 32, X64_R10, NATIVE_FLAGS);
        x64_shift_ri(a, X64_SHR, 32, X64_R10, 4);
        x64_alu_rr(a, X64_XOR, 32, X64_R10, NATIVE_FLAGS);
        x64_alu_ri(a, X64_AND, 32, X64_R10, FL_SF);
        if (pair == 7) {
            x64_mov_rr(a, 32, X64_R11, NATIVE_FLAGS);
            x64_alu_ri(a, X64_AND, 32, X64_R11, FL_ZF);
            x64_alu_rr(a, X64_OR, 32, X64_R10, X64_R11);
        }
    }
    return negate ? X64_CC_E : X64_CC_NE;
}

/* Go on at the guest EIP in R10D through the indirect-branch cache
 * (native.h), or leave for the run loop on a miss. Boundary state. */
static void emit_indirect(struct emitter *e)
{
    struct x64_asm *a = &e->a;
    struct x64_mem eip = x64_mem_b(NATIVE_CPU, CPU_OFF(eip));
    if (!(e->b->mode & TMODE_FLAT4G)) {
        x64_mov_mr(a, 32, eip, X64_R10);
        x64_jmp_rel32(a, e->nt->exit_rw);
        return;
    }
    struct native_jc *jc = e->nt->jc;
    struct x64_label miss;
    x64_label_init(&miss);
    x64_mov_rr(a, 32, X64_R8, X64_R10);
    x64_mov_ri(a, 64, X64_R11, (int64_t)((uint64_t)e->b->mode << 32));
    x64_alu_rr(a, X64_OR, 64, X64_R8, X64_R11);
    x64_imul_rri(a, 32, X64_R9, X64_R10, (int32_t)NATIVE_JC_HASH);
    x64_shift_ri(a, X64_SHR, 32, X64_R9, 32 - NATIVE_JC_BITS);
    x64_shift_ri(a, X64_SHL, 32, X64_R9, 5);
    x64_mov_ri(a, 64, X64_R11, (int64_t)(intptr_t)jc->entry);
    /* the non-global generation, then the global one (native.h) */
    struct x64_label hit;
    x64_label_init(&hit);
    struct x64_label global;
    x64_label_init(&global);
    x64_alu_rm(a, X64_OR, 64, X64_R8, x64_mem_b(X64_R11, -24));
    x64_alu_rm(a, X64_CMP, 64, X64_R8, x64_mem_bis(X64_R11, X64_R9, 1, 0));
    x64_jcc_label(a, X64_CC_NE, &global, true);
    x64_mov_rm(a, 64, X64_R8, x64_mem_b(X64_R11, -40));   /* and the space's version */
    x64_alu_rm(a, X64_CMP, 64, X64_R8, x64_mem_bis(X64_R11, X64_R9, 1, 24));
    x64_jcc_label(a, X64_CC_E, &hit, true);
    x64_jmp_label(a, &miss, true);
    x64_bind(a, &global);
    x64_alu_rm(a, X64_XOR, 64, X64_R8, x64_mem_b(X64_R11, -24));
    x64_alu_rm(a, X64_OR, 64, X64_R8, x64_mem_b(X64_R11, -32));
    x64_alu_rm(a, X64_CMP, 64, X64_R8, x64_mem_bis(X64_R11, X64_R9, 1, 0));
    x64_jcc_label(a, X64_CC_NE, &miss, true);
    x64_bind(a, &hit);
    x64_alu_mi(a, X64_ADD, 64, x64_mem_b(X64_R11, -8), 1);
    x64_jmp_m(a, x64_mem_bis(X64_R11, X64_R9, 1, 8));
    x64_bind(a, &miss);
    x64_alu_mi(a, X64_ADD, 64, x64_mem_b(X64_R11, -16), 1);
    x64_mov_mr(a, 32, eip, X64_R10);
    x64_jmp_rel32(a, e->nt->exit_rw);
}

/* Leave the block after count instructions for guest EIP target: a
 * chainable jump (same page, flat mode), the indirect-branch cache
 * (another page) or a plain exit. */
static void emit_goto_after(struct emitter *e, uint32_t target, uint32_t count)
{
    struct x64_asm *a = &e->a;
    const struct tblock *b = e->b;
    end_block(e, count);
    struct x64_mem eip = x64_mem_b(NATIVE_CPU, CPU_OFF(eip));
    if ((b->mode & TMODE_FLAT) && (target >> 12) == (b->eip >> 12)) {
        long site = x64_jmp_patchable(a, NULL);
        x64_mov_mi(a, 32, eip, (int32_t)target);
        if (site >= 0)
            x64_mov_ri(a, 64, X64_R8, (int64_t)(intptr_t)(a->start + site));
        x64_mov_mr(a, 64, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.exit_site)), X64_R8);
        x64_mov_ri(a, 64, X64_R8, (int64_t)(intptr_t)b);
        x64_mov_mr(a, 64, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.exit_block)), X64_R8);
    } else {
        x64_mov_ri(a, 32, X64_R10, target);
        emit_indirect(e);
        return;
    }
    x64_jmp_rel32(a, e->nt->exit_rw);
}

/* Leave the block, all of it run, for guest EIP target. */
static void emit_goto(struct emitter *e, uint32_t target)
{
    emit_goto_after(e, target, e->b->n);
}

/* Leave for the guest EIP in R10D (RET, indirect JMP/CALL). */
static void emit_goto_r10(struct emitter *e)
{
    end_block(e, e->b->n);
    emit_indirect(e);
}

/* ---- loops ----
 *
 * A jump back to the block's own start leaves as any exit would: PUSHFQ
 * of the flags to R13, the budget less the count, and the chained jump to
 * the entry's budget check, whose CMP clobbers RFLAGS. When the block's
 * first instructions overwrite all six flags without reading them
 * (entry_flags_writer), the value in R13 only matters if the budget is
 * spent there, so the jump checks the budget itself and goes straight on
 * at the body; only on the way out are the flags set in RFLAGS again
 * (struct redo) and saved. A hot loop so runs without PUSHFQ, which is
 * micro-coded and waits for every flag. */

/* Loop edges in one block at most: each adds a jump to budget_exit,
 * which takes X64_LABEL_MAX_FIXUPS. */
#define LOOP_EDGES_MAX 8

/* The instruction that overwrites all six arithmetic flags before
 * anything reads them or can fault: an ADD, SUB, AND, OR, XOR, CMP,
 * TEST, NEG, MUL or IMUL of registers and immediates, or a shift of a
 * register by an immediate that is not 0 mod 32 (the flags the manual
 * leaves undefined, the interpreter defines, and host code computes them
 * the same), after nothing but register MOVs, MOVZX, MOVSX and LEAs; or
 * -1. Those before it must become host code (native_emit_block:
 * an interpreter call could leave with the stale flags). */
static int entry_flags_writer(const struct tblock *b)
{
    for (uint32_t i = 0; i < b->n && i < 8; i++) {
        const struct insn *in = &b->insn[i].insn;
        bool regs = true;
        for (int k = 0; k < in->nopnd; k++)
            if (in->opnd[k].kind != OPND_REG && in->opnd[k].kind != OPND_IMM)
                regs = false;
        switch (in->op) {
        case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR: case OP_CMP: case OP_TEST:
            return regs && in->nopnd == 2 ? (int)i : -1;
        case OP_NEG: case OP_MUL: case OP_IMUL1: case OP_IMUL:
            return regs ? (int)i : -1;
        case OP_SHL: case OP_SHR: case OP_SAR:
            return regs && in->opnd[1].kind == OPND_IMM && (in->imm & 31) ? (int)i : -1;
        case OP_MOV: case OP_MOVZX: case OP_MOVSX:
            if (!regs)
                return -1;
            break;
        case OP_LEA:   /* (its memory operand is only an address) */
            break;
        default:
            return -1;
        }
    }
    return -1;
}

/* At a Jcc, after cond_of (fs_before the flags state before it), or at a
 * JMP: how a loop edge there would set the flags in RFLAGS again. */
static struct redo jcc_redo(const struct emitter *e, int fs_before)
{
    struct redo r = { .kind = REDO_CANNOT };
    if (e->fs == FS_SAVED || e->fs == FS_MEM) {
        r.kind = REDO_NONE;
    } else if (e->fs == FS_LOGIC || (e->fs == FS_HOST && fs_before == FS_LOGIC)) {
        /* (after cond_of: set again in RFLAGS, the value still in memory) */
        r.kind = REDO_LOGIC_MEM;
        r.replay = e->replay;
    } else if (e->fs == FS_HOST && e->cmp_valid && e->a.cur == e->cmp_valid &&
               e->cmp_len <= (int)sizeof r.bytes) {
        r.kind = REDO_BYTES;
        r.len = (uint8_t)e->cmp_len;
        r.maybe_saved = e->cmp_saved;
        memcpy(r.bytes, e->cmp_start, r.len);
    } else if (logic_valid(e)) {
        r.kind = REDO_LOGIC_REG;
        r.reg = (int8_t)e->logic_reg;
        r.replay = e->logic_replay;
    }
    return r;
}

static bool loop_edge_ok(const struct emitter *e, uint32_t target, const struct redo *r)
{
    return e->loop_ok && target == e->b->eip && r->kind != REDO_CANNOT &&
           e->nloops < LOOP_EDGES_MAX;
}

/* Back to the block's start after count instructions, the flags (state
 * e->fs) where the Jcc saw them: on at the body while the budget covers
 * another pass, else out through the entry's budget exit with the flags
 * in R13 as any exit leaves them. */
static void emit_loop_edge(struct emitter *e, uint32_t count, const struct redo *r)
{
    struct x64_asm *a = &e->a;
    e->nloops++;
    e->stats->native_loop_edges++;
    x64_lea(a, 64, NATIVE_BUDGET, x64_mem_b(NATIVE_BUDGET, -(int32_t)count));
    x64_alu_ri(a, X64_CMP, 64, NATIVE_BUDGET, e->b->n);
    x64_jcc_label(a, X64_CC_GE, &e->body, false);
    struct x64_label saved;
    x64_label_init(&saved);
    switch (r->kind) {
    case REDO_BYTES:
        if (r->maybe_saved) {   /* its slow path ran: the flags are in R13 */
            x64_alu_ri(a, X64_CMP, 64, X64_R9, 1);
            x64_jcc_label(a, X64_CC_E, &saved, true);
        }
        x64_copy(a, r->bytes, r->len);
        e->fs = FS_HOST;
        break;
    case REDO_LOGIC_REG:
        x64_mov_mr(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.logic_value)), r->reg);
        /* fall through */
    case REDO_LOGIC_MEM:
        e->fs = FS_LOGIC;
        e->replay = r->replay;
        break;
    default:
        break;
    }
    end_flags(e);
    x64_bind(a, &saved);
    x64_jmp_label(a, &e->budget_exit, false);
}

/* ---- memory operands ---- */

static bool mem_native(const struct emitter *e, const struct insn *in)
{
    uint32_t mode = e->b->mode;
    if (!(mode & TMODE_FLAT4G) || (mode & TMODE_ALIGN) || in->addrsize != 4)
        return false;
    switch (in->seg) {
    case SEG_DS: case SEG_SS: case SEG_ES:
    case SEG_FS: case SEG_GS: return true;   /* FS, GS: checked as they are now (mem_operand) */
    default:     return false;
    }
}

/* The stack: 32-bit, flat. */
static bool stack_native(const struct emitter *e)
{
    uint32_t mode = e->b->mode;
    return (mode & TMODE_FLAT4G) && (mode & TMODE_STACK32) && !(mode & TMODE_ALIGN);
}

/* The current instruction's slow path (one per instruction, opened by
 * its first check, entered with the flags state of that moment). */
static void open_stub(struct emitter *e)
{
    if (!e->stub) {
        struct stub *s = &e->stubs[e->nstubs++];
        x64_label_init(&s->slow);
        x64_label_init(&s->back);
        s->i = e->i;
        s->eip = e->eip;
        s->fs_in = (uint8_t)e->fs;
        s->replay_in = e->replay;
        s->leave = false;
        s->wide_len = 0;
        s->save_flags = false;
        e->stub = s;
    }
}

/* into entry, the TLB entry's offset for the linear address in lin:
 * index * 16 (the bits RORX brings round to the top are masked off with
 * the rest) */
static void tlb_entry_of(struct emitter *e, int entry, int lin)
{
    struct x64_asm *a = &e->a;
    if (e->nt->host_bmi2) {
        x64_rorx(a, 32, entry, lin, 12 - 4);
    } else {
        x64_mov_rr(a, 32, entry, lin);
        x64_shift_ri(a, X64_SHR, 32, entry, 12 - 4);
    }
    x64_alu_ri(a, X64_AND, 32, entry, (TLB_SIZE - 1) << 4);
}

static unsigned access_kind(const struct emitter *e, bool write)
{
    unsigned user = ((e->b->mode >> TMODE_CPL_SHIFT) & 3) == 3;
    return 1u << ((user << 1) | write);
}

/* To the slow path unless the entry at offset `entry` holds the page of
 * the address in R10D for kind: (tag ^ (page | kind)) has no bit in
 * MASK | kind. The offset bits below the page need no clearing: the test
 * ignores all of them but kind's, which the OR sets. Clobbers R10. */
static void tlb_tag_test_to(struct emitter *e, int entry, unsigned kind, struct x64_label *miss)
{
    struct x64_asm *a = &e->a;
    x64_alu_ri(a, X64_OR, 32, X64_R10, kind);
    x64_alu_rm(a, X64_XOR, 32, X64_R10, x64_mem_bis(NATIVE_CPU, entry, 1, CPU_OFF(tlb)));
    x64_test_ri(a, 32, X64_R10, TLB_PAGE_MASK | kind);
    x64_jcc_label(a, X64_CC_NE, miss, false);
}

static void tlb_tag_test(struct emitter *e, int entry, unsigned kind)
{
    tlb_tag_test_to(e, entry, kind, &e->stub->slow);
}

/* R10D: the address of the last byte of size bytes at R8D. */
static void last_byte_to_r10(struct emitter *e, unsigned size)
{
    if (size > 1)
        x64_lea(&e->a, 32, X64_R10, x64_mem_b(X64_R8, (int32_t)size - 1));
    else
        x64_mov_rr(&e->a, 32, X64_R10, X64_R8);
}

/* The usual check (tlb_check) from the address in R8D:
 * R9 the entry's addend after it. */
static void tlb_check_plain(struct emitter *e, unsigned size, unsigned kind, bool wide)
{
    struct x64_asm *a = &e->a;
    tlb_entry_of(e, X64_R9, X64_R8);
    if (!wide) {
        /* the last byte's page against the entry of the first byte's (a
         * last byte on the next page cannot match: that page has the next
         * entry) */
        last_byte_to_r10(e, size);
        tlb_tag_test(e, X64_R9, kind);
        x64_mov_rm(a, 64, X64_R9, x64_mem_bis(NATIVE_CPU, X64_R9, 1, CPU_OFF(tlb) + 8));
        return;
    }
    x64_mov_rr(a, 32, X64_R10, X64_R8);
    tlb_tag_test(e, X64_R9, kind);
    x64_lea(a, 32, X64_R10, x64_mem_b(X64_R8, (int32_t)size - 1));
    tlb_entry_of(e, X64_R11, X64_R10);
    tlb_tag_test(e, X64_R11, kind);
    x64_mov_rm(a, 64, X64_R9, x64_mem_bis(NATIVE_CPU, X64_R9, 1, CPU_OFF(tlb) + 8));
    x64_alu_rm(a, X64_CMP, 64, X64_R9, x64_mem_bis(NATIVE_CPU, X64_R11, 1, CPU_OFF(tlb) + 8));
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
}

/* The linear address in R8D is checked against the TLB for size bytes of
 * this kind of access; on a hit [R9 + R8] is the host address. Opens the
 * instruction's stub (the miss path). Clobbers RFLAGS (saved first).
 * wide (a group's span that may run into the next page: its check missed
 * before, tblock.group_wide): the entries of the span's first and last
 * byte, each for this kind of access, and the same addend in both, which
 * holds where the two pages lie next to each other in guest RAM (an AES
 * table across a page of a library that was read in one piece): one
 * addend then serves the whole span. The miss path of a read group has
 * the TLB fill both entries (native_exec_insn), for the interpreter
 * touches only the page it reads. Clobbers R11 too.
 * User-mode code (window): R9 is the host window's base (cpu->fast_base,
 * mmu/fastmem.h) where the entries say the window maps their pages
 * (TLB_KIND_FAST): that load does not wait for the address, so the access
 * waits only for its address, and the check runs beside it (its branch
 * predicted); a span across two pages then needs no neighbours in RAM.
 * Else the usual check runs out of line (struct window_miss). */
static void tlb_check(struct emitter *e, unsigned size, bool write, bool wide)
{
    struct x64_asm *a = &e->a;
    unsigned kind = access_kind(e, write);
    open_stub(e);
    e->r9_slot = -1;
    if (wide) {
        if (!write)   /* (a write could not fill the entries without setting dirty bits) */
            e->stub->wide_len = size;
        e->stats->native_wide_checks++;
    }
    if (!e->window_ok || e->nwindow == WINDOW_MISSES) {
        tlb_check_plain(e, size, kind, wide);
        return;
    }
    struct window_miss *m = &e->window_misses[e->nwindow++];
    x64_label_init(&m->at);
    x64_label_init(&m->back);
    m->stub = e->stub;
    m->size = size;
    m->kind = (uint8_t)kind;
    m->wide = wide;
    tlb_entry_of(e, X64_R9, X64_R8);
    if (wide)
        x64_mov_rr(a, 32, X64_R10, X64_R8);
    else
        last_byte_to_r10(e, size);
    tlb_tag_test_to(e, X64_R9, kind | TLB_KIND_FAST, &m->at);
    if (wide) {
        x64_lea(a, 32, X64_R10, x64_mem_b(X64_R8, (int32_t)size - 1));
        tlb_entry_of(e, X64_R11, X64_R10);
        tlb_tag_test_to(e, X64_R11, kind | TLB_KIND_FAST, &m->at);
    }
    x64_mov_rm(a, 64, X64_R9, x64_mem_b(NATIVE_CPU, CPU_OFF(fast_base)));
    x64_bind(a, &m->back);
    e->stats->native_window_checks++;
}

/* A windowed check's miss (tlb_check): the usual check, from R8 again. */
static void emit_window_miss(struct emitter *e, struct window_miss *m)
{
    x64_bind(&e->a, &m->at);
    e->stub = m->stub;
    tlb_check_plain(e, m->size, m->kind, m->wide);
    x64_jmp_label(&e->a, &m->back, false);
}

static const struct x64_mem HOSTMEM = { X64_R9, X64_R8, 1, 0 };

/* The linear address of in's memory operand with displacement disp into
 * R8D (no flags touched unless FS/GS add their base). */
static void ea_to_r8(struct emitter *e, const struct insn *in, int32_t disp)
{
    int base = in->ea_base == EA_NONE ? X64_NOREG : native_hreg[in->ea_base];
    int index = in->ea_index == EA_NONE ? X64_NOREG : native_hreg[in->ea_index];
    if (base == X64_NOREG && index == X64_NOREG)
        x64_mov_ri(&e->a, 32, X64_R8, (uint32_t)disp);
    else
        x64_lea(&e->a, 32, X64_R8, x64_mem_bis(base, index, 1 << in->ea_scale, disp));
}

/* FS or GS as it is now (not as at translation: the user's GS stays
 * loaded while Linux runs kernel code, and a mode key holding it split
 * every kernel block in two, one per kind of process): an expand-up
 * writable data segment with a 4 GiB limit, where only the base add
 * remains; else the instruction's stub (the interpreter). Clobbers R10
 * and RFLAGS (saved first). */
static void fs_gs_flat_check(struct emitter *e, int seg)
{
    struct x64_asm *a = &e->a;
    int32_t at = CPU_OFF(seg) + seg * (int32_t)sizeof(struct seg_cache);
    open_stub(e);
    x64_alu_mi(a, X64_CMP, 32, x64_mem_b(NATIVE_CPU, at + (int32_t)offsetof(struct seg_cache, limit)),
               -1);
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    /* flags and valid in one load: flags is 16 bits, valid the byte after */
    x64_mov_rm(a, 32, X64_R10, x64_mem_b(NATIVE_CPU, at + (int32_t)offsetof(struct seg_cache, flags)));
    x64_alu_ri(a, X64_AND, 32, X64_R10, 0xFF0000 | SEGF_CODE | SEGF_DC | SEGF_RW);
    x64_alu_ri(a, X64_CMP, 32, X64_R10, 0x010000 | SEGF_RW);
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
}
_Static_assert(offsetof(struct seg_cache, valid) == offsetof(struct seg_cache, flags) + 2 &&
               sizeof(bool) == 1, "fs_gs_flat_check loads flags and valid together");

/* Instruction j's access of size bytes lies inside group g's span (and a
 * write, inside a span checked for writing). */
static bool group_covers(const struct emitter *e, uint32_t j, int g, unsigned size, bool write)
{
    return e->group_disp[j] >= e->group_lo[g] &&
           e->group_disp[j] + size + e->table_reach[j] <= e->group_hi[g] &&
           (!write || e->group_write[g]);
}

/* The group access of the current instruction (plan_groups), when it is
 * a member of an open group (R8 its address, R9 the addend: true) or its
 * leader (R8 the address after the span's check); false for neither. in
 * and disp give the access's own address, span the span's start (the
 * leader's base, its index left out for a table). */
static bool group_member(struct emitter *e, const struct insn *in, const struct insn *span,
                         int32_t disp, unsigned size, bool write)
{
    int g = e->group_of[e->i];
    if (g < 0 || !group_covers(e, e->i, g, size, write))
        return false;
    int k = e->group_slot[g];
    struct x64_mem slot = x64_mem_b(NATIVE_CPU, CPU_OFF(jit.group_addend) + 8 * k);
    if (g != (int)e->i && e->group_active[k] == g) {
        ea_to_r8(e, in, disp);
        if (e->r9_slot != k)   /* (else R9 still holds it: nothing wrote R9 since) */
            x64_mov_rm(&e->a, 64, X64_R9, slot);
        e->r9_slot = k;
        e->stats->native_shared_checks++;
        e->stats->native_shared_table_checks += e->table_lookup[e->i];
        return true;
    }
    if (g != (int)e->i)
        return false;
    fl_save(e);
    int32_t lo = (int32_t)e->group_lo[g];   /* (a member's displacement) */
    ea_to_r8(e, span, lo);
    tlb_check(e, (unsigned)(e->group_hi[g] - lo), e->group_write[g],
              g < 64 && (e->b->group_wide >> g & 1));
    e->stub->leave = true;
    x64_mov_mr(&e->a, 64, slot, X64_R9);
    e->r9_slot = k;
    if (e->table_lookup[e->i])
        ea_to_r8(e, in, disp);
    else if (disp != lo)
        x64_lea(&e->a, 32, X64_R8, x64_mem_b(X64_R8, disp - lo));
    e->group_active[k] = g;
    return true;
}

/* The memory operand's host address ([R9 + R8]) after all checks. A group
 * member (plan_groups) needs none: its leader checked the group's whole
 * span, and the addend waits in a cpu->jit.group_addend slot; it leaves RFLAGS
 * alone. A leader checks that span for the strongest kind of the group;
 * its miss runs it in the interpreter and leaves the block. */
static void mem_operand(struct emitter *e, const struct insn *in, unsigned size, bool write)
{
    struct insn span = *in;
    if (e->table_lookup[e->i])
        span.ea_index = EA_NONE;   /* the span is the table's, from its base */
    if (!e->group_stack[e->i] && group_member(e, in, &span, in->disp, size, write))
        return;
    fl_save(e);
    if (in->seg == SEG_FS || in->seg == SEG_GS)
        fs_gs_flat_check(e, in->seg);
    ea_to_r8(e, in, in->disp);
    if (in->seg == SEG_FS || in->seg == SEG_GS)   /* the base as loaded now (mem_native) */
        x64_alu_rm(&e->a, X64_ADD, 32, X64_R8,
                   x64_mem_b(NATIVE_CPU, CPU_OFF(seg) + in->seg * (int32_t)sizeof(struct seg_cache) +
                                         (int32_t)offsetof(struct seg_cache, base)));
    tlb_check(e, size, write, false);
}

/* A stack slot at ESP + delta, for size bytes. */
static void stack_operand(struct emitter *e, int32_t delta, unsigned size, bool write)
{
    struct insn slot = { .ea_base = R_ESP, .ea_index = EA_NONE };
    if (e->group_stack[e->i] && group_member(e, &slot, &slot, delta, size, write))
        return;
    fl_save(e);
    x64_lea(&e->a, 32, X64_R8, x64_mem_b(native_hreg[R_ESP], delta));
    tlb_check(e, size, write, false);
}

/* ---- instructions ---- */

/* AH, CH, DH, BH: guest EAX..EBX are host RAX..RBX, so their high bytes
 * are the host's AH..BH, which the assembler encodes in any instruction
 * without REX (register and immediate forms); memory operands (R8/R9)
 * and R12 (guest ESP) need REX, so those forms go through a scratch
 * register (high8_get, high8_put). */
static bool is_high8(const struct opnd *o)
{
    return o->kind == OPND_REG && o->size == 1 && o->reg >= 4;
}

static int hreg(const struct opnd *o)
{
    return is_high8(o) ? X64_AH + (o->reg - 4) : native_hreg[o->reg];
}

/* The high byte register o into the low byte of scratch r. Clobbers
 * RFLAGS: only with the flags saved (after mem_operand). */
static void high8_get(struct emitter *e, const struct opnd *o, int r)
{
    fl_save(e);   /* (a grouped memory operand left them in RFLAGS) */
    x64_mov_rr(&e->a, 32, r, native_hreg[o->reg - 4]);
    x64_shift_ri(&e->a, X64_SHR, 32, r, 8);
}

/* The low byte of scratch r into the high byte register o. Clobbers r
 * and RFLAGS: only with the flags saved. */
static void high8_put(struct emitter *e, const struct opnd *o, int r)
{
    struct x64_asm *a = &e->a;
    int h = native_hreg[o->reg - 4];
    fl_save(e);
    x64_movzx_rr(a, 32, r, 8, r);
    x64_shift_ri(a, X64_SHL, 32, r, 8);
    x64_alu_ri(a, X64_AND, 32, h, (int32_t)0xFFFF00FF);
    x64_alu_rr(a, X64_OR, 32, h, r);
}

/* Operand sizes the host encodes the same way. */
static bool operands_ok(const struct insn *in)
{
    for (int k = 0; k < in->nopnd; k++) {
        const struct opnd *o = &in->opnd[k];
        if (o->kind == OPND_REG || o->kind == OPND_MEM) {
            if (o->size != 1 && o->size != 2 && o->size != 4)
                return false;
        } else if (o->kind != OPND_IMM) {
            return false;
        }
    }
    return true;
}

static bool group_covers(const struct emitter *e, uint32_t j, int g, unsigned size, bool write);
static int group_operand(const struct emitter *e, const struct insn *in, bool *write);

/* Operand k of instruction j (after the current one) is a group member
 * whose leader is already host code with its addend in the slot: its
 * access cannot miss, so it cannot fault, and flags need not be kept for
 * it. (A member whose leader comes later may see its leader fault.) */
static bool shared_check(const struct emitter *e, uint32_t j, int k)
{
    int g = e->group_of[j];
    if (g < 0 || g >= (int)e->i || e->group_active[e->group_slot[g]] != g)
        return false;
    const struct insn *in = &e->b->insn[j].insn;
    bool write = false;
    return group_operand(e, in, &write) == k &&
           group_covers(e, j, g, in->opnd[k].size, write);
}

/* Whether the flags in `written`, as the current instruction leaves them,
 * can never be seen: later instructions of the block overwrite them
 * before anything could look (a flags reader, an access that may fault, an
 * interpreter call, the block's end). Only register and immediate forms
 * that always become host code are looked through. Then the instruction
 * may leave those flags wrong, and skip the work of getting them right
 * (rotates, INC/DEC: a PUSHFQ and a merge each; SHA-256 and friends are
 * rotates followed by XOR). */
static bool flags_dead_after(const struct emitter *e, uint32_t written)
{
    uint32_t live = written;
    const struct tblock *b = e->b;
    for (uint32_t j = e->i + 1; j < b->n; j++) {
        const struct insn *in = &b->insn[j].insn;
        if ((in->prefixes & (PFX_REP | PFX_REPNE)) || !operands_ok(in))
            return false;
        for (int k = 0; k < in->nopnd; k++)
            if (in->opnd[k].kind == OPND_MEM && in->op != OP_LEA && !shared_check(e, j, k))
                return false;
        switch (in->op) {
        case OP_ADD: case OP_OR: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP:
        case OP_TEST:
            return true;   /* all six written, none read */
        case OP_MOV: case OP_NOT: case OP_MOVZX: case OP_MOVSX:
            continue;      /* no flags, no fault */
        case OP_LEA:
            if (in->opnd[0].kind != OPND_REG || in->addrsize != 4)
                return false;
            continue;
        case OP_SHL: case OP_SHR: case OP_SAR: case OP_ROL: case OP_ROR:
            /* a 32-bit register by a non-zero immediate (host code): the
             * shifts write all six, the rotates CF and OF (SHA-256's
             * sigma functions: ROR, ROR, XOR) */
            if (in->opnd[0].kind != OPND_REG || in->opnd[0].size != 4 ||
                in->opnd[1].kind != OPND_IMM || (in->imm & 31) == 0)
                return false;
            if (in->op != OP_ROL && in->op != OP_ROR)
                return true;
            live &= ~(uint32_t)(FL_CF | FL_OF);
            if (!live)
                return true;
            continue;
        default:
            return false;
        }
    }
    return false;
}

static bool emit_alu(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    enum x64_alu op = (enum x64_alu)(in->op - OP_ADD);
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    int bits = d->size * 8;
    bool carry_in = op == X64_ADC || op == X64_SBB;
    if (d->kind == OPND_MEM || s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, d->size, d->kind == OPND_MEM && op != X64_CMP);
        if (is_high8(d) || is_high8(s)) {
            /* the operation on a copy in R10B, its flags saved before the merge */
            const struct opnd *h = is_high8(d) ? d : s;
            high8_get(e, h, X64_R10);
            if (carry_in)
                carry_to_host(e);
            if (op == X64_CMP)
                e->cmp_at = a->cur;
            if (h == d)
                x64_alu_rm(a, op, 8, X64_R10, HOSTMEM);
            else
                x64_alu_mr(a, op, 8, HOSTMEM, X64_R10);
            e->fs = FS_HOST;
            if (h == d && op != X64_CMP) {
                fl_save(e);
                high8_put(e, d, X64_R10);
            }
            return true;
        }
    }
    if (carry_in)
        carry_to_host(e);
    if (op == X64_CMP)
        e->cmp_at = a->cur;
    if (d->kind == OPND_REG && s->kind == OPND_REG)
        x64_alu_rr(a, op, bits, hreg(d), hreg(s));
    else if (d->kind == OPND_REG && s->kind == OPND_IMM)
        x64_alu_ri(a, op, bits, hreg(d), (int32_t)in->imm);
    else if (d->kind == OPND_REG && s->kind == OPND_MEM)
        x64_alu_rm(a, op, bits, hreg(d), HOSTMEM);
    else if (d->kind == OPND_MEM && s->kind == OPND_REG)
        x64_alu_mr(a, op, bits, HOSTMEM, hreg(s));
    else if (d->kind == OPND_MEM && s->kind == OPND_IMM)
        x64_alu_mi(a, op, bits, HOSTMEM, (int32_t)in->imm);
    else
        return false;
    e->fs = FS_HOST;
    return true;
}

static bool emit_test(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    int bits = d->size * 8;
    if (d->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, d->size, false);
        if (s->kind == OPND_IMM) {
            e->cmp_at = a->cur;
            x64_test_mi(a, bits, HOSTMEM, (int32_t)in->imm);
        } else if (is_high8(s)) {
            x64_movzx_rm(a, 32, X64_R10, 8, HOSTMEM);
            high8_get(e, s, X64_R11);
            e->cmp_at = a->cur;
            x64_test_rr(a, 8, X64_R10, X64_R11);
        } else {
            x64_mov_rm(a, bits, X64_R10, HOSTMEM);
            e->cmp_at = a->cur;
            x64_test_rr(a, bits, X64_R10, hreg(s));
        }
    } else if (s->kind == OPND_IMM) {
        e->cmp_at = a->cur;
        x64_test_ri(a, bits, hreg(d), (int32_t)in->imm);
    } else {
        e->cmp_at = a->cur;
        x64_test_rr(a, bits, hreg(d), hreg(s));
    }
    e->fs = FS_HOST;
    return true;
}

static bool emit_mov(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    int bits = d->size * 8;
    if (d->kind == OPND_MEM || s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, d->size, d->kind == OPND_MEM);
        if (is_high8(d)) {
            x64_movzx_rm(a, 32, X64_R10, 8, HOSTMEM);
            high8_put(e, d, X64_R10);
            return true;
        }
        if (is_high8(s)) {
            high8_get(e, s, X64_R10);
            x64_mov_mr(a, 8, HOSTMEM, X64_R10);
            return true;
        }
    }
    if (d->kind == OPND_REG && s->kind == OPND_REG)
        x64_mov_rr(a, bits, hreg(d), hreg(s));
    else if (d->kind == OPND_REG && s->kind == OPND_IMM)
        x64_mov_ri(a, bits, hreg(d), bits == 32 ? (int64_t)in->imm : (int64_t)(in->imm & ((1u << bits) - 1)));
    else if (d->kind == OPND_REG && s->kind == OPND_MEM)
        x64_mov_rm(a, bits, hreg(d), HOSTMEM);
    else if (d->kind == OPND_MEM && s->kind == OPND_REG)
        x64_mov_mr(a, bits, HOSTMEM, hreg(s));
    else if (d->kind == OPND_MEM && s->kind == OPND_IMM)
        x64_mov_mi(a, bits, HOSTMEM, (int32_t)in->imm);
    else
        return false;
    return true;
}

static bool emit_movx(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    bool sx = in->op == OP_MOVSX;
    int dbits = d->size * 8, sbits = s->size * 8;
    if (d->kind != OPND_REG || sbits >= dbits)
        return false;
    if (is_high8(s) && hreg(d) >= X64_R8)
        return false;   /* guest ESP is R12: REX */
    if (s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, s->size, false);
        if (sx)
            x64_movsx_rm(a, dbits, hreg(d), sbits, HOSTMEM);
        else
            x64_movzx_rm(a, dbits, hreg(d), sbits, HOSTMEM);
    } else if (sx) {
        x64_movsx_rr(a, dbits, hreg(d), sbits, hreg(s));
    } else {
        x64_movzx_rr(a, dbits, hreg(d), sbits, hreg(s));
    }
    return true;
}

static bool emit_lea(struct emitter *e, const struct insn *in)
{
    const struct opnd *d = &in->opnd[0];
    if (d->kind != OPND_REG || in->addrsize != 4)
        return false;
    int base = in->ea_base == EA_NONE ? X64_NOREG : native_hreg[in->ea_base];
    int index = in->ea_index == EA_NONE ? X64_NOREG : native_hreg[in->ea_index];
    if (base == X64_NOREG && index == X64_NOREG)
        x64_mov_ri(&e->a, d->size * 8, hreg(d), (uint32_t)in->disp & (d->size == 2 ? 0xFFFF : ~0u));
    else
        x64_lea(&e->a, d->size * 8, hreg(d), x64_mem_bis(base, index, 1 << in->ea_scale, in->disp));
    return true;
}

/* INC, DEC, NEG, NOT of a register or memory. */
static bool emit_unary(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0];
    int bits = d->size * 8;
    bool mem = d->kind == OPND_MEM;
    if (mem) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, d->size, true);
    }
    switch (in->op) {
    case OP_INC:
    case OP_DEC: {
        if (e->fs != FS_HOST && flags_dead_after(e, FL_ARITH & ~FL_CF)) {
            /* CF stays where it is; the others are unseen */
            if (in->op == OP_INC)
                mem ? x64_inc_m(a, bits, HOSTMEM) : x64_inc_r(a, bits, hreg(d));
            else
                mem ? x64_dec_m(a, bits, HOSTMEM) : x64_dec_r(a, bits, hreg(d));
            break;
        }
        int fs = partial_begin(e);   /* CF survives */
        if (in->op == OP_INC)
            mem ? x64_inc_m(a, bits, HOSTMEM) : x64_inc_r(a, bits, hreg(d));
        else
            mem ? x64_dec_m(a, bits, HOSTMEM) : x64_dec_r(a, bits, hreg(d));
        partial_end(e, fs, FL_ARITH & ~FL_CF);
        break;
    }
    case OP_NEG:
        mem ? x64_unary_m(a, X64_NEG, bits, HOSTMEM) : x64_unary_r(a, X64_NEG, bits, hreg(d));
        e->fs = FS_HOST;
        break;
    default:   /* NOT: no flags */
        mem ? x64_unary_m(a, X64_NOT, bits, HOSTMEM) : x64_unary_r(a, X64_NOT, bits, hreg(d));
        break;
    }
    return true;
}

/* A shift by CL whose masked count is 0 changes nothing, flags included:
 * the flags go to R13 (kept either way) and a zero count jumps to skip. */
static void skip_zero_cl(struct emitter *e, struct x64_label *skip)
{
    fl_save(e);
    partial_begin(e);
    x64_test_ri(&e->a, 32, native_hreg[R_ECX], 31);
    x64_jcc_label(&e->a, X64_CC_E, skip, false);
}

/* On a host whose undefined flags are not the interpreter's
 * (nt->host_undef_flags false, as on AMD): after MUL/IMUL, whose host CF
 * and OF are right, SF and PF from the product in reg (bits wide), ZF and
 * AF 0; all six to R13. Nothing when the flags are dead anyway. */
static void mul_flags_fixup(struct emitter *e, int reg, int bits)
{
    struct x64_asm *a = &e->a;
    if (e->nt->host_undef_flags || flags_dead_after(e, FL_ARITH))
        return;
    x64_pushfq(a);
    x64_pop_r(a, X64_R8);
    x64_alu_ri(a, X64_AND, 32, X64_R8, FL_CF | FL_OF);
    x64_test_rr(a, bits, reg, reg);
    x64_pushfq(a);
    x64_pop_r(a, X64_R11);
    x64_alu_ri(a, X64_AND, 32, X64_R11, FL_SF | FL_PF);
    x64_alu_rr(a, X64_OR, 32, X64_R8, X64_R11);
    x64_mov_rr(a, 32, NATIVE_FLAGS, X64_R8);
    e->fs = FS_SAVED;
}

/* SHL/SHR/SAR r/m32 by 1..31 (an immediate or CL) on such a host: the host's CF, ZF, SF and
 * PF, AF 0 and OF from the original operand in R10 for any count (SHL:
 * bit 31 ^ bit 30, SHR: bit 31, SAR: 0), as the interpreter has them. */
static void shift_flags_fixup(struct emitter *e, enum x64_shift op)
{
    struct x64_asm *a = &e->a;
    x64_pushfq(a);
    x64_pop_r(a, X64_R8);
    x64_alu_ri(a, X64_AND, 32, X64_R8, FL_CF | FL_ZF | FL_SF | FL_PF);
    if (op != X64_SAR) {
        x64_mov_rr(a, 32, X64_R11, X64_R10);
        if (op == X64_SHL) {
            x64_shift_ri(a, X64_SHL, 32, X64_R11, 1);
            x64_alu_rr(a, X64_XOR, 32, X64_R11, X64_R10);
        }
        x64_shift_ri(a, X64_SHR, 32, X64_R11, 31);
        x64_shift_ri(a, X64_SHL, 32, X64_R11, 11);
        x64_alu_rr(a, X64_OR, 32, X64_R8, X64_R11);
    }
    x64_mov_rr(a, 32, NATIVE_FLAGS, X64_R8);
    e->fs = FS_SAVED;
}

/* ROL/ROR r/m32 by 2..31: OF is undefined, and hosts differ (some keep
 * it, some apply the count-1 rule); the interpreter defines it from the
 * original operand (ROL: bit 31 ^ bit 30, ROR: bit 0 ^ bit 31), so it is
 * computed here the same way and merged with the host's CF into R13. */
static bool emit_rotate_n(struct emitter *e, const struct insn *in, enum x64_shift op,
                          uint8_t count)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0];
    bool mem = d->kind == OPND_MEM;   /* (emit_shift checked it) */
    if (flags_dead_after(e, FL_CF | FL_OF)) {
        if (mem)
            x64_shift_mi(a, op, 32, HOSTMEM, count);
        else
            x64_shift_ri(a, op, 32, hreg(d), count);
        return true;   /* SF ZF AF PF wherever they were; CF, OF unseen */
    }
    fl_save(e);
    partial_begin(e);   /* now FS_SAVED */
    if (mem) {
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
        x64_shift_mi(a, op, 32, HOSTMEM, count);
    } else {
        x64_mov_rr(a, 32, X64_R10, hreg(d));
        x64_shift_ri(a, op, 32, hreg(d), count);
    }
    x64_pushfq(a);
    x64_pop_r(a, X64_R8);
    x64_mov_rr(a, 32, X64_R11, X64_R10);
    if (op == X64_ROL) {
        x64_shift_ri(a, X64_SHL, 32, X64_R11, 1);
        x64_alu_rr(a, X64_XOR, 32, X64_R11, X64_R10);
        x64_shift_ri(a, X64_SHR, 32, X64_R11, 31);
    } else {
        x64_shift_ri(a, X64_SHR, 32, X64_R11, 31);
        x64_alu_rr(a, X64_XOR, 32, X64_R11, X64_R10);
        x64_alu_ri(a, X64_AND, 32, X64_R11, 1);
    }
    x64_shift_ri(a, X64_SHL, 32, X64_R11, 11);
    x64_alu_ri(a, X64_AND, 32, X64_R8, FL_CF);
    x64_alu_rr(a, X64_OR, 32, X64_R8, X64_R11);
    x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, ~(int64_t)(FL_CF | FL_OF) & 0xFFFFFFFF);
    x64_alu_rr(a, X64_OR, 32, NATIVE_FLAGS, X64_R8);
    e->fs = FS_SAVED;
    return true;
}

/* SHL/SHR/SAR (any size) and ROL/ROR (32-bit) by an immediate or CL. */
static bool emit_shift(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *c = &in->opnd[1];
    int bits = d->size * 8;
    bool rotate = in->op == OP_ROL || in->op == OP_ROR;
    if (rotate && bits != 32)
        return false;
    enum x64_shift op = in->op == OP_SAR ? X64_SAR : (enum x64_shift)(in->op - OP_ROL);
    bool by_cl = c->kind == OPND_REG;
    if (by_cl && !(c->reg == R_ECX && c->size == 1))
        return false;
    uint8_t count = by_cl ? 0 : (uint8_t)(in->imm & 31);
    bool mem = d->kind == OPND_MEM;
    if (!by_cl && count == 0) {
        /* no effect, flags included; a memory operand is still accessed
         * for writing (the interpreter reads it with write intent) */
        if (mem) {
            if (!mem_native(e, in))
                return false;
            mem_operand(e, in, d->size, true);
        }
        return true;
    }
    if (mem) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, d->size, true);
    }
    if (rotate && by_cl)
        return false;   /* OF for counts above 1: see emit_rotate_n */
    if (rotate && count > 1)
        return emit_rotate_n(e, in, op, count);
    if (rotate && e->fs != FS_HOST && flags_dead_after(e, FL_CF | FL_OF)) {
        mem ? x64_shift_mi(a, op, bits, HOSTMEM, count) : x64_shift_ri(a, op, bits, hreg(d), count);
        return true;   /* as in emit_rotate_n */
    }
    if (!rotate && !e->nt->host_undef_flags && !flags_dead_after(e, FL_ARITH)) {
        /* this host's AF (and OF above a count of 1) are not the interpreter's */
        if (bits != 32)
            return false;
        if (!by_cl && !mem) {
            /* OF into R13 now, from the operand (the shift writes all six
             * flags, so none are lost), AF and the rest when needed */
            int r = hreg(d);
            if (op == X64_SAR) {
                x64_alu_rr(a, X64_XOR, 32, NATIVE_FLAGS, NATIVE_FLAGS);
            } else {
                if (op == X64_SHL) {
                    x64_lea(a, 32, NATIVE_FLAGS, x64_mem_bis(r, r, 1, 0));
                    x64_alu_rr(a, X64_XOR, 32, NATIVE_FLAGS, r);
                } else {
                    x64_mov_rr(a, 32, NATIVE_FLAGS, r);
                }
                x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, (int32_t)0x80000000u);
                x64_shift_ri(a, X64_SHR, 32, NATIVE_FLAGS, 31 - 11);
            }
            x64_shift_ri(a, op, 32, r, count);
            e->fs = FS_HOST_OF;
            return true;
        }
        struct x64_label skip;
        x64_label_init(&skip);
        if (by_cl)
            skip_zero_cl(e, &skip);
        mem ? x64_mov_rm(a, 32, X64_R10, HOSTMEM) : x64_mov_rr(a, 32, X64_R10, hreg(d));
        if (by_cl)
            mem ? x64_shift_mcl(a, op, bits, HOSTMEM) : x64_shift_rcl(a, op, bits, hreg(d));
        else
            mem ? x64_shift_mi(a, op, bits, HOSTMEM, count) : x64_shift_ri(a, op, bits, hreg(d), count);
        shift_flags_fixup(e, op);
        x64_bind(a, &skip);
        return true;
    }
    if (by_cl)
        fl_host(e);   /* a zero count keeps every flag */
    int fs = rotate && !by_cl ? partial_begin(e) : FS_HOST;
    if (by_cl)
        mem ? x64_shift_mcl(a, op, bits, HOSTMEM) : x64_shift_rcl(a, op, bits, hreg(d));
    else
        mem ? x64_shift_mi(a, op, bits, HOSTMEM, count) : x64_shift_ri(a, op, bits, hreg(d), count);
    partial_end(e, fs, rotate ? FL_CF | FL_OF : FL_ARITH);
    return true;
}

/* MUL/IMUL r/m32 (EDX:EAX = EAX * src: the same host registers) and
 * DIV r/m32, whose #DE cases (zero divisor, quotient overflow: exactly
 * EDX >= divisor) go to the interpreter before the host DIV could trap.
 * DIV leaves the flags as they were (the interpreter's definition). */
static bool emit_muldiv(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *s = &in->opnd[0];
    if (s->size != 4)
        return false;
    bool mem = s->kind == OPND_MEM;
    if (mem) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, false);
    }
    if (in->op != OP_DIV) {
        enum x64_unary op = in->op == OP_MUL ? X64_MUL : X64_IMUL1;
        mem ? x64_unary_m(a, op, 32, HOSTMEM) : x64_unary_r(a, op, 32, hreg(s));
        e->fs = FS_HOST;
        mul_flags_fixup(e, native_hreg[R_EAX], 32);
        return true;
    }
    fl_save(e);
    if (mem)
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
    else
        x64_mov_rr(a, 32, X64_R10, hreg(s));
    open_stub(e);
    x64_alu_rr(a, X64_CMP, 32, native_hreg[R_EDX], X64_R10);
    x64_jcc_label(a, X64_CC_AE, &e->stub->slow, false);
    x64_unary_r(a, X64_DIV, 32, X64_R10);
    return true;
}

/* IDIV r/m32 through a 64-bit host IDIV of the sign-extended EDX:EAX,
 * which cannot trap once the divisor is neither 0 nor -1 (those go to
 * the interpreter: #DE or INT64_MIN / -1); a quotient that does not fit
 * in 32 bits (#DE) puts EDX:EAX back and goes there too. The flags stay
 * as they were (the interpreter's definition). */
static bool emit_idiv(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *s = &in->opnd[0];
    if (s->size != 4)
        return false;
    if (s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, false);
        x64_movsxd_rm(a, X64_R10, HOSTMEM);
    } else {
        x64_movsxd_rr(a, X64_R10, hreg(s));
    }
    fl_save(e);
    open_stub(e);
    int eax = native_hreg[R_EAX], edx = native_hreg[R_EDX];
    x64_lea(a, 64, X64_R11, x64_mem_b(X64_R10, 1));
    x64_alu_ri(a, X64_CMP, 64, X64_R11, 1);
    x64_jcc_label(a, X64_CC_BE, &e->stub->slow, false);
    x64_mov_rr(a, 32, X64_R11, eax);
    x64_mov_rr(a, 32, X64_R9, edx);
    x64_shift_ri(a, X64_SHL, 64, X64_R9, 32);
    x64_alu_rr(a, X64_OR, 64, X64_R9, X64_R11);   /* the dividend, kept for the slow path */
    x64_mov_rr(a, 64, eax, X64_R9);
    x64_cqo(a);
    x64_unary_r(a, X64_IDIV, 64, X64_R10);
    struct x64_label fits;
    x64_label_init(&fits);
    x64_movsxd_rr(a, X64_R11, eax);
    x64_alu_rr(a, X64_CMP, 64, X64_R11, eax);
    x64_jcc_label(a, X64_CC_E, &fits, true);
    x64_mov_rr(a, 64, eax, X64_R9);
    x64_mov_rr(a, 64, edx, X64_R9);
    x64_shift_ri(a, X64_SHR, 64, edx, 32);
    x64_jmp_label(a, &e->stub->slow, false);
    x64_bind(a, &fits);
    return true;
}

/* SHLD/SHRD r/m32, r32, imm8 or CL. The count is masked to 5 bits and 0
 * changes nothing (flags included; memory is still accessed for writing).
 * For other counts the host's CF, SF, ZF and PF are the interpreter's; AF
 * is 0 there and OF comes from the original operand for any count (SHLD:
 * bit 31 ^ bit 30, SHRD: bit 31 ^ the fill's bit 0), so both are set here
 * and all six go to R13. */
static bool emit_shxd(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1], *c = &in->opnd[2];
    bool by_cl = c->kind == OPND_REG;
    if (d->size != 4 || s->kind != OPND_REG || (by_cl && !(c->reg == R_ECX && c->size == 1)))
        return false;
    bool shld = in->op == OP_SHLD, mem = d->kind == OPND_MEM;
    uint8_t count = (uint8_t)(in->imm & 31);
    if (mem) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, true);
    }
    if (!by_cl && count == 0)
        return true;
    struct x64_label skip;
    x64_label_init(&skip);
    if (by_cl)
        skip_zero_cl(e, &skip);
    int fill = hreg(s);
    if (mem) {
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
        x64_mov_rr(a, 32, X64_R11, X64_R10);
        if (by_cl)
            shld ? x64_shld_rcl(a, 32, X64_R11, fill) : x64_shrd_rcl(a, 32, X64_R11, fill);
        else
            shld ? x64_shld_ri(a, 32, X64_R11, fill, count) : x64_shrd_ri(a, 32, X64_R11, fill, count);
        x64_mov_mr(a, 32, HOSTMEM, X64_R11);
    } else {
        x64_mov_rr(a, 32, X64_R10, hreg(d));
        if (by_cl)
            shld ? x64_shld_rcl(a, 32, hreg(d), fill) : x64_shrd_rcl(a, 32, hreg(d), fill);
        else
            shld ? x64_shld_ri(a, 32, hreg(d), fill, count) : x64_shrd_ri(a, 32, hreg(d), fill, count);
        if (s->reg == d->reg)
            fill = X64_R10;   /* the fill as it was */
    }
    x64_pushfq(a);
    x64_pop_r(a, X64_R8);
    x64_mov_rr(a, 32, X64_R11, X64_R10);
    if (shld) {
        x64_shift_ri(a, X64_SHL, 32, X64_R11, 1);
        x64_alu_rr(a, X64_XOR, 32, X64_R11, X64_R10);
        x64_shift_ri(a, X64_SHR, 32, X64_R11, 31);
    } else {
        x64_shift_ri(a, X64_SHR, 32, X64_R11, 31);
        x64_alu_rr(a, X64_XOR, 32, X64_R11, fill);
        x64_alu_ri(a, X64_AND, 32, X64_R11, 1);
    }
    x64_shift_ri(a, X64_SHL, 32, X64_R11, 11);
    x64_alu_ri(a, X64_AND, 32, X64_R8, FL_ARITH & ~(FL_OF | FL_AF));
    x64_alu_rr(a, X64_OR, 32, X64_R8, X64_R11);
    x64_mov_rr(a, 32, NATIVE_FLAGS, X64_R8);
    x64_bind(a, &skip);
    e->fs = FS_SAVED;
    return true;
}

/* BSF/BSR r32, r/m32 with the interpreter's flags: a zero source leaves
 * the destination and sets ZF and PF only; otherwise every flag is 0
 * but PF, the parity of the index (OR and XOR clear AF on the host, as
 * emit_alu relies on too). */
static bool emit_bitscan(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    if (d->kind != OPND_REG || d->size != 4 || s->size != 4)
        return false;
    int src;
    if (s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, false);
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
        src = X64_R10;
    } else {
        src = hreg(s);
    }
    in->op == OP_BSF ? x64_bsf(a, 32, X64_R10, src) : x64_bsr(a, 32, X64_R10, src);
    struct x64_label zero, done;
    x64_label_init(&zero);
    x64_label_init(&done);
    x64_jcc_label(a, X64_CC_E, &zero, true);
    x64_mov_rr(a, 32, hreg(d), X64_R10);
    x64_alu_ri(a, X64_OR, 32, X64_R10, 0x100);   /* ZF = 0, PF of the index */
    x64_jmp_label(a, &done, true);
    x64_bind(a, &zero);
    x64_alu_rr(a, X64_XOR, 32, X64_R10, X64_R10);   /* ZF = PF = 1 */
    x64_bind(a, &done);
    e->fs = FS_HOST;
    return true;
}

/* CMPXCHG and XADD r/m32, r32: the host instructions do exactly the
 * interpreter's work on the same registers (guest EAX is RAX), memory
 * destinations are written in every case (checked for writing first),
 * and the flags are the host's (CMP EAX, dest / ADD). LOCK needs nothing
 * more with one guest CPU. */
static bool emit_cmpxchg_xadd(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    bool cx = in->op == OP_CMPXCHG;
    if (d->size != 4 || s->kind != OPND_REG)
        return false;
    if (d->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, true);
        cx ? x64_cmpxchg_mr(a, 32, HOSTMEM, hreg(s)) : x64_xadd_mr(a, 32, HOSTMEM, hreg(s));
    } else {
        cx ? x64_cmpxchg_rr(a, 32, hreg(d), hreg(s)) : x64_xadd_rr(a, 32, hreg(d), hreg(s));
    }
    e->fs = FS_HOST;
    return true;
}

static bool emit_imul(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s1 = &in->opnd[1], *s2 = &in->opnd[2];
    int bits = d->size * 8;
    if (d->kind != OPND_REG || bits == 8)
        return false;
    const struct opnd *src = s2->kind == OPND_IMM ? s1 : s2;
    if (src->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, src->size, false);
    }
    if (s2->kind == OPND_IMM) {
        if (src->kind == OPND_MEM)
            x64_imul_rmi(a, bits, hreg(d), HOSTMEM, (int32_t)in->imm);
        else
            x64_imul_rri(a, bits, hreg(d), hreg(src), (int32_t)in->imm);
    } else {
        if (s1->kind != OPND_REG || s1->reg != d->reg)
            return false;
        if (src->kind == OPND_MEM)
            x64_imul_rm(a, bits, hreg(d), HOSTMEM);
        else
            x64_imul_rr(a, bits, hreg(d), hreg(src));
    }
    e->fs = FS_HOST;
    mul_flags_fixup(e, hreg(d), bits);
    return true;
}

static bool emit_push(struct emitter *e, const struct insn *in)
{
    const struct opnd *s = &in->opnd[0];
    if (!stack_native(e) || in->opsize != 4 || (s->kind != OPND_REG && s->kind != OPND_IMM))
        return false;
    stack_operand(e, -4, 4, true);
    if (s->kind == OPND_REG)
        x64_mov_mr(&e->a, 32, HOSTMEM, hreg(s));
    else
        x64_mov_mi(&e->a, 32, HOSTMEM, (int32_t)in->imm);
    x64_lea(&e->a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_ESP], -4));
    return true;
}

/* PUSH m32: the value waits in cpu->jit while the stack slot is checked. */
static bool emit_push_mem(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    if (!stack_native(e) || in->opsize != 4 || !mem_native(e, in))
        return false;
    struct x64_mem scratch = x64_mem_b(NATIVE_CPU, CPU_OFF(jit.scratch));
    mem_operand(e, in, 4, false);
    x64_mov_rm(a, 32, X64_R10, HOSTMEM);
    x64_mov_mr(a, 32, scratch, X64_R10);
    stack_operand(e, -4, 4, true);
    x64_mov_rm(a, 32, X64_R10, scratch);
    x64_mov_mr(a, 32, HOSTMEM, X64_R10);
    x64_lea(a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_ESP], -4));
    return true;
}

/* LEAVE: ESP = EBP, then POP EBP (checked before either is written). */
static bool emit_leave(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    if (!stack_native(e) || in->opsize != 4)
        return false;
    fl_save(e);
    x64_mov_rr(a, 32, X64_R8, native_hreg[R_EBP]);
    tlb_check(e, 4, false, false);
    x64_mov_rm(a, 32, X64_R10, HOSTMEM);
    x64_lea(a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_EBP], 4));
    x64_mov_rr(a, 32, native_hreg[R_EBP], X64_R10);
    return true;
}

static bool emit_pop(struct emitter *e, const struct insn *in)
{
    const struct opnd *d = &in->opnd[0];
    if (!stack_native(e) || in->opsize != 4 || d->kind != OPND_REG)
        return false;
    stack_operand(e, 0, 4, false);
    x64_mov_rm(&e->a, 32, X64_R10, HOSTMEM);
    x64_lea(&e->a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_ESP], 4));
    x64_mov_rr(&e->a, 32, hreg(d), X64_R10);   /* after: POP ESP loads ESP */
    return true;
}

static bool emit_cond(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    enum x64_cc cc = (enum x64_cc)in->cond;
    if (in->op == OP_SETCC) {
        if (d->kind == OPND_MEM) {
            if (!mem_native(e, in))
                return false;
            mem_operand(e, in, 1, true);
            x64_setcc(a, cond_of(e, cc), X64_R10);
            x64_mov_mr(a, 8, HOSTMEM, X64_R10);
        } else {
            x64_setcc(a, cond_of(e, cc), hreg(d));
        }
        return true;
    }
    /* CMOVcc: the source is read whatever the condition (as hardware does) */
    if (d->kind != OPND_REG || d->size == 1)
        return false;
    if (s->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, s->size, false);
        x64_cmovcc_rm(a, cond_of(e, cc), d->size * 8, hreg(d), HOSTMEM);
    } else {
        x64_cmovcc_rr(a, cond_of(e, cc), d->size * 8, hreg(d), hreg(s));
    }
    /* A 32-bit CMOV zero-extends even when false: harmless, only the low
     * 32 bits of a host register are guest state. */
    return true;
}

static bool emit_xchg(struct emitter *e, const struct insn *in)
{
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    int bits = d->size * 8;
    if (d->kind == OPND_REG && s->kind == OPND_REG) {
        x64_xchg_rr(&e->a, bits, hreg(d), hreg(s));
        return true;
    }
    const struct opnd *r = d->kind == OPND_REG ? d : s;
    if (r->kind != OPND_REG || !mem_native(e, in))
        return false;
    mem_operand(e, in, d->size, true);
    if (is_high8(r)) {
        high8_get(e, r, X64_R10);
        x64_xchg_mr(&e->a, 8, HOSTMEM, X64_R10);
        high8_put(e, r, X64_R10);
        return true;
    }
    x64_xchg_mr(&e->a, bits, HOSTMEM, hreg(r));
    return true;
}

/* JMP/CALL r/m32: the target (and for CALL the pushed return address)
 * checked first, then committed. */
static bool emit_branch_indirect(struct emitter *e, const struct insn *in, uint32_t next)
{
    struct x64_asm *a = &e->a;
    const struct opnd *o = &in->opnd[0];
    bool call = in->op == OP_CALL;
    if (call && !stack_native(e))
        return false;
    if (o->kind == OPND_MEM) {
        if (!mem_native(e, in))
            return false;
        mem_operand(e, in, 4, false);
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
    } else {
        x64_mov_rr(a, 32, X64_R10, hreg(o));
    }
    if (call) {
        /* the target waits in cpu->jit while the stack slot is checked
         * (a miss there reruns the whole CALL in the interpreter) */
        struct x64_mem scratch = x64_mem_b(NATIVE_CPU, CPU_OFF(jit.scratch));
        x64_mov_mr(a, 32, scratch, X64_R10);
        stack_operand(e, -4, 4, true);
        x64_mov_rm(a, 32, X64_R10, scratch);
        x64_mov_mi(a, 32, HOSTMEM, (int32_t)next);
        x64_lea(a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_ESP], -4));
    }
    emit_goto_r10(e);
    return true;
}

/* The flags of a zero result of a CMP, SUB, TEST, AND, OR or XOR: ZF and
 * PF set, CF, OF, SF and AF clear (the interpreter's AF of a logic
 * instruction, which the host's matches). */
#define ZERO_RESULT_FLAGS (FL_ZF | FL_PF)

/* The instruction before the current one (a Jcc) set the flags from its
 * result alone as above: on the way a JE takes or a JNE falls through
 * they are ZERO_RESULT_FLAGS, whichever way that instruction ran. */
static bool zero_result_flags(const struct emitter *e)
{
    if (e->i == 0)
        return false;
    switch (e->b->insn[e->i - 1].insn.op) {
    case OP_CMP: case OP_SUB: case OP_TEST: case OP_AND: case OP_OR: case OP_XOR:
        return true;
    default:
        return false;
    }
}

/* Instructions that may end a block: JMP/Jcc/CALL rel32, RET; a Jcc
 * inside the block (scan_block's past_jcc) is a side exit: the jump to
 * an out-of-line exit, the flags left where they are for the fall-through. */
static bool emit_branch(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct tblock *b = e->b;
    if (in->opsize != 4 || !(b->mode & TMODE_CODE32))
        return false;
    uint32_t next = e->eip + in->len;
    uint32_t target = next + in->imm;
    if (e->i + 1 != b->n) {
        if (in->op != OP_JCC)
            return false;
        struct side_exit *s = &e->sides[e->nsides++];
        x64_label_init(&s->at);
        int fs_before = e->fs;
        uint8_t *before = a->cur;
        enum x64_cc cc = cond_of(e, (enum x64_cc)in->cond);
        s->fs = (uint8_t)e->fs;
        s->redo = target == b->eip ? jcc_redo(e, fs_before) : (struct redo){ .kind = REDO_CANNOT };
        s->count = e->i + 1;
        s->target = target;
        bool zero = zero_result_flags(e);
        s->const_flags = zero && in->cond == X64_CC_E ? ZERO_RESULT_FLAGS : -1;
        bool flags_as_were = a->cur == before;
        x64_jcc_label(a, cc, &s->at, false);
        if (zero && in->cond == X64_CC_NE) {   /* falls through on the zero result */
            e->const_flags = ZERO_RESULT_FLAGS;
            e->const_writes = a->flag_writes;
        }
        /* the Jcc changes neither registers nor RFLAGS: what set them can
         * still be redone after it (a loop's JMP back after its exit test) */
        if (flags_as_were) {
            if (e->cmp_valid == before)
                e->cmp_valid = a->cur;
        }
        return true;
    }
    const struct opnd *o = &in->opnd[0];
    bool indirect = (in->op == OP_JMP || in->op == OP_CALL) &&
                    (o->kind == OPND_REG || o->kind == OPND_MEM) && o->size == 4;
    if (indirect)
        return emit_branch_indirect(e, in, next);
    switch (in->op) {
    case OP_JMP: {
        if (in->opnd[0].kind != OPND_REL)
            return false;
        struct redo redo = jcc_redo(e, e->fs);
        if (loop_edge_ok(e, target, &redo))
            emit_loop_edge(e, b->n, &redo);
        else
            emit_goto(e, target);
        return true;
    }
    case OP_JCC: {
        struct x64_label taken;
        x64_label_init(&taken);
        if (target == b->eip && e->loop_ok && e->nloops < LOOP_EDGES_MAX) {
            int fs_before = e->fs;
            enum x64_cc cc = cond_of(e, (enum x64_cc)in->cond);
            struct redo redo = jcc_redo(e, fs_before);
            if (loop_edge_ok(e, target, &redo)) {
                /* (RFLAGS stays as it is for the fall-through's PUSHFQ) */
                x64_jcc_label(a, cc, &taken, false);
                int fs = e->fs;
                emit_goto(e, next);
                x64_bind(a, &taken);
                e->fs = fs;
                emit_loop_edge(e, b->n, &redo);
                return true;
            }
            /* (no way to set them again: cond_of found them in RFLAGS and emitted nothing) */
        }
        flags_settle(e);   /* both ways leave with all six in R13 */
        if (zero_result_flags(e) && (in->cond == X64_CC_E || in->cond == X64_CC_NE) &&
            e->fs == FS_HOST) {
            /* the zero result's way saves the constant; only the other
             * needs the flags in RFLAGS (still there: the Jcc leaves them) */
            bool e_taken = in->cond == X64_CC_E;
            x64_jcc_label(a, (enum x64_cc)in->cond, &taken, false);
            e->const_flags = e_taken ? -1 : ZERO_RESULT_FLAGS;
            e->const_writes = a->flag_writes;
            emit_goto(e, next);
            x64_bind(a, &taken);
            e->fs = FS_HOST;
            e->const_flags = e_taken ? ZERO_RESULT_FLAGS : -1;
            e->const_writes = a->flag_writes;
            emit_goto(e, target);
            return true;
        }
        if (e->fs == FS_HOST) {
            /* flags to R13 first: PUSHFQ leaves RFLAGS as they are for the Jcc */
            x64_pushfq(a);
            x64_pop_r(a, NATIVE_FLAGS);
            x64_jcc_label(a, (enum x64_cc)in->cond, &taken, false);
        } else {
            x64_jcc_label(a, cond_of(e, (enum x64_cc)in->cond), &taken, false);
        }
        e->fs = FS_SAVED;
        emit_goto(e, next);
        x64_bind(a, &taken);
        e->fs = FS_SAVED;
        emit_goto(e, target);
        return true;
    }
    case OP_CALL:
        if (in->opnd[0].kind != OPND_REL || !stack_native(e))
            return false;
        stack_operand(e, -4, 4, true);
        x64_mov_mi(a, 32, HOSTMEM, (int32_t)next);
        x64_lea(a, 32, native_hreg[R_ESP], x64_mem_b(native_hreg[R_ESP], -4));
        emit_goto(e, target);
        return true;
    case OP_RET:
        if (!stack_native(e) || (in->nopnd && in->opnd[0].kind != OPND_IMM))
            return false;
        stack_operand(e, 0, 4, false);
        x64_mov_rm(a, 32, X64_R10, HOSTMEM);
        x64_lea(a, 32, native_hreg[R_ESP],
                x64_mem_b(native_hreg[R_ESP], 4 + (in->nopnd ? (int32_t)(in->imm & 0xFFFF) : 0)));
        emit_goto_r10(e);
        return true;
    default:
        return false;
    }
}

/* ---- x87 data moves in host code ----
 *
 * FLD m64 of a zero or normal double, FST(P) m64 of a zero or rounding to
 * nearest, FLD st(i),
 * FST(P) st(i) and FXCH as integer moves on cpu->fpu (registers by
 * physical number, 16 bytes apart; TOP in the status word; the tags
 * abridged, fpu.h), without the call into fpu.c's fast entries (saving
 * and restoring five registers, its checks and its dispatch). Everything
 * else - #NM, a pending exception, an empty or full register where that
 * matters, a value that is not a normal double, another rounding
 * control, PE unmasked - goes to the slow path (the interpreter) before
 * any state changes but the last-instruction pointers, which that path
 * records the same. Registers: R10 = TOP * 2 (a register's tag bit;
 * times 8, its offset in fpu.r); R8, R9 (without a memory operand), R11
 * scratch. */

#define X87_SW_ES 0x0080
#define X87_SW_C1 0x0200
#define X87_SW_TOP 0x3800
#define X87_SW_PE 0x0020

/* The forms x87_move emits. */
static bool x87_move_form(const struct emitter *e, const struct insn *in)
{
    const struct opnd *o = &in->opnd[0];
    if (in->nopnd != 1)
        return false;
    if (o->kind == OPND_MEM)
        return (in->op == OP_FLD || in->op == OP_FST || in->op == OP_FSTP) && o->size == 8 &&
               mem_native(e, in) && in->seg != SEG_FS && in->seg != SEG_GS;
    return o->kind == OPND_ST &&
           (in->op == OP_FLD || in->op == OP_FST || in->op == OP_FSTP || in->op == OP_FXCH) &&
           !(in->opcode == 0xD9 && in->op == OP_FSTP);   /* (D9 D8+i: no empty check; fpu.c) */
}

static struct x64_mem x87_reg_mem(int bitreg, int32_t off)
{
    return x64_mem_bis(NATIVE_CPU, bitreg, 8, CPU_OFF(fpu.r) + off);
}

/* r = the tag bit of st(i) */
static void x87_st(struct emitter *e, int r, unsigned i)
{
    x64_lea(&e->a, 32, r, x64_mem_b(X64_R10, (int32_t)(2 * i)));
    x64_alu_ri(&e->a, X64_AND, 32, r, 14);
}

/* To the slow path unless the register of tag bit bitreg is empty
 * (want_empty) or not; R8 holds the tag word. */
static void x87_need(struct emitter *e, int bitreg, bool want_empty)
{
    x64_bitop_rr(&e->a, X64_BT, 32, X64_R8, bitreg);
    x64_jcc_label(&e->a, want_empty ? X64_CC_AE : X64_CC_B, &e->stub->slow, false);
}

/* In R8's tag word, the register of bit bitreg empty or not (bitreg is
 * destroyed). */
static void x87_tag(struct emitter *e, int bitreg, bool empty)
{
    enum x64_bitop op = empty ? X64_BTS : X64_BTR;
    x64_bitop_rr(&e->a, op, 32, X64_R8, bitreg);
    x64_inc_r(&e->a, 32, bitreg);
    x64_bitop_rr(&e->a, op, 32, X64_R8, bitreg);
}

/* The register of tag bit `to` gets the value of the one of tag bit
 * `from` (significand, then sign and exponent) through tmp. */
static void x87_copy(struct emitter *e, int to, int from, int tmp)
{
    x64_mov_rm(&e->a, 64, tmp, x87_reg_mem(from, 0));
    x64_mov_mr(&e->a, 64, x87_reg_mem(to, 0), tmp);
    x64_movzx_rm(&e->a, 32, tmp, 16, x87_reg_mem(from, 8));
    x64_mov_mr(&e->a, 16, x87_reg_mem(to, 8), tmp);
}

/* The last-instruction pointers (fpu.c's fpu_note), R11 scratch; with a
 * memory operand its offset is in R8 (flat: the linear address). */
static void x87_note(struct emitter *e, const struct insn *in, bool mem)
{
    struct x64_asm *a = &e->a;
    int32_t sel = (int32_t)offsetof(struct seg_cache, sel), stride = (int32_t)sizeof(struct seg_cache);
    x64_mov_mi(a, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.fop)), ((in->opcode & 7) << 8) | in->modrm);
    x64_mov_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.fip)), (int32_t)e->eip);
    x64_movzx_rm(a, 32, X64_R11, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(seg) + SEG_CS * stride + sel));
    x64_mov_mr(a, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.fcs)), X64_R11);
    if (mem) {
        x64_mov_mr(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.fdp)), X64_R8);
        x64_movzx_rm(a, 32, X64_R11, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(seg) + in->seg * stride + sel));
        x64_mov_mr(a, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.fds)), X64_R11);
    }
}

/* The status word's TOP from top_bitreg (destroyed), C1 cleared unless
 * keep_c1. R11 scratch. */
static void x87_set_top(struct emitter *e, int top_bitreg, bool keep_c1)
{
    struct x64_asm *a = &e->a;
    struct x64_mem sw = x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.sw));
    x64_movzx_rm(a, 32, X64_R11, 16, sw);
    x64_alu_ri(a, X64_AND, 32, X64_R11, ~(X87_SW_TOP | (keep_c1 ? 0 : X87_SW_C1)) & 0xFFFF);
    x64_shift_ri(a, X64_SHL, 32, top_bitreg, FPU_SW_TOP_SHIFT - 1);
    x64_alu_rr(a, X64_OR, 32, X64_R11, top_bitreg);
    x64_mov_mr(a, 16, sw, X64_R11);
}

/* FST(P) m64 of st(0), R10 its tag bit, R9 the host address, rounded to
 * nearest (fx80_to_f64 with RC 0): a zero or a normal result only. PE and
 * C1 (rounded up) into the status word. */
static void x87_store_f64(struct emitter *e)
{
    struct x64_asm *a = &e->a;
    struct x64_mem mant = x87_reg_mem(X64_R10, 0);
    struct x64_mem sw = x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.sw));
    struct x64_label nonzero, sign;
    x64_label_init(&nonzero);
    x64_label_init(&sign);
    x64_movzx_rm(a, 32, X64_R8, 16, x87_reg_mem(X64_R10, 8));
    x64_alu_ri(a, X64_AND, 32, X64_R8, 0x7FFF);
    x64_jcc_label(a, X64_CC_NE, &nonzero, true);
    x64_alu_mi(a, X64_CMP, 64, mant, 0);   /* exponent 0: a zero, exactly (else denormal) */
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    x64_alu_mi(a, X64_AND, 16, sw, ~X87_SW_C1 & 0xFFFF);
    x64_jmp_label(a, &sign, false);
    x64_bind(a, &nonzero);
    /* R8 = the double's exponent - 1, 0..2045 */
    x64_alu_ri(a, X64_SUB, 32, X64_R8, 16383 - 1023 + 1);
    x64_alu_ri(a, X64_CMP, 32, X64_R8, 2045);
    x64_jcc_label(a, X64_CC_A, &e->stub->slow, false);
    /* R11 = the significand rounded to 53 bits, in place: + 0x3FF + its
     * bit 11, low bits cleared (a carry out: the slow path) */
    x64_mov_rm(a, 64, X64_R11, mant);
    x64_test_rr(a, 64, X64_R11, X64_R11);
    x64_jcc_label(a, X64_CC_NS, &e->stub->slow, false);   /* J clear: unnormal */
    x64_bitop_ri(a, X64_BT, 64, X64_R11, 11);
    x64_alu_ri(a, X64_ADC, 64, X64_R11, 0x3FF);
    x64_jcc_label(a, X64_CC_B, &e->stub->slow, false);
    x64_alu_ri(a, X64_AND, 64, X64_R11, -0x800);
    /* C1 = rounded up; PE unless exact */
    x64_alu_mi(a, X64_AND, 16, sw, ~X87_SW_C1 & 0xFFFF);
    struct x64_label exact, down;
    x64_label_init(&exact);
    x64_label_init(&down);
    x64_alu_rm(a, X64_CMP, 64, X64_R11, mant);
    x64_jcc_label(a, X64_CC_E, &exact, true);
    x64_jcc_label(a, X64_CC_B, &down, true);
    x64_alu_mi(a, X64_OR, 16, sw, X87_SW_C1);
    x64_bind(a, &down);
    x64_alu_mi(a, X64_OR, 16, sw, X87_SW_PE);
    x64_bind(a, &exact);
    /* sign | exponent | fraction */
    x64_shift_ri(a, X64_SHR, 64, X64_R11, 11);
    x64_bitop_ri(a, X64_BTR, 64, X64_R11, 52);
    x64_inc_r(a, 32, X64_R8);
    x64_shift_ri(a, X64_SHL, 64, X64_R8, 52);
    x64_alu_rr(a, X64_OR, 64, X64_R8, X64_R11);
    x64_bind(a, &sign);
    struct x64_label positive;
    x64_label_init(&positive);
    x64_test_mi(a, 8, x87_reg_mem(X64_R10, 9), 0x80);
    x64_jcc_label(a, X64_CC_E, &positive, true);
    x64_bitop_ri(a, X64_BTS, 64, X64_R8, 63);
    x64_bind(a, &positive);
    x64_mov_mr(a, 64, x64_mem_b(X64_R9, 0), X64_R8);
}

static bool emit_x87_move(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    const struct opnd *o = &in->opnd[0];
    bool mem = o->kind == OPND_MEM;
    bool store = in->op == OP_FST || in->op == OP_FSTP;
    struct x64_mem tw = x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.tw));
    struct x64_mem sw = x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.sw));
    if (mem) {
        mem_operand(e, in, 8, store);
        fl_save(e);       /* (a group member's check leaves them in RFLAGS) */
        open_stub(e);
        x64_alu_rr(a, X64_ADD, 64, X64_R9, X64_R8);   /* R9: the host address, R8 the offset */
    } else {
        fl_save(e);
        open_stub(e);
    }
    x64_test_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(cr0)), CR0_EM | CR0_TS);
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    x64_test_mi(a, 16, sw, X87_SW_ES);
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    if (mem && store) {   /* round to nearest, PE masked */
        x64_test_mi(a, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.cw)), 0x0C00);
        x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
        x64_test_mi(a, 16, x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.cw)), X87_SW_PE);
        x64_jcc_label(a, X64_CC_E, &e->stub->slow, false);
    }
    x87_note(e, in, mem);   /* (R8 free from here) */
    x64_movzx_rm(a, 32, X64_R10, 16, sw);
    x64_shift_ri(a, X64_SHR, 32, X64_R10, FPU_SW_TOP_SHIFT - 1);
    x64_alu_ri(a, X64_AND, 32, X64_R10, 14);
    x64_movzx_rm(a, 32, X64_R8, 16, tw);
    if (in->op == OP_FLD) {
        int dst = X64_R11;   /* st(7): the new st(0), empty */
        x87_st(e, dst, 7);
        x87_need(e, dst, true);
        if (mem) {   /* a zero or a normal double, exactly */
            struct x64_label normal, done;
            x64_label_init(&normal);
            x64_label_init(&done);
            x64_mov_rm(a, 64, X64_R9, x64_mem_b(X64_R9, 0));
            x64_mov_rr(a, 64, X64_R8, X64_R9);
            x64_alu_rr(a, X64_ADD, 64, X64_R8, X64_R8);   /* without the sign: zero? */
            x64_jcc_label(a, X64_CC_NE, &normal, true);
            x64_mov_mr(a, 64, x87_reg_mem(dst, 0), X64_R8);
            x64_shift_ri(a, X64_SHR, 64, X64_R9, 48);
            x64_mov_mr(a, 16, x87_reg_mem(dst, 8), X64_R9);   /* the sign alone */
            x64_jmp_label(a, &done, true);
            x64_bind(a, &normal);
            x64_mov_rr(a, 64, X64_R8, X64_R9);
            x64_shift_ri(a, X64_SHR, 64, X64_R8, 52);
            x64_alu_ri(a, X64_AND, 32, X64_R8, 0x7FF);
            x64_dec_r(a, 32, X64_R8);
            x64_alu_ri(a, X64_CMP, 32, X64_R8, 0x7FE);
            x64_jcc_label(a, X64_CC_AE, &e->stub->slow, false);
            x64_mov_rr(a, 64, X64_R8, X64_R9);
            x64_shift_ri(a, X64_SHL, 64, X64_R8, 11);
            x64_bitop_ri(a, X64_BTS, 64, X64_R8, 63);
            x64_mov_mr(a, 64, x87_reg_mem(dst, 0), X64_R8);
            x64_shift_ri(a, X64_SHR, 64, X64_R9, 52);      /* sign << 11 | exponent */
            x64_mov_rr(a, 32, X64_R8, X64_R9);
            x64_alu_ri(a, X64_AND, 32, X64_R8, 0x7FF);
            x64_alu_ri(a, X64_ADD, 32, X64_R8, 16383 - 1023);
            x64_shift_ri(a, X64_SHR, 32, X64_R9, 11);
            x64_shift_ri(a, X64_SHL, 32, X64_R9, 15);
            x64_alu_rr(a, X64_OR, 32, X64_R8, X64_R9);
            x64_mov_mr(a, 16, x87_reg_mem(dst, 8), X64_R8);
            x64_bind(a, &done);
            x64_movzx_rm(a, 32, X64_R8, 16, tw);
        } else {
            x87_st(e, X64_R9, o->reg);
            x87_need(e, X64_R9, false);
            x87_copy(e, dst, X64_R9, X64_R10);   /* (R10 free: the new TOP is dst) */
        }
        x64_mov_rr(a, 32, X64_R10, dst);
        x87_tag(e, dst, false);
        x64_mov_mr(a, 16, tw, X64_R8);
        x87_set_top(e, X64_R10, false);
        return true;
    }
    x87_need(e, X64_R10, false);   /* st(0) */
    if (in->op == OP_FXCH) {
        x87_st(e, X64_R9, o->reg);
        x87_need(e, X64_R9, false);
        /* significands, then signs and exponents, crosswise */
        x64_mov_rm(a, 64, X64_R8, x87_reg_mem(X64_R10, 0));
        x64_mov_rm(a, 64, X64_R11, x87_reg_mem(X64_R9, 0));
        x64_mov_mr(a, 64, x87_reg_mem(X64_R10, 0), X64_R11);
        x64_mov_mr(a, 64, x87_reg_mem(X64_R9, 0), X64_R8);
        x64_movzx_rm(a, 32, X64_R8, 16, x87_reg_mem(X64_R10, 8));
        x64_movzx_rm(a, 32, X64_R11, 16, x87_reg_mem(X64_R9, 8));
        x64_mov_mr(a, 16, x87_reg_mem(X64_R10, 8), X64_R11);
        x64_mov_mr(a, 16, x87_reg_mem(X64_R9, 8), X64_R8);
        x64_alu_mi(a, X64_AND, 16, sw, ~X87_SW_C1 & 0xFFFF);
        return true;
    }
    /* FST(P) */
    bool pop = in->op == OP_FSTP;
    if (mem) {
        x87_store_f64(e);
    } else {
        x87_st(e, X64_R9, o->reg);
        x87_copy(e, X64_R9, X64_R10, X64_R11);
        x87_tag(e, X64_R9, false);
        if (!pop)
            x64_mov_mr(a, 16, tw, X64_R8);
        x64_alu_mi(a, X64_AND, 16, sw, ~X87_SW_C1 & 0xFFFF);
    }
    if (pop) {
        if (mem)
            x64_movzx_rm(a, 32, X64_R8, 16, tw);
        x64_mov_rr(a, 32, X64_R11, X64_R10);
        x87_tag(e, X64_R11, true);
        x64_mov_mr(a, 16, tw, X64_R8);
        x64_alu_ri(a, X64_ADD, 32, X64_R10, 2);
        x64_alu_ri(a, X64_AND, 32, X64_R10, 14);
        x87_set_top(e, X64_R10, true);
    }
    return true;
}

/* x87: FNSTSW AX inline; the forms fpu_fast takes (core/fpu.h) as a direct
 * call to it, with the memory operand through the inline TLB path. The
 * guest registers in caller-saved host registers are kept on the host
 * stack across the call (R8-R11 are scratch, the flags are in R13); on a
 * nonzero return (#NM, a pending x87 error: nothing changed) the stub runs
 * the instruction in the interpreter. FCOMI* leaves the flags in
 * cpu->eflags. */
static bool emit_x87(struct emitter *e, const struct insn *in)
{
    struct x64_asm *a = &e->a;
    bool mem = in->nopnd > 0 && in->opnd[0].kind == OPND_MEM;
    if (in->op == OP_FNSTSW && !mem) {
        fl_save(e);
        open_stub(e);
        x64_test_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(cr0)), CR0_EM | CR0_TS);
        x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
        x64_mov_rm(a, 16, native_hreg[R_EAX], x64_mem_b(NATIVE_CPU, CPU_OFF(fpu.sw)));
        return true;
    }
    if (!e->nt->no_x87_moves && x87_move_form(e, in))
        return emit_x87_move(e, in);
    fpu_fast_fn *entry = fpu_fast_entry(in);
    if (!entry)
        return false;
    if (mem) {
        if (!mem_native(e, in) || in->seg == SEG_FS || in->seg == SEG_GS)
            return false;   /* flat DS/SS/ES: R8 is the offset too */
        bool write = in->op == OP_FST || in->op == OP_FSTP || in->op == OP_FIST || in->op == OP_FISTP ||
                     in->op == OP_FNSTCW;
        mem_operand(e, in, (unsigned)in->opnd[0].size, write);
        fl_save(e);       /* (a group member's check leaves them in RFLAGS) */
        open_stub(e);
    } else {
        fl_save(e);
        open_stub(e);
    }
    static const int kept[] = { X64_RAX, X64_RCX, X64_RDX, X64_RSI, X64_RDI };
    for (int k = 0; k < 5; k++)
        x64_push_r(a, kept[k]);
    x64_alu_ri(a, X64_SUB, 64, X64_RSP, 8);   /* 16-byte alignment for C */
    if (mem)
        x64_lea(a, 64, X64_RDX, x64_mem_bis(X64_R9, X64_R8, 1, 0));
    x64_mov_rr(a, 64, X64_RDI, NATIVE_CPU);
    x64_mov_ri(a, 64, X64_RSI, (int64_t)(intptr_t)in);
    x64_mov_ri(a, 32, X64_RCX, e->eip);
    x64_call_abs(a, (const void *)entry);
    x64_test_rr(a, 32, X64_RAX, X64_RAX);
    x64_lea(a, 64, X64_RSP, x64_mem_b(X64_RSP, 8));   /* LEA: the test's flags stay */
    for (int k = 4; k >= 0; k--)
        x64_pop_r(a, kept[k]);
    x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    switch (in->op) {
    case OP_FCOMI: case OP_FCOMIP: case OP_FUCOMI: case OP_FUCOMIP:
        e->fs = FS_MEM;
        break;
    default:
        break;
    }
    return true;
}

/* RDTSC: a direct call to cpu_tsc with icount exact (virtual time
 * follows it), not the interpreter-call thunk: Linux's clock reads make
 * it the most frequent callout (16 M in an openssl run). Counted as a
 * callout from here. With CR4.TSD outside ring 0 the stub raises #GP. */
static bool emit_rdtsc(struct emitter *e)
{
    struct x64_asm *a = &e->a;
    fl_save(e);
    open_stub(e);
    if (((e->b->mode >> TMODE_CPL_SHIFT) & 3) != 0) {
        x64_test_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(cr4)), CR4_TSD);
        x64_jcc_label(a, X64_CC_NE, &e->stub->slow, false);
    }
    x64_mov_ri(a, 64, X64_R10, (int64_t)(intptr_t)&e->stats->callouts[OP_RDTSC]);
    x64_inc_m(a, 64, x64_mem_b(X64_R10, 0));
    /* icount = the block's first + this one's index (native.c's thunk) */
    x64_mov_rm(a, 64, X64_R10, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.icount_end)));
    x64_alu_rr(a, X64_SUB, 64, X64_R10, NATIVE_BUDGET);
    x64_alu_ri(a, X64_ADD, 64, X64_R10, (int32_t)e->i);
    x64_mov_mr(a, 64, x64_mem_b(NATIVE_CPU, CPU_OFF(icount)), X64_R10);
    /* EAX and EDX are the result; ECX, ESI, EDI live in caller-saved registers */
    static const int kept[] = { X64_RCX, X64_RSI, X64_RDI };
    for (int k = 0; k < 3; k++)
        x64_push_r(a, kept[k]);
    x64_alu_ri(a, X64_SUB, 64, X64_RSP, 8);   /* 16-byte alignment for C */
    x64_mov_rr(a, 64, X64_RDI, NATIVE_CPU);
    x64_call_abs(a, (const void *)cpu_tsc);
    x64_alu_ri(a, X64_ADD, 64, X64_RSP, 8);
    for (int k = 2; k >= 0; k--)
        x64_pop_r(a, kept[k]);
    x64_mov_rr(a, 64, native_hreg[R_EDX], X64_RAX);
    x64_shift_ri(a, X64_SHR, 64, native_hreg[R_EDX], 32);
    x64_mov_rr(a, 32, native_hreg[R_EAX], X64_RAX);
    return true;
}

/* Host instructions for in; false (and nothing kept) when this form is
 * left to the interpreter. */
static bool emit_native(struct emitter *e, const struct insn *in)
{
    /* LOCK: the decoder accepts it only on lockable memory forms, and one
     * CPU needs nothing more */
    if (in->op == OP_NOP)   /* PAUSE (REP NOP) too: kernel delay loops spin on it */
        return in->nopnd == 0 || in->opnd[0].kind == OPND_MEM || in->opnd[0].kind == OPND_REG;
    if (in->prefixes & (PFX_REP | PFX_REPNE))
        return false;
    switch (in->op) {
    case OP_JMP: case OP_JCC: case OP_CALL: case OP_RET:
        return emit_branch(e, in);
    default:
        break;
    }
    if (in->op == OP_FNSTSW || fpu_fast_ok(in))
        return emit_x87(e, in);
    if (in->op == OP_RDTSC)
        return emit_rdtsc(e);
    if (insn_class(in) != 0 || !operands_ok(in))
        return false;
    switch (in->op) {
    case OP_ADD: case OP_OR: case OP_ADC: case OP_SBB:
    case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP:
        return emit_alu(e, in);
    case OP_TEST:
        return emit_test(e, in);
    case OP_MOV:
        return emit_mov(e, in);
    case OP_MOVZX: case OP_MOVSX:
        return emit_movx(e, in);
    case OP_LEA:
        return emit_lea(e, in);
    case OP_INC: case OP_DEC: case OP_NEG: case OP_NOT:
        return emit_unary(e, in);
    case OP_SHL: case OP_SHR: case OP_SAR: case OP_ROL: case OP_ROR:
        return emit_shift(e, in);
    case OP_IMUL:
        return emit_imul(e, in);
    case OP_MUL: case OP_IMUL1: case OP_DIV:
        return emit_muldiv(e, in);
    case OP_IDIV:
        return emit_idiv(e, in);
    case OP_SHLD: case OP_SHRD:
        return emit_shxd(e, in);
    case OP_BSF: case OP_BSR:
        return emit_bitscan(e, in);
    case OP_CMPXCHG: case OP_XADD:
        return emit_cmpxchg_xadd(e, in);
    case OP_PUSH:
        return in->opnd[0].kind == OPND_MEM ? emit_push_mem(e, in) : emit_push(e, in);
    case OP_LEAVE:
        return emit_leave(e, in);
    case OP_POP:
        return emit_pop(e, in);
    case OP_SETCC: case OP_CMOVCC:
        return emit_cond(e, in);
    case OP_XCHG:
        return emit_xchg(e, in);
    case OP_CWD:
        if (in->opsize != 4)
            return false;
        x64_cdq(&e->a);
        return true;
    case OP_CBW:
        if (in->opsize != 4)
            return false;
        x64_cwde(&e->a);
        return true;
    case OP_CLD: case OP_STD:
        /* DF lives in cpu->eflags (the thunks merge only the arithmetic
         * bits into it); the RMW clobbers RFLAGS (memcpy's CLD before
         * REP MOVS was a million interpreter calls in the Lua run) */
        fl_save(e);
        if (in->op == OP_CLD)
            x64_alu_mi(&e->a, X64_AND, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)),
                       (int32_t)~(uint32_t)FL_DF);
        else
            x64_alu_mi(&e->a, X64_OR, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)), FL_DF);
        return true;
    case OP_BSWAP:
        if (in->opnd[0].kind != OPND_REG || in->opnd[0].size != 4)
            return false;
        x64_bswap(&e->a, 32, hreg(&in->opnd[0]));
        return true;
    default:
        return false;
    }
}

/* ---- groups of memory operands (mem_operand) ---- */

#define GROUP_SPAN_MAX 128   /* bytes: a longer span crosses pages too often */

/* The memory operand of an instruction that may join a group (the plain
 * forms of MOV, MOVZX/MOVSX, the ALU group and TEST, emitted through
 * mem_operand with the operand's own size): its index, or -1. */
static int group_operand(const struct emitter *e, const struct insn *in, bool *write)
{
    if (fpu_fast_ok(in)) {   /* emit_x87: its one memory operand through mem_operand */
        if (in->opnd[0].kind != OPND_MEM || !mem_native(e, in) || in->seg == SEG_FS ||
            in->seg == SEG_GS)
            return -1;
        *write = in->op == OP_FST || in->op == OP_FSTP || in->op == OP_FIST ||
                 in->op == OP_FISTP || in->op == OP_FNSTCW;
        return 0;
    }
    switch (in->op) {
    case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_ADD: case OP_OR: case OP_ADC:
    case OP_SBB: case OP_AND: case OP_SUB: case OP_XOR: case OP_CMP: case OP_TEST:
        break;
    default:
        return -1;
    }
    if (in->nopnd != 2 || (in->prefixes & PFX_LOCK) || !mem_native(e, in) ||
        in->seg == SEG_FS || in->seg == SEG_GS)
        return -1;
    int m = in->opnd[0].kind == OPND_MEM ? 0 : in->opnd[1].kind == OPND_MEM ? 1 : -1;
    if (m < 0 || in->opnd[1 - m].kind == OPND_MEM)
        return -1;
    *write = m == 0 && in->op != OP_CMP && in->op != OP_TEST;
    return m;
}

/* The guest register an instruction writes: -1 none, -2 any (unknown). */
static int written_gpr(const struct insn *in)
{
    if (fpu_fast_ok(in))   /* (not FNSTSW) */
        return -1;
    switch (in->op) {
    case OP_CMP: case OP_TEST: case OP_BT: case OP_NOP:
    case OP_JCC:   /* inside the block: taken, it leaves */
    case OP_PUSH:  /* ESP only: stack_shift */
        return -1;
    case OP_POP:   /* and ESP: stack_shift */
        return in->opnd[0].kind == OPND_REG && in->opnd[0].size == 4 ? in->opnd[0].reg : -2;
    case OP_MOV: case OP_MOVZX: case OP_MOVSX: case OP_LEA: case OP_ADD: case OP_OR:
    case OP_ADC: case OP_SBB: case OP_AND: case OP_SUB: case OP_XOR: case OP_INC:
    case OP_DEC: case OP_NEG: case OP_NOT: case OP_SHL: case OP_SHR: case OP_SAR:
    case OP_ROL: case OP_ROR: case OP_SETCC: case OP_CMOVCC: case OP_BSWAP: case OP_IMUL:
        break;
    default:
        return -2;
    }
    if (in->nopnd < 1 || (in->op == OP_IMUL && in->nopnd < 2))
        return -2;
    const struct opnd *d = &in->opnd[0];
    if (d->kind == OPND_MEM)
        return -1;
    if (d->kind != OPND_REG)
        return -2;
    return d->size == 1 ? (d->reg & 3) : d->reg;   /* AH..BH are EAX..EBX */
}

/* The largest value each guest register can hold at this point of the
 * block, as far as the instructions since its start show (UINT32_MAX: any
 * value): an index masked with AND, zero-extended from a byte or shifted
 * right reaches a bounded part of its table. */
static void track_bounds(uint32_t bound[8], const struct insn *in)
{
    int w = written_gpr(in);
    if (w == -2) {
        for (int r = 0; r < 8; r++)
            bound[r] = UINT32_MAX;
        return;
    }
    if (w < 0)
        return;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    bool s_reg32 = in->nopnd > 1 && s->kind == OPND_REG && s->size == 4;
    bool s_imm = in->nopnd > 1 && s->kind == OPND_IMM && s->reg == 0;
    uint32_t now = bound[w], next = UINT32_MAX;
    if (d->kind == OPND_REG && d->size == 4) {
        switch (in->op) {
        case OP_MOVZX:
            next = s->size == 1 ? 0xFFu : s->size == 2 ? 0xFFFFu : UINT32_MAX;
            break;
        case OP_AND:   /* no more than either operand */
            if (s_imm)
                next = in->imm < now ? in->imm : now;
            else if (s_reg32)
                next = bound[s->reg] < now ? bound[s->reg] : now;
            else
                next = now;
            break;
        case OP_SHR:
            if (s_imm)
                next = now >> (in->imm & 31);
            break;
        case OP_MOV:
            if (s_imm)
                next = in->imm;
            else if (s_reg32)
                next = bound[s->reg];
            break;
        case OP_XOR: case OP_SUB:   /* XOR r, r: zero */
            if (s_reg32 && s->reg == d->reg)
                next = 0;
            break;
        default:
            break;
        }
    }
    bound[w] = next;
}

/* A table's span may be this long: AES's 256 entries of 8 bytes. It
 * crosses a page at some alignments; a leader that keeps missing gets its
 * group turned off (native.c, note_group_miss). */
#define GROUP_TABLE_SPAN_MAX 2112

/* The constant by which instruction in moves ESP on a 32-bit flat stack
 * (PUSH, POP into another register, CALL; 0 for any other instruction)
 * into *delta; false when it moves ESP some other way. */
static bool stack_shift(const struct emitter *e, const struct insn *in, int32_t *delta)
{
    *delta = 0;
    switch (in->op) {
    case OP_PUSH: case OP_POP: case OP_CALL:
        break;
    default:
        return true;
    }
    if (!stack_native(e) || in->opsize != 4)
        return false;
    if (in->op == OP_POP) {
        if (in->opnd[0].kind != OPND_REG || in->opnd[0].reg == R_ESP)
            return false;
        *delta = 4;
    } else {
        *delta = -4;
    }
    return true;
}

/* Whether guest register r holds, after instruction in, its value before
 * plus a constant (*delta; 0 when in leaves it alone): a group based on r
 * stays open, its later members' displacements moved by that constant
 * (a stack frame's PUSHes, SUB ESP, ADD ESP, a pointer stepped by LEA). */
static bool reg_shift(const struct emitter *e, const struct insn *in, int r, int32_t *delta)
{
    *delta = 0;
    int w = written_gpr(in);
    if (w == -2 || (r == R_ESP && !stack_shift(e, in, delta)))
        return false;
    if (w != r)
        return true;
    if (*delta != 0)   /* (POP ESP: stack_shift said no) */
        return false;
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    if (d->kind != OPND_REG || d->size != 4)
        return false;
    switch (in->op) {
    case OP_ADD: case OP_SUB:
        if (in->nopnd != 2 || s->kind != OPND_IMM || s->reg != 0)
            return false;
        *delta = (int32_t)(in->op == OP_ADD ? (uint32_t)in->imm : 0u - (uint32_t)in->imm);
        return true;
    case OP_INC: case OP_DEC:
        *delta = in->op == OP_INC ? 1 : -1;
        return true;
    case OP_LEA:
        if (in->addrsize != 4 || in->ea_base != r || in->ea_index != EA_NONE)
            return false;
        *delta = (int32_t)in->disp;
        return true;
    default:
        return false;
    }
}

/* The memory access of an instruction that may join a group: its operand
 * (group_operand), or the stack slot a 32-bit PUSH, POP, CALL or RET goes
 * through (stack_operand), with ESP as its base. */
struct group_access {
    int base, index, scale;
    int64_t disp;
    unsigned size;
    bool write, stack;
    bool lead;   /* may lead a group: its check is the instruction's first (open_stub) */
};

static bool group_access(const struct emitter *e, const struct insn *in, struct group_access *acc)
{
    bool write = false;
    int m = group_operand(e, in, &write);
    if (m >= 0) {
        /* (an x87 form's stub also takes its helper's refusal, with R8
         * gone: a leader's miss needs R8) */
        *acc = (struct group_access){ in->ea_base, in->ea_index, in->ea_scale, in->disp,
                                      in->opnd[m].size, write, false, !fpu_fast_ok(in) };
        return true;
    }
    if (!stack_native(e) || in->opsize != 4)
        return false;
    switch (in->op) {
    case OP_PUSH: case OP_CALL:   /* PUSH m32, CALL m32: after the operand's own check */
        *acc = (struct group_access){ R_ESP, EA_NONE, 0, -4, 4, true, true,
                                      in->opnd[0].kind != OPND_MEM };
        return true;
    case OP_POP:
        if (in->opnd[0].kind != OPND_REG)
            return false;
        /* fall through */
    case OP_RET:
        *acc = (struct group_access){ R_ESP, EA_NONE, 0, 0, 4, false, true, true };
        return true;
    default:
        return false;
    }
}

/* A group's base register may move this far from its value at the
 * leader (a longer way crosses pages too often). */
#define GROUP_SHIFT_MAX 4096

/* Find the groups: memory accesses (group_access) through the same base
 * and index registers, within GROUP_SPAN_MAX bytes; a group needs two
 * members or more. Neither register may be written from the first to the
 * last, except the base by a constant (reg_shift): the members'
 * displacements are kept as from the base's value at the leader
 * (group_disp). An operand whose index register is bounded
 * (track_bounds) is a table lookup: it groups by its base alone, its
 * reach the displacement up to the largest index times the scale, and its
 * group may span GROUP_TABLE_SPAN_MAX. Up to GROUP_SLOTS groups are open
 * at once (interleaved locals and arrays); a new one takes the slot of
 * the oldest. The groups of leaders in b->group_off are planned, then
 * left out. */
static void plan_groups(struct emitter *e)
{
    const struct tblock *b = e->b;
    int open[GROUP_SLOTS], members[SCAN_MAX_INSNS], base_of[SCAN_MAX_INSNS];
    int64_t shift[GROUP_SLOTS];   /* the base register's move since the group's leader */
    uint8_t key_index[SCAN_MAX_INSNS], scale_of[SCAN_MAX_INSNS];
    uint32_t bound[8];
    for (int r = 0; r < 8; r++)
        bound[r] = UINT32_MAX;
    for (int k = 0; k < GROUP_SLOTS; k++)
        open[k] = -1;
    for (uint32_t i = 0; i < b->n; i++) {
        e->group_of[i] = -1;
        e->group_stack[i] = false;
        e->table_reach[i] = 0;
        e->table_lookup[i] = false;
    }
#define CLOSE(k) do { if (open[k] >= 0 && members[open[k]] < 2) e->group_of[open[k]] = -1; \
                      open[k] = -1; } while (0)
    for (uint32_t i = 0; i < b->n; i++) {
        const struct insn *in = &b->insn[i].insn;
        struct group_access acc;
        if (group_access(e, in, &acc)) {
            int64_t lo = acc.disp, hi = acc.disp + acc.size;
            key_index[i] = (uint8_t)acc.index;
            base_of[i] = acc.base;
            scale_of[i] = (uint8_t)acc.scale;
            e->group_stack[i] = acc.stack;
            if (acc.index != EA_NONE && bound[acc.index] != UINT32_MAX) {
                int64_t reach = (int64_t)bound[acc.index] << acc.scale;
                if (reach + acc.size <= GROUP_TABLE_SPAN_MAX) {
                    key_index[i] = EA_NONE;
                    e->table_reach[i] = reach;
                    e->table_lookup[i] = true;
                    hi += reach;
                }
            }
            int k = 0, joined = -1;
            for (; k < GROUP_SLOTS; k++)
                if (open[k] >= 0 && base_of[open[k]] == acc.base &&
                    key_index[open[k]] == key_index[i] &&
                    (key_index[i] == EA_NONE || scale_of[open[k]] == acc.scale))
                    break;
            if (k < GROUP_SLOTS) {
                int g = open[k];
                int64_t glo = lo + shift[k] < e->group_lo[g] ? lo + shift[k] : e->group_lo[g];
                int64_t ghi = hi + shift[k] > e->group_hi[g] ? hi + shift[k] : e->group_hi[g];
                bool table = e->group_table[g] || e->table_lookup[i];
                if (ghi - glo <= (table ? GROUP_TABLE_SPAN_MAX : GROUP_SPAN_MAX)) {
                    e->group_of[i] = (int8_t)g;
                    e->group_disp[i] = acc.disp + shift[k];
                    e->group_lo[g] = glo;
                    e->group_hi[g] = ghi;
                    e->group_write[g] |= acc.write;
                    e->group_table[g] = table;
                    members[g]++;
                    joined = g;
                } else {
                    CLOSE(k);
                }
            } else if (acc.lead) {
                /* a free slot, or the oldest group's */
                k = 0;
                for (int j = 0; j < GROUP_SLOTS; j++) {
                    if (open[j] < 0) {
                        k = j;
                        break;
                    }
                    if (open[j] < open[k])
                        k = j;
                }
                CLOSE(k);
            }
            if (joined < 0 && acc.lead) {
                open[k] = (int)i;
                shift[k] = 0;
                members[i] = 1;
                e->group_of[i] = (int8_t)i;
                e->group_disp[i] = acc.disp;
                e->group_slot[i] = (uint8_t)k;
                e->group_lo[i] = lo;
                e->group_hi[i] = hi;
                e->group_write[i] = acc.write;
                e->group_table[i] = e->table_lookup[i];
            }
        }
        /* after instruction i: groups whose registers it wrote end, but
         * for a base moved by a constant */
        int w = written_gpr(in);
        for (int k = 0; k < GROUP_SLOTS; k++) {
            if (open[k] < 0)
                continue;
            int32_t delta;
            if (w == -2 || (w >= 0 && w == key_index[open[k]]) ||
                !reg_shift(e, in, base_of[open[k]], &delta)) {
                CLOSE(k);
                continue;
            }
            shift[k] += delta;
            if (shift[k] > GROUP_SHIFT_MAX || shift[k] < -GROUP_SHIFT_MAX)
                CLOSE(k);
        }
        track_bounds(bound, in);
        int32_t moved;
        if (!stack_shift(e, in, &moved) || moved != 0)
            bound[R_ESP] = UINT32_MAX;
    }
    for (int k = 0; k < GROUP_SLOTS; k++)
        CLOSE(k);
#undef CLOSE
    for (uint32_t i = 0; i < b->n; i++) {
        int g = e->group_of[i];
        if (g >= 0 && g < 64 && (b->group_off >> g & 1))
            e->group_of[i] = -1;
    }
}

static void emit_stub(struct emitter *e, struct stub *s)
{
    struct x64_asm *a = &e->a;
    x64_bind(a, &s->slow);
    if (s->leave && s->i + 1 < e->b->n)
        x64_mov_mi(a, 8, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.force_leave)), 1);
    if (s->wide_len) {
        x64_mov_mr(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.wide_lin)), X64_R8);
        x64_mov_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(jit.wide_len)), (int32_t)s->wide_len);
    }
    emit_call_insn(e, s->fs_in, s->replay_in, s->i, s->eip);
    if (s->i + 1 == e->b->n || s->leave)
        return;   /* the call left the block */
    if (s->save_flags && s->fs_out == FS_HOST) {   /* (an addend is never odd) */
        x64_mov_rm(a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
        x64_mov_ri(a, 32, X64_R9, 1);
    }
    if (s->fs_out == FS_HOST)
        flags_to_host(e, FS_MEM);
    else if (s->fs_out == FS_SAVED) {   /* the arithmetic bits only: POPFQ may load them */
        x64_mov_rm(a, 32, NATIVE_FLAGS, x64_mem_b(NATIVE_CPU, CPU_OFF(eflags)));
        x64_alu_ri(a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
    }
    x64_jmp_label(a, &s->back, false);
}

/* An empty block (its one instruction crosses the page end, so no block
 * can hold it): the interpreter runs it through the thunk (native.c,
 * native_exec_insn), then host code goes on at the new EIP through the
 * indirect-branch cache instead of leaving for the run loop. */
static void emit_step_block(struct emitter *e, struct x64_label *budget_exit)
{
    struct x64_asm *a = &e->a;
    x64_alu_ri(a, X64_CMP, 64, NATIVE_BUDGET, 1);
    x64_jcc_label(a, X64_CC_L, budget_exit, false);
    emit_call_insn(e, e->fs, e->replay, 0, e->b->eip);
    e->fs = FS_MEM;
    end_block(e, 1);
    x64_mov_rm(a, 32, X64_R10, x64_mem_b(NATIVE_CPU, CPU_OFF(eip)));
    emit_indirect(e);
}

/* After in became host code: the host register from whose 32-bit value
 * *r sets the guest flags again (FS_LOGIC), or -1. */
static int logic_result(const struct emitter *e, const struct insn *in, struct replay *r)
{
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    if (e->fs != FS_HOST || in->nopnd != 2 || d->kind != OPND_REG || d->size != 4)
        return -1;
    bool imm = s->kind == OPND_IMM && s->reg == 0;
    r->imm = (int32_t)in->imm;
    switch (in->op) {
    case OP_AND: case OP_OR: case OP_XOR:   /* the result in the register, any source */
        r->op = REPLAY_TEST;
        return hreg(d);
    case OP_TEST:   /* TEST r, r: the flags of r itself */
        r->op = REPLAY_TEST;
        return s->kind == OPND_REG && s->reg == d->reg && s->size == 4 ? hreg(d) : -1;
    case OP_ADD: case OP_SUB:   /* the result in the register */
        r->op = in->op == OP_ADD ? REPLAY_ADD : REPLAY_SUB;
        return imm ? hreg(d) : -1;
    case OP_CMP:   /* the register as it was */
        r->op = REPLAY_CMP;
        return imm ? hreg(d) : -1;
    default:
        return -1;
    }
}

void *native_emit_block(struct native *nt, struct tcache_stats *stats, struct tblock *b)
{
    struct codebuf *cb = nt->cb;
    struct emitter e = { .nt = nt, .stats = stats, .b = b, .fs = FS_SAVED, .r9_slot = -1,
                         .logic_reg = -1, .const_flags = -1 };
    if (b->n == 0) {
        x64_init(&e.a, codebuf_cursor(cb), codebuf_free_space(cb), codebuf_exec_delta(cb));
        struct x64_label budget_exit;
        x64_label_init(&budget_exit);
        emit_step_block(&e, &budget_exit);
        x64_bind(&e.a, &budget_exit);
        x64_mov_mi(&e.a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(eip)), (int32_t)b->eip);
        x64_jmp_rel32(&e.a, nt->exit_rw);
        return x64_ok(&e.a) ? codebuf_commit(cb, x64_offset(&e.a)) : NULL;
    }
    for (int k = 0; k < GROUP_SLOTS; k++)
        e.group_active[k] = -1;
    e.window_ok = ((b->mode >> TMODE_CPL_SHIFT) & 3) == 3 && !nt->no_window;
    x64_init(&e.a, codebuf_cursor(cb), codebuf_free_space(cb), codebuf_exec_delta(cb));
    struct x64_asm *a = &e.a;
    plan_groups(&e);

    /* entry: leave unless the budget left covers the whole block */
    x64_label_init(&e.budget_exit);
    x64_label_init(&e.body);
    x64_alu_ri(a, X64_CMP, 64, NATIVE_BUDGET, b->n);
    x64_jcc_label(a, X64_CC_L, &e.budget_exit, false);
    x64_bind(a, &e.body);
    int flags_writer = entry_flags_writer(b);
    e.loop_ok = flags_writer >= 0 && !nt->no_loops;

    uint32_t eip = b->eip;
    bool left = false;   /* the last instruction left the block itself */
    for (uint32_t i = 0; i < b->n; i++) {
        const struct insn *in = &b->insn[i].insn;
        e.i = i;
        e.eip = eip;
        e.stub = NULL;
        uint8_t *mark = a->cur;
        int fs = e.fs, nstubs = e.nstubs, nwindow = e.nwindow, group_active[GROUP_SLOTS];
        memcpy(group_active, e.group_active, sizeof group_active);
        uint64_t shared = stats->native_shared_checks, shared_table = stats->native_shared_table_checks;
        uint64_t loops = stats->native_loop_edges, wide = stats->native_wide_checks;
        uint64_t windowed = stats->native_window_checks;
        int nloops = e.nloops;
        e.cmp_at = NULL;
        uint32_t flag_writes = a->flag_writes;
        if (emit_native(&e, in)) {
            stats->native_insns++;
            /* a CMP or TEST runs again the same (emit_loop_edge); after
             * its slow path, which comes back over R8-R11, the flags are
             * in R13 as well and R9 = 1 says so */
            if (e.cmp_at) {
                e.cmp_start = e.cmp_at;
                e.cmp_len = (int)(a->cur - e.cmp_at);
                e.cmp_valid = a->cur;
                e.cmp_saved = e.stub && !e.stub->leave;
                if (e.cmp_saved)
                    e.stub->save_flags = true;
            }
            if (e.stub) {
                /* the slow path comes back with the flags in memory; FS_LOGIC
                 * stays true (the instruction wrote no flags, logic_value stays) */
                if (e.fs == FS_HOST_OF)
                    flags_settle(&e);
                e.stub->fs_out = (uint8_t)e.fs;
                x64_bind(a, &e.stub->back);
            }
            /* R9 after this instruction: a slow path that comes back
             * (the interpreter call), a C call (x87, RDTSC) and IDIV's
             * dividend all write it */
            if ((e.stub && !e.stub->leave) || in->op == OP_IDIV || in->op == OP_RDTSC ||
                in->op == OP_FNSTSW || fpu_fast_ok(in))
                e.r9_slot = -1;
            left = i + 1 == b->n && (op_info[in->op].cls & CTRL);
            if (a->flag_writes != flag_writes) {   /* (else the last writer's stays) */
                e.logic_reg = logic_result(&e, in, &e.logic_replay);
                e.logic_gpr = in->opnd[0].reg;
                e.logic_insn = i;
                e.logic_writes = a->flag_writes;
            }
        } else {
            a->cur = mark;   /* drop whatever a partial attempt wrote */
            e.fs = fs;
            e.nstubs = nstubs;
            e.nwindow = nwindow;
            memcpy(e.group_active, group_active, sizeof group_active);
            e.r9_slot = -1;   /* the interpreter call writes R8-R11 */
            stats->native_shared_checks = shared;
            stats->native_shared_table_checks = shared_table;
            stats->native_loop_edges = loops;
            stats->native_wide_checks = wide;
            stats->native_window_checks = windowed;
            e.nloops = nloops;
            stats->native_calls++;
            stats->native_calls_by_op[in->op]++;
            if ((int)i < flags_writer)
                e.loop_ok = false;
            if (e.fs != FS_SAVED && flags_known(&e))
                flags_const_save(&e);
            emit_call_insn(&e, e.fs, e.replay, i, eip);
            e.logic_reg = -1;
            e.fs = FS_MEM;
            left = i + 1 == b->n;
        }
        eip = (eip + in->len) & b->eip_mask;
    }
    if (!left)
        emit_goto(&e, eip);   /* page end, length limit */

    for (int k = 0; k < e.nsides; k++) {
        struct side_exit *s = &e.sides[k];
        x64_bind(a, &s->at);
        e.fs = s->fs;
        e.const_flags = s->const_flags;
        e.const_writes = a->flag_writes;
        if (loop_edge_ok(&e, s->target, &s->redo))
            emit_loop_edge(&e, s->count, &s->redo);
        else
            emit_goto_after(&e, s->target, s->count);
    }

    for (int k = 0; k < e.nwindow; k++)
        emit_window_miss(&e, &e.window_misses[k]);
    for (int k = 0; k < e.nstubs; k++)
        emit_stub(&e, &e.stubs[k]);
    x64_bind(a, &e.budget_exit);
    x64_mov_mi(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(eip)), (int32_t)b->eip);
    x64_jmp_rel32(a, nt->exit_rw);

    if (!x64_ok(a))
        return NULL;
    return codebuf_commit(cb, x64_offset(a));
}

#else

void *native_emit_block(struct native *nt, struct tcache_stats *stats, struct tblock *b)
{
    (void)nt; (void)stats; (void)b;
    return NULL;
}

#endif
