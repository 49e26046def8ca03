/** Qwen2Attention: grouped-query causal self-attention with RoPE, over the KV cache. */
import { appendKv, causalAttention, rope, type KvCache } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';
import { Linear } from './layers.js';
import type { Weights } from './weights.js';

export class Attention {
  constructor(
    readonly qProj: Linear,
    readonly kProj: Linear,
    readonly vProj: Linear,
    readonly oProj: Linear,
    private readonly config: Qwen2Config,
  ) {}

  static async load(weights: Weights, config: Qwen2Config): Promise<Attention> {
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim } = config;
    return new Attention(
      await Linear.load(weights.at('q_proj'), hiddenSize, numAttentionHeads * headDim, { bias: true }),
      await Linear.load(weights.at('k_proj'), hiddenSize, numKeyValueHeads * headDim, { bias: true }),
      await Linear.load(weights.at('v_proj'), hiddenSize, numKeyValueHeads * headDim, { bias: true }),
      await Linear.load(weights.at('o_proj'), numAttentionHeads * headDim, hiddenSize, { bias: false }),
      config,
    );
  }

  /**
   * x [T, hidden] (normed) of positions start .. start+T-1 -> residual + attention output [T, hidden].
   * Writes this layer's keys and values for those positions into the cache.
   */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim, ropeTheta } = this.config;
    const T = x.shape[0];
    const q = rope(this.qProj.forward(x).reshape([T, heads, headDim]), start, ropeTheta); // [T, heads, hd]
    const k = rope(this.kProj.forward(x).reshape([T, kvHeads, headDim]), start, ropeTheta); // [T, kvHeads, hd]
    const v = this.vProj.forward(x).reshape([T, kvHeads, headDim]);
    appendKv(cache, layer, k, v, start);
    const attended = causalAttention(q, cache, layer, { start, kvLength: start + T }); // [T, heads * hd]
    return this.oProj.forward(attended, { residual });
  }
}
