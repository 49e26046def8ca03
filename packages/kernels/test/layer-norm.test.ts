import { createDevice, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerNorm } from '../src/layer-norm.js';
import { expectClose, openFixture, type Fixture } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

type FloatDType = 'f32' | 'f16' | 'bf16';

describe('layerNorm vs PyTorch (F.layer_norm over the last dim)', async () => {
  let device: Device;
  const fixture: Fixture = await openFixture('norms');
  const errors: string[] = [];
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(async () => {
    console.log(`layerNorm max errors:\n${errors.join('\n')}`);
    device.destroy();
    await fixture.close();
  });

  async function upload(caseName: string, role: string, dtype: FloatDType = 'f32'): Promise<Tensor> {
    const { data, shape } = await fixture.get(caseName, role);
    return Tensor.fromArray(device, data, shape, dtype); // f16 / bf16 weights are stored pre-rounded: exact
  }

  for (const c of fixture.cases.filter((c) => c.op === 'layer_norm')) {
    it(`${c.name} (${c.weight_dtype as string} weights)`, async () => {
      const dtype = c.weight_dtype as FloatDType;
      const expected = await fixture.get(c.name, 'y');
      const out = await device.scopeAsync(async () => {
        const x = (await upload(c.name, 'x')) as Tensor<'f32'>;
        return layerNorm(
          x,
          await upload(c.name, 'weight', dtype),
          await upload(c.name, 'bias', dtype),
          c.eps as number,
        );
      });
      expect(out.shape).toEqual(expected.shape);
      // f32 sums in another order, against PyTorch's f32 result
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, TOLERANCE.f32, c.name);
      errors.push(
        `  ${c.name} ${expected.shape.join('x')} ${dtype}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`,
      );
      out.dispose();
    });
  }

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
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
