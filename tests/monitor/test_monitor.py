#!/usr/bin/env python3
"""tests/monitor/test_monitor.py: the monitors over sockets, end to end.

usage: test_monitor.py FOX86 KBD_ECHO_ELF OUTDIR

Runs fox86 on the kbd_echo bare-metal kernel (it polls the keyboard,
prints each byte on port 0xE9, draws a known VBE picture on the V key and
exits with status 33 on Esc) with -display none and the monitor on a Unix
or TCP socket, and checks, as a client would see them:
  - the greeting and the prompt on connect; commands answered;
  - a line over the limit: one error reply, the line discarded, the next
    command works; control and non-ASCII bytes: an error reply, no crash;
  - a client that leaves mid-line: the next client starts clean.
Exit status 0 when every check passes.
"""
import os
import socket
import subprocess
import sys
import time

FOX86, KERNEL, OUTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
PROMPT = b"(fox86) "
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(extra, name):
    os.makedirs(OUTDIR, exist_ok=True)
    transcript = os.path.join(OUTDIR, name + ".e9")
    args = [FOX86, "-kernel", KERNEL, "-display", "none", "-serial", "null",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot",
            "-debugcon", "file:" + transcript] + extra
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, transcript


def connect(addr, family=socket.AF_UNIX, timeout=20):
    deadline = time.time() + timeout
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            s.settimeout(20)
            return s
        except OSError:
            s.close()
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def read_until(s, marker):
    data = b""
    while not data.endswith(marker):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def command(s, line):
    """Send one line, return the reply text before the next prompt."""
    s.sendall(line if isinstance(line, bytes) else line.encode() + b"\n")
    return read_until(s, PROMPT)[:-len(PROMPT)].decode("utf-8", "replace").replace("\r\n", "\n")


def wait_file(path, text, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return True
        time.sleep(0.05)
    return False


def finish(proc, expect_status, what):
    try:
        status = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    check(status == expect_status, "%s: exit status %d (want %d) %s" % (what, status, expect_status, err.strip()))


def test_unix_lines():
    sock = os.path.join(OUTDIR, "mon.sock")
    proc, transcript = start(["-monitor", "unix:%s,server,nowait" % sock], "unix")
    s = connect(sock)
    greeting = read_until(s, PROMPT)
    check(b"fox86 monitor" in greeting, "unix: greeting and prompt on connect")
    check(wait_file(transcript, "ready"), "unix: the guest runs beside the monitor")
    check("VM status: running" in command(s, "info status"), "unix: info status answered")
    reply = command(s, "x" * 600)
    check(reply.count("line too long") == 1 and "unknown command" not in reply,
          "unix: an overlong line gets one error reply and is discarded")
    check("VM status" in command(s, "info status"), "unix: the next line after it works")
    reply = command(s, b"\x01\x02\xff\xfe\x1b[A garbage\n")
    check("unknown command" in reply, "unix: control and non-ASCII bytes: an error reply")
    check("unknown item" in command(s, "info " + "z" * 400), "unix: an unknown info item")
    s.sendall(b"info sta")   # leave mid-line
    s.close()
    s = connect(sock)
    check(b"fox86 monitor" in read_until(s, PROMPT), "unix: a second client is greeted")
    check("unknown command: 'tus'" in command(s, "tus"),
          "unix: the first client's partial line was dropped")
    s.sendall(b"quit\n")
    finish(proc, 0, "unix: quit")
    check(not os.path.exists(sock), "unix: the socket file is removed at exit")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_tcp():
    port = free_port()
    proc, transcript = start(["-monitor", "tcp:127.0.0.1:%d,server,nowait" % port], "tcp")
    s = connect(("127.0.0.1", port), socket.AF_INET)
    check(b"fox86 monitor" in read_until(s, PROMPT), "tcp: greeting")
    check("EAX=" in command(s, "info registers"), "tcp: info registers")
    check(wait_file(transcript, "ready"), "tcp: the guest runs")
    s.sendall(b"sendkey esc\n")   # kbd_echo passes on Esc's break code
    finish(proc, 33, "tcp: sendkey esc ends kbd_echo")


TESTS = [test_unix_lines, test_tcp]

if __name__ == "__main__":
    for t in TESTS:
        t()
    print("%d failure(s)" % len(failures))
    sys.exit(1 if failures else 0)
