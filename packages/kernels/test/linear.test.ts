import { Int4Weight, Int8Weight, ShapeError, Tensor, type Device, type TensorOptions } from '@fastvlm/tensor';
import { describe, expect, it } from 'vitest';
import type { Activation } from '../src/shared/math.js';
import { linear, type LinearOptions } from '../src/linear/linear.js';
import type { Weight } from '../src/weight.js';
import {
  expectClose,
  deviceSuite,
  paritySuite,
  testDevice,
  withKernelLabels,
  type Comparison,
  type FixtureCase,
} from './fixtures.js';
import { parseWeightDType, quantizeLikePyTorch } from './quantized-weights.js';
import { INT4_RMS_ERROR, TOLERANCE, type Tolerance } from './tolerances.js';

const VS_F32: Record<string, Tolerance> = {
  f16: TOLERANCE.f16VsF32,
  bf16: TOLERANCE.bf16VsF32,
  int8: TOLERANCE.int8VsF32,
  int4: TOLERANCE.int4VsF32,
};

function rms(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum / values.length);
}

describe('linear vs PyTorch', async () => {
  const suite = await paritySuite('linear', { title: 'linear (max abs / max rel)' });
  const { fixture } = suite;

  const f32 = async (name: string, role: string): Promise<Float32Array> => (await fixture.get(name, role)).data;

  /**
   * Uploads the case's weight as the kernel takes it. int8 / int4 weights are quantized again in
   * TypeScript and must equal PyTorch's values and scales bit for bit.
   */
  async function uploadWeight(
    on: Device,
    c: FixtureCase,
    f32Source: string,
    options: TensorOptions = {},
  ): Promise<Weight> {
    const { base, groupSize } = parseWeightDType(c.dtype as string);
    const { data, shape } = await fixture
      .get(f32Source, f32Source.startsWith('epilogue') ? 'f32_weight' : 'weight')
      .catch(() => ({ data: undefined, shape: undefined }));
    if (base === 'f32') return Tensor.fromArray(on, data!, shape!, 'f32', options);
    if (base === 'f16' || base === 'bf16') {
      const bits = await fixture.raw(c.name, 'weight');
      const wShape = (await fixture.get(c.name, 'weight')).shape;
      const half = new Uint16Array(bits.slice().buffer);
      return base === 'f16'
        ? Tensor.fromArray(on, half, wShape, 'f16', options)
        : Tensor.fromArray(on, half, wShape, 'bf16', options);
    }
    const quantized = await quantizeLikePyTorch(
      on,
      fixture,
      c.name,
      { data: data!, shape: shape! },
      base,
      groupSize,
      options,
    );
    const [rows, cols] = shape!;
    if (quantized instanceof Int4Weight) {
      // half a byte per weight (rows padded to whole bytes) and 2 bytes per group: 4.5 bits at group 32
      expect(quantized.byteLength).toBe(rows * Math.ceil(cols / 2) + rows * (cols / groupSize!) * 2);
    } else {
      const f32Bytes = rows * cols * 4;
      expect(quantized.byteLength).toBeGreaterThanOrEqual(f32Bytes / 4);
      expect(quantized.byteLength).toBeLessThanOrEqual(f32Bytes / 4 + quantized.scales.byteLength);
    }
    return quantized;
  }

  async function check(
    actual: Float32Array,
    expected: Float32Array,
    tolerance: Tolerance,
    what: string,
  ): Promise<Comparison> {
    const result = expectClose(actual, expected, tolerance, what);
    suite.report(`  ${what.padEnd(44)} ${result.maxAbs.toExponential(2)} / ${result.maxRel.toExponential(2)}`);
    return result;
  }

  /** Runs a shape case on `on` (optionally with a split weight) and checks it against PyTorch. */
  async function runShapeCase(on: Device, c: FixtureCase, label: string, options: TensorOptions = {}): Promise<void> {
    const shape = c.shape as string;
    const { data: xData, shape: xShape } = await fixture.get(shape, 'x');
    const { base } = parseWeightDType(c.dtype as string);
    const out = await on.scopeAsync(async () => {
      const weight = await uploadWeight(on, c, shape, options);
      if (options.maxBlockBytes) {
        const quantized = weight instanceof Int8Weight || weight instanceof Int4Weight;
        expect(quantized ? weight.values.isSplit : weight.isSplit, 'weight is split').toBe(true);
      }
      const x = Tensor.fromArray(on, xData, xShape, 'f32');
      const bias = Tensor.fromArray(on, await f32(shape, 'bias'), [weight.shape[0]], 'f32');
      return linear(x, weight, { bias }).read();
    });
    await check(out, await f32(c.name, 'y'), TOLERANCE.f32, `${label} vs same weights`);
    if (base !== 'f32') {
      const yF32 = await f32(shape, 'y_f32');
      const quantized = base === 'int8' || base === 'int4';
      const tolerance = quantized ? { ...VS_F32[base], atol: VS_F32[base].atol * rms(yF32) } : VS_F32[base];
      await check(out, yF32, tolerance, `${label} vs f32 weights`);
      if (base === 'int4') {
        // the worst output bounds the noise's tail; its RMS bounds the noise itself (and any bias)
        const relative = rms(out.map((v, i) => v - yF32[i])) / rms(yF32);
        suite.report(`  ${`${label} RMS error / RMS(y)`.padEnd(44)} ${relative.toExponential(2)}`);
        expect(relative, `${label}: RMS error relative to RMS(y)`).toBeLessThanOrEqual(INT4_RMS_ERROR);
      }
    }
  }

  for (const c of fixture.cases((c) => c.kind === 'linear')) {
    it(c.name, async () => {
      await runShapeCase(suite.device, c, c.name);
    });
  }

  /** Runs an epilogue case (activation, bias, residual, layer scale) on `on` and checks it against PyTorch. */
  async function runEpilogueCase(on: Device, c: FixtureCase, label: string): Promise<void> {
    const role = async (r: string): Promise<Tensor<'f32'> | undefined> => {
      const t = await fixture.get(c.name, r).catch(() => undefined);
      return t && Tensor.fromArray(on, t.data, t.shape, 'f32');
    };
    const y = await on.scopeAsync(async () => {
      const options: LinearOptions = {
        activation: c.activation as Activation,
        bias: await role('bias'),
        residual: await role('residual'),
        scale: await role('scale'),
      };
      return linear((await role('x'))!, await uploadWeight(on, c, c.name), options).read();
    });
    const tolerance = c.activation === 'none' ? TOLERANCE.f32 : TOLERANCE.f32DotActivation;
    await check(y, await f32(c.name, 'y'), tolerance, label);
  }

  for (const c of fixture.cases((c) => c.kind === 'epilogue')) {
    it(c.name, async () => {
      await runEpilogueCase(suite.device, c, c.name);
    });
  }

  // The 'gpu' kernel shape forced on this adapter: decode rows (M <= 4) run the coalesced GEMV
  // (a workgroup per 8 columns, 32 lanes over K, reduced in workgroup memory), more rows the GEMM
  // with 64 x 64 tiles staged in workgroup memory; every case must still match PyTorch.
  const gpu = deviceSuite({ kernelShape: 'gpu' });
  for (const c of fixture.cases((c) => c.kind === 'linear' || c.kind === 'epilogue')) {
    it(`${c.name} ('gpu' kernel shape)`, async () => {
      const label = `${c.name} gpu shape`;
      const { labels } = await withKernelLabels(gpu.device, () =>
        c.kind === 'epilogue' ? runEpilogueCase(gpu.device, c, label) : runShapeCase(gpu.device, c, label),
      );
      const [M, K] = (await fixture.get(c.kind === 'epilogue' ? c.name : (c.shape as string), 'x')).shape;
      // int4: the coalesced GEMV when K and its group are multiples of 16, its own tiles for more
      // rows; K not a multiple of 4 keeps the scalar kernel
      const { base, groupSize } = parseWeightDType(c.dtype as string);
      if (base === 'int4') {
        if (M <= 4 && K % 16 === 0 && groupSize! % 16 === 0)
          expect(labels, `${c.name} runs the coalesced GEMV`).toEqual([expect.stringMatching(/^linear-gemv-int4-/)]);
        else expect(labels, `${c.name} keeps the int4 tiles`).toEqual([expect.not.stringMatching(/gemv|tiled/)]);
      } else if (K % 4 === 0) {
        const expected = M <= 4 ? /^linear-gemv-/ : /^linear-tiled-/;
        expect(labels, `${c.name} runs the 'gpu' kernel`).toEqual([expect.stringMatching(expected)]);
      }
    });
  }

  // Weights above the binding limit (a tied LM head) come split into row blocks; small weights are
  // split here with maxBlockBytes. int8 values and scales split at different rows.
  const SPLITS: [string, number][] = [
    ['odd.f32', 600],
    ['k_proj.f16', 40_000],
    ['k_proj.int8g32', 2_000],
    ['decode_m3.f16', 600_000],
    ['decode_m3.int8', 300_000],
    ['decode_m3.int4g32', 120_000],
    ['odd.int4g37', 80],
  ];
  for (const [name, maxBlockBytes] of SPLITS) {
    it(`${name} with the weight split into row blocks of <= ${maxBlockBytes} bytes`, async () => {
      const c = fixture.case(name);
      const live = suite.device.liveBytes;
      await runShapeCase(suite.device, c, `${name} split`, { maxBlockBytes });
      expect(suite.device.liveBytes, 'all blocks freed').toBe(live);
    });
  }

  // the same on the 'gpu' kernel shape (a tied LM head on a GPU: split weight, coalesced GEMV)
  for (const [name, maxBlockBytes] of SPLITS) {
    it(`${name} with the weight split into row blocks of <= ${maxBlockBytes} bytes ('gpu' kernel shape)`, async () => {
      await runShapeCase(gpu.device, fixture.case(name), `${name} split gpu shape`, { maxBlockBytes });
    });
  }

  // x, y and the residual above the binding limit come split into row blocks too (the all-position
  // logits [T, vocab] of a prefill): on a device whose bindings are capped small, each case's x and
  // y (and residual) span several blocks, cut at different rows, and the results must not change.
  const ROW_SPLITS: [string, number][] = [
    ['k_proj.f16', 64 * 1024], // GEMM tiles: x in 18-row blocks, y in 128-row blocks
    ['decode_m3.f16', 4096], // decode tiles: one row per block
    ['decode_m3.int8g64', 4096],
    ['decode_m3.int4g32', 4096],
    ['odd.f32', 256], // the scalar kernel (K = 37): x in 1-row blocks, y in 3-row blocks
  ];
  for (const features of ['subgroups', 'no subgroups'] as const) {
    it(`x and y split into row blocks (binding limit capped), ${features}, agree with PyTorch`, async () => {
      for (const [name, limit] of ROW_SPLITS) {
        const capped = await testDevice({
          limitCaps: { maxStorageBufferBindingSize: limit },
          disableFeatures: features === 'subgroups' ? [] : ['subgroups'],
        });
        try {
          const c = fixture.case(name);
          const { data: xData, shape: xShape } = await fixture.get(c.shape as string, 'x');
          const out = await capped.scopeAsync(async () => {
            const weight = await uploadWeight(capped, c, c.shape as string);
            const x = Tensor.fromArray(capped, xData, xShape, 'f32');
            const bias = Tensor.fromArray(capped, await f32(c.shape as string, 'bias'), [weight.shape[0]], 'f32');
            const y = linear(x, weight, { bias });
            expect(x.isSplit && y.isSplit, `${name}: x and y are split`).toBe(true);
            return y.read();
          });
          await check(out, await f32(c.name, 'y'), TOLERANCE.f32, `${name} x, y split (${features})`);
        } finally {
          capped.destroy();
        }
      }
    });
  }

  it('a residual split at other rows than y (fc2 + layer scale) agrees with PyTorch', async () => {
    const capped = await testDevice({ limitCaps: { maxStorageBufferBindingSize: 8192 } });
    try {
      const c = fixture.case('epilogue.fc2_layer_scale');
      const role = async (r: string, options: TensorOptions = {}): Promise<Tensor<'f32'>> => {
        const t = await fixture.get(c.name, r);
        return Tensor.fromArray(capped, t.data, t.shape, 'f32', options);
      };
      const y = await capped.scopeAsync(async () => {
        const x = await role('x'); // [50, 384]: 5-row blocks
        const residual = await role('residual', { maxBlockBytes: 4096 }); // [50, 96]: 10-row blocks
        const out = linear(x, await uploadWeight(capped, c, c.name), {
          bias: await role('bias'),
          residual,
          scale: await role('scale'),
        }); // [50, 96]: 21-row blocks
        expect(x.isSplit && residual.isSplit && out.isSplit, 'x, residual and y are split').toBe(true);
        return out.read();
      });
      await check(y, await f32(c.name, 'y'), TOLERANCE.f32, 'fc2_layer_scale x, y, residual split');
    } finally {
      capped.destroy();
    }
  });

  it('the per-lane kernel (no subgroups, no shader-f16) agrees with PyTorch', async () => {
    const plain = await testDevice({ disableFeatures: ['subgroups', 'shader-f16'] });
    try {
      for (const name of [
        'edge.int8g8',
        'k_proj.f32',
        'k_proj.f16',
        'k_proj.bf16',
        'decode_m3.int8g64',
        'decode_up.f16',
        'edge.int4g8',
        'decode_m3.int4g32',
        'decode_down.int4g64',
        'odd.int4g37',
      ]) {
        await runShapeCase(plain, fixture.case(name), `${name} no subgroups`);
      }
    } finally {
      plain.destroy();
    }
  });

  it('rejects bad inputs with a ShapeError', () => {
    suite.device.scope(() => {
      const x = Tensor.zeros(suite.device, [2, 4], 'f32');
      const w = Tensor.zeros(suite.device, [3, 4], 'f16');
      const vector = (n: number): Tensor<'f32'> => Tensor.zeros(suite.device, [n], 'f32');
      const cases: [() => unknown, RegExp][] = [
        [() => linear(Tensor.zeros(suite.device, [2, 5], 'f32'), w), /does not end in the weight's 4 inputs/],
        [() => linear(x, w, { bias: vector(4) }), /bias must be f32 \[3\]/],
        [() => linear(x, w, { residual: Tensor.zeros(suite.device, [2, 4], 'f32') }), /residual must be f32 \[2, 3\]/],
        [
          () => linear(x, w, { residual: Tensor.zeros(suite.device, [2, 3], 'f32'), scale: vector(2) }),
          /scale must be f32 \[3\]/,
        ],
        [() => linear(x, w, { scale: vector(3) }), /give residual too/],
        [
          () => linear(Tensor.zeros(suite.device, [2, 4], 'f16') as unknown as Tensor<'f32'>, w),
          /x must be f32, got f16/,
        ],
        [
          () => linear(x, Tensor.zeros(suite.device, [3, 4], 'i8') as unknown as Weight),
          /weight must be f32, f16, bf16, an Int8Weight or an Int4Weight/,
        ],
        [() => linear(x, Tensor.zeros(suite.device, [12], 'f32')), /weight must be \[out, in\]/],
      ];
      for (const [call, message] of cases) {
        expect(call).toThrow(ShapeError);
        expect(call).toThrow(message);
      }
    });
  });
});
