/* tests/baremetal/tb_overlap.c: code the translator must decode the way the
 * CPU does even where blocks are unusual (issue 5, "Bad input").
 *
 *   - a jump into the middle of an instruction: the imm32 of a MOV hides
 *     INC EAX; INC EAX; RET, entered at both offsets in turn (two blocks
 *     over the same bytes), then one shared byte patched: both change;
 *   - two blocks over the same straight-line code, entered at different
 *     instructions;
 *   - a block ending exactly at a page end, the next page then made not
 *     present: #PF with CR2 = that page, EIP = its first byte and the
 *     registers as the instructions before left them;
 *   - an instruction crossing a page boundary, run with the second page
 *     present and then not: #PF, CR2 = the second page, EIP = the
 *     instruction's first byte, the earlier instructions' effects kept;
 *     then its bytes on the second page patched between runs;
 *   - code copied into the VGA window (MMIO in fox86; the kernel sets
 *     chain-4 mode itself, there may be no VGA BIOS), run, patched there
 *     and run again (no BIOS ROM test: fox86 boots multiboot kernels
 *     without a BIOS, so nothing common lies at 0xF0000);
 *   - 16-bit protected-mode code whose IP wraps from 0xFFFF to 0;
 *   - the same bytes run as 32-bit and as 16-bit code in turn;
 *   - a 16-bit instruction whose last byte is past the CS limit;
 *   - data accesses through one base register (the native backend checks
 *     them together): inside a page, across a page boundary, and with the
 *     second page not present (#PF at the first access there, CR2 = that
 *     page, the sum so far in EAX).
 *
 * Every check prints a line with the value expected, so fox86's transcript
 * equals QEMU's when both are right. */
#include "runtime.h"

#define SEL_WRAP16  (GDT_FIRST_FREE << 3)
#define WRAP_BASE   0x00030000u
#define VGA_CODE    0x000A1000u   /* in the VGA window, chain-4 mode */

extern uint8_t ovl_mid_a[], ovl_mid_b[], ovl_chain[], ovl_chain_mid[];
extern uint8_t ovl_pages[], ovl_end_exact[], ovl_cross[];
extern uint8_t vga_fn[], vga_fn_end[], vga_fn_add[];
extern uint8_t grp_sum[], grp_add8[];
extern uint8_t gs_read[], gs_write[], fs_read[];

asm(
    ".text\n"

    /* mov $0x90C34040, %eax; ret -- from +1: inc eax; inc eax; ret */
    ".globl ovl_mid_a, ovl_mid_b\n"
    "ovl_mid_a:\n"
    "  .byte 0xB8\n"
    "ovl_mid_b:\n"
    "  .byte 0x40, 0x40, 0xC3, 0x90\n"
    "  ret\n"

    ".globl ovl_chain, ovl_chain_mid\n"
    "ovl_chain:\n"
    "  .fill 5, 1, 0x40\n"
    "ovl_chain_mid:\n"
    "  .fill 5, 1, 0x40\n"
    "  add $0x1000, %eax\n"
    "  ret\n"

    /* one instruction-free page, then code at the ends of the next two */
    ".section .text.ovl_pages, \"ax\"\n"
    ".balign 4096\n"
    ".globl ovl_pages, ovl_end_exact, ovl_cross\n"
    "ovl_pages:\n"
    "  .org ovl_pages + 4088, 0x90\n"
    "ovl_end_exact:\n"              /* 8 x INC EAX ending at the page end */
    "  .fill 8, 1, 0x40\n"
    "  add $0x100, %eax\n"          /* page 1 */
    "  ret\n"
    "  .org ovl_pages + 8192 - 8, 0x90\n"
    "ovl_cross:\n"                  /* 6 x INC EAX, then MOV EAX, 0x33221144 across the boundary */
    "  .fill 6, 1, 0x40\n"
    "  .byte 0xB8, 0x44\n"
    "  .byte 0x11, 0x22, 0x33\n"    /* page 2 */
    "  ret\n"
    "  .balign 4096, 0xcc\n"

    ".text\n"
    /* EAX = offset: returns the dword at GS:offset (FS:offset); gs_write
     * stores EDX there */
    ".globl gs_read, gs_write, fs_read\n"
    "gs_read:\n"
    "  mov %gs:(%eax), %eax\n"
    "  ret\n"
    "gs_write:\n"
    "  mov %edx, %gs:(%eax)\n"
    "  ret\n"
    "fs_read:\n"
    "  mov %fs:(%eax), %eax\n"
    "  ret\n"

    /* EAX = p: returns p[0] + p[1] + p[2] + p[3] (dwords), also stored at p[4] */
    ".globl grp_sum, grp_add8\n"
    "grp_sum:\n"
    "  mov %eax, %edx\n"
    "  mov (%edx), %eax\n"
    "  add 4(%edx), %eax\n"
    "grp_add8:\n"
    "  add 8(%edx), %eax\n"
    "  add 12(%edx), %eax\n"
    "  mov %eax, 16(%edx)\n"
    "  ret\n"

    /* position-independent: sum of n..1 (n in EAX), copied to the VGA window */
    ".globl vga_fn, vga_fn_end, vga_fn_add\n"
    "vga_fn:\n"
    "  mov %eax, %ecx\n"
    "  xor %eax, %eax\n"
    "1:\n"
    "vga_fn_add:\n"
    "  add %ecx, %eax\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  ret\n"
    "vga_fn_end:\n");

static void mid_instruction(void)
{
    CHECK(call_with_eax(ovl_mid_a, 0) == 0x90C34040u, "MOV with code in its imm32: eax 90c34040");
    CHECK(call_with_eax(ovl_mid_b, 5) == 7, "entered at its imm32: inc, inc, ret: eax 7");
    uint32_t a = 0, b = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        a += call_with_eax(ovl_mid_a, i);
        b += call_with_eax(ovl_mid_b, i);
    }
    CHECK(a == 0x90C34040u * 1000u && b == 499500u + 2000u,
          "both entries 1000 times in turn: sums %x %u", 0x90C34040u * 1000u, 499500u + 2000u);
    ovl_mid_b[1] = 0x48;   /* the second INC becomes DEC: in both decodings */
    CHECK(call_with_eax(ovl_mid_a, 0) == 0x90C34840u, "shared byte patched, outer MOV: eax 90c34840");
    CHECK(call_with_eax(ovl_mid_b, 5) == 5, "shared byte patched, inner inc/dec: eax 5");
    ovl_mid_b[1] = 0x40;
    CHECK(call_with_eax(ovl_mid_b, 5) == 7 && call_with_eax(ovl_mid_a, 0) == 0x90C34040u,
          "patched back: both as before");

    uint32_t s = 0;
    for (uint32_t i = 0; i < 100; i++)
        s += call_with_eax(ovl_chain, 0) + call_with_eax(ovl_chain_mid, 0);
    CHECK(s == 100u * (0x100Au + 0x1005u), "two blocks over the same instructions: sum %u",
          100u * (0x100Au + 0x1005u));
}

static volatile uint32_t fault_eax;
static bool record_eax(struct frame *f)
{
    fault_eax = f->eax;
    return false;   /* and let run_catching return */
}

static uint32_t called_eax;
static void call_entry(void *entry)
{
    called_eax = call_with_eax(entry, 0);
}

static void set_present(uint32_t page, bool present)
{
    page_table0[page >> 12] = page | PTE_W | PTE_U | (present ? PTE_P : 0);
    invlpg(page);
}

static void check_fetch_fault(const char *what, void *entry, uint32_t page, uint32_t eip, uint32_t eax)
{
    fault_eax = 0xDEAD;
    int v = run_catching(call_entry, entry);
    bool ok = v == 14 && exc_last.cr2 == page && exc_last.eip == eip && exc_last.error == 0 &&
              fault_eax == eax;
    CHECK(ok, "%s: #PF at the next page, EIP at the instruction, eax %u", what, eax);
    if (!ok)
        printf_e9("     got vector %d cr2 %x eip %x error %x eax %u\n", v, exc_last.cr2, exc_last.eip,
                  exc_last.error, fault_eax);
}

static void page_ends(void)
{
    uint32_t p1 = (uint32_t)ovl_pages + 4096, p2 = p1 + 4096;
    paging_identity();
    exc_handlers[14] = record_eax;
    for (int round = 0; round < 2; round++) {
        CHECK(call_with_eax(ovl_end_exact, 0) == 0x108, "block ending at a page end: eax 108");
        CHECK(call_with_eax(ovl_cross, 0) == 0x33221144u, "MOV across a page boundary: eax 33221144");
        set_present(p1, false);
        check_fetch_fault("next page not present after a block ending at a page end", ovl_end_exact,
                          p1, p1, 8);
        set_present(p1, true);
        set_present(p2, false);
        check_fetch_fault("MOV across a page boundary, second page not present", ovl_cross, p2, p2 - 2, 6);
        set_present(p2, true);
    }
    volatile uint8_t *imm_hi = (volatile uint8_t *)p2;   /* bytes 2-4 of that MOV's imm32 */
    for (uint32_t i = 0; i < 3; i++) {
        imm_hi[0] = (uint8_t)(0x55 + i);
        CHECK(call_with_eax(ovl_cross, 0) == 0x33220044u + ((0x55u + i) << 8),
              "its imm32 patched on the second page: eax %x", 0x33220044u + ((0x55u + i) << 8));
    }
    imm_hi[0] = 0x11;
    exc_handlers[14] = 0;
    paging_off();
}

static uint8_t grp_pages[8192] __attribute__((aligned(4096)));

static void call_grp(void *p)
{
    called_eax = call_with_eax(grp_sum, (uint32_t)p);
}

static void data_groups(void)
{
    uint32_t p1 = (uint32_t)grp_pages + 4096;
    paging_identity();
    exc_handlers[14] = record_eax;
    for (int round = 0; round < 2; round++) {
        static const uint32_t offsets[] = { 100, 4096 - 8, 4096 - 12, 4096 - 20 };
        for (unsigned k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
            volatile uint32_t *p = (volatile uint32_t *)(grp_pages + offsets[k]);
            for (uint32_t j = 0; j < 5; j++)
                p[j] = (j + 1) * (k + 2);
            uint32_t sum = 10 * (k + 2);
            CHECK(call_with_eax(grp_sum, (uint32_t)p) == sum && p[4] == sum,
                  "dwords through one base at page offset %u: sum %u, stored", offsets[k] % 4096, sum);
        }
        volatile uint32_t *p = (volatile uint32_t *)(p1 - 8);
        p[0] = 5;
        p[1] = 6;
        set_present(p1, false);
        fault_eax = 0xDEAD;
        int v = run_catching(call_grp, (void *)p);
        bool ok = v == 14 && exc_last.cr2 == p1 && exc_last.eip == (uint32_t)grp_add8 &&
                  exc_last.error == 0 && fault_eax == 11;
        CHECK(ok, "the third dword on a page not present: #PF there, eax 11");
        if (!ok)
            printf_e9("     got vector %d cr2 %x eip %x error %x eax %u\n", v, exc_last.cr2,
                      exc_last.eip, exc_last.error, fault_eax);
        set_present(p1, true);
    }
    exc_handlers[14] = 0;
    paging_off();
}

/* FS and GS are checked where translated code uses them, as they are
 * then (translator/native_emit.c): the same block runs through a flat
 * segment with a base, one with a small limit, a read-only one and a
 * null selector, each change after the block ran hot. */
#define SEL_GS_FLAT  ((GDT_FIRST_FREE + 1) << 3)
#define SEL_GS_SMALL ((GDT_FIRST_FREE + 2) << 3)
#define SEL_GS_RO    ((GDT_FIRST_FREE + 3) << 3)
static uint32_t seg_data[64];
static uint32_t seg_result;

static void load_gs(uint16_t sel) { asm volatile("mov %0, %%gs" : : "r"(sel)); }
static void load_fs(uint16_t sel) { asm volatile("mov %0, %%fs" : : "r"(sel)); }
static void gs_read_at(void *offset) { seg_result = call_with_eax(gs_read, (uint32_t)offset); }
static void gs_write_at(void *offset)
{
    asm volatile("call *%2" : "+a"(offset) : "d"(0x5A5A5A5Au), "r"(gs_write) : "memory", "cc");
}

/* QEMU (TCG) checks no data segment limit, type or null selector: there
 * these accesses just run. Its CPUs name themselves in the brand string. */
static bool on_qemu(void)
{
    uint32_t r[12], max, b, c, d;
    asm volatile("cpuid" : "=a"(max), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u));
    if (max < 0x80000004u)
        return false;
    for (uint32_t i = 0; i < 3; i++)
        asm volatile("cpuid" : "=a"(r[4 * i]), "=b"(r[4 * i + 1]), "=c"(r[4 * i + 2]), "=d"(r[4 * i + 3])
                     : "a"(0x80000002u + i));
    const char *brand = (const char *)r;
    return brand[0] == 'Q' && brand[1] == 'E' && brand[2] == 'M' && brand[3] == 'U';
}

static void fs_gs_segments(void)
{
    bool qemu = on_qemu();
    uint32_t base = (uint32_t)seg_data;
    gdt_set_seg(GDT_FIRST_FREE + 1, base, 0xFFFFF, ACC_P | ACC_DATA, FLG_G | FLG_DB);
    gdt_set_seg(GDT_FIRST_FREE + 2, base, 0xFF, ACC_P | ACC_DATA, FLG_DB);
    gdt_set_seg(GDT_FIRST_FREE + 3, base, 0xFFFFF, ACC_P | ACC_S, FLG_G | FLG_DB);   /* read-only */
    for (uint32_t i = 0; i < 64; i++)
        seg_data[i] = 0x1000 + i;
    for (int round = 0; round < 3; round++) {
        load_gs(SEL_GS_FLAT);
        uint32_t sum = 0;
        for (uint32_t i = 0; i < 50; i++)
            sum += call_with_eax(gs_read, 4 * (i % 64));
        CHECK(sum == 50 * 0x1000 + 49 * 50 / 2, "GS flat with a base, 50 reads: sum %x", sum);
        CHECK(run_catching(gs_write_at, (void *)8) == -1 && seg_data[2] == 0x5A5A5A5Au,
              "GS flat: write");
        seg_data[2] = 0x1002;
        load_gs(SEL_GS_SMALL);
        CHECK(run_catching(gs_read_at, (void *)0xFC) == -1 && seg_result == 0x103F,
              "GS limit 0xFF: the last dword reads");
        int v = run_catching(gs_read_at, (void *)0x100);
        CHECK(v == 13 || (qemu && v == -1), "GS limit 0xFF: a read past it is #GP (QEMU: runs)");
        load_gs(SEL_GS_RO);
        CHECK(run_catching(gs_read_at, (void *)12) == -1 && seg_result == 0x1003, "GS read-only: read");
        v = run_catching(gs_write_at, (void *)12);
        CHECK((v == 13 && seg_data[3] == 0x1003) || (qemu && v == -1),
              "GS read-only: a write is #GP (QEMU: runs)");
        seg_data[3] = 0x1003;
        load_gs(0);
        v = run_catching(gs_read_at, (void *)0);
        CHECK(v == 13 || (qemu && v == -1), "GS null: a read is #GP (QEMU: runs)");
        load_fs(SEL_GS_SMALL);   /* (after run_catching: its handler reloads FS) */
        CHECK(call_with_eax(fs_read, 0x10) == 0x1004, "FS limit 0xFF: read");
        load_fs(SEL_KDATA);
    }
    load_gs(SEL_KDATA);
}

/* Mode 13h's memory layout: chain 4 (one byte per address at 0xA0000),
 * write mode 0 with no rotate, set/reset or masking, all planes enabled. */
static void vga_chain4(void)
{
    static const uint8_t sr[][2] = { { 2, 0x0F }, { 4, 0x0E } };
    static const uint8_t gr[][2] = { { 0, 0 }, { 1, 0 }, { 3, 0 }, { 4, 0 }, { 5, 0x40 }, { 6, 0x05 }, { 8, 0xFF } };
    outb(0x3C2, 0x63);
    for (unsigned i = 0; i < sizeof(sr) / sizeof(sr[0]); i++) {
        outb(0x3C4, sr[i][0]);
        outb(0x3C5, sr[i][1]);
    }
    for (unsigned i = 0; i < sizeof(gr) / sizeof(gr[0]); i++) {
        outb(0x3CE, gr[i][0]);
        outb(0x3CF, gr[i][1]);
    }
}

static void mmio(void)
{
    vga_chain4();
    uint32_t len = (uint32_t)(vga_fn_end - vga_fn);
    volatile uint8_t *vga = (volatile uint8_t *)VGA_CODE;
    for (uint32_t i = 0; i < len; i++)
        vga[i] = vga_fn[i];
    bool same = true;
    for (uint32_t i = 0; i < len; i++)
        same = same && vga[i] == vga_fn[i];
    CHECK(same, "code copied to the VGA window reads back");
    CHECK(call_with_eax((const void *)VGA_CODE, 100) == 5050, "run from the VGA window: eax 5050");
    uint32_t s = 0;
    for (uint32_t i = 1; i <= 50; i++)
        s += call_with_eax((const void *)VGA_CODE, i);
    CHECK(s == 22100, "50 runs from the VGA window: sum 22100");
    vga[vga_fn_add - vga_fn] = 0x29;   /* ADD ECX, EAX -> SUB */
    CHECK(call_with_eax((const void *)VGA_CODE, 100) == (uint32_t)-5050,
          "patched in the VGA window: eax -5050");
    vga[vga_fn_add - vga_fn] = 0x01;
    CHECK(call_with_eax((const void *)VGA_CODE, 10) == 55, "patched back: eax 55");

}

static uint32_t far_call16(uint32_t ip, uint32_t eax)
{
    struct { uint32_t off; uint16_t sel; } __attribute__((packed)) target = { ip, SEL_WRAP16 };
    asm volatile("lcall *%1" : "+a"(eax) : "m"(target) : "ecx", "edx", "memory", "cc");
    return eax;
}

static void ip_wrap16(void)
{
    volatile uint8_t *seg = (volatile uint8_t *)WRAP_BASE;
    gdt_set_seg(GDT_FIRST_FREE, WRAP_BASE, 0xFFFF, ACC_P | ACC_CODE, 0);
    seg[0xFFFC] = 0x40;                                          /* inc ax */
    seg[0xFFFD] = 0x83; seg[0xFFFE] = 0xC0; seg[0xFFFF] = 0x05;   /* add ax, 5 ending at 0xFFFF */
    seg[0] = 0x40;                                               /* inc ax at IP 0 */
    seg[1] = 0x66; seg[2] = 0xCB;                                /* o32 retf */
    for (int i = 0; i < 3; i++) {
        CHECK(far_call16(0xFFFD, 0x10000) == 0x10006, "16-bit: add ax,5 ending at FFFF, inc ax at 0: eax 10006");
        CHECK(far_call16(0xFFFC, 0) == 7, "16-bit: inc ax at FFFC, then the same: eax 7");
    }
}

static void call_straddle(void *arg)
{
    far_call16(0xFFFE, 0);
}

/* MOV AX, imm16 at 0xFFFE: its last byte is past the limit (0xFFFF), a
 * #GP(0) at FFFE (SDM; fox86). QEMU does not check the limit inside an
 * instruction and runs it: either is accepted (same line printed), the
 * point is that the translator neither crashes nor runs it wrongly wrapped
 * into a bad state. */
static void straddle16(void)
{
    volatile uint8_t *seg = (volatile uint8_t *)WRAP_BASE;
    seg[0xFFFE] = 0xB8; seg[0xFFFF] = 0x34;
    seg[0] = 0x12; seg[1] = 0x66; seg[2] = 0xCB;
    for (int i = 0; i < 2; i++) {
        int v = run_catching(call_straddle, 0);
        bool gp = v == 13 && exc_last.eip == 0xFFFE && exc_last.cs == SEL_WRAP16 && exc_last.error == 0;
        CHECK(gp || v == -1, "16-bit instruction past the CS limit at FFFF: #GP(0) at FFFE, or run (QEMU)");
        if (!gp && v != -1)
            printf_e9("     got vector %d at %x:%x error %x\n", v, exc_last.cs, exc_last.eip, exc_last.error);
    }
}

/* The same bytes as 32-bit code (near call) and as 16-bit code (far
 * call): two blocks at one physical address, told apart by the mode.
 *   B8 34 12 EB 01 C3 66 CB
 *   32-bit: mov eax, 0x01EB1234; ret
 *   16-bit: mov ax, 0x1234; jmp +1; o32 retf */
static void two_modes(void)
{
    static const uint8_t code[8] = { 0xB8, 0x34, 0x12, 0xEB, 0x01, 0xC3, 0x66, 0xCB };
    volatile uint8_t *p = (volatile uint8_t *)(WRAP_BASE + 0x100);
    for (unsigned i = 0; i < sizeof(code); i++)
        p[i] = code[i];
    uint32_t s32 = 0, s16 = 0;
    for (int i = 0; i < 100; i++) {
        s32 += call_with_eax((const void *)(WRAP_BASE + 0x100), 0);
        s16 += far_call16(0x100, 0xABCD0000u);
    }
    CHECK(s32 == 100u * 0x01EB1234u && s16 == 100u * 0xABCD1234u,
          "one physical address as 32-bit and as 16-bit code, in turn: sums %x %x",
          100u * 0x01EB1234u, 100u * 0xABCD1234u);
    p[2] = 0x56;
    CHECK(call_with_eax((const void *)(WRAP_BASE + 0x100), 0) == 0x01EB5634u &&
          far_call16(0x100, 0) == 0x5634u, "a byte of it patched: both modes see it");
}

void test_main(void)
{
    mid_instruction();
    page_ends();
    mmio();
    ip_wrap16();
    two_modes();
    straddle16();
    data_groups();
    fs_gs_segments();
}
