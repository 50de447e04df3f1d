/* core/mem.h: guest memory as the CPU sees it.
 *
 * Three levels, each built on the one below:
 *   cpu_read*/cpu_write*   segment:offset -> segmentation checks (limit,
 *                          rights, expand-down) -> linear
 *   cpu_lin_read*/write*   linear -> paging (TLB, page walk, A/D bits, #PF)
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

/* Stack: push/pop with SS and the stack's B bit; size is 2 or 4. */
void     cpu_push(struct cpu *cpu, uint32_t value, int size);
uint32_t cpu_pop(struct cpu *cpu, int size);

#endif
