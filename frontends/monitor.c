/* frontends/monitor.c: the human monitor (see monitor.h). */
#include "monitor.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chardev.h"
#include "core/display.h"
#include "core/input.h"
#include "core/machine.h"

#define MONITOR_LINE_MAX 512

struct monitor {
    struct machine *machine;
    struct chardev *cd;
    bool echo;                  /* a terminal in raw mode: echo what is typed */
    bool overlong;              /* the line being read passed MONITOR_LINE_MAX: discard it */
    char line[MONITOR_LINE_MAX];
    size_t len;
};

static void mon_printf(struct monitor *mon, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mon_printf(struct monitor *mon, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    /* A terminal in raw mode needs CR LF. */
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            chardev_write(mon->cd, "\r", 1);
        chardev_write(mon->cd, &buf[i], 1);
    }
}

static void prompt(struct monitor *mon)
{
    mon_printf(mon, "(fox86) ");
}

struct monitor *monitor_create(struct machine *m, struct chardev *cd)
{
    struct monitor *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return NULL;
    mon->machine = m;
    mon->cd = cd;
    mon->echo = cd && strcmp(cd->name, "stdio") == 0;
    monitor_greet(mon);
    return mon;
}

void monitor_greet(void *opaque)
{
    struct monitor *mon = opaque;
    mon->len = 0;
    mon->overlong = false;
    mon_printf(mon, "fox86 monitor - type 'help' for a list of commands\n");
    prompt(mon);
}

void monitor_client_gone(void *opaque)
{
    struct monitor *mon = opaque;
    mon->len = 0;   /* a half-sent line from that client means nothing to the next */
    mon->overlong = false;
}

void monitor_free(struct monitor *mon)
{
    free(mon);
}

/* Code page 437 to UTF-8: 0x00-0x1F and 0x7F-0xFF have pictures. */
static const char *const cp437_low[32] = {
    " ", "☺", "☻", "♥", "♦", "♣", "♠", "•", "◘", "○", "◙", "♂", "♀", "♪", "♫", "☼",
    "►", "◄", "↕", "‼", "¶", "§", "▬", "↨", "↑", "↓", "→", "←", "∟", "↔", "▲", "▼",
};
static const char *const cp437_high[129] = {
    "⌂",
    "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",
    "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",
    "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",
    "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",
    "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",
    "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",
    "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",
    "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", " ",
};

const char *cp437_to_utf8(unsigned char c)
{
    static const char ascii[128][2] = {
#define A(n) [n] = { (char)(n), 0 }
        A(32), A(33), A(34), A(35), A(36), A(37), A(38), A(39), A(40), A(41), A(42), A(43),
        A(44), A(45), A(46), A(47), A(48), A(49), A(50), A(51), A(52), A(53), A(54), A(55),
        A(56), A(57), A(58), A(59), A(60), A(61), A(62), A(63), A(64), A(65), A(66), A(67),
        A(68), A(69), A(70), A(71), A(72), A(73), A(74), A(75), A(76), A(77), A(78), A(79),
        A(80), A(81), A(82), A(83), A(84), A(85), A(86), A(87), A(88), A(89), A(90), A(91),
        A(92), A(93), A(94), A(95), A(96), A(97), A(98), A(99), A(100), A(101), A(102),
        A(103), A(104), A(105), A(106), A(107), A(108), A(109), A(110), A(111), A(112),
        A(113), A(114), A(115), A(116), A(117), A(118), A(119), A(120), A(121), A(122),
        A(123), A(124), A(125), A(126),
#undef A
    };
    if (c < 32)
        return cp437_low[c];
    if (c >= 127)
        return cp437_high[c - 127];
    return ascii[c];
}

size_t monitor_format_text_screen(struct display *d, char *buf, size_t len)
{
    static struct display_text text;   /* large; the monitor is single-threaded */
    if (len == 0 || !display_get_text(d, &text))
        return 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int row = 0; row < text.rows && row < DISPLAY_TEXT_MAX_ROWS; row++) {
        char line[DISPLAY_TEXT_MAX_COLS * 3 + 2];
        size_t ll = 0;
        for (int col = 0; col < text.cols && col < DISPLAY_TEXT_MAX_COLS; col++) {
            const char *u = cp437_to_utf8((unsigned char)text.cells[row * text.cols + col]);
            size_t ul = strlen(u);
            memcpy(line + ll, u, ul);
            ll += ul;
        }
        while (ll > 0 && line[ll - 1] == ' ')   /* trailing blanks say nothing */
            ll--;
        line[ll++] = '\n';
        if (used + ll + 1 > len)
            break;
        memcpy(buf + used, line, ll);
        used += ll;
        buf[used] = '\0';
    }
    return used;
}

static void cmd_info_registers(struct monitor *mon)
{
    struct cpu *cpu = &mon->machine->cpu;
    char state[512];
    machine_describe_cpu(cpu, state, sizeof(state));
    mon_printf(mon, "%s\n", state);
    static const char *const names[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (int i = 0; i < 6; i++)
        mon_printf(mon, "%s =%04X %08X %08X\n", names[i], cpu->seg[i].sel, cpu->seg[i].base,
                   cpu->seg[i].limit);
    mon_printf(mon, "GDT=     %08X %08X\nIDT=     %08X %08X\n", cpu->gdtr.base, cpu->gdtr.limit,
               cpu->idtr.base, cpu->idtr.limit);
    mon_printf(mon, "CR0=%08X CR2=%08X CR3=%08X CR4=%08X\n", cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4);
}

static void cmd_info_text(struct monitor *mon)
{
    static char screen[DISPLAY_TEXT_MAX_ROWS * (DISPLAY_TEXT_MAX_COLS * 3 + 1) + 1];
    if (monitor_format_text_screen(&mon->machine->display, screen, sizeof(screen)) == 0) {
        mon_printf(mon, "no text screen (graphics mode or no VGA)\n");
        return;
    }
    mon_printf(mon, "%s", screen);
}

static void cmd_info_jit(struct monitor *mon)
{
    const struct cpu_engine *engine = mon->machine->cpu.engine;
    if (!engine || !engine->format_stats) {
        mon_printf(mon, "no translator: the interpreter runs everything (-accel interp)\n");
        return;
    }
    char text[4096];
    engine->format_stats(engine->opaque, text, sizeof(text));
    mon_printf(mon, "%s", text);
}

static void cmd_info_mmu(struct monitor *mon)
{
    char text[1024];
    machine_format_mmu_stats(mon->machine, text, sizeof(text));
    mon_printf(mon, "%s", text);
}

/* "ctrl-alt-delete": press in order, release in reverse. */
static void cmd_sendkey(struct monitor *mon, const char *keys)
{
    uint16_t codes[8];
    int n = 0;
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", keys);
    for (char *save = NULL, *k = strtok_r(copy, "-", &save); k; k = strtok_r(NULL, "-", &save)) {
        uint16_t code = input_key_by_name(k);
        if (!code || n == 8) {
            mon_printf(mon, "sendkey: unknown key '%s'\n", k);
            return;
        }
        codes[n++] = code;
    }
    if (n == 0) {
        mon_printf(mon, "usage: sendkey KEYS (e.g. ctrl-alt-delete)\n");
        return;
    }
    for (int i = 0; i < n; i++)
        input_key(&mon->machine->input, codes[i], true);
    for (int i = n - 1; i >= 0; i--)
        input_key(&mon->machine->input, codes[i], false);
}

/* "type TEXT": \n and \t escapes become Enter and Tab. */
static void cmd_type(struct monitor *mon, const char *text)
{
    char buf[MONITOR_LINE_MAX];
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < sizeof(buf); p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            buf[n++] = '\n';
            p++;
        } else if (p[0] == '\\' && p[1] == 't') {
            buf[n++] = '\t';
            p++;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
    input_type_text(&mon->machine->input, buf);
}

void monitor_execute(struct monitor *mon, const char *line)
{
    while (*line == ' ')
        line++;
    if (!*line)
        return;
    char cmd[64];
    size_t cl = strcspn(line, " ");
    snprintf(cmd, sizeof(cmd), "%.*s", (int)(cl < 63 ? cl : 63), line);
    const char *arg = line + cl;
    while (*arg == ' ')
        arg++;
    struct machine *m = mon->machine;

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0) {
        mon_printf(mon, "info registers     show the CPU state\n"
                        "info text          print the VGA text screen\n"
                        "info status        running or stopped, virtual time\n"
                        "info mmu           TLB and shadow page table counters\n"
                        "info jit           translator counters and callouts\n"
                        "sendkey KEYS       press keys, e.g. sendkey ctrl-alt-delete\n"
                        "type TEXT          type text on the keyboard (\\n is Enter)\n"
                        "system_reset       reset the machine\n"
                        "quit               stop fox86\n");
    } else if (strcmp(cmd, "info") == 0) {
        if (strcmp(arg, "registers") == 0)
            cmd_info_registers(mon);
        else if (strcmp(arg, "text") == 0)
            cmd_info_text(mon);
        else if (strcmp(arg, "status") == 0)
            mon_printf(mon, "VM status: running (virtual time %.6f s, %llu instructions)\n",
                       (double)machine_now(m) / 1e9, (unsigned long long)m->cpu.icount);
        else if (strcmp(arg, "mmu") == 0)
            cmd_info_mmu(mon);
        else if (strcmp(arg, "jit") == 0)
            cmd_info_jit(mon);
        else
            mon_printf(mon, "info: unknown item '%s' (registers, text, status, mmu, jit)\n", arg);
    } else if (strcmp(cmd, "sendkey") == 0) {
        cmd_sendkey(mon, arg);
    } else if (strcmp(cmd, "type") == 0) {
        cmd_type(mon, arg);
    } else if (strcmp(cmd, "system_reset") == 0) {
        machine_request_reset(m);
    } else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "q") == 0) {
        machine_request_exit(m, 0);
    } else {
        mon_printf(mon, "unknown command: '%s' (help lists them)\n", cmd);
    }
}

void monitor_poll(struct monitor *mon)
{
    int c;
    while ((c = chardev_poll(mon->cd)) >= 0) {
        if (c == '\r' || c == '\n') {
            if (mon->echo)
                mon_printf(mon, "\n");
            if (mon->overlong) {
                mon_printf(mon, "error: line too long (more than %d characters): discarded\n",
                           MONITOR_LINE_MAX - 1);
            } else if (mon->len > 0 || mon->echo) {
                mon->line[mon->len] = '\0';
                monitor_execute(mon, mon->line);
            } else {
                continue;   /* CR LF from a socket client: one line, one prompt */
            }
            mon->len = 0;
            mon->overlong = false;
            if (!mon->machine->exit_requested)
                prompt(mon);
        } else if (c == 0x7F || c == 0x08) {
            if (mon->len > 0) {
                mon->len--;
                if (mon->echo)
                    chardev_write(mon->cd, "\b \b", 3);
            }
        } else if (c >= 0x20) {
            if (mon->len + 1 >= sizeof(mon->line)) {
                mon->overlong = true;   /* reported once at the end of the line */
                continue;
            }
            mon->line[mon->len++] = (char)c;
            if (mon->echo) {
                char ch = (char)c;
                chardev_write(mon->cd, &ch, 1);   /* the terminal does not echo in raw mode */
            }
        }
    }
}
