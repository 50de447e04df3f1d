/* tests/unit/test_machine_idle.c: machine.h's idle_wait hook. A guest that
 * halts with interrupts enabled and a device timer 1 s away: the run loop
 * hands each halt's host wait (at most MACHINE_MAX_SLEEP_NS, the time to
 * the timer) to the hook instead of sleeping, and the hook's work (here:
 * ending the run, as a packet's interrupt would end the halt) takes effect
 * as soon as it returns. */
#include <check.h>
#include <time.h>

#include "core/machine.h"
#include "devices/device.h"

struct idle_probe {
    int calls;
    uint64_t min_ns, max_ns;
};

static void probe_wait(struct machine *m, void *opaque, uint64_t ns)
{
    struct idle_probe *p = opaque;
    p->calls++;
    if (ns < p->min_ns || p->calls == 1)
        p->min_ns = ns;
    if (ns > p->max_ns)
        p->max_ns = ns;
    if (p->calls == 3)
        machine_request_exit(m, 7);
}

static uint64_t timer_next(void *dev, uint64_t now_ns)
{
    return now_ns + 1000000000u;   /* always a second away */
}

static void timer_destroy(void *dev)
{
}

static const struct device_ops far_timer_ops = {
    .name = "far-timer", .next_event = timer_next, .destroy = timer_destroy,
};

/* sti; hlt; jmp back to the hlt, at 0000:7C00 */
static int boot_halt_loop(struct machine *m, void *opaque)
{
    static const uint8_t code[] = { 0xFB, 0xF4, 0xEB, 0xFD };
    for (unsigned i = 0; i < sizeof code; i++)
        phys_write(&m->mem, 0x7C00 + i, code[i], 1);
    cpu_load_seg_real(&m->cpu, SEG_CS, 0);
    m->cpu.eip = 0x7C00;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(halt_waits_through_the_hook)
{
    char err[256] = "";
    struct machine_config cfg = { .ram_size = 1u << 20 };
    struct machine *m = machine_create(&cfg, err, sizeof err);
    ck_assert_msg(m, "%s", err);
    static char timer_state;
    ck_assert_int_eq(machine_add_device(m, &far_timer_ops, &timer_state), 0);
    m->boot = boot_halt_loop;
    struct idle_probe probe = { 0 };
    m->idle_wait = probe_wait;
    m->idle_wait_opaque = &probe;
    ck_assert_int_eq(machine_reset(m), 0);
    double t0 = now_s();
    ck_assert_int_eq(machine_run(m), 7);
    double took = now_s() - t0;
    ck_assert_int_eq(probe.calls, 3);
    ck_assert_uint_gt(probe.min_ns, 0);
    ck_assert_uint_le(probe.max_ns, 10000000u);   /* MACHINE_MAX_SLEEP_NS */
    /* the hook did not sleep, and nothing else did either */
    ck_assert_msg(took < 0.025, "the run took %.3f s", took);
    machine_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("machine_idle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, halt_waits_through_the_hook);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
