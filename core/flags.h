/* core/flags.h: lazy arithmetic flags.
 *
 * Flag-setting instructions record (op, result, operands, size) in cpu->lf
 * instead of computing six flags that are usually overwritten unread.
 * cpu_get_eflags() and cpu_cond() (flags.c) compute them on demand. An
 * instruction whose flag rules do not fit a lazy op (rotates, BCD, ...)
 * computes them itself and stores them with lf_set_eager(), or records them
 * with LF_EXPLICIT when only SF/ZF/PF follow the result.
 *
 * Invariants:
 *   - When lf.op == LF_NONE, eflags holds the true arithmetic flags.
 *   - When lf.op != LF_NONE, the FL_ARITH bits of eflags are stale and all
 *     six come from lf; lf.result is already truncated to lf.size bytes,
 *     and lf.src1/src2 are truncated too (except where an op says otherwise).
 *   - ZF and SF of every lazy op derive from lf.result alone (ZF: except
 *     LF_MUL, where it is 0), so cpu_cond() tests them without computing
 *     anything else.
 *
 * What each op keeps in src1 / src2:
 *   LF_ADD, LF_SUB     the two operands
 *   LF_ADC, LF_SBB     the two operands; the carry-in is recovered as
 *                      (result - src1 - src2) or (src1 - src2 - result)
 *   LF_LOGIC           unused
 *   LF_INC, LF_DEC     src1 = operand, src2 = the CF from before (0 or 1)
 *   LF_SHL/SHR/SAR     src1 = operand, src2 = count (1..31, never 0)
 *   LF_EXPLICIT        src2 = CF, AF and OF already computed, in their
 *                      EFLAGS positions (SHLD/SHRD, BCD ...)
 *   LF_MUL             src2 = FL_CF | FL_OF when the product overflows the
 *                      low half, else 0
 *
 * Usage (an ADD handler):
 *   uint32_t r = (a + b) & size_mask(size);
 *   lf_set(cpu, LF_ADD, r, a, b, size);
 *   ... later: if (cpu_cond(cpu, 4)) ...   // ZF: r == 0, nothing else computed
 */
#ifndef FOX86_FLAGS_H
#define FOX86_FLAGS_H

#include "cpu.h"

enum lazy_op {
    LF_NONE = 0,
    LF_ADD,     /* result = src1 + src2 */
    LF_ADC,     /* result = src1 + src2 + CF */
    LF_SUB,     /* result = src1 - src2 (also CMP, NEG as 0 - src2, CMPS, SCAS) */
    LF_SBB,     /* result = src1 - src2 - CF */
    LF_LOGIC,   /* AND/OR/XOR/TEST: CF = OF = 0, AF undefined (0 as Intel gives) */
    LF_INC,     /* result = src1 + 1; CF = src2 (preserved) */
    LF_DEC,     /* result = src1 - 1; CF = src2 (preserved) */
    LF_SHL,     /* result = src1 << src2 */
    LF_SHR,     /* result = src1 >> src2 (logical) */
    LF_SAR,     /* result = src1 >> src2 (arithmetic) */
    LF_EXPLICIT,/* SF/ZF/PF from result; CF/AF/OF are the bits of src2 */
    LF_MUL,     /* MUL/IMUL: SF/PF from result, ZF = AF = 0, CF = OF = the bits of src2 */
    LF_COUNT
};

static inline void lf_set(struct cpu *cpu, enum lazy_op op, uint32_t result,
                          uint32_t src1, uint32_t src2, int size)
{
    cpu->lf.op = (uint16_t)op;
    cpu->lf.result = result;
    cpu->lf.src1 = src1;
    cpu->lf.src2 = src2;
    cpu->lf.size = (uint8_t)size;
}

/* Store computed arithmetic flags (only the FL_ARITH bits of flags). */
static inline void lf_set_eager(struct cpu *cpu, uint32_t flags);

/* Materialise the lazy flags into eflags (leaves lf.op == LF_NONE). */
void lf_materialize(struct cpu *cpu);

/* The carry flag alone (0 or 1) without forming EFLAGS; ADC, SBB, INC,
 * DEC and RCL use it. The common ops are answered inline. */
uint32_t lf_carry_slow(const struct cpu *cpu);

static inline uint32_t lf_carry(const struct cpu *cpu)
{
    switch (cpu->lf.op) {
    case LF_NONE:  return cpu->eflags & FL_CF;
    case LF_ADD:   return cpu->lf.result < cpu->lf.src1;
    case LF_SUB:   return cpu->lf.src1 < cpu->lf.src2;
    case LF_LOGIC: return 0;
    case LF_INC:
    case LF_DEC:   return cpu->lf.src2;
    default:       return lf_carry_slow(cpu);
    }
}

/* cpu_cond for a constant cc (the compiler folds the switch): the
 * relations compiled code tests after CMP/SUB, TEST/AND/OR/XOR and ZF/SF
 * after any lazy op come straight from lf; everything else calls cpu_cond. */
static inline __attribute__((always_inline)) bool cpu_cond_inline(struct cpu *cpu, int cc)
{
    const struct lazy_flags *lf = &cpu->lf;
    bool invert = cc & 1;
    uint32_t shift = 32 - lf->size * 8u;   /* moves the operand's sign to bit 31 */
    switch (cc >> 1) {
    case 1:   /* B */
        if (lf->op == LF_SUB)
            return (lf->src1 < lf->src2) ^ invert;
        if (lf->op == LF_LOGIC)
            return invert;
        break;
    case 2:   /* E: ZF follows the result for every lazy op but LF_MUL */
        if (lf->op != LF_NONE && lf->op != LF_MUL)
            return (lf->result == 0) ^ invert;
        break;
    case 3:   /* BE */
        if (lf->op == LF_SUB)
            return (lf->src1 <= lf->src2) ^ invert;
        if (lf->op == LF_LOGIC)
            return (lf->result == 0) ^ invert;
        break;
    case 4:   /* S */
        if (lf->op != LF_NONE)
            return ((int32_t)(lf->result << shift) < 0) ^ invert;
        break;
    case 6:   /* L */
        if (lf->op == LF_SUB)
            return ((int32_t)(lf->src1 << shift) < (int32_t)(lf->src2 << shift)) ^ invert;
        if (lf->op == LF_LOGIC)
            return ((int32_t)(lf->result << shift) < 0) ^ invert;
        break;
    case 7:   /* LE */
        if (lf->op == LF_SUB)
            return ((int32_t)(lf->src1 << shift) <= (int32_t)(lf->src2 << shift)) ^ invert;
        if (lf->op == LF_LOGIC)
            return (lf->result == 0 || (int32_t)(lf->result << shift) < 0) ^ invert;
        break;
    default:
        break;
    }
    return cpu_cond(cpu, cc);
}

static inline void lf_set_eager(struct cpu *cpu, uint32_t flags)
{
    cpu->lf.op = LF_NONE;   /* all six are replaced: nothing to materialise */
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | (flags & FL_ARITH);
}

/* Replace only the arithmetic flags selected by mask, keeping the others
 * (CF-only updates of BT, CLC, rotates ...). */
static inline void lf_set_some(struct cpu *cpu, uint32_t flags, uint32_t mask)
{
    if (cpu->lf.op != LF_NONE)
        lf_materialize(cpu);
    cpu->eflags = (cpu->eflags & ~mask) | (flags & mask);
}

#endif
