/* core/mem.h: guest memory as the CPU sees it.
 *
 * Three levels, each built on the one below:
 *   cpu_read*, cpu_write*  segment:offset -> segmentation checks (limit,
 *                          rights, expand-down) -> linear
 *   cpu_lin_read*, write*  linear -> paging (TLB, page walk, A/D bits, #PF)
 *                          -> physical
 *   phys_read/phys_write   physical -> RAM, ROM or a device (mmu/phys.h)
 * Every function here raises the architectural fault through cpu_raise()
 * (longjmp) instead of returning an error. A multi-byte access that crosses
 * a page boundary is checked on both pages before anything is written.
 *
 * Privilege: accesses are user-mode when cpu->cpl == 3 unless the caller
 * says MEM_SYSTEM (descriptor tables, TSS, IDT: implicit supervisor).
 */
#ifndef FOX86_MEM_H
#define FOX86_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "cpu.h"

/* access kinds for the checking functions */
enum {
    MEM_READ   = 0,
    MEM_WRITE  = 1u << 0,
    MEM_EXEC   = 1u << 1,
    MEM_SYSTEM = 1u << 2,   /* implicit supervisor access (GDT/LDT/IDT/TSS) */
};

uint8_t  cpu_read8 (struct cpu *cpu, int seg, uint32_t off);
uint16_t cpu_read16(struct cpu *cpu, int seg, uint32_t off);
uint32_t cpu_read32(struct cpu *cpu, int seg, uint32_t off);
uint64_t cpu_read64(struct cpu *cpu, int seg, uint32_t off);
void cpu_write8 (struct cpu *cpu, int seg, uint32_t off, uint8_t v);
void cpu_write16(struct cpu *cpu, int seg, uint32_t off, uint16_t v);
void cpu_write32(struct cpu *cpu, int seg, uint32_t off, uint32_t v);
void cpu_write64(struct cpu *cpu, int seg, uint32_t off, uint64_t v);

/* Check that len bytes at seg:off may be accessed (segment and paging),
 * raising the fault if not, without accessing them. Used before multi-part
 * stores (far pointers, FSAVE, PUSHA) so a fault leaves memory untouched. */
void cpu_check_access(struct cpu *cpu, int seg, uint32_t off, uint32_t len, unsigned access);

/* Linear-address accesses (paging only). */
uint8_t  cpu_lin_read8 (struct cpu *cpu, uint32_t lin, unsigned access);
uint16_t cpu_lin_read16(struct cpu *cpu, uint32_t lin, unsigned access);
uint32_t cpu_lin_read32(struct cpu *cpu, uint32_t lin, unsigned access);
void cpu_lin_write8 (struct cpu *cpu, uint32_t lin, uint8_t v, unsigned access);
void cpu_lin_write16(struct cpu *cpu, uint32_t lin, uint16_t v, unsigned access);
void cpu_lin_write32(struct cpu *cpu, uint32_t lin, uint32_t v, unsigned access);

/* Instruction fetch: copies up to len bytes of code at CS:eip into buf,
 * stopping early (and returning the count) only where the next byte would
 * fault; raises the fault if not even the first byte can be fetched. */
size_t cpu_fetch_code(struct cpu *cpu, uint32_t eip, uint8_t *buf, size_t len);

/* Drop cached translations: all (CR3 write), or one linear page (INVLPG). */
void cpu_tlb_flush(struct cpu *cpu, bool include_global);
void cpu_tlb_flush_page(struct cpu *cpu, uint32_t lin);

/* Drop whatever the TLB holds that no longer matches CR0.PG/WP, CR3,
 * CR4.PSE/PGE or the physical map (phys_mem.generation). Cheap when nothing
 * changed. The run loop calls it after every instruction of a non-zero
 * class other than plain CTRL and after exception delivery, so a handler
 * that forgets cpu_tlb_flush is still safe at the next instruction. */
void cpu_tlb_sync(struct cpu *cpu);

/* Fill the TLB entry for a read of lin at the current CPL without raising
 * anything: false if the page is not there for it. Only the accessed bit
 * may be set on the way, as a speculative read may set it. For the
 * native translator, whose check of a span across two pages wants both
 * entries filled. */
bool cpu_tlb_prefill_read(struct cpu *cpu, uint32_t lin);

/* len bytes at phys (within one page) now hold decoded instructions: mark
 * them (phys_mark_code) and, the first time for the page, take the direct
 * write kinds away from every TLB entry mapping it, so each store to it
 * reaches the slow path, which reports it with phys_code_written_range
 * (stale only if it touched the marked bytes' 64-byte chunks) and gives
 * the write kinds back once the page holds no code. */
void cpu_tlb_protect_code(struct cpu *cpu, uint32_t phys, uint32_t len);

/* The current address space's version (mmu/shadow.h): while it stays the
 * same, every non-global linear mapping the TLB was filled with in this
 * space still holds, CR3 switches away and back included. 0 when not
 * known (paging off, -mmu tlb, an untracked space): then only the TLB
 * epoch tells. */
uint32_t cpu_tlb_space_version(const struct cpu *cpu);

/* The TLB (struct tlb_entry in cpu.h), for fast paths in the run loop and
 * the translator.
 *   tlb[(lin >> 12) % TLB_SIZE] caches linear page lin & TLB_PAGE_MASK;
 *   lin_page = page | the TLB_KIND_* bits usable through host directly
 *              (plain RAM; ROM for reads only);
 *   phys_rights = the physical page | rights: every TLB_KIND_* the
 *              translation allows (MMIO and ROM writes go through
 *              phys_read/phys_write) | TLB_GLOBAL | TLB_LARGE | TLB_RAM;
 *   an empty entry has no kind bits anywhere.
 * A write kind is granted only once the mapping's dirty bit is set, so the
 * first write to a clean page walks again and sets D; and it is not direct
 * while the page holds decoded code (cpu_tlb_protect_code).
 * The physical page is A20-masked. */
#define TLB_PAGE_MASK 0xFFFFF000u
enum {
    TLB_KIND_READ_SUP   = 1u << 0,
    TLB_KIND_WRITE_SUP  = 1u << 1,
    TLB_KIND_READ_USER  = 1u << 2,
    TLB_KIND_WRITE_USER = 1u << 3,
    TLB_KIND_ALL        = 0xFu,
    TLB_KIND_FAST       = 1u << 4,   /* lin_page only: cpu->fast_base + lin is this entry's page
                                        too (mmu/fastmem.h): set on user pages of RAM while the
                                        native translator asks for it (cpu->fast_wanted) */
    TLB_GLOBAL          = 1u << 4,   /* rights only: kept by a CR3 flush with CR4.PGE */
    TLB_LARGE           = 1u << 5,   /* rights only: part of a 4 MiB page (INVLPG drops all of it) */
    TLB_RAM             = 1u << 6,   /* rights only: host is plain RAM (writable when not code) */
    TLB_HOT_SEEN        = 1u << 7,   /* rights only, inside a CR3 flush (mem.c): page remembered */
    TLB_RIGHTS_MASK     = 0xFFu,     /* where the rights live in phys_rights */
};

/* The host address of lin through e, which has a host page and maps lin's
 * page (struct tlb_entry in cpu.h). */
static inline uint8_t *tlb_host_of(const struct tlb_entry *e, uint32_t lin)
{
    return (uint8_t *)(e->addend + lin);
}

/* An entry's physical page and its rights (struct tlb_entry in cpu.h). */
static inline uint32_t tlb_phys(const struct tlb_entry *e)
{
    return e->phys_rights & TLB_PAGE_MASK;
}
static inline unsigned tlb_rights(const struct tlb_entry *e)
{
    return e->phys_rights & TLB_RIGHTS_MASK;
}

/* The kind bit of an access: MEM_WRITE and MEM_SYSTEM from access, user if
 * CPL 3 and not MEM_SYSTEM. */
static inline unsigned tlb_kind(const struct cpu *cpu, unsigned access)
{
    unsigned user = cpu->cpl == 3 && !(access & MEM_SYSTEM);
    return 1u << ((user << 1) | (access & MEM_WRITE));
}

/* Host pointer for len bytes at lin if the TLB holds the page for this kind
 * as direct host memory and the bytes do not cross the page; else NULL.
 * (The last byte's page is compared with the tag: a crossing access can
 * never match, since the next page has a different index.) */
static inline uint8_t *tlb_host(struct cpu *cpu, uint32_t lin, uint32_t len, unsigned kind)
{
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    uint32_t last = lin + len - 1;
    if ((e->lin_page & (TLB_PAGE_MASK | kind)) == ((last & TLB_PAGE_MASK) | kind))
        return tlb_host_of(e, lin);
    return NULL;
}

/* Host pointer for a naturally aligned access of len (1, 2 or 4) bytes at
 * seg:off in the common case only: a valid, expand-up, writable data
 * segment (flat or real mode) with the bytes inside its limit, and a TLB
 * entry giving direct host access for this kind of access. Else NULL, and
 * the caller takes cpu_read* / cpu_write*, which check everything and
 * raise the faults. Where this returns a pointer those functions would
 * reach the same host bytes through their own fast paths (aligned bytes
 * cannot cross a page, and #AC applies only to misaligned ones); a direct
 * write kind is never given for a page holding decoded code, so stores
 * through it need no code invalidation. */
static inline uint8_t *cpu_host_ptr(struct cpu *cpu, int seg, uint32_t off, uint32_t len,
                                    unsigned access)
{
    const struct seg_cache *s = &cpu->seg[seg];
    uint32_t lin = s->base + off;
    const struct tlb_entry *e = &cpu->tlb[(lin >> 12) % TLB_SIZE];
    unsigned kind = tlb_kind(cpu, access);
    if (__builtin_expect(s->valid && (s->flags & (SEGF_CODE | SEGF_DC | SEGF_RW)) == SEGF_RW &&
                         (uint64_t)off + (len - 1) <= s->limit && (lin & (len - 1)) == 0 &&
                         (e->lin_page & (TLB_PAGE_MASK | kind)) == ((lin & TLB_PAGE_MASK) | kind), 1))
        return tlb_host_of(e, lin);
    return NULL;
}

/* Stack: push/pop with SS and the stack's B bit; size is 2 or 4. */
void     cpu_push(struct cpu *cpu, uint32_t value, int size);
uint32_t cpu_pop(struct cpu *cpu, int size);

#endif
