/**
 * A depthwise convolution followed by a BatchNorm2d, as PyTorch's `nn.Sequential(conv, bn)` names
 * them (`conv`, `bn`). In inference form the norm is an affine map per channel: `foldBatchNorm()`
 * (an inference-time fusion, run once after loading) folds it into one convolution with a bias,
 * `folded`; until then the conv kernel folds it at each call, to the same bits.
 */
import { depthwiseConv2d, foldBatchNormIntoConv, type Activation } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { BatchNorm2d } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Module } from './module.js';

export class DepthwiseConvBatchNorm extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  /** conv then bn as one convolution, set by foldBatchNorm(). */
  folded: Conv2d | undefined;

  /** A depthwise k x k convolution without bias over `channels`, padded to keep the map's size, then BatchNorm2d. */
  constructor(channels: number, kernelSize: number, eps = 1e-5) {
    super();
    this.conv = new Conv2d(channels, channels, kernelSize, {
      padding: kernelSize >> 1,
      groups: channels,
      bias: false,
    });
    this.bn = new BatchNorm2d(channels, eps);
  }

  /** Replaces conv and bn by `folded` (f32 kernel and bias); their tensors are freed. */
  foldBatchNorm(): void {
    if (this.folded) return;
    const { inChannels, outChannels, padding, groups } = this.conv;
    const folded = new Conv2d(inChannels, outChannels, this.conv.weight.shape[2], { padding, groups, bias: true });
    const { weight, bias } = foldBatchNormIntoConv(this.conv.weight.value, this.conv.bias?.value, this.bn.values);
    folded.weight.set(weight);
    folded.bias!.set(bias);
    this.conv.dispose();
    this.bn.dispose();
    this.folded = folded;
  }

  /** x [H, W, C] -> bn(conv(x)) [H, W, C], then `activation`. */
  forward(x: Tensor<'f32'>, { activation }: { activation?: Activation } = {}): Tensor<'f32'> {
    if (this.folded) return this.folded.forward(x, { activation });
    return depthwiseConv2d(x, this.conv.weight.value, {
      padding: this.conv.padding,
      batchNorm: this.bn.values,
      activation,
    });
  }
}
