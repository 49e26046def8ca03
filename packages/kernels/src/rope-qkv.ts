/**
 * The attention input of a Qwen2 layer in one pass: the stacked q/k/v projection [T, (H + 2G)·d]
 * (q_proj, k_proj and v_proj as one weight) is split into heads, q and k are rotated by RoPE at
 * positions start .. start+T-1, and k and v are written into the layer's KV cache in place; q comes
 * back. One dispatch for what `rope` (q), `rope` (k) and `appendKv` do in three, with the same
 * arithmetic as `rope` (the results are bit-identical).
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { checkAppend, type KvCache } from './kv-cache.js';
import { memoSource } from './shared/memo-source.js';
import { wgslSinCos } from './shared/math.js';
import { MAX_HEAD_DIM, ropeParams } from './rope.js';

const WG = 64;

function ropeQkvSourceUncached(vec: 1 | 4): string {
  const type = vec === 4 ? 'vec4<f32>' : 'f32';
  const frequency = vec === 4 ? 'p.inverseFrequency[g]' : 'p.inverseFrequency[g / 4u][g % 4u]';
  return /* wgsl */ `
struct Params { tokens: u32, heads: u32, kvHeads: u32, groups: u32, start: u32, maxSeq: u32, inverseFrequency: array<vec4<f32>, ${MAX_HEAD_DIM / 8}> }
@group(0) @binding(0) var<storage, read> qkv: array<${type}>;
@group(0) @binding(1) var<storage, read_write> q: array<${type}>;
@group(0) @binding(2) var<storage, read_write> cacheK: array<${type}>;
@group(0) @binding(3) var<storage, read_write> cacheV: array<${type}>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let t = ${flatIndex(WG)};
  let token = t / p.groups;
  let g = t % p.groups; // which ${vec} of the d/2 rotation pairs (x[j] with x[j + d/2])
  if (token >= p.tokens) { return; }
  let angle = f32(p.start + token) * ${frequency};
  let rotation = sin_cos(angle);
  let c = rotation.c;
  let s = rotation.s;
  let head = 2u * p.groups; // one head's width, in ${type}s
  let row = token * (p.heads + 2u * p.kvHeads) * head + g;
  for (var h = 0u; h < p.heads; h++) {
    let x1 = qkv[row + h * head];
    let x2 = qkv[row + h * head + p.groups];
    let out = (token * p.heads + h) * head + g; // q [T, heads, d]
    q[out] = x1 * c - x2 * s;
    q[out + p.groups] = x2 * c + x1 * s;
  }
  for (var h = 0u; h < p.kvHeads; h++) {
    let k = row + (p.heads + h) * head;
    let v = row + (p.heads + p.kvHeads + h) * head;
    let at = (h * p.maxSeq + p.start + token) * head + g; // cache [kvHeads, maxSeq, d]
    let x1 = qkv[k];
    let x2 = qkv[k + p.groups];
    cacheK[at] = x1 * c - x2 * s;
    cacheK[at + p.groups] = x2 * c + x1 * s;
    cacheV[at] = qkv[v];
    cacheV[at + p.groups] = qkv[v + p.groups];
  }
}
${wgslSinCos(vec)}`;
}

const ropeQkvSource = memoSource(ropeQkvSourceUncached);

/**
 * qkv [T, (heads + 2·kvHeads)·headDim] f32, heads' q first, then the cache's kvHeads keys, then as
 * many values, of the tokens at positions start .. start+T-1 -> q [T, heads, headDim] after RoPE.
 * Writes the rotated keys and the values into `layer` of the cache and sets `cache.length`.
 */
export function ropeQkvIntoCache(
  qkv: Tensor<'f32'>,
  heads: number,
  cache: KvCache,
  layer: number,
  start: number,
  theta: number,
): Tensor<'f32'> {
  const op = 'ropeQkvIntoCache';
  const { keys, values } = cache.layer(layer);
  const { kvHeads, headDim } = cache;
  if (!Number.isInteger(heads) || heads < 1)
    throw new ShapeError(`${op}: heads must be a positive integer, got ${heads}`);
  if (headDim % 2 !== 0 || headDim > MAX_HEAD_DIM)
    throw new ShapeError(`${op}: head_dim ${headDim} must be even and at most ${MAX_HEAD_DIM}`);
  const width = (heads + 2 * kvHeads) * headDim;
  if (qkv.dtype !== 'f32' || qkv.rank !== 2 || qkv.shape[1] !== width || qkv.shape[0] < 1) {
    throw new ShapeError(
      `${op}: qkv must be f32 [T, ${width}] (${heads} q heads + 2 x ${kvHeads} kv heads of ${headDim}), got ${qkv.dtype} ${formatShape(qkv.shape)}`,
    );
  }
  const tokens = qkv.shape[0];
  checkAppend(op, cache, tokens, start);
  const device = qkv.device;
  const q = Tensor.empty(device, [tokens, heads, headDim], 'f32');
  const vec = (headDim / 2) % 4 === 0 ? 4 : 1;
  const groups = headDim / 2 / vec;
  const params = ropeParams(
    [
      [tokens, 'u32'],
      [heads, 'u32'],
      [kvHeads, 'u32'],
      [groups, 'u32'],
      [start, 'u32'],
      [cache.maxSeq, 'u32'],
    ],
    theta,
    headDim,
  );
  const work = {
    bytes: 4 * (qkv.size + tokens * (heads + 2 * kvHeads) * headDim),
    detail: `T${tokens} ${heads}+2x${kvHeads} heads`,
  };
  device.dispatch(
    device.kernel(ropeQkvSource(vec), `rope-qkv-${vec}`),
    [qkv, q, keys, values, { uniform: params }],
    grid1d(device, tokens * groups, WG),
    work,
  );
  cache.length = start + tokens;
  return q;
}
