/**
 * A BatchNorm2d folded into the convolution before it, once (at load) instead of at every call:
 * weight' = weight * s and bias' = (bias - runningMean) * s + normBias with
 * s = normWeight / sqrt(runningVar + eps), both f32. The WGSL expressions are conv-weights.ts's own,
 * so a convolution run with (weight', bias') gives the bits it gives with the norm folded per call.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import {
  BATCH_NORM_SCALE,
  batchNormBindings,
  batchNormShift,
  checkFloat,
  type BatchNorm,
  type FloatTensor,
} from './conv-weights.js';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { loaderFn, wgslStorageType } from './shared/loaders.js';

const WG = 64;

function foldSource(
  weightDType: FloatTensor['dtype'],
  biasDType: FloatTensor['dtype'] | undefined,
  normDTypes: readonly FloatTensor['dtype'][],
): string {
  const bias = biasDType
    ? `@group(0) @binding(8) var<storage, read> bias: array<${wgslStorageType(biasDType)}>;\n${loaderFn('bias_at', 'bias', biasDType)}`
    : '';
  return /* wgsl */ `
struct Dims { outC: u32, perChannel: u32, count: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> w: array<${wgslStorageType(weightDType)}>;
@group(0) @binding(1) var<storage, read_write> folded: array<f32>;
@group(0) @binding(2) var<storage, read_write> shift: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;
${batchNormBindings(4, normDTypes)}
${bias}
${loaderFn('w_at', 'w', weightDType)}
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= dims.count) { return; }
  let oc = i / dims.perChannel;
  let scale = ${BATCH_NORM_SCALE};
  folded[i] = w_at(i) * scale;
  if (i % dims.perChannel == 0u) {
    shift[oc] = ${batchNormShift(biasDType ? 'bias_at(oc)' : '0.0', 'scale')};
  }
}`;
}

/**
 * weight [Cout, Cin/groups, kh, kw] (+ bias [Cout]) followed by `batchNorm` -> the one convolution
 * computing both: { weight: f32 of weight's shape, bias: f32 [Cout] }. Records one dispatch.
 */
export function foldBatchNormIntoConv(
  weight: FloatTensor,
  bias: FloatTensor | undefined,
  batchNorm: BatchNorm,
): { weight: Tensor<'f32'>; bias: Tensor<'f32'> } {
  const op = 'foldBatchNormIntoConv';
  if (weight.rank !== 4)
    throw new ShapeError(`${op}: weight must be [Cout, Cin/groups, kh, kw], got ${formatShape(weight.shape)}`);
  checkFloat(op, 'weight', weight, weight.shape);
  const outC = weight.shape[0];
  if (bias) checkFloat(op, 'bias', bias, [outC]);
  const norm = [batchNorm.runningMean, batchNorm.runningVar, batchNorm.weight, batchNorm.bias];
  norm.forEach((t, i) => checkFloat(op, `batchNorm.${['runningMean', 'runningVar', 'weight', 'bias'][i]}`, t, [outC]));
  const device = weight.device;
  const folded = Tensor.empty(device, weight.shape, 'f32');
  const shift = Tensor.empty(device, [outC], 'f32');
  const dims = new Uint32Array(4);
  dims.set([outC, weight.size / outC, weight.size]);
  new Float32Array(dims.buffer)[3] = batchNorm.eps;
  const source = foldSource(
    weight.dtype,
    bias?.dtype,
    norm.map((t) => t.dtype),
  );
  const bindings = [weight, folded, shift, { uniform: dims }, ...norm, ...(bias ? [bias] : [])];
  device.dispatch(device.kernel(source, 'fold batch norm'), bindings, grid1d(device, weight.size, WG));
  return { weight: folded, bias: shift };
}
