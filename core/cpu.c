/* core/cpu.c: CPU life cycle (init, reset) and the interpreter's run loop.
 *
 * The loop, one instruction per turn:
 *   1. instruction boundary: if anything needs attention (a stop request,
 *      a pending NMI, INTR with IF set, HLT, the interrupt shadow, TF, RF,
 *      enabled DR7 breakpoints) the out-of-line cpu_boundary handles it;
 *      the common case costs one combined test, made only where control
 *      does not fall through (cpu_run_chain): what needs it at once is
 *      done by instructions whose class ends a chain;
 *   2. fetch and decode: from the decoded-instruction cache (below), else
 *      through cpu_fetch_code (which stops where the next byte would
 *      fault) and the decoder;
 *   3. next_eip = eip + len (16-bit wrap in 16-bit code), call the
 *      handler (exec_table[op], or a form-specialised one from
 *      exec_select_int/exec_select_flow, cached in the entry; OP_INVALID
 *      and empty rows become #UD, an over-long instruction #GP(0)), commit
 *      eip = next_eip, count the instruction;
 *   4. after an instruction of a non-zero class other than plain CTRL (MOV
 *      CRn, I/O, segment loads, ...) cpu_tlb_sync drops stale translations.
 * A fault anywhere longjmps to cpu_run's setjmp, which calls
 * cpu_deliver_exception (except.c) and resumes the loop; a triple fault
 * sets cpu->shutdown and the loop returns CPU_STOP_TRIPLE_FAULT.
 *
 * Budget: max_insns counts retired instructions and delivered faults (so
 * one-instruction runs stay one event long), and each iteration of a REP
 * string instruction after its first (exec_string.c charges them); virtual
 * time (icount, the TSC) advances the same way. HLT returns CPU_STOP_HALT at
 * once when nothing can wake the CPU now; the caller skips virtual time.
 *
 * Interrupt shadow: irq_inhibit set by an instruction (STI, MOV SS, POP SS)
 * blocks interrupts at the next boundary only.
 * Single step: TF set before an instruction gives #DB (DR6.BS) after it
 * completes. Instruction breakpoints (DR0-3 with R/W = 00, enabled in DR7)
 * give #DB before the instruction, with RF in the pushed EFLAGS; RF
 * suppresses them for one instruction and is cleared at the boundary.
 * Data breakpoints are not implemented.
 * NMI: delivered at a boundary unless nmi_blocked, which it sets; the loop
 * clears it when an IRET completes.
 *
 * Decoded-instruction cache (step 2): a direct-mapped table keyed by the
 * physical address of the instruction and CS.D, filled by the slow path for
 * instructions that lie inside one directly readable page. An entry is
 * current while its page's code generation (mmu/phys.h) is unchanged: the
 * page is marked as code and the TLB stops giving direct write access to it
 * (cpu_tlb_protect_code), so every store to it, by the CPU, a device or a
 * loader, bumps the generation. A change of the physical map empties the
 * table. Lookup by address is the TLB lookup of CS:EIP, the hash, one tag
 * compare and one generation compare. Chaining (cpu_run_chain) avoids even
 * that while execution stays on one linear page: each entry remembers the
 * entries that followed it, which are checked by key instead, so the
 * dependent-load chain from one instruction to the next is one load.
 * Instructions crossing a page, or in MMIO, are decoded every time.
 * Devices must write guest RAM through phys_write/phys_load (phys.h).
 *
 * Usage: see cpu.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "flags.h"
#include "mem.h"
#include "mmu/phys.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum { DR6_BS = 1u << 14 };

/* cpu_boundary results besides an enum cpu_stop */
enum { BOUNDARY_EXECUTE = -1, BOUNDARY_RECHECK = -2, BOUNDARY_SINGLE_STEP = -3,
       BOUNDARY_ONE_INSN = -4 };

static struct icache *icache_new(void);

void cpu_init(struct cpu *cpu, struct phys_mem *mem, struct ioport_map *io)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->fast_at = UINT64_MAX;   /* (no window until the translator asks: cpu_tlb_flush) */
    cpu->mem = mem;
    cpu->io = io;
    cpu->icache = icache_new();
    exec_table_init();
    cpu_reset(cpu);
}

void cpu_destroy(struct cpu *cpu)
{
    free(cpu->icache);
    cpu->icache = NULL;
}

static void seg_reset(struct seg_cache *s, uint16_t sel, uint32_t base, uint16_t access)
{
    *s = (struct seg_cache){ .sel = sel, .base = base, .limit = 0xFFFF, .flags = access, .valid = true };
}

/* Power-on state, SDM Vol. 3A, 9.1.1 and Table 9-1. The instruction count
 * (the machine's clock) keeps running; the TSC restarts from 0. */
void cpu_reset(struct cpu *cpu)
{
    memset(cpu->gpr, 0, sizeof(cpu->gpr));
    cpu->gpr[R_EDX] = CPU_SIGNATURE;
    cpu->eip = cpu->next_eip = 0xFFF0;
    cpu->eflags = 0x00000002;
    cpu->lf = (struct lazy_flags){ .op = LF_NONE };

    for (int s = 0; s < SEG_COUNT; s++)
        seg_reset(&cpu->seg[s], 0, 0, SEGF_P | SEGF_S | SEGF_RW | SEGF_A);          /* 0x93 */
    seg_reset(&cpu->seg[SEG_CS], 0xF000, 0xFFFF0000u,
              SEGF_P | SEGF_S | SEGF_CODE | SEGF_RW | SEGF_A);                       /* 0x9B */
    seg_reset(&cpu->seg[SEG_LDTR], 0, 0, SEGF_P | 2);                                /* 0x82 */
    seg_reset(&cpu->seg[SEG_TR], 0, 0, SEGF_P | 3);                                  /* 0x83: busy 16-bit TSS */
    cpu->gdtr = (struct dtr){ .base = 0, .limit = 0xFFFF };
    cpu->idtr = (struct dtr){ .base = 0, .limit = 0xFFFF };
    cpu->cpl = 0;

    cpu->cr0 = 0x60000010u;   /* CD, NW, ET */
    cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xFFFF0FF0u;
    cpu->dr[7] = 0x00000400u;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->perf_evtsel[0] = cpu->perf_evtsel[1] = 0;
    cpu->perf_ctr[0] = cpu->perf_ctr[1] = 0;
    cpu->tsc_offset = 0 - cpu_clock(cpu);

    /* x87: as after FINIT except CW = 0x0040, registers +0.0 and not
     * empty (abridged tags 00: FNSTENV shows them tagged zero) */
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    cpu->fpu.cw = 0x0040;
    cpu->fpu.tw = 0x0000;

    cpu->halted = false;
    cpu->nmi_pending = false;
    cpu->nmi_blocked = false;
    cpu->irq_inhibit = 0;
    cpu->stop_requested = false;
    cpu->shutdown = false;
    cpu->stop_reason[0] = '\0';
    cpu->pending_vector = -1;
    cpu->pending_error = NO_ERROR_CODE;
    cpu->delivering = -1;

    if (cpu->mem)
        cpu_tlb_flush(cpu, true);
}

void cpu_set_intr(struct cpu *cpu, bool level)
{
    cpu->intr = level;
}

void cpu_raise_nmi(struct cpu *cpu)
{
    cpu->nmi_pending = true;
}

uint64_t cpu_clock(const struct cpu *cpu)
{
    return cpu->clock ? cpu->clock(cpu->clock_opaque) : cpu->icount;
}

uint64_t cpu_tsc(const struct cpu *cpu)
{
    return cpu->tsc_offset + cpu_clock(cpu);
}

/* ---- the decoded-instruction cache ---- */

#define ICACHE_SIZE  16384u                 /* entries; a power of two */
#define ICACHE_VALID (1ull << 33)
#define ICACHE_CROSS (1ull << 34)   /* crosses into the next page: see icache_cross_hit */

struct icache_entry {
    uint64_t key;        /* physical address | code32 << 32 | ICACHE_VALID; 0 = empty */
    uint32_t gen;        /* phys_code_gen of its page when it was decoded */
    uint32_t eip_mask;   /* 0xFFFF in 16-bit code: next_eip wraps */
    exec_fn  fn;         /* the handler, or one raising #UD / #GP for what cannot run */
    bool     sync;       /* class other than plain CTRL: cpu_tlb_sync after it */
    struct insn insn;
    struct icache_entry *link[2]; /* successors seen on the same page: [0] the
                                     fall-through, [1] the last other one;
                                     &icache.none when unknown */
    uint32_t phys2, gen2;         /* ICACHE_CROSS: the next page's physical address
                                     and phys_code_gen when it was decoded */
};

struct icache {
    uint64_t map_generation;                /* phys_mem.generation the entries belong to */
    struct icache_entry none;               /* key 0: matches nothing; what empty links point at */
    struct icache_entry e[ICACHE_SIZE];
};

static inline uint32_t icache_index(uint32_t phys)
{
    return (phys ^ (phys >> 14)) % ICACHE_SIZE;
}

static inline uint64_t icache_key(uint32_t phys, bool code32)
{
    return phys | ((uint64_t)code32 << 32) | ICACHE_VALID;
}

static struct icache *icache_new(void)
{
    struct icache *ic = calloc(1, sizeof(*ic));
    if (!ic) {
        fprintf(stderr, "fox86: out of host memory for the instruction cache\n");
        abort();
    }
    return ic;
}

/* ---- fetch, decode, execute ---- */

static noreturn void exec_undefined(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
}

static noreturn void exec_too_long(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise(cpu, EXC_GP, 0);
}

exec_fn cpu_engine_handler(const struct insn *in)
{
    exec_fn fn = in->op == OP_INVALID ? (in->too_long ? exec_too_long : exec_undefined)
               : exec_table[in->op] ? exec_table[in->op] : exec_undefined;
    if (fn == exec_table[in->op]) {
        exec_fn special = exec_select_int(in);
        if (!special)
            special = exec_select_flow(in);
        if (special)
            fn = special;
    }
    return fn;
}

/* Fill everything but key and gen from a decoded instruction. */
static void icache_prepare(struct icache_entry *ic, const struct insn *in, bool code32)
{
    ic->insn = *in;
    ic->eip_mask = code32 ? 0xFFFFFFFFu : 0xFFFFu;
    ic->fn = cpu_engine_handler(in);
    ic->sync = (op_info[in->op].cls & ~CTRL) != 0;
}

/* An instruction that crosses a page end is cached under its first
 * byte's key with ICACHE_CROSS, which no fast-path or chain lookup
 * matches: only here, where the next page is looked up too. It is current
 * when both pages map as they did and neither was written since (both
 * are marked as code). Hot kernel and library code has such instructions,
 * and each would otherwise be fetched byte by byte and decoded twice. */
static struct icache_entry *icache_cross_hit(struct cpu *cpu, uint32_t lin, bool code32)
{
    unsigned kind = tlb_kind(cpu, MEM_READ);
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    uint32_t lin2 = (lin & TLB_PAGE_MASK) + 4096u;
    const struct tlb_entry *e2 = &cpu->tlb[(lin2 >> 12) % TLB_SIZE];
    if ((e->lin_page & (TLB_PAGE_MASK | kind)) != ((lin & TLB_PAGE_MASK) | kind) ||
        (e2->lin_page & (TLB_PAGE_MASK | kind)) != (lin2 | kind))
        return NULL;
    uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK), phys2 = tlb_phys(e2);
    struct icache_entry *ic = &cpu->icache->e[icache_index(phys)];
    if (ic->key != (icache_key(phys, code32) | ICACHE_CROSS) ||
        ic->gen != phys_code_gen(cpu->mem, phys) || ic->phys2 != phys2 ||
        ic->gen2 != phys_code_gen(cpu->mem, phys2) ||
        (uint64_t)cpu->eip + ic->insn.len - 1 > cpu->seg[SEG_CS].limit)
        return NULL;
    return ic;
}

/* Fetch and decode at cpu->eip the slow way (bytes copied through
 * cpu_fetch_code, faults raised in order), and cache the result when the
 * instruction lies inside one page of directly readable memory; otherwise
 * the result goes to *scratch. */
static __attribute__((noinline)) struct icache_entry *
cpu_fetch_decode_slow(struct cpu *cpu, struct icache_entry *scratch)
{
    struct icache *icache = cpu->icache;
    if (icache->map_generation != cpu->mem->generation) {
        memset(icache->e, 0, sizeof(icache->e));
        icache->map_generation = cpu->mem->generation;
    }
    uint8_t buf[INSN_MAX_LEN];
    struct insn in;
    uint32_t eip = cpu->eip;
    bool code32 = cpu_code32(cpu);
    /* The bytes of this page first: the next page is walked (its A bit
     * set, its fault raised) only when the instruction does cross. */
    uint32_t to_page_end = 4096u - ((cpu->seg[SEG_CS].base + eip) & ~TLB_PAGE_MASK);
    if (to_page_end < INSN_MAX_LEN) {
        struct icache_entry *cross = icache_cross_hit(cpu, cpu->seg[SEG_CS].base + eip, code32);
        if (cross)
            return cross;
    }
    size_t want = to_page_end < INSN_MAX_LEN ? to_page_end : INSN_MAX_LEN;
    size_t n = cpu_fetch_code(cpu, eip, buf, want);
    if (n == want && want < INSN_MAX_LEN && decode_insn(&in, buf, n, code32) == 0)
        n += cpu_fetch_code(cpu, eip + (uint32_t)n, buf + n, INSN_MAX_LEN - n);
    if (decode_insn(&in, buf, n, code32) == 0) {
        /* the instruction needs byte n, which cannot be fetched: raise its fault */
        cpu_fetch_code(cpu, eip + (uint32_t)n, buf, 1);
        cpu_raise(cpu, EXC_GP, 0);
    }
    uint32_t lin = cpu->seg[SEG_CS].base + eip;
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    unsigned kind = tlb_kind(cpu, MEM_READ);
    uint32_t lin2 = (lin & TLB_PAGE_MASK) + 4096u;
    const struct tlb_entry *e2 = &cpu->tlb[(lin2 >> 12) % TLB_SIZE];
    if ((e->lin_page & (TLB_PAGE_MASK | kind)) == ((lin & TLB_PAGE_MASK) | kind) &&
        (lin & ~TLB_PAGE_MASK) + in.len > 4096u &&
        (e2->lin_page & (TLB_PAGE_MASK | kind)) == (lin2 | kind) &&
        (uint64_t)eip + in.len - 1 <= (code32 ? 0xFFFFFFFFu : 0xFFFFu)) {
        /* across the page end, both pages direct RAM: cached as ICACHE_CROSS */
        uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK), phys2 = tlb_phys(e2);
        uint32_t first = 4096u - (lin & ~TLB_PAGE_MASK);
        cpu_tlb_protect_code(cpu, phys, first);
        cpu_tlb_protect_code(cpu, phys2, in.len - first);
        struct icache_entry *ic = &icache->e[icache_index(phys)];
        icache_prepare(ic, &in, code32);
        ic->link[0] = ic->link[1] = &icache->none;
        ic->key = icache_key(phys, code32) | ICACHE_CROSS;
        ic->gen = phys_code_gen(cpu->mem, phys);
        ic->phys2 = phys2;
        ic->gen2 = phys_code_gen(cpu->mem, phys2);
        return ic;
    }
    if ((e->lin_page & (TLB_PAGE_MASK | kind)) != ((lin & TLB_PAGE_MASK) | kind) ||
        (lin & ~TLB_PAGE_MASK) + in.len > 4096u) {
        icache_prepare(scratch, &in, code32);
        scratch->key = 0;
        scratch->gen = 0;
        return scratch;
    }
    uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK);
    cpu_tlb_protect_code(cpu, phys, in.len);
    struct icache_entry *ic = &icache->e[icache_index(phys)];
    icache_prepare(ic, &in, code32);
    ic->link[0] = ic->link[1] = &icache->none;
    ic->key = icache_key(phys, code32);
    ic->gen = phys_code_gen(cpu->mem, phys);
    return ic;
}

/* The decoded instruction at cpu->eip: from the cache when the TLB maps
 * CS:EIP directly and the entry is current, else decoded (into *scratch or
 * a new cache entry). */
static inline struct icache_entry *cpu_fetch_decode(struct cpu *cpu,
                                                    struct icache_entry *scratch)
{
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t eip = cpu->eip;
    uint32_t lin = cs->base + eip;
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    unsigned kind = tlb_kind(cpu, MEM_READ);
    if (likely((e->lin_page & (TLB_PAGE_MASK | kind)) == ((lin & TLB_PAGE_MASK) | kind))) {
        uint32_t phys = tlb_phys(e) | (lin & ~TLB_PAGE_MASK);
        struct icache_entry *ic = &cpu->icache->e[icache_index(phys)];
        if (likely(ic->key == icache_key(phys, cpu_code32(cpu)) &&
                   ic->gen == phys_code_gen(cpu->mem, phys) &&
                   (uint64_t)eip + ic->insn.len - 1 <= cs->limit))
            return ic;
    }
    return cpu_fetch_decode_slow(cpu, scratch);
}

/* After an instruction of a class that may change CS, CPL, paging or the
 * TLB (icache_entry.sync): bring the TLB up to date. */
void cpu_engine_retire_sync(struct cpu *cpu, const struct insn *in)
{
    cpu_tlb_sync(cpu);
    if (in->op == OP_IRET)
        cpu->nmi_blocked = false;   /* NMIs are held off until the next IRET */
}

/* Run the fetched instruction ic and retire it. Returns false when the
 * next instruction may not be chained to it (it may have changed CS, CPL,
 * paging or the TLB: the classes that also need cpu_tlb_sync). */
static inline bool cpu_execute(struct cpu *cpu, const struct icache_entry *ic)
{
    bool sync = ic->sync;
    cpu->next_eip = (cpu->eip + ic->insn.len) & ic->eip_mask;
    ic->fn(cpu, &ic->insn);
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (unlikely(sync))
        cpu_engine_retire_sync(cpu, &ic->insn);
    return !sync;
}

static __attribute__((noinline)) void cpu_step_traced(struct cpu *cpu)
{
    struct icache_entry scratch;
    if (unlikely(cpu->insn_hook))
        cpu->insn_hook(cpu, cpu->insn_hook_opaque);
    cpu_execute(cpu, cpu_fetch_decode(cpu, &scratch));
}

void cpu_engine_step(struct cpu *cpu)
{
    cpu_step_traced(cpu);
}

/* ---- instruction boundary ---- */

static inline bool cpu_needs_attention(const struct cpu *cpu)
{
    return cpu_engine_needs_attention(cpu);
}

/* DR0-3 instruction breakpoints (R/W = 00) matching CS:EIP raise #DB (fault). */
static void cpu_check_code_breakpoints(struct cpu *cpu)
{
    uint32_t dr7 = cpu->dr[7];
    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    uint32_t hit = 0;
    for (int i = 0; i < 4; i++) {
        bool enabled = (dr7 >> (2 * i)) & 3;
        unsigned rw = (dr7 >> (16 + 4 * i)) & 3;
        if (enabled && rw == 0 && cpu->dr[i] == lin)
            hit |= 1u << i;
    }
    if (hit) {
        /* a fault: the pushed EFLAGS must carry RF so IRET does not hit it again */
        cpu->dr[6] = (cpu->dr[6] & ~0xFu) | hit;
        cpu->eflags |= FL_RF;
        cpu_raise(cpu, EXC_DB, NO_ERROR_CODE);
    }
}

static __attribute__((noinline)) int cpu_boundary(struct cpu *cpu)
{
    if (cpu->stop_requested)
        return CPU_STOP_REQUEST;
    bool inhibited = cpu->irq_inhibit != 0;
    if (inhibited) {
        cpu->irq_inhibit = 0;
    } else if (cpu->nmi_pending && !cpu->nmi_blocked) {
        cpu->nmi_pending = false;
        cpu->nmi_blocked = true;
        cpu->halted = false;
        cpu_deliver_interrupt(cpu, EXC_NMI, false, NO_ERROR_CODE);
        cpu_tlb_sync(cpu);
        return BOUNDARY_RECHECK;
    } else if (cpu->intr && (cpu->eflags & FL_IF) && cpu->intr_ack) {
        int vector = cpu->intr_ack(cpu->intr_opaque);
        cpu->halted = false;
        if (vector >= 0) {
            cpu_deliver_interrupt(cpu, vector & 0xFF, false, NO_ERROR_CODE);
            cpu_tlb_sync(cpu);
        }
        return BOUNDARY_RECHECK;
    }
    if (cpu->halted)
        return CPU_STOP_HALT;
    if ((cpu->dr[7] & 0xFF) && !(cpu->eflags & FL_RF))
        cpu_check_code_breakpoints(cpu);
    cpu->eflags &= ~(uint32_t)FL_RF;
    if (cpu->eflags & FL_TF)
        return BOUNDARY_SINGLE_STEP;
    /* After STI or MOV SS with an interrupt waiting: exactly one instruction,
     * then the boundary again (a chain would run past "sti; nop; cli"). */
    if (inhibited && ((cpu->nmi_pending && !cpu->nmi_blocked) ||
                      (cpu->intr && (cpu->eflags & FL_IF))))
        return BOUNDARY_ONE_INSN;
    return BOUNDARY_EXECUTE;
}

/* Run ic (a cache entry, current, at cpu->eip, already checked against
 * the CS limit) and then its successors while execution stays on the same
 * linear page, no TLB flush happens (tlb_epoch) and the budget lasts. The
 * next entry comes from the links of the one just run and is validated by
 * its key (same physical page, same CS.D) and its page's code generation;
 * this keeps the TLB lookup and the hash off the chain of dependent loads
 * from one instruction to the next. The CS limit is checked once for the
 * whole page (a page not entirely inside the limit runs one instruction
 * per call). The instruction boundary is checked (cpu_needs_attention)
 * only where control does not fall through: everything that can make an
 * instruction need it at once (STI, MOV SS, POPF, HLT, IRET, MOV DRn, I/O
 * ...) has a class that ends the chain, and an interrupt raised by MMIO
 * waits at most until the next branch or the end of the page. */
static __attribute__((noinline)) void cpu_run_chain(struct cpu *cpu, struct icache_entry *ic,
                                                    uint64_t end)
{
    struct icache_entry scratch;
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    uint32_t cs_base = cs->base;
    uint32_t page_lin = (cs_base + cpu->eip) & TLB_PAGE_MASK;
    uint32_t page_first_eip = page_lin - cs_base;
    bool page_in_limit = page_first_eip <= page_first_eip + 4095u &&
                         page_first_eip + 4095u <= cs->limit;
    uint32_t epoch = cpu->tlb_epoch;
    const uint32_t *page_gen = &cpu->mem->code_gen[(uint32_t)ic->key >> 12];
    if (unlikely(!page_in_limit)) {
        cpu_execute(cpu, ic);
        return;
    }
    for (;;) {
        if (!cpu_execute(cpu, ic) || cpu->icount >= end)
            return;
        uint32_t lin = cs_base + cpu->eip;
        if (((lin ^ page_lin) & TLB_PAGE_MASK) != 0 || epoch != cpu->tlb_epoch)
            return;
        /* both links are tried by key, so which one is taken does not
         * depend on the EIP the last instruction computed */
        uint64_t key = (ic->key & ~(uint64_t)~TLB_PAGE_MASK) | (lin & ~TLB_PAGE_MASK);
        struct icache_entry *next = ic->link[0];
        if (unlikely(next->key != key)) {
            if (cpu_needs_attention(cpu))   /* not the fall-through: a boundary check */
                return;
            next = ic->link[1];
        }
        if (unlikely(next->key != key || next->gen != *page_gen)) {
            next = cpu_fetch_decode(cpu, &scratch);
            if (next == &scratch || epoch != cpu->tlb_epoch)
                return;   /* the outer loop runs it (decoding it once more) */
            ic->link[key != ic->key + ic->insn.len] = next;
        }
        ic = next;
    }
}

/* The boundary as the loop handles it: BOUNDARY_EXECUTE (go on at
 * cpu->eip), BOUNDARY_RECHECK (check the budget and the boundary again),
 * or an enum cpu_stop. */
static __attribute__((noinline)) int cpu_attend(struct cpu *cpu)
{
    int r = cpu_boundary(cpu);
    if (r == BOUNDARY_SINGLE_STEP) {
        cpu_step_traced(cpu);
        cpu->dr[6] |= DR6_BS;
        cpu_raise(cpu, EXC_DB, NO_ERROR_CODE);   /* a trap: eip is committed */
    }
    if (r == BOUNDARY_ONE_INSN) {
        cpu_step_traced(cpu);
        return BOUNDARY_RECHECK;
    }
    return r;
}

int cpu_engine_boundary(struct cpu *cpu)
{
    if (likely(!cpu_needs_attention(cpu)))
        return -1;
    return cpu_attend(cpu);   /* BOUNDARY_EXECUTE (-1), BOUNDARY_RECHECK (-2) or a stop */
}

/* The loop: the instruction boundary, then a chain of cached instructions
 * (cpu_run_chain), or one that could not be cached. */
static __attribute__((noinline)) enum cpu_stop cpu_run_insns(struct cpu *cpu, uint64_t end)
{
    struct icache_entry scratch;
    while (likely(cpu->icount < end)) {
        if (unlikely(cpu_needs_attention(cpu))) {
            int r = cpu_attend(cpu);
            if (r == BOUNDARY_RECHECK)
                continue;
            if (r >= 0)
                return (enum cpu_stop)r;
        }
        if (unlikely(cpu->insn_hook)) {   /* an observer: one at a time, no chains */
            cpu_step_traced(cpu);
            continue;
        }
        struct icache_entry *ic = cpu_fetch_decode(cpu, &scratch);
        if (ic == &scratch)
            cpu_execute(cpu, ic);
        else
            cpu_run_chain(cpu, ic, end);
    }
    return CPU_STOP_BUDGET;
}

enum cpu_stop cpu_run(struct cpu *cpu, uint64_t max_insns)
{
    jmp_buf env;
    jmp_buf *outer_env = cpu->fault_env;
    volatile uint64_t end = cpu->icount + max_insns;

    cpu->fault_env = &env;
    if (!cpu->icache)
        cpu->icache = icache_new();
    cpu_tlb_sync(cpu);
    if (setjmp(env) != 0) {
        /* an instruction or an interrupt delivery faulted */
        if (end > cpu->icount)
            end = end - 1;
        cpu->halted = false;   /* e.g. the single-step trap after HLT */
        cpu_deliver_exception(cpu);
        cpu_tlb_sync(cpu);
    }
    enum cpu_stop why = cpu->shutdown ? CPU_STOP_TRIPLE_FAULT
                      : cpu->engine && !cpu->insn_hook ? cpu->engine->run(cpu, end, cpu->engine->opaque)
                      : cpu_run_insns(cpu, end);
    cpu->fault_env = outer_env;
    return why;
}
