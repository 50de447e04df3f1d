/* devices/ps2.h: the PS/2 keyboard and mouse behind the 8042 (private).
 *
 * Only devices/i8042.c uses this. Each device holds the bytes it wants to
 * send to the controller in a small queue; the controller pulls one byte at
 * a time (ps2_*_read) when its output buffer is free and the device's clock
 * is enabled, and hands the devices the bytes the guest writes for them
 * (ps2_*_write). Replies to commands go ahead of queued key and motion data,
 * as a real device answers a command before sending on its buffer.
 *
 * The devices know nothing of the controller's translation (set 2 -> set 1):
 * the controller applies it on the way to its output buffer.
 */
#ifndef FOX86_DEVICES_PS2_H
#define FOX86_DEVICES_PS2_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct ps2_kbd;
struct ps2_mouse;

/* The controller's set 2 -> set 1 translation of one byte (break prefix
 * handling, F0 xx -> xx' | 0x80, is the caller's). */
uint8_t ps2_translate_set2(uint8_t code);

/* Keyboard (MF2). new returns NULL if memory ran out; m is for logging. */
struct ps2_kbd *ps2_kbd_new(struct machine *m);
void    ps2_kbd_free(struct ps2_kbd *k);
void    ps2_kbd_reset(struct ps2_kbd *k);
void    ps2_kbd_write(struct ps2_kbd *k, uint8_t byte);          /* a command or argument */
void    ps2_kbd_key(struct ps2_kbd *k, uint16_t key, bool down);  /* input.h key code */
int     ps2_kbd_pending(const struct ps2_kbd *k);                 /* bytes queued */
uint8_t ps2_kbd_read(struct ps2_kbd *k);                          /* next byte (0 if none) */

/* Mouse (with the IntelliMouse wheel extensions, ids 3 and 4). */
struct ps2_mouse *ps2_mouse_new(struct machine *m);
void    ps2_mouse_free(struct ps2_mouse *ms);
void    ps2_mouse_reset(struct ps2_mouse *ms);
void    ps2_mouse_write(struct ps2_mouse *ms, uint8_t byte);
/* Host motion: dy > 0 is down, dz > 0 is the wheel turned toward the user. */
void    ps2_mouse_event(struct ps2_mouse *ms, int dx, int dy, int dz, unsigned buttons);
int     ps2_mouse_pending(const struct ps2_mouse *ms);
uint8_t ps2_mouse_read(struct ps2_mouse *ms);

/* Save state: the tables of the keyboard and the mouse (core/savestate.h),
 * for the controller's table, and the check after a load: false if a
 * loaded queue or mode is out of range. */
struct state_desc;
extern const struct state_desc ps2_kbd_state, ps2_mouse_state;
bool ps2_state_valid(const struct ps2_kbd *k, const struct ps2_mouse *ms);

#endif
