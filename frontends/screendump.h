/* frontends/screendump.h: the guest screen as a PNG file (the monitor's
 * screendump, QMP's screendump).
 *
 * The picture is the display's current frame (display_render: text modes
 * drawn with the guest's font, graphics modes as the card shows them), in
 * 8-bit RGB, the size the guest set (720x400 for 80x25 text, 640x480,
 * 1920x1080 ...). display_render is used rather than display_render_frame
 * so a screendump does not take the changed-row reports an SDL window
 * relies on.
 *
 * Usage:
 *   char err[256];
 *   if (screendump_png(&m->display, "shot.png", err, sizeof err) != 0) puts(err);
 */
#ifndef FOX86_SCREENDUMP_H
#define FOX86_SCREENDUMP_H

#include <stddef.h>
#include <stdint.h>

struct display;

/* Returns 0, or -1 with one line in err (no display, blanked, cannot write). */
int screendump_png(struct display *d, const char *path, char *err, size_t errlen);
/* The PNG writer alone: XRGB8888 pixels, stride in pixels. */
int screendump_write_png(const uint32_t *pixels, int width, int height, int stride_pixels,
                         const char *path, char *err, size_t errlen);

#endif
