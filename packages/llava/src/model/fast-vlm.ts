/**
 * FastVLM end to end: image -> FastViTHD -> projector -> image rows spliced into the prompt's
 * embeddings -> Qwen2 prefill -> decode. Vision, projector, splice and prefill are recorded into
 * one GPU batch; the first readback is the first token.
 *
 *   const model = await FastVLM.load('models/FastVLM-0.5B', { dtype: 'int8' });
 *   for await (const piece of model.stream({ image: 'photo.jpg', prompt: 'Describe the image.' })) write(piece);
 *   model.dispose();
 */
import { preprocessImage, type PixelValues, type VisionDType } from '@fastvlm/fastvithd';
import { embedding, spliceRows } from '@fastvlm/kernels';
import { streamText, Tokenizer, type ModelDType, type Qwen2ForCausalLM } from '@fastvlm/qwen2';
import {
  createDevice,
  DisposedError,
  findNonFinite,
  NonFiniteActivationError,
  SafetensorsCheckpoint,
  Tensor,
  type Device,
  type FolderInput,
} from '@fastvlm/tensor';
import type { FastVlmConfig } from '../config.js';
import { ChatSession, type ChatOptions } from './chat.js';
import type { ModelParts } from '../checkpoint-layout.js';
import { defaultVisionDtype, loadParts, type LoadProgress } from './load-parts.js';
import type { Projector } from './projector.js';
import { encodePrompt, IMAGE_TOKEN_INDEX, type Prompt } from './prompt.js';
import { openFastVlmFolder, readFastVlmConfig } from './read-config.js';
import { LoadOptionsError } from './errors.js';
import {
  answerGeneration,
  checkRequest,
  TokenClock,
  type GenerateRequest,
  type GenerateResult,
  type GenerateTimings,
} from './request.js';

export interface LoadFastVlmOptions {
  /**
   * The decoder's and projector's weights on the GPU (default 'f16'). 'int4': group-wise int4 (an
   * f16 scale per 32 inputs) for the decoder's and projector's linears, with the embedding and the
   * LM head in int8 (see BENCHMARKS.md for its accuracy).
   */
  dtype?: ModelDType;
  /**
   * The tower's weights (default: 'f32' when dtype is 'f32', else 'f16'). 'int8' quantizes its
   * matrices (1x1 convolutions, attention) per output channel: faster and smaller, with ~7x the
   * feature drift of f16 (see BENCHMARKS.md); not the default for dtype 'int8'.
   */
  visionDtype?: VisionDType;
  /** A device to share; by default the model creates one and destroys it in dispose(). */
  device?: Device;
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Warm the vision tower's GPU pipelines while the decoder's weights load (default true): the tower
   * runs once on a blank image with one workgroup per dispatch, so the first image compiles nothing
   * for it; on an adapter that compiles at first dispatch (lavapipe) the compiles overlap the load.
   */
  warmPipelines?: boolean;
}

/** The prompt's embeddings with the image rows spliced in, and how long each stage took when profiled. */
interface PreparedInput {
  embeds: Tensor<'f32'>;
  visionMs: number | null;
  projectorMs: number | null;
}

const now = (): number => performance.now();
const WEIGHT_DTYPES: readonly string[] = ['f32', 'f16', 'int8', 'int4'];
const VISION_DTYPES: readonly string[] = ['f32', 'f16', 'int8'];

export class FastVLM {
  private disposed = false;
  /** Aborted by dispose(), with a DisposedError: running generations end with it at their next step. */
  private readonly disposal = new AbortController();

  private constructor(
    /** Where the model was loaded from: a path, a URL, `picked folder "X"`. */
    readonly folder: string,
    readonly config: FastVlmConfig,
    readonly tokenizer: Tokenizer,
    readonly device: Device,
    private readonly ownsDevice: boolean,
    private readonly parts: ModelParts,
    /** The decoder's and projector's weights. */
    readonly dtype: ModelDType,
    /** The vision tower's weights. */
    readonly visionDtype: VisionDType,
  ) {}

  /**
   * Loads config.json, the tokenizer files and model.safetensors (or its shards) from a model folder:
   * a path (Node), an http(s) URL (a Hugging Face repository or any server answering Range requests),
   * or a `ModelFolder` (`httpFolder`, `blobFolder`, `directoryHandleFolder`, `nodeFolder`).
   */
  static async load(input: FolderInput, options: LoadFastVlmOptions = {}): Promise<FastVLM> {
    const started = now();
    const progress = (stage: LoadProgress['stage']): void =>
      options.onProgress?.({ stage, seconds: (now() - started) / 1000 });
    const dtype = options.dtype ?? 'f16';
    const visionDtype = options.visionDtype ?? defaultVisionDtype(dtype);
    for (const [name, value, allowed] of [
      ['dtype', dtype, WEIGHT_DTYPES],
      ['visionDtype', visionDtype, VISION_DTYPES],
    ] as const) {
      if (!allowed.includes(value))
        throw new LoadOptionsError(
          `FastVLM.load: ${name} must be ${allowed.map((d) => `'${d}'`).join(', ')}, got ${JSON.stringify(value)}`,
        );
    }
    if (options.warmPipelines !== undefined && typeof options.warmPipelines !== 'boolean')
      throw new LoadOptionsError(
        `FastVLM.load: warmPipelines must be true or false, got ${JSON.stringify(options.warmPipelines)}`,
      );
    const folder = await openFastVlmFolder(input);
    progress('config');
    const config = await readFastVlmConfig(folder);
    progress('tokenizer');
    const tokenizer = await Tokenizer.fromFolder(folder);
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    let device: Device | undefined;
    try {
      device = options.device ?? (await createDevice());
      const parts = await loadParts(device, checkpoint, config, { llm: dtype, vision: visionDtype }, progress, {
        warmPipelines: options.warmPipelines ?? true,
      });
      progress('ready');
      return new FastVLM(
        folder.location,
        config,
        tokenizer,
        device,
        options.device === undefined,
        parts,
        dtype,
        visionDtype,
      );
    } catch (error) {
      if (options.device === undefined) device?.destroy();
      throw error;
    } finally {
      await checkpoint.close();
    }
  }

  get vision(): ModelParts['vision'] {
    return this.parts.vision;
  }

  get projector(): Projector {
    return this.parts.projector;
  }

  get llm(): Qwen2ForCausalLM {
    return this.parts.llm;
  }

  /**
   * The prompt's ids, -200 where the image goes. Special tokens written in the prompt or the system
   * text are plain text unless `allowSpecialTokens`.
   */
  encodePrompt(prompt: Prompt, image: boolean, system?: string, allowSpecialTokens = false): number[] {
    return encodePrompt(this.tokenizer, prompt, { image, system, allowSpecialTokens });
  }

  /** Positions the prompt takes in the decoder: its ids with the placeholder replaced by the image tokens. */
  promptPositions(ids: readonly number[]): number {
    return ids.includes(IMAGE_TOKEN_INDEX) ? ids.length - 1 + this.config.imageTokens : ids.length;
  }

  /** Image pixels [N, N, 3] as the tower reads them. */
  preprocess(image: NonNullable<GenerateRequest['image']>): Promise<PixelValues> {
    return preprocessImage(image, { size: this.config.imageSize, layout: 'nhwc' });
  }

  /**
   * Records the tower, the projector and the splice: ids [T] (one -200 when `pixels` is given) ->
   * inputs embeddings [T - 1 + I, hidden] (or [T, hidden] without an image). With `profile`, waits
   * for the GPU after the tower and after the projector to time them; an abort of `signal` during a
   * wait throws its reason.
   */
  async embedInputs(
    ids: readonly number[],
    pixels: PixelValues | undefined,
    profile = false,
    signal?: AbortSignal,
  ): Promise<PreparedInput> {
    this.checkUsable();
    const device = this.device;
    const at = ids.indexOf(IMAGE_TOKEN_INDEX);
    const textIds = Int32Array.from(ids, (id) => (id === IMAGE_TOKEN_INDEX ? 0 : id)); // row `at` is replaced below
    const text = device.scope(() =>
      embedding(Tensor.fromArray(device, textIds, [textIds.length], 'i32'), this.llm.model.embed_tokens.weight.value),
    ); // [T, hidden]
    if (pixels === undefined || at < 0) return { embeds: text, visionMs: null, projectorMs: null };
    const owned: Tensor[] = [text];
    try {
      let mark = now();
      device.markProfile('vision');
      const features = device.scope(() =>
        this.vision.encode(Tensor.fromArray(device, pixels.data, pixels.shape, 'f32')),
      ); // [I, 3072]
      owned.push(features);
      const visionMs = profile ? await timeSince(device, mark, signal) : null;
      mark = now();
      device.markProfile('projector');
      const imageEmbeds = this.projector.forward(features); // [I, hidden]
      owned.push(imageEmbeds);
      const projectorMs = profile ? await timeSince(device, mark, signal) : null;
      return { embeds: spliceRows(text, imageEmbeds, at), visionMs, projectorMs }; // [T - 1 + I, hidden]
    } finally {
      for (const tensor of owned) tensor.dispose();
    }
  }

  /** Streams the answer piece by piece (never half a character); the return value is the whole result. */
  async *stream(request: GenerateRequest): AsyncGenerator<string, GenerateResult, undefined> {
    this.checkUsable();
    const started = now();
    const promptTokenIds = this.encodePrompt(
      request.prompt,
      request.image !== undefined,
      request.system,
      request.allowSpecialTokens,
    );
    checkRequest(request, this.promptPositions(promptTokenIds), this.config.llm.maxPositionEmbeddings);
    const signal = this.generationSignal(request.signal);
    signal.throwIfAborted();
    const pixels = request.image === undefined ? undefined : await this.preprocess(request.image);
    signal.throwIfAborted();
    const preprocessMs = request.image === undefined ? 0 : now() - started;
    const profile = request.profile ?? false;
    const { embeds, visionMs, projectorMs } = await this.embedInputs(promptTokenIds, pixels, profile, signal);
    try {
      const prefillStart = now();
      this.device.markProfile('prefill');
      const clock = new TokenClock();
      const options = { ...answerGeneration(this.llm, this.tokenizer, request), signal, onToken: clock.tick };
      const { text, tokenIds, finishReason } = yield* streamText(this.llm, this.tokenizer, { embeds }, options);
      const first = clock.first;
      const timings: GenerateTimings = {
        preprocessMs,
        visionMs,
        projectorMs,
        prefillMs: profile && first !== null ? first - prefillStart : null,
        ttftMs: first === null ? null : first - started,
        decodeTokensPerSecond: clock.decodeTokensPerSecond,
        totalMs: now() - started,
      };
      return { text, tokenIds, promptTokenIds, finishReason, timings };
    } catch (error) {
      throw await this.traceNonFinite(error, pixels);
    } finally {
      embeds.dispose();
    }
  }

  /**
   * A NonFiniteActivationError found at the prefill of a prompt with an image, traced back to the
   * vision tower or the projector when their output is already not finite (one more tower pass, on
   * this error path only: the good path checks nothing but the token readback). Any other error is
   * returned as it is.
   */
  async traceNonFinite(error: unknown, pixels: PixelValues | undefined): Promise<unknown> {
    if (!(error instanceof NonFiniteActivationError) || error.stage !== 'prefill' || pixels === undefined) return error;
    if (this.disposed) return error;
    const device = this.device;
    const features = device.scope(() => this.vision.encode(Tensor.fromArray(device, pixels.data, pixels.shape, 'f32'))); // [I, 3072]
    try {
      if (findNonFinite(await features.toFloat32()) >= 0)
        return new NonFiniteActivationError('vision tower', { cause: error });
      const imageEmbeds = this.projector.forward(features); // [I, hidden]
      try {
        if (findNonFinite(await imageEmbeds.toFloat32()) >= 0)
          return new NonFiniteActivationError('projector', { cause: error });
      } finally {
        imageEmbeds.dispose();
      }
    } finally {
      features.dispose();
    }
    return error;
  }

  /** The whole answer at once (what `stream` yields, concatenated). */
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const stream = this.stream(request);
    for (;;) {
      const step = await stream.next();
      if (step.done) return step.value;
    }
  }

  /** A multi-turn conversation whose later turns reuse the KV cache (free it with its `dispose()`). */
  chat(options: ChatOptions = {}): ChatSession {
    return new ChatSession(this, options);
  }

  /**
   * A signal for one generation: aborted by `signal`, or by dispose() with a DisposedError ("the
   * FastVLM model was disposed while generating"). For ChatSession and `stream`.
   */
  generationSignal(signal?: AbortSignal): AbortSignal {
    return signal === undefined ? this.disposal.signal : AbortSignal.any([this.disposal.signal, signal]);
  }

  /**
   * Frees every weight (and the device, when the model created it). A generation still running
   * ends at its next step with a DisposedError saying so.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposal.abort(new DisposedError('the FastVLM model', { whileGenerating: true }));
    this.parts.vision.dispose();
    this.parts.projector.dispose();
    this.parts.llm.dispose();
    if (this.ownsDevice) this.device.destroy();
  }

  /** Throws a DisposedError once the model is disposed. */
  checkUsable(): void {
    if (this.disposed) throw new DisposedError('the FastVLM model');
  }
}

/** Waits for the GPU; a wait cut short by an abort (the device destroyed by dispose()) throws the abort's reason. */
async function timeSince(device: Device, mark: number, signal: AbortSignal | undefined): Promise<number> {
  try {
    await device.sync();
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
  signal?.throwIfAborted();
  return now() - mark;
}
