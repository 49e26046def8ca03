/**
 * Tolerances of the Qwen2 model tests, in one place. A logit passes when
 * |actual - expected| <= atol + rtol * |expected|. The fixtures' logits have an RMS of ~1-3
 * (tools/python/make_qwen2_fixtures.py scales the tied embedding for O(1) logits).
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export const MODEL_TOLERANCE = {
  /**
   * f32 compute on the very weights the reference used (an f32 checkpoint, or an f16 one whose
   * reference ran the f16 values in f32; f16 storage on the GPU holds them exactly): only the
   * summation order (dot products of 896 and 4864 terms, tiled differently from PyTorch's) and
   * WGSL's exp / sin / cos / sqrt approximations differ. Each kernel is within ~1e-5 relative of
   * PyTorch (packages/kernels/test/tolerances.ts); two layers, each renormalised by RMSNorm, and the
   * LM head's 896-term sums bring that to ~1e-4 of the logits' O(1) scale.
   */
  f32Logits: { atol: 1e-4, rtol: 1e-4 },
  /**
   * An f32 checkpoint held as f16 on the GPU (rounded there) against the f32 reference. Rounding to
   * f16 moves each weight by up to 2^-11 of itself, RMS ~2.8e-4: a dot product's output moves by
   * ~2.8e-4 of its own scale. Seven projections a layer, two layers, the embedding rows and the LM
   * head compound to ~1e-3 of the logits' RMS (~2), i.e. an RMS error ~2e-3; the largest of 10^4 to
   * 10^6 logits is ~5 sigma, ~1e-2. Twice that as atol.
   */
  f16WeightsVsF32Logits: { atol: 2e-2, rtol: 2e-3 },
} satisfies Record<string, Tolerance>;

/**
 * INT8 weights (per output channel; the tied embedding / LM head per row) against f32: no
 * elementwise bound, the quantisation noise (~max|w| / 254 per weight) is a few percent of each
 * logit. Reported, and held to sane bounds only: the last position's logits keep a cosine
 * similarity above this with the f32 ones, and the greedy token agrees at most positions.
 */
export const INT8_MIN_COSINE = 0.99;
export const INT8_MIN_TOP1_AGREEMENT = 0.6;
