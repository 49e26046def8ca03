/**
 * WGSL for `linear`: a register-tiled kernel used for both prefill (tileM 8) and decode (tileM 1
 * or 4), and a scalar kernel for shapes whose rows are not aligned for vector loads.
 *
 * Every invocation computes `tileM` rows x `tileN` output columns; the 64 invocations of a
 * workgroup run along n and share the tile's rows. On lavapipe each storage load is done lane by
 * lane (whatever the address), so the speed is set by the 32-bit words each lane loads per FMA:
 * - weights are read as packed words, as wide as the step allows (vec4<u32> = 8 f16 or 16 int8),
 *   and each weight feeds `tileM` rows;
 * - with subgroups (`xShare` > 0), the x values that every lane needs are loaded once per 8 lanes
 *   — lane l loads x[m, k0 + xShare·l ..] — and handed to all lanes by `subgroupBroadcast`, which
 *   costs a fraction of a load. Without subgroups each lane loads x itself as vec4.
 * The unrolled step is kept small (8 values of k): unrolling 32 ran 2-3x slower on lavapipe, and
 * about 32 accumulators per invocation is the sweet spot (8 x 8 only pays for int8 weights).
 * Measured on lavapipe, M=4096 K=384 N=1536: f32 33, f16 45, bf16 45, int8 55 GFLOP/s.
 */
import { activationExpr, swigluGateExpr, type Activation } from './elementwise.js';
import { loaderFn, wgslStorageType, WGSL_GELU } from './wgsl-loaders.js';
import type { WeightDType } from './weight.js';
import { memoSource } from './memo-source.js';

/** What a linear kernel is specialised on (everything else comes in `LinearParams`). */
export interface LinearKernelConfig {
  weight: WeightDType;
  /** int8 only: scales [N, K / groupSize] rather than [N, 1]. */
  perGroupScales: boolean;
  bias: boolean;
  activation: Activation;
  residual: boolean;
  /** Per-column scale of the branch before the residual add (a layer scale). */
  layerScale: boolean;
  /**
   * SwiGLU: the weight is [gate; up] (2N rows) and y[m, n] = silu(x·gate[n]) * (x·up[n]), N columns.
   * Each invocation's tileN weight rows are tileN / 2 gate rows and the up rows of the same
   * columns. No bias, activation or residual with it.
   */
  swiglu: boolean;
}

/**
 * Per-dispatch parameters. One dispatch covers output columns [nStart, nEnd), whose weight rows
 * live in the bound weight block from row `wRow0` (and its scales block from row `sRow0`), and
 * rows from `mStart` on (the grid's y dimension is limited).
 */
const LINEAR_PARAMS = /* wgsl */ `
struct Params { M: u32, N: u32, K: u32, nStart: u32, nEnd: u32, wRow0: u32, sRow0: u32, groupSize: u32, mStart: u32, nBlocks: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: Params;`;

export interface LinearParams {
  M: number;
  N: number;
  K: number;
  nStart: number;
  nEnd: number;
  wRow0: number;
  sRow0: number;
  groupSize: number;
  mStart: number;
  /** Subgroup tiles only: column blocks of the dispatch, and the grid's x size. */
  nBlocks?: number;
  gridX?: number;
}

export function linearParams(v: LinearParams): { uniform: Uint32Array } {
  return {
    uniform: Uint32Array.of(
      v.M,
      v.N,
      v.K,
      v.nStart,
      v.nEnd,
      v.wRow0,
      v.sRow0,
      v.groupSize,
      v.mStart,
      v.nBlocks ?? 0,
      v.gridX ?? 0,
    ),
  };
}

/** Bindings 2 (weight words) and, for int8, 3 (scales). */
function weightBindings(config: LinearKernelConfig, wordType: string): string {
  const w = `@group(0) @binding(2) var<storage, read> w: array<${wordType}>;`;
  return config.weight === 'int8' ? `${w}\n@group(0) @binding(3) var<storage, read> scales: array<f32>;` : w;
}

/** Names of the epilogue bindings, in binding order after the weight's. */
export function epilogueOperands(config: LinearKernelConfig): ('bias' | 'residual' | 'layerScale' | 'y')[] {
  const names: ('bias' | 'residual' | 'layerScale' | 'y')[] = [];
  if (config.bias) names.push('bias');
  if (config.residual) names.push('residual');
  if (config.layerScale) names.push('layerScale');
  names.push('y');
  return names;
}

function epilogueBindings(config: LinearKernelConfig): string {
  const first = config.weight === 'int8' ? 4 : 3;
  const decls = epilogueOperands(config).map((name, i) => {
    const access = name === 'y' ? 'read_write' : 'read';
    return `@group(0) @binding(${first + i}) var<storage, ${access}> ${name}: array<f32>;`;
  });
  return `${config.activation === 'gelu' ? WGSL_GELU : ''}\n${activationFn(config)}\n${decls.join('\n')}`;
}

/** A WGSL statement storing `value` (the dot product of row m, column n) through the epilogue. */
function epilogueStore(config: LinearKernelConfig, m: string, n: string, value: string): string {
  let v = config.bias ? `(${value} + bias[${n}])` : value;
  if (config.activation !== 'none') v = `act(${v})`;
  const at = `(${m}) * p.N + ${n}`;
  if (config.residual) v = `residual[${at}] + ${config.layerScale ? `layerScale[${n}] * ` : ''}${v}`;
  return `y[${at}] = ${v};`;
}

/** `fn act(v: f32) -> f32` for the configured activation (empty when none). */
function activationFn(config: LinearKernelConfig): string {
  return config.activation === 'none'
    ? ''
    : `fn act(v: f32) -> f32 { return ${activationExpr(config.activation, 'v')}; }`;
}

export interface GemmTile {
  tileM: number;
  tileN: number;
  /** 0: each lane loads its x rows itself. 1, 2 or 4: x values per lane load shared across 8 lanes. */
  xShare: 0 | 1 | 2 | 4;
  /**
   * With xShare: the device's (fixed) subgroup size. Each subgroup then owns one tile of tileM rows
   * x (subgroup x tileN) columns, tiles numbered column block first over the whole output, so no
   * lane idles when N is not a multiple of the workgroup's columns (FastViTHD's 96 and 384).
   * 0: the workgroup's 64 lanes share their rows (any subgroup size).
   */
  subgroupTile?: number;
  /** Invocations per workgroup with subgroup tiles (default LINEAR_WORKGROUP): fewer spread a narrow decode GEMV over more workgroups. */
  workgroup?: number;
}

export const LINEAR_WORKGROUP = 64;
/** Lanes that share x loads (needs a subgroup size of at least this). */
export const SHARE_LANES = 8;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** k values one step of the inner loop covers; K (and an int8 group size) must be a multiple of it. */
export function gemmKStep(tile: GemmTile): number {
  return tile.xShare === 0 ? 4 : SHARE_LANES * tile.xShare;
}

/** How a column's weights are loaded per step: `k` weights per load of WGSL type `type`. */
function weightLoad(dtype: WeightDType, kStep: number): { k: number; words: number; type: string } {
  if (dtype === 'f32') return { k: 4, words: 4, type: 'vec4<f32>' };
  const perWord = dtype === 'int8' ? 4 : 2;
  const words = Math.min(4, kStep / perWord);
  return { k: words * perWord, words, type: words === 1 ? 'u32' : `vec${words}<u32>` };
}

/** Quad q (4 weights) of a loaded element `e`: u32 for int8, vec2<u32> for f16/bf16, vec4<f32>. */
function quadOf(dtype: WeightDType, e: string, words: number, q: number): string {
  if (dtype === 'f32') return e;
  if (dtype === 'int8') return words === 1 ? e : `${e}.${'xyzw'[q]}`;
  return words === 2 ? e : `${e}.${q === 0 ? 'xy' : 'zw'}`;
}

/** vec4<f32> of a quad; int8 bytes are sign-extended by shifts (a little faster than unpack4xI8 here). */
function decodeQuad(dtype: WeightDType, e: string): string {
  switch (dtype) {
    case 'f32':
      return e;
    case 'f16':
      return `vec4<f32>(unpack2x16float(${e}.x), unpack2x16float(${e}.y))`;
    case 'bf16':
      return `bitcast<vec4<f32>>(vec4<u32>(${e}.x << 16u, ${e}.x & 0xffff0000u, ${e}.y << 16u, ${e}.y & 0xffff0000u))`;
    case 'int8':
      return `vec4<f32>((vec4<i32>(bitcast<i32>(${e})) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u))`;
  }
}

/** vec4<f32> of x row i at quad q of the step, from the lanes' shared loads `xl{i}`. */
function sharedQuad(i: number, q: number, share: 1 | 2 | 4): string {
  const bc = (lane: number): string => `subgroupBroadcast(xl${i}, ${lane}u)`;
  if (share === 4) return bc(q);
  if (share === 2) return `vec4<f32>(${bc(2 * q)}, ${bc(2 * q + 1)})`;
  return `vec4<f32>(${bc(4 * q)}, ${bc(4 * q + 1)}, ${bc(4 * q + 2)}, ${bc(4 * q + 3)})`;
}

const X_ELEMENT = { 0: 'vec4<f32>', 1: 'f32', 2: 'vec2<f32>', 4: 'vec4<f32>' } as const;

/** The column loop over K (per group for per-group int8 scales, which then scale each weight). */
function kLoop(config: LinearKernelConfig, tileN: number, kStep: number, body: string[]): string {
  if (!(config.weight === 'int8' && config.perGroupScales)) {
    return `  for (var k0 = 0u; k0 < p.K; k0 += ${kStep}u) {\n${body.join('\n')}\n  }`;
  }
  const scaleLoads = range(tileN).map((j) => `    let gs${j} = scales[sb${j} + g];`);
  return `  let groups = p.K / p.groupSize;
  for (var g = 0u; g < groups; g++) {
${scaleLoads.join('\n')}
    for (var k0 = g * p.groupSize; k0 < (g + 1u) * p.groupSize; k0 += ${kStep}u) {
${body.join('\n')}
    }
  }`;
}

/** Output columns per invocation: tileN, or tileN / 2 (gate, up) pairs for SwiGLU. */
export function outputTileN(config: LinearKernelConfig, tileN: number): number {
  return config.swiglu ? tileN / 2 : tileN;
}

/** Tile column j's output column (offset from n0) and the offset of its weight row from that column. */
function tileColumn(config: LinearKernelConfig, tileN: number, j: number): { column: number; rowOffset: string } {
  const half = outputTileN(config, tileN);
  return config.swiglu && j >= half ? { column: j - half, rowOffset: ' + p.N' } : { column: j, rowOffset: '' };
}

/** SwiGLU stores: silu(gate) * up for each of the tile's (gate, up) accumulator pairs. */
function swigluStores(config: LinearKernelConfig, tileM: number, tileN: number): string {
  const perChannel = config.weight === 'int8' && !config.perGroupScales;
  const stores: string[] = [];
  for (const j of range(tileN / 2)) {
    const u = j + tileN / 2;
    stores.push(`  { let n = n0 + ${j}u; if (n < p.nEnd) {`);
    if (perChannel) stores.push(`    let sg = scales[n - p.sRow0];\n    let su = scales[n + p.N - p.sRow0];`);
    for (const i of range(tileM)) {
      const [g, up] = perChannel ? [`sg * a${i}_${j}`, `su * a${i}_${u}`] : [`a${i}_${j}`, `a${i}_${u}`];
      stores.push(
        `    if (m0 + ${i}u < p.M) { let g = ${g}; y[(m0 + ${i}u) * p.N + n] = ${swigluGateExpr('g')} * (${up}); }`,
      );
    }
    stores.push('  } }');
  }
  return stores.join('\n');
}

/** Stores of the tile through the epilogue; per-channel int8 scales are applied here. */
function tileStores(config: LinearKernelConfig, tileM: number, tileN: number): string {
  if (config.swiglu) return swigluStores(config, tileM, tileN);
  const perChannel = config.weight === 'int8' && !config.perGroupScales;
  const stores: string[] = [];
  for (const j of range(tileN)) {
    stores.push(`  { let n = n0 + ${j}u; if (n < p.nEnd) {`);
    if (perChannel) stores.push(`    let sc = scales[n - p.sRow0];`);
    for (const i of range(tileM)) {
      const value = perChannel ? `sc * a${i}_${j}` : `a${i}_${j}`;
      stores.push(`    if (m0 + ${i}u < p.M) { ${epilogueStore(config, `m0 + ${i}u`, 'n', value)} }`);
    }
    stores.push('  } }');
  }
  return stores.join('\n');
}

/** Row starts of the tile: clamped, so that edge tiles read valid rows and every lane stays active. */
function tileSetup(config: LinearKernelConfig, tile: GemmTile, xPerElement: number, wPerElement: number): string[] {
  const lines: string[] = [];
  const lane = tile.xShare ? ` + (lane % ${SHARE_LANES}u)` : '';
  for (const i of range(tile.tileM))
    lines.push(`  let xb${i} = min(m0 + ${i}u, p.M - 1u) * (p.K / ${xPerElement}u)${lane};`);
  for (const j of range(tile.tileN)) {
    const { column, rowOffset } = tileColumn(config, tile.tileN, j);
    lines.push(`  let nc${j} = min(n0 + ${column}u, p.nEnd - 1u)${rowOffset};`);
    lines.push(`  let wb${j} = (nc${j} - p.wRow0) * (p.K / ${wPerElement}u);`);
    if (config.weight === 'int8' && config.perGroupScales)
      lines.push(`  let sb${j} = (nc${j} - p.sRow0) * (p.K / p.groupSize);`);
  }
  for (const i of range(tile.tileM)) for (const j of range(tile.tileN)) lines.push(`  var a${i}_${j} = 0.0;`);
  return lines;
}

function entry(tile: GemmTile): string {
  const lanes = tile.xShare && tile.subgroupTile ? tile.subgroupTile : 0;
  const size = lanes ? (tile.workgroup ?? LINEAR_WORKGROUP) : LINEAR_WORKGROUP;
  const builtins = `@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>${tile.xShare ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}${lanes ? ', @builtin(local_invocation_index) li: u32' : ''}`;
  const origin = lanes
    ? `let t = subgroupBroadcast((wg.y * p.gridX + wg.x) * ${size / lanes}u + li / ${lanes}u, 0u); // this subgroup's tile, uniform across it
  let n0 = p.nStart + (t % p.nBlocks) * ${lanes}u * TILE_N + lane * TILE_N;
  let m0 = p.mStart + (t / p.nBlocks) * TILE_M;`
    : `let n0 = p.nStart + gid.x * TILE_N;
  let m0 = p.mStart + wg.y * TILE_M;`;
  return `@compute @workgroup_size(${size})
fn main(${builtins}) {
  // no early return: subgroupBroadcast needs every lane, and out-of-range lanes read clamped rows
  ${origin}`;
}

/** The tiled kernel. Needs K and (int8 per-group) the group size to be multiples of gemmKStep(tile). */
function gemmSourceUncached(config: LinearKernelConfig, tile: GemmTile): string {
  const { tileM, tileN, xShare } = tile;
  const dtype = config.weight;
  const scaled = dtype === 'int8' && config.perGroupScales;
  const kStep = gemmKStep(tile);
  const load = weightLoad(dtype, kStep);
  const xPerElement = xShare === 0 ? 4 : xShare;
  const quads = range(kStep / 4);
  const step: string[] = [];
  if (xShare) for (const i of range(tileM)) step.push(`    let xl${i} = x[xb${i} + k0 / ${xPerElement}u];`);
  for (const j of range(tileN)) {
    for (const q of quads) {
      const l = Math.floor((4 * q) / load.k);
      if ((4 * q) % load.k === 0) step.push(`    let w${j}_${l} = w[wb${j} + k0 / ${load.k}u + ${l}u];`);
      const quad = decodeQuad(dtype, quadOf(dtype, `w${j}_${l}`, load.words, q % (load.k / 4)));
      step.push(`    let d${j}_${q} = ${scaled ? `gs${j} * ` : ''}${quad};`);
    }
  }
  for (const i of range(tileM)) {
    for (const q of quads)
      step.push(`    let x${i}_${q} = ${xShare ? sharedQuad(i, q, xShare) : `x[xb${i} + k0 / 4u]`};`);
    // one update of each accumulator per step: inside the loop every update is a masked blend
    for (const j of range(tileN))
      step.push(`    a${i}_${j} += ${quads.map((q) => `dot(x${i}_${q}, d${j}_${q})`).join(' + ')};`);
  }
  return /* wgsl */ `${xShare ? 'enable subgroups;' : ''}
${LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${X_ELEMENT[xShare]}>;
${weightBindings(config, load.type)}
${epilogueBindings(config)}
const TILE_M = ${tileM}u;
const TILE_N = ${outputTileN(config, tileN)}u;
${entry(tile)}
${tileSetup(config, tile, xPerElement, load.k).join('\n')}
${kLoop(config, tileN, kStep, step)}
${tileStores(config, tileM, tileN)}
}`;
}

/** Scalar kernel for any K (rows of packed weights need not start on a word): tile 4 x 4. */
function scalarSourceUncached(config: LinearKernelConfig): string {
  const tile: GemmTile = { tileM: 4, tileN: 4, xShare: 0 };
  const dtype = config.weight === 'int8' ? 'i8' : config.weight;
  const scaled = config.weight === 'int8' && config.perGroupScales;
  const body: string[] = [];
  for (const j of range(tile.tileN)) {
    const weight = `loadW((nc${j} - p.wRow0) * p.K + k)`;
    body.push(
      `    let d${j} = ${scaled ? `scales[(nc${j} - p.sRow0) * (p.K / p.groupSize) + k / p.groupSize] * ` : ''}${weight};`,
    );
  }
  for (const i of range(tile.tileM)) {
    body.push(`    let x${i} = x[min(m0 + ${i}u, p.M - 1u) * p.K + k];`);
    for (const j of range(tile.tileN)) body.push(`    a${i}_${j} += x${i} * d${j};`);
  }
  const setup: string[] = [];
  for (const j of range(tile.tileN)) {
    const { column, rowOffset } = tileColumn(config, tile.tileN, j);
    setup.push(`  let nc${j} = min(n0 + ${column}u, p.nEnd - 1u)${rowOffset};`);
  }
  for (const i of range(tile.tileM)) for (const j of range(tile.tileN)) setup.push(`  var a${i}_${j} = 0.0;`);
  return /* wgsl */ `
${LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
${weightBindings(config, wgslStorageType(dtype))}
${loaderFn('loadW', 'w', dtype)}
${epilogueBindings(config)}
const TILE_M = ${tile.tileM}u;
const TILE_N = ${outputTileN(config, tile.tileN)}u;
${entry(tile)}
${setup.join('\n')}
  for (var k = 0u; k < p.K; k++) {
${body.join('\n')}
  }
${tileStores(config, tile.tileM, tile.tileN)}
}`;
}

export const gemmSource = memoSource(gemmSourceUncached);
export const scalarSource = memoSource(scalarSourceUncached);
