/* tests/baremetal/mmu_spaces.c: many address spaces, and page tables
 * shared between them: what a shadow-per-CR3 MMU must keep coherent.
 *
 *   - two page directories sharing a page table: a PTE edited (without
 *     INVLPG) in space X is seen after switching to Y and back (a CR3 write
 *     flushes every non-global translation); the PD and the PTs of the
 *     space that is not current edited, then seen on the switch; one PD
 *     loaded with two CR3 values (PWT, PCD) is one set of tables;
 *   - 200 address spaces, each mapping its own page at one linear address
 *     (plus the shared kernel identity and a page shared by all): switched
 *     through several times in two orders, each visit checks its value and
 *     counts in its page; then the PTEs and PDEs of spaces that are not
 *     current are edited (moved, or made not present) and every edit must
 *     be seen on the next visit; a space edits its own PTE through an alias
 *     of its page table; the A/D bits the CPU set in every space's PTE. */
#include "runtime.h"

#define L_S      0x10000000u      /* PDE 64: the per-space page */
#define L_P      0x10400000u      /* PDE 65 */

/* two spaces (physical, identity mapped) */
#define PD_X     0x00A00000u
#define PD_Y     0x00A01000u
#define PT_S     0x00A02000u      /* shared by X and Y at PDE 64 */
#define PT_X     0x00A03000u
#define PT_Y     0x00A04000u
#define FR       0x00A10000u      /* 16 frames, frame n starts with 0xC0DE0000 | n */

/* 200 spaces */
#define NSPACES  200
#define PDS      0x01000000u
#define PTS      0x01100000u
#define PAGES    0x01200000u
#define COMMON   0x01300000u      /* mapped at L_S + 0x1000 in every space */
#define ROUNDS   5

#define FAULT    (-1)
#define STRANGE  (-2)

static volatile uint32_t *table(uint32_t phys) { return (volatile uint32_t *)phys; }
static uint32_t fr(unsigned n) { return FR + n * 4096u; }
static uint32_t pd(unsigned i) { return PDS + i * 4096u; }
static uint32_t pt(unsigned i) { return PTS + i * 4096u; }
static uint32_t page(unsigned i) { return PAGES + i * 4096u; }

/* The signature number at lin (low 16 bits) if it has tag in its high
 * half, FAULT for a #PF at lin with error 0, STRANGE otherwise. */
static int value_at(uint32_t lin, uint32_t tag)
{
    uint32_t v;
    int vec = try_read32(lin, &v);
    if (vec == 14 && exc_last.error == 0 && exc_last.cr2 == lin)
        return FAULT;
    if (vec != -1 || (v & 0xFFFF0000u) != tag)
        return STRANGE;
    return (int)(v & 0xFFFF);
}

static void check_value(const char *what, int got, int want)
{
    CHECK(got == want, "%s", what);
    if (got != want)
        printf_e9("     got %d, want %d\n", got, want);
}

static void two_spaces(void)
{
    for (unsigned n = 0; n < 16; n++)
        *table(fr(n)) = 0xC0DE0000u | n;
    memset((void *)PT_S, 0, 3 * 4096);
    paging_fill_identity(table(PD_X), 32);
    paging_fill_identity(table(PD_Y), 32);
    table(PD_X)[64] = table(PD_Y)[64] = PT_S | PTE_P | PTE_W | PTE_U;
    table(PD_X)[65] = PT_X | PTE_P | PTE_W | PTE_U;
    table(PD_Y)[65] = PT_Y | PTE_P | PTE_W | PTE_U;
    table(PT_S)[0] = fr(0) | PTE_P | PTE_W | PTE_U;
    table(PT_X)[0] = fr(1) | PTE_P | PTE_W | PTE_U;
    table(PT_Y)[0] = fr(2) | PTE_P | PTE_W | PTE_U;

    write_cr3(PD_X);
    check_value("X: shared PT maps frame 0", value_at(L_S, 0xC0DE0000u), 0);
    check_value("X: own PT maps frame 1", value_at(L_P, 0xC0DE0000u), 1);
    write_cr3(PD_Y);
    check_value("Y: shared PT maps frame 0", value_at(L_S, 0xC0DE0000u), 0);
    check_value("Y: own PT maps frame 2", value_at(L_P, 0xC0DE0000u), 2);

    write_cr3(PD_X);
    (void)value_at(L_S, 0xC0DE0000u);
    table(PT_S)[0] = fr(3) | PTE_P | PTE_W | PTE_U;          /* no INVLPG */
    write_cr3(PD_Y);
    check_value("shared PTE edited in X, no INVLPG: Y sees it", value_at(L_S, 0xC0DE0000u), 3);
    write_cr3(PD_X);
    check_value("... and X after switching back", value_at(L_S, 0xC0DE0000u), 3);
    write_cr3(PD_Y);
    table(PT_S)[0] = fr(4) | PTE_P | PTE_W | PTE_U;
    invlpg(L_S);
    check_value("shared PTE edited in Y with INVLPG: Y sees it", value_at(L_S, 0xC0DE0000u), 4);
    write_cr3(PD_X);
    check_value("... and X", value_at(L_S, 0xC0DE0000u), 4);
    *(volatile uint32_t *)(L_S + 4) = 0x1234;
    write_cr3(PD_Y);
    CHECK(*(volatile uint32_t *)(L_S + 4) == 0x1234, "a write in X through the shared PT is read in Y");

    table(PD_X)[65] = PT_Y | PTE_P | PTE_W | PTE_U;          /* X's PD, from Y */
    table(PT_Y)[0] = fr(5) | PTE_P | PTE_W | PTE_U;
    write_cr3(PD_X);
    check_value("X's PDE and Y's PTE edited in Y: X sees both", value_at(L_P, 0xC0DE0000u), 5);
    table(PD_Y)[65] = PT_X | PTE_P | PTE_W | PTE_U;          /* Y's PD, from X */
    write_cr3(PD_Y);
    check_value("Y's PDE edited in X: Y sees it", value_at(L_P, 0xC0DE0000u), 1);
    table(PD_X)[65] = 0;
    write_cr3(PD_X);
    check_value("X's PDE cleared from Y: #PF in X", value_at(L_P, 0xC0DE0000u), FAULT);

    /* one PD, two CR3 values */
    write_cr3(PD_X | 0x08);
    check_value("CR3 = PD X | PWT: shared PT", value_at(L_S, 0xC0DE0000u), 4);
    table(PT_S)[0] = fr(6) | PTE_P | PTE_W | PTE_U;
    write_cr3(PD_X);
    check_value("PTE edited under PD X | PWT: PD X sees it", value_at(L_S, 0xC0DE0000u), 6);
    table(PD_X)[65] = PT_X | PTE_P | PTE_W | PTE_U;
    write_cr3(PD_X | 0x10);
    check_value("PDE edited under PD X: PD X | PCD sees it", value_at(L_P, 0xC0DE0000u), 1);
    table(PT_X)[0] = fr(7) | PTE_P | PTE_W | PTE_U;
    write_cr3(PD_X | 0x08);
    check_value("PTE edited under PD X | PCD: PD X | PWT sees it", value_at(L_P, 0xC0DE0000u), 7);
    write_cr3((uint32_t)page_dir);
}

/* ---- 200 spaces ---- */

static uint32_t sig(unsigned i) { return 0x5A000000u + i; }

static void build_spaces(void)
{
    memset((void *)COMMON, 0, 4096);
    for (unsigned i = 0; i < NSPACES; i++) {
        volatile uint32_t *d = table(pd(i)), *t = table(pt(i));
        paging_fill_identity(d, 32);
        d[64] = pt(i) | PTE_P | PTE_W | PTE_U;
        memset((void *)pt(i), 0, 4096);
        t[0] = page(i) | PTE_P | PTE_W | PTE_U;
        t[1] = COMMON | PTE_P | PTE_W | PTE_U;
        t[2] = pt(i) | PTE_P | PTE_W;                          /* its own PT, at L_S + 0x2000 */
        memset((void *)page(i), 0, 4096);
        *table(page(i)) = sig(i);
    }
}

/* Visit every space once (order 0: 0, 1, 2 ...; else a permutation), check
 * that L_S reads want[i] (a space number, or FAULT) and count the visit in
 * the page. Returns the number of wrong visits. */
static unsigned visit_all(const int *want, unsigned order)
{
    unsigned wrong = 0;
    for (unsigned j = 0; j < NSPACES; j++) {
        unsigned i = order ? (j * 77 + order * 13) % NSPACES : j;     /* 77 is prime to 200 */
        write_cr3(pd(i));
        int got = value_at(L_S, 0x5A000000u);
        if (got != want[i]) {
            if (wrong++ < 4)
                printf_e9("     space %u: got %d, want %d\n", i, got, want[i]);
            continue;
        }
        if (got == FAULT)
            continue;
        *(volatile uint32_t *)(L_S + 4) += 1;
        *(volatile uint32_t *)(L_S + 0x1000 + 4 * (i % 1024)) = i + 1;
        if (*(volatile uint32_t *)(COMMON + 4 * (i % 1024)) != i + 1 && wrong++ < 4)
            printf_e9("     space %u: the common page write is not seen at its physical address\n", i);
    }
    write_cr3((uint32_t)page_dir);
    return wrong;
}

static void many_spaces(void)
{
    static int want[NSPACES];
    build_spaces();
    for (unsigned i = 0; i < NSPACES; i++)
        want[i] = (int)i;
    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned wrong = visit_all(want, r);
        CHECK(wrong == 0, "round %u (%s): each of 200 spaces sees its own page", r,
              r ? "permuted" : "in order");
    }
    unsigned bad = 0;
    for (unsigned i = 0; i < NSPACES; i++)
        if (table(page(i))[1] != ROUNDS || (table(pt(i))[0] & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
            bad++;
    CHECK(bad == 0, "every page counted each visit; every space's PTE has A and D set");

    /* Edit spaces that are not current: from space 0, which stays as it is. */
    write_cr3(pd(0));
    (void)value_at(L_S, 0x5A000000u);
    for (unsigned i = 1; i < NSPACES; i++) {
        switch (i % 5) {
        case 1:                                     /* PTE moved to another space's page */
            table(pt(i))[0] = page(NSPACES - 1 - i) | PTE_P | PTE_W | PTE_U;
            want[i] = (int)(NSPACES - 1 - i);
            break;
        case 2:                                     /* PDE moved to the previous space's PT */
            table(pd(i))[64] = pt(i - 1) | PTE_P | PTE_W | PTE_U;
            want[i] = (int)(NSPACES - i);
            break;
        case 3:                                     /* PTE made not present */
            table(pt(i))[0] = 0;
            want[i] = FAULT;
            break;
        case 4:                                     /* PDE made not present */
            table(pd(i))[64] = 0;
            want[i] = FAULT;
            break;
        }
    }
    write_cr3((uint32_t)page_dir);
    for (unsigned r = 0; r < 2; r++) {
        unsigned wrong = visit_all(want, r * 3);
        CHECK(wrong == 0, "after editing 160 spaces from another: round %u sees every edit", r);
    }

    /* Put them back from the kernel's own directory. */
    for (unsigned i = 0; i < NSPACES; i++) {
        table(pd(i))[64] = pt(i) | PTE_P | PTE_W | PTE_U;
        table(pt(i))[0] = page(i) | PTE_P | PTE_W | PTE_U;
        want[i] = (int)i;
    }
    CHECK(visit_all(want, 5) == 0, "edits undone: every space sees its own page again");

    /* A space edits its own PTE through the alias of its page table. */
    unsigned wrong = 0;
    for (unsigned i = 0; i < NSPACES; i += 10) {
        volatile uint32_t *alias = (volatile uint32_t *)(L_S + 0x2000);
        unsigned other = (i + 1) % NSPACES;
        write_cr3(pd(i));
        alias[0] = page(other) | PTE_P | PTE_W | PTE_U;
        invlpg(L_S);
        if (value_at(L_S, 0x5A000000u) != (int)other)
            wrong++;
        write_cr3(pd(other));
        write_cr3(pd(i));
        if (value_at(L_S, 0x5A000000u) != (int)other)
            wrong++;
        alias[0] = page(i) | PTE_P | PTE_W | PTE_U;
        invlpg(L_S);
        if (value_at(L_S, 0x5A000000u) != (int)i)
            wrong++;
    }
    write_cr3((uint32_t)page_dir);
    CHECK(wrong == 0, "20 spaces each moved their own PTE through an alias of their PT and back");
    CHECK(visit_all(want, 7) == 0, "a last round: every space sees its own page");
}

void test_main(void)
{
    puts_e9("mmu_spaces: shared page tables and 200 address spaces\n");
    paging_identity();
    paging_fill_identity(page_dir, 32);
    write_cr3(read_cr3());
    two_spaces();
    many_spaces();
    paging_off();
}
