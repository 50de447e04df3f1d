/* core/machine.c: machine life cycle, the device/timer list and the run loop
 * (see machine.h for the contract and the virtual clock).
 *
 * Invariants: every device's deadline is either TIME_NEVER or the value its
 * next_event last returned; a deadline <= now means "call next_event before
 * running the CPU again". The CPU is initialised with no_reboot set so that a
 * triple fault always comes back here as CPU_STOP_TRIPLE_FAULT: the decision
 * to reset or stop is the machine's (it must also reset the devices and
 * re-run the boot hook, which the CPU cannot do).
 */
#include "machine.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/device.h"

static uint64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t machine_clock(const void *opaque);

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    m->cfg = *cfg;
    if (phys_init(&m->mem, cfg->ram_size) != 0) {
        snprintf(err, errlen, "cannot allocate %u MB of guest RAM", cfg->ram_size >> 20);
        free(m);
        return NULL;
    }
    ioport_map_init(&m->io);
    cpu_init(&m->cpu, &m->mem, &m->io);
    m->vt_rate_q16 = 1u << 16;
    m->cpu.clock = machine_clock;
    m->cpu.clock_opaque = m;
    if (cfg->mmu_mode == MMU_MODE_SHADOW &&
        !(m->cpu.shadow = shadow_create(&m->mem, &m->cpu.mmu_stats, SHADOW_DEFAULT_SPACES,
                                        SHADOW_DEFAULT_BYTES))) {
        snprintf(err, errlen, "out of host memory");
        cpu_destroy(&m->cpu);
        phys_free(&m->mem);
        free(m);
        return NULL;
    }
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    for (int i = m->ndevices - 1; i >= 0; i--)
        if (m->devices[i].ops->destroy)
            m->devices[i].ops->destroy(m->devices[i].state);
    shadow_destroy(m->cpu.shadow);
    m->cpu.shadow = NULL;
    cpu_destroy(&m->cpu);
    savestate_buf_free(&m->savestate_check_buf);
    phys_free(&m->mem);
    free(m);
}

int machine_add_device(struct machine *m, const struct device_ops *ops, void *state)
{
    if (m->ndevices >= MACHINE_MAX_DEVICES)
        return -1;
    m->devices[m->ndevices++] = (struct machine_device){
        .ops = ops, .state = state, .deadline = ops->next_event ? 0 : TIME_NEVER,
    };
    return 0;
}

uint64_t machine_now(const struct machine *m)
{
    uint64_t ran = m->cpu.icount - m->vt_icount;
    return m->idle_ns + m->vt_insn_ns + ((ran * m->vt_rate_q16) >> 16);
}

static uint64_t machine_clock(const void *opaque)
{
    return machine_now(opaque);
}

/* Credit instructions from now on at rate_q16 virtual ns each. */
static void machine_set_rate(struct machine *m, uint64_t rate_q16)
{
    uint64_t ran = m->cpu.icount - m->vt_icount;
    m->vt_insn_ns += (ran * m->vt_rate_q16) >> 16;
    m->vt_icount = m->cpu.icount;
    m->vt_rate_q16 = rate_q16;
}

void machine_request_exit(struct machine *m, int status)
{
    if (!m->exit_requested) {
        m->exit_requested = true;
        m->exit_status = status;
    }
    m->cpu.stop_requested = true;
}

void machine_timer_changed(struct machine *m, void *device_state, uint64_t new_deadline)
{
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->state == device_state && d->ops->next_event && new_deadline < d->deadline) {
            d->deadline = new_deadline;
            m->cpu.stop_requested = true;
        }
    }
}

void machine_request_reset(struct machine *m)
{
    m->reset_requested = true;
    m->cpu.stop_requested = true;
}

void machine_log(struct machine *m, unsigned item, const char *fmt, ...)
{
    if (!machine_log_enabled(m, item))
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m->cfg.log_file ? m->cfg.log_file : stderr, fmt, ap);
    va_end(ap);
}

void machine_describe_cpu(struct cpu *cpu, char *buf, size_t len)
{
    const char *mode = !cpu_protected(cpu) ? "real" : cpu_v86(cpu) ? "v86"
                     : cpu_code32(cpu) ? "prot32" : "prot16";
    const uint32_t *r = cpu->gpr;
    snprintf(buf, len,
             "%04X:%08X %s CPL=%u EFL=%08X EAX=%08X EBX=%08X ECX=%08X EDX=%08X "
             "ESI=%08X EDI=%08X EBP=%08X ESP=%08X CR0=%08X CR2=%08X CR3=%08X",
             cpu->seg[SEG_CS].sel, cpu->eip, mode, cpu->cpl, cpu_get_eflags(cpu),
             r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX], r[R_ESI], r[R_EDI], r[R_EBP], r[R_ESP],
             cpu->cr0, cpu->cr2, cpu->cr3);
}

int machine_reset(struct machine *m)
{
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->ops->reset)
            d->ops->reset(d->state);
        d->deadline = d->ops->next_event ? 0 : TIME_NEVER;
    }
    cpu_reset(&m->cpu);
    if (!m->host_base_ns)
        m->host_base_ns = host_now_ns() - machine_now(m);
    m->cpu.no_reboot = true;
    m->cpu.stop_requested = false;
    int rc = m->boot ? m->boot(m, m->boot_opaque) : 0;
    if (machine_log_enabled(m, LOG_CPU_RESET)) {
        char state[512];
        machine_describe_cpu(&m->cpu, state, sizeof(state));
        machine_log(m, LOG_CPU_RESET, "CPU reset: %s\n", state);
    }
    return rc;
}

/* Run the devices whose time has come; return the nearest next deadline. */
static uint64_t machine_run_devices(struct machine *m, uint64_t now)
{
    uint64_t nearest = TIME_NEVER;
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->deadline <= now && d->ops->next_event)
            d->deadline = d->ops->next_event(d->state, now);
        if (d->deadline < nearest)
            nearest = d->deadline;
    }
    return nearest;
}

/* Longest host sleep in one halt, so host input and the poll hook are
 * served promptly even when the next guest timer is far away. */
#define MACHINE_MAX_SLEEP_NS 10000000u

/* Real-time mode: the virtual time host time has reached. */
static uint64_t machine_host_virtual(struct machine *m)
{
    return host_now_ns() - m->host_base_ns;
}

/* Real-time mode, after a halt: virtual time jumps to host time. */
static void machine_catch_up(struct machine *m)
{
    uint64_t real = machine_host_virtual(m), now = machine_now(m);
    if (real > now)
        m->idle_ns += real - now;
}

/* Horizon over which a lag behind (or lead over) host time is made up. */
#define MACHINE_PACE_HORIZON_NS 10000000u

/* Real-time mode, after a slice: set the virtual ns per instruction for the
 * next one to the measured host speed, corrected so the lag shrinks to
 * zero over MACHINE_PACE_HORIZON_NS. Time is slewed, not stepped, so no
 * guest ever sees a clock jump while it runs; only a host stall longer
 * than MACHINE_MAX_LAG_NS (a stopped process, a loaded host) is skipped. */
static void machine_pace(struct machine *m)
{
    int64_t lag = (int64_t)(machine_host_virtual(m) - machine_now(m));
    if (lag > (int64_t)MACHINE_MAX_LAG_NS) {
        m->idle_ns += (uint64_t)lag;
        m->stats.catchup_ns += (uint64_t)lag;
        lag = 0;
    }
    int64_t measured = m->host_ns_per_kinsn ? (int64_t)m->host_ns_per_kinsn * 65536 / 1000
                                            : (int64_t)1 << 16;
    if (measured < 1)
        measured = 1;
    int64_t horizon = MACHINE_PACE_HORIZON_NS;
    if (lag < -horizon)
        lag = -horizon;
    int64_t rate = measured + measured / 1024 * (lag * 1024 / horizon);
    if (rate < measured / 4)
        rate = measured / 4;
    if (rate > measured * 4)
        rate = measured * 4;
    machine_set_rate(m, (uint64_t)(rate > 0 ? rate : 1));
}

/* The CPU executed HLT. Let virtual time pass up to the next device event
 * (sleeping the host for it unless deterministic) if an interrupt could end
 * the halt; return false if nothing ever can. */
static bool machine_idle(struct machine *m, uint64_t next_event)
{
    struct cpu *cpu = &m->cpu;
    bool interruptible = cpu_get_eflags(cpu) & FL_IF;
    if (cpu->nmi_pending || (interruptible && cpu->intr))
        return true;
    if (!interruptible || next_event == TIME_NEVER)
        return false;
    uint64_t now = machine_now(m);
    if (next_event <= now)
        return true;
    if (!m->cfg.deterministic) {
        /* Sleep until host time reaches the event (at most a few ms), then
         * catch up: virtual time is then host time, or the event's. */
        uint64_t real = machine_host_virtual(m);
        if (real < next_event) {
            uint64_t want = next_event - real;
            if (want > MACHINE_MAX_SLEEP_NS)
                want = MACHINE_MAX_SLEEP_NS;
            if (m->idle_wait) {
                m->idle_wait(m, m->idle_wait_opaque, want);
            } else {
                struct timespec ts = { .tv_sec = (time_t)(want / 1000000000u),
                                       .tv_nsec = (long)(want % 1000000000u) };
                nanosleep(&ts, NULL);   /* a signal cuts it short: fine */
            }
        }
        uint64_t before = machine_now(m);
        machine_catch_up(m);
        m->stats.idle_ns += machine_now(m) - before;
        return true;
    }
    uint64_t skip = next_event - now;
    m->idle_ns += skip;
    m->stats.idle_ns += skip;
    return true;
}

/* Instructions to run until the next device event is due, at the current
 * virtual ns per instruction. */
static uint64_t machine_slice_budget(struct machine *m, uint64_t now, uint64_t next_event)
{
    if (next_event == TIME_NEVER)
        return MACHINE_SLICE;
    if (next_event <= now)
        return 1;
    uint64_t ns = next_event - now;
    if (ns > (uint64_t)MACHINE_SLICE << 12)
        return MACHINE_SLICE;
    /* enough instructions to reach the event: ceil(ns / ns-per-instruction) */
    uint64_t insns = ((ns << 16) + m->vt_rate_q16 - 1) / m->vt_rate_q16;
    return insns < MACHINE_SLICE ? insns : MACHINE_SLICE;
}

static int machine_savestate_check(struct machine *m);

int machine_take_reset(struct machine *m)
{
    if (!m->reset_requested || m->exit_requested)
        return 0;
    m->reset_requested = false;
    machine_log(m, LOG_CPU_RESET, "system reset requested by a device\n");
    m->stats.resets++;
    return machine_reset(m);
}

int machine_run(struct machine *m)
{
    struct cpu *cpu = &m->cpu;
    for (;;) {
        if (m->cfg.savestate_check_every && cpu->icount >= m->savestate_next_check
            && !m->exit_requested && !m->reset_requested && machine_savestate_check(m) != 0)
            return 1;
        if (m->exit_requested)
            return m->exit_status;
        if (m->stop_signal && *m->stop_signal) {
            fprintf(stderr, "fox86: terminating on signal %d\n", (int)*m->stop_signal);
            return 1;
        }
        if (m->poll_hook)
            m->poll_hook(m, m->poll_opaque);
        uint64_t now = machine_now(m);
        uint64_t next_event = machine_run_devices(m, now);
        if (m->exit_requested)
            continue;

        uint64_t budget = machine_slice_budget(m, now, next_event);
        m->stats.slices++;
        if (cpu->shadow && cpu->shadow->cap_hit && !m->mmu_cap_reported) {
            m->mmu_cap_reported = true;
            machine_log(m, LOG_GUEST_ERRORS, "mmu: the shadow page table memory cap (%u MiB) "
                        "forced evictions\n", SHADOW_DEFAULT_BYTES >> 20);
        }
        uint64_t host_before = m->cfg.deterministic ? 0 : host_now_ns();
        uint64_t icount_before = cpu->icount;
        enum cpu_stop why = cpu_run(cpu, budget);
        if (!m->cfg.deterministic) {
            /* a moving average over runs of at least 100000 instructions,
             * summed over slices: a fast engine's slices to the next timer
             * event can all be shorter, and a rate measured once early (a
             * slow start, translating) must not stick */
            m->measure_insns += cpu->icount - icount_before;
            m->measure_ns += host_now_ns() - host_before;
            if (m->measure_insns >= 100000) {
                uint64_t per_k = m->measure_ns * 1000 / m->measure_insns;
                m->host_ns_per_kinsn = m->host_ns_per_kinsn
                    ? (uint32_t)((m->host_ns_per_kinsn * 3ull + per_k) / 4) : (uint32_t)per_k;
                m->measure_insns = m->measure_ns = 0;
            }
            machine_pace(m);
        }

        if (why == CPU_STOP_REQUEST)
            cpu->stop_requested = false;
        if (m->reset_requested && !m->exit_requested) {
            if (machine_take_reset(m) != 0)
                return 1;
            continue;
        }
        switch (why) {
        case CPU_STOP_BUDGET:
        case CPU_STOP_REQUEST:
            break;
        case CPU_STOP_TRIPLE_FAULT: {
            const char *reason = cpu->stop_reason[0] ? cpu->stop_reason : "triple fault";
            if (m->cfg.no_reboot) {
                fprintf(stderr, "fox86: %s\n", reason);
                return 1;
            }
            machine_log(m, LOG_CPU_RESET | LOG_INT, "%s: resetting the machine\n", reason);
            m->stats.resets++;
            if (machine_reset(m) != 0)
                return 1;
            break;
        }
        case CPU_STOP_HALT:
            if (m->exit_requested)
                break;
            /* The slice may have reprogrammed a timer: ask again. */
            next_event = machine_run_devices(m, machine_now(m));
            if (!machine_idle(m, next_event)) {
                bool interruptible = cpu_get_eflags(cpu) & FL_IF;
                fprintf(stderr, "fox86: guest halted at %04X:%08X with %s; stopping\n",
                        cpu->seg[SEG_CS].sel, cpu->eip,
                        interruptible ? "no interrupt source that could wake it"
                                      : "interrupts disabled");
                return 0;
            }
            break;
        }
    }
}

/* ---- snapshots (machine_save / machine_load, --savevm-check) ---- */

/* The clock and the A20 gate (the gate is shared by the i8042 and port
 * 0x92, so it is the machine's). Deadlines are not saved: after a load
 * every device is asked for its next event again. */
struct machine_image {
    uint64_t idle_ns, vt_insn_ns, vt_icount, vt_rate_q16;
    bool     a20;
};
static const struct state_field machine_image_fields[] = {
    STATE_U64(struct machine_image, idle_ns),
    STATE_U64(struct machine_image, vt_insn_ns),
    STATE_U64(struct machine_image, vt_icount),
    STATE_U64(struct machine_image, vt_rate_q16),
    STATE_BOOL(struct machine_image, a20),
};
static const struct state_desc machine_image_state =
    STATE_DESC("machine", 1, machine_image_fields);

static const struct state_field ram_fields[] = {
    STATE_PTR_BYTES_VAR(struct phys_mem, ram, ram_size),
};
static const struct state_desc ram_state = STATE_DESC("ram", 1, ram_fields);

/* instance number of device i: its position among devices of its name */
static uint32_t machine_device_instance(const struct machine *m, int i)
{
    uint32_t n = 0;
    for (int j = 0; j < i; j++)
        if (strcmp(m->devices[j].ops->name, m->devices[i].ops->name) == 0)
            n++;
    return n;
}

int machine_save(struct machine *m, struct savestate_buf *out)
{
    struct machine_image img = {
        .idle_ns = m->idle_ns, .vt_insn_ns = m->vt_insn_ns, .vt_icount = m->vt_icount,
        .vt_rate_q16 = m->vt_rate_q16, .a20 = phys_a20_enabled(&m->mem),
    };
    cpu_pre_save(&m->cpu);
    int rc = savestate_write_header(out);
    rc |= savestate_write_section(out, "machine", 0, &machine_image_state, &img);
    rc |= savestate_write_section(out, "cpu", 0, &cpu_state_desc, &m->cpu);
    for (int i = 0; i < m->ndevices; i++) {
        const struct machine_device *d = &m->devices[i];
        if (d->ops->state)
            rc |= savestate_write_section(out, d->ops->name, machine_device_instance(m, i),
                                          d->ops->state, d->state);
    }
    rc |= savestate_write_section(out, "ram", 0, &ram_state, &m->mem);
    return rc ? -1 : 0;
}

/* Targets of a load: the clock, the CPU, RAM, then the devices. */
enum { TARGET_MACHINE = -3, TARGET_CPU = -2, TARGET_RAM = -1, TARGET_NONE = -4 };

static int machine_section_target(const struct machine *m, const struct savestate_section *s)
{
    if (strcmp(s->name, "machine") == 0 && s->instance == 0)
        return TARGET_MACHINE;
    if (strcmp(s->name, "cpu") == 0 && s->instance == 0)
        return TARGET_CPU;
    if (strcmp(s->name, "ram") == 0 && s->instance == 0)
        return TARGET_RAM;
    uint32_t n = 0;
    for (int i = 0; i < m->ndevices; i++) {
        if (strcmp(m->devices[i].ops->name, s->name) != 0)
            continue;
        if (n++ == s->instance)
            return m->devices[i].ops->state ? i : TARGET_NONE;
    }
    return TARGET_NONE;
}

/* One pass over the snapshot: check it (apply false), or store it. */
static int machine_load_pass(struct machine *m, const void *buf, size_t len, bool apply,
                             struct machine_image *img, char *err, size_t errlen)
{
    struct savestate_reader r;
    if (savestate_reader_open(&r, buf, len, err, errlen) != 0)
        return -1;
    bool seen[MACHINE_MAX_DEVICES + 3] = { false };   /* devices, then machine, cpu, ram */
    struct savestate_section s;
    int more;
    while ((more = savestate_next_section(&r, &s, err, errlen)) > 0) {
        int t = machine_section_target(m, &s);
        if (t == TARGET_NONE)
            continue;                  /* a device this machine does not have */
        int slot = t >= 0 ? t : MACHINE_MAX_DEVICES + (t - TARGET_MACHINE);
        if (seen[slot]) {
            snprintf(err, errlen, "savestate: %s#%u: section appears twice", s.name, s.instance);
            return -1;
        }
        seen[slot] = true;
        int rc;
        if (t == TARGET_MACHINE)
            rc = savestate_load_section(&s, &machine_image_state, img, true, err, errlen);
        else if (t == TARGET_CPU)
            rc = savestate_load_section(&s, &cpu_state_desc, &m->cpu, apply, err, errlen);
        else if (t == TARGET_RAM)
            rc = savestate_load_section(&s, &ram_state, &m->mem, apply, err, errlen);
        else
            rc = savestate_load_section(&s, m->devices[t].ops->state, m->devices[t].state,
                                        apply, err, errlen);
        if (rc != 0)
            return -1;
    }
    if (more < 0)
        return -1;
    static const char *const core_names[] = { "machine", "cpu", "ram" };
    for (int i = 0; i < 3; i++)
        if (!seen[MACHINE_MAX_DEVICES + i]) {
            snprintf(err, errlen, "savestate: section %s missing", core_names[i]);
            return -1;
        }
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->state && !seen[i]) {
            snprintf(err, errlen, "savestate: %s#%u: section missing", m->devices[i].ops->name,
                     machine_device_instance(m, i));
            return -1;
        }
    return 0;
}

int machine_load(struct machine *m, const void *buf, size_t len, char *err, size_t errlen)
{
    struct machine_image img;
    if (machine_load_pass(m, buf, len, false, &img, err, errlen) != 0)
        return -1;
    if (img.vt_rate_q16 == 0) {
        snprintf(err, errlen, "savestate: machine#0: vt_rate_q16 is 0");
        return -1;
    }
    if (machine_load_pass(m, buf, len, true, &img, err, errlen) != 0)
        return -1;   /* cannot happen: the same checks passed above */
    m->idle_ns = img.idle_ns;
    m->vt_insn_ns = img.vt_insn_ns;
    m->vt_icount = img.vt_icount;
    m->vt_rate_q16 = img.vt_rate_q16;
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->ops->post_load && d->ops->post_load(d->state) != 0) {
            snprintf(err, errlen, "savestate: %s#%u: inconsistent device state",
                     d->ops->name, machine_device_instance(m, i));
            return -1;
        }
        d->deadline = d->ops->next_event ? 0 : TIME_NEVER;
    }
    phys_set_a20(&m->mem, img.a20);
    if (cpu_post_load(&m->cpu) != 0) {
        snprintf(err, errlen, "savestate: cpu#0: inconsistent state");
        return -1;
    }
    return 0;
}

/* --savevm-check: save, put every device and the CPU back to power-on
 * state, load. A field missing from a table shows up as a guest that
 * notices. Host-side pacing (host_base_ns, stop requests) is kept. */
static int machine_savestate_check(struct machine *m)
{
    struct savestate_buf *b = &m->savestate_check_buf;
    char err[256];
    b->len = 0;
    b->failed = false;
    m->savestate_next_check = m->cpu.icount + m->cfg.savestate_check_every;
    if (machine_save(m, b) != 0) {
        fprintf(stderr, "fox86: savevm-check: out of host memory for the snapshot\n");
        return -1;
    }
    bool stop = m->cpu.stop_requested;
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].state);
    cpu_reset(&m->cpu);
    if (machine_load(m, b->data, b->len, err, sizeof err) != 0) {
        fprintf(stderr, "fox86: savevm-check: %s\n", err);
        return -1;
    }
    m->cpu.stop_requested = stop;
    return 0;
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void machine_format_mmu_stats(const struct machine *m, char *buf, size_t len)
{
    const struct mmu_stats *st = &m->cpu.mmu_stats;
    bool shadow = m->cpu.shadow != NULL;
    snprintf(buf, len,
             "  mmu                    %s\n"
             "  TLB misses             %llu\n"
             "  shadow hits            %llu (%.1f%% of misses)\n"
             "  page walks             %llu\n"
             "  page-table write traps %llu\n"
             "  CR3 switches           %llu (%llu reused a shadow: %.1f%%)\n"
             "  TLB prefills           %llu (entries refilled from a reused shadow)\n"
             "  shadows created        %llu, evicted %llu (by the memory cap %llu)\n"
             "  shadow tables flooded  %llu\n"
             "  full TLB flushes       %llu\n"
             "  now                    %u shadows, %u tables, %u watched pages\n"
             "  host windows           %llu user pages mapped into their space's window, "
             "%u mapped now; emptied %llu times (over %u pages)\n",
             shadow ? "shadow page tables" : "tlb (walk on every miss)",
             (unsigned long long)st->l1_misses,
             (unsigned long long)st->shadow_hits, percent(st->shadow_hits, st->l1_misses),
             (unsigned long long)st->walks,
             (unsigned long long)st->pt_write_traps,
             (unsigned long long)st->cr3_switches, (unsigned long long)st->cr3_reuses,
             percent(st->cr3_reuses, st->cr3_switches),
             (unsigned long long)st->tlb_prefills,
             (unsigned long long)st->spaces_created, (unsigned long long)st->spaces_evicted,
             (unsigned long long)st->cap_evictions,
             (unsigned long long)st->tables_flooded,
             (unsigned long long)st->full_flushes,
             st->spaces_now, st->tables_now, st->watched_pages,
             (unsigned long long)st->fast_maps, st->fast_pages_now,
             (unsigned long long)st->fast_clears,
             shadow ? m->cpu.shadow->fast_max_pages : 0);
}
