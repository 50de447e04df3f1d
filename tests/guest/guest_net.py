#!/usr/bin/env python3
"""tests/guest/guest_net.py: the default Linux guest on the network, through
an NE2000 and libslirp, touching only the host's loopback.

    guest_net.py FOX86 [pci|isa] [OUTDIR]

Boots the cached guest (scripts/build-guest.sh) with -kernel/-initrd and
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:HOSTPORT-:8080[,restrict=on]
    -device ne2k_pci,netdev=n0   (or ne2k_isa,iobase=0x300,irq=9, with
                                  acpi=off on the kernel command line: IRQ
                                  9 is the ACPI SCI, which ne.c cannot share)
    -object filter-dump,id=f0,netdev=n0,file=OUTDIR/net.pcap
and checks, through the serial console:
  - the driver finds the card (pci: ne2k-pci loaded by /init; isa: the
    guest loads ne.ko with io=0x300 irq=9) and udhcpc gets 10.0.2.15 from
    the slirp DHCP server, with 10.0.2.2 as the router and 10.0.2.3 as DNS;
  - the guest fetches a 20 MiB file from an HTTP server this test runs on
    the host's 127.0.0.1 (reached as 10.0.2.2) and its SHA-256 matches;
  - the guest serves a 4 MiB file with busybox httpd on port 8080, the test
    fetches it through the forwarded port and its SHA-256 matches the
    guest's;
  - when the host can resolve deb.debian.org itself, the guest resolves it
    through slirp's DNS (10.0.2.3) to the same address (skipped otherwise);
  - the pcap holds the DHCP exchange and parses frame by frame (and, when
    tshark is installed, Wireshark's reader finds the four DHCP messages);
  - a second boot with restrict=on: DHCP and the forwarded port still work,
    the guest cannot reach the host's HTTP server.
Exit 0 pass, 1 fail, 77 skipped (guest not built).
"""
import hashlib
import http.server
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from fox86_host import GUEST, free_port, require_guest  # noqa: E402

FILE_SIZE = 20 << 20


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Console:
    """The guest's serial console on fox86's stdio."""

    def __init__(self, args, log_path):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.buf = b""

    def expect(self, marker, timeout):
        marker = marker.encode()
        end = time.time() + timeout
        while marker not in self.buf:
            left = end - time.time()
            if left <= 0 or self.proc.poll() is not None:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    return None
                self.log.write(data)
                self.log.flush()
                self.buf += data
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode(errors="replace")

    seq = 0

    def run(self, command, timeout=120):
        """Run a shell command; returns (status, output)."""
        Console.seq += 1
        tag = "@@%d@@" % Console.seq
        # the echoed command line shows the tag in quotes, the output not
        self.proc.stdin.write(('%s; echo "@@""%d@@" $?\n' % (command, Console.seq)).encode())
        self.proc.stdin.flush()
        out = self.expect(tag + " ", timeout)
        if out is None:
            fail("no answer to %r within %d s" % (command, timeout))
        status = self.expect("\n", 10)
        # drop the echoed command line
        lines = out.split("\n")
        body = "\n".join(l for l in lines[1:] if tag not in l)
        return int(status.strip() or "-1"), body.replace("\r", "")

    def close(self):
        if self.proc.poll() is None:
            try:
                # -no-reboot turns a reboot into an exit, with or without ACPI
                self.proc.stdin.write(b"reboot -f\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def start_http(root):
    handler = lambda *a, **k: Quiet(*a, directory=root, **k)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def boot(fox86, model, outdir, hostfwd_port, restrict, tag):
    nic = ("ne2k_pci,netdev=n0" if model == "pci" else "ne2k_isa,netdev=n0,iobase=0x300,irq=9")
    netdev = "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080%s" % (hostfwd_port, ",restrict=on" if restrict else "")
    with open(os.path.join(GUEST, "cmdline")) as f:
        cmdline = f.read().strip()
    if model == "isa":
        cmdline += " acpi=off"      # IRQ 9 is the ACPI SCI, which ne.c cannot share
    args = [fox86, "-m", "256", "-nographic", "-no-reboot",
            "-kernel", os.path.join(GUEST, "vmlinuz"), "-initrd", os.path.join(GUEST, "initrd.img"),
            "-append", cmdline, "-netdev", netdev, "-device", nic,
            "-object", "filter-dump,id=f0,netdev=n0,file=%s" % os.path.join(outdir, tag + ".pcap")]
    con = Console(args, os.path.join(outdir, tag + ".log"))
    if con.expect("FOX86-GUEST-READY", 300) is None:
        con.close()
        fail("%s: the guest did not reach its ready line" % tag)
    con.expect("# ", 30)
    return con


def bring_up(con, model, restrict=False):
    if model == "isa":
        st, out = con.run("for m in $(cat /etc/modules.extra); do a=; case $m in */ne.ko) a='io=0x300 irq=9';; esac;"
                          " insmod /lib/modules/$(uname -r)/$m $a || exit_code=1; done; true")
    st, out = con.run("ip link set eth0 up && udhcpc -i eth0 -q -n -t 5 -T 2 2>&1; "
                      "ip -4 addr show eth0; ip route; cat /etc/resolv.conf", 90)
    # restricted, slirp offers no router and no DNS server: nothing lies
    # beyond the gateway
    want_route = not restrict
    if ("inet 10.0.2.15/24" not in out or ("default via 10.0.2.2" in out) != want_route
            or ("nameserver 10.0.2.3" in out) != want_route):
        fail("DHCP through slirp%s: %s" % (" (restrict=on)" if restrict else "", out))
    print("ok: %s card, DHCP lease 10.0.2.15, %s"
          % (model, "router 10.0.2.2, DNS 10.0.2.3" if want_route else "no router or DNS (restrict=on)"))


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        fail("pcap too short")
    magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or (vmaj, vmin) != (2, 4) or link != 1:
        fail("pcap header: magic %x version %d.%d link %d" % (magic, vmaj, vmin, link))
    frames, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            fail("pcap: truncated record header at %d" % off)
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        if incl > orig or off + 16 + incl > len(data):
            fail("pcap: bad record at %d" % off)
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def main():
    fox86 = sys.argv[1]
    model = sys.argv[2] if len(sys.argv) > 2 else "pci"
    outdir = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="fox86-net.")
    os.makedirs(outdir, exist_ok=True)
    require_guest()

    www = tempfile.mkdtemp(prefix="fox86-www.")
    payload = hashlib.sha256(b"fox86").digest() * (FILE_SIZE // 32)
    with open(os.path.join(www, "payload.bin"), "wb") as f:
        f.write(payload)
    want_sha = hashlib.sha256(payload).hexdigest()
    http_srv = start_http(www)
    http_port = http_srv.server_address[1]

    # --- open network ---
    fwd = free_port()
    con = boot(fox86, model, outdir, fwd, False, "net-" + model)
    try:
        bring_up(con, model)
        t0 = time.time()
        st, out = con.run("wget -q -O /tmp/payload.bin http://10.0.2.2:%d/payload.bin && sha256sum /tmp/payload.bin"
                          % http_port, 600)
        secs = time.time() - t0
        if st != 0 or want_sha not in out:
            fail("guest fetch of 20 MiB from the host: status %d: %s" % (st, out))
        print("ok: the guest fetched 20 MiB from 127.0.0.1:%d via 10.0.2.2, SHA-256 matches (%.1f s, %.1f MB/s)"
              % (http_port, secs, FILE_SIZE / secs / 1e6))
        con.run("rm /tmp/payload.bin")
        st, out = con.run("mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/g.bin bs=4096 count=1024 2>/dev/null"
                          " && sha256sum /tmp/www/g.bin && httpd -p 8080 -h /tmp/www")
        m = re.search(r"\b([0-9a-f]{64})  /tmp/www/g.bin", out)
        guest_sha = m.group(1) if st == 0 and m else fail("guest httpd: %s" % out)
        data = urllib.request.urlopen("http://127.0.0.1:%d/g.bin" % fwd, timeout=120).read()
        if len(data) != 4 << 20 or hashlib.sha256(data).hexdigest() != guest_sha:
            fail("host fetch through hostfwd: %d bytes, SHA-256 %s (guest %s)"
                 % (len(data), hashlib.sha256(data).hexdigest(), guest_sha))
        print("ok: the host fetched 4 MiB from the guest's httpd through hostfwd 127.0.0.1:%d, SHA-256 matches" % fwd)
        try:
            host_addr = socket.gethostbyname("deb.debian.org")
        except OSError:
            host_addr = None
        if host_addr:
            st, out = con.run("nslookup deb.debian.org 10.0.2.3", 60)
            if host_addr not in out:
                fail("DNS through slirp: host says %s, guest: %s" % (host_addr, out))
            print("ok: the guest resolved deb.debian.org through 10.0.2.3 to %s, as the host does" % host_addr)
        else:
            print("skip: the host cannot resolve deb.debian.org: no DNS check")
    finally:
        con.close()
    frames = read_pcap(os.path.join(outdir, "net-%s.pcap" % model))
    dhcp = [f for f in frames if len(f) > 42 and f[12:14] == b"\x08\x00" and f[23] == 17
            and struct.unpack(">H", f[36:38])[0] in (67, 68)]
    if len(frames) < 1000 or len(dhcp) < 2:
        fail("pcap: %d frames, %d DHCP" % (len(frames), len(dhcp)))
    print("ok: pcap has %d frames, %d of them DHCP" % (len(frames), len(dhcp)))
    tshark = shutil.which("tshark")
    if tshark:                        # Wireshark's reader, when installed
        r = subprocess.run([tshark, "-r", os.path.join(outdir, "net-%s.pcap" % model), "-Y", "dhcp"],
                           capture_output=True, text=True, timeout=120)
        kinds = [k for k in ("Discover", "Offer", "Request", "ACK") if "DHCP " + k in r.stdout]
        if r.returncode != 0 or len(kinds) != 4:
            fail("tshark on the pcap: status %d, DHCP messages %s: %s"
                 % (r.returncode, kinds, r.stderr.strip()[-300:]))
        print("ok: tshark reads the pcap: DHCP Discover, Offer, Request, ACK")

    # --- restrict=on ---
    fwd = free_port()
    con = boot(fox86, model, outdir, fwd, True, "restricted-" + model)
    try:
        bring_up(con, model, restrict=True)
        st, out = con.run("wget -q -T 5 -O /tmp/x http://10.0.2.2:%d/payload.bin; echo rc=$?" % http_port, 60)
        if "rc=0" in out:
            fail("restrict=on: the guest reached the host's HTTP server")
        st, out = con.run("mkdir -p /tmp/www && echo restricted-ok >/tmp/www/r.txt && httpd -p 8080 -h /tmp/www")
        data = urllib.request.urlopen("http://127.0.0.1:%d/r.txt" % fwd, timeout=60).read()
        if data.strip() != b"restricted-ok":
            fail("restrict=on: hostfwd gave %r" % data)
        print("ok: restrict=on: no outbound connection, DHCP and hostfwd work")
    finally:
        con.close()
    http_srv.shutdown()
    print("PASS")


if __name__ == "__main__":
    main()
