/* frontends/chardev_socket.c: unix and tcp server backends (see chardev_socket.h). */
#define _GNU_SOURCE   /* accept4 */
#include "chardev_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/chardev.h"

#define SOCKET_INBUF 4096
#define SOCKET_WRITE_WAIT_MS 200

struct socket_chardev {
    struct chardev base;        /* first: the struct chardev * handed out points here */
    int listen_fd;
    int client_fd;              /* -1: no client */
    char *unix_path;            /* unlinked at close; NULL for tcp */
    uint8_t inbuf[SOCKET_INBUF];
    size_t in_len, in_pos;
    void (*on_connect)(void *opaque);
    void (*on_disconnect)(void *opaque);
    void *notify_opaque;
};

static const struct chardev_ops socket_ops;

static void drop_client(struct socket_chardev *s)
{
    if (s->client_fd < 0)
        return;
    close(s->client_fd);
    s->client_fd = -1;
    s->in_len = s->in_pos = 0;
    if (s->on_disconnect)
        s->on_disconnect(s->notify_opaque);
}

static void try_accept(struct socket_chardev *s)
{
    if (s->client_fd >= 0)
        return;
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    s->client_fd = fd;
    s->in_len = s->in_pos = 0;
    if (s->on_connect)
        s->on_connect(s->notify_opaque);   /* may write: the greeting */
}

static void socket_write(struct chardev *cd, const uint8_t *bytes, size_t len)
{
    struct socket_chardev *s = (struct socket_chardev *)cd;
    try_accept(s);
    while (len && s->client_fd >= 0) {
        ssize_t n = send(s->client_fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A long reply can fill the socket buffer: give a reading
             * client a moment, but a client that does not read loses the
             * rest rather than stall the guest. */
            struct pollfd pfd = { .fd = s->client_fd, .events = POLLOUT };
            if (poll(&pfd, 1, SOCKET_WRITE_WAIT_MS) == 1 && (pfd.revents & POLLOUT))
                continue;
            return;
        }
        if (n <= 0) {
            drop_client(s);
            return;
        }
        bytes += n;
        len -= (size_t)n;
    }
}

static int socket_poll(struct chardev *cd)
{
    struct socket_chardev *s = (struct socket_chardev *)cd;
    try_accept(s);
    if (s->client_fd < 0)
        return -1;
    if (s->in_pos == s->in_len) {
        ssize_t n = recv(s->client_fd, s->inbuf, sizeof(s->inbuf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return -1;
        if (n <= 0) {
            drop_client(s);   /* closed or reset: wait for the next client */
            return -1;
        }
        s->in_len = (size_t)n;
        s->in_pos = 0;
    }
    return s->inbuf[s->in_pos++];
}

static void socket_close(struct chardev *cd)
{
    struct socket_chardev *s = (struct socket_chardev *)cd;
    s->on_disconnect = NULL;
    drop_client(s);
    close(s->listen_fd);
    if (s->unix_path) {
        unlink(s->unix_path);
        free(s->unix_path);
    }
    free(s);
}

static const struct chardev_ops socket_ops = { socket_write, socket_poll, socket_close };

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

bool chardev_socket_spec(const char *spec)
{
    return strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "tcp:", 4) == 0;
}

bool chardev_parse_server_flags(const char *flags, bool *server, bool *nowait, const char **bad,
                                size_t *badlen)
{
    for (const char *o = flags; *o == ','; ) {
        o++;
        size_t len = strcspn(o, ",");
        if ((len == 6 && strncmp(o, "server", 6) == 0) || (len == 9 && strncmp(o, "server=on", 9) == 0)) {
            *server = true;
        } else if ((len == 6 && strncmp(o, "nowait", 6) == 0) || (len == 8 && strncmp(o, "wait=off", 8) == 0)) {
            *nowait = true;
        } else {
            *bad = o;
            *badlen = len;
            return false;
        }
        o += len;
    }
    return true;
}

/* ",server,nowait" (also server=on, wait=off) after the address. */
static int check_flags(const char *spec, const char *flags, char *err, size_t errlen)
{
    bool server = false, nowait = false;
    const char *bad;
    size_t len;
    if (!chardev_parse_server_flags(flags, &server, &nowait, &bad, &len))
        return fail(err, errlen, "%s: unknown option '%.*s' (server, nowait)", spec, (int)len, bad);
    if (!server || !nowait)
        return fail(err, errlen, "%s: a monitor socket must be ',server,nowait'", spec);
    return 0;
}

static int listen_unix(struct socket_chardev *s, const char *spec, char *err, size_t errlen)
{
    const char *path = spec + 5;
    size_t plen = strcspn(path, ",");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (plen == 0 || plen >= sizeof(addr.sun_path))
        return fail(err, errlen, "%s: the socket path is empty or too long", spec);
    if (check_flags(spec, path + plen, err, errlen) != 0)
        return -1;
    memcpy(addr.sun_path, path, plen);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(err, errlen, "%s: socket: %s", spec, strerror(errno));
    unlink(addr.sun_path);   /* a stale socket from an earlier run */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "%s: cannot listen: %s", spec, strerror(e));
    }
    s->listen_fd = fd;
    s->unix_path = strndup(path, plen);
    return 0;
}

bool chardev_parse_tcp(const char *spec, char *host, size_t hostlen, unsigned *port,
                       const char **rest)
{
    const char *p = spec + 4, *colon = strchr(p, ':');
    if (strncmp(spec, "tcp:", 4) != 0 || !colon || (size_t)(colon - p) >= hostlen)
        return false;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    char *end;
    errno = 0;
    unsigned long value = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || errno || value == 0 || value > 65535 || (*end && *end != ','))
        return false;
    *port = (unsigned)value;
    *rest = end;
    return true;
}

static int listen_tcp(struct socket_chardev *s, const char *spec, char *err, size_t errlen)
{
    char host[64];
    unsigned port;
    const char *end;
    if (!chardev_parse_tcp(spec, host, sizeof host, &port, &end))
        return fail(err, errlen, "%s: expected tcp:HOST:PORT,server,nowait (PORT 1-65535)", spec);
    if (check_flags(spec, end, err, errlen) != 0)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (host[0] == '\0' || strcmp(host, "localhost") == 0)
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return fail(err, errlen, "%s: '%s' is not an IPv4 address", spec, host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, "%s: cannot listen: %s", spec, strerror(e));
    }
    s->listen_fd = fd;
    return 0;
}

int chardev_socket_open(const char *spec, struct chardev **out, char *err, size_t errlen)
{
    *out = NULL;
    struct socket_chardev *s = calloc(1, sizeof(*s));
    if (!s)
        return fail(err, errlen, "out of host memory");
    s->base.ops = &socket_ops;
    s->client_fd = -1;
    s->listen_fd = -1;
    bool is_unix = strncmp(spec, "unix:", 5) == 0;
    s->base.name = is_unix ? "unix" : "tcp";
    int rc = is_unix ? listen_unix(s, spec, err, errlen)
             : strncmp(spec, "tcp:", 4) == 0 ? listen_tcp(s, spec, err, errlen)
             : fail(err, errlen, "%s: not a socket backend", spec);
    if (rc != 0) {
        free(s);
        return -1;
    }
    *out = &s->base;
    return 0;
}

void chardev_socket_set_notify(struct chardev *cd, void (*on_connect)(void *opaque),
                               void (*on_disconnect)(void *opaque), void *opaque)
{
    if (!cd || cd->ops != &socket_ops)
        return;
    struct socket_chardev *s = (struct socket_chardev *)cd;
    s->on_connect = on_connect;
    s->on_disconnect = on_disconnect;
    s->notify_opaque = opaque;
}

bool chardev_socket_connected(struct chardev *cd)
{
    return cd && cd->ops == &socket_ops && ((struct socket_chardev *)cd)->client_fd >= 0;
}
