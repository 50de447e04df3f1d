/* mmu/shadow.h: shadow page tables, one per guest address space.
 *
 * A shadow caches the outcome of guest page walks: for each linear page
 * that was walked, the guest-physical page and the access kinds the walk
 * allowed. It sits behind the CPU's small TLB (core/mem.c): a TLB miss
 * looks here first and refills the TLB without walking when the entry
 * allows the access ("shadow hit"); otherwise it walks through
 * shadow_walk, which stores the result ("shadow miss").
 *
 * Coherence: every guest page directory and page table a shadow entry was
 * built from is watched (PHYS_PAGE_WATCH in mmu/phys.h), so every write to
 * it -- a CPU store, phys_write, a DMA or loader phys_load -- is reported
 * here after it is performed and drops exactly the shadow entries that
 * depend on the bytes written (a page-table write trap). A shadow entry
 * therefore always equals what a fresh walk would give, except that a
 * shadow hit does not set accessed/dirty bits again: an entry is only
 * created by a walk, which set A (and D for a write), and a guest clearing
 * A or D writes the entry, which drops it. Write kinds are stored only when
 * the walk saw D set, so a first write to a clean page still walks.
 * Consequently a CR3 write or INVLPG needs no shadow work beyond selecting
 * the space: only the CPU's TLB may hold stale entries, as hardware's may.
 *
 * Spaces are keyed by the CR3 page and the paging-mode bits that change
 * walk results (CR0.WP, CR4.PSE; CR4.PAE and EFER.NXE are reserved in the
 * key for later). CR4.PGE is not in the key: the entry keeps the G bit of
 * the mapping and the TLB applies it only with CR4.PGE. A bounded number
 * of spaces is kept (least recently used evicted) and the memory of the
 * shadow tables is capped; evictions forced by the cap are counted.
 * Page tables outside plain RAM (ROM, MMIO, device memory, unassigned) are
 * never cached: such walks are done every time.
 *
 * Usage (core/mem.c is the only caller besides tests):
 *   sm = shadow_create(&pm, &stats, SHADOW_DEFAULT_SPACES, SHADOW_DEFAULT_BYTES);
 *   shadow_activate(sm, cr0, cr3, cr4);        on CR3/CR0/CR4 changes
 *   e = shadow_lookup(sm, lin);                on a TLB miss
 *   if (!(e & kind)) shadow_walk(sm, ..., &w, &e, new_watch, &nnew);
 *   shadow_drop_all(sm);                       when the physical map changed
 */
#ifndef FOX86_SHADOW_H
#define FOX86_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastmem.h"
#include "phys.h"
#include "walk.h"

/* Counters of the MMU (the CPU's TLB and the shadows). TLB hits are not
 * counted: they are the few-instruction fast path. */
struct mmu_stats {
    uint64_t l1_misses;        /* CPU TLB misses that needed a translation */
    uint64_t shadow_hits;      /* ... served from a shadow, no walk */
    uint64_t walks;            /* guest page walks (shadow misses; every miss with -mmu tlb) */
    uint64_t pt_write_traps;   /* writes to watched page directories and tables */
    uint64_t cr3_switches;     /* CR3 loads that changed the page directory */
    uint64_t cr3_reuses;       /* ... that found a cached shadow holding mappings */
    uint64_t spaces_created;
    uint64_t spaces_evicted;   /* least recently used space dropped to make room */
    uint64_t cap_evictions;    /* spaces or tables dropped because of the memory cap */
    uint64_t tables_flooded;   /* shadow tables dropped after many writes without use */
    uint64_t full_flushes;     /* whole-TLB flushes (CR0/CR4 paging bits, memory map, reset) */
    uint64_t tlb_prefills;     /* TLB entries refilled from a reused shadow on a CR3 switch */
    uint32_t watched_pages;    /* guest pages being watched now */
    uint32_t spaces_now;       /* shadows alive now */
    uint32_t tables_now;       /* shadow tables allocated now */
    uint64_t fast_maps;        /* pages mapped into a space's host window (mmu/fastmem.h) */
    uint64_t fast_clears;      /* times every window was emptied (too many pages mapped) */
    uint32_t fast_pages_now;   /* pages mapped in all windows now */
};

/* Shadow entry: guest-physical page in bits 31-12 (not A20-masked), the
 * access kinds allowed in bits 0-3 (same values as core/mem.h TLB_KIND_*),
 * G and 4 MiB-page flags; 0 is empty. Bits 6-11 are free (NX later; PAE
 * will need 64-bit entries and three levels: the key already separates
 * PAE spaces). */
enum {
    SHADOW_READ_SUP   = 1u << 0,
    SHADOW_WRITE_SUP  = 1u << 1,
    SHADOW_READ_USER  = 1u << 2,
    SHADOW_WRITE_USER = 1u << 3,
    SHADOW_KINDS      = 0xFu,
    SHADOW_GLOBAL     = 1u << 4,   /* the mapping's G bit (counts only with CR4.PGE) */
    SHADOW_LARGE      = 1u << 5,   /* a piece of a 4 MiB page */
};
#define SHADOW_PAGE_MASK 0xFFFFF000u

#define SHADOW_SLOTS          1024         /* directory slots, entries per table */
#define SHADOW_NO_PT          0xFFFFFFFFu  /* table for a 4 MiB page: no guest table */
#define SHADOW_MAX_SPACES     64
#define SHADOW_DEFAULT_SPACES 64
#define SHADOW_DEFAULT_BYTES  (32u << 20)
#define SHADOW_RMAP_BUCKETS   4096
#define SHADOW_HOT_PAGES      512          /* TLB pages remembered per space */

struct shadow_space;

/* The shadow of one 4 MiB slot, filled from one guest page table (or from
 * one 4 MiB PDE). Tables built from the same guest page table are chained
 * in the reverse map so a write to it finds them all. */
struct shadow_table {
    uint32_t entry[SHADOW_SLOTS];
    struct shadow_space *space;
    uint32_t slot;
    uint32_t pt_page;              /* guest page table (A20-masked), or SHADOW_NO_PT */
    uint32_t writes;               /* trapped writes since it was last filled */
    struct shadow_table *rmap_next;
};

struct shadow_space {
    bool     in_use;
    uint32_t cr3_page;             /* CR3 & SHADOW_PAGE_MASK */
    uint32_t mode;                 /* SHADOW_MODE_* */
    uint64_t last_used;            /* LRU clock */
    uint32_t ntables;
    uint32_t pd_writes;            /* trapped directory writes since last filled */
    struct shadow_table *dir[SHADOW_SLOTS];
    /* Changes whenever a mapping cached here may have changed (entries
     * dropped), unique among all spaces: caches keyed by linear address
     * (the translator's indirect-branch cache) stay valid across CR3
     * switches while it holds. 0: not tracked (a mapping was used without
     * being recorded here, so its changes would go unseen). */
    uint32_t version;
    /* Linear pages the CPU's TLB held for this space when it was last
     * switched away from (core/mem.c records them): on the switch back
     * they are refilled from this shadow at once, as hardware walking the
     * shadow directly would find them, instead of missing one by one. */
    uint32_t hot[SHADOW_HOT_PAGES];
    uint32_t nhot;
    /* Host window onto the space (core/mem.c maps its user pages there
     * for the native translator). It outlives the space's reuse for
     * another CR3: it records what it maps, not whose tables said so. */
    struct fastmem_window fast;
    uint64_t ran;                  /* instructions run in this space (core/mem.c counts:
                                      short-lived processes get no window) */
};

/* Pages all the spaces' host windows may map at once: each is a host
 * mapping of its own (the host allows about 65530 per process), and
 * counts again in the process's resident size. */
#define SHADOW_FAST_MAX_PAGES 16384
/* Instructions a space runs (shadow_space.ran) before its window is used:
 * most processes of a fork and exec, or of a shell script, are gone long
 * before (each page mapped is a host call), a compressor is not. */
#define SHADOW_FAST_AFTER_INSNS 20000000u

/* key bits (values of the CR0/CR4 bits they stand for) */
#define SHADOW_MODE_WP  WALK_CR0_WP
#define SHADOW_MODE_PSE WALK_CR4_PSE
#define SHADOW_MODE_PAE (1u << 5)   /* reserved: PAE walks are not implemented */

struct shadow_mmu {
    struct phys_mem  *pm;
    struct mmu_stats *stats;
    struct shadow_space *current;  /* NULL: paging off */
    unsigned max_spaces;
    size_t   max_tables;           /* from the byte cap */
    size_t   ntables;
    uint64_t clock;
    uint32_t version_clock;        /* the last shadow_space.version handed out */
    bool     walking;              /* the walker's own A/D writes are not traps */
    bool     cap_hit;              /* the cap forced an eviction at least once */
    uint32_t fast_max_pages;       /* SHADOW_FAST_MAX_PAGES (tests: fewer) */
    uint64_t fast_after_insns;     /* SHADOW_FAST_AFTER_INSNS (tests: 0) */
    struct shadow_table *free_tables;
    struct shadow_table *rmap[SHADOW_RMAP_BUCKETS];
    struct shadow_space spaces[SHADOW_MAX_SPACES];
};

/* Creates the MMU and installs it as pm's write watcher. max_spaces is
 * clamped to 1..SHADOW_MAX_SPACES, max_bytes to at least one table.
 * Returns NULL if out of memory. */
struct shadow_mmu *shadow_create(struct phys_mem *pm, struct mmu_stats *stats,
                                 unsigned max_spaces, size_t max_bytes);
/* Unwatches every page and frees everything. */
void shadow_destroy(struct shadow_mmu *sm);

/* Select the space for these control registers (none with paging off),
 * creating it or evicting the least recently used one. Returns true if
 * an existing space with cached mappings was selected. */
bool shadow_activate(struct shadow_mmu *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4);

/* The current space's entry for lin, or 0. */
static inline uint32_t shadow_lookup(const struct shadow_mmu *sm, uint32_t lin)
{
    const struct shadow_space *sp = sm->current;
    const struct shadow_table *t = sp ? sp->dir[lin >> 22] : NULL;
    return t ? t->entry[(lin >> 12) & (SHADOW_SLOTS - 1)] : 0;
}

/* Walk lin for access (WALK_*) with mmu_walk, setting A/D bits in guest
 * memory as hardware does. On success *entry receives the translation in
 * shadow-entry form and, where the guest tables are plain RAM, it is
 * stored in the current space; pages that became watched by this walk are
 * returned in new_watch[0..*nnew) (at most 2) so the caller can take
 * direct write access to them away. On failure returns false with w->error. */
bool shadow_walk(struct shadow_mmu *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                 uint32_t lin, unsigned access, struct walk_result *w, uint32_t *entry,
                 uint32_t new_watch[2], int *nnew);

/* The access kinds a successful walk allows (SHADOW_* kind bits). */
unsigned shadow_walk_rights(const struct walk_result *w, uint32_t cr0);

/* Drop every space (the physical map changed); the current key stays
 * selected, empty. */
void shadow_drop_all(struct shadow_mmu *sm);

/* Map linear page lin of sp's host window to RAM page phys (fastmem.h).
 * False if the host refused or all windows together hold
 * fast_max_pages: the caller drops what relies on them, then
 * shadow_fast_clear. */
bool shadow_fast_map(struct shadow_mmu *sm, struct shadow_space *sp, uint32_t lin, uint32_t phys);

/* Unmap every page of every space's window. */
void shadow_fast_clear(struct shadow_mmu *sm);

#endif
