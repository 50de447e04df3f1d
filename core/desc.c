/* core/desc.c: reading and updating GDT/LDT entries (see desc.h).
 *
 * A selector names an 8-byte entry at (sel & ~7) in the GDT (TI = 0) or the
 * current LDT (TI = 1). desc_fetch reports "no such entry" by returning
 * false when
 *   - the entry's last byte, (sel & ~7) + 7, lies beyond the table limit;
 *   - TI = 1 and LDTR holds no valid LDT (null LDTR).
 * The caller then raises the fault its instruction specifies (#GP, #TS,
 * #NP ...) or, for LAR/LSL/VERR/VERW, clears ZF. A null selector is not
 * special here: it fetches GDT entry 0; callers test for null first.
 *
 * Table reads and writes are implicit supervisor accesses (MEM_SYSTEM):
 * they go through paging, so a not-present or read-only page raises #PF
 * with the right error code, but user/supervisor protection does not
 * apply even at CPL 3. SDM Vol. 3A, 3.4.2 (selectors), 3.5.1 (descriptor
 * tables), 5.3 (limit checking), 4.6 (implicit supervisor accesses).
 *
 * Usage:
 *   struct desc d;
 *   if (!desc_fetch(cpu, sel, &d))
 *       cpu_raise(cpu, EXC_GP, sel & 0xFFFC);
 *   desc_store_hi(cpu, sel, d.hi | (1u << 8));   (set the accessed bit)
 */
#include "desc.h"
#include "mem.h"

/* Linear address of the entry for sel, or false if there is none. */
static bool desc_entry_addr(const struct cpu *cpu, uint16_t sel, uint32_t *lin)
{
    uint32_t table_base, table_limit;
    uint32_t entry_off = sel & 0xFFF8u;

    if (sel & 4) {
        const struct seg_cache *ldtr = &cpu->seg[SEG_LDTR];
        if (!ldtr->valid)
            return false;
        table_base = ldtr->base;
        table_limit = ldtr->limit;
    } else {
        table_base = cpu->gdtr.base;
        table_limit = cpu->gdtr.limit;
    }
    if (entry_off + 7 > table_limit)
        return false;
    *lin = table_base + entry_off;
    return true;
}

bool desc_fetch(struct cpu *cpu, uint16_t sel, struct desc *out)
{
    uint32_t lin;
    if (!desc_entry_addr(cpu, sel, &lin))
        return false;
    uint32_t lo = cpu_lin_read32(cpu, lin, MEM_READ | MEM_SYSTEM);
    uint32_t hi = cpu_lin_read32(cpu, lin + 4, MEM_READ | MEM_SYSTEM);
    out->lo = lo;
    out->hi = hi;
    return true;
}

void desc_store_hi(struct cpu *cpu, uint16_t sel, uint32_t hi)
{
    uint32_t lin;
    if (desc_entry_addr(cpu, sel, &lin))   /* the caller fetched it: always true */
        cpu_lin_write32(cpu, lin + 4, hi, MEM_WRITE | MEM_SYSTEM);
}

void seg_cache_from_desc(struct seg_cache *sc, uint16_t sel, struct desc d)
{
    sc->sel = sel;
    sc->base = desc_base(d);
    sc->limit = desc_limit(d);
    sc->flags = desc_flags(d);
    sc->valid = true;
}
