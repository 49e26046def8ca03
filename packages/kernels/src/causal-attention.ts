/**
 * Qwen2's causal grouped-query attention over the KV cache: query row i (position start + i) of head h
 * attends keys 0 .. start + i of KV head h / (heads / kvHeads), softmax(q k^T / sqrt(hd)) v, with an
 * online softmax in one pass. On lavapipe every storage load is done lane by lane, so the kernels
 * share key/value rows across a team of 8 subgroup lanes: each lane loads a slice of a row and
 * subgroupShuffle hands the slices around (hd/32 vec4 loads per lane and row instead of hd/4).
 * - team (prefill, T > 8): an invocation owns one query row of one head; a team is 8 consecutive rows.
 * - split (decode, T <= 8): a workgroup owns one row of the query heads of one KV head (a team is
 *   the heads of the group, sharing each key), its teams take interleaved key blocks, and their
 *   partial maxima, sums and accumulators are merged through workgroup memory: T = 1 has only 14
 *   rows, so the parallelism has to come from the keys.
 * - plain (no subgroups, or a head dim not a multiple of 32): the rows kernel, each lane loading alone.
 * start and kvLength are uniforms: a decode loop reuses one pipeline.
 */
import { formatShape, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import type { KvCache } from './kv-cache.js';
import { subgroupTeamsFit } from './vision-attention.js';
import { memoSource } from './shared/memo-source.js';
import { WGSL_EXP2_FLUSHED } from './shared/math.js';

export type CausalAttentionPath = 'team' | 'plain' | 'split';

export interface CausalAttentionOptions {
  /** Position of the first query row (tokens already in the cache before this chunk). */
  start: number;
  /** Keys visible in the cache: start + T for a chunk that was just appended. */
  kvLength: number;
  /** Kernel to use (tests and benchmarks); chosen from T and the device otherwise. */
  path?: CausalAttentionPath;
}

const TEAM = 8;
const ROWS_WORKGROUP = 64;
/** Keys scored before the running max and accumulators are rescaled (plain: 1, to keep its compile short). */
const KEY_BLOCK = 2;
const PLAIN_KEY_BLOCK = 1;
const SPLIT_KEY_BLOCK = 2;
/** Rows up to which the split kernel is used. */
const SPLIT_MAX_ROWS = 8;

const PARAMS =
  'struct Params { rows: u32, start: u32, kvLength: u32, heads: u32, group: u32, maxSeq: u32, scale: f32, headChunks: u32 }';
const BINDINGS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>; // [T, heads, hd]
@group(0) @binding(1) var<storage, read> keys: array<vec4<f32>>; // [kvHeads, maxSeq, hd]
@group(0) @binding(2) var<storage, read> values: array<vec4<f32>>; // [kvHeads, maxSeq, hd]
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>; // [T, heads * hd]
@group(0) @binding(4) var<uniform> p: Params;`;
const SUBGROUPS =
  'enable subgroups;\ndiagnostic(off, subgroup_uniformity); // loop bounds are uniform over each subgroup';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** WGSL declaring q_i (this lane's query row, pre-scaled) and the running max m, sum l and accumulators a_i. */
function initialState(vecs: number): string {
  const vs = range(vecs);
  return [
    ...vs.map((i) => `let q_${i} = q[qAt + ${i}u] * p.scale;`),
    'var m = -3.0e38;',
    'var l = 0.0;',
    ...vs.map((i) => `var a_${i} = vec4<f32>(0.0);`),
  ].join('\n  ');
}

/**
 * WGSL folding `block` keys (key_b, masked where !valid_b) of KV row base `kvBase` into m, l and a_i:
 * score them, rescale the running sums once to the block's new max, accumulate. Scores are in log2
 * units (log2(e) is folded into the q scale) so exp2 does the softmax. With `team`, each lane loads
 * a slice of a key/value row and the team of 8 lanes shares it through subgroupShuffle.
 */
function foldKeyBlock(
  vecs: number,
  block: number,
  team: boolean,
  key: (b: number) => string,
  valid: (b: number) => string,
): string {
  const vs = range(vecs);
  const bs = range(block);
  const loadRow = (name: string, array: string, b: number): string[] =>
    team
      ? [
          ...range(vecs / TEAM).map(
            (o) => `let ${name}Own${o} = ${array}[(kvBase + key${b}) * ${vecs}u + ${o * TEAM}u + slot];`,
          ),
          ...vs.map(
            (i) => `let ${name}_${i} = subgroupShuffle(${name}Own${Math.floor(i / TEAM)}, team + ${i % TEAM}u);`,
          ),
        ]
      : vs.map((i) => `let ${name}_${i} = ${array}[(kvBase + key${b}) * ${vecs}u + ${i}u];`);
  const out: string[] = [];
  for (const b of bs) {
    out.push(`let key${b} = ${key(b)};`, ...loadRow(`k${b}`, 'keys', b));
    out.push(`let s${b} = select(-3.0e38, ${vs.map((i) => `dot(q_${i}, k${b}_${i})`).join(' + ')}, ${valid(b)});`);
  }
  out.push(`let mNew = ${bs.map((b) => `s${b}`).reduce((acc, s) => `max(${acc}, ${s})`, 'm')};`);
  out.push(
    'let alpha = exp2_flushed(m - mNew); m = mNew; l = l * alpha;',
    ...vs.map((i) => `a_${i} = a_${i} * alpha;`),
  );
  for (const b of bs) {
    out.push(`let p${b} = exp2_flushed(s${b} - m); l = l + p${b};`, ...loadRow(`v${b}`, 'values', b));
    out.push(...vs.map((i) => `a_${i} = a_${i} + p${b} * v${b}_${i};`));
  }
  return out.join('\n    ');
}

/** Rows kernel: invocation (x, head) owns query row x of one head; a team is 8 consecutive rows. */
function causalRowsSourceUncached(
  headDim: number,
  team: boolean,
  keyBlock = team ? KEY_BLOCK : PLAIN_KEY_BLOCK,
): string {
  const VEC = headDim / 4;
  return /* wgsl */ `${team ? SUBGROUPS : ''}
${PARAMS}
${BINDINGS}
@compute @workgroup_size(${ROWS_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>${team ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let head = gid.y;
  ${team ? `let slot = lane % ${TEAM}u; let team = lane - slot; // lanes past the last row keep loading for their team` : 'if (gid.x >= p.rows) { return; }'}
  let row = min(gid.x, p.rows - 1u);
  let kvBase = (head / p.group) * p.maxSeq;
  let qAt = (row * p.heads + head) * ${VEC}u;
  ${initialState(VEC)}
  let ownEnd = min(p.start + row + 1u, p.kvLength); // this row attends keys 0 .. ownEnd - 1
  let end = ${team ? 'subgroupMax(ownEnd)' : 'ownEnd'};
  for (var j = 0u; j < end; j = j + ${keyBlock}u) {
    ${foldKeyBlock(
      VEC,
      keyBlock,
      team,
      (b) => `min(j + ${b}u, end - 1u)`,
      (b) => `j + ${b}u < ownEnd`,
    )}
  }
  if (gid.x < p.rows) {
    let inv = 1.0 / l;
    ${range(VEC)
      .map((i) => `y[qAt + ${i}u] = a_${i} * inv;`)
      .join('\n    ')}
  }
}`;
}

/** Lanes of a split workgroup: their partial accumulators (lanes * hd floats) must fit in 16 KiB. */
export function splitLanes(headDim: number): number {
  return Math.min(64, 4096 / headDim);
}

/** Workgroup memory of the split kernel: each lane's max, sum and hd accumulators, and the team counter (16 bytes as Dawn counts it). */
export function splitWorkgroupBytes(headDim: number): number {
  return splitLanes(headDim) * (2 + headDim) * 4 + 16;
}

/**
 * Split kernel: workgroup (row, kvHead * headChunks + chunk) owns up to 8 query heads of one KV head
 * (lane slot = head in the group), so a team shares each key/value row among the heads of the group.
 * Team k of the workgroup takes key blocks k, k + teams, ...; then the partial (m, l, a) of the teams
 * are merged per head through workgroup memory. Teams are numbered by a workgroup counter, not by
 * local_invocation_index: a subgroup need not be a run of consecutive invocations.
 */
function causalSplitSourceUncached(headDim: number): string {
  const VEC = headDim / 4;
  const S = splitLanes(headDim);
  const teams = S / TEAM;
  const B = SPLIT_KEY_BLOCK;
  return /* wgsl */ `${SUBGROUPS}
${PARAMS}
${BINDINGS}
var<workgroup> partMax: array<f32, ${S}>;
var<workgroup> partSum: array<f32, ${S}>;
var<workgroup> partAcc: array<vec4<f32>, ${S * VEC}>; // [team, slot, VEC]
var<workgroup> teamCounter: atomic<u32>;
@compute @workgroup_size(${S})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let row = wid.x;
  let slot = lane % ${TEAM}u;
  let team = lane - slot;
  var ticket = 0u;
  if (slot == 0u) { ticket = atomicAdd(&teamCounter, 1u); }
  let teamIndex = subgroupShuffle(ticket, team); // 0 .. teams - 1, the same for the team's 8 lanes
  let part = teamIndex * ${TEAM}u + slot;
  let inGroup = (wid.y % p.headChunks) * ${TEAM}u + slot; // this lane's query head within its KV group
  let firstHead = (wid.y / p.headChunks) * p.group;
  let head = firstHead + min(inGroup, p.group - 1u);
  let kvBase = (wid.y / p.headChunks) * p.maxSeq;
  let qAt = (row * p.heads + head) * ${VEC}u;
  ${initialState(VEC)}
  let ownEnd = min(p.start + row + 1u, p.kvLength); // the same for the whole workgroup
  for (var base = 0u; base < ownEnd; base = base + ${teams * B}u) {
    let first = base + teamIndex * ${B}u;
    ${foldKeyBlock(
      VEC,
      B,
      true,
      (b) => `min(first + ${b}u, ownEnd - 1u)`,
      (b) => `first + ${b}u < ownEnd`,
    )}
  }
  partMax[part] = m;
  partSum[part] = l;
  ${range(VEC)
    .map((i) => `partAcc[part * ${VEC}u + ${i}u] = a_${i};`)
    .join('\n  ')}
  workgroupBarrier();
  let mergeSlot = t % ${TEAM}u;
  let mergeHead = (wid.y % p.headChunks) * ${TEAM}u + mergeSlot;
  if (mergeHead < p.group) {
    var mAll = -3.0e38;
    for (var k = 0u; k < ${teams}u; k = k + 1u) { mAll = max(mAll, partMax[k * ${TEAM}u + mergeSlot]); }
    var lAll = 0.0;
    for (var k = 0u; k < ${teams}u; k = k + 1u) { lAll = lAll + partSum[k * ${TEAM}u + mergeSlot] * exp2_flushed(partMax[k * ${TEAM}u + mergeSlot] - mAll); }
    let outAt = (row * p.heads + firstHead + mergeHead) * ${VEC}u;
    for (var c = t / ${TEAM}u; c < ${VEC}u; c = c + ${teams}u) { // lane t merges vec4s c of head mergeSlot
      var aAll = vec4<f32>(0.0);
      for (var k = 0u; k < ${teams}u; k = k + 1u) {
        let part = k * ${TEAM}u + mergeSlot;
        aAll = aAll + partAcc[part * ${VEC}u + c] * exp2_flushed(partMax[part] - mAll);
      }
      y[outAt + c] = aAll / lAll;
    }
  }
}`;
}

/**
 * Whether the team and split kernels can run: a head dim that is a multiple of 32 and subgroups that
 * hold whole teams of 8 lanes (not SwiftShader's subgroups of 4, nor an adapter without subgroups).
 */
export function causalTeamsFit(device: Device, headDim: number): boolean {
  return (
    headDim % (4 * TEAM) === 0 &&
    subgroupTeamsFit(device, ROWS_WORKGROUP) &&
    subgroupTeamsFit(device, splitLanes(headDim))
  );
}

/**
 * q [T, heads, hd] (post-RoPE) of positions start .. start+T-1 -> [T, heads * hd], attending the
 * keys and values of `layer` in `cache` (already appended for these positions) causally.
 */
export function causalAttention(
  q: Tensor<'f32'>,
  cache: KvCache,
  layer: number,
  options: CausalAttentionOptions,
): Tensor<'f32'> {
  const { start, kvLength } = options;
  const { keys, values } = cache.layer(layer);
  if (q.dtype !== 'f32') throw new ShapeError(`causalAttention: q must be f32, got ${q.dtype}`);
  const [rows, heads, headDim] = q.shape;
  if (q.rank !== 3 || headDim !== cache.headDim || heads % cache.kvHeads !== 0 || rows < 1) {
    throw new ShapeError(
      `causalAttention: q ${formatShape(q.shape)} is not [T, heads, ${cache.headDim}] with heads a multiple of the cache's ${cache.kvHeads} KV heads`,
    );
  }
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(kvLength) ||
    start < 0 ||
    start + rows > kvLength ||
    kvLength > cache.length
  ) {
    throw new ShapeError(
      `causalAttention: rows ${start}..${start + rows - 1} over kvLength ${kvLength} do not fit the ${cache.length} positions written to the cache`,
    );
  }
  const device = q.device;
  const group = heads / cache.kvHeads;
  const headChunks = Math.ceil(group / TEAM);
  const teamsFit = causalTeamsFit(device, headDim);
  const splitFits = splitWorkgroupBytes(headDim) <= device.limits.maxComputeWorkgroupStorageSize;
  const path = options.path ?? (!teamsFit ? 'plain' : rows <= SPLIT_MAX_ROWS && splitFits ? 'split' : 'team');
  if (path !== 'plain' && !teamsFit)
    throw new ShapeError(`causalAttention: the ${path} kernel needs subgroups and a head dim that is a multiple of 32`);
  if (path === 'split' && !splitFits)
    throw new ShapeError(
      `causalAttention: the split kernel needs ${splitWorkgroupBytes(headDim)} bytes of workgroup memory, above the device's ${device.limits.maxComputeWorkgroupStorageSize}`,
    );
  const y = Tensor.empty(device, [rows, heads * headDim], 'f32'); // [T, heads * hd]
  const params = new Uint32Array([rows, start, kvLength, heads, group, cache.maxSeq, 0, headChunks]);
  new Float32Array(params.buffer, 24, 1)[0] = Math.LOG2E / Math.sqrt(headDim);
  const bindings = [q, keys, values, y, { uniform: params }];
  // keys attended: rows x kvLength minus the causal triangle
  const pairs = rows * (kvLength - start) - (rows * (rows - 1)) / 2;
  const work = {
    flops: 4 * pairs * heads * headDim,
    bytes: 4 * (q.size + y.size + 2 * kvLength * cache.kvHeads * headDim),
    detail: `T${rows} kv${kvLength}`,
  };
  if (path === 'split') {
    device.dispatch(
      device.kernel(causalSplitSource(headDim), 'causal-attention-split'),
      bindings,
      [rows, cache.kvHeads * headChunks],
      work,
    );
  } else {
    const kernel = device.kernel(causalRowsSource(headDim, path === 'team'), `causal-attention-${path}`);
    device.dispatch(kernel, bindings, [Math.ceil(rows / ROWS_WORKGROUP), heads], work);
  }
  return y;
}

export const causalSplitSource = memoSource(
  (...args: Parameters<typeof causalSplitSourceUncached>) => causalSplitSourceUncached(...args) + WGSL_EXP2_FLUSHED,
);
export const causalRowsSource = memoSource(
  (...args: Parameters<typeof causalRowsSourceUncached>) => causalRowsSourceUncached(...args) + WGSL_EXP2_FLUSHED,
);
