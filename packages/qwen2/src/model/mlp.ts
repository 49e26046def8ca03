/** Qwen2MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases. */
import { siluMul } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';
import { Linear } from './layers.js';
import type { Weights } from './weights.js';

export class Mlp {
  constructor(
    readonly gateProj: Linear,
    readonly upProj: Linear,
    readonly downProj: Linear,
  ) {}

  static async load(weights: Weights, { hiddenSize, intermediateSize }: Qwen2Config): Promise<Mlp> {
    return new Mlp(
      await Linear.load(weights.at('gate_proj'), hiddenSize, intermediateSize, { bias: false }),
      await Linear.load(weights.at('up_proj'), hiddenSize, intermediateSize, { bias: false }),
      await Linear.load(weights.at('down_proj'), intermediateSize, hiddenSize, { bias: false }),
    );
  }

  /** x [T, hidden] (normed) -> residual + MLP output [T, hidden]. */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>): Tensor<'f32'> {
    const hidden = siluMul(this.gateProj.forward(x), this.upProj.forward(x)); // [T, intermediate]
    return this.downProj.forward(hidden, { residual });
  }
}
