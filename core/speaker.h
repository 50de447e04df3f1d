/* core/speaker.h: what the PC speaker does, for the audio frontends.
 *
 * The speaker's cone follows PIT counter 2's OUT ANDed with port 0x61 bit 1.
 * The PIT (devices/pit8254.c) appends a change each time that signal stops
 * being what the last change said: a constant level (speaker off, or OUT
 * held), or a square wave (counter 2 in mode 3 with its gate open) given
 * exactly as the PIT counts it, so a renderer can compute the level at any
 * virtual time without asking the device. Frontends (frontends/audio.c)
 * drain the changes in order and turn them into samples. Nothing here
 * touches the host.
 *
 * The ring never blocks the guest: when it is full (nobody is listening,
 * or a guest toggles the speaker faster than the frontend polls) the oldest
 * change is dropped and `lost` counts it.
 *
 * Usage (device):  speaker_push(&m->speaker, (struct speaker_change){ .at_ns = now, .level = true });
 * Usage (frontend):
 *   struct speaker_change c;
 *   while (speaker_pop(&m->speaker, &c)) ...;
 */
#ifndef FOX86_SPEAKER_H
#define FOX86_SPEAKER_H

#include <stdbool.h>
#include <stdint.h>

#define SPEAKER_RING 1024u         /* a power of two */
#define SPEAKER_PIT_HZ 1193182u

struct speaker_change {
    uint64_t at_ns;                /* virtual time it takes effect */
    /* 0: a constant level. Otherwise a square wave of period_clocks PIT
     * clocks whose first period began at PIT clock edge start_clock (clock
     * edge c is at ceil(c * 1e9 / SPEAKER_PIT_HZ) ns): high for the first
     * (period_clocks + 1) / 2 clocks of each period, low for the rest. */
    uint32_t period_clocks;
    uint64_t start_clock;
    bool     level;                /* the constant level (period_clocks 0) */
};

struct speaker {
    struct speaker_change ring[SPEAKER_RING];
    uint32_t head, tail;           /* push at head, pop at tail; free-running */
    uint64_t lost;                 /* changes dropped because the ring was full */
    uint64_t changes;              /* changes pushed in all */
};

static inline void speaker_push(struct speaker *s, struct speaker_change c)
{
    if (s->head - s->tail == SPEAKER_RING) {
        s->tail++;
        s->lost++;
    }
    s->ring[s->head++ % SPEAKER_RING] = c;
    s->changes++;
}

static inline bool speaker_pop(struct speaker *s, struct speaker_change *c)
{
    if (s->head == s->tail)
        return false;
    *c = s->ring[s->tail++ % SPEAKER_RING];
    return true;
}

/* The level of change c at virtual time t_ns (>= c.at_ns). */
static inline bool speaker_level_at(const struct speaker_change *c, uint64_t t_ns)
{
    if (c->period_clocks == 0)
        return c->level;
    uint64_t clock = t_ns / 1000000000u * SPEAKER_PIT_HZ
                   + t_ns % 1000000000u * SPEAKER_PIT_HZ / 1000000000u;
    if (clock < c->start_clock)
        return true;               /* mode 3 starts high */
    return (clock - c->start_clock) % c->period_clocks < (c->period_clocks + 1) / 2;
}

#endif
