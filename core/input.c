/* core/input.c: host-side keyboard helpers: ASCII to keys on a US layout,
 * typing text, and QEMU's sendkey key names.
 *
 * Keys are set-1 make codes (core/input.h). Only the 7-bit printable
 * characters plus \n, \t, \b and Esc have keys; everything else is skipped
 * when typing. The names are those of QEMU's monitor sendkey command
 * (qapi QKeyCode), with a few of its aliases.
 */
#include <string.h>

#include "input.h"

#define KEY_LSHIFT 0x2A

/* Characters on the main block of a US keyboard: unshifted, shifted, code. */
static const struct {
    char plain, shifted;
    uint8_t code;
} ascii_keys[] = {
    { '1', '!', 0x02 }, { '2', '@', 0x03 }, { '3', '#', 0x04 }, { '4', '$', 0x05 },
    { '5', '%', 0x06 }, { '6', '^', 0x07 }, { '7', '&', 0x08 }, { '8', '*', 0x09 },
    { '9', '(', 0x0A }, { '0', ')', 0x0B }, { '-', '_', 0x0C }, { '=', '+', 0x0D },
    { 'q', 'Q', 0x10 }, { 'w', 'W', 0x11 }, { 'e', 'E', 0x12 }, { 'r', 'R', 0x13 },
    { 't', 'T', 0x14 }, { 'y', 'Y', 0x15 }, { 'u', 'U', 0x16 }, { 'i', 'I', 0x17 },
    { 'o', 'O', 0x18 }, { 'p', 'P', 0x19 }, { '[', '{', 0x1A }, { ']', '}', 0x1B },
    { 'a', 'A', 0x1E }, { 's', 'S', 0x1F }, { 'd', 'D', 0x20 }, { 'f', 'F', 0x21 },
    { 'g', 'G', 0x22 }, { 'h', 'H', 0x23 }, { 'j', 'J', 0x24 }, { 'k', 'K', 0x25 },
    { 'l', 'L', 0x26 }, { ';', ':', 0x27 }, { '\'', '"', 0x28 }, { '`', '~', 0x29 },
    { '\\', '|', 0x2B }, { 'z', 'Z', 0x2C }, { 'x', 'X', 0x2D }, { 'c', 'C', 0x2E },
    { 'v', 'V', 0x2F }, { 'b', 'B', 0x30 }, { 'n', 'N', 0x31 }, { 'm', 'M', 0x32 },
    { ',', '<', 0x33 }, { '.', '>', 0x34 }, { '/', '?', 0x35 }, { ' ', 0, 0x39 },
    { '\n', 0, 0x1C }, { '\t', 0, 0x0F }, { '\b', 0, 0x0E }, { 0x1B, 0, 0x01 },
};

uint16_t input_ascii_to_key(char c, bool *shift)
{
    bool shifted = false;
    uint16_t code = 0;
    if (c != 0) {
        for (size_t i = 0; i < sizeof ascii_keys / sizeof ascii_keys[0]; i++) {
            if (ascii_keys[i].plain == c || ascii_keys[i].shifted == c) {
                shifted = ascii_keys[i].shifted == c;
                code = ascii_keys[i].code;
                break;
            }
        }
    }
    if (shift)
        *shift = shifted;
    return code;
}

void input_type_text(struct input *in, const char *text)
{
    for (; *text; text++) {
        bool shift;
        uint16_t key = input_ascii_to_key(*text, &shift);
        if (!key)
            continue;
        if (shift)
            input_key(in, KEY_LSHIFT, true);
        input_key(in, key, true);
        input_key(in, key, false);
        if (shift)
            input_key(in, KEY_LSHIFT, false);
    }
}

static const struct {
    const char *name;
    uint16_t code;
} key_names[] = {
    { "esc", 0x01 }, { "minus", 0x0C }, { "equal", 0x0D }, { "backspace", 0x0E },
    { "tab", 0x0F }, { "bracket_left", 0x1A }, { "bracket_right", 0x1B }, { "ret", 0x1C },
    { "ctrl", 0x1D }, { "semicolon", 0x27 }, { "apostrophe", 0x28 }, { "grave_accent", 0x29 },
    { "shift", 0x2A }, { "backslash", 0x2B }, { "comma", 0x33 }, { "dot", 0x34 },
    { "slash", 0x35 }, { "shift_r", 0x36 }, { "asterisk", 0x37 }, { "kp_multiply", 0x37 },
    { "alt", 0x38 }, { "spc", 0x39 }, { "caps_lock", 0x3A }, { "num_lock", 0x45 },
    { "scroll_lock", 0x46 }, { "kp_7", 0x47 }, { "kp_8", 0x48 }, { "kp_9", 0x49 },
    { "kp_subtract", 0x4A }, { "kp_4", 0x4B }, { "kp_5", 0x4C }, { "kp_6", 0x4D },
    { "kp_add", 0x4E }, { "kp_1", 0x4F }, { "kp_2", 0x50 }, { "kp_3", 0x51 },
    { "kp_0", 0x52 }, { "kp_decimal", 0x53 }, { "sysrq", 0x54 }, { "less", 0x56 },
    { "f11", 0x57 }, { "f12", 0x58 },
    { "kp_enter", 0xE01C }, { "ctrl_r", 0xE01D }, { "kp_divide", 0xE035 },
    { "print", 0xE037 }, { "alt_r", 0xE038 }, { "altgr", 0xE038 }, { "home", 0xE047 },
    { "up", 0xE048 }, { "pgup", 0xE049 }, { "left", 0xE04B }, { "right", 0xE04D },
    { "end", 0xE04F }, { "down", 0xE050 }, { "pgdn", 0xE051 }, { "insert", 0xE052 },
    { "delete", 0xE053 }, { "meta_l", 0xE05B }, { "meta_r", 0xE05C }, { "menu", 0xE05D },
    { "pause", INPUT_KEY_PAUSE },
};

uint16_t input_key_by_name(const char *name)
{
    if (!name || !name[0])
        return 0;
    /* single letters and digits type as themselves */
    if (!name[1] && ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return input_ascii_to_key(name[0], NULL);
    /* f1-f10 are consecutive */
    if (name[0] == 'f' && name[1] >= '1' && name[1] <= '9') {
        int n = name[1] - '0';
        if (!name[2] && n <= 9)
            return (uint16_t)(0x3B + n - 1);
        if (!strcmp(name, "f10"))
            return 0x44;
    }
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (!strcmp(key_names[i].name, name))
            return key_names[i].code;
    return 0;
}
