/* tests/unit/test_net_pcap.c: the pcap writer (frontends/net_pcap.c): the
 * file is read back while still open (every record flushed) and after
 * close: global header, one record per frame in order, lengths, bytes,
 * timestamps, and a frame over the snaplen cut to 65535 bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontends/net_pcap.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

struct frame { size_t len; uint8_t *data; };

/* Checks the file holds exactly these frames; returns nothing on success. */
static void check_file(const char *path, const struct frame *frames, int n, time_t t0)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    ck_assert_uint_ge(len, 24);
    ck_assert_uint_eq(le32(buf), 0xA1B2C3D4u);
    ck_assert_int_eq(buf[4] | buf[5] << 8, 2);
    ck_assert_int_eq(buf[6] | buf[7] << 8, 4);
    ck_assert_uint_eq(le32(buf + 16), 65535);
    ck_assert_uint_eq(le32(buf + 20), 1);
    size_t off = 24;
    for (int i = 0; i < n; i++) {
        ck_assert_uint_ge(len, off + 16);
        uint32_t sec = le32(buf + off), usec = le32(buf + off + 4);
        uint32_t caplen = le32(buf + off + 8), origlen = le32(buf + off + 12);
        ck_assert(sec >= (uint32_t)t0 && sec <= (uint32_t)time(NULL));
        ck_assert_uint_lt(usec, 1000000);
        ck_assert_uint_eq(origlen, frames[i].len);
        ck_assert_uint_eq(caplen, frames[i].len > 65535 ? 65535 : frames[i].len);
        ck_assert_uint_ge(len, off + 16 + caplen);
        ck_assert(memcmp(buf + off + 16, frames[i].data, caplen) == 0);
        off += 16 + caplen;
    }
    ck_assert_uint_eq(off, len);   /* nothing more */
    free(buf);
}

START_TEST(write_and_read_back)
{
    char path[] = "/tmp/fox86_pcap_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    time_t t0 = time(NULL);
    char err[256] = "";
    struct net_pcap *pc = net_pcap_open(path, err, sizeof err);
    ck_assert_msg(pc, "%s", err);
    struct netdev nd = { .id = "n0" };
    net_pcap_attach(pc, &nd);

    struct frame frames[4];
    size_t sizes[4] = { 60, 1514, 14, 65536 };
    for (int i = 0; i < 4; i++) {
        frames[i].len = sizes[i];
        frames[i].data = malloc(sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            frames[i].data[k] = (uint8_t)(k * 7 + i);
    }
    /* the guest sends (netdev_transmit taps even with no backend ops) */
    netdev_transmit(&nd, frames[0].data, frames[0].len);
    check_file(path, frames, 1, t0);   /* readable while open */
    /* to the guest: only frames the NIC takes are recorded */
    nd.taps->frame(nd.taps, true, frames[1].data, frames[1].len);
    netdev_tap(&nd, false, frames[2].data, frames[2].len);
    netdev_tap(&nd, true, frames[3].data, frames[3].len);
    check_file(path, frames, 4, t0);
    ck_assert_uint_eq(net_pcap_frames(pc), 4);
    net_pcap_close(pc);
    check_file(path, frames, 4, t0);
    for (int i = 0; i < 4; i++)
        free(frames[i].data);
    unlink(path);
}
END_TEST

START_TEST(open_error)
{
    char err[256] = "";
    ck_assert_ptr_null(net_pcap_open("/nonexistent-dir/x.pcap", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.pcap"));
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net_pcap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, write_and_read_back);
    tcase_add_test(tc, open_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
