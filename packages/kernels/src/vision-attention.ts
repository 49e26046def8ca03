/**
 * FastViTHD's multi-head self-attention core: softmax(q k^T / sqrt(32)) v per head, non-causal, on the
 * output of the block's qkv Linear. One pass with an online softmax (flash-attention style).
 *
 * On lavapipe every storage load is done lane by lane, so the cost is loads per (query, key) pair.
 * With subgroups, the 8 lanes of a team (each owning a few query rows of one head) each load one
 * vec4 of a key or value row and pass it around with subgroupShuffle: a key row costs one vec4 load
 * per lane instead of eight. In both paths each invocation owns several query rows, so every row of
 * k and v it holds serves them all. (2 rows, 2-key blocks: ~150 ms of driver CPU at 1024 x 24 heads.)
 */
import { formatShape, ShapeError, Tensor, type Device } from '@fastvlm/tensor';
import { memoSource } from './shared/memo-source.js';
import { WGSL_EXP2_FLUSHED } from './shared/math.js';

const HEAD_DIM = 32;
const VEC = HEAD_DIM / 4; // vec4s per head row
/** Lanes that share key/value loads; a subgroup holds one or more whole teams. */
const TEAM = 8;

export interface VisionAttentionTiling {
  /** Query rows each invocation owns: each key/value row it holds serves this many queries. */
  rows: number;
  /** Keys scored before the running max and the accumulators are rescaled. */
  keyBlock: number;
  workgroupSize: number;
  /** Teams of 8 lanes share key/value loads through subgroupShuffle (needs subgroups of a multiple of 8). */
  subgroupTeam: boolean;
}

/** The tilings used: with subgroup teams where the device allows, plain otherwise. */
export const VISION_ATTENTION_TILINGS = {
  team: { rows: 2, keyBlock: 2, workgroupSize: 64, subgroupTeam: true },
  plain: { rows: 2, keyBlock: 1, workgroupSize: 64, subgroupTeam: false }, // small: its first compile is slow
} as const satisfies Record<string, VisionAttentionTiling>;

/** Whether `device`'s subgroups hold whole teams of 8 lanes within a workgroup of `workgroupSize`. */
export function subgroupTeamsFit(device: Device, workgroupSize: number): boolean {
  const info = device.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const min = info.subgroupMinSize ?? 0;
  const max = info.subgroupMaxSize ?? 0;
  return (
    device.has('subgroups') && min >= TEAM && min % TEAM === 0 && max <= workgroupSize && workgroupSize % max === 0
  );
}

export function visionAttentionTiling(device: Device): VisionAttentionTiling {
  const { team, plain } = VISION_ATTENTION_TILINGS;
  return subgroupTeamsFit(device, team.workgroupSize) ? team : plain;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Invocation (x, head) owns query rows x*R .. x*R+R-1 of one head and streams over all keys in
 * blocks of B: score the block, rescale the running sums once to the block's new max, accumulate.
 * Scores are in log2 units (log2(e) is folded into the q scale) so that exp2 does the softmax.
 */
function visionAttentionSourceUncached({
  rows: R,
  keyBlock: B,
  workgroupSize,
  subgroupTeam,
}: VisionAttentionTiling): string {
  const rs = range(R);
  const bs = range(B);
  const vs = range(VEC);
  // a row of k or v: its VEC vec4s, loaded directly or one per lane and shuffled around the team
  const loadRow = (name: string, at: string): string[] =>
    subgroupTeam
      ? [
          `let ${name}Own = qkv[${at} + slot];`,
          ...vs.map((i) => `let ${name}_${i} = subgroupShuffle(${name}Own, team + ${i}u);`),
        ]
      : vs.map((i) => `let ${name}_${i} = qkv[${at} + ${i}u];`);
  const setup: string[] = [];
  for (const r of rs) {
    setup.push(`let qRow${r} = min(firstRow + ${r}u, p.n - 1u) * p.rowStride + head * ${VEC}u;`);
    for (const i of vs) setup.push(`let q${r}_${i} = qkv[qRow${r} + ${i}u] * p.scale;`);
    setup.push(`var m${r} = -3.0e38; var l${r} = 0.0;`);
    for (const i of vs) setup.push(`var a${r}_${i} = vec4<f32>(0.0);`);
  }
  const body: string[] = [];
  for (const b of bs) {
    body.push(`let kRow${b} = min(j + ${b}u, p.n - 1u) * p.rowStride + kOffset;`, ...loadRow(`k${b}`, `kRow${b}`));
    for (const r of rs) {
      const dots = vs.map((i) => `dot(q${r}_${i}, k${b}_${i})`).join(' + ');
      body.push(`let s${r}_${b} = select(-3.0e38, ${dots}, j + ${b}u < p.n);`);
    }
  }
  for (const r of rs) {
    body.push(`let mNew${r} = ${bs.map((b) => `s${r}_${b}`).reduce((acc, s) => `max(${acc}, ${s})`, `m${r}`)};`);
    body.push(`let alpha${r} = exp2_flushed(m${r} - mNew${r}); m${r} = mNew${r}; l${r} = l${r} * alpha${r};`);
    for (const i of vs) body.push(`a${r}_${i} = a${r}_${i} * alpha${r};`);
  }
  for (const b of bs) {
    for (const r of rs) body.push(`let p${r}_${b} = exp2_flushed(s${r}_${b} - m${r}); l${r} = l${r} + p${r}_${b};`);
    body.push(...loadRow(`v${b}`, `kRow${b} + p.kvGap`));
    for (const i of vs) for (const r of rs) body.push(`a${r}_${i} = a${r}_${i} + p${r}_${b} * v${b}_${i};`);
  }
  const stores: string[] = [];
  for (const r of rs) {
    stores.push(
      `if (firstRow + ${r}u < p.n) {`,
      `  let inv = 1.0 / l${r}; let o = (firstRow + ${r}u) * p.outStride + head * ${VEC}u;`,
    );
    for (const i of vs) stores.push(`  y[o + ${i}u] = a${r}_${i} * inv;`);
    stores.push('}');
  }
  return /* wgsl */ `${subgroupTeam ? 'enable subgroups;' : ''}
struct Params { n: u32, rowStride: u32, outStride: u32, kvGap: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3<u32>${subgroupTeam ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let head = gid.y;
  let firstRow = gid.x * ${R}u;
  ${subgroupTeam ? `let slot = lane % ${TEAM}u; let team = lane - slot; // lanes past the last row keep loading for their team` : 'if (firstRow >= p.n) { return; }'}
  let kOffset = p.kvGap + head * ${VEC}u;
  ${setup.join('\n  ')}
  for (var j = 0u; j < p.n; j = j + ${B}u) {
    ${body.join('\n    ')}
  }
  ${stores.join('\n  ')}
}`;
}

/**
 * qkv [N, 3C] (columns which*C + head*32 + d, which = q, k, v) -> [N, C] with column head*32 + d:
 * each head's softmax(q k^T / sqrt(32)) v, ready for the block's proj Linear.
 */
export function visionAttention(
  qkv: Tensor<'f32'>,
  heads: number,
  tiling: VisionAttentionTiling = visionAttentionTiling(qkv.device),
): Tensor<'f32'> {
  if (qkv.dtype !== 'f32') throw new ShapeError(`visionAttention: qkv must be f32, got ${qkv.dtype}`);
  if (
    qkv.rank !== 2 ||
    qkv.shape[0] < 1 ||
    !Number.isInteger(heads) ||
    heads < 1 ||
    qkv.shape[1] !== 3 * heads * HEAD_DIM
  ) {
    throw new ShapeError(
      `visionAttention: qkv ${formatShape(qkv.shape)} is not [N, 3 * heads * ${HEAD_DIM}] for ${heads} heads`,
    );
  }
  const [n, width] = qkv.shape;
  const channels = heads * HEAD_DIM;
  const device = qkv.device;
  const y = Tensor.empty(device, [n, channels], 'f32'); // [N, C]
  const params = new Uint32Array(8);
  params.set([n, width / 4, channels / 4, channels / 4]); // strides and the q->k->v column gap, in vec4s
  new Float32Array(params.buffer, 16, 1)[0] = Math.LOG2E / Math.sqrt(HEAD_DIM);
  const kernel = device.kernel(visionAttentionSource(tiling), 'vision-attention');
  const work = { flops: 4 * n * n * channels, bytes: 4 * (qkv.size + y.size), detail: `N${n} ${heads} heads` };
  device.dispatch(
    kernel,
    [qkv, y, { uniform: params }],
    [Math.ceil(n / tiling.rows / tiling.workgroupSize), heads],
    work,
  );
  return y;
}

export const visionAttentionSource = memoSource(
  (...args: Parameters<typeof visionAttentionSourceUncached>) =>
    visionAttentionSourceUncached(...args) + WGSL_EXP2_FLUSHED,
);
