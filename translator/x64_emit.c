/* translator/x64_emit.c: the x86-64 encoder behind x64_emit.h.
 *
 * Every instruction is built in a 16-byte scratch `struct insn` and copied
 * to the buffer only if it fits, which is what makes overflow atomic.
 *
 * Encoding rules this file relies on (Intel SDM vol. 2, ch. 2):
 *   [66] [REX] opcode ModRM [SIB] [disp8/disp32] [imm]
 *   REX = 0100WRXB: W = 64-bit operand, R extends ModRM.reg, X extends
 *     SIB.index, B extends ModRM.rm / SIB.base / the register in the opcode.
 *     Any REX (even a bare 0x40) turns byte registers 4..7 from AH..BH into
 *     SPL..DIL; we emit it exactly when W, R, X or B is needed or such a
 *     byte register appears, so there is never a redundant REX.
 *   ModRM = mod(2) reg(3) rm(3). mod 11 = register; otherwise memory with
 *     mod 00 (no disp), 01 (disp8), 10 (disp32). Two holes:
 *     - rm = 100 means "SIB follows", so RSP/R12 as a base need a SIB
 *       (index 100 = none);
 *     - mod 00 rm = 101 means RIP+disp32, so RBP/R13 as a base with no
 *       displacement take mod 01 disp8 = 0; in a SIB, mod 00 base = 101
 *       means "no base, disp32" (how absolute addresses are encoded).
 *   SIB = scale(2) index(3) base(3); index 100 without REX.X = no index, so
 *   RSP can never be an index (R12 can).
 */
#include "translator/x64_emit.h"

#include <assert.h>
#include <string.h>

#define F_W     0x01u   /* REX.W */
#define F_66    0x02u   /* operand-size prefix */
#define F_REG8  0x04u   /* ModRM.reg is a byte register */
#define F_RM8   0x08u   /* ModRM.rm (register form) is a byte register */

struct insn {
    uint8_t b[16];
    int n;
};

/* A ModRM operand: a register or a memory reference. */
struct rm {
    bool is_mem;
    int reg;
    struct x64_mem m;
};

static struct rm rm_reg(int r) { return (struct rm){ .is_mem = false, .reg = r }; }
static struct rm rm_mem(struct x64_mem m) { return (struct rm){ .is_mem = true, .m = m }; }

static void put8(struct insn *in, uint8_t v) { in->b[in->n++] = v; }
static void put32(struct insn *in, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(in, (uint8_t)(v >> (8 * i)));
}
static void put_imm(struct insn *in, int len, int64_t v)
{
    for (int i = 0; i < len; i++)
        put8(in, (uint8_t)((uint64_t)v >> (8 * i)));
}

static void commit(struct x64_asm *a, const struct insn *in)
{
    if (a->overflow || a->end - a->cur < in->n) {
        a->overflow = true;
        return;
    }
    memcpy(a->cur, in->b, (size_t)in->n);
    a->cur += in->n;
}

static bool fits8(int64_t v) { return v >= -128 && v <= 127; }
static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

static bool is_high8(int r) { return r >= X64_AH && r <= X64_BH; }
static void check_reg(int r) { assert((r >= X64_RAX && r <= X64_R15) || is_high8(r)); (void)r; }

/* A byte register's number in the encoding: AH..BH are 4..7 without REX. */
static int reg_code(int r, bool *high)
{
    if (is_high8(r)) {
        *high = true;
        return r - X64_AH + 4;
    }
    return r;
}
static void check_bits(int bits) { assert(bits == 8 || bits == 16 || bits == 32 || bits == 64); (void)bits; }

static int size_flags(int bits)
{
    check_bits(bits);
    return (bits == 64 ? F_W : 0) | (bits == 16 ? F_66 : 0);
}

static void put_opcode(struct insn *in, uint32_t opcode)
{
    if (opcode > 0xffff)
        put8(in, (uint8_t)(opcode >> 16));
    if (opcode > 0xff)
        put8(in, (uint8_t)(opcode >> 8));
    put8(in, (uint8_t)opcode);
}

/* The general form: [66] [REX] opcode ModRM [SIB] [disp] [imm]. `reg` is a
 * register number or a /digit; opcode is 1-3 bytes, most significant first. */
static void emit_rm(struct x64_asm *a, unsigned flags, uint32_t opcode, int reg,
                    struct rm op, int imm_len, int64_t imm)
{
    struct insn in = { .n = 0 };
    bool high = false;   /* AH..BH somewhere: no REX possible */
    assert(!is_high8(reg) || (flags & F_REG8));
    reg = reg_code(reg, &high);
    assert(reg >= 0 && reg < 16);
    unsigned rex = 0;
    if (flags & F_W)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    bool byte_needs_rex = (flags & F_REG8) && reg >= 4 && !high;

    int base = X64_NOREG, index = X64_NOREG;
    if (op.is_mem) {
        base = op.m.base;
        index = op.m.index;
        assert(base == X64_NOREG || base == X64_RIP || (base >= 0 && base < 16));
        assert(index == X64_NOREG || (index >= 0 && index < 16 && index != X64_RSP));
        assert(op.m.scale == 1 || op.m.scale == 2 || op.m.scale == 4 || op.m.scale == 8);
        assert(base != X64_RIP || index == X64_NOREG);
        if (index != X64_NOREG && (index & 8))
            rex |= 2;
        if (base >= 0 && base < 16 && (base & 8))
            rex |= 1;
    } else {
        check_reg(op.reg);
        assert(!is_high8(op.reg) || (flags & F_RM8));
        bool rm_high = false;
        op.reg = reg_code(op.reg, &rm_high);
        if (op.reg & 8)
            rex |= 1;
        if ((flags & F_RM8) && op.reg >= 4 && !rm_high)
            byte_needs_rex = true;
        high |= rm_high;
    }
    if (high && (rex || byte_needs_rex)) {
        assert(!"AH..BH in an instruction that needs REX");
        a->error = true;
        return;
    }

    if (flags & F_66)
        put8(&in, 0x66);
    if (rex || byte_needs_rex)
        put8(&in, (uint8_t)(0x40 | rex));
    put_opcode(&in, opcode);
    int r3 = reg & 7;

    if (!op.is_mem) {
        put8(&in, (uint8_t)(0xc0 | r3 << 3 | (op.reg & 7)));
        put_imm(&in, imm_len, imm);
        commit(a, &in);
        return;
    }

    int32_t disp = op.m.disp;
    static const uint8_t scale_bits[9] = { [1] = 0, [2] = 1, [4] = 2, [8] = 3 };
    uint8_t ss = (uint8_t)(scale_bits[op.m.scale] << 6);
    if (base == X64_RIP) {
        put8(&in, (uint8_t)(0x00 | r3 << 3 | 5));
        /* disp was given relative to the instruction start. */
        int64_t rel = (int64_t)disp - (in.n + 4 + imm_len);
        if (!fits32(rel))
            a->error = true;
        put32(&in, (uint32_t)rel);
    } else if (base == X64_NOREG) {
        /* No base: SIB with base 101 and mod 00 = disp32 (absolute if no index). */
        put8(&in, (uint8_t)(0x00 | r3 << 3 | 4));
        int idx = index == X64_NOREG ? 4 : (index & 7);
        put8(&in, (uint8_t)(ss | idx << 3 | 5));
        put32(&in, (uint32_t)disp);
    } else {
        int mod = (disp == 0 && (base & 7) != 5) ? 0 : fits8(disp) ? 1 : 2;
        if (index == X64_NOREG && (base & 7) != 4) {
            put8(&in, (uint8_t)(mod << 6 | r3 << 3 | (base & 7)));
        } else {
            int idx = index == X64_NOREG ? 4 : (index & 7);
            put8(&in, (uint8_t)(mod << 6 | r3 << 3 | 4));
            put8(&in, (uint8_t)(ss | idx << 3 | (base & 7)));
        }
        if (mod == 1)
            put8(&in, (uint8_t)disp);
        else if (mod == 2)
            put32(&in, (uint32_t)disp);
    }
    put_imm(&in, imm_len, imm);
    commit(a, &in);
}

/* Opcodes with the register in the low 3 bits (push, pop, bswap, mov imm). */
static void emit_oreg(struct x64_asm *a, unsigned flags, uint32_t opcode, int r,
                      int imm_len, int64_t imm)
{
    struct insn in = { .n = 0 };
    check_reg(r);
    bool high = false;
    assert(!is_high8(r) || (flags & F_RM8));
    r = reg_code(r, &high);
    unsigned rex = (flags & F_W ? 8 : 0) | (r & 8 ? 1 : 0);
    if (flags & F_66)
        put8(&in, 0x66);
    if (rex || ((flags & F_RM8) && r >= 4 && !high))
        put8(&in, (uint8_t)(0x40 | rex));
    put_opcode(&in, opcode + (uint32_t)(r & 7));
    put_imm(&in, imm_len, imm);
    commit(a, &in);
}

static void emit_bytes(struct x64_asm *a, const uint8_t *bytes, int n)
{
    struct insn in = { .n = n };
    memcpy(in.b, bytes, (size_t)n);
    commit(a, &in);
}

void x64_copy(struct x64_asm *a, const uint8_t *code, int n)
{
    a->flag_writes++;
    if (n < 1 || n > 15) {
        a->error = true;
        return;
    }
    emit_bytes(a, code, n);
}

void x64_init(struct x64_asm *a, uint8_t *buf, size_t len, intptr_t exec_delta)
{
    *a = (struct x64_asm){ .start = buf, .cur = buf, .end = buf + len,
                           .exec_delta = exec_delta };
}

bool x64_mem_rip_to(const struct x64_asm *a, const void *target, struct x64_mem *out)
{
    int64_t rel = (int64_t)((intptr_t)target - ((intptr_t)a->cur + a->exec_delta));
    /* Leave room for the instruction length the encoder subtracts. */
    if (rel < (int64_t)INT32_MIN + 16 || rel > INT32_MAX)
        return false;
    *out = x64_mem_rip((int32_t)rel);
    return true;
}

/* Flags for an operation whose byte form differs from the others by opcode
 * bit 0 (the w bit): returns the opcode to use. */
static uint32_t wbit(uint32_t opcode8, int bits) { return bits == 8 ? opcode8 : opcode8 + 1; }
static unsigned byte_flags(int bits) { return bits == 8 ? (F_REG8 | F_RM8) : 0; }

/* ---- moves ---- */

void x64_mov_rr(struct x64_asm *a, int bits, int dst, int src)
{
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x88, bits), src, rm_reg(dst), 0, 0);
}

void x64_mov_ri(struct x64_asm *a, int bits, int dst, int64_t imm)
{
    switch (bits) {
    case 8:  emit_oreg(a, F_RM8, 0xb0, dst, 1, imm); break;
    case 16: emit_oreg(a, F_66, 0xb8, dst, 2, imm); break;
    case 32: emit_oreg(a, 0, 0xb8, dst, 4, imm); break;
    case 64:
        if (imm >= 0 && imm <= UINT32_MAX)
            emit_oreg(a, 0, 0xb8, dst, 4, imm);
        else if (fits32(imm))
            emit_rm(a, F_W, 0xc7, 0, rm_reg(dst), 4, imm);
        else
            emit_oreg(a, F_W, 0xb8, dst, 8, imm);
        break;
    default: check_bits(bits);
    }
}

void x64_mov_rm(struct x64_asm *a, int bits, int dst, struct x64_mem m)
{
    check_reg(dst);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x8a, bits), dst, rm_mem(m), 0, 0);
}

void x64_mov_mr(struct x64_asm *a, int bits, struct x64_mem m, int src)
{
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x88, bits), src, rm_mem(m), 0, 0);
}

static int imm_len_for(int bits) { return bits == 8 ? 1 : bits == 16 ? 2 : 4; }

void x64_mov_mi(struct x64_asm *a, int bits, struct x64_mem m, int32_t imm)
{
    emit_rm(a, size_flags(bits), wbit(0xc6, bits), 0, rm_mem(m), imm_len_for(bits), imm);
}

static void movx(struct x64_asm *a, uint32_t op8, int dst_bits, int dst, int src_bits, struct rm src)
{
    check_reg(dst);
    assert((src_bits == 8 && dst_bits > 8) || (src_bits == 16 && dst_bits > 16));
    unsigned flags = size_flags(dst_bits) | (src_bits == 8 ? F_RM8 : 0);
    emit_rm(a, flags, src_bits == 8 ? op8 : op8 + 1, dst, src, 0, 0);
}

void x64_movzx_rr(struct x64_asm *a, int db, int dst, int sb, int src) { movx(a, 0x0fb6, db, dst, sb, rm_reg(src)); }
void x64_movzx_rm(struct x64_asm *a, int db, int dst, int sb, struct x64_mem m) { movx(a, 0x0fb6, db, dst, sb, rm_mem(m)); }
void x64_movsx_rr(struct x64_asm *a, int db, int dst, int sb, int src) { movx(a, 0x0fbe, db, dst, sb, rm_reg(src)); }
void x64_movsx_rm(struct x64_asm *a, int db, int dst, int sb, struct x64_mem m) { movx(a, 0x0fbe, db, dst, sb, rm_mem(m)); }

void x64_movsxd_rr(struct x64_asm *a, int dst, int src)
{
    check_reg(dst);
    emit_rm(a, F_W, 0x63, dst, rm_reg(src), 0, 0);
}

void x64_movsxd_rm(struct x64_asm *a, int dst, struct x64_mem m)
{
    check_reg(dst);
    emit_rm(a, F_W, 0x63, dst, rm_mem(m), 0, 0);
}

void x64_lea(struct x64_asm *a, int bits, int dst, struct x64_mem m)
{
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x8d, dst, rm_mem(m), 0, 0);
}

void x64_xchg_rr(struct x64_asm *a, int bits, int r1, int r2)
{
    check_reg(r1);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x86, bits), r2, rm_reg(r1), 0, 0);
}

void x64_xchg_mr(struct x64_asm *a, int bits, struct x64_mem m, int r)
{
    check_reg(r);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x86, bits), r, rm_mem(m), 0, 0);
}

void x64_cmpxchg_rr(struct x64_asm *a, int bits, int dst, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x0fb0, bits), src, rm_reg(dst), 0, 0);
}

void x64_cmpxchg_mr(struct x64_asm *a, int bits, struct x64_mem m, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x0fb0, bits), src, rm_mem(m), 0, 0);
}

void x64_xadd_rr(struct x64_asm *a, int bits, int dst, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x0fc0, bits), src, rm_reg(dst), 0, 0);
}

void x64_xadd_mr(struct x64_asm *a, int bits, struct x64_mem m, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x0fc0, bits), src, rm_mem(m), 0, 0);
}

void x64_bswap(struct x64_asm *a, int bits, int r)
{
    assert(bits == 32 || bits == 64);
    emit_oreg(a, bits == 64 ? F_W : 0, 0x0fc8, r, 0, 0);
}

/* RORX dst, src, imm (BMI2; register form): a rotate that leaves RFLAGS
 * alone. VEX.LZ.F2.0F3A.W0/W1 F0 /r ib, in the three-byte VEX form. */
void x64_rorx(struct x64_asm *a, int bits, int dst, int src, uint8_t imm)
{
    assert(bits == 32 || bits == 64);
    assert(dst >= X64_RAX && dst <= X64_R15 && src >= X64_RAX && src <= X64_R15);
    struct insn in = { .n = 0 };
    put8(&in, 0xc4);
    /* inverted R, X, B; map 0F3A */
    put8(&in, (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 | (src & 8 ? 0 : 0x20) | 0x03));
    /* W, vvvv unused (1111), L=0, pp=F2 */
    put8(&in, (uint8_t)((bits == 64 ? 0x80 : 0) | 0x78 | 0x03));
    put8(&in, 0xf0);
    put8(&in, (uint8_t)(0xc0 | (dst & 7) << 3 | (src & 7)));
    put8(&in, imm);
    commit(a, &in);
}

/* ---- ALU ---- */

void x64_alu_rr(struct x64_asm *a, enum x64_alu op, int bits, int dst, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(op * 8u, bits), src, rm_reg(dst), 0, 0);
}

void x64_alu_rm(struct x64_asm *a, enum x64_alu op, int bits, int dst, struct x64_mem m)
{
    a->flag_writes++;
    check_reg(dst);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(op * 8u + 2, bits), dst, rm_mem(m), 0, 0);
}

void x64_alu_mr(struct x64_asm *a, enum x64_alu op, int bits, struct x64_mem m, int src)
{
    a->flag_writes++;
    check_reg(src);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(op * 8u, bits), src, rm_mem(m), 0, 0);
}

/* The immediate as the CPU will see it at this operand size. */
static int64_t imm_at_size(int bits, int64_t imm)
{
    switch (bits) {
    case 8:  return (int8_t)imm;
    case 16: return (int16_t)imm;
    case 32: return (int32_t)imm;
    default: assert(fits32(imm)); return imm;
    }
}

static void alu_imm(struct x64_asm *a, enum x64_alu op, int bits, struct rm dst, int64_t imm)
{
    unsigned flags = size_flags(bits) | (bits == 8 ? F_RM8 : 0);
    int64_t v = imm_at_size(bits, imm);
    if (bits == 8) {
        if (!dst.is_mem && dst.reg == X64_RAX)
            emit_bytes(a, (const uint8_t[]){ (uint8_t)(op * 8 + 4), (uint8_t)v }, 2);
        else
            emit_rm(a, flags, 0x80, op, dst, 1, v);
    } else if (fits8(v)) {
        emit_rm(a, flags, 0x83, op, dst, 1, v);
    } else if (!dst.is_mem && dst.reg == X64_RAX) {
        struct insn in = { .n = 0 };
        if (bits == 16)
            put8(&in, 0x66);
        if (bits == 64)
            put8(&in, 0x48);
        put8(&in, (uint8_t)(op * 8 + 5));
        put_imm(&in, imm_len_for(bits), v);
        commit(a, &in);
    } else {
        emit_rm(a, flags, 0x81, op, dst, imm_len_for(bits), v);
    }
}

void x64_alu_ri(struct x64_asm *a, enum x64_alu op, int bits, int dst, int64_t imm)
{
    a->flag_writes++;
    check_reg(dst);
    alu_imm(a, op, bits, rm_reg(dst), imm);
}

void x64_alu_mi(struct x64_asm *a, enum x64_alu op, int bits, struct x64_mem m, int64_t imm)
{
    a->flag_writes++;
    alu_imm(a, op, bits, rm_mem(m), imm);
}

void x64_test_rr(struct x64_asm *a, int bits, int r1, int r2)
{
    a->flag_writes++;
    check_reg(r2);
    emit_rm(a, size_flags(bits) | byte_flags(bits), wbit(0x84, bits), r2, rm_reg(r1), 0, 0);
}

static void test_imm(struct x64_asm *a, int bits, struct rm dst, int64_t imm)
{
    int64_t v = imm_at_size(bits, imm);
    if (!dst.is_mem && dst.reg == X64_RAX) {
        struct insn in = { .n = 0 };
        if (bits == 16)
            put8(&in, 0x66);
        if (bits == 64)
            put8(&in, 0x48);
        put8(&in, bits == 8 ? 0xa8 : 0xa9);
        put_imm(&in, imm_len_for(bits), v);
        commit(a, &in);
        return;
    }
    emit_rm(a, size_flags(bits) | (bits == 8 ? F_RM8 : 0), wbit(0xf6, bits), 0, dst,
            imm_len_for(bits), v);
}

void x64_test_ri(struct x64_asm *a, int bits, int r, int64_t imm) { a->flag_writes++; check_reg(r); test_imm(a, bits, rm_reg(r), imm); }
void x64_test_mi(struct x64_asm *a, int bits, struct x64_mem m, int64_t imm) { a->flag_writes++; test_imm(a, bits, rm_mem(m), imm); }

static void group(struct x64_asm *a, uint32_t op8, int digit, int bits, struct rm dst)
{
    emit_rm(a, size_flags(bits) | (bits == 8 ? F_RM8 : 0), wbit(op8, bits), digit, dst, 0, 0);
}

void x64_inc_r(struct x64_asm *a, int bits, int r) { a->flag_writes++; group(a, 0xfe, 0, bits, rm_reg(r)); }
void x64_inc_m(struct x64_asm *a, int bits, struct x64_mem m) { a->flag_writes++; group(a, 0xfe, 0, bits, rm_mem(m)); }
void x64_dec_r(struct x64_asm *a, int bits, int r) { a->flag_writes++; group(a, 0xfe, 1, bits, rm_reg(r)); }
void x64_dec_m(struct x64_asm *a, int bits, struct x64_mem m) { a->flag_writes++; group(a, 0xfe, 1, bits, rm_mem(m)); }
void x64_unary_r(struct x64_asm *a, enum x64_unary op, int bits, int r) { a->flag_writes++; group(a, 0xf6, op, bits, rm_reg(r)); }
void x64_unary_m(struct x64_asm *a, enum x64_unary op, int bits, struct x64_mem m) { a->flag_writes++; group(a, 0xf6, op, bits, rm_mem(m)); }

/* ---- shifts ---- */

static void shift_imm(struct x64_asm *a, enum x64_shift op, int bits, struct rm dst, uint8_t count)
{
    unsigned flags = size_flags(bits) | (bits == 8 ? F_RM8 : 0);
    if (count == 1)
        emit_rm(a, flags, wbit(0xd0, bits), op, dst, 0, 0);
    else
        emit_rm(a, flags, wbit(0xc0, bits), op, dst, 1, count);
}

void x64_shift_ri(struct x64_asm *a, enum x64_shift op, int bits, int r, uint8_t count) { a->flag_writes++; shift_imm(a, op, bits, rm_reg(r), count); }
void x64_shift_mi(struct x64_asm *a, enum x64_shift op, int bits, struct x64_mem m, uint8_t count) { a->flag_writes++; shift_imm(a, op, bits, rm_mem(m), count); }
void x64_shift_rcl(struct x64_asm *a, enum x64_shift op, int bits, int r) { a->flag_writes++; group(a, 0xd2, op, bits, rm_reg(r)); }
void x64_shift_mcl(struct x64_asm *a, enum x64_shift op, int bits, struct x64_mem m) { a->flag_writes++; group(a, 0xd2, op, bits, rm_mem(m)); }

static void shxd(struct x64_asm *a, uint32_t opcode, int bits, int dst, int src, bool by_cl, uint8_t count)
{
    assert(bits != 8);
    check_reg(src);
    emit_rm(a, size_flags(bits), by_cl ? opcode + 1 : opcode, src, rm_reg(dst), by_cl ? 0 : 1, count);
}

void x64_shld_ri(struct x64_asm *a, int bits, int dst, int src, uint8_t count) { a->flag_writes++; shxd(a, 0x0fa4, bits, dst, src, false, count); }
void x64_shld_rcl(struct x64_asm *a, int bits, int dst, int src) { a->flag_writes++; shxd(a, 0x0fa4, bits, dst, src, true, 0); }
void x64_shrd_ri(struct x64_asm *a, int bits, int dst, int src, uint8_t count) { a->flag_writes++; shxd(a, 0x0fac, bits, dst, src, false, count); }
void x64_shrd_rcl(struct x64_asm *a, int bits, int dst, int src) { a->flag_writes++; shxd(a, 0x0fac, bits, dst, src, true, 0); }

/* ---- multiply, bits ---- */

void x64_imul_rr(struct x64_asm *a, int bits, int dst, int src)
{
    a->flag_writes++;
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0faf, dst, rm_reg(src), 0, 0);
}

void x64_imul_rm(struct x64_asm *a, int bits, int dst, struct x64_mem m)
{
    a->flag_writes++;
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0faf, dst, rm_mem(m), 0, 0);
}

static void imul3(struct x64_asm *a, int bits, int dst, struct rm src, int32_t imm)
{
    assert(bits != 8);
    check_reg(dst);
    int64_t v = imm_at_size(bits, imm);
    if (fits8(v))
        emit_rm(a, size_flags(bits), 0x6b, dst, src, 1, v);
    else
        emit_rm(a, size_flags(bits), 0x69, dst, src, imm_len_for(bits), v);
}

void x64_imul_rri(struct x64_asm *a, int bits, int dst, int src, int32_t imm) { a->flag_writes++; imul3(a, bits, dst, rm_reg(src), imm); }
void x64_imul_rmi(struct x64_asm *a, int bits, int dst, struct x64_mem m, int32_t imm) { a->flag_writes++; imul3(a, bits, dst, rm_mem(m), imm); }

void x64_bitop_rr(struct x64_asm *a, enum x64_bitop op, int bits, int r, int bit)
{
    a->flag_writes++;
    static const uint16_t opcode[4] = { 0x0fa3, 0x0fab, 0x0fb3, 0x0fbb };
    assert(bits != 8);
    check_reg(bit);
    emit_rm(a, size_flags(bits), opcode[op], bit, rm_reg(r), 0, 0);
}

void x64_bitop_ri(struct x64_asm *a, enum x64_bitop op, int bits, int r, uint8_t bit)
{
    a->flag_writes++;
    assert(bits != 8);
    emit_rm(a, size_flags(bits), 0x0fba, 4 + op, rm_reg(r), 1, bit);
}

void x64_bsf(struct x64_asm *a, int bits, int dst, int src)
{
    a->flag_writes++;
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0fbc, dst, rm_reg(src), 0, 0);
}

void x64_bsr(struct x64_asm *a, int bits, int dst, int src)
{
    a->flag_writes++;
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0fbd, dst, rm_reg(src), 0, 0);
}

/* ---- conditions, control flow ---- */

void x64_setcc(struct x64_asm *a, enum x64_cc cc, int r8)
{
    emit_rm(a, F_RM8, 0x0f90 + (uint32_t)cc, 0, rm_reg(r8), 0, 0);
}

void x64_cmovcc_rr(struct x64_asm *a, enum x64_cc cc, int bits, int dst, int src)
{
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0f40 + (uint32_t)cc, dst, rm_reg(src), 0, 0);
}

void x64_cmovcc_rm(struct x64_asm *a, enum x64_cc cc, int bits, int dst, struct x64_mem m)
{
    assert(bits != 8);
    check_reg(dst);
    emit_rm(a, size_flags(bits), 0x0f40 + (uint32_t)cc, dst, rm_mem(m), 0, 0);
}

/* Branches with a displacement relative to the end of the instruction.
 * `len` is the whole instruction length. */
static void branch(struct x64_asm *a, const uint8_t *opcode, int oplen, int rel_len,
                   const uint8_t *target)
{
    struct insn in = { .n = 0 };
    for (int i = 0; i < oplen; i++)
        put8(&in, opcode[i]);
    int64_t rel = (int64_t)(target - (a->cur + oplen + rel_len));
    if (rel_len == 1) {
        assert(fits8(rel));
        put8(&in, (uint8_t)rel);
    } else {
        assert(fits32(rel));
        put32(&in, (uint32_t)rel);
    }
    commit(a, &in);
}

void x64_jcc_rel8(struct x64_asm *a, enum x64_cc cc, const uint8_t *t) { branch(a, (const uint8_t[]){ (uint8_t)(0x70 + cc) }, 1, 1, t); }
void x64_jcc_rel32(struct x64_asm *a, enum x64_cc cc, const uint8_t *t) { branch(a, (const uint8_t[]){ 0x0f, (uint8_t)(0x80 + cc) }, 2, 4, t); }
void x64_jmp_rel8(struct x64_asm *a, const uint8_t *t) { branch(a, (const uint8_t[]){ 0xeb }, 1, 1, t); }
void x64_jmp_rel32(struct x64_asm *a, const uint8_t *t) { branch(a, (const uint8_t[]){ 0xe9 }, 1, 4, t); }

/* FF /2 and /4 default to 64-bit operands: no REX.W. */
void x64_jmp_r(struct x64_asm *a, int r) { emit_rm(a, 0, 0xff, 4, rm_reg(r), 0, 0); }
void x64_jmp_m(struct x64_asm *a, struct x64_mem m) { emit_rm(a, 0, 0xff, 4, rm_mem(m), 0, 0); }
void x64_call_r(struct x64_asm *a, int r) { a->flag_writes++; emit_rm(a, 0, 0xff, 2, rm_reg(r), 0, 0); }
void x64_call_m(struct x64_asm *a, struct x64_mem m) { a->flag_writes++; emit_rm(a, 0, 0xff, 2, rm_mem(m), 0, 0); }

static void far_transfer(struct x64_asm *a, uint8_t opcode, int digit, const void *target)
{
    int64_t rel = (int64_t)((intptr_t)target - ((intptr_t)a->cur + a->exec_delta + 5));
    if (fits32(rel)) {
        struct insn in = { .n = 0 };
        put8(&in, opcode);
        put32(&in, (uint32_t)rel);
        commit(a, &in);
        return;
    }
    /* Both instructions or neither: check the room for 10 + 3 bytes first. */
    if (a->end - a->cur < 13) {
        a->overflow = true;
        return;
    }
    emit_oreg(a, F_W, 0xb8, X64_R11, 8, (int64_t)(intptr_t)target);
    emit_rm(a, 0, 0xff, digit, rm_reg(X64_R11), 0, 0);
}

void x64_call_abs(struct x64_asm *a, const void *target) { a->flag_writes++; far_transfer(a, 0xe8, 2, target); }
void x64_jmp_abs(struct x64_asm *a, const void *target) { far_transfer(a, 0xe9, 4, target); }

void x64_ret(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0xc3 }, 1); }
void x64_push_r(struct x64_asm *a, int r) { emit_oreg(a, 0, 0x50, r, 0, 0); }
void x64_pop_r(struct x64_asm *a, int r) { emit_oreg(a, 0, 0x58, r, 0, 0); }

void x64_push_i(struct x64_asm *a, int32_t imm)
{
    struct insn in = { .n = 0 };
    if (fits8(imm)) {
        put8(&in, 0x6a);
        put8(&in, (uint8_t)imm);
    } else {
        put8(&in, 0x68);
        put32(&in, (uint32_t)imm);
    }
    commit(a, &in);
}

void x64_pushfq(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x9c }, 1); }
void x64_popfq(struct x64_asm *a) { a->flag_writes++; emit_bytes(a, (const uint8_t[]){ 0x9d }, 1); }
void x64_lahf(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x9f }, 1); }
void x64_sahf(struct x64_asm *a) { a->flag_writes++; emit_bytes(a, (const uint8_t[]){ 0x9e }, 1); }
void x64_cwde(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x98 }, 1); }
void x64_cdq(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x99 }, 1); }
void x64_cdqe(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x48, 0x98 }, 2); }
void x64_cqo(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x48, 0x99 }, 2); }
void x64_int3(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0xcc }, 1); }
void x64_ud2(struct x64_asm *a) { emit_bytes(a, (const uint8_t[]){ 0x0f, 0x0b }, 2); }

/* The recommended multi-byte NOPs (SDM vol. 2B, NOP), one per length. */
static const uint8_t nop_forms[10][9] = {
    [1] = { 0x90 },
    [2] = { 0x66, 0x90 },
    [3] = { 0x0f, 0x1f, 0x00 },
    [4] = { 0x0f, 0x1f, 0x40, 0x00 },
    [5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
    [6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
    [7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
    [8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    [9] = { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

void x64_nop(struct x64_asm *a, int len)
{
    assert(len >= 0);
    if (a->end - a->cur < len) {
        a->overflow = true;
        return;
    }
    while (len > 0) {
        int n = len > 9 ? 9 : len;
        emit_bytes(a, nop_forms[n], n);
        len -= n;
    }
}

/* ---- labels ---- */

void x64_label_init(struct x64_label *l)
{
    l->pos = -1;
    l->nfixups = 0;
}

static void patch_fixup(struct x64_asm *a, int32_t at, bool is_short, int32_t target)
{
    int64_t rel = (int64_t)target - (at + (is_short ? 1 : 4));
    if (is_short) {
        if (!fits8(rel))
            a->error = true;
        else
            a->start[at] = (uint8_t)rel;
    } else {
        uint32_t v = (uint32_t)rel;
        memcpy(a->start + at, &v, 4);
    }
}

void x64_bind(struct x64_asm *a, struct x64_label *l)
{
    assert(l->pos < 0);
    l->pos = (int32_t)x64_offset(a);
    for (int i = 0; i < l->nfixups; i++)
        patch_fixup(a, l->fixup_at[i], l->fixup_short[i], l->pos);
    l->nfixups = 0;
}

static void label_branch(struct x64_asm *a, int cc, struct x64_label *l, bool short_form)
{
    if (l->pos >= 0) {
        const uint8_t *target = a->start + l->pos;
        bool near8 = fits8((int64_t)(target - (a->cur + 2)));
        if (cc < 0)
            near8 ? x64_jmp_rel8(a, target) : x64_jmp_rel32(a, target);
        else
            near8 ? x64_jcc_rel8(a, cc, target) : x64_jcc_rel32(a, cc, target);
        return;
    }
    if (l->nfixups == X64_LABEL_MAX_FIXUPS) {
        a->error = true;
        return;
    }
    uint8_t *before = a->cur;
    /* Emit with rel 0 (target = next instruction), then record the field. */
    int len = (short_form ? 2 : 5) + (cc >= 0 && !short_form ? 1 : 0);
    const uint8_t *next = a->cur + len;
    if (cc < 0)
        short_form ? x64_jmp_rel8(a, next) : x64_jmp_rel32(a, next);
    else
        short_form ? x64_jcc_rel8(a, cc, next) : x64_jcc_rel32(a, cc, next);
    if (a->cur == before)
        return;   /* overflow */
    l->fixup_short[l->nfixups] = short_form;
    l->fixup_at[l->nfixups] = (int32_t)(x64_offset(a) - (short_form ? 1 : 4));
    l->nfixups++;
}

void x64_jmp_label(struct x64_asm *a, struct x64_label *l, bool short_form) { label_branch(a, -1, l, short_form); }
void x64_jcc_label(struct x64_asm *a, enum x64_cc cc, struct x64_label *l, bool short_form) { label_branch(a, (int)cc, l, short_form); }

/* ---- patchable jumps ---- */

long x64_jmp_patchable(struct x64_asm *a, const uint8_t *target)
{
    int pad = (int)((4 - ((uintptr_t)a->cur + 1) % 4) % 4);
    if (a->end - a->cur < pad + 5) {
        a->overflow = true;
        return -1;
    }
    x64_nop(a, pad);
    x64_jmp_rel32(a, target ? target : a->cur + 5);
    return (long)(x64_offset(a) - 4);
}

void x64_patch_rel32(uint8_t *site, const uint8_t *target)
{
    assert(((uintptr_t)site & 3) == 0);
    int64_t rel = (int64_t)(target - (site + 4));
    assert(fits32(rel));
    __atomic_store_n((uint32_t *)(void *)site, (uint32_t)(int32_t)rel, __ATOMIC_RELEASE);
}
