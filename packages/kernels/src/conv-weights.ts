/**
 * Convolution weights as the conv kernels read them, made per call by one small dispatch from the
 * checkpoint's tensors: `taps` f32 [Cin/groups, kh*kw, Cpad] (tap-major, output channel fastest,
 * zero-padded to Cpad, a multiple of 4, so a tap of 4 adjacent outputs is one vec4 load) and
 * `shift` f32 [Cpad]. A BatchNorm after the convolution is folded in on the way:
 * taps = w * s, shift = (bias - runningMean) * s + normBias with s = normWeight / sqrt(runningVar + eps).
 * Also the shape helpers the conv launchers share.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { loaderFn, wgslStorageType } from './shared/loaders.js';

/** A float tensor of weights or per-channel parameters: f32, or 16-bit floats packed in u32 words. */
export type FloatTensor = Tensor<'f32'> | Tensor<'f16'> | Tensor<'bf16'>;
type FloatDType = FloatTensor['dtype'];

/**
 * A BatchNorm2d in inference form, as the checkpoint stores it (`running_mean`, `running_var`,
 * `weight`, `bias`, each [C]): y = (x - runningMean) * weight / sqrt(runningVar + eps) + bias.
 */
export interface BatchNorm {
  runningMean: FloatTensor;
  runningVar: FloatTensor;
  weight: FloatTensor;
  bias: FloatTensor;
  eps: number;
}

/** Checks that `t` is a float tensor of `shape`; `what` names it in the error. */
export function checkFloat(op: string, what: string, t: FloatTensor, shape: readonly number[]): void {
  if (!['f32', 'f16', 'bf16'].includes(t.dtype))
    throw new ShapeError(`${op}: ${what} must be f32, f16 or bf16, got ${t.dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${what} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)}`);
  }
}

/** Output size of a convolution along one axis; a ShapeError if nothing fits. */
export function convOutputSize(op: string, input: number, kernel: number, stride: number, padding: number): number {
  const out = Math.floor((input + 2 * padding - kernel) / stride) + 1;
  if (out < 1)
    throw new ShapeError(`${op}: a ${kernel}-wide kernel with padding ${padding} does not fit an input of ${input}`);
  return out;
}

const WG = 64;
const NORM = ['norm_mean', 'norm_var', 'norm_weight', 'norm_bias'];

/**
 * The WGSL of a BatchNorm folded into a convolution, for output channel `oc` with the `norm_*_at`
 * loaders and `dims.eps` in scope: `scale` multiplies the weights, the shift replaces the bias.
 * Shared with foldBatchNormIntoConv so that folding once at load gives the bits folding per call does.
 */
export const BATCH_NORM_SCALE = 'norm_weight_at(oc) * inverseSqrt(norm_var_at(oc) + dims.eps)';
export const batchNormShift = (bias: string, scale: string): string =>
  `(${bias} - norm_mean_at(oc)) * ${scale} + norm_bias_at(oc)`;

/** Bindings and loaders of a BatchNorm's four parameters, from binding `first` on. */
export function batchNormBindings(first: number, dtypes: readonly FloatDType[]): string {
  return NORM.map((name, i) =>
    [
      `@group(0) @binding(${first + i}) var<storage, read> ${name}: array<${wgslStorageType(dtypes[i])}>;`,
      loaderFn(`${name}_at`, name, dtypes[i]),
    ].join('\n'),
  ).join('\n');
}

function packSource(
  weightDType: FloatDType,
  biasDType: FloatDType | undefined,
  normDTypes: FloatDType[] | undefined,
): string {
  const params: [string, FloatDType][] = [];
  if (biasDType) params.push(['bias', biasDType]);
  normDTypes?.forEach((d, i) => params.push([NORM[i], d]));
  const decls = params.map(([name, dtype], i) =>
    [
      `@group(0) @binding(${4 + i}) var<storage, read> ${name}: array<${wgslStorageType(dtype)}>;`,
      loaderFn(`${name}_at`, name, dtype),
    ].join('\n'),
  );
  const bias = biasDType ? 'bias_at(oc)' : '0.0';
  return /* wgsl */ `
struct Dims { outC: u32, paddedC: u32, inCPerGroup: u32, taps: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> w: array<${wgslStorageType(weightDType)}>;
@group(0) @binding(1) var<storage, read_write> packed: array<f32>;
@group(0) @binding(2) var<storage, read_write> shift: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;
${decls.join('\n')}
${loaderFn('w_at', 'w', weightDType)}
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= dims.inCPerGroup * dims.taps * dims.paddedC) { return; }
  let o = i % dims.paddedC;
  let rest = i / dims.paddedC; // ci * taps + t
  let oc = min(o, dims.outC - 1u);
  let t = rest % dims.taps;
  let ci = rest / dims.taps;
  let scale = ${normDTypes ? BATCH_NORM_SCALE : '1.0'};
  packed[i] = select(0.0, w_at((oc * dims.inCPerGroup + ci) * dims.taps + t) * scale, o < dims.outC);
  if (rest == 0u) {
    let s = ${normDTypes ? batchNormShift(bias, 'scale') : bias};
    shift[o] = select(0.0, s, o < dims.outC);
  }
}`;
}

/**
 * Repacks weight [Cout, Cin/groups, kh, kw] (+ bias [Cout], + BatchNorm) into `taps`
 * [Cin/groups * kh * kw * paddedC] and `shift` [paddedC], both f32. Inputs are checked by callers.
 */
export function packConvWeights(
  weight: FloatTensor,
  paddedC: number,
  bias: FloatTensor | undefined,
  batchNorm: BatchNorm | undefined,
): { taps: Tensor<'f32'>; shift: Tensor<'f32'> } {
  const [outC, inCPerGroup, kernelH, kernelW] = weight.shape;
  const taps = kernelH * kernelW;
  const device = weight.device;
  const norm = batchNorm ? [batchNorm.runningMean, batchNorm.runningVar, batchNorm.weight, batchNorm.bias] : [];
  const packed = Tensor.empty(device, [inCPerGroup * taps * paddedC], 'f32');
  const shift = Tensor.empty(device, [paddedC], 'f32');
  const dims = new Uint32Array(5);
  dims.set([outC, paddedC, inCPerGroup, taps]);
  new Float32Array(dims.buffer)[4] = batchNorm?.eps ?? 0;
  const source = packSource(weight.dtype, bias?.dtype, batchNorm ? norm.map((t) => t.dtype) : undefined);
  const bindings = [weight, packed, shift, { uniform: dims }, ...(bias ? [bias] : []), ...norm];
  device.dispatch(device.kernel(source, 'conv weight pack'), bindings, grid1d(device, packed.size, WG));
  return { taps: packed, shift };
}
