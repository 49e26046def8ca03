/** What a generation request may ask for, what it returns, and the checks made before any GPU work. */
import { checkSamplingOptions } from '@fastvlm/kernels';
import type { ImageInput } from '@fastvlm/fastvithd';
import {
  checkStopStrings,
  defaultStopTokenIds,
  GenerationError,
  type FinishReason,
  type Qwen2ForCausalLM,
  type TextGenerationOptions,
  type Tokenizer,
} from '@fastvlm/qwen2';
import type { Prompt } from './prompt.js';

/** predict.py's default. */
export const DEFAULT_MAX_NEW_TOKENS = 256;

/** How an answer is generated: its length, sampling, stop strings and abort (a request's, or a chat turn's). */
export interface AnswerOptions {
  /** Default 256. */
  maxNewTokens?: number;
  /** 0 (the default) is greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  signal?: AbortSignal;
  /** The answer ends before the first of these (in a chat, the tokens generated up to there stay in the conversation). */
  stopStrings?: readonly string[];
}

export interface GenerateRequest extends AnswerOptions {
  /** A path, encoded PNG/JPEG bytes or raw RGB(A) pixels; absent for a text-only prompt. */
  image?: ImageInput;
  /** The user's text, or a conversation ending with the user's turn. */
  prompt: Prompt;
  /** The system prompt (default "You are a helpful assistant."). */
  system?: string;
  /**
   * Let special tokens written in the prompt and the system text (<|im_start|>, <|im_end|>,
   * <|endoftext|>) act as control tokens. Default false: they are tokenized as plain text, so user
   * text cannot forge a turn.
   */
  allowSpecialTokens?: boolean;
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

/** Checks an answer's options (token budget, sampling, stop strings) before any work; returns the token budget. */
export function checkAnswerOptions(options: AnswerOptions): number {
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1)
    throw new GenerationError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  checkSamplingOptions({
    temperature: options.temperature ?? 0,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
  });
  checkStopStrings(options.stopStrings ?? []);
  return maxNewTokens;
}

/** Checks everything that needs no GPU: the token budget, the context length, sampling and stop strings. */
export function checkRequest(
  request: GenerateRequest,
  promptPositions: number,
  maxPositions: number,
): { maxNewTokens: number } {
  const maxNewTokens = checkAnswerOptions(request);
  if (promptPositions + maxNewTokens - 1 > maxPositions) {
    throw new GenerationError(
      `the prompt takes ${promptPositions} positions (image tokens included); with ${maxNewTokens} new tokens it needs ${promptPositions + maxNewTokens - 1}, above the model's context of ${maxPositions}`,
    );
  }
  return { maxNewTokens };
}

/** The text-generation options of an answer: by default it stops on <|im_end|> / <|endoftext|> and never produces an id the tokenizer lacks. */
export function answerGeneration(
  llm: Qwen2ForCausalLM,
  tokenizer: Tokenizer,
  options: AnswerOptions & Pick<GenerateRequest, 'stopTokenIds'>,
): TextGenerationOptions {
  return {
    maxNewTokens: options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
    temperature: options.temperature ?? 0,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
    signal: options.signal,
    stopStrings: options.stopStrings,
    stopTokenIds: options.stopTokenIds ?? defaultStopTokenIds(llm, tokenizer),
    vocabLimit: Math.min(llm.config.vocabSize, tokenizer.vocabSize),
  };
}

/** The tokens of an answer and when each became known (performance.now()). */
export class TokenClock {
  readonly tokens: number[] = [];
  readonly times: number[] = [];

  /** Records `token` as known now (a TextGenerationOptions.onToken). */
  readonly tick = (token: number): void => {
    this.tokens.push(token);
    this.times.push(performance.now());
  };

  /** When the first token was known, or null. */
  get first(): number | null {
    return this.times.length > 0 ? this.times[0] : null;
  }

  /** Tokens after the first, per second; null below two tokens. */
  get decodeTokensPerSecond(): number | null {
    const { times } = this;
    const first = times[0];
    const last = times[times.length - 1];
    return times.length >= 2 && last > first ? ((times.length - 1) * 1000) / (last - first) : null;
  }
}
