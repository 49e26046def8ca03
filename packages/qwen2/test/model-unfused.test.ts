/**
 * The unfused paths, at model level: on a device whose buffer bindings are too small for the
 * stacks fuseForInference makes ([q; k; v] and [gate; up]), every layer keeps q_proj, k_proj,
 * v_proj (rope + appendKv) and gate_proj, up_proj (two linears and silu_mul), and the model still
 * matches transformers on the tiny fixture.
 */
import { createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQwen2, type Qwen2ForCausalLM } from '../src/index.js';
import { expectLogitsClose, greedyIds, readReference, variantFolder } from './model-fixtures.js';
import { MODEL_TOLERANCE } from './model-tolerances.js';

/**
 * The tiny model in f32 (hidden 64, 4 + 2 + 2 heads of 16, MLP 128): q_proj is 16 KiB and the qkv
 * stack 32 KiB; gate_proj 32 KiB (held in two row blocks) and the gate/up stack 64 KiB.
 */
const BINDING_LIMIT = 24 * 1024;

/**
 * The logits at every prompt position from one forward: [19, 1000] f32 (76 KiB) do not fit one
 * binding of this device, so the LM head's output comes split into row blocks (linear splits
 * itself; the caller does not know the limit).
 */
async function logitsAtEveryPosition(model: Qwen2ForCausalLM, ids: Int32Array): Promise<Float32Array> {
  const cache = model.createCache(ids.length);
  try {
    const logits = model.forward({ ids }, cache, 0, 'all'); // [T, vocab]
    try {
      expect(logits.isSplit, 'the logits are split into row blocks').toBe(true);
      return await logits.read();
    } finally {
      logits.dispose();
    }
  } finally {
    cache.dispose();
  }
}

describe('Qwen2 tiny, unfused (binding limit 24 KiB) vs transformers', () => {
  let small: Device;
  beforeAll(async () => {
    small = await createDevice({ limitCaps: { maxStorageBufferBindingSize: BINDING_LIMIT } });
  });
  afterAll(() => small?.destroy());

  it('keeps every projection apart, and gives the reference logits and greedy tokens', async () => {
    expect(small.limits.maxStorageBufferBindingSize).toBe(BINDING_LIMIT);
    const reference = await readReference('tiny-f32');
    const model = await loadQwen2(small, variantFolder('tiny-f32'), { dtype: 'f32' });
    try {
      for (const layer of model.model.layers) {
        expect(layer.self_attn.qkv_proj).toBeUndefined();
        expect(layer.mlp.gate_up_proj).toBeUndefined();
        expect(layer.self_attn.q_proj.weight.loaded && layer.mlp.up_proj.weight.loaded).toBe(true);
      }
      const logits = await logitsAtEveryPosition(model, reference.promptIds);
      const error = expectLogitsClose(logits, reference.logits, MODEL_TOLERANCE.f32Logits, 'unfused logits');
      console.log(
        `[qwen2 tiny, unfused] max abs error ${error.maxAbs.toExponential(2)} (${error.maxAbsOverRms.toExponential(2)} of the logits' RMS ${error.rms.toFixed(2)})`,
      );
      expect(await greedyIds(model, reference.promptIds, 32)).toEqual(reference.greedyIds);
    } finally {
      model.dispose();
    }
  });
});
