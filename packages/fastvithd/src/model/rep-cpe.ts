/**
 * RepCPE (`network.6/9`), the conditional positional encoding before each attention stage: a
 * depthwise 7x7 with bias whose identity branch is already folded in (output = conv(x)).
 */
import { depthwiseConv2d } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { ConvWeights, TowerWeights } from './weights.js';

export class RepCPE {
  constructor(
    /** reparam_conv [C, 1, 7, 7] with bias. */
    readonly conv: ConvWeights,
  ) {}

  static async load(weights: TowerWeights, channels: number): Promise<RepCPE> {
    return new RepCPE(await weights.conv('reparam_conv', [channels, 1, 7, 7]));
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return depthwiseConv2d(x, this.conv.weight, { bias: this.conv.bias, padding: 3 });
  }
}
