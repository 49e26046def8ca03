import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { spliceRows } from '../src/splice-rows.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('spliceRows vs PyTorch', async () => {
  const suite = await paritySuite('llm_plumbing');
  const { fixture } = suite;

  for (const c of fixture.cases((x) => x.op === 'splice')) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () =>
        spliceRows(await suite.upload(c.name, 'text'), await suite.upload(c.name, 'image'), c.at as number | null),
      );
      expect(out.shape).toEqual(expected.shape);
      const { maxAbs } = expectClose(await out.read(), expected.data, TOLERANCE.exactCopy, c.name);
      expect(maxAbs).toBe(0);
      out.dispose();
    });
  }

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const text = Tensor.zeros(suite.device, [5, 8], 'f32');
      const image = Tensor.zeros(suite.device, [3, 8], 'f32');
      expect(() => spliceRows(text, Tensor.zeros(suite.device, [3, 4], 'f32'), 1)).toThrow(/differ in width/);
      expect(() => spliceRows(text, image, 5)).toThrow(/outside the 5 text rows/);
      expect(() => spliceRows(text, image, -1)).toThrow(ShapeError);
      expect(() => spliceRows(text, image, 1.5)).toThrow(ShapeError);
      expect(() => spliceRows(Tensor.zeros(suite.device, [40], 'f32'), image, 0)).toThrow(
        /text must be f32 \[rows, D\]/,
      );
      expect(() => spliceRows(text, Tensor.zeros(suite.device, [3, 8], 'f16') as unknown as Tensor<'f32'>, 0)).toThrow(
        /image must be f32/,
      );
    });
  });
});
