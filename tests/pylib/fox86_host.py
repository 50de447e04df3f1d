"""tests/pylib/fox86_host.py: host-side helpers the Python tests share
(the monitor tests, the VGA mode screenshots, the guest tests and
bench/net.py): a socket that waits for the emulator to listen, reading up
to a marker, a free loopback port, a PNG reader that needs only zlib, the
default guest's cache folder (skip when it is not built), and ending an
emulator through its monitor.

Usage:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
    from fox86_host import connect, read_until, free_port, read_png
    width, height, rows = read_png("shot.png")   # rows: bytes of R, G, B
"""
import os
import socket
import struct
import sys
import time
import zlib

# scripts/build-guest.sh's output: vmlinuz, initrd.img, cmdline
GUEST = os.path.join(os.environ.get("FOX86_CACHE", os.path.expanduser("~/.cache/fox86")), "guest")


def require_guest():
    """Exit 77 (CTest's skip) unless the default guest is built."""
    for f in ("vmlinuz", "initrd.img", "cmdline"):
        if not os.path.exists(os.path.join(GUEST, f)):
            print("SKIP: the guest is not built (scripts/build-guest.sh)")
            sys.exit(77)


def quit_emulator(proc, s):
    """`quit` on monitor socket s and wait for proc; killed if that fails
    or it does not exit within 20 s."""
    try:
        if s is not None:
            s.sendall(b"quit\n")
            proc.wait(timeout=20)
    except Exception:
        pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def connect(addr, family=socket.AF_UNIX, timeout=20, io_timeout=20):
    """Connect to addr, retrying until the emulator listens (timeout s)."""
    deadline = time.time() + timeout
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            s.settimeout(io_timeout)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def read_until(s, marker):
    """Bytes from s up to and including marker (or up to EOF)."""
    data = b""
    while not data.endswith(marker):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG
    (alpha dropped); chunk CRCs are checked."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack_from(">I", data, pos + 8 + length)
        assert zlib.crc32(kind + body) == crc, "bad CRC in " + kind.decode()
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack_from(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "not 8-bit RGB(A)"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f != 0:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if f == 1:
                    line[i] = (line[i] + a) & 255
                elif f == 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if bpp == 4:
            line = bytearray(b for i, b in enumerate(line) if i % 4 != 3)
        rows.append(bytes(line))
    return width, height, rows


def run_tests(tests, check, failures, running):
    """Run each test function; an exception (a timeout, a closed socket) is
    a failure of that test, not a hang. Then kill the processes left in
    running, print the count of failures and exit 1 if there were any."""
    import sys
    try:
        for t in tests:
            try:
                t()
            except Exception as e:
                check(False, "%s: %r" % (t.__name__, e))
    finally:
        for p in running:
            if p.poll() is None:
                p.kill()
                p.wait()
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)
