/**
 * Qwen2MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases. gate_proj and up_proj multiply
 * the same x: `fuseForInference` (fusions.ts) stacks them into `gate_up_proj`, which one kernel
 * (linearSwiGlu) reads to write only the SwiGLU product, one dispatch instead of three. Unfused
 * (the stack would not fit one buffer binding), they are two linears and a silu_mul.
 */
import { linearSwiGlu, rmsNorm, siluMul, type InputNorm } from '@fastvlm/kernels';
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

  /**
   * x [T, hidden] (the residual stream), normed by `norm` (the layer's post_attention_layernorm,
   * applied by the gate/up projection) -> x + MLP output [T, hidden].
   */
  forward(x: Tensor<'f32'>, norm: InputNorm): Tensor<'f32'> {
    let hidden: Tensor<'f32'>; // [T, intermediate]
    if (this.gate_up_proj) hidden = linearSwiGlu(x, this.gate_up_proj.weight.value, { inputNorm: norm });
    else {
      const normed = rmsNorm(x, norm.weight, norm.eps); // once for the two projections
      hidden = siluMul(this.gate_proj.forward(normed), this.up_proj.forward(normed));
    }
    return this.down_proj.forward(hidden, { residual: x });
  }
}
