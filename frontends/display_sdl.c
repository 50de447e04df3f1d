/* frontends/display_sdl.c: the SDL2 window display (see display_sdl.h). */
#include "display_sdl.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/display.h"
#include "core/input.h"
#include "core/machine.h"
#include "frontends/screendump.h"

#define EVENT_PERIOD_NS 16000000ull         /* host events read at most every 16 ms */
#define FRAME_PERIOD_NS 16666667ull         /* pictures at most 60 a second */
#define TITLE_PERIOD_NS 1000000000ull       /* the MIPS figure: once a second */
#define SMALL_MODE_WIDTH 640                /* narrower modes start at twice the size */
/* Key events reach the keyboard at most one per 10 ms (as QEMU's input
 * layer paces them): the PS/2 keyboard holds 16 bytes and sends one per
 * ms, so a burst from the host (X delivers events in batches) would
 * overflow it; Print Screen and Pause alone are 18 bytes in set 2. */
#define KEY_SPACING_NS 10000000ull
#define KEY_QUEUE_SIZE 256                  /* pending key events; more are dropped */

struct sdl_display {
    struct machine *machine;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;                   /* the guest picture, tex_w x tex_h */
    int tex_w, tex_h;
    bool blank;                             /* the guest shows no picture (window black) */
    bool present_pending;                   /* the window needs presenting (exposed, resized) */
    bool grabbed;
    bool full_screen;
    unsigned buttons;                       /* INPUT_BUTTON_* held, as the guest saw them */
    bool key_held[SDL_NUM_SCANCODES];       /* keys pressed for the guest and not released */
    struct { uint16_t code; bool down; } key_queue[KEY_QUEUE_SIZE];  /* not yet sent */
    unsigned key_head, key_count;
    uint64_t last_key_ns;
    uint64_t last_events_ns, last_frame_ns, last_title_ns;
    uint64_t title_icount;                  /* cpu icount at last_title_ns */
    double mips;
};

/* SDL scancodes (USB HID usages) to set-1 make codes. The 105 keys of an
 * ISO PC keyboard come first, then the keys some keyboards add. */
static const uint16_t key_codes[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_ESCAPE] = 0x01,
    [SDL_SCANCODE_F1] = 0x3B, [SDL_SCANCODE_F2] = 0x3C, [SDL_SCANCODE_F3] = 0x3D,
    [SDL_SCANCODE_F4] = 0x3E, [SDL_SCANCODE_F5] = 0x3F, [SDL_SCANCODE_F6] = 0x40,
    [SDL_SCANCODE_F7] = 0x41, [SDL_SCANCODE_F8] = 0x42, [SDL_SCANCODE_F9] = 0x43,
    [SDL_SCANCODE_F10] = 0x44, [SDL_SCANCODE_F11] = 0x57, [SDL_SCANCODE_F12] = 0x58,
    [SDL_SCANCODE_PRINTSCREEN] = 0xE037, [SDL_SCANCODE_SCROLLLOCK] = 0x46,
    [SDL_SCANCODE_PAUSE] = INPUT_KEY_PAUSE,

    [SDL_SCANCODE_GRAVE] = 0x29,
    [SDL_SCANCODE_1] = 0x02, [SDL_SCANCODE_2] = 0x03, [SDL_SCANCODE_3] = 0x04,
    [SDL_SCANCODE_4] = 0x05, [SDL_SCANCODE_5] = 0x06, [SDL_SCANCODE_6] = 0x07,
    [SDL_SCANCODE_7] = 0x08, [SDL_SCANCODE_8] = 0x09, [SDL_SCANCODE_9] = 0x0A,
    [SDL_SCANCODE_0] = 0x0B, [SDL_SCANCODE_MINUS] = 0x0C, [SDL_SCANCODE_EQUALS] = 0x0D,
    [SDL_SCANCODE_BACKSPACE] = 0x0E,

    [SDL_SCANCODE_TAB] = 0x0F,
    [SDL_SCANCODE_Q] = 0x10, [SDL_SCANCODE_W] = 0x11, [SDL_SCANCODE_E] = 0x12,
    [SDL_SCANCODE_R] = 0x13, [SDL_SCANCODE_T] = 0x14, [SDL_SCANCODE_Y] = 0x15,
    [SDL_SCANCODE_U] = 0x16, [SDL_SCANCODE_I] = 0x17, [SDL_SCANCODE_O] = 0x18,
    [SDL_SCANCODE_P] = 0x19, [SDL_SCANCODE_LEFTBRACKET] = 0x1A,
    [SDL_SCANCODE_RIGHTBRACKET] = 0x1B, [SDL_SCANCODE_RETURN] = 0x1C,

    [SDL_SCANCODE_CAPSLOCK] = 0x3A,
    [SDL_SCANCODE_A] = 0x1E, [SDL_SCANCODE_S] = 0x1F, [SDL_SCANCODE_D] = 0x20,
    [SDL_SCANCODE_F] = 0x21, [SDL_SCANCODE_G] = 0x22, [SDL_SCANCODE_H] = 0x23,
    [SDL_SCANCODE_J] = 0x24, [SDL_SCANCODE_K] = 0x25, [SDL_SCANCODE_L] = 0x26,
    [SDL_SCANCODE_SEMICOLON] = 0x27, [SDL_SCANCODE_APOSTROPHE] = 0x28,
    [SDL_SCANCODE_BACKSLASH] = 0x2B,      /* ANSI backslash, ISO "#~" beside Enter */

    [SDL_SCANCODE_LSHIFT] = 0x2A, [SDL_SCANCODE_NONUSBACKSLASH] = 0x56,
    [SDL_SCANCODE_Z] = 0x2C, [SDL_SCANCODE_X] = 0x2D, [SDL_SCANCODE_C] = 0x2E,
    [SDL_SCANCODE_V] = 0x2F, [SDL_SCANCODE_B] = 0x30, [SDL_SCANCODE_N] = 0x31,
    [SDL_SCANCODE_M] = 0x32, [SDL_SCANCODE_COMMA] = 0x33, [SDL_SCANCODE_PERIOD] = 0x34,
    [SDL_SCANCODE_SLASH] = 0x35, [SDL_SCANCODE_RSHIFT] = 0x36,

    [SDL_SCANCODE_LCTRL] = 0x1D, [SDL_SCANCODE_LGUI] = 0xE05B, [SDL_SCANCODE_LALT] = 0x38,
    [SDL_SCANCODE_SPACE] = 0x39, [SDL_SCANCODE_RALT] = 0xE038, [SDL_SCANCODE_RGUI] = 0xE05C,
    [SDL_SCANCODE_APPLICATION] = 0xE05D, [SDL_SCANCODE_RCTRL] = 0xE01D,

    [SDL_SCANCODE_INSERT] = 0xE052, [SDL_SCANCODE_HOME] = 0xE047,
    [SDL_SCANCODE_PAGEUP] = 0xE049, [SDL_SCANCODE_DELETE] = 0xE053,
    [SDL_SCANCODE_END] = 0xE04F, [SDL_SCANCODE_PAGEDOWN] = 0xE051,
    [SDL_SCANCODE_UP] = 0xE048, [SDL_SCANCODE_LEFT] = 0xE04B,
    [SDL_SCANCODE_DOWN] = 0xE050, [SDL_SCANCODE_RIGHT] = 0xE04D,

    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x45, [SDL_SCANCODE_KP_DIVIDE] = 0xE035,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x37, [SDL_SCANCODE_KP_MINUS] = 0x4A,
    [SDL_SCANCODE_KP_7] = 0x47, [SDL_SCANCODE_KP_8] = 0x48, [SDL_SCANCODE_KP_9] = 0x49,
    [SDL_SCANCODE_KP_PLUS] = 0x4E,
    [SDL_SCANCODE_KP_4] = 0x4B, [SDL_SCANCODE_KP_5] = 0x4C, [SDL_SCANCODE_KP_6] = 0x4D,
    [SDL_SCANCODE_KP_1] = 0x4F, [SDL_SCANCODE_KP_2] = 0x50, [SDL_SCANCODE_KP_3] = 0x51,
    [SDL_SCANCODE_KP_ENTER] = 0xE01C, [SDL_SCANCODE_KP_0] = 0x52,
    [SDL_SCANCODE_KP_PERIOD] = 0x53,

    /* beyond the 105 keys */
    [SDL_SCANCODE_NONUSHASH] = 0x2B,      /* what some hosts call the ISO "#~" key */
    [SDL_SCANCODE_SYSREQ] = 0x54, [SDL_SCANCODE_KP_EQUALS] = 0x59,
    [SDL_SCANCODE_KP_COMMA] = 0x7E,
    [SDL_SCANCODE_INTERNATIONAL1] = 0x73, [SDL_SCANCODE_INTERNATIONAL2] = 0x70,
    [SDL_SCANCODE_INTERNATIONAL3] = 0x7D, [SDL_SCANCODE_INTERNATIONAL4] = 0x79,
    [SDL_SCANCODE_INTERNATIONAL5] = 0x7B,
    [SDL_SCANCODE_MUTE] = 0xE020, [SDL_SCANCODE_VOLUMEDOWN] = 0xE02E,
    [SDL_SCANCODE_VOLUMEUP] = 0xE030, [SDL_SCANCODE_AUDIONEXT] = 0xE019,
    [SDL_SCANCODE_AUDIOPREV] = 0xE010, [SDL_SCANCODE_AUDIOSTOP] = 0xE024,
    [SDL_SCANCODE_AUDIOPLAY] = 0xE022, [SDL_SCANCODE_POWER] = 0xE05E,
    [SDL_SCANCODE_SLEEP] = 0xE05F,
};

uint16_t sdl_display_key_code(int sdl_scancode)
{
    if (sdl_scancode < 0 || sdl_scancode >= SDL_NUM_SCANCODES)
        return 0;
    return key_codes[sdl_scancode];
}

bool sdl_display_host_has_display(void)
{
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wl && *wl);
}

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void update_title(struct sdl_display *sd)
{
    char title[128];
    int n = snprintf(title, sizeof title, "fox86 - %.1f MIPS", sd->mips);
    if (sd->grabbed)
        snprintf(title + n, sizeof title - (size_t)n, " - Ctrl+Alt+G releases the pointer");
    SDL_SetWindowTitle(sd->window, title);
}

static void set_grab(struct sdl_display *sd, bool grab)
{
    if (sd->grabbed == grab)
        return;
    sd->grabbed = grab;
    SDL_SetWindowGrab(sd->window, grab ? SDL_TRUE : SDL_FALSE);
    SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE);
    if (!grab && sd->buttons) {             /* nothing stays pressed in the guest */
        sd->buttons = 0;
        input_mouse(&sd->machine->input, 0, 0, 0, 0);
    }
    update_title(sd);
}

static void set_full_screen(struct sdl_display *sd, bool on)
{
    sd->full_screen = on;
    SDL_SetWindowFullscreen(sd->window, on ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    sd->present_pending = true;
}

static void queue_key(struct sdl_display *sd, uint16_t code, bool down)
{
    if (sd->key_count == KEY_QUEUE_SIZE)    /* the guest reads no keys: drop */
        return;
    unsigned slot = (sd->key_head + sd->key_count++) % KEY_QUEUE_SIZE;
    sd->key_queue[slot].code = code;
    sd->key_queue[slot].down = down;
}

/* The next queued key event, if the previous one is old enough. */
static void send_queued_key(struct sdl_display *sd, uint64_t now)
{
    if (!sd->key_count || now - sd->last_key_ns < KEY_SPACING_NS)
        return;
    input_key(&sd->machine->input, sd->key_queue[sd->key_head].code,
              sd->key_queue[sd->key_head].down);
    sd->key_head = (sd->key_head + 1) % KEY_QUEUE_SIZE;
    sd->key_count--;
    sd->last_key_ns = now;
}

/* Every key the guest holds is released (the window lost the keyboard). */
static void release_keys(struct sdl_display *sd)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
        if (sd->key_held[sc]) {
            sd->key_held[sc] = false;
            queue_key(sd, key_codes[sc], false);
        }
    }
}

/* Ctrl+Alt+S: the guest screen as fox86-YYYYMMDD-HHMMSS[-N].png in the
 * current directory (the same picture as the monitor's screendump). */
static void save_screenshot(struct sdl_display *sd)
{
    char base[64], path[96], err[256];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(base, sizeof base, "fox86-%Y%m%d-%H%M%S", &tm);
    snprintf(path, sizeof path, "%s.png", base);
    for (int n = 2; n < 100; n++) {          /* never overwrite an earlier one */
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        fclose(f);
        snprintf(path, sizeof path, "%s-%d.png", base, n);
    }
    if (screendump_png(&sd->machine->display, path, err, sizeof err) == 0)
        fprintf(stderr, "fox86: screenshot saved to %s\n", path);
    else
        fprintf(stderr, "fox86: screenshot: %s\n", err);
}

static void on_key(struct sdl_display *sd, const SDL_KeyboardEvent *ev)
{
    SDL_Scancode sc = ev->keysym.scancode;
    if (sc < 0 || sc >= SDL_NUM_SCANCODES || !key_codes[sc])
        return;
    bool down = ev->type == SDL_KEYDOWN;
    /* the modifiers as the guest sees them held, not SDL's modifier state:
     * that follows the host layout's keysyms, which need not say Alt */
    bool ctrl = sd->key_held[SDL_SCANCODE_LCTRL] || sd->key_held[SDL_SCANCODE_RCTRL];
    bool alt = sd->key_held[SDL_SCANCODE_LALT] || sd->key_held[SDL_SCANCODE_RALT];
    if (down && ctrl && alt && (sc == SDL_SCANCODE_G || sc == SDL_SCANCODE_F || sc == SDL_SCANCODE_S)) {
        if (!ev->repeat) {
            if (sc == SDL_SCANCODE_G)
                set_grab(sd, !sd->grabbed);
            else if (sc == SDL_SCANCODE_F)
                set_full_screen(sd, !sd->full_screen);
            else
                save_screenshot(sd);
        }
        return;                             /* the guest never sees the hotkey */
    }
    if (!down && !sd->key_held[sc])         /* its press went to a hotkey */
        return;
    sd->key_held[sc] = down;
    queue_key(sd, key_codes[sc], down);     /* repeats: makes again */
}

static unsigned button_bit(uint8_t sdl_button)
{
    switch (sdl_button) {
    case SDL_BUTTON_LEFT:   return INPUT_BUTTON_LEFT;
    case SDL_BUTTON_RIGHT:  return INPUT_BUTTON_RIGHT;
    case SDL_BUTTON_MIDDLE: return INPUT_BUTTON_MIDDLE;
    default:                return 0;
    }
}

static void on_event(struct sdl_display *sd, const SDL_Event *ev)
{
    struct input *in = &sd->machine->input;
    switch (ev->type) {
    case SDL_QUIT:
        machine_request_exit(sd->machine, 0);
        break;
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        on_key(sd, &ev->key);
        break;
    case SDL_MOUSEMOTION:
        if (sd->grabbed && (ev->motion.xrel || ev->motion.yrel))
            input_mouse(in, ev->motion.xrel, ev->motion.yrel, 0, sd->buttons);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        if (!sd->grabbed) {
            if (ev->type == SDL_MOUSEBUTTONDOWN && ev->button.button == SDL_BUTTON_LEFT)
                set_grab(sd, true);         /* the click only grabs */
            break;
        }
        if (ev->type == SDL_MOUSEBUTTONDOWN)
            sd->buttons |= button_bit(ev->button.button);
        else
            sd->buttons &= ~button_bit(ev->button.button);
        input_mouse(in, 0, 0, 0, sd->buttons);
        break;
    case SDL_MOUSEWHEEL:
        if (sd->grabbed && ev->wheel.y) {
            /* PS/2 wheels count towards the user as positive; SDL the other way */
            int dz = ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? ev->wheel.y : -ev->wheel.y;
            input_mouse(in, 0, 0, dz, sd->buttons);
        }
        break;
    case SDL_WINDOWEVENT:
        switch (ev->window.event) {
        case SDL_WINDOWEVENT_FOCUS_LOST:
            release_keys(sd);
            set_grab(sd, false);
            break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESTORED:
            sd->present_pending = true;
            break;
        default:
            break;
        }
        break;
    default:
        break;
    }
}

/* The guest picture scaled into the window, its aspect kept, centred. */
static void present(struct sdl_display *sd)
{
    SDL_SetRenderDrawColor(sd->renderer, 0, 0, 0, 255);
    SDL_RenderClear(sd->renderer);
    if (!sd->blank && sd->texture) {
        int out_w, out_h;
        SDL_GetRendererOutputSize(sd->renderer, &out_w, &out_h);
        SDL_Rect dst;
        if ((int64_t)out_w * sd->tex_h <= (int64_t)out_h * sd->tex_w) {
            dst.w = out_w;
            dst.h = (int)((int64_t)out_w * sd->tex_h / sd->tex_w);
        } else {
            dst.h = out_h;
            dst.w = (int)((int64_t)out_h * sd->tex_w / sd->tex_h);
        }
        dst.x = (out_w - dst.w) / 2;
        dst.y = (out_h - dst.h) / 2;
        SDL_RenderCopy(sd->renderer, sd->texture, NULL, &dst);
    }
    SDL_RenderPresent(sd->renderer);
    sd->present_pending = false;
}

/* A texture for a w x h picture; the window follows a new mode's size. */
static bool resize_texture(struct sdl_display *sd, int w, int h)
{
    if (sd->texture)
        SDL_DestroyTexture(sd->texture);
    sd->texture = SDL_CreateTexture(sd->renderer, SDL_PIXELFORMAT_RGB888,
                                    SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!sd->texture) {
        sd->tex_w = sd->tex_h = 0;
        return false;
    }
    sd->tex_w = w;
    sd->tex_h = h;
    if (!sd->full_screen
        && !(SDL_GetWindowFlags(sd->window) & (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN))) {
        int scale = w < SMALL_MODE_WIDTH ? 2 : 1;
        int win_w = w * scale, win_h = h * scale;
        /* never larger than the host screen (aspect kept), and all of it on
         * screen: a big mode's window moves to the centre */
        SDL_Rect usable;
        int display_index = SDL_GetWindowDisplayIndex(sd->window);
        if (display_index >= 0 && SDL_GetDisplayUsableBounds(display_index, &usable) == 0
            && usable.w > 0 && usable.h > 0) {
            if (win_w > usable.w) {
                win_h = (int)((int64_t)win_h * usable.w / win_w);
                win_w = usable.w;
            }
            if (win_h > usable.h) {
                win_w = (int)((int64_t)win_w * usable.h / win_h);
                win_h = usable.h;
            }
            SDL_SetWindowSize(sd->window, win_w, win_h);
            int x, y;
            SDL_GetWindowPosition(sd->window, &x, &y);
            if (x < usable.x || y < usable.y || x + win_w > usable.x + usable.w
                || y + win_h > usable.y + usable.h)
                SDL_SetWindowPosition(sd->window, SDL_WINDOWPOS_CENTERED_DISPLAY(display_index),
                                      SDL_WINDOWPOS_CENTERED_DISPLAY(display_index));
        } else {
            SDL_SetWindowSize(sd->window, win_w, win_h);
        }
    }
    return true;
}

/* Upload the rows that changed since the last frame; present if any did. */
static void refresh(struct sdl_display *sd)
{
    struct display_frame f;
    if (!display_render_frame(&sd->machine->display, &f)) {
        if (!sd->blank) {
            sd->blank = true;
            sd->present_pending = true;
        }
        if (sd->present_pending)
            present(sd);
        return;
    }
    bool changed = sd->blank || sd->present_pending;
    sd->blank = false;
    bool all_rows = false;
    if (f.width != sd->tex_w || f.height != sd->tex_h) {
        if (!resize_texture(sd, f.width, f.height))
            return;
        all_rows = changed = true;
    }
    int rows = f.height < DISPLAY_MAX_HEIGHT ? f.height : DISPLAY_MAX_HEIGHT;
    int first = all_rows ? 0 : f.changed_first, end = all_rows ? rows : f.changed_end;
    for (int y = first; y < end;) {
        if (!all_rows && !display_row_changed(&f, y)) {
            y++;
            continue;
        }
        int run_end = y + 1;             /* one upload per run of changed rows */
        while (run_end < end && (all_rows || display_row_changed(&f, run_end)))
            run_end++;
        SDL_Rect r = { 0, y, f.width, run_end - y };
        SDL_UpdateTexture(sd->texture, &r, f.pixels + (size_t)y * (size_t)f.stride_pixels,
                          f.stride_pixels * 4);
        changed = true;
        y = run_end;
    }
    if (changed)
        present(sd);
}

/* Whether renderer draws through OpenGL on a software rasteriser. Only
 * when the user left the renderer to SDL (SDL_RENDER_DRIVER picks one). */
static bool renderer_is_software_gl(SDL_Renderer *renderer)
{
    const char *hint = SDL_GetHint(SDL_HINT_RENDER_DRIVER);
    SDL_RendererInfo info;
    if ((hint && *hint) || SDL_GetRendererInfo(renderer, &info) != 0 ||
        strncmp(info.name, "opengl", 6) != 0)
        return false;
    /* the renderer's context is current after its creation */
    const unsigned char *(*get_string)(unsigned) =
        (const unsigned char *(*)(unsigned))SDL_GL_GetProcAddress("glGetString");
    const char *name = get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) : NULL;
    return name && (strstr(name, "llvmpipe") || strstr(name, "softpipe") ||
                    strstr(name, "Software Rasterizer") || strstr(name, "swrast"));
}

struct sdl_display *sdl_display_create(struct machine *m, bool full_screen,
                                       char *err, size_t errlen)
{
    /* fox86 handles SIGINT/SIGTERM itself (core/machine.h's stop_signal) */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* a guest's Alt+Tab and the like are the guest's while grabbed */
    SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
    /* Only the drivers of the display the environment names (SDL_VIDEODRIVER
     * still wins): left alone, SDL would fall back to its invisible
     * "offscreen" driver when the X server cannot be reached, and probing
     * Wayland without one prints a libwayland error line. */
    const char *wl = getenv("WAYLAND_DISPLAY");
    SDL_SetHint(SDL_HINT_VIDEODRIVER, wl && *wl ? "wayland,x11" : "x11");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        return NULL;
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    if (!driver || strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0) {
        snprintf(err, errlen, "SDL: no visible video driver (got %s)", driver ? driver : "none");
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        return NULL;
    }
    struct sdl_display *sd = calloc(1, sizeof *sd);
    if (!sd) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    sd->machine = m;
    /* full screen from the start is a creation flag: switching a mapped
     * window needs a window manager's help */
    sd->full_screen = full_screen;
    sd->window = SDL_CreateWindow("fox86", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
                                  640, 480, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI
                                  | (full_screen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0));
    if (sd->window)
        sd->renderer = SDL_CreateRenderer(sd->window, -1, 0);   /* no vsync: never blocks */
    if (sd->renderer && renderer_is_software_gl(sd->renderer)) {
        /* OpenGL without a GPU (Mesa's llvmpipe, as under Xvfb or in a VM)
         * rasterises on worker threads: SDL's own software renderer does
         * the same copy for a fraction of the CPU time (an idle guest's
         * cursor blink cost more than the guest's own timer ticks). */
        SDL_DestroyRenderer(sd->renderer);
        /* (and its window surface X11's own, not a GL texture again) */
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        sd->renderer = SDL_CreateRenderer(sd->window, -1, SDL_RENDERER_SOFTWARE);
    }
    if (!sd->renderer) {
        snprintf(err, errlen, "SDL: %s", SDL_GetError());
        sdl_display_free(sd);
        return NULL;
    }
    sd->blank = true;
    sd->present_pending = true;
    sd->last_title_ns = host_ns();
    sd->title_icount = m->cpu.icount;
    update_title(sd);
    return sd;
}

void sdl_display_poll(struct sdl_display *sd)
{
    uint64_t now = host_ns();
    if (now - sd->last_events_ns < EVENT_PERIOD_NS)
        return;
    sd->last_events_ns = now;
    SDL_Event ev;
    while (SDL_PollEvent(&ev))
        on_event(sd, &ev);
    send_queued_key(sd, now);
    if (now - sd->last_frame_ns >= FRAME_PERIOD_NS) {
        sd->last_frame_ns = now;
        refresh(sd);
    }
    if (now - sd->last_title_ns >= TITLE_PERIOD_NS) {
        uint64_t icount = sd->machine->cpu.icount;
        sd->mips = (double)(icount - sd->title_icount) * 1e3 / (double)(now - sd->last_title_ns);
        sd->title_icount = icount;
        sd->last_title_ns = now;
        update_title(sd);
    }
}

void sdl_display_free(struct sdl_display *sd)
{
    if (!sd)
        return;
    if (sd->texture)
        SDL_DestroyTexture(sd->texture);
    if (sd->renderer)
        SDL_DestroyRenderer(sd->renderer);
    if (sd->window)
        SDL_DestroyWindow(sd->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(sd);
}
