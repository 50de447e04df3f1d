/* frontends/main.c: the fox86 program.
 *
 * Parses the command line, opens every file it names (so that each problem
 * is one "fox86: ..." line on stderr and exit status 1 before anything
 * runs), builds the board (RAM, COM1, the debug ports), boots the -kernel
 * through the multiboot loader and runs the machine.
 *
 * Exit status, as qemu-system-i386: 0 when the guest ends normally (here:
 * halts with nothing left to wake it), (v << 1) | 1 when it writes v to
 * isa-debug-exit, 1 on any error (bad command line, unreadable or invalid
 * kernel, triple fault with -no-reboot, stopped by a signal).
 *
 * The one global: the signal number that asked us to stop, written by the
 * signal handler and polled by the run loop between slices.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bios/multiboot.h"
#include "config.h"
#include "core/chardev.h"
#include "core/machine.h"
#include "devices/device.h"
#include "frontends/options.h"
#include "frontends/trace.h"

#define COM1_IOBASE 0x3F8

static volatile sig_atomic_t stop_signal;   /* see the file comment */

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

struct session {
    struct options opts;
    FILE *log_file;
    struct chardev *stdio;          /* shared by every backend that says "stdio" */
    struct chardev *serial;
    struct chardev *debugcon;
    struct multiboot_image *kernel;
    struct machine *machine;
    struct trace *trace;
};

/* Open a backend spec; all "stdio" users share one chardev. */
static int open_backend(struct session *s, const char *spec, struct chardev **out,
                        char *err, size_t errlen)
{
    if (strcmp(spec, "stdio") == 0 && s->stdio) {
        *out = s->stdio;
        return 0;
    }
    if (chardev_open_host(spec, out, err, errlen) != 0)
        return -1;
    if (strcmp(spec, "stdio") == 0)
        s->stdio = *out;
    return 0;
}

static void close_backend(struct session *s, struct chardev *cd)
{
    if (cd && cd != s->stdio)
        chardev_close(cd);
}

static void print_stats(const struct machine *m, double host_seconds)
{
    const struct cpu *cpu = &m->cpu;
    double virt = (double)machine_now(m) / 1e9;
    fprintf(stderr, "fox86 stats:\n");
    fprintf(stderr, "  instructions executed  %llu\n", (unsigned long long)cpu->icount);
    fprintf(stderr, "  exceptions taken       %llu\n", (unsigned long long)cpu->exceptions_taken);
    fprintf(stderr, "  virtual time           %.6f s (halted %.6f s)\n", virt,
            (double)m->stats.idle_ns / 1e9);
    fprintf(stderr, "  host time              %.3f s\n", host_seconds);
    if (host_seconds > 0)
        fprintf(stderr, "  speed                  %.1f MIPS\n",
                (double)cpu->icount / host_seconds / 1e6);
    fprintf(stderr, "  run-loop slices        %llu\n", (unsigned long long)m->stats.slices);
    fprintf(stderr, "  machine resets         %llu\n", (unsigned long long)m->stats.resets);
}

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything before the machine runs. Returns 0, or -1 with err set. */
static int session_setup(struct session *s, char *err, size_t errlen)
{
    const struct options *o = &s->opts;
    if (!o->kernel) {
        snprintf(err, errlen, "no -kernel given (booting from a BIOS and disks is not "
                 "supported yet; see --help)");
        return -1;
    }
    if (o->log_file && !(s->log_file = fopen(o->log_file, "w"))) {
        snprintf(err, errlen, "%s: cannot open log file: %s", o->log_file, strerror(errno));
        return -1;
    }
    if (s->log_file)
        setvbuf(s->log_file, NULL, _IOLBF, 0);
    s->kernel = multiboot_open(o->kernel, o->append, o->initrd, o->ram_size, err, errlen);
    if (!s->kernel)
        return -1;
    if (open_backend(s, o->serial, &s->serial, err, errlen) != 0)
        return -1;
    if (o->debugcon && open_backend(s, o->debugcon, &s->debugcon, err, errlen) != 0)
        return -1;

    struct machine_config cfg = {
        .ram_size = o->ram_size,
        .no_reboot = o->no_reboot,
        .log_mask = o->log_mask,
        .log_file = s->log_file,
    };
    s->machine = machine_create(&cfg, err, errlen);
    if (!s->machine)
        return -1;
    if (debugport_create(s->machine, s->debugcon, o->debug_exit, o->debug_exit_iobase,
                         o->debug_exit_iosize) != 0) {
        snprintf(err, errlen, "-device isa-debug-exit,iobase=0x%x,iosize=0x%x: ports already in use",
                 o->debug_exit_iobase, o->debug_exit_iosize);
        return -1;
    }
    if (uart16550_create(s->machine, COM1_IOBASE, NULL, s->serial) != 0) {
        snprintf(err, errlen, "cannot create COM1 at 0x%x: ports already in use", COM1_IOBASE);
        return -1;
    }
    s->machine->boot = multiboot_boot_hook;
    s->machine->boot_opaque = s->kernel;
    if (o->log_mask & (LOG_IN_ASM | LOG_INT)) {
        s->trace = trace_attach(s->machine, multiboot_symbols(s->kernel), err, errlen);
        if (!s->trace)
            return -1;
    }
    return 0;
}

static void session_teardown(struct session *s)
{
    trace_detach(s->trace);
    machine_destroy(s->machine);
    multiboot_free(s->kernel);
    close_backend(s, s->serial);
    close_backend(s, s->debugcon);
    chardev_close(s->stdio);
    if (s->log_file)
        fclose(s->log_file);
}

int main(int argc, char **argv)
{
    struct session s = { 0 };
    char err[512] = "";
    if (options_parse(argc, argv, &s.opts, err, sizeof(err)) != 0) {
        fprintf(stderr, "fox86: %s\n", err);
        return 1;
    }
    if (s.opts.show_help) {
        options_print_help(stdout);
        return 0;
    }
    if (s.opts.show_version) {
        printf("fox86 %s\n", FOX86_VERSION);
        return 0;
    }
    if (s.opts.show_log_items) {
        options_print_log_items(stdout);
        return 0;
    }
    if (session_setup(&s, err, sizeof(err)) != 0) {
        fprintf(stderr, "fox86: %s\n", err);
        session_teardown(&s);
        return 1;
    }

    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    s.machine->stop_signal = &stop_signal;

    double started = host_now();
    int status = machine_reset(s.machine) == 0 ? machine_run(s.machine) : 1;
    if (s.opts.stats)
        print_stats(s.machine, host_now() - started);
    session_teardown(&s);
    return status;
}
