/* frontends/net_slirp.c: -netdev user through libslirp (contract in
 * net_slirp.h). */
#define _GNU_SOURCE
#include "frontends/net_slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <slirp/libslirp.h>

struct net_slirp_timer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms;              /* -1: not armed */
    struct net_slirp_timer *next;
};

struct net_slirp_frame {
    size_t len;
    uint8_t data[];
};

struct net_slirp {
    struct netdev nd;               /* first: the ops get it back with a cast */
    struct net_slirp_config cfg;
    Slirp *slirp;
    struct net_slirp_timer *timers;
    struct net_slirp_frame *queue[NET_SLIRP_QUEUE];   /* ring, oldest at queue_head */
    unsigned queue_head, queue_count;
    uint64_t dropped;
    /* this instance's slice of the poll array during net_slirp_wait */
    struct pollfd *fds;
    int fds_base, fds_count, fds_cap;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int64_t host_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- configuration ---- */

static struct in_addr addr_of(uint32_t host_order)
{
    return (struct in_addr){ .s_addr = htonl(host_order) };
}

void net_slirp_config_init(struct net_slirp_config *c, const char *id)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id ? id : "");
    c->net = addr_of(0x0A000200);     /* 10.0.2.0/24 */
    c->mask = addr_of(0xFFFFFF00);
}

static bool parse_ipv4(const char *text, struct in_addr *out)
{
    return inet_pton(AF_INET, text, out) == 1;
}

static int parse_port(const char *text, uint16_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || *end || errno || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* "ADDR:PORT" with ADDR possibly empty; text is modified. */
static int parse_addr_port(char *text, struct in_addr *addr, uint16_t *port)
{
    char *colon = strrchr(text, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    addr->s_addr = 0;
    if (text[0] && !parse_ipv4(text, addr))
        return -1;
    return parse_port(colon + 1, port);
}

int net_slirp_parse_hostfwd(const char *spec, struct net_hostfwd *out, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(spec) >= sizeof(buf))
        return fail(err, errlen, "hostfwd=%.40s...: too long", spec);
    snprintf(buf, sizeof(buf), "%s", spec);
    memset(out, 0, sizeof(*out));
    char *p = buf;
    /* QEMU: [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport; a rule
     * without the protocol ("::2222-:22" style) is tcp. */
    if (strncmp(p, "tcp:", 4) == 0) {
        p += 4;
    } else if (strncmp(p, "udp:", 4) == 0) {
        out->udp = true;
        p += 4;
    } else if (p[0] == ':') {
        p += 1;
    } else {
        goto bad;
    }
    char *dash = strchr(p, '-');
    if (!dash)
        goto bad;
    *dash = '\0';
    if (parse_addr_port(p, &out->host_addr, &out->host_port) != 0
        || parse_addr_port(dash + 1, &out->guest_addr, &out->guest_port) != 0)
        goto bad;
    return 0;
bad:
    return fail(err, errlen, "hostfwd=%s: expected [tcp|udp]:[HOSTADDR]:HOSTPORT-"
                "[GUESTADDR]:GUESTPORT (ports 1-65535)", spec);
}

/* net=ADDR, ADDR/BITS or ADDR/MASK */
static int parse_net(struct net_slirp_config *c, const char *value, char *err, size_t errlen)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", value);
    char *slash = strchr(buf, '/');
    uint32_t mask = 0xFFFFFF00;
    if (slash) {
        *slash = '\0';
        struct in_addr m;
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (*end == '\0' && end != slash + 1 && bits >= 1 && bits <= 30) {
            mask = 0xFFFFFFFFu << (32 - bits);
        } else if (parse_ipv4(slash + 1, &m)) {
            mask = ntohl(m.s_addr);
            if (mask == 0 || (~mask & (~mask + 1)) != 0 || (~mask) < 3)
                goto bad;
        } else {
            goto bad;
        }
    }
    struct in_addr a;
    if (!parse_ipv4(buf, &a))
        goto bad;
    c->net = addr_of(ntohl(a.s_addr) & mask);
    c->mask = addr_of(mask);
    return 0;
bad:
    return fail(err, errlen, "-netdev user: net=%s: expected ADDR[/BITS] or ADDR/MASK "
                "(e.g. 10.0.2.0/24)", value);
}

int net_slirp_config_set(struct net_slirp_config *c, const char *key, const char *value,
                         char *err, size_t errlen)
{
    if (strcmp(key, "net") == 0)
        return parse_net(c, value, err, errlen);
    struct in_addr *addr = strcmp(key, "host") == 0 ? &c->host
                         : strcmp(key, "dns") == 0 ? &c->dns
                         : strcmp(key, "dhcpstart") == 0 ? &c->dhcp_start : NULL;
    if (addr) {
        if (!parse_ipv4(value, addr))
            return fail(err, errlen, "-netdev user: %s=%s: not an IPv4 address", key, value);
        *(addr == &c->host ? &c->host_set : addr == &c->dns ? &c->dns_set : &c->dhcp_set) = true;
        return 0;
    }
    if (strcmp(key, "restrict") == 0) {
        if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "y") == 0)
            c->restricted = true;
        else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0 || strcmp(value, "n") == 0)
            c->restricted = false;
        else
            return fail(err, errlen, "-netdev user: restrict=%s: expected on or off", value);
        return 0;
    }
    if (strcmp(key, "hostfwd") == 0) {
        if (c->nfwd >= NET_SLIRP_MAX_HOSTFWD)
            return fail(err, errlen, "-netdev user: more than %d hostfwd rules",
                        NET_SLIRP_MAX_HOSTFWD);
        if (net_slirp_parse_hostfwd(value, &c->fwd[c->nfwd], err, errlen) != 0)
            return -1;
        c->nfwd++;
        return 0;
    }
    if (strcmp(key, "ipv4") == 0 && strcmp(value, "on") == 0)
        return 0;
    if (strcmp(key, "ipv6") == 0 && strcmp(value, "off") == 0)
        return 0;
    if (strcmp(key, "ipv4") == 0 || strcmp(key, "ipv6") == 0)
        return fail(err, errlen, "-netdev user: %s=%s is not supported (IPv4 only: ipv4=on, "
                    "ipv6=off)", key, value);
    return fail(err, errlen, "-netdev user: unknown property '%s' (net, host, dns, dhcpstart, "
                "restrict, hostfwd)", key);
}

int net_slirp_config_finish(struct net_slirp_config *c, char *err, size_t errlen)
{
    uint32_t net = ntohl(c->net.s_addr), mask = ntohl(c->mask.s_addr);
    if (!c->host_set)
        c->host = addr_of(net | 2);
    if (!c->dns_set)
        c->dns = addr_of(net | 3);
    if (!c->dhcp_set)
        c->dhcp_start = addr_of(net | 15);
    const struct { const char *name; struct in_addr a; } inside[] = {
        { "host", c->host }, { "dns", c->dns }, { "dhcpstart", c->dhcp_start } };
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        uint32_t a = ntohl(inside[i].a.s_addr);
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &inside[i].a, text, sizeof(text));
        if ((a & mask) != net || (a & ~mask) == 0 || (a & ~mask) == ~mask)
            return fail(err, errlen, "-netdev user: %s=%s is not a host address of the guest "
                        "network", inside[i].name, text);
    }
    return 0;
}

/* ---- the receive queue ---- */

static bool queue_push(struct net_slirp *ns, const uint8_t *frame, size_t len)
{
    struct net_slirp_frame *f = malloc(sizeof(*f) + len);
    if (!f)
        return false;
    f->len = len;
    memcpy(f->data, frame, len);
    if (ns->queue_count == NET_SLIRP_QUEUE) {   /* full: the oldest goes */
        free(ns->queue[ns->queue_head]);
        ns->queue_head = (ns->queue_head + 1) % NET_SLIRP_QUEUE;
        ns->queue_count--;
        ns->dropped++;
    }
    ns->queue[(ns->queue_head + ns->queue_count) % NET_SLIRP_QUEUE] = f;
    ns->queue_count++;
    return true;
}

/* Offer queued frames, oldest first, until the NIC says no. */
static void queue_flush(struct net_slirp *ns)
{
    while (ns->queue_count) {
        struct net_slirp_frame *f = ns->queue[ns->queue_head];
        if (!netdev_deliver(&ns->nd, f->data, f->len))
            return;
        free(f);
        ns->queue_head = (ns->queue_head + 1) % NET_SLIRP_QUEUE;
        ns->queue_count--;
    }
}

/* ---- slirp callbacks ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *ns = opaque;
    /* behind queued frames it waits its turn, so the guest sees them in order */
    if (ns->queue_count == 0 && netdev_deliver(&ns->nd, buf, len))
        return (ssize_t)len;
    if (!queue_push(ns, buf, len))
        ns->dropped++;
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    /* the guest's own mistakes (bad packets): not the host user's concern */
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return host_clock_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct net_slirp *ns = opaque;
    struct net_slirp_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    *t = (struct net_slirp_timer){ .cb = cb, .cb_opaque = cb_opaque, .expire_ms = -1,
                                   .next = ns->timers };
    ns->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct net_slirp *ns = opaque;
    for (struct net_slirp_timer **p = &ns->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = (*p)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    if (timer)
        ((struct net_slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_poll_fd(int fd, void *opaque)
{
    /* the fds are collected afresh by slirp_pollfds_fill before every poll */
}

static void cb_notify(void *opaque)
{
}

static const SlirpCb net_slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_poll_fd,
    .unregister_poll_fd = cb_poll_fd,
    .notify = cb_notify,
};

/* ---- netdev ops ---- */

static void nd_transmit(struct netdev *nd, const uint8_t *frame, size_t len)
{
    struct net_slirp *ns = (struct net_slirp *)nd;
    slirp_input(ns->slirp, frame, (int)len);
}

static void nd_rx_ready(struct netdev *nd)
{
    queue_flush((struct net_slirp *)nd);
}

static void nd_close(struct netdev *nd)
{
    net_slirp_close((struct net_slirp *)nd);
}

static const struct netdev_ops net_slirp_ops = {
    .transmit = nd_transmit,
    .rx_ready = nd_rx_ready,
    .close = nd_close,
};

struct net_slirp *net_slirp_create(const struct net_slirp_config *c, char *err, size_t errlen)
{
    struct net_slirp *ns = calloc(1, sizeof(*ns));
    if (!ns) {
        fail(err, errlen, "out of host memory");
        return NULL;
    }
    ns->cfg = *c;
    ns->nd.ops = &net_slirp_ops;
    ns->nd.id = ns->cfg.id;
    SlirpConfig sc = {
        .version = 3,
        .restricted = c->restricted,
        .in_enabled = true,
        .vnetwork = c->net,
        .vnetmask = c->mask,
        .vhost = c->host,
        .in6_enabled = false,
        .vdhcp_start = c->dhcp_start,
        .vnameserver = c->dns,
    };
    ns->slirp = slirp_new(&sc, &net_slirp_callbacks, ns);
    if (!ns->slirp) {
        fail(err, errlen, "-netdev user,id=%s: libslirp refused the configuration", c->id);
        net_slirp_close(ns);
        return NULL;
    }
    for (int i = 0; i < c->nfwd; i++) {
        const struct net_hostfwd *f = &c->fwd[i];
        struct in_addr guest = f->guest_addr.s_addr ? f->guest_addr : c->dhcp_start;
        if (slirp_add_hostfwd(ns->slirp, f->udp, f->host_addr, f->host_port, guest,
                              f->guest_port) != 0) {
            char host[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
            fail(err, errlen, "-netdev user,id=%s: hostfwd: cannot listen on %s %s:%u (port "
                 "already in use, or not an address of this host)", c->id,
                 f->udp ? "udp" : "tcp", host, f->host_port);
            net_slirp_close(ns);
            return NULL;
        }
    }
    return ns;
}

struct netdev *net_slirp_netdev(struct net_slirp *ns)
{
    return &ns->nd;
}

uint64_t net_slirp_dropped(const struct net_slirp *ns)
{
    return ns->dropped;
}

void net_slirp_close(struct net_slirp *ns)
{
    if (!ns)
        return;
    if (ns->slirp)
        slirp_cleanup(ns->slirp);   /* frees its timers through cb_timer_free */
    while (ns->timers) {
        struct net_slirp_timer *t = ns->timers;
        ns->timers = t->next;
        free(t);
    }
    for (unsigned i = 0; i < ns->queue_count; i++)
        free(ns->queue[(ns->queue_head + i) % NET_SLIRP_QUEUE]);
    free(ns->fds);
    free(ns);
}

/* ---- the poll loop ---- */

static int add_poll(int fd, int events, void *opaque)
{
    struct net_slirp *ns = opaque;
    if (ns->fds_count == ns->fds_cap) {
        int cap = ns->fds_cap ? ns->fds_cap * 2 : 16;
        struct pollfd *grown = realloc(ns->fds, (size_t)cap * sizeof(*grown));
        if (!grown)
            return -1;   /* this socket waits for the next round */
        ns->fds = grown;
        ns->fds_cap = cap;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN)  ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    ns->fds[ns->fds_count] = (struct pollfd){ .fd = fd, .events = ev };
    return ns->fds_count++;
}

static int get_revents(int idx, void *opaque)
{
    struct net_slirp *ns = opaque;
    if (idx < 0 || idx >= ns->fds_count)
        return 0;
    short re = ns->fds[idx].revents;
    int out = 0;
    if (re & POLLIN)   out |= SLIRP_POLL_IN;
    if (re & POLLOUT)  out |= SLIRP_POLL_OUT;
    if (re & POLLPRI)  out |= SLIRP_POLL_PRI;
    if (re & POLLERR)  out |= SLIRP_POLL_ERR;
    if (re & POLLHUP)  out |= SLIRP_POLL_HUP;
    return out;
}

static void run_timers(struct net_slirp *ns)
{
    int64_t now_ms = host_clock_ns() / 1000000;
    bool fired;
    do {   /* a callback may free or re-arm timers: restart the walk after each */
        fired = false;
        for (struct net_slirp_timer *t = ns->timers; t; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
                t->expire_ms = -1;
                t->cb(t->cb_opaque);
                fired = true;
                break;
            }
        }
    } while (fired);
}

void net_slirp_wait(struct net_slirp *const *list, int n, uint64_t timeout_ns)
{
    uint32_t timeout_ms = UINT32_MAX;   /* lowered by slirp's TCP timers and ours */
    int64_t now_ms = host_clock_ns() / 1000000;
    int total = 0;
    for (int i = 0; i < n; i++) {
        struct net_slirp *ns = list[i];
        ns->fds_count = 0;
        slirp_pollfds_fill(ns->slirp, &timeout_ms, add_poll, ns);
        for (struct net_slirp_timer *t = ns->timers; t; t = t->next)
            if (t->expire_ms >= 0)
                timeout_ms = t->expire_ms <= now_ms ? 0
                           : (uint32_t)(t->expire_ms - now_ms) < timeout_ms
                           ? (uint32_t)(t->expire_ms - now_ms) : timeout_ms;
        total += ns->fds_count;
    }
    /* one poll over every instance's sockets */
    struct pollfd stack_fds[64];
    struct pollfd *all = total <= 64 ? stack_fds : malloc((size_t)total * sizeof(*all));
    int rc = -1;
    if (all) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            list[i]->fds_base = k;
            if (list[i]->fds_count)     /* fds is NULL until slirp asks for one */
                memcpy(all + k, list[i]->fds, (size_t)list[i]->fds_count * sizeof(*all));
            k += list[i]->fds_count;
        }
        /* ppoll: the idle wait is often below a millisecond */
        uint64_t wait_ns = timeout_ns;
        if ((uint64_t)timeout_ms * 1000000u < wait_ns)
            wait_ns = (uint64_t)timeout_ms * 1000000u;
        struct timespec ts = { (time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u) };
        rc = ppoll(all, (nfds_t)total, &ts, NULL);
        for (int i = 0; i < n; i++)
            if (list[i]->fds_count)
                memcpy(list[i]->fds, all + list[i]->fds_base,
                       (size_t)list[i]->fds_count * sizeof(*all));
        if (all != stack_fds)
            free(all);
    }
    bool failed = rc < 0 && errno != EINTR;
    for (int i = 0; i < n; i++) {
        struct net_slirp *ns = list[i];
        if (rc < 0)
            for (int j = 0; j < ns->fds_count; j++)
                ns->fds[j].revents = 0;
        slirp_pollfds_poll(ns->slirp, failed, get_revents, ns);
        run_timers(ns);
        queue_flush(ns);
    }
}
