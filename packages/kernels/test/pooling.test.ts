import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import type { FloatTensor } from '../src/conv-weights.js';
import type { Activation } from '../src/shared/math.js';
import { globalAvgPool, squeezeExcite } from '../src/pooling.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('globalAvgPool and squeezeExcite vs PyTorch', async () => {
  const suite = await paritySuite('conv', { title: 'pooling' });
  const { fixture } = suite;

  const upload = (caseName: string, role: string, dtype: FloatTensor['dtype'] = 'f32'): Promise<FloatTensor> =>
    suite.upload(caseName, role, dtype) as Promise<FloatTensor>; // f16 / bf16 fixture values are exactly representable

  for (const c of fixture.cases((c) => c.op === 'avgpool' || c.op === 'se')) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () => {
        const x = (await upload(c.name, 'x')) as Tensor<'f32'>;
        if (c.op === 'avgpool') return globalAvgPool(x);
        const wdtype = c.wdtype as FloatTensor['dtype'];
        const conv = async (name: string) => ({
          weight: await upload(c.name, `${name}_weight`, wdtype),
          bias: await upload(c.name, `${name}_bias`, wdtype),
        });
        return squeezeExcite(
          x,
          { reduce: await conv('reduce'), expand: await conv('expand') },
          c.activation as Activation,
        );
      });
      expect(out.shape).toEqual(expected.shape);
      const tolerance = c.op === 'se' ? TOLERANCE.f32Transcendental : TOLERANCE.f32;
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, tolerance, c.name);
      suite.report(`${c.name}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`);
      out.dispose();
    });
  }

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const t = (shape: number[]): Tensor<'f32'> => Tensor.zeros(suite.device, shape, 'f32');
      const x = t([4, 4, 8]);
      expect(() => globalAvgPool(t([4, 8]))).toThrow(/f32 \[H, W, C\]/);
      expect(() => globalAvgPool(Tensor.zeros(suite.device, [4, 4, 8], 'f16') as unknown as Tensor<'f32'>)).toThrow(
        ShapeError,
      );
      const se = {
        reduce: { weight: t([2, 8, 1, 1]), bias: t([2]) },
        expand: { weight: t([8, 2, 1, 1]), bias: t([8]) },
      };
      expect(() => squeezeExcite(t([4, 4, 6]), se)).toThrow(/reduce.weight has shape/);
      expect(() => squeezeExcite(x, { ...se, expand: { weight: t([8, 3, 1, 1]), bias: t([8]) } })).toThrow(
        /expand.weight has shape/,
      );
      expect(() => squeezeExcite(x, { ...se, reduce: { weight: t([2, 8, 3, 3]), bias: t([2]) } })).toThrow(
        /reduce.weight must be \[2, 8, 1, 1\]/,
      );
      expect(() => squeezeExcite(x, { ...se, expand: { weight: t([8, 2, 1, 1]), bias: t([2]) } })).toThrow(
        /expand.bias has shape/,
      );
    });
  });
});
