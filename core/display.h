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
 *
 * A window that uploads only what changed (one such consumer per display:
 * each display_render_frame reports the rows changed since the previous
 * one, whatever display_render calls came in between):
 *   struct display_frame f;
 *   if (display_render_frame(&m->display, &f))
 *       for (int y = f.changed_first; y < f.changed_end; y++)
 *           if (display_row_changed(&f, y)) upload row y of f.pixels;
 *   display_invalidate(&m->display);   // window exposed: next frame reports every row
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

#define DISPLAY_MAX_HEIGHT 2048                    /* rows a display_frame can report */

struct display_frame {
    const uint32_t *pixels;                       /* XRGB8888 as render gives them */
    int width, height, stride_pixels;
    /* Rows that differ (or may differ) from the previous render_frame's
     * picture: bit y of changed[] for row y; [changed_first, changed_end)
     * is the smallest range holding them all (empty: nothing changed).
     * A new size or a picture that was blanked reports every row. */
    int changed_first, changed_end;
    uint64_t changed[DISPLAY_MAX_HEIGHT / 64];
};

struct display_ops {
    /* In a text mode: fill *text, return true. In graphics mode: false. */
    bool (*get_text)(void *opaque, struct display_text *text);
    /* The current picture (text modes rendered with the font in plane 2) as
     * XRGB8888 pixels owned by the device, valid until the next call; NULL
     * when the display is blanked or off. */
    const uint32_t *(*render)(void *opaque, int *width, int *height, int *stride_pixels);
    /* Optional: the same picture and the rows changed since the previous
     * render_frame call (struct display_frame); false when blanked. */
    bool (*render_frame)(void *opaque, struct display_frame *frame);
    /* Optional: the next render_frame reports every row. */
    void (*invalidate)(void *opaque);
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

/* The picture with its changed rows; a device without render_frame
 * reports every row as changed. */
static inline bool display_render_frame(struct display *d, struct display_frame *f)
{
    if (d->ops && d->ops->render_frame)
        return d->ops->render_frame(d->opaque, f);
    f->pixels = display_render(d, &f->width, &f->height, &f->stride_pixels);
    if (!f->pixels)
        return false;
    int h = f->height < DISPLAY_MAX_HEIGHT ? f->height : DISPLAY_MAX_HEIGHT;
    for (int i = 0; i < DISPLAY_MAX_HEIGHT / 64; i++)
        f->changed[i] = i * 64 + 64 <= h ? ~0ull : i * 64 < h ? (1ull << (h - i * 64)) - 1 : 0;
    f->changed_first = 0;
    f->changed_end = h;
    return true;
}

static inline bool display_row_changed(const struct display_frame *f, int y)
{
    return y >= 0 && y < DISPLAY_MAX_HEIGHT && ((f->changed[y / 64] >> (y % 64)) & 1);
}

static inline void display_invalidate(struct display *d)
{
    if (d->ops && d->ops->invalidate)
        d->ops->invalidate(d->opaque);
}

#endif
