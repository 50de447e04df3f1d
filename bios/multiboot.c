/* bios/multiboot.c: Multiboot 1 kernel loading (see multiboot.h).
 *
 * Two image formats, chosen as GRUB and QEMU choose: when the header's flag
 * bit 16 (the "a.out kludge") is set, the header's own addresses say what to
 * load where, whatever the file format; otherwise the file must be an ELF32
 * i386 executable and its PT_LOAD segments are loaded at their physical
 * addresses (p_paddr), the bytes beyond p_filesz zeroed. Everything that can
 * be wrong with the file is found in multiboot_open(); multiboot_boot_hook()
 * only copies.
 *
 * Invariants of a struct multiboot_image: every chunk and module lies inside
 * [MB_KERNEL_MIN, ram_size) and none overlaps the low boot area; the info
 * block built from it fits below MB_INFO_END.
 */
#include "multiboot.h"

#include <errno.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/desc.h"
#include "core/flags.h"
#include "core/machine.h"
#include "mmu/phys.h"

#define MB_GDT_ADDR     0x0500u
#define MB_INFO_ADDR    0x9000u
#define MB_INFO_END     0x9FC00u   /* start of the EBDA: the info must end below */
#define MB_BOOT_AREA_LO MB_GDT_ADDR
#define MB_BOOT_AREA_HI MB_INFO_END
#define MB_BOOT_STACK   0x7000u    /* ESP at entry: the spec leaves it undefined */
#define MB_MAX_CHUNKS   32
#define PAGE_SIZE       4096u

/* header flags */
enum {
    MBH_PAGE_ALIGN = 1u << 0,
    MBH_MEMORY_INFO = 1u << 1,
    MBH_VIDEO_MODE = 1u << 2,
    MBH_AOUT_KLUDGE = 1u << 16,
    MBH_KNOWN_REQUIRED = MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE,
};

/* info flags */
enum {
    MBI_MEMORY = 1u << 0, MBI_BOOT_DEVICE = 1u << 1, MBI_CMDLINE = 1u << 2,
    MBI_MODS = 1u << 3, MBI_MMAP = 1u << 6, MBI_LOADER_NAME = 1u << 9,
};

/* byte offsets in the info structure */
enum {
    MBI_OFF_FLAGS = 0, MBI_OFF_MEM_LOWER = 4, MBI_OFF_MEM_UPPER = 8,
    MBI_OFF_BOOT_DEVICE = 12, MBI_OFF_CMDLINE = 16, MBI_OFF_MODS_COUNT = 20,
    MBI_OFF_MODS_ADDR = 24, MBI_OFF_MMAP_LENGTH = 44, MBI_OFF_MMAP_ADDR = 48,
    MBI_OFF_LOADER_NAME = 64, MBI_SIZE = 88,
};

struct mb_chunk {
    uint32_t paddr;
    uint32_t filesz;              /* bytes copied from the file */
    uint32_t memsz;               /* filesz + zeroed bytes */
    const uint8_t *bytes;         /* inside image->file */
};

struct mb_module {
    char    *cmdline;             /* the whole "file args" string, as QEMU passes it */
    uint8_t *data;
    size_t   size;
    uint32_t paddr;
};

struct multiboot_image {
    char    *path;
    uint8_t *file;
    size_t   file_size;
    struct mb_chunk chunk[MB_MAX_CHUNKS];
    int      nchunks;
    uint32_t entry;
    uint32_t kernel_end;          /* highest byte the kernel occupies + 1 */
    char    *cmdline;             /* "kernel-path append", as QEMU and GRUB pass it */
    struct mb_module *mod;
    int      nmods;
    uint32_t ram_size;
    struct guest_symbols syms;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t page_align_up(uint64_t v)
{
    return (uint32_t)((v + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1));
}

/* Read a whole file; NULL with the reason in err. An empty file is not an error here. */
static uint8_t *read_file(const char *path, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    bool failed = !buf || ferror(f);
    int saved_errno = errno;
    fclose(f);
    if (failed) {
        set_err(err, errlen, "%s: cannot read: %s", path,
                buf ? strerror(saved_errno) : "out of host memory");
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

/* Check that [paddr, paddr + size) is usable for the image. */
static bool check_range(const struct multiboot_image *img, const char *what, uint32_t paddr,
                        uint64_t size, char *err, size_t errlen)
{
    uint64_t end = (uint64_t)paddr + size;
    if (end > img->ram_size) {
        set_err(err, errlen, "%s: %s at 0x%08x-0x%08llx is outside guest RAM (%u MB)",
                img->path, what, paddr, (unsigned long long)(end ? end - 1 : 0),
                img->ram_size >> 20);
        return false;
    }
    if (size && paddr < MB_BOOT_AREA_HI && end > MB_BOOT_AREA_LO) {
        set_err(err, errlen, "%s: %s at 0x%08x-0x%08llx overlaps the boot information area "
                "(0x%x-0x%x)", img->path, what, paddr, (unsigned long long)(end - 1),
                MB_BOOT_AREA_LO, MB_BOOT_AREA_HI - 1);
        return false;
    }
    return true;
}

static bool add_chunk(struct multiboot_image *img, uint32_t paddr, const uint8_t *bytes,
                      uint32_t filesz, uint32_t memsz, char *err, size_t errlen)
{
    if (img->nchunks == MB_MAX_CHUNKS) {
        set_err(err, errlen, "%s: more than %d loadable segments", img->path, MB_MAX_CHUNKS);
        return false;
    }
    if (!check_range(img, "segment", paddr, memsz, err, errlen))
        return false;
    img->chunk[img->nchunks++] = (struct mb_chunk){ paddr, filesz, memsz, bytes };
    uint32_t end = paddr + memsz;
    if (end > img->kernel_end)
        img->kernel_end = end;
    return true;
}

/* Header flag bit 16: load addresses come from the header itself. */
static bool load_aout_kludge(struct multiboot_image *img, size_t hdr_off, char *err, size_t errlen)
{
    if (hdr_off + 32 > img->file_size) {
        set_err(err, errlen, "%s: multiboot header with load addresses is truncated", img->path);
        return false;
    }
    const uint8_t *h = img->file + hdr_off;
    uint32_t header_addr = get32(h + 12), load_addr = get32(h + 16);
    uint32_t load_end = get32(h + 20), bss_end = get32(h + 24), entry = get32(h + 28);
    if (load_addr > header_addr || header_addr - load_addr > hdr_off) {
        set_err(err, errlen, "%s: multiboot header_addr 0x%x / load_addr 0x%x are inconsistent "
                "with the header's file offset 0x%zx", img->path, header_addr, load_addr, hdr_off);
        return false;
    }
    size_t load_off = hdr_off - (header_addr - load_addr);
    uint64_t load_size = load_end ? (uint64_t)load_end - load_addr : img->file_size - load_off;
    if (load_end && load_end <= load_addr) {
        set_err(err, errlen, "%s: multiboot load_end_addr 0x%x is not above load_addr 0x%x",
                img->path, load_end, load_addr);
        return false;
    }
    if (load_off + load_size > img->file_size) {
        set_err(err, errlen, "%s: file is truncated: the multiboot header asks for 0x%llx bytes "
                "from offset 0x%zx", img->path, (unsigned long long)load_size, load_off);
        return false;
    }
    uint64_t mem_size = load_size;
    if (bss_end) {
        if (bss_end < load_addr + load_size) {
            set_err(err, errlen, "%s: multiboot bss_end_addr 0x%x is below the end of the "
                    "loaded image", img->path, bss_end);
            return false;
        }
        mem_size = (uint64_t)bss_end - load_addr;
    }
    if (mem_size > UINT32_MAX) {
        set_err(err, errlen, "%s: image too large", img->path);
        return false;
    }
    img->entry = entry;
    return add_chunk(img, load_addr, img->file + load_off, (uint32_t)load_size,
                     (uint32_t)mem_size, err, errlen);
}

static int symbol_cmp(const void *a, const void *b)
{
    const struct guest_symbol *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Functions and labels from SHT_SYMTAB; a damaged table is just ignored. */
static void collect_symbols(struct multiboot_image *img, Elf *elf)
{
    size_t cap = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        Elf32_Shdr *sh = elf32_getshdr(scn);
        if (!sh || sh->sh_type != SHT_SYMTAB || sh->sh_entsize != sizeof(Elf32_Sym))
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data || !data->d_buf)
            continue;
        const Elf32_Sym *sym = data->d_buf;
        size_t n = data->d_size / sizeof(Elf32_Sym);
        for (size_t i = 0; i < n; i++) {
            int type = ELF32_ST_TYPE(sym[i].st_info);
            if ((type != STT_FUNC && type != STT_NOTYPE) || sym[i].st_shndx == SHN_UNDEF
                || sym[i].st_shndx >= SHN_LORESERVE)
                continue;
            const char *name = elf_strptr(elf, sh->sh_link, sym[i].st_name);
            if (!name || !name[0])
                continue;
            if (img->syms.count == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                struct guest_symbol *bigger = realloc(img->syms.sym, ncap * sizeof(*bigger));
                if (!bigger)
                    return;
                img->syms.sym = bigger;
                cap = ncap;
            }
            char *copy = strdup(name);
            if (!copy)
                return;
            img->syms.sym[img->syms.count++] =
                (struct guest_symbol){ sym[i].st_value, sym[i].st_size, copy };
        }
    }
    if (img->syms.count)
        qsort(img->syms.sym, img->syms.count, sizeof(struct guest_symbol), symbol_cmp);
}

static bool load_elf(struct multiboot_image *img, char *err, size_t errlen)
{
    if (img->file_size < 4 || memcmp(img->file, "\177ELF", 4) != 0) {
        set_err(err, errlen, "%s: not an ELF file, and its multiboot header gives no load "
                "addresses (flag bit 16)", img->path);
        return false;
    }
    if (img->file_size < sizeof(Elf32_Ehdr)) {
        set_err(err, errlen, "%s: truncated ELF (%zu bytes, shorter than the ELF header)",
                img->path, img->file_size);
        return false;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)img->file, img->file_size);
    bool ok = false;
    Elf32_Ehdr *eh = elf ? elf32_getehdr(elf) : NULL;
    size_t nphdr = 0;
    Elf32_Phdr *ph = NULL;
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        set_err(err, errlen, "%s: unreadable ELF: %s", img->path, elf_errmsg(-1));
        goto out;
    }
    if (!eh) {
        set_err(err, errlen, "%s: not a 32-bit ELF (multiboot kernels are ELF32 i386)", img->path);
        goto out;
    }
    if (eh->e_machine != EM_386 || eh->e_type != ET_EXEC) {
        set_err(err, errlen, "%s: not an i386 ELF executable (e_machine %u, e_type %u)",
                img->path, eh->e_machine, eh->e_type);
        goto out;
    }
    if (elf_getphdrnum(elf, &nphdr) != 0 || nphdr == 0
        || (uint64_t)eh->e_phoff + (uint64_t)nphdr * sizeof(Elf32_Phdr) > img->file_size
        || !(ph = elf32_getphdr(elf))) {
        set_err(err, errlen, "%s: truncated ELF: no readable program header table", img->path);
        goto out;
    }
    for (size_t i = 0; i < nphdr; i++) {
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        if ((uint64_t)ph[i].p_offset + ph[i].p_filesz > img->file_size) {
            set_err(err, errlen, "%s: truncated ELF: segment %zu (offset 0x%x, 0x%x bytes) "
                    "extends past the end of the file (%zu bytes)", img->path, i,
                    ph[i].p_offset, ph[i].p_filesz, img->file_size);
            goto out;
        }
        if (ph[i].p_filesz > ph[i].p_memsz) {
            set_err(err, errlen, "%s: ELF segment %zu has p_filesz > p_memsz", img->path, i);
            goto out;
        }
        if (!add_chunk(img, ph[i].p_paddr, img->file + ph[i].p_offset, ph[i].p_filesz,
                       ph[i].p_memsz, err, errlen))
            goto out;
    }
    if (img->nchunks == 0) {
        set_err(err, errlen, "%s: ELF has no loadable segments", img->path);
        goto out;
    }
    /* A kernel linked at virtual addresses above its load address enters at
     * the physical address of its entry point. */
    img->entry = eh->e_entry;
    for (size_t i = 0; i < nphdr; i++)
        if (ph[i].p_type == PT_LOAD && eh->e_entry - ph[i].p_vaddr < ph[i].p_memsz) {
            img->entry = ph[i].p_paddr + (eh->e_entry - ph[i].p_vaddr);
            break;
        }
    collect_symbols(img, elf);
    ok = true;
out:
    if (elf)
        elf_end(elf);
    return ok;
}

static bool is_linux_bzimage(const uint8_t *file, size_t size)
{
    return size >= 0x206 && memcmp(file + 0x202, "HdrS", 4) == 0;
}

/* Parse "-initrd file[ args][,file[ args]...]" and load each module file. */
static bool load_modules(struct multiboot_image *img, const char *initrd, bool page_align,
                         char *err, size_t errlen)
{
    uint32_t next = page_align_up(img->kernel_end);
    const char *p = initrd;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        if (len) {
            struct mb_module *bigger = realloc(img->mod, (img->nmods + 1) * sizeof(*bigger));
            if (!bigger) {
                set_err(err, errlen, "out of host memory");
                return false;
            }
            img->mod = bigger;
            struct mb_module *mod = &img->mod[img->nmods++];
            memset(mod, 0, sizeof(*mod));
            mod->cmdline = strndup(p, len);
            size_t name_len = strcspn(mod->cmdline, " ");
            char *file = strndup(mod->cmdline, name_len);
            if (!mod->cmdline || !file) {
                free(file);
                set_err(err, errlen, "out of host memory");
                return false;
            }
            mod->data = read_file(file, &mod->size, err, errlen);
            if (!mod->data) {
                free(file);
                return false;
            }
            mod->paddr = next;
            uint64_t end = (uint64_t)next + mod->size;
            if (end > img->ram_size) {
                set_err(err, errlen, "%s: module (%zu bytes at 0x%x) does not fit in guest "
                        "RAM (%u MB)", file, mod->size, next, img->ram_size >> 20);
                free(file);
                return false;
            }
            free(file);
            next = page_align ? page_align_up(end) : (uint32_t)end;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return true;
}

struct multiboot_image *multiboot_open(const char *kernel_path, const char *cmdline,
                                       const char *initrd, uint32_t ram_size,
                                       char *err, size_t errlen)
{
    struct multiboot_image *img = calloc(1, sizeof(*img));
    if (!img || !(img->path = strdup(kernel_path))) {
        free(img);
        set_err(err, errlen, "out of host memory");
        return NULL;
    }
    img->ram_size = ram_size;
    img->file = read_file(kernel_path, &img->file_size, err, errlen);
    if (!img->file)
        goto fail;
    if (img->file_size == 0) {
        set_err(err, errlen, "%s: empty file, not a multiboot kernel", kernel_path);
        goto fail;
    }

    size_t limit = img->file_size < MULTIBOOT_SEARCH_BYTES ? img->file_size : MULTIBOOT_SEARCH_BYTES;
    long hdr_off = -1, bad_checksum_off = -1;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        const uint8_t *h = img->file + off;
        if (get32(h) != MULTIBOOT_HEADER_MAGIC)
            continue;
        if ((uint32_t)(get32(h) + get32(h + 4) + get32(h + 8)) == 0) {
            hdr_off = (long)off;
            break;
        }
        if (bad_checksum_off < 0)
            bad_checksum_off = (long)off;
    }
    if (hdr_off < 0) {
        if (bad_checksum_off >= 0)
            set_err(err, errlen, "%s: multiboot header at offset 0x%lx has a bad checksum",
                    kernel_path, bad_checksum_off);
        else if (is_linux_bzimage(img->file, img->file_size))
            set_err(err, errlen, "%s: this is a Linux kernel (bzImage); direct Linux boot is "
                    "not supported yet (issue 3)", kernel_path);
        else
            set_err(err, errlen, "%s: not a multiboot kernel (no multiboot header in the "
                    "first %d bytes)", kernel_path, MULTIBOOT_SEARCH_BYTES);
        goto fail;
    }
    uint32_t flags = get32(img->file + hdr_off + 4);
    if (flags & 0xFFFF & ~MBH_KNOWN_REQUIRED) {
        set_err(err, errlen, "%s: multiboot header requires features fox86 does not know "
                "(flags 0x%08x)", kernel_path, flags);
        goto fail;
    }
    bool loaded = (flags & MBH_AOUT_KLUDGE) ? load_aout_kludge(img, (size_t)hdr_off, err, errlen)
                                             : load_elf(img, err, errlen);
    if (!loaded)
        goto fail;

    size_t cmd_len = strlen(kernel_path) + 1 + (cmdline ? strlen(cmdline) : 0) + 1;
    img->cmdline = malloc(cmd_len);
    if (!img->cmdline) {
        set_err(err, errlen, "out of host memory");
        goto fail;
    }
    snprintf(img->cmdline, cmd_len, "%s %s", kernel_path, cmdline ? cmdline : "");
    if (initrd && !load_modules(img, initrd, flags & MBH_PAGE_ALIGN, err, errlen))
        goto fail;

    size_t info_size = MBI_SIZE + 16u * img->nmods + 24u * 4 + strlen(img->cmdline) + 1 + 8;
    for (int i = 0; i < img->nmods; i++)
        info_size += strlen(img->mod[i].cmdline) + 1;
    if (MB_INFO_ADDR + info_size > MB_INFO_END) {
        set_err(err, errlen, "%s: command lines too long for the multiboot information area",
                kernel_path);
        goto fail;
    }
    return img;
fail:
    multiboot_free(img);
    return NULL;
}

void multiboot_free(struct multiboot_image *img)
{
    if (!img)
        return;
    for (int i = 0; i < img->nmods; i++) {
        free(img->mod[i].cmdline);
        free(img->mod[i].data);
    }
    free(img->mod);
    for (size_t i = 0; i < img->syms.count; i++)
        free((char *)img->syms.sym[i].name);
    free(img->syms.sym);
    free(img->cmdline);
    free(img->file);
    free(img->path);
    free(img);
}

const struct guest_symbols *multiboot_symbols(const struct multiboot_image *img)
{
    return &img->syms;
}

const struct guest_symbol *guest_symbols_lookup(const struct guest_symbols *syms,
                                                uint32_t addr, uint32_t *offset)
{
    size_t lo = 0, hi = syms->count;   /* find the last symbol with sym.addr <= addr */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (syms->sym[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct guest_symbol *s = &syms->sym[lo - 1];
    /* a sized symbol covers only its own bytes */
    if (s->size && addr - s->addr >= s->size)
        return NULL;
    *offset = addr - s->addr;
    return s;
}

/* Append a string to the info area; returns its guest address. */
static uint32_t info_add_string(uint8_t *info, uint32_t *used, const char *s)
{
    uint32_t addr = MB_INFO_ADDR + *used;
    size_t len = strlen(s) + 1;
    memcpy(info + *used, s, len);
    *used += (uint32_t)len;
    return addr;
}

static void info_add_mmap(uint8_t *info, uint32_t *used, uint64_t base, uint64_t len, uint32_t type)
{
    uint8_t *e = info + *used;
    put32(e, 20);
    put32(e + 4, (uint32_t)base);
    put32(e + 8, (uint32_t)(base >> 32));
    put32(e + 12, (uint32_t)len);
    put32(e + 16, (uint32_t)(len >> 32));
    put32(e + 20, type);
    *used += 24;
}

static struct seg_cache flat_segment(uint16_t sel, uint32_t desc_hi)
{
    struct desc d = { 0x0000FFFFu, desc_hi };
    return (struct seg_cache){ .sel = sel, .base = desc_base(d), .limit = desc_limit(d),
                               .flags = desc_flags(d), .valid = true };
}

int multiboot_boot_hook(struct machine *m, void *opaque)
{
    const struct multiboot_image *img = opaque;
    struct phys_mem *pm = &m->mem;
    static const uint8_t zeros[PAGE_SIZE];

    phys_set_a20(pm, true);
    for (int i = 0; i < img->nchunks; i++) {
        const struct mb_chunk *c = &img->chunk[i];
        phys_load(pm, c->paddr, c->bytes, c->filesz);
        for (uint32_t off = c->filesz; off < c->memsz;) {
            uint32_t n = c->memsz - off < PAGE_SIZE ? c->memsz - off : PAGE_SIZE;
            phys_load(pm, c->paddr + off, zeros, n);
            off += n;
        }
    }
    for (int i = 0; i < img->nmods; i++)
        phys_load(pm, img->mod[i].paddr, img->mod[i].data, img->mod[i].size);

    /* GDT: null, flat code (0x08), flat data (0x10) */
    const uint32_t code_hi = 0x00CF9A00u, data_hi = 0x00CF9200u;
    const uint32_t gdt[6] = { 0, 0, 0x0000FFFFu, code_hi | 0x100, 0x0000FFFFu, data_hi | 0x100 };
    phys_load(pm, MB_GDT_ADDR, gdt, sizeof(gdt));

    /* the information structure and what it points to */
    uint8_t *info = calloc(1, MB_INFO_END - MB_INFO_ADDR);
    if (!info) {
        fprintf(stderr, "fox86: out of host memory\n");
        return -1;
    }
    uint32_t used = MBI_SIZE;
    uint32_t mods_addr = MB_INFO_ADDR + used;
    used += 16u * img->nmods;
    for (int i = 0; i < img->nmods; i++) {
        uint8_t *e = info + (mods_addr - MB_INFO_ADDR) + 16u * i;
        put32(e, img->mod[i].paddr);
        put32(e + 4, img->mod[i].paddr + (uint32_t)img->mod[i].size);
        put32(e + 8, info_add_string(info, &used, img->mod[i].cmdline));
    }
    used = (used + 3) & ~3u;
    uint32_t mmap_addr = MB_INFO_ADDR + used;
    info_add_mmap(info, &used, 0, 0x9FC00, 1);
    info_add_mmap(info, &used, 0x9FC00, 0x400, 2);
    info_add_mmap(info, &used, 0xF0000, 0x10000, 2);
    info_add_mmap(info, &used, 0x100000, img->ram_size - 0x100000, 1);
    uint32_t mmap_len = MB_INFO_ADDR + used - mmap_addr;
    uint32_t cmdline_addr = info_add_string(info, &used, img->cmdline);
    uint32_t loader_addr = info_add_string(info, &used, "fox86");

    put32(info + MBI_OFF_FLAGS, MBI_MEMORY | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODS
                                | MBI_MMAP | MBI_LOADER_NAME);
    put32(info + MBI_OFF_MEM_LOWER, 639);
    put32(info + MBI_OFF_MEM_UPPER, (img->ram_size >> 10) - 1024);
    put32(info + MBI_OFF_BOOT_DEVICE, 0x8000FFFFu);   /* BIOS drive 0x80, no partition */
    put32(info + MBI_OFF_CMDLINE, cmdline_addr);
    put32(info + MBI_OFF_MODS_COUNT, (uint32_t)img->nmods);
    put32(info + MBI_OFF_MODS_ADDR, mods_addr);
    put32(info + MBI_OFF_MMAP_LENGTH, mmap_len);
    put32(info + MBI_OFF_MMAP_ADDR, mmap_addr);
    put32(info + MBI_OFF_LOADER_NAME, loader_addr);
    phys_load(pm, MB_INFO_ADDR, info, used);
    free(info);

    /* the machine state the Multiboot spec mandates */
    struct cpu *cpu = &m->cpu;
    cpu->gpr[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
    cpu->gpr[R_EBX] = MB_INFO_ADDR;
    cpu->gpr[R_ECX] = cpu->gpr[R_EDX] = cpu->gpr[R_ESI] = cpu->gpr[R_EDI] = cpu->gpr[R_EBP] = 0;
    cpu->gpr[R_ESP] = MB_BOOT_STACK;
    cpu->cr0 = (cpu->cr0 | CR0_PE) & ~CR0_PG;
    cpu->lf.op = LF_NONE;
    cpu->eflags = 0x2;                                  /* IF = 0, VM = 0, reserved bit 1 */
    cpu->gdtr = (struct dtr){ .base = MB_GDT_ADDR, .limit = sizeof(gdt) - 1 };
    cpu->seg[SEG_CS] = flat_segment(0x08, code_hi | 0x100);
    for (int s = 0; s <= SEG_GS; s++)
        if (s != SEG_CS)
            cpu->seg[s] = flat_segment(0x10, data_hi | 0x100);
    cpu->cpl = 0;
    cpu->eip = cpu->next_eip = img->entry;
    cpu->halted = false;   /* the TLB is empty: cpu_reset ran just before this hook */
    /* A BIOS leaves the x87 as FNINIT does (the power-on control word 0x0040
     * unmasks every exception); a multiboot loader runs after the BIOS. */
    cpu->fpu.cw = 0x037F;
    cpu->fpu.sw = 0;
    cpu->fpu.tw = 0xFFFF;
    return 0;
}
