/**
 * Every kind of bad input to the image package: each must end in a typed ImageError naming the
 * source and the problem in one line, never a hang or a decoder's own exception. Files are checked
 * before they are opened (a FIFO or a device would block or never end). JPEG-specific damage:
 * jpeg.test.ts; PNG-specific: png.test.ts; budgets: budget.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, readImageHeader } from '../src/decode.js';
import { ImageError } from '../src/errors.js';
import { loadImage } from '../src/load-image.js';
import { readImageFile } from '../src/node/read-image-file.js';
import { expectImageError, jpegHeaderOnly, pngHeaderOnly, random } from './helpers.js';
import { FIXTURE_DIR, readFixtureIndex } from './image-fixtures.js';

const index = readFixtureIndex();
const pngPath = join(FIXTURE_DIR, 'images/rgba_333x77.png');
const jpegPath = join(FIXTURE_DIR, 'images/baseline422_odd.jpg');
const scratch = mkdtempSync(join(tmpdir(), 'fastvlm-image-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bad input: image files (cannot be read -> ImageError, before anything is opened)', () => {
  it('refuses empty files and bytes', async () => {
    const empty = join(scratch, 'empty.png');
    writeFileSync(empty, new Uint8Array(0));
    const error = await expectImageError(() => loadImage(empty), /empty/);
    expect(error.source).toBe(empty);
    await expectImageError(() => loadImage(new Uint8Array(0), { source: 'upload.jpg' }), /^upload\.jpg: .*empty/);
    await expectImageError(() => loadImage(new ArrayBuffer(0)), /^<image bytes>: the image is empty/);
    await expectImageError(() => loadImage(''), /the image path is empty/);
  });

  it('refuses missing files and paths through a file, naming the problem once and without the path twice', async () => {
    const missing = join(scratch, 'missing.png');
    const error = await expectImageError(
      () => loadImage(missing),
      /missing\.png: cannot read the image file \(no such file or folder \(ENOENT\)\)$/,
    );
    expect(error.message.split(missing).length, 'the path appears once').toBe(2);
    const file = join(scratch, 'plain.txt');
    writeFileSync(file, 'x');
    await expectImageError(() => loadImage(join(file, 'image.png')), /a part of the path is not a folder \(ENOTDIR\)/);
  });

  it('refuses folders, devices, FIFOs and sockets by kind, without blocking', async () => {
    await expectImageError(() => loadImage(scratch), /not a regular file but a folder/);
    await expectImageError(() => loadImage('/dev/zero'), /not a regular file but a character device/);
    await expectImageError(() => loadImage('/dev/null'), /not a regular file but a character device/);
    const fifo = join(scratch, 'image.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading blocks until a writer comes: the check must come before the open.
    await expectImageError(() => loadImage(fifo), /image\.fifo: not a regular file but a FIFO \(named pipe\)/);
    await expectImageError(() => readImageFile(fifo), /FIFO/);
  });

  it('refuses symlink loops and dangling symlinks, and follows good symlinks', async () => {
    const a = join(scratch, 'loop-a.png');
    const b = join(scratch, 'loop-b.png');
    symlinkSync(b, a);
    symlinkSync(a, b);
    await expectImageError(() => loadImage(a), /too many levels of symbolic links \(a symlink loop\?\) \(ELOOP\)/);
    const dangling = join(scratch, 'dangling.png');
    symlinkSync(join(scratch, 'nowhere.png'), dangling);
    await expectImageError(() => loadImage(dangling), /no such file or folder \(ENOENT\)/);
    const good = join(scratch, 'good.png');
    symlinkSync(pngPath, good);
    expect((await loadImage(good)).width).toBe(333);
  });

  it('refuses a file it may not read (unless running as root, who may)', async () => {
    const locked = join(scratch, 'locked-dir');
    mkdirSync(locked);
    writeFileSync(join(locked, 'image.png'), await readFile(pngPath));
    chmodSync(locked, 0);
    try {
      if (process.getuid?.() === 0) expect((await loadImage(join(locked, 'image.png'))).width).toBe(333);
      else await expectImageError(() => loadImage(join(locked, 'image.png')), /permission denied \(EACCES\)/);
    } finally {
      chmodSync(locked, 0o755);
    }
  });
});

describe('bad input: image data (cannot be decoded -> ImageError)', () => {
  it('names the format of GIF, WebP, BMP, TIFF, AVIF, PDF, SVG and unknown data', async () => {
    const samples: Array<[string, number[] | string]> = [
      ['GIF', 'GIF89a\x01\x00\x01\x00'],
      ['WebP', 'RIFF\x24\x00\x00\x00WEBPVP8 '],
      ['BMP', 'BM\x36\x00\x00\x00\x00\x00'],
      ['TIFF', 'II*\x00\x08\x00\x00\x00'],
      ['AVIF', '\x00\x00\x00\x1cftypavif'],
      ['PDF', '%PDF-1.7\n'],
      ['SVG/XML', '  <svg xmlns="http://www.w3.org/2000/svg">'],
      ['an unrecognised format', [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]],
      ['an unrecognised format', 'Describe the image.'],
    ];
    for (const [name, sample] of samples) {
      const bytes = typeof sample === 'string' ? Buffer.from(sample, 'latin1') : Uint8Array.from(sample);
      await expectImageError(
        () => decodeImage(bytes, { source: 'x' }),
        new RegExp(`data is ${name}; only PNG and JPEG`),
      );
    }
  });

  it('refuses zero and malformed dimensions from the header', async () => {
    await expectImageError(() => decodeImage(pngHeaderOnly(0, 10)), /0x10: width and height must be positive/);
    await expectImageError(() => decodeImage(pngHeaderOnly(10, 0)), /10x0: width and height must be positive/);
    await expectImageError(() => readImageHeader(jpegHeaderOnly(10, 0)), /10x0: width and height must be positive/);
    await expectImageError(() => decodeImage(jpegHeaderOnly(0, 0)), /0x0: width and height must be positive/);
    await expectImageError(() => decodeImage(pngHeaderOnly(4, 4, 16, 3)), /colour type 3 with bit depth 16/);
  });

  it('refuses malformed raw pixels', async () => {
    const raw = (width: number, height: number, length: number) => ({ width, height, data: new Uint8Array(length) });
    await expectImageError(() => loadImage(raw(0, 5, 0)), /0x5: width and height must be positive/);
    await expectImageError(() => loadImage(raw(2.5, 2, 15)), /positive integers/);
    await expectImageError(() => loadImage(raw(-2, 2, 12)), /positive integers/);
    await expectImageError(() => loadImage(raw(4, 4, 50)), /50 bytes is neither RGB nor RGBA for 4x4/);
    await expectImageError(() => loadImage({ ...raw(4, 4, 48), channels: 4 }), /4x4x4 needs 64 bytes, got 48/);
    const notBytes = { width: 1, height: 1, data: [1, 2, 3] } as unknown as Parameters<typeof loadImage>[0];
    await expectImageError(() => loadImage(notBytes), /Uint8Array or Uint8ClampedArray/);
    const floats = { width: 1, height: 1, data: new Float32Array(3) } as unknown as Parameters<typeof loadImage>[0];
    await expectImageError(() => loadImage(floats, { source: 'canvas' }), /^canvas: raw pixels must be/);
  });

  it('refuses truncated PNGs and JPEGs at every cut', async () => {
    let cuts = 0;
    for (const [path, format] of [
      [pngPath, 'PNG'],
      [jpegPath, 'JPEG'],
      [join(FIXTURE_DIR, 'images/rgba16_interlaced.png'), 'PNG'],
      [join(FIXTURE_DIR, 'images/progressive444.jpg'), 'JPEG'],
    ]) {
      const bytes = await readFile(path);
      // The last 12 bytes of a PNG are IEND, which PIL does not need either.
      const end = format === 'PNG' ? bytes.length - 12 : bytes.length - 1;
      for (let cut = 1; cut < end; cut += Math.max(1, Math.floor(end / 40))) {
        await expectImageError(
          () => decodeImage(bytes.subarray(0, cut), { source: `cut ${cut}` }),
          /truncated|corrupt/,
        );
        cuts++;
      }
    }
    expect(cuts).toBeGreaterThan(150);
  });

  it("wraps corrupt data and never lets a decoder's own error escape", () => {
    const next = random(1234);
    const progressive = index.images.find((image) => image.name === 'progressive444')?.path;
    expect(progressive).toBeDefined();
    for (const path of [pngPath, jpegPath, progressive as string]) {
      const original = Uint8Array.from(execFileSync('cat', [path]));
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
  });
});
