/* core/cpu.h: the virtual x86 CPU (i686 class), passed explicitly everywhere.
 *
 * One struct cpu holds all architectural state: registers, flags (partly
 * lazy, see flags.h), segment descriptor caches, control/debug registers,
 * descriptor-table registers, the x87, MSRs and the virtual time stamp.
 * It reaches memory and ports only through the pointers it was given at
 * cpu_init(); it knows nothing of devices.
 *
 * Faults: an instruction that faults calls cpu_raise(), which unwinds with
 * longjmp to the run loop; the loop delivers the exception. Therefore an
 * exec handler must perform every access that can fault before it commits
 * any architectural state (registers, flags, ESP, EIP).
 *
 * EIP discipline: while an instruction executes, cpu->eip is its first byte
 * and cpu->next_eip the byte after it. Handlers that branch set next_eip;
 * the loop commits eip = next_eip only when the handler returns normally.
 *
 * Usage:
 *   struct cpu cpu;
 *   cpu_init(&cpu, &phys, &io);
 *   cpu_reset(&cpu);
 *   enum cpu_stop why = cpu_run(&cpu, 1000000);
 */
#ifndef FOX86_CPU_H
#define FOX86_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "insn.h"
#include "fpu.h"
#include "mmu/shadow.h"

struct phys_mem;
struct ioport_map;
struct icache;
struct insn;


/* CPUID leaf 1 EAX and EDX after reset: family 6, model 1, stepping 9
 * (a Pentium Pro; the feature list is in cpuid.h). */
#define CPU_SIGNATURE 0x00000619u

/* General registers, in ModRM encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* Segment registers, in ModRM sreg encoding order, then the system ones. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* EFLAGS bits */
enum {
    FL_CF = 1u << 0,  FL_PF = 1u << 2,  FL_AF = 1u << 4,  FL_ZF = 1u << 6,
    FL_SF = 1u << 7,  FL_TF = 1u << 8,  FL_IF = 1u << 9,  FL_DF = 1u << 10,
    FL_OF = 1u << 11, FL_IOPL = 3u << 12, FL_NT = 1u << 14, FL_RF = 1u << 16,
    FL_VM = 1u << 17, FL_AC = 1u << 18, FL_VIF = 1u << 19, FL_VIP = 1u << 20,
    FL_ID = 1u << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 / CR4 bits */
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
    CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
    CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8,
};

/* Exception vectors */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18,
};
#define NO_ERROR_CODE 0xFFFFFFFFu

/* A loaded segment: the hidden descriptor cache, as hardware keeps it. */
struct seg_cache {
    uint16_t sel;      /* visible selector */
    uint32_t base;     /* linear base */
    uint32_t limit;    /* effective byte limit (granularity already applied) */
    uint16_t flags;    /* descriptor bits 40-55: access byte in 0-7, G/D/L/AVL in 12-15 */
    bool     valid;    /* false for a null selector loaded in protected mode */
};
/* seg_cache.flags bits */
enum {
    SEGF_A = 1u << 0, SEGF_RW = 1u << 1, SEGF_DC = 1u << 2, SEGF_CODE = 1u << 3,
    SEGF_S = 1u << 4, SEGF_DPL_SHIFT = 5, SEGF_P = 1u << 7, SEGF_AVL = 1u << 12,
    SEGF_DB = 1u << 14, SEGF_G = 1u << 15,
};

struct dtr {
    uint32_t base;
    uint16_t limit;
};

/* Lazy arithmetic flags: the last flag-setting operation is recorded and
 * CF/PF/AF/ZF/SF/OF are computed only when read (flags.c). */
struct lazy_flags {
    uint32_t result;   /* result of the operation, zero-extended */
    uint32_t src1;     /* first operand */
    uint32_t src2;     /* second operand (or carry-in, shift count ...) */
    uint16_t op;       /* enum lazy_op in flags.h; LF_NONE: eflags holds them */
    uint8_t  size;     /* operand size in bytes */
};

/* One cached linear->physical translation: the CPU's small TLB, the fast
 * path in front of the shadow page tables of mmu/shadow.h (or, with
 * -mmu tlb, of a page walk on every miss). */
struct tlb_entry {
    uint32_t lin_page;    /* linear page number | direct TLB_KIND_* bits (mem.h) */
    uint32_t phys_rights; /* physical page base | TLB_* rights (low 8 bits): 16 bytes an
                             entry, so that host code indexes the TLB with a shift */
    uintptr_t addend;     /* with a host page (plain RAM, ROM): the host address of
                             linear address lin is addend + lin (tlb_host_of in mem.h),
                             so host code adds it to the whole address */
};
/* 4096 entries cover 16 MiB: with 256, xz's 4 MiB dictionary missed the
 * TLB 30 times as often. Flushes stay cheap through the fill log. */
#define TLB_SIZE 4096

enum cpu_stop {
    CPU_STOP_BUDGET = 0,   /* executed the requested number of instructions */
    CPU_STOP_HALT,         /* HLT with interrupts disabled or none pending */
    CPU_STOP_REQUEST,      /* something (a device, the monitor) asked to stop */
    CPU_STOP_TRIPLE_FAULT, /* shutdown: the machine resets or exits */
};

struct cpu;
/* An execution engine other than the interpreter (the translator): the
 * frontend installs one in cpu->engine; core knows only this table.
 * run is called by cpu_run inside its fault scope in place of the
 * interpreter loop, as often as faults unwind to it; it runs until
 * cpu->icount reaches end or a stop (the same contract as the interpreter
 * loop) using the cpu_engine_* helpers below for what it cannot do itself.
 * format_stats writes its counters (--stats layout, several lines). */
struct cpu_engine {
    const char *name;
    enum cpu_stop (*run)(struct cpu *cpu, uint64_t end, void *opaque);
    void (*format_stats)(void *opaque, char *buf, size_t len);
    void *opaque;
};

struct cpu {
    uint32_t gpr[8];               /* EAX..EDI */
    uint32_t eip;                  /* start of the current instruction */
    uint32_t next_eip;             /* start of the next one (see EIP discipline) */
    uint32_t eflags;               /* all bits; arithmetic ones valid only if lf.op == LF_NONE */
    struct lazy_flags lf;

    struct seg_cache seg[SEG_COUNT];
    struct dtr gdtr, idtr;
    uint8_t  cpl;                  /* current privilege level */

    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint32_t perf_evtsel[2];       /* P6 PerfEvtSel0/1: kept, but no event is counted */
    uint64_t perf_ctr[2];          /* P6 PerfCtr0/1 (40 bits) */
    uint64_t tsc_offset;           /* TSC = tsc_offset + clock (1 GHz: one tick per virtual ns) */
    uint64_t (*clock)(const void *opaque); /* virtual ns now; NULL: one ns per instruction */
    const void *clock_opaque;
    uint64_t icount;               /* instructions retired */

    struct fpu fpu;

    struct tlb_entry tlb[TLB_SIZE];
    /* Indices filled with non-global entries since the last flush, so that
     * a CR3 switch clears those instead of scanning the whole TLB; a count
     * above TLB_SIZE means it overflowed (scan). */
    uint16_t tlb_fill_log[TLB_SIZE];
    uint32_t tlb_fill_count;
    uint32_t tlb_large_regions[1024 / 32]; /* 4 MiB regions with TLB_LARGE pieces cached */
    uint32_t tlb_global_chunks[65536 / 32]; /* 64 KiB linear chunks with global fills since
                                               the last full flush (INVLPG of user pages
                                               then leaves tlb_global_epoch alone) */
    uint64_t tlb_generation;       /* phys_mem.generation the TLB was filled under (mem.c) */
    uint32_t tlb_cr0, tlb_cr3, tlb_cr4; /* CR0.PG|WP, CR3, CR4.PSE|PGE it was filled under */
    uint32_t tlb_epoch;            /* bumped by every TLB flush (the run loop's chained fetch) */
    uint32_t tlb_global_epoch;     /* bumped by the flushes that may drop global entries (full
                                      flushes, INVLPG of a page filled global or large): the
                                      translator's indirect-branch cache keeps global pages'
                                      blocks across the others */
    uint32_t tlb_rights_epoch;     /* bumped when direct write access is taken from entries
                                      (mem.c): host code that kept an addend re-checks */
    uint32_t tlb_clean_epoch;      /* phys_mem.clean_epoch last seen (dirty logging, mem.c) */
    struct shadow_mmu *shadow;     /* shadow page tables behind the TLB; NULL: walk on every
                                      miss (-mmu tlb). Not owned (the machine creates it) */
    /* The host window onto the current address space (mmu/fastmem.h),
     * which entries with TLB_KIND_FAST map: NULL and 0 unless fast_wanted,
     * shadow page tables and paging; base 0 until its first page. */
    bool fast_wanted;
    struct shadow_space *fast_space;
    uintptr_t fast_base;
    uint64_t space_since;          /* icount when the current shadow space became current */
    uint64_t fast_at;              /* icount from which the current space, not yet long
                                      lived enough, gets its window (cpu_tlb_sync) */
    struct mmu_stats mmu_stats;    /* TLB and shadow counters (both modes) */
    struct icache *icache;         /* decoded instructions by physical address (cpu.c) */
    /* Observer called before every instruction (tracing: -d in_asm/int).
     * While set, cpu_run interprets instruction by instruction (no engine,
     * no chained fetches); slices keep their length. */
    void (*insn_hook)(struct cpu *cpu, void *opaque);
    void *insn_hook_opaque;
    const struct cpu_engine *engine; /* NULL: the interpreter runs everything. Not owned */
    /* Scratch an engine's generated code reaches at a fixed offset from
     * the CPU pointer (the native translator); core never reads it. */
    struct {
        uint64_t icount_end;       /* run translated blocks only while icount + n <= this */
        uint8_t *exit_site;        /* the unchained jump the last block left through, or NULL */
        const void *exit_block;    /* the block that jump belongs to */
        uint32_t scratch;          /* a value host code keeps across a memory check */
        uint8_t force_leave;       /* set by host code: leave after this interpreter call */
        uint8_t mode_changed;      /* an interpreter call left the block: the mode may differ */
        uint64_t group_addend[4];  /* TLB addends groups of memory operands share */
        uint32_t logic_value;      /* the guest flags are a logic op's on this value */
        uint32_t wide_lin, wide_len; /* a read group's check of two pages missed: its span */
    } jit;

    /* interrupt inputs, driven by devices */
    bool intr;                     /* INTR line level */
    bool nmi_pending;
    bool nmi_blocked;              /* in an NMI handler: NMIs wait until the next IRET clears this */
    int  (*intr_ack)(void *opaque); /* returns the vector of the pending interrupt */
    void *intr_opaque;
    void (*fpu_ferr)(void *opaque, bool level); /* x87 FERR# output (CR0.NE = 0 error route,
                                      IRQ 13 on a PC); NULL if not wired. fpu.c */
    void *fpu_ferr_opaque;
    /* Platform MSRs outside the core (the local APIC's IA32_APIC_BASE,
     * 0x1B): RDMSR/WRMSR of an MSR the CPU itself does not own calls this;
     * it returns false for no such MSR or a reserved bit (#GP(0)). NULL: none. */
    bool (*msr_hook)(void *opaque, uint32_t msr, uint64_t *value, bool write);
    void *msr_opaque;
    /* CPUID leaf 1 as the local APIC makes it (set by the APIC device, not
     * by cpu_reset): EDX.APIC while it is globally enabled, EBX[31:24] its
     * initial APIC ID. */
    bool    cpuid_apic;
    uint8_t cpuid_apic_id;
    bool halted;
    bool stop_requested;
    uint8_t irq_inhibit;           /* interrupt shadow after STI / MOV SS / POP SS */

    /* exception delivery state */
    jmp_buf *fault_env;            /* where cpu_raise unwinds to */
    int      pending_vector;       /* set by cpu_raise for the run loop to deliver */
    uint32_t pending_error;        /* its error code, or NO_ERROR_CODE */
    int      delivering;           /* vector being delivered, -1 if none (double-fault logic) */
    uint64_t exceptions_taken;
    bool     shutdown;             /* triple fault: set (with stop_reason) by the exception code;
                                      cpu_run returns CPU_STOP_TRIPLE_FAULT; cleared by cpu_reset */

    /* where memory and ports are */
    struct phys_mem   *mem;
    struct ioport_map *io;

    /* host-side options */
    bool     no_reboot;            /* triple fault stops instead of resetting */
    char     stop_reason[160];     /* one-line reason for the last CPU_STOP_TRIPLE_FAULT */
};

/* cpu.c: life cycle and the run loop */
/* cpu_init allocates the decoded-instruction cache (aborts if the host is
 * out of memory); cpu_destroy frees it. */
void cpu_init(struct cpu *cpu, struct phys_mem *mem, struct ioport_map *io);
void cpu_destroy(struct cpu *cpu);
void cpu_reset(struct cpu *cpu);             /* power-on state: real mode at F000:FFF0 */
enum cpu_stop cpu_run(struct cpu *cpu, uint64_t max_insns);
void cpu_set_intr(struct cpu *cpu, bool level);
void cpu_raise_nmi(struct cpu *cpu);

/* cpu.c, for execution engines (struct cpu_engine): the interpreter's
 * pieces, so an engine keeps its exact semantics.
 * cpu_engine_boundary: the instruction boundary when something needs
 *   attention (interrupts, NMI, HLT, stop request, single step, DR7, the
 *   interrupt shadow); returns -1 when code may run at cpu->eip, -2 when
 *   it delivered an interrupt or ran one instruction itself (check the
 *   budget and call it again), else an enum cpu_stop. Cheap to call: the
 *   common case is one combined test.
 * cpu_engine_step: fetch, decode and run the one instruction at cpu->eip
 *   as the interpreter does (faults unwind as usual).
 * cpu_engine_handler: the handler the interpreter would run for a decoded
 *   instruction (specialised form, exec_table[op], or #UD / #GP raisers).
 * cpu_engine_retire_sync: what the interpreter does after an instruction
 *   of a class other than 0 or plain CTRL (TLB sync, IRET unblocks NMIs). */
int  cpu_engine_boundary(struct cpu *cpu);
/* The common-case test of cpu_engine_boundary, inline: false when nothing
 * needs attention (then cpu_engine_boundary would return -1). */
static inline bool cpu_engine_needs_attention(const struct cpu *cpu)
{
    return (cpu->stop_requested | cpu->halted | (cpu->irq_inhibit != 0) |
            (cpu->nmi_pending & !cpu->nmi_blocked) |
            (cpu->intr & ((cpu->eflags & FL_IF) != 0))) ||
           (cpu->eflags & (FL_TF | FL_RF)) || (cpu->dr[7] & 0xFF);
}
void cpu_engine_step(struct cpu *cpu);
void (*cpu_engine_handler(const struct insn *in))(struct cpu *, const struct insn *);
void cpu_engine_retire_sync(struct cpu *cpu, const struct insn *in);
uint64_t cpu_clock(const struct cpu *cpu);   /* virtual ns (cpu->clock, or icount) */
uint64_t cpu_tsc(const struct cpu *cpu);

/* savestate_cpu.c: the save-state table of struct cpu (core/savestate.h).
 * cpu_pre_save before saving (materialises lazy flags); cpu_post_load after
 * loading (flushes the TLB and decoded instructions); -1 if inconsistent. */
struct state_desc;
extern const struct state_desc cpu_state_desc;
void cpu_pre_save(struct cpu *cpu);
int  cpu_post_load(struct cpu *cpu);

/* except.c: faults and interrupts.
 * cpu_raise records the exception in pending_vector/pending_error and
 * longjmps to *fault_env; the run loop then calls cpu_deliver_exception,
 * which escalates to #DF and triple fault as hardware does. */
noreturn void cpu_raise(struct cpu *cpu, int vector, uint32_t error_code);
void cpu_deliver_exception(struct cpu *cpu);
/* Deliver an interrupt through the IVT/IDT: external (INTR/NMI), or
 * software (INT n, INT3, INTO: privilege checks against the gate's DPL). */
void cpu_deliver_interrupt(struct cpu *cpu, int vector, bool software, uint32_t error_code);

/* exec_sysinsn.c: I/O permission (IOPL, then the TSS bitmap); raises #GP(0). */
void cpu_check_io(struct cpu *cpu, uint16_t port, int size);

/* flags.c */
uint32_t cpu_get_eflags(struct cpu *cpu);
/* Writes the bits of value selected by mask (no privilege checks here). */
void cpu_set_eflags(struct cpu *cpu, uint32_t value, uint32_t mask);
bool cpu_cond(struct cpu *cpu, int cc);      /* x86 condition code 0-15 */

/* seg.c: segment register loads with all protection checks (raise on failure) */
void cpu_load_seg(struct cpu *cpu, int seg, uint16_t sel);
/* Real-mode / V86 style load: base = sel << 4, no checks. */
void cpu_load_seg_real(struct cpu *cpu, int seg, uint16_t sel);

static inline bool cpu_protected(const struct cpu *cpu) { return cpu->cr0 & CR0_PE; }
static inline bool cpu_v86(const struct cpu *cpu) { return cpu->eflags & FL_VM; }
static inline bool cpu_code32(const struct cpu *cpu) { return cpu->seg[SEG_CS].flags & SEGF_DB; }
static inline bool cpu_stack32(const struct cpu *cpu) { return cpu->seg[SEG_SS].flags & SEGF_DB; }
static inline int  cpu_iopl(const struct cpu *cpu) { return (cpu->eflags >> 12) & 3; }

/* 8/16-bit register views */
static inline uint8_t cpu_reg8(const struct cpu *cpu, int r)
{
    return r < 4 ? (uint8_t)cpu->gpr[r] : (uint8_t)(cpu->gpr[r - 4] >> 8);
}
static inline void cpu_set_reg8(struct cpu *cpu, int r, uint8_t v)
{
    if (r < 4)
        cpu->gpr[r] = (cpu->gpr[r] & ~0xFFu) | v;
    else
        cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xFF00u) | ((uint32_t)v << 8);
}
static inline void cpu_set_reg16(struct cpu *cpu, int r, uint16_t v)
{
    cpu->gpr[r] = (cpu->gpr[r] & ~0xFFFFu) | v;
}

#endif
