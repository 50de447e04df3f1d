/* tests/baremetal/mmu_ad.c: accessed and dirty bits as the CPU writes them
 * into the guest's page tables (SDM Vol. 3A 4.8, 4.10.4.3).
 *
 *   - at CPL 0 and CPL 3, with CR0.WP off and on: a read sets A only, a
 *     write sets A and D (also when the page was cached clean by a read);
 *     A/D cleared and INVLPG: the next accesses set them again; cleared
 *     without INVLPG: they may stay clear (either is accepted);
 *   - supervisor write to a read-only page: WP=0 completes and sets D,
 *     WP=1 faults and sets no D; faulting accesses set no D, and nothing
 *     in a not-present PTE; the PTE's A on a protection fault and the
 *     PDE's A on a faulting 4 KB access may go either way (the SDM leaves
 *     it open; QEMU sets the PDE's A);
 *   - 4 MB pages keep A/D in the PDE; a 4 KB walk sets A in the PDE and
 *     never D. */
#include "runtime.h"

#define CR0_WP  0x00010000u
#define PT_A    0x00800000u   /* page table of PDE 64 */
#define FRAMES  0x00900000u
#define BIG     0x01000000u   /* 4 MB frame of PDE 80 */
#define L_A     0x10000000u
#define L_BIG   0x14000000u
#define AD      (PTE_A | PTE_D)

static volatile uint32_t *const pt = (volatile uint32_t *)PT_A;
static volatile uint32_t *const pde_a = &page_dir[L_A >> 22];
static volatile uint32_t *const pde_big = &page_dir[L_BIG >> 22];

static uint32_t lin(unsigned i) { return L_A + i * 4096u; }
static uint32_t frame(unsigned i) { return FRAMES + i * 4096u; }

static void set_wp(bool on) { write_cr0(on ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP); }

/* A fresh mapping of page i (A and D clear), invalidated. */
static void fresh(unsigned i, uint32_t flags)
{
    pt[i] = frame(i) | PTE_P | flags;
    invlpg(lin(i));
}

static int rd(bool user, uint32_t addr)
{
    uint32_t v;
    return user ? try_user_read32(addr, &v) : try_read32(addr, &v);
}

static int wr(bool user, uint32_t addr) { return user ? try_user_write32(addr, 0x5A5A) : try_write32(addr, 0x5A5A); }

static void check_ad(const char *what, const char *who, bool wp, volatile uint32_t *entry, uint32_t want)
{
    uint32_t got = *entry & AD;
    CHECK(got == want, "%s WP=%d: %s", who, wp, what);
    if (got != want)
        printf_e9("     entry %x, want A/D %x\n", *entry, want);
}

static void ad_sequence(unsigned i, bool user, bool wp)
{
    const char *who = user ? "CPL 3" : "CPL 0";
    uint32_t l = lin(i), kept = frame(i) | PTE_P | PTE_W | PTE_U;
    set_wp(wp);
    fresh(i, PTE_W | PTE_U);
    CHECK(rd(user, l) == -1, "%s WP=%d: read completes", who, wp);
    check_ad("a read sets A only", who, wp, &pt[i], PTE_A);
    CHECK(wr(user, l) == -1, "%s WP=%d: write completes", who, wp);
    check_ad("then a write sets D too", who, wp, &pt[i], AD);

    pt[i] &= ~AD;
    invlpg(l);
    rd(user, l);
    check_ad("A/D cleared, INVLPG, read: A again", who, wp, &pt[i], PTE_A);
    pt[i] &= ~AD;
    invlpg(l);
    wr(user, l + 4);
    check_ad("A/D cleared, INVLPG, write: A and D again", who, wp, &pt[i], AD);

    pt[i] &= ~PTE_D;
    CHECK(wr(user, l + 8) == -1 && (pt[i] & ~AD) == kept,
          "%s WP=%d: D cleared without INVLPG, write: D set or not, the PTE otherwise kept", who, wp);
    invlpg(l);
    wr(user, l + 8);
    check_ad("then INVLPG, write: D set", who, wp, &pt[i], AD);
    pt[i] &= ~AD;
    CHECK(rd(user, l) == -1 && (pt[i] & ~AD) == kept,
          "%s WP=%d: A/D cleared without INVLPG, read: A set or not, the PTE otherwise kept", who, wp);
    CHECK(!(pt[i] & PTE_D), "%s WP=%d: ... and no D from a read", who, wp);

    fresh(i, PTE_W | PTE_U);
    wr(user, l);
    check_ad("a first write sets A and D", who, wp, &pt[i], AD);
}

static void check_pf(const char *what, int vec, uint32_t addr, uint32_t error)
{
    bool ok = vec == 14 && exc_last.error == error && exc_last.cr2 == addr;
    CHECK(ok, "%s: #PF error %x", what, error);
    if (!ok)
        printf_e9("     got vector %d error %x cr2 %x\n", vec, exc_last.error, exc_last.cr2);
}

static void read_only_and_faults(void)
{
    uint32_t l = lin(10);
    set_wp(false);
    fresh(10, PTE_U);
    CHECK(wr(false, l) == -1 && *(volatile uint32_t *)frame(10) == 0x5A5A,
          "CPL 0 WP=0: write to a read-only page completes");
    check_ad("... and sets A and D", "CPL 0", false, &pt[10], AD);
    fresh(10, PTE_U);
    rd(false, l);
    wr(false, l);
    check_ad("read-only page read, then written: D set", "CPL 0", false, &pt[10], AD);

    set_wp(true);
    fresh(10, PTE_U);
    rd(false, l);
    check_pf("CPL 0 WP=1: write to a read-only page", wr(false, l), l, 3);
    check_ad("... sets no D (A from the read)", "CPL 0", true, &pt[10], PTE_A);
    fresh(10, PTE_U);
    check_pf("CPL 0 WP=1: first access a write to a read-only page", wr(false, l), l, 3);
    CHECK(!(pt[10] & PTE_D), "CPL 0 WP=1: ... sets no D (A may be set or not)");
    set_wp(false);
    CHECK(wr(false, l) == -1, "WP cleared again: the same write completes");
    check_ad("... and sets A and D", "CPL 0", false, &pt[10], AD);

    for (int wp = 0; wp < 2; wp++) {
        set_wp(wp);
        fresh(10, PTE_U);
        rd(true, l);
        check_pf("CPL 3: write to a read-only page", wr(true, l), l, 7);
        check_ad("... sets no D", "CPL 3", wp, &pt[10], PTE_A);
        fresh(10, PTE_W);
        check_pf("CPL 3: read of a supervisor page", rd(true, l), l, 5);
        CHECK(!(pt[10] & PTE_D), "CPL 3 WP=%d: ... sets no D (A may be set or not)", wp);
        check_pf("CPL 3: write to a supervisor page", wr(true, l), l, 7);
        CHECK(!(pt[10] & PTE_D), "CPL 3 WP=%d: ... sets no D", wp);
    }
    set_wp(false);

    pt[11] = 0x00ABC000u | PTE_W | PTE_U;            /* not present */
    invlpg(lin(11));
    *pde_a &= ~AD;
    invlpg(lin(11));
    check_pf("CPL 0: write to a not-present page", wr(false, lin(11)), lin(11), 2);
    check_pf("CPL 3: read of a not-present page", rd(true, lin(11)), lin(11), 4);
    CHECK(pt[11] == (0x00ABC000u | PTE_W | PTE_U), "the not-present PTE is left as it was");
    CHECK(!(*pde_a & PTE_D), "the PDE above it: no D (A may be set or not)");
}

static void pde_bits(void)
{
    fresh(12, PTE_W | PTE_U);
    *pde_a &= ~AD;
    invlpg(lin(12));
    rd(false, lin(12));
    CHECK((*pde_a & AD) == PTE_A, "4 KB read: A set in the PDE, D not");
    *pde_a &= ~AD;
    fresh(13, PTE_W | PTE_U);
    wr(true, lin(13));
    CHECK((*pde_a & AD) == PTE_A && (pt[13] & AD) == AD, "4 KB user write: A (no D) in the PDE, A and D in the PTE");
}

static void big_page(bool user, bool wp)
{
    const char *who = user ? "CPL 3" : "CPL 0";
    set_wp(wp);
    *pde_big = BIG | PTE_P | PTE_W | PTE_U | PTE_PS;
    invlpg(L_BIG);
    rd(user, L_BIG + 0x123000);
    check_ad("4 MB read: A only in the PDE", who, wp, pde_big, PTE_A);
    wr(user, L_BIG + 0x321000);
    check_ad("4 MB write elsewhere in the page: A and D in the PDE", who, wp, pde_big, AD);
    *pde_big &= ~AD;
    invlpg(L_BIG + 0x3FF000);
    wr(user, L_BIG + 0x10);
    check_ad("4 MB A/D cleared, INVLPG, write: A and D again", who, wp, pde_big, AD);
    CHECK(*(volatile uint32_t *)(BIG + 0x10) == 0x5A5A, "%s WP=%d: the write reached the 4 MB frame", who, wp);
}

static void big_read_only(void)
{
    *pde_big = BIG | PTE_P | PTE_U | PTE_PS;
    invlpg(L_BIG);
    set_wp(true);
    rd(false, L_BIG);
    check_pf("4 MB read-only, CPL 0 WP=1: write", wr(false, L_BIG + 4), L_BIG + 4, 3);
    check_ad("... no D in the PDE", "CPL 0", true, pde_big, PTE_A);
    set_wp(false);
    CHECK(wr(false, L_BIG + 4) == -1, "4 MB read-only, CPL 0 WP=0: write completes");
    check_ad("... D in the PDE", "CPL 0", false, pde_big, AD);
}

void test_main(void)
{
    puts_e9("mmu_ad: accessed and dirty bits at CPL 0 and 3, WP off and on\n");
    paging_identity();
    paging_fill_identity(page_dir, 32);
    write_cr3(read_cr3());
    memset((void *)PT_A, 0, 4096);
    *pde_a = PT_A | PTE_P | PTE_W | PTE_U;

    unsigned page = 0;
    for (int user = 0; user < 2; user++)
        for (int wp = 0; wp < 2; wp++)
            ad_sequence(page++, user, wp);
    read_only_and_faults();
    pde_bits();
    for (int user = 0; user < 2; user++)
        for (int wp = 0; wp < 2; wp++)
            big_page(user, wp);
    big_read_only();
    paging_off();
}
