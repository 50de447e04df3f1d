#!/usr/bin/env python3
"""tests/vga/test_vga_modes.py: VGA and VBE modes, screenshot against the
expected picture, pixel for pixel.

usage: test_vga_modes.py FOX86 VGA_MODES_ELF OUTDIR

Runs the vga_modes bare-metal kernel (tests/baremetal/vga_modes.c) on fox86
with -display none and the monitor on a Unix socket. At each stage the
kernel announces on port 0xE9 ("stage NAME WxH") the test takes a
`screendump`, reads the PNG (zlib only) and compares it with the image
computed here from the same formulas as the kernel's (patterns, font,
attribute palette, DAC scaled 6 to 8 bits as devices/vga_render.c does:
v << 2 | v >> 4), then sends a key for the next stage; at the end the
kernel must exit with status 33. Any differing pixel fails: the report
names the first one and the count.

When qemu-system-i386 is installed the same kernel runs there too (its
SeaBIOS and VGA BIOS run first; the kernel reprograms everything) and its
screenshots are compared with the same images. QEMU draws the 256-colour
VGA modes with every pixel doubled both ways (640x400, 640x480): such a
picture is first checked to be an exact 2x2 replication, then compared.
Two known differences are kept out of the pictures, so every stage must
match on QEMU too (a mismatch fails): QEMU 7.2 scales a 6-bit DAC value as
v << 2 | (v & 1) * 3 (the kernel uses only values where that equals
v << 2 | v >> 4), and repeats column 8 into column 9 for characters
B0-DF where the VGA does it for C0-DF only (B0-BF glyphs keep column 8
clear).
Exit status 0 when everything matches.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from fox86_host import connect, read_png, read_until, run_tests  # noqa: E402

FOX86, KERNEL, OUTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []
running = []

# ---- the kernel's definitions (tests/baremetal/vga_modes.c), repeated ----
SIX_LEVELS = [0, 2, 4, 6, 8, 10, 12, 14, 49, 51, 53, 55, 57, 59, 61, 63]
EGA_AR = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
          0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F]


def six_to_eight(v):
    v &= 0x3F
    return (v << 2) | (v >> 4)


def rgb6(c):
    return bytes(six_to_eight(x) for x in c)


def ega_colour(n):
    """RGB of attribute value n in the text and 16-colour stages: DAC entry
    EGA_AR[n] holds colour n (dac_ega)."""
    return rgb6((SIX_LEVELS[(n * 5 + 1) & 15], SIX_LEVELS[(n * 3 + 7) & 15], SIX_LEVELS[15 - n]))


def glyph_row(ch, r):
    g = (ch * 167 + r * 73 + (ch >> 3) * r * 5) & 0xFF
    if 0xB0 <= ch <= 0xBF:
        g &= 0xFE
    return g


def expect_text():
    pal = [ega_colour(n) for n in range(16)]
    rows = []
    for y in range(400):
        row, rs = bytearray(), y % 16
        for col in range(80):
            i = (y // 16) * 80 + col
            ch, at = i & 0xFF, (i * 37) & 0xFF
            fg, bg = pal[at & 15], pal[at >> 4]      # blink off: 16 backgrounds
            g = glyph_row(ch, rs)
            for b in range(8):
                row += fg if g & (0x80 >> b) else bg
            row += fg if 0xC0 <= ch <= 0xDF and g & 1 else bg   # line graphics
        rows.append(bytes(row))
    return 720, 400, rows


def m12_colour(x, y):
    xb, bit = x >> 3, 7 - (x & 7)
    if y < 160:
        return (xb + (y >> 3)) & 15
    if y < 320:
        mask = ((xb * 13) ^ (y * 7)) & 0xFF
        return (xb * 5 + y) & 15 if mask >> bit & 1 else (y >> 2) & 15
    if y < 400:
        n = 0
        for p in range(4):
            d = (xb * (p + 1) * 17 + y * (2 * p + 3)) & 0xFF
            n |= (d >> bit & 1) << p
        return n
    if y < 440:   # rotate right 3, planes 0 and 2 from set/reset (y & 15), XOR
        d = (xb * 29 + y * 11) & 0xFF
        d = ((d >> 3) | (d << 5)) & 0xFF
        under, n = (xb * 3 + y) & 15, 0
        for p in range(4):
            v = (y >> p & 1) if p in (0, 2) else (d >> bit & 1)
            n |= (v ^ (under >> p & 1)) << p
        return n
    if y < 460:   # write mode 3: (data rotated right 5) & bit mask picks set/reset
        d = (xb * 53 + y) & 0xFF
        d = ((d >> 5) | (d << 3)) & 0xFF
        mask = d & (y * 23) & 0xFF
        return (xb * 7 + y) & 15 if mask >> bit & 1 else (xb + y * 5) & 15
    return m12_colour(x, y - 460)   # write mode 1: rows 0-19 copied


def expect_m12():
    pal = [ega_colour(n) for n in range(16)]
    return 640, 480, [b"".join(pal[m12_colour(x, y)] for x in range(640)) for y in range(480)]


def expect_256(w, h, index, rgb):
    pal = [rgb6(rgb(i)) for i in range(256)]
    return w, h, [b"".join(pal[index(x, y)] for x in range(w)) for y in range(h)]


def expect_m13():
    return expect_256(320, 200, lambda x, y: (x + y * 3) & 0xFF,
                      lambda i: (SIX_LEVELS[i & 15], SIX_LEVELS[i >> 4], SIX_LEVELS[(i * 7) & 15]))


def expect_modex():
    return expect_256(320, 240, lambda x, y: (x ^ (y * 3)) & 0xFF,
                      lambda i: (SIX_LEVELS[i >> 4], SIX_LEVELS[(i + 3) & 15],
                                 SIX_LEVELS[((i >> 2) + 5) & 15]))


def expect_vbe8():
    pal = [bytes((i, 255 - i, (i * 5) & 0xFF)) for i in range(256)]   # 8-bit DAC
    return 640, 480, [b"".join(pal[((x >> 1) ^ y) & 0xFF] for x in range(640)) for y in range(480)]


def expect_vbe32():
    rows = []
    for y in range(768):
        row = bytearray()
        for x in range(1024):
            row += bytes((x & 0xFF, y & 0xFF, ((x >> 8) | (y >> 8) << 2) << 4 | ((x ^ y) & 0x0F)))
        rows.append(bytes(row))
    return 1024, 768, rows


STAGES = [("text", (720, 400), expect_text), ("m12h", (640, 480), expect_m12),
          ("m13h", (320, 200), expect_m13), ("modex", (320, 240), expect_modex),
          ("vbe8", (640, 480), expect_vbe8), ("vbe32", (1024, 768), expect_vbe32)]


# ---- plumbing ----
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def halve(png):
    """A picture drawn with every pixel doubled both ways, at its own size;
    None if it is not an exact 2x2 replication."""
    w, h, rows = png
    if w % 2 or h % 2:
        return None
    out = []
    for y in range(0, h, 2):
        if rows[y] != rows[y + 1]:
            return None
        r = rows[y]
        left = b"".join(r[6 * i:6 * i + 3] for i in range(w // 2))
        right = b"".join(r[6 * i + 3:6 * i + 6] for i in range(w // 2))
        if left != right:
            return None
        out.append(left)
    return w // 2, h // 2, out


def compare(got, want):
    """'' when equal, else the first differing pixel and the count."""
    if got[:2] != want[:2]:
        return "size %dx%d, want %dx%d" % (got[0], got[1], want[0], want[1])
    first, count = None, 0
    for y in range(want[1]):
        g, e = got[2][y], want[2][y]
        if g == e:
            continue
        for x in range(want[0]):
            if g[3 * x:3 * x + 3] != e[3 * x:3 * x + 3]:
                count += 1
                if first is None:
                    first = (x, y, tuple(g[3 * x:3 * x + 3]), tuple(e[3 * x:3 * x + 3]))
    if not count:
        return ""
    return "%d pixel(s) differ, first at (%d,%d): %s, want %s" % ((count,) + first)


def wait_line(path, line, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and line in open(path, errors="replace").read().split("\n"):
            return True
        time.sleep(0.05)
    return False


def run(name, binary, prompt, extra, shot_args):
    """Run the kernel on one emulator; the list of (stage, message) where
    the screenshot differs ('' = exact), or None if it did not get far."""
    sock = os.path.join(OUTDIR, name + ".sock")
    transcript = os.path.join(OUTDIR, name + ".e9")
    for f in (sock, transcript):
        if os.path.exists(f):
            os.remove(f)
    proc = subprocess.Popen([binary, "-kernel", KERNEL, "-display", "none", "-serial", "null",
                             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot",
                             "-debugcon", "file:" + transcript,
                             "-monitor", "unix:%s,server,nowait" % sock] + extra,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    running.append(proc)
    s = connect(sock, timeout=30, io_timeout=60)
    read_until(s, prompt)
    results = []
    for stage, (w, h), expect in STAGES:
        if not wait_line(transcript, "stage %s %dx%d" % (stage, w, h)):
            check(False, "%s: the kernel reached stage %s" % (name, stage))
            proc.kill()
            return None
        shot = os.path.join(OUTDIR, "%s_%s.png" % (name, stage))
        if os.path.exists(shot):
            os.remove(shot)
        s.sendall((shot_args(shot) + "\n").encode())
        read_until(s, prompt)
        png = read_png(shot)
        want = expect()
        if png[:2] == (2 * w, 2 * h) and name != "fox86":
            halved = halve(png)
            msg = compare(halved, want) if halved else "%dx%d is not a 2x2 replication" % png[:2]
        else:
            msg = compare(png, want)
        results.append((stage, msg))
        s.sendall(b"sendkey a\n")
        read_until(s, prompt)
    try:
        status = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = proc.wait()
    check(status == 33, "%s: the kernel exits with status 33 after the last stage (%d) %s"
          % (name, status, proc.stderr.read().decode(errors="replace").strip()))
    return results


def main():
    os.makedirs(OUTDIR, exist_ok=True)
    ours = run("fox86", FOX86, b"(fox86) ", [], lambda f: "screendump " + f)
    for stage, msg in ours or []:
        check(msg == "", "fox86 %s: the screenshot equals the expected image %s" % (stage, msg))
    qemu = shutil.which("qemu-system-i386")
    if not qemu:
        print("skip qemu: qemu-system-i386 not installed")
        return
    theirs = run("qemu", qemu, b"(qemu) ", ["-accel", "tcg"], lambda f: "screendump %s -f png" % f)
    for stage, msg in theirs or []:
        check(msg == "", "qemu %s: the screenshot equals the expected image %s" % (stage, msg))


if __name__ == "__main__":
    run_tests([main], check, failures, running)
