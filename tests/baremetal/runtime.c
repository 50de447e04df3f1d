/* tests/baremetal/runtime.c: boot, descriptor tables, output, checks and
 * fault catching for the bare-metal test kernels (see runtime.h). */
#include "runtime.h"

#include <stdarg.h>

struct ctx { uint32_t ebx, esi, edi, ebp, esp, eip; };
int ctx_save(struct ctx *c) __attribute__((returns_twice));
__attribute__((noreturn)) void ctx_restore(struct ctx *c);
void kernel_entry(uint32_t magic, uint32_t mbi);
void exc_dispatch(struct frame *f);

uint8_t boot_stack[16384] __attribute__((aligned(16)));
asm(".global boot_stack_top\n.set boot_stack_top, boot_stack + 16384");
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));

uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
struct tss32 tss_main __attribute__((aligned(128)));
struct tss32 tss2 __attribute__((aligned(128)));
volatile uint32_t page_dir[1024] __attribute__((aligned(4096)));
volatile uint32_t page_table0[1024] __attribute__((aligned(4096)));

volatile struct exc_record exc_last;
exc_handler_fn exc_handlers[256];
static struct ctx catch_ctx;
static volatile bool catching;
static unsigned failed_checks;

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

/* ---- output ---- */

void putc_e9(char c) { outb(DEBUGCON_PORT, (uint8_t)c); }

void puts_e9(const char *s)
{
    while (*s)
        putc_e9(*s++);
}

static void put_number(uint32_t v, unsigned base, int width, char pad, bool upper)
{
    char buf[12];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    while (width-- > n)
        putc_e9(pad);
    while (n)
        putc_e9(buf[--n]);
}

static void vprintf_e9(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_e9(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        bool left = false;
        if (*fmt == '-') {
            left = true;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0) {
                putc_e9('-');
                put_number(-(uint32_t)v, 10, width ? width - 1 : 0, pad, false);
            } else {
                put_number((uint32_t)v, 10, width, pad, false);
            }
            break;
        }
        case 'u': put_number(va_arg(ap, uint32_t), 10, width, pad, false); break;
        case 'x': put_number(va_arg(ap, uint32_t), 16, width, pad, false); break;
        case 'X': put_number(va_arg(ap, uint32_t), 16, width, pad, true); break;
        case 'p': puts_e9("0x"); put_number(va_arg(ap, uint32_t), 16, 8, '0', false); break;
        case 'c': putc_e9((char)va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = 0;
            if (!s)
                s = "(null)";
            while (s[len])
                len++;
            if (!left)
                for (int i = len; i < width; i++)
                    putc_e9(' ');
            puts_e9(s);
            if (left)
                for (int i = len; i < width; i++)
                    putc_e9(' ');
            break;
        }
        case '%': putc_e9('%'); break;
        default: putc_e9('?'); break;
        }
    }
}

void printf_e9(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf_e9(fmt, ap);
    va_end(ap);
}

void check_result(bool ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    puts_e9(ok ? "ok   " : "FAIL ");
    vprintf_e9(fmt, ap);
    va_end(ap);
    if (!ok) {
        printf_e9("  (%s:%d)", file, line);
        failed_checks++;
    }
    putc_e9('\n');
}

unsigned failures(void) { return failed_checks; }

void exit_with(uint8_t code)
{
    outb(EXIT_PORT, code);
    puts_e9("no isa-debug-exit device at 0xf4: halting\n");
    for (;;)
        asm volatile("cli; hlt");
}

void finish(void)
{
    if (failed_checks) {
        printf_e9("FAIL (%u checks)\n", failed_checks);
        exit_with(TEST_FAIL_CODE);
    }
    puts_e9("PASS\n");
    exit_with(TEST_PASS_CODE);
}

/* ---- faults ---- */

void exc_dispatch(struct frame *f)
{
    exc_last.vector = (int)f->vector;
    exc_last.error = f->error;
    exc_last.eip = f->eip;
    exc_last.cs = f->cs & 0xFFFF;
    exc_last.eflags = f->eflags;
    exc_last.cr2 = f->vector == 14 ? read_cr2() : 0;
    exc_last.count++;
    exc_handler_fn h = exc_handlers[f->vector];
    if (h && h(f))
        return;
    if (catching) {
        catching = false;
        ctx_restore(&catch_ctx);
    }
    printf_e9("FAIL unexpected exception %u error %x at %x:%x eflags %x\n",
              f->vector, f->error, f->cs & 0xFFFF, f->eip, f->eflags);
    failed_checks++;
    finish();
}

int run_catching(void (*fn)(void *), void *arg)
{
    exc_last.vector = -1;
    if (ctx_save(&catch_ctx))
        return exc_last.vector;
    catching = true;
    fn(arg);
    catching = false;
    return -1;
}

/* ---- descriptor tables ---- */

void gdt_set_seg(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[index] = (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16
               | (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48
               | (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

void gdt_set_gate(int index, uint16_t sel, uint32_t offset, uint8_t access, uint8_t params)
{
    gdt[index] = (uint64_t)(offset & 0xFFFF) | (uint64_t)sel << 16
               | (uint64_t)(params & 0x1F) << 32 | (uint64_t)access << 40
               | (uint64_t)(offset >> 16) << 48;
}

void idt_set_gate(int vec, uint16_t sel, uint32_t offset, uint8_t access)
{
    idt[vec] = (uint64_t)(offset & 0xFFFF) | (uint64_t)sel << 16 | (uint64_t)access << 40
             | (uint64_t)(offset >> 16) << 48;
}

void idt_set_default(int vec, int dpl)
{
    idt_set_gate(vec, SEL_KCODE, isr_stub_addr(vec), ACC_P | ACC_DPL(dpl) | ACC_INTGATE32);
}

static void load_tables(void)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed))
        gdtr = { sizeof(gdt) - 1, (uint32_t)gdt }, idtr = { sizeof(idt) - 1, (uint32_t)idt };
    asm volatile("lgdt %0" :: "m"(gdtr));
    asm volatile("lidt %0" :: "m"(idtr));
    asm volatile("ljmp %0, $1f\n1:\n"
                 "mov %1, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%fs\n"
                 "mov %%ax, %%gs\n mov %%ax, %%ss\n"
                 :: "i"(SEL_KCODE), "i"(SEL_KDATA) : "eax", "memory");
    asm volatile("ltr %w0" :: "r"(SEL_TSS));
    asm volatile("lldt %w0" :: "r"(0));
}

void enter_ring3(void (*fn)(void), uint32_t user_esp)
{
    asm volatile("mov %0, %%ds\n mov %0, %%es\n mov %0, %%fs\n mov %0, %%gs\n"
                 "push %0\n push %1\n push $0x2\n push %2\n push %3\n iret"
                 :: "r"((uint32_t)SEL_UDATA), "r"(user_esp), "r"((uint32_t)SEL_UCODE),
                    "r"((uint32_t)fn) : "memory");
    __builtin_unreachable();
}

/* ---- paging ---- */

void paging_fill_identity(volatile uint32_t *pd, uint32_t mb)
{
    for (uint32_t i = 0; i < 1024; i++)
        pd[i] = i > 0 && i < mb / 4 ? (i << 22) | PTE_P | PTE_W | PTE_U | PTE_PS : 0;
    pd[0] = (uint32_t)page_table0 | PTE_P | PTE_W | PTE_U;
}

void paging_identity(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        page_table0[i] = (i << 12) | PTE_P | PTE_W | PTE_U;
    paging_fill_identity(page_dir, 8);
    write_cr3((uint32_t)page_dir);
    write_cr4(read_cr4() | 0x10);   /* PSE */
    write_cr0(read_cr0() | 0x80000000u);
}

void paging_off(void)
{
    write_cr0(read_cr0() & ~0x80000000u);
}

/* ---- single accesses with faults caught ---- */

static volatile uint32_t access_addr, access_value;
static uint8_t access_user_stack[4096] __attribute__((aligned(16)));

static void access_read(void *arg) { access_value = *(volatile uint32_t *)access_addr; }
static void access_write(void *arg) { *(volatile uint32_t *)access_addr = access_value; }

/* ring 3 has nowhere to return to: INT 0x40 ends the run_catching */
static void user_access_read(void)
{
    access_value = *(volatile uint32_t *)access_addr;
    asm volatile("int $0x40" ::: "memory");
    __builtin_unreachable();
}

static void user_access_write(void)
{
    *(volatile uint32_t *)access_addr = access_value;
    asm volatile("int $0x40" ::: "memory");
    __builtin_unreachable();
}

static void enter_user_access(void *fn)
{
    enter_ring3((void (*)(void))fn, (uint32_t)(access_user_stack + sizeof(access_user_stack)));
}

int try_read32(uint32_t addr, uint32_t *value)
{
    access_addr = addr;
    int v = run_catching(access_read, 0);
    *value = access_value;
    return v;
}

int try_write32(uint32_t addr, uint32_t value)
{
    access_addr = addr;
    access_value = value;
    return run_catching(access_write, 0);
}

static int user_access(void (*fn)(void))
{
    idt_set_default(0x40, 3);
    int v = run_catching(enter_user_access, (void *)fn);
    return v == 0x40 ? -1 : v;
}

int try_user_read32(uint32_t addr, uint32_t *value)
{
    access_addr = addr;
    int v = user_access(user_access_read);
    *value = access_value;
    return v;
}

int try_user_write32(uint32_t addr, uint32_t value)
{
    access_addr = addr;
    access_value = value;
    return user_access(user_access_write);
}

/* ---- boot ---- */

void kernel_entry(uint32_t magic, uint32_t mbi)
{
    (void)mbi;
    write_cr0(0x00000031);          /* PE | ET | NE: caches on, no paging, no WP */
    write_cr4(0);
    extern char __low_load[];
    memcpy((void *)LOW_BASE, __low_load, (size_t)(__low_end - __low_start));

    gdt[0] = 0;
    gdt_set_seg(1, 0, 0xFFFFF, ACC_P | ACC_CODE, FLG_G | FLG_DB);
    gdt_set_seg(2, 0, 0xFFFFF, ACC_P | ACC_DATA, FLG_G | FLG_DB);
    gdt_set_seg(3, 0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_CODE, FLG_G | FLG_DB);
    gdt_set_seg(4, 0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_DATA, FLG_G | FLG_DB);
    gdt_set_seg(5, 0, 0xFFFF, ACC_P | ACC_CODE, 0);
    gdt_set_seg(6, 0, 0xFFFF, ACC_P | ACC_DATA, 0);
    tss_main.ss0 = SEL_KDATA;
    tss_main.esp0 = (uint32_t)(ring0_stack + sizeof(ring0_stack));
    tss_main.iomap_base = sizeof(struct tss32);   /* no I/O bitmap */
    gdt_set_seg(7, (uint32_t)&tss_main, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32, 0);
    gdt_set_seg(8, (uint32_t)&tss2, sizeof(struct tss32) - 1, ACC_P | ACC_TSS32, 0);
    for (int v = 0; v < 256; v++)
        idt_set_default(v, 0);
    load_tables();

    CHECK(magic == 0x2BADB002, "multiboot magic in EAX: %x", magic);
    test_main();
    finish();
}

asm(".text\n"
    ".globl call_with_eax\n"
    "call_with_eax:\n"
    "  mov 8(%esp), %eax\n"
    "  mov 4(%esp), %ecx\n"
    "  jmp *%ecx\n");
