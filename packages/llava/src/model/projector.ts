/**
 * The `mlp2x_gelu` projector (spec section 3): image features [I, 3072] -> [I, hidden], Apple's
 * nn.Sequential(Linear(3072, hidden), GELU, Linear(hidden, hidden)); the linears are its entries
 * 0 and 2 (`model.mm_projector.0`, `.2`), the GELU (erf) is fused into the first GEMM's epilogue.
 */
import { Linear, Module, type Child } from '@fastvlm/nn';
import type { Tensor } from '@fastvlm/tensor';

export class Projector extends Module {
  /** mm_projector.0 */
  readonly fc1: Linear;
  /** mm_projector.2 */
  readonly fc2: Linear;

  constructor(featureWidth: number, hiddenSize: number) {
    super();
    this.fc1 = new Linear(featureWidth, hiddenSize, { bias: true });
    this.fc2 = new Linear(hiddenSize, hiddenSize, { bias: true });
  }

  override children(): [string, Child][] {
    return [
      ['0', this.fc1],
      ['2', this.fc2],
    ];
  }

  /** features [I, 3072] -> image embeddings [I, hidden]. Records GPU work only. */
  forward(features: Tensor<'f32'>): Tensor<'f32'> {
    return features.device.scope(() => this.fc2.forward(this.fc1.forward(features, { activation: 'gelu' })));
  }
}
