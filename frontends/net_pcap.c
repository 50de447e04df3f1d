/* frontends/net_pcap.c: classic pcap writer for -object filter-dump
 * (contract in net_pcap.h). */
#include "frontends/net_pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct net_pcap {
    struct net_tap tap;            /* first: the callback gets it back with a cast */
    FILE *file;
    char *path;                    /* for the one write-error message */
    uint64_t frames;
    bool write_failed;             /* reported once, then the capture stops */
};

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Writes the pieces and flushes; the first failure is reported once and
 * stops the capture (the file stays valid up to the last whole record). */
static void pcap_write(struct net_pcap *pc, const void *a, size_t alen, const void *b, size_t blen)
{
    if (pc->write_failed)
        return;
    if (fwrite(a, 1, alen, pc->file) != alen || (blen && fwrite(b, 1, blen, pc->file) != blen)
        || fflush(pc->file) != 0) {
        pc->write_failed = true;
        fprintf(stderr, "fox86: filter-dump %s: write failed (%s); capture stopped\n",
                pc->path, strerror(errno));
    }
}

static void pcap_frame(struct net_tap *tap, bool to_guest, const uint8_t *frame, size_t len)
{
    struct net_pcap *pc = (struct net_pcap *)tap;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t caplen = len > NET_PCAP_SNAPLEN ? NET_PCAP_SNAPLEN : (uint32_t)len;
    uint8_t hdr[16];
    put_le32(hdr, (uint32_t)ts.tv_sec);
    put_le32(hdr + 4, (uint32_t)(ts.tv_nsec / 1000));
    put_le32(hdr + 8, caplen);
    put_le32(hdr + 12, (uint32_t)len);
    pcap_write(pc, hdr, sizeof hdr, frame, caplen);
    if (!pc->write_failed)
        pc->frames++;
}

struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen)
{
    struct net_pcap *pc = calloc(1, sizeof(*pc));
    if (!pc || !(pc->path = strdup(path))) {
        free(pc);
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    if (!(pc->file = fopen(path, "wb"))) {
        snprintf(err, errlen, "filter-dump: cannot create %s: %s", path, strerror(errno));
        free(pc->path);
        free(pc);
        return NULL;
    }
    uint8_t hdr[24];
    put_le32(hdr, 0xA1B2C3D4u);     /* microsecond timestamps */
    put_le16(hdr + 4, 2);
    put_le16(hdr + 6, 4);
    put_le32(hdr + 8, 0);           /* thiszone */
    put_le32(hdr + 12, 0);          /* sigfigs */
    put_le32(hdr + 16, NET_PCAP_SNAPLEN);
    put_le32(hdr + 20, 1);          /* LINKTYPE_ETHERNET */
    pcap_write(pc, hdr, sizeof hdr, NULL, 0);
    if (pc->write_failed) {
        snprintf(err, errlen, "filter-dump: cannot write %s", path);
        net_pcap_close(pc);
        return NULL;
    }
    pc->tap.frame = pcap_frame;
    return pc;
}

void net_pcap_attach(struct net_pcap *pc, struct netdev *nd)
{
    pc->tap.next = nd->taps;
    nd->taps = &pc->tap;
}

struct net_tap *net_pcap_tap(struct net_pcap *pc)
{
    return &pc->tap;
}

uint64_t net_pcap_frames(const struct net_pcap *pc)
{
    return pc->frames;
}

void net_pcap_close(struct net_pcap *pc)
{
    if (!pc)
        return;
    if (pc->file)
        fclose(pc->file);
    free(pc->path);
    free(pc);
}
