/* translator/portable.c: the portable backend, no host code generation.
 *
 * A block is the array of its pre-decoded instructions, each with the
 * interpreter's handler for its form (the specialised one of
 * exec_select_int/exec_select_flow, or exec_table[op]) and a kind
 * (tb_insn.kind, set by portable_prepare_block): a micro-op for the
 * frequent forms (32-bit MOV/ALU/CMP/TEST/INC/DEC/LEA/IMUL/MUL/shifts and
 * rotates on registers and immediates, 8-bit ALU/CMP/TEST on registers
 * and immediates; the same with a 32-bit-addressed memory
 * operand, MOVZX, PUSH register/immediate/memory, POP, 16-bit CMP with
 * memory), which
 * run_blocks executes inline; otherwise pure (other register forms: the
 * handler, nothing committed) or impure (the handler with the state
 * committed). A memory micro-op exists only where the block's mode
 * (tcache_mode: TMODE_FLAT4G, no TMODE_ALIGN) makes its segment (DS, ES,
 * SS) flat with a 4 GiB limit, so its access is the TLB lookup alone
 * (UOP_MEM_AT: tag and kind, the kinds from the block's CPL), falling back
 * to the handler on a miss; each has a copy per address form (any;
 * base + displacement; base + index*scale + displacement; index*scale +
 * displacement: portable_mem.h, included four times), chosen at prepare
 * time. The last instruction has an end kind: Jcc (one kind per
 * condition) and JMP rel32 inline; on a flat 32-bit stack CALL rel32 /
 * r32 / m32 and RET (no imm16), and JMP r32 / m32, inline (a target past
 * the CS limit or a TLB miss: the handler); else its handler. A register
 * CMP/TEST/SUB/AND, or a base + displacement CMP with memory, right before
 * a Jcc is fused with it (S_F_*, S_FM_*: the condition from the operands).
 * The address-form copies and the fused forms are label slots past the
 * byte kinds (insn_slot); their kind stays the plain form's. Dispatch is
 * direct threading with computed goto (GCC and Clang, any host):
 * portable_prepare_block stores each instruction's label (tb_insn.label,
 * from run_blocks' table by slot) and each micro-op jumps through the next one's, so every form
 * has its own indirect jump for the predictor.
 *
 * Precise state: before an instruction that may fault, touch memory the
 * slow way, branch or read EIP, cpu->eip, next_eip and icount hold exactly
 * what the interpreter would have there, so a fault (cpu_raise unwinds with
 * longjmp to cpu_run) leaves the interpreter's state. A micro-op's direct
 * path cannot fault (a hit in the TLB for its kind, in a flat 4 GiB
 * segment, within one page) and its stores
 * cannot hit code (a direct write entry is never given for a code page),
 * so micro-ops and pure instructions keep EIP and the count in locals;
 * they are committed from the block's start values and the instruction's
 * offset and index before the next impure instruction and at the end.
 *
 * Only the last instruction of a block can have a non-zero class, but for
 * the callouts that only read state or clear IF (scan_callout_continues in
 * scan.c): callouts (SENS/PRIV/IOPL/IO) are the instruction's ordinary
 * handler, which consults the virtual CPU state, counted by operation
 * wherever they are in the block. After each impure
 * instruction but the last the block checks that control fell through
 * (REP), that its page's code generation did not move (the instruction
 * wrote its own code: the rest is re-translated), that no TLB flush
 * happened, and the budget; any of them ends it early. A pure instruction
 * or micro-op cannot change any of these. A block that the budget may cut
 * (icount + n past end) runs instruction by instruction with every check.
 *
 * The run loop: the instruction boundary (interrupts, NMI, HLT, stop
 * requests, single step: cpu_engine_boundary) before every block, so an
 * interrupt waits at most one block (64 instructions); then the block for
 * CS:EIP. run_blocks goes from a completed block (not sync) to the next
 * one itself, the boundary test and the lookups below inline, while they
 * find one that fits the budget; the loop does the rest. The fast chain:
 * after a Jcc or JMP end in flat 4 GiB code, with no handler run since the
 * boundary was last checked (only a handler can raise an interrupt, set a
 * stop request, flush the TLB or change the physical map: the emulator is
 * single-threaded), the successor on the same page is taken straight from
 * the block's links (link[1] when taken, link[0] when not: key, mode,
 * code generation, budget), without the boundary test; cpu->eip and icount are stored only before a handler or
 * an exit. Transitions served by the jump cache are linked for next time.
 * Counters are kept in locals and added before a handler and on return.
 * After a block
 * that completed, a successor on the same linear
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

#include <stddef.h>
#include <string.h>

#include "core/exec.h"
#include "core/flags.h"
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
    PK_CALLOUT,  /* a callout inside the block (scan_callout_continues): PK_PLAIN, counted */
    /* the last instruction of a block (run by run_block, after the body) */
    PK_END,      /* its handler */
    PK_END_JMP,  /* JMP rel32, inline */
    PK_END_JCC,  /* + cc: Jcc rel32 (the jcc32 handlers' form), inline, 16 kinds */
    PK_END_JCC_LAST = PK_END_JCC + 15,
    PK_END_CALL, /* CALL rel32 with a flat 32-bit stack: the push inline, then as JMP */
    PK_END_RET,  /* RET (no imm16) with a flat 32-bit stack: the pop inline */
    /* JMP and CALL r/m32 (a flat stack for CALL, a flat segment for the
     * memory operand): the target read inline, the successor from the
     * links or the jump cache */
    PK_END_JMP_R, PK_END_JMP_M, PK_END_CALL_R, PK_END_CALL_M,
};
_Static_assert(PK_END_CALL_M < 32, "the kinds before the micro-ops");

/* ---- micro-ops: the frequent forms run inline ---------------------------
 *
 * tb_insn.kind from PK_UOP_FIRST on names a form that
 * run_blocks executes inline instead of calling its handler: 32-bit
 * register and immediate forms (pure), and 32-bit-addressed memory forms
 * whose access goes through the TLB's direct entry (cpu_host_ptr: aligned,
 * inside the segment, a direct page; a direct write entry is never given
 * for a page holding code, so such a store cannot be SMC). When the direct
 * path does not apply, the micro-op falls back to the impure path: state
 * committed, the interpreter's handler (ti->fn) for the same form. Each
 * computes what that handler computes (lazy flags included). */
#define UOP_ALU_OPS(X) X(ADD, a + b, LF_ADD, 1) X(OR, a | b, LF_LOGIC, 1) \
    X(AND, a & b, LF_LOGIC, 1) X(SUB, a - b, LF_SUB, 1) X(XOR, a ^ b, LF_LOGIC, 1) \
    X(CMP, a - b, LF_SUB, 0) X(TEST, a & b, LF_LOGIC, 0)

enum {
    PK_UOP_FIRST = 32,
    /* pure: registers and immediates */
    U_MOV_RR32 = PK_UOP_FIRST, U_MOV_RI32, U_LEA_R32, U_INC_R32, U_DEC_R32,
    U_MOVZX_R32_R8, U_SHL_R32, U_SHR_R32, U_SAR_R32, U_IMUL_RR32, U_IMUL_RRI32,
    U_MUL_R32, U_ROL_R32, U_ROR_R32,
    /* the same, where the block overwrites their flags unseen (flags_unseen) */
    U_INC_R32_NF, U_DEC_R32_NF, U_ROL_R32_NF, U_ROR_R32_NF,
    U_CMOVCC_RR32, U_SETCC_R8, U_NOT_R32,
#define X(NAME, EXPR, LAZY, WRITES) U_##NAME##_RR32, U_##NAME##_RI32, U_##NAME##_RR8, U_##NAME##_RI8,
    UOP_ALU_OPS(X)
#undef X
    U_PURE_LAST,
    /* memory: the direct path inline, else the handler */
#define UOP_MEM_LIST(M) M(U_MOV_RM32) M(U_MOV_MR32) M(U_MOV_MI32) M(U_MOVZX_R32_M8)    \
    M(U_MOV_RM8) M(U_MOV_MR8) M(U_CMP_R8M8) M(U_CMP_M8R8) M(U_PUSH_R32) M(U_POP_R32)     \
    M(U_PUSH_I32) M(U_PUSH_M32)                                                        \
    M(U_MOVZX_R32_M16) M(U_CMP_R16M16) M(U_CMP_M16R16) M(U_INC_M32) M(U_DEC_M32)     \
    M(U_MOV_MR16) M(U_MOV_MI8)
#define UOP_MEM_ALU(NAME, EXPR, LAZY, WRITES) M(U_##NAME##_RM32) M(U_##NAME##_MR32) M(U_##NAME##_MI32) \
    M(U_##NAME##_RM8) M(U_##NAME##_MR8) M(U_##NAME##_MI8)
    U_MEM_FIRST = U_PURE_LAST,
    U_MEM_BEFORE = U_MEM_FIRST - 1,
#define M(K) K,
    UOP_MEM_LIST(M)
    UOP_ALU_OPS(UOP_MEM_ALU)
#undef M
    U_MEM_END,
    /* then the same memory micro-ops with a base + displacement address
     * (U_B: no tests for a missing base or index) */
    U_MEM_B_END = U_MEM_END + (U_MEM_END - U_MEM_FIRST),
    U_COUNT = U_MEM_B_END
};
_Static_assert(U_COUNT <= 256, "tb_insn.kind is a byte");
#define U_B(K) ((K) + (U_MEM_END - U_MEM_FIRST))
/* Label slots past the byte kinds (tb_insn.label is chosen by slot,
 * portable_prepare_block's insn_slot): a register CMP, TEST, SUB or AND
 * right before the block's Jcc rel32, fused with it, one slot per form and
 * condition, which tests the condition on the operands (the lazy flags are
 * still set; kind: the unfused one); the memory micro-ops with a
 * base + index*scale + displacement address and with index*scale +
 * displacement (kind: the any-form one, which their copies compare
 * against), and a base + displacement CMP with memory
 * fused with the block's Jcc (kind: the unfused U_B one, the fallback's). */
enum {
    S_F_FIRST = U_COUNT,
#define UOP_FUSED_FORMS(F) F(CMP_RR32) F(CMP_RI32) F(TEST_RR32) F(SUB_RI32) F(AND_RI32)
#define F(FORM) S_F_##FORM, S_F_##FORM##_LAST = S_F_##FORM + 15,
    S_F_BEFORE = S_F_FIRST - 1,
    UOP_FUSED_FORMS(F)
#undef F
    S_BI_FIRST,
    S_X_FIRST = S_BI_FIRST + (U_MEM_END - U_MEM_FIRST),
    S_FM_FIRST = S_X_FIRST + (U_MEM_END - U_MEM_FIRST),
#define UOP_FUSED_MEM_FORMS(F) F(CMP_RM32) F(CMP_MR32) F(CMP_MI32)
#define F(FORM) S_FM_##FORM, S_FM_##FORM##_LAST = S_FM_##FORM + 15,
    S_FM_BEFORE = S_FM_FIRST - 1,
    UOP_FUSED_MEM_FORMS(F)
#undef F
    S_COUNT
};
#define U_BI(K) (S_BI_FIRST + ((K) - U_MEM_FIRST))
#define U_X(K) (S_X_FIRST + ((K) - U_MEM_FIRST))   /* index*scale + disp, no base */

static inline bool opnd_is_reg(const struct opnd *o, int size) { return o->kind == OPND_REG && o->size == size; }
static inline bool opnd_is_mem(const struct opnd *o, int size) { return o->kind == OPND_MEM && o->size == size; }
static inline bool opnd_is_imm32(const struct opnd *o) { return o->kind == OPND_IMM && o->size == 4 && o->reg == 0; }

/* The micro-op form of in, or 0, whatever the segments. */
static unsigned uop_form(const struct insn *in, uint32_t mode)
{
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    if ((in->prefixes & PFX_LOCK) || in->addrsize != 4)
        return 0;
    int form = -1;   /* 0 rr, 1 ri, 2 rm, 3 mr, 4 mi */
    if (in->nopnd == 2) {
        if (opnd_is_reg(d, 4) && opnd_is_reg(s, 4)) form = 0;
        else if (opnd_is_reg(d, 4) && opnd_is_imm32(s)) form = 1;
        else if (opnd_is_reg(d, 4) && opnd_is_mem(s, 4)) form = 2;
        else if (opnd_is_mem(d, 4) && opnd_is_reg(s, 4)) form = 3;
        else if (opnd_is_mem(d, 4) && opnd_is_imm32(s)) form = 4;
    }
    if (in->op == OP_CMP && in->nopnd == 2) {
        if (opnd_is_reg(d, 1) && opnd_is_mem(s, 1)) return U_CMP_R8M8;
        if (opnd_is_mem(d, 1) && opnd_is_reg(s, 1)) return U_CMP_M8R8;
        if (opnd_is_reg(d, 2) && opnd_is_mem(s, 2)) return U_CMP_R16M16;
        if (opnd_is_mem(d, 2) && opnd_is_reg(s, 2)) return U_CMP_M16R16;
    }
    if (in->nopnd == 2 && ((opnd_is_reg(d, 1) && opnd_is_mem(s, 1)) ||
                           (opnd_is_mem(d, 1) && opnd_is_reg(s, 1)) ||
                           (opnd_is_mem(d, 1) && s->kind == OPND_IMM && s->size == 1 && s->reg == 0))) {
        int form8 = d->kind == OPND_REG ? 0 : s->kind == OPND_REG ? 1 : 2;
        switch (in->op) {
#define X(NAME, EXPR, LAZY, WRITES) \
        case OP_##NAME: return (unsigned[]){ U_##NAME##_RM8, U_##NAME##_MR8, U_##NAME##_MI8 }[form8];
        UOP_ALU_OPS(X)
#undef X
        default: break;
        }
    }
    if (in->nopnd == 2 && opnd_is_reg(d, 1) &&
        (opnd_is_reg(s, 1) || (s->kind == OPND_IMM && s->size == 1 && s->reg == 0))) {
        bool imm = s->kind == OPND_IMM;
        switch (in->op) {
#define X(NAME, EXPR, LAZY, WRITES) case OP_##NAME: return imm ? U_##NAME##_RI8 : U_##NAME##_RR8;
        UOP_ALU_OPS(X)
#undef X
        default: break;
        }
    }
    switch (in->op) {
#define X(NAME, EXPR, LAZY, WRITES) \
    case OP_##NAME: \
        return form < 0 ? 0u : (unsigned[]){ U_##NAME##_RR32, U_##NAME##_RI32, U_##NAME##_RM32, \
                                             U_##NAME##_MR32, U_##NAME##_MI32 }[form];
    UOP_ALU_OPS(X)
#undef X
    case OP_MOV:
        if (in->nopnd != 2)
            return 0;
        if (form >= 0)
            return (unsigned[]){ U_MOV_RR32, U_MOV_RI32, U_MOV_RM32, U_MOV_MR32, U_MOV_MI32 }[form];
        if (opnd_is_reg(d, 1) && opnd_is_mem(s, 1)) return U_MOV_RM8;
        if (opnd_is_mem(d, 1) && opnd_is_reg(s, 1)) return U_MOV_MR8;
        if (opnd_is_mem(d, 2) && opnd_is_reg(s, 2)) return U_MOV_MR16;   /* gzip's head[], prev[] */
        if (opnd_is_mem(d, 1) && s->kind == OPND_IMM && s->size == 1 && s->reg == 0)
            return U_MOV_MI8;
        return 0;
    case OP_MOVZX:
        if (in->nopnd == 2 && opnd_is_reg(d, 4) && opnd_is_mem(s, 1)) return U_MOVZX_R32_M8;
        if (in->nopnd == 2 && opnd_is_reg(d, 4) && opnd_is_reg(s, 1)) return U_MOVZX_R32_R8;
        if (in->nopnd == 2 && opnd_is_reg(d, 4) && opnd_is_mem(s, 2)) return U_MOVZX_R32_M16;
        return 0;
    case OP_LEA:
        return in->nopnd == 2 && opnd_is_reg(d, 4) && s->kind == OPND_MEM ? U_LEA_R32 : 0;
    case OP_INC:
    case OP_DEC:
        if (in->nopnd == 1 && opnd_is_reg(d, 4))
            return in->op == OP_INC ? U_INC_R32 : U_DEC_R32;
        if (in->nopnd == 1 && opnd_is_mem(d, 4))
            return in->op == OP_INC ? U_INC_M32 : U_DEC_M32;
        return 0;
    case OP_IMUL:
        if (in->nopnd == 2 && form == 0)
            return U_IMUL_RR32;
        if (in->nopnd == 3 && opnd_is_reg(d, 4) && opnd_is_reg(s, 4) &&
            in->opnd[2].kind == OPND_IMM && in->opnd[2].reg == 0 &&
            (in->opnd[2].size == 4 || in->opnd[2].size == 1))
            return U_IMUL_RRI32;
        return 0;
    case OP_SHL: case OP_SHR: case OP_SAR: case OP_ROL: case OP_ROR:
        if (in->nopnd != 2 || !opnd_is_reg(d, 4) ||
            !(s->kind == OPND_IMM || (s->kind == OPND_REG && s->size == 1 && s->reg == R_ECX)))
            return 0;
        return in->op == OP_SHL ? U_SHL_R32 : in->op == OP_SHR ? U_SHR_R32
             : in->op == OP_SAR ? U_SAR_R32 : in->op == OP_ROL ? U_ROL_R32 : U_ROR_R32;
    case OP_MUL:
        return in->nopnd == 1 && opnd_is_reg(d, 4) ? U_MUL_R32 : 0;
    case OP_CMOVCC:
        return in->nopnd == 2 && form == 0 ? U_CMOVCC_RR32 : 0;
    case OP_SETCC:
        return in->nopnd == 1 && opnd_is_reg(d, 1) ? U_SETCC_R8 : 0;
    case OP_NOT:
        return in->nopnd == 1 && opnd_is_reg(d, 4) ? U_NOT_R32 : 0;
    case OP_PUSH:
        if (!(mode & TMODE_STACK32) || in->nopnd != 1 || in->opsize != 4)
            return 0;
        return opnd_is_reg(d, 4) ? U_PUSH_R32 : d->kind == OPND_IMM && d->reg == 0 ? U_PUSH_I32
             : opnd_is_mem(d, 4) ? U_PUSH_M32 : 0;
    case OP_POP:
        return (mode & TMODE_STACK32) && in->nopnd == 1 && opnd_is_reg(d, 4) && in->opsize == 4
               ? U_POP_R32 : 0;
    default:
        return 0;
    }
}

/* lf_set with the operation and the size in one store (they are adjacent,
 * the byte after them padding): the micro-ops set the lazy flags often. */
static inline __attribute__((always_inline)) void uop_flags(struct cpu *cpu, enum lazy_op op,
                                                            uint32_t result, uint32_t src1,
                                                            uint32_t src2, int size)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    _Static_assert(offsetof(struct lazy_flags, size) == offsetof(struct lazy_flags, op) + 2 &&
                   sizeof(struct lazy_flags) >= offsetof(struct lazy_flags, op) + 4,
                   "lazy_flags: op, size and a padding byte in one word");
    uint32_t op_size = (uint32_t)op | (uint32_t)size << 16;
    cpu->lf.result = result;
    if (op != LF_LOGIC) {   /* (flags.h: a logic op's flags follow the result alone) */
        cpu->lf.src1 = src1;
        cpu->lf.src2 = src2;
    }
    memcpy((char *)&cpu->lf + offsetof(struct lazy_flags, op), &op_size, sizeof op_size);
#else
    lf_set(cpu, op, result, src1, src2, size);
#endif
}

/* The effective address of a 32-bit-addressed memory operand. */
static inline __attribute__((always_inline)) uint32_t uop_ea(const struct cpu *cpu,
                                                             const struct insn *in)
{
    uint32_t ea = (uint32_t)in->disp;
    if (in->ea_base != EA_NONE)
        ea += cpu->gpr[in->ea_base];
    if (in->ea_index != EA_NONE)
        ea += cpu->gpr[in->ea_index] << in->ea_scale;
    return ea;
}

/* p = the host address of len bytes at lin when the TLB gives direct
 * access of kind (kind_read / kind_write of run_blocks), else to the
 * micro-op's fallback (impure): in a flat segment (seg_is_4g) nothing
 * else can fail. (tlb_host as a jump: no NULL test after the add.) */
_Static_assert(sizeof(struct tlb_entry) == 16, "UOP_MEM_AT indexes the TLB by lin >> 8");
#define UOP_MEM_AT_OR(LIN, LEN, KIND, TAG, MISS)                               \
    do {                                                                       \
        uint32_t lin_ = (LIN);                                                 \
        const struct tlb_entry *e_ = (const struct tlb_entry *)                 \
            ((const char *)cpu->tlb + ((lin_ >> (12 - 4)) & ((TLB_SIZE - 1) << 4))); \
        if (unlikely((e_->lin_page & (TAG)) !=                                 \
                     (((lin_ + (LEN) - 1) & TLB_PAGE_MASK) | (KIND))))         \
            goto MISS;                                                         \
        p = tlb_host_of(e_, lin_);                                             \
    } while (0)
#define UOP_MEM_AT(LIN, LEN, KIND, TAG) UOP_MEM_AT_OR(LIN, LEN, KIND, TAG, impure)
/* the same at the micro-op's effective address (UOP_EA: portable_mem.h) */
#define UOP_MEM(LEN, KIND) UOP_MEM_AT(UOP_EA(), LEN, KIND, KIND##_tag)

/* Whether the block's mode (tcache_mode) guarantees that no segment check
 * can fail for an access through seg and that its base is 0: DS, ES or SS
 * with TMODE_FLAT4G, and no #AC. Such an access is only the TLB lookup
 * (tlb_host: a crossing of the page misses) at the offset. (FS and GS,
 * with a base, take their handlers: rare enough not to cost every other
 * access the base's load.) */
static bool seg_is_4g(uint32_t mode, unsigned seg)
{
    if (mode & TMODE_ALIGN)
        return false;
    return (seg == SEG_DS || seg == SEG_ES || seg == SEG_SS) && (mode & TMODE_FLAT4G);
}

static bool uop_is_memory(unsigned uop) { return uop >= U_MEM_FIRST && uop < U_MEM_END; }

/* The micro-op for in, or 0 (none: its handler runs). The handler chosen by
 * cpu_engine_handler for these forms is their exec_select_int /
 * exec_select_flow one, which is the fallback. A memory micro-op needs
 * its segment to be 4 GiB flat in the block's mode (seg_is_4g). */
static unsigned uop_of(const struct insn *in, uint32_t mode)
{
    unsigned uop = uop_form(in, mode);
    if (uop_is_memory(uop)) {
        bool stack_only = uop == U_PUSH_R32 || uop == U_POP_R32 || uop == U_PUSH_I32;
        unsigned seg = stack_only ? SEG_SS : in->seg;
        if (!seg_is_4g(mode, seg) || (uop == U_PUSH_M32 && !seg_is_4g(mode, SEG_SS)))
            return 0;
        if (!stack_only && in->ea_base != EA_NONE &&
            in->ea_index == EA_NONE)
            return U_B(uop);
    }
    return uop;
}


static struct tblock *run_blocks(struct tcache *tc, struct cpu *cpu, struct tblock *b,
                                 uint64_t end, uint32_t mode, bool single,
                                 struct tblock **pending, uint32_t *last_lin,
                                 uint32_t *last_epoch);

/* run_blocks' table of labels by kind: it returns it when called with no
 * block (the labels exist only inside it) */
static const void *const *portable_labels(void)
{
    const void *const *labels = NULL;
    run_blocks(NULL, NULL, NULL, 0, 0, false, (struct tblock **)(void *)&labels, NULL, NULL);
    return labels;
}

/* The label slot of b's instruction i, its kinds set: the kind, or a
 * slot past them (S_BI_FIRST, S_FM_FIRST). */
static unsigned insn_slot(const struct tblock *b, int i)
{
    const struct tb_insn *ti = &b->insn[i];
    unsigned kind = ti->kind;
    if (uop_is_memory(kind) && kind != U_PUSH_R32 && kind != U_POP_R32 && kind != U_PUSH_I32 &&
        ti->insn.ea_index != EA_NONE)
        return ti->insn.ea_base != EA_NONE ? U_BI(kind) : U_X(kind);
    if (i == b->n - 2 && b->insn[i + 1].kind >= PK_END_JCC &&
        b->insn[i + 1].kind <= PK_END_JCC_LAST) {
        unsigned cc = b->insn[i + 1].kind - PK_END_JCC;
        switch (kind) {
#define F(FORM) case U_##FORM: return S_F_##FORM + cc;
        UOP_FUSED_FORMS(F)
#undef F
#define F(FORM) case U_B(U_##FORM): return S_FM_##FORM + cc;
        UOP_FUSED_MEM_FORMS(F)
#undef F
        default: break;
        }
    }
    return kind;
}

/* Instruction i's flags are overwritten before anything can see them:
 * the instructions after it in the block, up to one that sets all six
 * (an ALU, MUL or IMUL micro-op of registers and immediates), are register
 * moves, LEAs, shifts and rotates of registers, which neither read the
 * flags nor can fault. Its micro-op then leaves them (INC/DEC need not
 * find the carry before, ROL/ROR not bring the lazy flags into EFLAGS:
 * SHA-256's rotates before an XOR). */
static bool flags_unseen(const struct tblock *b, int i)
{
    for (int j = i + 1; j < b->n; j++) {
        switch (b->insn[j].kind) {
#define X(NAME, EXPR, LAZY, WRITES) \
        case U_##NAME##_RR32: case U_##NAME##_RI32: case U_##NAME##_RR8: case U_##NAME##_RI8:
        UOP_ALU_OPS(X)
#undef X
        case U_MUL_R32: case U_IMUL_RR32: case U_IMUL_RRI32:
            return true;
        case U_MOV_RR32: case U_MOV_RI32: case U_LEA_R32: case U_MOVZX_R32_R8:
        case U_SHL_R32: case U_SHR_R32: case U_SAR_R32: case U_ROL_R32: case U_ROR_R32:
        case U_INC_R32_NF: case U_DEC_R32_NF: case U_ROL_R32_NF: case U_ROR_R32_NF:
        case U_NOT_R32:
            continue;
        default:
            return false;
        }
    }
    return false;
}

void portable_prepare_block(struct tblock *b)
{
    uint32_t offset = 0;
    for (int i = 0; i < b->n; i++) {
        struct tb_insn *ti = &b->insn[i];
        unsigned op = ti->insn.op;
        unsigned uop = uop_of(&ti->insn, b->mode);
        ti->kind = uop ? uop : insn_is_pure(&ti->insn) ? PK_PURE
                 : op == OP_MOVS || op == OP_CMPS || op == OP_STOS || op == OP_LODS ||
                   op == OP_SCAS ? PK_STRING
                 : (op_info[op].cls & (SENS | PRIV | IOPL | IO)) ? PK_CALLOUT : PK_PLAIN;
        if (i == b->n - 1) {
            const struct insn *in = &ti->insn;
            bool rel32 = in->opsize == 4 && in->opnd[0].kind == OPND_REL;
            bool flat_stack = (b->mode & TMODE_STACK32) && seg_is_4g(b->mode, SEG_SS);
            bool rm32 = in->opsize == 4 && in->addrsize == 4 && in->nopnd == 1 &&
                        (opnd_is_reg(&in->opnd[0], 4) ||
                         (opnd_is_mem(&in->opnd[0], 4) && seg_is_4g(b->mode, in->seg)));
            bool reg = in->opnd[0].kind == OPND_REG;
            ti->kind = op == OP_JCC && rel32 ? PK_END_JCC + (in->cond & 15)
                     : op == OP_JMP && rel32 ? PK_END_JMP
                     : op == OP_CALL && rel32 && flat_stack ? PK_END_CALL
                     : op == OP_RET && in->nopnd == 0 && in->opsize == 4 && flat_stack ? PK_END_RET
                     : op == OP_JMP && rm32 ? (reg ? PK_END_JMP_R : PK_END_JMP_M)
                     : op == OP_CALL && rm32 && flat_stack ? (reg ? PK_END_CALL_R : PK_END_CALL_M)
                     : PK_END;
        }
        ti->index = (uint8_t)i;
        ti->offset = (uint16_t)offset;
        offset += ti->insn.len;
    }
    /* (backwards: a rotate whose flags go unseen is still one that
     * neither reads nor faults for those before it) */
    for (int i = b->n - 2; i >= 0; i--) {
        struct tb_insn *ti = &b->insn[i];
        static const uint16_t unseen[][2] = {
            { U_INC_R32, U_INC_R32_NF }, { U_DEC_R32, U_DEC_R32_NF },
            { U_ROL_R32, U_ROL_R32_NF }, { U_ROR_R32, U_ROR_R32_NF },
        };
        for (unsigned k = 0; k < sizeof unseen / sizeof unseen[0]; k++)
            if (ti->kind == unseen[k][0] && flags_unseen(b, i))
                ti->kind = unseen[k][1];
    }
    const void *const *labels = portable_labels();
    for (int i = 0; i < b->n; i++)
        b->insn[i].label = labels[insn_slot(b, i)];
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
        if (ti->kind == PK_CALLOUT)
            tc->stats.callouts[ti->insn.op]++;
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

/* The last instruction of b, the body done (cpu->eip and icount at it):
 * a Jcc or JMP rel32 inline (the jcc32 / jmp_rel32 handlers' work; a target
 * past the CS limit: the handler raises #GP), else its handler. */
static inline __attribute__((always_inline)) void run_last(struct tcache *tc, struct cpu *cpu,
                                                           const struct tblock *b)
{
    const struct tb_insn *last = b->insn + b->n - 1;
    if (b->callout)
        tc->stats.callouts[last->insn.op]++;
    uint32_t next = (cpu->eip + last->insn.len) & b->eip_mask;
    cpu->next_eip = next;
    if (last->kind >= PK_END_JCC && last->kind <= PK_END_JCC_LAST) {
        if (cpu_cond_inline(cpu, last->insn.cond & 15)) {
            uint32_t target = next + last->insn.imm;
            if (likely(target <= cpu->seg[SEG_CS].limit))
                cpu->next_eip = target;
            else
                last->fn(cpu, &last->insn);
        }
    } else if (last->kind == PK_END_JMP) {
        uint32_t target = next + last->insn.imm;
        if (likely(target <= cpu->seg[SEG_CS].limit))
            cpu->next_eip = target;
        else
            last->fn(cpu, &last->insn);
    } else {
        last->fn(cpu, &last->insn);
    }
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (b->sync)
        cpu_engine_retire_sync(cpu, &last->insn);
    tc->stats.insns_run += b->n;
}

/* Block b, which the budget allows entirely (icount + n <= end), and then
 * (unless single) its successors while each is found by its links or the
 * jump cache, fits the budget and needs no boundary handling. Returns the
 * last block that completed, its start's linear address and TLB epoch in
 * *last_lin and *last_epoch (the loop's prev for its lookups), or NULL
 * after an early exit, with the interpreter's state after the instruction
 * that caused it. *pending: a successor found but beyond the budget (the
 * loop runs it stepwise).
 *
 * Direct threading: each micro-op ends with its own jump through the next
 * instruction's label (tb_insn.label), so the host's branch
 * predictor sees one indirect jump per form rather than one for all.
 * Before each impure instruction the interpreter's eip, next_eip and
 * icount are stored from the block's start values and the instruction's
 * offset and index, so pure instructions and micro-ops whose direct path
 * applies cost nothing but their work. Only a string instruction changes
 * icount besides the retirement (REP charges its iterations) or can leave
 * next_eip elsewhere (a REP interrupted). (Not inlined: GCC does not inline
 * a function holding a table of label addresses.) */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC's straight-line vectoriser packs the lazy-flag stores into vector
 * shuffles, more work than the stores */
__attribute__((optimize("no-tree-slp-vectorize")))
#endif
static __attribute__((noinline)) struct tblock *
run_blocks(struct tcache *tc, struct cpu *cpu, struct tblock *b, uint64_t end, uint32_t mode,
           bool single, struct tblock **pending, uint32_t *last_lin, uint32_t *last_epoch)
{
    static const void *const labels[S_COUNT] = {
        [PK_PURE] = &&pure, [PK_PLAIN] = &&impure, [PK_STRING] = &&impure, [PK_CALLOUT] = &&callout,
        [PK_END] = &&end_handler, [PK_END_JMP] = &&end_jmp,
        [PK_END_JCC + 0] = &&end_jcc0, [PK_END_JCC + 1] = &&end_jcc1, [PK_END_JCC + 2] = &&end_jcc2,
        [PK_END_JCC + 3] = &&end_jcc3, [PK_END_JCC + 4] = &&end_jcc4, [PK_END_JCC + 5] = &&end_jcc5,
        [PK_END_JCC + 6] = &&end_jcc6, [PK_END_JCC + 7] = &&end_jcc7, [PK_END_JCC + 8] = &&end_jcc8,
        [PK_END_JCC + 9] = &&end_jcc9, [PK_END_JCC + 10] = &&end_jcc10,
        [PK_END_JCC + 11] = &&end_jcc11, [PK_END_JCC + 12] = &&end_jcc12,
        [PK_END_JCC + 13] = &&end_jcc13, [PK_END_JCC + 14] = &&end_jcc14,
        [PK_END_JCC + 15] = &&end_jcc15, [PK_END_CALL] = &&end_call, [PK_END_RET] = &&end_ret,
        [PK_END_JMP_R] = &&end_jmp_r, [PK_END_JMP_M] = &&end_jmp_m,
        [PK_END_CALL_R] = &&end_call_r, [PK_END_CALL_M] = &&end_call_m,
        [U_MOV_RR32] = &&L_U_MOV_RR32, [U_MOV_RI32] = &&L_U_MOV_RI32,
        [U_LEA_R32] = &&L_U_LEA_R32, [U_INC_R32] = &&L_U_INC_R32, [U_DEC_R32] = &&L_U_DEC_R32,
        [U_MOVZX_R32_R8] = &&L_U_MOVZX_R32_R8, [U_SHL_R32] = &&L_U_SHL_R32,
        [U_SHR_R32] = &&L_U_SHR_R32, [U_SAR_R32] = &&L_U_SAR_R32,
        [U_IMUL_RR32] = &&L_U_IMUL_RR32, [U_IMUL_RRI32] = &&L_U_IMUL_RRI32,
        [U_MUL_R32] = &&L_U_MUL_R32, [U_ROL_R32] = &&L_U_ROL_R32, [U_ROR_R32] = &&L_U_ROR_R32,
        [U_INC_R32_NF] = &&L_U_INC_R32_NF, [U_DEC_R32_NF] = &&L_U_DEC_R32_NF,
        [U_ROL_R32_NF] = &&L_U_ROL_R32_NF, [U_ROR_R32_NF] = &&L_U_ROR_R32_NF,
        [U_CMOVCC_RR32] = &&L_U_CMOVCC_RR32, [U_SETCC_R8] = &&L_U_SETCC_R8,
        [U_NOT_R32] = &&L_U_NOT_R32,
#define X(NAME, EXPR, LAZY, WRITES)                                            \
        [U_##NAME##_RR32] = &&L_U_##NAME##_RR32, [U_##NAME##_RI32] = &&L_U_##NAME##_RI32, \
        [U_##NAME##_RR8] = &&L_U_##NAME##_RR8, [U_##NAME##_RI8] = &&L_U_##NAME##_RI8,
        UOP_ALU_OPS(X)
#undef X
#define M(K) [K] = &&L_##K, [U_B(K)] = &&LB_##K, [U_BI(K)] = &&LBI_##K, [U_X(K)] = &&LX_##K,
        UOP_MEM_LIST(M)
        UOP_ALU_OPS(UOP_MEM_ALU)
#undef M
/* FC(FORM, CC) for each of the 16 conditions */
#define EACH_CC(FC, FORM) FC(FORM, 0) FC(FORM, 1) FC(FORM, 2) FC(FORM, 3) FC(FORM, 4) \
    FC(FORM, 5) FC(FORM, 6) FC(FORM, 7) FC(FORM, 8) FC(FORM, 9) FC(FORM, 10) FC(FORM, 11) \
    FC(FORM, 12) FC(FORM, 13) FC(FORM, 14) FC(FORM, 15)
#define FC(FORM, CC) [S_F_##FORM + CC] = &&L_F_##FORM##_##CC,
#define F(FORM) EACH_CC(FC, FORM)
        UOP_FUSED_FORMS(F)
#undef F
#undef FC
#define FC(FORM, CC) [S_FM_##FORM + CC] = &&L_FM_##FORM##_##CC,
#define F(FORM) EACH_CC(FC, FORM)
        UOP_FUSED_MEM_FORMS(F)
#undef F
#undef FC
#undef EACH_CC
    };
    if (unlikely(b == NULL)) {   /* (portable_labels) */
        *(const void *const **)(void *)pending = labels;
        return NULL;
    }
    uint32_t *gpr = cpu->gpr;
    uint8_t *p;
    const struct tb_insn *ti;
    /* ti's decoded instruction, addressed through ti (no second pointer
     * to keep in a register and advance) */
#define in (&ti->insn)
    const uint32_t *page_gen;
    uint32_t epoch, first_eip, target;
    uint64_t icount_base;   /* icount before instruction ti is icount_base + ti->index */
    /* the TLB kinds of the micro-ops' accesses: every block run here has
     * b's mode (the links and the jump cache compare it), so b's CPL */
    unsigned kind_read = 1u << ((((b->mode >> TMODE_CPL_SHIFT) & 3) == 3) << 1);
    unsigned kind_write = kind_read << 1;
    uint32_t kind_read_tag = TLB_PAGE_MASK | kind_read;     /* what a tag is compared under */
    uint32_t kind_write_tag = TLB_PAGE_MASK | kind_write;
    /* a handler other than a pure one ran since the boundary was last
     * checked: only a handler can raise an interrupt line, set a flag the
     * boundary tests, move the TLB epoch or the physical map (the emulator
     * is single-threaded), so until one runs, blocks chain without asking */
    bool touched = single || !(b->mode & TMODE_FLAT4G);   /* (single: never chain; the
                                                           fast chain wants flat code) */
    /* counters kept here, added to tc->stats before a handler that may
     * fault and on return */
    uint64_t st_blocks = 0, st_insns = 0, st_chained = 0;
#define STATS_FLUSH()                                                          \
    do {                                                                       \
        tc->stats.blocks_run += st_blocks;                                     \
        tc->stats.insns_run += st_insns;                                       \
        tc->stats.chained += st_chained;                                       \
        st_blocks = st_insns = st_chained = 0;                                 \
    } while (0)
#define NEXT do { ti++; goto *ti->label; } while (0)

    first_eip = cpu->eip;
    icount_base = cpu->icount;
enter_page:   /* b may be on another page: its page's generation, the epoch */
    page_gen = &cpu->mem->code_gen[b->phys >> 12];
    epoch = cpu->tlb_epoch;
enter:        /* EIP first_eip, icount icount_base (in cpu after a slow transition) */
    st_blocks++;
    ti = b->insn;
    goto *ti->label;

pure:
    ti->fn(cpu, in);
    NEXT;

callout:
    tc->stats.callouts[in->op]++;
    goto impure;

impure: {
        uint32_t eip = first_eip + ti->offset;
        uint32_t next = (eip + in->len) & b->eip_mask;
        cpu->eip = eip & b->eip_mask;
        cpu->icount = icount_base + ti->index;
        cpu->next_eip = next;
        STATS_FLUSH();
        touched = true;
        ti->fn(cpu, in);
        /* (the map generation too: the fast chaining below trusts it
         * after a Jcc or JMP end) */
        bool stop = cpu->next_eip != next || *page_gen != b->gen || epoch != cpu->tlb_epoch ||
                    tc->map_generation != cpu->mem->generation;
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
            return NULL;
        }
        NEXT;
    }

    /* the last instruction: a Jcc or JMP rel32 inline, each condition with
     * its own label so its test folds; a target past the CS limit: state
     * committed, the handler raises #GP */
#define END_JCC(CC)                                                            \
end_jcc##CC:                                                                   \
    if (cpu_cond_inline(cpu, CC))                                              \
        goto taken;                                                            \
    goto fallthrough;
    END_JCC(0) END_JCC(1) END_JCC(2) END_JCC(3) END_JCC(4) END_JCC(5) END_JCC(6) END_JCC(7)
    END_JCC(8) END_JCC(9) END_JCC(10) END_JCC(11) END_JCC(12) END_JCC(13) END_JCC(14) END_JCC(15)
#undef END_JCC
end_jmp:
taken:
    target = ((first_eip + b->bytes) & b->eip_mask) + in->imm;   /* (the last ends the block) */
    if (unlikely(target > cpu->seg[SEG_CS].limit)) {
        cpu->eip = (first_eip + ti->offset) & b->eip_mask;
        cpu->icount = icount_base + ti->index;
        cpu->next_eip = (cpu->eip + in->len) & b->eip_mask;
        STATS_FLUSH();
        ti->fn(cpu, in);   /* raises #GP */
        target = cpu->next_eip;
    }
chain_taken:   /* target: the taken side's EIP */
    icount_base += b->n;
    st_insns += b->n;
    /* the fast chain: with no handler run since the boundary check, the
     * TLB epoch, the map and the boundary are as they were; a successor on
     * b's linear page (flat CS: EIP is linear) is then on b's physical
     * page, whose generation is *page_gen, and a 4 GiB CS needs no limit
     * check for it. The taken side is link[1] (tcache_find links a
     * successor other than the fall-through there; a jump to the next
     * instruction takes the slow way) */
    if (likely(!touched) && ((target ^ first_eip) & TLB_PAGE_MASK) == 0) {
        struct tblock *c = b->link[1];
        if (c && c->phys == b->phys + (target - first_eip) && c->mode == b->mode &&
            c->gen == *page_gen && likely(icount_base + c->n <= end)) {
            /* (cpu->eip and icount are stored before the next handler
             * or exit: nothing in between reads them) */
            st_chained++;
            first_eip = target;
            b = c;
            goto enter;
        }
    }
    goto retired;
fallthrough:   /* a Jcc not taken: link[0] */
    target = (first_eip + b->bytes) & b->eip_mask;
    icount_base += b->n;
    st_insns += b->n;
    if (likely(!touched) && ((target ^ first_eip) & TLB_PAGE_MASK) == 0) {
        struct tblock *c = b->link[0];
        if (c && c->phys == b->phys + b->bytes && c->mode == b->mode &&
            c->gen == *page_gen && likely(icount_base + c->n <= end)) {
            st_chained++;
            first_eip = target;
            b = c;
            goto enter;
        }
    }
retired:
    cpu->eip = target;
    cpu->icount = icount_base;
    goto next_block;

    /* CALL rel32 and RET on a flat 32-bit stack (call_rel32 / ret32's
     * work): the target checked first, then the stack through the TLB's
     * direct entry; anything else (a target past the CS limit, a miss):
     * the handler, nothing changed yet */
end_call: {
        uint32_t next = (first_eip + b->bytes) & b->eip_mask;
        target = next + in->imm;
        if (unlikely(target > cpu->seg[SEG_CS].limit))
            goto end_handler;
        uint32_t esp = gpr[R_ESP] - 4;
        UOP_MEM_AT_OR(esp, 4, kind_write, kind_write_tag, end_handler);
        host_store(p, next, 4);
        gpr[R_ESP] = esp;
        goto chain_taken;   /* the call target is link[1] */
    }
end_ret: {
        uint32_t esp = gpr[R_ESP];
        UOP_MEM_AT_OR(esp, 4, kind_read, kind_read_tag, end_handler);
        target = host_load(p, 4);
        if (unlikely(target > cpu->seg[SEG_CS].limit))
            goto end_handler;
        gpr[R_ESP] = esp + 4;
        icount_base += b->n;
        st_insns += b->n;
        goto retired;   /* the links or the jump cache */
    }

    /* JMP / CALL r/m32 (exec_jmp / exec_call): the target read and checked,
     * CALL's push, then the successor as after RET */
end_jmp_r:
    target = gpr[in->opnd[0].reg];
    goto indirect;
end_jmp_m:
    UOP_MEM_AT_OR(uop_ea(cpu, in), 4, kind_read, kind_read_tag, end_handler);
    target = host_load(p, 4);
    goto indirect;
end_call_r:
    target = gpr[in->opnd[0].reg];
    goto indirect_call;
end_call_m:
    UOP_MEM_AT_OR(uop_ea(cpu, in), 4, kind_read, kind_read_tag, end_handler);
    target = host_load(p, 4);
indirect_call: {
        uint32_t esp = gpr[R_ESP] - 4;
        if (unlikely(target > cpu->seg[SEG_CS].limit))
            goto end_handler;
        UOP_MEM_AT_OR(esp, 4, kind_write, kind_write_tag, end_handler);
        host_store(p, (first_eip + b->bytes) & b->eip_mask, 4);
        gpr[R_ESP] = esp;
        icount_base += b->n;
        st_insns += b->n;
        goto retired;
    }
indirect:
    if (unlikely(target > cpu->seg[SEG_CS].limit))
        goto end_handler;
    icount_base += b->n;
    st_insns += b->n;
    goto retired;

end_handler:
    cpu->eip = (first_eip + ti->offset) & b->eip_mask;
    cpu->icount = icount_base + ti->index;
    STATS_FLUSH();
    touched = true;
    run_last(tc, cpu, b);
    icount_base = cpu->icount;
next_block:
    STATS_FLUSH();
    *last_lin = cpu->seg[SEG_CS].base + first_eip;
    *last_epoch = epoch;
    if (single || b->sync)
        return b;
    /* the next block without going back to the run loop: the boundary,
     * then the links or the jump cache; anything else is the loop's */
    if (unlikely(cpu_engine_needs_attention(cpu)) || cpu->icount >= end)
        return b;
    touched = !(b->mode & TMODE_FLAT4G);
    {
        /* b's links: the successor on b's linear page, with no TLB flush
         * since b started, is on b's physical page, whose generation is
         * *page_gen (portable_chain without the lookups) */
        struct tblock *next = NULL;
        const struct seg_cache *cs = &cpu->seg[SEG_CS];
        uint32_t eip = cpu->eip, lin = cs->base + eip;
        if (((lin ^ *last_lin) & TLB_PAGE_MASK) == 0 && epoch == cpu->tlb_epoch &&
            tc->map_generation == cpu->mem->generation) {
            uint32_t phys = (b->phys & TLB_PAGE_MASK) | (lin & ~TLB_PAGE_MASK);
            for (int k = 0; k < 2; k++) {
                struct tblock *c = b->link[k];
                if (c && c->phys == phys && c->mode == mode && c->gen == *page_gen &&
                    (uint64_t)eip + c->bytes - 1 <= cs->limit) {
                    tc->stats.chained++;
                    next = c;
                    break;
                }
            }
        }
        if (!next) {
            next = jump_cache_find(tc, cpu, mode);
            if (!next)
                return b;
            /* link it as tcache_find would have (the links are only set
             * there), so that the fast chain finds it next time */
            b->link[next->phys != b->phys + b->bytes] = next;
        }
        if (unlikely(cpu->icount + next->n > end)) {
            *pending = next;
            return b;
        }
        b = next;
    }
    first_eip = cpu->eip;
    icount_base = cpu->icount;
    goto enter_page;

    /* the fused forms: the flags as the unfused micro-op sets them, then
     * the Jcc (ti moves to it) with its condition on the operands x, y and
     * the result r (flags.h's meanings; parity from the stored flags) */
#define COND_SUB(CC) ((CC) >> 1 == 0 ? (((x ^ y) & (x ^ r)) >> 31) != 0                  \
                    : (CC) >> 1 == 1 ? x < y : (CC) >> 1 == 2 ? r == 0                   \
                    : (CC) >> 1 == 3 ? x <= y : (CC) >> 1 == 4 ? (r >> 31) != 0          \
                    : (CC) >> 1 == 5 ? cpu_cond_inline(cpu, (CC) & ~1)                   \
                    : (CC) >> 1 == 6 ? (int32_t)x < (int32_t)y : (int32_t)x <= (int32_t)y)
#define COND_LOGIC(CC) ((CC) >> 1 == 0 ? false : (CC) >> 1 == 1 ? false                  \
                      : (CC) >> 1 == 2 ? r == 0 : (CC) >> 1 == 3 ? r == 0                \
                      : (CC) >> 1 == 4 ? (r >> 31) != 0                                   \
                      : (CC) >> 1 == 5 ? cpu_cond_inline(cpu, (CC) & ~1)                 \
                      : (CC) >> 1 == 6 ? (int32_t)r < 0 : (int32_t)r <= 0)
#define FUSED(FORM, CC, Y, EXPR, LAZY, WRITES, COND)                           \
    L_F_##FORM##_##CC: {                                                       \
        uint32_t x = gpr[in->opnd[0].reg], y = (Y), r = (EXPR);                \
        if (WRITES)                                                            \
            gpr[in->opnd[0].reg] = r;                                          \
        uop_flags(cpu, LAZY, r, x, y, 4);                                      \
        bool truth = COND(CC) ^ ((CC) & 1);                                    \
        ti++;                                                                  \
        if (truth)                                                             \
            goto taken;                                                        \
        goto fallthrough;                                                      \
    }
#define FUSED16(FORM, Y, EXPR, LAZY, WRITES, COND)                             \
    FUSED(FORM, 0, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 1, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 2, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 3, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 4, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 5, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 6, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 7, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 8, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 9, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 10, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 11, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 12, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 13, Y, EXPR, LAZY, WRITES, COND) \
    FUSED(FORM, 14, Y, EXPR, LAZY, WRITES, COND) FUSED(FORM, 15, Y, EXPR, LAZY, WRITES, COND)
    FUSED16(CMP_RR32, gpr[in->opnd[1].reg], x - y, LF_SUB, 0, COND_SUB)
    FUSED16(CMP_RI32, in->imm, x - y, LF_SUB, 0, COND_SUB)
    FUSED16(TEST_RR32, gpr[in->opnd[1].reg], x & y, LF_LOGIC, 0, COND_LOGIC)
    FUSED16(SUB_RI32, in->imm, x - y, LF_SUB, 1, COND_SUB)
    FUSED16(AND_RI32, in->imm, x & y, LF_LOGIC, 1, COND_LOGIC)
#undef FUSED16
#undef FUSED
    /* the same for a base + displacement CMP with memory (U_B kinds): on
     * a miss the unfused fallback (impure), then the Jcc's own label */
#define FUSEDM(FORM, CC, X, Y)                                                 \
    L_FM_##FORM##_##CC: {                                                      \
        UOP_MEM_AT((uint32_t)in->disp + gpr[in->ea_base], 4, kind_read, kind_read_tag); \
        uint32_t x = (X), y = (Y), r = x - y;                                  \
        uop_flags(cpu, LF_SUB, r, x, y, 4);                                    \
        bool truth = COND_SUB(CC) ^ ((CC) & 1);                                \
        ti++;                                                                  \
        if (truth)                                                             \
            goto taken;                                                        \
        goto fallthrough;                                                      \
    }
#define FUSEDM16(FORM, X, Y)                                                   \
    FUSEDM(FORM, 0, X, Y) FUSEDM(FORM, 1, X, Y) FUSEDM(FORM, 2, X, Y) FUSEDM(FORM, 3, X, Y) \
    FUSEDM(FORM, 4, X, Y) FUSEDM(FORM, 5, X, Y) FUSEDM(FORM, 6, X, Y) FUSEDM(FORM, 7, X, Y) \
    FUSEDM(FORM, 8, X, Y) FUSEDM(FORM, 9, X, Y) FUSEDM(FORM, 10, X, Y) FUSEDM(FORM, 11, X, Y) \
    FUSEDM(FORM, 12, X, Y) FUSEDM(FORM, 13, X, Y) FUSEDM(FORM, 14, X, Y) FUSEDM(FORM, 15, X, Y)
    FUSEDM16(CMP_RM32, gpr[in->opnd[0].reg], host_load(p, 4))
    FUSEDM16(CMP_MR32, host_load(p, 4), gpr[in->opnd[1].reg])
    FUSEDM16(CMP_MI32, host_load(p, 4), in->imm)
#undef FUSEDM16
#undef FUSEDM
#undef COND_LOGIC
#undef COND_SUB

    /* the micro-ops: the direct path, else impure (nothing changed yet) */
    L_U_MOV_RR32: gpr[in->opnd[0].reg] = gpr[in->opnd[1].reg]; NEXT;
    L_U_MOV_RI32: gpr[in->opnd[0].reg] = in->imm; NEXT;
    L_U_LEA_R32:  gpr[in->opnd[0].reg] = uop_ea(cpu, in); NEXT;
    /* (each form its own copy: no tests of the kind inside) */
#define INCDEC(LABEL, DELTA, LAZY)                                             \
    LABEL: {                                                                   \
        uint32_t a = gpr[in->opnd[0].reg], r = a + (DELTA);                    \
        uint32_t carry = lf_carry(cpu);                                        \
        gpr[in->opnd[0].reg] = r;                                              \
        uop_flags(cpu, LAZY, r, a, carry, 4);                                  \
        NEXT;                                                                  \
    }
    INCDEC(L_U_INC_R32, 1u, LF_INC)
    INCDEC(L_U_DEC_R32, 0xFFFFFFFFu, LF_DEC)
#undef INCDEC
    L_U_MOVZX_R32_R8: gpr[in->opnd[0].reg] = cpu_reg8(cpu, in->opnd[1].reg); NEXT;
#define SHIFT(LABEL, EXPR, LAZY)                                               \
    LABEL: {                                                                   \
        uint32_t count = (in->opnd[1].kind == OPND_IMM ? in->imm : gpr[R_ECX]) & 31; \
        if (count == 0)                                                        \
            NEXT;                                                              \
        uint32_t a = gpr[in->opnd[0].reg];                                     \
        uint32_t r = (EXPR);                                                   \
        gpr[in->opnd[0].reg] = r;                                              \
        uop_flags(cpu, LAZY, r, a, count, 4);                                  \
        NEXT;                                                                  \
    }
    SHIFT(L_U_SHL_R32, a << count, LF_SHL)
    SHIFT(L_U_SHR_R32, a >> count, LF_SHR)
    SHIFT(L_U_SAR_R32, (uint32_t)((int32_t)a >> count), LF_SAR)
#undef SHIFT
    /* exec_rol / exec_ror's 32-bit register forms: CF and OF set in
     * EFLAGS itself (lf_set_some), the other flags left as they were */
#define ROTATE(LABEL, EXPR, CF, OF)                                            \
    LABEL: {                                                                   \
        uint32_t count = (in->opnd[1].kind == OPND_IMM ? in->imm : gpr[R_ECX]) & 31; \
        if (count == 0)                                                        \
            NEXT;                                                              \
        uint32_t a = gpr[in->opnd[0].reg];                                     \
        uint32_t r = (EXPR);                                                   \
        gpr[in->opnd[0].reg] = r;                                              \
        lf_set_some(cpu, (CF) | ((OF) ? FL_OF : 0), FL_CF | FL_OF);            \
        NEXT;                                                                  \
    }
    ROTATE(L_U_ROL_R32, (a << count) | (a >> ((32 - count) & 31)), r & 1,
           (a >> 31) ^ ((a >> 30) & 1))
    ROTATE(L_U_ROR_R32, (a >> count) | (a << ((32 - count) & 31)), r >> 31,
           (a & 1) ^ (a >> 31))
#undef ROTATE
    /* flags unseen: the result alone (a count of 0 gives the operand) */
#define ROTATE_NF(LABEL, EXPR)                                                 \
    LABEL: {                                                                   \
        uint32_t count = (in->opnd[1].kind == OPND_IMM ? in->imm : gpr[R_ECX]) & 31; \
        uint32_t a = gpr[in->opnd[0].reg];                                     \
        gpr[in->opnd[0].reg] = (EXPR);                                         \
        NEXT;                                                                  \
    }
    ROTATE_NF(L_U_ROL_R32_NF, (a << count) | (a >> ((32 - count) & 31)))
    ROTATE_NF(L_U_ROR_R32_NF, (a >> count) | (a << ((32 - count) & 31)))
#undef ROTATE_NF
    L_U_CMOVCC_RR32:   /* (xz's range coder, lzma's match finder) */
        if (cpu_cond_inline(cpu, in->cond & 15))
            gpr[in->opnd[0].reg] = gpr[in->opnd[1].reg];
        NEXT;
    L_U_SETCC_R8: cpu_set_reg8(cpu, in->opnd[0].reg, cpu_cond_inline(cpu, in->cond & 15)); NEXT;
    L_U_NOT_R32: gpr[in->opnd[0].reg] = ~gpr[in->opnd[0].reg]; NEXT;
    L_U_INC_R32_NF: gpr[in->opnd[0].reg] += 1; NEXT;
    L_U_DEC_R32_NF: gpr[in->opnd[0].reg] -= 1; NEXT;
    L_U_MUL_R32: {   /* exec_mul's 32-bit form: EDX:EAX = EAX * r32 */
        uint64_t product = (uint64_t)gpr[R_EAX] * gpr[in->opnd[0].reg];
        uint32_t low = (uint32_t)product, high = (uint32_t)(product >> 32);
        gpr[R_EAX] = low;
        gpr[R_EDX] = high;
        uop_flags(cpu, LF_MUL, low, 0, high ? FL_CF | FL_OF : 0, 4);
        NEXT;
    }
#define X(NAME, EXPR, LAZY, WRITES)                                              \
    L_U_##NAME##_RR32: {                                                      \
        uint32_t a = gpr[in->opnd[0].reg], b = gpr[in->opnd[1].reg];             \
        uint32_t r = (EXPR);                                                     \
        if (WRITES)                                                              \
            gpr[in->opnd[0].reg] = r;                                            \
        uop_flags(cpu, LAZY, r, a, b, 4);                                        \
        NEXT;                                                             \
    }                                                                            \
    L_U_##NAME##_RI32: {                                                      \
        uint32_t a = gpr[in->opnd[0].reg], b = in->imm;                          \
        uint32_t r = (EXPR);                                                     \
        if (WRITES)                                                              \
            gpr[in->opnd[0].reg] = r;                                            \
        uop_flags(cpu, LAZY, r, a, b, 4);                                        \
        NEXT;                                                             \
    }                                                                            \
    L_U_##NAME##_RR8: {   /* (AL..BH: cpu_reg8's numbering) */                  \
        uint32_t a = cpu_reg8(cpu, in->opnd[0].reg), b = cpu_reg8(cpu, in->opnd[1].reg); \
        uint32_t r = (EXPR) & 0xFFu;                                             \
        if (WRITES)                                                              \
            cpu_set_reg8(cpu, in->opnd[0].reg, (uint8_t)r);                      \
        uop_flags(cpu, LAZY, r, a, b, 1);                                        \
        NEXT;                                                                    \
    }                                                                            \
    L_U_##NAME##_RI8: {                                                       \
        uint32_t a = cpu_reg8(cpu, in->opnd[0].reg), b = in->imm & 0xFFu;         \
        uint32_t r = (EXPR) & 0xFFu;                                             \
        if (WRITES)                                                              \
            cpu_set_reg8(cpu, in->opnd[0].reg, (uint8_t)r);                      \
        uop_flags(cpu, LAZY, r, a, b, 1);                                        \
        NEXT;                                                                    \
    }
    UOP_ALU_OPS(X)
#undef X
    L_U_IMUL_RR32:
    L_U_IMUL_RRI32: {
        /* exec_imul's 32-bit forms (an imm8 is sign-extended) */
        int64_t a = (int32_t)gpr[in->opnd[ti->kind == U_IMUL_RRI32 ? 1 : 0].reg];
        int64_t m = ti->kind == U_IMUL_RR32 ? (int32_t)gpr[in->opnd[1].reg]
                  : in->opnd[2].size == 1 ? (int8_t)in->imm : (int32_t)in->imm;
        int64_t product = a * m;
        uint32_t low = (uint32_t)product;
        gpr[in->opnd[0].reg] = low;
        uop_flags(cpu, LF_MUL, low, 0, product != (int32_t)low ? FL_CF | FL_OF : 0, 4);
        NEXT;
    }
    /* the memory micro-ops four times: any 32-bit address, base + disp,
     * base + index*scale + disp and index*scale + disp
     * (ML: the label, MK: the kind, UOP_EA: the effective address) */
#define ML(K) L_##K
#define MK(K) (K)
#define UOP_EA() uop_ea(cpu, in)
#include "portable_mem.h"
#undef ML
#undef MK
#undef UOP_EA
#define ML(K) LB_##K
#define MK(K) U_B(K)
#define UOP_EA() ((uint32_t)in->disp + gpr[in->ea_base])
#include "portable_mem.h"
#undef ML
#undef MK
#undef UOP_EA
#define ML(K) LBI_##K
#define MK(K) (K)
#define UOP_EA() ((uint32_t)in->disp + gpr[in->ea_base] + (gpr[in->ea_index] << in->ea_scale))
#include "portable_mem.h"
#undef ML
#undef MK
#undef UOP_EA
#define ML(K) LX_##K
#define MK(K) (K)
#define UOP_EA() ((uint32_t)in->disp + (gpr[in->ea_index] << in->ea_scale))
#include "portable_mem.h"
#undef ML
#undef MK
#undef UOP_EA
#undef NEXT
#undef in
}


/* One block: through run_blocks when the budget allows all of it, else
 * instruction by instruction; true when it completed. */
static bool run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    struct tblock *pending = NULL;
    uint32_t lin, epoch;
    if (likely(cpu->icount + b->n <= end))
        return run_blocks(tc, cpu, (struct tblock *)b, end, 0, true, &pending, &lin, &epoch) != NULL;
    tc->stats.blocks_run++;
    if (!run_block_stepwise(tc, cpu, b, end))
        return false;
    run_last(tc, cpu, b);
    return true;
}

bool portable_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    return run_block(tc, cpu, b, end);
}

static enum cpu_stop portable_run(struct cpu *cpu, uint64_t end, void *opaque)
{
    struct tcache *tc = opaque;
    struct tblock *prev = NULL;
    struct tblock *pending = NULL;   /* found by run_blocks, beyond its budget */
    uint32_t prev_lin = 0, prev_epoch = 0;
    uint32_t mode = tcache_mode(cpu);
    while (cpu->icount < end) {
        int r = likely(!cpu_engine_needs_attention(cpu)) ? -1 : cpu_engine_boundary(cpu);
        if (unlikely(r != -1)) {
            if (r >= 0)
                return (enum cpu_stop)r;
            prev = pending = NULL;   /* an interrupt was delivered, or one instruction ran */
            mode = tcache_mode(cpu);
            continue;
        }
        struct tblock *b = pending;
        pending = NULL;
        if (!b && prev && !prev->sync)
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
        if (likely(!tc->lockstep) && likely(cpu->icount + b->n <= end)) {
            /* b and its successors while they chain (no block needs the loop) */
            prev = run_blocks(tc, cpu, b, end, mode, false, &pending, &prev_lin, &prev_epoch);
            if (!prev || prev->sync)
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
