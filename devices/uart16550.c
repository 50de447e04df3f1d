/* devices/uart16550.c: a National Semiconductor 16550A UART (COM1 and friends).
 *
 * Enough for polled and interrupt-driven consoles (bare-metal tests, Linux
 * early console and 8250 driver): the eight registers, DLAB and the divisor
 * latch, the 16-byte receive FIFO, loopback, the interrupt identification
 * priorities and the OUT2 gate of the PC's IRQ line. Transmission is
 * instantaneous: THR writes go straight to the backend, so LSR always shows
 * THRE and TEMT. Not modelled: baud-rate timing, the transmit FIFO, character
 * timeout interrupts, break and parity/framing errors.
 *
 * Input is pulled from the backend whenever the guest looks (LSR or RBR
 * read) and, when the IRQ line is connected, on a timer so a receive
 * interrupt can fire: every UART_POLL_NS of virtual time while input
 * flows, backing off to UART_POLL_MAX_NS after empty polls (an idle guest
 * at a prompt would otherwise wake the host a thousand times a second; a
 * first keystroke waits at most 16 ms, the rest of a paste flows at once).
 *
 * Invariants: rx_count <= UART_FIFO_SIZE; the IRQ line's level is always
 * uart_irq_pending() && (MCR & OUT2) after any register access.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/savestate.h"
#include "core/chardev.h"
#include "core/machine.h"
#include "devices/device.h"

#define UART_FIFO_SIZE 16
#define UART_POLL_NS     1000000u    /* 1 ms of virtual time while input flows */
#define UART_POLL_MAX_NS 16000000u   /* after empty polls */

/* register offsets */
enum { REG_RBR_THR_DLL = 0, REG_IER_DLM = 1, REG_IIR_FCR = 2, REG_LCR = 3, REG_MCR = 4,
       REG_LSR = 5, REG_MSR = 6, REG_SCR = 7 };

enum { IER_RDA = 1u << 0, IER_THRE = 1u << 1, IER_RLS = 1u << 2, IER_MS = 1u << 3 };
enum { IIR_NONE = 0x01, IIR_MS = 0x00, IIR_THRE = 0x02, IIR_RDA = 0x04, IIR_RLS = 0x06,
       IIR_FIFO_ON = 0xC0 };
enum { FCR_ENABLE = 1u << 0, FCR_CLEAR_RX = 1u << 1, FCR_CLEAR_TX = 1u << 2 };
enum { LCR_DLAB = 1u << 7 };
enum { MCR_DTR = 1u << 0, MCR_RTS = 1u << 1, MCR_OUT1 = 1u << 2, MCR_OUT2 = 1u << 3,
       MCR_LOOP = 1u << 4 };
enum { LSR_DR = 1u << 0, LSR_OE = 1u << 1, LSR_THRE = 1u << 5, LSR_TEMT = 1u << 6 };
enum { MSR_DCTS = 1u << 0, MSR_DDSR = 1u << 1, MSR_TERI = 1u << 2, MSR_DDCD = 1u << 3,
       MSR_CTS = 1u << 4, MSR_DSR = 1u << 5, MSR_RI = 1u << 6, MSR_DCD = 1u << 7,
       MSR_DELTAS = 0x0F };

struct uart16550 {
    struct machine  *machine;          /* for guest_errors logging */
    struct irq_line *irq;              /* may be NULL / unconnected */
    struct chardev  *backend;          /* may be NULL: output dropped, no input */
    uint32_t         poll_ns;          /* input poll interval now (host side, not saved) */
    uint16_t iobase;

    uint8_t rx_fifo[UART_FIFO_SIZE];
    int     rx_head, rx_count;
    uint8_t ier, lcr, mcr, msr, scr, fcr;
    uint8_t dll, dlm;
    bool    overrun;                   /* LSR.OE, cleared by reading LSR */
    bool    thre_pending;              /* THR-empty interrupt armed (cleared by IIR read / THR write) */
};

static bool uart_irq_pending_id(const struct uart16550 *u, uint8_t *id)
{
    if ((u->ier & IER_RLS) && u->overrun)
        *id = IIR_RLS;
    else if ((u->ier & IER_RDA) && u->rx_count)
        *id = IIR_RDA;
    else if ((u->ier & IER_THRE) && u->thre_pending)
        *id = IIR_THRE;
    else if ((u->ier & IER_MS) && (u->msr & MSR_DELTAS))
        *id = IIR_MS;
    else
        return false;
    return true;
}

static void uart_update_irq(struct uart16550 *u)
{
    uint8_t id;
    irq_set_level(u->irq, uart_irq_pending_id(u, &id) && (u->mcr & MCR_OUT2));
}

/* Overrun: without FIFO the new byte replaces the unread one in RBR (the
 * 16450 behaviour); with FIFO the FIFO keeps its bytes and the new one is lost. */
static void uart_receive(struct uart16550 *u, uint8_t byte)
{
    if (!(u->fcr & FCR_ENABLE) && u->rx_count == 1) {
        u->overrun = true;
        u->rx_fifo[u->rx_head] = byte;
        return;
    }
    if (u->rx_count == UART_FIFO_SIZE) {
        u->overrun = true;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
    u->rx_count++;
}

/* Pull waiting host input into the FIFO (not in loopback: the line is cut). */
static void uart_pull_input(struct uart16550 *u)
{
    if (u->mcr & MCR_LOOP)
        return;
    int limit = (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
    while (u->rx_count < limit) {
        int c = chardev_poll(u->backend);
        if (c < 0)
            break;
        uart_receive(u, (uint8_t)c);
        u->poll_ns = UART_POLL_NS;
    }
}

/* Modem status from the modem-control outputs, as loopback wires them. */
static uint8_t uart_loopback_msr(uint8_t mcr)
{
    return (uint8_t)(((mcr & MCR_RTS) ? MSR_CTS : 0) | ((mcr & MCR_DTR) ? MSR_DSR : 0)
                   | ((mcr & MCR_OUT1) ? MSR_RI : 0) | ((mcr & MCR_OUT2) ? MSR_DCD : 0));
}

static void uart_set_msr_lines(struct uart16550 *u, uint8_t lines)
{
    uint8_t old = u->msr, deltas = u->msr & MSR_DELTAS;
    if ((old ^ lines) & MSR_CTS) deltas |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR) deltas |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD) deltas |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI)) deltas |= MSR_TERI;
    u->msr = lines | deltas;
}

static uint32_t uart_read(void *opaque, uint16_t port, int size)
{
    struct uart16550 *u = opaque;
    uint8_t value = 0xFF;
    switch (port - u->iobase) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB) {
            value = u->dll;
            break;
        }
        uart_pull_input(u);
        value = 0;
        if (u->rx_count) {
            value = u->rx_fifo[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
        }
        break;
    case REG_IER_DLM:
        value = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case REG_IIR_FCR: {
        uint8_t id;
        value = uart_irq_pending_id(u, &id) ? id : IIR_NONE;
        if (value == IIR_THRE)
            u->thre_pending = false;   /* reading IIR acknowledges THRE */
        if (u->fcr & FCR_ENABLE)
            value |= IIR_FIFO_ON;
        break;
    }
    case REG_LCR:
        value = u->lcr;
        break;
    case REG_MCR:
        value = u->mcr;
        break;
    case REG_LSR:
        uart_pull_input(u);
        value = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0) | (u->overrun ? LSR_OE : 0);
        u->overrun = false;
        break;
    case REG_MSR:
        value = u->msr;
        u->msr &= (uint8_t)~MSR_DELTAS;
        break;
    case REG_SCR:
        value = u->scr;
        break;
    }
    uart_update_irq(u);
    return value;
}

static void uart_write(void *opaque, uint16_t port, uint32_t value32, int size)
{
    struct uart16550 *u = opaque;
    uint8_t value = (uint8_t)value32;
    switch (port - u->iobase) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB) {
            u->dll = value;
            break;
        }
        if (u->mcr & MCR_LOOP)
            uart_receive(u, value);
        else
            chardev_write(u->backend, &value, 1);
        u->thre_pending = true;       /* sent at once: THR is empty again */
        break;
    case REG_IER_DLM:
        if (u->lcr & LCR_DLAB) {
            u->dlm = value;
            break;
        }
        /* enabling the THRE interrupt while THR is empty raises it at once */
        if ((value & IER_THRE) && !(u->ier & IER_THRE))
            u->thre_pending = true;
        u->ier = value & 0x0F;
        break;
    case REG_IIR_FCR:
        if ((value ^ u->fcr) & FCR_ENABLE) {
            u->rx_count = 0;           /* switching FIFO mode clears the FIFOs */
            u->rx_head = 0;
        }
        if (value & FCR_CLEAR_RX) {
            u->rx_count = 0;
            u->rx_head = 0;
        }
        u->fcr = value & (FCR_ENABLE | 0xC0);  /* trigger level kept for reads of nothing */
        break;
    case REG_LCR:
        u->lcr = value;
        break;
    case REG_MCR:
        u->mcr = value & 0x1F;
        uart_set_msr_lines(u, (u->mcr & MCR_LOOP) ? uart_loopback_msr(u->mcr)
                                                  : MSR_DCD | MSR_DSR | MSR_CTS);
        break;
    case REG_LSR:
    case REG_MSR:
        machine_log(u->machine, LOG_GUEST_ERRORS, "uart16550 0x%x: write 0x%02x to read-only "
                    "register %d ignored\n", u->iobase, value, port - u->iobase);
        break;
    case REG_SCR:
        u->scr = value;
        break;
    }
    uart_update_irq(u);
}

static void uart_reset(void *opaque)
{
    struct uart16550 *u = opaque;
    u->rx_head = u->rx_count = 0;
    u->ier = u->fcr = u->scr = u->mcr = 0;
    u->lcr = 0x03;                     /* 8N1 */
    u->dll = 0x0C;                     /* 9600 baud */
    u->dlm = 0;
    u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    u->overrun = false;
    u->thre_pending = false;
    uart_update_irq(u);
}

static uint64_t uart_next_event(void *opaque, uint64_t now_ns)
{
    struct uart16550 *u = opaque;
    if (!u->irq || !u->irq->set_level || !u->backend || !u->backend->ops->poll)
        return TIME_NEVER;             /* nobody to interrupt: input is read when polled */
    uint32_t interval = u->poll_ns ? u->poll_ns : UART_POLL_NS;
    u->poll_ns = interval;
    uart_pull_input(u);                /* resets poll_ns when a byte came */
    uart_update_irq(u);
    interval = u->poll_ns;
    u->poll_ns = interval * 2 > UART_POLL_MAX_NS ? UART_POLL_MAX_NS : interval * 2;
    return now_ns + interval;
}

static const struct ioport_ops uart_port_ops = { uart_read, uart_write };

/* ---- save state ---- */

static const struct state_field uart_fields[] = {
    STATE_ARRAY(struct uart16550, rx_fifo),
    STATE_INT(struct uart16550, rx_head),
    STATE_INT(struct uart16550, rx_count),
    STATE_U8(struct uart16550, ier),
    STATE_U8(struct uart16550, lcr),
    STATE_U8(struct uart16550, mcr),
    STATE_U8(struct uart16550, msr),
    STATE_U8(struct uart16550, scr),
    STATE_U8(struct uart16550, fcr),
    STATE_U8(struct uart16550, dll),
    STATE_U8(struct uart16550, dlm),
    STATE_BOOL(struct uart16550, overrun),
    STATE_BOOL(struct uart16550, thre_pending),
};
static const struct state_desc uart_state = STATE_DESC("uart16550", 1, uart_fields);

static int uart_post_load(void *opaque)
{
    struct uart16550 *u = opaque;
    if (u->rx_head < 0 || u->rx_head >= UART_FIFO_SIZE || u->rx_count < 0
        || u->rx_count > UART_FIFO_SIZE)
        return -1;
    uart_update_irq(u);
    return 0;
}

static const struct device_ops uart_device_ops = {
    .name = "uart16550",
    .state = &uart_state,
    .post_load = uart_post_load,
    .reset = uart_reset,
    .next_event = uart_next_event,
    .destroy = free,
};

int uart16550_create(struct machine *m, uint16_t iobase, struct irq_line *irq,
                     struct chardev *backend)
{
    struct uart16550 *u = calloc(1, sizeof(*u));
    if (!u)
        return -1;
    u->machine = m;
    u->irq = irq;
    u->backend = backend;
    u->iobase = iobase;
    uart_reset(u);
    if (machine_add_device(m, &uart_device_ops, u) != 0) {
        free(u);
        return -1;
    }
    return ioport_register(&m->io, iobase, 8, &uart_port_ops, u);
}
