/**
 * Qwen2 on the tiny fixtures (hidden 64, 2 layers, 4 / 2 heads of 16: the attention's 'plain' path)
 * against transformers' Qwen2ForCausalLM: logits at every prompt position, and 32 greedy tokens.
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
import { INT8_MIN_COSINE, INT8_MIN_TOP1_AGREEMENT, MODEL_TOLERANCE, type Tolerance } from './model-tolerances.js';

interface Case {
  name: string;
  variant: string;
  dtype: ModelDType;
  tolerance: Tolerance;
}

const CASES: Case[] = [
  {
    name: 'f32 checkpoint, tied head, f32 weights',
    variant: 'tiny-f32',
    dtype: 'f32',
    tolerance: MODEL_TOLERANCE.f32Logits,
  },
  {
    name: 'f16 checkpoint, tied head, f16 weights',
    variant: 'tiny-f16',
    dtype: 'f16',
    tolerance: MODEL_TOLERANCE.f32Logits,
  },
  {
    name: 'f16 checkpoint, tied head, f32 weights',
    variant: 'tiny-f16',
    dtype: 'f32',
    tolerance: MODEL_TOLERANCE.f32Logits,
  },
  {
    name: 'f32 checkpoint, untied lm_head, f32 weights',
    variant: 'tiny-untied',
    dtype: 'f32',
    tolerance: MODEL_TOLERANCE.f32Logits,
  },
  {
    name: 'f32 checkpoint held as f16',
    variant: 'tiny-f32',
    dtype: 'f16',
    tolerance: MODEL_TOLERANCE.f16WeightsVsF32Logits,
  },
];

describe('Qwen2 tiny vs transformers', () => {
  let device: Device;
  const references = new Map<string, Reference>();
  beforeAll(async () => {
    device = await createDevice();
    for (const variant of ['tiny-f32', 'tiny-f16', 'tiny-untied'])
      references.set(variant, await readReference(variant));
  });
  afterAll(() => device?.destroy());

  for (const c of CASES) {
    it(`${c.name}: logits at every position, greedy 32 tokens`, async () => {
      const reference = references.get(c.variant)!;
      const model = await loadQwen2(device, variantFolder(c.variant), { dtype: c.dtype });
      try {
        const logits = await promptLogits(model, reference.promptIds);
        const error = expectLogitsClose(logits, reference.logits, c.tolerance, c.name);
        console.log(
          `[qwen2 tiny] ${c.name}: max abs error ${error.maxAbs.toExponential(2)} (${error.maxAbsOverRms.toExponential(2)} of the logits' RMS ${error.rms.toFixed(2)}), RMS error ${error.rmsError.toExponential(2)}`,
        );
        if (c.tolerance === MODEL_TOLERANCE.f32Logits)
          expect(await greedyIds(model, reference.promptIds, 32)).toEqual(reference.greedyIds);
      } finally {
        model.dispose();
      }
    });
  }

  it('int8 weights: close to the f32 reference (reported)', async () => {
    const reference = references.get('tiny-f32')!;
    const model = await loadQwen2(device, variantFolder('tiny-f32'), { dtype: 'int8' });
    try {
      const logits = await promptLogits(model, reference.promptIds);
      const { lastCosine, top1 } = int8Agreement(logits, reference.logits, reference.vocab);
      console.log(
        `[qwen2 tiny] int8: cosine of the last logits ${lastCosine.toFixed(5)}, top-1 agreement ${(top1 * 100).toFixed(0)}% of ${reference.promptIds.length} positions`,
      );
      expect(lastCosine).toBeGreaterThan(INT8_MIN_COSINE);
      expect(top1).toBeGreaterThanOrEqual(INT8_MIN_TOP1_AGREEMENT);
    } finally {
      model.dispose();
    }
  });
});
