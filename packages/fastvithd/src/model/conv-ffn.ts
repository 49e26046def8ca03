/**
 * ConvFFN, the channel mixer of every block: depthwise 7x7 (no bias) -> BatchNorm (the checkpoint's
 * running statistics) -> fc1 1x1 C -> 4C -> GELU -> fc2 1x1 4C -> C. The block's layer-scaled
 * residual add is fused into fc2.
 */
import { DepthwiseConvBatchNorm, Module, PointwiseConv2d } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';

export class ConvFFN extends Module {
  /** conv.conv [C, 1, 7, 7], conv.bn */
  readonly conv: DepthwiseConvBatchNorm;
  readonly fc1: PointwiseConv2d;
  readonly fc2: PointwiseConv2d;

  constructor(channels: number, hidden: number) {
    super();
    this.conv = new DepthwiseConvBatchNorm(channels, 7);
    this.fc1 = new PointwiseConv2d(channels, hidden);
    this.fc2 = new PointwiseConv2d(hidden, channels);
  }

  /** x [H, W, C] -> residual + layerScale * ConvFFN(x), [H, W, C]. */
  forward(x: Tensor<'f32'>, residual: Tensor<'f32'>, layerScale: Tensor<'f32'>): Tensor<'f32'> {
    const normed = this.conv.forward(x);
    const hidden = this.fc1.forward(normed, { activation: 'gelu' }); // [H, W, 4C]
    return this.fc2.forward(hidden, { residual, scale: layerScale });
  }
}
