/* tests/unit/fault_of.h: run a statement on a CPU-less test fixture and
 * catch the exception it raises (cpu_raise longjmps to cpu->fault_env).
 *
 * Usage (a fixture with a struct cpu and a jmp_buf):
 *   int v = CPU_FAULT_OF(&f->cpu, &f->env, (void)cpu_read32(&f->cpu, addr));
 *   ck_assert_int_eq(v, EXC_PF);             NO_FAULT if nothing was raised
 */
#ifndef FOX86_TESTS_FAULT_OF_H
#define FOX86_TESTS_FAULT_OF_H

#include <setjmp.h>

#ifndef NO_FAULT
#define NO_FAULT (-1)
#endif

#define CPU_FAULT_OF(cpu_ptr, env_ptr, stmt) __extension__({      \
        volatile int vector_ = NO_FAULT;                          \
        (cpu_ptr)->fault_env = (env_ptr);                         \
        (cpu_ptr)->pending_vector = NO_FAULT;                     \
        if (setjmp(*(env_ptr)) == 0) {                            \
            stmt;                                                 \
        } else {                                                  \
            vector_ = (cpu_ptr)->pending_vector;                  \
        }                                                         \
        vector_;                                                  \
    })

#endif
