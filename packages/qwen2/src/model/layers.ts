/** The leaf modules of the decoder, each holding its checkpoint tensors under their own names. */
import { embedding, linear, rmsNorm, type LinearOptions, type Weight } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import type { Weights } from './weights.js';

/** nn.Linear: `weight` [out, in] in the model's dtype, optional f32 `bias` [out]. */
export class Linear {
  constructor(
    readonly weight: Weight,
    readonly bias: Tensor<'f32'> | undefined,
  ) {}

  static async load(
    weights: Weights,
    inFeatures: number,
    outFeatures: number,
    { bias }: { bias: boolean },
  ): Promise<Linear> {
    return new Linear(
      await weights.matrix('weight', [outFeatures, inFeatures]),
      bias ? await weights.vector('bias', outFeatures) : undefined,
    );
  }

  /** x [..., in] -> [..., out]; `residual` [..., out] is added in the same kernel. */
  forward(x: Tensor<'f32'>, options: Omit<LinearOptions, 'bias'> = {}): Tensor<'f32'> {
    return linear(x, this.weight, { ...options, bias: this.bias });
  }
}

/** Qwen2RMSNorm: x · rsqrt(mean(x²) + eps) · weight over the last dim, f32 gain. */
export class RmsNorm {
  constructor(
    readonly weight: Tensor<'f32'>,
    readonly eps: number,
  ) {}

  static async load(weights: Weights, size: number, eps: number): Promise<RmsNorm> {
    return new RmsNorm(await weights.vector('weight', size), eps);
  }

  forward(x: Tensor<'f32'>): Tensor<'f32'> {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** nn.Embedding: `weight` [vocab, hidden], split into row blocks above the binding limit. */
export class Embedding {
  constructor(readonly weight: Weight) {}

  static async load(weights: Weights, vocabSize: number, hiddenSize: number): Promise<Embedding> {
    return new Embedding(await weights.matrix('weight', [vocabSize, hiddenSize]));
  }

  /** ids [T] i32 -> [T, hidden] f32 */
  forward(ids: Tensor<'i32'>): Tensor<'f32'> {
    return embedding(ids, this.weight);
  }

  /** The tied LM head: hidden [R, hidden] -> logits [R, vocab], x Wᵀ with the same table. */
  asLinear(hidden: Tensor<'f32'>): Tensor<'f32'> {
    return linear(hidden, this.weight);
  }
}
