/**
 * Shared WGSL: functions that read one element (or four) of a packed storage array as f32.
 * 16-bit floats are stored two to a u32 word and 8-bit integers four to a word, so nothing needs
 * `shader-f16`. A kernel declares its array with `wgslStorageType` / `vec4StorageType` and reads
 * it through the function `loaderFn` / `vec4LoaderFn` writes into its source.
 */
import { ShapeError, type DType } from '@fastvlm/tensor';

export type FloatDType = 'f32' | 'f16' | 'bf16';

/** `dtype` as a FloatDType, or a ShapeError naming the operation and operand. */
export function checkFloatDType(op: string, what: string, dtype: DType): FloatDType {
  if (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'bf16')
    throw new ShapeError(`${op}: ${what} must be f32, f16 or bf16, got ${dtype}`);
  return dtype;
}

/** The WGSL array element type a tensor of `dtype` is bound as. */
export function wgslStorageType(dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return 'f32';
    case 'i32':
      return 'i32';
    default:
      return 'u32'; // f16, bf16, i8, u8, u32: packed words
  }
}

/** `fn <name>(i: u32) -> f32` reading element i of storage array `array` holding `dtype`. */
export function loaderFn(name: string, array: string, dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return `fn ${name}(i: u32) -> f32 { return ${array}[i]; }`;
    case 'f16':
      return `fn ${name}(i: u32) -> f32 { return unpack2x16float(${array}[i >> 1u])[i & 1u]; }`;
    case 'bf16':
      return `fn ${name}(i: u32) -> f32 { return bitcast<f32>(((${array}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu) << 16u); }`;
    case 'i8':
      return `fn ${name}(i: u32) -> f32 { return f32(extractBits(bitcast<i32>(${array}[i >> 2u]), (i & 3u) * 8u, 8u)); }`;
    case 'u8':
      return `fn ${name}(i: u32) -> f32 { return f32(extractBits(${array}[i >> 2u], (i & 3u) * 8u, 8u)); }`;
    case 'i32':
      return `fn ${name}(i: u32) -> f32 { return f32(${array}[i]); }`;
    case 'u32':
      return `fn ${name}(i: u32) -> f32 { return f32(${array}[i]); }`;
  }
}

/** `fn <name>(i: u32) -> f32` reading nibble i (a two's-complement int4, eight a word, low first) of u32 array `array`. */
export function nibbleLoaderFn(name: string, array: string): string {
  return `fn ${name}(i: u32) -> f32 { return f32(extractBits(bitcast<i32>(${array}[i >> 3u]), (i & 7u) * 4u, 4u)); }`;
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

/** A float vector of `length` values: declared and read as vec4s when `vec` is 4, else as scalars. */
export function floatVector(name: string, dtype: FloatDType, vec: 1 | 4): { type: string; loader: string } {
  return vec === 4
    ? { type: vec4StorageType(dtype), loader: vec4LoaderFn(`${name}At`, name, dtype) }
    : { type: wgslStorageType(dtype), loader: loaderFn(`${name}At`, name, dtype) };
}
