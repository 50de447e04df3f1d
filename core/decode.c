/* core/decode.c: bytes -> struct insn for the i686, plus the class and the
 * trace text of a decoded instruction.
 *
 * decode_insn() reads prefixes, the opcode (one-byte or 0F map), ModRM, SIB,
 * displacement and immediates as the row of opcodes.c describes them, and
 * turns each operand spec into a struct opnd. Everything that makes an
 * encoding #UD at decode time is decided here: a blank row, a memory-only
 * operand with mod == 3, LOCK on an unlockable form, segment register 6/7 or
 * a load of CS, CR1/CR5-CR7. Run-time conditions (CPL, CR4.DE for DR4/DR5,
 * SMM for RSM ...) are the handlers' business.
 *
 * Conventions beyond insn.h:
 *   - Prefixes: any number, any order; the last segment override wins and
 *     the last of F2/F3 wins (the other bit is cleared). More than 15 bytes
 *     in all: OP_INVALID, len 15, too_long = 1 (the CPU raises #GP(0)).
 *   - insn.seg is the memory operand's segment: the override, else SS for
 *     BP/EBP/ESP-based addresses, else DS. String instructions: the source
 *     segment (ES:eDI is fixed).
 *   - moffs (A0-A3): OPND_MEM with no base, no index, disp = the offset.
 *   - Immediates: Ib/Iw zero-extended; Ibs, Jb, Jz sign-extended; Iz is
 *     2 or 4 bytes by operand size. OPND_IMM/OPND_REL sizes are the
 *     operation's operand size (Ibs of 83 /x has the size of Ev).
 *   - ENTER: opnd0 = imm (Iw), opnd1 = imm2 (Ib). Far pointer Ap: OPND_FAR,
 *     imm = offset, imm2 = selector, size 4 or 6.
 *   - String instructions: OPND_STRING operands, reg R_ESI (source, at
 *     insn.seg) or R_EDI (at ES), size = element size; AL/eAX/DX as REG.
 *   - Shifts: count opnd1 = IMM 1 (D0/D1), IMM Ib (C0/C1), REG CL (D2/D3).
 *   - PUSH/POP of a segment register: OPND_SREG with size = operand size
 *     (the stack slot); MOV to/from Sw: size 2 except a register
 *     destination of 8C (operand size).
 *   - MOV CR/DR: the ModRM mod bits are ignored, the r/m register is 32-bit.
 *   - LOCK is accepted only on an OF_LOCK row whose destination (opnd0) is
 *     memory, whatever other prefixes come with it; anything else is #UD.
 *   - OP_INVALID keeps map, opcode, modrm and prefixes for diagnostics but
 *     has nopnd = 0.
 *
 * Usage:
 *   struct insn in;
 *   size_t n = decode_insn(&in, code, 15, true);
 *   char text[96];
 *   insn_format(&in, eip, text, sizeof text);   -> "add dword ptr [ebx + 4], eax"
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu.h"
#include "insn.h"
#include "opcodes.h"

enum fetch_status { FETCH_OK, FETCH_SHORT, FETCH_TOO_LONG };

struct byte_reader {
    const uint8_t *bytes;
    size_t   avail;
    unsigned pos;          /* next byte to read; may pass 15 on a too-long instruction */
    int      status;       /* enum fetch_status of the first failed read */
};

/* Little-endian read of n bytes. A failed read returns garbage and records
 * the first failure; the caller checks status once at the end. */
static uint32_t fetch(struct byte_reader *r, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned p = r->pos + i;
        if (p >= INSN_MAX_LEN || p >= r->avail) {
            if (r->status == FETCH_OK)
                r->status = p >= INSN_MAX_LEN ? FETCH_TOO_LONG : FETCH_SHORT;
            break;
        }
        v |= (uint32_t)r->bytes[p] << (8 * i);
    }
    r->pos += n;
    return v;
}

static bool spec_is_modrm_rm(unsigned spec)
{
    return spec >= Eb && spec <= Mstate;
}

static bool spec_is_memory_only(unsigned spec)
{
    return spec >= M && spec <= Mstate;
}

/* Memory operand size of an r/m spec, for the memory form. */
static uint8_t mem_size(unsigned spec, unsigned opsize)
{
    switch (spec) {
    case Eb: case Mb: return 1;
    case Ew: case Mw: case RvMw: return 2;
    case Md: return 4;
    case Mq: return 8;
    case Mt: return 10;
    case Mp: return (uint8_t)(opsize + 2);
    case Ms: return 6;
    case Ma: return (uint8_t)(opsize * 2);
    case Menv: return opsize == 4 ? 28 : 14;
    case Mstate: return opsize == 4 ? 108 : 94;
    case Mfx: return 0;                 /* 512: the handlers know */
    default: return (uint8_t)opsize;    /* Ev, M */
    }
}

/* ModRM memory form: base, index, scale, displacement, default segment. */
static void decode_ea(struct byte_reader *r, struct insn *in, unsigned mod, unsigned rm)
{
    static const uint8_t base16[8]  = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
    static const uint8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, EA_NONE, EA_NONE, EA_NONE, EA_NONE };

    if (in->addrsize == 2) {
        if (mod == 0 && rm == 6) {
            in->disp = (int32_t)fetch(r, 2);
        } else {
            in->ea_base = base16[rm];
            in->ea_index = index16[rm];
            if (mod == 1)
                in->disp = (int8_t)fetch(r, 1);
            else if (mod == 2)
                in->disp = (int16_t)fetch(r, 2);
        }
    } else {
        in->ea_base = (uint8_t)rm;
        if (rm == 4) {
            uint8_t sib = (uint8_t)fetch(r, 1);
            unsigned index = (sib >> 3) & 7;
            in->ea_base = sib & 7;
            if (index != R_ESP) {
                in->ea_index = (uint8_t)index;
                in->ea_scale = sib >> 6;
            }
            if (in->ea_base == R_EBP && mod == 0) {
                in->ea_base = EA_NONE;
                in->disp = (int32_t)fetch(r, 4);
            }
        } else if (rm == 5 && mod == 0) {
            in->ea_base = EA_NONE;
            in->disp = (int32_t)fetch(r, 4);
        }
        if (mod == 1)
            in->disp = (int8_t)fetch(r, 1);
        else if (mod == 2)
            in->disp = (int32_t)fetch(r, 4);
    }
    if (in->ea_base == R_EBP || in->ea_base == R_ESP)
        in->seg = SEG_SS;
}

static struct opnd reg_opnd(unsigned kind, unsigned size, unsigned reg)
{
    return (struct opnd){ .kind = (uint8_t)kind, .size = (uint8_t)size, .reg = (uint8_t)reg };
}

/* Immediate of n bytes into imm (first) or imm2 (second). */
static struct opnd imm_opnd(struct byte_reader *r, struct insn *in, unsigned n,
                            uint32_t value_if_read, bool sign, unsigned size, unsigned *nimm)
{
    uint32_t v = n ? fetch(r, n) : value_if_read;
    if (sign && n == 1)
        v = (uint32_t)(int32_t)(int8_t)v;
    else if (sign && n == 2)
        v = (uint32_t)(int32_t)(int16_t)v;
    unsigned which = (*nimm)++;
    if (which == 0)
        in->imm = v;
    else
        in->imm2 = v;
    return reg_opnd(OPND_IMM, size, which);
}

/* Turn one operand spec into in->opnd[i]; returns false if the encoding is
 * invalid because of this operand. */
static bool decode_operand(struct byte_reader *r, struct insn *in, unsigned spec, int i,
                           unsigned *nimm)
{
    unsigned opsize = in->opsize;
    unsigned mod = in->modrm >> 6, reg = (in->modrm >> 3) & 7, rm = in->modrm & 7;
    unsigned low3 = in->opcode & 7;
    struct opnd *o = &in->opnd[i];

    if (spec_is_modrm_rm(spec) && spec != Rd) {
        if (mod != 3) {
            *o = reg_opnd(OPND_MEM, mem_size(spec, opsize), 0);
            return true;
        }
        if (spec_is_memory_only(spec))
            return false;
        unsigned size = spec == Eb ? 1 : spec == Ew ? 2 : opsize;
        *o = reg_opnd(OPND_REG, size, rm);
        return true;
    }

    switch (spec) {
    case Rd:  *o = reg_opnd(OPND_REG, 4, rm); return true;
    case Gb:  *o = reg_opnd(OPND_REG, 1, reg); return true;
    case Gw:  *o = reg_opnd(OPND_REG, 2, reg); return true;
    case Gv:  *o = reg_opnd(OPND_REG, opsize, reg); return true;
    case Sw:
        *o = reg_opnd(OPND_SREG, 2, reg);
        return reg <= SEG_GS && !(i == 0 && reg == SEG_CS);
    case Cd:
        *o = reg_opnd(OPND_CREG, 4, reg);
        return reg == 0 || (reg >= 2 && reg <= 4);
    case Dd:  *o = reg_opnd(OPND_DREG, 4, reg); return true;

    case Ib:  *o = imm_opnd(r, in, 1, 0, false, 1, nimm); return true;
    case Ibs: *o = imm_opnd(r, in, 1, 0, true, opsize, nimm); return true;
    case Iw:  *o = imm_opnd(r, in, 2, 0, false, 2, nimm); return true;
    case Iz:
    case Iv:  *o = imm_opnd(r, in, opsize, 0, false, opsize, nimm); return true;
    case I1:  *o = imm_opnd(r, in, 0, 1, false, 1, nimm); return true;
    case Jb:
    case Jz:
        *o = imm_opnd(r, in, spec == Jb ? 1 : opsize, 0, true, opsize, nimm);
        o->kind = OPND_REL;
        return true;
    case Ap:
        in->imm = fetch(r, opsize);
        in->imm2 = fetch(r, 2);
        *o = reg_opnd(OPND_FAR, opsize + 2, 0);
        return true;
    case Ob:
    case Ov:
        in->disp = (int32_t)fetch(r, in->addrsize);
        *o = reg_opnd(OPND_MEM, spec == Ob ? 1 : opsize, 0);
        return true;

    case AL:  *o = reg_opnd(OPND_REG, 1, R_EAX); return true;
    case CL:  *o = reg_opnd(OPND_REG, 1, R_ECX); return true;
    case AX:  *o = reg_opnd(OPND_REG, 2, R_EAX); return true;
    case DX:  *o = reg_opnd(OPND_REG, 2, R_EDX); return true;
    case eAX: *o = reg_opnd(OPND_REG, opsize, R_EAX); return true;
    case Zb:  *o = reg_opnd(OPND_REG, 1, low3); return true;
    case Zv:  *o = reg_opnd(OPND_REG, opsize, low3); return true;
    case sES: *o = reg_opnd(OPND_SREG, opsize, SEG_ES); return true;
    case sCS: *o = reg_opnd(OPND_SREG, opsize, SEG_CS); return true;
    case sSS: *o = reg_opnd(OPND_SREG, opsize, SEG_SS); return true;
    case sDS: *o = reg_opnd(OPND_SREG, opsize, SEG_DS); return true;
    case sFS: *o = reg_opnd(OPND_SREG, opsize, SEG_FS); return true;
    case sGS: *o = reg_opnd(OPND_SREG, opsize, SEG_GS); return true;
    case Xb:  *o = reg_opnd(OPND_STRING, 1, R_ESI); return true;
    case Xv:  *o = reg_opnd(OPND_STRING, opsize, R_ESI); return true;
    case Yb:  *o = reg_opnd(OPND_STRING, 1, R_EDI); return true;
    case Yv:  *o = reg_opnd(OPND_STRING, opsize, R_EDI); return true;
    case ST0: *o = reg_opnd(OPND_ST, 10, 0); return true;
    case STi: *o = reg_opnd(OPND_ST, 10, rm); return true;
    default:  return false;
    }
}

size_t decode_insn(struct insn *in, const uint8_t *bytes, size_t avail, bool code32)
{
    struct byte_reader r = { .bytes = bytes, .avail = avail };
    int seg_override = -1;
    uint8_t b;

    memset(in, 0, sizeof *in);
    in->ea_base = in->ea_index = EA_NONE;
    in->seg = SEG_DS;

    for (;;) {
        b = (uint8_t)fetch(&r, 1);
        if (r.status != FETCH_OK)
            break;
        switch (b) {
        case 0x26: seg_override = SEG_ES; continue;
        case 0x2E: seg_override = SEG_CS; continue;
        case 0x36: seg_override = SEG_SS; continue;
        case 0x3E: seg_override = SEG_DS; continue;
        case 0x64: seg_override = SEG_FS; continue;
        case 0x65: seg_override = SEG_GS; continue;
        case 0x66: in->prefixes |= PFX_OPSIZE; continue;
        case 0x67: in->prefixes |= PFX_ADSIZE; continue;
        case 0xF0: in->prefixes |= PFX_LOCK; continue;
        case 0xF2: in->prefixes = (in->prefixes & ~PFX_REP) | PFX_REPNE; continue;
        case 0xF3: in->prefixes = (in->prefixes & ~PFX_REPNE) | PFX_REP; continue;
        }
        break;
    }
    in->opsize = (code32 != !!(in->prefixes & PFX_OPSIZE)) ? 4 : 2;
    in->addrsize = (code32 != !!(in->prefixes & PFX_ADSIZE)) ? 4 : 2;

    if (b == 0x0F) {
        in->map = 1;
        b = (uint8_t)fetch(&r, 1);
    }
    in->opcode = b;
    const struct opcode_row *row = in->map ? &opcode_map_0f[b] : &opcode_map_1b[b];

    if (row->flags & OF_MODRM) {
        in->has_modrm = 1;
        in->modrm = (uint8_t)fetch(&r, 1);
        unsigned mod = in->modrm >> 6, reg = (in->modrm >> 3) & 7;
        if (row->group != GRP_NONE)
            row = &opcode_groups[row->group][reg];
        else if (row->flags & OF_X87)
            row = mod == 3 ? &x87_reg_ops[b - 0xD8][in->modrm - 0xC0] : &x87_mem_ops[b - 0xD8][reg];
        if (mod != 3 && row->opnd[0] != Rd && row->opnd[1] != Rd)
            decode_ea(&r, in, mod, in->modrm & 7);
    }
    if (seg_override >= 0) {
        in->prefixes |= PFX_SEG;
        in->seg = (uint8_t)seg_override;
    }

    bool valid = row->op != OP_INVALID;
    unsigned nimm = 0;
    for (int i = 0; i < 3 && row->opnd[i] != OS_NONE; i++) {
        if (!decode_operand(&r, in, row->opnd[i], i, &nimm))
            valid = false;
        in->nopnd = (uint8_t)(i + 1);
    }
    if ((in->prefixes & PFX_LOCK) && !((row->flags & OF_LOCK) && in->opnd[0].kind == OPND_MEM))
        valid = false;
    if (row->flags & OF_CC)
        in->cond = b & 0x0F;
    else if (row->flags & OF_FCC)
        in->cond = row->cond;

    if (r.status == FETCH_SHORT)
        return 0;
    in->op = valid ? row->op : OP_INVALID;
    if (r.status == FETCH_TOO_LONG) {
        in->op = OP_INVALID;
        in->too_long = 1;
        r.pos = INSN_MAX_LEN;
    }
    if (in->op == OP_INVALID)
        in->nopnd = 0;
    in->len = (uint8_t)r.pos;
    return r.pos;
}

uint8_t insn_class(const struct insn *in)
{
    uint8_t cls = op_info[in->op].cls;
    /* Only CS and SS reveal the CPL (in their RPL); reading ES/DS/FS/GS
     * shows nothing the guest did not load itself. */
    if ((in->op == OP_PUSH_SREG || in->op == OP_MOV_FROM_SREG) &&
        in->opnd[in->op == OP_PUSH_SREG ? 0 : 1].reg != SEG_CS &&
        in->opnd[in->op == OP_PUSH_SREG ? 0 : 1].reg != SEG_SS)
        cls &= (uint8_t)~SENS;
    return cls;
}

/* ---- trace text ---- */

struct text_buf {
    char  *buf;
    size_t size;
    size_t len;            /* characters that would have been written */
};

__attribute__((format(printf, 2, 3)))
static void put(struct text_buf *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static const char *const reg_names[3][8] = {
    { "al", "cl", "dl", "bl", "ah", "ch", "dh", "bh" },
    { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di" },
    { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" },
};
static const char *const sreg_names[8] = { "es", "cs", "ss", "ds", "fs", "gs", "?", "?" };
static const char *const cc_names[16] = {
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
};

static const char *gpr_name(unsigned reg, unsigned size)
{
    return reg_names[size == 1 ? 0 : size == 2 ? 1 : 2][reg & 7];
}

static const char *ptr_name(unsigned size)
{
    switch (size) {
    case 1:  return "byte ptr ";
    case 2:  return "word ptr ";
    case 4:  return "dword ptr ";
    case 6:  return "fword ptr ";
    case 8:  return "qword ptr ";
    case 10: return "tbyte ptr ";
    default: return "";
    }
}

static void put_hex(struct text_buf *t, uint32_t v)
{
    if (v < 10)
        put(t, "%u", v);
    else
        put(t, "0x%x", v);
}

static void put_mnemonic(struct text_buf *t, const struct insn *in)
{
    static const char *const fcmov_names[16] = {
        [2] = "fcmovb", [3] = "fcmovnb", [4] = "fcmove", [5] = "fcmovne",
        [6] = "fcmovbe", [7] = "fcmovnbe", [10] = "fcmovu", [11] = "fcmovnu",
    };
    bool o16 = in->opsize == 2;
    const char *m = op_info[in->op].mnemonic;

    if (in->prefixes & PFX_LOCK)
        put(t, "lock ");
    switch (in->op) {
    case OP_MOVS: case OP_CMPS: case OP_STOS: case OP_LODS: case OP_SCAS:
    case OP_INS: case OP_OUTS: {
        bool compares = in->op == OP_CMPS || in->op == OP_SCAS;
        if (in->prefixes & PFX_REPNE)
            put(t, "repne ");
        else if (in->prefixes & PFX_REP)
            put(t, compares ? "repe " : "rep ");
        unsigned size = in->opnd[in->opnd[0].kind == OPND_STRING ? 0 : 1].size;
        put(t, "%s%c", m, size == 1 ? 'b' : size == 2 ? 'w' : 'd');
        return;
    }
    case OP_JCC:     put(t, "j%s", cc_names[in->cond]); return;
    case OP_SETCC:   put(t, "set%s", cc_names[in->cond]); return;
    case OP_CMOVCC:  put(t, "cmov%s", cc_names[in->cond]); return;
    case OP_FCMOVCC: put(t, "%s", fcmov_names[in->cond] ? fcmov_names[in->cond] : "fcmov?"); return;
    case OP_CBW:     m = o16 ? "cbw" : "cwde"; break;
    case OP_CWD:     m = o16 ? "cwd" : "cdq"; break;
    case OP_PUSHA:   m = o16 ? "pusha" : "pushad"; break;
    case OP_POPA:    m = o16 ? "popa" : "popad"; break;
    case OP_PUSHF:   m = o16 ? "pushf" : "pushfd"; break;
    case OP_POPF:    m = o16 ? "popf" : "popfd"; break;
    case OP_IRET:    m = o16 ? "iret" : "iretd"; break;
    case OP_JCXZ:    m = in->addrsize == 2 ? "jcxz" : "jecxz"; break;
    default: break;
    }
    put(t, "%s", m);
}

static void put_mem(struct text_buf *t, const struct insn *in, unsigned size)
{
    const char *plus = "";
    if (in->op != OP_LEA)
        put(t, "%s", ptr_name(size));
    if (in->prefixes & PFX_SEG)
        put(t, "%s:", sreg_names[in->seg & 7]);
    put(t, "[");
    if (in->ea_base != EA_NONE) {
        put(t, "%s", gpr_name(in->ea_base, in->addrsize));
        plus = " + ";
    }
    if (in->ea_index != EA_NONE) {
        put(t, "%s%s", plus, gpr_name(in->ea_index, in->addrsize));
        if (in->ea_scale)
            put(t, "*%u", 1u << in->ea_scale);
        plus = " + ";
    }
    if (!*plus) {
        put_hex(t, in->addrsize == 2 ? (uint16_t)in->disp : (uint32_t)in->disp);
    } else if (in->disp < 0) {
        put(t, " - ");
        put_hex(t, (uint32_t)-(int64_t)in->disp);
    } else if (in->disp > 0) {
        put(t, " + ");
        put_hex(t, (uint32_t)in->disp);
    }
    put(t, "]");
}

static uint32_t mask_to(uint32_t v, unsigned size)
{
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void put_operand(struct text_buf *t, const struct insn *in, const struct opnd *o, uint32_t eip)
{
    switch (o->kind) {
    case OPND_REG:  put(t, "%s", gpr_name(o->reg, o->size)); break;
    case OPND_MEM:  put_mem(t, in, o->size); break;
    case OPND_IMM:  put_hex(t, mask_to(o->reg ? in->imm2 : in->imm, o->size)); break;
    case OPND_REL:  put_hex(t, mask_to(eip + in->len + in->imm, o->size)); break;
    case OPND_FAR:  put(t, "0x%x:", in->imm2); put_hex(t, in->imm); break;
    case OPND_SREG: put(t, "%s", sreg_names[o->reg & 7]); break;
    case OPND_CREG: put(t, "cr%u", o->reg); break;
    case OPND_DREG: put(t, "dr%u", o->reg); break;
    case OPND_ST:   put(t, "st(%u)", o->reg); break;
    case OPND_STRING: {
        const char *si = in->addrsize == 2 ? "si" : "esi", *di = in->addrsize == 2 ? "di" : "edi";
        if (o->reg == R_EDI)
            put(t, "%ses:[%s]", ptr_name(o->size), di);
        else if (in->prefixes & PFX_SEG)
            put(t, "%s%s:[%s]", ptr_name(o->size), sreg_names[in->seg & 7], si);
        else
            put(t, "%s[%s]", ptr_name(o->size), si);
        break;
    }
    default: break;
    }
}

int insn_format(const struct insn *in, uint32_t eip, char *buf, size_t bufsize)
{
    struct text_buf t = { .buf = buf, .size = bufsize };
    if (bufsize)
        buf[0] = '\0';
    put_mnemonic(&t, in);
    const char *sep = " ";
    for (int i = 0; i < in->nopnd; i++) {
        if (i == 1 && in->op == OP_IMUL && in->map == 1)
            continue;      /* 0F AF is stored as Gv, Gv, Ev: show Intel's two operands */
        put(&t, "%s", sep);
        put_operand(&t, in, &in->opnd[i], eip);
        sep = ", ";
    }
    size_t n = t.len < bufsize ? t.len : (bufsize ? bufsize - 1 : 0);
    return (int)n;
}
