/* tests/unit/test_x64_emit.c: the x86-64 assembler (translator/x64_emit.c)
 * against Capstone and against the host CPU.
 *
 * Encoding tests: each encoder is called over many operand combinations
 * (all 16 registers, every size, memory operands with and without base and
 * index, every scale, displacements 0 and at the disp8/disp32 boundaries,
 * RIP-relative, immediates at the imm8/imm16/imm32 boundaries). Each single
 * instruction is disassembled by Capstone in 64-bit mode and must
 *   - be consumed exactly (Capstone's length == bytes emitted),
 *   - print as the text built here from the same inputs (one table-driven
 *     builder: register names, "size ptr [base + index*scale +- disp]",
 *     Capstone's immediate style),
 *   - have the length of the shortest encoding where the test computes one
 *     (len_rm: imm8 vs imm32, disp8 vs disp32, SIB only when needed, REX only
 *     when needed).
 * Capstone 4 style, observed: immediates 0..9 in decimal, others in hex;
 * sign-extended imm8 and 64-bit operations print signed, other immediates
 * print unsigned at their size; an absolute address prints masked to the
 * operand size (jmp/call: 64 bits); index scale 1 prints without "*1".
 *
 * Execution tests: functions emitted into a struct codebuf are called
 * through function pointers: add two arguments, a loop with a backward
 * conditional jump to a label, forward jumps, and the flags of every ALU
 * operation and shift at every size against the same host instruction run
 * from inline asm, on random inputs.
 */
#include <check.h>
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "translator/codebuf.h"
#include "translator/x64_emit.h"

/* ---- the expected-text builder ---- */

static const char *const reg_names[4][16] = {
    { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
      "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" },
    { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
      "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" },
    { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
      "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" },
    { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
      "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" },
};

static int size_index(int bits) { return bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3; }
static const char *reg_name(int bits, int r) { return reg_names[size_index(bits)][r]; }
static const char *ptr_name(int bits)
{
    static const char *const names[4] = { "byte ptr ", "word ptr ", "dword ptr ", "qword ptr " };
    return names[size_index(bits)];
}
static uint64_t size_mask(int bits) { return bits == 64 ? ~0ull : (1ull << bits) - 1; }

static const char *const alu_names[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
static const char *const shift_names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", NULL, "sar" };
static const char *const unary_names[8] = { NULL, NULL, "not", "neg", "mul", "imul", "div", "idiv" };
static const char *const bitop_names[4] = { "bt", "bts", "btr", "btc" };
static const char *const cc_names[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                          "s", "ns", "p", "np", "l", "ge", "le", "g" };

/* Capstone's number style: 0..9 decimal, else 0x hex. */
static void fmt_u(char *out, size_t n, uint64_t v)
{
    if (v <= 9)
        snprintf(out, n, "%" PRIu64, v);
    else
        snprintf(out, n, "0x%" PRIx64, v);
}

static void fmt_s(char *out, size_t n, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        fmt_u(out + 1, n - 1, (uint64_t)0 - (uint64_t)v);
    } else {
        fmt_u(out, n, (uint64_t)v);
    }
}

/* An immediate printed the way Capstone prints it for this encoding. */
static void fmt_imm(char *out, size_t n, int64_t v, int bits, bool sign_extended_imm8)
{
    if (sign_extended_imm8 || bits == 64)
        fmt_s(out, n, v);
    else
        fmt_u(out, n, (uint64_t)v & size_mask(bits));
}

/* Capstone prints the and/or/xor immediate as a mask: unsigned at the
 * operand size, whatever the encoding. */
static void fmt_alu_imm(char *out, size_t n, int op, int64_t v, int bits, bool sign_extended_imm8)
{
    if (op == X64_AND || op == X64_OR || op == X64_XOR)
        fmt_u(out, n, (uint64_t)v & size_mask(bits));
    else
        fmt_imm(out, n, v, bits, sign_extended_imm8);
}

/* A ModRM operand as the test sees it. */
struct opnd {
    bool is_mem;
    int reg;
    struct x64_mem m;
};

static struct opnd oreg(int r) { return (struct opnd){ .is_mem = false, .reg = r }; }
static struct opnd omem(struct x64_mem m) { return (struct opnd){ .is_mem = true, .m = m }; }

/* "[...]" for m; `len` is the instruction's length (for RIP). */
static void fmt_mem(char *out, size_t n, struct x64_mem m, int len)
{
    char num[40];
    if (m.base == X64_RIP) {
        int64_t d = (int64_t)m.disp - len;
        fmt_s(num, sizeof num, d < 0 ? -d : d);
        snprintf(out, n, "[rip%s%s]", d == 0 ? "" : d < 0 ? " - " : " + ", d == 0 ? "" : num);
        return;
    }
    if (m.base == X64_NOREG && m.index == X64_NOREG) {
        /* Capstone 4 prints absolute addresses inconsistently (masked to
         * the operand size for some loads, sign-extended to 64 bits for the
         * rest): verify() checks these through Capstone's operand details. */
        snprintf(out, n, "[abs:%" PRId32 "]", m.disp);
        return;
    }
    char s[96] = "";
    if (m.base != X64_NOREG)
        strcat(s, reg_names[3][m.base]);
    if (m.index != X64_NOREG) {
        if (m.base != X64_NOREG)
            strcat(s, " + ");
        strcat(s, reg_names[3][m.index]);
        if (m.scale != 1) {
            char sc[8];
            snprintf(sc, sizeof sc, "*%d", m.scale);
            strcat(s, sc);
        }
    }
    if (m.disp != 0) {
        fmt_u(num, sizeof num, m.disp < 0 ? (uint64_t)0 - (uint64_t)(int64_t)m.disp : (uint64_t)m.disp);
        strcat(s, m.disp < 0 ? " - " : " + ");
        strcat(s, num);
    }
    snprintf(out, n, "[%s]", s);
}

/* Register name or "size ptr [...]". */
static void fmt_opnd(char *out, size_t n, int bits, struct opnd o, int len)
{
    if (!o.is_mem) {
        snprintf(out, n, "%s", reg_name(bits, o.reg));
        return;
    }
    char mem[128];
    fmt_mem(mem, sizeof mem, o.m, len);
    snprintf(out, n, "%s%s", ptr_name(bits), mem);
}

/* The shortest length of [66] [REX] opcode ModRM [SIB] [disp] [imm]:
 * the independent oracle for "no redundant prefix, disp8/imm8 when they
 * fit". reg < 0 for a /digit; byte flags mark byte-register operands. */
static int len_rm(int bits, int reg, bool reg_byte, struct opnd o, bool rm_byte, int oplen, int immlen)
{
    bool rex = bits == 64 || reg >= 8 || (reg_byte && reg >= 4);
    int len = (bits == 16) + oplen + 1 + immlen;
    if (!o.is_mem) {
        rex = rex || o.reg >= 8 || (rm_byte && o.reg >= 4);
    } else {
        struct x64_mem m = o.m;
        rex = rex || (m.base >= 8 && m.base < 16) || m.index >= 8;
        if (m.base == X64_RIP)
            len += 4;
        else if (m.base == X64_NOREG)
            len += 1 + 4;
        else {
            len += (m.index != X64_NOREG || (m.base & 7) == 4);
            if (m.disp == 0 && (m.base & 7) != 5)
                len += 0;
            else if (m.disp >= -128 && m.disp <= 127)
                len += 1;
            else
                len += 4;
        }
    }
    return len + rex;
}

/* ---- the checker ---- */

struct checker {
    csh cs;
    uint8_t buf[64];
    struct x64_asm a;
    long checks, failures;
};

static void checker_open(struct checker *c)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &c->cs), CS_ERR_OK);
    cs_option(c->cs, CS_OPT_DETAIL, CS_OPT_ON);
}

static void checker_close(struct checker *c)
{
    cs_close(&c->cs);
    printf("%ld encodings checked against Capstone, %ld failures\n", c->checks, c->failures);
    ck_assert_int_eq(c->failures, 0);
    ck_assert_int_gt(c->checks, 0);
}

static struct x64_asm *fresh(struct checker *c)
{
    x64_init(&c->a, c->buf, sizeof c->buf, 0);
    return &c->a;
}

static int emitted(const struct checker *c) { return (int)(c->a.cur - c->a.start); }

static void report_failure(struct checker *c, int line, const char *fmt, const char *expect, const char *got)
{
    if (c->failures++ < 30) {
        char hex[3 * 64 + 1] = "";
        for (int i = 0; i < emitted(c); i++)
            sprintf(hex + 3 * i, "%02x ", c->buf[i]);
        fprintf(stderr, "line %d: %s: expected \"%s\" got \"%s\" bytes %s\n", line, fmt, expect, got, hex);
    }
}

/* One emitted instruction against its expected text and (when >= 0) length. */
static void verify(struct checker *c, const char *expect, int expect_len, int line)
{
    c->checks++;
    if (!x64_ok(&c->a)) {
        report_failure(c, line, "emitter refused", expect, "");
        return;
    }
    cs_insn *insn;
    size_t count = cs_disasm(c->cs, c->buf, (size_t)emitted(c), (uint64_t)(uintptr_t)c->buf, 1, &insn);
    if (count != 1) {
        report_failure(c, line, "Capstone cannot decode", expect, "");
        return;
    }
    char got[256];
    snprintf(got, sizeof got, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
    const char *abs_at = strstr(expect, "[abs:");
    if (abs_at) {
        /* Absolute address: Capstone's operand must be [disp] with that
         * disp; the text is compared with the same "[abs:disp]" in place. */
        int32_t want = (int32_t)strtol(abs_at + 5, NULL, 10);
        bool found = false;
        for (int k = 0; k < insn->detail->x86.op_count; k++) {
            const cs_x86_op *op = &insn->detail->x86.operands[k];
            if (op->type == X86_OP_MEM && op->mem.base == X86_REG_INVALID &&
                op->mem.index == X86_REG_INVALID && op->mem.disp == (int64_t)want)
                found = true;
        }
        char *lb = strchr(got, '['), *rb = lb ? strchr(lb, ']') : NULL;
        if (!found || !rb) {
            report_failure(c, line, "absolute operand", expect, got);
            cs_free(insn, count);
            return;
        }
        char rest[128];
        snprintf(rest, sizeof rest, "%s", rb + 1);
        snprintf(lb, sizeof got - (size_t)(lb - got), "[abs:%" PRId32 "]%s", want, rest);
    }
    if (insn->size != (size_t)emitted(c))
        report_failure(c, line, "length Capstone consumed differs", expect, got);
    else if (strcmp(got, expect) != 0)
        report_failure(c, line, "text", expect, got);
    else if (expect_len >= 0 && expect_len != emitted(c)) {
        char l[32];
        snprintf(l, sizeof l, "%d bytes, want %d", emitted(c), expect_len);
        report_failure(c, line, "not the shortest form", expect, l);
    }
    cs_free(insn, count);
}

#define VERIFY(c, len, ...) do { char e_[256]; snprintf(e_, sizeof e_, __VA_ARGS__); verify(c, e_, len, __LINE__); } while (0)

/* ---- operand sets ---- */

static const int sizes[4] = { 8, 16, 32, 64 };
static const int32_t disps[] = { 0, 1, -1, 127, -128, 128, -129, 0x12345, INT32_MAX, INT32_MIN };
static const int64_t imms[] = { 0, 1, -1, 9, 10, 127, -128, 128, -129, 255, 256, 0x7fff, -0x8000,
                                0x8000, 0xffff, 0x10000, 0x7fffffff, INT32_MIN, 0x12345678, -0x12345678 };
#define NELEM(x) ((int)(sizeof(x) / sizeof((x)[0])))

/* Every base (none, 16 registers, RIP) x index (none, 15 registers) x scale
 * (1/2/4/8 with an index) x displacement. */
static int make_mems(struct x64_mem *out)
{
    int n = 0;
    for (int base = -1; base <= 16; base++)
        for (int index = -1; index < 16; index++) {
            if (index == X64_RSP || (base == X64_RIP && index != X64_NOREG))
                continue;
            for (int scale = 1; scale <= 8; scale *= 2) {
                if (index == X64_NOREG && scale != 1)
                    continue;
                for (int d = 0; d < NELEM(disps); d++) {
                    if (base == X64_RIP && disps[d] == INT32_MIN)
                        continue;   /* disp - length would not fit */
                    out[n++] = x64_mem_bis(base, index, scale, disps[d]);
                }
            }
        }
    return n;
}

#define MAX_MEMS 12000

/* ---- encoding tests ---- */

START_TEST(test_mov)
{
    struct checker c;
    checker_open(&c);
    static struct x64_mem mems[MAX_MEMS];
    int nm = make_mems(mems);
    char o[160], s[160], imm[40];

    for (int si = 0; si < 4; si++) {
        int bits = sizes[si];
        for (int d = 0; d < 16; d++)
            for (int r = 0; r < 16; r++) {
                x64_mov_rr(fresh(&c), bits, d, r);
                VERIFY(&c, len_rm(bits, r, bits == 8, oreg(d), bits == 8, 1, 0), "mov %s, %s",
                       reg_name(bits, d), reg_name(bits, r));
            }
        for (int d = 0; d < 16; d++)
            for (int i = 0; i < NELEM(imms); i++) {
                int64_t v = imms[i];
                x64_mov_ri(fresh(&c), bits, d, v);
                int rex = d >= 8 || (bits == 8 && d >= 4);
                if (bits == 64 && v >= 0 && v <= UINT32_MAX) {
                    fmt_u(imm, sizeof imm, (uint64_t)v);
                    VERIFY(&c, rex + 5, "mov %s, %s", reg_name(32, d), imm);
                } else if (bits == 64) {
                    fmt_s(imm, sizeof imm, v);
                    VERIFY(&c, 7, "mov %s, %s", reg_name(64, d), imm);
                } else {
                    fmt_imm(imm, sizeof imm, v, bits, false);
                    VERIFY(&c, rex + (bits == 16) + 1 + bits / 8, "mov %s, %s", reg_name(bits, d), imm);
                }
            }
        for (int i = 0; i < nm; i++) {
            int r = i % 16;
            x64_mov_rm(fresh(&c), bits, r, mems[i]);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len_rm(bits, r, bits == 8, omem(mems[i]), false, 1, 0), "mov %s, %s", reg_name(bits, r), o);
            x64_mov_mr(fresh(&c), bits, mems[i], 15 - r);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len_rm(bits, 15 - r, bits == 8, omem(mems[i]), false, 1, 0), "mov %s, %s", o, reg_name(bits, 15 - r));
        }
        for (int i = 0; i < nm; i += 7) {
            int64_t v = imms[i % NELEM(imms)];
            x64_mov_mi(fresh(&c), bits, mems[i], (int32_t)v);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            int64_t seen = bits == 64 ? (int32_t)v : v;
            fmt_imm(imm, sizeof imm, seen, bits, false);
            VERIFY(&c, len_rm(bits, -1, false, omem(mems[i]), false, 1, bits == 64 ? 4 : bits / 8),
                   "mov %s, %s", o, imm);
        }
    }
    /* movabs: values outside int32 and uint32. */
    static const int64_t big[] = { 0x100000000ll, -0x80000001ll, INT64_MAX, INT64_MIN, 0x123456789abcdefll };
    for (int d = 0; d < 16; d++)
        for (int i = 0; i < NELEM(big); i++) {
            x64_mov_ri(fresh(&c), 64, d, big[i]);
            fmt_u(imm, sizeof imm, (uint64_t)big[i]);
            VERIFY(&c, 10, "movabs %s, %s", reg_name(64, d), imm);
        }
    /* movzx/movsx/movsxd. */
    for (int d = 0; d < 16; d++)
        for (int r = 0; r < 16; r++)
            for (int sb = 8; sb <= 16; sb += 8)
                for (int db = sb * 2; db <= 64; db *= 2) {
                    x64_movzx_rr(fresh(&c), db, d, sb, r);
                    VERIFY(&c, len_rm(db, d, false, oreg(r), sb == 8, 2, 0), "movzx %s, %s", reg_name(db, d), reg_name(sb, r));
                    x64_movsx_rr(fresh(&c), db, d, sb, r);
                    VERIFY(&c, len_rm(db, d, false, oreg(r), sb == 8, 2, 0), "movsx %s, %s", reg_name(db, d), reg_name(sb, r));
                }
    for (int d = 0; d < 16; d++)
        for (int r = 0; r < 16; r++) {
            x64_movsxd_rr(fresh(&c), d, r);
            VERIFY(&c, len_rm(64, d, false, oreg(r), false, 1, 0), "movsxd %s, %s", reg_name(64, d), reg_name(32, r));
            x64_xchg_rr(fresh(&c), sizes[r % 4], d, r);
            VERIFY(&c, len_rm(sizes[r % 4], r, sizes[r % 4] == 8, oreg(d), sizes[r % 4] == 8, 1, 0),
                   "xchg %s, %s", reg_name(sizes[r % 4], d), reg_name(sizes[r % 4], r));
        }
    for (int i = 0; i < nm; i += 3) {
        int r = i % 16, sb = i % 2 ? 8 : 16, db = i % 4 < 2 ? 32 : 64;
        x64_movzx_rm(fresh(&c), db, r, sb, mems[i]);
        fmt_opnd(o, sizeof o, sb, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(db, r, false, omem(mems[i]), false, 2, 0), "movzx %s, %s", reg_name(db, r), o);
        x64_movsx_rm(fresh(&c), db, r, sb, mems[i]);
        fmt_opnd(o, sizeof o, sb, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(db, r, false, omem(mems[i]), false, 2, 0), "movsx %s, %s", reg_name(db, r), o);
        x64_movsxd_rm(fresh(&c), r, mems[i]);
        fmt_opnd(o, sizeof o, 32, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(64, r, false, omem(mems[i]), false, 1, 0), "movsxd %s, %s", reg_name(64, r), o);
        int lb = 16 << (i % 3);
        x64_lea(fresh(&c), lb, r, mems[i]);
        fmt_mem(s, sizeof s, mems[i], emitted(&c));
        VERIFY(&c, len_rm(lb, r, false, omem(mems[i]), false, 1, 0), "lea %s, %s", reg_name(lb, r), s);
        int xb = sizes[i % 4];
        x64_xchg_mr(fresh(&c), xb, mems[i], r);
        fmt_opnd(o, sizeof o, xb, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(xb, r, xb == 8, omem(mems[i]), false, 1, 0), "xchg %s, %s", o, reg_name(xb, r));
    }
    for (int r = 0; r < 16; r++) {
        x64_bswap(fresh(&c), 32, r);
        VERIFY(&c, 2 + (r >= 8), "bswap %s", reg_name(32, r));
        x64_bswap(fresh(&c), 64, r);
        VERIFY(&c, 3, "bswap %s", reg_name(64, r));
        for (int src = 0; src < 16; src++) {
            static const uint8_t imms[] = { 0, 1, 8, 31, 63, 12, 20 };   /* (Capstone prints imm8 signed) */
            uint8_t imm = imms[(r + src) % 7];
            char im[32];
            fmt_u(im, sizeof im, imm);
            x64_rorx(fresh(&c), 32, r, src, imm);
            VERIFY(&c, 6, "rorx %s, %s, %s", reg_name(32, r), reg_name(32, src), im);
            x64_rorx(fresh(&c), 64, r, src, imm);
            VERIFY(&c, 6, "rorx %s, %s, %s", reg_name(64, r), reg_name(64, src), im);
        }
    }
    checker_close(&c);
}
END_TEST

/* AH..BH: every byte-register pairing and form the native backend uses,
 * all without REX; CMPXCHG and XADD at every size. */
static const char *byte8_name(int r)
{
    static const char *const names[8] = { "al", "cl", "dl", "bl", "ah", "ch", "dh", "bh" };
    return names[r];
}
/* the byte registers numbered as in guest encodings: AL..BL, then AH..BH */
static int byte8_reg(int r) { return r < 4 ? r : X64_AH + r - 4; }

START_TEST(test_high8)
{
    struct checker c;
    checker_open(&c);
    static struct x64_mem mems[MAX_MEMS];
    int nm = make_mems(mems);
    char o[160], imm[40];
    static const char *const shift_names[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", NULL, "sar" };
    static const char *const cc_names[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                              "s", "ns", "p", "np", "l", "ge", "le", "g" };
    for (int d = 0; d < 8; d++) {
        int hd = byte8_reg(d);
        const char *dn = byte8_name(d);
        for (int r = 0; r < 8; r++) {
            int hr = byte8_reg(r);
            const char *rn = byte8_name(r);
            x64_mov_rr(fresh(&c), 8, hd, hr);
            VERIFY(&c, 2, "mov %s, %s", dn, rn);
            for (int op = 0; op < 8; op++) {
                x64_alu_rr(fresh(&c), (enum x64_alu)op, 8, hd, hr);
                VERIFY(&c, 2, "%s %s, %s", alu_names[op], dn, rn);
            }
            x64_test_rr(fresh(&c), 8, hd, hr);
            VERIFY(&c, 2, "test %s, %s", dn, rn);
            x64_xchg_rr(fresh(&c), 8, hd, hr);
            VERIFY(&c, 2, "xchg %s, %s", dn, rn);
        }
        for (int r = 0; r < 8; r++) {   /* legacy destinations, high source */
            if (r == X64_RSP)
                continue;
            for (int db = 16; db <= 32; db += 16) {
                x64_movzx_rr(fresh(&c), db, r, 8, hd);
                VERIFY(&c, 3 + (db == 16), "movzx %s, %s", reg_name(db, r), dn);
                x64_movsx_rr(fresh(&c), db, r, 8, hd);
                VERIFY(&c, 3 + (db == 16), "movsx %s, %s", reg_name(db, r), dn);
            }
        }
        for (int i = 0; i < NELEM(imms); i++) {
            x64_mov_ri(fresh(&c), 8, hd, imms[i]);
            fmt_imm(imm, sizeof imm, imms[i] & 0xff, 8, false);
            VERIFY(&c, 2, "mov %s, %s", dn, imm);
            if (d == 0)
                continue;   /* AL: the accumulator short forms, tested elsewhere */
            for (int op = 0; op < 8; op++) {
                x64_alu_ri(fresh(&c), (enum x64_alu)op, 8, hd, imms[i]);
                VERIFY(&c, 3, "%s %s, %s", alu_names[op], dn, imm);
            }
            x64_test_ri(fresh(&c), 8, hd, imms[i]);
            VERIFY(&c, 3, "test %s, %s", dn, imm);
        }
        x64_inc_r(fresh(&c), 8, hd);
        VERIFY(&c, 2, "inc %s", dn);
        x64_dec_r(fresh(&c), 8, hd);
        VERIFY(&c, 2, "dec %s", dn);
        x64_unary_r(fresh(&c), X64_NEG, 8, hd);
        VERIFY(&c, 2, "neg %s", dn);
        x64_unary_r(fresh(&c), X64_NOT, 8, hd);
        VERIFY(&c, 2, "not %s", dn);
        for (int op = 0; op < 8; op++) {
            if (!shift_names[op])
                continue;
            x64_shift_ri(fresh(&c), (enum x64_shift)op, 8, hd, 1);
            VERIFY(&c, 2, "%s %s, 1", shift_names[op], dn);
            x64_shift_ri(fresh(&c), (enum x64_shift)op, 8, hd, 5);
            VERIFY(&c, 3, "%s %s, 5", shift_names[op], dn);
            x64_shift_rcl(fresh(&c), (enum x64_shift)op, 8, hd);
            VERIFY(&c, 2, "%s %s, cl", shift_names[op], dn);
        }
        for (int cc = 0; cc < 16; cc++) {
            x64_setcc(fresh(&c), (enum x64_cc)cc, hd);
            VERIFY(&c, 3, "set%s %s", cc_names[cc], dn);
        }
    }
#ifdef NDEBUG
    /* with REX the high registers do not exist: refused, nothing written */
    x64_mov_rr(fresh(&c), 8, X64_AH, X64_R10);
    ck_assert(c.a.error && emitted(&c) == 0);
    x64_movzx_rr(fresh(&c), 32, X64_R10, 8, X64_BH);
    ck_assert(c.a.error && emitted(&c) == 0);
    x64_mov_rr(fresh(&c), 8, X64_RSI, X64_CH);   /* SIL */
    ck_assert(c.a.error && emitted(&c) == 0);
#endif
    /* cmpxchg, xadd */
    for (int si = 0; si < 4; si++) {
        int bits = sizes[si];
        for (int d = 0; d < 16; d++)
            for (int r = 0; r < 16; r++) {
                x64_cmpxchg_rr(fresh(&c), bits, d, r);
                VERIFY(&c, len_rm(bits, r, bits == 8, oreg(d), bits == 8, 2, 0), "cmpxchg %s, %s",
                       reg_name(bits, d), reg_name(bits, r));
                x64_xadd_rr(fresh(&c), bits, d, r);
                VERIFY(&c, len_rm(bits, r, bits == 8, oreg(d), bits == 8, 2, 0), "xadd %s, %s",
                       reg_name(bits, d), reg_name(bits, r));
            }
        for (int i = 0; i < nm; i += 5) {
            int r = i % 16;
            x64_cmpxchg_mr(fresh(&c), bits, mems[i], r);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len_rm(bits, r, bits == 8, omem(mems[i]), false, 2, 0), "cmpxchg %s, %s", o, reg_name(bits, r));
            x64_xadd_mr(fresh(&c), bits, mems[i], r);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len_rm(bits, r, bits == 8, omem(mems[i]), false, 2, 0), "xadd %s, %s", o, reg_name(bits, r));
        }
    }
    checker_close(&c);
}
END_TEST

START_TEST(test_alu)
{
    struct checker c;
    checker_open(&c);
    static struct x64_mem mems[MAX_MEMS];
    int nm = make_mems(mems);
    char o[160], imm[40];

    for (int op = 0; op < 8; op++)
        for (int si = 0; si < 4; si++) {
            int bits = sizes[si];
            const char *mn = alu_names[op];
            for (int d = 0; d < 16; d++)
                for (int r = 0; r < 16; r++) {
                    x64_alu_rr(fresh(&c), op, bits, d, r);
                    VERIFY(&c, len_rm(bits, r, bits == 8, oreg(d), bits == 8, 1, 0), "%s %s, %s",
                           mn, reg_name(bits, d), reg_name(bits, r));
                }
            for (int d = 0; d < 16; d++)
                for (int i = 0; i < NELEM(imms); i++) {
                    /* What the CPU sees: truncated to 8/16/32 bits, 64 = imm32 sign-extended. */
                    int64_t v = bits == 8 ? (int8_t)imms[i] : bits == 16 ? (int16_t)imms[i] : (int32_t)imms[i];
                    bool short8 = bits != 8 && v >= -128 && v <= 127;
                    x64_alu_ri(fresh(&c), op, bits, d, v);
                    fmt_alu_imm(imm, sizeof imm, op, v, bits, short8);
                    int ilen = bits == 8 || short8 ? 1 : bits == 16 ? 2 : 4;
                    int len = len_rm(bits, -1, false, oreg(d), bits == 8, 1, ilen);
                    if (d == X64_RAX && !short8)
                        len--;   /* the accumulator form has no ModRM */
                    VERIFY(&c, len, "%s %s, %s", mn, reg_name(bits, d), imm);
                }
            for (int i = op; i < nm; i += 5) {
                int r = (i / 5) % 16;
                x64_alu_rm(fresh(&c), op, bits, r, mems[i]);
                fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
                VERIFY(&c, len_rm(bits, r, bits == 8, omem(mems[i]), false, 1, 0), "%s %s, %s", mn, reg_name(bits, r), o);
                x64_alu_mr(fresh(&c), op, bits, mems[i], r);
                fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
                VERIFY(&c, len_rm(bits, r, bits == 8, omem(mems[i]), false, 1, 0), "%s %s, %s", mn, o, reg_name(bits, r));
                int64_t raw = imms[(i / 5) % NELEM(imms)];
                int64_t v = bits == 8 ? (int8_t)raw : bits == 16 ? (int16_t)raw : (int32_t)raw;
                bool short8 = bits != 8 && v >= -128 && v <= 127;
                x64_alu_mi(fresh(&c), op, bits, mems[i], v);
                fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
                fmt_alu_imm(imm, sizeof imm, op, v, bits, short8);
                int ilen = bits == 8 || short8 ? 1 : bits == 16 ? 2 : 4;
                VERIFY(&c, len_rm(bits, -1, false, omem(mems[i]), false, 1, ilen), "%s %s, %s", mn, o, imm);
            }
        }

    /* test, inc, dec, not, neg, mul, imul, div, idiv. */
    for (int si = 0; si < 4; si++) {
        int bits = sizes[si];
        for (int d = 0; d < 16; d++) {
            for (int r = 0; r < 16; r++) {
                x64_test_rr(fresh(&c), bits, d, r);
                VERIFY(&c, len_rm(bits, r, bits == 8, oreg(d), bits == 8, 1, 0), "test %s, %s",
                       reg_name(bits, d), reg_name(bits, r));
            }
            for (int i = 0; i < NELEM(imms); i++) {
                int64_t v = bits == 8 ? (int8_t)imms[i] : bits == 16 ? (int16_t)imms[i] : (int32_t)imms[i];
                x64_test_ri(fresh(&c), bits, d, v);
                fmt_imm(imm, sizeof imm, v, bits, false);
                int ilen = bits == 8 ? 1 : bits == 16 ? 2 : 4;
                int len = len_rm(bits, -1, false, oreg(d), bits == 8, 1, ilen) - (d == X64_RAX);
                VERIFY(&c, len, "test %s, %s", reg_name(bits, d), imm);
            }
            x64_inc_r(fresh(&c), bits, d);
            VERIFY(&c, len_rm(bits, -1, false, oreg(d), bits == 8, 1, 0), "inc %s", reg_name(bits, d));
            x64_dec_r(fresh(&c), bits, d);
            VERIFY(&c, len_rm(bits, -1, false, oreg(d), bits == 8, 1, 0), "dec %s", reg_name(bits, d));
            for (int u = X64_NOT; u <= X64_IDIV; u++) {
                x64_unary_r(fresh(&c), u, bits, d);
                VERIFY(&c, len_rm(bits, -1, false, oreg(d), bits == 8, 1, 0), "%s %s", unary_names[u], reg_name(bits, d));
            }
        }
        for (int i = si; i < nm; i += 11) {
            int64_t v = bits == 8 ? (int8_t)imms[i % NELEM(imms)] : bits == 16 ? (int16_t)imms[i % NELEM(imms)]
                                                                              : (int32_t)imms[i % NELEM(imms)];
            x64_test_mi(fresh(&c), bits, mems[i], v);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            fmt_imm(imm, sizeof imm, v, bits, false);
            VERIFY(&c, len_rm(bits, -1, false, omem(mems[i]), false, 1, bits == 8 ? 1 : bits == 16 ? 2 : 4),
                   "test %s, %s", o, imm);
            int len = len_rm(bits, -1, false, omem(mems[i]), false, 1, 0);
            x64_inc_m(fresh(&c), bits, mems[i]);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len, "inc %s", o);
            x64_dec_m(fresh(&c), bits, mems[i]);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len, "dec %s", o);
            int u = X64_NOT + (i / 11) % 6;
            x64_unary_m(fresh(&c), u, bits, mems[i]);
            fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
            VERIFY(&c, len, "%s %s", unary_names[u], o);
        }
    }
    checker_close(&c);
}
END_TEST

START_TEST(test_shift_mul_bits)
{
    struct checker c;
    checker_open(&c);
    static struct x64_mem mems[MAX_MEMS];
    int nm = make_mems(mems);
    char o[160], imm[40];
    static const uint8_t counts[] = { 0, 1, 2, 7, 8, 9, 10, 15, 16, 31, 32, 63, 64, 127, 128, 255 };

    for (int op = 0; op < 8; op++) {
        if (!shift_names[op])
            continue;
        for (int si = 0; si < 4; si++) {
            int bits = sizes[si];
            for (int r = 0; r < 16; r++) {
                for (int k = 0; k < NELEM(counts); k++) {
                    x64_shift_ri(fresh(&c), op, bits, r, counts[k]);
                    fmt_u(imm, sizeof imm, counts[k]);
                    VERIFY(&c, len_rm(bits, -1, false, oreg(r), bits == 8, 1, counts[k] != 1),
                           "%s %s, %s", shift_names[op], reg_name(bits, r), imm);
                }
                x64_shift_rcl(fresh(&c), op, bits, r);
                VERIFY(&c, len_rm(bits, -1, false, oreg(r), bits == 8, 1, 0), "%s %s, cl", shift_names[op], reg_name(bits, r));
            }
            for (int i = op + si; i < nm; i += 17) {
                uint8_t k = counts[i % NELEM(counts)];
                x64_shift_mi(fresh(&c), op, bits, mems[i], k);
                fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
                fmt_u(imm, sizeof imm, k);
                VERIFY(&c, len_rm(bits, -1, false, omem(mems[i]), false, 1, k != 1), "%s %s, %s", shift_names[op], o, imm);
                x64_shift_mcl(fresh(&c), op, bits, mems[i]);
                fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
                VERIFY(&c, len_rm(bits, -1, false, omem(mems[i]), false, 1, 0), "%s %s, cl", shift_names[op], o);
            }
        }
    }
    for (int bits = 16; bits <= 64; bits *= 2)
        for (int d = 0; d < 16; d++)
            for (int r = 0; r < 16; r++) {
                uint8_t k = counts[(d + r) % NELEM(counts)];
                fmt_u(imm, sizeof imm, k);
                int len = len_rm(bits, r, false, oreg(d), false, 2, 0);
                x64_shld_ri(fresh(&c), bits, d, r, k);
                VERIFY(&c, len + 1, "shld %s, %s, %s", reg_name(bits, d), reg_name(bits, r), imm);
                x64_shrd_ri(fresh(&c), bits, d, r, k);
                VERIFY(&c, len + 1, "shrd %s, %s, %s", reg_name(bits, d), reg_name(bits, r), imm);
                x64_shld_rcl(fresh(&c), bits, d, r);
                VERIFY(&c, len, "shld %s, %s, cl", reg_name(bits, d), reg_name(bits, r));
                x64_shrd_rcl(fresh(&c), bits, d, r);
                VERIFY(&c, len, "shrd %s, %s, cl", reg_name(bits, d), reg_name(bits, r));
                /* ModRM.reg = d for the ones below. */
                len = len_rm(bits, d, false, oreg(r), false, 2, 0);
                x64_imul_rr(fresh(&c), bits, d, r);
                VERIFY(&c, len, "imul %s, %s", reg_name(bits, d), reg_name(bits, r));
                x64_bsf(fresh(&c), bits, d, r);
                VERIFY(&c, len, "bsf %s, %s", reg_name(bits, d), reg_name(bits, r));
                x64_bsr(fresh(&c), bits, d, r);
                VERIFY(&c, len, "bsr %s, %s", reg_name(bits, d), reg_name(bits, r));
                for (int b = 0; b < 4; b++) {
                    x64_bitop_rr(fresh(&c), b, bits, d, r);
                    VERIFY(&c, len_rm(bits, r, false, oreg(d), false, 2, 0), "%s %s, %s", bitop_names[b],
                           reg_name(bits, d), reg_name(bits, r));
                    x64_bitop_ri(fresh(&c), b, bits, d, k);
                    VERIFY(&c, len_rm(bits, -1, false, oreg(d), false, 2, 1), "%s %s, %s", bitop_names[b],
                           reg_name(bits, d), imm);
                }
                for (int i = 0; i < NELEM(imms); i += 1 + (r & 3)) {
                    int64_t v = bits == 16 ? (int16_t)imms[i] : (int32_t)imms[i];
                    bool short8 = v >= -128 && v <= 127;
                    x64_imul_rri(fresh(&c), bits, d, r, (int32_t)v);
                    fmt_imm(imm, sizeof imm, v, bits, short8);
                    VERIFY(&c, len_rm(bits, d, false, oreg(r), false, 1, short8 ? 1 : bits == 16 ? 2 : 4),
                           "imul %s, %s, %s", reg_name(bits, d), reg_name(bits, r), imm);
                }
                for (int cc = 0; cc < 16; cc += 1 + (d & 1)) {
                    x64_cmovcc_rr(fresh(&c), cc, bits, d, r);
                    VERIFY(&c, len, "cmov%s %s, %s", cc_names[cc], reg_name(bits, d), reg_name(bits, r));
                }
            }
    for (int i = 0; i < nm; i += 5) {
        int bits = 16 << (i % 3), r = (i / 3) % 16;
        int64_t v = bits == 16 ? (int16_t)imms[i % NELEM(imms)] : (int32_t)imms[i % NELEM(imms)];
        bool short8 = v >= -128 && v <= 127;
        x64_imul_rm(fresh(&c), bits, r, mems[i]);
        fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(bits, r, false, omem(mems[i]), false, 2, 0), "imul %s, %s", reg_name(bits, r), o);
        x64_imul_rmi(fresh(&c), bits, r, mems[i], (int32_t)v);
        fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
        fmt_imm(imm, sizeof imm, v, bits, short8);
        VERIFY(&c, len_rm(bits, r, false, omem(mems[i]), false, 1, short8 ? 1 : bits == 16 ? 2 : 4),
               "imul %s, %s, %s", reg_name(bits, r), o, imm);
        int cc = i % 16;
        x64_cmovcc_rm(fresh(&c), cc, bits, r, mems[i]);
        fmt_opnd(o, sizeof o, bits, omem(mems[i]), emitted(&c));
        VERIFY(&c, len_rm(bits, r, false, omem(mems[i]), false, 2, 0), "cmov%s %s, %s", cc_names[cc], reg_name(bits, r), o);
    }
    for (int cc = 0; cc < 16; cc++)
        for (int r = 0; r < 16; r++) {
            x64_setcc(fresh(&c), cc, r);
            VERIFY(&c, len_rm(8, -1, false, oreg(r), true, 2, 0), "set%s %s", cc_names[cc], reg_name(8, r));
        }
    checker_close(&c);
}
END_TEST

START_TEST(test_control)
{
    struct checker c;
    checker_open(&c);
    static struct x64_mem mems[MAX_MEMS];
    int nm = make_mems(mems);
    char o[160], imm[40];
    uint64_t base = (uint64_t)(uintptr_t)c.buf;

    /* Branches: the target is printed as an absolute address. */
    for (int cc = 0; cc < 16; cc++)
        for (int t = 0; t < 40; t += 3) {
            x64_jcc_rel8(fresh(&c), cc, c.buf + t);
            VERIFY(&c, 2, "j%s 0x%" PRIx64, cc_names[cc], base + (uint64_t)t);
            x64_jcc_rel32(fresh(&c), cc, c.buf + t);
            VERIFY(&c, 6, "j%s 0x%" PRIx64, cc_names[cc], base + (uint64_t)t);
        }
    for (int t = 0; t < 40; t++) {
        x64_jmp_rel8(fresh(&c), c.buf + t);
        VERIFY(&c, 2, "jmp 0x%" PRIx64, base + (uint64_t)t);
        x64_jmp_rel32(fresh(&c), c.buf + t);
        VERIFY(&c, 5, "jmp 0x%" PRIx64, base + (uint64_t)t);
    }
    /* Far targets: rel32 is base-relative, so test the extreme reach. */
    {
        const uint8_t *far = (const uint8_t *)(uintptr_t)(base + 5 + INT32_MAX);
        x64_call_abs(fresh(&c), far);
        VERIFY(&c, 5, "call 0x%" PRIx64, (uint64_t)(uintptr_t)far);
        x64_jmp_abs(fresh(&c), far);
        VERIFY(&c, 5, "jmp 0x%" PRIx64, (uint64_t)(uintptr_t)far);
        /* Beyond rel32: movabs r11 + call r11. */
        const uint8_t *farther = (const uint8_t *)(uintptr_t)(base + 6 + INT32_MAX);
        x64_call_abs(fresh(&c), farther);
        c.checks++;
        if (emitted(&c) != 13 || memcmp(c.buf, "\x49\xbb", 2) != 0 || memcmp(c.buf + 10, "\x41\xff\xd3", 3) != 0 ||
            memcmp(c.buf + 2, &farther, 8) != 0)
            report_failure(&c, __LINE__, "far call", "movabs r11; call r11", "");
    }
    for (int r = 0; r < 16; r++) {
        int rex = r >= 8;
        x64_jmp_r(fresh(&c), r);
        VERIFY(&c, 2 + rex, "jmp %s", reg_name(64, r));
        x64_call_r(fresh(&c), r);
        VERIFY(&c, 2 + rex, "call %s", reg_name(64, r));
        x64_push_r(fresh(&c), r);
        VERIFY(&c, 1 + rex, "push %s", reg_name(64, r));
        x64_pop_r(fresh(&c), r);
        VERIFY(&c, 1 + rex, "pop %s", reg_name(64, r));
    }
    for (int i = 0; i < nm; i += 3) {
        /* FF /2 and /4 take 64-bit operands without REX.W. */
        int len = len_rm(32, -1, false, omem(mems[i]), false, 1, 0);
        x64_jmp_m(fresh(&c), mems[i]);
        fmt_opnd(o, sizeof o, 64, omem(mems[i]), emitted(&c));
        VERIFY(&c, len, "jmp %s", o);
        x64_call_m(fresh(&c), mems[i]);
        fmt_opnd(o, sizeof o, 64, omem(mems[i]), emitted(&c));
        VERIFY(&c, len, "call %s", o);
    }
    for (int i = 0; i < NELEM(imms); i++) {
        int32_t v = (int32_t)imms[i];
        x64_push_i(fresh(&c), v);
        fmt_s(imm, sizeof imm, v);
        VERIFY(&c, v >= -128 && v <= 127 ? 2 : 5, "push %s", imm);
    }
    static const struct { void (*emit)(struct x64_asm *); const char *text; int len; } fixed[] = {
        { x64_ret, "ret", 1 }, { x64_pushfq, "pushfq", 1 }, { x64_popfq, "popfq", 1 },
        { x64_lahf, "lahf", 1 }, { x64_sahf, "sahf", 1 }, { x64_cwde, "cwde", 1 },
        { x64_cdq, "cdq", 1 }, { x64_cdqe, "cdqe", 2 }, { x64_cqo, "cqo", 2 },
        { x64_int3, "int3", 1 }, { x64_ud2, "ud2", 2 },
    };
    for (int i = 0; i < NELEM(fixed); i++) {
        fixed[i].emit(fresh(&c));
        verify(&c, fixed[i].text, fixed[i].len, __LINE__);
    }
    /* NOPs: one instruction of each length 1..9, then longer runs. */
    for (int len = 1; len <= 9; len++) {
        x64_nop(fresh(&c), len);
        cs_insn *insn;
        size_t n = cs_disasm(c.cs, c.buf, (size_t)emitted(&c), 0, 0, &insn);
        c.checks++;
        if (n != 1 || insn[0].size != (size_t)len || strcmp(insn[0].mnemonic, "nop") != 0)
            report_failure(&c, __LINE__, "nop", "nop", n ? insn[0].mnemonic : "");
        if (n)
            cs_free(insn, n);
    }
    for (int len = 10; len <= 40; len++) {
        x64_nop(fresh(&c), len);
        cs_insn *insn;
        size_t n = cs_disasm(c.cs, c.buf, (size_t)emitted(&c), 0, 0, &insn);
        size_t total = 0;
        for (size_t k = 0; k < n; k++)
            total += strcmp(insn[k].mnemonic, "nop") == 0 ? insn[k].size : 0;
        c.checks++;
        if (emitted(&c) != len || total != (size_t)len || n != (size_t)(len + 8) / 9)
            report_failure(&c, __LINE__, "nop run", "nops", "");
        if (n)
            cs_free(insn, n);
    }
    checker_close(&c);
}
END_TEST

/* Overflow writes nothing and never passes the end. */
START_TEST(test_overflow)
{
    uint8_t buf[16];
    memset(buf, 0xAB, sizeof buf);
    struct x64_asm a;
    x64_init(&a, buf, 8, 0);
    x64_mov_ri(&a, 64, X64_RAX, 0x123456789ll);   /* 10 bytes: does not fit */
    ck_assert(a.overflow);
    ck_assert_ptr_eq(a.cur, buf);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(buf[i], 0xAB);
    x64_ret(&a);   /* sticky: nothing more is written */
    ck_assert_ptr_eq(a.cur, buf);

    x64_init(&a, buf, 8, 0);
    x64_alu_ri(&a, X64_ADD, 32, X64_R8, 0x1000);   /* 7 bytes */
    ck_assert(x64_ok(&a));
    x64_push_r(&a, X64_R8);                       /* 2 more: no room */
    ck_assert(a.overflow);
    ck_assert_int_eq(x64_offset(&a), 7);
    ck_assert_uint_eq(buf[7], 0xAB);
    memset(buf, 0xAB, sizeof buf);
    x64_init(&a, buf, 4, 0);
    x64_nop(&a, 5);
    ck_assert(a.overflow);
    ck_assert_uint_eq(buf[0], 0xAB);
    ck_assert_int_eq(x64_jmp_patchable(&a, NULL), -1);
}
END_TEST

/* Labels: forward short/near, backward shortest form, patchable jumps. */
START_TEST(test_labels)
{
    uint8_t buf[512];
    struct x64_asm a;
    x64_init(&a, buf, sizeof buf, 0);
    struct x64_label fwd, back, far;
    x64_label_init(&fwd);
    x64_label_init(&back);
    x64_label_init(&far);
    x64_bind(&a, &back);                       /* offset 0 */
    x64_jcc_label(&a, X64_CC_NE, &fwd, true);  /* 0: 75 xx */
    x64_jmp_label(&a, &fwd, false);            /* 2: e9 xxxxxxxx */
    x64_jmp_label(&a, &far, true);             /* 7: eb xx, too far later */
    x64_nop(&a, 3);                            /* 9..11 */
    x64_bind(&a, &fwd);                        /* 12 */
    ck_assert_int_eq(fwd.pos, 12);
    ck_assert_uint_eq(buf[0], 0x75);
    ck_assert_uint_eq(buf[1], 12 - 2);
    ck_assert_uint_eq(buf[2], 0xe9);
    int32_t rel;
    memcpy(&rel, buf + 3, 4);
    ck_assert_int_eq(rel, 12 - 7);
    x64_jcc_label(&a, X64_CC_L, &back, false);  /* bound: rel8 -14 */
    ck_assert_int_eq(x64_offset(&a), 14);
    ck_assert_uint_eq(buf[12], 0x7c);
    ck_assert_uint_eq((uint8_t)buf[13], (uint8_t)-14);
    x64_nop(&a, 200);
    x64_jmp_label(&a, &back, true);             /* bound, far: rel32 anyway */
    ck_assert_uint_eq(buf[214], 0xe9);
    ck_assert(x64_ok(&a));
    x64_bind(&a, &far);                          /* the short jump at 7 cannot reach */
    ck_assert(a.error);

    /* Patchable jumps: rel32 4-aligned, retargeted by one store. */
    for (int start = 0; start < 4; start++) {
        x64_init(&a, buf + start, sizeof buf - 8, 0);
        long site = x64_jmp_patchable(&a, NULL);
        ck_assert_int_ge(site, 0);
        ck_assert_uint_eq(((uintptr_t)(a.start + site)) % 4, 0);
        ck_assert_uint_eq(a.start[site - 1], 0xe9);
        int32_t r;
        memcpy(&r, a.start + site, 4);
        ck_assert_int_eq(r, 0);
        x64_patch_rel32(a.start + site, a.start);
        memcpy(&r, a.start + site, 4);
        ck_assert_int_eq(r, -(int32_t)(site + 4));
    }
}
END_TEST

/* ---- execution ---- */

typedef uint64_t (*fn2)(uint64_t, uint64_t);
typedef uint64_t (*flagfn)(uint64_t *x, uint64_t y, uint64_t flags_in);

/* Emission into the code buffer: begin + end return the run address. */
static struct x64_asm begin(struct codebuf *cb)
{
    struct x64_asm a;
    x64_init(&a, codebuf_cursor(cb), codebuf_free_space(cb), codebuf_exec_delta(cb));
    return a;
}

static void *finish(struct codebuf *cb, struct x64_asm *a)
{
    ck_assert(x64_ok(a));
    return codebuf_commit(cb, x64_offset(a));
}

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Interesting operands: random, small, and at the sign/carry boundaries. */
static uint64_t rnd_operand(uint64_t *s)
{
    static const uint64_t edges[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                      0x80000000, 0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                      ~0ull };
    uint64_t r = rnd(s);
    switch (r % 4) {
    case 0: return edges[(r >> 8) % NELEM(edges)];
    case 1: return edges[(r >> 8) % NELEM(edges)] + ((r >> 16) % 3) - 1;
    default: return rnd(s);
    }
}

#define ARITH_FLAGS 0x8d5ull   /* OF SF ZF AF PF CF */

/* The host reference: mnemonic applied to d (by y) at each size, flags in
 * and out through pushfq/popfq. The red zone is skipped around the pushes. */
#define HOST_BINOP(name, mn)                                                                         \
    static uint64_t host_##name(int bits, uint64_t *x, uint64_t y, uint64_t fin)                    \
    {                                                                                                \
        uint64_t d = *x, fl;                                                                         \
        switch (bits) {                                                                              \
        case 8: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %b[y], %b[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : [y] "r"(y), [fi] "r"(fin) : "cc"); break;  \
        case 16: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %w[y], %w[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : [y] "r"(y), [fi] "r"(fin) : "cc"); break;  \
        case 32: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %k[y], %k[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : [y] "r"(y), [fi] "r"(fin) : "cc"); break;  \
        default: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %q[y], %q[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : [y] "r"(y), [fi] "r"(fin) : "cc"); break;  \
        }                                                                                            \
        *x = d;                                                                                      \
        return fl;                                                                                   \
    }

/* Shifts: count in CL. */
#define HOST_SHIFT(name, mn)                                                                         \
    static uint64_t host_##name(int bits, uint64_t *x, uint64_t y, uint64_t fin)                    \
    {                                                                                                \
        uint64_t d = *x, fl;                                                                         \
        switch (bits) {                                                                              \
        case 8: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %%cl, %b[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : "c"(y), [fi] "r"(fin) : "cc"); break;      \
        case 16: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %%cl, %w[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : "c"(y), [fi] "r"(fin) : "cc"); break;      \
        case 32: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %%cl, %k[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : "c"(y), [fi] "r"(fin) : "cc"); break;      \
        default: __asm__("lea -128(%%rsp), %%rsp; push %[fi]; popfq; " mn " %%cl, %q[d]; pushfq; pop %[fl]; lea 128(%%rsp), %%rsp" \
                        : [d] "+r"(d), [fl] "=&r"(fl) : "c"(y), [fi] "r"(fin) : "cc"); break;      \
        }                                                                                            \
        *x = d;                                                                                      \
        return fl;                                                                                   \
    }

HOST_BINOP(add, "add") HOST_BINOP(or, "or") HOST_BINOP(adc, "adc") HOST_BINOP(sbb, "sbb")
HOST_BINOP(and, "and") HOST_BINOP(sub, "sub") HOST_BINOP(xor, "xor") HOST_BINOP(cmp, "cmp")
HOST_SHIFT(rol, "rol") HOST_SHIFT(ror, "ror") HOST_SHIFT(rcl, "rcl") HOST_SHIFT(rcr, "rcr")
HOST_SHIFT(shl, "shl") HOST_SHIFT(shr, "shr") HOST_SHIFT(sar, "sar")

typedef uint64_t (*host_op)(int, uint64_t *, uint64_t, uint64_t);
static const host_op host_alu[8] = { host_add, host_or, host_adc, host_sbb, host_and, host_sub, host_xor, host_cmp };
static const host_op host_shift[8] = { host_rol, host_ror, host_rcl, host_rcr, host_shl, host_shr, NULL, host_sar };

START_TEST(test_exec_basic)
{
    struct codebuf *cb = codebuf_create(1 << 20);
    ck_assert_ptr_nonnull(cb);

    /* add two arguments with R8-R15 in between (callee-saved R12 kept). */
    struct x64_asm a = begin(cb);
    x64_push_r(&a, X64_R12);
    x64_mov_rr(&a, 64, X64_R12, X64_RDI);
    x64_mov_rr(&a, 64, X64_R9, X64_RSI);
    x64_alu_rr(&a, X64_ADD, 64, X64_R12, X64_R9);
    x64_mov_rr(&a, 64, X64_RAX, X64_R12);
    x64_pop_r(&a, X64_R12);
    x64_ret(&a);
    fn2 add = (fn2)finish(cb, &a);
    ck_assert_uint_eq(add(40, 2), 42);
    ck_assert_uint_eq(add(~0ull, 1), 0);

    /* sum of 1..n with a backward jcc and a forward exit for n == 0. */
    a = begin(cb);
    struct x64_label loop, done;
    x64_label_init(&loop);
    x64_label_init(&done);
    x64_alu_rr(&a, X64_XOR, 32, X64_RAX, X64_RAX);
    x64_test_rr(&a, 64, X64_RDI, X64_RDI);
    x64_jcc_label(&a, X64_CC_E, &done, true);
    x64_bind(&a, &loop);
    x64_alu_rr(&a, X64_ADD, 64, X64_RAX, X64_RDI);
    x64_dec_r(&a, 64, X64_RDI);
    x64_jcc_label(&a, X64_CC_NE, &loop, false);
    x64_bind(&a, &done);
    x64_ret(&a);
    fn2 sum = (fn2)finish(cb, &a);
    ck_assert_uint_eq(sum(0, 0), 0);
    ck_assert_uint_eq(sum(10, 0), 55);
    ck_assert_uint_eq(sum(100000, 0), 5000050000ull);

    /* a grab bag: movzx/movsx/lea/imul/bswap/shld/cmov/setcc/memory forms. */
    a = begin(cb);
    x64_movsx_rr(&a, 64, X64_R10, 8, X64_RDI);      /* r10 = (int8)x */
    x64_movzx_rr(&a, 32, X64_R11, 16, X64_RSI);     /* r11 = (uint16)y */
    x64_lea(&a, 64, X64_RAX, x64_mem_bis(X64_R10, X64_R11, 8, -3));
    x64_imul_rri(&a, 64, X64_RAX, X64_RAX, 1000);
    x64_ret(&a);
    fn2 mix = (fn2)finish(cb, &a);
    ck_assert_uint_eq(mix(0x1ff, 0x30002), (uint64_t)((-1 + 2 * 8 - 3) * 1000));

    a = begin(cb);
    x64_mov_rr(&a, 64, X64_RAX, X64_RDI);
    x64_bswap(&a, 64, X64_RAX);
    x64_alu_rr(&a, X64_CMP, 64, X64_RAX, X64_RSI);
    x64_setcc(&a, X64_CC_B, X64_RSI);               /* sil needs REX */
    x64_movzx_rr(&a, 64, X64_RSI, 8, X64_RSI);
    x64_cmovcc_rr(&a, X64_CC_B, 64, X64_RAX, X64_RSI);
    x64_ret(&a);
    fn2 bs = (fn2)finish(cb, &a);
    ck_assert_uint_eq(bs(0x0102030405060708ull, 0), 0x0807060504030201ull);
    ck_assert_uint_eq(bs(0x0102030405060708ull, ~0ull), 1);

    /* memory: *x += y through [rdi + rsi*8 - 8] with R13 as base (disp8 0 form). */
    a = begin(cb);
    x64_push_r(&a, X64_R13);
    x64_mov_rr(&a, 64, X64_R13, X64_RDI);
    x64_alu_mi(&a, X64_ADD, 32, x64_mem_b(X64_R13, 0), 0x1000);
    x64_mov_rm(&a, 64, X64_RAX, x64_mem_bis(X64_R13, X64_RSI, 8, -8));
    x64_inc_m(&a, 64, x64_mem_bis(X64_R13, X64_RSI, 8, -8));
    x64_pop_r(&a, X64_R13);
    x64_ret(&a);
    fn2 mem = (fn2)finish(cb, &a);
    uint64_t cells[3] = { 5, 6, 7 };
    ck_assert_uint_eq(mem((uint64_t)(uintptr_t)cells, 3), 7);
    ck_assert_uint_eq(cells[0], 0x1005);
    ck_assert_uint_eq(cells[2], 8);

    /* RIP-relative data in the arena, reached from the RX view, and the
     * one-operand multiply/divide: (cell * y) / 7 with the remainder added. */
    uint64_t *cell = codebuf_alloc(cb, 8);
    *cell = 1000003;
    a = begin(cb);
    struct x64_mem cell_m;
    ck_assert(x64_mem_rip_to(&a, codebuf_to_rx(cb, cell), &cell_m));
    x64_mov_rm(&a, 64, X64_RAX, cell_m);
    x64_unary_r(&a, X64_MUL, 64, X64_RSI);          /* rdx:rax = cell * y */
    x64_mov_ri(&a, 32, X64_R8, 7);
    x64_unary_r(&a, X64_DIV, 64, X64_R8);           /* rax = q, rdx = r */
    x64_alu_rr(&a, X64_ADD, 64, X64_RAX, X64_RDX);
    x64_ret(&a);
    fn2 muldiv = (fn2)finish(cb, &a);
    ck_assert_uint_eq(muldiv(0, 123456789), (1000003ull * 123456789) / 7 + (1000003ull * 123456789) % 7);

    /* call_abs into C from the RX view (delta handled), then chain patching. */
    a = begin(cb);
    x64_push_r(&a, X64_RBX);                         /* align the stack */
    x64_call_abs(&a, (const void *)add);
    x64_pop_r(&a, X64_RBX);
    x64_ret(&a);
    fn2 via = (fn2)finish(cb, &a);
    ck_assert_uint_eq(via(1, 2), 3);

    a = begin(cb);
    uint8_t *entry = a.cur;
    long site = x64_jmp_patchable(&a, NULL);
    uint8_t *one = a.cur;
    x64_mov_ri(&a, 32, X64_RAX, 1);
    x64_ret(&a);
    uint8_t *two = a.cur;
    x64_mov_ri(&a, 32, X64_RAX, 2);
    x64_ret(&a);
    fn2 chained = (fn2)codebuf_to_rx(cb, entry);
    (void)one;
    finish(cb, &a);
    ck_assert_uint_eq(chained(0, 0), 1);
    x64_patch_rel32(a.start + site, two);
    ck_assert_uint_eq(chained(0, 0), 2);
    codebuf_destroy(cb);
}
END_TEST

/* Flags and results of every ALU op and shift, every size, emitted vs host. */
START_TEST(test_exec_flags)
{
    struct codebuf *cb = codebuf_create(4 << 20);
    ck_assert_ptr_nonnull(cb);
    uint64_t s = seed;
    long cases = 0, mismatches = 0;
    static const int dsts[4] = { X64_RAX, X64_RCX, X64_R8, X64_R10 };
    static const int srcs[4] = { X64_R11, X64_R9, X64_RSI, X64_RDX };

    /* f(x, y, flags): dst = *x; src = y; flags = fl; op dst, src|imm|cl; *x = dst; return flags. */
    for (int kind = 0; kind < 4; kind++)            /* alu rr, alu ri, shift cl, shift imm */
        for (int op = 0; op < 8; op++)
            for (int si = 0; si < 4; si++) {
                int bits = sizes[si];
                bool shift = kind >= 2;
                if (shift && !shift_names[op])
                    continue;
                int variants = kind == 0 || kind == 2 ? 1 : 24;
                for (int v = 0; v < variants; v++) {
                    int dst = dsts[(op + si + v) % 4], src = kind == 2 ? X64_RCX : srcs[(op + v) % 4];
                    if (kind == 2 && dst == X64_RCX)
                        dst = X64_RAX;
                    int64_t imm = 0;
                    if (kind == 1)
                        imm = (int32_t)rnd_operand(&s);
                    if (kind == 3)
                        imm = v < 8 ? v : (int64_t)(rnd(&s) % 80);
                    struct x64_asm a = begin(cb);
                    x64_push_r(&a, X64_RDX);        /* before RDX may become src */
                    x64_mov_rm(&a, 64, dst, x64_mem_b(X64_RDI, 0));
                    if (src != X64_RSI)
                        x64_mov_rr(&a, 64, src, X64_RSI);
                    x64_popfq(&a);
                    switch (kind) {
                    case 0: x64_alu_rr(&a, op, bits, dst, src); break;
                    case 1: x64_alu_ri(&a, op, bits, dst, imm); break;
                    case 2: x64_shift_rcl(&a, op, bits, dst); break;
                    default: x64_shift_ri(&a, op, bits, dst, (uint8_t)imm); break;
                    }
                    x64_mov_mr(&a, 64, x64_mem_b(X64_RDI, 0), dst);
                    x64_pushfq(&a);
                    x64_pop_r(&a, X64_RAX);
                    x64_ret(&a);
                    flagfn f = (flagfn)finish(cb, &a);
                    int runs = variants == 1 ? 2000 : 100;
                    for (int k = 0; k < runs; k++) {
                        uint64_t x = rnd_operand(&s), y = rnd_operand(&s);
                        if (kind == 2)
                            y = k < 260 ? (uint64_t)k : rnd(&s) & 0xff;
                        uint64_t fin = 0x202 | (rnd(&s) & ARITH_FLAGS);
                        uint64_t ex = x, gx = x;
                        uint64_t host_y = kind == 1 || kind == 3 ? (uint64_t)imm : y;
                        uint64_t hf = (shift ? host_shift : host_alu)[op](bits, &ex, host_y, fin);
                        uint64_t gf = f(&gx, y, fin);
                        cases++;
                        uint64_t mask = ARITH_FLAGS;
                        if (shift) {
                            /* Undefined after shifts/rotates: AF whenever the
                             * count is nonzero, OF unless it is 1. The host
                             * leaves different values for the CL and imm8
                             * forms (the reference uses CL). */
                            unsigned n = (unsigned)host_y & (bits == 64 ? 63 : 31);
                            if (n != 0)
                                mask &= ~0x10ull;
                            if (n > 1)
                                mask &= ~0x800ull;
                        }
                        if ((hf & mask) != (gf & mask) || ex != gx) {
                            if (mismatches++ < 10)
                                fprintf(stderr, "kind %d op %d bits %d x %#" PRIx64 " y %#" PRIx64 " imm %" PRId64
                                        ": host %#" PRIx64 "/%#" PRIx64 " emitted %#" PRIx64 "/%#" PRIx64 "\n",
                                        kind, op, bits, x, y, imm, ex, hf, gx, gf);
                        }
                    }
                }
            }
    printf("%ld flag/result cases run against the host, %ld mismatches\n", cases, mismatches);
    ck_assert_int_eq(mismatches, 0);
    codebuf_destroy(cb);
}
END_TEST

static Suite *x64_emit_suite(void)
{
    Suite *s = suite_create("x64_emit");
    TCase *tc = tcase_create("encode");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_mov);
    tcase_add_test(tc, test_alu);
    tcase_add_test(tc, test_high8);
    tcase_add_test(tc, test_shift_mul_bits);
    tcase_add_test(tc, test_control);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_labels);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("execute");
    tcase_set_timeout(te, 120);
    tcase_add_test(te, test_exec_basic);
    tcase_add_test(te, test_exec_flags);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(x64_emit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
