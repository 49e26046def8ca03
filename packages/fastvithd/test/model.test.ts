import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  createDevice,
  SafetensorsCheckpoint,
  ShapeError,
  sizeClass,
  Tensor,
  type Device,
  type TensorsToWrite,
} from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fastVitHdConfig,
  loadFastVitHd,
  VISION_TOWER_PREFIX,
  visionTowerConfig,
  VisionConfigError,
} from '../src/model/index.js';
import {
  checkStages,
  disposeResult,
  encodeFixture,
  expectStageClose,
  loadFixtureTower,
  openForward,
  type ForwardFixture,
} from './model-fixtures.js';
import { TOLERANCE } from './tolerances.js';
import { writeSafetensors } from '@fastvlm/tensor/node';

const SIZE = 256; // every real channel width and depth on small maps (16 image tokens)

describe(`FastViTHD at ${SIZE} px vs PyTorch`, () => {
  let device: Device;
  let fixture: ForwardFixture;
  const report: string[] = [];
  beforeAll(async () => {
    device = await createDevice();
    fixture = await openForward(SIZE);
  });
  afterAll(async () => {
    console.log(`FastViTHD max abs error / max |ref| per stage (PyTorch f32's own in brackets):\n${report.join('\n')}`);
    await fixture?.close();
    device?.destroy();
  });

  it('f32 weights: every stage and the features', async () => {
    const tower = await loadFixtureTower(device, 'f32', SIZE);
    const result = await encodeFixture(device, tower, fixture);
    report.push(
      `  ${SIZE} px, f32 weights (${result.seconds.toFixed(1)} s): ${await checkStages(result, fixture, 'f32')}`,
    );
    disposeResult(result);
    tower.dispose();
  });

  it('f16 weights: every stage and the features; the drift from the f32 weights is stated', async () => {
    const tower = await loadFixtureTower(device, 'f16', SIZE);
    const result = await encodeFixture(device, tower, fixture);
    report.push(
      `  ${SIZE} px, f16 weights (${result.seconds.toFixed(1)} s): ${await checkStages(result, fixture, 'f16')}`,
    );
    // Against the unrounded weights' reference the f16 rounding shows (so the parity bound is tight enough to see it).
    const f32Reference = (await fixture.get('f32.features')).data;
    const actual = await result.features.read();
    expect(() => expectStageClose(actual, f32Reference, TOLERANCE.tower, 'f16 weights vs f32 reference')).toThrow();
    const drift = expectStageClose(actual, f32Reference, TOLERANCE.f16WeightsVsF32, 'f16 weights vs f32 reference');
    report.push(
      `  ${SIZE} px, f16 weights vs the f32 weights' reference: features ${drift.relativeToMax.toExponential(1)}`,
    );
    disposeResult(result);
    tower.dispose();
  });

  it('int8 matrices: every stage against the reference with the same quantized weights; the drift from f32 is stated', async () => {
    const tower = await loadFixtureTower(device, 'int8', SIZE);
    const result = await encodeFixture(device, tower, fixture);
    report.push(
      `  ${SIZE} px, int8 matrices (${result.seconds.toFixed(1)} s): ${await checkStages(result, fixture, 'int8')}`,
    );
    const actual = await result.features.read();
    const f32Reference = (await fixture.get('f32.features')).data;
    const drift = expectStageClose(actual, f32Reference, TOLERANCE.int8WeightsVsF32, 'int8 matrices vs f32 reference');
    report.push(
      `  ${SIZE} px, int8 matrices vs the f32 weights' reference: features ${drift.relativeToMax.toExponential(1)}`,
    );
    disposeResult(result);
    tower.dispose();
  });

  it('records one command batch without readbacks, frees its temporaries over 3 encodes, and dispose() frees the weights', async () => {
    const baseline = device.liveBytes;
    const tower = await loadFixtureTower(device, 'f16', SIZE);
    const pixels = await fixture.get('pixels');
    const input = Tensor.fromArray(device, pixels.data, pixels.shape, 'f32');
    await device.sync();
    const loaded = device.liveBytes;
    const expected = (await fixture.get('f16.features')).data;
    for (let run = 0; run < 3; run++) {
      const { submits, readbacks } = device.stats;
      const features = tower.encode(input);
      expect(device.stats.submits, 'submits while recording').toBe(submits);
      expect(device.stats.readbacks, 'readbacks while recording').toBe(readbacks);
      // the features only (in a pooled buffer of their size class or up to twice it)
      expect(device.liveBytes - loaded, 'live after encode').toBeGreaterThanOrEqual(sizeClass(features.byteLength));
      expect(device.liveBytes - loaded, 'live after encode').toBeLessThanOrEqual(2 * sizeClass(features.byteLength));
      expectStageClose(await features.read(), expected, TOLERANCE.tower, `encode ${run}`);
      features.dispose();
      expect(device.liveBytes, `live bytes after encode ${run}`).toBe(loaded);
    }
    input.dispose();
    tower.dispose();
    expect(device.liveBytes, 'live bytes after dispose()').toBe(baseline);
  });

  it('refuses pixels of the wrong shape or dtype with a ShapeError', async () => {
    const tower = await loadFixtureTower(device, 'f16', SIZE);
    device.scope(() => {
      expect(() => tower.encode(Tensor.zeros(device, [SIZE, SIZE, 4], 'f32'))).toThrow(ShapeError);
      expect(() => tower.encode(Tensor.zeros(device, [3, SIZE, SIZE], 'f32'))).toThrow(
        /must be f32 \[256, 256, 3\] \(channels-last\)/,
      );
      expect(() => tower.encode(Tensor.zeros(device, [SIZE / 2, SIZE / 2, 3], 'f32'))).toThrow(ShapeError);
      expect(() => tower.encode(Tensor.zeros(device, [SIZE, SIZE, 3], 'f16') as unknown as Tensor<'f32'>)).toThrow(
        ShapeError,
      );
    });
    tower.dispose();
  });
});

describe('FastViTHD checkpoints and config', () => {
  let device: Device;
  let folder: string;
  beforeAll(async () => {
    device = await createDevice();
    folder = await mkdtemp(join(tmpdir(), 'fastvithd-bad-'));
  });
  afterAll(async () => {
    device?.destroy();
    await rm(folder, { recursive: true, force: true });
  });

  const f32 = (shape: number[]): TensorsToWrite[string] => ({
    dtype: 'F32',
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });

  /** Loads a checkpoint holding only `tensors` (names relative to the tower prefix); returns the error thrown. */
  async function loadError(file: string, tensors: Record<string, number[]>): Promise<unknown> {
    const path = join(folder, file);
    await writeSafetensors(
      path,
      Object.fromEntries(Object.entries(tensors).map(([name, shape]) => [VISION_TOWER_PREFIX + name, f32(shape)])),
    );
    const checkpoint = await SafetensorsCheckpoint.open(path);
    const before = device.liveBytes;
    try {
      await loadFastVitHd(device, checkpoint, { config: fastVitHdConfig(256), dtype: 'f32' });
      return undefined;
    } catch (error) {
      expect(device.liveBytes, `${file}: nothing stays allocated`).toBe(before);
      return error;
    } finally {
      await checkpoint.close();
    }
  }

  it('a missing tensor is a CheckpointError naming it', async () => {
    const error = await loadError('missing.safetensors', { 'patch_embed.0.reparam_conv.weight': [96, 3, 3, 3] });
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).tensor).toBe(`${VISION_TOWER_PREFIX}patch_embed.0.reparam_conv.bias`);
    expect(String((error as Error).message)).toMatch(/is missing/);
  });

  it('a tensor of the wrong shape is a CheckpointError naming it and both shapes', async () => {
    const error = await loadError('shape.safetensors', {
      'patch_embed.0.reparam_conv.weight': [96, 3, 5, 5],
      'patch_embed.0.reparam_conv.bias': [96],
    });
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).tensor).toBe(`${VISION_TOWER_PREFIX}patch_embed.0.reparam_conv.weight`);
    expect((error as Error).message).toMatch(/has shape \[96, 3, 5, 5\], the config implies \[96, 3, 3, 3\]/);
  });

  it('a train-form (un-reparameterized) tower is refused: it must be reparameterized first', async () => {
    const trainForm: Record<string, number[]>[] = [
      { 'patch_embed.0.rbr_conv.0.conv.weight': [96, 3, 3, 3], 'patch_embed.0.rbr_conv.0.bn.weight': [96] }, // MobileOne branches
      { 'network.0.0.token_mixer.mixer.rbr_skip.weight': [96] }, // RepMixer unfolded
      { 'network.1.proj.0.lkb_origin.conv.weight': [192, 1, 7, 7] }, // large-kernel conv unfolded
      { 'network.1.proj.0.small_conv.conv.weight': [192, 1, 3, 3] },
      { 'network.6.pe.weight': [768, 1, 7, 7] }, // RepCPE unfolded
    ];
    for (const [i, tensors] of trainForm.entries()) {
      const error = await loadError(`train-${i}.safetensors`, tensors);
      expect(error, Object.keys(tensors)[0]).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(/train form .*reparameterize the tower first/);
      expect(Object.keys(tensors).map((n) => VISION_TOWER_PREFIX + n)).toContain((error as CheckpointError).tensor);
    }
  });

  it('mobileclip_l_N: the tower size and token count; other names are a VisionConfigError', () => {
    expect(visionTowerConfig('mobileclip_l_1024')).toMatchObject({
      imageSize: 1024,
      gridSize: 16,
      tokens: 256,
      embedDim: 3072,
    });
    expect(visionTowerConfig('mobileclip_l_384').tokens).toBe(36);
    expect(visionTowerConfig('mobileclip_l_64').tokens).toBe(1);
    for (const bad of [
      'mobileclip_l_1000',
      'mobileclip_l_0',
      'mobileclip_b_1024',
      'openai/clip-vit-large-patch14',
      'mobileclip_l_',
    ]) {
      expect(() => visionTowerConfig(bad), bad).toThrow(VisionConfigError);
    }
    expect(() => visionTowerConfig('mobileclip_l_1000')).toThrow(
      /config.json field 'mm_vision_tower': .*multiple of 64/,
    );
  });
});
