/* tests/unit/device_clock.h: the run loop's device side, for CPU-less
 * device tests: call a device's next_event as the machine does, and let
 * virtual time pass (through idle_ns) event by event. */
#ifndef FOX86_TEST_DEVICE_CLOCK_H
#define FOX86_TEST_DEVICE_CLOCK_H

#include <check.h>

#include "core/machine.h"
#include "devices/device.h"

/* Run device number dev's next_event now; returns (and records) its deadline. */
static inline uint64_t device_clock_event(struct machine *m, int dev)
{
    struct machine_device *d = &m->devices[dev];
    d->deadline = d->ops->next_event(d->state, machine_now(m));
    return d->deadline;
}

/* Move virtual time forward to t (never back). */
static inline void device_clock_set(struct machine *m, uint64_t t)
{
    ck_assert_uint_ge(t, machine_now(m));
    m->idle_ns += t - machine_now(m);
}

/* Run every deadline of device dev up to t, then sit at t. */
static inline void device_clock_advance(struct machine *m, int dev, uint64_t t)
{
    uint64_t next = device_clock_event(m, dev);
    while (next <= t) {
        ck_assert_uint_gt(next, machine_now(m));
        device_clock_set(m, next);
        next = device_clock_event(m, dev);
    }
    device_clock_set(m, t);
}

#endif
