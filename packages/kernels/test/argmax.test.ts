import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { argmax } from '../src/sampling/argmax.js';
import { paritySuite } from './fixtures.js';

describe('argmax vs torch.argmax', async () => {
  const suite = await paritySuite('llm_plumbing');
  const { fixture } = suite;

  for (const c of fixture.cases((x) => x.op === 'argmax')) {
    it(c.name, async () => {
      const { data, shape } = await fixture.get(c.name, 'logits');
      const raw = await fixture.raw(c.name, 'y');
      const expected = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      const out = await suite.device.scopeAsync(async () =>
        argmax(Tensor.fromArray(suite.device, data, shape, 'f32')).read(),
      );
      expect(Array.from(out)).toEqual(Array.from(expected));
    });
  }

  it('takes the lowest index of tied maxima and handles a vector, odd sizes and -3e38', async () => {
    const cases: [number[], number][] = [
      [[1, 7, 7, 2], 1],
      [[-3e38, -3e38, -3e38], 0],
      [[0, 0, 0, 0, 0, 5], 5],
      [Array.from({ length: 131 }, (_, i) => (i === 64 || i === 128 ? 9 : i % 5)), 64],
    ];
    for (const [values, index] of cases) {
      const out = await suite.device.scopeAsync(async () =>
        argmax(Tensor.fromArray(suite.device, values, [values.length], 'f32')).read(),
      );
      expect(out[0], values.slice(0, 8).join(',')).toBe(index);
    }
  });

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      expect(() => argmax(Tensor.zeros(suite.device, [2, 3, 4], 'f32'))).toThrow(ShapeError);
      expect(() => argmax(Tensor.zeros(suite.device, [2, 3], 'f16') as unknown as Tensor<'f32'>)).toThrow(
        /expected f32 logits/,
      );
    });
  });
});
