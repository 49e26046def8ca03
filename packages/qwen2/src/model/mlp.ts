/**
 * Qwen2MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases.
 *
 * gate_proj and up_proj multiply the same x: at load they are stacked into one [gate; up] weight,
 * and one kernel (linearSwiGlu) reads both and writes only the SwiGLU product, one dispatch instead
 * of three. Where the stack would not fit one buffer binding they stay two linears and a silu_mul.
 */
import { linearSwiGlu, siluMul, type Weight } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';
import { Linear } from './layers.js';
import type { Weights } from './weights.js';

type GateUp = { stacked: Weight } | { gateProj: Linear; upProj: Linear };

export class Mlp {
  constructor(
    readonly gateUp: GateUp,
    readonly downProj: Linear,
  ) {}

  static async load(weights: Weights, { hiddenSize, intermediateSize }: Qwen2Config): Promise<Mlp> {
    const gateProj = await Linear.load(weights.at('gate_proj'), hiddenSize, intermediateSize, { bias: false });
    const upProj = await Linear.load(weights.at('up_proj'), hiddenSize, intermediateSize, { bias: false });
    const stacked = weights.stack([gateProj.weight, upProj.weight]);
    const downProj = await Linear.load(weights.at('down_proj'), intermediateSize, hiddenSize, { bias: false });
    return new Mlp(stacked ? { stacked } : { gateProj, upProj }, downProj);
  }

  /** x [T, hidden] (normed) -> residual + MLP output [T, hidden]. */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>): Tensor<'f32'> {
    const g = this.gateUp;
    const hidden = 'stacked' in g ? linearSwiGlu(x, g.stacked) : siluMul(g.gateProj.forward(x), g.upProj.forward(x)); // [T, intermediate]
    return this.downProj.forward(hidden, { residual });
  }
}
