/* tests/unit/test_input.c: the host-side keyboard helpers of core/input.c:
 * ASCII to set-1 keys on a US layout, typing text through struct input,
 * and QEMU's sendkey names.
 */
#include <check.h>
#include <stdlib.h>

#include "core/input.h"

struct recorder {
    uint16_t code[64];
    bool     down[64];
    int      n;
};

static void record_key(void *opaque, uint16_t scancode, bool down)
{
    struct recorder *rec = opaque;
    if (rec->n < 64) {
        rec->code[rec->n] = scancode;
        rec->down[rec->n] = down;
        rec->n++;
    }
}

static const struct input_ops recorder_ops = { .key = record_key };

START_TEST(ascii_keys)
{
    bool shift = true;
    ck_assert_uint_eq(input_ascii_to_key('a', &shift), 0x1E);
    ck_assert(!shift);
    ck_assert_uint_eq(input_ascii_to_key('A', &shift), 0x1E);
    ck_assert(shift);
    ck_assert_uint_eq(input_ascii_to_key('z', &shift), 0x2C);
    ck_assert_uint_eq(input_ascii_to_key('1', &shift), 0x02);
    ck_assert(!shift);
    ck_assert_uint_eq(input_ascii_to_key('!', &shift), 0x02);
    ck_assert(shift);
    ck_assert_uint_eq(input_ascii_to_key('0', &shift), 0x0B);
    ck_assert_uint_eq(input_ascii_to_key(')', &shift), 0x0B);
    ck_assert(shift);
    ck_assert_uint_eq(input_ascii_to_key('~', &shift), 0x29);
    ck_assert(shift);
    ck_assert_uint_eq(input_ascii_to_key('"', &shift), 0x28);
    ck_assert(shift);
    ck_assert_uint_eq(input_ascii_to_key('|', &shift), 0x2B);
    ck_assert_uint_eq(input_ascii_to_key('?', &shift), 0x35);
    ck_assert_uint_eq(input_ascii_to_key('_', &shift), 0x0C);
    ck_assert_uint_eq(input_ascii_to_key(' ', &shift), 0x39);
    ck_assert(!shift);
    ck_assert_uint_eq(input_ascii_to_key('\n', &shift), 0x1C);
    ck_assert_uint_eq(input_ascii_to_key('\t', &shift), 0x0F);
    ck_assert_uint_eq(input_ascii_to_key('\b', &shift), 0x0E);
    ck_assert_uint_eq(input_ascii_to_key(0x1B, &shift), 0x01);
    ck_assert(!shift);
    ck_assert_uint_eq(input_ascii_to_key('\0', &shift), 0);
    ck_assert_uint_eq(input_ascii_to_key('\x7f', &shift), 0);
    ck_assert_uint_eq(input_ascii_to_key((char)0xE9, &shift), 0);
    ck_assert_uint_eq(input_ascii_to_key('m', NULL), 0x32);
}
END_TEST

START_TEST(type_text_with_shift)
{
    struct recorder rec = { 0 };
    struct input in = { .ops = &recorder_ops, .opaque = &rec };
    input_type_text(&in, "Hi!\xff\n");
    static const uint16_t want_code[] = { 0x2A, 0x23, 0x23, 0x2A, 0x17, 0x17,
                                          0x2A, 0x02, 0x02, 0x2A, 0x1C, 0x1C };
    static const bool want_down[] = { true, true, false, false, true, false,
                                      true, true, false, false, true, false };
    ck_assert_int_eq(rec.n, 12);
    for (int i = 0; i < 12; i++) {
        ck_assert_uint_eq(rec.code[i], want_code[i]);
        ck_assert_int_eq(rec.down[i], want_down[i]);
    }
    struct input none = { 0 };                    /* no keyboard: nothing happens */
    input_type_text(&none, "abc");
}
END_TEST

START_TEST(sendkey_names)
{
    ck_assert_uint_eq(input_key_by_name("a"), 0x1E);
    ck_assert_uint_eq(input_key_by_name("q"), 0x10);
    ck_assert_uint_eq(input_key_by_name("0"), 0x0B);
    ck_assert_uint_eq(input_key_by_name("9"), 0x0A);
    ck_assert_uint_eq(input_key_by_name("ret"), 0x1C);
    ck_assert_uint_eq(input_key_by_name("spc"), 0x39);
    ck_assert_uint_eq(input_key_by_name("tab"), 0x0F);
    ck_assert_uint_eq(input_key_by_name("esc"), 0x01);
    ck_assert_uint_eq(input_key_by_name("backspace"), 0x0E);
    ck_assert_uint_eq(input_key_by_name("shift"), 0x2A);
    ck_assert_uint_eq(input_key_by_name("shift_r"), 0x36);
    ck_assert_uint_eq(input_key_by_name("ctrl"), 0x1D);
    ck_assert_uint_eq(input_key_by_name("ctrl_r"), 0xE01D);
    ck_assert_uint_eq(input_key_by_name("alt"), 0x38);
    ck_assert_uint_eq(input_key_by_name("alt_r"), 0xE038);
    ck_assert_uint_eq(input_key_by_name("f1"), 0x3B);
    ck_assert_uint_eq(input_key_by_name("f9"), 0x43);
    ck_assert_uint_eq(input_key_by_name("f10"), 0x44);
    ck_assert_uint_eq(input_key_by_name("f11"), 0x57);
    ck_assert_uint_eq(input_key_by_name("f12"), 0x58);
    ck_assert_uint_eq(input_key_by_name("up"), 0xE048);
    ck_assert_uint_eq(input_key_by_name("down"), 0xE050);
    ck_assert_uint_eq(input_key_by_name("left"), 0xE04B);
    ck_assert_uint_eq(input_key_by_name("right"), 0xE04D);
    ck_assert_uint_eq(input_key_by_name("home"), 0xE047);
    ck_assert_uint_eq(input_key_by_name("end"), 0xE04F);
    ck_assert_uint_eq(input_key_by_name("pgup"), 0xE049);
    ck_assert_uint_eq(input_key_by_name("pgdn"), 0xE051);
    ck_assert_uint_eq(input_key_by_name("insert"), 0xE052);
    ck_assert_uint_eq(input_key_by_name("delete"), 0xE053);
    ck_assert_uint_eq(input_key_by_name("minus"), 0x0C);
    ck_assert_uint_eq(input_key_by_name("equal"), 0x0D);
    ck_assert_uint_eq(input_key_by_name("bracket_left"), 0x1A);
    ck_assert_uint_eq(input_key_by_name("bracket_right"), 0x1B);
    ck_assert_uint_eq(input_key_by_name("semicolon"), 0x27);
    ck_assert_uint_eq(input_key_by_name("apostrophe"), 0x28);
    ck_assert_uint_eq(input_key_by_name("grave_accent"), 0x29);
    ck_assert_uint_eq(input_key_by_name("backslash"), 0x2B);
    ck_assert_uint_eq(input_key_by_name("comma"), 0x33);
    ck_assert_uint_eq(input_key_by_name("dot"), 0x34);
    ck_assert_uint_eq(input_key_by_name("slash"), 0x35);
    ck_assert_uint_eq(input_key_by_name("caps_lock"), 0x3A);
    ck_assert_uint_eq(input_key_by_name("num_lock"), 0x45);
    ck_assert_uint_eq(input_key_by_name("scroll_lock"), 0x46);
    ck_assert_uint_eq(input_key_by_name("kp_0"), 0x52);
    ck_assert_uint_eq(input_key_by_name("kp_5"), 0x4C);
    ck_assert_uint_eq(input_key_by_name("kp_9"), 0x49);
    ck_assert_uint_eq(input_key_by_name("kp_add"), 0x4E);
    ck_assert_uint_eq(input_key_by_name("kp_subtract"), 0x4A);
    ck_assert_uint_eq(input_key_by_name("kp_multiply"), 0x37);
    ck_assert_uint_eq(input_key_by_name("kp_divide"), 0xE035);
    ck_assert_uint_eq(input_key_by_name("kp_enter"), 0xE01C);
    ck_assert_uint_eq(input_key_by_name("kp_decimal"), 0x53);
    ck_assert_uint_eq(input_key_by_name("sysrq"), 0x54);
    ck_assert_uint_eq(input_key_by_name("pause"), INPUT_KEY_PAUSE);
    ck_assert_uint_eq(input_key_by_name("meta_l"), 0xE05B);
    ck_assert_uint_eq(input_key_by_name("meta_r"), 0xE05C);
    ck_assert_uint_eq(input_key_by_name("menu"), 0xE05D);
    ck_assert_uint_eq(input_key_by_name("f13"), 0);
    ck_assert_uint_eq(input_key_by_name("f0"), 0);
    ck_assert_uint_eq(input_key_by_name("f1x"), 0);
    ck_assert_uint_eq(input_key_by_name("A"), 0);
    ck_assert_uint_eq(input_key_by_name("!"), 0);
    ck_assert_uint_eq(input_key_by_name("bogus"), 0);
    ck_assert_uint_eq(input_key_by_name(""), 0);
    ck_assert_uint_eq(input_key_by_name(NULL), 0);
}
END_TEST

static Suite *input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ascii_keys);
    tcase_add_test(tc, type_text_with_shift);
    tcase_add_test(tc, sendkey_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(input_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
