/* core/exec_string.c: the string instructions MOVS, CMPS, STOS, LODS, SCAS,
 * INS and OUTS, with and without REP/REPE/REPNE.
 *
 * Operands: the source is seg:eSI (seg = insn.seg, DS unless overridden),
 * the destination always ES:eDI. The element size is 1 for the even opcodes
 * (A4, A6, AA, AC, AE, 6C, 6E) and the operand size otherwise. The address
 * size picks SI/DI/CX or ESI/EDI/ECX; with 16-bit addressing the upper
 * halves are kept and the offsets wrap at 64 KiB. EFLAGS.DF picks the
 * direction.
 *
 * Restartability: each iteration reads, then writes, then commits eSI/eDI
 * (and eCX under REP) before the next begins, so a fault in iteration k
 * leaves the registers as k iterations left them, with EIP still at the
 * instruction (the run loop never commits next_eip on a fault). A handler
 * call runs at most STRING_BATCH iterations; if the count is not exhausted it
 * sets next_eip = eip so the run loop comes back to it after checking for
 * interrupts, as hardware does between iterations.
 *
 * Speed: REP MOVS and REP STOS move whole runs (the iterations that stay
 * on one page of plain, directly writable RAM, inside the segment and the
 * address size) with one memmove/memset-class host operation and commit
 * the registers as that many iterations would; every other iteration
 * (TLB miss, page end, MMIO, pages holding decoded code, watched page
 * tables or clean for dirty logging, #AC, unusual segments) takes the
 * element path above, so faults, notifications and device accesses happen
 * exactly as before. A batch still retires and charges the same count.
 *
 * REP with a zero count does nothing (no memory access; INS/OUTS still check
 * I/O permission first, as the host CPU does).
 * F2 and F3 both mean plain REP for MOVS/STOS/LODS/INS/OUTS; for CMPS/SCAS
 * F3 is REPE (stop when ZF = 0), F2 is REPNE (stop when ZF = 1).
 *
 * Usage: exec_register_string(exec_table) fills this file's rows.
 */
#include "exec.h"
#include "flags.h"
#include "ioport.h"
#include "mem.h"

#include <string.h>

#define STRING_BATCH 4096   /* iterations per handler call */
#define STRING_INLINE static inline __attribute__((always_inline))

/* The per-instruction constants of a string loop. */
struct string_walk {
    uint32_t amask;     /* 0xFFFF or 0xFFFFFFFF: the address size */
    uint32_t step;      /* +size or -size, by DF */
    bool     rep;       /* any REP prefix */
};

STRING_INLINE struct string_walk string_walk(const struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w;
    w.amask = size_mask(in->addrsize);
    w.step = (cpu->eflags & FL_DF) ? (uint32_t)-size : (uint32_t)size;
    w.rep = (in->prefixes & (PFX_REP | PFX_REPNE)) != 0;
    return w;
}

static inline int string_size(const struct insn *in)
{
    return (in->opcode & 1) ? in->opsize : 1;
}

STRING_INLINE void advance(struct cpu *cpu, int reg, const struct string_walk *w)
{
    uint32_t v = cpu->gpr[reg];
    cpu->gpr[reg] = (v & ~w->amask) | ((v + w->step) & w->amask);
}

/* Count one finished iteration under REP; returns the count left. */
STRING_INLINE uint32_t count_down(struct cpu *cpu, const struct string_walk *w)
{
    uint32_t left = ((cpu->gpr[R_ECX] & w->amask) - 1) & w->amask;
    cpu->gpr[R_ECX] = (cpu->gpr[R_ECX] & ~w->amask) | left;
    return left;
}

/* Iterations to run in this call: 1 without REP, else min(count, batch);
 * *more tells whether the REP count goes on past this batch. Every
 * iteration after the first is charged to icount (the run loop counts the
 * first): virtual time then follows the work done, and cpu_run's budget
 * bounds host work (one budget unit was up to 4096 iterations: found by
 * the interpreter fuzzer). */
STRING_INLINE uint32_t batch_of(struct cpu *cpu, const struct string_walk *w, bool *more)
{
    *more = false;
    if (!w->rep)
        return 1;
    uint32_t count = cpu->gpr[R_ECX] & w->amask;
    if (count > STRING_BATCH) {
        *more = true;
        count = STRING_BATCH;
    }
    if (count > 1)
        cpu->icount += count - 1;
    return count;
}

/* Leave EIP at the instruction so the run loop executes it again. */
static inline void come_back(struct cpu *cpu)
{
    cpu->next_eip = cpu->eip;
}

/* ---- whole runs through host memory (REP MOVS / REP STOS) ----
 *
 * A run is the next k iterations of one operand when segmentation and
 * paging would let every one of them through to plain RAM: the segment is
 * the common kind (valid, expand-up, writable data), no element leaves the
 * limit or wraps the address size, all k elements lie on one linear page,
 * the TLB maps that page with the direct kind bit for the access (so it is
 * RAM that holds no decoded code, is not a watched page table and is not
 * clean for dirty logging: those go through entry_write element by
 * element), and no #AC could apply. Anything else, including a TLB miss,
 * is done one element through cpu_read/cpu_write, which fills the TLB,
 * notifies code/shadow/dirty tracking, reaches MMIO and raises the fault
 * on the exact iteration; the registers are always committed before it. */

/* #AC is possible on a misaligned element. */
static inline bool alignment_checked(const struct cpu *cpu)
{
    return (cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC) && cpu->cpl == 3;
}

/* How many of the next `want` elements at seg:off (off already masked to
 * the address size) form a run by segmentation and page bounds; 0 if none.
 * *low_lin is the run's lowest linear address. */
STRING_INLINE uint32_t run_length(const struct cpu *cpu, int seg, uint32_t off, int size,
                                  const struct string_walk *w, uint32_t want, uint32_t *low_lin)
{
    const struct seg_cache *s = &cpu->seg[seg];
    if (!s->valid || (s->flags & (SEGF_CODE | SEGF_DC | SEGF_RW)) != SEGF_RW)
        return 0;
    uint32_t top = s->limit < w->amask ? s->limit : w->amask;   /* last usable offset */
    if ((uint64_t)off + (uint32_t)size - 1 > top)
        return 0;
    uint32_t lin = s->base + off;
    uint32_t in_page = lin & ~TLB_PAGE_MASK;
    if ((lin & ((uint32_t)size - 1)) && alignment_checked(cpu))
        return 0;
    uint32_t k;
    if ((int32_t)w->step > 0) {
        uint64_t by_seg = ((uint64_t)top - off + 1) / (uint32_t)size;   /* up to 2^32 */
        uint32_t by_page = (4096u - in_page) / (uint32_t)size;
        k = by_seg < by_page ? (uint32_t)by_seg : by_page;
        if (k > want)
            k = want;
        *low_lin = lin;
    } else {
        if (in_page + (uint32_t)size > 4096u)
            return 0;
        uint64_t by_seg = (uint64_t)(off / (uint32_t)size) + 1;   /* no wrap below offset 0 */
        uint32_t by_page = in_page / (uint32_t)size + 1;
        k = by_seg < by_page ? (uint32_t)by_seg : by_page;
        if (k > want)
            k = want;
        *low_lin = lin - (k - 1) * (uint32_t)size;
    }
    return k;
}

/* Host pointer to the lowest byte of a run of up to *k elements, shrinking
 * *k to what the segment and page allow; NULL if there is no run. */
STRING_INLINE uint8_t *run_host(struct cpu *cpu, int seg, uint32_t off, int size,
                                const struct string_walk *w, uint32_t *k, unsigned access)
{
    uint32_t low_lin;
    uint32_t n = run_length(cpu, seg, off, size, w, *k, &low_lin);
    if (n == 0)
        return NULL;
    *k = n;
    return tlb_host(cpu, low_lin, n * (uint32_t)size, tlb_kind(cpu, access));
}

/* Commit k iterations at once: eSI/eDI/eCX as k single steps leave them. */
STRING_INLINE void advance_by(struct cpu *cpu, int reg, const struct string_walk *w, uint32_t k)
{
    uint32_t v = cpu->gpr[reg];
    cpu->gpr[reg] = (v & ~w->amask) | ((v + k * w->step) & w->amask);
}

STRING_INLINE void count_down_by(struct cpu *cpu, const struct string_walk *w, uint32_t k)
{
    uint32_t left = ((cpu->gpr[R_ECX] & w->amask) - k) & w->amask;
    cpu->gpr[R_ECX] = (cpu->gpr[R_ECX] & ~w->amask) | left;
}

/* Copy k elements between host runs as the iterations would, in order.
 * memmove equals that unless a later iteration reads bytes an earlier one
 * wrote: forward (DF=0) with dst above src, or backward with dst below,
 * closer than the run. Then an iteration-ordered copy repeats the pattern;
 * chunks of the distance d do it exactly when d >= size (each chunk reads
 * only bytes the previous chunks finished), else go element by element. */
STRING_INLINE void copy_run(uint8_t *dst, const uint8_t *src, uint32_t k, int size, bool forward)
{
    uint32_t bytes = k * (uint32_t)size;
    uintptr_t d_addr = (uintptr_t)dst, s_addr = (uintptr_t)src;
    bool reads_own_writes = forward ? d_addr > s_addr && d_addr - s_addr < bytes
                                    : d_addr < s_addr && s_addr - d_addr < bytes;
    if (!reads_own_writes) {
        memmove(dst, src, bytes);
        return;
    }
    uint32_t dist = (uint32_t)(forward ? d_addr - s_addr : s_addr - d_addr);
    if (dist >= (uint32_t)size) {
        if (forward) {
            for (uint32_t done = 0; done < bytes; done += dist)
                memcpy(dst + done, src + done, bytes - done < dist ? bytes - done : dist);
        } else {
            for (uint32_t left = bytes; left > 0;) {
                uint32_t chunk = left < dist ? left : dist;
                left -= chunk;
                memcpy(dst + left, src + left, chunk);
            }
        }
        return;
    }
    for (uint32_t i = 0; i < k; i++) {
        uint32_t at = forward ? i * (uint32_t)size : (k - 1 - i) * (uint32_t)size;
        uint8_t element[4];
        memcpy(element, src + at, (size_t)size);
        memcpy(dst + at, element, (size_t)size);
    }
}

/* Fill k elements with the low size bytes of v. */
STRING_INLINE void fill_run(uint8_t *dst, uint32_t k, int size, uint32_t v)
{
    if (size == 1 || (size == 2 && (v & 0xFF) == ((v >> 8) & 0xFF)) ||
        (size == 4 && v == (v & 0xFF) * 0x01010101u)) {
        memset(dst, (int)(v & 0xFF), k * (uint32_t)size);
        return;
    }
    for (uint32_t i = 0; i < k; i++)
        memcpy(dst + i * (uint32_t)size, &v, (size_t)size);   /* little-endian host, as mem.c */
}

STRING_INLINE void movs_sized(struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    bool forward = (int32_t)w.step > 0;
    while (n > 0) {
        uint32_t k = n;
        const uint8_t *src = NULL;
        uint8_t *dst = NULL;
        if (w.rep) {
            src = run_host(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size, &w, &k, MEM_READ);
            uint32_t src_k = k;
            if (src)
                dst = run_host(cpu, SEG_ES, cpu->gpr[R_EDI] & w.amask, size, &w, &k, MEM_WRITE);
            if (dst && k < src_k && !forward) {
                /* the destination shortened a backward run: the source
                 * pointer was for the longer run's low end */
                src = run_host(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size, &w, &k, MEM_READ);
            }
        }
        if (src && dst) {
            copy_run(dst, src, k, size, forward);
            advance_by(cpu, R_ESI, &w, k);
            advance_by(cpu, R_EDI, &w, k);
            count_down_by(cpu, &w, k);
            n -= k;
            continue;
        }
        uint32_t v = cpu_read_sized(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size);
        cpu_write_sized(cpu, SEG_ES, cpu->gpr[R_EDI] & w.amask, v, size);
        advance(cpu, R_ESI, &w);
        advance(cpu, R_EDI, &w);
        if (w.rep)
            count_down(cpu, &w);
        n--;
    }
    if (more)
        come_back(cpu);
}

STRING_INLINE void stos_sized(struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    uint32_t v = cpu->gpr[R_EAX];
    while (n > 0) {
        uint32_t k = n;
        uint8_t *dst = w.rep ? run_host(cpu, SEG_ES, cpu->gpr[R_EDI] & w.amask, size, &w, &k, MEM_WRITE)
                             : NULL;
        if (dst) {
            fill_run(dst, k, size, v);
            advance_by(cpu, R_EDI, &w, k);
            count_down_by(cpu, &w, k);
            n -= k;
            continue;
        }
        cpu_write_sized(cpu, SEG_ES, cpu->gpr[R_EDI] & w.amask, v, size);
        advance(cpu, R_EDI, &w);
        if (w.rep)
            count_down(cpu, &w);
        n--;
    }
    if (more)
        come_back(cpu);
}

STRING_INLINE void lods_sized(struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = cpu_read_sized(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size);
        cpu_reg_write(cpu, R_EAX, v, size);
        advance(cpu, R_ESI, &w);
        if (w.rep)
            count_down(cpu, &w);
    }
    if (more)
        come_back(cpu);
}

/* CMPS/SCAS: flags as CMP first - second; REPE/REPNE also stop on ZF. */
STRING_INLINE void compare_sized(struct cpu *cpu, const struct insn *in, int size, bool scas)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    bool stop_when_equal = (in->prefixes & PFX_REPNE) != 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t first = scas ? cpu->gpr[R_EAX] & size_mask(size)
                              : cpu_read_sized(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size);
        uint32_t second = cpu_read_sized(cpu, SEG_ES, cpu->gpr[R_EDI] & w.amask, size);
        lf_set(cpu, LF_SUB, (first - second) & size_mask(size), first, second, size);
        if (!scas)
            advance(cpu, R_ESI, &w);
        advance(cpu, R_EDI, &w);
        if (!w.rep)
            return;
        count_down(cpu, &w);
        if ((first == second) == stop_when_equal)
            return;
    }
    if (more)
        come_back(cpu);
}

STRING_INLINE void ins_sized(struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    uint16_t port = (uint16_t)cpu->gpr[R_EDX];
    cpu_check_io(cpu, port, size);   /* the permission check comes before the count check */
    if (n == 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t di = cpu->gpr[R_EDI] & w.amask;
        cpu_check_access(cpu, SEG_ES, di, (uint32_t)size, MEM_WRITE);  /* before the port read's side effects */
        uint32_t v = ioport_read(cpu->io, port, size);
        cpu_write_sized(cpu, SEG_ES, di, v, size);
        advance(cpu, R_EDI, &w);
        if (w.rep)
            count_down(cpu, &w);
    }
    if (more)
        come_back(cpu);
}

STRING_INLINE void outs_sized(struct cpu *cpu, const struct insn *in, int size)
{
    struct string_walk w = string_walk(cpu, in, size);
    bool more;
    uint32_t n = batch_of(cpu, &w, &more);
    uint16_t port = (uint16_t)cpu->gpr[R_EDX];
    cpu_check_io(cpu, port, size);   /* the permission check comes before the count check */
    if (n == 0)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = cpu_read_sized(cpu, in->seg, cpu->gpr[R_ESI] & w.amask, size);
        ioport_write(cpu->io, port, v, size);
        advance(cpu, R_ESI, &w);
        if (w.rep)
            count_down(cpu, &w);
    }
    if (more)
        come_back(cpu);
}

/* One switch on the element size per instruction; each arm is a copy of the
 * loop specialised for that size. */
#define STRING_HANDLER(NAME, BODY)                                             \
    static void exec_##NAME(struct cpu *cpu, const struct insn *in)           \
    {                                                                          \
        switch (string_size(in)) {                                             \
        case 1:  BODY(cpu, in, 1); break;                                      \
        case 2:  BODY(cpu, in, 2); break;                                      \
        default: BODY(cpu, in, 4); break;                                      \
        }                                                                      \
    }

#define CMPS_BODY(cpu, in, size) compare_sized(cpu, in, size, false)
#define SCAS_BODY(cpu, in, size) compare_sized(cpu, in, size, true)

STRING_HANDLER(movs, movs_sized)
STRING_HANDLER(stos, stos_sized)
STRING_HANDLER(lods, lods_sized)
STRING_HANDLER(cmps, CMPS_BODY)
STRING_HANDLER(scas, SCAS_BODY)
STRING_HANDLER(ins, ins_sized)
STRING_HANDLER(outs, outs_sized)

void exec_register_string(exec_fn *table)
{
    table[OP_MOVS] = exec_movs;
    table[OP_CMPS] = exec_cmps;
    table[OP_STOS] = exec_stos;
    table[OP_LODS] = exec_lods;
    table[OP_SCAS] = exec_scas;
    table[OP_INS] = exec_ins;
    table[OP_OUTS] = exec_outs;
}
