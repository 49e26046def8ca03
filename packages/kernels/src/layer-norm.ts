/**
 * LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) · weight + bias, with the
 * biased variance, in f32. In the channels-last vision maps this is FastViTHD's LayerNormChannel
 * (per pixel, over channels). One invocation per row (see rms-norm.ts for why): Welford's running mean / M2 (per vec4 lane,
 * merged at the end) in one read, then a second read to write y.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { grid1d } from './shared/grid.js';
import { checkFloatDType, floatVector, type FloatDType } from './shared/loaders.js';
import { memoSource } from './shared/memo-source.js';
import { uniformFields } from './shared/uniforms.js';

const WG = 64;

/** `vec`: 4 when rows are read as vec4<f32> (length a multiple of 4), else 1. */
function layerNormSourceUncached(vec: 1 | 4, weightDType: FloatDType, biasDType: FloatDType): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const weight = floatVector('weight', weightDType, vec);
  const bias = floatVector('bias', biasDType, vec);
  const sum = (v: string): string => (vec === 4 ? `dot(${v}, vec4<f32>(1.0))` : v);
  return /* wgsl */ `
struct Params { rows: u32, n: u32, length: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> weight: array<${weight.type}>;
@group(0) @binding(2) var<storage, read> bias: array<${bias.type}>;
@group(0) @binding(3) var<storage, read_write> y: array<${type}>;
@group(0) @binding(4) var<uniform> params: Params;
${weight.loader}
${bias.loader}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = (gid.x + gid.y * nwg.x * ${WG}u);
  if (row >= params.rows) { return; }
  let n = params.n;
  let base = row * n;
  // Welford per lane (each of the ${vec} lanes sees n values), on x minus the row's first value so
  // that a large common offset does not cost the running mean its low bits
  let offset = x[base];
  var laneMean = ${type}(0.0);
  var laneM2 = ${type}(0.0);
  for (var i = 0u; i < n; i++) {
    let v = x[base + i] - offset;
    let d = v - laneMean;
    laneMean += d / f32(i + 1u);
    laneM2 += d * (v - laneMean);
  }
  let mean = ${sum('laneMean + offset')} / ${vec}.0;
  let spread = laneMean + offset - mean; // merging equal-count lanes adds n · (lane mean - mean)² each
  let variance = (${sum('laneM2')} + f32(n) * ${sum('spread * spread')}) / params.length;
  let rstd = 1.0 / sqrt(variance + params.eps);
  for (var i = 0u; i < n; i++) {
    y[base + i] = (x[base + i] - mean) * rstd * weightAt(i) + biasAt(i);
  }
}`;
}

/**
 * LayerNorm over the last dimension. x: [..., C] f32; weight, bias: [C] f32 / f16 / bf16.
 * Returns y with x's shape.
 */
export function layerNorm(x: Tensor<'f32'>, weight: Tensor, bias: Tensor, eps: number): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new ShapeError(`layerNorm: x must be f32, got ${x.dtype}`);
  const weightDType = checkFloatDType('layerNorm', 'weight', weight.dtype);
  const biasDType = checkFloatDType('layerNorm', 'bias', bias.dtype);
  const length = x.shape[x.rank - 1];
  if (x.rank < 1 || weight.rank !== 1 || weight.shape[0] !== length || bias.rank !== 1 || bias.shape[0] !== length) {
    throw new ShapeError(
      `layerNorm: weight ${formatShape(weight.shape)} and bias ${formatShape(bias.shape)} must be [${length}] for x ${formatShape(x.shape)}`,
    );
  }
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  const rows = x.size / length;
  if (rows === 0 || length === 0) return y;
  const vec = length % 4 === 0 ? 4 : 1;
  const kernel = device.kernel(layerNormSource(vec, weightDType, biasDType), `layer-norm-${weightDType}`);
  const params = uniformFields([
    [rows, 'u32'],
    [length / vec, 'u32'],
    [length, 'f32'],
    [eps, 'f32'],
  ]);
  device.dispatch(kernel, [x, weight, bias, y, { uniform: params }], grid1d(device, rows, WG), {
    bytes: 8 * x.size,
    detail: formatShape(x.shape),
  });
  return y;
}

const layerNormSource = memoSource(layerNormSourceUncached);
