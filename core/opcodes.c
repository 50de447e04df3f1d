/* core/opcodes.c: the i686 opcode tables (Pentium Pro: 386/486 set, CMOVcc,
 * FCMOVcc/FCOMI, CMPXCHG8B, RDTSC/RDPMC/RDMSR/WRMSR, SYSENTER/SYSEXIT, UD2,
 * the 0F 18-1F hint NOPs, FXSAVE/FXRSTOR (iPXE saves the FPU with them);
 * no MMX or SSE).
 *
 * The tables follow the Intel SDM vol. 2 appendix A opcode maps and its
 * operand notation (see opcodes.h), with designated indices so that each
 * row can be checked against the manual by eye and a missing row is a blank
 * slot (#UD). The class of each operation (sensitive, privileged, control
 * transfer ...) is not here: it is op_info[op].cls, from ops.def.
 *
 * Not in the maps: the prefix bytes (26 2E 36 3E 64 65 66 67 F0 F2 F3) and
 * 0F, which decode.c consumes before looking a row up.
 *
 * Choices where the manual leaves room, with what real P6 parts do:
 *   - 82 /r is an alias of 80 (valid outside 64-bit mode).
 *   - F6/F7 /1 is an alias of /0 (TEST), C0-D3 /6 of /4 (SHL, "SAL").
 *   - 0F 18-0F 1F: NOP Ev for every ModRM.reg and both forms. 0F 1F /0 is
 *     the long NOP the SDM documents for CPUID family 6 and 15; the rest of
 *     the range is "reserved-NOP" in the SDM opcode map (hint NOPs since
 *     P6), of which 0F 18 /0-/3 later became PREFETCHh (SSE) and 0F 1A/1B
 *     the MPX instructions. A hint NOP performs no memory access; LOCK on
 *     it is #UD. Capstone 4 agrees on every memory form's length (it says
 *     prefetch* for 0F 18 /0-/3) and refuses the register forms.
 *   - 0F 0D (AMD PREFETCH/W, a NOP only on later Intel parts), 0F 05/07
 *     (SYSCALL/SYSRET, AMD), 0F 0E/0F (3DNow!), 0F B9 and 0F FF (UD1/UD0)
 *     and every MMX/SSE row are blank: #UD on a Pentium Pro.
 *   - x87 aliases that P6 executes: D9 D8+i (FSTP1), DC D0+i (FCOM2),
 *     DC D8+i (FCOMP3), DD C8+i (FXCH4), DE D0+i (FCOMP5), DF C8+i
 *     (FXCH7), DF D0+i / D8+i (FSTP8/9), DF C0+i (FFREEP); DB E0/E1/E4
 *     (8087 FENI/FDISI, 287 FSETPM) are no-ops.
 *   - x87 arithmetic with a single operand (all memory forms, FCOM st(i))
 *     works on st(0) and that operand; two-operand forms name the
 *     destination first (DC E8+i is FSUB st(i), st(0)).
 *   - 0F AF "IMUL Gv, Ev" is written Gv, Gv, Ev so that every IMUL row
 *     reads opnd0 = opnd1 * opnd2 (ops.def).
 */
#include "opcodes.h"

/* Rows name the fields they use in order (op, operands, flags) and leave the
 * rest zero, as a blank slot is all zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define GROUP(g)    { .flags = OF_MODRM, .group = (g) }
#define FCMOV(cc)   { OP_FCMOVCC, { ST0, STi }, OF_FCC, GRP_NONE, (cc) }

const struct opcode_row opcode_map_1b[256] = {
    [0x00] = { OP_ADD,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x01] = { OP_ADD,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x02] = { OP_ADD,   { Gb, Eb },  OF_MODRM },
    [0x03] = { OP_ADD,   { Gv, Ev },  OF_MODRM },
    [0x04] = { OP_ADD,   { AL, Ib } },
    [0x05] = { OP_ADD,   { eAX, Iz } },
    [0x06] = { OP_PUSH_SREG, { sES } },
    [0x07] = { OP_POP_SREG,  { sES } },
    [0x08] = { OP_OR,    { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x09] = { OP_OR,    { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x0A] = { OP_OR,    { Gb, Eb },  OF_MODRM },
    [0x0B] = { OP_OR,    { Gv, Ev },  OF_MODRM },
    [0x0C] = { OP_OR,    { AL, Ib } },
    [0x0D] = { OP_OR,    { eAX, Iz } },
    [0x0E] = { OP_PUSH_SREG, { sCS } },
    /* 0x0F: two-byte escape */
    [0x10] = { OP_ADC,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x11] = { OP_ADC,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x12] = { OP_ADC,   { Gb, Eb },  OF_MODRM },
    [0x13] = { OP_ADC,   { Gv, Ev },  OF_MODRM },
    [0x14] = { OP_ADC,   { AL, Ib } },
    [0x15] = { OP_ADC,   { eAX, Iz } },
    [0x16] = { OP_PUSH_SREG, { sSS } },
    [0x17] = { OP_POP_SREG,  { sSS } },
    [0x18] = { OP_SBB,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x19] = { OP_SBB,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x1A] = { OP_SBB,   { Gb, Eb },  OF_MODRM },
    [0x1B] = { OP_SBB,   { Gv, Ev },  OF_MODRM },
    [0x1C] = { OP_SBB,   { AL, Ib } },
    [0x1D] = { OP_SBB,   { eAX, Iz } },
    [0x1E] = { OP_PUSH_SREG, { sDS } },
    [0x1F] = { OP_POP_SREG,  { sDS } },
    [0x20] = { OP_AND,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x21] = { OP_AND,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x22] = { OP_AND,   { Gb, Eb },  OF_MODRM },
    [0x23] = { OP_AND,   { Gv, Ev },  OF_MODRM },
    [0x24] = { OP_AND,   { AL, Ib } },
    [0x25] = { OP_AND,   { eAX, Iz } },
    /* 0x26: ES prefix */
    [0x27] = { OP_DAA },
    [0x28] = { OP_SUB,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x29] = { OP_SUB,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x2A] = { OP_SUB,   { Gb, Eb },  OF_MODRM },
    [0x2B] = { OP_SUB,   { Gv, Ev },  OF_MODRM },
    [0x2C] = { OP_SUB,   { AL, Ib } },
    [0x2D] = { OP_SUB,   { eAX, Iz } },
    /* 0x2E: CS prefix */
    [0x2F] = { OP_DAS },
    [0x30] = { OP_XOR,   { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x31] = { OP_XOR,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x32] = { OP_XOR,   { Gb, Eb },  OF_MODRM },
    [0x33] = { OP_XOR,   { Gv, Ev },  OF_MODRM },
    [0x34] = { OP_XOR,   { AL, Ib } },
    [0x35] = { OP_XOR,   { eAX, Iz } },
    /* 0x36: SS prefix */
    [0x37] = { OP_AAA },
    [0x38] = { OP_CMP,   { Eb, Gb },  OF_MODRM },
    [0x39] = { OP_CMP,   { Ev, Gv },  OF_MODRM },
    [0x3A] = { OP_CMP,   { Gb, Eb },  OF_MODRM },
    [0x3B] = { OP_CMP,   { Gv, Ev },  OF_MODRM },
    [0x3C] = { OP_CMP,   { AL, Ib } },
    [0x3D] = { OP_CMP,   { eAX, Iz } },
    /* 0x3E: DS prefix */
    [0x3F] = { OP_AAS },
    [0x40 ... 0x47] = { OP_INC, { Zv } },
    [0x48 ... 0x4F] = { OP_DEC, { Zv } },
    [0x50 ... 0x57] = { OP_PUSH, { Zv } },
    [0x58 ... 0x5F] = { OP_POP,  { Zv } },
    [0x60] = { OP_PUSHA },
    [0x61] = { OP_POPA },
    [0x62] = { OP_BOUND, { Gv, Ma },  OF_MODRM },
    [0x63] = { OP_ARPL,  { Ew, Gw },  OF_MODRM },
    /* 0x64, 0x65: FS, GS prefixes; 0x66, 0x67: operand, address size */
    [0x68] = { OP_PUSH,  { Iz } },
    [0x69] = { OP_IMUL,  { Gv, Ev, Iz },  OF_MODRM },
    [0x6A] = { OP_PUSH,  { Ibs } },
    [0x6B] = { OP_IMUL,  { Gv, Ev, Ibs }, OF_MODRM },
    [0x6C] = { OP_INS,   { Yb, DX },  OF_STRING },
    [0x6D] = { OP_INS,   { Yv, DX },  OF_STRING },
    [0x6E] = { OP_OUTS,  { DX, Xb },  OF_STRING },
    [0x6F] = { OP_OUTS,  { DX, Xv },  OF_STRING },
    [0x70 ... 0x7F] = { OP_JCC, { Jb }, OF_CC },
    [0x80] = GROUP(GRP1_EbIb),
    [0x81] = GROUP(GRP1_EvIz),
    [0x82] = GROUP(GRP1_EbIb),
    [0x83] = GROUP(GRP1_EvIbs),
    [0x84] = { OP_TEST,  { Eb, Gb },  OF_MODRM },
    [0x85] = { OP_TEST,  { Ev, Gv },  OF_MODRM },
    [0x86] = { OP_XCHG,  { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0x87] = { OP_XCHG,  { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0x88] = { OP_MOV,   { Eb, Gb },  OF_MODRM },
    [0x89] = { OP_MOV,   { Ev, Gv },  OF_MODRM },
    [0x8A] = { OP_MOV,   { Gb, Eb },  OF_MODRM },
    [0x8B] = { OP_MOV,   { Gv, Ev },  OF_MODRM },
    [0x8C] = { OP_MOV_FROM_SREG, { RvMw, Sw }, OF_MODRM },
    [0x8D] = { OP_LEA,   { Gv, M },   OF_MODRM },
    [0x8E] = { OP_MOV_TO_SREG,   { Sw, Ew },   OF_MODRM },
    [0x8F] = GROUP(GRP1A_8F),
    [0x90] = { OP_NOP },                        /* also F3 90, PAUSE */
    [0x91 ... 0x97] = { OP_XCHG, { Zv, eAX } },
    [0x98] = { OP_CBW },
    [0x99] = { OP_CWD },
    [0x9A] = { OP_CALL_FAR, { Ap } },
    [0x9B] = { OP_WAIT },
    [0x9C] = { OP_PUSHF },
    [0x9D] = { OP_POPF },
    [0x9E] = { OP_SAHF },
    [0x9F] = { OP_LAHF },
    [0xA0] = { OP_MOV,   { AL, Ob } },
    [0xA1] = { OP_MOV,   { eAX, Ov } },
    [0xA2] = { OP_MOV,   { Ob, AL } },
    [0xA3] = { OP_MOV,   { Ov, eAX } },
    [0xA4] = { OP_MOVS,  { Yb, Xb },  OF_STRING },
    [0xA5] = { OP_MOVS,  { Yv, Xv },  OF_STRING },
    [0xA6] = { OP_CMPS,  { Xb, Yb },  OF_STRING },
    [0xA7] = { OP_CMPS,  { Xv, Yv },  OF_STRING },
    [0xA8] = { OP_TEST,  { AL, Ib } },
    [0xA9] = { OP_TEST,  { eAX, Iz } },
    [0xAA] = { OP_STOS,  { Yb, AL },  OF_STRING },
    [0xAB] = { OP_STOS,  { Yv, eAX }, OF_STRING },
    [0xAC] = { OP_LODS,  { AL, Xb },  OF_STRING },
    [0xAD] = { OP_LODS,  { eAX, Xv }, OF_STRING },
    [0xAE] = { OP_SCAS,  { AL, Yb },  OF_STRING },
    [0xAF] = { OP_SCAS,  { eAX, Yv }, OF_STRING },
    [0xB0 ... 0xB7] = { OP_MOV, { Zb, Ib } },
    [0xB8 ... 0xBF] = { OP_MOV, { Zv, Iv } },
    [0xC0] = GROUP(GRP2_EbIb),
    [0xC1] = GROUP(GRP2_EvIb),
    [0xC2] = { OP_RET,   { Iw } },
    [0xC3] = { OP_RET },
    [0xC4] = { OP_LES,   { Gv, Mp },  OF_MODRM },
    [0xC5] = { OP_LDS,   { Gv, Mp },  OF_MODRM },
    [0xC6] = GROUP(GRP11_C6),
    [0xC7] = GROUP(GRP11_C7),
    [0xC8] = { OP_ENTER, { Iw, Ib } },
    [0xC9] = { OP_LEAVE },
    [0xCA] = { OP_RET_FAR, { Iw } },
    [0xCB] = { OP_RET_FAR },
    [0xCC] = { OP_INT3 },
    [0xCD] = { OP_INT,   { Ib } },
    [0xCE] = { OP_INTO },
    [0xCF] = { OP_IRET },
    [0xD0] = GROUP(GRP2_Eb1),
    [0xD1] = GROUP(GRP2_Ev1),
    [0xD2] = GROUP(GRP2_EbCL),
    [0xD3] = GROUP(GRP2_EvCL),
    [0xD4] = { OP_AAM,   { Ib } },
    [0xD5] = { OP_AAD,   { Ib } },
    [0xD6] = { OP_SALC },                       /* undocumented */
    [0xD7] = { OP_XLAT },
    [0xD8 ... 0xDF] = { .flags = OF_MODRM | OF_X87 },
    [0xE0] = { OP_LOOPNE, { Jb } },
    [0xE1] = { OP_LOOPE, { Jb } },
    [0xE2] = { OP_LOOP,  { Jb } },
    [0xE3] = { OP_JCXZ,  { Jb } },
    [0xE4] = { OP_IN,    { AL, Ib } },
    [0xE5] = { OP_IN,    { eAX, Ib } },
    [0xE6] = { OP_OUT,   { Ib, AL } },
    [0xE7] = { OP_OUT,   { Ib, eAX } },
    [0xE8] = { OP_CALL,  { Jz } },
    [0xE9] = { OP_JMP,   { Jz } },
    [0xEA] = { OP_JMP_FAR, { Ap } },
    [0xEB] = { OP_JMP,   { Jb } },
    [0xEC] = { OP_IN,    { AL, DX } },
    [0xED] = { OP_IN,    { eAX, DX } },
    [0xEE] = { OP_OUT,   { DX, AL } },
    [0xEF] = { OP_OUT,   { DX, eAX } },
    /* 0xF0: LOCK prefix */
    [0xF1] = { OP_INT1 },                       /* ICEBP */
    /* 0xF2, 0xF3: REPNE, REP prefixes */
    [0xF4] = { OP_HLT },
    [0xF5] = { OP_CMC },
    [0xF6] = GROUP(GRP3_Eb),
    [0xF7] = GROUP(GRP3_Ev),
    [0xF8] = { OP_CLC },
    [0xF9] = { OP_STC },
    [0xFA] = { OP_CLI },
    [0xFB] = { OP_STI },
    [0xFC] = { OP_CLD },
    [0xFD] = { OP_STD },
    [0xFE] = GROUP(GRP4_FE),
    [0xFF] = GROUP(GRP5_FF),
};

const struct opcode_row opcode_map_0f[256] = {
    [0x00] = GROUP(GRP6_0F00),
    [0x01] = GROUP(GRP7_0F01),
    [0x02] = { OP_LAR,   { Gv, Ew },  OF_MODRM },
    [0x03] = { OP_LSL,   { Gv, Ew },  OF_MODRM },
    [0x06] = { OP_CLTS },
    [0x08] = { OP_INVD },
    [0x09] = { OP_WBINVD },
    [0x0B] = { OP_UD2 },
    [0x18 ... 0x1F] = { OP_NOP, { Ev }, OF_MODRM },   /* hint NOPs, 0F 1F /0 long NOP */
    [0x20] = { OP_MOV_FROM_CR, { Rd, Cd }, OF_MODRM },
    [0x21] = { OP_MOV_FROM_DR, { Rd, Dd }, OF_MODRM },
    [0x22] = { OP_MOV_TO_CR,   { Cd, Rd }, OF_MODRM },
    [0x23] = { OP_MOV_TO_DR,   { Dd, Rd }, OF_MODRM },
    [0x30] = { OP_WRMSR },
    [0x31] = { OP_RDTSC },
    [0x32] = { OP_RDMSR },
    [0x33] = { OP_RDPMC },
    [0x34] = { OP_SYSENTER },
    [0x35] = { OP_SYSEXIT },
    [0x40 ... 0x4F] = { OP_CMOVCC, { Gv, Ev }, OF_MODRM | OF_CC },
    [0x80 ... 0x8F] = { OP_JCC,   { Jz }, OF_CC },
    [0x90 ... 0x9F] = { OP_SETCC, { Eb }, OF_MODRM | OF_CC },   /* ModRM.reg ignored */
    [0xA0] = { OP_PUSH_SREG, { sFS } },
    [0xA1] = { OP_POP_SREG,  { sFS } },
    [0xA2] = { OP_CPUID },
    [0xA3] = { OP_BT,    { Ev, Gv },  OF_MODRM },
    [0xA4] = { OP_SHLD,  { Ev, Gv, Ib },  OF_MODRM },
    [0xA5] = { OP_SHLD,  { Ev, Gv, CL },  OF_MODRM },
    [0xA8] = { OP_PUSH_SREG, { sGS } },
    [0xA9] = { OP_POP_SREG,  { sGS } },
    [0xAA] = { OP_RSM },
    [0xAB] = { OP_BTS,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0xAC] = { OP_SHRD,  { Ev, Gv, Ib },  OF_MODRM },
    [0xAD] = { OP_SHRD,  { Ev, Gv, CL },  OF_MODRM },
    [0xAE] = GROUP(GRP15_0FAE),
    [0xAF] = { OP_IMUL,  { Gv, Gv, Ev },  OF_MODRM },
    [0xB0] = { OP_CMPXCHG, { Eb, Gb }, OF_MODRM | OF_LOCK },
    [0xB1] = { OP_CMPXCHG, { Ev, Gv }, OF_MODRM | OF_LOCK },
    [0xB2] = { OP_LSS,   { Gv, Mp },  OF_MODRM },
    [0xB3] = { OP_BTR,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0xB4] = { OP_LFS,   { Gv, Mp },  OF_MODRM },
    [0xB5] = { OP_LGS,   { Gv, Mp },  OF_MODRM },
    [0xB6] = { OP_MOVZX, { Gv, Eb },  OF_MODRM },
    [0xB7] = { OP_MOVZX, { Gv, Ew },  OF_MODRM },
    [0xBA] = GROUP(GRP8_0FBA),
    [0xBB] = { OP_BTC,   { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0xBC] = { OP_BSF,   { Gv, Ev },  OF_MODRM },
    [0xBD] = { OP_BSR,   { Gv, Ev },  OF_MODRM },
    [0xBE] = { OP_MOVSX, { Gv, Eb },  OF_MODRM },
    [0xBF] = { OP_MOVSX, { Gv, Ew },  OF_MODRM },
    [0xC0] = { OP_XADD,  { Eb, Gb },  OF_MODRM | OF_LOCK },
    [0xC1] = { OP_XADD,  { Ev, Gv },  OF_MODRM | OF_LOCK },
    [0xC7] = GROUP(GRP9_0FC7),
    [0xC8 ... 0xCF] = { OP_BSWAP, { Zv } },
};

#define GRP1(dst, src) {                                   \
    [0] = { OP_ADD, { dst, src }, OF_LOCK },               \
    [1] = { OP_OR,  { dst, src }, OF_LOCK },               \
    [2] = { OP_ADC, { dst, src }, OF_LOCK },               \
    [3] = { OP_SBB, { dst, src }, OF_LOCK },               \
    [4] = { OP_AND, { dst, src }, OF_LOCK },               \
    [5] = { OP_SUB, { dst, src }, OF_LOCK },               \
    [6] = { OP_XOR, { dst, src }, OF_LOCK },               \
    [7] = { OP_CMP, { dst, src } },                        \
}

#define GRP2(dst, count) {                                 \
    [0] = { OP_ROL, { dst, count } },                      \
    [1] = { OP_ROR, { dst, count } },                      \
    [2] = { OP_RCL, { dst, count } },                      \
    [3] = { OP_RCR, { dst, count } },                      \
    [4] = { OP_SHL, { dst, count } },                      \
    [5] = { OP_SHR, { dst, count } },                      \
    [6] = { OP_SHL, { dst, count } },                      \
    [7] = { OP_SAR, { dst, count } },                      \
}

#define GRP3(rm, imm) {                                    \
    [0] = { OP_TEST,  { rm, imm } },                       \
    [1] = { OP_TEST,  { rm, imm } },                       \
    [2] = { OP_NOT,   { rm }, OF_LOCK },                   \
    [3] = { OP_NEG,   { rm }, OF_LOCK },                   \
    [4] = { OP_MUL,   { rm } },                            \
    [5] = { OP_IMUL1, { rm } },                            \
    [6] = { OP_DIV,   { rm } },                            \
    [7] = { OP_IDIV,  { rm } },                            \
}

/* Rows of a group carry their own operands; OF_MODRM is implied. */
const struct opcode_row opcode_groups[GRP_COUNT][8] = {
    [GRP1_EbIb]  = GRP1(Eb, Ib),
    [GRP1_EvIz]  = GRP1(Ev, Iz),
    [GRP1_EvIbs] = GRP1(Ev, Ibs),
    [GRP1A_8F] = {
        [0] = { OP_POP, { Ev } },
    },
    [GRP2_EbIb] = GRP2(Eb, Ib),
    [GRP2_EvIb] = GRP2(Ev, Ib),
    [GRP2_Eb1]  = GRP2(Eb, I1),
    [GRP2_Ev1]  = GRP2(Ev, I1),
    [GRP2_EbCL] = GRP2(Eb, CL),
    [GRP2_EvCL] = GRP2(Ev, CL),
    [GRP3_Eb] = GRP3(Eb, Ib),
    [GRP3_Ev] = GRP3(Ev, Iz),
    [GRP4_FE] = {
        [0] = { OP_INC, { Eb }, OF_LOCK },
        [1] = { OP_DEC, { Eb }, OF_LOCK },
    },
    [GRP5_FF] = {
        [0] = { OP_INC,      { Ev }, OF_LOCK },
        [1] = { OP_DEC,      { Ev }, OF_LOCK },
        [2] = { OP_CALL,     { Ev } },
        [3] = { OP_CALL_FAR, { Mp } },
        [4] = { OP_JMP,      { Ev } },
        [5] = { OP_JMP_FAR,  { Mp } },
        [6] = { OP_PUSH,     { Ev } },
    },
    [GRP11_C6] = {
        [0] = { OP_MOV, { Eb, Ib } },
    },
    [GRP11_C7] = {
        [0] = { OP_MOV, { Ev, Iz } },
    },
    [GRP6_0F00] = {
        [0] = { OP_SLDT, { RvMw } },
        [1] = { OP_STR,  { RvMw } },
        [2] = { OP_LLDT, { Ew } },
        [3] = { OP_LTR,  { Ew } },
        [4] = { OP_VERR, { Ew } },
        [5] = { OP_VERW, { Ew } },
    },
    /* Register forms of /0-/3 and /7 (VMX, MONITOR, SWAPGS ... on later
     * CPUs) are #UD on P6: the M operands reject mod == 3. */
    [GRP7_0F01] = {
        [0] = { OP_SGDT,   { Ms } },
        [1] = { OP_SIDT,   { Ms } },
        [2] = { OP_LGDT,   { Ms } },
        [3] = { OP_LIDT,   { Ms } },
        [4] = { OP_SMSW,   { RvMw } },
        [6] = { OP_LMSW,   { Ew } },
        [7] = { OP_INVLPG, { Mb } },
    },
    [GRP8_0FBA] = {
        [4] = { OP_BT,  { Ev, Ib } },
        [5] = { OP_BTS, { Ev, Ib }, OF_LOCK },
        [6] = { OP_BTR, { Ev, Ib }, OF_LOCK },
        [7] = { OP_BTC, { Ev, Ib }, OF_LOCK },
    },
    [GRP9_0FC7] = {
        [1] = { OP_CMPXCHG8B, { Mq }, OF_LOCK },
    },
    [GRP15_0FAE] = {
        [0] = { OP_FXSAVE,  { Mfx } },
        [1] = { OP_FXRSTOR, { Mfx } },
    },
};

/* x87 memory forms, by escape byte and ModRM.reg. */
const struct opcode_row x87_mem_ops[8][8] = {
    [0xD8 - 0xD8] = {
        { OP_FADD, { Md } },  { OP_FMUL, { Md } },  { OP_FCOM, { Md } },  { OP_FCOMP, { Md } },
        { OP_FSUB, { Md } },  { OP_FSUBR, { Md } }, { OP_FDIV, { Md } },  { OP_FDIVR, { Md } },
    },
    [0xD9 - 0xD8] = {
        [0] = { OP_FLD,     { Md } },
        [2] = { OP_FST,     { Md } },
        [3] = { OP_FSTP,    { Md } },
        [4] = { OP_FLDENV,  { Menv } },
        [5] = { OP_FLDCW,   { Mw } },
        [6] = { OP_FNSTENV, { Menv } },
        [7] = { OP_FNSTCW,  { Mw } },
    },
    [0xDA - 0xD8] = {
        { OP_FIADD, { Md } }, { OP_FIMUL, { Md } },  { OP_FICOM, { Md } }, { OP_FICOMP, { Md } },
        { OP_FISUB, { Md } }, { OP_FISUBR, { Md } }, { OP_FIDIV, { Md } }, { OP_FIDIVR, { Md } },
    },
    [0xDB - 0xD8] = {
        [0] = { OP_FILD,  { Md } },      /* /1 is FISTTP (SSE3) */
        [2] = { OP_FIST,  { Md } },
        [3] = { OP_FISTP, { Md } },
        [5] = { OP_FLD,   { Mt } },
        [7] = { OP_FSTP,  { Mt } },
    },
    [0xDC - 0xD8] = {
        { OP_FADD, { Mq } },  { OP_FMUL, { Mq } },  { OP_FCOM, { Mq } },  { OP_FCOMP, { Mq } },
        { OP_FSUB, { Mq } },  { OP_FSUBR, { Mq } }, { OP_FDIV, { Mq } },  { OP_FDIVR, { Mq } },
    },
    [0xDD - 0xD8] = {
        [0] = { OP_FLD,    { Mq } },
        [2] = { OP_FST,    { Mq } },
        [3] = { OP_FSTP,   { Mq } },
        [4] = { OP_FRSTOR, { Mstate } },
        [6] = { OP_FNSAVE, { Mstate } },
        [7] = { OP_FNSTSW, { Mw } },
    },
    [0xDE - 0xD8] = {
        { OP_FIADD, { Mw } }, { OP_FIMUL, { Mw } },  { OP_FICOM, { Mw } }, { OP_FICOMP, { Mw } },
        { OP_FISUB, { Mw } }, { OP_FISUBR, { Mw } }, { OP_FIDIV, { Mw } }, { OP_FIDIVR, { Mw } },
    },
    [0xDF - 0xD8] = {
        [0] = { OP_FILD,  { Mw } },
        [2] = { OP_FIST,  { Mw } },
        [3] = { OP_FISTP, { Mw } },
        [4] = { OP_FBLD,  { Mt } },
        [5] = { OP_FILD,  { Mq } },
        [6] = { OP_FBSTP, { Mt } },
        [7] = { OP_FISTP, { Mq } },
    },
};

/* x87 register forms, by escape byte and the whole ModRM (C0-FF). */
#define R(first, last) [(first) - 0xC0 ... (last) - 0xC0]
#define R1(modrm)      [(modrm) - 0xC0]

const struct opcode_row x87_reg_ops[8][64] = {
    [0xD8 - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FADD,  { ST0, STi } },
        R(0xC8, 0xCF) = { OP_FMUL,  { ST0, STi } },
        R(0xD0, 0xD7) = { OP_FCOM,  { STi } },
        R(0xD8, 0xDF) = { OP_FCOMP, { STi } },
        R(0xE0, 0xE7) = { OP_FSUB,  { ST0, STi } },
        R(0xE8, 0xEF) = { OP_FSUBR, { ST0, STi } },
        R(0xF0, 0xF7) = { OP_FDIV,  { ST0, STi } },
        R(0xF8, 0xFF) = { OP_FDIVR, { ST0, STi } },
    },
    [0xD9 - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FLD,  { STi } },
        R(0xC8, 0xCF) = { OP_FXCH, { STi } },
        R1(0xD0) = { OP_FNOP },
        R(0xD8, 0xDF) = { OP_FSTP, { STi } },      /* FSTP1 alias */
        R1(0xE0) = { OP_FCHS },
        R1(0xE1) = { OP_FABS },
        R1(0xE4) = { OP_FTST },
        R1(0xE5) = { OP_FXAM },
        R1(0xE8) = { OP_FLD1 },
        R1(0xE9) = { OP_FLDL2T },
        R1(0xEA) = { OP_FLDL2E },
        R1(0xEB) = { OP_FLDPI },
        R1(0xEC) = { OP_FLDLG2 },
        R1(0xED) = { OP_FLDLN2 },
        R1(0xEE) = { OP_FLDZ },
        R1(0xF0) = { OP_F2XM1 },
        R1(0xF1) = { OP_FYL2X },
        R1(0xF2) = { OP_FPTAN },
        R1(0xF3) = { OP_FPATAN },
        R1(0xF4) = { OP_FXTRACT },
        R1(0xF5) = { OP_FPREM1 },
        R1(0xF6) = { OP_FDECSTP },
        R1(0xF7) = { OP_FINCSTP },
        R1(0xF8) = { OP_FPREM },
        R1(0xF9) = { OP_FYL2XP1 },
        R1(0xFA) = { OP_FSQRT },
        R1(0xFB) = { OP_FSINCOS },
        R1(0xFC) = { OP_FRNDINT },
        R1(0xFD) = { OP_FSCALE },
        R1(0xFE) = { OP_FSIN },
        R1(0xFF) = { OP_FCOS },
    },
    /* FCMOVcc: B, E, BE, U test the same flags as Jcc 2, 4, 6, 10. */
    [0xDA - 0xD8] = {
        R(0xC0, 0xC7) = FCMOV(2),
        R(0xC8, 0xCF) = FCMOV(4),
        R(0xD0, 0xD7) = FCMOV(6),
        R(0xD8, 0xDF) = FCMOV(10),
        R1(0xE9) = { OP_FUCOMPP },
    },
    [0xDB - 0xD8] = {
        R(0xC0, 0xC7) = FCMOV(3),
        R(0xC8, 0xCF) = FCMOV(5),
        R(0xD0, 0xD7) = FCMOV(7),
        R(0xD8, 0xDF) = FCMOV(11),
        R1(0xE0) = { OP_FNOP_LEGACY },             /* FENI */
        R1(0xE1) = { OP_FNOP_LEGACY },             /* FDISI */
        R1(0xE2) = { OP_FNCLEX },
        R1(0xE3) = { OP_FNINIT },
        R1(0xE4) = { OP_FNOP_LEGACY },             /* FSETPM */
        R(0xE8, 0xEF) = { OP_FUCOMI, { ST0, STi } },
        R(0xF0, 0xF7) = { OP_FCOMI,  { ST0, STi } },
    },
    [0xDC - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FADD,  { STi, ST0 } },
        R(0xC8, 0xCF) = { OP_FMUL,  { STi, ST0 } },
        R(0xD0, 0xD7) = { OP_FCOM,  { STi } },     /* FCOM2 alias */
        R(0xD8, 0xDF) = { OP_FCOMP, { STi } },     /* FCOMP3 alias */
        R(0xE0, 0xE7) = { OP_FSUBR, { STi, ST0 } },
        R(0xE8, 0xEF) = { OP_FSUB,  { STi, ST0 } },
        R(0xF0, 0xF7) = { OP_FDIVR, { STi, ST0 } },
        R(0xF8, 0xFF) = { OP_FDIV,  { STi, ST0 } },
    },
    [0xDD - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FFREE,  { STi } },
        R(0xC8, 0xCF) = { OP_FXCH,   { STi } },    /* FXCH4 alias */
        R(0xD0, 0xD7) = { OP_FST,    { STi } },
        R(0xD8, 0xDF) = { OP_FSTP,   { STi } },
        R(0xE0, 0xE7) = { OP_FUCOM,  { STi } },
        R(0xE8, 0xEF) = { OP_FUCOMP, { STi } },
    },
    [0xDE - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FADDP,  { STi, ST0 } },
        R(0xC8, 0xCF) = { OP_FMULP,  { STi, ST0 } },
        R(0xD0, 0xD7) = { OP_FCOMP,  { STi } },    /* FCOMP5 alias */
        R1(0xD9) = { OP_FCOMPP },
        R(0xE0, 0xE7) = { OP_FSUBRP, { STi, ST0 } },
        R(0xE8, 0xEF) = { OP_FSUBP,  { STi, ST0 } },
        R(0xF0, 0xF7) = { OP_FDIVRP, { STi, ST0 } },
        R(0xF8, 0xFF) = { OP_FDIVP,  { STi, ST0 } },
    },
    [0xDF - 0xD8] = {
        R(0xC0, 0xC7) = { OP_FFREEP,  { STi } },
        R(0xC8, 0xCF) = { OP_FXCH,    { STi } },   /* FXCH7 alias */
        R(0xD0, 0xD7) = { OP_FSTP,    { STi } },   /* FSTP8 alias */
        R(0xD8, 0xDF) = { OP_FSTP,    { STi } },   /* FSTP9 alias */
        R1(0xE0) = { OP_FNSTSW, { AX } },
        R(0xE8, 0xEF) = { OP_FUCOMIP, { ST0, STi } },
        R(0xF0, 0xF7) = { OP_FCOMIP,  { ST0, STi } },
    },
};
