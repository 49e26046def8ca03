/**
 * RepMixerBlock (stages 0-2): the folded RepMixer, a depthwise 3x3 with bias (its identity and
 * inner layer scale are inside the kernel), then x + layer_scale * ConvFFN(x).
 */
import { depthwiseConv2d } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { ConvFFN } from './conv-ffn.js';
import type { ConvWeights, TowerWeights } from './weights.js';

export class RepMixerBlock {
  constructor(
    /** token_mixer.reparam_conv: depthwise 3x3 [C, 1, 3, 3] with bias. */
    readonly tokenMixer: ConvWeights,
    readonly convffn: ConvFFN,
    /** [C] */
    readonly layerScale: Tensor<'f32'>,
  ) {}

  static async load(weights: TowerWeights, channels: number, mlpRatio: number): Promise<RepMixerBlock> {
    return new RepMixerBlock(
      await weights.at('token_mixer').conv('reparam_conv', [channels, 1, 3, 3]),
      await ConvFFN.load(weights.at('convffn'), channels, channels * mlpRatio),
      await weights.vector('layer_scale', [channels, 1, 1]),
    );
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const mixed = depthwiseConv2d(x, this.tokenMixer.weight, { bias: this.tokenMixer.bias, padding: 1 });
    return this.convffn.forward(mixed, mixed, this.layerScale);
  }
}
