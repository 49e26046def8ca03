import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { rmsNorm } from '../src/rms-norm.js';
import { expectCloseReported, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type FloatDType = 'f32' | 'f16' | 'bf16';

describe("rmsNorm vs transformers' Qwen2RMSNorm", async () => {
  const suite = await paritySuite('norms', { title: 'rmsNorm' });

  for (const c of suite.fixture.cases((c) => c.op === 'rms_norm')) {
    it(`${c.name} (${c.weight_dtype as string} weight)`, async () => {
      const dtype = c.weight_dtype as FloatDType;
      const expected = await suite.fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () =>
        rmsNorm(await suite.upload(c.name, 'x'), await suite.upload(c.name, 'weight', dtype), c.eps as number),
      );
      expect(out.shape).toEqual(expected.shape);
      // the reference multiplies by the same rounded weight: only the f32 sum order differs
      expectCloseReported(suite, await out.read(), expected, TOLERANCE.f32, `${c.name} ${dtype}`);
      out.dispose();
    });
  }

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
    const device = suite.device;
    device.scope(() => {
      const x = Tensor.zeros(device, [2, 16], 'f32');
      expect(() => rmsNorm(x, Tensor.zeros(device, [15], 'f32'), 1e-6)).toThrow(ShapeError);
      expect(() => rmsNorm(x, Tensor.zeros(device, [16, 1], 'bf16'), 1e-6)).toThrow(/must be \[16\]/);
      expect(() => rmsNorm(x, Tensor.zeros(device, [16], 'u8'), 1e-6)).toThrow(/weight must be f32, f16 or bf16/);
      expect(() =>
        rmsNorm(
          Tensor.zeros(device, [2, 16], 'bf16') as unknown as Tensor<'f32'>,
          Tensor.zeros(device, [16], 'f32'),
          1e-6,
        ),
      ).toThrow(/x must be f32/);
    });
  });
});
