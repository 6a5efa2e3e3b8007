#!/usr/bin/env python3
"""Writes the small PNG and JPEG seeds of the logo targets (stdlib only).

Run from fuzz/seeds: python3 make_logo_seeds.py
"""
import os
import struct
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png(w, h, color_type, channels, pixel):
    raw = b"".join(b"\0" + bytes(pixel(x, y, c) for x in range(w) for c in range(channels)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(w, h):
    """A baseline grayscale JPEG of a flat grey image: every block is DC 0 and
    end-of-block, with two-code Huffman tables (code 00 for both)."""
    table = bytes([0, 2] + [0] * 14) + bytes([0x00, 0x01])
    out = b"\xFF\xD8"
    out += segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    out += segment(0xDB, b"\0" + bytes([1] * 64))
    out += segment(0xC0, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")
    out += segment(0xC4, b"\x00" + table)  # DC table 0
    out += segment(0xC4, b"\x10" + table)  # AC table 0
    out += segment(0xDA, b"\x01\x01\x00\x00\x3F\x00")
    blocks = ((w + 7) // 8) * ((h + 7) // 8)
    bits = "0000" * blocks
    bits += "1" * (-len(bits) % 8)
    out += bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    return out + b"\xFF\xD9"


seeds = {
    "gray_120.png": png(120, 120, 0, 1, lambda x, y, c: 128),
    "rgb_121x130.png": png(121, 130, 2, 3, lambda x, y, c: (x * 2 + y + c * 40) % 256),
    "rgba_small_64.png": png(64, 64, 6, 4, lambda x, y, c: 255 if c == 3 else x * 4),
    "gray_120.jpg": jpeg(120, 120),
    "gray_200x150.jpg": jpeg(200, 150),
}
for target in ("logo_validate", "logo_process"):
    os.makedirs(target, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
