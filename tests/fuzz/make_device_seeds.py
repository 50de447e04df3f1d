#!/usr/bin/env python3
"""tests/fuzz/make_device_seeds.py: writes seed inputs for fuzz_devices.

Each seed is a guest-side program (the format is in tests/fuzz/fuzz_devices.c)
that reaches one deep device state: an IDE READ DMA through a PRD table, PIO
reads and writes, an ATAPI READ(10) by PIO and by DMA, a floppy READ DATA and
WRITE DATA through the 8237, a Bochs VBE mode set with LFB and banked writes,
VGA text mode, fw_cfg, PIT/RTC/i8042 traffic. The same seeds are kept in
tests/fuzz/regress/devices/ (seed-*), so they replay in every build.
Deterministic output; not needed by the build.

Usage: python3 tests/fuzz/make_device_seeds.py OUTDIR
"""
import os
import struct
import sys

OP_OUT, OP_IN, OP_MEMW, OP_MEMR, OP_TIME, OP_DISPLAY, OP_RESET, OP_LOAD, \
    OP_REP_IN, OP_REP_OUT, OP_INTA, OP_PCI, OP_KEY, OP_MOUSE = range(14)
SIZE = {1: 0, 2: 1, 4: 2}
BM = 0xC000


def port(p):
    return bytes([0xF0]) + struct.pack("<H", p)


def out(p, v, size=1):
    return bytes([OP_OUT]) + port(p) + bytes([SIZE[size]]) + v.to_bytes(size, "little")


def inp(p, size=1):
    return bytes([OP_IN]) + port(p) + bytes([SIZE[size]])


def rep_in(p, n, size=2):
    return bytes([OP_REP_IN]) + port(p) + bytes([SIZE[size]]) + struct.pack("<H", n - 1)


def rep_out(p, data, size=2):
    n = len(data) // size
    return bytes([OP_REP_OUT]) + port(p) + bytes([SIZE[size]]) + struct.pack("<H", n - 1) + data


def load(addr, data):
    assert len(data) < 256
    return bytes([OP_LOAD]) + addr.to_bytes(3, "little") + bytes([len(data)]) + data


def memw(kind, off, v, size=1):
    return bytes([OP_MEMW, kind]) + off.to_bytes(3, "little") + bytes([SIZE[size]]) + \
        v.to_bytes(size, "little")


def memr(kind, off, size=1):
    return bytes([OP_MEMR, kind]) + off.to_bytes(3, "little") + bytes([SIZE[size]])


def memr_any(addr, size=1):
    """kind 6: any address (3 low bytes, then the high byte)"""
    return bytes([OP_MEMR, 6]) + addr.to_bytes(4, "little") + bytes([SIZE[size]])


def time(ns_units=1000, shift=0):
    return bytes([OP_TIME, shift]) + struct.pack("<H", ns_units - 1)


def prd(entries):
    """entries: (address, bytes, last)"""
    return b"".join(struct.pack("<IHH", a, n & 0xFFFF, 0x8000 if last else 0)
                    for a, n, last in entries)


DISPLAY = bytes([OP_DISPLAY])
INTA = bytes([OP_INTA])


def ata_taskfile(base, lba, count, cmd, dev=0xE0):
    return (out(base + 6, dev | ((lba >> 24) & 0x0F)) + out(base + 2, count) +
            out(base + 3, lba & 0xFF) + out(base + 4, (lba >> 8) & 0xFF) +
            out(base + 5, (lba >> 16) & 0xFF) + out(base + 7, cmd))


def ide_read_dma():
    s = load(0x1000, prd([(0x2000, 512, False), (0x4000, 1024, True)]))
    s += out(BM + 4, 0x1000, 4) + out(BM + 2, 0x06)
    s += ata_taskfile(0x1F0, 2, 3, 0xC8)                 # READ DMA, 3 sectors
    s += out(BM, 0x09) + time() + inp(BM + 2) + inp(0x1F7) + INTA
    s += memr(3, 0x2000, 4) + memr(3, 0x4200, 4)
    # WRITE DMA from the same buffers, then READ DMA EXT (LBA48)
    s += out(BM, 0x00) + out(BM + 2, 0x06)
    s += ata_taskfile(0x1F0, 7, 3, 0xCA) + out(BM, 0x01) + time() + inp(BM + 2) + inp(0x1F7)
    s += out(BM, 0x00) + out(0x1F2, 0) + out(0x1F3, 0) + out(0x1F4, 0) + out(0x1F5, 0)
    s += ata_taskfile(0x1F0, 1, 3, 0x25, 0x40) + out(BM, 0x09) + time() + inp(BM + 2)
    return s


def ide_pio():
    s = out(0x3F6, 0x00) + ata_taskfile(0x1F0, 0, 0, 0xEC, 0xA0)   # IDENTIFY
    s += inp(0x1F7) + rep_in(0x1F0, 256) + inp(0x1F7)
    s += ata_taskfile(0x1F0, 3, 2, 0x20) + rep_in(0x1F0, 512) + inp(0x1F7)   # READ SECTORS
    s += ata_taskfile(0x1F0, 4, 2, 0x30) + rep_out(0x1F0, bytes(range(256)) * 4)  # WRITE SECTORS
    s += inp(0x1F7) + inp(0x1F1) + ata_taskfile(0x1F0, 5, 1, 0x20) + inp(0x1F7) + inp(0x1F1)
    s += inp(0x1F7) + out(0x1F2, 4) + out(0x1F7, 0xC6)            # SET MULTIPLE 4
    s += ata_taskfile(0x1F0, 500, 8, 0xC4) + rep_in(0x1F0, 128, 4) + inp(0x1F7)  # READ MULTIPLE
    s += ata_taskfile(0x1F0, 510, 8, 0x20) + rep_in(0x1F0, 2048) + inp(0x1F7)   # past the end
    s += out(0x3F6, 0x04) + out(0x3F6, 0x00) + inp(0x1F7)        # software reset
    return s


def atapi_packet(base, pkt, limit=0x800, features=0, dev=0xA0):
    return (out(base + 6, dev) + out(base + 1, features) + out(base + 4, limit & 0xFF) +
            out(base + 5, limit >> 8) + out(base + 7, 0xA0) + inp(base + 7) +
            rep_out(base, pkt.ljust(12, b"\0")))


def atapi():
    s = atapi_packet(0x170, bytes([0x00]))                 # TEST UNIT READY: unit attention
    s += inp(0x177) + atapi_packet(0x170, bytes([0x03, 0, 0, 0, 18])) + rep_in(0x170, 9)
    s += atapi_packet(0x170, bytes([0x25])) + rep_in(0x170, 4)      # READ CAPACITY
    s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 3, 0, 0, 2])) # READ(10) LBA 3, 2 blocks
    s += inp(0x172) + inp(0x174) + inp(0x175) + rep_in(0x170, 2048) + inp(0x177) + INTA
    s += atapi_packet(0x170, bytes([0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24]))  # READ TOC
    s += rep_in(0x170, 0x12) + inp(0x177)
    s += atapi_packet(0x170, bytes([0x12, 0, 0, 0, 36])) + rep_in(0x170, 18)   # INQUIRY
    s += atapi_packet(0x170, bytes([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 0x20]))  # MODE SENSE(10)
    s += rep_in(0x170, 16)
    # READ(10) by DMA on the secondary bus master
    s += load(0x1100, prd([(0x8000, 0x1000, True)]))
    s += out(BM + 0xC, 0x1100, 4) + out(BM + 0xA, 0x06)
    s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 14, 0, 0, 2]), features=1)
    s += out(BM + 8, 0x09) + time() + inp(BM + 0xA) + inp(0x177) + memr(3, 0x8800, 4)
    # the empty slave: not ready
    s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 1]), dev=0xB0) + inp(0x177)
    s += atapi_packet(0x170, bytes([0xBE, 0, 0, 0, 0, 1, 0, 0, 1, 0x10]), dev=0xA0)  # READ CD
    s += rep_in(0x170, 1024)
    return s


def atapi_commands():
    """Every MMC command the drive knows, odd byte limits, errors."""
    s = out(0x176, 0xA0) + out(0x177, 0xA1) + rep_in(0x170, 256)      # IDENTIFY PACKET DEVICE
    s += out(0x171, 0x03) + out(0x172, 0x42) + out(0x177, 0xEF)       # SET FEATURES: UDMA2
    s += out(0x177, 0xA1) + rep_in(0x170, 256) + out(0x177, 0xEC) + inp(0x177)
    s += atapi_packet(0x170, bytes([0x00])) + inp(0x177)
    cmds = [
        bytes([0x1B, 0, 0, 0, 0x03]),                         # START STOP UNIT
        bytes([0x1E, 0, 0, 0, 1]), bytes([0x1B, 0, 0, 0, 0x02]), bytes([0x1E, 0, 0, 0, 0]),
        bytes([0x2B, 0, 0, 0, 0, 9]), bytes([0x2B, 0, 0, 0, 9, 9]),   # SEEK, bad SEEK
        bytes([0x1A, 0, 0x3F, 0, 0xFF]), bytes([0x5A, 0, 0x01, 0, 0, 0, 0, 0x01, 0]),
        bytes([0x5A, 0, 0xBF, 0, 0, 0, 0, 0x01, 0]), bytes([0x5A, 0, 0x3F, 0, 0, 0, 0, 0x01, 0]),
        bytes([0x43, 0x02, 0, 0, 0, 0, 0, 0x03, 0x24]),       # READ TOC, MSF
        bytes([0x43, 0, 1, 0, 0, 0, 0, 0, 12]), bytes([0x43, 2, 2, 0, 0, 0, 0, 1, 0]),
        bytes([0x43, 0, 0, 0, 0, 0, 0xAA, 0, 12]), bytes([0x43, 0, 0, 0, 0, 0, 5, 0, 12]),
        bytes([0x46, 0, 0, 0, 0, 0, 0, 0x01, 0]), bytes([0x46, 2, 0, 0x1E, 0, 0, 0, 0, 0x40]),
        bytes([0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8]), bytes([0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8]),
        bytes([0x51, 0, 0, 0, 0, 0, 0, 0, 34]), bytes([0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8]),
        bytes([0xBB, 0, 0xFF, 0xFF]), bytes([0x42, 0x02, 0x40, 1, 0, 0, 0, 0, 16]),
        bytes([0x42, 0, 0, 0, 0, 0, 0, 0, 0]), bytes([0x55, 0x10]), bytes([0xFF]),
        bytes([0x28, 0, 0, 0, 0, 15, 0, 0, 2]),                # READ(10) past the end
        bytes([0x28, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0xFF, 0xFF]),
        bytes([0xA8, 0, 0, 0, 0, 4, 0, 0, 0, 3]),              # READ(12) over block 5
        bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 0]),                 # zero blocks
    ]
    for c in cmds:
        s += atapi_packet(0x170, c) + inp(0x177) + inp(0x174) + inp(0x175) + rep_in(0x170, 40)
        s += inp(0x177) + INTA
    # odd and zero byte limits on a READ(10) of 3 blocks, and a 32-bit data read
    for limit in (0, 0x1FF, 0xFFFF, 3):
        s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 3]), limit=limit)
        s += inp(0x174) + inp(0x175) + rep_in(0x170, 1600, 4) + inp(0x177)
        s += out(0x376, 0x04) + out(0x376, 0x00) + inp(0x177)          # software reset
    # DMA with a short PRD table, with bus mastering off, and over block 5
    s += load(0x1200, prd([(0x9000, 512, True)]))
    s += out(BM + 0xC, 0x1200, 4) + out(BM + 0xA, 0x06)
    s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 1]), features=1)
    s += out(BM + 8, 0x09) + time() + inp(BM + 0xA) + inp(0x177)
    s += atapi_packet(0x170, bytes([0x03, 0, 0, 0, 18])) + rep_in(0x170, 9)
    s += load(0x1200, prd([(0xFFFFF000, 0x2000, False), (0xA0000, 0x2000, True)]))
    s += out(BM + 8, 0) + out(BM + 0xA, 0x06)
    s += atapi_packet(0x170, bytes([0x28, 0, 0, 0, 0, 4, 0, 0, 2]), features=1)
    s += out(BM + 8, 0x09) + time() + inp(BM + 0xA) + inp(0x177)
    s += bytes([OP_PCI, 0x09, 0x04, SIZE[2]]) + (1).to_bytes(2, "little")   # master off
    s += atapi_packet(0x170, bytes([0x25]), features=1) + out(BM + 8, 0x09) + inp(BM + 0xA)
    s += out(0x376, 0x04) + out(0x376, 0x00) + out(0x177, 0x08) + inp(0x177)  # resets
    return s


def fw_cfg_dma():
    """fw_cfg DMA: read the file directory, skip, select, write, bad addresses."""
    def desc(control, length, addr):
        return struct.pack(">IIQ", control, length, addr)
    s = load(0x3000, desc(0x19 << 16 | 0x08 | 0x02, 64, 0x3100))        # select+read
    s += out(0x514, 0, 4) + out(0x518, 0x00300000, 4) + memr(3, 0x3000, 4) + memr(3, 0x3100, 4)
    s += load(0x3000, desc(0x04, 16, 0x3100)) + out(0x518, 0x00300000, 4)   # skip
    s += load(0x3000, desc(0x10, 16, 0x3100)) + out(0x518, 0x00300000, 4)   # write
    s += load(0x3000, desc(0x02, 0x10000, 0xFFFF8000)) + out(0x518, 0x00300000, 4)
    s += load(0x3000, desc(0x02, 0x100, 0xE0000)) + out(0x518, 0x00300000, 4)   # BIOS area
    s += load(0x3000, desc(0x02, 0x2000, 0xA0000)) + out(0x518, 0x00300000, 4)  # VGA window
    s += out(0x514, 0x01000000, 4) + out(0x518, 0x00300000, 4)             # above 4 GiB
    s += out(0x518, 0xF8FFFFFF, 4) + rep_in(0x514, 8, 1)                     # straddles 4 GiB
    return s


def key(k, flags=0):
    return bytes([OP_KEY, k, flags])


def mouse(dx, dy, dz, buttons):
    return bytes([OP_MOUSE, dx & 0xFF, dy & 0xFF, dz & 0xFF, buttons])


def kbc():
    """i8042 and PS/2 devices with host input: scancode sets, translation,
    the mouse in stream mode with wheel (IntelliMouse sequence), queues
    filled by a guest that does not read, controller commands."""
    s = out(0x64, 0x20) + inp(0x60) + out(0x64, 0x60) + out(0x60, 0x47)
    s += out(0x64, 0xA8) + out(0x64, 0xAE) + out(0x60, 0xFF) + inp(0x60) + inp(0x60)
    s += out(0x60, 0xF0) + out(0x60, 0x02) + inp(0x60) + inp(0x60)       # set 2
    for k in (0x1E, 0x1C, 0x2A):
        s += key(k) + inp(0x64) + inp(0x60) + key(k, 1) + inp(0x60) + inp(0x60)
    s += key(0x48, 2) + key(0x48, 3) + key(0, 4) + rep_in(0x60, 12, 1)
    s += out(0x60, 0xF0) + out(0x60, 0x03) + key(0x1E) + key(0x48, 2) + rep_in(0x60, 6, 1)
    s += out(0x60, 0xF0) + out(0x60, 0x00) + rep_in(0x60, 3, 1)         # get set
    s += out(0x60, 0xF0) + out(0x60, 0x01) + key(0x1E) + rep_in(0x60, 4, 1)
    s += out(0x60, 0xED) + out(0x60, 0x07) + out(0x60, 0xF3) + out(0x60, 0x7F) + out(0x60, 0xEE)
    s += out(0x60, 0xF2) + rep_in(0x60, 8, 1) + out(0x60, 0xF5) + key(0x10) + out(0x60, 0xF4)
    s += b"".join(key(0x10 + i) for i in range(40)) + rep_in(0x60, 80, 1)     # overflow
    for b in (0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF2, 0xE8, 0x03, 0xE6, 0xE7, 0xF4):
        s += out(0x64, 0xD4) + out(0x60, b) + inp(0x60)
    s += inp(0x60) + mouse(5, -3, 1, 1) + mouse(-100, 127, -1, 6) + rep_in(0x60, 10, 1)
    s += b"".join(mouse(i, -i, 0, 0) for i in range(30)) + out(0x64, 0xD4) + out(0x60, 0xEB)
    s += rep_in(0x60, 200, 1) + out(0x64, 0xD3) + out(0x60, 0x5A) + out(0x64, 0xD2) + out(0x60, 0x1C)
    s += rep_in(0x60, 3, 1) + out(0x64, 0xA9) + out(0x64, 0xAB) + out(0x64, 0xC0) + out(0x64, 0xD0)
    s += rep_in(0x60, 4, 1) + out(0x64, 0xD1) + out(0x60, 0xDD) + out(0x64, 0xD1) + out(0x60, 0xDF)
    s += out(0x64, 0xAD) + key(0x1E) + out(0x64, 0xA7) + mouse(1, 1, 0, 0) + inp(0x64) + inp(0x60)
    s += out(0x64, 0xFE) + inp(0x64)                                      # pulse reset
    return s


def pci(devfn, reg, v, size=4):
    return bytes([OP_PCI, devfn, reg, SIZE[size]]) + v.to_bytes(size, "little")


def pci_read(devfn, reg, size=4):
    return out(0xCF8, 0x80000000 | devfn << 8 | (reg & 0xFC), 4) + inp(0xCFC + (reg & 3), size)


def pci_config():
    """PAM and SMRAM (with the BIOS image), PIRQ routing, ELCR, BAR sizing
    and moves (onto RAM, the VGA window, out of the port space), ROM BAR."""
    s = b""
    for reg, v in ((0x59, 0x30), (0x5A, 0x33), (0x5B, 0x11), (0x5C, 0x22), (0x5F, 0x33), (0x59, 0x10)):
        s += pci(0x00, reg, v, 1) + memw(4, 0x30000 + (reg - 0x59) * 0x4000, 0x12345678, 4)
        s += memr(4, 0x30000 + (reg - 0x59) * 0x4000, 4)
    s += pci(0x00, 0x72, 0x4A, 1) + pci(0x00, 0x72, 0x1A, 1) + pci(0x00, 0x72, 0x4A, 1)
    s += pci(0x08, 0x60, 0x0B0A0503, 4) + pci(0x08, 0x62, 0x80, 1) + out(0x4D0, 0x20) + out(0x4D1, 0x0E)
    s += pci(0x09, 0x40, 0xA307A307, 4) + pci_read(0x09, 0x40)
    for devfn, reg in ((0x09, 0x20), (0x10, 0x10), (0x10, 0x18), (0x10, 0x30)):
        s += pci(devfn, reg, 0xFFFFFFFF) + pci_read(devfn, reg)
    s += pci(0x09, 0x20, 0xFFF1) + pci(0x09, 0x20, 0xC000)
    s += pci(0x10, 0x18, 0x000A0000) + memr(0, 0, 4) + memr_any(0xA0400, 4)
    s += pci(0x10, 0x18, 0xE1000000) + memw(0, 0x8000, 0x55, 1) + memr(0, 0x8000, 1)
    s += pci(0x10, 0x10, 0x00000000) + memw(5, 0x1000, 0xAA55, 2) + memr(5, 0x1000, 2)
    s += pci(0x10, 0x10, 0xFF000000) + pci(0x10, 0x30, 0xFFFE0001) + pci(0x10, 0x04, 0, 2)
    s += pci(0x10, 0x04, 3, 2) + pci(0x09, 0x04, 0, 2) + inp(BM + 2) + pci(0x09, 0x04, 5, 2)
    s += pci_read(0x00, 0x00) + pci_read(0x08, 0x08) + pci_read(0x78, 0x00) + pci_read(0x10, 0x3C)
    s += out(0xCF9, 0x02) + out(0xCF9, 0x06) + out(0x92, 0x02) + out(0x92, 0x01)   # resets
    s += memr_any(0xFFFFFFF0, 4)
    return s


def dma_channel2(addr, count, mode):
    return (out(0x0C, 0) + out(0x0B, mode) + out(0x04, addr & 0xFF) + out(0x04, (addr >> 8) & 0xFF) +
            out(0x81, addr >> 16) + out(0x05, (count - 1) & 0xFF) + out(0x05, (count - 1) >> 8) +
            out(0x0A, 0x02))


def fdc_cmd(*b):
    return b"".join(out(0x3F5, x) for x in b)


def fdc_result(n):
    return b"".join(inp(0x3F4) + inp(0x3F5) for _ in range(n))


def floppy():
    s = out(0x3F2, 0x00) + out(0x3F2, 0x1C) + time(100)          # reset, motor A, DMA gate
    s += b"".join(fdc_cmd(0x08) + fdc_result(2) for _ in range(4))  # SENSE INTERRUPT x4
    s += out(0x3F7, 0x00) + fdc_cmd(0x03, 0xDF, 0x02)            # 500K, SPECIFY (DMA)
    s += fdc_cmd(0x07, 0x00) + time() + fdc_cmd(0x08) + fdc_result(2)   # RECALIBRATE
    s += fdc_cmd(0x0F, 0x00, 0x01) + time() + fdc_cmd(0x08) + fdc_result(2)  # SEEK cyl 1
    s += dma_channel2(0x10000, 1024, 0x46)                       # write to memory
    s += fdc_cmd(0xE6, 0x00, 0x01, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + time() + INTA
    s += fdc_result(7) + memr(5, 0x10000, 4)
    s += dma_channel2(0x10000, 512, 0x4A)                        # read from memory
    s += fdc_cmd(0xC5, 0x04, 0x01, 0x01, 0x05, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)  # WRITE
    s += fdc_cmd(0x4A, 0x00) + fdc_result(7)                     # READ ID
    s += fdc_cmd(0x10) + fdc_result(1) + fdc_cmd(0x0E) + fdc_result(10)   # VERSION, DUMPREG
    s += fdc_cmd(0x03, 0xDF, 0x03)                               # SPECIFY: non-DMA
    s += fdc_cmd(0xE6, 0x00, 0x01, 0x00, 0x02, 0x02, 0x03, 0x1B, 0xFF)
    s += b"".join(inp(0x3F4) + inp(0x3F5) for _ in range(40)) + out(0x3F2, 0x08)
    return s


def floppy_more():
    """FORMAT TRACK (DMA and PIO), VERIFY, READ TRACK, READ over block 5,
    relative seeks, CONFIGURE with implied seek, LOCK, PERPENDICULAR,
    SENSE DRIVE STATUS, wrong data rate, drive B (empty)."""
    s = out(0x3F7, 0x00) + fdc_cmd(0x03, 0xDF, 0x02)
    s += fdc_cmd(0x04, 0x00) + fdc_result(1) + fdc_cmd(0x04, 0x01) + fdc_result(1)
    s += fdc_cmd(0x13, 0x00, 0x57, 0x00) + fdc_cmd(0x94) + fdc_result(1) + fdc_cmd(0x14)
    s += fdc_result(1) + fdc_cmd(0x12, 0x00)
    s += fdc_cmd(0x07, 0x00) + fdc_cmd(0x08) + fdc_result(2)
    ids = b"".join(bytes([0, 0, r, 2]) for r in range(1, 19))
    s += load(0x20000, ids[:72])
    s += dma_channel2(0x20000, 72, 0x4A)
    s += fdc_cmd(0x4D, 0x00, 0x02, 18, 0x54, 0xF6) + time() + fdc_result(7)   # FORMAT by DMA
    s += dma_channel2(0x20000, 512 * 8, 0x46)
    s += fdc_cmd(0xE6, 0x00, 0x00, 0x00, 0x04, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)  # over block 5
    s += fdc_cmd(0xF6, 0x80, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0x05) + fdc_result(7)  # VERIFY EC
    s += fdc_cmd(0xF6, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)  # VERIFY
    s += dma_channel2(0x20000, 512 * 18, 0x46)
    s += fdc_cmd(0x42, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)  # READ TRACK
    s += fdc_cmd(0xE6, 0x00, 0x05, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)  # wrong C
    s += fdc_cmd(0xE6, 0x00, 0x00, 0x00, 0x01, 0x07, 0x12, 0x1B, 0xFF) + fdc_result(7)  # N=7
    s += fdc_cmd(0xE6, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x1B, 0x80) + fdc_result(7)  # N=0
    s += fdc_cmd(0x8F, 0x00, 0x05) + fdc_cmd(0x08) + fdc_result(2)                      # relative
    s += fdc_cmd(0xCF, 0x00, 0x09) + fdc_cmd(0x08) + fdc_result(2)
    s += fdc_cmd(0x0F, 0x00, 0xFF) + fdc_cmd(0x08) + fdc_result(2)                      # cyl 255
    s += fdc_cmd(0xE6, 0x00, 0xFF, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)
    s += fdc_cmd(0x03, 0xDF, 0x03)                                                      # PIO
    s += fdc_cmd(0x07, 0x00) + fdc_cmd(0x08) + fdc_result(2)
    s += fdc_cmd(0x4D, 0x00, 0x02, 2, 0x54, 0xE5) + rep_out(0x3F5, bytes([0, 0, 1, 2, 0, 0, 9, 2]), 1)
    s += fdc_result(7)
    s += fdc_cmd(0xC5, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x1B, 0xFF) + rep_out(0x3F5, bytes(512), 1)
    s += fdc_result(7)
    s += out(0x3F7, 0x02) + fdc_cmd(0x4A, 0x00) + fdc_result(7)                       # 250K: no AM
    s += out(0x3F2, 0x2D) + fdc_cmd(0x4A, 0x01) + fdc_result(7) + inp(0x3F7)            # drive B
    # the 8237 counting down, then autoinitialising, on a DMA READ DATA
    s += out(0x3F2, 0x08) + out(0x3F2, 0x1C) + b"".join(fdc_cmd(0x08) + fdc_result(2) for _ in range(4))
    s += out(0x3F7, 0x00) + fdc_cmd(0x03, 0xDF, 0x02)
    s += fdc_cmd(0x07, 0x00) + fdc_cmd(0x08) + fdc_result(2)
    s += dma_channel2(0x30000 + 1023, 1024, 0x66)
    s += fdc_cmd(0xE6, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)
    s += dma_channel2(0x30000, 512, 0x56)
    s += fdc_cmd(0xE6, 0x00, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF) + fdc_result(7)
    s += inp(0x08) + inp(0x04) + inp(0x04) + inp(0x05) + inp(0x05)
    s += out(0x3F4, 0x80) + inp(0x3F4)                                                  # DSR reset
    s += fdc_cmd(0x13, 0x00, 0x17, 0x05) + fdc_cmd(0x0E) + fdc_result(10)
    return s


def vbe(idx, v):
    return out(0x1CE, idx, 2) + out(0x1CF, v, 2)


def vga_vbe():
    s = out(0x1CE, 0, 2) + inp(0x1CF, 2) + vbe(0, 0xB0C5)
    s += vbe(4, 0) + vbe(1, 640) + vbe(2, 480) + vbe(3, 32) + vbe(4, 0x41)   # LFB mode
    s += b"".join(memw(1, i * 4 * 641, 0x00FF8000 + i, 4) for i in range(16)) + DISPLAY
    s += vbe(4, 0) + vbe(3, 8) + vbe(6, 1024) + vbe(9, 100) + vbe(4, 0x01) + vbe(5, 3)  # banked
    s += b"".join(memw(0, i * 97, i, 1) for i in range(16)) + DISPLAY
    s += out(0x3C8, 0) + b"".join(out(0x3C9, i) for i in range(48))  # DAC
    s += memw(2, 0x500 + 2 * 1, 800, 2) + memw(2, 0x500 + 2 * 4, 0x41, 2) + memr(2, 0x600, 4)
    s += vbe(3, 4) + vbe(4, 0x41) + DISPLAY + vbe(3, 24) + vbe(4, 0x41) + DISPLAY
    s += vbe(3, 15) + vbe(1, 1600) + vbe(2, 1200) + vbe(4, 0xC1) + DISPLAY + vbe(4, 0)
    return s


VGA_TEXT_REGS = {
    "seq": [0x03, 0x00, 0x03, 0x00, 0x02],
    "crtc": [0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E,
             0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF],
    "gc": [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF],
    "ac": [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B,
           0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00],
}


def vga_text():
    s = out(0x3C2, 0x67)
    for i, v in enumerate(VGA_TEXT_REGS["seq"]):
        s += out(0x3C4, i) + out(0x3C5, v)
    s += out(0x3D4, 0x11) + out(0x3D5, 0x0E)
    for i, v in enumerate(VGA_TEXT_REGS["crtc"]):
        s += out(0x3D4, i) + out(0x3D5, v)
    for i, v in enumerate(VGA_TEXT_REGS["gc"]):
        s += out(0x3CE, i) + out(0x3CF, v)
    s += inp(0x3DA)
    for i, v in enumerate(VGA_TEXT_REGS["ac"]):
        s += out(0x3C0, i) + out(0x3C0, v)
    s += out(0x3C0, 0x20)
    s += b"".join(memw(0, 0x18000 + 2 * i, 0x1F00 | (0x41 + i), 2) for i in range(20))
    s += out(0x3D4, 0x0E) + out(0x3D5, 0x07) + out(0x3D4, 0x0F) + out(0x3D5, 0xCF)  # cursor far off
    s += DISPLAY + out(0x3D4, 0x09) + out(0x3D5, 0x1F) + out(0x3D4, 0x01) + out(0x3D5, 0xFF)
    s += DISPLAY + out(0x3CE, 5) + out(0x3CF, 0x40) + out(0x3C0, 0x30) + out(0x3C0, 0x41) + DISPLAY
    return s


def misc():
    s = out(0x510, 0x19, 2) + rep_in(0x511, 64, 1)                 # fw_cfg file dir
    s += out(0x510, 0x00, 2) + rep_in(0x511, 4, 1)
    s += out(0x43, 0x34) + out(0x40, 0x00) + out(0x40, 0x10) + time(1000, 10) + INTA
    s += out(0x20, 0x11) + out(0x21, 0x08) + out(0x21, 0x04) + out(0x21, 0x01) + out(0x21, 0x00)
    s += time(1000, 12) + INTA + out(0x20, 0x20)
    s += out(0x70, 0x0B) + out(0x71, 0x42) + out(0x70, 0x0A) + out(0x71, 0x26) + time(1000, 14)
    s += out(0x70, 0x0C) + inp(0x71) + inp(0x61) + out(0x61, 0x03)
    s += out(0x64, 0xAA) + inp(0x64) + inp(0x60) + out(0x64, 0x60) + out(0x60, 0x47)
    s += out(0x60, 0xFF) + time() + inp(0x60) + inp(0x60) + out(0x64, 0xD4) + out(0x60, 0xF4)
    s += inp(0x60) + out(0x3F8 + 3, 0x80) + out(0x3F8, 1) + out(0x3F8 + 3, 3) + out(0x3F8, 0x41)
    return s


SEEDS = {
    "ide-read-dma": ide_read_dma,
    "ide-pio": ide_pio,
    "atapi": atapi,
    "atapi-commands": atapi_commands,
    "fw-cfg-dma": fw_cfg_dma,
    "floppy": floppy,
    "floppy-more": floppy_more,
    "vga-vbe": vga_vbe,
    "vga-text": vga_text,
    "misc": misc,
    "kbc": kbc,
    "pci-config": pci_config,
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_device_seeds.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, fn in SEEDS.items():
        with open(os.path.join(outdir, "seed-" + name), "wb") as f:
            f.write(b"\x00" + fn())
    with open(os.path.join(outdir, "seed-pci-config-bios"), "wb") as f:
        f.write(b"\x04" + pci_config())
    # the media-error variants of the storage seeds
    for name in ("ide-read-dma", "atapi", "atapi-commands", "floppy", "floppy-more", "ide-pio"):
        with open(os.path.join(outdir, "seed-" + name + "-eio"), "wb") as f:
            f.write(b"\x01" + SEEDS[name]())


if __name__ == "__main__":
    main()
