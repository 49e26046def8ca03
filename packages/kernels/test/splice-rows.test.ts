import { createDevice, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spliceRows } from '../src/splice-rows.js';
import { expectClose, openFixture, type Fixture } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('spliceRows vs PyTorch', async () => {
  let device: Device;
  const fixture: Fixture = await openFixture('llm_plumbing');
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

  for (const c of fixture.cases.filter((x) => x.op === 'splice')) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const out = await device.scopeAsync(async () =>
        spliceRows(await upload(c.name, 'text'), await upload(c.name, 'image'), c.at as number | null),
      );
      expect(out.shape).toEqual(expected.shape);
      const { maxAbs } = expectClose(await out.read(), expected.data, TOLERANCE.exactCopy, c.name);
      expect(maxAbs).toBe(0);
      out.dispose();
    });
  }

  it('rejects bad inputs with a ShapeError', () => {
    device.scope(() => {
      const text = Tensor.zeros(device, [5, 8], 'f32');
      const image = Tensor.zeros(device, [3, 8], 'f32');
      expect(() => spliceRows(text, Tensor.zeros(device, [3, 4], 'f32'), 1)).toThrow(/differ in width/);
      expect(() => spliceRows(text, image, 5)).toThrow(/outside the 5 text rows/);
      expect(() => spliceRows(text, image, -1)).toThrow(ShapeError);
      expect(() => spliceRows(text, image, 1.5)).toThrow(ShapeError);
      expect(() => spliceRows(Tensor.zeros(device, [40], 'f32'), image, 0)).toThrow(/text must be f32 \[rows, D\]/);
      expect(() => spliceRows(text, Tensor.zeros(device, [3, 8], 'f16') as unknown as Tensor<'f32'>, 0)).toThrow(
        /image must be f32/,
      );
    });
  });
});
