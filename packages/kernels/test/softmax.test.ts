import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { softmax } from '../src/softmax.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

/** Softmax of f32 x / T computed in f64, row by row. */
function softmaxF64(x: Float32Array, length: number, temperature: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += length) {
    const v = Array.from(x.subarray(start, start + length), (a) => Math.fround(a / Math.fround(temperature)));
    const max = v.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (const a of v) sum += Math.exp(a - max);
    v.forEach((a, i) => (y[start + i] = Math.exp(a - max) / sum));
  }
  return y;
}

describe('softmax vs PyTorch (F.softmax over the last dim)', async () => {
  const suite = await paritySuite('norms', { title: 'softmax' });
  const { fixture } = suite;

  for (const c of fixture.cases((c) => c.op === 'softmax')) {
    it(`${c.name} (temperature ${c.temperature as number})`, async () => {
      const { data, shape } = await fixture.get(c.name, 'x');
      const expected = await fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () =>
        softmax(Tensor.fromArray(suite.device, data, shape, 'f32'), { temperature: c.temperature as number }),
      );
      expect(out.shape).toEqual(expected.shape);
      const y = await out.read();
      const length = shape[shape.length - 1];
      // exp() in WGSL vs PyTorch's vectorised exp: a few ulp relative; over the vocabulary PyTorch's own f32 sum is further off
      const tolerance = length > 100_000 ? TOLERANCE.softmaxVocab : TOLERANCE.f32Transcendental;
      const { maxAbs, maxRel } = expectClose(y, expected.data, tolerance, c.name);
      const exact = expectClose(
        y,
        softmaxF64(data, length, c.temperature as number),
        TOLERANCE.f32Transcendental,
        `${c.name} vs f64`,
      );
      suite.report(
        `  ${c.name} ${shape.join('x')}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)} (vs f64: ${exact.maxAbs.toExponential(2)}, ${exact.maxRel.toExponential(2)})`,
      );
      out.dispose();
    });
  }

  it('handles a tensor split into row blocks block by block', async () => {
    for (const name of ['softmax.rows', 'softmax.long_odd']) {
      const { data, shape } = await fixture.get(name, 'x');
      const expected = await fixture.get(name, 'y');
      const rowBytes = shape[shape.length - 1] * 4;
      const out = suite.device.scope(() => {
        const x = Tensor.fromArray(suite.device, data, shape, 'f32', { maxBlockBytes: rowBytes * 2 }); // 2 rows per block
        expect(x.isSplit).toBe(true);
        return softmax(x);
      });
      expect(out.isSplit).toBe(true);
      expectClose(await out.read(), expected.data, TOLERANCE.f32Transcendental, `${name} split`);
      out.dispose();
    }
  });

  it('rejects a wrong dtype or temperature with a ShapeError', () => {
    suite.device.scope(() => {
      expect(() => softmax(Tensor.zeros(suite.device, [2, 8], 'f16') as unknown as Tensor<'f32'>)).toThrow(ShapeError);
      expect(() => softmax(Tensor.zeros(suite.device, [2, 8], 'i32') as unknown as Tensor<'f32'>)).toThrow(
        /x must be f32/,
      );
      expect(() => softmax(Tensor.zeros(suite.device, [2, 8], 'f32'), { temperature: 0 })).toThrow(
        /temperature must be positive/,
      );
    });
  });
});
