/* core/op_info.c: the mnemonic and class bits of every operation, generated
 * from ops.def. Kept apart from the dispatch table (exec_table.c) so that the
 * decoder, its tests and fuzzers link without any handler.
 *
 * Usage: op_info[in.op].mnemonic, op_info[in.op].cls (see insn_class()).
 */
#include "insn.h"

const struct op_info op_info[OP_COUNT] = {
    [OP_INVALID] = { "(bad)", 0 },
#define X(name, mnem, cls) [OP_##name] = { mnem, cls },
#include "ops.def"
#undef X
};
