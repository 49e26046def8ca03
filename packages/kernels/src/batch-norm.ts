/**
 * Inference-form BatchNorm2d on channels-last maps: y = x · scale[c] + shift[c] with
 * scale = gamma / sqrt(var + eps) and shift = beta - mean · scale, the form PyTorch's CPU kernel
 * evaluates. `foldBatchNorm` gives the same scale / shift on the CPU, for folding into a conv at load.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import {
  checkFloatDType,
  vec4LoaderFn,
  vec4StorageType,
  type FloatDType,
  loaderFn,
  wgslStorageType,
} from './shared/loaders.js';
import { uniformFields } from './shared/uniforms.js';
import { memoSource } from './shared/memo-source.js';

const WG = 64;
const PIXELS_PER_THREAD = 16; // each thread derives its channels' scale / shift once, then applies it to this many pixels

const PARAMETERS = ['mean', 'variance', 'gamma', 'beta'] as const;

function batchNormSourceUncached(vec: 1 | 4, dtypes: readonly FloatDType[]): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const parameterBindings = PARAMETERS.map((name, b) => {
    const storage = vec === 4 ? vec4StorageType(dtypes[b]) : wgslStorageType(dtypes[b]);
    const loader = vec === 4 ? vec4LoaderFn : loaderFn;
    return `@group(0) @binding(${b + 1}) var<storage, read> ${name}: array<${storage}>;\n${loader(`${name}At`, name, dtypes[b])}`;
  });
  return /* wgsl */ `
struct Params { pixels: u32, groups: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
${parameterBindings.join('\n')}
@group(0) @binding(5) var<storage, read_write> y: array<${type}>;
@group(0) @binding(6) var<uniform> params: Params;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let t = ${flatIndex(WG)};
  let g = t % params.groups; // channel group (4 channels when vectorised)
  let first = (t / params.groups) * ${PIXELS_PER_THREAD}u;
  if (first >= params.pixels) { return; }
  let scale = (1.0 / sqrt(varianceAt(g) + params.eps)) * gammaAt(g);
  let shift = betaAt(g) - meanAt(g) * scale;
  let last = min(first + ${PIXELS_PER_THREAD}u, params.pixels);
  for (var p = first; p < last; p++) {
    let i = p * params.groups + g;
    y[i] = x[i] * scale + shift;
  }
}`;
}

/**
 * BatchNorm2d in inference form on x [H, W, C] (or any [..., C]) f32; mean, variance, gamma, beta:
 * [C] f32 / f16 / bf16 (running statistics and affine parameters).
 */
export function batchNorm(
  x: Tensor<'f32'>,
  mean: Tensor,
  variance: Tensor,
  gamma: Tensor,
  beta: Tensor,
  eps: number,
): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new ShapeError(`batchNorm: x must be f32, got ${x.dtype}`);
  if (x.rank < 1) throw new ShapeError('batchNorm: x must have a channel dimension');
  const channels = x.shape[x.rank - 1];
  const parameters = [mean, variance, gamma, beta];
  const dtypes = parameters.map((p, b) => checkFloatDType('batchNorm', PARAMETERS[b], p.dtype));
  parameters.forEach((p, b) => {
    if (p.rank !== 1 || p.shape[0] !== channels) {
      throw new ShapeError(
        `batchNorm: ${PARAMETERS[b]} ${formatShape(p.shape)} must be [${channels}] for x ${formatShape(x.shape)}`,
      );
    }
  });
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  if (x.size === 0) return y;
  const vec = channels % 4 === 0 ? 4 : 1;
  const groups = channels / vec;
  const pixels = x.size / channels;
  const kernel = device.kernel(batchNormSource(vec, dtypes), `batch-norm-${vec}`);
  const params = uniformFields([
    [pixels, 'u32'],
    [groups, 'u32'],
    [eps, 'f32'],
  ]);
  const threads = groups * Math.ceil(pixels / PIXELS_PER_THREAD);
  device.dispatch(kernel, [x, mean, variance, gamma, beta, y, { uniform: params }], grid1d(device, threads, WG));
  return y;
}

/**
 * BatchNorm's inference form as a per-channel affine map y = x · scale + shift, computed in f32 as
 * the kernel does: scale = (1 / sqrt(var + eps)) · gamma, shift = beta - mean · scale.
 */
export function foldBatchNorm(
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): { scale: Float32Array; shift: Float32Array } {
  const channels = mean.length;
  if (variance.length !== channels || gamma.length !== channels || beta.length !== channels) {
    throw new ShapeError(
      `foldBatchNorm: mean [${channels}], variance [${variance.length}], gamma [${gamma.length}] and beta [${beta.length}] must have one length`,
    );
  }
  const f = Math.fround;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = f(f(1 / f(Math.sqrt(f(f(variance[c]) + f(eps))))) * f(gamma[c]));
    shift[c] = f(f(beta[c]) - f(f(mean[c]) * scale[c]));
  }
  return { scale, shift };
}

const batchNormSource = memoSource(batchNormSourceUncached);
