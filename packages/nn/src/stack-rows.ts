/**
 * Inference-time fusion of linears that read the same input: their weights stacked row-wise into one
 * matrix (and their biases into one vector), so one GEMM computes all of them. A stack must fit one
 * buffer binding (the kernels that read a stack take it whole); where it would not, the parts stay.
 */
import type { Weight } from '@fastvlm/kernels';
import { concatRows, Int4Weight, Int8Weight, type Tensor } from '@fastvlm/tensor';
import { Linear } from './linear.js';

/** The largest buffer the stack of `parts` needs: int8 / int4 values and scales are bound separately. */
function stackBytes(parts: readonly Weight[]): number {
  const quantized = (p: Weight): p is Int8Weight | Int4Weight => p instanceof Int8Weight || p instanceof Int4Weight;
  return parts.reduce(
    (sum, p) => sum + (quantized(p) ? Math.max(p.values.byteLength, p.scales.byteLength) : p.byteLength),
    0,
  );
}

/** Whether `parts` stacked would fit one buffer binding of their device. */
export function fitsOneBinding(parts: readonly Weight[]): boolean {
  return parts.length > 0 && stackBytes(parts) <= parts[0].device.limits.maxStorageBufferBindingSize;
}

/** Matrices [n_i, in] stacked into [Σ n_i, in], in their dtype (int8 / int4 with its scales). */
function stackWeights(parts: readonly Weight[]): Weight {
  if (parts[0] instanceof Int8Weight) return Int8Weight.concatRows(parts as Int8Weight[]);
  if (parts[0] instanceof Int4Weight) return Int4Weight.concatRows(parts as Int4Weight[]);
  return concatRows(parts as Tensor[]) as Weight; // concatRows keeps the parts' dtype
}

/**
 * Linears of the same input width as one Linear [Σ out_i, in] whose output rows are the parts' in
 * order; the parts' tensors are freed. Undefined, leaving the parts as they are, where the stacked
 * weight would not fit one buffer binding.
 */
export function stackLinears(parts: readonly Linear[]): Linear | undefined {
  const weights = parts.map((p) => p.weight.value);
  if (!fitsOneBinding(weights)) return undefined;
  const hasBias = parts[0].bias !== undefined;
  if (parts.some((p) => p.inFeatures !== parts[0].inFeatures || (p.bias !== undefined) !== hasBias))
    throw new Error('stackLinears: the parts must share their input width and all have a bias or none');
  const stacked = new Linear(
    parts[0].inFeatures,
    parts.reduce((sum, p) => sum + p.outFeatures, 0),
    { bias: hasBias },
  );
  stacked.weight.set(stackWeights(weights));
  // f32 [out]: K times smaller than the weights, so it fits where they did
  if (stacked.bias) stacked.bias.set(concatRows(parts.map((p) => p.bias!.value)) as Tensor<'f32'>);
  for (const part of parts) part.dispose();
  return stacked;
}
