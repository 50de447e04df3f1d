/* tests/unit/test_portable.c: the portable backend's lazy state discipline
 * (translator/portable.c): pure register instructions keep EIP and the
 * instruction count in locals, so a fault right after them, a REP string
 * instruction in the middle of a block, and a budget ending anywhere in a
 * block must all leave exactly the interpreter's state. Each program runs
 * on the interpreter and on the portable backend, for every budget from 1
 * instruction to past its end, and the states are compared; a generator of
 * random loops covers the memory micro-ops' address forms, CALL/RET ends
 * and CMP-with-memory + Jcc fusion, with accesses across page ends. */
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

/* 32-bit flat protected mode (4 GiB data segments, no paging): the
 * memory micro-ops on their direct path (base + displacement and
 * base + index forms: loads, stores, read-modify-write, byte and 16-bit
 * forms, PUSH/POP), CMP/SUB before the loop's Jcc, and the chaining of the
 * loop's block to itself. */
static const uint8_t flat_loop[] = {
    0xBB, 0x00, 0x30, 0x00, 0x00,   /* 1000 mov ebx, 0x3000 */
    0xB9, 0x05, 0x00, 0x00, 0x00,   /* 1005 mov ecx, 5 */
    0x31, 0xF6,                     /* 100A xor esi, esi */
    0x8B, 0x43, 0x04,               /* 100C mov eax, [ebx+4] */
    0x03, 0x04, 0xB3,               /* 100F add eax, [ebx+esi*4] */
    0x89, 0x43, 0x08,               /* 1012 mov [ebx+8], eax */
    0x0F, 0xB6, 0x53, 0x01,         /* 1015 movzx edx, byte [ebx+1] */
    0x01, 0xD0,                     /* 1019 add eax, edx */
    0x50,                           /* 101B push eax */
    0x46,                           /* 101C inc esi */
    0x83, 0xE6, 0x03,               /* 101D and esi, 3 */
    0xFF, 0x43, 0x10,               /* 1020 inc dword [ebx+16] */
    0x31, 0x43, 0x14,               /* 1023 xor [ebx+20], eax */
    0x2B, 0x43, 0x18,               /* 1026 sub eax, [ebx+24] */
    0x88, 0x43, 0x02,               /* 1029 mov [ebx+2], al */
    0x5F,                           /* 102C pop edi */
    0x0F, 0xB7, 0x53, 0x06,         /* 102D movzx edx, word [ebx+6] */
    0x66, 0x39, 0x53, 0x1C,         /* 1031 cmp [ebx+28], dx */
    0x39, 0x4B, 0x0C,               /* 1035 cmp [ebx+12], ecx */
    0x83, 0xE9, 0x01,               /* 1038 sub ecx, 1 */
    0x0F, 0x85, 0xCB, 0xFF, 0xFF, 0xFF, /* 103B jnz 100C (rel32) */
    0xF4,                           /* 1041 hlt */
};

struct flat_state {
    uint32_t gpr[8];
    uint32_t eip, eflags;
    uint64_t icount;
    uint8_t data[32];    /* 0x3000.. */
    uint8_t stack[8];    /* below 0x8000 */
    uint8_t edge[512];   /* 0x3F00..0x40FF: the random programs' data, across a page end */
    uint8_t stack_edge[32];   /* 0x4FF0..0x500F: their stack, across a page end */
    enum cpu_stop why;
};

static struct flat_state run_flat(const uint8_t *code, size_t len, bool translated,
                                  uint64_t budget)
{
    struct fixture *fx = fixture_new(1u << 20);
    struct cpu *cpu = &fx->cpu;
    struct tcache *tc = NULL;
    for (int s = SEG_ES; s <= SEG_GS; s++)
        cpu_load_seg_real(cpu, s, 0);
    cpu->cr0 |= CR0_PE;
    for (int s = SEG_ES; s <= SEG_GS; s++) {
        cpu->seg[s].limit = 0xFFFFFFFFu;
        cpu->seg[s].flags |= SEGF_DB | SEGF_G;
    }
    cpu->eip = 0x1000;
    cpu->gpr[R_ESP] = 0x8000;
    phys_load(&fx->pm, 0x1000, code, len);
    for (uint32_t i = 0; i < 32; i++)
        phys_write(&fx->pm, 0x3000 + i, (i * 37 + 11) & 0xFF, 1);
    for (uint32_t i = 0; i < sizeof ((struct flat_state *)0)->edge; i++)
        phys_write(&fx->pm, 0x3F00 + i, (i * 73 + 5) & 0xFF, 1);
    if (translated) {
        tc = tcache_create(&(struct tcache_config){ 0 });
        ck_assert_ptr_nonnull(tc);
        cpu->engine = tcache_engine(tc);
    }
    struct flat_state st = { .why = cpu_run(cpu, budget) };
    memcpy(st.gpr, cpu->gpr, sizeof st.gpr);
    st.eip = cpu->eip;
    st.eflags = cpu_get_eflags(cpu);
    st.icount = cpu->icount;
    for (uint32_t i = 0; i < sizeof st.data; i++)
        st.data[i] = (uint8_t)phys_read(&fx->pm, 0x3000 + i, 1);
    for (uint32_t i = 0; i < sizeof st.stack; i++)
        st.stack[i] = (uint8_t)phys_read(&fx->pm, 0x8000 - (uint32_t)sizeof st.stack + i, 1);
    for (uint32_t i = 0; i < sizeof st.edge; i++)
        st.edge[i] = (uint8_t)phys_read(&fx->pm, 0x3F00 + i, 1);
    for (uint32_t i = 0; i < sizeof st.stack_edge; i++)
        st.stack_edge[i] = (uint8_t)phys_read(&fx->pm, 0x4FF0 + i, 1);
    cpu->engine = NULL;
    tcache_destroy(tc);
    fixture_free(fx);
    return st;
}

/* Blocks ending in CMP, TEST, SUB or AND on registers and a Jcc, fused by
 * the portable backend, with conditions of every kind (O, B, BE, E, S, P,
 * L, LE and inverses) on operands that vary over 40 passes. */
static const uint8_t fused_jcc[] = {
    0xB9, 0x28, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 40 */
    0xB8, 0xF0, 0xFF, 0xFF, 0x7F,         /* 1005 mov eax, 0x7ffffff0 */
    0xBB, 0x05, 0x00, 0x00, 0x80,         /* 100A mov ebx, 0x80000005 */
    0x31, 0xFF,                           /* 100F xor edi, edi */
    0x05, 0xFF, 0xFF, 0xFF, 0x3F,         /* 1011 add eax, 0x3fffffff */
    0x31, 0xC3,                           /*      xor ebx, eax */
    0x39, 0xD8,                           /*      cmp eax, ebx */
    0x7C, 0x01,                           /*      jl +1 */
    0x47,                                 /*      inc edi */
    0x3D, 0x78, 0x56, 0x34, 0x12,         /*      cmp eax, 0x12345678 */
    0x76, 0x03,                           /*      jbe +3 */
    0x83, 0xC7, 0x02,                     /*      add edi, 2 */
    0x85, 0xD8,                           /*      test eax, ebx */
    0x78, 0x03,                           /*      js +3 */
    0x83, 0xC7, 0x04,                     /*      add edi, 4 */
    0x85, 0xD8,                           /*      test eax, ebx */
    0x7A, 0x03,                           /*      jp +3 */
    0x83, 0xC7, 0x08,                     /*      add edi, 8 */
    0x81, 0xE3, 0x0F, 0xFF, 0x00, 0xFF,   /*      and ebx, 0xff00ff0f */
    0x74, 0x03,                           /*      jz +3 */
    0x83, 0xC7, 0x10,                     /*      add edi, 16 */
    0x39, 0xD8,                           /*      cmp eax, ebx */
    0x70, 0x03,                           /*      jo +3 */
    0x83, 0xC7, 0x20,                     /*      add edi, 32 */
    0x81, 0xFB, 0x00, 0x00, 0x00, 0x40,   /*      cmp ebx, 0x40000000 */
    0x7F, 0x03,                           /*      jg +3 */
    0x83, 0xC7, 0x40,                     /*      add edi, 64 */
    0x39, 0xD8,                           /*      cmp eax, ebx */
    0x73, 0x06,                           /*      jae +6 */
    0x81, 0xC7, 0x80, 0x00, 0x00, 0x00,   /*      add edi, 128 */
    0x85, 0xC0,                           /*      test eax, eax */
    0x7E, 0x06,                           /*      jle +6 */
    0x81, 0xC7, 0x00, 0x01, 0x00, 0x00,   /*      add edi, 256 */
    0xC1, 0xC3, 0x07,                     /*      rol ebx, 7 */
    0x83, 0xE9, 0x01,                     /*      sub ecx, 1 */
    0x75, 0xA3,                           /*      jnz 1011 */
    0xF4,                                 /*      hlt */
};

/* The 8-bit ALU micro-ops (register and imm8 forms, high-byte registers
 * included), their flags read by ADC/SBB, LAHF and PUSHFD and compared
 * after every budget, over 30 passes of varying values. */
static const uint8_t alu8_loop[] = {
    0xB9, 0x1E, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 30 */
    0xB8, 0x78, 0x56, 0x34, 0x12,         /* 1005 mov eax, 0x12345678 */
    0xBB, 0xF0, 0xDE, 0xBC, 0x9A,         /* 100A mov ebx, 0x9abcdef0 */
    0xBA, 0x3C, 0x2D, 0x1E, 0x0F,         /* 100F mov edx, 0x0f1e2d3c */
    0x00, 0xD8,                           /* 1014 add al, bl */
    0x9F,                                 /* 1016 lahf */
    0x01, 0xC7,                           /* 1017 add edi, eax */
    0x08, 0xD4,                           /* 1019 or ah, dl */
    0x80, 0xE7, 0xF7,                     /* 101B and bh, 0xf7 */
    0x9C,                                 /* 101E pushfd */
    0x5D,                                 /* 101F pop ebp */
    0x01, 0xEF,                           /* 1020 add edi, ebp */
    0x28, 0xE2,                           /* 1022 sub dl, ah */
    0x30, 0xC6,                           /* 1024 xor dh, al */
    0x9C,                                 /* 1026 pushfd */
    0x5D,                                 /* 1027 pop ebp */
    0x01, 0xEF,                           /* 1028 add edi, ebp */
    0x80, 0xFB, 0x80,                     /* 102A cmp bl, 0x80 */
    0x83, 0xD7, 0x00,                     /* 102D adc edi, 0 */
    0x84, 0xF0,                           /* 1030 test al, dh */
    0x9C,                                 /* 1032 pushfd */
    0x5D,                                 /* 1033 pop ebp */
    0x01, 0xEF,                           /* 1034 add edi, ebp */
    0x83, 0xDF, 0x00,                     /* 1036 sbb edi, 0 */
    0x04, 0x9D,                           /* 1039 add al, 0x9d */
    0x9C,                                 /* 103B pushfd */
    0x5D,                                 /* 103C pop ebp */
    0x01, 0xEF,                           /* 103D add edi, ebp */
    0x80, 0xEB, 0x33,                     /* 103F sub bl, 0x33 */
    0x83, 0xD7, 0x00,                     /* 1042 adc edi, 0 */
    0x80, 0xF4, 0x5A,                     /* 1045 xor ah, 0x5a */
    0x9C,                                 /* 1048 pushfd */
    0x5D,                                 /* 1049 pop ebp */
    0x01, 0xEF,                           /* 104A add edi, ebp */
    0x80, 0xCA, 0x01,                     /* 104C or dl, 0x01 */
    0x38, 0xFD,                           /* 104F cmp ch, bh */
    0x9C,                                 /* 1051 pushfd */
    0x5D,                                 /* 1052 pop ebp */
    0x01, 0xEF,                           /* 1053 add edi, ebp */
    0x19, 0xC6,                           /* 1055 sbb esi, eax */
    0xC1, 0xC3, 0x05,                     /* 1057 rol ebx, 5 */
    0x01, 0xC2,                           /* 105A add edx, eax */
    0x83, 0xE9, 0x01,                     /* 105C sub ecx, 1 */
    0x0F, 0x85, 0xAF, 0xFF, 0xFF, 0xFF,   /* 105F jnz 1014 */
    0xF4,                                 /* 1065 hlt */
};

/* MUL r32 and ROL/ROR r32 by imm8, 1 and CL (counts 40 down to 1: 32 and
 * its multiple rotate nothing), their CF/OF read by ADC/SBB and PUSHFD and compared
 * after every budget. */
static const uint8_t mul_rotate_loop[] = {
    0xB9, 0x28, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 40 */
    0xB8, 0xB9, 0x79, 0x37, 0x9E,         /* 1005 mov eax, 0x9e3779b9 */
    0xBB, 0x15, 0x7C, 0x4A, 0x7F,         /* 100A mov ebx, 0x7f4a7c15 */
    0xBE, 0x03, 0x00, 0x00, 0x00,         /* 100F mov esi, 3 */
    0xF7, 0xE3,                           /* 1014 mul ebx */
    0x9C,                                 /* 1016 pushfd */
    0x5D,                                 /* 1017 pop ebp */
    0x01, 0xEF,                           /* 1018 add edi, ebp */
    0x11, 0xD7,                           /* 101A adc edi, edx */
    0xC1, 0xC0, 0x07,                     /* 101C rol eax, 7 */
    0x9C,                                 /* 101F pushfd */
    0x5D,                                 /* 1020 pop ebp */
    0x01, 0xEF,                           /* 1021 add edi, ebp */
    0x83, 0xD7, 0x00,                     /* 1023 adc edi, 0 */
    0xD3, 0xCB,                           /* 1026 ror ebx, cl */
    0x9C,                                 /* 1028 pushfd */
    0x5D,                                 /* 1029 pop ebp */
    0x01, 0xEF,                           /* 102A add edi, ebp */
    0x19, 0xC7,                           /* 102C sbb edi, eax */
    0xD1, 0xC6,                           /* 102E rol esi, 1 */
    0x9C,                                 /* 1030 pushfd */
    0x5D,                                 /* 1031 pop ebp */
    0x01, 0xEF,                           /* 1032 add edi, ebp */
    0xC1, 0xCA, 0x0D,                     /* 1034 ror edx, 13 */
    0x9C,                                 /* 1037 pushfd */
    0x5D,                                 /* 1038 pop ebp */
    0x01, 0xEF,                           /* 1039 add edi, ebp */
    0x01, 0xD3,                           /* 103B add ebx, edx */
    0xF7, 0xE6,                           /* 103D mul esi */
    0x31, 0xC6,                           /* 103F xor esi, eax */
    0xD3, 0xC6,                           /* 1041 rol esi, cl */
    0x9C,                                 /* 1043 pushfd */
    0x5D,                                 /* 1044 pop ebp */
    0x01, 0xEF,                           /* 1045 add edi, ebp */
    0xD1, 0xC8,                           /* 1047 ror eax, 1 */
    0x9C,                                 /* 1049 pushfd */
    0x5D,                                 /* 104A pop ebp */
    0x01, 0xEF,                           /* 104B add edi, ebp */
    0x11, 0xF7,                           /* 104D adc edi, esi */
    0x83, 0xE9, 0x01,                     /* 104F sub ecx, 1 */
    0x0F, 0x85, 0xBC, 0xFF, 0xFF, 0xFF,   /* 1052 jnz 1014 */
    0xF4,                                 /* 1058 hlt */
};

START_TEST(test_flat_memory_uops)
{
    for (uint64_t budget = 1; budget <= 5 * 19 + 6; budget++) {
        struct flat_state a = run_flat(flat_loop, sizeof flat_loop, false, budget);
        struct flat_state b = run_flat(flat_loop, sizeof flat_loop, true, budget);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(a.gpr[i] == b.gpr[i], "budget %llu: gpr %d %08x vs %08x",
                          (unsigned long long)budget, i, a.gpr[i], b.gpr[i]);
        ck_assert_msg(a.eip == b.eip, "budget %llu: eip %x vs %x",
                      (unsigned long long)budget, a.eip, b.eip);
        ck_assert_msg(a.eflags == b.eflags, "budget %llu: eflags %x vs %x",
                      (unsigned long long)budget, a.eflags, b.eflags);
        ck_assert_uint_eq(a.icount, b.icount);
        ck_assert_mem_eq(a.data, b.data, sizeof a.data);
        ck_assert_mem_eq(a.stack, b.stack, sizeof a.stack);
        ck_assert_int_eq(a.why, b.why);
    }
    struct flat_state s = run_flat(flat_loop, sizeof flat_loop, true, 1000);
    ck_assert_uint_eq(s.eip, 0x1042);   /* halted after the loop */
    ck_assert_uint_eq(s.gpr[R_ECX], 0);
}
END_TEST

static void same_flat(const uint8_t *code, size_t len, uint64_t budget)
{
    struct flat_state a = run_flat(code, len, false, budget);
    struct flat_state b = run_flat(code, len, true, budget);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(a.gpr[i] == b.gpr[i], "budget %llu: gpr %d %08x vs %08x",
                      (unsigned long long)budget, i, a.gpr[i], b.gpr[i]);
    ck_assert_msg(a.eip == b.eip, "budget %llu: eip %x vs %x", (unsigned long long)budget,
                  a.eip, b.eip);
    ck_assert_msg(a.eflags == b.eflags, "budget %llu: eflags %x vs %x",
                  (unsigned long long)budget, a.eflags, b.eflags);
    ck_assert_uint_eq(a.icount, b.icount);
    ck_assert_mem_eq(a.edge, b.edge, sizeof a.edge);
    ck_assert_mem_eq(a.stack_edge, b.stack_edge, sizeof a.stack_edge);
    ck_assert_mem_eq(a.stack, b.stack, sizeof a.stack);
    ck_assert_int_eq(a.why, b.why);
}

/* A counted loop that ends in HLT: the portable backend agrees with the
 * interpreter at every budget up to max_budget (every stop inside the
 * loop) and over the whole run, which ends halted with ECX counted down. */
static void check_counted_loop(const uint8_t *code, size_t size, uint64_t max_budget)
{
    for (uint64_t budget = 1; budget <= max_budget; budget++)
        same_flat(code, size, budget);
    same_flat(code, size, 100000);
    struct flat_state s = run_flat(code, size, true, 100000);
    ck_assert_uint_eq(s.gpr[R_ECX], 0);
    ck_assert_uint_eq(s.why, CPU_STOP_HALT);
}

/* ---- random programs of memory micro-op forms ----------------------------
 *
 * A generator of counted loops in flat 32-bit mode whose instructions are
 * the memory micro-ops' forms with random operands: every address form
 * ([EBX+disp8], [EBX+ESI*s+disp8], [ESI*s+disp32], [disp32]), loads,
 * stores, read-modify-write (the 8-bit ALU too), 8/16/32-bit, PUSH (register,
 * immediate, memory) and POP, a CALL (rel32, r32 or m32) to a subroutine
 * that returns by RET, JMP r32 or JMP m32, and a CMP with memory before a Jcc (rel8 or
 * rel32, any condition). EBX and ESI put the data around the page end at
 * 0x4000 (some accesses cross it: the TLB's direct entry misses and the
 * handler runs), ESP at or just above the page end at 0x5000 (pushes, CALL
 * and RET cross it). Each program runs against the interpreter at every
 * budget. */
struct gen {
    uint8_t code[1024];
    size_t len;
    uint32_t rng;
};

static uint32_t gen_rand(struct gen *g, uint32_t n)
{
    g->rng = g->rng * 1103515245u + 12345u;
    return (g->rng >> 8) % n;
}

static void gen_byte(struct gen *g, uint32_t v) { g->code[g->len++] = (uint8_t)v; }

static void gen_dword(struct gen *g, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        gen_byte(g, v >> (8 * i));
}

/* the destinations the random instructions may write: EAX, EDX, EBP, EDI
 * (EBX, ESI: the addresses; ECX: the loop count; ESP: the stack) */
static uint32_t gen_dst_reg(struct gen *g) { return (uint32_t[]){ 0, 2, 5, 7 }[gen_rand(g, 4)]; }
/* AL, DL, AH, DH */
static uint32_t gen_dst_reg8(struct gen *g) { return (uint32_t[]){ 0, 2, 4, 6 }[gen_rand(g, 4)]; }

/* ModRM (reg field reg) and the rest of a random memory operand */
static void gen_mem(struct gen *g, uint32_t reg)
{
    int8_t disp8 = (int8_t)(gen_rand(g, 0x48) - 8);
    switch (gen_rand(g, 4)) {
    case 0:   /* [ebx + disp8] */
        gen_byte(g, 0x40 | reg << 3 | 3);
        gen_byte(g, (uint8_t)disp8);
        break;
    case 1:   /* [ebx + esi*scale + disp8] */
        gen_byte(g, 0x40 | reg << 3 | 4);
        gen_byte(g, gen_rand(g, 4) << 6 | 6 << 3 | 3);
        gen_byte(g, (uint8_t)disp8);
        break;
    case 2:   /* [esi*scale + disp32] */
        gen_byte(g, reg << 3 | 4);
        gen_byte(g, gen_rand(g, 4) << 6 | 6 << 3 | 5);
        gen_dword(g, 0x3FC0 + gen_rand(g, 0x40));
        break;
    default:   /* [disp32] */
        gen_byte(g, reg << 3 | 5);
        gen_dword(g, 0x3FC0 + gen_rand(g, 0x80));
        break;
    }
}

/* one random instruction with a memory operand (or a PUSH/POP pair) */
static void gen_insn(struct gen *g)
{
    static const uint8_t alu_rm[] = { 0x03, 0x0B, 0x23, 0x2B, 0x33, 0x3B, 0x8B };
    static const uint8_t alu_mr[] = { 0x01, 0x09, 0x21, 0x29, 0x31, 0x39, 0x85, 0x89 };
    static const uint8_t alu_mi_ext[] = { 0, 1, 4, 5, 6, 7 };
    switch (gen_rand(g, 12)) {
    case 0: case 1:
        gen_byte(g, alu_rm[gen_rand(g, sizeof alu_rm)]);
        gen_mem(g, gen_dst_reg(g));
        break;
    case 2: case 3:   /* (the source: any register but ESP) */
        gen_byte(g, alu_mr[gen_rand(g, sizeof alu_mr)]);
        gen_mem(g, (uint32_t[]){ 0, 1, 2, 3, 5, 6, 7 }[gen_rand(g, 7)]);
        break;
    case 4:   /* ALU m32, imm32 / MOV m32, imm32 */
        if (gen_rand(g, 4) == 0) {
            gen_byte(g, 0xC7);
            gen_mem(g, 0);
        } else {
            gen_byte(g, 0x81);
            gen_mem(g, alu_mi_ext[gen_rand(g, sizeof alu_mi_ext)]);
        }
        gen_dword(g, gen_rand(g, 2) ? gen_rand(g, 0x10000) : 0xFFFFFFF0u + gen_rand(g, 0x20));
        break;
    case 5: {   /* 8-bit: MOV, the ALU, CMP, TEST with memory (r8, m8 / m8, r8 / m8, imm8) */
        static const uint8_t alu8[] = { 0x8A, 0x88, 0x02, 0x0A, 0x22, 0x2A, 0x32, 0x3A,
                                        0x00, 0x08, 0x20, 0x28, 0x30, 0x38, 0x84 };
        uint32_t pick = gen_rand(g, 4);
        if (pick == 0) {
            gen_byte(g, 0x80);
            gen_mem(g, alu_mi_ext[gen_rand(g, sizeof alu_mi_ext)]);
            gen_byte(g, gen_rand(g, 256));
        } else if (pick == 1) {
            gen_byte(g, 0xF6);   /* test m8, imm8 */
            gen_mem(g, 0);
            gen_byte(g, gen_rand(g, 256));
        } else {
            gen_byte(g, alu8[gen_rand(g, sizeof alu8)]);
            gen_mem(g, gen_dst_reg8(g));
        }
        break;
    }
    case 6:   /* MOVZX r32, m8 / m16 */
        gen_byte(g, 0x0F);
        gen_byte(g, gen_rand(g, 2) ? 0xB6 : 0xB7);
        gen_mem(g, gen_dst_reg(g));
        break;
    case 7:   /* CMP m16, r16 / r16, m16 */
        gen_byte(g, 0x66);
        gen_byte(g, gen_rand(g, 2) ? 0x39 : 0x3B);
        gen_mem(g, gen_dst_reg(g));
        break;
    case 8:   /* INC / DEC m32 */
        gen_byte(g, 0xFF);
        gen_mem(g, gen_rand(g, 2));
        break;
    case 9:   /* PUSH r32 / imm8 / imm32 / m32, a register operation, POP r32 */
        switch (gen_rand(g, 4)) {
        case 0: gen_byte(g, 0x50 + gen_rand(g, 8)); break;
        case 1: gen_byte(g, 0x6A); gen_byte(g, gen_rand(g, 256)); break;
        case 2: gen_byte(g, 0x68); gen_dword(g, gen_rand(g, 0x10000) * 0x10001u); break;
        default: gen_byte(g, 0xFF); gen_mem(g, 6); break;
        }
        gen_byte(g, 0x01);
        gen_byte(g, 0xC0 | gen_rand(g, 8) << 3 | gen_dst_reg(g));   /* add r32, r32 */
        gen_byte(g, 0x58 + gen_dst_reg(g));
        break;
    default:   /* a register operation: the flags' producers vary */
        gen_byte(g, (uint8_t[]){ 0x01, 0x29, 0x31, 0x21 }[gen_rand(g, 4)]);
        gen_byte(g, 0xC0 | gen_rand(g, 8) << 3 | gen_dst_reg(g));
        break;
    }
}

/* The loop (ECX passes), its body calling a subroutine and ending in a CMP
 * with memory and a Jcc over one more instruction; returns the number of
 * instructions one pass retires at most (for the budgets). */
static uint32_t gen_program(struct gen *g, uint32_t passes)
{
    uint32_t esp = (uint32_t[]){ 0x5000, 0x5002, 0x5004, 0x5001 }[gen_rand(g, 4)];
    g->len = 0;
    gen_byte(g, 0xB9); gen_dword(g, passes);                          /* mov ecx, passes */
    gen_byte(g, 0xBB); gen_dword(g, 0x3FC0 + gen_rand(g, 0x40));     /* mov ebx, data */
    gen_byte(g, 0xBE); gen_dword(g, gen_rand(g, 8));                  /* mov esi, index */
    gen_byte(g, 0xBC); gen_dword(g, esp);                             /* mov esp, stack */
    for (uint32_t r = 0; r < 8; r++) {
        if (r == 0 || r == 2 || r == 5 || r == 7) {
            gen_byte(g, 0xB8 + r);
            gen_dword(g, gen_rand(g, 2) ? gen_rand(g, 0x100) : 0x7FFFFFF0u + gen_rand(g, 0x20));
        }
    }
    size_t loop = g->len;
    uint32_t n1 = 1 + gen_rand(g, 6), n2 = gen_rand(g, 4), n3 = gen_rand(g, 5);
    for (uint32_t i = 0; i < n1; i++)
        gen_insn(g);
    /* call sub: rel32, through EBP or through memory (fixed up below) */
    uint32_t call_kind = gen_rand(g, 3);
    size_t call_field;
    if (call_kind == 0) {
        gen_byte(g, 0xE8);
        call_field = g->len;
        gen_dword(g, 0);
    } else if (call_kind == 1) {
        gen_byte(g, 0xBD);   /* mov ebp, sub */
        call_field = g->len;
        gen_dword(g, 0);
        gen_byte(g, 0xFF); gen_byte(g, 0xD5);   /* call ebp */
    } else {
        gen_byte(g, 0xC7); gen_byte(g, 0x05); gen_dword(g, 0x3010);   /* mov dword [0x3010], sub */
        call_field = g->len;
        gen_dword(g, 0);
        gen_byte(g, 0xFF); gen_byte(g, 0x15); gen_dword(g, 0x3010);   /* call [0x3010] */
    }
    size_t call_next = g->len;
    for (uint32_t i = 0; i < n2; i++)
        gen_insn(g);
    /* cmp with memory (r32, m32 / m32, r32 / m32, imm32), then jcc over one instruction */
    switch (gen_rand(g, 3)) {
    case 0: gen_byte(g, 0x3B); gen_mem(g, gen_dst_reg(g)); break;
    case 1: gen_byte(g, 0x39); gen_mem(g, gen_dst_reg(g)); break;
    default: gen_byte(g, 0x81); gen_mem(g, 7); gen_dword(g, gen_rand(g, 0x100)); break;
    }
    uint32_t cc = gen_rand(g, 16);
    bool near = gen_rand(g, 2);
    size_t jcc_field;
    if (near) {
        gen_byte(g, 0x0F);
        gen_byte(g, 0x80 + cc);
        jcc_field = g->len;
        gen_dword(g, 0);
    } else {
        gen_byte(g, 0x70 + cc);
        jcc_field = g->len;
        gen_byte(g, 0);
    }
    size_t skipped = g->len;
    gen_insn(g);
    uint32_t skip = (uint32_t)(g->len - skipped);
    if (near)
        memcpy(&g->code[jcc_field], &skip, 4);
    else
        g->code[jcc_field] = (uint8_t)skip;
    gen_byte(g, 0x83); gen_byte(g, 0xE9); gen_byte(g, 0x01);           /* sub ecx, 1 */
    gen_byte(g, 0x0F); gen_byte(g, 0x85);                               /* jnz loop */
    gen_dword(g, (uint32_t)(loop - (g->len + 4)));
    gen_byte(g, 0xF4);                                                  /* hlt */
    uint32_t sub = (uint32_t)g->len;
    uint32_t call_target = call_kind == 0 ? sub - (uint32_t)call_next : 0x1000 + sub;
    memcpy(&g->code[call_field], &call_target, 4);
    for (uint32_t i = 0; i < n3; i++)
        gen_insn(g);
    switch (gen_rand(g, 3)) {   /* return: RET, POP + JMP r32, or JMP m32 */
    case 0:
        gen_byte(g, 0xC3);
        break;
    case 1:
        gen_byte(g, 0x5A); gen_byte(g, 0xFF); gen_byte(g, 0xE2);   /* pop edx; jmp edx */
        break;
    default:   /* add esp, 4; jmp [esp-4] */
        gen_byte(g, 0x83); gen_byte(g, 0xC4); gen_byte(g, 0x04);
        gen_byte(g, 0xFF); gen_byte(g, 0x64); gen_byte(g, 0x24); gen_byte(g, 0xFC);
        break;
    }
    ck_assert_uint_lt(g->len, sizeof g->code);
    /* (a PUSH/POP pair is three instructions) */
    return 3 * (n1 + n2 + n3 + 1) + 12;
}

/* Under AddressSanitizer every budget's run costs ten times as much: a
 * quarter of the programs keeps the sanitizer run within the timeout. */
#if defined(__SANITIZE_ADDRESS__)
#define RANDOM_PROGRAMS 12
#else
#define RANDOM_PROGRAMS 48
#endif

START_TEST(test_random_memory_uops)
{
    struct gen g = { .rng = 0x9E3779B9u };
    for (int program = 0; program < RANDOM_PROGRAMS; program++) {
        uint32_t passes = 3;
        uint32_t per_pass = gen_program(&g, passes);
        for (uint64_t budget = 1; budget <= 12 + (uint64_t)passes * per_pass; budget++)
            same_flat(g.code, g.len, budget);
        same_flat(g.code, g.len, 100000);
        struct flat_state s = run_flat(g.code, g.len, true, 100000);
        ck_assert_uint_eq(s.why, CPU_STOP_HALT);
        ck_assert_uint_eq(s.gpr[R_ECX], 0);
    }
}
END_TEST

START_TEST(test_fused_jcc)
{
    check_counted_loop(fused_jcc, sizeof fused_jcc, 120);
}
END_TEST

START_TEST(test_alu8_uops)
{
    check_counted_loop(alu8_loop, sizeof alu8_loop, 4 + 39 * 3 + 2);
}
END_TEST

START_TEST(test_mul_rotate_uops)
{
    check_counted_loop(mul_rotate_loop, sizeof mul_rotate_loop, 4 + 36 * 3 + 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("portable");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fault_after_pure);
    tcase_add_test(tc, test_rep_in_block);
    tcase_add_test(tc, test_flat_memory_uops);
    tcase_add_test(tc, test_fused_jcc);
    tcase_add_test(tc, test_alu8_uops);
    tcase_add_test(tc, test_mul_rotate_uops);
    tcase_add_test(tc, test_random_memory_uops);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
