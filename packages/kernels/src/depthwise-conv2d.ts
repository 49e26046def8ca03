/**
 * Depthwise convolution on channels-last maps, the fast path of FastViTHD's 3x3 and 7x7 mixers,
 * also serving grouped convolutions with one input channel per group and a channel multiplier M
 * (`lkb_reparam`, `conv_exp`: output channel o reads input channel floor(o / M)).
 *
 * On lavapipe every storage load costs a bounds-checked scalar access per lane, and registers run
 * out past ~32 floats per invocation, so one invocation computes ONE input channel's M outputs for
 * a run of 16/M adjacent output pixels of a row (adjacent invocations take adjacent channels):
 * per kernel row it loads the row's kw*M weights once and streams the input pixels of the run, each
 * feeding up to kw outputs. For the 7x7 that is ~13 loads per output instead of 98. (A vec4 of
 * channels per invocation was measured 2x slower: four times the registers, and a vec4 load is
 * still four lane-by-lane loads.) The weights are first repacked tap-major by conv-weights.ts,
 * which also folds in the bias and an optional BatchNorm.
 */
import { formatShape, ShapeError, Tensor, type DispatchAccess } from '@fastvlm/tensor';
import { checkFloat, convOutputSize, packConvWeights, type BatchNorm, type FloatTensor } from './conv-weights.js';
import { activationExpr, type Activation, WGSL_GELU } from './shared/math.js';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { memoSource } from './shared/memo-source.js';

export interface DepthwiseConv2dOptions {
  /** [C], added before the norm. */
  bias?: FloatTensor;
  stride?: 1 | 2;
  padding: number;
  /** The checkpoint's BatchNorm after the convolution (folded into the weights for the call). */
  batchNorm?: BatchNorm;
  activation?: Activation;
}

/** What a channel-multiplier kernel is specialised on (sizes that vary per call go in a uniform). */
export interface MultiplierConvSpec {
  kernelH: number;
  kernelW: number;
  stride: number;
  padding: number;
  multiplier: number;
  activation: Activation;
}

const WG = 64;

/** Output pixels per invocation: accumulators plus one kernel row of weights stay near 32 floats. */
function pixelsPerInvocation(multiplier: number): number {
  return Math.max(1, Math.floor(16 / multiplier));
}

function multiplierConvSourceUncached(spec: MultiplierConvSpec): string {
  const { kernelH: KH, kernelW: KW, stride: S, padding: PAD, multiplier: M, activation } = spec;
  const P = pixelsPerInvocation(M);
  const outputs = [...Array(M).keys()];
  const body: string[] = [];
  for (let p = 0; p < P; p++) for (const r of outputs) body.push(`var acc_${p}_${r} = 0.0;`);
  // kernel rows inside the map (runtime bounds, which also keep LLVM from unrolling the loop)
  body.push(`let kyEnd = u32(min(${KH}, i32(dims.inH) - iy0));`);
  body.push('for (var ky = u32(max(0, -iy0)); ky < kyEnd; ky++) {');
  body.push('  let row = i32((u32(iy0 + i32(ky)) * dims.inW) * dims.inC + ch);');
  body.push(`  let tapRow = ky * ${KW}u * dims.outC + ch * ${M}u;`);
  for (let kx = 0; kx < KW; kx++)
    for (const r of outputs) body.push(`  let w_${kx}_${r} = taps[tapRow + ${kx}u * dims.outC + ${r}u];`);
  for (let c = 0; c < (P - 1) * S + KW; c++) {
    body.push(`  let ix_${c} = ix0 + ${c};`);
    body.push(
      `  let v_${c} = select(0.0, x[u32(row + ix_${c} * i32(dims.inC))], ix_${c} >= 0 && ix_${c} < i32(dims.inW));`,
    );
    for (let kx = 0; kx < KW; kx++) {
      const p = (c - kx) / S;
      if (Number.isInteger(p) && p >= 0 && p < P)
        for (const r of outputs) body.push(`  acc_${p}_${r} += v_${c} * w_${kx}_${r};`);
    }
  }
  body.push('}');
  // The epilogue loops over the pixels (picking accumulators by select) so that the activation's
  // code is emitted once, not once per pixel: that keeps the first compile short.
  for (const r of outputs) body.push(`let shift_${r} = shift[ch * ${M}u + ${r}u];`);
  body.push(`let pixels = min(${P}u, dims.outW - ox0);`);
  body.push('for (var p = 0u; p < pixels; p++) {');
  body.push(`  let out = (oy * dims.outW + ox0 + p) * dims.outC + ch * ${M}u;`);
  for (const r of outputs) {
    body.push(`  var acc_${r} = acc_0_${r};`);
    for (let p = 1; p < P; p++) body.push(`  acc_${r} = select(acc_${r}, acc_${p}_${r}, p == ${p}u);`);
    body.push(`  let o_${r} = acc_${r} + shift_${r};`);
    body.push(`  y[out + ${r}u] = ${activationExpr(activation, `o_${r}`)};`);
  }
  body.push('}');

  return /* wgsl */ `
struct Dims { inH: u32, inW: u32, outH: u32, outW: u32, tiles: u32, inC: u32, outC: u32 }
${activation === 'gelu' ? WGSL_GELU : ''}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> taps: array<f32>;
@group(0) @binding(2) var<storage, read> shift: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let index = ${flatIndex(WG)};
  let ch = index % dims.inC;
  let rest = index / dims.inC;
  let oy = rest / dims.tiles;
  if (oy >= dims.outH) { return; }
  let ox0 = (rest % dims.tiles) * ${P}u;
  let ix0 = i32(ox0 * ${S}u) - ${PAD};
  let iy0 = i32(oy * ${S}u) - ${PAD};
  ${body.join('\n  ')}
}`;
}

/** Per invocation: each kernel row's input run and its weights; adjacent invocations take adjacent channels. */
function multiplierConvAccess(spec: MultiplierConvSpec): DispatchAccess {
  const { kernelH: KH, kernelW: KW, stride: S, multiplier: M } = spec;
  const run = (pixelsPerInvocation(M) - 1) * S + KW;
  return {
    bytesPerInvocation: 4 * KH * (run + KW * M),
    coalesced: true,
    pattern: 'channels last, invocation i takes channel i: neighbours read adjacent 4-byte values',
  };
}

/**
 * Records a channel-multiplier convolution: x [H, W, C] f32, weight [C*M, 1, kh, kw] -> [Ho, Wo, C*M].
 * Shapes and dtypes are checked by the callers.
 */
export function recordMultiplierConv(
  op: string,
  x: Tensor<'f32'>,
  weight: FloatTensor,
  spec: MultiplierConvSpec,
  bias: FloatTensor | undefined,
  batchNorm: BatchNorm | undefined,
): Tensor<'f32'> {
  const [H, W, C] = x.shape;
  const outC = C * spec.multiplier;
  const outH = convOutputSize(op, H, spec.kernelH, spec.stride, spec.padding);
  const outW = convOutputSize(op, W, spec.kernelW, spec.stride, spec.padding);
  const tiles = Math.ceil(outW / pixelsPerInvocation(spec.multiplier));
  const device = x.device;
  return device.scope(() => {
    const { taps, shift } = packConvWeights(weight, outC, bias, batchNorm);
    const y = Tensor.empty(device, [outH, outW, outC], 'f32'); // [Ho, Wo, C*M]
    const kernel = device.kernel(
      multiplierConvSource(spec),
      `${op} ${spec.kernelH}x${spec.kernelW}/${spec.stride} x${spec.multiplier}`,
    );
    const dims = new Uint32Array([H, W, outH, outW, tiles, C, outC]);
    const work = {
      flops: 2 * outH * outW * outC * spec.kernelH * spec.kernelW,
      bytes: 4 * (x.size + y.size),
      detail: `[${H},${W},${C}]->${outC}`,
      access: multiplierConvAccess(spec),
    };
    device.dispatch(kernel, [x, taps, shift, y, { uniform: dims }], grid1d(device, C * tiles * outH, WG), work);
    return y;
  });
}

/**
 * Depthwise convolution: x [H, W, C] f32, weight [C, 1, kh, kw] (f32/f16/bf16), optional bias [C],
 * then an optional BatchNorm (the checkpoint's running stats, see `BatchNorm`) and activation.
 * Returns [Ho, Wo, C] f32.
 */
export function depthwiseConv2d(x: Tensor<'f32'>, weight: FloatTensor, options: DepthwiseConv2dOptions): Tensor<'f32'> {
  const op = 'depthwiseConv2d';
  const stride = options.stride ?? 1;
  if (x.dtype !== 'f32' || x.rank !== 3)
    throw new ShapeError(`${op}: x must be an f32 [H, W, C] map, got ${x.dtype} ${formatShape(x.shape)}`);
  const C = x.shape[2];
  if (weight.rank !== 4 || weight.shape[0] !== C || weight.shape[1] !== 1) {
    throw new ShapeError(
      `${op}: weight must be [${C}, 1, kh, kw] for x ${formatShape(x.shape)}, got ${formatShape(weight.shape)}`,
    );
  }
  checkFloat(op, 'weight', weight, weight.shape);
  if (stride !== 1 && stride !== 2) throw new ShapeError(`${op}: stride must be 1 or 2, got ${String(stride)}`);
  if (!Number.isInteger(options.padding) || options.padding < 0)
    throw new ShapeError(`${op}: padding must be a non-negative integer`);
  if (options.bias) checkFloat(op, 'bias', options.bias, [C]);
  const bn = options.batchNorm;
  if (bn)
    for (const name of ['runningMean', 'runningVar', 'weight', 'bias'] as const)
      checkFloat(op, `batchNorm.${name}`, bn[name], [C]);
  const [, , kernelH, kernelW] = weight.shape;
  const spec = {
    kernelH,
    kernelW,
    stride,
    padding: options.padding,
    multiplier: 1,
    activation: options.activation ?? 'none',
  };
  return recordMultiplierConv(op, x, weight, spec, options.bias, bn);
}

export const multiplierConvSource = memoSource(multiplierConvSourceUncached);
