/**
 * What `inspect` says about the model: its name from config.json, its parameter count (against
 * CHECKPOINTS.md's element totals of Apple's files) and the weight memory per --dtype.
 */
import { parseFastVlmConfig } from '@fastvlm/llava';
import { describe, expect, it } from 'vitest';
import { identifyModel, summarizeModel } from '../src/checkpoint/inspect-model.js';
import { randomCheckpointConfig, type RandomConfigOptions, type RandomPreset } from '../src/checkpoint/presets.js';

const configOf = (preset: RandomPreset, options: RandomConfigOptions = {}, extra: Record<string, unknown> = {}) =>
  parseFastVlmConfig({ ...randomCheckpointConfig(preset, options), ...extra });

// Not loaded: the tower's head.proj [3072, 768] and its 44 BatchNorm counters (one element each).
const NOT_LOADED = 3072 * 768 + 44;

describe('identifyModel', () => {
  it('names the three published models', () => {
    expect(identifyModel(configOf('0.5b'))).toEqual({
      name: 'FastVLM-0.5B',
      widthsOf: 'FastVLM-0.5B',
      differences: [],
    });
    expect(identifyModel(configOf('1.5b')).name).toBe('FastVLM-1.5B');
    expect(identifyModel(configOf('7b')).name).toBe('FastVLM-7B');
  });

  it('calls anything else custom, saying how it differs', () => {
    expect(identifyModel(configOf('1.5b', { layers: 2 }))).toEqual({
      name: 'custom',
      widthsOf: 'FastVLM-1.5B',
      differences: ['2 of 28 layers'],
    });
    const cut = identifyModel(configOf('7b', {}, { vocab_size: 151646 }));
    expect(cut.differences).toEqual([
      "vocabulary 151646 rows, not 152064 (cut to the tokenizer's 151646, as Apple's loader does)",
    ]);
    expect(identifyModel(configOf('0.5b', {}, { tie_word_embeddings: false })).differences).toEqual([
      'tie_word_embeddings false, not true',
    ]);
    expect(identifyModel(configOf('0.5b', { imageSize: 512 })).differences).toEqual(['tower at 512 px, not 1024']);
    expect(identifyModel(configOf('tiny'))).toEqual({ name: 'custom', differences: [] });
  });
});

describe('summarizeModel', () => {
  it("counts the parameters in use: CHECKPOINTS.md's element totals less what is not loaded", () => {
    // Stored elements (CHECKPOINTS.md): 0.5B 758,833,804 and 1.5B 1,909,278,220 with a head copy, 7B 7,764,588,044.
    const copy05 = 151936 * 896;
    const copy15 = 151936 * 1536;
    expect(summarizeModel(configOf('0.5b'), 'tied-stored-copy').parameters).toBe(758_833_804 - copy05 - NOT_LOADED);
    expect(summarizeModel(configOf('1.5b'), 'tied-stored-copy').parameters).toBe(1_909_278_220 - copy15 - NOT_LOADED);
    expect(summarizeModel(configOf('7b'), 'untied').parameters).toBe(7_764_588_044 - NOT_LOADED);
    // A different stored head under a tied config is a parameter of its own.
    expect(summarizeModel(configOf('0.5b'), 'stored-differs').parameters).toBe(758_833_804 - NOT_LOADED);
  });

  it('weighs every loaded value at 4 bytes in f32; f16 and int8 less; the KV cache per token', () => {
    const summary = summarizeModel(configOf('7b'), 'untied');
    const [f32, f16, int8, int4] = summary.memory;
    expect(summary.memory.map((m) => m.dtype)).toEqual(['f32', 'f16', 'int8', 'int4']);
    expect(f32.weightBytes).toBe(4 * summary.parameters);
    expect(f32.visionDtype).toBe('f32');
    expect(f16.visionDtype).toBe('f16');
    expect(int8.visionDtype).toBe('f16');
    // The decoder by hand: matrices (embedding, head; per layer q, k, v, o, gate, up, down) and f32
    // vectors (q/k/v biases and two norms a layer, the final norm); int8 adds an f32 scale a row.
    const [hidden, kv, mlp, vocab, layers] = [3584, 512, 18944, 152064, 28];
    const layerRows = hidden + kv + kv + hidden + mlp + mlp + hidden;
    const layerElements = hidden * (hidden + kv + kv + hidden + mlp + mlp) + mlp * hidden;
    const layerVectors = hidden + kv + kv + 2 * hidden;
    const vectorBytes = 4 * (layers * layerVectors + hidden);
    expect(f16.parts.llm).toBe(2 * (2 * vocab * hidden + layers * layerElements) + vectorBytes);
    expect(int8.parts.llm).toBe(
      2 * vocab * hidden + layers * layerElements + 4 * (2 * vocab + layers * layerRows) + vectorBytes,
    );
    // int4: half a byte a value and an f16 scale per 32 inputs; the embedding and head stay int8.
    expect(int4.parts.llm).toBe(
      2 * (vocab * hidden + 4 * vocab) + layers * (layerElements / 2 + (2 * layerElements) / 32) + vectorBytes,
    );
    expect(int8.parts.vision).toBe(f16.parts.vision);
    expect(int4.parts.vision).toBe(f16.parts.vision);
    // 28 layers x 4 KV heads x 128, keys and values, f32.
    expect(summary.kvCacheBytesPerToken).toBe(2 * 28 * 4 * 128 * 4);
  });
});
