/**
 * ConvFFN, the channel mixer of every block: depthwise 7x7 (no bias) -> BatchNorm (the
 * checkpoint's running statistics, folded into the convolution's weights by the kernel) -> fc1
 * 1x1 C -> 4C -> GELU -> fc2 1x1 4C -> C. The block's layer-scaled residual add is fused into fc2.
 */
import { depthwiseConv2d, type BatchNorm, type FloatTensor } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { pointwiseConv } from './pointwise.js';
import type { MatrixWeights, TowerWeights } from './weights.js';

const BATCH_NORM_EPS = 1e-5;

export class ConvFFN {
  constructor(
    /** conv.conv: depthwise 7x7 [C, 1, 7, 7]. */
    readonly conv: FloatTensor,
    /** conv.bn */
    readonly bn: BatchNorm,
    readonly fc1: MatrixWeights,
    readonly fc2: MatrixWeights,
  ) {}

  static async load(weights: TowerWeights, channels: number, hidden: number): Promise<ConvFFN> {
    const bn = weights.at('conv').at('bn');
    return new ConvFFN(
      await weights.at('conv').at('conv').weight('weight', [channels, 1, 7, 7]),
      {
        runningMean: await bn.vector('running_mean', [channels]),
        runningVar: await bn.vector('running_var', [channels]),
        weight: await bn.vector('weight', [channels]),
        bias: await bn.vector('bias', [channels]),
        eps: BATCH_NORM_EPS,
      },
      await weights.pointwise('fc1', hidden, channels),
      await weights.pointwise('fc2', channels, hidden),
    );
  }

  /** x [H, W, C] -> residual + layerScale * ConvFFN(x), [H, W, C]. */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>, layerScale: Tensor<'f32'>): Tensor<'f32'> {
    const normed = depthwiseConv2d(x, this.conv, { padding: 3, batchNorm: this.bn });
    const hidden = pointwiseConv(normed, this.fc1, { activation: 'gelu' }); // [H, W, 4C]
    return pointwiseConv(hidden, this.fc2, { residual, scale: layerScale });
  }
}
