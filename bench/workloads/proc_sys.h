/* bench/workloads/proc_sys.h: the whole runtime of the process workloads
 * (proc_*.c): i386 Linux system calls through int $0x80, a _start that
 * calls proc_main(argc, argv, envp) and exits with its result, and
 * decimal input/output.
 *
 * The programs are static, freestanding and libc-free so that a fork+exec
 * of one costs the kernel's process work and almost nothing else, and so
 * that the same binary runs inside the i386 guest and natively on an
 * x86-64 host (whose kernel serves int $0x80 to 32-bit processes).
 * Include this header from exactly one .c file per program. */
#ifndef FOX86_BENCH_PROC_SYS_H
#define FOX86_BENCH_PROC_SYS_H

#include <stdint.h>

enum {
    SYS_EXIT = 1, SYS_FORK = 2, SYS_READ = 3, SYS_WRITE = 4, SYS_CLOSE = 6,
    SYS_EXECVE = 11, SYS_PIPE = 42, SYS_WAIT4 = 114, SYS_CLOCK_GETTIME = 265,
};
#define CLOCK_MONOTONIC 1

static inline long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}
static inline long sys4(long nr, long a, long b, long c, long d)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
    return ret;
}

static inline __attribute__((noreturn)) void sys_exit(int status)
{
    for (;;)
        sys3(SYS_EXIT, status, 0, 0);
}
static inline long sys_fork(void) { return sys3(SYS_FORK, 0, 0, 0); }
static inline long sys_read(int fd, void *buf, long n) { return sys3(SYS_READ, fd, (long)buf, n); }
static inline long sys_write(int fd, const void *buf, long n) { return sys3(SYS_WRITE, fd, (long)buf, n); }
static inline long sys_close(int fd) { return sys3(SYS_CLOSE, fd, 0, 0); }
static inline long sys_pipe(int fds[2]) { return sys3(SYS_PIPE, (long)fds, 0, 0); }
static inline long sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return sys3(SYS_EXECVE, (long)path, (long)argv, (long)envp);
}
/* Waits for `pid`; returns the pid or a negative errno, *status as wait(2). */
static inline long sys_wait(long pid, int *status) { return sys4(SYS_WAIT4, pid, (long)status, 0, 0); }

/* Microseconds of CLOCK_MONOTONIC (the 32-bit timespec call: enough for a
 * bench, and served by every i386 kernel and by x86-64 compat). */
static inline uint64_t now_us(void)
{
    struct { int32_t sec, nsec; } ts = {0, 0};
    sys3(SYS_CLOCK_GETTIME, CLOCK_MONOTONIC, (long)&ts, 0);
    return (uint64_t)(uint32_t)ts.sec * 1000000u + (uint32_t)ts.nsec / 1000u;
}

static inline long str_len(const char *s)
{
    long n = 0;
    while (s[n])
        n++;
    return n;
}
static inline void put_str(const char *s) { sys_write(1, s, str_len(s)); }
static inline void put_u64(uint64_t v)
{
    char buf[24];
    int i = sizeof(buf);
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sys_write(1, buf + i, (long)sizeof(buf) - i);
}
/* A decimal argument, or `fallback` when absent or malformed. */
static inline uint32_t arg_u32(int argc, char **argv, int i, uint32_t fallback)
{
    if (i >= argc || !argv[i][0])
        return fallback;
    uint32_t v = 0;
    for (const char *p = argv[i]; *p; p++) {
        if (*p < '0' || *p > '9')
            return fallback;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    return v;
}

int proc_main(int argc, char **argv, char **envp);
/* Global, not static: called from the asm below with the plain cdecl ABI. */
__attribute__((noreturn)) void proc_start_c(long *sp);

/* The kernel enters with argc, argv[], NULL, envp[], NULL on the stack; the
 * call gets a 16-byte aligned stack as the i386 ABI asks. */
__attribute__((noreturn)) void proc_start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    sys_exit(proc_main(argc, argv, argv + argc + 1));
}
__asm__(".text\n.globl _start\n_start:\n"
        "  xorl %ebp, %ebp\n"
        "  movl %esp, %eax\n"
        "  andl $-16, %esp\n"
        "  subl $12, %esp\n"
        "  pushl %eax\n"
        "  call proc_start_c\n"
        "  hlt\n");

#endif
