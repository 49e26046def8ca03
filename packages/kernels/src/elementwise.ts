/**
 * Elementwise kernels on f32 tensors: activations, residual adds, products, and the layer-scale
 * residual `x + scale[c] * y` of FastViTHD blocks (channels last, so `c` is the last index).
 * Tensors above the binding limit come split into row blocks: the kernels run once per block of
 * the output, binding the same block of each operand of its shape (`recordBlocks`).
 */
import {
  formatShape,
  sameShape,
  ShapeError,
  Tensor,
  type Binding,
  type DispatchWork,
  type Kernel,
} from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { activationExpr, swigluGateExpr, WGSL_GELU, type Activation } from './shared/math.js';
import { memoSource } from './shared/memo-source.js';

const WG = 256;

function unarySourceUncached(activation: Activation): string {
  return /* wgsl */ `
${activation === 'gelu' ? WGSL_GELU : ''}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= arrayLength(&y)) { return; }
  let v = x[i];
  y[i] = ${activationExpr(activation, 'v')};
}`;
}

/**
 * Dispatches `kernel` once per row block of y (one block unless y is split), binding the same
 * block of every operand of y's shape and the whole of the others (broadcast vectors). Kernels
 * index by the flat position within the block, bounded by arrayLength(&y): blocks hold whole rows,
 * so a broadcast over the last dimension lines up.
 */
function recordBlocks(
  op: string,
  kernel: Kernel,
  operands: readonly Tensor<'f32'>[],
  y: Tensor<'f32'>,
  work: (elements: number) => DispatchWork,
): void {
  const device = y.device;
  const outBlocks = y.blocks();
  const blocksOf = operands.map((t) => (sameShape(t.shape, y.shape) ? t.blocks() : undefined));
  outBlocks.forEach((out, k) => {
    const bindings: Binding[] = operands.map((t, i) => {
      const blocks = blocksOf[i];
      if (!blocks) return t;
      const block = blocks[k];
      if (blocks.length !== outBlocks.length || block.rowStart !== out.rowStart || block.rowCount !== out.rowCount)
        throw new ShapeError(
          `${op}: operand ${i} ${formatShape(t.shape)} is split into row blocks other than its output's: copy it first`,
        );
      return block.ref;
    });
    const elements = (y.size / Math.max(y.shape[0] ?? 1, 1)) * out.rowCount;
    device.dispatch(kernel, [...bindings, out.ref], grid1d(device, elements, WG), work(elements));
  });
}

function checkF32(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'f32') throw new ShapeError(`${op}: expected f32 tensors, got ${t.dtype}`);
  }
}

/** y = activation(x), elementwise. */
export function activate(x: Tensor<'f32'>, activation: Activation): Tensor<'f32'> {
  checkF32(activation, x);
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  if (x.size === 0) return y;
  recordBlocks(activation, device.kernel(unarySource(activation), activation), [x], y, (n) => ({
    bytes: 8 * n,
    detail: formatShape(x.shape),
  }));
  return y;
}

export const gelu = (x: Tensor<'f32'>): Tensor<'f32'> => activate(x, 'gelu');
export const silu = (x: Tensor<'f32'>): Tensor<'f32'> => activate(x, 'silu');
export const relu = (x: Tensor<'f32'>): Tensor<'f32'> => activate(x, 'relu');
export const sigmoid = (x: Tensor<'f32'>): Tensor<'f32'> => activate(x, 'sigmoid');

export type BinaryOp = 'add' | 'mul' | 'silu_mul';

const BINARY_EXPR: Record<BinaryOp, string> = {
  add: 'a[i] + b[j]',
  mul: 'a[i] * b[j]',
  silu_mul: `${swigluGateExpr('a[i]')} * b[j]`,
};

function binarySourceUncached(op: BinaryOp, broadcastLast: boolean): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= arrayLength(&y)) { return; }
  let j = ${broadcastLast ? 'i % arrayLength(&b)' : 'i'};
  y[i] = ${BINARY_EXPR[op]};
}`;
}

/**
 * y = a (op) b, where b has a's shape or is a vector over a's last dimension (broadcast).
 * `silu_mul` is SwiGLU's silu(a) * b.
 */
export function binary(op: BinaryOp, a: Tensor<'f32'>, b: Tensor<'f32'>): Tensor<'f32'> {
  checkF32(op, a, b);
  const broadcastLast = !sameShape(a.shape, b.shape);
  if (broadcastLast && !(b.rank === 1 && b.shape[0] === a.shape[a.rank - 1])) {
    throw new ShapeError(
      `${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not match (b may also be a vector over a's last dimension)`,
    );
  }
  const device = a.device;
  const y = Tensor.empty(device, a.shape, 'f32');
  if (a.size === 0) return y;
  recordBlocks(op, device.kernel(binarySource(op, broadcastLast), op), [a, b], y, (n) => ({
    bytes: 12 * n,
    detail: formatShape(a.shape),
  }));
  return y;
}

export const add = (a: Tensor<'f32'>, b: Tensor<'f32'>): Tensor<'f32'> => binary('add', a, b);
export const mul = (a: Tensor<'f32'>, b: Tensor<'f32'>): Tensor<'f32'> => binary('mul', a, b);
export const siluMul = (gate: Tensor<'f32'>, up: Tensor<'f32'>): Tensor<'f32'> => binary('silu_mul', gate, up);

const LAYER_SCALE_SOURCE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> branch: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= arrayLength(&y)) { return; }
  y[i] = x[i] + scale[i % arrayLength(&scale)] * branch[i];
}`;

/** y = x + scale * branch with `scale` over the last (channel) dimension: a layer-scaled residual. */
export function layerScaleResidual(x: Tensor<'f32'>, branch: Tensor<'f32'>, scale: Tensor<'f32'>): Tensor<'f32'> {
  checkF32('layerScaleResidual', x, branch, scale);
  if (!sameShape(x.shape, branch.shape) || scale.size !== x.shape[x.rank - 1]) {
    throw new ShapeError(
      `layerScaleResidual: x ${formatShape(x.shape)}, branch ${formatShape(branch.shape)}, scale ${formatShape(scale.shape)}`,
    );
  }
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  if (x.size === 0) return y;
  recordBlocks(
    'layerScaleResidual',
    device.kernel(LAYER_SCALE_SOURCE, 'layer-scale-residual'),
    [x, branch, scale],
    y,
    (n) => ({
      bytes: 8 * n,
      detail: formatShape(x.shape),
    }),
  );
  return y;
}

const binarySource = memoSource(binarySourceUncached);
const unarySource = memoSource(unarySourceUncached);
