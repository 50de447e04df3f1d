/* devices/fw_cfg.h: QEMU's fw_cfg item keys (the guest-visible ABI that
 * SeaBIOS reads; values as in QEMU's docs/specs/fw_cfg.txt). */
#ifndef FOX86_FW_CFG_H
#define FOX86_FW_CFG_H

enum {
    FW_CFG_SIGNATURE      = 0x00,   /* "QEMU" */
    FW_CFG_ID             = 0x01,   /* bit 0: traditional interface, bit 1: DMA */
    FW_CFG_UUID           = 0x02,
    FW_CFG_RAM_SIZE       = 0x03,
    FW_CFG_NOGRAPHIC      = 0x04,
    FW_CFG_NB_CPUS        = 0x05,
    FW_CFG_MACHINE_ID     = 0x06,
    FW_CFG_KERNEL_ADDR    = 0x07,
    FW_CFG_KERNEL_SIZE    = 0x08,
    FW_CFG_KERNEL_CMDLINE = 0x09,
    FW_CFG_INITRD_ADDR    = 0x0A,
    FW_CFG_INITRD_SIZE    = 0x0B,
    FW_CFG_BOOT_DEVICE    = 0x0C,
    FW_CFG_NUMA           = 0x0D,
    FW_CFG_BOOT_MENU      = 0x0E,
    FW_CFG_MAX_CPUS       = 0x0F,
    FW_CFG_KERNEL_ENTRY   = 0x10,
    FW_CFG_KERNEL_DATA    = 0x11,
    FW_CFG_INITRD_DATA    = 0x12,
    FW_CFG_CMDLINE_ADDR   = 0x13,
    FW_CFG_CMDLINE_SIZE   = 0x14,
    FW_CFG_CMDLINE_DATA   = 0x15,
    FW_CFG_SETUP_ADDR     = 0x16,
    FW_CFG_SETUP_SIZE     = 0x17,
    FW_CFG_SETUP_DATA     = 0x18,
    FW_CFG_FILE_DIR       = 0x19,
    FW_CFG_FILE_FIRST     = 0x20,
    FW_CFG_ACPI_TABLES    = 0x8000,
    FW_CFG_SMBIOS_ENTRIES = 0x8001,
    FW_CFG_IRQ0_OVERRIDE  = 0x8002,
    FW_CFG_E820_TABLE     = 0x8003,
    FW_CFG_HPET           = 0x8004,
};

#define FW_CFG_IO_BASE   0x510
#define FW_CFG_DMA_BASE  0x514
#define FW_CFG_MAX_FILE_NAME 56

#endif
