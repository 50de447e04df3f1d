/* tests/unit/test_dirty.c: dirty logging (mmu/phys.c) over RAM and device
 * memory (PHYS_DEVRAM, a framebuffer the CPU writes through a host
 * pointer), with CPU stores through core/mem.c on a CPU with no run loop
 * (paging off, flat segments: the fixture of test_mmu.c, no cpu_init).
 *
 *   start dirty    enabling a client makes every RAM and DEVRAM page dirty
 *                  for it; unassigned and MMIO pages are never reported;
 *   clients        each client reads and clears its own bits;
 *   CPU stores     a store to a clean DEVRAM (or RAM) page takes the slow
 *                  path once, marks the page and makes it direct again;
 *                  a page made clean loses direct writes at the next sync;
 *   bulk           phys_write and phys_load mark every page they touch,
 *                  across the RAM / DEVRAM / unassigned boundaries;
 *   regions        a DEVRAM region added or removed while logging makes
 *                  its pages dirty.
 */
#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/mem.h"
#include "mmu/phys.h"
#include "fault_of.h"

#define RAM_SIZE  (16u << 20)
#define FB_BASE   0xE0000000u
#define FB_SIZE   (256u << 10)         /* 64 pages */
#define MMIO_BASE 0xFEB00000u
#define NO_FAULT  (-1)

struct fixture {
    struct phys_mem pm;
    struct cpu cpu;
    uint8_t *fb;
    jmp_buf env;
    uint32_t mmio_writes;
};

static uint32_t mmio_read(void *opaque, uint32_t offset, int size)
{
    (void)opaque; (void)offset; (void)size;
    return 0;
}

static void mmio_write(void *opaque, uint32_t offset, uint32_t value, int size)
{
    (void)offset; (void)value; (void)size;
    ((struct fixture *)opaque)->mmio_writes++;
}

static const struct mmio_ops test_mmio = { mmio_read, mmio_write };

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(phys_init(&f->pm, RAM_SIZE), 0);
    f->fb = calloc(1, FB_SIZE);
    ck_assert_ptr_nonnull(f->fb);
    ck_assert_int_eq(phys_add_devram(&f->pm, FB_BASE, FB_SIZE, f->fb), 0);
    ck_assert_int_eq(phys_add_mmio(&f->pm, MMIO_BASE, 0x1000, &test_mmio, f), 0);
    f->cpu.mem = &f->pm;
    f->cpu.eflags = 2;
    f->cpu.delivering = -1;
    for (int s = 0; s < SEG_COUNT; s++)
        f->cpu.seg[s] = (struct seg_cache){ .sel = 0x10, .base = 0, .limit = 0xFFFFFFFFu,
                                            .flags = SEGF_P | SEGF_S | SEGF_RW | SEGF_A | SEGF_DB,
                                            .valid = true };
    f->cpu.seg[SEG_CS].flags |= SEGF_CODE;
    f->cpu.cr0 = CR0_PE | CR0_ET;
    cpu_tlb_flush(&f->cpu, true);
    return f;
}

static void fixture_free(struct fixture *f)
{
    phys_free(&f->pm);
    free(f->fb);
    free(f);
}

/* Run stmt; evaluate to NO_FAULT or the vector it raised. */
#define FAULT_OF(f, stmt) CPU_FAULT_OF(&(f)->cpu, &(f)->env, stmt)

static void store32(struct fixture *f, uint32_t addr, uint32_t v)
{
    ck_assert_int_eq(FAULT_OF(f, cpu_write32(&f->cpu, SEG_DS, addr, v)), NO_FAULT);
}

static const struct tlb_entry *tlb_of(struct fixture *f, uint32_t addr)
{
    return &f->cpu.tlb[(addr >> 12) % TLB_SIZE];
}

/* get_and_clear into a fresh bitmap; returns the count, bits in *out. */
static uint32_t take(struct fixture *f, enum phys_dirty_client c, uint32_t addr, uint32_t len,
                     uint64_t out[4])
{
    memset(out, 0, 4 * sizeof out[0]);
    return phys_dirty_get_and_clear(&f->pm, c, addr, len, out);
}

START_TEST(start_dirty_ram_and_devram)
{
    struct fixture *f = fixture_new();
    uint64_t bits[4];
    /* not logging: nothing */
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 0);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 64);
    ck_assert_uint_eq(bits[0], ~0ull);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0x100000, 0x8000, bits), 8);
    ck_assert_uint_eq(bits[0], 0xFF);
    /* cleared: nothing the second time */
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 0);
    ck_assert_uint_eq(bits[0], 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0x100000, 0x8000, bits), 0);
    /* a range running past the framebuffer: only its pages; unassigned
     * space and MMIO are not logged, even when written */
    phys_write(&f->pm, FB_BASE + FB_SIZE, 1, 4);
    phys_write(&f->pm, MMIO_BASE, 1, 4);
    ck_assert_uint_eq(f->mmio_writes, 1);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE + FB_SIZE - 0x2000, 0x4000, bits), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, MMIO_BASE, 0x1000, bits), 0);
    phys_write(&f->pm, FB_BASE + FB_SIZE - 4, 7, 4);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE + FB_SIZE - 0x2000, 0x4000, bits), 1);
    ck_assert_uint_eq(bits[0], 2);
    fixture_free(f);
}
END_TEST

START_TEST(clients_are_independent)
{
    struct fixture *f = fixture_new();
    uint64_t bits[4];
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_CODE, true);
    take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits);
    take(f, PHYS_DIRTY_CODE, FB_BASE, FB_SIZE, bits);
    take(f, PHYS_DIRTY_VGA, 0, 0x40000, bits);
    take(f, PHYS_DIRTY_CODE, 0, 0x40000, bits);

    phys_write(&f->pm, FB_BASE + 3 * 0x1000 + 8, 0xAABBCCDD, 4);
    phys_write(&f->pm, 5 * 0x1000, 1, 1);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 1);
    ck_assert_uint_eq(bits[0], 1u << 3);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0, 0x40000, bits), 1);
    ck_assert_uint_eq(bits[0], 1u << 5);

    phys_write(&f->pm, FB_BASE + 40 * 0x1000, 2, 2);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 1);
    ck_assert_uint_eq(bits[0], 1ull << 40);
    /* the code client has not cleared since: it sees both framebuffer pages */
    ck_assert_uint_eq(take(f, PHYS_DIRTY_CODE, FB_BASE, FB_SIZE, bits), 2);
    ck_assert_uint_eq(bits[0], (1ull << 3) | (1ull << 40));
    ck_assert_uint_eq(take(f, PHYS_DIRTY_CODE, 0, 0x40000, bits), 1);
    ck_assert_uint_eq(bits[0], 1u << 5);
    /* a client not enabled reports nothing; migration starts with all dirty */
    ck_assert_uint_eq(take(f, PHYS_DIRTY_MIGRATION, FB_BASE, FB_SIZE, bits), 0);
    phys_dirty_enable(&f->pm, PHYS_DIRTY_MIGRATION, true);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_MIGRATION, FB_BASE, FB_SIZE, bits), 64);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 0);
    fixture_free(f);
}
END_TEST

/* A store to a clean page goes through the slow path once (the TLB entry
 * has no direct write kind), lands, marks the page and makes it direct. */
static void check_store_marks(struct fixture *f, uint32_t base, const uint8_t *host)
{
    uint64_t bits[4];
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    store32(f, base + 0x2000, 0x11111111);                 /* fills the TLB, direct (dirty page) */
    ck_assert_uint_eq(tlb_of(f, base + 0x2000)->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, base, 0x10000, bits), 16);
    ck_assert_uint_eq(bits[0], 0xFFFF);
    /* the clean pages lose direct writes at the CPU's next sync */
    cpu_tlb_sync(&f->cpu);
    ck_assert_uint_eq(tlb_of(f, base + 0x2000)->lin_page & TLB_KIND_WRITE_SUP, 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, base, 0x10000, bits), 0);

    store32(f, base + 0x2010, 0x22222222);                 /* slow path: marks */
    ck_assert_uint_eq(tlb_of(f, base + 0x2000)->lin_page & TLB_KIND_WRITE_SUP, TLB_KIND_WRITE_SUP);
    store32(f, base + 0x2020, 0x33333333);                 /* direct again */
    store32(f, base + 0x7FFC, 0x44444444);                 /* a fresh entry on a clean page */
    ck_assert_uint_eq(memcmp(host + 0x2010, "\x22\x22\x22\x22", 4), 0);
    ck_assert_uint_eq(memcmp(host + 0x2020, "\x33\x33\x33\x33", 4), 0);
    ck_assert_uint_eq(memcmp(host + 0x7FFC, "\x44\x44\x44\x44", 4), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, base, 0x10000, bits), 2);
    ck_assert_uint_eq(bits[0], (1u << 2) | (1u << 7));
    /* a store straddling two clean pages marks both */
    cpu_tlb_sync(&f->cpu);
    store32(f, base + 0x3FFE, 0x55667788);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, base, 0x10000, bits), 2);
    ck_assert_uint_eq(bits[0], (1u << 3) | (1u << 4));
    ck_assert_uint_eq(phys_read(&f->pm, base + 0x3FFE, 4), 0x55667788);
}

START_TEST(cpu_store_to_clean_devram_page)
{
    struct fixture *f = fixture_new();
    check_store_marks(f, FB_BASE, f->fb);
    fixture_free(f);
}
END_TEST

START_TEST(cpu_store_to_clean_ram_page)
{
    struct fixture *f = fixture_new();
    check_store_marks(f, 0x200000, f->pm.ram + 0x200000);
    fixture_free(f);
}
END_TEST

START_TEST(bulk_writes_mark)
{
    struct fixture *f = fixture_new();
    uint64_t bits[4];
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits);
    take(f, PHYS_DIRTY_VGA, RAM_SIZE - 0x10000, 0x10000, bits);
    /* phys_load over three framebuffer pages (unaligned ends) */
    static uint8_t src[0x2000];
    memset(src, 0x5A, sizeof src);
    phys_load(&f->pm, FB_BASE + 0x5F80, src, sizeof src);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 3);
    ck_assert_uint_eq(bits[0], (1u << 5) | (1u << 6) | (1u << 7));
    ck_assert_uint_eq(f->fb[0x5F80], 0x5A);
    ck_assert_uint_eq(f->fb[0x5F80 + sizeof src - 1], 0x5A);
    /* a word written across the end of the framebuffer and the last RAM page */
    phys_write(&f->pm, FB_BASE + FB_SIZE - 2, 0x12345678, 4);
    phys_load(&f->pm, RAM_SIZE - 0x800, src, 0x1000);      /* runs off the end of RAM */
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 1);
    ck_assert_uint_eq(bits[0], 1ull << 63);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, RAM_SIZE - 0x10000, 0x11000, bits), 1);
    ck_assert_uint_eq(bits[0], 1ull << 15);
    fixture_free(f);
}
END_TEST

START_TEST(devram_regions_added_and_removed)
{
    struct fixture *f = fixture_new();
    uint64_t bits[4];
    phys_dirty_enable(&f->pm, PHYS_DIRTY_VGA, true);
    take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits);
    /* the framebuffer moves (a PCI BAR reprogrammed): the new pages are dirty */
    ck_assert_int_eq(phys_remove_region(&f->pm, FB_BASE, PHYS_DEVRAM), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, FB_BASE, FB_SIZE, bits), 0);   /* unassigned now */
    ck_assert_int_eq(phys_add_devram(&f->pm, 0xD0000000u, FB_SIZE, f->fb), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0xD0000000u, FB_SIZE, bits), 64);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0xD0000000u, FB_SIZE, bits), 0);
    /* a region laid over RAM: the RAM pages under it show again on removal */
    take(f, PHYS_DIRTY_VGA, 0x300000, 0x4000, bits);
    ck_assert_int_eq(phys_add_devram(&f->pm, 0x300000, 0x2000, f->fb), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0x300000, 0x4000, bits), 2);
    ck_assert_uint_eq(bits[0], 3);
    ck_assert_int_eq(phys_remove_region(&f->pm, 0x300000, PHYS_DEVRAM), 0);
    ck_assert_uint_eq(take(f, PHYS_DIRTY_VGA, 0x300000, 0x4000, bits), 2);
    ck_assert_uint_eq(bits[0], 3);
    fixture_free(f);
}
END_TEST

static Suite *dirty_suite(void)
{
    Suite *s = suite_create("dirty");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, start_dirty_ram_and_devram);
    tcase_add_test(tc, clients_are_independent);
    tcase_add_test(tc, cpu_store_to_clean_devram_page);
    tcase_add_test(tc, cpu_store_to_clean_ram_page);
    tcase_add_test(tc, bulk_writes_mark);
    tcase_add_test(tc, devram_regions_added_and_removed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dirty_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
