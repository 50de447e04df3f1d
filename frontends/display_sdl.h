/* frontends/display_sdl.h: -display sdl, the SDL2 window: the VGA picture
 * (text, VGA graphics and Bochs VBE modes, as core/display.h renders them)
 * and the host keyboard and mouse on the guest's PS/2 devices.
 *
 * The picture: the window's texture is updated with the rows the display
 * reports changed (display_render_frame) and presented at most 60 times a
 * second, only when something changed; scaled to the window with the
 * guest's pixel aspect kept (black bars fill the rest). The window follows
 * the guest mode's size (doubled for modes narrower than 640 pixels, shrunk
 * to fit the host screen, centred when it would not fit where it is).
 *
 * Input: every key of a 105-key keyboard (sdl_display_key_code) goes to the
 * guest as a core/input.h key code, SDL's key repeats as repeated makes (the
 * host does the typematic repeat); keys held when the window loses focus are
 * released. Hotkeys (Ctrl+Alt held; the keys are not sent): G grabs or
 * releases the pointer, F toggles full screen. A click in the window grabs.
 * While grabbed, relative motion, the three buttons and the wheel go to the
 * PS/2 mouse. The title says "fox86", the guest speed in MIPS (from the
 * CPU's instruction count, updated each second) and the grab state.
 * Closing the window ends fox86 with status 0.
 *
 * Nothing here blocks: sdl_display_poll runs from the machine's poll hook
 * between CPU slices (the machine's halt sleeps bound how often it runs
 * when the guest idles) and does its work at most every few milliseconds.
 *
 * Usage:
 *   if (!sdl_display_host_has_display()) ... fall back or fail;
 *   struct sdl_display *sd = sdl_display_create(m, full_screen, err, sizeof err);
 *   ... in the poll hook: sdl_display_poll(sd);
 *   sdl_display_free(sd);
 */
#ifndef FOX86_DISPLAY_SDL_H
#define FOX86_DISPLAY_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct sdl_display;

/* DISPLAY or WAYLAND_DISPLAY is set (SDL may still fail to open it). */
bool sdl_display_host_has_display(void);

/* Opens the window; NULL with err set ("SDL: ...") when SDL cannot. */
struct sdl_display *sdl_display_create(struct machine *m, bool full_screen,
                                       char *err, size_t errlen);
void sdl_display_poll(struct sdl_display *sd);
void sdl_display_free(struct sdl_display *sd);

/* An SDL_Scancode to the core/input.h key code (set-1 make code, 0xE0xx for
 * extended keys, INPUT_KEY_PAUSE); 0 for keys a PC keyboard lacks. */
uint16_t sdl_display_key_code(int sdl_scancode);

#endif
