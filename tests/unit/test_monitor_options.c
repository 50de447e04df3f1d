/* tests/unit/test_monitor_options.c: -monitor and -qmp on the command
 * line, and the socket backends' spec checking (frontends/chardev_socket.c):
 * what is accepted, what is one error line, and a socket that works. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/chardev.h"
#include "frontends/chardev_socket.h"
#include "frontends/options.h"

static int parse(struct options *o, char *err, size_t errlen, int argc, const char **argv)
{
    return options_parse(argc, (char **)argv, o, err, errlen);
}

#define PARSE(rc_out, o, err, ...) do {                                         \
        const char *argv[] = { "fox86", __VA_ARGS__ };                          \
        rc_out = parse(o, err, sizeof err, (int)(sizeof argv / sizeof argv[0]), argv); \
    } while (0)

START_TEST(options_accept_sockets)
{
    struct options o;
    char err[512] = "";
    int rc;
    PARSE(rc, &o, err, "-monitor", "unix:/tmp/m.sock,server,nowait", "-qmp", "tcp:127.0.0.1:4444,server,nowait");
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(o.monitor, "unix:/tmp/m.sock,server,nowait");
    ck_assert_str_eq(o.qmp, "tcp:127.0.0.1:4444,server,nowait");
    options_free(&o);
    /* a socket monitor leaves the terminal to the serial port */
    PARSE(rc, &o, err, "-serial", "stdio", "-monitor", "tcp::5555,server,nowait");
    ck_assert_msg(rc == 0, "%s", err);
    options_free(&o);
    PARSE(rc, &o, err, "-serial", "null", "-qmp", "stdio");
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(o.qmp, "stdio");
    options_free(&o);
    PARSE(rc, &o, err, "-qmp", "none");
    ck_assert(rc == 0 && o.qmp == NULL);
    options_free(&o);
}
END_TEST

START_TEST(options_reject)
{
    static const char *const bad[][2] = {
        { "-monitor", "pty" }, { "-qmp", "vc" }, { "-monitor", "tcp:1234" }, { "-qmp", "unix:" },
        { "-qmp", "unix:,server" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct options o;
        char err[512] = "";
        int rc;
        PARSE(rc, &o, err, bad[i][0], bad[i][1]);
        ck_assert_msg(rc != 0 && strstr(err, "unsupported backend"), "%s %s: %s", bad[i][0], bad[i][1], err);
        options_free(&o);
    }
    struct options o;
    char err[512] = "";
    int rc;
    PARSE(rc, &o, err, "-qmp", "stdio");   /* COM1 is on stdio by default */
    ck_assert(rc != 0 && strstr(err, "-qmp stdio: the terminal is already used by the serial port"));
    options_free(&o);
    PARSE(rc, &o, err, "-serial", "null", "-monitor", "stdio", "-qmp", "stdio");
    ck_assert_msg(rc != 0 && strstr(err, "already used by the monitor"), "%s", err);
    options_free(&o);
}
END_TEST

START_TEST(socket_specs)
{
    static const char *const bad[] = {
        "unix:/tmp/fox86-x.sock", "unix:/tmp/fox86-x.sock,server", "unix:/tmp/fox86-x.sock,nowait",
        "unix:/tmp/fox86-x.sock,server,nowait,bogus", "tcp:127.0.0.1:0,server,nowait",
        "tcp:127.0.0.1:99999,server,nowait", "tcp:example.org:80,server,nowait", "tcp:127.0.0.1,server",
        "file:/tmp/x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct chardev *cd = (struct chardev *)1;
        char err[256] = "";
        ck_assert_msg(chardev_socket_open(bad[i], &cd, err, sizeof err) != 0, "accepted %s", bad[i]);
        ck_assert_ptr_null(cd);
        ck_assert(strstr(err, bad[i]) != NULL);
    }
}
END_TEST

/* A working unix socket: connect, greeted through on_connect, bytes both
 * ways, disconnect noticed, the file removed at close. */
static int connects, disconnects;
static void on_connect(void *opaque)
{
    connects++;
    chardev_write(opaque, "hello\n", 6);
}
static void on_disconnect(void *opaque)
{
    (void)opaque;
    disconnects++;
}

START_TEST(socket_roundtrip)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fox86-test-%d.sock", (int)getpid());
    char spec[128], err[256];
    snprintf(spec, sizeof spec, "unix:%s,server,nowait", path);
    struct chardev *cd;
    ck_assert_msg(chardev_socket_open(spec, &cd, err, sizeof err) == 0, "%s", err);
    chardev_socket_set_notify(cd, on_connect, on_disconnect, cd);
    ck_assert_int_eq(chardev_poll(cd), -1);   /* nobody there: does not block */
    ck_assert(!chardev_socket_connected(cd));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(chardev_poll(cd), -1);   /* accepted, nothing sent yet */
    ck_assert_int_eq(connects, 1);
    ck_assert(chardev_socket_connected(cd));
    char buf[16] = "";
    ck_assert_int_eq(read(fd, buf, 6), 6);
    ck_assert(memcmp(buf, "hello\n", 6) == 0);
    ck_assert_int_eq(write(fd, "ab", 2), 2);
    int a = -1;
    for (int tries = 0; tries < 1000 && a < 0; tries++)
        a = chardev_poll(cd);
    ck_assert_int_eq(a, 'a');
    ck_assert_int_eq(chardev_poll(cd), 'b');
    close(fd);
    for (int tries = 0; tries < 1000 && !disconnects; tries++)
        chardev_poll(cd);
    ck_assert_int_eq(disconnects, 1);
    chardev_write(cd, "dropped", 7);   /* no client: dropped, no crash */
    chardev_close(cd);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("monitor_options");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, options_accept_sockets);
    tcase_add_test(tc, options_reject);
    tcase_add_test(tc, socket_specs);
    tcase_add_test(tc, socket_roundtrip);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
