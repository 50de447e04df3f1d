/* frontends/net_pcap.h: -object filter-dump, a packet capture tap
 * (core/net.h struct net_tap) writing a classic pcap file: little-endian
 * header 0xa1b2c3d4 v2.4, LINKTYPE_ETHERNET, microsecond host timestamps
 * (real time), snaplen 65535 (longer frames are cut, their full length
 * kept in the record). Every record is flushed as it is written, so
 * tshark/Wireshark can read the file while fox86 runs and after any exit.
 *
 * Usage:
 *   struct net_pcap *pc = net_pcap_open("n0.pcap", err, sizeof err);  // NULL: err
 *   net_pcap_attach(pc, nd);          // nd: the struct netdev to watch
 *   ...
 *   net_pcap_close(pc);               // after the netdev stops passing frames
 */
#ifndef FOX86_NET_PCAP_H
#define FOX86_NET_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/net.h"

#define NET_PCAP_SNAPLEN 65535u

struct net_pcap;

struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen);
/* Adds the tap to nd's list (one netdev per capture). */
void net_pcap_attach(struct net_pcap *pc, struct netdev *nd);
/* The tap itself, for callers that manage nd->taps themselves (tests). */
struct net_tap *net_pcap_tap(struct net_pcap *pc);
/* Records written (frames seen). */
uint64_t net_pcap_frames(const struct net_pcap *pc);
void net_pcap_close(struct net_pcap *pc);

#endif
