/**
 * Qwen2Attention: grouped-query causal self-attention with RoPE, over the KV cache. q_proj, k_proj
 * and v_proj multiply the same x: `fuseForInference` (fusions.ts) stacks them into `qkv_proj`, and
 * then one GEMM makes q, k and v and one kernel rotates q and k and writes k and v into the cache
 * (ropeQkvIntoCache). Unfused (the stack would not fit one buffer binding), they run apart.
 */
import {
  appendKv,
  causalAttention,
  rmsNorm,
  rope,
  ropeQkvIntoCache,
  type InputNorm,
  type KvCache,
} from '@fastvlm/kernels';
import { Linear, Module } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';

export class Attention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  /** [q_proj; k_proj; v_proj] as one Linear, set by fuseForInference. */
  qkv_proj: Linear | undefined;

  constructor(private readonly config: Qwen2Config) {
    super();
    const { hiddenSize, numAttentionHeads, numKeyValueHeads, headDim } = config;
    this.q_proj = new Linear(hiddenSize, numAttentionHeads * headDim, { bias: true });
    this.k_proj = new Linear(hiddenSize, numKeyValueHeads * headDim, { bias: true });
    this.v_proj = new Linear(hiddenSize, numKeyValueHeads * headDim, { bias: true });
    this.o_proj = new Linear(numAttentionHeads * headDim, hiddenSize, { bias: false });
  }

  /**
   * x [T, hidden] (the residual stream) of positions start .. start+T-1, normed by `norm` (the
   * layer's input_layernorm, applied by the q/k/v projection) -> x + attention output [T, hidden].
   * Writes this layer's keys and values for those positions into the cache.
   */
  forward(x: Tensor<'f32'>, norm: InputNorm, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const T = x.shape[0];
    const q = this.queries(x, norm, cache, layer, start); // [T, heads, hd], k and v in the cache
    const attended = causalAttention(q, cache, layer, { start, kvLength: start + T }); // [T, heads * hd]
    return this.o_proj.forward(attended, { residual: x });
  }

  /** q after RoPE; the keys (after RoPE) and values of the same positions go into the cache. */
  private queries(x: Tensor<'f32'>, norm: InputNorm, cache: KvCache, layer: number, start: number): Tensor<'f32'> {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim, ropeTheta } = this.config;
    if (this.qkv_proj) {
      const qkv = this.qkv_proj.forward(x, { inputNorm: norm });
      return ropeQkvIntoCache(qkv, heads, cache, layer, start, ropeTheta);
    }
    const normed = rmsNorm(x, norm.weight, norm.eps); // once for the three projections
    const T = x.shape[0];
    const q = rope(this.q_proj.forward(normed).reshape([T, heads, headDim]), start, ropeTheta);
    const k = rope(this.k_proj.forward(normed).reshape([T, kvHeads, headDim]), start, ropeTheta);
    appendKv(cache, layer, k, this.v_proj.forward(normed).reshape([T, kvHeads, headDim]), start);
    return q;
  }
}
