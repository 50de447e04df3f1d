/* devices/ps2.c: the PS/2 keyboard (MF2) and mouse behind the 8042.
 *
 * Keyboard: the host commands of an MF2 keyboard (reset and BAT, defaults,
 * enable/disable scanning, typematic and LED arguments, identify AB 83,
 * scan code set query and selection, echo, resend), and key events turned
 * into scan code set 1, 2 or 3 bytes (make, F0 break, E0 extended, the
 * Print Screen and Pause sequences). Key events arrive as set-1 codes
 * (core/input.h); set 2 codes are the inverse of the 8042's translation
 * table, which is exactly how the two sets relate. Set 3 is set 2 with
 * the keys it numbers differently (modifiers, function, navigation and
 * keypad keys: one byte each, no E0) and, as in QEMU, every key make/break
 * whatever the key-type commands F7-FD asked. Not modelled: typematic
 * repeat (the host repeats), the fake shifts real keyboards wrap around
 * navigation keys when Shift or Num Lock is held, and timing (BAT completes
 * at once).
 *
 * Mouse: reset (FA AA 00), defaults, reporting on/off, sample rate,
 * resolution, scaling 1:1 and 2:1, status request, stream and remote mode,
 * read data, wrap (echo) mode, get ID with the IntelliMouse knocks (sample
 * rates 200,100,80 -> id 3, 200,200,80 -> id 4) and their 4-byte packets.
 * Motion is sent per host event, clamped to -256..255 with the overflow
 * bits set when it did not fit; while the queue has no room for a packet
 * motion accumulates and goes out with the next packet.
 *
 * Queues: key and motion data are limited to PS2_QUEUE_SIZE bytes (the
 * keyboard's 16-byte buffer, whose last place is kept for the overrun code
 * a key that does not fit puts there). Command replies are inserted ahead
 * of that data, in order, in the extra room of the array.
 */
#include <stdlib.h>
#include <string.h>

#include "core/input.h"
#include "core/machine.h"
#include "core/savestate.h"
#include "devices/ps2.h"

#define PS2_QUEUE_SIZE   16                      /* key / motion bytes */
#define PS2_REPLY_ROOM   16                      /* extra room for command replies */

/* Replies and keyboard commands */
enum {
    PS2_ACK = 0xFA, PS2_RESEND = 0xFE, PS2_BAT_OK = 0xAA, PS2_ECHO = 0xEE,
    KBD_ID_1 = 0xAB, KBD_ID_2 = 0x83,
};

struct ps2_queue {
    uint8_t data[PS2_QUEUE_SIZE + PS2_REPLY_ROOM];
    int     count;                               /* bytes queued */
    int     replies;                             /* of which the first ones are replies */
};

static void queue_clear(struct ps2_queue *q)
{
    q->count = 0;
    q->replies = 0;
}

/* Drop queued data, keeping replies not yet read: a command clears the
 * device's buffer, not what it already answered. */
static void queue_drop_data(struct ps2_queue *q)
{
    q->count = q->replies;
}

/* Room for data: the device's buffer size, and what replies left of the array. */
static int queue_data_room(const struct ps2_queue *q)
{
    int buffer_room = PS2_QUEUE_SIZE - (q->count - q->replies);
    int array_room = (int)sizeof q->data - q->count;
    return buffer_room < array_room ? buffer_room : array_room;
}

/* Data (keys, packets): the caller checked the room. */
static void queue_data(struct ps2_queue *q, const uint8_t *bytes, int n)
{
    memcpy(&q->data[q->count], bytes, (size_t)n);
    q->count += n;
}

/* Replies go after earlier replies, before data. Returns false if a guest
 * that never reads has filled the reply room. */
static bool queue_reply(struct ps2_queue *q, const uint8_t *bytes, int n)
{
    if (q->count + n > (int)sizeof q->data)
        return false;
    memmove(&q->data[q->replies + n], &q->data[q->replies], (size_t)(q->count - q->replies));
    memcpy(&q->data[q->replies], bytes, (size_t)n);
    q->count += n;
    q->replies += n;
    return true;
}

static uint8_t queue_pop(struct ps2_queue *q)
{
    if (q->count == 0)
        return 0;
    uint8_t b = q->data[0];
    memmove(&q->data[0], &q->data[1], (size_t)(q->count - 1));
    q->count--;
    if (q->replies > 0)
        q->replies--;
    return b;
}

/* ---- scan codes ---- */

/* The 8042's set 2 -> set 1 table for codes 0x00-0x84; 0x85 and up pass
 * through. Its low half is a permutation, so it also gives set 1 -> set 2. */
static const uint8_t set2_to_set1[0x85] = {
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59,
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, 0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B,
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, 0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, 0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F,
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, 0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61,
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, 0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, 0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F,
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, 0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54,
    0x80, 0x81, 0x82, 0x41, 0x54,
};

uint8_t ps2_translate_set2(uint8_t code)
{
    return code < sizeof set2_to_set1 ? set2_to_set1[code] : code;
}

/* Set 2 make code of set-1 make code c (0x01-0x7F). F7 (0x41) and
 * Alt+SysRq (0x54) are 0x83 and 0x84 in set 2; their low-half twins (0x02,
 * 0x7F) are not real keys. */
static uint8_t set1_to_set2(uint8_t c)
{
    if (c == 0x41)
        return 0x83;
    if (c == 0x54)
        return 0x84;
    for (int s2 = 1; s2 < 0x80; s2++)
        if (set2_to_set1[s2] == c)
            return (uint8_t)s2;
    return 0;
}

/* Set 3 codes where they differ from set 2, by set-1 key (E0 keys with
 * their prefix). Backslash is 5C as on a 101-key keyboard (QEMU too). */
static const struct {
    uint16_t key;
    uint8_t  set3;
} set3_differs[] = {
    { 0x01, 0x08 }, { 0x1D, 0x11 }, { 0x2B, 0x5C }, { 0x37, 0x7E }, { 0x38, 0x19 },
    { 0x3A, 0x14 }, { 0x3B, 0x07 }, { 0x3C, 0x0F }, { 0x3D, 0x17 }, { 0x3E, 0x1F },
    { 0x3F, 0x27 }, { 0x40, 0x2F }, { 0x41, 0x37 }, { 0x42, 0x3F }, { 0x43, 0x47 },
    { 0x44, 0x4F }, { 0x45, 0x76 }, { 0x46, 0x5F }, { 0x4A, 0x84 }, { 0x4E, 0x7C },
    { 0x54, 0x57 }, { 0x56, 0x13 }, { 0x57, 0x56 }, { 0x58, 0x5E },
    { 0xE01C, 0x79 }, { 0xE01D, 0x58 }, { 0xE035, 0x77 }, { 0xE037, 0x57 },
    { 0xE038, 0x39 }, { 0xE047, 0x6E }, { 0xE048, 0x63 }, { 0xE049, 0x6F },
    { 0xE04B, 0x61 }, { 0xE04D, 0x6A }, { 0xE04F, 0x65 }, { 0xE050, 0x60 },
    { 0xE051, 0x6D }, { 0xE052, 0x67 }, { 0xE053, 0x64 }, { 0xE05B, 0x8B },
    { 0xE05C, 0x8C }, { 0xE05D, 0x8D }, { INPUT_KEY_PAUSE, 0x62 },
};

/* Set 3 code of a key, 0 if it has none. */
static uint8_t key_to_set3(uint16_t key)
{
    for (size_t i = 0; i < sizeof set3_differs / sizeof set3_differs[0]; i++)
        if (set3_differs[i].key == key)
            return set3_differs[i].set3;
    if (key >> 8)
        return 0;                                /* other E0 keys: not on a set 3 keyboard */
    return set1_to_set2((uint8_t)key);
}

/* ---- keyboard ---- */

struct ps2_kbd {
    struct machine  *machine;
    struct ps2_queue queue;
    uint8_t scancode_set;                        /* 1, 2 or 3 */
    bool    scanning;                            /* keys reported (F4 / F5) */
    uint8_t pending_cmd;                         /* command waiting for its argument, or 0 */
    uint8_t leds;                                /* ED argument: bit 0 scroll, 1 num, 2 caps */
    uint8_t typematic;                           /* F3 argument (repeat is the host's) */
    uint8_t last_sent;                           /* for FE resend */
    bool    overrun;                             /* the overrun code is queued */
};

static void kbd_reply(struct ps2_kbd *k, const uint8_t *bytes, int n)
{
    if (!queue_reply(&k->queue, bytes, n))
        machine_log(k->machine, LOG_GUEST_ERRORS,
                    "ps2 keyboard: commands sent faster than replies are read, reply dropped\n");
}

static void kbd_ack(struct ps2_kbd *k)
{
    kbd_reply(k, (const uint8_t[]){ PS2_ACK }, 1);
}

static void kbd_defaults(struct ps2_kbd *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2B;                         /* 10.9 cps, 500 ms */
    k->pending_cmd = 0;
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
    queue_clear(&k->queue);
    kbd_defaults(k);
    k->scanning = true;
    k->leds = 0;
    k->last_sent = 0;
    k->overrun = false;
}

static void kbd_argument(struct ps2_kbd *k, uint8_t cmd, uint8_t arg)
{
    switch (cmd) {
    case 0xED:
        k->leds = arg & 7;
        kbd_ack(k);
        break;
    case 0xF3:
        k->typematic = arg & 0x7F;
        kbd_ack(k);
        break;
    case 0xF0:
        if (arg == 0) {
            kbd_reply(k, (const uint8_t[]){ PS2_ACK, k->scancode_set }, 2);
        } else if (arg >= 1 && arg <= 3) {
            k->scancode_set = arg;
            kbd_ack(k);
        } else {
            machine_log(k->machine, LOG_GUEST_ERRORS,
                        "ps2 keyboard: scan code set %#x does not exist\n", arg);
            kbd_reply(k, (const uint8_t[]){ PS2_RESEND }, 1);
        }
        break;
    }
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte)
{
    if (k->pending_cmd) {
        uint8_t cmd = k->pending_cmd;
        k->pending_cmd = 0;
        kbd_argument(k, cmd, byte);
        return;
    }
    switch (byte) {
    case 0xFF:                                   /* reset: ACK, then BAT passed */
        ps2_kbd_reset(k);
        kbd_reply(k, (const uint8_t[]){ PS2_ACK, PS2_BAT_OK }, 2);
        break;
    case 0xFE:                                   /* resend the last byte */
        kbd_reply(k, &k->last_sent, 1);
        break;
    case 0xF6:                                   /* defaults, keep scanning */
        queue_drop_data(&k->queue);
        kbd_defaults(k);
        k->scanning = true;
        kbd_ack(k);
        break;
    case 0xF5:                                   /* defaults, stop scanning */
        queue_drop_data(&k->queue);
        kbd_defaults(k);
        k->scanning = false;
        kbd_ack(k);
        break;
    case 0xF4:                                   /* enable: clears the buffer, scans */
        queue_drop_data(&k->queue);
        k->scanning = true;
        kbd_ack(k);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:  /* set 3 key types: all keys stay make/break */
    case 0xFB: case 0xFC: case 0xFD:
        kbd_ack(k);
        break;
    case 0xF3: case 0xF0: case 0xED:             /* an argument follows */
        k->pending_cmd = byte;
        kbd_ack(k);
        break;
    case 0xF2:                                   /* identify: MF2 keyboard */
        kbd_reply(k, (const uint8_t[]){ PS2_ACK, KBD_ID_1, KBD_ID_2 }, 3);
        break;
    case 0xEE:
        kbd_reply(k, (const uint8_t[]){ PS2_ECHO }, 1);
        break;
    default:
        machine_log(k->machine, LOG_GUEST_ERRORS, "ps2 keyboard: unknown command %#x\n", byte);
        kbd_reply(k, (const uint8_t[]){ PS2_RESEND }, 1);
        break;
    }
}

/* The bytes of one key event in the current set; returns how many (0: no
 * key or nothing to send). */
static int kbd_encode(const struct ps2_kbd *k, uint16_t key, bool down, uint8_t *out)
{
    bool set1 = k->scancode_set == 1;
    int n = 0;
    if (k->scancode_set == 3) {                  /* one byte, F0 before it on release */
        uint8_t s3 = key_to_set3(key);
        if (!s3)
            return 0;
        if (!down)
            out[n++] = 0xF0;
        out[n++] = s3;
        return n;
    }
    if (key == INPUT_KEY_PAUSE) {                /* make only, no break code */
        static const uint8_t pause1[] = { 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5 };
        static const uint8_t pause2[] = { 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77 };
        if (!down)
            return 0;
        memcpy(out, set1 ? pause1 : pause2, set1 ? sizeof pause1 : sizeof pause2);
        return set1 ? (int)sizeof pause1 : (int)sizeof pause2;
    }
    if (key == 0xE037) {                         /* Print Screen: E0 2A E0 37 in set 1 */
        static const uint8_t make1[] = { 0xE0, 0x2A, 0xE0, 0x37 };
        static const uint8_t brk1[]  = { 0xE0, 0xB7, 0xE0, 0xAA };
        static const uint8_t make2[] = { 0xE0, 0x12, 0xE0, 0x7C };
        static const uint8_t brk2[]  = { 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12 };
        const uint8_t *seq = set1 ? (down ? make1 : brk1) : (down ? make2 : brk2);
        n = set1 || down ? 4 : 6;
        memcpy(out, seq, (size_t)n);
        return n;
    }
    uint8_t prefix = key >> 8, code = key & 0xFF;
    if ((prefix != 0 && prefix != 0xE0) || code == 0 || code >= 0x80)
        return 0;
    if (prefix)
        out[n++] = prefix;
    if (set1) {
        out[n++] = down ? code : code | 0x80;
    } else {
        uint8_t s2 = set1_to_set2(code);
        if (!s2)
            return 0;
        if (!down)
            out[n++] = 0xF0;
        out[n++] = s2;
    }
    return n;
}

void ps2_kbd_key(struct ps2_kbd *k, uint16_t key, bool down)
{
    uint8_t bytes[8];
    int n = kbd_encode(k, key, down, bytes);
    if (n == 0 || !k->scanning)
        return;
    /* the last place is kept for the overrun code */
    int room = queue_data_room(&k->queue);
    if (n < room) {
        queue_data(&k->queue, bytes, n);
        k->overrun = false;
    } else if (room > 0 && !k->overrun) {
        /* buffer full: the last place holds the overrun code */
        uint8_t overrun = k->scancode_set == 1 ? 0xFF : 0x00;
        queue_data(&k->queue, &overrun, 1);
        k->overrun = true;
    }
}

int ps2_kbd_pending(const struct ps2_kbd *k)
{
    return k->queue.count;
}

uint8_t ps2_kbd_read(struct ps2_kbd *k)
{
    if (k->queue.count == 0)
        return 0;
    k->last_sent = queue_pop(&k->queue);
    return k->last_sent;
}

struct ps2_kbd *ps2_kbd_new(struct machine *m)
{
    struct ps2_kbd *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->machine = m;
    ps2_kbd_reset(k);
    return k;
}

void ps2_kbd_free(struct ps2_kbd *k)
{
    free(k);
}

/* ---- mouse ---- */

/* Status byte bits (E9) and packet byte 0 */
enum {
    MS_STATUS_REMOTE = 0x40, MS_STATUS_ENABLED = 0x20, MS_STATUS_SCALE21 = 0x10,
    MS_PKT_ALWAYS1 = 0x08, MS_PKT_XSIGN = 0x10, MS_PKT_YSIGN = 0x20,
    MS_PKT_XOVF = 0x40, MS_PKT_YOVF = 0x80,
};

struct ps2_mouse {
    struct machine  *machine;
    struct ps2_queue queue;
    bool    reporting;                           /* F4 / F5 */
    bool    remote;                              /* F0 remote / EA stream */
    bool    wrap;                                /* EE: echo every byte */
    bool    scale21;                             /* E7 / E6 */
    uint8_t resolution;                          /* 0-3: 1, 2, 4, 8 counts/mm */
    uint8_t sample_rate;
    uint8_t id;                                  /* 0, 3 (wheel) or 4 (wheel + 5 buttons) */
    uint8_t rate_history[3];                     /* last sample rates set, for the knocks */
    uint8_t pending_cmd;                         /* command waiting for its argument, or 0 */
    int     acc_dx, acc_dy, acc_dz;              /* motion not yet sent (dy: down) */
    unsigned buttons;                            /* INPUT_BUTTON_* held */
    bool    dirty;                               /* an event is waiting for queue room */
};

static void mouse_reply(struct ps2_mouse *ms, const uint8_t *bytes, int n)
{
    if (!queue_reply(&ms->queue, bytes, n))
        machine_log(ms->machine, LOG_GUEST_ERRORS,
                    "ps2 mouse: commands sent faster than replies are read, reply dropped\n");
}

static void mouse_ack(struct ps2_mouse *ms)
{
    mouse_reply(ms, (const uint8_t[]){ PS2_ACK }, 1);
}

static void mouse_defaults(struct ps2_mouse *ms)
{
    ms->reporting = false;
    ms->remote = false;
    ms->scale21 = false;
    ms->resolution = 2;
    ms->sample_rate = 100;
    ms->pending_cmd = 0;
    ms->acc_dx = ms->acc_dy = ms->acc_dz = 0;
    ms->dirty = false;
}

void ps2_mouse_reset(struct ps2_mouse *ms)
{
    queue_clear(&ms->queue);
    mouse_defaults(ms);
    ms->wrap = false;
    ms->id = 0;
    memset(ms->rate_history, 0, sizeof ms->rate_history);
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the mouse applies it in stream mode. */
static int scale21(int d)
{
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int s = a <= 5 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

/* Build a packet from the accumulated motion and clear it; returns its length. */
static int mouse_packet(struct ps2_mouse *ms, uint8_t *pkt, bool scaled)
{
    int dx = ms->acc_dx, dy = -ms->acc_dy;       /* PS/2 y counts up */
    if (scaled && ms->scale21) {
        dx = scale21(dx);
        dy = scale21(dy);
    }
    uint8_t b0 = MS_PKT_ALWAYS1 | (ms->buttons & 7);   /* L, R, M: bits 0, 1, 2 as INPUT_BUTTON_* */
    if (dx < -256 || dx > 255)
        b0 |= MS_PKT_XOVF;
    if (dy < -256 || dy > 255)
        b0 |= MS_PKT_YOVF;
    dx = clamp(dx, -256, 255);
    dy = clamp(dy, -256, 255);
    if (dx < 0)
        b0 |= MS_PKT_XSIGN;
    if (dy < 0)
        b0 |= MS_PKT_YSIGN;
    pkt[0] = b0;
    pkt[1] = (uint8_t)dx;
    pkt[2] = (uint8_t)dy;
    int n = 3;
    if (ms->id == 3) {
        pkt[n++] = (uint8_t)clamp(ms->acc_dz, -128, 127);
    } else if (ms->id == 4) {
        pkt[n++] = (uint8_t)clamp(ms->acc_dz, -8, 7) & 0x0F;   /* buttons 4/5 never pressed */
    }
    ms->acc_dx = ms->acc_dy = ms->acc_dz = 0;
    return n;
}

/* Stream mode: send what is waiting if reporting is on and there is room. */
static void mouse_flush(struct ps2_mouse *ms)
{
    if (!ms->dirty || !ms->reporting || ms->remote || ms->wrap)
        return;
    int need = ms->id ? 4 : 3;
    if (queue_data_room(&ms->queue) < need)
        return;
    uint8_t pkt[4];
    int n = mouse_packet(ms, pkt, true);
    queue_data(&ms->queue, pkt, n);
    ms->dirty = false;
}

static void mouse_set_rate(struct ps2_mouse *ms, uint8_t rate)
{
    ms->sample_rate = rate;
    ms->rate_history[0] = ms->rate_history[1];
    ms->rate_history[1] = ms->rate_history[2];
    ms->rate_history[2] = rate;
    const uint8_t *h = ms->rate_history;
    if (h[0] == 200 && h[1] == 100 && h[2] == 80)
        ms->id = 3;
    else if (h[0] == 200 && h[1] == 200 && h[2] == 80)
        ms->id = 4;
}

void ps2_mouse_write(struct ps2_mouse *ms, uint8_t byte)
{
    if (ms->pending_cmd) {
        uint8_t cmd = ms->pending_cmd;
        ms->pending_cmd = 0;
        if (cmd == 0xF3)
            mouse_set_rate(ms, byte);
        else
            ms->resolution = byte & 3;           /* E8 */
        mouse_ack(ms);
        return;
    }
    if (ms->wrap && byte != 0xFF && byte != 0xEC) {
        mouse_reply(ms, &byte, 1);               /* wrap mode echoes */
        return;
    }
    switch (byte) {
    case 0xFF:                                   /* reset: ACK, BAT passed, id 0 */
        ps2_mouse_reset(ms);
        mouse_reply(ms, (const uint8_t[]){ PS2_ACK, PS2_BAT_OK, 0x00 }, 3);
        break;
    case 0xFE:
        mouse_reply(ms, (const uint8_t[]){ PS2_ACK }, 1);
        break;
    case 0xF6:
        queue_drop_data(&ms->queue);
        mouse_defaults(ms);
        mouse_ack(ms);
        break;
    case 0xF5:
        queue_drop_data(&ms->queue);
        ms->reporting = false;
        mouse_ack(ms);
        break;
    case 0xF4:
        queue_drop_data(&ms->queue);
        ms->reporting = true;
        ms->acc_dx = ms->acc_dy = ms->acc_dz = 0;
        ms->dirty = false;
        mouse_ack(ms);
        break;
    case 0xF3: case 0xE8:                        /* an argument follows */
        ms->pending_cmd = byte;
        mouse_ack(ms);
        break;
    case 0xF2:
        mouse_reply(ms, (const uint8_t[]){ PS2_ACK, ms->id }, 2);
        break;
    case 0xF0:
        ms->remote = true;
        mouse_ack(ms);
        break;
    case 0xEA:
        ms->remote = false;
        ms->acc_dx = ms->acc_dy = ms->acc_dz = 0;
        mouse_ack(ms);
        break;
    case 0xEE:
        ms->wrap = true;
        mouse_ack(ms);
        break;
    case 0xEC:
        ms->wrap = false;
        mouse_ack(ms);
        break;
    case 0xEB: {                                 /* read data: one packet, even unmoved */
        uint8_t reply[5] = { PS2_ACK };
        int n = mouse_packet(ms, &reply[1], false);
        ms->dirty = false;
        mouse_reply(ms, reply, 1 + n);
        break;
    }
    case 0xE9: {                                 /* status: mode bits + buttons L, M, R */
        uint8_t st = (ms->remote ? MS_STATUS_REMOTE : 0) | (ms->reporting ? MS_STATUS_ENABLED : 0) |
                     (ms->scale21 ? MS_STATUS_SCALE21 : 0) |
                     (ms->buttons & INPUT_BUTTON_LEFT ? 4 : 0) |
                     (ms->buttons & INPUT_BUTTON_MIDDLE ? 2 : 0) |
                     (ms->buttons & INPUT_BUTTON_RIGHT ? 1 : 0);
        mouse_reply(ms, (const uint8_t[]){ PS2_ACK, st, ms->resolution, ms->sample_rate }, 4);
        break;
    }
    case 0xE7:
        ms->scale21 = true;
        mouse_ack(ms);
        break;
    case 0xE6:
        ms->scale21 = false;
        mouse_ack(ms);
        break;
    default:
        machine_log(ms->machine, LOG_GUEST_ERRORS, "ps2 mouse: unknown command %#x\n", byte);
        mouse_reply(ms, (const uint8_t[]){ PS2_RESEND }, 1);
        break;
    }
}

void ps2_mouse_event(struct ps2_mouse *ms, int dx, int dy, int dz, unsigned buttons)
{
    /* accumulate without overflowing an int, whatever the host sends */
    ms->acc_dx = clamp(ms->acc_dx + clamp(dx, -65536, 65536), -65536, 65536);
    ms->acc_dy = clamp(ms->acc_dy + clamp(dy, -65536, 65536), -65536, 65536);
    ms->acc_dz = clamp(ms->acc_dz + clamp(dz, -65536, 65536), -65536, 65536);
    ms->buttons = buttons & 7;
    ms->dirty = true;
    mouse_flush(ms);
}

int ps2_mouse_pending(const struct ps2_mouse *ms)
{
    return ms->queue.count;
}

uint8_t ps2_mouse_read(struct ps2_mouse *ms)
{
    uint8_t b = queue_pop(&ms->queue);
    mouse_flush(ms);                             /* room again: send what waited */
    return b;
}

struct ps2_mouse *ps2_mouse_new(struct machine *m)
{
    struct ps2_mouse *ms = calloc(1, sizeof *ms);
    if (!ms)
        return NULL;
    ms->machine = m;
    ps2_mouse_reset(ms);
    return ms;
}

void ps2_mouse_free(struct ps2_mouse *ms)
{
    free(ms);
}

/* ---- save state (the i8042's table holds these through its pointers) ---- */

static const struct state_field ps2_queue_fields[] = {
    STATE_ARRAY(struct ps2_queue, data),
    STATE_INT(struct ps2_queue, count),
    STATE_INT(struct ps2_queue, replies),
};
static const struct state_desc ps2_queue_state = STATE_DESC("ps2_queue", 1, ps2_queue_fields);

static const struct state_field ps2_kbd_fields[] = {
    STATE_STRUCT(struct ps2_kbd, queue, ps2_queue_state),
    STATE_U8(struct ps2_kbd, scancode_set),
    STATE_BOOL(struct ps2_kbd, scanning),
    STATE_U8(struct ps2_kbd, pending_cmd),
    STATE_U8(struct ps2_kbd, leds),
    STATE_U8(struct ps2_kbd, typematic),
    STATE_U8(struct ps2_kbd, last_sent),
    STATE_BOOL(struct ps2_kbd, overrun),
};
const struct state_desc ps2_kbd_state = STATE_DESC("ps2_kbd", 1, ps2_kbd_fields);

static const struct state_field ps2_mouse_fields[] = {
    STATE_STRUCT(struct ps2_mouse, queue, ps2_queue_state),
    STATE_BOOL(struct ps2_mouse, reporting),
    STATE_BOOL(struct ps2_mouse, remote),
    STATE_BOOL(struct ps2_mouse, wrap),
    STATE_BOOL(struct ps2_mouse, scale21),
    STATE_U8(struct ps2_mouse, resolution),
    STATE_U8(struct ps2_mouse, sample_rate),
    STATE_U8(struct ps2_mouse, id),
    STATE_ARRAY(struct ps2_mouse, rate_history),
    STATE_U8(struct ps2_mouse, pending_cmd),
    STATE_INT(struct ps2_mouse, acc_dx),
    STATE_INT(struct ps2_mouse, acc_dy),
    STATE_INT(struct ps2_mouse, acc_dz),
    STATE_INT(struct ps2_mouse, buttons),
    STATE_BOOL(struct ps2_mouse, dirty),
};
const struct state_desc ps2_mouse_state = STATE_DESC("ps2_mouse", 1, ps2_mouse_fields);

static bool queue_valid(const struct ps2_queue *q)
{
    return q->count >= 0 && q->count <= (int)sizeof q->data && q->replies >= 0
        && q->replies <= q->count;
}

bool ps2_state_valid(const struct ps2_kbd *k, const struct ps2_mouse *ms)
{
    return (!k || (queue_valid(&k->queue) && k->scancode_set >= 1 && k->scancode_set <= 3))
        && (!ms || (queue_valid(&ms->queue) && ms->resolution <= 3));
}
