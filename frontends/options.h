/* frontends/options.h: the fox86 command line.
 *
 * Options follow qemu-system-i386 wherever QEMU has the option (same name,
 * same argument syntax, "-opt" or "--opt"), so a QEMU command line for a
 * bare-metal test runs unchanged; fox86's own options are long ones
 * (--help, --version, --stats, --trace). options_parse only parses and
 * validates syntax: it opens no file. Any problem is one line in err
 * (without the "fox86: " prefix, which the caller adds).
 *
 * Usage:
 *   struct options o;
 *   if (options_parse(argc, argv, &o, err, sizeof err) != 0) { print err; exit 1; }
 */
#ifndef FOX86_OPTIONS_H
#define FOX86_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/machine.h"
#include "frontends/net_slirp.h"

#define OPTIONS_DEFAULT_RAM_MB 128u
#define OPTIONS_MAX_RAM_MB     3584u   /* below the PCI hole at 0xE0000000 */
#define OPTIONS_MIN_RAM_MB     2u

#define OPTIONS_MAX_DRIVES  6          /* 4 IDE + 2 floppy */
#define OPTIONS_MAX_ROMS    4

#define OPTIONS_MAX_NETDEVS 4
#define OPTIONS_MAX_NICS    4          /* devices/pc.h PC_MAX_NICS */
#define OPTIONS_MAX_DUMPS   4

enum drive_interface { DRIVE_IDE, DRIVE_FLOPPY };

/* One network card (-device ne2k_pci|ne2k_isa, or -nic). */
struct nic_option {
    enum { NIC_NE2K_PCI, NIC_NE2K_ISA } model;
    char     netdev_id[NET_SLIRP_ID_MAX];   /* netdev=, "" for none */
    int      netdev;               /* index into options.netdevs, or -1: no cable */
    uint8_t  mac[6];               /* given, or QEMU's default 52:54:00:12:34:56 + n */
    uint16_t iobase;               /* ne2k_isa (default 0x300) */
    uint8_t  irq;                  /* ne2k_isa (default 9) */
};

/* -object filter-dump,id=,netdev=,file= */
struct dump_option {
    char        netdev_id[NET_SLIRP_ID_MAX];
    int         netdev;            /* index into options.netdevs */
    const char *file;
};

/* One -drive (or -hda/-cdrom/-fda shorthand). */
struct drive_option {
    const char *file;
    enum drive_interface interface;
    int  index;                    /* IDE 0-3 (primary master, slave, secondary master, slave); floppy 0-1 */
    bool cdrom;                    /* media=cdrom */
    bool read_only;                /* readonly=on (always for CD-ROMs) */
    bool snapshot;                 /* snapshot=on, or -snapshot */
};

struct options {
    uint32_t    ram_size;          /* bytes (-m) */
    const char *kernel;            /* -kernel FILE, or NULL */
    const char *append;            /* -append CMDLINE, or NULL */
    const char *initrd;            /* -initrd "file[ args][,file...]", or NULL */
    const char *serial;            /* COM1 backend: "stdio", "file:PATH", "null", "none" */
    const char *serial2;           /* COM2 backend (second -serial), or NULL */
    const char *bios;              /* -bios FILE, or NULL: SeaBIOS */
    const char *option_roms[OPTIONS_MAX_ROMS];   /* -option-rom FILE */
    int         noption_roms;
    struct drive_option drives[OPTIONS_MAX_DRIVES];
    int         ndrives;
    bool        snapshot;          /* -snapshot: every disk writes to a temporary overlay */
    const char *boot_order;        /* -boot letters (a, c, d, n), or NULL: "cad" */
    bool        boot_menu;         /* -boot menu=on */
    const char *monitor;           /* -monitor stdio|unix:...|tcp:..., or NULL */
    const char *qmp;               /* -qmp (JSON monitor), same backends, or NULL */
    enum { DISPLAY_DEFAULT, DISPLAY_NONE, DISPLAY_CURSES, DISPLAY_SDL } display;  /* DEFAULT: sdl
                                      when the host has a display, else none */
    bool        full_screen;       /* -full-screen: the SDL window starts full screen */
    bool        start_stopped;     /* -S: no guest code until the monitor's cont */
    const char *audio;             /* -audio none|sdl|wav,path=F, or NULL: sdl with the SDL window */
    bool        vga;               /* -vga std (default) / none */
    bool        deterministic;     /* -icount ...,sleep=off or --deterministic */
    const char *rtc_base;          /* -rtc base=utc|localtime|DATE, or NULL: utc */
#define OPTIONS_MAX_OWNED 32
    char       *owned[OPTIONS_MAX_OWNED];   /* copies made while parsing (options_free) */
    int         nowned;
    const char *debugcon;          /* 0xE9 backend, same syntax; NULL: none */
    bool        debug_exit;        /* -device isa-debug-exit */
    uint16_t    debug_exit_iobase;
    uint16_t    debug_exit_iosize;
    bool        no_reboot;         /* -no-reboot */
    bool        nographic;         /* -nographic */
    unsigned    log_mask;          /* -d items (LOG_* of core/machine.h); --trace adds in_asm */
    struct log_range log_filter[LOG_FILTER_MAX]; /* -dfilter */
    unsigned    log_filter_count;
    const char *log_file;          /* -D FILE, or NULL: stderr */
    bool        stats;             /* --stats */
    uint64_t    savevm_check;      /* --savevm-check N: save/reset/load every N instructions (0 off) */
    bool        mmu_tlb;           /* -mmu tlb: walk on every TLB miss (default: -mmu shadow) */
    enum { ENGINE_DEFAULT = 0, ENGINE_INTERP, ENGINE_PORTABLE, ENGINE_NATIVE } engine; /* -accel */
    uint32_t    tb_size_mb;        /* -tb-size; 0: the translator's default */
    bool        lockstep;          /* --lockstep: check translated blocks against the interpreter */
    uint32_t    lockstep_every;    /* --lockstep-every N: check one block in N (implies --lockstep) */
    struct net_slirp_config netdevs[OPTIONS_MAX_NETDEVS];   /* -netdev user (and -nic user) */
    int         nnetdevs;
    struct nic_option nics[OPTIONS_MAX_NICS];
    int         nnics;
    struct dump_option dumps[OPTIONS_MAX_DUMPS];
    int         ndumps;
    bool        show_help;         /* --help / -h: print usage, exit 0 */
    bool        show_version;      /* --version: print version, exit 0 */
    bool        show_log_items;    /* -d help: list the log items, exit 0 */
};

/* Returns 0, or -1 with one line in err. */
int  options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_free(struct options *o);
void options_print_help(FILE *out);
void options_print_log_items(FILE *out);

#endif
