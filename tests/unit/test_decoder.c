/* tests/unit/test_decoder.c: the i686 decoder (core/decode.c, core/opcodes.c)
 * against hand-picked vectors and against Capstone on random byte strings.
 *
 * Three kinds of test:
 *   - table sanity: every map/group row's OF_MODRM flag matches its operands;
 *   - unit vectors: encodings with their expected length, operation and
 *     operand encoding (prefix mixes, SIB without base, moffs, ENTER, far
 *     pointers, LOCK rules, the 15-byte limit, x87 sizes and aliases ...);
 *   - differential: random byte strings (deterministic PRNG, biased towards
 *     prefixes, the 0F map, ModRM/SIB forms and x87) decoded by fox86 and by
 *     Capstone 4 in 32- and 16-bit mode. Where Capstone decodes, fox86 must
 *     decode too, with the same length and the same class:
 *        fox86 CTRL  <->  Capstone JUMP, CALL, RET, INT, IRET or
 *                         BRANCH_RELATIVE (Capstone 4 puts LOOP/LOOPcc in
 *                         BRANCH_RELATIVE only)
 *        fox86 PRIV  <->  Capstone PRIVILEGE
 *     Every systematic disagreement is a row of decoder_exceptions (what,
 *     why, which comparisons it excuses); the run counts the strings that hit
 *     each row and fails on any disagreement no row explains.
 *
 * Capstone's PRIVILEGE group (observed, Capstone 4.0.2) holds HLT, LGDT/LIDT/
 * LLDT/LTR/LMSW, INVLPG, INVD/WBINVD, WRMSR, MOV CR/DR and SYSEXIT (with
 * IRET) as fox86's PRIV does, but also CLI/STI (IOPL-checked), IRET, RSM,
 * STR, RDPMC, POP of a segment register and MOV to one, plus encodings that
 * are #UD on an i686 (MOV CS, SYSRET, SWAPGS, RDTSCP, VMX); it leaves out
 * CLTS and RDMSR. Capstone puts SYSENTER and SYSCALL in INT, SYSEXIT and
 * SYSRET in IRET, far CALL/JMP in CALL/JUMP, UD2 in no group. Each
 * difference on an i686 encoding is an exception row below.
 *
 * Environment: FOX86_DECODER_N = random strings per mode (default 1000000,
 * i.e. 2 million strings), FOX86_DECODER_SEED = PRNG seed,
 * FOX86_DECODER_VERBOSE = 1 prints every unexplained disagreement, 2 also
 * the strings fox86 decodes and Capstone refuses. The default run takes
 * about 3 s at -O2.
 */
#include <check.h>
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/insn.h"
#include "core/opcodes.h"

/* ---- table sanity ---- */

static bool row_uses_modrm(const struct opcode_row *row)
{
    for (int i = 0; i < 3; i++) {
        unsigned s = row->opnd[i];
        if ((s >= Eb && s <= Mstate) || (s >= Gb && s <= Dd))
            return true;
    }
    return row->group != GRP_NONE || (row->flags & OF_X87);
}

START_TEST(test_table_modrm_flags)
{
    for (int map = 0; map < 2; map++) {
        const struct opcode_row *tab = map ? opcode_map_0f : opcode_map_1b;
        for (int b = 0; b < 256; b++) {
            bool flag = tab[b].flags & OF_MODRM;
            ck_assert_msg(flag == row_uses_modrm(&tab[b]), "map %d opcode %02X: OF_MODRM disagrees with operands", map, b);
            ck_assert_msg(tab[b].op < OP_COUNT, "map %d opcode %02X: op out of range", map, b);
        }
    }
    for (int g = 1; g < GRP_COUNT; g++)
        for (int r = 0; r < 8; r++)
            ck_assert_msg(opcode_groups[g][r].group == GRP_NONE, "group %d /%d nests a group", g, r);
}
END_TEST

/* ---- unit vectors ---- */

#define BYTES(s) .bytes = (const uint8_t *)(s), .nbytes = sizeof(s) - 1
#define OPND(k, sz, r) { .kind = (k), .size = (sz), .reg = (r) }
#define NOREG EA_NONE

/* What a vector checks beyond len and op. */
enum {
    V_OPND  = 1u << 0,   /* nopnd and every opnd[] */
    V_EA    = 1u << 1,   /* ea_base, ea_index, ea_scale, disp, seg */
    V_IMM   = 1u << 2,   /* imm, imm2 */
    V_SIZES = 1u << 3,   /* opsize, addrsize */
    V_COND  = 1u << 4,
    V_PFX   = 1u << 5,   /* prefixes */
    V_TEXT  = 1u << 6,   /* insn_format text */
    V_AVAIL = 1u << 7,   /* decode with avail = nbytes instead of a padded buffer */
    V_CLASS = 1u << 8,   /* insn_class */
};

struct decoder_vector {
    const char    *what;
    const uint8_t *bytes;
    uint8_t        nbytes;
    bool           code16;
    uint16_t       checks;      /* V_* */
    size_t         ret;         /* expected return with V_AVAIL */
    uint8_t        len;
    uint16_t       op;
    uint8_t        too_long;
    uint8_t        nopnd;
    struct opnd    opnd[3];
    uint8_t        ea_base, ea_index, ea_scale, seg;
    int32_t        disp;
    uint32_t       imm, imm2;
    uint8_t        opsize, addrsize, cond, prefixes;
    uint8_t        cls;
    const char    *text;
};

static const struct decoder_vector decoder_vectors[] = {
    { "add [ebx+4], eax", BYTES("\x01\x43\x04"), .checks = V_OPND | V_EA | V_TEXT,
      .len = 3, .op = OP_ADD, .nopnd = 2, .opnd = { OPND(OPND_MEM, 4, 0), OPND(OPND_REG, 4, R_EAX) },
      .ea_base = R_EBX, .ea_index = NOREG, .seg = SEG_DS, .disp = 4,
      .text = "add dword ptr [ebx + 4], eax" },
    { "66 67 mov ax, [bx+2]", BYTES("\x66\x67\x8B\x47\x02"), .checks = V_OPND | V_EA | V_SIZES | V_PFX,
      .len = 5, .op = OP_MOV, .nopnd = 2, .opnd = { OPND(OPND_REG, 2, R_EAX), OPND(OPND_MEM, 2, 0) },
      .ea_base = R_EBX, .ea_index = NOREG, .seg = SEG_DS, .disp = 2, .opsize = 2, .addrsize = 2,
      .prefixes = PFX_OPSIZE | PFX_ADSIZE },
    { "66 67 in 16-bit code: 32-bit sizes", BYTES("\x66\x67\x8B\x04\x24"), .code16 = true,
      .checks = V_OPND | V_EA | V_SIZES, .len = 5, .op = OP_MOV, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_MEM, 4, 0) },
      .ea_base = R_ESP, .ea_index = NOREG, .seg = SEG_SS, .opsize = 4, .addrsize = 4 },
    { "SIB without base", BYTES("\x8B\x04\x8D\x00\x10\x00\x00"), .checks = V_EA | V_TEXT,
      .len = 7, .op = OP_MOV, .ea_base = NOREG, .ea_index = R_ECX, .ea_scale = 2, .seg = SEG_DS,
      .disp = 0x1000, .text = "mov eax, dword ptr [ecx*4 + 0x1000]" },
    { "SIB no base, no index", BYTES("\x8B\x04\x25\x78\x56\x34\x12"), .checks = V_EA,
      .len = 7, .op = OP_MOV, .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_DS, .disp = 0x12345678 },
    { "SIB base esp -> SS", BYTES("\x8B\x44\x24\xF8"), .checks = V_EA | V_TEXT,
      .len = 4, .op = OP_MOV, .ea_base = R_ESP, .ea_index = NOREG, .seg = SEG_SS, .disp = -8,
      .text = "mov eax, dword ptr [esp - 8]" },
    { "SIB base ebp mod 1 -> SS", BYTES("\x8B\x44\xAD\x00"), .checks = V_EA,
      .len = 4, .op = OP_MOV, .ea_base = R_EBP, .ea_index = R_EBP, .ea_scale = 2, .seg = SEG_SS },
    { "[ebp+disp32] with DS override", BYTES("\x3E\x8B\x85\x00\x01\x00\x00"), .checks = V_EA | V_PFX,
      .len = 7, .op = OP_MOV, .ea_base = R_EBP, .ea_index = NOREG, .seg = SEG_DS, .disp = 0x100,
      .prefixes = PFX_SEG },
    { "16-bit [bp+si] -> SS", BYTES("\x8B\x02"), .code16 = true, .checks = V_EA | V_SIZES,
      .len = 2, .op = OP_MOV, .ea_base = R_EBP, .ea_index = R_ESI, .seg = SEG_SS, .opsize = 2, .addrsize = 2 },
    { "16-bit disp16 absolute", BYTES("\x8B\x06\xFE\xFF"), .code16 = true, .checks = V_EA | V_TEXT,
      .len = 4, .op = OP_MOV, .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_DS, .disp = 0xFFFE,
      .text = "mov ax, word ptr [0xfffe]" },
    { "16-bit [bp-2]", BYTES("\x8B\x46\xFE"), .code16 = true, .checks = V_EA,
      .len = 3, .op = OP_MOV, .ea_base = R_EBP, .ea_index = NOREG, .seg = SEG_SS, .disp = -2 },
    { "moffs32", BYTES("\xA1\x78\x56\x34\x12"), .checks = V_OPND | V_EA,
      .len = 5, .op = OP_MOV, .nopnd = 2, .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_MEM, 4, 0) },
      .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_DS, .disp = 0x12345678 },
    { "moffs16 via 67, FS", BYTES("\x64\x67\xA2\x34\x12"), .checks = V_OPND | V_EA | V_TEXT,
      .len = 5, .op = OP_MOV, .nopnd = 2, .opnd = { OPND(OPND_MEM, 1, 0), OPND(OPND_REG, 1, R_EAX) },
      .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_FS, .disp = 0x1234,
      .text = "mov byte ptr fs:[0x1234], al" },
    { "ENTER", BYTES("\xC8\x10\x00\x01"), .checks = V_OPND | V_IMM | V_TEXT,
      .len = 4, .op = OP_ENTER, .nopnd = 2, .opnd = { OPND(OPND_IMM, 2, 0), OPND(OPND_IMM, 1, 1) },
      .imm = 0x10, .imm2 = 1, .text = "enter 0x10, 1" },
    { "far jmp ptr16:32", BYTES("\xEA\x78\x56\x34\x12\x08\x00"), .checks = V_OPND | V_IMM | V_TEXT,
      .len = 7, .op = OP_JMP_FAR, .nopnd = 1, .opnd = { OPND(OPND_FAR, 6, 0) },
      .imm = 0x12345678, .imm2 = 8, .text = "ljmp 0x8:0x12345678" },
    { "far call ptr16:16 in 16-bit code", BYTES("\x9A\x34\x12\x00\xF0"), .code16 = true,
      .checks = V_OPND | V_IMM, .len = 5, .op = OP_CALL_FAR, .nopnd = 1, .opnd = { OPND(OPND_FAR, 4, 0) },
      .imm = 0x1234, .imm2 = 0xF000 },
    { "jmp far [m16:32]", BYTES("\xFF\x2D\x00\x10\x00\x00"), .checks = V_OPND,
      .len = 6, .op = OP_JMP_FAR, .nopnd = 1, .opnd = { OPND(OPND_MEM, 6, 0) } },
    { "jmp far register form #UD", BYTES("\xFF\xE8"), .len = 2, .op = OP_INVALID },
    { "lock add [ebx], eax", BYTES("\xF0\x01\x03"), .checks = V_PFX, .len = 3, .op = OP_ADD,
      .prefixes = PFX_LOCK },
    { "lock on register destination", BYTES("\xF0\x01\xC3"), .len = 3, .op = OP_INVALID },
    { "lock mov", BYTES("\xF0\x89\x03"), .len = 3, .op = OP_INVALID },
    { "lock cmp mem", BYTES("\xF0\x39\x03"), .len = 3, .op = OP_INVALID },
    { "lock 80 /7 (cmp)", BYTES("\xF0\x80\x38\x01"), .len = 4, .op = OP_INVALID },
    { "lock 80 /6 (xor)", BYTES("\xF0\x80\x30\x01"), .len = 4, .op = OP_XOR },
    { "lock bt mem", BYTES("\xF0\x0F\xBA\x23\x05"), .len = 5, .op = OP_INVALID },
    { "lock bts mem", BYTES("\xF0\x0F\xBA\x2B\x05"), .len = 5, .op = OP_BTS },
    { "lock xchg mem", BYTES("\xF0\x87\x03"), .len = 3, .op = OP_XCHG },
    { "lock xchg eax, ecx", BYTES("\xF0\x91"), .len = 2, .op = OP_INVALID },
    { "lock cmpxchg8b", BYTES("\xF0\x0F\xC7\x0F"), .len = 4, .op = OP_CMPXCHG8B,
      .checks = V_OPND, .nopnd = 1, .opnd = { OPND(OPND_MEM, 8, 0) } },
    { "lock nop", BYTES("\xF0\x90"), .len = 2, .op = OP_INVALID },
    { "lock fadd", BYTES("\xF0\xD8\x00"), .len = 3, .op = OP_INVALID },
    { "14 prefixes + nop = 15 bytes", BYTES("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90"),
      .len = 15, .op = OP_NOP },
    { "15 prefixes + nop: too long", BYTES("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90"),
      .len = 15, .op = OP_INVALID, .too_long = 1 },
    { "16 prefixes: too long", BYTES("\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xF3\xA4"),
      .len = 15, .op = OP_INVALID, .too_long = 1 },
    { "too long in the immediate", BYTES("\x26\x26\x26\x26\x26\x26\x26\x81\x84\x80\x00\x00\x00\x00\x01\x00\x00\x00"),
      .len = 15, .op = OP_INVALID, .too_long = 1 },
    { "too long, only 15 bytes available", BYTES("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"),
      .checks = V_AVAIL, .ret = 15, .len = 15, .op = OP_INVALID, .too_long = 1 },
    { "short: ModRM missing", BYTES("\x8B"), .checks = V_AVAIL, .ret = 0 },
    { "short: displacement missing", BYTES("\x8B\x44\x24"), .checks = V_AVAIL, .ret = 0 },
    { "short: prefixes only", BYTES("\x66\xF0"), .checks = V_AVAIL, .ret = 0 },
    { "exact fit", BYTES("\x0F\x1F\x44\x00\x00"), .checks = V_AVAIL, .ret = 5, .len = 5, .op = OP_NOP },
    { "last segment override wins", BYTES("\x26\x2E\x36\x8B\x00"), .checks = V_EA,
      .len = 5, .op = OP_MOV, .ea_base = R_EAX, .ea_index = NOREG, .seg = SEG_SS },
    { "last of F2/F3 wins", BYTES("\xF2\xF3\xA6"), .checks = V_PFX | V_TEXT, .len = 3, .op = OP_CMPS,
      .prefixes = PFX_REP, .text = "repe cmpsb byte ptr [esi], byte ptr es:[edi]" },
    { "rep movsd, ES source override", BYTES("\xF3\x26\xA5"), .checks = V_OPND | V_EA | V_PFX,
      .len = 3, .op = OP_MOVS, .nopnd = 2, .opnd = { OPND(OPND_STRING, 4, R_EDI), OPND(OPND_STRING, 4, R_ESI) },
      .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_ES, .prefixes = PFX_REP | PFX_SEG },
    { "66 lodsw", BYTES("\x66\xAD"), .checks = V_OPND | V_EA, .len = 2, .op = OP_LODS, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 2, R_EAX), OPND(OPND_STRING, 2, R_ESI) },
      .ea_base = NOREG, .ea_index = NOREG, .seg = SEG_DS },
    { "insb", BYTES("\x6C"), .checks = V_OPND, .len = 1, .op = OP_INS, .nopnd = 2,
      .opnd = { OPND(OPND_STRING, 1, R_EDI), OPND(OPND_REG, 2, R_EDX) } },
    { "jmp short -2", BYTES("\xEB\xFE"), .checks = V_OPND | V_IMM | V_TEXT, .len = 2, .op = OP_JMP,
      .nopnd = 1, .opnd = { OPND(OPND_REL, 4, 0) }, .imm = 0xFFFFFFFE, .text = "jmp 0" },
    { "je rel32", BYTES("\x0F\x84\x00\xFF\xFF\xFF"), .checks = V_IMM | V_COND, .len = 6, .op = OP_JCC,
      .imm = 0xFFFFFF00, .cond = 4 },
    { "jg rel8", BYTES("\x7F\x10"), .checks = V_COND | V_TEXT, .len = 2, .op = OP_JCC, .cond = 15,
      .text = "jg 0x12" },
    { "16-bit call rel16", BYTES("\xE8\xFD\xFF"), .code16 = true, .checks = V_IMM | V_OPND, .len = 3,
      .op = OP_CALL, .imm = 0xFFFFFFFD, .nopnd = 1, .opnd = { OPND(OPND_REL, 2, 0) } },
    { "66 call rel32 in 16-bit code", BYTES("\x66\xE8\x00\x00\x01\x00"), .code16 = true, .checks = V_IMM,
      .len = 6, .op = OP_CALL, .imm = 0x10000 },
    { "jcxz via 67", BYTES("\x67\xE3\x05"), .checks = V_SIZES | V_TEXT, .len = 3, .op = OP_JCXZ,
      .opsize = 4, .addrsize = 2, .text = "jcxz 8" },
    { "add eax, -1 (83 /0 Ibs)", BYTES("\x83\xC0\xFF"), .checks = V_OPND | V_IMM, .len = 3, .op = OP_ADD,
      .nopnd = 2, .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_IMM, 4, 0) }, .imm = 0xFFFFFFFF },
    { "66 add ax, -1", BYTES("\x66\x83\xC0\xFF"), .checks = V_OPND | V_IMM, .len = 4, .op = OP_ADD,
      .nopnd = 2, .opnd = { OPND(OPND_REG, 2, R_EAX), OPND(OPND_IMM, 2, 0) }, .imm = 0xFFFFFFFF },
    { "66 add ax, imm16", BYTES("\x66\x05\x34\x12"), .checks = V_IMM, .len = 4, .op = OP_ADD, .imm = 0x1234 },
    { "push -1 (6A)", BYTES("\x6A\xFF"), .checks = V_IMM | V_OPND, .len = 2, .op = OP_PUSH, .imm = 0xFFFFFFFF,
      .nopnd = 1, .opnd = { OPND(OPND_IMM, 4, 0) } },
    { "imul r, r/m, Ibs", BYTES("\x6B\xC1\x80"), .checks = V_IMM, .len = 3, .op = OP_IMUL, .imm = 0xFFFFFF80 },
    { "and al, 0x80: Ib not sign-extended", BYTES("\x24\x80"), .checks = V_IMM, .len = 2, .op = OP_AND, .imm = 0x80 },
    { "imul eax, ecx (0F AF)", BYTES("\x0F\xAF\xC1"), .checks = V_OPND | V_TEXT, .len = 3, .op = OP_IMUL,
      .nopnd = 3, .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_REG, 4, R_EAX), OPND(OPND_REG, 4, R_ECX) },
      .text = "imul eax, ecx" },
    { "shl eax, 1", BYTES("\xD1\xE0"), .checks = V_OPND | V_IMM, .len = 2, .op = OP_SHL, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_IMM, 1, 0) }, .imm = 1 },
    { "sar byte [eax], cl", BYTES("\xD2\x38"), .checks = V_OPND, .len = 2, .op = OP_SAR, .nopnd = 2,
      .opnd = { OPND(OPND_MEM, 1, 0), OPND(OPND_REG, 1, R_ECX) } },
    { "sal alias C0 /6", BYTES("\xC0\xF0\x03"), .len = 3, .op = OP_SHL },
    { "test alias F6 /1", BYTES("\xF6\xC8\x03"), .len = 3, .op = OP_TEST },
    { "82 alias of 80", BYTES("\x82\xC0\x01"), .len = 3, .op = OP_ADD },
    { "shld [eax], ecx, 4", BYTES("\x0F\xA4\x08\x04"), .checks = V_OPND | V_IMM, .len = 4, .op = OP_SHLD,
      .nopnd = 3, .opnd = { OPND(OPND_MEM, 4, 0), OPND(OPND_REG, 4, R_ECX), OPND(OPND_IMM, 1, 0) }, .imm = 4 },
    { "mov eax, cr0 with mod 0", BYTES("\x0F\x20\x00"), .checks = V_OPND, .len = 3, .op = OP_MOV_FROM_CR,
      .nopnd = 2, .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_CREG, 4, 0) } },
    { "66 mov cr4, ebx", BYTES("\x66\x0F\x22\xE3"), .checks = V_OPND, .len = 4, .op = OP_MOV_TO_CR,
      .nopnd = 2, .opnd = { OPND(OPND_CREG, 4, 4), OPND(OPND_REG, 4, R_EBX) } },
    { "mov cr1 #UD", BYTES("\x0F\x22\xC8"), .len = 3, .op = OP_INVALID },
    { "mov cr5 #UD", BYTES("\x0F\x20\xE8"), .len = 3, .op = OP_INVALID },
    { "mov dr7, eax", BYTES("\x0F\x23\xF8"), .checks = V_OPND, .len = 3, .op = OP_MOV_TO_DR,
      .nopnd = 2, .opnd = { OPND(OPND_DREG, 4, 7), OPND(OPND_REG, 4, R_EAX) } },
    { "mov eax, ds", BYTES("\x8C\xD8"), .checks = V_OPND | V_CLASS, .len = 2, .op = OP_MOV_FROM_SREG, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_SREG, 2, SEG_DS) }, .cls = 0 },
    { "mov [eax], cs", BYTES("\x8C\x08"), .checks = V_OPND | V_CLASS, .len = 2, .op = OP_MOV_FROM_SREG, .nopnd = 2,
      .opnd = { OPND(OPND_MEM, 2, 0), OPND(OPND_SREG, 2, SEG_CS) }, .cls = SENS },
    { "mov ss, ax", BYTES("\x8E\xD0"), .checks = V_OPND | V_CLASS, .len = 2, .op = OP_MOV_TO_SREG, .nopnd = 2,
      .opnd = { OPND(OPND_SREG, 2, SEG_SS), OPND(OPND_REG, 2, R_EAX) }, .cls = SENS | END },
    { "mov cs, ax #UD", BYTES("\x8E\xC8"), .len = 2, .op = OP_INVALID },
    { "mov eax, sreg6 #UD", BYTES("\x8C\xF0"), .len = 2, .op = OP_INVALID },
    { "push cs: sensitive", BYTES("\x0E"), .checks = V_OPND | V_CLASS, .len = 1, .op = OP_PUSH_SREG, .nopnd = 1,
      .opnd = { OPND(OPND_SREG, 4, SEG_CS) }, .cls = SENS },
    { "push ds: not sensitive", BYTES("\x1E"), .checks = V_CLASS, .len = 1, .op = OP_PUSH_SREG, .cls = 0 },
    { "66 push fs", BYTES("\x66\x0F\xA0"), .checks = V_OPND, .len = 3, .op = OP_PUSH_SREG, .nopnd = 1,
      .opnd = { OPND(OPND_SREG, 2, SEG_FS) } },
    { "pop ss", BYTES("\x17"), .checks = V_CLASS, .len = 1, .op = OP_POP_SREG, .cls = SENS | END },
    { "lea reg form #UD", BYTES("\x8D\xC0"), .len = 2, .op = OP_INVALID },
    { "les reg form #UD (VEX on later CPUs)", BYTES("\xC4\xC0\x00"), .len = 2, .op = OP_INVALID },
    { "lds eax, [eax]", BYTES("\xC5\x00"), .checks = V_OPND, .len = 2, .op = OP_LDS, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_MEM, 6, 0) } },
    { "bound", BYTES("\x66\x62\x00"), .checks = V_OPND, .len = 3, .op = OP_BOUND, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 2, R_EAX), OPND(OPND_MEM, 4, 0) } },
    { "lgdt", BYTES("\x0F\x01\x15\x00\x10\x00\x00"), .checks = V_OPND | V_CLASS, .len = 7, .op = OP_LGDT,
      .nopnd = 1, .opnd = { OPND(OPND_MEM, 6, 0) }, .cls = PRIV },
    { "0F 01 C8 (monitor later) #UD", BYTES("\x0F\x01\xC8"), .len = 3, .op = OP_INVALID },
    { "smsw eax", BYTES("\x0F\x01\xE0"), .checks = V_OPND, .len = 3, .op = OP_SMSW, .nopnd = 1,
      .opnd = { OPND(OPND_REG, 4, R_EAX) } },
    { "smsw [eax]", BYTES("\x0F\x01\x20"), .checks = V_OPND, .len = 3, .op = OP_SMSW, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 2, 0) } },
    { "invlpg", BYTES("\x0F\x01\x38"), .checks = V_OPND, .len = 3, .op = OP_INVLPG, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 1, 0) } },
    { "cmpxchg8b reg #UD", BYTES("\x0F\xC7\xC8"), .len = 3, .op = OP_INVALID },
    { "FF /7 #UD", BYTES("\xFF\x38"), .len = 2, .op = OP_INVALID },
    { "8F /1 #UD", BYTES("\x8F\x48\x00"), .len = 3, .op = OP_INVALID },
    { "syscall #UD", BYTES("\x0F\x05"), .len = 2, .op = OP_INVALID },
    { "MMX movq #UD", BYTES("\x0F\x6F\xC1"), .op = OP_INVALID, .len = 2 },
    { "ud2", BYTES("\x0F\x0B"), .checks = V_CLASS, .len = 2, .op = OP_UD2, .cls = CTRL },
    { "long nop", BYTES("\x66\x0F\x1F\x84\x00\x00\x00\x00\x00"), .len = 9, .op = OP_NOP },
    { "hint nop 0F 19", BYTES("\x0F\x19\x00"), .len = 3, .op = OP_NOP },
    { "hint nop 0F 18 /0 (prefetchnta later)", BYTES("\x0F\x18\x00"), .len = 3, .op = OP_NOP },
    { "pause", BYTES("\xF3\x90"), .len = 2, .op = OP_NOP },
    { "salc", BYTES("\xD6"), .len = 1, .op = OP_SALC },
    { "icebp", BYTES("\xF1"), .checks = V_CLASS, .len = 1, .op = OP_INT1, .cls = SENS | CTRL },
    { "int 0x80", BYTES("\xCD\x80"), .checks = V_IMM, .len = 2, .op = OP_INT, .imm = 0x80 },
    { "ret 8", BYTES("\xC2\x08\x00"), .checks = V_IMM, .len = 3, .op = OP_RET, .imm = 8 },
    { "bswap ecx", BYTES("\x0F\xC9"), .checks = V_OPND, .len = 2, .op = OP_BSWAP, .nopnd = 1,
      .opnd = { OPND(OPND_REG, 4, R_ECX) } },
    { "setne [eax] (reg field ignored)", BYTES("\x0F\x95\x38"), .checks = V_COND | V_OPND, .len = 3,
      .op = OP_SETCC, .cond = 5, .nopnd = 1, .opnd = { OPND(OPND_MEM, 1, 0) } },
    { "cmovg eax, [ecx]", BYTES("\x0F\x4F\x01"), .checks = V_COND, .len = 3, .op = OP_CMOVCC, .cond = 15 },
    { "movzx eax, byte [eax]", BYTES("\x0F\xB6\x00"), .checks = V_OPND, .len = 3, .op = OP_MOVZX, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 4, R_EAX), OPND(OPND_MEM, 1, 0) } },
    { "movsx ax, bh", BYTES("\x66\x0F\xBE\xC7"), .checks = V_OPND, .len = 4, .op = OP_MOVSX, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 2, R_EAX), OPND(OPND_REG, 1, 7) } },
    { "in al, dx", BYTES("\xEC"), .checks = V_OPND, .len = 1, .op = OP_IN, .nopnd = 2,
      .opnd = { OPND(OPND_REG, 1, R_EAX), OPND(OPND_REG, 2, R_EDX) } },
    { "out 0x80, eax", BYTES("\xE7\x80"), .checks = V_OPND | V_IMM, .len = 2, .op = OP_OUT, .nopnd = 2,
      .opnd = { OPND(OPND_IMM, 1, 0), OPND(OPND_REG, 4, R_EAX) }, .imm = 0x80 },
    /* x87 */
    { "fadd dword [eax]", BYTES("\xD8\x00"), .checks = V_OPND, .len = 2, .op = OP_FADD, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 4, 0) } },
    { "fadd st(0), st(3)", BYTES("\xD8\xC3"), .checks = V_OPND, .len = 2, .op = OP_FADD, .nopnd = 2,
      .opnd = { OPND(OPND_ST, 10, 0), OPND(OPND_ST, 10, 3) } },
    { "fsub st(2), st(0) (DC E8+i)", BYTES("\xDC\xEA"), .checks = V_OPND, .len = 2, .op = OP_FSUB, .nopnd = 2,
      .opnd = { OPND(OPND_ST, 10, 2), OPND(OPND_ST, 10, 0) } },
    { "fsubr st(2), st(0) (DC E0+i)", BYTES("\xDC\xE2"), .len = 2, .op = OP_FSUBR },
    { "fdivp st(1), st(0) (DE F8+i)", BYTES("\xDE\xF9"), .len = 2, .op = OP_FDIVP },
    { "fld tbyte", BYTES("\xDB\x28"), .checks = V_OPND, .len = 2, .op = OP_FLD, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 10, 0) } },
    { "fild qword", BYTES("\xDF\x28"), .checks = V_OPND, .len = 2, .op = OP_FILD, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 8, 0) } },
    { "fiadd word", BYTES("\xDE\x00"), .checks = V_OPND, .len = 2, .op = OP_FIADD, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 2, 0) } },
    { "fbstp", BYTES("\xDF\x30"), .checks = V_OPND, .len = 2, .op = OP_FBSTP, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 10, 0) } },
    { "fnstenv 28 bytes", BYTES("\xD9\x30"), .checks = V_OPND, .len = 2, .op = OP_FNSTENV, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 28, 0) } },
    { "66 fldenv 14 bytes", BYTES("\x66\xD9\x20"), .checks = V_OPND, .len = 3, .op = OP_FLDENV, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 14, 0) } },
    { "fnsave 108 bytes", BYTES("\xDD\x30"), .checks = V_OPND, .len = 2, .op = OP_FNSAVE, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 108, 0) } },
    { "frstor 94 bytes in 16-bit code", BYTES("\xDD\x20"), .code16 = true, .checks = V_OPND, .len = 2,
      .op = OP_FRSTOR, .nopnd = 1, .opnd = { OPND(OPND_MEM, 94, 0) } },
    { "fnstsw ax", BYTES("\xDF\xE0"), .checks = V_OPND, .len = 2, .op = OP_FNSTSW, .nopnd = 1,
      .opnd = { OPND(OPND_REG, 2, R_EAX) } },
    { "fnstcw", BYTES("\xD9\x38"), .checks = V_OPND, .len = 2, .op = OP_FNSTCW, .nopnd = 1,
      .opnd = { OPND(OPND_MEM, 2, 0) } },
    { "fisttp (SSE3) #UD", BYTES("\xDB\x08"), .len = 2, .op = OP_INVALID },
    { "D9 /1 #UD", BYTES("\xD9\x08"), .len = 2, .op = OP_INVALID },
    { "D9 D1 #UD", BYTES("\xD9\xD1"), .len = 2, .op = OP_INVALID },
    { "fstp1 alias D9 D9", BYTES("\xD9\xD9"), .checks = V_OPND, .len = 2, .op = OP_FSTP, .nopnd = 1,
      .opnd = { OPND(OPND_ST, 10, 1) } },
    { "fxch4 alias DD C9", BYTES("\xDD\xC9"), .len = 2, .op = OP_FXCH },
    { "fxch7 alias DF CA", BYTES("\xDF\xCA"), .len = 2, .op = OP_FXCH },
    { "fstp8 alias DF D1", BYTES("\xDF\xD1"), .len = 2, .op = OP_FSTP },
    { "fstp9 alias DF D9", BYTES("\xDF\xD9"), .len = 2, .op = OP_FSTP },
    { "fcom2 alias DC D1", BYTES("\xDC\xD1"), .len = 2, .op = OP_FCOM },
    { "fcomp3 alias DC D9", BYTES("\xDC\xD9"), .len = 2, .op = OP_FCOMP },
    { "fcomp5 alias DE D1", BYTES("\xDE\xD1"), .len = 2, .op = OP_FCOMP },
    { "ffreep DF C1", BYTES("\xDF\xC1"), .len = 2, .op = OP_FFREEP },
    { "fcompp", BYTES("\xDE\xD9"), .len = 2, .op = OP_FCOMPP },
    { "DE D8 #UD", BYTES("\xDE\xD8"), .len = 2, .op = OP_INVALID },
    { "fucompp", BYTES("\xDA\xE9"), .len = 2, .op = OP_FUCOMPP },
    { "feni no-op", BYTES("\xDB\xE0"), .len = 2, .op = OP_FNOP_LEGACY },
    { "fsetpm no-op", BYTES("\xDB\xE4"), .len = 2, .op = OP_FNOP_LEGACY },
    { "fninit", BYTES("\xDB\xE3"), .len = 2, .op = OP_FNINIT },
    { "fwait is its own instruction", BYTES("\x9B\xDB\xE3"), .len = 1, .op = OP_WAIT },
    { "fcmovb -> cc 2", BYTES("\xDA\xC1"), .checks = V_COND | V_TEXT, .len = 2, .op = OP_FCMOVCC, .cond = 2,
      .text = "fcmovb st(0), st(1)" },
    { "fcmovu -> cc 10", BYTES("\xDA\xD9"), .checks = V_COND, .len = 2, .op = OP_FCMOVCC, .cond = 10 },
    { "fcmovnbe -> cc 7", BYTES("\xDB\xD1"), .checks = V_COND, .len = 2, .op = OP_FCMOVCC, .cond = 7 },
    { "fcmovnu -> cc 11", BYTES("\xDB\xD9"), .checks = V_COND, .len = 2, .op = OP_FCMOVCC, .cond = 11 },
    { "fcomi st(0), st(2)", BYTES("\xDB\xF2"), .checks = V_OPND, .len = 2, .op = OP_FCOMI, .nopnd = 2,
      .opnd = { OPND(OPND_ST, 10, 0), OPND(OPND_ST, 10, 2) } },
    { "fucomip", BYTES("\xDF\xE9"), .len = 2, .op = OP_FUCOMIP },
    /* class refinements and privileged rows */
    { "hlt", BYTES("\xF4"), .checks = V_CLASS, .len = 1, .op = OP_HLT, .cls = PRIV | END },
    { "rdpmc", BYTES("\x0F\x33"), .checks = V_CLASS, .len = 2, .op = OP_RDPMC, .cls = SENS },
    { "sysenter", BYTES("\x0F\x34"), .checks = V_CLASS, .len = 2, .op = OP_SYSENTER, .cls = SENS | CTRL },
    { "rsm", BYTES("\x0F\xAA"), .len = 2, .op = OP_RSM },
};

static void check_vector(const struct decoder_vector *v)
{
    uint8_t buf[32] = { 0 };
    memcpy(buf, v->bytes, v->nbytes);
    struct insn in;
    size_t avail = (v->checks & V_AVAIL) ? v->nbytes : sizeof buf;
    size_t ret = decode_insn(&in, buf, avail, !v->code16);

    if (v->checks & V_AVAIL) {
        ck_assert_msg(ret == v->ret, "%s: returned %zu, expected %zu", v->what, ret, v->ret);
        if (ret == 0)
            return;
    }
    ck_assert_msg(ret == in.len, "%s: return %zu != len %u", v->what, ret, in.len);
    ck_assert_msg(in.len == v->len, "%s: len %u, expected %u", v->what, in.len, v->len);
    ck_assert_msg(in.op == v->op, "%s: op %s, expected %s", v->what, op_info[in.op].mnemonic, op_info[v->op].mnemonic);
    ck_assert_msg(in.too_long == v->too_long, "%s: too_long %u", v->what, in.too_long);
    if (v->checks & V_OPND) {
        ck_assert_msg(in.nopnd == v->nopnd, "%s: nopnd %u, expected %u", v->what, in.nopnd, v->nopnd);
        for (int i = 0; i < v->nopnd; i++) {
            const struct opnd *o = &in.opnd[i], *e = &v->opnd[i];
            ck_assert_msg(o->kind == e->kind && o->size == e->size && o->reg == e->reg,
                          "%s: opnd%d kind/size/reg %u/%u/%u, expected %u/%u/%u", v->what, i,
                          o->kind, o->size, o->reg, e->kind, e->size, e->reg);
        }
    }
    if (v->checks & V_EA) {
        ck_assert_msg(in.ea_base == v->ea_base && in.ea_index == v->ea_index && in.ea_scale == v->ea_scale,
                      "%s: base/index/scale %u/%u/%u", v->what, in.ea_base, in.ea_index, in.ea_scale);
        ck_assert_msg(in.disp == v->disp, "%s: disp %" PRId32 ", expected %" PRId32, v->what, in.disp, v->disp);
        ck_assert_msg(in.seg == v->seg, "%s: seg %u, expected %u", v->what, in.seg, v->seg);
    }
    if (v->checks & V_IMM)
        ck_assert_msg(in.imm == v->imm && in.imm2 == v->imm2, "%s: imm %#x/%#x", v->what, in.imm, in.imm2);
    if (v->checks & V_SIZES)
        ck_assert_msg(in.opsize == v->opsize && in.addrsize == v->addrsize, "%s: sizes %u/%u",
                      v->what, in.opsize, in.addrsize);
    if (v->checks & V_COND)
        ck_assert_msg(in.cond == v->cond, "%s: cond %u, expected %u", v->what, in.cond, v->cond);
    if (v->checks & V_PFX)
        ck_assert_msg(in.prefixes == v->prefixes, "%s: prefixes %#x", v->what, in.prefixes);
    if (v->checks & V_CLASS)
        ck_assert_msg(insn_class(&in) == v->cls, "%s: class %#x, expected %#x", v->what, insn_class(&in), v->cls);
    if (v->checks & V_TEXT) {
        char text[128];
        insn_format(&in, 0, text, sizeof text);
        ck_assert_msg(strcmp(text, v->text) == 0, "%s: text \"%s\", expected \"%s\"", v->what, text, v->text);
    }
}

START_TEST(test_vectors)
{
    check_vector(&decoder_vectors[_i]);
}
END_TEST

/* The returned length of insn_format and truncation into a short buffer. */
START_TEST(test_format_truncation)
{
    static const uint8_t code[] = { 0x01, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00 };
    struct insn in;
    char full[128], small[8];
    decode_insn(&in, code, sizeof code, true);
    int n = insn_format(&in, 0, full, sizeof full);
    ck_assert_int_eq(n, (int)strlen(full));
    ck_assert_str_eq(full, "add dword ptr [eax + ecx*4 + 0x100], eax");
    int m = insn_format(&in, 0, small, sizeof small);
    ck_assert_int_eq(m, 7);
    ck_assert_int_eq((int)strlen(small), 7);
}
END_TEST

/* ---- differential run against Capstone ---- */

#define SAMPLE_BYTES 24

/* Disagreement kinds */
enum {
    D_VALID = 1u << 0,   /* Capstone decodes, fox86 says #UD (or too long) */
    D_LEN   = 1u << 1,
    D_CTRL  = 1u << 2,
    D_PRIV  = 1u << 3,
};

struct sample {
    const uint8_t     *bytes;
    bool               code32;
    const struct insn *fox;
    const cs_insn     *cs;
    unsigned           diff;      /* D_* */
};

struct decoder_exception {
    const char *what;
    const char *why;
    unsigned    excuses;          /* D_* this row may explain */
    bool      (*match)(const struct sample *s);
};

static bool cs_in_group(const cs_insn *ci, unsigned group)
{
    for (int i = 0; i < ci->detail->groups_count; i++)
        if (ci->detail->groups[i] == group)
            return true;
    return false;
}

static bool fox_0f(const struct sample *s, unsigned lo, unsigned hi)
{
    return s->fox->map == 1 && s->fox->opcode >= lo && s->fox->opcode <= hi;
}

static bool fox_1b(const struct sample *s, unsigned opcode)
{
    return s->fox->map == 0 && s->fox->opcode == opcode;
}

static unsigned fox_reg(const struct sample *s) { return (s->fox->modrm >> 3) & 7; }
static bool fox_mod3(const struct sample *s) { return s->fox->modrm >= 0xC0; }

static bool is_prefix_byte(uint8_t b)
{
    return b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x26 || b == 0x2E ||
           b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65;
}

/* fox86's decode of the same bytes with every LOCK prefix removed;
 * *removed = how many were. */
static struct insn decode_without_lock(const struct sample *s, unsigned *removed)
{
    uint8_t copy[SAMPLE_BYTES];
    unsigned n = 0, i = 0;
    for (; i < SAMPLE_BYTES && is_prefix_byte(s->bytes[i]); i++)
        if (s->bytes[i] != 0xF0)
            copy[n++] = s->bytes[i];
    *removed = i - n;
    for (; i < SAMPLE_BYTES; i++)
        copy[n++] = s->bytes[i];
    struct insn in;
    decode_insn(&in, copy, n, s->code32);
    return in;
}

/* True when fox86 rejects only because of LOCK: the lock-free form is
 * valid and, LOCKs counted back in, as long as Capstone's decode. */
static bool rejected_for_lock(const struct sample *s, struct insn *unlocked)
{
    unsigned removed;
    if (!(s->fox->prefixes & PFX_LOCK) || s->fox->too_long)
        return false;
    *unlocked = decode_without_lock(s, &removed);
    return unlocked->op != OP_INVALID && unlocked->len + removed == s->cs->size;
}

static bool m_mmx_sse(const struct sample *s)
{
    return fox_0f(s, 0x10, 0x17) || fox_0f(s, 0x28, 0x2F) || fox_0f(s, 0x38, 0x3A) ||
           (fox_0f(s, 0x50, 0x7F) && s->fox->opcode != 0x78 && s->fox->opcode != 0x79) ||
           fox_0f(s, 0xC2, 0xC6) || fox_0f(s, 0xD0, 0xFE);
}

static bool m_0fae(const struct sample *s) { return fox_0f(s, 0xAE, 0xAE); }

/* Where fox86 reads ModRM for a #UD row, its length must still be Capstone's. */
static bool same_len(const struct sample *s) { return s->fox->len == s->cs->size; }

static bool m_0fc7(const struct sample *s)
{
    return fox_0f(s, 0xC7, 0xC7) && (fox_reg(s) != 1 || fox_mod3(s)) && same_len(s);
}

static bool m_0f01_reg(const struct sample *s)
{
    return fox_0f(s, 0x01, 0x01) && fox_mod3(s) && fox_reg(s) != 4 && fox_reg(s) != 6 && same_len(s);
}

static bool m_vmx(const struct sample *s) { return fox_0f(s, 0x78, 0x79); }
static bool m_syscall(const struct sample *s) { return fox_0f(s, 0x05, 0x05) || fox_0f(s, 0x07, 0x07); }
static bool m_amd_prefetch(const struct sample *s) { return fox_0f(s, 0x0D, 0x0D); }
static bool m_3dnow(const struct sample *s) { return fox_0f(s, 0x0E, 0x0F); }
static bool m_getsec(const struct sample *s) { return fox_0f(s, 0x37, 0x37); }
static bool m_popcnt(const struct sample *s) { return fox_0f(s, 0xB8, 0xB8); }
static bool m_padlock(const struct sample *s) { return fox_0f(s, 0xA6, 0xA7); }

static bool m_ud1_ud0(const struct sample *s)
{
    return (s->cs->id == X86_INS_UD2B && fox_0f(s, 0xB9, 0xB9)) ||
           (s->cs->id == X86_INS_UD0 && fox_0f(s, 0xFF, 0xFF));
}

static bool m_bad_cr(const struct sample *s)
{
    unsigned cr = fox_reg(s);
    return fox_0f(s, 0x20, 0x22) && s->fox->opcode != 0x21 && (cr == 1 || cr >= 5) && same_len(s);
}

static bool m_mov_cs(const struct sample *s)
{
    return ((fox_1b(s, 0x8E) && fox_reg(s) == SEG_CS) ||
            ((fox_1b(s, 0x8C) || fox_1b(s, 0x8E)) && fox_reg(s) > SEG_GS)) && same_len(s);
}

static bool m_fisttp(const struct sample *s)
{
    return s->cs->id == X86_INS_FISTTP && !fox_mod3(s) && fox_reg(s) == 1 &&
           (fox_1b(s, 0xDB) || fox_1b(s, 0xDD) || fox_1b(s, 0xDF)) && same_len(s);
}

/* VEX/EVEX take the place of a register-form ModRM; XOP (8F) is any ModRM
 * whose low five bits ("map select") are 8 or more, i.e. reg & 3 != 0. */
static bool m_vex_evex_xop(const struct sample *s)
{
    return ((fox_1b(s, 0xC4) || fox_1b(s, 0xC5) || fox_1b(s, 0x62)) && fox_mod3(s)) ||
           (fox_1b(s, 0x8F) && (fox_reg(s) & 3) != 0);
}

static bool m_tsx(const struct sample *s)
{
    return (s->cs->id == X86_INS_XABORT || s->cs->id == X86_INS_XBEGIN) && s->fox->modrm == 0xF8;
}

static bool m_lock_dropped(const struct sample *s)
{
    struct insn unlocked;
    return rejected_for_lock(s, &unlocked) && s->cs->detail->x86.prefix[0] != X86_PREFIX_LOCK;
}

static bool m_lock_reg_dest(const struct sample *s)
{
    struct insn u;
    if (!rejected_for_lock(s, &u) || u.opnd[0].kind != OPND_REG)
        return false;
    for (int i = 1; i < u.nopnd; i++)
        if (u.opnd[i].kind == OPND_MEM)
            return true;
    return false;
}

static bool m_lock_nop(const struct sample *s)
{
    struct insn u;
    return rejected_for_lock(s, &u) && u.op == OP_NOP;
}

/* Also when fox86 rejects the string for a LOCK that Capstone dropped:
 * then the lock-free decode must be this CALL. */
static bool m_call_66_rep(const struct sample *s)
{
    struct insn in = *s->fox;
    unsigned removed;
    if (in.op == OP_INVALID && (in.prefixes & PFX_LOCK) && s->cs->detail->x86.prefix[0] != X86_PREFIX_LOCK)
        in = decode_without_lock(s, &removed);
    return in.op == OP_CALL && in.map == 0 && in.opcode == 0xE8 && (in.prefixes & PFX_OPSIZE) &&
           (in.prefixes & (PFX_REP | PFX_REPNE));
}

static bool m_ud2(const struct sample *s) { return s->fox->op == OP_UD2; }
static bool m_rsm(const struct sample *s) { return s->fox->op == OP_RSM; }
static bool m_cli_sti(const struct sample *s) { return s->fox->op == OP_CLI || s->fox->op == OP_STI; }
static bool m_iret(const struct sample *s) { return s->fox->op == OP_IRET; }
static bool m_sreg_load(const struct sample *s) { return s->fox->op == OP_POP_SREG || s->fox->op == OP_MOV_TO_SREG; }
static bool m_clts_rdmsr(const struct sample *s) { return s->fox->op == OP_CLTS || s->fox->op == OP_RDMSR; }
static bool m_rdpmc(const struct sample *s) { return s->fox->op == OP_RDPMC; }
static bool m_str(const struct sample *s) { return s->fox->op == OP_STR; }

/* Tried in order; the first row that excuses every disagreement of a string
 * and matches it takes the hit. */
static const struct decoder_exception decoder_exceptions[] = {
    /* encodings a Pentium Pro does not have (fox86: #UD, Capstone decodes) */
    { "MMX/SSE/SSE2+ opcodes (0F 10-17, 28-2F, 38, 3A, 50-7F, C2-C6, D0-FE)",
      "no MMX or SSE on a Pentium Pro: #UD", D_VALID, m_mmx_sse },
    { "0F AE (FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, XSAVE*, CLFLUSH, fences)",
      "Pentium II and later (FXSR, SSE, SSE2, XSAVE): #UD on a Pentium Pro", D_VALID, m_0fae },
    { "0F C7 other than CMPXCHG8B m64 (RDRAND, RDSEED, VMPTRLD/ST, VMCLEAR, VMXON, XSAVES, XRSTORS, XSAVEC)",
      "later extensions: #UD on a Pentium Pro", D_VALID, m_0fc7 },
    { "0F 01 register forms of /0-/3, /5, /7 (VMCALL, MONITOR/MWAIT, XGETBV, SWAPGS, RDTSCP, SVM, CLAC/STAC ...)",
      "later extensions: #UD on a Pentium Pro", D_VALID, m_0f01_reg },
    { "0F 78/79 VMREAD/VMWRITE", "VMX: #UD on a Pentium Pro", D_VALID, m_vmx },
    { "0F 05/07 SYSCALL/SYSRET", "AMD K6 and 64-bit: #UD on a Pentium Pro", D_VALID, m_syscall },
    { "0F 0D PREFETCH/PREFETCHW", "AMD 3DNow!; only later Intel parts made it a NOP", D_VALID, m_amd_prefetch },
    { "0F 0E FEMMS, 0F 0F 3DNow!", "AMD only", D_VALID, m_3dnow },
    { "0F 37 GETSEC", "SMX: #UD on a Pentium Pro", D_VALID, m_getsec },
    { "0F B8 POPCNT/JMPE", "SSE4.2 / IA-64 only: #UD on a Pentium Pro", D_VALID, m_popcnt },
    { "0F A6/A7 VIA PadLock (XSTORE, XCRYPT*, XSHA*)",
      "VIA C3 and later only (the 486 A-step CMPXCHG there is gone too): #UD on a Pentium Pro", D_VALID, m_padlock },
    { "0F B9 (ud2b) and 0F FF (ud0)",
      "Capstone names them; fox86 decodes OP_INVALID, the same #UD (Capstone takes no ModRM for them)",
      D_VALID, m_ud1_ud0 },
    { "DB/DD/DF /1 FISTTP", "SSE3: #UD on a Pentium Pro", D_VALID, m_fisttp },
    { "VEX (C4/C5), EVEX (62) with mod = 3, XOP (8F with ModRM.reg & 3 != 0)",
      "AVX/AVX-512/XOP prefixes on later CPUs; on a Pentium Pro the register form of LES/LDS/BOUND "
      "and 8F /1-/7 are #UD", D_VALID, m_vex_evex_xop },
    { "C6 F8 XABORT, C7 F8 XBEGIN", "TSX; C6/C7 /7 are #UD on a Pentium Pro", D_VALID, m_tsx },
    { "MOV to/from CR1, CR5-CR7", "Capstone decodes them; the SDM makes them #UD", D_VALID, m_bad_cr },
    { "MOV CS, r/m and MOV with segment register 6/7",
      "Capstone decodes them; the CPU raises #UD", D_VALID, m_mov_cs },
    { "LOCK followed by F2/F3", "Capstone keeps only the last group-1 prefix and drops LOCK; the CPU "
      "still sees LOCK and raises #UD on an unlockable form", D_VALID, m_lock_dropped },
    { "LOCK on a register destination with a memory source (e.g. lock add eax, [ebx])",
      "Capstone accepts LOCK whenever an operand is in memory; the SDM requires a memory destination (#UD)",
      D_VALID, m_lock_reg_dest },
    { "LOCK on a hint NOP (0F 18-1F)", "Capstone accepts it; NOP is not lockable (#UD)", D_VALID, m_lock_nop },
    /* length */
    { "66 F2/F3 E8 (CALL rel16 behind REP prefixes; also with a LOCK Capstone drops)",
      "Capstone 4 drops the 66 when F2/F3 follows it and reads rel32", D_LEN | D_VALID, m_call_66_rep },
    /* class */
    { "UD2", "fox86: CTRL (never falls through); Capstone: no group", D_CTRL, m_ud2 },
    { "RSM", "fox86: CTRL, not PRIV (#UD outside SMM at any CPL); Capstone: PRIVILEGE, no branch group",
      D_CTRL | D_PRIV, m_rsm },
    { "CLI/STI", "fox86: IOPL (checked against IOPL, not CPL 0); Capstone: PRIVILEGE", D_PRIV, m_cli_sti },
    { "IRET", "fox86: SENS|CTRL (works at any CPL); Capstone: PRIVILEGE", D_PRIV, m_iret },
    { "POP sreg, MOV sreg, r/m", "fox86: SENS|END (unprivileged); Capstone: PRIVILEGE", D_PRIV, m_sreg_load },
    { "CLTS, RDMSR", "privileged (#GP at CPL > 0); Capstone leaves them out of PRIVILEGE", D_PRIV, m_clts_rdmsr },
    { "RDPMC", "fox86: SENS (CPL > 0 allowed when CR4.PCE = 1); Capstone: PRIVILEGE", D_PRIV, m_rdpmc },
    { "STR", "fox86: SENS (unprivileged, Robin & Irvine); Capstone: PRIVILEGE", D_PRIV, m_str },
};
#define N_EXCEPTIONS (sizeof decoder_exceptions / sizeof decoder_exceptions[0])

struct rng { uint64_t s; };

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static unsigned rng_below(struct rng *r, unsigned n)
{
    return (unsigned)((rng_next(r) >> 32) % n);
}

/* A random instruction-ish byte string: random bytes with, on top, a
 * biased choice of prefixes, opcode and ModRM. */
static void make_sample(struct rng *r, uint8_t out[SAMPLE_BYTES])
{
    static const uint8_t prefixes[] = { 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 };
    static const uint8_t one_byte_groups[] = {
        0x80, 0x81, 0x82, 0x83, 0x8F, 0xC0, 0xC1, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2, 0xD3, 0xF6, 0xF7, 0xFE,
        0xFF, 0x62, 0x63, 0x8C, 0x8D, 0x8E, 0xC4, 0xC5, 0xA0, 0xA1, 0xA2, 0xA3, 0x9A, 0xEA, 0xC8,
    };
    static const uint8_t two_byte_groups[] = {
        0x00, 0x01, 0xBA, 0xC7, 0x18, 0x19, 0x1F, 0x20, 0x21, 0x22, 0x23, 0xAE, 0xB9, 0xFF,
    };
    unsigned pos = 0;

    for (int i = 0; i < SAMPLE_BYTES; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(out + i, &v, 8);
    }
    unsigned roll = rng_below(r, 100), nprefix;
    if (roll < 55)
        nprefix = 0;
    else if (roll < 80)
        nprefix = 1;
    else if (roll < 95)
        nprefix = 2 + rng_below(r, 3);
    else
        nprefix = 5 + rng_below(r, 12);
    for (unsigned i = 0; i < nprefix; i++)
        out[pos++] = prefixes[rng_below(r, sizeof prefixes)];

    roll = rng_below(r, 100);
    if (roll < 40) {
        pos++;                                          /* any one-byte opcode */
    } else if (roll < 65) {
        out[pos++] = 0x0F;
        pos++;
    } else if (roll < 80) {
        out[pos++] = (uint8_t)(0xD8 + rng_below(r, 8));
    } else if (roll < 92) {
        out[pos++] = one_byte_groups[rng_below(r, sizeof one_byte_groups)];
    } else {
        out[pos++] = 0x0F;
        out[pos++] = two_byte_groups[rng_below(r, sizeof two_byte_groups)];
    }
    /* ModRM: favour register forms and SIB forms a little */
    roll = rng_below(r, 100);
    if (roll < 25)
        out[pos] |= 0xC0;
    else if (roll < 45)
        out[pos] = (uint8_t)((out[pos] & 0xF8) | 4);
}

static bool cs_is_ctrl(const cs_insn *ci)
{
    return cs_in_group(ci, X86_GRP_JUMP) || cs_in_group(ci, X86_GRP_CALL) || cs_in_group(ci, X86_GRP_RET) ||
           cs_in_group(ci, X86_GRP_INT) || cs_in_group(ci, X86_GRP_IRET) ||
           cs_in_group(ci, X86_GRP_BRANCH_RELATIVE);
}

static unsigned long env_number(const char *name, unsigned long fallback)
{
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 0) : fallback;
}

static void print_sample(const char *tag, const struct sample *s)
{
    char text[128];
    insn_format(s->fox, 0, text, sizeof text);
    printf("%s m%d diff=%x cs=\"%s %s\" len %u | fox=\"%s\" len %u | bytes", tag, s->code32 ? 32 : 16,
           s->diff, s->cs->mnemonic, s->cs->op_str, s->cs->size, text, s->fox->len);
    for (unsigned i = 0; i < 16; i++)
        printf(" %02x", s->bytes[i]);
    printf("\n");
}

START_TEST(test_against_capstone)
{
    unsigned long per_mode = env_number("FOX86_DECODER_N", 1000000);
    struct rng rng = { env_number("FOX86_DECODER_SEED", 0x9E3779B97F4A7C15ULL) | 1 };
    unsigned long verbose = env_number("FOX86_DECODER_VERBOSE", 0);
    unsigned long hits[N_EXCEPTIONS] = { 0 };
    unsigned long compared = 0, agreed = 0, unexplained = 0, cs_failed = 0, cs_failed_fox_valid = 0;

    for (int mode = 0; mode < 2; mode++) {
        bool code32 = mode == 0;
        csh handle;
        ck_assert_int_eq(cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &handle), CS_ERR_OK);
        cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
        cs_insn *ci = cs_malloc(handle);

        for (unsigned long n = 0; n < per_mode; n++) {
            uint8_t bytes[SAMPLE_BYTES];
            make_sample(&rng, bytes);
            struct insn in;
            size_t ret = decode_insn(&in, bytes, sizeof bytes, code32);
            ck_assert_msg(ret == in.len && ret >= 1 && ret <= INSN_MAX_LEN, "bad length %zu", ret);

            const uint8_t *p = bytes;
            size_t size = sizeof bytes;
            uint64_t addr = 0;
            if (!cs_disasm_iter(handle, &p, &size, &addr, ci)) {
                cs_failed++;
                cs_failed_fox_valid += in.op != OP_INVALID;
                if (verbose > 1 && in.op != OP_INVALID) {
                    char text[128];
                    insn_format(&in, 0, text, sizeof text);
                    printf("CSFAIL m%d fox=\"%s\" len %u | bytes", code32 ? 32 : 16, text, in.len);
                    for (unsigned i = 0; i < 16; i++)
                        printf(" %02x", bytes[i]);
                    printf("\n");
                }
                continue;
            }
            compared++;
            struct sample s = { .bytes = bytes, .code32 = code32, .fox = &in, .cs = ci };
            uint8_t cls = insn_class(&in);
            if (in.op == OP_INVALID) {
                s.diff = D_VALID;
            } else {
                if (in.len != ci->size)
                    s.diff |= D_LEN;
                if (!!(cls & CTRL) != cs_is_ctrl(ci))
                    s.diff |= D_CTRL;
                if (!!(cls & PRIV) != cs_in_group(ci, X86_GRP_PRIVILEGE))
                    s.diff |= D_PRIV;
            }
            if (!s.diff) {
                agreed++;
                continue;
            }
            size_t e = 0;
            while (e < N_EXCEPTIONS &&
                   !((s.diff & ~decoder_exceptions[e].excuses) == 0 && decoder_exceptions[e].match(&s)))
                e++;
            if (e < N_EXCEPTIONS) {
                hits[e]++;
                continue;
            }
            if (verbose || unexplained < 20)
                print_sample("UNEXPLAINED", &s);
            unexplained++;
        }
        cs_free(ci, 1);
        cs_close(&handle);
    }

    printf("decoder vs Capstone: %lu strings, %lu decoded by Capstone and compared, %lu agree, "
           "%lu explained by exceptions, %lu unexplained; Capstone refused %lu (fox86 decodes %lu of them)\n",
           2 * per_mode, compared, agreed, compared - agreed - unexplained, unexplained, cs_failed,
           cs_failed_fox_valid);
    for (size_t e = 0; e < N_EXCEPTIONS; e++)
        printf("  %8lu  %s\n", hits[e], decoder_exceptions[e].what);
    ck_assert_msg(unexplained == 0, "%lu disagreements with Capstone not explained", unexplained);
}
END_TEST

static Suite *decoder_suite(void)
{
    Suite *s = suite_create("decoder");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_table_modrm_flags);
    tcase_add_loop_test(tc, test_vectors, 0, (int)(sizeof decoder_vectors / sizeof decoder_vectors[0]));
    tcase_add_test(tc, test_format_truncation);
    suite_add_tcase(s, tc);
    tc = tcase_create("capstone");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_against_capstone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decoder_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
