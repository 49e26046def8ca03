/**
 * BatchNorm2d in inference form, as PyTorch stores it: running statistics and affine parameters [C],
 * and the training counter `num_batches_tracked` (I64, unused).
 */
import type { BatchNorm } from '@fastvlm/kernels';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class BatchNorm2d extends Module {
  readonly weight: Parameter<'vector'>;
  readonly bias: Parameter<'vector'>;
  readonly running_mean: Parameter<'vector'>;
  readonly running_var: Parameter<'vector'>;
  readonly num_batches_tracked = Parameter.unused([], { integer: true });

  constructor(
    channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = Parameter.vector([channels]);
    this.bias = Parameter.vector([channels]);
    this.running_mean = Parameter.vector([channels]);
    this.running_var = Parameter.vector([channels]);
  }

  /** y = (x - running_mean) * weight / sqrt(running_var + eps) + bias, as the conv kernels fold it. */
  get values(): BatchNorm {
    return {
      runningMean: this.running_mean.value,
      runningVar: this.running_var.value,
      weight: this.weight.value,
      bias: this.bias.value,
      eps: this.eps,
    };
  }
}
