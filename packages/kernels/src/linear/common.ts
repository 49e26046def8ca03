/**
 * What every `linear` kernel shares: the configuration it is specialised on, its uniform
 * (`Params`), its bindings (x, the weight words, an int8 weight's scales, the epilogue operands,
 * y) and the stores of a tile of accumulators through the fused epilogue
 * y = residual + layerScale * act(acc + bias), or SwiGLU's silu(gate) * up.
 */
import { activationExpr, swigluGateExpr, WGSL_GELU } from '../shared/math.js';
import type { Activation } from '../shared/math.js';
import type { FloatDType } from '../shared/loaders.js';
import type { WeightDType } from '../weight.js';

/** What a linear kernel is specialised on (everything else comes in `LinearParams`). */
export interface LinearKernelConfig {
  weight: WeightDType;
  /** Scales [N, K / groupSize] rather than [N, 1]: int8 per group, int4 always. */
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
  /**
   * x is RMS-normed inside the kernel (input-norm.ts) by a γ of this dtype, bound after y; its
   * epsilon is `p.normEps`. The register tiles and the coalesced GEMV take it.
   */
  inputNorm?: FloatDType;
}

/**
 * Per-dispatch parameters. One dispatch covers output columns [nStart, nEnd), whose weight rows
 * live in the bound weight block from row `wRow0` (and its scales block from row `sRow0`), and
 * rows [mStart, mEnd) (the grid's y dimension is limited, and x, y and the residual may be split
 * into row blocks above the binding limit): the bound blocks of x, y and the residual start at
 * rows `xRow0`, `yRow0` and `rRow0`.
 */
export const LINEAR_PARAMS = /* wgsl */ `
struct Params { mEnd: u32, N: u32, K: u32, nStart: u32, nEnd: u32, wRow0: u32, sRow0: u32, groupSize: u32, mStart: u32, nBlocks: u32, gridX: u32, xRow0: u32, yRow0: u32, rRow0: u32 }
@group(0) @binding(0) var<uniform> p: Params;`;

export interface LinearParams {
  /** The end of this dispatch's rows. */
  mEnd: number;
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
  /** First rows of the bound x, y and residual blocks (0 when unsplit). */
  xRow0: number;
  yRow0: number;
  rRow0: number;
  /** The fused input norm's epsilon (input-norm.ts' Params; other kernels' Params end before it). */
  normEps?: number;
}

/** normEps's f32 bits go into the u32 uniform through this scratch word (no allocation per dispatch). */
const epsScratch = new Float32Array(1);
const epsBits = new Uint32Array(epsScratch.buffer);

export function linearParams(v: LinearParams): { uniform: Uint32Array } {
  epsScratch[0] = v.normEps ?? 0;
  const normEps = epsBits[0];
  return {
    uniform: Uint32Array.of(
      v.mEnd,
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
      v.xRow0,
      v.yRow0,
      v.rRow0,
      normEps,
    ),
  };
}

/** Whether the weight comes with a scales binding (int8: f32 scales, int4: f16 scales two a word). */
export function hasScales(config: LinearKernelConfig): boolean {
  return config.weight === 'int8' || config.weight === 'int4';
}

/** Bindings 2 (weight words) and, for int8 / int4, 3 (scales). */
export function weightBindings(config: LinearKernelConfig, wordType: string): string {
  const w = `@group(0) @binding(2) var<storage, read> w: array<${wordType}>;`;
  if (!hasScales(config)) return w;
  return `${w}\n@group(0) @binding(3) var<storage, read> scales: array<${config.weight === 'int4' ? 'u32' : 'f32'}>;`;
}

/** WGSL for the scale at element `index` of the scales binding (int4's are f16, two a word). */
export function scaleAt(config: LinearKernelConfig, index: string): string {
  return config.weight === 'int4' ? `unpack2x16float(scales[(${index}) >> 1u])[(${index}) & 1u]` : `scales[${index}]`;
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

/** The first epilogue binding: after the weight's words (2) and, int8 / int4, its scales (3). */
function firstEpilogueBinding(config: LinearKernelConfig): number {
  return hasScales(config) ? 4 : 3;
}

/** The binding of a fused input norm's γ: the one after y. */
export function normBinding(config: LinearKernelConfig): number {
  return firstEpilogueBinding(config) + epilogueOperands(config).length;
}

export function epilogueBindings(config: LinearKernelConfig): string {
  const first = firstEpilogueBinding(config);
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
  const at = (row0: string): string => `(${m} - p.${row0}) * p.N + ${n}`;
  if (config.residual) v = `residual[${at('rRow0')}] + ${config.layerScale ? `layerScale[${n}] * ` : ''}${v}`;
  return `y[${at('yRow0')}] = ${v};`;
}

/** `fn act(v: f32) -> f32` for the configured activation (empty when none). */
function activationFn(config: LinearKernelConfig): string {
  return config.activation === 'none'
    ? ''
    : `fn act(v: f32) -> f32 { return ${activationExpr(config.activation, 'v')}; }`;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Output columns per invocation: tileN, or tileN / 2 (gate, up) pairs for SwiGLU. */
export function outputTileN(config: LinearKernelConfig, tileN: number): number {
  return config.swiglu ? tileN / 2 : tileN;
}

/** Tile column j's output column (offset from n0) and the offset of its weight row from that column. */
export function tileColumn(
  config: LinearKernelConfig,
  tileN: number,
  j: number,
): { column: number; rowOffset: string } {
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
        `    if (m0 + ${i}u < p.mEnd) { let g = ${g}; y[(m0 + ${i}u - p.yRow0) * p.N + n] = ${swigluGateExpr('g')} * (${up}); }`,
      );
    }
    stores.push('  } }');
  }
  return stores.join('\n');
}

/** Stores of the tile through the epilogue; per-channel int8 scales are applied here. */
export function tileStores(config: LinearKernelConfig, tileM: number, tileN: number): string {
  if (config.swiglu) return swigluStores(config, tileM, tileN);
  const perChannel = config.weight === 'int8' && !config.perGroupScales;
  const stores: string[] = [];
  for (const j of range(tileN)) {
    stores.push(`  { let n = n0 + ${j}u; if (n < p.nEnd) {`);
    if (perChannel) stores.push(`    let sc = scales[n - p.sRow0];`);
    for (const i of range(tileM)) {
      const value = perChannel ? `sc * a${i}_${j}` : `a${i}_${j}`;
      stores.push(`    if (m0 + ${i}u < p.mEnd) { ${epilogueStore(config, `m0 + ${i}u`, 'n', value)} }`);
    }
    stores.push('  } }');
  }
  return stores.join('\n');
}
