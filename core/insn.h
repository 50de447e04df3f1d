/* core/insn.h: the decoded instruction.
 *
 * The decoder turns bytes into one struct insn; the interpreter, the
 * translator and the tracer all read that struct and nothing re-parses bytes.
 * Invariants:
 *   - op == OP_INVALID means the bytes do not encode an i686 instruction
 *     (execution raises #UD); len is still the number of bytes examined.
 *   - opsize/addrsize are the effective sizes (2 or 4) after prefixes and the
 *     code segment's D bit.
 *   - Immediates are stored already extended to 32 bits the way the opcode
 *     defines (sign-extended Ib for 83 /x, relative displacements, ...).
 *   - At most one memory operand (OPND_MEM); its address is
 *     base + index << scale + disp, truncated to addrsize, in segment seg.
 *
 * Usage:
 *   struct insn in;
 *   decode_insn(&in, bytes, avail, /+ code32 +/ true);
 *   if (in.op == OP_INVALID) ...;
 */
#ifndef FOX86_INSN_H
#define FOX86_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Class bits (see ops.def). Zero means innocuous. */
enum {
    SENS = 1u << 0,
    PRIV = 1u << 1,
    IOPL = 1u << 2,
    IO   = 1u << 3,
    CTRL = 1u << 4,
    END  = 1u << 5,
};

enum insn_op {
    OP_INVALID = 0,
#define X(name, mnem, cls) OP_##name,
#include "ops.def"
#undef X
    OP_COUNT
};

struct op_info {
    const char *mnemonic;
    uint8_t     cls;
};
extern const struct op_info op_info[OP_COUNT];

enum opnd_kind {
    OPND_NONE = 0,
    OPND_REG,      /* general register: size 1 -> reg 0-3 = AL..BL, 4-7 = AH..BH */
    OPND_MEM,      /* memory at the effective address, size bytes */
    OPND_IMM,      /* insn.imm (insn.imm2 for a second immediate operand) */
    OPND_REL,      /* relative branch: target = next EIP + insn.imm */
    OPND_FAR,      /* direct far pointer: offset insn.imm, selector insn.imm2 */
    OPND_SREG,     /* segment register, reg = SEG_* index */
    OPND_CREG,     /* control register CRn */
    OPND_DREG,     /* debug register DRn */
    OPND_ST,       /* x87 stack register st(reg) */
    OPND_STRING,   /* string operand (MOVS ... OUTS): reg = R_ESI, at insn.seg:eSI, or
                      R_EDI, at ES:eDI; eSI/eDI by addrsize; not read by insn_opnd_read */
};

struct opnd {
    uint8_t kind;  /* enum opnd_kind */
    uint8_t size;  /* bytes: 1, 2, 4, 6, 8, 10; x87 env/state 14, 28, 94, 108 */
    uint8_t reg;   /* register number for REG/SREG/CREG/DREG/ST; 1 = second immediate for IMM */
};

/* Prefix bits as seen in the instruction (insn.prefixes). */
enum {
    PFX_LOCK   = 1u << 0,
    PFX_REP    = 1u << 1,  /* F3: REP / REPE */
    PFX_REPNE  = 1u << 2,  /* F2 */
    PFX_OPSIZE = 1u << 3,  /* 66 */
    PFX_ADSIZE = 1u << 4,  /* 67 */
    PFX_SEG    = 1u << 5,  /* a segment override was given (insn.seg holds it) */
};

#define EA_NONE 0xFF        /* no base / no index register */
#define INSN_MAX_LEN 15

struct insn {
    uint16_t op;           /* enum insn_op */
    uint8_t  len;          /* length in bytes, 1..15 */
    uint8_t  opsize;       /* effective operand size: 2 or 4 */
    uint8_t  addrsize;     /* effective address size: 2 or 4 */
    uint8_t  prefixes;     /* PFX_* bits */
    uint8_t  seg;          /* segment of the memory operand (SEG_*): override or default */
    uint8_t  cond;         /* condition code 0-15 (Jcc, SETcc, CMOVcc, FCMOVcc) */
    uint8_t  map;          /* 0: one-byte map, 1: 0F map */
    uint8_t  opcode;       /* the opcode byte within its map */
    uint8_t  modrm;        /* raw ModRM byte, 0 if none */
    uint8_t  has_modrm;
    uint8_t  ea_base;      /* GPR index or EA_NONE */
    uint8_t  ea_index;     /* GPR index or EA_NONE */
    uint8_t  ea_scale;     /* shift count 0-3 */
    uint8_t  nopnd;        /* operands used in opnd[] */
    struct opnd opnd[3];   /* destination first, Intel order */
    int32_t  disp;         /* displacement of the memory operand */
    uint32_t imm;          /* first immediate, extended to 32 bits */
    uint32_t imm2;         /* second immediate: ENTER level, far selector */
    uint8_t  too_long;     /* 1: longer than 15 bytes (op OP_INVALID, len 15): #GP(0), not #UD */
};

/* Decode one instruction from bytes[0..avail). code32 is the code segment's
 * default size (CS.D). Returns the length consumed, or 0 if avail is too short
 * to decide (the caller fetches more bytes; 15 bytes are always enough), and
 * in that case *out is undefined. An instruction longer than 15 bytes decodes
 * as OP_INVALID with len 15 (the CPU raises #GP for it; see interp). */
size_t decode_insn(struct insn *out, const uint8_t *bytes, size_t avail, bool code32);

/* The class bits of a decoded instruction (op_info[op].cls, refined where an
 * encoding's class depends on its operands). */
uint8_t insn_class(const struct insn *in);

/* Write an Intel-syntax text of the instruction for traces ("add eax, 4");
 * returns the length written. */
int insn_format(const struct insn *in, uint32_t eip, char *buf, size_t bufsize);

#endif
