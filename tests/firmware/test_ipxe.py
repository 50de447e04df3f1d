#!/usr/bin/env python3
"""tests/firmware/test_ipxe.py: network boot firmware on the ne2k_pci card.

    test_ipxe.py FOX86

With Debian's ipxe-qemu installed, fox86 gives the ne2k_pci card iPXE as its
boot ROM (bios/firmware.h FIRMWARE_NE2K_PCI_ROM). Boots SeaBIOS with
`-nic user,model=ne2k_pci,restrict=on -boot n -display none` and reads the
VGA text screen through the monitor (`info text`) until iPXE has finished:
it must have driven the card (its rtl8029 driver on 00:03.0, the link up),
got 10.0.2.15 by DHCP from slirp, and gone on to the next boot device (no
boot file is offered). Exit 77 when the ROM is not installed.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from fox86_host import connect, quit_emulator, read_until  # noqa: E402

ROM = "/usr/lib/ipxe/qemu/pxe-ne2k_pci.rom"
WANT = ["iPXE", "net0: 52:54:00:12:34:56 using rtl8029 on 0000:00:03.0",
        "net0: 10.0.2.15/255.255.255.0"]


def main():
    fox86 = sys.argv[1]
    if not os.path.exists(ROM):
        print("SKIP: %s is not installed (Debian: ipxe-qemu)" % ROM)
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="fox86-ipxe.")
    sock = os.path.join(tmp, "mon.sock")
    proc = subprocess.Popen([fox86, "-m", "64", "-display", "none", "-serial", "null",
                             "-nic", "user,model=ne2k_pci,restrict=on", "-boot", "n",
                             "-monitor", "unix:%s,server,nowait" % sock],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    screen = ""
    s = None
    try:
        s = connect(sock, timeout=30, io_timeout=30)
        read_until(s, b"(fox86) ")
        deadline = time.time() + 90
        while time.time() < deadline:
            s.sendall(b"info text\n")
            screen = read_until(s, b"(fox86) ").decode(errors="replace").replace("\r", "")
            if "Nothing to boot" in screen or "No more network devices" in screen:
                break
            time.sleep(0.5)
    finally:
        quit_emulator(proc, s)
    missing = [w for w in WANT if w not in screen]
    if missing or "No more network devices" not in screen:
        print("FAIL: iPXE did not get through; missing %s. Screen:\n%s" % (missing, screen))
        sys.exit(1)
    for line in screen.split("\n"):
        if line.startswith("net0:"):
            print("ok: " + line.strip())
    print("PASS: iPXE drove the ne2k_pci card and got its address by DHCP")


if __name__ == "__main__":
    main()
