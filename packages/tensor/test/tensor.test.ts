import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  DisposedError,
  f16BitsToF32,
  f32ToF16Bits,
  ShapeError,
  Tensor,
  type DType,
  type Device,
} from '../src/index.js';

describe('Tensor', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  const samples: Record<DType, ArrayLike<number>> = {
    f32: [1.5, -2.25, 3e-8, 1e30, 0, -0.125, 7],
    f16: [1.5, -2.25, 0.0001, 65504, 0, -0.125, 7],
    bf16: [1.5, -2.25, 3e-8, 1e30, 0, -0.125, 7],
    i32: [1, -2, 2147483647, -2147483648, 0, 5, 7],
    u32: [1, 2, 4294967295, 0, 9, 5, 7],
    i8: [1, -2, 127, -128, 0, 5, 7],
    u8: [1, 2, 255, 0, 9, 5, 7],
  };

  for (const [dtype, values] of Object.entries(samples) as [DType, ArrayLike<number>][]) {
    it(`round-trips ${dtype} through the GPU (odd length)`, async () => {
      const t = Tensor.fromArray(device, values, [values.length], dtype);
      const back = dtype === 'f16' || dtype === 'bf16' ? await t.toFloat32() : await t.read();
      for (let i = 0; i < values.length; i++) {
        const want = values[i];
        if (dtype === 'f16') expect(back[i]).toBe(f16BitsToF32(f32ToF16Bits(want)));
        else if (dtype === 'bf16') expect(Math.abs(back[i] - want)).toBeLessThanOrEqual(Math.abs(want) / 128);
        else if (dtype === 'f32') expect(back[i]).toBe(Math.fround(want));
        else expect(back[i]).toBe(want);
      }
      t.dispose();
    });
  }

  it('reshapes without copying and keeps the data alive until the last view is disposed', async () => {
    const t = Tensor.fromArray(
      device,
      Float32Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
      'f32',
    );
    const live = device.liveBytes;
    const v = t.reshape([6, -1]);
    expect(v.shape).toEqual([6, 4]);
    expect(device.liveBytes).toBe(live); // no new buffer
    t.dispose();
    expect(Array.from(await v.read()).slice(20)).toEqual([20, 21, 22, 23]);
    v.dispose();
    expect(device.liveBytes).toBe(live - 256);
    expect(() => t.reshape([5, 5])).toThrow(DisposedError);
  });

  it('rejects bad shapes and data lengths with a ShapeError', () => {
    expect(() => Tensor.fromArray(device, [1, 2, 3], [2, 2], 'f32')).toThrow(ShapeError);
    expect(() => Tensor.empty(device, [2, -1], 'f32')).toThrow(/invalid dimension/);
    const t = Tensor.zeros(device, [4, 4], 'f32');
    expect(() => t.reshape([3, 5])).toThrow(/cannot reshape 16 elements/);
    expect(() => t.sliceRows(2, 9)).toThrow(/outside/);
    t.dispose();
  });

  it('slices aligned rows as a view', async () => {
    const t = Tensor.fromArray(
      device,
      Float32Array.from({ length: 256 }, (_, i) => i),
      [4, 64],
      'f32',
    );
    const rows = t.sliceRows(1, 3);
    expect(rows.shape).toEqual([2, 64]);
    const data = await rows.read();
    expect(data[0]).toBe(64);
    expect(data[127]).toBe(191);
    expect(() => t.reshape([8, 32]).sliceRows(1, 2)).toThrow(/byte boundary/);
    t.dispose();
    rows.dispose();
  });

  it('frees temporaries when a scope ends and hands its result to the caller', async () => {
    const live = device.liveBytes;
    const kept = device.scope(() => {
      Tensor.zeros(device, [100], 'f32');
      Tensor.zeros(device, [200], 'f32');
      return { result: Tensor.fromArray(device, [4, 5], [2], 'f32') };
    });
    expect(device.liveBytes).toBe(live + 256);
    expect(Array.from(await kept.result.read())).toEqual([4, 5]);
    kept.result.dispose();
    expect(device.liveBytes).toBe(live);
  });

  it('handles empty and scalar tensors', async () => {
    const empty = Tensor.empty(device, [0, 3], 'f32');
    expect((await empty.read()).length).toBe(0);
    const scalar = Tensor.fromArray(device, [42], [], 'i32');
    expect(Array.from(await scalar.read())).toEqual([42]);
    empty.dispose();
    scalar.dispose();
  });

  it('uploads into a buffer freed earlier in the same unsubmitted batch without racing the batch', async () => {
    const copy = device.kernel(
      `@group(0) @binding(0) var<storage, read> a: array<f32>;
       @group(0) @binding(1) var<storage, read_write> b: array<f32>;
       @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) { b[id.x] = a[id.x]; }`,
      'copy',
    );
    const a = Tensor.fromArray(device, new Float32Array(64).fill(1), [64], 'f32');
    const b = Tensor.empty(device, [64], 'f32');
    device.dispatch(copy, [a, b], [1]); // recorded, not yet run
    a.dispose(); // a's buffer goes back to the pool while the copy is pending
    const c = Tensor.fromArray(device, new Float32Array(64).fill(2), [64], 'f32'); // likely the same buffer
    expect(Array.from(await b.read()).every((v) => v === 1)).toBe(true);
    expect(Array.from(await c.read()).every((v) => v === 2)).toBe(true);
    b.dispose();
    c.dispose();
  });
});
