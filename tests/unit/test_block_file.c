/* tests/unit/test_block_file.c: raw image files behind struct blockdev.
 *
 * Each test makes a temporary image, opens it through blockdev_open_file
 * and checks the bytes on disk with plain stdio afterwards.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blockdev.h"

static char dir_path[256];

static void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir_path, sizeof dir_path, "%s/fox86-bftest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir_path));
}

/* An image of size bytes whose byte i is (i * 7 + i / 512) & 0xFF. */
static void make_image(char *path, size_t pathlen, const char *name, size_t size)
{
    make_dir();
    snprintf(path, pathlen, "%s/%s", dir_path, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 7 + i / 512) & 0xFF), fp);
    fclose(fp);
}

static void remove_image(const char *path)
{
    chmod(path, 0600);
    unlink(path);
    rmdir(dir_path);
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*size ? *size : 1);
    ck_assert_uint_eq(fread(b, 1, *size, fp), *size);
    fclose(fp);
    return b;
}

static uint32_t checksum(const char *path)
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    free(b);
    return h;
}

START_TEST(read_write_round_trip)
{
    char path[512], err[256];
    make_image(path, sizeof path, "rw.img", 64 * 1024);
    struct blockdev *bd = NULL;
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), 0);
    ck_assert_uint_eq(bd->size, 64 * 1024);
    ck_assert(!bd->read_only);

    uint8_t buf[1536];
    ck_assert_int_eq(blockdev_read(bd, 1000, buf, sizeof buf), 0);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], ((1000 + i) * 7 + (1000 + i) / 512) & 0xFF);

    memset(buf, 0xA5, sizeof buf);
    ck_assert_int_eq(blockdev_write(bd, 4096 + 3, buf, sizeof buf), 0);
    ck_assert_int_eq(blockdev_flush(bd), 0);
    ck_assert_uint_eq(bd->writes, sizeof buf);
    ck_assert_uint_eq(bd->reads, sizeof buf);
    /* past the end is refused and counted */
    ck_assert_int_eq(blockdev_read(bd, 64 * 1024 - 10, buf, 11), -EINVAL);
    ck_assert_uint_eq(bd->errors, 1);
    blockdev_close(bd);

    size_t n;
    uint8_t *img = slurp(path, &n);
    ck_assert_uint_eq(n, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        uint8_t want = (i >= 4099 && i < 4099 + 1536) ? 0xA5 : (uint8_t)((i * 7 + i / 512) & 0xFF);
        ck_assert_uint_eq(img[i], want);
    }
    free(img);
    remove_image(path);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
    char path[512], err[256];
    make_image(path, sizeof path, "ro.img", 8192);
    uint32_t before = checksum(path);
    struct blockdev *bd = NULL;
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &bd, err, sizeof err), 0);
    ck_assert(bd->read_only);
    uint8_t buf[512];
    memset(buf, 0x11, sizeof buf);
    ck_assert_int_eq(blockdev_write(bd, 0, buf, sizeof buf), -EROFS);
    ck_assert_uint_eq(bd->errors, 1);
    ck_assert_int_eq(blockdev_read(bd, 0, buf, sizeof buf), 0);
    ck_assert_uint_eq(buf[1], 7);
    blockdev_close(bd);
    ck_assert_uint_eq(checksum(path), before);
    remove_image(path);
}
END_TEST

START_TEST(unwritable_file_needs_readonly)
{
    if (geteuid() == 0)
        return;                    /* root may write anything: nothing to test */
    char path[512], err[256];
    make_image(path, sizeof path, "locked-down.img", 4096);
    chmod(path, 0400);
    struct blockdev *bd = NULL;
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "readonly=on"));
    ck_assert_ptr_nonnull(strstr(err, "-snapshot"));
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .snapshot = true },
                                        &bd, err, sizeof err), 0);
    blockdev_close(bd);
    remove_image(path);
}
END_TEST

START_TEST(snapshot_keeps_file_untouched)
{
    char path[512], err[256];
    make_image(path, sizeof path, "snap.img", 16384 + 100);    /* odd size: a partial last sector */
    uint32_t before = checksum(path);
    struct blockdev *bd = NULL;
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .snapshot = true },
                                        &bd, err, sizeof err), 0);
    ck_assert(!bd->read_only);
    ck_assert_uint_eq(bd->size, 16384 + 100);

    /* a write straddling sectors 1-2 at odd offsets, one whole sector, and the partial tail */
    uint8_t w[700], tail[50], whole[512];
    memset(w, 0x5A, sizeof w);
    memset(tail, 0xC3, sizeof tail);
    memset(whole, 0x77, sizeof whole);
    ck_assert_int_eq(blockdev_write(bd, 600, w, sizeof w), 0);
    ck_assert_int_eq(blockdev_write(bd, 8 * 512, whole, sizeof whole), 0);
    ck_assert_int_eq(blockdev_write(bd, 16384 + 30, tail, sizeof tail), 0);
    ck_assert_int_eq(blockdev_flush(bd), 0);

    static uint8_t all[16384 + 100];
    ck_assert_int_eq(blockdev_read(bd, 0, all, sizeof all), 0);
    for (size_t i = 0; i < sizeof all; i++) {
        uint8_t want = (uint8_t)((i * 7 + i / 512) & 0xFF);
        if (i >= 600 && i < 1300) want = 0x5A;
        if (i >= 4096 && i < 4608) want = 0x77;
        if (i >= 16414 && i < 16464) want = 0xC3;
        ck_assert_msg(all[i] == want, "byte %zu: %02x, want %02x", i, all[i], want);
    }
    blockdev_close(bd);
    ck_assert_uint_eq(checksum(path), before);
    remove_image(path);
}
END_TEST

START_TEST(locks_conflict)
{
    char path[512], err[256];
    make_image(path, sizeof path, "lock.img", 4096);
    struct blockdev *w1 = NULL, *other = NULL, *r1 = NULL, *r2 = NULL;

    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &w1, err, sizeof err), 0);
    /* a second writer and a reader are both refused while a writer has it */
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &other, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "already in use by another process (locked)"));
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &other, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "locked"));
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .snapshot = true },
                                        &other, err, sizeof err), -1);
    blockdev_close(w1);

    /* readers share; a writer is refused while a reader has it */
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &r1, err, sizeof err), 0);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .snapshot = true },
                                        &r2, err, sizeof err), 0);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &other, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "locked"));
    blockdev_close(r1);
    blockdev_close(r2);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &w1, err, sizeof err), 0);
    blockdev_close(w1);
    remove_image(path);
}
END_TEST

/* QEMU's side of the protocol: a QEMU writer holds shared locks on 100,
 * 101, 201 (and 203); a QEMU reader on 100 and 201. Play those by hand. */
static int qemu_style_open(const char *path, bool writer)
{
    int fd = open(path, writer ? O_RDWR : O_RDONLY);
    ck_assert_int_ge(fd, 0);
    int bytes_w[] = { 100, 101, 201, 203 }, bytes_r[] = { 100, 201 };
    int *bytes = writer ? bytes_w : bytes_r, n = writer ? 4 : 2;
    for (int i = 0; i < n; i++) {
        struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = bytes[i], .l_len = 1 };
        ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
    }
    return fd;
}

static bool qemu_style_conflict(const char *path, int byte)
{
    int fd = open(path, O_RDONLY);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    ck_assert_int_eq(fcntl(fd, F_OFD_GETLK, &fl), 0);
    close(fd);
    return fl.l_type != F_UNLCK;
}

START_TEST(locks_interoperate_with_qemu_bytes)
{
    char path[512], err[256];
    make_image(path, sizeof path, "qemu.img", 4096);
    struct blockdev *bd = NULL;

    int q = qemu_style_open(path, true);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), -1);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &bd, err, sizeof err), -1);
    close(q);
    q = qemu_style_open(path, false);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), -1);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &bd, err, sizeof err), 0);
    blockdev_close(bd);
    close(q);

    /* what QEMU would test when we hold the image */
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), 0);
    ck_assert(qemu_style_conflict(path, 201));     /* a QEMU writer needs write shared */
    ck_assert(qemu_style_conflict(path, 101));     /* a QEMU reader forbids writers */
    blockdev_close(bd);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true },
                                        &bd, err, sizeof err), 0);
    ck_assert(qemu_style_conflict(path, 201));     /* our reader forbids QEMU writers */
    ck_assert(!qemu_style_conflict(path, 101));    /* ... but lets QEMU readers in */
    ck_assert(!qemu_style_conflict(path, 200));
    blockdev_close(bd);
    remove_image(path);
}
END_TEST

START_TEST(bad_files)
{
    char path[512], err[256];
    struct blockdev *bd = NULL;
    make_dir();
    snprintf(path, sizeof path, "%s/missing.img", dir_path);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing.img"));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    ck_assert_ptr_null(strchr(err, '\n'));

    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = dir_path, .read_only = true },
                                        &bd, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "directory"));
    rmdir(dir_path);

    make_image(path, sizeof path, "empty.img", 0);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    remove_image(path);

    make_image(path, sizeof path, "odd.iso", 2048 * 3 + 512);
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path, .read_only = true,
                                                                    .cdrom = true }, &bd, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "2048"));
    /* the same file is fine as a disk (odd sizes are allowed there) */
    ck_assert_int_eq(blockdev_open_file(&(struct blockdev_options){ .path = path }, &bd, err, sizeof err), 0);
    ck_assert_uint_eq(bd->size, 2048 * 3 + 512);
    blockdev_close(bd);
    remove_image(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("block_file");
    TCase *tc = tcase_create("block_file");
    tcase_add_test(tc, read_write_round_trip);
    tcase_add_test(tc, read_only_refuses_writes);
    tcase_add_test(tc, unwritable_file_needs_readonly);
    tcase_add_test(tc, snapshot_keeps_file_untouched);
    tcase_add_test(tc, locks_conflict);
    tcase_add_test(tc, locks_interoperate_with_qemu_bytes);
    tcase_add_test(tc, bad_files);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
