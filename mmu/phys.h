/* mmu/phys.h: the guest-physical address space.
 *
 * RAM is one host allocation from physical 0. ROM and MMIO are regions laid
 * over it (a region hides the RAM below it; of overlapping regions the one
 * added last answers). The A20 gate masks bit 20 of every processor-side
 * physical address when disabled (not the bulk copies: DMA ignores A20M#).
 * Nothing here raises faults: an access to unassigned space reads all ones
 * and ignores writes; one straddling two kinds of memory goes byte by byte.
 *
 * Usage:
 *   struct phys_mem pm;
 *   phys_init(&pm, 64 << 20);
 *   phys_add_rom(&pm, 0xFFFC0000, bios_size, bios_bytes);
 *   uint32_t v = phys_read(&pm, 0xB8000, 2);
 */
#ifndef FOX86_PHYS_H
#define FOX86_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmio_ops {
    uint32_t (*read)(void *opaque, uint32_t offset, int size);          /* size 1, 2, 4 */
    void     (*write)(void *opaque, uint32_t offset, uint32_t value, int size);
};

/* PHYS_SHADOW: a window over RAM whose reads and writes are each steered
 * to the RAM below or elsewhere, as the i440FX PAM registers steer the BIOS
 * area: reads come from RAM if read_ram, else from host (the ROM bytes, or
 * all ones when host is NULL); writes go to RAM if write_ram, else nowhere.
 * PHYS_DEVRAM: memory owned by a device (a framebuffer) that the CPU reads
 * and writes directly through host, like RAM. */
enum phys_kind { PHYS_RAM, PHYS_ROM, PHYS_MMIO, PHYS_SHADOW, PHYS_DEVRAM };

struct phys_region {
    uint32_t base;
    uint32_t size;
    enum phys_kind kind;
    uint8_t *host;                 /* ROM bytes (owned by the caller) */
    const struct mmio_ops *ops;    /* MMIO */
    void *opaque;
    bool read_ram, write_ram;      /* PHYS_SHADOW */
};

#define PHYS_MAX_REGIONS 64

struct phys_mem {
    uint8_t *ram;                  /* host memory for guest-physical [0, ram_size) */
    uint32_t ram_size;
    int      ram_fd;               /* the file behind ram (mmu/fastmem.h maps it), or -1 */
    uint32_t a20_mask;             /* 0xFFFFFFFF, or ~(1 << 20) with A20 disabled */
    struct phys_region regions[PHYS_MAX_REGIONS];
    int nregions;
    uint64_t generation;           /* bumped when the map changes (TLBs drop host pointers) */
    /* Per-page state, one slot per 4 KiB page of the 4 GiB space (lazily
     * backed host memory), PHYS_PAGE_* bits in page_flags:
     *   CODE: a CPU caches decoded instructions from the page; any write
     *   to it through phys_write, phys_load or phys_code_written clears the
     *   bit and bumps code_gen, which invalidates those instructions;
     *   WATCH: the page holds a page directory or table that shadow page
     *   tables (mmu/shadow.c) were built from; every write to it through
     *   phys_write or phys_load, and every CPU store (core/mem.c), is
     *   reported to watch_written after it is performed;
     *   CLEAN: dirty logging (below) has cleared the page (RAM or device
     *   memory) for some client; the next write through any path marks it
     *   dirty for every client.
     * A CPU never caches direct write access to a page with any of them. */
    uint32_t *code_gen;
    uint64_t *code_chunks;         /* per CODE page: bit c set when bytes 64c..64c+63
                                      hold decoded code; writes elsewhere in the page
                                      (data next to code) invalidate nothing */
    uint32_t  code_epoch;          /* bumped with any page's code_gen (caches of code
                                      addresses that span pages drop everything) */
    uint8_t  *page_flags;
    void    (*watch_written)(void *opaque, uint32_t paddr, uint32_t len);
    void     *watch_opaque;
    /* Dirty logging over RAM and device memory (PHYS_DEVRAM): one byte per
     * page of the 4 GiB space (lazily backed), bit c set when the page was
     * written since client c last cleared it (phys_dirty_*). */
    uint8_t  *dirty;
    uint8_t   dirty_clients;       /* bit c: client c is logging */
    uint32_t  clean_epoch;         /* bumped when pages become CLEAN: CPUs take direct
                                      write access to them away at their next TLB sync */
};

enum { PHYS_PAGE_CODE = 1u << 0, PHYS_PAGE_WATCH = 1u << 1, PHYS_PAGE_CLEAN = 1u << 2 };
/* the bits that keep a CPU from writing a page through a host pointer */
#define PHYS_PAGE_NO_DIRECT_WRITE (PHYS_PAGE_CODE | PHYS_PAGE_WATCH | PHYS_PAGE_CLEAN)

/* Dirty-logging clients: each has its own bit per page. */
enum phys_dirty_client {
    PHYS_DIRTY_VGA,                /* display refresh */
    PHYS_DIRTY_CODE,               /* the translator's self-modifying-code detection */
    PHYS_DIRTY_MIGRATION,          /* snapshots and live migration */
    PHYS_DIRTY_CLIENTS
};

/* Returns 0, or -1 if the RAM cannot be allocated. */
int  phys_init(struct phys_mem *pm, uint32_t ram_size);
void phys_free(struct phys_mem *pm);
int  phys_add_rom(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *bytes);
int  phys_add_mmio(struct phys_mem *pm, uint32_t base, uint32_t size,
                   const struct mmio_ops *ops, void *opaque);
/* Regions are found again by their base and kind. add returns 0, or -1 if
 * the table is full; remove returns -1 if no such region exists. */
int  phys_add_shadow(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *rom_bytes);
int  phys_set_shadow(struct phys_mem *pm, uint32_t base, bool read_ram, bool write_ram);
int  phys_add_devram(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *host);
int  phys_remove_region(struct phys_mem *pm, uint32_t base, enum phys_kind kind);
void phys_set_a20(struct phys_mem *pm, bool enabled);
bool phys_a20_enabled(const struct phys_mem *pm);

/* Host pointer to a whole page of plain RAM at paddr (page-aligned inside),
 * or NULL if any part of that page is ROM, MMIO or outside RAM. */
uint8_t *phys_ram_page(struct phys_mem *pm, uint32_t paddr);
/* The same, for read-only use: ROM pages also give a pointer. */
const uint8_t *phys_readable_page(struct phys_mem *pm, uint32_t paddr);

uint32_t phys_read(struct phys_mem *pm, uint32_t paddr, int size);   /* size 1, 2, 4 */
void     phys_write(struct phys_mem *pm, uint32_t paddr, uint32_t value, int size);
/* Bulk copies for loaders and DMA; ROM is written by load only. They do
 * not apply the A20 mask (A20M# gates only the processor's accesses).
 * A device writing guest RAM must use phys_load or phys_write (or call
 * phys_code_written), never a host pointer, so decoded code stays fresh. */
void phys_load(struct phys_mem *pm, uint32_t paddr, const void *src, size_t len);
void phys_copy_out(struct phys_mem *pm, uint32_t paddr, void *dst, size_t len);

/* Decoded-code tracking (see struct phys_mem); paddr already A20-masked. */
static inline uint32_t phys_code_gen(const struct phys_mem *pm, uint32_t paddr)
{
    return pm->code_gen[paddr >> 12];
}
static inline bool phys_code_marked(const struct phys_mem *pm, uint32_t paddr)
{
    return pm->page_flags[paddr >> 12] & PHYS_PAGE_CODE;
}
/* The 64-byte chunks of one page that [off, off + len) touches (len >= 1,
 * off + len <= 4096). */
static inline uint64_t phys_chunk_mask(uint32_t off, uint32_t len)
{
    uint32_t first = off >> 6, last = (off + len - 1) >> 6;
    uint64_t upto = last == 63 ? ~0ull : (2ull << last) - 1;
    return upto & ~((1ull << first) - 1);
}
/* len bytes at paddr (within one page) hold decoded code. */
static inline void phys_mark_code(struct phys_mem *pm, uint32_t paddr, uint32_t len)
{
    pm->page_flags[paddr >> 12] |= PHYS_PAGE_CODE;
    pm->code_chunks[paddr >> 12] |= phys_chunk_mask(paddr & 0xFFFu, len);
}
/* len bytes at paddr (within one page) were (or are about to be) written:
 * the page's code is stale if they touch a chunk holding any. */
static inline void phys_code_written_range(struct phys_mem *pm, uint32_t paddr, uint32_t len)
{
    uint32_t page = paddr >> 12;
    if (__builtin_expect(pm->page_flags[page] & PHYS_PAGE_CODE, 0) &&
        (pm->code_chunks[page] & phys_chunk_mask(paddr & 0xFFFu, len))) {
        pm->page_flags[page] &= (uint8_t)~PHYS_PAGE_CODE;
        pm->code_chunks[page] = 0;
        pm->code_gen[page]++;
        pm->code_epoch++;
    }
}
/* The whole page holding paddr changed (its mapping, or all of it). */
static inline void phys_code_written(struct phys_mem *pm, uint32_t paddr)
{
    phys_code_written_range(pm, paddr & ~0xFFFu, 4096);
}

/* Page-table write watching (see struct phys_mem). The watcher installs
 * itself with phys_set_watcher and sets and clears the bits; a CPU that
 * stores into a watched page itself calls phys_watch_written afterwards. */
static inline uint8_t phys_page_flags(const struct phys_mem *pm, uint32_t paddr)
{
    return pm->page_flags[paddr >> 12];
}
static inline bool phys_watched(const struct phys_mem *pm, uint32_t paddr)
{
    return pm->page_flags[paddr >> 12] & PHYS_PAGE_WATCH;
}
static inline void phys_set_watch(struct phys_mem *pm, uint32_t paddr, bool on)
{
    if (on)
        pm->page_flags[paddr >> 12] |= PHYS_PAGE_WATCH;
    else
        pm->page_flags[paddr >> 12] &= (uint8_t)~PHYS_PAGE_WATCH;
}
/* len bytes at paddr (inside one page) were just written. */
static inline void phys_watch_written(struct phys_mem *pm, uint32_t paddr, uint32_t len)
{
    if ((pm->page_flags[paddr >> 12] & PHYS_PAGE_WATCH) && pm->watch_written)
        pm->watch_written(pm->watch_opaque, paddr, len);
}
void phys_set_watcher(struct phys_mem *pm,
                      void (*written)(void *opaque, uint32_t paddr, uint32_t len), void *opaque);

/* Dirty logging (see struct phys_mem). Every write path marks: phys_write,
 * phys_load, and CPU stores (a clean page is not directly writable, so the
 * first store reaches core/mem.c's slow path, which calls phys_mark_dirty).
 * A CPU notices pages made clean at its next TLB sync (at the latest when
 * cpu_run starts): call get_and_clear between cpu_run calls, or sync.
 *   phys_dirty_enable(pm, PHYS_DIRTY_VGA, true);     every page starts dirty
 *   n = phys_dirty_get_and_clear(pm, PHYS_DIRTY_VGA, fb, fb_len, bits);
 * Logged pages are RAM and device memory (a framebuffer mapped with
 * phys_add_devram: CPU stores to it are caught the same way); adding or
 * removing a DEVRAM region makes its pages dirty for every client.
 * get_and_clear reports the logged pages of [paddr, paddr+len) written
 * since the client's last call (it ORs bit i of bits[] for the i-th page of
 * the range; bits has room for one bit per page, 64 per word; bits of
 * pages not written are left as they were) and marks them clean for it; it
 * returns how many were dirty (0 if the client is not logging). */
void phys_dirty_enable(struct phys_mem *pm, enum phys_dirty_client client, bool on);
uint32_t phys_dirty_get_and_clear(struct phys_mem *pm, enum phys_dirty_client client,
                                  uint32_t paddr, uint32_t len, uint64_t *bits);
/* The page holding paddr was written (any paddr: the dirty bytes cover
 * the whole space). */
static inline void phys_mark_dirty(struct phys_mem *pm, uint32_t paddr)
{
    if (__builtin_expect(pm->page_flags[paddr >> 12] & PHYS_PAGE_CLEAN, 0)) {
        pm->page_flags[paddr >> 12] &= (uint8_t)~PHYS_PAGE_CLEAN;
        pm->dirty[paddr >> 12] = 0xFF;
    }
}

#endif
