/**
 * The 'gpu' kernel shape's GEMM (prefill, the projector and the tower's 1x1 convolutions: more
 * than 4 rows): a workgroup of 256 invocations (16 x 16) computes a 64-row x 64-column output tile
 * (32 columns for SwiGLU: 32 gate and 32 up weight rows), 4 x 4 accumulators per invocation. K is
 * walked 16 values at a time: the workgroup stages the x tile [64 x 16] and the weight tile
 * [64 x 16] (decoded to f32, int8 group scales applied) in workgroup memory, invocation li loading
 * quad li % 4 of row li / 4 — runs of 4 neighbouring invocations read a row's 16 consecutive K
 * values — then every invocation reads its 4 rows and 4 columns from workgroup memory, so each
 * value loaded from global memory feeds 64 multiply-adds. Only barriers are used (no subgroups).
 * K (and an int8 group) must be a multiple of 4; a partial last K step is zero-filled.
 */
import { memoSource } from '../shared/memo-source.js';
import {
  epilogueBindings,
  LINEAR_PARAMS,
  outputTileN,
  range,
  tileStores,
  weightBindings,
  type LinearKernelConfig,
} from './common.js';
import { decodeQuad, quadOf, weightLoad } from './register-tiled.js';

export const TILED_GEMM_WORKGROUP = 256;
/** Rows and weight rows of a workgroup's tile. */
export const TILED_GEMM_TILE = 64;
/** K values staged per step. */
export const TILED_GEMM_K = 16;

/** Whether the tiled GEMM can run this shape (quads of 4 K values that never straddle an int8 group). */
export function tiledGemmFits(config: LinearKernelConfig, K: number, groupSize: number): boolean {
  return config.weight !== 'int4' && K % 4 === 0 && groupSize % 4 === 0;
}

/** Output columns of a workgroup's tile. */
export function tiledGemmColumns(config: LinearKernelConfig): number {
  return config.swiglu ? TILED_GEMM_TILE / 2 : TILED_GEMM_TILE;
}

function tiledGemmSourceUncached(config: LinearKernelConfig): string {
  const dtype = config.weight;
  const scaled = dtype === 'int8' && config.perGroupScales;
  const load = weightLoad(dtype, 4); // one quad of 4 weights per load
  const T = TILED_GEMM_TILE;
  const quads = TILED_GEMM_K / 4;
  const tileN = 4; // weight columns per invocation (2 output columns of gate + up for SwiGLU)
  const half = T / 2;
  const weightColumn = config.swiglu
    ? `select(min(nTile + lr, p.nEnd - 1u), min(nTile + lr - ${half}u, p.nEnd - 1u) + p.N, lr >= ${half}u)`
    : 'min(nTile + lr, p.nEnd - 1u)';
  // the workgroup-memory column of accumulator j
  const wsColumn = (j: number): string =>
    config.swiglu ? (j < 2 ? `tx * 2u + ${j}u` : `${half}u + tx * 2u + ${j - 2}u`) : `tx * 4u + ${j}u`;
  const quad = decodeQuad(dtype, quadOf(dtype, 'wq', load.words, 0), 0);
  // one K quad of the staged tiles per iteration (a loop: unrolled, lavapipe compiles it far slower)
  const compute: string[] = ['    for (var q = 0u; q < ' + quads + 'u; q++) {'];
  for (const i of range(4)) compute.push(`      let x${i} = xs[q * ${T}u + ty * 4u + ${i}u];`);
  for (const j of range(tileN)) compute.push(`      let d${j} = ws[q * ${T}u + ${wsColumn(j)}];`);
  for (const i of range(4)) for (const j of range(tileN)) compute.push(`      a${i}_${j} += dot(x${i}, d${j});`);
  compute.push('    }');
  const accumulators = range(4).flatMap((i) => range(tileN).map((j) => `  var a${i}_${j} = 0.0;`));
  return /* wgsl */ `
${LINEAR_PARAMS}
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
${weightBindings(config, load.type)}
${epilogueBindings(config)}
const TILE_M = 4u;
const TILE_N = ${outputTileN(config, tileN)}u;
var<workgroup> xs: array<vec4<f32>, ${quads * T}>;
var<workgroup> ws: array<vec4<f32>, ${quads * T}>;
@compute @workgroup_size(${TILED_GEMM_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // no early return: every invocation loads its share of the tiles and meets the barriers
  let t = wg.y * p.gridX + wg.x;
  let nTile = p.nStart + (t % p.nBlocks) * ${tiledGemmColumns(config)}u;
  let mTile = p.mStart + (t / p.nBlocks) * ${T}u;
  let tx = li % 16u;
  let ty = li / 16u;
  let n0 = nTile + tx * TILE_N;
  let m0 = mTile + ty * TILE_M;
  // this invocation's share of each step's loads: quad lq of tile row lr
  let lr = li / ${quads}u;
  let lq = li % ${quads}u;
  let quadsK = p.K / 4u;
  let xRow = (min(mTile + lr, p.mEnd - 1u) - p.xRow0) * quadsK;
  let wColumn = ${weightColumn};
  let wRow = (wColumn - p.wRow0) * quadsK;
${scaled ? '  let sRow = (wColumn - p.sRow0) * (p.K / p.groupSize);' : ''}
${accumulators.join('\n')}
  for (var k0 = 0u; k0 < quadsK; k0 += ${quads}u) {
    let kq = min(k0 + lq, quadsK - 1u);
    let inK = k0 + lq < quadsK;
    xs[lq * ${T}u + lr] = select(vec4<f32>(0.0), x[xRow + kq], inK);
    let wq = w[wRow + kq];
    ws[lq * ${T}u + lr] = select(vec4<f32>(0.0), ${scaled ? 'scales[sRow + (kq * 4u) / p.groupSize] * ' : ''}${quad}, inK);
    workgroupBarrier();
${compute.join('\n')}
    workgroupBarrier();
  }
${tileStores(config, 4, tileN)}
}`;
}

export const tiledGemmSource = memoSource(tiledGemmSourceUncached);
