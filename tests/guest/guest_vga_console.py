#!/usr/bin/env python3
"""tests/guest/guest_vga_console.py: the Linux guest's VGA console, read two
ways through the monitor.

    guest_vga_console.py FOX86 [OUTDIR]

Boots the default guest (its command line has console=tty0: the kernel's
boot messages go to the VGA text console too) with -display none and a
monitor socket, waits for the ready line on the serial console, then takes
`info text` (the text screen as characters) and `screendump` (the picture
as PNG) and checks that they show the same screen:
  - the text holds the kernel's boot log (lines with "[  time]" stamps);
  - the picture is 720x400, 80x25 cells of 9x16 pixels;
  - every blank cell is plain background, every other cell has ink;
  - equal characters are drawn with equal cells and different characters
    with different ones (the font is one-to-one on what is shown), the
    cursor's cell aside.
Exit 0 pass, 1 fail, 77 skipped (guest not built).
"""
import os
import re
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pylib"))
sys.path.insert(0, here)
from fox86_host import GUEST, connect, read_png, read_until, require_guest  # noqa: E402
import guest_net  # noqa: E402  (the serial console helper)

CELL_W, CELL_H, COLS, ROWS = 9, 16, 80, 25


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    fox86 = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="fox86-vgacon.")
    os.makedirs(outdir, exist_ok=True)
    require_guest()
    guest = GUEST
    sock = os.path.join(outdir, "mon.sock")
    shot = os.path.join(outdir, "console.png")
    for f in (sock, shot):
        if os.path.exists(f):
            os.remove(f)
    with open(os.path.join(guest, "cmdline")) as f:
        cmdline = f.read().strip()
    con = guest_net.Console([fox86, "-m", "256", "-display", "none", "-no-reboot",
                             "-kernel", os.path.join(guest, "vmlinuz"),
                             "-initrd", os.path.join(guest, "initrd.img"), "-append", cmdline,
                             "-serial", "stdio", "-monitor", "unix:%s,server,nowait" % sock],
                            os.path.join(outdir, "console.log"))
    try:
        if con.expect("FOX86-GUEST-READY", 300) is None:
            fail("the guest did not reach its ready line")
        time.sleep(1)
        s = connect(sock, timeout=30, io_timeout=60)
        read_until(s, b"(fox86) ")
        s.sendall(b"info text\n")
        text = read_until(s, b"(fox86) ").decode("utf-8", errors="replace").replace("\r", "")
        s.sendall(("screendump %s\n" % shot).encode())
        read_until(s, b"(fox86) ")
    finally:
        con.close()
    lines = text.split("\n")[:ROWS]
    open(os.path.join(outdir, "console.txt"), "w").write(text)
    lines = [l.ljust(COLS)[:COLS] for l in lines]
    if len(lines) != ROWS:
        fail("info text gave %d rows" % len(lines))
    stamped = [l for l in lines if re.match(r"\[\s*\d+\.\d+\]", l)]
    if len(stamped) < 10:
        fail("no kernel boot log on the VGA console:\n" + "\n".join(lines))
    print("ok: the VGA console shows %d kernel log lines, the last: %s" % (len(stamped), stamped[-1].rstrip()))

    w, h, rows = read_png(shot)
    if (w, h) != (COLS * CELL_W, ROWS * CELL_H):
        fail("screendump is %dx%d, want %dx%d" % (w, h, COLS * CELL_W, ROWS * CELL_H))

    def cell(r, c):
        return tuple(rows[r * CELL_H + y][3 * c * CELL_W:3 * (c + 1) * CELL_W] for y in range(CELL_H))

    background = cell(0, 0)[0][:3] if lines[0][0] == " " else None
    glyphs, odd = {}, []
    for r in range(ROWS):
        for c in range(COLS):
            ch, px = lines[r][c], cell(r, c)
            colours = {px[y][3 * x:3 * x + 3] for y in range(CELL_H) for x in range(CELL_W)}
            if ch == " ":
                if len(colours) != 1 or (background and colours != {background}):
                    odd.append((r, c, ch))
                continue
            if len(colours) < 2:
                odd.append((r, c, ch))
                continue
            if ch in glyphs and glyphs[ch] != px:
                odd.append((r, c, ch))
                continue
            glyphs.setdefault(ch, px)
    # the cursor may be drawn over one cell
    if len(odd) > 1:
        fail("%d cells do not show what info text says, first %s" % (len(odd), odd[:5]))
    by_bitmap = {}
    for ch, px in glyphs.items():
        by_bitmap.setdefault(px, []).append(ch)
    same = [v for v in by_bitmap.values() if len(v) > 1]
    if same:
        fail("different characters drawn alike: %s" % same)
    print("ok: the screendump (720x400) shows the same screen: %d distinct characters, each "
          "with its own glyph, blanks plain%s" % (len(glyphs), ", cursor cell aside" if odd else ""))
    print("PASS")


if __name__ == "__main__":
    main()
