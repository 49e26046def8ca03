/**
 * What `inspect` says about the model a folder holds, beyond its tensors: which published model it
 * is (by config.json's widths, depth and vocabulary), how many parameters it has, which matrix is
 * its LM head (decided as transformers decides), and the memory its weights take per --dtype.
 */
import { buildParts, defaultVisionDtype, PART_PREFIXES, type FastVlmConfig, type PartName } from '@fastvlm/llava';
import { parameterBytes, type WeightDType } from '@fastvlm/nn';
import type { LmHeadSource } from '@fastvlm/qwen2';
import { APPLE_PRESETS, PRESET_SHAPES, type ApplePreset } from './presets.js';

/** Apple's names for its presets. */
const MODEL_NAMES: Readonly<Record<ApplePreset, string>> = {
  '0.5b': 'FastVLM-0.5B',
  '1.5b': 'FastVLM-1.5B',
  '7b': 'FastVLM-7B',
};

/** Qwen2's tokenizer length (151643 BPE tokens + 3 specials): the rows Apple's loader cuts the vocabulary to. */
const TOKENIZER_ROWS = 151646;

export interface ModelIdentity {
  /** 'FastVLM-0.5B' / '-1.5B' / '-7B' when config.json matches the published model, else 'custom'. */
  name: string;
  /** The published model whose widths it has, when it has one's. */
  widthsOf?: string;
  /** How it differs from that model (empty when it is the model). */
  differences: string[];
}

/** Names the model by config.json: widths (hidden, MLP, heads, KV heads), depth, vocabulary, tie, image size. */
export function identifyModel(config: FastVlmConfig): ModelIdentity {
  const llm = config.llm;
  const preset = APPLE_PRESETS.find((p) => {
    const shape = PRESET_SHAPES[p];
    return (
      shape.hidden_size === llm.hiddenSize &&
      shape.intermediate_size === llm.intermediateSize &&
      shape.num_attention_heads === llm.numAttentionHeads &&
      shape.num_key_value_heads === llm.numKeyValueHeads &&
      config.mmHiddenSize === 3072
    );
  });
  if (preset === undefined) return { name: 'custom', differences: [] };
  const shape = PRESET_SHAPES[preset];
  const differences: string[] = [];
  if (llm.numHiddenLayers !== shape.num_hidden_layers)
    differences.push(`${llm.numHiddenLayers} of ${shape.num_hidden_layers} layers`);
  if (llm.vocabSize !== shape.vocab_size)
    differences.push(
      `vocabulary ${llm.vocabSize} rows, not ${shape.vocab_size}` +
        (llm.vocabSize === TOKENIZER_ROWS ? " (cut to the tokenizer's 151646, as Apple's loader does)" : ''),
    );
  if (llm.tieWordEmbeddings !== shape.tie_word_embeddings)
    differences.push(`tie_word_embeddings ${llm.tieWordEmbeddings}, not ${shape.tie_word_embeddings}`);
  if (config.imageSize !== shape.imageSize) differences.push(`tower at ${config.imageSize} px, not ${shape.imageSize}`);
  const widthsOf = MODEL_NAMES[preset];
  return { name: differences.length === 0 ? widthsOf : 'custom', widthsOf, differences };
}

/** The --dtype values of the model commands, and the tower's dtype each implies by default. */
export const MEMORY_DTYPES: readonly WeightDType[] = ['f32', 'f16', 'int8', 'int4'];

export interface MemoryEstimate {
  /** --dtype (LLM and projector); the tower in its default dtype for it. */
  dtype: WeightDType;
  visionDtype: WeightDType;
  /** Bytes of loaded weights on the GPU per part, as loadWeights holds them. */
  parts: Record<PartName, number>;
  weightBytes: number;
}

export interface ModelSummary {
  identity: ModelIdentity;
  lmHead: LmHeadSource;
  /** Float parameters the model loads and uses (an ignored lm_head copy, unused tensors and BatchNorm counters excluded). */
  parameters: number;
  /** KV cache bytes per token of context (keys and values of every layer, f32). */
  kvCacheBytesPerToken: number;
  memory: MemoryEstimate[];
}

/** The model's parameters and the memory of its weights per --dtype, for the LM head `lmHead` decided. */
export function summarizeModel(config: FastVlmConfig, lmHead: LmHeadSource): ModelSummary {
  const parts = buildParts(config, lmHead);
  const names = Object.keys(PART_PREFIXES) as PartName[];
  let parameters = 0;
  for (const part of names)
    for (const [, p] of parts[part].namedParameters())
      if (p.kind !== 'unused' && p.options.integer !== true) parameters += p.shape.reduce((a, b) => a * b, 1);
  const memory = MEMORY_DTYPES.map((dtype): MemoryEstimate => {
    const visionDtype = defaultVisionDtype(dtype);
    const bytes = {} as Record<PartName, number>;
    for (const part of names) {
      const partDtype = part === 'vision' ? visionDtype : dtype;
      bytes[part] = parts[part].namedParameters().reduce((sum, [, p]) => sum + parameterBytes(p, partDtype), 0);
    }
    return { dtype, visionDtype, parts: bytes, weightBytes: names.reduce((sum, part) => sum + bytes[part], 0) };
  });
  for (const part of Object.values(parts)) part.dispose();
  const llm = config.llm;
  return {
    identity: identifyModel(config),
    lmHead,
    parameters,
    kvCacheBytesPerToken: 2 * llm.numHiddenLayers * llm.numKeyValueHeads * llm.headDim * 4,
    memory,
  };
}
