import { Int4Weight, Int8Weight, type Tensor } from '@fastvlm/tensor';

/** A weight matrix as kernels take it: f32 / f16 / bf16 values, int8 with scales, or group-wise int4. */
export type Weight = Tensor<'f32'> | Tensor<'f16'> | Tensor<'bf16'> | Int8Weight | Int4Weight;

export type WeightDType = 'f32' | 'f16' | 'bf16' | 'int8' | 'int4';

/** A weight stored as integers and scales (bound as two buffers). */
export type QuantizedWeight = Int8Weight | Int4Weight;

export function isQuantized(w: Weight): w is QuantizedWeight {
  return w instanceof Int8Weight || w instanceof Int4Weight;
}

export function weightDType(w: Weight): WeightDType {
  if (w instanceof Int8Weight) return 'int8';
  if (w instanceof Int4Weight) return 'int4';
  return w.dtype;
}
