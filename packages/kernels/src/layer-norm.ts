/**
 * LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) · weight + bias, with the
 * biased variance, in f32. In the channels-last vision maps this is FastViTHD's LayerNormChannel
 * (per pixel, over channels). One thread per row: Welford's running mean / M2 (per vec4 lane,
 * merged at the end) in one read, then a second read to write y.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { loaderFn, wgslStorageType } from './wgsl-loaders.js';
import {
  checkFloatDType,
  horizontalSum,
  ROW_PER_THREAD_MAIN,
  rowPerThreadGrid,
  rowType,
  rowVec,
  uniformFields,
  vec4LoaderFn,
  vec4StorageType,
  type FloatDType,
} from './row-wise.js';
import { memoSource } from './memo-source.js';

function layerNormSourceUncached(vec: 1 | 4, weightDType: FloatDType, biasDType: FloatDType): string {
  const type = rowType(vec);
  const storage = (dtype: FloatDType): string => (vec === 4 ? vec4StorageType(dtype) : wgslStorageType(dtype));
  const loader = vec === 4 ? vec4LoaderFn : loaderFn;
  return /* wgsl */ `
struct Params { rows: u32, n: u32, length: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> weight: array<${storage(weightDType)}>;
@group(0) @binding(2) var<storage, read> bias: array<${storage(biasDType)}>;
@group(0) @binding(3) var<storage, read_write> y: array<${type}>;
@group(0) @binding(4) var<uniform> params: Params;
${loader('weightAt', 'weight', weightDType)}
${loader('biasAt', 'bias', biasDType)}
${ROW_PER_THREAD_MAIN}
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
  let mean = ${horizontalSum(vec, 'laneMean + offset')} / ${vec}.0;
  let spread = laneMean + offset - mean; // merging equal-count lanes adds n · (lane mean - mean)² each
  let variance = (${horizontalSum(vec, 'laneM2')} + f32(n) * ${horizontalSum(vec, 'spread * spread')}) / params.length;
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
  const vec = rowVec(length);
  const kernel = device.kernel(layerNormSource(vec, weightDType, biasDType), `layer-norm-${weightDType}`);
  const params = uniformFields([
    [rows, 'u32'],
    [length / vec, 'u32'],
    [length, 'f32'],
    [eps, 'f32'],
  ]);
  device.dispatch(kernel, [x, weight, bias, y, { uniform: params }], rowPerThreadGrid(device, rows), {
    bytes: 8 * x.size,
    detail: formatShape(x.shape),
  });
  return y;
}

const layerNormSource = memoSource(layerNormSourceUncached);
