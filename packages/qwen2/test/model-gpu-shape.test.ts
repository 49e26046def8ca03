/**
 * The 'gpu' kernel shape at model level: on a device forced to it (whatever the adapter), RMSNorm
 * runs a row per workgroup, decode projections the coalesced GEMV and the prefill ones the
 * workgroup-tiled GEMM, and the tiny model still matches transformers: logits at every prompt
 * position and 32 greedy tokens.
 */
import { createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQwen2 } from '../src/index.js';
import { expectLogitsClose, greedyIds, promptLogits, readReference, variantFolder } from './model-fixtures.js';
import { MODEL_TOLERANCE } from './model-tolerances.js';

describe("Qwen2 tiny on the 'gpu' kernel shape vs transformers", () => {
  let gpu: Device;
  beforeAll(async () => {
    gpu = await createDevice({ kernelShape: 'gpu' });
  });
  afterAll(() => gpu?.destroy());

  it('f16 checkpoint, f16 weights: the reference logits and greedy tokens', async () => {
    const reference = await readReference('tiny-f16');
    const model = await loadQwen2(gpu, variantFolder('tiny-f16'), { dtype: 'f16' });
    const labels = new Set<string>();
    const stop = gpu.observeDispatches(({ kernel }) => labels.add(kernel.label));
    try {
      const logits = await promptLogits(model, reference.promptIds);
      const error = expectLogitsClose(logits, reference.logits, MODEL_TOLERANCE.f32Logits, "'gpu' shape logits");
      console.log(
        `[qwen2 tiny, 'gpu' kernel shape] max abs error ${error.maxAbs.toExponential(2)} (${error.maxAbsOverRms.toExponential(2)} of the logits' RMS)`,
      );
      expect(await greedyIds(model, reference.promptIds, 32)).toEqual(reference.greedyIds);
      const used = [...labels];
      for (const kind of [/^rms-norm-.*-gpu$/, /^linear-gemv-/, /^linear-gemv-.*-normed-/, /^linear-tiled-/])
        expect(
          used.some((label) => kind.test(label)),
          `a ${String(kind)} kernel ran`,
        ).toBe(true);
      expect(used.filter((label) => /^rms-norm-.*-cpu$|^linear-(f16|swiglu-f16)-\d/.test(label))).toEqual([]);
    } finally {
      stop();
      model.dispose();
    }
  });
});
