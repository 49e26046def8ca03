import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { layerNorm } from '../src/layer-norm.js';
import { expectCloseReported, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type FloatDType = 'f32' | 'f16' | 'bf16';

describe('layerNorm vs PyTorch (F.layer_norm over the last dim)', async () => {
  const suite = await paritySuite('norms', { title: 'layerNorm' });

  for (const c of suite.fixture.cases((c) => c.op === 'layer_norm')) {
    it(`${c.name} (${c.weight_dtype as string} weights)`, async () => {
      const dtype = c.weight_dtype as FloatDType;
      const expected = await suite.fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () =>
        layerNorm(
          await suite.upload(c.name, 'x'),
          await suite.upload(c.name, 'weight', dtype),
          await suite.upload(c.name, 'bias', dtype),
          c.eps as number,
        ),
      );
      expect(out.shape).toEqual(expected.shape);
      // f32 sums in another order, against PyTorch's f32 result
      expectCloseReported(suite, await out.read(), expected, TOLERANCE.f32, `${c.name} ${dtype}`);
      out.dispose();
    });
  }

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
    const device = suite.device;
    device.scope(() => {
      const x = Tensor.zeros(device, [4, 8], 'f32');
      const w = Tensor.zeros(device, [8], 'f32');
      expect(() => layerNorm(x, Tensor.zeros(device, [7], 'f32'), w, 1e-5)).toThrow(ShapeError);
      expect(() => layerNorm(x, w, Tensor.zeros(device, [8, 1], 'f32'), 1e-5)).toThrow(/must be \[8\]/);
      expect(() => layerNorm(Tensor.zeros(device, [4, 8], 'f16') as unknown as Tensor<'f32'>, w, w, 1e-5)).toThrow(
        /x must be f32/,
      );
      expect(() => layerNorm(x, Tensor.zeros(device, [8], 'i32'), w, 1e-5)).toThrow(/weight must be f32, f16 or bf16/);
    });
  });
});
