/**
 * Qwen2 at Qwen2-0.5B's real widths (hidden 896, 14 / 2 heads of 64, MLP 4864, vocab 151936: a
 * tied head split over the binding limit; the attention's subgroup paths) with 2 layers, from a
 * float16 checkpoint, against transformers: logits at all 25 prompt positions, 32 greedy tokens,
 * and int8 weights against f32.
 */
import { createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQwen2, type ModelDType } from '../src/index.js';
import {
  expectLogitsClose,
  greedyIds,
  int8Agreement,
  promptLogits,
  readReference,
  variantFolder,
  type Reference,
} from './model-fixtures.js';
import { INT8_MIN_COSINE, INT8_MIN_TOP1_AGREEMENT, MODEL_TOLERANCE } from './model-tolerances.js';

describe('Qwen2 at 0.5B widths (2 layers) vs transformers', () => {
  let device: Device;
  let reference: Reference;
  let f32Logits: Float32Array | undefined;
  beforeAll(async () => {
    device = await createDevice();
    reference = await readReference('real-f16');
  });
  afterAll(() => device?.destroy());

  // The reference ran the checkpoint's f16 values in f32; f32 and f16 GPU storage both hold them exactly.
  for (const dtype of ['f32', 'f16'] as ModelDType[]) {
    it(`${dtype} weights: logits at every position, greedy 32 tokens`, async () => {
      let started = performance.now();
      const model = await loadQwen2(device, variantFolder('real-f16'), { dtype });
      const loadMs = performance.now() - started;
      try {
        expect(model.model.embed_tokens.weight.value.shape).toEqual([151936, 896]);
        started = performance.now();
        const logits = await promptLogits(model, reference.promptIds);
        const prefillMs = performance.now() - started;
        const error = expectLogitsClose(logits, reference.logits, MODEL_TOLERANCE.f32Logits, `${dtype} logits`);
        if (dtype === 'f32') f32Logits = logits;
        started = performance.now();
        const ids = await greedyIds(model, reference.promptIds, 32);
        const generateMs = performance.now() - started;
        expect(ids).toEqual(reference.greedyIds);
        console.log(
          `[qwen2 0.5B widths] ${dtype}: max abs logit error ${error.maxAbs.toExponential(2)} (${error.maxAbsOverRms.toExponential(2)} of RMS ${error.rms.toFixed(2)}), ` +
            `RMS error ${error.rmsError.toExponential(2)}; smallest reference top-2 gap ${Math.min(...reference.greedyGaps).toExponential(2)}; ` +
            `load ${loadMs.toFixed(0)} ms, prefill ${reference.promptIds.length} + all logits ${prefillMs.toFixed(0)} ms, greedy 32 ${generateMs.toFixed(0)} ms`,
        );
      } finally {
        model.dispose();
      }
    });
  }

  it('int8 weights: close to f32 (reported)', async () => {
    const model = await loadQwen2(device, variantFolder('real-f16'), { dtype: 'int8' });
    try {
      const logits = await promptLogits(model, reference.promptIds);
      const { lastCosine, top1 } = int8Agreement(logits, f32Logits ?? reference.logits, reference.vocab);
      const ids = await greedyIds(model, reference.promptIds, 32);
      const sameIds = ids.findIndex((id, i) => id !== reference.greedyIds[i]);
      console.log(
        `[qwen2 0.5B widths] int8: cosine of the last logits with f32 ${lastCosine.toFixed(5)}, top-1 agreement ${(top1 * 100).toFixed(0)}% of ${reference.promptIds.length} positions, ` +
          `greedy ids equal to the reference's for the first ${sameIds < 0 ? 32 : sameIds} of 32`,
      );
      expect(lastCosine).toBeGreaterThan(INT8_MIN_COSINE);
      expect(top1).toBeGreaterThanOrEqual(INT8_MIN_TOP1_AGREEMENT);
    } finally {
      model.dispose();
    }
  });
});
