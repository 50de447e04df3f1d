/* core/fpu.c: the x87 instructions (every OP_F* of ops.def), as a Pentium
 * Pro executes them. The arithmetic is fx80.c's; this file is the stack,
 * the tags, the status and control words, exceptions, memory formats and
 * the environment images.
 *
 * Order of work in every handler (SDM Vol. 1 ch. 8, Vol. 3A 2.5 / 12):
 *   1. #NM when CR0.EM or CR0.TS is set (every ESC opcode; WAIT is in
 *      exec_sysinsn.c and checks MP & TS only).
 *   2. Waiting instructions (all but FNINIT FNCLEX FNSTCW FNSTSW FNSTENV
 *      FNSAVE and the 8087/287 legacy no-ops) check for a pending unmasked
 *      exception (FSW.ES, fpu_check_pending): #MF with CR0.NE = 1; with
 *      NE = 0 they assert FERR# through cpu->fpu_ferr and go on. (A PC then
 *      freezes the instruction until IRQ 13 is taken; here the IRQ 13
 *      handler runs after it instead. FERR# is dropped when ES clears.)
 *   3. Memory operands are read (and stores checked or done) before any
 *      x87 state changes, so a #GP/#SS/#PF leaves the x87 untouched.
 *   4. Non-control instructions record FOP (11 bits: low 3 bits of the
 *      escape byte, ModRM), FIP/FCS (first byte, prefixes included) and,
 *      with a memory operand, FDP/FDS. Control instructions (FNINIT FNCLEX
 *      FLDCW FNSTCW FNSTSW FLDENV FNSTENV FRSTOR FNSAVE) leave them alone.
 *
 * Invariants:
 *   - cpu->fpu.tw holds the abridged tags, as the hardware keeps them
 *     since the P6: each register empty (11) or not (00); the full tags
 *     (valid/zero/special) are computed from the contents where an image
 *     shows them (FNSTENV, FNSAVE), and FLDENV/FRSTOR take only
 *     empty/non-empty from the image. (Host code of the translator writes
 *     registers without classifying their values.)
 *   - FSW.ES and FSW.B are set exactly when an unmasked exception flag is
 *     set (B mirrors ES on the 387 and later); FLDCW, FLDENV, FRSTOR and
 *     FNSTENV recompute them from the flags and the new masks.
 *
 * Exceptions (SDM Vol. 1 8.5, checked against a Core-family host x87):
 *   - stack overflow (push onto a non-empty ST(7)) / underflow (an operand
 *     register is empty): IE and SF, C1 = 1 / 0. Masked: the destination
 *     gets the real indefinite (a push still pushes it, a pop still pops);
 *     unmasked: nothing but the flags changes. SF is sticky.
 *   - IE, DE, ZE unmasked: neither the destination nor TOP changes.
 *   - OE, UE unmasked with a register destination: the exponent-wrapped
 *     result is written (fx80 returns it when env.unmasked says so) and the
 *     instruction completes; with a memory destination (FST m32/m64) nothing
 *     is stored and nothing is popped. PE: the result is delivered.
 *   - An unmasked IE, DE or ZE stops an operation before rounding: only
 *     those flags are reported (no PE/UE/OE) and C1 is cleared.
 *   - C1 after an arithmetic result is fx80's round-up indicator; after a
 *     stack fault it is the overflow bit; most other instructions clear it
 *     (FCMOVcc and FCOMI* leave it). C0, C2, C3 are left alone where the
 *     SDM calls them undefined, as the hardware does.
 *   - Compares write their result (unordered after IE) even when IE is
 *     unmasked; only their pops are skipped.
 *   - FLD m32/m64 of a denormal with DE unmasked still pushes the value.
 *   - FPREM/FPREM1 with a NaN result or an unmasked fault clear C1 and C2
 *     and keep C0/C3; FPTAN/FSINCOS/FSIN/FCOS stack faults clear C2;
 *     FPTAN of a NaN pushes that NaN, not 1.0.
 *   - D9 D8+i (the undocumented FSTP1 alias) with an empty ST(0) stores
 *     nothing, raises nothing and pops; DF D0+i/D8+i act like DD D8+i.
 * These details were settled by tests/unit/test_fpu.c, which compares
 * every form against the host's x87 on random states.
 *   - DE for a denormal m32/m64 source is raised by the operation, not the
 *     load: it is dropped when IE or ZE decides the result, and a NaN in
 *     memory reaches the arithmetic still signalling, so SNaN/QNaN
 *     propagation is that of two register operands.
 *
 * Precision control (SDM Vol. 1 8.1.5.2) affects FADD FSUB FSUBR FMUL FDIV
 * FDIVR in all forms (P, integer) and FSQRT only; fx80 applies it to
 * exactly those operations, so every other instruction (loads, FSCALE,
 * FPREM, FRNDINT, transcendentals, constants) delivers 64 bits.
 *
 * Environment images (SDM Vol. 1 8.1.10, figures 8-9 to 8-12): 14 bytes
 * (16-bit operand size) or 28 bytes (32-bit), protected-mode or real/V86
 * layout; reserved upper halves of the 32-bit images are stored as 0xFFFF.
 * In the real-mode layouts FIP and FDP are 20/32-bit linear addresses
 * (selector * 16 + offset); loading one sets the selector to 0.
 */
#include <string.h>

#include "exec.h"
#include "flags.h"
#include "fpu.h"
#include "fx80.h"

/* status word */
enum {
    SW_IE = 0x0001, SW_DE = 0x0002, SW_ZE = 0x0004, SW_OE = 0x0008, SW_UE = 0x0010,
    SW_PE = 0x0020, SW_SF = 0x0040, SW_ES = 0x0080, SW_C0 = 0x0100, SW_C1 = 0x0200,
    SW_C2 = 0x0400, SW_TOP = 0x3800, SW_C3 = 0x4000, SW_B = 0x8000,
};
#define SW_EXCEPTIONS 0x003Fu
#define SW_CC (SW_C0 | SW_C1 | SW_C2 | SW_C3)

/* control word: masks 0-5, bit 6 reads as 1, PC 8-9, RC 10-11, X 12 */
#define CW_IM 0x0001u
#define CW_MASKS 0x003Fu
#define CW_STORED 0x1F3Fu
#define CW_ONE 0x0040u
#define CW_INIT 0x037Fu

enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/* Which preamble a handler runs (fpu_begin). */
enum {
    FPU_WAITING = 1u << 0,   /* checks for a pending unmasked exception */
};

/* ---- registers, tags, TOP ------------------------------------------------ */

static inline unsigned fpu_top(const struct fpu *f) { return (f->sw >> FPU_SW_TOP_SHIFT) & 7; }

static inline void fpu_set_top(struct fpu *f, unsigned top)
{
    f->sw = (uint16_t)((f->sw & ~SW_TOP) | ((top & 7) << FPU_SW_TOP_SHIFT));
}

static inline unsigned st_phys(const struct fpu *f, unsigned i) { return (fpu_top(f) + i) & 7; }

static inline unsigned tag_of_phys(const struct fpu *f, unsigned phys) { return (f->tw >> (2 * phys)) & 3; }

static inline void tag_set_phys(struct fpu *f, unsigned phys, unsigned tag)
{
    f->tw = (uint16_t)((f->tw & ~(3u << (2 * phys))) | (tag << (2 * phys)));
}

bool fpu_same(const struct fpu *a, const struct fpu *b)
{
    for (unsigned phys = 0; phys < 8; phys++)
        if (a->r[phys].mant != b->r[phys].mant || a->r[phys].sign_exp != b->r[phys].sign_exp)
            return false;
    return a->cw == b->cw && a->sw == b->sw && a->tw == b->tw && a->fop == b->fop &&
           a->fip == b->fip && a->fcs == b->fcs && a->fdp == b->fdp && a->fds == b->fds;
}

/* The full tag of a register's contents (as if it were not empty). */
static inline unsigned tag_of_value(uint16_t sign_exp, uint64_t mant)
{
    unsigned exp = sign_exp & 0x7FFF;
    if (exp == 0 && mant == 0)
        return TAG_ZERO;
    if (exp == 0x7FFF || exp == 0 || !(mant >> 63))
        return TAG_SPECIAL;    /* NaN, infinity, denormal, unnormal */
    return TAG_VALID;
}

static inline bool st_empty(const struct fpu *f, unsigned i) { return tag_of_phys(f, st_phys(f, i)) == TAG_EMPTY; }

static inline struct fx80 st_get(const struct fpu *f, unsigned i)
{
    const struct fpu_reg *r = &f->r[st_phys(f, i)];
    return (struct fx80){ .mant = r->mant, .sign_exp = r->sign_exp };
}

static inline void st_put(struct fpu *f, unsigned i, struct fx80 v)
{
    unsigned phys = st_phys(f, i);
    f->r[phys] = (struct fpu_reg){ .mant = v.mant, .sign_exp = v.sign_exp };
    tag_set_phys(f, phys, TAG_VALID);
}

static inline void st_free(struct fpu *f, unsigned i) { tag_set_phys(f, st_phys(f, i), TAG_EMPTY); }

static inline void fpu_pop(struct fpu *f)
{
    st_free(f, 0);
    fpu_set_top(f, fpu_top(f) + 1);
}

static inline void fpu_push(struct fpu *f, struct fx80 v)
{
    fpu_set_top(f, fpu_top(f) - 1);
    st_put(f, 0, v);
}

/* ---- status word, exceptions, FERR# ---------------------------------------- */

static inline void set_cc(struct fpu *f, uint16_t which, uint16_t bits)
{
    f->sw = (uint16_t)((f->sw & ~which) | (bits & which));
}

static inline void set_c1(struct fpu *f, bool on) { set_cc(f, SW_C1, on ? SW_C1 : 0); }

static void ferr_level(struct cpu *cpu, bool level)
{
    if (cpu->fpu_ferr)
        cpu->fpu_ferr(cpu->fpu_ferr_opaque, level);
}

/* After FSW flags or CW masks were replaced: ES and B summarise the unmasked
 * flags again; FERR# drops if an error was pending before and is no more. */
static void es_recompute(struct cpu *cpu, bool was_pending)
{
    struct fpu *f = &cpu->fpu;
    if (f->sw & ~f->cw & SW_EXCEPTIONS)
        f->sw |= SW_ES | SW_B;
    else
        f->sw &= (uint16_t)~(SW_ES | SW_B);
    if (was_pending && !(f->sw & SW_ES))
        ferr_level(cpu, false);
}

/* ORs raised flags (and SF) into FSW, sets ES/B when one is unmasked;
 * returns the unmasked exception bits. */
static inline unsigned fpu_signal(struct fpu *f, unsigned raised)
{
    f->sw |= (uint16_t)(raised & (SW_EXCEPTIONS | SW_SF));
    unsigned unmasked = raised & ~f->cw & SW_EXCEPTIONS;
    if (unmasked)
        f->sw |= SW_ES | SW_B;
    return unmasked;
}

/* Stack overflow / underflow: IE + SF, C1 = overflow. True when IE is
 * masked, i.e. the caller delivers the masked response. */
static bool stack_fault(struct fpu *f, bool overflow)
{
    set_c1(f, overflow);
    return fpu_signal(f, SW_IE | SW_SF) == 0;
}

/* Reports the exceptions of a computed operation. An unmasked IE, DE or ZE
 * stops the operation before its result is rounded: only those flags are
 * reported, C1 is cleared, and false says the result must be dropped.
 * Otherwise every raised flag is reported and C1 is the round-up bit. */
static inline bool fpu_finish(struct fpu *f, const struct fx80_env *env)
{
    unsigned before_rounding = env->exceptions & (SW_IE | SW_DE | SW_ZE);
    if (before_rounding & ~f->cw) {
        fpu_signal(f, before_rounding);
        set_c1(f, false);
        return false;
    }
    fpu_signal(f, env->exceptions);
    set_c1(f, env->c1_round_up);
    return true;
}

/* Completes an operation whose result goes to ST(i). True when written. */
static inline bool commit_reg(struct fpu *f, unsigned i, struct fx80 value, const struct fx80_env *env)
{
    if (!fpu_finish(f, env))
        return false;
    st_put(f, i, value);
    return true;
}

bool fpu_check_pending(struct cpu *cpu)
{
    if (!(cpu->fpu.sw & SW_ES))
        return false;
    if (cpu->cr0 & CR0_NE)
        cpu_raise(cpu, EXC_MF, NO_ERROR_CODE);
    ferr_level(cpu, true);
    return true;
}

/* Steps 1 and 2 of the file comment. */
static inline void fpu_begin(struct cpu *cpu, unsigned kind)
{
    if (cpu->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(cpu, EXC_NM, NO_ERROR_CODE);
    if ((kind & FPU_WAITING) && (cpu->fpu.sw & SW_ES))   /* the call only when pending */
        fpu_check_pending(cpu);
}

static inline bool has_mem_operand(const struct insn *in)
{
    return in->nopnd > 0 && in->opnd[0].kind == OPND_MEM;
}

/* Step 4: the last-instruction pointers of a non-control instruction.
 * Called once the instruction can no longer fault. */
/* A memory operand the caller already checked and translated (fpu_fast):
 * its host address and effective address. Handlers take NULL for the
 * interpreter's own path (segment checks, TLB, faults). */
struct fpu_mem {
    uint8_t *host;
    uint32_t ea;
};

static inline void fpu_note_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    f->fop = (uint16_t)(((in->opcode & 7u) << 8) | in->modrm);
    f->fip = cpu->eip;
    f->fcs = cpu->seg[SEG_CS].sel;
    if (has_mem_operand(in)) {
        f->fdp = m ? m->ea : insn_ea(cpu, in);
        f->fds = cpu->seg[in->seg].sel;
    }
}

static inline void fpu_note(struct cpu *cpu, const struct insn *in) { fpu_note_m(cpu, in, NULL); }

#define FPU_INLINE static inline __attribute__((always_inline))

/* ---- memory operands --------------------------------------------------------- */

/* A 2-, 4- or 8-byte store to a checked host address (fpu_fast). */
static inline void store_host(uint8_t *host, uint64_t bits, int size)
{
    uint32_t v32 = (uint32_t)bits;
    uint16_t v16 = (uint16_t)bits;
    switch (size) {
    case 2:  __builtin_memcpy(host, &v16, 2); break;
    case 4:  __builtin_memcpy(host, &v32, 4); break;
    default: __builtin_memcpy(host, &bits, 8); break;
    }
}

/* Offset of byte k of the memory operand (wrapping with 16-bit addressing). */
static inline uint32_t mem_off(const struct cpu *cpu, const struct insn *in, uint32_t k)
{
    uint32_t off = insn_ea(cpu, in) + k;
    return in->addrsize == 2 ? (off & 0xFFFF) : off;
}

/* m64 reads and writes with the common case inline: both 4-byte halves
 * aligned and reachable through cpu_host_ptr (which checks the segment and
 * the TLB for each), else the full path of mem.c, which raises the faults.
 * A write is done only when both halves can be, so it is never partial.
 * With EFLAGS.AC set the full path decides (#AC for an m64 that is only
 * 4-byte aligned). */
static inline uint64_t read_m64(struct cpu *cpu, int seg, uint32_t off)
{
    const uint8_t *lo, *hi;
    uint64_t v;
    /* cpu_host_ptr's checks hold for an aligned 8-byte access as well */
    if ((lo = cpu_host_ptr(cpu, seg, off, 8, MEM_READ))) {
        __builtin_memcpy(&v, lo, 8);
        return v;
    }
    if (off <= UINT32_MAX - 7 && !(cpu->eflags & FL_AC) && (lo = cpu_host_ptr(cpu, seg, off, 4, MEM_READ)) &&
        (hi = cpu_host_ptr(cpu, seg, off + 4, 4, MEM_READ)))
        return host_load(lo, 4) | (uint64_t)host_load(hi, 4) << 32;
    return cpu_read64(cpu, seg, off);
}

static inline void write_m64(struct cpu *cpu, int seg, uint32_t off, uint64_t v)
{
    uint8_t *lo, *hi;
    if ((lo = cpu_host_ptr(cpu, seg, off, 8, MEM_WRITE))) {
        __builtin_memcpy(lo, &v, 8);
        return;
    }
    if (off <= UINT32_MAX - 7 && !(cpu->eflags & FL_AC) && (lo = cpu_host_ptr(cpu, seg, off, 4, MEM_WRITE)) &&
        (hi = cpu_host_ptr(cpu, seg, off + 4, 4, MEM_WRITE))) {
        host_store(lo, (uint32_t)v, 4);
        host_store(hi, (uint32_t)(v >> 32), 4);
        return;
    }
    cpu_write64(cpu, seg, off, v);
}

static struct fx80 read_m80(struct cpu *cpu, const struct insn *in)
{
    uint64_t mant = cpu_read64(cpu, in->seg, mem_off(cpu, in, 0));
    uint16_t sign_exp = cpu_read16(cpu, in->seg, mem_off(cpu, in, 8));
    return (struct fx80){ .mant = mant, .sign_exp = sign_exp };
}

/* An m80 store is two stores, significand then sign and exponent, as the
 * host CPU does it: when the operand straddles a page and the second part
 * faults, the first 8 bytes are already written (SDM Vol. 3 8.1.1 allows
 * partial writes for accesses wider than a quadword). */
static void write_m80(struct cpu *cpu, const struct insn *in, struct fx80 v)
{
    cpu_write64(cpu, in->seg, mem_off(cpu, in, 0), v.mant);
    cpu_write16(cpu, in->seg, mem_off(cpu, in, 8), v.sign_exp);
}

static void read_bytes(struct cpu *cpu, const struct insn *in, uint8_t *buf, uint32_t len)
{
    for (uint32_t k = 0; k < len; k++)
        buf[k] = cpu_read8(cpu, in->seg, mem_off(cpu, in, k));
}

/* Stores len bytes after checking all of them (so a fault writes nothing). */
static void write_bytes(struct cpu *cpu, const struct insn *in, const uint8_t *buf, uint32_t len)
{
    cpu_check_access(cpu, in->seg, mem_off(cpu, in, 0), len, MEM_WRITE);
    for (uint32_t k = 0; k < len; k++)
        cpu_write8(cpu, in->seg, mem_off(cpu, in, k), buf[k]);
}

/* A real (m32/m64/m80) or integer (m16/m32/m64) source operand as an fx80
 * for arithmetic and compares. NaNs are widened as they are (a signalling
 * NaN stays signalling for the operation to report); *denormal tells that
 * an m32/m64 source was denormal (DE is the operation's to raise). */
/* A 2-, 4- or 8-byte memory operand: from m's host address, else through
 * the interpreter's accessors. */
FPU_INLINE uint64_t load_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m, int size)
{
    if (m) {   /* constant sizes: a variable-size memcpy is a call or REP MOVS */
        uint64_t v;
        uint32_t v32;
        uint16_t v16;
        switch (size) {
        case 2:  __builtin_memcpy(&v16, m->host, 2); return v16;
        case 4:  __builtin_memcpy(&v32, m->host, 4); return v32;
        default: __builtin_memcpy(&v, m->host, 8); return v;
        }
    }
    uint32_t off = mem_off(cpu, in, 0);
    switch (size) {
    case 2:  return cpu_read16(cpu, in->seg, off);
    case 4:  return cpu_read_sized(cpu, in->seg, off, 4);
    default: return read_m64(cpu, in->seg, off);
    }
}

FPU_INLINE struct fx80 read_source_m(struct cpu *cpu, const struct insn *in, bool integer, bool *denormal,
                                     const struct fpu_mem *m)
{
    int size = in->opnd[0].size;
    struct fx80_env scratch = { 0 };
    *denormal = false;
    if (integer) {
        switch (size) {
        case 2:  return fx80_from_i16((int16_t)load_m(cpu, in, m, 2));
        case 4:  return fx80_from_i32((int32_t)load_m(cpu, in, m, 4));
        default: return fx80_from_i64((int64_t)load_m(cpu, in, m, 8));
        }
    }
    if (size == 4) {
        uint32_t bits = (uint32_t)load_m(cpu, in, m, 4);
        uint32_t exp = (bits >> 23) & 0xFF;
        if (exp - 1 < 0xFE)   /* normal: exact, as fx80_from_f32 does it */
            return (struct fx80){ .mant = UINT64_C(0x8000000000000000) | (uint64_t)(bits & 0x007FFFFFu) << 40,
                                  .sign_exp = (uint16_t)((bits >> 31) << 15 | (exp - 127 + 16383)) };
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu))
            return fx80_make(bits >> 31, 0x7FFF, (UINT64_C(1) << 63) | ((uint64_t)(bits & 0x007FFFFFu) << 40));
        struct fx80 v = fx80_from_f32(&scratch, bits);
        *denormal = scratch.exceptions & FX80_EX_DE;
        return v;
    }
    if (size == 8) {
        uint64_t bits = load_m(cpu, in, m, 8);
        uint64_t frac = bits & UINT64_C(0x000FFFFFFFFFFFFF);
        uint32_t exp = (uint32_t)(bits >> 52) & 0x7FF;
        if (exp - 1 < 0x7FE)   /* normal: exact, as fx80_from_f64 does it */
            return (struct fx80){ .mant = UINT64_C(0x8000000000000000) | frac << 11,
                                  .sign_exp = (uint16_t)((bits >> 63) << 15 | (exp - 1023 + 16383)) };
        if (exp == 0x7FF && frac)
            return fx80_make(bits >> 63, 0x7FFF, (UINT64_C(1) << 63) | (frac << 11));
        struct fx80 v = fx80_from_f64(&scratch, bits);
        *denormal = scratch.exceptions & FX80_EX_DE;
        return v;
    }
    return read_m80(cpu, in);
}

/* DE from a denormal memory source, unless a NaN other operand, IE or ZE
 * decided the result. */
static inline void add_source_denormal(struct fx80_env *env, bool denormal, struct fx80 other)
{
    if (denormal && !fx80_is_nan(other) && !(env->exceptions & (FX80_EX_IE | FX80_EX_ZE)))
        env->exceptions |= FX80_EX_DE;
}

/* ---- loads and stores ------------------------------------------------------------ */

/* Pushes a loaded value v (or, on overflow, the masked response). env has
 * the conversion's exceptions (FLD m32/m64): an unmasked IE (SNaN) stops
 * the push; an unmasked DE does not (the hardware loads the denormal). */
static inline void push_checked(struct fpu *f, struct fx80 v, const struct fx80_env *env)
{
    if (!st_empty(f, 7)) {
        if (stack_fault(f, true))
            fpu_push(f, fx80_indefinite());
        return;
    }
    set_c1(f, false);
    if (env && (fpu_signal(f, env->exceptions) & SW_IE))
        return;
    fpu_push(f, v);
}

FPU_INLINE void fld_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    if (in->opnd[0].kind == OPND_ST) {
        unsigned src = in->opnd[0].reg;
        fpu_note(cpu, in);
        if (st_empty(f, src)) {
            if (stack_fault(f, false))
                fpu_push(f, fx80_indefinite());
            return;
        }
        push_checked(f, st_get(f, src), NULL);
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    struct fx80 v;
    if (in->opnd[0].size == 8) {
        uint64_t bits = load_m(cpu, in, m, 8);
        unsigned top = (fpu_top(f) - 1) & 7;
        uint32_t exp = (uint32_t)(bits >> 52) & 0x7FF;
        if (exp - 1 < 0x7FE && tag_of_phys(f, top) == TAG_EMPTY) {
            /* the common case: a normal double onto a free register, which
             * is exact and raises nothing (push_checked's work, inline) */
            fpu_note_m(cpu, in, m);
            f->r[top] = (struct fpu_reg){
                .mant = UINT64_C(0x8000000000000000) | (bits & UINT64_C(0x000FFFFFFFFFFFFF)) << 11,
                .sign_exp = (uint16_t)((bits >> 63) << 15 | (exp - 1023 + 16383)),
            };
            tag_set_phys(f, top, TAG_VALID);
            f->sw = (uint16_t)((f->sw & ~(SW_TOP | SW_C1)) | top << FPU_SW_TOP_SHIFT);
            return;
        }
        v = fx80_from_f64(&env, bits);
        fpu_note_m(cpu, in, m);
        push_checked(f, v, &env);
        return;
    }
    if (in->opnd[0].size == 4)
        v = fx80_from_f32(&env, (uint32_t)load_m(cpu, in, m, 4));
    else
        v = read_m80(cpu, in);
    fpu_note_m(cpu, in, m);
    push_checked(f, v, &env);
}

static void exec_fld(struct cpu *cpu, const struct insn *in) { fld_m(cpu, in, NULL); }

FPU_INLINE void fild_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    bool unused;
    fpu_begin(cpu, FPU_WAITING);
    struct fx80 v = read_source_m(cpu, in, true, &unused, m);
    fpu_note_m(cpu, in, m);
    push_checked(&cpu->fpu, v, NULL);
}

static void exec_fild(struct cpu *cpu, const struct insn *in) { fild_m(cpu, in, NULL); }

static void exec_fbld(struct cpu *cpu, const struct insn *in)
{
    uint8_t bcd[10];
    fpu_begin(cpu, FPU_WAITING);
    read_bytes(cpu, in, bcd, 10);
    fpu_note(cpu, in);
    push_checked(&cpu->fpu, fx80_from_bcd(bcd), NULL);
}

/* FST/FSTP: to ST(i) (a raw copy) or to m32/m64/m80. */
FPU_INLINE void fst_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    bool pop = in->op == OP_FSTP;
    fpu_begin(cpu, FPU_WAITING);
    bool empty = st_empty(f, 0);
    struct fx80 v = empty ? fx80_indefinite() : st_get(f, 0);
    bool ie_masked = f->cw & CW_IM;

    if (in->opnd[0].kind == OPND_ST) {
        fpu_note(cpu, in);
        if (empty && in->opcode == 0xD9) {
            /* D9 D8+i (the undocumented FSTP1 alias) does not check for an
             * empty ST(0): it stores nothing and pops (observed on Intel
             * hardware; DF D0+i / D8+i behave like DD D8+i) */
            set_c1(f, false);
            fpu_pop(f);
            return;
        }
        if (empty && !stack_fault(f, false))
            return;
        if (!empty)
            set_c1(f, false);
        st_put(f, in->opnd[0].reg, v);
        if (pop)
            fpu_pop(f);
        return;
    }

    /* memory: decide what to store, store it, then commit the x87 state */
    struct fx80_env env = fx80_env_from_cw(f->cw);
    uint32_t off = m ? 0 : mem_off(cpu, in, 0);
    bool store = true;
    uint64_t bits = 0;
    int size = in->opnd[0].size;
    if (empty) {
        store = ie_masked;
        bits = size == 4 ? 0xFFC00000u : UINT64_C(0xFFF8000000000000);
    } else if (size == 4) {
        bits = fx80_to_f32(&env, v);
    } else if (size == 8) {
        bits = fx80_to_f64(&env, v);
    }
    unsigned unmasked = env.exceptions & ~f->cw & SW_EXCEPTIONS;
    if (unmasked & (SW_IE | SW_DE | SW_ZE | SW_OE | SW_UE))
        store = false;
    if (store && m) {
        store_host(m->host, bits, size);   /* m32/m64 only (fpu_fast) */
    } else if (store) {
        if (size == 4)
            cpu_write_sized(cpu, in->seg, off, (uint32_t)bits, 4);
        else if (size == 8)
            write_m64(cpu, in->seg, off, bits);
        else
            write_m80(cpu, in, v);
    }
    fpu_note_m(cpu, in, m);
    if (empty) {
        if (stack_fault(f, false) && pop)
            fpu_pop(f);
        return;
    }
    fpu_signal(f, env.exceptions);
    set_c1(f, env.c1_round_up);
    if (store && pop)
        fpu_pop(f);
}

static void exec_fst(struct cpu *cpu, const struct insn *in) { fst_m(cpu, in, NULL); }

/* FIST m16/m32, FISTP m16/m32/m64, FBSTP m80. */
FPU_INLINE void fist_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    bool pop = in->op != OP_FIST;
    bool bcd_form = in->op == OP_FBSTP;
    fpu_begin(cpu, FPU_WAITING);
    bool empty = st_empty(f, 0);
    struct fx80_env env = fx80_env_from_cw(f->cw);
    int size = in->opnd[0].size;
    uint8_t image[10] = { 0 };
    uint64_t bits = 0;

    if (bcd_form) {
        if (empty) {   /* the packed-BCD indefinite */
            image[7] = 0xC0;
            image[8] = image[9] = 0xFF;
        } else {
            fx80_to_bcd(&env, st_get(f, 0), image);
        }
    } else {
        struct fx80 v = empty ? fx80_indefinite() : st_get(f, 0);
        switch (size) {
        case 2:  bits = (uint16_t)fx80_to_i16(&env, v); break;
        case 4:  bits = (uint32_t)fx80_to_i32(&env, v); break;
        default: bits = (uint64_t)fx80_to_i64(&env, v); break;
        }
    }
    bool store;
    if (empty)
        store = f->cw & CW_IM;
    else
        store = !(env.exceptions & ~f->cw & (SW_IE | SW_DE | SW_ZE | SW_OE | SW_UE));
    if (store && m) {
        store_host(m->host, bits, size);   /* not FBSTP (fpu_fast) */
    } else if (store && !bcd_form && in->addrsize == 4 && !(cpu->eflags & FL_AC)) {
        /* one access (cpu_write* never stores partly); AC set: the
         * byte-wise path, which raises no #AC, as before */
        uint32_t off = insn_ea(cpu, in);
        if (size == 8)
            write_m64(cpu, in->seg, off, bits);
        else
            cpu_write_sized(cpu, in->seg, off, (uint32_t)bits, size);
    } else if (store) {
        for (int k = 0; !bcd_form && k < size; k++)
            image[k] = (uint8_t)(bits >> (8 * k));
        write_bytes(cpu, in, image, bcd_form ? 10u : (uint32_t)size);
    }
    fpu_note_m(cpu, in, m);
    if (empty) {
        if (stack_fault(f, false) && pop)
            fpu_pop(f);
        return;
    }
    fpu_signal(f, env.exceptions);
    set_c1(f, env.c1_round_up);
    if (store && pop)
        fpu_pop(f);
}

static void exec_fist(struct cpu *cpu, const struct insn *in) { fist_m(cpu, in, NULL); }

static void exec_fxch(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    unsigned i = in->nopnd ? in->opnd[0].reg : 1;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    if (st_empty(f, 0) || st_empty(f, i)) {
        if (!stack_fault(f, false))
            return;
        if (st_empty(f, 0))
            st_put(f, 0, fx80_indefinite());
        if (st_empty(f, i))
            st_put(f, i, fx80_indefinite());
    } else {
        set_c1(f, false);
    }
    struct fx80 a = st_get(f, 0), b = st_get(f, i);
    st_put(f, 0, b);
    st_put(f, i, a);
}

static void exec_fcmovcc(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    unsigned src = in->opnd[1].reg;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    if (st_empty(f, 0) || st_empty(f, src)) {
        if (stack_fault(f, false))   /* the indefinite goes to ST(0) whatever the condition */
            st_put(f, 0, fx80_indefinite());
        return;
    }
    if (cpu_cond(cpu, in->cond))   /* C1 is left alone */
        st_put(f, 0, st_get(f, src));
}

/* ---- arithmetic ----------------------------------------------------------------- */

enum arith_kind { AR_ADD, AR_SUB, AR_SUBR, AR_MUL, AR_DIV, AR_DIVR };

struct arith_form {
    uint8_t kind;      /* enum arith_kind */
    bool pop;          /* FADDP ... */
    bool integer;      /* FIADD ...: integer memory operand */
};

FPU_INLINE struct arith_form arith_form_of(uint16_t op)
{
    switch (op) {
    case OP_FADD:   return (struct arith_form){ AR_ADD, false, false };
    case OP_FADDP:  return (struct arith_form){ AR_ADD, true, false };
    case OP_FIADD:  return (struct arith_form){ AR_ADD, false, true };
    case OP_FSUB:   return (struct arith_form){ AR_SUB, false, false };
    case OP_FSUBP:  return (struct arith_form){ AR_SUB, true, false };
    case OP_FISUB:  return (struct arith_form){ AR_SUB, false, true };
    case OP_FSUBR:  return (struct arith_form){ AR_SUBR, false, false };
    case OP_FSUBRP: return (struct arith_form){ AR_SUBR, true, false };
    case OP_FISUBR: return (struct arith_form){ AR_SUBR, false, true };
    case OP_FMUL:   return (struct arith_form){ AR_MUL, false, false };
    case OP_FMULP:  return (struct arith_form){ AR_MUL, true, false };
    case OP_FIMUL:  return (struct arith_form){ AR_MUL, false, true };
    case OP_FDIV:   return (struct arith_form){ AR_DIV, false, false };
    case OP_FDIVP:  return (struct arith_form){ AR_DIV, true, false };
    case OP_FIDIV:  return (struct arith_form){ AR_DIV, false, true };
    case OP_FDIVR:  return (struct arith_form){ AR_DIVR, false, false };
    case OP_FDIVRP: return (struct arith_form){ AR_DIVR, true, false };
    default:        return (struct arith_form){ AR_DIVR, false, true };   /* FIDIVR */
    }
}

static inline struct fx80 arith_compute(enum arith_kind kind, struct fx80_env *env, struct fx80 dst, struct fx80 src)
{
    switch (kind) {
    case AR_ADD:  return fx80_add(env, dst, src);
    case AR_SUB:  return fx80_sub(env, dst, src);
    case AR_SUBR: return fx80_sub(env, src, dst);
    case AR_MUL:  return fx80_mul(env, dst, src);
    case AR_DIV:  return fx80_div(env, dst, src);
    default:      return fx80_div(env, src, dst);
    }
}

/* All 18 arithmetic ops: dst = dst op src. Register forms come in Intel
 * order (opnd[0] destination, opnd[1] source); memory forms have the
 * memory source as their only operand and ST(0) as destination. */
FPU_INLINE void farith_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    struct arith_form form = arith_form_of(in->op);
    fpu_begin(cpu, FPU_WAITING);
    unsigned dst = 0;
    bool src_empty = false, src_denormal = false;
    struct fx80 src;
    if (in->nopnd >= 2) {
        dst = in->opnd[0].reg;
        src_empty = st_empty(f, in->opnd[1].reg);
        src = st_get(f, in->opnd[1].reg);
    } else {
        src = read_source_m(cpu, in, form.integer, &src_denormal, m);
    }
    fpu_note_m(cpu, in, m);
    if (src_empty || st_empty(f, dst)) {
        if (stack_fault(f, false)) {
            st_put(f, dst, fx80_indefinite());
            if (form.pop)
                fpu_pop(f);
        }
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    unsigned top = fpu_top(f), dst_phys = (top + dst) & 7;
    struct fx80 d = { .mant = f->r[dst_phys].mant, .sign_exp = f->r[dst_phys].sign_exp };
    struct fx80 r = arith_compute(form.kind, &env, d, src);
    add_source_denormal(&env, src_denormal, d);
    if (!(env.exceptions & ~f->cw & SW_EXCEPTIONS)) {
        /* nothing unmasked: commit_reg's (and fpu_pop's) work with TOP
         * read once and the status word written once */
        uint16_t sw = (uint16_t)((f->sw & ~SW_C1) | env.exceptions | (env.c1_round_up ? SW_C1 : 0));
        f->r[dst_phys] = (struct fpu_reg){ .mant = r.mant, .sign_exp = r.sign_exp };
        tag_set_phys(f, dst_phys, TAG_VALID);
        if (form.pop) {
            tag_set_phys(f, top, TAG_EMPTY);
            sw = (uint16_t)((sw & ~SW_TOP) | ((top + 1) & 7) << FPU_SW_TOP_SHIFT);
        }
        f->sw = sw;
        return;
    }
    if (commit_reg(f, dst, r, &env) && form.pop)
        fpu_pop(f);
}

static void exec_farith(struct cpu *cpu, const struct insn *in) { farith_m(cpu, in, NULL); }

/* ---- compares --------------------------------------------------------------------- */

struct compare_form {
    bool quiet;        /* FUCOM*: only SNaNs and unsupported encodings are invalid */
    bool to_eflags;    /* FCOMI*: ZF PF CF instead of C3 C2 C0 */
    bool integer;      /* FICOM* */
    uint8_t pops;
};

FPU_INLINE struct compare_form compare_form_of(uint16_t op)
{
    switch (op) {
    case OP_FCOM:    return (struct compare_form){ false, false, false, 0 };
    case OP_FCOMP:   return (struct compare_form){ false, false, false, 1 };
    case OP_FCOMPP:  return (struct compare_form){ false, false, false, 2 };
    case OP_FICOM:   return (struct compare_form){ false, false, true, 0 };
    case OP_FICOMP:  return (struct compare_form){ false, false, true, 1 };
    case OP_FUCOM:   return (struct compare_form){ true, false, false, 0 };
    case OP_FUCOMP:  return (struct compare_form){ true, false, false, 1 };
    case OP_FUCOMPP: return (struct compare_form){ true, false, false, 2 };
    case OP_FCOMI:   return (struct compare_form){ false, true, false, 0 };
    case OP_FCOMIP:  return (struct compare_form){ false, true, false, 1 };
    case OP_FUCOMI:  return (struct compare_form){ true, true, false, 0 };
    default:         return (struct compare_form){ true, true, false, 1 };   /* FUCOMIP */
    }
}

/* Writes a C3/C2/C0 result to the status word (clearing C1) or to ZF/PF/CF
 * (clearing OF SF AF; FCOMI leaves C1 alone). */
static void compare_result(struct cpu *cpu, bool to_eflags, uint16_t cc)
{
    struct fpu *f = &cpu->fpu;
    if (!to_eflags) {
        set_cc(f, SW_C0 | SW_C1 | SW_C2 | SW_C3, cc);
        return;
    }
    uint32_t flags = ((cc & SW_C3) ? FL_ZF : 0) | ((cc & SW_C2) ? FL_PF : 0) | ((cc & SW_C0) ? FL_CF : 0);
    lf_set_eager(cpu, flags);
}

/* All compares. The result (unordered after an invalid operation) is
 * written even when IE is unmasked; only the pops are then skipped. */
FPU_INLINE void fcompare_m(struct cpu *cpu, const struct insn *in, const struct fpu_mem *m)
{
    struct fpu *f = &cpu->fpu;
    struct compare_form form = compare_form_of(in->op);
    fpu_begin(cpu, FPU_WAITING);
    bool src_empty = false, src_denormal = false;
    struct fx80 src;
    if (in->nopnd == 0) {
        src_empty = st_empty(f, 1);
        src = st_get(f, 1);
    } else if (in->opnd[in->nopnd - 1].kind == OPND_ST) {
        unsigned i = in->opnd[in->nopnd - 1].reg;
        src_empty = st_empty(f, i);
        src = st_get(f, i);
    } else {
        src = read_source_m(cpu, in, form.integer, &src_denormal, m);
    }
    fpu_note_m(cpu, in, m);
    const uint16_t unordered = SW_C0 | SW_C2 | SW_C3;
    if (src_empty || st_empty(f, 0)) {
        bool masked = stack_fault(f, false);
        compare_result(cpu, form.to_eflags, unordered);
        for (unsigned k = 0; masked && k < form.pops; k++)
            fpu_pop(f);
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    enum fx80_cmp r = form.quiet ? fx80_compare_quiet(&env, st_get(f, 0), src)
                                 : fx80_compare(&env, st_get(f, 0), src);
    add_source_denormal(&env, src_denormal, st_get(f, 0));
    unsigned unmasked = fpu_signal(f, env.exceptions);
    compare_result(cpu, form.to_eflags, fx80_cmp_to_cc(r));
    for (unsigned k = 0; !(unmasked & (SW_IE | SW_DE)) && k < form.pops; k++)
        fpu_pop(f);
}

static void exec_fcompare(struct cpu *cpu, const struct insn *in) { fcompare_m(cpu, in, NULL); }

static void exec_ftst(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    const uint16_t unordered = SW_C0 | SW_C2 | SW_C3;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    if (st_empty(f, 0)) {
        stack_fault(f, false);
        set_cc(f, unordered, unordered);
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    enum fx80_cmp r = fx80_compare(&env, st_get(f, 0), fx80_make(false, 0, 0));
    fpu_signal(f, env.exceptions);
    set_cc(f, SW_CC, fx80_cmp_to_cc(r));
}

static void exec_fxam(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    struct fx80 v = st_get(f, 0);
    uint16_t cc = st_empty(f, 0) ? (uint16_t)(SW_C3 | SW_C0 | (fx80_sign(v) ? SW_C1 : 0))   /* C1: stale sign */
                                 : fx80_examine(v);
    set_cc(f, SW_CC, cc);
}

/* ---- one-operand ST(0) operations --------------------------------------------------- */

/* The ST(0) operand of a one-operand instruction; false (after the masked
 * response, ST(0) = indefinite) when ST(0) is empty. */
static bool unary_operand(struct cpu *cpu, const struct insn *in, struct fx80 *x)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    if (st_empty(f, 0)) {
        if (stack_fault(f, false))
            st_put(f, 0, fx80_indefinite());
        return false;
    }
    *x = st_get(f, 0);
    return true;
}

static void exec_fchs_fabs(struct cpu *cpu, const struct insn *in)
{
    struct fx80 x;
    if (!unary_operand(cpu, in, &x))
        return;
    if (in->op == OP_FCHS)
        x.sign_exp ^= 0x8000;
    else
        x.sign_exp &= 0x7FFF;
    set_c1(&cpu->fpu, false);
    st_put(&cpu->fpu, 0, x);
}

/* FSQRT, FRNDINT, F2XM1: ST(0) = op(ST(0)). */
static void exec_funary(struct cpu *cpu, const struct insn *in)
{
    struct fx80 x, r;
    if (!unary_operand(cpu, in, &x))
        return;
    struct fx80_env env = fx80_env_from_cw(cpu->fpu.cw);
    switch (in->op) {
    case OP_FSQRT:   r = fx80_sqrt(&env, x); break;
    case OP_FRNDINT: r = fx80_rndint(&env, x); break;
    default:         r = fx80_f2xm1(&env, x); break;
    }
    commit_reg(&cpu->fpu, 0, r, &env);
}

/* FSIN, FCOS: C2 = 1 and ST(0) unchanged when |x| >= 2^63. */
static void exec_fsin_fcos(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    struct fx80 x, r;
    if (!unary_operand(cpu, in, &x)) {
        set_cc(f, SW_C2, 0);
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    bool in_range = in->op == OP_FSIN ? fx80_sin(&env, x, &r) : fx80_cos(&env, x, &r);
    if (!in_range) {
        set_cc(f, SW_C1 | SW_C2, SW_C2);
        return;
    }
    set_cc(f, SW_C2, 0);
    commit_reg(f, 0, r, &env);
}

/* FPTAN, FSINCOS, FXTRACT: ST(0) is replaced and a second value pushed.
 * An empty ST(0) or a non-empty ST(7) is a stack fault whose masked
 * response puts the indefinite in both. */
static void exec_fpush2(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    bool underflow = st_empty(f, 0);
    if (underflow || !st_empty(f, 7)) {
        if (in->op != OP_FXTRACT)
            set_cc(f, SW_C2, 0);
        if (stack_fault(f, !underflow)) {
            st_put(f, 0, fx80_indefinite());
            fpu_push(f, fx80_indefinite());
        }
        return;
    }
    struct fx80 x = st_get(f, 0), first, second;
    struct fx80_env env = fx80_env_from_cw(f->cw);
    switch (in->op) {
    case OP_FPTAN:
        if (!fx80_tan(&env, x, &first)) {
            set_cc(f, SW_C1 | SW_C2, SW_C2);
            return;
        }
        /* a NaN result (NaN operand, masked IE) is pushed again, not 1.0 */
        second = fx80_is_nan(first) ? first : fx80_make(false, 0x3FFF, UINT64_C(1) << 63);
        set_cc(f, SW_C2, 0);
        break;
    case OP_FSINCOS:
        if (!fx80_sincos(&env, x, &first, &second)) {
            set_cc(f, SW_C1 | SW_C2, SW_C2);
            return;
        }
        set_cc(f, SW_C2, 0);
        break;
    default:
        fx80_xtract(&env, x, &first, &second);
        break;
    }
    if (commit_reg(f, 0, first, &env))
        fpu_push(f, second);
}

/* FSCALE, FPREM, FPREM1: ST(0) = op(ST(0), ST(1)). */
static void exec_fbinary_st0(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    bool is_prem = in->op != OP_FSCALE;
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (is_prem)
            set_cc(f, SW_C2, 0);
        if (stack_fault(f, false))
            st_put(f, 0, fx80_indefinite());
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    struct fx80 a = st_get(f, 0), b = st_get(f, 1), r;
    uint16_t cc = 0;
    switch (in->op) {
    case OP_FSCALE: r = fx80_scale(&env, a, b); break;
    case OP_FPREM:  r = fx80_prem(&env, a, b, &cc); break;
    default:        r = fx80_prem1(&env, a, b, &cc); break;
    }
    bool written = commit_reg(f, 0, r, &env);
    if (!is_prem)
        return;
    if (written && !fx80_is_nan(r))
        set_cc(f, SW_CC, cc);
    else
        set_cc(f, SW_C1 | SW_C2, 0);   /* NaN result or unmasked fault: C0 and C3 kept */
}

/* FPATAN, FYL2X, FYL2XP1: ST(1) = op(ST(1), ST(0)), then pop. */
static void exec_fbinary_pop(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (stack_fault(f, false)) {
            st_put(f, 1, fx80_indefinite());
            fpu_pop(f);
        }
        return;
    }
    struct fx80_env env = fx80_env_from_cw(f->cw);
    struct fx80 y = st_get(f, 1), x = st_get(f, 0), r;
    switch (in->op) {
    case OP_FPATAN: r = fx80_atan2(&env, y, x); break;
    case OP_FYL2X:  r = fx80_yl2x(&env, y, x); break;
    default:        r = fx80_yl2xp1(&env, y, x); break;
    }
    if (commit_reg(f, 1, r, &env))
        fpu_pop(f);
}

static void exec_fldconst(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    enum fx80_const_id id;
    switch (in->op) {
    case OP_FLD1:   id = FX80_CONST_ONE; break;
    case OP_FLDZ:   id = FX80_CONST_ZERO; break;
    case OP_FLDPI:  id = FX80_CONST_PI; break;
    case OP_FLDL2E: id = FX80_CONST_L2E; break;
    case OP_FLDL2T: id = FX80_CONST_L2T; break;
    case OP_FLDLG2: id = FX80_CONST_LG2; break;
    default:        id = FX80_CONST_LN2; break;
    }
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    struct fx80_env env = fx80_env_from_cw(f->cw);
    push_checked(f, fx80_const(&env, id), NULL);   /* no flags but the stack's */
}

/* ---- stack and register management ------------------------------------------------------ */

static void exec_fincdecstp(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    fpu_set_top(f, fpu_top(f) + (in->op == OP_FINCSTP ? 1u : 7u));
    set_c1(f, false);
}

static void exec_ffree(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
    st_free(f, in->opnd[0].reg);
    if (in->op == OP_FFREEP)
        fpu_pop(f);
    set_c1(f, false);
}

static void exec_fnop(struct cpu *cpu, const struct insn *in)
{
    fpu_begin(cpu, FPU_WAITING);
    fpu_note(cpu, in);
}

/* FENI, FDISI, FSETPM: no-ops since the 387 (no-wait encodings). */
static void exec_fnop_legacy(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    fpu_begin(cpu, 0);
}

/* ---- control instructions ---------------------------------------------------------------- */

static void exec_fldcw(struct cpu *cpu, const struct insn *in)
{
    fpu_begin(cpu, FPU_WAITING);
    uint16_t cw = (uint16_t)insn_opnd_read(cpu, in, 0);
    cpu->fpu.cw = (uint16_t)((cw & CW_STORED) | CW_ONE);
    es_recompute(cpu, cpu->fpu.sw & SW_ES);
}

static void exec_fnstcw(struct cpu *cpu, const struct insn *in)
{
    fpu_begin(cpu, 0);
    insn_opnd_write(cpu, in, 0, cpu->fpu.cw);
}

static void exec_fnstsw(struct cpu *cpu, const struct insn *in)
{
    fpu_begin(cpu, 0);
    insn_opnd_write(cpu, in, 0, cpu->fpu.sw);
}

static void exec_fnclex(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    fpu_begin(cpu, 0);
    bool was_pending = cpu->fpu.sw & SW_ES;
    cpu->fpu.sw &= (uint16_t)~(SW_EXCEPTIONS | SW_SF | SW_ES | SW_B);
    if (was_pending)
        ferr_level(cpu, false);
}

static void fpu_reinit(struct cpu *cpu)
{
    struct fpu *f = &cpu->fpu;
    bool was_pending = f->sw & SW_ES;
    f->cw = CW_INIT;
    f->sw = 0;
    f->tw = 0xFFFF;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
    if (was_pending)
        ferr_level(cpu, false);
}

static void exec_fninit(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    fpu_begin(cpu, 0);
    fpu_reinit(cpu);
}

/* ---- environment and state images ------------------------------------------------------------ */

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* Image size and layout of an FLDENV/FNSTENV/FRSTOR/FNSAVE operand. */
struct env_format {
    bool wide;         /* 32-bit operand size: 28-byte environment */
    bool protected_layout;
    uint32_t env_len;  /* 14 or 28; registers follow in the state images */
};

static struct env_format env_format_of(const struct cpu *cpu, const struct insn *in)
{
    bool wide = in->opnd[0].size == 28 || in->opnd[0].size == 108;
    return (struct env_format){ wide, cpu_protected(cpu) && !cpu_v86(cpu), wide ? 28u : 14u };
}

uint16_t fpu_tag_word(const struct fpu *f)
{
    uint16_t tw = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned tag = tag_of_phys(f, phys) == TAG_EMPTY
                           ? TAG_EMPTY : tag_of_value(f->r[phys].sign_exp, f->r[phys].mant);
        tw |= (uint16_t)(tag << (2 * phys));
    }
    return tw;
}

static void env_build(const struct fpu *f, struct env_format fmt, uint8_t *img)
{
    uint16_t tw = fpu_tag_word(f);
    uint32_t fop = f->fop & 0x7FFu;
    if (fmt.protected_layout) {
        if (fmt.wide) {
            put32(img + 0, 0xFFFF0000u | f->cw);
            put32(img + 4, 0xFFFF0000u | f->sw);
            put32(img + 8, 0xFFFF0000u | tw);
            put32(img + 12, f->fip);
            put32(img + 16, f->fcs | fop << 16);
            put32(img + 20, f->fdp);
            put32(img + 24, 0xFFFF0000u | f->fds);
        } else {
            put16(img + 0, f->cw);
            put16(img + 2, f->sw);
            put16(img + 4, tw);
            put16(img + 6, f->fip);
            put16(img + 8, f->fcs);
            put16(img + 10, f->fdp);
            put16(img + 12, f->fds);
        }
        return;
    }
    uint32_t ip = ((uint32_t)f->fcs << 4) + f->fip;
    uint32_t dp = ((uint32_t)f->fds << 4) + f->fdp;
    if (fmt.wide) {
        put32(img + 0, 0xFFFF0000u | f->cw);
        put32(img + 4, 0xFFFF0000u | f->sw);
        put32(img + 8, 0xFFFF0000u | tw);
        put32(img + 12, 0xFFFF0000u | (ip & 0xFFFF));
        put32(img + 16, ((ip >> 4) & 0x0FFFF000u) | fop);
        put32(img + 20, 0xFFFF0000u | (dp & 0xFFFF));
        put32(img + 24, (dp >> 4) & 0x0FFFF000u);
    } else {
        put16(img + 0, f->cw);
        put16(img + 2, f->sw);
        put16(img + 4, tw);
        put16(img + 6, ip);
        put16(img + 8, ((ip >> 4) & 0xF000u) | fop);
        put16(img + 10, dp);
        put16(img + 12, (dp >> 4) & 0xF000u);
    }
}

/* Loads an environment; the tag word only says which registers are empty. */
static void env_load(struct cpu *cpu, struct env_format fmt, const uint8_t *img)
{
    struct fpu *f = &cpu->fpu;
    uint16_t tw;
    if (fmt.wide) {
        f->cw = get16(img + 0);
        f->sw = get16(img + 4);
        tw = get16(img + 8);
    } else {
        f->cw = get16(img + 0);
        f->sw = get16(img + 2);
        tw = get16(img + 4);
    }
    f->cw = (uint16_t)((f->cw & CW_STORED) | CW_ONE);
    if (fmt.protected_layout) {
        if (fmt.wide) {
            f->fip = get32(img + 12);
            f->fcs = get16(img + 16);
            f->fop = get16(img + 18) & 0x7FF;
            f->fdp = get32(img + 20);
            f->fds = get16(img + 24);
        } else {
            f->fip = get16(img + 6);
            f->fcs = get16(img + 8);
            f->fdp = get16(img + 10);
            f->fds = get16(img + 12);
        }
    } else {
        f->fcs = f->fds = 0;
        if (fmt.wide) {
            f->fip = get16(img + 12) | ((get32(img + 16) & 0x0FFFF000u) << 4);
            f->fop = get16(img + 16) & 0x7FF;
            f->fdp = get16(img + 20) | ((get32(img + 24) & 0x0FFFF000u) << 4);
        } else {
            f->fip = get16(img + 6) | ((uint32_t)(get16(img + 8) & 0xF000u) << 4);
            f->fop = get16(img + 8) & 0x7FF;
            f->fdp = get16(img + 10) | ((uint32_t)(get16(img + 12) & 0xF000u) << 4);
        }
    }
    f->tw = 0;
    for (unsigned phys = 0; phys < 8; phys++)
        tag_set_phys(f, phys, ((tw >> (2 * phys)) & 3) == TAG_EMPTY ? TAG_EMPTY : TAG_VALID);
}

#define STATE_MAX (28 + 80)

static void exec_fnstenv_fnsave(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    bool save = in->op == OP_FNSAVE;
    fpu_begin(cpu, 0);
    struct env_format fmt = env_format_of(cpu, in);
    uint8_t img[STATE_MAX];
    env_build(f, fmt, img);
    uint32_t len = fmt.env_len;
    if (save) {
        for (unsigned i = 0; i < 8; i++) {
            struct fx80 v = st_get(f, i);
            uint8_t *p = img + fmt.env_len + 10 * i;
            put32(p, (uint32_t)v.mant);
            put32(p + 4, (uint32_t)(v.mant >> 32));
            put16(p + 8, v.sign_exp);
        }
        len += 80;
    }
    write_bytes(cpu, in, img, len);
    if (save) {
        fpu_reinit(cpu);
    } else {
        f->cw |= CW_MASKS;
        es_recompute(cpu, f->sw & SW_ES);
    }
}

static void exec_fldenv_frstor(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    bool restore = in->op == OP_FRSTOR;
    fpu_begin(cpu, FPU_WAITING);
    struct env_format fmt = env_format_of(cpu, in);
    uint8_t img[STATE_MAX];
    read_bytes(cpu, in, img, fmt.env_len + (restore ? 80u : 0u));
    bool was_pending = f->sw & SW_ES;
    env_load(cpu, fmt, img);
    if (restore) {
        for (unsigned i = 0; i < 8; i++) {
            const uint8_t *p = img + fmt.env_len + 10 * i;
            struct fpu_reg *r = &f->r[st_phys(f, i)];
            r->mant = get32(p) | (uint64_t)get32(p + 4) << 32;
            r->sign_exp = get16(p + 8);
        }
    }
    es_recompute(cpu, was_pending);   /* ES/B follow the loaded flags and masks */
}

/* FXSAVE/FXRSTOR: the 512-byte image (32-bit layout). No SSE here: MXCSR is
 * stored as its reset value 0x1F80 with the usual mask, the XMM area as
 * zeros, and bytes 288-511 are left alone (the upper 48 are software's).
 * FXSAVE keeps the FPU as it is (FNSAVE reinitialises it). */
#define FX_IMAGE     512u
#define FX_WRITTEN   288u
#define FX_ST_OFFSET 32u
#define FX_MXCSR_RESET 0x1F80u
#define FX_MXCSR_MASK  0xFFBFu

static void fx_check_alignment(struct cpu *cpu, const struct insn *in)
{
    if ((cpu->seg[in->seg].base + mem_off(cpu, in, 0)) & 15)
        cpu_raise(cpu, EXC_GP, 0);
}

static void exec_fxsave(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, 0);
    fx_check_alignment(cpu, in);
    uint8_t img[FX_WRITTEN];
    memset(img, 0, sizeof img);
    put16(img + 0, f->cw);
    put16(img + 2, f->sw);
    uint8_t abridged = 0;
    for (unsigned phys = 0; phys < 8; phys++)
        if (tag_of_phys(f, phys) != TAG_EMPTY)
            abridged |= (uint8_t)(1u << phys);
    img[4] = abridged;
    put16(img + 6, f->fop & 0x7FF);
    put32(img + 8, f->fip);
    put16(img + 12, f->fcs);
    put32(img + 16, f->fdp);
    put16(img + 20, f->fds);
    put32(img + 24, FX_MXCSR_RESET);
    put32(img + 28, FX_MXCSR_MASK);
    for (unsigned i = 0; i < 8; i++) {
        struct fx80 v = st_get(f, i);
        uint8_t *p = img + FX_ST_OFFSET + 16 * i;
        put32(p, (uint32_t)v.mant);
        put32(p + 4, (uint32_t)(v.mant >> 32));
        put16(p + 8, v.sign_exp);
    }
    write_bytes(cpu, in, img, FX_WRITTEN);
}

static void exec_fxrstor(struct cpu *cpu, const struct insn *in)
{
    struct fpu *f = &cpu->fpu;
    fpu_begin(cpu, 0);
    fx_check_alignment(cpu, in);
    uint8_t img[FX_WRITTEN];
    cpu_check_access(cpu, in->seg, mem_off(cpu, in, 0), FX_IMAGE, MEM_READ);
    read_bytes(cpu, in, img, FX_WRITTEN);
    bool was_pending = f->sw & SW_ES;
    f->cw = (uint16_t)((get16(img + 0) & CW_STORED) | CW_ONE);
    f->sw = get16(img + 2);
    f->fop = get16(img + 6) & 0x7FF;
    f->fip = get32(img + 8);
    f->fcs = get16(img + 12);
    f->fdp = get32(img + 16);
    f->fds = get16(img + 20);
    f->tw = 0;
    for (unsigned phys = 0; phys < 8; phys++)
        tag_set_phys(f, phys, (img[4] >> phys) & 1 ? TAG_VALID : TAG_EMPTY);
    for (unsigned i = 0; i < 8; i++) {
        const uint8_t *p = img + FX_ST_OFFSET + 16 * i;
        struct fpu_reg *r = &f->r[st_phys(f, i)];
        r->mant = get32(p) | (uint64_t)get32(p + 4) << 32;
        r->sign_exp = get16(p + 8);
    }
    es_recompute(cpu, was_pending);
}

/* ---- registration ------------------------------------------------------------------------------ */

void exec_register_fpu(exec_fn *table)
{
    table[OP_FLD] = exec_fld;
    table[OP_FST] = exec_fst;
    table[OP_FSTP] = exec_fst;
    table[OP_FILD] = exec_fild;
    table[OP_FIST] = exec_fist;
    table[OP_FISTP] = exec_fist;
    table[OP_FBLD] = exec_fbld;
    table[OP_FBSTP] = exec_fist;
    table[OP_FXCH] = exec_fxch;
    static const uint16_t arith_ops[] = {
        OP_FADD, OP_FADDP, OP_FIADD, OP_FSUB, OP_FSUBP, OP_FISUB, OP_FSUBR, OP_FSUBRP, OP_FISUBR,
        OP_FMUL, OP_FMULP, OP_FIMUL, OP_FDIV, OP_FDIVP, OP_FIDIV, OP_FDIVR, OP_FDIVRP, OP_FIDIVR,
    };
    for (size_t k = 0; k < sizeof arith_ops / sizeof arith_ops[0]; k++)
        table[arith_ops[k]] = exec_farith;
    static const uint16_t compare_ops[] = {
        OP_FCOM, OP_FCOMP, OP_FCOMPP, OP_FICOM, OP_FICOMP, OP_FUCOM, OP_FUCOMP, OP_FUCOMPP,
        OP_FCOMI, OP_FCOMIP, OP_FUCOMI, OP_FUCOMIP,
    };
    for (size_t k = 0; k < sizeof compare_ops / sizeof compare_ops[0]; k++)
        table[compare_ops[k]] = exec_fcompare;
    table[OP_FCMOVCC] = exec_fcmovcc;
    table[OP_FTST] = exec_ftst;
    table[OP_FXAM] = exec_fxam;
    table[OP_FCHS] = exec_fchs_fabs;
    table[OP_FABS] = exec_fchs_fabs;
    static const uint16_t const_ops[] = {
        OP_FLD1, OP_FLDL2T, OP_FLDL2E, OP_FLDPI, OP_FLDLG2, OP_FLDLN2, OP_FLDZ,
    };
    for (size_t k = 0; k < sizeof const_ops / sizeof const_ops[0]; k++)
        table[const_ops[k]] = exec_fldconst;
    table[OP_FSQRT] = exec_funary;
    table[OP_FRNDINT] = exec_funary;
    table[OP_F2XM1] = exec_funary;
    table[OP_FSIN] = exec_fsin_fcos;
    table[OP_FCOS] = exec_fsin_fcos;
    table[OP_FPTAN] = exec_fpush2;
    table[OP_FSINCOS] = exec_fpush2;
    table[OP_FXTRACT] = exec_fpush2;
    table[OP_FSCALE] = exec_fbinary_st0;
    table[OP_FPREM] = exec_fbinary_st0;
    table[OP_FPREM1] = exec_fbinary_st0;
    table[OP_FPATAN] = exec_fbinary_pop;
    table[OP_FYL2X] = exec_fbinary_pop;
    table[OP_FYL2XP1] = exec_fbinary_pop;
    table[OP_FINCSTP] = exec_fincdecstp;
    table[OP_FDECSTP] = exec_fincdecstp;
    table[OP_FFREE] = exec_ffree;
    table[OP_FFREEP] = exec_ffree;
    table[OP_FNOP] = exec_fnop;
    table[OP_FNOP_LEGACY] = exec_fnop_legacy;
    table[OP_FLDCW] = exec_fldcw;
    table[OP_FNSTCW] = exec_fnstcw;
    table[OP_FNSTSW] = exec_fnstsw;
    table[OP_FNCLEX] = exec_fnclex;
    table[OP_FNINIT] = exec_fninit;
    table[OP_FLDENV] = exec_fldenv_frstor;
    table[OP_FRSTOR] = exec_fldenv_frstor;
    table[OP_FNSTENV] = exec_fnstenv_fnsave;
    table[OP_FNSAVE] = exec_fnstenv_fnsave;
    table[OP_FXSAVE] = exec_fxsave;
    table[OP_FXRSTOR] = exec_fxrstor;
}

/* ---- the translator's fast path ------------------------------------------------------------ */

/* Register forms whose handler can raise nothing but #NM and #MF, and the
 * m16/m32/m64 forms whose handler reads or writes that one operand once. */
bool fpu_fast_ok(const struct insn *in)
{
    bool mem = has_mem_operand(in);
    int size = mem ? in->opnd[0].size : 0;
    if (mem && in->addrsize != 4)
        return false;
    switch (in->op) {
    case OP_FLD: case OP_FST: case OP_FSTP:
        return !mem || size == 4 || size == 8;
    case OP_FILD: case OP_FIST: case OP_FISTP:
        return size == 2 || size == 4 || size == 8;
    case OP_FADD: case OP_FADDP: case OP_FSUB: case OP_FSUBP: case OP_FSUBR: case OP_FSUBRP:
    case OP_FMUL: case OP_FMULP: case OP_FDIV: case OP_FDIVP: case OP_FDIVR: case OP_FDIVRP:
    case OP_FCOM: case OP_FCOMP: case OP_FCOMPP: case OP_FUCOM: case OP_FUCOMP: case OP_FUCOMPP:
    case OP_FCOMI: case OP_FCOMIP: case OP_FUCOMI: case OP_FUCOMIP:
        return !mem || size == 4 || size == 8;
    case OP_FIADD: case OP_FISUB: case OP_FISUBR: case OP_FIMUL: case OP_FIDIV: case OP_FIDIVR:
    case OP_FICOM: case OP_FICOMP:
        return size == 2 || size == 4;
    case OP_FLDCW: case OP_FNSTCW:
        return size == 2;
    case OP_FXCH: case OP_FTST: case OP_FXAM: case OP_FCHS: case OP_FABS:
    case OP_FLD1: case OP_FLDL2T: case OP_FLDL2E: case OP_FLDPI: case OP_FLDLG2: case OP_FLDLN2: case OP_FLDZ:
    case OP_FSQRT: case OP_FRNDINT: case OP_FFREE: case OP_FFREEP: case OP_FINCSTP: case OP_FDECSTP:
        return !mem;
    default:
        return false;
    }
}

int fpu_fast(struct cpu *cpu, const struct insn *in, void *host, uint32_t eip, uint32_t ea)
{
    /* #NM, or a pending error (#MF, FERR#): the interpreter's business */
    if ((cpu->cr0 & (CR0_EM | CR0_TS)) || (cpu->fpu.sw & SW_ES))
        return 1;
    struct fpu_mem mem = { host, ea };
    const struct fpu_mem *m = has_mem_operand(in) ? &mem : NULL;
    cpu->eip = eip;   /* FIP; host code keeps no EIP of its own in cpu */
    switch (in->op) {
    case OP_FLD:   fld_m(cpu, in, m); break;
    case OP_FST: case OP_FSTP: fst_m(cpu, in, m); break;
    case OP_FILD:  fild_m(cpu, in, m); break;
    case OP_FIST: case OP_FISTP: fist_m(cpu, in, m); break;
    case OP_FIADD: case OP_FISUB: case OP_FISUBR: case OP_FIMUL: case OP_FIDIV: case OP_FIDIVR:
    case OP_FADD: case OP_FADDP: case OP_FSUB: case OP_FSUBP: case OP_FSUBR: case OP_FSUBRP:
    case OP_FMUL: case OP_FMULP: case OP_FDIV: case OP_FDIVP: case OP_FDIVR: case OP_FDIVRP:
        farith_m(cpu, in, m);
        break;
    case OP_FCOM: case OP_FCOMP: case OP_FCOMPP: case OP_FUCOM: case OP_FUCOMP: case OP_FUCOMPP:
    case OP_FCOMI: case OP_FCOMIP: case OP_FUCOMI: case OP_FUCOMIP: case OP_FICOM: case OP_FICOMP:
        fcompare_m(cpu, in, m);
        break;
    case OP_FLDCW:   /* exec_fldcw with nothing pending */
        cpu->fpu.cw = (uint16_t)(((uint16_t)load_m(cpu, in, m, 2) & CW_STORED) | CW_ONE);
        es_recompute(cpu, false);
        break;
    case OP_FNSTCW:
        store_host(host, cpu->fpu.cw, 2);
        break;
    case OP_FXCH:  exec_fxch(cpu, in); break;
    case OP_FTST:  exec_ftst(cpu, in); break;
    case OP_FXAM:  exec_fxam(cpu, in); break;
    case OP_FCHS: case OP_FABS: exec_fchs_fabs(cpu, in); break;
    case OP_FSQRT: case OP_FRNDINT: exec_funary(cpu, in); break;
    case OP_FFREE: case OP_FFREEP: exec_ffree(cpu, in); break;
    case OP_FINCSTP: case OP_FDECSTP: exec_fincdecstp(cpu, in); break;
    case OP_FLD1: case OP_FLDL2T: case OP_FLDL2E: case OP_FLDPI: case OP_FLDLG2: case OP_FLDLN2: case OP_FLDZ:
        exec_fldconst(cpu, in);
        break;
    default:
        return 1;
    }
    return 0;
}

/* fpu_fast's cases as entries of their own, each specialised for a memory
 * or a register operand: host code calls them directly (no dispatch on the
 * opcode, no indirect branch). */
#define FPU_FAST_ENTRY(name, mem_form, body)                                                   \
    static int name(struct cpu *cpu, const struct insn *in, void *host, uint32_t eip, uint32_t ea) \
    {                                                                                          \
        if ((cpu->cr0 & (CR0_EM | CR0_TS)) || (cpu->fpu.sw & SW_ES))                           \
            return 1;                                                                          \
        struct fpu_mem mem = { host, ea };                                                     \
        const struct fpu_mem *m = (mem_form) ? &mem : NULL;                                    \
        (void)m;                                                                               \
        cpu->eip = eip;                                                                        \
        body;                                                                                  \
        return 0;                                                                              \
    }

FPU_FAST_ENTRY(fast_fld_mem, true, fld_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fld_reg, false, fld_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fst_mem, true, fst_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fst_reg, false, fst_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fild, true, fild_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fist, true, fist_m(cpu, in, m))
FPU_FAST_ENTRY(fast_arith_mem, true, farith_m(cpu, in, m))
FPU_FAST_ENTRY(fast_arith_reg, false, farith_m(cpu, in, m))
FPU_FAST_ENTRY(fast_compare_mem, true, fcompare_m(cpu, in, m))
FPU_FAST_ENTRY(fast_compare_reg, false, fcompare_m(cpu, in, m))
FPU_FAST_ENTRY(fast_fxch, false, exec_fxch(cpu, in))

fpu_fast_fn *fpu_fast_entry(const struct insn *in)
{
    if (!fpu_fast_ok(in))
        return NULL;
    bool mem = has_mem_operand(in);
    switch (in->op) {
    case OP_FLD:   return mem ? fast_fld_mem : fast_fld_reg;
    case OP_FST: case OP_FSTP: return mem ? fast_fst_mem : fast_fst_reg;
    case OP_FILD:  return fast_fild;
    case OP_FIST: case OP_FISTP: return fast_fist;
    case OP_FIADD: case OP_FISUB: case OP_FISUBR: case OP_FIMUL: case OP_FIDIV: case OP_FIDIVR:
    case OP_FADD: case OP_FADDP: case OP_FSUB: case OP_FSUBP: case OP_FSUBR: case OP_FSUBRP:
    case OP_FMUL: case OP_FMULP: case OP_FDIV: case OP_FDIVP: case OP_FDIVR: case OP_FDIVRP:
        return mem ? fast_arith_mem : fast_arith_reg;
    case OP_FCOM: case OP_FCOMP: case OP_FCOMPP: case OP_FUCOM: case OP_FUCOMP: case OP_FUCOMPP:
    case OP_FCOMI: case OP_FCOMIP: case OP_FUCOMI: case OP_FUCOMIP: case OP_FICOM: case OP_FICOMP:
        return mem ? fast_compare_mem : fast_compare_reg;
    case OP_FXCH:  return fast_fxch;
    default:       return fpu_fast;
    }
}
