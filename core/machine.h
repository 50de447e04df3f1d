/* core/machine.h: one emulated PC: memory, ports, the CPU, the devices and
 * the virtual clock, and the loop that runs them.
 *
 * struct machine owns everything it holds: the guest RAM (struct phys_mem),
 * the port space, the CPU and its shadow page tables (cpu.shadow), and every device handed to machine_add_device()
 * (destroyed with the machine). It knows devices only through their ops
 * (devices/device.h) and firmware only through the boot hook, so core/ does
 * not depend on devices/ or bios/ code.
 *
 * Virtual time is counted from instructions: each retired instruction
 * credits vt_rate_q16 / 65536 virtual ns, plus time added while the CPU is
 * halted. The TSC counts virtual ns (a 1 GHz TSC).
 *   - deterministic mode: every instruction is exactly 1 ns (a nominal
 *     1000 MIPS CPU) and a halt skips to the next timer at once, so every
 *     run is identical;
 *   - by default (real time): a halt sleeps the host until the timer is
 *     due; while running, the ns credited per instruction follows the
 *     measured host speed, adjusted after each slice so that virtual time
 *     converges on host time. It never jumps while the CPU runs (only
 *     after a host stall longer than MACHINE_MAX_LAG_NS): guests that time
 *     one clock against another (Linux calibrating the TSC against the PIT)
 *     see both advance smoothly, and guest clocks keep real time as under
 *     QEMU.
 * The loop runs the CPU in slices that end at the nearest device event
 * (devices report it: "time is pulled") and at most MACHINE_SLICE
 * instructions long.
 *
 * machine_run() ends, with the process exit status to use, when:
 *   - a device requested exit (isa-debug-exit: status (v << 1) | 1);
 *   - the CPU triple-faulted and no_reboot is set (one line on stderr, 1);
 *     without no_reboot the machine resets and the boot hook runs again;
 *   - the CPU halted and nothing can wake it (one line on stderr, 0);
 *   - the host asked to stop (*stop_signal became non-zero: 1).
 *
 * Usage:
 *   struct machine_config cfg = { .ram_size = 128u << 20 };
 *   struct machine *m = machine_create(&cfg, errbuf, sizeof errbuf);
 *   ... create devices (they call machine_add_device), set m->boot ...
 *   machine_reset(m);
 *   int status = machine_run(m);
 *   machine_destroy(m);
 */
#ifndef FOX86_MACHINE_H
#define FOX86_MACHINE_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"
#include "display.h"
#include "input.h"
#include "ioport.h"
#include "mmu/phys.h"
#include "savestate.h"
#include "speaker.h"

struct device_ops;

/* -d log items (bit mask) */
enum {
    LOG_INT          = 1u << 0,   /* interrupts and exceptions */
    LOG_CPU_RESET    = 1u << 1,   /* CPU resets, with the register state */
    LOG_GUEST_ERRORS = 1u << 2,   /* the guest did something a device or the CPU rejects */
    LOG_IN_ASM       = 1u << 3,   /* disassembly of every executed instruction */
    LOG_UNIMP        = 1u << 4,   /* the guest used something fox86 does not implement */
    LOG_OUT_ASM      = 1u << 5,   /* each translated block: guest and host code */
    LOG_PERF_MAP     = 1u << 6,   /* /tmp/perf-PID.map: host code ranges named by guest EIP */
};

#define MACHINE_SLICE       1000000u   /* longest run of instructions between device checks */
#define MACHINE_MAX_LAG_NS  1000000000u /* real time: a larger lag (host stall) is skipped at once */
#define MACHINE_MAX_DEVICES 32

/* Memory management behind the CPU's TLB (-mmu): shadow page tables kept
 * coherent by write-watching (mmu/shadow.h), or a walk on every TLB miss
 * with a flush on every CR3 write, for comparison and testing. */
enum mmu_mode { MMU_MODE_SHADOW = 0, MMU_MODE_TLB };

/* -dfilter: the guest addresses (EIP) whose in_asm and out_asm lines are
 * written; none: every address. */
#define LOG_FILTER_MAX 8
struct log_range { uint32_t first, last; };   /* inclusive */

struct machine_config {
    uint32_t ram_size;            /* bytes of guest RAM from physical 0 */
    bool     no_reboot;           /* triple fault: stop (status 1) instead of resetting */
    unsigned log_mask;            /* LOG_* items to write to log_file */
    FILE    *log_file;            /* where -d output goes (not owned); NULL: stderr */
    bool     deterministic;       /* halts skip virtual time instantly (no host sleeping), so
                                     two runs are identical; devices must not read host clocks */
    uint64_t savestate_check_every; /* debug (--savevm-check N): about every N instructions, at a
                                     slice boundary, save the machine, reset every device and the
                                     CPU, and load it back; the guest must not notice. 0: off */
    enum mmu_mode mmu_mode;       /* default (0): shadow page tables */
    struct log_range log_filter[LOG_FILTER_MAX]; /* -dfilter ranges */
    unsigned log_filter_count;    /* 0: no filter */
};

struct machine_device {
    const struct device_ops *ops;
    void    *state;
    uint64_t deadline;            /* virtual ns of its next event, or TIME_NEVER */
};

struct machine_stats {
    uint64_t slices;              /* cpu_run calls */
    uint64_t resets;              /* machine resets after the first (triple faults) */
    uint64_t idle_ns;             /* virtual time skipped while halted */
    uint64_t catchup_ns;          /* virtual time skipped after host stalls */
};

struct machine {
    struct machine_config cfg;
    struct phys_mem   mem;
    struct ioport_map io;
    struct cpu        cpu;

    struct machine_device devices[MACHINE_MAX_DEVICES];
    int ndevices;

    uint64_t idle_ns;             /* virtual time not credited to instructions (halts, stalls) */
    uint64_t vt_insn_ns;          /* virtual ns credited to instructions before vt_icount */
    uint64_t vt_icount;           /* cpu.icount when vt_rate_q16 last changed */
    uint64_t vt_rate_q16;         /* virtual ns per instruction since then, 16.16 fixed point */
    uint64_t host_base_ns;        /* host monotonic time at virtual time 0 (real-time mode) */
    uint32_t host_ns_per_kinsn;   /* measured host ns per 1000 instructions (slice sizing) */
    uint64_t measure_insns, measure_ns; /* instructions and host ns summed towards the next measurement */

    bool exit_requested;          /* a device asked the machine to stop */
    bool reset_requested;         /* a device asked for a system reset (port 0x92, 0xCF9, i8042) */
    int  exit_status;             /* ... with this process exit status */

    /* Firmware / direct kernel boot: runs after every reset, with the CPU in
     * its power-on state; returns 0, or -1 after printing why it failed. */
    int  (*boot)(struct machine *m, void *opaque);
    void *boot_opaque;

    /* Filled by the display and keyboard devices, read by frontends. */
    struct display display;
    struct input   input;
    struct speaker speaker;       /* filled by the PIT, drained by frontends/audio.c */

    /* Host-side work between slices (monitor, display refresh, input):
     * called at least every few ms of host time. */
    void (*poll_hook)(struct machine *m, void *opaque);
    void *poll_opaque;
    /* The host wait of a halt (real-time mode): wait at most ns of host
     * time, returning early when host input arrived (a network packet, a
     * socket), which may have raised an interrupt. NULL: nanosleep. */
    void (*idle_wait)(struct machine *m, void *opaque, uint64_t ns);
    void *idle_wait_opaque;

    /* Host stop request (set by a signal handler the frontend owns). */
    volatile sig_atomic_t *stop_signal;

    struct machine_stats stats;   /* the MMU's counters are in cpu.mmu_stats */
    bool mmu_cap_reported;        /* the shadow memory cap forced an eviction: logged once */

    /* --savevm-check: when the next check is due, and its reused buffer */
    uint64_t savestate_next_check;
    struct savestate_buf savestate_check_buf;
};

/* Returns NULL with a one-line reason in err if RAM cannot be allocated. */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);

/* Devices hand themselves over at creation. Returns 0, or -1 if full. */
int  machine_add_device(struct machine *m, const struct device_ops *ops, void *state);

/* Power cycle: devices, CPU, then the boot hook. Returns the hook's result. */
int  machine_reset(struct machine *m);
int  machine_run(struct machine *m);

/* Virtual time in ns (see above). */
uint64_t machine_now(const struct machine *m);

/* Called by devices: stop the run loop and exit with this status. */
void machine_request_exit(struct machine *m, int status);
/* Called by a device whose next event moved earlier than the deadline it
 * last reported (the guest reprogrammed a timer): the device's deadline
 * becomes new_deadline if that is earlier, and the CPU slice ends after
 * the current instruction so the run loop (and a HLT) sees it. */
void machine_timer_changed(struct machine *m, void *device_state, uint64_t new_deadline);
/* Called by devices: reset the whole machine (CPU, devices, boot hook) at
 * the end of the current instruction, as a PC's reset line does. */
void machine_request_reset(struct machine *m);
/* Carry out a requested reset now, if one is pending (the run loop does
 * after each slice; a frontend holding the machine stopped calls it so a
 * reset while stopped shows at once, as QEMU's does). Nonzero: the reset
 * failed (the boot hook could not load its images). */
int  machine_take_reset(struct machine *m);

/* -d logging: writes only if item is enabled. No newline is added. */
static inline bool machine_log_enabled(const struct machine *m, unsigned item)
{
    return m && (m->cfg.log_mask & item);
}
void machine_log(struct machine *m, unsigned item, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether -dfilter lets the code at guest address addr (an EIP) be logged:
 * [first, last] covers it, or [addr, addr + len - 1] meets a range. */
static inline bool machine_log_address(const struct machine *m, uint32_t addr, uint32_t len)
{
    if (!m || m->cfg.log_filter_count == 0)
        return true;
    uint64_t last = (uint64_t)addr + (len ? len - 1 : 0);
    for (unsigned i = 0; i < m->cfg.log_filter_count; i++)
        if (addr <= m->cfg.log_filter[i].last && last >= m->cfg.log_filter[i].first)
            return true;
    return false;
}

/* Snapshots (format: core/savestate.h). machine_save appends a whole
 * snapshot to out (the clock, the CPU, every device with a state table,
 * then guest RAM); it must run between slices (at an instruction
 * boundary). Returns 0, or -1 if host memory ran out.
 * machine_load checks the whole snapshot before changing anything (a
 * corrupt or mismatched one is rejected with a one-line reason in err and
 * the machine left as it was), then loads it and runs every post_load hook;
 * -1 from a post_load (inconsistent device state) leaves the machine in an
 * undefined state: reset it. Sections for devices this machine does not
 * have are skipped; a device of this machine missing from the snapshot is
 * an error. Host time pacing is not part of a snapshot: after loading into
 * another process, virtual time simply goes on from the loaded clock. */
int  machine_save(struct machine *m, struct savestate_buf *out);
int  machine_load(struct machine *m, const void *buf, size_t len, char *err, size_t errlen);
/* The MMU counters (cpu.mmu_stats), several lines in --stats layout, each
 * starting with two spaces and ending with a newline; truncated to len. */
void machine_format_mmu_stats(const struct machine *m, char *buf, size_t len);

/* One-line register summary (EIP, mode, CPL, EAX...) for reports and logs. */
void machine_describe_cpu(struct cpu *cpu, char *buf, size_t len);

#endif
