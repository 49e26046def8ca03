/**
 * AttentionBlock (stages 3-4): x + layer_scale_1 * MHSA(LayerNormChannel(x)), then
 * x + layer_scale_2 * ConvFFN(x). MHSA treats the H*W pixels as tokens (row-major), heads 32 wide:
 * qkv Linear C -> 3C without bias, softmax(q k^T / sqrt(32)) v, proj Linear C -> C with bias.
 */
import { visionAttention } from '@fastvlm/kernels';
import { LayerNorm, Linear, Module, Parameter } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';
import { ConvFFN } from './conv-ffn.js';

const LAYER_NORM_EPS = 1e-5;

/** The block's token mixer (Apple's `Attention`): multi-head self-attention over the pixels. */
export class MultiHeadSelfAttention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;

  constructor(
    channels: number,
    readonly heads: number,
  ) {
    super();
    this.qkv = new Linear(channels, 3 * channels, { bias: false });
    this.proj = new Linear(channels, channels, { bias: true });
  }

  /** tokens [N, C] (normed) -> residual + scale * MHSA(tokens), [N, C]. */
  forward(tokens: Tensor<'f32'>, residual: Tensor<'f32'>, scale: Tensor<'f32'>): Tensor<'f32'> {
    const qkv = this.qkv.forward(tokens); // [N, 3C]
    const attended = visionAttention(qkv, this.heads); // [N, C]
    return this.proj.forward(attended, { residual, scale });
  }
}

export class AttentionBlock extends Module {
  /** LayerNormChannel: over C, per pixel. */
  readonly norm: LayerNorm;
  readonly token_mixer: MultiHeadSelfAttention;
  readonly convffn: ConvFFN;
  /** [C, 1, 1] in the checkpoint, [C] on the GPU. */
  readonly layer_scale_1: Parameter<'vector'>;
  readonly layer_scale_2: Parameter<'vector'>;

  constructor(channels: number, mlpRatio: number, headDim: number) {
    super();
    this.norm = new LayerNorm(channels, LAYER_NORM_EPS);
    this.token_mixer = new MultiHeadSelfAttention(channels, channels / headDim);
    this.convffn = new ConvFFN(channels, channels * mlpRatio);
    this.layer_scale_1 = Parameter.vector([channels, 1, 1]);
    this.layer_scale_2 = Parameter.vector([channels, 1, 1]);
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const [H, W, C] = x.shape;
    const tokens = x.reshape([H * W, C]); // [N, C], N = H*W
    const mixed = this.token_mixer
      .forward(this.norm.forward(tokens), tokens, this.layer_scale_1.value)
      .reshape([H, W, C]);
    return this.convffn.forward(mixed, mixed, this.layer_scale_2.value);
  }
}
