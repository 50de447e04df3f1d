/* frontends/monitor.h: the human monitor, a command line beside the guest
 * (-monitor stdio), modelled on QEMU's HMP.
 *
 * Commands: help, info registers, info text (the VGA text screen), info
 * status, info cpus, info pci, info mtree, info stats (the --stats text),
 * x/FMT ADDR and xp/FMT ADDR (QEMU's memory dumps; x/Ni disassembles with
 * Capstone, naming guest symbols when a kernel ELF gave them), stop, cont,
 * screendump FILE.png (screendump.h),
 * sendkey KEYS (QEMU names joined by '-', e.g. ctrl-alt-delete),
 * type TEXT (fox86: types a line of text, \n as Enter), system_reset, quit.
 * Backends: stdio (echoes what is typed: the terminal is raw), or a socket
 * (chardev_socket.h). A line longer than MONITOR_LINE_MAX - 1 characters
 * gets one error reply and is discarded.
 * The monitor reads its backend without blocking from the machine's poll
 * hook and never stops the guest while waiting for input.
 *
 * Usage:
 *   struct monitor *mon = monitor_create(m, chardev);
 *   ... in the poll hook: monitor_poll(mon);
 *   monitor_free(mon);
 */
#ifndef FOX86_MONITOR_H
#define FOX86_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

struct machine;
struct chardev;
struct monitor;

struct guest_symbols;

/* State the monitors (human and QMP) of one machine share; the frontend
 * owns it. While stopped is set the frontend keeps polling the monitors
 * and does not run the CPU. */
struct monitor_shared {
    const struct guest_symbols *syms;   /* kernel ELF symbols for x/i, or NULL */
    double host_started;                /* monitor_host_now() when the run began */
    bool stopped;                       /* "stop" (until "cont") */
    unsigned stop_changes;              /* transitions of stopped, for QMP's STOP/RESUME events */
};
/* stop or cont: sets shared->stopped, counting real transitions. */
void monitor_set_stopped(struct monitor_shared *shared, bool stopped);
/* system_reset (monitor and QMP): the machine resets at the end of the
 * current slice, or at once while stopped (as QEMU's: `info registers`
 * then shows the reset state; cont starts from it). */
void monitor_system_reset(struct monitor_shared *shared, struct machine *m);

/* cd may be NULL: a monitor only for monitor_execute_capture (QMP). */
struct monitor *monitor_create(struct machine *m, struct chardev *cd);
void monitor_set_shared(struct monitor *mon, struct monitor_shared *shared);
/* Run one command, returning its output text (malloc'd; NULL if out of memory). */
char *monitor_execute_capture(struct monitor *mon, const char *line);
/* The --stats text (several lines) for host_seconds of running. */
size_t monitor_format_stats(const struct machine *m, double host_seconds, char *buf, size_t len);
double monitor_host_now(void);
void monitor_poll(struct monitor *mon);
/* Run one command line (without newline); output goes to the backend. */
void monitor_execute(struct monitor *mon, const char *line);
void monitor_free(struct monitor *mon);
/* Socket backends (chardev_socket_set_notify): a new client gets the
 * greeting and a prompt; a client that left takes its partial line along. */
void monitor_greet(void *mon);
void monitor_client_gone(void *mon);

/* The text screen as UTF-8 lines (CP437 translated), for the monitor, the
 * curses display and tests. Returns the bytes written (NUL-terminated,
 * truncated to len), or 0 in graphics mode / without a display. */
struct display;
size_t monitor_format_text_screen(struct display *d, char *buf, size_t len);
/* UTF-8 for one CP437 byte (at most 3 bytes + NUL). */
const char *cp437_to_utf8(unsigned char c);

#endif
