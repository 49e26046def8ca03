/**
 * General grouped 2-D convolution on channels-last maps: x [H, W, Cin] f32, weight in PyTorch's
 * layout [Cout, Cin/groups, kh, kw] (f32/f16/bf16), optional bias [Cout] and activation.
 *
 * Convolutions with one input channel per group (depthwise, or FastViTHD's `lkb_reparam` and
 * `conv_exp` with channel multiplier 2) go to the per-channel kernel of depthwise-conv2d.ts. The rest (the
 * stem's 3->96 conv, odd shapes) run here: one invocation computes 4 adjacent output channels for
 * 8 adjacent output pixels of a row, looping over the group's input channels and the kernel rows;
 * each input value is shared by the 4 channels when they lie in one group, each weight vec4 (the
 * weights repacked tap-major, see conv-weights.ts) by the 8 pixels.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { activationExpr, type Activation, WGSL_GELU } from './shared/math.js';
import { checkFloat, convOutputSize, packConvWeights, type FloatTensor } from './conv-weights.js';
import { recordMultiplierConv } from './depthwise-conv2d.js';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { memoSource } from './shared/memo-source.js';

export interface Conv2dOptions {
  /** [Cout] */
  bias?: FloatTensor;
  stride?: number;
  padding?: number;
  groups?: number;
  activation?: Activation;
}

interface GenericConvSpec {
  kernelH: number;
  kernelW: number;
  stride: number;
  padding: number;
  /** Cout/groups % 4 == 0: the 4 channels of an invocation read the same input channel. */
  sharedInput: boolean;
  /** Cout % 4 == 0: vec4 stores. */
  vectorOutput: boolean;
  activation: Activation;
}

const WG = 64;
/** Output pixels per invocation (8 vec4 accumulators; measured faster than 4 or 16 on the stem). */
const PIXELS = 8;

/** WGSL applying `activation` to each component of a vec4 expression bound to `v`. */
function activationVec4(activation: Activation, v: string): string {
  if (activation === 'none') return v;
  return `vec4<f32>(${['x', 'y', 'z', 'w'].map((c) => activationExpr(activation, `${v}.${c}`)).join(', ')})`;
}

function genericConvSourceUncached(spec: GenericConvSpec): string {
  const { kernelH: KH, kernelW: KW, stride: S, padding: PAD, sharedInput: shared } = spec;
  const cols = (PIXELS - 1) * S + KW;
  const lanes = [0, 1, 2, 3];
  const body: string[] = [];
  for (let p = 0; p < PIXELS; p++) body.push(`var acc_${p} = vec4<f32>(0.0);`);
  if (shared) body.push('let cin = (o0 / dims.outCPerGroup) * dims.inCPerGroup;');
  else
    for (const j of lanes)
      body.push(`let cin_${j} = (min(o0 + ${j}u, dims.outC - 1u) / dims.outCPerGroup) * dims.inCPerGroup;`);
  // kernel rows inside the map (runtime bounds, which also keep LLVM from unrolling the loop)
  body.push('let kyStart = u32(max(0, -iy0));');
  body.push(`let kyEnd = u32(min(${KH}, i32(dims.inH) - iy0));`);
  body.push('for (var ci = 0u; ci < dims.inCPerGroup; ci++) {');
  body.push('  for (var ky = kyStart; ky < kyEnd; ky++) {');
  body.push('    let row = i32(u32(iy0 + i32(ky)) * dims.inW * dims.inC);');
  body.push(`    let tapRow = (ci * ${KH * KW}u + ky * ${KW}u) * dims.quads + quad;`);
  for (let kx = 0; kx < KW; kx++) body.push(`    let wt_${kx} = taps[tapRow + ${kx}u * dims.quads];`);
  for (let c = 0; c < cols; c++) {
    body.push(`    let ix_${c} = ix0 + ${c};`);
    body.push(`    let at_${c} = u32(row + ix_${c} * i32(dims.inC));`);
    const load = shared
      ? `x[at_${c} + cin + ci]`
      : `vec4<f32>(${lanes.map((j) => `x[at_${c} + cin_${j} + ci]`).join(', ')})`;
    body.push(
      `    let v_${c} = select(${shared ? '0.0' : 'vec4<f32>(0.0)'}, ${load}, ix_${c} >= 0 && ix_${c} < i32(dims.inW));`,
    );
    for (let kx = 0; kx < KW; kx++) {
      const p = (c - kx) / S;
      if (Number.isInteger(p) && p >= 0 && p < PIXELS) body.push(`    acc_${p} += v_${c} * wt_${kx};`);
    }
  }
  body.push('  }');
  body.push('}');
  // The epilogue loops over the pixels so the activation's code is emitted once (short first compile).
  body.push('let bias = shift[quad];');
  body.push(`let pixels = min(${PIXELS}u, dims.outW - ox0);`);
  body.push('for (var p = 0u; p < pixels; p++) {');
  body.push('  var acc = acc_0;');
  for (let p = 1; p < PIXELS; p++) body.push(`  acc = select(acc, acc_${p}, p == ${p}u);`);
  body.push('  let o = acc + bias;');
  body.push(`  let a = ${activationVec4(spec.activation, 'o')};`);
  body.push('  let pix = (oy * dims.outW + ox0 + p) * dims.outC + o0;');
  if (spec.vectorOutput) body.push('  y[pix / 4u] = a;');
  else for (const j of lanes) body.push(`  if (o0 + ${j}u < dims.outC) { y[pix + ${j}u] = a[${j}]; }`);
  body.push('}');

  return /* wgsl */ `
struct Dims { inH: u32, inW: u32, outH: u32, outW: u32, quads: u32, tiles: u32, inC: u32, outC: u32, inCPerGroup: u32, outCPerGroup: u32 }
${spec.activation === 'gelu' ? WGSL_GELU : ''}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> taps: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> shift: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<${spec.vectorOutput ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(4) var<uniform> dims: Dims;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let index = ${flatIndex(WG)};
  let quad = index % dims.quads;
  let rest = index / dims.quads;
  let oy = rest / dims.tiles;
  if (oy >= dims.outH) { return; }
  let ox0 = (rest % dims.tiles) * ${PIXELS}u;
  let ix0 = i32(ox0 * ${S}u) - ${PAD};
  let iy0 = i32(oy * ${S}u) - ${PAD};
  let o0 = quad * 4u;
  ${body.join('\n  ')}
}`;
}

/**
 * y = activation(conv2d(x, weight) + bias): x [H, W, Cin] f32, weight [Cout, Cin/groups, kh, kw]
 * f32/f16/bf16, bias [Cout]. Returns [Ho, Wo, Cout] f32.
 */
export function conv2d(x: Tensor<'f32'>, weight: FloatTensor, options: Conv2dOptions = {}): Tensor<'f32'> {
  const op = 'conv2d';
  const { stride = 1, padding = 0, groups = 1, activation = 'none', bias } = options;
  if (x.dtype !== 'f32' || x.rank !== 3)
    throw new ShapeError(`${op}: x must be an f32 [H, W, C] map, got ${x.dtype} ${formatShape(x.shape)}`);
  const [H, W, inC] = x.shape;
  for (const [name, v, min] of [
    ['stride', stride, 1],
    ['padding', padding, 0],
    ['groups', groups, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new ShapeError(`${op}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (inC % groups !== 0) throw new ShapeError(`${op}: ${inC} input channels do not split into ${groups} groups`);
  if (weight.rank !== 4 || weight.shape[1] !== inC / groups || weight.shape[0] % groups !== 0) {
    throw new ShapeError(
      `${op}: weight must be [Cout, ${inC / groups}, kh, kw] with Cout a multiple of ${groups} for x ${formatShape(x.shape)} and ${groups} groups, got ${formatShape(weight.shape)}`,
    );
  }
  checkFloat(op, 'weight', weight, weight.shape);
  const [outC, , kernelH, kernelW] = weight.shape;
  if (bias) checkFloat(op, 'bias', bias, [outC]);
  if (inC === groups) {
    // one input channel per group: depthwise with channel multiplier Cout / Cin
    return recordMultiplierConv(
      op,
      x,
      weight,
      { kernelH, kernelW, stride, padding, multiplier: outC / inC, activation },
      bias,
      undefined,
    );
  }
  const outH = convOutputSize(op, H, kernelH, stride, padding);
  const outW = convOutputSize(op, W, kernelW, stride, padding);
  const spec: GenericConvSpec = {
    kernelH,
    kernelW,
    stride,
    padding,
    sharedInput: (outC / groups) % 4 === 0,
    vectorOutput: outC % 4 === 0,
    activation,
  };
  const quads = Math.ceil(outC / 4);
  const tiles = Math.ceil(outW / PIXELS);
  const dims = new Uint32Array([H, W, outH, outW, quads, tiles, inC, outC, inC / groups, outC / groups]);
  const device = x.device;
  return device.scope(() => {
    const { taps, shift } = packConvWeights(weight, quads * 4, bias, undefined);
    const y = Tensor.empty(device, [outH, outW, outC], 'f32'); // [Ho, Wo, Cout]
    const kernel = device.kernel(genericConvSource(spec), `${op} ${kernelH}x${kernelW}/${stride}`);
    const work = {
      flops: 2 * outH * outW * outC * (inC / groups) * kernelH * kernelW,
      bytes: 4 * (x.size + y.size),
      detail: `[${H},${W},${inC}]->${outC} g${groups}`,
    };
    device.dispatch(kernel, [x, taps, shift, y, { uniform: dims }], grid1d(device, quads * tiles * outH, WG), work);
    return y;
  });
}

export const genericConvSource = memoSource(genericConvSourceUncached);
