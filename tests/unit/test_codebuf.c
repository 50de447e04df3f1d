/* tests/unit/test_codebuf.c: the dual-mapped code arena (translator/codebuf.c).
 *
 * Allocation and alignment, exhaustion (NULL + ENOSPC), reset, open-ended
 * emission through cursor/commit, code written through the RW view running
 * from the RX view, and W^X: /proc/self/maps shows the two views as rw-p
 * and r-xp, and a forked child that writes through the RX view or jumps
 * into the RW view dies of SIGSEGV. Failure paths: size 0 is EINVAL; an
 * address-space limit makes the mapping fail with NULL + ENOMEM.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "translator/codebuf.h"

START_TEST(test_alloc_exhaust_reset)
{
    struct codebuf *cb = codebuf_create(10000);
    ck_assert_ptr_nonnull(cb);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    ck_assert_uint_eq(codebuf_size(cb) % page, 0);
    ck_assert_uint_ge(codebuf_size(cb), 10000);
    ck_assert_uint_eq(codebuf_used(cb), 0);

    uint8_t *p1 = codebuf_alloc(cb, 5);
    uint8_t *p2 = codebuf_alloc(cb, 100);
    ck_assert_ptr_eq(p1, cb->rw);
    ck_assert_ptr_eq(p2, cb->rw + CODEBUF_ALIGN);
    ck_assert_uint_eq((uintptr_t)p2 % CODEBUF_ALIGN, 0);
    ck_assert_uint_eq(codebuf_used(cb), CODEBUF_ALIGN + 100);

    /* Fill to the end exactly, then one byte more fails. */
    size_t room = codebuf_free_space(cb);
    ck_assert_uint_eq(room, codebuf_size(cb) - 128);   /* 116 used, aligned up */
    ck_assert_ptr_nonnull(codebuf_alloc(cb, room));
    ck_assert_uint_eq(codebuf_used(cb), codebuf_size(cb));
    ck_assert_uint_eq(codebuf_free_space(cb), 0);
    errno = 0;
    ck_assert_ptr_null(codebuf_alloc(cb, 1));
    ck_assert_int_eq(errno, ENOSPC);
    errno = 0;
    ck_assert_ptr_null(codebuf_commit(cb, 1));
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_ptr_nonnull(codebuf_alloc(cb, 0));

    codebuf_reset(cb);
    ck_assert_uint_eq(codebuf_used(cb), 0);
    ck_assert_ptr_eq(codebuf_alloc(cb, 1), cb->rw);
    ck_assert_ptr_null(codebuf_alloc(cb, codebuf_size(cb)));   /* 15 bytes short */

    /* Open-ended emission. */
    codebuf_reset(cb);
    codebuf_alloc(cb, 3);
    uint8_t *cur = codebuf_cursor(cb);
    ck_assert_ptr_eq(cur, cb->rw + CODEBUF_ALIGN);
    ck_assert_uint_eq(codebuf_free_space(cb), codebuf_size(cb) - CODEBUF_ALIGN);
    uint8_t *run = codebuf_commit(cb, 40);
    ck_assert_ptr_eq(run, cb->rx + CODEBUF_ALIGN);
    ck_assert_ptr_eq(codebuf_to_rw(cb, run), cur);
    ck_assert_ptr_eq(codebuf_to_rx(cb, cur), run);
    ck_assert_uint_eq(codebuf_used(cb), CODEBUF_ALIGN + 40);
    codebuf_destroy(cb);
}
END_TEST

START_TEST(test_rx_view_runs)
{
    struct codebuf *cb = codebuf_create(4096);
    ck_assert_ptr_nonnull(cb);
    ck_assert_ptr_ne(cb->rw, cb->rx);
    static const uint8_t code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };  /* mov eax, 42; ret */
    uint8_t *w = codebuf_cursor(cb);
    memcpy(w, code, sizeof code);
    int (*fn)(void) = (int (*)(void))codebuf_commit(cb, sizeof code);
    ck_assert_int_eq(fn(), 42);
    /* Same pages: a store through the RW view is what runs next. */
    w[1] = 7;
    ck_assert_int_eq(fn(), 7);
    ck_assert_uint_eq(((volatile uint8_t *)cb->rx)[1], 7);
    codebuf_destroy(cb);
}
END_TEST

/* The permissions /proc/self/maps lists for the mapping starting at p. */
static bool maps_perms(const void *p, char perms[5])
{
    FILE *fp = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(fp);
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, fp)) {
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && lo == (unsigned long)(uintptr_t)p) {
            memcpy(perms, pr, 5);
            found = true;
        }
    }
    fclose(fp);
    return found;
}

/* Runs fn in a child; returns the signal that killed it (0 if none). */
static int child_signal(void (*fn)(struct codebuf *), struct codebuf *cb)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        fn(cb);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void write_rx(struct codebuf *cb) { ((volatile uint8_t *)cb->rx)[0] = 0xc3; }
static void run_rw(struct codebuf *cb)
{
    cb->rw[0] = 0xc3;   /* ret: would return if RW were executable */
    ((void (*)(void))(void *)cb->rw)();
}
static void write_rw_run_rx(struct codebuf *cb)
{
    cb->rw[0] = 0xc3;
    ((void (*)(void))(void *)cb->rx)();
}

START_TEST(test_w_xor_x)
{
    struct codebuf *cb = codebuf_create(8192);
    ck_assert_ptr_nonnull(cb);
    char perms[5];
    ck_assert(maps_perms(cb->rw, perms));
    ck_assert_str_eq(perms, "rw-s");
    ck_assert(maps_perms(cb->rx, perms));
    ck_assert_str_eq(perms, "r-xs");
    ck_assert_int_eq(child_signal(write_rx, cb), SIGSEGV);
    ck_assert_int_eq(child_signal(run_rw, cb), SIGSEGV);
    ck_assert_int_eq(child_signal(write_rw_run_rx, cb), 0);   /* the control */
    codebuf_destroy(cb);
}
END_TEST

START_TEST(test_errors)
{
    errno = 0;
    ck_assert_ptr_null(codebuf_create(0));
    ck_assert_int_eq(errno, EINVAL);

    /* A mapping beyond the address-space limit: NULL + ENOMEM, in a child
     * so the limit does not outlive the test. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit rl = { 1ul << 30, 1ul << 30 };
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(2);
        errno = 0;
        struct codebuf *cb = codebuf_create(2ul << 30);
        _exit(cb == NULL && errno == ENOMEM ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *codebuf_suite(void)
{
    Suite *s = suite_create("codebuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_alloc_exhaust_reset);
    tcase_add_test(tc, test_rx_view_runs);
    tcase_add_test(tc, test_w_xor_x);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codebuf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
