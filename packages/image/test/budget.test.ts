/**
 * The image budgets (src/budget.ts), each stated, enforced before the work it bounds, refused with
 * an ImageBudgetError naming the option that raises it: decoded bytes (from the header alone, so a
 * tiny file claiming a huge image costs nothing), the JPEG scans' passes over the coefficients, and
 * the size of a file read from a path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE_BUDGET } from '../src/budget.js';
import { decodeImage, readImageHeader } from '../src/decode.js';
import { ImageBudgetError } from '../src/errors.js';
import { loadImage } from '../src/load-image.js';
import { expectImageError, jpegHeaderOnly, pngFile, pngHeaderOnly } from './helpers.js';
import { FIXTURE_DIR } from './image-fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'fastvlm-budget-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const MiB = 2 ** 20;

describe('bad input: image decoded bytes (maxDecodedBytes, default 512 MiB)', () => {
  it('counts bytes, not pixels: a 9999x9999 PNG costs its RGB output, whatever its depth', () => {
    const rgba16 = readImageHeader(pngHeaderOnly(9999, 9999, 16, 6));
    expect(rgba16.kind).toBe('16-bit RGBA PNG');
    expect(rgba16.decodedBytes).toBe(9999 * 9999 * 3 + 2 * (1 + 9999 * 8));
    expect(readImageHeader(pngHeaderOnly(9999, 9999, 1, 0)).decodedBytes).toBe(9999 * 9999 * 3 + 2 * (1 + 1250));
  });

  it('refuses a header whose image is over the budget, before decoding (header-only files prove the order)', async () => {
    const error = await expectImageError(
      () => decodeImage(pngHeaderOnly(100_000, 100_000, 16, 6), { source: 'huge.png' }),
      ImageBudgetError,
      /^huge\.png: the image is 100000x100000 16-bit RGBA PNG: decoding it takes 28611\.8 MiB, over the budget of 512\.0 MiB \(option maxDecodedBytes\)$/,
    );
    expect([error.budget, error.limit]).toEqual(['maxDecodedBytes', DEFAULT_IMAGE_BUDGET.maxDecodedBytes]);
    expect(error.needed).toBeGreaterThan(error.limit);
    await expectImageError(
      () => decodeImage(jpegHeaderOnly(60_000, 60_000)),
      ImageBudgetError,
      /60000x60000 baseline JPEG, 3 components/,
    );
    await expectImageError(() => decodeImage(pngHeaderOnly(2 ** 31 - 1, 2 ** 31 - 1)), ImageBudgetError);
  });

  it('counts a JPEG by its components, sampling and coefficients', () => {
    const h2v2 = readImageHeader(jpegHeaderOnly(4000, 3000, 0x22)).decodedBytes;
    const h1v1 = readImageHeader(jpegHeaderOnly(4000, 3000, 0x11)).decodedBytes;
    expect(h1v1).toBeGreaterThan(h2v2); // full-resolution chroma: more coefficients
    // 4:4:4: 3 components x (2 B coefficients + 1 B plane) + 3 B of RGB output = 12 B a pixel, plus rows.
    expect(h1v1 / (4000 * 3000)).toBeCloseTo(12, 1);
    // 4:2:0: luma 3 B + two quarter-size chroma 2 x 0.75 B + 3 B of output = 7.5 B a pixel.
    expect(h2v2 / (4000 * 3000)).toBeCloseTo(7.5, 1);
  });

  it('takes a raised or lowered budget; the real file decodes once allowed', async () => {
    const path = join(FIXTURE_DIR, 'images/rgb16.png'); // 301x203
    const bytes = await readFile(path);
    const needed = readImageHeader(bytes).decodedBytes;
    await expectImageError(
      () => decodeImage(bytes, { maxDecodedBytes: needed - 1 }),
      ImageBudgetError,
      /over the budget of 0\.2 MiB/,
    );
    expect(decodeImage(bytes, { maxDecodedBytes: needed }).width).toBe(301);
    const jpeg = await readFile(join(FIXTURE_DIR, 'images/baseline420_2000x1500.jpg'));
    await expectImageError(() => loadImage(jpeg, { maxDecodedBytes: 10 * MiB }), ImageBudgetError);
    expect((await loadImage(jpeg, { maxDecodedBytes: 64 * MiB })).height).toBe(1500);
  });

  it('counts raw pixels by the copy made of them', async () => {
    const pixels = { width: 2000, height: 1000, data: new Uint8Array(2000 * 1000 * 4) };
    await expectImageError(
      () => loadImage(pixels, { maxDecodedBytes: 5 * MiB }),
      ImageBudgetError,
      /2000x1000 raw pixels/,
    );
    expect((await loadImage(pixels, { maxDecodedBytes: 6 * MiB })).data.length).toBe(6_000_000);
  });

  it('refuses a budget that is not a positive number', async () => {
    for (const bad of [0, -1, Number.NaN]) {
      await expectImageError(
        () => decodeImage(pngHeaderOnly(1, 1), { maxDecodedBytes: bad }),
        /maxDecodedBytes must be a positive number/,
      );
    }
    await expectImageError(
      () => loadImage(new Uint8Array(1), { maxCoefficientPasses: -2 }),
      /maxCoefficientPasses must be a positive/,
    );
  });
});

/** A progressive JPEG's bytes with its scans (SOS segment + data, up to the next non-RST marker) repeated `times` times. */
function withScansRepeated(bytes: Uint8Array, times: number): Uint8Array {
  const sos = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xda);
  const eoi = bytes.length - 2;
  expect([bytes[eoi], bytes[eoi + 1]]).toEqual([0xff, 0xd9]);
  const scans = bytes.subarray(sos, eoi);
  return Buffer.concat([bytes.subarray(0, sos), ...Array.from({ length: times }, () => scans), bytes.subarray(eoi)]);
}

describe('bad input: JPEG decoding work (maxCoefficientPasses, default 16)', () => {
  it("decodes every fixture's scans within the budget", async () => {
    for (const name of [
      'progressive444.jpg',
      'progressive420_sa.jpg',
      'progressive422_restart.jpg',
      'lake_1000x667_progressive.jpg',
    ]) {
      expect(decodeImage(await readFile(join(FIXTURE_DIR, 'images', name))).width).toBeGreaterThan(0);
    }
  });

  it('refuses a progressive JPEG whose scans repeat past the budget, at the scan header', async () => {
    const original = await readFile(join(FIXTURE_DIR, 'images/progressive444.jpg'));
    const repeated = withScansRepeated(original, 12); // each copy of the scan script is ~2-4 passes
    const error = await expectImageError(
      () => decodeImage(repeated, { source: 'many-scans.jpg' }),
      ImageBudgetError,
      /^many-scans\.jpg: scan \d+ takes the decoding work past 16 passes over the image's coefficients .*\(option maxCoefficientPasses\)$/,
    );
    expect(error.budget).toBe('maxCoefficientPasses');
    expect(decodeImage(repeated, { maxCoefficientPasses: 1000 }).width).toBe(640);
  });

  it('bounds a tiny file of thousands of empty scans', async () => {
    // The progressive gray fixture with its first (DC) scan header repeated 5000 times, no data at all:
    // each costs a pass over the DC coefficients, so scan 1025 is the one past 16 x 64.
    const original = await readFile(join(FIXTURE_DIR, 'images/progressive_gray.jpg'));
    const sos = original.findIndex((b, i) => b === 0xff && original[i + 1] === 0xda);
    const header = ((original[sos + 2] << 8) | original[sos + 3]) + 2;
    const emptyScan = original.subarray(sos, sos + header);
    const file = Buffer.concat([
      original.subarray(0, sos),
      ...Array.from({ length: 5000 }, () => emptyScan),
      Uint8Array.from([0xff, 0xd9]),
    ]);
    expect(file.length).toBeLessThan(60_000);
    await expectImageError(
      () => decodeImage(file),
      ImageBudgetError,
      /scan 1025 takes the decoding work past 16 passes/,
    );
  });
});

describe('bad input: image file size (maxFileBytes, default 512 MiB)', () => {
  it('refuses a file over the budget before reading it', async () => {
    const path = join(scratch, 'big.png');
    writeFileSync(path, pngFile({ width: 64, height: 64, raw: new Uint8Array(64 * 193) }));
    await expectImageError(
      () => loadImage(path, { maxFileBytes: 50 }),
      ImageBudgetError,
      /big\.png: the file is 0\.0 MiB, over the budget of 0\.0 MiB \(option maxFileBytes\)/,
    );
    expect((await loadImage(path)).width).toBe(64);
  });
});

describe('bad input: image side (maxImageSide, default 65535)', () => {
  it.each([
    [1, 178_000_000, 'a 1-pixel-wide PNG within maxDecodedBytes'],
    [100_000, 2, 'a 2-pixel-high PNG'],
    [65_536, 1, 'one past the limit'],
  ])('refuses %ix%i (%s) from its header, naming the option', async (width, height) => {
    const error = await expectImageError(
      () => readImageHeader(pngHeaderOnly(width, height), { source: 'thin.png' }),
      ImageBudgetError,
      new RegExp(
        `^thin\\.png: the image is ${width}x${height}: its longer side of ${Math.max(width, height)} pixels is over the budget of 65535 \\(option maxImageSide\\)$`,
      ),
    );
    expect([error.budget, error.limit, error.needed]).toEqual(['maxImageSide', 65_535, Math.max(width, height)]);
  });

  it('refuses raw pixels past the side budget, and takes a raised budget', async () => {
    const tall = { width: 1, height: 70_000, data: new Uint8Array(70_000 * 3) };
    await expectImageError(() => loadImage(tall), ImageBudgetError, /longer side of 70000 pixels/);
    expect((await loadImage(tall, { maxImageSide: 70_000 })).height).toBe(70_000);
    expect(readImageHeader(pngHeaderOnly(65_535, 1)).width).toBe(65_535);
  });

  it('says which dimension is missing rather than printing undefined', async () => {
    const noSize = { data: new Uint8Array(3) } as unknown as Parameters<typeof loadImage>[0];
    const error = await expectImageError(() => loadImage(noSize), /got width no number \(undefined\)/);
    expect(error.message).not.toMatch(/undefinedx|got undefined/);
  });
});
