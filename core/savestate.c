/* core/savestate.c: field tables to bytes and back (format in savestate.h).
 *
 * Saving walks a table depth-first and writes one record per leaf field
 * under its path name. Loading first indexes the section body (every length
 * checked against what is left), then walks the same table, finds each
 * leaf by name (the next record in the common case, else a search) and
 * checks its size; records no leaf claimed are unknown fields. The walk is
 * made twice by the caller's choice: once to check, once to store.
 */
#include "savestate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 200

void savestate_buf_free(struct savestate_buf *b)
{
    free(b->data);
    *b = (struct savestate_buf){ 0 };
}

void savestate_put(struct savestate_buf *b, const void *bytes, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void put_le(struct savestate_buf *b, uint64_t v, int n)
{
    uint8_t bytes[8];
    for (int i = 0; i < n; i++)
        bytes[i] = (uint8_t)(v >> (8 * i));
    savestate_put(b, bytes, (size_t)n);
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* host integer of size n at p <-> little-endian bytes */
static uint64_t load_host_int(const void *p, uint32_t n)
{
    switch (n) {
    case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void store_host_int(void *p, uint32_t n, uint64_t x)
{
    switch (n) {
    case 1: { uint8_t v = (uint8_t)x; memcpy(p, &v, 1); break; }
    case 2: { uint16_t v = (uint16_t)x; memcpy(p, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)x; memcpy(p, &v, 4); break; }
    default: { uint64_t v = x; memcpy(p, &v, 8); break; }
    }
}

int savestate_write_header(struct savestate_buf *b)
{
    savestate_put(b, SAVESTATE_MAGIC, 8);
    put_le(b, SAVESTATE_FORMAT, 4);
    return b->failed ? -1 : 0;
}

/* ---- the walk ---- */

/* A leaf: kind INT/BOOL/BYTES (size per element, count) at host address p. */
struct walk {
    int (*leaf)(struct walk *w, const char *path, const struct state_field *f,
                uint8_t *p, uint32_t size, uint32_t count);
};

static int walk_desc(struct walk *w, const struct state_desc *desc, uint8_t *obj,
                     const char *prefix);

static int walk_field(struct walk *w, const struct state_field *f, uint8_t *obj,
                      const char *prefix)
{
    char path[PATH_MAX_LEN];
    uint8_t *p = obj + f->offset;
    switch (f->kind) {
    case STATE_KIND_INT:
    case STATE_KIND_BOOL:
    case STATE_KIND_BYTES:
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        return w->leaf(w, path, f, p, f->size, f->count);
    case STATE_KIND_PTR_BYTES: {
        uint8_t *bytes;
        memcpy(&bytes, p, sizeof bytes);
        uint32_t len = f->count;
        if (!len)
            memcpy(&len, obj + f->len_offset, sizeof len);
        if (!bytes)
            return 0;
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        return w->leaf(w, path, f, bytes, 1, len);
    }
    case STATE_KIND_STRUCT:
    case STATE_KIND_PTR_STRUCT:
        for (uint32_t i = 0; i < f->count; i++) {
            uint8_t *sub = p + (size_t)i * f->size;
            if (f->kind == STATE_KIND_PTR_STRUCT) {
                memcpy(&sub, sub, sizeof sub);
                if (!sub)
                    continue;
            }
            if (f->count == 1)
                snprintf(path, sizeof path, "%s%s.", prefix, f->name);
            else
                snprintf(path, sizeof path, "%s%s[%u].", prefix, f->name, i);
            int rc = walk_desc(w, f->sub, sub, path);
            if (rc)
                return rc;
        }
        return 0;
    }
    return -1;
}

static int walk_desc(struct walk *w, const struct state_desc *desc, uint8_t *obj,
                     const char *prefix)
{
    for (size_t i = 0; i < desc->nfields; i++) {
        int rc = walk_field(w, &desc->fields[i], obj, prefix);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- saving ---- */

struct save_walk {
    struct walk w;
    struct savestate_buf *b;
};

static int save_leaf(struct walk *w, const char *path, const struct state_field *f,
                     uint8_t *p, uint32_t size, uint32_t count)
{
    struct savestate_buf *b = ((struct save_walk *)w)->b;
    size_t n = strlen(path);
    put_le(b, n, 2);
    savestate_put(b, path, n);
    uint64_t bytes = (uint64_t)size * count;
    put_le(b, bytes, 4);
    if (f->kind == STATE_KIND_INT && size > 1) {
        for (uint32_t i = 0; i < count; i++)
            put_le(b, load_host_int(p + (size_t)i * size, size), (int)size);
    } else {
        savestate_put(b, p, (size_t)bytes);
    }
    return 0;
}

int savestate_write_section(struct savestate_buf *b, const char *name, uint32_t instance,
                            const struct state_desc *desc, const void *obj)
{
    size_t n = strlen(name);
    if (n > 255)
        return -1;
    put_le(b, n, 1);
    savestate_put(b, name, n);
    put_le(b, instance, 4);
    put_le(b, desc->version, 4);
    size_t len_at = b->len;
    put_le(b, 0, 8);                  /* body length, filled in below */
    size_t body_at = b->len;
    struct save_walk sw = { .w = { save_leaf }, .b = b };
    walk_desc(&sw.w, desc, (uint8_t *)obj, "");
    if (b->failed)
        return -1;
    uint64_t body = b->len - body_at;
    for (int i = 0; i < 8; i++)
        b->data[len_at + i] = (uint8_t)(body >> (8 * i));
    return 0;
}

/* ---- reading ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int savestate_reader_open(struct savestate_reader *r, const void *buf, size_t len,
                          char *err, size_t errlen)
{
    *r = (struct savestate_reader){ .data = buf, .len = len };
    if (len < 12 || memcmp(buf, SAVESTATE_MAGIC, 8) != 0)
        return fail(err, errlen, "savestate: not a fox86 snapshot (bad magic)");
    uint32_t format = (uint32_t)get_le(r->data + 8, 4);
    if (format != SAVESTATE_FORMAT)
        return fail(err, errlen, "savestate: format version %u, expected %u", format,
                    SAVESTATE_FORMAT);
    r->pos = 12;
    return 0;
}

int savestate_next_section(struct savestate_reader *r, struct savestate_section *s,
                           char *err, size_t errlen)
{
    if (r->pos == r->len)
        return 0;
    size_t left = r->len - r->pos;
    const uint8_t *p = r->data + r->pos;
    if (left < 1 || left < 1u + p[0] + 16u)
        return fail(err, errlen, "savestate: truncated section header at offset %zu", r->pos);
    size_t n = p[0];
    memcpy(s->name, p + 1, n);
    s->name[n] = '\0';
    if (n == 0 || memchr(s->name, '\0', n))
        return fail(err, errlen, "savestate: bad section name at offset %zu", r->pos);
    p += 1 + n;
    s->instance = (uint32_t)get_le(p, 4);
    s->version = (uint32_t)get_le(p + 4, 4);
    s->body_len = get_le(p + 8, 8);
    left -= 1 + n + 16;
    if (s->body_len > left)
        return fail(err, errlen, "savestate: %s#%u: section of %llu bytes runs past the end",
                    s->name, s->instance, (unsigned long long)s->body_len);
    s->body = p + 16;
    r->pos += 1 + n + 16 + (size_t)s->body_len;
    return 1;
}

struct record {
    const char *name;
    uint16_t name_len;
    bool used;
    uint32_t size;
    const uint8_t *data;
};

struct load_walk {
    struct walk w;
    const struct savestate_section *s;
    struct record *rec;
    size_t nrec, next;
    bool apply;
    char *err;
    size_t errlen;
};

static struct record *find_record(struct load_walk *lw, const char *path)
{
    size_t n = strlen(path);
    for (size_t k = 0; k < lw->nrec; k++) {
        struct record *r = &lw->rec[(lw->next + k) % lw->nrec];
        if (r->name_len == n && memcmp(r->name, path, n) == 0) {
            lw->next = (size_t)(r - lw->rec) + 1;
            return r;
        }
    }
    return NULL;
}

static int load_leaf(struct walk *w, const char *path, const struct state_field *f,
                     uint8_t *p, uint32_t size, uint32_t count)
{
    struct load_walk *lw = (struct load_walk *)w;
    const struct savestate_section *s = lw->s;
    struct record *r = find_record(lw, path);
    if (!r)
        return fail(lw->err, lw->errlen, "savestate: %s#%u: field %s missing",
                    s->name, s->instance, path);
    uint64_t expected = (uint64_t)size * count;
    if (r->size != expected)
        return fail(lw->err, lw->errlen, "savestate: %s#%u: field %s has size %u, expected %llu",
                    s->name, s->instance, path, r->size, (unsigned long long)expected);
    if (r->used)
        return fail(lw->err, lw->errlen, "savestate: %s#%u: field %s appears twice",
                    s->name, s->instance, path);
    r->used = true;
    if (f->kind == STATE_KIND_BOOL) {
        for (uint32_t i = 0; i < r->size; i++)
            if (r->data[i] > 1)
                return fail(lw->err, lw->errlen, "savestate: %s#%u: field %s: %u is not a bool",
                            s->name, s->instance, path, r->data[i]);
    }
    if (!lw->apply)
        return 0;
    if (f->kind == STATE_KIND_INT && size > 1) {
        for (uint32_t i = 0; i < count; i++)
            store_host_int(p + (size_t)i * size, size, get_le(r->data + (size_t)i * size, (int)size));
    } else {
        memcpy(p, r->data, r->size);
    }
    return 0;
}

int savestate_load_section(const struct savestate_section *s, const struct state_desc *desc,
                           void *obj, bool apply, char *err, size_t errlen)
{
    if (s->version != desc->version)
        return fail(err, errlen, "savestate: %s#%u: table version %u, expected %u",
                    s->name, s->instance, s->version, desc->version);
    /* index the records */
    size_t cap = 16, nrec = 0;
    struct record *rec = malloc(cap * sizeof *rec);
    if (!rec)
        return fail(err, errlen, "savestate: out of host memory");
    const uint8_t *p = s->body, *end = s->body + s->body_len;
    int rc = 0;
    while (p < end) {
        if (end - p < 2 || (size_t)(end - p) < 2u + (size_t)get_le(p, 2) + 4u) {
            rc = fail(err, errlen, "savestate: %s#%u: truncated field record", s->name, s->instance);
            goto out;
        }
        uint16_t n = (uint16_t)get_le(p, 2);
        uint32_t size = (uint32_t)get_le(p + 2 + n, 4);
        if ((size_t)(end - p - 6 - n) < size) {
            rc = fail(err, errlen, "savestate: %s#%u: field %.*s runs past its section",
                      s->name, s->instance, (int)n, (const char *)(p + 2));
            goto out;
        }
        if (nrec == cap) {
            struct record *bigger = realloc(rec, 2 * cap * sizeof *rec);
            if (!bigger) {
                rc = fail(err, errlen, "savestate: out of host memory");
                goto out;
            }
            rec = bigger;
            cap *= 2;
        }
        rec[nrec++] = (struct record){ .name = (const char *)(p + 2), .name_len = n,
                                       .size = size, .data = p + 6 + n };
        p += 6 + (size_t)n + size;
    }
    struct load_walk lw = { .w = { load_leaf }, .s = s, .rec = rec, .nrec = nrec,
                            .apply = apply, .err = err, .errlen = errlen };
    rc = walk_desc(&lw.w, desc, obj, "");
    if (rc)
        goto out;
    for (size_t i = 0; i < nrec; i++) {
        if (!rec[i].used) {
            rc = fail(err, errlen, "savestate: %s#%u: unknown field %.*s", s->name, s->instance,
                      (int)rec[i].name_len, rec[i].name);
            goto out;
        }
    }
out:
    free(rec);
    return rc;
}
