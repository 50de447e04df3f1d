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
    uint16_t tw;        /* tag word, 2 bits per physical register */
    uint16_t fop;       /* last non-control opcode (11 bits) */
    uint32_t fip;       /* last instruction pointer (offset) */
    uint16_t fcs;       /* ... and its selector */
    uint32_t fdp;       /* last data pointer (offset) */
    uint16_t fds;       /* ... and its selector */
};

#define FPU_SW_TOP_SHIFT 11

/* The pending-exception check of every waiting x87 instruction and of
 * WAIT/FWAIT (call it after the #NM check). If FSW.ES is set: with CR0.NE = 1
 * raises #MF (does not return); with NE = 0 asserts FERR# through
 * cpu->fpu_ferr when wired (the PC board turns it into IRQ 13) and returns
 * true, and the instruction goes on. Returns false when nothing is pending.
 * exec_wait: if ((cr0 & (MP|TS)) == (MP|TS)) #NM; then fpu_check_pending(cpu). */
bool fpu_check_pending(struct cpu *cpu);

#endif
