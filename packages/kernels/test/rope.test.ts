import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { rope, ropeInverseFrequencies } from '../src/rope.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe("rope vs transformers' Qwen2RotaryEmbedding + apply_rotary_pos_emb", async () => {
  const suite = await paritySuite('norms', { title: 'rope' });
  const { fixture } = suite;

  for (const c of fixture.cases((c) => c.op === 'rope')) {
    it(`${c.name}: inverse frequencies are transformers' f32 values, bit for bit`, async () => {
      const expected = await fixture.get(c.name, 'inv_freq');
      expect(Array.from(ropeInverseFrequencies(c.theta as number, c.head_dim as number))).toEqual(
        Array.from(expected.data),
      );
    });

    // positions from an i32 tensor, and (where they are start, start + 1, ...) from a start offset
    const sources = c.contiguous ? (['tensor', 'start'] as const) : (['tensor'] as const);
    for (const source of sources) {
      it(`${c.name} (positions from ${source})`, async () => {
        const positions = await fixture.get(c.name, 'positions');
        for (const role of ['q', 'k']) {
          const { data, shape } = await fixture.get(c.name, role);
          const expected = await fixture.get(c.name, `${role}_out`);
          const out = suite.device.scope(() => {
            const x = Tensor.fromArray(suite.device, data, shape, 'f32');
            const at =
              source === 'start'
                ? (c.start as number)
                : Tensor.fromArray(suite.device, positions.data, positions.shape, 'i32');
            return rope(x, at, c.theta as number);
          });
          expect(out.shape).toEqual(expected.shape);
          const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, TOLERANCE.rope, `${c.name} ${role}`);
          suite.report(
            `  ${c.name} ${role} ${shape.join('x')} (${source}): max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`,
          );
          out.dispose();
        }
      });
    }
  }

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [3, 2, 64], 'f32');
      expect(() => rope(Tensor.zeros(suite.device, [3, 128], 'f32'), 0, 1e6)).toThrow(ShapeError);
      expect(() => rope(Tensor.zeros(suite.device, [3, 2, 63], 'f32'), 0, 1e6)).toThrow(/must be even/);
      expect(() => rope(Tensor.zeros(suite.device, [3, 2, 256], 'f32'), 0, 1e6)).toThrow(/at most 128/);
      expect(() => rope(x, Tensor.zeros(suite.device, [4], 'i32'), 1e6)).toThrow(/positions \[4\] must be \[3\]/);
      expect(() => rope(x, Tensor.zeros(suite.device, [3], 'f32') as unknown as Tensor<'i32'>, 1e6)).toThrow(
        /positions must be i32/,
      );
      expect(() => rope(x, -1, 1e6)).toThrow(/non-negative integer/);
      expect(() => rope(Tensor.zeros(suite.device, [3, 2, 64], 'bf16') as unknown as Tensor<'f32'>, 0, 1e6)).toThrow(
        /x must be f32/,
      );
    });
  });
});
