/**
 * Decoding parity with Pillow (the fixtures of tools/python/make_preprocess_fixtures.py): every
 * PNG and JPEG fixture and every small JPEG variant decodes to exactly PIL's convert('RGB')
 * pixels. Tolerance 0: PNG decoding is lossless and our JPEG decoder follows libjpeg-turbo as PIL
 * runs it (islow IDCT, fancy upsampling, fixed-point YCbCr -> RGB). The pad/resize/pixel-value
 * steps after decoding are checked in packages/fastvithd/test/preprocess-parity.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeImage, readImageHeader } from '../src/decode.js';
import { difference, ImageFixture, readFixtureIndex } from './image-fixtures.js';

describe('image decoding vs PIL', () => {
  const index = readFixtureIndex();

  it('has fixtures of every kind (the suite below is not empty)', () => {
    expect(index.images.filter((image) => image.format === 'png').length).toBeGreaterThanOrEqual(10);
    expect(index.images.filter((image) => image.format === 'jpg').length).toBeGreaterThanOrEqual(10);
    expect(index.jpegVariants.length).toBeGreaterThan(40);
  });

  it('decodes every small JPEG variant as PIL does', async () => {
    const fixture = await ImageFixture.open('jpeg_variants');
    const mismatches: string[] = [];
    for (const variant of index.jpegVariants) {
      const expected = await fixture.rgb(variant.name);
      const decoded = decodeImage(await readFile(variant.path), { source: variant.path });
      const diff =
        decoded.width === expected.width && decoded.height === expected.height
          ? difference(decoded.data, expected.data).max
          : Infinity;
      if (diff !== 0)
        mismatches.push(`${variant.name} (${variant.mode}, ${variant.width}x${variant.height}): max diff ${diff}`);
    }
    await fixture.close();
    expect(mismatches).toEqual([]);
  });

  for (const image of index.images) {
    it(`${image.name} (${image.format}, ${image.mode}, ${image.width}x${image.height}) decodes as PIL convert("RGB")`, async () => {
      const fixture = await ImageFixture.open(image.name);
      const expected = await fixture.rgb('decoded');
      await fixture.close();
      const bytes = await readFile(image.path);
      const header = readImageHeader(bytes, { source: image.path });
      expect([header.width, header.height]).toEqual([image.width, image.height]);
      const decoded = decodeImage(bytes, { source: image.path });
      expect([decoded.width, decoded.height]).toEqual([expected.width, expected.height]);
      expect(difference(decoded.data, expected.data).max, `${image.format} decoding is exact`).toBe(0);
    });
  }
});
