/**
 * Text generation with the tokenizer: a prompt as text (or ids, or embeddings), text streamed as
 * it completes (never half a character), stop on <|im_end|> / EOS ids or stop strings.
 */
import type { Tokenizer } from '../tokenizer/index.js';
import { generateTokens, type FinishReason, type GenerationOptions } from './generate.js';
import type { ForwardInput, Qwen2ForCausalLM } from './qwen2-model.js';
import { StopStringMatcher } from './stop-strings.js';

export interface TextGenerationOptions extends GenerationOptions {
  /** Generation ends when the text contains one of these; the text ends before it. */
  stopStrings?: readonly string[];
  /** Leave special tokens out of the text (default true). */
  skipSpecialTokens?: boolean;
  /** Called as each token is known, before its text is let out (e.g. to time the tokens). */
  onToken?: (token: number) => void;
}

export interface TextGenerationResult {
  text: string;
  /** Every token generated (a stop token excluded; the tokens of a stop string included). */
  tokenIds: number[];
  finishReason: FinishReason | 'stop-string';
}

/** Stop ids when none are given: the config's EOS ids, <|im_end|> and <|endoftext|>. */
export function defaultStopTokenIds(model: Qwen2ForCausalLM, tokenizer: Tokenizer): number[] {
  const named = ['<|im_end|>', '<|endoftext|>']
    .map((token) => tokenizer.tokenToId(token))
    .filter((id): id is number => id !== undefined);
  return [...new Set([...model.config.eosTokenIds, ...named])];
}

/**
 * Streams the generated text piece by piece; the generator's return value is the whole result.
 * A string prompt is encoded with the tokenizer (special tokens such as <|im_start|> recognised:
 * it is the whole templated prompt). With `options.cache`, generation continues in that cache.
 */
export async function* streamText(
  model: Qwen2ForCausalLM,
  tokenizer: Tokenizer,
  prompt: string | ForwardInput,
  options: TextGenerationOptions,
): AsyncGenerator<string, TextGenerationResult, undefined> {
  const input = typeof prompt === 'string' ? { ids: tokenizer.encode(prompt) } : prompt;
  const stops = new StopStringMatcher(options.stopStrings ?? []);
  const decoder = tokenizer.createStreamDecoder({ skipSpecial: options.skipSpecialTokens ?? true });
  const tokens = generateTokens(model, input, {
    ...options,
    stopTokenIds: options.stopTokenIds ?? defaultStopTokenIds(model, tokenizer),
    vocabLimit: options.vocabLimit ?? Math.min(model.config.vocabSize, tokenizer.vocabSize),
  });
  const tokenIds: number[] = [];
  let text = '';
  try {
    for (;;) {
      const step = await tokens.next();
      if (!step.done) {
        tokenIds.push(step.value);
        options.onToken?.(step.value);
      }
      const piece = stops.push(step.done ? decoder.flush() : decoder.push(step.value));
      if (piece.text) {
        text += piece.text;
        yield piece.text;
      }
      if (piece.stopped) return { text, tokenIds, finishReason: 'stop-string' };
      if (step.done) {
        const rest = stops.flush();
        if (rest) {
          text += rest;
          yield rest;
        }
        return { text, tokenIds, finishReason: step.value };
      }
    }
  } finally {
    await tokens.return('max-tokens'); // ends the token generator when stopped early (frees its KV cache); the value is unused
  }
}

/** Generates the whole text at once (the concatenation of what `streamText` yields). */
export async function generateText(
  model: Qwen2ForCausalLM,
  tokenizer: Tokenizer,
  prompt: string | ForwardInput,
  options: TextGenerationOptions,
): Promise<TextGenerationResult> {
  const stream = streamText(model, tokenizer, prompt, options);
  for (;;) {
    const step = await stream.next();
    if (step.done) return step.value;
  }
}
