/* tests/unit/harness.h: what the instruction-level unit tests share.
 *
 * A fixture is a CPU with its own guest RAM and port space, reset and with
 * the dispatch table filled; exec_one() runs one decoded (or hand-built)
 * instruction through its handler exactly as the run loop would, and
 * reports the exception it raised. Header-only: each test is one program.
 *
 * Usage:
 *   struct fixture *fx = fixture_new(4u << 20);
 *   int vector = exec_one(&fx->cpu, &in);     (NO_FAULT if none)
 *   fixture_free(fx);
 */
#ifndef FOX86_TESTS_HARNESS_H
#define FOX86_TESTS_HARNESS_H

#include <check.h>
#include <setjmp.h>
#include <stdlib.h>

#include "core/cpu.h"
#include "core/exec.h"
#include "core/ioport.h"
#include "mmu/phys.h"

#define NO_FAULT (-1)

struct fixture {
    struct phys_mem pm;
    struct ioport_map io;
    struct cpu cpu;
};

static inline struct fixture *fixture_new(uint32_t ram_size)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || phys_init(&fx->pm, ram_size) != 0)
        ck_abort_msg("cannot allocate a %u-byte test machine", ram_size);
    ioport_map_init(&fx->io);
    cpu_init(&fx->cpu, &fx->pm, &fx->io);
    cpu_reset(&fx->cpu);
    exec_table_init();
    return fx;
}

static inline void fixture_free(struct fixture *fx)
{
    cpu_destroy(&fx->cpu);
    phys_free(&fx->pm);
    free(fx);
}

/* Runs one instruction at cpu->eip; returns the vector it raised or
 * NO_FAULT. Like the run loop it sets next_eip but does not commit EIP.
 * (No Check assertion on the passing path: Check writes to a pipe on every
 * passing assertion, which dominates tests that run millions of these.) */
static inline int exec_one(struct cpu *cpu, const struct insn *in)
{
    jmp_buf env;
    if (!exec_table[in->op])
        ck_abort_msg("no handler for op %d (%s)", in->op, op_info[in->op].mnemonic);
    cpu->fault_env = &env;
    cpu->pending_vector = NO_FAULT;
    cpu->pending_error = NO_ERROR_CODE;
    cpu->next_eip = cpu->eip + in->len;
    if (setjmp(env) == 0) {
        exec_table[in->op](cpu, in);
        cpu->fault_env = NULL;
        return NO_FAULT;
    }
    cpu->fault_env = NULL;
    return cpu->pending_vector;
}

#endif
