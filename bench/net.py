#!/usr/bin/env python3
"""bench/net.py: TCP throughput through an NE2000 and user networking,
fox86 against qemu-system-i386 with the same NIC model, guest and options.

    bench/net.py [BUILD_DIR] [--size MB] [--nic pci|isa] [--no-qemu]

Each emulator boots the default guest (scripts/build-guest.sh) with
    -m 256 -netdev user,id=n0 -device ne2k_pci,netdev=n0   (or ne2k_isa)
gets an address by DHCP, then moves SIZE MB (default 16) each way over one
TCP connection through the slirp gateway to a listener this script runs on
the host's 127.0.0.1 (busybox nc in the guest):
    host->guest  the host sends SIZE MB of a fixed pattern and closes; the
                 guest pipes it into sha256sum (checked against the host's)
    guest->host  the guest sends SIZE MB of zeros from dd; the host counts
                 and hashes what arrives
Times are host wall-clock from the command to its answer on the console
(the guest's nc start-up is in them, a few ms). Prints MB/s for each
emulator and direction and the ratio fox86/QEMU (above 1: fox86 faster).
A transfer that loses or corrupts a byte fails the run (exit 1).
"""
import argparse
import hashlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "guest"))
import guest_net  # noqa: E402  (the console and boot helpers)

CHUNK = 1 << 16


def pattern(size):
    block = hashlib.sha256(b"fox86 net bench").digest() * (CHUNK // 32)
    h = hashlib.sha256()
    for off in range(0, size, CHUNK):
        h.update(block[:min(CHUNK, size - off)])
    return block, h.hexdigest()


class Listener:
    """One connection on 127.0.0.1: send SIZE bytes, or receive them."""

    def __init__(self, mode, size):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.mode, self.size = mode, size
        self.received, self.digest, self.error = 0, None, None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                if self.mode == "send":
                    block, _ = pattern(self.size)
                    for off in range(0, self.size, CHUNK):
                        conn.sendall(block[:min(CHUNK, self.size - off)])
                else:
                    h = hashlib.sha256()
                    while self.received < self.size:
                        data = conn.recv(CHUNK)
                        if not data:
                            break
                        h.update(data)
                        self.received += len(data)
                    self.digest = h.hexdigest()
        except OSError as e:
            self.error = str(e)
        finally:
            self.sock.close()


def measure(emulator, nic, size_mb, outdir, label):
    size = size_mb << 20
    con = guest_net.boot(emulator, nic, outdir, guest_net.free_port(), False, label)
    results = {}
    try:
        guest_net.bring_up(con, nic)
        # host -> guest
        lis = Listener("send", size)
        _, want = pattern(size)
        t0 = time.time()
        st, out = con.run("nc 10.0.2.2 %d | sha256sum" % lis.port, 3600)
        secs = time.time() - t0
        if want not in out:
            guest_net.fail("%s host->guest: SHA-256 differs or transfer cut short: %s" % (label, out))
        results["host->guest"] = size / secs / 1e6
        # guest -> host
        lis = Listener("recv", size)
        t0 = time.time()
        st, out = con.run("dd if=/dev/zero bs=65536 count=%d 2>/dev/null | nc 10.0.2.2 %d"
                          % (size // 65536, lis.port), 3600)
        lis.thread.join(60)
        secs = time.time() - t0
        zeros = hashlib.sha256(bytes(size)).hexdigest()
        if lis.received != size or lis.digest != zeros:
            guest_net.fail("%s guest->host: %d of %d bytes arrived, SHA-256 %s"
                           % (label, lis.received, size, "matches" if lis.digest == zeros else "differs"))
        results["guest->host"] = size / secs / 1e6
    finally:
        con.close()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir", nargs="?", default="build")
    ap.add_argument("--size", type=int, default=16, help="MB each way (default 16)")
    ap.add_argument("--nic", choices=("pci", "isa"), default="pci")
    ap.add_argument("--no-qemu", action="store_true")
    args = ap.parse_args()
    fox86 = os.environ.get("FOX86") or os.path.join(args.build_dir, "frontends", "fox86")
    if not os.access(fox86, os.X_OK):
        print("bench/net.py: no fox86 at %s (build first, or set FOX86)" % fox86)
        sys.exit(1)
    outdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fox86-net-bench.%d" % os.getpid())
    os.makedirs(outdir, exist_ok=True)
    runs = [("fox86", fox86)]
    qemu = None if args.no_qemu else next(
        (os.path.join(d, "qemu-system-i386") for d in os.environ.get("PATH", "").split(":")
         if os.access(os.path.join(d, "qemu-system-i386"), os.X_OK)), None)
    if qemu:
        runs.append(("qemu", qemu))
    table = {}
    for label, emu in runs:
        table[label] = measure(emu, args.nic, args.size, outdir, "bench-" + label)
        print("%-6s " % label + "  ".join("%s %.2f MB/s" % (d, v) for d, v in table[label].items()),
              flush=True)
    print("\n%d MB each way, ne2k_%s, -netdev user (no byte lost or changed)" % (args.size, args.nic))
    print("%-12s %12s %12s %14s" % ("direction", "fox86 MB/s", "QEMU MB/s", "fox86/QEMU"))
    for d in ("host->guest", "guest->host"):
        f = table["fox86"][d]
        q = table.get("qemu", {}).get(d)
        print("%-12s %12.2f %12s %14s" % (d, f, "%.2f" % q if q else "-", "%.2f" % (f / q) if q else "-"))


if __name__ == "__main__":
    main()
