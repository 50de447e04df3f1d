/* translator/native.h: the native x86-64 backend's internals, shared by
 * native.c (run loop, trampolines, helpers, chaining) and native_emit.c
 * (host code for one block). Not used outside translator/.
 *
 * Register convention inside host code:
 *   guest EAX ECX EDX EBX ESP EBP ESI EDI live in host
 *         RAX RCX RDX RBX R12 RBP RSI RDI (32-bit views; the same numbers
 *         as the guest's but ESP, so mul/div/shift-by-CL need no moves);
 *   R15   the struct cpu pointer;
 *   R13   the guest's arithmetic flags in RFLAGS layout (PUSHFQ), kept
 *         while host code that clobbers RFLAGS runs (native_emit.c);
 *   R14   the instruction budget left: cpu->jit.icount_end minus the
 *         icount at the start of the current block (cpu->icount itself is
 *         only written at exits and before interpreter calls);
 *   R8-R11 scratch; RSP the host stack, 16-byte aligned in block code.
 * At every block boundary the guest registers are in their host registers,
 * the guest flags in R13 and the budget in R14: chained blocks pass them
 * on without touching memory. The enter trampoline loads them from struct
 * cpu (flags from cpu->eflags, lf.op == LF_NONE) and the exit stores them
 * back (cpu->gpr, the arithmetic bits of cpu->eflags, cpu->icount).
 */
#ifndef FOX86_TRANSLATOR_NATIVE_H
#define FOX86_TRANSLATOR_NATIVE_H

#include <stddef.h>

#include "codebuf.h"
#include "tcache_int.h"
#include "x64_emit.h"

/* Host register of each guest register (R_EAX..R_EDI). */
static const int8_t native_hreg[8] = {
    X64_RAX, X64_RCX, X64_RDX, X64_RBX, X64_R12, X64_RBP, X64_RSI, X64_RDI,
};
#define NATIVE_CPU   X64_R15
#define NATIVE_FLAGS X64_R13
#define NATIVE_BUDGET X64_R14

/* A struct cpu field's offset from NATIVE_CPU, for host code. */
#define CPU_OFF(field) ((int32_t)offsetof(struct cpu, field))

/* Room kept free for one block's host code; a block that needs more is
 * left to the portable path (counted). */
#define NATIVE_BLOCK_MAX_BYTES (48u << 10)

/* The indirect-branch cache: guest EIP and mode -> host code of the block,
 * looked up inline by RET, indirect JMP/CALL and direct jumps that leave
 * the page. Valid while no TLB flush, code write or cache flush happened:
 * the run loop clears it when any did (host code leaves for the run loop
 * after every one of them, see native_exec_insn). Flat modes only, where
 * the EIP is the linear address. Blocks on global pages (the kernel's)
 * carry their own generation, which a CR3 switch leaves alone: Linux
 * switches thousands of times a second, and each time every kernel path
 * went back through the run loop once. The others carry the address
 * space's version (cpu_tlb_space_version) when there is one: then a TLB
 * flush does not clear them, since the version changes with any mapping
 * of the space, and a process's blocks are found again when it runs
 * again. */
#define NATIVE_JC_BITS 16
#define NATIVE_JC_ENTRIES (1u << NATIVE_JC_BITS)
#define NATIVE_JC_HASH 0x9E3779B1u
/* An EIP's slot: a multiplicative hash (the low EIP bits alone put every
 * 16-byte-aligned function of every page in 1/16 of the slots). Host code
 * computes the same with IMUL and SHR. */
static inline uint32_t native_jc_index(uint32_t eip)
{
    return (eip * NATIVE_JC_HASH) >> (32 - NATIVE_JC_BITS);
}
struct native_jc_entry {
    uint64_t key;              /* eip | mode << 32 | a generation key (0: empty, never
                                  matches) */
    const void *code;          /* run-view entry */
    struct tblock *block;      /* its block: the run loop looks here before the hash table */
    uint64_t space;            /* non-global entries: the address space version they hold in */
};
struct native_jc {
    uint64_t space;            /* the current space's version; host code reads it at entry - 40 */
    uint64_t global_key;       /* global pages: their generation << 48 | NATIVE_JC_GLOBAL;
                                  at entry - 32 */
    uint64_t gen_key;          /* the others: their generation << 48; clearing bumps it (a
                                  memset only when it wraps); at entry - 24 */
    uint64_t misses;           /* counted by host code: at entry - 16 and entry - 8 */
    uint64_t hits;
    struct native_jc_entry entry[NATIVE_JC_ENTRIES];
};
#define NATIVE_JC_GEN_SHIFT 48
#define NATIVE_JC_GLOBAL (1ull << 47)

struct native {
    struct tcache *tc;
    struct codebuf *cb;
    /* void enter(struct cpu *cpu, const void *code): saves the host's
     * callee-saved registers, loads the guest registers, jumps to code. */
    void (*enter)(struct cpu *cpu, const void *code);
    uint8_t *exit_rw;          /* stores registers, flags and icount, then exit_spilled_rw */
    uint8_t *exit_r10_rw;      /* stores R10D to cpu->eip, then exit_rw */
    uint8_t *exit_spilled_rw;  /* restores the host registers and returns from enter (after
                                  an interpreter call, which left everything in struct cpu) */
    uint8_t *call_saved_rw;    /* the interpreter-call thunks (native.c, emit_trampolines): */
    uint8_t *call_mem_rw;      /*   flags in R13 / in cpu->eflags */
    struct native_jc *jc;
    uint32_t jc_tlb_epoch;     /* cpu->tlb_epoch, tlb_global_epoch and phys_mem.code_epoch */
    uint32_t jc_global_epoch;  /* it was filled under */
    uint32_t jc_code_epoch;
    uint64_t jc_clears;
    bool host_bmi2;            /* RORX for the TLB index (FOX86_NATIVE_NO_BMI2=1: not used) */
    bool no_x87_moves;         /* FOX86_NATIVE_NO_X87_MOVES=1: x87 loads, stores and exchanges
                                  call fpu.c's fast entries (comparisons) */
    bool no_loops;             /* FOX86_NATIVE_NO_LOOPS=1: jumps back to a block's start leave
                                  through its entry as other exits (native_emit.c, loops) */
    bool no_window;            /* FOX86_NATIVE_NO_WINDOW=1: user-mode memory operands are
                                  not reached through the host window (native_emit.c,
                                  tlb_check; mmu/fastmem.h) */
    bool host_undef_flags;     /* the host leaves MUL/IMUL's and SHL/SHR/SAR's undefined flags
                                  as the interpreter defines them (Intel's); else host code
                                  computes them (FOX86_NATIVE_EXACT_FLAGS=1: always) */
    size_t cs_host;            /* Capstone (x86-64) for -d out_asm; 0: not open yet */
    FILE *perf_map;            /* -d perfmap: /tmp/perf-PID.map; NULL: not open yet */
};

/* The helper host code calls for an instruction it does not emit itself:
 * runs insn i of b (at eip) with the interpreter's handler and discipline;
 * nonzero when the block must be left now (control went elsewhere, its
 * page was written, the TLB was flushed, an interrupt or stop is pending,
 * or it was the block's last instruction). native.c. */
uint32_t native_exec_insn(struct cpu *cpu, const struct tblock *b, uint32_t i, uint32_t eip);

/* native_emit.c: host code for b at the code buffer's cursor; returns the
 * run-view entry, or NULL when it did not fit (nothing committed). */
void *native_emit_block(struct native *nt, struct tcache_stats *stats, struct tblock *b);

#endif
