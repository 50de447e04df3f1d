/* tests/baremetal/boot.S: multiboot header, entry point, exception stubs
 * and the context save/restore that lets a test catch a fault.
 *
 * Every IDT vector n has a 16-byte stub at isr_stubs + 16 * n that pushes a
 * dummy error code (unless the CPU pushes one), then n, and joins
 * isr_common, which saves the registers as struct frame (runtime.h) and
 * calls exc_dispatch(frame). If exc_dispatch returns, the stub IRETs. */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002
#define KDATA    0x10

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .text
    .global _start
_start:
    cli
    cld
    mov $boot_stack_top, %esp
    push %ebx                   /* multiboot info */
    push %eax                   /* multiboot magic */
    call kernel_entry
1:  hlt
    jmp 1b

    .altmacro
.macro isr_stub n
    .align 16
    .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
    .else
    push $0
    .endif
    push $\n
    jmp isr_common
.endm

    .align 16
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    isr_stub %vec
    .set vec, vec + 1
    .endr

isr_common:
    pusha
    push %ds
    push %es
    push %fs
    push %gs
    mov $KDATA, %ax
    mov %ax, %ds
    mov %ax, %es
    cld
    push %esp
    call exc_dispatch
    add $4, %esp
    pop %gs
    pop %fs
    pop %es
    pop %ds
    popa
    add $8, %esp
    iret

/* int ctx_save(struct ctx *c): 0 now, 1 when ctx_restore(c) comes back. */
    .global ctx_save
ctx_save:
    mov 4(%esp), %eax
    mov %ebx, 0(%eax)
    mov %esi, 4(%eax)
    mov %edi, 8(%eax)
    mov %ebp, 12(%eax)
    lea 4(%esp), %ecx
    mov %ecx, 16(%eax)          /* ESP after return */
    mov (%esp), %ecx
    mov %ecx, 20(%eax)          /* return address */
    xor %eax, %eax
    ret

/* noreturn void ctx_restore(struct ctx *c): back into ring 0 kernel state. */
    .global ctx_restore
ctx_restore:
    mov 4(%esp), %eax
    mov $KDATA, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    mov %cx, %ss
    mov 0(%eax), %ebx
    mov 4(%eax), %esi
    mov 8(%eax), %edi
    mov 12(%eax), %ebp
    mov 16(%eax), %esp
    push $0x2                   /* EFLAGS: IF=0, DF=0, NT=0 */
    popf
    mov 20(%eax), %ecx
    mov $1, %eax
    jmp *%ecx
