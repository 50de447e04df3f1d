/* core/net.h: the link between a network card (devices/) and a host network
 * backend (frontends/: libslirp, or a test's loopback).
 *
 * A NIC never talks to sockets and a backend never sees card registers: the
 * two meet in a struct netdev. The backend creates it (ops, id); the NIC
 * attaches itself by filling nd->nic. Frames are whole Ethernet frames
 * without the FCS (14..NET_MAX_FRAME bytes).
 *
 * Flow control: the backend offers a frame with netdev_deliver(); the NIC
 * returns false when it has no room (receive ring full, receiver stopped in
 * a way that must hold the frame). The backend then keeps the frame (a
 * bounded queue: it drops the oldest when full) and offers it again after
 * the NIC calls netdev_rx_ready() (the guest freed ring space). A NIC that
 * drops a frame the way real hardware does (address filter, runt, overflow
 * with the "drop" policy) returns true: the frame was dealt with.
 *
 * Taps (packet capture) see every frame in both directions, in order, at
 * the point where it crosses the link: netdev_transmit and successful
 * netdev_deliver calls.
 *
 * Usage (backend side):
 *   nd->ops = &my_ops; nd->id = "n0";
 *   ... nic_create(..., nd) fills nd->nic ...
 *   if (!netdev_deliver(nd, frame, len)) queue_it(frame, len);
 * (NIC side):
 *   nd->nic = (struct netdev_nic){ .opaque = card, .receive = card_receive };
 *   netdev_transmit(nd, tx_buffer, tx_len);
 *   netdev_rx_ready(nd);          // after the guest frees receive space
 */
#ifndef FOX86_NET_H
#define FOX86_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_FRAME 65536u       /* larger frames are dropped at the link */

struct netdev;

struct netdev_ops {
    /* The guest sent a frame. Never blocks; a backend that cannot send it
     * now drops it (as a wire would). */
    void (*transmit)(struct netdev *nd, const uint8_t *frame, size_t len);
    /* The NIC can take frames again: offer what is queued. May be NULL. */
    void (*rx_ready)(struct netdev *nd);
    /* Releases nd itself. May be NULL. */
    void (*close)(struct netdev *nd);
};

/* Filled by the NIC when it attaches; opaque NULL means no card attached. */
struct netdev_nic {
    void *opaque;
    /* Take one frame for the guest: true when taken or dropped as the card
     * would; false when it must be offered again after rx_ready. */
    bool (*receive)(void *opaque, const uint8_t *frame, size_t len);
};

/* Packet capture: called for each frame crossing the link. */
struct net_tap {
    void (*frame)(struct net_tap *tap, bool to_guest, const uint8_t *frame, size_t len);
    struct net_tap *next;
};

struct netdev {
    const struct netdev_ops *ops;
    const char *id;                /* the -netdev id, for messages */
    struct netdev_nic nic;
    struct net_tap *taps;
};

static inline void netdev_tap(struct netdev *nd, bool to_guest, const uint8_t *frame, size_t len)
{
    for (struct net_tap *t = nd->taps; t; t = t->next)
        t->frame(t, to_guest, frame, len);
}

/* NIC -> backend. */
static inline void netdev_transmit(struct netdev *nd, const uint8_t *frame, size_t len)
{
    if (!nd || len > NET_MAX_FRAME)
        return;
    netdev_tap(nd, false, frame, len);
    if (nd->ops && nd->ops->transmit)
        nd->ops->transmit(nd, frame, len);
}

/* Backend -> NIC. With no card attached the frame is dropped (true). */
static inline bool netdev_deliver(struct netdev *nd, const uint8_t *frame, size_t len)
{
    if (!nd->nic.opaque || !nd->nic.receive || len > NET_MAX_FRAME)
        return true;
    if (!nd->nic.receive(nd->nic.opaque, frame, len))
        return false;
    netdev_tap(nd, true, frame, len);
    return true;
}

/* NIC -> backend: receive space was freed. */
static inline void netdev_rx_ready(struct netdev *nd)
{
    if (nd && nd->ops && nd->ops->rx_ready)
        nd->ops->rx_ready(nd);
}

#endif
