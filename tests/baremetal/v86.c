/* tests/baremetal/v86.c: virtual-8086 mode at IOPL 0 under a tiny monitor.
 * The kernel IRETs into V86 code (in .low) with a TSS whose I/O bitmap
 * allows port 0xE9 only. Every IOPL-sensitive instruction must trap to the
 * monitor as #GP(0) (CLI, STI, PUSHF, POPF, INT n, IRET), HLT too; INT3
 * goes through the IDT and meets a DPL 0 gate: #GP(0x1A). OUT to 0xE9 is
 * allowed by the bitmap (it prints), IN from 0x61 is not, nor a word OUT
 * at 0xE9 (it also touches 0xEA). The monitor logs each trap, skips the
 * instruction and IRETs back to V86; INT 20h ends the run. */
#include "runtime.h"

#define V86_TSS_INDEX GDT_FIRST_FREE
#define V86_TSS_SEL   (V86_TSS_INDEX << 3)

asm(".section .low, \"ax\"\n"
    ".code16\n"
    ".global v86_code\n"
    "v86_code:\n"
    "  mov $'V', %al\n  out %al, $0xe9\n"
    "  mov %cs, %ax\n  mov %ax, %ds\n"
    "  movw $0x8686, v86_marker\n"
    "  cli\n"
    "  sti\n"
    "  pushf\n"
    "  popf\n"
    "  int $0x21\n"
    "  iret\n"
    "  hlt\n"
    "  int3\n"
    "  in $0x61, %al\n"
    "  mov $0xe9, %dx\n  mov $0x0a38, %ax\n  out %ax, %dx\n"
    "  mov $'6', %al\n  out %al, $0xe9\n"
    "  mov $'\\n', %al\n  out %al, $0xe9\n"
    "  int $0x20\n"
    "v86_marker: .word 0\n"
    ".code32\n"
    ".text\n");
extern char v86_code[];
extern volatile uint16_t v86_marker;

static struct {
    struct tss32 tss;
    uint8_t iomap[8192 + 1];
} __attribute__((packed, aligned(128))) v86_tss;
static uint8_t monitor_stack[8192] __attribute__((aligned(16)));

#define MAX_TRAPS 16
static struct { uint8_t opcode; uint32_t error, ip, eflags; } traps[MAX_TRAPS];
static int ntraps;
static bool v86_done;
static uint32_t exit_cs, exit_ds_frame;

static bool v86_monitor(struct frame *f)
{
    if (!(f->eflags & 0x20000))
        return false;
    const uint8_t *code = (const uint8_t *)((f->cs & 0xFFFF) * 16 + (f->eip & 0xFFFF));
    if (code[0] == 0xCD && code[1] == 0x20) {
        v86_done = true;
        exit_cs = f->cs & 0xFFFF;
        exit_ds_frame = f->v86_ds & 0xFFFF;
        return false;                      /* back to run_catching */
    }
    if (ntraps < MAX_TRAPS)
        traps[ntraps++] = (typeof(traps[0])){ code[0], f->error, f->eip & 0xFFFF, f->eflags };
    f->eip += (code[0] == 0xCD || code[0] == 0xE4 || code[0] == 0xE6) ? 2 : 1;
    return true;
}

static void enter_v86(void *arg)
{
    uint32_t eflags = 0x20002;             /* VM, IOPL 0, IF 0 */
    asm volatile("push $0\n push $0\n push $0\n push $0\n"   /* GS FS DS ES */
                 "push $0\n push $0x6f00\n"                  /* SS SP */
                 "push %0\n push $0\n push %1\n iret"
                 :: "r"(eflags), "r"((uint32_t)v86_code) : "memory");
}

static const struct { uint8_t opcode; uint32_t error; const char *name; } expected[] = {
    { 0xFA, 0, "cli" }, { 0xFB, 0, "sti" }, { 0x9C, 0, "pushf" }, { 0x9D, 0, "popf" },
    { 0xCD, 0, "int 21h" }, { 0xCF, 0, "iret" }, { 0xF4, 0, "hlt" }, { 0xCC, 0x1A, "int3" },
    { 0xE4, 0, "in al, 61h" }, { 0xEF, 0, "out dx(e9), ax" },
};

void test_main(void)
{
    puts_e9("v86: IOPL 0 monitor, I/O bitmap\n");
    v86_tss.tss.ss0 = SEL_KDATA;
    v86_tss.tss.esp0 = (uint32_t)(monitor_stack + sizeof(monitor_stack));
    v86_tss.tss.iomap_base = (uint16_t)__builtin_offsetof(typeof(v86_tss), iomap);
    for (unsigned i = 0; i < sizeof(v86_tss.iomap); i++)
        v86_tss.iomap[i] = 0xFF;
    v86_tss.iomap[0xE9 / 8] &= (uint8_t)~(1u << (0xE9 % 8));
    gdt_set_seg(V86_TSS_INDEX, (uint32_t)&v86_tss, sizeof(v86_tss) - 1, ACC_P | ACC_TSS32, 0);
    asm volatile("ltr %w0" :: "r"(V86_TSS_SEL));
    exc_handlers[13] = v86_monitor;

    int v = run_catching(enter_v86, 0);
    CHECK(v == 13 && v86_done, "V86 code ran to INT 20h (vector %d)", v);
    CHECK(exit_cs == 0 && exit_ds_frame == 0, "monitor frame: V86 CS %x DS %x", exit_cs, exit_ds_frame);
    CHECK(v86_marker == 0x8686, "V86 store through DS = CS = 0");
    CHECK(ntraps == (int)(sizeof(expected) / sizeof(expected[0])), "%d traps", ntraps);
    for (int i = 0; i < ntraps && i < (int)(sizeof(expected) / sizeof(expected[0])); i++)
        CHECK(traps[i].opcode == expected[i].opcode && traps[i].error == expected[i].error
              && (traps[i].eflags & 0x23000) == 0x20000,
              "%-16s -> #GP(%x) at %x, VM=1 IOPL=0 (opcode %x)", expected[i].name, traps[i].error,
              traps[i].ip, traps[i].opcode);

    exc_handlers[13] = 0;
    gdt[SEL_TSS >> 3] &= ~(2ull << 40);    /* busy -> available, to reload it */
    asm volatile("ltr %w0" :: "r"(SEL_TSS));
}
