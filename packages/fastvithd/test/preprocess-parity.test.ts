/**
 * Preprocessing parity with PIL + transformers' CLIPImageProcessor (the fixtures of
 * tools/python/make_preprocess_fixtures.py), per image: padding, Pillow's bicubic resize and the
 * whole pipeline from the file (decoding alone: packages/image/test/decode-parity.test.ts). A
 * table of the measured differences is printed at the end.
 */
import { readFile } from 'node:fs/promises';
import { decodeImage } from '@fastvlm/image';
import { afterAll, describe, expect, it } from 'vitest';
import { padToSquare } from '../src/preprocess/pad-to-square.js';
import { padAndResize, preprocessImage } from '../src/preprocess/preprocess.js';
import { resizeBicubic } from '../src/preprocess/resize-bicubic.js';
import { toPixelValues } from '../src/preprocess/to-pixel-values.js';
import { difference, ImageFixture, readFixtureIndex } from '../../image/test/image-fixtures.js';

/**
 * Every step is exact, so every tolerance is 0: decoding (@fastvlm/image), padding, Pillow's bicubic
 * resize and uint8 -> f32. The pipeline is checked at N = 256 as pixel values and at N = 1024 as the
 * uint8 square. (Before our JPEG decoder, jpeg-js differed from PIL by up to 136 levels.)
 */

interface Row {
  image: string;
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
      found = {
        image: name,
        resizeMax: NaN,
        pipelineMax: NaN,
        pipelineMean: NaN,
        pipeline1024Max: NaN,
        pipeline1024Mean: NaN,
      };
      rows.set(name, found);
    }
    return found;
  };
  afterAll(() => {
    console.log(
      `preprocess parity vs Pillow ${index.pillow} (uint8 levels; resize/pipeline at ${index.sizes.join(', ')})`,
    );
    console.table(
      [...rows.values()].map((r) => ({
        ...r,
        pipelineMean: r.pipelineMean.toFixed(3),
        pipeline1024Mean: r.pipeline1024Mean.toFixed(3),
      })),
    );
  });

  for (const image of index.images) {
    describe(`${image.name} (${image.format}, ${image.mode}, ${image.width}x${image.height})`, () => {
      it("pads and resizes PIL's pixels exactly (bicubic, every size, square or not)", async () => {
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

      it("matches CLIPImageProcessor's pixel values (both layouts)", async () => {
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
        expect(full.max, `pipeline at ${size} is exact`).toBe(0);

        // The uint8 square at the real tower size, from the file.
        const square = padAndResize(decodeImage(await readFile(image.path)), 1024);
        const at1024 = difference(square.data, (await fixture.rgb('resized_1024')).data);
        Object.assign(row(image.name), { pipeline1024Max: at1024.max, pipeline1024Mean: at1024.mean });
        expect(at1024.max, 'pipeline at 1024 is exact').toBe(0);
        await fixture.close();
      });
    });
  }
});
