/**
 * Generation on the tiny fixture model (tools/python/make_qwen2_fixtures.py) with Qwen2's real
 * tokenizer (the tokenizer fixtures): sampling, streaming, stopping, aborting, bad requests, and
 * GPU memory returning to where it started.
 */
import { SamplingError } from '@fastvlm/kernels';
import {
  CheckpointError,
  createDevice,
  NonFiniteActivationError,
  SafetensorsCheckpoint,
  ShapeError,
  Tensor,
  type Device,
} from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateText,
  generateTokens,
  GenerationError,
  loadQwen2,
  loadQwen2FromCheckpoint,
  streamText,
  Tokenizer,
  type ForwardInput,
  type GenerationOptions,
  type Qwen2ForCausalLM,
} from '../src/index.js';
import { expectLogitsClose, readReference, TOKENIZER_FOLDER, variantFolder, type Reference } from './model-fixtures.js';
import { MODEL_TOLERANCE } from './model-tolerances.js';
import { poison } from './poison.js';

async function collect(tokens: AsyncGenerator<number, unknown>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of tokens) out.push(id);
  return out;
}

describe('Qwen2 generation', () => {
  let device: Device;
  let model: Qwen2ForCausalLM;
  let tokenizer: Tokenizer;
  let reference: Reference;
  let prompt: ForwardInput;
  beforeAll(async () => {
    device = await createDevice();
    model = await loadQwen2(device, variantFolder('tiny-f32'), { dtype: 'f32' });
    tokenizer = await Tokenizer.fromFolder(TOKENIZER_FOLDER);
    reference = await readReference('tiny-f32');
    prompt = { ids: reference.promptIds };
  });
  afterAll(() => {
    model?.dispose();
    device?.destroy();
  });

  const greedy = (options: Partial<GenerationOptions> = {}): Promise<number[]> =>
    collect(generateTokens(model, prompt, { maxNewTokens: 32, stopTokenIds: [], ...options }));

  it('greedy: the reference ids; decode steps give the logits of a full forward pass', async () => {
    expect(await greedy()).toEqual(reference.greedyIds);
    // Prefill 7 positions, then one position per step: each step's last logits equal the reference row.
    const T = reference.promptIds.length;
    const cache = model.createCache(T);
    try {
      for (let start = 0; start < T; start = start === 0 ? 7 : start + 1) {
        const ids = reference.promptIds.subarray(start, start === 0 ? 7 : start + 1);
        const logits = model.forward({ ids }, cache, start, 'last');
        const row = start + ids.length - 1;
        expectLogitsClose(
          await logits.read(),
          reference.logits.subarray(row * reference.vocab, (row + 1) * reference.vocab),
          MODEL_TOLERANCE.f32Logits,
          `position ${row}`,
        );
        logits.dispose();
      }
    } finally {
      cache.dispose();
    }
  });

  it('a prefill pass records one batch: no submit, no readback; hidden states on request', async () => {
    const T = reference.promptIds.length;
    const cache = model.createCache(T);
    await device.sync();
    const before = { ...device.stats };
    const hidden = model.forward(prompt, cache, 0, 'hidden');
    expect(device.stats.submits).toBe(before.submits);
    expect(device.stats.readbacks).toBe(before.readbacks);
    // per layer at least: 2 RMSNorms, q/k/v, RoPE + cache write, attention, o_proj, gate/up + SwiGLU, down_proj
    expect(device.stats.dispatches - before.dispatches).toBeGreaterThanOrEqual(model.config.numHiddenLayers * 8);
    expect(hidden.shape).toEqual([T, model.config.hiddenSize]);
    hidden.dispose();
    cache.dispose();
  });

  it('decode steps after the first compile nothing and create no bind groups (same buffers every step)', async () => {
    const T = reference.promptIds.length;
    const cache = model.createCache(T + 6);
    try {
      await model.forward(prompt, cache, 0, 'last').read();
      const step = async (position: number): Promise<void> => {
        const logits = model.forward({ ids: [7] }, cache, position, 'last');
        await logits.read();
        logits.dispose();
      };
      await step(T); // the first decode step may create what prefill did not
      const compiled = device.kernels.compiled;
      const bindGroups = device.kernels.bindGroupsCreated;
      for (let i = 1; i < 6; i++) await step(T + i);
      expect(device.kernels.compiled).toBe(compiled);
      expect(device.kernels.bindGroupsCreated).toBe(bindGroups);
    } finally {
      cache.dispose();
    }
  });

  it('input embeddings give what their ids give', async () => {
    const embeds = device
      .scope(() =>
        model.model.embed_tokens.forward(
          Tensor.fromArray(device, reference.promptIds, [reference.promptIds.length], 'i32'),
        ),
      )
      .keep();
    try {
      expect(await collect(generateTokens(model, { embeds }, { maxNewTokens: 32, stopTokenIds: [] }))).toEqual(
        reference.greedyIds,
      );
    } finally {
      embeds.dispose();
    }
  });

  it('seeded sampling is reproducible; another seed gives other tokens', async () => {
    const sampled = (seed: number): Promise<number[]> => greedy({ temperature: 1.2, topK: 100, topP: 0.95, seed });
    const first = await sampled(7);
    expect(await sampled(7)).toEqual(first);
    expect(await sampled(8)).not.toEqual(first);
    expect(first).not.toEqual(reference.greedyIds);
    expect(await greedy({ temperature: 0.7, seed: 3 })).toEqual(await greedy({ temperature: 0.7, seed: 3 }));
  });

  it('vocabLimit keeps ids without a token out of the draw', async () => {
    const ids = await greedy({ vocabLimit: 300 });
    expect(ids.every((id) => id < 300)).toBe(true);
    const T = reference.promptIds.length;
    const last = reference.logits.subarray((T - 1) * reference.vocab, (T - 1) * reference.vocab + 300);
    expect(ids[0]).toBe(last.indexOf(Math.max(...last)));
    for (const id of await greedy({ vocabLimit: 300, temperature: 1.5, seed: 1 })) expect(id).toBeLessThan(300);
  });

  it('streaming gives the text of non-streaming generation, piece by piece', async () => {
    const options = { maxNewTokens: 32, temperature: 0.9, seed: 11, stopTokenIds: [] };
    const pieces: string[] = [];
    const stream = streamText(model, tokenizer, prompt, options);
    let step = await stream.next();
    for (; !step.done; step = await stream.next()) pieces.push(step.value);
    const whole = await generateText(model, tokenizer, prompt, options);
    expect(pieces.join('')).toBe(whole.text);
    expect(step.value).toEqual(whole);
    expect(whole.tokenIds).toHaveLength(32);
    expect(whole.text).toBe(tokenizer.decode(whole.tokenIds, { skipSpecial: true }));
    expect(whole.finishReason).toBe('max-tokens');
  });

  it('stops on a stop token (not emitted) and on a stop string (the text ends before it)', async () => {
    const ids = reference.greedyIds;
    const stopAt = ids.findIndex((id, i) => i >= 3 && ids.indexOf(id) === i);
    expect(await greedy({ stopTokenIds: [ids[stopAt]] })).toEqual(ids.slice(0, stopAt));
    const result = await generateText(model, tokenizer, prompt, { maxNewTokens: 32, stopTokenIds: [ids[stopAt]] });
    expect(result.finishReason).toBe('stop-token');
    expect(result.tokenIds).toEqual(ids.slice(0, stopAt));

    const full = tokenizer.decode(ids, { skipSpecial: true });
    const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
    const stopped = await generateText(model, tokenizer, prompt, {
      maxNewTokens: 32,
      stopTokenIds: [],
      stopStrings: ['never appears', stop],
    });
    expect(stopped.finishReason).toBe('stop-string');
    expect(stopped.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(stopped.tokenIds.length).toBeLessThan(32);
  });

  it('a string prompt is encoded with the tokenizer', async () => {
    const text = 'a b c d';
    const ids = tokenizer.encode(text);
    expect(Math.max(...ids)).toBeLessThan(model.config.vocabSize); // ids the tiny model has rows for
    const fromText = await generateText(model, tokenizer, text, { maxNewTokens: 8, stopTokenIds: [] });
    expect(fromText).toEqual(await generateText(model, tokenizer, { ids }, { maxNewTokens: 8, stopTokenIds: [] }));
  });

  it('aborts between steps, freeing the cache; an aborted signal stops before any work', async () => {
    const start = device.liveBytes;
    const controller = new AbortController();
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const id of generateTokens(model, prompt, {
        maxNewTokens: 32,
        stopTokenIds: [],
        signal: controller.signal,
      })) {
        seen.push(id);
        if (seen.length === 3) controller.abort();
      }
    };
    await expect(run()).rejects.toThrow(/abort/i);
    expect(seen).toEqual(reference.greedyIds.slice(0, 3));
    expect(device.liveBytes).toBe(start);
    const pieces = streamText(model, tokenizer, prompt, { maxNewTokens: 8, signal: AbortSignal.abort() });
    await expect(pieces.next()).rejects.toThrow(/abort/i);
    expect(device.liveBytes).toBe(start);
  });

  it('bad requests throw typed errors, and the model still works after them', async () => {
    const start = device.liveBytes;
    const run = (input: ForwardInput, options: Partial<GenerationOptions>): Promise<number[]> =>
      collect(generateTokens(model, input, { maxNewTokens: 4, ...options }));
    await expect(run({ ids: [] }, {})).rejects.toThrow(GenerationError);
    for (const maxNewTokens of [0, -1, 1.5, NaN])
      await expect(run(prompt, { maxNewTokens })).rejects.toThrow(GenerationError);
    await expect(run({ ids: new Int32Array(model.config.maxPositionEmbeddings + 1) }, {})).rejects.toThrow(
      /max_position_embeddings/,
    );
    await expect(run({ ids: new Int32Array(500) }, { maxNewTokens: 20 })).rejects.toThrow(GenerationError);
    await expect(run(prompt, { temperature: -1 })).rejects.toThrow(SamplingError);
    await expect(run(prompt, { temperature: 1, topP: 0 })).rejects.toThrow(SamplingError);
    await expect(run(prompt, { temperature: 1, topK: 2.5 })).rejects.toThrow(SamplingError);
    await expect(run(prompt, { vocabLimit: model.config.vocabSize + 1 })).rejects.toThrow(GenerationError);
    await expect(run({ ids: [1, model.config.vocabSize] }, {})).rejects.toThrow(ShapeError);
    await expect(run({ ids: [1, -1] }, {})).rejects.toThrow(ShapeError);
    const wrongWidth = Tensor.zeros(device, [3, model.config.hiddenSize + 1], 'f32');
    await expect(run({ embeds: wrongWidth }, {})).rejects.toThrow(ShapeError);
    wrongWidth.dispose();
    await expect(generateText(model, tokenizer, prompt, { maxNewTokens: 4, stopStrings: [''] })).rejects.toThrow(
      GenerationError,
    );
    // A cache too small for the input: the forward pass throws a ShapeError part-way through recording.
    const cache = model.createCache(4);
    expect(() => model.forward(prompt, cache, 0)).toThrow(ShapeError);
    cache.dispose();
    expect(device.liveBytes).toBe(start);
    expect(await greedy()).toEqual(reference.greedyIds);
  });

  it('GPU memory returns to its start value after 5 generations of every kind', async () => {
    await greedy({ maxNewTokens: 2 }); // first use of every kernel's pooled buffers out of the way
    const start = device.liveBytes;
    await greedy();
    await collect(generateTokens(model, prompt, { maxNewTokens: 16, temperature: 0.8, topP: 0.9, seed: 5 }));
    for await (const piece of streamText(model, tokenizer, prompt, { maxNewTokens: 32, stopTokenIds: [] }))
      if (piece.length > 0) break; // stopped early
    await generateText(model, tokenizer, prompt, { maxNewTokens: 32, stopTokenIds: [], stopStrings: ['e'] });
    const controller = new AbortController();
    const aborted = async (): Promise<void> => {
      for await (const piece of streamText(model, tokenizer, prompt, {
        maxNewTokens: 32,
        stopTokenIds: [],
        temperature: 0.5,
        seed: 2,
        signal: controller.signal,
      })) {
        if (piece.length > 0) controller.abort();
      }
    };
    await expect(aborted()).rejects.toThrow(/abort/i);
    expect(device.liveBytes).toBe(start);
  });

  describe('bad input: non-finite numbers', () => {
    it('non-finite values stop generation with a NonFiniteActivationError naming the prefill or the decode step', async () => {
      const start = device.liveBytes;
      const stageOf = async (tokens: AsyncGenerator<number, unknown>): Promise<string> => {
        const error = await collect(tokens).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(NonFiniteActivationError);
        return (error as NonFiniteActivationError).stage;
      };
      const norm = model.model.layers[0].input_layernorm.weight;
      for (const [value, options] of [
        [NaN, {}],
        [Infinity, { temperature: 0.8, seed: 1 }],
        [NaN, { temperature: 1.1, topK: 40, topP: 0.9, seed: 2 }],
      ] as const) {
        const restore = poison(norm, value);
        try {
          expect(await stageOf(generateTokens(model, prompt, { maxNewTokens: 8, ...options }))).toBe('prefill');
        } finally {
          restore();
        }
        // Poisoned after `after` tokens: the decode step that first reads it is named.
        for (const after of [1, 3]) {
          const tokens = generateTokens(model, prompt, { maxNewTokens: 8, stopTokenIds: [], ...options });
          for (let i = 0; i < after; i++) expect((await tokens.next()).done).toBe(false);
          const restoreLater = poison(model.model.norm.weight, value);
          try {
            expect(await stageOf(tokens)).toBe(`decode step ${after}`);
          } finally {
            restoreLater();
          }
        }
      }
      expect(device.liveBytes).toBe(start);
      expect(await greedy()).toEqual(reference.greedyIds);
    });
  });

  describe('bad input: non-finite numbers', () => {
    it('sampling options that would overflow are refused before any GPU work', async () => {
      const { dispatches } = device.stats;
      for (const options of [
        { temperature: 1e-45 },
        { temperature: 5e-324 },
        { temperature: 1e31 },
        { temperature: 0.7, topP: NaN },
        { temperature: 0.7, topK: 2.5 },
        { temperature: 0.7, topK: NaN },
        { temperature: 0.7, seed: Infinity },
      ])
        await expect(
          collect(generateTokens(model, prompt, { maxNewTokens: 4, ...options })),
          JSON.stringify(options),
        ).rejects.toThrow(SamplingError);
      expect(device.stats.dispatches).toBe(dispatches);
    });
  });

  it('dispose() frees every weight; a load that fails part-way frees what it loaded', async () => {
    const start = device.liveBytes;
    const other = await loadQwen2(device, variantFolder('tiny-untied'), { dtype: 'int8' });
    expect(device.liveBytes).toBeGreaterThan(start);
    other.dispose();
    expect(device.liveBytes).toBe(start);
    const checkpoint = await SafetensorsCheckpoint.open(variantFolder('tiny-f32'));
    try {
      // An untied config over a tied checkpoint: every decoder weight loads, then lm_head.weight is missing.
      const untied = { ...model.config, tieWordEmbeddings: false };
      await expect(loadQwen2FromCheckpoint(device, checkpoint, untied, { dtype: 'f16' })).rejects.toThrow(
        CheckpointError,
      );
      await expect(
        loadQwen2FromCheckpoint(device, checkpoint, { ...model.config, intermediateSize: 96 }),
      ).rejects.toThrow(/mlp.gate_proj.weight/);
    } finally {
      await checkpoint.close();
    }
    expect(device.liveBytes).toBe(start);
  });
});
