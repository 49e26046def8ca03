import { Int8Weight, type Tensor } from '@fastvlm/tensor';

/** A weight matrix as kernels take it: f32 / f16 / bf16 values, or int8 with scales. */
export type Weight = Tensor<'f32'> | Tensor<'f16'> | Tensor<'bf16'> | Int8Weight;

export type WeightDType = 'f32' | 'f16' | 'bf16' | 'int8';

export function weightDType(w: Weight): WeightDType {
  return w instanceof Int8Weight ? 'int8' : w.dtype;
}
