/** nn.Embedding: `weight` [vocab, hidden] in the model's weight dtype, split into row blocks above the binding limit. */
import { embedding, linear, type LinearOptions } from '@fastvlm/kernels';
import type { Tensor } from '@fastvlm/tensor';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class Embedding extends Module {
  readonly weight: Parameter<'matrix'>;

  constructor(numEmbeddings: number, embeddingDim: number) {
    super();
    this.weight = Parameter.matrix([numEmbeddings, embeddingDim], { vocabulary: true });
  }

  /** ids [T] i32 -> [T, hidden] f32. */
  forward(ids: Tensor<'i32'>): Tensor<'f32'> {
    return embedding(ids, this.weight.value);
  }

  /** The same table as a tied output head: hidden [R, hidden] -> logits [R, vocab] = x Wᵀ. */
  asLinear(hidden: Tensor<'f32'>, options: Pick<LinearOptions, 'inputNorm'> = {}): Tensor<'f32'> {
    return linear(hidden, this.weight.value, options);
  }
}
