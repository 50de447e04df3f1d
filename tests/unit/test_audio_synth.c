/* tests/unit/test_audio_synth.c: the PC speaker synthesizer
 * (frontends/audio.c) on changes pushed by hand, and the speaker ring
 * (core/speaker.h). Tones are measured the way tests/audio/test_speaker.py
 * measures a recording: swings of the cone through +-threshold. */
#include <check.h>
#include <stdlib.h>

#include "frontends/audio.h"

#define RATE 44100u
#define MS(n) ((uint64_t)(n) * 1000000u)

static struct speaker spk;
static struct speaker_synth synth;
static int16_t out[RATE * 2];

static void setup(void)
{
    spk = (struct speaker){ 0 };
    speaker_synth_init(&synth, RATE, 0);
}

static size_t render_until(uint64_t ns)
{
    return speaker_synth_render(&synth, &spk, ns, out, sizeof out / sizeof out[0]);
}

/* Swings through +-threshold in out[from, to). */
static int swings(size_t from, size_t to)
{
    int n = 0, state = 0;
    for (size_t i = from; i < to; i++) {
        if (out[i] > 1000 && state <= 0) {
            n += state != 0;
            state = 1;
        } else if (out[i] < -1000 && state >= 0) {
            n += state != 0;
            state = -1;
        }
    }
    return n;
}

START_TEST(square_wave_has_the_pit_frequency)
{
    /* count 2712: 1193182 / 2712 = 439.97 Hz, 880 swings a second */
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .period_clocks = 2712, .start_clock = 0 });
    size_t n = render_until(MS(1000));
    ck_assert_uint_eq(n, RATE);
    int s = swings(0, n);
    ck_assert_int_ge(s, 877);
    ck_assert_int_le(s, 880);
}
END_TEST

START_TEST(rendering_in_pieces_is_the_same_as_at_once)
{
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .period_clocks = 1193, .start_clock = 5 });
    static int16_t whole[RATE / 10];
    ck_assert_uint_eq(render_until(MS(100)), RATE / 10);
    for (size_t i = 0; i < RATE / 10; i++)
        whole[i] = out[i];
    setup();
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .period_clocks = 1193, .start_clock = 5 });
    size_t done = 0;
    for (uint64_t t = MS(1); t <= MS(100); t += MS(1) + 12345) {
        size_t n = speaker_synth_render(&synth, &spk, t, out + done, sizeof out / sizeof out[0] - done);
        done += n;
    }
    done += speaker_synth_render(&synth, &spk, MS(100), out + done, sizeof out / sizeof out[0] - done);
    ck_assert_uint_eq(done, RATE / 10);
    for (size_t i = 0; i < done; i++)
        ck_assert_int_eq(out[i], whole[i]);
}
END_TEST

START_TEST(a_level_step_is_a_click_then_silence)
{
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .level = true });
    speaker_push(&spk, (struct speaker_change){ .at_ns = MS(100), .level = false });
    size_t n = render_until(MS(300));
    /* held high: the DC blocker has settled to silence before the step */
    ck_assert_int_lt(abs(out[4400]), 50);
    /* the step at 100 ms (sample 4410) swings the cone hard down once */
    ck_assert_int_lt(out[4411], -AUDIO_AMPLITUDE);
    ck_assert_int_ge(out[4409], -50);
    /* the cone leaving rest at 0 (up) and the step (down): one swing */
    ck_assert_int_eq(swings(0, n), 1);
    ck_assert_int_lt(abs(out[n - 1]), 50);
}
END_TEST

START_TEST(a_later_change_supersedes_a_future_one)
{
    /* a count waiting for the reload (future) overtaken by "speaker off" */
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .period_clocks = 2712, .start_clock = 0 });
    speaker_push(&spk, (struct speaker_change){ .at_ns = MS(50), .period_clocks = 1356, .start_clock = 59659 });
    speaker_push(&spk, (struct speaker_change){ .at_ns = MS(20), .level = false });
    size_t n = render_until(MS(100));
    ck_assert_int_ge(swings(0, RATE / 50), 16);   /* 440 Hz for 20 ms: 17-18 swings */
    ck_assert_int_eq(swings(RATE / 50 + 50, n), 0);
}
END_TEST

START_TEST(future_change_takes_effect_on_time)
{
    speaker_push(&spk, (struct speaker_change){ .at_ns = 0, .period_clocks = 2712, .start_clock = 0 });
    speaker_push(&spk, (struct speaker_change){ .at_ns = MS(50), .period_clocks = 1356, .start_clock = 59659 });
    size_t n = render_until(MS(40));
    n += speaker_synth_render(&synth, &spk, MS(150), out + n, sizeof out / sizeof out[0] - n);
    int first = swings(0, RATE / 20), second = swings(RATE / 20, RATE * 3 / 20);
    ck_assert_int_ge(first, 43);                    /* 440 Hz for 50 ms: 44 */
    ck_assert_int_le(first, 45);
    ck_assert_int_ge(second, 174);                  /* 880 Hz for 100 ms: 176 */
    ck_assert_int_le(second, 177);
    ck_assert_uint_eq(n, RATE * 3 / 20);
}
END_TEST

START_TEST(square_wave_phase_and_duty)
{
    /* odd count 5: high for 3 clocks, low for 2 (mode 3's rounding) */
    struct speaker_change c = { .period_clocks = 5, .start_clock = 100 };
    for (uint64_t clock = 100; clock < 120; clock++) {
        uint64_t t = (clock * 1000000000ull + SPEAKER_PIT_HZ - 1) / SPEAKER_PIT_HZ;   /* edge time */
        bool want = (clock - 100) % 5 < 3;
        ck_assert_msg(speaker_level_at(&c, t) == want, "clock %llu", (unsigned long long)clock);
    }
    /* before the first period: high, as mode 3 starts */
    ck_assert(speaker_level_at(&c, 0));
}
END_TEST

START_TEST(full_ring_drops_the_oldest)
{
    for (unsigned i = 0; i < SPEAKER_RING + 10; i++)
        speaker_push(&spk, (struct speaker_change){ .at_ns = i, .level = i & 1 });
    ck_assert_uint_eq(spk.lost, 10);
    ck_assert_uint_eq(spk.changes, SPEAKER_RING + 10);
    struct speaker_change c;
    ck_assert(speaker_pop(&spk, &c));
    ck_assert_uint_eq(c.at_ns, 10);
}
END_TEST

static Suite *audio_suite(void)
{
    Suite *s = suite_create("audio_synth");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, square_wave_has_the_pit_frequency);
    tcase_add_test(tc, rendering_in_pieces_is_the_same_as_at_once);
    tcase_add_test(tc, a_level_step_is_a_click_then_silence);
    tcase_add_test(tc, a_later_change_supersedes_a_future_one);
    tcase_add_test(tc, future_change_takes_effect_on_time);
    tcase_add_test(tc, square_wave_phase_and_duty);
    tcase_add_test(tc, full_ring_drops_the_oldest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(audio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
