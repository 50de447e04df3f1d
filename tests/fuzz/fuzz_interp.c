/* tests/fuzz/fuzz_interp.c: libFuzzer target running arbitrary bytes as
 * guest code in fox86's interpreter.
 *
 * What it checks: no guest instruction stream can crash or hang the host.
 * The oracles are ASan and UBSan, libFuzzer's -timeout (every run is bounded
 * by an instruction budget, so a timeout is a finding), and a few invariants
 * the architecture guarantees, checked after every stop of cpu_run:
 *   - CPL is 0-3; EFLAGS.VM implies CR0.PE and CPL 3;
 *   - in protected mode outside V86, CPL 3 implies CS.RPL 3 (the converse
 *     does not hold: setting CR0.PE keeps CPL 0 whatever CS holds);
 *   - cpu_run never retires more instructions than it was given;
 *   - CPU_STOP_HALT comes with cpu->halted, CPU_STOP_TRIPLE_FAULT with
 *     cpu->shutdown.
 *
 * Input layout: a 16-byte header, then the payload (an input of at most 16
 * bytes is both: its missing header bytes read as zero).
 *   header[0]  bits 0-2: starting mode (enum start_mode); bit 3 paging;
 *              bit 4 CR4.PSE; bit 5 CR4.PGE; bit 6 CR0.WP; bit 7 A20 off
 *   header[1]  CR0.MP, EM, TS, NE, AM, CD|NW; CR4.VME, PVI
 *   header[2]  EFLAGS: IOPL (2 bits), AC, TF, IF, DF, NT, RF
 *   header[3]  x87 control word: exception masks (6 bits), rounding (2)
 *   header[4]  CR4.TSD, DE, PCE; x87 precision (2 bits); DR0-3 armed;
 *              wake a HLT with an interrupt; reset after a triple fault
 *   header[5]  page-table damage: count and kinds
 *   header[6]  interrupt vector delivered to wake a HLT; header[7] bit 0: NMI
 *   header[8]  number of byte patches applied to the system tables
 *   header[9..15] seeds: MMIO and port values, TSS/IDT/IVT choices, DR7
 * The payload is repeated over the 64 KiB code area (which the IVT, the IDT
 * gates, the call gates and the TSSs all point into) and over the 64 KiB
 * ROM at the reset vector; GDT entries 16-31, LDT entries 6-15, page table 1
 * and the I/O bitmap are copied from it; the register values and the system
 * table patches come from its tail. So descriptor loads, gates, task
 * switches, far transfers and IRET meet both sane and garbage descriptors.
 *
 * Guest-physical layout (2 MiB RAM, see enum layout): IVT, GDT, LDT, IDT,
 * TSSs, page directory and tables, stacks, code at 0x10000; an MMIO page at
 * 0xE0000000 and all 65536 ports answering input-derived values; ROM at
 * 0xFFFF0000.
 *
 * Speed and determinism: RAM, the CPU and its decoded-instruction cache are
 * allocated once (the one-time init below: libFuzzer's entry point gives no
 * other place to keep them). Each run zeroes, through phys_load, only the
 * RAM pages the previous run left non-zero, then loads this run's system
 * area and code through phys_load (never host pointers: the decoded-code
 * cache watches writes), resets the CPU and the instruction count, so a run
 * depends only on its input.
 *
 * Build and run: see tests/fuzz/README.md, in short (from the source root)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icore -Immu \
 *     <every core and mmu source but core/machine.c> tests/fuzz/fuzz_interp.c -lm -o fuzz_interp
 *   ./fuzz_interp -timeout=10 -rss_limit_mb=2048 corpus_interp/
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/ioport.h"
#include "core/mem.h"
#include "mmu/phys.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

/* guest-physical layout */
enum layout {
    PA_IVT        = 0x00000,
    PA_GDT        = 0x01000,   /* 32 entries */
    PA_LDT        = 0x01800,   /* 16 entries */
    PA_IDT        = 0x02000,   /* 256 gates */
    PA_TSS_CUR    = 0x03000,   /* the running task's 32-bit TSS, then its I/O bitmap */
    PA_IOMAP      = PA_TSS_CUR + 0x68,
    PA_TSS_B      = 0x05800,   /* an available 32-bit TSS */
    PA_TSS_16     = 0x05900,   /* an available 16-bit TSS */
    PA_PAGE_DIR   = 0x06000,
    PA_PT0        = 0x07000,   /* identity map of 0-4 MiB */
    PA_PT1        = 0x08000,   /* garbage from the input, for 4-8 MiB */
    PA_STACK0_TOP = 0x0E000,   /* ring-0 stack (TSS.ESP0) */
    PA_STACK_TOP  = 0x0F000,   /* the starting stack */
    SYS_SIZE      = 0x10000,   /* the system area above, built in a staging copy */
    PA_CODE       = 0x10000,
    CODE_SIZE     = 0x10000,
    RAM_SIZE      = 2u << 20,
};
#define PA_MMIO  0xE0000000u
#define MMIO_SIZE 0x1000u
#define PA_ROM   0xFFFF0000u
#define ROM_SIZE 0x10000u
#define PAGE_SIZE 4096u

/* GDT selectors of the sane descriptors (entries 16-31 are garbage) */
enum {
    SEL_CODE32_0 = 0x08, SEL_DATA32_0 = 0x10, SEL_CODE16_0 = 0x18, SEL_DATA16_0 = 0x20,
    SEL_CODE32_3 = 0x2B, SEL_DATA32_3 = 0x33, SEL_CODE16_3 = 0x3B, SEL_DATA16_3 = 0x43,
    SEL_TSS_CUR = 0x48, SEL_TSS_16 = 0x50, SEL_LDT = 0x58, SEL_CALL32 = 0x63,
    SEL_CALL16 = 0x6B, SEL_TASKGATE = 0x73, SEL_TSS_B = 0x78,
    /* LDT */
    SEL_LDT_CODE32_3 = 0x0F, SEL_LDT_DATA32_3 = 0x17,
};
#define GDT_ENTRIES 32
#define LDT_ENTRIES 16

enum start_mode {
    MODE_REAL, MODE_PM16_CPL0, MODE_PM32_CPL0, MODE_PM16_CPL3, MODE_PM32_CPL3,
    MODE_V86, MODE_UNREAL, MODE_PM32_CPL3_LDT,
};

#define HEADER_SIZE 16
/* Instructions per input. A REP string instruction runs up to 4096
 * iterations per retired instruction (STRING_BATCH in exec_string.c), so a
 * run does up to INSN_BUDGET * 4096 iterations: under ASan, 20,000 took two
 * minutes with REP INSB and 1,000 still up to ~7 s with REP MOVSD on a slow
 * path, so run the campaign with -fork=1 -ignore_timeouts=1 (README.md) or
 * a smaller -DFUZZ_INSN_BUDGET=n. DEVICE_ACCESS_CAP stops a run early once
 * the guest hammers the devices (each access is a slow path). */
#ifndef FUZZ_INSN_BUDGET
#define FUZZ_INSN_BUDGET 1000u
#endif
#define INSN_BUDGET ((uint64_t)FUZZ_INSN_BUDGET)
#define DEVICE_ACCESS_CAP 200000u
#define MAX_ROUNDS 8

#define PTE_P 1u
#define PTE_W 2u
#define PTE_U 4u
#define PDE_PS 0x80u
#define PTE_G 0x100u

struct fuzz_machine {
    struct phys_mem mem;
    struct ioport_map io;
    struct cpu cpu;
    uint8_t rom[ROM_SIZE];          /* ROM bytes (phys keeps a pointer to them) */
    uint8_t sys[SYS_SIZE];          /* staging copy of the system area */
    uint8_t code[CODE_SIZE];        /* staging copy of the code area */
    /* this run's input */
    const uint8_t *hdr;             /* HEADER_SIZE bytes */
    const uint8_t *payload;
    size_t payload_len;             /* >= 1 */
    uint32_t value_seed;            /* for MMIO and port reads */
    int wake_vector;                /* for intr_ack, -1 when the line is low */
    uint64_t device_sink;           /* what the guest wrote to devices (kept so writes are not dead) */
    uint32_t device_accesses;       /* MMIO and port accesses this run */
};

static uint8_t payload_byte(const struct fuzz_machine *m, size_t i)
{
    return m->payload[i % m->payload_len];
}

/* Byte i counted from the end of the payload (registers, patches). */
static uint8_t tail_byte(const struct fuzz_machine *m, size_t i)
{
    return m->payload[m->payload_len - 1 - i % m->payload_len];
}

static uint32_t tail_u32(const struct fuzz_machine *m, size_t i)
{
    return tail_byte(m, i) | (uint32_t)tail_byte(m, i + 1) << 8 |
           (uint32_t)tail_byte(m, i + 2) << 16 | (uint32_t)tail_byte(m, i + 3) << 24;
}

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* ---- devices answering input-derived values ---- */

static uint32_t size_mask(int size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* Every device access counts; past the cap the run loop is asked to stop. */
static void count_access(struct fuzz_machine *m)
{
    if (++m->device_accesses >= DEVICE_ACCESS_CAP)
        m->cpu.stop_requested = true;
}

static uint32_t mmio_read(void *opaque, uint32_t offset, int size)
{
    struct fuzz_machine *m = opaque;
    count_access(m);
    return mix32(m->value_seed ^ offset) & size_mask(size);
}

static void mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct fuzz_machine *m = opaque;
    count_access(m);
    m->device_sink += offset ^ value ^ (uint32_t)size;
}

static uint32_t port_read(void *opaque, uint16_t port, int size)
{
    struct fuzz_machine *m = opaque;
    count_access(m);
    return mix32(m->value_seed ^ 0x10000u ^ port) & size_mask(size);
}

static void port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct fuzz_machine *m = opaque;
    count_access(m);
    m->device_sink += port ^ value ^ (uint32_t)size;
}

static const struct mmio_ops fuzz_mmio_ops = { mmio_read, mmio_write };
static const struct ioport_ops fuzz_port_ops = { port_read, port_write };

/* The interrupt controller: one pending vector, acknowledged once. */
static int fuzz_intr_ack(void *opaque)
{
    struct fuzz_machine *m = opaque;
    int vector = m->wake_vector;
    m->wake_vector = -1;
    cpu_set_intr(&m->cpu, false);
    return vector;
}

static void fuzz_ferr(void *opaque, bool level)
{
    struct fuzz_machine *m = opaque;
    m->device_sink += level;
}

/* ---- the system area ---- */

static void put16(uint8_t *p, uint32_t off, uint16_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
    put16(p, off, (uint16_t)v);
    put16(p, off + 2, (uint16_t)(v >> 16));
}

/* A segment descriptor; flags4 = G, D/B, L, AVL (bits 52-55). */
static void put_seg_desc(uint8_t *p, uint32_t off, uint32_t base, uint32_t limit,
                         uint8_t access, uint8_t flags4)
{
    put32(p, off, (limit & 0xFFFF) | (base << 16));
    put32(p, off + 4, ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000) |
                      ((uint32_t)(flags4 & 0xF) << 20) | (base & 0xFF000000u));
}

/* A gate: call, interrupt, trap or task (type_byte = P | DPL | type). */
static void put_gate(uint8_t *p, uint32_t off, uint16_t sel, uint32_t offset, uint8_t type_byte,
                     uint8_t param_count)
{
    put32(p, off, (offset & 0xFFFF) | ((uint32_t)sel << 16));
    put32(p, off + 4, (offset & 0xFFFF0000u) | ((uint32_t)type_byte << 8) | (param_count & 0x1F));
}

static void build_gdt_ldt(struct fuzz_machine *m)
{
    uint8_t *s = m->sys;
    uint32_t g = PA_GDT;
    put_seg_desc(s, g + 0x08, PA_CODE, 0xFFFFF, 0x9B, 0xC);
    put_seg_desc(s, g + 0x10, 0, 0xFFFFF, 0x93, 0xC);
    put_seg_desc(s, g + 0x18, PA_CODE, 0xFFFF, 0x9B, 0x0);
    put_seg_desc(s, g + 0x20, 0, 0xFFFF, 0x93, 0x0);
    put_seg_desc(s, g + 0x28, PA_CODE, 0xFFFFF, 0xFB, 0xC);
    put_seg_desc(s, g + 0x30, 0, 0xFFFFF, 0xF3, 0xC);
    put_seg_desc(s, g + 0x38, PA_CODE, 0xFFFF, 0xFB, 0x0);
    put_seg_desc(s, g + 0x40, 0, 0xFFFF, 0xF3, 0x0);
    put_seg_desc(s, g + 0x48, PA_TSS_CUR, 0x68 + 0x2000, 0x8B, 0x0);   /* busy 32-bit TSS */
    put_seg_desc(s, g + 0x50, PA_TSS_16, 0x2B, 0xE1, 0x0);            /* available 16-bit TSS, DPL 3 */
    put_seg_desc(s, g + 0x58, PA_LDT, LDT_ENTRIES * 8 - 1, 0x82, 0x0);
    put_gate(s, g + 0x60, SEL_CODE32_0, payload_byte(m, 1) * 16u, 0xEC, m->hdr[9] & 3);
    put_gate(s, g + 0x68, SEL_CODE16_0, payload_byte(m, 2) * 16u, 0xE4, m->hdr[9] >> 6);
    put_gate(s, g + 0x70, SEL_TSS_B, 0, 0xE5, 0);                         /* task gate, DPL 3 */
    put_seg_desc(s, g + 0x78, PA_TSS_B, 0x67, 0xE9, 0x0);             /* available 32-bit TSS, DPL 3 */
    for (uint32_t i = 16 * 8; i < GDT_ENTRIES * 8; i++)
        s[g + i] = payload_byte(m, 0x100 + i);

    uint32_t l = PA_LDT;
    put_seg_desc(s, l + 0x08, PA_CODE, 0xFFFFF, 0xFB, 0xC);
    put_seg_desc(s, l + 0x10, 0, 0xFFFFF, 0xF3, 0xC);
    put_seg_desc(s, l + 0x18, PA_CODE, 0xFFFFF, 0x9F, 0xC);           /* conforming, DPL 0 */
    put_seg_desc(s, l + 0x20, 0, 0xFFF, 0x97, 0x4);                     /* expand-down data */
    put_gate(s, l + 0x28, SEL_CODE32_0, payload_byte(m, 3) * 32u, 0xEC, 0);
    for (uint32_t i = 6 * 8; i < LDT_ENTRIES * 8; i++)
        s[l + i] = payload_byte(m, 0x300 + i);
}

static void build_idt_ivt(struct fuzz_machine *m)
{
    uint8_t *s = m->sys;
    for (uint32_t v = 0; v < 256; v++) {
        uint8_t choice = payload_byte(m, 7 * v + m->hdr[10]);
        uint32_t handler = (v * 64u + m->hdr[11]) & 0xFFFF;
        uint8_t dpl_present = (uint8_t)(((choice >> 3) & 3) << 5) | ((choice >> 5) == 7 ? 0 : 0x80);
        uint32_t off = PA_IDT + 8 * v;
        switch (choice & 7) {
        case 0: case 1: case 2:
            put_gate(s, off, SEL_CODE32_0, handler, dpl_present | 0xE, 0);
            break;
        case 3:
            put_gate(s, off, SEL_CODE32_0, handler, dpl_present | 0xF, 0);
            break;
        case 4:
            put_gate(s, off, SEL_CODE16_0, handler, dpl_present | 0x6, 0);
            break;
        case 5:
            put_gate(s, off, (choice & 0x40) ? SEL_TSS_16 : SEL_TSS_B, 0, dpl_present | 0x5, 0);
            break;
        case 6:
            put_gate(s, off, (choice & 0x40) ? SEL_LDT_CODE32_3 : SEL_CODE32_3, handler,
                     dpl_present | 0xE, 0);
            break;
        default:
            for (uint32_t i = 0; i < 8; i++)
                s[off + i] = payload_byte(m, 11 * v + i);
            break;
        }
        /* real mode: CS 0x1000 (the code area), an input-chosen IP */
        put16(s, PA_IVT + 4 * v, (uint16_t)(payload_byte(m, 5 * v) | payload_byte(m, 5 * v + 1) << 8));
        put16(s, PA_IVT + 4 * v + 2, PA_CODE >> 4);
    }
}

static void build_tss(struct fuzz_machine *m)
{
    uint8_t *s = m->sys;
    uint32_t t = PA_TSS_CUR;
    put32(s, t + 4, PA_STACK0_TOP);
    put32(s, t + 8, SEL_DATA32_0);
    put32(s, t + 12, PA_STACK0_TOP - 0x800);
    put32(s, t + 16, payload_byte(m, 9));               /* SS1: whatever */
    put32(s, t + 20, PA_STACK0_TOP - 0x1000);
    put32(s, t + 24, payload_byte(m, 10));
    put32(s, t + 28, PA_PAGE_DIR);
    put32(s, t + 0x60, SEL_LDT);
    put32(s, t + 0x64, 0x68u << 16);                    /* I/O bitmap right after */
    bool allow_all = m->hdr[9] & 4;
    for (uint32_t i = 0; i < 0x2000; i++)
        s[PA_IOMAP + i] = allow_all ? 0 : i < 0x80 ? payload_byte(m, 0x500 + i) : 0xFF;
    s[PA_IOMAP + 0x2000] = 0xFF;

    /* the task behind the task gate: CPL 0 or 3 by the input */
    bool user = m->hdr[9] & 8;
    uint32_t b = PA_TSS_B;
    put32(s, b + 4, PA_STACK0_TOP);
    put32(s, b + 8, SEL_DATA32_0);
    put32(s, b + 28, PA_PAGE_DIR);
    put32(s, b + 32, payload_byte(m, 4) * 8u);          /* EIP */
    put32(s, b + 36, 0x2u | ((uint32_t)(m->hdr[12] & 0xD5) << 8) | (m->hdr[12] & 0xD5));
    for (uint32_t r = 0; r < 8; r++)
        put32(s, b + 40 + 4 * r, tail_u32(m, 4 * r));
    put32(s, b + 56, PA_STACK0_TOP - 0x400);            /* ESP */
    uint16_t data = user ? SEL_DATA32_3 : SEL_DATA32_0;
    put32(s, b + 72, data);
    put32(s, b + 76, user ? SEL_CODE32_3 : SEL_CODE32_0);
    put32(s, b + 80, data);
    put32(s, b + 84, data);
    put32(s, b + 88, data);
    put32(s, b + 92, (m->hdr[12] & 0x20) ? 0 : data);
    put32(s, b + 96, SEL_LDT);
    put32(s, b + 100, (m->hdr[12] & 1) | (0x68u << 16));  /* T bit from the input */

    uint32_t w = PA_TSS_16;                              /* 16-bit TSS: ring 0 */
    put16(s, w + 2, PA_STACK0_TOP - 0x200);
    put16(s, w + 4, SEL_DATA16_0);
    put16(s, w + 14, payload_byte(m, 5) * 4u);          /* IP */
    put16(s, w + 16, 0x0002 | (m->hdr[13] & 0xD5));
    put16(s, w + 26, PA_STACK0_TOP - 0x300);            /* SP */
    put16(s, w + 34, SEL_DATA16_0);
    put16(s, w + 36, SEL_CODE16_0);
    put16(s, w + 38, SEL_DATA16_0);
    put16(s, w + 40, SEL_DATA16_0);
    put16(s, w + 42, SEL_LDT);
}

static void build_paging(struct fuzz_machine *m)
{
    uint8_t *s = m->sys;
    uint32_t user_rw = PTE_P | PTE_W | PTE_U;
    put32(s, PA_PAGE_DIR + 0, PA_PT0 | user_rw);
    put32(s, PA_PAGE_DIR + 4, PA_PT1 | user_rw);
    put32(s, PA_PAGE_DIR + 8, 0x00000000u | PDE_PS | user_rw);       /* 8-12 MiB -> 0 (needs PSE) */
    put32(s, PA_PAGE_DIR + 4 * (PA_MMIO >> 22), PA_MMIO | PDE_PS | PTE_P | PTE_W);
    put32(s, PA_PAGE_DIR + 4 * 0x3FE, 0xFFC00000u | PDE_PS | PTE_P | PTE_G);   /* the ROM */
    put32(s, PA_PAGE_DIR + 4 * 0x3FF, PA_PAGE_DIR | user_rw);        /* recursive */
    for (uint32_t i = 0; i < 1024; i++)
        put32(s, PA_PT0 + 4 * i, (i << 12) | user_rw | ((i & 1) ? PTE_G : 0));
    for (uint32_t i = 0; i < 4096; i++)
        s[PA_PT1 + i] = payload_byte(m, 0x700 + i);

    /* damage: remap or strip some PT0 entries */
    static const uint32_t targets[] = {
        PA_PAGE_DIR, PA_PT0, PA_MMIO, 0x40000000u, PA_ROM, PA_CODE, PA_GDT, PA_IDT,
    };
    uint32_t count = m->hdr[5] & 15;
    for (uint32_t k = 0; k < count; k++) {
        uint8_t a = tail_byte(m, 40 + 3 * k), b = tail_byte(m, 41 + 3 * k), c = tail_byte(m, 42 + 3 * k);
        uint32_t index = ((uint32_t)a | (uint32_t)b << 8) & 0x3FF;
        uint32_t pte;
        if (c & 0x80)
            pte = (index << 12) | (c & 0x7F);            /* same page, other flags */
        else
            pte = targets[c & 7] | ((c >> 3) & 0xF) | PTE_P;
        put32(s, PA_PT0 + 4 * index, pte);
    }
}

static void build_system_area(struct fuzz_machine *m)
{
    memset(m->sys, 0, sizeof m->sys);
    build_gdt_ldt(m);
    build_idt_ivt(m);
    build_tss(m);
    build_paging(m);
    /* byte patches anywhere in the tables: garbage where the sane parts were */
    uint32_t count = m->hdr[8] & 31;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t off = ((uint32_t)tail_byte(m, 100 + 3 * k) | (uint32_t)tail_byte(m, 101 + 3 * k) << 8) %
                       (PA_PT1 + PAGE_SIZE);
        m->sys[off] ^= tail_byte(m, 102 + 3 * k);
    }
}

/* ---- per-run reset ---- */

/* Zero every RAM page the previous run left non-zero (reading through the
 * host pointer is fine; writing goes through phys_load). */
static void clear_ram(struct fuzz_machine *m)
{
    static const uint8_t zero_page[PAGE_SIZE];
    for (uint32_t pa = 0; pa < RAM_SIZE; pa += PAGE_SIZE) {
        if (memcmp(m->mem.ram + pa, zero_page, PAGE_SIZE) != 0)
            phys_load(&m->mem, pa, zero_page, PAGE_SIZE);
    }
}

static struct fuzz_machine *machine_create(void)
{
    struct fuzz_machine *m = calloc(1, sizeof *m);
    REQUIRE(m != NULL);
    REQUIRE(phys_init(&m->mem, RAM_SIZE) == 0);
    REQUIRE(phys_add_rom(&m->mem, PA_ROM, ROM_SIZE, m->rom) == 0);
    REQUIRE(phys_add_mmio(&m->mem, PA_MMIO, MMIO_SIZE, &fuzz_mmio_ops, m) == 0);
    ioport_map_init(&m->io);
    /* every port answers, so the access cap sees every I/O instruction */
    REQUIRE(ioport_register(&m->io, 0x0000, 0x8000, &fuzz_port_ops, m) == 0);
    REQUIRE(ioport_register(&m->io, 0x8000, 0x8000, &fuzz_port_ops, m) == 0);
    cpu_init(&m->cpu, &m->mem, &m->io);
    m->cpu.intr_ack = fuzz_intr_ack;
    m->cpu.intr_opaque = m;
    m->cpu.fpu_ferr = fuzz_ferr;
    m->cpu.fpu_ferr_opaque = m;
    return m;
}

/* ---- CPU state ---- */

static struct seg_cache seg_desc_cache(uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    return (struct seg_cache){ .sel = sel, .base = base, .limit = limit, .flags = flags, .valid = true };
}

static void set_data_segs(struct cpu *cpu, struct seg_cache sc)
{
    cpu->seg[SEG_SS] = cpu->seg[SEG_DS] = cpu->seg[SEG_ES] = cpu->seg[SEG_FS] = cpu->seg[SEG_GS] = sc;
}

static void setup_cpu(struct fuzz_machine *m)
{
    struct cpu *cpu = &m->cpu;
    const uint8_t *h = m->hdr;
    enum start_mode mode = (enum start_mode)(h[0] & 7);
    bool paging = (h[0] & 0x08) && mode != MODE_REAL && mode != MODE_UNREAL;

    cpu->icount = 0;
    cpu_reset(cpu);
    cpu->intr = false;
    m->wake_vector = -1;
    phys_set_a20(&m->mem, !(h[0] & 0x80));

    for (int r = 0; r < 8; r++)
        cpu->gpr[r] = tail_u32(m, 4 * r);
    cpu->gpr[R_ESP] = PA_STACK_TOP - (tail_byte(m, 33) & 0x3C);

    uint32_t cr0 = CR0_ET;
    if (h[1] & 0x01) cr0 |= CR0_MP;
    if (h[1] & 0x02) cr0 |= CR0_EM;
    if (h[1] & 0x04) cr0 |= CR0_TS;
    if (h[1] & 0x08) cr0 |= CR0_NE;
    if (h[1] & 0x10) cr0 |= CR0_AM;
    if (h[1] & 0x20) cr0 |= CR0_CD | CR0_NW;
    if (h[0] & 0x40) cr0 |= CR0_WP;
    if (mode != MODE_REAL && mode != MODE_UNREAL) cr0 |= CR0_PE;
    if (paging) cr0 |= CR0_PG;
    uint32_t cr4 = 0;
    if (h[1] & 0x40) cr4 |= CR4_VME;
    if (h[1] & 0x80) cr4 |= CR4_PVI;
    if (h[4] & 0x01) cr4 |= CR4_TSD;
    if (h[4] & 0x02) cr4 |= CR4_DE;
    if (h[4] & 0x04) cr4 |= CR4_PCE;
    if (h[0] & 0x10) cr4 |= CR4_PSE;
    if (h[0] & 0x20) cr4 |= CR4_PGE;
    cpu->cr0 = cr0;
    cpu->cr3 = PA_PAGE_DIR;
    cpu->cr4 = cr4;

    cpu->fpu.cw = (uint16_t)(0x0040 | (h[3] & 0x3F) | ((h[4] >> 3) & 3) << 8 | ((h[3] >> 6) & 3) << 10);

    if (h[4] & 0x20) {                       /* debug registers: a code and a data breakpoint */
        cpu->dr[0] = PA_CODE + (h[14] & 0x3F);
        cpu->dr[1] = (uint32_t)h[15] << 4;
        cpu->dr[7] = 0x0Fu | ((uint32_t)(h[14] & 0xF0) << 16);
    }

    cpu->gdtr = (struct dtr){ PA_GDT, GDT_ENTRIES * 8 - 1 };
    cpu->idtr = (struct dtr){ mode == MODE_REAL || mode == MODE_UNREAL ? PA_IVT : PA_IDT,
                              mode == MODE_REAL || mode == MODE_UNREAL ? 0x3FF : 0x7FF };
    cpu->seg[SEG_LDTR] = seg_desc_cache(SEL_LDT, PA_LDT, LDT_ENTRIES * 8 - 1, 0x82);
    cpu->seg[SEG_TR] = seg_desc_cache(SEL_TSS_CUR, PA_TSS_CUR, 0x68 + 0x2000, 0x8B);

    const uint16_t code32 = SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_A | SEGF_DB | SEGF_G;
    const uint16_t data32 = SEGF_P | SEGF_S | SEGF_RW | SEGF_A | SEGF_DB | SEGF_G;
    const uint16_t code16 = SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_A;
    const uint16_t data16 = SEGF_P | SEGF_S | SEGF_RW | SEGF_A;
    const uint16_t dpl3 = 3u << SEGF_DPL_SHIFT;
    uint32_t eflags = 0x2u | ((uint32_t)(h[2] & 3) << 12);
    if (h[2] & 0x04) eflags |= FL_AC;
    if (h[2] & 0x08) eflags |= FL_TF;
    if (h[2] & 0x10) eflags |= FL_IF;
    if (h[2] & 0x20) eflags |= FL_DF;
    if (h[2] & 0x40) eflags |= FL_NT;
    if (h[2] & 0x80) eflags |= FL_RF;
    cpu->eip = cpu->next_eip = payload_byte(m, 0) & 0x3;   /* a little misalignment */

    switch (mode) {
    case MODE_REAL:
    case MODE_UNREAL:
        cpu->cpl = 0;
        cpu->seg[SEG_CS] = seg_desc_cache(PA_CODE >> 4, PA_CODE, 0xFFFF, code16);
        set_data_segs(cpu, seg_desc_cache(0, 0, mode == MODE_UNREAL ? 0xFFFFFFFFu : 0xFFFF, data16));
        break;
    case MODE_PM16_CPL0:
        cpu->cpl = 0;
        cpu->seg[SEG_CS] = seg_desc_cache(SEL_CODE16_0, PA_CODE, 0xFFFF, code16);
        set_data_segs(cpu, seg_desc_cache(SEL_DATA16_0, 0, 0xFFFF, data16));
        break;
    case MODE_PM32_CPL0:
        cpu->cpl = 0;
        cpu->seg[SEG_CS] = seg_desc_cache(SEL_CODE32_0, PA_CODE, 0xFFFFFFFFu, code32);
        set_data_segs(cpu, seg_desc_cache(SEL_DATA32_0, 0, 0xFFFFFFFFu, data32));
        break;
    case MODE_PM16_CPL3:
        cpu->cpl = 3;
        cpu->seg[SEG_CS] = seg_desc_cache(SEL_CODE16_3, PA_CODE, 0xFFFF, code16 | dpl3);
        set_data_segs(cpu, seg_desc_cache(SEL_DATA16_3, 0, 0xFFFF, data16 | dpl3));
        break;
    case MODE_PM32_CPL3:
        cpu->cpl = 3;
        cpu->seg[SEG_CS] = seg_desc_cache(SEL_CODE32_3, PA_CODE, 0xFFFFFFFFu, code32 | dpl3);
        set_data_segs(cpu, seg_desc_cache(SEL_DATA32_3, 0, 0xFFFFFFFFu, data32 | dpl3));
        break;
    case MODE_PM32_CPL3_LDT:
        cpu->cpl = 3;
        cpu->seg[SEG_CS] = seg_desc_cache(SEL_LDT_CODE32_3, PA_CODE, 0xFFFFFFFFu, code32 | dpl3);
        set_data_segs(cpu, seg_desc_cache(SEL_LDT_DATA32_3, 0, 0xFFFFFFFFu, data32 | dpl3));
        break;
    case MODE_V86:
        cpu->cpl = 3;
        eflags |= FL_VM;
        cpu->seg[SEG_CS] = seg_desc_cache(PA_CODE >> 4, PA_CODE, 0xFFFF, code16 | dpl3);
        set_data_segs(cpu, seg_desc_cache(0, 0, 0xFFFF, data16 | dpl3));
        break;
    }
    cpu_set_eflags(cpu, eflags, 0xFFFFFFFFu);
    cpu_tlb_flush(cpu, true);
}

/* ---- invariants ---- */

static void check_invariants(const struct cpu *cpu, enum cpu_stop why, uint64_t retired, uint64_t budget)
{
    REQUIRE(cpu->cpl <= 3);
    if (cpu->eflags & FL_VM)
        REQUIRE((cpu->cr0 & CR0_PE) && cpu->cpl == 3);
    if ((cpu->cr0 & CR0_PE) && !(cpu->eflags & FL_VM) && cpu->cpl == 3)
        REQUIRE((cpu->seg[SEG_CS].sel & 3) == 3);
    REQUIRE(retired <= budget + 4096);   /* a REP batch (exec_string.c) charges up to 4096 at once */
    if (why == CPU_STOP_HALT)
        REQUIRE(cpu->halted);
    REQUIRE((why == CPU_STOP_TRIPLE_FAULT) == cpu->shutdown);
}

/* ---- the entry point ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One-time init: the machine (RAM, CPU, decoded-instruction cache) lives
     * for the whole process; every run resets what it uses. */
    static struct fuzz_machine *machine;
    if (!machine)
        machine = machine_create();
    struct fuzz_machine *m = machine;

    /* A short input is both header and payload. */
    static const uint8_t hlt_only = 0xF4;
    uint8_t header[HEADER_SIZE] = { 0 };
    memcpy(header, data, size < HEADER_SIZE ? size : HEADER_SIZE);
    m->hdr = header;
    m->payload = size > HEADER_SIZE ? data + HEADER_SIZE : size > 0 ? data : &hlt_only;
    m->payload_len = size > HEADER_SIZE ? size - HEADER_SIZE : size > 0 ? size : 1;
    m->value_seed = (uint32_t)header[9] | (uint32_t)header[13] << 8 | (uint32_t)header[15] << 16;
    m->device_accesses = 0;

    clear_ram(m);
    build_system_area(m);
    phys_load(&m->mem, 0, m->sys, SYS_SIZE);
    for (uint32_t done = 0; done < CODE_SIZE; ) {
        uint32_t chunk = (uint32_t)(m->payload_len < CODE_SIZE - done ? m->payload_len : CODE_SIZE - done);
        memcpy(m->code + done, m->payload, chunk);
        done += chunk;
    }
    phys_load(&m->mem, PA_CODE, m->code, CODE_SIZE);
    /* The ROM (reset vector: the code's last bytes) through the host copy
     * phys owns a pointer to, reporting the write as the API asks
     * (phys_load goes byte by byte over ROM). */
    memcpy(m->rom, m->code, ROM_SIZE);
    for (uint32_t off = 0; off < ROM_SIZE; off += PAGE_SIZE)
        phys_code_written(&m->mem, PA_ROM + off);
    setup_cpu(m);

    struct cpu *cpu = &m->cpu;
    uint64_t remaining = INSN_BUDGET;
    bool was_reset = false;
    for (int round = 0; round < MAX_ROUNDS && remaining > 0; round++) {
        uint64_t before = cpu->icount;
        enum cpu_stop why = cpu_run(cpu, remaining);
        uint64_t retired = cpu->icount - before;
        check_invariants(cpu, why, retired, remaining);
        remaining -= retired;
        if (why == CPU_STOP_HALT) {
            if (!(header[4] & 0x40))
                break;
            if (header[7] & 1) {
                cpu_raise_nmi(cpu);
            } else if (cpu->eflags & FL_IF) {
                m->wake_vector = (header[6] + round) & 0xFF;
                cpu_set_intr(cpu, true);
            } else {
                break;
            }
        } else if (why == CPU_STOP_TRIPLE_FAULT) {
            if (!(header[4] & 0x80) || was_reset)
                break;
            was_reset = true;
            cpu_reset(cpu);        /* runs the ROM's reset vector */
            cpu->stop_requested = m->device_accesses >= DEVICE_ACCESS_CAP;
        } else {
            break;
        }
    }
    cpu_set_intr(cpu, false);
    cpu->stop_requested = false;
    return 0;
}
