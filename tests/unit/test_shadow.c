/* tests/unit/test_shadow.c: the shadow page tables (mmu/shadow.c) behind
 * the CPU's TLB (core/mem.c), driven through the CPU's memory API on a
 * CPU with no run loop (no cpu_init: the fixture of test_mmu.c).
 *
 *   fill and hit      a miss walks and fills the shadow; after a CR3
 *                     reload the same access is a shadow hit, no walk;
 *                     the walker's own A/D writes are not traps;
 *   dirty             a clean page is cached read-only: the first write
 *                     walks again and sets D, later ones do not;
 *   PT/PD writes      a page-table write drops exactly the entries it
 *                     covers, a directory write the slots (4 MiB too);
 *                     through phys_write, CPU stores (a self-mapping
 *                     directory) and phys_load (DMA); a table aliased by
 *                     two slots and two spaces;
 *   watching          a page that becomes a page table stops being
 *                     directly writable in the TLB; a page table no
 *                     shadow uses any more is unwatched (no more traps);
 *                     a table written many times without use is dropped;
 *   spaces            CR3 switches reuse shadows; LRU eviction with few
 *                     spaces; the memory cap; a memory map change;
 *   bad tables        a page table in MMIO is walked every time;
 *   -mmu tlb          no shadow: every miss walks, counters still count;
 *   dirty logging     every page starts dirty; phys_write, phys_load and
 *                     CPU stores mark pages; a page made clean loses direct
 *                     write access at the CPU's next sync and gets it back
 *                     with its first store; clients are independent.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/mem.h"
#include "mmu/phys.h"
#include "mmu/shadow.h"
#include "mmu/walk.h"
#include "fault_of.h"

#define RAM_SIZE (16u << 20)
#define NO_FAULT (-1)

#define PD  0x1000u   /* directory of space A */
#define PT  0x2000u   /* its table for slot 0 (linear 0-4 MiB) */
#define PD2 0x3000u   /* directory of space B */
#define PT2 0x5000u   /* a second table */
#define DATA(n) (0x100000u + (uint32_t)(n) * 0x1000u)   /* data page n */
#define PRW (PTE_P | PTE_RW | PTE_US)

struct fixture {
    struct phys_mem pm;
    struct cpu cpu;
    struct shadow_mmu *sm;
    jmp_buf env;
};

static uint32_t rd32(struct phys_mem *pm, uint32_t a) { return phys_read(pm, a, 4); }
static void wr32(struct phys_mem *pm, uint32_t a, uint32_t v) { phys_write(pm, a, v, 4); }

/* Run stmt; evaluate to NO_FAULT or the vector it raised. */
#define FAULT_OF(f, stmt) CPU_FAULT_OF(&(f)->cpu, &(f)->env, stmt)

/* Paging on, CPL 0, WP set; PD[0] -> PT; linear page n (0x10..0x3F) maps
 * DATA(n), which holds the value n. */
static struct fixture *fixture_new(unsigned max_spaces, size_t max_bytes)
{
    struct fixture *f = calloc(1, sizeof(*f));
    ck_assert_int_eq(phys_init(&f->pm, RAM_SIZE), 0);
    f->cpu.mem = &f->pm;
    f->cpu.eflags = 2;
    f->cpu.delivering = -1;
    for (int s = 0; s < SEG_COUNT; s++)
        f->cpu.seg[s] = (struct seg_cache){ .sel = 0x10, .base = 0, .limit = 0xFFFFFFFFu,
                                            .flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_A | SEGF_DB,
                                            .valid = true };
    f->cpu.seg[SEG_CS].flags |= SEGF_CODE;
    if (max_spaces) {
        f->sm = shadow_create(&f->pm, &f->cpu.mmu_stats, max_spaces, max_bytes);
        ck_assert_ptr_nonnull(f->sm);
        f->cpu.shadow = f->sm;
    }
    wr32(&f->pm, PD, PT | PRW);
    for (uint32_t n = 0x10; n < 0x40; n++) {
        wr32(&f->pm, PT + n * 4, DATA(n) | PRW);
        wr32(&f->pm, DATA(n), n);
    }
    f->cpu.cr3 = PD;
    f->cpu.cr0 = CR0_PE | CR0_ET | CR0_PG | CR0_WP;
    cpu_tlb_flush(&f->cpu, true);
    memset(&f->cpu.mmu_stats, 0, sizeof(f->cpu.mmu_stats));
    f->cpu.mmu_stats.spaces_now = 1;
    return f;
}

static void fixture_free(struct fixture *f)
{
    shadow_destroy(f->sm);
    phys_free(&f->pm);
    free(f);
}

static uint32_t read_lin(struct fixture *f, uint32_t lin)
{
    volatile uint32_t v = 0;
    ck_assert_int_eq(FAULT_OF(f, v = cpu_read32(&f->cpu, SEG_DS, lin)), NO_FAULT);
    return v;
}

static void write_lin(struct fixture *f, uint32_t lin, uint32_t v)
{
    ck_assert_int_eq(FAULT_OF(f, cpu_write32(&f->cpu, SEG_DS, lin, v)), NO_FAULT);
}

/* MOV CR3 with the same or another value: the CPU's TLB loses non-global
 * entries, the shadow is kept. */
static void load_cr3(struct fixture *f, uint32_t cr3)
{
    f->cpu.cr3 = cr3;
    cpu_tlb_flush(&f->cpu, false);
}

#define STATS(f) (&(f)->cpu.mmu_stats)

START_TEST(shadow_fill_then_hit)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->walks, 1);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 0);
    ck_assert_uint_eq(rd32(&f->pm, PT + 0x10 * 4), DATA(0x10) | PRW | PTE_A);
    /* the walker set A in both entries without a trap */
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 0);
    ck_assert(phys_watched(&f->pm, PD));
    ck_assert(phys_watched(&f->pm, PT));
    ck_assert_uint_eq(STATS(f)->watched_pages, 2);
    /* TLB hit: nothing counted */
    ck_assert_uint_eq(read_lin(f, 0x10004), 0);
    ck_assert_uint_eq(STATS(f)->l1_misses, 1);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->l1_misses, 2);
    ck_assert_uint_eq(STATS(f)->walks, 1);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 1);
    /* the guest clears A: the entry goes, the next miss walks and sets it */
    wr32(&f->pm, PT + 0x10 * 4, DATA(0x10) | PRW);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 1);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    ck_assert_uint_eq(rd32(&f->pm, PT + 0x10 * 4), DATA(0x10) | PRW | PTE_A);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_dirty_bit_first_write_walks)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    ck_assert_uint_eq(read_lin(f, 0x11000), 0x11);
    ck_assert_uint_eq(f->sm->current->dir[0]->entry[0x11] & SHADOW_KINDS,
                      SHADOW_READ_SUP | SHADOW_READ_USER);
    write_lin(f, 0x11000, 0x99);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    ck_assert_uint_eq(rd32(&f->pm, PT + 0x11 * 4), DATA(0x11) | PRW | PTE_A | PTE_D);
    ck_assert_uint_eq(f->sm->current->dir[0]->entry[0x11] & SHADOW_KINDS, SHADOW_KINDS);
    load_cr3(f, PD);
    write_lin(f, 0x11000, 0x98);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 1);
    ck_assert_uint_eq(rd32(&f->pm, DATA(0x11)), 0x98);
    /* the guest clears D: the next write walks and sets it again */
    wr32(&f->pm, PT + 0x11 * 4, DATA(0x11) | PRW | PTE_A);
    load_cr3(f, PD);
    write_lin(f, 0x11000, 0x97);
    ck_assert_uint_eq(STATS(f)->walks, 3);
    ck_assert_uint_eq(rd32(&f->pm, PT + 0x11 * 4), DATA(0x11) | PRW | PTE_A | PTE_D);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_pt_write_drops_only_its_entries)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    for (uint32_t n = 0x10; n < 0x13; n++)
        ck_assert_uint_eq(read_lin(f, n << 12), n);
    ck_assert_uint_eq(STATS(f)->walks, 3);
    wr32(&f->pm, PT + 0x11 * 4, DATA(0x20) | PRW);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 1);
    const struct shadow_table *t = f->sm->current->dir[0];
    ck_assert_uint_ne(t->entry[0x10], 0);
    ck_assert_uint_eq(t->entry[0x11], 0);
    ck_assert_uint_ne(t->entry[0x12], 0);
    /* stale in the CPU's TLB until flushed, as on hardware */
    ck_assert_uint_eq(read_lin(f, 0x11000), 0x11);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(read_lin(f, 0x11000), 0x20);
    ck_assert_uint_eq(read_lin(f, 0x12000), 0x12);
    ck_assert_uint_eq(STATS(f)->walks, 4);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 2);
    /* a 2-byte write straddling two entries drops both */
    wr32(&f->pm, PT + 0x12 * 4, DATA(0x12) | PRW | PTE_A);   /* trap, drops 0x12 */
    ck_assert_uint_eq(read_lin(f, 0x12000), 0x12);           /* refill (TLB stale anyway) */
    load_cr3(f, PD);
    read_lin(f, 0x12000);
    read_lin(f, 0x13000);
    phys_write(&f->pm, PT + 0x12 * 4 + 3, 0, 2);
    ck_assert_uint_eq(t->entry[0x12], 0);
    ck_assert_uint_eq(t->entry[0x13], 0);
    ck_assert_uint_ne(t->entry[0x10], 0);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_pd_write_drops_slots)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    f->cpu.cr4 = CR4_PSE;
    cpu_tlb_flush(&f->cpu, true);
    wr32(&f->pm, PD + 4, 0x400000u | PRW | PTE_PS);           /* slot 1: 4 MiB page */
    wr32(&f->pm, PD + 8, PT2 | PRW);                          /* slot 2: PT2 */
    wr32(&f->pm, PT2 + 0, DATA(0x30) | PRW);
    wr32(&f->pm, 0x401000, 0x4011);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(read_lin(f, 0x401000), 0x4011);
    ck_assert_uint_eq(read_lin(f, 0x800000), 0x30);
    struct shadow_space *sp = f->sm->current;
    ck_assert_ptr_nonnull(sp->dir[1]);
    ck_assert_uint_eq(sp->dir[1]->pt_page, SHADOW_NO_PT);
    ck_assert_uint_eq(sp->dir[1]->entry[1] & SHADOW_LARGE, SHADOW_LARGE);
    ck_assert_uint_eq(sp->ntables, 3);
    /* the 4 MiB PDE is rewritten: slot 1 goes, 0 and 2 stay */
    wr32(&f->pm, PD + 4, 0x800000u | PRW | PTE_PS);
    ck_assert_ptr_null(sp->dir[1]);
    ck_assert_ptr_nonnull(sp->dir[0]);
    ck_assert_ptr_nonnull(sp->dir[2]);
    wr32(&f->pm, 0x801000, 0x8011);
    cpu_tlb_flush_page(&f->cpu, 0x401000);
    ck_assert_uint_eq(read_lin(f, 0x401000), 0x8011);
    /* slot 2's PDE is cleared: its table goes and PT2 is no longer watched */
    ck_assert(phys_watched(&f->pm, PT2));
    wr32(&f->pm, PD + 8, 0);
    ck_assert_ptr_null(sp->dir[2]);
    ck_assert(!phys_watched(&f->pm, PT2));
    load_cr3(f, PD);
    ck_assert_int_eq(FAULT_OF(f, cpu_read32(&f->cpu, SEG_DS, 0x800000)), EXC_PF);
    fixture_free(f);
}
END_TEST

/* A directory that maps itself (PD[1] = PD): linear 0x400000 + (j << 12)
 * is the page PD[j] points to, so 0x401000 is the directory itself.
 * Stores through it are CPU stores to a watched page. */
START_TEST(shadow_self_mapping_directory)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    wr32(&f->pm, PD + 4, PD | PRW);
    wr32(&f->pm, PT2 + 0x10 * 4, DATA(0x31) | PRW);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    /* PD[0] read through the self-map */
    ck_assert_uint_eq(read_lin(f, 0x401000), PT | PRW | PTE_A);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 0);
    /* a store to an unused directory slot: writable, but never directly */
    write_lin(f, 0x401800, 0);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 1);
    const struct tlb_entry *e = &f->cpu.tlb[0x401 % TLB_SIZE];
    ck_assert_uint_eq(tlb_rights(e) & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    ck_assert_uint_eq(e->lin_page & (TLB_KIND_WRITE_SUP | TLB_KIND_WRITE_USER), 0);
    ck_assert_ptr_nonnull(f->sm->current->dir[0]);
    /* switch PD[0] to PT2 by a CPU store: slot 0 is dropped */
    write_lin(f, 0x401000, PT2 | PRW);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 2);
    ck_assert_ptr_null(f->sm->current->dir[0]);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x31);
    /* the new PDE, with the A bit of that walk, through the self-map */
    ck_assert_uint_eq(read_lin(f, 0x401000), PT2 | PRW | PTE_A);
    /* PD[1] served as PDE and PTE: A and D both landed in it */
    ck_assert_uint_eq(rd32(&f->pm, PD + 4), PD | PRW | PTE_A | PTE_D);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_new_page_table_loses_direct_writes)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    wr32(&f->pm, PT + 0x20 * 4, PT2 | PRW);     /* linear 0x20000 is PT2 */
    wr32(&f->pm, PT2, DATA(0x32) | PRW);
    write_lin(f, 0x20000, DATA(0x32) | PRW);    /* PT2 is plain data so far */
    const struct tlb_entry *e = &f->cpu.tlb[0x20 % TLB_SIZE];
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    /* PT2 becomes slot 1's table and is walked: the store access goes */
    wr32(&f->pm, PD + 4, PT2 | PRW);
    ck_assert_uint_eq(read_lin(f, 0x400000), 0x32);
    ck_assert(phys_watched(&f->pm, PT2));
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, 0);
    uint64_t traps = STATS(f)->pt_write_traps;
    write_lin(f, 0x20000, DATA(0x33) | PRW);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, traps + 1);
    cpu_tlb_flush_page(&f->cpu, 0x400000);
    ck_assert_uint_eq(read_lin(f, 0x400000), 0x33);
    fixture_free(f);
}
END_TEST

/* One page table reached through two directory slots and from two spaces:
 * a write to it drops the entry in all three shadow tables. */
START_TEST(shadow_aliased_page_table)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    wr32(&f->pm, PD + 2 * 4, PT | PRW);
    wr32(&f->pm, PD2, PT | PRW);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(read_lin(f, 0x810000), 0x10);
    load_cr3(f, PD2);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->tables_now, 3);
    wr32(&f->pm, PT + 0x10 * 4, DATA(0x17) | PRW);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 1);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);   /* stale in the TLB only */
    load_cr3(f, PD2);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x17);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x17);
    ck_assert_uint_eq(read_lin(f, 0x810000), 0x17);
    ck_assert_uint_eq(STATS(f)->walks, 6);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_dma_write_invalidates)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    ck_assert_uint_eq(read_lin(f, 0x14000), 0x14);
    ck_assert_uint_eq(read_lin(f, 0x15000), 0x15);
    uint32_t ptes[2] = { DATA(0x21) | PRW, DATA(0x22) | PRW };
    phys_load(&f->pm, PT + 0x14 * 4, ptes, sizeof(ptes));
    ck_assert_uint_eq(STATS(f)->pt_write_traps, 1);
    ck_assert_uint_eq(f->sm->current->dir[0]->entry[0x14], 0);
    ck_assert_uint_eq(f->sm->current->dir[0]->entry[0x15], 0);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x14000), 0x21);
    ck_assert_uint_eq(read_lin(f, 0x15000), 0x22);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_unwatch_and_flood)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    /* the table is unlinked from the directory: nothing uses PT or PD */
    wr32(&f->pm, PD, 0);
    ck_assert(!phys_watched(&f->pm, PT));
    ck_assert(!phys_watched(&f->pm, PD));
    ck_assert_uint_eq(STATS(f)->watched_pages, 0);
    /* PT reused as data: no traps */
    uint64_t traps = STATS(f)->pt_write_traps;
    for (uint32_t i = 0; i < 64; i++)
        wr32(&f->pm, PT + i * 4, i);
    ck_assert_uint_eq(STATS(f)->pt_write_traps, traps);
    /* a table written over and over without use is dropped */
    wr32(&f->pm, PD, PT2 | PRW);
    wr32(&f->pm, PT2 + 0x10 * 4, DATA(0x10) | PRW);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert(phys_watched(&f->pm, PT2));
    for (uint32_t i = 0; i < 100; i++)
        wr32(&f->pm, PT2 + 0x100 + (i % 64) * 4, 0);
    ck_assert_uint_eq(STATS(f)->tables_flooded, 1);
    ck_assert(!phys_watched(&f->pm, PT2));
    ck_assert_uint_lt(STATS(f)->pt_write_traps, traps + 2 + 20);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_cr3_switch_reuses)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    wr32(&f->pm, PD2, PT2 | PRW);
    wr32(&f->pm, PT2 + 0x10 * 4, DATA(0x3F) | PRW);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    load_cr3(f, PD2);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x3F);
    ck_assert_uint_eq(STATS(f)->cr3_switches, 1);
    ck_assert_uint_eq(STATS(f)->cr3_reuses, 0);
    ck_assert_uint_eq(STATS(f)->spaces_created, 1);
    for (int round = 0; round < 3; round++) {
        load_cr3(f, PD);
        ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
        load_cr3(f, PD2);
        ck_assert_uint_eq(read_lin(f, 0x10000), 0x3F);
    }
    ck_assert_uint_eq(STATS(f)->cr3_switches, 7);
    ck_assert_uint_eq(STATS(f)->cr3_reuses, 6);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    /* each switch back refilled the TLB from the shadow: no miss at all */
    ck_assert_uint_eq(STATS(f)->tlb_prefills, 6);
    ck_assert_uint_eq(STATS(f)->l1_misses, 2);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 0);
    /* a PT write in the other space is seen after switching back */
    wr32(&f->pm, PT + 0x10 * 4, DATA(0x11) | PRW);
    load_cr3(f, PD);
    ck_assert_uint_eq(STATS(f)->tlb_prefills, 6);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x11);
    fixture_free(f);
}
END_TEST

/* The pages a space's TLB held are refilled on the switch back only as the
 * guest's tables map them now, with A/D semantics intact. */
START_TEST(shadow_cr3_switch_refill_is_coherent)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    wr32(&f->pm, PD2, PT2 | PRW);
    wr32(&f->pm, PT2 + 0x10 * 4, DATA(0x3F) | PRW);
    for (uint32_t n = 0x10; n < 0x14; n++)
        ck_assert_uint_eq(read_lin(f, n << 12), n);      /* A: four clean pages */
    load_cr3(f, PD2);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x3F);
    /* while B runs: A's 0x11 unmapped, 0x12 moved */
    wr32(&f->pm, PT + 0x11 * 4, 0);
    wr32(&f->pm, PT + 0x12 * 4, DATA(0x30) | PRW);
    load_cr3(f, PD);
    ck_assert_uint_eq(STATS(f)->tlb_prefills, 2);       /* 0x10 and 0x13 */
    ck_assert_int_eq(FAULT_OF(f, cpu_read32(&f->cpu, SEG_DS, 0x11000)), EXC_PF);
    ck_assert_uint_eq(read_lin(f, 0x12000), 0x30);
    /* a refilled clean page is not writable directly: the first write
     * walks and sets D */
    uint64_t walks = STATS(f)->walks;
    write_lin(f, 0x13000, 0x77);
    ck_assert_uint_eq(STATS(f)->walks, walks + 1);
    ck_assert_uint_eq(rd32(&f->pm, PT + 0x13 * 4), DATA(0x13) | PRW | PTE_A | PTE_D);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_global_pages_survive_cr3_switch)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    f->cpu.cr4 = CR4_PGE;
    cpu_tlb_flush(&f->cpu, true);
    wr32(&f->pm, PT + 0x10 * 4, DATA(0x10) | PRW | PTE_G);
    wr32(&f->pm, PD2, PT2 | PRW);
    wr32(&f->pm, PT2 + 0x10 * 4, DATA(0x3F) | PRW);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    load_cr3(f, PD2);
    /* the global TLB entry stays, as on hardware */
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    cpu_tlb_flush_page(&f->cpu, 0x10000);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x3F);
    /* a PGE toggle flushes globals but keeps the shadows */
    load_cr3(f, PD);
    f->cpu.cr4 = 0;
    cpu_tlb_sync(&f->cpu);
    f->cpu.cr4 = CR4_PGE;
    cpu_tlb_sync(&f->cpu);
    uint64_t walks = STATS(f)->walks;
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->walks, walks);
    ck_assert_uint_eq(tlb_rights(&f->cpu.tlb[0x10]) & TLB_GLOBAL, TLB_GLOBAL);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_lru_eviction)
{
    struct fixture *f = fixture_new(2, 1u << 20);
    wr32(&f->pm, PD2, PT | PRW);
    wr32(&f->pm, 0x6000, PT | PRW);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);       /* A */
    load_cr3(f, PD2);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);       /* B */
    load_cr3(f, PD);                                     /* A is now the newest */
    load_cr3(f, 0x6000);                                 /* C evicts B */
    ck_assert_uint_eq(STATS(f)->spaces_evicted, 1);
    ck_assert_uint_eq(STATS(f)->spaces_now, 2);
    ck_assert(!phys_watched(&f->pm, PD2));
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    load_cr3(f, PD);
    ck_assert_uint_eq(STATS(f)->cr3_reuses, 2);            /* A twice */
    load_cr3(f, PD2);                                     /* B: rebuilt */
    ck_assert_uint_eq(STATS(f)->cr3_reuses, 2);
    ck_assert_uint_eq(STATS(f)->spaces_evicted, 2);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_memory_cap)
{
    /* room for two tables */
    struct fixture *f = fixture_new(8, 2 * sizeof(struct shadow_table));
    for (uint32_t slot = 1; slot < 4; slot++) {
        wr32(&f->pm, PD + slot * 4, PT | PRW);
    }
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(read_lin(f, 0x410000), 0x10);
    ck_assert_uint_eq(STATS(f)->cap_evictions, 0);
    ck_assert_uint_eq(read_lin(f, 0x810000), 0x10);
    ck_assert_uint_eq(STATS(f)->cap_evictions, 1);
    ck_assert(f->sm->cap_hit);
    ck_assert_uint_le(STATS(f)->tables_now, 2);
    ck_assert_uint_eq(read_lin(f, 0xC10000), 0x10);
    ck_assert_uint_le(STATS(f)->tables_now, 2);
    /* still coherent */
    wr32(&f->pm, PT + 0x10 * 4, DATA(0x12) | PRW);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0xC10000), 0x12);
    fixture_free(f);
}
END_TEST

static uint32_t mmio_pt_read(void *opaque, uint32_t offset, int size)
{
    (void)opaque;
    return offset == 0x10 * 4 ? DATA(0x13) | PRW : 0;
}
static void mmio_pt_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    (*(int *)opaque)++;
}
static const struct mmio_ops mmio_pt_ops = { mmio_pt_read, mmio_pt_write };

START_TEST(shadow_table_in_mmio_not_cached)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    int writes = 0;
    ck_assert_int_eq(phys_add_mmio(&f->pm, 0x700000, 0x1000, &mmio_pt_ops, &writes), 0);
    wr32(&f->pm, PD + 4, 0x700000u | PRW);
    cpu_tlb_sync(&f->cpu);   /* the map changed: everything dropped */
    ck_assert_uint_eq(STATS(f)->full_flushes, 1);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(read_lin(f, 0x410000), 0x13);
        load_cr3(f, PD);
    }
    ck_assert_uint_eq(STATS(f)->walks, 3);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 0);
    ck_assert_ptr_null(f->sm->current->dir[1]);
    ck_assert_int_eq(writes, 3);   /* the A bit, written each walk */
    /* a directory outside RAM: no caching, no crash */
    load_cr3(f, 0xF0000000u);
    ck_assert_int_eq(FAULT_OF(f, cpu_read32(&f->cpu, SEG_DS, 0x10000)), NO_FAULT);  /* all ones: present, user, writable */
    ck_assert_uint_eq(STATS(f)->tables_now, 0);
    fixture_free(f);
}
END_TEST

START_TEST(shadow_memory_map_change_drops_all)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->tables_now, 1);
    phys_set_a20(&f->pm, true);                     /* no change */
    phys_set_a20(&f->pm, false);
    phys_set_a20(&f->pm, true);
    cpu_tlb_sync(&f->cpu);
    ck_assert_uint_eq(STATS(f)->tables_now, 0);
    ck_assert_uint_eq(STATS(f)->watched_pages, 0);
    ck_assert_uint_eq(STATS(f)->full_flushes, 1);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    fixture_free(f);
}
END_TEST

START_TEST(tlb_mode_counts_walks)
{
    struct fixture *f = fixture_new(0, 0);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    load_cr3(f, PD);
    ck_assert_uint_eq(read_lin(f, 0x10000), 0x10);
    ck_assert_uint_eq(STATS(f)->l1_misses, 2);
    ck_assert_uint_eq(STATS(f)->walks, 2);
    ck_assert_uint_eq(STATS(f)->shadow_hits, 0);
    ck_assert(!phys_watched(&f->pm, PT));
    load_cr3(f, PD2);
    ck_assert_uint_eq(STATS(f)->cr3_switches, 1);
    fixture_free(f);
}
END_TEST

/* ---------------------------------------------------------------- dirty logging */

START_TEST(dirty_all_pages_start_dirty)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    uint64_t bits[1] = { 0 };
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, 0, 0x10000, bits), 0);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, 0x200000, 0x10000, bits), 16);
    ck_assert_uint_eq(bits[0], 0xFFFF);
    bits[0] = 0;
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, 0x200000, 0x10000, bits), 0);
    ck_assert_uint_eq(bits[0], 0);
    /* phys_write (straddling two pages) and phys_load */
    phys_write(&f->pm, 0x202FFE, 0x12345678u, 4);
    uint8_t buf[16] = { 1 };
    phys_load(&f->pm, 0x20A000, buf, sizeof(buf));
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, 0x200000, 0x10000, bits), 3);
    ck_assert_uint_eq(bits[0], (1u << 2) | (1u << 3) | (1u << 10));
    /* beyond RAM: nothing, no crash */
    bits[0] = 0;
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, RAM_SIZE - 0x1000, 0x4000, bits), 1);
    ck_assert_uint_eq(bits[0], 1);
    fixture_free(f);
}
END_TEST

START_TEST(dirty_cpu_stores_and_clients)
{
    struct fixture *f = fixture_new(8, 1u << 20);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_MIGRATION, true);
    /* a store fills the TLB with a direct write entry for DATA(0x10) */
    write_lin(f, 0x10000, 1);
    write_lin(f, 0x10004, 2);
    const struct tlb_entry *e = &f->cpu.tlb[0x10];
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    uint64_t bits[1] = { 0 };
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, DATA(0x10), 0x2000, bits), 2);
    /* the CPU notices at its next sync: the page is no longer direct */
    cpu_tlb_sync(&f->cpu);
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, 0);
    bits[0] = 0;
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, DATA(0x10), 0x2000, bits), 0);
    /* reads stay direct; the first store marks the page and makes it direct again */
    ck_assert_uint_eq(read_lin(f, 0x10000), 1);
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, 0);
    write_lin(f, 0x10008, 3);
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    ck_assert_uint_eq(rd32(&f->pm, DATA(0x10) + 8), 3);
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, DATA(0x10), 0x2000, bits), 1);
    ck_assert_uint_eq(bits[0], 1);
    /* the other client saw every write since it was enabled */
    bits[0] = 0;
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_MIGRATION, DATA(0x10), 0x2000, bits), 2);
    /* a client turned off stops keeping pages clean after their next write */
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, false);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_MIGRATION, false);
    cpu_tlb_sync(&f->cpu);
    write_lin(f, 0x10000, 4);
    ck_assert_uint_eq(e->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    ck_assert_uint_eq(phys_dirty_get_and_clear(&f->pm, PHYS_DIRTY_VGA, DATA(0x10), 0x1000, bits), 0);
    fixture_free(f);
}
END_TEST

static Suite *shadow_suite(void)
{
    Suite *s = suite_create("shadow");
    TCase *tc = tcase_create("shadow");
    tcase_add_test(tc, shadow_fill_then_hit);
    tcase_add_test(tc, shadow_dirty_bit_first_write_walks);
    tcase_add_test(tc, shadow_pt_write_drops_only_its_entries);
    tcase_add_test(tc, shadow_pd_write_drops_slots);
    tcase_add_test(tc, shadow_self_mapping_directory);
    tcase_add_test(tc, shadow_new_page_table_loses_direct_writes);
    tcase_add_test(tc, shadow_aliased_page_table);
    tcase_add_test(tc, shadow_dma_write_invalidates);
    tcase_add_test(tc, shadow_unwatch_and_flood);
    tcase_add_test(tc, shadow_cr3_switch_reuses);
    tcase_add_test(tc, shadow_cr3_switch_refill_is_coherent);
    tcase_add_test(tc, shadow_global_pages_survive_cr3_switch);
    tcase_add_test(tc, shadow_lru_eviction);
    tcase_add_test(tc, shadow_memory_cap);
    tcase_add_test(tc, shadow_table_in_mmio_not_cached);
    tcase_add_test(tc, shadow_memory_map_change_drops_all);
    tcase_add_test(tc, tlb_mode_counts_walks);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("dirty");
    tcase_add_test(td, dirty_all_pages_start_dirty);
    tcase_add_test(td, dirty_cpu_stores_and_clients);
    suite_add_tcase(s, td);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shadow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
