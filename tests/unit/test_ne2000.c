/* tests/unit/test_ne2000.c: the NE2000 / RTL8029 card without a CPU.
 *
 * The tests program the card through the port space exactly as Linux's
 * lib8390 / ne / ne2k-pci drivers do (register init, remote-DMA block
 * input and output, the receive loop following BNRY), with a fake backend
 * (struct fakenet, core/net.h) that records what the card transmits,
 * counts rx_ready calls and hands crafted frames to the card.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "core/net.h"
#include "core/savestate.h"
#include "devices/ne2000.h"
#include "devices/pc.h"
#include "devices/pci.h"

#define IO        0x300
#define DATA      (IO + 0x10)
#define RESET     (IO + 0x1F)
#define MAX_TX    64
#define RX_START  0x46                /* lib8390's ring for a 16 KiB card: 0x46-0x80 */
#define RX_STOP   0x80
#define TX_PAGE   0x40

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- fake backend ---- */

struct fakenet {
    struct netdev nd;
    int ntx;
    size_t tx_len[MAX_TX];
    uint8_t tx[MAX_TX][1600];
    int rx_ready_calls;
};

static void fake_transmit(struct netdev *nd, const uint8_t *frame, size_t len)
{
    struct fakenet *f = (struct fakenet *)nd;
    ck_assert_int_lt(f->ntx, MAX_TX);
    ck_assert_uint_le(len, sizeof f->tx[0]);
    memcpy(f->tx[f->ntx], frame, len);
    f->tx_len[f->ntx++] = len;
}

static void fake_rx_ready(struct netdev *nd) { ((struct fakenet *)nd)->rx_ready_calls++; }

static const struct netdev_ops fake_ops = { .transmit = fake_transmit, .rx_ready = fake_rx_ready };

/* ---- bench: a machine with the ISA card at 0x300 (or the PCI one) ---- */

struct bench {
    struct machine *m;
    struct pci_bus *bus;
    struct fakenet net;
    struct irq_line irq;
    bool level;
    int edges;
};

static void bench_irq(void *opaque, int pin, bool level)
{
    (void)pin;
    struct bench *b = opaque;
    if (level && !b->level)
        b->edges++;
    b->level = level;
}

static struct bench *bench_new(bool pci)
{
    struct bench *b = calloc(1, sizeof *b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 4 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    b->net.nd = (struct netdev){ .ops = &fake_ops, .id = "fake" };
    b->irq = (struct irq_line){ .set_level = bench_irq, .opaque = b };
    if (pci) {
        ck_assert_int_eq(pci_bus_create(b->m, &b->bus), 0);
        b->bus->pirq[0] = b->bus->pirq[1] = b->bus->pirq[2] = b->bus->pirq[3] = &b->irq;
        ck_assert_int_eq(ne2000_pci_create(b->m, b->bus, PCI_DEVFN(3, 0), MAC, &b->net.nd), 0);
    } else {
        ck_assert_int_eq(ne2000_isa_create(b->m, IO, &b->irq, MAC, &b->net.nd), 0);
    }
    machine_reset(b->m);
    ck_assert_ptr_nonnull(b->net.nd.nic.opaque);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    ck_assert_ptr_null(b->net.nd.nic.opaque);       /* the card detached itself */
    free(b);
}

static void out8(struct bench *b, uint16_t port, uint8_t v) { ioport_write(&b->m->io, port, v, 1); }
static uint8_t in8(struct bench *b, uint16_t port) { return (uint8_t)ioport_read(&b->m->io, port, 1); }
static uint16_t in16(struct bench *b, uint16_t port) { return (uint16_t)ioport_read(&b->m->io, port, 2); }

enum { CR = 0, PSTART = 1, PSTOP = 2, BNRY = 3, TPSR = 4, TBCR0 = 5, TBCR1 = 6, ISR = 7,
       RSAR0 = 8, RSAR1 = 9, RBCR0 = 10, RBCR1 = 11, RCR = 12, TCR = 13, DCR = 14, IMR = 15 };
enum { CNTR0 = 13, CNTR1 = 14, CNTR2 = 15, CURR = 7, MAR0 = 8, PAR0 = 1 };
enum { STOP = 0x01, START = 0x02, TRANS = 0x04, RREAD = 0x08, RWRITE = 0x10, SENDPKT = 0x18,
       NODMA = 0x20, PAGE0 = 0x00, PAGE1 = 0x40, PAGE2 = 0x80 };
enum { ISR_PRX = 0x01, ISR_PTX = 0x02, ISR_OVW = 0x10, ISR_CNT = 0x20, ISR_RDC = 0x40, ISR_RST = 0x80 };

static void reg(struct bench *b, int r, uint8_t v) { out8(b, (uint16_t)(IO + r), v); }
static uint8_t rreg(struct bench *b, int r) { return in8(b, (uint16_t)(IO + r)); }

/* lib8390's NS8390_init, then start with broadcast reception. */
static void nic_init(struct bench *b, bool word_mode)
{
    reg(b, CR, NODMA | PAGE0 | STOP);
    reg(b, DCR, word_mode ? 0x49 : 0x48);
    reg(b, RBCR0, 0);
    reg(b, RBCR1, 0);
    reg(b, RCR, 0x20);
    reg(b, TCR, 0x02);
    reg(b, TPSR, TX_PAGE);
    reg(b, PSTART, RX_START);
    reg(b, BNRY, RX_STOP - 1);        /* lib8390: BNRY = stop - 1, CURR = start */
    reg(b, PSTOP, RX_STOP);
    reg(b, ISR, 0xFF);
    reg(b, IMR, 0);
    reg(b, CR, NODMA | PAGE1 | STOP);
    for (int i = 0; i < 6; i++)
        reg(b, PAR0 + i, MAC[i]);
    for (int i = 0; i < 8; i++)
        reg(b, MAR0 + i, 0);
    reg(b, CURR, RX_START);
    reg(b, CR, NODMA | PAGE0 | STOP);
    reg(b, ISR, 0xFF);
    reg(b, IMR, 0x7F);
    reg(b, CR, NODMA | PAGE0 | START);
    reg(b, TCR, 0);
    reg(b, RCR, 0x04);
}

static uint8_t page1_read(struct bench *b, int r)
{
    reg(b, CR, NODMA | PAGE1 | START);
    uint8_t v = rreg(b, r);
    reg(b, CR, NODMA | PAGE0 | START);
    return v;
}

static void remote_setup(struct bench *b, uint16_t addr, uint16_t count, uint8_t cmd)
{
    reg(b, RBCR0, (uint8_t)count);
    reg(b, RBCR1, (uint8_t)(count >> 8));
    reg(b, RSAR0, (uint8_t)addr);
    reg(b, RSAR1, (uint8_t)(addr >> 8));
    reg(b, CR, cmd | START);
}

/* ne2k-pci's block output / input in the current DCR mode (words when WTS). */
static void block_output(struct bench *b, uint16_t addr, const uint8_t *data, size_t len)
{
    reg(b, CR, NODMA | PAGE2 | START);
    bool wts = rreg(b, DCR) & 1;
    reg(b, CR, NODMA | PAGE0 | START);
    size_t n = wts ? (len + 1) & ~(size_t)1 : len;
    remote_setup(b, addr, (uint16_t)n, RWRITE);
    for (size_t i = 0; i < n; i += wts ? 2 : 1) {
        uint32_t v = i < len ? data[i] : 0;
        if (wts && i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        ioport_write(&b->m->io, DATA, v, wts ? 2 : 1);
    }
    ck_assert(rreg(b, ISR) & ISR_RDC);
    reg(b, ISR, ISR_RDC);
}

static void block_input(struct bench *b, uint16_t addr, uint8_t *buf, size_t len)
{
    reg(b, CR, NODMA | PAGE2 | START);
    bool wts = rreg(b, DCR) & 1;
    reg(b, CR, NODMA | PAGE0 | START);
    remote_setup(b, addr, (uint16_t)len, RREAD);
    for (size_t i = 0; i < len; i += wts ? 2 : 1) {
        if (wts) {
            uint16_t w = in16(b, DATA);
            buf[i] = (uint8_t)w;
            if (i + 1 < len)
                buf[i + 1] = (uint8_t)(w >> 8);
        } else {
            buf[i] = in8(b, DATA);
        }
    }
    ck_assert(rreg(b, ISR) & ISR_RDC);
    reg(b, ISR, ISR_RDC);
}

static void send_frame(struct bench *b, const uint8_t *data, size_t len)
{
    block_output(b, TX_PAGE << 8, data, len);
    reg(b, TBCR0, (uint8_t)len);
    reg(b, TBCR1, (uint8_t)(len >> 8));
    reg(b, TPSR, TX_PAGE);
    reg(b, CR, NODMA | TRANS | START);
}

static void make_frame(uint8_t *f, size_t len, const uint8_t dest[6], uint8_t seed)
{
    memcpy(f, dest, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    for (size_t i = 12; i < len; i++)
        f[i] = (uint8_t)(seed + i * 7);
}

/* lib8390's ei_receive for one packet: the frame after BNRY, or 0 if none.
 * Checks the header and returns the frame length. */
static size_t receive_one(struct bench *b, uint8_t *buf, uint8_t *status)
{
    uint8_t bnry = rreg(b, BNRY);
    uint8_t this_frame = (uint8_t)(bnry + 1 >= RX_STOP ? RX_START : bnry + 1);
    if (this_frame == page1_read(b, CURR))
        return 0;
    uint8_t hdr[4];
    block_input(b, (uint16_t)(this_frame << 8), hdr, 4);
    size_t count = (size_t)(hdr[2] | hdr[3] << 8);
    ck_assert_uint_ge(count, 64);
    size_t len = count - 4;
    /* room for the FCS after the data, as the chip leaves it */
    unsigned pages = (unsigned)((count + 4 + 255) / 256);
    unsigned expect_next = this_frame + pages;
    if (expect_next >= RX_STOP)
        expect_next -= RX_STOP - RX_START;
    ck_assert_uint_eq(hdr[1], expect_next);
    /* lib8390's sanity rule: next is this + 1 + (count >> 8), or one more */
    unsigned linux_next = this_frame + 1 + (count >> 8);
    if (linux_next >= RX_STOP)
        linux_next -= RX_STOP - RX_START;
    ck_assert(hdr[1] == linux_next || hdr[1] == (linux_next + 1 >= RX_STOP ? RX_START : linux_next + 1));
    block_input(b, (uint16_t)((this_frame << 8) + 4), buf, len);   /* the remote DMA wraps */
    *status = hdr[0];
    reg(b, BNRY, (uint8_t)(hdr[1] == RX_START ? RX_STOP - 1 : hdr[1] - 1));
    return len;
}

/* The DP8390 hash index computed independently: the reflected CRC-32
 * register (no final inversion), bit-reversed, top six bits. */
static unsigned hash_index(const uint8_t addr[6])
{
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < 6; i++) {
        crc ^= addr[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (crc & 1 ? 0xEDB88320u : 0);
    }
    uint32_t rev = 0;
    for (int k = 0; k < 32; k++)
        if (crc & (1u << k))
            rev |= 1u << (31 - k);
    return rev >> 26;
}

/* ---- tests ---- */

START_TEST(prom_and_probe)
{
    struct bench *b = bench_new(false);
    /* ne_probe: reset through the reset port, then ISR.RST */
    out8(b, RESET, in8(b, RESET));
    ck_assert(rreg(b, ISR) & ISR_RST);
    ck_assert_uint_eq(rreg(b, CR), 0x21);
    /* the MAR5 / CNTR0 page check of ne_probe and ne2k-pci */
    reg(b, CR, NODMA | PAGE1 | STOP);
    reg(b, 0x0D, 0xFF);
    reg(b, CR, NODMA | PAGE0);
    ck_assert_uint_eq(rreg(b, 0x0D), 0);
    /* byte mode: 32 bytes, each PROM byte doubled (a 16-bit card), 'WW' at 14 */
    reg(b, DCR, 0x48);
    remote_setup(b, 0, 32, RREAD);
    uint8_t prom[32];
    for (int i = 0; i < 32; i++)
        prom[i] = in8(b, DATA);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(prom[2 * i], prom[2 * i + 1]);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(prom[2 * i], MAC[i]);
    ck_assert_uint_eq(prom[28], 0x57);
    ck_assert_uint_eq(prom[30], 0x57);
    ck_assert(rreg(b, ISR) & ISR_RDC);
    /* word mode, words: each word holds the byte twice */
    reg(b, DCR, 0x49);
    remote_setup(b, 0, 32, RREAD);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(in16(b, DATA), MAC[i] * 0x101u);
    /* word mode, byte reads (ne2k-pci's PROM loop): consecutive MAC bytes */
    remote_setup(b, 0, 32, RREAD);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(in8(b, DATA), MAC[i]);
    /* ne.c's IRQ autoprobe: RDC|CNT enabled, a zero-count remote read */
    reg(b, ISR, 0xFF);
    ck_assert(!b->level);
    reg(b, IMR, 0x50);
    reg(b, RBCR0, 0);
    reg(b, RBCR1, 0);
    reg(b, CR, RREAD | START);
    ck_assert(b->level);
    reg(b, IMR, 0);
    ck_assert(!b->level);
    /* the PROM is read-only */
    remote_setup(b, 0, 2, RWRITE);
    ioport_write(&b->m->io, DATA, 0xAAAA, 2);
    remote_setup(b, 0, 2, RREAD);
    ck_assert_uint_eq(in16(b, DATA), MAC[0] * 0x101u);
    bench_free(b);
}
END_TEST

START_TEST(transmit)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[200];
    make_frame(f, 101, (const uint8_t[6]){ 0x02, 1, 2, 3, 4, 5 }, 9);
    send_frame(b, f, 101);
    ck_assert_int_eq(b->net.ntx, 1);
    ck_assert_uint_eq(b->net.tx_len[0], 101);
    ck_assert_mem_eq(b->net.tx[0], f, 101);
    ck_assert_uint_eq(rreg(b, ISR) & ISR_PTX, ISR_PTX);
    ck_assert_uint_eq(rreg(b, 4), 0x01);               /* TSR.PTX */
    ck_assert_uint_eq(rreg(b, CR) & TRANS, 0);
    ck_assert(b->level);
    reg(b, ISR, ISR_PTX);
    ck_assert(!b->level);

    /* a short frame goes out padded to 60 with zeros */
    memset(f + 20, 0xEE, 60);                          /* stale bytes beyond TBCR must not leak */
    block_output(b, TX_PAGE << 8, f, 80);
    reg(b, TBCR0, 20);
    reg(b, TBCR1, 0);
    reg(b, CR, NODMA | TRANS | START);
    ck_assert_int_eq(b->net.ntx, 2);
    ck_assert_uint_eq(b->net.tx_len[1], 60);
    ck_assert_mem_eq(b->net.tx[1], f, 20);
    for (int i = 20; i < 60; i++)
        ck_assert_uint_eq(b->net.tx[1][i], 0);

    /* masked: no interrupt, the status is still there */
    reg(b, ISR, 0xFF);
    reg(b, IMR, 0x7F & ~ISR_PTX);
    send_frame(b, f, 64);
    ck_assert(!b->level);
    ck_assert(rreg(b, ISR) & ISR_PTX);
    reg(b, IMR, 0x7F);
    ck_assert(b->level);
    reg(b, ISR, 0xFF);

    /* a giant: the chip reports it sent, the wire never carries it */
    reg(b, TBCR0, 0xD0);
    reg(b, TBCR1, 0x07);
    reg(b, CR, NODMA | TRANS | START);
    ck_assert_int_eq(b->net.ntx, 3);
    ck_assert(rreg(b, ISR) & ISR_PTX);

    /* stopped: TXP does nothing */
    reg(b, ISR, 0xFF);
    reg(b, CR, NODMA | STOP);
    reg(b, TBCR0, 64);
    reg(b, TBCR1, 0);
    reg(b, CR, NODMA | TRANS | STOP);
    ck_assert_int_eq(b->net.ntx, 3);
    ck_assert_uint_eq(rreg(b, ISR) & ISR_PTX, 0);
    bench_free(b);
}
END_TEST

/* Delivers a frame; true when CURR moved (the frame was stored). */
static bool deliver_stored(struct bench *b, const uint8_t *f, size_t len)
{
    uint8_t before = page1_read(b, CURR);
    ck_assert(netdev_deliver(&b->net.nd, f, len));
    return page1_read(b, CURR) != before;
}

START_TEST(address_filter)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[100], buf[1600], status;
    static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint8_t mc_hit[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
    uint8_t mc_miss[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x02 };
    while (hash_index(mc_miss) == hash_index(mc_hit))
        mc_miss[5]++;

    make_frame(f, 100, MAC, 1);
    ck_assert(deliver_stored(b, f, 100));
    ck_assert(rreg(b, ISR) & ISR_PRX);
    ck_assert(b->level);
    ck_assert_uint_eq(receive_one(b, buf, &status), 100);
    ck_assert_uint_eq(status, 0x01);                   /* RSR.PRX, physical */
    ck_assert_mem_eq(buf, f, 100);
    reg(b, ISR, 0xFF);

    make_frame(f, 100, other, 2);
    ck_assert(!deliver_stored(b, f, 100));
    make_frame(f, 100, bcast, 3);
    ck_assert(deliver_stored(b, f, 100));
    ck_assert_uint_eq(receive_one(b, buf, &status), 100);
    ck_assert_uint_eq(status, 0x21);                   /* RSR.PHY: multicast/broadcast */

    /* multicast: only with RCR.AM, only through the hash */
    unsigned hit = hash_index(mc_hit);
    reg(b, CR, NODMA | PAGE1 | START);
    reg(b, MAR0 + (int)(hit >> 3), (uint8_t)(1u << (hit & 7)));
    reg(b, CR, NODMA | PAGE0 | START);
    make_frame(f, 100, mc_hit, 4);
    ck_assert(!deliver_stored(b, f, 100));             /* AM off */
    reg(b, RCR, 0x0C);
    ck_assert(deliver_stored(b, f, 100));
    make_frame(f, 100, mc_miss, 5);
    ck_assert(!deliver_stored(b, f, 100));
    /* Linux's all-multicast: every MAR bit */
    reg(b, CR, NODMA | PAGE1 | START);
    for (int i = 0; i < 8; i++)
        reg(b, MAR0 + i, 0xFF);
    reg(b, CR, NODMA | PAGE0 | START);
    ck_assert(deliver_stored(b, f, 100));
    /* broadcast needs AB */
    reg(b, RCR, 0x08);
    make_frame(f, 100, bcast, 6);
    ck_assert(!deliver_stored(b, f, 100));
    /* promiscuous: any unicast */
    make_frame(f, 100, other, 7);
    ck_assert(!deliver_stored(b, f, 100));
    reg(b, RCR, 0x10);
    ck_assert(deliver_stored(b, f, 100));

    /* a short frame is stored padded to 60 (count 64) */
    make_frame(f, 42, MAC, 8);
    while (receive_one(b, buf, &status))
        ;
    ck_assert(deliver_stored(b, f, 42));
    ck_assert_uint_eq(receive_one(b, buf, &status), 60);
    ck_assert_mem_eq(buf, f, 42);
    for (int i = 42; i < 60; i++)
        ck_assert_uint_eq(buf[i], 0);
    bench_free(b);
}
END_TEST

START_TEST(ring_wrap)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[1514], buf[1600], status;
    int wrapped = 0;
    for (int n = 0; n < 60; n++) {
        static const size_t page_multiples[] = { 252, 508, 764, 1020, 1276, 250, 506 };
        size_t len = n < 7 ? page_multiples[n] : 60 + (size_t)(n * 197) % 1455;
        make_frame(f, len, MAC, (uint8_t)n);
        uint8_t curr = page1_read(b, CURR);
        ck_assert(netdev_deliver(&b->net.nd, f, len));
        uint8_t next = page1_read(b, CURR);
        ck_assert(next >= RX_START && next < RX_STOP);
        if (next < curr)
            wrapped++;
        ck_assert_uint_eq(receive_one(b, buf, &status), len);
        ck_assert_mem_eq(buf, f, len);
        ck_assert_uint_eq(rreg(b, BNRY), next == RX_START ? RX_STOP - 1 : next - 1);
    }
    ck_assert_int_ge(wrapped, 2);
    bench_free(b);
}
END_TEST

START_TEST(overflow)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[1000], buf[1600], status;
    /* 58 pages, CURR one ahead of BNRY's successor: 4-page frames fit 14 times */
    int stored = 0;
    for (;;) {
        make_frame(f, 1000, MAC, (uint8_t)stored);
        if (!netdev_deliver(&b->net.nd, f, 1000))
            break;
        stored++;
        ck_assert_int_lt(stored, 100);
    }
    ck_assert_int_eq(stored, 14);
    /* the link is lossless: the frame waits in the backend, no overflow */
    ck_assert_uint_eq(rreg(b, ISR) & ISR_OVW, 0);
    ck_assert_uint_eq(rreg(b, CNTR2), 0);
    ck_assert_int_eq(b->net.rx_ready_calls, 0);
    /* nothing was overwritten: all 14 come back intact, in order */
    for (int i = 0; i < 14; i++) {
        make_frame(f, 1000, MAC, (uint8_t)i);
        ck_assert_uint_eq(receive_one(b, buf, &status), 1000);
        ck_assert_mem_eq(buf, f, 1000);
        ck_assert_int_eq(b->net.rx_ready_calls, 1);    /* told once, at the first BNRY move */
    }
    ck_assert_uint_eq(receive_one(b, buf, &status), 0);
    make_frame(f, 1000, MAC, 99);
    ck_assert(netdev_deliver(&b->net.nd, f, 1000));

    /* stopped: frames are held by the backend; start tells it */
    reg(b, CR, NODMA | STOP);
    ck_assert(!netdev_deliver(&b->net.nd, f, 1000));
    ck_assert_int_eq(b->net.rx_ready_calls, 1);
    reg(b, CR, NODMA | START);
    ck_assert_int_eq(b->net.rx_ready_calls, 2);

    /* lib8390's overflow recovery: stop, loopback (TCR 0x02), start, drain,
     * back on the wire. Frames offered while in loopback are held, not
     * lost, and the backend is told when the receiver is back. */
    reg(b, CR, NODMA | STOP);
    reg(b, TCR, 0x02);
    reg(b, CR, NODMA | START);
    ck_assert_int_eq(b->net.rx_ready_calls, 2);        /* nothing refused yet */
    ck_assert(!netdev_deliver(&b->net.nd, f, 1000));
    ck_assert_int_eq(b->net.rx_ready_calls, 2);
    reg(b, TCR, 0x00);
    ck_assert_int_eq(b->net.rx_ready_calls, 3);
    ck_assert(netdev_deliver(&b->net.nd, f, 1000));

    /* the chip's own loopback frames cannot wait: a full ring overflows
     * (ISR.OVW and RST, a missed packet), and nothing is overwritten */
    while (netdev_deliver(&b->net.nd, f, 1000))
        ;
    uint8_t curr = page1_read(b, CURR);
    ck_assert_uint_eq(rreg(b, CNTR2), 0);
    reg(b, TCR, 0x02);
    send_frame(b, f, 1000);
    ck_assert_uint_eq(rreg(b, ISR) & (ISR_OVW | 0x80), ISR_OVW | 0x80);
    ck_assert_uint_eq(rreg(b, CNTR2), 1);
    ck_assert_uint_eq(rreg(b, CNTR2), 0);              /* reading clears */
    ck_assert_uint_eq(page1_read(b, CURR), curr);
    bench_free(b);
}
END_TEST

START_TEST(unread_frames_keep_prx)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[300], buf[1600], status;
    for (int i = 0; i < 3; i++) {
        make_frame(f, 300, MAC, (uint8_t)i);
        ck_assert(netdev_deliver(&b->net.nd, f, 300));
    }
    ck_assert(rreg(b, ISR) & ISR_PRX);
    /* the driver reads one and acknowledges: two are unread, PRX stays */
    ck_assert_uint_eq(receive_one(b, buf, &status), 300);
    reg(b, ISR, ISR_PRX);
    ck_assert(rreg(b, ISR) & ISR_PRX);
    ck_assert(b->level);
    /* all read: the acknowledgement clears it */
    ck_assert_uint_eq(receive_one(b, buf, &status), 300);
    ck_assert_uint_eq(receive_one(b, buf, &status), 300);
    ck_assert_uint_eq(receive_one(b, buf, &status), 0);
    reg(b, ISR, ISR_PRX);
    ck_assert_uint_eq(rreg(b, ISR) & ISR_PRX, 0);
    bench_free(b);
}
END_TEST

START_TEST(remote_dma)
{
    struct bench *b = bench_new(false);
    nic_init(b, false);
    uint8_t data[300], back[300];
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    /* byte mode */
    block_output(b, 0x5003, data, 300);
    block_input(b, 0x5003, back, 300);
    ck_assert_mem_eq(back, data, 300);
    uint16_t crda = (uint16_t)(rreg(b, 8) | rreg(b, 9) << 8);
    ck_assert_uint_eq(crda, 0x5003 + 300);
    /* word mode and 32-bit accesses */
    reg(b, DCR, 0x49);
    block_input(b, 0x5004, back, 64);
    ck_assert_mem_eq(back, data + 1, 64);
    remote_setup(b, 0x5004, 8, RREAD);
    uint32_t d = ioport_read(&b->m->io, DATA, 4);
    ck_assert_uint_eq(d, (uint32_t)data[1] | data[2] << 8 | data[3] << 16 | (uint32_t)data[4] << 24);
    ck_assert_uint_eq(rreg(b, ISR) & ISR_RDC, 0);
    ioport_read(&b->m->io, DATA, 4);
    ck_assert(rreg(b, ISR) & ISR_RDC);
    /* a zero count completes at once */
    reg(b, ISR, 0xFF);
    remote_setup(b, 0x5000, 0, RREAD);
    ck_assert(rreg(b, ISR) & ISR_RDC);
    /* the remote DMA wraps from PSTOP to PSTART */
    reg(b, DCR, 0x48);
    remote_setup(b, (RX_STOP << 8) - 2, 4, RWRITE);
    for (int i = 0; i < 4; i++)
        out8(b, DATA, (uint8_t)(0xA0 + i));
    block_input(b, RX_START << 8, back, 2);
    ck_assert_uint_eq(back[0], 0xA2);
    ck_assert_uint_eq(back[1], 0xA3);
    bench_free(b);
}
END_TEST

START_TEST(send_packet_command)
{
    struct bench *b = bench_new(false);
    nic_init(b, false);
    /* a driver that keeps BNRY at the next packet (the datasheet's way) */
    reg(b, CR, NODMA | PAGE0 | STOP);
    reg(b, BNRY, RX_START);
    reg(b, CR, NODMA | PAGE0 | START);
    uint8_t f[300], buf[400];
    make_frame(f, 300, MAC, 3);
    ck_assert(netdev_deliver(&b->net.nd, f, 300));
    reg(b, RBCR1, 0x0F);
    reg(b, CR, SENDPKT | START);
    for (int i = 0; i < 304; i++)
        buf[i] = in8(b, DATA);
    ck_assert_uint_eq(buf[0], 0x01);
    ck_assert_uint_eq(buf[1], RX_START + 2);
    ck_assert_uint_eq(buf[2] | buf[3] << 8, 304);
    ck_assert_mem_eq(buf + 4, f, 300);
    ck_assert(rreg(b, ISR) & ISR_RDC);
    ck_assert_uint_eq(rreg(b, BNRY), RX_START + 2);    /* the packet left the ring */
    bench_free(b);
}
END_TEST

START_TEST(bad_setups)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[1514];
    make_frame(f, 500, MAC, 1);
    /* remote DMA outside the buffer: reads 0xFF, writes go nowhere */
    remote_setup(b, 0xFFF0, 0x100, RWRITE);
    for (int i = 0; i < 0x80; i++)
        ioport_write(&b->m->io, DATA, 0x1234, 2);
    remote_setup(b, 0xFFF0, 0x20, RREAD);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(in16(b, DATA), 0xFFFF);
    ck_assert_uint_eq(in16(b, DATA), MAC[0] * 0x101u);  /* wrapped to 0: the PROM */
    /* reads with a finished count go on without faults */
    for (int i = 0; i < 70000; i++)
        in16(b, DATA);

    /* ring outside the buffer: frames are dropped and counted missed */
    reg(b, CNTR2, 0);
    (void)rreg(b, CNTR2);
    struct { uint8_t pstart, pstop, curr, bnry; } rings[] = {
        { 0x10, 0x20, 0x10, 0x10 },     /* below the buffer */
        { 0x46, 0xFF, 0x90, 0x46 },     /* past its end */
        { 0x60, 0x50, 0x60, 0x60 },     /* start above stop */
        { 0x46, 0x80, 0x30, 0x46 },     /* CURR outside the ring */
        { 0x46, 0x47, 0x46, 0x46 },     /* one page: nothing fits */
    };
    for (size_t r = 0; r < sizeof rings / sizeof rings[0]; r++) {
        reg(b, CR, NODMA | PAGE0 | STOP);
        reg(b, PSTART, rings[r].pstart);
        reg(b, PSTOP, rings[r].pstop);
        reg(b, BNRY, rings[r].bnry);
        reg(b, CR, NODMA | PAGE1 | STOP);
        reg(b, CURR, rings[r].curr);
        reg(b, CR, NODMA | PAGE0 | START);
        ck_assert(netdev_deliver(&b->net.nd, f, 500));
        ck_assert_uint_eq(page1_read(b, CURR), rings[r].curr);
    }
    ck_assert_uint_eq(rreg(b, CNTR2), 5);
    /* BNRY just below PSTART is what lib8390 writes when the next page to
     * read is PSTART: the chip only compares BNRY with its write pointer,
     * so frames are stored (it stands for PSTOP - 1) */
    reg(b, CR, NODMA | PAGE0 | STOP);
    reg(b, PSTART, 0x46);
    reg(b, PSTOP, 0x80);
    reg(b, BNRY, 0x45);
    reg(b, CR, NODMA | PAGE1 | STOP);
    reg(b, CURR, 0x46);
    reg(b, CR, NODMA | PAGE0 | START);
    ck_assert(netdev_deliver(&b->net.nd, f, 500));
    ck_assert_uint_eq(page1_read(b, CURR), 0x48);   /* 500 + header + FCS: two pages */
    ck_assert_uint_eq(rreg(b, CNTR2), 0);

    /* transmit from the top of the card's address space: bounded, 0xFF past the buffer */
    reg(b, TPSR, 0xFF);
    reg(b, TBCR0, 0x00);
    reg(b, TBCR1, 0x02);
    reg(b, CR, NODMA | TRANS | START);
    ck_assert_int_eq(b->net.ntx, 1);
    ck_assert_uint_eq(b->net.tx_len[0], 512);
    ck_assert_uint_eq(b->net.tx[0][0], 0xFF);
    ck_assert_uint_eq(b->net.tx[0][256], MAC[0]);     /* 0x0000: the PROM */

    /* frames too short to hold an address, and the largest the link allows */
    ck_assert(netdev_deliver(&b->net.nd, f, 3));
    uint8_t *big = calloc(1, NET_MAX_FRAME);
    memcpy(big, MAC, 6);
    nic_init(b, true);
    ck_assert(netdev_deliver(&b->net.nd, big, NET_MAX_FRAME));   /* never fits: dropped */
    ck_assert_uint_eq(page1_read(b, CURR), RX_START);
    free(big);
    bench_free(b);
}
END_TEST

START_TEST(counters)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[100];
    make_frame(f, 100, MAC, 1);
    /* monitor mode: checked, counted as missed, not stored */
    reg(b, RCR, 0x20);
    for (int i = 0; i < 5; i++)
        ck_assert(!deliver_stored(b, f, 100));
    ck_assert_uint_eq(rreg(b, CNTR2), 5);
    ck_assert_uint_eq(rreg(b, CNTR2), 0);
    ck_assert_uint_eq(rreg(b, CNTR0), 0);
    ck_assert_uint_eq(rreg(b, CNTR1), 0);
    /* MSB set raises ISR.CNT; the counter stops at 192 */
    for (int i = 0; i < 127; i++)
        netdev_deliver(&b->net.nd, f, 100);
    ck_assert_uint_eq(rreg(b, ISR) & ISR_CNT, 0);
    netdev_deliver(&b->net.nd, f, 100);
    ck_assert(rreg(b, ISR) & ISR_CNT);
    ck_assert(b->level);
    for (int i = 0; i < 300; i++)
        netdev_deliver(&b->net.nd, f, 100);
    ck_assert_uint_eq(rreg(b, CNTR2), 192);
    reg(b, ISR, ISR_CNT);
    ck_assert(!b->level);
    bench_free(b);
}
END_TEST

START_TEST(save_load)
{
    struct bench *b = bench_new(false);
    nic_init(b, true);
    uint8_t f[700], buf[1600], status;
    for (int i = 0; i < 3; i++) {
        make_frame(f, 700, MAC, (uint8_t)i);
        ck_assert(netdev_deliver(&b->net.nd, f, 700));
    }
    struct savestate_buf snap = { 0 };
    ck_assert_int_eq(machine_save(b->m, &snap), 0);
    uint8_t curr = page1_read(b, CURR), isr = rreg(b, ISR);
    /* change everything, then go back */
    nic_init(b, false);
    reg(b, CR, NODMA | PAGE1 | START);
    reg(b, PAR0, 0x77);
    reg(b, CR, NODMA | PAGE0 | START);
    reg(b, IMR, 0);
    ck_assert(!b->level);
    char err[128];
    ck_assert_msg(machine_load(b->m, snap.data, snap.len, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(page1_read(b, CURR), curr);
    ck_assert_uint_eq(page1_read(b, PAR0), MAC[0]);
    ck_assert_uint_eq(rreg(b, ISR), isr);
    ck_assert(b->level);                               /* recomputed from ISR & IMR */
    for (int i = 0; i < 3; i++) {
        make_frame(f, 700, MAC, (uint8_t)i);
        ck_assert_uint_eq(receive_one(b, buf, &status), 700);
        ck_assert_mem_eq(buf, f, 700);
    }
    savestate_buf_free(&snap);
    bench_free(b);
}
END_TEST

START_TEST(pci_card)
{
    struct bench *b = bench_new(true);
    struct pci_device *dev = b->bus->devices[PCI_DEVFN(3, 0)];
    ck_assert_ptr_nonnull(dev);
    ck_assert_uint_eq(pci_get_word(dev->config + PCI_VENDOR_ID), 0x10EC);
    ck_assert_uint_eq(pci_get_word(dev->config + PCI_DEVICE_ID), 0x8029);
    ck_assert_uint_eq(dev->config[PCI_CLASS_DEVICE + 1], 0x02);
    ck_assert_uint_eq(dev->config[PCI_CLASS_DEVICE], 0x00);
    ck_assert_uint_eq(dev->config[PCI_INTERRUPT_PIN], 1);
    /* BAR 0 is 32 I/O ports: size it and map it at 0xC100 as a BIOS does */
    uint32_t cfg = 0x80000000u | (uint32_t)PCI_DEVFN(3, 0) << 8;
    ioport_write(&b->m->io, 0xCF8, cfg | 0x10, 4);
    ioport_write(&b->m->io, 0xCFC, 0xFFFFFFFFu, 4);
    ck_assert_uint_eq(ioport_read(&b->m->io, 0xCFC, 4), 0xFFFFFFE1u);
    ioport_write(&b->m->io, 0xCFC, 0xC100 | 1, 4);
    ck_assert_uint_eq(in8(b, 0xC100), 0xFF);           /* not decoded yet */
    ioport_write(&b->m->io, 0xCF8, cfg | PCI_COMMAND, 4);
    ioport_write(&b->m->io, 0xCFC, PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(in8(b, 0xC100), 0x21);           /* CR after reset */
    ck_assert_uint_eq(in8(b, 0xC10A), 0x50);           /* RTL8029 ID 'P', 'C' */
    ck_assert_uint_eq(in8(b, 0xC10B), 0x43);
    /* INTA# follows ISR & IMR */
    out8(b, 0xC100, NODMA | START);
    out8(b, 0xC10F, ISR_RDC);
    out8(b, 0xC10A, 0);
    out8(b, 0xC10B, 0);
    out8(b, 0xC100, RREAD | START);
    ck_assert(b->level);
    ck_assert(dev->irq_asserted);
    out8(b, 0xC107, ISR_RDC);
    ck_assert(!b->level);
    /* moving the BAR moves the ports */
    ioport_write(&b->m->io, 0xCF8, cfg | 0x10, 4);
    ioport_write(&b->m->io, 0xCFC, 0xC200 | 1, 4);
    ck_assert_uint_eq(in8(b, 0xC100), 0xFF);
    ck_assert_uint_eq(in8(b, 0xC200), RREAD | START);  /* CR as last written */

    /* ne2k-pci's probe, with the ports where the other tests' helpers look */
    ioport_write(&b->m->io, 0xCFC, IO | 1, 4);
    ck_assert_uint_ne(rreg(b, CR), 0xFF);
    reg(b, CR, NODMA | PAGE1 | STOP);
    (void)rreg(b, 0x0D);
    reg(b, 0x0D, 0xFF);
    reg(b, CR, NODMA | PAGE0);                         /* neither STA nor STP: stays stopped */
    (void)rreg(b, CNTR0);
    ck_assert_uint_eq(rreg(b, CNTR0), 0);
    out8(b, RESET, in8(b, RESET));
    ck_assert(rreg(b, ISR) & ISR_RST);
    reg(b, ISR, 0xFF);
    static const uint8_t program_seq[][2] = {
        { NODMA | PAGE0 | STOP, CR }, { 0x49, DCR }, { 0, RBCR0 }, { 0, RBCR1 }, { 0, IMR },
        { 0xFF, ISR }, { 0x20, RCR }, { 0x02, TCR }, { 32, RBCR0 }, { 0, RBCR1 }, { 0, RSAR0 },
        { 0, RSAR1 }, { RREAD | START, CR },
    };
    for (size_t i = 0; i < sizeof program_seq / sizeof program_seq[0]; i++)
        reg(b, program_seq[i][1], program_seq[i][0]);
    uint8_t sa_prom[32];
    for (int i = 0; i < 32; i++)
        sa_prom[i] = in8(b, DATA);
    ck_assert_mem_eq(sa_prom, MAC, 6);

    /* the RTL8029 path reads the ring header with one inl and moves data in dwords */
    nic_init(b, true);
    reg(b, ISR, 0xFF);
    uint8_t f[130];
    make_frame(f, 130, MAC, 4);
    ck_assert(netdev_deliver(&b->net.nd, f, 130));
    ck_assert(b->level);
    remote_setup(b, RX_START << 8, 4, RREAD);
    uint32_t hdr = ioport_read(&b->m->io, DATA, 4);
    ck_assert_uint_eq(hdr & 0xFF, 0x01);
    ck_assert_uint_eq((hdr >> 8) & 0xFF, RX_START + 1);
    ck_assert_uint_eq(hdr >> 16, 134);
    remote_setup(b, TX_PAGE << 8, 128, RWRITE);
    for (int i = 0; i < 128; i += 4)
        ioport_write(&b->m->io, DATA,
                     f[i] | f[i + 1] << 8 | f[i + 2] << 16 | (uint32_t)f[i + 3] << 24, 4);
    ck_assert(rreg(b, ISR) & ISR_RDC);
    reg(b, TBCR0, 128);
    reg(b, TBCR1, 0);
    reg(b, CR, NODMA | TRANS | START);
    ck_assert_int_eq(b->net.ntx, 1);
    ck_assert_mem_eq(b->net.tx[0], f, 128);
    bench_free(b);
}
END_TEST

static uint32_t config_read(struct machine *m, int devfn, int offset)
{
    ioport_write(&m->io, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (uint32_t)offset, 4);
    return ioport_read(&m->io, 0xCFC, 4);
}

/* The board's NIC loop: PCI cards in the slots after the VGA, ISA cards at
 * their ports and IRQ, a clash reported as an error. */
START_TEST(board_nics)
{
    char err[256];
    struct machine *m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(m);
    struct fakenet net = { .nd = { .ops = &fake_ops, .id = "n0" } };
    struct pc_config cfg = { .vga = true, .boot_order = "n", .nnics = 3 };
    cfg.nics[0] = (struct pc_nic_config){ .model = PC_NIC_NE2K_PCI, .netdev = &net.nd, .mac = { 2, 0, 0, 0, 0, 1 } };
    cfg.nics[1] = (struct pc_nic_config){ .model = PC_NIC_NE2K_PCI, .mac = { 2, 0, 0, 0, 0, 2 } };
    cfg.nics[2] = (struct pc_nic_config){ .model = PC_NIC_NE2K_ISA, .mac = { 2, 0, 0, 0, 0, 3 },
                                          .iobase = 0x320, .irq = 10 };
    ck_assert_msg(pc_create(m, &cfg, NULL, err, sizeof err) == 0, "%s", err);
    machine_reset(m);
    ck_assert_ptr_nonnull(net.nd.nic.opaque);
    ck_assert_uint_eq(config_read(m, PCI_DEVFN(2, 0), 0), 0x11111234u);     /* the VGA */
    ck_assert_uint_eq(config_read(m, PCI_DEVFN(3, 0), 0), 0x802910ECu);
    ck_assert_uint_eq(config_read(m, PCI_DEVFN(4, 0), 0), 0x802910ECu);
    ck_assert_uint_eq(config_read(m, PCI_DEVFN(3, 0), 0x08) >> 8, 0x020000u);
    /* the ISA card: reset state at 0x320, its interrupt reaches the slave 8259's IR2 */
    ck_assert_uint_eq(ioport_read(&m->io, 0x320, 1), 0x21);
    ioport_write(&m->io, 0x320 + IMR, ISR_RDC, 1);
    ioport_write(&m->io, 0xA0, 0x0A, 1);                 /* OCW3: read IRR */
    ck_assert_uint_eq(ioport_read(&m->io, 0xA0, 1) & 0x04, 0);
    ioport_write(&m->io, 0x320, RREAD | START, 1);      /* zero count: RDC at once */
    ck_assert_uint_eq(ioport_read(&m->io, 0xA0, 1) & 0x04, 0x04);
    machine_destroy(m);

    /* two ISA cards on IRQ 10: the line is the OR of both */
    m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    cfg.nnics = 2;
    cfg.nics[0] = (struct pc_nic_config){ .model = PC_NIC_NE2K_ISA, .iobase = 0x300, .irq = 10 };
    cfg.nics[1] = (struct pc_nic_config){ .model = PC_NIC_NE2K_ISA, .iobase = 0x340, .irq = 10 };
    ck_assert_msg(pc_create(m, &cfg, NULL, err, sizeof err) == 0, "%s", err);
    machine_reset(m);
    /* the 8259's IRR follows a level on an unmasked, level-triggered input (ELCR) */
    ioport_write(&m->io, 0x4D1, 0x04, 1);
    for (int card = 0; card < 2; card++) {
        uint16_t base = card ? 0x340 : 0x300;
        ioport_write(&m->io, base + IMR, ISR_RDC, 1);
        ioport_write(&m->io, base, RREAD | START, 1);
    }
    ioport_write(&m->io, 0xA0, 0x0A, 1);
    ck_assert_uint_eq(ioport_read(&m->io, 0xA0, 1) & 0x04, 0x04);
    ioport_write(&m->io, 0x300 + ISR, ISR_RDC, 1);        /* one card lets go: still high */
    ck_assert_uint_eq(ioport_read(&m->io, 0xA0, 1) & 0x04, 0x04);
    ioport_write(&m->io, 0x340 + ISR, ISR_RDC, 1);        /* both: low */
    ck_assert_uint_eq(ioport_read(&m->io, 0xA0, 1) & 0x04, 0);
    machine_destroy(m);
    ck_assert_ptr_null(net.nd.nic.opaque);

    /* an ISA card on the COM1 ports cannot be fitted */
    m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    cfg.nnics = 1;
    cfg.nics[0] = (struct pc_nic_config){ .model = PC_NIC_NE2K_ISA, .iobase = 0x3E0, .irq = 9 };
    ck_assert_int_ne(pc_create(m, &cfg, NULL, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "NIC 0"));
    machine_destroy(m);
}
END_TEST

/* Random port traffic and random frames: nothing faults (run under the
 * Sanitize build), the card keeps answering, and every frame it puts on the
 * wire is between 60 and 1518 bytes. */
START_TEST(fuzz)
{
    struct bench *b = bench_new(false);
    uint32_t seed = 12345;
#define RAND() (seed = seed * 1103515245u + 12345u, seed >> 8)
    uint8_t f[2048];
    int refused = 0, sent = 0;
    for (int iter = 0; iter < 200000; iter++) {
        uint32_t r = RAND();
        int size = 1 << (RAND() % 3);
        uint16_t port = (uint16_t)(IO + RAND() % 32);
        switch (r % 8) {
        case 0: case 1: case 2:
            ioport_write(&b->m->io, port, RAND(), size);
            break;
        case 3: case 4:
            ioport_read(&b->m->io, port, size);
            break;
        case 5: {
            size_t len = RAND() % sizeof f;
            for (size_t i = 0; i < len; i++)
                f[i] = (uint8_t)RAND();
            if (len >= 6 && RAND() % 2)
                memcpy(f, MAC, 6);
            if (!netdev_deliver(&b->net.nd, f, len))
                refused++;
            break;
        }
        case 6:
            if (RAND() % 64 == 0)
                nic_init(b, RAND() % 2);
            break;
        default:
            ioport_write(&b->m->io, IO, RAND() & 0xFF, 1);     /* commands */
            break;
        }
        if (b->net.ntx) {
            sent++;
            ck_assert_uint_ge(b->net.tx_len[0], 60);
            ck_assert_uint_le(b->net.tx_len[0], 1518);
            b->net.ntx = 0;
        }
    }
#undef RAND
    /* the traffic reached the transmitter and the full/stopped receiver */
    ck_assert_int_gt(sent, 10);
    ck_assert_int_gt(refused, 10);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ne2000");
    TCase *tc = tcase_create("ne2000");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, prom_and_probe);
    tcase_add_test(tc, transmit);
    tcase_add_test(tc, address_filter);
    tcase_add_test(tc, ring_wrap);
    tcase_add_test(tc, overflow);
    tcase_add_test(tc, unread_frames_keep_prx);
    tcase_add_test(tc, remote_dma);
    tcase_add_test(tc, send_packet_command);
    tcase_add_test(tc, bad_setups);
    tcase_add_test(tc, counters);
    tcase_add_test(tc, save_load);
    tcase_add_test(tc, pci_card);
    tcase_add_test(tc, board_nics);
    tcase_add_test(tc, fuzz);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
