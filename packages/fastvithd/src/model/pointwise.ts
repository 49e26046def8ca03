/**
 * A 1x1 convolution of a channels-last map is a linear over its pixels: [H, W, Cin] viewed as
 * [H*W, Cin] (no copy) times weight [Cout, Cin], viewed back as [H, W, Cout]. The linear's fused
 * epilogue gives the activation and the layer-scaled residual of the blocks.
 */
import { linear, type Activation } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { MatrixWeights } from './weights.js';

export interface PointwiseOptions {
  activation?: Activation;
  /** [H, W, Cout]: y = residual + scale * act(conv(x)). */
  residual?: Tensor<'f32'>;
  /** [Cout]: the layer scale of the residual branch. */
  scale?: Tensor<'f32'>;
}

/** x [H, W, Cin] -> [H, W, Cout]. */
export function pointwiseConv(x: Tensor<'f32'>, conv: MatrixWeights, options: PointwiseOptions = {}): Tensor<'f32'> {
  const [H, W, inC] = x.shape;
  const outC = conv.weight.shape[0];
  return x.device.scope(() => {
    const residual = options.residual?.reshape([H * W, outC]);
    const y = linear(x.reshape([H * W, inC]), conv.weight, {
      bias: conv.bias,
      activation: options.activation,
      residual,
      scale: options.scale,
    }); // [H*W, Cout]
    return y.reshape([H, W, outC]);
  });
}
