/* tests/unit/test_net_slirp.c: the libslirp backend (frontends/net_slirp.c)
 * alone, with a fake NIC that records what slirp sends the guest: DHCP
 * offer, ARP reply, a host connection through hostfwd arriving as a SYN,
 * restrict=on keeping the guest away from the host's loopback (and the
 * same SYN getting through without it), UDP to the host's loopback and back, a busy host port, the queue
 * when the NIC refuses frames, and the hostfwd/net property parser. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frontends/net_slirp.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define GUEST_IP 0x0A00020Fu   /* 10.0.2.15 */
#define HOST_IP  0x0A000202u   /* 10.0.2.2 */

/* ---- the fake NIC ---- */

#define MAX_SEEN 64
struct fake_nic {
    uint8_t frames[MAX_SEEN][2048];
    size_t  lens[MAX_SEEN];
    int     count;
    bool    refuse;                 /* say "no room" */
};

static bool fake_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct fake_nic *nic = opaque;
    if (nic->refuse)
        return false;
    if (nic->count < MAX_SEEN && len <= sizeof nic->frames[0]) {
        memcpy(nic->frames[nic->count], frame, len);
        nic->lens[nic->count++] = len;
    }
    return true;
}

static struct net_slirp *start(struct net_slirp_config *c, struct fake_nic *nic)
{
    char err[256] = "";
    ck_assert_int_eq(net_slirp_config_finish(c, err, sizeof err), 0);
    struct net_slirp *ns = net_slirp_create(c, err, sizeof err);
    ck_assert_msg(ns, "create failed: %s", err);
    net_slirp_netdev(ns)->nic = (struct netdev_nic){ .opaque = nic, .receive = fake_receive };
    return ns;
}

/* ---- frame building ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

static size_t ether(uint8_t *f, const uint8_t *dst, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, type);
    return 14;
}

/* IPv4 header at f + 14 around payload_len bytes of protocol proto. */
static void ipv4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, size_t payload_len)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + payload_len));
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, fold(sum_words(0, ip, 20)));
}

static uint16_t l4_checksum(uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *seg, size_t len)
{
    uint8_t pseudo[12];
    put32(pseudo, src);
    put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = proto;
    put16(pseudo + 10, (uint16_t)len);
    return fold(sum_words(sum_words(0, pseudo, 12), seg, len));
}

static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static size_t dhcp_discover(uint8_t *f)
{
    size_t n = ether(f, broadcast, 0x0800);
    uint8_t *ip = f + n, *udp = ip + 20, *bootp = udp + 8;
    memset(bootp, 0, 300);
    bootp[0] = 1;                   /* BOOTREQUEST */
    bootp[1] = 1;                   /* Ethernet */
    bootp[2] = 6;
    put32(bootp + 4, 0xCAFEF00D);   /* xid */
    memcpy(bootp + 28, guest_mac, 6);
    put32(bootp + 236, 0x63825363); /* magic cookie */
    uint8_t *opt = bootp + 240;
    *opt++ = 53; *opt++ = 1; *opt++ = 1;   /* DHCPDISCOVER */
    *opt++ = 255;
    size_t bootp_len = 300;
    put16(udp, 68);
    put16(udp + 2, 67);
    put16(udp + 4, (uint16_t)(8 + bootp_len));
    put16(udp + 6, 0);              /* no checksum */
    ipv4(ip, 17, 0, 0xFFFFFFFFu, 8 + bootp_len);
    return n + 20 + 8 + bootp_len;
}

static size_t arp_request(uint8_t *f, uint32_t sender_ip, uint32_t target_ip)
{
    size_t n = ether(f, broadcast, 0x0806);
    uint8_t *a = f + n;
    put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, 1);
    memcpy(a + 8, guest_mac, 6);
    put32(a + 14, sender_ip);
    memset(a + 18, 0, 6);
    put32(a + 24, target_ip);
    return n + 28;
}

static size_t tcp_syn(uint8_t *f, const uint8_t *dst_mac, uint32_t dst_ip, uint16_t dport)
{
    size_t n = ether(f, dst_mac, 0x0800);
    uint8_t *ip = f + n, *tcp = ip + 20;
    memset(tcp, 0, 20);
    put16(tcp, 40000);
    put16(tcp + 2, dport);
    put32(tcp + 4, 1000);
    tcp[12] = 5 << 4;
    tcp[13] = 0x02;                 /* SYN */
    put16(tcp + 14, 65535);
    put16(tcp + 16, l4_checksum(GUEST_IP, dst_ip, 6, tcp, 20));
    ipv4(ip, 6, GUEST_IP, dst_ip, 20);
    return n + 40;
}

/* ---- helpers ---- */

static void pump(struct net_slirp *ns, int rounds)
{
    for (int i = 0; i < rounds; i++)
        net_slirp_wait(&ns, 1, 5 * 1000 * 1000);
}

static void guest_send(struct net_slirp *ns, const uint8_t *f, size_t len)
{
    netdev_transmit(net_slirp_netdev(ns), f, len);
}

/* The first recorded frame that matches, or -1. */
static int find_frame(const struct fake_nic *nic, bool (*match)(const uint8_t *f, size_t len))
{
    for (int i = 0; i < nic->count; i++)
        if (match(nic->frames[i], nic->lens[i]))
            return i;
    return -1;
}

/* A free TCP port on 127.0.0.1, and optionally a socket listening on it. */
static uint16_t loopback_port(int *listener)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    if (listener) {
        ck_assert_int_eq(listen(fd, 4), 0);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        *listener = fd;
    } else {
        close(fd);
    }
    return ntohs(a.sin_port);
}

/* ---- tests ---- */

static bool is_dhcp_offer(const uint8_t *f, size_t len)
{
    if (len < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[23] != 17)
        return false;
    const uint8_t *udp = f + 14 + (f[14] & 15) * 4, *bootp = udp + 8;
    if (get16(udp) != 67 || get16(udp + 2) != 68 || bootp[0] != 2 || get32(bootp + 4) != 0xCAFEF00D)
        return false;
    for (const uint8_t *o = bootp + 240; o < f + len && *o != 255; o += o[0] ? 2 + o[1] : 1)
        if (o[0] == 53 && o[1] == 1)
            return o[2] == 2;     /* DHCPOFFER */
    return false;
}

START_TEST(dhcp_offer)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    struct net_slirp *ns = start(&c, &nic);
    uint8_t f[1514];
    guest_send(ns, f, dhcp_discover(f));
    pump(ns, 2);
    int i = find_frame(&nic, is_dhcp_offer);
    ck_assert_msg(i >= 0, "no DHCPOFFER among %d frames", nic.count);
    const uint8_t *o = nic.frames[i], *bootp = o + 14 + 20 + 8;
    ck_assert_int_eq(get32(o + 14 + 12), HOST_IP);      /* IP source: the gateway */
    ck_assert_int_eq(get32(bootp + 16), GUEST_IP);      /* yiaddr */
    bool server_id = false, router = false, dns = false;
    for (const uint8_t *p = bootp + 240; p < o + nic.lens[i] && *p != 255; p += p[0] ? 2 + p[1] : 1) {
        if (p[0] == 54) server_id = get32(p + 2) == HOST_IP;
        if (p[0] == 3)  router = get32(p + 2) == HOST_IP;
        if (p[0] == 6)  dns = get32(p + 2) == 0x0A000203u;
    }
    ck_assert(server_id && router && dns);
    net_slirp_close(ns);
}
END_TEST

static bool is_arp_reply_for_gateway(const uint8_t *f, size_t len)
{
    return len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2
        && get32(f + 28) == HOST_IP && get32(f + 38) == GUEST_IP
        && memcmp(f, guest_mac, 6) == 0 && memcmp(f + 32, guest_mac, 6) == 0;
}

START_TEST(arp_gateway)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    struct net_slirp *ns = start(&c, &nic);
    uint8_t f[64];
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    pump(ns, 1);
    ck_assert_int_ge(find_frame(&nic, is_arp_reply_for_gateway), 0);
    net_slirp_close(ns);
}
END_TEST

static uint16_t syn_port;
static bool is_syn_to_guest(const uint8_t *f, size_t len)
{
    if (len < 54 || get16(f + 12) != 0x0800 || f[23] != 6 || get32(f + 30) != GUEST_IP)
        return false;
    const uint8_t *tcp = f + 14 + (f[14] & 15) * 4;
    return memcmp(f, guest_mac, 6) == 0 && get16(tcp + 2) == syn_port
        && (tcp[13] & 0x12) == 0x02;
}

/* Inbound through hostfwd works with and without restrict=on (as QEMU). */
START_TEST(hostfwd_connect)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    uint16_t port = loopback_port(NULL);
    char rule[64], err[256] = "";
    snprintf(rule, sizeof rule, "tcp:127.0.0.1:%u-:2222", port);
    ck_assert_int_eq(net_slirp_config_set(&c, "hostfwd", rule, err, sizeof err), 0);
    ck_assert_int_eq(net_slirp_config_set(&c, "restrict", _i ? "on" : "off", err, sizeof err), 0);
    struct net_slirp *ns = start(&c, &nic);
    uint8_t f[64];
    /* slirp learns the guest's MAC from its ARP traffic */
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    pump(ns, 1);

    int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(cl, (struct sockaddr *)&a, sizeof a);
    ck_assert(rc == 0 || errno == EINPROGRESS);
    syn_port = 2222;
    for (int i = 0; i < 100 && find_frame(&nic, is_syn_to_guest) < 0; i++)
        pump(ns, 1);
    ck_assert_msg(find_frame(&nic, is_syn_to_guest) >= 0, "no SYN to 10.0.2.15:2222 among %d "
                  "frames", nic.count);
    close(cl);
    net_slirp_close(ns);
}
END_TEST

static bool is_syn_ack_to_guest(const uint8_t *f, size_t len)
{
    if (len < 54 || get16(f + 12) != 0x0800 || f[23] != 6 || get32(f + 30) != GUEST_IP)
        return false;
    const uint8_t *tcp = f + 14 + (f[14] & 15) * 4;
    return get16(tcp + 2) == 40000 && (tcp[13] & 0x12) == 0x12;
}

/* A guest SYN to 10.0.2.2:PORT; whether the test's listener on
 * 127.0.0.1:PORT sees a connection. */
static bool guest_reaches_host(bool restricted)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    char err[256];
    net_slirp_config_init(&c, "n0");
    ck_assert_int_eq(net_slirp_config_set(&c, "restrict", restricted ? "on" : "off", err,
                                          sizeof err), 0);
    struct net_slirp *ns = start(&c, &nic);
    int listener;
    uint16_t port = loopback_port(&listener);
    uint8_t f[128];
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    pump(ns, 1);
    int arp = find_frame(&nic, is_arp_reply_for_gateway);
    ck_assert_int_ge(arp, 0);
    const uint8_t *gw_mac = nic.frames[arp] + 22;
    guest_send(ns, f, tcp_syn(f, gw_mac, HOST_IP, port));
    int conn = -1;
    for (int i = 0; i < 40 && conn < 0; i++) {
        pump(ns, 1);
        conn = accept(listener, NULL, NULL);
    }
    if (conn >= 0) {
        /* the connection reached the guest as a SYN-ACK too */
        for (int i = 0; i < 20 && find_frame(&nic, is_syn_ack_to_guest) < 0; i++)
            pump(ns, 1);
        ck_assert_int_ge(find_frame(&nic, is_syn_ack_to_guest), 0);
        close(conn);
    }
    close(listener);
    net_slirp_close(ns);
    return conn >= 0;
}

START_TEST(restrict_on)
{
    ck_assert_msg(guest_reaches_host(false), "the unrestricted guest should reach the host");
    ck_assert_msg(!guest_reaches_host(true), "restrict=on let the guest reach the host");
}
END_TEST

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The halted guest's wait: it sleeps the whole timeout when nothing
 * happens, and ends at once when a host peer connects. */
START_TEST(wait_wakes_on_host_activity)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    uint16_t port = loopback_port(NULL);
    char rule[64], err[256] = "";
    snprintf(rule, sizeof rule, "tcp:127.0.0.1:%u-:2323", port);
    ck_assert_int_eq(net_slirp_config_set(&c, "hostfwd", rule, err, sizeof err), 0);
    struct net_slirp *ns = start(&c, &nic);
    uint8_t f[64];
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    pump(ns, 1);

    double t0 = now_s();
    net_slirp_wait(&ns, 1, 50 * 1000 * 1000);
    double idle = now_s() - t0;
    ck_assert_msg(idle >= 0.045, "an idle wait of 50 ms took %.3f s", idle);

    int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(cl, (struct sockaddr *)&a, sizeof a);
    ck_assert(rc == 0 || errno == EINPROGRESS);
    syn_port = 2323;
    t0 = now_s();
    for (int i = 0; i < 3 && find_frame(&nic, is_syn_to_guest) < 0; i++)
        net_slirp_wait(&ns, 1, 2000000000u);
    double woke = now_s() - t0;
    ck_assert_int_ge(find_frame(&nic, is_syn_to_guest), 0);
    ck_assert_msg(woke < 0.2, "the connection took %.3f s to reach the guest", woke);
    close(cl);
    net_slirp_close(ns);
}
END_TEST

static bool is_udp_reply_to_guest(const uint8_t *f, size_t len)
{
    if (len < 42 + 5 || get16(f + 12) != 0x0800 || f[23] != 17 || get32(f + 30) != GUEST_IP
        || get32(f + 26) != HOST_IP)
        return false;
    const uint8_t *udp = f + 14 + (f[14] & 15) * 4;
    return get16(udp + 2) == 40001 && memcmp(udp + 8, "pong!", 5) == 0;
}

/* Outbound UDP: a datagram to 10.0.2.2:PORT reaches the host's 127.0.0.1:PORT,
 * and the answer comes back to the guest from 10.0.2.2:PORT. */
START_TEST(udp_to_host_loopback)
{
    struct fake_nic nic = { 0 };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    struct net_slirp *ns = start(&c, &nic);
    int us = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(us, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(us, (struct sockaddr *)&a, &alen), 0);
    uint16_t port = ntohs(a.sin_port);

    uint8_t f[128];
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    pump(ns, 1);
    int arp = find_frame(&nic, is_arp_reply_for_gateway);
    ck_assert_int_ge(arp, 0);
    size_t n = ether(f, nic.frames[arp] + 22, 0x0800);
    uint8_t *ip = f + n, *udp = ip + 20;
    put16(udp, 40001);
    put16(udp + 2, port);
    put16(udp + 4, 8 + 5);
    put16(udp + 6, 0);
    memcpy(udp + 8, "ping!", 5);
    put16(udp + 6, l4_checksum(GUEST_IP, HOST_IP, 17, udp, 13));
    ipv4(ip, 17, GUEST_IP, HOST_IP, 13);
    guest_send(ns, f, n + 20 + 13);

    char buf[16];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t got = -1;
    for (int i = 0; i < 40 && got < 0; i++) {
        pump(ns, 1);
        got = recvfrom(us, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    }
    ck_assert_int_eq(got, 5);
    ck_assert(memcmp(buf, "ping!", 5) == 0);
    ck_assert_int_eq(sendto(us, "pong!", 5, 0, (struct sockaddr *)&from, flen), 5);
    for (int i = 0; i < 40 && find_frame(&nic, is_udp_reply_to_guest) < 0; i++)
        pump(ns, 1);
    ck_assert_int_ge(find_frame(&nic, is_udp_reply_to_guest), 0);
    close(us);
    net_slirp_close(ns);
}
END_TEST

START_TEST(hostfwd_port_in_use)
{
    int listener;
    uint16_t port = loopback_port(&listener);
    struct net_slirp_config c;
    char rule[64], err[256] = "", portname[16];
    net_slirp_config_init(&c, "n0");
    snprintf(rule, sizeof rule, "tcp:127.0.0.1:%u-:22", port);
    ck_assert_int_eq(net_slirp_config_set(&c, "hostfwd", rule, err, sizeof err), 0);
    ck_assert_int_eq(net_slirp_config_finish(&c, err, sizeof err), 0);
    ck_assert_ptr_null(net_slirp_create(&c, err, sizeof err));
    snprintf(portname, sizeof portname, ":%u", port);
    ck_assert_msg(strstr(err, portname) && strstr(err, "in use") && !strchr(err, '\n'),
                  "error: %s", err);
    close(listener);
}
END_TEST

/* The NIC refuses: frames wait, in order, and come after rx_ready. */
START_TEST(queue_until_rx_ready)
{
    struct fake_nic nic = { .refuse = true };
    struct net_slirp_config c;
    net_slirp_config_init(&c, "n0");
    struct net_slirp *ns = start(&c, &nic);
    uint8_t f[1514];
    guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    guest_send(ns, f, dhcp_discover(f));
    pump(ns, 1);
    ck_assert_int_eq(nic.count, 0);
    nic.refuse = false;
    netdev_rx_ready(net_slirp_netdev(ns));
    ck_assert_int_eq(nic.count, 2);
    ck_assert(is_arp_reply_for_gateway(nic.frames[0], nic.lens[0]));
    ck_assert(is_dhcp_offer(nic.frames[1], nic.lens[1]));
    /* more than the queue holds: the oldest are dropped */
    nic.refuse = true;
    for (int i = 0; i < NET_SLIRP_QUEUE + 5; i++)
        guest_send(ns, f, arp_request(f, GUEST_IP, HOST_IP));
    ck_assert_uint_eq(net_slirp_dropped(ns), 5);
    nic.refuse = false;
    nic.count = 0;
    netdev_rx_ready(net_slirp_netdev(ns));
    ck_assert_int_eq(nic.count, NET_SLIRP_QUEUE);
    net_slirp_close(ns);
}
END_TEST

START_TEST(config_parsing)
{
    struct net_hostfwd h;
    char err[256];
    ck_assert_int_eq(net_slirp_parse_hostfwd("tcp:127.0.0.1:5555-:22", &h, err, sizeof err), 0);
    ck_assert(!h.udp && h.host_port == 5555 && h.guest_port == 22);
    ck_assert_int_eq(ntohl(h.host_addr.s_addr), 0x7F000001);
    ck_assert_int_eq(h.guest_addr.s_addr, 0);
    ck_assert_int_eq(net_slirp_parse_hostfwd("udp::6000-10.0.2.20:53", &h, err, sizeof err), 0);
    ck_assert(h.udp && h.host_addr.s_addr == 0 && h.host_port == 6000 && h.guest_port == 53);
    ck_assert_int_eq(ntohl(h.guest_addr.s_addr), 0x0A000214);
    ck_assert_int_eq(net_slirp_parse_hostfwd("::2222-:22", &h, err, sizeof err), 0);
    ck_assert(!h.udp && h.host_port == 2222);
    const char *bad[] = { "tcp:127.0.0.1:5555", "sctp::1-:2", "tcp::0-:22", "tcp::70000-:22",
                          "tcp:1.2.3:5-:6", "tcp::5-:x", "", "tcp::5-:22junk" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(net_slirp_parse_hostfwd(bad[i], &h, err, sizeof err) == -1, "%s", bad[i]);
        ck_assert(strstr(err, "hostfwd=") && !strchr(err, '\n'));
    }

    struct net_slirp_config c;
    net_slirp_config_init(&c, "n1");
    ck_assert_int_eq(net_slirp_config_set(&c, "net", "192.168.76.0/24", err, sizeof err), 0);
    ck_assert_int_eq(net_slirp_config_set(&c, "dns", "192.168.76.9", err, sizeof err), 0);
    ck_assert_int_eq(net_slirp_config_finish(&c, err, sizeof err), 0);
    ck_assert_int_eq(ntohl(c.host.s_addr), 0xC0A84C02);
    ck_assert_int_eq(ntohl(c.dns.s_addr), 0xC0A84C09);
    ck_assert_int_eq(ntohl(c.dhcp_start.s_addr), 0xC0A84C0F);
    net_slirp_config_init(&c, "n1");
    ck_assert_int_eq(net_slirp_config_set(&c, "net", "10.9.0.0/255.255.0.0", err, sizeof err), 0);
    ck_assert_int_eq(ntohl(c.mask.s_addr), 0xFFFF0000);
    ck_assert_int_eq(net_slirp_config_set(&c, "dns", "10.0.2.3", err, sizeof err), 0);
    ck_assert_int_eq(net_slirp_config_finish(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "dns=10.0.2.3"));
    ck_assert_int_eq(net_slirp_config_set(&c, "net", "10.0.2.0/33", err, sizeof err), -1);
    ck_assert_int_eq(net_slirp_config_set(&c, "net", "10.0.2.0/255.0.255.0", err, sizeof err), -1);
    ck_assert_int_eq(net_slirp_config_set(&c, "restrict", "maybe", err, sizeof err), -1);
    ck_assert_int_eq(net_slirp_config_set(&c, "smb", "/tmp", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown property 'smb'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net_slirp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, dhcp_offer);
    tcase_add_test(tc, arp_gateway);
    tcase_add_loop_test(tc, hostfwd_connect, 0, 2);
    tcase_add_test(tc, restrict_on);
    tcase_add_test(tc, hostfwd_port_in_use);
    tcase_add_test(tc, udp_to_host_loopback);
    tcase_add_test(tc, wait_wakes_on_host_activity);
    tcase_add_test(tc, queue_until_rx_ready);
    tcase_add_test(tc, config_parsing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
