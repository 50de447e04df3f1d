/* bios/multiboot.h: direct boot of a Multiboot (version 1) kernel, -kernel.
 *
 * multiboot_open() reads and checks everything up front (the kernel, the
 * -initrd modules, where the image lands in RAM), so that every problem is
 * reported before the machine runs, as one line naming the file. The image
 * is kept in host memory; multiboot_boot() copies it into guest RAM and sets
 * the CPU state the Multiboot spec mandates. It is the machine's boot hook,
 * so a machine reset (triple fault without -no-reboot) boots the kernel
 * again, as QEMU does.
 *
 * Guest memory layout built by multiboot_boot (below the kernel, which must
 * not overlap it):
 *   0x0500  GDT: null, 0x08 flat 4 GB code (ring 0, 32-bit), 0x10 flat data
 *   0x9000  multiboot info, then the module list, the memory map, the
 *           command lines and the boot loader name ("fox86")
 *   modules: page-aligned, after the highest byte the kernel occupies
 *
 * Usage:
 *   struct multiboot_image *img = multiboot_open(path, append, initrd,
 *                                                ram_size, err, sizeof err);
 *   if (!img) { fprintf(stderr, "fox86: %s\n", err); exit(1); }
 *   m->boot = multiboot_boot_hook; m->boot_opaque = img;
 */
#ifndef FOX86_MULTIBOOT_H
#define FOX86_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct multiboot_image;

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH_BYTES     8192

/* A function or label from the kernel's ELF symbol table (for tracing). */
struct guest_symbol {
    uint32_t    addr;
    uint32_t    size;      /* 0 when the symbol table does not say */
    const char *name;
};

struct guest_symbols {
    struct guest_symbol *sym;   /* sorted by addr */
    size_t count;
};

/* Returns NULL with one line (naming the file and the problem) in err.
 * cmdline (-append) and initrd (-initrd: "file[ args][,file[ args]...]",
 * QEMU's syntax for multiboot modules) may be NULL. */
struct multiboot_image *multiboot_open(const char *kernel_path, const char *cmdline,
                                       const char *initrd, uint32_t ram_size,
                                       char *err, size_t errlen);
void multiboot_free(struct multiboot_image *img);

/* Load into guest RAM and set up the CPU. Returns 0 (cannot fail once open
 * succeeded for the same RAM size). Signature fits machine.boot. */
int multiboot_boot_hook(struct machine *m, void *img);

/* The kernel's symbols (empty when it has none or is not ELF). */
const struct guest_symbols *multiboot_symbols(const struct multiboot_image *img);
/* The symbol containing addr (or the nearest below it if sizes are unknown),
 * with *offset = addr - symbol; NULL if none. */
const struct guest_symbol *guest_symbols_lookup(const struct guest_symbols *syms,
                                                uint32_t addr, uint32_t *offset);

#endif
