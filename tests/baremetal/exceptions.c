/* tests/baremetal/exceptions.c: exceptions with their vectors, error codes,
 * saved EIP (fault: the faulting instruction; trap: the next one) and CR2:
 * #DE, #UD, #GP and #NP from segment loads, #BP (int3, resumed), #OF (into),
 * #BR (bound), #PF on a not-present page for a read and a write. Also checks
 * that a faulting segment load leaves the segment register unchanged. */
#include "runtime.h"

#define NP_SEL  (GDT_FIRST_FREE << 3)          /* data segment, not present */
#define PF_ADDR 0x00300123u                    /* inside a page made not-present */

extern char de_insn[], ud_insn[], gp_insn[], np_insn[], ss_insn[], bp_after[];
extern char of_after[], br_insn[], pf_read_insn[], pf_write_insn[];

static uint32_t ds_at_fault;

__attribute__((noinline, noclone)) static void do_de(void *arg)
{
    asm volatile("de_insn: divl %%ecx" :: "a"(1), "d"(0), "c"(0) : "cc");
}

__attribute__((noinline, noclone)) static void do_ud(void *arg)
{
    asm volatile("ud_insn: ud2");
}

__attribute__((noinline, noclone)) static void do_gp(void *arg)
{
    asm volatile("mov $0xfff8, %%ax\n gp_insn: mov %%ax, %%ds" ::: "eax", "memory");
}

__attribute__((noinline, noclone)) static void do_np(void *arg)
{
    asm volatile("mov %0, %%ax\n np_insn: mov %%ax, %%es" :: "i"(NP_SEL) : "eax", "memory");
}

__attribute__((noinline, noclone)) static void do_null_ss(void *arg)
{
    asm volatile("xor %%eax, %%eax\n ss_insn: mov %%ax, %%ss" ::: "eax", "memory");
}

__attribute__((noinline, noclone)) static void do_bp(void *arg)
{
    asm volatile("int3\n bp_after: nop");
}

__attribute__((noinline, noclone)) static void do_into(void *arg)
{
    asm volatile("mov $0x7fffffff, %%eax\n add $1, %%eax\n into\n of_after: nop" ::: "eax", "cc");
}

static int32_t bounds[2] = { 10, 20 };

__attribute__((noinline, noclone)) static void do_bound(void *arg)
{
    asm volatile("mov $21, %%eax\n br_insn: bound %%eax, (%0)" :: "r"(bounds) : "eax");
}

__attribute__((noinline, noclone)) static void do_pf_read(void *arg)
{
    asm volatile("pf_read_insn: mov (%0), %%eax" :: "r"(PF_ADDR) : "eax", "memory");
}

__attribute__((noinline, noclone)) static void do_pf_write(void *arg)
{
    asm volatile("pf_write_insn: movl $1, (%0)" :: "r"(PF_ADDR) : "memory");
}

static bool record_ds(struct frame *f)
{
    ds_at_fault = f->ds & 0xFFFF;
    return false;                 /* then the default policy: back to run_catching */
}

static bool resume(struct frame *f)
{
    return true;
}

static void expect(const char *name, void (*fn)(void *), int vector, uint32_t error,
                   const char *eip)
{
    int got = run_catching(fn, 0);
    if (error == 0xFFFFFFFFu)
        CHECK(got == vector && exc_last.eip == (uint32_t)eip,
              "%-10s vector %d eip %s", name, got, exc_last.eip == (uint32_t)eip ? "ok" : "WRONG");
    else
        CHECK(got == vector && exc_last.error == error && exc_last.eip == (uint32_t)eip,
              "%-10s vector %d error %04x eip %s", name, got, exc_last.error,
              exc_last.eip == (uint32_t)eip ? "ok" : "WRONG");
}

void test_main(void)
{
    puts_e9("exceptions: faults, traps, error codes\n");
    gdt_set_seg(GDT_FIRST_FREE, 0, 0xFFFFF, ACC_DATA, FLG_G | FLG_DB);   /* P = 0 */
    exc_handlers[13] = record_ds;

    expect("#DE div", do_de, 0, 0, de_insn);
    expect("#UD ud2", do_ud, 6, 0, ud_insn);
    ds_at_fault = 0;
    expect("#GP ds", do_gp, 13, 0xFFF8, gp_insn);
    CHECK(ds_at_fault == SEL_KDATA, "DS unchanged by the faulting load: %x", ds_at_fault);
    expect("#NP es", do_np, 11, NP_SEL, np_insn);
    expect("#GP ss=0", do_null_ss, 13, 0, ss_insn);
    expect("#BR bound", do_bound, 5, 0, br_insn);

    exc_handlers[3] = resume;
    exc_handlers[4] = resume;
    uint32_t before = exc_last.count;
    CHECK(run_catching(do_bp, 0) == -1 && exc_last.vector == 3 && exc_last.eip == (uint32_t)bp_after
          && exc_last.count == before + 1, "#BP int3 trapped with eip after it, resumed");
    before = exc_last.count;
    CHECK(run_catching(do_into, 0) == -1 && exc_last.vector == 4 && exc_last.eip == (uint32_t)of_after
          && exc_last.count == before + 1, "#OF into trapped with eip after it, resumed");

    paging_identity();
    page_table0[PF_ADDR >> 12] &= ~PTE_P;
    invlpg(PF_ADDR);
    expect("#PF read", do_pf_read, 14, 0, pf_read_insn);
    CHECK(exc_last.cr2 == PF_ADDR, "#PF read CR2 = %x", exc_last.cr2);
    expect("#PF write", do_pf_write, 14, 2, pf_write_insn);
    CHECK(exc_last.cr2 == PF_ADDR, "#PF write CR2 = %x", exc_last.cr2);
    page_table0[PF_ADDR >> 12] |= PTE_P;
    invlpg(PF_ADDR);
    CHECK(run_catching(do_pf_read, 0) == -1, "read works once the page is present");
    paging_off();
}
