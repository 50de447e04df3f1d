/* core/blockdev.h: the block backend interface (IDE disks, CD-ROMs, floppies).
 *
 * A storage device model talks to a struct blockdev and never to a file.
 * The host side (frontends/block_file.c) implements it for raw image files,
 * read-only images and -snapshot overlays. I/O is synchronous: a call
 * returns when the bytes have been read or written (writes may sit in the
 * host's page cache until flush).
 *
 * Invariants: offset + len <= size for every call the device makes (the
 * device checks guest-controlled LBAs first); read and write return 0, or a
 * negative errno which the device reports to the guest as a media error;
 * write on a read_only backend returns -EROFS without touching anything.
 * A NULL struct blockdev pointer means "no medium".
 *
 * Usage:
 *   struct blockdev *bd;
 *   struct blockdev_options o = { .path = "disk.img" };
 *   if (blockdev_open_file(&o, &bd, err, sizeof err) != 0) ...
 *   blockdev_read(bd, 512 * lba, buf, 512);
 *   blockdev_close(bd);    // flushes
 */
#ifndef FOX86_BLOCKDEV_H
#define FOX86_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blockdev;

struct blockdev_ops {
    int  (*read)(struct blockdev *bd, uint64_t offset, void *buf, size_t len);
    int  (*write)(struct blockdev *bd, uint64_t offset, const void *buf, size_t len);
    int  (*flush)(struct blockdev *bd);
    void (*close)(struct blockdev *bd);         /* flushes, then releases bd itself */
};

struct blockdev {
    const struct blockdev_ops *ops;
    uint64_t    size;                           /* bytes */
    bool        read_only;                      /* guest writes are refused */
    const char *name;                           /* the file, for messages */
    uint64_t    reads, writes, errors;          /* counters (bytes read/written, failed calls) */
};

static inline int blockdev_read(struct blockdev *bd, uint64_t offset, void *buf, size_t len)
{
    return bd->ops->read(bd, offset, buf, len);
}

static inline int blockdev_write(struct blockdev *bd, uint64_t offset, const void *buf, size_t len)
{
    return bd->ops->write(bd, offset, buf, len);
}

static inline int blockdev_flush(struct blockdev *bd)
{
    return bd->ops->flush ? bd->ops->flush(bd) : 0;
}

static inline void blockdev_close(struct blockdev *bd)
{
    if (bd && bd->ops->close)
        bd->ops->close(bd);
}

/* Host implementation (frontends/block_file.c). */
struct blockdev_options {
    const char *path;
    bool read_only;        /* readonly=on, -cdrom: open O_RDONLY, refuse guest writes */
    bool snapshot;         /* -snapshot: writes go to a private overlay, the file is never written */
    bool cdrom;            /* size must be a multiple of 2048 (else error) */
};
/* Opens and locks the file (another fox86 or QEMU holding a write lock:
 * error). A file the user cannot write, given without readonly/snapshot: error.
 * Returns 0, or -1 with one line in err and nothing changed on disk. */
int blockdev_open_file(const struct blockdev_options *o, struct blockdev **out,
                       char *err, size_t errlen);

#endif
