/* frontends/audio.c: the speaker synthesizer and the -audio backends (SDL2
 * queue, WAV file). Contract and usage in audio.h. */
#include "frontends/audio.h"

#include <SDL2/SDL.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/machine.h"

#define NS_PER_SEC 1000000000ull
#define SUBSAMPLES 4
#define DC_POLE 0.995               /* DC blocker: a 35 Hz corner at 44.1 kHz */
#define RENDER_CHUNK 2048

/* ---- the synthesizer ---- */

void speaker_synth_init(struct speaker_synth *s, uint32_t rate, uint64_t start_ns)
{
    *s = (struct speaker_synth){ .rate = rate, .start_ns = start_ns };
    s->current.at_ns = start_ns;
}

/* Take the next change from the ring. A change pushed after one dated in
 * the future but due before it supersedes it (the guest changed its mind
 * before the PIT got there). */
static bool synth_fetch(struct speaker_synth *s, struct speaker *spk)
{
    struct speaker_change c;
    if (!speaker_pop(spk, &c))
        return false;
    while (spk->head != spk->tail && spk->ring[spk->tail % SPEAKER_RING].at_ns < c.at_ns)
        speaker_pop(spk, &c);
    s->next = c;
    s->has_next = true;
    return true;
}

static uint64_t synth_time_of(const struct speaker_synth *s, uint64_t sample, unsigned sub)
{
    /* sample times from one origin: no drift however long it runs */
    uint64_t num = sample * SUBSAMPLES + sub;
    uint64_t per = (uint64_t)s->rate * SUBSAMPLES;
    return s->start_ns + num / per * NS_PER_SEC + num % per * NS_PER_SEC / per;
}

size_t speaker_synth_render(struct speaker_synth *s, struct speaker *spk, uint64_t until_ns,
                            int16_t *out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        uint64_t t0 = synth_time_of(s, s->samples_done, 0);
        if (synth_time_of(s, s->samples_done + 1, 0) > until_ns)
            break;
        double sum = 0;
        for (unsigned sub = 0; sub < SUBSAMPLES; sub++) {
            uint64_t t = sub ? synth_time_of(s, s->samples_done, sub) : t0;
            for (;;) {
                if (!s->has_next && !synth_fetch(s, spk))
                    break;
                if (s->next.at_ns > t)
                    break;
                s->current = s->next;
                s->has_next = false;
            }
            sum += speaker_level_at(&s->current, t) ? 1.0 : -1.0;
        }
        double x = sum / SUBSAMPLES;
        double y = x - s->dc_in + DC_POLE * s->dc_out;
        s->dc_in = x;
        s->dc_out = y;
        out[n++] = (int16_t)(y * AUDIO_AMPLITUDE);
        s->samples_done++;
    }
    return n;
}

/* ---- backends ---- */

enum audio_kind { AUDIO_SDL, AUDIO_WAV };

struct audio {
    enum audio_kind kind;
    struct machine *machine;
    struct speaker_synth synth;
    SDL_AudioDeviceID sdl_dev;
    FILE    *wav;
    char    *wav_path;
    uint64_t wav_samples;
    bool     wav_failed;
};

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}

/* RIFF/WAVE, PCM 16-bit mono: sizes from the samples written so far. */
static int wav_write_header(struct audio *a)
{
    uint64_t data_bytes = a->wav_samples * 2;
    if (data_bytes > 0xFFFFFFFFull - 36)
        data_bytes = 0xFFFFFFFFull - 36;   /* a 4 GiB WAV is capped, still readable */
    uint8_t h[44];
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, (uint32_t)(36 + data_bytes));
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);
    put_le16(h + 20, 1);                    /* PCM */
    put_le16(h + 22, 1);                    /* mono */
    put_le32(h + 24, a->synth.rate);
    put_le32(h + 28, a->synth.rate * 2);    /* bytes per second */
    put_le16(h + 32, 2);                    /* block align */
    put_le16(h + 34, 16);                   /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, (uint32_t)data_bytes);
    long end = ftell(a->wav);
    if (fseek(a->wav, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, a->wav) != sizeof h)
        return -1;
    if (end > (long)sizeof h && fseek(a->wav, end, SEEK_SET) != 0)
        return -1;
    return 0;
}

/* "wav,path=FILE" -> FILE (malloc'd), or NULL with err. */
static char *parse_wav_path(const char *props, char *err, size_t errlen)
{
    char *path = NULL;
    while (*props) {
        const char *end = strchr(props, ',');
        size_t len = end ? (size_t)(end - props) : strlen(props);
        if (len > 5 && strncmp(props, "path=", 5) == 0) {
            free(path);
            path = strndup(props + 5, len - 5);
        } else if (len > 0) {
            snprintf(err, errlen, "-audio wav: unknown property '%.*s' (wav takes path=FILE)",
                     (int)len, props);
            free(path);
            return NULL;
        }
        props += len + (end ? 1 : 0);
    }
    if (!path)
        snprintf(err, errlen, "-audio wav: no path=FILE given");
    return path;
}

int audio_open(const char *spec, struct machine *m, struct audio **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strncmp(spec, "driver=", 7) == 0)
        spec += 7;
    size_t name_len = strcspn(spec, ",");
    const char *props = spec[name_len] ? spec + name_len + 1 : "";
    if (name_len == 4 && strncmp(spec, "none", 4) == 0 && !*props)
        return 0;
    struct audio *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "-audio: out of memory");
        return -1;
    }
    a->machine = m;
    if (name_len == 3 && strncmp(spec, "wav", 3) == 0) {
        a->kind = AUDIO_WAV;
        a->wav_path = parse_wav_path(props, err, errlen);
        if (!a->wav_path) {
            free(a);
            return -1;
        }
        a->wav = fopen(a->wav_path, "w+b");
        if (!a->wav) {
            snprintf(err, errlen, "-audio wav: cannot create %s: %s", a->wav_path, strerror(errno));
            free(a->wav_path);
            free(a);
            return -1;
        }
        speaker_synth_init(&a->synth, AUDIO_RATE, machine_now(m));
        if (wav_write_header(a) != 0) {
            snprintf(err, errlen, "-audio wav: cannot write %s", a->wav_path);
            audio_close(a);
            return -1;
        }
    } else if (name_len == 3 && strncmp(spec, "sdl", 3) == 0) {
        if (*props) {
            snprintf(err, errlen, "-audio sdl: unknown property '%s'", props);
            free(a);
            return -1;
        }
        a->kind = AUDIO_SDL;
        if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
            snprintf(err, errlen, "-audio sdl: no audio: %s", SDL_GetError());
            free(a);
            return -1;
        }
        SDL_AudioSpec want = { .freq = AUDIO_RATE, .format = AUDIO_S16SYS, .channels = 1,
                               .samples = 1024 }, have;
        a->sdl_dev = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0);
        if (a->sdl_dev == 0) {
            snprintf(err, errlen, "-audio sdl: cannot open an audio device: %s", SDL_GetError());
            SDL_QuitSubSystem(SDL_INIT_AUDIO);
            free(a);
            return -1;
        }
        speaker_synth_init(&a->synth, AUDIO_RATE, machine_now(m));
        SDL_PauseAudioDevice(a->sdl_dev, 0);
    } else {
        snprintf(err, errlen, "-audio %s: unknown driver (none, sdl, wav,path=FILE)", spec);
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

void audio_poll(struct audio *a)
{
    if (!a)
        return;
    int16_t buf[RENDER_CHUNK];
    uint64_t now = machine_now(a->machine);
    size_t n;
    while ((n = speaker_synth_render(&a->synth, &a->machine->speaker, now, buf, RENDER_CHUNK)) > 0) {
        if (a->kind == AUDIO_WAV) {
            if (!a->wav_failed && fwrite(buf, 2, n, a->wav) != n) {
                fprintf(stderr, "fox86: -audio wav: writing %s failed; recording stopped\n",
                        a->wav_path);
                a->wav_failed = true;
            }
            if (!a->wav_failed)
                a->wav_samples += n;
        } else {
            /* the guest runs ahead of real time after idling: drop rather
             * than let the queue (and the delay) grow */
            uint32_t queued = SDL_GetQueuedAudioSize(a->sdl_dev);
            if (queued < AUDIO_RATE * 2u * AUDIO_MAX_QUEUE_MS / 1000u)
                SDL_QueueAudio(a->sdl_dev, buf, (uint32_t)(n * 2));
        }
        if (n < RENDER_CHUNK)
            break;
    }
}

void audio_close(struct audio *a)
{
    if (!a)
        return;
    if (a->kind == AUDIO_WAV) {
        audio_poll(a);
        if (wav_write_header(a) != 0 || fclose(a->wav) != 0)
            fprintf(stderr, "fox86: -audio wav: finishing %s failed\n", a->wav_path);
        free(a->wav_path);
    } else {
        SDL_CloseAudioDevice(a->sdl_dev);
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
    }
    free(a);
}

struct audio *audio_open_default(struct machine *m)
{
    /* ALSA reports a missing sound card on stderr, line after line; a
     * default nobody asked for must not (tests and headless hosts). */
    fflush(stderr);
    int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
    if (saved >= 0 && devnull >= 0)
        dup2(devnull, STDERR_FILENO);
    struct audio *a = NULL;
    char err[256];
    if (audio_open("sdl", m, &a, err, sizeof err) != 0)
        a = NULL;
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (devnull >= 0)
        close(devnull);
    return a;
}
