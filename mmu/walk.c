/* mmu/walk.c: the i386 two-level page walker (contract in walk.h).
 *
 * All permission decisions are made before any accessed/dirty bit is
 * written, so a faulting walk leaves guest memory untouched. Entries are
 * re-read at update time (the read-modify-write of hardware's locked cycle)
 * so a table that maps itself, where the PTE is the PDE, keeps both updates.
 */
#include "walk.h"

static bool walk_allowed(bool user_page, bool writable, unsigned access, uint32_t cr0)
{
    bool write = access & WALK_WRITE;
    if (access & WALK_USER)
        return user_page && (!write || writable);
    return !write || writable || !(cr0 & WALK_CR0_WP);
}

/* Set bits in the entry at paddr; returns the entry's new value. */
static uint32_t walk_set_bits(struct phys_mem *pm, uint32_t paddr, uint32_t bits)
{
    uint32_t entry = phys_read(pm, paddr, 4);
    if ((entry | bits) != entry)
        phys_write(pm, paddr, entry | bits, 4);
    return entry | bits;
}

static bool walk_fail(struct walk_result *out, bool present, unsigned access)
{
    out->error = (present ? PF_ERR_P : 0) | ((access & WALK_WRITE) ? PF_ERR_W : 0) |
                 ((access & WALK_USER) ? PF_ERR_U : 0);
    return false;
}

bool mmu_walk(struct phys_mem *pm, uint32_t cr0, uint32_t cr3, uint32_t cr4,
              uint32_t lin, unsigned access, struct walk_result *out)
{
    uint32_t dirty_bit = (access & WALK_WRITE) ? PTE_D : 0;
    uint32_t pde_addr = (cr3 & 0xFFFFF000u) | ((lin >> 22) << 2);
    uint32_t pde = phys_read(pm, pde_addr, 4);
    if (!(pde & PTE_P))
        return walk_fail(out, false, access);

    if ((cr4 & WALK_CR4_PSE) && (pde & PTE_PS)) {
        bool user = pde & PTE_US, writable = pde & PTE_RW;
        if (!walk_allowed(user, writable, access, cr0))
            return walk_fail(out, true, access);
        pde = walk_set_bits(pm, pde_addr, PTE_A | dirty_bit);
        *out = (struct walk_result){
            .paddr = (pde & 0xFFC00000u) | (lin & 0x003FFFFFu),
            .page_size = WALK_PAGE_4M,
            .user = user, .writable = writable,
            .dirty = pde & PTE_D,
            .global = (pde & PTE_G) && (cr4 & WALK_CR4_PGE),
        };
        return true;
    }

    uint32_t pte_addr = (pde & 0xFFFFF000u) | (((lin >> 12) & 0x3FFu) << 2);
    uint32_t pte = phys_read(pm, pte_addr, 4);
    if (!(pte & PTE_P))
        return walk_fail(out, false, access);
    bool user = (pde & PTE_US) && (pte & PTE_US);
    bool writable = (pde & PTE_RW) && (pte & PTE_RW);
    if (!walk_allowed(user, writable, access, cr0))
        return walk_fail(out, true, access);
    walk_set_bits(pm, pde_addr, PTE_A);
    pte = walk_set_bits(pm, pte_addr, PTE_A | dirty_bit);
    *out = (struct walk_result){
        .paddr = (pte & 0xFFFFF000u) | (lin & 0xFFFu),
        .page_size = WALK_PAGE_4K,
        .user = user, .writable = writable,
        .dirty = pte & PTE_D,
        .global = (pte & PTE_G) && (cr4 & WALK_CR4_PGE),
    };
    return true;
}
