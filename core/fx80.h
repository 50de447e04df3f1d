/*
 * fx80 - portable 80-bit x87 extended-precision arithmetic.
 *
 * Emulates the x87 FPU's arithmetic bit for bit (result bits, exception
 * flags, C1 "rounded up") using only integer C, so an emulator gives the same
 * answers on any host.  Transcendentals are computed to about 120 bits and
 * rounded once; real x87 hardware is not correctly rounded there, so they
 * agree with it to within one unit in the last place, not bit for bit.
 *
 * Invariants and conventions:
 *  - struct fx80 holds the raw register image: 64-bit significand with an
 *    explicit integer bit (J, bit 63) and a 16-bit sign/biased-exponent word
 *    (bias 16383).  Any bit pattern may be passed in; encodings the 387 and
 *    later reject (unnormals, pseudo-infinities, pseudo-NaNs) are treated as
 *    invalid operands exactly like the hardware.
 *  - There is no global state.  Every operation takes a struct fx80_env:
 *    rounding control and precision control are read from it, raised
 *    exceptions are ORed into env->exceptions (sticky, x87 status-word bit
 *    layout), and env->c1_round_up is overwritten by every operation (1 when
 *    the delivered result was rounded away from the exact value in magnitude,
 *    as x87 reports in C1; 0 otherwise).
 *
 * Exception model:
 *  The library always computes what the x87 does with the exception masked
 *  and reports every exception it raised.  The caller (the instruction
 *  layer) compares env->exceptions with the control-word masks:
 *   - IE, ZE, DE unmasked: the x87 does not write any destination (register
 *     or memory) and raises #MF; the returned value must be discarded.
 *   - PE unmasked: the result is delivered, then the fault is taken.
 *   - OE/UE unmasked on an operation whose destination is a register
 *     (add/sub/mul/div/sqrt/scale/prem/transcendentals/round_pack): x87
 *     delivers the rounded result with its exponent wrapped by 24576
 *     (divided by 2^24576 on overflow, multiplied on underflow).  Put the OE
 *     and UE bits that are unmasked in env->unmasked and the library returns
 *     that biased value directly.  With UE unmasked, underflow is also
 *     signalled for exact tiny results (IEEE "trapped underflow" rule).
 *   - OE/UE unmasked on a store to memory (fx80_to_f32/f64): x87 stores
 *     nothing and leaves the register alone.  With env->unmasked set the
 *     library then reports just OE or UE (no PE, C1 = 0, UE even for an
 *     exact tiny value), exactly as the hardware's status word shows, and
 *     returns a value the caller must not store.
 *  Precision control (env->precision) applies only to add, sub, mul, div,
 *  sqrt and fx80_round_pack/fx80_round_to_precision, as on the hardware;
 *  every other operation delivers 64-bit significands.
 */
#ifndef FX80_H
#define FX80_H

#include <stdbool.h>
#include <stdint.h>

struct fx80 {
    uint64_t mant;      /* significand, explicit integer bit at bit 63 */
    uint16_t sign_exp;  /* bit 15 sign, bits 0-14 biased exponent */
};

struct fx80_env {
    uint8_t rounding;    /* FX80_RC_*: x87 RC field encoding */
    uint8_t precision;   /* FX80_PC_*: x87 PC field encoding */
    uint8_t exceptions;  /* sticky raised FX80_EX_* flags */
    uint8_t c1_round_up; /* last result was rounded up (x87 C1) */
    uint8_t unmasked;    /* FX80_EX_OE/UE bits unmasked in the control word */
};

enum { FX80_RC_NEAREST = 0, FX80_RC_DOWN = 1, FX80_RC_UP = 2, FX80_RC_ZERO = 3 };
/* PC value 1 is reserved on x87; it is treated as 64-bit here. */
enum { FX80_PC_24 = 0, FX80_PC_53 = 2, FX80_PC_64 = 3 };

/* Exception flags, x87 status-word bits 0-5. */
#define FX80_EX_IE 0x01u /* invalid operation */
#define FX80_EX_DE 0x02u /* denormal operand */
#define FX80_EX_ZE 0x04u /* zero divide */
#define FX80_EX_OE 0x08u /* overflow */
#define FX80_EX_UE 0x10u /* underflow */
#define FX80_EX_PE 0x20u /* precision (inexact) */

/* Condition-code bits as they sit in the x87 status word. */
#define FX80_C0 0x0100u
#define FX80_C1 0x0200u
#define FX80_C2 0x0400u
#define FX80_C3 0x4000u

#define FX80_EXP_BIAS 16383
#define FX80_BIAS_ADJUST 24576 /* exponent wrap for unmasked OE/UE */

/* Builds an env from an x87 control word (masks, PC, RC); flags cleared.
 * Inline: every x87 instruction builds one. */
static inline struct fx80_env fx80_env_from_cw(uint16_t control_word)
{
    struct fx80_env env = {
        .rounding = (uint8_t)((control_word >> 10) & 3),
        .precision = (uint8_t)((control_word >> 8) & 3),
        .unmasked = (uint8_t)(~control_word & (FX80_EX_OE | FX80_EX_UE)),
    };
    return env;
}

/* ---- construction and classification ---- */
struct fx80 fx80_make(bool sign, uint16_t biased_exp, uint64_t mant);
bool fx80_sign(struct fx80 x);
bool fx80_is_zero(struct fx80 x);
bool fx80_is_inf(struct fx80 x);
bool fx80_is_nan(struct fx80 x);        /* quiet or signalling, J bit set */
bool fx80_is_snan(struct fx80 x);
bool fx80_is_denormal(struct fx80 x);   /* exponent 0, nonzero (incl. pseudo) */
bool fx80_is_unsupported(struct fx80 x);/* unnormal, pseudo-inf, pseudo-NaN */
/* "Real indefinite": the default QNaN (sign 1, exp 0x7FFF, C000..0). */
struct fx80 fx80_indefinite(void);

/* FXAM: returns C3/C2/C0 class code and C1 = sign, status-word layout.
 * (An empty register, code C3|C0, is for the caller to report.) */
uint16_t fx80_examine(struct fx80 x);

/* ---- basic arithmetic (honour precision control) ----
 * For FIADD/FISUB(R)/FIMUL/FIDIV(R) convert the integer with fx80_from_i16
 * or fx80_from_i32 (exact, no flags) and pass it here.  For the m32/m64
 * forms use fx80_arith_f32/f64 below instead of fx80_from_f32 + op: a
 * single instruction neither reports DE for a denormal memory operand when
 * a NaN or a zero divide decides the result nor quiets an SNaN before NaN
 * selection, which a separate conversion would. */
struct fx80 fx80_add(struct fx80_env *env, struct fx80 a, struct fx80 b);
struct fx80 fx80_sub(struct fx80_env *env, struct fx80 a, struct fx80 b); /* a-b */
struct fx80 fx80_mul(struct fx80_env *env, struct fx80 a, struct fx80 b);
struct fx80 fx80_div(struct fx80_env *env, struct fx80 a, struct fx80 b); /* a/b */
struct fx80 fx80_sqrt(struct fx80_env *env, struct fx80 a);

enum fx80_op { FX80_OP_ADD, FX80_OP_SUB, FX80_OP_SUBR, FX80_OP_MUL, FX80_OP_DIV, FX80_OP_DIVR };
/* op applied to st (ST0 or ST(i)) and other: SUB = st - other,
 * SUBR = other - st, DIV = st / other, DIVR = other / st. */
struct fx80 fx80_arith(struct fx80_env *env, enum fx80_op op, struct fx80 st, struct fx80 other);
/* FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR with a binary32/binary64 memory operand
 * (raw IEEE bits). */
struct fx80 fx80_arith_f32(struct fx80_env *env, enum fx80_op op, struct fx80 st, uint32_t m32);
struct fx80 fx80_arith_f64(struct fx80_env *env, enum fx80_op op, struct fx80 st, uint64_t m64);

/* Rounds sign * (sig_hi + sig_lo / 2^64) / 2^63 * 2^(biased_exp - 16383),
 * i.e. sig_hi in the place of an fx80 significand and sig_lo extra fraction
 * bits below it, to env's precision control and the 15-bit exponent range,
 * raising OE/UE/PE and setting C1 like an x87 arithmetic result.
 * biased_exp may be out of range; the significand need not be normalized. */
struct fx80 fx80_round_pack(struct fx80_env *env, bool sign, int32_t biased_exp,
                            uint64_t sig_hi, uint64_t sig_lo);
/* Rounds an existing value to env's precision control, as x87 arithmetic
 * would (denormals included); zeros, infinities, NaNs and invalid
 * encodings pass through unchanged and without flags. */
struct fx80 fx80_round_to_precision(struct fx80_env *env, struct fx80 x);

/* ---- remainder, rounding, scaling ---- */
/* FPREM (truncating) / FPREM1 (IEEE, nearest) of a (ST0) by b (ST1).
 * *cc receives C0,C3,C1 = quotient bits Q2,Q1,Q0 and C2 = 1 when the
 * reduction is only partial (exponent difference >= 64; run it again). */
struct fx80 fx80_prem(struct fx80_env *env, struct fx80 a, struct fx80 b, uint16_t *cc);
struct fx80 fx80_prem1(struct fx80_env *env, struct fx80 a, struct fx80 b, uint16_t *cc);
/* FRNDINT: round to an integer by env->rounding (64-bit, ignores PC). */
struct fx80 fx80_rndint(struct fx80_env *env, struct fx80 a);
/* FSCALE: a * 2^trunc(b). */
struct fx80 fx80_scale(struct fx80_env *env, struct fx80 a, struct fx80 b);
/* FXTRACT: *exponent = unbiased exponent of a as a value, *significand = a
 * with exponent forced to 0 (i.e. in [1,2)); FXTRACT pushes significand. */
void fx80_xtract(struct fx80_env *env, struct fx80 a, struct fx80 *exponent,
                 struct fx80 *significand);

/* ---- comparison ---- */
enum fx80_cmp { FX80_CMP_LESS, FX80_CMP_EQUAL, FX80_CMP_GREATER, FX80_CMP_UNORDERED };
/* FCOM: any NaN raises IE.  FUCOM (quiet): only SNaN / unsupported raise IE. */
enum fx80_cmp fx80_compare(struct fx80_env *env, struct fx80 a, struct fx80 b);
enum fx80_cmp fx80_compare_quiet(struct fx80_env *env, struct fx80 a, struct fx80 b);
/* FCOM m32/m64: st against a binary32/64 memory operand (see fx80_arith_f32). */
enum fx80_cmp fx80_compare_f32(struct fx80_env *env, struct fx80 st, uint32_t m32);
enum fx80_cmp fx80_compare_f64(struct fx80_env *env, struct fx80 st, uint64_t m64);
/* FCOM-style C3/C2/C0 for a comparison result (FCOMI maps C3->ZF, C2->PF, C0->CF). */
uint16_t fx80_cmp_to_cc(enum fx80_cmp r);

/* ---- integer conversions ---- */
struct fx80 fx80_from_i16(int16_t v); /* FILD: exact, no flags */
struct fx80 fx80_from_i32(int32_t v);
struct fx80 fx80_from_i64(int64_t v);
/* FIST/FISTP: round by env->rounding; NaN, infinity or out of range give
 * IE and the integer indefinite (most negative value). */
int16_t fx80_to_i16(struct fx80_env *env, struct fx80 a);
int32_t fx80_to_i32(struct fx80_env *env, struct fx80 a);
int64_t fx80_to_i64(struct fx80_env *env, struct fx80 a);

/* ---- binary32/binary64 conversions (FLD/FST m32/m64), raw IEEE bits ---- */
struct fx80 fx80_from_f32(struct fx80_env *env, uint32_t bits);
struct fx80 fx80_from_f64(struct fx80_env *env, uint64_t bits);
uint32_t fx80_to_f32(struct fx80_env *env, struct fx80 a);
uint64_t fx80_to_f64(struct fx80_env *env, struct fx80 a);

/* ---- packed BCD (FBLD/FBSTP), 10 bytes little-endian, byte 9 bit 7 sign ---- */
struct fx80 fx80_from_bcd(const uint8_t bcd[10]);
void fx80_to_bcd(struct fx80_env *env, struct fx80 a, uint8_t bcd[10]);

/* ---- constants (FLD1, FLDZ, FLDPI, ...), rounded per env->rounding ---- */
enum fx80_const_id { FX80_CONST_ONE, FX80_CONST_ZERO, FX80_CONST_PI, FX80_CONST_L2E,
                     FX80_CONST_L2T, FX80_CONST_LG2, FX80_CONST_LN2 };
struct fx80 fx80_const(struct fx80_env *env, enum fx80_const_id which);

/* ---- transcendentals (64-bit results, within 1 ulp of hardware) ----
 * Results are rounded once from ~124 correct bits, so they are (almost
 * always) correctly rounded; the x87 is not, and differs by one ulp in a
 * few percent of cases.  PE is reported for every finite nonzero result,
 * as the hardware does.  Special operands (NaN, infinities, zeros,
 * denormals, invalid encodings) follow the hardware exactly.
 * fx80_sin/cos/sincos/tan return false (the caller sets C2 and leaves ST0
 * untouched) when |a| >= 2^63, true otherwise (C2 = 0); they reduce
 * arguments exactly against the x87's 66-bit pi, so large arguments give
 * the hardware's values rather than the mathematically exact ones. */
bool fx80_sin(struct fx80_env *env, struct fx80 a, struct fx80 *result);
bool fx80_cos(struct fx80_env *env, struct fx80 a, struct fx80 *result);
/* FSINCOS: ST0 becomes sin, then cos is pushed; C1 reflects the cosine. */
bool fx80_sincos(struct fx80_env *env, struct fx80 a, struct fx80 *sin_out,
                 struct fx80 *cos_out);
/* FPTAN: *result = tan(a); the caller pushes 1.0 afterwards. */
bool fx80_tan(struct fx80_env *env, struct fx80 a, struct fx80 *result);
/* FPATAN: atan2(y = ST1, x = ST0). */
struct fx80 fx80_atan2(struct fx80_env *env, struct fx80 y, struct fx80 x);
/* F2XM1: 2^a - 1 (the hardware defines it only for -1 <= a <= 1; this
 * computes the true value outside that range too). */
struct fx80 fx80_f2xm1(struct fx80_env *env, struct fx80 a);
/* FYL2X: y * log2(x); FYL2XP1: y * log2(x + 1) (hardware-defined only for
 * |x| < 1 - sqrt(2)/2; the true value is computed elsewhere). */
struct fx80 fx80_yl2x(struct fx80_env *env, struct fx80 y, struct fx80 x);
struct fx80 fx80_yl2xp1(struct fx80_env *env, struct fx80 y, struct fx80 x);

#endif /* FX80_H */
