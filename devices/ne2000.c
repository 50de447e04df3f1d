/* devices/ne2000.c: the NE2000 / RTL8029 Ethernet card (see ne2000.h): a
 * National DP8390 network interface controller, 16 KiB of packet buffer
 * and a station-address PROM, reached through 32 I/O ports.
 *
 * Port window: 0x00-0x0F the DP8390 registers (four pages chosen by CR bits
 * 6-7), 0x10-0x17 the data port of the remote DMA (byte or word transfers
 * per DCR.WTS), 0x18-0x1F the reset port (a read resets the chip: CR
 * stopped, ISR.RST set, as Linux's ne_reset waits for).
 *
 * Card address space (16 bits, reached by the remote DMA and the local DMA
 * of transmit and receive): 0x0000-0x001F the PROM (each of its 16 bytes
 * doubled, as on the 16-bit card: MAC, then 'W','W' at 14-15 that drivers
 * look for), 0x4000-0x7FFF the buffer (pages 0x40-0x7F). Everything else
 * reads 0xFF and ignores writes: no guest value reaches host memory outside
 * the buffer.
 *
 * Receive: frames from the backend pass the address filter (station address
 * in PAR, broadcast per RCR.AB, multicast per RCR.AM through the 64-bit hash
 * of the Ethernet CRC in MAR, everything unicast per RCR.PRO), are padded to
 * 60 bytes (the minimum a sending MAC puts on the wire), and land in the
 * ring PSTART..PSTOP at CURR behind a 4-byte header (RSR, next page, byte
 * count including the header), wrapping at PSTOP; the next page leaves room
 * for the 4 FCS bytes a real chip stores (they are not written or counted:
 * frames arrive without one). The ring never overtakes
 * BNRY. A frame from the link that does not fit is refused without an
 * overflow: the backend keeps it and offers it again once the guest moves
 * BNRY (netdev_rx_ready), as QEMU's card waits for room. The link is
 * lossless, and an overflow would cost the guest dearly for nothing
 * (lib8390 stops the chip and busy-waits 10 ms per overflow: 420 of them
 * made an 8 MB download 4x slower). The chip's own loopback frames have
 * nowhere to wait: one that does not fit is the overflow the datasheet
 * describes (ISR.OVW and RST, CNTR2 counts it). BNRY may sit just outside
 * the ring (lib8390 writes PSTART - 1): it then stands for PSTOP - 1. A
 * ring outside the buffer (bad PSTART/PSTOP/CURR) drops frames. While the
 * chip is stopped or in loopback, frames are held by the backend as well.
 *
 * Transmit: TBCR bytes from page TPSR, padded to 60; the DP8390 does not
 * truncate long frames, so the chip reports success (TSR.PTX) for them, but
 * a frame over 1518 bytes is a giant no receiver takes: it never reaches the
 * backend. With TCR loopback set the frame goes to the card's own receiver.
 *
 * Not modelled, because the virtual wire cannot produce it: CRC and frame
 * alignment errors (CNTR0/1 stay 0, RCR.SEP has nothing to save), runts
 * (RCR.AR: every frame is padded), collisions (NCR 0), the FIFO register
 * and DCR.LS loopback; RTL8029 page 3 reads 0 and ignores writes.
 *
 * Usage: see ne2000.h.
 */
#include "devices/ne2000.h"

#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "core/net.h"
#include "core/savestate.h"
#include "devices/pci.h"

#define NE_IO_SIZE       32
#define NE_DATA_PORT     0x10
#define NE_RESET_PORT    0x18
#define NE_PROM_SIZE     32
#define NE_MEM_START     0x4000u
#define NE_MEM_SIZE      0x4000u
#define NE_FIRST_PAGE    (NE_MEM_START >> 8)
#define NE_END_PAGE      ((NE_MEM_START + NE_MEM_SIZE) >> 8)
#define NE_MIN_FRAME     60          /* without the FCS */
#define NE_MAX_WIRE      1518        /* longest frame a receiver accepts (with a VLAN tag) */
#define NE_RX_HEADER     4
#define NE_FCS           4
#define NE_COUNTER_LIMIT 192         /* tally counters stop here */

enum {  /* CR */
    CR_STP = 0x01, CR_STA = 0x02, CR_TXP = 0x04, CR_RD_MASK = 0x38, CR_PS_MASK = 0xC0,
};
enum { RD_READ = 1, RD_WRITE = 2, RD_SEND = 3 };      /* CR bits 3-5; 4-7: abort/complete */
enum {  /* ISR and IMR */
    ISR_PRX = 0x01, ISR_PTX = 0x02, ISR_RXE = 0x04, ISR_TXE = 0x08, ISR_OVW = 0x10,
    ISR_CNT = 0x20, ISR_RDC = 0x40, ISR_RST = 0x80,
};
enum { RCR_SEP = 0x01, RCR_AR = 0x02, RCR_AB = 0x04, RCR_AM = 0x08, RCR_PRO = 0x10, RCR_MON = 0x20 };
enum { TCR_LB_MASK = 0x06 };
enum { DCR_WTS = 0x01 };
enum { TSR_PTX = 0x01 };
enum { RSR_PRX = 0x01, RSR_PHY = 0x20, RSR_DIS = 0x40 };
enum { CNTR_FAE, CNTR_CRC, CNTR_MISSED };

struct ne2000 {
    struct machine *machine;
    struct netdev *netdev;           /* backend, or NULL */
    bool pci_form;                   /* RTL8029 on PCI, else ISA */
    struct pci_device pci;
    struct irq_line *irq;            /* ISA form's line */
    uint16_t iobase;                 /* where the 32 ports are now */
    bool io_mapped;
    bool rx_refused;                 /* a frame was refused: tell the backend when space frees */
    uint8_t prom[NE_PROM_SIZE];      /* fixed by the MAC at creation */

    /* DP8390 registers */
    uint8_t cr;
    uint8_t isr, imr;
    uint8_t dcr, tcr, rcr;
    uint8_t pstart, pstop;           /* receive ring, pages [pstart, pstop) */
    uint8_t bnry, curr;              /* guest's read pointer, chip's write pointer */
    uint8_t tpsr;
    uint16_t tbcr;
    uint16_t rsar, rbcr;             /* remote DMA address (CRDA when read) and count */
    uint8_t rnpp;                    /* next packet of a send-packet transfer */
    bool send_packet;                /* remote read started by send packet: BNRY follows */
    uint16_t clda;                   /* local DMA address after the last receive */
    uint8_t par[6], mar[8];
    uint8_t tsr, rsr, ncr;
    uint8_t cntr[3];                 /* frame alignment, CRC, missed packets */
    uint8_t mem[NE_MEM_SIZE];        /* the packet buffer at NE_MEM_START */
};

/* The Ethernet CRC, shifted MSB-first over bits taken LSB-first, without the
 * final inversion: the form whose top six bits index the DP8390's hash. */
static uint32_t ne_ether_crc(const uint8_t *bytes, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = bytes[i];
        for (int bit = 0; bit < 8; bit++, b >>= 1) {
            bool feedback = ((crc >> 31) ^ (b & 1)) != 0;
            crc <<= 1;
            if (feedback)
                crc ^= 0x04C11DB7u;
        }
    }
    return crc;
}

static void ne_update_irq(struct ne2000 *ne)
{
    bool level = (ne->isr & ne->imr & 0x7F) != 0;
    if (ne->pci_form)
        pci_set_irq(&ne->pci, level);
    else if (ne->irq && ne->irq->level != level)
        irq_set_level(ne->irq, level);
}

static void ne_tell_backend(struct ne2000 *ne)
{
    if (ne->rx_refused && !(ne->cr & CR_STP) && !(ne->tcr & TCR_LB_MASK)) {
        ne->rx_refused = false;
        netdev_rx_ready(ne->netdev);
    }
}

static void ne_count(struct ne2000 *ne, int counter)
{
    if (ne->cntr[counter] < NE_COUNTER_LIMIT)
        ne->cntr[counter]++;
    if (ne->cntr[counter] & 0x80)
        ne->isr |= ISR_CNT;
}

/* ---- card address space ---- */

static uint8_t ne_mem_read(const struct ne2000 *ne, uint16_t addr)
{
    if (addr < NE_PROM_SIZE)
        return ne->prom[addr];
    if (addr >= NE_MEM_START && addr < NE_MEM_START + NE_MEM_SIZE)
        return ne->mem[addr - NE_MEM_START];
    return 0xFF;
}

static void ne_mem_write(struct ne2000 *ne, uint16_t addr, uint8_t value)
{
    if (addr >= NE_MEM_START && addr < NE_MEM_START + NE_MEM_SIZE)
        ne->mem[addr - NE_MEM_START] = value;
}

/* The ring is usable only inside the buffer, with both pointers in it. */
static bool ne_ring_valid(const struct ne2000 *ne)
{
    return ne->pstart >= NE_FIRST_PAGE && ne->pstop <= NE_END_PAGE && ne->pstart < ne->pstop &&
           ne->curr >= ne->pstart && ne->curr < ne->pstop;
}

/* BNRY as a ring page. Drivers keep it one page behind the next page to
 * read, so it may sit just outside the ring (lib8390 writes PSTART - 1 when
 * that page is PSTART): the chip only compares it with its write pointer,
 * which means the page before PSTART in ring order, PSTOP - 1. */
static unsigned ne_ring_bnry(const struct ne2000 *ne)
{
    unsigned next_read = (unsigned)ne->bnry + 1;
    if (next_read >= ne->pstop || next_read <= ne->pstart)
        return (unsigned)ne->pstop - 1;
    return next_read - 1;
}

/* The ring holds frames the guest has not read (BNRY's successor is not
 * CURR). */
static bool ne_ring_unread(const struct ne2000 *ne)
{
    if (!ne_ring_valid(ne))
        return false;
    unsigned next_read = ne_ring_bnry(ne) + 1;
    if (next_read >= ne->pstop)
        next_read = ne->pstart;
    return next_read != ne->curr;
}

/* ---- remote DMA ---- */

static void ne_remote_done(struct ne2000 *ne)
{
    ne->isr |= ISR_RDC;
    if (ne->send_packet) {
        ne->send_packet = false;
        ne->bnry = ne->rnpp;          /* the packet was removed from the ring */
        ne->isr &= (uint8_t)~ISR_RST;
        ne_tell_backend(ne);
    }
    ne_update_irq(ne);
}

/* One transfer of width 1 or 2 bytes through the data port. The address
 * wraps from PSTOP to PSTART, so reads can follow a packet round the ring. */
static uint16_t ne_remote_transfer(struct ne2000 *ne, int width, bool write, uint16_t value)
{
    uint16_t addr = width == 2 ? (uint16_t)(ne->rsar & ~1u) : ne->rsar;
    uint16_t result = 0;
    if (write) {
        ne_mem_write(ne, addr, (uint8_t)value);
        if (width == 2)
            ne_mem_write(ne, (uint16_t)(addr + 1), (uint8_t)(value >> 8));
    } else {
        result = ne_mem_read(ne, addr);
        if (width == 2)
            result |= (uint16_t)(ne_mem_read(ne, (uint16_t)(addr + 1)) << 8);
    }
    ne->rsar = (uint16_t)(addr + width);
    if (ne->pstart < ne->pstop && ne->rsar == (uint16_t)(ne->pstop << 8))
        ne->rsar = (uint16_t)(ne->pstart << 8);
    if (ne->rbcr > 0) {
        ne->rbcr = ne->rbcr > width ? (uint16_t)(ne->rbcr - width) : 0;
        if (ne->rbcr == 0)
            ne_remote_done(ne);
    }
    return result;
}

/* A data port access of size bytes: in word mode each transfer moves two
 * bytes whatever the access width (a byte read returns the low byte). */
static uint32_t ne_data_access(struct ne2000 *ne, int size, bool write, uint32_t value)
{
    int width = (ne->dcr & DCR_WTS) ? 2 : 1;
    int transfers = size > width ? size / width : 1;
    uint32_t result = 0;
    for (int i = 0; i < transfers; i++) {
        uint16_t part = (uint16_t)(value >> (8 * width * i));
        result |= (uint32_t)ne_remote_transfer(ne, width, write, part) << (8 * width * i);
    }
    return result;
}

/* ---- transmit and receive ---- */

static bool ne_accepts(const struct ne2000 *ne, const uint8_t *dest)
{
    if (dest[0] & 1) {
        static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        if (memcmp(dest, broadcast, 6) == 0)
            return (ne->rcr & RCR_AB) != 0;
        if (!(ne->rcr & RCR_AM))
            return false;
        unsigned index = ne_ether_crc(dest, 6) >> 26;
        return (ne->mar[index >> 3] >> (index & 7)) & 1;
    }
    return (ne->rcr & RCR_PRO) || memcmp(dest, ne->par, 6) == 0;
}

/* Stores one frame in the ring: true when taken or dropped as the chip
 * would, false when the ring is full (the frame is kept by the backend). */
static bool ne_rx_frame(struct ne2000 *ne, const uint8_t *frame, size_t len, bool from_wire)
{
    uint8_t padded[NE_MIN_FRAME];
    if (len < 6)
        return true;
    if (len < NE_MIN_FRAME) {
        memset(padded, 0, sizeof padded);
        memcpy(padded, frame, len);
        frame = padded;
        len = NE_MIN_FRAME;
    }
    if (!ne_accepts(ne, frame))
        return true;
    uint8_t status = (uint8_t)(RSR_PRX | ((frame[0] & 1) ? RSR_PHY : 0));
    if (ne->rcr & RCR_MON) {          /* checked and counted, never stored */
        ne->rsr = status | RSR_DIS;
        ne_count(ne, CNTR_MISSED);
        ne_update_irq(ne);
        return true;
    }
    unsigned ring = (unsigned)(ne->pstop - ne->pstart);
    /* the chip keeps room for the FCS after the data (lib8390 checks the
     * next-page pointer against that), though the link hands none over */
    unsigned need = (unsigned)((len + NE_RX_HEADER + NE_FCS + 255) / 256);
    if (!ne_ring_valid(ne) || need >= ring) {
        ne_count(ne, CNTR_MISSED);
        ne_update_irq(ne);
        return true;
    }
    unsigned room = (ne_ring_bnry(ne) + ring - ne->curr) % ring;
    if (room == 0)
        room = ring;
    if (need >= room) {               /* would reach BNRY: nothing is overwritten */
        ne->rx_refused = true;
        if (from_wire)                /* the link holds it until the guest frees pages */
            return false;
        /* the chip's own loopback frame has nowhere to wait: an overflow */
        ne->isr |= ISR_OVW | ISR_RST;
        ne_count(ne, CNTR_MISSED);
        ne_update_irq(ne);
        return false;
    }
    unsigned next = ne->curr + need;
    if (next >= ne->pstop)
        next -= ring;
    size_t count = len + NE_RX_HEADER;
    uint8_t header[NE_RX_HEADER] = { status, (uint8_t)next, (uint8_t)count, (uint8_t)(count >> 8) };
    uint16_t addr = (uint16_t)(ne->curr << 8);
    uint16_t stop = (uint16_t)(ne->pstop << 8), start = (uint16_t)(ne->pstart << 8);
    for (size_t i = 0; i < count; i++) {
        ne_mem_write(ne, addr, i < NE_RX_HEADER ? header[i] : frame[i - NE_RX_HEADER]);
        if (++addr == stop)
            addr = start;
    }
    ne->clda = addr;
    ne->curr = (uint8_t)next;
    ne->rsr = status;
    ne->isr |= ISR_PRX;
    ne_update_irq(ne);
    return true;
}

static bool ne_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct ne2000 *ne = opaque;
    if (ne->cr & CR_STP) {           /* hold frames until the driver starts the chip */
        ne->rx_refused = true;
        return false;
    }
    /* In loopback the receiver is off the wire: hold the frame for when it
     * comes back (lib8390 loops back while it drains a ring overflow, and
     * dropping there would lose what was queued behind the overflow). */
    if (ne->tcr & TCR_LB_MASK) {
        ne->rx_refused = true;
        return false;
    }
    return ne_rx_frame(ne, frame, len, true);
}

static void ne_transmit(struct ne2000 *ne)
{
    size_t len = ne->tbcr;
    size_t wire_len = len < NE_MIN_FRAME ? NE_MIN_FRAME : len;
    if (wire_len <= NE_MAX_WIRE) {
        uint8_t frame[NE_MAX_WIRE];
        uint16_t addr = (uint16_t)(ne->tpsr << 8);
        for (size_t i = 0; i < wire_len; i++)
            frame[i] = i < len ? ne_mem_read(ne, (uint16_t)(addr + i)) : 0;
        if (ne->tcr & TCR_LB_MASK)
            ne_rx_frame(ne, frame, wire_len, false);
        else
            netdev_transmit(ne->netdev, frame, wire_len);
    } else {
        machine_log(ne->machine, LOG_GUEST_ERRORS,
                    "ne2000: %zu-byte frame is a giant; no receiver takes it\n", len);
    }
    ne->tsr = TSR_PTX;
    ne->ncr = 0;
    ne->cr &= (uint8_t)~CR_TXP;
    ne->isr |= ISR_PTX;
    ne_update_irq(ne);
}

/* ---- registers ---- */

/* The chip's own reset (RESET pin, the NE2000's reset port). */
static void ne_chip_reset(struct ne2000 *ne)
{
    ne->cr = CR_STP | (4 << 3);
    ne->isr = ISR_RST;
    ne->imr = 0;
    ne->send_packet = false;
    ne_update_irq(ne);
}

static void ne_command(struct ne2000 *ne, uint8_t value)
{
    uint8_t run = ne->cr & (CR_STP | CR_STA);
    if (value & CR_STP)
        run = CR_STP;
    else if (value & CR_STA)
        run = CR_STA;
    bool started = (ne->cr & CR_STP) && run == CR_STA;
    ne->cr = (uint8_t)((value & (CR_RD_MASK | CR_PS_MASK)) | run | (ne->cr & CR_TXP));
    if (run == CR_STP)
        ne->isr |= ISR_RST;
    else if (started)
        ne->isr &= (uint8_t)~ISR_RST;

    int rd = (value & CR_RD_MASK) >> 3;
    if (rd & 4) {
        ne->send_packet = false;      /* abort / complete remote DMA */
    } else if (rd == RD_SEND) {
        /* the remote DMA takes the packet at BNRY as its header describes */
        uint16_t at = (uint16_t)(ne->bnry << 8);
        ne->rnpp = ne_mem_read(ne, (uint16_t)(at + 1));
        ne->rbcr = (uint16_t)(ne_mem_read(ne, (uint16_t)(at + 2)) |
                              ne_mem_read(ne, (uint16_t)(at + 3)) << 8);
        ne->rsar = at;
        ne->send_packet = true;
        if (ne->rbcr == 0)
            ne_remote_done(ne);
    } else if ((rd == RD_READ || rd == RD_WRITE) && ne->rbcr == 0) {
        ne->send_packet = false;
        ne->isr |= ISR_RDC;
    } else {
        ne->send_packet = false;
    }
    if ((value & CR_TXP) && run == CR_STA)
        ne_transmit(ne);
    ne_update_irq(ne);
    if (started)
        ne_tell_backend(ne);
}

static uint8_t ne_reg_read(struct ne2000 *ne, unsigned reg)
{
    if (reg == 0)
        return ne->cr;
    switch ((ne->cr >> 6) << 4 | reg) {
    case 0x01: return (uint8_t)ne->clda;
    case 0x02: return (uint8_t)(ne->clda >> 8);
    case 0x03: return ne->bnry;
    case 0x04: return ne->tsr;
    case 0x05: return ne->ncr;
    case 0x06: return 0;                          /* FIFO: only meaningful in loopback */
    case 0x07: return ne->isr;
    case 0x08: return (uint8_t)ne->rsar;          /* CRDA */
    case 0x09: return (uint8_t)(ne->rsar >> 8);
    case 0x0A: return ne->pci_form ? 0x50 : 0;    /* RTL8029 ID: 'P', 'C' */
    case 0x0B: return ne->pci_form ? 0x43 : 0;
    case 0x0C: return ne->rsr;
    case 0x0D: case 0x0E: case 0x0F: {            /* tally counters clear when read */
        uint8_t v = ne->cntr[reg - 0x0D];
        ne->cntr[reg - 0x0D] = 0;
        return v;
    }
    case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
        return ne->par[reg - 1];
    case 0x17: return ne->curr;
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
        return ne->mar[reg - 8];
    case 0x21: return ne->pstart;
    case 0x22: return ne->pstop;
    case 0x23: return ne->rnpp;
    case 0x24: return ne->tpsr;
    case 0x25: return ne->curr;                   /* local next packet pointer */
    case 0x26: return (uint8_t)(ne->clda >> 8);   /* address counter */
    case 0x27: return (uint8_t)ne->clda;
    case 0x2C: return ne->rcr;
    case 0x2D: return ne->tcr;
    case 0x2E: return ne->dcr;
    case 0x2F: return ne->imr;
    default:   return 0;
    }
}

static void ne_reg_write(struct ne2000 *ne, unsigned reg, uint8_t value)
{
    if (reg == 0) {
        ne_command(ne, value);
        return;
    }
    switch ((ne->cr >> 6) << 4 | reg) {
    case 0x01: ne->pstart = value; break;
    case 0x02: ne->pstop = value; break;
    case 0x03:                                    /* the guest removed packets */
        ne->bnry = value;
        if (!(ne->cr & CR_STP))                   /* RST of an overflow ends; a stop's stays */
            ne->isr &= (uint8_t)~ISR_RST;
        ne_tell_backend(ne);
        break;
    case 0x04: ne->tpsr = value; break;
    case 0x05: ne->tbcr = (uint16_t)((ne->tbcr & 0xFF00) | value); break;
    case 0x06: ne->tbcr = (uint16_t)((ne->tbcr & 0x00FF) | value << 8); break;
    case 0x07:                                    /* write one to clear; RST is read-only */
        ne->isr &= (uint8_t)~(value & 0x7F);
        /* Frames the guest has not read yet count as just arrived: lib8390
         * reads at most nine per interrupt and then acknowledges PRX, and
         * frames the link handed over while it read (as BNRY moved) would
         * otherwise wait for a next frame that a full link never sends. */
        if ((value & ISR_PRX) && ne_ring_unread(ne))
            ne->isr |= ISR_PRX;
        ne_update_irq(ne);
        break;
    case 0x08: ne->rsar = (uint16_t)((ne->rsar & 0xFF00) | value); break;
    case 0x09: ne->rsar = (uint16_t)((ne->rsar & 0x00FF) | value << 8); break;
    case 0x0A: ne->rbcr = (uint16_t)((ne->rbcr & 0xFF00) | value); break;
    case 0x0B: ne->rbcr = (uint16_t)((ne->rbcr & 0x00FF) | value << 8); break;
    case 0x0C: ne->rcr = value & 0x3F; break;
    case 0x0D:
        ne->tcr = value & 0x1F;
        ne_tell_backend(ne);                      /* back on the wire: held frames */
        break;
    case 0x0E: ne->dcr = value & 0x7F; break;
    case 0x0F:
        ne->imr = value & 0x7F;
        ne_update_irq(ne);
        break;
    case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16:
        ne->par[reg - 1] = value;
        break;
    case 0x17: ne->curr = value; break;
    case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
        ne->mar[reg - 8] = value;
        break;
    case 0x21: ne->clda = (uint16_t)((ne->clda & 0xFF00) | value); break;
    case 0x22: ne->clda = (uint16_t)((ne->clda & 0x00FF) | value << 8); break;
    case 0x23: ne->rnpp = value; break;
    default:   break;                             /* diagnostics, RTL8029 page 3 */
    }
}

static uint32_t ne_io_read(void *opaque, uint16_t port, int size)
{
    struct ne2000 *ne = opaque;
    unsigned off = (uint16_t)(port - ne->iobase) & (NE_IO_SIZE - 1);
    if (off >= NE_RESET_PORT) {
        ne_chip_reset(ne);
        return 0;
    }
    if (off >= NE_DATA_PORT)
        return ne_data_access(ne, size, false, 0);
    uint32_t value = 0;
    for (int i = 0; i < size; i++)
        value |= (uint32_t)(off + i < NE_DATA_PORT ? ne_reg_read(ne, off + (unsigned)i) : 0xFF) << (8 * i);
    return value;
}

static void ne_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct ne2000 *ne = opaque;
    unsigned off = (uint16_t)(port - ne->iobase) & (NE_IO_SIZE - 1);
    if (off >= NE_RESET_PORT)
        return;                                   /* writing ends the reset pulse: nothing to do */
    if (off >= NE_DATA_PORT) {
        ne_data_access(ne, size, true, value);
        return;
    }
    for (int i = 0; i < size && off + (unsigned)i < NE_DATA_PORT; i++)
        ne_reg_write(ne, off + (unsigned)i, (uint8_t)(value >> (8 * i)));
}

static const struct ioport_ops ne_port_ops = { ne_io_read, ne_io_write };

/* ---- device ---- */

static void ne_reset(void *opaque)
{
    struct ne2000 *ne = opaque;
    ne->isr = ne->dcr = ne->tcr = ne->rcr = 0;
    ne->pstart = ne->pstop = ne->bnry = ne->curr = ne->tpsr = 0;
    ne->tbcr = ne->rsar = ne->rbcr = ne->clda = 0;
    ne->rnpp = ne->tsr = ne->rsr = ne->ncr = 0;
    memset(ne->par, 0, sizeof ne->par);
    memset(ne->mar, 0, sizeof ne->mar);
    memset(ne->cntr, 0, sizeof ne->cntr);
    ne_chip_reset(ne);
}

/* Every value of every field is a state the chip can be in (all uses are
 * bounds-checked), so loading only recomputes the interrupt output; the
 * backend may hold frames refused before the save, so it is asked again. */
static int ne_post_load(void *opaque)
{
    struct ne2000 *ne = opaque;
    ne_update_irq(ne);
    ne->rx_refused = true;
    ne_tell_backend(ne);
    return 0;
}

static void ne_destroy(void *opaque)
{
    struct ne2000 *ne = opaque;
    if (ne->netdev && ne->netdev->nic.opaque == ne)
        ne->netdev->nic = (struct netdev_nic){ 0 };
    free(ne);
}

static const struct state_field ne_fields[] = {
    STATE_U8(struct ne2000, cr),
    STATE_U8(struct ne2000, isr),
    STATE_U8(struct ne2000, imr),
    STATE_U8(struct ne2000, dcr),
    STATE_U8(struct ne2000, tcr),
    STATE_U8(struct ne2000, rcr),
    STATE_U8(struct ne2000, pstart),
    STATE_U8(struct ne2000, pstop),
    STATE_U8(struct ne2000, bnry),
    STATE_U8(struct ne2000, curr),
    STATE_U8(struct ne2000, tpsr),
    STATE_U16(struct ne2000, tbcr),
    STATE_U16(struct ne2000, rsar),
    STATE_U16(struct ne2000, rbcr),
    STATE_U8(struct ne2000, rnpp),
    STATE_BOOL(struct ne2000, send_packet),
    STATE_U16(struct ne2000, clda),
    STATE_ARRAY(struct ne2000, par),
    STATE_ARRAY(struct ne2000, mar),
    STATE_U8(struct ne2000, tsr),
    STATE_U8(struct ne2000, rsr),
    STATE_U8(struct ne2000, ncr),
    STATE_ARRAY(struct ne2000, cntr),
    STATE_BYTES(struct ne2000, mem),
};
static const struct state_desc ne_state = STATE_DESC("ne2000", 1, ne_fields);

static const struct device_ops ne_pci_ops = {
    .name = "ne2k-pci", .state = &ne_state, .post_load = ne_post_load,
    .reset = ne_reset, .destroy = ne_destroy,
};
static const struct device_ops ne_isa_ops = {
    .name = "ne2k-isa", .state = &ne_state, .post_load = ne_post_load,
    .reset = ne_reset, .destroy = ne_destroy,
};

/* A new card owned by m, or NULL. The PROM holds the MAC and the 'WW'
 * signature of a 16-bit NE2000, each byte doubled. */
static struct ne2000 *ne_new(struct machine *m, const struct device_ops *ops, const uint8_t mac[6])
{
    struct ne2000 *ne = calloc(1, sizeof *ne);
    if (!ne)
        return NULL;
    if (machine_add_device(m, ops, ne) != 0) {
        free(ne);
        return NULL;
    }
    ne->machine = m;
    uint8_t station[NE_PROM_SIZE / 2] = { 0 };
    memcpy(station, mac, 6);
    station[14] = station[15] = 'W';
    for (int i = 0; i < NE_PROM_SIZE / 2; i++)
        ne->prom[2 * i] = ne->prom[2 * i + 1] = station[i];
    return ne;
}

static void ne_attach(struct ne2000 *ne, struct netdev *nd)
{
    ne->netdev = nd;
    if (nd)
        nd->nic = (struct netdev_nic){ .opaque = ne, .receive = ne_receive };
    ne_reset(ne);
}

static void ne_bar_map(struct pci_device *dev, int bar, uint32_t old_addr, uint32_t new_addr)
{
    (void)bar; (void)old_addr;
    struct ne2000 *ne = dev->opaque;
    struct ioport_map *io = &ne->machine->io;
    if (ne->io_mapped)
        ioport_unregister(io, ne->iobase, NE_IO_SIZE);
    ne->io_mapped = false;
    if (new_addr == PCI_BAR_UNMAPPED)
        return;
    if (new_addr > 0x10000 - NE_IO_SIZE ||
        ioport_register(io, (uint16_t)new_addr, NE_IO_SIZE, &ne_port_ops, ne) != 0) {
        machine_log(ne->machine, LOG_GUEST_ERRORS,
                    "ne2k-pci: ports at 0x%x outside the port space or overlapping others\n", new_addr);
        return;
    }
    ne->iobase = (uint16_t)new_addr;
    ne->io_mapped = true;
}

int ne2000_pci_create(struct machine *m, struct pci_bus *bus, int devfn, const uint8_t mac[6],
                      struct netdev *nd)
{
    struct ne2000 *ne = ne_new(m, &ne_pci_ops, mac);
    if (!ne)
        return -1;
    ne->pci_form = true;
    pci_config_init(&ne->pci, 0x10EC, 0x8029, 0x00, 0x020000, 0x00);
    pci_register_bar(&ne->pci, 0, NE_IO_SIZE, PCI_BAR_IO, ne_bar_map);
    ne->pci.config[PCI_INTERRUPT_PIN] = 1;
    ne->pci.opaque = ne;
    ne->pci.name = "ne2k-pci";
    if (pci_register_device(bus, &ne->pci, devfn) != 0)
        return -1;
    ne_attach(ne, nd);
    return 0;
}

int ne2000_isa_create(struct machine *m, uint16_t iobase, struct irq_line *irq,
                      const uint8_t mac[6], struct netdev *nd)
{
    struct ne2000 *ne = ne_new(m, &ne_isa_ops, mac);
    if (!ne)
        return -1;
    ne->irq = irq;
    ne->iobase = iobase;
    if (iobase > 0x10000 - NE_IO_SIZE ||
        ioport_register(&m->io, iobase, NE_IO_SIZE, &ne_port_ops, ne) != 0)
        return -1;
    ne->io_mapped = true;
    ne_attach(ne, nd);
    return 0;
}
