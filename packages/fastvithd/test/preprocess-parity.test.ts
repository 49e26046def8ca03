/**
 * Preprocessing parity with PIL + transformers' CLIPImageProcessor (the fixtures of
 * tools/python/make_preprocess_fixtures.py), per image: decoding, padding, Pillow's bicubic resize
 * and the whole pipeline. A table of the measured differences is printed at the end.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../src/preprocess/decode.js';
import { padToSquare } from '../src/preprocess/pad-to-square.js';
import { padAndResize, preprocessImage } from '../src/preprocess/preprocess.js';
import { resizeBicubic } from '../src/preprocess/resize-bicubic.js';
import { toPixelValues } from '../src/preprocess/to-pixel-values.js';
import { difference, ImageFixture, readFixtureIndex } from './preprocess-fixtures.js';

/**
 * PNG decoding, padding, the resize and uint8 -> f32 are exact (PIL's own algorithms): tolerance 0.
 *
 * JPEG decoding is not exact: jpeg-js repeats chroma samples where libjpeg-turbo (PIL) interpolates
 * them, truncates its YCbCr -> RGB conversion where libjpeg rounds, and its IDCT rounds
 * differently. Single samples at sharp colour edges of chroma-subsampled images differ by tens of
 * levels; the mean stays near or below one level. The bounds below are per image, in uint8
 * levels: the measured values (Pillow 12.3 / jpeg-js 0.4.4) rounded up with some headroom, so a
 * regression shows. decode: decoded RGB; pipeline: pixel values at N = 256 (x255), the whole
 * pipeline from the file; pipeline1024: the uint8 1024 x 1024 square.
 */
interface JpegBound {
  decode: { max: number; mean: number };
  pipeline: { max: number; mean: number };
  pipeline1024: { max: number; mean: number };
}
const JPEG_BOUNDS: Record<string, JpegBound> = {
  // Synthetic test cards with saturated 16-px checkerboards: the worst case for chroma upsampling.
  baseline420_2000x1500: { decode: { max: 150, mean: 5 }, pipeline: { max: 8, mean: 0.6 }, pipeline1024: { max: 55, mean: 2.1 } },
  baseline422_odd: { decode: { max: 100, mean: 4 }, pipeline: { max: 65, mean: 0.7 }, pipeline1024: { max: 100, mean: 0.8 } },
  progressive444: { decode: { max: 6, mean: 0.7 }, pipeline: { max: 3, mean: 0.4 }, pipeline1024: { max: 6, mean: 0.7 } },
  gray: { decode: { max: 2, mean: 0.1 }, pipeline: { max: 3, mean: 0.1 }, pipeline1024: { max: 3, mean: 0.1 } },
  // The shared photos (LLaVA's examples).
  waterview: { decode: { max: 20, mean: 0.8 }, pipeline: { max: 5, mean: 0.45 }, pipeline1024: { max: 20, mean: 0.8 } },
  extreme_ironing: { decode: { max: 40, mean: 1.3 }, pipeline: { max: 12, mean: 0.5 }, pipeline1024: { max: 40, mean: 1.3 } },
};

function expectWithin(diff: { max: number; mean: number }, bound: { max: number; mean: number }, what: string): void {
  expect(diff.max, `${what}: max diff ${diff.max} levels`).toBeLessThanOrEqual(bound.max);
  expect(diff.mean, `${what}: mean diff ${diff.mean.toFixed(3)} levels`).toBeLessThanOrEqual(bound.mean);
}

interface Row {
  image: string;
  decodeMax: number;
  decodeMean: number;
  resizeMax: number;
  pipelineMax: number;
  pipelineMean: number;
  pipeline1024Max: number;
  pipeline1024Mean: number;
}

describe('image preprocessing vs PIL', () => {
  const index = readFixtureIndex();
  const rows = new Map<string, Row>();
  const row = (name: string): Row => {
    let found = rows.get(name);
    if (found === undefined) {
      found = { image: name, decodeMax: NaN, decodeMean: NaN, resizeMax: NaN, pipelineMax: NaN, pipelineMean: NaN, pipeline1024Max: NaN, pipeline1024Mean: NaN };
      rows.set(name, found);
    }
    return found;
  };
  afterAll(() => {
    console.log(`preprocess parity vs Pillow ${index.pillow} (uint8 levels; resize/pipeline at ${index.sizes.join(', ')})`);
    console.table([...rows.values()].map((r) => ({ ...r, decodeMean: r.decodeMean.toFixed(3), pipelineMean: r.pipelineMean.toFixed(3), pipeline1024Mean: r.pipeline1024Mean.toFixed(3) })));
  });

  it('states a bound for every JPEG fixture', () => {
    const jpegs = index.images.filter((image) => image.format === 'jpg').map((image) => image.name);
    expect(jpegs.filter((name) => JPEG_BOUNDS[name] === undefined)).toEqual([]);
  });

  for (const image of index.images) {
    describe(`${image.name} (${image.format}, ${image.mode}, ${image.width}x${image.height})`, () => {
      const isPng = image.format === 'png';
      const bound = JPEG_BOUNDS[image.name];

      it('decodes as PIL convert("RGB")', async () => {
        const fixture = await ImageFixture.open(image.name);
        const expected = await fixture.rgb('decoded');
        await fixture.close();
        const decoded = decodeImage(await readFile(image.path), { source: image.path });
        expect([decoded.width, decoded.height]).toEqual([expected.width, expected.height]);
        const diff = difference(decoded.data, expected.data);
        Object.assign(row(image.name), { decodeMax: diff.max, decodeMean: diff.mean });
        if (isPng) expect(diff.max, 'PNG decoding is exact').toBe(0);
        else expectWithin(diff, bound.decode, 'JPEG decode');
      });

      it('pads and resizes PIL\'s pixels exactly (bicubic, every size, square or not)', async () => {
        const fixture = await ImageFixture.open(image.name);
        const decoded = await fixture.rgb('decoded');
        const padded = await fixture.rgb('padded');
        const square = padToSquare(decoded);
        expect([square.width, square.height]).toEqual([padded.width, padded.height]);
        expect(difference(square.data, padded.data).max, 'padding is exact').toBe(0);
        let worst = 0;
        for (const size of index.sizes) {
          const expected = await fixture.rgb(`resized_${size}`);
          // Through the built square, and with the square only virtual (as the pipeline does).
          const fromSquare = difference(resizeBicubic(padded, size, size).data, expected.data);
          const fused = difference(padAndResize(decoded, size).data, expected.data);
          expect(fromSquare.max, `resize of the square to ${size}`).toBe(0);
          expect(fused.max, `pad + resize to ${size}`).toBe(0);
          worst = Math.max(worst, fromSquare.max, fused.max);
        }
        for (const [width, height] of index.freeResizes) {
          const expected = await fixture.rgb(`decoded_resized_${width}x${height}`);
          const diff = difference(resizeBicubic(decoded, width, height).data, expected.data);
          expect(diff.max, `resize of the decoded image to ${width}x${height}`).toBe(0);
          worst = Math.max(worst, diff.max);
        }
        row(image.name).resizeMax = worst;
        await fixture.close();
      });

      it('matches CLIPImageProcessor\'s pixel values (both layouts)', async () => {
        const fixture = await ImageFixture.open(image.name);
        const size = index.checkSize;
        const expected = await fixture.float32(`pixel_values_${size}`); // [1, 3, N, N]
        const exact = toPixelValues(await fixture.rgb(`resized_${size}`));
        expect(exact.shape).toEqual([1, 3, size, size]);
        expect(difference(exact.data, expected).max, 'uint8 -> f32 is exact').toBe(0);
        const channelsLast = toPixelValues(await fixture.rgb(`resized_${size}`), 'nhwc');
        expect(channelsLast.shape).toEqual([size, size, 3]);
        expect(channelsLast.data[(5 * size + 7) * 3 + 2]).toBe(exact.data[2 * size * size + 5 * size + 7]);

        // The whole pipeline from the file.
        const ours = await preprocessImage(image.path, { size });
        const full = difference(ours.data, expected);
        const levels = { max: Math.round(full.max * 255), mean: full.mean * 255 };
        Object.assign(row(image.name), { pipelineMax: levels.max, pipelineMean: levels.mean });
        if (isPng) expect(full.max, 'PNG pipeline is exact').toBe(0);
        else expectWithin(levels, bound.pipeline, `JPEG pipeline at ${size}`);

        // The uint8 square at the real tower size, from the file.
        const square = padAndResize(decodeImage(await readFile(image.path)), 1024);
        const at1024 = difference(square.data, (await fixture.rgb('resized_1024')).data);
        Object.assign(row(image.name), { pipeline1024Max: at1024.max, pipeline1024Mean: at1024.mean });
        if (isPng) expect(at1024.max, 'PNG pipeline at 1024 is exact').toBe(0);
        else expectWithin(at1024, bound.pipeline1024, 'JPEG pipeline at 1024');
        await fixture.close();
      });
    });
  }
});
