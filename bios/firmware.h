/* bios/firmware.h: firmware images (the system BIOS, VGA BIOS, option ROMs)
 * and direct Linux kernel boot.
 *
 * firmware_load reads a whole ROM image. The default system BIOS is Debian's
 * SeaBIOS (FIRMWARE_DEFAULT_BIOS), the VGA BIOS SeaVGABIOS's stdvga build;
 * when the file is missing the error names the Debian package to install.
 *
 * linux_image_load reads a bzImage (boot protocol 2.00 or later; older or
 * non-Linux files are refused with one line), an optional initrd and the
 * command line, and lays them out as QEMU does for its fw_cfg kernel path:
 * the real-mode setup (with the header patched: type_of_loader, heap,
 * cmd_line_ptr, ramdisk_image/size) at setup_addr, the protected-mode
 * kernel at kernel_addr (0x100000), the initrd at the top of RAM below
 * initrd_addr_max, the command line after the setup heap. The board hands
 * these to fw_cfg; the option ROM linuxboot_rom (bios/optionrom/) copies
 * them into RAM at boot and jumps to the setup code.
 *
 * Usage:
 *   uint8_t *bios; uint32_t bios_size;
 *   if (firmware_load(path, FIRMWARE_SYSTEM_BIOS, &bios, &bios_size, err, len)) ...
 *   struct linux_image *li = linux_image_load("bzImage", NULL, "console=ttyS0", ram, err, len);
 */
#ifndef FOX86_FIRMWARE_H
#define FOX86_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_DEFAULT_BIOS    "/usr/share/seabios/bios-256k.bin"
#define FIRMWARE_DEFAULT_VGABIOS "/usr/share/seabios/vgabios-stdvga.bin"
/* iPXE for the RTL8029 (Debian's ipxe-qemu, which qemu-system-x86 pulls
 * in): the ne2k_pci card's boot ROM when present, as QEMU gives it one */
#define FIRMWARE_NE2K_PCI_ROM "/usr/lib/ipxe/qemu/pxe-ne2k_pci.rom"

enum firmware_kind {
    FIRMWARE_SYSTEM_BIOS,   /* size a multiple of 64 KiB, 64 KiB to 16 MiB */
    FIRMWARE_OPTION_ROM,    /* 0x55AA signature, size <= 128 KiB */
};

/* Returns 0 with a malloc'd copy in *bytes, or -1 with one line in err. */
int firmware_load(const char *path, enum firmware_kind kind, uint8_t **bytes, uint32_t *size,
                  char *err, size_t errlen);

struct linux_image {
    uint16_t protocol;             /* boot protocol version, e.g. 0x020F */
    uint8_t *setup;                /* real-mode part incl. boot sector, header patched */
    uint32_t setup_size;
    uint32_t setup_addr;           /* where the option ROM copies it (e.g. 0x10000) */
    uint8_t *kernel;               /* protected-mode part */
    uint32_t kernel_size;
    uint32_t kernel_addr;          /* 0x100000 */
    uint8_t *initrd;               /* NULL if none */
    uint32_t initrd_size;
    uint32_t initrd_addr;
    char    *cmdline;              /* NUL-terminated */
    uint32_t cmdline_size;         /* including the NUL */
    uint32_t cmdline_addr;
};

/* Returns NULL with one line in err (unreadable, not a bzImage, protocol
 * too old, initrd too big for RAM, command line too long). */
struct linux_image *linux_image_load(const char *kernel_path, const char *initrd_path,
                                     const char *cmdline, uint32_t ram_size,
                                     char *err, size_t errlen);
void linux_image_free(struct linux_image *li);
/* True if the file looks like a Linux bzImage ("HdrS" at 0x202). */
int linux_image_probe(const char *path);

/* The option ROM that boots a kernel from fw_cfg (built from
 * bios/optionrom/linuxboot.S; checksummed; a multiple of 512 bytes). */
extern const uint8_t linuxboot_rom[];
extern const uint32_t linuxboot_rom_size;

#endif
