/* translator/tcache.c: the translation cache (see tcache.h).
 *
 * Mode key (tcache_mode): what a block's decoded form or a backend's
 * specialisation of it depends on besides the bytes:
 *   CS.D     the decoder's default operand and address sizes;
 *   SS.B     ESP or SP in pushes, pops, calls and returns;
 *   CPL      the TLB kind of every access and the privilege checks;
 *   CR0.PE, EFLAGS.VM   how segment loads and far transfers behave;
 *   flat     CS, DS, ES and SS all with base 0 (a native backend may omit
 *            the base add; the portable one does not care).
 * Only instructions of a non-zero class change any of these (segment
 * loads, far transfers, interrupts, MOV CR0, POPF/IRET), and those end a
 * block, so the run loop recomputes the key only after such a block, an
 * interpreter step or an interrupt.
 *
 * Memory: blocks are bump-allocated from one arena of the configured
 * budget; the hash buckets are extra (one pointer per 128 arena bytes:
 * a chain step is a cache miss, so chains are kept short).
 * When the arena is full every block is dropped at once (a flush): no
 * block is freed alone, so links between blocks never dangle while the
 * arena lives. A stale block (its page written) is unlinked from its
 * bucket when found and its bytes stay until the next flush.
 */
#include "native.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "mmu/phys.h"

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A data segment through which no access can fail a segment check. */
static bool flat_data(const struct cpu *cpu, int seg)
{
    const struct seg_cache *s = &cpu->seg[seg];
    return s->valid && (s->flags & (SEGF_CODE | SEGF_DC | SEGF_RW)) == SEGF_RW &&
           s->limit == 0xFFFFFFFFu;
}

uint32_t tcache_mode(const struct cpu *cpu)
{
    uint32_t mode = (uint32_t)cpu->cpl << TMODE_CPL_SHIFT;
    if (cpu_code32(cpu))
        mode |= TMODE_CODE32;
    if (cpu_stack32(cpu))
        mode |= TMODE_STACK32;
    if (cpu_protected(cpu))
        mode |= TMODE_PE;
    if (cpu_v86(cpu))
        mode |= TMODE_VM;
    if (!(cpu->seg[SEG_CS].base | cpu->seg[SEG_DS].base | cpu->seg[SEG_ES].base |
          cpu->seg[SEG_SS].base))
        mode |= TMODE_FLAT;
    if ((mode & TMODE_FLAT) && cpu->seg[SEG_CS].limit == 0xFFFFFFFFu && flat_data(cpu, SEG_DS) &&
        flat_data(cpu, SEG_ES) && flat_data(cpu, SEG_SS))
        mode |= TMODE_FLAT4G;
    if ((cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC) && cpu->cpl == 3)
        mode |= TMODE_ALIGN;
    return mode;
}

/* The EIP is part of the key: a library page mapped at a different
 * address in each process (ASLR) has one block per address, and hashing
 * the physical address alone put them all in one ever longer chain. */
static inline uint32_t bucket_of(const struct tcache *tc, uint32_t phys, uint32_t mode, uint32_t eip)
{
    uint32_t h = (phys ^ (phys >> 12) * 0x9E3779B1u) ^ (mode * 0x85EBCA6Bu) ^
                 ((eip >> 12) * 0xC2B2AE35u);
    return (h ^ (h >> 15)) & (tc->nbuckets - 1);
}

void tcache_flush(struct tcache *tc, bool budget)
{
    memset(tc->buckets, 0, tc->nbuckets * sizeof(*tc->buckets));
    tc->arena_used = 0;
    if (tc->native)
        native_flush(tc->native);
    tc->flush_count++;
    if (budget)
        tc->stats.flushes++;
    else
        tc->stats.map_flushes++;
}

/* Scan and build the block at phys (CS:EIP, TLB entry host page) and enter
 * it in the table. When not even one instruction can be in it (the first
 * crosses the page, or cannot run), an empty block (n == 0) says so: hot
 * kernel code has page-crossing instructions, and each visit scanned and
 * failed again. Its instruction always runs in the interpreter, which
 * fetches it afresh, so it needs no code marking. NULL: no memory. */
static struct tblock *tcache_translate(struct tcache *tc, struct cpu *cpu, const uint8_t *page,
                                       uint32_t phys, uint32_t mode)
{
    uint64_t started = host_ns();
    struct insn insns[SCAN_MAX_INSNS];
    enum scan_end why;
    uint32_t bytes;
    bool code32 = mode & TMODE_CODE32;
    /* the native backend makes a Jcc inside a block a side exit; the
     * portable path (which runs native blocks at a slice's end) takes it
     * as an instruction that may leave */
    int n = scan_block(page, phys & 0xFFFu, cpu->eip, code32, tc->native != NULL, insns,
                       SCAN_MAX_INSNS, &why, &bytes);
    size_t size = (sizeof(struct tblock) + (size_t)n * sizeof(struct tb_insn) + 15u) & ~(size_t)15u;
    if (size > tc->arena_size - tc->arena_used ||
        (tc->native && native_code_size(tc->native) - native_code_used(tc->native) <
                       NATIVE_BLOCK_MAX_BYTES))
        tcache_flush(tc, true);
    if (size > tc->arena_size) {   /* a budget below one block: nothing can be cached */
        tc->stats.translate_ns += host_ns() - started;
        return NULL;
    }
    struct tblock *b = (struct tblock *)(tc->arena + tc->arena_used);
    tc->arena_used += size;

    /* Mark the page as code first: from now on every write to it bumps
     * the generation recorded here. */
    if (n > 0)
        cpu_tlb_protect_code(cpu, phys, bytes);
    *b = (struct tblock){
        .phys = phys, .mode = mode, .gen = phys_code_gen(cpu->mem, phys),
        .eip = cpu->eip, .eip_mask = code32 ? 0xFFFFFFFFu : 0xFFFFu,
        .n = (uint16_t)n, .bytes = (uint16_t)bytes, .end = (uint8_t)why,
    };
    for (int i = 0; i < n; i++) {
        b->insn[i].insn = insns[i];
        b->insn[i].fn = cpu_engine_handler(&insns[i]);
        if (op_info[insns[i].op].cls & IO)
            b->has_io = true;
    }
    if (n > 0) {
        const struct insn *last = &insns[n - 1];
        b->sync = (op_info[last->op].cls & ~CTRL) != 0;
        b->callout = (insn_class(last) & (SENS | PRIV | IOPL | IO)) != 0;
        portable_prepare_block(b);
        if (tc->native)
            native_translate(tc, cpu, b);
    } else {
        tc->stats.empty_blocks++;
        if (tc->native)
            native_translate(tc, cpu, b);   /* host code that has the interpreter run it */
    }

    uint32_t k = bucket_of(tc, phys, mode, b->eip);
    b->hash_next = tc->buckets[k];
    tc->buckets[k] = b;
    tc->stats.blocks_translated++;
    tc->stats.insns_translated += (uint64_t)n;
    tc->stats.translate_ns += host_ns() - started;
    return b;
}

struct tblock *tcache_find(struct tcache *tc, struct cpu *cpu, struct tblock *prev, uint32_t mode)
{
    struct phys_mem *pm = cpu->mem;
    if (__builtin_expect(tc->map_generation != pm->generation, 0)) {
        tcache_flush(tc, false);
        tc->map_generation = pm->generation;
        prev = NULL;
    }
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    uint32_t lin = cs->base + eip;
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    unsigned kind = tlb_kind(cpu, MEM_READ);
    if ((e->lin_page & (TLB_PAGE_MASK | kind)) != ((lin & TLB_PAGE_MASK) | kind))
        return NULL;   /* (a direct kind implies a host page) */
    uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK);
    uint32_t gen = phys_code_gen(pm, phys);

    struct tblock *b = NULL;
    if (prev) {
        for (int k = 0; k < 2; k++) {
            struct tblock *c = prev->link[k];
            if (c && c->phys == phys && c->mode == mode && c->gen == gen && c->eip == eip) {
                b = c;
                tc->stats.chained++;
                break;
            }
        }
    }
    if (!b) {
        tc->stats.lookups++;
        struct tblock **pp = &tc->buckets[bucket_of(tc, phys, mode, eip)];
        while (*pp) {
            struct tblock *c = *pp;
            tc->stats.lookup_steps++;
            if (c->phys == phys && c->mode == mode && c->eip == eip) {
                if (c->gen == gen) {
                    b = c;
                    tc->stats.hits++;
                    break;
                }
                *pp = c->hash_next;   /* its page was written: drop it */
                tc->stats.smc_invalidations++;
                continue;
            }
            pp = &c->hash_next;
        }
        if (!b) {
            uint64_t flushes = tc->flush_count;
            b = tcache_translate(tc, cpu, tlb_host_of(e, lin & TLB_PAGE_MASK), phys, mode);
            if (!b)
                return NULL;
            if (flushes != tc->flush_count)
                prev = NULL;   /* it went with the flush */
        }
        if (prev && b->n > 0)
            prev->link[phys != prev->phys + prev->bytes] = b;
    }
    /* The CS limit, once for the whole block (the interpreter checks it
     * per instruction: a block that leaves the limit runs there). */
    if ((uint64_t)eip + b->bytes - 1 > cs->limit)
        return NULL;
    return b;   /* (an empty block too: see tcache_translate) */
}

bool tcache_block_current(const struct tcache *tc, const struct cpu *cpu, const struct tblock *b,
                          uint32_t mode)
{
    const struct phys_mem *pm = cpu->mem;
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    uint32_t lin = cs->base + eip;
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    unsigned kind = tlb_kind(cpu, MEM_READ);
    if (tc->map_generation != pm->generation || b->eip != eip || b->mode != mode ||
        (e->lin_page & (TLB_PAGE_MASK | kind)) != ((lin & TLB_PAGE_MASK) | kind))
        return false;
    uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK);
    return phys == b->phys && phys_code_gen(pm, phys) == b->gen &&
           (uint64_t)eip + b->bytes - 1 <= cs->limit;
}

struct tcache *tcache_create(const struct tcache_config *cfg)
{
    struct tcache *tc = calloc(1, sizeof(*tc));
    if (!tc)
        return NULL;
    tc->cfg = *cfg;
    if (!tc->cfg.budget_bytes)
        tc->cfg.budget_bytes = TCACHE_DEFAULT_BUDGET;
    /* the native backend's host code takes half of the budget */
    bool native = tc->cfg.backend == TCACHE_NATIVE;
    tc->arena_size = native ? tc->cfg.budget_bytes / 2 : tc->cfg.budget_bytes;
    tc->nbuckets = 1024;
    while (tc->nbuckets < tc->arena_size / 128 && tc->nbuckets < (1u << 24))
        tc->nbuckets <<= 1;
    tc->arena = malloc(tc->arena_size);
    tc->buckets = calloc(tc->nbuckets, sizeof(*tc->buckets));
    if (tc->cfg.lockstep)
        tc->lockstep = lockstep_create();
    if (native)
        tc->native = native_create(tc, tc->cfg.budget_bytes - tc->arena_size);
    if (!tc->arena || !tc->buckets || (tc->cfg.lockstep && !tc->lockstep) ||
        (native && !tc->native)) {
        tcache_destroy(tc);
        return NULL;
    }
    tc->map_generation = UINT64_MAX;   /* the first lookup flushes nothing real */
    tc->engine = native ? native_engine(tc) : portable_engine(tc);
    tc->run_block = native ? native_run_block : portable_run_block;
    return tc;
}

void tcache_destroy(struct tcache *tc)
{
    if (!tc)
        return;
    if (tc->lockstep)
        lockstep_destroy(tc->lockstep);
    native_destroy(tc->native);
    free(tc->arena);
    free(tc->buckets);
    free(tc);
}

const struct cpu_engine *tcache_engine(struct tcache *tc)
{
    return &tc->engine;
}

const struct tcache_stats *tcache_stats(const struct tcache *tc)
{
    return &tc->stats;
}

size_t tcache_bytes_used(const struct tcache *tc)
{
    return tc->arena_used + tc->nbuckets * sizeof(*tc->buckets) +
           (tc->native ? native_code_used(tc->native) : 0);
}

bool tcache_lockstep_failed(const struct tcache *tc)
{
    return tc->lockstep_failed;
}

static const char *const op_names[OP_COUNT] = {
    [OP_INVALID] = "INVALID",
#define X(name, mnem, cls) [OP_##name] = #name,
#include "core/ops.def"
#undef X
};

/* The `top` largest counts of count[] by operation, one line each;
 * returns the length written (snprintf-style, may exceed len). */
static size_t put_top_ops(char *buf, size_t len, const uint64_t *count, int top)
{
    bool shown[OP_COUNT] = { false };
    size_t at = 0;
    for (int rank = 0; rank < top; rank++) {
        int best = -1;
        for (int op = 0; op < OP_COUNT; op++)
            if (!shown[op] && count[op] && (best < 0 || count[op] > count[best]))
                best = op;
        if (best < 0)
            break;
        shown[best] = true;
        int w = snprintf(buf + (at < len ? at : len), at < len ? len - at : 0,
                         "    %-10s %-14s %llu\n", op_info[best].mnemonic, op_names[best],
                         (unsigned long long)count[best]);
        if (w > 0)
            at += (size_t)w;
    }
    return at;
}

void tcache_format_stats(const struct tcache *tc, char *buf, size_t len)
{
    const struct tcache_stats *s = &tc->stats;
    size_t at = 0;
#define PUT(...) do { if (at < len) { int w_ = snprintf(buf + at, len - at, __VA_ARGS__); \
                                       if (w_ > 0) at += (size_t)w_; } } while (0)
    double hit_rate = s->lookups ? 100.0 * (double)s->hits / (double)s->lookups : 0.0;
    uint64_t entries = s->chained + s->lookups;
    double chain_rate = entries ? 100.0 * (double)s->chained / (double)entries : 0.0;
    PUT("  translator             %s%s\n", tc->engine.name, tc->cfg.lockstep ? " (lock-step)" : "");
    PUT("  blocks translated      %llu (%llu instructions, %.1f per block)\n",
        (unsigned long long)s->blocks_translated, (unsigned long long)s->insns_translated,
        s->blocks_translated ? (double)s->insns_translated / (double)s->blocks_translated : 0.0);
    if (tc->native) {   /* its blocks run in host code: entries and links counted below */
        PUT("  instructions           %llu in translated code and on the portable path, %llu "
            "interpreted alone\n", (unsigned long long)s->insns_run,
            (unsigned long long)s->interp_steps);
        PUT("  block lookups          %llu, hits %llu (%.2f%%), %.2f chain entries examined "
            "per lookup\n", (unsigned long long)s->lookups, (unsigned long long)s->hits, hit_rate,
            s->lookups ? (double)s->lookup_steps / (double)s->lookups : 0.0);
    } else {
        PUT("  blocks run             %llu (%llu instructions in blocks, %llu interpreted alone)\n",
            (unsigned long long)s->blocks_run, (unsigned long long)s->insns_run,
            (unsigned long long)s->interp_steps);
        PUT("  block lookups          %llu, hits %llu (%.2f%%)\n", (unsigned long long)s->lookups,
            (unsigned long long)s->hits, hit_rate);
        PUT("  chained transitions    %llu (%.2f%% of block entries)\n",
            (unsigned long long)s->chained, chain_rate);
        PUT("  jump cache lookups     %llu, hits %llu (%.2f%%)\n",
            (unsigned long long)s->jump_lookups, (unsigned long long)s->jump_hits,
            s->jump_lookups ? 100.0 * (double)s->jump_hits / (double)s->jump_lookups : 0.0);
        PUT("  early block exits      %llu\n", (unsigned long long)s->early_exits);
    }
    PUT("  SMC invalidations      %llu\n", (unsigned long long)s->smc_invalidations);
    PUT("  empty blocks           %llu (the first instruction crosses the page or cannot run: "
        "the interpreter runs it)\n", (unsigned long long)s->empty_blocks);
    PUT("  cache flushes          %llu (budget), %llu (memory map)\n",
        (unsigned long long)s->flushes, (unsigned long long)s->map_flushes);
    PUT("  cache memory           %.2f MiB used of %.2f MiB (+%.2f MiB hash)\n",
        (double)tc->arena_used / 1048576.0, (double)tc->arena_size / 1048576.0,
        (double)(tc->nbuckets * sizeof(*tc->buckets)) / 1048576.0);
    if (tc->native) {
        uint64_t insns = s->native_insns + s->native_calls;
        PUT("  host code              %.2f MiB used of %.2f MiB, %llu blocks (%llu left to the "
            "portable path)\n", (double)native_code_used(tc->native) / 1048576.0,
            (double)native_code_size(tc->native) / 1048576.0,
            (unsigned long long)s->native_blocks, (unsigned long long)s->native_code_overflows);
        bool bmi2, computed;
        native_host_forms(tc->native, &bmi2, &computed);
        PUT("  host forms             TLB index %s; MUL/IMUL and shift undefined flags %s\n",
            bmi2 ? "by RORX (BMI2)" : "by MOV and SHR",
            computed ? "computed (this host's differ from the interpreter's, as AMD's do)"
                     : "the host's (the interpreter's too)");
        PUT("  host instructions      %llu guest instructions emitted (%.1f%%), %llu as "
            "interpreter calls\n", (unsigned long long)s->native_insns,
            insns ? 100.0 * (double)s->native_insns / (double)insns : 0.0,
            (unsigned long long)s->native_calls);
        PUT("  shared memory checks   %llu memory operands emitted without a TLB check of their own "
            "(%llu table lookups); group checks missed %llu times; %llu blocks translated again "
            "with a group checking two pages or off (its check kept missing), %llu such checks of "
            "two pages\n",
            (unsigned long long)s->native_shared_checks,
            (unsigned long long)s->native_shared_table_checks,
            (unsigned long long)s->native_group_misses,
            (unsigned long long)s->native_group_retranslations,
            (unsigned long long)s->native_wide_checks);
        PUT("  host window checks     %llu memory operands of user-mode code emitted to reach "
            "guest RAM through the host window of their address space\n",
            (unsigned long long)s->native_window_checks);
        PUT("  loop edges             %llu jumps back to their block's start emitted to go on at its "
            "body, the budget checked and the flags left in RFLAGS\n",
            (unsigned long long)s->native_loop_edges);
        PUT("  host code entries      %llu from the run loop (%llu blocks found in the indirect-branch "
            "cache, %llu of them from another address space or TLB generation), %llu jumps chained "
            "by patching\n", (unsigned long long)s->native_enters,
            (unsigned long long)s->native_probe_hits, (unsigned long long)s->native_probe_rechecked,
            (unsigned long long)s->native_patches);
        uint64_t jc_hits, jc_misses, jc_clears;
        native_jc_stats(tc->native, &jc_hits, &jc_misses, &jc_clears);
        PUT("  indirect lookups       %llu, hits %llu (%.2f%%), cache cleared %llu times\n",
            (unsigned long long)(jc_hits + jc_misses), (unsigned long long)jc_hits,
            jc_hits + jc_misses ? 100.0 * (double)jc_hits / (double)(jc_hits + jc_misses) : 0.0,
            (unsigned long long)jc_clears);
    }
    PUT("  time in translation    %.6f s\n", (double)s->translate_ns / 1e9);
    if (tc->cfg.lockstep)
        PUT("  lock-step blocks       %llu compared, %llu run once (I/O, MMIO)\n",
            (unsigned long long)s->lockstep_blocks, (unsigned long long)s->lockstep_skipped);

    uint64_t total = 0;
    for (int op = 0; op < OP_COUNT; op++)
        total += s->callouts[op];
    PUT("  callouts               %llu\n", (unsigned long long)total);
    at += put_top_ops(buf + (at < len ? at : len), at < len ? len - at : 0, s->callouts, 20);
    if (tc->native) {
        PUT("  interpreter calls in host code, by operation (translated instructions):\n");
        at += put_top_ops(buf + (at < len ? at : len), at < len ? len - at : 0,
                          s->native_calls_by_op, 12);
        uint64_t run = 0;
        for (int op = 0; op < OP_COUNT; op++)
            run += s->native_calls_run[op];
        PUT("  interpreter calls made from host code  %llu, by operation:\n",
            (unsigned long long)run);
        at += put_top_ops(buf + (at < len ? at : len), at < len ? len - at : 0,
                          s->native_calls_run, 20);
    }
#undef PUT
}
