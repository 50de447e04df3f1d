#!/usr/bin/env python3
"""tests/guest/guest_kolibri.py: KolibriOS (../shared/guests) to its desktop,
and its menu opened by a mouse click through the SDL window.

    guest_kolibri.py FOX86 SHARED_GUESTS_DIR [OUTDIR]

Boots a private copy of kolibri-2020.img (-fda, -boot a, -m 256; the shared
image is never written). The desktop check, as the guests' README says: a
1024x768 VBE screen like kolibri2020.png. The monitor's screendump is
compared with it pixel by pixel, the clock (bottom right) and the mouse
cursor aside, and must agree on 99% of the pixels.
When xvfb-run and xdotool are installed, fox86 runs with -display sdl on a
private Xvfb screen: the pointer is grabbed (Ctrl+Alt+G), pushed into the
bottom-left corner, moved onto the green "Menu" button and clicked; the
menu must open above it (the area over the button changes on at least 20%
of its pixels). Without them only the desktop is checked, with -display
none. Exit 77 when the image is absent.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pylib"))
from fox86_host import connect, read_png, read_until  # noqa: E402

W, H = 1024, 768
CLOCK = (940, 740, 1024, 768)          # x0, y0, x1, y1: changes every minute
MENU_AREA = (0, 450, 220, 735)          # where the menu opens, above the button


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def differing(a, b, box=None, skip=()):
    """Pixels that differ between two (w, h, rows) pictures, in box."""
    x0, y0, x1, y1 = box or (0, 0, W, H)
    n = 0
    for y in range(y0, y1):
        ra, rb = a[2][y], b[2][y]
        for x in range(x0, x1):
            if any(s[0] <= x < s[2] and s[1] <= y < s[3] for s in skip):
                continue
            if ra[3 * x:3 * x + 3] != rb[3 * x:3 * x + 3]:
                n += 1
    return n


def inner(fox86, shared, outdir, use_sdl):
    img = os.path.join(outdir, "kolibri.img")
    shutil.copyfile(os.path.join(shared, "kolibri-2020.img"), img)
    ref = read_png(os.path.join(shared, "kolibri2020.png"))
    sock = os.path.join(outdir, "mon.sock")
    if os.path.exists(sock):
        os.remove(sock)
    proc = subprocess.Popen([fox86, "-m", "256", "-fda", img, "-boot", "a", "-serial", "null",
                             "-display", "sdl" if use_sdl else "none",
                             "-monitor", "unix:%s,server,nowait" % sock],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(outdir, "fox86.err"), "w"))
    try:
        s = connect(sock, timeout=30, io_timeout=60)
        read_until(s, b"(fox86) ")

        def shot(name):
            path = os.path.join(outdir, name)
            s.sendall(("screendump %s\n" % path).encode())
            read_until(s, b"(fox86) ")
            return read_png(path) if os.path.exists(path) else None

        # the cursor starts mid-screen: keep it out of the comparison
        cursor = (500, 380, 530, 410)
        deadline, best = time.time() + 150, None
        while time.time() < deadline:
            time.sleep(3)
            pic = shot("desktop.png")
            if not pic or pic[:2] != (W, H):
                continue
            best = differing(pic, ref, skip=(CLOCK, cursor))
            if best <= W * H // 100:
                break
        if best is None or best > W * H // 100:
            fail("no KolibriOS desktop like kolibri2020.png: %s pixels differ" % best)
        print("ok: the 1024x768 desktop matches kolibri2020.png (%d pixels differ, clock and cursor aside)" % best)
        if not use_sdl:
            return
        wid = subprocess.run(["xdotool", "search", "--sync", "--name", "^fox86"],
                             capture_output=True, text=True, timeout=30).stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], timeout=10)
        time.sleep(0.3)
        subprocess.run(["xdotool", "key", "ctrl+alt+g"], timeout=10)
        time.sleep(0.5)
        for _ in range(12):                   # into the bottom-left corner
            subprocess.run(["xdotool", "mousemove_relative", "--", "-200", "200"], timeout=10)
            time.sleep(0.05)
        time.sleep(0.5)
        for _ in range(4):                    # onto "Menu": right and up, slowly
            subprocess.run(["xdotool", "mousemove_relative", "--", "5", "-2"], timeout=10)
            time.sleep(0.2)
        time.sleep(0.5)
        before = shot("before-click.png")
        subprocess.run(["xdotool", "click", "1"], timeout=10)
        opened = 0
        for _ in range(20):
            time.sleep(0.5)
            after = shot("menu.png")
            opened = differing(before, after, box=MENU_AREA)
            area = (MENU_AREA[2] - MENU_AREA[0]) * (MENU_AREA[3] - MENU_AREA[1])
            if opened >= area // 5:
                break
        if opened < area // 5:
            fail("clicking Menu opened nothing: %d of %d pixels above it changed" % (opened, area))
        print("ok: a click on Menu through the SDL window opened the menu (%d pixels changed)" % opened)
    finally:
        try:
            s.sendall(b"quit\n")
            proc.wait(timeout=20)
        except Exception:
            proc.kill()
            proc.wait()


def main():
    fox86, shared = sys.argv[1], sys.argv[2]
    outdir = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="fox86-kolibri.")
    os.makedirs(outdir, exist_ok=True)
    if not os.path.exists(os.path.join(shared, "kolibri-2020.img")):
        print("SKIP: %s/kolibri-2020.img is absent (../shared)" % shared)
        sys.exit(77)
    if os.environ.get("KOLIBRI_INNER") == "1":
        inner(fox86, shared, outdir, True)
    elif shutil.which("xvfb-run") and shutil.which("xdotool"):
        env = dict(os.environ, KOLIBRI_INNER="1")
        r = subprocess.run(["xvfb-run", "-a", "-s", "-noreset -screen 0 1280x1024x24",
                            sys.executable, os.path.abspath(__file__), fox86, shared, outdir],
                           env=env, timeout=600)
        if r.returncode != 0:
            sys.exit(r.returncode)
    else:
        print("note: no xvfb-run/xdotool: the desktop only, no click")
        inner(fox86, shared, outdir, False)
    print("PASS")


if __name__ == "__main__":
    main()
