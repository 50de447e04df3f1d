/* frontends/chardev_host.c: character backends on host files (core/chardev.h).
 *
 *   stdio      output to stdout (unbuffered write(2), so guest output and
 *              fox86's own messages on stderr keep their order); input from
 *              stdin, polled without blocking. When stdin is a terminal it is
 *              put in non-canonical, no-echo mode while the backend is open
 *              (signals stay on: Ctrl-C stops fox86) and restored at close.
 *   file:PATH  output to PATH (created or truncated); no input.
 *   null/none  no backend (NULL): output dropped, no input.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/chardev.h"

struct host_chardev {
    struct chardev base;        /* first: the struct chardev * handed out points here */
    int  out_fd;
    int  in_fd;                 /* -1: no input */
    bool in_eof;
    bool own_out_fd;            /* close out_fd at close */
    bool termios_saved;
    struct termios saved_termios;
};

static void host_write(struct chardev *cd, const uint8_t *bytes, size_t len)
{
    struct host_chardev *h = (struct host_chardev *)cd;
    while (len) {
        ssize_t n = write(h->out_fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;   /* the guest cannot be told: drop the rest */
        bytes += n;
        len -= (size_t)n;
    }
}

static int host_poll(struct chardev *cd)
{
    struct host_chardev *h = (struct host_chardev *)cd;
    if (h->in_fd < 0 || h->in_eof)
        return -1;
    struct pollfd pfd = { .fd = h->in_fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
        return -1;
    uint8_t byte;
    ssize_t n = read(h->in_fd, &byte, 1);
    if (n == 0)
        h->in_eof = true;
    return n == 1 ? byte : -1;
}

static void host_close(struct chardev *cd)
{
    struct host_chardev *h = (struct host_chardev *)cd;
    if (h->termios_saved)
        tcsetattr(h->in_fd, TCSANOW, &h->saved_termios);
    if (h->own_out_fd)
        close(h->out_fd);
    free(h);
}

static const struct chardev_ops host_chardev_ops = { host_write, host_poll, host_close };

static int open_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int open_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int chardev_open_host(const char *spec, struct chardev **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(spec, "null") == 0 || strcmp(spec, "none") == 0)
        return 0;
    struct host_chardev *h = calloc(1, sizeof(*h));
    if (!h)
        return open_fail(err, errlen, "out of host memory");
    h->base.ops = &host_chardev_ops;
    if (strcmp(spec, "stdio") == 0) {
        h->base.name = "stdio";
        h->out_fd = STDOUT_FILENO;
        h->in_fd = STDIN_FILENO;
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &h->saved_termios) == 0) {
            struct termios raw = h->saved_termios;
            raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
            raw.c_cc[VMIN] = 1;
            raw.c_cc[VTIME] = 0;
            h->termios_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
    } else if (strncmp(spec, "file:", 5) == 0) {
        h->base.name = "file";
        h->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (h->out_fd < 0) {
            int e = errno;
            free(h);
            return open_fail(err, errlen, "%s: cannot open: %s", spec + 5, strerror(e));
        }
        h->own_out_fd = true;
        h->in_fd = -1;
    } else {
        free(h);
        return open_fail(err, errlen, "%s: unknown character backend", spec);
    }
    *out = &h->base;
    return 0;
}
