/**
 * WGSL functions that read one element of a packed array as f32. 16-bit floats are stored two to
 * a u32 word and 8-bit integers four to a word, so these work without `shader-f16`.
 */
import type { DType } from '@fastvlm/tensor';

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

/**
 * Exact-form (erf) GELU, as PyTorch's default. WGSL has no erf: erfc comes from the Chebyshev fit in
 * Numerical Recipes (`erfcc`, fractional error below 1.2e-7). For x < 0 GELU is 0.5·x·erfc(|x|/√2)
 * directly, so its relative error stays small deep in the negative tail.
 */
/*
 * Subnormal floats: a CPU adapter (lavapipe) does not flush them, and every x86 instruction that
 * reads or produces one takes a microcode assist (~100x slower): a GEMM whose input holds 10%
 * subnormals runs 7.7x slower (measured). The activations and exponentials below never produce
 * one: where the exact result would be subnormal (|value| < 2^-126) they return exactly 0 or the
 * nearest normal computation, an error below 1e-32 (gelu) or 2^-126 (the exponentials).
 */
export const WGSL_GELU = /* wgsl */ `
fn erfc_nonneg(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  return t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
         t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}
fn gelu(x: f32) -> f32 {
  // past |x| = 12 gelu is x, or 0, to within 1e-32; erfc's exp would underflow to subnormals there
  let r = erfc_nonneg(min(abs(x), 12.0) * 0.70710678118654752);
  return select(select(0.5 * x * r, 0.0, x < -12.0), x - 0.5 * x * r, x >= 0.0);
}
`;

/** exp2(d) for d <= 0, exactly 0 where it would be subnormal (d < -126). */
export const WGSL_EXP2_FLUSHED = /* wgsl */ `
fn exp2_flushed(d: f32) -> f32 { return select(exp2(max(d, -126.0)), 0.0, d < -126.0); }
`;

/** exp(d) for d <= 0 (f32 and vec4), exactly 0 where it would be subnormal (d < -87.33, e^d < 2^-126). */
export const WGSL_EXP_FLUSHED = /* wgsl */ `
fn exp_flushed(d: f32) -> f32 { return select(exp(max(d, -87.33)), 0.0, d < -87.33); }
fn exp_flushed4(d: vec4<f32>) -> vec4<f32> { return select(exp(max(d, vec4<f32>(-87.33))), vec4<f32>(0.0), d < vec4<f32>(-87.33)); }
`;
