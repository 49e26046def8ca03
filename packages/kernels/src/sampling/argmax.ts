/**
 * Row-wise argmax on the GPU, so greedy decoding reads back one i32 per row instead of the logits.
 * Two passes: each invocation scans a chunk of a row (the first maximum of the chunk), then one
 * workgroup per row reduces the chunks' maxima. Ties go to the lowest index, as torch.argmax.
 * A row holding a NaN or an infinity gives -1: the readback a greedy step makes anyway says
 * whether the logits were finite (found by their bits, which no compiler may assume away).
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { memoSource } from '../shared/memo-source.js';

/** Elements one invocation of the first pass scans. */
const CHUNK = 64;
const PARTIAL_WG = 64;
const FINAL_WG = 64;

/** A partial's index field when its chunk holds a NaN or an infinity. */
const NON_FINITE = '0xffffffffu';
/** All exponent bits set: an infinity or a NaN. */
const EXPONENT_BITS = '0x7f800000u';

/**
 * First pass: partials[row * chunks + c] = (max bits, index) over the chunk c of the row, or
 * (_, NON_FINITE) when the chunk holds a non-finite value.
 * `vector`: the row length is a multiple of 4 and the chunk is read as vec4<f32>.
 */
function partialSourceUncached(vector: boolean): string {
  const scan = vector
    ? `let start4 = start / 4u; let end4 = (end + 3u) / 4u;
  let base4 = row * (params.length / 4u);
  for (var j = start4; j < end4; j++) {
    let v = logits[base4 + j];
    exponents = max(exponents, bitcast<vec4<u32>>(v) & vec4<u32>(${EXPONENT_BITS}));
    if (v.x > best) { best = v.x; best_index = 4u * j; }
    if (v.y > best) { best = v.y; best_index = 4u * j + 1u; }
    if (v.z > best) { best = v.z; best_index = 4u * j + 2u; }
    if (v.w > best) { best = v.w; best_index = 4u * j + 3u; }
  }`
    : `for (var j = start; j < end; j++) {
    let v = logits[row * params.length + j];
    exponents = max(exponents, vec4<u32>(bitcast<u32>(v) & ${EXPONENT_BITS}));
    if (v > best) { best = v; best_index = j; }
  }`;
  return /* wgsl */ `
struct Params { length: u32, chunks: u32 }
@group(0) @binding(0) var<storage, read> logits: array<${vector ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec2<u32>>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(${PARTIAL_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let row = gid.y;
  if (c >= params.chunks) { return; }
  let start = c * ${CHUNK}u;
  let end = min(start + ${CHUNK}u, params.length);
  var best = -3.4028234663852886e38;
  var best_index = start;
  var exponents = vec4<u32>(0u);
  ${scan}
  let finite = all(exponents != vec4<u32>(${EXPONENT_BITS}));
  partials[row * params.chunks + c] = vec2<u32>(bitcast<u32>(best), select(${NON_FINITE}, best_index, finite));
}`;
}

/**
 * Second pass: one workgroup per row reduces its chunks' maxima; the lower index wins a tie. A
 * non-finite chunk's index (NON_FINITE) is above every real one, so it survives a max over indices.
 */
const FINAL_SOURCE = /* wgsl */ `
struct Params { length: u32, chunks: u32 }
@group(0) @binding(0) var<storage, read> partials: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;
var<workgroup> best_values: array<f32, ${FINAL_WG}>;
var<workgroup> best_indices: array<u32, ${FINAL_WG}>;
var<workgroup> largest_indices: array<u32, ${FINAL_WG}>;
fn better(v: f32, i: u32, than_v: f32, than_i: u32) -> bool {
  return v > than_v || (v == than_v && i < than_i);
}
@compute @workgroup_size(${FINAL_WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x;
  var best = -3.4028234663852886e38;
  var best_index = 0xffffffffu;
  var largest = 0u;
  for (var c = lid.x; c < params.chunks; c += ${FINAL_WG}u) {
    let p = partials[row * params.chunks + c];
    let v = bitcast<f32>(p.x);
    largest = max(largest, p.y);
    if (better(v, p.y, best, best_index)) { best = v; best_index = p.y; }
  }
  best_values[lid.x] = best;
  best_indices[lid.x] = best_index;
  largest_indices[lid.x] = largest;
  workgroupBarrier();
  for (var stride = ${FINAL_WG / 2}u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      let v = best_values[lid.x + stride];
      let i = best_indices[lid.x + stride];
      if (better(v, i, best_values[lid.x], best_indices[lid.x])) { best_values[lid.x] = v; best_indices[lid.x] = i; }
      largest_indices[lid.x] = max(largest_indices[lid.x], largest_indices[lid.x + stride]);
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[row] = select(i32(best_indices[0]), -1, largest_indices[0] == ${NON_FINITE}); }
}`;

/** logits [R, V] (or [V]) f32 -> [R] (or [1]) i32: the index of each row's maximum, lowest on ties; -1 for a row holding a NaN or an infinity. */
export function argmax(logits: Tensor<'f32'>): Tensor<'i32'> {
  if (logits.dtype !== 'f32' || logits.rank < 1 || logits.rank > 2 || logits.size === 0) {
    throw new ShapeError(`argmax: expected f32 logits [R, V] or [V], got ${formatShape(logits.shape)} ${logits.dtype}`);
  }
  const length = logits.shape[logits.rank - 1];
  const rows = logits.rank === 2 ? logits.shape[0] : 1;
  const device = logits.device;
  if (rows > device.limits.maxComputeWorkgroupsPerDimension)
    throw new ShapeError(`argmax: ${rows} rows exceed ${device.limits.maxComputeWorkgroupsPerDimension}`);
  const chunks = Math.ceil(length / CHUNK);
  const params = new Uint32Array([length, chunks]);
  const vector = length % 4 === 0;
  const out = Tensor.empty(device, [rows], 'i32'); // [R, V] -> [R]
  device.scope(() => {
    const partials = Tensor.empty(device, [rows, chunks, 2], 'u32');
    device.dispatch(
      device.kernel(partialSource(vector), 'argmax-partial'),
      [logits, partials, { uniform: params }],
      [Math.ceil(chunks / PARTIAL_WG), rows],
    );
    device.dispatch(device.kernel(FINAL_SOURCE, 'argmax-final'), [partials, out, { uniform: params }], [rows]);
  });
  return out;
}

const partialSource = memoSource(partialSourceUncached);
