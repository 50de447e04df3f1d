/* translator/x64_emit.h: a small x86-64 assembler for the native backend.
 *
 * Contract
 *   - struct x64_asm writes into [start, end). An instruction that does not
 *     fit sets `overflow` and writes nothing (no partial instruction, never
 *     past `end`); later calls keep failing, so a caller checks once at the
 *     end of a block, flushes the code buffer and retranslates.
 *   - `error` is set when an encoding is impossible at run time: a short
 *     jump whose label binds out of rel8 range, or more than
 *     X64_LABEL_MAX_FIXUPS pending jumps to one label. Programming errors
 *     (RSP as an index, a scale of 3, a 64-bit immediate that does not fit
 *     in imm32) are asserts.
 *   - Registers are X64_RAX..X64_R15 at every size; with 8-bit operands
 *     numbers 4..7 mean SPL, BPL, SIL, DIL (the assembler adds the REX prefix
 *     they need). AH, CH, DH and BH are X64_AH..X64_BH, allowed
 *     wherever a byte register is, as long as the instruction needs no REX
 *     (the "high byte register together with REX" encoding does not exist).
 *   - Sizes are in bits: 8, 16, 32 or 64.
 *   - Code may be written through one mapping and run from another (the
 *     dual-mapped code buffer): `exec_delta` = execution address - write
 *     address. Only encoders that reach outside the buffer (x64_call_abs,
 *     x64_jmp_abs, RIP-relative operands from x64_mem_rip) use it.
 *
 * Usage
 *   struct x64_asm a;
 *   x64_init(&a, buf, len, 0);
 *   struct x64_label loop;
 *   x64_label_init(&loop);
 *   x64_mov_rr(&a, 64, X64_RAX, X64_RDI);
 *   x64_bind(&a, &loop);
 *   x64_alu_ri(&a, X64_ADD, 64, X64_RAX, 1);
 *   x64_alu_rr(&a, X64_CMP, 64, X64_RAX, X64_RSI);
 *   x64_jcc_label(&a, X64_CC_B, &loop, false);
 *   x64_ret(&a);
 *   if (!x64_ok(&a)) ... flush and retry ...
 */
#ifndef FOX86_TRANSLATOR_X64_EMIT_H
#define FOX86_TRANSLATOR_X64_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x64_reg {
    X64_RAX, X64_RCX, X64_RDX, X64_RBX, X64_RSP, X64_RBP, X64_RSI, X64_RDI,
    X64_R8, X64_R9, X64_R10, X64_R11, X64_R12, X64_R13, X64_R14, X64_R15,
    X64_RIP = 16,       /* only as a memory base: see x64_mem_rip */
    /* The legacy high-byte registers: 8-bit operands only, and only in an
     * instruction that needs no REX prefix (no R8-R15, SPL..DIL, 64-bit
     * size); anything else is an impossible encoding (assert, `error`). */
    X64_AH = 20, X64_CH, X64_DH, X64_BH,
    X64_NOREG = -1,     /* no base / no index */
};

/* The eight classic ALU operations, numbered as in their opcodes (op*8+x)
 * and the /digit of the 80/81/83 group. */
enum x64_alu { X64_ADD, X64_OR, X64_ADC, X64_SBB, X64_AND, X64_SUB, X64_XOR, X64_CMP };

/* Shift/rotate group (C0/C1/D0-D3 /digit); 6 is an undocumented alias. */
enum x64_shift { X64_ROL, X64_ROR, X64_RCL, X64_RCR, X64_SHL, X64_SHR, X64_SAR = 7 };

/* Unary group F6/F7 /digit. */
enum x64_unary { X64_NOT = 2, X64_NEG, X64_MUL, X64_IMUL1, X64_DIV, X64_IDIV };

/* Bit tests: 0F A3/AB/B3/BB for the register form, 0F BA /4../7 imm8. */
enum x64_bitop { X64_BT, X64_BTS, X64_BTR, X64_BTC };

/* Condition codes as in Jcc/SETcc/CMOVcc (low nibble of the opcode). */
enum x64_cc {
    X64_CC_O, X64_CC_NO, X64_CC_B, X64_CC_AE, X64_CC_E, X64_CC_NE, X64_CC_BE, X64_CC_A,
    X64_CC_S, X64_CC_NS, X64_CC_P, X64_CC_NP, X64_CC_L, X64_CC_GE, X64_CC_LE, X64_CC_G,
};

/* [base + index*scale + disp]. base X64_NOREG = absolute disp32
 * (sign-extended); base X64_RIP = disp relative to the start of the
 * instruction (index must be none). */
struct x64_mem {
    int8_t base;        /* enum x64_reg, X64_NOREG or X64_RIP */
    int8_t index;       /* enum x64_reg except RSP, or X64_NOREG */
    uint8_t scale;      /* 1, 2, 4 or 8 */
    int32_t disp;
};

struct x64_asm {
    uint8_t *start, *cur, *end;
    bool overflow;      /* an instruction did not fit: nothing was written */
    bool error;         /* a label could not be resolved (see above) */
    intptr_t exec_delta;/* run address - write address */
    uint32_t flag_writes; /* instructions emitted that may change RFLAGS (ALU, shifts, calls,
                             POPFQ, copied bytes ...): unchanged, RFLAGS are as they were */
};

#define X64_LABEL_MAX_FIXUPS 16

/* A jump target inside the buffer. Jumps to an unbound label are recorded
 * and patched when it is bound; jumps to a bound label are direct. */
struct x64_label {
    int32_t pos;                                /* offset from start, -1 unbound */
    uint8_t nfixups;
    bool fixup_short[X64_LABEL_MAX_FIXUPS];     /* rel8 (true) or rel32 */
    int32_t fixup_at[X64_LABEL_MAX_FIXUPS];     /* offset of the rel field */
};

void x64_init(struct x64_asm *a, uint8_t *buf, size_t len, intptr_t exec_delta);
static inline bool x64_ok(const struct x64_asm *a) { return !a->overflow && !a->error; }
static inline size_t x64_offset(const struct x64_asm *a) { return (size_t)(a->cur - a->start); }

static inline struct x64_mem x64_mem_b(int base, int32_t disp)
{ return (struct x64_mem){ (int8_t)base, X64_NOREG, 1, disp }; }
static inline struct x64_mem x64_mem_bis(int base, int index, int scale, int32_t disp)
{ return (struct x64_mem){ (int8_t)base, (int8_t)index, (uint8_t)scale, disp }; }
static inline struct x64_mem x64_mem_abs(int32_t addr)
{ return (struct x64_mem){ X64_NOREG, X64_NOREG, 1, addr }; }
/* disp is relative to the START of the instruction that uses the operand
 * (the assembler subtracts that instruction's length), so a caller can
 * compute it before knowing the encoding. */
static inline struct x64_mem x64_mem_rip(int32_t disp)
{ return (struct x64_mem){ X64_RIP, X64_NOREG, 1, disp }; }
/* The RIP-relative operand that reaches `target` (a run-time address) from
 * an instruction starting at a->cur, i.e. valid for the very next encoder
 * call; false when the target is out of +-2 GiB. */
bool x64_mem_rip_to(const struct x64_asm *a, const void *target, struct x64_mem *out);

/* ---- moves ---- */
void x64_mov_rr(struct x64_asm *a, int bits, int dst, int src);
/* Shortest form: 64-bit values that fit in uint32 use mov r32, imm32
 * (zero-extends), those that fit int32 use C7 /0, others movabs. */
void x64_mov_ri(struct x64_asm *a, int bits, int dst, int64_t imm);
void x64_mov_rm(struct x64_asm *a, int bits, int dst, struct x64_mem m);
void x64_mov_mr(struct x64_asm *a, int bits, struct x64_mem m, int src);
void x64_mov_mi(struct x64_asm *a, int bits, struct x64_mem m, int32_t imm);
/* movzx/movsx from 8 or 16 bits to dst_bits (16/32/64). */
void x64_movzx_rr(struct x64_asm *a, int dst_bits, int dst, int src_bits, int src);
void x64_movzx_rm(struct x64_asm *a, int dst_bits, int dst, int src_bits, struct x64_mem m);
void x64_movsx_rr(struct x64_asm *a, int dst_bits, int dst, int src_bits, int src);
void x64_movsx_rm(struct x64_asm *a, int dst_bits, int dst, int src_bits, struct x64_mem m);
void x64_movsxd_rr(struct x64_asm *a, int dst, int src);          /* r64 <- r32 */
void x64_movsxd_rm(struct x64_asm *a, int dst, struct x64_mem m);
void x64_lea(struct x64_asm *a, int bits, int dst, struct x64_mem m);
void x64_xchg_rr(struct x64_asm *a, int bits, int r1, int r2);
void x64_xchg_mr(struct x64_asm *a, int bits, struct x64_mem m, int r);
void x64_bswap(struct x64_asm *a, int bits, int r);                /* 32 or 64 */
void x64_rorx(struct x64_asm *a, int bits, int dst, int src, uint8_t imm); /* BMI2, no flags */
/* cmpxchg r/m, r (accumulator implied) and xadd r/m, r; no LOCK prefix. */
void x64_cmpxchg_rr(struct x64_asm *a, int bits, int dst, int src);
void x64_cmpxchg_mr(struct x64_asm *a, int bits, struct x64_mem m, int src);
void x64_xadd_rr(struct x64_asm *a, int bits, int dst, int src);
void x64_xadd_mr(struct x64_asm *a, int bits, struct x64_mem m, int src);

/* ---- ALU ---- */
void x64_alu_rr(struct x64_asm *a, enum x64_alu op, int bits, int dst, int src);
/* imm is truncated to the operand size (64-bit: must fit in int32); imm8
 * and the accumulator short form are used when they are shorter. */
void x64_alu_ri(struct x64_asm *a, enum x64_alu op, int bits, int dst, int64_t imm);
void x64_alu_rm(struct x64_asm *a, enum x64_alu op, int bits, int dst, struct x64_mem m);
void x64_alu_mr(struct x64_asm *a, enum x64_alu op, int bits, struct x64_mem m, int src);
void x64_alu_mi(struct x64_asm *a, enum x64_alu op, int bits, struct x64_mem m, int64_t imm);
void x64_test_rr(struct x64_asm *a, int bits, int r1, int r2);
void x64_test_ri(struct x64_asm *a, int bits, int r, int64_t imm);
void x64_test_mi(struct x64_asm *a, int bits, struct x64_mem m, int64_t imm);
void x64_inc_r(struct x64_asm *a, int bits, int r);
void x64_inc_m(struct x64_asm *a, int bits, struct x64_mem m);
void x64_dec_r(struct x64_asm *a, int bits, int r);
void x64_dec_m(struct x64_asm *a, int bits, struct x64_mem m);
/* not/neg and the one-operand mul/imul/div/idiv (rdx:rax implied). */
void x64_unary_r(struct x64_asm *a, enum x64_unary op, int bits, int r);
void x64_unary_m(struct x64_asm *a, enum x64_unary op, int bits, struct x64_mem m);

/* ---- shifts ---- */
/* count 1 uses the D0/D1 form; count is masked to 8 bits. */
void x64_shift_ri(struct x64_asm *a, enum x64_shift op, int bits, int r, uint8_t count);
void x64_shift_rcl(struct x64_asm *a, enum x64_shift op, int bits, int r);   /* by CL */
void x64_shift_mi(struct x64_asm *a, enum x64_shift op, int bits, struct x64_mem m, uint8_t count);
void x64_shift_mcl(struct x64_asm *a, enum x64_shift op, int bits, struct x64_mem m);
/* shld/shrd dst, src, imm8 or CL (16/32/64). */
void x64_shld_ri(struct x64_asm *a, int bits, int dst, int src, uint8_t count);
void x64_shld_rcl(struct x64_asm *a, int bits, int dst, int src);
void x64_shrd_ri(struct x64_asm *a, int bits, int dst, int src, uint8_t count);
void x64_shrd_rcl(struct x64_asm *a, int bits, int dst, int src);

/* ---- multiply, bits ---- */
void x64_imul_rr(struct x64_asm *a, int bits, int dst, int src);              /* 16/32/64 */
void x64_imul_rm(struct x64_asm *a, int bits, int dst, struct x64_mem m);
void x64_imul_rri(struct x64_asm *a, int bits, int dst, int src, int32_t imm);
void x64_imul_rmi(struct x64_asm *a, int bits, int dst, struct x64_mem m, int32_t imm);
void x64_bitop_rr(struct x64_asm *a, enum x64_bitop op, int bits, int r, int bit);
void x64_bitop_ri(struct x64_asm *a, enum x64_bitop op, int bits, int r, uint8_t bit);
void x64_bsf(struct x64_asm *a, int bits, int dst, int src);
void x64_bsr(struct x64_asm *a, int bits, int dst, int src);

/* ---- conditions, control flow ---- */
void x64_setcc(struct x64_asm *a, enum x64_cc cc, int r8);
void x64_cmovcc_rr(struct x64_asm *a, enum x64_cc cc, int bits, int dst, int src);
void x64_cmovcc_rm(struct x64_asm *a, enum x64_cc cc, int bits, int dst, struct x64_mem m);
/* Jumps to a buffer address given as a write-view pointer (a->start <=
 * target <= a->end); the rel8 forms assert that the target is in range. */
void x64_jcc_rel8(struct x64_asm *a, enum x64_cc cc, const uint8_t *target);
void x64_jcc_rel32(struct x64_asm *a, enum x64_cc cc, const uint8_t *target);
void x64_jmp_rel8(struct x64_asm *a, const uint8_t *target);
void x64_jmp_rel32(struct x64_asm *a, const uint8_t *target);
void x64_jmp_r(struct x64_asm *a, int r);
void x64_jmp_m(struct x64_asm *a, struct x64_mem m);
void x64_call_r(struct x64_asm *a, int r);
void x64_call_m(struct x64_asm *a, struct x64_mem m);
/* Call/jump to a run-time address (a C helper): call rel32 when in range,
 * otherwise movabs r11, target; call r11 (R11 is clobbered either way by
 * the SysV ABI, so the backend never keeps state in it across calls). */
void x64_call_abs(struct x64_asm *a, const void *target);
void x64_jmp_abs(struct x64_asm *a, const void *target);
void x64_ret(struct x64_asm *a);
void x64_push_r(struct x64_asm *a, int r);
void x64_pop_r(struct x64_asm *a, int r);
void x64_push_i(struct x64_asm *a, int32_t imm);   /* imm8 form when it fits */
void x64_pushfq(struct x64_asm *a);
void x64_popfq(struct x64_asm *a);
/* One host instruction of n bytes emitted before, again (it must not be
 * RIP-relative or a jump: its bytes mean the same anywhere). */
void x64_copy(struct x64_asm *a, const uint8_t *code, int n);
void x64_lahf(struct x64_asm *a);
void x64_sahf(struct x64_asm *a);
void x64_cwde(struct x64_asm *a);
void x64_cdq(struct x64_asm *a);
void x64_cdqe(struct x64_asm *a);
void x64_cqo(struct x64_asm *a);
void x64_nop(struct x64_asm *a, int len);   /* any length, 9-byte pieces at most */
void x64_int3(struct x64_asm *a);
void x64_ud2(struct x64_asm *a);

/* ---- labels ---- */
void x64_label_init(struct x64_label *l);
void x64_bind(struct x64_asm *a, struct x64_label *l);
/* Bound label: shortest form. Unbound: rel8 if `short_form` (error at bind
 * time if it does not reach), rel32 otherwise. */
void x64_jmp_label(struct x64_asm *a, struct x64_label *l, bool short_form);
void x64_jcc_label(struct x64_asm *a, enum x64_cc cc, struct x64_label *l, bool short_form);

/* ---- patchable jumps (block chaining) ----
 * x64_jmp_patchable emits `jmp rel32` to target (a write-view pointer in the
 * buffer, or NULL for the next instruction), first padding with NOPs so the
 * rel32 field is 4-byte aligned, and returns the offset of the rel32 field
 * from a->start (or -1 on overflow). x64_patch_rel32 retargets such a jump
 * with one aligned 4-byte store, so a CPU running the code sees the old or
 * the new target, never a mix. site and target must be in the same view. */
long x64_jmp_patchable(struct x64_asm *a, const uint8_t *target);
void x64_patch_rel32(uint8_t *site, const uint8_t *target);

#endif
