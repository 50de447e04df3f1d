/* tests/baremetal/runtime.h: the tiny runtime shared by the bare-metal test
 * kernels (multiboot ELF32, built with gcc -m32 -ffreestanding).
 *
 * What a test gets before test_main() runs: 32-bit protected mode on the
 * runtime's own GDT (selectors below) and an IDT whose every vector goes to
 * exc_dispatch; a 16 KB stack; .bss zeroed; the .low section copied to
 * LOW_BASE (0x7000) for real-mode and V86 code; CR0 = PE|ET|NE (caches on,
 * no paging) so every run starts from the same state on every emulator.
 *
 * Output goes to port 0xE9 (debugcon). Exit convention (isa-debug-exit at
 * 0xF4): the kernel writes TEST_PASS_CODE (0x10) for pass, giving the
 * emulator exit status (0x10 << 1) | 1 = 33, and TEST_FAIL_CODE (0x11) for
 * fail (status 35). Any other status (1: triple fault, a timeout...) is a
 * failure too. The last transcript line is "PASS" or "FAIL (n checks)".
 *
 * Catching faults: run_catching(fn, arg) runs fn; if an exception happens
 * inside (at any CPL, in V86 mode too) and no per-vector handler claims it,
 * the runtime records it in exc_last and returns its vector; -1 if fn
 * completed. An exception outside run_catching is a test failure.
 *
 * Usage (a test file):
 *   #include "runtime.h"
 *   static void divide(void *arg) { asm volatile("div %0" :: "r"(0) : "eax", "edx"); }
 *   void test_main(void) {
 *       CHECK(run_catching(divide, 0) == 0, "#DE expected");
 *   }
 */
#ifndef BAREMETAL_RUNTIME_H
#define BAREMETAL_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_PASS_CODE 0x10
#define TEST_FAIL_CODE 0x11
#define DEBUGCON_PORT  0xE9
#define EXIT_PORT      0xF4

/* GDT selectors */
#define SEL_KCODE    0x08    /* ring 0 flat code32 */
#define SEL_KDATA    0x10    /* ring 0 flat data32 */
#define SEL_UCODE    0x1B    /* ring 3 flat code32 (index 3, RPL 3) */
#define SEL_UDATA    0x23    /* ring 3 flat data32 (index 4, RPL 3) */
#define SEL_CODE16   0x28    /* ring 0 code16, base 0, limit 0xFFFF */
#define SEL_DATA16   0x30    /* ring 0 data16, base 0, limit 0xFFFF */
#define SEL_TSS      0x38    /* the runtime's TSS (loaded in TR) */
#define SEL_TSS2     0x40    /* a second TSS for tests */
#define GDT_FIRST_FREE 9     /* entries 9 .. GDT_ENTRIES-1 are the tests' */
#define GDT_ENTRIES  24

/* descriptor access bytes */
#define ACC_P        0x80
#define ACC_DPL(n)   ((n) << 5)
#define ACC_S        0x10
#define ACC_CODE     0x1A    /* S | code | readable */
#define ACC_DATA     0x12    /* S | data | writable */
#define ACC_TSS32    0x09
#define ACC_LDT      0x02
#define ACC_CALLGATE32 0x0C
#define ACC_INTGATE32  0x0E
#define ACC_TRAPGATE32 0x0F
#define ACC_TASKGATE   0x05
/* flags nibble (descriptor bits 52-55) */
#define FLG_G        0x8
#define FLG_DB       0x4

#define LOW_BASE     0x7000

struct frame {                       /* built by isr_common (boot.S) */
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;                /* only when the CPL changed */
    uint32_t v86_es, v86_ds, v86_fs, v86_gs;   /* only from V86 mode */
};

struct exc_record {
    int      vector;
    uint32_t error, eip, cs, eflags, cr2;
    uint32_t count;                  /* exceptions seen since boot */
};

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

/* A handler returns true to resume the interrupted code (IRET with the
 * frame as it left it), false to let the default policy act. */
typedef bool (*exc_handler_fn)(struct frame *f);

extern volatile struct exc_record exc_last;
extern exc_handler_fn exc_handlers[256];
extern uint64_t gdt[GDT_ENTRIES];
extern struct tss32 tss_main, tss2;
extern uint8_t isr_stubs[];
extern char __low_start[], __low_end[];

void test_main(void);                /* each test defines it */

/* output */
void putc_e9(char c);
void puts_e9(const char *s);
void printf_e9(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define CHECK(cond, ...) check_result((cond), __FILE__, __LINE__, __VA_ARGS__)
void check_result(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
unsigned failures(void);
__attribute__((noreturn)) void finish(void);
__attribute__((noreturn)) void exit_with(uint8_t code);

/* faults */
int run_catching(void (*fn)(void *), void *arg);

/* descriptor tables */
void gdt_set_seg(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void gdt_set_gate(int index, uint16_t sel, uint32_t offset, uint8_t access, uint8_t params);
void idt_set_gate(int vec, uint16_t sel, uint32_t offset, uint8_t access);
void idt_set_default(int vec, int dpl);   /* the runtime's stub, interrupt gate */
static inline uint32_t isr_stub_addr(int vec) { return (uint32_t)isr_stubs + 16u * (uint32_t)vec; }
/* Run fn at CPL 3 on stack user_esp (via IRET, IF=0, IOPL 0). fn must
 * finish with a trap back to ring 0 (e.g. an INT to a handler that makes
 * run_catching return): ring 3 has nowhere to return to. */
__attribute__((noreturn)) void enter_ring3(void (*fn)(void), uint32_t user_esp);

/* paging: page_dir identity-maps 0-8 MB (0-4 MB with 4 KB pages through
 * page_table0, 4-8 MB as one 4 MB page) when paging_identity() runs. */
extern volatile uint32_t page_dir[1024];    /* volatile: the CPU writes A/D bits */
extern volatile uint32_t page_table0[1024];
/* Calls fn with EAX = v (code under test reads its input there); returns
 * the EAX fn returns with. */
uint32_t call_with_eax(const void *fn, uint32_t v);
void paging_identity(void);          /* builds tables, CR3, CR4.PSE, CR0.PG */
void paging_off(void);
/* Fill the page directory pd (4 KB aligned) with the kernel's identity map
 * of 0 .. mb MB (mb a multiple of 4): 0-4 MB through page_table0 (shared
 * by every directory filled this way), the rest as 4 MB pages, all user and
 * writable; every other entry not present. Needs CR4.PSE to be used. */
void paging_fill_identity(volatile uint32_t *pd, uint32_t mb);

/* One 32-bit access at linear addr, faults caught: -1 when it completed
 * (the read value in *value), else the vector (exc_last has the details).
 * The _user forms run it at CPL 3 (they set vector 0x40 as the DPL 3 way
 * back), on the runtime's own user stack. */
int try_read32(uint32_t addr, uint32_t *value);
int try_write32(uint32_t addr, uint32_t value);
int try_user_read32(uint32_t addr, uint32_t *value);
int try_user_write32(uint32_t addr, uint32_t value);

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_U  0x004
#define PTE_A  0x020
#define PTE_D  0x040
#define PTE_PS 0x080
#define PTE_G  0x100

/* small helpers */
static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* PCI configuration mechanism #1, bus 0 */
#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC
static inline uint32_t pci_read(int dev, int reg)
{
    outl(PCI_ADDR, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    return inl(PCI_DATA);
}
static inline void pci_write(int dev, int reg, uint32_t v)
{
    outl(PCI_ADDR, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    outl(PCI_DATA, v);
}
static inline uint32_t read_cr0(void) { uint32_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr2(void) { uint32_t v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { asm volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { asm volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { asm volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void invlpg(uint32_t addr) { asm volatile("invlpg (%0)" :: "r"(addr) : "memory"); }
static inline uint32_t read_eflags(void) { uint32_t v; asm volatile("pushf; pop %0" : "=r"(v)); return v; }
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif
