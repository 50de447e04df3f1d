/* devices/fw_cfg.c: QEMU's firmware configuration device (fw_cfg), the
 * channel through which SeaBIOS and the Linux-boot option ROM learn the RAM
 * size, the boot order, ACPI tables, the kernel and its command line.
 *
 * Modelled (QEMU's docs/specs/fw_cfg.txt, the x86 I/O port flavour):
 *   0x510  selector, 16-bit write: select an item, rewind to its start
 *   0x511  data, 8-bit read: the next byte of the item (0 past its end or
 *          for an item that does not exist); 0x510 read as a byte does the
 *          same, as QEMU's combined port does
 *   0x514  DMA address, high 32 bits, written big-endian (the guest does
 *          outl(bswap32(high))); reading gives "QEMU CFG", byte by byte
 *   0x518  DMA address, low 32 bits; writing it runs the transfer
 * FW_CFG_ID reports 3 (traditional interface + DMA).
 *
 * The DMA descriptor in guest memory is {be32 control; be32 length;
 * be64 address}. control: bit 0 ERROR, 1 READ, 2 SKIP, 3 SELECT (item key
 * in bits 16-31), 4 WRITE. READ copies the item from the current offset to
 * guest memory and fills the rest of length with zeros past the item's end;
 * SKIP only advances the offset; WRITE is refused with ERROR (no item is
 * writable), as QEMU does for read-only items. When done, the control word
 * in guest memory is set to 0, or to ERROR. The transfer is synchronous:
 * it is complete when the OUT to 0x518 returns.
 *
 * Guest memory is reached as a DMA master does: no A20 masking; writes to
 * ROM and to unassigned space go nowhere, MMIO is skipped (phys_load);
 * a range beyond 4 GiB is an error. The data port's write side (removed in
 * QEMU 2.4) and 16-bit data reads are not modelled.
 *
 * Items are copied when added. Named files (fw_cfg_add_file) live in a
 * directory kept sorted by name, as QEMU does for current machine types:
 * the n-th file in name order has key FW_CFG_FILE_FIRST + n, so adding a
 * file may renumber the ones after it (the guest finds files through the
 * directory, never by a fixed key). FW_CFG_FILE_DIR is
 * be32 count, then per file {be32 size; be16 select; be16 reserved;
 * char name[56]}. Machine reset keeps the items and selects key 0.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/fw_cfg.h"

#define FW_CFG_PORT_SELECT   0x510
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA_HIGH 0x514
#define FW_CFG_PORT_DMA_LOW  0x518

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

#define DMA_CTL_ERROR  0x01u
#define DMA_CTL_READ   0x02u
#define DMA_CTL_SKIP   0x04u
#define DMA_CTL_SELECT 0x08u
#define DMA_CTL_WRITE  0x10u

#define FW_CFG_WRITE_CHANNEL  0x4000
#define FW_CFG_DIR_ENTRY_SIZE 64   /* size, select, reserved, name[56] */
/* Keys below 0x4000 (and the same with the arch-local bit 0x8000) exist;
 * files take the keys from FW_CFG_FILE_FIRST up to that limit. */
#define FW_CFG_KEY_LIMIT   0x4000
#define FW_CFG_MAX_FILES   (FW_CFG_KEY_LIMIT - FW_CFG_FILE_FIRST)

static const char dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

struct fw_cfg_item {
    uint16_t key;
    uint8_t *data;
    uint32_t len;
};

struct fw_cfg_file {
    char     name[FW_CFG_MAX_FILE_NAME];
    uint8_t *data;
    uint32_t len;
};

struct fw_cfg {
    struct machine *m;

    struct fw_cfg_item *items;     /* keyed items, in the order added */
    int nitems, items_cap;
    struct fw_cfg_file *files;     /* sorted by name; key = FILE_FIRST + index */
    int nfiles, files_cap;
    uint8_t *dir;                  /* FW_CFG_FILE_DIR, rebuilt when a file is added */
    uint32_t dir_len;

    uint16_t selector;             /* key of the selected item */
    uint32_t offset;               /* read position in it */
    uint32_t dma_high;             /* high half of the descriptor address */
};

static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The bytes of the item with this key; false if there is none. The write
 * channel bit (0x4000) does not change which item is read, as in QEMU. */
static bool fw_cfg_lookup(struct fw_cfg *fw, uint16_t key, const uint8_t **data, uint32_t *len)
{
    key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
    if (key == FW_CFG_FILE_DIR) {
        *data = fw->dir;
        *len = fw->dir_len;
        return true;
    }
    if (key >= FW_CFG_FILE_FIRST && key - FW_CFG_FILE_FIRST < fw->nfiles) {
        *data = fw->files[key - FW_CFG_FILE_FIRST].data;
        *len = fw->files[key - FW_CFG_FILE_FIRST].len;
        return true;
    }
    for (int i = 0; i < fw->nitems; i++) {
        if (fw->items[i].key == key) {
            *data = fw->items[i].data;
            *len = fw->items[i].len;
            return true;
        }
    }
    return false;
}

static void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
    fw->selector = key;
    fw->offset = 0;
}

static uint8_t fw_cfg_read_byte(struct fw_cfg *fw)
{
    const uint8_t *data;
    uint32_t len;
    if (!fw_cfg_lookup(fw, fw->selector, &data, &len) || fw->offset >= len)
        return 0;
    return data[fw->offset++];
}

/* What lies under [addr, addr+len) besides RAM, for a DMA write. */
enum dma_target {
    TARGET_PLAIN,     /* no region: RAM, and unassigned space beyond it */
    TARGET_NO_ROM,    /* regions, none of them ROM: phys_load does the right thing */
    TARGET_ALL_ROM,   /* the topmost region is ROM and covers it all: nothing to write */
    TARGET_SOME_ROM,  /* ROM somewhere in it: byte by byte */
};

static enum dma_target dma_target(const struct phys_mem *pm, uint32_t addr, uint32_t len)
{
    enum dma_target t = TARGET_PLAIN;
    for (int i = pm->nregions - 1; i >= 0; i--) {
        const struct phys_region *r = &pm->regions[i];
        if ((uint64_t)addr + len <= r->base || (uint64_t)r->base + r->size <= addr)
            continue;
        if (r->kind == PHYS_ROM) {
            if (t == TARGET_PLAIN && addr >= r->base &&
                (uint64_t)addr + len <= (uint64_t)r->base + r->size)
                return TARGET_ALL_ROM;
            return TARGET_SOME_ROM;
        }
        t = TARGET_NO_ROM;
    }
    return t;
}

/* DMA into guest memory (src NULL: zeros). RAM, shadow RAM and device RAM
 * are written; ROM, MMIO and unassigned space are not. Returns -1 (nothing
 * written) if the range does not fit below 4 GiB. */
static int dma_store(struct fw_cfg *fw, uint64_t addr, const uint8_t *src, uint32_t len)
{
    static const uint8_t zeros[4096];
    struct phys_mem *pm = &fw->m->mem;
    if (addr + len > 0x100000000ull)
        return -1;
    uint32_t a = (uint32_t)addr;
    if (src && dma_target(pm, a, len) == TARGET_PLAIN) {
        /* Plain RAM and what lies beyond it: only the RAM part matters. */
        if (a < pm->ram_size)
            phys_load(pm, a, src, a + (uint64_t)len <= pm->ram_size ? len : pm->ram_size - a);
        return 0;
    }
    while (len > 0) {
        uint32_t chunk = 4096 - (a & 4095);
        if (chunk > len)
            chunk = len;
        const uint8_t *s = src ? src : zeros;
        switch (dma_target(pm, a, chunk)) {
        case TARGET_PLAIN:
            if (a < pm->ram_size)
                phys_load(pm, a, s, a + (uint64_t)chunk <= pm->ram_size ? chunk : pm->ram_size - a);
            break;
        case TARGET_NO_ROM:
            phys_load(pm, a, s, chunk);
            break;
        case TARGET_ALL_ROM:
            break;
        case TARGET_SOME_ROM:
            /* phys_load would write the ROM bytes, so leave those out. */
            for (uint32_t i = 0; i < chunk; i++)
                if (dma_target(pm, a + i, 1) != TARGET_ALL_ROM)
                    phys_load(pm, a + i, s + i, 1);
            break;
        }
        a += chunk;
        len -= chunk;
        if (src)
            src += chunk;
        if (a == 0)
            break;   /* wrapped: the range ended exactly at 4 GiB */
    }
    return 0;
}

static void fw_cfg_dma(struct fw_cfg *fw, uint64_t desc_addr)
{
    struct machine *m = fw->m;
    if (desc_addr + 16 > 0x100000000ull) {
        machine_log(m, LOG_GUEST_ERRORS, "fw_cfg: DMA descriptor at 0x%llx is beyond 4 GiB\n",
                    (unsigned long long)desc_addr);
        return;
    }
    uint8_t desc[16];
    phys_copy_out(&m->mem, (uint32_t)desc_addr, desc, sizeof desc);
    uint32_t control = get_be32(desc);
    uint32_t length = get_be32(desc + 4);
    uint64_t address = (uint64_t)get_be32(desc + 8) << 32 | get_be32(desc + 12);

    if (control & DMA_CTL_SELECT)
        fw_cfg_select(fw, (uint16_t)(control >> 16));

    bool read = false, write = false;
    if (control & DMA_CTL_READ)
        read = true;
    else if (control & DMA_CTL_WRITE)
        write = true;
    else if (!(control & DMA_CTL_SKIP))
        length = 0;

    const uint8_t *data;
    uint32_t item_len;
    if (!fw_cfg_lookup(fw, fw->selector, &data, &item_len))
        item_len = 0;

    uint32_t result = 0;
    if (write && length > 0) {
        machine_log(m, LOG_GUEST_ERRORS, "fw_cfg: DMA write to item 0x%x refused (read-only)\n",
                    fw->selector);
        result = DMA_CTL_ERROR;
        length = 0;
    }
    /* The part of the item still unread, then zeros (read) or nothing (skip). */
    uint32_t avail = fw->offset < item_len ? item_len - fw->offset : 0;
    uint32_t from_item = length < avail ? length : avail;
    if (read && from_item > 0 && dma_store(fw, address, data + fw->offset, from_item) != 0)
        result = DMA_CTL_ERROR;
    if (result == 0) {
        fw->offset += from_item;
        uint32_t rest = length - from_item;
        if (read && rest > 0 && dma_store(fw, address + from_item, NULL, rest) != 0)
            result = DMA_CTL_ERROR;
    }
    if (result)
        machine_log(m, LOG_GUEST_ERRORS, "fw_cfg: DMA of item 0x%x to 0x%llx failed\n",
                    fw->selector, (unsigned long long)address);

    uint8_t done[4];
    put_be32(done, result);
    dma_store(fw, desc_addr, done, 4);
}

static uint32_t fw_cfg_port_read(void *opaque, uint16_t port, int size)
{
    struct fw_cfg *fw = opaque;
    if (port >= FW_CFG_PORT_DMA_HIGH) {
        uint32_t v = 0;
        for (int i = 0; i < size; i++) {
            int at = port - FW_CFG_PORT_DMA_HIGH + i;
            uint8_t b = at < 8 ? (uint8_t)dma_signature[at] : 0xFF;
            v |= (uint32_t)b << (8 * i);
        }
        return v;
    }
    if (size != 1) {
        machine_log(fw->m, LOG_GUEST_ERRORS, "fw_cfg: %d-byte read of port 0x%x\n", size, port);
        return size == 2 ? 0xFFFF : 0xFFFFFFFFu;
    }
    return fw_cfg_read_byte(fw);
}

static void fw_cfg_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct fw_cfg *fw = opaque;
    if (port == FW_CFG_PORT_DMA_HIGH && size == 4) {
        fw->dma_high = __builtin_bswap32(value);
    } else if (port == FW_CFG_PORT_DMA_LOW && size == 4) {
        uint64_t addr = (uint64_t)fw->dma_high << 32 | __builtin_bswap32(value);
        fw->dma_high = 0;   /* as QEMU: each transfer sets both halves */
        fw_cfg_dma(fw, addr);
    } else if (port < FW_CFG_PORT_DMA_HIGH && size == 2) {
        fw_cfg_select(fw, (uint16_t)value);
    } else if (port < FW_CFG_PORT_DMA_HIGH && size == 1) {
        machine_log(fw->m, LOG_UNIMP, "fw_cfg: write 0x%02x to the data port ignored\n",
                    value & 0xFF);
    } else {
        machine_log(fw->m, LOG_GUEST_ERRORS, "fw_cfg: %d-byte write 0x%x to port 0x%x ignored\n",
                    size, value, port);
    }
}

static const struct ioport_ops fw_cfg_port_ops = { fw_cfg_port_read, fw_cfg_port_write };

static void fw_cfg_reset(void *dev)
{
    struct fw_cfg *fw = dev;
    fw->selector = 0;
    fw->offset = 0;
    fw->dma_high = 0;
}

static void fw_cfg_destroy(void *dev)
{
    struct fw_cfg *fw = dev;
    for (int i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    for (int i = 0; i < fw->nfiles; i++)
        free(fw->files[i].data);
    free(fw->items);
    free(fw->files);
    free(fw->dir);
    free(fw);
}

/* ---- save state ---- */

/* The items are host configuration, not state: only where the guest is
 * reading (reads past an item's end already return 0, so a loaded offset
 * needs no check). */
static const struct state_field fw_cfg_fields[] = {
    STATE_U16(struct fw_cfg, selector),
    STATE_U32(struct fw_cfg, offset),
    STATE_U32(struct fw_cfg, dma_high),
};
static const struct state_desc fw_cfg_state = STATE_DESC("fw_cfg", 1, fw_cfg_fields);

static const struct device_ops fw_cfg_device_ops = {
    .name = "fw_cfg", .reset = fw_cfg_reset, .destroy = fw_cfg_destroy,
    .state = &fw_cfg_state,
};

/* A private copy of data (at least one byte allocated, so len 0 works). */
static uint8_t *copy_bytes(const void *data, uint32_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, data, len);
    return p;
}

int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
    uint16_t index = key & 0x7FFF;   /* without the arch-local bit */
    if (!fw || (len && !data) || index >= FW_CFG_KEY_LIMIT || key == FW_CFG_FILE_DIR ||
        (index >= FW_CFG_FILE_FIRST && !(key & 0x8000)))
        return -1;
    const uint8_t *old;
    uint32_t old_len;
    if (fw_cfg_lookup(fw, key, &old, &old_len))
        return -1;
    if (fw->nitems == fw->items_cap) {
        int cap = fw->items_cap ? fw->items_cap * 2 : 16;
        struct fw_cfg_item *items = realloc(fw->items, (size_t)cap * sizeof *items);
        if (!items)
            return -1;
        fw->items = items;
        fw->items_cap = cap;
    }
    uint8_t *copy = copy_bytes(data, len);
    if (!copy)
        return -1;
    fw->items[fw->nitems++] = (struct fw_cfg_item){ .key = key, .data = copy, .len = len };
    return 0;
}

int fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value)
{
    uint8_t le[2] = { (uint8_t)value, (uint8_t)(value >> 8) };
    return fw_cfg_add_bytes(fw, key, le, sizeof le);
}

int fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value)
{
    uint8_t le[4];
    for (int i = 0; i < 4; i++)
        le[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(fw, key, le, sizeof le);
}

int fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(fw, key, le, sizeof le);
}

static int fw_cfg_rebuild_dir(struct fw_cfg *fw)
{
    uint32_t len = 4 + (uint32_t)fw->nfiles * FW_CFG_DIR_ENTRY_SIZE;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -1;
    put_be32(dir, (uint32_t)fw->nfiles);
    for (int i = 0; i < fw->nfiles; i++) {
        uint8_t *e = dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;
        put_be32(e, fw->files[i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, fw->files[i].name, FW_CFG_MAX_FILE_NAME);
    }
    free(fw->dir);
    fw->dir = dir;
    fw->dir_len = len;
    return 0;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, uint32_t len)
{
    if (!fw || !name || (len && !data))
        return -1;
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len >= FW_CFG_MAX_FILE_NAME || fw->nfiles >= FW_CFG_MAX_FILES)
        return -1;
    int pos = 0;
    while (pos < fw->nfiles) {
        int c = strcmp(name, fw->files[pos].name);
        if (c == 0)
            return -1;
        if (c < 0)
            break;
        pos++;
    }
    if (fw->nfiles == fw->files_cap) {
        int cap = fw->files_cap ? fw->files_cap * 2 : 16;
        struct fw_cfg_file *files = realloc(fw->files, (size_t)cap * sizeof *files);
        if (!files)
            return -1;
        fw->files = files;
        fw->files_cap = cap;
    }
    uint8_t *copy = copy_bytes(data, len);
    if (!copy)
        return -1;
    memmove(&fw->files[pos + 1], &fw->files[pos], (size_t)(fw->nfiles - pos) * sizeof fw->files[0]);
    fw->files[pos] = (struct fw_cfg_file){ .data = copy, .len = len };
    memcpy(fw->files[pos].name, name, name_len + 1);
    fw->nfiles++;
    if (fw_cfg_rebuild_dir(fw) != 0) {
        free(copy);
        fw->nfiles--;
        memmove(&fw->files[pos], &fw->files[pos + 1], (size_t)(fw->nfiles - pos) * sizeof fw->files[0]);
        return -1;
    }
    return 0;
}

int fw_cfg_create(struct machine *m, struct fw_cfg **out)
{
    if (out)
        *out = NULL;
    struct fw_cfg *fw = calloc(1, sizeof *fw);
    if (!fw)
        return -1;
    fw->m = m;
    if (fw_cfg_rebuild_dir(fw) != 0 ||
        fw_cfg_add_bytes(fw, FW_CFG_SIGNATURE, "QEMU", 4) != 0 ||
        fw_cfg_add_i32(fw, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA) != 0 ||
        ioport_register(&m->io, FW_CFG_PORT_SELECT, 2, &fw_cfg_port_ops, fw) != 0) {
        fw_cfg_destroy(fw);
        return -1;
    }
    if (ioport_register(&m->io, FW_CFG_PORT_DMA_HIGH, 8, &fw_cfg_port_ops, fw) != 0) {
        ioport_unregister(&m->io, FW_CFG_PORT_SELECT, 2);
        fw_cfg_destroy(fw);
        return -1;
    }
    if (machine_add_device(m, &fw_cfg_device_ops, fw) != 0) {
        ioport_unregister(&m->io, FW_CFG_PORT_SELECT, 2);
        ioport_unregister(&m->io, FW_CFG_PORT_DMA_HIGH, 8);
        fw_cfg_destroy(fw);
        return -1;
    }
    fw_cfg_reset(fw);
    if (out)
        *out = fw;
    return 0;
}
