/**
 * A `linear` weight as dispatches bind it: the output-column ranges within which the weight (and
 * an int8 / int4 weight's scales) lie in one buffer each. A weight above the binding limit (a tied LM
 * head) comes split into row blocks (`tensor.blocks()`), and each segment is one dispatch.
 */
import type { Binding } from '@fastvlm/tensor';
import { isQuantized, type Weight, type WeightDType } from '../weight.js';

export interface WeightSegment {
  /** Output columns [nStart, nEnd) and the first rows of the bound weight / scales blocks. */
  range: { nStart: number; nEnd: number; wRow0: number; sRow0: number };
  bindings: Binding[];
}

/** Column ranges within which the weight (and a quantized weight's scales) lie in one buffer each. */
export function weightSegments(weight: Weight): WeightSegment[] {
  if (!isQuantized(weight)) {
    return weight.blocks().map((b) => ({
      range: { nStart: b.rowStart, nEnd: b.rowStart + b.rowCount, wRow0: b.rowStart, sRow0: 0 },
      bindings: [b.ref],
    }));
  }
  // values and scales are split independently: cut at the boundaries of both
  const values = weight.values.blocks();
  const scales = weight.scales.blocks();
  const rows = weight.shape[0];
  const segments: WeightSegment[] = [];
  let v = 0;
  let s = 0;
  for (let n = 0; n < rows;) {
    while (values[v].rowStart + values[v].rowCount <= n) v++;
    while (scales[s].rowStart + scales[s].rowCount <= n) s++;
    const end = Math.min(values[v].rowStart + values[v].rowCount, scales[s].rowStart + scales[s].rowCount);
    segments.push({
      range: { nStart: n, nEnd: end, wRow0: values[v].rowStart, sRow0: scales[s].rowStart },
      bindings: [values[v].ref, scales[s].ref],
    });
    n = end;
  }
  return segments;
}

/** Bytes of `rows` weight rows of K values with their scales (int8: f32 per group, int4: f16 per group). */
export function weightBytes(dtype: WeightDType, rows: number, K: number, groupSize = K): number {
  const perValue = { f32: 4, f16: 2, bf16: 2, int8: 1, int4: 0.5 }[dtype];
  const scales = dtype === 'int8' ? 4 : dtype === 'int4' ? 2 : 0;
  return rows * Math.ceil(K * perValue) + rows * (K / groupSize) * scales;
}
