/* core/fpu.h: the architectural x87 state held inside struct cpu.
 *
 * Registers are kept by physical number (R0..R7); st(i) is R[(top + i) & 7]
 * with top in status-word bits 11-13. The tag word is the full 2-bit-per-
 * register form that FSTENV shows (00 valid, 01 zero, 10 special, 11 empty).
 * The arithmetic lives in fx80.c; the instructions in fpu.c.
 */
#ifndef FOX86_FPU_H
#define FOX86_FPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

struct fpu_reg {
    uint64_t mant;      /* explicit integer bit in bit 63 */
    uint16_t sign_exp;  /* sign in bit 15, biased exponent (bias 16383) below */
};

struct fpu {
    struct fpu_reg r[8];
    uint16_t cw;        /* control word */
    uint16_t sw;        /* status word, TOP in bits 11-13 */
    uint16_t tw;        /* tags, 2 bits per physical register, abridged: 11 empty, 00 not
                           (fpu_tag_word gives the full ones) */
    uint16_t fop;       /* last non-control opcode (11 bits) */
    uint32_t fip;       /* last instruction pointer (offset) */
    uint16_t fcs;       /* ... and its selector */
    uint32_t fdp;       /* last data pointer (offset) */
    uint16_t fds;       /* ... and its selector */
};

#define FPU_SW_TOP_SHIFT 11

/* The full tag word (valid/zero/special/empty from the contents), as
 * FNSTENV and FNSAVE store it; cpu->fpu.tw holds only empty or not. */
uint16_t fpu_tag_word(const struct fpu *f);

/* The same architectural x87 state (the registers' padding aside). */
bool fpu_same(const struct fpu *a, const struct fpu *b);

/* The pending-exception check of every waiting x87 instruction and of
 * WAIT/FWAIT (call it after the #NM check). If FSW.ES is set: with CR0.NE = 1
 * raises #MF (does not return); with NE = 0 asserts FERR# through
 * cpu->fpu_ferr when wired (the PC board turns it into IRQ 13) and returns
 * true, and the instruction goes on. Returns false when nothing is pending.
 * exec_wait: if ((cr0 & (MP|TS)) == (MP|TS)) #NM; then fpu_check_pending(cpu). */
bool fpu_check_pending(struct cpu *cpu);

/* The translator's direct path for the common x87 forms, without the
 * interpreter's dispatch and memory accessors. fpu_fast_ok(in): in is a
 * form fpu_fast handles (register forms that can fault only with #NM/#MF;
 * m16/m32/m64 forms with 32-bit addressing). fpu_fast(cpu, in, host, eip,
 * ea) runs in exactly as its handler would, with the memory operand at
 * host (already checked for this access and size; ea its offset, for FDP)
 * and eip the instruction's first byte; it returns nonzero, having changed
 * nothing, when the handler would raise #NM or see a pending error, and
 * the caller runs the handler instead. Sets cpu->eip to eip.
 *   if (fpu_fast(cpu, in, host, eip, ea)) interpret(in); */
struct insn;
bool fpu_fast_ok(const struct insn *in);
int fpu_fast(struct cpu *cpu, const struct insn *in, void *host, uint32_t eip, uint32_t ea);
/* The same, specialised for in's form (the common ones have their own
 * entry, without fpu_fast's dispatch); NULL when !fpu_fast_ok(in). */
typedef int fpu_fast_fn(struct cpu *cpu, const struct insn *in, void *host, uint32_t eip, uint32_t ea);
fpu_fast_fn *fpu_fast_entry(const struct insn *in);

#endif
