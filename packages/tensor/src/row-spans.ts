/**
 * Row spans over tensors that may be split into row blocks (above the binding limit, see
 * `Tensor.blocks()`): the ranges of rows within which every given tensor lies in one buffer, so a
 * row-wise kernel can be dispatched once per span, binding each tensor's block and told the row
 * that block starts at. Rows are counted over all leading dimensions (a [B, S, D] tensor has B·S
 * rows of D), the way row-wise kernels index them.
 */
import type { BindingRef } from './kernel-cache.js';
import { ShapeError } from './errors.js';
import { formatShape } from './shape.js';
import type { Tensor } from './tensor.js';

export interface RowSpan {
  /** Rows [rowStart, rowEnd) of every tensor. */
  readonly rowStart: number;
  readonly rowEnd: number;
  /** Per tensor (in the order given): the buffer range holding these rows... */
  readonly refs: BindingRef[];
  /** ...and the row that range starts at. */
  readonly firstRows: number[];
}

/** A tensor's row blocks in rows of `rows` (its leading dimensions flattened). */
function flatBlocks(tensor: Tensor, rows: number): { start: number; end: number; ref: BindingRef }[] {
  const leading = tensor.shape[0] ?? 1;
  const perRow = rows / Math.max(leading, 1);
  return tensor.blocks().map((b) => ({
    start: b.rowStart * perRow,
    end: (b.rowStart + b.rowCount) * perRow,
    ref: b.ref,
  }));
}

/**
 * The spans of `rows` rows over which each of `tensors` (each holding `rows` rows) lies in one
 * buffer: one span for unsplit tensors, more where any is split. Cuts at the union of their block
 * boundaries.
 */
export function rowSpans(rows: number, tensors: readonly Tensor[]): RowSpan[] {
  const blocks = tensors.map((t) => {
    if (rows > 0 && t.size % rows !== 0)
      throw new ShapeError(`rowSpans: tensor ${formatShape(t.shape)} does not hold ${rows} rows`);
    return flatBlocks(t, rows);
  });
  if (rows === 0 || blocks.every((b) => b.length === 1)) {
    return [{ rowStart: 0, rowEnd: rows, refs: blocks.map((b) => b[0].ref), firstRows: blocks.map(() => 0) }];
  }
  const at = blocks.map(() => 0);
  const spans: RowSpan[] = [];
  for (let row = 0; row < rows;) {
    let end = rows;
    blocks.forEach((b, i) => {
      while (b[at[i]].end <= row) at[i]++;
      end = Math.min(end, b[at[i]].end);
    });
    spans.push({
      rowStart: row,
      rowEnd: end,
      refs: blocks.map((b, i) => b[at[i]].ref),
      firstRows: blocks.map((b, i) => b[at[i]].start),
    });
    row = end;
  }
  return spans;
}
