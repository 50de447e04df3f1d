/* bench/workloads/proc_forkexec.c: the fork+exec loop.
 *
 *   proc_forkexec [RUNS [PROGRAM]]     (defaults 2000, ./proc_tiny)
 *
 * RUNS times: fork, exec PROGRAM in the child, wait for it in the parent.
 * Prints "forkexec runs=RUNS failed=F guest_us=T" where F counts children
 * that did not exit with status 0 (an exec that failed exits 127) and T is
 * the loop's CLOCK_MONOTONIC time. Exit status 0 when F is 0. */
#include "proc_sys.h"

int proc_main(int argc, char **argv, char **envp)
{
    uint32_t runs = arg_u32(argc, argv, 1, 2000);
    char *program = argc > 2 ? argv[2] : "./proc_tiny";
    char *child_argv[] = {program, 0};
    uint32_t failed = 0;
    uint64_t t0 = now_us();
    for (uint32_t i = 0; i < runs; i++) {
        long pid = sys_fork();
        if (pid == 0) {
            sys_execve(program, child_argv, envp);
            sys_exit(127);
        }
        int status = -1;
        if (pid < 0 || sys_wait(pid, &status) != pid || status != 0)
            failed++;
    }
    uint64_t t1 = now_us();
    put_str("forkexec runs=");
    put_u64(runs);
    put_str(" failed=");
    put_u64(failed);
    put_str(" guest_us=");
    put_u64(t1 - t0);
    put_str("\n");
    return failed != 0;
}
