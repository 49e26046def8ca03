import { ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { linear, linearSwiGlu } from '../src/linear/linear.js';
import { rmsNorm } from '../src/rms-norm.js';
import type { FloatDType } from '../src/shared/loaders.js';
import type { Weight } from '../src/weight.js';
import { deviceSuite, expectClose, paritySuite, testDevice, type FixtureCase } from './fixtures.js';
import { parseWeightDType, quantizeLikePyTorch } from './quantized-weights.js';
import { TOLERANCE } from './tolerances.js';

/**
 * linear / linearSwiGlu with `inputNorm`: y = rmsNorm(x; γ, eps) Wᵀ (+ b), against PyTorch (float64
 * from the stored weights and γ, x on the residual stream's scale with an outlier channel). Decode
 * rows compute the norm inside the linear kernel, one dispatch (the register tiles on the 'cpu'
 * kernel shape, the coalesced GEMV on 'gpu'); every other path (more rows, K no tile divides) runs
 * rmsNorm first, two dispatches. Both must match PyTorch and free what they made.
 */
describe('linear with the input RMSNorm fused, vs PyTorch', async () => {
  const suite = await paritySuite('linear', { title: 'linear with inputNorm (max abs / max rel)' });
  const { fixture } = suite;
  const cases = fixture.cases((c) => c.kind === 'normed');

  async function uploadWeight(on: Device, c: FixtureCase): Promise<Weight> {
    const { base, groupSize } = parseWeightDType(c.dtype as string);
    const { data, shape } = await fixture.get(c.shape as string, 'weight');
    if (base === 'f32') return Tensor.fromArray(on, data, shape, 'f32');
    if (base === 'f16' || base === 'bf16') {
      const bits = new Uint16Array((await fixture.raw(c.name, 'weight')).slice().buffer);
      return base === 'f16' ? Tensor.fromArray(on, bits, shape, 'f16') : Tensor.fromArray(on, bits, shape, 'bf16');
    }
    return quantizeLikePyTorch(on, fixture, c.name, { data, shape }, base, groupSize);
  }

  /** Runs the case on `on`; returns y and the labels of the kernels it dispatched, in order. */
  async function run(on: Device, c: FixtureCase): Promise<{ y: Float32Array; dispatched: string[] }> {
    const shape = fixture.case(c.shape as string);
    const role = async (r: string): Promise<{ data: Float32Array; shape: number[] } | undefined> =>
      fixture.get(shape.name, r).catch(() => undefined);
    const dispatched: string[] = [];
    const live = on.liveBytes;
    const y = await on.scopeAsync(async () => {
      const x = (await role('x'))!;
      const gamma = (await role('norm_weight'))!;
      const bias = await role('bias');
      const weight = await uploadWeight(on, c);
      const inputNorm = {
        weight: Tensor.fromArray(on, gamma.data, gamma.shape, shape.norm_dtype as FloatDType),
        eps: shape.eps as number,
      };
      const input = Tensor.fromArray(on, x.data, x.shape, 'f32');
      const stop = on.observeDispatches(({ kernel }) => dispatched.push(kernel.label));
      try {
        return (
          shape.swiglu
            ? linearSwiGlu(input, weight, { inputNorm })
            : linear(input, weight, { inputNorm, bias: bias && Tensor.fromArray(on, bias.data, bias.shape, 'f32') })
        ).read();
      } finally {
        stop();
      }
    });
    expect(on.liveBytes, `${c.name}: nothing left behind`).toBe(live);
    return { y, dispatched };
  }

  const tolerance = (c: FixtureCase) =>
    fixture.case(c.shape as string).swiglu ? TOLERANCE.f32DotActivation : TOLERANCE.f32;
  /** Decode rows (M <= 4) with K a multiple of 4 (16 here, as int4's GEMV needs): the norm is fused on both shapes. */
  const fusedOnDecodeRows = (c: FixtureCase): boolean => {
    const shape = fixture.case(c.shape as string);
    return (shape.M as number) <= 4 && (shape.K as number) % 4 === 0;
  };

  it('has fused decode cases for every weight kind and unfused cases', () => {
    expect(cases.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'normed.qkv.f32',
        'normed.qkv.f16',
        'normed.qkv.int8',
        'normed.qkv.int4g32',
        'normed.m3.int8g64',
        'normed.gate_up.int4g32',
        'normed.prefill.f32',
        'normed.odd.f16',
      ]),
    );
    expect(cases.filter(fusedOnDecodeRows).length).toBeGreaterThanOrEqual(8);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const { y, dispatched } = await run(suite.device, c);
      const result = expectClose(y, (await fixture.get(c.name, 'y')).data, tolerance(c), c.name);
      suite.report(`  ${c.name.padEnd(28)} ${result.maxAbs.toExponential(2)} / ${result.maxRel.toExponential(2)}`);
      if (fusedOnDecodeRows(c))
        expect(dispatched, `${c.name}: one kernel, the norm inside`).toEqual([expect.stringMatching(/-normed-/)]);
      else
        expect(dispatched, `${c.name}: rmsNorm, then the linear`).toEqual([
          expect.stringMatching(/^rms-norm/),
          expect.not.stringMatching(/normed/),
        ]);
    });
  }

  it('without subgroups (each lane loads x and γ itself) agrees with PyTorch', async () => {
    const plain = await testDevice({ disableFeatures: ['subgroups', 'shader-f16'] });
    try {
      for (const c of cases.filter(fusedOnDecodeRows)) {
        const { y, dispatched } = await run(plain, c);
        expectClose(y, (await fixture.get(c.name, 'y')).data, tolerance(c), `${c.name} no subgroups`);
        expect(dispatched, c.name).toEqual([expect.stringMatching(/-normed-/)]);
      }
    } finally {
      plain.destroy();
    }
  });

  // the 'gpu' kernel shape: decode rows run the coalesced GEMV, which reduces each row's squares
  // over a column's 32 lanes with the dot products; more rows run rmsNorm, then the tiled GEMM
  const gpu = deviceSuite({ kernelShape: 'gpu' });
  for (const c of cases) {
    it(`${c.name} ('gpu' kernel shape)`, async () => {
      const { y, dispatched } = await run(gpu.device, c);
      expectClose(y, (await fixture.get(c.name, 'y')).data, tolerance(c), `${c.name} gpu shape`);
      if (fusedOnDecodeRows(c)) expect(dispatched, c.name).toEqual([expect.stringMatching(/^linear-gemv-.*-normed-/)]);
      else expect(dispatched[0], c.name).toMatch(/^rms-norm/);
    });
  }

  it('equals rmsNorm followed by the plain linear', async () => {
    const c = fixture.case('normed.qkv.int8');
    const shape = fixture.case('normed.qkv');
    const [fused, separate] = await suite.device.scopeAsync(async () => {
      const x = await fixture.get(shape.name, 'x');
      const gamma = await fixture.get(shape.name, 'norm_weight');
      const input = Tensor.fromArray(suite.device, x.data, x.shape, 'f32');
      const weight = await uploadWeight(suite.device, c);
      const norm = {
        weight: Tensor.fromArray(suite.device, gamma.data, gamma.shape, 'bf16'),
        eps: shape.eps as number,
      };
      return Promise.all([
        linear(input, weight, { inputNorm: norm }).read(),
        linear(rmsNorm(input, norm.weight, norm.eps), weight).read(),
      ]);
    });
    expectClose(fused, separate, TOLERANCE.f32, 'fused vs rmsNorm + linear');
  });

  it('rejects a bad norm with a ShapeError naming it', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [1, 8], 'f32');
      const w = Tensor.zeros(suite.device, [4, 8], 'f16');
      const gamma = (n: number, dtype: 'f32' | 'i32' = 'f32'): Tensor => Tensor.zeros(suite.device, [n], dtype);
      const cases: [() => unknown, RegExp][] = [
        [() => linear(x, w, { inputNorm: { weight: gamma(4), eps: 1e-6 } }), /inputNorm.weight must be \[8\]/],
        [
          () => linear(x, w, { inputNorm: { weight: gamma(8, 'i32'), eps: 1e-6 } }),
          /inputNorm.weight must be f32, f16 or bf16/,
        ],
        [
          () => linear(x, w, { inputNorm: { weight: gamma(8), eps: Number.NaN } }),
          /inputNorm.eps must be a finite number/,
        ],
        [() => linearSwiGlu(x, w, { inputNorm: { weight: gamma(8), eps: -1 } }), /linearSwiGlu: inputNorm.eps/],
      ];
      for (const [call, message] of cases) {
        expect(call).toThrow(ShapeError);
        expect(call).toThrow(message);
      }
    });
  });
});
