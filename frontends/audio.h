/* frontends/audio.h: the PC speaker made audible (-audio).
 *
 * The PIT reports what the speaker does (core/speaker.h); the synthesizer
 * here turns those changes into 16-bit mono samples on the guest's virtual
 * time line, and a backend plays them (SDL2 audio, a queue of at most
 * AUDIO_MAX_QUEUE_MS) or writes them (a WAV file, for tests and recording).
 *
 * -audio spec: "none", "sdl", "wav,path=FILE" ("driver=" may prefix the
 * name, as QEMU accepts it).
 *
 * Usage:
 *   struct audio *a;
 *   if (audio_open("wav,path=out.wav", m, &a, err, sizeof err) != 0) ...
 *   audio_poll(a);     // from the poll hook: samples up to machine_now(m)
 *   audio_close(a);    // flushes; the WAV header gets its final sizes
 */
#ifndef FOX86_AUDIO_H
#define FOX86_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/speaker.h"

#define AUDIO_RATE 44100u
#define AUDIO_MAX_QUEUE_MS 120u     /* SDL: samples beyond this are dropped (guest ahead of real time) */
#define AUDIO_AMPLITUDE 6000        /* of 32767: a beep, not a blast */

struct machine;

/* The synthesizer: pure, no host calls (tests drive it directly). Sample n
 * is the speaker at virtual time start_ns + n * 1e9 / rate, averaged over
 * four points within the sample (so tones above a few kHz do not alias
 * into loud whistles), through a DC blocker (a cone held in place is
 * silent; moving it is a click). */
struct speaker_synth {
    uint32_t rate;
    uint64_t start_ns;
    uint64_t samples_done;
    struct speaker_change current;  /* in effect */
    struct speaker_change next;     /* popped, not yet due */
    bool     has_next;
    double   dc_in, dc_out;         /* DC blocker: last input and output */
};

void speaker_synth_init(struct speaker_synth *s, uint32_t rate, uint64_t start_ns);
/* Render every sample due before until_ns (at most max of them) into out,
 * draining spk as the changes come due; returns the number written. */
size_t speaker_synth_render(struct speaker_synth *s, struct speaker *spk, uint64_t until_ns,
                            int16_t *out, size_t max);

struct audio;

/* Returns 0, or -1 with one line in err (unknown driver, unwritable file,
 * no audio device for "sdl"). "none" gives *out = NULL, a valid handle. */
int  audio_open(const char *spec, struct machine *m, struct audio **out, char *err, size_t errlen);
/* The default with the SDL window: SDL audio if the host has a device,
 * else NULL, quietly (the host audio libraries' complaints suppressed). */
struct audio *audio_open_default(struct machine *m);
void audio_poll(struct audio *a);
void audio_close(struct audio *a);

#endif
