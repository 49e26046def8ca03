/** RMSNorm (Qwen2RMSNorm): x · rsqrt(mean(x²) + eps) · weight over the last dim, computed in f32. */
import { rmsNorm, type InputNorm } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class RmsNorm extends Module {
  readonly weight: Parameter<'vector'>;

  constructor(
    size: number,
    readonly eps: number,
  ) {
    super();
    this.weight = Parameter.vector([size]);
  }

  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return rmsNorm(x, this.weight.value, this.eps);
  }

  /** This norm as a linear's `inputNorm`: applied to x by the linear that follows it (see `linear`). */
  get asInputNorm(): InputNorm {
    return { weight: this.weight.value, eps: this.eps };
  }
}
