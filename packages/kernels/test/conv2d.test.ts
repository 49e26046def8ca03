import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { conv2d } from '../src/conv2d.js';
import type { FloatTensor } from '../src/conv-weights.js';
import type { Activation } from '../src/shared/math.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('conv2d vs PyTorch', async () => {
  const suite = await paritySuite('conv', { title: 'conv2d' });
  const { fixture } = suite;

  const upload = (caseName: string, role: string, dtype: FloatTensor['dtype'] = 'f32'): Promise<FloatTensor> =>
    suite.upload(caseName, role, dtype) as Promise<FloatTensor>; // f16 / bf16 fixture values are exactly representable

  for (const c of fixture.cases((c) => c.op === 'conv2d')) {
    it(`${c.name} (${String(c.wdtype)} weights)`, async () => {
      const expected = await fixture.get(c.name, 'y');
      const wdtype = c.wdtype as FloatTensor['dtype'];
      const out = await suite.device.scopeAsync(async () => {
        const x = (await upload(c.name, 'x')) as Tensor<'f32'>;
        const weight = await upload(c.name, 'weight', wdtype);
        const bias = c.bias ? await upload(c.name, 'bias', wdtype) : undefined;
        const options = {
          bias,
          stride: c.stride as number,
          padding: c.padding as number,
          groups: c.groups as number,
          activation: c.activation as Activation,
        };
        return conv2d(x, weight, options);
      });
      expect(out.shape).toEqual(expected.shape);
      // f16/bf16 cases: the reference used the same rounded weights, so only summation order differs
      const tolerance = c.activation === 'gelu' ? TOLERANCE.f32Transcendental : TOLERANCE.f32;
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, tolerance, c.name);
      suite.report(`${c.name}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`);
      out.dispose();
    });
  }

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [8, 8, 6], 'f32');
      const w = (shape: number[]): Tensor<'f32'> => Tensor.zeros(suite.device, shape, 'f32');
      expect(() => conv2d(x, w([4, 6, 3, 3]), { groups: 4 })).toThrow(/do not split into 4 groups/);
      expect(() => conv2d(x, w([4, 3, 3, 3]), { groups: 1 })).toThrow(/weight must be \[Cout, 6, kh, kw\]/);
      expect(() => conv2d(x, w([5, 3, 3, 3]), { groups: 2 })).toThrow(ShapeError);
      expect(() => conv2d(x, w([4, 6, 3]))).toThrow(ShapeError);
      expect(() => conv2d(x, w([4, 6, 3, 3]), { stride: 0 })).toThrow(/stride must be an integer >= 1/);
      expect(() => conv2d(x, w([4, 6, 3, 3]), { bias: w([5]) })).toThrow(/bias has shape \[5\]/);
      expect(() => conv2d(x, w([4, 6, 9, 9]))).toThrow(/does not fit/);
      expect(() =>
        conv2d(Tensor.zeros(suite.device, [8, 8, 6], 'f16') as unknown as Tensor<'f32'>, w([4, 6, 3, 3])),
      ).toThrow(/f32 \[H, W, C\]/);
      expect(() => conv2d(x, Tensor.zeros(suite.device, [4, 6, 3, 3], 'i8') as unknown as FloatTensor)).toThrow(
        /f32, f16 or bf16/,
      );
    });
  });
});
