/** Qwen2DecoderLayer: pre-norm attention and MLP, each added to the residual stream. */
import type { KvCache } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Attention } from './attention.js';
import type { Qwen2Config } from './config.js';
import { RmsNorm } from './layers.js';
import { Mlp } from './mlp.js';
import type { Weights } from './weights.js';

export class DecoderLayer {
  constructor(
    readonly inputLayernorm: RmsNorm,
    readonly selfAttn: Attention,
    readonly postAttentionLayernorm: RmsNorm,
    readonly mlp: Mlp,
  ) {}

  static async load(weights: Weights, config: Qwen2Config): Promise<DecoderLayer> {
    return new DecoderLayer(
      await RmsNorm.load(weights.at('input_layernorm'), config.hiddenSize, config.rmsNormEps),
      await Attention.load(weights.at('self_attn'), config),
      await RmsNorm.load(weights.at('post_attention_layernorm'), config.hiddenSize, config.rmsNormEps),
      await Mlp.load(weights.at('mlp'), config),
    );
  }

  /** x [T, hidden] at positions start .. start+T-1 -> [T, hidden]. */
  forward(x: Tensor<'f32'>, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const h = this.selfAttn.forward(this.inputLayernorm.forward(x), x, cache, layer, start);
    return this.mlp.forward(this.postAttentionLayernorm.forward(h), h);
  }
}
