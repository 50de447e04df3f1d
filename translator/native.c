/* translator/native.c: the native x86-64 backend's run loop, trampolines,
 * interpreter-call helper and block chaining.
 *
 * Blocks come from the shared cache (tcache.c); each new one also gets
 * host code (native_emit.c) in a code buffer of its own, flushed together
 * with the cache. The run loop is the portable one's (the instruction
 * boundary, then a block) except that a block runs as host code entered
 * through a trampoline, and that host code goes on from block to block by
 * itself through chained jumps:
 *
 * Chaining: a direct jump (or fall-through) to an EIP on the same guest
 * page as the block, in a flat mode, leaves through a patchable `jmp
 * rel32` that first points at an exit recording its own address. When the
 * run loop then finds (or translates) the target block with the same mode
 * on the same physical page, it patches the jump to the target's code.
 * Same page only: both blocks were reached through the same linear page,
 * so the link stays right while that page's mapping does, and every way
 * the mapping or the code can change leaves host code first (a TLB flush
 * or a write to a code page is only ever seen by the interpreter-call
 * helper, which ends the block; the code generation of a written page makes
 * its blocks stale, and blocks chained to them are on the same page, hence
 * stale too). Links are never undone: a flush drops all code at once.
 *
 * Budget: each block checks icount + n <= cpu->jit.icount_end on entry and
 * otherwise leaves before running anything; the run loop finishes a slice
 * with the portable path, so a slice ends on exactly the instruction the
 * interpreter would stop at. Interrupts wait for the next exit to the run
 * loop: devices only act between slices or through port I/O and MMIO,
 * which end a block (port I/O) or leave through the helper's checks (MMIO).
 */
#include "native.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capstone/capstone.h>
#include <inttypes.h>

#include "core/flags.h"
#include "core/machine.h"
#include "mmu/phys.h"

bool native_supported(void)
{
#if defined(__x86_64__)
    return true;
#else
    return false;
#endif
}

#if defined(__x86_64__)

_Static_assert(offsetof(struct native_jc, entry) == 40 && offsetof(struct native_jc, hits) == 32 &&
               offsetof(struct native_jc, gen_key) == 16 && offsetof(struct native_jc, global_key) == 8,
               "native_emit.c reads the space, generations, misses and hits at entry - 40 .. -8");

_Static_assert(sizeof(struct native_jc_entry) == 32 && offsetof(struct native_jc_entry, code) == 8 &&
               offsetof(struct native_jc_entry, space) == 24,
               "native_emit.c indexes the indirect-branch cache as 32-byte entries, code at +8, "
               "space at +24");

static void jc_reset(struct native_jc *jc);
_Static_assert(sizeof(struct tlb_entry) == 16 && offsetof(struct tlb_entry, addend) == 8,
               "native_emit.c indexes the TLB as 16-byte entries with the addend at +8");

/* Stores / loads the guest registers between host registers and cpu->gpr. */
static void emit_spill(struct x64_asm *a)
{
    for (int r = 0; r < 8; r++)
        x64_mov_mr(a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(gpr) + 4 * r), native_hreg[r]);
}

static void emit_reload(struct x64_asm *a)
{
    for (int r = 0; r < 8; r++)
        x64_mov_rm(a, 32, native_hreg[r], x64_mem_b(NATIVE_CPU, CPU_OFF(gpr) + 4 * r));
}

/* The arithmetic flags in R13 into cpu->eflags (two scratch registers). */
static void emit_flags_to_eflags(struct x64_asm *a, int t1, int t2)
{
    struct x64_mem eflags = x64_mem_b(NATIVE_CPU, CPU_OFF(eflags));
    x64_mov_rr(a, 32, t1, NATIVE_FLAGS);
    x64_alu_ri(a, X64_AND, 32, t1, FL_ARITH);
    x64_mov_rm(a, 32, t2, eflags);
    x64_alu_ri(a, X64_AND, 32, t2, ~(int64_t)FL_ARITH & 0xFFFFFFFF);
    x64_alu_rr(a, X64_OR, 32, t2, t1);
    x64_mov_mr(a, 32, eflags, t2);
}

/* The trampolines at the start of a fresh code buffer. enter: push the
 * six callee-saved registers and realign (6 pushes + the return address
 * leave RSP 8 off a 16-byte boundary), take the CPU pointer and the code
 * address, load the guest registers (RSI and RDI last: they were the
 * arguments), jump. */
static bool emit_trampolines(struct native *nt)
{
    struct codebuf *cb = nt->cb;
    struct x64_asm a;
    x64_init(&a, codebuf_cursor(cb), codebuf_free_space(cb), codebuf_exec_delta(cb));
    uint8_t *enter = a.cur;
    static const int saved[6] = { X64_RBX, X64_RBP, X64_R12, X64_R13, X64_R14, X64_R15 };
    for (int k = 0; k < 6; k++)
        x64_push_r(&a, saved[k]);
    x64_alu_ri(&a, X64_SUB, 64, X64_RSP, 8);
    x64_mov_rr(&a, 64, NATIVE_CPU, X64_RDI);
    x64_mov_rr(&a, 64, X64_R11, X64_RSI);
    struct x64_mem eflags = x64_mem_b(NATIVE_CPU, CPU_OFF(eflags));
    struct x64_mem icount = x64_mem_b(NATIVE_CPU, CPU_OFF(icount));
    struct x64_mem icount_end = x64_mem_b(NATIVE_CPU, CPU_OFF(jit.icount_end));
    x64_mov_rm(&a, 32, NATIVE_FLAGS, eflags);
    x64_alu_ri(&a, X64_AND, 32, NATIVE_FLAGS, FL_ARITH);
    x64_mov_rm(&a, 64, NATIVE_BUDGET, icount_end);
    x64_alu_rm(&a, X64_SUB, 64, NATIVE_BUDGET, icount);
    emit_reload(&a);
    x64_jmp_r(&a, X64_R11);

    x64_nop(&a, (int)((16 - (uintptr_t)a.cur % 16) % 16));
    /* exit_r10: the indirect-branch cache's entry for an empty block */
    uint8_t *exit_r10 = a.cur;
    x64_mov_mr(&a, 32, x64_mem_b(NATIVE_CPU, CPU_OFF(eip)), X64_R10);
    uint8_t *exit = a.cur;
    emit_spill(&a);
    emit_flags_to_eflags(&a, X64_R8, X64_R9);
    x64_mov_rm(&a, 64, X64_R8, icount_end);
    x64_alu_rr(&a, X64_SUB, 64, X64_R8, NATIVE_BUDGET);
    x64_mov_mr(&a, 64, icount, X64_R8);
    uint8_t *exit_spilled = a.cur;
    x64_alu_ri(&a, X64_ADD, 64, X64_RSP, 8);
    for (int k = 5; k >= 0; k--)
        x64_pop_r(&a, saved[k]);
    x64_ret(&a);

    /* The interpreter-call thunks (native.h): called with R8 = the block,
     * R10D = the instruction's index, R11D = its EIP, the flags in R13
     * (call_saved) or in cpu->eflags (call_mem). */
    x64_nop(&a, (int)((16 - (uintptr_t)a.cur % 16) % 16));
    uint8_t *call_saved = a.cur;
    emit_spill(&a);
    emit_flags_to_eflags(&a, X64_RAX, X64_RCX);
    struct x64_label common, leave;
    x64_label_init(&common);
    x64_label_init(&leave);
    x64_jmp_label(&a, &common, true);
    uint8_t *call_mem = a.cur;
    emit_spill(&a);
    x64_bind(&a, &common);
    /* icount = the block's first + index; RBX (spilled, callee-saved)
     * keeps the index across the call */
    x64_mov_rr(&a, 32, X64_RBX, X64_R10);
    x64_mov_rm(&a, 64, X64_RAX, icount_end);
    x64_alu_rr(&a, X64_SUB, 64, X64_RAX, NATIVE_BUDGET);
    x64_alu_rr(&a, X64_ADD, 64, X64_RAX, X64_R10);
    x64_mov_mr(&a, 64, icount, X64_RAX);
    x64_mov_rr(&a, 64, X64_RDI, NATIVE_CPU);
    x64_mov_rr(&a, 64, X64_RSI, X64_R8);
    x64_mov_rr(&a, 32, X64_RDX, X64_R10);
    x64_mov_rr(&a, 32, X64_RCX, X64_R11);
    x64_alu_ri(&a, X64_SUB, 64, X64_RSP, 8);   /* called: realign for C */
    x64_call_abs(&a, (const void *)native_exec_insn);
    x64_alu_ri(&a, X64_ADD, 64, X64_RSP, 8);
    x64_test_rr(&a, 32, X64_RAX, X64_RAX);
    x64_jcc_label(&a, X64_CC_NE, &leave, true);
    /* the budget again from icount: a handler may retire more than one
     * (REP string batches charge every iteration) */
    x64_mov_rm(&a, 64, NATIVE_BUDGET, icount_end);
    x64_alu_rm(&a, X64_SUB, 64, NATIVE_BUDGET, icount);
    x64_lea(&a, 64, NATIVE_BUDGET, x64_mem_bis(NATIVE_BUDGET, X64_RBX, 1, 1));
    emit_reload(&a);
    x64_ret(&a);
    x64_bind(&a, &leave);
    x64_alu_ri(&a, X64_ADD, 64, X64_RSP, 8);   /* the thunk's return address */
    x64_jmp_rel32(&a, exit_spilled);

    if (!x64_ok(&a))
        return false;
    codebuf_commit(cb, x64_offset(&a));
    nt->enter = (void (*)(struct cpu *, const void *))codebuf_to_rx(cb, enter);
    nt->exit_rw = exit;
    nt->exit_r10_rw = exit_r10;
    nt->exit_spilled_rw = exit_spilled;
    nt->call_saved_rw = call_saved;
    nt->call_mem_rw = call_mem;
    return true;
}

/* Whether this host's IMUL and SHL/SHR leave the flags the SDM calls
 * undefined as the interpreter defines them (the Intel CPU it models: SF
 * and PF from the product, ZF = AF = 0; a shift's AF 0 and OF from the
 * operand's top bits for any count). AMD's keep SF/ZF/AF/PF over IMUL and
 * AF over shifts. One probe of each, from flags that are all set. */
static bool host_undef_flags_as_interpreter(void)
{
    uint64_t imul_fl, shl_fl, shr_fl, all = FL_ARITH;
    uint32_t x = 3, y = 5, s = 0x40000001u, r = 0x80000003u;
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\t"   /* (over the red zone) */
                     "pushq %[all]\n\tpopfq\n\timull %[y], %[x]\n\tpushfq\n\tpopq %[imul]\n\t"
                     "pushq %[all]\n\tpopfq\n\tshll $3, %[s]\n\tpushfq\n\tpopq %[shl]\n\t"
                     "pushq %[all]\n\tpopfq\n\tshrl $2, %[r]\n\tpushfq\n\tpopq %[shr]\n\t"
                     "lea 128(%%rsp), %%rsp"
                     : [imul] "=&r"(imul_fl), [shl] "=&r"(shl_fl), [shr] "=&r"(shr_fl), [x] "+r"(x),
                       [s] "+r"(s), [r] "+r"(r)
                     : [y] "r"(y), [all] "r"(all)
                     : "cc", "memory");
    /* 15: PF; 0x40000001 << 3: OF (bit 31 ^ bit 30); 0x80000003 >> 2: CF, PF, OF (bit 31) */
    return (imul_fl & FL_ARITH) == FL_PF && (shl_fl & FL_ARITH) == FL_OF &&
           (shr_fl & FL_ARITH) == (FL_CF | FL_PF | FL_OF);
}

void native_host_forms(const struct native *nt, bool *bmi2, bool *undef_flags_computed)
{
    *bmi2 = nt->host_bmi2;
    *undef_flags_computed = !nt->host_undef_flags;
}

struct native *native_create(struct tcache *tc, size_t code_bytes)
{
    struct native *nt = calloc(1, sizeof(*nt));
    if (!nt)
        return NULL;
    nt->tc = tc;
    const char *no_bmi2 = getenv("FOX86_NATIVE_NO_BMI2");   /* (tests: the other form) */
    nt->host_bmi2 = __builtin_cpu_supports("bmi2") && !(no_bmi2 && *no_bmi2 == '1');
    const char *exact_flags = getenv("FOX86_NATIVE_EXACT_FLAGS");   /* (tests: the computed form) */
    nt->host_undef_flags = host_undef_flags_as_interpreter() && !(exact_flags && *exact_flags == '1');
    const char *no_x87_moves = getenv("FOX86_NATIVE_NO_X87_MOVES");
    nt->no_x87_moves = no_x87_moves && *no_x87_moves == '1';
    const char *no_loops = getenv("FOX86_NATIVE_NO_LOOPS");
    nt->no_loops = no_loops && *no_loops == '1';
    const char *no_window = getenv("FOX86_NATIVE_NO_WINDOW");
    nt->no_window = no_window && *no_window == '1';
    nt->cb = codebuf_create(code_bytes);
    nt->jc = calloc(1, sizeof(*nt->jc));
    if (nt->jc)
        jc_reset(nt->jc);
    if (!nt->cb || !nt->jc || !emit_trampolines(nt)) {
        native_destroy(nt);
        return NULL;
    }
    return nt;
}

void native_destroy(struct native *nt)
{
    if (!nt)
        return;
    if (nt->cb)
        codebuf_destroy(nt->cb);
    if (nt->cs_host)
        cs_close(&nt->cs_host);
    if (nt->perf_map)
        fclose(nt->perf_map);
    free(nt->jc);
    free(nt);
}

/* Forget every entry: a new generation in the keys (TLB flushes make this
 * frequent: thousands of times a second while Linux switches processes). */
static void jc_reset(struct native_jc *jc)
{
    memset(jc->entry, 0, sizeof(jc->entry));
    jc->gen_key = 1ull << NATIVE_JC_GEN_SHIFT;
    jc->global_key = 1ull << NATIVE_JC_GEN_SHIFT | NATIVE_JC_GLOBAL;
}

/* The generation key for a block at linear eip (flat modes): global
 * when the TLB maps its page as global (tcache_find just used that entry). */
static uint64_t jc_key_of(const struct native_jc *jc, const struct cpu *cpu, uint32_t eip)
{
    const struct tlb_entry *e = &cpu->tlb[(eip >> 12) % TLB_SIZE];
    bool global = (e->lin_page & TLB_PAGE_MASK) == (eip & TLB_PAGE_MASK) && (tlb_rights(e) & TLB_GLOBAL);
    return global ? jc->global_key : jc->gen_key;
}

/* Forget the entries of non-global pages, or (all) every entry. */
static void jc_clear(struct native *nt, bool all)
{
    struct native_jc *jc = nt->jc;
    jc->gen_key += 1ull << NATIVE_JC_GEN_SHIFT;
    if (all)
        jc->global_key += 1ull << NATIVE_JC_GEN_SHIFT;
    if (jc->gen_key == 0 || (jc->global_key >> NATIVE_JC_GEN_SHIFT) == 0)
        jc_reset(jc);
    nt->jc_clears++;
}

void native_flush(struct native *nt)
{
    jc_reset(nt->jc);   /* (not only new keys: jc_probe rechecks the blocks of old entries) */
    nt->jc_clears++;
    codebuf_reset(nt->cb);
    if (!emit_trampolines(nt))
        abort();   /* cannot happen: an empty buffer holds a few hundred bytes */
}

size_t native_code_used(const struct native *nt)
{
    return codebuf_used(nt->cb);
}

size_t native_code_size(const struct native *nt)
{
    return codebuf_size(nt->cb);
}

void native_jc_stats(const struct native *nt, uint64_t *hits, uint64_t *misses, uint64_t *clears)
{
    *hits = nt->jc->hits;
    *misses = nt->jc->misses;
    *clears = nt->jc_clears;
}

/* -d out_asm: the block's guest instructions, then its host code. */
static void log_block(struct native *nt, struct machine *m, const struct tblock *b)
{
    if (!nt->cs_host && cs_open(CS_ARCH_X86, CS_MODE_64, &nt->cs_host) != CS_ERR_OK) {
        machine_log(m, LOG_OUT_ASM, "out_asm: Capstone cannot disassemble x86\n");
        return;
    }
    machine_log(m, LOG_OUT_ASM, "block at EIP %08x (physical %08x, mode %03x): %u guest "
                "instructions\n", b->eip, b->phys, b->mode, b->n);
    for (uint32_t i = 0; i < b->n; i++) {
        char text[96];
        insn_format(&b->insn[i].insn, 0, text, sizeof text);
        machine_log(m, LOG_OUT_ASM, "  guest  %s\n", text);
    }
    const uint8_t *code = codebuf_to_rw(nt->cb, b->code);
    size_t len = (size_t)(codebuf_cursor(nt->cb) - code);
    cs_insn *insn;
    size_t count = cs_disasm(nt->cs_host, code, len, (uint64_t)(uintptr_t)b->code, 0, &insn);
    for (size_t k = 0; k < count; k++)
        machine_log(m, LOG_OUT_ASM, "  host   %012" PRIx64 "  %s %s\n", insn[k].address,
                    insn[k].mnemonic, insn[k].op_str);
    if (count)
        cs_free(insn, count);
    machine_log(m, LOG_OUT_ASM, "  (%zu bytes of host code)\n", len);
}

/* -d perfmap: "START SIZE NAME" per block, the format perf reads for JIT
 * code (a flush reuses addresses: later lines describe them). */
static void perf_map_block(struct native *nt, const struct tblock *b)
{
    if (!nt->perf_map) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        nt->perf_map = fopen(path, "w");
        if (!nt->perf_map)
            return;
    }
    const uint8_t *code = codebuf_to_rw(nt->cb, b->code);
    fprintf(nt->perf_map, "%" PRIxPTR " %zx guest_%08x_%03x\n", (uintptr_t)b->code,
            (size_t)(codebuf_cursor(nt->cb) - code), b->eip, b->mode);
}

/* -d out_asm and -d perfmap of a block just emitted */
static void log_new_code(struct tcache *tc, struct tblock *b)
{
    struct native *nt = tc->native;
    if (tc->cfg.machine && machine_log_enabled(tc->cfg.machine, LOG_OUT_ASM) &&
        machine_log_address(tc->cfg.machine, b->eip, b->bytes))
        log_block(nt, tc->cfg.machine, b);
    if (tc->cfg.machine && machine_log_enabled(tc->cfg.machine, LOG_PERF_MAP))
        perf_map_block(nt, b);
}

void native_translate(struct tcache *tc, struct cpu *cpu, struct tblock *b)
{
    (void)cpu;
    struct native *nt = tc->native;
    if (codebuf_free_space(nt->cb) < NATIVE_BLOCK_MAX_BYTES) {
        tc->stats.native_code_overflows++;
        return;   /* tcache_translate flushes before the next block */
    }
    b->code = native_emit_block(nt, &tc->stats, b);
    if (!b->code) {
        tc->stats.native_code_overflows++;
        return;
    }
    tc->stats.native_blocks++;
    log_new_code(tc, b);
}

/* Whether the run loop must look at the CPU before more host code runs
 * (the same inputs as cpu.c's boundary check, without its side effects). */
static inline bool needs_attention(const struct cpu *cpu)
{
    return cpu->stop_requested | cpu->halted | (cpu->irq_inhibit != 0) |
           (cpu->nmi_pending & !cpu->nmi_blocked) | (cpu->intr & ((cpu->eflags & FL_IF) != 0)) ||
           (cpu->eflags & (FL_TF | FL_RF)) || (cpu->dr[7] & 0xFF);
}

/* A group leader's check covers its group's whole span; where that span
 * crosses a page (a stack frame across a page boundary, say) it misses
 * on every run, and each miss leaves the block: a loop would crawl
 * through the run loop an instruction group at a time (openssl sha256:
 * 0.9 MB/s against 40), and an AES table that crosses one misses the
 * same way. A block whose leaders keep missing is translated again: the
 * group of the leader that missed last checks both pages of its span
 * (tlb_check_wide: enough where they lie next to each other in guest
 * RAM), and when it keeps missing all the same, that group is turned off
 * (after a few such turns, every group); its old entry jumps to the new
 * code (chained jumps and the indirect-branch cache still hold the old
 * address).
 * Called from inside b's old code, which stays intact. */
#define NATIVE_GROUP_MISS_LIMIT 8
#define NATIVE_GROUP_REDO_LIMIT 6   /* then every group of the block is off */

static void note_group_miss(struct tcache *tc, struct tblock *b, uint32_t leader)
{
    struct native *nt = tc->native;
    if (b->group_off == UINT64_MAX || ++b->group_misses < NATIVE_GROUP_MISS_LIMIT ||
        codebuf_free_space(nt->cb) < NATIVE_BLOCK_MAX_BYTES)
        return;
    /* the leader that missed last is most likely the one that always
     * misses (its span crosses a page) */
    b->group_misses = 0;
    uint64_t bit = 1ull << leader;
    if (++b->group_redos >= NATIVE_GROUP_REDO_LIMIT)
        b->group_off = UINT64_MAX;
    else if (!(b->group_wide & bit))
        b->group_wide |= bit;
    else
        b->group_off |= bit;
    void *old = b->code;
    void *code = native_emit_block(nt, &tc->stats, b);
    if (!code)
        return;   /* (cannot happen: the space was checked) the old code stays */
    uint8_t *entry = codebuf_to_rw(nt->cb, old);
    int64_t rel = (uint8_t *)code - ((uint8_t *)old + 5);
    uint8_t jmp[5] = { 0xE9 };
    int32_t rel32 = (int32_t)rel;
    memcpy(jmp + 1, &rel32, 4);
    /* over the entry's budget check: the old code's loop edges, which go
     * on past it, still run that code, which stays right until its group
     * misses again and it leaves */
    memcpy(entry, jmp, sizeof jmp);
    b->code = code;
    tc->stats.native_group_retranslations++;
    log_new_code(tc, b);
}

/* An empty block's instruction (it crosses a page: native_emit_block):
 * the interpreter fetches, decodes and runs it, and host code goes on
 * through the indirect-branch cache unless the run loop must look first. */
static uint32_t native_step_insn(struct cpu *cpu, const struct tblock *b, uint32_t eip)
{
    uint32_t epoch = cpu->tlb_epoch;
    uint32_t code_epoch = cpu->mem->code_epoch;
    uint32_t rights_epoch = cpu->tlb_rights_epoch;
    struct tcache *tc = cpu->engine->opaque;
    tc->stats.interp_steps++;
    cpu->eip = eip;
    cpu_engine_step(cpu);
    if (cpu->lf.op != LF_NONE)
        lf_materialize(cpu);
    bool leave = cpu->mem->code_epoch != code_epoch || cpu->tlb_epoch != epoch ||
                 cpu->tlb_rights_epoch != rights_epoch || needs_attention(cpu) ||
                 tcache_mode(cpu) != b->mode;
    cpu->jit.mode_changed |= leave;
    return leave;
}

uint32_t native_exec_insn(struct cpu *cpu, const struct tblock *b, uint32_t i, uint32_t eip)
{
    if (b->n == 0)
        return native_step_insn(cpu, b, eip);
    const struct tb_insn *ti = &b->insn[i];
    uint32_t epoch = cpu->tlb_epoch;
    uint32_t code_epoch = cpu->mem->code_epoch;
    uint32_t rights_epoch = cpu->tlb_rights_epoch;
    uint32_t next = (eip + ti->insn.len) & b->eip_mask;
    cpu->eip = eip;
    cpu->next_eip = next;
    bool last = i + 1 == b->n;
    struct tcache *tc = cpu->engine->opaque;
    tc->stats.native_calls_run[ti->insn.op]++;
    if ((last && b->callout) ||
        (!last && (op_info[ti->insn.op].cls & (SENS | PRIV | IOPL | IO)) &&
         scan_callout_continues(ti->insn.op)))
        tc->stats.callouts[ti->insn.op]++;
    ti->fn(cpu, &ti->insn);
    cpu->eip = cpu->next_eip;
    cpu->icount++;
    if (cpu->lf.op != LF_NONE)
        lf_materialize(cpu);
    if (cpu->jit.wide_len) {   /* a check of two pages missed: both entries in the TLB */
        cpu_tlb_prefill_read(cpu, cpu->jit.wide_lin);
        cpu_tlb_prefill_read(cpu, cpu->jit.wide_lin + cpu->jit.wide_len - 1);
        cpu->jit.wide_len = 0;
    }
    if (last) {
        if (b->sync)
            cpu_engine_retire_sync(cpu, &ti->insn);
        cpu->jit.mode_changed = 1;
        return 1;
    }
    if (cpu->jit.force_leave) {   /* a group leader's miss: no addend for the rest */
        tc->stats.native_group_misses++;
        note_group_miss(tc, (struct tblock *)b, i);
    }
    bool leave = cpu->jit.force_leave || cpu->eip != next || cpu->mem->code_epoch != code_epoch ||
                 cpu->tlb_epoch != epoch || cpu->tlb_rights_epoch != rights_epoch ||
                 needs_attention(cpu);
    cpu->jit.force_leave = 0;
    cpu->jit.mode_changed |= leave;
    return leave;
}

/* Chain the jump the last block left through to b when that is sound (see
 * the file comment): same mode, same physical page, no flush since. */
static void try_chain(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t flushes)
{
    const struct tblock *from = cpu->jit.exit_block;
    if (from && flushes == tc->flush_count && from->mode == b->mode &&
        (from->phys >> 12) == (b->phys >> 12) && b->code) {
        x64_patch_rel32(cpu->jit.exit_site, codebuf_to_rw(tc->native->cb, b->code));
        tc->stats.native_patches++;
    }
}

static void enter_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    if (cpu->lf.op != LF_NONE)
        lf_materialize(cpu);
    cpu->jit.icount_end = end;
    cpu->jit.exit_site = NULL;
    cpu->jit.exit_block = NULL;
    uint64_t before = cpu->icount;
    tc->stats.native_enters++;
    tc->native->enter(cpu, b->code);
    tc->stats.insns_run += cpu->icount - before;
}

bool native_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    if (!b->code || cpu->icount + b->n > end)
        return portable_run_block(tc, cpu, b, end);
    /* one block: an entry budget of exactly n stops any chained successor */
    enter_block(tc, cpu, b, cpu->icount + b->n);
    return false;
}

/* Clear the indirect-branch cache if a TLB flush or code write happened
 * since it was filled. */
static void jc_sync(struct native *nt, const struct cpu *cpu)
{
    if (nt->jc_tlb_epoch != cpu->tlb_epoch || nt->jc_code_epoch != cpu->mem->code_epoch) {
        uint32_t space = cpu_tlb_space_version(cpu);
        bool all = nt->jc_global_epoch != cpu->tlb_global_epoch ||
                   nt->jc_code_epoch != cpu->mem->code_epoch;
        if (all || space == 0)
            jc_clear(nt, all);
        nt->jc->space = space;
        nt->jc_tlb_epoch = cpu->tlb_epoch;
        nt->jc_global_epoch = cpu->tlb_global_epoch;
        nt->jc_code_epoch = cpu->mem->code_epoch;
    }
}

static void jc_enter(struct tcache *tc, const struct cpu *cpu, struct tblock *b, const void *code);

/* The block for CS:EIP from the indirect-branch cache, or NULL: a hit is
 * current (no TLB flush, code write or cache flush since it was entered)
 * and spares tcache_find's TLB, generation and hash-chain loads, cache
 * misses all (the run loop is entered millions of times while processes
 * fork and fault). */
static struct tblock *jc_probe(struct tcache *tc, const struct cpu *cpu, uint32_t mode)
{
    struct native *nt = tc->native;
    if (!(mode & TMODE_FLAT4G) || tc->lockstep || tc->map_generation != cpu->mem->generation)
        return NULL;
    jc_sync(nt, cpu);
    const struct native_jc_entry *e = &nt->jc->entry[native_jc_index(cpu->eip)];
    uint64_t key = cpu->eip | (uint64_t)mode << 32;
    if ((e->key == (key | nt->jc->gen_key) && e->space == nt->jc->space) ||
        e->key == (key | nt->jc->global_key)) {
        tc->stats.native_probe_hits++;
        return e->block;
    }
    /* The same EIP in another address space (a forked process running
     * its parent's code), or from before a TLB flush: the block is still
     * the right one when the TLB maps EIP to it now; that check spares
     * the hash table's cache misses, and the entry is keyed anew. */
    struct tblock *b = e->block;
    if ((uint32_t)e->key == cpu->eip && b && tcache_block_current(tc, cpu, b, mode)) {
        tc->stats.native_probe_hits++;
        tc->stats.native_probe_rechecked++;
        jc_enter(tc, cpu, b, e->code);
        return b;
    }
    return NULL;
}

/* Enter b, just found for CS:EIP, in the indirect-branch cache with the
 * host code to run for it (flat modes). */
static void jc_enter(struct tcache *tc, const struct cpu *cpu, struct tblock *b, const void *code)
{
    struct native *nt = tc->native;
    jc_sync(nt, cpu);
    if ((b->mode & TMODE_FLAT4G) && !tc->lockstep)
        nt->jc->entry[native_jc_index(b->eip)] = (struct native_jc_entry){
            .key = b->eip | (uint64_t)b->mode << 32 | jc_key_of(nt->jc, cpu, b->eip),
            .code = code, .block = b, .space = nt->jc->space };
}

static enum cpu_stop native_run(struct cpu *cpu, uint64_t end, void *opaque)
{
    struct tcache *tc = opaque;
    uint32_t mode = tcache_mode(cpu);
    bool chainable = false;      /* the last exit may be patched (no boundary work since) */
    uint64_t flushes = tc->flush_count;
    if (!cpu->fast_wanted && !tc->native->no_window) {
        cpu->fast_wanted = true;   /* (the TLB's flush sets the window up) */
        cpu_tlb_flush(cpu, true);
    }
    while (cpu->icount < end) {
        int r = cpu_engine_boundary(cpu);
        if (__builtin_expect(r != -1, 0)) {
            if (r >= 0)
                return (enum cpu_stop)r;
            mode = tcache_mode(cpu);
            chainable = false;
            continue;
        }
        struct tblock *b = jc_probe(tc, cpu, mode);
        if (!b)
            b = tcache_find(tc, cpu, NULL, mode);
        if (b && b->n == 0 && (!b->code || tc->lockstep || cpu->icount + 1 > end)) {
            /* the interpreter's instruction, run from here */
            if (!b->code)
                jc_enter(tc, cpu, b, codebuf_to_rx(tc->native->cb, tc->native->exit_r10_rw));
            b = NULL;
        }
        if (!b) {
            tc->stats.interp_steps++;
            cpu_engine_step(cpu);
            mode = tcache_mode(cpu);
            chainable = false;
            continue;
        }
        bool completed;
        if (tc->lockstep && tc->lockstep_countdown-- == 0) {
            tc->lockstep_countdown = tc->cfg.lockstep_every > 1 ? tc->cfg.lockstep_every - 1 : 0;
            if (!lockstep_run_block(tc, cpu, b, end, &completed)) {
                cpu->stop_requested = true;
                return CPU_STOP_REQUEST;
            }
            chainable = false;
        } else if (!b->code || cpu->icount + b->n > end) {
            portable_run_block(tc, cpu, b, end);
            chainable = false;
        } else {
            jc_enter(tc, cpu, b, b->code);
            if (chainable && !tc->lockstep)
                try_chain(tc, cpu, b, flushes);
            flushes = tc->flush_count;
            cpu->jit.mode_changed = 0;
            enter_block(tc, cpu, b, end);
            chainable = cpu->jit.exit_site != NULL;
            /* host code changes no mode itself: only an interpreter call
             * that made it leave can have (faults unwind past this loop) */
            if (!cpu->jit.mode_changed)
                continue;
        }
        mode = tcache_mode(cpu);
    }
    return CPU_STOP_BUDGET;
}

#else   /* not an x86-64 host: the backend cannot be created */

struct native *native_create(struct tcache *tc, size_t code_bytes)
{
    (void)tc; (void)code_bytes;
    return NULL;
}
void native_destroy(struct native *nt) { (void)nt; }
void native_flush(struct native *nt) { (void)nt; }
size_t native_code_used(const struct native *nt) { (void)nt; return 0; }
size_t native_code_size(const struct native *nt) { (void)nt; return 0; }
void native_jc_stats(const struct native *nt, uint64_t *hits, uint64_t *misses, uint64_t *clears)
{
    (void)nt;
    *hits = *misses = *clears = 0;
}
void native_host_forms(const struct native *nt, bool *bmi2, bool *undef_flags_computed)
{
    (void)nt;
    *bmi2 = *undef_flags_computed = false;
}
void native_translate(struct tcache *tc, struct cpu *cpu, struct tblock *b)
{
    (void)tc; (void)cpu; (void)b;
}
bool native_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end)
{
    return portable_run_block(tc, cpu, b, end);
}
static enum cpu_stop native_run(struct cpu *cpu, uint64_t end, void *opaque)
{
    (void)cpu; (void)end; (void)opaque;
    return CPU_STOP_REQUEST;
}

#endif

static void native_format_stats(void *opaque, char *buf, size_t len)
{
    tcache_format_stats(opaque, buf, len);
}

struct cpu_engine native_engine(struct tcache *tc)
{
    return (struct cpu_engine){ .name = "native", .run = native_run,
                                .format_stats = native_format_stats, .opaque = tc };
}
