/**
 * Qwen2's RMSNorm over the last dimension: y = x · 1/sqrt(mean(x²) + eps) · weight, in f32.
 * The weight may be f32 or a checkpoint's f16 / bf16 (packed two per u32, read by `weightAt`, one
 * of the shared loaders of shared/loaders.ts). Rows are read in vec4s (scalars when the length is
 * not a multiple of 4).
 *
 * Two layouts, chosen by the device's kernel shape:
 * - 'cpu' (lavapipe): one invocation per row. On lavapipe this beats spreading a row over a
 *   workgroup by ~10x: every workgroup barrier of a tree reduction costs about a microsecond
 *   there, while a thread streams a row of a few thousand values in a few microseconds.
 * - 'gpu': one workgroup of 256 invocations per row. Invocation i reads elements i, i + 256, ...
 *   (neighbouring invocations read neighbouring addresses), the sum of squares is reduced in
 *   workgroup memory (a tree of barriers, no subgroup size assumed), and each invocation writes
 *   the elements it read. A decode step's RMSNorm is then 256 invocations of ~1 vec4 each instead
 *   of one invocation looping over 224 vec4s.
 *
 * x and y above the binding limit come split into row blocks: one dispatch per span of rows.
 */
import { formatShape, rowSpans, ShapeError, Tensor, type DispatchAccess, type KernelShape } from '@fastvlm/tensor';
import { grid1d } from './shared/grid.js';
import { checkFloatDType, floatVector, type FloatDType } from './shared/loaders.js';
import { memoSource } from './shared/memo-source.js';
import { uniformFields } from './shared/uniforms.js';

/** Invocations per workgroup of the row-per-invocation ('cpu') layout. */
const ROW_PER_INVOCATION_WG = 64;
/** Invocations cooperating over one row in the 'gpu' layout (a power of two). */
export const ROW_WORKGROUP = 256;

const PARAMS = /* wgsl */ `
struct Params { rowStart: u32, rowEnd: u32, xRow0: u32, yRow0: u32, n: u32, length: f32, eps: f32 }`;

/** `vec`: 4 when rows are read as vec4<f32> (length a multiple of 4), else 1. */
function rmsNormSourceUncached(vec: 1 | 4, weightDType: FloatDType, shape: KernelShape): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const weight = floatVector('weight', weightDType, vec);
  const sum = (v: string): string => (vec === 4 ? `dot(${v}, vec4<f32>(1.0))` : v);
  const header = /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> weight: array<${weight.type}>;
@group(0) @binding(2) var<storage, read_write> y: array<${type}>;
@group(0) @binding(3) var<uniform> params: Params;
${weight.loader}`;
  if (shape === 'cpu') {
    return /* wgsl */ `${header}
@compute @workgroup_size(${ROW_PER_INVOCATION_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = params.rowStart + gid.x + gid.y * nwg.x * ${ROW_PER_INVOCATION_WG}u;
  if (row >= params.rowEnd) { return; }
  let n = params.n;
  let xBase = (row - params.xRow0) * n;
  let yBase = (row - params.yRow0) * n;
  var squares = ${type}(0.0);
  for (var i = 0u; i < n; i++) {
    let v = x[xBase + i];
    squares += v * v;
  }
  let scale = 1.0 / sqrt(${sum('squares')} / params.length + params.eps);
  for (var i = 0u; i < n; i++) {
    y[yBase + i] = (x[xBase + i] * scale) * weightAt(i);
  }
}`;
  }
  return /* wgsl */ `${header}
var<workgroup> partial: array<f32, ${ROW_WORKGROUP}>;
@compute @workgroup_size(${ROW_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // one row per workgroup; no early return before the barriers (they need the whole workgroup)
  let row = params.rowStart + wg.x + wg.y * nwg.x;
  let live = row < params.rowEnd;
  let n = params.n;
  let xBase = (min(row, params.rowEnd - 1u) - params.xRow0) * n;
  var squares = ${type}(0.0);
  for (var i = li; i < n; i += ${ROW_WORKGROUP}u) {
    let v = x[xBase + i];
    squares += v * v;
  }
  partial[li] = ${sum('squares')};
  workgroupBarrier();
  for (var stride = ${ROW_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (li < stride) { partial[li] += partial[li + stride]; }
    workgroupBarrier();
  }
  let scale = 1.0 / sqrt(partial[0] / params.length + params.eps);
  if (!live) { return; }
  let yBase = (row - params.yRow0) * n;
  for (var i = li; i < n; i += ${ROW_WORKGROUP}u) {
    y[yBase + i] = (x[xBase + i] * scale) * weightAt(i);
  }
}`;
}

/** y = x · rsqrt(mean(x², last dim) + eps) · weight. x: [..., D] f32; weight: [D] f32 / f16 / bf16. */
export function rmsNorm(x: Tensor<'f32'>, weight: Tensor, eps: number): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new ShapeError(`rmsNorm: x must be f32, got ${x.dtype}`);
  const weightDType = checkFloatDType('rmsNorm', 'weight', weight.dtype);
  const length = x.shape[x.rank - 1];
  if (x.rank < 1 || weight.rank !== 1 || weight.shape[0] !== length) {
    throw new ShapeError(
      `rmsNorm: weight ${formatShape(weight.shape)} must be [${length}] for x ${formatShape(x.shape)}`,
    );
  }
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  const rows = x.size / length;
  if (rows === 0 || length === 0) return y;
  const vec = length % 4 === 0 ? 4 : 1;
  const shape = device.kernelShape;
  const kernel = device.kernel(rmsNormSource(vec, weightDType, shape), `rms-norm-${weightDType}-${shape}`);
  for (const { rowStart, rowEnd, refs, firstRows } of rowSpans(rows, [x, y])) {
    const params = uniformFields([
      [rowStart, 'u32'],
      [rowEnd, 'u32'],
      [firstRows[0], 'u32'],
      [firstRows[1], 'u32'],
      [length / vec, 'u32'],
      [length, 'f32'],
      [eps, 'f32'],
    ]);
    const spanRows = rowEnd - rowStart;
    const grid = shape === 'cpu' ? grid1d(device, spanRows, ROW_PER_INVOCATION_WG) : grid1d(device, spanRows, 1); // a workgroup per row
    device.dispatch(kernel, [refs[0], weight, refs[1], { uniform: params }], grid, {
      bytes: 8 * spanRows * length,
      detail: formatShape(x.shape),
      access: rmsNormAccess(shape, length, weight.byteLength / length),
    });
  }
  return y;
}

/** How an invocation reads: its row twice (sum of squares, then scale) and the weight once. */
function rmsNormAccess(shape: KernelShape, length: number, weightBytes: number): DispatchAccess {
  if (shape === 'cpu')
    return {
      bytesPerInvocation: length * (8 + weightBytes),
      coalesced: false,
      pattern: `each invocation streams its own row: neighbours ${4 * length} bytes apart`,
    };
  const vec = length % 4 === 0 ? 4 : 1;
  const perInvocation = Math.ceil(length / vec / ROW_WORKGROUP) * vec; // elements
  return {
    bytesPerInvocation: perInvocation * (8 + weightBytes),
    coalesced: true,
    pattern: `${ROW_WORKGROUP} invocations per row: invocation i reads ${vec === 4 ? 'vec4s' : 'elements'} i, i+${ROW_WORKGROUP}, ...`,
  };
}

const rmsNormSource = memoSource(rmsNormSourceUncached);
