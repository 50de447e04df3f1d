#!/usr/bin/env python3
"""tests/sdl/xwd_pixel.py: print the colours of pixels of an X window dump.

    xwd_pixel.py DUMP.xwd X,Y [X,Y ...]   ->  one "RRGGBB" line per pixel
    xwd_pixel.py DUMP.xwd lit             ->  how many pixels are not black

Reads the ZPixmap dumps xwd writes for TrueColor visuals (24 or 32 bits
per pixel), using the header's byte order and colour masks; the first line
printed is the dump's "WIDTHxHEIGHT".
"""
import struct
import sys


def channel(pixel, mask):
    shift = (mask & -mask).bit_length() - 1
    return (pixel & mask) >> shift


def main():
    data = open(sys.argv[1], "rb").read()
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line = fields[7], fields[11], fields[12]
    red_mask, green_mask, blue_mask, ncolors = fields[14], fields[15], fields[16], fields[19]
    pixels_at = header_size + ncolors * 12
    step = bits_per_pixel // 8
    print("%dx%d" % (width, height))
    if sys.argv[2:] == ["lit"]:
        lit = 0
        for y in range(height):
            row = data[pixels_at + y * bytes_per_line:][:width * step]
            for x in range(0, width * step, step):
                pixel = int.from_bytes(row[x:x + step], "big" if byte_order == 1 else "little")
                lit += (pixel & (red_mask | green_mask | blue_mask)) != 0
        print(lit)
        return
    for arg in sys.argv[2:]:
        x, y = (int(v) for v in arg.split(","))
        raw = data[pixels_at + y * bytes_per_line + x * step:][:step]
        pixel = int.from_bytes(raw, "big" if byte_order == 1 else "little")
        print("%02X%02X%02X" % (channel(pixel, red_mask), channel(pixel, green_mask),
                                channel(pixel, blue_mask)))


main()
