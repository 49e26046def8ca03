/**
 * A depthwise convolution followed by a BatchNorm2d, as PyTorch's `nn.Sequential(conv, bn)` names
 * them (`conv`, `bn`). In inference form the norm is an affine map per channel, so it can be folded
 * into the convolution's kernel and bias: the conv kernels do that as they pack the weights.
 */
import { depthwiseConv2d, type Activation } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { BatchNorm2d } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Module } from './module.js';

export class DepthwiseConvBatchNorm extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

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

  /** x [H, W, C] -> bn(conv(x)) [H, W, C], then `activation`. */
  forward(x: Tensor<'f32'>, { activation }: { activation?: Activation } = {}): Tensor<'f32'> {
    return depthwiseConv2d(x, this.conv.weight.value, {
      padding: this.conv.padding,
      batchNorm: this.bn.values,
      activation,
    });
  }
}
