/**
 * Qwen2Attention: grouped-query causal self-attention with RoPE, over the KV cache.
 *
 * q_proj, k_proj and v_proj multiply the same x: at load they are stacked into one weight (and
 * bias), so one GEMM makes q, k and v, and one kernel rotates q and k and writes k and v into the
 * cache (ropeQkvIntoCache). Where the stack would not fit one buffer binding they stay separate.
 */
import { appendKv, causalAttention, rope, ropeQkvIntoCache, type KvCache } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';
import { Linear } from './layers.js';
import type { Weights } from './weights.js';

type Projections = { qkvProj: Linear } | { qProj: Linear; kProj: Linear; vProj: Linear };

export class Attention {
  constructor(
    readonly projections: Projections,
    readonly oProj: Linear,
    private readonly config: Qwen2Config,
  ) {}

  static async load(weights: Weights, config: Qwen2Config): Promise<Attention> {
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim } = config;
    const qProj = await Linear.load(weights.at('q_proj'), hiddenSize, numAttentionHeads * headDim, { bias: true });
    const kProj = await Linear.load(weights.at('k_proj'), hiddenSize, numKeyValueHeads * headDim, { bias: true });
    const vProj = await Linear.load(weights.at('v_proj'), hiddenSize, numKeyValueHeads * headDim, { bias: true });
    const oProj = await Linear.load(weights.at('o_proj'), numAttentionHeads * headDim, hiddenSize, { bias: false });
    const parts = [qProj, kProj, vProj];
    const weight = weights.stack(parts.map((p) => p.weight));
    if (!weight) return new Attention({ qProj, kProj, vProj }, oProj, config);
    const bias = weights.stack(parts.map((p) => p.bias!)) as Tensor<'f32'> | undefined; // f32 [out], K times smaller than the weight
    if (!bias) throw new Error('unreachable: the stacked biases fit where the stacked weights did');
    return new Attention({ qkvProj: new Linear(weight, bias) }, oProj, config);
  }

  /**
   * x [T, hidden] (normed) of positions start .. start+T-1 -> residual + attention output [T, hidden].
   * Writes this layer's keys and values for those positions into the cache.
   */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const T = x.shape[0];
    const q = this.queries(x, cache, layer, start); // [T, heads, hd], k and v in the cache
    const attended = causalAttention(q, cache, layer, { start, kvLength: start + T }); // [T, heads * hd]
    return this.oProj.forward(attended, { residual });
  }

  /** q after RoPE; the keys (after RoPE) and values of the same positions go into the cache. */
  private queries(x: Tensor<'f32'>, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim, ropeTheta } = this.config;
    const p = this.projections;
    if ('qkvProj' in p) return ropeQkvIntoCache(p.qkvProj.forward(x), heads, cache, layer, start, ropeTheta);
    const T = x.shape[0];
    const q = rope(p.qProj.forward(x).reshape([T, heads, headDim]), start, ropeTheta);
    const k = rope(p.kProj.forward(x).reshape([T, kvHeads, headDim]), start, ropeTheta);
    appendKv(cache, layer, k, p.vProj.forward(x).reshape([T, kvHeads, headDim]), start);
    return q;
  }
}
