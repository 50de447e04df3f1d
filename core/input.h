/* core/input.h: keyboard and mouse input from the host, for the frontends.
 *
 * The keyboard controller (devices/i8042.c) fills struct machine's input
 * with its ops; frontends (SDL, the monitor's sendkey, tests) call the
 * inline wrappers. Keys are named by their PC/XT scancode set 1 make code:
 * 0x1E is A, extended keys carry 0xE0 in the high byte (0xE048 is the Up
 * arrow, 0xE01D right Ctrl); Pause is INPUT_KEY_PAUSE. The keyboard
 * translates to whatever set the guest selected.
 *
 * Usage:
 *   input_key(&m->input, 0x1E, true);  input_key(&m->input, 0x1E, false);
 *   input_type_text(&m->input, "dir\n");       // core/input.c
 */
#ifndef FOX86_INPUT_H
#define FOX86_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#define INPUT_KEY_PAUSE 0xE11D

enum { INPUT_BUTTON_LEFT = 1, INPUT_BUTTON_RIGHT = 2, INPUT_BUTTON_MIDDLE = 4 };

struct input_ops {
    void (*key)(void *opaque, uint16_t scancode, bool down);
    /* Relative motion (dy > 0: down, as the host reports it), wheel, and
     * the buttons held (INPUT_BUTTON_* bits). */
    void (*mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
};

struct input {
    const struct input_ops *ops;                  /* NULL: no keyboard controller */
    void *opaque;
};

static inline void input_key(struct input *in, uint16_t scancode, bool down)
{
    if (in->ops && in->ops->key)
        in->ops->key(in->opaque, scancode, down);
}

static inline void input_mouse(struct input *in, int dx, int dy, int dz, unsigned buttons)
{
    if (in->ops && in->ops->mouse)
        in->ops->mouse(in->opaque, dx, dy, dz, buttons);
}

/* core/input.c: the set-1 code of an ASCII character on a US keyboard, with
 * *shift set if Shift must be held; 0 if the character has no key. */
uint16_t input_ascii_to_key(char c, bool *shift);
/* Press and release the keys that type text (US layout, \n is Enter). */
void input_type_text(struct input *in, const char *text);
/* A QEMU sendkey name ("ret", "ctrl", "a", "f1", "kp_add", ...) to its code; 0 if unknown. */
uint16_t input_key_by_name(const char *name);

#endif
