/* translator/scan.c: the block scanner.
 *
 * Decodes from one byte offset of a guest page until an instruction whose
 * class (core/ops.def) is not zero (included: it is the block's last, a
 * control transfer, a callout or something with mode effects; callouts
 * that only read state or clear IF, scan_callout_continues, may be inside:
 * kernel code's PUSHF/CLI pairs and delay loops' RDTSC; with past_jcc a
 * conditional jump too, which the native backend turns into a side exit,
 * so a loop body's fall-through paths are one block), the end of
 * the page, an instruction that cannot run (not included: the interpreter
 * raises its #UD / #GP when it gets there), a 16-bit EIP wrap, or the
 * length limit.
 *
 * A block never spans two physical pages in this version: its validity is
 * then one code generation (the page's, mmu/phys.h) compared on entry, the
 * linear-to-physical mapping of every instruction is that of its first
 * byte (which the caller looked up in the TLB), and a fetch fault on the
 * next page happens in the interpreter, in order. An instruction that
 * crosses the page therefore ends the block before it.
 *
 * Usage: see tcache.h (scan_block).
 */
#include "tcache.h"

bool scan_callout_continues(unsigned op)
{
    switch (op) {
    /* they only read state (the virtual CPU's included) or clear IF:
     * nothing the block's translation depends on, no interrupt to take */
    case OP_RDTSC: case OP_CPUID: case OP_PUSHF: case OP_CLI:
    case OP_PUSH_SREG: case OP_MOV_FROM_SREG: case OP_SMSW: case OP_STR:
    case OP_SGDT: case OP_SIDT: case OP_SLDT: case OP_LAR: case OP_LSL:
    case OP_VERR: case OP_VERW:
        return true;
    default:
        return false;
    }
}

int scan_block(const uint8_t *page, uint32_t offset, uint32_t eip, bool code32, bool past_jcc,
               struct insn *out, int max, enum scan_end *why, uint32_t *bytes)
{
    uint32_t eip_mask = code32 ? 0xFFFFFFFFu : 0xFFFFu;
    uint32_t off = offset;
    int n = 0;
    if (max > SCAN_MAX_INSNS)
        max = SCAN_MAX_INSNS;
    *why = SCAN_END_LIMIT;
    while (n < max) {
        if (off >= 4096u) {
            *why = SCAN_END_PAGE;
            break;
        }
        struct insn *in = &out[n];
        if (decode_insn(in, page + off, 4096u - off, code32) == 0) {
            *why = SCAN_END_PAGE;   /* needs bytes of the next page */
            break;
        }
        if (in->op == OP_INVALID || !exec_table[in->op]) {
            *why = SCAN_END_UNDECODED;
            break;
        }
        /* 16-bit code: an instruction running past 0xFFFF continues at 0
         * (or faults on the limit); leave that to the interpreter. */
        if (!code32 && (eip & 0xFFFFu) + in->len > 0x10000u) {
            *why = SCAN_END_WRAP;
            break;
        }
        off += in->len;
        eip = (eip + in->len) & eip_mask;
        n++;
        if (op_info[in->op].cls != 0 && !scan_callout_continues(in->op) &&
            !(past_jcc && in->op == OP_JCC)) {
            *why = SCAN_END_CLASS;
            break;
        }
        if (eip == 0 && !code32) {
            *why = SCAN_END_WRAP;   /* the next one is at IP 0, not after this one */
            break;
        }
    }
    *bytes = off - offset;
    return n;
}
