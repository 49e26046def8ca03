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
