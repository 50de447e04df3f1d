/* core/flags.h: lazy arithmetic flags.
 *
 * Flag-setting instructions record (op, result, operands, size) in cpu->lf
 * instead of computing six flags that are usually overwritten unread.
 * cpu_get_eflags() and cpu_cond() (flags.c) compute them on demand. An
 * instruction whose flag rules do not fit a lazy op (rotates, BCD, ...)
 * computes them itself and stores them with lf_set_eager().
 * Invariant: when lf.op == LF_NONE, eflags holds the true arithmetic flags.
 */
#ifndef FOX86_FLAGS_H
#define FOX86_FLAGS_H

#include "cpu.h"

enum lazy_op {
    LF_NONE = 0,
    LF_ADD,     /* result = src1 + src2 */
    LF_ADC,     /* result = src1 + src2 + CF (carry-in must be recoverable: see flags.c) */
    LF_SUB,     /* result = src1 - src2 (also CMP, NEG as 0 - src2, CMPS, SCAS) */
    LF_SBB,
    LF_LOGIC,   /* AND/OR/XOR/TEST: CF = OF = 0, AF undefined (0 as hardware gives) */
    LF_INC,     /* CF preserved: flags.c keeps the old CF in eflags */
    LF_DEC,
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

static inline void lf_set_eager(struct cpu *cpu, uint32_t flags)
{
    if (cpu->lf.op != LF_NONE)
        lf_materialize(cpu);
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | (flags & FL_ARITH);
}

#endif
