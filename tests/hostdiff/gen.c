/*
 * gen.c - random instruction-sequence generator for fox86's host
 * differential test (format and sandbox: hostdiff.h; API: gen.h).
 *
 * What a case is.  gen_case(seed) derives everything from one private
 * SplitMix64 stream: the data seed, the initial GPRs (every one of them is
 * chosen here, so the generator knows all initial values), EFLAGS, the x87
 * state (random control word with every exception masked, TOP, sticky
 * bits, a random mix of empty and full registers holding "interesting"
 * 80-bit values) and 5..30 random *items*.  An item is one instruction of
 * interest plus whatever it needs: setup moves that point a base register
 * into the data region, a flag-defining CMP before a flag consumer, an
 * FXAM before a status-word consumer, or a small structure (forward jump
 * over a block, counted LOOP, CALL/RET, ENTER...LEAVE, FNSAVE...FRSTOR).
 * About one case in eight then ends with a deliberately faulting
 * instruction (HD_CF_EXPECT_FAULT).  Only fixed-width integer arithmetic
 * and this file's PRNG are used, so i386 and x86-64 builds produce
 * byte-identical cases.
 *
 * Invariants the generator keeps (so a case runs the same everywhere):
 *  - Register knowledge: struct track holds, per GPR, whether its exact
 *    value is known.  Memory operands are built from a target address:
 *    absolute, or base/index/scale/disp using a known register, or after a
 *    setup MOV.  ESP is always known; pushes keep it above HD_STACK_LOW+64.
 *  - Data-region areas (offsets): [0, 0xA000) "hot" read/write operands,
 *    drawn mostly from four 64-byte windows so that results chain through
 *    memory; [0xA000, 0xA100) the patch pool (one 16-byte slot per patch:
 *    x87 constants, BCD, BOUND pairs, jump targets), never written;
 *    [0xC000, 0x10000) the stack, only read by ordinary operands.  Return
 *    addresses and ENTER frames therefore survive their bodies, which may
 *    not push/pop.
 *  - Marks: before every instruction (setup moves included) the current
 *    defined-EFLAGS / defined-C0..C3 masks are recorded; each instruction
 *    then defines or undefines bits as the SDM says.  Forward jumps
 *    intersect both paths; LOOP bodies start from "nothing defined", lock
 *    every register that is known (or is the counter), and so are valid
 *    for every iteration.  A consumer of an undefined flag gets a CMP
 *    first; FNSTSW/FNSTENV/FNSAVE get an FXAM/FTST/FCOM first.
 *  - No undefined register results (see hostdiff.h), no privileged or
 *    OS-visible instruction except in the final deliberate fault, no
 *    backward jump but a loop's (LOOP with ECX in 1..6, or a Jcc or JMP
 *    back with a counter in 1..6: item_jcc_loop), REP counts <= 40, no
 *    FS/GS, no 0x66 on any branch, no 0x67 except where no memory is
 *    touched (LEA, long NOP, JCXZ/LOOP on CX) or in the #PF ending.
 *  - AC: 3% of cases run with EFLAGS.AC=1; they keep every access 16-byte
 *    aligned (and ESP 4-aligned, so no 16-bit stack ops); half of them end
 *    with a deliberate misaligned load (#AC).
 *  - FNSTENV/FNSAVE images get their FIP/FCS/FOP/FDP/FDS fields
 *    overwritten right away: those are implementation-specific and would
 *    otherwise leak into the data hash.
 *  - Transcendentals (HD_CF_TRANSCENDENTAL): at most one per case, with a
 *    freshly loaded in-domain argument, and no x87 instruction after it, so
 *    that a last-ulp difference can only show in st[] (which the
 *    comparator allows), never in memory, flags or integer registers.
 *
 * Weighting.  One case in three is an x87 case: there roughly half of the
 * items are x87.  Generic ModRM instructions come from gen_table (weights
 * per row); structured items from item_kinds.  Register/memory r/m choice
 * uses a per-case memory percentage of 45..75%, 16-bit operand size ~25%
 * of full-size operations, 8-bit ~30% of byte/full pairs.
 */
#include "gen.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hostdiff.h"

/* ---- layout ------------------------------------------------------------ */

#define AREA_HOT_END  0xA000u   /* ordinary operands are written below this */
#define AREA_POOL     0xA000u   /* patch slot k at AREA_POOL + 16 * k */
#define AREA_READ_END 0xC000u   /* ordinary reads stay below (plus stack reads) */
#define HOT_WINDOWS   4u
#define HOT_WINDOW    64u
#define STACK_FLOOR   (HD_STACK_LOW + 64u)   /* lowest ESP after any push */
#define STACK_CEIL    (HD_DATA_END - 16u)    /* highest ESP after any pop */

/* per-item budget reserved before an item starts */
#define ITEM_MAX_BYTES 420u
#define ITEM_MAX_MARKS 56u

/* ---- flags -------------------------------------------------------------- */

#define CF HD_CF
#define PF HD_PF
#define AF HD_AF
#define ZF HD_ZF
#define SF HD_SF
#define OF HD_OF
#define ALL6 HD_ARITH_FLAGS
#define LOGIC_DEF (CF | OF | SF | ZF | PF)
#define C0 HD_FSW_C0
#define C1 HD_FSW_C1
#define C2 HD_FSW_C2
#define C3 HD_FSW_C3
#define CC_ALL HD_FSW_CC
#define CC_NOT_C1 (C0 | C2 | C3)

/* flags read by condition code cc (Jcc/SETcc/CMOVcc order) */
static const uint16_t cc_uses[16] = {
    OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF,
    SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF,
};

#define RB(r) ((uint8_t)(1u << (r)))

/* ---- generator state ---------------------------------------------------- */

/* What the generator knows at the current point of the code. */
struct track {
    uint32_t value[8];      /* value[r] valid when known has bit r */
    uint16_t efl_def;       /* arithmetic flags whose value is defined */
    uint16_t fsw_def;       /* C0..C3 bits whose value is defined */
    uint8_t known;          /* GPRs with a known exact value (ESP always) */
    uint8_t df;             /* EFLAGS.DF */
};

/* restrictions of a nested context (bodies of jumps, loops, calls) */
#define CTX_NO_STACK 0x01u  /* no push/pop/ESP change */
#define CTX_NO_FLOW  0x02u  /* no jumps, loops, calls */
#define CTX_NO_DF    0x04u  /* DF may not change */
#define CTX_SMALL    0x08u  /* no long items (keeps rel8 reachable) */
#define CTX_NO_ECX   0x10u  /* string ops (ECX/ESI/EDI) not allowed */

struct gen {
    struct hd_case *c;
    uint64_t rng;
    struct track t;
    uint8_t locked;         /* GPRs the current context must not write */
    uint8_t ctx;            /* CTX_* */
    bool ac;                /* EFLAGS.AC is set: keep all accesses aligned */
    bool x87;               /* x87 items are part of this case */
    bool x87_closed;        /* a transcendental ran: no more x87 */
    uint32_t mem_pct;       /* chance that an r/m operand is memory */
    uint32_t hot[HOT_WINDOWS];  /* offsets of the shared read/write windows */
};

/* ---- PRNG --------------------------------------------------------------- */

static uint64_t rng_u64(struct gen *g)
{
    g->rng += 0x9E3779B97F4A7C15ull;
    return hd_mix64(g->rng);
}

static uint32_t rng_u32(struct gen *g)
{
    return (uint32_t)(rng_u64(g) >> 32);
}

/* uniform in [0, n), n > 0 */
static uint32_t rnd(struct gen *g, uint32_t n)
{
    return (uint32_t)(((uint64_t)rng_u32(g) * n) >> 32);
}

/* One entry of a weighted template table (every table has a uint8_t
 * `weight`), chosen with a single rnd() draw. */
static const void *pick_weighted(struct gen *g, const void *table, size_t count, size_t stride,
                                 size_t weight_offset)
{
    const uint8_t *base = table;
    uint32_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += base[i * stride + weight_offset];
    uint32_t pick = rnd(g, total);
    size_t i = 0;
    while (pick >= base[i * stride + weight_offset]) {
        pick -= base[i * stride + weight_offset];
        i++;
    }
    return base + i * stride;
}

#define PICK_WEIGHTED(g, table, count) \
    ((const __typeof__((table)[0]) *)pick_weighted((g), (table), (count), sizeof (table)[0], \
                                                    offsetof(__typeof__((table)[0]), weight)))

static bool chance(struct gen *g, uint32_t pct)
{
    return rnd(g, 100) < pct;
}

/* index of a random set bit of mask (0 when mask is 0) */
static unsigned pick_bit(struct gen *g, uint32_t mask)
{
    unsigned n = 0, bits[32];
    for (unsigned i = 0; i < 32; i++)
        if (mask & (1u << i))
            bits[n++] = i;
    return n ? bits[rnd(g, n)] : 0;
}

static uint32_t pick_from(struct gen *g, const uint32_t *vals, uint32_t n)
{
    return vals[rnd(g, n)];
}

/* ---- instruction builder and emission ----------------------------------- */

struct insn {
    uint8_t pfx[8], n_pfx;      /* required prefixes (order is shuffled) */
    uint8_t opt[4], n_opt;      /* redundant prefixes, added if length allows */
    uint8_t body[16], n_body;   /* opcode, ModRM, SIB, displacement, immediate */
};

static void in_pfx(struct insn *in, uint8_t p) { in->pfx[in->n_pfx++] = p; }
static void in_opt(struct insn *in, uint8_t p) { if (in->n_opt < 4) in->opt[in->n_opt++] = p; }
static void in_b(struct insn *in, uint8_t b) { in->body[in->n_body++] = b; }

static void in_u16(struct insn *in, uint32_t v)
{
    in_b(in, (uint8_t)v);
    in_b(in, (uint8_t)(v >> 8));
}

static void in_u32(struct insn *in, uint32_t v)
{
    in_u16(in, v);
    in_u16(in, v >> 16);
}

static void in_imm(struct insn *in, uint32_t v, unsigned width)
{
    if (width == 8)
        in_b(in, (uint8_t)v);
    else if (width == 16)
        in_u16(in, v);
    else
        in_u32(in, v);
}

static uint32_t mark_eflags(const struct track *t)
{
    return ~(uint32_t)(HD_ARITH_FLAGS & ~t->efl_def);
}

static void add_mark(struct gen *g)
{
    struct hd_case *c = g->c;
    if (c->n_marks >= HD_MAX_MARKS)
        return;     /* cannot happen: items reserve their budget */
    struct hd_mark *m = &c->marks[c->n_marks++];
    m->offset = (uint16_t)c->code_len;
    m->fsw_defined = g->t.fsw_def;
    m->eflags_defined = mark_eflags(&g->t);
}

/*
 * Appends one instruction: the mark for the current state, then prefixes
 * (shuffled, plus redundant ones while the length stays <= 15), then the
 * body.  Returns the offset of the instruction.
 */
static uint32_t commit(struct gen *g, struct insn *in)
{
    struct hd_case *c = g->c;
    uint8_t pfx[16];
    unsigned n = in->n_pfx;
    memcpy(pfx, in->pfx, n);
    if (chance(g, 4) && in->n_opt < 4)
        in_opt(in, (uint8_t)pick_from(g, (const uint32_t[]){ 0x26, 0x36, 0x3E }, 3));
    for (unsigned i = 0; i < in->n_opt && n + in->n_body < 15; i++)
        pfx[n++] = in->opt[i];
    for (unsigned i = n; i > 1; i--) {
        unsigned j = rnd(g, i);
        uint8_t tmp = pfx[i - 1];
        pfx[i - 1] = pfx[j];
        pfx[j] = tmp;
    }
    uint32_t start = c->code_len;
    if (start + n + in->n_body > HD_CODE_MAX)
        return start;   /* cannot happen: items reserve their budget */
    add_mark(g);
    memcpy(c->code + start, pfx, n);
    memcpy(c->code + start + n, in->body, in->n_body);
    c->code_len = start + n + in->n_body;
    return start;
}

/* a whole instruction from raw bytes, no extra prefixes */
static uint32_t emit_bytes(struct gen *g, const uint8_t *bytes, unsigned n)
{
    struct hd_case *c = g->c;
    uint32_t start = c->code_len;
    add_mark(g);
    memcpy(c->code + start, bytes, n);
    c->code_len = start + n;
    return start;
}

static void flags_apply(struct gen *g, uint16_t def, uint16_t undef)
{
    g->t.efl_def = (uint16_t)((g->t.efl_def | def) & ~undef);
}

static void fsw_apply(struct gen *g, uint16_t def, uint16_t undef)
{
    g->t.fsw_def = (uint16_t)((g->t.fsw_def | def) & ~undef);
}

/* ---- registers ---------------------------------------------------------- */

static void reg_clobber(struct gen *g, unsigned r32)
{
    g->t.known &= (uint8_t)~RB(r32);
}

/* register r of the given width was written with an unknown value */
static void reg_written(struct gen *g, unsigned r, unsigned width)
{
    reg_clobber(g, width == 8 ? (r & 3u) : r);
}

static void reg_set(struct gen *g, unsigned r, uint32_t v)
{
    g->t.known |= RB(r);
    g->t.value[r] = v;
}

static bool reg_known(const struct gen *g, unsigned r)
{
    return (g->t.known & RB(r)) != 0;
}

static bool reg_writable(const struct gen *g, unsigned r32)
{
    return r32 != HD_ESP && !(g->locked & RB(r32));
}

/* a destination register number for `width` (8-bit: AL..BH), or -1 */
static int pick_dest_reg(struct gen *g, unsigned width, uint8_t avoid32)
{
    unsigned cand[8], n = 0, pref[8], np = 0;
    for (unsigned r = 0; r < 8; r++) {
        unsigned r32 = width == 8 ? (r & 3u) : r;
        if (!reg_writable(g, r32) || (avoid32 & RB(r32)))
            continue;
        cand[n++] = r;
        if (r32 <= HD_EDX)
            pref[np++] = r;
    }
    if (n == 0)
        return -1;
    if (np && chance(g, 45))
        return (int)pref[rnd(g, np)];
    return (int)cand[rnd(g, n)];
}

static int pick_src_reg(struct gen *g, unsigned width)
{
    (void)width;
    return (int)rnd(g, 8);
}

/* register a setup move may load, preferring the usual pointer registers */
static int pick_setup_reg(struct gen *g, uint8_t avoid)
{
    static const unsigned pointer_regs[4] = { HD_EBX, HD_ESI, HD_EDI, HD_EBP };
    unsigned cand[8], n = 0;
    if (chance(g, 75))
        for (unsigned i = 0; i < 4; i++)
            if (reg_writable(g, pointer_regs[i]) && !(avoid & RB(pointer_regs[i])))
                cand[n++] = pointer_regs[i];
    if (n == 0)
        for (unsigned r = 0; r < 8; r++)
            if (reg_writable(g, r) && !(avoid & RB(r)))
                cand[n++] = r;
    return n ? (int)cand[rnd(g, n)] : -1;
}

static void emit_setup(struct gen *g, unsigned r, uint32_t v)
{
    struct insn in = { 0 };
    if (chance(g, 85)) {
        in_b(&in, (uint8_t)(0xB8 + r));
    } else {
        in_b(&in, 0xC7);
        in_b(&in, (uint8_t)(0xC0 + r));
    }
    in_u32(&in, v);
    commit(g, &in);
    reg_set(g, r, v);
}

/* ---- "interesting" values ------------------------------------------------ */

static uint32_t gen_int(struct gen *g)
{
    static const uint32_t special[] = {
        0, 1, 2, 0xFFFFFFFFu, 0xFFFFFFFEu, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000,
        0xFFFF, 0x10000, 0x7FFFFFFFu, 0x80000000u, 0x80000001u, 0xFFFFFF80u, 0xFFFF8000u,
    };
    switch (rnd(g, 8)) {
    case 0: case 1: return pick_from(g, special, sizeof special / sizeof special[0]);
    case 2: return rnd(g, 256);
    case 3: {   /* packed-BCD-looking low byte */
        uint32_t v = rng_u32(g) & 0xFFFFFF00u;
        return v | (rnd(g, 10) << 4) | rnd(g, 16);
    }
    case 4: return rng_u32(g) & rng_u32(g) & rng_u32(g);   /* few bits set */
    case 5: return (uint32_t)-(int32_t)rnd(g, 300);
    default: return rng_u32(g);
    }
}

static uint32_t pick_imm(struct gen *g, unsigned width)
{
    uint32_t v = gen_int(g);
    return width == 8 ? (v & 0xFF) : width == 16 ? (v & 0xFFFF) : v;
}

/* a shift/rotate count (imm8 or CL); 16-bit SHLD/SHRD stay <= 16 after masking */
static uint32_t pick_count(struct gen *g, unsigned width, bool dshift16)
{
    if (dshift16) {
        static const uint32_t c16[] = { 0, 1, 2, 15, 16, 32, 33, 48 };
        return chance(g, 60) ? pick_from(g, c16, 8) : rnd(g, 17) + (chance(g, 20) ? 32 : 0);
    }
    uint32_t special[] = { 0, 1, width - 1, width, width + 1, 31, 32, 33, 63, 255 };
    return chance(g, 65) ? pick_from(g, special, 10) : rnd(g, 256);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* 80-bit extended value: significand (with explicit J bit) + sign/exponent */
static void gen_f80(struct gen *g, uint8_t out[10])
{
    uint16_t sign = chance(g, 50) ? 0x8000 : 0;
    uint16_t exp;
    uint64_t mant;
    switch (rnd(g, 22)) {
    case 0: case 1: case 2: case 3: case 4:     /* ordinary, near 1 */
        exp = (uint16_t)(0x3FFF + rnd(g, 129) - 64);
        mant = rng_u64(g) | (1ull << 63);
        break;
    case 5:                                     /* any normal */
        exp = (uint16_t)(1 + rnd(g, 0x7FFE));
        mant = rng_u64(g) | (1ull << 63);
        break;
    case 6: case 7: {                           /* small integer */
        uint32_t k = 1 + rnd(g, 1000);
        unsigned msb = 31;
        while (!(k >> msb))
            msb--;
        exp = (uint16_t)(0x3FFF + msb);
        mant = (uint64_t)k << (63 - msb);
        break;
    }
    case 8: {                                   /* k + 1/2: rounding ties */
        uint32_t k = 2 * rnd(g, 1000) + 1;
        unsigned msb = 31;
        while (!(k >> msb))
            msb--;
        exp = (uint16_t)(0x3FFF + msb - 1);
        mant = (uint64_t)k << (63 - msb);
        break;
    }
    case 9: exp = 0; mant = 0; break;           /* zero */
    case 10:                                    /* denormal */
        exp = 0;
        mant = (rng_u64(g) >> (1 + rnd(g, 62))) | 1;
        break;
    case 11: exp = 0x7FFF; mant = 1ull << 63; break;     /* infinity */
    case 12:                                    /* QNaN, sometimes the indefinite */
        exp = 0x7FFF;
        mant = chance(g, 30) ? 0xC000000000000000ull : (0xC000000000000000ull | (rng_u64(g) >> 2));
        break;
    case 13:                                    /* SNaN */
        exp = 0x7FFF;
        mant = 0x8000000000000000ull | (rng_u64(g) >> 2) | 1;
        break;
    case 14: case 15: {                         /* near a double/single rounding boundary */
        static const uint64_t dlow[] = { 0x400, 0x3FF, 0x401, 0x7FF, 0xC00, 0x000, 0x001 };
        static const uint64_t slow[] = { 1ull << 39, (1ull << 39) - 1, (1ull << 39) + 1,
                                         (1ull << 40) - 1, 3ull << 39 };
        exp = (uint16_t)(0x3FFF + rnd(g, 41) - 20);
        mant = rng_u64(g) | (1ull << 63);
        if (chance(g, 50))
            mant = (mant & ~0x7FFull) | dlow[rnd(g, 7)];
        else
            mant = (mant & ~((1ull << 40) - 1)) | slow[rnd(g, 5)];
        break;
    }
    case 16:                                    /* largest / smallest normal */
        exp = chance(g, 50) ? 0x7FFE : 1;
        mant = exp == 1 ? (1ull << 63) : ~0ull;
        break;
    case 17:                                    /* big, integer-valued (FIST overflow) */
        exp = (uint16_t)(0x3FFF + 14 + rnd(g, 56));
        mant = rng_u64(g) | (1ull << 63);
        break;
    case 18:                                    /* near the double/single exponent limits */
        exp = (uint16_t)(chance(g, 50) ? 0x3FFF + 1023 + rnd(g, 3) - 1 : 0x3FFF - 1022 - rnd(g, 70));
        if (chance(g, 40))
            exp = (uint16_t)(chance(g, 50) ? 0x3FFF + 127 + rnd(g, 3) - 1 : 0x3FFF - 126 - rnd(g, 30));
        mant = rng_u64(g) | (1ull << 63);
        break;
    case 19:                                    /* unsupported encodings (rare) */
        if (chance(g, 40)) {
            exp = (uint16_t)(1 + rnd(g, 0x7FFE));   /* unnormal */
            mant = rng_u64(g) >> 1;
        } else if (chance(g, 50)) {
            exp = 0x7FFF;                           /* pseudo-infinity / pseudo-NaN */
            mant = chance(g, 50) ? 0 : rng_u64(g) >> 1;
        } else {
            exp = 0;                                /* pseudo-denormal */
            mant = rng_u64(g) | (1ull << 63);
        }
        break;
    default:                                    /* fully random pattern */
        exp = (uint16_t)(rng_u32(g) & 0x7FFF);
        mant = rng_u64(g);
        break;
    }
    put_le(out, mant, 8);
    put_le(out + 8, (uint16_t)(sign | exp), 2);
}

/* IEEE binary64 / binary32 operands for memory */
static uint64_t gen_ieee(struct gen *g, unsigned ebits, unsigned fbits)
{
    uint64_t emax = (1ull << ebits) - 1, bias = emax >> 1;
    uint64_t fmask = (1ull << fbits) - 1;
    uint64_t sign = chance(g, 50) ? 1 : 0;
    uint64_t e, f = rng_u64(g) & fmask;
    switch (rnd(g, 14)) {
    case 0: case 1: case 2: case 3: e = bias + rnd(g, 41) - 20; break;
    case 4: e = 1 + rnd(g, (uint32_t)emax - 1); break;
    case 5: {
        uint32_t k = 1 + rnd(g, 1000);
        unsigned msb = 31;
        while (!(k >> msb))
            msb--;
        e = bias + msb;
        f = ((uint64_t)k << (fbits - msb)) & fmask;
        break;
    }
    case 6: e = 0; f = 0; break;
    case 7: e = 0; f = (f >> rnd(g, fbits)) | 1; break;
    case 8: e = emax; f = 0; break;
    case 9: e = emax; f = (1ull << (fbits - 1)) | (chance(g, 50) ? 0 : f); break;
    case 10: e = emax; f = ((f >> 1) | 1) & (fmask >> 1); break;    /* SNaN */
    case 11: e = chance(g, 50) ? emax - 1 : 1; f = e == 1 ? 0 : fmask; break;
    case 12: e = bias + 20 + rnd(g, 50); break;                     /* big integers */
    default: e = rng_u64(g) & emax; break;
    }
    return (sign << (ebits + fbits)) | (e << fbits) | f;
}

static uint64_t gen_int64(struct gen *g, unsigned bits)
{
    static const uint64_t special[] = { 0, 1, ~0ull, 0x7FFF, 0x8000, 0x7FFFFFFF, 0x80000000ull,
                                        0x7FFFFFFFFFFFFFFFull, 0x8000000000000000ull };
    uint64_t v;
    switch (rnd(g, 4)) {
    case 0: v = special[rnd(g, 9)]; break;
    case 1: v = (uint64_t)(int64_t)(int32_t)(rnd(g, 2001) - 1000); break;
    default: v = rng_u64(g); break;
    }
    return bits == 64 ? v : v & ((1ull << bits) - 1);
}

static void gen_bcd(struct gen *g, uint8_t out[10])
{
    unsigned digits = 1 + rnd(g, 18);
    memset(out, 0, 10);
    for (unsigned d = 0; d < digits; d++)
        out[d / 2] |= (uint8_t)(rnd(g, 10) << (4 * (d % 2)));
    out[9] = chance(g, 50) ? 0x80 : 0;
}

/* ---- data-region addresses and memory operands ------------------------- */

/* A patch-pool slot of up to 11 bytes; returns its address or 0 if full. */
static uint32_t pool_put(struct gen *g, const uint8_t *bytes, unsigned len)
{
    struct hd_case *c = g->c;
    if (c->n_patches >= HD_MAX_PATCHES || len == 0 || len > 11)
        return 0;
    struct hd_patch *p = &c->patches[c->n_patches];
    p->offset = AREA_POOL + 16u * c->n_patches;
    p->len = (uint8_t)len;
    memcpy(p->bytes, bytes, len);
    c->n_patches++;
    return HD_DATA_BASE + p->offset;
}

static bool pool_full(const struct gen *g)
{
    return g->c->n_patches >= HD_MAX_PATCHES;
}

/* Is [start, start+len) inside the data region below `end_off`? */
static bool range_ok(uint32_t start, uint32_t len, uint32_t end_off)
{
    return start >= HD_DATA_BASE && start - HD_DATA_BASE <= end_off && len <= end_off - (start - HD_DATA_BASE);
}

static uint32_t natural_align(uint32_t size)
{
    return size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
}

/* alignment unit for a new operand of `size` bytes */
static uint32_t align_unit(struct gen *g, uint32_t size)
{
    if (g->ac)
        return 16;
    return chance(g, 82) ? natural_align(size) : 1;
}

static uint32_t align_down(uint32_t off, uint32_t unit)
{
    return off & ~(unit - 1);
}

/* an address for a `size`-byte ordinary operand (write: hot area only) */
static uint32_t pick_addr(struct gen *g, uint32_t size, bool write)
{
    uint32_t unit = align_unit(g, size);
    uint32_t off;
    uint32_t r = rnd(g, 100);
    if (r < (write ? 85u : 55u)) {
        off = g->hot[rnd(g, HOT_WINDOWS)] + rnd(g, HOT_WINDOW);
        if (off + size > AREA_HOT_END)
            off = AREA_HOT_END - size;
    } else if (write || r < 80) {
        off = rnd(g, (write ? AREA_HOT_END : AREA_READ_END) - size + 1);
    } else if (r < 88 && (!g->ac || (size & (size - 1)) == 0)) {
        /* the very first / last bytes of the region */
        return HD_DATA_BASE + (chance(g, 50) ? 0 : HD_DATA_SIZE - size);
    } else {
        off = AREA_READ_END + rnd(g, HD_DATA_SIZE - AREA_READ_END - size + 1);  /* stack area */
    }
    return HD_DATA_BASE + align_down(off, unit);
}

/* a range of `len` bytes (string ops, images): start address, aligned */
static uint32_t pick_range(struct gen *g, uint32_t len, bool write, uint32_t unit)
{
    uint32_t end = write ? AREA_HOT_END : AREA_READ_END;
    uint32_t off;
    if (chance(g, 70)) {
        off = g->hot[rnd(g, HOT_WINDOWS)] + rnd(g, HOT_WINDOW);
        if (off + len > end)
            off = end - len;
    } else {
        off = rnd(g, end - len + 1);
    }
    if (g->ac)
        unit = 16;
    return HD_DATA_BASE + align_down(off, unit);
}

/* an encoded memory operand (ModRM reg field supplied when encoding) */
struct memop {
    uint8_t mod, rm, sib, has_sib, disp_len;
    uint32_t disp;
    uint8_t regs;           /* GPRs the address uses */
};

static bool fits8(uint32_t v)
{
    return (int32_t)v >= -128 && (int32_t)v <= 127;
}

/* known register (not in avoid) such that ea - value fits the disp size */
static int find_base(struct gen *g, uint32_t want, unsigned disp_len, uint8_t avoid)
{
    unsigned cand[8], n = 0;
    for (unsigned r = 0; r < 8; r++) {
        if (!reg_known(g, r) || (avoid & RB(r)))
            continue;
        uint32_t d = want - g->t.value[r];
        if ((disp_len == 0 && d == 0 && r != HD_EBP) || (disp_len == 1 && fits8(d)) || disp_len == 4)
            cand[n++] = r;
    }
    return n ? (int)cand[rnd(g, n)] : -1;
}

static uint32_t random_disp(struct gen *g, unsigned disp_len)
{
    if (disp_len == 0)
        return 0;
    if (disp_len == 1)
        return (uint32_t)(int32_t)((int)rnd(g, 256) - 128);
    return chance(g, 50) ? (uint32_t)((int)rnd(g, 8192) - 4096) : rng_u32(g);
}

/*
 * Builds an addressing form whose effective address is `ea`, emitting setup
 * moves where no known register fits.  Registers in `avoid` are neither
 * used nor loaded.  Falls back to an absolute address.
 */
static void build_mem(struct gen *g, uint32_t ea, uint8_t avoid, struct memop *m)
{
    memset(m, 0, sizeof *m);
    uint32_t form = rnd(g, 100);
    if (form < 10) {
        goto absolute;
    } else if (form < 12) {                  /* SIB, no base, no index */
        m->mod = 0;
        m->rm = 4;
        m->has_sib = 1;
        m->sib = (uint8_t)((rnd(g, 4) << 6) | (4 << 3) | 5);
        m->disp_len = 4;
        m->disp = ea;
        return;
    } else if (form < 70) {                  /* base (+ disp) */
        unsigned disp_len = form < 30 ? 0 : form < 52 ? 1 : 4;
        int base = find_base(g, ea, disp_len, avoid);
        if (base < 0 || chance(g, 15)) {
            int r = pick_setup_reg(g, avoid);
            if (r < 0)
                goto absolute;
            if (disp_len == 0 && r == HD_EBP)
                disp_len = 1;
            uint32_t d = random_disp(g, disp_len);
            emit_setup(g, (unsigned)r, ea - d);
            base = r;
        }
        uint32_t d = ea - g->t.value[base];
        if (disp_len == 0 && base == HD_EBP)
            disp_len = 1;
        m->mod = (uint8_t)(disp_len == 0 ? 0 : disp_len == 1 ? 1 : 2);
        m->disp_len = (uint8_t)disp_len;
        m->disp = d;
        m->regs = RB(base);
        if (base == HD_ESP) {
            m->rm = 4;
            m->has_sib = 1;
            m->sib = (uint8_t)((rnd(g, 4) << 6) | (4 << 3) | 4);    /* index none: scale ignored */
        } else {
            m->rm = (uint8_t)base;
        }
        return;
    } else {                                 /* index*scale (+ base) (+ disp) */
        bool no_base = form >= 90;
        unsigned scale = rnd(g, 4);
        int index = -1;
        unsigned cand[8], n = 0;
        for (unsigned r = 0; r < 8; r++)
            if (r != HD_ESP && reg_known(g, r) && !(avoid & RB(r)))
                cand[n++] = r;
        if (n && chance(g, 55)) {
            index = (int)cand[rnd(g, n)];
        } else {
            index = pick_setup_reg(g, avoid);
            if (index < 0)
                goto absolute;
            uint32_t iv = chance(g, 80) ? (uint32_t)((int)rnd(g, 129) - 64) : rng_u32(g);
            emit_setup(g, (unsigned)index, iv);
        }
        uint32_t scaled = g->t.value[index] << scale;
        m->has_sib = 1;
        m->rm = 4;
        m->regs = RB(index);
        if (no_base) {
            m->mod = 0;
            m->sib = (uint8_t)((scale << 6) | ((unsigned)index << 3) | 5);
            m->disp_len = 4;
            m->disp = ea - scaled;
            return;
        }
        unsigned disp_len = rnd(g, 3);
        disp_len = disp_len == 2 ? 4 : disp_len;
        uint32_t want = ea - scaled;
        int base = find_base(g, want, disp_len, (uint8_t)(avoid | RB(index)));
        if (base < 0 || chance(g, 10)) {
            int r = pick_setup_reg(g, (uint8_t)(avoid | RB(index)));
            if (r < 0)
                goto absolute;
            if (disp_len == 0 && r == HD_EBP)
                disp_len = 1;
            emit_setup(g, (unsigned)r, want - random_disp(g, disp_len));
            base = r;
        }
        if (disp_len == 0 && base == HD_EBP)
            disp_len = 1;
        m->mod = (uint8_t)(disp_len == 0 ? 0 : disp_len == 1 ? 1 : 2);
        m->sib = (uint8_t)((scale << 6) | ((unsigned)index << 3) | (unsigned)base);
        m->disp_len = (uint8_t)disp_len;
        m->disp = want - g->t.value[base];
        m->regs |= RB(base);
        return;
    }
absolute:
    memset(m, 0, sizeof *m);
    m->mod = 0;
    m->rm = 5;
    m->disp_len = 4;
    m->disp = ea;
}

/* the same operand `delta` bytes further (no setup moves needed) */
static void memop_add(struct memop *m, uint32_t delta)
{
    uint32_t d = m->disp + delta;
    if (m->disp_len == 4) {
        m->disp = d;
    } else if (fits8(d)) {          /* mod 0 (no displacement) or mod 1 */
        m->mod = 1;
        m->disp_len = 1;
        m->disp = d;
    } else {
        m->mod = 2;
        m->disp_len = 4;
        m->disp = d;
    }
}

static void in_mem(struct insn *in, const struct memop *m, unsigned reg_field)
{
    in_b(in, (uint8_t)((m->mod << 6) | ((reg_field & 7u) << 3) | m->rm));
    if (m->has_sib)
        in_b(in, m->sib);
    if (m->disp_len == 1)
        in_b(in, (uint8_t)m->disp);
    else if (m->disp_len == 4)
        in_u32(in, m->disp);
}

static void in_modrm_reg(struct insn *in, unsigned reg_field, unsigned rm)
{
    in_b(in, (uint8_t)(0xC0 | ((reg_field & 7u) << 3) | (rm & 7u)));
}

/* segment override on a memory operand (all segments are flat here) */
static void mem_prefixes(struct gen *g, struct insn *in, bool write)
{
    if (chance(g, 12)) {
        static const uint32_t segs[] = { 0x26, 0x36, 0x3E, 0x2E };
        in_pfx(in, (uint8_t)pick_from(g, segs, write ? 3 : 4));
    }
}

/* ---- flag producers ----------------------------------------------------- */

/* Makes sure the flags in `mask` are defined (emits a CMP/TEST if not). */
static void need_flags(struct gen *g, uint16_t mask)
{
    if ((g->t.efl_def & mask) == mask)
        return;
    struct insn in = { 0 };
    unsigned r = rnd(g, 8), r2 = rnd(g, 8);
    switch (rnd(g, (mask & AF) ? 4 : 5)) {
    case 0:     /* cmp r32, imm8 */
        in_b(&in, 0x83);
        in_modrm_reg(&in, 7, r);
        in_b(&in, (uint8_t)pick_imm(g, 8));
        break;
    case 1:     /* cmp r32, r32 */
        in_b(&in, 0x39);
        in_modrm_reg(&in, r2, r);
        break;
    case 2:     /* cmp r8, imm8 */
        in_b(&in, 0x80);
        in_modrm_reg(&in, 7, r);
        in_b(&in, (uint8_t)pick_imm(g, 8));
        break;
    case 3:     /* cmp r16, r16 */
        in_pfx(&in, 0x66);
        in_b(&in, 0x39);
        in_modrm_reg(&in, r2, r);
        break;
    default:    /* test r32, r32: AF undefined */
        in_b(&in, 0x85);
        in_modrm_reg(&in, r2, r);
        commit(g, &in);
        flags_apply(g, LOGIC_DEF, AF);
        return;
    }
    commit(g, &in);
    flags_apply(g, ALL6, 0);
}

/* Makes sure C0..C3 are defined (FXAM, FTST or FCOM ST(1)). */
static void need_fsw(struct gen *g)
{
    if (g->t.fsw_def == CC_ALL)
        return;
    static const uint8_t defs[3][2] = { { 0xD9, 0xE5 }, { 0xD9, 0xE4 }, { 0xD8, 0xD1 } };
    uint32_t k = rnd(g, 10);
    emit_bytes(g, defs[k < 7 ? 0 : k < 9 ? 1 : 2], 2);
    g->t.fsw_def = CC_ALL;
}

/* Right after an x87 instruction that defines C1 (rounded up, or a stack
 * fault), sometimes read it into AX with FNSTSW and keep C1 and the
 * exception flags (AND EAX, 0x23F: C0, C2 and C3 may be undefined): a
 * case's end only shows the last C1, so this checks the others. */
static void maybe_read_c1(struct gen *g, uint16_t fsw_def)
{
    if (!(fsw_def & C1) || !reg_writable(g, HD_EAX) || !chance(g, 25))
        return;
    static const uint8_t fnstsw_and[] = { 0xDF, 0xE0 };
    emit_bytes(g, fnstsw_and, 2);
    static const uint8_t and_eax[] = { 0x25, 0x3F, 0x02, 0x00, 0x00 };
    emit_bytes(g, and_eax, 5);
    flags_apply(g, LOGIC_DEF, AF);
    reg_clobber(g, HD_EAX);
}

/* ---- flag rules for shifts ---------------------------------------------- */

/* defined flags after shift/rotate group /ext by count (raw) */
static uint16_t shift_after(uint16_t before, unsigned ext, unsigned width, uint32_t count)
{
    unsigned masked = count & 31u;
    uint16_t r = before;
    if (masked == 0)
        return before;
    switch (ext) {
    case 0: case 1:         /* ROL ROR */
        r |= CF;
        break;
    case 2: case 3:         /* RCL RCR: CF was defined (consumed) and stays so */
        break;
    default:                /* SHL SHR SAL SAR */
        r = (uint16_t)((r | CF | OF | SF | ZF | PF) & ~AF);
        if ((ext == 4 || ext == 5) && masked >= width)
            r &= (uint16_t)~CF;
        break;
    }
    if (masked == 1)
        r |= OF;
    else
        r &= (uint16_t)~OF;
    return r;
}

static uint16_t dshift_after(uint16_t before, uint32_t count)
{
    unsigned masked = count & 31u;
    if (masked == 0)
        return before;
    uint16_t r = (uint16_t)((before | CF | OF | SF | ZF | PF) & ~AF);
    if (masked != 1)
        r &= (uint16_t)~OF;
    return r;
}

/* count < 0: unknown (intersection over every masked count) */
static void apply_shift_flags(struct gen *g, bool dshift, unsigned ext, unsigned width, int count)
{
    uint16_t before = g->t.efl_def, after;
    if (count >= 0) {
        after = dshift ? dshift_after(before, (uint32_t)count) : shift_after(before, ext, width, (uint32_t)count);
    } else {
        after = 0xFFFF;
        for (uint32_t c = 0; c < 32; c++)
            after &= dshift ? dshift_after(before, c) : shift_after(before, ext, width, c);
    }
    g->t.efl_def = after;
}

/* ---- generic ModRM instruction table ------------------------------------ */

enum shape { SH_RM_REG, SH_REG_RM, SH_RM, SH_RM_IMM, SH_ACC_IMM, SH_OPREG };
enum wmode { W_BF, W_FULL, W_BYTE, W_32 };        /* byte/full pair, 16|32, 8, 32 */
enum immk { IM_NONE, IM_8, IM_8S, IM_W, IM_COUNT };
enum frule { FR_FIXED, FR_SHIFT, FR_DSHIFT, FR_CC };

#define WR_RM  0x01u
#define WR_REG 0x02u
#define WR_EAX 0x04u
#define WR_EDX 0x08u        /* only when width > 8 */

#define P_LOCK    0x01u     /* LOCK valid with a memory destination */
#define P_REGONLY 0x02u
#define P_CL      0x04u     /* count in CL */
#define P_ONE     0x08u     /* count is 1 */
#define P_CC      0x10u     /* opcode + condition code */
#define P_NOT_R0  0x20u     /* register operand not EAX (XCHG 90+r) */

struct gtpl {
    uint8_t shape, esc, opc, ext_mask, wmode, imm, src_w, wr, rule, props;
    uint16_t use, def, undef;
    uint8_t weight;
};

#define ALU(op, use, def, undef, wr, lock)                                                            \
    { SH_RM_REG, 0, (op) * 8, 0, W_BF, IM_NONE, 0, (wr) ? WR_RM : 0, FR_FIXED, lock, use, def, undef, 7 }, \
    { SH_REG_RM, 0, (op) * 8 + 2, 0, W_BF, IM_NONE, 0, (wr) ? WR_REG : 0, FR_FIXED, 0, use, def, undef, 6 }, \
    { SH_ACC_IMM, 0, (op) * 8 + 4, 0, W_BF, IM_W, 0, (wr) ? WR_EAX : 0, FR_FIXED, 0, use, def, undef, 2 },  \
    { SH_RM_IMM, 0, 0x80, 1u << (op), W_BF, IM_W, 0, (wr) ? WR_RM : 0, FR_FIXED, lock, use, def, undef, 5 }, \
    { SH_RM_IMM, 0, 0x83, 1u << (op), W_FULL, IM_8S, 0, (wr) ? WR_RM : 0, FR_FIXED, lock, use, def, undef, 5 }, \
    { SH_RM_IMM, 0, 0x82, 1u << (op), W_BYTE, IM_8, 0, (wr) ? WR_RM : 0, FR_FIXED, lock, use, def, undef, 1 }

static const struct gtpl gen_table[] = {
    ALU(0, 0, ALL6, 0, 1, P_LOCK),                  /* ADD */
    ALU(1, 0, LOGIC_DEF, AF, 1, P_LOCK),            /* OR */
    ALU(2, CF, ALL6, 0, 1, P_LOCK),                 /* ADC */
    ALU(3, CF, ALL6, 0, 1, P_LOCK),                 /* SBB */
    ALU(4, 0, LOGIC_DEF, AF, 1, P_LOCK),            /* AND */
    ALU(5, 0, ALL6, 0, 1, P_LOCK),                  /* SUB */
    ALU(6, 0, LOGIC_DEF, AF, 1, P_LOCK),            /* XOR */
    ALU(7, 0, ALL6, 0, 0, 0),                       /* CMP */
    /* TEST */
    { SH_RM_REG, 0, 0x84, 0, W_BF, IM_NONE, 0, 0, FR_FIXED, 0, 0, LOGIC_DEF, AF, 4 },
    { SH_ACC_IMM, 0, 0xA8, 0, W_BF, IM_W, 0, 0, FR_FIXED, 0, 0, LOGIC_DEF, AF, 1 },
    { SH_RM_IMM, 0, 0xF6, 1u << 0, W_BF, IM_W, 0, 0, FR_FIXED, 0, 0, LOGIC_DEF, AF, 2 },
    /* MOV */
    { SH_RM_REG, 0, 0x88, 0, W_BF, IM_NONE, 0, WR_RM, FR_FIXED, 0, 0, 0, 0, 8 },
    { SH_REG_RM, 0, 0x8A, 0, W_BF, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, 0, 0, 8 },
    { SH_RM_IMM, 0, 0xC6, 1u << 0, W_BF, IM_W, 0, WR_RM, FR_FIXED, 0, 0, 0, 0, 4 },
    { SH_OPREG, 0, 0xB0, 0, W_BF, IM_W, 0, WR_REG, FR_FIXED, 0, 0, 0, 0, 2 },
    /* INC DEC */
    { SH_RM, 0, 0xFE, 0x03, W_BF, IM_NONE, 0, WR_RM, FR_FIXED, P_LOCK, 0, OF | SF | ZF | AF | PF, 0, 6 },
    { SH_OPREG, 0, 0x40, 0, W_FULL, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, OF | SF | ZF | AF | PF, 0, 2 },
    { SH_OPREG, 0, 0x48, 0, W_FULL, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, OF | SF | ZF | AF | PF, 0, 2 },
    /* NOT NEG */
    { SH_RM, 0, 0xF6, 1u << 2, W_BF, IM_NONE, 0, WR_RM, FR_FIXED, P_LOCK, 0, 0, 0, 3 },
    { SH_RM, 0, 0xF6, 1u << 3, W_BF, IM_NONE, 0, WR_RM, FR_FIXED, P_LOCK, 0, ALL6, 0, 4 },
    /* MUL IMUL (one operand), IMUL r, r/m (, imm) */
    { SH_RM, 0, 0xF6, 0x30, W_BF, IM_NONE, 0, WR_EAX | WR_EDX, FR_FIXED, 0, 0, CF | OF, SF | ZF | AF | PF, 7 },
    { SH_REG_RM, 0x0F, 0xAF, 0, W_FULL, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, CF | OF, SF | ZF | AF | PF, 4 },
    { SH_REG_RM, 0, 0x69, 0, W_FULL, IM_W, 0, WR_REG, FR_FIXED, 0, 0, CF | OF, SF | ZF | AF | PF, 3 },
    { SH_REG_RM, 0, 0x6B, 0, W_FULL, IM_8S, 0, WR_REG, FR_FIXED, 0, 0, CF | OF, SF | ZF | AF | PF, 3 },
    /* shifts and rotates: ROL ROR RCL RCR SHL SHR SAR (not the /6 alias) */
    { SH_RM_IMM, 0, 0xC0, 0xBF, W_BF, IM_COUNT, 0, WR_RM, FR_SHIFT, 0, 0, 0, 0, 12 },
    { SH_RM, 0, 0xD0, 0xBF, W_BF, IM_NONE, 0, WR_RM, FR_SHIFT, P_ONE, 0, 0, 0, 7 },
    { SH_RM, 0, 0xD2, 0xBF, W_BF, IM_NONE, 0, WR_RM, FR_SHIFT, P_CL, 0, 0, 0, 10 },
    /* SHLD SHRD */
    { SH_RM_REG, 0x0F, 0xA4, 0, W_FULL, IM_COUNT, 0, WR_RM, FR_DSHIFT, 0, 0, 0, 0, 3 },
    { SH_RM_REG, 0x0F, 0xA5, 0, W_FULL, IM_NONE, 0, WR_RM, FR_DSHIFT, P_CL, 0, 0, 0, 3 },
    { SH_RM_REG, 0x0F, 0xAC, 0, W_FULL, IM_COUNT, 0, WR_RM, FR_DSHIFT, 0, 0, 0, 0, 3 },
    { SH_RM_REG, 0x0F, 0xAD, 0, W_FULL, IM_NONE, 0, WR_RM, FR_DSHIFT, P_CL, 0, 0, 0, 3 },
    /* BT / BTS BTR BTC with an immediate bit offset */
    { SH_RM_IMM, 0x0F, 0xBA, 1u << 4, W_FULL, IM_8, 0, 0, FR_FIXED, 0, 0, CF, OF | SF | AF | PF, 2 },
    { SH_RM_IMM, 0x0F, 0xBA, 0xE0, W_FULL, IM_8, 0, WR_RM, FR_FIXED, P_LOCK, 0, CF, OF | SF | AF | PF, 3 },
    /* BSF BSR (zero source: destination unchanged, as on the host) */
    { SH_REG_RM, 0x0F, 0xBC, 0, W_FULL, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, ZF, CF | OF | SF | AF | PF, 2 },
    { SH_REG_RM, 0x0F, 0xBD, 0, W_FULL, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, ZF, CF | OF | SF | AF | PF, 2 },
    /* SETcc CMOVcc */
    { SH_RM, 0x0F, 0x90, 1u << 0, W_BYTE, IM_NONE, 0, WR_RM, FR_CC, P_CC, 0, 0, 0, 5 },
    { SH_REG_RM, 0x0F, 0x40, 0, W_FULL, IM_NONE, 0, WR_REG, FR_CC, P_CC, 0, 0, 0, 5 },
    /* MOVZX MOVSX */
    { SH_REG_RM, 0x0F, 0xB6, 0, W_FULL, IM_NONE, 8, WR_REG, FR_FIXED, 0, 0, 0, 0, 2 },
    { SH_REG_RM, 0x0F, 0xB7, 0, W_FULL, IM_NONE, 16, WR_REG, FR_FIXED, 0, 0, 0, 0, 2 },
    { SH_REG_RM, 0x0F, 0xBE, 0, W_FULL, IM_NONE, 8, WR_REG, FR_FIXED, 0, 0, 0, 0, 2 },
    { SH_REG_RM, 0x0F, 0xBF, 0, W_FULL, IM_NONE, 16, WR_REG, FR_FIXED, 0, 0, 0, 0, 2 },
    /* XCHG XADD BSWAP */
    { SH_RM_REG, 0, 0x86, 0, W_BF, IM_NONE, 0, WR_RM | WR_REG, FR_FIXED, P_LOCK, 0, 0, 0, 3 },
    { SH_OPREG, 0, 0x90, 0, W_FULL, IM_NONE, 0, WR_REG | WR_EAX, FR_FIXED, P_NOT_R0, 0, 0, 0, 1 },
    { SH_RM_REG, 0x0F, 0xC0, 0, W_BF, IM_NONE, 0, WR_RM | WR_REG, FR_FIXED, P_LOCK, 0, ALL6, 0, 3 },
    { SH_OPREG, 0x0F, 0xC8, 0, W_32, IM_NONE, 0, WR_REG, FR_FIXED, 0, 0, 0, 0, 1 },
};

#define N_GEN_TABLE (sizeof gen_table / sizeof gen_table[0])

static unsigned pick_width(struct gen *g, unsigned wmode)
{
    switch (wmode) {
    case W_BF: {
        uint32_t r = rnd(g, 100);
        return r < 30 ? 8 : r < 50 ? 16 : 32;
    }
    case W_FULL: return chance(g, 25) ? 16 : 32;
    case W_BYTE: return 8;
    default: return 32;
    }
}

static bool item_generic(struct gen *g)
{
    const struct gtpl *t = PICK_WEIGHTED(g, gen_table, N_GEN_TABLE);

    unsigned width = pick_width(g, t->wmode);
    unsigned ext = pick_bit(g, t->ext_mask);
    unsigned cc = rnd(g, 16);
    bool has_rm = t->shape <= SH_RM_IMM;
    bool use_mem = has_rm && !(t->props & P_REGONLY) && chance(g, g->mem_pct);
    unsigned rm_w = t->src_w ? t->src_w : width;
    bool dshift16 = t->rule == FR_DSHIFT && width == 16;
    uint8_t avoid = 0;

    /* shift count: 1, imm8, or CL (loaded here, or the known ECX, or unknown) */
    int count = -1;
    bool set_cl = false;
    if (t->props & P_ONE) {
        count = 1;
    } else if (t->imm == IM_COUNT) {
        count = (int)pick_count(g, width, dshift16);
    } else if (t->props & P_CL) {
        avoid |= RB(HD_ECX);   /* the memory operand's setup must not change the count */
        if (reg_writable(g, HD_ECX) && (dshift16 || chance(g, 70))) {
            set_cl = true;
            count = (int)pick_count(g, width, dshift16);
        } else if (reg_known(g, HD_ECX)) {
            count = (int)(g->t.value[HD_ECX] & 0xFF);
            if (dshift16 && (count & 31) > 16)
                return false;
        } else if (dshift16) {
            return false;
        }
    }
    if ((t->wr & WR_EAX) && !reg_writable(g, HD_EAX))
        return false;
    if ((t->wr & WR_EDX) && width > 8 && !reg_writable(g, HD_EDX))
        return false;

    int rm_reg = -1, reg = -1;
    if (has_rm && !use_mem) {
        rm_reg = (t->wr & WR_RM) ? pick_dest_reg(g, rm_w, 0) : pick_src_reg(g, rm_w);
        if (rm_reg < 0)
            return false;
    }
    /* BSF/BSR: a zero source now and then (destination kept, ZF and PF set) */
    if (t->esc == 0x0F && (t->opc == 0xBC || t->opc == 0xBD) && rm_reg >= 0 &&
        reg_writable(g, (unsigned)rm_reg) && chance(g, 25))
        emit_setup(g, (unsigned)rm_reg, 0);
    if (t->shape == SH_RM_REG || t->shape == SH_REG_RM) {
        reg = (t->wr & WR_REG) ? pick_dest_reg(g, width, 0) : pick_src_reg(g, width);
        if (reg < 0)
            return false;
    } else if (t->shape == SH_OPREG) {
        reg = pick_dest_reg(g, width, (t->props & P_NOT_R0) ? RB(HD_EAX) : 0);
        if (reg < 0)
            return false;
    }

    struct memop m;
    if (use_mem)
        build_mem(g, pick_addr(g, rm_w / 8, (t->wr & WR_RM) != 0), avoid, &m);
    if (set_cl) {
        uint8_t mov_cl[2] = { 0xB1, (uint8_t)count };
        emit_bytes(g, mov_cl, 2);
        reg_clobber(g, HD_ECX);
    }
    uint16_t use = t->use;
    if (t->rule == FR_CC)
        use = cc_uses[cc];
    if (t->rule == FR_SHIFT && (ext == 2 || ext == 3))
        use |= CF;
    need_flags(g, use);

    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    if (use_mem) {
        mem_prefixes(g, &in, (t->wr & WR_RM) != 0);
        if ((t->props & P_LOCK) && chance(g, 20))
            in_pfx(&in, 0xF0);
    }
    if (t->esc)
        in_b(&in, t->esc);
    unsigned op = t->opc;
    if (t->props & P_CC)
        op += cc;
    if (t->wmode == W_BF && width > 8)
        op += t->shape == SH_OPREG ? 8 : 1;
    if (t->shape == SH_OPREG)
        op += (unsigned)reg;
    in_b(&in, (uint8_t)op);
    if (has_rm) {
        unsigned field = (t->shape == SH_RM || t->shape == SH_RM_IMM) ? ext : (unsigned)reg;
        if (use_mem)
            in_mem(&in, &m, field);
        else
            in_modrm_reg(&in, field, (unsigned)rm_reg);
    }
    switch (t->imm) {
    case IM_8: in_b(&in, (uint8_t)rnd(g, 256)); break;
    case IM_8S: in_b(&in, (uint8_t)pick_imm(g, 8)); break;
    case IM_W: in_imm(&in, pick_imm(g, width), width); break;
    case IM_COUNT: in_b(&in, (uint8_t)count); break;
    default: break;
    }
    commit(g, &in);

    switch (t->rule) {
    case FR_SHIFT: apply_shift_flags(g, false, ext, width, count); break;
    case FR_DSHIFT: apply_shift_flags(g, true, 0, width, count); break;
    case FR_FIXED: flags_apply(g, t->def, t->undef); break;
    default: break;
    }
    if ((t->wr & WR_RM) && rm_reg >= 0)
        reg_written(g, (unsigned)rm_reg, rm_w);
    if (t->wr & WR_REG)
        reg_written(g, (unsigned)reg, width);
    if (t->wr & WR_EAX)
        reg_clobber(g, HD_EAX);
    if ((t->wr & WR_EDX) && width > 8)
        reg_clobber(g, HD_EDX);
    return true;
}

/* ---- one-byte and fixed-encoding integer instructions ------------------- */

struct fixed_op {
    uint8_t bytes[3], len;
    uint8_t allow16;        /* 0x66 variant exists */
    uint8_t writes;         /* GPR mask written */
    uint16_t use, def, undef;
    uint8_t ctx_forbid;     /* CTX_* in which it may not appear */
    uint8_t weight;
};

static const struct fixed_op fixed_ops[] = {
    { { 0x98 }, 1, 1, RB(HD_EAX), 0, 0, 0, 0, 3 },                          /* CWDE / CBW */
    { { 0x99 }, 1, 1, RB(HD_EDX), 0, 0, 0, 0, 3 },                          /* CDQ / CWD */
    { { 0x9F }, 1, 0, RB(HD_EAX), SF | ZF | AF | PF | CF, 0, 0, 0, 2 },    /* LAHF */
    { { 0x9E }, 1, 0, 0, 0, SF | ZF | AF | PF | CF, 0, 0, 2 },             /* SAHF */
    { { 0xF5 }, 1, 0, 0, CF, CF, 0, 0, 2 },                                 /* CMC */
    { { 0xF8 }, 1, 0, 0, 0, CF, 0, 0, 1 },                                  /* CLC */
    { { 0xF9 }, 1, 0, 0, 0, CF, 0, 0, 1 },                                  /* STC */
    { { 0xFC }, 1, 0, 0, 0, 0, 0, CTX_NO_DF, 1 },                           /* CLD */
    { { 0xFD }, 1, 0, 0, 0, 0, 0, CTX_NO_DF, 1 },                           /* STD */
    { { 0x27 }, 1, 0, RB(HD_EAX), CF | AF, CF | AF | SF | ZF | PF, OF, 0, 2 },  /* DAA */
    { { 0x2F }, 1, 0, RB(HD_EAX), CF | AF, CF | AF | SF | ZF | PF, OF, 0, 2 },  /* DAS */
    { { 0x37 }, 1, 0, RB(HD_EAX), AF, AF | CF, OF | SF | ZF | PF, 0, 2 },       /* AAA */
    { { 0x3F }, 1, 0, RB(HD_EAX), AF, AF | CF, OF | SF | ZF | PF, 0, 2 },       /* AAS */
    { { 0x90 }, 1, 0, 0, 0, 0, 0, 0, 1 },                                   /* NOP */
    { { 0xF3, 0x90 }, 2, 0, 0, 0, 0, 0, 0, 1 },                             /* PAUSE */
};

#define N_FIXED_OPS (sizeof fixed_ops / sizeof fixed_ops[0])

static bool item_fixed(struct gen *g)
{
    const struct fixed_op *f = PICK_WEIGHTED(g, fixed_ops, N_FIXED_OPS);
    if ((f->ctx_forbid & g->ctx) || (f->writes & g->locked))
        return false;
    need_flags(g, f->use);
    struct insn in = { 0 };
    if (f->allow16 && chance(g, 35))
        in_pfx(&in, 0x66);
    for (unsigned i = 0; i < f->len; i++)
        in_b(&in, f->bytes[i]);
    commit(g, &in);
    flags_apply(g, f->def, f->undef);
    for (unsigned r = 0; r < 8; r++)
        if (f->writes & RB(r))
            reg_clobber(g, r);
    if (f->bytes[0] == 0xFC || f->bytes[0] == 0xFD)
        g->t.df = f->bytes[0] == 0xFD;
    return true;
}

/* AAM/AAD with base 10 or any other non-zero base */
static bool item_aam_aad(struct gen *g)
{
    if (!reg_writable(g, HD_EAX))
        return false;
    bool aam = chance(g, 50);
    uint32_t base = chance(g, 55) ? 10 : (aam ? 1 + rnd(g, 255) : rnd(g, 256));
    uint8_t b[2] = { aam ? 0xD4 : 0xD5, (uint8_t)base };
    emit_bytes(g, b, 2);
    flags_apply(g, SF | ZF | PF, OF | AF | CF);
    reg_clobber(g, HD_EAX);
    return true;
}

/* MOV AL/EAX <-> moffs32 */
static bool item_moffs(struct gen *g)
{
    bool store = chance(g, 50);
    unsigned width = pick_width(g, W_BF);
    if (!store && !reg_writable(g, HD_EAX))
        return false;
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    mem_prefixes(g, &in, store);
    in_b(&in, (uint8_t)((store ? 0xA2 : 0xA0) + (width > 8)));
    in_u32(&in, pick_addr(g, width / 8, store));
    commit(g, &in);
    if (!store)
        reg_clobber(g, HD_EAX);
    return true;
}

/* ---- division ------------------------------------------------------------ */

/*
 * DIV/IDIV r/m: the divisor is made non-zero (and positive for IDIV) with
 * OR/AND on the operand itself, the dividend's high half is zeroed or
 * sign-extended, so the quotient always fits.
 */
static bool item_div(struct gen *g)
{
    unsigned width = pick_width(g, W_BF);
    bool is_signed = chance(g, 50);
    if (!reg_writable(g, HD_EAX) || (width > 8 && !reg_writable(g, HD_EDX)))
        return false;
    uint8_t avoid = (uint8_t)(RB(HD_EAX) | RB(HD_EDX));
    bool use_mem = chance(g, g->mem_pct);
    int dreg = -1;
    struct memop m;
    uint32_t maxpos = width == 8 ? 0x7F : width == 16 ? 0x7FFF : 0x7FFFFFFF;
    if (use_mem) {
        build_mem(g, pick_addr(g, width / 8, true), avoid, &m);
    } else {
        unsigned cand[8], n = 0;
        for (unsigned r = 0; r < 8; r++) {
            unsigned r32 = width == 8 ? (r & 3u) : r;
            if (reg_writable(g, r32) && r32 != HD_EAX && !(width > 8 && r32 == HD_EDX))
                cand[n++] = r;
        }
        if (n == 0)
            return false;
        dreg = (int)cand[rnd(g, n)];
    }
    /* divisor |= 1; for IDIV also &= max positive */
    for (unsigned step = 0; step < (is_signed ? 2u : 1u); step++) {
        struct insn in = { 0 };
        if (width == 16)
            in_pfx(&in, 0x66);
        in_b(&in, width == 8 ? 0x80 : 0x81);
        unsigned ext = step == 0 ? 1 : 4;
        if (use_mem)
            in_mem(&in, &m, ext);
        else
            in_modrm_reg(&in, ext, (unsigned)dreg);
        in_imm(&in, step == 0 ? 1 : maxpos, width);
        commit(g, &in);
        flags_apply(g, LOGIC_DEF, AF);
        if (dreg >= 0)
            reg_written(g, (unsigned)dreg, width);
    }
    /* dividend high half */
    if (is_signed) {
        struct insn in = { 0 };
        if (width == 8) {
            in_pfx(&in, 0x66);
            in_b(&in, 0x98);            /* CBW */
        } else {
            if (width == 16)
                in_pfx(&in, 0x66);
            in_b(&in, 0x99);            /* CWD / CDQ */
        }
        commit(g, &in);
    } else {
        struct insn in = { 0 };
        unsigned hi = width == 8 ? 4 /* AH */ : HD_EDX;
        if (width == 16)
            in_pfx(&in, 0x66);
        if (chance(g, 50)) {
            in_b(&in, width == 8 ? 0x30 : 0x31);    /* xor hi, hi */
            in_modrm_reg(&in, hi, hi);
            commit(g, &in);
            flags_apply(g, LOGIC_DEF, AF);
        } else {
            in_b(&in, (uint8_t)((width == 8 ? 0xB0 : 0xB8) + hi));
            in_imm(&in, 0, width);
            commit(g, &in);
        }
    }
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    if (use_mem)
        mem_prefixes(g, &in, false);
    in_b(&in, width == 8 ? 0xF6 : 0xF7);
    unsigned ext = is_signed ? 7 : 6;
    if (use_mem)
        in_mem(&in, &m, ext);
    else
        in_modrm_reg(&in, ext, (unsigned)dreg);
    commit(g, &in);
    flags_apply(g, 0, ALL6);
    reg_clobber(g, HD_EAX);
    if (width > 8)
        reg_clobber(g, HD_EDX);
    return true;
}

/* ---- bit tests with a register bit offset -------------------------------- */

static bool item_bt_reg(struct gen *g)
{
    static const uint8_t ops[4] = { 0xA3, 0xAB, 0xB3, 0xBB };   /* BT BTS BTR BTC */
    unsigned which = rnd(g, 4);
    bool writes = which != 0;
    unsigned width = chance(g, 25) ? 16 : 32;
    bool use_mem = chance(g, g->mem_pct + 10);
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    if (!use_mem) {
        int rm = writes ? pick_dest_reg(g, width, 0) : pick_src_reg(g, width);
        if (rm < 0)
            return false;
        in_b(&in, 0x0F);
        in_b(&in, ops[which]);
        in_modrm_reg(&in, (unsigned)pick_src_reg(g, width), (unsigned)rm);
        commit(g, &in);
        if (writes)
            reg_written(g, (unsigned)rm, width);
    } else {
        /* the accessed unit sits at ea + (width/8) * (offset >> log2(width)) */
        uint32_t unit = width / 8;
        uint32_t target = pick_addr(g, 4, writes);
        if ((target - HD_DATA_BASE) < 4)
            target += 4;
        int32_t bit;
        if (chance(g, 70))
            bit = (int32_t)rnd(g, 4096) - 2048;
        else if (width == 16)
            bit = (int32_t)rnd(g, 0x10000) - 0x8000;
        else
            bit = (int32_t)rnd(g, 0x40000) - 0x20000;
        int32_t units = width == 32 ? (bit >> 5) : (bit >> 4);
        uint32_t ea = target - (uint32_t)(units * (int32_t)unit);
        int oreg = pick_setup_reg(g, 0);
        if (oreg < 0)
            return false;
        struct memop m;
        build_mem(g, ea, RB(oreg), &m);
        emit_setup(g, (unsigned)oreg, (uint32_t)bit);
        mem_prefixes(g, &in, writes);
        if (writes && chance(g, 20))
            in_pfx(&in, 0xF0);
        in_b(&in, 0x0F);
        in_b(&in, ops[which]);
        in_mem(&in, &m, (unsigned)oreg);
        commit(g, &in);
    }
    flags_apply(g, CF, OF | SF | AF | PF);
    return true;
}

/* ---- CMPXCHG, CMPXCHG8B -------------------------------------------------- */

static bool item_cmpxchg(struct gen *g)
{
    unsigned width = pick_width(g, W_BF);
    bool equal = chance(g, 50);
    bool use_mem = chance(g, g->mem_pct + 10);
    if (!reg_writable(g, HD_EAX))
        return false;
    struct memop m;
    int rm = -1;
    if (use_mem) {
        build_mem(g, pick_addr(g, width / 8, true), RB(HD_EAX), &m);
    } else {
        rm = pick_dest_reg(g, width, 0);
        if (rm < 0)
            return false;
    }
    unsigned src = (unsigned)pick_src_reg(g, width);
    if (equal) {    /* accumulator := destination */
        struct insn in = { 0 };
        if (width == 16)
            in_pfx(&in, 0x66);
        in_b(&in, (uint8_t)(0x8A + (width > 8)));
        if (use_mem)
            in_mem(&in, &m, HD_EAX);
        else
            in_modrm_reg(&in, HD_EAX, (unsigned)rm);
        commit(g, &in);
        reg_clobber(g, HD_EAX);
    }
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    if (use_mem) {
        mem_prefixes(g, &in, true);
        if (chance(g, 30))
            in_pfx(&in, 0xF0);
    }
    in_b(&in, 0x0F);
    in_b(&in, (uint8_t)(0xB0 + (width > 8)));
    if (use_mem)
        in_mem(&in, &m, src);
    else
        in_modrm_reg(&in, src, (unsigned)rm);
    commit(g, &in);
    flags_apply(g, ALL6, 0);
    reg_clobber(g, HD_EAX);
    if (rm >= 0)
        reg_written(g, (unsigned)rm, width);
    return true;
}

static bool item_cmpxchg8b(struct gen *g)
{
    if (!reg_writable(g, HD_EAX) || !reg_writable(g, HD_EDX))
        return false;
    uint8_t avoid = (uint8_t)(RB(HD_EAX) | RB(HD_EDX));
    uint32_t ea = pick_addr(g, 8, true);
    struct memop m;
    build_mem(g, ea, avoid, &m);
    if (chance(g, 50)) {        /* EDX:EAX := m64, so the compare succeeds */
        struct memop m_hi = m;
        struct insn lo = { 0 }, hi = { 0 };
        in_b(&lo, 0x8B);
        in_mem(&lo, &m, HD_EAX);
        commit(g, &lo);
        memop_add(&m_hi, 4);
        in_b(&hi, 0x8B);
        in_mem(&hi, &m_hi, HD_EDX);
        commit(g, &hi);
    }
    struct insn in = { 0 };
    mem_prefixes(g, &in, true);
    if (chance(g, 30))
        in_pfx(&in, 0xF0);
    in_b(&in, 0x0F);
    in_b(&in, 0xC7);
    in_mem(&in, &m, 1);
    commit(g, &in);
    flags_apply(g, ZF, 0);
    reg_clobber(g, HD_EAX);
    reg_clobber(g, HD_EDX);
    return true;
}

/* ---- XLAT, LEA, NOP forms, BOUND, INTO ------------------------------------ */

static bool item_xlat(struct gen *g)
{
    if (!reg_writable(g, HD_EAX))
        return false;
    uint32_t v = g->t.value[HD_EBX];
    bool ok = reg_known(g, HD_EBX) && range_ok(v, 256, AREA_READ_END);
    if (!ok) {
        if (!reg_writable(g, HD_EBX))
            return false;
        emit_setup(g, HD_EBX, pick_range(g, 256, false, 1));
    }
    struct insn in = { 0 };
    mem_prefixes(g, &in, false);
    in_b(&in, 0xD7);
    commit(g, &in);
    reg_clobber(g, HD_EAX);
    return true;
}

/*
 * A table lookup, as AES and CRC loops do: an index register bounded
 * (AND with an immediate, MOVZX from a byte register, SHR by 24..31), then
 * a load through [base + index*scale + disp8] from one table, 2..5 times
 * with the same base. The translator groups such operands by their base
 * and checks the table's whole span once; the index values here are
 * whatever the registers hold, known or not.
 */
static bool item_table(struct gen *g)
{
    if (g->ac)
        return false;   /* an index times the scale is not 16-byte aligned */
    int base = pick_setup_reg(g, 0);
    if (base < 0)
        return false;
    unsigned scale = rnd(g, 4);
    uint32_t span = (255u << scale) + 8 + 4;   /* largest index, disp8 < 8, 4 bytes */
    emit_setup(g, (unsigned)base, pick_range(g, span, false, 1));
    unsigned n = 2 + rnd(g, 4);
    for (unsigned k = 0; k < n; k++) {
        unsigned cand[8], nc = 0;
        for (unsigned r = 0; r < 8; r++)
            if (reg_writable(g, r) && r != (unsigned)base)
                cand[nc++] = r;
        if (nc == 0)
            return k > 0;
        unsigned idx = cand[rnd(g, nc)];
        struct insn bound = { 0 };
        switch (rnd(g, 3)) {
        case 0: {   /* AND idx, imm8 (sign-extended: below 0x80) or imm32 */
            static const uint32_t masks[] = { 0xFF, 0x3F, 0xFC, 0x7F, 0x0F, 0xF0 };
            uint32_t mask = chance(g, 70) ? pick_from(g, masks, 6) : rnd(g, 256);
            bool imm8 = mask < 0x80 && chance(g, 70);
            in_b(&bound, imm8 ? 0x83 : 0x81);
            in_modrm_reg(&bound, 4, idx);
            in_imm(&bound, mask, imm8 ? 8 : 32);
            commit(g, &bound);
            flags_apply(g, LOGIC_DEF, AF);
            if (reg_known(g, idx))
                reg_set(g, idx, g->t.value[idx] & mask);
            break;
        }
        case 1: {   /* MOVZX idx, r8 (AL..BH) */
            unsigned src = rnd(g, 8);
            in_b(&bound, 0x0F);
            in_b(&bound, 0xB6);
            in_modrm_reg(&bound, idx, src);
            commit(g, &bound);
            if (reg_known(g, src & 3u))
                reg_set(g, idx, (g->t.value[src & 3u] >> (src >= 4 ? 8 : 0)) & 0xFF);
            else
                reg_clobber(g, idx);
            break;
        }
        default: {   /* SHR idx, 24..31: CF/SF/ZF/PF defined, OF (count > 1) and AF not */
            uint32_t count = 24 + rnd(g, 8);
            in_b(&bound, 0xC1);
            in_modrm_reg(&bound, 5, idx);
            in_b(&bound, (uint8_t)count);
            commit(g, &bound);
            flags_apply(g, CF | SF | ZF | PF, OF | AF);
            if (reg_known(g, idx))
                reg_set(g, idx, g->t.value[idx] >> count);
            break;
        }
        }
        /* the load: MOV, XOR, ADD, CMP r32, m32 or MOVZX r32, m8 */
        static const uint8_t ops[] = { 0x8B, 0x33, 0x03, 0x3B, 0xB6 };
        uint8_t op = ops[rnd(g, 5)];
        nc = 0;
        for (unsigned r = 0; r < 8; r++)
            if (reg_writable(g, r) && r != (unsigned)base)
                cand[nc++] = r;
        unsigned dst = cand[rnd(g, nc)];   /* (idx at least) */
        uint32_t disp = rnd(g, 8);
        struct insn load = { 0 };
        if (op == 0xB6)
            in_b(&load, 0x0F);
        in_b(&load, op);
        bool no_disp = disp == 0 && base != HD_EBP && chance(g, 50);
        in_b(&load, (uint8_t)(((no_disp ? 0u : 1u) << 6) | (dst << 3) | 4));
        in_b(&load, (uint8_t)((scale << 6) | (idx << 3) | (unsigned)base));
        if (!no_disp)
            in_b(&load, (uint8_t)disp);
        commit(g, &load);
        if (op == 0x33 || op == 0x03 || op == 0x3B)
            flags_apply(g, ALL6, op == 0x33 ? AF : 0);
        if (op != 0x3B)
            reg_clobber(g, dst);
    }
    return true;
}

/* random 16-bit or 32-bit addressing bytes (never accessed) */
static void in_random_ea(struct gen *g, struct insn *in, unsigned reg_field, bool addr16)
{
    unsigned mod = rnd(g, 3), rm = rnd(g, 8);
    in_b(in, (uint8_t)((mod << 6) | (reg_field << 3) | rm));
    if (addr16) {
        if (mod == 1)
            in_b(in, (uint8_t)rng_u32(g));
        else if (mod == 2 || (mod == 0 && rm == 6))
            in_u16(in, rng_u32(g));
        return;
    }
    unsigned base = 8;
    if (rm == 4) {
        uint8_t sib = (uint8_t)rng_u32(g);
        in_b(in, sib);
        base = sib & 7u;
    }
    if (mod == 1)
        in_b(in, (uint8_t)rng_u32(g));
    else if (mod == 2 || (mod == 0 && (rm == 5 || base == 5)))
        in_u32(in, chance(g, 50) ? rng_u32(g) : rnd(g, 256));
}

static bool item_lea(struct gen *g)
{
    unsigned width = chance(g, 25) ? 16 : 32;
    int reg = pick_dest_reg(g, width, 0);
    if (reg < 0)
        return false;
    struct insn in = { 0 };
    bool addr16 = chance(g, 15);
    if (width == 16)
        in_pfx(&in, 0x66);
    if (addr16)
        in_pfx(&in, 0x67);
    in_b(&in, 0x8D);
    if (!addr16 && chance(g, 60)) {     /* a realistic form through build_mem */
        struct memop m;
        build_mem(g, chance(g, 50) ? pick_addr(g, 4, false) : rng_u32(g), 0, &m);
        in_mem(&in, &m, (unsigned)reg);
    } else {
        in_random_ea(g, &in, (unsigned)reg, addr16);
    }
    commit(g, &in);
    reg_written(g, (unsigned)reg, width);
    return true;
}

/* long NOP 0F 1F /0 (any addressing form, never accessed) */
static bool item_long_nop(struct gen *g)
{
    struct insn in = { 0 };
    if (chance(g, 30))
        in_pfx(&in, 0x66);
    bool addr16 = chance(g, 10);
    if (addr16)
        in_pfx(&in, 0x67);
    in_b(&in, 0x0F);
    in_b(&in, 0x1F);
    if (chance(g, 15))
        in_modrm_reg(&in, 0, rnd(g, 8));
    else
        in_random_ea(g, &in, 0, addr16);
    commit(g, &in);
    return true;
}

/* BOUND with bounds from the pool; in range unless `violate` */
static bool emit_bound(struct gen *g, bool violate)
{
    if (pool_full(g))
        return false;
    unsigned width = (!g->ac && chance(g, 25)) ? 16 : 32;
    int reg = -1;
    for (unsigned tries = 0; tries < 4 && reg < 0; tries++) {
        unsigned r = rnd(g, 8);
        if (reg_known(g, r) || reg_writable(g, r))
            reg = (int)r;
    }
    if (reg < 0)
        return false;
    if (!reg_known(g, (unsigned)reg) || (violate && (unsigned)reg != HD_ESP && chance(g, 50)))
        emit_setup(g, (unsigned)reg, gen_int(g));
    int64_t v = width == 32 ? (int64_t)(int32_t)g->t.value[reg] : (int64_t)(int16_t)g->t.value[reg];
    int64_t lo_lim = width == 32 ? INT32_MIN : INT16_MIN, hi_lim = width == 32 ? INT32_MAX : INT16_MAX;
    int64_t lo, hi;
    if (!violate) {
        lo = v - (int64_t)rnd(g, 3) * (int64_t)rnd(g, 1000);
        hi = v + (int64_t)rnd(g, 3) * (int64_t)rnd(g, 1000);
        if (lo < lo_lim) lo = lo_lim;
        if (hi > hi_lim) hi = hi_lim;
    } else if ((v > lo_lim && chance(g, 50)) || v == hi_lim) {
        hi = v - 1 - (int64_t)rnd(g, 100);        /* v above the upper bound */
        if (hi < lo_lim) hi = lo_lim;
        lo = hi - (int64_t)rnd(g, 1000);
        if (lo < lo_lim) lo = lo_lim;
    } else {
        lo = v + 1 + (int64_t)rnd(g, 100);        /* v below the lower bound */
        if (lo > hi_lim) lo = hi_lim;
        hi = lo + (int64_t)rnd(g, 1000);
        if (hi > hi_lim) hi = hi_lim;
    }
    uint8_t bytes[8];
    unsigned half = width / 8;
    put_le(bytes, (uint64_t)lo, half);
    put_le(bytes + half, (uint64_t)hi, half);
    uint32_t addr = pool_put(g, bytes, 2 * half);
    struct memop m;
    build_mem(g, addr, RB(reg), &m);
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    mem_prefixes(g, &in, false);
    in_b(&in, 0x62);
    in_mem(&in, &m, (unsigned)reg);
    commit(g, &in);
    return true;
}

static bool item_bound(struct gen *g)
{
    return emit_bound(g, false);
}

/* INTO with OF cleared by a TEST first (the trapping form is an ending) */
static bool item_into(struct gen *g)
{
    struct insn in = { 0 };
    in_b(&in, 0x85);
    in_modrm_reg(&in, rnd(g, 8), rnd(g, 8));
    commit(g, &in);
    flags_apply(g, LOGIC_DEF, AF);
    uint8_t into = 0xCE;
    emit_bytes(g, &into, 1);
    return true;
}

/* ---- string instructions ------------------------------------------------ */

/* lowest address touched by `n` elements of `size` from `ptr` (DF aware) */
static uint32_t string_low(uint32_t ptr, uint32_t n, uint32_t size, bool down)
{
    return down ? ptr - (n - 1) * size : ptr;
}

/* makes register r (ESI/EDI) a valid string pointer for n elements */
static bool string_ptr(struct gen *g, unsigned r, uint32_t n, uint32_t size, bool write)
{
    uint32_t end = write ? AREA_HOT_END : AREA_READ_END;
    uint32_t len = n * size;
    bool down = g->t.df;
    if (reg_known(g, r) && (!g->ac || g->t.value[r] % size == 0)) {
        uint32_t low = string_low(g->t.value[r], n ? n : 1, size, down);
        if (range_ok(low, len ? len : size, end) && chance(g, 80))
            return true;
    }
    if (!reg_writable(g, r))
        return false;
    uint32_t span = len ? len : size;
    uint32_t low = pick_range(g, span, write, size);
    uint32_t ptr = down ? low + span - size : low;     /* aligned to size as low is */
    emit_setup(g, r, ptr);
    return true;
}

static bool item_string(struct gen *g)
{
    enum { MOVS, CMPS, STOS, LODS, SCAS };
    static const uint8_t opc[5] = { 0xA4, 0xA6, 0xAA, 0xAC, 0xAE };
    if (g->ctx & CTX_NO_ECX)
        return false;
    unsigned op = rnd(g, 5);
    unsigned width = pick_width(g, W_BF);
    uint32_t size = width / 8;
    bool uses_si = op == MOVS || op == CMPS || op == LODS;
    bool uses_di = op != LODS;
    bool cmp = op == CMPS || op == SCAS;
    unsigned rep = chance(g, 35) ? 0 : (cmp && chance(g, 50)) ? 0xF2 : 0xF3;
    uint32_t n = rep ? (chance(g, 15) ? rnd(g, 3) : rnd(g, 41)) : 1;
    if (rep && !reg_writable(g, HD_ECX))
        return false;
    if (op == LODS && !reg_writable(g, HD_EAX))
        return false;
    if (uses_si && !string_ptr(g, HD_ESI, n, size, false))
        return false;
    if (uses_di && !string_ptr(g, HD_EDI, n, size, op == MOVS || op == STOS))
        return false;
    if (rep && !(reg_known(g, HD_ECX) && g->t.value[HD_ECX] == n))
        emit_setup(g, HD_ECX, n);
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    if (rep)
        in_pfx(&in, (uint8_t)rep);
    if (uses_si && chance(g, 10))
        in_pfx(&in, (uint8_t)pick_from(g, (const uint32_t[]){ 0x26, 0x36, 0x3E, 0x2E }, 4));
    in_b(&in, (uint8_t)(opc[op] + (width > 8)));
    commit(g, &in);

    uint32_t step = g->t.df ? (uint32_t)-(int32_t)size : size;
    bool early_exit = rep && cmp && n > 0;
    if (early_exit) {
        reg_clobber(g, HD_ECX);
        if (uses_si)
            reg_clobber(g, HD_ESI);
        reg_clobber(g, HD_EDI);
    } else {
        if (uses_si)
            g->t.value[HD_ESI] += n * step;
        if (uses_di)
            g->t.value[HD_EDI] += n * step;
        if (rep)
            g->t.value[HD_ECX] = 0;
    }
    if (cmp && n > 0)
        flags_apply(g, ALL6, 0);
    if (op == LODS)
        reg_clobber(g, HD_EAX);
    return true;
}

/* ---- stack --------------------------------------------------------------- */

static uint32_t esp_of(const struct gen *g) { return g->t.value[HD_ESP]; }
static bool can_push(const struct gen *g, uint32_t n) { return esp_of(g) - n >= STACK_FLOOR; }
static bool can_pop(const struct gen *g, uint32_t n) { return esp_of(g) + n <= STACK_CEIL; }

static bool item_push_pop(struct gen *g)
{
    if (g->ctx & CTX_NO_STACK)
        return false;
    bool w16 = !g->ac && chance(g, 15);
    uint32_t size = w16 ? 2 : 4;
    unsigned form = rnd(g, 7);
    bool push = form < 4;
    if (push ? !can_push(g, size) : !can_pop(g, size))
        return false;
    int reg = -1;
    struct memop m;
    if (form == 3) {                                /* push m: EA from the old ESP */
        build_mem(g, pick_addr(g, size, false), 0, &m);
    } else if (form == 6) {                         /* pop m: EA from the new ESP */
        g->t.value[HD_ESP] += size;
        build_mem(g, pick_addr(g, size, true), 0, &m);
        g->t.value[HD_ESP] -= size;
    } else if (form >= 4) {
        reg = pick_dest_reg(g, 32, 0);
        if (reg < 0)
            return false;
    }
    struct insn in = { 0 };
    if (w16)
        in_pfx(&in, 0x66);
    switch (form) {
    case 0: case 1:                                 /* push reg (ESP included) */
        in_b(&in, (uint8_t)(0x50 + rnd(g, 8)));
        break;
    case 2:                                         /* push imm8 / imm16 / imm32 */
        if (chance(g, 50)) {
            in_b(&in, 0x6A);
            in_b(&in, (uint8_t)pick_imm(g, 8));
        } else {
            in_b(&in, 0x68);
            in_imm(&in, pick_imm(g, w16 ? 16 : 32), w16 ? 16 : 32);
        }
        break;
    case 3:
        mem_prefixes(g, &in, false);
        in_b(&in, 0xFF);
        in_mem(&in, &m, 6);
        break;
    case 4: case 5:                                 /* pop reg */
        in_b(&in, (uint8_t)(0x58 + reg));
        break;
    default:
        mem_prefixes(g, &in, true);
        in_b(&in, 0x8F);
        in_mem(&in, &m, 0);
        break;
    }
    commit(g, &in);
    g->t.value[HD_ESP] += push ? (uint32_t)-size : size;
    if (reg >= 0)
        reg_written(g, (unsigned)reg, w16 ? 16 : 32);
    return true;
}

/* [base + d] with the shortest displacement */
static void memop_base(struct memop *m, unsigned base, uint32_t d)
{
    memset(m, 0, sizeof *m);
    m->disp = d;
    m->regs = RB(base);
    if (d == 0 && base != HD_EBP) {
        m->mod = 0;
    } else if (fits8(d)) {
        m->mod = 1;
        m->disp_len = 1;
    } else {
        m->mod = 2;
        m->disp_len = 4;
    }
    if (base == HD_ESP) {
        m->rm = 4;
        m->has_sib = 1;
        m->sib = (4u << 3) | 4u;
    } else {
        m->rm = (uint8_t)base;
    }
}

/*
 * Accesses through one base register that moves by constants in between,
 * as compiled code makes them: a stack frame (SUB ESP, loads and stores
 * at [ESP + d], PUSH r/imm/m, POP, ADD ESP, LEA ESP) or a pointer stepped
 * by ADD, SUB, LEA, INC and DEC. The translator checks such a run once,
 * the members' displacements moved by the steps (plan_groups).
 */
static bool item_frame(struct gen *g)
{
    if (g->ac)
        return false;   /* displacements of any alignment */
    bool stack = !(g->ctx & CTX_NO_STACK) && !(g->locked & RB(HD_ESP)) &&
                 esp_of(g) >= STACK_FLOOR + 8 && esp_of(g) <= STACK_CEIL - 8 && chance(g, 60);
    unsigned base = HD_ESP;
    uint32_t lo = 0, hi = 0;   /* the base's allowed values; accesses reach 64 bytes past */
    if (!stack) {
        int r = pick_setup_reg(g, 0);
        if (r < 0)
            return false;
        base = (unsigned)r;
        uint32_t area = pick_range(g, 512, true, 4);
        lo = area + 64;
        hi = area + 448;
        emit_setup(g, base, lo + rnd(g, hi - lo));
    }
    unsigned n = 4 + rnd(g, 12);
    for (unsigned k = 0; k < n; k++) {
        uint32_t at = g->t.value[base];
        if (stack) {   /* the stack from ESP up to its ceiling */
            lo = STACK_FLOOR + 8;
            hi = STACK_CEIL - 8;
        }
        uint32_t room_up = hi > at ? hi - at : 0, room_down = at > lo ? at - lo : 0;
        uint32_t above = STACK_CEIL - at;   /* (stack: at <= STACK_CEIL - 8) */
        int32_t d = stack ? (int32_t)rnd(g, (above > 132 ? 128 : above - 4) + 1)
                          : (int32_t)rnd(g, 121) - 60;
        if (chance(g, 80))
            d &= ~3;
        struct memop m;
        memop_base(&m, base, (uint32_t)d);
        struct insn in = { 0 };
        unsigned what = rnd(g, stack ? 9 : 7);
        if (what >= 4 && what < 7) {   /* move the base */
            bool up = room_up >= 4 && (room_down < 4 || chance(g, 50));
            uint32_t room = up ? room_up : room_down;
            if (room < 4)
                continue;
            uint32_t step = 1 + rnd(g, room < 96 ? room : 96);
            if (chance(g, 70))
                step = (step + 3) & ~3u;
            if (step > room)
                step = room & ~3u;
            switch (rnd(g, 4)) {
            case 0:   /* ADD or SUB base, imm8 / imm32 */
                in_b(&in, chance(g, 70) ? 0x83 : 0x81);
                in_modrm_reg(&in, up ? 0 : 5, base);
                in_imm(&in, step, in.body[0] == 0x83 ? 8 : 32);
                commit(g, &in);
                flags_apply(g, ALL6, 0);
                break;
            case 1:   /* ADD or SUB base, -imm: the other way */
                in_b(&in, 0x83);
                in_modrm_reg(&in, up ? 5 : 0, base);
                in_imm(&in, (uint32_t)-(int32_t)step, 8);
                commit(g, &in);
                flags_apply(g, ALL6, 0);
                break;
            case 2: {   /* LEA base, [base + step] */
                struct memop lm;
                memop_base(&lm, base, up ? step : (uint32_t)-(int32_t)step);
                in_b(&in, 0x8D);
                in_mem(&in, &lm, base);
                commit(g, &in);
                break;
            }
            default:   /* INC or DEC */
                step = 1;
                in_b(&in, (uint8_t)((up ? 0x40 : 0x48) + base));
                commit(g, &in);
                flags_apply(g, ALL6 & ~CF, 0);
                break;
            }
            g->t.value[base] = up ? at + step : at - step;
            continue;
        }
        if (what >= 7) {   /* PUSH r/imm/[ESP + d], or POP r */
            bool push = chance(g, 55);
            if (push ? at - 4 < lo : at + 4 > hi)
                continue;
            if (push) {
                switch (rnd(g, 3)) {
                case 0:
                    in_b(&in, (uint8_t)(0x50 + rnd(g, 8)));
                    break;
                case 1:
                    in_b(&in, 0x6A);
                    in_b(&in, (uint8_t)rnd(g, 256));
                    break;
                default:
                    in_b(&in, 0xFF);
                    in_mem(&in, &m, 6);
                    break;
                }
                commit(g, &in);
                g->t.value[HD_ESP] = at - 4;
            } else {
                int r = pick_dest_reg(g, 32, 0);
                if (r < 0)
                    continue;
                in_b(&in, (uint8_t)(0x58 + r));
                commit(g, &in);
                g->t.value[HD_ESP] = at + 4;
                reg_written(g, (unsigned)r, 32);
            }
            continue;
        }
        if (what < 2) {   /* a load: MOV, ADD, XOR, CMP r32, m32 or MOVZX r32, m8 */
            static const uint8_t ops[] = { 0x8B, 0x03, 0x33, 0x3B, 0xB6 };
            uint8_t op = ops[rnd(g, 5)];
            int r = pick_dest_reg(g, 32, (uint8_t)RB(base));
            if (r < 0)
                continue;
            if (op == 0xB6)
                in_b(&in, 0x0F);
            in_b(&in, op);
            in_mem(&in, &m, (unsigned)r);
            commit(g, &in);
            if (op == 0x03 || op == 0x33 || op == 0x3B)
                flags_apply(g, ALL6, op == 0x33 ? AF : 0);
            if (op != 0x3B)
                reg_clobber(g, (unsigned)r);
            continue;
        }
        /* a store: MOV m32, r32 / imm32, MOV m8, imm8, ADD or SUB m32, r32 */
        switch (rnd(g, 4)) {
        case 0:
            in_b(&in, 0x89);
            in_mem(&in, &m, rnd(g, 8));
            commit(g, &in);
            break;
        case 1:
            in_b(&in, 0xC7);
            in_mem(&in, &m, 0);
            in_u32(&in, rng_u32(g));
            commit(g, &in);
            break;
        case 2:
            in_b(&in, 0xC6);
            in_mem(&in, &m, 0);
            in_b(&in, (uint8_t)rnd(g, 256));
            commit(g, &in);
            break;
        default:
            in_b(&in, chance(g, 50) ? 0x01 : 0x29);
            in_mem(&in, &m, rnd(g, 8));
            commit(g, &in);
            flags_apply(g, ALL6, 0);
            break;
        }
    }
    return true;
}

static bool item_pusha_popa(struct gen *g)
{
    if (g->ctx & CTX_NO_STACK)
        return false;
    bool w16 = !g->ac && chance(g, 20);
    uint32_t size = w16 ? 16 : 32;
    bool push = chance(g, 55);
    if (push ? !can_push(g, size) : (!can_pop(g, size) || (g->locked & ~RB(HD_ESP))))
        return false;
    struct insn in = { 0 };
    if (w16)
        in_pfx(&in, 0x66);
    in_b(&in, push ? 0x60 : 0x61);
    commit(g, &in);
    if (push) {
        g->t.value[HD_ESP] -= size;
    } else {
        g->t.value[HD_ESP] += size;
        g->t.known = RB(HD_ESP);
    }
    return true;
}

/* a safe EFLAGS image: random arithmetic flags and DF, IF and AC kept */
static uint32_t safe_eflags(struct gen *g)
{
    uint32_t v = (rng_u32(g) & (ALL6 | HD_DF)) | 0x2u | HD_IF;
    if (g->ac)
        v |= HD_AC;
    return v;
}

static bool item_pushf_popf(struct gen *g)
{
    if (g->ctx & CTX_NO_STACK)
        return false;
    uint32_t form = rnd(g, 4);
    if (form > 0 && (g->ctx & CTX_NO_DF))
        form = 0;
    if (!can_push(g, 8))
        return false;
    if (form == 0) {                    /* PUSHFD / PUSHFW alone */
        bool w16 = !g->ac && chance(g, 20);
        need_flags(g, ALL6);
        struct insn in = { 0 };
        if (w16)
            in_pfx(&in, 0x66);
        in_b(&in, 0x9C);
        commit(g, &in);
        g->t.value[HD_ESP] -= w16 ? 2 : 4;
    } else if (form == 1) {             /* PUSH imm32; POPFD */
        uint32_t v = safe_eflags(g);
        struct insn push = { 0 };
        in_b(&push, 0x68);
        in_u32(&push, v);
        commit(g, &push);
        uint8_t popf = 0x9D;
        emit_bytes(g, &popf, 1);
        flags_apply(g, ALL6, 0);
        g->t.df = (v & HD_DF) != 0;
    } else if (form == 2 && !g->ac) {   /* PUSH imm16; POPFW */
        uint32_t v = safe_eflags(g) & 0xFFFF;
        struct insn push = { 0 }, pop = { 0 };
        in_pfx(&push, 0x66);
        in_b(&push, 0x68);
        in_u16(&push, v);
        commit(g, &push);
        in_pfx(&pop, 0x66);
        in_b(&pop, 0x9D);
        commit(g, &pop);
        flags_apply(g, ALL6, 0);
        g->t.df = (v & HD_DF) != 0;
    } else {                            /* PUSHFD; XOR dword [esp], mask; POPFD */
        need_flags(g, ALL6);
        uint8_t pushf = 0x9C, popf = 0x9D;
        emit_bytes(g, &pushf, 1);
        uint32_t mask = rng_u32(g) & (ALL6 | HD_DF);
        uint8_t x[7] = { 0x81, 0x34, 0x24 };
        put_le(x + 3, mask, 4);
        emit_bytes(g, x, 7);
        flags_apply(g, LOGIC_DEF, AF);
        emit_bytes(g, &popf, 1);
        flags_apply(g, ALL6, 0);
        g->t.df ^= (mask & HD_DF) != 0;
    }
    return true;
}

/* ---- nested blocks -------------------------------------------------------- */

static void gen_item(struct gen *g);

/* generates up to n items inside a restricted context */
static void gen_block(struct gen *g, unsigned n, uint8_t ctx_add, uint8_t lock_add, uint32_t max_bytes)
{
    uint8_t saved_ctx = g->ctx, saved_locked = g->locked;
    uint32_t start = g->c->code_len;
    g->ctx |= ctx_add;
    g->locked |= lock_add;
    for (unsigned i = 0; i < n && g->c->code_len - start < max_bytes; i++)
        gen_item(g);
    g->ctx = saved_ctx;
    g->locked = saved_locked;
}

/* join of two paths: only what both agree on stays defined/known */
static void track_join(struct track *into, const struct track *other)
{
    into->efl_def &= other->efl_def;
    into->fsw_def &= other->fsw_def;
    uint8_t same = 0;
    for (unsigned r = 0; r < 8; r++)
        if (into->value[r] == other->value[r])
            same |= RB(r);
    into->known &= other->known & same;
}

/* state that can be restored when a structured item does not fit */
struct snapshot {
    struct gen g;
    uint32_t code_len, n_marks, n_patches, case_flags;
};

static void snap_take(const struct gen *g, struct snapshot *s)
{
    s->g = *g;
    s->code_len = g->c->code_len;
    s->n_marks = g->c->n_marks;
    s->n_patches = g->c->n_patches;
    s->case_flags = g->c->case_flags;
}

static void snap_restore(struct gen *g, const struct snapshot *s)
{
    uint64_t rng = g->rng;
    *g = s->g;
    g->rng = rng;
    struct hd_case *c = g->c;
    memset(c->code + s->code_len, 0, c->code_len - s->code_len);
    memset(c->marks + s->n_marks, 0, (c->n_marks - s->n_marks) * sizeof c->marks[0]);
    memset(c->patches + s->n_patches, 0, (c->n_patches - s->n_patches) * sizeof c->patches[0]);
    c->code_len = s->code_len;
    c->n_marks = s->n_marks;
    c->n_patches = s->n_patches;
    c->case_flags = s->case_flags;
}

static bool patch_rel8(struct gen *g, uint32_t field, uint32_t target)
{
    int32_t rel = (int32_t)(target - (field + 1));
    if (rel < -128 || rel > 127)
        return false;
    g->c->code[field] = (uint8_t)rel;
    return true;
}

static void patch_rel32(struct gen *g, uint32_t field, uint32_t target)
{
    put_le(g->c->code + field, target - (field + 4), 4);
}

#define BLOCK_CTX (CTX_NO_STACK | CTX_NO_FLOW | CTX_NO_DF | CTX_SMALL)

/* Jcc (short or near), JMP, JECXZ/JCXZ or forward LOOPcc over a block */
static bool item_forward_jump(struct gen *g)
{
    if (g->ctx & CTX_NO_FLOW)
        return false;
    struct snapshot s;
    snap_take(g, &s);
    struct insn in = { 0 };
    uint32_t kind = rnd(g, 100);
    bool near = false;
    if (kind < 62) {                        /* Jcc */
        unsigned cc = rnd(g, 16);
        need_flags(g, cc_uses[cc]);
        near = chance(g, 30);
        if (chance(g, 5))
            in_pfx(&in, chance(g, 50) ? 0x2E : 0x3E);   /* branch hints */
        if (near) {
            in_b(&in, 0x0F);
            in_b(&in, (uint8_t)(0x80 + cc));
            in_u32(&in, 0);
        } else {
            in_b(&in, (uint8_t)(0x70 + cc));
            in_b(&in, 0);
        }
    } else if (kind < 72) {                 /* JMP over dead code */
        near = chance(g, 40);
        if (near) {
            in_b(&in, 0xE9);
            in_u32(&in, 0);
        } else {
            in_b(&in, 0xEB);
            in_b(&in, 0);
        }
    } else if (kind < 84) {                 /* JECXZ / JCXZ */
        if (chance(g, 25))
            in_pfx(&in, 0x67);
        in_b(&in, 0xE3);
        in_b(&in, 0);
    } else {                                /* LOOP / LOOPE / LOOPNE forward */
        if (!reg_writable(g, HD_ECX))
            return false;
        unsigned op = rnd(g, 3);            /* E0 loopne, E1 loope, E2 loop */
        if (op < 2)
            need_flags(g, ZF);
        if (chance(g, 20))
            in_pfx(&in, 0x67);
        in_b(&in, (uint8_t)(0xE0 + op));
        in_b(&in, 0);
    }
    bool uses_cx16 = in.n_pfx && in.pfx[0] == 0x67;
    uint8_t first = in.body[0];
    commit(g, &in);
    uint32_t field = near ? g->c->code_len - 4 : g->c->code_len - 1;
    if (first >= 0xE0 && first <= 0xE2) {  /* the LOOP decrement happens on both paths */
        if (reg_known(g, HD_ECX))
            g->t.value[HD_ECX] = uses_cx16 ? (g->t.value[HD_ECX] & 0xFFFF0000u) |
                                                 ((g->t.value[HD_ECX] - 1) & 0xFFFF)
                                           : g->t.value[HD_ECX] - 1;
    }
    struct track taken = g->t;
    gen_block(g, 1 + rnd(g, 4), BLOCK_CTX, 0, near ? 200 : 70);
    uint32_t target = g->c->code_len;
    if (near) {
        patch_rel32(g, field, target);
    } else if (!patch_rel8(g, field, target)) {
        snap_restore(g, &s);
        return false;
    }
    track_join(&g->t, &taken);
    return true;
}

/*
 * Counted loop: mov ecx, n (1..6); body; LOOP/LOOPE/LOOPNE back.  The body
 * starts with nothing defined, may not write ECX or any register that is
 * known at its start (so every address it uses is the same in every
 * iteration), and inserts its own CMP before a LOOPcc that needs ZF.
 */
static bool item_loop(struct gen *g)
{
    if ((g->ctx & CTX_NO_FLOW) || !reg_writable(g, HD_ECX))
        return false;
    struct snapshot s;
    snap_take(g, &s);
    bool cx16 = chance(g, 15);
    uint32_t n = 1 + rnd(g, 6);
    if (cx16)
        emit_setup(g, HD_ECX, (rng_u32(g) & 0xFFFF0000u) | n);
    else
        emit_setup(g, HD_ECX, n);
    uint32_t ecx_hi = g->t.value[HD_ECX] & 0xFFFF0000u;
    reg_clobber(g, HD_ECX);
    uint32_t top = g->c->code_len;
    g->t.efl_def = 0;
    g->t.fsw_def = 0;
    uint8_t lock = (uint8_t)(g->t.known | RB(HD_ECX));
    gen_block(g, 1 + rnd(g, 4), BLOCK_CTX | CTX_NO_ECX, lock, 80);
    unsigned op = rnd(g, 3);
    if (op < 2) {
        uint8_t saved = g->locked;
        g->locked |= lock;
        need_flags(g, ZF);
        g->locked = saved;
    }
    struct insn in = { 0 };
    if (cx16)
        in_pfx(&in, 0x67);
    in_b(&in, (uint8_t)(0xE0 + op));
    in_b(&in, 0);
    commit(g, &in);
    if (!patch_rel8(g, g->c->code_len - 1, top)) {
        snap_restore(g, &s);
        return false;
    }
    if (op == 2)
        reg_set(g, HD_ECX, ecx_hi * cx16);
    return true;
}

/*
 * A loop closed by a Jcc, as compilers write them: a counter (any free
 * register) set to n (1..6); a head that overwrites all six flags from
 * registers or an immediate (ADD, SUB, AND, OR, XOR, CMP, TEST, any
 * width; or a shift by an immediate, IMUL r, r, imm or NEG; now and
 * then after register moves), which lets the native
 * backend's jumps back skip the block's entry and its flag save; a body
 * as LOOP's (item_loop); the count and a conditional jump back. The count: SUB r, 1 or ADD r, -1 (JNZ, JG); DEC
 * (its jump leaves through the entry); DEC or LEA r, [r-1] then TEST r, r;
 * DEC then CMP r, 0, CMP r8, 0 or, after a load through the same base,
 * CMP r, [base+4] of a pool slot holding 0 (JNE, JA, JG). One loop in
 * three ends instead with the opposite Jcc forward out and a JMP back.
 * Some heads are ADC or SBB instead: they read CF, so those jumps back
 * must go through the entry (with the flags saved).
 */
static bool item_jcc_loop(struct gen *g)
{
    if (g->ctx & CTX_NO_FLOW)
        return false;
    unsigned cand[8], nc = 0;
    for (unsigned r = 0; r < 8; r++)
        if (reg_writable(g, r))
            cand[nc++] = r;
    if (nc == 0)
        return false;
    struct snapshot s;
    snap_take(g, &s);
    unsigned cnt = cand[rnd(g, nc)];
    unsigned form = rnd(g, 8);
    if (form == 6 && cnt >= 4)
        form = 5;   /* CMP r8, 0: AL..BL only */
    int base = -1;
    if (form == 7) {
        uint8_t slot_bytes[8] = { 0 };
        put_le(slot_bytes, rng_u32(g), 4);
        uint32_t slot = g->ac || pool_full(g) ? 0 : pool_put(g, slot_bytes, 8);
        base = slot ? pick_setup_reg(g, RB(cnt)) : -1;
        if (base < 0)
            form = 5;
        else
            emit_setup(g, (unsigned)base, slot);
    }
    /* now and then a head that reads CF (ADC, SBB): the jump back may not
     * skip the entry then; every count but DEC's defines CF */
    bool carry_head = form != 2 && chance(g, 15);
    if (carry_head)
        need_flags(g, CF);
    emit_setup(g, cnt, 1 + rnd(g, 6));
    reg_clobber(g, cnt);
    uint32_t top = g->c->code_len;
    g->t.efl_def = carry_head ? CF : 0;
    g->t.fsw_def = 0;
    uint8_t lock = (uint8_t)(g->t.known | RB(cnt));   /* the same in every pass */

    /* now and then register moves first (MOV, MOVZX, LEA: the flags are
     * still dead after them) */
    for (unsigned k = chance(g, 30) ? 1 + rnd(g, 2) : 0; k > 0; k--) {
        unsigned mv[8], nm = 0;
        for (unsigned r = 0; r < 8; r++)
            if (reg_writable(g, r) && !(lock & RB(r)))
                mv[nm++] = r;
        if (nm == 0)
            break;
        unsigned to = mv[rnd(g, nm)], from = rnd(g, 8);
        struct insn mov = { 0 };
        switch (rnd(g, 3)) {
        case 0:
            in_b(&mov, 0x89);
            in_modrm_reg(&mov, from, to);
            break;
        case 1:   /* MOVZX r32, r8 */
            in_b(&mov, 0x0F);
            in_b(&mov, 0xB6);
            in_modrm_reg(&mov, to, from);
            break;
        default:   /* LEA r32, [base + disp8], base not ESP */
            in_b(&mov, 0x8D);
            in_b(&mov, (uint8_t)(0x40 | (to << 3) | (from == HD_ESP ? HD_EBP : from)));
            in_b(&mov, (uint8_t)rnd(g, 256));
            break;
        }
        commit(g, &mov);
        reg_clobber(g, to);
    }

    /* the head */
    static const uint8_t alu_ext[6] = { 0, 1, 4, 5, 6, 7 };   /* ADD OR AND SUB XOR CMP */
    unsigned width = chance(g, 70) ? 32 : chance(g, 65) ? 8 : 16;
    bool test = !carry_head && chance(g, 20);
    unsigned ext = carry_head ? 2 + rnd(g, 2) : alu_ext[rnd(g, 6)];
    unsigned free_regs[8], nf = 0;   /* registers the head may write */
    for (unsigned r = 0; r < 8; r++)
        if (reg_writable(g, width == 8 ? (r & 3u) : r) && !(lock & RB(width == 8 ? (r & 3u) : r)))
            free_regs[nf++] = r;
    if (nf == 0 && !test) {
        if (carry_head) {
            snap_restore(g, &s);
            return false;
        }
        ext = 7;   /* CMP writes no register */
    }
    bool writes = !test && ext != 7;
    unsigned dst = writes ? free_regs[rnd(g, nf)] : rnd(g, 8);
    struct insn head = { 0 };
    if (width == 16)
        in_pfx(&head, 0x66);
    unsigned w = width == 8 ? 0 : 1;
    unsigned other = writes && !carry_head ? rnd(g, 10) : 9;
    if (other < 3) {   /* a shift by 1..31, an IMUL or a NEG of a register */
        switch (other) {
        case 0: {
            static const uint8_t shift_ext[3] = { 4, 5, 7 };   /* SHL SHR SAR */
            uint32_t count = 1 + rnd(g, width - 1);   /* (CF is undefined from the width on) */
            in_b(&head, (uint8_t)((count == 1 ? 0xD0 : 0xC0) + w));
            in_modrm_reg(&head, shift_ext[rnd(g, 3)], dst);
            if (count != 1)
                in_b(&head, (uint8_t)count);
            commit(g, &head);
            flags_apply(g, count == 1 ? ALL6 & ~AF : ALL6 & ~(AF | OF), AF | (count == 1 ? 0 : OF));
            break;
        }
        case 1:   /* IMUL r, r/m, imm (register forms, 16 or 32 bits) */
            if (width == 8)
                in_pfx(&head, 0x66);
            in_b(&head, 0x69);
            in_modrm_reg(&head, width == 8 ? (dst & 3u) : dst, rnd(g, 8));
            in_imm(&head, gen_int(g), width == 32 ? 32 : 16);
            commit(g, &head);
            flags_apply(g, CF | OF, SF | ZF | AF | PF);
            if (width == 8)
                width = 16, dst &= 3u;
            break;
        default:   /* NEG */
            in_b(&head, (uint8_t)(0xF6 + w));
            in_modrm_reg(&head, 3, dst);
            commit(g, &head);
            flags_apply(g, ALL6, 0);
            break;
        }
        reg_written(g, dst, width);
    } else if (chance(g, 50)) {   /* r, r */
        in_b(&head, (uint8_t)(test ? 0x84 + w : (ext << 3) + w));
        in_modrm_reg(&head, rnd(g, 8), dst);
    } else if (test) {
        in_b(&head, (uint8_t)(0xF6 + w));
        in_modrm_reg(&head, 0, dst);
        in_imm(&head, rng_u32(g), width);
    } else {
        bool imm8 = width != 8 && chance(g, 50);
        in_b(&head, (uint8_t)(width == 8 ? 0x80 : imm8 ? 0x83 : 0x81));
        in_modrm_reg(&head, ext, dst);
        in_imm(&head, imm8 ? rnd(g, 256) : gen_int(g), imm8 ? 8 : width);
    }
    if (other >= 3) {
        commit(g, &head);
        if (test || ext == 1 || ext == 4 || ext == 6)
            flags_apply(g, LOGIC_DEF, AF);
        else
            flags_apply(g, ALL6, 0);
        if (writes)
            reg_written(g, dst, width);
    }

    gen_block(g, rnd(g, 4), BLOCK_CTX | CTX_NO_ECX, lock, 70);

    /* the count; cc: the condition to go on */
    uint8_t cc = 0x5;   /* NZ */
    struct insn in = { 0 };
    switch (form) {
    case 0: case 1:   /* SUB r, 1 / ADD r, -1 */
        in_b(&in, 0x83);
        in_modrm_reg(&in, form == 0 ? 5 : 0, cnt);
        in_b(&in, form == 0 ? 0x01 : 0xFF);
        commit(g, &in);
        flags_apply(g, ALL6, 0);
        cc = chance(g, 30) ? 0xF : 0x5;   /* G: the count stays below 7 */
        break;
    case 2:   /* DEC r */
        in_b(&in, (uint8_t)(0x48 + cnt));
        commit(g, &in);
        flags_apply(g, ALL6 & ~CF, 0);
        break;
    case 3: case 4:   /* DEC r or LEA r, [r-1]; TEST r, r */
        if (form == 3) {
            in_b(&in, (uint8_t)(0x48 + cnt));
        } else {
            in_b(&in, 0x8D);
            in_b(&in, (uint8_t)(0x40 | (cnt << 3) | cnt));
            in_b(&in, 0xFF);
        }
        commit(g, &in);
        if (form == 3)
            flags_apply(g, ALL6 & ~CF, 0);
        in = (struct insn){ 0 };
        in_b(&in, 0x85);
        in_modrm_reg(&in, cnt, cnt);
        commit(g, &in);
        flags_apply(g, LOGIC_DEF, AF);
        cc = chance(g, 30) ? 0xF : 0x5;
        break;
    default:   /* DEC r; CMP r, 0 / CMP r8, 0 / MOV tmp, [base]; CMP r, [base+4] */
        in_b(&in, (uint8_t)(0x48 + cnt));
        commit(g, &in);
        flags_apply(g, ALL6 & ~CF, 0);
        in = (struct insn){ 0 };
        if (form == 7) {
            unsigned tmp[8], nt = 0;
            for (unsigned r = 0; r < 8; r++)
                if (reg_writable(g, r) && !(lock & RB(r)))
                    tmp[nt++] = r;
            if (nt) {   /* the load leads the base's group, the CMP a member */
                unsigned t = tmp[rnd(g, nt)];
                in_b(&in, 0x8B);
                in_b(&in, (uint8_t)(0x40 | (t << 3) | (unsigned)base));
                in_b(&in, 0x00);
                commit(g, &in);
                reg_written(g, t, 32);
                in = (struct insn){ 0 };
            }
            in_b(&in, 0x3B);
            in_b(&in, (uint8_t)(0x40 | (cnt << 3) | (unsigned)base));
            in_b(&in, 0x04);
        } else {
            in_b(&in, (uint8_t)(form == 6 ? 0x80 : 0x83));
            in_modrm_reg(&in, 7, cnt);
            in_b(&in, 0x00);
        }
        commit(g, &in);
        flags_apply(g, ALL6, 0);
        cc = (uint8_t)pick_from(g, (const uint32_t[]){ 0x5, 0x7, 0xF }, 3);   /* NE A G */
        break;
    }
    in = (struct insn){ 0 };
    bool jmp_back = chance(g, 33);
    in_b(&in, (uint8_t)(0x70 + (jmp_back ? cc ^ 1u : cc)));
    in_b(&in, 0);
    commit(g, &in);
    uint32_t jcc_field = g->c->code_len - 1;
    if (jmp_back) {
        in = (struct insn){ 0 };
        in_b(&in, 0xEB);
        in_b(&in, 0);
        commit(g, &in);   /* (maybe with a prefix) */
        patch_rel8(g, jcc_field, g->c->code_len);
    }
    if (!patch_rel8(g, g->c->code_len - 1, top)) {
        snap_restore(g, &s);
        return false;
    }
    reg_set(g, cnt, 0);
    return true;
}

/* CALL (direct, via register, via memory) to a subroutine placed after a JMP */
static bool item_call(struct gen *g)
{
    if ((g->ctx & (CTX_NO_FLOW | CTX_NO_STACK)) || !can_push(g, 4))
        return false;
    struct snapshot s;
    snap_take(g, &s);
    uint32_t form = rnd(g, 10);
    uint32_t target_field = 0;      /* where the subroutine address goes */
    enum { DIRECT, VIA_REG, VIA_POOL, VIA_HOT } how = form < 5 ? DIRECT : form < 7 ? VIA_REG
                                                     : form < 9 ? VIA_POOL : VIA_HOT;
    struct insn call = { 0 };
    if (how == DIRECT) {
        in_b(&call, 0xE8);
        in_u32(&call, 0);
    } else if (how == VIA_REG) {
        int r = pick_setup_reg(g, 0);
        if (r < 0)
            return false;
        emit_setup(g, (unsigned)r, 0);
        target_field = g->c->code_len - 4;
        reg_clobber(g, (unsigned)r);        /* value is patched below */
        in_b(&call, 0xFF);
        in_modrm_reg(&call, 2, (unsigned)r);
    } else {
        uint32_t addr;
        struct memop m;
        if (how == VIA_POOL) {
            uint8_t zero[4] = { 0 };
            addr = pool_put(g, zero, 4);
            if (!addr)
                return false;
        } else {
            addr = pick_addr(g, 4, true);
            if (g->ac || chance(g, 70))
                addr &= ~3u;
        }
        build_mem(g, addr, 0, &m);
        if (how == VIA_HOT) {               /* mov dword [m], target */
            struct insn st = { 0 };
            in_b(&st, 0xC7);
            in_mem(&st, &m, 0);
            in_u32(&st, 0);
            commit(g, &st);
            target_field = g->c->code_len - 4;
        }
        mem_prefixes(g, &call, false);
        in_b(&call, 0xFF);
        in_mem(&call, &m, 2);
        if (how == VIA_POOL)
            target_field = 0x80000000u | (g->c->n_patches - 1);
    }
    commit(g, &call);
    uint32_t call_field = g->c->code_len - 4;
    struct insn jmp = { 0 };
    bool near = chance(g, 30);
    in_b(&jmp, near ? 0xE9 : 0xEB);
    if (near)
        in_u32(&jmp, 0);
    else
        in_b(&jmp, 0);
    g->t.value[HD_ESP] -= 4;            /* inside the subroutine */
    uint32_t jmp_mark = g->c->n_marks;
    commit(g, &jmp);
    uint32_t jmp_field = near ? g->c->code_len - 4 : g->c->code_len - 1;
    uint32_t sub = g->c->code_len;
    gen_block(g, rnd(g, 4), BLOCK_CTX, 0, 60);
    uint32_t imm = 0;
    if (chance(g, 30)) {
        imm = g->ac ? 4 * rnd(g, 8) : rnd(g, 33);
        if (!can_pop(g, 4 + imm))
            imm = 0;
    }
    if (imm || chance(g, 10)) {
        uint8_t ret[3] = { 0xC2, (uint8_t)imm, (uint8_t)(imm >> 8) };
        emit_bytes(g, ret, 3);
    } else {
        uint8_t ret = 0xC3;
        emit_bytes(g, &ret, 1);
    }
    g->t.value[HD_ESP] += 4 + imm;
    uint32_t after = g->c->code_len;
    uint32_t sub_addr = HD_CODE_BASE + sub;
    if (how == DIRECT)
        patch_rel32(g, call_field, sub);
    else if (target_field & 0x80000000u)
        put_le(g->c->patches[target_field & 0xFF].bytes, sub_addr, 4);
    else
        put_le(g->c->code + target_field, sub_addr, 4);
    /* the JMP runs after the RET: its mark is the state at the return */
    g->c->marks[jmp_mark].fsw_defined = g->t.fsw_def;
    g->c->marks[jmp_mark].eflags_defined = mark_eflags(&g->t);
    if (near) {
        patch_rel32(g, jmp_field, after);
    } else if (!patch_rel8(g, jmp_field, after)) {
        snap_restore(g, &s);
        return false;
    }
    return true;
}

/* forward JMP through a register or memory, over dead code */
static bool item_jmp_indirect(struct gen *g)
{
    if (g->ctx & CTX_NO_FLOW)
        return false;
    bool via_mem = chance(g, 40) && !pool_full(g);
    uint32_t field;
    struct insn jmp = { 0 };
    if (via_mem) {
        uint8_t zero[4] = { 0 };
        uint32_t addr = pool_put(g, zero, 4);
        struct memop m;
        build_mem(g, addr, 0, &m);
        mem_prefixes(g, &jmp, false);
        in_b(&jmp, 0xFF);
        in_mem(&jmp, &m, 4);
        field = g->c->n_patches - 1;
    } else {
        int r = pick_setup_reg(g, 0);
        if (r < 0)
            return false;
        emit_setup(g, (unsigned)r, 0);
        field = g->c->code_len - 4;
        in_b(&jmp, 0xFF);
        in_modrm_reg(&jmp, 4, (unsigned)r);
        reg_clobber(g, (unsigned)r);
    }
    commit(g, &jmp);
    struct track at_jump = g->t;
    gen_block(g, 1 + rnd(g, 2), BLOCK_CTX, 0, 60);
    uint32_t target = HD_CODE_BASE + g->c->code_len;
    if (via_mem)
        put_le(g->c->patches[field].bytes, target, 4);
    else
        put_le(g->c->code + field, target, 4);
    g->t = at_jump;     /* the block never runs */
    return true;
}

/*
 * ENTER level 0..3 with a small frame, then optionally a body and LEAVE;
 * or a LEAVE on its own after pointing EBP into the stack area.
 */
static bool item_enter_leave(struct gen *g)
{
    if ((g->ctx & CTX_NO_STACK) || !reg_writable(g, HD_EBP))
        return false;
    bool w16 = !g->ac && chance(g, 15);
    uint32_t slot = w16 ? 2 : 4;
    if (chance(g, 20)) {                /* LEAVE alone */
        uint32_t esp = esp_of(g);
        uint32_t target = esp - 128 + 4 * rnd(g, 64);
        if (target < STACK_FLOOR)
            target = STACK_FLOOR;
        if (target + slot > STACK_CEIL)
            target = STACK_CEIL - slot;
        if (g->ac)
            target &= ~3u;
        emit_setup(g, HD_EBP, target);
        struct insn in = { 0 };
        if (w16)
            in_pfx(&in, 0x66);
        in_b(&in, 0xC9);
        commit(g, &in);
        g->t.value[HD_ESP] = target + slot;
        reg_clobber(g, HD_EBP);
        return true;
    }
    uint32_t level = rnd(g, 4);
    uint32_t size = g->ac ? 4 * rnd(g, 9) : rnd(g, 40);
    uint32_t total = slot + (level ? slot * level : 0) + size;
    if (!can_push(g, total + 8))
        return false;
    /* the frame copies read from [EBP - slot*i]: EBP must be a known pointer */
    if (level >= 2 || w16) {
        uint32_t v = g->t.value[HD_EBP];
        bool ok = reg_known(g, HD_EBP) && range_ok(v - 16, 20, HD_DATA_SIZE) && (!g->ac || (v & 3) == 0);
        if (!ok)
            emit_setup(g, HD_EBP, pick_range(g, 16, false, 4) + 12);
    }
    bool old_known = reg_known(g, HD_EBP);
    uint32_t old_ebp = g->t.value[HD_EBP];
    struct insn in = { 0 };
    if (w16)
        in_pfx(&in, 0x66);
    in_b(&in, 0xC8);
    in_u16(&in, size);
    in_b(&in, (uint8_t)level);
    commit(g, &in);
    uint32_t esp = esp_of(g) - slot;
    uint32_t frame = esp;
    if (level)
        esp -= slot * level;
    esp -= size;
    g->t.value[HD_ESP] = esp;
    if (w16)
        reg_set(g, HD_EBP, (old_ebp & 0xFFFF0000u) | (frame & 0xFFFF));
    else
        reg_set(g, HD_EBP, frame);
    if ((g->ctx & CTX_NO_FLOW) || chance(g, 30))
        return true;                    /* frame stays */
    gen_block(g, rnd(g, 4), CTX_NO_STACK | CTX_NO_FLOW | CTX_NO_DF, RB(HD_EBP), 150);
    struct insn leave = { 0 };
    if (w16)
        in_pfx(&leave, 0x66);
    in_b(&leave, 0xC9);
    commit(g, &leave);
    g->t.value[HD_ESP] = frame + slot;
    if (w16)
        old_known = old_known && reg_known(g, HD_EBP);
    if (old_known)
        reg_set(g, HD_EBP, old_ebp);
    else
        reg_clobber(g, HD_EBP);
    return true;
}

/* ---- x87 ------------------------------------------------------------------ */

enum fval { FV_NONE, FV_F32, FV_F64, FV_F80, FV_I16, FV_I32, FV_I64, FV_BCD };

struct fmem_op {
    uint8_t esc, ext, size, write, value;   /* value: enum fval for pool loads */
    uint16_t fsw_def, fsw_undef;
    uint8_t weight;
};

static const struct fmem_op fmem_ops[] = {
    { 0xD9, 0, 4, 0, FV_F32, C1, CC_NOT_C1, 5 },    /* FLD m32 */
    { 0xDD, 0, 8, 0, FV_F64, C1, CC_NOT_C1, 5 },    /* FLD m64 */
    { 0xDB, 5, 10, 0, FV_F80, C1, CC_NOT_C1, 5 },   /* FLD m80 */
    { 0xDF, 0, 2, 0, FV_I16, C1, CC_NOT_C1, 2 },    /* FILD m16 */
    { 0xDB, 0, 4, 0, FV_I32, C1, CC_NOT_C1, 2 },    /* FILD m32 */
    { 0xDF, 5, 8, 0, FV_I64, C1, CC_NOT_C1, 2 },    /* FILD m64 */
    { 0xDF, 4, 10, 0, FV_BCD, C1, CC_NOT_C1, 2 },   /* FBLD (pool only) */
    { 0xD9, 2, 4, 1, FV_NONE, C1, CC_NOT_C1, 2 },   /* FST m32 */
    { 0xD9, 3, 4, 1, FV_NONE, C1, CC_NOT_C1, 2 },   /* FSTP m32 */
    { 0xDD, 2, 8, 1, FV_NONE, C1, CC_NOT_C1, 2 },   /* FST m64 */
    { 0xDD, 3, 8, 1, FV_NONE, C1, CC_NOT_C1, 2 },   /* FSTP m64 */
    { 0xDB, 7, 10, 1, FV_NONE, C1, CC_NOT_C1, 3 },  /* FSTP m80 */
    { 0xDF, 2, 2, 1, FV_NONE, C1, CC_NOT_C1, 1 },   /* FIST m16 */
    { 0xDB, 2, 4, 1, FV_NONE, C1, CC_NOT_C1, 1 },   /* FIST m32 */
    { 0xDF, 3, 2, 1, FV_NONE, C1, CC_NOT_C1, 1 },   /* FISTP m16 */
    { 0xDB, 3, 4, 1, FV_NONE, C1, CC_NOT_C1, 1 },   /* FISTP m32 */
    { 0xDF, 7, 8, 1, FV_NONE, C1, CC_NOT_C1, 2 },   /* FISTP m64 */
    { 0xDF, 6, 10, 1, FV_NONE, C1, CC_NOT_C1, 2 },  /* FBSTP */
    /* arithmetic with a memory operand; ext 2/3 (FCOM/FCOMP) fixed below */
    { 0xD8, 0xFF, 4, 0, FV_F32, C1, CC_NOT_C1, 7 },
    { 0xDC, 0xFF, 8, 0, FV_F64, C1, CC_NOT_C1, 7 },
    { 0xDA, 0xFF, 4, 0, FV_I32, C1, CC_NOT_C1, 3 },
    { 0xDE, 0xFF, 2, 0, FV_I16, C1, CC_NOT_C1, 3 },
};

#define N_FMEM_OPS (sizeof fmem_ops / sizeof fmem_ops[0])

/* a pool slot holding an interesting value of the given kind, or 0 */
static uint32_t pool_fvalue(struct gen *g, unsigned kind)
{
    uint8_t b[10];
    unsigned len;
    switch (kind) {
    case FV_F32: put_le(b, gen_ieee(g, 8, 23), 4); len = 4; break;
    case FV_F64: put_le(b, gen_ieee(g, 11, 52), 8); len = 8; break;
    case FV_F80: gen_f80(g, b); len = 10; break;
    case FV_I16: put_le(b, gen_int64(g, 16), 2); len = 2; break;
    case FV_I32: put_le(b, gen_int64(g, 32), 4); len = 4; break;
    case FV_I64: put_le(b, gen_int64(g, 64), 8); len = 8; break;
    case FV_BCD: gen_bcd(g, b); len = 10; break;
    default: return 0;
    }
    return pool_put(g, b, len);
}

static void emit_fmem(struct gen *g, uint8_t esc, unsigned ext, uint32_t addr, bool write)
{
    struct memop m;
    build_mem(g, addr, 0, &m);
    struct insn in = { 0 };
    mem_prefixes(g, &in, write);
    in_b(&in, esc);
    in_mem(&in, &m, ext);
    commit(g, &in);
}

static bool item_fmem(struct gen *g)
{
    const struct fmem_op *f = PICK_WEIGHTED(g, fmem_ops, N_FMEM_OPS);
    unsigned ext = f->ext == 0xFF ? rnd(g, 8) : f->ext;
    uint32_t addr = 0;
    if (f->value == FV_BCD || (!f->write && chance(g, 40)))
        addr = pool_fvalue(g, f->value);
    if (!addr) {
        if (f->value == FV_BCD)
            return false;
        addr = pick_addr(g, f->size, f->write);
    }
    emit_fmem(g, f->esc, ext, addr, f->write);
    if (f->ext == 0xFF && (ext == 2 || ext == 3)) {
        fsw_apply(g, CC_ALL, 0);    /* FCOM/FCOMP/FICOM/FICOMP */
    } else {
        fsw_apply(g, f->fsw_def, f->fsw_undef);
        maybe_read_c1(g, f->fsw_def);
    }
    return true;
}

struct freg_op {
    uint8_t esc, modrm, n_i;        /* modrm + i for i < n_i (n_i 0: fixed) */
    uint16_t fsw_def, fsw_undef;
    uint8_t weight;
};

static const struct freg_op freg_ops[] = {
    { 0xD8, 0xC0, 8, C1, CC_NOT_C1, 4 },    /* FADD st, st(i) */
    { 0xD8, 0xC8, 8, C1, CC_NOT_C1, 3 },    /* FMUL */
    { 0xD8, 0xD0, 8, CC_ALL, 0, 2 },        /* FCOM */
    { 0xD8, 0xD8, 8, CC_ALL, 0, 2 },        /* FCOMP */
    { 0xD8, 0xE0, 8, C1, CC_NOT_C1, 3 },    /* FSUB */
    { 0xD8, 0xE8, 8, C1, CC_NOT_C1, 2 },    /* FSUBR */
    { 0xD8, 0xF0, 8, C1, CC_NOT_C1, 3 },    /* FDIV */
    { 0xD8, 0xF8, 8, C1, CC_NOT_C1, 2 },    /* FDIVR */
    { 0xDC, 0xC0, 8, C1, CC_NOT_C1, 2 },    /* FADD st(i), st */
    { 0xDC, 0xC8, 8, C1, CC_NOT_C1, 2 },    /* FMUL st(i), st */
    { 0xDC, 0xE0, 8, C1, CC_NOT_C1, 2 },    /* FSUBR st(i), st */
    { 0xDC, 0xE8, 8, C1, CC_NOT_C1, 2 },    /* FSUB st(i), st */
    { 0xDC, 0xF0, 8, C1, CC_NOT_C1, 2 },    /* FDIVR st(i), st */
    { 0xDC, 0xF8, 8, C1, CC_NOT_C1, 2 },    /* FDIV st(i), st */
    { 0xDE, 0xC0, 8, C1, CC_NOT_C1, 2 },    /* FADDP */
    { 0xDE, 0xC8, 8, C1, CC_NOT_C1, 2 },    /* FMULP */
    { 0xDE, 0xE0, 8, C1, CC_NOT_C1, 2 },    /* FSUBRP */
    { 0xDE, 0xE8, 8, C1, CC_NOT_C1, 2 },    /* FSUBP */
    { 0xDE, 0xF0, 8, C1, CC_NOT_C1, 2 },    /* FDIVRP */
    { 0xDE, 0xF8, 8, C1, CC_NOT_C1, 2 },    /* FDIVP */
    { 0xDE, 0xD9, 0, CC_ALL, 0, 2 },        /* FCOMPP */
    { 0xD9, 0xC0, 8, C1, CC_NOT_C1, 4 },    /* FLD st(i) */
    { 0xD9, 0xC8, 8, C1, CC_NOT_C1, 3 },    /* FXCH */
    { 0xDD, 0xC0, 8, 0, CC_ALL, 1 },        /* FFREE */
    { 0xDD, 0xD0, 8, C1, CC_NOT_C1, 2 },    /* FST st(i) */
    { 0xDD, 0xD8, 8, C1, CC_NOT_C1, 2 },    /* FSTP st(i) */
    { 0xDD, 0xE0, 8, CC_ALL, 0, 2 },        /* FUCOM */
    { 0xDD, 0xE8, 8, CC_ALL, 0, 2 },        /* FUCOMP */
    { 0xDA, 0xE9, 0, CC_ALL, 0, 1 },        /* FUCOMPP */
    { 0xD9, 0xE0, 0, C1, CC_NOT_C1, 2 },    /* FCHS */
    { 0xD9, 0xE1, 0, C1, CC_NOT_C1, 2 },    /* FABS */
    { 0xD9, 0xE4, 0, CC_ALL, 0, 1 },        /* FTST */
    { 0xD9, 0xE5, 0, CC_ALL, 0, 2 },        /* FXAM */
    { 0xD9, 0xE8, 7, C1, CC_NOT_C1, 4 },    /* FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ */
    { 0xD9, 0xF4, 0, C1, CC_NOT_C1, 2 },    /* FXTRACT */
    { 0xD9, 0xF5, 0, CC_ALL, 0, 2 },        /* FPREM1 */
    { 0xD9, 0xF8, 0, CC_ALL, 0, 2 },        /* FPREM */
    { 0xD9, 0xF6, 0, C1, CC_NOT_C1, 1 },    /* FDECSTP */
    { 0xD9, 0xF7, 0, C1, CC_NOT_C1, 1 },    /* FINCSTP */
    { 0xD9, 0xFA, 0, C1, CC_NOT_C1, 2 },    /* FSQRT */
    { 0xD9, 0xFC, 0, C1, CC_NOT_C1, 2 },    /* FRNDINT */
    { 0xD9, 0xFD, 0, C1, CC_NOT_C1, 2 },    /* FSCALE */
    { 0xD9, 0xD0, 0, 0, CC_ALL, 1 },        /* FNOP */
    { 0xDB, 0xE2, 0, 0, CC_ALL, 1 },        /* FNCLEX */
};

#define N_FREG_OPS (sizeof freg_ops / sizeof freg_ops[0])

static bool item_freg(struct gen *g)
{
    const struct freg_op *f = PICK_WEIGHTED(g, freg_ops, N_FREG_OPS);
    uint8_t b[2] = { f->esc, (uint8_t)(f->modrm + (f->n_i ? rnd(g, f->n_i) : 0)) };
    emit_bytes(g, b, 2);
    fsw_apply(g, f->fsw_def, f->fsw_undef);
    maybe_read_c1(g, f->fsw_def);
    return true;
}

/* FCOMI FCOMIP FUCOMI FUCOMIP (EFLAGS) and FCMOVcc (reads EFLAGS) */
static bool item_fcomi_fcmov(struct gen *g)
{
    uint8_t b[2];
    if (chance(g, 50)) {
        static const uint8_t forms[4][2] = { { 0xDB, 0xF0 }, { 0xDF, 0xF0 }, { 0xDB, 0xE8 }, { 0xDF, 0xE8 } };
        unsigned k = rnd(g, 4);
        b[0] = forms[k][0];
        b[1] = (uint8_t)(forms[k][1] + rnd(g, 8));
        emit_bytes(g, b, 2);
        flags_apply(g, ALL6, 0);
        fsw_apply(g, C1, 0);
    } else {
        static const uint16_t uses[4] = { CF, ZF, CF | ZF, PF };    /* B E BE U */
        unsigned k = rnd(g, 4);
        need_flags(g, uses[k]);
        b[0] = chance(g, 50) ? 0xDA : 0xDB;                          /* cc / not cc */
        b[1] = (uint8_t)(0xC0 + 8 * k + rnd(g, 8));
        emit_bytes(g, b, 2);
        fsw_apply(g, 0, CC_ALL);
    }
    return true;
}

/* FNSTSW AX / m16 (after FXAM if needed), then maybe SAHF or a TEST */
static bool item_fnstsw(struct gen *g)
{
    bool to_ax = chance(g, 65);
    if (to_ax && !reg_writable(g, HD_EAX))
        return false;
    need_fsw(g);
    if (to_ax) {
        uint8_t b[2] = { 0xDF, 0xE0 };
        emit_bytes(g, b, 2);
        reg_clobber(g, HD_EAX);
        uint32_t after = rnd(g, 3);
        if (after == 0) {
            uint8_t sahf = 0x9E;
            emit_bytes(g, &sahf, 1);
            flags_apply(g, SF | ZF | AF | PF | CF, 0);
        } else if (after == 1) {
            uint8_t t[3] = { 0xF6, 0xC4, (uint8_t)pick_from(g, (const uint32_t[]){ 0x45, 0x01, 0x40, 0x05, 0x44 }, 5) };
            emit_bytes(g, t, 3);
            flags_apply(g, LOGIC_DEF, AF);
        }
    } else {
        emit_fmem(g, 0xDD, 7, pick_addr(g, 2, true), true);
    }
    fsw_apply(g, 0, CC_ALL);
    return true;
}

static uint16_t safe_fcw(struct gen *g)
{
    static const uint32_t pcs[4] = { 0, 2, 3, 3 };
    uint16_t cw = (uint16_t)(0x7F | (rnd(g, 4) << 10) | (pcs[rnd(g, 4)] << 8));
    if (chance(g, 8))
        cw |= 0x1000;   /* the obsolete infinity-control bit */
    return cw;
}

/* FNSTCW, FLDCW from a patched / stored / modified word */
static bool item_fcw(struct gen *g)
{
    uint32_t form = rnd(g, 4);
    uint32_t addr = pick_addr(g, 2, true);
    if (form == 0) {                        /* FNSTCW alone */
        emit_fmem(g, 0xD9, 7, addr, true);
    } else if (form == 1 && !pool_full(g)) { /* FLDCW from the pool */
        uint8_t cw[2];
        put_le(cw, safe_fcw(g), 2);
        emit_fmem(g, 0xD9, 5, pool_put(g, cw, 2), false);
    } else {                                /* store (or modify) then load */
        struct memop m;
        build_mem(g, addr, 0, &m);
        struct insn st = { 0 };
        if (form == 2) {                    /* mov word [m], cw */
            in_pfx(&st, 0x66);
            in_b(&st, 0xC7);
            in_mem(&st, &m, 0);
            in_u16(&st, safe_fcw(g));
            commit(g, &st);
        } else {                            /* fnstcw; and/or RC, PC */
            struct insn fn = { 0 }, and = { 0 };
            in_b(&fn, 0xD9);
            in_mem(&fn, &m, 7);
            commit(g, &fn);
            in_pfx(&and, 0x66);
            in_b(&and, 0x81);
            in_mem(&and, &m, 4);
            in_u16(&and, 0xF0FF);
            commit(g, &and);
            flags_apply(g, LOGIC_DEF, AF);
            uint16_t bits = (uint16_t)(safe_fcw(g) & 0x0F00);
            in_pfx(&st, 0x66);
            in_b(&st, 0x81);
            in_mem(&st, &m, 1);
            in_u16(&st, bits);
            commit(g, &st);
            flags_apply(g, LOGIC_DEF, AF);
        }
        struct insn ld = { 0 };
        in_b(&ld, 0xD9);
        in_mem(&ld, &m, 5);
        commit(g, &ld);
    }
    fsw_apply(g, 0, CC_ALL);
    return true;
}

/* FNINIT (rare: it throws the interesting stack away) */
static bool item_finit(struct gen *g)
{
    uint8_t b[2] = { 0xDB, 0xE3 };
    emit_bytes(g, b, 2);
    g->t.fsw_def = CC_ALL;
    return true;
}

/* overwrites the pointer fields (FIP/FCS/FOP/FDP/FDS) of an env image */
static void clobber_env_pointers(struct gen *g, uint32_t image)
{
    for (uint32_t off = 12; off < 28; off += 4) {
        uint8_t b[10] = { 0xC7, 0x05 };
        put_le(b + 2, image + off, 4);
        put_le(b + 6, 0x0BADF00Du + off, 4);
        emit_bytes(g, b, 10);
    }
}

/* mov word [image + off], v */
static void poke16(struct gen *g, uint32_t addr, uint16_t v)
{
    uint8_t b[9] = { 0x66, 0xC7, 0x05 };
    put_le(b + 3, addr, 4);
    put_le(b + 7, v, 2);
    emit_bytes(g, b, 9);
}

/* FNSTENV/FLDENV and FNSAVE/FRSTOR round trips through the data region */
static bool item_fenv(struct gen *g)
{
    if (g->ctx & CTX_SMALL)
        return false;
    bool full = chance(g, 50);
    uint32_t len = full ? 108 : 28;
    uint32_t image = pick_range(g, len, true, 4);
    need_fsw(g);
    emit_fmem(g, 0xDD - (full ? 0 : 4), full ? 6 : 6, image, true);
    if (full)
        g->t.fsw_def = CC_ALL;      /* FNSAVE re-initialises */
    else
        fsw_apply(g, 0, CC_ALL);
    clobber_env_pointers(g, image);
    if (chance(g, 50))
        poke16(g, image, safe_fcw(g));
    if (chance(g, 30))
        poke16(g, image + 4, (uint16_t)((rng_u32(g) & (CC_ALL | 0x3800u)) | (chance(g, 30) ? rng_u32(g) & 0x7Fu : 0)));
    if (chance(g, 30))
        poke16(g, image + 8, (uint16_t)rng_u32(g));
    for (uint32_t i = rnd(g, 3); i > 0; i--)
        item_freg(g);
    if (chance(g, 80)) {
        emit_fmem(g, 0xDD - (full ? 0 : 4), 4, image, false);    /* FRSTOR / FLDENV */
        g->t.fsw_def = CC_ALL;
    }
    return true;
}

/*
 * One transcendental on a freshly loaded argument inside its domain; it
 * closes the x87 part of the case (see the top of the file).
 */
static bool item_ftrans(struct gen *g)
{
    if (g->ctx & CTX_SMALL)
        return false;
    static const uint8_t ops[8] = { 0xF0, 0xF1, 0xF2, 0xF3, 0xF9, 0xFB, 0xFE, 0xFF };
    uint8_t op = ops[rnd(g, 8)];
    bool needs_arg = op != 0xF1 && op != 0xF3;     /* FYL2X, FPATAN take any input */
    if (needs_arg || chance(g, 50)) {
        uint8_t v[10];
        uint16_t exp;
        if (op == 0xF0)
            exp = (uint16_t)(0x3FFF - 1 - rnd(g, 40));          /* |x| < 1 */
        else if (op == 0xF9)
            exp = (uint16_t)(0x3FFF - 3 - rnd(g, 40));          /* |x| < 1/4 */
        else if (needs_arg && chance(g, 8))
            exp = (uint16_t)(0x3FFF + 63 + rnd(g, 4));          /* out of range: C2 */
        else
            exp = (uint16_t)(0x3FFF - 20 + rnd(g, 27));         /* |x| < 128 */
        uint32_t how = rnd(g, 10);
        if (how < 2 && op != 0xF9) {
            /* a constant: 1, lg2, ln2, 0 (all inside every domain used) */
            static const uint8_t consts[4] = { 0xE8, 0xEC, 0xED, 0xEE };
            uint8_t b[2] = { 0xD9, consts[rnd(g, 4)] };
            emit_bytes(g, b, 2);
        } else {
            put_le(v, rng_u64(g) | (1ull << 63), 8);
            put_le(v + 8, (uint16_t)(exp | (chance(g, 50) ? 0x8000 : 0)), 2);
            uint32_t addr = pool_put(g, v, 10);
            if (!addr) {
                uint8_t b[2] = { 0xD9, 0xEE };  /* FLDZ */
                emit_bytes(g, b, 2);
            } else {
                emit_fmem(g, 0xDB, 5, addr, false);
            }
        }
        fsw_apply(g, C1, CC_NOT_C1);
    }
    uint8_t b[2] = { 0xD9, op };
    emit_bytes(g, b, 2);
    if (op == 0xF2 || op == 0xFB || op == 0xFE || op == 0xFF)
        fsw_apply(g, C1 | C2, C0 | C3);
    else
        fsw_apply(g, C1, CC_NOT_C1);
    g->c->case_flags |= HD_CF_TRANSCENDENTAL;
    g->x87_closed = true;
    return true;
}

/* ---- item dispatch --------------------------------------------------------- */

struct item_kind {
    bool (*emit)(struct gen *g);
    uint8_t w_int;          /* weight in integer items */
    uint8_t w_x87;          /* weight among x87 items (x87 cases only) */
};

static const struct item_kind item_kinds[] = {
    { item_generic, 140, 0 },
    { item_fixed, 14, 0 },
    { item_aam_aad, 3, 0 },
    { item_moffs, 2, 0 },
    { item_div, 7, 0 },
    { item_bt_reg, 5, 0 },
    { item_cmpxchg, 4, 0 },
    { item_cmpxchg8b, 2, 0 },
    { item_xlat, 2, 0 },
    { item_table, 4, 0 },
    { item_lea, 5, 0 },
    { item_long_nop, 1, 0 },
    { item_bound, 2, 0 },
    { item_into, 1, 0 },
    { item_string, 9, 0 },
    { item_push_pop, 8, 0 },
    { item_frame, 6, 0 },
    { item_pusha_popa, 2, 0 },
    { item_pushf_popf, 3, 0 },
    { item_forward_jump, 9, 0 },
    { item_loop, 3, 0 },
    { item_jcc_loop, 4, 0 },
    { item_call, 4, 0 },
    { item_jmp_indirect, 1, 0 },
    { item_enter_leave, 3, 0 },
    { item_fmem, 0, 70 },
    { item_freg, 0, 75 },
    { item_fcomi_fcmov, 0, 12 },
    { item_fnstsw, 0, 10 },
    { item_fcw, 0, 8 },
    { item_finit, 0, 1 },
    { item_fenv, 0, 5 },
    { item_ftrans, 0, 4 },
};

#define N_ITEM_KINDS (sizeof item_kinds / sizeof item_kinds[0])

static void gen_item(struct gen *g)
{
    bool x87 = g->x87 && !g->x87_closed;
    for (unsigned tries = 0; tries < 16; tries++) {
        bool want_x87 = x87 && chance(g, 50);
        uint32_t total = 0;
        for (unsigned i = 0; i < N_ITEM_KINDS; i++)
            total += want_x87 ? item_kinds[i].w_x87 : item_kinds[i].w_int;
        uint32_t pick = rnd(g, total);
        unsigned k = 0;
        for (;; k++) {
            uint32_t w = want_x87 ? item_kinds[k].w_x87 : item_kinds[k].w_int;
            if (pick < w)
                break;
            pick -= w;
        }
        if (item_kinds[k].emit(g))
            return;
    }
    uint8_t nop = 0x90;
    emit_bytes(g, &nop, 1);
}

/* ---- deliberate faults ------------------------------------------------------ */

/* DIV/IDIV by zero or with a quotient that does not fit */
static void end_divide(struct gen *g, bool by_zero)
{
    unsigned width = pick_width(g, W_BF);
    bool is_signed = chance(g, 50);
    bool use_mem = chance(g, 50);
    uint32_t mask = width == 8 ? 0xFF : width == 16 ? 0xFFFF : 0xFFFFFFFFu;
    uint32_t divisor;
    if (by_zero)
        divisor = 0;
    else if (is_signed)
        divisor = chance(g, 50) ? mask : 1 + rnd(g, 4);    /* -1 or small */
    else
        divisor = 1 + rnd(g, 200);
    /* dividend: for overflow, high half >= divisor (unsigned) or MIN / -1 / big */
    if (!by_zero) {
        if (is_signed && divisor == mask) {
            uint32_t min = width == 8 ? 0x8000 : width == 16 ? 0x8000 : 0x80000000u;
            if (width == 32) {
                emit_setup(g, HD_EAX, min);
                emit_setup(g, HD_EDX, 0xFFFFFFFFu);
            } else if (width == 16) {
                emit_setup(g, HD_EAX, min);
                emit_setup(g, HD_EDX, 0xFFFF);
            } else {
                emit_setup(g, HD_EAX, min);
            }
        } else {
            uint32_t hi = is_signed ? (width == 8 ? 0x3F + rnd(g, 0x40) : (mask >> 2) + rnd(g, 1000))
                                    : (divisor + rnd(g, 1000)) & mask;
            if (!is_signed && hi < divisor)
                hi = mask;
            if (width == 8)
                emit_setup(g, HD_EAX, (hi & 0xFF) << 8 | rnd(g, 256));
            else
                emit_setup(g, HD_EDX, hi & mask);
        }
    }
    struct memop m;
    int dreg = -1;
    if (use_mem) {
        uint8_t b[4];
        put_le(b, divisor, 4);
        uint32_t addr = pool_put(g, b, width / 8);
        if (addr)
            build_mem(g, addr, RB(HD_EAX) | RB(HD_EDX), &m);
        else
            use_mem = false;
    }
    if (!use_mem) {
        static const unsigned regs8[4] = { 1, 3, 5, 7 };    /* CL BL CH BH */
        static const unsigned regs32[5] = { HD_ECX, HD_EBX, HD_EBP, HD_ESI, HD_EDI };
        dreg = (int)(width == 8 ? regs8[rnd(g, 4)] : regs32[rnd(g, 5)]);
        unsigned r32 = width == 8 ? ((unsigned)dreg & 3u) : (unsigned)dreg;
        if (width == 8) {
            uint32_t v = g->t.value[r32];
            if (!reg_known(g, r32))
                v = 0;
            v = dreg >= 4 ? (v & 0xFFFF00FFu) | (divisor << 8) : (v & 0xFFFFFF00u) | divisor;
            emit_setup(g, r32, v);
        } else {
            emit_setup(g, r32, divisor | (width == 16 ? (rng_u32(g) & 0xFFFF0000u) : 0));
        }
    }
    struct insn in = { 0 };
    if (width == 16)
        in_pfx(&in, 0x66);
    in_b(&in, width == 8 ? 0xF6 : 0xF7);
    unsigned ext = is_signed ? 7 : 6;
    if (use_mem)
        in_mem(&in, &m, ext);
    else
        in_modrm_reg(&in, ext, (unsigned)dreg);
    commit(g, &in);
}

static void end_page_fault(struct gen *g)
{
    uint32_t kind = rnd(g, 6);
    uint32_t size = pick_from(g, (const uint32_t[]){ 1, 2, 4, 4, 8, 10 }, 6);
    if (g->x87_closed && size >= 8)     /* no x87 after a transcendental: a partial m80 */
        size = 4;                       /* store would carry its last-ulp difference */
    uint32_t addr;
    if (kind == 0)                  /* below the data region (guard) */
        addr = HD_DATA_BASE - 1 - rnd(g, HD_GUARD_SIZE - 16);
    else if (kind == 1)             /* above it */
        addr = HD_DATA_END + rnd(g, HD_GUARD_SIZE - 16);
    else if (kind == 2)             /* straddling the top end */
        addr = HD_DATA_END - 1 - rnd(g, size > 1 ? size - 1 : 1);
    else if (kind == 3)             /* straddling the bottom end */
        addr = HD_DATA_BASE - 1 - rnd(g, size > 1 ? size - 1 : 1);
    else if (kind == 4)             /* write into the read-only code page */
        addr = HD_CODE_BASE + rnd(g, HD_CODE_SIZE - 16);
    else                            /* rep string op running off an end */
        addr = 0;
    if (size == 1 && (kind == 2 || kind == 3))
        size = 4;
    if (g->ac && (kind == 2 || kind == 3)) {    /* no misaligned access with AC set */
        kind = 0;
        addr = HD_DATA_BASE - 16 * (1 + rnd(g, 64));
    }
    if (g->ac && kind != 5)
        addr &= ~15u;
    if (kind == 5) {
        bool down = g->t.df;
        uint32_t width = pick_from(g, (const uint32_t[]){ 8, 16, 32 }, 3), es = width / 8;
        uint32_t inside = 1 + rnd(g, 8);
        uint32_t start = down ? HD_DATA_BASE + (inside - 1) * es : HD_DATA_END - inside * es;
        if (!g->ac && chance(g, 30))
            start += down ? (uint32_t)-1 : 1;   /* misaligned: straddles */
        bool movs = chance(g, 40);
        emit_setup(g, HD_EDI, start);
        if (movs)
            emit_setup(g, HD_ESI, down ? HD_DATA_BASE + 0x8000 : HD_DATA_BASE + 0x100);
        emit_setup(g, HD_ECX, inside + 1 + rnd(g, 10));
        struct insn in = { 0 };
        if (width == 16)
            in_pfx(&in, 0x66);
        in_pfx(&in, 0xF3);
        in_b(&in, (uint8_t)((movs ? 0xA4 : 0xAA) + (width > 8)));
        commit(g, &in);
        return;
    }
    bool write = kind == 4 || chance(g, 40);
    struct memop m;
    build_mem(g, addr, 0, &m);
    struct insn in = { 0 };
    mem_prefixes(g, &in, write);
    if (size == 8 || size == 10) {          /* x87 load/store */
        uint8_t esc = size == 8 ? 0xDD : 0xDB;
        in_b(&in, esc);
        in_mem(&in, &m, size == 8 ? (write ? 3u : 0u) : (write ? 7u : 5u));
    } else {
        if (size == 2)
            in_pfx(&in, 0x66);
        uint32_t op = rnd(g, 3);
        if (op == 0 || !write) {            /* mov */
            in_b(&in, (uint8_t)((write ? 0x88 : 0x8A) + (size > 1)));
            in_mem(&in, &m, rnd(g, 8));
        } else if (op == 1) {               /* read-modify-write add */
            in_b(&in, (uint8_t)(0x00 + (size > 1)));
            in_mem(&in, &m, rnd(g, 8));
        } else {                            /* inc */
            in_b(&in, (uint8_t)(0xFE + (size > 1)));
            in_mem(&in, &m, 0);
        }
    }
    commit(g, &in);
}

/* 16-bit addressing (0x67): the address lands below 64 KiB, unmapped */
static void end_addr16(struct gen *g)
{
    struct insn in = { 0 };
    in_pfx(&in, 0x67);
    bool write = chance(g, 40);
    in_b(&in, write ? 0x89 : 0x8B);
    unsigned mod = rnd(g, 3), rm = rnd(g, 8);
    in_b(&in, (uint8_t)((mod << 6) | (rnd(g, 8) << 3) | rm));
    if (mod == 1)
        in_b(&in, (uint8_t)rng_u32(g));
    else if (mod == 2 || (mod == 0 && rm == 6))
        in_u16(&in, rng_u32(g));
    commit(g, &in);
}

static void end_privileged(struct gen *g)
{
    static const uint8_t forms[][3] = {
        { 1, 0xF4 }, { 1, 0xFA }, { 1, 0xFB }, { 2, 0xE4, 0x60 }, { 2, 0xE5, 0x70 },
        { 1, 0xEC }, { 1, 0xED }, { 2, 0xE6, 0x80 }, { 2, 0xE7, 0xF4 }, { 1, 0xEE }, { 1, 0xEF },
        { 1, 0x6C }, { 1, 0x6D }, { 1, 0x6E }, { 1, 0x6F }, { 2, 0x0F, 0x06 }, { 2, 0x0F, 0x08 },
        { 2, 0x0F, 0x09 }, { 2, 0x0F, 0x32 }, { 2, 0x0F, 0x30 },
    };
    const uint8_t *f = forms[rnd(g, sizeof forms / sizeof forms[0])];
    if (f[1] >= 0x6C && f[1] <= 0x6F && f[0] == 1 && chance(g, 30)) {
        uint8_t b[2] = { 0xF3, f[1] };
        emit_bytes(g, b, 2);
        return;
    }
    if (chance(g, 20)) {                    /* MOV r32, CR0 / DR7 */
        uint8_t b[3] = { 0x0F, (uint8_t)(chance(g, 50) ? 0x20 : 0x21), (uint8_t)(0xC0 | (chance(g, 50) ? 0 : 7u << 3)) };
        emit_bytes(g, b, 3);
        return;
    }
    emit_bytes(g, f + 1, f[0]);
}

static void end_invalid(struct gen *g)
{
    uint32_t kind = rnd(g, 7);
    struct insn in = { 0 };
    switch (kind) {
    case 0:                                 /* UD2 */
        in_b(&in, 0x0F);
        in_b(&in, 0x0B);
        break;
    case 1: {                               /* LOCK on a register destination */
        in_pfx(&in, 0xF0);
        in_b(&in, (uint8_t)(pick_from(g, (const uint32_t[]){ 0x00, 0x08, 0x20, 0x28, 0x30 }, 5) + 1));
        in_modrm_reg(&in, rnd(g, 8), rnd(g, 8));
        break;
    }
    case 2: {                               /* LOCK on an instruction that cannot be locked */
        struct memop m;
        build_mem(g, pick_addr(g, 4, false), 0, &m);
        in_pfx(&in, 0xF0);
        in_b(&in, (uint8_t)pick_from(g, (const uint32_t[]){ 0x8B, 0x89, 0x39, 0x85, 0x8D }, 5));
        in_mem(&in, &m, rnd(g, 8));
        break;
    }
    case 3:                                 /* LEA with a register operand */
        in_b(&in, 0x8D);
        in_modrm_reg(&in, rnd(g, 8), rnd(g, 8));
        break;
    case 4:                                 /* CMPXCHG8B with a register operand */
        in_b(&in, 0x0F);
        in_b(&in, 0xC7);
        in_modrm_reg(&in, 1, rnd(g, 8));
        break;
    case 5:                                 /* FE /7, FF /7 */
        in_b(&in, chance(g, 50) ? 0xFE : 0xFF);
        in_modrm_reg(&in, 7, rnd(g, 8));
        break;
    default:                                /* LOCK NOP / LOCK on a simple op */
        in_pfx(&in, 0xF0);
        in_b(&in, (uint8_t)pick_from(g, (const uint32_t[]){ 0x90, 0x99, 0xF8, 0x40 }, 4));
        break;
    }
    commit(g, &in);
}

/* INTO with OF set by an overflowing INC or ADD */
static void end_into(struct gen *g)
{
    unsigned r = pick_from(g, (const uint32_t[]){ HD_EAX, HD_ECX, HD_EDX, HD_EBX, HD_ESI }, 5);
    emit_setup(g, r, 0x7FFFFFFFu);
    uint8_t inc[1] = { (uint8_t)(0x40 + r) };
    emit_bytes(g, inc, 1);
    flags_apply(g, OF | SF | ZF | AF | PF, 0);
    uint8_t into = 0xCE;
    emit_bytes(g, &into, 1);
}

/* an instruction longer than 15 bytes */
static void end_too_long(struct gen *g)
{
    uint8_t b[20];
    unsigned n = 12 + rnd(g, 3);        /* 17..19 bytes in all */
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)pick_from(g, (const uint32_t[]){ 0x26, 0x36, 0x3E }, 3);
    b[n++] = 0x05;          /* add eax, imm32 */
    for (unsigned i = 0; i < 4; i++)
        b[n++] = (uint8_t)rng_u32(g);
    emit_bytes(g, b, n);
}

/* misaligned access with EFLAGS.AC set */
static void end_alignment(struct gen *g)
{
    uint32_t size = chance(g, 50) ? 4 : 2;
    uint32_t addr = pick_addr(g, 16, false) + 1 + rnd(g, size - 1);
    struct memop m;
    build_mem(g, addr, 0, &m);
    struct insn in = { 0 };
    if (size == 2)
        in_pfx(&in, 0x66);
    in_b(&in, 0x8B);
    in_mem(&in, &m, rnd(g, 8));
    commit(g, &in);
}

static void gen_ending(struct gen *g)
{
    if (g->ac && chance(g, 50)) {
        end_alignment(g);
    } else {
        uint32_t r = rnd(g, 100);
        if (r < 14) end_divide(g, true);
        else if (r < 24) end_divide(g, false);
        else if (r < 28) { uint8_t b[2] = { 0xD4, 0x00 }; emit_bytes(g, b, 2); }   /* AAM 0 */
        else if (r < 42) end_invalid(g);
        else if (r < 47) { uint8_t b = 0xCC; emit_bytes(g, &b, 1); }               /* INT3 */
        else if (r < 52) end_into(g);
        else if (r < 58) { if (!emit_bound(g, true)) end_invalid(g); }
        else if (r < 82) end_page_fault(g);
        else if (r < 86) { if (g->ac) end_invalid(g); else end_addr16(g); }
        else if (r < 97) end_privileged(g);
        else end_too_long(g);
    }
    g->c->case_flags |= HD_CF_EXPECT_FAULT;
}

/* ---- initial state ------------------------------------------------------------ */

static uint16_t f80_tag(const uint8_t v[10])
{
    uint64_t mant = 0;
    for (unsigned i = 0; i < 8; i++)
        mant |= (uint64_t)v[i] << (8 * i);
    uint16_t exp = (uint16_t)((v[8] | (v[9] << 8)) & 0x7FFF);
    if (exp == 0 && mant == 0)
        return 1;
    if (exp == 0x7FFF || exp == 0 || !(mant >> 63))
        return 2;
    return 0;
}

static void gen_fpu_state(struct gen *g, struct hd_fpu *f)
{
    unsigned top = rnd(g, 8);
    f->fcw = safe_fcw(g);
    f->fsw = (uint16_t)((top << 11) | (rng_u32(g) & CC_ALL) | (chance(g, 30) ? (rng_u32(g) & 0x7F) : 0));
    uint32_t fill = rnd(g, 100);
    uint8_t empty = fill < 25 ? 0xFF : fill < 40 ? 0x00 : (uint8_t)rng_u32(g);
    for (unsigned i = 0; i < 8; i++)
        gen_f80(g, f->st[i]);
    f->ftw = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned st = (phys - top) & 7u;
        uint16_t tag = (empty >> phys) & 1 ? 3 : f80_tag(f->st[st]);
        f->ftw |= (uint16_t)(tag << (2 * phys));
    }
}

static void gen_initial_state(struct gen *g)
{
    struct hd_case *c = g->c;
    for (unsigned r = 0; r < 8; r++) {
        uint32_t v;
        if (r >= HD_EBX && r != HD_ESP && chance(g, 70))
            v = HD_DATA_BASE + rnd(g, AREA_READ_END - 256);
        else
            v = gen_int(g);
        if (g->ac && r >= HD_EBX && r != HD_ESP && (v - HD_DATA_BASE) < HD_DATA_SIZE)
            v &= ~15u;
        c->regs.gpr[r] = v;
    }
    uint32_t esp = HD_STACK_LOW + 0x1000 + rnd(g, HD_DATA_SIZE - 0xC000 - 0x1800);
    esp &= ~15u;
    if (!g->ac && chance(g, 5))
        esp += 2;
    c->regs.gpr[HD_ESP] = esp;
    c->regs.eip = HD_CODE_BASE;
    c->regs.eflags = (rng_u32(g) & ALL6) | HD_EFLAGS_FIXED | (chance(g, 30) ? HD_DF : 0) |
                     (g->ac ? HD_AC : 0);
    gen_fpu_state(g, &c->fpu);
    for (unsigned r = 0; r < 8; r++)
        g->t.value[r] = c->regs.gpr[r];
    g->t.known = 0xFF;
    g->t.efl_def = ALL6;
    g->t.fsw_def = CC_ALL;
    g->t.df = (c->regs.eflags & HD_DF) != 0;
    for (unsigned i = 0; i < HOT_WINDOWS; i++)
        g->hot[i] = rnd(g, AREA_HOT_END - 0x100) & ~15u;
}

/* ---- entry point ---------------------------------------------------------------- */

void gen_case(uint64_t seed, struct hd_case *out)
{
    struct gen gen;
    struct gen *g = &gen;
    memset(out, 0, sizeof *out);
    memset(g, 0, sizeof *g);
    g->c = out;
    g->rng = hd_mix64(seed ^ 0x666F783836ull);  /* "fox86" */
    out->magic = HD_CASE_MAGIC;
    out->case_id = seed;
    out->data_seed = rng_u64(g);

    g->ac = chance(g, 3);
    g->x87 = rnd(g, 3) == 0;
    g->mem_pct = 45 + rnd(g, 31);
    bool fault_end = chance(g, g->ac ? 50 : 12);
    gen_initial_state(g);

    uint32_t items = 5 + rnd(g, 26);
    for (uint32_t i = 0; i < items; i++) {
        if (out->code_len + ITEM_MAX_BYTES > HD_CODE_MAX || out->n_marks + ITEM_MAX_MARKS > HD_MAX_MARKS)
            break;
        gen_item(g);
    }
    if (fault_end)
        gen_ending(g);
    add_mark(g);    /* the exit point */
}
