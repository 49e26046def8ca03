/**
 * Global average pooling and squeeze-excite on channels-last maps (FastViTHD's `conv_exp.se`:
 * 3072 -> 192 -> 3072 at 16x16). The SE gate is four small dispatches: pool, reduce + ReLU,
 * expand + sigmoid, then the channel-wise product with an optional activation.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { checkFloat, type FloatTensor } from './conv-weights.js';
import { activationExpr, type Activation, WGSL_GELU } from './shared/math.js';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { loaderFn, wgslStorageType } from './shared/loaders.js';
import { memoSource } from './shared/memo-source.js';

const WG = 64;

/** A 1x1 convolution of the checkpoint: weight [out, in, 1, 1] (or [out, in]), bias [out]. */
export interface PointwiseConv {
  weight: FloatTensor;
  bias: FloatTensor;
}

/** `conv_exp.se`: `reduce` C -> R, `expand` R -> C. */
export interface SqueezeExciteWeights {
  reduce: PointwiseConv;
  expand: PointwiseConv;
}

function checkMap(op: string, x: Tensor): void {
  if (x.dtype !== 'f32' || x.rank !== 3)
    throw new ShapeError(`${op}: x must be an f32 [H, W, C] map, got ${x.dtype} ${formatShape(x.shape)}`);
}

/** One channel per invocation: adjacent invocations read adjacent words. */
const POOL_SOURCE = /* wgsl */ `
struct Dims { pixels: u32, channels: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let c = ${flatIndex(WG)};
  if (c >= dims.channels) { return; }
  var sum = 0.0;
  for (var p = 0u; p < dims.pixels; p++) { sum += x[p * dims.channels + c]; }
  y[c] = sum / f32(dims.pixels);
}`;

/** Mean over H and W: x [H, W, C] f32 -> [C] f32. */
export function globalAvgPool(x: Tensor<'f32'>): Tensor<'f32'> {
  checkMap('globalAvgPool', x);
  const [H, W, C] = x.shape;
  const device = x.device;
  const y = Tensor.empty(device, [C], 'f32'); // [H, W, C] -> [C]
  device.dispatch(
    device.kernel(POOL_SOURCE, 'global-avg-pool'),
    [x, y, { uniform: new Uint32Array([H * W, C]) }],
    grid1d(device, C, WG),
  );
  return y;
}

/** y[o] = activation(sum_i w[o, i] v[i] + b[o]), one invocation per output. */
function matvecSourceUncached(
  weightDType: FloatTensor['dtype'],
  biasDType: FloatTensor['dtype'],
  activation: Activation,
): string {
  return /* wgsl */ `
struct Dims { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> v: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<${wgslStorageType(weightDType)}>;
@group(0) @binding(2) var<storage, read> b: array<${wgslStorageType(biasDType)}>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
${loaderFn('w_at', 'w', weightDType)}
${loaderFn('b_at', 'b', biasDType)}
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let o = ${flatIndex(WG)};
  if (o >= dims.rows) { return; }
  var sum = 0.0;
  let row = o * dims.cols;
  for (var i = 0u; i < dims.cols; i++) { sum += w_at(row + i) * v[i]; }
  let z = sum + b_at(o);
  y[o] = ${activationExpr(activation, 'z')};
}`;
}

function pointwise(op: string, v: Tensor<'f32'>, conv: PointwiseConv, activation: Activation): Tensor<'f32'> {
  const device = v.device;
  const [rows, cols] = conv.weight.shape;
  const y = Tensor.empty(device, [rows], 'f32');
  const kernel = device.kernel(matvecSource(conv.weight.dtype, conv.bias.dtype, activation), `${op} ${activation}`);
  device.dispatch(
    kernel,
    [v, conv.weight, conv.bias, y, { uniform: new Uint32Array([rows, cols]) }],
    grid1d(device, rows, WG),
  );
  return y;
}

const channelScaleSource = (activation: Activation): string => /* wgsl */ `
${activation === 'gelu' ? WGSL_GELU : ''}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= arrayLength(&y)) { return; }
  let z = x[i] * gate[i % arrayLength(&gate)];
  y[i] = ${activationExpr(activation, 'z')};
}`;

function checkPointwise(op: string, name: string, conv: PointwiseConv, out: number, inp: number): void {
  const s = conv.weight.shape;
  if (!((s.length === 4 && s[2] === 1 && s[3] === 1) || s.length === 2)) {
    throw new ShapeError(`${op}: ${name}.weight must be [${out}, ${inp}, 1, 1], got ${formatShape(s)}`);
  }
  checkFloat(op, `${name}.weight`, conv.weight, s.length === 4 ? [out, inp, 1, 1] : [out, inp]);
  checkFloat(op, `${name}.bias`, conv.bias, [out]);
}

/**
 * Squeeze-excite: y = activation(x * sigmoid(expand(relu(reduce(mean_HW(x)))))) per channel.
 * x [H, W, C] f32; reduce weight [R, C, 1, 1], bias [R]; expand weight [C, R, 1, 1], bias [C].
 * Returns [H, W, C] f32.
 */
export function squeezeExcite(
  x: Tensor<'f32'>,
  se: SqueezeExciteWeights,
  activation: Activation = 'none',
): Tensor<'f32'> {
  const op = 'squeezeExcite';
  checkMap(op, x);
  const C = x.shape[2];
  const R = se.reduce.weight.shape[0];
  checkPointwise(op, 'reduce', se.reduce, R, C);
  checkPointwise(op, 'expand', se.expand, C, R);
  const device = x.device;
  return device.scope(() => {
    const pooled = globalAvgPool(x); // [C]
    const hidden = pointwise(`${op} reduce`, pooled, se.reduce, 'relu'); // [R]
    const gate = pointwise(`${op} expand`, hidden, se.expand, 'sigmoid'); // [C]
    const y = Tensor.empty(device, x.shape, 'f32');
    const kernel = device.kernel(channelScaleSource(activation), `${op} scale ${activation}`);
    device.dispatch(kernel, [x, gate, y], grid1d(device, x.size, WG));
    return y;
  });
}

const matvecSource = memoSource(matvecSourceUncached);
