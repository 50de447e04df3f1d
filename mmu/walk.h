/* mmu/walk.h: the i386 two-level page walker (no PAE).
 *
 * mmu_walk translates one linear address through the page directory at CR3
 * and, for 4 KiB pages, one page table, reading the entries from
 * guest-physical memory with phys_read (an entry outside RAM or in MMIO
 * reads as all ones, so nothing here can crash). It never raises anything:
 * a failed translation comes back as false with the #PF error code filled.
 *
 * Rules implemented (SDM Vol. 3A, 4.3 and 4.6):
 *   - 4 MiB pages when CR4.PSE and PDE.PS; otherwise PDE.PS is ignored;
 *   - user and writable are the AND of the PDE and PTE bits;
 *   - a user access needs a user page, and a writable one to write;
 *   - a supervisor write needs a writable page only when CR0.WP = 1;
 *   - fetches are checked as reads (no NX without PAE);
 *   - on success only, the accessed bit is set in the PDE and the PTE, and
 *     the dirty bit in the PTE (or the 4 MiB PDE) for a write; each update is
 *     a read-modify-write of the entry in guest memory, written only if a bit
 *     actually changes;
 *   - error code: P (page present: protection violation), W/R (write),
 *     U/S (user access). No RSVD, no I/D bit on this CPU.
 *
 * Usage:
 *   struct walk_result w;
 *   if (!mmu_walk(pm, cr0, cr3, cr4, lin, WALK_WRITE | WALK_USER, &w))
 *       raise #PF with w.error, CR2 = lin;
 *   else use w.paddr, and cache w.user / w.writable / w.dirty.
 */
#ifndef FOX86_WALK_H
#define FOX86_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "phys.h"

/* access kinds (combine) */
enum {
    WALK_WRITE = 1u << 0,
    WALK_USER  = 1u << 1,   /* CPL 3 and not an implicit supervisor access */
    WALK_FETCH = 1u << 2,
};

/* page directory / page table entry bits */
enum {
    PTE_P = 1u << 0, PTE_RW = 1u << 1, PTE_US = 1u << 2, PTE_PWT = 1u << 3,
    PTE_PCD = 1u << 4, PTE_A = 1u << 5, PTE_D = 1u << 6, PTE_PS = 1u << 7,
    PTE_G = 1u << 8,
};

/* #PF error code bits */
enum { PF_ERR_P = 1u << 0, PF_ERR_W = 1u << 1, PF_ERR_U = 1u << 2 };

/* the control-register bits the walker reads (same values as cpu.h) */
#define WALK_CR0_WP  (1u << 16)
#define WALK_CR4_PSE (1u << 4)
#define WALK_CR4_PGE (1u << 7)

#define WALK_PAGE_4K (1u << 12)
#define WALK_PAGE_4M (1u << 22)

struct walk_result {
    uint32_t paddr;      /* physical address of the linear address itself */
    uint32_t page_size;  /* WALK_PAGE_4K or WALK_PAGE_4M */
    uint32_t error;      /* #PF error code when the walk failed */
    bool     user;       /* user accesses allowed (PDE.US & PTE.US) */
    bool     writable;   /* PDE.RW & PTE.RW */
    bool     dirty;      /* the mapping entry's D bit after this walk */
    bool     global;     /* G bit of the mapping entry, and CR4.PGE set */
};

bool mmu_walk(struct phys_mem *pm, uint32_t cr0, uint32_t cr3, uint32_t cr4,
              uint32_t lin, unsigned access, struct walk_result *out);

#endif
