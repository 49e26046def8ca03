import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { batchNorm, foldBatchNorm } from '../src/batch-norm.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

const PARAMETERS = ['mean', 'var', 'gamma', 'beta'] as const;

describe('batchNorm vs PyTorch (F.batch_norm, training=False, channels last)', async () => {
  const suite = await paritySuite('norms', { title: 'batchNorm' });
  const { fixture } = suite;
  const cases = fixture.cases((c) => c.op === 'batch_norm');

  for (const c of cases) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const out = await suite.device.scopeAsync(async () => {
        const [mean, variance, gamma, beta] = await Promise.all(PARAMETERS.map((p) => suite.upload(c.name, p)));
        return batchNorm(await suite.upload(c.name, 'x'), mean, variance, gamma, beta, c.eps as number);
      });
      expect(out.shape).toEqual(expected.shape);
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, TOLERANCE.f32, c.name);
      suite.report(
        `  ${c.name} ${expected.shape.join('x')}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`,
      );
      out.dispose();
    });

    it(`${c.name}: foldBatchNorm gives PyTorch's scale and shift, and x·scale + shift = batch_norm(x)`, async () => {
      const [mean, variance, gamma, beta] = await Promise.all(
        PARAMETERS.map(async (p) => (await fixture.get(c.name, p)).data),
      );
      const { scale, shift } = foldBatchNorm(mean, variance, gamma, beta, c.eps as number);
      const fold = [expectClose(scale, (await fixture.get(c.name, 'scale')).data, TOLERANCE.f32, `${c.name} scale`)];
      fold.push(expectClose(shift, (await fixture.get(c.name, 'shift')).data, TOLERANCE.f32, `${c.name} shift`));
      const x = (await fixture.get(c.name, 'x')).data;
      const applied = x.map((v, i) => v * scale[i % scale.length] + shift[i % shift.length]);
      const { maxAbs } = expectClose(applied, (await fixture.get(c.name, 'y')).data, TOLERANCE.f32, `${c.name} folded`);
      suite.report(
        `  ${c.name} fold: scale ${fold[0].maxAbs.toExponential(2)}, shift ${fold[1].maxAbs.toExponential(2)}, applied ${maxAbs.toExponential(2)}`,
      );
    });
  }

  it('takes f16 / bf16 parameters', async () => {
    const c = fixture.case('batch_norm.odd');
    for (const dtype of ['f16', 'bf16'] as const) {
      // the reference with the rounded parameters, from the CPU fold (checked above against PyTorch)
      const rounded = await Promise.all(
        PARAMETERS.map(async (p) => (await suite.upload(c.name, p, dtype)).toFloat32()),
      );
      const { scale, shift } = foldBatchNorm(rounded[0], rounded[1], rounded[2], rounded[3], c.eps as number);
      const x = (await fixture.get(c.name, 'x')).data;
      const expected = x.map((v, i) => v * scale[i % scale.length] + shift[i % shift.length]);
      const out = await suite.device.scopeAsync(async () => {
        const [mean, variance, gamma, beta] = await Promise.all(PARAMETERS.map((p) => suite.upload(c.name, p, dtype)));
        return batchNorm(await suite.upload(c.name, 'x'), mean, variance, gamma, beta, c.eps as number);
      });
      expectClose(await out.read(), expected, TOLERANCE.f32, `${c.name} ${dtype}`);
      out.dispose();
    }
  });

  it('rejects wrong shapes and dtypes with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [2, 3, 8], 'f32');
      const p = Tensor.zeros(suite.device, [8], 'f32');
      expect(() => batchNorm(x, p, p, Tensor.zeros(suite.device, [4], 'f32'), p, 1e-5)).toThrow(ShapeError);
      expect(() => batchNorm(x, p, p, Tensor.zeros(suite.device, [4], 'f32'), p, 1e-5)).toThrow(
        /gamma \[4\] must be \[8\]/,
      );
      expect(() => batchNorm(x, Tensor.zeros(suite.device, [8], 'i32'), p, p, p, 1e-5)).toThrow(
        /mean must be f32, f16 or bf16/,
      );
      expect(() =>
        batchNorm(Tensor.zeros(suite.device, [2, 3, 8], 'f16') as unknown as Tensor<'f32'>, p, p, p, p, 1e-5),
      ).toThrow(/x must be f32/);
      expect(() => foldBatchNorm([1, 2], [1], [1, 2], [1, 2], 1e-5)).toThrow(ShapeError);
    });
  });
});
