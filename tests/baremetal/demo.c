/* tests/baremetal/demo.c: the default guest of scripts/run.sh until the PC
 * boots Linux (issue 3). A multiboot kernel that says on COM1 (the terminal
 * with -nographic) what CPU it finds, shows the sensitive instructions that
 * make x86 hard to virtualize by trap-and-emulate (they run at CPL 0 here,
 * so they read the true state), runs a short integer and x87 workload,
 * and exits through the isa-debug-exit port when one is present. It is
 * also a test: its transcript on port 0xE9 must match QEMU's. */
#include "runtime.h"

#define COM1 0x3F8

static void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    while (!(inb(COM1 + 5) & 0x20))   /* LSR.THRE */
        ;
    outb(COM1, (uint8_t)c);
}

static void say_serial(const char *s)
{
    for (const char *p = s; *p; p++)
        serial_putc(*p);
}

/* Printed on COM1 and in the 0xE9 transcript that is compared with QEMU's. */
static void say(const char *s)
{
    say_serial(s);
    puts_e9(s);
}

static char *put_hex(char *p, uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        *p++ = "0123456789abcdef"[(v >> (4 * i)) & 0xF];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint32_t collatz_steps(uint32_t limit)
{
    uint32_t total = 0;
    for (uint32_t n = 1; n < limit; n++)
        for (uint32_t x = n; x != 1; total++)
            x = (x & 1) ? 3 * x + 1 : x / 2;
    return total;
}

/* pi by the Leibniz series, summed by x87 instructions (the kernel is built
 * without compiler floating point): returns pi * 1e6, truncated. */
static uint32_t leibniz_pi_micro(int32_t terms)
{
    uint64_t sum = 0;   /* a double's bits */
    int32_t million = 1000000, result;
    asm volatile("fninit; fldz; fstpl %0" : "=m"(sum));
    for (int32_t k = 0; k < terms; k++) {
        int32_t numer = (k & 1) ? -4 : 4, denom = 2 * k + 1;
        asm volatile("fildl %1; fidivrl %2; faddl %0; fstpl %0" : "+m"(sum) : "m"(denom), "m"(numer));
    }
    asm volatile("fldl %1; fimull %2; fldcw %3; fistpl %0"
                 : "=m"(result) : "m"(sum), "m"(million), "m"((uint16_t){ 0x0F7F }));   /* truncate */
    return (uint32_t)result;
}

void test_main(void)
{
    char line[128], *p;
    uint32_t r[4];

    outb(COM1 + 3, 0x03);   /* 8N1 */
    say("fox86 demo kernel: hello from a multiboot guest\n");

    cpuid(0, r);
    uint32_t vendor[3] = { r[1], r[3], r[2] };
    p = put_str(line, "cpu: vendor ");
    for (int i = 0; i < 12; i++)
        *p++ = ((const char *)vendor)[i];
    cpuid(1, r);
    p = put_str(p, ", signature ");
    p = put_hex(p, r[0], 8);
    p = put_str(p, ", features edx ");
    p = put_hex(p, r[3], 8);
    p = put_str(p, "\n");
    *p = 0;
    say_serial(line);   /* differs by design between emulators: not in the transcript */

    uint8_t gdtr[6];
    uint16_t msw, cs;
    uint32_t flags;
    asm volatile("sgdt %0" : "=m"(gdtr));
    asm volatile("smsw %0" : "=r"(msw));
    asm volatile("mov %%cs, %0" : "=r"(cs));
    asm volatile("pushf; pop %0" : "=r"(flags));
    p = put_str(line, "sensitive: sgdt base ");
    p = put_hex(p, (uint32_t)gdtr[2] | (uint32_t)gdtr[3] << 8 | (uint32_t)gdtr[4] << 16 | (uint32_t)gdtr[5] << 24, 8);
    p = put_str(p, " smsw ");
    p = put_hex(p, msw, 4);
    p = put_str(p, " cs ");
    p = put_hex(p, cs, 4);
    p = put_str(p, " (rpl = cpl 0) eflags ");
    p = put_hex(p, flags, 8);
    p = put_str(p, "\n");
    *p = 0;
    say(line);

    uint32_t steps = collatz_steps(3000);
    p = put_str(line, "integer: collatz steps below 3000 = ");
    p = put_hex(p, steps, 8);
    p = put_str(p, steps == 0x000347e7 ? " (expected)\n" : " (WRONG)\n");
    *p = 0;
    say(line);
    CHECK(steps == 0x000347e7, "collatz steps %x", (unsigned)steps);

    uint32_t pi_micro = leibniz_pi_micro(20000);
    p = put_str(line, "x87: pi by 20000 Leibniz terms = ");
    p = put_hex(p, pi_micro, 8);
    p = put_str(p, " millionths (hex; pi is 0x2fefd8)\n");
    *p = 0;
    say(line);
    CHECK(pi_micro >= 3141490 && pi_micro <= 3141594, "pi %u", (unsigned)pi_micro);

    say(failures() ? "demo: FAILED\n" : "demo: all checks passed, exiting\n");
}
