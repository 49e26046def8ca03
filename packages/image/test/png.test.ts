/**
 * Our PNG decoder on PNGs built here, byte by byte: every colour type and bit depth, every row
 * filter, Adam7 interlacing, image data split over many IDAT chunks, and the damaged files it must
 * refuse with an ImageError (never another exception, never a hang). The expected pixels follow
 * Pillow's rules (row-to-rgb.ts), which decode-parity.test.ts checks against Pillow itself.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/decode.js';
import { ImageError } from '../src/errors.js';
import { expectImageError, ihdr, PNG_SIGNATURE, pngChunk, pngFile, random } from './helpers.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Samples {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** [height][width][channels] sample values. */
  values: number[][][];
}

function randomSamples(width: number, height: number, bitDepth: number, colorType: number, seed: number): Samples {
  const next = random(seed);
  const max = colorType === 3 ? 20 : 2 ** bitDepth; // palette indices: some beyond a 16-entry PLTE
  const limit = colorType === 3 ? Math.min(max, 2 ** bitDepth) : max;
  const values = Array.from({ length: height }, () =>
    Array.from({ length: width }, () => Array.from({ length: CHANNELS[colorType] }, () => Math.floor(next() * limit))),
  );
  return { width, height, bitDepth, colorType, values };
}

/** The pixels Pillow gives for the samples (alpha dropped; 16-bit gray clipped, other 16-bit high byte...). */
function expectedRgb(s: Samples, palette: Uint8Array | undefined): number[] {
  const out: number[] = [];
  for (const row of s.values) {
    for (const pixel of row) {
      if (s.colorType === 3) {
        const at = pixel[0] * 3;
        out.push(...(palette !== undefined && at + 2 < palette.length ? palette.subarray(at, at + 3) : [0, 0, 0]));
      } else if (s.colorType === 0 || s.colorType === 4) {
        const v = pixel[0];
        const gray =
          s.bitDepth === 16 ? (s.colorType === 0 ? Math.min(v, 255) : v >> 8) : (v * 255) / (2 ** s.bitDepth - 1);
        out.push(gray, gray, gray);
      } else {
        out.push(...pixel.slice(0, 3).map((v) => (s.bitDepth === 16 ? v >> 8 : v)));
      }
    }
  }
  return out;
}

/** Packs one row of pixels (sample arrays) into bytes. */
function packRow(pixels: number[][], bitDepth: number): Uint8Array {
  const samples = pixels.flat();
  const bytes = new Uint8Array(Math.ceil((samples.length * bitDepth) / 8));
  samples.forEach((value, i) => {
    if (bitDepth === 16) {
      bytes[2 * i] = value >> 8;
      bytes[2 * i + 1] = value & 255;
    } else if (bitDepth === 8) bytes[i] = value;
    else bytes[(i * bitDepth) >> 3] |= value << (8 - bitDepth - ((i * bitDepth) & 7));
  });
  return bytes;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The row with filter `type` applied, its filter byte first. */
function filterRow(type: number, row: Uint8Array, previous: Uint8Array, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = previous[i] ?? 0;
    const c = i >= bpp ? (previous[i - bpp] ?? 0) : 0;
    const prediction = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
    out[i + 1] = (row[i] - prediction) & 255;
  }
  return out;
}

/** The raw scanlines (filtered with `filterOf(rowNumber)`) of a plain or Adam7-interlaced image. */
function scanlines(s: Samples, interlaced: boolean, filterOf: (row: number) => number): Uint8Array {
  const bpp = Math.max(1, (CHANNELS[s.colorType] * s.bitDepth) >> 3);
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    let previous: Uint8Array = new Uint8Array(0);
    for (let y = y0; y < s.height; y += dy) {
      const pixels: number[][] = [];
      for (let x = x0; x < s.width; x += dx) pixels.push(s.values[y][x]);
      if (pixels.length === 0) break;
      const row = packRow(pixels, s.bitDepth);
      rows.push(filterRow(filterOf(rows.length), row, previous, bpp));
      previous = row;
    }
  }
  return Buffer.concat(rows);
}

const PALETTE = Uint8Array.from({ length: 16 * 3 }, (_, i) => (i * 37 + 11) & 255);

describe('PNG decoding of every colour type, bit depth, filter and interlacing', () => {
  const kinds: Array<[number, number[]]> = [
    [0, [1, 2, 4, 8, 16]],
    [2, [8, 16]],
    [3, [1, 2, 4, 8]],
    [4, [8, 16]],
    [6, [8, 16]],
  ];
  for (const [colorType, depths] of kinds) {
    for (const bitDepth of depths) {
      it(`colour type ${colorType}, ${bitDepth}-bit, plain and interlaced, all five filters`, () => {
        let cases = 0;
        for (const [width, height] of [
          [1, 1],
          [3, 2],
          [13, 11],
          [37, 5],
        ]) {
          const samples = randomSamples(width, height, bitDepth, colorType, width * 100 + bitDepth);
          const palette = colorType === 3 ? PALETTE : undefined;
          const before = palette === undefined ? [] : [pngChunk('PLTE', palette)];
          for (const interlace of [0, 1]) {
            const raw = scanlines(samples, interlace === 1, (row) => (row + width) % 5);
            const file = pngFile({ width, height, bitDepth, colorType, interlace, raw, before, idatChunks: 3 });
            const decoded = decodeImage(file, { source: `${width}x${height}` });
            expect([...decoded.data], `${width}x${height} interlace ${interlace}`).toEqual(
              expectedRgb(samples, palette),
            );
            cases++;
          }
        }
        expect(cases).toBe(8);
      });
    }
  }

  it('takes image data split into one-byte IDAT chunks, and a file without IEND', () => {
    const samples = randomSamples(9, 7, 8, 6, 3);
    const raw = scanlines(samples, false, (row) => row % 5);
    const expected = expectedRgb(samples, undefined);
    const split = pngFile({ width: 9, height: 7, colorType: 6, raw, idatChunks: 10_000 });
    expect([...decodeImage(split).data]).toEqual(expected);
    const noEnd = pngFile({ width: 9, height: 7, colorType: 6, raw, noEnd: true });
    expect([...decodeImage(noEnd).data]).toEqual(expected);
  });

  it('gives black for palette indices past PLTE and for a palette image without PLTE, as Pillow does', () => {
    const samples = randomSamples(6, 4, 8, 3, 9); // indices up to 19, PLTE holds 16
    expect(samples.values.flat().some(([index]) => index >= 16)).toBe(true);
    const raw = scanlines(samples, false, () => 0);
    const withPalette = pngFile({ width: 6, height: 4, colorType: 3, raw, before: [pngChunk('PLTE', PALETTE)] });
    expect([...decodeImage(withPalette).data]).toEqual(expectedRgb(samples, PALETTE));
    const withoutPalette = pngFile({ width: 6, height: 4, colorType: 3, raw });
    expect([...decodeImage(withoutPalette).data]).toEqual(new Array(6 * 4 * 3).fill(0));
  });

  it('ignores tRNS and unknown ancillary chunks, and data after the last row', () => {
    const samples = randomSamples(5, 5, 8, 2, 4);
    const raw = Buffer.concat([scanlines(samples, false, () => 1), new Uint8Array(1000).fill(7)]);
    const before = [pngChunk('tRNS', Uint8Array.from([0, 1, 0, 2, 0, 3])), pngChunk('teXt', Uint8Array.from([65]))];
    expect([...decodeImage(pngFile({ width: 5, height: 5, raw, before })).data]).toEqual(
      expectedRgb(samples, undefined),
    );
  });

  it('stops inflating at the image size: a 1x1 image whose data would inflate to 32 MiB, then turns to garbage', () => {
    const raw = new Uint8Array(32 << 20); // filter 0, pixel (10, 20, 30), then zeros
    raw.set([0, 10, 20, 30]);
    const compressed = deflateSync(raw);
    // Valid zlib for its first 8 KB (~8 MB of zeros once inflated), then bytes that are not deflate:
    // the decoder must have stopped before reaching them.
    const next = random(5);
    const data = Buffer.concat([compressed.subarray(0, 8192), Uint8Array.from({ length: 50_000 }, () => next() * 256)]);
    const file = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(1, 1),
      pngChunk('IDAT', data),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
    expect([...decodeImage(file).data]).toEqual([10, 20, 30]);
    // The control: an image needing more than the valid prefix holds does reach the garbage.
    const whole = Buffer.concat([PNG_SIGNATURE, ihdr(1000, 3000), pngChunk('IDAT', data)]);
    expect(() => decodeImage(whole)).toThrow(ImageError);
  });
});

describe('damaged PNGs -> ImageError', () => {
  const samples = randomSamples(8, 6, 8, 2, 5);
  const raw = scanlines(samples, false, () => 4);
  const good = pngFile({ width: 8, height: 6, raw });

  it('refuses a chunk whose CRC does not match, critical or not', async () => {
    const badIdat = Uint8Array.from(good);
    badIdat[45] ^= 0xff; // inside the IDAT data
    await expectImageError(
      () => decodeImage(badIdat, { source: 'bad.png' }),
      /^bad\.png: corrupt PNG: chunk 'IDAT' at byte 33 fails its CRC check$/,
    );
    const badText = pngFile({
      width: 8,
      height: 6,
      raw,
      before: [pngChunk('tEXt', Uint8Array.from([65, 0, 66]), true)],
    });
    await expectImageError(() => decodeImage(badText), /chunk 'tEXt' .* fails its CRC check/);
  });

  it('refuses unknown filter types, naming the row', async () => {
    const badFilter = Uint8Array.from(raw);
    badFilter[3 * (1 + 8 * 3)] = 9; // row 3
    await expectImageError(
      () => decodeImage(pngFile({ width: 8, height: 6, raw: badFilter })),
      /row 3 has filter type 9/,
    );
  });

  it('refuses image data that is not zlib, or holds too few rows, or is missing', async () => {
    const notZlib = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 6),
      pngChunk('IDAT', Uint8Array.from([1, 2, 3, 4, 5, 6, 7])),
    ]);
    await expectImageError(() => decodeImage(notZlib), /corrupt PNG image data \(zlib: /);
    const garbage = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 6),
      pngChunk(
        'IDAT',
        deflateSync(raw).map((b, i) => (i > 2 ? b ^ 0x5a : b)),
      ),
    ]);
    await expectImageError(() => decodeImage(garbage), /corrupt PNG image data|truncated|filter type/);
    const short = pngFile({ width: 8, height: 6, raw: raw.subarray(0, 3 * 25) });
    await expectImageError(() => decodeImage(short), /the image data ends after 3 of 6 rows/);
    const none = Buffer.concat([PNG_SIGNATURE, ihdr(8, 6), pngChunk('IEND', new Uint8Array(0))]);
    await expectImageError(() => decodeImage(none), /no image data \(IDAT\)/);
  });

  it('refuses bad header fields: depth for the colour type, compression, filter and interlace methods', async () => {
    const header = (edit: (bytes: Uint8Array) => void): Uint8Array => {
      const bytes = Uint8Array.from(good);
      edit(bytes);
      return bytes;
    };
    await expectImageError(() => decodeImage(header((b) => b.set([16, 3], 24))), /colour type 3 with bit depth 16/);
    await expectImageError(() => decodeImage(header((b) => (b[25] = 5))), /colour type 5 with bit depth 8/);
    await expectImageError(() => decodeImage(header((b) => (b[26] = 1))), /compression method 1/);
    await expectImageError(() => decodeImage(header((b) => (b[27] = 1))), /filter method 1/);
    await expectImageError(() => decodeImage(header((b) => (b[28] = 2))), /interlace method 2/);
    await expectImageError(() => decodeImage(header((b) => (b[12] = 0x58))), /the first chunk is not a 13-byte IHDR/);
  });

  it('refuses a chunk claiming more bytes than the file or the format allow', async () => {
    const huge = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 6),
      Uint8Array.from([0x80, 0, 0, 0, 0x49, 0x44, 0x41, 0x54, 0, 0, 0, 0]),
    ]);
    await expectImageError(() => decodeImage(huge), /chunk 'IDAT' at byte 33 claims 2147483648 bytes/);
    const long = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 6),
      Uint8Array.from([0, 1, 0, 0, 0x49, 0x44, 0x41, 0x54, 1, 2]),
    ]);
    await expectImageError(
      () => decodeImage(long),
      /truncated: chunk 'IDAT' at byte 33 needs 65536 bytes and a CRC, 2 bytes are left/,
    );
    const oddType = Buffer.concat([PNG_SIGNATURE, ihdr(8, 6), Uint8Array.from([0, 1, 0, 0, 0, 0x0a, 0x41, 0x54, 1])]);
    await expectImageError(() => decodeImage(oddType), /chunk '\\x00\\x0aAT'/);
  });

  it('decodes or refuses randomly damaged PNGs of every kind, never anything else', () => {
    const next = random(77);
    let refused = 0;
    for (const [colorType, bitDepth, interlace] of [
      [2, 8, 0],
      [6, 16, 1],
      [3, 4, 1],
      [0, 1, 0],
    ]) {
      const s = randomSamples(23, 17, bitDepth, colorType, 11);
      const before = colorType === 3 ? [pngChunk('PLTE', PALETTE)] : [];
      const file = pngFile({
        width: 23,
        height: 17,
        bitDepth,
        colorType,
        interlace,
        raw: scanlines(s, interlace === 1, (r) => r % 5),
        before,
      });
      for (let trial = 0; trial < 40; trial++) {
        const bytes = Uint8Array.from(file);
        for (let f = 0; f <= trial % 4; f++)
          bytes[8 + Math.floor(next() * (bytes.length - 8))] = Math.floor(next() * 256);
        try {
          decodeImage(bytes, { source: `#${trial}` });
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(ImageError);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(100); // almost every change breaks a CRC
  });
});
