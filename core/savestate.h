/* core/savestate.h: save state as data: a versioned table of fields per
 * device type, and the byte format snapshots are written in.
 *
 * A device describes what a guest can observe of it with a struct
 * state_desc: a name, a version (bump it when the fields change) and a
 * table of fields built with the STATE_* macros below. Host-side things
 * (pointers to other objects, backends, file descriptors, caches) are not
 * in the table; what can be derived from the saved fields (IRQ output
 * levels, mappings, timer deadlines) is recomputed by the device's
 * post_load hook (devices/device.h).
 *
 * Format (all integers little-endian):
 *   header:  "FOX86SAV" (8 bytes), u32 format version (SAVESTATE_FORMAT)
 *   then sections until the end of the buffer, each:
 *     u8 name length, name bytes (the device name, "cpu", "machine", "ram"),
 *     u32 instance number (order among devices of the same name),
 *     u32 table version,
 *     u64 body length, body:
 *       fields, each: u16 name length, name, u32 size in bytes, the bytes.
 * Field names are paths: "chip[1].imr", "ch[0].drive[1].status". An integer
 * field (or array of them) is stored element by element, each in its own
 * size; a field's size is element size times count. A loader skips sections
 * it has no device for only when told to (savestate_section_skip), and
 * rejects, with a one-line reason, a table version it does not know, a
 * field missing or of the wrong size, a field it does not know, a bool that
 * is not 0 or 1, and any length that runs past its container. Nothing in
 * the input is trusted: a truncated or corrupt buffer is an error, never a
 * crash.
 *
 * Usage (a device file):
 *   static const struct state_field uart_fields[] = {
 *       STATE_U8(struct uart16550, ier),
 *       STATE_ARRAY(struct uart16550, rx_fifo),
 *   };
 *   static const struct state_desc uart_state = STATE_DESC("uart16550", 1, uart_fields);
 */
#ifndef FOX86_SAVESTATE_H
#define FOX86_SAVESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVESTATE_MAGIC  "FOX86SAV"
#define SAVESTATE_FORMAT 1u

enum state_kind {
    STATE_KIND_INT,        /* unsigned or signed integers (enums too) of size 1, 2, 4 or 8 */
    STATE_KIND_BOOL,       /* bool: loads only 0 or 1 */
    STATE_KIND_BYTES,      /* raw bytes, count of them */
    STATE_KIND_STRUCT,     /* count sub-structs of size bytes, described by sub */
    STATE_KIND_PTR_STRUCT, /* count pointers to sub-structs (NULL ones are absent) */
    STATE_KIND_PTR_BYTES,  /* a pointer to bytes: count of them, or the uint32_t at len_offset */
};

struct state_desc;

struct state_field {
    const char *name;
    size_t   offset;            /* in the containing struct */
    uint32_t size;              /* element size in bytes */
    uint32_t count;             /* elements (PTR_BYTES: bytes; 0: see len_offset) */
    enum state_kind kind;
    const struct state_desc *sub;   /* STRUCT, PTR_STRUCT */
    size_t   len_offset;        /* PTR_BYTES with count 0: offset of its uint32_t length */
};

struct state_desc {
    const char *name;
    uint32_t version;
    const struct state_field *fields;
    size_t nfields;
};

#define STATE_DESC(name_, version_, fields_) \
    { (name_), (version_), (fields_), sizeof(fields_) / sizeof((fields_)[0]) }

#define STATE_SIZEOF(type, field) sizeof(((type *)0)->field)
/* sizeof the member, or a compile error if it is not n bytes */
#define STATE_CHECKED_SIZE(type, field, n) \
    (uint32_t)(STATE_SIZEOF(type, field) + 0 * sizeof(char[STATE_SIZEOF(type, field) == (n) ? 1 : -1]))
#define STATE_NELEMS(type, field) (uint32_t)(STATE_SIZEOF(type, field) / STATE_SIZEOF(type, field[0]))

#define STATE_U8(type, field)  { #field, offsetof(type, field), STATE_CHECKED_SIZE(type, field, 1), 1, STATE_KIND_INT, 0, 0 }
#define STATE_U16(type, field) { #field, offsetof(type, field), STATE_CHECKED_SIZE(type, field, 2), 1, STATE_KIND_INT, 0, 0 }
#define STATE_U32(type, field) { #field, offsetof(type, field), STATE_CHECKED_SIZE(type, field, 4), 1, STATE_KIND_INT, 0, 0 }
#define STATE_U64(type, field) { #field, offsetof(type, field), STATE_CHECKED_SIZE(type, field, 8), 1, STATE_KIND_INT, 0, 0 }
/* any integer or enum member, in its own size (int, int64_t, enum ...) */
#define STATE_INT(type, field) { #field, offsetof(type, field), (uint32_t)STATE_SIZEOF(type, field), 1, STATE_KIND_INT, 0, 0 }
#define STATE_BOOL(type, field) \
    { #field, offsetof(type, field), STATE_CHECKED_SIZE(type, field, sizeof(bool)), 1, STATE_KIND_BOOL, 0, 0 }
/* a fixed array of integers */
#define STATE_ARRAY(type, field) \
    { #field, offsetof(type, field), (uint32_t)STATE_SIZEOF(type, field[0]), STATE_NELEMS(type, field), STATE_KIND_INT, 0, 0 }
#define STATE_BOOL_ARRAY(type, field) \
    { #field, offsetof(type, field), (uint32_t)STATE_SIZEOF(type, field[0]), STATE_NELEMS(type, field), STATE_KIND_BOOL, 0, 0 }
/* a fixed array or struct stored as raw bytes (no byte-order conversion) */
#define STATE_BYTES(type, field) \
    { #field, offsetof(type, field), 1, (uint32_t)STATE_SIZEOF(type, field), STATE_KIND_BYTES, 0, 0 }
/* one sub-struct, or a fixed array of them, described by desc */
#define STATE_STRUCT(type, field, desc) \
    { #field, offsetof(type, field), (uint32_t)STATE_SIZEOF(type, field), 1, STATE_KIND_STRUCT, &(desc), 0 }
#define STATE_STRUCT_ARRAY(type, field, desc) \
    { #field, offsetof(type, field), (uint32_t)STATE_SIZEOF(type, field[0]), STATE_NELEMS(type, field), \
      STATE_KIND_STRUCT, &(desc), 0 }
/* a pointer to a separately allocated sub-struct (skipped when NULL), or a fixed array of them */
#define STATE_PTR_STRUCT(type, field, desc) \
    { #field, offsetof(type, field), (uint32_t)sizeof(void *), 1, STATE_KIND_PTR_STRUCT, &(desc), 0 }
#define STATE_PTR_STRUCT_ARRAY(type, field, desc) \
    { #field, offsetof(type, field), (uint32_t)sizeof(void *), STATE_NELEMS(type, field), \
      STATE_KIND_PTR_STRUCT, &(desc), 0 }
/* a pointer to len bytes (skipped when NULL); _VAR: the length is the uint32_t member len_field */
#define STATE_PTR_BYTES(type, field, len) \
    { #field, offsetof(type, field), 1, (uint32_t)(len), STATE_KIND_PTR_BYTES, 0, 0 }
#define STATE_PTR_BYTES_VAR(type, field, len_field) \
    { #field, offsetof(type, field), 1, 0, STATE_KIND_PTR_BYTES, 0, \
      offsetof(type, len_field) + 0 * sizeof(char[STATE_SIZEOF(type, len_field) == 4 ? 1 : -1]) }

/* A growable byte buffer. On out-of-memory, failed is set and further
 * appends do nothing; the final result reports it. */
struct savestate_buf {
    uint8_t *data;
    size_t   len, cap;
    bool     failed;
};
void savestate_buf_free(struct savestate_buf *b);
void savestate_put(struct savestate_buf *b, const void *bytes, size_t n);

/* Writing: the header, then one section per object. Return 0, or -1 if
 * host memory ran out. */
int savestate_write_header(struct savestate_buf *b);
int savestate_write_section(struct savestate_buf *b, const char *name, uint32_t instance,
                            const struct state_desc *desc, const void *obj);

/* Reading. */
struct savestate_reader {
    const uint8_t *data;
    size_t len, pos;
};
struct savestate_section {
    char     name[256];         /* NUL-terminated */
    uint32_t instance;
    uint32_t version;
    const uint8_t *body;
    uint64_t body_len;
};
/* Checks the header. 0, or -1 with the reason in err. */
int savestate_reader_open(struct savestate_reader *r, const void *buf, size_t len,
                          char *err, size_t errlen);
/* The next section: 1, 0 at the end of the buffer, -1 (reason in err) if corrupt. */
int savestate_next_section(struct savestate_reader *r, struct savestate_section *s,
                           char *err, size_t errlen);
/* Checks section s against desc (version, every field present with its
 * size, nothing unknown, bools 0/1) and, if apply, stores the fields into
 * obj. 0, or -1 with "savestate: name#instance: ..." in err; obj is
 * untouched when checking fails, so check every section before applying
 * any. */
int savestate_load_section(const struct savestate_section *s, const struct state_desc *desc,
                           void *obj, bool apply, char *err, size_t errlen);

#endif
