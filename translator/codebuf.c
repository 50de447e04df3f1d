/* translator/codebuf.c: the dual-mapped code arena (see codebuf.h). */
#define _GNU_SOURCE
#include "translator/codebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t align_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

struct codebuf *codebuf_create(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    int saved;
    if (size == 0 || size > SIZE_MAX / 2) {
        errno = EINVAL;
        return NULL;
    }
    size = align_up(size, (size_t)page);
    struct codebuf *cb = calloc(1, sizeof *cb);
    if (!cb)
        return NULL;
    cb->fd = memfd_create("fox86-code", MFD_CLOEXEC);
    if (cb->fd < 0)
        goto fail;
    if (ftruncate(cb->fd, (off_t)size) != 0)
        goto fail_fd;
    cb->rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, cb->fd, 0);
    if (cb->rw == MAP_FAILED)
        goto fail_fd;
    cb->rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, cb->fd, 0);
    if (cb->rx == MAP_FAILED)
        goto fail_rw;
    cb->size = size;
    return cb;

fail_rw:
    saved = errno;
    munmap(cb->rw, size);
    errno = saved;
fail_fd:
    saved = errno;
    close(cb->fd);
    errno = saved;
fail:
    saved = errno;
    free(cb);
    errno = saved;
    return NULL;
}

void codebuf_destroy(struct codebuf *cb)
{
    if (!cb)
        return;
    munmap(cb->rx, cb->size);
    munmap(cb->rw, cb->size);
    close(cb->fd);
    free(cb);
}

uint8_t *codebuf_cursor(struct codebuf *cb)
{
    size_t at = align_up(cb->used, CODEBUF_ALIGN);
    return cb->rw + (at < cb->size ? at : cb->size);
}

size_t codebuf_free_space(const struct codebuf *cb)
{
    size_t at = align_up(cb->used, CODEBUF_ALIGN);
    return at < cb->size ? cb->size - at : 0;
}

void *codebuf_commit(struct codebuf *cb, size_t bytes)
{
    if (bytes > codebuf_free_space(cb)) {
        errno = ENOSPC;
        return NULL;
    }
    uint8_t *at = codebuf_cursor(cb);
    cb->used = (size_t)(at - cb->rw) + bytes;
    return at + codebuf_exec_delta(cb);
}

void *codebuf_alloc(struct codebuf *cb, size_t bytes)
{
    if (bytes > codebuf_free_space(cb)) {
        errno = ENOSPC;
        return NULL;
    }
    uint8_t *at = codebuf_cursor(cb);
    cb->used = (size_t)(at - cb->rw) + bytes;
    return at;
}

void codebuf_reset(struct codebuf *cb)
{
    cb->used = 0;
}
