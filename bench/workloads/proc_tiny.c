/* bench/workloads/proc_tiny.c: exits with status 0 at once. The program
 * that proc_forkexec and proc_script.sh run over and over: a fork+exec of
 * it is almost all kernel process work (fork, exec, exit, wait). */
#include "proc_sys.h"

int proc_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    return 0;
}
