/**
 * foldBatchNormIntoConv: the fold done once gives the bits the conv kernels give when they fold the
 * norm at each call, and the values of the fold written out in float64 on the CPU.
 */
import { f32ArrayToF16, f16ArrayToF32, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../src/conv-weights.js';
import { depthwiseConv2d } from '../src/depthwise-conv2d.js';
import { foldBatchNormIntoConv } from '../src/fold-batch-norm.js';
import { testDevice } from './fixtures.js';

/** Deterministic values in [lo, hi). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

interface Case {
  name: string;
  channels: number;
  kernel: number;
  weightDType: 'f32' | 'f16';
  bias: boolean;
}

const CASES: Case[] = [
  { name: 'ConvFFN 7x7, f16 weights, no bias', channels: 24, kernel: 7, weightDType: 'f16', bias: false },
  { name: 'ConvFFN 7x7, f32 weights, no bias', channels: 24, kernel: 7, weightDType: 'f32', bias: false },
  { name: '3x3 with bias, f32, 6 channels', channels: 6, kernel: 3, weightDType: 'f32', bias: true },
];

describe('foldBatchNormIntoConv', () => {
  let device: Device;
  beforeAll(async () => {
    device = await testDevice();
  });
  afterAll(() => device?.destroy());

  for (const c of CASES) {
    it(`${c.name}: the same bits as the per-call fold, and the float64 fold's values`, async () => {
      const { channels: C, kernel: k } = c;
      const taps = k * k;
      let w = values(C * taps, 1, -0.5, 0.5);
      if (c.weightDType === 'f16') w = f16ArrayToF32(f32ArrayToF16(w)); // the values the GPU holds
      const upload = (data: Float32Array, shape: number[], dtype: 'f32' | 'f16' = 'f32'): FloatTensor =>
        dtype === 'f16'
          ? Tensor.fromArray(device, f32ArrayToF16(data), shape, 'f16')
          : Tensor.fromArray(device, data, shape, 'f32');
      const mean = values(C, 2);
      const variance = values(C, 3, 0.2, 3);
      const gamma = values(C, 4, 0.5, 1.5);
      const beta = values(C, 5);
      const biasValues = values(C, 6);
      const eps = 1e-5;
      const [perCall, once, folded] = await device.scopeAsync(async () => {
        const weight = upload(w, [C, 1, k, k], c.weightDType);
        const bias = c.bias ? upload(biasValues, [C]) : undefined;
        const batchNorm = {
          runningMean: upload(mean, [C]),
          runningVar: upload(variance, [C]),
          weight: upload(gamma, [C]),
          bias: upload(beta, [C]),
          eps,
        };
        const x = Tensor.fromArray(device, values(9 * 11 * C, 7), [9, 11, C], 'f32');
        const padding = k >> 1;
        const reference = depthwiseConv2d(x, weight, { bias, padding, batchNorm });
        const fold = foldBatchNormIntoConv(weight, bias, batchNorm);
        const run = depthwiseConv2d(x, fold.weight, { bias: fold.bias, padding });
        return Promise.all([reference.read(), run.read(), fold.weight.read(), fold.bias.read()]).then(
          ([a, b, fw, fb]) => [a, b, { weight: fw, bias: fb }] as const,
        );
      });
      expect(once).toEqual(perCall);
      for (let o = 0; o < C; o++) {
        const scale = gamma[o] / Math.sqrt(variance[o] + eps);
        const shift = ((c.bias ? biasValues[o] : 0) - mean[o]) * scale + beta[o];
        expect(Math.abs(folded.bias[o] - shift)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(shift)));
        for (let t = 0; t < taps; t++) {
          const want = w[o * taps + t] * scale;
          expect(Math.abs(folded.weight[o * taps + t] - want)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want)));
        }
      }
    });
  }

  it('refuses parameters of the wrong shape', () => {
    device.scope(() => {
      const weight = Tensor.zeros(device, [4, 1, 3, 3], 'f32');
      const four = Tensor.zeros(device, [4], 'f32');
      const three = Tensor.zeros(device, [3], 'f32');
      const bn = { runningMean: four, runningVar: four, weight: four, bias: three, eps: 1e-5 };
      expect(() => foldBatchNormIntoConv(weight, undefined, bn)).toThrow(/batchNorm\.bias has shape \[3\]/);
      expect(() => foldBatchNormIntoConv(Tensor.zeros(device, [4, 9], 'f32'), undefined, bn)).toThrow(/weight must be/);
    });
  });
});
