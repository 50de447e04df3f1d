/* mmu/shadow.c: shadow page tables (contract in shadow.h).
 *
 * Layout: a fixed array of spaces, each a directory of 1024 pointers to
 * lazily allocated tables of 1024 entries. Tables come from a free list;
 * their number is capped (max_tables). A reverse map hashes guest page
 * table pages to the tables built from them.
 *
 * Invariants:
 *   - a page is watched iff some in-use space with tables has it as its
 *     directory, or some table was built from it (unwatched eagerly when
 *     the last user goes; the trap handler re-checks as a safety net);
 *   - an entry is stored only by shadow_walk right after a successful
 *     walk, with the directory and table pages watched; a table's pt_page
 *     is the PDE's frame at that time, which cannot change without a trap
 *     dropping the table;
 *   - the current space is never evicted (the cap empties it instead);
 *   - writes made by the walker itself (A/D bits) are not traps: they only
 *     set A or D, and no entry depends on A or D being clear.
 *
 * Flooding: a table written many times without being filled through in
 * between is most likely being torn down or reused as data (a process
 * exiting, a freed page table); it is dropped, which unwatches its page,
 * instead of trapping every store. Likewise a non-current space whose
 * directory keeps being written.
 */
#include "shadow.h"

#include <stdlib.h>
#include <string.h>

#define SHADOW_FLOOD_WRITES 4   /* KVM drops a shadow page after 3 such writes */

static unsigned rmap_hash(uint32_t page)
{
    return (page >> 12) % SHADOW_RMAP_BUCKETS;
}

/* Plain RAM: the only memory whose every write reaches the watch. */
static bool plain_ram(struct phys_mem *pm, uint32_t page)
{
    return (uint64_t)page + 4096 <= pm->ram_size && phys_ram_page(pm, page) == pm->ram + page;
}

static bool page_in_use(const struct shadow_mmu *sm, uint32_t page)
{
    for (const struct shadow_table *t = sm->rmap[rmap_hash(page)]; t; t = t->rmap_next)
        if (t->pt_page == page)
            return true;
    for (unsigned i = 0; i < sm->max_spaces; i++) {
        const struct shadow_space *sp = &sm->spaces[i];
        if (sp->in_use && sp->ntables > 0 && (sp->cr3_page & sm->pm->a20_mask) == page)
            return true;
    }
    return false;
}

static bool watch(struct shadow_mmu *sm, uint32_t page)
{
    if (phys_watched(sm->pm, page))
        return false;
    phys_set_watch(sm->pm, page, true);
    sm->stats->watched_pages++;
    return true;
}

static void unwatch_if_unused(struct shadow_mmu *sm, uint32_t page)
{
    if (phys_watched(sm->pm, page) && !page_in_use(sm, page)) {
        phys_set_watch(sm->pm, page, false);
        sm->stats->watched_pages--;
    }
}

/* A mapping of sp may have changed: a new version (see shadow.h). */
static void space_changed(struct shadow_mmu *sm, struct shadow_space *sp)
{
    if (sp->version == 0)
        return;   /* untracked stays untracked */
    if (++sm->version_clock == 0)
        sm->version_clock = 1;
    sp->version = sm->version_clock;
}

static void drop_slot(struct shadow_mmu *sm, struct shadow_space *sp, uint32_t slot)
{
    struct shadow_table *t = sp->dir[slot];
    if (!t)
        return;
    space_changed(sm, sp);
    sp->dir[slot] = NULL;
    if (t->pt_page != SHADOW_NO_PT) {
        struct shadow_table **link = &sm->rmap[rmap_hash(t->pt_page)];
        while (*link != t)
            link = &(*link)->rmap_next;
        *link = t->rmap_next;
    }
    t->rmap_next = sm->free_tables;
    sm->free_tables = t;
    sp->ntables--;
    sm->ntables--;
    sm->stats->tables_now--;
    if (t->pt_page != SHADOW_NO_PT)
        unwatch_if_unused(sm, t->pt_page);
    if (sp->ntables == 0)
        unwatch_if_unused(sm, sp->cr3_page & sm->pm->a20_mask);
}

static void empty_space(struct shadow_mmu *sm, struct shadow_space *sp)
{
    for (uint32_t slot = 0; slot < SHADOW_SLOTS && sp->ntables > 0; slot++)
        drop_slot(sm, sp, slot);
}

static void free_space(struct shadow_mmu *sm, struct shadow_space *sp)
{
    empty_space(sm, sp);
    sp->in_use = false;
    sp->nhot = 0;
    sm->stats->spaces_now--;
    if (sm->current == sp)
        sm->current = NULL;
}

/* The least recently used in-use space other than the current one that
 * holds tables (or any, if !with_tables). */
static struct shadow_space *lru_space(struct shadow_mmu *sm, bool with_tables)
{
    struct shadow_space *best = NULL;
    for (unsigned i = 0; i < sm->max_spaces; i++) {
        struct shadow_space *sp = &sm->spaces[i];
        if (!sp->in_use || sp == sm->current || (with_tables && sp->ntables == 0))
            continue;
        if (!best || sp->last_used < best->last_used)
            best = sp;
    }
    return best;
}

static struct shadow_table *table_alloc(struct shadow_mmu *sm, struct shadow_space *sp,
                                        uint32_t slot, uint32_t pt_page)
{
    if (sm->ntables >= sm->max_tables) {
        /* the cap: empty whole spaces, oldest first, the current one last */
        sm->cap_hit = true;
        while (sm->ntables >= sm->max_tables) {
            struct shadow_space *victim = lru_space(sm, true);
            if (!victim)
                victim = sp;
            sm->stats->cap_evictions++;
            empty_space(sm, victim);
        }
    }
    struct shadow_table *t = sm->free_tables;
    if (t) {
        sm->free_tables = t->rmap_next;
        memset(t->entry, 0, sizeof(t->entry));
    } else if ((t = calloc(1, sizeof(*t))) == NULL) {
        return NULL;
    }
    t->space = sp;
    t->slot = slot;
    t->pt_page = pt_page;
    t->writes = 0;
    t->rmap_next = NULL;
    if (pt_page != SHADOW_NO_PT) {
        t->rmap_next = sm->rmap[rmap_hash(pt_page)];
        sm->rmap[rmap_hash(pt_page)] = t;
    }
    sp->dir[slot] = t;
    sp->ntables++;
    sm->ntables++;
    sm->stats->tables_now++;
    return t;
}

/* The watcher (phys_set_watcher): len bytes at paddr, inside one page,
 * were written. */
static void shadow_page_written(void *opaque, uint32_t paddr, uint32_t len)
{
    struct shadow_mmu *sm = opaque;
    if (sm->walking || len == 0)
        return;
    uint32_t page = paddr & SHADOW_PAGE_MASK;
    uint32_t first = (paddr & 0xFFFu) >> 2;
    uint32_t last = ((paddr & 0xFFFu) + len - 1) >> 2;
    if (last >= SHADOW_SLOTS)
        last = SHADOW_SLOTS - 1;
    sm->stats->pt_write_traps++;

    /* as a page table: the entries it holds, in every table built from it */
    struct shadow_table *next;
    for (struct shadow_table *t = sm->rmap[rmap_hash(page)]; t; t = next) {
        next = t->rmap_next;
        if (t->pt_page != page)
            continue;
        for (uint32_t i = first; i <= last; i++)
            t->entry[i] = 0;
        space_changed(sm, t->space);
        if (++t->writes > SHADOW_FLOOD_WRITES) {
            sm->stats->tables_flooded++;
            drop_slot(sm, t->space, t->slot);
        }
    }
    /* as a page directory: the slots it covers, in every space using it */
    for (unsigned s = 0; s < sm->max_spaces; s++) {
        struct shadow_space *sp = &sm->spaces[s];
        if (!sp->in_use || sp->ntables == 0 || (sp->cr3_page & sm->pm->a20_mask) != page)
            continue;
        for (uint32_t i = first; i <= last; i++)
            drop_slot(sm, sp, i);
        if (sp != sm->current && ++sp->pd_writes > SHADOW_FLOOD_WRITES) {
            sm->stats->tables_flooded += sp->ntables;
            empty_space(sm, sp);
        }
    }
    unwatch_if_unused(sm, page);
}

struct shadow_mmu *shadow_create(struct phys_mem *pm, struct mmu_stats *stats,
                                 unsigned max_spaces, size_t max_bytes)
{
    struct shadow_mmu *sm = calloc(1, sizeof(*sm));
    if (!sm)
        return NULL;
    sm->pm = pm;
    sm->stats = stats;
    sm->max_spaces = max_spaces < 1 ? 1 : max_spaces > SHADOW_MAX_SPACES ? SHADOW_MAX_SPACES
                                                                         : max_spaces;
    sm->max_tables = max_bytes / sizeof(struct shadow_table);
    sm->fast_max_pages = SHADOW_FAST_MAX_PAGES;
    sm->fast_after_insns = SHADOW_FAST_AFTER_INSNS;
    if (sm->max_tables < 1)
        sm->max_tables = 1;
    phys_set_watcher(pm, shadow_page_written, sm);
    return sm;
}

void shadow_destroy(struct shadow_mmu *sm)
{
    if (!sm)
        return;
    for (unsigned i = 0; i < sm->max_spaces; i++)
        if (sm->spaces[i].in_use)
            free_space(sm, &sm->spaces[i]);
    for (unsigned i = 0; i < SHADOW_MAX_SPACES; i++)
        fastmem_free(&sm->spaces[i].fast);
    while (sm->free_tables) {
        struct shadow_table *t = sm->free_tables;
        sm->free_tables = t->rmap_next;
        free(t);
    }
    if (sm->pm->watch_opaque == sm)
        phys_set_watcher(sm->pm, NULL, NULL);
    free(sm);
}

bool shadow_activate(struct shadow_mmu *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4)
{
    if (!(cr0 & (1u << 31))) {
        sm->current = NULL;
        return false;
    }
    uint32_t cr3_page = cr3 & SHADOW_PAGE_MASK;
    uint32_t mode = (cr0 & SHADOW_MODE_WP) | (cr4 & (SHADOW_MODE_PSE | SHADOW_MODE_PAE));
    struct shadow_space *sp = sm->current;
    if (!sp || sp->cr3_page != cr3_page || sp->mode != mode) {
        sp = NULL;
        struct shadow_space *empty = NULL;
        for (unsigned i = 0; i < sm->max_spaces && !sp; i++) {
            struct shadow_space *s = &sm->spaces[i];
            if (s->in_use && s->cr3_page == cr3_page && s->mode == mode)
                sp = s;
            else if (!s->in_use && !empty)
                empty = s;
        }
        if (!sp) {
            if (!empty) {
                sm->current = NULL;   /* any space may go now */
                empty = lru_space(sm, false);
                free_space(sm, empty);
                sm->stats->spaces_evicted++;
            }
            sp = empty;
            sp->in_use = true;
            sp->cr3_page = cr3_page;
            sp->mode = mode;
            sp->ntables = 0;
            sp->pd_writes = 0;
            sp->nhot = 0;
            sp->ran = 0;
            sp->version = 1;   /* tracked; then a version no other space has */
            space_changed(sm, sp);
            sm->stats->spaces_created++;
            sm->stats->spaces_now++;
        }
        sm->current = sp;
    }
    sp->last_used = ++sm->clock;
    return sp->ntables > 0;
}

unsigned shadow_walk_rights(const struct walk_result *w, uint32_t cr0)
{
    unsigned rights = SHADOW_READ_SUP;
    if (w->dirty && (w->writable || !(cr0 & WALK_CR0_WP)))
        rights |= SHADOW_WRITE_SUP;
    if (w->user)
        rights |= SHADOW_READ_USER;
    if (w->user && w->writable && w->dirty)
        rights |= SHADOW_WRITE_USER;
    return rights;
}

bool shadow_walk(struct shadow_mmu *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                 uint32_t lin, unsigned access, struct walk_result *w, uint32_t *entry,
                 uint32_t new_watch[2], int *nnew)
{
    struct phys_mem *pm = sm->pm;
    *nnew = 0;
    sm->stats->walks++;
    /* PGE forced on: w->global is then the mapping's own G bit */
    sm->walking = true;
    bool ok = mmu_walk(pm, cr0, cr3, cr4 | WALK_CR4_PGE, lin, access, w);
    sm->walking = false;
    if (!ok)
        return false;
    bool large = w->page_size == WALK_PAGE_4M;
    *entry = (w->paddr & SHADOW_PAGE_MASK) | shadow_walk_rights(w, cr0) |
             (w->global ? SHADOW_GLOBAL : 0) | (large ? SHADOW_LARGE : 0);
    w->global = w->global && (cr4 & WALK_CR4_PGE);

    struct shadow_space *sp = sm->current;
    if (!sp || sp->cr3_page != (cr3 & SHADOW_PAGE_MASK))
        return true;
    uint32_t slot = lin >> 22;
    uint32_t pd_page = cr3 & pm->a20_mask & SHADOW_PAGE_MASK;
    if (!plain_ram(pm, pd_page)) {
        sp->version = 0;   /* used, not recorded, not watched */
        return true;
    }
    uint32_t pt_page = SHADOW_NO_PT;
    if (!large) {
        uint32_t pde = phys_read(pm, pd_page | (slot << 2), 4);
        pt_page = pde & pm->a20_mask & SHADOW_PAGE_MASK;
        if (!plain_ram(pm, pt_page)) {
            sp->version = 0;
            return true;
        }
    }
    struct shadow_table *t = sp->dir[slot];
    if (t && t->pt_page != pt_page) {
        drop_slot(sm, sp, slot);
        t = NULL;
    }
    if (!t && (t = table_alloc(sm, sp, slot, pt_page)) == NULL) {
        sp->version = 0;
        return true;
    }
    t->entry[(lin >> 12) & (SHADOW_SLOTS - 1)] = *entry;
    t->writes = 0;
    sp->pd_writes = 0;
    if (watch(sm, pd_page))
        new_watch[(*nnew)++] = pd_page;
    if (pt_page != SHADOW_NO_PT && watch(sm, pt_page))
        new_watch[(*nnew)++] = pt_page;
    return true;
}

void shadow_drop_all(struct shadow_mmu *sm)
{
    for (unsigned i = 0; i < sm->max_spaces; i++) {
        struct shadow_space *sp = &sm->spaces[i];
        if (sp == sm->current)
            empty_space(sm, sp);
        else if (sp->in_use)
            free_space(sm, sp);
    }
}

bool shadow_fast_map(struct shadow_mmu *sm, struct shadow_space *sp, uint32_t lin, uint32_t phys)
{
    if (sm->stats->fast_pages_now >= sm->fast_max_pages)
        return false;
    uint32_t before = sp->fast.npages;
    bool mapped = fastmem_map(&sp->fast, sm->pm->ram_fd, lin, phys);
    sm->stats->fast_pages_now += sp->fast.npages - before;   /* (a failure may unmap one) */
    sm->stats->fast_maps += mapped;
    return mapped;
}

void shadow_fast_clear(struct shadow_mmu *sm)
{
    for (unsigned i = 0; i < SHADOW_MAX_SPACES; i++)
        fastmem_clear(&sm->spaces[i].fast);
    sm->stats->fast_pages_now = 0;
    sm->stats->fast_clears++;
}
