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
import type { KvCache } from '@fastvlm/kernels';
import { streamText, type FinishReason, type ForwardInput } from '@fastvlm/qwen2';
import { DisposedError, FastVlmError } from '@fastvlm/tensor';
import { PromptError } from './errors.js';
import type { FastVLM } from './fast-vlm.js';
import { encodeFollowUp } from './prompt.js';
import { answerGeneration, checkAnswerOptions, TokenClock, type AnswerOptions } from './request.js';

/** Positions a chat's cache holds by default (capped by the model's context). */
export const DEFAULT_CHAT_CONTEXT = 4096;

/** A turn does not fit in what is left of the chat's context: reset the chat or give it a larger maxContext. */
export class ChatContextError extends FastVlmError {
  constructor(message: string) {
    super('CHAT_CONTEXT', message);
  }
}

/** A chat was asked for a second answer while one is running, or was reset while answering. */
export class ChatBusyError extends FastVlmError {
  constructor(message: string) {
    super('CHAT_BUSY', message);
  }
}

export interface ChatOptions {
  /** A path, encoded PNG/JPEG bytes or raw RGB(A) pixels, put at the start of the first user turn. */
  image?: ImageInput;
  /** The system prompt (default "You are a helpful assistant."). */
  system?: string;
  /** Positions the KV cache holds: every turn, image tokens and answers included (default 4096, at most the model's context). */
  maxContext?: number;
  /**
   * Let special tokens written in the messages and the system text (<|im_start|>, <|im_end|>,
   * <|endoftext|>) act as control tokens. Default false: they are plain text.
   */
  allowSpecialTokens?: boolean;
}

/** A turn's options: those of any answer (length, sampling, stop strings, abort). */
export type ChatTurnOptions = AnswerOptions;

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

/** The turn running now: stopped by reset() and dispose(). */
interface RunningTurn {
  readonly controller: AbortController;
}

export class ChatSession {
  private readonly cache: KvCache;
  /** The previous answer's last token: yielded but not yet in the cache (absent after a stop token). */
  private pendingToken: number | undefined;
  private pixels: PixelValues | undefined;
  private turns = 0;
  private running: RunningTurn | undefined;
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

  /** Forgets the conversation (the image stays); the cache is reused. A turn still running ends with a ChatBusyError. */
  reset(): void {
    this.checkUsable();
    this.stopRunning(new ChatBusyError('the chat was reset while answering'));
    this.cache.length = 0;
    this.pendingToken = undefined;
    this.turns = 0;
  }

  /**
   * Streams the answer to `text`; the return value is the whole turn. Stopping early (a `break`,
   * the signal) keeps the partial answer in the conversation; a turn that fails (a bad image, values
   * that are not finite) leaves the conversation as it was. One turn runs at a time.
   */
  async *send(text: string, options: ChatTurnOptions = {}): AsyncGenerator<string, ChatTurnResult, undefined> {
    this.checkUsable();
    if (this.running !== undefined)
      throw new ChatBusyError(
        'this chat is still answering the previous message: read that answer to its end, stop it (break, abort) or reset() the chat first',
      );
    if (typeof text !== 'string' || text.trim() === '') throw new PromptError('the message is empty');
    const started = now();
    const maxNewTokens = checkAnswerOptions(options);
    const model = this.model;
    const firstTurn = this.turns === 0;
    const image = firstTurn && this.options.image !== undefined;
    const allowSpecial = this.options.allowSpecialTokens ?? false;
    const promptTokenIds = firstTurn
      ? model.encodePrompt(text, image, this.options.system, allowSpecial)
      : encodeFollowUp(model.tokenizer, text, allowSpecial);
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
    const turn: RunningTurn = { controller: new AbortController() };
    this.running = turn;
    const signals = [turn.controller.signal, model.generationSignal(options.signal)];
    const signal = AbortSignal.any(signals);
    const start = this.position;
    const clock = new TokenClock();
    let input: ForwardInput | undefined;
    let failed = false;
    try {
      if (firstTurn) {
        if (image && this.pixels === undefined) this.pixels = await model.preprocess(this.options.image as ImageInput);
        signal.throwIfAborted();
        input = { embeds: (await model.embedInputs(promptTokenIds, this.pixels, false, signal)).embeds };
      } else {
        input = { ids: [...carried, ...promptTokenIds] };
      }
      const generation = { ...answerGeneration(model.llm, model.tokenizer, options), signal, cache: this.cache };
      const result = yield* streamText(model.llm, model.tokenizer, input, { ...generation, onToken: clock.tick });
      const first = clock.first;
      const timings: ChatTurnTimings = {
        ttftMs: first === null ? null : first - started,
        decodeTokensPerSecond: clock.decodeTokensPerSecond,
        totalMs: now() - started,
      };
      const { text: answer, tokenIds, finishReason } = result;
      return { text: answer, tokenIds, promptTokenIds, prefillPositions, finishReason, timings };
    } catch (error) {
      failed = !signal.aborted; // an abort (the signal, reset, dispose) stops the turn; anything else is a failure
      throw firstTurn ? await model.traceNonFinite(error, this.pixels) : error;
    } finally {
      if (input !== undefined && 'embeds' in input) input.embeds.dispose();
      if (this.running === turn) {
        this.running = undefined;
        if (failed)
          this.cache.length = start; // the conversation as it was before the turn
        else this.settle(start, prefillPositions, clock.tokens);
      }
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

  /** Frees the KV cache. A turn still running ends with a DisposedError saying so. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopRunning(new DisposedError('the chat session', { whileGenerating: true }));
    this.cache.dispose();
  }

  /**
   * After a turn, however it ended: once its prompt is in the cache the turn counts, and the last
   * token it yielded is carried into the next turn unless it was fed back already.
   */
  private settle(start: number, prefillPositions: number, tokens: readonly number[]): void {
    if (this.disposed || this.cache.length <= start) return; // nothing of this turn reached the cache
    this.turns++;
    const fed = this.cache.length - start - prefillPositions;
    this.pendingToken = tokens.length > fed ? tokens[tokens.length - 1] : undefined;
  }

  private stopRunning(reason: Error): void {
    this.running?.controller.abort(reason);
    this.running = undefined;
  }

  private checkUsable(): void {
    if (this.disposed) throw new DisposedError('the chat session');
    this.model.checkUsable();
  }
}
