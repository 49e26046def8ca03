/**
 * The generation loop, the one every caller runs (text generation, FastVLM's requests, chat turns):
 * one prefill pass over the input at the KV cache's current length, then one decode step per token,
 * each step a single batch of GPU work whose only readback is the token (argmax or the sampler's
 * candidates), which also says whether the logits were finite (if not, a NonFiniteActivationError
 * naming the prefill or the decode step). A cache the caller passes is kept (a chat continues in
 * it); otherwise one is sized from the request and freed when generation ends, however it ends.
 */
import {
  checkSamplingOptions,
  NonFiniteLogitsError,
  sample,
  SeededRandom,
  type KvCache,
  type SamplingOptions,
} from '@fastvlm/kernels';
import { FastVlmError, NonFiniteActivationError, type Tensor } from '@fastvlm/tensor';
import { DecodeSteps } from './decode-steps.js';
import type { ForwardInput, Qwen2ForCausalLM } from './qwen2-model.js';

/** A generation request is out of range (empty prompt, too long, no tokens asked for...). */
export class GenerationError extends FastVlmError {
  constructor(message: string) {
    super('GENERATION', message);
  }
}

export interface GenerationOptions {
  /** At most this many tokens are produced (>= 1). */
  maxNewTokens: number;
  /** 0 (the default) is greedy decoding; above 0 samples from the softmax of logits / temperature. */
  temperature?: number;
  /** Sample among the k most likely tokens only (0 or absent: off). */
  topK?: number;
  /** Sample among the smallest most-likely set with probability >= topP (1 or absent: off). */
  topP?: number;
  /** Seeds the sampler: the same seed and request give the same tokens. Random when absent. */
  seed?: number;
  /** Generation ends when one of these comes; it is not emitted. Default: the config's eos_token_id. */
  stopTokenIds?: readonly number[];
  /**
   * Ids at or above this are never produced (default: the vocabulary size). Qwen2's table has rows
   * 151646..151935 that no tokenizer id names; a text generator passes the tokenizer's size.
   */
  vocabLimit?: number;
  /** Checked before each step and after each readback: an aborted generation throws the signal's reason. */
  signal?: AbortSignal;
  /**
   * Continue in this cache, from its current length (a chat's later turns); it is kept, not freed.
   * Absent: a cache for the prompt and the new tokens, freed when generation ends.
   */
  cache?: KvCache;
  /**
   * Decode steps after the first few replay a recording of one step instead of running the model's
   * code again (decode-steps.ts); the tokens are the same bit for bit. false: run every step through
   * the model. Default true.
   */
  replayDecode?: boolean;
}

export type FinishReason = 'stop-token' | 'max-tokens';

/** A request after its checks: what the loop needs. */
export interface CheckedGeneration {
  maxNewTokens: number;
  stopTokenIds: ReadonlySet<number>;
  vocabLimit: number;
  sampling: Omit<SamplingOptions, 'rng' | 'maxCandidates'>;
}

/**
 * Checks the options of a request whose prompt takes `promptLength` positions, before any GPU
 * work; throws GenerationError or SamplingError. `start`: positions already in the cache.
 */
export function checkGenerationOptions(
  model: Qwen2ForCausalLM,
  promptLength: number,
  options: GenerationOptions,
  start = 0,
): CheckedGeneration {
  const { maxNewTokens, temperature = 0, topK, topP, seed } = options;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1)
    throw new GenerationError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  const limit = model.config.maxPositionEmbeddings;
  // The last token is never fed back: the cache holds the prompt and maxNewTokens - 1 tokens.
  const needed = start + promptLength + maxNewTokens - 1;
  if (needed > limit) {
    throw new GenerationError(
      `a prompt of ${promptLength} tokens plus ${maxNewTokens} new tokens needs ${needed} positions, above max_position_embeddings ${limit}`,
    );
  }
  if (options.cache !== undefined && needed > options.cache.maxSeq) {
    throw new GenerationError(
      `a prompt of ${promptLength} tokens plus ${maxNewTokens} new tokens after ${start} cached positions needs ${needed}, above the cache's ${options.cache.maxSeq}`,
    );
  }
  const sampling = { temperature, topK, topP, seed };
  checkSamplingOptions(sampling);
  const vocabSize = model.config.vocabSize;
  const vocabLimit = options.vocabLimit ?? vocabSize;
  if (!Number.isInteger(vocabLimit) || vocabLimit < 1 || vocabLimit > vocabSize)
    throw new GenerationError(`vocabLimit must be an integer in [1, ${vocabSize}], got ${vocabLimit}`);
  const stopTokenIds = options.stopTokenIds ?? model.config.eosTokenIds;
  for (const id of stopTokenIds) {
    if (!Number.isInteger(id) || id < 0) throw new GenerationError(`stop token id ${id} is not a token id`);
  }
  return { maxNewTokens, stopTokenIds: new Set(stopTokenIds), vocabLimit, sampling };
}

/** Checks a request (its input included) before any GPU work; throws GenerationError, SamplingError or ShapeError. */
export function checkGenerationRequest(
  model: Qwen2ForCausalLM,
  input: ForwardInput,
  options: GenerationOptions,
): CheckedGeneration & { promptLength: number } {
  if ('ids' in input && input.ids.length === 0) throw new GenerationError('the prompt is empty');
  const promptLength = model.inputLength(input);
  return { ...checkGenerationOptions(model, promptLength, options, options.cache?.length ?? 0), promptLength };
}

/**
 * Generates token ids after `input` (ids, or embeddings [T, hidden]), written into the cache at
 * its current length (0 for a fresh one). Yields each new token; returns why it stopped. Stop it
 * early with `return()` (a `break` in `for await`) or the abort signal; a cache it made is freed
 * either way.
 */
export async function* generateTokens(
  model: Qwen2ForCausalLM,
  input: ForwardInput,
  options: GenerationOptions,
): AsyncGenerator<number, FinishReason, undefined> {
  const request = checkGenerationRequest(model, input, options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const { temperature } = request.sampling;
  const sampling = {
    ...request.sampling,
    rng: temperature > 0 ? new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32)) : undefined,
  };
  const cache = options.cache ?? model.createCache(request.promptLength + request.maxNewTokens - 1);
  let steps: DecodeSteps | undefined;
  try {
    let position = cache.length;
    let logits = model.forward(input, cache, position, 'last'); // [1, vocab]
    position += request.promptLength;
    for (let produced = 0; ;) {
      const stage = produced === 0 ? 'prefill' : `decode step ${produced}`;
      const token = await pickToken(logits, request.vocabLimit, sampling, signal, stage);
      if (request.stopTokenIds.has(token)) return 'stop-token';
      yield token;
      if (++produced === request.maxNewTokens) return 'max-tokens';
      signal?.throwIfAborted();
      model.device.markProfile('decode');
      steps ??= new DecodeSteps(model, cache, { replay: options.replayDecode });
      logits = steps.step(token, position);
      position += 1;
    }
  } finally {
    steps?.dispose();
    if (cache !== options.cache) cache.dispose();
  }
}

/**
 * Greedy or sampled token from logits [1, V], among ids below `vocabLimit`; frees the logits. An
 * abort while it waits for the readback (or that made the readback fail: a device destroyed by the
 * model's dispose()) throws the signal's reason; logits that are not finite, a
 * NonFiniteActivationError naming `stage`.
 */
async function pickToken(
  logits: Tensor<'f32'>,
  vocabLimit: number,
  sampling: SamplingOptions,
  signal: AbortSignal | undefined,
  stage: string,
): Promise<number> {
  const vocab = logits.shape[1];
  const row = logits.reshape([vocab]);
  const candidates = vocabLimit < vocab ? row.sliceRows(0, vocabLimit) : row; // a view: ids >= vocabLimit are not seen
  try {
    const token = await sample(candidates, sampling);
    signal?.throwIfAborted();
    return token;
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof NonFiniteLogitsError) throw new NonFiniteActivationError(stage, { cause: error });
    throw error;
  } finally {
    candidates.dispose();
    row.dispose();
    logits.dispose();
  }
}
