/**
 * Qwen2's RMSNorm over the last dimension: y = x · 1/sqrt(mean(x²) + eps) · weight, in f32.
 * The weight may be f32 or a checkpoint's f16 / bf16 (packed two per u32). One thread per row.
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

function rmsNormSourceUncached(vec: 1 | 4, weightDType: FloatDType): string {
  const type = rowType(vec);
  return /* wgsl */ `
struct Params { rows: u32, n: u32, length: f32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read> weight: array<${vec === 4 ? vec4StorageType(weightDType) : wgslStorageType(weightDType)}>;
@group(0) @binding(2) var<storage, read_write> y: array<${type}>;
@group(0) @binding(3) var<uniform> params: Params;
${vec === 4 ? vec4LoaderFn('weightAt', 'weight', weightDType) : loaderFn('weightAt', 'weight', weightDType)}
${ROW_PER_THREAD_MAIN}
  var squares = ${type}(0.0);
  for (var i = 0u; i < n; i++) {
    let v = x[base + i];
    squares += v * v;
  }
  let scale = 1.0 / sqrt(${horizontalSum(vec, 'squares')} / params.length + params.eps);
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
  const vec = rowVec(length);
  const kernel = device.kernel(rmsNormSource(vec, weightDType), `rms-norm-${weightDType}`);
  const params = uniformFields([
    [rows, 'u32'],
    [length / vec, 'u32'],
    [length, 'f32'],
    [eps, 'f32'],
  ]);
  device.dispatch(kernel, [x, weight, y, { uniform: params }], rowPerThreadGrid(device, rows), {
    bytes: 8 * x.size,
    detail: formatShape(x.shape),
  });
  return y;
}

const rmsNormSource = memoSource(rmsNormSourceUncached);
