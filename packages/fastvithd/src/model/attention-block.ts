/**
 * AttentionBlock (stages 3-4): x + layer_scale_1 * MHSA(LayerNormChannel(x)), then
 * x + layer_scale_2 * ConvFFN(x). MHSA treats the H*W pixels as tokens (row-major), heads 32 wide:
 * qkv Linear C -> 3C without bias, softmax(q k^T / sqrt(32)) v, proj Linear C -> C with bias.
 */
import { layerNorm, linear, visionAttention, type Weight } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { ConvFFN } from './conv-ffn.js';
import type { MatrixWeights, TowerWeights } from './weights.js';

const LAYER_NORM_EPS = 1e-5;

export class AttentionBlock {
  constructor(
    /** norm: LayerNormChannel over C, per pixel. */
    readonly norm: { weight: Tensor<'f32'>; bias: Tensor<'f32'> },
    /** token_mixer.qkv [3C, C], no bias. */
    readonly qkv: Weight,
    /** token_mixer.proj [C, C] with bias. */
    readonly proj: MatrixWeights,
    readonly convffn: ConvFFN,
    readonly layerScale1: Tensor<'f32'>,
    readonly layerScale2: Tensor<'f32'>,
    readonly heads: number,
  ) {}

  static async load(
    weights: TowerWeights,
    channels: number,
    mlpRatio: number,
    headDim: number,
  ): Promise<AttentionBlock> {
    const norm = weights.at('norm');
    const mixer = weights.at('token_mixer');
    return new AttentionBlock(
      { weight: await norm.vector('weight', [channels]), bias: await norm.vector('bias', [channels]) },
      await mixer.at('qkv').matrix('weight', [3 * channels, channels]),
      await mixer.linear('proj', channels, channels),
      await ConvFFN.load(weights.at('convffn'), channels, channels * mlpRatio),
      await weights.vector('layer_scale_1', [channels, 1, 1]),
      await weights.vector('layer_scale_2', [channels, 1, 1]),
      channels / headDim,
    );
  }

  /** x [H, W, C] -> [H, W, C]. */
  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    const [H, W, C] = x.shape;
    const tokens = x.reshape([H * W, C]); // [N, C], N = H*W
    const normed = layerNorm(tokens, this.norm.weight, this.norm.bias, LAYER_NORM_EPS);
    const qkv = linear(normed, this.qkv); // [N, 3C]
    const attended = visionAttention(qkv, this.heads); // [N, C]
    const mixed = linear(attended, this.proj.weight, {
      bias: this.proj.bias,
      residual: tokens,
      scale: this.layerScale1,
    }).reshape([H, W, C]);
    return this.convffn.forward(mixed, mixed, this.layerScale2);
  }
}
