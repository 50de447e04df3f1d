/* core/exec_int.c: the plain-C reference for the user-level integer
 * instructions of an i686: ALU, shifts and rotates, multiply and divide,
 * BCD, bit tests and scans, moves, exchanges, flag bits, BOUND.
 *
 * Every handler follows the rules of cpu.h and exec.h: all reads and writes
 * that can fault come first, and registers and flags are committed only
 * after the last of them (a read-modify-write of memory reads, computes,
 * writes, and only then records the flags). Operand widths come from the
 * decoded operands (opnd[i].size), so 8-bit forms need no special cases.
 *
 * Flags are recorded lazily (flags.h): LF_ADD/SUB/... for the ALU,
 * LF_EXPLICIT where CF/AF/OF are computed here and SF/ZF/PF follow the
 * result. Choices for flags the SDM leaves undefined (the differential
 * tester masks them; these follow Intel hardware where it is consistent):
 *   - MUL/IMUL: SF/PF from the low half of the product, ZF = AF = 0.
 *   - DIV/IDIV, BT* (except CF): left unchanged.
 *   - BSF/BSR: CF = OF = SF = AF = 0, PF = parity of the index found (1 for
 *     a zero source).
 *   - AAM: CF = AF = OF = 0. AAD: the flags of the 8-bit addition
 *     AL + (AH * imm). AAA/AAS: SF/ZF/PF from the final AL, OF = 0.
 *     DAA/DAS: OF = 0.
 *   - Any shift or rotate with a count other than 1: OF by the count-1
 *     formula applied to the original operand (and, for RCR, the original
 *     CF), as Intel cores do; SHLD/SHRD: AF = 0.
 *   - SHLD/SHRD r16 with count 17..31: the operand is shifted through the
 *     48-bit chain dest:src:dest, as Intel cores do.
 *   - BSWAP r16: the low word becomes 0 (Intel), the upper half is kept.
 * All but BSWAP were checked against the development host (an Intel Xeon)
 * on some 200,000 random cases, every flag and result bit-exact; AMD parts
 * may differ.
 *
 * Usage: exec_register_int(exec_table) fills this file's rows.
 */
#include "exec.h"
#include "flags.h"

static inline int32_t sign_extend(uint32_t value, int size)
{
    int shift = 32 - size * 8;
    return (int32_t)(value << shift) >> shift;
}

static inline uint32_t msb(uint32_t value, int size)
{
    return (value >> (size * 8 - 1)) & 1;
}

/* A source operand: registers and immediates inline, memory out of line,
 * so the register forms of the hot handlers make no calls. */
static __attribute__((noinline)) uint32_t opnd_read_mem(struct cpu *cpu, const struct insn *in, int i)
{
    return insn_opnd_read(cpu, in, i);
}

static inline uint32_t opnd_value(struct cpu *cpu, const struct insn *in, int i)
{
    const struct opnd *o = &in->opnd[i];
    if (o->kind == OPND_REG)
        return cpu_reg_read(cpu, o->reg, o->size);
    if (o->kind == OPND_IMM)
        return (o->reg ? in->imm2 : in->imm) & size_mask(o->size);
    return opnd_read_mem(cpu, in, i);
}

/* Operand 0 as a read-modify-write location: the EA is computed once. */
struct rm_loc {
    uint32_t ea;
};

static inline uint32_t rm_read(struct cpu *cpu, const struct insn *in, struct rm_loc *loc)
{
    const struct opnd *o = &in->opnd[0];
    loc->ea = 0;
    if (o->kind == OPND_REG)
        return cpu_reg_read(cpu, o->reg, o->size);
    loc->ea = insn_ea(cpu, in);
    return cpu_read_for_write(cpu, in->seg, loc->ea, o->size);
}

static inline void rm_write(struct cpu *cpu, const struct insn *in, const struct rm_loc *loc,
                            uint32_t value)
{
    const struct opnd *o = &in->opnd[0];
    if (o->kind == OPND_REG)
        cpu_reg_write(cpu, o->reg, value, o->size);
    else
        cpu_write_sized(cpu, in->seg, loc->ea, value, o->size);
}

/* ---- ALU ---------------------------------------------------------------- */

/* The register-destination path makes no calls (for register and
 * immediate sources); the memory-destination path is a separate function
 * so its spills stay out of the common case. */
#define ALU_BINARY(NAME, EXPR, LAZY, WRITES)                                   \
    static __attribute__((noinline)) void NAME##_mem(struct cpu *cpu,         \
                                                     const struct insn *in)   \
    {                                                                          \
        int size = in->opnd[0].size;                                           \
        uint32_t ea = insn_ea(cpu, in);                                        \
        uint32_t a = WRITES ? cpu_read_for_write(cpu, in->seg, ea, size)       \
                            : cpu_read_sized(cpu, in->seg, ea, size);           \
        uint32_t b = opnd_value(cpu, in, 1);                                   \
        uint32_t r = (EXPR) & size_mask(size);                                 \
        if (WRITES)                                                            \
            cpu_write_sized(cpu, in->seg, ea, r, size);                        \
        lf_set(cpu, LAZY, r, a, b, size);                                      \
    }                                                                          \
    static void exec_##NAME(struct cpu *cpu, const struct insn *in)           \
    {                                                                          \
        int size = in->opnd[0].size;                                           \
        if (in->opnd[0].kind != OPND_REG) {                                    \
            NAME##_mem(cpu, in);                                               \
            return;                                                            \
        }                                                                      \
        uint32_t a = cpu_reg_read(cpu, in->opnd[0].reg, size);                 \
        uint32_t b = opnd_value(cpu, in, 1);                                   \
        uint32_t r = (EXPR) & size_mask(size);                                 \
        if (WRITES)                                                            \
            cpu_reg_write(cpu, in->opnd[0].reg, r, size);                      \
        lf_set(cpu, LAZY, r, a, b, size);                                      \
    }

ALU_BINARY(add, a + b, LF_ADD, 1)
ALU_BINARY(or, a | b, LF_LOGIC, 1)
ALU_BINARY(adc, a + b + lf_carry(cpu), LF_ADC, 1)
ALU_BINARY(sbb, a - b - lf_carry(cpu), LF_SBB, 1)
ALU_BINARY(and, a & b, LF_LOGIC, 1)
ALU_BINARY(sub, a - b, LF_SUB, 1)
ALU_BINARY(xor, a ^ b, LF_LOGIC, 1)
ALU_BINARY(cmp, a - b, LF_SUB, 0)
ALU_BINARY(test, a & b, LF_LOGIC, 0)

/* INC/DEC keep CF: the current one is recorded with the lazy op. */
static __attribute__((noinline)) void inc_dec_mem(struct cpu *cpu, const struct insn *in,
                                                  uint32_t delta, enum lazy_op op)
{
    int size = in->opnd[0].size;
    uint32_t ea = insn_ea(cpu, in);
    uint32_t a = cpu_read_for_write(cpu, in->seg, ea, size);
    uint32_t r = (a + delta) & size_mask(size);
    cpu_write_sized(cpu, in->seg, ea, r, size);
    lf_set(cpu, op, r, a, lf_carry(cpu), size);
}

static inline void inc_dec(struct cpu *cpu, const struct insn *in, uint32_t delta, enum lazy_op op)
{
    int size = in->opnd[0].size;
    if (in->opnd[0].kind != OPND_REG) {
        inc_dec_mem(cpu, in, delta, op);
        return;
    }
    uint32_t a = cpu_reg_read(cpu, in->opnd[0].reg, size);
    uint32_t r = (a + delta) & size_mask(size);
    uint32_t carry = lf_carry(cpu);
    cpu_reg_write(cpu, in->opnd[0].reg, r, size);
    lf_set(cpu, op, r, a, carry, size);
}

static void exec_inc(struct cpu *cpu, const struct insn *in) { inc_dec(cpu, in, 1, LF_INC); }
static void exec_dec(struct cpu *cpu, const struct insn *in) { inc_dec(cpu, in, (uint32_t)-1, LF_DEC); }

static void exec_neg(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t r = (0 - a) & size_mask(size);
    rm_write(cpu, in, &loc, r);
    lf_set(cpu, LF_SUB, r, 0, a, size);
}

static void exec_not(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    uint32_t a = rm_read(cpu, in, &loc);
    rm_write(cpu, in, &loc, ~a & size_mask(in->opnd[0].size));
}

/* ---- multiply and divide ------------------------------------------------ */

/* Operand 0 is the explicit source of MUL/IMUL1/DIV/IDIV; the accumulator is implicit. */
static void exec_mul(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    uint32_t src = insn_opnd_read(cpu, in, 0);
    uint32_t low, high;
    if (size == 1) {
        uint32_t product = (cpu->gpr[R_EAX] & 0xFF) * src;
        cpu_set_reg16(cpu, R_EAX, (uint16_t)product);
        low = product & 0xFF;
        high = product >> 8;
    } else if (size == 2) {
        uint32_t product = (cpu->gpr[R_EAX] & 0xFFFF) * src;
        low = product & 0xFFFF;
        high = product >> 16;
        cpu_set_reg16(cpu, R_EAX, (uint16_t)low);
        cpu_set_reg16(cpu, R_EDX, (uint16_t)high);
    } else {
        uint64_t product = (uint64_t)cpu->gpr[R_EAX] * src;
        low = (uint32_t)product;
        high = (uint32_t)(product >> 32);
        cpu->gpr[R_EAX] = low;
        cpu->gpr[R_EDX] = high;
    }
    lf_set(cpu, LF_MUL, low, 0, high ? FL_CF | FL_OF : 0, size);
}

static void exec_imul1(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    int32_t src = sign_extend(insn_opnd_read(cpu, in, 0), size);
    bool overflow;
    uint32_t low;
    if (size == 1) {
        int32_t product = sign_extend(cpu->gpr[R_EAX], 1) * src;
        cpu_set_reg16(cpu, R_EAX, (uint16_t)product);
        low = (uint32_t)product & 0xFF;
        overflow = product != (int8_t)product;
    } else if (size == 2) {
        int32_t product = sign_extend(cpu->gpr[R_EAX], 2) * src;
        cpu_set_reg16(cpu, R_EAX, (uint16_t)product);
        cpu_set_reg16(cpu, R_EDX, (uint16_t)((uint32_t)product >> 16));
        low = (uint32_t)product & 0xFFFF;
        overflow = product != (int16_t)product;
    } else {
        int64_t product = (int64_t)(int32_t)cpu->gpr[R_EAX] * src;
        cpu->gpr[R_EAX] = (uint32_t)product;
        cpu->gpr[R_EDX] = (uint32_t)((uint64_t)product >> 32);
        low = (uint32_t)product;
        overflow = product != (int32_t)product;
    }
    lf_set(cpu, LF_MUL, low, 0, overflow ? FL_CF | FL_OF : 0, size);
}

/* IMUL r, r/m (opnd0 = opnd0 * opnd1) and IMUL r, r/m, imm (opnd0 = opnd1 * opnd2). */
static void exec_imul(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    int first = in->nopnd >= 3 ? 1 : 0;
    int64_t a = sign_extend(insn_opnd_read(cpu, in, first), in->opnd[first].size);
    int64_t b = sign_extend(insn_opnd_read(cpu, in, first + 1), in->opnd[first + 1].size);
    int64_t product = a * b;
    uint32_t low = (uint32_t)product & size_mask(size);
    bool overflow = product != sign_extend(low, size);
    cpu_reg_write(cpu, in->opnd[0].reg, low, size);
    lf_set(cpu, LF_MUL, low, 0, overflow ? FL_CF | FL_OF : 0, size);
}

static noreturn void divide_error(struct cpu *cpu)
{
    cpu_raise(cpu, EXC_DE, NO_ERROR_CODE);
}

static void exec_div(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    uint32_t divisor = insn_opnd_read(cpu, in, 0);
    if (divisor == 0)
        divide_error(cpu);
    if (size == 1) {
        uint32_t dividend = cpu->gpr[R_EAX] & 0xFFFF;
        uint32_t quotient = dividend / divisor;
        if (quotient > 0xFF)
            divide_error(cpu);
        cpu_set_reg16(cpu, R_EAX, (uint16_t)(((dividend % divisor) << 8) | quotient));
    } else if (size == 2) {
        uint32_t dividend = (cpu->gpr[R_EDX] << 16) | (cpu->gpr[R_EAX] & 0xFFFF);
        uint32_t quotient = dividend / divisor;
        if (quotient > 0xFFFF)
            divide_error(cpu);
        cpu_set_reg16(cpu, R_EAX, (uint16_t)quotient);
        cpu_set_reg16(cpu, R_EDX, (uint16_t)(dividend % divisor));
    } else {
        uint64_t dividend = ((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX];
        uint64_t quotient = dividend / divisor;
        if (quotient > 0xFFFFFFFFu)
            divide_error(cpu);
        cpu->gpr[R_EAX] = (uint32_t)quotient;
        cpu->gpr[R_EDX] = (uint32_t)(dividend % divisor);
    }
}

static void exec_idiv(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    int64_t divisor = sign_extend(insn_opnd_read(cpu, in, 0), size);
    if (divisor == 0)
        divide_error(cpu);
    int64_t dividend;
    if (size == 1)
        dividend = (int16_t)cpu->gpr[R_EAX];
    else if (size == 2)
        dividend = (int32_t)((cpu->gpr[R_EDX] << 16) | (cpu->gpr[R_EAX] & 0xFFFF));
    else
        dividend = (int64_t)(((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX]);
    if (dividend == INT64_MIN && divisor == -1)
        divide_error(cpu);                 /* only reachable in the 32-bit form */
    int64_t quotient = dividend / divisor;
    int64_t remainder = dividend % divisor;
    int64_t limit = (int64_t)1 << (size * 8 - 1);
    if (quotient >= limit || quotient < -limit)
        divide_error(cpu);
    if (size == 1) {
        cpu_set_reg16(cpu, R_EAX, (uint16_t)((((uint32_t)remainder & 0xFF) << 8) |
                                             ((uint32_t)quotient & 0xFF)));
    } else if (size == 2) {
        cpu_set_reg16(cpu, R_EAX, (uint16_t)quotient);
        cpu_set_reg16(cpu, R_EDX, (uint16_t)remainder);
    } else {
        cpu->gpr[R_EAX] = (uint32_t)quotient;
        cpu->gpr[R_EDX] = (uint32_t)remainder;
    }
}

/* ---- shifts and rotates ------------------------------------------------- */

/* The count operand, masked to 5 bits as on every CPU since the 286. */
static inline uint32_t shift_count(struct cpu *cpu, const struct insn *in, int i)
{
    return opnd_value(cpu, in, i) & 31;
}

static void exec_shl(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = (a << count) & size_mask(size);
    rm_write(cpu, in, &loc, r);
    lf_set(cpu, LF_SHL, r, a, count, size);
}

static void exec_shr(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = a >> count;
    rm_write(cpu, in, &loc, r);
    lf_set(cpu, LF_SHR, r, a, count, size);
}

static void exec_sar(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = (uint32_t)(sign_extend(a, size) >> count) & size_mask(size);
    rm_write(cpu, in, &loc, r);
    lf_set(cpu, LF_SAR, r, a, count, size);
}

/* Rotates change only CF and OF. The 5-bit count decides whether flags
 * change at all; the rotation itself is by count mod width. */
static void exec_rol(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size, bits = size * 8;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t n = count & (bits - 1);
    uint32_t r = n ? ((a << n) | (a >> (bits - n))) & size_mask(size) : a;
    rm_write(cpu, in, &loc, r);
    uint32_t cf = r & 1;
    uint32_t of = msb(a, size) ^ msb(a << 1, size);
    lf_set_some(cpu, cf | (of ? FL_OF : 0), FL_CF | FL_OF);
}

static void exec_ror(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size, bits = size * 8;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t n = count & (bits - 1);
    uint32_t r = n ? ((a >> n) | (a << (bits - n))) & size_mask(size) : a;
    rm_write(cpu, in, &loc, r);
    uint32_t cf = msb(r, size);
    uint32_t of = (a & 1) ^ msb(a, size);
    lf_set_some(cpu, cf | (of ? FL_OF : 0), FL_CF | FL_OF);
}

/* RCL/RCR rotate the (width+1)-bit value CF:operand; 64-bit arithmetic
 * covers the 33-bit case. */
static void exec_rcl(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size, bits = size * 8;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (size < 4)
        count %= (uint32_t)(bits + 1);
    if (count == 0)
        return;
    uint64_t wide = ((uint64_t)lf_carry(cpu) << bits) | a;
    uint64_t rotated = (wide << count) | (wide >> (bits + 1 - count));
    uint32_t r = (uint32_t)rotated & size_mask(size);
    uint32_t cf = (uint32_t)(rotated >> bits) & 1;
    rm_write(cpu, in, &loc, r);
    uint32_t of = msb(a, size) ^ msb(a << 1, size);
    lf_set_some(cpu, cf | (of ? FL_OF : 0), FL_CF | FL_OF);
}

static void exec_rcr(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size, bits = size * 8;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t count = shift_count(cpu, in, 1);
    if (size < 4)
        count %= (uint32_t)(bits + 1);
    if (count == 0)
        return;
    uint32_t carry_in = lf_carry(cpu);
    uint64_t wide = ((uint64_t)carry_in << bits) | a;
    uint64_t rotated = (wide >> count) | (wide << (bits + 1 - count));
    uint32_t r = (uint32_t)rotated & size_mask(size);
    uint32_t cf = (uint32_t)(rotated >> bits) & 1;
    rm_write(cpu, in, &loc, r);
    uint32_t of = msb(a, size) ^ carry_in;
    lf_set_some(cpu, cf | (of ? FL_OF : 0), FL_CF | FL_OF);
}

/* SHLD/SHRD: opnd0 <- opnd0 shifted, filled from opnd1, count opnd2.
 * Computed on the chain dest:src:dest (16-bit) or dest:src (32-bit). */
static void exec_shld(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t fill = insn_opnd_read(cpu, in, 1);
    uint32_t count = shift_count(cpu, in, 2);
    if (count == 0)
        return;
    uint32_t r, cf;
    if (size == 4) {
        uint64_t chain = ((uint64_t)a << 32) | fill;
        r = (uint32_t)((chain << count) >> 32);
        cf = (uint32_t)(chain >> (64 - count)) & 1;
    } else {
        uint64_t chain = ((uint64_t)a << 32) | ((uint64_t)fill << 16) | a;
        r = (uint32_t)((chain << count) >> 32) & 0xFFFF;
        cf = (uint32_t)(chain >> (48 - count)) & 1;
    }
    rm_write(cpu, in, &loc, r);
    uint32_t of = msb(a, size) ^ msb(a << 1, size);
    lf_set(cpu, LF_EXPLICIT, r, a, cf | (of ? FL_OF : 0), size);
}

static void exec_shrd(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t a = rm_read(cpu, in, &loc);
    uint32_t fill = insn_opnd_read(cpu, in, 1);
    uint32_t count = shift_count(cpu, in, 2);
    if (count == 0)
        return;
    uint32_t r, cf;
    if (size == 4) {
        uint64_t chain = ((uint64_t)fill << 32) | a;
        r = (uint32_t)(chain >> count);
        cf = (uint32_t)(chain >> (count - 1)) & 1;
    } else {
        uint64_t chain = ((uint64_t)a << 32) | ((uint64_t)fill << 16) | a;
        r = (uint32_t)(chain >> count) & 0xFFFF;
        cf = (uint32_t)(chain >> (count - 1)) & 1;
    }
    rm_write(cpu, in, &loc, r);
    uint32_t of = (fill & 1) ^ msb(a, size);
    lf_set(cpu, LF_EXPLICIT, r, a, cf | (of ? FL_OF : 0), size);
}

/* ---- decimal ------------------------------------------------------------ */

static void exec_daa(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t old_al = cpu->gpr[R_EAX] & 0xFF, al = old_al;
    uint32_t cf = 0, af = 0;
    if ((al & 0xF) > 9 || (flags & FL_AF)) {
        al = (al + 6) & 0xFF;      /* its carry only matters when the next step sets CF anyway */
        af = FL_AF;
    }
    if (old_al > 0x99 || (flags & FL_CF)) {
        al = (al + 0x60) & 0xFF;
        cf = FL_CF;
    }
    cpu_set_reg8(cpu, 0, (uint8_t)al);
    lf_set(cpu, LF_EXPLICIT, al, 0, cf | af, 1);
}

static void exec_das(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t flags = cpu_get_eflags(cpu);
    uint32_t old_al = cpu->gpr[R_EAX] & 0xFF, al = old_al;
    uint32_t cf = 0, af = 0;
    if ((al & 0xF) > 9 || (flags & FL_AF)) {
        cf = (flags & FL_CF) || al < 6;
        al = (al - 6) & 0xFF;
        af = FL_AF;
    }
    if (old_al > 0x99 || (flags & FL_CF)) {
        al = (al - 0x60) & 0xFF;
        cf = 1;
    }
    cpu_set_reg8(cpu, 0, (uint8_t)al);
    lf_set(cpu, LF_EXPLICIT, al, 0, cf | af, 1);
}

static void exec_aaa(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t ax = cpu->gpr[R_EAX] & 0xFFFF, adjust = 0;
    if ((ax & 0xF) > 9 || (cpu_get_eflags(cpu) & FL_AF)) {
        ax += 0x106;
        adjust = FL_AF | FL_CF;
    }
    ax &= 0xFF0F;
    cpu_set_reg16(cpu, R_EAX, (uint16_t)ax);
    lf_set(cpu, LF_EXPLICIT, ax & 0xFF, 0, adjust, 1);
}

static void exec_aas(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t ax = cpu->gpr[R_EAX] & 0xFFFF, adjust = 0;
    if ((ax & 0xF) > 9 || (cpu_get_eflags(cpu) & FL_AF)) {
        ax -= 6;
        ax -= 0x100;
        adjust = FL_AF | FL_CF;
    }
    ax &= 0xFF0F;
    cpu_set_reg16(cpu, R_EAX, (uint16_t)ax);
    lf_set(cpu, LF_EXPLICIT, ax & 0xFF, 0, adjust, 1);
}

static void exec_aam(struct cpu *cpu, const struct insn *in)
{
    uint32_t base = in->imm & 0xFF;
    if (base == 0)
        divide_error(cpu);
    uint32_t al = cpu->gpr[R_EAX] & 0xFF;
    uint32_t low = al % base;
    cpu_set_reg16(cpu, R_EAX, (uint16_t)(((al / base) << 8) | low));
    lf_set(cpu, LF_LOGIC, low, 0, 0, 1);
}

static void exec_aad(struct cpu *cpu, const struct insn *in)
{
    uint32_t base = in->imm & 0xFF;
    uint32_t ax = cpu->gpr[R_EAX];
    uint32_t addend = (((ax >> 8) & 0xFF) * base) & 0xFF;
    uint32_t al = ((ax & 0xFF) + addend) & 0xFF;
    cpu_set_reg16(cpu, R_EAX, (uint16_t)al);
    lf_set(cpu, LF_ADD, al, ax & 0xFF, addend, 1);
}

static void exec_salc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_set_reg8(cpu, 0, lf_carry(cpu) ? 0xFF : 0);
}

/* ---- bits --------------------------------------------------------------- */

enum bit_action { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT };

/* BT family: a register bit offset with a memory base addresses beyond the
 * operand (signed offset; 16-bit forms take a signed 16-bit offset); an
 * immediate offset, or any register base, takes the offset mod width. */
static inline void bit_op(struct cpu *cpu, const struct insn *in, enum bit_action action)
{
    int size = in->opnd[0].size, bits = size * 8;
    uint32_t offset = insn_opnd_read(cpu, in, 1);
    uint32_t bit = offset & (bits - 1);
    uint32_t value, ea = 0;
    if (in->opnd[0].kind == OPND_REG) {
        value = cpu_reg_read(cpu, in->opnd[0].reg, size);
    } else {
        ea = insn_ea(cpu, in);
        if (in->opnd[1].kind == OPND_REG) {
            int32_t signed_offset = sign_extend(offset, size);
            ea += (uint32_t)((signed_offset >> (size == 4 ? 5 : 4)) * size);
            if (in->addrsize == 2)
                ea &= 0xFFFF;
        }
        value = action == BIT_TEST ? cpu_read_sized(cpu, in->seg, ea, size)
                                   : cpu_read_for_write(cpu, in->seg, ea, size);
    }
    uint32_t cf = (value >> bit) & 1;
    if (action != BIT_TEST) {
        uint32_t one = 1u << bit;
        uint32_t result = action == BIT_SET ? value | one
                        : action == BIT_RESET ? value & ~one : value ^ one;
        if (in->opnd[0].kind == OPND_REG)
            cpu_reg_write(cpu, in->opnd[0].reg, result, size);
        else
            cpu_write_sized(cpu, in->seg, ea, result, size);
    }
    lf_set_some(cpu, cf, FL_CF);
}

static void exec_bt(struct cpu *cpu, const struct insn *in)  { bit_op(cpu, in, BIT_TEST); }
static void exec_bts(struct cpu *cpu, const struct insn *in) { bit_op(cpu, in, BIT_SET); }
static void exec_btr(struct cpu *cpu, const struct insn *in) { bit_op(cpu, in, BIT_RESET); }
static void exec_btc(struct cpu *cpu, const struct insn *in) { bit_op(cpu, in, BIT_COMPLEMENT); }

static void exec_bsf(struct cpu *cpu, const struct insn *in)
{
    uint32_t src = insn_opnd_read(cpu, in, 1);
    if (src == 0) {
        lf_set_eager(cpu, FL_ZF | FL_PF);
        return;
    }
    uint32_t index = (uint32_t)__builtin_ctz(src);
    cpu_reg_write(cpu, in->opnd[0].reg, index, in->opnd[0].size);
    lf_set_eager(cpu, __builtin_parity(index) ? 0 : FL_PF);
}

static void exec_bsr(struct cpu *cpu, const struct insn *in)
{
    uint32_t src = insn_opnd_read(cpu, in, 1);
    if (src == 0) {
        lf_set_eager(cpu, FL_ZF | FL_PF);
        return;
    }
    uint32_t index = 31u - (uint32_t)__builtin_clz(src);
    cpu_reg_write(cpu, in->opnd[0].reg, index, in->opnd[0].size);
    lf_set_eager(cpu, __builtin_parity(index) ? 0 : FL_PF);
}

/* ---- data movement ------------------------------------------------------ */

static void exec_mov(struct cpu *cpu, const struct insn *in)
{
    if (in->opnd[0].kind == OPND_REG)
        cpu_reg_write(cpu, in->opnd[0].reg, opnd_value(cpu, in, 1), in->opnd[0].size);
    else
        insn_opnd_write(cpu, in, 0, opnd_value(cpu, in, 1));
}

static void exec_movzx(struct cpu *cpu, const struct insn *in)
{
    cpu_reg_write(cpu, in->opnd[0].reg, insn_opnd_read(cpu, in, 1), in->opnd[0].size);
}

static void exec_movsx(struct cpu *cpu, const struct insn *in)
{
    uint32_t value = (uint32_t)sign_extend(insn_opnd_read(cpu, in, 1), in->opnd[1].size);
    cpu_reg_write(cpu, in->opnd[0].reg, value, in->opnd[0].size);
}

static void exec_lea(struct cpu *cpu, const struct insn *in)
{
    if (in->opnd[1].kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    cpu_reg_write(cpu, in->opnd[0].reg, insn_ea(cpu, in), in->opnd[0].size);
}

/* XCHG: the memory side (if any) is written first, so a fault commits nothing. */
static void exec_xchg(struct cpu *cpu, const struct insn *in)
{
    int mem = in->opnd[0].kind == OPND_MEM ? 0 : 1;
    int reg = 1 - mem;
    if (in->opnd[mem].kind == OPND_MEM)   /* a locked read-modify-write */
        cpu_check_access(cpu, in->seg, insn_ea(cpu, in), in->opnd[mem].size, MEM_WRITE);
    uint32_t a = insn_opnd_read(cpu, in, 0);
    uint32_t b = insn_opnd_read(cpu, in, 1);
    uint32_t to_reg = reg == 0 ? b : a, to_mem = reg == 0 ? a : b;
    insn_opnd_write(cpu, in, mem, to_mem);
    insn_opnd_write(cpu, in, reg, to_reg);
}

static void exec_xadd(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t dest = rm_read(cpu, in, &loc);
    uint32_t src = cpu_reg_read(cpu, in->opnd[1].reg, size);
    uint32_t sum = (dest + src) & size_mask(size);
    if (in->opnd[0].kind == OPND_MEM) {
        rm_write(cpu, in, &loc, sum);
        cpu_reg_write(cpu, in->opnd[1].reg, dest, size);
    } else {
        cpu_reg_write(cpu, in->opnd[1].reg, dest, size);   /* XADD r, r: the sum wins */
        rm_write(cpu, in, &loc, sum);
    }
    lf_set(cpu, LF_ADD, sum, dest, src, size);
}

/* CMPXCHG: a failed compare still writes the old value back to memory (the
 * locked cycle always writes), so a read-only page faults either way. */
static void exec_cmpxchg(struct cpu *cpu, const struct insn *in)
{
    struct rm_loc loc;
    int size = in->opnd[0].size;
    uint32_t dest = rm_read(cpu, in, &loc);
    uint32_t acc = cpu_reg_read(cpu, R_EAX, size);
    uint32_t src = cpu_reg_read(cpu, in->opnd[1].reg, size);
    if (acc == dest) {
        rm_write(cpu, in, &loc, src);
    } else {
        rm_write(cpu, in, &loc, dest);
        cpu_reg_write(cpu, R_EAX, dest, size);
    }
    lf_set(cpu, LF_SUB, (acc - dest) & size_mask(size), acc, dest, size);
}

static void exec_cmpxchg8b(struct cpu *cpu, const struct insn *in)
{
    if (in->opnd[0].kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    uint32_t ea = insn_ea(cpu, in);
    cpu_check_access(cpu, in->seg, ea, 8, MEM_WRITE);   /* the locked cycle always writes */
    uint64_t dest = cpu_read64(cpu, in->seg, ea);
    uint64_t expected = ((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX];
    if (dest == expected) {
        cpu_write64(cpu, in->seg, ea, ((uint64_t)cpu->gpr[R_ECX] << 32) | cpu->gpr[R_EBX]);
        lf_set_some(cpu, FL_ZF, FL_ZF);
    } else {
        cpu_write64(cpu, in->seg, ea, dest);
        cpu->gpr[R_EAX] = (uint32_t)dest;
        cpu->gpr[R_EDX] = (uint32_t)(dest >> 32);
        lf_set_some(cpu, 0, FL_ZF);
    }
}

static void exec_bswap(struct cpu *cpu, const struct insn *in)
{
    int reg = in->opnd[0].reg;
    if (in->opnd[0].size == 4)
        cpu->gpr[reg] = __builtin_bswap32(cpu->gpr[reg]);
    else
        cpu_set_reg16(cpu, reg, 0);
}

/* CMOVcc: the source is read (and may fault) whatever the condition. */
static void exec_cmovcc(struct cpu *cpu, const struct insn *in)
{
    uint32_t value = insn_opnd_read(cpu, in, 1);
    if (cpu_cond(cpu, in->cond))
        cpu_reg_write(cpu, in->opnd[0].reg, value, in->opnd[0].size);
}

static void exec_setcc(struct cpu *cpu, const struct insn *in)
{
    insn_opnd_write(cpu, in, 0, cpu_cond(cpu, in->cond) ? 1 : 0);
}

static void exec_cbw(struct cpu *cpu, const struct insn *in)
{
    if (in->opsize == 2)
        cpu_set_reg16(cpu, R_EAX, (uint16_t)sign_extend(cpu->gpr[R_EAX], 1));
    else
        cpu->gpr[R_EAX] = (uint32_t)sign_extend(cpu->gpr[R_EAX], 2);
}

static void exec_cwd(struct cpu *cpu, const struct insn *in)
{
    if (in->opsize == 2)
        cpu_set_reg16(cpu, R_EDX, (cpu->gpr[R_EAX] & 0x8000) ? 0xFFFF : 0);
    else
        cpu->gpr[R_EDX] = (cpu->gpr[R_EAX] & 0x80000000u) ? 0xFFFFFFFFu : 0;
}

static void exec_lahf(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t flags = cpu_get_eflags(cpu);
    cpu_set_reg8(cpu, 4, (uint8_t)((flags & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | 0x02));
}

static void exec_sahf(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_set_eflags(cpu, cpu_reg8(cpu, 4), FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
}

static void exec_cmc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    lf_set_some(cpu, lf_carry(cpu) ^ 1, FL_CF);
}

static void exec_clc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    lf_set_some(cpu, 0, FL_CF);
}

static void exec_stc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    lf_set_some(cpu, FL_CF, FL_CF);
}

static void exec_cld(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu->eflags &= ~FL_DF;
}

static void exec_std(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu->eflags |= FL_DF;
}

static void exec_xlat(struct cpu *cpu, const struct insn *in)
{
    uint32_t addr = cpu->gpr[R_EBX] + (cpu->gpr[R_EAX] & 0xFF);
    if (in->addrsize == 2)
        addr &= 0xFFFF;
    cpu_set_reg8(cpu, 0, cpu_read8(cpu, in->seg, addr));
}

static void exec_nop(struct cpu *cpu, const struct insn *in)
{
    (void)cpu; (void)in;
}

/* BOUND r, m16&16 / m32&32: #BR unless lower <= index <= upper (signed). */
static void exec_bound(struct cpu *cpu, const struct insn *in)
{
    if (in->opnd[1].kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    int size = in->opnd[0].size;
    uint32_t ea = insn_ea(cpu, in);
    uint32_t upper_ea = ea + (uint32_t)size;
    if (in->addrsize == 2)
        upper_ea &= 0xFFFF;
    int32_t lower = sign_extend(cpu_read_sized(cpu, in->seg, ea, size), size);
    int32_t upper = sign_extend(cpu_read_sized(cpu, in->seg, upper_ea, size), size);
    int32_t index = sign_extend(cpu_reg_read(cpu, in->opnd[0].reg, size), size);
    if (index < lower || index > upper)
        cpu_raise(cpu, EXC_BR, NO_ERROR_CODE);
}

void exec_register_int(exec_fn *table)
{
    table[OP_ADD] = exec_add;
    table[OP_OR] = exec_or;
    table[OP_ADC] = exec_adc;
    table[OP_SBB] = exec_sbb;
    table[OP_AND] = exec_and;
    table[OP_SUB] = exec_sub;
    table[OP_XOR] = exec_xor;
    table[OP_CMP] = exec_cmp;
    table[OP_TEST] = exec_test;
    table[OP_INC] = exec_inc;
    table[OP_DEC] = exec_dec;
    table[OP_NEG] = exec_neg;
    table[OP_NOT] = exec_not;
    table[OP_MUL] = exec_mul;
    table[OP_IMUL1] = exec_imul1;
    table[OP_IMUL] = exec_imul;
    table[OP_DIV] = exec_div;
    table[OP_IDIV] = exec_idiv;
    table[OP_ROL] = exec_rol;
    table[OP_ROR] = exec_ror;
    table[OP_RCL] = exec_rcl;
    table[OP_RCR] = exec_rcr;
    table[OP_SHL] = exec_shl;
    table[OP_SHR] = exec_shr;
    table[OP_SAR] = exec_sar;
    table[OP_SHLD] = exec_shld;
    table[OP_SHRD] = exec_shrd;
    table[OP_DAA] = exec_daa;
    table[OP_DAS] = exec_das;
    table[OP_AAA] = exec_aaa;
    table[OP_AAS] = exec_aas;
    table[OP_AAM] = exec_aam;
    table[OP_AAD] = exec_aad;
    table[OP_SALC] = exec_salc;
    table[OP_BT] = exec_bt;
    table[OP_BTS] = exec_bts;
    table[OP_BTR] = exec_btr;
    table[OP_BTC] = exec_btc;
    table[OP_BSF] = exec_bsf;
    table[OP_BSR] = exec_bsr;
    table[OP_MOV] = exec_mov;
    table[OP_MOVZX] = exec_movzx;
    table[OP_MOVSX] = exec_movsx;
    table[OP_LEA] = exec_lea;
    table[OP_XCHG] = exec_xchg;
    table[OP_XADD] = exec_xadd;
    table[OP_CMPXCHG] = exec_cmpxchg;
    table[OP_CMPXCHG8B] = exec_cmpxchg8b;
    table[OP_BSWAP] = exec_bswap;
    table[OP_CMOVCC] = exec_cmovcc;
    table[OP_SETCC] = exec_setcc;
    table[OP_CBW] = exec_cbw;
    table[OP_CWD] = exec_cwd;
    table[OP_LAHF] = exec_lahf;
    table[OP_SAHF] = exec_sahf;
    table[OP_CMC] = exec_cmc;
    table[OP_CLC] = exec_clc;
    table[OP_STC] = exec_stc;
    table[OP_CLD] = exec_cld;
    table[OP_STD] = exec_std;
    table[OP_XLAT] = exec_xlat;
    table[OP_NOP] = exec_nop;
    table[OP_BOUND] = exec_bound;
}

/* ---- specialised forms -------------------------------------------------- */

/* exec_select_int picks, when the run loop caches a decoded instruction, a
 * handler specialised for its form (32-bit operands, 32-bit addressing) for
 * the most frequent instructions of compiled code. Each one computes what
 * the generic handler above computes for that form, without re-examining
 * operand kinds and sizes; memory goes through the inline fast path
 * (cpu_host_ptr), and where that does not apply, through the generic code.
 * The generic handlers stay the reference (hostdiff runs both paths). */

/* insn_ea for 32-bit addressing */
static inline uint32_t ea32(const struct cpu *cpu, const struct insn *in)
{
    uint32_t ea = (uint32_t)in->disp;
    if (in->ea_base != EA_NONE)
        ea += cpu->gpr[in->ea_base];
    if (in->ea_index != EA_NONE)
        ea += cpu->gpr[in->ea_index] << in->ea_scale;
    return ea;
}

/* ALU forms: r32,r32  r32,imm32  r32,m32  m32,r32  m32,imm32. The memory-
 * destination forms translate once with write intent (for CMP/TEST, read
 * intent) and fall back to the generic NAME_mem when that is not direct. */
#define ALU_FORMS(NAME, EXPR, LAZY, WRITES)                                    \
    static void NAME##_rr32(struct cpu *cpu, const struct insn *in)           \
    {                                                                          \
        uint32_t a = cpu->gpr[in->opnd[0].reg], b = cpu->gpr[in->opnd[1].reg]; \
        uint32_t r = (EXPR);                                                   \
        if (WRITES)                                                            \
            cpu->gpr[in->opnd[0].reg] = r;                                     \
        lf_set(cpu, LAZY, r, a, b, 4);                                         \
    }                                                                          \
    static void NAME##_ri32(struct cpu *cpu, const struct insn *in)           \
    {                                                                          \
        uint32_t a = cpu->gpr[in->opnd[0].reg], b = in->imm;                   \
        uint32_t r = (EXPR);                                                   \
        if (WRITES)                                                            \
            cpu->gpr[in->opnd[0].reg] = r;                                     \
        lf_set(cpu, LAZY, r, a, b, 4);                                         \
    }                                                                          \
    static void NAME##_rm32(struct cpu *cpu, const struct insn *in)           \
    {                                                                          \
        uint32_t b = cpu_read_sized(cpu, in->seg, ea32(cpu, in), 4);           \
        uint32_t a = cpu->gpr[in->opnd[0].reg];                                \
        uint32_t r = (EXPR);                                                   \
        if (WRITES)                                                            \
            cpu->gpr[in->opnd[0].reg] = r;                                     \
        lf_set(cpu, LAZY, r, a, b, 4);                                         \
    }                                                                          \
    static inline void NAME##_m32(struct cpu *cpu, const struct insn *in,     \
                                  bool imm_source)                             \
    {                                                                          \
        uint8_t *p = cpu_host_ptr(cpu, in->seg, ea32(cpu, in), 4,              \
                                  WRITES ? MEM_WRITE : MEM_READ);              \
        if (!p) {                                                              \
            NAME##_mem(cpu, in);                                               \
            return;                                                            \
        }                                                                      \
        uint32_t a = host_load(p, 4);                                          \
        uint32_t b = imm_source ? in->imm : cpu->gpr[in->opnd[1].reg];         \
        uint32_t r = (EXPR);                                                   \
        if (WRITES)                                                            \
            host_store(p, r, 4);                                               \
        lf_set(cpu, LAZY, r, a, b, 4);                                         \
    }                                                                          \
    static void NAME##_mr32(struct cpu *cpu, const struct insn *in) { NAME##_m32(cpu, in, false); } \
    static void NAME##_mi32(struct cpu *cpu, const struct insn *in) { NAME##_m32(cpu, in, true); }

ALU_FORMS(add, a + b, LF_ADD, 1)
ALU_FORMS(or, a | b, LF_LOGIC, 1)
ALU_FORMS(and, a & b, LF_LOGIC, 1)
ALU_FORMS(sub, a - b, LF_SUB, 1)
ALU_FORMS(xor, a ^ b, LF_LOGIC, 1)
ALU_FORMS(cmp, a - b, LF_SUB, 0)
ALU_FORMS(test, a & b, LF_LOGIC, 0)

static void mov_rr32(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = cpu->gpr[in->opnd[1].reg];
}

static void mov_ri32(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = in->imm;
}

static void mov_rm32(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = cpu_read_sized(cpu, in->seg, ea32(cpu, in), 4);
}

static void mov_mr32(struct cpu *cpu, const struct insn *in)
{
    cpu_write_sized(cpu, in->seg, ea32(cpu, in), cpu->gpr[in->opnd[1].reg], 4);
}

/* [base + disp], the most common address form (locals, fields) */
static inline bool ea_is_base_disp(const struct insn *in)
{
    return in->ea_base != EA_NONE && in->ea_index == EA_NONE;
}

static void mov_rm32_bd(struct cpu *cpu, const struct insn *in)
{
    uint32_t ea = cpu->gpr[in->ea_base] + (uint32_t)in->disp;
    cpu->gpr[in->opnd[0].reg] = cpu_read_sized(cpu, in->seg, ea, 4);
}

static void mov_mr32_bd(struct cpu *cpu, const struct insn *in)
{
    uint32_t ea = cpu->gpr[in->ea_base] + (uint32_t)in->disp;
    cpu_write_sized(cpu, in->seg, ea, cpu->gpr[in->opnd[1].reg], 4);
}

static void mov_mi32(struct cpu *cpu, const struct insn *in)
{
    cpu_write_sized(cpu, in->seg, ea32(cpu, in), in->imm, 4);
}

static void mov_rm8(struct cpu *cpu, const struct insn *in)
{
    cpu_set_reg8(cpu, in->opnd[0].reg, (uint8_t)cpu_read_sized(cpu, in->seg, ea32(cpu, in), 1));
}

static void mov_mr8(struct cpu *cpu, const struct insn *in)
{
    cpu_write_sized(cpu, in->seg, ea32(cpu, in), cpu_reg8(cpu, in->opnd[1].reg), 1);
}

static void movzx_r32_m8(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = cpu_read_sized(cpu, in->seg, ea32(cpu, in), 1);
}

static void movzx_r32_r8(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = cpu_reg8(cpu, in->opnd[1].reg);
}

static void lea_r32(struct cpu *cpu, const struct insn *in)
{
    cpu->gpr[in->opnd[0].reg] = ea32(cpu, in);
}

static inline void inc_dec_r32(struct cpu *cpu, const struct insn *in, uint32_t delta,
                               enum lazy_op op)
{
    uint32_t a = cpu->gpr[in->opnd[0].reg];
    uint32_t r = a + delta;
    uint32_t carry = lf_carry(cpu);
    cpu->gpr[in->opnd[0].reg] = r;
    lf_set(cpu, op, r, a, carry, 4);
}

static inline void inc_dec_m32(struct cpu *cpu, const struct insn *in, uint32_t delta,
                               enum lazy_op op)
{
    uint8_t *p = cpu_host_ptr(cpu, in->seg, ea32(cpu, in), 4, MEM_WRITE);
    if (!p) {
        inc_dec_mem(cpu, in, delta, op);
        return;
    }
    uint32_t a = host_load(p, 4);
    uint32_t r = a + delta;
    host_store(p, r, 4);
    lf_set(cpu, op, r, a, lf_carry(cpu), 4);
}

static void inc_r32(struct cpu *cpu, const struct insn *in) { inc_dec_r32(cpu, in, 1, LF_INC); }
static void dec_r32(struct cpu *cpu, const struct insn *in) { inc_dec_r32(cpu, in, (uint32_t)-1, LF_DEC); }
static void inc_m32(struct cpu *cpu, const struct insn *in) { inc_dec_m32(cpu, in, 1, LF_INC); }
static void dec_m32(struct cpu *cpu, const struct insn *in) { inc_dec_m32(cpu, in, (uint32_t)-1, LF_DEC); }

/* Shifts of a 32-bit register by an immediate or CL. */
static void shl_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu->gpr[in->opnd[0].reg];
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = a << count;
    cpu->gpr[in->opnd[0].reg] = r;
    lf_set(cpu, LF_SHL, r, a, count, 4);
}

static void shr_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu->gpr[in->opnd[0].reg];
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = a >> count;
    cpu->gpr[in->opnd[0].reg] = r;
    lf_set(cpu, LF_SHR, r, a, count, 4);
}

static void sar_r32(struct cpu *cpu, const struct insn *in)
{
    uint32_t a = cpu->gpr[in->opnd[0].reg];
    uint32_t count = shift_count(cpu, in, 1);
    if (count == 0)
        return;
    uint32_t r = (uint32_t)((int32_t)a >> count);
    cpu->gpr[in->opnd[0].reg] = r;
    lf_set(cpu, LF_SAR, r, a, count, 4);
}

static inline bool is_reg(const struct opnd *o, int size) { return o->kind == OPND_REG && o->size == size; }
static inline bool is_mem(const struct opnd *o, int size) { return o->kind == OPND_MEM && o->size == size; }
/* the first immediate, already 32 bits wide (so its mask changes nothing) */
static inline bool is_imm32(const struct opnd *o) { return o->kind == OPND_IMM && o->size == 4 && o->reg == 0; }

exec_fn exec_select_int(const struct insn *in)
{
    const struct opnd *d = &in->opnd[0], *s = &in->opnd[1];
    bool a32 = in->addrsize == 4;
    /* the operand form of a two-operand ALU instruction: 0 rr, 1 ri, 2 rm, 3 mr, 4 mi */
    int form = -1;
    if (in->nopnd == 2) {
        if (is_reg(d, 4) && is_reg(s, 4))
            form = 0;
        else if (is_reg(d, 4) && is_imm32(s))
            form = 1;
        else if (is_reg(d, 4) && is_mem(s, 4) && a32)
            form = 2;
        else if (is_mem(d, 4) && is_reg(s, 4) && a32)
            form = 3;
        else if (is_mem(d, 4) && is_imm32(s) && a32)
            form = 4;
    }
#define PICK(NAME) (exec_fn[]){ NAME##_rr32, NAME##_ri32, NAME##_rm32, NAME##_mr32, NAME##_mi32 }[form]
    switch (in->op) {
    case OP_ADD:  return form >= 0 ? PICK(add) : NULL;
    case OP_OR:   return form >= 0 ? PICK(or) : NULL;
    case OP_AND:  return form >= 0 ? PICK(and) : NULL;
    case OP_SUB:  return form >= 0 ? PICK(sub) : NULL;
    case OP_XOR:  return form >= 0 ? PICK(xor) : NULL;
    case OP_CMP:  return form >= 0 ? PICK(cmp) : NULL;
    case OP_TEST: return form >= 0 ? PICK(test) : NULL;
    case OP_MOV:
        if (in->nopnd != 2)
            return NULL;
        if (form == 0) return mov_rr32;
        if (form == 1) return mov_ri32;
        if (form == 2) return ea_is_base_disp(in) ? mov_rm32_bd : mov_rm32;
        if (form == 3) return ea_is_base_disp(in) ? mov_mr32_bd : mov_mr32;
        if (form == 4) return mov_mi32;
        if (a32 && is_reg(d, 1) && is_mem(s, 1)) return mov_rm8;
        if (a32 && is_mem(d, 1) && is_reg(s, 1)) return mov_mr8;
        return NULL;
    case OP_MOVZX:
        if (in->nopnd == 2 && is_reg(d, 4) && is_mem(s, 1) && a32) return movzx_r32_m8;
        if (in->nopnd == 2 && is_reg(d, 4) && is_reg(s, 1)) return movzx_r32_r8;
        return NULL;
    case OP_LEA:
        return in->nopnd == 2 && is_reg(d, 4) && s->kind == OPND_MEM && a32 ? lea_r32 : NULL;
    case OP_INC:
    case OP_DEC: {
        bool inc = in->op == OP_INC;
        if (in->nopnd == 1 && is_reg(d, 4)) return inc ? inc_r32 : dec_r32;
        if (in->nopnd == 1 && is_mem(d, 4) && a32) return inc ? inc_m32 : dec_m32;
        return NULL;
    }
    case OP_SHL:
    case OP_SHR:
    case OP_SAR:
        if (in->nopnd != 2 || !is_reg(d, 4) || (s->kind != OPND_IMM && s->kind != OPND_REG))
            return NULL;
        return in->op == OP_SHL ? shl_r32 : in->op == OP_SHR ? shr_r32 : sar_r32;
    default:
        return NULL;
    }
#undef PICK
}
