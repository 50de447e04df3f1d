/* frontends/trace.h: -d in_asm and -d int, observed from outside the CPU.
 *
 * trace_attach installs a machine step hook, so the CPU runs one instruction
 * per slice while tracing (slow, exact). Before each instruction it logs,
 * per enabled item:
 *   in_asm  "CS:EIP <symbol+off>  bytes  instruction" (Capstone, Intel syntax,
 *           16- or 32-bit by the code segment); the symbol comes from the
 *           kernel's ELF symbol table when one matches.
 *   int     one line per exception or interrupt taken by the previous
 *           instruction (detected by cpu->exceptions_taken), with the vector,
 *           error code, where it happened and where it went.
 * Code bytes are read without side effects (no A/D bits, no faults): a page
 * that is not mapped shows as "<not mapped>".
 *
 * Usage:
 *   struct trace *t = trace_attach(m, syms, err, sizeof err);
 *   ... machine_run(m) ...
 *   trace_detach(t);
 */
#ifndef FOX86_TRACE_H
#define FOX86_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct guest_symbols;

/* syms may be NULL. Returns NULL with one line in err if Capstone fails. */
struct trace *trace_attach(struct machine *m, const struct guest_symbols *syms,
                           char *err, size_t errlen);
void trace_detach(struct trace *t);

/* Read guest bytes at a linear address through the guest page tables
 * without side effects (no A/D bits, no faults, no TLB fill). Returns how
 * many bytes were readable before the first unmapped one (the monitor's x). */
size_t trace_peek_linear(struct machine *m, uint32_t lin, uint8_t *buf, size_t len);

#endif
