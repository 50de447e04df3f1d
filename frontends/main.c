/* frontends/main.c: the fox86 program.
 *
 * Parses the command line, opens every file it names (so that each problem
 * is one "fox86: ..." line on stderr and exit status 1 before anything
 * runs), builds the board (RAM, COM1, the debug ports), boots the -kernel
 * through the multiboot loader and runs the machine.
 *
 * Exit status, as qemu-system-i386: 0 when the guest ends normally (here:
 * halts with nothing left to wake it), (v << 1) | 1 when it writes v to
 * isa-debug-exit, 1 on any error (bad command line, unreadable or invalid
 * kernel, triple fault with -no-reboot, stopped by a signal).
 *
 * The one global: the signal number that asked us to stop, written by the
 * signal handler and polled by the run loop between slices.
 */
#define _GNU_SOURCE   /* strptime, timegm, asprintf */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "bios/firmware.h"
#include "bios/multiboot.h"
#include "config.h"
#include "core/blockdev.h"
#include "core/chardev.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/fw_cfg.h"
#include "devices/pc.h"
#include "frontends/chardev_socket.h"
#include "frontends/display_sdl.h"
#include "frontends/audio.h"
#include "frontends/display_text.h"
#include "frontends/monitor.h"
#include "frontends/net_pcap.h"
#include "frontends/net_slirp.h"
#include "frontends/options.h"
#include "frontends/qmp.h"
#include "frontends/trace.h"
#include "translator/tcache.h"


static volatile sig_atomic_t stop_signal;   /* see the file comment */

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

struct session {
    struct options opts;
    FILE *log_file;
    struct chardev *stdio;          /* shared by every backend that says "stdio" */
    struct chardev *serial;
    struct chardev *serial2;
    struct chardev *debugcon;
    struct multiboot_image *kernel;      /* -kernel multiboot ELF: direct boot, no BIOS */
    struct linux_image *linux_kernel;    /* -kernel bzImage: through SeaBIOS and fw_cfg */
    uint8_t *bios, *vgabios;
    uint32_t bios_size, vgabios_size;
    uint8_t *nic_rom;                    /* iPXE for ne2k_pci, or NULL */
    uint32_t nic_rom_size;
    uint8_t *option_roms[OPTIONS_MAX_ROMS];
    uint32_t option_rom_sizes[OPTIONS_MAX_ROMS];
    char *option_rom_names[OPTIONS_MAX_ROMS];   /* "genroms/NAME" */
    struct blockdev *drives[OPTIONS_MAX_DRIVES];
    uint32_t fw_words[12];               /* little-endian fw_cfg values for the Linux boot */
    char bootorder[64];
    struct machine *machine;
    struct trace *trace;
    struct chardev *monitor_cd;
    struct monitor *monitor;
    struct monitor_shared monitor_shared;   /* symbols, stop/cont */
    struct chardev *qmp_cd;
    struct qmp *qmp;
    struct text_display *text_display;
    struct sdl_display *sdl_display;
    struct audio *audio;                 /* -audio: the PC speaker, or NULL */
    struct tcache *tcache;               /* -accel tcg,backend=portable: the translator */
    struct net_slirp *netdevs[OPTIONS_MAX_NETDEVS];   /* -netdev user / -nic user */
    int nnetdevs;
    struct net_pcap *dumps[OPTIONS_MAX_DUMPS];        /* -object filter-dump */
    uint64_t net_polled_ns;              /* host time of the last look at the slirp sockets */
};

_Static_assert(OPTIONS_MAX_NICS <= PC_MAX_NICS, "every -device/-nic card fits the board");

static uint64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Between slices: a look (no wait) at the slirp sockets at most every
 * millisecond of host time, so a busy guest costs no syscall storm. */
#define NET_POLL_INTERVAL_NS 1000000u
static void poll_network(struct session *s)
{
    if (s->nnetdevs == 0)
        return;
    uint64_t now = host_now_ns();
    if (now - s->net_polled_ns < NET_POLL_INTERVAL_NS)
        return;
    s->net_polled_ns = now;
    net_slirp_wait(s->netdevs, s->nnetdevs, 0);
}

/* The halted guest's wait: on the slirp sockets, so a packet for the guest
 * ends it at once (machine.h idle_wait). */
static void session_idle_wait(struct machine *m, void *opaque, uint64_t ns)
{
    struct session *s = opaque;
    net_slirp_wait(s->netdevs, s->nnetdevs, ns);
    s->net_polled_ns = host_now_ns();
}

/* Host-side work between CPU slices. */
/* The monitors and displays, once each. */
static void poll_frontends(struct session *s)
{
    poll_network(s);
    if (s->monitor)
        monitor_poll(s->monitor);
    if (s->qmp)
        qmp_poll(s->qmp);
    if (s->text_display)
        text_display_poll(s->text_display);
    if (s->sdl_display)
        sdl_display_poll(s->sdl_display);
    audio_poll(s->audio);
}

static void session_poll(struct machine *m, void *opaque)
{
    struct session *s = opaque;
    poll_frontends(s);
    /* "stop": keep serving the monitors and displays, run no guest code */
    while (s->monitor_shared.stopped && !m->exit_requested && !(m->stop_signal && *m->stop_signal)) {
        struct timespec nap = { 0, 5 * 1000 * 1000 };
        nanosleep(&nap, NULL);
        poll_frontends(s);
    }
}

/* Open a backend spec; all "stdio" users share one chardev. */
static int open_backend(struct session *s, const char *spec, struct chardev **out,
                        char *err, size_t errlen)
{
    if (strcmp(spec, "stdio") == 0 && s->stdio) {
        *out = s->stdio;
        return 0;
    }
    if (chardev_open_host(spec, out, err, errlen) != 0)
        return -1;
    if (strcmp(spec, "stdio") == 0)
        s->stdio = *out;
    return 0;
}

static void close_backend(struct session *s, struct chardev *cd)
{
    if (cd && cd != s->stdio)
        chardev_close(cd);
}

static void print_stats(const struct machine *m, double host_seconds)
{
    static char text[16384];
    monitor_format_stats(m, host_seconds, text, sizeof(text));
    fputs(text, stderr);
}

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -rtc base=: utc (now), localtime (now, shifted to local time) or a date. */
static int rtc_base_time(const struct options *o, bool deterministic, int64_t *out,
                         char *err, size_t errlen)
{
    time_t now = time(NULL);
    const char *b = o->rtc_base;
    if (!b || strcmp(b, "utc") == 0) {
        /* Deterministic runs start from a fixed date so two runs match. */
        *out = deterministic ? 1767225600 /* 2026-01-01 00:00:00 UTC */ : (int64_t)now;
        return 0;
    }
    if (strcmp(b, "localtime") == 0) {
        struct tm lt;
        localtime_r(&now, &lt);
        *out = (int64_t)now + lt.tm_gmtoff;
        return 0;
    }
    struct tm tm = { 0 };
    const char *end = strptime(b, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        end = strptime(b, "%Y-%m-%d", &tm);
    if (!end || *end) {
        snprintf(err, errlen, "-rtc base=%s: expected utc, localtime, YYYY-MM-DD or "
                 "YYYY-MM-DDTHH:MM:SS", b);
        return -1;
    }
    *out = (int64_t)timegm(&tm);
    return 0;
}

static void put_le32(uint32_t *slot, uint32_t v)
{
    uint8_t *p = (uint8_t *)slot;
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void add_fw_item(struct pc_config *pc, uint16_t key, const char *name, const void *data,
                        uint32_t size)
{
    if (pc->nfw_items < PC_MAX_FW_ITEMS)
        pc->fw_items[pc->nfw_items++] = (struct pc_fw_item){ key, name, data, size };
}

/* The fw_cfg items QEMU gives SeaBIOS for -kernel, and our option ROM. */
/* With a ne2k_pci card, iPXE becomes its boot ROM (SeaBIOS takes the
 * fw_cfg file "pciVVVV,DDDD.rom" for the device, as from QEMU's ROM BAR),
 * so "-boot n" boots from the network. Without Debian's ipxe-qemu the card
 * simply has no ROM, as a card without one. */
static void add_nic_rom(struct session *s, struct pc_config *pc)
{
    bool pci_nic = false;
    for (int i = 0; i < s->opts.nnics; i++)
        pci_nic |= s->opts.nics[i].model == NIC_NE2K_PCI;
    char ignored[256];
    if (!pci_nic || access(FIRMWARE_NE2K_PCI_ROM, R_OK) != 0
        || firmware_load(FIRMWARE_NE2K_PCI_ROM, FIRMWARE_OPTION_ROM, &s->nic_rom,
                         &s->nic_rom_size, ignored, sizeof ignored) != 0)
        return;
    add_fw_item(pc, 0, "pci10ec,8029.rom", s->nic_rom, s->nic_rom_size);
}

static int add_linux_boot(struct session *s, struct pc_config *pc, char *err, size_t errlen)
{
    const struct linux_image *li = s->linux_kernel;
    if (linuxboot_rom_size == 0) {
        snprintf(err, errlen, "-kernel %s: this build has no Linux boot option ROM (no 16-bit "
                 "x86 assembler at build time)", s->opts.kernel);
        return -1;
    }
    uint32_t *w = s->fw_words;
    put_le32(&w[0], li->setup_addr);   put_le32(&w[1], li->setup_size);
    put_le32(&w[2], li->kernel_addr);  put_le32(&w[3], li->kernel_size);
    put_le32(&w[4], li->initrd_addr);  put_le32(&w[5], li->initrd_size);
    put_le32(&w[6], li->cmdline_addr); put_le32(&w[7], li->cmdline_size);
    add_fw_item(pc, FW_CFG_SETUP_ADDR, NULL, &w[0], 4);
    add_fw_item(pc, FW_CFG_SETUP_SIZE, NULL, &w[1], 4);
    add_fw_item(pc, FW_CFG_SETUP_DATA, NULL, li->setup, li->setup_size);
    add_fw_item(pc, FW_CFG_KERNEL_ADDR, NULL, &w[2], 4);
    add_fw_item(pc, FW_CFG_KERNEL_SIZE, NULL, &w[3], 4);
    add_fw_item(pc, FW_CFG_KERNEL_DATA, NULL, li->kernel, li->kernel_size);
    add_fw_item(pc, FW_CFG_INITRD_ADDR, NULL, &w[4], 4);
    add_fw_item(pc, FW_CFG_INITRD_SIZE, NULL, &w[5], 4);
    add_fw_item(pc, FW_CFG_INITRD_DATA, NULL, li->initrd, li->initrd_size);
    add_fw_item(pc, FW_CFG_CMDLINE_ADDR, NULL, &w[6], 4);
    add_fw_item(pc, FW_CFG_CMDLINE_SIZE, NULL, &w[7], 4);
    add_fw_item(pc, FW_CFG_CMDLINE_DATA, NULL, li->cmdline, li->cmdline_size);
    add_fw_item(pc, 0, "genroms/linuxboot.bin", linuxboot_rom, linuxboot_rom_size);
    /* Boot the kernel before any disk, as QEMU does (bootindex 0). */
    snprintf(s->bootorder, sizeof(s->bootorder), "/rom@genroms/linuxboot.bin\n");
    add_fw_item(pc, 0, "bootorder", s->bootorder, (uint32_t)strlen(s->bootorder) + 1);
    return 0;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* -display sdl, or the default display: the SDL window when the host has
 * a display. Asked for and impossible: an error; by default: no window. */
static int open_sdl_display(struct session *s, char *err, size_t errlen)
{
    const struct options *o = &s->opts;
    bool asked = o->display == DISPLAY_SDL;
    if (o->nographic || !(asked || (o->display == DISPLAY_DEFAULT && o->vga)))
        return 0;
    if (!sdl_display_host_has_display()) {
        if (!asked)
            return 0;
        snprintf(err, errlen, "-display sdl: no display available (DISPLAY and "
                 "WAYLAND_DISPLAY are unset; use -display none or -nographic)");
        return -1;
    }
    char why[256];
    s->sdl_display = sdl_display_create(s->machine, o->full_screen, why, sizeof why);
    if (!s->sdl_display && asked) {
        snprintf(err, errlen, "-display sdl: cannot open a window: %s", why);
        return -1;
    }
    return 0;
}

/* Everything before the machine runs. Returns 0, or -1 with err set. */
static int session_setup(struct session *s, char *err, size_t errlen)
{
    const struct options *o = &s->opts;
    if (o->log_file && !(s->log_file = fopen(o->log_file, "w"))) {
        snprintf(err, errlen, "%s: cannot open log file: %s", o->log_file, strerror(errno));
        return -1;
    }
    if (s->log_file)
        setvbuf(s->log_file, NULL, _IOLBF, 0);

    bool direct_boot = false;   /* a multiboot kernel starts without the BIOS */
    if (o->kernel) {
        if (linux_image_probe(o->kernel) == 1) {
            s->linux_kernel = linux_image_load(o->kernel, o->initrd, o->append ? o->append : "",
                                               o->ram_size, err, errlen);
            if (!s->linux_kernel)
                return -1;
        } else {
            s->kernel = multiboot_open(o->kernel, o->append, o->initrd, o->ram_size, err, errlen);
            if (!s->kernel)
                return -1;
            direct_boot = true;
        }
    } else if (o->initrd || o->append) {
        snprintf(err, errlen, "%s requires -kernel", o->initrd ? "-initrd" : "-append");
        return -1;
    }

    struct pc_config pc = {
        .vga = o->vga,
        .debug_exit = o->debug_exit,
        .debug_exit_iobase = o->debug_exit_iobase,
        .debug_exit_iosize = o->debug_exit_iosize,
        .boot_order = o->boot_order ? o->boot_order : "cad",
        .boot_menu = o->boot_menu,
        .nographic = o->nographic,   /* SeaBIOS then mirrors its screen on COM1, as with QEMU */
    };
    if (rtc_base_time(o, o->deterministic, &pc.rtc_base, err, errlen) != 0)
        return -1;
    if (!direct_boot) {
        const char *bios = o->bios ? o->bios : FIRMWARE_DEFAULT_BIOS;
        if (firmware_load(bios, FIRMWARE_SYSTEM_BIOS, &s->bios, &s->bios_size, err, errlen) != 0)
            return -1;
        pc.bios = s->bios;
        pc.bios_size = s->bios_size;
        if (o->vga) {
            if (firmware_load(FIRMWARE_DEFAULT_VGABIOS, FIRMWARE_OPTION_ROM, &s->vgabios,
                              &s->vgabios_size, err, errlen) != 0)
                return -1;
            pc.vgabios = s->vgabios;
            pc.vgabios_size = s->vgabios_size;
        }
        for (int i = 0; i < o->noption_roms; i++) {
            if (firmware_load(o->option_roms[i], FIRMWARE_OPTION_ROM, &s->option_roms[i],
                              &s->option_rom_sizes[i], err, errlen) != 0)
                return -1;
            if (asprintf(&s->option_rom_names[i], "genroms/%s",
                         basename_of(o->option_roms[i])) < 0) {
                s->option_rom_names[i] = NULL;
                snprintf(err, errlen, "out of host memory");
                return -1;
            }
            add_fw_item(&pc, 0, s->option_rom_names[i], s->option_roms[i],
                        s->option_rom_sizes[i]);
        }
        if (s->linux_kernel && add_linux_boot(s, &pc, err, errlen) != 0)
            return -1;
        add_nic_rom(s, &pc);
    }

    for (int i = 0; i < o->ndrives; i++) {
        const struct drive_option *d = &o->drives[i];
        struct blockdev_options bo = {
            .path = d->file, .read_only = d->read_only, .snapshot = d->snapshot,
            .cdrom = d->cdrom,
        };
        if (blockdev_open_file(&bo, &s->drives[i], err, errlen) != 0)
            return -1;
        if (d->interface == DRIVE_IDE) {
            pc.ide[d->index] = (struct ide_drive_config){
                .bd = s->drives[i], .cdrom = d->cdrom, .present = true };
        } else {
            if (!fdc82077_cmos_type(s->drives[i]->size)) {
                snprintf(err, errlen, "%s: %llu bytes is not a floppy size (160K-2.88M)",
                         d->file, (unsigned long long)s->drives[i]->size);
                return -1;
            }
            pc.floppy[d->index] = s->drives[i];
        }
    }
    /* QEMU's pc machine always has a CD-ROM drive at the secondary master
     * unless a disk is there; SeaBIOS and Linux then see an empty drive. */
    if (!pc.ide[2].present)
        pc.ide[2] = (struct ide_drive_config){ .cdrom = true, .present = true };

    if (open_backend(s, o->serial, &s->serial, err, errlen) != 0)
        return -1;
    if (o->serial2 && open_backend(s, o->serial2, &s->serial2, err, errlen) != 0)
        return -1;
    if (o->debugcon && open_backend(s, o->debugcon, &s->debugcon, err, errlen) != 0)
        return -1;
    pc.serial[0] = s->serial;
    pc.serial[1] = s->serial2;
    pc.debugcon = s->debugcon;

    /* The network backends and captures, then the cards that use them. */
    for (int i = 0; i < o->nnetdevs; i++) {
        if (!(s->netdevs[i] = net_slirp_create(&o->netdevs[i], err, errlen)))
            return -1;
        s->nnetdevs = i + 1;
    }
    for (int i = 0; i < o->ndumps; i++) {
        if (!(s->dumps[i] = net_pcap_open(o->dumps[i].file, err, errlen)))
            return -1;
        net_pcap_attach(s->dumps[i], net_slirp_netdev(s->netdevs[o->dumps[i].netdev]));
    }
    for (int i = 0; i < o->nnics; i++) {
        const struct nic_option *n = &o->nics[i];
        struct pc_nic_config *nic = &pc.nics[pc.nnics++];
        *nic = (struct pc_nic_config){
            .model = n->model == NIC_NE2K_ISA ? PC_NIC_NE2K_ISA : PC_NIC_NE2K_PCI,
            .netdev = n->netdev >= 0 ? net_slirp_netdev(s->netdevs[n->netdev]) : NULL,
            .iobase = n->iobase, .irq = n->irq,
        };
        memcpy(nic->mac, n->mac, sizeof nic->mac);
    }

    struct machine_config cfg = {
        .ram_size = o->ram_size,
        .no_reboot = o->no_reboot,
        .log_mask = o->log_mask,
        .log_file = s->log_file,
        .deterministic = o->deterministic,
        .savestate_check_every = o->savevm_check,
        .mmu_mode = o->mmu_tlb ? MMU_MODE_TLB : MMU_MODE_SHADOW,
        .log_filter_count = o->log_filter_count,
    };
    memcpy(cfg.log_filter, o->log_filter, sizeof cfg.log_filter);
    s->machine = machine_create(&cfg, err, errlen);
    if (!s->machine)
        return -1;
    if (pc_create(s->machine, &pc, NULL, err, errlen) != 0)
        return -1;
    /* the default engine: the translator, native code where the host can
     * run it (the interpreter only with -accel interp) */
    bool native = o->engine == ENGINE_NATIVE || (o->engine == ENGINE_DEFAULT && native_supported());
    if (o->engine != ENGINE_INTERP || o->lockstep) {
        struct tcache_config tcfg = {
            .backend = native ? TCACHE_NATIVE : TCACHE_PORTABLE,
            .budget_bytes = (size_t)o->tb_size_mb << 20,
            .lockstep = o->lockstep,
            .lockstep_every = o->lockstep_every,
            .machine = s->machine,
        };
        if (!(s->tcache = tcache_create(&tcfg))) {
            snprintf(err, errlen, "out of host memory for the translation cache");
            return -1;
        }
        s->machine->cpu.engine = tcache_engine(s->tcache);
    }
    if (direct_boot) {
        s->machine->boot = multiboot_boot_hook;
        s->machine->boot_opaque = s->kernel;
    }
    if (o->monitor) {
        int rc = chardev_socket_spec(o->monitor)
                 ? chardev_socket_open(o->monitor, &s->monitor_cd, err, errlen)
                 : open_backend(s, o->monitor, &s->monitor_cd, err, errlen);
        if (rc != 0)
            return -1;
        if (!(s->monitor = monitor_create(s->machine, s->monitor_cd))) {
            snprintf(err, errlen, "out of host memory");
            return -1;
        }
        chardev_socket_set_notify(s->monitor_cd, monitor_greet, monitor_client_gone, s->monitor);
        monitor_set_shared(s->monitor, &s->monitor_shared);
    }
    if (o->qmp) {
        int rc = chardev_socket_spec(o->qmp)
                 ? chardev_socket_open(o->qmp, &s->qmp_cd, err, errlen)
                 : open_backend(s, o->qmp, &s->qmp_cd, err, errlen);
        if (rc != 0)
            return -1;
        if (!(s->qmp = qmp_create(s->machine, s->qmp_cd, &s->monitor_shared))) {
            snprintf(err, errlen, "out of host memory");
            return -1;
        }
        chardev_socket_set_notify(s->qmp_cd, qmp_greet, qmp_client_gone, s->qmp);
    }
    s->monitor_shared.syms = s->kernel ? multiboot_symbols(s->kernel) : NULL;
    if (o->start_stopped) {
        if (!s->monitor && !s->qmp) {
            snprintf(err, errlen, "-S: nothing could continue the guest (give -monitor or -qmp)");
            return -1;
        }
        s->monitor_shared.stopped = true;   /* session_poll serves the monitors until cont */
    }
    if (o->display == DISPLAY_CURSES && !o->nographic
        && !(s->text_display = text_display_create(s->machine, err, errlen)))
        return -1;
    if (open_sdl_display(s, err, errlen) != 0)
        return -1;
    if (o->audio) {
        if (audio_open(o->audio, s->machine, &s->audio, err, errlen) != 0)
            return -1;
    } else if (s->sdl_display) {
        s->audio = audio_open_default(s->machine);   /* NULL: a window without sound */
    }
    s->machine->poll_hook = session_poll;
    s->machine->poll_opaque = s;
    if (s->nnetdevs) {
        s->machine->idle_wait = session_idle_wait;
        s->machine->idle_wait_opaque = s;
    }
    if (o->log_mask & (LOG_IN_ASM | LOG_INT)) {
        s->trace = trace_attach(s->machine, s->kernel ? multiboot_symbols(s->kernel) : NULL,
                                err, errlen);
        if (!s->trace)
            return -1;
    }
    return 0;
}

static void session_teardown(struct session *s)
{
    trace_detach(s->trace);
    monitor_free(s->monitor);
    qmp_free(s->qmp);
    text_display_free(s->text_display);
    sdl_display_free(s->sdl_display);
    audio_close(s->audio);
    machine_destroy(s->machine);
    tcache_destroy(s->tcache);
    /* After the cards are gone; the captures last, so they see every frame. */
    for (int i = 0; i < s->nnetdevs; i++)
        net_slirp_close(s->netdevs[i]);
    for (int i = 0; i < OPTIONS_MAX_DUMPS; i++)
        net_pcap_close(s->dumps[i]);
    /* After the devices are gone: closing flushes the guest's writes. */
    for (int i = 0; i < OPTIONS_MAX_DRIVES; i++)
        blockdev_close(s->drives[i]);
    multiboot_free(s->kernel);
    linux_image_free(s->linux_kernel);
    free(s->bios);
    free(s->vgabios);
    free(s->nic_rom);
    for (int i = 0; i < OPTIONS_MAX_ROMS; i++) {
        free(s->option_roms[i]);
        free(s->option_rom_names[i]);
    }
    close_backend(s, s->serial);
    close_backend(s, s->serial2);
    close_backend(s, s->monitor_cd);
    close_backend(s, s->qmp_cd);
    close_backend(s, s->debugcon);
    chardev_close(s->stdio);
    if (s->log_file)
        fclose(s->log_file);
    options_free(&s->opts);
}

int main(int argc, char **argv)
{
    struct session s = { 0 };
    char err[512] = "";
    if (options_parse(argc, argv, &s.opts, err, sizeof(err)) != 0) {
        fprintf(stderr, "fox86: %s\n", err);
        options_free(&s.opts);
        return 1;
    }
    if (s.opts.show_help || s.opts.show_version || s.opts.show_log_items) {
        if (s.opts.show_help)
            options_print_help(stdout);
        else if (s.opts.show_version)
            printf("fox86 %s\n", FOX86_VERSION);
        else
            options_print_log_items(stdout);
        options_free(&s.opts);
        return 0;
    }
    if (session_setup(&s, err, sizeof(err)) != 0) {
        fprintf(stderr, "fox86: %s\n", err);
        session_teardown(&s);
        return 1;
    }

    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    s.machine->stop_signal = &stop_signal;
    /* libslirp writes to its sockets with plain send(): a peer that went
     * away must be an EPIPE it handles, not the end of fox86 (as in QEMU) */
    if (s.nnetdevs)
        signal(SIGPIPE, SIG_IGN);

    double started = host_now();
    s.monitor_shared.host_started = monitor_host_now();
    int status = machine_reset(s.machine) == 0 ? machine_run(s.machine) : 1;
    if (s.opts.stats)
        print_stats(s.machine, host_now() - started);
    session_teardown(&s);
    return status;
}
