/* core/mem.c: guest memory as the CPU sees it (contract in mem.h).
 *
 * Each access goes segment:offset -> linear -> physical:
 *   1. segmentation: a data segment that is present, expand-up and writable
 *      (the usual flat or real-mode segment) is checked inline with one
 *      limit compare; everything else (code segments, expand-down, null
 *      selectors, rights violations) takes seg_linear_slow;
 *   2. paging: the direct-mapped TLB in cpu->tlb (layout in mem.h). A hit
 *      is an index, one masked compare of the tag against the page of the
 *      access's last byte and the kind bit, and a host load or store. A miss
 *      looks in the current shadow page table (mmu/shadow.h) and, if that
 *      does not allow the access, walks (mmu/walk.c) and stores the result
 *      there; with -mmu tlb (cpu->shadow NULL) it always walks; with paging
 *      off it maps identity. The entry keeps a host pointer for plain RAM
 *      (and, for reads, ROM); MMIO and ROM writes go through
 *      phys_read/phys_write;
 *   3. an access crossing a page translates both pages before touching
 *      either, then moves its bytes piecewise.
 *
 * Invariants:
 *   - a kind bit is in lin_page only if host is set and valid for it;
 *   - write kinds only for mappings whose D bit is already set; direct
 *     write kinds only for pages not holding decoded code, not watched
 *     as page tables and not clean for dirty logging
 *     (PHYS_PAGE_NO_DIRECT_WRITE): a store to one goes through
 *     entry_write, which invalidates the code (phys_code_written), writes,
 *     marks the page dirty, reports the write to the shadows
 *     (phys_watch_written), and makes the page direct again once none
 *     applies; pages made clean are noticed at the next cpu_tlb_sync;
 *   - entries are dropped when CR0.PG/WP, CR3, CR4.PSE/PGE or the
 *     physical map change (cpu_tlb_sync, called on every miss); the shadow
 *     space follows CR3 and the mode bits, and is emptied when the
 *     physical map changes. The shadow is kept equal to a fresh walk by
 *     write-watching, so CR3 writes and INVLPG only touch this TLB;
 *   - faults are raised before any byte is stored; CR2 holds the first
 *     byte of the access on the page that failed.
 */
#include "mem.h"

#include <string.h>

#include "mmu/phys.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"

#define PAGE_SIZE 4096u
#define TLB_KIND_WRITES (TLB_KIND_WRITE_SUP | TLB_KIND_WRITE_USER)
#define TLB_INDEX(lin) (((lin) >> 12) % TLB_SIZE)

_Static_assert((unsigned)SHADOW_READ_SUP == (unsigned)TLB_KIND_READ_SUP &&
               (unsigned)SHADOW_WRITE_SUP == (unsigned)TLB_KIND_WRITE_SUP &&
               (unsigned)SHADOW_READ_USER == (unsigned)TLB_KIND_READ_USER &&
               (unsigned)SHADOW_WRITE_USER == (unsigned)TLB_KIND_WRITE_USER,
               "shadow entries carry TLB kind bits as they are");

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- TLB maintenance ---- */

/* Drop TLB_KIND_FAST everywhere, then every page of every window. Host
 * code that kept the window's base leaves the block (tlb_rights_epoch). */
static void tlb_fast_clear(struct cpu *cpu)
{
    cpu->tlb_rights_epoch++;
    for (int i = 0; i < TLB_SIZE; i++)
        cpu->tlb[i].lin_page &= ~(uint32_t)TLB_KIND_FAST;
    shadow_fast_clear(cpu->shadow);
    cpu->fast_base = (uintptr_t)cpu->fast_space->fast.base;
}

/* TLB_KIND_FAST if the current window maps lin's page to RAM page phys,
 * mapping it there first if needed (when all windows are full, they are
 * emptied first); 0 if the host refused. */
static unsigned tlb_fast(struct cpu *cpu, uint32_t lin, uint32_t phys)
{
    struct shadow_space *sp = cpu->fast_space;
    if (fastmem_has(&sp->fast, lin, phys))
        return TLB_KIND_FAST;
    /* (a group's check in host code may have found the page there before
     * its mapping changed, without a flush: such code leaves the block) */
    cpu->tlb_rights_epoch++;
    if (!shadow_fast_map(cpu->shadow, sp, lin, phys)) {
        if (cpu->shadow->stats->fast_pages_now < cpu->shadow->fast_max_pages)
            return 0;
        tlb_fast_clear(cpu);
        if (!shadow_fast_map(cpu->shadow, sp, lin, phys))
            return 0;
    }
    cpu->fast_base = (uintptr_t)sp->fast.base;
    return TLB_KIND_FAST;
}

/* Make e translate lin's page to guest-physical phys with rights (TLB_KIND_*
 * with TLB_GLOBAL, TLB_LARGE), host access as RAM or ROM allow; a user
 * page of RAM also through the current window (TLB_KIND_FAST), which is
 * never used for a global page: a CR3 switch keeps those entries but
 * changes the window. */
static struct tlb_entry *tlb_install(struct cpu *cpu, struct tlb_entry *e, uint32_t lin,
                                     uint32_t phys, unsigned rights)
{
    phys &= cpu->mem->a20_mask;
    unsigned direct = 0;
    uint8_t *host = phys_ram_page(cpu->mem, phys);
    if (host) {
        rights |= TLB_RAM;
        direct = rights & TLB_KIND_ALL;
        if (phys_page_flags(cpu->mem, phys) & PHYS_PAGE_NO_DIRECT_WRITE)
            direct &= ~(unsigned)TLB_KIND_WRITES;
    } else if ((host = (uint8_t *)phys_readable_page(cpu->mem, phys)) != NULL) {
        direct = rights & (TLB_KIND_READ_SUP | TLB_KIND_READ_USER);
    }
    if ((direct & TLB_KIND_READ_USER) && cpu->fast_space && !(rights & TLB_GLOBAL) &&
        (uint64_t)phys + PAGE_SIZE <= cpu->mem->ram_size && host == cpu->mem->ram + phys)
        direct |= tlb_fast(cpu, lin, phys);
    e->lin_page = (lin & TLB_PAGE_MASK) | direct;
    e->phys_rights = phys | rights;
    e->addend = host ? (uintptr_t)host - (lin & TLB_PAGE_MASK) : 0;
    if (rights & TLB_GLOBAL) {
        cpu->tlb_global_chunks[lin >> 21] |= 1u << ((lin >> 16) % 32);
    } else {
        if (cpu->tlb_fill_count < TLB_SIZE)
            cpu->tlb_fill_log[cpu->tlb_fill_count] = (uint16_t)(e - cpu->tlb);
        if (cpu->tlb_fill_count <= TLB_SIZE)
            cpu->tlb_fill_count++;
    }
    if (rights & TLB_LARGE)
        cpu->tlb_large_regions[lin >> 27] |= 1u << ((lin >> 22) % 32);
    return e;
}

/* The TLB rights of shadow entry se. */
static unsigned tlb_rights_of_shadow(const struct cpu *cpu, uint32_t se)
{
    unsigned rights = se & TLB_KIND_ALL;
    if ((se & SHADOW_GLOBAL) && (cpu->cr4 & CR4_PGE))
        rights |= TLB_GLOBAL;
    if (se & SHADOW_LARGE)
        rights |= TLB_LARGE;
    return rights;
}

/* Switching away from the shadow space sp: remember the linear pages of
 * the non-global entries filled under it that are still in the TLB (the
 * most recent SHADOW_HOT_PAGES; the fill log lists them, duplicates and
 * overwritten entries included). */
static void tlb_remember_hot(struct cpu *cpu, struct shadow_space *sp)
{
    uint32_t n = cpu->tlb_fill_count, first = 0, nhot = 0;
    if (n > TLB_SIZE)
        n = 0;   /* the log overflowed: remember nothing */
    if (n > SHADOW_HOT_PAGES)
        first = n - SHADOW_HOT_PAGES;
    for (uint32_t k = first; k < n; k++) {
        struct tlb_entry *e = &cpu->tlb[cpu->tlb_fill_log[k]];
        unsigned rights = tlb_rights(e);
        /* marked so a page logged twice is remembered once (the flush
         * that follows clears the entry anyway) */
        if ((rights & TLB_KIND_ALL) && !(rights & (TLB_GLOBAL | TLB_HOT_SEEN))) {
            sp->hot[nhot++] = e->lin_page & TLB_PAGE_MASK;
            e->phys_rights |= TLB_HOT_SEEN;
        }
    }
    sp->nhot = nhot;
}

/* Switched back to a shadow space: refill the TLB with the pages it used
 * last time, as far as the shadow still maps them (the shadow is kept
 * coherent with the guest's tables, so this is what a walk would give;
 * the A and D bits were set by the walks that made these entries). */
static void tlb_refill_hot(struct cpu *cpu, const struct shadow_space *sp)
{
    for (uint32_t i = 0; i < sp->nhot; i++) {
        uint32_t lin = sp->hot[i];
        uint32_t se = shadow_lookup(cpu->shadow, lin);
        if (!(se & SHADOW_KINDS))
            continue;
        tlb_install(cpu, &cpu->tlb[TLB_INDEX(lin)], lin, se & TLB_PAGE_MASK,
                    tlb_rights_of_shadow(cpu, se));
        cpu->mmu_stats.tlb_prefills++;
    }
}


static void tlb_clear(struct tlb_entry *e)
{
    e->lin_page = 0;
    e->phys_rights = 0;
    e->addend = 0;
}

/* After a flush (which took every entry that may use the window): the
 * window of the current space, if the translator wants windows and the
 * space has run long enough; else when it will have (fast_at). */
static void tlb_window_select(struct cpu *cpu)
{
    struct shadow_space *sp = cpu->fast_wanted && cpu->shadow ? cpu->shadow->current : NULL;
    uint64_t after = cpu->shadow ? cpu->shadow->fast_after_insns : 0;
    cpu->fast_space = sp && sp->ran >= after ? sp : NULL;
    cpu->fast_base = cpu->fast_space ? (uintptr_t)cpu->fast_space->fast.base : 0;
    cpu->fast_at = sp && !cpu->fast_space ? cpu->icount + (after - sp->ran) : UINT64_MAX;
}

void cpu_tlb_flush(struct cpu *cpu, bool include_global)
{
    cpu->tlb_epoch++;
    bool cr3_changed = ((cpu->cr3 ^ cpu->tlb_cr3) & TLB_PAGE_MASK) != 0;
    if (cr3_changed && !include_global && cpu->shadow && cpu->shadow->current)
        tlb_remember_hot(cpu, cpu->shadow->current);
    if (include_global) {
        cpu->tlb_global_epoch++;
        memset(cpu->tlb, 0, sizeof(cpu->tlb));
        memset(cpu->tlb_large_regions, 0, sizeof(cpu->tlb_large_regions));
        memset(cpu->tlb_global_chunks, 0, sizeof(cpu->tlb_global_chunks));
    } else if (cpu->tlb_fill_count <= TLB_SIZE) {
        /* only the entries filled since the last flush can be non-global */
        for (uint32_t k = 0; k < cpu->tlb_fill_count; k++) {
            struct tlb_entry *e = &cpu->tlb[cpu->tlb_fill_log[k]];
            if (!(tlb_rights(e) & TLB_GLOBAL))
                tlb_clear(e);
        }
    } else {
        for (int i = 0; i < TLB_SIZE; i++)
            if (!(tlb_rights(&cpu->tlb[i]) & TLB_GLOBAL))
                tlb_clear(&cpu->tlb[i]);
    }
    cpu->tlb_fill_count = 0;
    if (cr3_changed)
        cpu->mmu_stats.cr3_switches++;
    cpu->tlb_cr3 = cpu->cr3;
    if (include_global) {
        cpu->mmu_stats.full_flushes++;
        if (cpu->shadow && cpu->tlb_generation != cpu->mem->generation)
            shadow_drop_all(cpu->shadow);
        cpu->tlb_cr0 = cpu->cr0 & (CR0_PG | CR0_WP);
        cpu->tlb_cr4 = cpu->cr4 & (CR4_PSE | CR4_PGE);
        cpu->tlb_generation = cpu->mem->generation;
    }
    if (cpu->shadow && cpu->shadow->current)
        cpu->shadow->current->ran += cpu->icount - cpu->space_since;
    bool reused = cpu->shadow && shadow_activate(cpu->shadow, cpu->cr0, cpu->cr3, cpu->cr4);
    cpu->space_since = cpu->icount;
    tlb_window_select(cpu);
    if (reused && cr3_changed) {
        cpu->mmu_stats.cr3_reuses++;
        if (!include_global)
            tlb_refill_hot(cpu, cpu->shadow->current);
    }
}

void cpu_tlb_flush_page(struct cpu *cpu, uint32_t lin)
{
    cpu->tlb_epoch++;
    uint32_t chunk = lin >> 16, region = lin >> 22;
    if ((cpu->tlb_global_chunks[chunk / 32] & (1u << (chunk % 32))) ||
        (cpu->tlb_large_regions[region / 32] & (1u << (region % 32))))
        cpu->tlb_global_epoch++;
    struct tlb_entry *e = &cpu->tlb[TLB_INDEX(lin)];
    if ((e->lin_page & TLB_PAGE_MASK) == (lin & TLB_PAGE_MASK))
        tlb_clear(e);
    /* a 4 MiB page is cached as 4 KiB pieces: drop every piece of it (the
     * region's 1024 pages have 1024 consecutive indices, mod TLB_SIZE) */
    if (cpu->tlb_large_regions[region / 32] & (1u << (region % 32))) {
        uint32_t first = TLB_INDEX(lin & 0xFFC00000u);
        for (uint32_t k = 0; k < 1024; k++) {
            e = &cpu->tlb[(first + k) % TLB_SIZE];
            if ((tlb_rights(e) & TLB_LARGE) && ((e->lin_page ^ lin) & 0xFFC00000u) == 0)
                tlb_clear(e);
        }
        cpu->tlb_large_regions[region / 32] &= ~(1u << (region % 32));
    }
}

/* Take the direct write kinds away from every entry mapping phys_page. */
static void tlb_drop_direct_writes(struct cpu *cpu, uint32_t phys_page)
{
    cpu->tlb_rights_epoch++;
    for (int i = 0; i < TLB_SIZE; i++)
        if (tlb_phys(&cpu->tlb[i]) == phys_page)
            cpu->tlb[i].lin_page &= ~(uint32_t)TLB_KIND_WRITES;
}

uint32_t cpu_tlb_space_version(const struct cpu *cpu)
{
    if (!cpu->shadow || !cpu->shadow->current || !(cpu->cr0 & CR0_PG))
        return 0;
    return cpu->shadow->current->version;
}

void cpu_tlb_protect_code(struct cpu *cpu, uint32_t phys, uint32_t len)
{
    bool was_code = phys_code_marked(cpu->mem, phys);
    phys_mark_code(cpu->mem, phys, len);
    if (!was_code)
        tlb_drop_direct_writes(cpu, phys & TLB_PAGE_MASK);
}

/* Dirty logging made pages clean: their first store must reach the slow
 * path again (entry_write marks them dirty). */
static __attribute__((noinline)) void tlb_drop_clean_writes(struct cpu *cpu)
{
    cpu->tlb_clean_epoch = cpu->mem->clean_epoch;
    cpu->tlb_rights_epoch++;
    for (int i = 0; i < TLB_SIZE; i++) {
        struct tlb_entry *e = &cpu->tlb[i];
        if ((e->lin_page & TLB_KIND_WRITES) &&
            (phys_page_flags(cpu->mem, tlb_phys(e)) & PHYS_PAGE_NO_DIRECT_WRITE))
            e->lin_page &= ~(uint32_t)TLB_KIND_WRITES;
    }
}

void cpu_tlb_sync(struct cpu *cpu)
{
    if (cpu->tlb_clean_epoch != cpu->mem->clean_epoch)
        tlb_drop_clean_writes(cpu);
    if (cpu->tlb_generation != cpu->mem->generation ||
        cpu->tlb_cr0 != (cpu->cr0 & (CR0_PG | CR0_WP)) ||
        cpu->tlb_cr4 != (cpu->cr4 & (CR4_PSE | CR4_PGE)))
        cpu_tlb_flush(cpu, true);
    else if (cpu->tlb_cr3 != cpu->cr3 || cpu->icount >= cpu->fast_at)
        cpu_tlb_flush(cpu, false);   /* (the second: the space's window starts) */
}

/* Fill the entry for lin so that it allows kind, walking the page tables
 * if paging is on. On a failed walk: raise #PF, or return NULL if !raise. */
static struct tlb_entry *tlb_fill(struct cpu *cpu, struct tlb_entry *e, uint32_t lin,
                                  unsigned kind, bool raise)
{
    uint32_t phys;
    unsigned rights;
    cpu->mmu_stats.l1_misses++;
    if (!(cpu->cr0 & CR0_PG)) {
        phys = lin & TLB_PAGE_MASK;
        rights = TLB_KIND_ALL;
    } else if (cpu->shadow) {
        uint32_t se = shadow_lookup(cpu->shadow, lin);
        if (se & kind) {
            cpu->mmu_stats.shadow_hits++;
        } else {
            unsigned access = ((kind & TLB_KIND_WRITES) ? WALK_WRITE : 0) |
                              ((kind & (TLB_KIND_READ_USER | TLB_KIND_WRITE_USER)) ? WALK_USER : 0);
            struct walk_result w;
            uint32_t new_watch[2];
            int nnew;
            if (!shadow_walk(cpu->shadow, cpu->cr0, cpu->cr3, cpu->cr4, lin, access, &w, &se,
                             new_watch, &nnew)) {
                if (!raise)
                    return NULL;
                cpu->cr2 = lin;
                cpu_raise(cpu, EXC_PF, w.error);
            }
            /* page tables now watched: stores to them must trap */
            for (int i = 0; i < nnew; i++)
                tlb_drop_direct_writes(cpu, new_watch[i]);
        }
        phys = se & TLB_PAGE_MASK;
        rights = tlb_rights_of_shadow(cpu, se);
    } else {
        cpu->mmu_stats.walks++;
        unsigned access = ((kind & (TLB_KIND_WRITE_SUP | TLB_KIND_WRITE_USER)) ? WALK_WRITE : 0) |
                          ((kind & (TLB_KIND_READ_USER | TLB_KIND_WRITE_USER)) ? WALK_USER : 0);
        struct walk_result w;
        if (!mmu_walk(cpu->mem, cpu->cr0, cpu->cr3, cpu->cr4, lin, access, &w)) {
            if (!raise)
                return NULL;
            cpu->cr2 = lin;
            cpu_raise(cpu, EXC_PF, w.error);
        }
        phys = w.paddr & TLB_PAGE_MASK;
        rights = TLB_KIND_READ_SUP;
        if (w.dirty && (w.writable || !(cpu->cr0 & CR0_WP)))
            rights |= TLB_KIND_WRITE_SUP;
        if (w.user)
            rights |= TLB_KIND_READ_USER;
        if (w.user && w.writable && w.dirty)
            rights |= TLB_KIND_WRITE_USER;
        if (w.global)
            rights |= TLB_GLOBAL;
        if (w.page_size == WALK_PAGE_4M)
            rights |= TLB_LARGE;
    }
    return tlb_install(cpu, e, lin, phys, rights);
}

/* The entry translating lin for kind (from the TLB, or filled). */
static struct tlb_entry *tlb_translate(struct cpu *cpu, uint32_t lin, unsigned kind, bool raise)
{
    cpu_tlb_sync(cpu);
    struct tlb_entry *e = &cpu->tlb[TLB_INDEX(lin)];
    if ((e->lin_page & TLB_PAGE_MASK) == (lin & TLB_PAGE_MASK) && (tlb_rights(e) & kind))
        return e;
    return tlb_fill(cpu, e, lin, kind, raise);
}

bool cpu_tlb_prefill_read(struct cpu *cpu, uint32_t lin)
{
    return tlb_translate(cpu, lin, tlb_kind(cpu, MEM_READ), false) != NULL;
}

/* ---- moving bytes through one translated page ---- */

/* n bytes (1..8) at lin, all on e's page. */
static uint64_t entry_read(struct cpu *cpu, const struct tlb_entry *e, uint32_t lin,
                           uint32_t n, unsigned kind)
{
    uint32_t off = lin & ~TLB_PAGE_MASK;
    uint64_t v = 0;
    if (e->lin_page & kind) {
        memcpy(&v, tlb_host_of(e, lin), n);
        return v;
    }
    uint32_t paddr = tlb_phys(e) | off;
    for (uint32_t done = 0; done < n;) {
        int size = n - done >= 4 ? 4 : n - done >= 2 ? 2 : 1;
        v |= (uint64_t)phys_read(cpu->mem, paddr + done, size) << (8 * done);
        done += (uint32_t)size;
    }
    return v;
}

static void entry_write(struct cpu *cpu, struct tlb_entry *e, uint32_t lin,
                        uint32_t n, uint64_t v, unsigned kind)
{
    uint32_t off = lin & ~TLB_PAGE_MASK;
    if (e->lin_page & kind) {
        memcpy(tlb_host_of(e, lin), &v, n);
        return;
    }
    if (tlb_rights(e) & TLB_RAM) {
        /* RAM holding decoded code, watched page tables or clean for dirty
         * logging: invalidate the code, write, mark dirty, report to the
         * shadows; direct again once none applies */
        phys_code_written_range(cpu->mem, tlb_phys(e) | off, n);
        memcpy(tlb_host_of(e, lin), &v, n);
        phys_mark_dirty(cpu->mem, tlb_phys(e));
        phys_watch_written(cpu->mem, tlb_phys(e) | off, n);
        if (!(phys_page_flags(cpu->mem, tlb_phys(e)) & PHYS_PAGE_NO_DIRECT_WRITE))
            e->lin_page |= tlb_rights(e) & TLB_KIND_WRITES;
        return;
    }
    uint32_t paddr = tlb_phys(e) | off;
    for (uint32_t done = 0; done < n;) {
        int size = n - done >= 4 ? 4 : n - done >= 2 ? 2 : 1;
        phys_write(cpu->mem, paddr + done, (uint32_t)(v >> (8 * done)), size);
        done += (uint32_t)size;
    }
    /* a device write may have remapped memory (PCI BARs, A20 ...) */
    if (cpu->mem->generation != cpu->tlb_generation)
        cpu_tlb_flush(cpu, true);
}

/* ---- linear accesses: slow paths ---- */

static __attribute__((noinline)) uint64_t lin_read_slow(struct cpu *cpu, uint32_t lin,
                                                         uint32_t len, unsigned kind)
{
    uint32_t first = PAGE_SIZE - (lin & ~TLB_PAGE_MASK);
    if (first >= len)
        return entry_read(cpu, tlb_translate(cpu, lin, kind, true), lin, len, kind);
    struct tlb_entry e1 = *tlb_translate(cpu, lin, kind, true);
    const struct tlb_entry *e2 = tlb_translate(cpu, lin + first, kind, true);
    uint64_t lo = entry_read(cpu, &e1, lin, first, kind);
    uint64_t hi = entry_read(cpu, e2, lin + first, len - first, kind);
    return lo | hi << (8 * first);
}

static __attribute__((noinline)) void lin_write_slow(struct cpu *cpu, uint32_t lin,
                                                     uint32_t len, uint64_t v, unsigned kind)
{
    uint32_t first = PAGE_SIZE - (lin & ~TLB_PAGE_MASK);
    if (first >= len) {
        entry_write(cpu, tlb_translate(cpu, lin, kind, true), lin, len, v, kind);
        return;
    }
    struct tlb_entry e1 = *tlb_translate(cpu, lin, kind, true);
    struct tlb_entry *e2 = tlb_translate(cpu, lin + first, kind, true);
    /* the second walk may have started watching the first page */
    if ((tlb_rights(&e1) & TLB_RAM) && (phys_page_flags(cpu->mem, tlb_phys(&e1)) & PHYS_PAGE_NO_DIRECT_WRITE))
        e1.lin_page &= ~(uint32_t)TLB_KIND_WRITES;
    entry_write(cpu, &e1, lin, first, v, kind);
    entry_write(cpu, e2, lin + first, len - first, v >> (8 * first), kind);
}

/* Translate every page of [lin, lin+len) for access, raising the first fault. */
static void lin_probe(struct cpu *cpu, uint32_t lin, uint32_t len, unsigned access)
{
    unsigned kind = tlb_kind(cpu, access);
    uint32_t pages = ((lin & ~TLB_PAGE_MASK) + len - 1) / PAGE_SIZE + 1;
    for (uint32_t i = 0; i < pages; i++) {
        uint32_t at = i == 0 ? lin : (lin & TLB_PAGE_MASK) + i * PAGE_SIZE;
        tlb_translate(cpu, at, kind, true);
    }
}

static inline uint64_t lin_read(struct cpu *cpu, uint32_t lin, uint32_t len, unsigned kind)
{
    const uint8_t *p = tlb_host(cpu, lin, len, kind);
    if (likely(p != NULL)) {
        uint64_t v = 0;
        memcpy(&v, p, len);
        return v;
    }
    return lin_read_slow(cpu, lin, len, kind);
}

static inline void lin_write(struct cpu *cpu, uint32_t lin, uint32_t len, uint64_t v, unsigned kind)
{
    uint8_t *p = tlb_host(cpu, lin, len, kind);
    if (likely(p != NULL))
        memcpy(p, &v, len);
    else
        lin_write_slow(cpu, lin, len, v, kind);
}

/* ---- segmentation ---- */

static __attribute__((noinline)) uint32_t seg_linear_slow(struct cpu *cpu, int seg, uint32_t off,
                                                          uint32_t len, unsigned access)
{
    const struct seg_cache *s = &cpu->seg[seg];
    int vector = seg == SEG_SS ? EXC_SS : EXC_GP;
    uint16_t flags = s->flags;
    bool code = flags & SEGF_CODE;
    if (cpu_protected(cpu) && !cpu_v86(cpu)) {
        if (!s->valid)
            cpu_raise(cpu, vector, 0);
        bool denied = (access & MEM_EXEC) ? !code
                    : (access & MEM_WRITE) ? code || !(flags & SEGF_RW)
                    : code && !(flags & SEGF_RW);
        if (denied)
            cpu_raise(cpu, vector, 0);
    }
    uint64_t last = (uint64_t)off + len - 1;
    bool inside;
    if (!code && (flags & SEGF_DC)) {
        uint32_t upper = (flags & SEGF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        inside = off > s->limit && last <= upper;
    } else {
        inside = last <= s->limit;
    }
    if (!inside)
        cpu_raise(cpu, vector, 0);
    return s->base + off;
}

/* Linear address of len bytes at seg:off, after all segment checks. */
static inline uint32_t seg_linear(struct cpu *cpu, int seg, uint32_t off, uint32_t len,
                                  unsigned access)
{
    const struct seg_cache *s = &cpu->seg[seg];
    if (likely(s->valid && (s->flags & (SEGF_CODE | SEGF_DC | SEGF_RW)) == SEGF_RW &&
               (uint64_t)off + (len - 1) <= s->limit))
        return s->base + off;
    return seg_linear_slow(cpu, seg, off, len, access);
}

/* #AC(0) for a misaligned access at CPL 3 with CR0.AM and EFLAGS.AC; page
 * faults on the same access are reported first. */
static __attribute__((noinline)) void mem_misaligned(struct cpu *cpu, uint32_t lin, uint32_t len,
                                                     unsigned access)
{
    if ((cpu->cr0 & CR0_AM) && (cpu->eflags & FL_AC) && cpu->cpl == 3) {
        lin_probe(cpu, lin, len, access);
        cpu_raise(cpu, EXC_AC, 0);
    }
}

static inline uint64_t seg_read(struct cpu *cpu, int seg, uint32_t off, uint32_t len)
{
    uint32_t lin = seg_linear(cpu, seg, off, len, MEM_READ);
    if (unlikely(lin & (len - 1)))
        mem_misaligned(cpu, lin, len, MEM_READ);
    return lin_read(cpu, lin, len, tlb_kind(cpu, MEM_READ));
}

static inline void seg_write(struct cpu *cpu, int seg, uint32_t off, uint32_t len, uint64_t v)
{
    uint32_t lin = seg_linear(cpu, seg, off, len, MEM_WRITE);
    if (unlikely(lin & (len - 1)))
        mem_misaligned(cpu, lin, len, MEM_WRITE);
    lin_write(cpu, lin, len, v, tlb_kind(cpu, MEM_WRITE));
}

/* ---- the API ---- */

uint8_t  cpu_read8 (struct cpu *cpu, int seg, uint32_t off) { return (uint8_t)seg_read(cpu, seg, off, 1); }
uint16_t cpu_read16(struct cpu *cpu, int seg, uint32_t off) { return (uint16_t)seg_read(cpu, seg, off, 2); }
uint32_t cpu_read32(struct cpu *cpu, int seg, uint32_t off) { return (uint32_t)seg_read(cpu, seg, off, 4); }
uint64_t cpu_read64(struct cpu *cpu, int seg, uint32_t off) { return seg_read(cpu, seg, off, 8); }
void cpu_write8 (struct cpu *cpu, int seg, uint32_t off, uint8_t v)  { seg_write(cpu, seg, off, 1, v); }
void cpu_write16(struct cpu *cpu, int seg, uint32_t off, uint16_t v) { seg_write(cpu, seg, off, 2, v); }
void cpu_write32(struct cpu *cpu, int seg, uint32_t off, uint32_t v) { seg_write(cpu, seg, off, 4, v); }
void cpu_write64(struct cpu *cpu, int seg, uint32_t off, uint64_t v) { seg_write(cpu, seg, off, 8, v); }

void cpu_check_access(struct cpu *cpu, int seg, uint32_t off, uint32_t len, unsigned access)
{
    if (len == 0)
        return;
    uint32_t lin = seg_linear(cpu, seg, off, len, access);
    lin_probe(cpu, lin, len, access);
}

uint8_t cpu_lin_read8(struct cpu *cpu, uint32_t lin, unsigned access)
{
    return (uint8_t)lin_read(cpu, lin, 1, tlb_kind(cpu, access & ~MEM_WRITE));
}
uint16_t cpu_lin_read16(struct cpu *cpu, uint32_t lin, unsigned access)
{
    return (uint16_t)lin_read(cpu, lin, 2, tlb_kind(cpu, access & ~MEM_WRITE));
}
uint32_t cpu_lin_read32(struct cpu *cpu, uint32_t lin, unsigned access)
{
    return (uint32_t)lin_read(cpu, lin, 4, tlb_kind(cpu, access & ~MEM_WRITE));
}
void cpu_lin_write8(struct cpu *cpu, uint32_t lin, uint8_t v, unsigned access)
{
    lin_write(cpu, lin, 1, v, tlb_kind(cpu, access | MEM_WRITE));
}
void cpu_lin_write16(struct cpu *cpu, uint32_t lin, uint16_t v, unsigned access)
{
    lin_write(cpu, lin, 2, v, tlb_kind(cpu, access | MEM_WRITE));
}
void cpu_lin_write32(struct cpu *cpu, uint32_t lin, uint32_t v, unsigned access)
{
    lin_write(cpu, lin, 4, v, tlb_kind(cpu, access | MEM_WRITE));
}

size_t cpu_fetch_code(struct cpu *cpu, uint32_t eip, uint8_t *buf, size_t len)
{
    const struct seg_cache *cs = &cpu->seg[SEG_CS];
    if (eip > cs->limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint64_t room = (uint64_t)cs->limit - eip + 1;
    if (len > room)
        len = (size_t)room;
    unsigned kind = tlb_kind(cpu, MEM_READ);
    size_t done = 0;
    while (done < len) {
        uint32_t lin = cs->base + eip + (uint32_t)done;
        uint32_t chunk = PAGE_SIZE - (lin & ~TLB_PAGE_MASK);
        if (chunk > len - done)
            chunk = (uint32_t)(len - done);
        const uint8_t *p = tlb_host(cpu, lin, chunk, kind);
        if (p) {
            memcpy(buf + done, p, chunk);
        } else {
            const struct tlb_entry *e = tlb_translate(cpu, lin, kind, done == 0);
            if (!e)
                break;
            for (uint32_t i = 0; i < chunk; i++)
                buf[done + i] = (uint8_t)entry_read(cpu, e, lin + i, 1, kind);
        }
        done += chunk;
    }
    return done;
}

void cpu_push(struct cpu *cpu, uint32_t value, int size)
{
    uint32_t esp = cpu->gpr[R_ESP];
    uint32_t off, new_esp;
    if (cpu_stack32(cpu)) {
        off = new_esp = esp - (uint32_t)size;
    } else {
        off = (esp - (uint32_t)size) & 0xFFFFu;
        new_esp = (esp & 0xFFFF0000u) | off;
    }
    if (size == 4)
        cpu_write32(cpu, SEG_SS, off, value);
    else
        cpu_write16(cpu, SEG_SS, off, (uint16_t)value);
    cpu->gpr[R_ESP] = new_esp;
}

uint32_t cpu_pop(struct cpu *cpu, int size)
{
    uint32_t esp = cpu->gpr[R_ESP];
    uint32_t value;
    if (cpu_stack32(cpu)) {
        value = size == 4 ? cpu_read32(cpu, SEG_SS, esp) : cpu_read16(cpu, SEG_SS, esp);
        cpu->gpr[R_ESP] = esp + (uint32_t)size;
    } else {
        uint32_t sp = esp & 0xFFFFu;
        value = size == 4 ? cpu_read32(cpu, SEG_SS, sp) : cpu_read16(cpu, SEG_SS, sp);
        cpu->gpr[R_ESP] = (esp & 0xFFFF0000u) | ((sp + (uint32_t)size) & 0xFFFFu);
    }
    return value;
}
