/* core/desc.h: segment and gate descriptors (GDT/LDT/IDT entries).
 *
 * A descriptor is kept raw (two dwords as in memory); the accessors decode
 * it. desc_fetch reads one through the GDT or LDT with a supervisor access
 * and reports a selector beyond the table limit by returning false, so the
 * caller raises the fault its instruction specifies (#GP, #TS, #NP ...).
 */
#ifndef FOX86_DESC_H
#define FOX86_DESC_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu.h"

struct desc {
    uint32_t lo, hi;
};

/* system descriptor and gate types (S = 0) */
enum {
    DESC_TSS16_AVAIL = 1, DESC_LDT = 2, DESC_TSS16_BUSY = 3, DESC_CALLGATE16 = 4,
    DESC_TASKGATE = 5, DESC_INTGATE16 = 6, DESC_TRAPGATE16 = 7,
    DESC_TSS32_AVAIL = 9, DESC_TSS32_BUSY = 11, DESC_CALLGATE32 = 12,
    DESC_INTGATE32 = 14, DESC_TRAPGATE32 = 15,
};

static inline uint32_t desc_base(struct desc d)
{
    return (d.lo >> 16) | ((d.hi & 0xFF) << 16) | (d.hi & 0xFF000000u);
}
static inline uint32_t desc_limit(struct desc d)   /* granularity applied */
{
    uint32_t limit = (d.lo & 0xFFFF) | (d.hi & 0x000F0000u);
    return (d.hi & (1u << 23)) ? (limit << 12) | 0xFFF : limit;
}
static inline uint16_t desc_flags(struct desc d)   /* seg_cache.flags layout */
{
    return (uint16_t)((d.hi >> 8) & 0xF0FF);
}
static inline int  desc_dpl(struct desc d)     { return (d.hi >> 13) & 3; }
static inline bool desc_present(struct desc d) { return d.hi & (1u << 15); }
static inline bool desc_is_seg(struct desc d)  { return d.hi & (1u << 12); }   /* S bit */
static inline int  desc_type(struct desc d)    { return (d.hi >> 8) & 0xF; }
static inline bool desc_is_code(struct desc d) { return desc_is_seg(d) && (d.hi & (1u << 11)); }
static inline uint16_t gate_selector(struct desc d)  { return (uint16_t)(d.lo >> 16); }
static inline uint32_t gate_offset(struct desc d)    { return (d.lo & 0xFFFF) | (d.hi & 0xFFFF0000u); }
static inline int      gate_param_count(struct desc d) { return d.hi & 0x1F; }

/* desc.c */
bool desc_fetch(struct cpu *cpu, uint16_t sel, struct desc *out);      /* GDT or LDT by TI */
void desc_store_hi(struct cpu *cpu, uint16_t sel, uint32_t hi);        /* rewrite the high dword (accessed, busy bits) */
void seg_cache_from_desc(struct seg_cache *sc, uint16_t sel, struct desc d);

#endif
