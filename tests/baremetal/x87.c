/* tests/baremetal/x87.c: the x87 forms the native backend runs directly
 * (translator/native_emit.c emit_x87, core/fpu.c fpu_fast) on random and
 * special operands, with paging on, with exceptions masked and unmasked
 * (#MF with CR0.NE = 1), stack faults, and CR0.TS set (#NM).
 *
 * What is checked: the values are not printed (the transcript must equal
 * QEMU's, whose x87 differs in corner cases); the run is differential
 * under the lock-step checker (baremetal_x87_fox86_native_lockstep: every
 * block translated and interpreted from the same state, stopping at the
 * first difference). The transcript checks that #NM came exactly once per
 * CR0.TS round. The random control words unmask exceptions, which fox86
 * delivers as #MF (CR0.NE = 1); QEMU takes none there, so the count is not
 * part of the transcript.
 */
#include "runtime.h"

/* Everything written lives on pages of its own (PAGE_OWN): a store into
 * a page that holds code invalidates its translations, and the rounds
 * would then run in the interpreter rather than as host code. */
#define PAGE_OWN __attribute__((aligned(4096)))
static uint32_t rng PAGE_OWN = 0x2545F491u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* doubles: specials, boundaries and random bits */
static uint64_t rand_f64(void)
{
    static const uint64_t special[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x3FF0000000000000ull, 0xBFF0000000000000ull,
        0x7FF0000000000000ull, 0xFFF0000000000000ull, 0x7FF8000000000000ull, 0x7FF4000000000001ull,
        0x0000000000000001ull, 0x000FFFFFFFFFFFFFull, 0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,
        0x4340000000000000ull, 0x3FE0000000000000ull, 0x41DFFFFFFFC00000ull, 0xC1E0000000000000ull,
    };
    uint32_t r = next_rand();
    if ((r & 7) == 0)
        return special[(r >> 3) & 15];
    uint64_t bits = (uint64_t)next_rand() << 32 | next_rand();
    if (r & 8)   /* moderate exponents: ordinary arithmetic */
        bits = (bits & 0x800FFFFFFFFFFFFFull) | (uint64_t)(0x3F0 + ((r >> 4) & 0x1F)) << 52;
    return bits;
}

static uint32_t rand_f32(void)
{
    uint32_t r = next_rand();
    if ((r & 7) == 0)
        return (r & 8 ? 0x80000000u : 0) | ((r >> 4) & 1 ? 0x7F800000u : 0) | ((r >> 5) & 3);
    return (next_rand() & 0x807FFFFFu) | (0x70u + ((r >> 8) & 0x1F)) << 23;
}

static volatile uint64_t in64[4] PAGE_OWN, out64[4] PAGE_OWN;
static volatile uint32_t in32[4] PAGE_OWN, out32[4] PAGE_OWN;
static volatile int32_t int32v[2] PAGE_OWN;
static volatile int16_t int16v[2] PAGE_OWN;
static volatile uint16_t cw_word PAGE_OWN, cw_saved PAGE_OWN, sw_word PAGE_OWN;
static volatile uint32_t nm_count PAGE_OWN, mf_count PAGE_OWN;

static bool on_nm(struct frame *f)
{
    (void)f;
    nm_count++;
    asm volatile("clts");
    return true;
}

static bool on_mf(struct frame *f)
{
    (void)f;
    mf_count++;
    asm volatile("fnclex");
    return true;
}

/* One round: every directly run form at least once. */
static void round_of_forms(void)
{
    uint32_t flags;
    asm volatile("fldl %[a]\n fmull %[b]\n fldl %[c]\n faddp\n fstl %[o0]\n fdivl %[a]\n fstpl %[o1]"
                 : [o0] "=m"(out64[0]), [o1] "=m"(out64[1])
                 : [a] "m"(in64[0]), [b] "m"(in64[1]), [c] "m"(in64[2]) : "memory");
    asm volatile("flds %[a]\n fsubl %[b]\n fsubrl %[c]\n fdivrs %[d]\n fsts %[o0]\n fstps %[o1]"
                 : [o0] "=m"(out32[0]), [o1] "=m"(out32[1])
                 : [a] "m"(in32[0]), [b] "m"(in64[1]), [c] "m"(in64[3]), [d] "m"(in32[1]) : "memory");
    asm volatile("fildl %[i]\n fldl %[a]\n fxch\n fld %%st(1)\n fmul %%st(1), %%st\n fsubr %%st(2), %%st\n"
                 " fdiv %%st(1), %%st\n fsubp %%st, %%st(2)\n fucomip %%st(1), %%st\n pushf\n pop %[fl]\n"
                 " fstpl %[o]"
                 : [o] "=m"(out64[2]), [fl] "=r"(flags) : [i] "m"(int32v[0]), [a] "m"(in64[2]) : "memory", "cc");
    out32[2] = flags & 0x8D5;
    asm volatile("fldz\n fld1\n fchs\n fcoml %[a]\n fnstsw %%ax\n mov %%ax, %[sw]\n fcomps %[b]\n fnstsw %%ax\n"
                 " fcomp %%st(0)\n fld1\n fabs\n fcomi %%st(1), %%st\n fstp %%st(0)\n fstp %%st(0)\n"
                 " fiadds %[s]\n fimull %[i]\n fisubrl %[i]\n fidivs %[s]\n fstpl %[o]\n fnstsw %%ax"
                 : [o] "=m"(out64[3]), [sw] "=m"(sw_word)
                 : [a] "m"(in64[0]), [b] "m"(in32[2]), [s] "m"(int16v[0]), [i] "m"(int32v[1]) : "eax", "memory", "cc");
    asm volatile("fnstcw %[save]\n fldl %[a]\n fldcw %[cw]\n fistl %[o]\n fistps %[o16]\n fldcw %[save]\n"
                 " fld1\n fsqrt\n frndint\n fxam\n ftst\n fldpi\n fcompp\n fldl2e\n ffree %%st(0)\n fincstp\n"
                 " flds %[f]\n fistpll %[o64]"
                 : [save] "=m"(cw_saved), [o] "=m"(out32[3]), [o16] "=m"(int16v[1]), [o64] "=m"(out64[0])
                 : [a] "m"(in64[1]), [cw] "m"(cw_word), [f] "m"(in32[3]) : "memory");
}

static void fill(void)
{
    for (int k = 0; k < 4; k++) {
        in64[k] = rand_f64();
        in32[k] = rand_f32();
    }
    int32v[0] = (int32_t)next_rand();
    int32v[1] = (int32_t)(next_rand() % 2001) - 1000;
    int16v[0] = (int16_t)next_rand();
    cw_word = (uint16_t)(0x037F | (next_rand() & 0x0C00));
}

/* FXSAVE/FXRSTOR (0F AE /0 /1): the x87 part of the 512-byte image (FCW,
 * FSW, abridged tag, the eight registers in ST order), a round trip through
 * FNINIT, and #GP on an image that is not 16-byte aligned. */
static uint8_t fx_image[512 + 16] PAGE_OWN;
#define NEG_225E300_BITS 0xFE4AE0C41900844Full   /* -2.25e300 */

static void fxsave_misaligned(void *arg)
{
    asm volatile("fxsave %0" : "=m"(*(uint8_t (*)[512])arg));
}

static void fxsave_checks(void)
{
    static const double values[3] = { 1.5, -2.25e300, 0.0 };
    asm volatile("fninit\n fldl %0\n fldl %1\n fldl %2\n fldpi"
                 :: "m"(values[0]), "m"(values[1]), "m"(values[2]));
    memset(fx_image, 0xA5, sizeof fx_image);
    asm volatile("fxsave %0" : "=m"(*(uint8_t (*)[512])fx_image));
    uint16_t cw = (uint16_t)(fx_image[0] | fx_image[1] << 8);
    uint16_t sw = (uint16_t)(fx_image[2] | fx_image[3] << 8);
    printf_e9("fxsave: fcw %04x fsw %04x ftw %02x\n", cw, sw, fx_image[4]);
    CHECK(cw == 0x037F && fx_image[4] == 0xF0, "fxsave: fcw %04x ftw %02x", cw, fx_image[4]);
    for (int i = 0; i < 8; i++) {
        /* empty registers keep whatever earlier rounds left: not compared */
        if (!(fx_image[4] >> ((sw >> 11) + i) % 8 & 1))
            continue;
        const uint8_t *r = fx_image + 32 + 16 * i;
        printf_e9("  st%d %02x%02x %02x%02x%02x%02x%02x%02x%02x%02x\n", i, r[9], r[8], r[7], r[6],
                  r[5], r[4], r[3], r[2], r[1], r[0]);
    }
    CHECK(fx_image[288] == 0xA5 && fx_image[511] == 0xA5, "fxsave: bytes past 288 untouched");
    /* round trip: FXSAVE leaves the FPU as it was; FNINIT, then FXRSTOR */
    uint64_t st0, st1, st2;                       /* as doubles, by their bits */
    asm volatile("fninit\n fxrstor %1\n fstpl %0" : "=m"(st0) : "m"(*(uint8_t (*)[512])fx_image));
    asm volatile("fstpl %0" : "=m"(st1));
    asm volatile("fstpl %0" : "=m"(st2));
    CHECK(st0 == 0x400921FB54442D18ull && st1 == 0 && st2 == NEG_225E300_BITS,
          "fxrstor: the registers come back (pi %d, 0 %d, -2.25e300 %d)",
          st0 == 0x400921FB54442D18ull, st1 == 0, st2 == NEG_225E300_BITS);
    asm volatile("fninit");
    CHECK(run_catching(fxsave_misaligned, fx_image + 8) == 13, "fxsave to a misaligned image: #GP");
}

void test_main(void)
{
    puts_e9("x87: the natively run x87 forms on random and special operands\n");
    paging_identity();
    exc_handlers[7] = on_nm;
    exc_handlers[16] = on_mf;
    write_cr0((read_cr0() & ~0x4u) | 0x20u | 0x2u);   /* EM off, NE on, MP on */

    /* masked: stack faults included (the rounds leave values behind) */
    asm volatile("fninit");
    for (int n = 0; n < 600; n++) {
        fill();
        round_of_forms();
        if (n % 7 == 0)
            asm volatile("fninit");
    }
    /* CR0.TS: #NM on the first x87 instruction, once per round */
    uint32_t nm_rounds = 0;
    for (int n = 0; n < 50; n++) {
        fill();
        write_cr0(read_cr0() | 0x8u);
        nm_rounds++;
        round_of_forms();
    }
    CHECK(nm_count == nm_rounds, "#NM once per CR0.TS round: %u of %u", (unsigned)nm_count, (unsigned)nm_rounds);
    /* random masks, rounding and precision */
    for (int n = 0; n < 400; n++) {
        fill();
        uint16_t cw = (uint16_t)(0x0340 | (next_rand() & 0x0C3F));
        asm volatile("fninit\n fldcw %0" :: "m"(cw));
        round_of_forms();
    }
    asm volatile("fninit");
    fxsave_checks();
}
