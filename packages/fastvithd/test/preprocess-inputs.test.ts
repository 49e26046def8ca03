/**
 * Preprocessing input forms (path, bytes, raw RGB/RGBA pixels), options, and every kind of bad
 * input: each must end in a typed ImageError naming the source and the problem, never a hang or
 * a raw error from pngjs or our JPEG decoder (JPEG-specific cases: preprocess-jpeg.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FastVlmError } from '@fastvlm/tensor';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/preprocess/decode.js';
import { ImageError } from '../src/preprocess/errors.js';
import { padToSquare } from '../src/preprocess/pad-to-square.js';
import { loadImage, padAndResize, preprocessImage } from '../src/preprocess/preprocess.js';
import { resizeBicubic } from '../src/preprocess/resize-bicubic.js';
import { difference, FIXTURE_DIR, readFixtureIndex } from './preprocess-fixtures.js';

const index = readFixtureIndex();
const pngPath = join(FIXTURE_DIR, 'images/rgba_333x77.png');
const jpegPath = join(FIXTURE_DIR, 'images/baseline422_odd.jpg');
const scratch = mkdtempSync(join(tmpdir(), 'fastvlm-preprocess-'));

/** Runs `action`, expecting an ImageError whose message matches every pattern. */
async function expectImageError(action: () => unknown, ...patterns: RegExp[]): Promise<ImageError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'an ImageError was thrown').toBeInstanceOf(ImageError);
  const error = caught as ImageError;
  expect(error).toBeInstanceOf(FastVlmError);
  expect(error.code).toBe('IMAGE');
  for (const pattern of patterns) expect(error.message).toMatch(pattern);
  return error;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** A PNG signature and IHDR only (no image data): enough to be judged by its header. */
function pngHeaderOnly(width: number, height: number, bitDepth = 8, colorType = 2): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)]);
}

/** SOI + a baseline SOF0 for a 3-component image of the given size (no tables, no scan). */
function jpegHeaderOnly(width: number, height: number): Uint8Array {
  const sof = [
    0xff,
    0xc0,
    0,
    17,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ];
  return Uint8Array.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

/** A small deterministic PRNG (mulberry32) for the fuzzing below. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('preprocess input forms', () => {
  it('gives the same pixel values from a path, a Buffer, an offset Uint8Array and an ArrayBuffer', async () => {
    const fromPath = await preprocessImage(pngPath, { size: 97 });
    expect(fromPath.shape).toEqual([1, 3, 97, 97]);
    const bytes = await readFile(pngPath);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    for (const input of [bytes, padded.subarray(5), arrayBuffer]) {
      expect(difference((await preprocessImage(input, { size: 97 })).data, fromPath.data).max).toBe(0);
    }
  });

  it('takes decoded RGB, RGBA and ImageData-like pixels, dropping alpha like PIL', async () => {
    const rgb = await loadImage(pngPath);
    const count = rgb.width * rgb.height;
    const rgba = new Uint8ClampedArray(count * 4);
    for (let i = 0; i < count; i++) {
      rgba.set(rgb.data.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = (i * 37) % 256; // alpha must not matter
    }
    const expected = await preprocessImage(pngPath, { size: 64, layout: 'nhwc' });
    expect(expected.shape).toEqual([64, 64, 3]);
    const inputs = [
      { width: rgb.width, height: rgb.height, data: rgb.data, channels: 3 as const },
      { width: rgb.width, height: rgb.height, data: rgba, channels: 4 as const },
      { width: rgb.width, height: rgb.height, data: rgba }, // a browser ImageData has no `channels`
    ];
    for (const input of inputs) {
      const values = await preprocessImage(input, { size: 64, layout: 'nhwc' });
      expect(difference(values.data, expected.data).max).toBe(0);
    }
  });

  it('lays out channels first or last with the same values', async () => {
    const first = await preprocessImage(jpegPath, { size: 33 });
    const last = await preprocessImage(jpegPath, { size: 33, layout: 'nhwc' });
    const size = 33;
    for (const [y, x, c] of [
      [0, 0, 0],
      [5, 7, 2],
      [32, 31, 1],
    ]) {
      expect(last.data[(y * size + x) * 3 + c]).toBe(first.data[(c * size + y) * size + x]);
    }
  });

  it('pads and resizes extreme aspect ratios without building the square, identically', () => {
    const next = random(7);
    for (const [width, height] of [
      [3000, 2],
      [2, 3000],
      [1, 1],
    ]) {
      const image = {
        width,
        height,
        data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(next() * 256)),
      };
      for (const size of [97, 256]) {
        const fromSquare = resizeBicubic(padToSquare(image), size, size);
        expect(difference(padAndResize(image, size).data, fromSquare.data).max, `${width}x${height} -> ${size}`).toBe(
          0,
        );
      }
    }
  });

  it('defaults to a 1024 x 1024 tower input', async () => {
    const values = await preprocessImage(join(FIXTURE_DIR, 'images/tiny_1x1.png'));
    expect(values.shape).toEqual([1, 3, 1024, 1024]);
    expect(values.data[0]).toBeCloseTo(200 / 255, 6); // a 1x1 image fills the whole square
  });
});

describe('preprocess bad inputs -> ImageError', () => {
  it('refuses empty files and bytes', async () => {
    const empty = join(scratch, 'empty.png');
    writeFileSync(empty, new Uint8Array(0));
    const error = await expectImageError(() => preprocessImage(empty), /empty/);
    expect(error.source).toBe(empty);
    await expectImageError(() => preprocessImage(new Uint8Array(0), { source: 'upload.jpg' }), /^upload\.jpg: .*empty/);
  });

  it('refuses missing files, directories and devices', async () => {
    await expectImageError(() => loadImage(join(scratch, 'missing.png')), /missing\.png: cannot open/);
    await expectImageError(() => loadImage(scratch), /not a regular file/);
    await expectImageError(() => loadImage('/dev/zero'), /not a regular file/);
  });

  it('names the format of GIF, WebP, BMP, TIFF and unknown data', async () => {
    const samples: Array<[string, number[] | string]> = [
      ['GIF', 'GIF89a\x01\x00\x01\x00'],
      ['WebP', 'RIFF\x24\x00\x00\x00WEBPVP8 '],
      ['BMP', 'BM\x36\x00\x00\x00\x00\x00'],
      ['TIFF', 'II*\x00\x08\x00\x00\x00'],
      ['an unrecognised format', [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]],
    ];
    for (const [name, sample] of samples) {
      const bytes = typeof sample === 'string' ? Buffer.from(sample, 'latin1') : Uint8Array.from(sample);
      await expectImageError(
        () => decodeImage(bytes, { source: 'x' }),
        new RegExp(`data is ${name}; only PNG and JPEG`),
      );
    }
  });

  it('checks the pixel budget from the header, before decoding', async () => {
    // Headers alone: decoding would fail differently, so the budget error proves the order.
    await expectImageError(
      () => decodeImage(pngHeaderOnly(100_000, 100_000)),
      /100000x100000 \(10000\.0 MP\), over the pixel budget of 100 MP/,
    );
    await expectImageError(() => decodeImage(jpegHeaderOnly(60_000, 60_000)), /60000x60000.*over the pixel budget/);
    await expectImageError(
      () => preprocessImage(pngPath, { maxPixels: 10_000 }),
      /333x77 .* over the pixel budget of 0\.01 MP/,
    );
    await expectImageError(
      () => preprocessImage({ width: 200, height: 100, data: new Uint8Array(60_000) }, { maxPixels: 10_000 }),
      /budget/,
    );
  });

  it('refuses zero and malformed dimensions', async () => {
    await expectImageError(() => decodeImage(pngHeaderOnly(0, 10)), /0x10: width and height must be positive/);
    await expectImageError(() => decodeImage(jpegHeaderOnly(10, 0)), /10x0: width and height must be positive/);
    await expectImageError(() => decodeImage(pngHeaderOnly(4, 4, 16, 3)), /colour type 3 with bit depth 16/);
    const raw = (width: number, height: number, length: number) => ({ width, height, data: new Uint8Array(length) });
    await expectImageError(() => loadImage(raw(0, 5, 0)), /0x5: width and height must be positive/);
    await expectImageError(() => loadImage(raw(2.5, 2, 15)), /positive integers/);
    await expectImageError(() => loadImage(raw(4, 4, 50)), /50 bytes is neither RGB nor RGBA for 4x4/);
    await expectImageError(() => loadImage({ ...raw(4, 4, 48), channels: 4 }), /4x4x4 needs 64 bytes, got 48/);
    const notBytes = { width: 1, height: 1, data: [1, 2, 3] } as unknown as Parameters<typeof loadImage>[0];
    await expectImageError(() => loadImage(notBytes), /Uint8Array or Uint8ClampedArray/);
    await expectImageError(() => preprocessImage(pngPath, { size: 0 }), /size must be a positive integer/);
  });

  it('refuses truncated PNGs and JPEGs at every cut', async () => {
    for (const [path, format] of [
      [pngPath, 'PNG'],
      [jpegPath, 'JPEG'],
    ]) {
      const bytes = await readFile(path);
      // The last 12 bytes of a PNG are IEND, which PIL does not need either.
      const end = format === 'PNG' ? bytes.length - 12 : bytes.length - 1;
      for (let cut = 1; cut < end; cut += Math.max(1, Math.floor(end / 40))) {
        await expectImageError(
          () => decodeImage(bytes.subarray(0, cut), { source: `cut ${cut}` }),
          /truncated|corrupt/,
        );
      }
    }
  });

  it("wraps corrupt data and never lets a decoder's own error escape", async () => {
    const next = random(1234);
    for (const path of [pngPath, jpegPath, index.images.find((image) => image.name === 'progressive444')?.path ?? '']) {
      const original = await readFile(path);
      for (let trial = 0; trial < 20; trial++) {
        const bytes = Uint8Array.from(original);
        const flips = 1 + Math.floor(next() * 8);
        for (let f = 0; f < flips; f++) bytes[4 + Math.floor(next() * (bytes.length - 4))] = Math.floor(next() * 256);
        try {
          decodeImage(bytes, { source: `${path} #${trial}` }); // may decode: corrupt JPEG data is tolerated, as by libjpeg
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(ImageError);
        }
      }
    }
    const corruptPng = Uint8Array.from(await readFile(pngPath));
    corruptPng[60] ^= 0xff; // inside the IDAT: the CRC no longer matches
    await expectImageError(
      () => decodeImage(corruptPng, { source: 'bad.png' }),
      /^bad\.png: corrupt or truncated PNG data \(/,
    );
  });

  it('decodes PNGs pngjs writes, with and without alpha', async () => {
    const image = new PNG({ width: 3, height: 2 });
    image.data.set([10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const decoded = decodeImage(PNG.sync.write(image));
    expect([...decoded.data]).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3, 5, 6, 7, 9, 10, 11]);
  });
});
