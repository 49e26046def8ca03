/**
 * conv_exp, the tower's last layer: conv 3x3 grouped by input channel (channel multiplier 2,
 * 1536 -> 3072), squeeze-excite (mean over the map -> se.reduce 1x1 -> ReLU -> se.expand 1x1 ->
 * sigmoid -> channel gate), then GELU. Its output is the image features.
 */
import { conv2d, squeezeExcite, type SqueezeExciteWeights } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { ConvWeights, TowerWeights } from './weights.js';

export class ConvExp {
  constructor(
    /** reparam_conv [E, 1, 3, 3], E = 2C. */
    readonly conv: ConvWeights,
    /** se.reduce [R, E, 1, 1], se.expand [E, R, 1, 1]. */
    readonly se: SqueezeExciteWeights,
  ) {}

  static async load(weights: TowerWeights, embedDim: number, seWidth: number): Promise<ConvExp> {
    const se = weights.at('se');
    return new ConvExp(await weights.conv('reparam_conv', [embedDim, 1, 3, 3]), {
      reduce: await se.conv('reduce', [seWidth, embedDim, 1, 1]),
      expand: await se.conv('expand', [embedDim, seWidth, 1, 1]),
    });
  }

  /** x [h, w, C] -> [h, w, E]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const expanded = conv2d(x, this.conv.weight, { bias: this.conv.bias, padding: 1, groups: x.shape[2] });
    return squeezeExcite(expanded, this.se, 'gelu');
  }
}
