/** nn.Linear: `weight` [out, in] in the model's weight dtype, optional f32 `bias` [out]. */
import { linear, type LinearOptions } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class Linear extends Module {
  readonly weight: Parameter<'matrix'>;
  readonly bias: Parameter<'vector'> | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    {
      bias,
      vocabulary = false,
    }: { bias: boolean; /** An LM head: see ParameterOptions.vocabulary. */ vocabulary?: boolean },
  ) {
    super();
    this.weight = Parameter.matrix([outFeatures, inFeatures], { vocabulary });
    this.bias = bias ? Parameter.vector([outFeatures]) : undefined;
  }

  /** x [..., in] -> [..., out]; the activation and a (layer-scaled) residual are applied in the same kernel. */
  forward(x: Tensor<'f32'>, options: Omit<LinearOptions, 'bias'> = {}): Tensor<'f32'> {
    return linear(x, this.weight.value, { ...options, bias: this.bias?.value });
  }
}
