import { Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { activate, binary, layerScaleResidual, type Activation, type BinaryOp } from '../src/index.js';
import { expectClose, paritySuite, testDevice } from './fixtures.js';
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

  // Above the binding limit the operands and the output come split into row blocks: on a device
  // whose bindings are capped at 64 KiB, the [1024, 768] cases span 48 blocks of 21 rows.
  it('operands and outputs split into row blocks (binding limit capped) agree with PyTorch', async () => {
    const capped = await testDevice({ limitCaps: { maxStorageBufferBindingSize: 64 * 1024 } });
    try {
      for (const name of ['gelu.tokens', 'add.tokens', 'add_channel.tokens', 'silu_mul.tokens', 'layer_scale.tokens']) {
        const c = fixture.case(name);
        const upload = async (role: string): Promise<Tensor<'f32'>> => {
          const { data, shape } = await fixture.get(name, role);
          return Tensor.fromArray(capped, data, shape, 'f32');
        };
        const op = c.op as string;
        const out = await capped.scopeAsync(async () => {
          const y =
            op === 'layer_scale'
              ? layerScaleResidual(await upload('x'), await upload('branch'), await upload('scale'))
              : op === 'gelu'
                ? activate(await upload('x'), 'gelu')
                : binary(op as BinaryOp, await upload('a'), await upload('b'));
          expect(y.isSplit, `${name}: the output is split`).toBe(true);
          return y.read();
        });
        const tolerance = ['gelu', 'silu_mul'].includes(op) ? TOLERANCE.f32Transcendental : TOLERANCE.f32;
        expectClose(out, (await fixture.get(name, 'y')).data, tolerance, `${name} split`);
      }
      capped.scope(() => {
        const a = Tensor.zeros(capped, [64, 768], 'f32', { maxBlockBytes: 32 * 1024 });
        const b = Tensor.zeros(capped, [64, 768], 'f32');
        expect(() => binary('add', a, b)).toThrow(/split into row blocks other than its output's/);
      });
    } finally {
      capped.destroy();
    }
  });

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
