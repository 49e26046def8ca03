/**
 * The GPU half of sampling: instead of reading back all V logits, find an upper set of them (every
 * logit at or above a threshold) just large enough for the sampler, and read back only that set.
 *
 * 1. stats:     each invocation scans a chunk of the logits: its max and sum of exp((l - max) / T)
 *               (a chunk holding a NaN or an infinity makes the sum negative: the logits are refused).
 * 2. reduce:    one workgroup combines the chunks: the max M and Z = sum exp((l - M) / T); it also
 *               clears the histogram and the candidate counter.
 * 3. histogram: bin the logits by distance from the max, 1/8 nat of (M - l) / T a bin: per bin the
 *               count and the probability in fixed point (floor(p * 2^30), so sums are lower bounds).
 * 4. threshold: pick the fewest leading bins that hold `needCount` logits and at least `needMass`
 *               of the probability, but no more than `capacity` logits.
 * 5. compact:   append the logits of those bins, unordered.
 * The selection is an upper set because the bin of a logit never decreases as the logit does.
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { memoSource } from '../shared/memo-source.js';
import { WGSL_EXP_FLUSHED } from '../shared/math.js';

const CHUNK = 64;
const WG = 256;
const BINS = 512;
const BINS_PER_NAT = 8;
/** Probabilities are summed as u32 in units of 2^-30 (a sum of floors stays below 2^32). */
const MASS_ONE = 2 ** 30;
/** Bins from this one on are more than ln(2^30) nats below the max: their logits' mass rounds to 0. */
const MASS_BINS = Math.ceil(Math.log(MASS_ONE) * BINS_PER_NAT);

const PARAMS = /* wgsl */ `
struct Params {
  length: u32, chunks: u32, capacity: u32, need_count: u32,
  inv_temperature: f32, bin_scale: f32, need_mass: u32, pad: u32,  // need_mass in units of 2^-30
}`;

/** `body` runs once per logit of invocation `c`'s chunk with `v` (the value) and `index`. */
function chunkLoop(vector: boolean, body: string): string {
  if (!vector) {
    return `for (var index = c * ${CHUNK}u; index < min((c + 1u) * ${CHUNK}u, params.length); index++) { let v = logits[index]; ${body} }`;
  }
  const lanes = ['x', 'y', 'z', 'w']
    .map((lane, k) => `{ let v = q.${lane}; let index = 4u * j + ${k}u; ${body} }`)
    .join('\n    ');
  return `for (var j = c * ${CHUNK / 4}u; j < min((c + 1u) * ${CHUNK / 4}u, params.length / 4u); j++) {
    let q = logits[j];
    ${lanes}
  }`;
}

function logitsBinding(vector: boolean): string {
  return `@group(0) @binding(0) var<storage, read> logits: array<${vector ? 'vec4<f32>' : 'f32'}>;`;
}

const BIN_OF = /* wgsl */ `
fn bin_of(v: f32, max_logit: f32) -> u32 { return u32(min((max_logit - v) * params.bin_scale, ${BINS - 1}.0)); }`;

function statsSourceUncached(vector: boolean): string {
  return /* wgsl */ `${PARAMS}
${logitsBinding(vector)}
@group(0) @binding(1) var<storage, read_write> partials: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.chunks) { return; }
  var m = -3.4028234663852886e38;
  var s = 0.0;
  var exponents = 0u;
  ${chunkLoop(vector, `exponents = max(exponents, bitcast<u32>(v) & 0x7f800000u); if (v > m) { s = s * exp_flushed((m - v) * params.inv_temperature) + 1.0; m = v; } else { s += exp_flushed((v - m) * params.inv_temperature); }`)}
  // A NaN or an infinity (all exponent bits set) in the chunk: the largest max and a negative sum,
  // which the reduction keeps (every other chunk's weight underflows to 0) and the host refuses.
  partials[c] = select(vec2<f32>(m, s), vec2<f32>(3.4028234663852886e38, -1.0), exponents == 0x7f800000u);
}`;
}

const REDUCE_SOURCE =
  /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read> partials: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> histogram: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;
var<workgroup> maxima: array<f32, ${WG}>;
var<workgroup> sums: array<f32, ${WG}>;
fn combine(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp_flushed((a.x - m) * params.inv_temperature) + b.y * exp_flushed((b.x - m) * params.inv_temperature));
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  for (var i = lid.x; i < arrayLength(&histogram); i += ${WG}u) { histogram[i] = 0u; }
  var acc = vec2<f32>(-3.4028234663852886e38, 0.0);
  for (var c = lid.x; c < params.chunks; c += ${WG}u) { acc = combine(acc, partials[c]); }
  maxima[lid.x] = acc.x;
  sums[lid.x] = acc.y;
  workgroupBarrier();
  for (var stride = ${WG / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      let r = combine(vec2<f32>(maxima[lid.x], sums[lid.x]), vec2<f32>(maxima[lid.x + stride], sums[lid.x + stride]));
      maxima[lid.x] = r.x;
      sums[lid.x] = r.y;
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) { stats[0] = maxima[0]; stats[1] = sums[0]; stats[4] = 0.0; }
}` + WGSL_EXP_FLUSHED;

// No workgroup memory or barriers in these passes: on lavapipe a barrier costs more than the work.
function histogramSourceUncached(vector: boolean): string {
  return /* wgsl */ `${PARAMS}
${logitsBinding(vector)}
@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> histogram: array<atomic<u32>>;  // counts, then masses
@group(0) @binding(3) var<uniform> params: Params;
${BIN_OF}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.chunks) { return; }
  let max_logit = stats[0];
  let mass_scale = ${MASS_ONE}.0 / stats[1];
  // Atomics only where they count: the last bin's count is what the others leave, and far bins have no mass.
  ${chunkLoop(
    vector,
    `let b = bin_of(v, max_logit);
    if (b < ${BINS - 1}u) {
      atomicAdd(&histogram[b], 1u);
      if (b < ${MASS_BINS}u) {
        let mass = u32(exp_flushed((v - max_logit) * params.inv_temperature) * mass_scale);
        if (mass != 0u) { atomicAdd(&histogram[${BINS}u + b], mass); }
      }
    }`,
  )}
}`;
}

/** One invocation: the last bin to take, into stats[2] (as i32), and the count taken, into stats[3]. */
const THRESHOLD_SOURCE = /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read_write> stats: array<u32>;
@group(0) @binding(1) var<storage, read> histogram: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(1)
fn main() {
  var count = 0u;
  var mass = 0u;
  var chosen = -1;
  for (var b = 0u; b < ${BINS}u; b++) {
    let n = select(histogram[b], params.length - count, b == ${BINS - 1}u);
    if (count + n > params.capacity) { break; }
    count += n;
    mass += histogram[${BINS}u + b];
    chosen = i32(b);
    if (count >= params.need_count && mass >= params.need_mass) { break; }
  }
  stats[2] = bitcast<u32>(chosen);
  stats[3] = count;
}`;

function compactSourceUncached(vector: boolean): string {
  return /* wgsl */ `${PARAMS}
${logitsBinding(vector)}
@group(0) @binding(1) var<storage, read_write> stats: array<atomic<u32>>;  // f32 bits of max and Z, last bin, count, append counter
@group(0) @binding(2) var<storage, read_write> candidates: array<vec2<u32>>;  // (logit bits, index)
@group(0) @binding(3) var<uniform> params: Params;
${BIN_OF}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.chunks) { return; }
  let max_logit = bitcast<f32>(atomicLoad(&stats[0]));
  let last_bin = bitcast<i32>(atomicLoad(&stats[2]));
  ${chunkLoop(
    vector,
    `if (i32(bin_of(v, max_logit)) <= last_bin) {
    let slot = atomicAdd(&stats[4], 1u);
    if (slot < params.capacity) { candidates[slot] = vec2<u32>(bitcast<u32>(v), index); }
  }`,
  )}
}`;
}

export interface CandidateRequest {
  /** The sampling temperature (> 0). */
  temperature: number;
  /** Logits the set must hold at least (when they fit in `capacity`). */
  needCount: number;
  /** Probability (at temperature T) the set must hold at least (when it fits in `capacity`). */
  needMass: number;
  /** Most candidates the set may hold. */
  capacity: number;
}

/** What `recordCandidates` leaves on the GPU; the caller reads both and disposes them. */
export interface CandidateBuffers {
  /**
   * [5] words: max logit (f32 bits), Z = sum exp((l - max) / T) (f32 bits), last bin taken (i32),
   * logits in the bins taken, candidates appended (those past `capacity` were not written).
   */
  stats: Tensor<'u32'>;
  /** [capacity, 2] u32: (logit bits, token id), unordered; the first `count` are valid. */
  candidates: Tensor<'u32'>;
}

/** Records the five passes over logits [V] (or [1, V]) f32. */
export function recordCandidates(logits: Tensor<'f32'>, request: CandidateRequest): CandidateBuffers {
  const length = logits.shape[logits.rank - 1];
  if (logits.dtype !== 'f32' || logits.size !== length || length === 0) {
    throw new ShapeError(
      `sampling: expected f32 logits [V] or [1, V], got ${formatShape(logits.shape)} ${logits.dtype}`,
    );
  }
  const device = logits.device;
  const chunks = Math.ceil(length / CHUNK);
  const params = new ArrayBuffer(32);
  const invTemperature = 1 / Math.fround(request.temperature);
  new Uint32Array(params, 0, 4).set([length, chunks, request.capacity, request.needCount]);
  new Float32Array(params, 16, 2).set([invTemperature, invTemperature * BINS_PER_NAT]);
  new Uint32Array(params, 24, 1).set([Math.floor(request.needMass * MASS_ONE)]);
  const uniform = { uniform: new Uint32Array(params) };
  const vector = length % 4 === 0;
  const stats = Tensor.empty(device, [5], 'u32');
  const candidates = Tensor.empty(device, [request.capacity, 2], 'u32');
  const groups: [number] = [Math.ceil(chunks / WG)];
  device.scope(() => {
    const partials = Tensor.empty(device, [chunks, 2], 'f32');
    const histogram = Tensor.empty(device, [2 * BINS], 'u32');
    device.dispatch(device.kernel(statsSource(vector), 'sampling-stats'), [logits, partials, uniform], groups);
    device.dispatch(device.kernel(REDUCE_SOURCE, 'sampling-reduce'), [partials, stats, histogram, uniform], [1]);
    device.dispatch(
      device.kernel(histogramSource(vector), 'sampling-histogram'),
      [logits, stats, histogram, uniform],
      groups,
    );
    device.dispatch(device.kernel(THRESHOLD_SOURCE, 'sampling-threshold'), [stats, histogram, uniform], [1]);
    device.dispatch(
      device.kernel(compactSource(vector), 'sampling-compact'),
      [logits, stats, candidates, uniform],
      groups,
    );
  });
  return { stats, candidates };
}

const statsSource = memoSource(
  (...args: Parameters<typeof statsSourceUncached>) => statsSourceUncached(...args) + WGSL_EXP_FLUSHED,
);
const histogramSource = memoSource(
  (...args: Parameters<typeof histogramSourceUncached>) => histogramSourceUncached(...args) + WGSL_EXP_FLUSHED,
);
const compactSource = memoSource(
  (...args: Parameters<typeof compactSourceUncached>) => compactSourceUncached(...args) + WGSL_EXP_FLUSHED,
);
