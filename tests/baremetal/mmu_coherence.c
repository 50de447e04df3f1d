/* tests/baremetal/mmu_coherence.c: when a page-table edit must be seen and
 * when a stale translation is allowed (SDM Vol. 3A 4.10.4).
 *
 *   - a present PTE changed (frame, R/W, U/S, P 1->0) without INVLPG: the
 *     old or the new translation; after INVLPG or a CR3 reload: the new one;
 *     a spurious #PF at most once (the fault drops the stale entry);
 *   - P 0->1 (PTE or PDE): seen without any invalidation (no TLB or
 *     paging-structure cache entry is made from a not-present entry);
 *   - global pages (CR4.PGE, G=1): a CR3 reload may keep them, INVLPG and a
 *     CR4.PGE toggle may not; with CR4.PGE=0 the G bit means nothing;
 *   - edits through aliases: the page table and the page directory mapped
 *     at second linear addresses and written there;
 *   - a page directory that maps itself (PDE 1023 -> the PD): PTEs and PDEs
 *     read and written through the recursive window, the D bit the write
 *     sets in the entry that served as the PTE;
 *   - 4 MB pages: aliasing a 4 KB-mapped region, a 4 MB PDE moved and
 *     invalidated by INVLPG of another address inside it, 4 MB <-> page
 *     table conversions, and CR4.PSE=0 treating PS=1 PDEs as page tables.
 *
 * Where either the old or the new translation is allowed the line printed
 * is the same for both, so the transcript matches QEMU's either way. */
#include "runtime.h"

#define CR0_WP  0x00010000u
#define CR4_PSE 0x00000010u
#define CR4_PGE 0x00000080u

/* physical layout (identity mapped 0-32 MB) */
#define PT_A     0x00800000u   /* the page table of PDE 64 */
#define PT_B     0x00801000u   /* a spare page table */
#define PT_C     0x00802000u   /* PDE 66: maps PT_A and page_dir (the aliases) */
#define PT_D     0x00803000u   /* a spare page table */
#define FRAMES   0x00900000u   /* 16 frames, frame n starts with sig(n) */
#define BIG_1    0x01000000u   /* two 4 MB frames with signatures */
#define BIG_2    0x01400000u
#define PSE_PT   0x00C00000u   /* a 4 MB frame, or with PSE off a page table */

/* linear layout */
#define L_A      0x10000000u   /* PDE 64 -> PT_A */
#define L_ALIAS  0x10800000u   /* PDE 66 -> PT_C: +0 is PT_A, +0x1000 is page_dir */
#define L_NEW    0x10C00000u   /* PDE 67, not present at first */
#define L_PDALIAS 0x11000000u  /* PDE 68, made present through the PD alias */
#define L_REC    0x11400000u   /* PDE 69, made present through the recursive window */
#define L_BIG    0x14000000u   /* PDE 80: a 4 MB page */
#define L_BIG0   0x14400000u   /* PDE 81: a 4 MB page over physical 0-4 MB */
#define L_PSE    0x14800000u   /* PDE 82: PS=1, read with PSE on and off */
#define REC_PD   ((volatile uint32_t *)0xFFFFF000u)
#define REC_PT(i) ((volatile uint32_t *)(0xFFC00000u + (uint32_t)(i) * 4096u))

#define FAULT    (-1)          /* frame_at: #PF */
#define STRANGE  (-2)          /* frame_at: no signature, or another vector */

static volatile uint32_t *const pt_a = (volatile uint32_t *)PT_A;
static volatile uint32_t *const pt_b = (volatile uint32_t *)PT_B;
static volatile uint32_t *const pt_c = (volatile uint32_t *)PT_C;
static volatile uint32_t *const pt_d = (volatile uint32_t *)PT_D;

static uint32_t frame(unsigned n) { return FRAMES + n * 4096u; }
static uint32_t sig(unsigned n) { return 0xF2A00000u + n; }
static uint32_t big_sig(uint32_t base, uint32_t off) { return (base == BIG_1 ? 0xB16A0000u : 0xB16B0000u) | off >> 12; }

/* Which frame reading lin reaches (its number), FAULT or STRANGE. */
static int frame_at(uint32_t lin)
{
    uint32_t v;
    int vec = try_read32(lin, &v);
    if (vec == 14)
        return FAULT;
    if (vec != -1 || (v & 0xFFFFFF00u) != 0xF2A00000u)
        return STRANGE;
    return (int)(v & 0xFF);
}

/* got must be want_a or want_b; the line printed does not say which. */
static void check_frame(const char *what, int got, int want_a, int want_b)
{
    bool ok = got == want_a || got == want_b;
    CHECK(ok, "%s", what);
    if (!ok)
        printf_e9("     got %d, want %d or %d\n", got, want_a, want_b);
}

static void check_fault(const char *what, int vec, uint32_t addr, uint32_t error)
{
    bool ok = vec == 14 && exc_last.error == error && exc_last.cr2 == addr;
    CHECK(ok, "%s: #PF error %x", what, error);
    if (!ok)
        printf_e9("     got vector %d error %x cr2 %x\n", vec, exc_last.error, exc_last.cr2);
}

static void setup(void)
{
    paging_identity();
    paging_fill_identity(page_dir, 32);
    write_cr3(read_cr3());
    for (unsigned n = 0; n < 16; n++) {
        memset((void *)frame(n), 0, 4096);
        *(volatile uint32_t *)frame(n) = sig(n);
    }
    memset((void *)PT_A, 0, 4 * 4096);
    pt_c[0] = PT_A | PTE_P | PTE_W;
    pt_c[1] = (uint32_t)page_dir | PTE_P | PTE_W;
    page_dir[64] = PT_A | PTE_P | PTE_W | PTE_U;
    page_dir[66] = PT_C | PTE_P | PTE_W | PTE_U;
}

/* Present entries changed: stale allowed until INVLPG or CR3 reload. */
static void present_changes(void)
{
    uint32_t l0 = L_A, l1 = L_A + 0x1000, l2 = L_A + 0x2000;

    pt_a[0] = frame(1) | PTE_P | PTE_W;
    check_frame("PTE 0->frame 1: read", frame_at(l0), 1, 1);
    pt_a[0] = frame(2) | PTE_P | PTE_W;
    check_frame("frame changed, no INVLPG: old or new frame", frame_at(l0), 1, 2);
    invlpg(l0);
    check_frame("frame changed, after INVLPG: new frame", frame_at(l0), 2, 2);
    pt_a[0] = frame(3) | PTE_P | PTE_W;
    check_frame("frame changed again, no INVLPG: old or new frame", frame_at(l0), 2, 3);
    write_cr3(read_cr3());
    check_frame("frame changed, after CR3 reload: new frame", frame_at(l0), 3, 3);

    write_cr0(read_cr0() | CR0_WP);
    pt_a[1] = frame(4) | PTE_P | PTE_W | PTE_U;
    CHECK(try_write32(l1 + 8, 1) == -1, "writable page: the write completes");
    pt_a[1] = frame(4) | PTE_P | PTE_U;
    int v = try_write32(l1 + 8, 2);
    CHECK(v == -1 || (v == 14 && exc_last.error == 3),
          "made read-only, no INVLPG: the write completes or faults");
    invlpg(l1);
    check_fault("made read-only, after INVLPG: supervisor write, WP=1", try_write32(l1 + 8, 3), l1 + 8, 3);
    pt_a[1] = frame(4) | PTE_P | PTE_W | PTE_U;
    v = try_write32(l1 + 8, 4);
    CHECK(v == -1 || (v == 14 && exc_last.error == 3),
          "made writable, no INVLPG: the write completes or faults (spurious #PF)");
    CHECK(try_write32(l1 + 8, 5) == -1 && *(volatile uint32_t *)(frame(4) + 8) == 5,
          "made writable: the next write completes (a #PF drops the stale entry)");
    write_cr0(read_cr0() & ~CR0_WP);

    uint32_t value;
    v = try_user_read32(l1, &value);
    CHECK(v == -1 && value == sig(4), "user page: user read");
    pt_a[1] = frame(4) | PTE_P | PTE_W;
    v = try_user_read32(l1, &value);
    CHECK((v == -1 && value == sig(4)) || (v == 14 && exc_last.error == 5),
          "made supervisor, no INVLPG: the user read completes or faults");
    invlpg(l1);
    check_fault("made supervisor, after INVLPG: user read", try_user_read32(l1, &value), l1, 5);
    pt_a[1] = frame(4) | PTE_P | PTE_W | PTE_U;
    v = try_user_read32(l1, &value);
    CHECK((v == -1 && value == sig(4)) || (v == 14 && exc_last.error == 5),
          "made user, no INVLPG: the user read completes or faults (spurious #PF)");
    v = try_user_read32(l1, &value);
    CHECK(v == -1 && value == sig(4), "made user: the next user read completes");

    pt_a[2] = frame(5) | PTE_P | PTE_W;
    check_frame("PTE 2->frame 5: read", frame_at(l2), 5, 5);
    pt_a[2] = 0;
    check_frame("made not present, no INVLPG: old frame or #PF", frame_at(l2), 5, FAULT);
    invlpg(l2);
    check_fault("made not present, after INVLPG: read", try_read32(l2, &value), l2, 0);
}

/* Not present -> present needs no invalidation; nor does a CR3 reload
 * keep anything non-global. */
static void not_present_to_present(void)
{
    uint32_t l3 = L_A + 0x3000, value;
    check_fault("PTE not present: read", try_read32(l3, &value), l3, 0);
    pt_a[3] = frame(6) | PTE_P | PTE_W;
    check_frame("PTE made present, no INVLPG: read sees it", frame_at(l3), 6, 6);
    pt_a[3] = frame(7) | PTE_P | PTE_W;
    write_cr3(read_cr3());
    check_frame("then moved, after CR3 reload: new frame", frame_at(l3), 7, 7);

    check_fault("PDE not present: write", try_write32(L_NEW + 0x5004, 1), L_NEW + 0x5004, 2);
    memset((void *)PT_B, 0, 4096);
    pt_b[5] = frame(8) | PTE_P | PTE_W;
    page_dir[67] = PT_B | PTE_P | PTE_W | PTE_U;
    check_frame("PDE made present, no INVLPG: read sees it", frame_at(L_NEW + 0x5000), 8, 8);
    CHECK(try_write32(L_NEW + 0x5004, 0x5EE) == -1 && *(volatile uint32_t *)(frame(8) + 4) == 0x5EE,
          "PDE made present: write lands in the new frame");
}

static void global_pages(void)
{
    uint32_t l4 = L_A + 0x4000;
    uint32_t cr4 = read_cr4();
    write_cr4(cr4 | CR4_PGE);
    pt_a[4] = frame(8) | PTE_P | PTE_W | PTE_G;
    check_frame("global page: read", frame_at(l4), 8, 8);
    pt_a[4] = frame(9) | PTE_P | PTE_W | PTE_G;
    write_cr3(read_cr3());
    check_frame("global page moved, after CR3 reload: old or new frame", frame_at(l4), 8, 9);
    invlpg(l4);
    check_frame("global page moved, after INVLPG: new frame", frame_at(l4), 9, 9);
    pt_a[4] = frame(10) | PTE_P | PTE_W | PTE_G;
    write_cr3(read_cr3());
    check_frame("global page moved, after CR3 reload: old or new frame", frame_at(l4), 9, 10);
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4 | CR4_PGE);
    check_frame("global page moved, after CR4.PGE toggle: new frame", frame_at(l4), 10, 10);
    write_cr4(cr4 & ~CR4_PGE);
    check_frame("CR4.PGE=0, G=1 page: read", frame_at(l4), 10, 10);
    pt_a[4] = frame(11) | PTE_P | PTE_W | PTE_G;
    write_cr3(read_cr3());
    check_frame("CR4.PGE=0, G=1 page moved, after CR3 reload: new frame", frame_at(l4), 11, 11);
    write_cr4(cr4);
}

/* The page table and the page directory written at second addresses. */
static void aliases(void)
{
    volatile uint32_t *alias_pt = (volatile uint32_t *)L_ALIAS;
    volatile uint32_t *alias_pd = (volatile uint32_t *)(L_ALIAS + 0x1000);
    uint32_t l5 = L_A + 0x5000, l6 = L_A + 0x6000, l7 = L_A + 0x7000, value;

    CHECK(alias_pt[0] == pt_a[0] && alias_pt[3] == pt_a[3], "PT read through its alias");
    CHECK(alias_pd[64] == page_dir[64], "PD read through its alias");
    check_fault("PTE 5 not present: read", try_read32(l5, &value), l5, 0);
    alias_pt[5] = frame(12) | PTE_P | PTE_W;
    check_frame("PTE made present through the alias, no INVLPG: seen", frame_at(l5), 12, 12);
    alias_pt[5] = frame(13) | PTE_P | PTE_W;
    check_frame("frame changed through the alias, no INVLPG: old or new", frame_at(l5), 12, 13);
    invlpg(l5);
    check_frame("frame changed through the alias, after INVLPG: new", frame_at(l5), 13, 13);
    CHECK(pt_a[5] == (frame(13) | PTE_P | PTE_W | PTE_A), "the PTE written at the alias, A set by the read");

    alias_pt[6] = frame(14) | PTE_P | PTE_W;
    check_frame("PTE 6 made present through the alias: read", frame_at(l6), 14, 14);
    CHECK((alias_pt[6] & (PTE_A | PTE_D)) == PTE_A, "A set by the CPU seen through the alias");
    alias_pt[7] = frame(1) | PTE_P | PTE_W;
    CHECK(try_write32(l7 + 12, 0x77) == -1 && *(volatile uint32_t *)(frame(1) + 12) == 0x77,
          "write through a PTE written at the alias lands in its frame");
    CHECK((alias_pt[7] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "A and D set by the write, seen through the alias");

    memset((void *)PT_D, 0, 4096);
    pt_d[0] = frame(15) | PTE_P | PTE_W;
    check_fault("PDE 68 not present: read", try_read32(L_PDALIAS, &value), L_PDALIAS, 0);
    alias_pd[68] = PT_D | PTE_P | PTE_W | PTE_U;
    check_frame("PDE made present through the PD alias, no INVLPG: seen", frame_at(L_PDALIAS), 15, 15);
    CHECK(page_dir[68] & PTE_A, "A set in that PDE, seen in the PD");
    pt_b[0] = frame(0) | PTE_P | PTE_W;
    alias_pd[68] = PT_B | PTE_P | PTE_W | PTE_U;
    check_frame("PDE moved through the PD alias, no INVLPG: old or new", frame_at(L_PDALIAS), 15, 0);
    invlpg(L_PDALIAS);
    check_frame("PDE moved through the PD alias, after INVLPG: new", frame_at(L_PDALIAS), 0, 0);
    alias_pd[68] = 0;
    invlpg(L_PDALIAS);
    check_fault("PDE cleared through the PD alias, after INVLPG", try_read32(L_PDALIAS, &value), L_PDALIAS, 0);
}

/* PDE 1023 points at the PD: the PD is at 0xFFFFF000, PT i at 0xFFC00000 + 4096 i. */
static void recursive(void)
{
    uint32_t l8 = L_A + 0x8000;
    page_dir[1023] = (uint32_t)page_dir | PTE_P | PTE_W;
    CHECK((REC_PD[1023] & 0xFFFFF000u) == (uint32_t)page_dir, "the PD seen through itself at 0xFFFFF000");
    CHECK(REC_PD[64] == page_dir[64], "a PDE read through the recursive window");
    CHECK(REC_PT(64)[0] == pt_a[0] && REC_PT(64)[5] == pt_a[5], "a PTE read through the recursive window");

    page_dir[64] &= ~(uint32_t)(PTE_A | PTE_D);
    invlpg((uint32_t)REC_PT(64));
    invlpg(L_A);
    (void)REC_PT(64)[1];
    CHECK((page_dir[64] & (PTE_A | PTE_D)) == PTE_A, "reading the window sets A (not D) in the PDE serving as PTE");
    REC_PT(64)[8] = frame(2) | PTE_P | PTE_W;
    CHECK((page_dir[64] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "writing the window sets D in the PDE serving as PTE");
    CHECK(!(page_dir[1023] & PTE_D), "the recursive PDE, only a PDE for that write, stays clean");
    check_frame("PTE made present through the window, no INVLPG: seen", frame_at(l8), 2, 2);
    REC_PT(64)[8] = frame(3) | PTE_P | PTE_W;
    check_frame("PTE moved through the window, no INVLPG: old or new", frame_at(l8), 2, 3);
    invlpg(l8);
    check_frame("PTE moved through the window, after INVLPG: new", frame_at(l8), 3, 3);

    memset((void *)PT_B, 0, 4096);
    pt_b[5] = frame(9) | PTE_P | PTE_W;
    pt_d[5] = frame(10) | PTE_P | PTE_W;
    REC_PD[69] = PT_B | PTE_P | PTE_W | PTE_U;
    CHECK(page_dir[1023] & PTE_D, "writing the PD at 0xFFFFF000 sets D in the recursive PDE (its PTE there)");
    check_frame("PDE made present through the window, no INVLPG: seen", frame_at(L_REC + 0x5000), 9, 9);
    CHECK((REC_PT(69)[5] & 0xFFFFF000u) == frame(9), "its page table seen through the window");
    REC_PD[69] = PT_D | PTE_P | PTE_W | PTE_U;
    invlpg(L_REC + 0x5000);
    invlpg((uint32_t)REC_PT(69));
    check_frame("PDE moved through the window, after INVLPG: new", frame_at(L_REC + 0x5000), 10, 10);
    CHECK((REC_PT(69)[5] & 0xFFFFF000u) == frame(10), "the new page table seen through the window");

    page_dir[1023] = 0;
    write_cr3(read_cr3());
    uint32_t value;
    check_fault("recursive PDE removed, after CR3 reload", try_read32(0xFFFFF000u, &value), 0xFFFFF000u, 0);
}

static void big_pages(void)
{
    static const uint32_t offs[] = { 0, 0x5000, 0x123000, 0x345000 };
    for (unsigned i = 0; i < 4; i++) {
        *(volatile uint32_t *)(BIG_1 + offs[i]) = big_sig(BIG_1, offs[i]);
        *(volatile uint32_t *)(BIG_2 + offs[i]) = big_sig(BIG_2, offs[i]);
    }
    uint32_t value;
    page_dir[80] = BIG_1 | PTE_P | PTE_W | PTE_PS;
    CHECK(try_read32(L_BIG + 0x123000, &value) == -1 && value == big_sig(BIG_1, 0x123000),
          "4 MB page: read");
    CHECK(try_read32(L_BIG + 0x345000, &value) == -1 && value == big_sig(BIG_1, 0x345000),
          "4 MB page: read elsewhere in it");

    page_dir[81] = 0 | PTE_P | PTE_W | PTE_PS;
    *(volatile uint32_t *)0x00210010u = 0xA1;
    CHECK(*(volatile uint32_t *)(L_BIG0 + 0x210010u) == 0xA1, "4 MB alias of 4 KB-mapped memory: read");
    *(volatile uint32_t *)(L_BIG0 + 0x210014u) = 0xA2;
    CHECK(*(volatile uint32_t *)0x00210014u == 0xA2, "4 MB alias of 4 KB-mapped memory: write");
    CHECK(page_dir[81] & PTE_D, "the 4 MB alias PDE is dirty");

    page_dir[80] = BIG_2 | PTE_P | PTE_W | PTE_PS;
    int v = try_read32(L_BIG + 0x345000, &value);
    CHECK(v == -1 && (value == big_sig(BIG_1, 0x345000) || value == big_sig(BIG_2, 0x345000)),
          "4 MB PDE moved, no INVLPG: old or new frame");
    invlpg(L_BIG + 0x123000);
    v = try_read32(L_BIG + 0x345000, &value);
    CHECK(v == -1 && value == big_sig(BIG_2, 0x345000), "4 MB PDE moved, INVLPG elsewhere in the page: new frame");

    memset((void *)PT_B, 0, 4096);
    pt_b[5] = frame(11) | PTE_P | PTE_W;
    page_dir[80] = PT_B | PTE_P | PTE_W;
    invlpg(L_BIG + 0x5000);
    check_frame("4 MB PDE made a page table, after INVLPG: its PTE", frame_at(L_BIG + 0x5000), 11, 11);
    check_fault("... and an address its PT leaves unmapped", try_read32(L_BIG + 0x345000, &value),
                L_BIG + 0x345000, 0);
    page_dir[80] = BIG_1 | PTE_P | PTE_W | PTE_PS;
    invlpg(L_BIG + 0x5000);
    v = try_read32(L_BIG + 0x5000, &value);
    CHECK(v == -1 && value == big_sig(BIG_1, 0x5000), "page table made a 4 MB PDE, after INVLPG: the big frame");

    /* CR4.PSE=0: PS is ignored, the PDE points at a page table. Only the
     * first 4 MB (4 KB pages) may be touched meanwhile. */
    memset((void *)PSE_PT, 0, 4096);
    ((volatile uint32_t *)PSE_PT)[3] = frame(12) | PTE_P | PTE_W;
    *(volatile uint32_t *)(PSE_PT + 0x3000) = 0xB16C0003u;
    page_dir[82] = PSE_PT | PTE_P | PTE_W | PTE_PS;
    CHECK(try_read32(L_PSE + 0x3000, &value) == -1 && value == 0xB16C0003u, "PSE=1, PS=1: a 4 MB page");
    uint32_t cr4 = read_cr4();
    write_cr4(cr4 & ~CR4_PSE);
    write_cr3(read_cr3());
    int f = frame_at(L_PSE + 0x3000);
    write_cr4(cr4);
    write_cr3(read_cr3());
    check_frame("PSE=0, PS=1: the PDE points at a page table", f, 12, 12);
    CHECK(try_read32(L_PSE + 0x3000, &value) == -1 && value == 0xB16C0003u, "PSE=1 again: the 4 MB page");
}

void test_main(void)
{
    puts_e9("mmu_coherence: page-table edits with and without invalidation\n");
    setup();
    present_changes();
    not_present_to_present();
    global_pages();
    aliases();
    recursive();
    big_pages();
    paging_off();
}
