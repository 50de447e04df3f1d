/* tests/unit/test_protection.c: the protected-mode machinery: segment loads
 * (core/seg.c), exception and interrupt delivery (core/except.c), far
 * transfers, IRET and segment-register instructions (core/exec_sys.c) and
 * the hardware task switch (core/task.c).
 *
 * Each test builds a GDT, an IDT and TSSs in guest RAM, puts the CPU in
 * protected mode directly (CR0.PE and the segment caches), and either calls
 * cpu_load_seg / cpu_deliver_interrupt inside a setjmp harness (fault_vec)
 * or runs hand-assembled code with cpu_run. Exception handlers are HLT
 * instructions at HANDLER(vector), so a run stops in the handler and the
 * test reads the frame it was given. Expected values come from the Intel
 * SDM (Vol. 2 instruction pages, Vol. 3 chapters 5-7 and 20).
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/desc.h"
#include "core/exec.h"
#include "mmu/phys.h"

/* ---- guest memory layout ------------------------------------------------ */

enum {
    GDT_BASE = 0x1000, GDT_ENTRIES = 32,
    IDT_BASE = 0x2000,
    TSS_MAIN = 0x3000, TSS_A = 0x3100, TSS_B = 0x3200, TSS_16 = 0x3300,
    LDT_BASE = 0x3800,
    CODE0 = 0x10000,          /* ring-0 code */
    CODE3 = 0x20000,          /* ring-3 code */
    TASKB_CODE = 0x30000,     /* task B's code */
    HANDLERS = 0x40000,       /* HLT for each vector, 16 bytes apart */
    STACK3_TOP = 0x70000,
    STACK0_TOP = 0x90000,     /* ESP0 in the main TSS */
    TASKB_STACK = 0xA0000,
};
#define HANDLER(v) (HANDLERS + (uint32_t)(v) * 16)

/* selectors */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1B, SEL_DATA3 = 0x23,
    SEL_TSS_MAIN = 0x28, SEL_CALLGATE = 0x33, SEL_NP_DATA = 0x38, SEL_XONLY = 0x40,
    SEL_TSS_A = 0x48, SEL_TSS_B = 0x50, SEL_TASKGATE = 0x5B, SEL_LDT = 0x60,
    SEL_RO_DATA = 0x68, SEL_DATA16_3 = 0x73, SEL_CONF_CODE = 0x78, SEL_NP_STACK = 0x80,
    SEL_TSS_16 = 0x88, SEL_TSS_SMALL = 0x90, SEL_CALLGATE_NP = 0x9B, SEL_CODE3_B = 0xA3,
    SEL_LDT_DATA3 = 0x07,
};

/* gate types */
enum { INTGATE32 = 0xE, TRAPGATE32 = 0xF, TASKGATE = 0x5, CALLGATE32 = 0xC };

struct fixture {
    struct phys_mem pm;
    struct cpu cpu;
};
static struct fixture *fx;
static struct cpu *cpu;

/* ---- building blocks ---------------------------------------------------- */

static void w8(uint32_t a, uint8_t v)   { phys_write(&fx->pm, a, v, 1); }
static void w16(uint32_t a, uint16_t v) { phys_write(&fx->pm, a, v, 2); }
static void w32(uint32_t a, uint32_t v) { phys_write(&fx->pm, a, v, 4); }
static uint32_t r32(uint32_t a) { return phys_read(&fx->pm, a, 4); }
static uint16_t r16(uint32_t a) { return (uint16_t)phys_read(&fx->pm, a, 2); }

static void code(uint32_t at, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w8(at + (uint32_t)i, bytes[i]);
}
#define CODE(at, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; code((at), b_, sizeof b_); } while (0)

/* segment descriptor: access byte (P DPL S type), gd = G/D nibble */
static void seg_desc(uint16_t sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t gd)
{
    uint32_t at = GDT_BASE + (sel & ~7u);
    w32(at, (limit & 0xFFFF) | (base << 16));
    w32(at + 4, ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
                ((uint32_t)(gd & 0xF) << 20) | (base & 0xFF000000u));
}

static void gate_at(uint32_t at, uint16_t sel, uint32_t offset, int type, int dpl, int params, bool present)
{
    w32(at, (offset & 0xFFFF) | ((uint32_t)sel << 16));
    w32(at + 4, (offset & 0xFFFF0000u) | (present ? 0x8000u : 0) | ((uint32_t)dpl << 13) |
                ((uint32_t)type << 8) | (uint32_t)(params & 0x1F));
}

static void idt_gate(int vector, uint16_t sel, uint32_t offset, int type, int dpl, bool present)
{
    gate_at(IDT_BASE + (uint32_t)vector * 8, sel, offset, type, dpl, 0, present);
}

static uint32_t gdt_hi(uint16_t sel) { return r32(GDT_BASE + (sel & ~7u) + 4); }

/* Run `expr` with a local fault handler: the vector raised, or -1. */
#define FAULT_OF(expr) ({                                   \
    jmp_buf env_;                                           \
    jmp_buf *saved_ = cpu->fault_env;                       \
    volatile int vec_ = -1;                                 \
    cpu->fault_env = &env_;                                 \
    if (setjmp(env_) == 0) { expr; } else vec_ = cpu->pending_vector; \
    cpu->fault_env = saved_;                                \
    vec_; })

/* Load a segment cache straight from the GDT (test setup, no checks). */
static void load_cache(int seg, uint16_t sel)
{
    struct desc d = { r32(GDT_BASE + (sel & ~7u)), gdt_hi(sel) };
    seg_cache_from_desc(&cpu->seg[seg], sel, d);
}

static void write_tss32(uint32_t at, uint32_t eip, uint32_t eflags, uint32_t esp,
                        uint16_t cs, uint16_t ss, uint16_t ds, uint16_t ldt)
{
    for (uint32_t i = 0; i < 0x68; i += 4)
        w32(at + i, 0);
    w32(at + 0x04, STACK0_TOP);
    w32(at + 0x08, SEL_DATA0);
    w32(at + 0x20, eip);
    w32(at + 0x24, eflags);
    w32(at + 0x28, 0xAAAA0000u);          /* EAX */
    w32(at + 0x38, esp);
    w32(at + 0x48, ds);                    /* ES */
    w32(at + 0x4C, cs);
    w32(at + 0x50, ss);
    w32(at + 0x54, ds);
    w32(at + 0x58, ds);
    w32(at + 0x5C, ds);
    w32(at + 0x60, ldt);
    w16(at + 0x66, 0x68);
}

static void setup(void)
{
    fx = calloc(1, sizeof *fx);
    ck_assert_int_eq(phys_init(&fx->pm, 4u << 20), 0);
    cpu_init(&fx->cpu, &fx->pm, NULL);
    cpu = &fx->cpu;

    /* GDT */
    seg_desc(SEL_CODE0, 0, 0xFFFFF, 0x9A, 0xC);
    seg_desc(SEL_DATA0, 0, 0xFFFFF, 0x92, 0xC);
    seg_desc(SEL_CODE3, 0, 0xFFFFF, 0xFA, 0xC);
    seg_desc(SEL_DATA3, 0, 0xFFFFF, 0xF2, 0xC);
    seg_desc(SEL_TSS_MAIN, TSS_MAIN, 0x67, 0x89, 0);
    gate_at(GDT_BASE + (SEL_CALLGATE & ~7u), SEL_CODE0, CODE0 + 0x100, CALLGATE32, 3, 2, true);
    seg_desc(SEL_NP_DATA, 0, 0xFFFFF, 0x12, 0xC);          /* not present */
    seg_desc(SEL_XONLY, 0, 0xFFFFF, 0x98, 0xC);            /* execute-only code */
    seg_desc(SEL_TSS_A, TSS_A, 0x67, 0x89, 0);
    seg_desc(SEL_TSS_B, TSS_B, 0x67, 0x89, 0);
    gate_at(GDT_BASE + (SEL_TASKGATE & ~7u), SEL_TSS_B, 0, TASKGATE, 3, 0, true);
    seg_desc(SEL_LDT, LDT_BASE, 0x0F, 0x82, 0);
    seg_desc(SEL_RO_DATA, 0, 0xFFFFF, 0x90, 0xC);          /* read-only data */
    seg_desc(SEL_DATA16_3, 0x50000, 0xFFFF, 0xF2, 0x0);
    seg_desc(SEL_CONF_CODE, 0, 0xFFFFF, 0x9E, 0xC);        /* conforming readable, DPL 0 */
    seg_desc(SEL_NP_STACK, 0, 0xFFFFF, 0x12 | 0x60, 0xC);   /* DPL 3 writable, not present */
    seg_desc(SEL_TSS_16, TSS_16, 0x2B, 0x81, 0);
    seg_desc(SEL_TSS_SMALL, TSS_A, 0x50, 0x89, 0);
    gate_at(GDT_BASE + (SEL_CALLGATE_NP & ~7u), SEL_CODE0, CODE0 + 0x100, CALLGATE32, 3, 0, false);
    seg_desc(SEL_CODE3_B, 0, 0xFFFFF, 0xFA, 0xC);
    /* LDT: entry 0 = flat DPL 3 data */
    w32(LDT_BASE, 0x0000FFFF);
    w32(LDT_BASE + 4, 0x00CFF200);

    /* IDT: every vector to its HLT, interrupt gates, DPL 0 */
    for (int v = 0; v < 256; v++) {
        idt_gate(v, SEL_CODE0, HANDLER(v), INTGATE32, 0, true);
        w8(HANDLER(v), 0xF4);
    }
    idt_gate(0x80, SEL_CODE0, HANDLER(0x80), INTGATE32, 3, true);
    idt_gate(0x82, SEL_CODE0, HANDLER(0x82), TRAPGATE32, 3, true);
    idt_gate(0x83, SEL_TSS_B, 0, TASKGATE, 3, true);
    idt_gate(0x84, SEL_CODE0, HANDLER(0x84), INTGATE32, 3, false);
    idt_gate(EXC_BP, SEL_CODE0, HANDLER(EXC_BP), INTGATE32, 3, true);
    idt_gate(EXC_OF, SEL_CODE0, HANDLER(EXC_OF), INTGATE32, 3, true);

    write_tss32(TSS_MAIN, 0, 0x2, 0, 0, 0, 0, 0);
    write_tss32(TSS_B, TASKB_CODE, 0x2, TASKB_STACK, SEL_CODE0, SEL_DATA0, SEL_DATA0, 0);
    write_tss32(TSS_A, TASKB_CODE, 0x2, TASKB_STACK, SEL_CODE0, SEL_DATA0, SEL_DATA0, 0);

    /* CPU: protected mode, CPL 0, flat */
    cpu->cr0 = CR0_PE | CR0_ET;
    cpu->gdtr = (struct dtr){ GDT_BASE, GDT_ENTRIES * 8 - 1 };
    cpu->idtr = (struct dtr){ IDT_BASE, 256 * 8 - 1 };
    cpu->eflags = 0x2;
    cpu->cpl = 0;
    load_cache(SEG_CS, SEL_CODE0);
    for (int s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS)
            load_cache(s, SEL_DATA0);
    w32(GDT_BASE + (SEL_TSS_MAIN & ~7u) + 4, gdt_hi(SEL_TSS_MAIN) | 0x200);   /* busy */
    load_cache(SEG_TR, SEL_TSS_MAIN);
    cpu->seg[SEG_LDTR] = (struct seg_cache){ 0, 0, 0, 0, false };
    cpu->gpr[R_ESP] = 0x80000;
    cpu->eip = cpu->next_eip = CODE0;
}

static void teardown(void)
{
    cpu_destroy(&fx->cpu);
    phys_free(&fx->pm);
    free(fx);
}

/* A fresh fixture in the middle of a test. */
static void refresh(void)
{
    teardown();
    setup();
}

static void enter_ring3(uint32_t eip, uint32_t eflags)
{
    load_cache(SEG_CS, SEL_CODE3);
    load_cache(SEG_SS, SEL_DATA3);
    load_cache(SEG_DS, SEL_DATA3);
    load_cache(SEG_ES, SEL_DATA3);
    load_cache(SEG_FS, SEL_DATA3);
    load_cache(SEG_GS, SEL_DATA3);
    cpu->cpl = 3;
    cpu->eflags = eflags | 2;
    cpu->gpr[R_ESP] = STACK3_TOP;
    cpu->eip = cpu->next_eip = eip;
}

/* Run until the CPU halts (in a handler); returns the stop reason. */
static enum cpu_stop run_to_halt(void)
{
    cpu->halted = false;
    return cpu_run(cpu, 200);
}

/* The CPU stopped on the HLT of vector v's handler. */
static void assert_in_handler(int v)
{
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, SEL_CODE0);
    ck_assert_uint_eq(cpu->eip, HANDLER(v) + 1);
}

static uint32_t stack32(uint32_t skip)
{
    return r32(cpu->seg[SEG_SS].base + cpu->gpr[R_ESP] + skip);
}

static uint16_t stack16(uint32_t skip)
{
    uint32_t mask = (cpu->seg[SEG_SS].flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    return r16(cpu->seg[SEG_SS].base + ((cpu->gpr[R_ESP] + skip) & mask));
}

/* ---- segment loads ------------------------------------------------------ */

START_TEST(test_seg_loads_cpl0)
{
    uint32_t before = gdt_hi(SEL_DATA3);
    ck_assert(!(before & 0x100));
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_DATA3)), -1);
    ck_assert(gdt_hi(SEL_DATA3) & 0x100);                       /* accessed bit set */
    ck_assert_int_eq(cpu->seg[SEG_DS].sel, SEL_DATA3);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xFFFFFFFFu);
    ck_assert(cpu->seg[SEG_DS].valid);

    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_ES, SEL_DATA16_3)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_ES].base, 0x50000);
    ck_assert_uint_eq(cpu->seg[SEG_ES].limit, 0xFFFF);

    /* null selectors: fine for DS (unusable), #GP(0) for SS */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_FS, 0x0003)), -1);
    ck_assert(!cpu->seg[SEG_FS].valid);
    ck_assert_int_eq(cpu->seg[SEG_FS].sel, 3);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, 0)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA0);

    /* not present: #NP(sel) for DS, #SS(sel) for SS */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_NP_DATA)), EXC_NP);
    ck_assert_uint_eq(cpu->pending_error, SEL_NP_DATA);
    ck_assert_int_eq(cpu->seg[SEG_DS].sel, SEL_DATA3);          /* unchanged */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_NP_DATA)), EXC_SS);
    ck_assert_uint_eq(cpu->pending_error, SEL_NP_DATA);

    /* type errors: execute-only code, system descriptor, read-only SS */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_XONLY)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_XONLY);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_GS, SEL_TSS_MAIN)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_TSS_MAIN);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_RO_DATA)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_RO_DATA);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_CODE0)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_CODE0);

    /* RPL > DPL for data; SS with RPL != CPL or DPL != CPL */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_DATA0 | 1)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA0);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_DATA3)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA3 & ~3u);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_DATA0 | 3)), EXC_GP);

    /* beyond the GDT limit; TI = 1 with no LDT: error code keeps TI */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, 0x0100)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0x0100);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_LDT_DATA3)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0x0004);

    /* readable conforming code in DS; SS at CPL 0 */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_CONF_CODE)), -1);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_DATA0)), -1);
}
END_TEST

START_TEST(test_seg_loads_cpl3_and_ldt)
{
    enter_ring3(CODE3, 0);
    /* DPL 0 data from CPL 3 */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_DATA0)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA0);
    /* conforming code is fine at any CPL */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, SEL_CONF_CODE | 3)), -1);
    /* SS: DPL 3 writable with RPL 3 fine; RPL 0 not */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_DATA3)), -1);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_DATA3 & ~3)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA3 & ~3u);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_SS, SEL_NP_STACK | 3)), EXC_SS);
    ck_assert_uint_eq(cpu->pending_error, SEL_NP_STACK);

    /* through the LDT */
    load_cache(SEG_LDTR, SEL_LDT);
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_ES, SEL_LDT_DATA3)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_ES].limit, 0xFFFFFFFFu);
    ck_assert(r32(LDT_BASE + 4) & 0x100);
    /* LDT entry 2 is beyond the LDT limit (0x0F) */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_ES, 0x0017)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0x0014);
}
END_TEST

START_TEST(test_seg_loads_real_and_v86)
{
    cpu->cr0 &= ~(uint32_t)CR0_PE;
    cpu->seg[SEG_DS].limit = 0xFFFFFFFFu;     /* unreal mode */
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, 0x1234)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0x12340);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xFFFFFFFFu);   /* kept */

    cpu->cr0 |= CR0_PE;
    cpu->eflags |= FL_VM;
    cpu->cpl = 3;
    ck_assert_int_eq(FAULT_OF(cpu_load_seg(cpu, SEG_DS, 0xFFFF)), -1);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0xFFFF0);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xFFFF);
    ck_assert_int_eq((cpu->seg[SEG_DS].flags >> SEGF_DPL_SHIFT) & 3, 3);
    ck_assert(cpu->seg[SEG_DS].valid);
}
END_TEST

/* MOV/POP/PUSH Sreg and LDS run as code */
START_TEST(test_sreg_instructions)
{
    /* mov ax,0x23 ; mov es,ax ; mov ecx,es ; push fs (32-bit) ; mov ebx,0x5000 ;
       lds edx,[ebx] ; mov ax,0x38 ; mov fs,ax (#NP) */
    w32(0x5000, 0x12345678);
    w16(0x5004, SEL_DATA3);
    w32(0x80000 - 4, 0xDEADBEEF);
    cpu->gpr[R_ECX] = 0xFFFFFFFF;
    CODE(CODE0, 0x66, 0xB8, 0x23, 0x00, 0x8E, 0xC0, 0x8C, 0xC1, 0x0F, 0xA0,
         0xBB, 0x00, 0x50, 0x00, 0x00, 0xC5, 0x13, 0x66, 0xB8, 0x38, 0x00, 0x8E, 0xE0);
    ck_assert_int_eq(cpu_run(cpu, 6), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_ES].sel, SEL_DATA3);
    ck_assert_uint_eq(cpu->gpr[R_ECX], SEL_DATA3);               /* zero-extended */
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000 - 4);
    ck_assert_uint_eq(r32(0x80000 - 4), 0xDEAD0000u | SEL_DATA0); /* 16-bit write */
    ck_assert_uint_eq(cpu->gpr[R_EDX], 0x12345678);
    ck_assert_int_eq(cpu->seg[SEG_DS].sel, SEL_DATA3);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_NP);
    ck_assert_uint_eq(stack32(0), SEL_NP_DATA);
    ck_assert_uint_eq(stack32(4), CODE0 + 21);                  /* the faulting MOV */

    /* pop ss sets the interrupt shadow; mov cs is #UD */
    refresh();
    cpu->gpr[R_ESP] = 0x80000 - 4;
    w32(0x80000 - 4, SEL_DATA0);
    CODE(CODE0, 0x17);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000);
    ck_assert_int_eq(cpu->irq_inhibit, 1);
    struct insn in = { .op = OP_MOV_TO_SREG, .opsize = 2, .nopnd = 2 };
    in.opnd[0] = (struct opnd){ OPND_SREG, 2, SEG_CS };
    in.opnd[1] = (struct opnd){ OPND_REG, 2, R_EAX };
    ck_assert_int_eq(FAULT_OF(exec_table[OP_MOV_TO_SREG](cpu, &in)), EXC_UD);
    struct insn lds = { .op = OP_LDS, .opsize = 4, .nopnd = 2 };
    lds.opnd[0] = (struct opnd){ OPND_REG, 4, R_EAX };
    lds.opnd[1] = (struct opnd){ OPND_REG, 4, R_EBX };
    ck_assert_int_eq(FAULT_OF(exec_table[OP_LDS](cpu, &lds)), EXC_UD);
}
END_TEST

/* ---- far transfers ------------------------------------------------------ */

START_TEST(test_call_gate_cpl3_to_cpl0)
{
    /* ring 3: push 0x11111111 ; push 0x22222222 ; lcall 0x33:0 ; jmp $ */
    CODE(CODE3, 0x68, 0x11, 0x11, 0x11, 0x11, 0x68, 0x22, 0x22, 0x22, 0x22,
         0x9A, 0x00, 0x00, 0x00, 0x00, SEL_CALLGATE, 0x00, 0xEB, 0xFE);
    /* ring 0: mov ax,0x10 ; mov ds,ax ; lret 8 */
    CODE(CODE0 + 0x100, 0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0xCA, 0x08, 0x00);
    enter_ring3(CODE3, FL_IF);
    ck_assert_int_eq(cpu_run(cpu, 3), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE0 + 0x100);
    ck_assert_int_eq(cpu->cpl, 0);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, SEL_CODE0);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK0_TOP - 24);
    ck_assert_uint_eq(stack32(0), CODE3 + 17);          /* return EIP */
    ck_assert_uint_eq(stack32(4), SEL_CODE3);
    ck_assert_uint_eq(stack32(8), 0x22222222);          /* parameters, same order */
    ck_assert_uint_eq(stack32(12), 0x11111111);
    ck_assert_uint_eq(stack32(16), STACK3_TOP - 8);     /* old ESP */
    ck_assert_uint_eq(stack32(20), SEL_DATA3);          /* old SS */
    ck_assert(cpu->eflags & FL_IF);                     /* call gates keep IF */

    ck_assert_int_eq(cpu_run(cpu, 3), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE3 + 17);
    ck_assert_int_eq(cpu->cpl, 3);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, SEL_CODE3);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA3);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK3_TOP);     /* lret 8 released the parameters */
    ck_assert(!cpu->seg[SEG_DS].valid);                 /* DPL 0 DS nulled on the way out */
    ck_assert_int_eq(cpu->seg[SEG_DS].sel, 0);
    ck_assert(cpu->seg[SEG_ES].valid);                  /* DPL 3 ES kept */
}
END_TEST

START_TEST(test_far_transfer_faults)
{
    /* CPL 3: not-present call gate -> #NP(gate); gate DPL 3 pointing to ... */
    CODE(CODE3, 0x9A, 0x00, 0x00, 0x00, 0x00, SEL_CALLGATE_NP, 0x00);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_NP);
    ck_assert_uint_eq(stack32(0), SEL_CALLGATE_NP & ~3u);
    ck_assert_uint_eq(stack32(4), CODE3);
    ck_assert_uint_eq(stack32(8), SEL_CODE3);
    ck_assert_uint_eq(stack32(16), STACK3_TOP);         /* nothing was committed */

    /* CPL 3: ljmp to DPL 0 code directly -> #GP(sel) */
    refresh();
    CODE(CODE3, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_CODE0, 0x00);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), SEL_CODE0);

    /* CPL 0: lcall to code beyond its limit -> #GP(0); data seg -> #GP(sel) */
    refresh();
    seg_desc(SEL_CODE3_B, 0, 0xFF, 0x9A, 0x4);
    CODE(CODE0, 0x9A, 0x00, 0x10, 0x00, 0x00, SEL_CODE3_B & ~3, 0x00);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), 0);
    ck_assert_uint_eq(stack32(4), CODE0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000 - 16);   /* only the fault frame */

    /* call gate to CPL 0 whose SS0 is not present: #SS(SS0), nothing committed;
     * then SS0:ESP0 without room for the frame: #SS(SS0) too */
    refresh();
    enter_ring3(CODE3, 0);
    struct insn call = { .op = OP_CALL_FAR, .opsize = 4, .nopnd = 1, .imm = 0, .imm2 = SEL_CALLGATE };
    call.opnd[0] = (struct opnd){ OPND_FAR, 6, 0 };
    cpu->next_eip = CODE3 + 7;
    w32(TSS_MAIN + 8, SEL_NP_DATA);
    ck_assert_int_eq(FAULT_OF(exec_table[OP_CALL_FAR](cpu, &call)), EXC_SS);
    ck_assert_uint_eq(cpu->pending_error, SEL_NP_DATA);
    w32(TSS_MAIN + 8, SEL_DATA0);
    w32(TSS_MAIN + 4, 8);
    ck_assert_int_eq(FAULT_OF(exec_table[OP_CALL_FAR](cpu, &call)), EXC_SS);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA0);
    ck_assert_int_eq(cpu->cpl, 3);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, SEL_CODE3);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA3);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK3_TOP);
    ck_assert_uint_eq(cpu->next_eip, CODE3 + 7);
    /* a TSS too short for ESP0/SS0: #TS(TR) */
    cpu->seg[SEG_TR].limit = 0x08;
    ck_assert_int_eq(FAULT_OF(exec_table[OP_CALL_FAR](cpu, &call)), EXC_TS);
    ck_assert_uint_eq(cpu->pending_error, SEL_TSS_MAIN);

    /* RET far to an inner ring -> #GP(sel) */
    refresh();
    enter_ring3(CODE3, 0);
    cpu->gpr[R_ESP] = STACK3_TOP - 8;
    w32(STACK3_TOP - 8, CODE3);
    w32(STACK3_TOP - 4, SEL_CODE0);
    CODE(CODE3, 0xCB);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), SEL_CODE0);
}
END_TEST

START_TEST(test_real_mode_far_and_int)
{
    cpu_reset(cpu);
    /* IVT entry 0x21 -> 0x2000:0x0100 ; code at 0x1000:0x0000 */
    w16(0x21 * 4, 0x0100);
    w16(0x21 * 4 + 2, 0x2000);
    /* int 0x21 ; lcall 0x3000:0x0010 */
    CODE(0x10000, 0xCD, 0x21, 0x9A, 0x10, 0x00, 0x00, 0x30);
    CODE(0x20100, 0xCF);                      /* iret */
    CODE(0x30010, 0xCB);                      /* retf */
    cpu_load_seg(cpu, SEG_CS, 0x1000);
    cpu_load_seg(cpu, SEG_SS, 0x0000);
    cpu->gpr[R_ESP] = 0x8000;
    cpu->eip = 0;
    cpu->eflags = 0x2 | FL_IF;
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, 0x2000);
    ck_assert_uint_eq(cpu->eip, 0x0100);
    ck_assert(!(cpu->eflags & FL_IF));
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x8000 - 6);
    ck_assert_uint_eq(stack16(0), 2);
    ck_assert_uint_eq(stack16(2), 0x1000);
    ck_assert_uint_eq(stack16(4), 0x2 | FL_IF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);   /* iret */
    ck_assert_uint_eq(cpu->eip, 2);
    ck_assert(cpu->eflags & FL_IF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);   /* lcall */
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, 0x3000);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0x30000);
    ck_assert_uint_eq(cpu->eip, 0x10);
    ck_assert_uint_eq(stack16(0), 7);
    ck_assert_uint_eq(stack16(2), 0x1000);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);   /* retf */
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, 0x1000);
    ck_assert_uint_eq(cpu->eip, 7);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x8000);
}
END_TEST

/* ---- interrupts --------------------------------------------------------- */

START_TEST(test_int_gate_from_cpl3_and_iret)
{
    /* ring 3: int 0x80 ; jmp $      handler: iretd */
    CODE(CODE3, 0xCD, 0x80, 0xEB, 0xFE);
    CODE(HANDLER(0x80), 0xCF);
    enter_ring3(CODE3, FL_IF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, HANDLER(0x80));
    ck_assert_int_eq(cpu->cpl, 0);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK0_TOP - 20);
    ck_assert_uint_eq(stack32(0), CODE3 + 2);
    ck_assert_uint_eq(stack32(4), SEL_CODE3);
    ck_assert_uint_eq(stack32(8), 0x2 | FL_IF);
    ck_assert_uint_eq(stack32(12), STACK3_TOP);
    ck_assert_uint_eq(stack32(16), SEL_DATA3);
    ck_assert(!(cpu->eflags & FL_IF));                  /* interrupt gate */

    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE3 + 2);
    ck_assert_int_eq(cpu->cpl, 3);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, SEL_CODE3);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA3);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK3_TOP);
    ck_assert(cpu->eflags & FL_IF);

    /* trap gate keeps IF; int3 through a DPL 3 gate */
    refresh();
    CODE(CODE3, 0xCD, 0x82);
    enter_ring3(CODE3, FL_IF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, HANDLER(0x82));
    ck_assert(cpu->eflags & FL_IF);
}
END_TEST

START_TEST(test_iret_flag_rules)
{
    /* CPL 3, IOPL 0: IRET cannot change IF or IOPL */
    CODE(CODE3, 0xCF);
    enter_ring3(CODE3, 0);
    cpu->gpr[R_ESP] = STACK3_TOP - 12;
    w32(STACK3_TOP - 12, CODE3 + 0x10);
    w32(STACK3_TOP - 8, SEL_CODE3);
    w32(STACK3_TOP - 4, 0x2 | FL_IF | FL_IOPL | FL_CF | FL_AC);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE3 + 0x10);
    ck_assert(!(cpu_get_eflags(cpu) & (FL_IF | FL_IOPL)));
    ck_assert(cpu_get_eflags(cpu) & FL_CF);
    ck_assert(cpu_get_eflags(cpu) & FL_AC);

    /* CPL 0: both change */
    refresh();
    CODE(CODE0, 0xCF);
    w32(0x80000 - 12, CODE0 + 0x10);
    w32(0x80000 - 8, SEL_CODE0);
    w32(0x80000 - 4, 0x2 | FL_IF | FL_IOPL);
    cpu->gpr[R_ESP] = 0x80000 - 12;
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu_get_eflags(cpu) & (FL_IF | FL_IOPL), FL_IF | FL_IOPL);
}
END_TEST

START_TEST(test_int_faults_and_ext_bit)
{
    /* software INT through a DPL 0 gate from CPL 3: #GP(vector*8+2), EXT 0 */
    CODE(CODE3, 0xCD, 0x81);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), 0x81 * 8 + 2);
    ck_assert_uint_eq(stack32(4), CODE3);              /* fault: the INT itself */
    ck_assert(stack32(12) & FL_RF);                     /* fault frame has RF */

    /* software INT to a not-present gate: #NP(vector*8+2) */
    refresh();
    CODE(CODE0, 0xCD, 0x84);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_NP);
    ck_assert_uint_eq(stack32(0), 0x84 * 8 + 2);

    /* an external interrupt to the same gate: EXT set */
    refresh();
    ck_assert_int_eq(FAULT_OF(cpu_deliver_interrupt(cpu, 0x84, false, NO_ERROR_CODE)), EXC_NP);
    ck_assert_uint_eq(cpu->pending_error, 0x84 * 8 + 3);
    /* an external interrupt ignores the gate DPL */
    enter_ring3(CODE3, FL_IF);
    ck_assert_int_eq(FAULT_OF(cpu_deliver_interrupt(cpu, 0x81, false, NO_ERROR_CODE)), -1);
    ck_assert_uint_eq(cpu->eip, HANDLER(0x81));
    ck_assert_uint_eq(stack32(0), CODE3);               /* returns to eip */

    /* beyond the IDT limit */
    refresh();
    cpu->idtr.limit = 0x7F;
    ck_assert_int_eq(FAULT_OF(cpu_deliver_interrupt(cpu, 0x20, true, NO_ERROR_CODE)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, 0x20 * 8 + 2);

    /* INT1 (ICEBP) from CPL 3 through a DPL 0 gate: no DPL check */
    refresh();
    CODE(CODE3, 0xF1);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_DB);
    ck_assert_uint_eq(stack32(0), CODE3 + 1);           /* a trap */

    /* INTO with OF set */
    refresh();
    CODE(CODE0, 0xCE);
    cpu->eflags |= FL_OF;
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_OF);
    ck_assert_uint_eq(stack32(0), CODE0 + 1);

    /* a fault in the gate's code segment during an external interrupt: #GP(sel|EXT) */
    refresh();
    idt_gate(0x90, SEL_DATA0, 0, INTGATE32, 0, true);
    ck_assert_int_eq(FAULT_OF(cpu_deliver_interrupt(cpu, 0x90, false, NO_ERROR_CODE)), EXC_GP);
    ck_assert_uint_eq(cpu->pending_error, SEL_DATA0 | 1);
}
END_TEST

/* A ring-0 IRET frame into V86 mode at 0x2000:0x0010, SS:SP 0x3000:0xFFF0. */
static uint32_t v86_frame(uint32_t eflags)
{
    uint32_t frame = 0x80000 - 36;
    w32(frame + 0, 0x0010);
    w32(frame + 4, 0x2000);
    w32(frame + 8, 0x2 | FL_VM | eflags);
    w32(frame + 12, 0xFFF0);
    w32(frame + 16, 0x3000);
    w32(frame + 20, 0x1111);                        /* ES */
    w32(frame + 24, 0x2222);                        /* DS */
    w32(frame + 28, 0x3333);                        /* FS */
    w32(frame + 32, 0x4444);                        /* GS */
    return frame;
}

START_TEST(test_v86_iret_and_interrupts)
{
    uint32_t frame = v86_frame(FL_IF);              /* IOPL 0 */
    cpu->gpr[R_ESP] = frame;
    CODE(CODE0, 0xCF);
    /* V86 code at 0x20010: int 0x80 */
    CODE(0x20010, 0xCD, 0x80);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert(cpu->eflags & FL_VM);
    ck_assert_int_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->eip, 0x10);
    ck_assert_uint_eq(cpu->seg[SEG_CS].base, 0x20000);
    ck_assert_uint_eq(cpu->seg[SEG_SS].base, 0x30000);
    ck_assert_uint_eq(cpu->seg[SEG_ES].base, 0x11110);
    ck_assert_uint_eq(cpu->seg[SEG_GS].base, 0x44440);
    ck_assert_uint_eq(cpu->seg[SEG_DS].limit, 0xFFFF);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0xFFF0);

    /* INT n with IOPL < 3: #GP(0) to the ring-0 handler with the V86 frame */
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert(!(cpu->eflags & FL_VM));
    ck_assert_int_eq(cpu->cpl, 0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK0_TOP - 40);
    ck_assert_uint_eq(stack32(0), 0);                   /* error code */
    ck_assert_uint_eq(stack32(4), 0x10);
    ck_assert_uint_eq(stack32(8), 0x2000);
    ck_assert(stack32(12) & FL_VM);
    ck_assert_uint_eq(stack32(16), 0xFFF0);
    ck_assert_uint_eq(stack32(20), 0x3000);
    ck_assert_uint_eq(stack32(24), 0x1111);
    ck_assert_uint_eq(stack32(28), 0x2222);
    ck_assert_uint_eq(stack32(32), 0x3333);
    ck_assert_uint_eq(stack32(36), 0x4444);
    ck_assert(!cpu->seg[SEG_DS].valid && cpu->seg[SEG_DS].sel == 0);
    ck_assert(!cpu->seg[SEG_GS].valid);

    /* with IOPL 3 INT 0x80 goes through its DPL 3 gate; then IRET back to V86 */
    refresh();
    frame = v86_frame(FL_IOPL);
    cpu->gpr[R_ESP] = frame;
    CODE(CODE0, 0xCF);
    CODE(0x20010, 0xCD, 0x80);
    CODE(HANDLER(0x80), 0xCF);
    ck_assert_int_eq(cpu_run(cpu, 2), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, HANDLER(0x80));
    ck_assert_uint_eq(cpu->gpr[R_ESP], STACK0_TOP - 36);
    ck_assert_uint_eq(stack32(0), 0x12);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert(cpu->eflags & FL_VM);
    ck_assert_uint_eq(cpu->eip, 0x12);
    ck_assert_uint_eq(cpu->seg[SEG_DS].base, 0x22220);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0xFFF0);

    /* IRET in V86 with IOPL < 3: #GP(0) */
    refresh();
    frame = v86_frame(0);
    cpu->gpr[R_ESP] = frame;
    CODE(CODE0, 0xCF);
    CODE(0x20010, 0xCF);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), 0);
    ck_assert_uint_eq(stack32(4), 0x10);
}
END_TEST

/* ---- task switches ------------------------------------------------------ */

START_TEST(test_task_switch_call_iret)
{
    /* main: lcall 0x50:0 ; jmp $      task B: iretd */
    CODE(CODE0, 0x9A, 0x00, 0x00, 0x00, 0x00, SEL_TSS_B, 0x00, 0xEB, 0xFE);
    CODE(TASKB_CODE, 0xCF);
    cpu->gpr[R_EBX] = 0xB0B0B0B0;
    cpu->eflags |= FL_CF;
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert_uint_eq(cpu->eip, TASKB_CODE);
    ck_assert_uint_eq(cpu->gpr[R_ESP], TASKB_STACK);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xAAAA0000u);
    ck_assert(cpu->eflags & FL_NT);
    ck_assert(cpu->cr0 & CR0_TS);
    ck_assert_uint_eq(r16(TSS_B), SEL_TSS_MAIN);            /* back link */
    ck_assert(gdt_hi(SEL_TSS_B) & 0x200);                    /* new busy */
    ck_assert(gdt_hi(SEL_TSS_MAIN) & 0x200);                 /* old stays busy (CALL) */
    ck_assert_uint_eq(r32(TSS_MAIN + 0x20), CODE0 + 7);     /* saved EIP */
    ck_assert_uint_eq(r32(TSS_MAIN + 0x34), 0xB0B0B0B0);    /* saved EBX */
    ck_assert_uint_eq(r32(TSS_MAIN + 0x38), 0x80000);       /* saved ESP */
    ck_assert(r32(TSS_MAIN + 0x24) & FL_CF);
    ck_assert_uint_eq(r16(TSS_MAIN + 0x4C), SEL_CODE0);

    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);     /* IRET with NT */
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_MAIN);
    ck_assert_uint_eq(cpu->eip, CODE0 + 7);
    ck_assert_uint_eq(cpu->gpr[R_EBX], 0xB0B0B0B0);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000);
    ck_assert(!(gdt_hi(SEL_TSS_B) & 0x200));                 /* B no longer busy */
    ck_assert(gdt_hi(SEL_TSS_MAIN) & 0x200);
    ck_assert(!(cpu->eflags & FL_NT));
    ck_assert(cpu_get_eflags(cpu) & FL_CF);
    ck_assert(!(r32(TSS_B + 0x24) & FL_NT));                 /* B saved with NT clear */
    ck_assert_uint_eq(r32(TSS_B + 0x20), TASKB_CODE + 1);
}
END_TEST

START_TEST(test_task_switch_jmp_and_errors)
{
    /* ljmp 0x50:0 */
    CODE(CODE0, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TSS_B, 0x00);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert(gdt_hi(SEL_TSS_B) & 0x200);
    ck_assert(!(gdt_hi(SEL_TSS_MAIN) & 0x200));              /* JMP clears the old busy bit */
    ck_assert(!(cpu->eflags & FL_NT));
    ck_assert_uint_eq(r16(TSS_B), 0);                        /* no back link */

    /* a jump to the (busy) current task: #GP(sel) in the old task */
    refresh();
    CODE(CODE0, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TSS_MAIN, 0x00);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), SEL_TSS_MAIN);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_MAIN);

    /* TSS limit below 0x67: #TS(sel) */
    refresh();
    CODE(CODE0, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TSS_SMALL, 0x00);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_TS);
    ck_assert_uint_eq(stack32(0), SEL_TSS_SMALL);

    /* CPL 3 through a DPL 3 task gate; TSS B's DPL 0 would refuse a direct jump */
    refresh();
    CODE(CODE3, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TSS_B, 0x00);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), SEL_TSS_B);
    refresh();
    CODE(CODE3, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TASKGATE, 0x00);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert_int_eq(cpu->cpl, 0);
    ck_assert_uint_eq(r16(TSS_MAIN + 0x4C), SEL_CODE3);     /* old CS saved */

    /* a bad SS in the new TSS: #TS(SS) raised in the new task */
    refresh();
    w32(TSS_B + 0x50, SEL_DATA3);                           /* RPL 3 != CPL 0 */
    CODE(CODE0, 0xEA, 0x00, 0x00, 0x00, 0x00, SEL_TSS_B, 0x00);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_TS);
    ck_assert_uint_eq(stack32(0), SEL_DATA3 & ~3u);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);      /* already switched */
    ck_assert_uint_eq(stack32(4), TASKB_CODE);              /* new task's EIP */
}
END_TEST

START_TEST(test_task_gate_interrupt)
{
    /* INT 0x83 through the IDT task gate to task B, then IRET back */
    CODE(CODE0, 0xCD, 0x83, 0xEB, 0xFE);
    CODE(TASKB_CODE, 0xCF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert(cpu->eflags & FL_NT);
    ck_assert_uint_eq(r16(TSS_B), SEL_TSS_MAIN);
    ck_assert_uint_eq(r32(TSS_MAIN + 0x20), CODE0 + 2);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_MAIN);
    ck_assert_uint_eq(cpu->eip, CODE0 + 2);

    /* an exception with an error code through a task gate: pushed on the new stack */
    refresh();
    idt_gate(EXC_GP, SEL_TSS_B, 0, TASKGATE, 0, true);
    CODE(CODE0, 0x66, 0xB8, 0x38, 0x00, 0x8E, 0xD8);        /* mov ax,0x38; mov ds,ax: #NP */
    idt_gate(EXC_NP, SEL_TSS_B, 0, TASKGATE, 0, true);
    CODE(TASKB_CODE, 0xF4);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert_uint_eq(cpu->gpr[R_ESP], TASKB_STACK - 4);
    ck_assert_uint_eq(stack32(0), SEL_NP_DATA);
    ck_assert_uint_eq(r32(TSS_MAIN + 0x20), CODE0 + 4);     /* the faulting MOV */
}
END_TEST

START_TEST(test_task_switch_16bit_tss)
{
    /* 286 TSS: IP 0x0040 in CS 0x08, SP 0x1000, flags 0x0002 */
    for (uint32_t i = 0; i < 0x2C; i += 2)
        w16(TSS_16 + i, 0);
    w16(TSS_16 + 14, 0x0040);
    w16(TSS_16 + 16, 0x0002);
    w16(TSS_16 + 18, 0x1234);                 /* AX */
    w16(TSS_16 + 26, 0x1000);                 /* SP */
    w16(TSS_16 + 34, SEL_DATA0);              /* ES */
    w16(TSS_16 + 36, SEL_CODE0);              /* CS */
    w16(TSS_16 + 38, SEL_DATA0);              /* SS */
    w16(TSS_16 + 40, SEL_DATA0);              /* DS */
    CODE(CODE0, 0x9A, 0x00, 0x00, 0x00, 0x00, SEL_TSS_16, 0x00);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_16);
    ck_assert_uint_eq(cpu->eip, 0x40);
    ck_assert_uint_eq(cpu->gpr[R_EAX], 0xFFFF1234u);
    ck_assert_uint_eq(cpu->gpr[R_ESP] & 0xFFFF, 0x1000);
    ck_assert(!cpu->seg[SEG_FS].valid);
    ck_assert_uint_eq(r16(TSS_16), SEL_TSS_MAIN);
    ck_assert_uint_eq(gdt_hi(SEL_TSS_16) & 0xF00, 0x300);   /* busy 16-bit TSS */
}
END_TEST

START_TEST(test_iret_to_outer_16bit_stack)
{
    /* ring 0, DS = DPL 0 data, ES = DPL 3 data: IRET to CPL 3 with a 16-bit SS */
    load_cache(SEG_ES, SEL_DATA3);
    uint32_t esp = 0x80000 - 20;
    w32(esp + 0, CODE3);
    w32(esp + 4, SEL_CODE3);
    w32(esp + 8, 0x2 | FL_IF);
    w32(esp + 12, 0xABCD1234);
    w32(esp + 16, SEL_DATA16_3);
    cpu->gpr[R_ESP] = esp;
    CODE(CODE0, 0xCF);
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_int_eq(cpu->cpl, 3);
    ck_assert_uint_eq(cpu->eip, CODE3);
    ck_assert_int_eq(cpu->seg[SEG_SS].sel, SEL_DATA16_3);
    ck_assert_uint_eq(cpu->seg[SEG_SS].base, 0x50000);
    ck_assert_uint_eq(cpu->gpr[R_ESP], (esp & 0xFFFF0000u) | 0x1234);   /* only SP loaded */
    ck_assert(!cpu->seg[SEG_DS].valid);
    ck_assert(cpu->seg[SEG_ES].valid);
    ck_assert(cpu->eflags & FL_IF);

    /* the new SS must have DPL = RPL = the new CPL: #GP(SS) otherwise */
    refresh();
    w32(esp + 0, CODE3);
    w32(esp + 4, SEL_CODE3);
    w32(esp + 8, 0x2);
    w32(esp + 12, 0x1000);
    w32(esp + 16, SEL_DATA0 | 3);
    cpu->gpr[R_ESP] = esp;
    CODE(CODE0, 0xCF);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(0), SEL_DATA0);
    ck_assert_uint_eq(stack32(4), CODE0);
}
END_TEST

/* Identity paging of the first 4 MiB with the page at 0x200000 not present. */
static void enable_paging(void)
{
    const uint32_t pd = 0x100000, pt = 0x101000;
    for (uint32_t i = 0; i < 1024; i++) {
        w32(pd + i * 4, 0);
        w32(pt + i * 4, (i << 12) | 7);
    }
    w32(pd, pt | 7);
    w32(pt + (0x200000 >> 12) * 4, 0);
    cpu->cr3 = pd;
    cpu->cr0 |= CR0_PG;
}

START_TEST(test_page_fault_classes)
{
    /* #PF, then #GP while delivering it (gate to a data segment): #DF */
    enable_paging();
    idt_gate(EXC_PF, SEL_DATA0, 0, INTGATE32, 0, true);
    CODE(CODE0, 0xA1, 0x00, 0x00, 0x20, 0x00);               /* mov eax,[0x200000] */
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_DF);
    ck_assert_uint_eq(stack32(0), 0);
    ck_assert_uint_eq(cpu->cr2, 0x200000);

    /* #GP, then #PF while delivering it (its handler's stack is not present):
     * handled serially, the #PF goes through a task gate with its own stack */
    refresh();
    enable_paging();
    w32(TSS_MAIN + 4, 0x201000);                            /* ESP0 in the missing page */
    idt_gate(EXC_PF, SEL_TSS_B, 0, TASKGATE, 0, true);
    w32(TSS_B + 0x1C, 0x100000);                            /* task B's CR3: the same tables */
    CODE(TASKB_CODE, 0xF4);
    CODE(CODE3, 0xF4);                                      /* HLT at CPL 3: #GP(0) */
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert_uint_eq(cpu->eip, TASKB_CODE + 1);
    ck_assert_uint_eq(stack32(0), 0x2);                     /* #PF error: write, supervisor */
    ck_assert_uint_eq(cpu->cr2, 0x201000 - 4);
    ck_assert_uint_eq(r32(TSS_MAIN + 0x20), CODE3);         /* old task stopped at the HLT */
}
END_TEST

START_TEST(test_task_switch_debug_trap)
{
    /* T bit in task B's TSS: #DB (DR6.BT) before its first instruction */
    w16(TSS_B + 0x64, 1);
    CODE(CODE0, 0x9A, 0x00, 0x00, 0x00, 0x00, SEL_TSS_B, 0x00);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_DB);
    ck_assert_int_eq(cpu->seg[SEG_TR].sel, SEL_TSS_B);
    ck_assert(cpu->dr[6] & (1u << 15));
    ck_assert_uint_eq(stack32(0), TASKB_CODE);
    ck_assert_uint_eq(cpu->gpr[R_ESP], TASKB_STACK - 12);
}
END_TEST

START_TEST(test_gate_variants)
{
    /* 16-bit interrupt gate at CPL 0: FLAGS, CS, IP as words */
    idt_gate(0x85, SEL_CODE0, 0x12348500, 0x6, 0, true);   /* offset 0x8500: 16 bits */
    CODE(0x8500, 0xF4);
    CODE(CODE0, 0xCD, 0x85);
    cpu->eflags |= FL_IF;
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    ck_assert_uint_eq(cpu->eip, 0x8501);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000 - 6);
    ck_assert_uint_eq(stack16(0), (CODE0 + 2) & 0xFFFF);
    ck_assert_uint_eq(stack16(2), SEL_CODE0);
    ck_assert_uint_eq(stack16(4), 0x2 | FL_IF);
    ck_assert(!(cpu->eflags & FL_IF));

    /* a conforming DPL 0 handler from CPL 3: no stack switch, CPL stays 3 */
    refresh();
    idt_gate(0x86, SEL_CONF_CODE, HANDLER(0x86), INTGATE32, 3, true);
    CODE(CODE3, 0xCD, 0x86);
    enter_ring3(CODE3, 0);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);   /* HLT at CPL 3: #GP(0) */
    assert_in_handler(EXC_GP);
    ck_assert_uint_eq(stack32(4), HANDLER(0x86));     /* the conforming handler's HLT */
    ck_assert_uint_eq(stack32(8), SEL_CONF_CODE | 3);  /* CS.RPL = CPL 3 */
    ck_assert_uint_eq(stack32(16), STACK3_TOP - 12);   /* the INT frame is on the ring-3 stack */

    /* JMP through a call gate to same-privilege code; far RET with an immediate */
    refresh();
    gate_at(GDT_BASE + 0xA0, SEL_CODE0, CODE0 + 0x200, CALLGATE32, 0, 0, true);
    CODE(CODE0, 0xEA, 0x00, 0x00, 0x00, 0x00, 0xA0, 0x00);
    CODE(CODE0 + 0x200, 0xCA, 0x04, 0x00);             /* lret 4 */
    w32(0x80000 - 12, CODE0 + 0x300);
    w32(0x80000 - 8, SEL_CODE0);
    cpu->gpr[R_ESP] = 0x80000 - 12;
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE0 + 0x200);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000 - 12);  /* JMP pushes nothing */
    ck_assert_int_eq(cpu_run(cpu, 1), CPU_STOP_BUDGET);
    ck_assert_uint_eq(cpu->eip, CODE0 + 0x300);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x80000);

    /* real mode: #UD delivered through the IVT returns to the faulting instruction */
    refresh();
    cpu_reset(cpu);
    w16(EXC_UD * 4, 0x0000);
    w16(EXC_UD * 4 + 2, 0x4000);
    CODE(0x40000, 0xF4);
    CODE(0x10000, 0x90, 0x0F, 0x0B);                   /* nop ; ud2 */
    cpu_load_seg(cpu, SEG_CS, 0x1000);
    cpu->eip = 0;
    cpu->gpr[R_ESP] = 0x1000;
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    ck_assert_int_eq(cpu->seg[SEG_CS].sel, 0x4000);
    ck_assert_uint_eq(cpu->gpr[R_ESP], 0x1000 - 6);
    ck_assert_uint_eq(stack16(0), 1);
    ck_assert_uint_eq(stack16(2), 0x1000);
}
END_TEST

/* ---- double and triple fault -------------------------------------------- */

START_TEST(test_double_fault)
{
    /* #NP (DS load) whose gate points at a data segment: #GP during #NP -> #DF(0) */
    idt_gate(EXC_NP, SEL_DATA0, 0, INTGATE32, 0, true);
    CODE(CODE0, 0x66, 0xB8, 0x38, 0x00, 0x8E, 0xD8);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_DF);
    ck_assert_uint_eq(stack32(0), 0);
    ck_assert_uint_eq(stack32(4), CODE0 + 4);
    ck_assert_int_eq(cpu->delivering, -1);

    /* benign first (#DB via INT1) with a not-present gate: #NP delivered serially */
    refresh();
    idt_gate(EXC_DB, SEL_CODE0, HANDLER(EXC_DB), INTGATE32, 0, false);
    CODE(CODE0, 0xF1);
    ck_assert_int_eq(run_to_halt(), CPU_STOP_HALT);
    assert_in_handler(EXC_NP);
    ck_assert_uint_eq(stack32(0), EXC_DB * 8 + 3);          /* IDT + EXT */

    /* #PF-class: #GP whose delivery hits #PF is serial; #PF then #GP is #DF */
}
END_TEST

START_TEST(test_triple_fault)
{
    /* #NP -> #GP in delivery -> #DF whose gate is not present -> shutdown */
    idt_gate(EXC_NP, SEL_DATA0, 0, INTGATE32, 0, true);
    idt_gate(EXC_DF, SEL_CODE0, HANDLER(EXC_DF), INTGATE32, 0, false);
    CODE(CODE0, 0x66, 0xB8, 0x38, 0x00, 0x8E, 0xD8);
    cpu->no_reboot = true;
    ck_assert_int_eq(run_to_halt(), CPU_STOP_TRIPLE_FAULT);
    ck_assert(cpu->shutdown);
    ck_assert(strstr(cpu->stop_reason, "triple fault") != NULL);
    ck_assert_uint_eq(cpu->eip, CODE0 + 4);                 /* nothing committed */

    /* real mode: IDT limit 0 makes every delivery #GP -> #DF -> shutdown */
    refresh();
    cpu_reset(cpu);
    cpu->idtr.limit = 0;
    cpu_load_seg(cpu, SEG_CS, 0x1000);
    cpu->eip = 0;
    CODE(0x10000, 0xCD, 0x21);
    ck_assert_int_eq(cpu_run(cpu, 10), CPU_STOP_TRIPLE_FAULT);
}
END_TEST

static Suite *protection_suite(void)
{
    Suite *s = suite_create("protection");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_seg_loads_cpl0);
    tcase_add_test(tc, test_seg_loads_cpl3_and_ldt);
    tcase_add_test(tc, test_seg_loads_real_and_v86);
    tcase_add_test(tc, test_sreg_instructions);
    tcase_add_test(tc, test_call_gate_cpl3_to_cpl0);
    tcase_add_test(tc, test_far_transfer_faults);
    tcase_add_test(tc, test_real_mode_far_and_int);
    tcase_add_test(tc, test_int_gate_from_cpl3_and_iret);
    tcase_add_test(tc, test_iret_flag_rules);
    tcase_add_test(tc, test_int_faults_and_ext_bit);
    tcase_add_test(tc, test_v86_iret_and_interrupts);
    tcase_add_test(tc, test_task_switch_call_iret);
    tcase_add_test(tc, test_task_switch_jmp_and_errors);
    tcase_add_test(tc, test_task_gate_interrupt);
    tcase_add_test(tc, test_task_switch_16bit_tss);
    tcase_add_test(tc, test_iret_to_outer_16bit_stack);
    tcase_add_test(tc, test_page_fault_classes);
    tcase_add_test(tc, test_task_switch_debug_trap);
    tcase_add_test(tc, test_gate_variants);
    tcase_add_test(tc, test_double_fault);
    tcase_add_test(tc, test_triple_fault);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(protection_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
