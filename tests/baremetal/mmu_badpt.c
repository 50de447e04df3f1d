/* tests/baremetal/mmu_badpt.c: page tables and pages where no RAM is: what
 * the guest sees is the platform's business, but it must be the same every
 * time, the emulator must survive it, and whatever is architectural still
 * holds.
 *
 *   - a PDE whose page table is outside RAM (0xF0000000): a #PF or a
 *     value, the same on a second try; writing there faults or completes;
 *   - a PTE whose frame is outside RAM: reads complete and agree with each
 *     other, a write completes, A and D are set in the (RAM) PTE;
 *   - a page table in the BIOS area (ROM after QEMU's SeaBIOS, nothing on
 *     fox86's direct multiboot load) and in VGA memory (MMIO): every entry
 *     behaves as its contents read directly say, whatever is there;
 *   - a page mapping the BIOS area: reads match direct reads, a write
 *     through it completes and leaves the area as it was;
 *   - a page mapping VGA memory: reads through it match direct reads;
 *   - a page table mapping itself, changed through that very mapping. */
#include "runtime.h"

#define PT_A       0x00800000u    /* PDE 64 */
#define FRAMES     0x00900000u
#define NO_RAM     0xF0000000u    /* nothing there with 128 MB of RAM */
#define ROM_PAGE   0x000FF000u    /* the last page of the BIOS */
#define ROM_PAGE2  0x000F0000u
#define VGA_TEXT   0x000B8000u
#define L_A        0x10000000u
#define L_NORAM_PT 0x10400000u    /* PDE 65 -> page table outside RAM */
#define L_FOREIGN_PT 0x10800000u  /* PDE 66 -> page table in ROM or VGA memory */

static volatile uint32_t *const pt = (volatile uint32_t *)PT_A;
static uint32_t frame(unsigned n) { return FRAMES + n * 4096u; }

/* The outcome of reading lin, as one number to compare: the value, or
 * 0x100000000 | vector << 8 | error for a fault. */
static uint64_t outcome(uint32_t lin)
{
    uint32_t v;
    int vec = try_read32(lin, &v);
    if (vec == -1)
        return v;
    return 1ull << 32 | (uint64_t)(uint32_t)vec << 8 | (exc_last.error & 0xFF);
}

static void no_ram(void)
{
    page_dir[65] = NO_RAM | PTE_P | PTE_W | PTE_U;
    uint64_t first = outcome(L_NORAM_PT + 0x3010);
    bool fault = first >> 32;
    CHECK(!fault || (first & 0xFF00) == 14u << 8, "page table outside RAM: a value or a #PF");
    invlpg(L_NORAM_PT + 0x3010);
    CHECK(outcome(L_NORAM_PT + 0x3010) == first, "... and the same again");
    int v = try_write32(L_NORAM_PT + 0x3010, 0x11);
    CHECK(v == -1 || v == 14, "page table outside RAM: a write completes or faults");
    page_dir[65] = 0;
    invlpg(L_NORAM_PT + 0x3010);

    pt[0] = NO_RAM | PTE_P | PTE_W | PTE_U;
    invlpg(L_A);
    uint32_t a, b;
    CHECK(try_read32(L_A + 8, &a) == -1, "frame outside RAM: the read completes");
    invlpg(L_A);
    CHECK(try_read32(L_A + 8, &b) == -1 && a == b, "... and reads the same again");
    CHECK(try_write32(L_A + 8, 0x1234) == -1, "frame outside RAM: the write completes");
    CHECK((pt[0] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "... and sets A and D in the PTE");
}

/* Every entry of a page outside RAM used as a page table (BIOS ROM, VGA
 * memory: whatever the platform has there) behaves as a direct read of it
 * says: not present -> #PF; present with A set (QEMU 7.2 spins forever
 * setting A in a page table that is not in RAM, where a real CPU would just
 * set it), mapping RAM away from this kernel (2-32 MB) or the top 4 MB ->
 * that frame's contents (read directly through the top 4 MB identity page);
 * other entries are left alone. */
static void foreign_page_table(uint32_t phys, const char *name)
{
    volatile uint32_t *entries = (volatile uint32_t *)phys;
    unsigned wrong = 0, checked = 0, first_wrong = 0;
    page_dir[66] = phys | PTE_P | PTE_W | PTE_U;
    page_dir[1023] = 0xFFC00000u | PTE_P | PTE_PS;
    write_cr3(read_cr3());
    for (uint32_t j = 0; j < 1024; j++) {
        uint32_t e = entries[j], lin = L_FOREIGN_PT + j * 4096u + 12, v;
        uint32_t target = (e & 0xFFFFF000u) + 12;
        if (!(e & PTE_P)) {
            checked++;
            if (try_read32(lin, &v) != 14 || exc_last.error != 0 || exc_last.cr2 != lin)
                first_wrong = wrong++ ? first_wrong : j;
        } else if ((e & PTE_A) && ((target >= 0x00200000u && target < 0x02000000u) || target >= 0xFFC00000u)) {
            checked++;
            if (try_read32(lin, &v) != -1 || v != *(volatile uint32_t *)target)
                first_wrong = wrong++ ? first_wrong : j;
        }
    }
    page_dir[66] = 0;
    page_dir[1023] = 0;
    write_cr3(read_cr3());
    CHECK(checked > 0 && wrong == 0, "page table in %s: every entry acts as a direct read says", name);
    if (wrong || !checked)
        printf_e9("     %u of %u entries wrong, first: entry %u = %x\n", wrong, checked, first_wrong,
                  entries[first_wrong]);
}

static void rom_page(void)
{
    uint32_t v, rom = *(volatile uint32_t *)(ROM_PAGE + 0xFF0);
    pt[1] = ROM_PAGE | PTE_P | PTE_W | PTE_U;
    invlpg(L_A + 0x1000);
    CHECK(try_read32(L_A + 0x1FF0, &v) == -1 && v == rom, "a page mapping the BIOS area reads what is there");
    CHECK(try_write32(L_A + 0x1FF0, ~rom) == -1, "a write to it completes");
    CHECK(*(volatile uint32_t *)(ROM_PAGE + 0xFF0) == rom && try_read32(L_A + 0x1FF0, &v) == -1 && v == rom,
          "... and leaves the BIOS area as it was");
    CHECK((pt[1] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "... and sets A and D in the PTE");
}

/* VGA memory (text mode after a BIOS, something else without one) as a
 * page table, with one entry of ours, and as a page. */
static void vga_memory(void)
{
    volatile uint32_t *text = (volatile uint32_t *)VGA_TEXT;
    uint32_t saved = text[5], v;
    *(volatile uint32_t *)frame(3) = 0x7E57F00Du;
    text[5] = frame(3) | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D;
    foreign_page_table(VGA_TEXT, "VGA memory");

    pt[2] = VGA_TEXT | PTE_P | PTE_W | PTE_U;
    invlpg(L_A + 0x2000);
    CHECK(try_write32(L_A + 0x2000 + 20, 0x0741) == -1, "a page mapping VGA memory: a write completes");
    CHECK(try_read32(L_A + 0x2000 + 20, &v) == -1 && v == text[5], "... a read through it matches a direct read");
    text[5] = saved;
}

/* PTE 4 maps the page table itself; it is changed through that mapping. */
static void self_mapping(void)
{
    volatile uint32_t *alias = (volatile uint32_t *)(L_A + 0x4000);
    *(volatile uint32_t *)frame(5) = 0x5E1F0005u;
    pt[4] = PT_A | PTE_P | PTE_W;
    invlpg(L_A + 0x4000);
    CHECK(alias[4] == (PT_A | PTE_P | PTE_W | PTE_A), "a PT mapping itself: its own entry through itself");
    alias[6] = 0;
    CHECK((pt[4] & PTE_D) && alias[4] == pt[4], "... written through itself: D set in its own entry, seen through itself");
    alias[4] = frame(5) | PTE_P | PTE_W;
    invlpg(L_A + 0x4000);
    uint32_t v;
    CHECK(try_read32(L_A + 0x4000, &v) == -1 && v == 0x5E1F0005u,
          "... its own entry rewritten through itself, INVLPG: the new frame");
    pt[4] = PT_A | PTE_P | PTE_W;
    invlpg(L_A + 0x4000);
    alias[4] = 0;
    invlpg(L_A + 0x4000);
    CHECK(try_read32(L_A + 0x4000, &v) == 14 && exc_last.error == 0,
          "... unmapped through itself, INVLPG: #PF");
}

void test_main(void)
{
    puts_e9("mmu_badpt: page tables and pages outside RAM, in ROM, in VGA memory, self-mapped\n");
    paging_identity();
    paging_fill_identity(page_dir, 32);
    write_cr3(read_cr3());
    memset((void *)PT_A, 0, 4096);
    page_dir[64] = PT_A | PTE_P | PTE_W | PTE_U;

    no_ram();
    foreign_page_table(ROM_PAGE, "the BIOS area at 0xFF000");
    foreign_page_table(ROM_PAGE2, "the BIOS area at 0xF0000");
    rom_page();
    vga_memory();
    self_mapping();
    CHECK(*(volatile uint32_t *)frame(5) == 0x5E1F0005u, "the kernel still runs, memory intact");
    paging_off();
}
