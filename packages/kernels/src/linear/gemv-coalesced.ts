/**
 * The 'gpu' kernel shape's decode GEMV (1 to 4 rows): a workgroup of 256 invocations owns 8 output
 * columns, and the 32 invocations of each column split its K between them. Invocation `lane` reads
 * the column's weight row at loads lane, lane + 32, ... — neighbouring invocations read
 * neighbouring 16-byte words of the row (coalesced), where the 'cpu' tiles give each invocation its
 * own columns over the whole K (neighbours a whole weight row apart). The 32 partial sums of a
 * column are reduced in workgroup memory (a tree of barriers: no subgroup size is assumed), and
 * lane 0 stores the column through the usual epilogue. A [1 x 896] -> 4864 GEMV launches 155648
 * invocations, enough to fill a large GPU.
 *
 * Loads are 16 bytes per lane (vec4<f32>, or vec4<u32> of 8 f16/bf16 or 16 int8) when K (and an
 * int8 group) is a multiple of 16 values; else one quad of 4 values (K a multiple of 4). int4 weights
 * load 16 values (8 bytes: two words of nibbles) and need K and their group a multiple of 16, so
 * that a load never straddles two groups' f16 scales.
 */
import type { WeightDType } from '../weight.js';
import { memoSource } from '../shared/memo-source.js';
import {
  epilogueBindings,
  LINEAR_PARAMS,
  normBinding,
  outputTileN,
  range,
  scaleAt,
  tileColumn,
  tileStores,
  weightBindings,
  type LinearKernelConfig,
} from './common.js';
import { NORM_PARAMS, normDeclarations, normedLoad, normScale, normSetup } from './input-norm.js';
import { decodeQuad, quadOf, weightLoad, weightLoadBytes } from './register-tiled.js';

export const GEMV_WORKGROUP = 256;
/** Invocations that split one output column's K. */
export const GEMV_LANES = 32;
/** Output columns per workgroup. */
export const GEMV_COLUMNS = GEMV_WORKGROUP / GEMV_LANES;

export interface GemvShape {
  /** x rows per invocation (1 to 4). */
  tileM: number;
  /** K values per load: 16 (16-byte loads of every dtype but f32) or 4. */
  kStep: 4 | 16;
}

/** The load width for K and the group size, or undefined when K is not a multiple of 4. */
export function gemvKStep(K: number, groupSize: number): GemvShape['kStep'] | undefined {
  if (K % 16 === 0 && groupSize % 16 === 0) return 16;
  if (K % 4 === 0 && groupSize % 4 === 0) return 4;
  return undefined;
}

/** K values and weight bytes of one invocation's load. */
export function gemvLoad(dtype: WeightDType, kStep: GemvShape['kStep']): { values: number; bytes: number } {
  return { values: weightLoad(dtype, kStep).k, bytes: weightLoadBytes(dtype, kStep) };
}

function gemvSourceUncached(config: LinearKernelConfig, shape: GemvShape): string {
  const { tileM, kStep } = shape;
  const tileN = config.swiglu ? 2 : 1; // weight rows per column: gate and up for SwiGLU
  const dtype = config.weight;
  const scaled = (dtype === 'int8' && config.perGroupScales) || dtype === 'int4';
  const norm = config.inputNorm; // x normed on the way in (input-norm.ts): its squares reduced with the sums
  const load = weightLoad(dtype, kStep);
  const quads = range(load.k / 4);
  const setup: string[] = [];
  for (const i of range(tileM)) setup.push(`  let xb${i} = (min(m0 + ${i}u, p.mEnd - 1u) - p.xRow0) * (p.K / 4u);`);
  for (const j of range(tileN)) {
    const { column, rowOffset } = tileColumn(config, tileN, j);
    setup.push(`  let nc${j} = min(n0 + ${column}u, p.nEnd - 1u)${rowOffset};`);
    setup.push(`  let wb${j} = (nc${j} - p.wRow0) * (p.K / ${load.k}u);`);
    if (scaled) setup.push(`  let sb${j} = (nc${j} - p.sRow0) * (p.K / p.groupSize);`);
  }
  for (const i of range(tileM)) for (const j of range(tileN)) setup.push(`  var s${i}_${j} = 0.0;`);
  if (norm) setup.push(...normSetup(tileM));
  const step: string[] = [];
  if (norm) for (const q of quads) step.push(`    let g_${q} = normAt(l * ${load.k}u + ${4 * q}u);`);
  for (const i of range(tileM))
    for (const q of quads) {
      const raw = `x[xb${i} + l * ${load.k / 4}u + ${q}u]`;
      step.push(...(norm ? normedLoad(`x${i}_${q}`, i, raw, `g_${q}`, 4) : [`    let x${i}_${q} = ${raw};`]));
    }
  for (const j of range(tileN)) {
    step.push(`    let w${j} = w[wb${j} + l];`);
    const scale = scaled ? `${scaleAt(config, `sb${j} + (l * ${load.k}u) / p.groupSize`)} * ` : '';
    for (const q of quads)
      step.push(`    let d${j}_${q} = ${scale}${decodeQuad(dtype, quadOf(dtype, `w${j}`, load.words, q), q)};`);
  }
  for (const i of range(tileM))
    for (const j of range(tileN))
      step.push(`    s${i}_${j} += ${quads.map((q) => `dot(x${i}_${q}, d${j}_${q})`).join(' + ')};`);
  const dots = range(tileM).flatMap((i) => range(tileN).map((j) => ({ value: `s${i}_${j}`, slot: i * tileN + j })));
  const squares = norm ? range(tileM).map((i) => ({ value: `ss${i}`, slot: dots.length + i })) : [];
  const sums = [...dots, ...squares]; // reduced over the column's lanes together
  const at = (slot: number): string => `partial[${slot * GEMV_WORKGROUP}u + li]`;
  return /* wgsl */ `
${norm ? NORM_PARAMS : LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
${weightBindings(config, load.type)}
${epilogueBindings(config)}
${norm ? normDeclarations(norm, 4, normBinding(config)) : ''}
const TILE_M = ${tileM}u;
const TILE_N = ${outputTileN(config, tileN)}u;
var<workgroup> partial: array<f32, ${GEMV_WORKGROUP * sums.length}>;
@compute @workgroup_size(${GEMV_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // no early return before the barriers: out-of-range columns and rows read clamped ones
  let t = wg.y * p.gridX + wg.x;
  let lane = li % ${GEMV_LANES}u;
  let n0 = p.nStart + (t % p.nBlocks) * ${GEMV_COLUMNS}u + li / ${GEMV_LANES}u;
  let m0 = p.mStart + (t / p.nBlocks) * TILE_M;
${setup.join('\n')}
  for (var l = lane; l < p.K / ${load.k}u; l += ${GEMV_LANES}u) {
${step.join('\n')}
  }
${sums.map(({ value, slot }) => `  ${at(slot)} = ${value};`).join('\n')}
  workgroupBarrier();
  for (var stride = ${GEMV_LANES / 2}u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
${sums.map(({ slot }) => `      ${at(slot)} += partial[${slot * GEMV_WORKGROUP}u + li + stride];`).join('\n')}
    }
    workgroupBarrier();
  }
  if (lane != 0u) { return; }
${dots.map(({ value, slot }) => `  ${norm ? 'var' : 'let'} a${value.slice(1)} = ${at(slot)};`).join('\n')}
${norm ? normScale(tileM, tileN, (i) => at(squares[i].slot)).join('\n') : ''}
${tileStores(config, tileM, tileN)}
}`;
}

export const gemvSource = memoSource(gemvSourceUncached);
