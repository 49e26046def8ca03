import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  createDevice,
  f32ArrayToBf16,
  f16ArrayToF32,
  f32ArrayToF16,
  loadInt8Weight,
  quantizeInt8,
  loadTensor,
  SafetensorsCheckpoint,
  type Device,
  type FloatStorage,
} from '../src/index.js';
import { writeSafetensors } from '../src/node/index.js';

describe('loading checkpoint tensors onto the GPU', () => {
  let device: Device;
  let dir: string;
  let checkpoint: SafetensorsCheckpoint;
  const values = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.375);

  beforeAll(async () => {
    device = await createDevice();
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-load-'));
    await writeSafetensors(join(dir, 'model.safetensors'), {
      'a.f32': { dtype: 'F32', shape: [3, 4], data: values },
      'a.f16': { dtype: 'F16', shape: [3, 4], data: f32ArrayToF16(values) },
      'a.bf16': { dtype: 'BF16', shape: [3, 4], data: f32ArrayToBf16(values) },
      'a.i64': { dtype: 'I64', shape: [1], data: new BigInt64Array([7n]) },
      'wide.bf16': { dtype: 'BF16', shape: [3], data: f32ArrayToBf16([1, 70000, -3e38]) },
    });
    checkpoint = await SafetensorsCheckpoint.open(dir);
  });
  afterAll(async () => {
    await checkpoint.close();
    await rm(dir, { recursive: true, force: true });
    device.destroy();
  });

  // The values are exact in every format, so every conversion path must reproduce them exactly.
  for (const source of ['a.f32', 'a.f16', 'a.bf16']) {
    for (const dtype of ['f32', 'f16', 'bf16'] as FloatStorage[]) {
      it(`${source} -> ${dtype}`, async () => {
        const t = await loadTensor(device, checkpoint, source, { dtype, shape: [3, 4] });
        expect(t.dtype).toBe(dtype);
        expect(Array.from(await t.toFloat32())).toEqual(Array.from(values));
        t.dispose();
      });
    }
  }

  it('quantizes a weight to int8 at load', async () => {
    const w = await loadInt8Weight(device, checkpoint, 'a.f32', [3, 4]);
    expect(w.values.shape).toEqual([3, 4]);
    expect(w.scales.shape).toEqual([3, 1]);
    w.dispose();
  });

  it('quantizes a large f16 matrix block by block exactly as the whole matrix at once', async () => {
    // 2500 x 1000: more rows than one quantization block (2^20 values) holds
    const rows = 2500;
    const cols = 1000;
    const big = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const bits = f32ArrayToF16(big);
    const path = join(dir, 'big.safetensors');
    await writeSafetensors(path, { big: { dtype: 'F16', shape: [rows, cols], data: bits } });
    const file = await SafetensorsCheckpoint.open(path);
    try {
      const loaded = await loadInt8Weight(device, file, 'big', [rows, cols]);
      const expected = quantizeInt8(f16ArrayToF32(bits), rows, cols, cols);
      expect(new Int8Array((await loaded.values.read()).buffer)).toEqual(expected.values);
      expect(await loaded.scales.read()).toEqual(expected.scales);
      loaded.dispose();
    } finally {
      await file.close();
    }
  });

  it('refuses bfloat16 values beyond f16 when asked for f16, and loads them as f32', async () => {
    await expect(loadTensor(device, checkpoint, 'wide.bf16', { dtype: 'f16', shape: [3] })).rejects.toThrow(
      "checkpoint tensor 'wide.bf16': holds 2 bfloat16 values beyond f16's range",
    );
    const t = await loadTensor(device, checkpoint, 'wide.bf16', { dtype: 'f32', shape: [3] });
    expect((await t.toFloat32())[1]).toBe(70144); // 70000 rounded to bfloat16
    t.dispose();
  });

  it('names the tensor when it is missing, misshapen or not a float', async () => {
    await expect(loadTensor(device, checkpoint, 'nope', { dtype: 'f32', shape: [1] })).rejects.toThrow(CheckpointError);
    await expect(loadTensor(device, checkpoint, 'a.f32', { dtype: 'f32', shape: [4, 3] })).rejects.toThrow(
      "checkpoint tensor 'a.f32': has shape [3, 4], the config implies [4, 3]",
    );
    await expect(loadTensor(device, checkpoint, 'a.i64', { dtype: 'f32', shape: [1] })).rejects.toThrow(
      /has dtype I64/,
    );
  });
});
