/* tests/fuzz/fuzz_decoder.c: libFuzzer target for decode_insn, insn_class
 * and insn_format.
 *
 * Each input is decoded in 32- and 16-bit mode; the run aborts on any broken
 * invariant:
 *   - a return of 0 ("need more bytes") only when fewer than 15 bytes were
 *     available; otherwise return == len, 1 <= len <= 15, len <= size;
 *   - the decode depends only on the first len bytes (decoding exactly len
 *     bytes gives the same struct) and needs all of them (len - 1 bytes
 *     return 0);
 *   - fields in range: op, sizes, seg, cond, EA registers, operand kinds and
 *     registers, at most one memory operand, and without ModRM only as
 *     moffs; LOCK only with a memory destination; OP_INVALID has no operands;
 *     too_long only as OP_INVALID with len 15;
 *   - insn_format returns the length it wrote, NUL-terminates and truncates
 *     cleanly into small buffers.
 *
 * Build and run (from the source root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icore \
 *     tests/fuzz/fuzz_decoder.c core/decode.c core/opcodes.c core/op_info.c -o fuzz_decoder
 *   ./fuzz_decoder -max_len=32 -max_total_time=300 corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/insn.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

static void check_fields(const struct insn *in)
{
    REQUIRE(in->op < OP_COUNT);
    REQUIRE(in->opsize == 2 || in->opsize == 4);
    REQUIRE(in->addrsize == 2 || in->addrsize == 4);
    REQUIRE(in->seg < 6);
    REQUIRE(in->cond < 16);
    REQUIRE(in->map <= 1);
    REQUIRE(in->ea_scale <= 3);
    REQUIRE(in->ea_base < 8 || in->ea_base == EA_NONE);
    REQUIRE(in->ea_index < 8 || in->ea_index == EA_NONE);
    REQUIRE(in->ea_index != 4);
    REQUIRE(in->nopnd <= 3);
    REQUIRE(!in->too_long || (in->op == OP_INVALID && in->len == INSN_MAX_LEN));
    if (in->op == OP_INVALID)
        REQUIRE(in->nopnd == 0);

    int nmem = 0;
    for (int i = 0; i < in->nopnd; i++) {
        const struct opnd *o = &in->opnd[i];
        REQUIRE(o->kind >= OPND_REG && o->kind <= OPND_STRING);
        REQUIRE(o->size != 0);
        REQUIRE(o->reg < 8);
        if (o->kind == OPND_REG)
            REQUIRE(o->size == 1 || o->size == 2 || o->size == 4);
        if (o->kind == OPND_SREG)
            REQUIRE(o->reg < 6);
        if (o->kind == OPND_IMM)
            REQUIRE(o->reg <= 1);
        nmem += o->kind == OPND_MEM;
    }
    REQUIRE(nmem <= 1);
    if (in->op != OP_INVALID && (in->prefixes & PFX_LOCK))
        REQUIRE(in->opnd[0].kind == OPND_MEM);
    if (nmem && !in->has_modrm)
        REQUIRE(in->map == 0 && in->opcode >= 0xA0 && in->opcode <= 0xA3);
}

static void check_format(const struct insn *in)
{
    char full[160], small[12];
    int n = insn_format(in, 0x1000, full, sizeof full);
    REQUIRE(n >= 0 && (size_t)n < sizeof full);
    REQUIRE(strlen(full) == (size_t)n);
    int m = insn_format(in, 0xFFFFFFF0u, small, sizeof small);
    REQUIRE(m >= 0 && (size_t)m < sizeof small);
    REQUIRE(strlen(small) == (size_t)m);
    REQUIRE(insn_format(in, 0, small, 0) == 0);
}

static void check_mode(const uint8_t *data, size_t size, bool code32)
{
    struct insn in, again;
    size_t ret = decode_insn(&in, data, size, code32);
    if (ret == 0) {
        REQUIRE(size < INSN_MAX_LEN);
        return;
    }
    REQUIRE(ret == in.len && ret >= 1 && ret <= INSN_MAX_LEN && ret <= size);
    check_fields(&in);
    (void)insn_class(&in);
    check_format(&in);

    REQUIRE(decode_insn(&again, data, ret, code32) == ret);
    REQUIRE(memcmp(&in, &again, sizeof in) == 0);
    REQUIRE(decode_insn(&again, data, ret - 1, code32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_mode(data, size, true);
    check_mode(data, size, false);
    return 0;
}
