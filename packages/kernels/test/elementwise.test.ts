import { Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { activate, binary, layerScaleResidual, type Activation, type BinaryOp } from '../src/index.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('elementwise kernels vs PyTorch', async () => {
  const suite = await paritySuite('elementwise');
  const { fixture } = suite;

  for (const c of fixture.cases()) {
    it(c.name, async () => {
      const expected = await fixture.get(c.name, 'y');
      const op = c.op as string;
      const out = await suite.device.scopeAsync(async () => {
        if (op === 'layer_scale')
          return layerScaleResidual(
            await suite.upload(c.name, 'x'),
            await suite.upload(c.name, 'branch'),
            await suite.upload(c.name, 'scale'),
          );
        if (['add', 'mul', 'silu_mul'].includes(op))
          return binary(op as BinaryOp, await suite.upload(c.name, 'a'), await suite.upload(c.name, 'b'));
        return activate(await suite.upload(c.name, 'x'), op as Activation);
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
    suite.device.scope(() => {
      const a = Tensor.zeros(suite.device, [2, 3], 'f32');
      const b = Tensor.zeros(suite.device, [3, 2], 'f32');
      expect(() => binary('add', a, b)).toThrow(/do not match/);
      expect(() => activate(Tensor.zeros(suite.device, [2], 'f16') as unknown as Tensor<'f32'>, 'gelu')).toThrow(
        /expected f32/,
      );
    });
  });
});
