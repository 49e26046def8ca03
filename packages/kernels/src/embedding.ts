/**
 * Token embedding: a row gather `out[t, :] = table[ids[t], :]` from a table that may be split into
 * row blocks (Qwen2's 151936 x 896 table is above the 128 MiB binding limit in every dtype).
 * One dispatch per row block; each writes only the rows whose ids fall in its block. Ids outside
 * [0, vocab) read nothing and give a row of zeros (callers should reject them first with
 * `checkTokenIds`: the launcher cannot see ids that live on the GPU).
 */
import { formatShape, Int4Weight, Int8Weight, ShapeError, Tensor, type DType, type TensorBlock } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import type { Weight } from './weight.js';
import { loaderFn, wgslStorageType } from './shared/loaders.js';
import { memoSource } from './shared/memo-source.js';

const WG = 256;

/** Throws a ShapeError naming the first id outside [0, vocabSize). */
export function checkTokenIds(ids: Int32Array, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < vocabSize)) {
      throw new ShapeError(`token id ${id} at position ${i} is outside the vocabulary [0, ${vocabSize})`);
    }
  }
}

/** `values` dtype: f32 / f16 / bf16 tables, or i8 values with f32 scales. */
function embeddingSourceUncached(dtype: DType): string {
  const int8 = dtype === 'i8';
  return /* wgsl */ `
struct Params {
  tokens: u32, dim: u32,
  row_start: i32, row_end: i32,      // ids this dispatch writes
  values_row: i32, scales_row: i32,  // first row of the bound values / scales block
  vocab: i32, zero_invalid: u32,     // the dispatch that writes zero rows for ids outside [0, vocab)
  group_size: u32, groups: u32,
}
@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> table: array<${wgslStorageType(dtype)}>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${int8 ? '@group(0) @binding(4) var<storage, read> scales: array<f32>;' : ''}
${loaderFn('load_value', 'table', dtype)}
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= params.tokens * params.dim) { return; }
  let t = i / params.dim;
  let d = i - t * params.dim;
  let id = ids[t];
  if (id >= params.row_start && id < params.row_end) {
    let value = load_value(u32(id - params.values_row) * params.dim + d);
    ${int8 ? 'out[i] = value * scales[u32(id - params.scales_row) * params.groups + d / params.group_size];' : 'out[i] = value;'}
  } else if (params.zero_invalid != 0u && (id < 0 || id >= params.vocab)) {
    out[i] = 0.0;
  }
}`;
}

/** A range of rows and the buffers that hold them. */
interface GatherPart {
  rowStart: number;
  rowEnd: number;
  values: TensorBlock;
  scales?: TensorBlock;
}

/** Rows covered by one values block and (for int8) one scales block: their intersections. */
function gatherParts(table: Exclude<Weight, Int4Weight>): GatherPart[] {
  if (!(table instanceof Int8Weight)) {
    return table
      .blocks()
      .map((values) => ({ rowStart: values.rowStart, rowEnd: values.rowStart + values.rowCount, values }));
  }
  const parts: GatherPart[] = [];
  const scaleBlocks = table.scales.blocks();
  for (const values of table.values.blocks()) {
    for (const scales of scaleBlocks) {
      const rowStart = Math.max(values.rowStart, scales.rowStart);
      const rowEnd = Math.min(values.rowStart + values.rowCount, scales.rowStart + scales.rowCount);
      if (rowStart < rowEnd) parts.push({ rowStart, rowEnd, values, scales });
    }
  }
  return parts;
}

/**
 * out[t, :] = table[ids[t], :] as f32. ids [T] i32, table [V, D] (f32 / f16 / bf16, or int8 with
 * per-row or per-group scales) -> [T, D] f32. Rows of ids outside [0, V) are zeros.
 */
export function embedding(ids: Tensor<'i32'>, table: Weight): Tensor<'f32'> {
  if (ids.dtype !== 'i32' || ids.rank !== 1)
    throw new ShapeError(`embedding: ids must be an i32 vector [T], got ${formatShape(ids.shape)} ${ids.dtype}`);
  if (table instanceof Int4Weight)
    throw new ShapeError('embedding: an int4 table cannot be gathered; hold the embedding in int8 (or a float dtype)');
  const int8 = table instanceof Int8Weight;
  const valueDType: DType = int8 ? 'i8' : table.dtype;
  if (!['f32', 'f16', 'bf16', 'i8'].includes(valueDType))
    throw new ShapeError(`embedding: table dtype ${valueDType} is not f32, f16, bf16 or int8`);
  if (table.shape.length !== 2)
    throw new ShapeError(`embedding: table must be [V, D], got ${formatShape(table.shape)}`);
  const [vocab, dim] = table.shape;
  const tokens = ids.shape[0];
  const device = ids.device;
  const out = Tensor.empty(device, [tokens, dim], 'f32'); // [T] -> [T, D]
  const kernel = device.kernel(embeddingSource(valueDType), `embedding-${valueDType}`);
  const groupSize = int8 ? table.groupSize : dim;
  const workgroups = grid1d(device, tokens * dim, WG);
  gatherParts(table).forEach((part, index) => {
    const params = new Int32Array([
      tokens,
      dim,
      part.rowStart,
      part.rowEnd,
      part.values.rowStart,
      part.scales?.rowStart ?? 0,
      vocab,
      index === 0 ? 1 : 0,
      groupSize,
      dim / groupSize,
    ]);
    const bindings = [ids, part.values.ref, out, { uniform: params }];
    device.dispatch(kernel, part.scales ? [...bindings, part.scales.ref] : bindings, workgroups);
  });
  return out;
}

const embeddingSource = memoSource(embeddingSourceUncached);
