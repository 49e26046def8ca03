/**
 * Row concatenation on the GPU: parts [n_i, ...rest] -> [sum n_i, ...rest], recorded as buffer
 * copies into the current batch. It lets a model fuse matrices that a layer multiplies by the same
 * input (Qwen2's gate_proj and up_proj) into one weight at load, so that one kernel reads both.
 */
import { ShapeError } from './errors.js';
import { formatShape, sameShape } from './shape.js';
import { Tensor, type TensorOptions } from './tensor.js';
import type { DType } from './dtype.js';

export function concatRows<D extends DType>(parts: readonly Tensor<D>[], options: TensorOptions = {}): Tensor<D> {
  const first = parts[0];
  if (first === undefined) throw new ShapeError('concatRows: no tensors given');
  const rest = first.shape.slice(1);
  for (const [i, part] of parts.entries()) {
    if (
      part.rank === 0 ||
      part.dtype !== first.dtype ||
      !sameShape(part.shape.slice(1), rest) ||
      part.device !== first.device
    ) {
      throw new ShapeError(
        `concatRows: part ${i} is ${part.dtype} ${formatShape(part.shape)}, not ${first.dtype} [n, ${rest.join(', ')}] on the same device`,
      );
    }
    if (part.byteLength % 4 !== 0)
      throw new ShapeError(
        `concatRows: part ${i} (${part.dtype} ${formatShape(part.shape)}) is not a whole number of 4-byte words`,
      );
  }
  const rows = parts.reduce((sum, p) => sum + p.shape[0], 0);
  const out = Tensor.empty(first.device, [rows, ...rest], first.dtype, options);
  if (out.isSplit) {
    out.dispose();
    throw new ShapeError(
      `concatRows: the result ${first.dtype} ${formatShape([rows, ...rest])} exceeds one buffer binding`,
    );
  }
  const target = out.bindingRef();
  let at = 0;
  for (const part of parts) {
    for (const block of part.blocks()) {
      const bytes = (part.byteLength / part.shape[0]) * block.rowCount;
      first.device.copy(block.ref, { ...target, offset: target.offset + at, size: bytes }, bytes);
      at += bytes;
    }
  }
  return out;
}
