/*
 * hostdiff.h - case/result format for the fox86 host differential test.
 *
 * A "case" is a short random sequence of user-level i386 instructions plus
 * the complete initial machine state it starts from.  Two programs execute
 * the same case:
 *   - tests/hostdiff/native_runner.c runs it on the real CPU (32-bit Linux
 *     process on this x86-64 host) and reports the exact final state;
 *   - the fox86 side runs it in the interpreter.
 * Both emit struct hd_result, and a comparator checks that they agree.
 *
 * Everything here is plain C17 and identical for -m32 and 64-bit builds:
 * fixed-width fields, no pointers, explicit padding, sizes checked by
 * _Static_assert below.  Records go through pipes as raw little-endian
 * structs, one struct per record, no framing.
 *
 * ---------------------------------------------------------------------------
 * Sandbox (flat 32-bit protected mode, CPL 3, CS/DS/ES/SS base 0 limit 4G):
 *
 *   HD_CODE_BASE  0x10000000  4 KiB  read + execute, NOT writable.
 *                 case.code[0..code_len) is placed here; execution starts
 *                 at HD_CODE_BASE.  The runner places its own exit jump at
 *                 HD_CODE_BASE + code_len, so reaching that address ends
 *                 the case normally ("exit point").  The rest of the page
 *                 is filled with 0xCC (int3); a correct case never gets
 *                 there.  Guest code never reads its own code bytes.
 *   HD_DATA_BASE  0x20000000  64 KiB read + write, NOT executable.
 *                 Filled before every case by hd_fill_data(data_seed)
 *                 and then hd_apply_patches().  Memory operands, string
 *                 ops and the stack all live here; ESP starts in the top
 *                 part (HD_STACK_LOW..HD_DATA_END), so pushes are covered
 *                 by the final data hash.
 *   Everything else in the 4 GB space is unmapped for the guest.  The
 *   runner keeps HD_GUARD_SIZE on both sides of each region reserved so a
 *   stray access there is a guaranteed #PF.  Low memory (< 64 KiB, where
 *   16-bit addressing lands) is never mapped either.
 *
 * #PF error codes as the host reports them (user mode, bit 2 always set):
 *   not-present read 0x04, not-present write 0x06, write to code 0x07,
 *   instruction fetch from data 0x15 (NX), fetch from unmapped 0x14.
 *
 * ---------------------------------------------------------------------------
 * Initial state: case.regs (EIP must be HD_CODE_BASE).  Only these EFLAGS
 * bits are taken from the case: CF PF AF ZF SF DF OF AC (HD_EFLAGS_CASE);
 * bit 1 and IF are always set, everything else clear.  Segment registers
 * are the host's flat user selectors and are never read or written by a
 * generated case.  x87 state: case.fpu, loaded as if by FRSTOR (so only
 * "empty / not empty" of each tag matters; all exceptions stay masked).
 *
 * Final state (hd_result):
 *   status HD_ST_OK:      the exit point was reached; regs.eip == exit point.
 *   status HD_ST_FAULT:   the CPU raised an exception.  vector/error_code
 *                         are what the CPU reported; fault_addr is CR2 for
 *                         #PF (0 otherwise).  regs/fpu/data are the state
 *                         the handler saw: for faults (#DE #UD #GP #PF #AC
 *                         #BR #MF) regs.eip is the faulting instruction and
 *                         the state is from before it (except rep string
 *                         ops, which stop at the faulting iteration); for
 *                         traps (#OF from INTO, #BP) regs.eip is the next
 *                         instruction.  RF is cleared in regs.eflags.
 *   status HD_ST_TIMEOUT: still running after the watchdog period; the
 *                         state is wherever the CPU was interrupted and
 *                         should not be compared.
 *   status HD_ST_BAD_CASE: the record was malformed; nothing was run.
 *
 * What to compare (comparator's job; hd_case_mark_at() gives the masks):
 *   - gpr[0..7], eip, status, vector, error_code, fault_addr, data_hash;
 *   - eflags & mark.eflags_defined   (mark for the final EIP: the exit
 *     point, or the faulting instruction; see "marks" below);
 *   - fpu.fcw, fpu.fsw & (mark.fsw_defined | ~HD_FSW_CC), fpu.ftw,
 *     fpu.st[0..7] (all 80 bits of all 8 registers, including empty ones:
 *     their stale contents are architecturally preserved).
 *   - NOT fpu.fop/fip/fcs/fdp/fds (last-instruction pointers; informational).
 *   - cases with HD_CF_TRANSCENDENTAL set ran FSIN/FCOS/FSINCOS/FPTAN/
 *     FPATAN/F2XM1/FYL2X/FYL2XP1: allow a few ulp in the affected st[]
 *     values and do not compare C1 (round-up indicator) or PE.
 *
 * Marks (undefined flags): the Intel SDM leaves some EFLAGS bits undefined
 * after many instructions (e.g. AF after AND, SF/ZF/AF/PF after MUL, all
 * six after DIV), and leaves FSW C0..C3 undefined after most x87
 * instructions.  The generator knows what it emitted, so it tracks per bit
 * whether the value is defined: each instruction sets the bits it defines,
 * clears the bits it leaves undefined, and keeps the rest.  At control-flow
 * joins it takes the intersection of the incoming paths.  The generator
 * also never lets an instruction *consume* an undefined flag (ADC, SETcc,
 * Jcc, PUSHF, LAHF, DAA, FNSTSW...): it first emits a flag-defining CMP
 * (or FXAM for the FSW).  It records the masks valid *before* each
 * instruction in case.marks[] (sorted by code offset), plus one final mark
 * at offset code_len for the exit point, so a fault anywhere in the
 * sequence can be compared with the right mask.
 *
 * Register results the SDM calls undefined are avoided by the generator
 * (SHLD/SHRD 16-bit with count > 16, BSWAP r16, F2XM1/FYL2XP1 outside
 * their domain, FBLD with invalid digits) except BSF/BSR with a zero
 * source: the host (Intel) leaves the destination unchanged, as AMD
 * documents; fox86 is expected to do the same.
 */
#ifndef FOX86_TESTS_HOSTDIFF_H
#define FOX86_TESTS_HOSTDIFF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- sandbox layout ---------------------------------------------------- */
#define HD_CODE_BASE   0x10000000u
#define HD_CODE_SIZE   0x1000u               /* one page */
#define HD_CODE_MAX    2048u                 /* max case.code_len */
#define HD_EXIT_STUB_MAX 16u                 /* room the runner needs after code */
#define HD_DATA_BASE   0x20000000u
#define HD_DATA_SIZE   0x10000u              /* 64 KiB */
#define HD_DATA_END    (HD_DATA_BASE + HD_DATA_SIZE)
#define HD_STACK_LOW   (HD_DATA_BASE + 0xC000u) /* generator keeps ESP in [LOW, END) */
#define HD_GUARD_SIZE  0x10000u              /* unmapped guard on both sides */

/* ---- register indices (ModRM order) ----------------------------------- */
enum { HD_EAX, HD_ECX, HD_EDX, HD_EBX, HD_ESP, HD_EBP, HD_ESI, HD_EDI };

/* ---- EFLAGS bits ------------------------------------------------------- */
#define HD_CF 0x0001u
#define HD_PF 0x0004u
#define HD_AF 0x0010u
#define HD_ZF 0x0040u
#define HD_SF 0x0080u
#define HD_TF 0x0100u
#define HD_IF 0x0200u
#define HD_DF 0x0400u
#define HD_OF 0x0800u
#define HD_RF 0x10000u
#define HD_AC 0x40000u
#define HD_ARITH_FLAGS (HD_CF | HD_PF | HD_AF | HD_ZF | HD_SF | HD_OF)
/* bits of case.regs.eflags the runner honours */
#define HD_EFLAGS_CASE (HD_ARITH_FLAGS | HD_DF | HD_AC)
/* bits always set in the initial EFLAGS */
#define HD_EFLAGS_FIXED (0x0002u | HD_IF)

/* ---- x87 status word bits ---------------------------------------------- */
#define HD_FSW_C0 0x0100u
#define HD_FSW_C1 0x0200u
#define HD_FSW_C2 0x0400u
#define HD_FSW_C3 0x4000u
#define HD_FSW_CC (HD_FSW_C0 | HD_FSW_C1 | HD_FSW_C2 | HD_FSW_C3)

struct hd_regs {
    uint32_t gpr[8];        /* EAX ECX EDX EBX ESP EBP ESI EDI (HD_EAX...) */
    uint32_t eflags;
    uint32_t eip;
};

/*
 * x87 state, the contents of a 32-bit protected-mode FSAVE image with the
 * fields unpacked.  st[i] is ST(i) (stack order, relative to TOP, exactly as
 * FSAVE lays it out), 80 bits little-endian: 8 bytes significand, then
 * 2 bytes sign+exponent.  ftw is the full 2-bits-per-PHYSICAL-register tag
 * word (00 valid, 01 zero, 10 special, 11 empty).  TOP is fsw bits 11..13.
 */
struct hd_fpu {
    uint16_t fcw, fsw, ftw;
    uint16_t fop;           /* last opcode, 11 bits; informational */
    uint32_t fip, fdp;      /* last instruction / data pointer; informational */
    uint16_t fcs, fds;      /* informational */
    uint8_t st[8][10];
};

/* bytes written over the filled data region before the case starts */
struct hd_patch {
    uint32_t offset;        /* from HD_DATA_BASE; offset + len <= HD_DATA_SIZE */
    uint8_t len;            /* 1..11 */
    uint8_t bytes[11];
};

/* masks valid before the instruction at code offset `offset` runs */
struct hd_mark {
    uint16_t offset;
    uint16_t fsw_defined;   /* HD_FSW_CC bits whose value is defined */
    uint32_t eflags_defined;/* EFLAGS bits whose value is defined */
};

#define HD_CASE_MAGIC   0x43443866u   /* "f8DC" */
#define HD_RESULT_MAGIC 0x52443866u   /* "f8DR" */
#define HD_MAX_PATCHES  16
#define HD_MAX_MARKS    256

/* case_flags */
#define HD_CF_TRANSCENDENTAL 0x1u     /* allow ulp tolerance, see above */
#define HD_CF_EXPECT_FAULT   0x2u     /* generator deliberately ended with a
                                         faulting instruction (informational) */

struct hd_case {
    uint32_t magic;         /* HD_CASE_MAGIC */
    uint32_t case_flags;    /* HD_CF_* */
    uint64_t case_id;       /* echoed in the result (the generator uses its seed) */
    uint64_t data_seed;     /* hd_fill_data() seed */
    struct hd_regs regs;    /* initial state, regs.eip == HD_CODE_BASE */
    struct hd_fpu fpu;      /* initial x87 state */
    uint32_t code_len;      /* <= HD_CODE_MAX */
    uint32_t n_patches;     /* <= HD_MAX_PATCHES */
    uint32_t n_marks;       /* <= HD_MAX_MARKS, sorted by offset, last one at code_len */
    uint32_t reserved;      /* 0 */
    struct hd_patch patches[HD_MAX_PATCHES];
    struct hd_mark marks[HD_MAX_MARKS];
    uint8_t code[HD_CODE_MAX];
    uint32_t reserved_end;  /* 0; keeps the size a multiple of 8 on i386 too */
};

enum hd_status {
    HD_ST_OK = 0,
    HD_ST_FAULT = 1,
    HD_ST_TIMEOUT = 2,
    HD_ST_BAD_CASE = 3,
};

/* exception vectors as reported in hd_result.vector */
enum hd_vector {
    HD_VEC_DE = 0, HD_VEC_DB = 1, HD_VEC_BP = 3, HD_VEC_OF = 4, HD_VEC_BR = 5,
    HD_VEC_UD = 6, HD_VEC_GP = 13, HD_VEC_PF = 14, HD_VEC_MF = 16, HD_VEC_AC = 17,
};

struct hd_result {
    uint32_t magic;         /* HD_RESULT_MAGIC */
    uint32_t status;        /* enum hd_status */
    uint64_t case_id;       /* copied from the case */
    uint64_t data_hash;     /* hd_hash_data() of the final data region */
    struct hd_regs regs;    /* final state (see top of file) */
    struct hd_fpu fpu;
    uint32_t vector;        /* HD_ST_FAULT: enum hd_vector; else 0 */
    uint32_t error_code;    /* HD_ST_FAULT: CPU error code (0 if none) */
    uint32_t fault_addr;    /* #PF: CR2; else 0 */
    int32_t host_signo;     /* native side: Linux signal; informational */
    int32_t host_si_code;   /* native side: siginfo si_code; informational */
    uint32_t reserved[2];   /* 0; keeps the size a multiple of 8 on i386 too */
};

_Static_assert(sizeof(struct hd_regs) == 40, "hd_regs layout");
_Static_assert(sizeof(struct hd_fpu) == 100, "hd_fpu layout");
_Static_assert(sizeof(struct hd_patch) == 16, "hd_patch layout");
_Static_assert(sizeof(struct hd_mark) == 8, "hd_mark layout");
_Static_assert(offsetof(struct hd_case, regs) == 24, "hd_case layout");
_Static_assert(offsetof(struct hd_case, code_len) == 164, "hd_case layout");
_Static_assert(offsetof(struct hd_case, patches) == 180, "hd_case layout");
_Static_assert(offsetof(struct hd_case, code) == 180 + 16 * HD_MAX_PATCHES + 8 * HD_MAX_MARKS,
               "hd_case layout");
_Static_assert(sizeof(struct hd_case) == 180 + 16 * HD_MAX_PATCHES + 8 * HD_MAX_MARKS + HD_CODE_MAX + 4,
               "hd_case size (trailing pad to 8)");
_Static_assert(offsetof(struct hd_result, regs) == 24, "hd_result layout");
_Static_assert(offsetof(struct hd_result, vector) == 164, "hd_result layout");
_Static_assert(sizeof(struct hd_result) == 192, "hd_result size");

/* ---- deterministic data fill, hashing ---------------------------------- */

/* SplitMix64 finaliser: a bijective 64-bit mixer. */
static inline uint64_t hd_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

/*
 * Initial data-region contents: 64-bit word i (byte offset 8*i) is
 * hd_mix64(seed + (i + 1) * 0x9E3779B97F4A7C15), stored little-endian.
 * Counter-based, so any word can be computed on its own.
 */
static inline uint64_t hd_data_word(uint64_t seed, uint32_t word_index)
{
    return hd_mix64(seed + (uint64_t)(word_index + 1u) * 0x9E3779B97F4A7C15ull);
}

static inline void hd_fill_data(uint8_t *data, uint64_t seed)
{
    for (uint32_t i = 0; i < HD_DATA_SIZE / 8; i++) {
        uint64_t w = hd_data_word(seed, i);
        for (int b = 0; b < 8; b++)
            data[8 * i + (uint32_t)b] = (uint8_t)(w >> (8 * b));
    }
}

/* Applies case->patches in order; out-of-range patches are skipped. */
static inline void hd_apply_patches(uint8_t *data, const struct hd_case *c)
{
    uint32_t n = c->n_patches <= HD_MAX_PATCHES ? c->n_patches : HD_MAX_PATCHES;
    for (uint32_t i = 0; i < n; i++) {
        const struct hd_patch *p = &c->patches[i];
        if (p->len == 0 || p->len > sizeof p->bytes || p->offset > HD_DATA_SIZE - p->len)
            continue;
        memcpy(data + p->offset, p->bytes, p->len);
    }
}

/*
 * Hash of the final data region: FNV-1a style over 64-bit little-endian
 * words (h ^= word; h *= FNV64 prime).  Each step is a bijection of h, so
 * any single changed word always changes the result.
 */
static inline uint64_t hd_hash_data(const uint8_t *data)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (uint32_t i = 0; i < HD_DATA_SIZE; i += 8) {
        uint64_t w = 0;
        for (int b = 7; b >= 0; b--)
            w = (w << 8) | data[i + (uint32_t)b];
        h ^= w;
        h *= 0x100000001B3ull;
    }
    return h;
}

/* ---- FSAVE image conversion (108 bytes, 32-bit protected-mode format) --- */

#define HD_FSAVE_SIZE 108

static inline void hd_fpu_to_fsave(const struct hd_fpu *f, uint8_t img[HD_FSAVE_SIZE])
{
    uint32_t words[7] = {
        0xFFFF0000u | f->fcw, 0xFFFF0000u | f->fsw, 0xFFFF0000u | f->ftw,
        f->fip, (uint32_t)f->fcs | ((uint32_t)(f->fop & 0x7FFu) << 16),
        f->fdp, 0xFFFF0000u | f->fds,
    };
    for (int i = 0; i < 7; i++)
        for (int b = 0; b < 4; b++)
            img[4 * i + b] = (uint8_t)(words[i] >> (8 * b));
    memcpy(img + 28, f->st, 80);
}

static inline void hd_fpu_from_fsave(struct hd_fpu *f, const uint8_t img[HD_FSAVE_SIZE])
{
    uint32_t words[7];
    for (int i = 0; i < 7; i++)
        words[i] = (uint32_t)img[4 * i] | (uint32_t)img[4 * i + 1] << 8 |
                   (uint32_t)img[4 * i + 2] << 16 | (uint32_t)img[4 * i + 3] << 24;
    f->fcw = (uint16_t)words[0];
    f->fsw = (uint16_t)words[1];
    f->ftw = (uint16_t)words[2];
    f->fip = words[3];
    f->fcs = (uint16_t)words[4];
    f->fop = (uint16_t)((words[4] >> 16) & 0x7FFu);
    f->fdp = words[5];
    f->fds = (uint16_t)words[6];
    memcpy(f->st, img + 28, 80);
}

/* ---- marks ---------------------------------------------------------------- */

/*
 * Mark for code offset `offset` (eip - HD_CODE_BASE), or NULL if no
 * instruction of the case starts there (which itself is a finding when a
 * fault is reported at that EIP).
 */
static inline const struct hd_mark *hd_case_mark_at(const struct hd_case *c, uint32_t offset)
{
    uint32_t n = c->n_marks <= HD_MAX_MARKS ? c->n_marks : HD_MAX_MARKS;
    for (uint32_t i = 0; i < n; i++)
        if (c->marks[i].offset == offset)
            return &c->marks[i];
    return NULL;
}

#endif /* FOX86_TESTS_HOSTDIFF_H */
