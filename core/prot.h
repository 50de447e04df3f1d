/* core/prot.h: the protection machinery shared by seg.c, except.c, task.c
 * and exec_sys.c (private to those four files).
 *
 * - Selector error codes: (selector & ~3) | EXT, the EXT bit set while an
 *   event external to the program (hardware interrupt, exception, INT1) is
 *   being delivered (SDM Vol. 3, 6.13).
 * - A stack cursor: a stack segment and a stack pointer that are NOT yet
 *   committed. Far calls, interrupts and returns push or pop through a
 *   cursor, so a fault leaves SS:ESP untouched (fault before commit); the
 *   caller copies the cursor into the CPU when everything has succeeded.
 *   A 16-bit stack (B = 0) uses and updates only SP, as hardware does.
 * - Segment loading helpers with a selectable fault vector (#GP for
 *   instructions, #TS inside a task switch).
 * - The task switch (task.c).
 */
#ifndef FOX86_PROT_H
#define FOX86_PROT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "desc.h"

static inline uint32_t sel_error(uint16_t sel, uint32_t ext)
{
    return (uint32_t)(sel & 0xFFFCu) | ext;
}
static inline bool sel_is_null(uint16_t sel) { return (sel & 0xFFFCu) == 0; }
static inline int  sel_rpl(uint16_t sel)     { return sel & 3; }
static inline int  seg_cache_dpl(const struct seg_cache *sc) { return (sc->flags >> SEGF_DPL_SHIFT) & 3; }

/* Code descriptor bits beyond desc.h's accessors. */
static inline bool desc_conforming(struct desc d) { return desc_is_code(d) && (d.hi & (1u << 10)); }
static inline bool desc_readable_code(struct desc d) { return desc_is_code(d) && (d.hi & (1u << 9)); }
static inline bool desc_writable_data(struct desc d)
{
    return desc_is_seg(d) && !(d.hi & (1u << 11)) && (d.hi & (1u << 9));
}
#define DESC_ACCESSED (1u << 8)
#define DESC_TSS_BUSY (1u << 9)
#define FL_VALID_MASK 0x003F7FD5u   /* EFLAGS bits an i686 lets software write */

/* ---- stack cursor ---- */
struct stack_cursor {
    struct seg_cache ss;   /* stack segment: the current one or the one about to be loaded */
    uint32_t esp;          /* full ESP; only SP moves when ss is 16-bit */
    unsigned access;       /* extra access bits: MEM_SYSTEM for a new inner-ring stack */
    uint32_t ss_error;     /* error code of #SS on a limit violation */
};

void stk_current(struct cpu *cpu, struct stack_cursor *sk);
/* Raise #SS(sk->ss_error) unless n bytes can be pushed below ESP. */
void stk_check_push_room(struct cpu *cpu, const struct stack_cursor *sk, uint32_t n);
/* Raise #SS(sk->ss_error) unless n bytes at ESP + skip can be popped. */
void stk_check_pop_room(struct cpu *cpu, const struct stack_cursor *sk, uint32_t skip, uint32_t n);
void stk_push(struct cpu *cpu, struct stack_cursor *sk, uint32_t value, int size);
uint32_t stk_pop(struct cpu *cpu, struct stack_cursor *sk, int size);
/* Read size bytes at ESP + skip without moving ESP. */
uint32_t stk_peek(struct cpu *cpu, const struct stack_cursor *sk, uint32_t skip, int size);
/* Move ESP by delta (only SP on a 16-bit stack). */
void stk_adjust(struct stack_cursor *sk, uint32_t delta);
/* Commit: SS cache (when load_ss) and ESP/SP into the CPU. */
void stk_commit(struct cpu *cpu, const struct stack_cursor *sk, bool load_ss);

/* ---- seg.c ---- */
/* Check and load a data segment register (DS/ES/FS/GS, or SS) as for an
 * instruction at privilege cpl; selector, type and privilege errors raise
 * bad_vector (EXC_GP or EXC_TS) with the selector | ext, a not-present
 * segment #NP (#SS for SS). Sets the accessed bit. */
void seg_load_data_checked(struct cpu *cpu, int seg, uint16_t sel, int cpl,
                           int bad_vector, uint32_t ext);
/* Fetch a descriptor for sel or raise vector(sel | ext) if it lies beyond the table. */
struct desc seg_fetch_or_raise(struct cpu *cpu, uint16_t sel, int vector, uint32_t ext);
/* Set the accessed bit in memory (if clear) and return the updated descriptor. */
struct desc seg_mark_accessed(struct cpu *cpu, uint16_t sel, struct desc d);
/* Load CS from a checked code descriptor, RPL forced to cpl; sets cpu->cpl. */
void seg_load_cs(struct cpu *cpu, uint16_t sel, struct desc d, int cpl);
/* V86-mode load: base sel << 4, limit 0xFFFF, DPL 3 read/write data. */
void seg_load_v86(struct cpu *cpu, int seg, uint16_t sel);
/* Make a data segment register null (selector 0, unusable). */
void seg_make_null(struct cpu *cpu, int seg, uint16_t sel);
/* Null DS/ES/FS/GS that the (new, outer) CPL may not use (RET/IRET to outer). */
void seg_null_inaccessible(struct cpu *cpu);
/* Check that a loaded SS at the stack-switch of cpl is usable; the vector for
 * selector/type/privilege errors and ext are as for seg_load_data_checked.
 * Returns the (accessed) descriptor; does not load. */
struct desc seg_check_stack(struct cpu *cpu, uint16_t sel, int cpl, int bad_vector, uint32_t ext);

/* ---- except.c ---- */
/* Read SS:ESP for privilege level dpl from the current TSS (#TS(TR) | ext). */
void tss_inner_stack(struct cpu *cpu, int dpl, uint32_t ext, uint16_t *ss, uint32_t *esp);
/* Delivery of one event through the IVT/IDT. how: EV_SOFTWARE for INT n,
 * INT3 and INTO (gate DPL check, EXT = 0 in error codes; everything else,
 * exceptions, hardware interrupts and INT1, has EXT = 1); EV_FAULT for a
 * fault-class exception (RF set in the pushed EFLAGS image). return_eip is
 * the EIP saved in the frame (or the old TSS). */
enum { EV_SOFTWARE = 1u << 0, EV_FAULT = 1u << 1 };
void deliver_event(struct cpu *cpu, int vector, unsigned how,
                   uint32_t error_code, uint32_t return_eip);

/* ---- task.c ---- */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
/* Switch to the task whose TSS descriptor (in the GDT) is tss_desc. The
 * caller has done the privilege checks of its instruction; this checks type
 * (available / busy for IRET), presence and limit, saves the old task with
 * return_eip, loads the new one, pushes error_code (unless NO_ERROR_CODE)
 * for TASK_INT, and raises the #DB of the T bit. */
void task_switch(struct cpu *cpu, uint16_t tss_sel, struct desc tss_desc,
                 enum task_reason why, uint32_t ext, uint32_t error_code,
                 uint32_t return_eip);

#endif
