/* frontends/display_text.h: -display curses, the VGA text screen in the
 * terminal (ANSI escape sequences and UTF-8; no curses library needed), and
 * the terminal's keys typed on the guest's PS/2 keyboard.
 *
 * The screen is redrawn from the VGA's text cells (core/display.h) at most
 * every 40 ms of host time when something changed. Keys: printable
 * characters, Enter, Backspace, Tab, Esc, arrows, Home/End/PgUp/PgDn/Ins/
 * Del, F1-F12 and Ctrl+letter. Ctrl-A x quits fox86, Ctrl-A Ctrl-A sends
 * Ctrl-A. In a graphics mode the terminal says so instead.
 *
 * Usage:
 *   struct text_display *td = text_display_create(m, err, sizeof err);
 *   ... in the poll hook: text_display_poll(td);
 *   text_display_free(td);   // restores the terminal
 */
#ifndef FOX86_DISPLAY_TEXT_H
#define FOX86_DISPLAY_TEXT_H

#include <stddef.h>

struct machine;
struct text_display;

struct text_display *text_display_create(struct machine *m, char *err, size_t errlen);
void text_display_poll(struct text_display *td);
void text_display_free(struct text_display *td);

#endif
