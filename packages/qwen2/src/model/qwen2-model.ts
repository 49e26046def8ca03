/**
 * Qwen2ForCausalLM: token embedding, the decoder layers, the final RMSNorm and the LM head (tied to
 * the embedding table unless the config says otherwise), as transformers and mlx-examples' qwen2.py
 * name them. A forward pass only records GPU work: no readback, no submit.
 */
import { checkTokenIds, KvCache } from '@fastvlm/kernels';
import { formatShape, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { Embedding, Linear, Module, RmsNorm } from '@fastvlm/nn';
import type { Qwen2Config } from './config.js';
import { DecoderLayer } from './decoder-layer.js';
import { hasOwnLmHead, type LmHeadSource } from './lm-head.js';

/** Token ids, or input embeddings [T, hidden] (e.g. text rows with image rows spliced in). */
export type ForwardInput = { ids: Int32Array | readonly number[] } | { embeds: Tensor<'f32'> };

/**
 * What a forward pass returns: logits of the last position [1, vocab] (generation), logits of every
 * position [T, vocab] (parity checks), or the final-normed hidden states [T, hidden].
 */
export type ForwardOutput = 'last' | 'all' | 'hidden';

/** During a decode step, the recorded layers are submitted every this many. */
const DECODE_SUBMIT_LAYERS = 6;

/** Qwen2Model: embed_tokens, layers, norm. */
export class Qwen2Model extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: readonly DecoderLayer[];
  readonly norm: RmsNorm;

  constructor(config: Qwen2Config) {
    super();
    this.embed_tokens = new Embedding(config.vocabSize, config.hiddenSize);
    this.layers = Array.from({ length: config.numHiddenLayers }, () => new DecoderLayer(config));
    this.norm = new RmsNorm(config.hiddenSize, config.rmsNormEps);
  }

  /** x [T, hidden] at positions start .. start+T-1 -> hidden states after the last layer [T, hidden], not normed. */
  forward(x: Tensor<'f32'>, cache: KvCache, start: number): Tensor<'f32'> {
    let h = x;
    const decode = x.shape[0] === 1;
    this.layers.forEach((layer, i) => {
      // Each layer's temporaries are freed as soon as it is recorded, so a long prefill reuses them.
      const next = x.device.scope(() => layer.forward(h, cache, i, start));
      if (h !== x) h.dispose();
      h = next;
      // A decode step is short work recorded in ~10 ms: hand the GPU the first layers while the
      // rest is recorded (a submit, no wait and no readback).
      if (decode && i % DECODE_SUBMIT_LAYERS === DECODE_SUBMIT_LAYERS - 1 && i < this.layers.length - 1)
        x.device.submit();
    });
    return h;
  }
}

/** Qwen2ForCausalLM: `model` and, unless tied to the embedding table, `lm_head`. */
export class Qwen2ForCausalLM extends Module {
  readonly model: Qwen2Model;
  /** The untied LM head; undefined when the head is the embedding table. */
  readonly lm_head: Linear | undefined;

  /**
   * The module tree for `config`, its parameters declared and not loaded (see load.ts). `lmHead`
   * says where the head comes from (lm-head.ts: a tied config whose checkpoint stores a different
   * lm_head.weight has a head of its own); by default, from the config alone.
   */
  constructor(
    readonly config: Qwen2Config,
    readonly lmHead: LmHeadSource = config.tieWordEmbeddings ? 'tied' : 'untied',
  ) {
    super();
    this.model = new Qwen2Model(config);
    this.lm_head = hasOwnLmHead(lmHead)
      ? new Linear(config.hiddenSize, config.vocabSize, { bias: false, vocabulary: true })
      : undefined;
  }

  get device(): Device {
    return this.model.norm.weight.value.device;
  }

  /** A KV cache for `maxSeq` positions (prompt plus every token that may be generated). */
  createCache(maxSeq: number): KvCache {
    const { numHiddenLayers: layers, numKeyValueHeads: kvHeads, headDim } = this.config;
    return new KvCache(this.device, { layers, kvHeads, maxSeq, headDim });
  }

  /** The number of positions `input` holds, after checking it. */
  inputLength(input: ForwardInput): number {
    const { hiddenSize, vocabSize } = this.config;
    if ('embeds' in input) {
      const e = input.embeds;
      if (e.dtype !== 'f32' || e.rank !== 2 || e.shape[1] !== hiddenSize || e.shape[0] < 1) {
        throw new ShapeError(
          `Qwen2: input embeddings must be f32 [T >= 1, ${hiddenSize}], got ${e.dtype} ${formatShape(e.shape)}`,
        );
      }
      return e.shape[0];
    }
    if (input.ids.length < 1) throw new ShapeError('Qwen2: no input ids (the prompt is empty)');
    checkTokenIds(Int32Array.from(input.ids), vocabSize);
    return input.ids.length;
  }

  /**
   * Runs `input` at positions start .. start+T-1, appending to `cache` (which must hold positions
   * 0 .. start-1 already), and returns the `output` asked for. Records GPU work only.
   */
  forward(input: ForwardInput, cache: KvCache, start: number, output: ForwardOutput = 'last'): Tensor<'f32'> {
    const T = this.inputLength(input);
    const limit = this.config.maxPositionEmbeddings;
    if (!Number.isInteger(start) || start < 0 || start + T > limit) {
      throw new ShapeError(
        `Qwen2: positions ${start} .. ${start + T - 1} are outside max_position_embeddings ${limit}`,
      );
    }
    const device = this.device;
    return device.scope(() => {
      const x =
        'embeds' in input
          ? input.embeds
          : this.model.embed_tokens.forward(Tensor.fromArray(device, Int32Array.from(input.ids), [T], 'i32')); // [T, hidden]
      const h = this.model.forward(x, cache, start); // [T, hidden]
      const last = output === 'last' ? lastRow(h) : h; // [1 or T, hidden]
      if (output === 'hidden') return this.model.norm.forward(last);
      // the final norm is applied by the LM head on the way in (linear's inputNorm)
      const inputNorm = this.model.norm.asInputNorm;
      return this.lm_head
        ? this.lm_head.forward(last, { inputNorm })
        : this.model.embed_tokens.asLinear(last, { inputNorm }); // [1 or T, vocab]
    });
  }
}

/** x [T, D] -> a copy of its last row [1, D]. */
function lastRow(x: Tensor<'f32'>): Tensor<'f32'> {
  const [T, D] = x.shape;
  if (T === 1) return x;
  const row = Tensor.empty(x.device, [1, D], 'f32');
  const source = x.bindingRef();
  x.device.copy({ ...source, offset: source.offset + (T - 1) * D * 4, size: D * 4 }, row.bindingRef(), D * 4);
  return row;
}
