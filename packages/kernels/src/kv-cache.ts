/**
 * The LLM's key/value cache: per layer a K and a V tensor [kvHeads, maxSeq, headDim] (f32), sized
 * once from the request.
 *
 * Who writes it: **`ropeQkvIntoCache`** (rope-qkv.ts), in the same dispatch that applies RoPE to
 * the stacked q/k/v projection: this is how Qwen2's attention fills the cache. `appendKv` (below)
 * writes already-rotated k and v; it serves the unfused q/k/v path (a stacked weight above the
 * binding limit) and tests. Who reads it: `causalAttention` only. Both writers set `length`.
 */
import { formatShape, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';

export interface KvCacheOptions {
  layers: number;
  kvHeads: number;
  /** Positions the cache holds: prompt plus every token that may be generated. */
  maxSeq: number;
  headDim: number;
}

export class KvCache {
  readonly layers: number;
  readonly kvHeads: number;
  readonly maxSeq: number;
  readonly headDim: number;
  /** Per layer: keys [kvHeads, maxSeq, headDim]. */
  readonly keys: readonly Tensor<'f32'>[];
  /** Per layer: values [kvHeads, maxSeq, headDim]. */
  readonly values: readonly Tensor<'f32'>[];
  /** Positions written so far (by the last `ropeQkvIntoCache` or `appendKv`: start + T). */
  length = 0;

  constructor(device: Device, options: KvCacheOptions) {
    const { layers, kvHeads, maxSeq, headDim } = options;
    for (const [name, value] of Object.entries(options)) {
      if (!Number.isInteger(value) || value < 1)
        throw new ShapeError(`KvCache: ${name} must be a positive integer, got ${value}`);
    }
    if (headDim % 4 !== 0) throw new ShapeError(`KvCache: headDim ${headDim} must be a multiple of 4`);
    const bytes = kvHeads * maxSeq * headDim * 4;
    if (bytes > device.limits.maxStorageBufferBindingSize) {
      throw new ShapeError(
        `KvCache: one layer's keys take ${bytes} bytes for maxSeq ${maxSeq}, above the ${device.limits.maxStorageBufferBindingSize}-byte binding limit`,
      );
    }
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.maxSeq = maxSeq;
    this.headDim = headDim;
    const shape = [kvHeads, maxSeq, headDim];
    // Kept out of any open scope: the cache lives until dispose().
    this.keys = Array.from({ length: layers }, () =>
      Tensor.empty(device, shape, 'f32', { label: 'kv-cache-keys' }).keep(),
    );
    this.values = Array.from({ length: layers }, () =>
      Tensor.empty(device, shape, 'f32', { label: 'kv-cache-values' }).keep(),
    );
  }

  /** Checks `layer` and returns its K and V tensors. */
  layer(layer: number): { keys: Tensor<'f32'>; values: Tensor<'f32'> } {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layers)
      throw new ShapeError(`KvCache: layer ${layer} is outside 0..${this.layers - 1}`);
    return { keys: this.keys[layer], values: this.values[layer] };
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
    this.length = 0;
  }
}

const WG = 64;

/** Invocation i copies vec4 i of k and of v ([T, kvHeads, hd]) to position start + t of the cache. */
const APPEND_SOURCE = /* wgsl */ `
struct Params { count: u32, kvHeads: u32, vecsPerRow: u32, maxSeq: u32, start: u32 }
@group(0) @binding(0) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> cacheK: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> cacheV: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= p.count) { return; }
  let d = i % p.vecsPerRow;
  let head = (i / p.vecsPerRow) % p.kvHeads;
  let t = i / (p.vecsPerRow * p.kvHeads);
  let at = (head * p.maxSeq + p.start + t) * p.vecsPerRow + d; // [kvHeads, maxSeq, hd]
  cacheK[at] = k[i];
  cacheV[at] = v[i];
}`;

/**
 * Writes k and v [T, kvHeads, headDim] (post-RoPE) into `layer` of the cache at positions
 * start .. start+T-1, in place, and sets `cache.length` to start + T. `start` may not leave a gap
 * after the positions already written (start <= cache.length) nor run past maxSeq.
 */
export function appendKv(cache: KvCache, layer: number, k: Tensor<'f32'>, v: Tensor<'f32'>, start: number): void {
  const { keys, values } = cache.layer(layer);
  for (const [name, t] of [
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.dtype !== 'f32') throw new ShapeError(`appendKv: ${name} must be f32, got ${t.dtype}`);
    if (t.rank !== 3 || t.shape[1] !== cache.kvHeads || t.shape[2] !== cache.headDim || t.shape[0] < 1) {
      throw new ShapeError(`appendKv: ${name} ${formatShape(t.shape)} is not [T, ${cache.kvHeads}, ${cache.headDim}]`);
    }
  }
  if (k.shape[0] !== v.shape[0])
    throw new ShapeError(`appendKv: k ${formatShape(k.shape)} and v ${formatShape(v.shape)} differ in T`);
  const tokens = k.shape[0];
  checkAppend('appendKv', cache, tokens, start);
  const device = k.device;
  const count = k.size / 4;
  const params = new Uint32Array([count, cache.kvHeads, cache.headDim / 4, cache.maxSeq, start]);
  device.dispatch(
    device.kernel(APPEND_SOURCE, 'kv-cache-append'),
    [k, v, keys, values, { uniform: params }],
    grid1d(device, count, WG),
  );
  cache.length = start + tokens;
}

/** Throws unless `tokens` positions can be written at `start` (no gap, within maxSeq). */
export function checkAppend(op: string, cache: KvCache, tokens: number, start: number): void {
  if (!Number.isInteger(start) || start < 0 || start > cache.length) {
    throw new ShapeError(`${op}: start ${start} must be within 0..${cache.length} (the positions written so far)`);
  }
  if (start + tokens > cache.maxSeq) {
    throw new ShapeError(`${op}: writing ${tokens} positions at ${start} runs past the cache's maxSeq ${cache.maxSeq}`);
  }
}
