/* frontends/monitor.h: the human monitor, a command line beside the guest
 * (-monitor stdio), modelled on QEMU's HMP.
 *
 * Commands: help, info registers, info text (the VGA text screen), info
 * status, sendkey KEYS (QEMU names joined by '-', e.g. ctrl-alt-delete),
 * type TEXT (fox86: types a line of text, \n as Enter), system_reset, quit.
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

#include <stddef.h>

struct machine;
struct chardev;
struct monitor;

struct monitor *monitor_create(struct machine *m, struct chardev *cd);
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
