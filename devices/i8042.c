/* devices/i8042.c: the 8042 keyboard controller of the PC/AT, with a PS/2
 * keyboard on its first port and a PS/2 mouse on the second (devices/ps2.c).
 *
 *   0x60  read: output buffer; write: data for a pending controller command,
 *         else for the keyboard
 *   0x64  read: status; write: controller command
 *
 * Modelled as QEMU and Bochs do: the status register (OBF, SYS, A2,
 * keyboard unlocked, AUX data; IBF never set, as the controller takes every
 * byte at once), the command byte (IRQ enables, SYS, clock disables,
 * translation) and the rest of the 32 bytes of controller RAM (0x20-0x3F /
 * 0x60-0x7F), self tests (AA -> 55, AB / A9 -> 00), port enable/disable
 * (AD/AE, A7/A8), input port (C0), output port (D0/D1: bit 1 the A20 gate,
 * bit 0 low resets the machine), fake device data (D2/D3), the mouse
 * prefix D4, A20 off/on (DD/DF), test inputs (E0) and the output port
 * pulses F0-FF (bit 0 in the mask low: reset). Not modelled: the password
 * commands (A4-A6), C1/C2, vendor commands and all timing but one (below);
 * unknown commands are logged as LOG_UNIMP.
 *
 * The output buffer holds one byte. A controller reply has priority, then
 * the keyboard, then the mouse; a device's bytes move in only while its
 * clock is enabled (command byte bits 4/5), and the next one when the guest
 * has read the previous one and a serial transfer time has passed
 * (I8042_DEVICE_BYTE_NS): the controller holds the device clock low while
 * the buffer is full, so the device sends its next byte only then, and
 * 0x60 keeps reading the old byte meanwhile. Software relies on that: an
 * EMM386 monitor reads 0x60 in its IRQ 1 handler before reflecting the
 * interrupt to the BIOS's INT 9, which reads 0x60 again and must still get
 * the same scan code, not the key's break code queued behind it.
 * Controller replies are not delayed. With translation on (bit 6) keyboard bytes
 * pass through the set 2 -> set 1 table on the way, an F0 prefix folding
 * into bit 7 of the following byte, as on real hardware (so identify reads
 * AB 41 and a scan code set query reads 41 for set 2).
 *
 * IRQ lines: kbd_irq is high while the buffer holds a keyboard byte and
 * command byte bit 0 is set, mouse_irq likewise for mouse data and bit 1.
 * Reading 0x60 drops the line before the next byte loads, so every byte is
 * a new edge for the PIC.
 *
 * Sending data to a device re-enables its clock (the controller must drive
 * the clock line to send), as QEMU does.
 */
#include <stdlib.h>

#include "core/savestate.h"
#include "core/input.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/ps2.h"
#include "mmu/phys.h"

#define I8042_DATA_PORT   0x60
#define I8042_STATUS_PORT 0x64

enum {
    STAT_OBF = 0x01, STAT_IBF = 0x02, STAT_SYS = 0x04, STAT_A2 = 0x08,
    STAT_UNLOCKED = 0x10, STAT_AUX = 0x20,
};

enum {
    CB_KBD_IRQ = 0x01, CB_MOUSE_IRQ = 0x02, CB_SYS = 0x04, CB_KBD_OFF = 0x10,
    CB_MOUSE_OFF = 0x20, CB_XLATE = 0x40,
};

enum {
    OUT_RESET = 0x01, OUT_A20 = 0x02, OUT_KBD_OBF = 0x10, OUT_MOUSE_OBF = 0x20,
    OUT_ONES = 0xCC,                           /* clock/data lines idle high */
};

/* Power-on command byte: both IRQs and translation, as a BIOS leaves it. */
#define I8042_CB_RESET (CB_KBD_IRQ | CB_MOUSE_IRQ | CB_XLATE)
/* The input port: keyboard not inhibited, no manufacturing jumper. */
#define I8042_INPUT_PORT 0xA0
/* One byte over the PS/2 link: 11 bits at a 10-16.7 kHz device clock. */
#define I8042_DEVICE_BYTE_NS 1000000u

struct i8042 {
    struct machine   *machine;
    struct irq_line  *kbd_irq, *mouse_irq;     /* may be NULL */
    struct ps2_kbd   *kbd;
    struct ps2_mouse *mouse;

    uint8_t ram[32];                           /* ram[0] is the command byte */
    uint8_t outport;
    bool    a2;                                /* last write was to 0x64 */
    uint8_t pending_cmd;                       /* command waiting for its data byte, or 0 */

    bool    obf;                               /* output buffer full */
    bool    obf_aux;                           /* ... with mouse data */
    uint8_t out_byte;                          /* output buffer (kept when read) */

    bool    reply_ready;                       /* a controller reply waits for the buffer */
    bool    reply_aux;                         /* ... as mouse data (D3) */
    uint8_t reply;

    bool    xlate_break;                       /* translation saw F0: next byte gets bit 7 */
    uint64_t device_hold_until;                /* no keyboard/mouse byte loads before (virtual ns) */
};

static void i8042_update_irqs(struct i8042 *c)
{
    bool kbd = c->obf && !c->obf_aux && (c->ram[0] & CB_KBD_IRQ);
    bool mouse = c->obf && c->obf_aux && (c->ram[0] & CB_MOUSE_IRQ);
    if (c->kbd_irq && c->kbd_irq->level != kbd)
        irq_set_level(c->kbd_irq, kbd);
    if (c->mouse_irq && c->mouse_irq->level != mouse)
        irq_set_level(c->mouse_irq, mouse);
}

/* Next keyboard byte through the translation, or false if there is none
 * yet (an F0 waiting for its code). */
static bool i8042_kbd_byte(struct i8042 *c, uint8_t *out)
{
    while (ps2_kbd_pending(c->kbd)) {
        uint8_t b = ps2_kbd_read(c->kbd);
        if (!(c->ram[0] & CB_XLATE)) {
            *out = b;
            return true;
        }
        if (b == 0xF0) {
            c->xlate_break = true;
            continue;
        }
        *out = ps2_translate_set2(b) | (c->xlate_break ? 0x80 : 0);
        c->xlate_break = false;
        return true;
    }
    return false;
}

/* Fill an empty output buffer from the highest-priority source. */
static void i8042_load(struct i8042 *c)
{
    if (c->obf)
        return;
    bool device_may_send = machine_now(c->machine) >= c->device_hold_until;
    if (c->reply_ready) {
        c->out_byte = c->reply;
        c->obf_aux = c->reply_aux;
        c->reply_ready = false;
        c->obf = true;
    } else if (!device_may_send) {
        return;                                /* next_event loads it when the hold ends */
    } else if (!(c->ram[0] & CB_KBD_OFF) && i8042_kbd_byte(c, &c->out_byte)) {
        c->obf_aux = false;
        c->obf = true;
    } else if (!(c->ram[0] & CB_MOUSE_OFF) && ps2_mouse_pending(c->mouse)) {
        c->out_byte = ps2_mouse_read(c->mouse);
        c->obf_aux = true;
        c->obf = true;
    }
}

static void i8042_update(struct i8042 *c)
{
    i8042_load(c);
    i8042_update_irqs(c);
}

/* A byte from the controller itself (replaces an unread earlier reply). */
static void i8042_reply(struct i8042 *c, uint8_t v, bool aux)
{
    c->reply = v;
    c->reply_aux = aux;
    c->reply_ready = true;
    i8042_update(c);
}

static void i8042_write_outport(struct i8042 *c, uint8_t v)
{
    c->outport = v;
    phys_set_a20(&c->machine->mem, v & OUT_A20);
    if (!(v & OUT_RESET))
        machine_request_reset(c->machine);
}

static void i8042_command(struct i8042 *c, uint8_t cmd)
{
    c->pending_cmd = 0;                        /* a new command cancels one waiting for data */
    if (cmd >= 0x20 && cmd <= 0x3F) {          /* read controller RAM */
        i8042_reply(c, c->ram[cmd & 0x1F], false);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || cmd == 0xD1 || cmd == 0xD2 || cmd == 0xD3 ||
        cmd == 0xD4) {
        c->pending_cmd = cmd;                  /* a data byte follows on 0x60 */
        return;
    }
    if (cmd >= 0xF0) {                         /* pulse the output lines whose mask bit is 0 */
        if (!(cmd & OUT_RESET))
            machine_request_reset(c->machine);
        return;
    }
    switch (cmd) {
    case 0xA7:
        c->ram[0] |= CB_MOUSE_OFF;
        break;
    case 0xA8:
        c->ram[0] &= ~CB_MOUSE_OFF;
        break;
    case 0xA9:                                 /* mouse interface test: no error */
        i8042_reply(c, 0x00, false);
        break;
    case 0xAA:                                 /* self test: passed, sets SYS */
        c->ram[0] |= CB_SYS;
        i8042_reply(c, 0x55, false);
        break;
    case 0xAB:                                 /* keyboard interface test: no error */
        i8042_reply(c, 0x00, false);
        break;
    case 0xAD:
        c->ram[0] |= CB_KBD_OFF;
        break;
    case 0xAE:
        c->ram[0] &= ~CB_KBD_OFF;
        break;
    case 0xC0:
        i8042_reply(c, I8042_INPUT_PORT, false);
        break;
    case 0xD0: {
        uint8_t v = c->outport & ~(OUT_KBD_OBF | OUT_MOUSE_OBF);
        if (c->obf)
            v |= c->obf_aux ? OUT_MOUSE_OBF : OUT_KBD_OBF;
        i8042_reply(c, v, false);
        break;
    }
    case 0xDD:
        i8042_write_outport(c, c->outport & ~OUT_A20);
        break;
    case 0xDF:
        i8042_write_outport(c, c->outport | OUT_A20);
        break;
    case 0xE0:                                 /* test inputs: clock and data lines low */
        i8042_reply(c, 0x00, false);
        break;
    default:
        machine_log(c->machine, LOG_UNIMP, "i8042: command %#x\n", cmd);
        break;
    }
    i8042_update(c);                           /* clocks or IRQ enables may have changed */
}

static void i8042_data(struct i8042 *c, uint8_t v)
{
    uint8_t cmd = c->pending_cmd;
    c->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        c->ram[cmd & 0x1F] = v;
    } else if (cmd == 0xD1) {
        i8042_write_outport(c, v);
    } else if (cmd == 0xD2 || cmd == 0xD3) {
        i8042_reply(c, v, cmd == 0xD3);
    } else if (cmd == 0xD4) {
        c->ram[0] &= ~CB_MOUSE_OFF;
        ps2_mouse_write(c->mouse, v);
    } else {
        c->ram[0] &= ~CB_KBD_OFF;
        ps2_kbd_write(c->kbd, v);
    }
    i8042_update(c);
}

static uint32_t i8042_port_read(void *opaque, uint16_t port, int size)
{
    struct i8042 *c = opaque;
    (void)size;
    if (port == I8042_STATUS_PORT) {
        return (c->obf ? STAT_OBF : 0) | (c->ram[0] & CB_SYS ? STAT_SYS : 0) |
               (c->a2 ? STAT_A2 : 0) | STAT_UNLOCKED | (c->obf && c->obf_aux ? STAT_AUX : 0);
    }
    uint8_t v = c->out_byte;                   /* an empty buffer reads its last byte */
    if (c->obf) {
        c->obf = false;
        c->device_hold_until = machine_now(c->machine) + I8042_DEVICE_BYTE_NS;
        machine_timer_changed(c->machine, c, c->device_hold_until);
        i8042_update_irqs(c);                  /* drop the line: the next byte is a new edge */
        i8042_update(c);
    }
    return v;
}

/* The end of a device hold: load the byte that waited for it. */
static uint64_t i8042_next_event(void *opaque, uint64_t now_ns)
{
    struct i8042 *c = opaque;
    if (now_ns < c->device_hold_until)
        return c->device_hold_until;
    i8042_update(c);
    return TIME_NEVER;
}

static void i8042_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct i8042 *c = opaque;
    (void)size;
    c->a2 = port == I8042_STATUS_PORT;
    if (port == I8042_STATUS_PORT)
        i8042_command(c, (uint8_t)value);
    else
        i8042_data(c, (uint8_t)value);
}

static const struct ioport_ops i8042_port_ops = { i8042_port_read, i8042_port_write };

static void i8042_key(void *opaque, uint16_t scancode, bool down)
{
    struct i8042 *c = opaque;
    ps2_kbd_key(c->kbd, scancode, down);
    i8042_update(c);
}

static void i8042_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    struct i8042 *c = opaque;
    ps2_mouse_event(c->mouse, dx, dy, dz, buttons);
    i8042_update(c);
}

static const struct input_ops i8042_input_ops = { .key = i8042_key, .mouse = i8042_mouse };

static void i8042_reset(void *opaque)
{
    struct i8042 *c = opaque;
    for (size_t i = 0; i < sizeof c->ram; i++)
        c->ram[i] = 0;
    c->ram[0] = I8042_CB_RESET;
    c->a2 = true;                              /* QEMU's reset status shows A2 */
    c->pending_cmd = 0;
    c->obf = c->obf_aux = false;
    c->out_byte = 0;
    c->reply_ready = false;
    c->xlate_break = false;
    c->device_hold_until = 0;
    c->outport = OUT_ONES | OUT_A20 | OUT_RESET;
    phys_set_a20(&c->machine->mem, true);      /* A20 is on after reset */
    ps2_kbd_reset(c->kbd);
    ps2_mouse_reset(c->mouse);
    i8042_update_irqs(c);
}

static void i8042_destroy(void *opaque)
{
    struct i8042 *c = opaque;
    ps2_kbd_free(c->kbd);
    ps2_mouse_free(c->mouse);
    free(c);
}

/* ---- save state ---- */

/* The keyboard and mouse are separate objects (ps2.c) saved through the
 * controller's pointers. The A20 gate is the machine's (saved with it). */
static const struct state_field i8042_fields[] = {
    STATE_ARRAY(struct i8042, ram),
    STATE_U8(struct i8042, outport),
    STATE_BOOL(struct i8042, a2),
    STATE_U8(struct i8042, pending_cmd),
    STATE_BOOL(struct i8042, obf),
    STATE_BOOL(struct i8042, obf_aux),
    STATE_U8(struct i8042, out_byte),
    STATE_BOOL(struct i8042, reply_ready),
    STATE_BOOL(struct i8042, reply_aux),
    STATE_U8(struct i8042, reply),
    STATE_BOOL(struct i8042, xlate_break),
    STATE_U64(struct i8042, device_hold_until),
    STATE_PTR_STRUCT(struct i8042, kbd, ps2_kbd_state),
    STATE_PTR_STRUCT(struct i8042, mouse, ps2_mouse_state),
};
static const struct state_desc i8042_state = STATE_DESC("i8042", 1, i8042_fields);

static int i8042_post_load(void *opaque)
{
    struct i8042 *c = opaque;
    if (!ps2_state_valid(c->kbd, c->mouse))
        return -1;
    i8042_update_irqs(c);
    return 0;
}

static const struct device_ops i8042_device_ops = {
    .name = "i8042",
    .state = &i8042_state,
    .post_load = i8042_post_load,
    .reset = i8042_reset,
    .next_event = i8042_next_event,
    .destroy = i8042_destroy,
};

int i8042_create(struct machine *m, struct irq_line *kbd_irq, struct irq_line *mouse_irq,
                 struct i8042 **out)
{
    struct i8042 *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->machine = m;
    c->kbd_irq = kbd_irq;
    c->mouse_irq = mouse_irq;
    c->kbd = ps2_kbd_new(m);
    c->mouse = ps2_mouse_new(m);
    if (!c->kbd || !c->mouse) {
        ps2_kbd_free(c->kbd);
        ps2_mouse_free(c->mouse);
        free(c);
        return -1;
    }
    i8042_reset(c);
    if (machine_add_device(m, &i8042_device_ops, c) != 0) {
        i8042_destroy(c);
        return -1;
    }
    if (ioport_register(&m->io, I8042_DATA_PORT, 1, &i8042_port_ops, c) != 0 ||
        ioport_register(&m->io, I8042_STATUS_PORT, 1, &i8042_port_ops, c) != 0)
        return -1;
    m->input.ops = &i8042_input_ops;
    m->input.opaque = c;
    if (out)
        *out = c;
    return 0;
}
