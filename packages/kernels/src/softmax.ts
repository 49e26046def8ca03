/**
 * Softmax over the last dimension, max-subtracted so that large values and -inf are safe, with an
 * optional temperature: softmax(x / T). Each thread keeps a running max m and a sum s of
 * exp(v - m) rescaled whenever m grows, so x is read twice (once more to write y).
 * Rows up to 16384 values get one thread each; longer rows (the 151936-entry vocabulary) one
 * workgroup each, whose threads merge their (m, s) through workgroup memory.
 */
import { ShapeError, Tensor } from '@fastvlm/tensor';
import { grid1d } from './shared/grid.js';
import { WGSL_EXP_FLUSHED } from './shared/math.js';
import { memoSource } from './shared/memo-source.js';
import { uniformFields } from './shared/uniforms.js';

const WG = 64; // rows per workgroup of the row-per-invocation kernel
const WIDE_ROW = 16384; // longer rows are spread over a workgroup
const WIDE_WG = 256;
const LOWEST = '-3.4028234e38'; // the running max starts finite so that exp(m - m') never sees -inf - -inf

const rowType = (vec: 1 | 4): string => (vec === 4 ? 'vec4<f32>' : 'f32');
/** WGSL: the sum / max of the components of `v` (a `rowType` value). */
const horizontalSum = (vec: 1 | 4, v: string): string => (vec === 4 ? `dot(${v}, vec4<f32>(1.0))` : v);
const horizontalMax = (vec: 1 | 4, v: string): string =>
  vec === 4 ? `max(max(${v}.x, ${v}.y), max(${v}.z, ${v}.w))` : v;

function bindings(vec: 1 | 4): string {
  return /* wgsl */ `
struct Params { rows: u32, n: u32, temperature: f32 }
@group(0) @binding(0) var<storage, read> x: array<${rowType(vec)}>;
@group(0) @binding(1) var<storage, read_write> y: array<${rowType(vec)}>;
@group(0) @binding(2) var<uniform> params: Params;`;
}

/** The loops of one thread over values first, first + step, ... of its row, leaving m and s. */
function onlineMaxAndSum(vec: 1 | 4, first: string, step: string): string {
  return /* wgsl */ `
  var m = ${LOWEST};
  var s = 0.0;
  for (var i = ${first}; i < n; i += ${step}) {
    let v = x[base + i] / params.temperature;
    let next = max(m, ${horizontalMax(vec, 'v')});
    s = s * exp_flushed(m - next) + ${horizontalSum(vec, `${vec === 4 ? 'exp_flushed4' : 'exp_flushed'}(v - next)`)};
    m = next;
  }`;
}

function writeLoop(vec: 1 | 4, first: string, step: string, max: string, inverseSum: string): string {
  return /* wgsl */ `
  for (var i = ${first}; i < n; i += ${step}) {
    y[base + i] = ${vec === 4 ? 'exp_flushed4' : 'exp_flushed'}(x[base + i] / params.temperature - ${max}) * ${inverseSum};
  }`;
}

function rowPerThreadSourceUncached(vec: 1 | 4): string {
  return /* wgsl */ `${bindings(vec)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = (gid.x + gid.y * nwg.x * ${WG}u);
  if (row >= params.rows) { return; }
  let n = params.n;
  let base = row * n;
  ${onlineMaxAndSum(vec, '0u', '1u')}
  ${writeLoop(vec, '0u', '1u', 'm', '(1.0 / s)')}
}`;
}

function rowPerWorkgroupSourceUncached(vec: 1 | 4): string {
  const reduce = (name: string, combine: string): string => /* wgsl */ `
fn ${name}(local: u32, value: f32) -> f32 {
  scratch[local] = value;
  workgroupBarrier();
  for (var half = ${WIDE_WG / 2}u; half > 0u; half >>= 1u) {
    if (local < half) { let a = scratch[local]; let b = scratch[local + half]; scratch[local] = ${combine}; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}`;
  return /* wgsl */ `${bindings(vec)}
var<workgroup> scratch: array<f32, ${WIDE_WG}>;
${reduce('workgroupSum', 'a + b')}
${reduce('workgroupMax', 'max(a, b)')}
@compute @workgroup_size(${WIDE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let n = params.n;
  let base = row * n;
  ${onlineMaxAndSum(vec, 'local', `${WIDE_WG}u`)}
  let rowMax = workgroupMax(local, m);
  let inverseSum = 1.0 / workgroupSum(local, s * exp_flushed(m - rowMax));
  ${writeLoop(vec, 'local', `${WIDE_WG}u`, 'rowMax', 'inverseSum')}
}`;
}

export interface SoftmaxOptions {
  /** softmax(x / temperature); default 1. */
  temperature?: number;
}

/**
 * Softmax over the last dimension of x [..., N] f32. A tensor split into row blocks (logits of many
 * tokens over the vocabulary) is handled block by block.
 */
export function softmax(x: Tensor<'f32'>, options: SoftmaxOptions = {}): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new ShapeError(`softmax: x must be f32, got ${x.dtype}`);
  if (x.rank < 1) throw new ShapeError('softmax: x must have at least one dimension');
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new ShapeError(`softmax: temperature must be positive and finite, got ${temperature}`);
  const device = x.device;
  const length = x.shape[x.rank - 1];
  const inputBlocks = x.blocks();
  // an output split exactly like the input: its first block's size sets the rows per block
  const y = Tensor.empty(device, x.shape, 'f32', x.isSplit ? { maxBlockBytes: inputBlocks[0].ref.size } : {});
  if (x.size === 0) return y;
  const vec = length % 4 === 0 ? 4 : 1;
  const wide = length > WIDE_ROW;
  const kernel = wide
    ? device.kernel(rowPerWorkgroupSource(vec), 'softmax-wide')
    : device.kernel(rowPerThreadSource(vec), 'softmax');
  const outputBlocks = y.blocks();
  inputBlocks.forEach((block, b) => {
    const rows = block.ref.size / 4 / length;
    const params = uniformFields([
      [rows, 'u32'],
      [length / vec, 'u32'],
      [temperature, 'f32'],
    ]);
    const grid = wide ? grid1d(device, rows, 1) : grid1d(device, rows, WG);
    device.dispatch(kernel, [block.ref, outputBlocks[b].ref, { uniform: params }], grid);
  });
  return y;
}

const rowPerWorkgroupSource = memoSource(
  (...args: Parameters<typeof rowPerWorkgroupSourceUncached>) =>
    rowPerWorkgroupSourceUncached(...args) + WGSL_EXP_FLUSHED,
);
const rowPerThreadSource = memoSource(
  (...args: Parameters<typeof rowPerThreadSourceUncached>) => rowPerThreadSourceUncached(...args) + WGSL_EXP_FLUSHED,
);
