/**
 * Qwen2's rotary position embedding, rotate-half layout: for each head vector of width d,
 * out = x · cos + rotate_half(x) · sin with rotate_half(x) = concat(-x[d/2:], x[:d/2]) and the
 * angle of pair j = pos · inv_freq[j], inv_freq[j] = theta^(-2j/d). As in transformers, inv_freq
 * and the angle are f32 (one rounding each), and cos / sin are taken of that f32 angle.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { uniformFields } from './shared/uniforms.js';
import { memoSource } from './shared/memo-source.js';
import { wgslSinCos } from './shared/math.js';

const WG = 64;
/** The uniform holds d/2 ≤ 64 inverse frequencies. */
export const MAX_HEAD_DIM = 128;

/**
 * inv_freq[j] = 1 / theta^(2j/d) for j < d/2, each step rounded to f32 as
 * `1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))` does.
 */
export function ropeInverseFrequencies(theta: number, headDim: number): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(headDim / 2);
  for (let j = 0; j < headDim / 2; j++) out[j] = f(1 / f(Math.pow(theta, f((2 * j) / headDim))));
  return out;
}

function ropeSourceUncached(vec: 1 | 4, positionsFromTensor: boolean): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const frequency = vec === 4 ? 'params.inverseFrequency[g]' : 'params.inverseFrequency[g / 4u][g % 4u]';
  return /* wgsl */ `
struct Params { tokens: u32, heads: u32, groups: u32, start: i32, inverseFrequency: array<vec4<f32>, ${MAX_HEAD_DIM / 8}> }
@group(0) @binding(0) var<storage, read> x: array<${type}>;
@group(0) @binding(1) var<storage, read_write> y: array<${type}>;
@group(0) @binding(2) var<uniform> params: Params;
${positionsFromTensor ? '@group(0) @binding(3) var<storage, read> positions: array<i32>;' : ''}
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let t = ${flatIndex(WG)};
  let token = t / params.groups;
  let g = t % params.groups; // which ${vec} of the d/2 rotation pairs
  if (token >= params.tokens) { return; }
  let position = f32(${positionsFromTensor ? 'positions[token]' : 'params.start + i32(token)'});
  let angle = position * ${frequency};
  let rotation = sin_cos(angle);
  let c = rotation.c;
  let s = rotation.s;
  for (var h = 0u; h < params.heads; h++) {
    let first = (token * params.heads + h) * 2u * params.groups + g; // x[..., j]
    let second = first + params.groups; // x[..., j + d/2]
    let x1 = x[first];
    let x2 = x[second];
    y[first] = x1 * c - x2 * s;
    y[second] = x2 * c + x1 * s;
  }
}
${wgslSinCos(vec)}`;
}

/**
 * Rotary embedding of x [T, heads, d] f32 (d even, at most 128) at the positions of its tokens:
 * an i32 tensor [T], or a number, the position of token 0 (token t is at start + t).
 */
export function rope(x: Tensor<'f32'>, positions: Tensor<'i32'> | number, theta: number): Tensor<'f32'> {
  if (x.dtype !== 'f32') throw new ShapeError(`rope: x must be f32, got ${x.dtype}`);
  if (x.rank !== 3) throw new ShapeError(`rope: x must be [tokens, heads, head_dim], got ${formatShape(x.shape)}`);
  const [tokens, heads, headDim] = x.shape;
  if (headDim % 2 !== 0 || headDim > MAX_HEAD_DIM)
    throw new ShapeError(`rope: head_dim ${headDim} must be even and at most ${MAX_HEAD_DIM}`);
  if (typeof positions === 'number') {
    if (!Number.isSafeInteger(positions) || positions < 0)
      throw new ShapeError(`rope: start position ${positions} must be a non-negative integer`);
  } else {
    if (positions.dtype !== 'i32') throw new ShapeError(`rope: positions must be i32, got ${positions.dtype}`);
    if (positions.rank !== 1 || positions.shape[0] !== tokens) {
      throw new ShapeError(
        `rope: positions ${formatShape(positions.shape)} must be [${tokens}] for x ${formatShape(x.shape)}`,
      );
    }
  }
  const device = x.device;
  const y = Tensor.empty(device, x.shape, 'f32');
  if (x.size === 0) return y;
  const vec = (headDim / 2) % 4 === 0 ? 4 : 1;
  const groups = headDim / 2 / vec;
  const fromTensor = typeof positions !== 'number';
  const kernel = device.kernel(ropeSource(vec, fromTensor), `rope-${vec}`);
  const params = ropeParams(
    [
      [tokens, 'u32'],
      [heads, 'u32'],
      [groups, 'u32'],
      [fromTensor ? 0 : positions, 'i32'],
    ],
    theta,
    headDim,
  );
  const bindings = [x, y, { uniform: params }, ...(fromTensor ? [positions] : [])];
  device.dispatch(kernel, bindings, grid1d(device, tokens * groups, WG));
  return y;
}

const ropeSource = memoSource(ropeSourceUncached);

/**
 * A RoPE kernel's uniform: the header `fields` (padded to 16 bytes), then the d/2 inverse
 * frequencies as `array<vec4<f32>, MAX_HEAD_DIM / 8>`.
 */
export function ropeParams(fields: Parameters<typeof uniformFields>[0], theta: number, headDim: number): Uint32Array {
  const header = uniformFields(fields);
  const params = new Uint32Array(header.length + MAX_HEAD_DIM / 2);
  params.set(header);
  new Float32Array(params.buffer, header.byteLength).set(ropeInverseFrequencies(theta, headDim));
  return params;
}
