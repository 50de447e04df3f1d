/* core/cpuid.c: the CPUID leaves of the virtual Pentium Pro (see cpuid.h).
 *
 * Leaf 0: maximum basic leaf 2 and the vendor "GenuineIntel" (guests key
 * their family-6 workarounds on it). Leaf 1: signature CPU_SIGNATURE
 * (family 6, model 1, stepping 9), EBX = ECX = 0 (no brand index, no
 * CLFLUSH, one logical processor, APIC ID 0), EDX = CPUID_FEATURES_EDX.
 * Leaf 2: the descriptors a Pentium Pro with a 256 KiB L2 reports
 * (AL = 1: one query; 01 02 03 04 TLBs, 06/0A 8 KiB L1 I/D, 42 256 KiB L2),
 * consistent with the signature. cpuid_query_cpu adds the local APIC
 * (EDX bit 9, EBX[31:24] = initial APIC ID) when the board has one and it
 * is enabled in IA32_APIC_BASE, as the processor does. Leaves above 2, including 0x80000000,
 * return leaf 2's values, as a P6 does (it has no extended leaves).
 * SDM Vol. 2A, CPUID.
 */
#include "cpuid.h"

/* EAX, EBX, ECX, EDX per basic leaf */
static const uint32_t cpuid_leaves[CPUID_MAX_BASIC_LEAF + 1][4] = {
    /* "Genu" "ineI" "ntel" in EBX, EDX, ECX */
    [0] = { CPUID_MAX_BASIC_LEAF, 0x756E6547u, 0x6C65746Eu, 0x49656E69u },
    [1] = { CPU_SIGNATURE, 0, 0, CPUID_FEATURES_EDX },
    [2] = { 0x03020101u, 0, 0, 0x06040A42u },
};

void cpuid_query(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    (void)subleaf;
    if (leaf > CPUID_MAX_BASIC_LEAF)
        leaf = CPUID_MAX_BASIC_LEAF;
    for (int i = 0; i < 4; i++)
        regs[i] = cpuid_leaves[leaf][i];
}

void cpuid_query_cpu(const struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    cpuid_query(leaf, subleaf, regs);
    if (leaf == 1 && cpu->cpuid_apic) {
        regs[1] |= (uint32_t)cpu->cpuid_apic_id << 24;
        regs[3] |= CPUID_APIC;
    }
}
