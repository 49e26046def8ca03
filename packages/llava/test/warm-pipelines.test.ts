/**
 * FastVLM.load warms the vision tower's pipelines (`warmPipelines`, default on): the tower runs once
 * with one workgroup per dispatch while the decoder loads, so the first image compiles nothing for
 * the tower; the warm-up leaves no GPU memory behind, and the features are exactly those of a model
 * loaded without it.
 */
import { readFile } from 'node:fs/promises';
import { createDevice, Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastVLM } from '../src/model/index.js';
import { IMAGE_PATH, MODEL_FOLDER } from './e2e-fixtures.js';

/** The tower's features for the test image, and the pipelines compiled while computing them. */
async function features(model: FastVLM): Promise<{ data: Float32Array; compiled: number }> {
  const device = model.device;
  const pixels = await model.preprocess(await readFile(IMAGE_PATH));
  const before = device.kernels.compiled;
  const out = device.scope(() => model.vision.encode(Tensor.fromArray(device, pixels.data, pixels.shape, 'f32')));
  const compiled = device.kernels.compiled - before;
  const data = await out.read();
  out.dispose();
  return { data, compiled };
}

describe('FastVLM.load warms the vision pipelines', () => {
  const devices: Device[] = [];
  const models: FastVLM[] = [];
  async function load(warmPipelines: boolean): Promise<FastVLM> {
    const device = await createDevice();
    devices.push(device);
    const model = await FastVLM.load(MODEL_FOLDER, { dtype: 'f16', device, warmPipelines });
    models.push(model);
    return model;
  }
  let warm: FastVLM;
  let cold: FastVLM;
  beforeAll(async () => {
    warm = await load(true);
    cold = await load(false);
  });
  afterAll(() => {
    models.forEach((m) => m.dispose());
    devices.forEach((d) => d.destroy());
  });

  it('compiles the tower at load, keeping no GPU memory for it: the first image compiles no pipeline for it', async () => {
    // what the warm-up made is freed, pooled buffers included: both hold just their weights
    expect(warm.device.liveBytes).toBe(cold.device.liveBytes);
    expect(warm.device.pooledBytes).toBe(cold.device.pooledBytes);
    const byLoadItself = cold.device.kernels.compiled; // the load's own kernels (weight fusions)
    const byWarmUp = warm.device.kernels.compiled - byLoadItself;
    expect(byWarmUp).toBeGreaterThan(0);
    const first = await features(warm);
    expect(first.compiled).toBe(0);
    // without the warm-up the same image compiles the tower's pipelines, as many as the warm-up made
    const unwarmed = await features(cold);
    expect(unwarmed.compiled).toBe(byWarmUp);
  });

  it('gives the same features bit for bit as a model loaded without it', async () => {
    const a = await features(warm);
    const b = await features(cold);
    expect(a.data).toEqual(b.data);
  });
});
