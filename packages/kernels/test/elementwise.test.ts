import { createDevice, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate, binary, layerScaleResidual, type Activation, type BinaryOp } from '../src/index.js';
import { expectClose, openFixture, type Fixture } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('elementwise kernels vs PyTorch', async () => {
  let device: Device;
  const fixture: Fixture = await openFixture('elementwise');
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(async () => {
    device.destroy();
    await fixture.close();
  });

  async function upload(caseName: string, role: string): Promise<Tensor<'f32'>> {
    const { data, shape } = await fixture.get(caseName, role);
    return Tensor.fromArray(device, data, shape, 'f32');
  }

  for (const c of fixture.cases) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const op = c.op as string;
      const out = await device.scopeAsync(async () => {
        if (op === 'layer_scale')
          return layerScaleResidual(
            await upload(c.name, 'x'),
            await upload(c.name, 'branch'),
            await upload(c.name, 'scale'),
          );
        if (['add', 'mul', 'silu_mul'].includes(op))
          return binary(op as BinaryOp, await upload(c.name, 'a'), await upload(c.name, 'b'));
        return activate(await upload(c.name, 'x'), op as Activation);
      });
      expect(out.shape).toEqual(expected.shape);
      const tolerance = ['gelu', 'silu', 'sigmoid', 'silu_mul'].includes(op)
        ? TOLERANCE.f32Transcendental
        : TOLERANCE.f32;
      expectClose(await out.read(), expected.data, tolerance, c.name);
      out.dispose();
    });
  }

  it('rejects mismatched shapes with a ShapeError', () => {
    device.scope(() => {
      const a = Tensor.zeros(device, [2, 3], 'f32');
      const b = Tensor.zeros(device, [3, 2], 'f32');
      expect(() => binary('add', a, b)).toThrow(/do not match/);
      expect(() => activate(Tensor.zeros(device, [2], 'f16') as unknown as Tensor<'f32'>, 'gelu')).toThrow(
        /expected f32/,
      );
    });
  });
});
