/**
 * Int4Weight: the packed layout on a hand-worked example (the bit-for-bit match with PyTorch's
 * quantization is in the kernels' linear suite), the dequantize / quantize round trip the model
 * tests rely on, and bad input refused with typed errors before anything is uploaded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  dequantizeInt4,
  f16BitsToF32,
  Int4Weight,
  loadInt4Weight,
  NonFiniteWeightError,
  quantizeInt4,
  SafetensorsCheckpoint,
  ShapeError,
  type Device,
} from '../src/index.js';
import { writeSafetensors } from '../src/node/index.js';

describe('Int4Weight', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  it('packs two nibbles a byte, low first, in two’s complement, with round-half-even', () => {
    // one group of 8 whose max is 7: the scale is exactly 1
    const row = Float32Array.of(7, -7, 1, -1, 0, 3.5, 2.5, -2.5);
    const { values, scales, bad } = quantizeInt4(row, 1, 8, 8);
    expect(bad).toBeUndefined();
    expect(f16BitsToF32(scales[0])).toBe(1);
    // q = 7, -7, 1, -1, 0, 4, 2, -2 -> nibbles 7, 9, 1, f, 0, 4, 2, e
    expect(Array.from(values)).toEqual([0x97, 0xf1, 0x40, 0xe2]);
  });

  it('pads an odd row with a zero nibble and starts every row on a byte', () => {
    const w = Float32Array.of(7, -7, 7, 1, 2, -7);
    const { values } = quantizeInt4(w, 2, 3, 3);
    expect(Array.from(values)).toEqual([0x97, 0x07, 0x21, 0x09]);
    expect(Array.from(dequantizeInt4(values, quantizeInt4(w, 2, 3, 3).scales, 2, 3, 3))).toEqual([7, -7, 7, 1, 2, -7]);
  });

  it('gives zeros for an all-zero group, and quantizes its own dequantized values to themselves', () => {
    const w = Float32Array.from({ length: 4 * 64 }, (_, i) => (i < 32 ? 0 : Math.sin(i * 1.7) * 0.05));
    const first = quantizeInt4(w, 4, 64, 32);
    expect(first.scales[0]).toBe(0);
    expect(Array.from(first.values.subarray(0, 16))).toEqual(new Array(16).fill(0));
    const dequantized = dequantizeInt4(first.values, first.scales, 4, 64, 32);
    const again = quantizeInt4(dequantized, 4, 64, 32);
    expect(again.values).toEqual(first.values);
    expect(again.scales).toEqual(first.scales);
  });

  it('uploads values [out, ceil(in / 2)] u8 and scales [out, in / group] f16', async () => {
    const w = Int4Weight.quantize(device, new Float32Array(6 * 64).fill(0.25), [6, 64]);
    try {
      expect(w.shape).toEqual([6, 64]);
      expect(w.groupSize).toBe(32);
      expect([w.values.dtype, w.values.shape]).toEqual(['u8', [6, 32]]);
      expect([w.scales.dtype, w.scales.shape]).toEqual(['f16', [6, 2]]);
      expect(w.byteLength).toBe(6 * 32 + 6 * 2 * 2);
      expect(Array.from(await w.values.read()).every((b) => b === 0x77)).toBe(true);
    } finally {
      w.dispose();
    }
    expect(device.liveBytes).toBe(0);
  });

  it('refuses bad shapes and group sizes with a ShapeError, uploading nothing', () => {
    const values = new Float32Array(4 * 40);
    const cases: [() => unknown, RegExp][] = [
      [
        () => Int4Weight.quantize(device, values, [4, 40]),
        /int4 group size 32 does not divide the 40 inputs of \[4, 40\]/,
      ],
      [() => Int4Weight.quantize(device, values, [4, 40], { groupSize: 0 }), /group size 0/],
      [() => Int4Weight.quantize(device, values, [4, 40], { groupSize: 2.5 }), /group size 2.5/],
      [
        () => Int4Weight.quantize(device, values, [4, 41], { groupSize: 41 }),
        /160 values given for an int4 weight of shape \[4, 41\]/,
      ],
      [
        () => Int4Weight.quantize(device, new Float32Array(0), [0, 8], { groupSize: 8 }),
        /must be \[out >= 1, in >= 1\]/,
      ],
      [
        () =>
          Int4Weight.concatRows([
            Int4Weight.quantize(device, values, [4, 40], { groupSize: 8 }),
            Int4Weight.quantize(device, values, [4, 40], { groupSize: 40 }),
          ]),
        /part 1 is \[4, 40\] in groups of 40, not \[n, 40\] in groups of 8/,
      ],
      [() => Int4Weight.concatRows([]), /no weights given/],
    ];
    device.scope(() => {
      for (const [call, message] of cases) {
        expect(call).toThrow(ShapeError);
        expect(call).toThrow(message);
      }
    });
    expect(device.liveBytes).toBe(0);
  });

  it('refuses NaN, infinities and groups whose scale overflows f16, naming the tensor and the element', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fastvlm-int4-'));
    const data = Float32Array.from({ length: 2 * 32 }, (_, i) => i / 64);
    const nan = Float32Array.from(data);
    nan[37] = Number.NaN;
    const huge = Float32Array.from(data);
    huge[40] = 1e6; // finite, but 1e6 / 7 is beyond f16
    try {
      await writeSafetensors(join(dir, 'model.safetensors'), {
        nan: { dtype: 'F32', shape: [2, 32], data: nan },
        huge: { dtype: 'F32', shape: [2, 32], data: huge },
      });
      const checkpoint = await SafetensorsCheckpoint.open(dir);
      try {
        const e1 = await loadInt4Weight(device, checkpoint, 'nan', [2, 32]).catch((e: unknown) => e);
        expect(e1).toBeInstanceOf(NonFiniteWeightError);
        expect((e1 as NonFiniteWeightError).index).toBe(37);
        expect((e1 as Error).message).toMatch(/checkpoint tensor 'nan': holds NaN at element 37 \(\[1, 5\]\)/);
        const e2 = await loadInt4Weight(device, checkpoint, 'huge', [2, 32]).catch((e: unknown) => e);
        expect(e2).toBeInstanceOf(NonFiniteWeightError);
        expect((e2 as Error).message).toMatch(
          /'huge': holds 1000000 at element 40 \(\[1, 8\]\), beyond int4 \(f16 scales\)/,
        );
        const e3 = await loadInt4Weight(device, checkpoint, 'nan', [2, 32], { groupSize: 24 }).catch((e: unknown) => e);
        expect(e3).toBeInstanceOf(ShapeError);
        expect((e3 as Error).message).toMatch(/group size 24 does not divide the 32 inputs of \[2, 32\] \('nan'\)/);
      } finally {
        await checkpoint.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(device.liveBytes).toBe(0);
  });
});
