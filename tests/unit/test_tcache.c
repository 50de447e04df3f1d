/* tests/unit/test_tcache.c: the translator's scanner, cache and portable
 * backend (translator/): block ends by class, keying by mode, self-
 * modifying code (the next instruction of the running block, and a block
 * already translated), the memory budget flush and callout counts, each
 * program's result compared with the interpreter's. */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/flags.h"
#include "harness.h"
#include "mmu/phys.h"
#include "mmu/shadow.h"
#include "translator/tcache.h"

static int scan_jcc(const uint8_t *code, size_t len, uint32_t offset, bool code32, bool past_jcc,
                    enum scan_end *why)
{
    static uint8_t page[4096];
    static struct insn out[SCAN_MAX_INSNS];
    memset(page, 0x90, sizeof page);
    memcpy(page + offset, code, len);
    uint32_t bytes;
    exec_table_init();
    return scan_block(page, offset, 0x1000 + offset, code32, past_jcc, out, SCAN_MAX_INSNS, why,
                      &bytes);
}

static int scan(const uint8_t *code, size_t len, uint32_t offset, bool code32, enum scan_end *why)
{
    return scan_jcc(code, len, offset, code32, false, why);
}

START_TEST(test_scan_ends)
{
    enum scan_end why;
    static const uint8_t ret[] = { 0x90, 0x40, 0xC3 };                 /* nop; inc ax; ret */
    ck_assert_int_eq(scan(ret, sizeof ret, 0, false, &why), 3);
    ck_assert_int_eq(why, SCAN_END_CLASS);
    static const uint8_t out[] = { 0x90, 0xE6, 0x80, 0x90 };           /* nop; out 0x80, al */
    ck_assert_int_eq(scan(out, sizeof out, 0, false, &why), 2);
    ck_assert_int_eq(why, SCAN_END_CLASS);
    static const uint8_t sti[] = { 0xFB, 0x90 };                       /* sti (IOPL|END) */
    ck_assert_int_eq(scan(sti, sizeof sti, 0, true, &why), 1);
    /* callouts that only read state or clear IF go on to the length limit */
    static const uint8_t cli[] = { 0xFA, 0x9C, 0x0F, 0x31, 0x0F, 0xA2, 0x0F, 0x01, 0xE0 };
    ck_assert_int_eq(scan(cli, sizeof cli, 0, true, &why), SCAN_MAX_INSNS); /* cli pushf rdtsc cpuid smsw */
    ck_assert_int_eq(why, SCAN_END_LIMIT);
    static const uint8_t lds[] = { 0x90, 0xC5, 0x06 };                 /* lds eax, [esi] (loads DS) */
    ck_assert_int_eq(scan(lds, sizeof lds, 0, true, &why), 2);
    ck_assert_int_eq(why, SCAN_END_CLASS);
    static const uint8_t movcr[] = { 0x90, 0x0F, 0x22, 0xD8 };         /* mov cr3, eax (PRIV) */
    ck_assert_int_eq(scan(movcr, sizeof movcr, 0, true, &why), 2);
    static const uint8_t popf[] = { 0x9D };                            /* popf (SENS|END) */
    ck_assert_int_eq(scan(popf, sizeof popf, 0, true, &why), 1);
    /* past_jcc (the native backend's blocks): conditional jumps, short
     * and near, stay inside; the first other control transfer ends it */
    static const uint8_t jccs[] = { 0x74, 0x02, 0x0F, 0x85, 0x10, 0, 0, 0, 0x90, 0xC3, 0x90 };
    ck_assert_int_eq(scan_jcc(jccs, sizeof jccs, 0, true, false, &why), 1);  /* jz */
    ck_assert_int_eq(why, SCAN_END_CLASS);
    ck_assert_int_eq(scan_jcc(jccs, sizeof jccs, 0, true, true, &why), 4);   /* jz jnz nop ret */
    ck_assert_int_eq(why, SCAN_END_CLASS);
    static const uint8_t loop[] = { 0xE2, 0xFE, 0x90 };                /* loop: not a Jcc */
    ck_assert_int_eq(scan_jcc(loop, sizeof loop, 0, true, true, &why), 1);
    /* nops to the end of the page */
    static const uint8_t nops[] = { 0x90, 0x90 };
    ck_assert_int_eq(scan(nops, sizeof nops, 4094, true, &why), 2);
    ck_assert_int_eq(why, SCAN_END_PAGE);
    /* an instruction crossing the page ends the block before it */
    static const uint8_t cross[] = { 0x90, 0xB8 };                      /* nop; mov eax, imm32 ... */
    ck_assert_int_eq(scan(cross, sizeof cross, 4094, true, &why), 1);
    ck_assert_int_eq(why, SCAN_END_PAGE);
    /* the length limit */
    ck_assert_int_eq(scan(nops, sizeof nops, 0, true, &why), SCAN_MAX_INSNS);
    ck_assert_int_eq(why, SCAN_END_LIMIT);
    /* an undefined opcode is left to the interpreter (#UD) */
    static const uint8_t ud[] = { 0x90, 0x0F, 0xFF };
    ck_assert_int_eq(scan(ud, sizeof ud, 0, true, &why), 1);
    ck_assert_int_eq(why, SCAN_END_UNDECODED);
}
END_TEST

/* Real mode, CS = DS = SS = 0, code at 0x1000, SP 0x8000, IF clear. */
static struct fixture *machine_with(const uint8_t *code, size_t len)
{
    struct fixture *fx = fixture_new(1u << 20);
    struct cpu *cpu = &fx->cpu;
    cpu_load_seg_real(cpu, SEG_CS, 0);
    cpu_load_seg_real(cpu, SEG_DS, 0);
    cpu_load_seg_real(cpu, SEG_SS, 0);
    cpu->eip = 0x1000;
    cpu->gpr[R_ESP] = 0x8000;
    phys_load(&fx->pm, 0x1000, code, len);
    return fx;
}

struct result { uint32_t gpr[8]; uint32_t eip; uint64_t icount; enum cpu_stop why; };

static struct result run(const uint8_t *code, size_t len, struct tcache *tc, int repeat)
{
    struct fixture *fx = machine_with(code, len);
    struct result r = { 0 };
    if (tc)
        fx->cpu.engine = tcache_engine(tc);
    for (int i = 0; i < repeat; i++) {
        phys_load(&fx->pm, 0x1000, code, len);   /* fresh code each time: patched again */
        fx->cpu.eip = 0x1000;
        fx->cpu.halted = false;
        r.why = cpu_run(&fx->cpu, 100000);
    }
    memcpy(r.gpr, fx->cpu.gpr, sizeof r.gpr);
    r.eip = fx->cpu.eip;
    r.icount = fx->cpu.icount;
    fixture_free(fx);
    return r;
}

static void same(const struct result *a, const struct result *b)
{
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(a->gpr[i], b->gpr[i]);
    ck_assert_uint_eq(a->eip, b->eip);
    ck_assert_uint_eq(a->icount, b->icount);
    ck_assert_int_eq(a->why, b->why);
}

/* rewrites the instruction right after itself, in the same block */
static const uint8_t smc_next[] = {
    0xC6, 0x06, 0x0B, 0x10, 0x40,   /* 1000 mov byte [0x100B], 0x40 (inc ax) */
    0xB8, 0x01, 0x00,               /* 1005 mov ax, 1 */
    0xBB, 0x02, 0x00,               /* 1008 mov bx, 2 */
    0x90,                           /* 100B nop: becomes inc ax */
    0xF4,                           /* 100C hlt */
};

/* calls a block, patches it, calls it again */
static const uint8_t smc_later[] = {
    0x31, 0xC0,                     /* 1000 xor ax, ax */
    0x31, 0xC9,                     /* 1002 xor cx, cx */
    0xE8, 0x19, 0x00,               /* 1004 call 0x1020 */
    0xC6, 0x06, 0x20, 0x10, 0x40,   /* 1007 mov byte [0x1020], 0x40 (inc ax) */
    0xE8, 0x11, 0x00,               /* 100C call 0x1020 */
    0xF4,                           /* 100F hlt */
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x41,                           /* 1020 inc cx */
    0xC3,                           /* 1021 ret */
};

START_TEST(test_smc_next_insn)
{
    struct tcache *tc = tcache_create(&(struct tcache_config){ 0 });
    struct result interp = run(smc_next, sizeof smc_next, NULL, 3);
    struct result port = run(smc_next, sizeof smc_next, tc, 3);
    ck_assert_uint_eq(interp.gpr[R_EAX] & 0xFFFF, 2);
    same(&interp, &port);
    const struct tcache_stats *s = tcache_stats(tc);
    ck_assert_uint_ge(s->smc_invalidations, 1);
    ck_assert_uint_eq(s->callouts[OP_HLT], 3);
    tcache_destroy(tc);
}
END_TEST

/* callouts inside a block run and are counted like those that end one */
static const uint8_t mid_callouts[] = {
    0xB8, 0x34, 0x12,               /* 1000 mov ax, 0x1234 */
    0xFA,                           /* 1003 cli */
    0x9C,                           /* 1004 pushf */
    0x5B,                           /* 1005 pop bx */
    0x0F, 0x01, 0xE1,               /* 1006 smsw cx */
    0x40,                           /* 1009 inc ax */
    0xF4,                           /* 100A hlt */
};

START_TEST(test_callouts_inside_block)
{
    struct tcache *tc = tcache_create(&(struct tcache_config){ 0 });
    struct result interp = run(mid_callouts, sizeof mid_callouts, NULL, 2);
    struct result port = run(mid_callouts, sizeof mid_callouts, tc, 2);
    ck_assert_uint_eq(interp.gpr[R_EAX] & 0xFFFF, 0x1235);
    ck_assert_uint_eq(interp.gpr[R_EBX] & 0x0200, 0);   /* IF clear in the pushed flags */
    same(&interp, &port);
    const struct tcache_stats *s = tcache_stats(tc);
    ck_assert_uint_eq(s->blocks_translated, 2);         /* one block, HLT its end, per run (reloaded) */
    ck_assert_uint_eq(s->callouts[OP_CLI], 2);
    ck_assert_uint_eq(s->callouts[OP_PUSHF], 2);
    ck_assert_uint_eq(s->callouts[OP_SMSW], 2);
    ck_assert_uint_eq(s->callouts[OP_HLT], 2);
    tcache_destroy(tc);
}
END_TEST

START_TEST(test_smc_later_block)
{
    struct tcache *tc = tcache_create(&(struct tcache_config){ 0 });
    struct result interp = run(smc_later, sizeof smc_later, NULL, 2);
    struct result port = run(smc_later, sizeof smc_later, tc, 2);
    ck_assert_uint_eq(interp.gpr[R_ECX] & 0xFFFF, 1);
    ck_assert_uint_eq(interp.gpr[R_EAX] & 0xFFFF, 1);
    same(&interp, &port);
    const struct tcache_stats *s = tcache_stats(tc);
    ck_assert_uint_ge(s->smc_invalidations, 1);
    ck_assert_uint_ge(s->blocks_translated, 4);
    tcache_destroy(tc);
}
END_TEST

/* a loop storing to data in its own page, 128 bytes past the code: the
 * code's 64-byte chunks are untouched, so nothing is invalidated */
static const uint8_t data_near_code[] = {
    0xB9, 0x64, 0x00,               /* 1000 mov cx, 100 */
    0xFE, 0x06, 0x80, 0x10,         /* 1003 inc byte [0x1080] */
    0xE2, 0xFA,                     /* 1007 loop 1003 */
    0xA0, 0x80, 0x10,               /* 1009 mov al, [0x1080] */
    0xF4,                           /* 100C hlt */
};

START_TEST(test_data_near_code)
{
    struct result interp = run(data_near_code, sizeof data_near_code, NULL, 1);
    ck_assert_uint_eq(interp.gpr[R_EAX] & 0xFF, 100);
    for (int backend = TCACHE_PORTABLE; backend <= TCACHE_NATIVE; backend++) {
        if (backend == TCACHE_NATIVE && !native_supported())
            continue;
        struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
        struct result tr = run(data_near_code, sizeof data_near_code, tc, 1);
        same(&interp, &tr);
        ck_assert_uint_eq(tcache_stats(tc)->smc_invalidations, 0);
        tcache_destroy(tc);
    }
}
END_TEST

START_TEST(test_budget_flush)
{
    /* a budget of about two blocks: translating flushes again and again */
    struct tcache *tc = tcache_create(&(struct tcache_config){ .budget_bytes = 640 });
    struct result interp = run(smc_later, sizeof smc_later, NULL, 2);
    struct result port = run(smc_later, sizeof smc_later, tc, 2);
    same(&interp, &port);
    ck_assert_uint_gt(tcache_stats(tc)->flushes, 0);
    ck_assert_uint_le(tcache_bytes_used(tc) - 1024 * sizeof(void *), 640);
    tcache_destroy(tc);
}
END_TEST

START_TEST(test_mode_key)
{
    static const uint8_t code[] = { 0x40, 0x40, 0xF4 };
    struct fixture *fx = machine_with(code, sizeof code);
    struct cpu *cpu = &fx->cpu;
    struct tcache *tc = tcache_create(&(struct tcache_config){ 0 });
    jmp_buf env;
    cpu->fault_env = &env;
    if (setjmp(env) != 0)
        ck_abort_msg("fault");
    /* fill the TLB for CS:EIP the way the interpreter does */
    uint8_t buf[4];
    cpu_fetch_code(cpu, cpu->eip, buf, sizeof buf);
    uint32_t m16 = tcache_mode(cpu);
    struct tblock *a = tcache_find(tc, cpu, NULL, m16);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(tcache_find(tc, cpu, NULL, m16), a);   /* a hit */
    ck_assert_uint_eq(tcache_stats(tc)->hits, 1);
    cpu->seg[SEG_CS].flags |= SEGF_DB;                      /* the same bytes as 32-bit code */
    uint32_t m32 = tcache_mode(cpu);
    ck_assert_uint_ne(m16, m32);
    struct tblock *b = tcache_find(tc, cpu, NULL, m32);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(tcache_stats(tc)->blocks_translated, 2);
    cpu->cpl = 3;                                           /* CPL is in the key too */
    ck_assert_uint_ne(tcache_mode(cpu), m32);
    /* a write to the page makes both stale */
    phys_write(&fx->pm, 0x1001, 0x48, 1);
    cpu->cpl = 0;
    cpu->seg[SEG_CS].flags &= (uint16_t)~SEGF_DB;
    struct tblock *c = tcache_find(tc, cpu, NULL, m16);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->insn[1].insn.op, OP_DEC);
    ck_assert_uint_eq(tcache_stats(tc)->smc_invalidations, 1);
    /* tcache_block_current agrees: the new block is, the old one is not
     * (its page was written), nor is the new one in another mode or at
     * another EIP */
    ck_assert(tcache_block_current(tc, cpu, c, m16));
    ck_assert(!tcache_block_current(tc, cpu, a, m16));
    ck_assert(!tcache_block_current(tc, cpu, c, m32));
    cpu->eip++;
    ck_assert(!tcache_block_current(tc, cpu, c, m16));
    cpu->eip--;
    cpu->fault_env = NULL;
    tcache_destroy(tc);
    fixture_free(fx);
}
END_TEST

/* A first instruction that crosses the page: an empty block, remembered
 * (the second lookup is a hash hit, not another scan), and the interpreter
 * runs the instruction. */
START_TEST(test_empty_block)
{
    static const uint8_t code[] = { 0x40 };
    struct fixture *fx = machine_with(code, sizeof code);
    struct cpu *cpu = &fx->cpu;
    /* mov ax, 0x1234 at 0x1FFE: B8 34 | 12 on the next page, then HLT */
    static const uint8_t crossing[] = { 0xB8, 0x34, 0x12, 0xF4 };
    phys_load(&fx->pm, 0x1FFE, crossing, sizeof crossing);
    cpu->eip = 0x1FFE;
    struct tcache *tc = tcache_create(&(struct tcache_config){ 0 });
    jmp_buf env;
    cpu->fault_env = &env;
    if (setjmp(env) != 0)
        ck_abort_msg("fault");
    uint8_t buf[2];
    cpu_fetch_code(cpu, cpu->eip, buf, sizeof buf);
    uint32_t mode = tcache_mode(cpu);
    struct tblock *a = tcache_find(tc, cpu, NULL, mode);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->n, 0);
    ck_assert_ptr_eq(tcache_find(tc, cpu, NULL, mode), a);
    ck_assert_uint_eq(tcache_stats(tc)->hits, 1);
    ck_assert_uint_eq(tcache_stats(tc)->empty_blocks, 1);
    ck_assert_uint_eq(tcache_stats(tc)->blocks_translated, 1);
    cpu->fault_env = NULL;
    cpu->engine = tcache_engine(tc);
    cpu_run(cpu, 100);
    ck_assert_uint_eq(cpu->gpr[R_EAX] & 0xFFFF, 0x1234);
    ck_assert(cpu->halted);
    tcache_destroy(tc);
    fixture_free(fx);
}
END_TEST

/* A loop whose memory operands share one check (a group) spanning a page
 * boundary: the leader's check misses on every pass. The block is
 * translated again with that group off after a few misses instead of leaving
 * host code on every pass (openssl sha256 once ran at 0.9 MB/s so). */
static const uint8_t group_across_pages[] = {
    0xB9, 0xC8, 0x00, 0x00, 0x00,   /* 1000 mov ecx, 200 */
    0xBE, 0xF8, 0x2F, 0x00, 0x00,   /* 1005 mov esi, 0x2FF8 */
    0x31, 0xC0,                     /* 100A xor eax, eax */
    0x03, 0x06,                     /* 100C add eax, [esi] */
    0x03, 0x46, 0x04,               /* 100E add eax, [esi+4] */
    0x03, 0x46, 0x08,               /* 1011 add eax, [esi+8]  (next page) */
    0x03, 0x46, 0x0C,               /* 1014 add eax, [esi+12] */
    0x49,                           /* 1017 dec ecx */
    0x75, 0xF2,                     /* 1018 jnz 100C */
    0xF4,                           /* 101A hlt */
};

/* Flat 32-bit protected mode (no paging): code from machine_with, data
 * written by fill(pm, arg) before the run. */
/* code at 0x1000 in 32-bit segments of 4 GiB (the native backend's flat mode) */
static struct fixture *flat32_with(const uint8_t *code, size_t len)
{
    struct fixture *fx = machine_with(code, len);
    struct cpu *cpu = &fx->cpu;
    cpu->cr0 |= CR0_PE;
    for (int s = SEG_ES; s <= SEG_GS; s++) {
        cpu->seg[s].limit = 0xFFFFFFFFu;
        cpu->seg[s].flags |= SEGF_DB | SEGF_G;
    }
    return fx;
}

/* fx run to its end (on tc's engine unless NULL), then freed */
static struct result run_fixture(struct fixture *fx, struct tcache *tc)
{
    struct cpu *cpu = &fx->cpu;
    if (tc)
        cpu->engine = tcache_engine(tc);
    struct result r = { 0 };
    r.why = cpu_run(cpu, 100000);
    memcpy(r.gpr, cpu->gpr, sizeof r.gpr);
    r.eip = cpu->eip;
    r.icount = cpu->icount;
    fixture_free(fx);
    return r;
}

static struct result run_flat32_with(const uint8_t *code, size_t len, struct tcache *tc,
                                     void (*fill)(struct phys_mem *pm, uint32_t arg), uint32_t arg)
{
    struct fixture *fx = flat32_with(code, len);
    fill(&fx->pm, arg);
    return run_fixture(fx, tc);
}

static void fill_across(struct phys_mem *pm, uint32_t at)
{
    for (uint32_t k = 0; k < 4; k++)
        phys_write(pm, at + 4 * k, k + 1, 4);
}

static struct result run_flat32(const uint8_t *code, size_t len, struct tcache *tc)
{
    return run_flat32_with(code, len, tc, fill_across, 0x2FF8);
}

START_TEST(test_group_across_pages)
{
    struct result interp = run_flat32(group_across_pages, sizeof group_across_pages, NULL);
    ck_assert_uint_eq(interp.gpr[R_EAX], 2000);
    for (int backend = TCACHE_PORTABLE; backend <= TCACHE_NATIVE; backend++) {
        if (backend == TCACHE_NATIVE && !native_supported())
            continue;
        struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
        struct result tr = run_flat32(group_across_pages, sizeof group_across_pages, tc);
        same(&interp, &tr);
        const struct tcache_stats *s = tcache_stats(tc);
        if (backend == TCACHE_NATIVE) {
            ck_assert_uint_gt(s->native_shared_checks, 0);          /* a group was planned */
            /* the loop's block, and the one from its second operand on
             * (entered after each of the leader's misses) */
            ck_assert_uint_ge(s->native_group_retranslations, 1);
            ck_assert_uint_le(s->native_group_retranslations, 2);
            ck_assert_uint_lt(s->native_enters, 60);               /* not 3 per pass */
        }
        tcache_destroy(tc);
    }
}
END_TEST

/* Table lookups (AES's rounds): indices bounded by MOVZX from a byte and
 * SHR by 24 reach [ebp, ebp + 1029), one check for both loads; a second
 * group ([esi], [esi+4]) in the same loop. With the table across a page
 * the table's group misses on every pass; translated again, it checks
 * both pages, which holds where they lie next to each other in RAM; where
 * they do not (paging maps the second elsewhere) that misses too and the
 * group is turned off alone. The loop stays in host code. */
static const uint8_t table_lookups[] = {
    0xB9, 0xC8, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 200 */
    0xBD, 0x00, 0x00, 0x00, 0x00,         /* 1005 mov ebp, table (patched) */
    0xBE, 0x00, 0x20, 0x00, 0x00,         /* 100A mov esi, 0x2000 */
    0x31, 0xC0,                           /* 100F xor eax, eax */
    0x8B, 0x1E,                           /* 1011 mov ebx, [esi] */
    0x0F, 0xB6, 0xD3,                     /* 1013 movzx edx, bl */
    0x03, 0x44, 0x95, 0x00,               /* 1016 add eax, [ebp + edx*4] */
    0xC1, 0xEB, 0x18,                     /* 101A shr ebx, 24 */
    0x03, 0x44, 0x9D, 0x01,               /* 101D add eax, [ebp + ebx*4 + 1] */
    0x89, 0x46, 0x04,                     /* 1021 mov [esi+4], eax */
    0x81, 0x06, 0x01, 0x01, 0x01, 0x01,   /* 1024 add dword [esi], 0x01010101 */
    0x49,                                 /* 102A dec ecx */
    0x75, 0xE4,                           /* 102B jnz 1011 */
    0xF4,                                 /* 102D hlt */
};

static void fill_table(struct phys_mem *pm, uint32_t table)
{
    for (uint32_t k = 0; k < 1032; k += 4)
        phys_write(pm, table + k, k * 0x01000193u + 7, 4);
}

static struct result run_table(uint32_t table, struct tcache *tc)
{
    uint8_t code[sizeof table_lookups];
    memcpy(code, table_lookups, sizeof code);
    memcpy(code + 6, &table, 4);
    return run_flat32_with(code, sizeof code, tc, fill_table, table);
}

/* The table at 0x3E00 with paging on: linear page 0x4000 at physical
 * `second`, the rest identity-mapped (page directory at 0x10000). */
static struct result run_table_paged(uint32_t second, struct tcache *tc)
{
    uint8_t code[sizeof table_lookups];
    uint32_t table = 0x3E00;
    memcpy(code, table_lookups, sizeof code);
    memcpy(code + 6, &table, 4);
    struct fixture *fx = flat32_with(code, sizeof code);
    struct cpu *cpu = &fx->cpu;
    phys_write(&fx->pm, 0x10000, 0x11000 | 3, 4);   /* present, writable */
    for (uint32_t n = 0; n < 256; n++)
        phys_write(&fx->pm, 0x11000 + 4 * n, (n == 4 ? second : n << 12) | 3, 4);
    for (uint32_t k = 0; k < 1032; k += 4) {
        uint32_t lin = table + k;
        phys_write(&fx->pm, lin < 0x4000 ? lin : lin - 0x4000 + second, k * 0x01000193u + 7, 4);
    }
    cpu->cr3 = 0x10000;
    cpu->cr0 |= CR0_PG;
    cpu_tlb_flush(cpu, true);
    return run_fixture(fx, tc);
}

START_TEST(test_table_lookups)
{
    /* in one page; across two next to each other; across two apart */
    static const uint32_t tables[] = { 0x3000, 0x3E00, 0x3E00 };
    for (int t = 0; t < 3; t++) {
        struct result interp = t < 2 ? run_table(tables[t], NULL) : run_table_paged(0x7000, NULL);
        ck_assert_uint_eq(interp.gpr[R_ECX], 0);
        for (int backend = TCACHE_PORTABLE; backend <= TCACHE_NATIVE; backend++) {
            if (backend == TCACHE_NATIVE && !native_supported())
                continue;
            struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
            struct result tr = t < 2 ? run_table(tables[t], tc) : run_table_paged(0x7000, tc);
            same(&interp, &tr);
            const struct tcache_stats *s = tcache_stats(tc);
            if (backend == TCACHE_NATIVE) {
                ck_assert_uint_ge(s->native_shared_table_checks, 1);   /* the second lookup */
                if (t == 0) {
                    ck_assert_uint_eq(s->native_group_retranslations, 0);
                } else if (t == 1) {
                    /* the table's group checks both pages, and stays */
                    ck_assert_msg(s->native_group_retranslations == 1, "retr %llu enters %llu", (unsigned long long)s->native_group_retranslations, (unsigned long long)s->native_enters);
                    ck_assert_uint_ge(s->native_wide_checks, 1);
                } else {
                    /* that misses too: the table's group off; [esi]'s two
                     * members still shared */
                    ck_assert_uint_eq(s->native_group_retranslations, 2);
                    ck_assert_uint_ge(s->native_shared_checks - s->native_shared_table_checks,
                                      2 * (1 + s->native_group_retranslations));
                }
                ck_assert_uint_lt(s->native_enters, 60);   /* not once per pass */
            }
            tcache_destroy(tc);
        }
    }
}
END_TEST

/* Groups whose base register moves by constants (plan_groups: reg_shift):
 * five PUSHes and a load through ESP, three stores and a load through
 * ESI stepped by ADD, LEA and INC, a load and three POPs through ESP. With paging, linear page 0x4000 lies at
 * physical 0x7000, the rest identity-mapped: a run that crosses 0x4000 or
 * 0x5000 spans two pages apart, which a check of the span cannot cover.
 * After the loop, absolute loads read back the last PUSH and store (a
 * member counted at the wrong displacement would have written through the
 * other page's addend). */
static const uint8_t moving_base[] = {
    0xB9, 0xC8, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 200 */
    0x31, 0xC0,                           /* 1005 xor eax, eax */
    0xBC, 0x00, 0x00, 0x00, 0x00,         /* 1007 mov esp, stack (patched) */
    0x51, 0x51, 0x51, 0x51, 0x51,         /* 100C push ecx (x5) */
    0x03, 0x44, 0x24, 0x10,               /* 1011 add eax, [esp+16] */
    0xBE, 0x00, 0x00, 0x00, 0x00,         /* 1015 mov esi, pointer (patched) */
    0x89, 0x0E,                           /* 101A mov [esi], ecx */
    0x83, 0xC6, 0x04,                     /* 101C add esi, 4 */
    0x89, 0x0E,                           /* 101F mov [esi], ecx */
    0x8D, 0x76, 0x04,                     /* 1021 lea esi, [esi+4] */
    0x89, 0x0E,                           /* 1024 mov [esi], ecx */
    0x46,                                 /* 1026 inc esi */
    0x03, 0x46, 0xFF,                     /* 1027 add eax, [esi-1] */
    0xBC, 0x00, 0x00, 0x00, 0x00,         /* 102A mov esp, stack - 24 (patched) */
    0x8B, 0x1C, 0x24,                     /* 102F mov ebx, [esp] */
    0x5A, 0x5A, 0x5A,                     /* 1032 pop edx (x3) */
    0x01, 0xD0,                           /* 1035 add eax, edx */
    0x49,                                 /* 1037 dec ecx */
    0x75, 0xCD,                           /* 1038 jnz 1007 */
    0x8B, 0x1D, 0x00, 0x00, 0x00, 0x00,   /* 103A mov ebx, [stack - 20] (patched) */
    0x8B, 0x3D, 0x00, 0x00, 0x00, 0x00,   /* 1040 mov edi, [pointer + 8] (patched) */
    0xF4,                                 /* 1046 hlt */
};

static struct result run_moving_base(uint32_t stack, uint32_t pointer, struct tcache *tc)
{
    uint8_t code[sizeof moving_base];
    memcpy(code, moving_base, sizeof code);
    uint32_t last_push = stack - 20, last_store = pointer + 8, pops = stack - 24;
    memcpy(code + 0x08, &stack, 4);
    memcpy(code + 0x16, &pointer, 4);
    memcpy(code + 0x2B, &pops, 4);
    memcpy(code + 0x3C, &last_push, 4);
    memcpy(code + 0x42, &last_store, 4);
    struct fixture *fx = flat32_with(code, sizeof code);
    struct cpu *cpu = &fx->cpu;
    phys_write(&fx->pm, 0x10000, 0x11000 | 3, 4);   /* present, writable */
    for (uint32_t n = 0; n < 256; n++)
        phys_write(&fx->pm, 0x11000 + 4 * n, (n == 4 ? 0x7000 : n << 12) | 3, 4);
    cpu->cr3 = 0x10000;
    cpu->cr0 |= CR0_PG;
    cpu_tlb_flush(cpu, true);
    return run_fixture(fx, tc);
}

START_TEST(test_moving_base)
{
    /* both runs inside page 0x4000; then across 0x4000 and 0x5000 */
    static const uint32_t stacks[] = { 0x4800, 0x4010 }, pointers[] = { 0x4400, 0x4FF8 };
    for (int t = 0; t < 2; t++) {
        struct result interp = run_moving_base(stacks[t], pointers[t], NULL);
        ck_assert_uint_eq(interp.gpr[R_EBX], 1);   /* ECX in the last pass */
        ck_assert_uint_eq(interp.gpr[R_EDI], 1);
        for (int backend = TCACHE_PORTABLE; backend <= TCACHE_NATIVE; backend++) {
            if (backend == TCACHE_NATIVE && !native_supported())
                continue;
            struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
            struct result tr = run_moving_base(stacks[t], pointers[t], tc);
            same(&interp, &tr);
            const struct tcache_stats *s = tcache_stats(tc);
            if (backend == TCACHE_NATIVE && t == 0) {
                /* PUSHes 2-5 and [esp+16]; the second and third store and
                 * [esi-1]; the POPs: their leaders' checks cover them */
                ck_assert_uint_ge(s->native_shared_checks, 11);
                ck_assert_uint_eq(s->native_group_retranslations, 0);
            }
            tcache_destroy(tc);
        }
    }
}
END_TEST

/* User-mode code reaching RAM through its address space's host window
 * (mmu/fastmem.h): loads and stores through ESI and EDI, on linear pages
 * 0x4000 and 0x5000 (at physical 0x7000 and 0x9000). Between slices the
 * harness maps 0x4000 elsewhere, as a kernel moving the page would (a
 * page-table write, then INVLPG): to another RAM page, to unassigned
 * space (all ones, writes lost), and back to the first page. The window
 * must never serve a page the tables no longer map. With a cap of one
 * page, every fill empties the windows. Last, [esi] and [esi+8] lie on
 * both pages, apart in RAM: their group, checked across both pages,
 * stays on through the window (the second of them a load there, so that
 * the group is a read group, whose miss fills both pages' entries). And
 * once with the window only after 300 instructions in the space. */
static const uint8_t window_loop[] = {
    0xB9, 0x00, 0x01, 0x00, 0x00,         /* 1000 mov ecx, 256 */
    0x31, 0xC0,                           /* 1005 xor eax, eax */
    0xBE, 0x00, 0x40, 0x00, 0x00,         /* 1007 mov esi, 0x4000 (patched) */
    0xBF, 0x00, 0x50, 0x00, 0x00,         /* 100C mov edi, 0x5000 */
    0x8B, 0x1E,                           /* 1011 mov ebx, [esi] */
    0x01, 0xD8,                           /* 1013 add eax, ebx */
    0x89, 0x47, 0x04,                     /* 1015 mov [edi+4], eax */
    0x01, 0x4E, 0x08,                     /* 1018 add [esi+8], ecx */
    0x49,                                 /* 101B dec ecx */
    0x75, 0xF3,                           /* 101C jnz 1011 */
    0xEB, 0xFE,                           /* 101E jmp 101E */
};

#define WINDOW_PT 0x11000u

static void window_remap(struct fixture *fx, uint32_t lin, uint32_t phys)
{
    phys_write(&fx->pm, WINDOW_PT + 4 * (lin >> 12), phys | 7, 4);   /* present, writable, user */
    cpu_tlb_flush_page(&fx->cpu, lin);
}

static struct fixture *window_machine(struct tcache *tc, uint32_t cap, uint32_t esi, uint32_t after)
{
    uint8_t code[sizeof window_loop];
    memcpy(code, window_loop, sizeof code);
    memcpy(code + 8, &esi, 4);
    if (esi & 0xFFF) {   /* add eax, [esi+8]: a read group (its miss fills both entries) */
        code[0x18] = 0x03;
        code[0x19] = 0x46;
    }
    struct fixture *fx = flat32_with(code, sizeof code);
    struct cpu *cpu = &fx->cpu;
    cpu->cpl = 3;
    phys_write(&fx->pm, 0x10000, WINDOW_PT | 7, 4);
    for (uint32_t n = 0; n < 256; n++)
        phys_write(&fx->pm, WINDOW_PT + 4 * n, (n << 12) | 7, 4);
    phys_write(&fx->pm, WINDOW_PT + 4 * 4, 0x7000 | 7, 4);
    phys_write(&fx->pm, WINDOW_PT + 4 * 5, 0x9000 | 7, 4);
    for (uint32_t k = 0; k < 4096; k += 4) {
        phys_write(&fx->pm, 0x7000 + k, k + 3, 4);
        phys_write(&fx->pm, 0x8000 + k, k + 5, 4);
    }
    cpu->shadow = shadow_create(&fx->pm, &cpu->mmu_stats, SHADOW_DEFAULT_SPACES, SHADOW_DEFAULT_BYTES);
    ck_assert_ptr_nonnull(cpu->shadow);
    cpu->shadow->fast_max_pages = cap;
    cpu->shadow->fast_after_insns = after;
    cpu->cr3 = 0x10000;
    cpu->cr0 |= CR0_PG;
    cpu_tlb_flush(cpu, true);
    if (tc)
        cpu->engine = tcache_engine(tc);
    return fx;
}

static void window_free(struct fixture *fx)
{
    shadow_destroy(fx->cpu.shadow);
    fx->cpu.shadow = NULL;
    fixture_free(fx);
}

START_TEST(test_host_window)
{
    static const struct { uint32_t cap, esi, after; bool moves; } runs[] = {
        { SHADOW_FAST_MAX_PAGES, 0x4000, 0, true }, { 1, 0x4000, 0, true },
        { SHADOW_FAST_MAX_PAGES, 0x4FFC, 0, false }, { SHADOW_FAST_MAX_PAGES, 0x4000, 300, true },
    };
    static const uint32_t moves[][2] = { { 40, 0x8000 }, { 80, 0xE0000000u }, { 120, 0x7000 } };
    if (!native_supported())
        return;
    for (int t = 0; t < 4; t++) {
        struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = TCACHE_NATIVE });
        struct fixture *ref = window_machine(NULL, runs[t].cap, runs[t].esi, runs[t].after);
        struct fixture *fx = window_machine(tc, runs[t].cap, runs[t].esi, runs[t].after);
        for (int k = 0, m = 0; k < 400; k++) {
            if (runs[t].moves && m < 3 && k == (int)moves[m][0]) {
                window_remap(ref, 0x4000, moves[m][1]);
                window_remap(fx, 0x4000, moves[m][1]);
                m++;
            }
            cpu_run(&ref->cpu, 7);
            cpu_run(&fx->cpu, 7);
            ck_assert_uint_eq(fx->cpu.icount, ref->cpu.icount);
            ck_assert_uint_eq(fx->cpu.eip, ref->cpu.eip);
            for (int i = 0; i < 8; i++)
                ck_assert_uint_eq(fx->cpu.gpr[i], ref->cpu.gpr[i]);
            if (fx->cpu.icount < runs[t].after)   /* (a young space: no window yet) */
                ck_assert_uint_eq(fx->cpu.mmu_stats.fast_maps, 0);
        }
        ck_assert_uint_eq(ref->cpu.eip, 0x101E);
        for (uint32_t at = 0x7000; at <= 0x9000; at += 0x1000)
            for (uint32_t off = 0; off < 4096; off += 4)
                ck_assert_uint_eq(phys_read(&fx->pm, at + off, 4), phys_read(&ref->pm, at + off, 4));
        /* each page the loop reached was in the window at some point */
        const struct mmu_stats *ms = &fx->cpu.mmu_stats;
        const struct tcache_stats *s = tcache_stats(tc);
        ck_assert_uint_gt(s->native_window_checks, 0);
        ck_assert_uint_ge(ms->fast_maps, 3);
        if (t == 1)
            ck_assert_uint_ge(ms->fast_clears, 1);
        if (t == 2) {   /* missed on one page, then checked on both: never turned off */
            ck_assert_uint_eq(s->native_group_retranslations, 1);
            ck_assert_uint_ge(s->native_wide_checks, 1);
        }
        ck_assert_uint_eq(ref->cpu.mmu_stats.fast_maps, 0);   /* (the interpreter wants none) */
        window_free(ref);
        window_free(fx);
        tcache_destroy(tc);
    }
}
END_TEST

/* Loops whose jumps back skip their block's entry (native_emit.c,
 * loops): a side exit back after SUB (the flags set again from the
 * register), one after CMP r, [esi+4], a member of [esi]'s group (that
 * CMP run again), a JMP back after the exit test, and a Jcc back that is
 * its block's last instruction (the page ends after it); then one whose
 * head reads CF (ADC), which must go through the entry; last one whose
 * CMP's operand crosses a page, so that its slow path always runs (and
 * leaves the flags in R13 for a spent budget, not the CMP to run again). */
static uint8_t loop_edges[0x101D];
static const uint8_t loop_edges_start[] = {
    0xB9, 0x28, 0x00, 0x00, 0x00,         /* 1000 mov ecx, 40 */
    0xBE, 0x00, 0x30, 0x00, 0x00,         /* 1005 mov esi, 0x3000 */
    0x31, 0xC0,                           /* 100A xor eax, eax */
    0x01, 0xC8,                           /* 100C add eax, ecx */
    0x8B, 0x1E,                           /* 100E mov ebx, [esi] */
    0x31, 0xD8,                           /* 1010 xor eax, ebx */
    0x83, 0xE9, 0x01,                     /* 1012 sub ecx, 1 */
    0x75, 0xF5,                           /* 1015 jnz 0x100C */
    0xB9, 0x1E, 0x00, 0x00, 0x00,         /* 1017 mov ecx, 30 */
    0x25, 0xFF, 0x00, 0x00, 0x00,         /* 101C and eax, 0xFF */
    0x8B, 0x16,                           /* 1021 mov edx, [esi] */
    0x01, 0xD0,                           /* 1023 add eax, edx */
    0x49,                                 /* 1025 dec ecx */
    0x3B, 0x4E, 0x04,                     /* 1026 cmp ecx, [esi+4] (0) */
    0x75, 0xF1,                           /* 1029 jne 0x101C */
    0xB9, 0x19, 0x00, 0x00, 0x00,         /* 102B mov ecx, 25 */
    0x85, 0xC0,                           /* 1030 test eax, eax */
    0x83, 0xD0, 0x03,                     /* 1032 adc eax, 3 */
    0x49,                                 /* 1035 dec ecx */
    0x83, 0xF9, 0x00,                     /* 1036 cmp ecx, 0 */
    0x74, 0x02,                           /* 1039 je 0x103D */
    0xEB, 0xF3,                           /* 103B jmp 0x1030 */
    0xB9, 0x14, 0x00, 0x00, 0x00,         /* 103D mov ecx, 20 */
    0xE9, 0xAF, 0x0F, 0x00, 0x00,         /* 1042 jmp 0x1FF6 */
};
static const uint8_t loop_edges_end[] = {
    0x83, 0xCA, 0x01,                     /* 1FF6 or edx, 1 */
    0x01, 0xCA,                           /* 1FF9 add edx, ecx */
    0x83, 0xE9, 0x01,                     /* 1FFB sub ecx, 1 */
    0x75, 0xF6,                           /* 1FFE jnz 0x1FF6 */
    0xB9, 0x0A, 0x00, 0x00, 0x00,         /* 2000 mov ecx, 10 */
    0x11, 0xC8,                           /* 2005 adc eax, ecx */
    0x83, 0xE9, 0x01,                     /* 2007 sub ecx, 1 */
    0x75, 0xF9,                           /* 200A jnz 0x2005 */
    0xB9, 0x0C, 0x00, 0x00, 0x00,         /* 200C mov ecx, 12 */
    0x29, 0xDA,                           /* 2011 sub edx, ebx */
    0x49,                                 /* 2013 dec ecx */
    0x3B, 0x0D, 0xFE, 0x4F, 0x00, 0x00,   /* 2014 cmp ecx, [0x4FFE] (0, across a page) */
    0x75, 0xF5,                           /* 201A jne 0x2011 */
    0xF4,                                 /* 201C hlt */
};

static struct fixture *loop_edges_machine(struct tcache *tc)
{
    memset(loop_edges, 0x90, sizeof loop_edges);
    memcpy(loop_edges, loop_edges_start, sizeof loop_edges_start);
    memcpy(loop_edges + 0xFF6, loop_edges_end, sizeof loop_edges_end);
    struct fixture *fx = flat32_with(loop_edges, sizeof loop_edges);
    phys_write(&fx->pm, 0x3000, 0x9E3779B9u, 4);
    phys_write(&fx->pm, 0x3004, 0, 4);
    if (tc)
        fx->cpu.engine = tcache_engine(tc);
    return fx;
}

/* Both run in slices of `slice` instructions; after each, the same state:
 * a spent budget leaves every loop exactly where the interpreter is, with
 * its flags. */
static void loop_edges_in_slices(struct tcache *tc, uint64_t slice)
{
    struct fixture *ref = loop_edges_machine(NULL), *fx = loop_edges_machine(tc);
    for (int k = 0; k < 10000 && !ref->cpu.halted; k++) {
        cpu_run(&ref->cpu, slice);
        cpu_run(&fx->cpu, slice);
        lf_materialize(&ref->cpu);
        lf_materialize(&fx->cpu);
        ck_assert_uint_eq(fx->cpu.icount, ref->cpu.icount);
        ck_assert_uint_eq(fx->cpu.eip, ref->cpu.eip);
        for (int i = 0; i < 8; i++)
            ck_assert_uint_eq(fx->cpu.gpr[i], ref->cpu.gpr[i]);
        ck_assert_uint_eq(fx->cpu.eflags & FL_ARITH, ref->cpu.eflags & FL_ARITH);
    }
    ck_assert(ref->cpu.halted && fx->cpu.halted);
    ck_assert_uint_eq(ref->cpu.eip, 0x201D);
    fixture_free(ref);
    fixture_free(fx);
}

START_TEST(test_loop_edges)
{
    for (int backend = TCACHE_PORTABLE; backend <= TCACHE_NATIVE; backend++) {
        if (backend == TCACHE_NATIVE && !native_supported())
            continue;
        for (uint64_t slice = 1; slice <= 14; slice++) {
            struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
            loop_edges_in_slices(tc, slice);
            tcache_destroy(tc);
        }
        struct tcache *tc = tcache_create(&(struct tcache_config){ .backend = backend });
        loop_edges_in_slices(tc, 100000);
        if (backend == TCACHE_NATIVE) {
            const struct tcache_stats *s = tcache_stats(tc);
            ck_assert_uint_ge(s->native_loop_edges, 5);
            ck_assert_uint_lt(s->native_enters, 20);   /* the loops stay in host code */
        }
        tcache_destroy(tc);
        /* under lock-step every block runs on a budget of its own length,
         * so every loop edge leaves, and each is compared */
        tc = tcache_create(&(struct tcache_config){ .backend = backend, .lockstep = true });
        loop_edges_in_slices(tc, 100000);
        ck_assert(!tcache_lockstep_failed(tc));
        ck_assert_uint_gt(tcache_stats(tc)->lockstep_blocks, 100);
        tcache_destroy(tc);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scan_ends);
    tcase_add_test(tc, test_smc_next_insn);
    tcase_add_test(tc, test_smc_later_block);
    tcase_add_test(tc, test_callouts_inside_block);
    tcase_add_test(tc, test_data_near_code);
    tcase_add_test(tc, test_budget_flush);
    tcase_add_test(tc, test_mode_key);
    tcase_add_test(tc, test_empty_block);
    tcase_add_test(tc, test_group_across_pages);
    tcase_add_test(tc, test_table_lookups);
    tcase_add_test(tc, test_moving_base);
    tcase_add_test(tc, test_loop_edges);
    tcase_add_test(tc, test_host_window);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
