/**
 * MobileOneBlock in its reparameterized form: the training-time branches (k x k conv+BN, 1x1
 * conv+BN, identity BN) folded into one `reparam_conv`, then GELU. Three of them make the stem.
 */
import { Module, type Conv2d, type PointwiseConv2d } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';

export class MobileOneBlock extends Module {
  constructor(readonly reparam_conv: Conv2d | PointwiseConv2d) {
    super();
  }

  /** x [H, W, Cin] -> [H', W', Cout]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return this.reparam_conv.forward(x, { activation: 'gelu' });
  }
}
