/* tests/unit/test_portable.c: the portable backend's lazy state discipline
 * (translator/portable.c): pure register instructions keep EIP and the
 * instruction count in locals, so a fault right after them, a REP string
 * instruction in the middle of a block, and a budget ending anywhere in a
 * block must all leave exactly the interpreter's state. Each program runs
 * on the interpreter and on the portable backend, for every budget from 1
 * instruction to past its end, and the states are compared. */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "harness.h"
#include "mmu/phys.h"
#include "translator/tcache.h"

struct state {
    uint32_t gpr[8];
    uint32_t eip, eflags;
    uint64_t icount;
    uint8_t stack[8];   /* what a fault pushed */
    uint8_t data[8];    /* what REP STOSB wrote */
    enum cpu_stop why;
};

/* Real mode, CS = DS = ES = SS = 0, code at 0x1000, SP 0x8000; vector 0
 * (#DE) at 0000:2000, which halts. Runs budget instructions. */
static struct state run(const uint8_t *code, size_t len, bool translated, uint64_t budget)
{
    static const uint8_t ivt0[] = { 0x00, 0x20, 0x00, 0x00 };
    static const uint8_t hlt = 0xF4;
    struct fixture *fx = fixture_new(1u << 20);
    struct cpu *cpu = &fx->cpu;
    struct tcache *tc = NULL;
    for (int s = SEG_ES; s <= SEG_DS; s++)
        cpu_load_seg_real(cpu, s, 0);
    cpu->eip = 0x1000;
    cpu->gpr[R_ESP] = 0x8000;
    phys_load(&fx->pm, 0, ivt0, sizeof ivt0);
    phys_load(&fx->pm, 0x2000, &hlt, 1);
    phys_load(&fx->pm, 0x1000, code, len);
    if (translated) {
        tc = tcache_create(&(struct tcache_config){ 0 });
        ck_assert_ptr_nonnull(tc);
        cpu->engine = tcache_engine(tc);
    }
    struct state st = { .why = cpu_run(cpu, budget) };
    memcpy(st.gpr, cpu->gpr, sizeof st.gpr);
    st.eip = cpu->eip;
    st.eflags = cpu->eflags;
    st.icount = cpu->icount;
    for (uint32_t i = 0; i < sizeof st.stack; i++) {
        st.stack[i] = (uint8_t)phys_read(&fx->pm, 0x8000 - (uint32_t)sizeof st.stack + i, 1);
        st.data[i] = (uint8_t)phys_read(&fx->pm, 0x3000 + i, 1);
    }
    cpu->engine = NULL;
    tcache_destroy(tc);
    fixture_free(fx);
    return st;
}

static void same_for_every_budget(const uint8_t *code, size_t len, uint64_t max_budget)
{
    for (uint64_t budget = 1; budget <= max_budget; budget++) {
        struct state a = run(code, len, false, budget);
        struct state b = run(code, len, true, budget);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(a.gpr[i] == b.gpr[i], "budget %llu: gpr %d %08x vs %08x",
                          (unsigned long long)budget, i, a.gpr[i], b.gpr[i]);
        ck_assert_msg(a.eip == b.eip, "budget %llu: eip %x vs %x",
                      (unsigned long long)budget, a.eip, b.eip);
        ck_assert_uint_eq(a.eflags, b.eflags);
        ck_assert_msg(a.icount == b.icount, "budget %llu: icount %llu vs %llu",
                      (unsigned long long)budget, (unsigned long long)a.icount,
                      (unsigned long long)b.icount);
        ck_assert_mem_eq(a.stack, b.stack, sizeof a.stack);
        ck_assert_mem_eq(a.data, b.data, sizeof a.data);
        ck_assert_int_eq(a.why, b.why);
    }
}

/* #DE after pure instructions in the same block: the pushed IP is the
 * DIV's and the count is the retired instructions' */
static const uint8_t fault_after_pure[] = {
    0xB8, 0x05, 0x00,   /* 1000 mov ax, 5 */
    0x31, 0xD2,         /* 1003 xor dx, dx */
    0x01, 0xC0,         /* 1005 add ax, ax */
    0xB9, 0x00, 0x00,   /* 1007 mov cx, 0 */
    0x43,               /* 100A inc bx */
    0xF7, 0xF1,         /* 100B div cx: #DE */
    0xF4,               /* 100D hlt */
};

/* REP STOSB between pure instructions: icount charged per iteration */
static const uint8_t rep_in_block[] = {
    0xB9, 0x05, 0x00,   /* 1000 mov cx, 5 */
    0xBF, 0x00, 0x30,   /* 1003 mov di, 0x3000 */
    0xB0, 0xAB,         /* 1006 mov al, 0xAB */
    0x40,               /* 1008 inc ax */
    0xF3, 0xAA,         /* 1009 rep stosb */
    0x40,               /* 100B inc ax */
    0x8B, 0x1E, 0x00, 0x30, /* 100C mov bx, [0x3000] */
    0x43,               /* 1010 inc bx */
    0x41,               /* 1011 inc cx */
    0xF4,               /* 1012 hlt */
};

START_TEST(test_fault_after_pure)
{
    same_for_every_budget(fault_after_pure, sizeof fault_after_pure, 10);
    struct state s = run(fault_after_pure, sizeof fault_after_pure, true, 100);
    ck_assert_uint_eq(s.eip, 0x2001);                 /* halted in the #DE handler */
    ck_assert_uint_eq(s.stack[2] | s.stack[3] << 8, 0x100B);   /* pushed IP (flags, CS, IP from 0x8000 down): the DIV */
    ck_assert_uint_eq(s.gpr[R_EAX] & 0xFFFF, 10);
}
END_TEST

START_TEST(test_rep_in_block)
{
    same_for_every_budget(rep_in_block, sizeof rep_in_block, 16);
    struct state s = run(rep_in_block, sizeof rep_in_block, true, 100);
    ck_assert_uint_eq(s.data[4], 0xAC);
    ck_assert_uint_eq(s.data[5], 0);
    ck_assert_uint_eq(s.gpr[R_ECX] & 0xFFFF, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("portable");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fault_after_pure);
    tcase_add_test(tc, test_rep_in_block);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
