/**
 * PatchEmbed between stages (`network.1/3/5/8`): halves the map and doubles the channels.
 * `proj.0` is a ReparamLargeKernelConv (its 7x7 and 3x3 branches folded into `lkb_reparam`), 7x7
 * stride 2 grouped by input channel (channel multiplier 2: output o reads input o / 2), GELU;
 * `proj.1` a MobileOneBlock with a 1x1 convolution, GELU.
 */
import { Conv2d, Module, PointwiseConv2d } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import { MobileOneBlock } from './mobile-one-block.js';

export class ReparamLargeKernelConv extends Module {
  readonly lkb_reparam: Conv2d;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.lkb_reparam = new Conv2d(inChannels, outChannels, 7, { stride: 2, padding: 3, groups: inChannels });
  }

  /** x [H, W, C] -> [H/2, W/2, 2C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return this.lkb_reparam.forward(x, { activation: 'gelu' });
  }
}

export class PatchEmbed extends Module {
  readonly proj: readonly [ReparamLargeKernelConv, MobileOneBlock];

  constructor(inChannels: number, outChannels: number) {
    super();
    this.proj = [
      new ReparamLargeKernelConv(inChannels, outChannels),
      new MobileOneBlock(new PointwiseConv2d(outChannels, outChannels)),
    ];
  }

  /** x [H, W, C] -> [H/2, W/2, 2C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return this.proj[1].forward(this.proj[0].forward(x));
  }
}
