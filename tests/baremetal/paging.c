/* tests/baremetal/paging.c: two-level paging without PAE: 4 KB and 4 MB
 * (PSE) translations, aliases, accessed/dirty bits in PTEs and 4 MB PDEs,
 * CR0.WP for supervisor writes, user/supervisor and read-only checks from
 * ring 3, and #PF error codes with CR2 for each case. */
#include "runtime.h"

#define PAGE_AD   0x00200000u   /* a free 4 KB page for A/D tests */
#define PAGE_RO   0x00202000u   /* made read-only */
#define PAGE_SUP  0x00203000u   /* made supervisor-only */
#define ALIAS_4K  0x00300000u   /* remapped to PAGE_AD */
#define BIG_AD    0x00400100u   /* inside the identity 4 MB page */
#define ALIAS_4M  0x00800000u   /* PDE 2: 4 MB page aliasing physical 4 MB */
#define UNMAPPED  0x00C00004u   /* PDE 3 not present */

static volatile uint32_t target;
static uint8_t user_stack[4096] __attribute__((aligned(16)));

static volatile uint32_t *pte(uint32_t lin) { return &page_table0[lin >> 12]; }

static void flush_all(void) { write_cr3(read_cr3()); }

static void read_at(void *arg) { (void)*(volatile uint32_t *)target; }
static void write_at(void *arg) { *(volatile uint32_t *)target = 0xC0FFEE; }

static void user_read(void) { (void)*(volatile uint32_t *)target; asm volatile("int $0x40"); }
static void user_write(void) { *(volatile uint32_t *)target = 0xBAD; asm volatile("int $0x40"); }

static void ring3_read(void *arg) { enter_ring3(user_read, (uint32_t)(user_stack + sizeof(user_stack))); }
static void ring3_write(void *arg) { enter_ring3(user_write, (uint32_t)(user_stack + sizeof(user_stack))); }

static void expect_pf(const char *what, void (*fn)(void *), uint32_t addr, uint32_t error)
{
    target = addr;
    int v = run_catching(fn, 0);
    CHECK(v == 14 && exc_last.error == error && exc_last.cr2 == addr,
          "%-34s -> vector %d error %x cr2 %x", what, v, exc_last.error, exc_last.cr2);
}

static void expect_ok(const char *what, void (*fn)(void *), uint32_t addr)
{
    target = addr;
    int v = run_catching(fn, 0);
    CHECK(v == 0x40 || v == -1, "%-34s -> no fault", what);
}

static void ad_bits_4k(void)
{
    *pte(PAGE_AD) &= ~(uint32_t)(PTE_A | PTE_D);
    flush_all();
    CHECK((*pte(PAGE_AD) & (PTE_A | PTE_D)) == 0, "4K: A/D clear in the PTE");
    (void)*(volatile uint32_t *)PAGE_AD;
    CHECK((*pte(PAGE_AD) & (PTE_A | PTE_D)) == PTE_A, "4K read: PTE %x (A set, D clear)",
          *pte(PAGE_AD) & 0xFFF);
    *(volatile uint32_t *)PAGE_AD = 0x12345678;
    CHECK((*pte(PAGE_AD) & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "4K write: PTE %x (A and D set)",
          *pte(PAGE_AD) & 0xFFF);
}

static void ad_bits_4m(void)
{
    page_dir[1] &= ~(uint32_t)(PTE_A | PTE_D);
    invlpg(BIG_AD);
    (void)*(volatile uint32_t *)BIG_AD;
    CHECK((page_dir[1] & (PTE_A | PTE_D)) == PTE_A, "4M read: PDE %x (A set, D clear)", page_dir[1] & 0xFFF);
    *(volatile uint32_t *)BIG_AD = 1;
    CHECK((page_dir[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "4M write: PDE %x (A and D set)",
          page_dir[1] & 0xFFF);
}

static void aliases(void)
{
    *pte(ALIAS_4K) = PAGE_AD | PTE_P | PTE_W;
    invlpg(ALIAS_4K);
    *(volatile uint32_t *)(ALIAS_4K + 8) = 0xA11A5;
    CHECK(*(volatile uint32_t *)(PAGE_AD + 8) == 0xA11A5, "4K alias %x -> %x", ALIAS_4K, PAGE_AD);
    page_dir[ALIAS_4M >> 22] = 0x400000u | PTE_P | PTE_W | PTE_PS;
    invlpg(ALIAS_4M);
    *(volatile uint32_t *)(ALIAS_4M + 0x1234) = 0xB16;
    CHECK(*(volatile uint32_t *)(0x400000u + 0x1234) == 0xB16, "4M alias %x -> %x", ALIAS_4M, 0x400000u);
    CHECK(page_dir[ALIAS_4M >> 22] & PTE_D, "4M alias PDE dirty after the write");
}

void test_main(void)
{
    puts_e9("paging: 4K/4M pages, A/D bits, WP, U/S\n");
    idt_set_default(0x40, 3);       /* ring 3 code ends with int 0x40 */
    paging_identity();
    CHECK(read_cr0() & 0x80000000u, "paging on, cr3 = page_dir");

    ad_bits_4k();
    ad_bits_4m();
    aliases();

    *pte(PAGE_RO) &= ~(uint32_t)PTE_W;
    *pte(PAGE_SUP) &= ~(uint32_t)PTE_U;
    flush_all();
    expect_ok("supervisor write RO page, WP=0", write_at, PAGE_RO);
    CHECK(*(volatile uint32_t *)PAGE_RO == 0xC0FFEE, "the write landed");
    write_cr0(read_cr0() | 0x10000u);
    expect_pf("supervisor write RO page, WP=1", write_at, PAGE_RO, 0x3);
    write_cr0(read_cr0() & ~0x10000u);

    expect_ok("user read of a user page", ring3_read, PAGE_AD);
    expect_pf("user write RO page", ring3_write, PAGE_RO, 0x7);
    expect_pf("user read supervisor page", ring3_read, PAGE_SUP, 0x5);
    expect_pf("user write supervisor page", ring3_write, PAGE_SUP, 0x7);
    expect_pf("supervisor read, PDE not present", read_at, UNMAPPED, 0x0);
    expect_pf("supervisor write, PDE not present", write_at, UNMAPPED, 0x2);
    expect_pf("user read, PDE not present", ring3_read, UNMAPPED, 0x4);
    *pte(PAGE_AD) &= ~(uint32_t)PTE_P;
    invlpg(PAGE_AD);
    expect_pf("user write, PTE not present", ring3_write, PAGE_AD, 0x6);
    paging_off();
}
