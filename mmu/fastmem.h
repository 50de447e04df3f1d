/* mmu/fastmem.h: host windows onto a guest address space.
 *
 * A window is 4 GiB of reserved host address space in which linear page L,
 * once mapped, is guest RAM page P itself: a second host mapping of the
 * RAM's file (phys_mem.ram_fd), made with mmap. Host code that reaches a
 * linear address as window base + address needs no per-page lookup on its
 * load's dependency chain; the TLB's check runs beside the load instead
 * of in front of it (core/mem.h, TLB_KIND_FAST).
 *
 * A window only records what it maps (page[]): it knows nothing of the
 * guest's page tables. Whoever uses one checks that the mapping it wants,
 * linear page to RAM page, is the one recorded (fastmem_has), and maps it
 * otherwise. A mapping stays until its linear page is mapped again or the
 * window is cleared, so a page table change leaves stale pages behind,
 * which nothing uses: the check compares the RAM page.
 *
 * Each shadow space (mmu/shadow.h) has one, so a CR3 switch back to a
 * process finds its pages still mapped.
 */
#ifndef FOX86_FASTMEM_H
#define FOX86_FASTMEM_H

#include <stdbool.h>
#include <stdint.h>

#define FASTMEM_TABLES 1024u   /* 4 MiB of linear space each */

struct fastmem_window {
    uint8_t  *base;                     /* host address of linear 0; NULL until the first map */
    uint32_t *page[FASTMEM_TABLES];     /* per linear page: the RAM page mapped there | 1, or 0 */
    uint32_t  npages;                   /* pages mapped now */
};

/* Whether w maps linear page lin to RAM page phys. */
static inline bool fastmem_has(const struct fastmem_window *w, uint32_t lin, uint32_t phys)
{
    const uint32_t *t = w->page[lin >> 22];
    return t && t[(lin >> 12) & (FASTMEM_TABLES - 1)] == ((phys & 0xFFFFF000u) | 1u);
}

/* Map RAM page phys of the file ram_fd (its offset phys) at linear page
 * lin of w, reserving the window first if needed. False if the host
 * refused (no address space, no memory for the record): w is unchanged. */
bool fastmem_map(struct fastmem_window *w, int ram_fd, uint32_t lin, uint32_t phys);

/* Unmap every page of w (one host call), keeping its reservation. */
void fastmem_clear(struct fastmem_window *w);

/* Release w's reservation and records. */
void fastmem_free(struct fastmem_window *w);

#endif
