/**
 * The `mlp2x_gelu` projector (spec section 3): image features [I, 3072] -> [I, hidden], i.e.
 * `model.mm_projector.0` Linear(3072, hidden) + GELU (erf, fused into the first GEMM's epilogue)
 * and `model.mm_projector.2` Linear(hidden, hidden).
 */
import { Linear, type Weights } from '@fastvlm/qwen2';
import type { Tensor } from '@fastvlm/tensor';

export const PROJECTOR_MODULE = 'model.mm_projector';

export class Projector {
  constructor(
    /** mm_projector.0 */
    readonly fc1: Linear,
    /** mm_projector.2 */
    readonly fc2: Linear,
    /** Owns both layers' parameters. */
    private readonly weights: Weights,
  ) {}

  /** `weights` is rooted at `model.mm_projector.`; on failure the caller frees what was loaded. */
  static async load(weights: Weights, featureWidth: number, hiddenSize: number): Promise<Projector> {
    const fc1 = await Linear.load(weights.at(0), featureWidth, hiddenSize, { bias: true });
    const fc2 = await Linear.load(weights.at(2), hiddenSize, hiddenSize, { bias: true });
    return new Projector(fc1, fc2, weights);
  }

  /** features [I, 3072] -> image embeddings [I, hidden]. Records GPU work only. */
  forward(features: Tensor<'f32'>): Tensor<'f32'> {
    return features.device.scope(() => this.fc2.forward(this.fc1.forward(features, { activation: 'gelu' })));
  }

  dispose(): void {
    this.weights.disposeAll();
  }
}
