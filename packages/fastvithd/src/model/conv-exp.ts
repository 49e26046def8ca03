/**
 * conv_exp, the tower's last layer (a MobileOneBlock with squeeze-excite): conv 3x3 grouped by input
 * channel (channel multiplier 2, 1536 -> 3072), squeeze-excite (mean over the map -> se.reduce 1x1
 * -> ReLU -> se.expand 1x1 -> sigmoid -> channel gate), then GELU. Its output is the image features.
 */
import { squeezeExcite } from '@fastvlm/kernels';
import { Conv2d, Module } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';

export class SEBlock extends Module {
  readonly reduce: Conv2d;
  readonly expand: Conv2d;

  constructor(channels: number, reduced: number) {
    super();
    this.reduce = new Conv2d(channels, reduced, 1);
    this.expand = new Conv2d(reduced, channels, 1);
  }
}

export class ConvExp extends Module {
  readonly reparam_conv: Conv2d;
  readonly se: SEBlock;

  constructor(inChannels: number, embedDim: number, seWidth: number) {
    super();
    this.reparam_conv = new Conv2d(inChannels, embedDim, 3, { padding: 1, groups: inChannels });
    this.se = new SEBlock(embedDim, seWidth);
  }

  /** x [h, w, C] -> [h, w, E]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const expanded = this.reparam_conv.forward(x);
    const { reduce, expand } = this.se;
    return squeezeExcite(
      expanded,
      {
        reduce: { weight: reduce.weight.value, bias: reduce.bias!.value },
        expand: { weight: expand.weight.value, bias: expand.bias!.value },
      },
      'gelu',
    );
  }
}
