/* tests/unit/test_display_sdl.c: the SDL frontend's key table
 * (sdl_display_key_code), without a window.
 *
 * Every key of a 105-key ISO PC keyboard, named by its SDL scancode, must
 * map to a key code that the PS/2 keyboard (devices/ps2.c, in its default
 * scan code set 2) turns into a make sequence and a break sequence (Pause:
 * make only), and no two keys may give the same make sequence. A few
 * spot checks pin codes that are easy to get wrong (extended keys, Print
 * Screen, Pause, the ISO key left of Z).
 */
#include <SDL.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/input.h"
#include "core/machine.h"
#include "devices/ps2.h"
#include "frontends/display_sdl.h"

/* The 105 keys, row by row (ANSI's 104 plus NONUSBACKSLASH; the ISO "#~"
 * key beside Enter reports as SDL_SCANCODE_BACKSLASH on common hosts). */
static const SDL_Scancode keys105[] = {
    SDL_SCANCODE_ESCAPE, SDL_SCANCODE_F1, SDL_SCANCODE_F2, SDL_SCANCODE_F3, SDL_SCANCODE_F4,
    SDL_SCANCODE_F5, SDL_SCANCODE_F6, SDL_SCANCODE_F7, SDL_SCANCODE_F8, SDL_SCANCODE_F9,
    SDL_SCANCODE_F10, SDL_SCANCODE_F11, SDL_SCANCODE_F12, SDL_SCANCODE_PRINTSCREEN,
    SDL_SCANCODE_SCROLLLOCK, SDL_SCANCODE_PAUSE,
    SDL_SCANCODE_GRAVE, SDL_SCANCODE_1, SDL_SCANCODE_2, SDL_SCANCODE_3, SDL_SCANCODE_4,
    SDL_SCANCODE_5, SDL_SCANCODE_6, SDL_SCANCODE_7, SDL_SCANCODE_8, SDL_SCANCODE_9,
    SDL_SCANCODE_0, SDL_SCANCODE_MINUS, SDL_SCANCODE_EQUALS, SDL_SCANCODE_BACKSPACE,
    SDL_SCANCODE_TAB, SDL_SCANCODE_Q, SDL_SCANCODE_W, SDL_SCANCODE_E, SDL_SCANCODE_R,
    SDL_SCANCODE_T, SDL_SCANCODE_Y, SDL_SCANCODE_U, SDL_SCANCODE_I, SDL_SCANCODE_O,
    SDL_SCANCODE_P, SDL_SCANCODE_LEFTBRACKET, SDL_SCANCODE_RIGHTBRACKET, SDL_SCANCODE_RETURN,
    SDL_SCANCODE_CAPSLOCK, SDL_SCANCODE_A, SDL_SCANCODE_S, SDL_SCANCODE_D, SDL_SCANCODE_F,
    SDL_SCANCODE_G, SDL_SCANCODE_H, SDL_SCANCODE_J, SDL_SCANCODE_K, SDL_SCANCODE_L,
    SDL_SCANCODE_SEMICOLON, SDL_SCANCODE_APOSTROPHE, SDL_SCANCODE_BACKSLASH,
    SDL_SCANCODE_LSHIFT, SDL_SCANCODE_NONUSBACKSLASH, SDL_SCANCODE_Z, SDL_SCANCODE_X,
    SDL_SCANCODE_C, SDL_SCANCODE_V, SDL_SCANCODE_B, SDL_SCANCODE_N, SDL_SCANCODE_M,
    SDL_SCANCODE_COMMA, SDL_SCANCODE_PERIOD, SDL_SCANCODE_SLASH, SDL_SCANCODE_RSHIFT,
    SDL_SCANCODE_LCTRL, SDL_SCANCODE_LGUI, SDL_SCANCODE_LALT, SDL_SCANCODE_SPACE,
    SDL_SCANCODE_RALT, SDL_SCANCODE_RGUI, SDL_SCANCODE_APPLICATION, SDL_SCANCODE_RCTRL,
    SDL_SCANCODE_INSERT, SDL_SCANCODE_HOME, SDL_SCANCODE_PAGEUP, SDL_SCANCODE_DELETE,
    SDL_SCANCODE_END, SDL_SCANCODE_PAGEDOWN,
    SDL_SCANCODE_UP, SDL_SCANCODE_LEFT, SDL_SCANCODE_DOWN, SDL_SCANCODE_RIGHT,
    SDL_SCANCODE_NUMLOCKCLEAR, SDL_SCANCODE_KP_DIVIDE, SDL_SCANCODE_KP_MULTIPLY,
    SDL_SCANCODE_KP_MINUS, SDL_SCANCODE_KP_7, SDL_SCANCODE_KP_8, SDL_SCANCODE_KP_9,
    SDL_SCANCODE_KP_PLUS, SDL_SCANCODE_KP_4, SDL_SCANCODE_KP_5, SDL_SCANCODE_KP_6,
    SDL_SCANCODE_KP_1, SDL_SCANCODE_KP_2, SDL_SCANCODE_KP_3, SDL_SCANCODE_KP_ENTER,
    SDL_SCANCODE_KP_0, SDL_SCANCODE_KP_PERIOD,
};
#define NKEYS ((int)(sizeof keys105 / sizeof keys105[0]))

struct seq {
    int n;
    uint8_t bytes[8];
};

/* The set-2 bytes the keyboard sends for one key event. */
static struct seq encode(struct ps2_kbd *k, uint16_t code, bool down)
{
    struct seq s = { 0 };
    ps2_kbd_key(k, code, down);
    while (ps2_kbd_pending(k) && s.n < 8)
        s.bytes[s.n++] = ps2_kbd_read(k);
    ck_assert_int_eq(ps2_kbd_pending(k), 0);
    return s;
}

START_TEST(table_105_keys)
{
    ck_assert_int_eq(NKEYS, 105);
    char err[128];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 },
                                       err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct ps2_kbd *k = ps2_kbd_new(m);
    ck_assert_ptr_nonnull(k);
    static struct seq makes[NKEYS];
    for (int i = 0; i < NKEYS; i++) {
        uint16_t code = sdl_display_key_code(keys105[i]);
        ck_assert_msg(code != 0, "%s has no key code", SDL_GetScancodeName(keys105[i]));
        makes[i] = encode(k, code, true);
        ck_assert_msg(makes[i].n > 0, "%s (%#x): no set-2 make code",
                      SDL_GetScancodeName(keys105[i]), code);
        struct seq brk = encode(k, code, false);
        if (code == INPUT_KEY_PAUSE)
            ck_assert_int_eq(brk.n, 0);
        else
            ck_assert_msg(brk.n > 0 && (brk.bytes[0] == 0xF0 || brk.bytes[1] == 0xF0),
                          "%s (%#x): no set-2 break code", SDL_GetScancodeName(keys105[i]), code);
        for (int j = 0; j < i; j++)
            ck_assert_msg(makes[j].n != makes[i].n
                          || memcmp(makes[j].bytes, makes[i].bytes, (size_t)makes[i].n) != 0,
                          "%s and %s send the same set-2 make code",
                          SDL_GetScancodeName(keys105[j]), SDL_GetScancodeName(keys105[i]));
    }
    ps2_kbd_free(k);
    machine_destroy(m);
}
END_TEST

START_TEST(spot_checks)
{
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_A), 0x1E);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_RCTRL), 0xE01D);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_KP_ENTER), 0xE01C);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_KP_DIVIDE), 0xE035);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_PRINTSCREEN), 0xE037);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_PAUSE), INPUT_KEY_PAUSE);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_NONUSBACKSLASH), 0x56);
    ck_assert_uint_eq(sdl_display_key_code(SDL_SCANCODE_UNKNOWN), 0);
    ck_assert_uint_eq(sdl_display_key_code(-1), 0);
    ck_assert_uint_eq(sdl_display_key_code(SDL_NUM_SCANCODES), 0);
}
END_TEST

/* Each key with the same code as the sendkey name (core/input.c) that
 * names it: the two host paths agree. */
START_TEST(agrees_with_sendkey_names)
{
    static const struct { SDL_Scancode sc; const char *name; } pairs[] = {
        { SDL_SCANCODE_RETURN, "ret" }, { SDL_SCANCODE_LCTRL, "ctrl" },
        { SDL_SCANCODE_LSHIFT, "shift" }, { SDL_SCANCODE_RSHIFT, "shift_r" },
        { SDL_SCANCODE_LALT, "alt" }, { SDL_SCANCODE_SPACE, "spc" },
        { SDL_SCANCODE_KP_7, "kp_7" }, { SDL_SCANCODE_KP_MINUS, "kp_subtract" },
        { SDL_SCANCODE_CAPSLOCK, "caps_lock" }, { SDL_SCANCODE_NUMLOCKCLEAR, "num_lock" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        ck_assert_uint_eq(sdl_display_key_code(pairs[i].sc), input_key_by_name(pairs[i].name));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("display_sdl");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, table_105_keys);
    tcase_add_test(tc, spot_checks);
    tcase_add_test(tc, agrees_with_sendkey_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
