/**
 * Shared pieces of the row-wise kernels (layerNorm, rmsNorm, softmax) and of batchNorm: vec4 or
 * scalar views of a row, vec4 loaders for packed 16-bit weights, uniform packing.
 *
 * Row-wise kernels give each row of the last dimension to one thread, which reads it in vec4s
 * (scalars when its length is not a multiple of 4). On lavapipe this beats spreading a row over a
 * workgroup by ~10x: every workgroup barrier of a tree reduction costs about a microsecond there,
 * while a thread streams a row of a few thousand values in a few microseconds.
 */
import { ShapeError, type DType, type Device } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './grid.js';

const WG = 64;

/** 4 when rows of `length` are read as vec4<f32>, else 1. */
export function rowVec(length: number): 1 | 4 {
  return length % 4 === 0 ? 4 : 1;
}

/** The WGSL type of one value of a row: `f32` or `vec4<f32>`. */
export function rowType(vec: 1 | 4): string {
  return vec === 4 ? 'vec4<f32>' : 'f32';
}

/** WGSL: the sum / max of the components of `v` (a `rowType` value). */
export function horizontalSum(vec: 1 | 4, v: string): string {
  return vec === 4 ? `dot(${v}, vec4<f32>(1.0))` : v;
}
export function horizontalMax(vec: 1 | 4, v: string): string {
  return vec === 4 ? `max(max(${v}.x, ${v}.y), max(${v}.z, ${v}.w))` : v;
}

/**
 * Entry point of a thread-per-row kernel: `row`, `n` (values per row, from `params.n`) and `base`
 * (index of the row's first value) are in scope; threads past `params.rows` have returned.
 */
export const ROW_PER_THREAD_MAIN = /* wgsl */ `@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let row = ${flatIndex(WG)};
  if (row >= params.rows) { return; }
  let n = params.n;
  let base = row * n;`;

/** Workgroups for a thread-per-row kernel over `rows` rows. */
export function rowPerThreadGrid(device: Device, rows: number): [number, number] {
  return grid1d(device, rows, WG);
}

export type FloatDType = 'f32' | 'f16' | 'bf16';

export function checkFloatDType(op: string, what: string, dtype: DType): FloatDType {
  if (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'bf16')
    throw new ShapeError(`${op}: ${what} must be f32, f16 or bf16, got ${dtype}`);
  return dtype;
}

/** The array element type a vector of `dtype` is bound as for `vec4LoaderFn`. */
export function vec4StorageType(dtype: FloatDType): string {
  return dtype === 'f32' ? 'vec4<f32>' : 'vec2<u32>';
}

/** `fn <name>(i: u32) -> vec4<f32>` reading elements 4i..4i+3 of `array` (bound as `vec4StorageType`). */
export function vec4LoaderFn(name: string, array: string, dtype: FloatDType): string {
  switch (dtype) {
    case 'f32':
      return `fn ${name}(i: u32) -> vec4<f32> { return ${array}[i]; }`;
    case 'f16':
      return `fn ${name}(i: u32) -> vec4<f32> { let w = ${array}[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }`;
    case 'bf16':
      return `fn ${name}(i: u32) -> vec4<f32> { let w = ${array}[i]; return bitcast<vec4<f32>>(vec4<u32>(w.x << 16u, w.x & 0xffff0000u, w.y << 16u, w.y & 0xffff0000u)); }`;
  }
}

/** Uniform data of u32 / i32 / f32 fields, in order, padded to 16 bytes. */
export function uniformFields(fields: readonly (readonly [number, 'u32' | 'f32' | 'i32'])[]): Uint32Array {
  const words = new Uint32Array(Math.ceil(fields.length / 4) * 4);
  const floats = new Float32Array(words.buffer);
  const ints = new Int32Array(words.buffer);
  fields.forEach(([value, type], i) => {
    if (type === 'f32') floats[i] = value;
    else if (type === 'i32') ints[i] = value;
    else words[i] = value;
  });
  return words;
}
