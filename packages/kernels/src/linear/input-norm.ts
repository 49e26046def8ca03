/**
 * RMSNorm folded into the register-tiled linear kernel: y = rmsNorm(x; γ, eps) Wᵀ, i.e.
 *
 *   y[m, n] = rsqrt(mean_k x[m, k]² + eps) · Σ_k (x[m, k] γ[k]) W[n, k]
 *
 * Qwen2's pre-norms (input_layernorm before q/k/v, post_attention_layernorm before gate/up) feed a
 * GEMV; folding the norm into it saves a dispatch, and the norm's write and re-read of x, per norm.
 * Nothing is folded into the weights (γ W would round again in f16 and quantize differently): each
 * invocation, which reads every k of its x rows anyway, multiplies them by γ on the way in and sums
 * their squares in the same k loop; the row's scale multiplies the accumulators before the
 * epilogue. With shared x loads (subgroups) each of the 8 sharing lanes loads its share of γ beside
 * its share of x, so x γ is what is broadcast, and the row's sum of squares is the sum of the 8
 * lanes' partial sums (8 broadcasts, once per invocation).
 *
 * The coalesced GEMV of the 'gpu' shape (gemv-coalesced.ts) does the same per lane over its
 * share of K and reduces the squares in workgroup memory with the dot products.
 *
 * The pieces below are spliced into those generators; linear.ts decides where a norm is fused
 * (decode rows) and runs rmsNorm first everywhere else.
 */
import { loaderFn, vec4LoaderFn, vec4StorageType, wgslStorageType, type FloatDType } from '../shared/loaders.js';
import { range } from './common.js';

/** `p.normEps`, the norm's epsilon, is the f32 after LINEAR_PARAMS' last u32. */
export const NORM_PARAMS = /* wgsl */ `
struct Params { mEnd: u32, N: u32, K: u32, nStart: u32, nEnd: u32, wRow0: u32, sRow0: u32, groupSize: u32, mStart: u32, nBlocks: u32, gridX: u32, xRow0: u32, yRow0: u32, rRow0: u32, normEps: f32 }
@group(0) @binding(0) var<uniform> p: Params;`;

/**
 * The γ binding (`normWeight`, at `binding`) and `fn normAt(e: u32)`, which returns γ[e .. e + width)
 * as f32 / vec2<f32> / vec4<f32> (e a multiple of width). f16 / bf16 γ stays packed two a word.
 * Single values and quads are read by the shared loaders (shared/loaders.ts); pairs, which no other
 * kernel reads, here: one word (f16 / bf16) or one vec2<f32> per pair.
 */
export function normDeclarations(dtype: FloatDType, width: 1 | 2 | 4, binding: number): string {
  const declare = (element: string): string =>
    `@group(0) @binding(${binding}) var<storage, read> normWeight: array<${element}>;`;
  if (width === 1) return `${declare(wgslStorageType(dtype))}\n${loaderFn('normAt', 'normWeight', dtype)}`;
  if (width === 4)
    return `${declare(vec4StorageType(dtype))}
${vec4LoaderFn('normQuad', 'normWeight', dtype)}
fn normAt(e: u32) -> vec4<f32> { return normQuad(e / 4u); }`;
  const pair = {
    f32: 'return normWeight[e / 2u];',
    f16: 'return unpack2x16float(normWeight[e / 2u]);',
    bf16: 'let g = normWeight[e / 2u]; return bitcast<vec2<f32>>(vec2<u32>(g << 16u, g & 0xffff0000u));',
  }[dtype];
  return `${declare(dtype === 'f32' ? 'vec2<f32>' : 'u32')}
fn normAt(e: u32) -> vec2<f32> { ${pair} }`;
}

/**
 * With shared x loads, row i's sum of squares from the partial sums of the `lanes` lanes that
 * loaded it (the subgroup's first ones, one share each).
 */
export function sharedRowSum(lanes: number): (i: number) => string {
  return (i) =>
    range(lanes)
      .map((l) => `subgroupBroadcast(ss${i}, ${l}u)`)
      .join(' + ');
}

/** Per-row sums of squares, zeroed before the k loop. */
export function normSetup(tileM: number): string[] {
  return range(tileM).map((i) => `  var ss${i} = 0.0;`);
}

/**
 * The statements that load x row i's value `raw` (an expression) into `name`, normed by γ at
 * `gamma` (an expression of the same width), adding its squares to the row's sum.
 */
export function normedLoad(name: string, i: number, raw: string, gamma: string, width: 1 | 2 | 4): string[] {
  const square = width === 1 ? `${name}_raw * ${name}_raw` : `dot(${name}_raw, ${name}_raw)`;
  return [`    let ${name}_raw = ${raw};`, `    ss${i} += ${square};`, `    let ${name} = ${name}_raw * ${gamma};`];
}

/**
 * After the k loop: each row's 1 / sqrt(mean(x²) + eps) scales its accumulators (vars a{i}_{j}).
 * `rowSum(i)`: the WGSL of row i's whole sum of squares.
 */
export function normScale(tileM: number, tileN: number, rowSum: (i: number) => string): string[] {
  const lines: string[] = [];
  for (const i of range(tileM)) {
    lines.push(`  let rs${i} = 1.0 / sqrt((${rowSum(i)}) / f32(p.K) + p.normEps);`);
    for (const j of range(tileN)) lines.push(`  a${i}_${j} *= rs${i};`);
  }
  return lines;
}
