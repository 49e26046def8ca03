/**
 * Convolutions of channels-last maps [H, W, C], weights in PyTorch's layout. `Conv2d` holds its
 * kernel [out, in/groups, kh, kw] in the model's float dtype; `PointwiseConv2d`, a 1x1 convolution,
 * is a linear over the pixels, so its weight is held as the matrix [out, in] (int8 included).
 */
import { conv2d, depthwiseConv2d, linear, type Activation } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Module } from './module.js';
import { Parameter, type ParameterOptions } from './parameter.js';

export interface Conv2dOptions {
  stride?: 1 | 2;
  padding?: number;
  /** Groups of input channels (default 1); `groups` = in = out is a depthwise convolution. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** The identity branch of a reparameterized block is folded into the kernel (see ParameterOptions). */
  identityFolded?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Parameter<'kernel'>;
  readonly bias: Parameter<'vector'> | undefined;
  readonly stride: 1 | 2;
  readonly padding: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number,
    options: Conv2dOptions = {},
  ) {
    super();
    const { stride = 1, padding = 0, groups = 1, bias = true } = options;
    const kernelOptions: ParameterOptions = options.identityFolded ? { identityFolded: true } : {};
    this.weight = Parameter.kernel([outChannels, inChannels / groups, kernelSize, kernelSize], kernelOptions);
    this.bias = bias ? Parameter.vector([outChannels]) : undefined;
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;
  }

  get depthwise(): boolean {
    return this.groups === this.inChannels && this.outChannels === this.inChannels;
  }

  /** x [H, W, in] -> [H', W', out], then `activation`. */
  forward(x: Tensor<'f32'>, { activation }: { activation?: Activation } = {}): Tensor<'f32'> {
    const { stride, padding } = this;
    const bias = this.bias?.value;
    if (this.depthwise) return depthwiseConv2d(x, this.weight.value, { bias, stride, padding, activation });
    return conv2d(x, this.weight.value, { bias, stride, padding, groups: this.groups, activation });
  }
}

export interface PointwiseOptions {
  activation?: Activation;
  /** [H, W, out]: y = residual + scale * act(conv(x)). */
  residual?: Tensor<'f32'>;
  /** [out]: the layer scale of the residual branch. */
  scale?: Tensor<'f32'>;
}

export class PointwiseConv2d extends Module {
  /** The checkpoint's [out, in, 1, 1], held as [out, in]. */
  readonly weight: Parameter<'matrix'>;
  readonly bias: Parameter<'vector'>;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.weight = Parameter.matrix([outChannels, inChannels, 1, 1]);
    this.bias = Parameter.vector([outChannels]);
  }

  /** x [H, W, in] viewed as [H*W, in] (no copy) times weightᵀ -> [H, W, out], with the linear's fused epilogue. */
  forward(x: Tensor<'f32'>, options: PointwiseOptions = {}): Tensor<'f32'> {
    const [H, W, inC] = x.shape;
    const outC = this.weight.shape[0];
    return x.device.scope(() => {
      const residual = options.residual?.reshape([H * W, outC]);
      const y = linear(x.reshape([H * W, inC]), this.weight.value, {
        bias: this.bias.value,
        activation: options.activation,
        residual,
        scale: options.scale,
      }); // [H*W, out]
      return y.reshape([H, W, outC]);
    });
  }
}
