/**
 * Multi-turn chat over one KV cache: the first turn prefills the system prompt, the image and the
 * question as `generate` does; each later turn prefills only its own tokens at the cache's current
 * position, so the cache always holds the whole conversation in Apple's qwen_2 template:
 *
 *   ...<|im_start|>assistant\n{answer}  +  <|im_end|>\n<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n
 *
 * The answer's tokens are the generated ids themselves (not a re-tokenization of its text).
 *
 *   const chat = new ChatSession(model, { image: 'photo.jpg' });
 *   for await (const piece of chat.send('What is in the image?')) write(piece);
 *   const second = await chat.reply('And what colour is it?');
 *   chat.dispose();
 */
import type { ImageInput, PixelValues } from '@fastvlm/fastvithd';
import { checkSamplingOptions, sample, SeededRandom, type KvCache } from '@fastvlm/kernels';
import {
  defaultStopTokenIds,
  GenerationError,
  StopStringMatcher,
  type FinishReason,
  type ForwardInput,
} from '@fastvlm/qwen2';
import { DisposedError, FastVlmError, type Tensor } from '@fastvlm/tensor';
import { PromptError } from './errors.js';
import type { FastVLM } from './fast-vlm.js';
import { DEFAULT_MAX_NEW_TOKENS } from './request.js';

/** Positions a chat's cache holds by default (capped by the model's context). */
export const DEFAULT_CHAT_CONTEXT = 4096;

/** A turn does not fit in what is left of the chat's context: reset the chat or give it a larger maxContext. */
export class ChatContextError extends FastVlmError {
  constructor(message: string) {
    super('CHAT_CONTEXT', message);
  }
}

export interface ChatOptions {
  /** A path, encoded PNG/JPEG bytes or raw RGB(A) pixels, put at the start of the first user turn. */
  image?: ImageInput;
  /** The system prompt (default "You are a helpful assistant."). */
  system?: string;
  /** Positions the KV cache holds: every turn, image tokens and answers included (default 4096, at most the model's context). */
  maxContext?: number;
}

export interface ChatTurnOptions {
  /** Default 256. */
  maxNewTokens?: number;
  /** 0 (the default) is greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  signal?: AbortSignal;
  /** The answer ends before the first of these (the tokens generated up to there stay in the cache). */
  stopStrings?: readonly string[];
}

export interface ChatTurnTimings {
  /** From `send` to the first token known (the image's preprocessing and encoding included on the first turn). */
  ttftMs: number | null;
  /** Tokens after the first, per second; null below two tokens. */
  decodeTokensPerSecond: number | null;
  totalMs: number;
}

export interface ChatTurnResult {
  text: string;
  /** The tokens generated (a stop token excluded). */
  tokenIds: number[];
  /** This turn's template ids (-200 where the image goes, on the first turn). */
  promptTokenIds: number[];
  /** Positions prefilled this turn: the turn's ids (image tokens counted), plus the previous answer's last token when it was not fed back yet. */
  prefillPositions: number;
  finishReason: FinishReason | 'stop-string';
  timings: ChatTurnTimings;
}

const now = (): number => performance.now();

export class ChatSession {
  private readonly cache: KvCache;
  /** The previous answer's last token: yielded but not yet in the cache (absent after a stop token). */
  private pendingToken: number | undefined;
  private pixels: PixelValues | undefined;
  private turns = 0;
  private busy = false;
  private disposed = false;

  constructor(
    private readonly model: FastVLM,
    private readonly options: ChatOptions = {},
  ) {
    const limit = model.config.llm.maxPositionEmbeddings;
    const maxContext = options.maxContext ?? Math.min(DEFAULT_CHAT_CONTEXT, limit);
    if (!Number.isSafeInteger(maxContext) || maxContext < 1 || maxContext > limit)
      throw new ChatContextError(`maxContext must be an integer in [1, ${limit}], got ${maxContext}`);
    this.cache = model.llm.createCache(maxContext);
  }

  /** Positions the conversation takes in the cache so far. */
  get position(): number {
    return this.cache.length;
  }

  get maxContext(): number {
    return this.cache.maxSeq;
  }

  /** Forgets the conversation (the image stays); the cache is reused. */
  reset(): void {
    this.checkUsable();
    this.cache.length = 0;
    this.pendingToken = undefined;
    this.turns = 0;
  }

  /** Streams the answer to `text`; the return value is the whole turn. Stopping early keeps the partial answer in the conversation. */
  async *send(text: string, options: ChatTurnOptions = {}): AsyncGenerator<string, ChatTurnResult, undefined> {
    this.checkUsable();
    if (this.busy) throw new GenerationError('a chat answers one message at a time');
    if (typeof text !== 'string' || text.trim() === '') throw new PromptError('the message is empty');
    const started = now();
    const { maxNewTokens, temperature, stops } = checkTurnOptions(options);
    const model = this.model;
    const firstTurn = this.turns === 0;
    const image = firstTurn && this.options.image !== undefined;
    const promptTokenIds = firstTurn
      ? model.encodePrompt(text, image, this.options.system)
      : model.tokenizer.encode(`<|im_end|>\n<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`);
    const carried = firstTurn || this.pendingToken === undefined ? [] : [this.pendingToken];
    const prefillPositions = carried.length + model.promptPositions(promptTokenIds);
    // The last new token is never fed back, as in generateTokens.
    const needed = this.position + prefillPositions + maxNewTokens - 1;
    if (needed > this.maxContext) {
      throw new ChatContextError(
        `this turn needs positions up to ${needed} (${this.position} used, ${prefillPositions} to prefill, ${maxNewTokens} new tokens), above the chat's context of ${this.maxContext}`,
      );
    }
    options.signal?.throwIfAborted();
    this.busy = true;
    let input: ForwardInput;
    if (firstTurn) {
      if (image && this.pixels === undefined) this.pixels = await model.preprocess(this.options.image as ImageInput);
      input = { embeds: (await model.embedInputs(promptTokenIds, this.pixels)).embeds };
    } else {
      input = { ids: [...carried, ...promptTokenIds] };
    }
    const rng = temperature > 0 ? new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32)) : undefined;
    const sampling = { temperature, topK: options.topK, topP: options.topP, rng };
    const stopTokenIds = new Set(defaultStopTokenIds(model.llm, model.tokenizer));
    const vocabLimit = Math.min(model.config.llm.vocabSize, model.tokenizer.vocabSize);
    const decoder = model.tokenizer.createStreamDecoder({ skipSpecial: true });
    const tokenIds: number[] = [];
    const tokenTimes: number[] = [];
    let answer = '';
    const finish = (finishReason: FinishReason | 'stop-string'): ChatTurnResult => {
      const first = tokenTimes[0];
      const last = tokenTimes[tokenTimes.length - 1];
      const timings: ChatTurnTimings = {
        ttftMs: first === undefined ? null : first - started,
        decodeTokensPerSecond:
          tokenTimes.length >= 2 && last > first ? ((tokenTimes.length - 1) * 1000) / (last - first) : null,
        totalMs: now() - started,
      };
      return { text: answer, tokenIds, promptTokenIds, prefillPositions, finishReason, timings };
    };
    try {
      let next: ForwardInput | undefined = input;
      for (;;) {
        let done: FinishReason | undefined;
        if (next !== undefined && tokenIds.length < maxNewTokens) {
          if (tokenIds.length > 0) options.signal?.throwIfAborted();
          const logits = model.llm.forward(next, this.cache, this.position, 'last'); // [1, vocab]
          if (tokenIds.length === 0) this.turns++; // the turn's prompt is in the cache now
          this.pendingToken = undefined; // ... and so is the token just fed
          next = undefined;
          const token = await pickToken(logits, vocabLimit, sampling);
          if (stopTokenIds.has(token)) {
            done = 'stop-token';
          } else {
            tokenIds.push(token);
            tokenTimes.push(now());
            this.pendingToken = token;
            next = { ids: [token] };
          }
        } else {
          done = 'max-tokens';
        }
        const piece = stops.push(done === undefined ? decoder.push(tokenIds[tokenIds.length - 1]) : decoder.flush());
        if (piece.text) {
          answer += piece.text;
          yield piece.text;
        }
        if (piece.stopped) return finish('stop-string');
        if (done !== undefined) {
          const rest = stops.flush();
          if (rest) {
            answer += rest;
            yield rest;
          }
          return finish(done);
        }
      }
    } finally {
      if ('embeds' in input) input.embeds.dispose();
      this.busy = false;
    }
  }

  /** The whole answer at once (what `send` yields, concatenated). */
  async reply(text: string, options: ChatTurnOptions = {}): Promise<ChatTurnResult> {
    const stream = this.send(text, options);
    for (;;) {
      const step = await stream.next();
      if (step.done) return step.value;
    }
  }

  /** Frees the KV cache. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.dispose();
  }

  private checkUsable(): void {
    if (this.disposed) throw new DisposedError('the chat session');
  }
}

function checkTurnOptions(options: ChatTurnOptions): {
  maxNewTokens: number;
  temperature: number;
  stops: StopStringMatcher;
} {
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 1)
    throw new GenerationError(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`);
  const temperature = options.temperature ?? 0;
  checkSamplingOptions({ temperature, topK: options.topK, topP: options.topP, seed: options.seed });
  return { maxNewTokens, temperature, stops: new StopStringMatcher(options.stopStrings ?? []) };
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
