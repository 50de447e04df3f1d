/* core/cpuid.h: what the virtual CPU says it is, in one place.
 *
 * fox86 presents an honest family-6 CPU: a Pentium Pro signature (family 6,
 * model 1, stepping 9: no MMX, which the Pentium II added) and, in leaf 1
 * EDX, exactly the features the emulator implements. The CR4 bits a guest
 * may set follow from the same list (a bit for an absent feature is reserved
 * and MOV CR4 raises #GP(0) on it). The x87 and MMU code read these
 * constants; change a feature here and in the code that implements it.
 *
 *   feature  bit  implemented by
 *   FPU       0   fpu.c / fx80.c (x87 on chip)
 *   PSE       3   the page walker: 4 MiB pages with CR4.PSE
 *   TSC       4   RDTSC, CR4.TSD, MSR 0x10
 *   MSR       5   RDMSR/WRMSR (MSR list in exec_sysinsn.c)
 *   CX8       8   CMPXCHG8B
 *   SEP      11   SYSENTER/SYSEXIT and MSRs 0x174-0x176 (the real Pentium
 *                 Pro reported SEP without having it; we have it, so we say
 *                 so; Linux ignores SEP below signature 0x633 anyway)
 *   PGE      13   global pages with CR4.PGE
 *   CMOV     15   CMOVcc, and with FPU also FCMOVcc/FCOMI
 *   APIC      9   not in the list: reported by cpuid_query_cpu while the
 *                 board's local APIC (devices/lapic.c) is globally enabled
 * Not reported: DE (no I/O or data breakpoints yet, so CR4.DE is reserved
 * too; DR4/DR5 alias DR6/DR7), VME, PAE, MCE, MTRR, MCA, PAT, PSE36, MMX, FXSR, SSE.
 *
 * Usage:
 *   uint32_t regs[4];               (EAX, EBX, ECX, EDX)
 *   cpuid_query(1, 0, regs);
 */
#ifndef FOX86_CPUID_H
#define FOX86_CPUID_H

#include <stdint.h>

#include "cpu.h"

/* leaf 1 EDX feature bits (SDM Vol. 2A, CPUID, Table 3-11) */
enum {
    CPUID_FPU = 1u << 0,  CPUID_VME = 1u << 1,  CPUID_DE = 1u << 2,
    CPUID_PSE = 1u << 3,  CPUID_TSC = 1u << 4,  CPUID_MSR = 1u << 5,
    CPUID_PAE = 1u << 6,  CPUID_MCE = 1u << 7,  CPUID_CX8 = 1u << 8,
    CPUID_APIC = 1u << 9, CPUID_SEP = 1u << 11, CPUID_MTRR = 1u << 12,
    CPUID_PGE = 1u << 13, CPUID_MCA = 1u << 14, CPUID_CMOV = 1u << 15,
    CPUID_PAT = 1u << 16, CPUID_PSE36 = 1u << 17, CPUID_MMX = 1u << 23,
    CPUID_FXSR = 1u << 24, CPUID_SSE = 1u << 25,
};

#define CPUID_FEATURES_EDX \
    (CPUID_FPU | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | \
     CPUID_SEP | CPUID_PGE | CPUID_CMOV)

#define CPUID_MAX_BASIC_LEAF 2u

/* CR4 bits a guest may set: those of reported features, plus PCE (RDPMC has
 * no CPUID bit on P6). VME/PVI, PAE and MCE are reserved here. */
#define CPU_CR4_VALID (CR4_TSD | CR4_PSE | CR4_PGE | CR4_PCE)

/* CR0 bits that exist on a P6; the others are reserved and ignored on
 * write (SDM Vol. 3A, 2.5). ET is hardwired to 1. */
#define CPU_CR0_DEFINED \
    (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
     CR0_NW | CR0_CD | CR0_PG)

/* regs[0..3] = EAX, EBX, ECX, EDX for the given leaf (subleaf is unused:
 * no leaf of this CPU has subleaves). A leaf above the maximum returns the
 * highest basic leaf, as Intel processors do. */
void cpuid_query(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
/* What CPUID returns on this cpu: cpuid_query plus, in leaf 1, the local
 * APIC's feature bit and initial APIC ID (cpu->cpuid_apic, cpuid_apic_id). */
void cpuid_query_cpu(const struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

#endif
