/* core/flags.c: computing the lazy arithmetic flags (see flags.h).
 *
 * Each flag has one small function that switches on lf.op; cpu_cond()
 * answers the condition codes compiled code uses most (after CMP, SUB,
 * TEST, AND ...) straight from the recorded operands without forming
 * EFLAGS, and falls back to the per-flag functions otherwise.
 *
 * Undefined flags, as this file defines them (the differential tester masks
 * them; the choices follow what Intel hardware is reported to give):
 *   - AF after logic ops and after SHL/SHR/SAR: 0.
 *   - OF after a shift by more than 1: the count-1 formula applied to the
 *     original operand (SHL: MSB ^ next bit; SHR: MSB; SAR: 0), which is
 *     what Intel cores give (checked against the host, an Intel Xeon).
 *   - After MUL/IMUL (LF_MUL): ZF = 0 and AF = 0 whatever the product,
 *     SF/PF from the low half (also the Intel host's behaviour).
 *   - CF after SHL/SHR by a count >= the operand width: the last bit shifted
 *     out of the operand as if it were 32 (SHR/SHL) bits wide, so 0 once
 *     every bit is gone; SAR: the sign bit.
 *
 * Invariant kept by cpu_set_eflags: writing any arithmetic flag leaves
 * lf.op == LF_NONE, so a later lazy evaluation cannot overwrite it.
 */
#include "flags.h"

static inline uint32_t sign_bit(int size)
{
    return 1u << (size * 8 - 1);
}

static inline uint32_t mask_of(int size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

/* PF: set when the low byte of the result has an even number of 1 bits. */
static inline uint32_t parity_flag(uint32_t result)
{
    return __builtin_parity(result & 0xFF) ? 0 : FL_PF;
}

uint32_t lf_carry_slow(const struct cpu *cpu)
{
    const struct lazy_flags *lf = &cpu->lf;
    uint32_t mask = mask_of(lf->size);
    switch (lf->op) {
    case LF_NONE:
        return cpu->eflags & FL_CF;
    case LF_ADD:
        return lf->result < lf->src1;
    case LF_ADC:
        if (((lf->result - lf->src1 - lf->src2) & mask) != 0)
            return lf->result <= lf->src1;
        return lf->result < lf->src1;
    case LF_SUB:
        return lf->src1 < lf->src2;
    case LF_SBB:
        if (((lf->src1 - lf->src2 - lf->result) & mask) != 0)
            return lf->src1 <= lf->src2;
        return lf->src1 < lf->src2;
    case LF_LOGIC:
        return 0;
    case LF_INC:
    case LF_DEC:
        return lf->src2 & 1;
    case LF_SHL:
        return (uint32_t)(((uint64_t)lf->src1 << (lf->src2 - 1)) >> (lf->size * 8 - 1)) & 1;
    case LF_SHR:
        return (lf->src1 >> (lf->src2 - 1)) & 1;
    case LF_SAR: {
        int32_t wide = (int32_t)(lf->src1 << (32 - lf->size * 8)) >> (32 - lf->size * 8);
        return (uint32_t)(wide >> (lf->src2 - 1)) & 1;
    }
    case LF_EXPLICIT:
    case LF_MUL:
        return lf->src2 & FL_CF;
    default:
        return 0;
    }
}

static uint32_t lf_overflow(const struct cpu *cpu)
{
    const struct lazy_flags *lf = &cpu->lf;
    if (lf->op == LF_NONE)   /* before sign_bit: lf->size means nothing then */
        return (cpu->eflags & FL_OF) != 0;
    uint32_t sign = sign_bit(lf->size);
    switch (lf->op) {
    case LF_ADD:
    case LF_ADC:
        return ((lf->src1 ^ lf->result) & (lf->src2 ^ lf->result) & sign) != 0;
    case LF_SUB:
    case LF_SBB:
        return ((lf->src1 ^ lf->src2) & (lf->src1 ^ lf->result) & sign) != 0;
    case LF_LOGIC:
        return 0;
    case LF_INC:
        return lf->result == sign;
    case LF_DEC:
        return lf->result == sign - 1;
    case LF_SHL:
        return (((lf->src1 << 1) ^ lf->src1) & sign) != 0;
    case LF_SHR:
        return (lf->src1 & sign) != 0;
    case LF_SAR:
        return 0;
    case LF_EXPLICIT:
    case LF_MUL:
        return (lf->src2 & FL_OF) != 0;
    default:
        return 0;
    }
}

static uint32_t lf_aux(const struct cpu *cpu)
{
    const struct lazy_flags *lf = &cpu->lf;
    switch (lf->op) {
    case LF_NONE:
        return cpu->eflags & FL_AF;
    case LF_ADD:
    case LF_ADC:
    case LF_SUB:
    case LF_SBB:
        return (lf->src1 ^ lf->src2 ^ lf->result) & FL_AF;
    case LF_INC:
        return (lf->result & 0xF) == 0 ? FL_AF : 0;
    case LF_DEC:
        return (lf->result & 0xF) == 0xF ? FL_AF : 0;
    case LF_EXPLICIT:
        return lf->src2 & FL_AF;
    default:
        return 0;
    }
}

/* The six arithmetic flags in their EFLAGS positions. */
static uint32_t lf_compute(const struct cpu *cpu)
{
    const struct lazy_flags *lf = &cpu->lf;
    if (lf->op == LF_NONE)
        return cpu->eflags & FL_ARITH;
    uint32_t flags = lf_carry_slow(cpu) | lf_aux(cpu) | parity_flag(lf->result);
    if (lf->result == 0 && lf->op != LF_MUL)
        flags |= FL_ZF;
    if (lf->result & sign_bit(lf->size))
        flags |= FL_SF;
    if (lf_overflow(cpu))
        flags |= FL_OF;
    return flags;
}

void lf_materialize(struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE)
        return;
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | lf_compute(cpu);
    cpu->lf.op = LF_NONE;
}

uint32_t cpu_get_eflags(struct cpu *cpu)
{
    lf_materialize(cpu);
    return cpu->eflags | 0x2;   /* bit 1 always reads as 1 */
}

void cpu_set_eflags(struct cpu *cpu, uint32_t value, uint32_t mask)
{
    if (mask & FL_ARITH) {
        if ((mask & FL_ARITH) == FL_ARITH)
            cpu->lf.op = LF_NONE;
        else
            lf_materialize(cpu);
    }
    cpu->eflags = (cpu->eflags & ~mask) | (value & mask) | 0x2;
}

static inline bool sign_of(const struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE)
        return (cpu->eflags & FL_SF) != 0;
    return (cpu->lf.result & sign_bit(cpu->lf.size)) != 0;
}

static inline bool zero_of(const struct cpu *cpu)
{
    if (cpu->lf.op == LF_NONE)
        return (cpu->eflags & FL_ZF) != 0;
    return cpu->lf.result == 0 && cpu->lf.op != LF_MUL;
}

/* The SF != OF test of JL/JGE/JLE/JG. */
static inline bool less_of(const struct cpu *cpu)
{
    return sign_of(cpu) != (lf_overflow(cpu) != 0);
}

bool cpu_cond(struct cpu *cpu, int cc)
{
    const struct lazy_flags *lf = &cpu->lf;
    bool truth;

    /* After CMP/SUB the unsigned and signed relations come straight from the operands. */
    if (lf->op == LF_SUB) {
        uint32_t shift = 32 - lf->size * 8;
        int32_t a = (int32_t)(lf->src1 << shift), b = (int32_t)(lf->src2 << shift);
        switch (cc >> 1) {
        case 1: truth = lf->src1 < lf->src2; goto done;     /* B */
        case 2: truth = lf->src1 == lf->src2; goto done;    /* E */
        case 3: truth = lf->src1 <= lf->src2; goto done;    /* BE */
        case 6: truth = a < b; goto done;                   /* L */
        case 7: truth = a <= b; goto done;                  /* LE */
        default: break;
        }
    } else if (lf->op == LF_LOGIC) {
        bool zero = lf->result == 0, sign = (lf->result & sign_bit(lf->size)) != 0;
        switch (cc >> 1) {
        case 0: truth = false; goto done;                   /* O */
        case 1: truth = false; goto done;                   /* B */
        case 2: truth = zero; goto done;                    /* E */
        case 3: truth = zero; goto done;                    /* BE */
        case 4: truth = sign; goto done;                    /* S */
        case 6: truth = sign; goto done;                    /* L */
        case 7: truth = zero || sign; goto done;            /* LE */
        default: break;
        }
    }

    switch (cc >> 1) {
    case 0: truth = lf_overflow(cpu) != 0; break;
    case 1: truth = lf_carry(cpu) != 0; break;
    case 2: truth = zero_of(cpu); break;
    case 3: truth = lf_carry(cpu) || zero_of(cpu); break;
    case 4: truth = sign_of(cpu); break;
    case 5:
        truth = lf->op == LF_NONE ? (cpu->eflags & FL_PF) != 0 : parity_flag(lf->result) != 0;
        break;
    case 6: truth = less_of(cpu); break;
    default: truth = zero_of(cpu) || less_of(cpu); break;
    }
done:
    return truth ^ (cc & 1);
}
