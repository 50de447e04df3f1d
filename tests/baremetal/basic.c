/* tests/baremetal/basic.c: the smallest useful kernel: prints, checks the
 * multiboot entry state, and self-checks integer arithmetic and flags.
 * Expected values are architectural (Intel SDM), so every correct CPU
 * prints the same transcript. */
#include "runtime.h"

#define FLAGS_MASK 0x8D5u   /* OF SF ZF AF PF CF */


static uint32_t run_op(int op, uint32_t a, uint32_t b, uint32_t *flags)
{
    uint32_t r = a, f = 0;
    switch (op) {
    case 0: asm volatile("add %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 1: asm volatile("sub %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 2: asm volatile("and %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 3: asm volatile("xor %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 4: asm volatile("stc; adc %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 5: asm volatile("stc; sbb %2, %0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 6: asm volatile("clc; inc %0; pushf; pop %1" : "+r"(r), "=r"(f) :: "cc"); break;
    case 7: asm volatile("neg %0; pushf; pop %1" : "+r"(r), "=r"(f) :: "cc"); break;
    case 8: asm volatile("addb %b2, %b0; pushf; pop %1" : "+q"(r), "=r"(f) : "q"(b) : "cc"); break;
    case 9: asm volatile("subw %w2, %w0; pushf; pop %1" : "+r"(r), "=r"(f) : "r"(b) : "cc"); break;
    case 10: asm volatile("stc; dec %0; pushf; pop %1" : "+r"(r), "=r"(f) :: "cc"); break;
    }
    *flags = f & FLAGS_MASK;
    return r;
}

static const char *const op_names[] = { "add", "sub", "and", "xor", "adc", "sbb", "inc", "neg", "addb", "subw", "dec" };

static const struct { int op; uint32_t a, b, result, flags; } cases[] = {
    { 0, 1, 2, 3, 0x004 },                          /* PF */
    { 0, 0xFFFFFFFF, 1, 0, 0x055 },                 /* CF ZF AF PF */
    { 0, 0x7FFFFFFF, 1, 0x80000000, 0x894 },        /* OF SF AF PF */
    { 1, 5, 5, 0, 0x044 },                          /* ZF PF */
    { 1, 0, 1, 0xFFFFFFFF, 0x095 },                 /* SF AF PF CF */
    { 1, 0x80000000, 1, 0x7FFFFFFF, 0x814 },        /* OF AF PF */
    { 2, 0xF0F0F0F0, 0x0FF00FF0, 0x00F000F0, 0x004 },
    { 3, 0x12345678, 0x12345678, 0, 0x044 },
    { 4, 0xFFFFFFFF, 0, 0, 0x055 },                 /* adc with CF=1 */
    { 5, 0, 0, 0xFFFFFFFF, 0x095 },                 /* sbb with CF=1 */
    { 6, 0x7FFFFFFF, 0, 0x80000000, 0x894 },        /* inc after clc: CF stays 0 */
    { 10, 0x80000000, 0, 0x7FFFFFFF, 0x815 },       /* dec after stc: CF stays 1 */
    { 7, 1, 0, 0xFFFFFFFF, 0x095 },
    { 8, 0x12345680, 0x80, 0x12345600, 0x845 },     /* byte add: OF ZF PF CF */
    { 9, 0xAAAA0000, 1, 0xAAAAFFFF, 0x095 },
};

static void mul_div_checks(void)
{
    uint32_t lo, hi;
    asm("mul %3" : "=a"(lo), "=d"(hi) : "a"(0x12345678u), "r"(0x9ABCDEF0u) : "cc");
    CHECK(lo == 0x242D2080 && hi == 0x0B00EA4E, "mul 0x12345678*0x9abcdef0 = %08x:%08x", hi, lo);
    int32_t q, r;
    asm("cltd; idiv %2" : "=a"(q), "=&d"(r) : "c"(7), "a"(-100) : "cc");
    CHECK(q == -14 && r == -2, "idiv -100/7 = %d rem %d", q, r);
    uint32_t v = 0x80000001u, c;
    asm("rol $1, %0; setc %b1; movzbl %b1, %1" : "+r"(v), "=q"(c) :: "cc");
    CHECK(v == 3 && c == 1, "rol 0x80000001,1 = %x CF=%u", v, c);
    uint32_t bsf, bsr;
    asm("bsf %2, %0; bsr %2, %1" : "=&r"(bsf), "=&r"(bsr) : "r"(0x00F00100u) : "cc");
    CHECK(bsf == 8 && bsr == 23, "bsf/bsr 0x00f00100 = %u/%u", bsf, bsr);
    uint32_t bswapped = 0x11223344;
    asm("bswap %0" : "+r"(bswapped));
    CHECK(bswapped == 0x44332211, "bswap = %x", bswapped);
}

static void string_checks(void)
{
    static char src[32] = "fox86 string move";
    static char dst[32];
    const char *s = src;
    char *d = dst;
    uint32_t n = 18;
    asm volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(n) :: "memory");
    bool same = true;
    for (int i = 0; i < 18; i++)
        same &= src[i] == dst[i];
    CHECK(same, "rep movsb copied \"%s\"", dst);
    uint32_t left = 32;
    const char *scan = src;
    asm volatile("repne scasb" : "+c"(left), "+D"(scan) : "a"('m') : "cc", "memory");
    CHECK(left == 32 - 14, "repne scasb found 'm' with ecx=%u", left);
}

void test_main(void)
{
    puts_e9("basic: hello from a bare-metal kernel\n");
    uint32_t cs, ds;
    asm("mov %%cs, %0; mov %%ds, %1" : "=r"(cs), "=r"(ds));
    CHECK(cs == SEL_KCODE && ds == SEL_KDATA, "runtime GDT loaded: cs=%x ds=%x", cs, ds);
    CHECK((read_eflags() & 0x200) == 0, "IF=0 at entry");
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t flags, r = run_op(cases[i].op, cases[i].a, cases[i].b, &flags);
        CHECK(r == cases[i].result && flags == cases[i].flags, "%-4s %08x, %08x = %08x flags %03x",
              op_names[cases[i].op], cases[i].a, cases[i].b, r, flags);
    }
    mul_div_checks();
    string_checks();
}
