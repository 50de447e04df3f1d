/* tests/unit/test_fpu.c: the x87 instructions of core/fpu.c.
 *
 * Two kinds of tests, both driving handlers through exec_table:
 *   - host-differential (x86-64 hosts only): random x87 states (control
 *     word, TOP, tags, all eight registers drawn from every operand class,
 *     memory operands of every format, EFLAGS) are run one instruction at a
 *     time on the host's x87 -- the instruction's bytes between FRSTOR and
 *     FNSAVE in a small generated function -- and in fox86, whose struct
 *     insn comes from decode_insn on the same bytes. Control and status
 *     words, the full tag word, all 80 bits of all registers, the memory
 *     operand and the arithmetic flags must agree. The host runs 64-bit, so
 *     its FSAVE image is the 32-bit protected-mode one, which is what the
 *     fox86 side runs in (flat CPL 0). C0-C3 are compared even where the SDM
 *     calls them undefined: fox86 leaves them as the hardware does.
 *     Transcendentals (not correctly rounded on the x87) may differ by one
 *     unit in the last place, with C1 and PE not compared.
 *   - directed tests with hand-built struct insn values for what the host
 *     cannot show from user mode: #NM, #MF and the CR0.NE = 0 FERR# route,
 *     fault-before-commit, the last-instruction pointers, and the four
 *     environment layouts (16/32-bit, real/protected).
 * run() is a setjmp harness standing in for the run loop: it returns the
 * vector raised or NO_FAULT.
 */
#include <check.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <sys/mman.h>
#endif

#include "core/cpu.h"
#include "core/exec.h"
#include "core/flags.h"
#include "core/fpu.h"
#include "core/ioport.h"
#include "mmu/phys.h"
#include "harness.h"

#define RAM_SIZE (4u << 20)
#define DATA_ADDR 0x5000u      /* memory operands */
#define CODE_EIP 0x1234u

static struct fixture *fx;
static struct cpu *cpu;

static void flat(int seg, uint16_t sel, bool code)
{
    uint16_t access = code ? 0x9B : 0x93;
    cpu->seg[seg] = (struct seg_cache){ sel, 0, 0xFFFFFFFFu, (uint16_t)(access | SEGF_DB | SEGF_G), true };
}

/* Flat 32-bit protected mode, CPL 0, no paging; x87 present (NE, MP). */
static void go_pmode(void)
{
    cpu->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
    cpu->cr4 = 0;
    cpu->eflags = 2;
    cpu->cpl = 0;
    flat(SEG_CS, 0x08, true);
    for (int s = 0; s < 6; s++)
        if (s != SEG_CS)
            flat(s, 0x10, false);
    cpu->eip = CODE_EIP;
}

static void go_real(void)
{
    cpu->cr0 = CR0_ET | CR0_NE | CR0_MP;
    cpu->eflags = 2;
    cpu->cpl = 0;
    for (int s = 0; s < 6; s++)
        cpu->seg[s] = (struct seg_cache){ 0, 0, 0xFFFF, s == SEG_CS ? 0x9B : 0x93, true };
    cpu->eip = CODE_EIP;
}

static void setup(void)
{
    fx = fixture_new(RAM_SIZE);
    cpu = &fx->cpu;
    go_pmode();
}

static void teardown(void)
{
    fixture_free(fx);
}

static int run(const struct insn *in) { return exec_one(cpu, in); }

/* Decodes bytes (32-bit code) into *in; memory operands use [edi]. */
static void decode(struct insn *in, const uint8_t *bytes, size_t len)
{
    uint8_t buf[16] = { 0 };
    memcpy(buf, bytes, len);
    ck_assert_uint_eq(decode_insn(in, buf, sizeof buf, true), len);
    ck_assert_int_ne(in->op, OP_INVALID);
}

#define DECODE(in, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; decode((in), b_, sizeof b_); } while (0)

/* ---- x87 state as an FSAVE (32-bit protected) image --------------------- */

#define IMG_SIZE 108
#define IMG_REGS 28

struct x87_image {
    uint8_t b[IMG_SIZE];
};

static uint16_t img16(const struct x87_image *im, int off) { return (uint16_t)(im->b[off] | im->b[off + 1] << 8); }
static void img_put16(struct x87_image *im, int off, uint16_t v) { im->b[off] = (uint8_t)v; im->b[off + 1] = (uint8_t)(v >> 8); }

/* The full tag of a register's contents, by the SDM's definition. */
static unsigned full_tag(const uint8_t *reg10)
{
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, reg10, 8);
    memcpy(&se, reg10 + 8, 2);
    unsigned exp = se & 0x7FFF;
    if (exp == 0 && mant == 0)
        return 1;
    if (exp == 0x7FFF || exp == 0 || !(mant >> 63))
        return 2;
    return 0;
}

/* Loads an image into fox86 the way FRSTOR does, independently of fpu.c. */
static void emu_load(const struct x87_image *im)
{
    struct fpu *f = &cpu->fpu;
    f->cw = img16(im, 0);
    f->sw = img16(im, 4);
    uint16_t tw = img16(im, 8);
    int top = (f->sw >> 11) & 7;
    f->tw = 0;
    for (int i = 0; i < 8; i++) {
        int phys = (top + i) & 7;
        memcpy(&f->r[phys].mant, im->b + IMG_REGS + 10 * i, 8);
        memcpy(&f->r[phys].sign_exp, im->b + IMG_REGS + 10 * i + 8, 2);
    }
    for (int phys = 0; phys < 8; phys++) {
        unsigned tag = ((tw >> (2 * phys)) & 3) == 3 ? 3 : 0;   /* abridged, as kept */
        f->tw |= (uint16_t)(tag << (2 * phys));
    }
}

/* The comparable part of fox86's state: cw, sw, tw (full, as an image
 * shows it), registers. */
static void emu_save(struct x87_image *im)
{
    const struct fpu *f = &cpu->fpu;
    memset(im, 0, sizeof *im);
    img_put16(im, 0, f->cw);
    img_put16(im, 4, f->sw);
    uint16_t tw = 0;   /* full tags from the contents, independently of fpu.c */
    for (int phys = 0; phys < 8; phys++) {
        uint8_t reg[10];
        memcpy(reg, &f->r[phys].mant, 8);
        memcpy(reg + 8, &f->r[phys].sign_exp, 2);
        unsigned tag = ((f->tw >> (2 * phys)) & 3) == 3 ? 3 : full_tag(reg);
        tw |= (uint16_t)(tag << (2 * phys));
    }
    img_put16(im, 8, tw);
    int top = (f->sw >> 11) & 7;
    for (int i = 0; i < 8; i++) {
        int phys = (top + i) & 7;
        memcpy(im->b + IMG_REGS + 10 * i, &f->r[phys].mant, 8);
        memcpy(im->b + IMG_REGS + 10 * i + 8, &f->r[phys].sign_exp, 2);
    }
}

/* ---- random states -------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned rnd_below(unsigned n) { return (unsigned)(rnd() % n); }

/* An 80-bit value from every class the x87 distinguishes. */
static void rnd_reg(uint8_t *out10)
{
    uint64_t mant = rnd() | (UINT64_C(1) << 63);
    uint16_t exp = (uint16_t)(0x3FFF - 70 + rnd_below(140));
    bool sign = rnd() & 1;
    switch (rnd_below(24)) {
    case 0:  mant = 0; exp = 0; break;                                        /* zero */
    case 1:  mant >>= 1 + rnd_below(63); exp = 0; break;                      /* denormal */
    case 2:  exp = 0; break;                                                  /* pseudo-denormal */
    case 3:  mant = UINT64_C(1) << 63; exp = 0x7FFF; break;                  /* infinity */
    case 4:  mant |= UINT64_C(1) << 62; exp = 0x7FFF; break;                 /* QNaN */
    case 5:  mant = (mant & ~(UINT64_C(1) << 62)) | 1; exp = 0x7FFF; break;  /* SNaN */
    case 6:  mant = UINT64_C(0xC000000000000000); exp = 0x7FFF; sign = true; break; /* indefinite */
    case 7:  mant >>= 1; break;                                               /* unnormal */
    case 8:  exp = (uint16_t)(1 + rnd_below(64)); break;                     /* tiny */
    case 9:  exp = (uint16_t)(0x7FFE - rnd_below(64)); break;                /* huge */
    case 10: exp = (uint16_t)rnd_below(0x7FFF); break;                        /* anywhere */
    case 11: mant &= ~UINT64_C(0) << (64 - 1 - rnd_below(20)); exp = (uint16_t)(0x3FFF + rnd_below(20)); break; /* integers */
    case 12: mant = UINT64_C(0xC90FDAA22168C235); exp = (uint16_t)(0x3FFF + rnd_below(70)); break; /* multiples of pi-ish, range */
    case 13: mant &= ~UINT64_C(0xFFFFFFFFFF); break;                          /* exact in double */
    case 14: mant &= ~UINT64_C(0xFFFFFFFFFFFF); exp = (uint16_t)(0x3FFF - 130 + rnd_below(260)); break;
    case 15: exp = (uint16_t)(0x3C00 + rnd_below(0x800)); break;             /* double range edges */
    case 16: exp = (uint16_t)(0x3F60 + rnd_below(0x40)); break;              /* float range edges */
    case 17: exp = (uint16_t)(0x3FFF + rnd_below(64)); mant = (mant >> rnd_below(64)) << rnd_below(2); mant |= UINT64_C(1) << 63; break;
    default: break;
    }
    uint16_t se = (uint16_t)(exp | (sign ? 0x8000 : 0));
    memcpy(out10, &mant, 8);
    memcpy(out10 + 8, &se, 2);
}

static uint16_t rnd_cw(void)
{
    static const uint16_t pcs[] = { 0, 2, 3, 3 };
    uint16_t masks = rnd_below(4) ? 0x3F : (uint16_t)(rnd() & 0x3F);
    return (uint16_t)(0x0040 | masks | pcs[rnd_below(4)] << 8 | (uint16_t)rnd_below(4) << 10);
}

static void rnd_state(struct x87_image *im)
{
    memset(im, 0, sizeof *im);
    uint16_t cw = rnd_cw();
    unsigned top = rnd_below(8);
    uint16_t flags = (uint16_t)(rnd() & cw & 0x3F);   /* nothing pending (ES clear) */
    uint16_t sw = (uint16_t)(flags | (rnd() & 0x4740) | top << 11);
    unsigned depth = rnd_below(4) ? rnd_below(4) : rnd_below(9);   /* ST(0..depth-1) in use */
    uint16_t tw = 0;
    for (unsigned i = 0; i < 8; i++) {
        unsigned phys = (top + i) & 7;
        bool used = i < depth ? rnd_below(16) != 0 : rnd_below(16) == 0;
        if (!used)
            tw |= (uint16_t)(3u << (2 * phys));
        rnd_reg(im->b + IMG_REGS + 10 * i);
    }
    img_put16(im, 0, cw);
    img_put16(im, 4, sw);
    img_put16(im, 8, tw);
    memset(im->b + 10, 0xFF, 2);   /* upper halves as FNSAVE writes them */
}

enum mem_kind { MK_NONE, MK_F32, MK_F64, MK_F80, MK_I16, MK_I32, MK_I64, MK_BCD, MK_CW, MK_ENV, MK_STATE, MK_OUT };

static void rnd_mem(enum mem_kind kind, uint8_t *mem)
{
    uint64_t v = rnd();
    switch (kind) {
    case MK_F32: {
        uint32_t bits = (uint32_t)v;
        switch (rnd_below(8)) {
        case 0: bits &= 0x807FFFFFu; break;                       /* denormal / zero */
        case 1: bits |= 0x7F800000u; if (rnd() & 1) bits &= 0xFF800000u; break; /* NaN / inf */
        case 2: bits = (bits & 0x80000000u) | (uint32_t)(rnd_below(40)) << 23 | (bits & 0x7FFFFF); break;
        default: bits = (bits & 0x807FFFFFu) | (uint32_t)(127 - 20 + rnd_below(40)) << 23; break;
        }
        memcpy(mem, &bits, 4);
        break;
    }
    case MK_F64: {
        switch (rnd_below(8)) {
        case 0: v &= UINT64_C(0x800FFFFFFFFFFFFF); break;
        case 1: v |= UINT64_C(0x7FF0000000000000); if (rnd() & 1) v &= UINT64_C(0xFFF0000000000000); break;
        default: v = (v & UINT64_C(0x800FFFFFFFFFFFFF)) | (uint64_t)(1023 - 40 + rnd_below(80)) << 52; break;
        }
        memcpy(mem, &v, 8);
        break;
    }
    case MK_F80:
        rnd_reg(mem);
        break;
    case MK_I16: case MK_I32: case MK_I64:
        if (rnd_below(4) == 0)
            v = rnd_below(2) ? (uint64_t)-(int64_t)rnd_below(100) : rnd_below(100);
        if (rnd_below(8) == 0)
            v = UINT64_C(1) << (kind == MK_I16 ? 15 : kind == MK_I32 ? 31 : 63);
        memcpy(mem, &v, 8);
        break;
    case MK_BCD:
        for (int k = 0; k < 9; k++)
            mem[k] = (uint8_t)(rnd_below(10) << 4 | rnd_below(10));
        mem[9] = (uint8_t)(rnd() & 0x80);
        break;
    case MK_CW:
        v = rnd_cw() | (rnd() & 0xFFFF & ~0x3Fu & (rnd_below(4) ? 0 : 0xFFFF));
        memcpy(mem, &v, 2);
        break;
    default:
        break;
    }
}

/* ---- the host side ----------------------------------------------------------- */

#if defined(__x86_64__)
/* Generated function: push rdx; popfq; frstor [rsi]; <insn>; fnsave [rsi];
 * pushfq; pop rax; ret. Called as fn(mem, image, eflags) -> eflags. */
typedef uint64_t (*host_fn)(void *mem, void *image, uint64_t eflags);

static uint8_t *host_code;

static bool host_init(void)
{
    if (host_code)
        return true;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    host_code = p;
    return true;
}

static uint32_t host_exec(const uint8_t *insn, size_t len, struct x87_image *im, void *mem, uint32_t eflags)
{
    static const uint8_t head[] = { 0x52, 0x9D, 0xDD, 0x26 };
    static const uint8_t tail[] = { 0xDD, 0x36, 0x9C, 0x58, 0xC3 };
    uint8_t *p = host_code;
    memcpy(p, head, sizeof head);
    p += sizeof head;
    memcpy(p, insn, len);
    p += len;
    memcpy(p, tail, sizeof tail);
    __builtin___clear_cache((char *)host_code, (char *)p + sizeof tail);
    host_fn fn = (host_fn)(void *)host_code;
    return (uint32_t)fn(mem, im->b, eflags | 0x202);
}
#endif

/* ---- differential runner -------------------------------------------------------- */

struct diff_form {
    const char *name;
    uint8_t bytes[3];
    uint8_t len;
    uint8_t mem;          /* enum mem_kind */
    uint8_t mem_len;      /* bytes compared after the instruction */
    bool transcendental;
};

#define R2(n, a, b) { n, { a, b }, 2, MK_NONE, 0, false }
#define TR(n, a, b) { n, { a, b }, 2, MK_NONE, 0, true }
#define M(n, a, r, k, l) { n, { a, (uint8_t)((r) << 3 | 7) }, 2, k, l, false }

static const struct diff_form diff_forms[] = {
    R2("fld st1", 0xD9, 0xC1), R2("fld st7", 0xD9, 0xC7), R2("fst st1", 0xDD, 0xD1),
    R2("fstp st1", 0xDD, 0xD9), R2("fstp st0", 0xDD, 0xD8), R2("fstp1 st3", 0xD9, 0xDB),
    R2("fxch st1", 0xD9, 0xC9), R2("fxch st5", 0xD9, 0xCD), R2("fxch4 st2", 0xDD, 0xCA),
    R2("fxch7 st1", 0xDF, 0xC9), R2("fstp8 st2", 0xDF, 0xD2), R2("fstp9 st1", 0xDF, 0xD9),
    R2("fcomp3 st1", 0xDC, 0xD9), R2("fcomp5 st2", 0xDE, 0xD2), R2("ffreep st0", 0xDF, 0xC0),
    R2("fadd st,st1", 0xD8, 0xC1), R2("fadd st1,st", 0xDC, 0xC1), R2("faddp st1", 0xDE, 0xC1),
    R2("fmul st,st2", 0xD8, 0xCA), R2("fmul st2,st", 0xDC, 0xCA), R2("fmulp st1", 0xDE, 0xC9),
    R2("fsub st,st1", 0xD8, 0xE1), R2("fsubr st,st1", 0xD8, 0xE9), R2("fsubr st1,st", 0xDC, 0xE1),
    R2("fsub st1,st", 0xDC, 0xE9), R2("fsubrp st1", 0xDE, 0xE1), R2("fsubp st1", 0xDE, 0xE9),
    R2("fdiv st,st1", 0xD8, 0xF1), R2("fdivr st,st1", 0xD8, 0xF9), R2("fdivr st1,st", 0xDC, 0xF1),
    R2("fdiv st1,st", 0xDC, 0xF9), R2("fdivrp st1", 0xDE, 0xF1), R2("fdivp st1", 0xDE, 0xF9),
    R2("fadd st,st0", 0xD8, 0xC0),
    R2("fcom st1", 0xD8, 0xD1), R2("fcomp st1", 0xD8, 0xD9), R2("fcompp", 0xDE, 0xD9),
    R2("fcom2 st2", 0xDC, 0xD2), R2("fucom st1", 0xDD, 0xE1), R2("fucomp st1", 0xDD, 0xE9),
    R2("fucompp", 0xDA, 0xE9), R2("fcomi st1", 0xDB, 0xF1), R2("fcomip st1", 0xDF, 0xF1),
    R2("fucomi st1", 0xDB, 0xE9), R2("fucomip st1", 0xDF, 0xE9),
    R2("fcmovb", 0xDA, 0xC1), R2("fcmove", 0xDA, 0xC9), R2("fcmovbe", 0xDA, 0xD1), R2("fcmovu", 0xDA, 0xD9),
    R2("fcmovnb", 0xDB, 0xC1), R2("fcmovne", 0xDB, 0xC9), R2("fcmovnbe", 0xDB, 0xD1), R2("fcmovnu", 0xDB, 0xD9),
    R2("fchs", 0xD9, 0xE0), R2("fabs", 0xD9, 0xE1), R2("ftst", 0xD9, 0xE4), R2("fxam", 0xD9, 0xE5),
    R2("fld1", 0xD9, 0xE8), R2("fldl2t", 0xD9, 0xE9), R2("fldl2e", 0xD9, 0xEA), R2("fldpi", 0xD9, 0xEB),
    R2("fldlg2", 0xD9, 0xEC), R2("fldln2", 0xD9, 0xED), R2("fldz", 0xD9, 0xEE),
    TR("f2xm1", 0xD9, 0xF0), TR("fyl2x", 0xD9, 0xF1), TR("fptan", 0xD9, 0xF2), TR("fpatan", 0xD9, 0xF3),
    R2("fxtract", 0xD9, 0xF4), R2("fprem1", 0xD9, 0xF5), R2("fdecstp", 0xD9, 0xF6), R2("fincstp", 0xD9, 0xF7),
    R2("fprem", 0xD9, 0xF8), TR("fyl2xp1", 0xD9, 0xF9), R2("fsqrt", 0xD9, 0xFA), TR("fsincos", 0xD9, 0xFB),
    R2("frndint", 0xD9, 0xFC), R2("fscale", 0xD9, 0xFD), TR("fsin", 0xD9, 0xFE), TR("fcos", 0xD9, 0xFF),
    R2("ffree st1", 0xDD, 0xC1), R2("ffreep st1", 0xDF, 0xC1), R2("fnop", 0xD9, 0xD0),
    R2("fnclex", 0xDB, 0xE2), R2("fninit", 0xDB, 0xE3), R2("feni", 0xDB, 0xE0), R2("fsetpm", 0xDB, 0xE4),
    M("fadd m32", 0xD8, 0, MK_F32, 4), M("fmul m32", 0xD8, 1, MK_F32, 4), M("fcom m32", 0xD8, 2, MK_F32, 4),
    M("fcomp m32", 0xD8, 3, MK_F32, 4), M("fsub m32", 0xD8, 4, MK_F32, 4), M("fsubr m32", 0xD8, 5, MK_F32, 4),
    M("fdiv m32", 0xD8, 6, MK_F32, 4), M("fdivr m32", 0xD8, 7, MK_F32, 4),
    M("fadd m64", 0xDC, 0, MK_F64, 8), M("fmul m64", 0xDC, 1, MK_F64, 8), M("fcom m64", 0xDC, 2, MK_F64, 8),
    M("fcomp m64", 0xDC, 3, MK_F64, 8), M("fsub m64", 0xDC, 4, MK_F64, 8), M("fsubr m64", 0xDC, 5, MK_F64, 8),
    M("fdiv m64", 0xDC, 6, MK_F64, 8), M("fdivr m64", 0xDC, 7, MK_F64, 8),
    M("fiadd m32", 0xDA, 0, MK_I32, 4), M("fimul m32", 0xDA, 1, MK_I32, 4), M("ficom m32", 0xDA, 2, MK_I32, 4),
    M("ficomp m32", 0xDA, 3, MK_I32, 4), M("fisub m32", 0xDA, 4, MK_I32, 4), M("fisubr m32", 0xDA, 5, MK_I32, 4),
    M("fidiv m32", 0xDA, 6, MK_I32, 4), M("fidivr m32", 0xDA, 7, MK_I32, 4),
    M("fiadd m16", 0xDE, 0, MK_I16, 2), M("fimul m16", 0xDE, 1, MK_I16, 2), M("ficom m16", 0xDE, 2, MK_I16, 2),
    M("ficomp m16", 0xDE, 3, MK_I16, 2), M("fisub m16", 0xDE, 4, MK_I16, 2), M("fisubr m16", 0xDE, 5, MK_I16, 2),
    M("fidiv m16", 0xDE, 6, MK_I16, 2), M("fidivr m16", 0xDE, 7, MK_I16, 2),
    M("fld m32", 0xD9, 0, MK_F32, 4), M("fst m32", 0xD9, 2, MK_OUT, 4), M("fstp m32", 0xD9, 3, MK_OUT, 4),
    M("fld m64", 0xDD, 0, MK_F64, 8), M("fst m64", 0xDD, 2, MK_OUT, 8), M("fstp m64", 0xDD, 3, MK_OUT, 8),
    M("fld m80", 0xDB, 5, MK_F80, 10), M("fstp m80", 0xDB, 7, MK_OUT, 10),
    M("fild m16", 0xDF, 0, MK_I16, 2), M("fist m16", 0xDF, 2, MK_OUT, 2), M("fistp m16", 0xDF, 3, MK_OUT, 2),
    M("fild m32", 0xDB, 0, MK_I32, 4), M("fist m32", 0xDB, 2, MK_OUT, 4), M("fistp m32", 0xDB, 3, MK_OUT, 4),
    M("fild m64", 0xDF, 5, MK_I64, 8), M("fistp m64", 0xDF, 7, MK_OUT, 8),
    M("fbld", 0xDF, 4, MK_BCD, 10), M("fbstp", 0xDF, 6, MK_OUT, 10),
    M("fldcw", 0xD9, 5, MK_CW, 2), M("fnstcw", 0xD9, 7, MK_OUT, 2), M("fnstsw m16", 0xDD, 7, MK_OUT, 2),
    M("fnstenv", 0xD9, 6, MK_ENV, 28), M("fnsave", 0xDD, 6, MK_STATE, 108),
    M("fldenv", 0xD9, 4, MK_ENV, 0), M("frstor", 0xDD, 4, MK_STATE, 0),
};

/* Distance in units in the last place between two 80-bit values of the same
 * sign and class (large if they are not comparable). */
static uint64_t ulp_distance(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    uint16_t ea, eb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    memcpy(&ea, a + 8, 2);
    memcpy(&eb, b + 8, 2);
    if (ea == eb)
        return ma > mb ? ma - mb : mb - ma;
    if ((ea ^ eb) & 0x8000 || (ea > eb ? ea - eb : eb - ea) != 1)
        return UINT64_MAX;
    /* adjacent binades: 1.0 below 2^e vs just below it */
    uint64_t hi = ea > eb ? ma : mb, lo = ea > eb ? mb : ma;
    return (hi - (UINT64_C(1) << 63)) * 2 + (UINT64_MAX - lo) + 1;
}

/* Bytes of an environment image fox86 and the host legitimately disagree
 * on: FIP, FCS|FOP, FDP, FDS (different code addresses, and this host
 * stores zeros for FCS/FDS/FOP as later CPUs do). */
static bool env_pointer_byte(int k) { return k >= 12 && k < 28; }

static int diff_failures;

static void report(const struct diff_form *form, const char *what, const struct x87_image *in_state,
                   const uint8_t *in_mem, const struct x87_image *host, const struct x87_image *emu,
                   uint32_t host_fl, uint32_t emu_fl)
{
    if (++diff_failures > 2)    /* per form */
        return;
    printf("MISMATCH %s (%s)\n  in:   cw %04x sw %04x tw %04x mem", form->name, what, img16(in_state, 0),
           img16(in_state, 4), img16(in_state, 8));
    for (int k = 0; k < 10; k++)
        printf(" %02x", in_mem[k]);
    printf("\n");
    const struct x87_image *rows[3] = { in_state, host, emu };
    const char *names[3] = { "in", "host", "fox86" };
    for (int r = 0; r < 3; r++) {
        printf("  %-5s cw %04x sw %04x tw %04x |", names[r], img16(rows[r], 0), img16(rows[r], 4), img16(rows[r], 8));
        for (int i = 0; i < 8; i++) {
            uint64_t m;
            uint16_t se;
            memcpy(&m, rows[r]->b + IMG_REGS + 10 * i, 8);
            memcpy(&se, rows[r]->b + IMG_REGS + 10 * i + 8, 2);
            printf(" %04x:%016llx", se, (unsigned long long)m);
        }
        printf("\n");
    }
    printf("  eflags host %03x fox86 %03x\n", host_fl, emu_fl);
}

/* F2XM1 wants |ST(0)| <= 1, FYL2XP1 |ST(0)| < 1 - sqrt(2)/2: outside,
 * the result is undefined (finite operands only; NaN/inf/empty are fine). */
static bool out_of_domain(const struct diff_form *form, const struct x87_image *state)
{
    bool f2xm1 = form->bytes[0] == 0xD9 && form->bytes[1] == 0xF0;
    bool fyl2xp1 = form->bytes[0] == 0xD9 && form->bytes[1] == 0xF9;
    if (!f2xm1 && !fyl2xp1)
        return false;
    int top = (img16(state, 4) >> 11) & 7;
    if (((img16(state, 8) >> (2 * top)) & 3) == 3)
        return false;
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, state->b + IMG_REGS, 8);
    memcpy(&se, state->b + IMG_REGS + 8, 2);
    unsigned exp = se & 0x7FFF;
    if (exp == 0x7FFF)
        return false;
    if (f2xm1)
        return exp > 0x3FFF || (exp == 0x3FFF && mant != UINT64_C(1) << 63);
    return exp >= 0x3FFD && !(exp == 0x3FFD && mant < UINT64_C(0x95F619980C4336F7));   /* 0.2928932... */
}

#if defined(__x86_64__)
/* One random case of one form; returns true when both sides agree. */
static bool diff_one(const struct diff_form *form)
{
    struct x87_image state, host, emu;
    uint8_t mem_host[128], mem_emu[128], mem_in[128];
    rnd_state(&state);
    memset(mem_in, 0, sizeof mem_in);
    for (size_t k = 0; k < sizeof mem_in; k++)
        mem_in[k] = (uint8_t)rnd();
    rnd_mem(form->mem, mem_in);
    if (form->mem == MK_ENV || form->mem == MK_STATE) {
        /* a loadable image: a random state, all exceptions masked or not pending */
        struct x87_image img;
        rnd_state(&img);
        memcpy(mem_in, img.b, 28);
        for (int k = 12; k < 28; k++)
            mem_in[k] = 0;
        if (form->mem == MK_STATE)
            memcpy(mem_in + 28, img.b + 28, 80);
    }
    uint32_t fl_in = (uint32_t)(rnd() & FL_ARITH);
    if (out_of_domain(form, &state))
        return true;   /* results the SDM leaves undefined: not compared */

    memcpy(mem_host, mem_in, sizeof mem_host);
    host = state;
    uint32_t fl_host = host_exec(form->bytes, form->len, &host, mem_host, fl_in) & FL_ARITH;

    go_pmode();
    memcpy(mem_emu, mem_in, sizeof mem_emu);
    phys_load(&fx->pm, DATA_ADDR, mem_emu, sizeof mem_emu);
    cpu->gpr[R_EDI] = DATA_ADDR;
    emu_load(&state);
    cpu_set_eflags(cpu, 2 | fl_in, 0xFFFFFFFFu);
    struct insn in;
    decode(&in, form->bytes, form->len);
    int vec = run(&in);
    uint32_t fl_emu = cpu_get_eflags(cpu) & FL_ARITH;
    emu_save(&emu);
    phys_copy_out(&fx->pm, DATA_ADDR, mem_emu, sizeof mem_emu);

    if (vec != NO_FAULT) {
        report(form, "fault", &state, mem_in, &host, &emu, fl_host, fl_emu);
        return false;
    }
    /* the host's tag word is FSAVE's full form; fox86 keeps the full form too */
    uint16_t sw_mask = 0xFFFF;
    if (form->transcendental)
        sw_mask = (uint16_t)~(0x0200 | 0x0020);    /* C1, PE */
    bool same = img16(&host, 0) == img16(&emu, 0) && ((img16(&host, 4) ^ img16(&emu, 4)) & sw_mask) == 0 &&
                img16(&host, 8) == img16(&emu, 8) && fl_host == fl_emu;
    for (int i = 0; i < 8 && same; i++) {
        const uint8_t *h = host.b + IMG_REGS + 10 * i, *e = emu.b + IMG_REGS + 10 * i;
        if (memcmp(h, e, 10) != 0)
            same = form->transcendental && ulp_distance(h, e) <= 1;
    }
    for (int k = 0; k < form->mem_len && same; k++) {
        if (form->mem == MK_ENV || form->mem == MK_STATE) {
            if (env_pointer_byte(k))
                continue;
        }
        same = mem_host[k] == mem_emu[k];
    }
    if (!same)
        report(form, "state", &state, mem_in, &host, &emu, fl_host, fl_emu);
    return same;
}
#endif

START_TEST(test_host_differential)
{
#if defined(__x86_64__)
    if (!host_init()) {
        printf("host differential: no executable memory, skipped\n");
        return;
    }
    const int per_form = getenv("FOX86_FPU_CASES") ? atoi(getenv("FOX86_FPU_CASES")) : 2000;
    int total = 0, agree = 0;
    for (size_t f = 0; f < sizeof diff_forms / sizeof diff_forms[0]; f++) {
        int form_agree = 0;
        diff_failures = 0;
        for (int k = 0; k < per_form; k++)
            form_agree += diff_one(&diff_forms[f]);
        if (form_agree != per_form)
            printf("  %-14s %d/%d agree\n", diff_forms[f].name, form_agree, per_form);
        total += per_form;
        agree += form_agree;
    }
    printf("x87 host differential: %d/%d cases agree over %zu instruction forms\n", agree, total,
           sizeof diff_forms / sizeof diff_forms[0]);
    ck_assert_int_eq(agree, total);
#endif
}
END_TEST

/* ---- directed tests ------------------------------------------------------------- */

static void fpu_clean(void)
{
    cpu->fpu.cw = 0x037F;
    cpu->fpu.sw = 0;
    cpu->fpu.tw = 0xFFFF;
}

static void push_value(uint16_t se, uint64_t mant)
{
    struct fpu *f = &cpu->fpu;
    unsigned top = ((f->sw >> 11) - 1) & 7;
    f->sw = (uint16_t)((f->sw & ~0x3800) | top << 11);
    f->r[top] = (struct fpu_reg){ mant, se };
    f->tw = (uint16_t)(f->tw & ~(3u << (2 * top)));   /* abridged: not empty */
}

START_TEST(test_nm_checks)
{
    struct insn in;
    fpu_clean();
    DECODE(&in, 0xD9, 0xE8);                     /* fld1 */
    cpu->cr0 |= CR0_TS;
    ck_assert_int_eq(run(&in), EXC_NM);
    cpu->cr0 &= ~(uint32_t)CR0_TS;
    cpu->cr0 |= CR0_EM;
    ck_assert_int_eq(run(&in), EXC_NM);
    DECODE(&in, 0xDB, 0xE3);                     /* fninit: also #NM */
    ck_assert_int_eq(run(&in), EXC_NM);
    cpu->cr0 &= ~(uint32_t)CR0_EM;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.sw, 0);
}
END_TEST

static int ferr_calls, ferr_level_seen;
static void ferr_cb(void *opaque, bool level)
{
    (void)opaque;
    ferr_calls++;
    ferr_level_seen = level;
}

START_TEST(test_pending_exception_mf_and_ferr)
{
    struct insn fld1, fnstsw, fnclex, fdivz;
    DECODE(&fld1, 0xD9, 0xE8);
    DECODE(&fnstsw, 0xDF, 0xE0);
    DECODE(&fnclex, 0xDB, 0xE2);
    fpu_clean();
    cpu->fpu.cw = 0x037B;                        /* ZE unmasked */
    push_value(0x3FFF, UINT64_C(1) << 63);        /* 1.0 */
    push_value(0, 0);                            /* 0.0 */
    DECODE(&fdivz, 0xDC, 0xF9);                  /* fdiv st1, st: 1/0 */
    ck_assert_int_eq(run(&fdivz), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.sw & 0x80FF, 0x8084);   /* B, ES, ZE; st1 unchanged */
    ck_assert_uint_eq(cpu->fpu.r[7].sign_exp, 0x3FFF);
    uint16_t sw_before = cpu->fpu.sw, tw_before = cpu->fpu.tw;
    /* NE = 1: the next waiting instruction faults before doing anything */
    ck_assert_int_eq(run(&fld1), EXC_MF);
    ck_assert_uint_eq(cpu->fpu.sw, sw_before);
    ck_assert_uint_eq(cpu->fpu.tw, tw_before);
    /* no-wait instructions go on */
    ck_assert_int_eq(run(&fnstsw), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX] & 0xFFFF, sw_before);
    /* NE = 0: FERR# is asserted and the instruction runs */
    cpu->cr0 &= ~(uint32_t)CR0_NE;
    cpu->fpu_ferr = ferr_cb;
    ferr_calls = 0;
    ck_assert_int_eq(run(&fld1), NO_FAULT);
    ck_assert_int_eq(ferr_calls, 1);
    ck_assert_int_eq(ferr_level_seen, 1);
    ck_assert_uint_eq((cpu->fpu.sw >> 11) & 7, 5);
    /* FNCLEX clears the error and drops FERR# */
    ck_assert_int_eq(run(&fnclex), NO_FAULT);
    ck_assert_int_eq(ferr_calls, 2);
    ck_assert_int_eq(ferr_level_seen, 0);
    ck_assert_uint_eq(cpu->fpu.sw & 0x80FF, 0);
    ck_assert_int_eq(fpu_check_pending(cpu), false);
    cpu->fpu_ferr = NULL;
}
END_TEST

START_TEST(test_fault_before_commit)
{
    struct insn in;
    fpu_clean();
    push_value(0x3FFF, UINT64_C(1) << 63);
    cpu->seg[SEG_DS].limit = 0x5003;             /* 4 bytes at DATA_ADDR, no more */
    cpu->gpr[R_EDI] = DATA_ADDR;
    struct fpu before = cpu->fpu;
    DECODE(&in, 0xDD, 0x1F);                     /* fstp qword [edi] */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_mem_eq(&cpu->fpu, &before, sizeof before);
    DECODE(&in, 0xDD, 0x07);                     /* fld qword [edi] */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_mem_eq(&cpu->fpu, &before, sizeof before);
    DECODE(&in, 0xDB, 0x3F);                     /* fstp tword [edi] */
    phys_write(&fx->pm, DATA_ADDR, 0x11223344, 4);
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_mem_eq(&cpu->fpu, &before, sizeof before);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR, 4), 0x11223344);   /* nothing written */
    DECODE(&in, 0xDD, 0x37);                     /* fnsave [edi] */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_mem_eq(&cpu->fpu, &before, sizeof before);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR, 4), 0x11223344);
    DECODE(&in, 0xD9, 0x1F);                     /* fstp dword [edi]: fits */
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR, 4), 0x3F800000);
    ck_assert_uint_eq(cpu->fpu.tw, 0xFFFF);
}
END_TEST

/* m64/m32 loads and stores at every alignment class, page-crossing ones
 * included (fpu.c reaches aligned operands and 4-byte-aligned halves
 * directly, everything else through mem.c), and FISTP m64 whose second
 * half is beyond the segment limit: #GP with nothing written. */
START_TEST(test_memory_operand_alignments)
{
    static const uint32_t offs[] = { 0, 4, 1, 2, 3, 0xFF8, 0xFFC, 0xFFA, 0xFFF };
    const uint64_t dbl = UINT64_C(0xC00921FB54442D18);   /* -pi */
    struct insn fld64, fstp64, fistp64, fistp32, fild32;
    DECODE(&fld64, 0xDD, 0x07);                  /* fld qword [edi] */
    DECODE(&fstp64, 0xDD, 0x1F);                 /* fstp qword [edi] */
    DECODE(&fistp64, 0xDF, 0x3F);                /* fistp qword [edi] */
    DECODE(&fistp32, 0xDB, 0x1F);                /* fistp dword [edi] */
    DECODE(&fild32, 0xDB, 0x07);                 /* fild dword [edi] */
    for (unsigned k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        uint32_t addr = DATA_ADDR + offs[k];
        fpu_clean();
        cpu->gpr[R_EDI] = addr;
        phys_write(&fx->pm, addr, (uint32_t)dbl, 4);
        phys_write(&fx->pm, addr + 4, (uint32_t)(dbl >> 32), 4);
        ck_assert_int_eq(run(&fld64), NO_FAULT);
        ck_assert_uint_eq(cpu->fpu.r[7].sign_exp, 0xC000);
        ck_assert_uint_eq(cpu->fpu.r[7].mant, UINT64_C(0xC90FDAA22168C000));
        ck_assert_uint_eq(cpu->fpu.tw, 0x3FFF);
        ck_assert_uint_eq(cpu->fpu.fdp, addr);
        phys_write(&fx->pm, addr, 0, 4);
        phys_write(&fx->pm, addr + 4, 0, 4);
        ck_assert_int_eq(run(&fstp64), NO_FAULT);
        ck_assert_uint_eq(phys_read(&fx->pm, addr, 4), (uint32_t)dbl);
        ck_assert_uint_eq(phys_read(&fx->pm, addr + 4, 4), (uint32_t)(dbl >> 32));
        ck_assert_uint_eq(cpu->fpu.tw, 0xFFFF);
        push_value(0xC009, UINT64_C(0x9A50000000000000));   /* -1234.5: rounds to even, -1234 */
        ck_assert_int_eq(run(&fistp64), NO_FAULT);
        ck_assert_uint_eq(phys_read(&fx->pm, addr, 4), (uint32_t)-1234);
        ck_assert_uint_eq(phys_read(&fx->pm, addr + 4, 4), 0xFFFFFFFFu);
        ck_assert_uint_eq(cpu->fpu.sw & 0x3F, 0x20);            /* PE */
        ck_assert_int_eq(run(&fild32), NO_FAULT);
        ck_assert_int_eq(run(&fistp32), NO_FAULT);
        ck_assert_uint_eq(phys_read(&fx->pm, addr, 4), (uint32_t)-1234);
    }
    fpu_clean();
    push_value(0x3FFF, UINT64_C(1) << 63);
    cpu->seg[SEG_DS].limit = DATA_ADDR + 5;      /* the first half fits, the second does not */
    cpu->gpr[R_EDI] = DATA_ADDR;
    phys_write(&fx->pm, DATA_ADDR, 0x11223344, 4);
    struct fpu before = cpu->fpu;
    ck_assert_int_eq(run(&fistp64), EXC_GP);
    ck_assert_int_eq(run(&fstp64), EXC_GP);
    ck_assert_mem_eq(&cpu->fpu, &before, sizeof before);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR, 4), 0x11223344);
}
END_TEST

START_TEST(test_last_instruction_pointers)
{
    struct insn in;
    fpu_clean();
    cpu->gpr[R_EDI] = DATA_ADDR + 0x10;
    phys_write(&fx->pm, DATA_ADDR + 0x10, 0x3F800000, 4);
    DECODE(&in, 0xD9, 0x07);                     /* fld dword [edi] */
    cpu->eip = 0x4321;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.fop, 0x107);
    ck_assert_uint_eq(cpu->fpu.fip, 0x4321);
    ck_assert_uint_eq(cpu->fpu.fcs, 0x08);
    ck_assert_uint_eq(cpu->fpu.fdp, DATA_ADDR + 0x10);
    ck_assert_uint_eq(cpu->fpu.fds, 0x10);
    DECODE(&in, 0xD8, 0xC0);                     /* fadd st, st: register form keeps FDP */
    cpu->eip = 0x5000;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.fop, 0x0C0);
    ck_assert_uint_eq(cpu->fpu.fip, 0x5000);
    ck_assert_uint_eq(cpu->fpu.fdp, DATA_ADDR + 0x10);
    DECODE(&in, 0xD9, 0x2F);                     /* fldcw [edi]: control, pointers kept */
    cpu->eip = 0x6000;
    phys_write(&fx->pm, DATA_ADDR + 0x10, 0x027F, 2);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.cw, 0x027F);
    ck_assert_uint_eq(cpu->fpu.fip, 0x5000);
    ck_assert_uint_eq(cpu->fpu.fop, 0x0C0);
}
END_TEST

/* FNSTENV/FLDENV in all four layouts, and the FNSTENV mask-all rule. */
START_TEST(test_environment_layouts)
{
    struct insn st, ld;
    struct fpu *f = &cpu->fpu;
    for (int mode = 0; mode < 4; mode++) {
        bool wide = mode & 1, prot = mode & 2;
        if (prot)
            go_pmode();
        else
            go_real();
        fpu_clean();
        push_value(0x4000, UINT64_C(1) << 63);   /* 2.0: valid */
        push_value(0, 0);                        /* zero */
        f->cw = 0x0B72;
        f->sw |= 0x4501;                         /* C3 C2 C0, IE (masked... not: IM clear) */
        f->fop = 0x5A5;
        f->fip = 0x0123;
        f->fcs = 0x1000;
        f->fdp = 0x0456;
        f->fds = 0x2000;
        if (wide)
            DECODE(&st, 0xD9, 0x37);
        else
            DECODE(&st, 0x66, 0xD9, 0x37);
        if (!prot) {
            /* the decoder's operand size in 16-bit code is the opposite */
            st.opnd[0].size = wide ? 28 : 14;
            st.opsize = wide ? 4 : 2;
            st.addrsize = 4;
        }
        cpu->gpr[R_EDI] = DATA_ADDR;
        uint16_t sw = f->sw;
        ck_assert_int_eq(run(&st), NO_FAULT);
        ck_assert_uint_eq(f->cw, 0x0B7F);                   /* all masked after FNSTENV */
        ck_assert_uint_eq(f->sw & 0x8080, 0);                /* so nothing is pending */
        uint32_t a = DATA_ADDR;
        uint16_t tw = (uint16_t)(0xFFFF & ~(0xFu << 12)) | (uint16_t)(0x1u << 12);  /* R6 zero, R7 valid */
        if (wide) {
            ck_assert_uint_eq(phys_read(&fx->pm, a + 0, 4), 0xFFFF0B72u);
            ck_assert_uint_eq(phys_read(&fx->pm, a + 4, 4), 0xFFFF0000u | sw);
            ck_assert_uint_eq(phys_read(&fx->pm, a + 8, 4), 0xFFFF0000u | tw);
            if (prot) {
                ck_assert_uint_eq(phys_read(&fx->pm, a + 12, 4), 0x0123);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 16, 4), 0x05A51000u);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 20, 4), 0x0456);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 24, 4), 0xFFFF2000u);
            } else {
                ck_assert_uint_eq(phys_read(&fx->pm, a + 12, 4), 0xFFFF0123u);      /* 0x10123 low */
                ck_assert_uint_eq(phys_read(&fx->pm, a + 16, 4), 0x000015A5u);      /* IP 31:16 at 27:12 */
                ck_assert_uint_eq(phys_read(&fx->pm, a + 20, 4), 0xFFFF0456u);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 24, 4), 0x00002000u);
            }
        } else {
            ck_assert_uint_eq(phys_read(&fx->pm, a + 0, 2), 0x0B72);
            ck_assert_uint_eq(phys_read(&fx->pm, a + 2, 2), sw);
            ck_assert_uint_eq(phys_read(&fx->pm, a + 4, 2), tw);
            if (prot) {
                ck_assert_uint_eq(phys_read(&fx->pm, a + 6, 2), 0x0123);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 8, 2), 0x1000);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 10, 2), 0x0456);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 12, 2), 0x2000);
            } else {
                ck_assert_uint_eq(phys_read(&fx->pm, a + 6, 2), 0x0123);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 8, 2), 0x15A5);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 10, 2), 0x0456);
                ck_assert_uint_eq(phys_read(&fx->pm, a + 12, 2), 0x2000);
            }
        }
        /* load it back: everything returns (real mode: linear pointers) */
        ld = st;
        ld.op = OP_FLDENV;
        ld.modrm = 0x27;
        ck_assert_int_eq(run(&ld), NO_FAULT);
        ck_assert_uint_eq(f->cw, 0x0B72);
        ck_assert_uint_eq(f->sw, sw | 0x8080);               /* IE unmasked again: pending */
        ck_assert_uint_eq(fpu_tag_word(f), tw);   /* (kept abridged: R6, R7 not empty) */
        ck_assert_uint_eq(f->tw, 0x0FFF);
        if (prot) {
            ck_assert_uint_eq(f->fip, 0x0123);
            ck_assert_uint_eq(f->fcs, 0x1000);
            ck_assert_uint_eq(f->fop, wide ? 0x5A5 : 0x5A5);
        } else {
            ck_assert_uint_eq(f->fip, 0x10123);
            ck_assert_uint_eq(f->fcs, 0);
            ck_assert_uint_eq(f->fdp, 0x20456);
            ck_assert_uint_eq(f->fop, 0x5A5);
        }
    }
}
END_TEST

START_TEST(test_fnsave_frstor_round_trip)
{
    struct insn save, restore;
    struct fpu *f = &cpu->fpu;
    fpu_clean();
    push_value(0x7FFF, UINT64_C(0xC000000000000000));   /* NaN: special */
    push_value(0x0000, 1);                              /* denormal: special */
    push_value(0x3FFF, UINT64_C(1) << 63);
    f->r[0] = (struct fpu_reg){ 0x1234, 0x0001 };       /* stale contents of an empty register */
    struct fpu before = *f;
    cpu->gpr[R_EDI] = DATA_ADDR;
    DECODE(&save, 0xDD, 0x37);
    DECODE(&restore, 0xDD, 0x27);
    ck_assert_int_eq(run(&save), NO_FAULT);
    ck_assert_uint_eq(f->cw, 0x037F);                   /* reinitialised */
    ck_assert_uint_eq(f->tw, 0xFFFF);
    ck_assert_uint_eq(f->sw, 0);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR + 8, 2), fpu_tag_word(&before));
    ck_assert_int_eq(run(&restore), NO_FAULT);
    ck_assert_uint_eq(f->cw, before.cw);
    ck_assert_uint_eq(f->sw, before.sw);
    ck_assert_uint_eq(f->tw, before.tw);
    ck_assert_mem_eq(f->r, before.r, sizeof f->r);
    /* a tag word claiming "valid" for a zero is corrected, "empty" is kept */
    phys_write(&fx->pm, DATA_ADDR + 8, 0x0000, 2);
    ck_assert_int_eq(run(&restore), NO_FAULT);
    ck_assert_uint_eq(fpu_tag_word(f) & 3, 2);          /* R0: 0001:...1234 is a denormal */
}
END_TEST

START_TEST(test_fxam_empty_and_fnstsw)
{
    struct insn fxam, fnstsw_m;
    fpu_clean();
    cpu->fpu.r[0] = (struct fpu_reg){ UINT64_C(1) << 63, 0xBFFF };   /* stale -1.0 */
    DECODE(&fxam, 0xD9, 0xE5);
    ck_assert_int_eq(run(&fxam), NO_FAULT);
    ck_assert_uint_eq(cpu->fpu.sw & 0x4700, 0x4300);    /* C3 C0 = empty, C1 = stale sign */
    cpu->gpr[R_EDI] = DATA_ADDR;
    DECODE(&fnstsw_m, 0xDD, 0x3F);
    ck_assert_int_eq(run(&fnstsw_m), NO_FAULT);
    ck_assert_uint_eq(phys_read(&fx->pm, DATA_ADDR, 2), cpu->fpu.sw);
}
END_TEST

static Suite *fpu_suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *tc = tcase_create("x87");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nm_checks);
    tcase_add_test(tc, test_pending_exception_mf_and_ferr);
    tcase_add_test(tc, test_fault_before_commit);
    tcase_add_test(tc, test_last_instruction_pointers);
    tcase_add_test(tc, test_memory_operand_alignments);
    tcase_add_test(tc, test_environment_layouts);
    tcase_add_test(tc, test_fnsave_frstor_round_trip);
    tcase_add_test(tc, test_fxam_empty_and_fnstsw);
    tcase_add_test(tc, test_host_differential);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* the forked test's lines survive its exit */
    SRunner *sr = srunner_create(fpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
