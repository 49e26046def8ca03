/**
 * Shared WGSL math: activations (GELU, SiLU, ReLU, sigmoid) and exponentials that never produce a
 * subnormal, used by the elementwise kernels and fused into linear, conv, pooling and attention.
 *
 * Subnormal floats: a CPU adapter (lavapipe) does not flush them, and every x86 instruction that
 * reads or produces one takes a microcode assist (~100x slower): a GEMM whose input holds 10%
 * subnormals runs 7.7x slower (measured). The functions below never produce one: where the exact
 * result would be subnormal (|value| < 2^-126) they return exactly 0 or the nearest normal
 * computation, an error below 1e-32 (gelu) or 2^-126 (the exponentials).
 */

export type Activation = 'gelu' | 'silu' | 'relu' | 'sigmoid' | 'none';

/** WGSL applying `activation` to an f32 expression; GELU needs `WGSL_GELU` in the module. */
export function activationExpr(activation: Activation, x: string): string {
  switch (activation) {
    case 'gelu':
      return `gelu(${x})`;
    // exp(-x) is kept from underflowing (x > 87: the result is x or 1 exactly), and where it
    // overflows x / inf is an exact 0; sigmoid's 1 / (1 + e^87) would be subnormal, so below -87 it is 0.
    case 'silu':
      return `(${x} / (1.0 + exp(max(-${x}, -87.0))))`;
    case 'relu':
      return `max(${x}, 0.0)`;
    case 'sigmoid':
      return `select(1.0 / (1.0 + exp(clamp(-${x}, -87.0, 87.0))), 0.0, ${x} < -87.0)`;
    case 'none':
      return x;
  }
}

/**
 * WGSL for SwiGLU's gate silu(g) (g a plain name): below -80 (|value| < 2e-33) it is 0, so that its
 * product with up is never subnormal. Shared by `silu_mul` and linearSwiGlu's epilogue.
 */
export function swigluGateExpr(g: string): string {
  return `select(${g} / (1.0 + exp(max(-${g}, -87.0))), 0.0, ${g} < -80.0)`;
}

/**
 * Exact-form (erf) GELU, as PyTorch's default. WGSL has no erf: erfc comes from the Chebyshev fit in
 * Numerical Recipes (`erfcc`, fractional error below 1.2e-7). For x < 0 GELU is 0.5·x·erfc(|x|/√2)
 * directly, so its relative error stays small deep in the negative tail.
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

/**
 * WGSL `fn sin_cos(x) -> SinCos` (x an f32, or a vec4 with `vec` 4): sin and cos of an angle without
 * the platform's sin / cos, whose error WGSL bounds only inside [-π, π] (2^-11 absolute). SwiftShader
 * is that coarse: RoPE came out up to 3.7e-3 off there, against 4.8e-7 with lavapipe's own cos / sin.
 *
 * x is reduced to r in [-π/4, π/4] by k = round(x·2/π) (Cody-Waite): π/2 is split into
 * P1 + P2 + P3 + P4 where P1..P3 have at most 9 significant bits, so k·P1, k·P2, k·P3 are exact for
 * |k| < 2^15 and the first subtractions too; r is within ~6e-8 of x - k·π/2 for |x| < 51000 (RoPE
 * angles stay below 32768, the longest context). sin r and cos r are Cephes' sinf / cosf polynomials
 * (~1 ulp on [-π/4, π/4]), put in k's quadrant.
 */
export function wgslSinCos(vec: 1 | 4): string {
  const T = vec === 4 ? 'vec4<f32>' : 'f32';
  const I = vec === 4 ? 'vec4<i32>' : 'i32';
  return /* wgsl */ `
struct SinCos { s: ${T}, c: ${T} }
fn sin_cos(x: ${T}) -> SinCos {
  let k = round(x * 0.63661977236758134);
  let r = (((x - k * 1.5703125) - k * 0.00048065185546875) - k * 3.1739473342895508e-6) - k * 9.92093629470503e-10;
  let z = r * r;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  let q = ${I}(k) & ${I}(3); // the quadrant: sin x = s, c, -s, -c and cos x = c, -s, -c, s
  let odd = (q & ${I}(1)) == ${I}(1);
  let sinX = select(s, c, odd);
  let cosX = select(c, s, odd);
  // sin is negated in quadrants 2, 3, cos in quadrants 1, 2
  return SinCos(select(sinX, -sinX, q >= ${I}(2)), select(cosX, -cosX, ((q + ${I}(1)) & ${I}(2)) == ${I}(2)));
}
`;
}
