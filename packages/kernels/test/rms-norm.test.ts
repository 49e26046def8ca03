import { KERNEL_SHAPES, ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { rmsNorm } from '../src/rms-norm.js';
import { expectCloseReported, paritySuite, testDevice } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type FloatDType = 'f32' | 'f16' | 'bf16';

// Each kernel shape ('cpu': a row per invocation; 'gpu': a row per workgroup, reduced in workgroup
// memory) is forced on this adapter and checked against the same reference.
describe.each(KERNEL_SHAPES)("rmsNorm (%s kernel shape) vs transformers' Qwen2RMSNorm", async (kernelShape) => {
  const suite = await paritySuite('norms', { title: `rmsNorm (${kernelShape})`, device: { kernelShape } });

  for (const c of suite.fixture.cases((c) => c.op === 'rms_norm')) {
    it(`${c.name} (${c.weight_dtype as string} weight)`, async () => {
      expect(suite.device.kernelShape).toBe(kernelShape);
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

  it('x and y split into row blocks (binding limit capped at 64 KiB) give the same result', async () => {
    const capped = await testDevice({ kernelShape, limitCaps: { maxStorageBufferBindingSize: 64 * 1024 } });
    try {
      const c = suite.fixture.case('rms_norm.prefill_bf16'); // [281, 896]: 18-row blocks
      const x = await suite.fixture.get(c.name, 'x');
      const weight = await suite.fixture.get(c.name, 'weight');
      const out = await capped.scopeAsync(async () => {
        const input = Tensor.fromArray(capped, x.data, x.shape, 'f32', { maxBlockBytes: 40 * 1024 }); // 11-row blocks
        const y = rmsNorm(input, Tensor.fromArray(capped, weight.data, weight.shape, 'bf16'), c.eps as number);
        expect(input.isSplit && y.isSplit, 'x and y are split').toBe(true);
        return y.read();
      });
      expectCloseReported(suite, out, await suite.fixture.get(c.name, 'y'), TOLERANCE.f32, `${c.name} split`);
    } finally {
      capped.destroy();
    }
  });

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
