/* tests/baremetal/delivery.c: exceptions raised while delivering an
 * interrupt or exception (SDM Vol. 3, 6.15 "Exception and interrupt
 * reference", table 6-5 "Conditions for generating a double fault"):
 *   - INT n through a not-present gate: #NP, error code = n*8 + 2 (IDT bit);
 *   - INT n beyond the IDT limit: #GP, error code = n*8 + 2;
 *   - a benign exception (#BP) whose gate is not present: #NP, delivered
 *     serially (no double fault);
 *   - a contributory exception (#NP) raised while delivering another
 *     contributory one (#NP): #DF with error code 0, saved EIP = the INT;
 *   - a contributory exception (#GP: gate beyond the IDT limit) while
 *     delivering a page fault: #DF.
 * Each case restores the gates it broke. */
#include "runtime.h"

#define VEC_TEST 0x40
#define PF_ADDR  0x00300000u          /* a 4 KB page made not present */

extern char int40_insn[], int3_insn[], int50_insn[], pf_insn[];

struct idtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static struct idtr idtr_saved;

static void set_idt_limit(uint16_t limit)
{
    struct idtr r = idtr_saved;
    r.limit = limit;
    asm volatile("lidt %0" :: "m"(r));
}

static void restore_idt(void)
{
    asm volatile("lidt %0" :: "m"(idtr_saved));
}

static void gate_not_present(int vec)
{
    idt_set_gate(vec, SEL_KCODE, isr_stub_addr(vec), ACC_DPL(0) | ACC_INTGATE32);
}

__attribute__((noinline, noclone)) static void do_int40(void *arg)
{
    asm volatile("int40_insn: int $0x40");
}

__attribute__((noinline, noclone)) static void do_int3(void *arg)
{
    asm volatile("int3_insn: int3");
}

__attribute__((noinline, noclone)) static void do_int50(void *arg)
{
    asm volatile("int50_insn: int $0x50");
}

__attribute__((noinline, noclone)) static void do_pf(void *arg)
{
    asm volatile("pf_insn: mov (%0), %%eax" :: "r"(PF_ADDR) : "eax", "memory");
}

static void expect(const char *name, void (*fn)(void *), int vector, uint32_t error, const char *eip)
{
    int got = run_catching(fn, 0);
    printf_e9("%s: vector %d error %x eip %s\n", name, got, (unsigned)exc_last.error,
              exc_last.eip == (uint32_t)eip ? "at the instruction" : "elsewhere");
    CHECK(got == vector, "%s: vector %d, expected %d", name, got, vector);
    CHECK(exc_last.error == error, "%s: error %x, expected %x", name, (unsigned)exc_last.error,
          (unsigned)error);
    CHECK(exc_last.eip == (uint32_t)eip, "%s: eip %x, expected %x", name, (unsigned)exc_last.eip,
          (unsigned)(uint32_t)eip);
}

void test_main(void)
{
    asm volatile("sidt %0" : "=m"(idtr_saved));

    gate_not_present(VEC_TEST);
    expect("int 0x40, gate not present", do_int40, 11, VEC_TEST * 8 + 2, int40_insn);
    idt_set_default(VEC_TEST, 0);

    set_idt_limit(0x50 * 8 - 1);
    expect("int 0x50, beyond the IDT limit", do_int50, 13, 0x50 * 8 + 2, int50_insn);
    restore_idt();

    gate_not_present(3);
    expect("int3, #BP gate not present (benign, then #NP)", do_int3, 11, 3 * 8 + 2, int3_insn);
    idt_set_default(3, 0);

    gate_not_present(VEC_TEST);
    gate_not_present(11);
    expect("int 0x40 with #NP gate not present (#NP then #NP)", do_int40, 8, 0, int40_insn);
    idt_set_default(11, 0);
    idt_set_default(VEC_TEST, 0);

    paging_identity();
    page_table0[PF_ADDR >> 12] &= ~(uint32_t)PTE_P;
    invlpg(PF_ADDR);
    expect("page fault, plain", do_pf, 14, 0, pf_insn);
    CHECK(exc_last.cr2 == PF_ADDR, "cr2 %x", (unsigned)exc_last.cr2);

    set_idt_limit(14 * 8 - 1);            /* vectors 0-13 only: #PF's gate is beyond the limit */
    expect("page fault with its gate beyond the limit (#PF then #GP)", do_pf, 8, 0, pf_insn);
    restore_idt();

    page_table0[PF_ADDR >> 12] |= PTE_P;
    invlpg(PF_ADDR);
    paging_off();
}
