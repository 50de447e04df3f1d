/* bench/workloads/proc_pingpong.c: one byte back and forth between two
 * processes over two pipes.
 *
 *   proc_pingpong [TRIPS]              (default 20000)
 *
 * The parent writes a byte, the child reads it and answers with the byte
 * plus one, TRIPS times; every trip is two context switches between two
 * address spaces. Prints "pingpong trips=TRIPS bad=B guest_us=T" where B
 * counts wrong or missing answers (and a child that did not exit 0) and T
 * is the loop's CLOCK_MONOTONIC time. Exit status 0 when B is 0. */
#include "proc_sys.h"

static int child(int in, int out, uint32_t trips)
{
    unsigned char byte;
    for (uint32_t i = 0; i < trips; i++) {
        if (sys_read(in, &byte, 1) != 1)
            return 1;
        byte++;
        if (sys_write(out, &byte, 1) != 1)
            return 1;
    }
    return 0;
}

int proc_main(int argc, char **argv, char **envp)
{
    (void)envp;
    uint32_t trips = arg_u32(argc, argv, 1, 20000);
    int to_child[2], to_parent[2];
    if (sys_pipe(to_child) < 0 || sys_pipe(to_parent) < 0) {
        put_str("pingpong: pipe failed\n");
        return 1;
    }
    uint64_t t0 = now_us();
    long pid = sys_fork();
    if (pid == 0) {
        sys_close(to_child[1]);
        sys_close(to_parent[0]);
        sys_exit(child(to_child[0], to_parent[1], trips));
    }
    sys_close(to_child[0]);
    sys_close(to_parent[1]);
    uint32_t bad = pid < 0 ? trips : 0;
    unsigned char byte = 0, answer;
    for (uint32_t i = 0; i < trips && pid > 0; i++) {
        byte = (unsigned char)(byte + 7);
        if (sys_write(to_child[1], &byte, 1) != 1 || sys_read(to_parent[0], &answer, 1) != 1) {
            bad += trips - i;
            break;
        }
        if (answer != (unsigned char)(byte + 1))
            bad++;
    }
    sys_close(to_child[1]);
    int status = -1;
    if (pid > 0 && (sys_wait(pid, &status) != pid || status != 0))
        bad++;
    uint64_t t1 = now_us();
    put_str("pingpong trips=");
    put_u64(trips);
    put_str(" bad=");
    put_u64(bad);
    put_str(" guest_us=");
    put_u64(t1 - t0);
    put_str("\n");
    return bad != 0;
}
