/** FastVLM config.json parsing and the checkpoint layout it implies (against Apple's 923 tensors). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, expectedTensors, parseFastVlmConfig, tensorGroup, type ExpectedTensor } from '@fastvlm/llava';
import { randomCheckpointConfig } from '../src/checkpoint/random-checkpoint.js';

/** apple/FastVLM-0.5B's tensor list (name, dtype, shape), as Apple's code names them. */
const SPEC_TENSORS = fileURLToPath(
  new URL('../../packages/llava/test/apple-fastvlm-0.5b-tensors.txt', import.meta.url),
);

/** Lines `name<TAB>dtype<TAB>[d0, d1]` of the spec's tensor list, comments skipped. */
function readSpecTensors(): ExpectedTensor[] {
  return readFileSync(SPEC_TENSORS, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => {
      const [name, dtype, shape] = line.split('\t');
      return { name, dtype: dtype as ExpectedTensor['dtype'], shape: JSON.parse(shape) as number[] };
    });
}

const byName = (a: ExpectedTensor, b: ExpectedTensor): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function configError(json: unknown): ConfigError {
  try {
    parseFastVlmConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('FastVLM checkpoint layout', () => {
  it("matches apple/FastVLM-0.5B's 923 tensors", () => {
    const spec = readSpecTensors();
    expect(spec).toHaveLength(923);
    // The list's F16 is the dtype the list's writer used (the Hub's files are bfloat16).
    const ours = expectedTensors(parseFastVlmConfig(randomCheckpointConfig('0.5b', { dtype: 'float16' })));
    expect(new Set(ours.map((t) => t.name)).size).toBe(ours.length);
    expect([...ours].sort(byName)).toEqual(spec.sort(byName));
    expect(ours.filter((t) => t.dtype === 'I64')).toHaveLength(44);
  });

  it('sizes the decoder from config.json and adds lm_head only when untied', () => {
    const config = parseFastVlmConfig({
      ...randomCheckpointConfig('0.5b', { layers: 3 }),
      tie_word_embeddings: false,
      torch_dtype: 'float32',
      dtype: undefined,
    });
    const tensors = expectedTensors(config);
    const names = tensors.map((t) => t.name);
    expect(names.filter((n) => n.endsWith('.self_attn.q_proj.weight'))).toHaveLength(3);
    expect(names).not.toContain('model.layers.3.input_layernorm.weight');
    expect(tensors.find((t) => t.name === 'lm_head.weight')).toEqual({
      name: 'lm_head.weight',
      shape: [151936, 896],
      dtype: 'F32',
    });
    // The tower's weights do not depend on the image size.
    const tower = (c: unknown): ExpectedTensor[] =>
      expectedTensors(parseFastVlmConfig(c)).filter((t) => tensorGroup(t.name) === 'vision tower');
    expect(tower(randomCheckpointConfig('tiny'))).toEqual(tower(randomCheckpointConfig('0.5b', { dtype: 'float16' })));
    expect(tower(randomCheckpointConfig('tiny'))).toHaveLength(923 - 24 * 12 - 2 - 4);
    const tiny = expectedTensors(parseFastVlmConfig(randomCheckpointConfig('tiny')));
    expect(tiny.find((t) => t.name === 'model.layers.1.self_attn.k_proj.weight')?.shape).toEqual([32, 64]);
    expect(tiny.find((t) => t.name === 'model.mm_projector.0.weight')?.shape).toEqual([64, 3072]);
  });

  it('groups tensors by model part', () => {
    expect(tensorGroup('model.vision_tower.vision_tower.model.head.proj')).toBe('vision tower');
    expect(tensorGroup('model.mm_projector.2.bias')).toBe('projector');
    expect(tensorGroup('model.layers.0.mlp.up_proj.weight')).toBe('llm layers');
    expect(tensorGroup('model.norm.weight')).toBe('llm layers');
    expect(tensorGroup('model.embed_tokens.weight')).toBe('embeddings');
    expect(tensorGroup('lm_head.weight')).toBe('embeddings');
  });
});

describe('FastVLM config.json', () => {
  const good = randomCheckpointConfig('0.5b');

  it('reads the tower size, token count, projector and Qwen2 fields', () => {
    const config = parseFastVlmConfig(good);
    expect(config).toMatchObject({
      visionTower: 'mobileclip_l_1024',
      imageSize: 1024,
      imageTokens: 256,
      mmHiddenSize: 3072,
      projectorType: 'mlp2x_gelu',
      imageAspectRatio: 'pad',
      torchDtype: 'bfloat16',
      bosTokenId: 151643,
    });
    expect(config.llm).toMatchObject({
      hiddenSize: 896,
      numHiddenLayers: 24,
      numAttentionHeads: 14,
      numKeyValueHeads: 2,
      headDim: 64,
      vocabSize: 151936,
      tieWordEmbeddings: true,
      eosTokenIds: [151645],
    });
    expect(parseFastVlmConfig(randomCheckpointConfig('tiny'))).toMatchObject({ imageSize: 256, imageTokens: 16 });
    expect(parseFastVlmConfig({ ...good, mm_vision_tower: 'mobileclip_l_384' })).toMatchObject({
      imageSize: 384,
      imageTokens: 36,
    });
  });

  it('refuses what it cannot run, naming the field', () => {
    const bad: [unknown, string, RegExp][] = [
      [[1, 2], '(root)', /JSON object/],
      [{ ...good, model_type: 'qwen2' }, 'model_type', /llava_qwen2/],
      [{ ...good, model_type: undefined }, 'model_type', /missing/],
      [{ ...good, mm_vision_tower: 'openai/clip-vit-large-patch14-336' }, 'mm_vision_tower', /mobileclip_l_N/],
      [{ ...good, mm_vision_tower: 'mobileclip_l_1000' }, 'mm_vision_tower', /multiple of 64/],
      [{ ...good, mm_vision_tower: 'mobileclip_l_0' }, 'mm_vision_tower', /multiple of 64/],
      [{ ...good, mm_hidden_size: 1024 }, 'mm_hidden_size', /3072/],
      [{ ...good, mm_hidden_size: undefined }, 'mm_hidden_size', /missing/],
      [{ ...good, mm_projector_type: 'linear' }, 'mm_projector_type', /only 'mlp2x_gelu'/],
      [{ ...good, mm_projector_type: undefined }, 'mm_projector_type', /missing/],
      [{ ...good, image_aspect_ratio: 'anyres' }, 'image_aspect_ratio', /only 'pad'/],
      [{ ...good, mm_patch_merge_type: 'spatial_unpad' }, 'mm_patch_merge_type', /flat/],
      [{ ...good, mm_use_im_start_end: true }, 'mm_use_im_start_end', /not supported/],
      [{ ...good, torch_dtype: 'int8' }, 'torch_dtype', /float16/],
      [{ ...good, hidden_size: undefined }, 'hidden_size', /missing/],
      [{ ...good, num_key_value_heads: 3 }, 'num_key_value_heads', /divide/],
    ];
    for (const [json, field, message] of bad) {
      const error = configError(json);
      expect(error.field, JSON.stringify(json).slice(0, 80)).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
  });
});
