/* frontends/monitor.c: the human monitor (see monitor.h). */
#include "monitor.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>
#include <inttypes.h>
#include <time.h>

#include "bios/multiboot.h"
#include "core/chardev.h"
#include "core/display.h"
#include "core/input.h"
#include "core/machine.h"
#include "devices/pci.h"
#include "frontends/screendump.h"
#include "frontends/trace.h"

#define MONITOR_LINE_MAX 512

struct monitor {
    struct machine *machine;
    struct chardev *cd;
    bool echo;                  /* a terminal in raw mode: echo what is typed */
    bool overlong;              /* the line being read passed MONITOR_LINE_MAX: discard it */
    char line[MONITOR_LINE_MAX];
    size_t len;
    struct monitor_shared own_shared;   /* used until monitor_set_shared */
    struct monitor_shared *shared;
    char *capture;              /* non-NULL: output goes here, not to cd (QMP) */
    size_t capture_len, capture_cap;
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
    if (mon->capture) {
        if (mon->capture_len + len + 1 > mon->capture_cap) {
            size_t cap = (mon->capture_len + len + 1) * 2;
            char *grown = realloc(mon->capture, cap);
            if (!grown)
                return;
            mon->capture = grown;
            mon->capture_cap = cap;
        }
        memcpy(mon->capture + mon->capture_len, buf, len);
        mon->capture_len += len;
        mon->capture[mon->capture_len] = '\0';
        return;
    }
    /* A terminal in raw mode needs CR LF; one write per call, not per byte. */
    char out[2 * sizeof(buf)];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            out[o++] = '\r';
        out[o++] = buf[i];
    }
    chardev_write(mon->cd, out, o);
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
    mon->shared = &mon->own_shared;
    if (cd)
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
    if (mon)
        free(mon->capture);
    free(mon);
}

void monitor_set_stopped(struct monitor_shared *shared, bool stopped)
{
    if (shared->stopped != stopped)
        shared->stop_changes++;
    shared->stopped = stopped;
}

void monitor_system_reset(struct monitor_shared *shared, struct machine *m)
{
    machine_request_reset(m);
    if (shared->stopped && machine_take_reset(m) != 0)
        machine_request_exit(m, 1);   /* the boot images could not be loaded again */
}

void monitor_set_shared(struct monitor *mon, struct monitor_shared *shared)
{
    mon->shared = shared;
}

char *monitor_execute_capture(struct monitor *mon, const char *line)
{
    mon->capture_cap = 256;
    mon->capture_len = 0;
    mon->capture = calloc(1, mon->capture_cap);
    if (!mon->capture)
        return NULL;
    monitor_execute(mon, line);
    char *out = mon->capture;
    mon->capture = NULL;
    return out;
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

/* QEMU's "info registers" layout for a 32-bit CPU, so the two can be
 * compared line by line: segment flags are the descriptor's high dword
 * masked as QEMU shows it (access byte in bits 8-15, G/D/L/AVL in 20-23). */
static void cmd_info_registers(struct monitor *mon)
{
    struct cpu *cpu = &mon->machine->cpu;
    const uint32_t *r = cpu->gpr;
    uint32_t efl = cpu_get_eflags(cpu);
    mon_printf(mon, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX]);
    mon_printf(mon, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", r[R_ESI], r[R_EDI], r[R_EBP], r[R_ESP]);
    mon_printf(mon, "EIP=%08x EFL=%08x [%c%c%c%c%c%c%c] CPL=%u II=%d A20=%d SMM=0 HLT=%d\n",
               cpu->eip, efl, efl & FL_DF ? 'D' : '-', efl & FL_OF ? 'O' : '-',
               efl & FL_SF ? 'S' : '-', efl & FL_ZF ? 'Z' : '-', efl & FL_AF ? 'A' : '-',
               efl & FL_PF ? 'P' : '-', efl & FL_CF ? 'C' : '-', cpu->cpl, cpu->irq_inhibit != 0,
               (mon->machine->mem.a20_mask >> 20) & 1, cpu->halted);
    static const char *const names[SEG_COUNT] = { "ES ", "CS ", "SS ", "DS ", "FS ", "GS ",
                                                  "LDT", "TR " };
    static const char *const system_types[16] = {
        "Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate", "IntGate16",
        "TrapGate16", "Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32", "Reserved",
        "IntGate32", "TrapGate32",
    };
    for (int i = 0; i < SEG_COUNT; i++) {
        const struct seg_cache *sc = &cpu->seg[i];
        bool g = sc->flags & SEGF_G;
        uint32_t limit_high = (g ? sc->limit >> 28 : sc->limit >> 16) & 0xF;   /* descriptor bits 48-51 */
        uint32_t flags = (uint32_t)(sc->flags & 0xFF) << 8 | limit_high << 16
                       | (uint32_t)((sc->flags >> 12) & 0xF) << 20;
        char desc[40] = "";
        if (cpu_protected(cpu) && (sc->flags & SEGF_P)) {
            int dpl = (sc->flags >> SEGF_DPL_SHIFT) & 3;
            if (!(sc->flags & SEGF_S))
                snprintf(desc, sizeof(desc), " DPL=%d %s", dpl, system_types[sc->flags & 0xF]);
            else if (sc->flags & SEGF_CODE)
                snprintf(desc, sizeof(desc), " DPL=%d %s [%c%c%c]", dpl,
                         sc->flags & SEGF_DB ? "CS32" : "CS16", sc->flags & SEGF_DC ? 'C' : '-',
                         sc->flags & SEGF_RW ? 'R' : '-', sc->flags & SEGF_A ? 'A' : '-');
            else
                snprintf(desc, sizeof(desc), " DPL=%d %s [%c%c%c]", dpl,
                         sc->flags & SEGF_DB ? "DS  " : "DS16", sc->flags & SEGF_DC ? 'E' : '-',
                         sc->flags & SEGF_RW ? 'W' : '-', sc->flags & SEGF_A ? 'A' : '-');
        }
        mon_printf(mon, "%s=%04x %08x %08x %08x%s\n", names[i], sc->sel, sc->base, sc->limit, flags,
                   desc);
    }
    mon_printf(mon, "GDT=     %08x %08x\nIDT=     %08x %08x\n", cpu->gdtr.base, cpu->gdtr.limit,
               cpu->idtr.base, cpu->idtr.limit);
    mon_printf(mon, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4);
    mon_printf(mon, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x\nDR6=%08x DR7=%08x\n", cpu->dr[0],
               cpu->dr[1], cpu->dr[2], cpu->dr[3], cpu->dr[6], cpu->dr[7]);
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

static double host_seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double monitor_host_now(void)
{
    return host_seconds_now();
}

/* Appends to buf as snprintf would, never past len. */
static size_t append(char *buf, size_t len, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t len, size_t used, const char *fmt, ...)
{
    if (used >= len)
        return used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return used;
    return used + (size_t)n < len ? used + (size_t)n : len - 1;
}

size_t monitor_format_stats(const struct machine *m, double host_seconds, char *buf, size_t len)
{
    const struct cpu *cpu = &m->cpu;
    double virt = (double)machine_now(m) / 1e9;
    size_t u = 0;
    if (len == 0)
        return 0;
    buf[0] = '\0';
    u = append(buf, len, u, "fox86 stats:\n");
    u = append(buf, len, u, "  instructions executed  %llu\n", (unsigned long long)cpu->icount);
    u = append(buf, len, u, "  exceptions taken       %llu\n",
               (unsigned long long)cpu->exceptions_taken);
    u = append(buf, len, u, "  virtual time           %.6f s (halted %.6f s)\n", virt,
               (double)m->stats.idle_ns / 1e9);
    u = append(buf, len, u, "  skipped (host stalls)  %.6f s\n", (double)m->stats.catchup_ns / 1e9);
    u = append(buf, len, u, "  virtual ns/instruction %.3f\n", (double)m->vt_rate_q16 / 65536);
    u = append(buf, len, u, "  host time              %.3f s\n", host_seconds);
    if (host_seconds > 0)
        u = append(buf, len, u, "  speed                  %.1f MIPS\n",
                   (double)cpu->icount / host_seconds / 1e6);
    u = append(buf, len, u, "  run-loop slices        %llu\n", (unsigned long long)m->stats.slices);
    u = append(buf, len, u, "  machine resets         %llu\n", (unsigned long long)m->stats.resets);
    if (u + 1 < len) {
        machine_format_mmu_stats(m, buf + u, len - u);
        u += strlen(buf + u);
    }
    if (cpu->engine && cpu->engine->format_stats && u + 1 < len) {
        cpu->engine->format_stats(cpu->engine->opaque, buf + u, len - u);
        u += strlen(buf + u);
    }
    return u;
}

static void cmd_info_stats(struct monitor *mon)
{
    static char text[16384];
    double started = mon->shared->host_started;
    monitor_format_stats(mon->machine, started > 0 ? host_seconds_now() - started : 0,
                         text, sizeof(text));
    mon_printf(mon, "%s", text);
}

/* QEMU: "* CPU #0: thread_id=N"; here the one CPU and where it is. */
static void cmd_info_cpus(struct monitor *mon)
{
    const struct cpu *cpu = &mon->machine->cpu;
    mon_printf(mon, "* CPU #0: pc=0x%08" PRIx32 "%s\n", cpu->seg[SEG_CS].base + cpu->eip,
               cpu->halted ? " (halted)" : "");
}

/* The PCI bus owns ports 0xCF8-0xCFF with itself as the opaque: found
 * there, so the monitor needs nothing from the board. */
static struct pci_bus *find_pci_bus(struct machine *m)
{
    for (int i = 0; i < m->io.nranges; i++)
        if (m->io.ranges[i].first == 0xCF8 && m->io.ranges[i].count == 8)
            return m->io.ranges[i].opaque;
    return NULL;
}

static const char *pci_class_name(uint16_t cls)
{
    static const struct { uint16_t cls; const char *name; } names[] = {
        { 0x0101, "IDE controller" }, { 0x0106, "SATA controller" }, { 0x0200, "Ethernet controller" },
        { 0x0300, "VGA controller" }, { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" },
        { 0x0680, "Bridge" }, { 0x0C03, "USB controller" }, { 0x0401, "Audio controller" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].cls == cls)
            return names[i].name;
    return NULL;
}

/* QEMU's "info pci" layout, from each function's configuration space. */
static void cmd_info_pci(struct monitor *mon)
{
    struct pci_bus *bus = find_pci_bus(mon->machine);
    if (!bus) {
        mon_printf(mon, "no PCI bus\n");
        return;
    }
    for (int devfn = 0; devfn < 256; devfn++) {
        const struct pci_device *d = bus->devices[devfn];
        if (!d)
            continue;
        const uint8_t *c = d->config;
        uint16_t cls = pci_get_word(c + PCI_CLASS_DEVICE);
        const char *cname = pci_class_name(cls);
        mon_printf(mon, "  Bus  0, device %3d, function %d:\n", devfn >> 3, devfn & 7);
        if (cname)
            mon_printf(mon, "    %s: PCI device %04x:%04x\n", cname, pci_get_word(c + PCI_VENDOR_ID),
                       pci_get_word(c + PCI_DEVICE_ID));
        else
            mon_printf(mon, "    Class %04x: PCI device %04x:%04x\n", cls,
                       pci_get_word(c + PCI_VENDOR_ID), pci_get_word(c + PCI_DEVICE_ID));
        mon_printf(mon, "      PCI subsystem %04x:%04x\n", pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID),
                   pci_get_word(c + PCI_SUBSYSTEM_ID));
        if (c[PCI_INTERRUPT_PIN])
            mon_printf(mon, "      IRQ %d, pin %c\n", c[PCI_INTERRUPT_LINE],
                       'A' + c[PCI_INTERRUPT_PIN] - 1);
        for (int b = 0; b <= PCI_NUM_BARS; b++) {
            const struct pci_bar *bar = &d->bars[b];
            if (!bar->size)
                continue;
            char label[16];             /* "BAR" and an int, for the compiler's count */
            if (b == PCI_ROM_SLOT)
                snprintf(label, sizeof(label), "ROM");
            else
                snprintf(label, sizeof(label), "BAR%d", b);
            const char *kind = (bar->type & PCI_BAR_IO) ? "I/O"
                             : (bar->type & PCI_BAR_PREFETCH) ? "32 bit prefetchable memory"
                             : "32 bit memory";
            if (bar->addr == PCI_BAR_UNMAPPED)
                mon_printf(mon, "      %s: %s at 0xffffffffffffffff [0x%08x].\n", label, kind,
                           bar->size - 2);
            else
                mon_printf(mon, "      %s: %s at 0x%08" PRIx32 " [0x%08" PRIx32 "].\n", label, kind,
                           bar->addr, bar->addr + bar->size - 1);
        }
        mon_printf(mon, "      id \"%s\"\n", d->name ? d->name : "");
    }
}

/* The physical memory map (RAM, then each region) and the I/O port map. */
static void cmd_info_mtree(struct monitor *mon)
{
    static const char *const kinds[] = { "ram", "rom", "i/o", "ram/rom window", "ram device" };
    struct machine *m = mon->machine;
    const struct phys_mem *pm = &m->mem;
    mon_printf(mon, "address-space: memory\n");
    mon_printf(mon, "  00000000-%08" PRIx32 " (prio 0, ram): ram\n", pm->ram_size - 1);
    for (int i = 0; i < pm->nregions; i++) {
        const struct phys_region *r = &pm->regions[i];
        unsigned k = (unsigned)r->kind < 5 ? (unsigned)r->kind : 2;
        mon_printf(mon, "  %08" PRIx32 "-%08" PRIx32 " (prio 1, %s)\n", r->base,
                   r->base + r->size - 1, kinds[k]);
    }
    mon_printf(mon, "\naddress-space: I/O\n");
    for (int i = 0; i < m->io.nranges; i++) {
        const struct ioport_range *r = &m->io.ranges[i];
        if (r->count)
            mon_printf(mon, "  %04x-%04x (prio 0, i/o)\n", r->first, r->first + r->count - 1);
    }
}

/* A number (0x hex, else decimal) or $register, joined by + and -. */
static bool parse_address(struct monitor *mon, const char *text, uint32_t *out)
{
    static const char *const regs[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    const struct cpu *cpu = &mon->machine->cpu;
    uint32_t total = 0;
    int sign = 1;
    const char *p = text;
    bool any = false;
    for (;;) {
        while (*p == ' ')
            p++;
        uint32_t v;
        if (*p == '$') {
            size_t n = strcspn(p + 1, " +-");
            bool found = false;
            if ((n == 3 && strncmp(p + 1, "eip", 3) == 0) || (n == 2 && strncmp(p + 1, "pc", 2) == 0)) {
                v = cpu->seg[SEG_CS].base + cpu->eip;
                found = true;
            }
            for (int r = 0; r < 8 && !found; r++)
                if (n == 3 && strncmp(p + 1, regs[r], 3) == 0) {
                    v = cpu->gpr[r];
                    found = true;
                }
            if (!found)
                return false;
            p += 1 + n;
        } else {
            char *end;
            unsigned long long n = strtoull(p, &end, 0);
            if (end == p || n > 0xFFFFFFFFull)
                return false;
            v = (uint32_t)n;
            p = end;
        }
        total += sign > 0 ? v : (uint32_t)-v;
        any = true;
        while (*p == ' ')
            p++;
        if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            p++;
            continue;
        }
        break;
    }
    *out = total;
    return any && *p == '\0';
}

static void format_symbol(struct monitor *mon, uint32_t lin, char *buf, size_t len)
{
    uint32_t off;
    const struct guest_symbols *syms = mon->shared->syms;
    const struct guest_symbol *sym = syms ? guest_symbols_lookup(syms, lin, &off) : NULL;
    if (!sym)
        buf[0] = '\0';
    else if (off)
        snprintf(buf, len, " <%s+0x%" PRIx32 ">", sym->name, off);
    else
        snprintf(buf, len, " <%s>", sym->name);
}

static void disassemble(struct monitor *mon, uint32_t addr, int count)
{
    struct cpu *cpu = &mon->machine->cpu;
    bool code32 = cpu_protected(cpu) && !cpu_v86(cpu) && cpu_code32(cpu);
    csh cs;
    if (cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_16, &cs) != CS_ERR_OK) {
        mon_printf(mon, "cannot initialise Capstone\n");
        return;
    }
    cs_option(cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
    for (int i = 0; i < count; i++) {
        uint8_t bytes[16];
        size_t avail = trace_peek_linear(mon->machine, addr, bytes, sizeof(bytes));
        char sym[128];
        format_symbol(mon, addr, sym, sizeof(sym));
        cs_insn *insn = NULL;
        size_t n = avail ? cs_disasm(cs, bytes, avail, addr, 1, &insn) : 0;
        if (!avail) {
            mon_printf(mon, "Cannot access memory at 0x%08" PRIx32 "\n", addr);
            break;
        }
        if (n == 0) {
            mon_printf(mon, "0x%08" PRIx32 "%s:  (bad) %02x\n", addr, sym, bytes[0]);
            addr++;
            continue;
        }
        mon_printf(mon, "0x%08" PRIx32 "%s:  %-8s %s\n", addr, sym, insn[0].mnemonic, insn[0].op_str);
        addr += insn[0].size;
        cs_free(insn, n);
    }
    cs_close(&cs);
}

/* x/FMT ADDR (linear) and xp/FMT ADDR (physical), as QEMU's: FMT is
 * [count][format][size], format x d u o c i, size b h w g. */
static void cmd_memory_dump(struct monitor *mon, bool physical, const char *fmt, const char *arg)
{
    int count = 1, size = 4;
    char format = 'x';
    const char *p = fmt;
    if (*p == '/') {
        p++;
        if (*p >= '0' && *p <= '9')
            {
            char *end;
            count = (int)strtol(p, &end, 10);
            p = end;
        }
        for (; *p && *p != ' '; p++) {
            if (strchr("xduoci", *p))
                format = *p;
            else if (*p == 'b') size = 1;
            else if (*p == 'h') size = 2;
            else if (*p == 'w') size = 4;
            else if (*p == 'g') size = 8;
            else {
                mon_printf(mon, "invalid format '%c' (x d u o c i; sizes b h w g)\n", *p);
                return;
            }
        }
    }
    uint32_t addr;
    if (!*arg || !parse_address(mon, arg, &addr)) {
        mon_printf(mon, "%s: expected an address, e.g. %s/4x 0x1000 or %s/3i $eip\n",
                   physical ? "xp" : "x", physical ? "xp" : "x", physical ? "xp" : "x");
        return;
    }
    if (count <= 0 || count > 4096) {
        mon_printf(mon, "count must be 1-4096\n");
        return;
    }
    if (format == 'i') {
        if (physical)
            mon_printf(mon, "xp/i: disassemble with x/i (linear addresses)\n");
        else
            disassemble(mon, addr, count);
        return;
    }
    if (format == 'c')
        size = 1;
    int per_line = size <= 2 ? 8 : 16 / size;
    char line[256];
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        uint32_t a = addr + (uint32_t)(i * size);
        if (i % per_line == 0) {
            if (used)
                mon_printf(mon, "%s\n", line);
            used = physical ? (size_t)snprintf(line, sizeof(line), "%016" PRIx32 ":", a)
                            : (size_t)snprintf(line, sizeof(line), "%08" PRIx32 ":", a);
        }
        uint8_t bytes[8];
        size_t got;
        if (physical) {
            for (int b = 0; b < size; b++)
                bytes[b] = (uint8_t)phys_read(&mon->machine->mem, a + (uint32_t)b, 1);
            got = (size_t)size;
        } else {
            got = trace_peek_linear(mon->machine, a, bytes, (size_t)size);
        }
        if (got < (size_t)size) {
            if (used)
                mon_printf(mon, "%s\n", line);
            mon_printf(mon, "Cannot access memory\n");
            return;
        }
        uint64_t v = 0;
        for (int b = size - 1; b >= 0; b--)
            v = v << 8 | bytes[b];
        char item[40];
        switch (format) {
        case 'd': {
            int64_t sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            snprintf(item, sizeof(item), " %" PRId64, sv);
            break;
        }
        case 'u': snprintf(item, sizeof(item), " %" PRIu64, v); break;
        case 'o': snprintf(item, sizeof(item), " %#" PRIo64, v); break;
        case 'c':
            if (v >= 0x20 && v < 0x7F)
                snprintf(item, sizeof(item), " '%c'", (char)v);
            else
                snprintf(item, sizeof(item), " '\\x%02x'", (unsigned)v);
            break;
        default: snprintf(item, sizeof(item), " 0x%0*" PRIx64, size * 2, v); break;
        }
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s", item);
    }
    if (used)
        mon_printf(mon, "%s\n", line);
}

void monitor_execute(struct monitor *mon, const char *line)
{
    while (*line == ' ')
        line++;
    if (!*line)
        return;
    char cmd[64];
    size_t cl = strcspn(line, " /");
    snprintf(cmd, sizeof(cmd), "%.*s", (int)(cl < 63 ? cl : 63), line);
    const char *fmt = line + cl;   /* "/4x" of x/4x, else empty */
    const char *arg = fmt + (*fmt == '/' ? strcspn(fmt, " ") : 0);
    if (*fmt != '/')
        fmt = "";
    while (*arg == ' ')
        arg++;
    struct machine *m = mon->machine;

    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0) {
        mon_printf(mon, "info registers     show the CPU state\n"
                        "info text          print the VGA text screen\n"
                        "info status        running or stopped, virtual time\n"
                        "info mmu           TLB and shadow page table counters\n"
                        "info jit           translator counters and callouts\n"
                        "info cpus          the CPU and where it runs\n"
                        "info pci           PCI functions, IDs, IRQs and BARs\n"
                        "info mtree         the physical memory and I/O port maps\n"
                        "info stats         the --stats counters now\n"
                        "x/FMT ADDR         dump linear memory (FMT: count, x d u o c i, b h w g)\n"
                        "xp/FMT ADDR        dump physical memory\n"
                        "stop, cont         pause and resume the guest\n"
                        "screendump FILE    save the screen as a PNG file\n"
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
            mon_printf(mon, "VM status: %s (virtual time %.6f s, %llu instructions)\n",
                       mon->shared->stopped ? "paused" : "running",
                       (double)machine_now(m) / 1e9, (unsigned long long)m->cpu.icount);
        else if (strcmp(arg, "cpus") == 0)
            cmd_info_cpus(mon);
        else if (strcmp(arg, "pci") == 0)
            cmd_info_pci(mon);
        else if (strcmp(arg, "mtree") == 0)
            cmd_info_mtree(mon);
        else if (strcmp(arg, "stats") == 0)
            cmd_info_stats(mon);
        else if (strcmp(arg, "mmu") == 0)
            cmd_info_mmu(mon);
        else if (strcmp(arg, "jit") == 0)
            cmd_info_jit(mon);
        else
            mon_printf(mon, "info: unknown item '%.64s' (registers, text, status, mmu, jit, cpus, "
                       "pci, mtree, stats)\n", arg);
    } else if (strcmp(cmd, "sendkey") == 0) {
        cmd_sendkey(mon, arg);
    } else if (strcmp(cmd, "type") == 0) {
        cmd_type(mon, arg);
    } else if (strcmp(cmd, "x") == 0 || strcmp(cmd, "xp") == 0) {
        cmd_memory_dump(mon, cmd[1] == 'p', fmt, arg);
    } else if (strcmp(cmd, "screendump") == 0) {
        char err[256];
        if (!*arg)
            mon_printf(mon, "usage: screendump FILE.png\n");
        else if (screendump_png(&m->display, arg, err, sizeof(err)) != 0)
            mon_printf(mon, "screendump: %s\n", err);
    } else if (strcmp(cmd, "stop") == 0) {
        monitor_set_stopped(mon->shared, true);
    } else if (strcmp(cmd, "cont") == 0 || strcmp(cmd, "c") == 0) {
        monitor_set_stopped(mon->shared, false);
    } else if (strcmp(cmd, "system_reset") == 0) {
        monitor_system_reset(mon->shared, m);
    } else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "q") == 0) {
        machine_request_exit(m, 0);
    } else {
        mon_printf(mon, "unknown command: '%.64s' (help lists them)\n", cmd);
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
