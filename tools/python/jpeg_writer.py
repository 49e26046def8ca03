"""A small baseline JPEG writer for test images PIL cannot write: any sampling factors (4:4:0,
4:1:1, chroma finer than luma...), chosen component ids, JFIF / Adobe APP14 markers or none, CMYK /
YCCK components, restart intervals, one scan per component. PIL (libjpeg-turbo) decodes the
result as the reference; this writer only has to produce valid files, not good ones.

Huffman and quantization tables are taken from a JPEG that PIL writes (libjpeg's standard tables
at the given quality), so no table is typed in here.
"""
import io
import struct

import numpy as np
from PIL import Image

ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])


def _segments(data: bytes):
    """(marker, body) of each segment before the first scan of a JPEG."""
    at = 2
    while data[at + 1] != 0xDA:
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        yield data[at + 1], data[at + 4:at + 2 + length]
        at += 2 + length


def _pil_tables(quality: int):
    """PIL's DQT bodies and Huffman tables {(class, slot): (counts, symbols)} at `quality`."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="JPEG", quality=quality, subsampling=2)
    dqt, huffman = [], {}
    for marker, body in _segments(buffer.getvalue()):
        if marker == 0xDB:
            dqt.append(body)
        elif marker == 0xC4:
            at = 0
            while at < len(body):
                counts = list(body[at + 1:at + 17])
                symbols = list(body[at + 17:at + 17 + sum(counts)])
                huffman[(body[at] >> 4, body[at] & 15)] = (counts, symbols)
                at += 17 + sum(counts)
    return dqt, huffman


def _codes(counts, symbols):
    """symbol -> (code, length) of a canonical Huffman table."""
    codes, code, index = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            codes[symbols[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.buffer = 0
        self.count = 0

    def write(self, value: int, length: int):
        self.buffer = (self.buffer << length) | (value & ((1 << length) - 1))
        self.count += length
        while self.count >= 8:
            byte = (self.buffer >> (self.count - 8)) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # stuffing
            self.count -= 8

    def flush(self):
        if self.count:
            self.write((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with 1 bits


def _dct_matrix():
    k = np.arange(8)
    matrix = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    matrix[0] /= np.sqrt(2)
    return matrix


def _component_blocks(plane, h, v, max_h, max_v, blocks_wide, blocks_high):
    """Full-resolution plane -> downsampled (box average), edge-padded 8x8 blocks [by, bx, 8, 8]."""
    height, width = plane.shape
    fy, fx = max_v // v, max_h // h
    padded = np.pad(plane.astype(np.float64), ((0, -height % fy), (0, -width % fx)), mode="edge")
    small = padded.reshape(padded.shape[0] // fy, fy, padded.shape[1] // fx, fx).mean(axis=(1, 3))
    small = np.pad(small, ((0, blocks_high * 8 - small.shape[0]), (0, blocks_wide * 8 - small.shape[1])), mode="edge")
    return small.reshape(blocks_high, 8, blocks_wide, 8).transpose(0, 2, 1, 3)


def encode_baseline(planes, sampling, quality=90, ids=None, jfif=True, adobe_transform=None,
                    restart_interval=0, separate_scans=False, coefficient_hook=None) -> bytes:
    """planes: full-resolution uint8 [H, W] per component (already in the coded colour space);
    sampling: (h, v) per component. coefficient_hook(component, blocks) may edit the quantized
    coefficients [by, bx, 64] (natural order) before they are coded."""
    height, width = planes[0].shape
    ids = ids or list(range(1, len(planes) + 1))
    max_h = max(h for h, _ in sampling)
    max_v = max(v for _, v in sampling)
    mcus_wide, mcus_high = -(-width // (8 * max_h)), -(-height // (8 * max_v))
    dqt, huffman = _pil_tables(quality)
    quant = [np.frombuffer(body[1:65], np.uint8)[np.argsort(ZIGZAG)].astype(np.float64) for body in dqt]
    dct = _dct_matrix()
    coefficients = []
    for index, (plane, (h, v)) in enumerate(zip(planes, sampling)):
        blocks = _component_blocks(plane, h, v, max_h, max_v, mcus_wide * h, mcus_high * v) - 128
        table = quant[min(index, 1)]
        transformed = np.einsum("ij,abjk,lk->abil", dct, blocks, dct).reshape(*blocks.shape[:2], 64)
        quantized = np.round(transformed / table).astype(np.int64)
        if coefficient_hook is not None:
            coefficient_hook(index, quantized)
        coefficients.append(quantized)

    def block_units(components):
        """(component, by, bx) of each block, MCU by MCU, for a scan of these components."""
        if len(components) == 1:
            c = components[0]
            h, v = sampling[c]
            wide, high = -(-width * h // (8 * max_h)), -(-height * v // (8 * max_v))
            return [[(c, by, bx)] for by in range(high) for bx in range(wide)]
        return [[(c, my * sampling[c][1] + y, mx * sampling[c][0] + x)
                 for c in components for y in range(sampling[c][1]) for x in range(sampling[c][0])]
                for my in range(mcus_high) for mx in range(mcus_wide)]

    def scan_data(components):
        codes = {c: (_codes(*huffman[(0, min(c, 1))]), _codes(*huffman[(1, min(c, 1))])) for c in components}
        writer, previous = _BitWriter(), {c: 0 for c in components}
        for number, mcu in enumerate(block_units(components)):
            if restart_interval and number and number % restart_interval == 0:
                writer.flush()
                writer.out += bytes([0xFF, 0xD0 + (number // restart_interval - 1) % 8])
                previous = {c: 0 for c in components}
            for c, by, bx in mcu:
                block = coefficients[c][by, bx][ZIGZAG]
                dc_codes, ac_codes = codes[c]
                _write_value(writer, dc_codes, 0, int(block[0]) - previous[c])
                previous[c] = int(block[0])
                run = 0
                for value in block[1:]:
                    if value == 0:
                        run += 1
                        continue
                    while run > 15:
                        writer.write(*ac_codes[0xF0])
                        run -= 16
                    _write_value(writer, ac_codes, run << 4, int(value))
                    run = 0
                if run:
                    writer.write(*ac_codes[0x00])
        writer.flush()
        return bytes(writer.out)

    def segment(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    out = b"\xff\xd8"
    if jfif:
        out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if adobe_transform is not None:
        out += segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe_transform))
    out += b"".join(segment(0xDB, body) for body in dqt[:2])
    frame = struct.pack(">BHHB", 8, height, width, len(planes))
    frame += b"".join(bytes([ids[c], (h << 4) | v, min(c, 1)]) for c, (h, v) in enumerate(sampling))
    out += segment(0xC0, frame)
    for (table_class, slot), (counts, symbols) in sorted(huffman.items()):
        out += segment(0xC4, bytes([(table_class << 4) | slot] + counts + symbols))
    if restart_interval:
        out += segment(0xDD, struct.pack(">H", restart_interval))
    for components in ([[c] for c in range(len(planes))] if separate_scans else [list(range(len(planes)))]):
        header = bytes([len(components)]) + b"".join(bytes([ids[c], (min(c, 1) << 4) | min(c, 1)]) for c in components)
        out += segment(0xDA, header + b"\x00\x3f\x00") + scan_data(components)
    return out + b"\xff\xd9"


def _write_value(writer, codes, prefix, value):
    """A DC difference (prefix 0) or an AC coefficient after `prefix >> 4` zeros: size code, then bits."""
    size = int(abs(value)).bit_length()
    writer.write(*codes[prefix | size])
    if size:
        writer.write(value if value > 0 else value + (1 << size) - 1, size)
