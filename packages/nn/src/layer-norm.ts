/**
 * LayerNorm over the last dim with gain and bias [C]. On a channels-last map [H, W, C] this is
 * FastViT's LayerNormChannel: each pixel normalised over its channels.
 */
import { layerNorm } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class LayerNorm extends Module {
  readonly weight: Parameter<'vector'>;
  readonly bias: Parameter<'vector'>;

  constructor(
    size: number,
    readonly eps: number,
  ) {
    super();
    this.weight = Parameter.vector([size]);
    this.bias = Parameter.vector([size]);
  }

  /** x [..., C] -> [..., C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return layerNorm(x, this.weight.value, this.bias.value, this.eps);
  }
}
