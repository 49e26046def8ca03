import { concatRows, Int4Weight, Int8Weight, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import { siluMul } from '../src/elementwise.js';
import { linear, linearSwiGlu } from '../src/linear/linear.js';
import type { Weight } from '../src/weight.js';
import { deviceSuite, expectClose, paritySuite, testDevice, withKernelLabels, type FixtureCase } from './fixtures.js';
import { TOLERANCE } from './tolerances.js';

/**
 * linearSwiGlu: silu(x gateᵀ) * (x upᵀ) through one [gate; up] weight, against PyTorch (float64
 * from the same stored weights). The fused weight is built the way a model builds it: gate and up
 * uploaded (or quantized) separately, then joined by concatRows.
 */
describe('linearSwiGlu vs PyTorch', async () => {
  const suite = await paritySuite('linear');
  const { fixture } = suite;

  /** gate and up as separate weights in the case's dtype, joined into [gate; up]. */
  async function fusedWeight(on: Device, c: FixtureCase): Promise<Weight> {
    const { data, shape } = await fixture.get(c.shape as string, 'weight');
    const [rows, K] = shape;
    const n = rows / 2;
    const dtype = c.dtype as string;
    if (dtype === 'f32')
      return concatRows([
        Tensor.fromArray(on, data.subarray(0, n * K), [n, K], 'f32'),
        Tensor.fromArray(on, data.subarray(n * K), [n, K], 'f32'),
      ]);
    if (dtype === 'f16') {
      const bits = new Uint16Array((await fixture.raw(c.name, 'weight')).slice().buffer);
      return concatRows([
        Tensor.fromArray(on, bits.subarray(0, n * K), [n, K], 'f16'),
        Tensor.fromArray(on, bits.subarray(n * K), [n, K], 'f16'),
      ]);
    }
    const groupSize = dtype.length > 4 ? Number(dtype.slice(5)) : undefined;
    if (dtype.startsWith('int4')) {
      const halves = [data.subarray(0, n * K), data.subarray(n * K)];
      const fused = Int4Weight.concatRows(halves.map((half) => Int4Weight.quantize(on, half, [n, K], { groupSize })));
      expect(Array.from(await fused.values.read()), `${c.name}: int4 values`).toEqual(
        Array.from(await fixture.raw(c.name, 'values')),
      );
      expect(Array.from(await fused.scales.read()), `${c.name}: int4 scales`).toEqual(
        Array.from(new Uint16Array((await fixture.raw(c.name, 'scales')).slice().buffer)),
      );
      return fused;
    }
    const parts = [data.subarray(0, n * K), data.subarray(n * K)].map((half) =>
      Int8Weight.quantize(on, half, [n, K], { groupSize }),
    );
    const fused = Int8Weight.concatRows(parts);
    // quantized per row, so joining the halves must give PyTorch's quantization of the whole
    expect(Array.from(await fused.values.read()), `${c.name}: int8 values`).toEqual(
      Array.from(new Int8Array((await fixture.raw(c.name, 'values')).slice().buffer)),
    );
    expect(Array.from(await fused.scales.read()), `${c.name}: int8 scales`).toEqual(
      Array.from((await fixture.get(c.name, 'scales')).data),
    );
    return fused;
  }

  async function run(on: Device, c: FixtureCase): Promise<Float32Array> {
    const { data, shape } = await fixture.get(c.shape as string, 'x');
    return on.scopeAsync(async () =>
      linearSwiGlu(Tensor.fromArray(on, data, shape, 'f32'), await fusedWeight(on, c)).read(),
    );
  }

  const cases = fixture.cases((c) => c.kind === 'swiglu');
  it('has cases for decode, prefill and the scalar kernel', () => {
    expect(cases.map((c) => c.name)).toEqual(
      expect.arrayContaining(['swiglu.decode.int8', 'swiglu.prefill.f16', 'swiglu.odd.f32', 'swiglu.prefill.int4g32']),
    );
  });

  for (const c of cases) {
    it(c.name, async () => {
      const live = suite.device.liveBytes;
      expectClose(
        await run(suite.device, c),
        (await fixture.get(c.name, 'y')).data,
        TOLERANCE.f32DotActivation,
        c.name,
      );
      expect(suite.device.liveBytes, 'nothing left behind').toBe(live);
    });
  }

  it('the per-lane kernel (no subgroups, no shader-f16) agrees with PyTorch', async () => {
    const plain = await testDevice({ disableFeatures: ['subgroups', 'shader-f16'] });
    try {
      for (const name of [
        'swiglu.decode.int8g32',
        'swiglu.prefill.f16',
        'swiglu.prefill.int8',
        'swiglu.decode.int4g32',
        'swiglu.odd.int4g37',
      ]) {
        const c = fixture.case(name);
        expectClose(
          await run(plain, c),
          (await fixture.get(c.name, 'y')).data,
          TOLERANCE.f32DotActivation,
          `${name} no subgroups`,
        );
      }
    } finally {
      plain.destroy();
    }
  });

  // the 'gpu' kernel shape forced on this adapter: the coalesced decode GEMV, the workgroup-tiled GEMM
  const gpu = deviceSuite({ kernelShape: 'gpu' });
  for (const c of cases) {
    it(`${c.name} ('gpu' kernel shape)`, async () => {
      const { result, labels } = await withKernelLabels(gpu.device, () => run(gpu.device, c));
      expectClose(result, (await fixture.get(c.name, 'y')).data, TOLERANCE.f32DotActivation, `${c.name} gpu shape`);
      const decode = (c.shape as string) === 'swiglu.decode';
      const int4 = (c.dtype as string).startsWith('int4');
      // int4 (group 32 here): the coalesced GEMV on decode rows, its own tiles for more rows
      if ((c.shape as string) !== 'swiglu.odd' && (decode || !int4)) {
        const expected = decode ? /^linear-gemv-swiglu/ : /^linear-tiled-swiglu/;
        expect(labels, c.name).toEqual([expect.stringMatching(expected)]);
      }
    });
  }

  it('equals silu_mul of the two separate linears', async () => {
    const c = fixture.case('swiglu.decode.int8');
    const { data, shape } = await fixture.get(c.shape as string, 'x');
    const { data: weights, shape: wShape } = await fixture.get(c.shape as string, 'weight');
    const [n, K] = [wShape[0] / 2, wShape[1]];
    const [fused, separate] = await suite.device.scopeAsync(async () => {
      const x = Tensor.fromArray(suite.device, data, shape, 'f32');
      const [gate, up] = [0, 1].map((h) =>
        Int8Weight.quantize(suite.device, weights.subarray(h * n * K, (h + 1) * n * K), [n, K]),
      );
      return Promise.all([
        linearSwiGlu(x, await fusedWeight(suite.device, c)).read(),
        siluMul(linear(x, gate), linear(x, up)).read(),
      ]);
    });
    expectClose(fused, separate, TOLERANCE.f32, 'fused vs separate');
  });

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [2, 8], 'f32');
      expect(() => linearSwiGlu(x, Tensor.zeros(suite.device, [5, 8], 'f32'))).toThrow(/gateUp must be \[2N, K\]/);
      expect(() => linearSwiGlu(x, Tensor.zeros(suite.device, [6, 4], 'f32'))).toThrow(ShapeError);
      expect(() => linearSwiGlu(x, Tensor.zeros(suite.device, [8, 8], 'f32', { maxBlockBytes: 128 }))).toThrow(
        /fit one binding/,
      );
      expect(() =>
        concatRows([Tensor.zeros(suite.device, [2, 8], 'f32'), Tensor.zeros(suite.device, [2, 4], 'f32')]),
      ).toThrow(/part 1/);
      expect(() =>
        concatRows([Tensor.zeros(suite.device, [2, 8], 'f32'), Tensor.zeros(suite.device, [2, 8], 'f16')]),
      ).toThrow(ShapeError);
      expect(() => concatRows([])).toThrow(/no tensors/);
      const a = Int8Weight.quantize(suite.device, new Float32Array(16), [2, 8]);
      const b = Int8Weight.quantize(suite.device, new Float32Array(16), [2, 8], { groupSize: 4 });
      expect(() => Int8Weight.concatRows([a, b])).toThrow(/groups of 4/);
      a.dispose();
      b.dispose();
    });
  });
});
