/* frontends/screendump.c: PNG screenshots with libpng (see screendump.h). */
#include "screendump.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/display.h"

int screendump_write_png(const uint32_t *pixels, int width, int height, int stride_pixels,
                         const char *path, char *err, size_t errlen)
{
    if (width <= 0 || height <= 0 || stride_pixels < width) {
        snprintf(err, errlen, "no picture to save (%dx%d)", width, height);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    uint8_t *row = malloc((size_t)width * 3);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!row || !png || !info) {
        snprintf(err, errlen, "out of host memory");
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(row);
        fclose(f);
        return -1;
    }
    /* libpng reports errors by longjmp; everything it needs to undo is
     * reachable from here (volatile: not kept in registers across it). */
    uint8_t *volatile row_kept = row;
    if (setjmp(png_jmpbuf(png))) {
        snprintf(err, errlen, "%s: cannot write the PNG", path);
        png_destroy_write_struct(&png, &info);
        free(row_kept);
        fclose(f);
        remove(path);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        const uint32_t *src = pixels + (size_t)y * (size_t)stride_pixels;
        for (int x = 0; x < width; x++) {
            row[3 * x + 0] = (uint8_t)(src[x] >> 16);
            row[3 * x + 1] = (uint8_t)(src[x] >> 8);
            row[3 * x + 2] = (uint8_t)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int screendump_png(struct display *d, const char *path, char *err, size_t errlen)
{
    if (!d->ops) {
        snprintf(err, errlen, "no display device (-vga none)");
        return -1;
    }
    int w = 0, h = 0, stride = 0;
    const uint32_t *px = display_render(d, &w, &h, &stride);
    if (!px) {
        snprintf(err, errlen, "the display is blanked or off: nothing to save");
        return -1;
    }
    return screendump_write_png(px, w, h, stride, path, err, errlen);
}
