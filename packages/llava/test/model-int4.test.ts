/**
 * FastVLM with `dtype: 'int4'` (the tiny random checkpoint) against its own dequantized reference:
 * the same folder with every matrix the int4 model quantizes replaced by its dequantized values
 * (int4 decoder and projector linears, int8 embedding), loaded in f32. Quantizing is exact on
 * dequantized values (the scale of q * s is s again), so both models hold the same weights and may
 * differ only in summation order: the pipeline's dumps must agree at the f32 end-to-end bounds and
 * the greedy tokens must be identical. Which matrix is held how comes from nn's parameterStorage,
 * the function the loader itself asks; the memory it accounts (parameterBytes) must be what the
 * loaded weights take.
 */
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parameterBytes, parameterStorage, type Module } from '@fastvlm/nn';
import {
  createDevice,
  dequantizeInt4,
  INT4_GROUP_SIZE,
  Int4Weight,
  Int8Weight,
  quantizeInt4,
  quantizeInt8,
  SafetensorsCheckpoint,
  Tensor,
  type Device,
  type TensorToWrite,
} from '@fastvlm/tensor';
import { writeSafetensors } from '@fastvlm/tensor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildParts, PART_PREFIXES } from '../src/checkpoint-layout.js';
import { dumpPipeline, FastVLM, readFastVlmConfig } from '../src/model/index.js';
import { compareDump, DUMP_NAMES, IMAGE_PATH, MODEL_FOLDER, type DumpName } from './e2e-fixtures.js';
import { E2E_TOLERANCE, type DumpTolerance } from './tolerances.js';

const TOLERANCES: Record<DumpName, DumpTolerance> = {
  pixel_values: E2E_TOLERANCE.pixels,
  vision_features: E2E_TOLERANCE.features,
  image_embeds: E2E_TOLERANCE.embeds,
  inputs_embeds: E2E_TOLERANCE.embeds,
  prefill_logits: E2E_TOLERANCE.logits,
};

/** The int8 matrix as the GPU uses it: q * scale per row, in f32. */
function dequantizeInt8(values: Float32Array, rows: number, cols: number): Float32Array {
  const { values: q, scales } = quantizeInt8(values, rows, cols, cols);
  return Float32Array.from(q, (v, i) => Math.fround(v * scales[Math.floor(i / cols)]));
}

/** The quantized storage of each projector / decoder matrix of an int4 model, by checkpoint name. */
async function int4Storage(): Promise<{ storage: Map<string, string>; accounted: number; parts: Module[] }> {
  const parts = buildParts(await readFastVlmConfig(MODEL_FOLDER));
  const storage = new Map<string, string>();
  let accounted = 0;
  for (const part of ['projector', 'llm'] as const) {
    for (const [name, parameter] of parts[part].namedParameters(PART_PREFIXES[part])) {
      storage.set(name, parameterStorage(parameter, 'int4'));
      accounted += parameterBytes(parameter, 'int4');
    }
  }
  return { storage, accounted, parts: [parts.projector, parts.llm] };
}

/** The fixture folder with the int4 model's matrices dequantized, every tensor stored as F32. */
async function dequantizedFolder(storage: Map<string, string>): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'fastvlm-int4-dequantized-'));
  const checkpoint = await SafetensorsCheckpoint.open(MODEL_FOLDER);
  try {
    const tensors: Record<string, TensorToWrite> = {};
    for (const name of checkpoint.names()) {
      const shape = [...checkpoint.entry(name).shape];
      let data = await checkpoint.readAsFloat32(name);
      const [rows, cols] = [shape[0], data.length / shape[0]];
      if (storage.get(name) === 'int4') {
        const { values, scales } = quantizeInt4(data, rows, cols, INT4_GROUP_SIZE);
        data = dequantizeInt4(values, scales, rows, cols, INT4_GROUP_SIZE);
      } else if (storage.get(name) === 'int8') {
        data = dequantizeInt8(data, rows, cols);
      }
      tensors[name] = { dtype: 'F32', shape, data };
    }
    await writeSafetensors(join(folder, 'model.safetensors'), tensors);
  } finally {
    await checkpoint.close();
  }
  for (const file of ['config.json', 'tokenizer.json']) await symlink(join(MODEL_FOLDER, file), join(folder, file));
  return folder;
}

describe('FastVLM int4 (tiny random checkpoint) vs its dequantized weights in f32', () => {
  let device: Device;
  let int4: FastVLM;
  let reference: FastVLM;
  let folder: string;
  let accounted: number;
  let storage: Map<string, string>;
  const report: string[] = [];

  beforeAll(async () => {
    device = await createDevice();
    const layout = await int4Storage();
    ({ storage, accounted } = layout);
    folder = await dequantizedFolder(storage);
    int4 = await FastVLM.load(MODEL_FOLDER, { dtype: 'int4', visionDtype: 'f32', device });
    reference = await FastVLM.load(folder, { dtype: 'f32', visionDtype: 'f32', device });
  });
  afterAll(async () => {
    console.log(`FastVLM int4 vs dequantized f32:\n  ${report.join('\n  ')}`);
    int4?.dispose();
    reference?.dispose();
    device?.destroy();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('holds the decoder and projector linears in int4, the embedding in int8, and accounts their bytes', () => {
    const counts = { int4: 0, int8: 0 };
    for (const kind of storage.values()) if (kind === 'int4' || kind === 'int8') counts[kind]++;
    // 2 layers x (q, k, v, o, gate, up, down) + the projector's 2 linears; the tied embedding
    expect(counts).toEqual({ int4: 2 * 7 + 2, int8: 1 });
    expect(storage.get('model.embed_tokens.weight')).toBe('int8');
    expect(storage.get('model.mm_projector.0.weight')).toBe('int4');

    let loaded = 0;
    const held = { int4: 0, int8: 0 };
    for (const module of [int4.projector, int4.llm]) {
      for (const [, parameter] of module.namedParameters()) {
        if (!parameter.loaded) continue;
        const value = parameter.value as Tensor | Int8Weight | Int4Weight;
        if (value instanceof Int4Weight) held.int4++;
        if (value instanceof Int8Weight) held.int8++;
        loaded += value.byteLength;
      }
    }
    // fused at load (q, k, v stacked; gate and up stacked): fewer matrices, the same bytes
    expect(held).toEqual({ int4: 2 * 4 + 2, int8: 1 });
    expect(loaded, 'bytes held = bytes accounted by parameterBytes').toBe(accounted);
    report.push(`projector + decoder weights: ${(accounted / 2 ** 20).toFixed(2)} MiB in int4 (embedding int8)`);
  });

  it('pixels, features, embeddings and prefill logits agree at every position', async () => {
    const image = await readFile(IMAGE_PATH);
    const a = await dumpPipeline(int4, image, 'Describe the image.');
    const b = await dumpPipeline(reference, image, 'Describe the image.');
    for (const name of DUMP_NAMES) {
      expect(a[name].shape, name).toEqual(b[name].shape);
      const error = compareDump(a[name].data, b[name].data, TOLERANCES[name]);
      report.push(
        `${name} ${a[name].shape.join('x')}: max error / max |ref| ${error.relativeToMax.toExponential(2)}, needs atol ${error.neededAtol.toExponential(2)} (bound ${TOLERANCES[name].atol})`,
      );
      expect(error.passes, `${name}: needs atol ${error.neededAtol}`).toBe(true);
    }
  }, 300_000); // two pipelines with the tower in f32, and the int4 kernels compiled, on a shared lavapipe

  it('decodes the same 16 greedy tokens (the int4 GEMV of decode, text only)', async () => {
    const request = { prompt: 'Describe a quiet harbour at dawn.', maxNewTokens: 16 };
    const a = await int4.generate(request);
    const b = await reference.generate(request);
    expect(a.tokenIds).toHaveLength(16);
    expect(a.tokenIds).toEqual(b.tokenIds);
  });
});
