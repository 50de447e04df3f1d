/* devices/pc.h: the board, an i440FX/PIIX3 PC as QEMU's "pc" machine lays
 * it out, wired from the devices in this folder.
 *
 * PCI: 00.0 i440FX host bridge, 01.0 PIIX3 ISA bridge, 01.1 PIIX3 IDE,
 * 02.0 VGA (1234:1111). ISA: PIC pair (IRQ 2 cascade), PIT on IRQ 0, RTC on
 * IRQ 8, i8042 on IRQ 1/12, COM1 0x3F8 IRQ 4, COM2 0x2F8 IRQ 3, floppy on
 * IRQ 6 / DMA 2, IDE on IRQ 14/15, x87 FERR# on IRQ 13, fw_cfg at 0x510,
 * debug ports 0xE9/0x402, POST codes on port 0x80.
 *
 * Firmware: the system BIOS image is mapped at the top of the 4 GiB space
 * and its last 128 KiB below 1 MiB through the i440FX's PAM; the VGA BIOS
 * and extra option ROMs reach SeaBIOS through fw_cfg; the memory map
 * reaches it through CMOS and fw_cfg "etc/e820". Without a BIOS (direct
 * multiboot boot) the board is the same and the boot hook starts the kernel.
 *
 * Usage:
 *   struct pc_config cfg = { .bios = bytes, .bios_size = n, .boot_order = "cad", ... };
 *   struct pc *pc;
 *   if (pc_create(m, &cfg, &pc, err, sizeof err) != 0) ...
 */
#ifndef FOX86_PC_H
#define FOX86_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"

#define PC_MAX_FW_ITEMS 16
#define PC_MAX_NICS 4

struct netdev;

enum pc_nic_model {
    PC_NIC_NE2K_PCI,               /* RTL8029 (10ec:8029) in the next free PCI slot */
    PC_NIC_NE2K_ISA,               /* NE2000 at iobase/irq */
};

struct pc_nic_config {
    enum pc_nic_model model;
    struct netdev *netdev;         /* the backend (not owned), or NULL: a card with no cable */
    uint8_t  mac[6];
    uint16_t iobase;               /* ISA only (QEMU's default 0x300) */
    uint8_t  irq;                  /* ISA only (9 or 10 for the period drivers) */
};

struct pc_fw_item {
    uint16_t    key;               /* fw_cfg key, or 0 with name set: a named file */
    const char *name;              /* file name ("genroms/x.bin", "bootorder"), or NULL */
    const void *data;              /* copied by fw_cfg */
    uint32_t    size;
};

struct pc_config {
    uint8_t *bios;                 /* system BIOS image (not owned; must outlive the machine), or NULL */
    uint32_t bios_size;
    uint8_t *vgabios;              /* VGA BIOS for the PCI VGA, or NULL */
    uint32_t vgabios_size;
    bool     vga;                  /* a VGA card is fitted */
    struct chardev *serial[2];     /* COM1, COM2 backends (NULL: port present, unconnected) */
    struct chardev *debugcon;      /* 0xE9 / 0x402 output */
    bool     debug_exit;
    uint16_t debug_exit_iobase, debug_exit_iosize;
    struct ide_drive_config ide[4];
    struct blockdev *floppy[2];
    const char *boot_order;        /* QEMU letters: a floppy, c disk, d CD-ROM, n network */
    bool     boot_menu;
    int64_t  rtc_base;             /* RTC start, seconds since 1970 UTC */
    bool     nographic;
    struct pc_fw_item fw_items[PC_MAX_FW_ITEMS];   /* extra fw_cfg items (kernel, option ROMs) */
    int      nfw_items;
    struct pc_nic_config nics[PC_MAX_NICS];
    int      nnics;
};

struct pc;

/* Builds the board on m (RAM and CPU already there). Returns 0, or -1 with
 * one line in err. The machine owns every device; *out is for the frontends. */
int pc_create(struct machine *m, const struct pc_config *cfg, struct pc **out,
              char *err, size_t errlen);

#endif
