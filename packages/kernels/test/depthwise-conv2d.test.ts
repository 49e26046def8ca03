import { ShapeError, Tensor } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import type { FloatTensor } from '../src/conv-weights.js';
import { depthwiseConv2d } from '../src/depthwise-conv2d.js';
import type { Activation } from '../src/shared/math.js';
import { expectClose, paritySuite } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

describe('depthwiseConv2d vs PyTorch', async () => {
  const suite = await paritySuite('conv', { title: 'depthwiseConv2d' });
  const { fixture } = suite;

  const upload = (caseName: string, role: string, dtype: FloatTensor['dtype'] = 'f32'): Promise<FloatTensor> =>
    suite.upload(caseName, role, dtype) as Promise<FloatTensor>; // f16 / bf16 fixture values are exactly representable

  for (const c of fixture.cases((c) => c.op === 'depthwise')) {
    it(`${c.name} (${String(c.wdtype)} weights)`, async () => {
      const expected = await fixture.get(c.name, 'y');
      const wdtype = c.wdtype as FloatTensor['dtype'];
      const out = await suite.device.scopeAsync(async () => {
        const x = (await upload(c.name, 'x')) as Tensor<'f32'>;
        const weight = await upload(c.name, 'weight', wdtype);
        const bias = c.bias ? await upload(c.name, 'bias', wdtype) : undefined;
        const batchNorm = c.batchNorm
          ? {
              runningMean: await upload(c.name, 'running_mean'),
              runningVar: await upload(c.name, 'running_var'),
              weight: await upload(c.name, 'bn_weight'),
              bias: await upload(c.name, 'bn_bias'),
              eps: c.eps as number,
            }
          : undefined;
        const stride = c.stride as 1 | 2;
        return depthwiseConv2d(x, weight, {
          bias,
          stride,
          padding: c.padding as number,
          batchNorm,
          activation: c.activation as Activation,
        });
      });
      expect(out.shape).toEqual(expected.shape);
      // f16/bf16 cases: the reference used the same rounded weights, so only summation order differs
      const tolerance = c.activation === 'gelu' ? TOLERANCE.f32Transcendental : TOLERANCE.f32;
      const { maxAbs, maxRel } = expectClose(await out.read(), expected.data, tolerance, c.name);
      suite.report(`${c.name}: max abs ${maxAbs.toExponential(2)}, max rel ${maxRel.toExponential(2)}`);
      out.dispose();
    });
  }

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [8, 8, 4], 'f32');
      const w = Tensor.zeros(suite.device, [4, 1, 3, 3], 'f32');
      expect(() => depthwiseConv2d(x, Tensor.zeros(suite.device, [5, 1, 3, 3], 'f32'), { padding: 1 })).toThrow(
        ShapeError,
      );
      expect(() => depthwiseConv2d(x, Tensor.zeros(suite.device, [4, 2, 3, 3], 'f32'), { padding: 1 })).toThrow(
        /weight must be \[4, 1, kh, kw\]/,
      );
      expect(() =>
        depthwiseConv2d(Tensor.zeros(suite.device, [8, 8, 4], 'f16') as unknown as Tensor<'f32'>, w, { padding: 1 }),
      ).toThrow(/f32 \[H, W, C\]/);
      expect(() =>
        depthwiseConv2d(x, Tensor.zeros(suite.device, [4, 1, 3, 3], 'i32') as unknown as FloatTensor, { padding: 1 }),
      ).toThrow(/f32, f16 or bf16/);
      expect(() => depthwiseConv2d(x, w, { padding: 1, stride: 3 as 2 })).toThrow(/stride must be 1 or 2/);
      expect(() => depthwiseConv2d(x, w, { padding: 1, bias: Tensor.zeros(suite.device, [3], 'f32') })).toThrow(
        /bias has shape \[3\]/,
      );
      const stat = Tensor.zeros(suite.device, [4], 'f32');
      const batchNorm = {
        runningMean: stat,
        runningVar: stat,
        weight: stat,
        bias: Tensor.zeros(suite.device, [8], 'f32'),
        eps: 1e-5,
      };
      expect(() => depthwiseConv2d(x, w, { padding: 1, batchNorm })).toThrow(/batchNorm.bias/);
      expect(() =>
        depthwiseConv2d(Tensor.zeros(suite.device, [2, 2, 4], 'f32'), Tensor.zeros(suite.device, [4, 1, 7, 7], 'f32'), {
          padding: 0,
        }),
      ).toThrow(/does not fit/);
    });
  });
});
