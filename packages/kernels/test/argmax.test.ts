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

  describe('bad input: non-finite numbers', () => {
    it('gives -1 for a row holding a NaN or an infinity (scalar and vec4 rows, any chunk), the index for finite rows', async () => {
      const rows = (length: number, bad: number | undefined, at: number): number[] => {
        const values = Array.from({ length }, (_, i) => Math.sin(i) * 10);
        if (bad !== undefined) values[at] = bad;
        return values;
      };
      // lengths: a vec4 row of 1 chunk, a scalar row over 3 chunks, a vec4 row over 40 chunks
      for (const length of [8, 131, 2560]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of [0, length - 1, Math.floor(length / 2)]) {
            const finite = rows(length, undefined, 0);
            const data = [...finite, ...rows(length, bad, at), ...finite];
            const out = await suite.device.scopeAsync(async () =>
              argmax(Tensor.fromArray(suite.device, data, [3, length], 'f32')).read(),
            );
            const best = finite.indexOf(Math.max(...finite));
            expect(Array.from(out), `length ${length}, ${bad} at ${at}`).toEqual([best, -1, best]);
          }
        }
      }
    });
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
