/**
 * PatchEmbed between stages (`network.1/3/5/8`): halves the map and doubles the channels.
 * `proj.0.lkb_reparam` is the folded large-kernel conv, 7x7 stride 2 grouped by input channel
 * (channel multiplier 2: output o reads input o / 2), GELU; `proj.1.reparam_conv` a 1x1, GELU.
 */
import { conv2d } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { pointwiseConv } from './pointwise.js';
import type { ConvWeights, MatrixWeights, TowerWeights } from './weights.js';

export class PatchEmbedDownsample {
  constructor(
    /** proj.0.lkb_reparam [2C, 1, 7, 7] */
    readonly largeKernel: ConvWeights,
    /** proj.1.reparam_conv [2C, 2C, 1, 1] */
    readonly pointwise: MatrixWeights,
  ) {}

  static async load(weights: TowerWeights, outChannels: number): Promise<PatchEmbedDownsample> {
    const proj = weights.at('proj');
    return new PatchEmbedDownsample(
      await proj.at(0).conv('lkb_reparam', [outChannels, 1, 7, 7]),
      await proj.at(1).pointwise('reparam_conv', outChannels, outChannels),
    );
  }

  /** x [H, W, C] -> [H/2, W/2, 2C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const groups = x.shape[2];
    const down = conv2d(x, this.largeKernel.weight, {
      bias: this.largeKernel.bias,
      stride: 2,
      padding: 3,
      groups,
      activation: 'gelu',
    });
    return pointwiseConv(down, this.pointwise, { activation: 'gelu' });
  }
}
