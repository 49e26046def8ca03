/**
 * Non-finite weights are refused at load, naming the tensor and the element, on every path a weight
 * takes to the GPU: f16/bf16 uploaded as stored, converted to f32/f16/bf16, quantized to int8, or
 * read to the CPU for folding. A finite f32 value too large for f16 is refused as an overflow.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  f32ArrayToBf16,
  f32ArrayToF16,
  FastVlmError,
  Int8Weight,
  loadInt8Weight,
  loadTensor,
  NonFiniteWeightError,
  quantizeInt8,
  readFloat32,
  SafetensorsCheckpoint,
  type Device,
  type FloatStorage,
  type TensorToWrite,
} from '../src/index.js';
import { findNonFinite, findNonFiniteHalf } from '../src/non-finite.js';
import { writeSafetensors } from '../src/node/index.js';

const SHAPE = [3, 4] as const;
const good = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.375);
const BAD_VALUES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** `good` with `value` at element `at`. */
function withValue(value: number, at: number): Float32Array {
  const values = Float32Array.from(good);
  values[at] = value;
  return values;
}

function expectNonFinite(error: unknown, tensor: string, index: number, pattern: RegExp): void {
  expect(error).toBeInstanceOf(NonFiniteWeightError);
  expect(error).toBeInstanceOf(FastVlmError);
  const e = error as NonFiniteWeightError;
  expect([e.code, e.tensor, e.index]).toEqual(['CHECKPOINT', tensor, index]);
  expect(e.message).toMatch(new RegExp(`^checkpoint tensor '${tensor.replace(/\./g, '\\.')}': `));
  expect(e.message).toMatch(pattern);
}

describe('bad input: non-finite weights (at load)', () => {
  let device: Device;
  let dir: string;
  let checkpoint: SafetensorsCheckpoint;
  const names: string[] = [];

  beforeAll(async () => {
    device = await createDevice();
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-nonfinite-'));
    const tensors: Record<string, TensorToWrite> = {
      'big.f32': { dtype: 'F32', shape: [...SHAPE], data: withValue(70000, 6) }, // finite, beyond f16
    };
    BAD_VALUES.forEach((value, k) => {
      const values = withValue(value, 5 + k);
      for (const [dtype, data] of [
        ['F32', values],
        ['F16', f32ArrayToF16(values)],
        ['BF16', f32ArrayToBf16(values)],
      ] as const) {
        const name = `bad${k}.${dtype.toLowerCase()}`;
        tensors[name] = { dtype, shape: [...SHAPE], data };
        names.push(name);
      }
    });
    await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    checkpoint = await SafetensorsCheckpoint.open(dir);
  });
  afterAll(async () => {
    await checkpoint.close();
    await rm(dir, { recursive: true, force: true });
    device.destroy();
  });

  it('refuses NaN, +Inf and -Inf from F32, F16 and BF16 loaded as f32, f16 and bf16', async () => {
    expect(names.length).toBe(9);
    for (const name of names) {
      const k = Number(name[3]);
      for (const dtype of ['f32', 'f16', 'bf16'] as FloatStorage[]) {
        const error = await loadTensor(device, checkpoint, name, { dtype, shape: SHAPE }).catch((e: unknown) => e);
        const shown = ['NaN', 'Infinity', '-Infinity'][k];
        expectNonFinite(
          error,
          name,
          5 + k,
          new RegExp(`holds ${shown} at element ${5 + k} \\(\\[1, ${1 + k}\\]\\); weights must be finite`),
        );
      }
    }
    expect(device.liveBytes, 'nothing uploaded').toBe(0);
  });

  it('finds them while quantizing to int8 and when reading to the CPU', async () => {
    for (const name of names) {
      const k = Number(name[3]);
      expectNonFinite(
        await loadInt8Weight(device, checkpoint, name, [3, 4]).catch((e: unknown) => e),
        name,
        5 + k,
        /must be finite/,
      );
      expectNonFinite(
        await readFloat32(checkpoint, name, SHAPE).catch((e: unknown) => e),
        name,
        5 + k,
        /must be finite/,
      );
    }
    expect(() => Int8Weight.quantize(device, withValue(Number.NaN, 11), [3, 4], { label: 'w' })).toThrow(
      /checkpoint tensor 'w': holds NaN at element 11 \(\[2, 3\]\)/,
    );
    const block = quantizeInt8(withValue(Number.POSITIVE_INFINITY, 9), 3, 4, 2);
    expect(block.nonFinite).toEqual({ index: 9, value: Number.POSITIVE_INFINITY });
    expect(quantizeInt8(good, 3, 4, 4).nonFinite).toBeUndefined();
  });

  it('refuses a finite value that overflows f16, and loads it as f32 and bf16', async () => {
    const error = await loadTensor(device, checkpoint, 'big.f32', { dtype: 'f16', shape: SHAPE }).catch(
      (e: unknown) => e,
    );
    expectNonFinite(
      error,
      'big.f32',
      6,
      /holds 70000 at element 6 \(\[1, 2\]\), beyond f16's range: load it in a wider dtype/,
    );
    for (const dtype of ['f32', 'bf16'] as FloatStorage[]) {
      const t = await loadTensor(device, checkpoint, 'big.f32', { dtype, shape: SHAPE });
      expect((await t.toFloat32())[6]).toBeCloseTo(70000, -3);
      t.dispose();
    }
  });

  it('scans f32 and half bits exactly: every exponent-all-ones pattern, nothing else', () => {
    expect(findNonFinite(new Float32Array([0, -0, 3.4e38, -3.4e38, 1e-45]))).toBe(-1);
    expect(findNonFinite([1, 2, Number.NaN])).toBe(2);
    const f16 = new Uint16Array(65536).map((_, i) => i);
    const f16Bad = [...f16].filter((bits) => findNonFiniteHalf(Uint16Array.of(bits), 'f16') === 0);
    expect(f16Bad.length).toBe(2 * 1024); // +-Inf and every NaN
    expect(f16Bad.every((bits) => (bits & 0x7c00) === 0x7c00)).toBe(true);
    const bf16Bad = [...f16].filter((bits) => findNonFiniteHalf(Uint16Array.of(bits), 'bf16') === 0);
    expect(bf16Bad.length).toBe(2 * 128);
    // Long arrays, read two elements a word: the first bad element at every parity, aligned or not.
    const long = new Uint16Array(1001).fill(0x3c00);
    for (const at of [0, 1, 500, 999, 1000]) {
      long[at] = 0xfc00; // -Inf
      expect(findNonFiniteHalf(long, 'f16')).toBe(at);
      expect(findNonFiniteHalf(long.subarray(1), 'f16')).toBe(at === 0 ? (long[1] === 0xfc00 ? 0 : -1) : at - 1);
      long[at] = 0x3c00;
    }
    long[7] = 0x7c00; // f16 +Inf, a finite bf16 (2^121)
    expect([findNonFiniteHalf(long, 'bf16'), findNonFiniteHalf(long, 'f16')]).toEqual([-1, 7]);
  });
});
