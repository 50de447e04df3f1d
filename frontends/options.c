/* frontends/options.c: parsing the command line (see options.h).
 *
 * One table lists every option with whether it takes an argument; a parser
 * function per option validates its argument. Unknown options, missing
 * arguments and malformed values are errors, never ignored.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "translator/tcache.h"

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
    { "out_asm",      LOG_OUT_ASM,      "show each translated block: its guest code and the host "
                                        "code made for it (native backend)" },
    { "perfmap",      LOG_PERF_MAP,     "write /tmp/perf-PID.map naming each block's host code "
                                        "by its guest EIP, for perf (native backend)" },
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
        || (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0')
        || (strncmp(spec, "tcp:", 4) == 0 && strchr(spec + 4, ':'));
}

static int parse_serial(struct options *o, const char *arg, char *err, size_t errlen)
{
    const char *spec = strcmp(arg, "mon:stdio") == 0 ? "stdio" : arg;
    if (!valid_chardev(spec, true))
        return fail(err, errlen, "-serial %s: unsupported backend (use stdio, file:PATH, "
                    "tcp:HOST:PORT,server[,nowait], null or none)", arg);
    if (o->serial && o->serial2)
        return fail(err, errlen, "-serial %s: only two serial ports (COM1, COM2) exist", arg);
    if (o->serial)
        o->serial2 = spec;
    else
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
static int parse_debug_exit(struct options *o, const char *arg, char *err, size_t errlen)
{
    size_t name_len = strlen("isa-debug-exit");
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

/* -dfilter RANGE[,RANGE...] as QEMU takes it: START+SIZE (START up to
 * START+SIZE-1), START-SIZE (the SIZE bytes ending at START), START..LAST. */
static int parse_log_filter(struct options *o, const char *arg, char *err, size_t errlen)
{
    const char *p = arg;
    if (!*p)
        return fail(err, errlen, "-dfilter: no range given");
    while (*p) {
        if (o->log_filter_count == LOG_FILTER_MAX)
            return fail(err, errlen, "-dfilter %s: at most %d ranges", arg, LOG_FILTER_MAX);
        char *end;
        errno = 0;
        unsigned long long start = strtoull(p, &end, 0), other;
        const char *kind = end;
        bool ok = end != p && errno == 0 && start <= 0xFFFFFFFFu;
        if (ok && (strncmp(kind, "..", 2) == 0 || *kind == '+' || *kind == '-')) {
            const char *q = kind + (kind[0] == '.' ? 2 : 1);
            other = strtoull(q, &end, 0);
            ok = end != q && errno == 0 && (*end == ',' || *end == 0) && other <= 0xFFFFFFFFu;
        } else {
            ok = false;
        }
        uint64_t first = 0, last = 0;
        if (ok) {
            if (kind[0] == '.') {
                first = start, last = other;
            } else if (kind[0] == '+') {
                first = start, last = start + other - 1;
            } else {
                first = start + 1 - other, last = start;
            }
            ok = other > 0 || kind[0] == '.';
            ok = ok && first <= last && last <= 0xFFFFFFFFu && (kind[0] != '-' || other <= start + 1);
        }
        if (!ok)
            return fail(err, errlen, "-dfilter %s: ranges are START+SIZE, START-SIZE or START..LAST", arg);
        o->log_filter[o->log_filter_count++] = (struct log_range){ (uint32_t)first, (uint32_t)last };
        if (*end == ',' && end[1] == 0)
            return fail(err, errlen, "-dfilter %s: a range after the last comma is missing", arg);
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

/* -accel tcg[,thread=single][,backend=native|portable|interp] | interp:
 * tcg alone is the default engine (the translator: native code on x86-64
 * hosts, portable elsewhere), as with QEMU. */
static int parse_accel(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "interp") == 0) {
        o->engine = ENGINE_INTERP;
        return 0;
    }
    if (strncmp(arg, "tcg", 3) != 0 || (arg[3] != '\0' && arg[3] != ','))
        return fail(err, errlen, "-accel %s: expected tcg[,thread=single][,backend=native|portable] or "
                    "interp", arg);
    o->engine = ENGINE_DEFAULT;
    for (const char *p = arg + 3; *p == ','; ) {
        p++;
        size_t n = strcspn(p, ",");
        if (n == 13 && strncmp(p, "thread=single", n) == 0)
            ;
        else if (n == 16 && strncmp(p, "backend=portable", n) == 0)
            o->engine = ENGINE_PORTABLE;
        else if (n == 14 && strncmp(p, "backend=native", n) == 0) {
            if (!native_supported())
                return fail(err, errlen, "-accel %s: the native backend needs an x86-64 host "
                            "(use backend=portable)", arg);
            o->engine = ENGINE_NATIVE;
        } else if (n == 14 && strncmp(p, "backend=interp", n) == 0)
            o->engine = ENGINE_INTERP;
        else
            return fail(err, errlen, "-accel %s: unknown tcg option '%.*s' (thread=single, "
                        "backend=native|portable|interp)", arg, (int)n, p);
        p += n;
    }
    return 0;
}

static int parse_lockstep_every(struct options *o, const char *arg, char *err, size_t errlen)
{
    char *end;
    unsigned long long n = strtoull(arg, &end, 10);
    if (*end || n == 0 || n > 0xFFFFFFFFu)
        return fail(err, errlen, "--lockstep-every %s: expected a count of blocks (1 or more)", arg);
    o->lockstep = true;
    o->lockstep_every = (uint32_t)n;
    return 0;
}

static int parse_tb_size(struct options *o, const char *arg, char *err, size_t errlen)
{
    char *end;
    unsigned long long mb = strtoull(arg, &end, 10);
    if (*end || mb == 0 || mb > 4096)
        return fail(err, errlen, "-tb-size %s: expected a size in MB (1-4096)", arg);
    o->tb_size_mb = (uint32_t)mb;
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
    if (strcmp(arg, "none") == 0)
        o->display = DISPLAY_NONE;
    else if (strcmp(arg, "curses") == 0)
        o->display = DISPLAY_CURSES;
    else if (strcmp(arg, "sdl") == 0)
        o->display = DISPLAY_SDL;
    else
        return fail(err, errlen, "-display %s: not supported (sdl, none, curses)", arg);
    return 0;
}

static int parse_vga(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "std") == 0)
        o->vga = true;
    else if (strcmp(arg, "none") == 0)
        o->vga = false;
    else
        return fail(err, errlen, "-vga %s: unsupported card (std, none)", arg);
    return 0;
}

static int add_drive(struct options *o, struct drive_option d, const char *what,
                     char *err, size_t errlen)
{
    int max = d.interface == DRIVE_IDE ? 4 : 2;
    if (d.index < 0) {   /* first free index */
        for (d.index = 0; d.index < max; d.index++) {
            bool taken = false;
            for (int i = 0; i < o->ndrives; i++)
                taken |= o->drives[i].interface == d.interface && o->drives[i].index == d.index;
            if (!taken)
                break;
        }
    }
    if (d.index >= max)
        return fail(err, errlen, "%s: no free %s slot", what,
                    d.interface == DRIVE_IDE ? "IDE" : "floppy");
    for (int i = 0; i < o->ndrives; i++)
        if (o->drives[i].interface == d.interface && o->drives[i].index == d.index)
            return fail(err, errlen, "%s: %s index %d is already in use", what,
                        d.interface == DRIVE_IDE ? "IDE" : "floppy", d.index);
    if (o->ndrives >= OPTIONS_MAX_DRIVES)
        return fail(err, errlen, "%s: too many drives", what);
    if (d.cdrom)
        d.read_only = true;
    o->drives[o->ndrives++] = d;
    return 0;
}

#define DRIVE_SHORTHAND(fn, iface, idx, is_cdrom)                                       \
    static int fn(struct options *o, const char *arg, char *err, size_t errlen)         \
    {                                                                                   \
        struct drive_option d = { .file = arg, .interface = iface, .index = idx,        \
                                  .cdrom = is_cdrom };                                  \
        return add_drive(o, d, "-" #fn, err, errlen);                                    \
    }
DRIVE_SHORTHAND(hda, DRIVE_IDE, 0, false)
DRIVE_SHORTHAND(hdb, DRIVE_IDE, 1, false)
DRIVE_SHORTHAND(hdc, DRIVE_IDE, 2, false)
DRIVE_SHORTHAND(hdd, DRIVE_IDE, 3, false)
DRIVE_SHORTHAND(cdrom, DRIVE_IDE, 2, true)
DRIVE_SHORTHAND(fda, DRIVE_FLOPPY, 0, false)
DRIVE_SHORTHAND(fdb, DRIVE_FLOPPY, 1, false)

static bool parse_on_off(const char *v, bool *out)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Split "key=value,key=value" into calls of fn; a bare first word is
 * passed with key "" (e.g. "-boot d"). A value cannot contain commas
 * (QEMU's ",," escape is not supported). */
static int for_each_prop(const char *arg, const char *what, char *err, size_t errlen,
                         int (*fn)(void *ctx, const char *key, const char *value,
                                   char *err, size_t errlen), void *ctx)
{
    const char *p = arg;
    while (*p) {
        size_t len = strcspn(p, ",");
        char prop[1024];
        if (len >= sizeof(prop))
            return fail(err, errlen, "%s %s: property too long", what, arg);
        memcpy(prop, p, len);
        prop[len] = '\0';
        char *eq = strchr(prop, '=');
        const char *key = "", *value = prop;
        if (eq) {
            *eq = '\0';
            key = prop;
            value = eq + 1;
        }
        if (fn(ctx, key, value, err, errlen) != 0)
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* A copy the options keep (freed by options_free); NULL if out of memory. */
static const char *keep_copy(struct options *o, const char *text, size_t len)
{
    if (o->nowned >= OPTIONS_MAX_OWNED)
        return NULL;
    char *copy = strndup(text, len);
    if (copy)
        o->owned[o->nowned++] = copy;
    return copy;
}

void options_free(struct options *o)
{
    for (int i = 0; i < o->nowned; i++)
        free(o->owned[i]);
    o->nowned = 0;
}

/* ---- networking: -netdev user, -nic, -device ne2k_*, -object filter-dump ---- */

static int copy_id(char *dst, const char *value, const char *what, char *err, size_t errlen)
{
    size_t len = strlen(value);
    if (len == 0 || len >= NET_SLIRP_ID_MAX)
        return fail(err, errlen, "%s: id '%s' must be 1 to %d characters", what, value,
                    NET_SLIRP_ID_MAX - 1);
    memcpy(dst, value, len + 1);
    return 0;
}

/* xx:xx:xx:xx:xx:xx, unicast and not all zero */
static int parse_mac(const char *text, uint8_t mac[6])
{
    if (strlen(text) != 17)
        return -1;
    bool zero = true;
    for (int i = 0; i < 6; i++) {
        const char *p = text + i * 3;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])
            || (i < 5 && p[2] != ':'))
            return -1;
        char hex[3] = { p[0], p[1], '\0' };
        mac[i] = (uint8_t)strtoul(hex, NULL, 16);
        zero &= mac[i] == 0;
    }
    return zero || (mac[0] & 1) ? -1 : 0;
}

static int set_mac(uint8_t mac[6], const char *what, const char *value, char *err, size_t errlen)
{
    if (parse_mac(value, mac) != 0)
        return fail(err, errlen, "%s: mac=%s: expected a unicast address like "
                    "52:54:00:12:34:57", what, value);
    return 0;
}

struct netdev_ctx {
    struct options *o;
    const char *what;              /* "-netdev" or "-nic" */
    struct net_slirp_config *c;
    struct nic_option *nic;        /* -nic only */
    bool typed, none;
};

static int netdev_prop(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
    struct netdev_ctx *x = ctx;
    if (!key[0]) {
        if (x->typed)
            return fail(err, errlen, "%s: expected property=value, got '%s'", x->what, value);
        x->typed = true;
        if (x->nic && strcmp(value, "none") == 0)
            x->none = true;
        else if (strcmp(value, "user") != 0)
            return fail(err, errlen, "%s %s: unsupported network backend (user%s)", x->what,
                        value, x->nic ? ", none" : "");
        return 0;
    }
    if (!x->typed)
        return fail(err, errlen, "%s: the backend type (user) comes first", x->what);
    if (x->none)
        return fail(err, errlen, "-nic none takes no properties");
    if (strcmp(key, "id") == 0)
        return copy_id(x->c->id, value, x->what, err, errlen);
    if (x->nic && strcmp(key, "model") == 0) {
        if (strcmp(value, "ne2k_pci") == 0)
            x->nic->model = NIC_NE2K_PCI;
        else if (strcmp(value, "ne2k_isa") == 0)
            x->nic->model = NIC_NE2K_ISA;
        else
            return fail(err, errlen, "-nic: model=%s is not supported (ne2k_pci, ne2k_isa)",
                        value);
        return 0;
    }
    if (x->nic && strcmp(key, "mac") == 0)
        return set_mac(x->nic->mac, "-nic", value, err, errlen);
    return net_slirp_config_set(x->c, key, value, err, errlen);
}

/* -netdev user,id=ID[,net=][,host=][,dns=][,dhcpstart=][,restrict=on][,hostfwd=...]... */
static int parse_netdev(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (o->nnetdevs >= OPTIONS_MAX_NETDEVS)
        return fail(err, errlen, "-netdev: at most %d network backends", OPTIONS_MAX_NETDEVS);
    struct net_slirp_config *c = &o->netdevs[o->nnetdevs];
    net_slirp_config_init(c, "");
    struct netdev_ctx x = { .o = o, .what = "-netdev", .c = c };
    if (for_each_prop(arg, "-netdev", err, errlen, netdev_prop, &x) != 0)
        return -1;
    if (!x.typed)
        return fail(err, errlen, "-netdev %s: expected user,id=ID", arg);
    if (!c->id[0])
        return fail(err, errlen, "-netdev %s: id= is required", arg);
    if (net_slirp_config_finish(c, err, errlen) != 0)
        return -1;
    o->nnetdevs++;
    return 0;
}

static int add_nic(struct options *o, struct nic_option nic, const char *what, char *err,
                   size_t errlen)
{
    if (o->nnics >= OPTIONS_MAX_NICS)
        return fail(err, errlen, "%s: at most %d network cards", what, OPTIONS_MAX_NICS);
    nic.netdev = -1;
    o->nics[o->nnics++] = nic;
    return 0;
}

/* -nic user[,model=ne2k_pci|ne2k_isa][,mac=][,id=][,netdev user properties], -nic none */
static int parse_nic(struct options *o, const char *arg, char *err, size_t errlen)
{
    struct net_slirp_config c;
    net_slirp_config_init(&c, "");
    struct nic_option nic = { .model = NIC_NE2K_PCI, .iobase = 0x300, .irq = 9 };
    struct netdev_ctx x = { .o = o, .what = "-nic", .c = &c, .nic = &nic };
    if (for_each_prop(arg, "-nic", err, errlen, netdev_prop, &x) != 0)
        return -1;
    if (!x.typed)
        return fail(err, errlen, "-nic %s: expected user[,model=...] or none", arg);
    if (x.none)
        return 0;   /* no card: the default anyway */
    if (!c.id[0])
        snprintf(c.id, sizeof c.id, "nic%d", o->nnics);
    if (o->nnetdevs >= OPTIONS_MAX_NETDEVS)
        return fail(err, errlen, "-nic: at most %d network backends", OPTIONS_MAX_NETDEVS);
    if (net_slirp_config_finish(&c, err, errlen) != 0)
        return -1;
    memcpy(nic.netdev_id, c.id, sizeof nic.netdev_id);
    if (add_nic(o, nic, "-nic", err, errlen) != 0)
        return -1;
    o->netdevs[o->nnetdevs++] = c;
    return 0;
}

struct nic_device_ctx {
    struct nic_option nic;
    const char *name;              /* "ne2k_pci" / "ne2k_isa" */
    bool first;
};

static int nic_device_prop(void *ctx, const char *key, const char *value, char *err,
                           size_t errlen)
{
    struct nic_device_ctx *x = ctx;
    if (x->first) {   /* the device name */
        x->first = false;
        return 0;
    }
    bool isa = x->nic.model == NIC_NE2K_ISA;
    unsigned long v;
    if (strcmp(key, "netdev") == 0)
        return copy_id(x->nic.netdev_id, value, "-device", err, errlen);
    if (strcmp(key, "mac") == 0)
        return set_mac(x->nic.mac, "-device", value, err, errlen);
    if (strcmp(key, "id") == 0)
        return 0;   /* QEMU's device id: nothing refers to it here */
    if (isa && strcmp(key, "iobase") == 0) {
        if (parse_port_value(value, 0x3E0, &v) != 0 || v < 0x200 || (v & 0x1F))
            return fail(err, errlen, "-device ne2k_isa: iobase=%s: expected 0x200-0x3e0, "
                        "a multiple of 0x20", value);
        x->nic.iobase = (uint16_t)v;
        return 0;
    }
    if (isa && strcmp(key, "irq") == 0) {
        if (parse_port_value(value, 15, &v) != 0 || v < 3 || v == 8 || v == 13 || v == 14)
            return fail(err, errlen, "-device ne2k_isa: irq=%s: expected 3-7, 9-12 or 15", value);
        x->nic.irq = (uint8_t)v;
        return 0;
    }
    return fail(err, errlen, "-device %s: unknown property '%s' (netdev, mac%s)", x->name,
                key[0] ? key : value, isa ? ", iobase, irq" : "");
}

static int parse_device(struct options *o, const char *arg, char *err, size_t errlen)
{
    size_t name_len = strcspn(arg, ",");
    struct nic_device_ctx x = { .nic = { .iobase = 0x300, .irq = 9 }, .first = true };
    if (name_len == strlen("isa-debug-exit") && strncmp(arg, "isa-debug-exit", name_len) == 0)
        return parse_debug_exit(o, arg, err, errlen);
    if (name_len == 8 && strncmp(arg, "ne2k_pci", 8) == 0) {
        x.nic.model = NIC_NE2K_PCI;
        x.name = "ne2k_pci";
    } else if (name_len == 8 && strncmp(arg, "ne2k_isa", 8) == 0) {
        x.nic.model = NIC_NE2K_ISA;
        x.name = "ne2k_isa";
    } else {
        return fail(err, errlen, "-device %.*s: unknown device (supported: isa-debug-exit, "
                    "ne2k_pci, ne2k_isa)", (int)name_len, arg);
    }
    if (for_each_prop(arg, "-device", err, errlen, nic_device_prop, &x) != 0)
        return -1;
    return add_nic(o, x.nic, "-device", err, errlen);
}

struct dump_ctx {
    struct options *o;
    struct dump_option d;
    bool first, has_id;
};

static int dump_prop(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
    struct dump_ctx *x = ctx;
    if (x->first) {
        x->first = false;
        if (key[0] || strcmp(value, "filter-dump") != 0)
            return fail(err, errlen, "-object %s: unsupported object (filter-dump)", value);
        return 0;
    }
    if (strcmp(key, "id") == 0) {
        x->has_id = value[0] != '\0';
        return 0;
    }
    if (strcmp(key, "netdev") == 0)
        return copy_id(x->d.netdev_id, value, "-object filter-dump", err, errlen);
    if (strcmp(key, "file") == 0) {
        if (!value[0] || !(x->d.file = keep_copy(x->o, value, strlen(value))))
            return fail(err, errlen, "-object filter-dump: file= needs a path");
        return 0;
    }
    return fail(err, errlen, "-object filter-dump: unknown property '%s' (id, netdev, file)",
                key[0] ? key : value);
}

/* -object filter-dump,id=ID,netdev=NETDEV,file=PATH.pcap */
static int parse_object(struct options *o, const char *arg, char *err, size_t errlen)
{
    struct dump_ctx x = { .o = o, .first = true };
    if (for_each_prop(arg, "-object", err, errlen, dump_prop, &x) != 0)
        return -1;
    if (!x.has_id || !x.d.netdev_id[0] || !x.d.file)
        return fail(err, errlen, "-object %s: id=, netdev= and file= are required", arg);
    if (o->ndumps >= OPTIONS_MAX_DUMPS)
        return fail(err, errlen, "-object filter-dump: at most %d", OPTIONS_MAX_DUMPS);
    o->dumps[o->ndumps++] = x.d;
    return 0;
}

static int find_netdev(const struct options *o, const char *id)
{
    for (int i = 0; i < o->nnetdevs; i++)
        if (strcmp(o->netdevs[i].id, id) == 0)
            return i;
    return -1;
}

/* After every option: ids resolved (options may come in any order, as in
 * QEMU), each backend used by one card at most, default MACs given. */
static int resolve_network(struct options *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->nnetdevs; i++)
        if (find_netdev(o, o->netdevs[i].id) != i)
            return fail(err, errlen, "-netdev id=%s: duplicate id", o->netdevs[i].id);
    uint8_t next_default = 0x56;   /* QEMU: 52:54:00:12:34:56, then :57... */
    for (int i = 0; i < o->nnics; i++) {
        struct nic_option *nic = &o->nics[i];
        if (nic->netdev_id[0]) {
            nic->netdev = find_netdev(o, nic->netdev_id);
            if (nic->netdev < 0)
                return fail(err, errlen, "-device: netdev '%s' not found (no -netdev with "
                            "that id)", nic->netdev_id);
            for (int k = 0; k < i; k++)
                if (o->nics[k].netdev == nic->netdev)
                    return fail(err, errlen, "netdev '%s' is used by two network cards",
                                nic->netdev_id);
        }
        static const uint8_t zero[6];
        if (memcmp(nic->mac, zero, 6) == 0) {
            const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, next_default++ };
            memcpy(nic->mac, mac, 6);
        }
    }
    for (int i = 0; i < o->ndumps; i++) {
        o->dumps[i].netdev = find_netdev(o, o->dumps[i].netdev_id);
        if (o->dumps[i].netdev < 0)
            return fail(err, errlen, "-object filter-dump: netdev '%s' not found",
                        o->dumps[i].netdev_id);
    }
    return 0;
}

struct drive_ctx {
    struct options *o;
    struct drive_option d;
};

static int drive_prop(void *ctx, const char *key, const char *val, char *err, size_t errlen)
{
    struct drive_ctx *c = ctx;
    bool b;
    if (strcmp(key, "file") == 0) {
        c->d.file = keep_copy(c->o, val, strlen(val));
    } else if (strcmp(key, "format") == 0) {
        if (strcmp(val, "raw") != 0)
            return fail(err, errlen, "-drive: format=%s is not supported (raw only)", val);
    } else if (strcmp(key, "if") == 0) {
        if (strcmp(val, "ide") == 0)
            c->d.interface = DRIVE_IDE;
        else if (strcmp(val, "floppy") == 0)
            c->d.interface = DRIVE_FLOPPY;
        else
            return fail(err, errlen, "-drive: if=%s is not supported (ide, floppy)", val);
    } else if (strcmp(key, "media") == 0) {
        if (strcmp(val, "disk") == 0)
            c->d.cdrom = false;
        else if (strcmp(val, "cdrom") == 0)
            c->d.cdrom = true;
        else
            return fail(err, errlen, "-drive: media=%s is not supported (disk, cdrom)", val);
    } else if (strcmp(key, "index") == 0) {
        char *end;
        long idx = strtol(val, &end, 10);
        if (*end || end == val || idx < 0 || idx > 3)
            return fail(err, errlen, "-drive: invalid index=%s", val);
        c->d.index = (int)idx;
    } else if (strcmp(key, "readonly") == 0 || strcmp(key, "snapshot") == 0) {
        if (!parse_on_off(val, &b))
            return fail(err, errlen, "-drive: %s=%s: expected on or off", key, val);
        if (key[0] == 'r')
            c->d.read_only = b;
        else
            c->d.snapshot = b;
    } else if (strcmp(key, "cache") == 0 || strcmp(key, "aio") == 0 || strcmp(key, "id") == 0) {
        /* accepted and ignored: synchronous I/O through the host page cache */
    } else {
        return fail(err, errlen, "-drive: unknown property '%s' (file, format, if, media, "
                    "index, readonly, snapshot)", key[0] ? key : val);
    }
    return 0;
}

static int parse_drive(struct options *o, const char *arg, char *err, size_t errlen)
{
    struct drive_ctx c = { .o = o, .d = { .interface = DRIVE_IDE, .index = -1 } };
    if (for_each_prop(arg, "-drive", err, errlen, drive_prop, &c) != 0)
        return -1;
    if (!c.d.file || !c.d.file[0])
        return fail(err, errlen, "-drive %s: file= is required", arg);
    if (c.d.interface == DRIVE_FLOPPY && c.d.index > 1)
        return fail(err, errlen, "-drive %s: floppy index must be 0 or 1", arg);
    return add_drive(o, c.d, "-drive", err, errlen);
}

static int boot_prop(void *ctx, const char *key, const char *v, char *err, size_t errlen)
{
    struct options *o = ctx;
    size_t vl = strlen(v);
    if (key[0] == '\0' || strcmp(key, "order") == 0 || strcmp(key, "once") == 0) {
        if (vl == 0 || vl > 8 || strspn(v, "abcdn") < vl)
            return fail(err, errlen, "-boot: invalid boot order '%s' (letters a, c, d, n)", v);
        o->boot_order = keep_copy(o, v, vl);
    } else if (strcmp(key, "menu") == 0) {
        if (!parse_on_off(v, &o->boot_menu))
            return fail(err, errlen, "-boot: menu=%s: expected on or off", v);
    } else if (strcmp(key, "strict") == 0 || strcmp(key, "splash-time") == 0
               || strcmp(key, "reboot-timeout") == 0) {
        /* accepted for compatibility */
    } else {
        return fail(err, errlen, "-boot: unknown property '%s' (order, once, menu)", key);
    }
    return 0;
}

static int parse_boot(struct options *o, const char *arg, char *err, size_t errlen)
{
    return for_each_prop(arg, "-boot", err, errlen, boot_prop, o);
}

static int parse_option_rom(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (o->noption_roms >= OPTIONS_MAX_ROMS)
        return fail(err, errlen, "-option-rom %s: at most %d option ROMs", arg, OPTIONS_MAX_ROMS);
    o->option_roms[o->noption_roms++] = arg;
    return 0;
}

/* A monitor backend: stdio, none, unix:PATH,server,nowait or
 * tcp:HOST:PORT,server,nowait (the socket syntax is checked when opened). */
static int check_monitor_backend(const char *opt, const char *arg, char *err, size_t errlen)
{
    bool is_unix = strncmp(arg, "unix:", 5) == 0 && arg[5] && arg[5] != ',';
    bool is_tcp = strncmp(arg, "tcp:", 4) == 0 && strchr(arg + 4, ':');   /* tcp:HOST:PORT */
    if (strcmp(arg, "stdio") != 0 && strcmp(arg, "none") != 0 && !is_unix && !is_tcp)
        return fail(err, errlen, "%s %s: unsupported backend (stdio, none, "
                    "unix:PATH,server,nowait, tcp:HOST:PORT,server,nowait)", opt, arg);
    return 0;
}

static int parse_monitor(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (check_monitor_backend("-monitor", arg, err, errlen) != 0)
        return -1;
    o->monitor = strcmp(arg, "none") == 0 ? NULL : arg;
    return 0;
}

static int parse_qmp(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (check_monitor_backend("-qmp", arg, err, errlen) != 0)
        return -1;
    o->qmp = strcmp(arg, "none") == 0 ? NULL : arg;
    return 0;
}

/* -icount shift=N[,sleep=off]: instruction-counted time; sleep=off makes
 * halts skip instantly, which is fox86's deterministic mode. */
static int parse_icount(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strstr(arg, "sleep=off"))
        o->deterministic = true;
    else if (strncmp(arg, "shift=", 6) != 0 && strcmp(arg, "auto") != 0
             && strspn(arg, "0123456789") != strlen(arg))
        return fail(err, errlen, "-icount %s: expected shift=N[,sleep=on|off]", arg);
    return 0;
}

static int parse_rtc(struct options *o, const char *arg, char *err, size_t errlen)
{
    const char *base = strstr(arg, "base=");
    if (!base)
        return fail(err, errlen, "-rtc %s: expected base=utc|localtime|YYYY-MM-DDTHH:MM:SS", arg);
    o->rtc_base = keep_copy(o, base + 5, strcspn(base + 5, ","));
    return 0;
}

static int parse_mmu(struct options *o, const char *arg, char *err, size_t errlen)
{
    if (strcmp(arg, "shadow") == 0)
        o->mmu_tlb = false;
    else if (strcmp(arg, "tlb") == 0)
        o->mmu_tlb = true;
    else
        return fail(err, errlen, "-mmu %s: expected shadow or tlb", arg);
    return 0;
}

#define SET_STRING(field) \
    static int set_##field(struct options *o, const char *arg, char *err, size_t errlen) \
    { o->field = arg; return 0; }
SET_STRING(kernel)
SET_STRING(append)
SET_STRING(initrd)
SET_STRING(log_file)
SET_STRING(bios)
SET_STRING(audio)

static int parse_savevm_check(struct options *o, const char *arg, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(arg, &end, 0);
    if (errno || end == arg || *end || arg[0] == '-' || n == 0)
        return fail(err, errlen, "--savevm-check %s: expected a number of instructions > 0", arg);
    o->savevm_check = n;
    return 0;
}

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
SET_FLAG(full_screen)
SET_FLAG(start_stopped)
SET_FLAG(stats)
SET_FLAG(show_help)
SET_FLAG(show_version)
SET_FLAG(snapshot)
SET_FLAG(deterministic)
SET_FLAG(lockstep)

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
    { "bios",      true,  set_bios,        "FILE",    "system BIOS image (default: Debian's SeaBIOS)" },
    { "option-rom", true, parse_option_rom, "FILE",   "load an extra option ROM" },
    { "hda",       true,  hda,             "FILE",    "IDE primary master disk image (raw)" },
    { "hdb",       true,  hdb,             "FILE",    "IDE primary slave disk image" },
    { "hdc",       true,  hdc,             "FILE",    "IDE secondary master disk image" },
    { "hdd",       true,  hdd,             "FILE",    "IDE secondary slave disk image" },
    { "cdrom",     true,  cdrom,           "FILE",    "ISO 9660 image in the IDE secondary master CD-ROM drive" },
    { "fda",       true,  fda,             "FILE",    "floppy image in drive A:" },
    { "fdb",       true,  fdb,             "FILE",    "floppy image in drive B:" },
    { "drive",     true,  parse_drive,     "OPTS",    "file=F[,if=ide|floppy][,media=disk|cdrom][,index=N][,readonly=on][,snapshot=on][,format=raw]" },
    { "snapshot",  false, set_snapshot,    "",        "write to temporary overlays; images are never modified" },
    { "boot",      true,  parse_boot,      "ORDER",   "boot order: [order=]LETTERS (a floppy, c disk, d CD-ROM)[,menu=on]" },
    { "nographic", false, set_nographic,   "",        "no display; serial on stdio" },
    { "S",         false, set_start_stopped, "",      "start stopped: the guest runs after the monitor's cont (needs -monitor or -qmp)" },
    { "display",   true,  parse_display,   "TYPE",    "sdl (a window; the default when the host has a display), none, or curses (VGA text screen in the terminal)" },
    { "full-screen", false, set_full_screen, "",      "start the SDL window full screen (Ctrl+Alt+F toggles)" },
    { "audio",     true,  set_audio,       "DRIVER",  "the PC speaker: sdl (the default with the SDL window), none, or wav,path=FILE" },
    { "vga",       true,  parse_vga,       "TYPE",    "std (default) or none" },
    { "serial",    true,  parse_serial,    "DEV",     "COM1 (then COM2) backend: stdio, file:PATH, null, none" },
    { "monitor",   true,  parse_monitor,   "DEV",     "the monitor on stdio, unix:PATH,server,nowait or tcp:HOST:PORT,server,nowait" },
    { "qmp",       true,  parse_qmp,       "DEV",     "the JSON monitor (QMP) on the same backends" },
    { "icount",    true,  parse_icount,    "OPTS",    "shift=N[,sleep=off]: sleep=off makes runs deterministic" },
    { "deterministic", false, set_deterministic, "",  "guest time follows executed instructions only" },
    { "rtc",       true,  parse_rtc,       "base=B",  "RTC start: utc (default), localtime or YYYY-MM-DDTHH:MM:SS" },
    { "debugcon",  true,  parse_debugcon,  "DEV",     "port 0xE9 backend: stdio, file:PATH, null" },
    { "device",    true,  parse_device,    "DEV",     "isa-debug-exit[,iobase=0xf4][,iosize=0x04], ne2k_pci,netdev=ID[,mac=M], ne2k_isa,netdev=ID[,iobase=0x300][,irq=9][,mac=M]" },
    { "netdev",    true,  parse_netdev,    "user,id=ID", "user networking: [,net=10.0.2.0/24][,host=][,dns=][,dhcpstart=][,restrict=on][,hostfwd=tcp:[HOSTADDR]:PORT-[GUESTADDR]:PORT]..." },
    { "nic",       true,  parse_nic,       "user|none", "a card and its backend in one: user[,model=ne2k_pci|ne2k_isa][,mac=M][,any -netdev user property]" },
    { "object",    true,  parse_object,    "OBJ",     "filter-dump,id=ID,netdev=ID,file=PATH.pcap: capture the netdev's frames" },
    { "no-reboot", false, set_no_reboot,   "",        "stop (exit status 1) on triple fault instead of resetting" },
    { "d",         true,  parse_log_items, "ITEMS",   "log items, comma separated (-d help lists them)" },
    { "D",         true,  set_log_file,    "FILE",    "write the -d log to FILE instead of stderr" },
    { "dfilter",   true,  parse_log_filter, "RANGES", "in_asm and out_asm only for EIPs in START+SIZE, START-SIZE or START..LAST (comma separated)" },
    { "accel",     true,  parse_accel,     "ENGINE",  "tcg (the translator; default: native on x86-64, else portable), tcg,backend=native|portable, interp (the interpreter)" },
    { "tb-size",   true,  parse_tb_size,   "MB",      "translation cache budget (default 128); flushed whole when full" },
    { "lockstep",  false, set_lockstep,    "",        "debug: run each translated block also interpreted, stop at the first difference" },
    { "lockstep-every", true, parse_lockstep_every, "N", "debug: --lockstep on one block in N (faster)" },
    { "machine",   true,  parse_machine,   "pc",      "accepted for QEMU compatibility" },
    { "M",         true,  parse_machine,   NULL,      NULL },
    { "mmu",       true,  parse_mmu,       "MODE",    "shadow (default): cached shadow page tables; tlb: walk on every TLB miss" },
    { "savevm-check", true, parse_savevm_check, "N", "debug: save, reset and reload the machine every N instructions" },
    { "stats",     false, set_stats,       "",        "print counters (instructions, exceptions, MMU...) at exit" },
    { "trace",     false, set_trace,       "",        "same as -d in_asm" },
    { "help",      false, set_show_help,   "",        "this text" },
    { "h",         false, set_show_help,   NULL,      NULL },
    { "version",   false, set_show_version, "",       "print the version" },
};

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = OPTIONS_DEFAULT_RAM_MB << 20;
    o->vga = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {   /* a bare image is -hda, as in QEMU */
            if (hda(o, arg, err, errlen) != 0)
                return -1;
            continue;
        }
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
    if (resolve_network(o, err, errlen) != 0)
        return -1;
    if (o->snapshot)
        for (int i = 0; i < o->ndrives; i++)
            o->drives[i].snapshot = true;
    /* COM1 goes to the terminal unless the terminal shows the VGA screen. */
    if (!o->serial)
        o->serial = o->display == DISPLAY_CURSES && !o->nographic ? "null" : "stdio";
    for (int i = 0; i < 2; i++) {
        const char *mon = i == 0 ? o->monitor : o->qmp;
        if (mon && strcmp(mon, "stdio") == 0
            && (strcmp(o->serial, "stdio") == 0 || o->display == DISPLAY_CURSES
                || (i == 1 && o->monitor && strcmp(o->monitor, "stdio") == 0)))
            return fail(err, errlen, "%s stdio: the terminal is already used by the %s "
                        "(give -serial file:PATH or -serial null)", i == 0 ? "-monitor" : "-qmp",
                        o->display == DISPLAY_CURSES ? "curses display"
                        : strcmp(o->serial, "stdio") == 0 ? "serial port" : "monitor");
    }
    return 0;
}

void options_print_help(FILE *out)
{
    fprintf(out, "usage: fox86 [options]\n\n"
                 "Runs an emulated i686 PC (i440FX/PIIX3) with SeaBIOS. Options follow\n"
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
