/* frontends/net_slirp.h: -netdev user, a struct netdev (core/net.h) backed
 * by libslirp: the guest gets a private IPv4 network (QEMU's defaults:
 * 10.0.2.0/24, gateway and host 10.0.2.2, DNS 10.0.2.3, DHCP from
 * 10.0.2.15), reaches the outside and the host's loopback through the
 * gateway address, and is reached through hostfwd rules.
 *
 * Frames from the guest go straight to slirp_input. Frames from slirp go to
 * the NIC with netdev_deliver; when it says no they wait, in order, in a
 * queue of NET_SLIRP_QUEUE frames (the oldest is dropped when full; TCP
 * retransmits) that rx_ready offers again.
 *
 * slirp does nothing by itself: net_slirp_wait() polls its sockets (and
 * those of every other instance given) and runs its timers. The session
 * calls it with timeout 0 between CPU slices (at most every ~1 ms) and
 * with the idle timeout while the guest is halted, so a packet from the
 * host wakes the guest at once.
 *
 * Configuration: net_slirp_config_init (QEMU's defaults), then
 * net_slirp_config_set for each -netdev user property, then
 * net_slirp_config_finish (defaults derived from net=, checks). The
 * command-line parser uses the same three, so every property error is the
 * same one line wherever it comes from.
 *
 * Usage:
 *   struct net_slirp_config c;
 *   net_slirp_config_init(&c, "n0");
 *   if (net_slirp_config_set(&c, "hostfwd", "tcp:127.0.0.1:2222-:22", err, n) != 0 ||
 *       net_slirp_config_finish(&c, err, n) != 0) fail(err);
 *   struct net_slirp *ns = net_slirp_create(&c, err, n);  // NULL: err says why
 *   struct netdev *nd = net_slirp_netdev(ns);              // give it to a NIC
 *   net_slirp_wait(&ns, 1, 10000000);                       // from the main loop
 *   net_slirp_close(ns);
 */
#ifndef FOX86_NET_SLIRP_H
#define FOX86_NET_SLIRP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net.h"

#define NET_SLIRP_MAX_HOSTFWD 8
#define NET_SLIRP_QUEUE       64    /* frames held while the NIC has no room */
#define NET_SLIRP_ID_MAX      32

struct net_hostfwd {
    bool     udp;
    struct in_addr host_addr;       /* INADDR_ANY when the rule leaves it empty (as QEMU) */
    uint16_t host_port;
    struct in_addr guest_addr;      /* 0: the first DHCP address */
    uint16_t guest_port;
};

struct net_slirp_config {
    char id[NET_SLIRP_ID_MAX];
    struct in_addr net, mask;       /* the guest network */
    struct in_addr host;            /* the gateway / host address */
    struct in_addr dns;             /* slirp's DNS forwarder */
    struct in_addr dhcp_start;      /* first DHCP address */
    bool host_set, dns_set, dhcp_set;   /* given explicitly (else derived from net) */
    bool restricted;                /* restrict=on: the guest reaches only hostfwd peers */
    struct net_hostfwd fwd[NET_SLIRP_MAX_HOSTFWD];
    int nfwd;
};

/* QEMU's defaults; id is copied (truncated to NET_SLIRP_ID_MAX - 1). */
void net_slirp_config_init(struct net_slirp_config *c, const char *id);
/* One property: net=ADDR[/MASK|/BITS], host=, dns=, dhcpstart=,
 * restrict=on|off, hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT,
 * ipv4=on, ipv6=off (accepted; fox86 gives the guest IPv4 only).
 * Returns 0, or -1 with one line in err. */
int  net_slirp_config_set(struct net_slirp_config *c, const char *key, const char *value,
                          char *err, size_t errlen);
/* Fills the derived addresses and checks they lie in the network. */
int  net_slirp_config_finish(struct net_slirp_config *c, char *err, size_t errlen);
/* Parses one hostfwd rule (exposed for the tests). */
int  net_slirp_parse_hostfwd(const char *spec, struct net_hostfwd *out, char *err, size_t errlen);

struct net_slirp;
/* Starts slirp and opens the hostfwd listening sockets. NULL with one line
 * in err (a host port in use is named). */
struct net_slirp *net_slirp_create(const struct net_slirp_config *c, char *err, size_t errlen);
struct netdev *net_slirp_netdev(struct net_slirp *ns);
/* Polls the sockets of all n instances for at most timeout_ns of host time
 * (0: just look), then lets slirp read and write them, runs due timers and
 * offers queued frames. Returns early as soon as a socket is ready. */
void net_slirp_wait(struct net_slirp *const *list, int n, uint64_t timeout_ns);
/* Frames dropped because the queue was full (a counter for tests and stats). */
uint64_t net_slirp_dropped(const struct net_slirp *ns);
void net_slirp_close(struct net_slirp *ns);

#endif
