/* mmu/phys.c: the guest-physical address space (see phys.h).
 *
 * Layout: RAM is one shared host mapping of an anonymous file (memfd)
 * covering [0, ram_size), zero filled and page aligned; the file lets
 * mmu/fastmem.c map RAM pages a second time, at guest-linear addresses. ROM and MMIO regions are kept in a small array
 * and laid over RAM and over each other: when regions overlap, the one added
 * last is the one that answers. Anything neither RAM nor a region is
 * unassigned: reads give all ones, writes vanish.
 *
 * Invariants:
 *   - every CPU-side access (phys_read/phys_write, phys_ram_page,
 *     phys_readable_page) masks the address with a20_mask first; the bulk
 *     copies for loaders and DMA do not, because A20M# gates only the
 *     processor's own accesses;
 *   - generation changes whenever a host pointer handed out earlier by
 *     phys_ram_page/phys_readable_page may have become wrong (a region added,
 *     the A20 gate toggled, the RAM freed), so TLBs can drop them;
 *   - an access that straddles two kinds of memory (RAM then MMIO ...) is
 *     performed byte by byte, each byte going where it belongs;
 *   - every write path (phys_write, phys_load) reports the pages it touches
 *     to the decoded-code tracking (phys_code_written) before writing, and
 *     to the page-table watcher (phys_watch_written) and to dirty logging
 *     (phys_mark_dirty) after writing;
 *   - a page is flagged CLEAN only while some dirty-logging client has its
 *     bit clear; the first write through any path sets every client's bit.
 *     Dirty logging covers RAM and device memory (PHYS_DEVRAM): the dirty
 *     bytes span the whole 4 GiB page space (lazily backed, like
 *     page_flags), so phys_mark_dirty needs no range check; adding or
 *     removing a DEVRAM region makes its pages dirty for every client.
 *
 * Speed: the CPU reaches plain RAM through the host pointers of
 * phys_ram_page cached in its TLB; phys_read/phys_write are the slow path
 * (MMIO, ROM, page-table walks) and scan the few regions linearly.
 */
#define _GNU_SOURCE
#include "phys.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PHYS_PAGE_SIZE 4096u
#define PHYS_PAGE_MASK 0xFFFFF000u

static uint32_t phys_all_ones(int size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

/* Does [base, base+size) intersect [addr, addr+len)? (64-bit: no wrap) */
static bool ranges_overlap(uint64_t base, uint64_t size, uint64_t addr, uint64_t len)
{
    return addr < base + size && base < addr + len;
}

/* The region answering for [addr, addr+len) if one region covers all of it
 * and no later region cuts into it; *mixed is set when the range is split
 * between several kinds of memory. Returns NULL for "RAM or unassigned". */
static const struct phys_region *phys_lookup(const struct phys_mem *pm, uint32_t addr,
                                             uint32_t len, bool *mixed)
{
    *mixed = false;
    for (int i = pm->nregions - 1; i >= 0; i--) {
        const struct phys_region *r = &pm->regions[i];
        if (!ranges_overlap(r->base, r->size, addr, len))
            continue;
        if (addr >= r->base && (uint64_t)addr + len <= (uint64_t)r->base + r->size)
            return r;
        *mixed = true;
        return NULL;
    }
    if (addr < pm->ram_size && (uint64_t)addr + len > pm->ram_size)
        *mixed = true;
    return NULL;
}

#define PHYS_PAGES (1u << 20)   /* 4 KiB pages in 4 GiB */

/* Zero-filled host memory, backed only where touched. */
static void *phys_alloc_lazy(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* RAM as a file of its own (zero filled, backed only where touched), so
 * that its pages can be mapped again elsewhere; plain anonymous memory if
 * the host has no memfd (then *fd stays -1). */
static uint8_t *phys_alloc_ram(size_t size, int *fd)
{
    *fd = memfd_create("fox86-ram", MFD_CLOEXEC);
    if (*fd >= 0) {
        void *p = MAP_FAILED;
        if (ftruncate(*fd, (off_t)size) == 0)
            p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
        if (p != MAP_FAILED)
            return p;
        close(*fd);
        *fd = -1;
    }
    return phys_alloc_lazy(size);
}

int phys_init(struct phys_mem *pm, uint32_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    pm->ram_fd = -1;
    pm->a20_mask = 0xFFFFFFFFu;
    pm->generation = 1;
    pm->code_gen = phys_alloc_lazy(PHYS_PAGES * sizeof(uint32_t));
    pm->code_chunks = phys_alloc_lazy(PHYS_PAGES * sizeof(uint64_t));
    pm->page_flags = phys_alloc_lazy(PHYS_PAGES);
    pm->ram = ram_size ? phys_alloc_ram(ram_size, &pm->ram_fd) : NULL;
    pm->ram_size = pm->ram ? ram_size : 0;
    pm->dirty = phys_alloc_lazy(PHYS_PAGES);
    if (!pm->code_gen || !pm->code_chunks || !pm->page_flags || !pm->dirty ||
        (ram_size && !pm->ram)) {
        phys_free(pm);
        return -1;
    }
    return 0;
}

void phys_set_watcher(struct phys_mem *pm,
                      void (*written)(void *opaque, uint32_t paddr, uint32_t len), void *opaque)
{
    pm->watch_written = written;
    pm->watch_opaque = opaque;
}

/* Pages dirty logging covers: RAM, and every device-memory region (a
 * framebuffer the CPU writes through a host pointer). Calls fn on each run
 * of those pages inside [first, end) (page numbers, end <= PHYS_PAGES); a
 * page under two runs (DEVRAM over RAM) is visited twice, harmlessly. */
static void phys_for_logged_runs(struct phys_mem *pm, uint32_t first, uint32_t end,
                                 void (*fn)(struct phys_mem *pm, uint32_t p, uint32_t e, void *arg),
                                 void *arg)
{
    uint32_t ram_pages = pm->ram_size / PHYS_PAGE_SIZE;
    if (first < ram_pages)
        fn(pm, first, end < ram_pages ? end : ram_pages, arg);
    for (int i = 0; i < pm->nregions; i++) {
        const struct phys_region *r = &pm->regions[i];
        if (r->kind != PHYS_DEVRAM)
            continue;
        uint32_t rf = r->base / PHYS_PAGE_SIZE;
        uint32_t re = (uint32_t)(((uint64_t)r->base + r->size + PHYS_PAGE_SIZE - 1) / PHYS_PAGE_SIZE);
        uint32_t a = rf > first ? rf : first, b = re < end ? re : end;
        if (a < b)
            fn(pm, a, b, arg);
    }
}

static void dirty_set_run(struct phys_mem *pm, uint32_t p, uint32_t end, void *arg)
{
    uint8_t bits = *(const uint8_t *)arg;
    for (; p < end; p++)
        pm->dirty[p] |= bits;
}

/* Pages whose contents changed without a write (a region added or removed
 * over them): dirty for every client, and no longer CLEAN. */
static void phys_dirty_all_clients(struct phys_mem *pm, uint32_t base, uint32_t size)
{
    uint32_t first = base / PHYS_PAGE_SIZE;
    uint32_t end = (uint32_t)(((uint64_t)base + size + PHYS_PAGE_SIZE - 1) / PHYS_PAGE_SIZE);
    for (uint32_t p = first; p < end; p++) {
        pm->dirty[p] = 0xFF;
        pm->page_flags[p] &= (uint8_t)~PHYS_PAGE_CLEAN;
    }
}

void phys_dirty_enable(struct phys_mem *pm, enum phys_dirty_client client, bool on)
{
    uint8_t bit = (uint8_t)(1u << client);
    if (!pm->dirty || ((pm->dirty_clients & bit) != 0) == on)
        return;
    if (on) {
        phys_for_logged_runs(pm, 0, PHYS_PAGES, dirty_set_run, &bit);
        pm->dirty_clients |= bit;
    } else {
        pm->dirty_clients &= (uint8_t)~bit;   /* pages it left CLEAN lose the flag on their next write */
    }
}

struct dirty_scan {
    uint8_t   bit;
    uint32_t  first;           /* page number of bit 0 of bits[] */
    uint64_t *bits;
    uint32_t  ndirty;
    bool      cleaned;
};

static void dirty_scan_run(struct phys_mem *pm, uint32_t p, uint32_t end, void *arg)
{
    struct dirty_scan *d = arg;
    for (; p < end; p++) {
        if (pm->dirty[p] & d->bit) {
            uint32_t i = p - d->first;
            d->bits[i / 64] |= 1ull << (i % 64);
            d->ndirty++;
            pm->dirty[p] &= (uint8_t)~d->bit;
        }
        if (!(pm->page_flags[p] & PHYS_PAGE_CLEAN)) {
            pm->page_flags[p] |= PHYS_PAGE_CLEAN;
            d->cleaned = true;
        }
    }
}

uint32_t phys_dirty_get_and_clear(struct phys_mem *pm, enum phys_dirty_client client,
                                  uint32_t paddr, uint32_t len, uint64_t *bits)
{
    uint8_t bit = (uint8_t)(1u << client);
    if (!(pm->dirty_clients & bit) || len == 0)
        return 0;
    uint32_t first = paddr / PHYS_PAGE_SIZE;
    uint64_t end = ((uint64_t)paddr + len + PHYS_PAGE_SIZE - 1) / PHYS_PAGE_SIZE;
    struct dirty_scan d = { .bit = bit, .first = first, .bits = bits };
    phys_for_logged_runs(pm, first, end < PHYS_PAGES ? (uint32_t)end : PHYS_PAGES,
                         dirty_scan_run, &d);
    if (d.cleaned)
        pm->clean_epoch++;
    return d.ndirty;
}

void phys_free(struct phys_mem *pm)
{
    if (pm->dirty)
        munmap(pm->dirty, PHYS_PAGES);
    pm->dirty = NULL;
    if (pm->ram)
        munmap(pm->ram, pm->ram_size);
    if (pm->ram_fd >= 0)
        close(pm->ram_fd);
    pm->ram_fd = -1;
    if (pm->code_gen)
        munmap(pm->code_gen, PHYS_PAGES * sizeof(uint32_t));
    if (pm->page_flags)
        munmap(pm->page_flags, PHYS_PAGES);
    if (pm->code_chunks)
        munmap(pm->code_chunks, PHYS_PAGES * sizeof(uint64_t));
    pm->code_chunks = NULL;
    pm->code_gen = NULL;
    pm->page_flags = NULL;
    pm->ram = NULL;
    pm->ram_size = 0;
    pm->nregions = 0;
    pm->generation++;
}

static int phys_add_region(struct phys_mem *pm, struct phys_region r)
{
    if (pm->nregions >= PHYS_MAX_REGIONS || r.size == 0 ||
        (uint64_t)r.base + r.size > 0x100000000ull)
        return -1;
    pm->regions[pm->nregions++] = r;
    pm->generation++;
    return 0;
}

int phys_add_rom(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *bytes)
{
    return phys_add_region(pm, (struct phys_region){
        .base = base, .size = size, .kind = PHYS_ROM, .host = bytes });
}

int phys_add_mmio(struct phys_mem *pm, uint32_t base, uint32_t size,
                  const struct mmio_ops *ops, void *opaque)
{
    return phys_add_region(pm, (struct phys_region){
        .base = base, .size = size, .kind = PHYS_MMIO, .ops = ops, .opaque = opaque });
}

int phys_add_shadow(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *rom_bytes)
{
    return phys_add_region(pm, (struct phys_region){
        .base = base, .size = size, .kind = PHYS_SHADOW, .host = rom_bytes });
}

int phys_add_devram(struct phys_mem *pm, uint32_t base, uint32_t size, uint8_t *host)
{
    int rc = phys_add_region(pm, (struct phys_region){
        .base = base, .size = size, .kind = PHYS_DEVRAM, .host = host });
    if (rc == 0)
        phys_dirty_all_clients(pm, base, size);   /* new contents at these addresses */
    return rc;
}

static struct phys_region *phys_find_region(struct phys_mem *pm, uint32_t base,
                                            enum phys_kind kind)
{
    for (int i = pm->nregions - 1; i >= 0; i--)
        if (pm->regions[i].base == base && pm->regions[i].kind == kind)
            return &pm->regions[i];
    return NULL;
}

int phys_set_shadow(struct phys_mem *pm, uint32_t base, bool read_ram, bool write_ram)
{
    struct phys_region *r = phys_find_region(pm, base, PHYS_SHADOW);
    if (!r)
        return -1;
    if (r->read_ram != read_ram || r->write_ram != write_ram) {
        r->read_ram = read_ram;
        r->write_ram = write_ram;
        pm->generation++;
        /* Code decoded from the old view of these pages is stale. */
        for (uint32_t a = r->base; a - r->base < r->size; a += PHYS_PAGE_SIZE)
            phys_code_written(pm, a);
    }
    return 0;
}

int phys_remove_region(struct phys_mem *pm, uint32_t base, enum phys_kind kind)
{
    struct phys_region *r = phys_find_region(pm, base, kind);
    if (!r)
        return -1;
    for (uint32_t a = r->base; a - r->base < r->size; a += PHYS_PAGE_SIZE)
        phys_code_written(pm, a);
    if (kind == PHYS_DEVRAM)
        phys_dirty_all_clients(pm, r->base, r->size);   /* what was below shows again */
    int i = (int)(r - pm->regions);
    memmove(&pm->regions[i], &pm->regions[i + 1],
            (size_t)(pm->nregions - i - 1) * sizeof(pm->regions[0]));
    pm->nregions--;
    pm->generation++;
    return 0;
}

bool phys_a20_enabled(const struct phys_mem *pm)
{
    return pm->a20_mask == 0xFFFFFFFFu;
}

void phys_set_a20(struct phys_mem *pm, bool enabled)
{
    uint32_t mask = enabled ? 0xFFFFFFFFu : ~(1u << 20);
    if (mask != pm->a20_mask) {
        pm->a20_mask = mask;
        pm->generation++;
    }
}

/* Host pointer for the whole page at page (page-aligned) if one region
 * covers it and the CPU may access it directly for reading (write false)
 * or for reading and writing (write true); RAM below the regions counts. */
static uint8_t *phys_direct_page(struct phys_mem *pm, uint32_t page, bool write)
{
    bool mixed;
    const struct phys_region *r = phys_lookup(pm, page, PHYS_PAGE_SIZE, &mixed);
    if (mixed)
        return NULL;
    bool ram_fits = (uint64_t)page + PHYS_PAGE_SIZE <= pm->ram_size;
    if (!r)
        return ram_fits ? pm->ram + page : NULL;
    switch (r->kind) {
    case PHYS_DEVRAM:
        return r->host + (page - r->base);
    case PHYS_ROM:
        return write ? NULL : r->host + (page - r->base);
    case PHYS_SHADOW:
        if (r->read_ram && (r->write_ram || !write))
            return ram_fits ? pm->ram + page : NULL;
        if (!r->read_ram && !write && r->host)
            return r->host + (page - r->base);
        return NULL;
    default:
        return NULL;
    }
}

uint8_t *phys_ram_page(struct phys_mem *pm, uint32_t paddr)
{
    return phys_direct_page(pm, (paddr & pm->a20_mask) & PHYS_PAGE_MASK, true);
}

const uint8_t *phys_readable_page(struct phys_mem *pm, uint32_t paddr)
{
    return phys_direct_page(pm, (paddr & pm->a20_mask) & PHYS_PAGE_MASK, false);
}

/* One byte, wherever it lives (the straddling slow path). */
static uint8_t phys_read_byte(struct phys_mem *pm, uint32_t addr)
{
    bool mixed;
    const struct phys_region *r = phys_lookup(pm, addr, 1, &mixed);
    if (r) {
        switch (r->kind) {
        case PHYS_ROM:
        case PHYS_DEVRAM:
            return r->host[addr - r->base];
        case PHYS_MMIO:
            return (uint8_t)r->ops->read(r->opaque, addr - r->base, 1);
        case PHYS_SHADOW:
            if (!r->read_ram)
                return r->host ? r->host[addr - r->base] : 0xFF;
            break;
        default:
            break;
        }
    }
    return addr < pm->ram_size ? pm->ram[addr] : 0xFF;
}

static void phys_write_byte(struct phys_mem *pm, uint32_t addr, uint8_t v)
{
    bool mixed;
    const struct phys_region *r = phys_lookup(pm, addr, 1, &mixed);
    if (r) {
        if (r->kind == PHYS_MMIO)
            r->ops->write(r->opaque, addr - r->base, v, 1);
        else if (r->kind == PHYS_DEVRAM)
            r->host[addr - r->base] = v;
        if (r->kind != PHYS_SHADOW || !r->write_ram)
            return;
    }
    if (addr < pm->ram_size)
        pm->ram[addr] = v;
}

uint32_t phys_read(struct phys_mem *pm, uint32_t paddr, int size)
{
    uint32_t addr = paddr & pm->a20_mask;
    bool mixed;
    const struct phys_region *r = phys_lookup(pm, addr, (uint32_t)size, &mixed);
    uint32_t v = 0;
    if (!mixed) {
        if (!r) {
            if (addr >= pm->ram_size)
                return phys_all_ones(size);
            memcpy(&v, pm->ram + addr, (size_t)size);
            return v;
        }
        if (r->kind == PHYS_MMIO)
            return r->ops->read(r->opaque, addr - r->base, size) & phys_all_ones(size);
        if (r->kind == PHYS_ROM || r->kind == PHYS_DEVRAM) {
            memcpy(&v, r->host + (addr - r->base), (size_t)size);
            return v;
        }
    }
    for (int i = 0; i < size; i++)
        v |= (uint32_t)phys_read_byte(pm, (addr + (uint32_t)i) & pm->a20_mask) << (8 * i);
    return v;
}

/* Tell the page-table watcher about size bytes written at addr (which may
 * straddle two pages). */
static void phys_report_write(struct phys_mem *pm, uint32_t addr, int size)
{
    uint32_t last = (addr + (uint32_t)size - 1) & pm->a20_mask;
    if (((addr ^ last) & PHYS_PAGE_MASK) == 0) {
        phys_watch_written(pm, addr, (uint32_t)size);
    } else {
        uint32_t first = PHYS_PAGE_SIZE - (addr & (PHYS_PAGE_SIZE - 1));
        phys_watch_written(pm, addr, first);
        phys_watch_written(pm, last & PHYS_PAGE_MASK, (uint32_t)size - first);
    }
}

static void phys_write_raw(struct phys_mem *pm, uint32_t addr, uint32_t value, int size);

void phys_write(struct phys_mem *pm, uint32_t paddr, uint32_t value, int size)
{
    uint32_t addr = paddr & pm->a20_mask;
    uint32_t last = (addr + (uint32_t)size - 1) & pm->a20_mask;
    uint32_t in_page = PHYS_PAGE_SIZE - (addr & (PHYS_PAGE_SIZE - 1));
    phys_code_written_range(pm, addr, (uint32_t)size < in_page ? (uint32_t)size : in_page);
    if ((last ^ addr) >> 12)
        phys_code_written_range(pm, last & ~(PHYS_PAGE_SIZE - 1), (last & (PHYS_PAGE_SIZE - 1)) + 1);
    phys_write_raw(pm, addr, value, size);
    phys_mark_dirty(pm, addr);
    phys_mark_dirty(pm, last);
    phys_report_write(pm, addr, size);
}

static void phys_write_raw(struct phys_mem *pm, uint32_t addr, uint32_t value, int size)
{
    bool mixed;
    const struct phys_region *r = phys_lookup(pm, addr, (uint32_t)size, &mixed);
    if (!mixed) {
        if (!r) {
            if (addr < pm->ram_size)
                memcpy(pm->ram + addr, &value, (size_t)size);
            return;
        } else if (r->kind == PHYS_MMIO) {
            r->ops->write(r->opaque, addr - r->base, value & phys_all_ones(size), size);
            return;
        } else if (r->kind == PHYS_DEVRAM) {
            memcpy(r->host + (addr - r->base), &value, (size_t)size);
            return;
        } else if (r->kind == PHYS_ROM) {
            return;
        }
    }
    for (int i = 0; i < size; i++)
        phys_write_byte(pm, (addr + (uint32_t)i) & pm->a20_mask, (uint8_t)(value >> (8 * i)));
}

/* Bulk copies work page by page: straight memcpy where the page is plain RAM,
 * byte by byte otherwise. load writes ROM bytes (it is how ROMs get filled)
 * and skips MMIO and unassigned space; copy_out reads what the CPU would. */
void phys_load(struct phys_mem *pm, uint32_t paddr, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len > 0) {
        size_t chunk = PHYS_PAGE_SIZE - (paddr & (PHYS_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        phys_code_written_range(pm, paddr, (uint32_t)chunk);
        bool mixed;
        const struct phys_region *r = phys_lookup(pm, paddr, (uint32_t)chunk, &mixed);
        if (!mixed && !r && (uint64_t)paddr + chunk <= pm->ram_size) {
            memcpy(pm->ram + paddr, s, chunk);
        } else if (!mixed && r && (r->kind == PHYS_ROM || r->kind == PHYS_DEVRAM)) {
            memcpy(r->host + (paddr - r->base), s, chunk);   /* a framebuffer, or ROM filling */
        } else {
            for (size_t i = 0; i < chunk; i++) {
                uint32_t a = paddr + (uint32_t)i;
                const struct phys_region *rb = phys_lookup(pm, a, 1, &mixed);
                if (rb && (rb->kind == PHYS_ROM || rb->kind == PHYS_DEVRAM))
                    rb->host[a - rb->base] = s[i];
                else if ((!rb || (rb->kind == PHYS_SHADOW && rb->write_ram)) && a < pm->ram_size)
                    pm->ram[a] = s[i];
            }
        }
        phys_mark_dirty(pm, paddr);
        phys_watch_written(pm, paddr, (uint32_t)chunk);
        paddr += (uint32_t)chunk;
        s += chunk;
        len -= chunk;
    }
}

void phys_copy_out(struct phys_mem *pm, uint32_t paddr, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len > 0) {
        size_t chunk = PHYS_PAGE_SIZE - (paddr & (PHYS_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        bool mixed;
        const struct phys_region *r = phys_lookup(pm, paddr, (uint32_t)chunk, &mixed);
        if (!mixed && !r && (uint64_t)paddr + chunk <= pm->ram_size) {
            memcpy(d, pm->ram + paddr, chunk);
        } else if (!mixed && r && (r->kind == PHYS_ROM || r->kind == PHYS_DEVRAM)) {
            memcpy(d, r->host + (paddr - r->base), chunk);
        } else {
            for (size_t i = 0; i < chunk; i++)
                d[i] = phys_read_byte(pm, paddr + (uint32_t)i);
        }
        paddr += (uint32_t)chunk;
        d += chunk;
        len -= chunk;
    }
}
