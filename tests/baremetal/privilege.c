/* tests/baremetal/privilege.c: privilege transitions and task switches.
 *   - ring 3 -> ring 0 through a 32-bit call gate with 2 parameters copied
 *     to the inner stack, and RET far back (stack switch both ways);
 *   - ring 3 -> ring 0 through a DPL 3 interrupt gate and IRET back;
 *   - what ring 3 may not do: INT through a DPL 0 gate, CLI/HLT/MOV CR0
 *     at IOPL 0, loading a DPL 0 data segment;
 *   - a task switch by JMP to a TSS and back (busy bits, TR, saved EIP,
 *     CR0.TS), and by CALL with IRET back (NT, back link). */
#include "runtime.h"

#define GATE_INDEX   GDT_FIRST_FREE
#define GATE_SEL     ((GATE_INDEX << 3) | 3)
#define VEC_EXIT     0x40      /* ring 3 is done: back to run_catching */
#define VEC_USER_INT 0x41      /* DPL 3 interrupt gate, handler IRETs */
#define VEC_KERNEL   0x42      /* DPL 0 gate: INT from ring 3 -> #GP */

volatile uint32_t gate_cs, gate_ss, gate_ret_eip, gate_ret_cs, gate_p0, gate_p1, gate_old_esp, gate_old_ss;
volatile uint32_t user_cs_after_gate, user_cs_after_int, user_ss_after;
static volatile uint32_t int_cs, int_ss, int_frame_cs, int_frame_ss, int_frame_eflags;
uint8_t user_stack[4096] __attribute__((aligned(16)));
static uint8_t task2_stack[4096] __attribute__((aligned(16)));
extern char gate_return[];

asm(".text\n"
    "gate_target:\n"
    "  mov %cs, %eax\n  mov %eax, gate_cs\n"
    "  mov %ss, %eax\n  mov %eax, gate_ss\n"
    "  mov 0(%esp), %eax\n  mov %eax, gate_ret_eip\n"
    "  mov 4(%esp), %eax\n  mov %eax, gate_ret_cs\n"
    "  mov 8(%esp), %eax\n  mov %eax, gate_p0\n"
    "  mov 12(%esp), %eax\n  mov %eax, gate_p1\n"
    "  mov 16(%esp), %eax\n  mov %eax, gate_old_esp\n"
    "  mov 20(%esp), %eax\n  mov %eax, gate_old_ss\n"
    "  lret $8\n"
    "user_gate_and_int:\n"
    "  push $0x1111\n  push $0x2222\n"
    "  lcall $0x4B, $0\n"               /* GATE_SEL */
    "gate_return:\n"
    "  add $8, %esp\n"
    "  mov %cs, %eax\n  mov %eax, user_cs_after_gate\n"
    "  int $0x41\n"
    "  mov %cs, %eax\n  mov %eax, user_cs_after_int\n"
    "  mov %ss, %eax\n  mov %eax, user_ss_after\n"
    "  int $0x40\n"
    "user_int_kernel_gate:\n  int $0x42\n  int $0x40\n"
    "user_cli:\n  cli\n  int $0x40\n"
    "user_hlt:\n  hlt\n  int $0x40\n"
    "user_mov_cr0:\n  mov %cr0, %eax\n  int $0x40\n"
    "user_load_kdata:\n  mov $0x10, %eax\n  mov %eax, %ds\n  int $0x40\n");
extern char gate_target[], user_gate_and_int[], user_int_kernel_gate[], user_cli[], user_hlt[];
extern char user_mov_cr0[], user_load_kdata[];

static bool user_int_handler(struct frame *f)
{
    uint32_t cs, ss;
    asm("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    int_cs = cs;
    int_ss = ss;
    int_frame_cs = f->cs & 0xFFFF;
    int_frame_ss = f->ss & 0xFFFF;
    int_frame_eflags = f->eflags;
    return true;
}

static void (*ring3_code)(void);
static void run_ring3(void *arg) { enter_ring3(ring3_code, (uint32_t)(user_stack + sizeof(user_stack))); }

static int in_ring3(void *code)
{
    ring3_code = (void (*)(void))code;
    return run_catching(run_ring3, 0);
}

static void gates(void)
{
    gdt_set_gate(GATE_INDEX, SEL_KCODE, (uint32_t)gate_target, ACC_P | ACC_DPL(3) | ACC_CALLGATE32, 2);
    idt_set_default(VEC_EXIT, 3);
    idt_set_default(VEC_USER_INT, 3);
    exc_handlers[VEC_USER_INT] = user_int_handler;

    int v = in_ring3(user_gate_and_int);
    CHECK(v == VEC_EXIT, "ring 3 code ran to its exit INT (vector %x)", v);
    CHECK(gate_cs == SEL_KCODE && gate_ss == SEL_KDATA, "call gate: inner CS %x SS %x", gate_cs, gate_ss);
    CHECK(gate_ret_cs == SEL_UCODE && gate_ret_eip == (uint32_t)gate_return,
          "call gate: return CS %x EIP %s", gate_ret_cs, gate_ret_eip == (uint32_t)gate_return ? "ok" : "WRONG");
    CHECK(gate_p0 == 0x2222 && gate_p1 == 0x1111, "call gate: parameters copied %x %x", gate_p0, gate_p1);
    CHECK(gate_old_ss == SEL_UDATA && gate_old_esp == (uint32_t)(user_stack + sizeof(user_stack)) - 8,
          "call gate: outer SS %x and ESP (top-8) %s", gate_old_ss,
          gate_old_esp == (uint32_t)(user_stack + sizeof(user_stack)) - 8 ? "ok" : "WRONG");
    CHECK(user_cs_after_gate == SEL_UCODE, "RET far back in ring 3: CS %x", user_cs_after_gate);
    CHECK(int_cs == SEL_KCODE && int_ss == SEL_KDATA, "interrupt gate: handler CS %x SS %x", int_cs, int_ss);
    CHECK(int_frame_cs == SEL_UCODE && int_frame_ss == SEL_UDATA, "interrupt gate: frame CS %x SS %x",
          int_frame_cs, int_frame_ss);
    CHECK(user_cs_after_int == SEL_UCODE && user_ss_after == SEL_UDATA, "IRET back to ring 3: CS %x SS %x",
          user_cs_after_int, user_ss_after);

    v = in_ring3(user_int_kernel_gate);
    CHECK(v == 13 && exc_last.error == ((VEC_KERNEL << 3) | 2), "INT to a DPL 0 gate: vector %d error %x",
          v, exc_last.error);
    v = in_ring3(user_cli);
    CHECK(v == 13 && exc_last.error == 0 && exc_last.eip == (uint32_t)user_cli, "CLI at CPL 3, IOPL 0: vector %d", v);
    v = in_ring3(user_hlt);
    CHECK(v == 13 && exc_last.eip == (uint32_t)user_hlt, "HLT at CPL 3: vector %d", v);
    v = in_ring3(user_mov_cr0);
    CHECK(v == 13 && exc_last.eip == (uint32_t)user_mov_cr0, "MOV from CR0 at CPL 3: vector %d", v);
    v = in_ring3(user_load_kdata);
    CHECK(v == 13 && exc_last.error == SEL_KDATA, "load DPL 0 data segment at CPL 3: vector %d error %x",
          v, exc_last.error);
}

/* ---- tasks ---- */

static volatile uint32_t task2_tr, task2_eflags, task2_runs, task2_link;
extern char task2_entry[], task2_jmp_back[], task2_after_jmp_back[], task1_after_jmp[];

asm(".text\n"
    "task2_entry:\n"
    "  incl task2_runs\n"
    "  str %eax\n  mov %eax, task2_tr\n"
    "  pushf\n  pop %eax\n  mov %eax, task2_eflags\n"
    "task2_jmp_back:\n"
    "  ljmp $0x38, $0\n"                /* SEL_TSS */
    "task2_after_jmp_back:\n"
    "  hlt\n"
    "task2_call_entry:\n"
    "  incl task2_runs\n"
    "  pushf\n  pop %eax\n  mov %eax, task2_eflags\n"
    "  iret\n"
    "  jmp task2_call_entry\n");
extern char task2_call_entry[];

static uint32_t desc_type(uint16_t sel) { return (uint32_t)(gdt[sel >> 3] >> 40) & 0xF; }

static void setup_task2(void *entry)
{
    memset(&tss2, 0, sizeof(tss2));
    tss2.eip = (uint32_t)entry;
    tss2.esp = (uint32_t)(task2_stack + sizeof(task2_stack));
    tss2.cs = SEL_KCODE;
    tss2.ss = tss2.ds = tss2.es = tss2.fs = tss2.gs = SEL_KDATA;
    tss2.eflags = 0x2;
    tss2.cr3 = read_cr3();
    tss2.iomap_base = sizeof(struct tss32);
    tss2.ebx = 0xB0B0B0B0;
    gdt_set_seg(SEL_TSS2 >> 3, (uint32_t)&tss2, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32, 0);
}

static void tasks(void)
{
    setup_task2(task2_entry);
    CHECK(desc_type(SEL_TSS) == 0xB && desc_type(SEL_TSS2) == 0x9, "before: TSS busy, TSS2 available");
    uint32_t ebx_in_task1 = 0x12345678, tr;
    asm volatile("ljmp %1, $0\n task1_after_jmp:" : "+b"(ebx_in_task1) : "i"(SEL_TSS2)
                 : "eax", "ecx", "edx", "esi", "edi", "memory");
    asm volatile("str %0" : "=r"(tr));
    CHECK(task2_runs == 1, "JMP to TSS2 ran task 2");
    CHECK(task2_tr == SEL_TSS2 && tr == SEL_TSS, "TR in task 2 %x, back in task 1 %x", task2_tr, tr);
    CHECK(!(task2_eflags & 0x4000), "JMP: NT clear in task 2 (eflags %x)", task2_eflags);
    CHECK(tss2.link == 0, "JMP: no back link written");
    CHECK(tss2.eip == (uint32_t)task2_after_jmp_back, "task 2 state saved: EIP after its JMP back");
    CHECK(tss_main.eip == (uint32_t)task1_after_jmp, "task 1 state saved: EIP after its JMP");
    CHECK(ebx_in_task1 == 0x12345678, "task 1 EBX restored: %x", ebx_in_task1);
    CHECK(desc_type(SEL_TSS) == 0xB && desc_type(SEL_TSS2) == 0x9, "after: TSS busy, TSS2 available again");
    CHECK(read_cr0() & 0x8, "CR0.TS set by the task switch");
    asm volatile("clts");

    setup_task2(task2_call_entry);
    asm volatile("lcall %0, $0" :: "i"(SEL_TSS2) : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory");
    CHECK(task2_runs == 2, "CALL to TSS2 ran task 2");
    CHECK(task2_eflags & 0x4000, "CALL: NT set in task 2 (eflags %x)", task2_eflags);
    CHECK(tss2.link == SEL_TSS, "CALL: back link %x", tss2.link);
    CHECK(desc_type(SEL_TSS2) == 0x9 && desc_type(SEL_TSS) == 0xB, "IRET back: TSS2 available, TSS busy");
    CHECK(!(read_eflags() & 0x4000), "NT clear again in task 1");
    asm volatile("clts");
}

void test_main(void)
{
    puts_e9("privilege: call gate, interrupt gate, ring 3 limits, task switches\n");
    gates();
    tasks();
}
