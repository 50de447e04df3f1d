/* bench/workloads/proc_clock.c: prints CLOCK_MONOTONIC in microseconds;
 * proc_script.sh reads it before and after its loop. */
#include "proc_sys.h"

int proc_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    put_u64(now_us());
    put_str("\n");
    return 0;
}
