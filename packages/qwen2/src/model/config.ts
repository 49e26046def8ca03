/**
 * Qwen2's hyperparameters, read from a Hugging Face `config.json` (Qwen2's own, or FastVLM's
 * `llava_qwen2`, which has the same fields at the top level). Every field the decoder needs is
 * checked; a bad one is a ConfigError naming it.
 */
import { FastVlmError } from '@fastvlm/tensor';

/** A config.json field is missing, of the wrong type, or inconsistent with the others. */
export class ConfigError extends FastVlmError {
  constructor(
    /** The config.json field at fault. */
    readonly field: string,
    readonly problem: string,
  ) {
    super('CONFIG', `config.json field '${field}': ${problem}`);
  }
}

export interface Qwen2Config {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** hidden_size / num_attention_heads unless config.json gives head_dim. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Embedding rows (151936 for Qwen2-0.5B; the tokenizer has fewer ids). */
  vocabSize: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  /** eos_token_id (a number or a list; empty when null or absent). */
  eosTokenIds: readonly number[];
}

type Json = Record<string, unknown>;

function positiveInteger(json: Json, field: string): number {
  const value = json[field];
  if (value === undefined) throw new ConfigError(field, 'is missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function positiveNumber(json: Json, field: string, value: unknown = json[field]): number {
  if (value === undefined) throw new ConfigError(field, 'is missing');
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ConfigError(field, `must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}

/** rope_theta at the top level (transformers 4.x, FastVLM) or under rope_parameters (transformers 5.x). */
function ropeTheta(json: Json): number {
  if (json.rope_theta !== undefined) return positiveNumber(json, 'rope_theta');
  const parameters = json.rope_parameters;
  if (typeof parameters === 'object' && parameters !== null) {
    const { rope_theta: theta, rope_type: type } = parameters as Json;
    if (type !== undefined && type !== 'default')
      throw new ConfigError('rope_parameters.rope_type', `'${String(type)}' is not supported (only 'default' RoPE)`);
    return positiveNumber(json, 'rope_parameters.rope_theta', theta);
  }
  throw new ConfigError('rope_theta', 'is missing (neither rope_theta nor rope_parameters.rope_theta is given)');
}

function eosTokenIds(json: Json): number[] {
  const value = json.eos_token_id;
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
      throw new ConfigError('eos_token_id', `must be a token id or a list of them, got ${JSON.stringify(value)}`);
  }
  return ids as number[];
}

/** Reads and checks a parsed config.json. */
export function parseQwen2Config(json: unknown): Qwen2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError('(root)', 'config.json must hold a JSON object');
  const c = json as Json;
  const hiddenSize = positiveInteger(c, 'hidden_size');
  const numAttentionHeads = positiveInteger(c, 'num_attention_heads');
  const numKeyValueHeads = positiveInteger(c, 'num_key_value_heads');
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new ConfigError(
      'num_key_value_heads',
      `${numKeyValueHeads} does not divide num_attention_heads ${numAttentionHeads}`,
    );
  }
  let headDim: number;
  if (c.head_dim !== undefined && c.head_dim !== null) {
    headDim = positiveInteger(c, 'head_dim');
  } else {
    if (hiddenSize % numAttentionHeads !== 0)
      throw new ConfigError('num_attention_heads', `${numAttentionHeads} does not divide hidden_size ${hiddenSize}`);
    headDim = hiddenSize / numAttentionHeads;
  }
  // The RoPE and KV-cache kernels take head dims that are multiples of 4, up to 128.
  if (headDim % 4 !== 0 || headDim > 128)
    throw new ConfigError('head_dim', `head dim ${headDim} must be a multiple of 4 and at most 128`);
  const tie = c.tie_word_embeddings ?? true; // transformers' PretrainedConfig default
  if (typeof tie !== 'boolean')
    throw new ConfigError('tie_word_embeddings', `must be true or false, got ${JSON.stringify(tie)}`);
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu')
    throw new ConfigError('hidden_act', `'${String(c.hidden_act)}' is not supported (Qwen2 uses 'silu')`);
  return {
    hiddenSize,
    intermediateSize: positiveInteger(c, 'intermediate_size'),
    numHiddenLayers: positiveInteger(c, 'num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: positiveNumber(c, 'rms_norm_eps'),
    ropeTheta: ropeTheta(c),
    vocabSize: positiveInteger(c, 'vocab_size'),
    tieWordEmbeddings: tie,
    maxPositionEmbeddings: positiveInteger(c, 'max_position_embeddings'),
    eosTokenIds: eosTokenIds(c),
  };
}
