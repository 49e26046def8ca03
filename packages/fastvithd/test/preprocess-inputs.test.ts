/**
 * Preprocessing input forms (path, bytes, raw RGB/RGBA pixels) and options; bad inputs of the
 * decoding stage are packages/image's tests, the ones here are the preprocessing step's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageBudgetError, ImageError, loadImage } from '@fastvlm/image';
import { afterAll, describe, expect, it } from 'vitest';
import { difference, FIXTURE_DIR } from '../../image/test/image-fixtures.js';
import { random } from '../../image/test/helpers.js';
import { padToSquare } from '../src/preprocess/pad-to-square.js';
import { padAndResize, preprocessImage } from '../src/preprocess/preprocess.js';
import { resizeBicubic } from '../src/preprocess/resize-bicubic.js';

const pngPath = join(FIXTURE_DIR, 'images/rgba_333x77.png');
const jpegPath = join(FIXTURE_DIR, 'images/baseline422_odd.jpg');
const scratch = mkdtempSync(join(tmpdir(), 'fastvlm-preprocess-'));

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

describe('bad input: preprocess (-> ImageError)', () => {
  it('refuses a tower size that is not a positive integer', async () => {
    for (const size of [0, -3, 2.5, Number.NaN]) {
      await expect(preprocessImage(pngPath, { size })).rejects.toThrow(/size must be a positive integer/);
    }
  });

  it("passes the decoder's typed errors and budgets through", async () => {
    await expect(preprocessImage(new Uint8Array(0), { source: 'upload.jpg' })).rejects.toThrow(
      /^upload\.jpg: the image is empty/,
    );
    await expect(preprocessImage(pngPath, { maxDecodedBytes: 1000 })).rejects.toBeInstanceOf(ImageBudgetError);
    await expect(preprocessImage(join(scratch, 'missing.png'))).rejects.toBeInstanceOf(ImageError);
  });
});
