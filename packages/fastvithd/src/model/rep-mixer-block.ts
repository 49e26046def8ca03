/**
 * RepMixerBlock (stages 0-2): the reparameterized RepMixer, a depthwise 3x3 with bias (its
 * identity and inner layer scale are folded into the kernel), then x + layer_scale * ConvFFN(x).
 */
import { Conv2d, Module, Parameter } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import { ConvFFN } from './conv-ffn.js';

export class RepMixer extends Module {
  readonly reparam_conv: Conv2d;

  constructor(channels: number) {
    super();
    this.reparam_conv = new Conv2d(channels, channels, 3, { padding: 1, groups: channels, identityFolded: true });
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return this.reparam_conv.forward(x);
  }
}

export class RepMixerBlock extends Module {
  readonly token_mixer: RepMixer;
  readonly convffn: ConvFFN;
  /** [C, 1, 1] in the checkpoint, [C] on the GPU. */
  readonly layer_scale: Parameter<'vector'>;

  constructor(channels: number, mlpRatio: number) {
    super();
    this.token_mixer = new RepMixer(channels);
    this.convffn = new ConvFFN(channels, channels * mlpRatio);
    this.layer_scale = Parameter.vector([channels, 1, 1]);
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const mixed = this.token_mixer.forward(x);
    return this.convffn.forward(mixed, mixed, this.layer_scale.value);
  }
}
