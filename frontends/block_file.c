/* frontends/block_file.c: struct blockdev on raw image files.
 *
 * Modes: read-write (the file is opened O_RDWR and written in place),
 * read-only (O_RDONLY; guest writes get -EROFS) and snapshot (O_RDONLY; guest
 * writes go to a private overlay and the file is never written). I/O is
 * synchronous pread/pwrite, looped over short counts and EINTR.
 *
 * Snapshot overlay: an unlinked, sparse temporary file of the image's size
 * in $TMPDIR (O_TMPFILE, else mkstemp + unlink) plus a bitmap of the
 * 512-byte sectors the guest wrote. A partial-sector write first copies the
 * sector from the image into the overlay (read-modify-write); reads take
 * each sector from the overlay if its bit is set, else from the image.
 *
 * Locking, compatible with QEMU's block/file-posix.c: QEMU represents block
 * permission n (0 consistent read, 1 write, 3 resize) by an OFD lock on
 * byte 100 + n ("I hold it") and on byte 200 + n ("nobody else may hold
 * it"), taking shared locks and first testing whether an exclusive lock
 * on the opposite bytes would conflict. We do the same with the same
 * bytes, except that a writer takes exclusive locks on 101 and 201 so two
 * fox86 writers exclude each other atomically (no test-then-lock race);
 * QEMU's tests and shared locks conflict with those exclusive locks just
 * the same, in both directions:
 *   writer: shared 100, 203; exclusive 101, 201; refused if 200/201 are
 *           held (someone forbids reading/writing) or 101/103 are held
 *           (someone writes/resizes);
 *   reader (readonly, snapshot): shared 100, 201; refused if 200 or 101 is
 *           held (someone forbids reading, or writes).
 * OFD locks belong to the open file description, so two opens in one
 * process conflict too, and they vanish when the descriptor is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blockdev.h"

#define SECTOR 512u

enum { LOCK_PERM_BASE = 100, LOCK_SHARED_BASE = 200 };
enum { PERM_READ = 0, PERM_WRITE = 1, PERM_RESIZE = 3 };

struct block_file {
    struct blockdev bd;
    int fd;                        /* the image */
    int overlay_fd;                /* snapshot: the private overlay, else -1 */
    uint8_t *written;              /* snapshot: one bit per sector in the overlay */
    char *path;
};

static int full_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;           /* the file shrank under us */
        p += n; len -= (size_t)n; off += (uint64_t)n;
    }
    return 0;
}

static int full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n; len -= (size_t)n; off += (uint64_t)n;
    }
    return 0;
}

static bool sector_written(const struct block_file *f, uint64_t s)
{
    return f->written[s >> 3] & (1u << (s & 7));
}

static int overlay_read(struct block_file *f, uint64_t off, uint8_t *buf, size_t len)
{
    while (len) {
        uint64_t s = off / SECTOR;
        size_t in_sector = SECTOR - (size_t)(off % SECTOR);
        bool from_overlay = sector_written(f, s);
        /* extend over the following sectors that come from the same place */
        size_t run = in_sector < len ? in_sector : len;
        while (run < len && sector_written(f, (off + run) / SECTOR) == from_overlay)
            run += len - run < SECTOR ? len - run : SECTOR;
        int r = full_pread(from_overlay ? f->overlay_fd : f->fd, buf, run, off);
        if (r < 0)
            return r;
        buf += run; off += run; len -= run;
    }
    return 0;
}

static int overlay_write(struct block_file *f, uint64_t off, const uint8_t *buf, size_t len)
{
    while (len) {
        uint64_t s = off / SECTOR;
        size_t head = (size_t)(off % SECTOR);
        size_t chunk = SECTOR - head < len ? SECTOR - head : len;
        int r;
        if (chunk != SECTOR && !sector_written(f, s)) {
            /* partial sector not yet in the overlay: start from the image's bytes */
            uint8_t sec[SECTOR];
            size_t avail = f->bd.size - s * SECTOR < SECTOR ? (size_t)(f->bd.size - s * SECTOR) : SECTOR;
            memset(sec, 0, sizeof sec);
            r = full_pread(f->fd, sec, avail, s * SECTOR);
            if (r < 0)
                return r;
            memcpy(sec + head, buf, chunk);
            r = full_pwrite(f->overlay_fd, sec, avail, s * SECTOR);
        } else {
            r = full_pwrite(f->overlay_fd, buf, chunk, off);
        }
        if (r < 0)
            return r;
        f->written[s >> 3] |= (uint8_t)(1u << (s & 7));
        buf += chunk; off += chunk; len -= chunk;
    }
    return 0;
}

static bool in_range(const struct blockdev *bd, uint64_t off, size_t len)
{
    return off <= bd->size && len <= bd->size - off;
}

/* A host I/O error reaches the guest as a device error; the user hears of
 * the first one at once and of the count at exit. A write to a read-only
 * image is the guest's business, not a host failure. */
static void report_error(struct blockdev *bd, const char *what, uint64_t off, int r)
{
    if (r == -EROFS)
        return;
    if (bd->errors == 1)
        fprintf(stderr, "fox86: %s: host %s error at offset %llu: %s (reported to the guest)\n",
                bd->name, what, (unsigned long long)off, strerror(-r));
}

static int file_read(struct blockdev *bd, uint64_t off, void *buf, size_t len)
{
    struct block_file *f = (struct block_file *)bd;
    int r = !in_range(bd, off, len) ? -EINVAL
          : f->overlay_fd >= 0      ? overlay_read(f, off, buf, len)
          :                           full_pread(f->fd, buf, len, off);
    if (r < 0) {
        bd->errors++;
        report_error(bd, "read", off, r);
    } else
        bd->reads += len;
    return r;
}

static int file_write(struct blockdev *bd, uint64_t off, const void *buf, size_t len)
{
    struct block_file *f = (struct block_file *)bd;
    int r = bd->read_only        ? -EROFS
          : !in_range(bd, off, len) ? -EINVAL
          : f->overlay_fd >= 0   ? overlay_write(f, off, buf, len)
          :                        full_pwrite(f->fd, buf, len, off);
    if (r < 0) {
        bd->errors++;
        report_error(bd, "write", off, r);
    } else
        bd->writes += len;
    return r;
}

static int file_flush(struct blockdev *bd)
{
    struct block_file *f = (struct block_file *)bd;
    if (bd->read_only || f->overlay_fd >= 0)
        return 0;                  /* nothing of ours is in the image to make durable */
    if (fdatasync(f->fd) != 0) {
        bd->errors++;
        return -errno;
    }
    return 0;
}

static void file_close(struct blockdev *bd)
{
    struct block_file *f = (struct block_file *)bd;
    if (file_flush(bd) != 0)
        fprintf(stderr, "fox86: %s: flushing guest writes failed: %s\n", bd->name, strerror(errno));
    if (bd->errors > 1)
        fprintf(stderr, "fox86: %s: %llu host I/O errors in all\n", bd->name,
                (unsigned long long)bd->errors);
    close(f->fd);                  /* drops the OFD locks */
    if (f->overlay_fd >= 0)
        close(f->overlay_fd);
    free(f->written);
    free(f->path);
    free(f);
}

static const struct blockdev_ops file_ops = {
    .read = file_read, .write = file_write, .flush = file_flush, .close = file_close,
};

/* OFD lock on one byte; type F_RDLCK/F_WRLCK. Returns 0 or -errno. */
static int lock_byte(int fd, int byte, short type)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

/* Would an exclusive lock on byte conflict with another open's lock?
 * 1 yes, 0 no, -errno if the test failed. */
static int byte_held_elsewhere(int fd, int byte)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
        return -errno;
    return fl.l_type != F_UNLCK;
}

/* Returns 0, 1 on a conflict, or -errno when locking is not possible. */
static int take_locks(int fd, bool writer)
{
    static const int writer_tests[] = { LOCK_SHARED_BASE + PERM_READ, LOCK_SHARED_BASE + PERM_WRITE,
                                        LOCK_PERM_BASE + PERM_WRITE, LOCK_PERM_BASE + PERM_RESIZE };
    static const int reader_tests[] = { LOCK_SHARED_BASE + PERM_READ, LOCK_PERM_BASE + PERM_WRITE };
    const int *tests = writer ? writer_tests : reader_tests;
    int ntests = writer ? 4 : 2;
    int r;

    if (writer) {
        /* the exclusive ones first: they are the atomic part */
        if ((r = lock_byte(fd, LOCK_PERM_BASE + PERM_WRITE, F_WRLCK)) != 0 ||
            (r = lock_byte(fd, LOCK_SHARED_BASE + PERM_WRITE, F_WRLCK)) != 0)
            goto failed;
        if ((r = lock_byte(fd, LOCK_PERM_BASE + PERM_READ, F_RDLCK)) != 0 ||
            (r = lock_byte(fd, LOCK_SHARED_BASE + PERM_RESIZE, F_RDLCK)) != 0)
            goto failed;
    } else {
        if ((r = lock_byte(fd, LOCK_PERM_BASE + PERM_READ, F_RDLCK)) != 0 ||
            (r = lock_byte(fd, LOCK_SHARED_BASE + PERM_WRITE, F_RDLCK)) != 0)
            goto failed;
    }
    for (int i = 0; i < ntests; i++) {
        r = byte_held_elsewhere(fd, tests[i]);
        if (r != 0)
            return r;
    }
    return 0;
failed:
    return (r == -EAGAIN || r == -EACCES) ? 1 : r;
}

static int open_overlay(uint64_t size, char *err, size_t errlen, const char *name)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/fox86-snapshot-XXXXXX", dir);
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0)
            unlink(tmpl);
    }
    if (fd < 0) {
        snprintf(err, errlen, "fox86: %s: cannot create the snapshot overlay in %s: %s",
                 name, dir, strerror(errno));
        return -1;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        snprintf(err, errlen, "fox86: %s: cannot size the snapshot overlay in %s: %s",
                 name, dir, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int blockdev_open_file(const struct blockdev_options *o, struct blockdev **out,
                       char *err, size_t errlen)
{
    const char *name = o->path ? o->path : "";
    bool writable = !o->read_only && !o->snapshot;
    int fd = -1, overlay_fd = -1;
    struct block_file *f = NULL;

    if (!*name) {
        snprintf(err, errlen, "fox86: no image file name given");
        return -1;
    }
    fd = open(name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (writable && (e == EACCES || e == EROFS || e == EPERM) &&
            access(name, R_OK) == 0)
            snprintf(err, errlen, "fox86: %s: cannot open for writing (%s); use readonly=on or -snapshot",
                     name, strerror(e));
        else if (e == EISDIR)
            snprintf(err, errlen, "fox86: %s: is a directory, not an image file", name);
        else
            snprintf(err, errlen, "fox86: %s: cannot open: %s", name, strerror(e));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "fox86: %s: cannot stat: %s", name, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "fox86: %s: is a directory, not an image file", name);
        goto fail;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        snprintf(err, errlen, "fox86: %s: not a regular file or block device", name);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        size = end > 0 ? (uint64_t)end : 0;
    }
    if (size == 0) {
        snprintf(err, errlen, "fox86: %s: the image is empty", name);
        goto fail;
    }
    if (o->cdrom && size % 2048) {
        snprintf(err, errlen, "fox86: %s: a CD-ROM image must be a multiple of 2048 bytes (it has %llu)",
                 name, (unsigned long long)size);
        goto fail;
    }
    int lr = take_locks(fd, writable);
    if (lr == 1) {
        snprintf(err, errlen, "fox86: %s: already in use by another process (locked)", name);
        goto fail;
    }
    if (lr < 0 && lr != -EINVAL && lr != -ENOTSUP && lr != -ENOLCK) {
        snprintf(err, errlen, "fox86: %s: cannot lock: %s", name, strerror(-lr));
        goto fail;
    }
    /* file systems without lock support: go on unlocked, as QEMU's locking=auto does */
    if (o->snapshot && !o->read_only) {
        overlay_fd = open_overlay(size, err, errlen, name);
        if (overlay_fd < 0)
            goto fail;
    }
    f = calloc(1, sizeof *f);
    if (!f)
        goto nomem;
    f->path = strdup(name);
    if (!f->path)
        goto nomem;
    if (overlay_fd >= 0) {
        f->written = calloc((size_t)((size + SECTOR - 1) / SECTOR + 7) / 8, 1);
        if (!f->written)
            goto nomem;
    }
    f->fd = fd;
    f->overlay_fd = overlay_fd;
    f->bd = (struct blockdev){ .ops = &file_ops, .size = size, .read_only = o->read_only,
                               .name = f->path };
    *out = &f->bd;
    return 0;
nomem:
    snprintf(err, errlen, "fox86: %s: out of memory", name);
fail:
    if (f) {
        free(f->written);
        free(f->path);
        free(f);
    }
    if (overlay_fd >= 0)
        close(overlay_fd);
    close(fd);
    return -1;
}
