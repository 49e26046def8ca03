import { createDevice, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmsNorm } from '../src/rms-norm.js';
import { expectClose, openFixture, type Fixture } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type FloatDType = 'f32' | 'f16' | 'bf16';

describe("rmsNorm vs transformers' Qwen2RMSNorm", async () => {
  let device: Device;
  const fixture: Fixture = await openFixture('norms');
  const errors: string[] = [];
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(async () => {
    console.log(`rmsNorm max errors:\n${errors.join('\n')}`);
    device.destroy();
    await fixture.close();
  });

  async function upload(caseName: string, role: string, dtype: FloatDType = 'f32'): Promise<Tensor> {
    const { data, shape } = await fixture.get(caseName, role);
    return Tensor.fromArray(device, data, shape, dtype); // f16 / bf16 weights are stored pre-rounded: exact
  }

  for (const c of fixture.cases.filter((c) => c.op === 'rms_norm')) {
    it(`${c.name} (${c.weight_dtype as string} weight)`, async () => {
      const dtype = c.weight_dtype as FloatDType;
      const expected = await fixture.get(c.name, 'y');
      const out = await device.scopeAsync(async () => {
        const x = (await upload(c.name, 'x')) as Tensor<'f32'>;
        return rmsNorm(x, await upload(c.name, 'weight', dtype), c.eps as number);
      });
      expect(out.shape).toEqual(expected.shape);
      // the reference multiplies by the same rounded weight: only the f32 sum order differs
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, TOLERANCE.f32, c.name);
      errors.push(
        `  ${c.name} ${expected.shape.join('x')} ${dtype}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`,
      );
      out.dispose();
    });
  }

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
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
