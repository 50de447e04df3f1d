/* tests/unit/test_sysinsn.c: the system instructions of exec_sysinsn.c and
 * the descriptor helpers of desc.c, driven through exec_table with
 * hand-built struct insn values.
 *
 * Each test sets up a CPU over 4 MiB of guest RAM in the mode it needs
 * (real, protected at some CPL, V86) by writing the registers and caches
 * directly, with a GDT at GDT_BASE, a TSS at TSS_BASE and an LDT at
 * LDT_BASE. run() executes one instruction with a setjmp harness standing
 * in for the run loop: it returns the exception vector raised (cpu_raise
 * records it and longjmps to cpu->fault_env) or NO_FAULT.
 *
 * Expectations come from the SDM's instruction pages; the descriptor-type
 * table for LAR/LSL/VERR/VERW is written out by type, independently of the
 * implementation's bit masks.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/cpuid.h"
#include "core/desc.h"
#include "core/exec.h"
#include "core/flags.h"
#include "core/ioport.h"
#include "mmu/phys.h"
#include "harness.h"

#define RAM_SIZE  (4u << 20)
#define GDT_BASE  0x10000u
#define GDT_ENTRIES 64
#define TSS_BASE  0x20000u
#define LDT_BASE  0x30000u
#define DATA_BASE 0x5000u      /* scratch memory operands (DS is flat) */
#define STACK_TOP 0x9000u

/* GDT selectors */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1B, SEL_DATA3 = 0x23,
    SEL_TSS = 0x28, SEL_LDT = 0x30, SEL_TEST = 0x38,   /* entries 7.. for per-test descriptors */
};

static struct fixture *fx;
static struct cpu *cpu;

static void setup(void)
{
    fx = fixture_new(RAM_SIZE);
    cpu = &fx->cpu;
}

static void teardown(void)
{
    fixture_free(fx);
}

/* ---- building blocks ---------------------------------------------------- */

static struct desc make_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t gdb_avl)
{
    struct desc d;
    d.lo = (limit & 0xFFFF) | (base << 16);
    d.hi = ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
           ((uint32_t)(gdb_avl & 0xF) << 20) | (base & 0xFF000000u);
    return d;
}

static void put_desc(uint32_t table, int index, struct desc d)
{
    phys_write(&fx->pm, table + index * 8, d.lo, 4);
    phys_write(&fx->pm, table + index * 8 + 4, d.hi, 4);
}

static uint32_t mem32(uint32_t addr) { return phys_read(&fx->pm, addr, 4); }
static uint16_t mem16(uint32_t addr) { return (uint16_t)phys_read(&fx->pm, addr, 2); }

static void flat(int seg, uint16_t sel, int dpl, bool code)
{
    uint16_t access = (code ? 0x9B : 0x93) | (uint16_t)(dpl << 5);
    cpu->seg[seg] = (struct seg_cache){ sel, 0, 0xFFFFFFFFu, (uint16_t)(access | SEGF_DB | SEGF_G), true };
}

static void no_ldt_no_tr(void)
{
    cpu->seg[SEG_LDTR] = (struct seg_cache){ 0, 0, 0, 0, false };
    cpu->seg[SEG_TR] = (struct seg_cache){ 0, 0, 0, 0, false };
}

/* Protected mode, flat segments, CPL cpl, IOPL iopl, IF clear. */
static void go_pmode(int cpl, int iopl)
{
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->cr4 = 0;
    cpu->eflags = 2 | ((uint32_t)iopl << 12);
    cpu->cpl = (uint8_t)cpl;
    cpu->gdtr = (struct dtr){ GDT_BASE, GDT_ENTRIES * 8 - 1 };
    put_desc(GDT_BASE, 0, (struct desc){ 0, 0 });
    put_desc(GDT_BASE, 1, make_desc(0, 0xFFFFF, 0x9A, 0xC));
    put_desc(GDT_BASE, 2, make_desc(0, 0xFFFFF, 0x92, 0xC));
    put_desc(GDT_BASE, 3, make_desc(0, 0xFFFFF, 0xFA, 0xC));
    put_desc(GDT_BASE, 4, make_desc(0, 0xFFFFF, 0xF2, 0xC));
    flat(SEG_CS, (uint16_t)((cpl ? SEL_CODE3 & ~3 : SEL_CODE0) | cpl), cpl, true);
    flat(SEG_SS, (uint16_t)((cpl ? SEL_DATA3 & ~3 : SEL_DATA0) | cpl), cpl, false);
    flat(SEG_DS, SEL_DATA3, 3, false);
    flat(SEG_ES, SEL_DATA3, 3, false);
    flat(SEG_FS, SEL_DATA3, 3, false);
    flat(SEG_GS, SEL_DATA3, 3, false);
    no_ldt_no_tr();
    cpu->gpr[R_ESP] = STACK_TOP;
    cpu->eip = 0x1000;
}

static void real_seg(int seg, uint16_t sel, int dpl, bool code)
{
    uint16_t access = (code ? 0x9B : 0x93) | (uint16_t)(dpl << 5);
    cpu->seg[seg] = (struct seg_cache){ sel, (uint32_t)sel << 4, 0xFFFF, access, true };
}

static void go_real(void)
{
    cpu->cr0 = CR0_ET;
    cpu->cr4 = 0;
    cpu->eflags = 2;
    cpu->cpl = 0;
    for (int s = 0; s < 6; s++)
        real_seg(s, 0, 0, s == SEG_CS);
    cpu->gpr[R_ESP] = STACK_TOP;
}

static void go_v86(int iopl)
{
    go_pmode(0, 0);
    cpu->eflags = 2 | FL_VM | ((uint32_t)iopl << 12);
    cpu->cpl = 3;
    for (int s = 0; s < 6; s++)
        real_seg(s, 0, 3, false);
}

/* A 32-bit TSS (busy) of the given limit with the I/O bitmap at bitmap_off,
 * loaded into TR directly; the bitmap starts all clear. */
static void setup_tss32(uint32_t limit, uint16_t bitmap_off)
{
    for (uint32_t i = 0; i < 0x2100; i += 4)
        phys_write(&fx->pm, TSS_BASE + i, 0, 4);
    phys_write(&fx->pm, TSS_BASE + 0x66, bitmap_off, 2);
    put_desc(GDT_BASE, SEL_TSS >> 3, make_desc(TSS_BASE, limit, 0x8B, 0));
    cpu->seg[SEG_TR] = (struct seg_cache){ SEL_TSS, TSS_BASE, limit, 0x8B, true };
}

static void set_bitmap_byte(uint32_t off, uint8_t v) { phys_write(&fx->pm, TSS_BASE + off, v, 1); }

/* ---- instructions ------------------------------------------------------- */

static struct insn mk(int op, int opsize)
{
    struct insn in;
    memset(&in, 0, sizeof in);
    in.op = (uint16_t)op;
    in.len = 3;
    in.opsize = (uint8_t)opsize;
    in.addrsize = 4;
    in.seg = SEG_DS;
    in.ea_base = EA_NONE;
    in.ea_index = EA_NONE;
    return in;
}

static struct insn *opnd(struct insn *in, int i, int kind, int size, int reg)
{
    in->opnd[i] = (struct opnd){ (uint8_t)kind, (uint8_t)size, (uint8_t)reg };
    if (in->nopnd < i + 1)
        in->nopnd = (uint8_t)(i + 1);
    return in;
}

static struct insn *mem_at(struct insn *in, int i, int size, uint32_t addr)
{
    opnd(in, i, OPND_MEM, size, 0);
    in->disp = (int32_t)addr;
    return in;
}

/* Execute one instruction; the vector it raised or NO_FAULT. */
static int run(const struct insn *in) { return exec_one(cpu, in); }

static bool zf(void) { return cpu_get_eflags(cpu) & FL_ZF; }

/* A one-operand instruction on a register. */
static struct insn mk_reg1(int op, int opsize, int reg)
{
    struct insn in = mk(op, opsize);
    opnd(&in, 0, OPND_REG, opsize, reg);
    return in;
}

static struct insn mk_cr(int op, int crn, int gpr)
{
    struct insn in = mk(op, 4);
    if (op == OP_MOV_TO_CR) {
        opnd(&in, 0, OPND_CREG, 4, crn);
        opnd(&in, 1, OPND_REG, 4, gpr);
    } else {
        opnd(&in, 0, OPND_REG, 4, gpr);
        opnd(&in, 1, OPND_CREG, 4, crn);
    }
    in.modrm = (uint8_t)(0xC0 | crn << 3 | gpr);
    in.has_modrm = 1;
    return in;
}

static struct insn mk_dr(int op, int drn, int gpr)
{
    struct insn in = mk(op, 4);
    if (op == OP_MOV_TO_DR) {
        opnd(&in, 0, OPND_DREG, 4, drn);
        opnd(&in, 1, OPND_REG, 4, gpr);
    } else {
        opnd(&in, 0, OPND_REG, 4, gpr);
        opnd(&in, 1, OPND_DREG, 4, drn);
    }
    in.modrm = (uint8_t)(0xC0 | drn << 3 | gpr);
    in.has_modrm = 1;
    return in;
}

/* ---- privilege: every privileged instruction at CPL 3 and in V86 -------- */

/* The privileged instructions with operands valid at CPL 0. */
static int privileged_insns(struct insn *out)
{
    int n = 0;
    struct insn in;
    in = mk(OP_LGDT, 4); mem_at(&in, 0, 6, DATA_BASE); out[n++] = in;
    in = mk(OP_LIDT, 4); mem_at(&in, 0, 6, DATA_BASE); out[n++] = in;
    out[n++] = mk_reg1(OP_LLDT, 2, R_EAX);
    out[n++] = mk_reg1(OP_LTR, 2, R_EAX);
    out[n++] = mk_reg1(OP_LMSW, 2, R_EAX);
    out[n++] = mk(OP_CLTS, 4);
    out[n++] = mk_cr(OP_MOV_TO_CR, 0, R_EAX);
    out[n++] = mk_cr(OP_MOV_FROM_CR, 0, R_EAX);
    out[n++] = mk_cr(OP_MOV_TO_CR, 3, R_EAX);
    out[n++] = mk_cr(OP_MOV_FROM_CR, 4, R_EAX);
    out[n++] = mk_dr(OP_MOV_TO_DR, 0, R_EAX);
    out[n++] = mk_dr(OP_MOV_FROM_DR, 7, R_EAX);
    out[n++] = mk(OP_INVD, 4);
    out[n++] = mk(OP_WBINVD, 4);
    in = mk(OP_INVLPG, 4); mem_at(&in, 0, 1, DATA_BASE); out[n++] = in;
    out[n++] = mk(OP_HLT, 4);
    out[n++] = mk(OP_RDMSR, 4);
    out[n++] = mk(OP_WRMSR, 4);
    out[n++] = mk(OP_SYSEXIT, 4);
    return n;
}

START_TEST(test_privileged_at_cpl3_raise_gp0)
{
    struct insn list[32];
    int n = privileged_insns(list);
    ck_assert_int_ge(n, 19);
    for (int i = 0; i < n; i++) {
        go_pmode(3, 3);   /* IOPL 3 does not help: these are CPL-0 only */
        cpu->gpr[R_EAX] = CR0_PE | CR0_ET | CR0_TS;   /* a value CR0/LMSW would accept */
        cpu->gpr[R_ECX] = 0x10;                       /* an MSR that exists */
        cpu->sysenter_cs = 0x08;
        cpu->cr0 |= CR0_TS;
        struct cpu before = *cpu;
        ck_assert_msg(run(&list[i]) == EXC_GP, "%s at CPL 3: vector %d",
                      op_info[list[i].op].mnemonic, cpu->pending_vector);
        ck_assert_uint_eq(cpu->pending_error, 0);
        ck_assert_uint_eq(cpu->cr0, before.cr0);
        ck_assert(!cpu->halted);
        ck_assert_uint_eq(cpu->gdtr.base, before.gdtr.base);
        ck_assert_uint_eq(cpu->gpr[R_EAX], before.gpr[R_EAX]);
        ck_assert_uint_eq(cpu->gpr[R_ESP], before.gpr[R_ESP]);
    }
}
END_TEST

START_TEST(test_privileged_at_cpl1_raise_gp0)
{
    struct insn list[32];
    int n = privileged_insns(list);
    for (int i = 0; i < n; i++) {
        go_pmode(1, 0);
        ck_assert_msg(run(&list[i]) == EXC_GP, "%s at CPL 1", op_info[list[i].op].mnemonic);
        ck_assert_uint_eq(cpu->pending_error, 0);
    }
}
END_TEST

START_TEST(test_privileged_in_v86)
{
    struct insn list[32];
    int n = privileged_insns(list);
    for (int i = 0; i < n; i++) {
        go_v86(3);
        int expected = (list[i].op == OP_LLDT || list[i].op == OP_LTR) ? EXC_UD : EXC_GP;
        ck_assert_msg(run(&list[i]) == expected, "%s in V86: vector %d",
                      op_info[list[i].op].mnemonic, cpu->pending_vector);
    }
}
END_TEST

START_TEST(test_privileged_allowed_at_cpl0)
{
    go_pmode(0, 0);
    struct insn in = mk(OP_HLT, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(cpu->halted);
    in = mk(OP_INVD, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    in = mk(OP_WBINVD, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    cpu->cr0 |= CR0_TS;
    in = mk(OP_CLTS, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0 & CR0_TS, 0);
    /* real mode is CPL 0 */
    go_real();
    cpu->halted = false;
    in = mk(OP_HLT, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(cpu->halted);
}
END_TEST

START_TEST(test_not_recognised_in_real_and_v86)
{
    const int ops[] = { OP_SLDT, OP_STR, OP_LLDT, OP_LTR, OP_LAR, OP_LSL, OP_VERR, OP_VERW, OP_ARPL };
    for (int mode = 0; mode < 2; mode++) {
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            if (mode == 0)
                go_real();
            else
                go_v86(3);
            struct insn in = mk(ops[i], 2);
            opnd(&in, 0, OPND_REG, 2, R_EAX);
            opnd(&in, 1, OPND_REG, 2, R_EBX);
            cpu->gpr[R_EAX] = 0x12345678;
            ck_assert_msg(run(&in) == EXC_UD, "%s in %s", op_info[ops[i]].mnemonic,
                          mode ? "V86" : "real mode");
            ck_assert_uint_eq(cpu->gpr[R_EAX], 0x12345678);
        }
    }
}
END_TEST

START_TEST(test_store_dtr_any_cpl_and_v86)
{
    go_v86(0);
    cpu->gdtr = (struct dtr){ 0x12345678, 0x0FFF };
    struct insn in = mk(OP_SGDT, 4);
    mem_at(&in, 0, 6, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(mem16(DATA_BASE), 0x0FFF);
    ck_assert_uint_eq(mem32(DATA_BASE + 2), 0x12345678);

    go_pmode(3, 0);
    cpu->idtr = (struct dtr){ 0xABCDEF01, 0x07FF };
    in = mk(OP_SIDT, 2);                 /* 16-bit: 24-bit base, sixth byte 0 */
    mem_at(&in, 0, 6, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(mem16(DATA_BASE), 0x07FF);
    ck_assert_uint_eq(mem32(DATA_BASE + 2), 0x00CDEF01);

    in = mk(OP_SGDT, 4);                 /* register operand: #UD */
    opnd(&in, 0, OPND_REG, 4, R_EAX);
    ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

START_TEST(test_load_dtr)
{
    go_real();
    phys_write(&fx->pm, DATA_BASE, 0x1234, 2);
    phys_write(&fx->pm, DATA_BASE + 2, 0xFFEEDDCC, 4);
    struct insn in = mk(OP_LGDT, 4);
    mem_at(&in, 0, 6, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gdtr.limit, 0x1234);
    ck_assert_uint_eq(cpu->gdtr.base, 0xFFEEDDCC);
    in = mk(OP_LIDT, 2);
    mem_at(&in, 0, 6, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->idtr.limit, 0x1234);
    ck_assert_uint_eq(cpu->idtr.base, 0x00EEDDCC);
    in = mk(OP_LIDT, 4);
    opnd(&in, 0, OPND_REG, 4, R_EAX);
    ck_assert_int_eq(run(&in), EXC_UD);
}
END_TEST

START_TEST(test_sldt_str_smsw_destinations)
{
    go_pmode(3, 0);
    cpu->seg[SEG_LDTR].sel = SEL_LDT;
    cpu->seg[SEG_TR].sel = SEL_TSS;
    cpu->gpr[R_EAX] = 0xFFFFFFFF;
    struct insn in = mk_reg1(OP_SLDT, 4, R_EAX);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], SEL_LDT);            /* P6: zero-extended */
    cpu->gpr[R_EBX] = 0xFFFFFFFF;
    in = mk_reg1(OP_STR, 2, R_EBX);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EBX], 0xFFFF0000u | SEL_TSS);
    phys_write(&fx->pm, DATA_BASE, 0xAAAAAAAA, 4);
    in = mk(OP_STR, 4);
    mem_at(&in, 0, 2, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(mem32(DATA_BASE), 0xAAAA0000u | SEL_TSS);   /* 16 bits at any size */

    cpu->cr0 = CR0_PE | CR0_ET | CR0_TS | CR0_CD | CR0_NE;
    in = mk_reg1(OP_SMSW, 4, R_ECX);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ECX], cpu->cr0);             /* P6: all of CR0 */
    cpu->gpr[R_EDX] = 0x55550000;
    in = mk_reg1(OP_SMSW, 2, R_EDX);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EDX], 0x55550000u | CR0_PE | CR0_ET | CR0_TS | CR0_NE);
    phys_write(&fx->pm, DATA_BASE, 0xAAAAAAAA, 4);
    in = mk(OP_SMSW, 4);
    mem_at(&in, 0, 2, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(mem32(DATA_BASE), 0xAAAA0000u | CR0_PE | CR0_ET | CR0_TS | CR0_NE);
}
END_TEST

/* ---- LLDT / LTR ---------------------------------------------------------- */

START_TEST(test_lldt)
{
    go_pmode(0, 0);
    put_desc(GDT_BASE, SEL_LDT >> 3, make_desc(LDT_BASE, 0x7F, 0x82, 0));
    put_desc(GDT_BASE, 8, make_desc(LDT_BASE, 0x7F, 0x02, 0));     /* LDT, not present */
    put_desc(GDT_BASE, 9, make_desc(LDT_BASE, 0x7F, 0x92, 0));     /* data segment */

    struct insn in = mk_reg1(OP_LLDT, 2, R_EAX);
    cpu->gpr[R_EAX] = SEL_LDT;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(cpu->seg[SEG_LDTR].valid);
    ck_assert_uint_eq(cpu->seg[SEG_LDTR].base, LDT_BASE);
    ck_assert_uint_eq(cpu->seg[SEG_LDTR].limit, 0x7F);
    ck_assert_uint_eq(cpu->seg[SEG_LDTR].sel, SEL_LDT);

    cpu->gpr[R_EAX] = 8 << 3;
    ck_assert_int_eq(run(&in), EXC_NP);
    ck_assert_uint_eq(cpu->pending_error, 8 << 3);
    cpu->gpr[R_EAX] = (9 << 3) | 3;
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 9 << 3);
    cpu->gpr[R_EAX] = SEL_LDT | 4;                                   /* TI = 1 */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_LDT | 4);
    cpu->gpr[R_EAX] = GDT_ENTRIES << 3;                              /* beyond the limit */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, GDT_ENTRIES << 3);
    ck_assert_uint_eq(cpu->seg[SEG_LDTR].base, LDT_BASE);           /* unchanged by the faults */

    cpu->gpr[R_EAX] = 3;                                             /* null: LDTR invalid */
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(!cpu->seg[SEG_LDTR].valid);
}
END_TEST

START_TEST(test_ltr_sets_busy)
{
    go_pmode(0, 0);
    put_desc(GDT_BASE, SEL_TSS >> 3, make_desc(TSS_BASE, 0x67, 0x89, 0));   /* 32-bit available */
    put_desc(GDT_BASE, 8, make_desc(TSS_BASE, 0x67, 0x8B, 0));              /* busy */
    put_desc(GDT_BASE, 9, make_desc(TSS_BASE, 0x67, 0x09, 0));              /* not present */
    put_desc(GDT_BASE, 10, make_desc(TSS_BASE, 0x2B, 0x81, 0));             /* 16-bit available */

    struct insn in = mk(OP_LTR, 2);
    phys_write(&fx->pm, DATA_BASE, SEL_TSS, 2);
    mem_at(&in, 0, 2, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->seg[SEG_TR].sel, SEL_TSS);
    ck_assert_uint_eq(cpu->seg[SEG_TR].base, TSS_BASE);
    ck_assert_uint_eq(cpu->seg[SEG_TR].limit, 0x67);
    ck_assert_uint_eq(cpu->seg[SEG_TR].flags & 0xF, DESC_TSS32_BUSY);
    ck_assert_uint_eq((mem32(GDT_BASE + SEL_TSS + 4) >> 8) & 0xF, DESC_TSS32_BUSY);

    in = mk_reg1(OP_LTR, 2, R_EAX);
    cpu->gpr[R_EAX] = SEL_TSS;                    /* now busy */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_TSS);
    cpu->gpr[R_EAX] = 8 << 3;
    ck_assert_int_eq(run(&in), EXC_GP);
    cpu->gpr[R_EAX] = 9 << 3;
    ck_assert_int_eq(run(&in), EXC_NP);
    ck_assert_uint_eq(cpu->pending_error, 9 << 3);
    cpu->gpr[R_EAX] = 0;
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    cpu->gpr[R_EAX] = SEL_DATA0;                  /* not a TSS */
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA0);
    cpu->gpr[R_EAX] = 10 << 3;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->seg[SEG_TR].flags & 0xF, DESC_TSS16_BUSY);
}
END_TEST

/* ---- LAR / LSL / VERR / VERW over descriptor types ----------------------- */

struct type_case {
    uint8_t type;          /* S:type, S in bit 4 */
    bool lar, lsl, verr, verw;
    bool conforming;       /* privilege check waived */
};

/* SDM LAR/LSL "valid descriptor types" tables; VERR/VERW pages. */
static const struct type_case type_cases[] = {
    { 0x00, false, false, false, false, false },   /* reserved */
    { 0x01, true,  true,  false, false, false },   /* 16-bit TSS available */
    { 0x02, true,  true,  false, false, false },   /* LDT */
    { 0x03, true,  true,  false, false, false },   /* 16-bit TSS busy */
    { 0x04, true,  false, false, false, false },   /* 16-bit call gate */
    { 0x05, true,  false, false, false, false },   /* task gate */
    { 0x06, false, false, false, false, false },   /* 16-bit interrupt gate */
    { 0x07, false, false, false, false, false },   /* 16-bit trap gate */
    { 0x08, false, false, false, false, false },   /* reserved */
    { 0x09, true,  true,  false, false, false },   /* 32-bit TSS available */
    { 0x0A, false, false, false, false, false },   /* reserved */
    { 0x0B, true,  true,  false, false, false },   /* 32-bit TSS busy */
    { 0x0C, true,  false, false, false, false },   /* 32-bit call gate */
    { 0x0D, false, false, false, false, false },   /* reserved */
    { 0x0E, false, false, false, false, false },   /* 32-bit interrupt gate */
    { 0x0F, false, false, false, false, false },   /* 32-bit trap gate */
    { 0x10, true,  true,  true,  false, false },   /* data read-only */
    { 0x11, true,  true,  true,  false, false },   /* data read-only, accessed */
    { 0x12, true,  true,  true,  true,  false },   /* data read/write */
    { 0x13, true,  true,  true,  true,  false },   /* data read/write, accessed */
    { 0x14, true,  true,  true,  false, false },   /* data read-only, expand-down */
    { 0x16, true,  true,  true,  true,  false },   /* data read/write, expand-down */
    { 0x18, true,  true,  false, false, false },   /* code execute-only */
    { 0x1A, true,  true,  true,  false, false },   /* code execute/read */
    { 0x1B, true,  true,  true,  false, false },   /* code execute/read, accessed */
    { 0x1C, true,  true,  false, false, true  },   /* code execute-only, conforming */
    { 0x1E, true,  true,  true,  false, true  },   /* code execute/read, conforming */
    { 0x1F, true,  true,  true,  false, true  },   /* ... accessed */
};

static struct insn mk_sel_test(int op, int opsize, uint16_t sel)
{
    cpu->gpr[R_EBX] = 0xABCD0000u | sel;
    struct insn in = mk(op, opsize);
    if (op == OP_LAR || op == OP_LSL) {
        opnd(&in, 0, OPND_REG, opsize, R_EAX);
        opnd(&in, 1, OPND_REG, 2, R_EBX);
    } else {
        opnd(&in, 0, OPND_REG, 2, R_EBX);
    }
    return in;
}

START_TEST(test_lar_lsl_verr_verw_types_and_privilege)
{
    int checked = 0;
    for (size_t t = 0; t < sizeof type_cases / sizeof type_cases[0]; t++) {
        const struct type_case *tc = &type_cases[t];
        for (int dpl = 0; dpl < 4; dpl++) {
            for (int cpl = 0; cpl < 4; cpl++) {
                for (int rpl = 0; rpl < 4; rpl++) {
                    go_pmode(cpl, 0);
                    /* present bit clear on odd DPLs: none of the four checks it */
                    uint8_t access = (uint8_t)(((dpl & 1) ? 0 : 0x80) | (dpl << 5) | tc->type);
                    struct desc d = make_desc(0x00123000, 0x12345, access, 0xC);   /* G = 1 */
                    put_desc(GDT_BASE, SEL_TEST >> 3, d);
                    uint16_t sel = (uint16_t)((SEL_TEST & ~3) | rpl);
                    bool priv = tc->conforming || (dpl >= cpl && dpl >= rpl);
                    struct {
                        int op;
                        bool type_ok;
                    } ops[] = { { OP_LAR, tc->lar }, { OP_LSL, tc->lsl },
                                { OP_VERR, tc->verr }, { OP_VERW, tc->verw } };
                    for (int k = 0; k < 4; k++) {
                        bool expect = ops[k].type_ok && priv;
                        struct insn in = mk_sel_test(ops[k].op, 4, sel);
                        cpu->gpr[R_EAX] = 0x5A5A5A5A;
                        ck_assert_int_eq(run(&in), NO_FAULT);
                        ck_assert_msg(zf() == expect, "%s type %#x dpl %d cpl %d rpl %d: ZF %d",
                                      op_info[ops[k].op].mnemonic, tc->type, dpl, cpl, rpl, zf());
                        uint32_t want = 0x5A5A5A5A;
                        if (expect && ops[k].op == OP_LAR)
                            want = d.hi & 0x00F0FF00u;
                        if (expect && ops[k].op == OP_LSL)
                            want = 0x12345FFFu;
                        ck_assert_uint_eq(cpu->gpr[R_EAX], want);
                        checked++;
                    }
                }
            }
        }
    }
    ck_assert_int_eq(checked, 28 * 64 * 4);
}
END_TEST

START_TEST(test_lar_lsl_16bit_and_edge_selectors)
{
    go_pmode(0, 0);
    put_desc(GDT_BASE, SEL_TEST >> 3, make_desc(0, 0xABCDE, 0xF3, 0x4));   /* G = 0 */
    struct insn in = mk_sel_test(OP_LAR, 2, SEL_TEST);
    cpu->gpr[R_EAX] = 0x11112222;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x1111F300);
    in = mk_sel_test(OP_LSL, 2, SEL_TEST);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x1111BCDE);
    in = mk_sel_test(OP_LSL, 4, SEL_TEST);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xABCDE);

    /* selector from memory */
    phys_write(&fx->pm, DATA_BASE, SEL_TEST, 2);
    in = mk(OP_VERW, 2);
    mem_at(&in, 0, 2, DATA_BASE);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());

    /* null, beyond the GDT limit, LDT selector without and with an LDT */
    const uint16_t bad[] = { 0, 3, GDT_ENTRIES << 3, 0xFFF8, SEL_TEST | 4 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int op = 0; op < 4; op++) {
            static const int ops[] = { OP_LAR, OP_LSL, OP_VERR, OP_VERW };
            lf_set_eager(cpu, FL_ZF);
            in = mk_sel_test(ops[op], 4, bad[i]);
            cpu->gpr[R_EAX] = 0x77;
            ck_assert_int_eq(run(&in), NO_FAULT);
            ck_assert_msg(!zf(), "%s sel %#x", op_info[ops[op]].mnemonic, bad[i]);
            ck_assert_uint_eq(cpu->gpr[R_EAX], 0x77);
        }
    }
    /* a GDT whose limit ends inside the entry */
    cpu->gdtr.limit = (uint16_t)(SEL_TEST + 6);
    in = mk_sel_test(OP_LSL, 4, SEL_TEST);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(!zf());
    cpu->gdtr.limit = (uint16_t)(SEL_TEST + 7);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());

    /* through the LDT */
    put_desc(LDT_BASE, 2, make_desc(0, 0x777, 0xF2, 0));
    cpu->seg[SEG_LDTR] = (struct seg_cache){ SEL_LDT, LDT_BASE, 0x17, 0x82, true };
    in = mk_sel_test(OP_LSL, 4, (2 << 3) | 4 | 3);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x777);
    in = mk_sel_test(OP_LSL, 4, (3 << 3) | 4);                /* beyond the LDT limit */
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(!zf());
}
END_TEST

START_TEST(test_arpl)
{
    go_pmode(3, 0);
    struct insn in = mk(OP_ARPL, 2);
    opnd(&in, 0, OPND_REG, 2, R_EAX);
    opnd(&in, 1, OPND_REG, 2, R_EBX);
    cpu->gpr[R_EAX] = 0xFFFF0010;
    cpu->gpr[R_EBX] = 0x0000001B;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xFFFF0013);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(!zf());
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xFFFF0013);
    in = mk(OP_ARPL, 2);
    mem_at(&in, 0, 2, DATA_BASE);
    opnd(&in, 1, OPND_REG, 2, R_EBX);
    phys_write(&fx->pm, DATA_BASE, 0x99990021, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert(zf());
    ck_assert_uint_eq(mem32(DATA_BASE), 0x99990023);
}
END_TEST

/* ---- I/O permission ------------------------------------------------------ */

static uint32_t test_port_read(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    return 0xC0DE0000u | (uint32_t)(port + size);
}

static void test_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    uint32_t *last = opaque;
    last[0] = port;
    last[1] = value;
    last[2] = (uint32_t)size;
}

static int io_check(uint16_t port, int size)
{
    struct insn in = mk(OP_IN, 4);
    opnd(&in, 0, OPND_REG, size, R_EAX);
    opnd(&in, 1, OPND_REG, 2, R_EDX);
    cpu->gpr[R_EDX] = port;
    return run(&in);
}

START_TEST(test_io_bitmap)
{
    go_pmode(3, 0);
    setup_tss32(0x68 + 0x2000, 0x68);           /* full bitmap plus the trailing byte */
    set_bitmap_byte(0x68 + 0x2000, 0xFF);

    ck_assert_int_eq(io_check(0x0000, 1), NO_FAULT);
    ck_assert_int_eq(io_check(0xFFFF, 1), NO_FAULT);
    set_bitmap_byte(0x68 + 0, 0x01);            /* port 0 */
    ck_assert_int_eq(io_check(0x0000, 1), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    ck_assert_int_eq(io_check(0x0001, 1), NO_FAULT);
    set_bitmap_byte(0x68 + 1, 0x01);            /* port 8 */
    ck_assert_int_eq(io_check(0x0007, 1), NO_FAULT);
    ck_assert_int_eq(io_check(0x0007, 2), EXC_GP);   /* straddles bits 7 and 8 */
    ck_assert_int_eq(io_check(0x0005, 4), EXC_GP);   /* 5..8 */
    ck_assert_int_eq(io_check(0x0004, 4), NO_FAULT); /* 4..7 */
    ck_assert_int_eq(io_check(0x0009, 4), NO_FAULT);
    set_bitmap_byte(0x68 + 0x3FC / 8 + 1, 0x01);     /* port 0x400 */
    ck_assert_int_eq(io_check(0x3FC, 4), NO_FAULT);
    ck_assert_int_eq(io_check(0x3FD, 4), EXC_GP);
    ck_assert_int_eq(io_check(0x3FF, 2), EXC_GP);
    /* the last port: the bitmap's second byte is the trailing 0xFF */
    ck_assert_int_eq(io_check(0xFFFF, 2), EXC_GP);
    ck_assert_int_eq(io_check(0xFFFE, 2), NO_FAULT);

    /* CPL <= IOPL: no bitmap at all */
    cpu->eflags |= FL_IOPL;
    ck_assert_int_eq(io_check(0x0000, 1), NO_FAULT);
    /* V86 consults the bitmap whatever IOPL is */
    go_v86(3);
    setup_tss32(0x68 + 0x2000, 0x68);
    set_bitmap_byte(0x68, 0x01);
    ck_assert_int_eq(io_check(0x0000, 1), EXC_GP);
    ck_assert_int_eq(io_check(0x0001, 1), NO_FAULT);
    /* real mode never checks */
    go_real();
    ck_assert_int_eq(io_check(0x0000, 1), NO_FAULT);
}
END_TEST

START_TEST(test_io_bitmap_limit)
{
    go_pmode(3, 0);
    /* bitmap covers ports 0..0x7F (16 bytes at 0x68..0x77); limit 0x78 */
    setup_tss32(0x78, 0x68);
    ck_assert_int_eq(io_check(0x77, 1), NO_FAULT);   /* bytes 0x76, 0x77 */
    ck_assert_int_eq(io_check(0x7F, 1), NO_FAULT);   /* bytes 0x77, 0x78: 0x78 = limit */
    ck_assert_int_eq(io_check(0x80, 1), EXC_GP);     /* bytes 0x78, 0x79 */
    ck_assert_int_eq(io_check(0x3F8, 1), EXC_GP);
    /* bitmap offset at or beyond the limit: every port denied */
    setup_tss32(0x67, 0x68);
    ck_assert_int_eq(io_check(0, 1), EXC_GP);
    setup_tss32(0x2068, 0xFFFF);
    ck_assert_int_eq(io_check(0, 1), EXC_GP);
    /* a 16-bit TSS has no bitmap; no TR at all likewise */
    setup_tss32(0x2068, 0x68);
    cpu->seg[SEG_TR].flags = 0x83;
    ck_assert_int_eq(io_check(0, 1), EXC_GP);
    cpu->seg[SEG_TR] = (struct seg_cache){ 0, 0, 0, 0, false };
    ck_assert_int_eq(io_check(0, 1), EXC_GP);
}
END_TEST

START_TEST(test_in_out)
{
    uint32_t last[3] = { 0, 0, 0 };
    static const struct ioport_ops ops = { test_port_read, test_port_write };
    ck_assert_int_eq(ioport_register(&fx->io, 0x300, 8, &ops, last), 0);
    go_pmode(0, 0);
    cpu->gpr[R_EAX] = 0x11223344;
    ck_assert_int_eq(io_check(0x301, 1), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x11223300u | ((0x302) & 0xFF));
    ck_assert_int_eq(io_check(0x300, 2), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x11220302);
    ck_assert_int_eq(io_check(0x300, 4), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xC0DE0304);

    struct insn in = mk(OP_OUT, 4);
    opnd(&in, 0, OPND_IMM, 1, 0);
    opnd(&in, 1, OPND_REG, 2, R_EAX);
    in.imm = 0x305;                      /* imm8: only 0x05 counts */
    cpu->gpr[R_EAX] = 0xAABBCCDD;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(last[2], 0);       /* port 5 is nobody's */
    in.imm = 0x05;
    opnd(&in, 0, OPND_REG, 2, R_EDX);
    cpu->gpr[R_EDX] = 0x306;
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(last[0], 0x306);
    ck_assert_uint_eq(last[1], 0xCCDD);
    ck_assert_uint_eq(last[2], 2);

    /* denied OUT writes nothing */
    go_pmode(3, 0);
    setup_tss32(0x68 + 0x80, 0x68);
    set_bitmap_byte(0x68 + 0x300 / 8, 0x40);      /* port 0x306 */
    last[2] = 0;
    ck_assert_int_eq(run(&in), EXC_GP);
    ck_assert_uint_eq(last[2], 0);
}
END_TEST

/* ---- EFLAGS: PUSHF / POPF / CLI / STI ------------------------------------ */

static int popf(int opsize, uint32_t value)
{
    cpu->gpr[R_ESP] = STACK_TOP - 4;
    phys_write(&fx->pm, STACK_TOP - 4, value, 4);
    struct insn in = mk(OP_POPF, opsize);
    return run(&in);
}

static int pushf(int opsize)
{
    cpu->gpr[R_ESP] = STACK_TOP;
    phys_write(&fx->pm, STACK_TOP - 4, 0xEEEEEEEE, 4);
    struct insn in = mk(OP_PUSHF, opsize);
    return run(&in);
}

#define ALL_FLAGS 0x003F7FD7u

START_TEST(test_popf_cpl0)
{
    go_pmode(0, 0);
    ck_assert_int_eq(popf(4, 0xFFFFFFFF), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP);
    /* everything but VM, RF, VIF, VIP and the reserved bits */
    ck_assert_uint_eq(cpu_get_eflags(cpu), (ALL_FLAGS & ~(FL_VM | FL_RF | FL_VIF | FL_VIP)) | 2);
    ck_assert_int_eq(popf(4, 0), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2);
    /* RF is cleared by the 32-bit form; VIF/VIP kept */
    cpu->eflags |= FL_RF | FL_VIF;
    ck_assert_int_eq(popf(4, FL_RF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_VIF);
    /* the 16-bit form leaves the upper half */
    cpu->eflags = 2 | FL_AC | FL_ID | FL_RF;
    ck_assert_int_eq(popf(2, 0xFFFFFFFF), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP - 2);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_AC | FL_ID | FL_RF | (0x7FD7 & ALL_FLAGS));
    /* real mode: like CPL 0 */
    go_real();
    ck_assert_int_eq(popf(4, FL_IF | FL_IOPL | FL_VM), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IF | FL_IOPL);
}
END_TEST

START_TEST(test_popf_cpl3)
{
    /* CPL 3 > IOPL 0: IF and IOPL silently kept */
    go_pmode(3, 0);
    ck_assert_int_eq(popf(4, 0xFFFFFFFF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & (FL_IF | FL_IOPL), 0);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & FL_ARITH, FL_ARITH);
    ck_assert(cpu_get_eflags(cpu) & FL_DF);
    cpu->eflags |= FL_IF;
    ck_assert_int_eq(popf(4, 0), NO_FAULT);
    ck_assert(cpu->eflags & FL_IF);
    /* CPL 3 with IOPL 3: IF follows, IOPL still kept */
    go_pmode(3, 3);
    ck_assert_int_eq(popf(4, FL_IF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IF | FL_IOPL);
    ck_assert_int_eq(popf(2, 0), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IOPL);
    /* CPL 1, IOPL 2: IF follows, IOPL kept */
    go_pmode(1, 2);
    ck_assert_int_eq(popf(4, FL_IF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IF | (2u << 12));
    /* CPL 2, IOPL 1: neither */
    go_pmode(2, 1);
    ck_assert_int_eq(popf(4, FL_IF | FL_IOPL | FL_CF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_CF | (1u << 12));
}
END_TEST

START_TEST(test_pushf_popf_v86)
{
    go_v86(0);
    cpu->gpr[R_ESP] = STACK_TOP;
    ck_assert_int_eq(pushf(4), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP);
    ck_assert_int_eq(popf(2, 0), EXC_GP);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP - 4);
    ck_assert(cpu->eflags & FL_VM);

    go_v86(3);
    cpu->eflags |= FL_RF | FL_CF;
    ck_assert_int_eq(pushf(4), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP - 4);
    ck_assert_uint_eq(mem32(STACK_TOP - 4), 2 | FL_CF | FL_IOPL);   /* VM and RF cleared in the image */
    ck_assert_int_eq(pushf(2), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK_TOP - 2);
    ck_assert_uint_eq(mem32(STACK_TOP - 4), 0x3003EEEEu);   /* 2 bytes pushed */
    ck_assert_uint_eq(mem16(STACK_TOP - 2), 2 | FL_CF | FL_IOPL);

    /* IOPL 3: IF follows; IOPL and VM kept */
    ck_assert_int_eq(popf(4, FL_IF | FL_RF), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IF | FL_IOPL | FL_VM);
    ck_assert_int_eq(popf(2, 0), NO_FAULT);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_IOPL | FL_VM);
}
END_TEST

START_TEST(test_pushf_pm)
{
    go_pmode(3, 0);
    cpu->eflags |= FL_RF | FL_AC | FL_DF;
    ck_assert_int_eq(pushf(4), NO_FAULT);
    ck_assert_uint_eq(mem32(STACK_TOP - 4), 2 | FL_AC | FL_DF);
}
END_TEST

START_TEST(test_cli_sti)
{
    struct insn cli = mk(OP_CLI, 4), sti = mk(OP_STI, 4);
    go_pmode(3, 0);
    ck_assert_int_eq(run(&sti), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    ck_assert_int_eq(run(&cli), EXC_GP);
    go_pmode(2, 2);
    cpu->irq_inhibit = 0;
    ck_assert_int_eq(run(&sti), NO_FAULT);
    ck_assert(cpu->eflags & FL_IF);
    ck_assert_uint_eq(cpu->irq_inhibit, 1);      /* IF 0 -> 1: shadow */
    cpu->irq_inhibit = 0;
    ck_assert_int_eq(run(&sti), NO_FAULT);
    ck_assert_uint_eq(cpu->irq_inhibit, 0);      /* already set: none */
    ck_assert_int_eq(run(&cli), NO_FAULT);
    ck_assert(!(cpu->eflags & FL_IF));
    go_v86(2);
    ck_assert_int_eq(run(&sti), EXC_GP);
    ck_assert_int_eq(run(&cli), EXC_GP);
    go_v86(3);
    ck_assert_int_eq(run(&sti), NO_FAULT);
    ck_assert(cpu->eflags & FL_IF);
    go_real();
    ck_assert_int_eq(run(&sti), NO_FAULT);
    ck_assert_int_eq(run(&cli), NO_FAULT);
    ck_assert(!(cpu->eflags & FL_IF));
}
END_TEST

/* ---- CPUID, TSC, PMC, MSRs ------------------------------------------------ */

static void cpuid(uint32_t leaf, uint32_t out[4])
{
    cpu->gpr[R_EAX] = leaf;
    cpu->gpr[R_ECX] = 0;
    struct insn in = mk(OP_CPUID, 4);
    ck_assert_int_eq(run(&in), NO_FAULT);
    out[0] = cpu->gpr[R_EAX];
    out[1] = cpu->gpr[R_EBX];
    out[2] = cpu->gpr[R_ECX];
    out[3] = cpu->gpr[R_EDX];
}

START_TEST(test_cpuid)
{
    go_pmode(3, 0);
    uint32_t r[4];
    cpuid(0, r);
    ck_assert_uint_eq(r[0], 2);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    ck_assert_str_eq(vendor, "GenuineIntel");
    cpuid(1, r);
    ck_assert_uint_eq(r[0], 0x619);
    ck_assert_uint_eq(r[0], CPU_SIGNATURE);
    ck_assert_uint_eq((r[0] >> 8) & 0xF, 6);
    ck_assert_uint_eq(r[1], 0);
    ck_assert_uint_eq(r[2], 0);
    /* FPU PSE TSC MSR CX8 SEP PGE CMOV, nothing else */
    ck_assert_uint_eq(r[3], 0x0000A939);
    ck_assert_uint_eq(r[3] & (CPUID_VME | CPUID_PAE | CPUID_APIC | CPUID_MMX | CPUID_MTRR), 0);
    uint32_t leaf2[4];
    cpuid(2, leaf2);
    ck_assert_uint_eq(leaf2[0] & 0xFF, 1);
    ck_assert_uint_eq(leaf2[0], 0x03020101);
    cpuid(3, r);
    ck_assert_mem_eq(r, leaf2, sizeof r);
    cpuid(0x80000000u, r);
    ck_assert_mem_eq(r, leaf2, sizeof r);
    ck_assert_uint_ne(r[0] & 0xFFFF0000u, 0x80000000u);   /* no extended leaves */
}
END_TEST

START_TEST(test_rdtsc_rdpmc)
{
    struct insn rdtsc = mk(OP_RDTSC, 4), rdpmc = mk(OP_RDPMC, 4);
    go_pmode(3, 0);
    cpu->tsc_offset = 0x123456789ull;
    ck_assert_int_eq(run(&rdtsc), NO_FAULT);
    uint64_t tsc = ((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX];
    ck_assert_uint_ge(tsc, 0x123456789ull);
    ck_assert_uint_lt(tsc - 0x123456789ull, 1u << 30);
    cpu->cr4 = CR4_TSD;
    ck_assert_int_eq(run(&rdtsc), EXC_GP);
    go_v86(3);
    cpu->cr4 = CR4_TSD;
    ck_assert_int_eq(run(&rdtsc), EXC_GP);
    go_pmode(0, 0);
    cpu->cr4 = CR4_TSD;
    ck_assert_int_eq(run(&rdtsc), NO_FAULT);

    go_pmode(3, 0);
    cpu->gpr[R_ECX] = 0;
    ck_assert_int_eq(run(&rdpmc), EXC_GP);
    cpu->cr4 = CR4_PCE;
    cpu->gpr[R_EAX] = cpu->gpr[R_EDX] = 0xFFFFFFFF;
    ck_assert_int_eq(run(&rdpmc), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX] | cpu->gpr[R_EDX], 0);
    cpu->gpr[R_ECX] = 1;
    ck_assert_int_eq(run(&rdpmc), NO_FAULT);
    cpu->gpr[R_ECX] = 2;
    ck_assert_int_eq(run(&rdpmc), EXC_GP);
    go_pmode(0, 0);
    cpu->gpr[R_ECX] = 0;
    ck_assert_int_eq(run(&rdpmc), NO_FAULT);
}
END_TEST

static int msr_access(int op, uint32_t index, uint32_t edx, uint32_t eax)
{
    cpu->gpr[R_ECX] = index;
    cpu->gpr[R_EDX] = edx;
    cpu->gpr[R_EAX] = eax;
    struct insn in = mk(op, 4);
    return run(&in);
}

START_TEST(test_msrs)
{
    go_pmode(0, 0);
    for (uint32_t msr = 0x174; msr <= 0x176; msr++) {
        ck_assert_int_eq(msr_access(OP_WRMSR, msr, 0, 0x1000 + msr), NO_FAULT);
        ck_assert_int_eq(msr_access(OP_RDMSR, msr, 0xFFFFFFFF, 0), NO_FAULT);
        ck_assert_uint_eq(cpu->gpr[R_EAX], 0x1000 + msr);
        ck_assert_uint_eq(cpu->gpr[R_EDX], 0);
    }
    ck_assert_uint_eq(cpu->sysenter_cs, 0x1174);
    ck_assert_uint_eq(cpu->sysenter_esp, 0x1175);
    ck_assert_uint_eq(cpu->sysenter_eip, 0x1176);

    /* TSC: P6 writes the low half and clears the high half */
    ck_assert_int_eq(msr_access(OP_WRMSR, 0x10, 0x12345678, 0x9ABCDEF0), NO_FAULT);
    ck_assert_int_eq(msr_access(OP_RDMSR, 0x10, 0, 0), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EDX], 0);
    ck_assert_uint_ge(cpu->gpr[R_EAX], 0x9ABCDEF0);
    ck_assert_uint_lt(cpu->gpr[R_EAX] - 0x9ABCDEF0u, 1u << 20);
    struct insn rdtsc = mk(OP_RDTSC, 4);
    ck_assert_int_eq(run(&rdtsc), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EDX], 0);
    ck_assert_uint_ge(cpu->gpr[R_EAX], 0x9ABCDEF0);

    ck_assert_int_eq(msr_access(OP_RDMSR, 0x8B, 0xFFFFFFFF, 0xFFFFFFFF), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX] | cpu->gpr[R_EDX], 0);
    ck_assert_int_eq(msr_access(OP_WRMSR, 0x8B, 0, 0), NO_FAULT);
    ck_assert_int_eq(msr_access(OP_RDMSR, 0x17, 0, 0), NO_FAULT);
    ck_assert_int_eq(msr_access(OP_WRMSR, 0x17, 0, 0), EXC_GP);

    /* P6 performance counters: event selects kept as written, counters
     * 40 bits wide with bit 31 sign-extended on write */
    ck_assert_int_eq(msr_access(OP_WRMSR, 0x187, 0, 0x00430076), NO_FAULT);
    ck_assert_int_eq(msr_access(OP_RDMSR, 0x187, 0xFFFFFFFF, 0), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x00430076);
    ck_assert_int_eq(msr_access(OP_WRMSR, 0xC1, 0x12, 0x80000001u), NO_FAULT);
    ck_assert_int_eq(msr_access(OP_RDMSR, 0xC1, 0, 0), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0x80000001u);
    ck_assert_uint_eq(cpu->gpr[R_EDX], 0xFF);

    /* not on this CPU: APIC base, MTRRs, MCG, EFER */
    const uint32_t absent[] = { 0x1B, 0xFE, 0x200, 0x2FF, 0x179, 0xC0000080u, 0x11 };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        cpu->gpr[R_EAX] = 0x55;
        ck_assert_int_eq(msr_access(OP_RDMSR, absent[i], 0, 0x55), EXC_GP);
        ck_assert_uint_eq(cpu->pending_error, 0);
        ck_assert_uint_eq(cpu->gpr[R_EAX], 0x55);
        ck_assert_int_eq(msr_access(OP_WRMSR, absent[i], 0, 0), EXC_GP);
    }
}
END_TEST

/* ---- SYSENTER / SYSEXIT -------------------------------------------------- */

START_TEST(test_sysenter_sysexit)
{
    struct insn enter = mk(OP_SYSENTER, 4), leave = mk(OP_SYSEXIT, 4);
    go_pmode(3, 0);
    cpu->sysenter_cs = 0;
    ck_assert_int_eq(run(&enter), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    cpu->sysenter_cs = 3;                       /* [15:2] = 0 */
    ck_assert_int_eq(run(&enter), EXC_GP);
    go_real();
    cpu->sysenter_cs = 0x08;
    ck_assert_int_eq(run(&enter), EXC_GP);

    go_pmode(3, 0);
    cpu->sysenter_cs = 0x0B;                    /* RPL bits are dropped */
    cpu->sysenter_esp = 0x7000;
    cpu->sysenter_eip = 0xC0001000;
    cpu->eflags |= FL_IF | FL_RF | FL_CF;
    ck_assert_int_eq(run(&enter), NO_FAULT);
    ck_assert_uint_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].sel, 0x08);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0);
    ck_assert_uint_eq(cpu->seg[SEG_CS].limit, 0xFFFFFFFF);
    ck_assert_uint_eq(cpu->seg[SEG_CS].flags, 0xC09B);
    ck_assert_uint_eq(cpu->seg[SEG_SS].sel, 0x10);
    ck_assert_uint_eq(cpu->seg[SEG_SS].flags, 0xC093);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x7000);
    ck_assert_uint_eq(cpu->next_eip, 0xC0001000);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2 | FL_CF);

    cpu->gpr[R_ECX] = 0x8000;
    cpu->gpr[R_EDX] = 0x0804800;
    ck_assert_int_eq(run(&leave), NO_FAULT);
    ck_assert_uint_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->seg[SEG_CS].sel, 0x1B);
    ck_assert_uint_eq(cpu->seg[SEG_CS].flags, 0xC0FB);
    ck_assert_uint_eq(cpu->seg[SEG_SS].sel, 0x23);
    ck_assert_uint_eq(cpu->seg[SEG_SS].flags, 0xC0F3);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x8000);
    ck_assert_uint_eq(cpu->next_eip, 0x0804800);
    /* SYSEXIT from CPL 3 */
    ck_assert_int_eq(run(&leave), EXC_GP);
    /* SYSENTER from V86 clears VM */
    go_v86(0);
    cpu->sysenter_cs = 0x08;
    ck_assert_int_eq(run(&enter), NO_FAULT);
    ck_assert(!(cpu->eflags & FL_VM));
    ck_assert_uint_eq(cpu->cpl, 0);
}
END_TEST

/* ---- control and debug registers ----------------------------------------- */

static int mov_to_cr(int crn, uint32_t value)
{
    cpu->gpr[R_EBX] = value;
    struct insn in = mk_cr(OP_MOV_TO_CR, crn, R_EBX);
    return run(&in);
}

static uint32_t mov_from_cr(int crn)
{
    cpu->gpr[R_ESI] = 0xDEADBEEF;
    struct insn in = mk_cr(OP_MOV_FROM_CR, crn, R_ESI);
    ck_assert_int_eq(run(&in), NO_FAULT);
    return cpu->gpr[R_ESI];
}

START_TEST(test_cr0)
{
    go_real();
    cpu->cr0 = 0x60000010;
    ck_assert_int_eq(mov_to_cr(0, CR0_PG), EXC_GP);                 /* PG without PE */
    ck_assert_uint_eq(cpu->pending_error, 0);
    ck_assert_uint_eq(cpu->cr0, 0x60000010);
    ck_assert_int_eq(mov_to_cr(0, CR0_NW), EXC_GP);                 /* NW without CD */
    ck_assert_int_eq(mov_to_cr(0, CR0_NW | CR0_CD), NO_FAULT);
    ck_assert_int_eq(mov_to_cr(0, 0), NO_FAULT);
    ck_assert_uint_eq(mov_from_cr(0), CR0_ET);                      /* ET hardwired */
    /* reserved bits are ignored, not faulted */
    ck_assert_int_eq(mov_to_cr(0, 0x1FFAFFC0u | CR0_PE), NO_FAULT);
    ck_assert_uint_eq(mov_from_cr(0), CR0_PE | CR0_ET);
    ck_assert_int_eq(mov_to_cr(0, 0xFFFFFFFF), NO_FAULT);
    ck_assert_uint_eq(mov_from_cr(0), 0xE005003F);
    cpu->cpl = 0;
    ck_assert_int_eq(mov_to_cr(2, 0xCAFEF00D), NO_FAULT);
    ck_assert_uint_eq(mov_from_cr(2), 0xCAFEF00D);

    /* CR1, CR5-CR7: #UD, before the privilege check */
    const int bad[] = { 1, 5, 6, 7 };
    for (int i = 0; i < 4; i++) {
        go_pmode(0, 0);
        ck_assert_int_eq(mov_to_cr(bad[i], 0), EXC_UD);
        struct insn in = mk_cr(OP_MOV_FROM_CR, bad[i], R_EAX);
        ck_assert_int_eq(run(&in), EXC_UD);
        go_pmode(3, 0);
        ck_assert_int_eq(mov_to_cr(bad[i], 0), EXC_UD);
    }
}
END_TEST

START_TEST(test_cr4_reserved_bits)
{
    go_pmode(0, 0);
    const uint32_t allowed[] = { CR4_TSD, CR4_PSE, CR4_PGE, CR4_PCE };
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(mov_to_cr(4, allowed[i]), NO_FAULT);
        ck_assert_uint_eq(mov_from_cr(4), allowed[i]);
    }
    ck_assert_int_eq(mov_to_cr(4, 0x194), NO_FAULT);
    ck_assert_uint_eq(cpu->cr4, 0x194);
    /* VME, PVI, DE, PAE, MCE (features not reported) and truly reserved bits */
    const uint32_t reserved[] = { CR4_VME, CR4_PVI, CR4_DE, CR4_PAE, CR4_MCE, 1u << 9, 1u << 10,
                                  1u << 13, 1u << 31 };
    for (int i = 0; i < 9; i++) {
        ck_assert_int_eq(mov_to_cr(4, 0x194 | reserved[i]), EXC_GP);
        ck_assert_uint_eq(cpu->pending_error, 0);
        ck_assert_uint_eq(cpu->cr4, 0x194);
    }
}
END_TEST

START_TEST(test_lmsw_clts_smsw)
{
    go_real();
    cpu->cr0 = CR0_ET | CR0_NE | CR0_CD;
    struct insn lmsw = mk_reg1(OP_LMSW, 2, R_EAX);
    cpu->gpr[R_EAX] = 0xFFFF;                      /* only the low four bits load */
    ck_assert_int_eq(run(&lmsw), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0, CR0_ET | CR0_NE | CR0_CD | 0xF);
    cpu->gpr[R_EAX] = 0;                           /* cannot clear PE */
    ck_assert_int_eq(run(&lmsw), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0, CR0_ET | CR0_NE | CR0_CD | CR0_PE);
    /* memory operand */
    phys_write(&fx->pm, DATA_BASE, CR0_TS | CR0_MP, 2);
    lmsw = mk(OP_LMSW, 2);
    mem_at(&lmsw, 0, 2, DATA_BASE);
    cpu->cpl = 0;
    ck_assert_int_eq(run(&lmsw), NO_FAULT);
    ck_assert_uint_eq(cpu->cr0, CR0_ET | CR0_NE | CR0_CD | CR0_PE | CR0_TS | CR0_MP);
}
END_TEST

START_TEST(test_debug_registers)
{
    go_pmode(0, 0);
    struct insn to, from;
    for (int n = 0; n < 4; n++) {
        cpu->gpr[R_EAX] = 0x1000u * (n + 1);
        to = mk_dr(OP_MOV_TO_DR, n, R_EAX);
        ck_assert_int_eq(run(&to), NO_FAULT);
        ck_assert_uint_eq(cpu->dr[n], 0x1000u * (n + 1));
    }
    cpu->gpr[R_EAX] = 0;
    to = mk_dr(OP_MOV_TO_DR, 6, R_EAX);
    ck_assert_int_eq(run(&to), NO_FAULT);
    ck_assert_uint_eq(cpu->dr[6], 0xFFFF0FF0);
    cpu->gpr[R_EAX] = 0xFFFFFFFF;
    ck_assert_int_eq(run(&to), NO_FAULT);
    ck_assert_uint_eq(cpu->dr[6], 0xFFFFEFFF);
    cpu->gpr[R_EAX] = 0;
    to = mk_dr(OP_MOV_TO_DR, 7, R_EAX);
    ck_assert_int_eq(run(&to), NO_FAULT);
    ck_assert_uint_eq(cpu->dr[7], 0x400);

    /* DR4/DR5 alias DR6/DR7 with CR4.DE clear */
    cpu->gpr[R_EAX] = 0x3;
    to = mk_dr(OP_MOV_TO_DR, 5, R_EAX);
    ck_assert_int_eq(run(&to), NO_FAULT);
    ck_assert_uint_eq(cpu->dr[7], 0x403);
    from = mk_dr(OP_MOV_FROM_DR, 4, R_ECX);
    ck_assert_int_eq(run(&from), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ECX], cpu->dr[6]);
    /* ... and #UD with CR4.DE set */
    cpu->cr4 = CR4_DE;
    ck_assert_int_eq(run(&from), EXC_UD);
    ck_assert_int_eq(run(&to), EXC_UD);
    from = mk_dr(OP_MOV_FROM_DR, 7, R_ECX);
    ck_assert_int_eq(run(&from), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 0x403);

    /* DR7.GD: #DB before the access, BD set, GD cleared for the handler */
    cpu->dr[7] = 0x400 | (1u << 13);
    cpu->dr[6] = 0xFFFF0FF0;
    cpu->gpr[R_ECX] = 0x77;
    ck_assert_int_eq(run(&from), EXC_DB);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 0x77);
    ck_assert_uint_eq(cpu->dr[6] & (1u << 13), 1u << 13);
    ck_assert_uint_eq(cpu->dr[7] & (1u << 13), 0);
    ck_assert_int_eq(run(&from), NO_FAULT);
}
END_TEST

/* ---- paging: CR3 writes and INVLPG make new mappings visible ------------- */

#define PD_BASE 0x100000u
#define PT_BASE 0x101000u

static void map_page(uint32_t lin, uint32_t phys)
{
    phys_write(&fx->pm, PT_BASE + ((lin >> 12) & 0x3FF) * 4, phys | 3, 4);
}

START_TEST(test_tlb_flushes)
{
    go_pmode(0, 0);
    phys_write(&fx->pm, PD_BASE, PT_BASE | 3, 4);
    for (uint32_t p = 0; p < 0x400000; p += 0x1000)
        map_page(p, p);
    map_page(0x200000, 0x300000);
    phys_write(&fx->pm, 0x300000, 0x11111111, 4);
    phys_write(&fx->pm, 0x301000, 0x22222222, 4);
    ck_assert_int_eq(mov_to_cr(3, PD_BASE), NO_FAULT);
    ck_assert_uint_eq(mov_from_cr(3), PD_BASE);
    ck_assert_int_eq(mov_to_cr(0, CR0_PE | CR0_PG), NO_FAULT);
    ck_assert_uint_eq(cpu_lin_read32(cpu, 0x200000, MEM_READ | MEM_SYSTEM), 0x11111111);

    /* INVLPG: [DS:EA] with a non-zero base */
    map_page(0x200000, 0x301000);
    cpu->seg[SEG_DS].base = 0x100000;
    struct insn in = mk(OP_INVLPG, 4);
    mem_at(&in, 0, 1, 0x100ABC);
    ck_assert_int_eq(run(&in), NO_FAULT);
    ck_assert_uint_eq(cpu_lin_read32(cpu, 0x200000, MEM_READ | MEM_SYSTEM), 0x22222222);
    in = mk(OP_INVLPG, 4);
    opnd(&in, 0, OPND_REG, 4, R_EAX);
    ck_assert_int_eq(run(&in), EXC_UD);

    /* CR3 write */
    map_page(0x200000, 0x300000);
    ck_assert_int_eq(mov_to_cr(3, PD_BASE), NO_FAULT);
    ck_assert_uint_eq(cpu_lin_read32(cpu, 0x200000, MEM_READ | MEM_SYSTEM), 0x11111111);

    /* CR0.WP change */
    map_page(0x200000, 0x301000);
    ck_assert_int_eq(mov_to_cr(0, CR0_PE | CR0_PG | CR0_WP), NO_FAULT);
    ck_assert_uint_eq(cpu_lin_read32(cpu, 0x200000, MEM_READ | MEM_SYSTEM), 0x22222222);

    /* CR4.PGE change */
    map_page(0x200000, 0x300000);
    ck_assert_int_eq(mov_to_cr(4, CR4_PGE), NO_FAULT);
    ck_assert_uint_eq(cpu_lin_read32(cpu, 0x200000, MEM_READ | MEM_SYSTEM), 0x11111111);
}
END_TEST

/* ---- WAIT, UD2, RSM ------------------------------------------------------ */

START_TEST(test_wait_ud2_rsm)
{
    struct insn wait = mk(OP_WAIT, 4);
    go_pmode(3, 0);
    cpu->fpu.sw = 0;
    ck_assert_int_eq(run(&wait), NO_FAULT);
    cpu->cr0 |= CR0_TS;                           /* TS alone: no #NM for WAIT */
    ck_assert_int_eq(run(&wait), NO_FAULT);
    cpu->cr0 |= CR0_MP;
    ck_assert_int_eq(run(&wait), EXC_NM);
    cpu->cr0 &= ~(uint32_t)(CR0_MP | CR0_TS);
    cpu->fpu.sw = 0x0081;                         /* IE pending, ES */
    cpu->cr0 |= CR0_NE;
    ck_assert_int_eq(run(&wait), EXC_MF);

    struct insn ud2 = mk(OP_UD2, 4), rsm = mk(OP_RSM, 4);
    ck_assert_int_eq(run(&ud2), EXC_UD);
    ck_assert_int_eq(run(&rsm), EXC_UD);
    go_pmode(0, 0);
    ck_assert_int_eq(run(&rsm), EXC_UD);
}
END_TEST

/* ---- desc.c -------------------------------------------------------------- */

START_TEST(test_desc_helpers)
{
    go_pmode(0, 0);
    struct desc d = make_desc(0x12345678, 0xABCDE, 0xF2, 0xC);
    put_desc(GDT_BASE, 9, d);
    struct desc got;
    ck_assert(desc_fetch(cpu, 9 << 3, &got));
    ck_assert_uint_eq(got.lo, d.lo);
    ck_assert_uint_eq(got.hi, d.hi);
    struct seg_cache sc;
    seg_cache_from_desc(&sc, (9 << 3) | 3, got);
    ck_assert_uint_eq(sc.sel, (9 << 3) | 3);
    ck_assert_uint_eq(sc.base, 0x12345678);
    ck_assert_uint_eq(sc.limit, 0xABCDEFFF);
    ck_assert_uint_eq(sc.flags, 0xC0F2);
    ck_assert(sc.valid);
    desc_store_hi(cpu, (9 << 3) | 3, got.hi | 0x100);
    ck_assert_uint_eq(mem32(GDT_BASE + 9 * 8 + 4), d.hi | 0x100);
    ck_assert_uint_eq(mem32(GDT_BASE + 9 * 8), d.lo);

    cpu->gdtr.limit = 9 * 8 + 6;
    ck_assert(!desc_fetch(cpu, 9 << 3, &got));
    cpu->gdtr.limit = 9 * 8 + 7;
    ck_assert(desc_fetch(cpu, 9 << 3, &got));
    /* LDT: none loaded, then one */
    ck_assert(!desc_fetch(cpu, 4, &got));
    put_desc(LDT_BASE, 1, d);
    cpu->seg[SEG_LDTR] = (struct seg_cache){ SEL_LDT, LDT_BASE, 15, 0x82, true };
    ck_assert(desc_fetch(cpu, 8 | 4, &got));
    ck_assert_uint_eq(got.hi, d.hi);
    ck_assert(!desc_fetch(cpu, 16 | 4, &got));
}
END_TEST

static Suite *sysinsn_suite(void)
{
    Suite *s = suite_create("sysinsn");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_privileged_at_cpl3_raise_gp0);
    tcase_add_test(tc, test_privileged_at_cpl1_raise_gp0);
    tcase_add_test(tc, test_privileged_in_v86);
    tcase_add_test(tc, test_privileged_allowed_at_cpl0);
    tcase_add_test(tc, test_not_recognised_in_real_and_v86);
    tcase_add_test(tc, test_store_dtr_any_cpl_and_v86);
    tcase_add_test(tc, test_load_dtr);
    tcase_add_test(tc, test_sldt_str_smsw_destinations);
    tcase_add_test(tc, test_lldt);
    tcase_add_test(tc, test_ltr_sets_busy);
    tcase_add_test(tc, test_lar_lsl_verr_verw_types_and_privilege);
    tcase_add_test(tc, test_lar_lsl_16bit_and_edge_selectors);
    tcase_add_test(tc, test_arpl);
    tcase_add_test(tc, test_io_bitmap);
    tcase_add_test(tc, test_io_bitmap_limit);
    tcase_add_test(tc, test_in_out);
    tcase_add_test(tc, test_popf_cpl0);
    tcase_add_test(tc, test_popf_cpl3);
    tcase_add_test(tc, test_pushf_popf_v86);
    tcase_add_test(tc, test_pushf_pm);
    tcase_add_test(tc, test_cli_sti);
    tcase_add_test(tc, test_cpuid);
    tcase_add_test(tc, test_rdtsc_rdpmc);
    tcase_add_test(tc, test_msrs);
    tcase_add_test(tc, test_sysenter_sysexit);
    tcase_add_test(tc, test_cr0);
    tcase_add_test(tc, test_cr4_reserved_bits);
    tcase_add_test(tc, test_lmsw_clts_smsw);
    tcase_add_test(tc, test_debug_registers);
    tcase_add_test(tc, test_tlb_flushes);
    tcase_add_test(tc, test_wait_ud2_rsm);
    tcase_add_test(tc, test_desc_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sysinsn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
