/*
 * gen.h - random instruction-sequence generator for the fox86 host
 * differential test (see hostdiff.h for the case format).
 *
 * Plain portable C: builds for i386 (native_runner) and x86-64 (the fox86
 * interpreter side) and produces bit-identical cases on both, because it
 * only uses its own PRNG and fixed-width integer arithmetic.
 */
#ifndef FOX86_TESTS_HOSTDIFF_GEN_H
#define FOX86_TESTS_HOSTDIFF_GEN_H

#include <stdint.h>

#include "hostdiff.h"

/*
 * Fills *out with a complete case derived only from `seed`: initial
 * registers/EFLAGS/x87 state, data seed and patches, 5-30 random user-level
 * instructions (plus the setup moves and flag-defining compares the
 * generator inserts), and the undefined-flag marks.  The code does NOT
 * contain the final exit jump: execution ends when EIP reaches
 * HD_CODE_BASE + out->code_len (the runner puts its exit stub there).
 * out->case_id = seed.
 */
void gen_case(uint64_t seed, struct hd_case *out);

#endif /* FOX86_TESTS_HOSTDIFF_GEN_H */
