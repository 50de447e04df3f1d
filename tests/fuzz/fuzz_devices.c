/* tests/fuzz/fuzz_devices.c: libFuzzer target driving the whole PC board
 * (devices/pc.c: PCI, i440FX, PIIX3, IDE/ATAPI with bus-master DMA, the
 * 82077AA floppy with the 8237 DMA, VGA with Bochs VBE, i8042, PIT, RTC,
 * UARTs, fw_cfg) from a guest-side program, without a CPU running.
 *
 * What it checks: a hostile guest can crash only itself. The oracles are
 * ASan, UBSan and LeakSanitizer, libFuzzer's -timeout, and:
 *   - the in-memory block devices abort on any call outside the medium
 *     (core/blockdev.h: the device checks guest LBAs before calling);
 *   - next_event returns a time after now, or TIME_NEVER (else the run loop
 *     would spin);
 *   - display_get_text gives at most DISPLAY_TEXT_MAX_COLS x _ROWS cells
 *     with the cursor inside (or hidden), display_render a picture whose
 *     last pixel is readable (ASan checks the buffer).
 *
 * Every input builds a fresh machine (16 MiB RAM) and board (pc_create,
 * no BIOS, VGA fitted) with: a 256 KiB ATA disk as primary master, an
 * ATAPI CD-ROM with 16 sectors of 2048 bytes (read-only) as secondary
 * master and an empty CD-ROM drive as secondary slave, a 1.44M floppy in
 * drive A (the images are allocated once and their written blocks restored
 * after each run, so a run depends only on its input). Then a fixed prelude maps the PCI BARs as a BIOS would: IDE
 * BAR 4 (bus master) at 0xC000 with I/O and bus mastering on, VGA BAR 0
 * (LFB) at 0xE0000000 and BAR 2 (MMIO) at 0xE1000000 with memory on.
 *
 * Input: byte 0 = flags (bit 0: the media fail reads and writes of their
 * sector/block 5 with -EIO; bit 1: skip the prelude; bit 2: a 128 KiB
 * BIOS image of HLT bytes, so the i440FX's PAM has ROM to steer), then a program of
 * actions, each an opcode byte (mod FOP_COUNT) and its operands; bytes past
 * the end read as zero. Operands:
 *   port  = 1 byte: < 0xF0 picks a range in port_ranges[] and one more byte
 *           the offset inside it; >= 0xF0: a raw 16-bit port follows
 *   size  = 1 byte: 1, 2 or 4
 *   value = size bytes, little-endian
 *   addr  = 1 byte kind (see pick_addr), then 3 or 4 address bytes
 *   OP_OUT port size value      FOP_IN port size
 *   OP_MEMW addr size value     FOP_MEMR addr size
 *   OP_TIME e v16: virtual time += (v16 + 1) << (e % 28) ns, then the
 *           devices whose deadline came run (as machine_run does), a
 *           pending reset request is honoured, and the PIC's INTR is acked
 *   OP_DISPLAY: display_get_text and display_render
 *   OP_RESET: machine_reset
 *   OP_LOAD a24 n8 bytes[n]: phys_load into RAM (PRD tables, buffers)
 *   OP_REP_IN port size n16: n (capped) reads, as REP INS
 *   OP_REP_OUT port size n16 values[n]: n writes, as REP OUTS
 *   OP_INTA: one interrupt acknowledge cycle if INTR is up
 *   OP_PCI devfn8 reg8 size value: a configuration write through 0xCF8/0xCFC
 *   OP_KEY k8 f8: a host key event (input_key), set-1 code k, with 0xE0 in
 *           the high byte if f bit 1, Pause if f bit 2, released if f bit 0
 *   OP_MOUSE dx8 dy8 dz8 b8: a host mouse event (signed motion, buttons)
 *   (host input belongs to the frontends, but it meets guest commands in
 *   the i8042's queues: a guest that never reads while the user types)
 * At most MAX_OPS actions, MAX_PORT_IO port accesses and MAX_RENDERS
 * display reads run per input.
 *
 * With FOX86_FUZZ_TRACE set in the environment, every IN and memory read
 * prints its value and the devices log guest errors (for checking seeds).
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blockdev.h"
#include "core/display.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pc.h"
#include "devices/pci.h"

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

#define RAM_SIZE       (16u << 20)
#define DISK_SIZE      (256u << 10)
#define CD_SECTORS     16u
#define FLOPPY_SIZE    1474560u
#define BAD_BLOCK      5u              /* fails with -EIO when flags bit 0 */
#define MAX_OPS        4096
#define MAX_PORT_IO    200000u
#define MAX_REP        8192u
#define MAX_RENDERS    16              /* a 1600x1200 render costs ~10 ms under ASan */

#define BM_BASE   0xC000u
#define LFB_BASE  0xE0000000u
#define MMIO_BASE 0xE1000000u

enum { FLAG_MEDIA_ERRORS = 1, FLAG_NO_PRELUDE = 2, FLAG_BIOS = 4 };
#define BIOS_SIZE (128u << 10)

enum fuzz_op {
    FOP_OUT, FOP_IN, FOP_MEMW, FOP_MEMR, FOP_TIME, FOP_DISPLAY, FOP_RESET, FOP_LOAD,
    FOP_REP_IN, FOP_REP_OUT, FOP_INTA, FOP_PCI, FOP_KEY, FOP_MOUSE, FOP_COUNT
};

/* The interesting port ranges; an FOP_OUT/FOP_IN picks one, then an offset. */
static const struct { uint16_t first, count; } port_ranges[] = {
    { 0x1F0, 8 }, { 0x3F6, 1 }, { 0x170, 8 }, { 0x376, 1 }, { BM_BASE, 16 },
    { 0x3F0, 8 }, { 0x00, 16 }, { 0x80, 16 }, { 0xC0, 32 }, { 0x3B0, 0x30 },
    { 0x1CE, 3 }, { 0x60, 1 }, { 0x64, 1 }, { 0x510, 12 }, { 0xCF8, 8 },
    { 0x40, 4 }, { 0x61, 1 }, { 0x70, 2 }, { 0x20, 2 }, { 0xA0, 2 },
    { 0x92, 1 }, { 0x4D0, 2 }, { 0x3F8, 8 }, { 0x2F8, 8 }, { 0xE9, 1 },
    { 0x402, 1 },
};
#define NRANGES (sizeof port_ranges / sizeof port_ranges[0])

/* ---- in-memory block devices -------------------------------------------- */

/* The images live across runs (filling 1.7 MB per run would cost more
 * than the run): each remembers which blocks the guest wrote, and
 * mem_blockdev_restore puts the pristine bytes back after every run. */
struct mem_blockdev {
    struct blockdev bd;
    uint8_t *bytes, *pristine;
    uint8_t *dirty;                    /* one flag per block */
    uint32_t block;                    /* sector size */
    bool fail_bad_block;               /* this run: BAD_BLOCK fails with -EIO */
};

static bool mem_hits_bad_block(const struct mem_blockdev *mb, uint64_t offset, size_t len)
{
    uint64_t bad = (uint64_t)BAD_BLOCK * mb->block;
    return mb->fail_bad_block && offset < bad + mb->block && offset + len > bad;
}

static int mem_read(struct blockdev *bd, uint64_t offset, void *buf, size_t len)
{
    struct mem_blockdev *mb = (struct mem_blockdev *)bd;
    REQUIRE(offset <= bd->size && len <= bd->size - offset);   /* the blockdev contract */
    if (mem_hits_bad_block(mb, offset, len)) {
        bd->errors++;
        return -EIO;
    }
    memcpy(buf, mb->bytes + offset, len);
    bd->reads += len;
    return 0;
}

static int mem_write(struct blockdev *bd, uint64_t offset, const void *buf, size_t len)
{
    struct mem_blockdev *mb = (struct mem_blockdev *)bd;
    REQUIRE(offset <= bd->size && len <= bd->size - offset);
    if (bd->read_only)
        return -EROFS;
    if (mem_hits_bad_block(mb, offset, len)) {
        bd->errors++;
        return -EIO;
    }
    if (len == 0)
        return 0;
    memcpy(mb->bytes + offset, buf, len);
    for (uint64_t b = offset / mb->block; b <= (offset + len - 1) / mb->block; b++)
        mb->dirty[b] = 1;
    bd->writes += len;
    return 0;
}

static const struct blockdev_ops mem_blockdev_ops = { .read = mem_read, .write = mem_write };

static void mem_blockdev_init(struct mem_blockdev *mb, const char *name, uint32_t size,
                              uint32_t block, bool read_only)
{
    mb->bytes = malloc(size);
    mb->pristine = malloc(size);
    mb->dirty = calloc(1, size / block);
    REQUIRE(mb->bytes && mb->pristine && mb->dirty);
    mb->bd = (struct blockdev){ .ops = &mem_blockdev_ops, .size = size,
                                .read_only = read_only, .name = name };
    mb->block = block;
    /* recognisable contents: each block starts with its number */
    memset(mb->pristine, 0, size);
    for (uint32_t b = 0; b < size / block; b++) {
        memcpy(mb->pristine + (size_t)b * block, &b, sizeof b);
        mb->pristine[(size_t)b * block + block - 1] = 0xAA;
    }
    memcpy(mb->bytes, mb->pristine, size);
}

static void mem_blockdev_restore(struct mem_blockdev *mb)
{
    for (uint32_t b = 0; b < mb->bd.size / mb->block; b++) {
        if (mb->dirty[b]) {
            memcpy(mb->bytes + (size_t)b * mb->block, mb->pristine + (size_t)b * mb->block,
                   mb->block);
            mb->dirty[b] = 0;
        }
    }
    mb->bd.reads = mb->bd.writes = mb->bd.errors = 0;
}

/* ---- the input ---------------------------------------------------------- */

struct prog {
    const uint8_t *data;
    size_t size, pos;
};

static uint8_t in_u8(struct prog *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static uint32_t in_bytes(struct prog *in, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint32_t)in_u8(in) << (8 * i);
    return v;
}

static int pick_size(struct prog *in)
{
    static const int sizes[4] = { 1, 2, 4, 2 };
    return sizes[in_u8(in) & 3];
}

static uint16_t pick_port(struct prog *in)
{
    uint8_t s = in_u8(in);
    if (s >= 0xF0)
        return (uint16_t)in_bytes(in, 2);
    uint16_t first = port_ranges[s % NRANGES].first, count = port_ranges[s % NRANGES].count;
    return (uint16_t)(first + in_u8(in) % count);
}

static uint32_t pick_addr(struct prog *in)
{
    uint8_t kind = in_u8(in);
    uint32_t off = in_bytes(in, 3);
    switch (kind % 7) {
    case 0: return 0xA0000u + off % 0x20000u;          /* the VGA window */
    case 1: return LFB_BASE + off % (16u << 20);        /* BAR 0 */
    case 2: return MMIO_BASE + off % 0x1000u;           /* BAR 2 */
    case 3: return off % 0x10000u;                      /* low RAM: PRD tables, buffers */
    case 4: return 0xC0000u + off % 0x40000u;           /* PAM shadow area */
    case 5: return off % RAM_SIZE;
    default: return off | (uint32_t)in_u8(in) << 24;   /* anywhere */
    }
}

/* ---- the machine -------------------------------------------------------- */

struct run {
    struct machine *m;
    bool trace;                        /* FOX86_FUZZ_TRACE set: print what IN reads */
    uint32_t port_io;
    int renders;
};

static bool io_allowed(struct run *r, uint32_t n)
{
    if (r->port_io + n > MAX_PORT_IO)
        return false;
    r->port_io += n;
    return true;
}

static void pci_config_write(struct machine *m, uint8_t devfn, uint8_t reg, uint32_t v, int size)
{
    ioport_write(&m->io, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xFCu), 4);
    ioport_write(&m->io, (uint16_t)(0xCFC + (reg & 3)), v, size);
}

/* What a BIOS does first: map the IDE bus master and the VGA BARs. */
static void prelude(struct machine *m)
{
    uint8_t ide = PCI_DEVFN(1, 1), vga = PCI_DEVFN(2, 0);
    pci_config_write(m, ide, 0x20, BM_BASE, 4);
    pci_config_write(m, ide, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    pci_config_write(m, vga, 0x10, LFB_BASE, 4);
    pci_config_write(m, vga, 0x18, MMIO_BASE, 4);
    pci_config_write(m, vga, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
}

/* machine_run's device step: run what is due, check the deadlines. */
static void run_devices(struct machine *m)
{
    uint64_t now = machine_now(m);
    for (int i = 0; i < m->ndevices; i++) {
        struct machine_device *d = &m->devices[i];
        if (d->deadline <= now && d->ops->next_event) {
            d->deadline = d->ops->next_event(d->state, now);
            REQUIRE(d->deadline > now);
        }
    }
}

static void check_display(struct machine *m)
{
    static struct display_text text;
    if (display_get_text(&m->display, &text)) {
        REQUIRE(text.cols >= 0 && text.cols <= DISPLAY_TEXT_MAX_COLS);
        REQUIRE(text.rows >= 0 && text.rows <= DISPLAY_TEXT_MAX_ROWS);
        REQUIRE(!text.cursor_visible ||
                (text.cursor_col >= 0 && text.cursor_col < text.cols &&
                 text.cursor_row >= 0 && text.cursor_row < text.rows));
    }
    int w = -1, h = -1, stride = -1;
    const uint32_t *px = display_render(&m->display, &w, &h, &stride);
    if (px && w > 0 && h > 0) {
        REQUIRE(stride >= w);
        volatile uint32_t last = px[(size_t)(h - 1) * (size_t)stride + (size_t)(w - 1)];
        volatile uint32_t first = px[0];
        (void)last; (void)first;
    }
}

static void handle_requests(struct machine *m)
{
    if (m->reset_requested) {
        m->reset_requested = false;
        machine_reset(m);
    }
    m->cpu.stop_requested = false;
}

static void run_program(struct run *r, struct prog *in)
{
    struct machine *m = r->m;
    volatile uint32_t sink = 0;
    for (int ops = 0; ops < MAX_OPS && in->pos < in->size; ops++) {
        switch ((enum fuzz_op)(in_u8(in) % FOP_COUNT)) {
        case FOP_OUT: {
            uint16_t port = pick_port(in);
            int size = pick_size(in);
            uint32_t v = in_bytes(in, size);
            if (io_allowed(r, 1))
                ioport_write(&m->io, port, v, size);
            break;
        }
        case FOP_IN: {
            uint16_t port = pick_port(in);
            int size = pick_size(in);
            if (io_allowed(r, 1)) {
                uint32_t v = ioport_read(&m->io, port, size);
                if (r->trace)
                    fprintf(stderr, "in %04x/%d = %x\n", port, size, v);
                sink += v;
            }
            break;
        }
        case FOP_MEMW: {
            uint32_t a = pick_addr(in);
            int size = pick_size(in);
            phys_write(&m->mem, a, in_bytes(in, size), size);
            break;
        }
        case FOP_MEMR: {
            uint32_t a = pick_addr(in);
            uint32_t v = phys_read(&m->mem, a, pick_size(in));
            if (r->trace)
                fprintf(stderr, "read %08x = %x\n", a, v);
            sink += v;
            break;
        }
        case FOP_TIME: {
            uint8_t e = in_u8(in);
            uint64_t v = in_bytes(in, 2);
            m->idle_ns += (v + 1) << (e % 28);
            run_devices(m);
            if (m->cpu.intr)
                sink += (uint32_t)m->cpu.intr_ack(m->cpu.intr_opaque);
            break;
        }
        case FOP_DISPLAY:
            if (r->renders++ < MAX_RENDERS)
                check_display(m);
            break;
        case FOP_RESET:
            machine_reset(m);
            break;
        case FOP_LOAD: {
            uint32_t a = in_bytes(in, 3) % RAM_SIZE;
            size_t n = in_u8(in);
            size_t avail = in->size - in->pos;
            if (n > avail)
                n = avail;
            if (n > RAM_SIZE - a)
                n = RAM_SIZE - a;
            phys_load(&m->mem, a, in->data + in->pos, n);
            in->pos += n;
            break;
        }
        case FOP_REP_IN: {
            uint16_t port = pick_port(in);
            int size = pick_size(in);
            uint32_t n = in_bytes(in, 2) % MAX_REP + 1;
            if (io_allowed(r, n))
                for (uint32_t i = 0; i < n; i++)
                    sink += ioport_read(&m->io, port, size);
            break;
        }
        case FOP_REP_OUT: {
            uint16_t port = pick_port(in);
            int size = pick_size(in);
            uint32_t n = in_bytes(in, 2) % MAX_REP + 1;
            if (!io_allowed(r, n))
                break;
            for (uint32_t i = 0; i < n; i++)
                ioport_write(&m->io, port, in_bytes(in, size), size);
            break;
        }
        case FOP_INTA:
            if (m->cpu.intr)
                sink += (uint32_t)m->cpu.intr_ack(m->cpu.intr_opaque);
            break;
        case FOP_PCI: {
            uint8_t devfn = in_u8(in), reg = in_u8(in);
            int size = pick_size(in);
            uint32_t v = in_bytes(in, size);
            if (io_allowed(r, 2))
                pci_config_write(m, devfn, reg, v, size);
            break;
        }
        case FOP_KEY: {
            uint8_t k = in_u8(in), f = in_u8(in);
            uint16_t code = (f & 4) ? INPUT_KEY_PAUSE : (uint16_t)((f & 2) ? 0xE000 | k : k);
            input_key(&m->input, code, !(f & 1));
            break;
        }
        case FOP_MOUSE: {
            int dx = (int8_t)in_u8(in), dy = (int8_t)in_u8(in), dz = (int8_t)in_u8(in);
            unsigned buttons = in_u8(in) & 7u;
            input_mouse(&m->input, dx * 4, dy * 4, dz, buttons);
            break;
        }
        case FOP_COUNT:
            break;
        }
        handle_requests(m);
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prog in = { .data = data, .size = size };
    uint8_t flags = in_u8(&in);
    bool fail = flags & FLAG_MEDIA_ERRORS;

    char err[256];
    struct machine *m = machine_create(&(struct machine_config){
        .ram_size = RAM_SIZE, .deterministic = true,
        .log_mask = getenv("FOX86_FUZZ_TRACE") ? LOG_GUEST_ERRORS | LOG_UNIMP : 0 },
        err, sizeof err);
    REQUIRE(m);
    struct run r = { .m = m, .trace = getenv("FOX86_FUZZ_TRACE") != NULL };
    /* one-time init: libFuzzer's entry point gives no other place to keep them */
    static struct mem_blockdev disk, cd, floppy;
    if (!disk.bytes) {
        mem_blockdev_init(&disk, "disk", DISK_SIZE, 512, false);
        mem_blockdev_init(&cd, "cd", CD_SECTORS * 2048u, 2048, true);
        mem_blockdev_init(&floppy, "floppy", FLOPPY_SIZE, 512, false);
    }
    disk.fail_bad_block = cd.fail_bad_block = floppy.fail_bad_block = fail;
    static uint8_t *bios;
    if (!bios) {
        bios = malloc(BIOS_SIZE);
        REQUIRE(bios);
        memset(bios, 0xF4, BIOS_SIZE);
    }
    struct pc_config cfg = {
        .bios = (flags & FLAG_BIOS) ? bios : NULL,
        .bios_size = (flags & FLAG_BIOS) ? BIOS_SIZE : 0,
        .vga = true,
        .boot_order = "cad",
        .rtc_base = 1700000000,
    };
    cfg.ide[0] = (struct ide_drive_config){ .bd = &disk.bd, .present = true };
    cfg.ide[2] = (struct ide_drive_config){ .bd = &cd.bd, .cdrom = true, .present = true };
    cfg.ide[3] = (struct ide_drive_config){ .bd = NULL, .cdrom = true, .present = true };
    cfg.floppy[0] = &floppy.bd;
    REQUIRE(pc_create(m, &cfg, NULL, err, sizeof err) == 0);
    machine_reset(m);
    if (!(flags & FLAG_NO_PRELUDE))
        prelude(m);

    run_program(&r, &in);

    machine_destroy(m);
    mem_blockdev_restore(&disk);
    mem_blockdev_restore(&cd);
    mem_blockdev_restore(&floppy);
    return 0;
}
