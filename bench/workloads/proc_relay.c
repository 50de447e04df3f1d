/* bench/workloads/proc_relay.c: copies stdin to stdout until end of file,
 * like cat; the pipeline stage of proc_script.sh. Exits 1 on an error. */
#include "proc_sys.h"

int proc_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    char buf[4096];
    long n;
    while ((n = sys_read(0, buf, sizeof(buf))) > 0) {
        for (long done = 0; done < n;) {
            long w = sys_write(1, buf + done, n - done);
            if (w <= 0)
                return 1;
            done += w;
        }
    }
    return n < 0;
}
