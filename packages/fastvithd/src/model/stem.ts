/**
 * `patch_embed`: three folded MobileOne blocks, each a conv with bias then GELU. They take the
 * image to a quarter of its size: [N, N, 3] -> [N/2, N/2, 96] -> [N/4, N/4, 96].
 */
import { conv2d, depthwiseConv2d } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { pointwiseConv } from './pointwise.js';
import type { ConvWeights, MatrixWeights, TowerWeights } from './weights.js';

export class Stem {
  constructor(
    /** patch_embed.0: conv 3x3 stride 2, 3 -> C. */
    readonly conv: ConvWeights,
    /** patch_embed.1: depthwise 3x3 stride 2. */
    readonly depthwise: ConvWeights,
    /** patch_embed.2: conv 1x1, C -> C. */
    readonly pointwise: MatrixWeights,
  ) {}

  static async load(weights: TowerWeights, channels: number): Promise<Stem> {
    return new Stem(
      await weights.at(0).conv('reparam_conv', [channels, 3, 3, 3]),
      await weights.at(1).conv('reparam_conv', [channels, 1, 3, 3]),
      await weights.at(2).pointwise('reparam_conv', channels, channels),
    );
  }

  /** pixels [N, N, 3] -> [N/4, N/4, C]. */
  forward(pixels: Tensor<'f32'>): Tensor<'f32'> {
    const half = conv2d(pixels, this.conv.weight, { bias: this.conv.bias, stride: 2, padding: 1, activation: 'gelu' }); // [N/2, N/2, C]
    const quarter = depthwiseConv2d(half, this.depthwise.weight, {
      bias: this.depthwise.bias,
      stride: 2,
      padding: 1,
      activation: 'gelu',
    }); // [N/4, N/4, C]
    return pointwiseConv(quarter, this.pointwise, { activation: 'gelu' });
  }
}
