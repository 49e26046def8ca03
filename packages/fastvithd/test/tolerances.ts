/**
 * Parity tolerances of the FastViTHD tower, in one place. The reference is the PyTorch tower run
 * in float64 on the same weights and the same float32 pixels (tools/python/make_fastvithd_fixtures.py),
 * i.e. the exact result; each stage output (stem, network.0 .. network.10, conv_exp) and the
 * features are compared. A value passes when
 *
 *   |actual - expected| <= atol * max|expected of that stage| + rtol * |expected|
 *
 * and each stage's max |actual - expected| / max |expected| ("relative to max") stays within
 * `relativeToMax`.
 *
 * Why atol is relative to the stage's largest value: every output is a long f32 sum (1x1 convs over
 * up to 6144 inputs, 7x7 taps, attention over 1024 tokens) of terms of the stage's own scale, so its
 * rounding error is ~1e-7 of that scale whatever the element's own size; an element near zero can
 * be wrong by that much in absolute terms. The scales differ by stage (the random tower's maps
 * range from O(1) to O(10)), hence per-stage atol.
 *
 * Measured (lavapipe, f32 compute): relative to max <= 1.0e-6 at 256 px and <= 1.3e-6 at 1024 px
 * on every stage; the elementwise fit needs atol <= 4.5e-7 (x max) with rtol 1e-5. PyTorch's own
 * float32 forward of the same tower lands 5e-7..9.6e-7 (relative to max) from float64 (fixture
 * metadata `torch_f32_vs_f64`): we are as close to exact as PyTorch f32 is. The bounds below are
 * ~8-10x the measurements, room for another GPU's exp/erf and summation order, while any real
 * mistake (a wrong scale, a missing bias, a swapped channel, f16 rounding) costs 1e-4 or more:
 * the f16-weight tower's drift alone is 3e-4 (stem) to 2.8e-3 (features).
 */
export interface StageTolerance {
  /** Relative to the largest |value| of the stage's reference. */
  atol: number;
  rtol: number;
  /** Bound on max |actual - expected| / max |expected| over the stage. */
  relativeToMax: number;
}

export const TOLERANCE = {
  /**
   * The tower against the float64 reference with the same weights: f32 weights, or f16 weights
   * against the reference run with the same f16-rounded weights (only the f32 compute differs).
   */
  tower: { atol: 4e-6, rtol: 1e-5, relativeToMax: 1e-5 },
  /**
   * f16-stored weights against the reference with the unrounded f32 weights: the rounding of
   * every weight (2^-11 relative) compounds over the 44 blocks to 2.4e-3 (256 px) / 2.5e-3
   * (1024 px) relative to max at the features, in PyTorch too (fixture metadata
   * `f16_weights_vs_f32_weights`). A statement of the drift, not a parity bound.
   */
  f16WeightsVsF32: { atol: 5e-3, rtol: 5e-3, relativeToMax: 5e-3 },
  /**
   * int8 matrices (visionDtype 'int8': 1x1 convolutions and attention linears, one scale per output
   * channel) against the reference with the unrounded f32 weights: 1.7e-2 relative to max at the
   * features (256 px), ~7x the f16 drift. Parity itself is checked against the reference run with
   * the same quantized weights (`tower`, measured <= 7.5e-7); this states the quantization drift.
   */
  int8WeightsVsF32: { atol: 5e-2, rtol: 5e-2, relativeToMax: 5e-2 },
} as const satisfies Record<string, StageTolerance>;
