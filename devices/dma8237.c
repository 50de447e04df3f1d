/* devices/dma8237.c: the PC/AT's two cascaded Intel 8237A DMA controllers
 * and the 74LS612 page registers, as one device.
 *
 *   0x00-0x0F   DMA1: 8-bit channels 0-3 (byte addresses and counts)
 *   0xC0-0xDF   DMA2: 16-bit channels 4-7, one register every other port
 *               (addresses and counts in words); channel 4 is the cascade
 *   0x81-0x8F   page registers (0x87 ch0, 0x83 ch1, 0x81 ch2, 0x82 ch3,
 *               0x8F ch4, 0x8B ch5, 0x89 ch6, 0x8A ch7); the others are
 *               plain storage. 0x80 is left to the board (POST code port).
 *
 * Registers per controller: base/current address and count through the
 * byte-pointer flip-flop, status (TC bits 0-3, cleared by reading; request
 * bits 4-7) / command, request, single mask, mode, clear flip-flop, master
 * clear (read: temporary register, always 0 here), clear mask, write all
 * masks (read back as the mask, as the PIIX does).
 *
 * Transfers are pulled by devices through dma8237_transfer(): no DREQ
 * timing, demand/single/block modes all move as much as the device offers.
 * Physical address of an 8-bit channel: page << 16 | address, the address
 * wrapping inside the 64 KiB page as the 8237 does (the page register does
 * not count); of a 16-bit channel: (page & 0xFE) << 16 | address << 1,
 * wrapping inside the 128 KiB block. Memory goes through phys_load /
 * phys_copy_out (RAM, ROM and MMIO as the bus sees them).
 *
 * At terminal count the TC status bit is set and, without autoinit, the
 * channel's mask bit (8237A datasheet: EOP sets the mask unless
 * autoinitialize); with autoinit the current address and count are
 * reloaded from the base registers. A transfer call stops at terminal
 * count even with autoinit: the device sees it and calls again.
 *
 * Not modelled: memory-to-memory transfers (command bit 0, logged),
 * DREQ/DACK polarity, compressed timing, rotating priority, the cascade
 * gating of DMA1 through channel 4 (as in QEMU, a masked channel 4 does not
 * stop channels 0-3), the EISA high page registers at 0x480.
 */
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define DMA1_BASE      0x00
#define DMA2_BASE      0xC0
#define DMA_PAGE_FIRST 0x81
#define DMA_PAGE_COUNT 15       /* 0x81-0x8F */

/* mode register */
#define MODE_TYPE_MASK    0x0C
#define MODE_TYPE_VERIFY  0x00
#define MODE_TYPE_WRITE   0x04  /* device -> memory */
#define MODE_TYPE_READ    0x08  /* memory -> device */
#define MODE_AUTOINIT     0x10
#define MODE_DECREMENT    0x20
#define MODE_MODE_MASK    0xC0
#define MODE_CASCADE      0xC0

/* command register */
#define CMD_MEM_TO_MEM    0x01
#define CMD_DISABLE       0x04

struct dma_channel {
    uint16_t base_addr, base_count;     /* reloaded by autoinit */
    uint16_t cur_addr, cur_count;       /* cur_count = remaining units - 1 */
    uint8_t  mode;
    uint8_t  page;
    bool     tc_reached;                /* terminal count since last programmed / last transfer */
};

struct dma_ctrl {
    struct dma_channel ch[4];
    uint8_t command;
    uint8_t status;                     /* TC bits 0-3 (request bits computed) */
    uint8_t request;                    /* software request bits 0-3 */
    uint8_t mask;                       /* bits 0-3 */
    bool    flip_flop;                  /* false: next byte is the low one */
};

struct dma8237 {
    struct machine *machine;
    struct dma_ctrl ctrl[2];            /* 0: channels 0-3, 1: channels 4-7 */
    uint8_t page_regs[DMA_PAGE_COUNT];  /* 0x81-0x8F; the channel ones mirror ch[].page */
};

/* Page register port -> channel, -1 for plain storage. */
static int page_port_channel(uint16_t port)
{
    switch (port) {
    case 0x87: return 0;
    case 0x83: return 1;
    case 0x81: return 2;
    case 0x82: return 3;
    case 0x8F: return 4;
    case 0x8B: return 5;
    case 0x89: return 6;
    case 0x8A: return 7;
    default:   return -1;
    }
}

static void ctrl_master_clear(struct dma_ctrl *c)
{
    c->command = 0;
    c->status = 0;
    c->request = 0;
    c->mask = 0x0F;
    c->flip_flop = false;
}

static void dma_reset(void *opaque)
{
    struct dma8237 *d = opaque;
    memset(d->ctrl, 0, sizeof d->ctrl);
    memset(d->page_regs, 0, sizeof d->page_regs);
    ctrl_master_clear(&d->ctrl[0]);
    ctrl_master_clear(&d->ctrl[1]);
}

static uint8_t ctrl_read(struct dma8237 *d, int ci, int reg)
{
    struct dma_ctrl *c = &d->ctrl[ci];
    if (reg < 8) {
        struct dma_channel *ch = &c->ch[reg >> 1];
        uint16_t v = (reg & 1) ? ch->cur_count : ch->cur_addr;
        bool high = c->flip_flop;
        c->flip_flop = !c->flip_flop;
        return high ? (uint8_t)(v >> 8) : (uint8_t)v;
    }
    switch (reg) {
    case 8: {                                   /* status: reading clears the TC bits */
        uint8_t v = (uint8_t)((c->status & 0x0F) | (c->request << 4));
        c->status &= ~0x0F;
        return v;
    }
    case 13:                                    /* temporary register (mem-to-mem only) */
        return 0;
    case 15:                                    /* mask, readable on the PIIX */
        return (uint8_t)(0xF0 | c->mask);
    default:                                    /* write-only registers */
        return 0xFF;
    }
}

static void ctrl_write(struct dma8237 *d, int ci, int reg, uint8_t v)
{
    struct dma_ctrl *c = &d->ctrl[ci];
    if (reg < 8) {
        struct dma_channel *ch = &c->ch[reg >> 1];
        uint16_t *base = (reg & 1) ? &ch->base_count : &ch->base_addr;
        if (c->flip_flop)
            *base = (uint16_t)((*base & 0x00FF) | (v << 8));
        else
            *base = (uint16_t)((*base & 0xFF00) | v);
        c->flip_flop = !c->flip_flop;
        /* writing the base writes the current register too */
        if (reg & 1)
            ch->cur_count = ch->base_count;
        else
            ch->cur_addr = ch->base_addr;
        ch->tc_reached = false;
        return;
    }
    int chan = v & 3;
    switch (reg) {
    case 8:
        c->command = v;
        if (v & CMD_MEM_TO_MEM)
            machine_log(d->machine, LOG_UNIMP, "dma8237: memory-to-memory transfers (command %#x)\n", v);
        break;
    case 9:
        if (v & 4)
            c->request |= (uint8_t)(1u << chan);
        else
            c->request &= (uint8_t)~(1u << chan);
        break;
    case 10:
        if (v & 4)
            c->mask |= (uint8_t)(1u << chan);
        else
            c->mask &= (uint8_t)~(1u << chan);
        break;
    case 11:
        c->ch[chan].mode = v;
        c->ch[chan].tc_reached = false;
        if ((v & MODE_TYPE_MASK) == MODE_TYPE_MASK && (v & MODE_MODE_MASK) != MODE_CASCADE)
            machine_log(d->machine, LOG_GUEST_ERRORS,
                        "dma8237: channel %d mode %#x: transfer type 11 is illegal\n",
                        ci * 4 + chan, v);
        break;
    case 12:
        c->flip_flop = false;
        break;
    case 13:
        ctrl_master_clear(c);
        break;
    case 14:
        c->mask = 0;
        break;
    case 15:
        c->mask = v & 0x0F;
        break;
    }
}

static uint32_t dma_port_read(void *opaque, uint16_t port, int size)
{
    (void)size;   /* wider accesses act on the low byte */
    struct dma8237 *d = opaque;
    if (port < 0x10)
        return ctrl_read(d, 0, port);
    if (port >= DMA2_BASE && port < DMA2_BASE + 0x20) {
        if (port & 1)
            return 0xFF;                        /* not decoded */
        return ctrl_read(d, 1, (port - DMA2_BASE) >> 1);
    }
    if (port >= DMA_PAGE_FIRST && port < DMA_PAGE_FIRST + DMA_PAGE_COUNT)
        return d->page_regs[port - DMA_PAGE_FIRST];
    return 0xFF;
}

static void dma_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    (void)size;
    struct dma8237 *d = opaque;
    uint8_t v = (uint8_t)value;
    if (port < 0x10) {
        ctrl_write(d, 0, port, v);
    } else if (port >= DMA2_BASE && port < DMA2_BASE + 0x20) {
        if (!(port & 1))
            ctrl_write(d, 1, (port - DMA2_BASE) >> 1, v);
    } else if (port >= DMA_PAGE_FIRST && port < DMA_PAGE_FIRST + DMA_PAGE_COUNT) {
        d->page_regs[port - DMA_PAGE_FIRST] = v;
        int chan = page_port_channel(port);
        if (chan >= 0)
            d->ctrl[chan >> 2].ch[chan & 3].page = v;
    }
}

int dma8237_transfer(struct dma8237 *dma, int chan, void *buf, int len, bool to_memory)
{
    if (!dma || chan < 0 || chan > 7 || len <= 0 || !buf)
        return 0;
    struct dma_ctrl *c = &dma->ctrl[chan >> 2];
    struct dma_channel *ch = &c->ch[chan & 3];
    int bit = 1 << (chan & 3);
    bool wide = chan >= 4;

    if ((c->mask & bit) || (c->command & CMD_DISABLE))
        return 0;
    uint8_t type = ch->mode & MODE_TYPE_MASK;
    bool verify = type == MODE_TYPE_VERIFY;
    if ((ch->mode & MODE_MODE_MASK) == MODE_CASCADE || type == MODE_TYPE_MASK)
        return 0;
    if (!verify && (type == MODE_TYPE_WRITE) != to_memory) {
        machine_log(dma->machine, LOG_GUEST_ERRORS,
                    "dma8237: channel %d programmed for %s, device transfers %s memory\n",
                    chan, type == MODE_TYPE_WRITE ? "writes" : "reads", to_memory ? "to" : "from");
        return 0;
    }
    ch->tc_reached = false;

    /* Units (bytes or words) the device offers and the channel has left. */
    int unit = wide ? 2 : 1;
    uint32_t want = (uint32_t)len / (uint32_t)unit;
    uint32_t left = (uint32_t)ch->cur_count + 1;
    uint32_t n = want < left ? want : left;
    bool down = ch->mode & MODE_DECREMENT;
    uint8_t *p = buf;

    uint32_t done = 0;
    while (done < n) {
        /* A run of units that stays inside the page / block, going up. */
        uint32_t run;
        uint32_t phys;
        if (down) {
            run = 1;
        } else {
            run = 0x10000u - ch->cur_addr;
            if (run > n - done)
                run = n - done;
        }
        if (wide)
            phys = ((uint32_t)(ch->page & 0xFE) << 16) | ((uint32_t)ch->cur_addr << 1);
        else
            phys = ((uint32_t)ch->page << 16) | ch->cur_addr;
        if (!verify) {
            size_t bytes = (size_t)run * (size_t)unit;
            if (to_memory)
                phys_load(&dma->machine->mem, phys, p, bytes);
            else
                phys_copy_out(&dma->machine->mem, phys, p, bytes);
            p += bytes;
        }
        ch->cur_addr = (uint16_t)(down ? ch->cur_addr - run : ch->cur_addr + run);
        done += run;
    }
    ch->cur_count = (uint16_t)(ch->cur_count - n);

    if (n == left) {                            /* terminal count */
        ch->tc_reached = true;
        c->status |= (uint8_t)bit;
        c->request &= (uint8_t)~bit;
        if (ch->mode & MODE_AUTOINIT) {
            ch->cur_addr = ch->base_addr;
            ch->cur_count = ch->base_count;
        } else {
            c->mask |= (uint8_t)bit;
        }
    }
    return (int)(n * (uint32_t)unit);
}

bool dma8237_terminal_count(struct dma8237 *dma, int chan)
{
    if (!dma || chan < 0 || chan > 7)
        return false;
    return dma->ctrl[chan >> 2].ch[chan & 3].tc_reached;
}

static const struct ioport_ops dma_port_ops = { dma_port_read, dma_port_write };

/* ---- save state (nothing derived: no post_load) ---- */

static const struct state_field dma_channel_fields[] = {
    STATE_U16(struct dma_channel, base_addr),
    STATE_U16(struct dma_channel, base_count),
    STATE_U16(struct dma_channel, cur_addr),
    STATE_U16(struct dma_channel, cur_count),
    STATE_U8(struct dma_channel, mode),
    STATE_U8(struct dma_channel, page),
    STATE_BOOL(struct dma_channel, tc_reached),
};
static const struct state_desc dma_channel_state = STATE_DESC("dma_channel", 1, dma_channel_fields);

static const struct state_field dma_ctrl_fields[] = {
    STATE_STRUCT_ARRAY(struct dma_ctrl, ch, dma_channel_state),
    STATE_U8(struct dma_ctrl, command),
    STATE_U8(struct dma_ctrl, status),
    STATE_U8(struct dma_ctrl, request),
    STATE_U8(struct dma_ctrl, mask),
    STATE_BOOL(struct dma_ctrl, flip_flop),
};
static const struct state_desc dma_ctrl_state = STATE_DESC("dma_ctrl", 1, dma_ctrl_fields);

static const struct state_field dma_fields[] = {
    STATE_STRUCT_ARRAY(struct dma8237, ctrl, dma_ctrl_state),
    STATE_ARRAY(struct dma8237, page_regs),
};
static const struct state_desc dma_state = STATE_DESC("dma8237", 1, dma_fields);

static const struct device_ops dma_device_ops = {
    .name = "dma8237",
    .state = &dma_state,
    .reset = dma_reset,
    .destroy = free,
};

int dma8237_create(struct machine *m, struct dma8237 **out)
{
    if (out)
        *out = NULL;
    struct dma8237 *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    d->machine = m;
    dma_reset(d);
    if (ioport_register(&m->io, DMA1_BASE, 0x10, &dma_port_ops, d) != 0) {
        free(d);
        return -1;
    }
    if (ioport_register(&m->io, DMA2_BASE, 0x20, &dma_port_ops, d) != 0 ||
        ioport_register(&m->io, DMA_PAGE_FIRST, DMA_PAGE_COUNT, &dma_port_ops, d) != 0) {
        ioport_unregister(&m->io, DMA1_BASE, 0x10);
        ioport_unregister(&m->io, DMA2_BASE, 0x20);
        free(d);
        return -1;
    }
    if (machine_add_device(m, &dma_device_ops, d) != 0) {
        ioport_unregister(&m->io, DMA1_BASE, 0x10);
        ioport_unregister(&m->io, DMA2_BASE, 0x20);
        ioport_unregister(&m->io, DMA_PAGE_FIRST, DMA_PAGE_COUNT);
        free(d);
        return -1;
    }
    if (out)
        *out = d;
    return 0;
}
