/* mmu/fastmem.c: host windows onto a guest address space (see fastmem.h). */
#define _GNU_SOURCE
#include "fastmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define WINDOW_BYTES (1ull << 32)

/* 4 GiB of address space and nothing behind it: a stray access faults. */
static uint8_t *window_reserve(uint8_t *at)
{
    int fixed = at ? MAP_FIXED : 0;
    void *p = mmap(at, WINDOW_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool fastmem_map(struct fastmem_window *w, int ram_fd, uint32_t lin, uint32_t phys)
{
    if (ram_fd < 0)
        return false;
    if (!w->base && (w->base = window_reserve(NULL)) == NULL)
        return false;
    uint32_t **t = &w->page[lin >> 22];
    if (!*t && (*t = calloc(FASTMEM_TABLES, sizeof(**t))) == NULL)
        return false;
    lin &= 0xFFFFF000u;
    phys &= 0xFFFFF000u;
    void *p = mmap(w->base + lin, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ram_fd,
                   (off_t)phys);
    uint32_t *slot = &(*t)[(lin >> 12) & (FASTMEM_TABLES - 1)];
    if (p == MAP_FAILED) {
        /* (MAP_FIXED failing may have unmapped what was there: say so) */
        if (*slot)
            w->npages--;
        *slot = 0;
        return false;
    }
    if (!*slot)
        w->npages++;
    *slot = phys | 1u;
    return true;
}

void fastmem_clear(struct fastmem_window *w)
{
    if (!w->base || w->npages == 0)
        return;
    if (!window_reserve(w->base)) {
        /* (cannot re-reserve in place: give the whole window up) */
        munmap(w->base, WINDOW_BYTES);
        w->base = NULL;
    }
    for (uint32_t k = 0; k < FASTMEM_TABLES; k++)
        if (w->page[k])
            memset(w->page[k], 0, FASTMEM_TABLES * sizeof(uint32_t));
    w->npages = 0;
}

void fastmem_free(struct fastmem_window *w)
{
    if (w->base)
        munmap(w->base, WINDOW_BYTES);
    for (uint32_t k = 0; k < FASTMEM_TABLES; k++)
        free(w->page[k]);
    memset(w, 0, sizeof(*w));
}
