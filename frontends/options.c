/* frontends/options.c: parsing the command line (see options.h).
 *
 * One table lists every option with whether it takes an argument; a parser
 * function per option validates its argument. Unknown options, missing
 * arguments and malformed values are errors, never ignored.
 */
#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"

struct log_item {
    const char *name;
    unsigned    mask;
    const char *help;
};

static const struct log_item log_items[] = {
    { "int",          LOG_INT,          "show interrupts and exceptions" },
    { "cpu_reset",    LOG_CPU_RESET,    "show CPU state at every reset" },
    { "guest_errors", LOG_GUEST_ERRORS, "log when the guest misuses a device or the CPU" },
    { "in_asm",       LOG_IN_ASM,       "show every executed instruction (Capstone, Intel syntax)" },
    { "unimp",        LOG_UNIMP,        "log use of unimplemented functionality" },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* "-m 64", "-m 64M", "-m 1G", "-m 65536k", "-m size=64M" (MB if no suffix). */
static int parse_ram(struct options *o, const char *arg, char *err, size_t errlen)
{
    const char *p = strncmp(arg, "size=", 5) == 0 ? arg + 5 : arg;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || errno)
        return fail(err, errlen, "-m %s: invalid memory size", arg);
    unsigned long long bytes;
    switch (*end) {
    case '\0': case 'M': case 'm': bytes = v << 20; break;
    case 'G': case 'g':           bytes = v << 30; break;
    case 'K': case 'k':           bytes = v << 10; break;
    default: return fail(err, errlen, "-m %s: invalid memory size", arg);
    }
    if (*end && end[1] != '\0' && !(end[1] == 'B' && end[2] == '\0'))
        return fail(err, errlen, "-m %s: invalid memory size", arg);
    if (v > (1ull << 32) || bytes < (unsigned long long)OPTIONS_MIN_RAM_MB << 20
        || bytes > (unsigned long long)OPTIONS_MAX_RAM_MB << 20)
        return fail(err, errlen, "-m %s: memory size must be between %u MB and %u MB",
                    arg, OPTIONS_MIN_RAM_MB, OPTIONS_MAX_RAM_MB);
    if (bytes & 0xFFFF)
        return fail(err, errlen, "-m %s: memory size must be a multiple of 64 KB", arg);
    o->ram_size = (uint32_t)bytes;
    return 0;
}

static bool valid_chardev(const char *spec, bool allow_none)
{
    return strcmp(spec, "stdio") == 0 || strcmp(spec, "null") == 0
        || (allow_none && strcmp(spec, "none") == 0)
        || (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0');
}

static int parse_serial(struct options *o, const char *arg, char *err, size_t errlen)
{
    const char *spec = strcmp(arg, "mon:stdio") == 0 ? "stdio" : arg;
    if (!valid_chardev(spec, true))
        return fail(err, errlen, "-serial %s: unsupported backend (use stdio, file:PATH, "
                    "null or none)", arg);
    if (o->serial)
        return fail(err, errlen, "-serial %s: only one serial port (COM1) is supported yet", arg);
    o->serial = spec;
    return 0;
}

static int parse_debugcon(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (!valid_chardev(arg, true))
        return fail(err, errlen, "-debugcon %s: unsupported backend (use stdio, file:PATH or "
                    "null)", arg);
    o->debugcon = arg;
    return 0;
}

static int parse_port_value(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 0);
    if (end == text || *end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* -device isa-debug-exit[,iobase=N][,iosize=N] (QEMU defaults 0x501, 2) */
static int parse_device(struct options *o, const char *arg, char *err, size_t errlen)
{
    size_t name_len = strcspn(arg, ",");
    if (strncmp(arg, "isa-debug-exit", name_len) != 0 || name_len != strlen("isa-debug-exit"))
        return fail(err, errlen, "-device %.*s: unknown device (supported: isa-debug-exit)",
                    (int)name_len, arg);
    unsigned long iobase = 0x501, iosize = 2;
    const char *p = arg + name_len;
    while (*p == ',') {
        p++;
        size_t len = strcspn(p, ",");
        char prop[64];
        if (len >= sizeof(prop))
            return fail(err, errlen, "-device %s: property too long", arg);
        memcpy(prop, p, len);
        prop[len] = '\0';
        char *eq = strchr(prop, '=');
        if (!eq)
            return fail(err, errlen, "-device %s: expected property=value, got '%s'", arg, prop);
        *eq = '\0';
        unsigned long *target = strcmp(prop, "iobase") == 0 ? &iobase
                              : strcmp(prop, "iosize") == 0 ? &iosize : NULL;
        if (!target)
            return fail(err, errlen, "-device isa-debug-exit: unknown property '%s' "
                        "(iobase, iosize)", prop);
        if (parse_port_value(eq + 1, 0xFFFF, target) != 0)
            return fail(err, errlen, "-device isa-debug-exit: invalid %s '%s'", prop, eq + 1);
        p += len;
    }
    if (iosize == 0 || iosize > 4 || iobase + iosize > 0x10000)
        return fail(err, errlen, "-device isa-debug-exit: iobase 0x%lx / iosize %lu out of range",
                    iobase, iosize);
    o->debug_exit = true;
    o->debug_exit_iobase = (uint16_t)iobase;
    o->debug_exit_iosize = (uint16_t)iosize;
    return 0;
}

static int parse_log_items(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "help") == 0) {
        o->show_log_items = true;
        return 0;
    }
    const char *p = arg;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < sizeof(log_items) / sizeof(log_items[0]); i++)
            if (strlen(log_items[i].name) == len && strncmp(p, log_items[i].name, len) == 0)
                break;
        if (i == sizeof(log_items) / sizeof(log_items[0]))
            return fail(err, errlen, "-d %s: unknown log item '%.*s' (-d help lists them)",
                        arg, (int)len, p);
        o->log_mask |= log_items[i].mask;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int parse_accel(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "tcg") != 0 && strcmp(arg, "tcg,thread=single") != 0)
        return fail(err, errlen, "-accel %s: only tcg (thread=single) is accepted: fox86 is "
                    "its own accelerator", arg);
    return 0;
}

static int parse_machine(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "pc") != 0 && strcmp(arg, "pc,accel=tcg") != 0
        && strncmp(arg, "pc-i440fx", 9) != 0)
        return fail(err, errlen, "-machine %s: unsupported machine (only pc)", arg);
    return 0;
}

static int parse_display(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "none") != 0)
        return fail(err, errlen, "-display %s: not supported yet (only none)", arg);
    return 0;
}

#define SET_STRING(field) \
    static int set_##field(struct options *o, const char *arg, char *err, size_t errlen) \
    { o->field = arg; return 0; }
SET_STRING(kernel)
SET_STRING(append)
SET_STRING(initrd)
SET_STRING(log_file)

static int set_trace(struct options *o, const char *arg, char *err, size_t errlen)
{
    o->log_mask |= LOG_IN_ASM;
    return 0;
}

#define SET_FLAG(field) \
    static int set_##field(struct options *o, const char *arg, char *err, size_t errlen) \
    { o->field = true; return 0; }
SET_FLAG(no_reboot)
SET_FLAG(nographic)
SET_FLAG(stats)
SET_FLAG(show_help)
SET_FLAG(show_version)

struct option_def {
    const char *name;               /* without the leading dash(es) */
    bool        has_arg;
    int       (*parse)(struct options *o, const char *arg, char *err, size_t errlen);
    const char *arg_name;           /* for --help; NULL: hidden alias */
    const char *help;
};

static const struct option_def option_defs[] = {
    { "m",         true,  parse_ram,       "SIZE",    "guest RAM in MB (suffixes M, G; default 128)" },
    { "kernel",    true,  set_kernel,      "FILE",    "boot this multiboot kernel (ELF32, or a.out kludge)" },
    { "append",    true,  set_append,      "CMDLINE", "kernel command line" },
    { "initrd",    true,  set_initrd,      "FILES",   "multiboot modules: \"file[ args][,file[ args]]\"" },
    { "nographic", false, set_nographic,   "",        "no display; serial on stdio" },
    { "display",   true,  parse_display,   "none",    "display backend (only none yet)" },
    { "serial",    true,  parse_serial,    "DEV",     "COM1 backend: stdio, file:PATH, null, none" },
    { "debugcon",  true,  parse_debugcon,  "DEV",     "port 0xE9 backend: stdio, file:PATH, null" },
    { "device",    true,  parse_device,    "DEV",     "isa-debug-exit[,iobase=0xf4][,iosize=0x04]" },
    { "no-reboot", false, set_no_reboot,   "",        "stop (exit status 1) on triple fault instead of resetting" },
    { "d",         true,  parse_log_items, "ITEMS",   "log items, comma separated (-d help lists them)" },
    { "D",         true,  set_log_file,    "FILE",    "write the -d log to FILE instead of stderr" },
    { "accel",     true,  parse_accel,     "tcg",     "accepted for QEMU compatibility" },
    { "machine",   true,  parse_machine,   "pc",      "accepted for QEMU compatibility" },
    { "M",         true,  parse_machine,   NULL,      NULL },
    { "stats",     false, set_stats,       "",        "print counters (instructions, exceptions...) at exit" },
    { "trace",     false, set_trace,       "",        "same as -d in_asm" },
    { "help",      false, set_show_help,   "",        "this text" },
    { "h",         false, set_show_help,   NULL,      NULL },
    { "version",   false, set_show_version, "",       "print the version" },
};

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = OPTIONS_DEFAULT_RAM_MB << 20;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0')
            return fail(err, errlen, "unexpected argument '%s' (disk images are not supported "
                        "yet; see --help)", arg);
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const struct option_def *def = NULL;
        for (size_t k = 0; k < sizeof(option_defs) / sizeof(option_defs[0]); k++)
            if (strcmp(name, option_defs[k].name) == 0)
                def = &option_defs[k];
        if (!def)
            return fail(err, errlen, "unknown option '%s' (see --help)", arg);
        const char *value = NULL;
        if (def->has_arg) {
            if (i + 1 >= argc)
                return fail(err, errlen, "%s: missing argument", arg);
            value = argv[++i];
        }
        if (def->parse(o, value, err, errlen) != 0)
            return -1;
    }
    if (o->nographic && !o->serial)
        o->serial = "stdio";
    if (!o->serial)
        o->serial = "stdio";   /* no display yet: there is no virtual console to show it */
    return 0;
}

void options_print_help(FILE *out)
{
    fprintf(out, "usage: fox86 [options]\n\n"
                 "Runs a multiboot kernel on an emulated i686 PC. Options follow\n"
                 "qemu-system-i386; \"-opt\" and \"--opt\" are the same.\n\n");
    for (size_t k = 0; k < sizeof(option_defs) / sizeof(option_defs[0]); k++) {
        const struct option_def *d = &option_defs[k];
        if (!d->arg_name)
            continue;
        char left[40];
        snprintf(left, sizeof(left), "-%s%s%s", d->name, d->arg_name[0] ? " " : "", d->arg_name);
        fprintf(out, "  %-22s %s\n", left, d->help);
    }
    fprintf(out, "\nExit status: 0 on normal end, (v << 1) | 1 when the guest writes v to\n"
                 "isa-debug-exit, 1 on errors (and on triple fault with -no-reboot).\n");
}

void options_print_log_items(FILE *out)
{
    fprintf(out, "Log items (comma separated):\n");
    for (size_t i = 0; i < sizeof(log_items) / sizeof(log_items[0]); i++)
        fprintf(out, "%-14s %s\n", log_items[i].name, log_items[i].help);
}
