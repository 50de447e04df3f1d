/* tests/unit/test_string_fast.c: REP MOVS and REP STOS (core/exec_string.c),
 * whose runs inside one page of plain RAM go through host memset/memmove.
 *
 *   differential   random REP MOVS/STOS (sizes 1/2/4, DF 0/1, 16- and
 *                  32-bit addressing, offsets near page ends, overlapping
 *                  and aliased operands, short segment limits, offsets at
 *                  0 and 4G - 1 with the linear address wrapping, unmapped
 *                  pages, an MMIO page) against the same instruction
 *                  without REP run once per iteration (the element path):
 *                  memory, registers, MMIO accesses, fault and CR2 equal;
 *   directed       a fault midway leaves the exact registers; 16-bit DI
 *                  wraps; ECX = 0 touches nothing; an MMIO destination
 *                  sees every element in order; a store over decoded code
 *                  invalidates it; a watched page table is told of every
 *                  byte; a batch resumes at the same instruction.
 *
 * Paging layout: PD at 0x1000, PT at 0x2000; linear page n (0x10..0x3F)
 * maps physical page n + 0x100, except 0x20 (not present), 0x31 (aliases
 * 0x30's physical page) and 0x38 (the MMIO page); A and D are preset, so
 * the runs never write the page tables.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "harness.h"
#include "mmu/walk.h"

#define RAM_SIZE   (2u << 20)
#define PD         0x1000u
#define PT         0x2000u
#define MMIO_BASE  0xFEB00000u
#define LIN_MMIO   0x38000u
#define LIN_HOLE   0x20000u

#define DATA_RW (SEGF_P | SEGF_S | SEGF_RW | SEGF_A)

struct mmio_log {
    uint32_t n;
    uint32_t entry[20000][3];   /* offset, value, size (reads: size | 0x100) */
};

static uint32_t mmio_read(void *opaque, uint32_t offset, int size)
{
    struct mmio_log *log = opaque;
    if (log->n < 20000) {
        log->entry[log->n][0] = offset;
        log->entry[log->n][1] = 0;
        log->entry[log->n][2] = (uint32_t)size | 0x100;
        log->n++;
    }
    return (offset * 0x9E3779B1u) >> 3;
}

static void mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    struct mmio_log *log = opaque;
    if (log->n < 20000) {
        log->entry[log->n][0] = offset;
        log->entry[log->n][1] = value & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);
        log->entry[log->n][2] = (uint32_t)size;
        log->n++;
    }
}

static const struct mmio_ops test_mmio = { mmio_read, mmio_write };

struct machine {
    struct fixture *fx;
    struct mmio_log *log;
};

static void data_seg(struct cpu *cpu, int seg, uint32_t base, uint32_t limit)
{
    cpu->seg[seg] = (struct seg_cache){ .sel = 0x10, .base = base, .limit = limit,
                                        .flags = DATA_RW | SEGF_DB, .valid = true };
}

static struct machine machine_new(void)
{
    struct machine m = { fixture_new(RAM_SIZE), calloc(1, sizeof(struct mmio_log)) };
    struct phys_mem *pm = &m.fx->pm;
    ck_assert_int_eq(phys_add_mmio(pm, MMIO_BASE, 4096, &test_mmio, m.log), 0);
    phys_write(pm, PD, PT | PTE_P | PTE_RW | PTE_US | PTE_A, 4);
    for (uint32_t n = 0x10; n < 0x40; n++) {
        uint32_t phys = (n + 0x100) << 12;
        if (n == 0x31)
            phys = 0x130u << 12;
        if (n == 0x38)
            phys = MMIO_BASE;
        uint32_t pte = n == 0x20 ? 0 : phys | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
        phys_write(pm, PT + n * 4, pte, 4);
    }
    struct cpu *cpu = &m.fx->cpu;
    cpu->cr3 = PD;
    cpu->cr0 |= CR0_PE | CR0_PG | CR0_WP;
    for (int s = 0; s < SEG_COUNT; s++)
        data_seg(cpu, s, 0, 0xFFFFFFFFu);
    cpu->seg[SEG_CS].flags = SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_A | SEGF_DB;
    cpu->cpl = 0;
    cpu->eip = 0x1000;
    cpu_tlb_flush(cpu, true);
    return m;
}

static void machine_free(struct machine m)
{
    fixture_free(m.fx);
    free(m.log);
}

static struct insn decode(const uint8_t *bytes, size_t n)
{
    struct insn in;
    ck_assert_uint_eq(decode_insn(&in, bytes, n, true), n);
    return in;
}

/* Runs a REP instruction to its end (batches come back to the same EIP). */
static int run_rep(struct cpu *cpu, const struct insn *in)
{
    for (int calls = 0; calls < 100; calls++) {
        int vector = exec_one(cpu, in);
        if (vector != NO_FAULT)
            return vector;
        if (cpu->next_eip != cpu->eip)
            return NO_FAULT;
    }
    ck_abort_msg("REP did not finish");
    return NO_FAULT;
}

/* The reference: the instruction without REP, once per count. */
static int run_iterated(struct cpu *cpu, const struct insn *single, uint32_t amask)
{
    while (cpu->gpr[R_ECX] & amask) {
        int vector = exec_one(cpu, single);
        if (vector != NO_FAULT)
            return vector;
        uint32_t c = cpu->gpr[R_ECX];
        cpu->gpr[R_ECX] = (c & ~amask) | ((c - 1) & amask);
    }
    return NO_FAULT;
}

static uint32_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return ((rng_state >> 8) ^ (rng_state >> 20)) % n;
}

/* An offset near a page end of the linear window, as seen through base. */
static uint32_t near_page_end(uint32_t base, uint32_t amask)
{
    uint32_t page = 0x10 + rnd(0x30);
    uint32_t lin = (page << 12) + rnd(64) - 32;
    if (rnd(4) == 0)
        lin = (page << 12) + rnd(4096);
    return (lin - base) & amask;
}

struct outcome {
    int vector;
    uint32_t gpr[8];
    uint32_t cr2;
    uint32_t log_n;
};

START_TEST(differential)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    uint8_t *ram_before = malloc(RAM_SIZE), *ram_rep = malloc(RAM_SIZE);
    struct mmio_log *log_rep = malloc(sizeof *log_rep);
    rng_state = 12345;
    for (uint32_t i = 0x100000; i < RAM_SIZE; i++)
        m.fx->pm.ram[i] = (uint8_t)rnd(256);
    uint32_t faults = 0, runs = 0;
    for (int c = 0; c < 3000; c++) {
        bool stos = rnd(2);
        int size = 1 << rnd(3);
        bool a16 = rnd(4) == 0;
        uint32_t amask = a16 ? 0xFFFF : 0xFFFFFFFF;
        uint8_t bytes[8], single[8];
        size_t n = 0, ns = 0;
        if (size == 2)
            bytes[n++] = single[ns++] = 0x66;
        if (a16)
            bytes[n++] = single[ns++] = 0x67;
        bytes[n++] = 0xF3;
        bytes[n++] = single[ns++] = (uint8_t)((stos ? 0xAA : 0xA4) + (size > 1));
        struct insn rep = decode(bytes, n), one = decode(single, ns);

        uint32_t es_base = a16 ? 0x10000 + rnd(0x30) * 0x1000 - rnd(3) * 0x800 + rnd(8) : 0;
        uint32_t ds_base = a16 ? 0x10000 + rnd(0x30) * 0x1000 + rnd(8) : 0;
        uint32_t es_limit = a16 ? 0xFFFF : 0xFFFFFFFFu, ds_limit = es_limit;
        if (rnd(8) == 0)
            es_limit = rnd(0x40000);
        if (rnd(8) == 0)
            ds_limit = rnd(0x40000);
        data_seg(cpu, SEG_ES, es_base, es_limit);
        data_seg(cpu, SEG_DS, ds_base, ds_limit);
        for (int r = 0; r < 8; r++)
            cpu->gpr[r] = rnd(0xFFFFFFFFu);
        cpu->gpr[R_EDI] = (cpu->gpr[R_EDI] & ~amask) | near_page_end(es_base, amask);
        cpu->gpr[R_ESI] = (cpu->gpr[R_ESI] & ~amask) | near_page_end(ds_base, amask);
        if (!stos && rnd(3) == 0)   /* overlapping operands */
            cpu->gpr[R_ESI] = (cpu->gpr[R_ESI] & ~amask) |
                              ((cpu->gpr[R_EDI] + es_base - ds_base + rnd(19) - 9) & amask);
        if (!stos && rnd(6) == 0)   /* the same bytes through two linear pages */
            cpu->gpr[R_EDI] = (cpu->gpr[R_EDI] & ~amask) | ((0x31000 + rnd(4096) - es_base) & amask);
        if (!a16 && rnd(8) == 0) {   /* offsets at 0 and 4G - 1, linear wrap */
            data_seg(cpu, SEG_ES, 0x18000, 0xFFFFFFFFu);
            data_seg(cpu, SEG_DS, 0x28000, 0xFFFFFFFFu);
            cpu->gpr[R_EDI] = rnd(2) ? rnd(64) : 0u - rnd(64);
            cpu->gpr[R_ESI] = rnd(2) ? rnd(64) : 0u - rnd(64);
        }
        uint32_t count = rnd(4) == 0 ? rnd(8) : rnd(3) == 0 ? rnd(9000) : rnd(1500);
        if (rnd(8) == 0)
            count = 0;
        cpu->gpr[R_ECX] = (cpu->gpr[R_ECX] & ~amask) | (count & amask);
        if (stos && rnd(2))
            cpu->gpr[R_EAX] = rnd(2) ? 0 : 0x5A5A5A5A;
        cpu->eflags = rnd(2) ? (cpu->eflags | FL_DF) : (cpu->eflags & ~FL_DF);
        if (rnd(10) == 0) {   /* an alignment-checked user */
            cpu->cpl = 3;
            cpu->cr0 |= CR0_AM;
            cpu->eflags |= FL_AC;
        }

        struct cpu saved = *cpu;
        memcpy(ram_before, m.fx->pm.ram, RAM_SIZE);
        m.log->n = 0;
        cpu_tlb_flush(cpu, true);
        struct outcome a = { .vector = run_rep(cpu, &rep) };
        memcpy(a.gpr, cpu->gpr, sizeof a.gpr);
        a.cr2 = cpu->cr2;
        a.log_n = m.log->n;
        memcpy(ram_rep, m.fx->pm.ram, RAM_SIZE);
        memcpy(log_rep, m.log, sizeof *log_rep);

        *cpu = saved;
        memcpy(m.fx->pm.ram, ram_before, RAM_SIZE);
        m.log->n = 0;
        cpu_tlb_flush(cpu, true);
        struct outcome b = { .vector = run_iterated(cpu, &one, amask) };
        memcpy(b.gpr, cpu->gpr, sizeof b.gpr);
        b.cr2 = cpu->cr2;
        b.log_n = m.log->n;

        ck_assert_msg(a.vector == b.vector, "case %d: vector %d, iterated %d", c, a.vector, b.vector);
        for (int r = 0; r < 8; r++)
            ck_assert_msg(a.gpr[r] == b.gpr[r], "case %d (%s size %d a16 %d DF %d count %u): "
                          "reg %d %08x, iterated %08x", c, stos ? "stos" : "movs", size, a16,
                          !!(saved.eflags & FL_DF), count, r, a.gpr[r], b.gpr[r]);
        if (a.vector == EXC_PF)
            ck_assert_uint_eq(a.cr2, b.cr2);
        ck_assert_msg(memcmp(ram_rep, m.fx->pm.ram, RAM_SIZE) == 0, "case %d: memory differs", c);
        ck_assert_uint_eq(a.log_n, b.log_n);
        ck_assert(memcmp(log_rep->entry, m.log->entry, a.log_n * sizeof log_rep->entry[0]) == 0);
        faults += a.vector != NO_FAULT;
        runs++;
        cpu->cpl = 0;
        cpu->cr0 &= ~CR0_AM;
        cpu->eflags &= ~FL_AC;
    }
    /* the cases must exercise both endings */
    ck_assert_uint_gt(faults, 100);
    ck_assert_uint_gt(runs - faults, 1000);
    free(ram_before);
    free(ram_rep);
    free(log_rep);
    machine_free(m);
}
END_TEST

START_TEST(fault_midway_exact)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    static const uint8_t movsd[] = { 0xF3, 0xA5 };
    struct insn in = decode(movsd, sizeof movsd);
    cpu->gpr[R_ESI] = 0x12000;
    cpu->gpr[R_EDI] = LIN_HOLE - 4096 + 64;   /* 1008 dwords fit before the hole */
    cpu->gpr[R_ECX] = 2000;
    uint64_t icount = cpu->icount;
    ck_assert_int_eq(exec_one(cpu, &in), EXC_PF);
    ck_assert_uint_eq(cpu->cr2, LIN_HOLE);
    ck_assert_uint_eq(cpu->pending_error, PF_ERR_W);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 2000 - 1008);
    ck_assert_uint_eq(cpu->gpr[R_ESI], 0x12000 + 1008 * 4);
    ck_assert_uint_eq(cpu->gpr[R_EDI], LIN_HOLE);
    ck_assert_uint_eq(cpu->icount - icount, 1999);   /* the batch is charged up front, as before */
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x11FFFC, 4), phys_read(&m.fx->pm, 0x112000 + 1007 * 4, 4));
    machine_free(m);
}
END_TEST

START_TEST(wrap_16bit_and_zero_count)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    static const uint8_t stosb16[] = { 0x67, 0xF3, 0xAA };
    struct insn in = decode(stosb16, sizeof stosb16);
    data_seg(cpu, SEG_ES, 0x10000, 0xFFFF);
    cpu->gpr[R_EDI] = 0xABCDFFFE;
    cpu->gpr[R_ECX] = 0x12340004;
    cpu->gpr[R_EAX] = 0x77;
    ck_assert_int_eq(exec_one(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EDI], 0xABCD0002);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 0x12340000);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x11FFFE, 2), 0x7777);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x110000, 2), 0x7777);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x110002, 1), 0);
    /* CX = 0 with nonzero upper ECX: nothing happens */
    cpu->gpr[R_ECX] = 0x56780000;
    cpu->gpr[R_EDI] = 0x100;
    ck_assert_int_eq(exec_one(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_EDI], 0x100);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 0x56780000);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x110100, 1), 0);
    machine_free(m);
}
END_TEST

START_TEST(mmio_destination_in_order)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    static const uint8_t stosw[] = { 0x66, 0xF3, 0xAB };
    struct insn in = decode(stosw, sizeof stosw);
    cpu->gpr[R_EDI] = LIN_MMIO - 4;
    cpu->gpr[R_ECX] = 10;
    cpu->gpr[R_EAX] = 0xBEEF;
    ck_assert_int_eq(run_rep(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(m.log->n, 8);
    for (uint32_t i = 0; i < 8; i++) {
        ck_assert_uint_eq(m.log->entry[i][0], i * 2);
        ck_assert_uint_eq(m.log->entry[i][1], 0xBEEF);
        ck_assert_uint_eq(m.log->entry[i][2], 2);
    }
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x137FFC, 4), 0xBEEFBEEF);
    machine_free(m);
}
END_TEST

START_TEST(code_page_invalidated)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    static const uint8_t stosd[] = { 0xF3, 0xAB };
    struct insn in = decode(stosd, sizeof stosd);
    uint32_t phys = 0x115000;
    /* make the TLB entry direct-writable first, then put code on the page */
    cpu_write32(cpu, SEG_DS, 0x15000, 0);
    cpu_tlb_protect_code(cpu, phys + 0x800, 16);
    uint32_t gen = phys_code_gen(&m.fx->pm, phys);
    cpu->gpr[R_EDI] = 0x15000;
    cpu->gpr[R_ECX] = 1024;
    cpu->gpr[R_EAX] = 0x90909090;
    ck_assert_int_eq(exec_one(cpu, &in), NO_FAULT);
    ck_assert_uint_ne(phys_code_gen(&m.fx->pm, phys), gen);
    ck_assert(!phys_code_marked(&m.fx->pm, phys));
    ck_assert_uint_eq(phys_read(&m.fx->pm, phys + 0xFFC, 4), 0x90909090);
    /* the same, copying onto code backwards */
    cpu_tlb_protect_code(cpu, phys + 0x10, 4);
    gen = phys_code_gen(&m.fx->pm, phys);
    static const uint8_t movsb[] = { 0xF3, 0xA4 };
    struct insn mv = decode(movsb, sizeof movsb);
    cpu->eflags |= FL_DF;
    cpu->gpr[R_ESI] = 0x12FFF;
    cpu->gpr[R_EDI] = 0x15FFF;
    cpu->gpr[R_ECX] = 4096;
    ck_assert_int_eq(exec_one(cpu, &mv), NO_FAULT);
    ck_assert_uint_ne(phys_code_gen(&m.fx->pm, phys), gen);
    machine_free(m);
}
END_TEST

struct watch_seen { uint32_t bytes; };
static void watched(void *opaque, uint32_t paddr, uint32_t len)
{
    (void)paddr;
    ((struct watch_seen *)opaque)->bytes += len;
}

START_TEST(watched_page_told)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    struct watch_seen seen = { 0 };
    phys_set_watcher(&m.fx->pm, watched, &seen);
    cpu_write32(cpu, SEG_DS, 0x16000, 0);   /* a direct TLB entry first */
    phys_set_watch(&m.fx->pm, 0x116000, true);
    cpu_tlb_flush(cpu, true);
    static const uint8_t stosd[] = { 0xF3, 0xAB };
    struct insn in = decode(stosd, sizeof stosd);
    cpu->gpr[R_EDI] = 0x16000;
    cpu->gpr[R_ECX] = 1024;
    cpu->gpr[R_EAX] = 0x01020304;
    ck_assert_int_eq(exec_one(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(seen.bytes, 4096);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x116FFC, 4), 0x01020304);
    machine_free(m);
}
END_TEST

START_TEST(batch_resumes)
{
    struct machine m = machine_new();
    struct cpu *cpu = &m.fx->cpu;
    static const uint8_t stosb[] = { 0xF3, 0xAA };
    struct insn in = decode(stosb, sizeof stosb);
    cpu->gpr[R_EDI] = 0x10000;
    cpu->gpr[R_ECX] = 10000;
    cpu->gpr[R_EAX] = 0xAB;
    uint64_t icount = cpu->icount;
    ck_assert_int_eq(exec_one(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(cpu->next_eip, cpu->eip);         /* comes back */
    ck_assert_uint_eq(cpu->gpr[R_ECX], 10000 - 4096);
    ck_assert_uint_eq(cpu->icount - icount, 4095);
    ck_assert_int_eq(run_rep(cpu, &in), NO_FAULT);
    ck_assert_uint_eq(cpu->gpr[R_ECX], 0);
    ck_assert_uint_eq(cpu->gpr[R_EDI], 0x10000 + 10000);
    ck_assert_uint_eq(phys_read(&m.fx->pm, 0x110000 + 10000 - 1, 1), 0xAB);
    machine_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("string_fast");
    TCase *tc = tcase_create("rep");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, differential);
    tcase_add_test(tc, fault_midway_exact);
    tcase_add_test(tc, wrap_16bit_and_zero_count);
    tcase_add_test(tc, mmio_destination_in_order);
    tcase_add_test(tc, code_page_invalidated);
    tcase_add_test(tc, watched_page_told);
    tcase_add_test(tc, batch_resumes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
