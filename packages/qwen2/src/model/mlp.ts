/**
 * Qwen2MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases. gate_proj and up_proj multiply
 * the same x: `fuseForInference` (fusions.ts) stacks them into `gate_up_proj`, which one kernel
 * (linearSwiGlu) reads to write only the SwiGLU product, one dispatch instead of three. Unfused
 * (the stack would not fit one buffer binding), they are two linears and a silu_mul.
 */
import { linearSwiGlu, siluMul } from '@fastvlm/kernels';
import { Linear, Module } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';

export class Mlp extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  /** [gate_proj; up_proj] as one Linear, set by fuseForInference. */
  gate_up_proj: Linear | undefined;

  constructor({ hiddenSize, intermediateSize }: Qwen2Config) {
    super();
    this.gate_proj = new Linear(hiddenSize, intermediateSize, { bias: false });
    this.up_proj = new Linear(hiddenSize, intermediateSize, { bias: false });
    this.down_proj = new Linear(intermediateSize, hiddenSize, { bias: false });
  }

  /** x [T, hidden] (normed) -> residual + MLP output [T, hidden]. */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>): Tensor<'f32'> {
    const hidden = this.gate_up_proj
      ? linearSwiGlu(x, this.gate_up_proj.weight.value)
      : siluMul(this.gate_proj.forward(x), this.up_proj.forward(x)); // [T, intermediate]
    return this.down_proj.forward(hidden, { residual });
  }
}
