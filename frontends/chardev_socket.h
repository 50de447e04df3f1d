/* frontends/chardev_socket.h: listening-socket character backends for the
 * monitors (-monitor, -qmp), beside the stdio and file ones of
 * chardev_host.c.
 *
 *   unix:PATH,server,nowait      a Unix stream socket at PATH (an old socket
 *                                file there is replaced; removed at close)
 *   tcp:HOST:PORT,server,nowait  TCP on HOST (an IPv4 address or localhost;
 *                                "" is 127.0.0.1: a monitor is not for the
 *                                network) and PORT
 * One client at a time; another one waits in the backlog until the first
 * disconnects. Nothing blocks: accept, read and write are non-blocking and
 * polled from the machine's poll hook. Output with no client is dropped; a
 * client that stops reading loses output rather than stalling the guest.
 * The owner hears of each new client through on_connect (to greet it) and
 * of each disconnect through on_disconnect (to drop a half-typed line).
 *
 * Usage:
 *   struct chardev *cd;
 *   if (chardev_socket_open("unix:/tmp/mon,server,nowait", &cd, err, sizeof err) != 0) ...
 *   chardev_socket_set_notify(cd, on_connect, on_disconnect, opaque);
 *   int c = chardev_poll(cd);   // accepts a waiting client, then reads
 */
#ifndef FOX86_CHARDEV_SOCKET_H
#define FOX86_CHARDEV_SOCKET_H

#include <stdbool.h>
#include <stddef.h>

struct chardev;

/* Whether spec names a socket backend this file opens. */
bool chardev_socket_spec(const char *spec);
/* Returns 0, or -1 with one line in err. */
int chardev_socket_open(const char *spec, struct chardev **out, char *err, size_t errlen);
/* cd must come from chardev_socket_open; either callback may be NULL. */
void chardev_socket_set_notify(struct chardev *cd, void (*on_connect)(void *opaque),
                               void (*on_disconnect)(void *opaque), void *opaque);
/* "tcp:HOST:PORT...": HOST into host (at most hostlen - 1 bytes), PORT
 * (1-65535) into *port, and where the options after it start (',' or the
 * end) into *rest. false when malformed. Shared with chardev_host.c's
 * -serial tcp:. */
bool chardev_parse_tcp(const char *spec, char *host, size_t hostlen, unsigned *port,
                       const char **rest);
/* The options after a socket address: ",server" (or server=on) and
 * ",nowait" (or wait=off), each setting its flag. false when another one
 * is there: *bad and *badlen name it. */
bool chardev_parse_server_flags(const char *flags, bool *server, bool *nowait, const char **bad,
                                size_t *badlen);
/* Whether a client is connected now. */
bool chardev_socket_connected(struct chardev *cd);

#endif
