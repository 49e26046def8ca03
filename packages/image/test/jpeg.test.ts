/**
 * Our JPEG decoder on bad and unusual input: JPEG kinds it does not decode are refused by name,
 * structurally corrupt files give a "corrupt JPEG data" ImageError (where libjpeg stops too), files
 * without Huffman tables use the standard ones (as libjpeg does), and damaged data of every coding
 * kind (baseline, progressive, restart markers, separate scans, 4:4:0, YCCK) either decodes or
 * ends in an ImageError: never a hang or another exception. Decoding parity with PIL on valid
 * images is preprocess-parity.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/decode.js';
import { ImageError } from '../src/errors.js';
import { expectImageError, random } from './helpers.js';
import { difference, FIXTURE_DIR, ImageFixture } from './image-fixtures.js';

const image = (name: string): string => join(FIXTURE_DIR, 'images', name);

/** SOI + a frame header (SOFn) with 8x8 sampling-1 components, no tables, no scan + EOI. */
function frameOnly({ marker = 0xc0, precision = 8, components = 3 } = {}): Uint8Array {
  const specs = Array.from({ length: components }, (_, i) => [i + 1, 0x11, 0]).flat();
  const sof = [0xff, marker, 0, 8 + 3 * components, precision, 0, 16, 0, 16, components, ...specs];
  return Uint8Array.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

/** The marker segments before the first scan: marker code, offset of its FF, body start and length. */
function segments(bytes: Uint8Array): Array<{ marker: number; at: number; start: number; length: number }> {
  const found = [];
  for (let at = 2; bytes[at + 1] !== 0xda;) {
    const length = ((bytes[at + 2] << 8) | bytes[at + 3]) - 2;
    found.push({ marker: bytes[at + 1], at, start: at + 4, length });
    at += 4 + length;
  }
  return found;
}

/** The bytes with the first segment of `marker` changed by `edit` (which gets the segment). */
function withSegment(bytes: Uint8Array, marker: number, edit: (copy: Uint8Array, start: number) => void): Uint8Array {
  const segment = segments(bytes).find((candidate) => candidate.marker === marker);
  if (segment === undefined) throw new Error(`no segment 0x${marker.toString(16)}`);
  const copy = Uint8Array.from(bytes);
  edit(copy, segment.start);
  return copy;
}

/** Decodes, allowing only success or an ImageError. */
function decodeOrImageError(bytes: Uint8Array, source: string): void {
  try {
    decodeImage(bytes, { source });
  } catch (error) {
    expect(error, `${source}: ${String(error)}`).toBeInstanceOf(ImageError);
  }
}

describe('JPEG decoder on bad and unusual input', () => {
  it('refuses the JPEG kinds it does not decode, naming them', async () => {
    await expectImageError(() => decodeImage(frameOnly({ marker: 0xc3 })), /lossless JPEGs are not supported/);
    await expectImageError(() => decodeImage(frameOnly({ marker: 0xc9 })), /arithmetic-coded JPEGs are not supported/);
    await expectImageError(() => decodeImage(frameOnly({ marker: 0xc5 })), /JPEG process SOF5 is not supported/);
    await expectImageError(() => decodeImage(frameOnly({ precision: 12 })), /12-bit JPEGs are not supported/);
    await expectImageError(
      () => decodeImage(frameOnly({ components: 2 })),
      /JPEGs with 2 components are not supported/,
    );
    await expectImageError(
      () => decodeImage(frameOnly()),
      /corrupt JPEG data \(no image data before the end-of-image marker\)/,
    );
  });

  it('refuses structurally corrupt JPEGs as libjpeg does', async () => {
    const bytes = await readFile(image('baseline422_odd.jpg'));
    const badSlot = withSegment(bytes, 0xc4, (copy, start) => (copy[start] = 0x25));
    await expectImageError(
      () => decodeImage(badSlot),
      /corrupt JPEG data \(a Huffman table has class\/slot byte 0x25\)/,
    );
    const hugeMcu = withSegment(bytes, 0xc0, (copy, start) => (copy[start + 7] = 0x44)); // Y sampled 4x4
    await expectImageError(() => decodeImage(hugeMcu), /an MCU of 18 blocks \(at most 10\)/);
    const badFactor = withSegment(bytes, 0xc0, (copy, start) => (copy[start + 7] = 0x50));
    await expectImageError(() => decodeImage(badFactor), /sampling factors 5x0/);
    const noQuant = withSegment(bytes, 0xdb, (copy, start) => (copy[start - 3] = 0xfe)); // DQT -> a comment
    await expectImageError(() => decodeImage(noQuant), /quantization table 0 is not defined/);
    const badScan = Uint8Array.from(bytes);
    const sos = segments(bytes).at(-1) as { at: number; start: number; length: number };
    badScan[sos.start + sos.length + 5] = 7; // the scan names component 7
    await expectImageError(() => decodeImage(badScan), /a scan names component 7/);
  });

  it('decodes a JPEG without Huffman tables with the standard tables, as libjpeg does', async () => {
    // PIL writes the standard tables unless told to optimize: drop them and the pixels stay.
    const bytes = await readFile(image('baseline422_odd.jpg'));
    const tables = segments(bytes).filter((segment) => segment.marker === 0xc4);
    const kept = [...bytes].filter((_, i) => !tables.some((table) => i >= table.at && i < table.start + table.length));
    expect(kept.length).toBeLessThan(bytes.length);
    const fixture = await ImageFixture.open('baseline422_odd');
    const expected = await fixture.rgb('decoded');
    await fixture.close();
    expect(difference(decodeImage(Uint8Array.from(kept)).data, expected.data).max).toBe(0);
  });

  it('decodes or refuses damaged data of every coding kind, never anything else', async () => {
    const next = random(2024);
    const files = [
      'progressive422_restart.jpg',
      'baseline420_restart_optimized.jpg',
      'subsampling440.jpg',
      'ycck.jpg',
      'variants/sampling_mixed_scans_restarts.jpg',
      'variants/gray_progressive_restart.jpg',
      'variants/tiny_5x5_s2.jpg',
    ];
    for (const file of files) {
      const original = await readFile(image(file));
      for (let trial = 0; trial < 30; trial++) {
        const bytes = Uint8Array.from(original);
        if (trial % 3 === 2) {
          const from = 2 + Math.floor(next() * (bytes.length - 4));
          bytes.copyWithin(from, from + 1 + Math.floor(next() * 40)); // a chunk removed, the tail repeated
        } else {
          const flips = 1 + Math.floor(next() * 6);
          for (let f = 0; f < flips; f++)
            bytes[2 + Math.floor(next() * (bytes.length - 2))] ^= 1 << Math.floor(next() * 8);
        }
        decodeOrImageError(bytes, `${file} #${trial}`);
      }
    }
  });

  it('decodes scans cut short before the end-of-image marker (the rest grey, as in libjpeg) or refuses them', async () => {
    for (const file of [
      'progressive422_restart.jpg',
      'baseline420_restart_optimized.jpg',
      'variants/sampling_h1v4_scans_restarts.jpg',
    ]) {
      const bytes = await readFile(image(file));
      for (let cut = 100; cut < bytes.length - 2; cut += Math.max(1, Math.floor(bytes.length / 60))) {
        const shortened = new Uint8Array(cut + 2);
        shortened.set(bytes.subarray(0, cut));
        shortened.set([0xff, 0xd9], cut);
        decodeOrImageError(shortened, `${file} cut at ${cut}`);
      }
    }
  });
});
