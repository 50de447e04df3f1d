#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py: writes a seed corpus for fuzz_interp.

Each seed is a 16-byte header (see tests/fuzz/fuzz_interp.c) choosing one of
the eight starting modes, with and without paging, followed by a short
hand-written code snippet that reaches one area of the interpreter:
software interrupts, far transfers through call and task gates, IRET,
descriptor-table and control-register loads, string and I/O instructions,
the x87, HLT with an interrupt to wake it. Deterministic output.

Usage: python3 tests/fuzz/make_seeds.py OUTDIR
"""
import os
import sys

SNIPPETS = {
    "int":      bytes.fromhex("cd21 cd03 ce cd80 f4"),
    "callgate": bytes.fromhex("9a00000000 6300 ff1d00100000 f4"),    # call far 63:0, call far [0x1000]
    "taskgate": bytes.fromhex("ea00000000 7300 ea00000000 7800 f4"),  # jmp far 73:0, jmp far 78:0
    "iret":     bytes.fromhex("6a33 6800f00000 9c 6a2b 6a00 cf f4"),  # push ss,esp,fl,cs,ip; iretd
    "lgdt":     bytes.fromhex("0f0115 00100000 0f011d 00200000 0f00d8 0f00d0 f4"),
    "cr":       bytes.fromhex("0f20c0 83f001 0f22c0 0f20e0 0f22e0 0f01f8 ea00000000 0800 f4"),
    "segs":     bytes.fromhex("b82b00 8ed8 8ec0 b84800 8ee0 0fa1 1f 07 17 f4"),
    "string":   bytes.fromhex("fc b9ffff0000 be00000100 bf00100100 f3a5 f3ab f2ae f4"),
    "io":       bytes.fromhex("e460 e661 ec ee 66ed f36c f36e bafe03 ed f4"),
    "x87":      bytes.fromhex("9bdbe3 d9e8 d9eb dec9 d9fa dd3e0010 dd260010 d9f0 dfe0 f4"),
    "sti_hlt":  bytes.fromhex("fb f4 f4 ebfc"),
    "misc":     bytes.fromhex("0fa2 0f31 0f0b 0f01c1 c8100001 c9 62050010 0000 d4 0a f4"),
}


def header(mode, paging, iopl, wake):
    h = bytearray(16)
    h[0] = mode | (0x08 if paging else 0) | 0x10          # starting mode, paging, PSE
    h[1] = 0x08                                            # CR0.NE
    h[2] = iopl | 0x10                                     # IOPL, IF
    h[3] = 0x3F                                            # x87 exceptions masked
    h[4] = 0x40 if wake else 0                             # wake HLT with an interrupt
    h[6] = 0x21
    h[8] = 0
    return bytes(h)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for mode in range(8):
        for paging in (False, True):
            for name, code in SNIPPETS.items():
                seed = header(mode, paging, 3 if n % 3 == 0 else 0, name == "sti_hlt") + code
                with open(os.path.join(out, "seed-%d-%d-%s" % (mode, paging, name)), "wb") as f:
                    f.write(seed)
                n += 1
    print("%d seeds in %s" % (n, out))


if __name__ == "__main__":
    main()
