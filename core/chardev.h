/* core/chardev.h: the character backend interface (serial ports, debug ports).
 *
 * A device that produces or consumes a byte stream (UART, debugcon) talks to
 * a struct chardev and never to a file, a terminal or a socket. The host side
 * (frontends/chardev_host.c) implements it for stdio, a file and "null".
 * Invariants: write never blocks the guest for long and never fails visibly
 * (a backend that cannot write drops the bytes); poll never blocks: it
 * returns a byte if one is waiting, else -1. A NULL struct chardev pointer is
 * a valid "none" backend: chardev_write drops, chardev_poll returns -1.
 *
 * Usage:
 *   struct chardev *out = chardev_open_host("stdio", &err);
 *   chardev_write(out, "hi\n", 3);
 *   int c = chardev_poll(out);   // -1: nothing waiting
 *   chardev_close(out);
 */
#ifndef FOX86_CHARDEV_H
#define FOX86_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct chardev;

struct chardev_ops {
    void (*write)(struct chardev *cd, const uint8_t *bytes, size_t len);
    int  (*poll)(struct chardev *cd);          /* next input byte or -1; may be NULL */
    void (*close)(struct chardev *cd);         /* releases cd itself */
};

struct chardev {
    const struct chardev_ops *ops;
    const char *name;                          /* "stdio", "file", "null" (for messages) */
};

static inline void chardev_write(struct chardev *cd, const void *bytes, size_t len)
{
    if (cd && cd->ops->write)
        cd->ops->write(cd, (const uint8_t *)bytes, len);
}

static inline int chardev_poll(struct chardev *cd)
{
    return (cd && cd->ops->poll) ? cd->ops->poll(cd) : -1;
}

static inline void chardev_close(struct chardev *cd)
{
    if (cd && cd->ops->close)
        cd->ops->close(cd);
}

/* Host implementations (frontends/chardev_host.c). spec is "stdio",
 * "file:PATH" (created or truncated), "null" or "none"; the last two give
 * *out = NULL. Returns 0, or -1 with one line in err. At most one stdio
 * backend should be open at a time: it owns the terminal settings. */
int chardev_open_host(const char *spec, struct chardev **out, char *err, size_t errlen);

#endif
