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
 * - INT4 weights (symmetric, f16 scale per group of 32-128): against the same dequantized weights
 *   the f32 tolerance applies; against the f32 result see `int4VsF32`.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export const TOLERANCE = {
  f32: { atol: 1e-5, rtol: 1e-5 },
  /** Transcendental activations (exp, erf) in WGSL vs PyTorch's libm. */
  f32Transcendental: { atol: 2e-6, rtol: 2e-5 },
  /**
   * linear: a dot product with f32 accumulation (outputs O(1), so the f32 atol of a long sum) followed
   * by a WGSL exp/erf activation (so the transcendental rtol).
   */
  f32DotActivation: { atol: 1e-5, rtol: 2e-5 },
  /** f16-stored weights against the f32 result of the unrounded weights. */
  f16VsF32: { atol: 2e-3, rtol: 2e-3 },
  /** bf16-stored weights against the f32 result of the unrounded weights. */
  bf16VsF32: { atol: 2e-2, rtol: 2e-2 },
  /** int8 per-channel weights against the f32 result of the unquantized weights, relative to the output's RMS. */
  int8VsF32: { atol: 3e-2, rtol: 3e-2 },
  /**
   * int4 group-wise weights against the f32 result of the unquantized weights, atol relative to the
   * output's RMS (rtol 0: the error does not scale with each output, only with the row's inputs).
   * The step is max|w| / 7 per group (the max of 32 N(0, 1) draws is ~2.1 sigma: a step of ~0.3
   * sigma; of 128 draws ~2.6 sigma), a rounding error of std step / sqrt(12) ~ 0.09 sigma per
   * weight; over a dot product of unit inputs, ~0.08 (group 32) to ~0.1 (group 128) of the output's
   * RMS, and the worst of ~5000 outputs ~4.5 std of that. Measured over the linear cases (groups
   * 8-128, K 37-4864): worst output 0.38 RMS, error RMS <= 0.09 RMS (see INT4_RMS_ERROR).
   */
  int4VsF32: { atol: 0.5, rtol: 0 },
  /**
   * Attention (softmax(q k^T * scale) v, f32, online softmax) against a float64 reference: a score
   * and its exp2 carry ~1e-7 relative error times the score's size (std up to 4, extremes ~15 in the
   * peaky cases), and the output, a convex mix of v rows (|v| < ~5), inherits it: measured <= 2.5e-6.
   */
  attention: { atol: 1e-5, rtol: 1e-5 },
  /**
   * Gathers and copies (embedding rows, splicing, int8 rows as q * scale, one correctly rounded f32
   * multiply): no arithmetic differs from PyTorch's, so the results must be bit-identical.
   */
  exactCopy: { atol: 0, rtol: 0 },
  /**
   * Sampling probabilities after temperature / top-k / top-p: the kept set is transformers' warpers'
   * (run in f32), the reference probabilities their f64 softmax (PyTorch's f32 softmax over 151936
   * tokens is off by up to 2e-5 relative). We compute exp and the normaliser in f64 from the same f32
   * scaled logits, so only the f32 rounding of the stored result (6e-8) and the order of f64 sums
   * differ; a token kept by one side and not the other is off by its whole probability and fails.
   */
  samplingProbabilities: { atol: 1e-10, rtol: 1e-6 },
  /**
   * Softmax over the 151936-entry vocabulary against PyTorch's f32 softmax. Measured against an f64
   * softmax of the same f32 inputs, PyTorch's own result is up to 1.3e-5 relative off (its f32 sum
   * of 151936 terms; the order depends on the CPU's vector width), ours 1.3e-6 (WGSL exp ~2e-6
   * relative at |x| ~ 30, sum over 256 threads). Rows up to a few thousand stay within
   * `f32Transcendental`; the tests also check every case against the f64 softmax with that.
   */
  softmaxVocab: { atol: 2e-6, rtol: 5e-5 },
  /**
   * RoPE (x·cos + rotate_half(x)·sin) against transformers' Qwen2 rotary code. inv_freq and the
   * angle pos·inv_freq are the same f32 values on both sides (inv_freq checked bit for bit); what
   * differs is cos / sin of that angle. The kernels compute them themselves (shared/math.ts
   * `wgslSinCos`: Cody-Waite reduction, Cephes polynomials, ~6e-8 absolute), not with the GPU's
   * sin / cos, which WGSL lets be 2^-11 off (SwiftShader's are: 3.7e-3 on these cases); Sleef's are
   * ~1 ulp. So the output is off by ~1.5e-7 · (|x[j]| + |x[j + d/2]|): 4.8e-7 measured for
   * unit-normal x, positions up to 32767, on lavapipe, SwiftShader and lavapipe in Chromium's
   * compatibility mode. Scale atol with |x| for larger inputs.
   */
  rope: { atol: 2e-6, rtol: 1e-5 },
} as const satisfies Record<string, Tolerance>;

/**
 * int4 group-wise weights against the f32 result: the RMS of the error over a case's outputs,
 * relative to the outputs' RMS (expected ~0.08 at group 32, ~0.1 at group 128: see int4VsF32).
 */
export const INT4_RMS_ERROR = 0.12;
