/* core/opcodes.h: the shape of the decoder's opcode tables (private to
 * decode.c, opcodes.c and the decoder tests).
 *
 * Each opcode map is an array of struct opcode_row indexed by the opcode
 * byte; operands are written in the Intel manual's notation (appendix A of
 * SDM vol. 2): an addressing letter (E, G, M, I, J, ...) and a size letter
 * (b byte, w word, d dword, v/z operand size, p far pointer, ...).
 * Invariants:
 *   - op == OP_INVALID and group == GRP_NONE: a blank slot, the encoding
 *     raises #UD.
 *   - A row with group != GRP_NONE takes its operation and operands from
 *     opcode_groups[group][ModRM.reg]; the row itself only says "ModRM".
 *   - The x87 escapes D8-DF are not in the one-byte map: they are looked up
 *     in x87_mem_ops (by ModRM.reg when mod != 3) and x87_reg_ops (by the
 *     whole ModRM C0-FF, index ModRM - 0xC0).
 *   - OF_MODRM is set exactly when an operand is one of the ModRM kinds
 *     (E*, G*, M*, R*, S*, C*, D*) or the row is a group/x87 row; the unit
 *     test checks this for every row.
 *
 * Usage (decode.c):
 *   const struct opcode_row *row = &opcode_map_0f[0xB6];   -> MOVZX Gv, Eb
 */
#ifndef FOX86_OPCODES_H
#define FOX86_OPCODES_H

#include <stdint.h>

#include "insn.h"

/* Operand specifications: Intel's addressing method + size letters. */
enum opnd_spec {
    OS_NONE = 0,
    /* ModRM r/m: register or memory */
    Eb, Ew, Ev,
    RvMw,        /* register of operand size, or a word in memory (MOV Ev,Sw; SLDT; STR; SMSW) */
    Rd,          /* r/m names a 32-bit register whatever mod says (MOV CR/DR) */
    /* ModRM r/m: memory only (mod == 3 is #UD) */
    M,           /* address only (LEA): size = operand size */
    Mb, Mw, Md, Mq,
    Mt,          /* 80-bit: extended real, packed BCD */
    Mp,          /* far pointer: 16:16 or 16:32 (size 4 or 6) */
    Ms,          /* pseudo-descriptor limit:base, 6 bytes (LGDT, SGDT ...) */
    Ma,          /* BOUND: two words or dwords */
    Menv,        /* x87 environment, 14 or 28 bytes by operand size */
    Mfx,         /* FXSAVE/FXRSTOR image: 512 bytes (size 0 here: it does not fit) */
    Mstate,      /* x87 state, 94 or 108 bytes by operand size */
    /* ModRM reg field */
    Gb, Gw, Gv,
    Sw,          /* segment register (ES..GS; 6 and 7 are #UD) */
    Cd,          /* control register (CR1, CR5-CR7 are #UD) */
    Dd,          /* debug register */
    /* immediates and branch targets */
    Ib,          /* byte, zero-extended, operand size 1 */
    Ibs,         /* byte sign-extended to the operand size (83, 6A, 6B) */
    Iw,          /* word, zero-extended */
    Iz,          /* word or dword by operand size */
    Iv,          /* same as Iz outside 64-bit mode (MOV r, imm) */
    I1,          /* the constant 1 of the D0/D1 shifts, no bytes */
    Jb, Jz,      /* relative displacement, sign-extended */
    Ap,          /* direct far pointer: offset then selector */
    Ob, Ov,      /* moffs: absolute offset of address size, no ModRM */
    /* fixed registers */
    AL, CL, AX, DX, eAX,
    Zb, Zv,      /* general register in the opcode's low three bits */
    sES, sCS, sSS, sDS, sFS, sGS,
    /* string operands */
    Xb, Xv,      /* seg:[eSI], seg = DS or the override */
    Yb, Yv,      /* ES:[eDI] */
    /* x87 */
    ST0, STi,    /* st(0), st(ModRM.rm) */
};

/* Row attribute flags. */
enum {
    OF_MODRM  = 1u << 0,  /* a ModRM byte follows the opcode */
    OF_LOCK   = 1u << 1,  /* LOCK allowed when the destination is memory */
    OF_STRING = 1u << 2,  /* string operation: REP/REPE/REPNE apply */
    OF_CC     = 1u << 3,  /* condition code in the opcode's low nibble */
    OF_FCC    = 1u << 4,  /* condition code in row.cond (FCMOVcc) */
    OF_X87    = 1u << 5,  /* D8-DF: the operation comes from the x87 tables */
};

/* Group tables selected by ModRM.reg. */
enum opcode_group {
    GRP_NONE = 0,
    GRP1_EbIb,     /* 80, 82 */
    GRP1_EvIz,     /* 81 */
    GRP1_EvIbs,    /* 83 */
    GRP1A_8F,      /* POP Ev */
    GRP2_EbIb,     /* C0 */
    GRP2_EvIb,     /* C1 */
    GRP2_Eb1,      /* D0 */
    GRP2_Ev1,      /* D1 */
    GRP2_EbCL,     /* D2 */
    GRP2_EvCL,     /* D3 */
    GRP3_Eb,       /* F6 */
    GRP3_Ev,       /* F7 */
    GRP4_FE,       /* INC/DEC Eb */
    GRP5_FF,       /* INC/DEC/CALL/JMP/PUSH Ev */
    GRP11_C6,      /* MOV Eb, Ib */
    GRP11_C7,      /* MOV Ev, Iz */
    GRP6_0F00,     /* SLDT ... VERW */
    GRP7_0F01,     /* SGDT ... INVLPG */
    GRP8_0FBA,     /* BT/BTS/BTR/BTC Ev, Ib */
    GRP9_0FC7,     /* CMPXCHG8B */
    GRP15_0FAE,    /* FXSAVE, FXRSTOR (the SSE forms: #UD) */
    GRP_COUNT
};

struct opcode_row {
    uint16_t op;        /* enum insn_op */
    uint8_t  opnd[3];   /* enum opnd_spec, destination first */
    uint8_t  flags;     /* OF_* */
    uint8_t  group;     /* enum opcode_group, GRP_NONE for a plain row */
    uint8_t  cond;      /* condition code when OF_FCC */
};

extern const struct opcode_row opcode_map_1b[256];
extern const struct opcode_row opcode_map_0f[256];
extern const struct opcode_row opcode_groups[GRP_COUNT][8];
extern const struct opcode_row x87_mem_ops[8][8];     /* [escape - 0xD8][ModRM.reg] */
extern const struct opcode_row x87_reg_ops[8][64];    /* [escape - 0xD8][ModRM - 0xC0] */

#endif
