/** What a generation request may ask for, what it returns, and the checks made before any GPU work. */
import { checkSamplingOptions } from '@fastvlm/kernels';
import type { ImageInput } from '@fastvlm/fastvithd';
import { GenerationError, StopStringMatcher, type FinishReason } from '@fastvlm/qwen2';
import type { Prompt } from './prompt.js';

/** predict.py's default. */
export const DEFAULT_MAX_NEW_TOKENS = 256;

export interface GenerateRequest {
  /** A path, encoded PNG/JPEG bytes or raw RGB(A) pixels; absent for a text-only prompt. */
  image?: ImageInput;
  /** The user's text, or a conversation ending with the user's turn. */
  prompt: Prompt;
  /** The system prompt (default "You are a helpful assistant."). */
  system?: string;
  /** Default 256. */
  maxNewTokens?: number;
  /** 0 (the default) is greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  signal?: AbortSignal;
  /** The answer ends before the first of these. */
  stopStrings?: readonly string[];
  /**
   * Token ids that end the answer (not emitted). Default: the model's end of turn and end of text
   * (<|im_end|>, <|endoftext|>); [] never stops on a token, e.g. to decode a fixed count in a benchmark.
   */
  stopTokenIds?: readonly number[];
  /**
   * Wait for the GPU after the vision tower, the projector and the prefill, to time each one
   * (visionMs, projectorMs, prefillMs). Off by default: the three are recorded into one batch.
   */
  profile?: boolean;
}

export interface GenerateTimings {
  /** Decoding, padding and resizing the image on the CPU (0 without an image). */
  preprocessMs: number;
  /** Only with `profile` (null otherwise, or without an image). */
  visionMs: number | null;
  projectorMs: number | null;
  prefillMs: number | null;
  /** From the request to the first token known (preprocessing included); null if none came. */
  ttftMs: number | null;
  /** Tokens after the first, per second of decoding; null below two tokens. */
  decodeTokensPerSecond: number | null;
  totalMs: number;
}

export interface GenerateResult {
  text: string;
  /** The tokens generated (a stop token excluded). */
  tokenIds: number[];
  /** The prompt's ids, -200 where the image goes. */
  promptTokenIds: number[];
  finishReason: FinishReason | 'stop-string';
  timings: GenerateTimings;
}

/** Checks everything that needs no GPU: the token budget, the context length, sampling and stop strings. */
export function checkRequest(
  request: GenerateRequest,
  promptPositions: number,
  maxPositions: number,
): { maxNewTokens: number; stops: StopStringMatcher } {
  const maxNewTokens = request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1)
    throw new GenerationError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  if (promptPositions + maxNewTokens - 1 > maxPositions) {
    throw new GenerationError(
      `the prompt takes ${promptPositions} positions (image tokens included); with ${maxNewTokens} new tokens it needs ${promptPositions + maxNewTokens - 1}, above the model's context of ${maxPositions}`,
    );
  }
  checkSamplingOptions({
    temperature: request.temperature ?? 0,
    topK: request.topK,
    topP: request.topP,
    seed: request.seed,
  });
  return { maxNewTokens, stops: new StopStringMatcher(request.stopStrings ?? []) };
}
