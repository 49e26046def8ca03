import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatRows, createDevice, Int8Weight, ShapeError, Tensor, type Device } from '../src/index.js';

describe('concatRows', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  const ramp = (n: number, from: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

  it('stacks the rows of its parts, split parts too, and frees nothing it does not own', async () => {
    const live = device.liveBytes;
    const a = Tensor.fromArray(device, ramp(3 * 4, 0), [3, 4], 'f32');
    const b = Tensor.fromArray(device, ramp(5 * 4, 100), [5, 4], 'f32', { maxBlockBytes: 32 }); // 2 rows a block
    expect(b.isSplit).toBe(true);
    const ab = concatRows([a, b]);
    expect(ab.shape).toEqual([8, 4]);
    expect(Array.from(await ab.read())).toEqual([...ramp(12, 0), ...ramp(20, 100)]);
    expect(Array.from(await a.read()), 'parts unchanged').toEqual(Array.from(ramp(12, 0)));
    for (const t of [a, b, ab]) t.dispose();
    expect(device.liveBytes).toBe(live);
  });

  it('keeps the dtype: f16 bits and int8 weights with their scales', async () => {
    const halves = [
      Tensor.fromArray(device, [1, 2, 3, 4], [2, 2], 'f16'),
      Tensor.fromArray(device, [5, 6], [1, 2], 'f16'),
    ];
    const h = concatRows(halves);
    expect(h.dtype).toBe('f16');
    expect(Array.from(await h.toFloat32())).toEqual([1, 2, 3, 4, 5, 6]);
    const gate = Int8Weight.quantize(device, ramp(2 * 8, -8), [2, 8], { groupSize: 4 });
    const up = Int8Weight.quantize(device, ramp(3 * 8, 1), [3, 8], { groupSize: 4 });
    const both = Int8Weight.concatRows([gate, up]);
    const whole = Int8Weight.quantize(device, Float32Array.from([...ramp(16, -8), ...ramp(24, 1)]), [5, 8], {
      groupSize: 4,
    });
    expect(both.shape).toEqual([5, 8]);
    expect(both.groupSize).toBe(4);
    expect(Array.from(await both.values.read())).toEqual(Array.from(await whole.values.read()));
    expect(Array.from(await both.scales.read())).toEqual(Array.from(await whole.scales.read()));
    for (const t of [...halves, h, gate, up, both, whole]) t.dispose();
  });

  it('rejects parts that do not stack, naming the part', () => {
    device.scope(() => {
      const a = Tensor.zeros(device, [2, 4], 'f32');
      expect(() => concatRows([a, Tensor.zeros(device, [2, 3], 'f32')])).toThrow(/part 1 is f32 \[2, 3\]/);
      expect(() => concatRows([a, Tensor.zeros(device, [2, 4], 'i32')])).toThrow(ShapeError);
      expect(() => concatRows([Tensor.zeros(device, [1, 3], 'f16'), Tensor.zeros(device, [1, 3], 'f16')])).toThrow(
        /4-byte words/,
      );
      expect(() => concatRows([a, a], { maxBlockBytes: 32 })).toThrow(/exceeds one buffer binding/);
      expect(() => concatRows([])).toThrow(/no tensors/);
      expect(() => Int8Weight.concatRows([])).toThrow(/no weights/);
      const w8 = Int8Weight.quantize(device, new Float32Array(16), [2, 8]);
      const w4 = Int8Weight.quantize(device, new Float32Array(8), [2, 4]);
      expect(() => Int8Weight.concatRows([w8, w4])).toThrow(
        /part 1 is \[2, 4\] in groups of 4, not \[n, 8\] in groups of 8/,
      );
      w8.dispose();
      w4.dispose();
    });
  });
});
