/**
 * The register-tiled `linear` kernel, the GEMM of prefill and of the vision tower's 1x1
 * convolutions (tileM 8) and the GEMV of decode (tileM 1 or 4) in one generator.
 *
 * Every invocation computes `tileM` rows x `tileN` output columns; the 64 invocations of a
 * workgroup run along n and share the tile's rows. On lavapipe each storage load is done lane by
 * lane (whatever the address), so the speed is set by the 32-bit words each lane loads per FMA:
 * - weights are read as packed words, as wide as the step allows (vec4<u32> = 8 f16, 16 int8 or
 *   32 int4), and each weight feeds `tileM` rows; int4 nibbles are sign-extended by two shifts
 *   and scaled by their group's f16 scale, the weight never exists unpacked in memory;
 * - with subgroups (`xShare` > 0), the x values that every lane needs are loaded once per 8 lanes
 *   — lane l loads x[m, k0 + xShare·l ..] — and handed to all lanes by `subgroupBroadcast`, which
 *   costs a fraction of a load. Without subgroups each lane loads x itself as vec4.
 * The unrolled step is kept small (8 values of k): unrolling 32 ran 2-3x slower on lavapipe, and
 * about 32 accumulators per invocation is the sweet spot (8 x 8 only pays for int8 weights).
 * Measured on lavapipe, M=4096 K=384 N=1536: f32 33, f16 45, bf16 45, int8 55 GFLOP/s.
 */
import type { WeightDType } from '../weight.js';
import { memoSource } from '../shared/memo-source.js';
import { NORM_PARAMS, normDeclarations, normedLoad, normScale, normSetup, sharedRowSum } from './input-norm.js';
import {
  epilogueBindings,
  LINEAR_PARAMS,
  normBinding,
  scaleAt,
  outputTileN,
  range,
  tileColumn,
  tileStores,
  weightBindings,
  type LinearKernelConfig,
} from './common.js';

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

/**
 * k values one step of the inner loop covers; K (and an int8 / int4 group size) must be a multiple
 * of it. int4 steps over whole words (8 values) at least.
 */
export function gemmKStep(tile: GemmTile, dtype?: WeightDType): number {
  const step = tile.xShare === 0 ? 4 : SHARE_LANES * tile.xShare;
  return dtype === 'int4' ? Math.max(8, step) : step;
}

/** How a column's weights are loaded per step: `k` weights per load of WGSL type `type`. */
export function weightLoad(dtype: WeightDType, kStep: number): { k: number; words: number; type: string } {
  if (dtype === 'f32') return { k: 4, words: 4, type: 'vec4<f32>' };
  const perWord = dtype === 'int4' ? 8 : dtype === 'int8' ? 4 : 2;
  const words = Math.min(4, kStep / perWord);
  return { k: words * perWord, words, type: words === 1 ? 'u32' : `vec${words}<u32>` };
}

/** Bytes of one `weightLoad(dtype, kStep)`. */
export function weightLoadBytes(dtype: WeightDType, kStep: number): number {
  return weightLoad(dtype, kStep).k * { f32: 4, f16: 2, bf16: 2, int8: 1, int4: 0.5 }[dtype];
}

/** The word holding quad q (4 weights) of a loaded element `e`: u32 for int8 / int4, vec2<u32> for f16/bf16, vec4<f32>. */
export function quadOf(dtype: WeightDType, e: string, words: number, q: number): string {
  if (dtype === 'f32') return e;
  if (dtype === 'int4') return words === 1 ? e : `${e}.${'xyzw'[q >> 1]}`;
  if (dtype === 'int8') return words === 1 ? e : `${e}.${'xyzw'[q]}`;
  return words === 2 ? e : `${e}.${q === 0 ? 'xy' : 'zw'}`;
}

/**
 * vec4<f32> of quad q of the load; int8 bytes and int4 nibbles (two's complement) are sign-extended
 * by shifts (a little faster than unpack4xI8 here). An int4 word holds two quads: q even, its low half.
 */
export function decodeQuad(dtype: WeightDType, e: string, q: number): string {
  switch (dtype) {
    case 'f32':
      return e;
    case 'f16':
      return `vec4<f32>(unpack2x16float(${e}.x), unpack2x16float(${e}.y))`;
    case 'bf16':
      return `bitcast<vec4<f32>>(vec4<u32>(${e}.x << 16u, ${e}.x & 0xffff0000u, ${e}.y << 16u, ${e}.y & 0xffff0000u))`;
    case 'int8':
      return `vec4<f32>((vec4<i32>(bitcast<i32>(${e})) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u))`;
    case 'int4': {
      const shifts = q % 2 === 0 ? '28u, 24u, 20u, 16u' : '12u, 8u, 4u, 0u';
      return `vec4<f32>((vec4<i32>(bitcast<i32>(${e})) << vec4<u32>(${shifts})) >> vec4<u32>(28u))`;
    }
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

/** Whether each weight is scaled by its group's scale inside the k loop (per-group int8, int4). */
function groupScaled(config: LinearKernelConfig): boolean {
  return (config.weight === 'int8' || config.weight === 'int4') && config.perGroupScales;
}

/** The column loop over K (per group for per-group scales, which then scale each weight). */
function kLoop(config: LinearKernelConfig, tileN: number, kStep: number, body: string[]): string {
  if (!groupScaled(config)) {
    return `  for (var k0 = 0u; k0 < p.K; k0 += ${kStep}u) {\n${body.join('\n')}\n  }`;
  }
  const scaleLoads = range(tileN).map((j) => `    let gs${j} = ${scaleAt(config, `sb${j} + g`)};`);
  return `  let groups = p.K / p.groupSize;
  for (var g = 0u; g < groups; g++) {
${scaleLoads.join('\n')}
    for (var k0 = g * p.groupSize; k0 < (g + 1u) * p.groupSize; k0 += ${kStep}u) {
${body.join('\n')}
    }
  }`;
}

/** Row starts of the tile: clamped, so that edge tiles read valid rows and every lane stays active. */
function tileSetup(config: LinearKernelConfig, tile: GemmTile, xPerElement: number, wPerElement: number): string[] {
  const lines: string[] = [];
  const lane = tile.xShare ? ` + (lane % ${SHARE_LANES}u)` : '';
  for (const i of range(tile.tileM))
    lines.push(`  let xb${i} = (min(m0 + ${i}u, p.mEnd - 1u) - p.xRow0) * (p.K / ${xPerElement}u)${lane};`);
  for (const j of range(tile.tileN)) {
    const { column, rowOffset } = tileColumn(config, tile.tileN, j);
    lines.push(`  let nc${j} = min(n0 + ${column}u, p.nEnd - 1u)${rowOffset};`);
    lines.push(`  let wb${j} = (nc${j} - p.wRow0) * (p.K / ${wPerElement}u);`);
    if (groupScaled(config)) lines.push(`  let sb${j} = (nc${j} - p.sRow0) * (p.K / p.groupSize);`);
  }
  for (const i of range(tile.tileM)) for (const j of range(tile.tileN)) lines.push(`  var a${i}_${j} = 0.0;`);
  return lines;
}

export function entry(tile: GemmTile): string {
  const lanes = tile.xShare && tile.subgroupTile ? tile.subgroupTile : 0;
  const size = lanes ? (tile.workgroup ?? LINEAR_WORKGROUP) : LINEAR_WORKGROUP;
  const builtins = `@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>${tile.xShare ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}`;
  // Subgroups are numbered by a workgroup counter, not by local_invocation_index: a subgroup need
  // not be a run of consecutive invocations.
  const origin = lanes
    ? `var ticket = 0u;
  if (lane == 0u) { ticket = atomicAdd(&subgroupCounter, 1u); }
  let t = (wg.y * p.gridX + wg.x) * ${size / lanes}u + subgroupBroadcast(ticket, 0u); // this subgroup's tile, uniform across it
  let n0 = p.nStart + (t % p.nBlocks) * ${lanes}u * TILE_N + lane * TILE_N;
  let m0 = p.mStart + (t / p.nBlocks) * TILE_M;`
    : `let n0 = p.nStart + gid.x * TILE_N;
  let m0 = p.mStart + wg.y * TILE_M;`;
  return `${lanes ? 'var<workgroup> subgroupCounter: atomic<u32>;\n' : ''}@compute @workgroup_size(${size})
fn main(${builtins}) {
  // no early return: subgroupBroadcast needs every lane, and out-of-range lanes read clamped rows
  ${origin}`;
}

/**
 * The tiled kernel. Needs K and (per-group scales) the group size to be multiples of gemmKStep(tile, dtype).
 * With `config.inputNorm`, x is RMS-normed on the way in (input-norm.ts).
 */
function gemmSourceUncached(config: LinearKernelConfig, tile: GemmTile): string {
  const { tileM, tileN, xShare } = tile;
  const dtype = config.weight;
  const scaled = groupScaled(config);
  const norm = config.inputNorm;
  const kStep = gemmKStep(tile, dtype);
  const load = weightLoad(dtype, kStep);
  const xPerElement = xShare === 0 ? 4 : xShare;
  const quads = range(kStep / 4);
  const step: string[] = [];
  if (xShare) {
    if (norm) step.push(`    let gl = normAt(k0 + (lane % ${SHARE_LANES}u) * ${xShare}u);`);
    for (const i of range(tileM)) {
      const raw = `x[xb${i} + k0 / ${xPerElement}u]`;
      step.push(...(norm ? normedLoad(`xl${i}`, i, raw, 'gl', xShare) : [`    let xl${i} = ${raw};`]));
    }
  }
  for (const j of range(tileN)) {
    for (const q of quads) {
      const l = Math.floor((4 * q) / load.k);
      if ((4 * q) % load.k === 0) step.push(`    let w${j}_${l} = w[wb${j} + k0 / ${load.k}u + ${l}u];`);
      const inLoad = q % (load.k / 4);
      const quad = decodeQuad(dtype, quadOf(dtype, `w${j}_${l}`, load.words, inLoad), inLoad);
      step.push(`    let d${j}_${q} = ${scaled ? `gs${j} * ` : ''}${quad};`);
    }
  }
  if (norm && !xShare) for (const q of quads) step.push(`    let g_${q} = normAt(k0 + ${4 * q}u);`);
  for (const i of range(tileM)) {
    for (const q of quads) {
      if (xShare) step.push(`    let x${i}_${q} = ${sharedQuad(i, q, xShare)};`);
      else {
        const raw = `x[xb${i} + k0 / 4u${q ? ` + ${q}u` : ''}]`;
        step.push(...(norm ? normedLoad(`x${i}_${q}`, i, raw, `g_${q}`, 4) : [`    let x${i}_${q} = ${raw};`]));
      }
    }
    // one update of each accumulator per step: inside the loop every update is a masked blend
    for (const j of range(tileN))
      step.push(`    a${i}_${j} += ${quads.map((q) => `dot(x${i}_${q}, d${j}_${q})`).join(' + ')};`);
  }
  return /* wgsl */ `${xShare ? 'enable subgroups;' : ''}
${norm ? NORM_PARAMS : LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<${X_ELEMENT[xShare]}>;
${weightBindings(config, load.type)}
${epilogueBindings(config)}
${norm ? normDeclarations(norm, xPerElement as 1 | 2 | 4, normBinding(config)) : ''}
const TILE_M = ${tileM}u;
const TILE_N = ${outputTileN(config, tileN)}u;
${entry(tile)}
${tileSetup(config, tile, xPerElement, load.k).join('\n')}
${norm ? normSetup(tileM).join('\n') : ''}
${kLoop(config, tileN, kStep, step)}
${norm ? normScale(tileM, tileN, xShare ? sharedRowSum(SHARE_LANES) : (i) => `ss${i}`).join('\n') : ''}
${tileStores(config, tileM, tileN)}
}`;
}

export const gemmSource = memoSource(gemmSourceUncached);
