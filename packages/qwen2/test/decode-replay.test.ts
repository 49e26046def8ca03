/**
 * Decode steps replayed from a recording (decode-steps.ts) against the same steps run through the
 * model: the logits must be the same bits at every step, on the tiny fixture model in f32 and int8.
 */
import type { KvCache } from '@fastvlm/kernels';
import { createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeSteps, generateTokens, loadQwen2, type Qwen2ForCausalLM } from '../src/index.js';
import { readReference, variantFolder, type Reference } from './model-fixtures.js';

const STEPS = 12;

/** The logits of `steps` through `decoder`, one Uint32Array of bits per step, fed `tokens`. */
async function stepBits(decoder: DecodeSteps, start: number, tokens: readonly number[]): Promise<Uint32Array[]> {
  const out: Uint32Array[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const logits = decoder.step(tokens[i], start + i);
    const values = await logits.read();
    logits.dispose();
    out.push(new Uint32Array(values.buffer, values.byteOffset, values.length));
  }
  return out;
}

/** Runs the prompt into the cache (its logits are not needed). */
async function prefill(model: Qwen2ForCausalLM, cache: KvCache, ids: ArrayLike<number>): Promise<void> {
  const logits = model.forward({ ids: Array.from(ids) }, cache, 0, 'last');
  await logits.read();
  logits.dispose();
}

/** Index of the first step whose bits differ, or -1. */
function firstDifference(a: readonly Uint32Array[], b: readonly Uint32Array[]): number {
  return a.findIndex((bits, i) => bits.length !== b[i].length || bits.some((word, j) => word !== b[i][j]));
}

describe('decode steps replayed from a recording', () => {
  let device: Device;
  let reference: Reference;
  beforeAll(async () => {
    device = await createDevice();
    reference = await readReference('tiny-f32');
  });
  afterAll(() => device?.destroy());

  for (const dtype of ['f32', 'int8'] as const) {
    it(`${dtype}: every replayed step's logits are the recorded path's, bit for bit`, async () => {
      const model: Qwen2ForCausalLM = await loadQwen2(device, variantFolder('tiny-f32'), { dtype });
      try {
        const liveBefore = device.liveBytes;
        const prompt = reference.promptIds;
        const T = prompt.length;
        // The tokens fed: the reference's greedy continuation (any ids would do; the same for both paths).
        const tokens = reference.greedyIds.slice(0, STEPS);
        const run = async (replay: boolean): Promise<{ bits: Uint32Array[]; decoder: DecodeSteps }> => {
          const cache = model.createCache(T + STEPS);
          const decoder = new DecodeSteps(model, cache, { replay });
          try {
            await prefill(model, cache, prompt);
            return { bits: await stepBits(decoder, T, tokens), decoder };
          } finally {
            decoder.dispose();
            cache.dispose();
          }
        };
        const replayed = await run(true);
        const recorded = await run(false);
        expect(recorded.decoder.counts).toEqual({ recorded: STEPS, replayed: 0 });
        expect(replayed.decoder.mode).toBe('replaying');
        expect(replayed.decoder.counts.replayed).toBeGreaterThanOrEqual(STEPS - 4);
        expect(firstDifference(replayed.bits, recorded.bits)).toBe(-1);
        // The comparison sees a replay that failed to advance: neighbouring steps' logits differ.
        for (let i = 1; i < STEPS; i++) expect(firstDifference([recorded.bits[i]], [recorded.bits[i - 1]])).toBe(0);
        expect(device.liveBytes).toBe(liveBefore); // reserved temporaries, the token buffer, the kept logits: all given back
      } finally {
        model.dispose();
      }
    });
  }

  it('generateTokens gives the same tokens with and without replay, and compiles nothing the second time', async () => {
    const model = await loadQwen2(device, variantFolder('tiny-f32'), { dtype: 'f32' });
    try {
      const collect = async (replayDecode: boolean): Promise<number[]> => {
        const out: number[] = [];
        const stream = generateTokens(
          model,
          { ids: reference.promptIds },
          { maxNewTokens: 24, stopTokenIds: [], replayDecode },
        );
        for await (const id of stream) out.push(id);
        return out;
      };
      const withReplay = await collect(true);
      const compiled = device.kernels.compiled;
      expect(await collect(false)).toEqual(withReplay);
      expect(await collect(true)).toEqual(withReplay);
      expect(withReplay).toEqual(reference.greedyIds.slice(0, 24));
      expect(device.kernels.compiled).toBe(compiled);
    } finally {
      model.dispose();
    }
  });

  it('a decode step runs every RMSNorm inside the projection after it (no rms-norm dispatch)', async () => {
    const model = await loadQwen2(device, variantFolder('tiny-f32'), { dtype: 'f32' });
    const cache = model.createCache(16);
    try {
      await prefill(model, cache, [1, 2, 3]);
      const labels: string[] = [];
      const stop = device.observeDispatches(({ kernel }) => labels.push(kernel.label));
      try {
        const logits = model.forward({ ids: [5] }, cache, 3, 'last');
        await logits.read();
        logits.dispose();
      } finally {
        stop();
      }
      const layers = model.model.layers.length;
      expect(
        labels.filter((l) => l.startsWith('rms-norm')),
        'separate norms',
      ).toEqual([]);
      // input_layernorm into q/k/v, post_attention_layernorm into gate/up, the final norm into the LM head
      expect(labels.filter((l) => l.includes('-normed-')).length).toBe(2 * layers + 1);
    } finally {
      cache.dispose();
      model.dispose();
    }
  });

  it('refuses a step out of order and a token outside the vocabulary', async () => {
    const model = await loadQwen2(device, variantFolder('tiny-f32'), { dtype: 'f32' });
    const cache = model.createCache(16);
    const decoder = new DecodeSteps(model, cache);
    try {
      await prefill(model, cache, [1, 2, 3]);
      expect(() => decoder.step(5, 4)).toThrow(/position 4 is not the next one \(the cache holds 3\)/);
      expect(() => decoder.step(model.config.vocabSize, 3)).toThrow(/token id|outside|vocab/i);
      decoder.step(5, 3).dispose();
      expect(cache.length).toBe(4);
    } finally {
      decoder.dispose();
      cache.dispose();
      model.dispose();
    }
  });
});
