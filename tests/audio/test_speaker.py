#!/usr/bin/env python3
"""tests/audio/test_speaker.py: the PC speaker, recorded and measured.

    test_speaker.py FOX86 BEEP_KERNEL OUTDIR

Runs tests/baremetal/beep.c with -audio wav,path=OUTDIR/beep.wav and
measures the tones in the recording (the cone's swings): it must hold, in
order, 440 Hz for 200 ms, 880 Hz for 200 ms, 200 ms of
silence, 1 kHz for 100 ms, then silence (the frequencies are the PIT's:
1193182 / count). Then the -audio errors: an unknown driver, wav without a
path, a path that cannot be created: one "fox86: " line, exit status 1.
"""
import os
import subprocess
import sys
import wave

PIT_HZ = 1193182
PASS_STATUS = 33


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_beep(fox86, kernel, wav_path, outdir):
    transcript = os.path.join(outdir, "beep.e9.txt")
    cmd = [fox86, "-kernel", kernel, "-nographic", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-debugcon", "file:" + transcript, "-audio", "wav,path=" + wav_path]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    if r.returncode != PASS_STATUS:
        fail("beep kernel: exit status %d (pass is %d): %s" %
             (r.returncode, PASS_STATUS, r.stderr.decode(errors="replace")))
    with open(transcript) as f:
        if "beep: done" not in f.read():
            fail("beep kernel did not finish")


def read_wav(wav_path):
    with wave.open(wav_path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth()) != (1, 2):
            fail("expected 16-bit mono, got %d channels of %d bytes" %
                 (w.getnchannels(), w.getsampwidth()))
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    return rate, [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2)]


def tones(rate, samples, threshold=1000):
    """The tones in the recording: (Hz, start s, end s). The cone's swings
    are found with hysteresis (a swing is a crossing of -threshold to
    +threshold or back), and swings at a steady interval form one tone; a
    click (the speaker switched off and the DC blocker settling) makes at
    most one swing and no tone."""
    flips, state = [], 0
    for i, v in enumerate(samples):
        if v > threshold and state <= 0:
            state = 1
            flips.append(i)
        elif v < -threshold and state >= 0:
            state = -1
            flips.append(i)
    found, run = [], []
    for f in flips:
        if len(run) >= 2:
            interval = (run[-1] - run[0]) / (len(run) - 1)
            if abs((f - run[-1]) - interval) > 0.15 * interval:
                found.append(run)
                run = []
        elif len(run) == 1 and f - run[0] > rate // 100:   # more than 10 ms: not one tone
            run = []
        run.append(f)
    found.append(run)
    return [((len(r) - 1) * rate / (2.0 * (r[-1] - r[0])), r[0] / rate, r[-1] / rate)
            for r in found if len(r) >= 8]


def main():
    fox86, kernel, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    wav_path = os.path.join(outdir, "beep.wav")
    if os.path.exists(wav_path):
        os.remove(wav_path)
    run_beep(fox86, kernel, wav_path, outdir)

    rate, samples = read_wav(wav_path)
    heard = tones(rate, samples)
    print("recording: %d Hz, %.0f ms; tones: %s" % (
        rate, len(samples) * 1000.0 / rate,
        ", ".join("%.1f Hz %.0f-%.0f ms" % (hz, t0 * 1000, t1 * 1000) for hz, t0, t1 in heard)))
    want = [(PIT_HZ / 2712, 0.200), (PIT_HZ / 1356, 0.200), (PIT_HZ / 1193, 0.100)]
    if len(heard) != len(want):
        fail("expected %d tones, heard %d" % (len(want), len(heard)))
    for (hz, t0, t1), (want_hz, want_s) in zip(heard, want):
        if abs(hz - want_hz) > want_hz * 0.01:
            fail("tone at %.1f Hz, expected %.1f" % (hz, want_hz))
        # swings are found half a period late at most, at both ends
        if abs((t1 - t0) - want_s) > 1.0 / want_hz + 0.002:
            fail("%.0f Hz tone lasted %.1f ms, expected %.0f" % (want_hz, (t1 - t0) * 1000, want_s * 1000))
    if abs(heard[1][1] - heard[0][2]) > 0.003:
        fail("the 880 Hz tone does not follow the 440 Hz one at once")
    gap = heard[2][1] - heard[1][2]
    if abs(gap - 0.200) > 0.005:
        fail("expected 200 ms of silence before the 1 kHz tone, got %.1f ms" % (gap * 1000))
    tail = samples[int((heard[2][2] + 0.03) * rate):]
    if not tail or max(abs(v) for v in tail) > 50:
        fail("the recording does not end in silence")
    print("tones and silence as the PIT was programmed")

    for args, what in ((["-audio", "beeper"], "unknown driver"),
                       (["-audio", "wav"], "wav without a path"),
                       (["-audio", "wav,path=/nonexistent-dir/x.wav"], "wav path that cannot be created")):
        r = subprocess.run([fox86, "-kernel", kernel, "-nographic"] + args,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        err = r.stderr.decode(errors="replace").strip().splitlines()
        if r.returncode != 1 or len(err) != 1 or not err[0].startswith("fox86: "):
            fail("%s: status %d, stderr %r" % (what, r.returncode, err))
        print("%s: %s" % (what, err[0]))
    print("PASS")


if __name__ == "__main__":
    main()
