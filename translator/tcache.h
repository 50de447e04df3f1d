/* translator/tcache.h: the translation cache shared by every backend, the
 * block scanner's interface, and the portable backend's engine.
 *
 * A block is a run of guest instructions on one physical page, found by
 * the scanner (scan.c) from CS:EIP, keyed by the physical address of its
 * first byte and a mode key (tcache_mode: everything the decoded form or
 * a backend's specialisation depends on). A block records the code
 * generation of its page (mmu/phys.h) when it was translated: it is stale,
 * and re-translated, as soon as anything wrote that page. Blocks live in
 * one arena of a fixed byte budget (-tb-size); when it is full, or the
 * physical map changes, everything is flushed at once (counted). Each
 * block remembers two successors (fall-through and the last other target),
 * re-validated by key and generation on use, so a chained transition
 * skips the hash lookup.
 *
 * The portable backend (portable.c) runs a block as an array of
 * pre-decoded instructions and their interpreter handlers, with the
 * interpreter's exact state discipline (see tcache_engine).
 *
 * Usage:
 *   struct tcache *tc = tcache_create(&(struct tcache_config){
 *       .budget_bytes = 64u << 20 }, NULL, 0);
 *   cpu->engine = tcache_engine(tc);   // cpu_run now runs blocks
 *   ...
 *   tcache_format_stats(tc, buf, sizeof buf);
 *   cpu->engine = NULL; tcache_destroy(tc);
 */
#ifndef FOX86_TCACHE_H
#define FOX86_TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/exec.h"

struct tcache;

/* ---- the scanner (scan.c) ---- */

#define SCAN_MAX_INSNS 64

enum scan_end {
    SCAN_END_CLASS,      /* the last instruction has a non-zero class (included) */
    SCAN_END_PAGE,       /* the next instruction would start on or cross into the next page */
    SCAN_END_LIMIT,      /* SCAN_MAX_INSNS (or the caller's max) reached */
    SCAN_END_UNDECODED,  /* the next instruction is invalid, has no handler, or is too
                            long: not included, the interpreter raises its fault */
    SCAN_END_WRAP,       /* 16-bit code: the next EIP would wrap past 0xFFFF */
};

/* Decode the block starting at byte offset of the page (4096 bytes at
 * page) for EIP eip in code of size code32, into out[0..max); past_jcc:
 * a conditional jump does not end it. Returns the
 * number of instructions (0: not even the first one can be part of a
 * block) and sets *why and *bytes (guest bytes covered). Pure: reads only
 * the page bytes. */
int scan_block(const uint8_t *page, uint32_t offset, uint32_t eip, bool code32, bool past_jcc,
               struct insn *out, int max, enum scan_end *why, uint32_t *bytes);

/* Whether a callout (an instruction of non-zero class) with operation op
 * may be followed by more instructions of its block. */
bool scan_callout_continues(unsigned op);

/* ---- blocks and the cache (tcache.c) ---- */

/* Mode key bits (tcache_mode). */
enum {
    TMODE_CODE32  = 1u << 0,   /* CS.D: the decoder's default sizes */
    TMODE_STACK32 = 1u << 1,   /* SS.B: ESP or SP for pushes and pops */
    TMODE_CPL_SHIFT = 2,       /* 2 bits: the TLB kind of every access, privilege checks */
    TMODE_PE      = 1u << 4,   /* protected mode: segment loads, faults */
    TMODE_VM      = 1u << 5,   /* virtual-8086 mode */
    TMODE_FLAT    = 1u << 6,   /* CS, DS, ES, SS bases all 0: a backend may omit the add */
    TMODE_FLAT4G  = 1u << 7,   /* and DS, ES, SS expand-up writable data, CS and they with
                                  limit 4 GiB: no segment check can fail (native fast paths) */
    TMODE_ALIGN   = 1u << 8,   /* CR0.AM, EFLAGS.AC and CPL 3: misaligned accesses raise #AC */
    /* (FS and GS are not in the key: host code checks them where it uses
     * them, native_emit.c's fs_gs_flat_check) */
};

struct tb_insn {
    exec_fn fn;                /* the interpreter's handler for this form */
    struct insn insn;
    /* set by the backend (portable_prepare_block), in tb_insn's padding */
    uint8_t  kind;             /* the backend's class of this instruction */
    uint8_t  index;            /* position in the block */
    uint16_t offset;           /* bytes from the block's first instruction */
    const void *label;         /* portable: the code for kind (direct threading) */
};

struct tblock {
    struct tblock *hash_next;
    uint32_t phys;             /* physical address of the first byte */
    uint32_t mode;             /* mode key */
    uint32_t gen;              /* phys_code_gen of its page when translated */
    uint32_t eip;              /* EIP it was translated at (lock-step report) */
    uint32_t eip_mask;         /* 0xFFFF in 16-bit code */
    uint16_t n;                /* instructions */
    uint16_t bytes;            /* guest bytes covered */
    uint8_t  end;              /* enum scan_end */
    bool     sync;             /* last instruction's class has bits besides CTRL:
                                  the interpreter's post-instruction sync */
    bool     callout;          /* last instruction is a callout (SENS/PRIV/IOPL/IO) */
    bool     has_io;           /* contains port I/O (lock-step cannot repeat it) */
    uint8_t  group_misses;     /* native: exits through a memory-check group leader's miss */
    uint8_t  group_redos;      /* native: translations again with groups turned off */
    uint64_t group_off;        /* native: leaders (by position) whose groups are off, every
                                  memory operand of theirs checking its own TLB entry */
    uint64_t group_wide;       /* native: leaders whose check covers two pages */
    struct tblock *link[2];    /* successors: [0] fall-through, [1] last other one */
    void    *code;             /* native backend: entry of its host code (run view); NULL:
                                  the block runs on the portable path */
    struct tb_insn insn[];
};

struct tcache_stats {
    uint64_t blocks_translated;
    uint64_t insns_translated;
    uint64_t lookups;           /* hash lookups (chain misses) */
    uint64_t hits;              /* hash lookups that found a current block */
    uint64_t lookup_steps;      /* hash-chain entries examined by those lookups */
    uint64_t chained;           /* transitions taken through a successor link */
    uint64_t jump_lookups;      /* link misses looked up in the jump cache (by linear EIP) */
    uint64_t jump_hits;         /* ... that found a current block */
    uint64_t blocks_run;
    uint64_t insns_run;         /* instructions retired inside blocks */
    uint64_t interp_steps;      /* instructions left to the interpreter (no block) */
    uint64_t flushes;           /* budget full */
    uint64_t map_flushes;       /* the physical map changed */
    uint64_t smc_invalidations; /* a block found stale (its page was written) */
    uint64_t empty_blocks;      /* blocks of no instruction (n == 0: the interpreter's) */
    uint64_t early_exits;       /* a block left before its end (SMC, TLB flush, budget, branch) */
    uint64_t translate_ns;      /* host time spent scanning and building blocks */
    uint64_t lockstep_blocks;   /* blocks compared by the lock-step checker */
    uint64_t lockstep_skipped;  /* blocks run once (port I/O or MMIO) */
    uint64_t native_blocks;     /* blocks given host code (native backend) */
    uint64_t native_insns;      /* instructions of those emitted as host instructions */
    uint64_t native_calls;      /* ... and as calls to their interpreter handler */
    uint64_t native_enters;     /* entries into host code from the run loop */
    uint64_t native_probe_hits; /* run-loop lookups served by the indirect-branch cache */
    uint64_t native_probe_rechecked; /* ... of them, entries of another address space or
                                        generation found current (tcache_block_current) */
    uint64_t native_patches;    /* direct jumps patched to chain two blocks */
    uint64_t native_group_retranslations; /* blocks whose group leaders kept missing,
                                     translated again with those groups off */
    uint64_t native_shared_checks; /* memory operands emitted without a TLB check of their
                                      own (a group's leader checked for them) */
    uint64_t native_group_misses; /* group leaders' checks that missed (each leaves the block) */
    uint64_t native_window_checks; /* checks through the host window (translated) */
    uint64_t native_wide_checks;  /* group leaders' checks of two pages (translated) */
    uint64_t native_loop_edges;   /* jumps back to a block's start that skip its entry (and PUSHFQ) */
    uint64_t native_shared_table_checks; /* ... of them table lookups (a bounded index) */
    uint64_t native_code_overflows; /* blocks left to the portable path for lack of code space */
    uint64_t callouts[OP_COUNT];
    uint64_t native_calls_by_op[OP_COUNT]; /* native_calls by operation (translated, not run) */
    uint64_t native_calls_run[OP_COUNT];   /* interpreter calls made from host code, by operation */
};

struct machine;

enum tcache_backend {
    TCACHE_PORTABLE,           /* pre-decoded handlers (portable.c), any host */
    TCACHE_NATIVE,             /* x86-64 host code (native.c), x86-64 hosts only */
};

struct tcache_config {
    enum tcache_backend backend;
    size_t budget_bytes;       /* arena for blocks (-tb-size); 0: TCACHE_DEFAULT_BUDGET */
    bool   lockstep;           /* compare blocks with the interpreter (lockstep.c) */
    uint32_t lockstep_every;   /* compare one block in this many (0, 1: every block) */
    FILE  *report;             /* where a lock-step difference is reported; NULL: stderr */
    struct machine *machine;   /* on a lock-step difference: machine_request_exit(3); may be NULL */
};
#define TCACHE_DEFAULT_BUDGET (128u << 20)   /* QEMU gives TCG far more; RSS grows only with use */

/* Returns NULL if host memory runs out. */
struct tcache *tcache_create(const struct tcache_config *cfg);
void tcache_destroy(struct tcache *tc);

/* The engine to install in cpu->engine (portable backend, with the
 * lock-step checker if configured). Valid while tc lives. */
const struct cpu_engine *tcache_engine(struct tcache *tc);

/* The counters and the top 20 callouts, several lines in --stats layout. */
void tcache_format_stats(const struct tcache *tc, char *buf, size_t len);
const struct tcache_stats *tcache_stats(const struct tcache *tc);
size_t tcache_bytes_used(const struct tcache *tc);
bool tcache_lockstep_failed(const struct tcache *tc);

/* The mode key of the CPU's current state (TMODE_* bits). */
uint32_t tcache_mode(const struct cpu *cpu);

/* The current block for CS:EIP: found through prev's links (prev may be
 * NULL), the hash table, or translated now. NULL when no block can start
 * here (TLB miss, not directly readable, CS limit), and an empty block
 * (n == 0) when its first instruction crosses the page or is undecodable:
 * either way the caller runs one instruction in the interpreter. Links
 * prev to a non-empty result. */
struct tblock *tcache_find(struct tcache *tc, struct cpu *cpu, struct tblock *prev, uint32_t mode);

/* Whether block b (found by other means than tcache_find: a cache keyed
 * by linear address) is the one tcache_find would give for CS:EIP in
 * mode: the TLB maps EIP to its physical address, its page was not
 * written since, the CS limit covers it. */
bool tcache_block_current(const struct tcache *tc, const struct cpu *cpu, const struct tblock *b,
                          uint32_t mode);

/* Forget every block (counted as a budget flush when budget is true). */
void tcache_flush(struct tcache *tc, bool budget);

/* portable.c: run block b at cpu->eip (current, checked by tcache_find)
 * until its end, a fault (unwinds), or an early exit: SMC on its page, a
 * TLB flush, a branch inside it (REP), or icount reaching end. Returns
 * true when every instruction ran and control left through its end. */
bool portable_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end);

/* portable.c: the backend's per-instruction preparation of a block just
 * built (tb_insn kind, index, offset), called by the cache before the
 * block is entered. */
void portable_prepare_block(struct tblock *b);
/* native.c: true on hosts the native backend can run on. */
bool native_supported(void);

/* lockstep.c: run b translated, then from the same state interpreted, and
 * compare; false after reporting a difference. */
bool lockstep_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end,
                        bool *completed);

#endif
