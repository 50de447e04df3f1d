/* tests/baremetal/realmode.c: protected mode -> real mode -> protected mode.
 *
 * Multiboot enters in 32-bit protected mode, so the kernel goes down the
 * documented path (SDM Vol. 3A 9.9.2): far jump to a 16-bit code segment,
 * load 64 KB data segments, clear CR0.PE, far jump to a real-mode CS, load
 * real-mode segments and the IVT; then back up: set PE, far jump to the
 * 32-bit code segment. In real mode it checks segment arithmetic, 16-bit
 * flags, operand- and address-size prefixes, INT n and a #DE through the
 * IVT (the fault pushes the IP of the DIV), and "unreal mode" (FS keeps the
 * 4 GB limit it had in protected mode, so a 32-bit offset reaches 1 MB+).
 * The real-mode code lives in .low (copied to 0x7000 at boot). */
#include "runtime.h"

asm(".section .low, \"ax\"\n"
    ".code16\n"
    "rm_entry16:\n"                         /* 16-bit protected mode */
    "  mov $0x30, %ax\n"                    /* SEL_DATA16 */
    "  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %gs\n"
    "  mov $0x10, %ax\n  mov %ax, %fs\n"    /* SEL_KDATA: 4 GB limit, kept in real mode */
    "  mov %cr0, %eax\n  and $0xFFFFFFFE, %eax\n  mov %eax, %cr0\n"
    "  ljmp $0, $rm_real\n"
    "rm_real:\n"
    "  xor %ax, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %gs\n"
    "  mov $0x6ff0, %sp\n"
    "  lidt rm_ivt_desc\n"
    "  mov %cs, %ax\n  mov %ax, rm_cs\n"
    "  mov %cr0, %eax\n  mov %eax, rm_cr0\n"
    /* segment arithmetic: 0x0700:(x - 0x7000) is 0:x */
    "  mov $0x0700, %ax\n  mov %ax, %ds\n"
    "  mov rm_marker - 0x7000, %ax\n"
    "  xor %bx, %bx\n  mov %bx, %ds\n"
    "  mov %ax, rm_seg_read\n"
    "  mov $0x0700, %ax\n  mov %ax, %es\n"
    "  movw $0x5a5a, %es:rm_es_write - 0x7000\n"
    "  xor %ax, %ax\n  mov %ax, %es\n"
    /* 16-bit arithmetic and flags */
    "  mov $0x7fff, %ax\n  add $1, %ax\n  pushf\n  pop %ax\n  mov %ax, rm_flags_add\n"
    "  mov $0x00ff, %ax\n  add $1, %al\n  pushf\n  pop %bx\n  mov %bx, rm_flags_add8\n  mov %ax, rm_result_add8\n"
    /* operand-size and address-size prefixes */
    "  mov $0x12345678, %eax\n  rol $8, %eax\n  mov %eax, rm_eax32\n"
    "  mov $rm_array, %esi\n  mov $2, %ecx\n  mov (%esi,%ecx,2), %dx\n  mov %dx, rm_array_read\n"
    /* unreal mode: FS base 0, limit 4 GB from protected mode */
    "  mov rm_high_addr, %esi\n  mov %fs:(%esi), %eax\n  mov %eax, rm_high_read\n"
    /* INT n through the IVT */
    "  movw $rm_int60, 0x180\n  movw $0, 0x182\n"
    "  stc\n  int $0x60\n"
    "rm_after_int60:\n"
    /* #DE through IVT vector 0: the handler skips the 2-byte DIV */
    "  movw $rm_de_handler, 0\n  movw $0, 2\n"
    "  xor %cx, %cx\n  mov $1, %ax\n  xor %dx, %dx\n"
    "rm_div:\n  div %cx\n"
    "  movw $1, rm_after_div\n"
    /* back to protected mode */
    "  mov %cr0, %eax\n  or $1, %eax\n  mov %eax, %cr0\n"
    "  ljmpl $0x08, $pm_back32\n"
    "rm_int60:\n"
    "  push %bp\n  mov %sp, %bp\n"
    "  mov 2(%bp), %ax\n  mov %ax, rm_int60_ip\n"
    "  mov 4(%bp), %ax\n  mov %ax, rm_int60_cs\n"
    "  mov 6(%bp), %ax\n  mov %ax, rm_int60_flags\n"
    "  pushf\n  pop %ax\n  mov %ax, rm_int60_inner_flags\n"
    "  pop %bp\n  iret\n"
    "rm_de_handler:\n"
    "  push %bp\n  mov %sp, %bp\n"
    "  mov 2(%bp), %ax\n  mov %ax, rm_de_ip\n"
    "  addw $2, 2(%bp)\n"
    "  incw rm_de_count\n"
    "  pop %bp\n  iret\n"
    ".balign 4\n"
    "rm_ivt_desc: .word 0x3ff\n .long 0\n"
    "rm_marker: .word 0xbeef\n"
    "rm_es_write: .word 0\n"
    "rm_array: .word 0x1111, 0x2222, 0x3333, 0x4444\n"
    ".balign 4\n"
    ".global rm_vars\n"
    "rm_vars:\n"
    "rm_cr0: .long 0\n"
    "rm_eax32: .long 0\n"
    "rm_high_read: .long 0\n"
    "rm_high_addr: .long rm_high_marker\n"
    "rm_cs: .word 0\n"
    "rm_seg_read: .word 0\n"
    "rm_flags_add: .word 0\n"
    "rm_flags_add8: .word 0\n"
    "rm_result_add8: .word 0\n"
    "rm_array_read: .word 0\n"
    "rm_int60_ip: .word 0\n"
    "rm_int60_cs: .word 0\n"
    "rm_int60_flags: .word 0\n"
    "rm_int60_inner_flags: .word 0\n"
    "rm_de_ip: .word 0\n"
    "rm_de_count: .word 0\n"
    "rm_after_div: .word 0\n"
    ".code32\n"
    ".text\n"
    ".global realmode_call\n"
    "realmode_call:\n"
    "  pusha\n"
    "  mov %esp, saved_esp\n"
    "  sidt saved_idtr\n"
    "  ljmp $0x28, $rm_entry16\n"
    "pm_back32:\n"
    "  mov $0x10, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %fs\n  mov %ax, %gs\n  mov %ax, %ss\n"
    "  mov saved_esp, %esp\n"
    "  lidt saved_idtr\n"
    "  popa\n"
    "  ret\n");

struct rm_vars {
    uint32_t cr0, eax32, high_read, high_addr;
    uint16_t cs, seg_read, flags_add, flags_add8, result_add8, array_read;
    uint16_t int60_ip, int60_cs, int60_flags, int60_inner_flags, de_ip, de_count, after_div;
} __attribute__((packed));

extern volatile struct rm_vars rm_vars;
extern char rm_after_int60[], rm_div[], rm_es_write[];
void realmode_call(void);
uint32_t saved_esp;
uint8_t saved_idtr[6];
volatile uint32_t rm_high_marker = 0xFEEDFACE;

void test_main(void)
{
    puts_e9("realmode: protected -> real -> protected\n");
    realmode_call();
    uint32_t cs;
    asm("mov %%cs, %0" : "=r"(cs));
    CHECK(cs == SEL_KCODE && (read_cr0() & 1), "back in 32-bit protected mode: CS %x", cs);
    volatile struct rm_vars *v = &rm_vars;
    CHECK(v->cs == 0, "real mode CS %x", v->cs);
    CHECK((v->cr0 & 0x8000001F) == 0x10, "real mode CR0 PE=0 PG=0 (low bits %x)", v->cr0 & 0x8000001F);
    CHECK(v->seg_read == 0xBEEF, "0x0700:offset reads 0:addr: %x", v->seg_read);
    CHECK(*(volatile uint16_t *)rm_es_write == 0x5A5A, "ES-relative write landed");
    CHECK((v->flags_add & 0x8D5) == 0x894, "add 0x7fff+1 flags %x (OF SF AF PF)", v->flags_add & 0x8D5);
    CHECK((v->flags_add8 & 0x8D5) == 0x055 && v->result_add8 == 0x0000,
          "add al 0xff+1 flags %x result %x", v->flags_add8 & 0x8D5, v->result_add8);
    CHECK(v->eax32 == 0x34567812, "32-bit operand prefix: rol eax = %x", v->eax32);
    CHECK(v->array_read == 0x3333, "32-bit address prefix [esi+ecx*2] = %x", v->array_read);
    CHECK(v->high_read == 0xFEEDFACE, "unreal mode: FS:[%x] = %x", v->high_addr, v->high_read);
    CHECK(v->int60_ip == (uint16_t)(uint32_t)rm_after_int60 && v->int60_cs == 0,
          "INT 60h pushed CS:IP %x:%x", v->int60_cs, v->int60_ip);
    CHECK((v->int60_flags & 0x1) == 1 && !(v->int60_inner_flags & 0x300),
          "INT 60h pushed FLAGS with CF=1; handler runs with IF=TF=0");
    CHECK(v->de_count == 1 && v->de_ip == (uint16_t)(uint32_t)rm_div, "#DE in real mode: IP %x (the DIV)", v->de_ip);
    CHECK(v->after_div == 1, "execution resumed after the DIV");
}
