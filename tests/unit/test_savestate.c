/* tests/unit/test_savestate.c: save state (core/savestate.h) and machine
 * snapshots (machine_save / machine_load) without running the CPU.
 *
 * Format: a round trip through a table with every kind of field, an
 * unknown section skipped, a wrong field size / missing field / unknown
 * field / bad bool / wrong version / truncated or mutated buffer rejected
 * with a clear reason and without a crash.
 * Devices: a whole PC board is driven through its ports into a non-reset
 * state (PIC masks and init, PIT counters, CMOS, UART FIFO in loopback,
 * DMA, keyboard queue, fw_cfg position, VGA registers, palette and VBE,
 * IDE task file, FDC, port 0x92, PCI config space), saved, and loaded into
 * a second, freshly reset board, and into the first one after a reset of
 * every device and the CPU (what --savevm-check does); both must answer a
 * long list of port reads exactly as the original does, and saving the
 * loaded board must give the same bytes again.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "core/savestate.h"
#include "devices/device.h"
#include "devices/pc.h"

/* ---- format ---- */

struct sample_inner { uint16_t a; bool b; };
struct sample {
    uint8_t  u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int      i;
    bool     flag;
    uint32_t arr[3];
    uint8_t  raw[5];
    struct sample_inner inner[2];
    struct sample_inner *ptr;
    struct sample_inner *ptrs[3];
    uint8_t *bytes;
    uint32_t nbytes;
};

static const struct state_field inner_fields[] = {
    STATE_U16(struct sample_inner, a),
    STATE_BOOL(struct sample_inner, b),
};
static const struct state_desc inner_state = STATE_DESC("inner", 1, inner_fields);

static const struct state_field sample_fields[] = {
    STATE_U8(struct sample, u8),
    STATE_U16(struct sample, u16),
    STATE_U32(struct sample, u32),
    STATE_U64(struct sample, u64),
    STATE_INT(struct sample, i),
    STATE_BOOL(struct sample, flag),
    STATE_ARRAY(struct sample, arr),
    STATE_BYTES(struct sample, raw),
    STATE_STRUCT_ARRAY(struct sample, inner, inner_state),
    STATE_PTR_STRUCT(struct sample, ptr, inner_state),
    STATE_PTR_STRUCT_ARRAY(struct sample, ptrs, inner_state),
    STATE_PTR_BYTES_VAR(struct sample, bytes, nbytes),
};
static const struct state_desc sample_state = STATE_DESC("sample", 3, sample_fields);

static struct sample_inner heap_inner[4];
static uint8_t heap_bytes[2][7];

static void sample_init(struct sample *s, int which, bool filled)
{
    memset(s, 0, sizeof *s);
    s->ptr = &heap_inner[2 * which];
    s->ptrs[1] = &heap_inner[2 * which + 1];
    s->bytes = heap_bytes[which];
    s->nbytes = 7;
    memset(s->ptr, 0, sizeof *s->ptr);
    memset(s->ptrs[1], 0, sizeof *s->ptrs[1]);
    memset(s->bytes, 0, 7);
    if (!filled)
        return;
    s->u8 = 0xA5; s->u16 = 0xBEEF; s->u32 = 0xDEADBEEF; s->u64 = 0x0123456789ABCDEFull;
    s->i = -42; s->flag = true;
    s->arr[0] = 1; s->arr[1] = 0x80000000u; s->arr[2] = 3;
    memcpy(s->raw, "hello", 5);
    s->inner[1].a = 0x1234; s->inner[1].b = true;
    s->ptr->a = 77; s->ptrs[1]->b = true;
    memcpy(s->bytes, "bytes!!", 7);
}

static void save_sample(struct savestate_buf *b, const struct state_desc *d, struct sample *s)
{
    ck_assert_int_eq(savestate_write_header(b), 0);
    ck_assert_int_eq(savestate_write_section(b, d->name, 0, d, s), 0);
}

/* Load the first section of buf into s; returns the result, err filled. */
static int load_sample(const uint8_t *buf, size_t len, const struct state_desc *d,
                       struct sample *s, char *err, size_t errlen)
{
    struct savestate_reader r;
    struct savestate_section sec;
    if (savestate_reader_open(&r, buf, len, err, errlen) != 0)
        return -1;
    int more;
    while ((more = savestate_next_section(&r, &sec, err, errlen)) > 0) {
        if (strcmp(sec.name, d->name) != 0)
            continue;
        if (savestate_load_section(&sec, d, s, false, err, errlen) != 0)
            return -1;
        return savestate_load_section(&sec, d, s, true, err, errlen);
    }
    if (more == 0)
        snprintf(err, errlen, "no section");
    return -1;
}

START_TEST(format_round_trip)
{
    struct sample a, b;
    sample_init(&a, 0, true);
    sample_init(&b, 1, false);
    struct savestate_buf buf = { 0 };
    save_sample(&buf, &sample_state, &a);
    ck_assert_mem_eq(buf.data, "FOX86SAV\1\0\0\0", 12);
    char err[200] = "";
    ck_assert_msg(load_sample(buf.data, buf.len, &sample_state, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.u8, 0xA5);
    ck_assert_uint_eq(b.u16, 0xBEEF);
    ck_assert_uint_eq(b.u32, 0xDEADBEEF);
    ck_assert_uint_eq(b.u64, 0x0123456789ABCDEFull);
    ck_assert_int_eq(b.i, -42);
    ck_assert(b.flag);
    ck_assert_uint_eq(b.arr[1], 0x80000000u);
    ck_assert_mem_eq(b.raw, "hello", 5);
    ck_assert_uint_eq(b.inner[1].a, 0x1234);
    ck_assert(b.inner[1].b);
    ck_assert_uint_eq(b.ptr->a, 77);
    ck_assert(b.ptrs[1]->b);
    ck_assert_mem_eq(b.bytes, "bytes!!", 7);
    /* the host pointers are not state: still b's own */
    ck_assert_ptr_eq(b.ptr, &heap_inner[2]);
    /* integers are little-endian: the u16 field record ends in EF BE */
    const uint8_t *p = memmem(buf.data, buf.len, "u16", 3);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[3], 2);          /* u32 size 2 */
    ck_assert_uint_eq(p[7], 0xEF);
    ck_assert_uint_eq(p[8], 0xBE);
    /* a path name for nested fields */
    ck_assert_ptr_nonnull(memmem(buf.data, buf.len, "inner[1].a", 10));
    ck_assert_ptr_nonnull(memmem(buf.data, buf.len, "ptrs[1].b", 9));
    ck_assert_ptr_null(memmem(buf.data, buf.len, "ptrs[0].b", 9));   /* NULL: absent */
    savestate_buf_free(&buf);
}
END_TEST

START_TEST(format_skips_unknown_sections)
{
    struct sample a, b;
    sample_init(&a, 0, true);
    sample_init(&b, 1, false);
    struct savestate_buf buf = { 0 };
    ck_assert_int_eq(savestate_write_header(&buf), 0);
    ck_assert_int_eq(savestate_write_section(&buf, "somethingelse", 4, &inner_state, a.ptr), 0);
    ck_assert_int_eq(savestate_write_section(&buf, "sample", 0, &sample_state, &a), 0);
    char err[200] = "";
    ck_assert_msg(load_sample(buf.data, buf.len, &sample_state, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.u64, 0x0123456789ABCDEFull);
    savestate_buf_free(&buf);
}
END_TEST

/* The same fields as sample, but lsr is 2 bytes here and 1 byte there. */
struct wide { uint16_t lsr; };
struct narrow { uint8_t lsr; };
static const struct state_field wide_fields[] = { STATE_U16(struct wide, lsr) };
static const struct state_field narrow_fields[] = { STATE_U8(struct narrow, lsr) };
static const struct state_field other_fields[] = { STATE_U8(struct narrow, lsr), STATE_U8(struct narrow, lsr) };

START_TEST(format_rejects_mismatches)
{
    char err[200] = "";
    struct savestate_buf buf = { 0 };
    struct wide w = { 0x1FF };
    struct narrow n = { 7 };
    static const struct state_desc wide_state = STATE_DESC("uart16550", 1, wide_fields);
    static const struct state_desc narrow_state = STATE_DESC("uart16550", 1, narrow_fields);
    static const struct state_desc narrow_v2 = STATE_DESC("uart16550", 2, narrow_fields);
    ck_assert_int_eq(savestate_write_header(&buf), 0);
    ck_assert_int_eq(savestate_write_section(&buf, "uart16550", 0, &wide_state, &w), 0);

    struct savestate_reader r;
    struct savestate_section sec;
    ck_assert_int_eq(savestate_reader_open(&r, buf.data, buf.len, err, sizeof err), 0);
    ck_assert_int_eq(savestate_next_section(&r, &sec, err, sizeof err), 1);
    ck_assert_int_eq(savestate_load_section(&sec, &narrow_state, &n, false, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: uart16550#0: field lsr has size 2, expected 1");
    ck_assert_uint_eq(n.lsr, 7);                        /* untouched */
    ck_assert_int_eq(savestate_load_section(&sec, &narrow_v2, &n, true, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: uart16550#0: table version 1, expected 2");
    ck_assert_int_eq(savestate_next_section(&r, &sec, err, sizeof err), 0);

    /* a missing field and an unknown one */
    struct sample s;
    sample_init(&s, 0, true);
    static const struct state_desc fewer = { "sample", 3, sample_fields, 3 };
    savestate_buf_free(&buf);
    save_sample(&buf, &fewer, &s);
    ck_assert_int_eq(load_sample(buf.data, buf.len, &sample_state, &s, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: sample#0: field u64 missing");
    savestate_buf_free(&buf);
    save_sample(&buf, &sample_state, &s);
    ck_assert_int_eq(load_sample(buf.data, buf.len, &fewer, &s, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: sample#0: unknown field u64");
    /* a duplicated field */
    static const struct state_desc twice = STATE_DESC("uart16550", 1, other_fields);
    savestate_buf_free(&buf);
    ck_assert_int_eq(savestate_write_header(&buf), 0);
    ck_assert_int_eq(savestate_write_section(&buf, "uart16550", 0, &twice, &n), 0);
    ck_assert_int_eq(savestate_reader_open(&r, buf.data, buf.len, err, sizeof err), 0);
    ck_assert_int_eq(savestate_next_section(&r, &sec, err, sizeof err), 1);
    ck_assert_int_eq(savestate_load_section(&sec, &narrow_state, &n, false, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: uart16550#0: unknown field lsr");

    /* a bool that is not 0 or 1 */
    savestate_buf_free(&buf);
    save_sample(&buf, &sample_state, &s);
    uint8_t *flag = memmem(buf.data, buf.len, "flag", 4);
    ck_assert_ptr_nonnull(flag);
    flag[8] = 2;                                         /* "flag", u32 size, then the byte */
    ck_assert_int_eq(load_sample(buf.data, buf.len, &sample_state, &s, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: sample#0: field flag: 2 is not a bool");

    /* bad magic and format */
    buf.data[0] = 'X';
    ck_assert_int_eq(load_sample(buf.data, buf.len, &sample_state, &s, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: not a fox86 snapshot (bad magic)");
    buf.data[0] = 'F';
    buf.data[8] = 9;
    ck_assert_int_eq(load_sample(buf.data, buf.len, &sample_state, &s, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: format version 9, expected 1");
    savestate_buf_free(&buf);
}
END_TEST

START_TEST(format_truncated_and_mutated)
{
    struct sample a, b;
    sample_init(&a, 0, true);
    struct savestate_buf buf = { 0 };
    save_sample(&buf, &sample_state, &a);
    char err[200];
    /* every proper prefix fails (a prefix ending between sections would be
     * valid, but there is only one section here) */
    for (size_t len = 0; len < buf.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, buf.data, len);
        sample_init(&b, 1, false);
        err[0] = '\0';
        ck_assert_int_eq(load_sample(copy, len, &sample_state, &b, err, sizeof err), -1);
        ck_assert_msg(strncmp(err, "savestate: ", 11) == 0 || strcmp(err, "no section") == 0,
                      "len %zu: %s", len, err);
        free(copy);
    }
    /* random mutations: an error or a load, never a crash */
    srand(1234);
    uint8_t *copy = malloc(buf.len);
    int rejected = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, buf.data, buf.len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            copy[rand() % buf.len] = (uint8_t)rand();
        sample_init(&b, 1, false);
        if (load_sample(copy, buf.len, &sample_state, &b, err, sizeof err) != 0)
            rejected++;
    }
    ck_assert_int_gt(rejected, 1000);
    free(copy);
    savestate_buf_free(&buf);
}
END_TEST

/* ---- machine snapshots ---- */

static struct machine *board(uint32_t ram_mb)
{
    char err[256];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = ram_mb << 20 },
                                       err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct pc_config cfg = { .vga = true, .boot_order = "cad", .rtc_base = 1767225600 };
    cfg.ide[2] = (struct ide_drive_config){ .cdrom = true, .present = true };
    ck_assert_msg(pc_create(m, &cfg, NULL, err, sizeof err) == 0, "%s", err);
    machine_reset(m);
    return m;
}

static void out8(struct machine *m, uint16_t port, uint8_t v) { ioport_write(&m->io, port, v, 1); }
static uint8_t in8(struct machine *m, uint16_t port) { return (uint8_t)ioport_read(&m->io, port, 1); }

static void pci_write(struct machine *m, int devfn, int reg, uint32_t v, int size)
{
    ioport_write(&m->io, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xFC), 4);
    ioport_write(&m->io, 0xCFC + (reg & 3), v, size);
}

/* Drive every device away from its power-on state, as a guest would. */
static void drive_devices(struct machine *m)
{
    /* PIC: initialise both with vectors 0x20/0x28, masks, an IRQ pending */
    out8(m, 0x20, 0x11); out8(m, 0x21, 0x20); out8(m, 0x21, 0x04); out8(m, 0x21, 0x01);
    out8(m, 0xA0, 0x11); out8(m, 0xA1, 0x28); out8(m, 0xA1, 0x02); out8(m, 0xA1, 0x01);
    out8(m, 0x21, 0xB8); out8(m, 0xA1, 0x8F);
    out8(m, 0x4D0, 0x20);                       /* IRQ 5 level-triggered */
    /* PIT: counter 0 mode 2, count 1193; counter 2 mode 3; a half-written count on 1 */
    out8(m, 0x43, 0x34); out8(m, 0x40, 0xA9); out8(m, 0x40, 0x04);
    out8(m, 0x43, 0xB6); out8(m, 0x42, 0x33); out8(m, 0x42, 0x12);
    out8(m, 0x61, 0x03);
    out8(m, 0x43, 0x70); out8(m, 0x41, 0x55);
    /* CMOS: a RAM byte, register B (24h, binary), the index */
    out8(m, 0x70, 0x40); out8(m, 0x71, 0x5A);
    out8(m, 0x70, 0x0B); out8(m, 0x71, 0x06);
    out8(m, 0x70, 0x41);
    /* UART COM1: divisor, 7E1, FIFO on, loopback, three bytes received */
    out8(m, 0x3FB, 0x80); out8(m, 0x3F8, 0x01); out8(m, 0x3F9, 0x00);
    out8(m, 0x3FB, 0x1A); out8(m, 0x3FA, 0xC7); out8(m, 0x3FC, 0x1B);
    out8(m, 0x3F9, 0x0F); out8(m, 0x3FF, 0x77);
    out8(m, 0x3F8, 'a'); out8(m, 0x3F8, 'b'); out8(m, 0x3F8, 'c');
    /* DMA channel 2: address, count, mode, page, unmasked */
    out8(m, 0x0C, 0); out8(m, 0x04, 0x34); out8(m, 0x04, 0x12);
    out8(m, 0x05, 0xFF); out8(m, 0x05, 0x01); out8(m, 0x0B, 0x46); out8(m, 0x81, 0x07);
    out8(m, 0x0A, 0x02); out8(m, 0x0C, 0); out8(m, 0x04, 0x99);   /* flip-flop left high */
    /* keyboard: identify (ACK AB 83 queued), and the command byte */
    out8(m, 0x64, 0x60); out8(m, 0x60, 0x47);
    out8(m, 0x60, 0xF2);
    /* fw_cfg: signature, two bytes read */
    ioport_write(&m->io, 0x510, 0, 2); in8(m, 0x511); in8(m, 0x511);
    /* VGA: sequencer, graphics, CRTC, attribute, DAC, VBE */
    out8(m, 0x3C4, 0x02); out8(m, 0x3C5, 0x0F);
    out8(m, 0x3CE, 0x05); out8(m, 0x3CF, 0x40);
    out8(m, 0x3C2, 0x67);
    out8(m, 0x3D4, 0x0C); out8(m, 0x3D5, 0x12);
    in8(m, 0x3DA); out8(m, 0x3C0, 0x01); out8(m, 0x3C0, 0x3A);
    out8(m, 0x3C8, 0x10); out8(m, 0x3C9, 0x3F); out8(m, 0x3C9, 0x20); out8(m, 0x3C9, 0x01);
    out8(m, 0x3C9, 0x02);                       /* a triplet half written */
    ioport_write(&m->io, 0x1CE, 1, 2); ioport_write(&m->io, 0x1CF, 800, 2);
    ioport_write(&m->io, 0x1CE, 2, 2); ioport_write(&m->io, 0x1CF, 600, 2);
    ioport_write(&m->io, 0x1CE, 3, 2);
    phys_write(&m->mem, 0xA0010, 0x5A, 1);     /* planar write to plane 0-3 */
    /* PCI: VGA BAR 0 at 0xE0000000, memory decoding on; PIRQ A -> IRQ 11 */
    pci_write(m, 0x10, 0x10, 0xE0000000u, 4);
    pci_write(m, 0x10, 0x04, 0x0003, 2);
    pci_write(m, 0x08, 0x60, 0x0B, 1);
    phys_write(&m->mem, 0xE0000100u, 0xCAFEF00Du, 4);   /* through the LFB */
    /* IDE: the CD-ROM on the secondary channel selected, task file written */
    out8(m, 0x176, 0x10); out8(m, 0x172, 0x05); out8(m, 0x174, 0x00); out8(m, 0x175, 0x08);
    /* FDC: out of reset, SPECIFY started (one of its two parameters) */
    out8(m, 0x3F2, 0x1C); out8(m, 0x3F5, 0x03); out8(m, 0x3F5, 0xDF);
    /* port 0x92: A20 off */
    out8(m, 0x92, 0x00);
    /* RAM and the CPU */
    phys_write(&m->mem, 0x1234, 0x11223344u, 4);
    m->cpu.gpr[R_EBX] = 0xB0B0B0B0u;
    m->cpu.cr0 |= CR0_PE;
    m->cpu.cr3 = 0x9000;
    m->cpu.fpu.cw = 0x037F;
    m->cpu.fpu.r[3].mant = 0x8000000000000001ull;
    m->cpu.icount += 12345;
    m->idle_ns += 1000000;   /* a millisecond of idle time */
}

/* Let virtual time pass and run what is due, as the run loop would. */
static void advance(struct machine *m, uint64_t ns)
{
    m->idle_ns += ns;
    uint64_t now = machine_now(m);
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->ops->next_event && d->deadline <= now)
            d->deadline = d->ops->next_event(d->state, now);
    }
}

/* Port reads that show the state; they change it too, the same way on
 * every board in the same state. */
static size_t probe(struct machine *m, uint32_t *out)
{
    size_t n = 0;
#define R8(port) (out[n++] = in8(m, (port)))
    R8(0x21); R8(0xA1); R8(0x20); out8(m, 0x20, 0x0B); R8(0x20); R8(0x4D0); R8(0x4D1);
    out8(m, 0x43, 0x00); R8(0x40); R8(0x40); out8(m, 0x43, 0xEE); R8(0x40); R8(0x41); R8(0x42);
    R8(0x61); R8(0x41);
    out[n++] = m->cpu.intr;
    for (int i = 0; i < 14; i++) { out8(m, 0x70, (uint8_t)i); R8(0x71); }
    out8(m, 0x70, 0x40); R8(0x71);
    for (uint16_t p = 0x3F9; p <= 0x3FF; p++) R8(p);
    R8(0x3F8); R8(0x3F8); R8(0x3FD); R8(0x3F8); R8(0x3FD);
    out8(m, 0x3FB, 0x9A); R8(0x3F8); R8(0x3F9);
    R8(0x08); R8(0x04); R8(0x04); R8(0x05); R8(0x05); R8(0x81);
    R8(0x64); R8(0x60); R8(0x64);
    for (int i = 0; i < 3; i++) { advance(m, 2000000); R8(0x64); R8(0x60); }
    out8(m, 0x64, 0x20); R8(0x60);
    R8(0x511); R8(0x511);
    R8(0x3CC); out8(m, 0x3C4, 0x02); R8(0x3C5); out8(m, 0x3CE, 0x05); R8(0x3CF);
    out8(m, 0x3D4, 0x0C); R8(0x3D5); R8(0x3C0);
    out8(m, 0x3C7, 0x10); R8(0x3C9); R8(0x3C9); R8(0x3C9); R8(0x3C7);
    out[n++] = ioport_read(&m->io, 0x1CF, 2);
    ioport_write(&m->io, 0x1CE, 1, 2); out[n++] = ioport_read(&m->io, 0x1CF, 2);
    out[n++] = phys_read(&m->mem, 0xE0000100u, 4);
    out[n++] = phys_read(&m->mem, 0x1234, 4);
    out[n++] = phys_a20_enabled(&m->mem);
    for (int devfn = 0; devfn < 0x18; devfn++)
        for (int reg = 0; reg < 0x100; reg += 4) {
            ioport_write(&m->io, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (uint32_t)reg, 4);
            out[n++] = ioport_read(&m->io, 0xCFC, 4);
        }
    for (uint16_t p = 0x171; p <= 0x177; p++) R8(p);
    R8(0x376); R8(0x1F7);
    R8(0x3F4); R8(0x3F2); R8(0x92);
    out[n++] = m->cpu.gpr[R_EBX];
    out[n++] = m->cpu.cr0;
    out[n++] = (uint32_t)m->cpu.fpu.r[3].mant;
    out[n++] = (uint32_t)machine_now(m);
#undef R8
    return n;
}

#define PROBE_MAX 4096

static void reset_everything(struct machine *m)
{
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].state);
    cpu_reset(&m->cpu);
}

START_TEST(machine_devices_round_trip)
{
    struct machine *a = board(4), *b = board(4);
    drive_devices(a);
    advance(a, 1000);
    struct savestate_buf snap = { 0 }, again = { 0 };
    ck_assert_int_eq(machine_save(a, &snap), 0);

    char err[256] = "";
    ck_assert_msg(machine_load(b, snap.data, snap.len, err, sizeof err) == 0, "%s", err);
    /* saving what was loaded gives the same bytes */
    ck_assert_int_eq(machine_save(b, &again), 0);
    ck_assert_uint_eq(again.len, snap.len);
    ck_assert(memcmp(again.data, snap.data, snap.len) == 0);

    /* the original, the fresh board, and the original reset and reloaded */
    static uint32_t pa[PROBE_MAX], pb[PROBE_MAX], pc[PROBE_MAX];
    struct machine *c = board(4);
    drive_devices(c);
    advance(c, 1000);
    reset_everything(c);
    ck_assert_msg(machine_load(c, snap.data, snap.len, err, sizeof err) == 0, "%s", err);
    size_t na = probe(a, pa), nb = probe(b, pb), nc = probe(c, pc);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(na, nc);
    ck_assert_uint_lt(na, PROBE_MAX);
    for (size_t i = 0; i < na; i++) {
        ck_assert_msg(pa[i] == pb[i], "probe %zu: original 0x%x, loaded board 0x%x", i, pa[i], pb[i]);
        ck_assert_msg(pa[i] == pc[i], "probe %zu: original 0x%x, reset+loaded 0x%x", i, pa[i], pc[i]);
    }
    /* and the state was not the power-on one: some probes differ from a fresh board */
    static uint32_t pf[PROBE_MAX];
    struct machine *fresh = board(4);
    size_t nf = probe(fresh, pf);
    int differ = 0;
    for (size_t i = 0; i < nf && i < na; i++)
        differ += pf[i] != pa[i];
    ck_assert_int_gt(differ, 40);
    /* concrete values the guest programmed */
    ck_assert_uint_eq(pa[0], 0xB8);       /* master IMR */
    ck_assert_uint_eq(pa[1], 0x8F);       /* slave IMR */
    savestate_buf_free(&snap);
    savestate_buf_free(&again);
    machine_destroy(a);
    machine_destroy(b);
    machine_destroy(c);
    machine_destroy(fresh);
}
END_TEST

START_TEST(machine_rejects_bad_snapshots)
{
    struct machine *a = board(2), *b = board(4);
    struct savestate_buf snap = { 0 };
    ck_assert_int_eq(machine_save(a, &snap), 0);
    char err[256] = "";
    /* another RAM size */
    ck_assert_int_eq(machine_load(b, snap.data, snap.len, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: ram#0: field ram has size 2097152, expected 4194304");
    /* a section for a device this machine lacks is skipped; one it has, missing */
    struct machine *c = board(2);
    struct savestate_buf extra = { 0 };
    savestate_put(&extra, snap.data, snap.len);
    struct state_field f[] = { STATE_U32(struct machine, ndevices) };
    struct state_desc d = { "no-such-device", 1, f, 1 };
    ck_assert_int_eq(savestate_write_section(&extra, "no-such-device", 0, &d, c), 0);
    ck_assert_msg(machine_load(c, extra.data, extra.len, err, sizeof err) == 0, "%s", err);
    /* header only: every section missing */
    ck_assert_int_eq(machine_load(c, snap.data, 12, err, sizeof err), -1);
    ck_assert_str_eq(err, "savestate: section machine missing");
    savestate_buf_free(&extra);
    savestate_buf_free(&snap);
    machine_destroy(a);
    machine_destroy(b);
    machine_destroy(c);
}
END_TEST

/* Truncations and random mutations of a whole machine snapshot: an error
 * or a load (then the machine still works), never a crash. */
START_TEST(machine_mutated_snapshots)
{
    struct machine *a = board(2), *b = board(2);
    drive_devices(a);
    struct savestate_buf snap = { 0 };
    ck_assert_int_eq(machine_save(a, &snap), 0);
    /* video memory and RAM are the bulk and any bytes do there: mutate
     * what comes before the video memory (the IDE buffers are bulk too) */
    const uint8_t *vram = memmem(snap.data, snap.len, "\4\0vram", 6);
    ck_assert_ptr_nonnull(vram);
    size_t head = (size_t)(vram - snap.data) + 16;
    uint8_t *copy = malloc(snap.len);
    char err[256];
    srand(99);
    for (int round = 0; round < 400; round++) {
        size_t len = rand() % head;
        ck_assert_int_eq(machine_load(b, snap.data, len, err, sizeof err), -1);
    }
    int rejected = 0, loaded = 0;
    for (int round = 0; round < 600; round++) {
        memcpy(copy, snap.data, snap.len);
        int flips = 1 + rand() % 3;
        for (int k = 0; k < flips; k++)
            copy[rand() % head] = (uint8_t)rand();
        if (machine_load(b, copy, snap.len, err, sizeof err) == 0) {
            loaded++;
            uint32_t scratch[PROBE_MAX];
            probe(b, scratch);        /* whatever was loaded, the devices survive use */
        } else {
            rejected++;
            ck_assert_msg(strncmp(err, "savestate: ", 11) == 0, "%s", err);
        }
    }
    ck_assert_int_gt(rejected, 20);
    ck_assert_int_gt(loaded, 10);
    free(copy);
    savestate_buf_free(&snap);
    machine_destroy(a);
    machine_destroy(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("savestate");
    TCase *tc = tcase_create("savestate");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, format_round_trip);
    tcase_add_test(tc, format_skips_unknown_sections);
    tcase_add_test(tc, format_rejects_mismatches);
    tcase_add_test(tc, format_truncated_and_mutated);
    tcase_add_test(tc, machine_devices_round_trip);
    tcase_add_test(tc, machine_rejects_bad_snapshots);
    tcase_add_test(tc, machine_mutated_snapshots);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
