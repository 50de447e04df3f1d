/* translator/codebuf.h: executable memory for translated code.
 *
 * One arena of a fixed size (the future `-tb-size MB`), mapped twice from
 * the same memfd: a read-write view the translator writes through and a
 * read-execute view the CPU runs. No page is ever writable and executable
 * in the same mapping, so it works on hosts that refuse RWX mappings
 * (SELinux execmem/PaX-style policies, hardened kernels), and emitting or
 * patching a chained jump costs a plain store, not two mprotect() calls and
 * a TLB shootdown each time.
 *
 * Why not mprotect toggling: chaining patches live code at run time, one
 * jump at a time, many thousands of times per second during boot; each
 * toggle is a syscall over the whole arena (or page bookkeeping), and while
 * the arena is RW none of it can run. The price of the dual mapping is that
 * code runs at a different address than it was written: x64_asm's
 * exec_delta (codebuf_exec_delta) covers the only encodings that care
 * (calls to C helpers, RIP-relative data outside the arena).
 *
 * Allocation is a bump pointer; there is no free, only codebuf_reset (the
 * translation cache's flush-all). Space for code whose length is unknown
 * in advance is taken as "the rest" (codebuf_free_space) and then
 * committed for the bytes actually used (codebuf_commit).
 *
 * Usage
 *   struct codebuf *cb = codebuf_create(32u << 20);   NULL + errno on failure
 *   struct x64_asm a;
 *   x64_init(&a, codebuf_cursor(cb), codebuf_free_space(cb), codebuf_exec_delta(cb));
 *   ... emit ...
 *   if (!x64_ok(&a)) { codebuf_reset(cb); ... retranslate ... }
 *   void *fn = codebuf_commit(cb, x64_offset(&a));    run-view address
 *   ((int (*)(void))fn)();
 *   codebuf_destroy(cb);
 */
#ifndef FOX86_TRANSLATOR_CODEBUF_H
#define FOX86_TRANSLATOR_CODEBUF_H

#include <stddef.h>
#include <stdint.h>

/* Allocations start on this boundary (a cache-line fraction that keeps
 * block entries aligned for the decoders). */
#define CODEBUF_ALIGN 16

struct codebuf {
    uint8_t *rw;        /* write view */
    uint8_t *rx;        /* execute view, same pages */
    size_t size;        /* bytes in the arena (page multiple) */
    size_t used;        /* bump offset */
    int fd;             /* the memfd behind both views */
};

/* size is rounded up to whole pages. NULL with errno set when the memfd or
 * either mapping cannot be made. */
struct codebuf *codebuf_create(size_t size);
void codebuf_destroy(struct codebuf *cb);

/* `bytes` of fresh space (write view), aligned to CODEBUF_ALIGN; NULL with
 * errno = ENOSPC when the arena is exhausted. */
void *codebuf_alloc(struct codebuf *cb, size_t bytes);
/* Flush everything: the next allocation starts at the beginning again. */
void codebuf_reset(struct codebuf *cb);

/* Open-ended emission: the aligned write cursor and the room after it. */
uint8_t *codebuf_cursor(struct codebuf *cb);
size_t codebuf_free_space(const struct codebuf *cb);
/* Claims `bytes` at the cursor; returns their run-view address. */
void *codebuf_commit(struct codebuf *cb, size_t bytes);

static inline intptr_t codebuf_exec_delta(const struct codebuf *cb) { return cb->rx - cb->rw; }
static inline void *codebuf_to_rx(const struct codebuf *cb, const void *rw_ptr) { return (uint8_t *)rw_ptr + codebuf_exec_delta(cb); }
static inline void *codebuf_to_rw(const struct codebuf *cb, const void *rx_ptr) { return (uint8_t *)rx_ptr - codebuf_exec_delta(cb); }
static inline size_t codebuf_used(const struct codebuf *cb) { return cb->used; }
static inline size_t codebuf_size(const struct codebuf *cb) { return cb->size; }

#endif
