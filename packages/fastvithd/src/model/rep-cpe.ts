/**
 * RepCPE (`network.6/9`), the conditional positional encoding before each attention stage: a
 * depthwise 7x7 with bias whose identity branch is folded in (output = conv(x)).
 */
import { Conv2d, Module } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';

export class RepCPE extends Module {
  readonly reparam_conv: Conv2d;

  constructor(channels: number) {
    super();
    this.reparam_conv = new Conv2d(channels, channels, 7, { padding: 3, groups: channels, identityFolded: true });
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return this.reparam_conv.forward(x);
  }
}
