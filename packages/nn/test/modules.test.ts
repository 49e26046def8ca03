/**
 * Modules named by their fields, the checkpoint walker (loadWeights) and the row-stacking fusion,
 * on a small checkpoint written here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointError,
  createDevice,
  Int8Weight,
  SafetensorsCheckpoint,
  Tensor,
  type Device,
  type TensorsToWrite,
} from '@fastvlm/tensor';
import { writeSafetensors } from '@fastvlm/tensor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchNorm2d,
  Conv2d,
  DepthwiseConvBatchNorm,
  Linear,
  loadWeights,
  Module,
  Parameter,
  PointwiseConv2d,
  RmsNorm,
  stackLinears,
  type Child,
} from '../src/index.js';

class Block extends Module {
  readonly norm = new RmsNorm(4, 1e-6);
  readonly q_proj = new Linear(4, 6, { bias: true });
  readonly k_proj = new Linear(4, 2, { bias: true });
  readonly fc = new PointwiseConv2d(4, 3);
  readonly dw = new Conv2d(4, 4, 3, { padding: 1, groups: 4, identityFolded: true });
  readonly bn = new BatchNorm2d(4);
  readonly layer_scale = Parameter.vector([4, 1, 1]);
  readonly config = { note: 'not a module: skipped' };
  readonly absent: Linear | undefined = undefined;
}

class Pair extends Module {
  constructor(
    readonly first: Linear,
    readonly second: Linear,
  ) {
    super();
  }
  override children(): [string, Child][] {
    return [
      ['0', this.first],
      ['2', this.second],
    ];
  }
}

class Root extends Module {
  readonly layers = [new Block(), new Block()];
  readonly head = new Pair(new Linear(3, 3, { bias: false }), new Linear(3, 2, { bias: false }));
}

/** Values 0.01 * (i + seed) for a tensor of `shape`. */
function ramp(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => 0.01 * ((i % 97) + seed) - 0.3);
}

/** A checkpoint holding every float parameter of `module` under `prefix` (the unused ones too). */
function tensorsFor(module: Module, prefix: string): Record<string, TensorsToWrite[string]> {
  const tensors: Record<string, TensorsToWrite[string]> = {};
  module.namedParameters(prefix).forEach(([name, p], i) => {
    tensors[name] = p.options.integer
      ? { dtype: 'I64', shape: p.shape, data: new BigInt64Array(p.shape.reduce((a, b) => a * b, 1)) }
      : { dtype: 'F32', shape: p.shape, data: ramp(p.shape, i) };
  });
  return tensors;
}

describe('nn modules and the checkpoint walker', () => {
  let device: Device;
  let dir: string;
  let path: string;
  beforeAll(async () => {
    device = await createDevice();
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-nn-'));
    path = join(dir, 'model.safetensors');
    await writeSafetensors(path, tensorsFor(new Root(), 'model.'));
  });
  afterAll(async () => {
    device?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('names every parameter by walking the fields (arrays by index, children() overrides), in field order', () => {
    const names = new Root().namedParameters('model.').map(([name]) => name);
    expect(names.slice(0, 15)).toEqual([
      'model.layers.0.norm.weight',
      'model.layers.0.q_proj.weight',
      'model.layers.0.q_proj.bias',
      'model.layers.0.k_proj.weight',
      'model.layers.0.k_proj.bias',
      'model.layers.0.fc.weight',
      'model.layers.0.fc.bias',
      'model.layers.0.dw.weight',
      'model.layers.0.dw.bias',
      'model.layers.0.bn.weight',
      'model.layers.0.bn.bias',
      'model.layers.0.bn.running_mean',
      'model.layers.0.bn.running_var',
      'model.layers.0.bn.num_batches_tracked',
      'model.layers.0.layer_scale',
    ]);
    expect(names.slice(-2)).toEqual(['model.head.0.weight', 'model.head.2.weight']);
    expect(names).toHaveLength(2 * 15 + 2);
    const block = new Block();
    expect(block.fc.weight.shape).toEqual([3, 4, 1, 1]);
    expect(block.dw.weight.shape).toEqual([4, 1, 3, 3]);
    expect(block.dw.weight.options.identityFolded).toBe(true);
    expect(block.bn.num_batches_tracked).toMatchObject({ kind: 'unused', shape: [], options: { integer: true } });
  });

  for (const dtype of ['f32', 'f16', 'int8'] as const) {
    it(`loads every parameter in its kind's form (${dtype}) and dispose() frees them all`, async () => {
      const baseline = device.liveBytes;
      const root = new Root();
      const checkpoint = await SafetensorsCheckpoint.open(path);
      try {
        await loadWeights(root, device, checkpoint, { dtype, prefix: 'model.' });
      } finally {
        await checkpoint.close();
      }
      const block = root.layers[1];
      // matrices in the model's dtype, [out, in, 1, 1] held as [out, in]
      const fc = block.fc.weight.value;
      expect(fc.shape).toEqual([3, 4]);
      if (dtype === 'int8') expect(fc).toBeInstanceOf(Int8Weight);
      else expect((fc as Tensor).dtype).toBe(dtype);
      // kernels in f32 or f16, vectors in f32 and flat
      expect(block.dw.weight.value.dtype).toBe(dtype === 'f32' ? 'f32' : 'f16');
      expect(block.layer_scale.value.shape).toEqual([4]);
      expect(block.layer_scale.value.dtype).toBe('f32');
      const stored = ramp(
        [4, 1, 1],
        root.namedParameters().findIndex(([, p]) => p === block.layer_scale),
      );
      expect(await block.layer_scale.value.read()).toEqual(stored);
      expect(block.bn.num_batches_tracked.loaded).toBe(false);
      expect(device.liveBytes).toBeGreaterThan(baseline);
      root.dispose();
      expect(device.liveBytes).toBe(baseline);
      expect(() => block.fc.weight.value).toThrow(/not loaded/);
    });
  }

  it('a missing tensor or a wrong shape is a CheckpointError naming it, and nothing stays loaded', async () => {
    const baseline = device.liveBytes;
    const checkpoint = await SafetensorsCheckpoint.open(path);
    try {
      const wider = new Root();
      (wider.layers[1] as { q_proj: Linear }).q_proj = new Linear(4, 7, { bias: true });
      await expect(loadWeights(wider, device, checkpoint, { dtype: 'f16', prefix: 'model.' })).rejects.toThrow(
        CheckpointError,
      );
      await expect(loadWeights(wider, device, checkpoint, { dtype: 'f16', prefix: 'model.' })).rejects.toThrow(
        /model\.layers\.1\.q_proj\.weight.*\[6, 4\]/,
      );
      expect(device.liveBytes).toBe(baseline);
      await expect(loadWeights(new Root(), device, checkpoint, { dtype: 'f32', prefix: 'other.' })).rejects.toThrow(
        /'other\.layers\.0\.norm\.weight': is missing/,
      );
      expect(device.liveBytes).toBe(baseline);
    } finally {
      await checkpoint.close();
    }
  });

  for (const dtype of ['f32', 'int8'] as const) {
    it(`stackLinears (${dtype}): one Linear whose output is the parts' side by side; the parts are freed`, async () => {
      const root = new Root();
      const checkpoint = await SafetensorsCheckpoint.open(path);
      await loadWeights(root, device, checkpoint, { dtype, prefix: 'model.' }).finally(() => checkpoint.close());
      const { q_proj, k_proj } = root.layers[0];
      const x = Tensor.fromArray(device, ramp([5, 4], 3), [5, 4], 'f32');
      const q = await q_proj.forward(x).read();
      const k = await k_proj.forward(x).read();
      const live = device.liveBytes;
      const stacked = stackLinears([q_proj, k_proj])!;
      expect(stacked.weight.value.shape).toEqual([8, 4]);
      expect(q_proj.weight.loaded || k_proj.bias!.loaded).toBe(false);
      expect(device.liveBytes).toBeLessThanOrEqual(live);
      const both = await stacked.forward(x).read();
      for (let row = 0; row < 5; row++) {
        expect(both.subarray(row * 8, row * 8 + 6)).toEqual(q.subarray(row * 6, row * 6 + 6));
        expect(both.subarray(row * 8 + 6, row * 8 + 8)).toEqual(k.subarray(row * 2, row * 2 + 2));
      }
      x.dispose();
      stacked.dispose();
      root.dispose();
    });
  }

  it('DepthwiseConvBatchNorm.foldBatchNorm: one conv with a bias, the same output, the parts freed', async () => {
    const baseline = device.liveBytes;
    const convBn = new DepthwiseConvBatchNorm(8, 3);
    const dir2 = await mkdtemp(join(tmpdir(), 'fastvlm-nn-bn-'));
    try {
      await writeSafetensors(join(dir2, 'model.safetensors'), tensorsFor(convBn, ''));
      const checkpoint = await SafetensorsCheckpoint.open(dir2);
      await loadWeights(convBn, device, checkpoint, { dtype: 'f16' }).finally(() => checkpoint.close());
    } finally {
      await rm(dir2, { recursive: true, force: true });
    }
    expect([...new Root().modules()].filter((m) => m instanceof BatchNorm2d)).toHaveLength(2);
    const x = Tensor.fromArray(device, ramp([5, 4, 8], 1), [5, 4, 8], 'f32');
    const run = async (): Promise<Float32Array> => {
      const y = device.scope(() => convBn.forward(x, { activation: 'gelu' }));
      const values = await y.read();
      y.dispose();
      return values;
    };
    const perCall = await run();
    convBn.foldBatchNorm();
    expect(convBn.conv.weight.loaded || convBn.bn.running_var.loaded).toBe(false);
    expect(convBn.folded!.weight.value.dtype).toBe('f32');
    expect(
      convBn
        .namedParameters()
        .filter(([, p]) => p.loaded)
        .map(([name]) => name),
    ).toEqual(['folded.weight', 'folded.bias']);
    expect(await run()).toEqual(perCall);
    x.dispose();
    convBn.dispose();
    expect(device.liveBytes).toBe(baseline);
  });
});
