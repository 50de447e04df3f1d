/* tests/unit/test_options.c: the QEMU-style command line (frontends/options.c):
 * drives, boot order, serial ports, the monitor and their error lines. */
#include <check.h>
#include <arpa/inet.h>
#include <string.h>

#include "frontends/options.h"

static int parse(struct options *o, char *err, size_t errlen, int argc, const char **argv)
{
    return options_parse(argc, (char **)argv, o, err, errlen);
}

#define PARSE_OK(o, ...) do {                                                    \
        const char *argv[] = { "fox86", __VA_ARGS__ };                          \
        char err[256] = "";                                                      \
        int rc = parse(o, err, sizeof err, (int)(sizeof argv / sizeof argv[0]), argv); \
        ck_assert_msg(rc == 0, "unexpected error: %s", err);                    \
    } while (0)

#define PARSE_ERR(expect, ...) do {                                              \
        const char *argv[] = { "fox86", __VA_ARGS__ };                          \
        char err[256] = "";                                                      \
        struct options o;                                                        \
        int rc = parse(&o, err, sizeof err, (int)(sizeof argv / sizeof argv[0]), argv); \
        ck_assert_int_eq(rc, -1);                                                \
        ck_assert_msg(strstr(err, expect), "error '%s' lacks '%s'", err, expect); \
        ck_assert_ptr_null(strchr(err, '\n'));                                   \
        options_free(&o);                                                        \
    } while (0)

START_TEST(shorthand_drives)
{
    struct options o;
    PARSE_OK(&o, "-hda", "disk.img", "-cdrom", "cd.iso", "-fda", "a.img");
    ck_assert_int_eq(o.ndrives, 3);
    ck_assert_str_eq(o.drives[0].file, "disk.img");
    ck_assert_int_eq(o.drives[0].interface, DRIVE_IDE);
    ck_assert_int_eq(o.drives[0].index, 0);
    ck_assert(!o.drives[0].cdrom && !o.drives[0].read_only);
    ck_assert_int_eq(o.drives[1].index, 2);
    ck_assert(o.drives[1].cdrom && o.drives[1].read_only);
    ck_assert_int_eq(o.drives[2].interface, DRIVE_FLOPPY);
    ck_assert_int_eq(o.drives[2].index, 0);
    options_free(&o);
}
END_TEST

START_TEST(drive_option)
{
    struct options o;
    PARSE_OK(&o, "-drive", "file=/tmp/x.img,format=raw,if=ide,media=disk,readonly=on",
             "-drive", "file=y.iso,media=cdrom,index=3", "-snapshot");
    ck_assert_int_eq(o.ndrives, 2);
    ck_assert_str_eq(o.drives[0].file, "/tmp/x.img");
    ck_assert(o.drives[0].read_only && o.drives[0].snapshot);
    ck_assert_int_eq(o.drives[0].index, 0);   /* first free */
    ck_assert_int_eq(o.drives[1].index, 3);
    ck_assert(o.drives[1].cdrom);
    options_free(&o);
}
END_TEST

START_TEST(drive_errors)
{
    PARSE_ERR("format=qcow2", "-drive", "file=a,format=qcow2");
    PARSE_ERR("file= is required", "-drive", "if=ide");
    PARSE_ERR("unknown property", "-drive", "file=a,bogus=1");
    PARSE_ERR("already in use", "-hda", "a", "-drive", "file=b,index=0");
    PARSE_ERR("expected on or off", "-drive", "file=a,readonly=maybe");
    PARSE_ERR("floppy index", "-drive", "file=a,if=floppy,index=2");
}
END_TEST

START_TEST(log_filter)
{
    struct options o;
    PARSE_OK(&o, "-dfilter", "0x1000+0x100,0x2000-0x10,0xb7a06000..0xb7a06fff");
    ck_assert_uint_eq(o.log_filter_count, 3);
    ck_assert_uint_eq(o.log_filter[0].first, 0x1000);
    ck_assert_uint_eq(o.log_filter[0].last, 0x10FF);
    ck_assert_uint_eq(o.log_filter[1].first, 0x1FF1);
    ck_assert_uint_eq(o.log_filter[1].last, 0x2000);
    ck_assert_uint_eq(o.log_filter[2].first, 0xb7a06000u);
    ck_assert_uint_eq(o.log_filter[2].last, 0xb7a06fffu);
    options_free(&o);
    struct machine m = { .cfg = { .log_filter = { { 0x1000, 0x10FF } }, .log_filter_count = 1 } };
    ck_assert(machine_log_address(&m, 0x10FF, 1));
    ck_assert(machine_log_address(&m, 0xFF0, 0x20));     /* a block reaching into it */
    ck_assert(!machine_log_address(&m, 0x1100, 4));
    ck_assert(!machine_log_address(&m, 0xF00, 0x100));
    m.cfg.log_filter_count = 0;
    ck_assert(machine_log_address(&m, 0, 1));
    PARSE_ERR("-dfilter", "-dfilter", "0x1000");
    PARSE_ERR("-dfilter", "-dfilter", "0x1000+0");
    PARSE_ERR("-dfilter", "-dfilter", "0x10-0x20");
    PARSE_ERR("-dfilter", "-dfilter", "0x2000..0x1000");
    PARSE_ERR("-dfilter", "-dfilter", "0xffffffff+2");
    PARSE_ERR("-dfilter", "-dfilter", "1+1,");
    PARSE_ERR("-dfilter", "-dfilter", "zz+1");
    PARSE_ERR("no range", "-dfilter", "");
}
END_TEST

START_TEST(boot_order)
{
    struct options o;
    PARSE_OK(&o, "-boot", "order=dc,menu=on");
    ck_assert_str_eq(o.boot_order, "dc");
    ck_assert(o.boot_menu);
    options_free(&o);
    PARSE_OK(&o, "-boot", "a");
    ck_assert_str_eq(o.boot_order, "a");
    options_free(&o);
    PARSE_ERR("invalid boot order", "-boot", "x");
    PARSE_ERR("menu=", "-boot", "c,menu=sometimes");
}
END_TEST

START_TEST(serial_and_monitor)
{
    struct options o;
    PARSE_OK(&o, "-serial", "file:/tmp/com1", "-serial", "null", "-monitor", "stdio");
    ck_assert_str_eq(o.serial, "file:/tmp/com1");
    ck_assert_str_eq(o.serial2, "null");
    ck_assert_str_eq(o.monitor, "stdio");
    options_free(&o);
    PARSE_ERR("only two serial ports", "-serial", "null", "-serial", "null", "-serial", "null");
    PARSE_ERR("already used by the serial port", "-monitor", "stdio");
    PARSE_ERR("unsupported backend", "-monitor", "tcp:1234");
}
END_TEST

START_TEST(display_vga_icount_rtc)
{
    struct options o;
    PARSE_OK(&o, "-display", "curses", "-vga", "none", "-icount", "shift=0,sleep=off",
             "-rtc", "base=2020-01-02T03:04:05");
    ck_assert_int_eq(o.display, DISPLAY_CURSES);
    ck_assert(!o.vga);
    ck_assert(o.deterministic);
    ck_assert_str_eq(o.rtc_base, "2020-01-02T03:04:05");
    ck_assert_str_eq(o.serial, "null");   /* the terminal shows the screen */
    options_free(&o);
    PARSE_OK(&o, "disk.img");              /* a bare image is -hda */
    ck_assert_int_eq(o.ndrives, 1);
    ck_assert(o.vga);
    options_free(&o);
    PARSE_OK(&o, "-display", "sdl", "-full-screen");
    ck_assert_int_eq(o.display, DISPLAY_SDL);
    ck_assert(o.full_screen);
    ck_assert_str_eq(o.serial, "stdio");   /* the window shows the screen, the terminal COM1 */
    options_free(&o);
    PARSE_ERR("-display gtk", "-display", "gtk");
    PARSE_ERR("-vga cirrus", "-vga", "cirrus");
}
END_TEST

START_TEST(network_good)
{
    struct options o;
    PARSE_OK(&o, "-device", "ne2k_pci,netdev=n0",
             "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:5555-:22,hostfwd=udp::6000-:53,restrict=on",
             "-netdev", "user,id=n1,net=192.168.5.0/24,dns=192.168.5.53",
             "-device", "ne2k_isa,netdev=n1,iobase=0x280,irq=10,mac=02:00:00:aa:bb:cc",
             "-device", "ne2k_pci",
             "-object", "filter-dump,id=f0,netdev=n1,file=/tmp/n1.pcap");
    ck_assert_int_eq(o.nnetdevs, 2);
    ck_assert_str_eq(o.netdevs[0].id, "n0");
    ck_assert(o.netdevs[0].restricted);
    ck_assert_int_eq(o.netdevs[0].nfwd, 2);
    ck_assert(!o.netdevs[0].fwd[0].udp && o.netdevs[0].fwd[0].host_port == 5555
              && o.netdevs[0].fwd[0].guest_port == 22);
    ck_assert(o.netdevs[0].fwd[1].udp && o.netdevs[0].fwd[1].guest_port == 53);
    ck_assert_int_eq(ntohl(o.netdevs[0].dhcp_start.s_addr), 0x0A00020F);
    ck_assert_int_eq(ntohl(o.netdevs[1].host.s_addr), 0xC0A80502);
    ck_assert_int_eq(ntohl(o.netdevs[1].dns.s_addr), 0xC0A80535);
    ck_assert_int_eq(o.nnics, 3);
    ck_assert_int_eq(o.nics[0].model, NIC_NE2K_PCI);
    ck_assert_int_eq(o.nics[0].netdev, 0);   /* -netdev after -device: resolved at the end */
    const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    const uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC };
    const uint8_t mac2[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
    ck_assert(memcmp(o.nics[0].mac, mac0, 6) == 0);
    ck_assert_int_eq(o.nics[1].model, NIC_NE2K_ISA);
    ck_assert_int_eq(o.nics[1].netdev, 1);
    ck_assert_int_eq(o.nics[1].iobase, 0x280);
    ck_assert_int_eq(o.nics[1].irq, 10);
    ck_assert(memcmp(o.nics[1].mac, mac1, 6) == 0);
    ck_assert_int_eq(o.nics[2].netdev, -1);  /* a card with no cable */
    ck_assert(memcmp(o.nics[2].mac, mac2, 6) == 0);
    ck_assert_int_eq(o.ndumps, 1);
    ck_assert_int_eq(o.dumps[0].netdev, 1);
    ck_assert_str_eq(o.dumps[0].file, "/tmp/n1.pcap");
    options_free(&o);

    PARSE_OK(&o, "-device", "ne2k_isa,netdev=x", "-netdev", "user,id=x");
    ck_assert_int_eq(o.nics[0].iobase, 0x300);   /* QEMU's defaults */
    ck_assert_int_eq(o.nics[0].irq, 9);
    options_free(&o);

    PARSE_OK(&o, "-nic", "user,model=ne2k_isa,mac=52:54:00:00:00:01,hostfwd=tcp::2222-:22");
    ck_assert_int_eq(o.nnetdevs, 1);
    ck_assert_int_eq(o.nnics, 1);
    ck_assert_int_eq(o.nics[0].model, NIC_NE2K_ISA);
    ck_assert_int_eq(o.nics[0].netdev, 0);
    ck_assert_int_eq(o.nics[0].mac[5], 1);
    ck_assert_int_eq(o.netdevs[0].nfwd, 1);
    ck_assert_int_eq(o.netdevs[0].fwd[0].host_addr.s_addr, 0);
    options_free(&o);

    PARSE_OK(&o, "-nic", "user");
    ck_assert_int_eq(o.nics[0].model, NIC_NE2K_PCI);
    options_free(&o);
    PARSE_OK(&o, "-nic", "none");
    ck_assert_int_eq(o.nnics, 0);
    ck_assert_int_eq(o.nnetdevs, 0);
    options_free(&o);
    PARSE_OK(&o, "-m", "64");                     /* no option: no card (see README) */
    ck_assert_int_eq(o.nnics, 0);
    options_free(&o);
}
END_TEST

START_TEST(network_errors)
{
    PARSE_ERR("netdev 'n9' not found", "-device", "ne2k_pci,netdev=n9");
    PARSE_ERR("used by two network cards", "-netdev", "user,id=n0", "-device",
              "ne2k_pci,netdev=n0", "-device", "ne2k_isa,netdev=n0");
    PARSE_ERR("duplicate id", "-netdev", "user,id=n0", "-netdev", "user,id=n0");
    PARSE_ERR("mac=52:54:00:12:34", "-netdev", "user,id=n0", "-device",
              "ne2k_pci,netdev=n0,mac=52:54:00:12:34");
    PARSE_ERR("mac=01:00:5e:00:00:01", "-nic", "user,mac=01:00:5e:00:00:01");
    PARSE_ERR("mac=zz", "-nic", "user,mac=zz:54:00:12:34:56");
    PARSE_ERR("hostfwd=tcp:127.0.0.1:5555", "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:5555");
    PARSE_ERR("hostfwd=tcp::99999-:22", "-nic", "user,hostfwd=tcp::99999-:22");
    PARSE_ERR("hostfwd=icmp::1-:2", "-netdev", "user,id=n0,hostfwd=icmp::1-:2");
    PARSE_ERR("unknown property 'smb'", "-netdev", "user,id=n0,smb=/tmp");
    PARSE_ERR("unknown property 'speed'", "-netdev", "user,id=n0", "-device",
              "ne2k_pci,netdev=n0,speed=100");
    PARSE_ERR("unknown property 'iobase'", "-device", "ne2k_pci,iobase=0x300");
    PARSE_ERR("iobase=0x301", "-device", "ne2k_isa,iobase=0x301");
    PARSE_ERR("irq=2", "-device", "ne2k_isa,irq=2");
    PARSE_ERR("unknown property 'maxlen'", "-netdev", "user,id=n0", "-object",
              "filter-dump,id=f0,netdev=n0,file=x.pcap,maxlen=64");
    PARSE_ERR("filter-dump: netdev 'n1' not found", "-netdev", "user,id=n0", "-object",
              "filter-dump,id=f0,netdev=n1,file=x.pcap");
    PARSE_ERR("required", "-netdev", "user,id=n0", "-object", "filter-dump,id=f0,netdev=n0");
    PARSE_ERR("unsupported object", "-object", "memory-backend-ram,id=m0");
    PARSE_ERR("id= is required", "-netdev", "user,restrict=on");
    PARSE_ERR("unsupported network backend (user)", "-netdev", "tap,id=t0");
    PARSE_ERR("unsupported network backend (user, none)", "-nic", "bridge");
    PARSE_ERR("model=e1000", "-nic", "user,model=e1000");
    PARSE_ERR("restrict=maybe", "-netdev", "user,id=n0,restrict=maybe");
    PARSE_ERR("net=10.0.2.0/40", "-netdev", "user,id=n0,net=10.0.2.0/40");
    PARSE_ERR("dns=8.8.8.8", "-netdev", "user,id=n0,dns=8.8.8.8");
    PARSE_ERR("unknown device", "-device", "e1000,netdev=n0");
    PARSE_ERR("-nic none takes no properties", "-nic", "none,model=ne2k_pci");
    PARSE_ERR("at most 4 network cards", "-device", "ne2k_pci", "-device", "ne2k_pci",
              "-device", "ne2k_pci", "-device", "ne2k_pci", "-device", "ne2k_pci");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, shorthand_drives);
    tcase_add_test(tc, drive_option);
    tcase_add_test(tc, drive_errors);
    tcase_add_test(tc, boot_order);
    tcase_add_test(tc, serial_and_monitor);
    tcase_add_test(tc, display_vga_icount_rtc);
    tcase_add_test(tc, log_filter);
    tcase_add_test(tc, network_good);
    tcase_add_test(tc, network_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
