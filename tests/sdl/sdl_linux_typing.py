#!/usr/bin/env python3
"""tests/sdl/sdl_linux_typing.py: a line typed into the SDL window reaches
the default Linux guest's shell, which echoes it on its VGA console.

    sdl_linux_typing.py FOX86 [OUTDIR]

Runs itself again under xvfb-run, boots the default guest with -display
sdl and a command line whose last console is tty0 (so /init's shell runs
on the VGA console and reads the PS/2 keyboard), waits for the ready line
in `info text`, types `echo typed` and a number with xdotool into the
window, presses Return and waits for the number alone on a line of the
screen (the shell's output, not the typed command). Exit 0 pass, 1 fail,
77 skipped (guest not built, or no xvfb-run/xdotool).
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pylib"))
from fox86_host import GUEST, connect, quit_emulator, read_until, require_guest  # noqa: E402


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def screen(s):
    s.sendall(b"info text\n")
    return read_until(s, b"(fox86) ").decode("utf-8", errors="replace").replace("\r", "")


def wait_screen(s, pattern, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        text = screen(s)
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.5)
    return None


def inner(fox86, outdir):
    sock = os.path.join(outdir, "mon.sock")
    if os.path.exists(sock):
        os.remove(sock)
    with open(os.path.join(GUEST, "cmdline")) as f:
        args = [a for a in f.read().split() if not a.startswith("console=")]
    cmdline = " ".join(args + ["console=ttyS0,115200", "console=tty0"])
    err = open(os.path.join(outdir, "fox86.err"), "w")
    proc = subprocess.Popen([fox86, "-m", "256", "-display", "sdl", "-audio", "none", "-no-reboot",
                             "-kernel", os.path.join(GUEST, "vmlinuz"),
                             "-initrd", os.path.join(GUEST, "initrd.img"), "-append", cmdline,
                             "-serial", "file:" + os.path.join(outdir, "serial.txt"),
                             "-monitor", "unix:%s,server,nowait" % sock],
                            stdout=err, stderr=err)
    s = None
    try:
        s = connect(sock, timeout=30, io_timeout=60)
        read_until(s, b"(fox86) ")
        if wait_screen(s, r"FOX86-GUEST-READY", 300) is None:
            fail("no ready line on the VGA console:\n" + screen(s))
        if wait_screen(s, r"#\s*$", 30) is None:
            fail("no shell prompt on the VGA console:\n" + screen(s))
        print("ok: the guest's shell is at its prompt on the VGA console")
        wid = subprocess.run(["xdotool", "search", "--name", "^fox86"], capture_output=True,
                             text=True).stdout.split()
        if not wid:
            fail("no window named fox86")
        subprocess.run(["xdotool", "windowfocus", "--sync", wid[0]], capture_output=True)
        token = str(random.randint(100000, 999999))
        subprocess.run(["xdotool", "type", "--delay", "60", "echo typed" + token], check=True)
        subprocess.run(["xdotool", "key", "Return"], check=True)
        text = wait_screen(s, r"^typed%s\s*$" % token, 30)
        if text is None:
            fail("the shell did not echo typed%s:\n%s" % (token, screen(s)))
        shown = [l for l in text.split("\n") if token in l]
        print("ok: typed into the window, the guest's screen shows: %s" % " | ".join(l.rstrip() for l in shown))
    finally:
        quit_emulator(proc, s)


def main():
    fox86 = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="fox86-sdltype.")
    os.makedirs(outdir, exist_ok=True)
    require_guest()
    if os.environ.get("SDL_TYPING_INNER") == "1":
        inner(fox86, outdir)
        return
    if shutil.which("xvfb-run") and shutil.which("xdotool"):
        env = dict(os.environ, SDL_TYPING_INNER="1")
        r = subprocess.run(["xvfb-run", "-a", "-s", "-noreset -screen 0 1280x1024x24",
                            sys.executable, os.path.abspath(__file__), fox86, outdir],
                           env=env, timeout=600)
        if r.returncode != 0:
            sys.exit(r.returncode)
    else:
        print("SKIP: xvfb-run or xdotool is not installed (Debian: xvfb, xdotool)")
        sys.exit(77)
    print("PASS")


if __name__ == "__main__":
    main()
