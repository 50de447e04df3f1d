/*
 * fx80 - portable x87 80-bit extended-precision arithmetic (see fx80.h).
 *
 * Everything is done with 64-bit integers (optionally unsigned __int128 as a
 * fast path for two primitives).  Exact intermediate results are formed as a
 * 128-bit significand "hi:lo" plus a biased exponent and handed to one
 * rounding routine, so every operation rounds exactly once, the way the x87
 * does.  Behaviour chosen to match real hardware (checked differentially by
 * tests/test_fx80.c against the host's x87):
 *  - tininess is detected after rounding (at unbounded exponent range);
 *  - with PC < 64 the significand is rounded at bit 64-PC even for results
 *    in the denormal range (full 15-bit exponent range kept);
 *  - NaN propagation: SNaN+QNaN -> the QNaN, two of a kind -> the larger
 *    significand (ties: the positive one), always returned quiet;
 *  - unnormals, pseudo-infinities and pseudo-NaNs are invalid operands
 *    producing the real indefinite; pseudo-denormals are accepted as
 *    denormals (biased exponent 1);
 *  - DE is not reported when an invalid-operation or zero-divide exception
 *    decides the result (x87 exception priority), nor by FST/FIST/FBSTP.
 * Transcendentals work in a 128-bit-significand format (struct xf) and are
 * rounded once; argument reduction for sin/cos/tan is exact against the
 * x87's 66-bit pi.  No mutable global state: constant tables only.
 */
#include "fx80.h"

#include <stddef.h>

#define EXP_BIAS 16383
#define EXP_INF 0x7FFF
#define J_BIT UINT64_C(0x8000000000000000)
#define QUIET_BIT UINT64_C(0x4000000000000000)

#define EX_IE FX80_EX_IE
#define EX_DE FX80_EX_DE
#define EX_ZE FX80_EX_ZE
#define EX_OE FX80_EX_OE
#define EX_UE FX80_EX_UE
#define EX_PE FX80_EX_PE

#if defined(__SIZEOF_INT128__) && !defined(FX80_NO_INT128)
#define FX80_HAVE_INT128 1
__extension__ typedef unsigned __int128 fx_u128; /* __extension__: quiet under -Wpedantic */
#endif

/* ------------------------------------------------------------------------ */
/* 64/128-bit integer helpers                                               */
/* ------------------------------------------------------------------------ */

static inline int clz64(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x & J_BIT)) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* Full 64x64 -> 128 product. */
static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#ifdef FX80_HAVE_INT128
    fx_u128 p = (fx_u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* (hi:lo) / d for hi < d; returns the 64-bit quotient and the remainder. */
static uint64_t div128by64(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#ifdef FX80_HAVE_INT128
    fx_u128 n = ((fx_u128)hi << 64) | lo;
    uint64_t q = (uint64_t)(n / d);
    *rem = (uint64_t)(n - (fx_u128)q * d);
    return q;
#else
    /* Long division in 32-bit digits (Knuth D specialised to 2 digits). */
    int s = clz64(d);
    if (s) {
        d <<= s;
        hi = (hi << s) | (lo >> (64 - s));
        lo <<= s;
    }
    uint64_t d1 = d >> 32, d0 = (uint32_t)d;
    uint64_t l1 = lo >> 32, l0 = (uint32_t)lo;
    uint64_t q1 = hi / d1, r = hi - q1 * d1;
    while (q1 >> 32 || q1 * d0 > ((r << 32) | l1)) {
        q1--;
        r += d1;
        if (r >> 32)
            break;
    }
    uint64_t mid = ((hi << 32) | l1) - q1 * d;
    uint64_t q0 = mid / d1;
    r = mid - q0 * d1;
    while (q0 >> 32 || q0 * d0 > ((r << 32) | l0)) {
        q0--;
        r += d1;
        if (r >> 32)
            break;
    }
    *rem = (((mid << 32) | l0) - q0 * d) >> s;
    return (q1 << 32) | q0;
#endif
}

/* Shift hi:lo right by n, ORing every bit shifted out into bit 0 ("jam"). */
static inline void shr128_jam(uint64_t *hi, uint64_t *lo, uint32_t n)
{
    uint64_t h = *hi, l = *lo;
    if (n == 0)
        return;
    if (n < 64) {
        *lo = (h << (64 - n)) | (l >> n) | ((l << (64 - n)) != 0);
        *hi = h >> n;
    } else if (n == 64) {
        *lo = h | (l != 0);
        *hi = 0;
    } else if (n < 128) {
        *lo = (h >> (n - 64)) | (((h << (128 - n)) | l) != 0);
        *hi = 0;
    } else {
        *lo = (h | l) != 0;
        *hi = 0;
    }
}

static void shl128(uint64_t *hi, uint64_t *lo, uint32_t n) /* n < 128 */
{
    if (n == 0)
        return;
    if (n < 64) {
        *hi = (*hi << n) | (*lo >> (64 - n));
        *lo <<= n;
    } else {
        *hi = *lo << (n - 64);
        *lo = 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Operand classification                                                   */
/* ------------------------------------------------------------------------ */

enum fx_class { FXC_ZERO, FXC_DENORMAL, FXC_NORMAL, FXC_INF, FXC_QNAN, FXC_SNAN, FXC_UNSUPPORTED };

static enum fx_class classify(struct fx80 x)
{
    uint32_t e = x.sign_exp & EXP_INF;
    if (e == 0)
        return x.mant ? FXC_DENORMAL : FXC_ZERO;
    if (!(x.mant & J_BIT))
        return FXC_UNSUPPORTED;
    if (e == EXP_INF) {
        if (!(x.mant << 1))
            return FXC_INF;
        return (x.mant & QUIET_BIT) ? FXC_QNAN : FXC_SNAN;
    }
    return FXC_NORMAL;
}

static inline bool is_nan_class(enum fx_class c) { return c == FXC_QNAN || c == FXC_SNAN; }

static inline bool sign_of(struct fx80 x) { return x.sign_exp >> 15; }

static inline struct fx80 make(bool sign, uint32_t exp, uint64_t mant)
{
    struct fx80 r = {mant, (uint16_t)(((uint32_t)sign << 15) | (exp & EXP_INF))};
    return r;
}

static inline struct fx80 zero_of(bool sign) { return make(sign, 0, 0); }
static inline struct fx80 inf_of(bool sign) { return make(sign, EXP_INF, J_BIT); }
static inline struct fx80 default_nan(void) { return make(1, EXP_INF, J_BIT | QUIET_BIT); }

/* Finite nonzero operand as biased exponent (may go below 1 for denormals)
 * and significand normalised so bit 63 is set. */
static void unpack(struct fx80 x, int32_t *exp, uint64_t *mant)
{
    int32_t e = x.sign_exp & EXP_INF;
    uint64_t m = x.mant;
    if (e == 0) {
        /* Denormals and pseudo-denormals both weigh 2^(1-bias). */
        int s = clz64(m);
        e = 1 - s;
        m <<= s;
    }
    *exp = e;
    *mant = m;
}

static inline void raise_flags(struct fx80_env *env, uint8_t flags) { env->exceptions |= flags; }

static struct fx80 invalid(struct fx80_env *env)
{
    raise_flags(env, EX_IE);
    return default_nan();
}

/* x87 rules for an operation with at least one NaN operand (and no
 * unsupported ones): SNaN raises IE; SNaN vs QNaN yields the QNaN; two of
 * the same kind yield the larger significand, ties the positive one. */
static struct fx80 propagate_nan2(struct fx80_env *env, struct fx80 a, enum fx_class ca,
                                  struct fx80 b, enum fx_class cb)
{
    struct fx80 r;
    if (ca == FXC_SNAN || cb == FXC_SNAN)
        raise_flags(env, EX_IE);
    if (is_nan_class(ca) && is_nan_class(cb)) {
        if (ca != cb)
            r = ca == FXC_QNAN ? a : b;
        else if (a.mant != b.mant)
            r = a.mant > b.mant ? a : b;
        else
            r = sign_of(a) ? b : a;
    } else {
        r = is_nan_class(ca) ? a : b;
    }
    r.mant |= QUIET_BIT;
    return r;
}

static struct fx80 propagate_nan1(struct fx80_env *env, struct fx80 a, enum fx_class ca)
{
    if (ca == FXC_SNAN)
        raise_flags(env, EX_IE);
    a.mant |= QUIET_BIT;
    return a;
}

static int precision_bits(const struct fx80_env *env)
{
    switch (env->precision & 3) {
    case FX80_PC_24: return 24;
    case FX80_PC_53: return 53;
    default: return 64;
    }
}

/* ------------------------------------------------------------------------ */
/* The one rounding routine                                                 */
/* ------------------------------------------------------------------------ */

/* Rounding split of hi:lo keeping the top 64-drop bits of hi: returns them,
 * the first discarded bit and whether any later discarded bit is set. */
static void split_round(uint64_t hi, uint64_t lo, uint32_t drop, uint64_t *kept,
                        uint64_t *round_bit, bool *sticky)
{
    if (drop == 0) {
        *kept = hi;
        *round_bit = lo >> 63;
        *sticky = (lo << 1) != 0;
    } else {
        *kept = hi >> drop;
        *round_bit = (hi >> (drop - 1)) & 1;
        *sticky = (hi & ((UINT64_C(1) << (drop - 1)) - 1)) != 0 || lo != 0;
    }
}

/* Whether rounding 'kept' (with the given discarded bits) by the x87
 * rounding control increments its magnitude. */
static bool round_increment(uint8_t rounding, bool sign, uint64_t kept, uint64_t round_bit,
                            bool sticky)
{
    bool inexact = round_bit || sticky;
    switch (rounding & 3) {
    case FX80_RC_NEAREST: return round_bit && (sticky || (kept & 1));
    case FX80_RC_DOWN: return sign && inexact;
    case FX80_RC_UP: return !sign && inexact;
    default: return false;
    }
}

/* Masked-overflow result: infinity or the largest finite number at the
 * given precision, depending on rounding direction. */
static struct fx80 overflow_result(struct fx80_env *env, bool sign, int bits)
{
    bool to_inf;
    switch (env->rounding & 3) {
    case FX80_RC_NEAREST: to_inf = true; break;
    case FX80_RC_DOWN: to_inf = sign; break;
    case FX80_RC_UP: to_inf = !sign; break;
    default: to_inf = false; break;
    }
    raise_flags(env, EX_OE | EX_PE);
    env->c1_round_up = to_inf;
    if (to_inf)
        return inf_of(sign);
    return make(sign, EXP_INF - 1, ~UINT64_C(0) << (64 - bits));
}

/* Round sign * (hi + lo/2^64)/2^63 * 2^(exp-bias) to 'bits' significant
 * bits and the 15-bit exponent range.  always_inexact reports PE (and UE
 * for tiny results) even when hi:lo happens to be representable: for the
 * transcendentals hi:lo only approximates an irrational value. */
static struct fx80 round_pack_core(struct fx80_env *env, bool sign, int32_t exp, uint64_t hi,
                                   uint64_t lo, int bits, bool always_inexact)
{
    env->c1_round_up = 0;
    if (hi == 0 && lo == 0)
        return zero_of(sign);
    if (!(hi & J_BIT)) {
        if (hi == 0) {
            hi = lo;
            lo = 0;
            exp -= 64;
        }
        int s = clz64(hi);
        shl128(&hi, &lo, (uint32_t)s);
        exp -= s;
    }

    uint32_t drop = (uint32_t)(64 - bits);
    uint64_t kept, round_bit;
    bool sticky, inc;
    /* x87 detects tininess after rounding: a result just below 2^-16382
     * that rounds (at full exponent range) up to it is not tiny. */
    bool tiny = exp < 0;
    if (exp == 0) {
        split_round(hi, lo, drop, &kept, &round_bit, &sticky);
        tiny = !(kept == (~UINT64_C(0) >> drop) &&
                 round_increment(env->rounding, sign, kept, round_bit, sticky));
    }
    uint8_t raised = 0;
    if (tiny && (env->unmasked & EX_UE)) {
        /* Trapped underflow: deliver the exponent-wrapped result. */
        exp += FX80_BIAS_ADJUST;
        raised |= EX_UE;
        if (exp < 1) {
            /* Beyond even the wrapped range (only FSCALE gets here): the
             * hardware delivers a signed zero. */
            raise_flags(env, raised | EX_PE);
            return zero_of(sign);
        }
    }
    if (exp < 1) {
        int64_t shift = 1 - (int64_t)exp;
        shr128_jam(&hi, &lo, shift > 200 ? 200u : (uint32_t)shift);
        exp = 0;
    }

    split_round(hi, lo, drop, &kept, &round_bit, &sticky);
    bool inexact = round_bit || sticky || always_inexact;
    inc = round_increment(env->rounding, sign, kept, round_bit, sticky);
    if (inc) {
        kept++;
        if (drop == 0 ? kept == 0 : kept >> bits) {
            /* Carry out of the significand: 1.111.. rounded to 10.000.. */
            kept = drop == 0 ? J_BIT : kept >> 1;
            exp++;
        }
    }
    uint64_t mant = kept << drop;
    if (exp == 0 && (mant & J_BIT))
        exp = 1; /* denormal rounded up into the normal range */

    if (exp >= EXP_INF) {
        if (env->unmasked & EX_OE) {
            exp -= FX80_BIAS_ADJUST;
            raised |= EX_OE;
            if (exp >= EXP_INF) {
                /* Beyond even the wrapped range (only FSCALE gets here). */
                raise_flags(env, raised | EX_PE);
                env->c1_round_up = 1;
                return inf_of(sign);
            }
        } else {
            raise_flags(env, raised);
            return overflow_result(env, sign, bits);
        }
    }
    if (tiny && inexact)
        raised |= EX_UE;
    if (inexact)
        raised |= EX_PE;
    raise_flags(env, raised);
    env->c1_round_up = inc;
    return make(sign, (uint32_t)exp, mant);
}

#if defined(__GNUC__) || defined(__clang__)
#define FX80_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FX80_ALWAYS_INLINE inline
#endif

/* round_pack_core for the common case, inline in the arithmetic: hi:lo
 * normalised by at most a shift, and an exponent that leaves room for a
 * carry without reaching the overflow or the tiny range, so neither OE nor
 * UE can arise and rounding is a split, an increment and a carry check.
 * Anything else goes to round_pack_core. */
static FX80_ALWAYS_INLINE struct fx80 round_fast(struct fx80_env *env, bool sign, int32_t exp,
                                                 uint64_t hi, uint64_t lo, int bits)
{
    if (!(hi & J_BIT) && hi != 0) {   /* e.g. a product below 2^127 */
        int s = clz64(hi);
        hi = (hi << s) | (lo >> (64 - s));
        lo <<= s;
        exp -= s;
    }
    if (!(hi & J_BIT) || exp < 1 || exp > EXP_INF - 2)
        return round_pack_core(env, sign, exp, hi, lo, bits, false);
    uint32_t drop = (uint32_t)(64 - bits);
    uint64_t kept = hi >> drop;
    /* The discarded bits, left-aligned: the first one is the round bit;
     * lo only matters as sticky below a PC 24/53 cut (bit 0 is free). */
    uint64_t guard = drop ? (hi << (64 - drop)) | (lo != 0) : lo;
    bool inc = round_increment(env->rounding, sign, kept, guard >> 63, (guard << 1) != 0);
    uint64_t mant = (kept + inc) << drop;
    if (inc && mant == 0) {   /* carry out of the significand: 1.11..1 -> 10.00..0 */
        mant = J_BIT;
        exp++;
    }
    if (guard)
        raise_flags(env, EX_PE);
    env->c1_round_up = inc;
    return make(sign, (uint32_t)exp, mant);
}

static struct fx80 round_pack_bits(struct fx80_env *env, bool sign, int32_t exp, uint64_t hi,
                                   uint64_t lo, int bits)
{
    return round_fast(env, sign, exp, hi, lo, bits);
}

struct fx80 fx80_round_pack(struct fx80_env *env, bool sign, int32_t biased_exp,
                            uint64_t sig_hi, uint64_t sig_lo)
{
    /* Far outside the range every result over/underflows the same way;
     * clamping keeps the exponent arithmetic clear of int32 overflow. */
    if (biased_exp > (1 << 20))
        biased_exp = 1 << 20;
    if (biased_exp < -(1 << 20))
        biased_exp = -(1 << 20);
    return round_pack_bits(env, sign, biased_exp, sig_hi, sig_lo, precision_bits(env));
}

struct fx80 fx80_round_to_precision(struct fx80_env *env, struct fx80 x)
{
    enum fx_class c = classify(x);
    env->c1_round_up = 0;
    switch (c) {
    case FXC_ZERO:
    case FXC_INF:
    case FXC_QNAN:
    case FXC_SNAN:
    case FXC_UNSUPPORTED:
        return x;
    default: break;
    }
    int32_t e;
    uint64_t m;
    unpack(x, &e, &m);
    return round_pack_bits(env, sign_of(x), e, m, 0, precision_bits(env));
}

/* ------------------------------------------------------------------------ */
/* Public helpers                                                           */
/* ------------------------------------------------------------------------ */

struct fx80 fx80_make(bool sign, uint16_t biased_exp, uint64_t mant) { return make(sign, biased_exp, mant); }
bool fx80_sign(struct fx80 x) { return sign_of(x); }
bool fx80_is_zero(struct fx80 x) { return classify(x) == FXC_ZERO; }
bool fx80_is_inf(struct fx80 x) { return classify(x) == FXC_INF; }
bool fx80_is_nan(struct fx80 x) { return is_nan_class(classify(x)); }
bool fx80_is_snan(struct fx80 x) { return classify(x) == FXC_SNAN; }
bool fx80_is_denormal(struct fx80 x) { return classify(x) == FXC_DENORMAL; }
bool fx80_is_unsupported(struct fx80 x) { return classify(x) == FXC_UNSUPPORTED; }
struct fx80 fx80_indefinite(void) { return default_nan(); }

uint16_t fx80_examine(struct fx80 x)
{
    uint16_t c1 = sign_of(x) ? FX80_C1 : 0;
    switch (classify(x)) {
    case FXC_UNSUPPORTED: return c1;
    case FXC_QNAN:
    case FXC_SNAN: return c1 | FX80_C0;
    case FXC_NORMAL: return c1 | FX80_C2;
    case FXC_INF: return c1 | FX80_C2 | FX80_C0;
    case FXC_ZERO: return c1 | FX80_C3;
    default: return c1 | FX80_C3 | FX80_C2; /* denormal */
    }
}

/* ------------------------------------------------------------------------ */
/* add / sub / mul / div / sqrt                                             */
/* ------------------------------------------------------------------------ */

/* Common operand screening for two-operand arithmetic.  Returns true and
 * sets *out when the result is already decided (invalid encoding or NaN). */
static bool screen2(struct fx80_env *env, struct fx80 a, enum fx_class ca, struct fx80 b,
                    enum fx_class cb, struct fx80 *out)
{
    env->c1_round_up = 0;
    if (ca == FXC_UNSUPPORTED || cb == FXC_UNSUPPORTED) {
        *out = invalid(env);
        return true;
    }
    if (is_nan_class(ca) || is_nan_class(cb)) {
        *out = propagate_nan2(env, a, ca, b, cb);
        return true;
    }
    return false;
}

/* DE is reported only when no invalid-operation or zero-divide exception
 * (higher priority) decided the result, so callers raise it late. */
static void raise_denormal2(struct fx80_env *env, enum fx_class ca, enum fx_class cb)
{
    if (ca == FXC_DENORMAL || cb == FXC_DENORMAL)
        raise_flags(env, EX_DE);
}

/* mem_de: the operand (1 = a, 2 = b) was loaded from a binary32/64
 * denormal, which counts as a denormal operand although the extended
 * value is normal. */
static void raise_denormal_op(struct fx80_env *env, enum fx_class ca, enum fx_class cb,
                              unsigned mem_de)
{
    if (mem_de)
        raise_flags(env, EX_DE);
    raise_denormal2(env, ca, cb);
}

/* Both operands normal finite numbers (biased exponent 1..7FFE, J set) and
 * neither came from a denormal in memory: nothing to screen or report
 * before the arithmetic, and unpack() would return them unchanged. */
static inline bool both_plain(struct fx80 a, struct fx80 b, unsigned mem_de)
{
    return (uint32_t)(a.sign_exp & EXP_INF) - 1 < EXP_INF - 1 &&
           (uint32_t)(b.sign_exp & EXP_INF) - 1 < EXP_INF - 1 && (a.mant & b.mant & J_BIT) && !mem_de;
}

static struct fx80 add_signed(struct fx80_env *env, struct fx80 a, struct fx80 b, bool flip_b,
                              unsigned mem_de)
{
    bool sa = sign_of(a), sb = sign_of(b) ^ flip_b;
    int bits = precision_bits(env);
    int32_t ea, eb;
    uint64_t ma, mb;
    if (both_plain(a, b, mem_de)) {
        env->c1_round_up = 0;   /* for an exact zero difference */
        ea = a.sign_exp & EXP_INF;
        eb = b.sign_exp & EXP_INF;
        ma = a.mant;
        mb = b.mant;
    } else {
        enum fx_class ca = classify(a), cb = classify(b);
        struct fx80 r;
        if (screen2(env, a, ca, b, cb, &r))
            return r;
        raise_denormal_op(env, ca, cb, mem_de);
        if (ca == FXC_INF) {
            if (cb == FXC_INF && sa != sb)
                return invalid(env);
            return inf_of(sa);
        }
        if (cb == FXC_INF)
            return inf_of(sb);
        if (ca == FXC_ZERO && cb == FXC_ZERO)
            return zero_of(sa == sb ? sa : (env->rounding & 3) == FX80_RC_DOWN);
        if (ca == FXC_ZERO) {
            unpack(b, &eb, &mb);
            return round_pack_bits(env, sb, eb, mb, 0, bits);
        }
        unpack(a, &ea, &ma);
        if (cb == FXC_ZERO)
            return round_pack_bits(env, sa, ea, ma, 0, bits);
        unpack(b, &eb, &mb);
    }
    if (ea < eb || (ea == eb && ma < mb)) {
        int32_t te = ea; ea = eb; eb = te;
        uint64_t tm = ma; ma = mb; mb = tm;
        bool ts = sa; sa = sb; sb = ts;
    }
    uint64_t bhi = mb, blo = 0;
    shr128_jam(&bhi, &blo, (uint32_t)(ea - eb));
    if (sa == sb) {
        uint64_t hi = ma + bhi, lo = blo;
        if (hi < ma) {
            lo = (lo >> 1) | (hi << 63) | (lo & 1);
            hi = (hi >> 1) | J_BIT;
            ea++;
        }
        return round_fast(env, sa, ea, hi, lo, bits);
    }
    /* |a| >= |b|: a - b cannot go negative.  Jamming is harmless: when b
     * lost bits (distance >= 2) at most one normalising shift follows. */
    uint64_t lo = 0 - blo;
    uint64_t hi = ma - bhi - (blo != 0);
    if (hi == 0 && lo == 0)
        return zero_of((env->rounding & 3) == FX80_RC_DOWN);
    return round_fast(env, sa, ea, hi, lo, bits);
}

struct fx80 fx80_add(struct fx80_env *env, struct fx80 a, struct fx80 b) { return add_signed(env, a, b, false, 0); }
struct fx80 fx80_sub(struct fx80_env *env, struct fx80 a, struct fx80 b) { return add_signed(env, a, b, true, 0); }

static struct fx80 mul_impl(struct fx80_env *env, struct fx80 a, struct fx80 b, unsigned mem_de)
{
    if (both_plain(a, b, mem_de)) {
        uint64_t hi, lo;
        mul64(a.mant, b.mant, &hi, &lo);
        int32_t exp = (int32_t)(a.sign_exp & EXP_INF) + (int32_t)(b.sign_exp & EXP_INF) - EXP_BIAS + 1;
        return round_fast(env, sign_of(a) ^ sign_of(b), exp, hi, lo, precision_bits(env));
    }
    enum fx_class ca = classify(a), cb = classify(b);
    struct fx80 r;
    if (screen2(env, a, ca, b, cb, &r))
        return r;
    raise_denormal_op(env, ca, cb, mem_de);
    bool s = sign_of(a) ^ sign_of(b);
    if (ca == FXC_INF || cb == FXC_INF) {
        if (ca == FXC_ZERO || cb == FXC_ZERO)
            return invalid(env);
        return inf_of(s);
    }
    if (ca == FXC_ZERO || cb == FXC_ZERO)
        return zero_of(s);
    int32_t ea, eb;
    uint64_t ma, mb, hi, lo;
    unpack(a, &ea, &ma);
    unpack(b, &eb, &mb);
    mul64(ma, mb, &hi, &lo);
    /* ma*mb/2^126 = (hi + lo/2^64)/2^63 * 2: one more in the exponent. */
    return round_pack_bits(env, s, ea + eb - EXP_BIAS + 1, hi, lo, precision_bits(env));
}

struct fx80 fx80_mul(struct fx80_env *env, struct fx80 a, struct fx80 b) { return mul_impl(env, a, b, 0); }

static struct fx80 div_impl(struct fx80_env *env, struct fx80 a, struct fx80 b, unsigned mem_de)
{
    bool s = sign_of(a) ^ sign_of(b);
    int32_t ea, eb;
    uint64_t ma, mb, rem;
    if (both_plain(a, b, mem_de)) {
        ea = a.sign_exp & EXP_INF;
        eb = b.sign_exp & EXP_INF;
        ma = a.mant;
        mb = b.mant;
    } else {
        enum fx_class ca = classify(a), cb = classify(b);
        struct fx80 r;
        if (screen2(env, a, ca, b, cb, &r))
            return r;
        if (ca == FXC_INF && cb == FXC_INF)
            return invalid(env);
        if (cb == FXC_ZERO) {
            if (ca == FXC_ZERO)
                return invalid(env);
            if (ca != FXC_INF)
                raise_flags(env, EX_ZE); /* inf/0 is an exact infinity */
            return inf_of(s);
        }
        raise_denormal_op(env, ca, cb, mem_de);
        if (ca == FXC_INF)
            return inf_of(s);
        if (cb == FXC_INF)
            return zero_of(s);
        if (ca == FXC_ZERO)
            return zero_of(s);
        unpack(a, &ea, &ma);
        unpack(b, &eb, &mb);
    }
    int32_t exp = ea - eb + EXP_BIAS;
    uint64_t q_hi, q_lo;
    /* Scale the dividend so the first quotient word is in [2^63, 2^64). */
    if (ma >= mb) {
        q_hi = div128by64(ma >> 1, ma << 63, mb, &rem);
    } else {
        q_hi = div128by64(ma, 0, mb, &rem);
        exp--;
    }
    q_lo = div128by64(rem, 0, mb, &rem);
    q_lo |= rem != 0;
    return round_fast(env, s, exp, q_hi, q_lo, precision_bits(env));
}

struct fx80 fx80_div(struct fx80_env *env, struct fx80 a, struct fx80 b) { return div_impl(env, a, b, 0); }

/* floor(sqrt(n_hi:n_lo)) (a 64-bit root) and the remainder n - root^2
 * (up to 65 bits, returned as rem_hi:rem_lo). */
static uint64_t isqrt128(uint64_t n_hi, uint64_t n_lo, uint64_t *rem_hi, uint64_t *rem_lo)
{
    uint64_t root = 0, r_hi = 0, r_lo = 0;
    for (int i = 0; i < 64; i++) {
        /* Bring down the next two radicand bits. */
        r_hi = (r_hi << 2) | (r_lo >> 62);
        r_lo = (r_lo << 2) | (n_hi >> 62);
        n_hi = (n_hi << 2) | (n_lo >> 62);
        n_lo <<= 2;
        /* Trial subtrahend 4*root + 1 (up to 66 bits). */
        uint64_t t_lo = (root << 2) | 1, t_hi = root >> 62;
        root <<= 1;
        if (r_hi > t_hi || (r_hi == t_hi && r_lo >= t_lo)) {
            r_hi = r_hi - t_hi - (r_lo < t_lo);
            r_lo -= t_lo;
            root |= 1;
        }
    }
    *rem_hi = r_hi;
    *rem_lo = r_lo;
    return root;
}

struct fx80 fx80_sqrt(struct fx80_env *env, struct fx80 a)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    if (ca == FXC_UNSUPPORTED)
        return invalid(env);
    if (is_nan_class(ca))
        return propagate_nan1(env, a, ca);
    if (ca == FXC_ZERO)
        return a;
    if (sign_of(a))
        return invalid(env);
    if (ca == FXC_DENORMAL)
        raise_flags(env, EX_DE);
    if (ca == FXC_INF)
        return a;
    int32_t ea;
    uint64_t ma, rem_hi, rem_lo, root;
    unpack(a, &ea, &ma);
    int32_t e = ea - EXP_BIAS;
    /* sqrt(m * 2^e) with an even exponent; root lands in [2^63, 2^64). */
    if (e & 1)
        root = isqrt128(ma, 0, &rem_hi, &rem_lo);
    else
        root = isqrt128(ma >> 1, ma << 63, &rem_hi, &rem_lo);
    int32_t half_e = (e - (e & 1)) / 2;
    /* The exact root is root + f with 0 <= f < 1: f >= 1/2 iff
     * rem > root (since (root+1/2)^2 = root^2 + root + 1/4), and f is never
     * exactly 1/2, so round bit and sticky follow from rem alone. */
    bool half_or_more = rem_hi != 0 || rem_lo > root;
    bool nonzero = rem_hi != 0 || rem_lo != 0;
    uint64_t lo = half_or_more ? (J_BIT | 1) : (uint64_t)nonzero;
    return round_pack_bits(env, false, half_e + EXP_BIAS, root, lo, precision_bits(env));
}

/* ------------------------------------------------------------------------ */
/* Comparison                                                               */
/* ------------------------------------------------------------------------ */

/* Magnitude ordering key for non-NaN values: exponent then significand. */
static void magnitude_key(struct fx80 x, enum fx_class c, int32_t *e, uint64_t *m)
{
    if (c == FXC_ZERO) {
        *e = INT32_MIN;
        *m = 0;
    } else if (c == FXC_INF) {
        *e = EXP_INF;
        *m = J_BIT;
    } else {
        unpack(x, e, m);
    }
}

static enum fx80_cmp compare_impl(struct fx80_env *env, struct fx80 a, struct fx80 b, bool quiet,
                                  unsigned mem_de)
{
    if (both_plain(a, b, mem_de)) {   /* no flags; order by sign, exponent, significand */
        env->c1_round_up = 0;
        bool sa = sign_of(a);
        if (sa != sign_of(b))
            return sa ? FX80_CMP_LESS : FX80_CMP_GREATER;
        uint32_t ea = a.sign_exp & EXP_INF, eb = b.sign_exp & EXP_INF;
        if (ea == eb && a.mant == b.mant)
            return FX80_CMP_EQUAL;
        bool a_bigger = ea > eb || (ea == eb && a.mant > b.mant);
        return (a_bigger != sa) ? FX80_CMP_GREATER : FX80_CMP_LESS;
    }
    enum fx_class ca = classify(a), cb = classify(b);
    env->c1_round_up = 0;
    if (ca == FXC_UNSUPPORTED || cb == FXC_UNSUPPORTED) {
        raise_flags(env, EX_IE);
        return FX80_CMP_UNORDERED;
    }
    if (is_nan_class(ca) || is_nan_class(cb)) {
        if (!quiet || ca == FXC_SNAN || cb == FXC_SNAN)
            raise_flags(env, EX_IE);
        return FX80_CMP_UNORDERED;
    }
    raise_denormal_op(env, ca, cb, mem_de);
    if (ca == FXC_ZERO && cb == FXC_ZERO)
        return FX80_CMP_EQUAL;
    bool sa = sign_of(a), sb = sign_of(b);
    if (sa != sb)
        return sa ? FX80_CMP_LESS : FX80_CMP_GREATER;
    int32_t ea, eb;
    uint64_t ma, mb;
    magnitude_key(a, ca, &ea, &ma);
    magnitude_key(b, cb, &eb, &mb);
    if (ea == eb && ma == mb)
        return FX80_CMP_EQUAL;
    bool a_bigger = ea > eb || (ea == eb && ma > mb);
    return (a_bigger != sa) ? FX80_CMP_GREATER : FX80_CMP_LESS;
}

enum fx80_cmp fx80_compare(struct fx80_env *env, struct fx80 a, struct fx80 b) { return compare_impl(env, a, b, false, 0); }
enum fx80_cmp fx80_compare_quiet(struct fx80_env *env, struct fx80 a, struct fx80 b) { return compare_impl(env, a, b, true, 0); }

uint16_t fx80_cmp_to_cc(enum fx80_cmp r)
{
    switch (r) {
    case FX80_CMP_LESS: return FX80_C0;
    case FX80_CMP_EQUAL: return FX80_C3;
    case FX80_CMP_GREATER: return 0;
    default: return FX80_C3 | FX80_C2 | FX80_C0;
    }
}

/* ------------------------------------------------------------------------ */
/* Rounding to integers                                                     */
/* ------------------------------------------------------------------------ */

/* Rounds |x| = m * 2^(e-63) (m normalised, e unbiased) to an integer by the
 * rounding mode, for a value of the given sign.  Returns false when the
 * rounded magnitude would not fit in 64 bits. */
static bool round_to_integer(uint8_t rounding, bool sign, int32_t e, uint64_t m, uint64_t *out,
                             bool *inexact, bool *rounded_up)
{
    uint64_t int_part, frac; /* frac: the fraction as a 64-bit binary fraction */
    *inexact = false;
    *rounded_up = false;
    if (e >= 64)
        return false;
    if (e == 63) {
        *out = m;
        return true;
    }
    if (e >= 0) {
        int_part = m >> (63 - e);
        frac = m << (e + 1);
    } else {
        uint64_t hi = m, lo = 0;
        shr128_jam(&hi, &lo, (uint32_t)(-e - 1 > 200 ? 200 : -e - 1));
        int_part = 0;
        frac = hi | (lo != 0);
    }
    bool inc = false;
    if (frac) {
        *inexact = true;
        switch (rounding & 3) {
        case FX80_RC_NEAREST: inc = frac > J_BIT || (frac == J_BIT && (int_part & 1)); break;
        case FX80_RC_DOWN: inc = sign; break;
        case FX80_RC_UP: inc = !sign; break;
        default: break;
        }
    }
    *rounded_up = inc;
    *out = int_part + inc; /* int_part < 2^63, cannot wrap */
    return true;
}

struct fx80 fx80_rndint(struct fx80_env *env, struct fx80 a)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    if (ca == FXC_UNSUPPORTED)
        return invalid(env);
    if (is_nan_class(ca))
        return propagate_nan1(env, a, ca);
    if (ca == FXC_ZERO || ca == FXC_INF)
        return a;
    if (ca == FXC_DENORMAL)
        raise_flags(env, EX_DE);
    int32_t e;
    uint64_t m, v;
    bool inexact, up;
    unpack(a, &e, &m);
    e -= EXP_BIAS;
    if (e >= 63)
        return make(sign_of(a), (uint32_t)(e + EXP_BIAS), m);
    round_to_integer(env->rounding, sign_of(a), e, m, &v, &inexact, &up);
    if (inexact)
        raise_flags(env, EX_PE);
    env->c1_round_up = up;
    if (v == 0)
        return zero_of(sign_of(a));
    int s = clz64(v);
    return make(sign_of(a), (uint32_t)(EXP_BIAS + 63 - s), v << s);
}

/* Shared FIST path: returns true with *out for in-range values. */
static bool to_int_common(struct fx80_env *env, struct fx80 a, int bits, int64_t *out)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    *out = 0;
    if (ca == FXC_ZERO)
        return true;
    if (ca != FXC_NORMAL && ca != FXC_DENORMAL) {
        raise_flags(env, EX_IE);
        return false;
    }
    int32_t e;
    uint64_t m, v;
    bool inexact, up, sign = sign_of(a);
    unpack(a, &e, &m);
    uint64_t limit = (UINT64_C(1) << (bits - 1)) - !sign; /* 2^(n-1) or 2^(n-1)-1 */
    if (!round_to_integer(env->rounding, sign, e - EXP_BIAS, m, &v, &inexact, &up) || v > limit) {
        raise_flags(env, EX_IE);
        return false;
    }
    if (inexact)
        raise_flags(env, EX_PE);
    env->c1_round_up = up;
    *out = sign ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

int16_t fx80_to_i16(struct fx80_env *env, struct fx80 a)
{
    int64_t v;
    return to_int_common(env, a, 16, &v) ? (int16_t)v : INT16_MIN;
}

int32_t fx80_to_i32(struct fx80_env *env, struct fx80 a)
{
    int64_t v;
    return to_int_common(env, a, 32, &v) ? (int32_t)v : INT32_MIN;
}

int64_t fx80_to_i64(struct fx80_env *env, struct fx80 a)
{
    int64_t v;
    return to_int_common(env, a, 64, &v) ? v : INT64_MIN;
}

static struct fx80 from_magnitude(bool sign, uint64_t v)
{
    if (v == 0)
        return zero_of(sign);
    int s = clz64(v);
    return make(sign, (uint32_t)(EXP_BIAS + 63 - s), v << s);
}

struct fx80 fx80_from_i64(int64_t v)
{
    return from_magnitude(v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}
struct fx80 fx80_from_i32(int32_t v) { return fx80_from_i64(v); }
struct fx80 fx80_from_i16(int16_t v) { return fx80_from_i64(v); }

/* ------------------------------------------------------------------------ */
/* binary32 / binary64                                                      */
/* ------------------------------------------------------------------------ */

/* Exact widening of a binary32/64 value; NaNs keep their kind (an SNaN
 * stays signalling) and *denormal tells whether the source was one. */
static struct fx80 from_ieee_raw(uint64_t bits, int frac_bits, int exp_bits, bool *denormal)
{
    bool sign = (bits >> (frac_bits + exp_bits)) & 1;
    uint32_t exp_max = (1u << exp_bits) - 1;
    int32_t ieee_bias = (int32_t)(exp_max >> 1);
    uint32_t exp = (uint32_t)(bits >> frac_bits) & exp_max;
    uint64_t frac = bits & ((UINT64_C(1) << frac_bits) - 1);
    *denormal = false;
    if (exp == exp_max)
        return make(sign, EXP_INF, J_BIT | (frac << (63 - frac_bits)));
    if (exp == 0) {
        if (frac == 0)
            return zero_of(sign);
        *denormal = true;
        int s = clz64(frac);
        /* frac * 2^(1-bias-frac_bits) renormalised. */
        return make(sign, (uint32_t)(EXP_BIAS + 1 - ieee_bias - frac_bits + 63 - s), frac << s);
    }
    return make(sign, (uint32_t)((int32_t)exp - ieee_bias + EXP_BIAS),
                J_BIT | (frac << (63 - frac_bits)));
}

static struct fx80 from_ieee(struct fx80_env *env, uint64_t bits, int frac_bits, int exp_bits)
{
    bool denormal;
    struct fx80 r = from_ieee_raw(bits, frac_bits, exp_bits, &denormal);
    enum fx_class c = classify(r);
    env->c1_round_up = 0;
    if (denormal)
        raise_flags(env, EX_DE);
    if (c == FXC_SNAN)
        raise_flags(env, EX_IE);
    if (is_nan_class(c))
        r.mant |= QUIET_BIT;
    return r;
}

struct fx80 fx80_from_f32(struct fx80_env *env, uint32_t bits)
{
    uint32_t exp = (bits >> 23) & 0xFF;
    if (exp - 1 < 0xFE) {   /* normal: an exact rebias, no flags */
        env->c1_round_up = 0;
        return make(bits >> 31, exp - 127 + EXP_BIAS, J_BIT | (uint64_t)(bits & 0x007FFFFFu) << 40);
    }
    return from_ieee(env, bits, 23, 8);
}
struct fx80 fx80_from_f64(struct fx80_env *env, uint64_t bits)
{
    uint32_t exp = (uint32_t)(bits >> 52) & 0x7FF;
    if (exp - 1 < 0x7FE) {   /* normal: an exact rebias, no flags */
        env->c1_round_up = 0;
        return make(bits >> 63, exp - 1023 + EXP_BIAS, J_BIT | ((bits & ((UINT64_C(1) << 52) - 1)) << 11));
    }
    return from_ieee(env, bits, 52, 11);
}

static uint64_t to_ieee(struct fx80_env *env, struct fx80 a, int frac_bits, int exp_bits)
{
    enum fx_class ca = classify(a);
    bool sign = sign_of(a);
    uint64_t sign_bit = (uint64_t)sign << (frac_bits + exp_bits);
    uint32_t exp_max = (1u << exp_bits) - 1;
    int32_t ieee_bias = (int32_t)(exp_max >> 1);
    uint64_t quiet = UINT64_C(1) << (frac_bits - 1);
    uint64_t inf = (uint64_t)exp_max << frac_bits;
    env->c1_round_up = 0;
    switch (ca) {
    case FXC_UNSUPPORTED:
        raise_flags(env, EX_IE);
        return (UINT64_C(1) << (frac_bits + exp_bits)) | inf | quiet;
    case FXC_SNAN:
    case FXC_QNAN:
        if (ca == FXC_SNAN)
            raise_flags(env, EX_IE);
        /* Keep the top fraction bits of the payload; force quiet. */
        return sign_bit | inf | quiet | ((a.mant << 1) >> (64 - frac_bits));
    case FXC_INF: return sign_bit | inf;
    case FXC_ZERO: return sign_bit;
    default: break; /* FST does not report denormal operands */
    }
    int32_t e, p = frac_bits + 1;
    uint64_t m, lo = 0;
    unpack(a, &e, &m);
    e -= EXP_BIAS;
    int32_t emin = 1 - ieee_bias;
    uint32_t drop = (uint32_t)(64 - p);
    uint64_t kept, round_bit;
    bool sticky;
    bool denormal = e < emin;
    /* Tininess after rounding, as in round_pack_bits. */
    bool tiny = e < emin - 1;
    if (e == emin - 1) {
        split_round(m, 0, drop, &kept, &round_bit, &sticky);
        tiny = !(kept == (~UINT64_C(0) >> drop) &&
                 round_increment(env->rounding, sign, kept, round_bit, sticky));
    }
    if (denormal) {
        int32_t extra = emin - e;
        shr128_jam(&m, &lo, (uint32_t)(extra > 200 ? 200 : extra));
    }
    split_round(m, lo, drop, &kept, &round_bit, &sticky);
    bool inexact = round_bit || sticky;
    bool inc = round_increment(env->rounding, sign, kept, round_bit, sticky);
    kept += inc;
    uint32_t biased;
    if (denormal) {
        biased = (kept >> (p - 1)) ? 1 : 0; /* may round up to the smallest normal */
    } else {
        if (kept >> p) {
            kept >>= 1;
            e++;
        }
        biased = (uint32_t)(e + ieee_bias);
    }
    if (!denormal && biased >= exp_max) {
        bool to_inf;
        switch (env->rounding & 3) {
        case FX80_RC_NEAREST: to_inf = true; break;
        case FX80_RC_DOWN: to_inf = sign; break;
        case FX80_RC_UP: to_inf = !sign; break;
        default: to_inf = false; break;
        }
        if (env->unmasked & EX_OE) {
            /* Trapped: the store is abandoned before PE/C1 are set. */
            raise_flags(env, EX_OE);
            return sign_bit | inf;
        }
        raise_flags(env, EX_OE | EX_PE);
        env->c1_round_up = to_inf;
        if (to_inf)
            return sign_bit | inf;
        return sign_bit | (((uint64_t)exp_max - 1) << frac_bits) | ((UINT64_C(1) << frac_bits) - 1);
    }
    if (tiny && (env->unmasked & EX_UE)) {
        raise_flags(env, EX_UE); /* trapped: no store, no PE/C1 */
        return sign_bit | ((uint64_t)biased << frac_bits) | (kept & ((UINT64_C(1) << frac_bits) - 1));
    }
    if (tiny && inexact)
        raise_flags(env, EX_UE);
    if (inexact)
        raise_flags(env, EX_PE);
    env->c1_round_up = inc;
    return sign_bit | ((uint64_t)biased << frac_bits) | (kept & ((UINT64_C(1) << frac_bits) - 1));
}

/* Arithmetic with a binary32/64 memory operand: the operand is widened
 * exactly but keeps its NaN kind and its denormal status, so exception
 * priorities and NaN selection are those of the single instruction. */
static struct fx80 arith_mem(struct fx80_env *env, enum fx80_op op, struct fx80 st,
                             struct fx80 mem, bool mem_denormal)
{
    unsigned de_b = mem_denormal ? 2u : 0u, de_a = mem_denormal ? 1u : 0u;
    switch (op) {
    case FX80_OP_ADD: return add_signed(env, st, mem, false, de_b);
    case FX80_OP_SUB: return add_signed(env, st, mem, true, de_b);
    case FX80_OP_SUBR: return add_signed(env, mem, st, true, de_a);
    case FX80_OP_MUL: return mul_impl(env, st, mem, de_b);
    case FX80_OP_DIV: return div_impl(env, st, mem, de_b);
    default: return div_impl(env, mem, st, de_a);
    }
}

struct fx80 fx80_arith_f32(struct fx80_env *env, enum fx80_op op, struct fx80 st, uint32_t m32)
{
    bool den;
    struct fx80 mem = from_ieee_raw(m32, 23, 8, &den);
    return arith_mem(env, op, st, mem, den);
}

struct fx80 fx80_arith_f64(struct fx80_env *env, enum fx80_op op, struct fx80 st, uint64_t m64)
{
    bool den;
    struct fx80 mem = from_ieee_raw(m64, 52, 11, &den);
    return arith_mem(env, op, st, mem, den);
}

enum fx80_cmp fx80_compare_f32(struct fx80_env *env, struct fx80 st, uint32_t m32)
{
    bool den;
    struct fx80 mem = from_ieee_raw(m32, 23, 8, &den);
    return compare_impl(env, st, mem, false, den ? 2u : 0u);
}

enum fx80_cmp fx80_compare_f64(struct fx80_env *env, struct fx80 st, uint64_t m64)
{
    bool den;
    struct fx80 mem = from_ieee_raw(m64, 52, 11, &den);
    return compare_impl(env, st, mem, false, den ? 2u : 0u);
}

struct fx80 fx80_arith(struct fx80_env *env, enum fx80_op op, struct fx80 st, struct fx80 other)
{
    return arith_mem(env, op, st, other, false);
}

uint32_t fx80_to_f32(struct fx80_env *env, struct fx80 a) { return (uint32_t)to_ieee(env, a, 23, 8); }
uint64_t fx80_to_f64(struct fx80_env *env, struct fx80 a)
{
    /* A normal value that stays normal as a double after rounding: drop 11
     * bits, round, carry; no OE or UE possible, only PE and C1. */
    uint32_t biased = (uint32_t)(a.sign_exp & EXP_INF) - EXP_BIAS + 1023;
    if ((a.mant & J_BIT) && biased - 1 < 0x7FE) {
        bool sign = sign_of(a);
        uint64_t kept = a.mant >> 11, round_bit = (a.mant >> 10) & 1;
        bool sticky = (a.mant & 0x3FF) != 0;
        bool inc = round_increment(env->rounding, sign, kept, round_bit, sticky);
        kept += inc;
        if (kept >> 53) {   /* 1.11..1 rounded up to 2.0 */
            kept >>= 1;
            biased++;
        }
        if (biased < 0x7FF) {
            if (round_bit || sticky)
                raise_flags(env, EX_PE);
            env->c1_round_up = inc;
            return ((uint64_t)sign << 63) | ((uint64_t)biased << 52) | (kept & ((UINT64_C(1) << 52) - 1));
        }
    }
    return to_ieee(env, a, 52, 11);
}

/* ------------------------------------------------------------------------ */
/* Packed BCD                                                               */
/* ------------------------------------------------------------------------ */

struct fx80 fx80_from_bcd(const uint8_t bcd[10])
{
    uint64_t v = 0;
    /* Most significant digit pair is byte 8.  Non-decimal nibbles are
     * weighted like digits and sign-byte bits 0-6 ignored, which is what
     * the hardware does with such (officially undefined) operands. */
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (uint64_t)(bcd[i] >> 4) * 10 + (bcd[i] & 15);
    return from_magnitude(bcd[9] >> 7, v);
}

void fx80_to_bcd(struct fx80_env *env, struct fx80 a, uint8_t bcd[10])
{
    static const uint8_t indefinite[10] = {0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF};
    enum fx_class ca = classify(a);
    bool sign = sign_of(a);
    uint64_t v = 0;
    env->c1_round_up = 0;
    if (ca == FXC_NORMAL || ca == FXC_DENORMAL) {
        int32_t e;
        uint64_t m;
        bool inexact, up;
        unpack(a, &e, &m);
        if (!round_to_integer(env->rounding, sign, e - EXP_BIAS, m, &v, &inexact, &up) ||
            v > UINT64_C(999999999999999999)) {
            ca = FXC_UNSUPPORTED; /* out of range: same treatment */
        } else {
            if (inexact)
                raise_flags(env, EX_PE);
            env->c1_round_up = up;
        }
    } else if (ca != FXC_ZERO) {
        ca = FXC_UNSUPPORTED;
    }
    if (ca == FXC_UNSUPPORTED) {
        raise_flags(env, EX_IE);
        for (int i = 0; i < 10; i++)
            bcd[i] = indefinite[i];
        return;
    }
    for (int i = 0; i < 9; i++) {
        uint8_t lo_digit = (uint8_t)(v % 10);
        v /= 10;
        uint8_t hi_digit = (uint8_t)(v % 10);
        v /= 10;
        bcd[i] = (uint8_t)((hi_digit << 4) | lo_digit);
    }
    bcd[9] = sign ? 0x80 : 0;
}

/* ------------------------------------------------------------------------ */
/* FPREM / FPREM1 / FSCALE / FXTRACT                                        */
/* ------------------------------------------------------------------------ */

static struct fx80 prem_impl(struct fx80_env *env, struct fx80 a, struct fx80 b, uint16_t *cc,
                             bool ieee)
{
    enum fx_class ca = classify(a), cb = classify(b);
    struct fx80 r;
    *cc = 0;
    if (screen2(env, a, ca, b, cb, &r))
        return r;
    if (ca == FXC_INF || cb == FXC_ZERO)
        return invalid(env);
    raise_denormal2(env, ca, cb);
    if (ca == FXC_ZERO || cb == FXC_INF)
        return ca == FXC_DENORMAL ? round_pack_bits(env, sign_of(a), 1, a.mant, 0, 64) : a;
    bool sign = sign_of(a);
    int32_t ea, eb;
    uint64_t ma, mb;
    unpack(a, &ea, &ma);
    unpack(b, &eb, &mb);
    int32_t d = ea - eb;
    if (d < 0) {
        /* |a| < |b|: quotient 0, except FPREM1 rounding 1/2 < |a/b| < 1 up. */
        if (ieee && d == -1 && ma > mb) {
            /* |b| - |a| = (2*mb - ma) in units of a's last place; it is
             * below mb, so the wrapped 64-bit arithmetic is exact. */
            *cc = FX80_C1;
            return round_pack_bits(env, !sign, ea, 2 * mb - ma, 0, 64);
        }
        return round_pack_bits(env, sign, ea, ma, 0, 64);
    }
    bool partial = d >= 64;
    int32_t steps = d;
    if (partial) {
        /* Hardware reduces by b * 2^(32*floor(d/32) - 32) in one go. */
        steps = d - (32 * (d / 32) - 32);
    }
    /* Restoring division, one quotient bit per step; rem stays < mb. */
    uint64_t rem = ma, q = 0;
    if (rem >= mb) {
        rem -= mb;
        q = 1;
    }
    for (int32_t i = 0; i < steps; i++) {
        bool carry = rem >> 63;
        rem <<= 1;
        q <<= 1;
        if (carry || rem >= mb) {
            rem -= mb;
            q |= 1;
        }
    }
    int32_t rem_exp = ea - steps; /* weight of rem's bit 63 */
    if (partial) {
        *cc = FX80_C2;
        return round_pack_bits(env, sign, rem_exp, rem, 0, 64);
    }
    if (ieee && (rem > mb - rem || (rem == mb - rem && (q & 1)))) {
        q++;
        rem = mb - rem;
        sign = !sign;
    }
    *cc = (uint16_t)(((q & 4) ? FX80_C0 : 0) | ((q & 2) ? FX80_C3 : 0) | ((q & 1) ? FX80_C1 : 0));
    if (rem == 0)
        return zero_of(sign_of(a));
    return round_pack_bits(env, sign, rem_exp, rem, 0, 64);
}

struct fx80 fx80_prem(struct fx80_env *env, struct fx80 a, struct fx80 b, uint16_t *cc) { return prem_impl(env, a, b, cc, false); }
struct fx80 fx80_prem1(struct fx80_env *env, struct fx80 a, struct fx80 b, uint16_t *cc) { return prem_impl(env, a, b, cc, true); }

struct fx80 fx80_scale(struct fx80_env *env, struct fx80 a, struct fx80 b)
{
    enum fx_class ca = classify(a), cb = classify(b);
    struct fx80 r;
    if (screen2(env, a, ca, b, cb, &r))
        return r;
    raise_denormal2(env, ca, cb);
    bool sa = sign_of(a);
    if (cb == FXC_INF) {
        if (!sign_of(b))
            return ca == FXC_ZERO ? invalid(env) : inf_of(sa);
        return ca == FXC_INF ? invalid(env) : zero_of(sa);
    }
    if (ca == FXC_ZERO || ca == FXC_INF)
        return a;
    if (cb == FXC_ZERO) {
        /* Scaling by exactly +-0 returns ST0 untouched (no underflow check
         * on denormals); only a pseudo-denormal gets its canonical form. */
        return (a.mant & J_BIT) && ca == FXC_DENORMAL ? make(sa, 1, a.mant) : a;
    }
    int32_t scale = 0;
    {
        int32_t eb;
        uint64_t mb;
        unpack(b, &eb, &mb);
        eb -= EXP_BIAS;
        if (eb >= 0) {
            /* Anything beyond 2^17 over/underflows anyway. */
            scale = eb > 17 ? (1 << 18) : (int32_t)(mb >> (63 - eb));
            if (sign_of(b))
                scale = -scale;
        }
    }
    int32_t ea;
    uint64_t ma;
    unpack(a, &ea, &ma);
    return round_pack_bits(env, sa, ea + scale, ma, 0, 64);
}

void fx80_xtract(struct fx80_env *env, struct fx80 a, struct fx80 *exponent,
                 struct fx80 *significand)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    switch (ca) {
    case FXC_UNSUPPORTED:
        *exponent = *significand = invalid(env);
        return;
    case FXC_QNAN:
    case FXC_SNAN:
        *exponent = *significand = propagate_nan1(env, a, ca);
        return;
    case FXC_ZERO:
        raise_flags(env, EX_ZE);
        *exponent = inf_of(true);
        *significand = a;
        return;
    case FXC_INF:
        *exponent = inf_of(false);
        *significand = a;
        return;
    case FXC_DENORMAL:
        raise_flags(env, EX_DE);
        break;
    default: break;
    }
    int32_t e;
    uint64_t m;
    unpack(a, &e, &m);
    *significand = make(sign_of(a), EXP_BIAS, m);
    *exponent = fx80_from_i32(e - EXP_BIAS);
}

/* ------------------------------------------------------------------------ */
/* Constants                                                                */
/* ------------------------------------------------------------------------ */

struct fx_constant {
    uint16_t exp;       /* biased exponent */
    uint64_t mant;      /* first 64 significand bits */
    uint64_t more;      /* next 64 bits, for rounding */
};

struct fx80 fx80_const(struct fx80_env *env, enum fx80_const_id which)
{
    static const struct fx_constant table[] = {
        [FX80_CONST_ONE] = {EXP_BIAS, J_BIT, 0},
        [FX80_CONST_ZERO] = {0, 0, 0},
        [FX80_CONST_PI] = {EXP_BIAS + 1, UINT64_C(0xc90fdaa22168c234), UINT64_C(0xc4c6628b80dc1cd1)},
        [FX80_CONST_L2E] = {EXP_BIAS, UINT64_C(0xb8aa3b295c17f0bb), UINT64_C(0xbe87fed0691d3e88)},
        [FX80_CONST_L2T] = {EXP_BIAS + 1, UINT64_C(0xd49a784bcd1b8afe), UINT64_C(0x492bf6ff4dafdb4c)},
        [FX80_CONST_LG2] = {EXP_BIAS - 2, UINT64_C(0x9a209a84fbcff798), UINT64_C(0x8f8959ac0b7c9178)},
        [FX80_CONST_LN2] = {EXP_BIAS - 1, UINT64_C(0xb17217f7d1cf79ab), UINT64_C(0xc9e3b39803f2f6af)},
    };
    env->c1_round_up = 0;
    if ((size_t)which >= sizeof table / sizeof table[0])
        return default_nan();
    const struct fx_constant *c = &table[which];
    uint64_t m = c->mant;
    /* The x87 keeps these to 66 bits and rounds to 64 by RC without
     * reporting PE; none of the 66-bit forms is a tie at 64 bits. */
    switch (env->rounding & 3) {
    case FX80_RC_NEAREST: m += c->more >> 63; break;
    case FX80_RC_UP: m += c->more != 0; break;
    default: break;
    }
    return make(false, c->exp, m);
}

/* ------------------------------------------------------------------------ */
/* Transcendentals                                                          */
/* ------------------------------------------------------------------------ */

/* Working format for transcendentals: 128-bit significand, so that after
 * series evaluation at least ~120 bits are right and one final rounding
 * to 64 bits is (all but always) correct.  value = (hi:lo)/2^127 * 2^exp,
 * hi bit 63 set unless the value is zero (hi == lo == 0). */
struct xf {
    uint64_t hi, lo;
    int32_t exp;
    bool sign;
};

/* Terms smaller than this many binary places below the sum are dropped. */
#define XF_SERIES_BITS 124

static struct xf xf_make(bool sign, int32_t exp, uint64_t hi, uint64_t lo)
{
    struct xf r = {0, 0, 0, sign};
    if (hi == 0 && lo == 0)
        return r;
    if (hi == 0) {
        hi = lo;
        lo = 0;
        exp -= 64;
    }
    int s = clz64(hi);
    shl128(&hi, &lo, (uint32_t)s);
    r.hi = hi;
    r.lo = lo;
    r.exp = exp - s;
    return r;
}

static inline bool xf_is_zero(struct xf a) { return a.hi == 0 && a.lo == 0; }

static struct xf xf_from_fx(struct fx80 x) /* finite nonzero */
{
    int32_t e;
    uint64_t m;
    unpack(x, &e, &m);
    struct xf r = {m, 0, e - EXP_BIAS, sign_of(x)};
    return r;
}

static struct xf xf_from_int(int64_t v)
{
    bool s = v < 0;
    uint64_t mag = s ? 0 - (uint64_t)v : (uint64_t)v;
    return xf_make(s, 63, mag, 0);
}

static struct xf xf_neg(struct xf a)
{
    a.sign = !a.sign;
    return a;
}

static struct fx80 xf_round(struct fx80_env *env, struct xf a)
{
    if (xf_is_zero(a)) {
        env->c1_round_up = 0;
        return zero_of(a.sign);
    }
    /* Keep the exponent in a range where int32 arithmetic is safe. */
    int32_t e = a.exp;
    if (e > 100000)
        e = 100000;
    if (e < -100000)
        e = -100000;
    /* The hardware reports PE for every transcendental result, even one
     * that looks exact (e.g. F2XM1(1) or sin of a tiny argument). */
    return round_pack_core(env, a.sign, e + EXP_BIAS, a.hi, a.lo, 64, true);
}

static inline uint64_t add_carry(uint64_t a, uint64_t b, uint64_t *carry)
{
    uint64_t s = a + b;
    *carry += s < a;
    return s;
}

static struct xf xf_mul(struct xf a, struct xf b)
{
    if (xf_is_zero(a) || xf_is_zero(b)) {
        struct xf z = {0, 0, 0, a.sign ^ b.sign};
        return z;
    }
    uint64_t hh1, hh0, hl1, hl0, lh1, lh0, ll1, ll0;
    mul64(a.hi, b.hi, &hh1, &hh0);
    mul64(a.hi, b.lo, &hl1, &hl0);
    mul64(a.lo, b.hi, &lh1, &lh0);
    mul64(a.lo, b.lo, &ll1, &ll0);
    uint64_t c1 = 0, c2 = 0;
    uint64_t w1 = add_carry(add_carry(ll1, hl0, &c1), lh0, &c1);
    uint64_t w2 = add_carry(add_carry(add_carry(hh0, hl1, &c2), lh1, &c2), c1, &c2);
    uint64_t w3 = hh1 + c2;
    /* Product of two [1,2) significands is in [1,4): w3 bit 63 or 62. */
    struct xf r = {w3, w2, a.exp + b.exp + 1, a.sign ^ b.sign};
    if (!(w3 & J_BIT)) {
        r.hi = (w3 << 1) | (w2 >> 63);
        r.lo = (w2 << 1) | (w1 >> 63);
        r.exp--;
    }
    return r;
}

static struct xf xf_add(struct xf a, struct xf b)
{
    if (xf_is_zero(a))
        return b;
    if (xf_is_zero(b))
        return a;
    if (a.exp < b.exp || (a.exp == b.exp && (a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo)))) {
        struct xf t = a;
        a = b;
        b = t;
    }
    int64_t d = (int64_t)a.exp - b.exp;
    shr128_jam(&b.hi, &b.lo, d > 200 ? 200u : (uint32_t)d);
    if (a.sign == b.sign) {
        uint64_t c = 0;
        uint64_t lo = add_carry(a.lo, b.lo, &c);
        uint64_t hi = a.hi + b.hi + c;
        bool carry = hi < a.hi || (c && hi == a.hi);
        if (carry) {
            lo = (lo >> 1) | (hi << 63);
            hi = (hi >> 1) | J_BIT;
            a.exp++;
        }
        a.hi = hi;
        a.lo = lo;
        return a;
    }
    uint64_t lo = a.lo - b.lo;
    uint64_t hi = a.hi - b.hi - (a.lo < b.lo);
    return xf_make(a.sign, a.exp, hi, lo);
}

static struct xf xf_sub(struct xf a, struct xf b) { return xf_add(a, xf_neg(b)); }

/* 128-bit quotient by restoring division, one bit per step. */
static struct xf xf_div(struct xf a, struct xf b)
{
    uint64_t n_hi = a.hi, n_lo = a.lo, q_hi = 0, q_lo = 0;
    int32_t exp = a.exp - b.exp;
    bool top = false; /* bit 128 of the running remainder */
    if (n_hi < b.hi || (n_hi == b.hi && n_lo < b.lo)) {
        top = n_hi >> 63;
        shl128(&n_hi, &n_lo, 1);
        exp--;
    }
    for (int i = 0; i < 128; i++) {
        bool bit = top || n_hi > b.hi || (n_hi == b.hi && n_lo >= b.lo);
        if (bit) {
            uint64_t borrow = n_lo < b.lo;
            n_lo -= b.lo;
            n_hi = n_hi - b.hi - borrow;
        }
        q_hi = (q_hi << 1) | (q_lo >> 63);
        q_lo = (q_lo << 1) | bit;
        top = n_hi >> 63;
        shl128(&n_hi, &n_lo, 1);
    }
    struct xf r = {q_hi, q_lo, exp, a.sign ^ b.sign};
    return r;
}

/* Division by a small positive integer (d < 2^32). */
static struct xf xf_div_small(struct xf a, uint64_t d)
{
    if (xf_is_zero(a))
        return a;
    uint64_t r1, r0, r;
    uint64_t q1 = a.hi / d;
    r1 = a.hi % d;
    uint64_t q0 = div128by64(r1, a.lo, d, &r0);
    uint64_t qx = div128by64(r0, 0, d, &r);
    int s = clz64(q1); /* q1 >= 2^31 because d < 2^32 */
    uint64_t hi = q1, lo = q0;
    shl128(&hi, &lo, (uint32_t)s);
    if (s)
        lo |= qx >> (64 - s);
    struct xf res = {hi, lo, a.exp - s, a.sign};
    return res;
}

static struct xf xf_const(const uint64_t c[3]) /* {hi, lo, exp}, positive */
{
    struct xf r = {c[0], c[1], (int32_t)(int64_t)c[2], false};
    return r;
}

static const uint64_t XF_PI_2[3] = {UINT64_C(0xc90fdaa22168c234), UINT64_C(0xc4c6628b80dc1cd1), 0};
static const uint64_t XF_PI[3] = {UINT64_C(0xc90fdaa22168c234), UINT64_C(0xc4c6628b80dc1cd1), 1};
static const uint64_t XF_LN2[3] = {UINT64_C(0xb17217f7d1cf79ab), UINT64_C(0xc9e3b39803f2f6af), (uint64_t)-1};
static const uint64_t XF_LOG2E[3] = {UINT64_C(0xb8aa3b295c17f0bb), UINT64_C(0xbe87fed0691d3e88), 0};

/* sin(r) and cos(r) by Taylor series; |r| <= pi/4 keeps both short. */
static struct xf xf_sin_series(struct xf r)
{
    if (xf_is_zero(r))
        return r;
    struct xf r2 = xf_mul(r, r), term = r, sum = r;
    for (uint64_t n = 2; n < 80; n += 2) {
        term = xf_neg(xf_div_small(xf_mul(term, r2), n * (n + 1)));
        /* The first negligible term still goes in, as a sticky bit: the
         * hardware's sin/cos round by the true side of the value. */
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - XF_SERIES_BITS)
            break;
    }
    return sum;
}

static struct xf xf_cos_series(struct xf r)
{
    struct xf one = xf_from_int(1);
    if (xf_is_zero(r))
        return one;
    struct xf r2 = xf_mul(r, r), term = one, sum = one;
    for (uint64_t n = 1; n < 80; n += 2) {
        term = xf_neg(xf_div_small(xf_mul(term, r2), n * (n + 1)));
        /* The first negligible term still goes in, as a sticky bit: the
         * hardware's sin/cos round by the true side of the value. */
        sum = xf_add(sum, term);
        if (xf_is_zero(term) || term.exp < sum.exp - XF_SERIES_BITS)
            break;
    }
    return sum;
}

/* The x87 reduces trigonometric arguments modulo pi/2 using a 66-bit pi;
 * with this exact reduction the results for large arguments match the
 * hardware rather than the true function.  PI66_HALF = pi/2 * 2^65
 * truncated to 66 bits (the next bits of pi are zero). */
#define PI66_HI UINT64_C(0x3)
#define PI66_LO UINT64_C(0x243f6a8885a308d3)

/* Reduces finite |x| < 2^63: x = k*P + r with P = PI66/2^65, |r| <= P/2.
 * Returns k mod 4 and r exactly. */
static unsigned trig_reduce(struct fx80 x, struct xf *r)
{
    int32_t e;
    uint64_t m;
    unpack(x, &e, &m);
    e -= EXP_BIAS;
    bool sign = sign_of(x);
    if (e < -1) {
        *r = xf_from_fx(x); /* |x| < 1/2 < P/2 */
        return 0;
    }
    /* X = |x| * 2^65 as a 128-bit integer (e+2 in 1..64). */
    uint64_t x_hi = 0, x_lo = m;
    shl128(&x_hi, &x_lo, (uint32_t)(e + 2));
    /* k = floor(X / PI66), remainder by shift-and-subtract. */
    uint64_t k = 0, rem_hi = 0, rem_lo = 0;
    for (int i = 127; i >= 0; i--) {
        rem_hi = (rem_hi << 1) | (rem_lo >> 63);
        rem_lo = (rem_lo << 1) | ((i >= 64 ? x_hi >> (i - 64) : x_lo >> i) & 1);
        k <<= 1;
        if (rem_hi > PI66_HI || (rem_hi == PI66_HI && rem_lo >= PI66_LO)) {
            rem_hi = rem_hi - PI66_HI - (rem_lo < PI66_LO);
            rem_lo -= PI66_LO;
            k |= 1;
        }
    }
    /* Round to nearest multiple: if 2*rem > PI66, take rem - PI66. */
    uint64_t d_hi = rem_hi, d_lo = rem_lo;
    shl128(&d_hi, &d_lo, 1);
    bool neg = false;
    if (d_hi > PI66_HI || (d_hi == PI66_HI && d_lo > PI66_LO)) {
        k++;
        d_hi = PI66_HI - rem_hi - (PI66_LO < rem_lo);
        d_lo = PI66_LO - rem_lo;
        rem_hi = d_hi;
        rem_lo = d_lo;
        neg = true;
    }
    *r = xf_make(neg ^ sign, 127 - 65, rem_hi, rem_lo);
    /* sin/cos/tan of -x: reduce |x| and fold the sign in via k. */
    return sign ? (unsigned)(0 - k) & 3 : (unsigned)k & 3;
}

enum trig_kind { TRIG_SIN, TRIG_COS, TRIG_SINCOS, TRIG_TAN };

/* Below 2^-TAN_LINEAR_EXP the x87 tangent is x minus a sliver. */
#define TAN_LINEAR_EXP 33

/* Shared screening for FSIN/FCOS/FSINCOS/FPTAN.  Returns 1 when results
 * were produced, 0 for the out-of-range case, -1 to continue with x. */
static int trig_common(struct fx80_env *env, struct fx80 a, enum trig_kind kind, struct fx80 *r0,
                       struct fx80 *r1)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    struct fx80 special;
    switch (ca) {
    case FXC_UNSUPPORTED:
    case FXC_INF: special = invalid(env); break;
    case FXC_QNAN:
    case FXC_SNAN: special = propagate_nan1(env, a, ca); break;
    case FXC_ZERO:
        *r0 = kind == TRIG_COS ? make(false, EXP_BIAS, J_BIT) : a;
        *r1 = make(false, EXP_BIAS, J_BIT); /* cos(0) */
        return 1;
    case FXC_DENORMAL:
        raise_flags(env, EX_DE);
        return -1;
    default:
        if ((a.sign_exp & EXP_INF) >= EXP_BIAS + 63)
            return 0; /* |x| >= 2^63: C2 = 1, operand left alone */
        return -1;
    }
    *r0 = *r1 = special;
    return 1;
}

static void trig_eval(struct fx80_env *env, struct fx80 a, enum trig_kind kind, struct fx80 *r0,
                      struct fx80 *r1)
{
    if ((a.sign_exp & EXP_INF) < EXP_BIAS - 68) {
        /* |x| < 2^-68: the hardware returns sin = tan = x and cos = 1
         * outright, with PE and C1 = 0, whatever the rounding mode. */
        struct fx80 one = round_pack_core(env, false, EXP_BIAS, J_BIT, 0, 64, true);
        *r0 = *r1 = one;
        if (kind != TRIG_COS) {
            int32_t e;
            uint64_t m;
            unpack(a, &e, &m);
            *r0 = round_pack_core(env, sign_of(a), e, m, 0, 64, true);
        }
        env->c1_round_up = 0;
        return;
    }
    if (kind == TRIG_TAN && (a.sign_exp & EXP_INF) < EXP_BIAS - TAN_LINEAR_EXP) {
        /* Small |x|: the hardware's tangent comes out as x less a sliver
         * (it evidently divides sin x by a cos x that rounded to 1), so
         * directed roundings land below x.  Mirror that exactly. */
        *r0 = round_pack_core(env, sign_of(a), a.sign_exp & EXP_INF, a.mant - 1, ~UINT64_C(0),
                              64, true);
        return;
    }
    struct xf r;
    unsigned q = trig_reduce(a, &r);
    struct xf s = xf_sin_series(r), c = xf_cos_series(r);
    /* sin(kP + r), cos(kP + r) for k mod 4 = q. */
    struct xf sin_x, cos_x;
    switch (q) {
    case 0: sin_x = s; cos_x = c; break;
    case 1: sin_x = c; cos_x = xf_neg(s); break;
    case 2: sin_x = xf_neg(s); cos_x = xf_neg(c); break;
    default: sin_x = xf_neg(c); cos_x = s; break;
    }
    switch (kind) {
    case TRIG_SIN: *r0 = xf_round(env, sin_x); break;
    case TRIG_COS: *r0 = xf_round(env, cos_x); break;
    case TRIG_TAN: *r0 = xf_round(env, xf_div(sin_x, cos_x)); break;
    default: {
        /* Both results raise their flags; C1 reflects the last (cos). */
        *r0 = xf_round(env, sin_x);
        *r1 = xf_round(env, cos_x);
        break;
    }
    }
}

bool fx80_sin(struct fx80_env *env, struct fx80 a, struct fx80 *result)
{
    struct fx80 unused;
    int st = trig_common(env, a, TRIG_SIN, result, &unused);
    if (st >= 0)
        return st == 1;
    trig_eval(env, a, TRIG_SIN, result, &unused);
    return true;
}

bool fx80_cos(struct fx80_env *env, struct fx80 a, struct fx80 *result)
{
    struct fx80 unused;
    int st = trig_common(env, a, TRIG_COS, result, &unused);
    if (st >= 0)
        return st == 1;
    trig_eval(env, a, TRIG_COS, result, &unused);
    return true;
}

bool fx80_sincos(struct fx80_env *env, struct fx80 a, struct fx80 *sin_out, struct fx80 *cos_out)
{
    int st = trig_common(env, a, TRIG_SINCOS, sin_out, cos_out);
    if (st >= 0)
        return st == 1;
    trig_eval(env, a, TRIG_SINCOS, sin_out, cos_out);
    return true;
}

bool fx80_tan(struct fx80_env *env, struct fx80 a, struct fx80 *result)
{
    struct fx80 unused;
    int st = trig_common(env, a, TRIG_TAN, result, &unused);
    if (st >= 0)
        return st == 1;
    trig_eval(env, a, TRIG_TAN, result, &unused);
    return true;
}

/* atan(k/16), k = 1..16. */
static const uint64_t XF_ATAN_TABLE[16][3] = {
    {UINT64_C(0xffaaddb967ef4e36), UINT64_C(0xcb2792dc0e2e0d51), (uint64_t)-5},
    {UINT64_C(0xfeadd4d5617b6e32), UINT64_C(0xc897989f3e888ef7), (uint64_t)-4},
    {UINT64_C(0xbdcbda5e72d81134), UINT64_C(0x7b0b4f881c9c7487), (uint64_t)-3},
    {UINT64_C(0xfadbafc96406eb15), UINT64_C(0x6dc79ef5f7a217e5), (uint64_t)-3},
    {UINT64_C(0x9b13b9b83f5e5e69), UINT64_C(0xc5abb498d27af328), (uint64_t)-2},
    {UINT64_C(0xb7b0ca0f26f78473), UINT64_C(0x8aa32122dcfe4483), (uint64_t)-2},
    {UINT64_C(0xd327761e611fe5b6), UINT64_C(0x427c95e9001e7136), (uint64_t)-2},
    {UINT64_C(0xed63382b0dda7b45), UINT64_C(0x6fe445ecbc3a8d03), (uint64_t)-2},
    {UINT64_C(0x832bf4a6d9867e2a), UINT64_C(0x4b6a09cb61a515c0), (uint64_t)-1},
    {UINT64_C(0x8f005d5ef7f59f9b), UINT64_C(0x5c835e1665c43747), (uint64_t)-1},
    {UINT64_C(0x9a2f80e671bdda20), UINT64_C(0x4226f8e2204ff3bc), (uint64_t)-1},
    {UINT64_C(0xa4bc7d1934f70924), UINT64_C(0x19a87f2a457dac9e), (uint64_t)-1},
    {UINT64_C(0xaeac4c38b4d8c080), UINT64_C(0x14725e2f3e52070a), (uint64_t)-1},
    {UINT64_C(0xb8053e2bc2319e73), UINT64_C(0xcb2da55210a4443d), (uint64_t)-1},
    {UINT64_C(0xc0ce85b8ac526640), UINT64_C(0x89dd62c46e92fa24), (uint64_t)-1},
    {UINT64_C(0xc90fdaa22168c234), UINT64_C(0xc4c6628b80dc1cd1), (uint64_t)-1},
};

/* Odd series u + u^3/3 + ... (atanh) or u - u^3/3 + ... (atan). */
static struct xf xf_odd_series(struct xf u, bool alternate)
{
    if (xf_is_zero(u))
        return u;
    struct xf u2 = xf_mul(u, u), power = u, sum = u;
    for (uint64_t n = 3; n < 400; n += 2) {
        power = xf_mul(power, u2);
        if (alternate)
            power = xf_neg(power);
        struct xf term = xf_div_small(power, n);
        if (xf_is_zero(term) || term.exp < sum.exp - XF_SERIES_BITS)
            break;
        sum = xf_add(sum, term);
    }
    return sum;
}

/* atan(t) for 0 <= t <= 1: atan(t) = atan(c) + atan((t-c)/(1+tc)) with
 * c = k/16 nearest to t, leaving a series argument of at most 1/32. */
static struct xf xf_atan01(struct xf t)
{
    if (xf_is_zero(t))
        return t;
    /* k = round(16 t) from the top bits of t. */
    uint64_t k = 0;
    if (t.exp >= -5) {
        uint32_t shift = (uint32_t)(63 - (t.exp + 4)); /* t*16 integer part */
        uint64_t scaled = shift >= 64 ? 0 : t.hi >> shift;
        uint64_t half = shift >= 1 && shift <= 64 ? (t.hi >> (shift - 1)) & 1 : 0;
        k = scaled + half;
    }
    if (k == 0)
        return xf_odd_series(t, true);
    struct xf c = xf_div_small(xf_from_int((int64_t)k), 16);
    struct xf u = xf_div(xf_sub(t, c), xf_add(xf_from_int(1), xf_mul(t, c)));
    return xf_add(xf_const(XF_ATAN_TABLE[k - 1]), xf_odd_series(u, true));
}

struct fx80 fx80_atan2(struct fx80_env *env, struct fx80 y, struct fx80 x)
{
    enum fx_class cy = classify(y), cx = classify(x);
    struct fx80 r;
    if (screen2(env, y, cy, x, cx, &r))
        return r;
    raise_denormal2(env, cy, cx);
    bool sy = sign_of(y), sx = sign_of(x);
    struct xf angle;
    if (cy == FXC_ZERO || cx == FXC_INF || cy == FXC_INF || cx == FXC_ZERO) {
        /* Exact-axis and infinite cases: 0, pi/4, pi/2, 3pi/4 or pi. */
        if (cy == FXC_INF && cx == FXC_INF)
            angle = sx ? xf_mul(xf_const(XF_PI), xf_div_small(xf_from_int(3), 4))
                       : xf_div_small(xf_const(XF_PI), 4);
        else if (cy == FXC_INF || cx == FXC_ZERO)
            angle = cy == FXC_ZERO ? (sx ? xf_const(XF_PI) : xf_make(false, 0, 0, 0))
                                   : xf_const(XF_PI_2);
        else
            angle = sx ? xf_const(XF_PI) : xf_make(false, 0, 0, 0);
        angle.sign = sy;
        if (xf_is_zero(angle))
            return zero_of(sy);
        return xf_round(env, angle);
    }
    struct xf ay = xf_from_fx(y), ax = xf_from_fx(x);
    ay.sign = ax.sign = false;
    bool y_bigger = ay.exp > ax.exp || (ay.exp == ax.exp && ay.hi > ax.hi);
    if (y_bigger)
        angle = xf_sub(xf_const(XF_PI_2), xf_atan01(xf_div(ax, ay)));
    else
        angle = xf_atan01(xf_div(ay, ax));
    if (sx)
        angle = xf_sub(xf_const(XF_PI), angle);
    angle.sign = sy;
    return xf_round(env, angle);
}

struct fx80 fx80_f2xm1(struct fx80_env *env, struct fx80 a)
{
    enum fx_class ca = classify(a);
    env->c1_round_up = 0;
    switch (ca) {
    case FXC_UNSUPPORTED: return invalid(env);
    case FXC_QNAN:
    case FXC_SNAN: return propagate_nan1(env, a, ca);
    case FXC_ZERO: return a;
    case FXC_INF: return sign_of(a) ? make(true, EXP_BIAS, J_BIT) : a;
    case FXC_DENORMAL: raise_flags(env, EX_DE); break;
    default: break;
    }
    /* 2^a - 1 = expm1(a ln2), Taylor series (the hardware only defines
     * |a| <= 1, where it converges quickly). */
    struct xf u = xf_mul(xf_from_fx(a), xf_const(XF_LN2));
    struct xf term = u, sum = u;
    for (uint64_t n = 2; n < 400; n++) {
        term = xf_div_small(xf_mul(term, u), n);
        if (xf_is_zero(term) || term.exp < sum.exp - XF_SERIES_BITS)
            break;
        sum = xf_add(sum, term);
    }
    return xf_round(env, sum);
}

/* log2(x) for finite x > 0. */
static struct xf xf_log2(struct fx80 x)
{
    int32_t e;
    uint64_t m;
    unpack(x, &e, &m);
    e -= EXP_BIAS;
    struct xf mant = xf_make(false, 0, m, 0);
    if (m > UINT64_C(0xb504f333f9de6484)) { /* above sqrt(2): use m/2 */
        mant.exp = -1;
        e++;
    }
    /* ln(m) = 2 atanh((m-1)/(m+1)), |s| <= 0.172 */
    struct xf one = xf_from_int(1);
    struct xf s = xf_div(xf_sub(mant, one), xf_add(mant, one));
    struct xf ln_m = xf_odd_series(s, false);
    ln_m.exp++;
    return xf_add(xf_from_int(e), xf_mul(ln_m, xf_const(XF_LOG2E)));
}

struct fx80 fx80_yl2x(struct fx80_env *env, struct fx80 y, struct fx80 x)
{
    enum fx_class cy = classify(y), cx = classify(x);
    struct fx80 r;
    if (screen2(env, y, cy, x, cx, &r))
        return r;
    bool sy = sign_of(y), sx = sign_of(x);
    if (sx && cx != FXC_ZERO)
        return invalid(env); /* log of a negative number */
    if (cx == FXC_ZERO) {
        if (cy == FXC_ZERO)
            return invalid(env);
        if (cy != FXC_INF)
            raise_flags(env, EX_ZE); /* outranks DE */
        return inf_of(!sy); /* y * -inf */
    }
    if (cx == FXC_INF) {
        if (cy == FXC_ZERO)
            return invalid(env);
        raise_denormal2(env, cy, cx);
        return inf_of(sy);
    }
    bool x_is_one = (x.sign_exp & EXP_INF) == EXP_BIAS && x.mant == J_BIT;
    if (cy == FXC_INF) {
        if (x_is_one)
            return invalid(env); /* inf * 0 */
        raise_denormal2(env, cy, cx);
        bool below_one = (x.sign_exp & EXP_INF) < EXP_BIAS;
        return inf_of(sy ^ below_one);
    }
    raise_denormal2(env, cy, cx);
    struct xf l = xf_log2(x);
    if (cy == FXC_ZERO || xf_is_zero(l))
        return zero_of(sy ^ l.sign);
    return xf_round(env, xf_mul(xf_from_fx(y), l));
}

struct fx80 fx80_yl2xp1(struct fx80_env *env, struct fx80 y, struct fx80 x)
{
    enum fx_class cy = classify(y), cx = classify(x);
    struct fx80 r;
    if (screen2(env, y, cy, x, cx, &r))
        return r;
    bool sy = sign_of(y), sx = sign_of(x);
    if (cx == FXC_INF || cy == FXC_INF) {
        /* y * log2(1 + x) with an infinite factor; log2(1 + -inf) and
         * inf * 0 are invalid. */
        if (cx == FXC_ZERO || cy == FXC_ZERO || (cx == FXC_INF && sx))
            return invalid(env);
        raise_denormal2(env, cy, cx);
        return inf_of(sy ^ sx);
    }
    raise_denormal2(env, cy, cx);
    if (cx == FXC_ZERO || cy == FXC_ZERO)
        return zero_of(sy ^ sx);
    /* log2(1+x) = 2 atanh(x/(2+x)) / ln2 */
    struct xf xv = xf_from_fx(x);
    struct xf s = xf_div(xv, xf_add(xf_from_int(2), xv));
    struct xf l = xf_odd_series(s, false);
    l.exp++;
    return xf_round(env, xf_mul(xf_from_fx(y), xf_mul(l, xf_const(XF_LOG2E))));
}
