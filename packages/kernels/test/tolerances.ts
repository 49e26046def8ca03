/**
 * Parity tolerances, in one place. A value passes when |actual - expected| <= atol + rtol * |expected|.
 *
 * - f32: our kernels and PyTorch differ only in summation order and in transcendental functions
 *   (WGSL exp/erf approximations), so ~1e-5 relative. `atol` covers values near zero that come out
 *   of long sums (cancellation), scaled to the inputs' magnitude by the tests that need more.
 * - f16 / bf16 weights: the reference uses the same rounded weights (rounded in PyTorch, uploaded
 *   as bits), so only accumulation order differs: the f32 tolerance still applies to that comparison.
 *   Against the unrounded f32 result, f16 storage costs ~2^-11 relative per weight, bf16 2^-8.
 * - INT8 weights (symmetric, per-channel or per-group scales): against the same dequantized weights
 *   the f32 tolerance applies; against the f32 result the error is the quantization noise,
 *   ~ max|w| / 254 per weight, so ~1e-2 relative of a dot product's scale.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export const TOLERANCE = {
  f32: { atol: 1e-5, rtol: 1e-5 },
  /** Transcendental activations (exp, erf) in WGSL vs PyTorch's libm. */
  f32Transcendental: { atol: 2e-6, rtol: 2e-5 },
  /** f16-stored weights against the f32 result of the unrounded weights. */
  f16VsF32: { atol: 2e-3, rtol: 2e-3 },
  /** bf16-stored weights against the f32 result of the unrounded weights. */
  bf16VsF32: { atol: 2e-2, rtol: 2e-2 },
  /** int8 per-channel weights against the f32 result of the unquantized weights, relative to the output's RMS. */
  int8VsF32: { atol: 3e-2, rtol: 3e-2 },
} as const satisfies Record<string, Tolerance>;
