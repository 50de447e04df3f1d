/* frontends/display_text.c: the text-mode terminal display (see display_text.h). */
#include "display_text.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/display.h"
#include "core/input.h"
#include "core/machine.h"
#include "monitor.h"

#define REFRESH_NS 40000000ull

enum { KEY_LCTRL = 0x1D, KEY_ENTER = 0x1C, KEY_BACKSPACE = 0x0E, KEY_ESC = 0x01 };

struct text_display {
    struct machine *machine;
    bool termios_saved;
    struct termios saved;
    uint64_t last_refresh;
    bool shown_graphics;             /* the "graphics mode" notice is on screen */
    bool ctrl_a;                     /* Ctrl-A seen: the next key is a command */
    struct display_text shown;       /* what the terminal shows now */
    struct display_text now;
    char out[65536];
    size_t out_len;
};

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void emit(struct text_display *td, const char *s, size_t n)
{
    if (td->out_len + n > sizeof(td->out)) {
        ssize_t w = write(STDOUT_FILENO, td->out, td->out_len);
        (void)w;
        td->out_len = 0;
    }
    memcpy(td->out + td->out_len, s, n);
    td->out_len += n;
}

static void emits(struct text_display *td, const char *s)
{
    emit(td, s, strlen(s));
}

static void flush_out(struct text_display *td)
{
    size_t off = 0;
    while (off < td->out_len) {
        ssize_t w = write(STDOUT_FILENO, td->out + off, td->out_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    td->out_len = 0;
}

struct text_display *text_display_create(struct machine *m, char *err, size_t errlen)
{
    struct text_display *td = calloc(1, sizeof(*td));
    if (!td) {
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    td->machine = m;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &td->saved) == 0) {
        struct termios raw = td->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
        raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        td->termios_saved = true;
    }
    td->shown.rows = -1;                      /* nothing drawn yet */
    emits(td, "\033[2J\033[H");
    flush_out(td);
    return td;
}

void text_display_free(struct text_display *td)
{
    if (!td)
        return;
    emits(td, "\033[0m\033[?25h\n");
    flush_out(td);
    if (td->termios_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &td->saved);
    free(td);
}

/* VGA colour numbers to ANSI ones (VGA: blue is 1, ANSI: red is 1). */
static const int vga_to_ansi[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };

static void redraw(struct text_display *td)
{
    struct display_text *t = &td->now;
    bool full = td->shown.rows != t->rows || td->shown.cols != t->cols;
    if (full)
        emits(td, "\033[0m\033[2J");
    int last_attr = -1;
    for (int row = 0; row < t->rows; row++) {
        const uint16_t *cells = &t->cells[row * t->cols];
        if (!full && memcmp(cells, &td->shown.cells[row * t->cols],
                            (size_t)t->cols * sizeof(uint16_t)) == 0)
            continue;
        char seq[32];
        snprintf(seq, sizeof(seq), "\033[%d;1H", row + 1);
        emits(td, seq);
        for (int col = 0; col < t->cols; col++) {
            int attr = cells[col] >> 8;
            if (attr != last_attr) {
                int fg = attr & 15, bg = (attr >> 4) & 7;
                snprintf(seq, sizeof(seq), "\033[0;%d;%dm", (fg & 8 ? 90 : 30) + vga_to_ansi[fg & 7],
                         40 + vga_to_ansi[bg]);
                emits(td, seq);
                last_attr = attr;
            }
            emits(td, cp437_to_utf8((unsigned char)cells[col]));
        }
    }
    char seq[48];
    snprintf(seq, sizeof(seq), "\033[0m\033[%d;%dH\033[?25%c", t->cursor_row + 1,
             t->cursor_col + 1, t->cursor_visible ? 'h' : 'l');
    emits(td, seq);
    td->shown = *t;
}

static void press(struct text_display *td, uint16_t key, bool ctrl)
{
    struct input *in = &td->machine->input;
    if (ctrl)
        input_key(in, KEY_LCTRL, true);
    input_key(in, key, true);
    input_key(in, key, false);
    if (ctrl)
        input_key(in, KEY_LCTRL, false);
}

/* ESC [ ... sequences of xterm-like terminals. */
static uint16_t escape_key(const char *seq)
{
    static const struct { const char *seq; uint16_t key; } keys[] = {
        { "[A", 0xE048 }, { "[B", 0xE050 }, { "[C", 0xE04D }, { "[D", 0xE04B },
        { "[H", 0xE047 }, { "[F", 0xE04F }, { "[1~", 0xE047 }, { "[4~", 0xE04F },
        { "[2~", 0xE052 }, { "[3~", 0xE053 }, { "[5~", 0xE049 }, { "[6~", 0xE051 },
        { "OP", 0x3B }, { "OQ", 0x3C }, { "OR", 0x3D }, { "OS", 0x3E },
        { "[15~", 0x3F }, { "[17~", 0x40 }, { "[18~", 0x41 }, { "[19~", 0x42 },
        { "[20~", 0x43 }, { "[21~", 0x44 }, { "[23~", 0x57 }, { "[24~", 0x58 },
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(seq, keys[i].seq) == 0)
            return keys[i].key;
    return 0;
}

static void read_keys(struct text_display *td)
{
    char buf[64];
    struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0)
        return;
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf) - 1);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (td->ctrl_a) {
            td->ctrl_a = false;
            if (c == 'x') {
                machine_request_exit(td->machine, 0);
                return;
            }
            if (c == 1)
                press(td, 0x1E, true);
            continue;
        }
        if (c == 1) {
            td->ctrl_a = true;
        } else if (c == 0x1B && i + 1 < n) {   /* an escape sequence in this read */
            char seq[8];
            int len = 0;
            i++;
            while (i < n && len < 7) {
                seq[len++] = buf[i];
                if (len > 1 && ((buf[i] >= 'A' && buf[i] <= 'Z') || buf[i] == '~'))
                    break;
                i++;
            }
            seq[len] = '\0';
            uint16_t key = escape_key(seq);
            if (key)
                press(td, key, false);
        } else if (c == 0x1B) {
            press(td, KEY_ESC, false);
        } else if (c == '\r' || c == '\n') {
            press(td, KEY_ENTER, false);
        } else if (c == 0x7F || c == 0x08) {
            press(td, KEY_BACKSPACE, false);
        } else if (c < 0x20 && c != '\t') {   /* Ctrl+letter */
            bool shift;
            uint16_t key = input_ascii_to_key((char)('a' + c - 1), &shift);
            if (key)
                press(td, key, true);
        } else {
            char text[2] = { (char)c, 0 };
            input_type_text(&td->machine->input, text);
        }
    }
}

void text_display_poll(struct text_display *td)
{
    read_keys(td);
    uint64_t now = host_ns();
    if (now - td->last_refresh < REFRESH_NS)
        return;
    td->last_refresh = now;
    if (!display_get_text(&td->machine->display, &td->now)) {
        if (!td->shown_graphics) {
            emits(td, "\033[0m\033[2J\033[H[fox86: the guest is in a graphics mode]");
            td->shown.rows = -1;
            td->shown_graphics = true;
            flush_out(td);
        }
        return;
    }
    td->shown_graphics = false;
    if (td->shown.rows == td->now.rows && td->shown.cols == td->now.cols
        && td->shown.cursor_col == td->now.cursor_col && td->shown.cursor_row == td->now.cursor_row
        && td->shown.cursor_visible == td->now.cursor_visible
        && memcmp(td->shown.cells, td->now.cells,
                  (size_t)td->now.rows * (size_t)td->now.cols * sizeof(uint16_t)) == 0)
        return;
    redraw(td);
    flush_out(td);
}
