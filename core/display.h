/* core/display.h: what a display device shows, for the frontends.
 *
 * The graphics card (devices/vga.c) fills struct machine's display with its
 * ops; frontends (SDL window, curses text display, the monitor, tests) only
 * read through it. Nothing here draws to the host.
 *
 * Usage:
 *   struct display_text t;
 *   if (display_get_text(&m->display, &t))       // in a text mode
 *       printf("%c", t.cells[0] & 0xFF);          // code page 437 byte
 *   int w, h, stride;
 *   const uint32_t *px = display_render(&m->display, &w, &h, &stride);
 */
#ifndef FOX86_DISPLAY_H
#define FOX86_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DISPLAY_TEXT_MAX_COLS 132
#define DISPLAY_TEXT_MAX_ROWS 60

struct display_text {
    int cols, rows;                               /* e.g. 80 x 25 */
    uint16_t cells[DISPLAY_TEXT_MAX_ROWS * DISPLAY_TEXT_MAX_COLS]; /* row-major, cols per row:
                                                     character (CP437) | attribute << 8 */
    int cursor_col, cursor_row;
    bool cursor_visible;
};

struct display_ops {
    /* In a text mode: fill *text, return true. In graphics mode: false. */
    bool (*get_text)(void *opaque, struct display_text *text);
    /* The current picture (text modes rendered with the font in plane 2) as
     * XRGB8888 pixels owned by the device, valid until the next call; NULL
     * when the display is blanked or off. */
    const uint32_t *(*render)(void *opaque, int *width, int *height, int *stride_pixels);
};

struct display {
    const struct display_ops *ops;                /* NULL: no display device */
    void *opaque;
};

static inline bool display_get_text(struct display *d, struct display_text *text)
{
    return d->ops && d->ops->get_text && d->ops->get_text(d->opaque, text);
}

static inline const uint32_t *display_render(struct display *d, int *w, int *h, int *stride)
{
    return d->ops && d->ops->render ? d->ops->render(d->opaque, w, h, stride) : 0;
}

#endif
