/**
 * Qwen2's RMSNorm over the last dimension: y = x · 1/sqrt(mean(x²) + eps) · weight, in f32.
 * The weight may be f32 or a checkpoint's f16 / bf16 (packed two per u32, read by `weightAt`, one
 * of the shared loaders of shared/loaders.ts).
 *
 * One invocation per row, reading it in vec4s (scalars when its length is not a multiple of 4). On
 * lavapipe this beats spreading a row over a workgroup by ~10x: every workgroup barrier of a tree
 * reduction costs about a microsecond there, while a thread streams a row of a few thousand values
 * in a few microseconds.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { grid1d } from './shared/grid.js';
import { checkFloatDType, floatVector, type FloatDType } from './shared/loaders.js';
import { memoSource } from './shared/memo-source.js';
import { uniformFields } from './shared/uniforms.js';

const WG = 64;

/** `vec`: 4 when rows are read as vec4<f32> (length a multiple of 4), else 1. */
function rmsNormSourceUncached(vec: 1 | 4, weightDType: FloatDType): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const weight = floatVector('weight', weightDType, vec);
  return /* wgsl */ `
struct Params { rows: u32, n: u32, length: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> weight: array<${weight.type}>;
@group(0) @binding(2) var<storage, read_write> y: array<${type}>;
@group(0) @binding(3) var<uniform> params: Params;
${weight.loader}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = (gid.x + gid.y * nwg.x * ${WG}u);
  if (row >= params.rows) { return; }
  let n = params.n;
  let base = row * n;
  var squares = ${type}(0.0);
  for (var i = 0u; i < n; i++) {
    let v = x[base + i];
    squares += v * v;
  }
  let scale = 1.0 / sqrt(${vec === 4 ? 'dot(squares, vec4<f32>(1.0))' : 'squares'} / params.length + params.eps);
  for (var i = 0u; i < n; i++) {
    y[base + i] = (x[base + i] * scale) * weightAt(i);
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
  const kernel = device.kernel(rmsNormSource(vec, weightDType), `rms-norm-${weightDType}`);
  const params = uniformFields([
    [rows, 'u32'],
    [length / vec, 'u32'],
    [length, 'f32'],
    [eps, 'f32'],
  ]);
  device.dispatch(kernel, [x, weight, y, { uniform: params }], grid1d(device, rows, WG), {
    bytes: 8 * x.size,
    detail: formatShape(x.shape),
  });
  return y;
}

const rmsNormSource = memoSource(rmsNormSourceUncached);
