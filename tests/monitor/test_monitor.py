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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from fox86_host import connect, free_port, read_png, read_until, run_tests  # noqa: E402

FOX86, KERNEL, OUTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
PROMPT = b"(fox86) "
failures = []
running = []   # fox86 processes to kill if a check raises


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
    running.append(proc)
    return proc, transcript


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


def test_tcp():
    port = free_port()
    proc, transcript = start(["-monitor", "tcp:127.0.0.1:%d,server,nowait" % port], "tcp")
    s = connect(("127.0.0.1", port), socket.AF_INET)
    check(b"fox86 monitor" in read_until(s, PROMPT), "tcp: greeting")
    check("EAX=" in command(s, "info registers"), "tcp: info registers")
    check(wait_file(transcript, "ready"), "tcp: the guest runs")
    s.sendall(b"sendkey esc\n")   # kbd_echo passes on Esc's break code
    finish(proc, 33, "tcp: sendkey esc ends kbd_echo")


def elf_bytes_at(path, paddr, n):
    """n bytes the ELF loads at physical address paddr (from its PT_LOAD)."""
    import struct
    data = open(path, "rb").read()
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        p_type, p_offset, p_vaddr, p_paddr, p_filesz = struct.unpack_from("<IIIII", data, phoff + i * phentsize)
        if p_type == 1 and p_paddr <= paddr and paddr + n <= p_paddr + p_filesz:
            return data[p_offset + paddr - p_paddr:p_offset + paddr - p_paddr + n]
    return None


def symbol_address(path, name):
    out = subprocess.run(["nm", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == name:
            return int(f[0], 16)
    return None


def objdump_mnemonics(path, start, count):
    out = subprocess.run(["objdump", "-d", "-M", "intel", "--start-address=%#x" % start,
                          "--stop-address=%#x" % (start + 64), path],
                         capture_output=True, text=True).stdout
    mnems = []
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 3 and f[0].strip().endswith(":"):
            mnems.append(f[2].split()[0])
    return mnems[:count]


def transcript_lines(path):
    return open(path, errors="replace").read().split()


def test_commands():
    import re
    sock = os.path.join(OUTDIR, "cmd.sock")
    proc, transcript = start(["-monitor", "unix:%s,server,nowait" % sock], "cmd")
    s = connect(sock)
    read_until(s, PROMPT)
    check(wait_file(transcript, "ready"), "commands: the guest runs")
    check(re.search(r"^\* CPU #0: pc=0x[0-9a-f]{8}", command(s, "info cpus"), re.M) is not None,
          "info cpus: one CPU and its pc")
    pci = command(s, "info pci")
    check(all(i in pci for i in ("Host bridge: PCI device 8086:1237", "ISA bridge: PCI device 8086:7000",
                                 "IDE controller: PCI device 8086:7010",
                                 "VGA controller: PCI device 1234:1111")),
          "info pci: the i440FX, PIIX3, its IDE and the VGA")
    mtree = command(s, "info mtree")
    check("00000000-07ffffff (prio 0, ram): ram" in mtree and "0cf8-0cff" in mtree,
          "info mtree: 128 MiB of RAM and the PCI config ports")
    check("instructions executed" in command(s, "info stats"), "info stats: the --stats text")
    # xp against the bytes the ELF loads at 1 MiB
    want = elf_bytes_at(KERNEL, 0x100000, 16)
    words = " ".join("0x%08x" % int.from_bytes(want[i:i + 4], "little") for i in range(0, 16, 4))
    check(command(s, "xp/4x 0x100000").strip() == "0000000000100000: " + words,
          "xp/4x 0x100000 shows the kernel's first 16 bytes")
    check(command(s, "xp/8xb 0x100000").strip() == "0000000000100000: " +
          " ".join("0x%02x" % b for b in want[:8]), "xp/8xb: bytes")
    check(command(s, "x/2xw 0x100004").strip().split(":")[1].split() ==
          ["0x%08x" % int.from_bytes(want[i:i + 4], "little") for i in (4, 8)],
          "x/2xw: paging off, linear = physical")
    # x/Ni against objdump on the same ELF, with the symbol named
    addr = symbol_address(KERNEL, "test_main")
    lines = command(s, "x/6i %#x" % addr).strip().splitlines()
    got = [l.split(":  ")[1].split()[0] for l in lines]
    want_m = objdump_mnemonics(KERNEL, addr, 6)
    check(got == want_m and lines[0].startswith("0x%08x <test_main>:" % addr),
          "x/6i test_main: Capstone's mnemonics match objdump's %s / %s" % (got, want_m))
    check("Cannot access memory" not in command(s, "x/2i $eip"), "x/2i $eip")
    check("invalid format" in command(s, "x/4z 1") and "expected an address" in command(s, "xp/4x nowhere"),
          "x: bad format and bad address are errors")
    # stop / cont: no instruction runs while stopped; a key waits for cont
    command(s, "stop")
    a = command(s, "info status")
    time.sleep(0.3)
    command(s, "sendkey a")
    time.sleep(0.3)
    b = command(s, "info status")
    check("paused" in a and a == b, "stop: the instruction count stands still")
    check("1e" not in transcript_lines(transcript), "stop: the key is not read while stopped")
    command(s, "cont")
    check(wait_file(transcript, "9e"), "cont: the guest reads the key (1e, 9e) after cont")
    check("running" in command(s, "info status"), "cont: running")
    command(s, "sendkey ctrl-alt-delete")
    wait_file(transcript, "9d")
    seq = transcript_lines(transcript)
    want_seq = ["1d", "38", "e0", "53", "e0", "d3", "b8", "9d"]
    check(any(seq[i:i + 8] == want_seq for i in range(len(seq))),
          "sendkey ctrl-alt-delete: the guest reads 1d 38 e0 53 e0 d3 b8 9d")
    s.sendall(b"quit\n")
    finish(proc, 0, "commands: quit")


def pixel(png, x, y):
    row = png[2][y]
    return tuple(row[3 * x:3 * x + 3])


def test_screendump_vbe():
    sock = os.path.join(OUTDIR, "shot.sock")
    shot = os.path.join(OUTDIR, "vbe.png")
    if os.path.exists(shot):
        os.remove(shot)
    proc, transcript = start(["-monitor", "unix:%s,server,nowait" % sock], "shot")
    s = connect(sock)
    read_until(s, PROMPT)
    check(wait_file(transcript, "ready"), "screendump: the guest runs")
    command(s, "sendkey v")   # kbd_echo draws 1920x1080: red | blue, a white square at 0,0
    check(wait_file(transcript, "vbe drawn"), "screendump: the guest drew its VBE picture")
    reply = command(s, "screendump " + shot)
    check(reply.strip() == "" and os.path.exists(shot), "screendump FILE.png: no error, a file " + reply)
    png = read_png(shot)
    check(png[:2] == (1920, 1080), "screendump: 1920x1080 (%dx%d)" % png[:2])
    want = {(0, 0): (255, 255, 255), (63, 63): (255, 255, 255), (64, 10): (255, 0, 0),
            (10, 64): (255, 0, 0), (959, 540): (255, 0, 0), (960, 540): (0, 0, 255),
            (1919, 1079): (0, 0, 255)}
    got = {xy: pixel(png, *xy) for xy in want}
    check(got == want, "screendump: the pixels the guest wrote %s" % got)
    check("screendump:" in command(s, "screendump /nonexistent-dir/x.png"),
          "screendump to an unwritable path: an error reply")
    s.sendall(b"quit\n")
    finish(proc, 0, "screendump: quit")


def test_screendump_text():
    """SeaBIOS's text screen: each cell of info text blank or not, as the PNG shows it."""
    sock = os.path.join(OUTDIR, "text.sock")
    shot = os.path.join(OUTDIR, "text.png")
    os.makedirs(OUTDIR, exist_ok=True)
    args = [FOX86, "-display", "none", "-serial", "null", "-monitor", "unix:%s,server,nowait" % sock]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    running.append(proc)
    s = connect(sock)
    read_until(s, PROMPT)
    deadline, text = time.time() + 60, ""
    while time.time() < deadline and "No bootable device" not in text:
        time.sleep(0.2)
        text = command(s, "info text")
    check("SeaBIOS" in text, "screendump text: SeaBIOS's screen is up")
    command(s, "stop")   # the screen must not change between the two reads
    text = command(s, "info text")
    command(s, "screendump " + shot)
    command(s, "cont")
    png = read_png(shot)
    check(png[:2] == (720, 400), "screendump text: 80x25 cells of 9x16 = 720x400 (%dx%d)" % png[:2])
    lines = text.split("\n")[:25]
    mismatches = []
    for row in range(25):
        line = lines[row] if row < len(lines) else ""
        for col in range(80):
            blank = col >= len(line) or line[col] == " "
            lit = any(png[2][y][col * 27:col * 27 + 27] != bytes(27) for y in range(row * 16, row * 16 + 16))
            if blank == lit:
                mismatches.append((row, col, line[col] if col < len(line) else " "))
    # the blinking cursor may light one blank cell
    check(len(mismatches) <= 1 and any(l.strip() for l in lines),
          "screendump text: every cell lit exactly where info text has a character %s" % mismatches[:5])
    s.sendall(b"quit\n")
    finish(proc, 0, "screendump text: quit")


qmp_events = []


def qmp_read(f):
    """The next reply; events on the way are kept in qmp_events."""
    import json
    while True:
        line = f.readline()
        if not line:
            return None
        msg = json.loads(line)
        if "event" not in msg:
            return msg
        qmp_events.append(msg["event"])


def test_qmp():
    import json
    qsock = os.path.join(OUTDIR, "qmp.sock")
    msock = os.path.join(OUTDIR, "hmp.sock")
    shot = os.path.join(OUTDIR, "qmp.png")
    proc, transcript = start(["-qmp", "unix:%s,server,nowait" % qsock,
                              "-monitor", "unix:%s,server,nowait" % msock], "qmp")
    q = connect(qsock)
    f = q.makefile("r")
    greeting = qmp_read(f)
    check(greeting is not None and "QMP" in greeting and greeting["QMP"]["capabilities"] == [],
          "qmp: greeting %s" % greeting)

    def execute(name, args=None, **extra):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        msg.update(extra)
        q.sendall(json.dumps(msg).encode() + b"\n")
        return qmp_read(f)

    r = execute("query-status")
    check(r.get("error", {}).get("class") == "CommandNotFound", "qmp: commands wait for qmp_capabilities")
    check(execute("qmp_capabilities") == {"return": {}}, "qmp: qmp_capabilities")
    check(execute("query-status", id="s1") == {"return": {"status": "running", "singlestep": False,
                                                          "running": True}, "id": "s1"},
          "qmp: query-status, id echoed")
    r = execute("human-monitor-command", {"command-line": "info pci"})
    check("VGA controller: PCI device 1234:1111" in r.get("return", ""),
          "qmp: human-monitor-command runs info pci")
    check(wait_file(transcript, "ready"), "qmp: the guest runs")
    check(execute("stop") == {"return": {}}, "qmp: stop")
    m = connect(msock)
    read_until(m, PROMPT)
    check("paused" in command(m, "info status"), "qmp: the human monitor sees the stop")
    check(execute("cont") == {"return": {}} and execute("query-status")["return"]["status"] == "running",
          "qmp: cont")
    check(qmp_events[:2] == ["STOP", "RESUME"], "qmp: STOP and RESUME events %s" % qmp_events)
    command(m, "stop")
    command(m, "cont")
    check(execute("query-status")["return"]["status"] == "running" and qmp_events[2:4] == ["STOP", "RESUME"],
          "qmp: the human monitor's stop and cont are events too %s" % qmp_events)
    r = execute("human-monitor-command", {"command-line": "sendkey v"})
    check(r == {"return": ""}, "qmp: sendkey through human-monitor-command")
    check(wait_file(transcript, "vbe drawn"), "qmp: the guest drew")
    check(execute("screendump", {"filename": shot}) == {"return": {}}, "qmp: screendump")
    png = read_png(shot)
    check(png[:2] == (1920, 1080) and pixel(png, 5, 5) == (255, 255, 255) and
          pixel(png, 1000, 500) == (0, 0, 255), "qmp: the screendump shows the guest's picture")
    r = execute("screendump", {"filename": "/nonexistent-dir/x.png"})
    check(r.get("error", {}).get("class") == "GenericError", "qmp: screendump error")
    for bad in [b"{\"execute\": }\n", b"not json\n", b"[1, 2]\n", b"{\"execute\": 5}\n",
                b"\xff\xfe{\"a\"\n}\n"]:
        q.sendall(bad)
        r = qmp_read(f)
        check(r is not None and r.get("error", {}).get("class") == "GenericError",
              "qmp: malformed %r gets an error reply" % bad)
    check(execute("query-status")["return"]["status"] == "running", "qmp: still serving after bad input")
    q.sendall(b'{"execute": "query-st')   # leave mid-message
    q.close()
    q = connect(qsock)
    f = q.makefile("r")
    check("QMP" in qmp_read(f), "qmp: a second client is greeted")
    check(execute("qmp_capabilities") == {"return": {}}, "qmp: and negotiates afresh")
    check(execute("quit") == {"return": {}}, "qmp: quit answered")
    qmp_read(f)
    check(qmp_events[-1:] == ["SHUTDOWN"], "qmp: a SHUTDOWN event after quit")
    finish(proc, 0, "qmp: quit")


def test_registers_vs_qemu():
    """info registers in QEMU's layout: the lines that stand still while
    kbd_echo polls the keyboard must equal qemu-system-i386's."""
    import shutil
    qemu = shutil.which("qemu-system-i386")
    if not qemu:
        print("skip registers_vs_qemu: qemu-system-i386 not installed")
        return
    def registers(binary, name, prompt, extra):
        sock = os.path.join(OUTDIR, name + ".sock")
        transcript = os.path.join(OUTDIR, name + ".e9")
        if os.path.exists(transcript):
            os.remove(transcript)
        proc = subprocess.Popen([binary, "-kernel", KERNEL, "-display", "none", "-serial", "null",
                                 "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot",
                                 "-debugcon", "file:" + transcript,
                                 "-monitor", "unix:%s,server,nowait" % sock] + extra,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        running.append(proc)
        s = connect(sock)
        read_until(s, prompt)
        wait_file(transcript, "ready")
        s.sendall(b"info registers\n")
        text = read_until(s, prompt).decode(errors="replace")
        proc.kill()
        proc.wait()
        return {l.split("=")[0]: l.rstrip() for l in text.replace("\r", "").split("\n") if "=" in l}
    ours = registers(FOX86, "regs_fox86", PROMPT, [])
    theirs = registers(qemu, "regs_qemu", b"(qemu) ", ["-accel", "tcg"])
    keys = ["ESI", "ES ", "SS ", "DS ", "FS ", "GS ", "GDT", "IDT", "CR0", "DR0", "DR6"]
    diff = [(k, ours.get(k), theirs.get(k)) for k in keys if ours.get(k) != theirs.get(k)]
    check(not diff, "info registers: the steady lines equal QEMU's %s" % diff)
    import re
    pat = r"EIP=[0-9a-f]{8} EFL=[0-9a-f]{8} \[[-DOSZAPC]{7}\] CPL=\d II=\d A20=\d SMM=\d HLT=\d$"
    check(all(re.match(pat, d.get("EIP", "")) for d in (ours, theirs)),
          "info registers: the EIP line has QEMU's layout: %r / %r" % (ours.get("EIP"), theirs.get("EIP")))


def test_start_stopped():
    """-S: no guest code until cont (QEMU's -S); system_reset while stopped;
    without a monitor, an error."""
    sock = os.path.join(OUTDIR, "stopped.sock")
    proc, transcript = start(["-S", "-monitor", "unix:%s,server,nowait" % sock], "stopped")
    s = connect(sock)
    read_until(s, PROMPT)
    check("VM status: paused" in command(s, "info status"), "-S: info status says paused")
    time.sleep(1.0)
    check(not wait_file(transcript, "ready", timeout=0.5), "-S: the guest has not run")
    command(s, "cont")
    check(wait_file(transcript, "ready"), "-S: cont starts the guest")
    check("VM status: running" in command(s, "info status"), "-S: then info status says running")
    # system_reset while stopped: done at once (as QEMU's), still paused; cont boots again
    command(s, "stop")
    regs = command(s, "info registers")
    command(s, "system_reset")
    after = command(s, "info registers")
    check("EAX=2badb002" in after and "EIP=" in after and after != regs,
          "system_reset while stopped: the registers are the multiboot entry's at once %r" % after[:120])
    check("VM status: paused" in command(s, "info status"), "system_reset while stopped: still paused")
    time.sleep(0.5)
    check(open(transcript, errors="replace").read().count("ready") == 1,
          "system_reset while stopped: no guest code runs")
    command(s, "cont")
    deadline = time.time() + 20
    while time.time() < deadline and open(transcript, errors="replace").read().count("ready") < 2:
        time.sleep(0.05)
    check(open(transcript, errors="replace").read().count("ready") == 2,
          "system_reset while stopped, then cont: the guest boots again")
    s.sendall(b"quit\n")
    finish(proc, 0, "-S: quit")
    proc, transcript = start(["-S"], "stopped-nomon")
    finish(proc, 1, "-S without a monitor: one-line error")


TESTS = [test_registers_vs_qemu, test_start_stopped, test_unix_lines, test_tcp, test_commands, test_screendump_vbe, test_screendump_text, test_qmp]

if __name__ == "__main__":
    os.makedirs(OUTDIR, exist_ok=True)   # (a fresh build tree has none)
    run_tests(TESTS, check, failures, running)
