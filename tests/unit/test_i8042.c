/* tests/unit/test_i8042.c: the 8042 keyboard controller with its PS/2
 * keyboard and mouse, without a CPU.
 *
 * Each test builds a machine with the controller, IRQ 1 and IRQ 12 lines
 * that record their edges, and talks to it through ports 0x60/0x64 as a
 * BIOS or driver would; keys and mouse motion come in through m->input as
 * a frontend would send them.
 */
#include <check.h>
#include <stdlib.h>

#include "core/input.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "mmu/phys.h"

struct rig {
    struct machine *m;
    struct i8042   *ctl;
    struct irq_line kbd_irq, mouse_irq;
    int kbd_edges, mouse_edges;          /* rising edges seen */
};

/* The controller drives a line only when its level changes, so every
 * call with level high is a rising edge. */
static void record_irq(void *opaque, int pin, bool level)
{
    struct rig *r = opaque;
    if (level)
        (*(pin == 1 ? &r->kbd_edges : &r->mouse_edges))++;
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    char err[128];
    r->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(r->m);
    r->kbd_irq = (struct irq_line){ .set_level = record_irq, .opaque = r, .pin = 1 };
    r->mouse_irq = (struct irq_line){ .set_level = record_irq, .opaque = r, .pin = 12 };
    ck_assert_int_eq(i8042_create(r->m, &r->kbd_irq, &r->mouse_irq, &r->ctl), 0);
    ck_assert_ptr_nonnull(r->ctl);
    ck_assert_ptr_nonnull(r->m->input.ops);
    return r;
}

static void rig_free(struct rig *r)
{
    machine_destroy(r->m);
    free(r);
}

static void out8(struct rig *r, uint16_t port, uint8_t v) { ioport_write(&r->m->io, port, v, 1); }
static uint8_t in8(struct rig *r, uint16_t port) { return (uint8_t)ioport_read(&r->m->io, port, 1); }

/* Let virtual time pass (as it does while a driver polls the status port)
 * and run the devices whose deadline has come, as the machine loop does. */
static void pass_time(struct rig *r, uint64_t ns)
{
    r->m->idle_ns += ns;
    uint64_t now = machine_now(r->m);
    for (int i = 0; i < r->m->ndevices; i++) {
        struct machine_device *d = &r->m->devices[i];
        if (d->ops->next_event && d->deadline <= now)
            d->deadline = d->ops->next_event(d->state, now);
    }
}

/* A poll of the status port: long enough for a device to send a byte. */
static uint8_t status(struct rig *r)
{
    pass_time(r, 2000000);
    return in8(r, 0x64);
}

/* The next output buffer byte, which must be there. */
static uint8_t next_byte(struct rig *r)
{
    ck_assert_msg(status(r) & 0x01, "output buffer empty");
    return in8(r, 0x60);
}

static void expect_bytes(struct rig *r, const uint8_t *want, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t st = status(r);
        ck_assert_msg(st & 0x01, "byte %d of %d: output buffer empty", i, n);
        uint8_t got = in8(r, 0x60);
        ck_assert_msg(got == want[i], "byte %d: got %#x, want %#x", i, got, want[i]);
    }
    ck_assert_msg(!(status(r) & 0x01), "more bytes than the %d expected", n);
}
#define EXPECT(r, ...) do { const uint8_t w_[] = { __VA_ARGS__ }; \
                            expect_bytes(r, w_, (int)sizeof w_); } while (0)

static void command(struct rig *r, uint8_t cmd) { out8(r, 0x64, cmd); }
static void command_data(struct rig *r, uint8_t cmd, uint8_t v) { out8(r, 0x64, cmd); out8(r, 0x60, v); }
static void set_cb(struct rig *r, uint8_t cb) { command_data(r, 0x60, cb); }
static void to_mouse(struct rig *r, uint8_t v) { command_data(r, 0xD4, v); }

static void key(struct rig *r, uint16_t code, bool down) { input_key(&r->m->input, code, down); }

START_TEST(power_on_state)
{
    struct rig *r = rig_new();
    ck_assert_uint_eq(status(r), 0x18);                /* A2, unlocked, nothing buffered */
    command(r, 0x20);
    ck_assert_uint_eq(next_byte(r), 0x43);             /* IRQs on, translation on */
    ck_assert(phys_a20_enabled(&r->m->mem));
    rig_free(r);
}
END_TEST

/* What SeaBIOS does: self test, interface test, command byte, keyboard reset. */
START_TEST(bios_init_sequence)
{
    struct rig *r = rig_new();
    set_cb(r, 0x30);                                   /* both ports off, no IRQs */
    command(r, 0xAA);
    ck_assert_uint_eq(status(r), 0x1D);                /* OBF, SYS, A2, unlocked */
    ck_assert_uint_eq(in8(r, 0x60), 0x55);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    ck_assert_uint_eq(status(r) & 0x04, 0x04);         /* SYS stays set */
    command(r, 0xAB);
    ck_assert_uint_eq(next_byte(r), 0x00);
    ck_assert_int_eq(r->kbd_edges, 0);                 /* IRQ 1 disabled so far */

    set_cb(r, 0x61);                                   /* translate, mouse off, kbd IRQ */
    ck_assert_uint_eq(status(r) & 0x08, 0);            /* last write was data */
    command(r, 0x20);
    ck_assert_int_eq(r->kbd_edges, 1);                 /* controller replies interrupt too */
    ck_assert(r->kbd_irq.level);
    ck_assert_uint_eq(in8(r, 0x60), 0x61);
    ck_assert(!r->kbd_irq.level);

    out8(r, 0x60, 0xFF);                               /* keyboard reset */
    ck_assert_int_eq(r->kbd_edges, 1);                 /* the keyboard's reply needs a byte time */
    ck_assert_uint_eq(status(r) & 0x21, 0x01);         /* keyboard data, not AUX */
    ck_assert_int_eq(r->kbd_edges, 2);
    ck_assert_uint_eq(in8(r, 0x60), 0xFA);
    ck_assert(!r->kbd_irq.level);
    ck_assert_uint_eq(status(r) & 0x01, 0x01);
    ck_assert_int_eq(r->kbd_edges, 3);                 /* a new edge for the next byte */
    ck_assert(r->kbd_irq.level);
    ck_assert_uint_eq(in8(r, 0x60), 0xAA);
    ck_assert(!r->kbd_irq.level);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    ck_assert_uint_eq(in8(r, 0x60), 0xAA);             /* an empty buffer reads its last byte */
    ck_assert_int_eq(r->kbd_edges, 3);
    ck_assert_int_eq(r->mouse_edges, 0);
    rig_free(r);
}
END_TEST

START_TEST(typing_translated_and_raw)
{
    struct rig *r = rig_new();
    input_type_text(&r->m->input, "dir\n");
    EXPECT(r, 0x20, 0xA0, 0x17, 0x97, 0x13, 0x93, 0x1C, 0x9C);
    ck_assert_int_eq(r->kbd_edges, 8);

    set_cb(r, 0x03);                                   /* translation off: set 2 as sent */
    input_type_text(&r->m->input, "dir\n");
    EXPECT(r, 0x23, 0xF0, 0x23, 0x43, 0xF0, 0x43, 0x2D, 0xF0, 0x2D, 0x5A, 0xF0, 0x5A);

    input_type_text(&r->m->input, "A");                /* left Shift around it */
    EXPECT(r, 0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12);
    rig_free(r);
}
END_TEST

/* A key pressed and released at once (sendkey) queues make and break
 * together. The break must not replace the make in the output buffer as
 * soon as it is read: an EMM386 monitor reads 0x60 in its IRQ 1 handler,
 * then reflects the IRQ to the BIOS's INT 9, which reads 0x60 again and
 * must see the make code. The next byte comes a PS/2 byte time later. */
START_TEST(read_again_before_next_byte)
{
    struct rig *r = rig_new();
    key(r, 0x15, true);                                /* Y */
    key(r, 0x15, false);
    ck_assert_int_eq(r->kbd_edges, 1);
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x15);             /* the monitor's read */
    ck_assert(!r->kbd_irq.level);
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0);
    pass_time(r, 20000);                               /* the reflection to INT 9: 20 us */
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0);
    ck_assert_uint_eq(in8(r, 0x60), 0x15);             /* the BIOS's read: still the make code */
    ck_assert_int_eq(r->kbd_edges, 1);
    pass_time(r, 20000);
    ck_assert_uint_eq(in8(r, 0x60), 0x15);             /* re-reading does not restart the wait */
    pass_time(r, 1000000);                             /* a byte time after the first read */
    ck_assert_int_eq(r->kbd_edges, 2);
    ck_assert(r->kbd_irq.level);
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x95);
    ck_assert_uint_eq(in8(r, 0x60), 0x95);
    pass_time(r, 2000000);
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0);         /* nothing more */
    ck_assert_int_eq(r->kbd_edges, 2);

    command(r, 0x20);                                  /* controller replies are not delayed */
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x43);
    command(r, 0xAA);
    ck_assert_uint_eq(in8(r, 0x64) & 0x01, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x55);
    rig_free(r);
}
END_TEST

START_TEST(extended_and_special_keys)
{
    struct rig *r = rig_new();
    key(r, 0xE048, true);                              /* Up */
    key(r, 0xE048, false);
    EXPECT(r, 0xE0, 0x48, 0xE0, 0xC8);
    key(r, 0xE01D, true);                              /* right Ctrl */
    EXPECT(r, 0xE0, 0x1D);
    key(r, 0x41, true);                                /* F7: set 2 0x83, translated back */
    key(r, 0x41, false);
    EXPECT(r, 0x41, 0xC1);
    key(r, INPUT_KEY_PAUSE, true);
    key(r, INPUT_KEY_PAUSE, false);                    /* Pause has no break code */
    EXPECT(r, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    key(r, 0xE037, true);
    key(r, 0xE037, false);
    EXPECT(r, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);

    set_cb(r, 0x03);
    key(r, 0xE048, true);
    key(r, 0xE048, false);
    EXPECT(r, 0xE0, 0x75, 0xE0, 0xF0, 0x75);
    key(r, 0x41, true);
    EXPECT(r, 0x83);
    key(r, INPUT_KEY_PAUSE, true);
    EXPECT(r, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
    key(r, 0xE037, true);
    key(r, 0xE037, false);
    EXPECT(r, 0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
    key(r, 0x80, true);                                /* not a key code: nothing */
    key(r, 0x1234, true);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    rig_free(r);
}
END_TEST

/* Every set-1 key goes out in set 2 and comes back through the 8042's
 * translation as itself: the set 1 -> set 2 mapping is the table's inverse. */
START_TEST(every_key_round_trips)
{
    struct rig *r = rig_new();
    for (uint16_t k = 0x01; k < 0x80; k++) {
        for (int e0 = 0; e0 < 2; e0++) {
            uint16_t code = e0 ? 0xE000 | k : k;
            if (code == 0xE037)
                continue;                              /* Print Screen: its own sequence */
            key(r, code, true);
            key(r, code, false);
            if (e0) {
                EXPECT(r, 0xE0, (uint8_t)k, 0xE0, (uint8_t)(k | 0x80));
            } else {
                EXPECT(r, (uint8_t)k, (uint8_t)(k | 0x80));
            }
        }
    }
    rig_free(r);
}
END_TEST

START_TEST(keyboard_commands)
{
    struct rig *r = rig_new();
    out8(r, 0x60, 0xF2);                               /* identify, translated */
    EXPECT(r, 0xFA, 0xAB, 0x41);
    out8(r, 0x60, 0xF0);                               /* scan code set query */
    out8(r, 0x60, 0x00);
    EXPECT(r, 0xFA, 0xFA, 0x41);                       /* set 2 reads 41 through translation */
    out8(r, 0x60, 0xED);                               /* LEDs */
    out8(r, 0x60, 0x07);
    EXPECT(r, 0xFA, 0xFA);
    out8(r, 0x60, 0xF3);                               /* typematic */
    out8(r, 0x60, 0x20);
    EXPECT(r, 0xFA, 0xFA);
    out8(r, 0x60, 0xEE);
    EXPECT(r, 0xEE);
    out8(r, 0x60, 0xFE);                               /* resend the last byte */
    EXPECT(r, 0xEE);
    out8(r, 0x60, 0x12);                               /* not a command */
    EXPECT(r, 0xFE);

    set_cb(r, 0x03);
    out8(r, 0x60, 0xF2);
    EXPECT(r, 0xFA, 0xAB, 0x83);
    out8(r, 0x60, 0xF0);
    out8(r, 0x60, 0x00);
    EXPECT(r, 0xFA, 0xFA, 0x02);
    out8(r, 0x60, 0xF0);                               /* select set 1 */
    out8(r, 0x60, 0x01);
    EXPECT(r, 0xFA, 0xFA);
    out8(r, 0x60, 0xF0);
    out8(r, 0x60, 0x00);
    EXPECT(r, 0xFA, 0xFA, 0x01);
    key(r, 0x1E, true);
    key(r, 0x1E, false);
    key(r, 0xE048, false);
    EXPECT(r, 0x1E, 0x9E, 0xE0, 0xC8);
    out8(r, 0x60, 0xF0);                               /* set 3 */
    out8(r, 0x60, 0x03);
    EXPECT(r, 0xFA, 0xFA);
    out8(r, 0x60, 0xFA);                               /* all keys make/break/typematic */
    EXPECT(r, 0xFA);
    key(r, 0x1E, true);                                /* A: as in set 2 */
    key(r, 0x1E, false);
    key(r, 0xE048, true);                              /* Up: 63, no E0 */
    key(r, 0xE048, false);
    key(r, 0x1D, true);                                /* left Ctrl: 11 */
    key(r, 0x3B, true);                                /* F1: 07 */
    key(r, INPUT_KEY_PAUSE, true);                     /* Pause: 62, with a break */
    key(r, INPUT_KEY_PAUSE, false);
    key(r, 0xE06A, true);                              /* no such key in set 3 */
    EXPECT(r, 0x1C, 0xF0, 0x1C, 0x63, 0xF0, 0x63, 0x11, 0x07, 0x62, 0xF0, 0x62);
    out8(r, 0x60, 0xF0);
    out8(r, 0x60, 0x00);
    EXPECT(r, 0xFA, 0xFA, 0x03);
    out8(r, 0x60, 0xF0);                               /* no set 4 */
    out8(r, 0x60, 0x04);
    EXPECT(r, 0xFA, 0xFE);

    out8(r, 0x60, 0xF5);                               /* disable scanning: defaults, set 2 */
    EXPECT(r, 0xFA);
    key(r, 0x1E, true);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    out8(r, 0x60, 0xF4);
    EXPECT(r, 0xFA);
    key(r, 0x1E, true);
    EXPECT(r, 0x1C);
    out8(r, 0x60, 0xFF);
    EXPECT(r, 0xFA, 0xAA);
    rig_free(r);
}
END_TEST

START_TEST(a20_and_reset)
{
    struct rig *r = rig_new();
    command_data(r, 0xD1, 0xDD);                       /* A20 off, reset line high */
    ck_assert(!phys_a20_enabled(&r->m->mem));
    ck_assert(!r->m->reset_requested);
    command(r, 0xD0);
    ck_assert_uint_eq(next_byte(r), 0xCD);        /* bits 4/5: no output buffer full */
    command_data(r, 0xD1, 0xDF);
    ck_assert(phys_a20_enabled(&r->m->mem));
    command(r, 0xDD);
    ck_assert(!phys_a20_enabled(&r->m->mem));
    command(r, 0xDF);
    ck_assert(phys_a20_enabled(&r->m->mem));

    command(r, 0xFF);                                  /* pulses nothing */
    ck_assert(!r->m->reset_requested);
    command(r, 0xFE);
    ck_assert(r->m->reset_requested);

    r->m->reset_requested = false;
    command_data(r, 0xD1, 0xDE);                       /* output port bit 0 low */
    ck_assert(r->m->reset_requested);

    /* machine reset: A20 back on, controller in its power-on state */
    r->m->reset_requested = false;
    command_data(r, 0xD1, 0xDD);
    machine_reset(r->m);
    ck_assert(phys_a20_enabled(&r->m->mem));
    ck_assert_uint_eq(status(r), 0x18);
    rig_free(r);
}
END_TEST

START_TEST(mouse_init)
{
    struct rig *r = rig_new();
    set_cb(r, 0x47);                                   /* mouse clock on, both IRQs */
    command(r, 0xA9);
    ck_assert_uint_eq(next_byte(r), 0x00);
    ck_assert_int_eq(r->kbd_edges, 1);
    to_mouse(r, 0xFF);
    ck_assert_uint_eq(status(r) & 0x21, 0x21);         /* OBF with AUX data */
    ck_assert_int_eq(r->mouse_edges, 1);
    ck_assert(r->mouse_irq.level);
    ck_assert_uint_eq(in8(r, 0x60), 0xFA);
    ck_assert_uint_eq(status(r) & 0x21, 0x21);
    ck_assert_uint_eq(in8(r, 0x60), 0xAA);
    ck_assert_uint_eq(status(r) & 0x21, 0x21);
    ck_assert_uint_eq(in8(r, 0x60), 0x00);
    ck_assert_uint_eq(status(r) & 0x21, 0x00);
    ck_assert(!r->mouse_irq.level);
    ck_assert_int_eq(r->mouse_edges, 3);
    ck_assert_int_eq(r->kbd_edges, 1);                 /* mouse data never raises IRQ 1 */

    to_mouse(r, 0xF2);
    EXPECT(r, 0xFA, 0x00);
    to_mouse(r, 0xE9);                                 /* status: stream, off, 1:1, res 2, 100/s */
    EXPECT(r, 0xFA, 0x00, 0x02, 100);
    to_mouse(r, 0xE8);
    to_mouse(r, 0x03);
    to_mouse(r, 0xE7);
    to_mouse(r, 0xF4);
    to_mouse(r, 0xE9);
    EXPECT(r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x30, 0x03, 100);

    command(r, 0xD3);                                  /* loopback as if from the mouse */
    out8(r, 0x60, 0x5A);
    ck_assert_uint_eq(status(r) & 0x21, 0x21);
    ck_assert_uint_eq(in8(r, 0x60), 0x5A);
    command_data(r, 0xD2, 0x77);                       /* ... and from the keyboard */
    ck_assert_uint_eq(status(r) & 0x21, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x77);
    rig_free(r);
}
END_TEST

START_TEST(intellimouse_packets)
{
    struct rig *r = rig_new();
    static const uint8_t knock3[] = { 200, 100, 80 }, knock4[] = { 200, 200, 80 };
    for (int i = 0; i < 3; i++) {
        to_mouse(r, 0xF3);
        to_mouse(r, knock3[i]);
    }
    to_mouse(r, 0xF2);
    EXPECT(r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03);
    to_mouse(r, 0xF4);
    EXPECT(r, 0xFA);
    input_mouse(&r->m->input, 5, -3, -1, INPUT_BUTTON_LEFT);   /* right, up, wheel up */
    EXPECT(r, 0x09, 0x05, 0x03, 0xFF);
    input_mouse(&r->m->input, 0, 0, 2, INPUT_BUTTON_MIDDLE);
    EXPECT(r, 0x0C, 0x00, 0x00, 0x02);

    for (int i = 0; i < 3; i++) {
        to_mouse(r, 0xF3);
        to_mouse(r, knock4[i]);
    }
    to_mouse(r, 0xF2);
    EXPECT(r, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x04);
    input_mouse(&r->m->input, 0, 0, -20, 0);           /* 4-bit wheel, clamped */
    EXPECT(r, 0x08, 0x00, 0x00, 0x08);

    to_mouse(r, 0xFF);                                 /* reset: back to id 0 */
    EXPECT(r, 0xFA, 0xAA, 0x00);
    to_mouse(r, 0xF2);
    EXPECT(r, 0xFA, 0x00);
    rig_free(r);
}
END_TEST

START_TEST(mouse_packet_encoding)
{
    struct rig *r = rig_new();
    input_mouse(&r->m->input, 3, 3, 0, 0);             /* reporting off: nothing */
    ck_assert_uint_eq(status(r) & 0x01, 0);
    to_mouse(r, 0xF4);
    EXPECT(r, 0xFA);
    input_mouse(&r->m->input, -10, 20, 0, INPUT_BUTTON_RIGHT);   /* left and down */
    EXPECT(r, 0x3A, 0xF6, 0xEC);
    input_mouse(&r->m->input, 300, -1000, 0, 0);       /* overflow both ways */
    EXPECT(r, 0xC8, 0xFF, 0xFF);
    input_mouse(&r->m->input, -256, 256, 0, 0);        /* -256 fits; dy -256 fits */
    EXPECT(r, 0x38, 0x00, 0x00);

    to_mouse(r, 0xF0);                                 /* remote mode: poll with EB */
    EXPECT(r, 0xFA);
    input_mouse(&r->m->input, 4, 0, 0, 0);
    input_mouse(&r->m->input, 3, -2, 0, INPUT_BUTTON_LEFT);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    to_mouse(r, 0xEB);
    EXPECT(r, 0xFA, 0x09, 0x07, 0x02);
    to_mouse(r, 0xEB);                                 /* nothing moved since */
    EXPECT(r, 0xFA, 0x09, 0x00, 0x00);

    to_mouse(r, 0xEE);                                 /* wrap mode echoes */
    to_mouse(r, 0x42);
    to_mouse(r, 0xEC);
    EXPECT(r, 0xFA, 0x42, 0xFA);
    to_mouse(r, 0x42);                                 /* not a command */
    EXPECT(r, 0xFE);
    rig_free(r);
}
END_TEST

START_TEST(disabled_clocks_hold_bytes)
{
    struct rig *r = rig_new();
    to_mouse(r, 0xF4);
    EXPECT(r, 0xFA);
    command(r, 0xAD);                                  /* keyboard clock off */
    command(r, 0xA7);                                  /* mouse clock off */
    command(r, 0x20);
    ck_assert_uint_eq(next_byte(r), 0x73);
    int kbd_edges = r->kbd_edges, mouse_edges = r->mouse_edges;
    key(r, 0x1E, true);
    input_mouse(&r->m->input, 1, 0, 0, 0);
    ck_assert_uint_eq(status(r) & 0x01, 0);            /* both held back */
    ck_assert_int_eq(r->kbd_edges, kbd_edges);
    ck_assert_int_eq(r->mouse_edges, mouse_edges);

    command(r, 0xA8);                                  /* mouse clock on: its packet starts */
    ck_assert_uint_eq(status(r) & 0x21, 0x21);
    ck_assert_int_eq(r->mouse_edges, mouse_edges + 1);
    command(r, 0xAE);                                  /* the keyboard's byte goes next */
    ck_assert_uint_eq(in8(r, 0x60), 0x08);
    ck_assert_uint_eq(status(r) & 0x21, 0x01);
    ck_assert_int_eq(r->kbd_edges, kbd_edges + 1);
    ck_assert_uint_eq(in8(r, 0x60), 0x1E);
    ck_assert_uint_eq(status(r) & 0x21, 0x21);
    EXPECT(r, 0x01, 0x00);
    ck_assert_int_eq(r->mouse_edges, mouse_edges + 3);
    rig_free(r);
}
END_TEST

START_TEST(keyboard_before_mouse)
{
    struct rig *r = rig_new();
    to_mouse(r, 0xF4);
    EXPECT(r, 0xFA);
    command(r, 0xAD);
    command(r, 0xA7);
    key(r, 0x1E, true);
    input_mouse(&r->m->input, 1, 0, 0, 0);
    command(r, 0xAE);                                  /* keyboard only */
    ck_assert_uint_eq(status(r) & 0x21, 0x01);
    ck_assert_uint_eq(in8(r, 0x60), 0x1E);
    ck_assert_uint_eq(status(r) & 0x01, 0);
    command(r, 0xA8);
    key(r, 0x1E, false);                               /* both ready: keyboard first */
    ck_assert_uint_eq(status(r) & 0x21, 0x21);         /* the mouse byte loaded at A8 */
    ck_assert_uint_eq(in8(r, 0x60), 0x08);
    ck_assert_uint_eq(status(r) & 0x21, 0x01);         /* then the key, ahead of the rest */
    ck_assert_uint_eq(in8(r, 0x60), 0x9E);
    EXPECT(r, 0x01, 0x00);
    rig_free(r);
}
END_TEST

START_TEST(keyboard_overrun)
{
    struct rig *r = rig_new();
    command(r, 0xAD);
    for (int i = 0; i < 20; i++)
        key(r, 0x1E, true);
    command(r, 0xAE);
    for (int i = 0; i < 15; i++)
        ck_assert_uint_eq(next_byte(r), 0x1E);
    EXPECT(r, 0xFF);                                   /* set-2 overrun 00, translated */

    set_cb(r, 0x13);                                   /* translation off, keyboard off */
    for (int i = 0; i < 20; i++)
        key(r, 0x1E, true);
    command(r, 0xAE);
    for (int i = 0; i < 15; i++)
        ck_assert_uint_eq(next_byte(r), 0x1C);
    EXPECT(r, 0x00);
    rig_free(r);
}
END_TEST

/* A guest that sends commands and never reads: replies beyond the device's
 * room are dropped, and key and motion data find no room either. */
START_TEST(unread_replies_are_bounded)
{
    struct rig *r = rig_new();
    for (int i = 0; i < 40; i++)
        out8(r, 0x60, 0xEE);
    input_type_text(&r->m->input, "hello world, hello world");
    int n = 0;
    while ((status(r) & 0x01) && n < 100) {
        ck_assert_uint_eq(in8(r, 0x60), 0xEE);
        n++;
    }
    ck_assert_int_eq(n, 33);                           /* the output buffer + 32 queued */
    for (int i = 0; i < 40; i++)
        to_mouse(r, 0xF2);
    to_mouse(r, 0xF4);
    input_mouse(&r->m->input, 1, 1, 0, 0);
    uint8_t got[100];
    n = 0;
    while ((status(r) & 0x01) && n < 100)
        got[n++] = in8(r, 0x60);
    /* FA 00 ... until the room ran out, F4's FA, then the motion that
     * waited for room */
    ck_assert_int_eq(n, 1 + 31 + 1 + 3);
    ck_assert_uint_eq(got[0], 0xFA);
    ck_assert_uint_eq(got[30], 0xFA);
    ck_assert_uint_eq(got[31], 0x00);
    ck_assert_uint_eq(got[32], 0xFA);
    ck_assert_uint_eq(got[33], 0x28);
    ck_assert_uint_eq(got[34], 0x01);
    ck_assert_uint_eq(got[35], 0xFF);
    key(r, 0x1E, true);                                /* drained: keys flow again */
    EXPECT(r, 0x1E);
    rig_free(r);
}
END_TEST

/* Random port traffic and input from a hostile guest (fixed seed): nothing
 * breaks, and after a machine reset the controller works as new. */
START_TEST(random_traffic_then_reset)
{
    struct rig *r = rig_new();
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t v = x >> 8;
        switch (v & 7) {
        case 0: case 1: out8(r, 0x60, (uint8_t)(v >> 8)); break;
        case 2: out8(r, 0x64, (uint8_t)(v >> 8)); break;
        case 3: case 4: in8(r, 0x60); break;
        case 5: key(r, (uint16_t)(v >> 8), v & 0x100000); break;
        case 6: input_mouse(&r->m->input, (int)(v >> 8 & 0x3FF) - 512, (int)(v >> 18) - 7000,
                            (int)(v & 0x30) - 24, v >> 12); break;
        default: in8(r, 0x64); break;
        }
    }
    machine_reset(r->m);
    r->m->reset_requested = false;
    ck_assert_uint_eq(status(r), 0x18);
    ck_assert(phys_a20_enabled(&r->m->mem));
    input_type_text(&r->m->input, "ok");
    EXPECT(r, 0x18, 0x98, 0x25, 0xA5);
    to_mouse(r, 0xF2);
    EXPECT(r, 0xFA, 0x00);
    rig_free(r);
}
END_TEST

START_TEST(controller_ram_and_irq_enables)
{
    struct rig *r = rig_new();
    command_data(r, 0x65, 0xA5);                       /* controller RAM byte 5 */
    command(r, 0x25);
    ck_assert_uint_eq(next_byte(r), 0xA5);
    set_cb(r, 0x40);                                   /* no IRQs */
    int edges = r->kbd_edges;
    key(r, 0x1E, true);
    ck_assert_uint_eq(status(r) & 0x01, 0x01);
    ck_assert_int_eq(r->kbd_edges, edges);
    set_cb(r, 0x41);                                   /* enabling raises it for the byte held */
    ck_assert_int_eq(r->kbd_edges, edges + 1);
    ck_assert_uint_eq(in8(r, 0x60), 0x1E);
    ck_assert(!r->kbd_irq.level);
    command(r, 0xC0);
    ck_assert_uint_eq(next_byte(r), 0xA0);
    command(r, 0xE0);
    ck_assert_uint_eq(next_byte(r), 0x00);
    command(r, 0x60);                                  /* a command cancels the pending one: */
    command(r, 0xAE);
    out8(r, 0x60, 0xEE);                               /* ... this goes to the keyboard */
    ck_assert_uint_eq(next_byte(r), 0xEE);
    command(r, 0x20);
    ck_assert_uint_eq(next_byte(r), 0x41);
    out8(r, 0x64, 0xA1);                               /* unimplemented: logged, ignored */
    ck_assert_uint_eq(status(r) & 0x01, 0);
    rig_free(r);
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, power_on_state);
    tcase_add_test(tc, bios_init_sequence);
    tcase_add_test(tc, typing_translated_and_raw);
    tcase_add_test(tc, read_again_before_next_byte);
    tcase_add_test(tc, extended_and_special_keys);
    tcase_add_test(tc, every_key_round_trips);
    tcase_add_test(tc, keyboard_commands);
    tcase_add_test(tc, a20_and_reset);
    tcase_add_test(tc, mouse_init);
    tcase_add_test(tc, intellimouse_packets);
    tcase_add_test(tc, mouse_packet_encoding);
    tcase_add_test(tc, disabled_clocks_hold_bytes);
    tcase_add_test(tc, keyboard_before_mouse);
    tcase_add_test(tc, keyboard_overrun);
    tcase_add_test(tc, unread_replies_are_bounded);
    tcase_add_test(tc, random_traffic_then_reset);
    tcase_add_test(tc, controller_ram_and_irq_enables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(i8042_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
