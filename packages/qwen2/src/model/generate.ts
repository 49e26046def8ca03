/**
 * Token generation: one prefill pass over the prompt, then one decode step per token, each step a
 * single batch of GPU work whose only readback is the token (argmax or the sampler's candidates).
 * The KV cache is sized from the request and freed when generation ends, however it ends.
 */
import { checkSamplingOptions, sample, SeededRandom, type RandomSource } from '@fastvlm/kernels';
import { FastVlmError, type Tensor } from '@fastvlm/tensor';
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
  /** Checked before each step: an aborted generation throws the signal's reason. */
  signal?: AbortSignal;
}

export type FinishReason = 'stop-token' | 'max-tokens';

interface Request {
  promptLength: number;
  maxNewTokens: number;
  stopTokenIds: ReadonlySet<number>;
  vocabLimit: number;
  temperature: number;
}

/** Checks a request before any GPU work; throws GenerationError, SamplingError or ShapeError. */
export function checkGenerationRequest(
  model: Qwen2ForCausalLM,
  input: ForwardInput,
  options: GenerationOptions,
): Request {
  if ('ids' in input && input.ids.length === 0) throw new GenerationError('the prompt is empty');
  const promptLength = model.inputLength(input);
  const { maxNewTokens, temperature = 0, topK, topP, seed } = options;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1)
    throw new GenerationError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  const limit = model.config.maxPositionEmbeddings;
  // The last token is never fed back: the cache holds the prompt and maxNewTokens - 1 tokens.
  if (promptLength + maxNewTokens - 1 > limit) {
    throw new GenerationError(
      `a prompt of ${promptLength} tokens plus ${maxNewTokens} new tokens needs ${promptLength + maxNewTokens - 1} positions, above max_position_embeddings ${limit}`,
    );
  }
  checkSamplingOptions({ temperature, topK, topP, seed });
  const vocabSize = model.config.vocabSize;
  const vocabLimit = options.vocabLimit ?? vocabSize;
  if (!Number.isInteger(vocabLimit) || vocabLimit < 1 || vocabLimit > vocabSize)
    throw new GenerationError(`vocabLimit must be an integer in [1, ${vocabSize}], got ${vocabLimit}`);
  const stopTokenIds = options.stopTokenIds ?? model.config.eosTokenIds;
  for (const id of stopTokenIds) {
    if (!Number.isInteger(id) || id < 0) throw new GenerationError(`stop token id ${id} is not a token id`);
  }
  return { promptLength, maxNewTokens, stopTokenIds: new Set(stopTokenIds), vocabLimit, temperature };
}

/**
 * Generates token ids after `input` (ids, or embeddings [T, hidden]). Yields each new token; returns
 * why it stopped. Stop it early with `return()` (a `break` in `for await`) or the abort signal; the
 * KV cache is freed either way.
 */
export async function* generateTokens(
  model: Qwen2ForCausalLM,
  input: ForwardInput,
  options: GenerationOptions,
): AsyncGenerator<number, FinishReason, undefined> {
  const request = checkGenerationRequest(model, input, options);
  options.signal?.throwIfAborted();
  const rng: RandomSource | undefined =
    request.temperature > 0 ? new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32)) : undefined;
  const sampling = { temperature: request.temperature, topK: options.topK, topP: options.topP, rng };
  const cache = model.createCache(request.promptLength + request.maxNewTokens - 1);
  try {
    let next = input;
    let position = 0;
    for (let produced = 0; produced < request.maxNewTokens; produced++) {
      if (produced > 0) {
        options.signal?.throwIfAborted();
        model.device.markProfile('decode');
      }
      const logits = model.forward(next, cache, position, 'last'); // [1, vocab]
      position += produced === 0 ? request.promptLength : 1;
      const token = await pickToken(logits, request.vocabLimit, sampling);
      if (request.stopTokenIds.has(token)) return 'stop-token';
      yield token;
      next = { ids: [token] };
    }
    return 'max-tokens';
  } finally {
    cache.dispose();
  }
}

/** Greedy or sampled token from logits [1, V], among ids below `vocabLimit`; frees the logits. */
async function pickToken(
  logits: Tensor<'f32'>,
  vocabLimit: number,
  sampling: Parameters<typeof sample>[1],
): Promise<number> {
  const vocab = logits.shape[1];
  const row = logits.reshape([vocab]);
  const candidates = vocabLimit < vocab ? row.sliceRows(0, vocabLimit) : row; // a view: ids >= vocabLimit are not seen
  try {
    return await sample(candidates, sampling);
  } finally {
    candidates.dispose();
    row.dispose();
    logits.dispose();
  }
}
