/* frontends/chardev_host.c: character backends on host files (core/chardev.h).
 *
 *   stdio      output to stdout (unbuffered write(2), so guest output and
 *              fox86's own messages on stderr keep their order); input from
 *              stdin, polled without blocking. When stdin is a terminal it is
 *              put in non-canonical, no-echo mode while the backend is open
 *              (signals stay on: Ctrl-C stops fox86) and restored at close.
 *   file:PATH  output to PATH (created or truncated); no input.
 *   tcp:HOST:PORT,server[,nowait]
 *              a TCP server on HOST:PORT (HOST may be empty: all addresses)
 *              for one client at a time; without nowait, opening waits for
 *              the first client, as QEMU does. Output with no client
 *              connected is dropped.
 *   null/none  no backend (NULL): output dropped, no input.
 */
#define _GNU_SOURCE   /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core/chardev.h"
#include "chardev_socket.h"

struct host_chardev {
    struct chardev base;        /* first: the struct chardev * handed out points here */
    int  out_fd;
    int  in_fd;                 /* -1: no input */
    bool in_eof;
    bool own_out_fd;            /* close out_fd at close */
    bool termios_saved;
    struct termios saved_termios;
    int  listen_fd;             /* tcp server: the listening socket, else -1 */
};

/* tcp server: take a waiting client if there is none (never blocks). */
static void tcp_accept(struct host_chardev *h)
{
    if (h->listen_fd < 0 || h->in_fd >= 0)
        return;
    int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        h->in_fd = h->out_fd = fd;
        h->in_eof = false;
    }
}

static void tcp_drop_client(struct host_chardev *h)
{
    if (h->listen_fd >= 0 && h->in_fd >= 0) {
        close(h->in_fd);
        h->in_fd = h->out_fd = -1;
    }
}

static void host_write(struct chardev *cd, const uint8_t *bytes, size_t len)
{
    struct host_chardev *h = (struct host_chardev *)cd;
    tcp_accept(h);
    if (h->out_fd < 0)
        return;
    while (len) {
        ssize_t n = h->listen_fd >= 0 ? send(h->out_fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT)
                                      : write(h->out_fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && h->listen_fd >= 0 && errno != EAGAIN)
            tcp_drop_client(h);   /* the client went away */
        if (n <= 0)
            return;   /* the guest cannot be told: drop the rest */
        bytes += n;
        len -= (size_t)n;
    }
}

static int host_poll(struct chardev *cd)
{
    struct host_chardev *h = (struct host_chardev *)cd;
    tcp_accept(h);
    if (h->in_fd < 0 || h->in_eof)
        return -1;
    struct pollfd pfd = { .fd = h->in_fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
        return -1;
    uint8_t byte;
    ssize_t n = read(h->in_fd, &byte, 1);
    if (n == 0 && h->listen_fd >= 0) {
        tcp_drop_client(h);   /* wait for the next client */
        return -1;
    }
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
    tcp_drop_client(h);
    if (h->listen_fd >= 0)
        close(h->listen_fd);
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

/* "tcp:HOST:PORT,server[,nowait]" (also wait=off, server=on). */
static int open_tcp_server(struct host_chardev *h, const char *spec, char *err, size_t errlen)
{
    char host[64];
    unsigned port;
    const char *end;
    if (!chardev_parse_tcp(spec, host, sizeof host, &port, &end))
        return open_fail(err, errlen, "%s: expected tcp:HOST:PORT,server[,nowait] (PORT 1-65535)", spec);
    bool server = false, nowait = false;
    const char *bad;
    size_t badlen;
    if (!chardev_parse_server_flags(end, &server, &nowait, &bad, &badlen))
        return open_fail(err, errlen, "%s: unknown option '%.*s' (server, nowait)", spec,
                         (int)badlen, bad);
    if (!server)
        return open_fail(err, errlen, "%s: only the server mode (,server) is supported", spec);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (host[0] == '\0')
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return open_fail(err, errlen, "%s: '%s' is not an IPv4 address", spec, host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return open_fail(err, errlen, "%s: cannot listen: %s", spec, strerror(e));
    }
    h->base.name = "tcp";
    h->listen_fd = fd;
    h->in_fd = h->out_fd = -1;
    if (!nowait) {
        fprintf(stderr, "fox86: waiting for a connection on %s\n", spec);
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            int e = errno;
            close(fd);
            return open_fail(err, errlen, "%s: accept: %s", spec, strerror(e));
        }
        h->in_fd = h->out_fd = c;
    } else {
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
    return 0;
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
    h->listen_fd = -1;
    if (strncmp(spec, "tcp:", 4) == 0) {
        int rc = open_tcp_server(h, spec, err, errlen);
        if (rc != 0) {
            free(h);
            return rc;
        }
    } else if (strcmp(spec, "stdio") == 0) {
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
