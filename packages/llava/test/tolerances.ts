/**
 * Tolerances of the end-to-end FastVLM tests, in one place. The reference is
 * tools/python/make_llava_fixtures.py's PyTorch FastVLM run in float64 on the very weights we load
 * (stored as float16, read exactly into f32 on both sides), from the same image. A value passes when
 *
 *   |actual - expected| <= atol * max|expected of that dump| + rtol * |expected|
 *
 * Why relative to the dump's largest value: every entry is a long f32 sum (the tower's 1x1 convs over
 * up to 6144 inputs, the projector's 3072-term dot products, the LM head's) of terms of the dump's
 * own scale, so its rounding error is a fraction of that scale whatever the entry's own size.
 * PyTorch's own float32 run lands 7.7e-7 (features), 9.6e-7 (projector) and 1.3e-6 (logits) from
 * float64, relative to max (fixture metadata `torch_f32_vs_f64`).
 *
 * Measured (lavapipe, f32 weights and compute), max error / max |ref| and the atol needed with
 * these rtols: features 1.0e-6 / 2.3e-7, image and inputs embeddings 8.8e-7 / 4.8e-7, prefill
 * logits 1.3e-6 / 8.7e-7: as close to exact as PyTorch's own float32. The bounds are ~10-20x
 * the needed atol, room for another GPU's exp/erf and summation order, while a real mistake (a
 * missing bias, the tanh GELU, a row spliced one off, f16 weights) costs 1e-4 or more. The greedy
 * tokens must be identical: the reference's smallest top-1 minus top-2 gap is 2.6e-3 on logits of
 * max 11, i.e. 2.4e-4 relative, far above the logits' error.
 *
 * The same bounds serve the real-width variant (model-parity-real-width.test.ts: FastViTHD at 256 px,
 * 2 Qwen2 layers of width 896, 14/2 heads, intermediate 4864, the real vocabulary). PyTorch's float32
 * there lands 9.0e-7 (features), 1.0e-6 (projector) and 1.3e-6 (logits) from float64, the tiny
 * variant's baseline: the 896-term sums do not widen it. Measured (lavapipe, f32), max error / max
 * |ref| and needed atol: features 5.9e-7 / 1.9e-7, embeddings 8.8e-7 / 6.1e-7, logits 1.2e-6 / 8.1e-7,
 * so no new entry. Its smallest greedy gap is 1.1e-2 on logits of max 11.5 (9.6e-4 relative), 4.4x
 * twice the logits' bound at the top logit and ~800x the measured error.
 */
export interface DumpTolerance {
  /** Relative to the largest |value| of the dump's reference. */
  atol: number;
  rtol: number;
}

export const E2E_TOLERANCE = {
  /** Our preprocessing is Pillow's, bit for bit (packages/fastvithd's parity test): exact. */
  pixels: { atol: 0, rtol: 0 },
  /**
   * The tower in f32: packages/fastvithd/test/tolerances.ts bounds it at 4e-6 x max (measured
   * 1.0e-6 at 256 px); the same bound here.
   */
  features: { atol: 4e-6, rtol: 1e-5 },
  /**
   * Projector and splice: two GEMMs (3072 then 64 terms) over features already ~1e-6 off; the GELU
   * is erf-exact in WGSL to ~1e-7. The tower's bound plus one GEMM's rounding.
   */
  embeds: { atol: 5e-6, rtol: 1e-5 },
  /**
   * Prefill logits at every position: the image rows' error passes through two decoder layers and
   * the tied LM head (64-term sums over 151936 rows); Qwen2's own test bounds f32 logits at 1e-4 of
   * their O(1) scale; the logits here are relative to their max.
   */
  logits: { atol: 1e-5, rtol: 1e-4 },
} satisfies Record<string, DumpTolerance>;
