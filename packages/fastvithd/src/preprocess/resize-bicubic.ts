/**
 * Pillow's `Image.resize(size, Image.BICUBIC)` on 8-bit RGB, bit for bit (Pillow's Resample.c
 * algorithm, checked against Pillow 12 by the preprocess fixtures): separable, the horizontal
 * pass first into a uint8 intermediate, then the vertical pass; a pass is skipped when its
 * dimension is unchanged. Keys cubic (a = -0.5, support 2, widened by the scale factor when
 * downsampling); each output pixel's weights are normalised to sum 1, rounded to fixed point with
 * 22 fractional bits, accumulated in integers from the rounding constant 1 << 21 and clipped.
 *
 * The image may be resampled as it sits on a larger black canvas (FastVLM's padded square)
 * without building that canvas: black pixels add exactly 0 to every integer sum. The vertical
 * pass scatters each intermediate row into the output rows that use it, so memory stays
 * O(output) even for extreme aspect ratios.
 */
import type { RgbImage } from '@fastvlm/image';

/** An image placed on a black canvas of width x height, its top-left corner at (left, top). */
export interface Canvas {
  width: number;
  height: number;
  left: number;
  top: number;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const ROUNDING = 2 ** (PRECISION_BITS - 1);

/** Per output pixel: the first input pixel used, how many, and their fixed-point weights. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array; // [outSize, stride]
  stride: number;
}

/** Resizes `image` (or the black canvas it sits on) to outWidth x outHeight. */
export function resizeBicubic(image: RgbImage, outWidth: number, outHeight: number, canvas?: Canvas): RgbImage {
  const place = canvas ?? { width: image.width, height: image.height, left: 0, top: 0 };
  const resizeRows = outWidth !== place.width; // Pillow's need_horizontal
  const resizeColumns = outHeight !== place.height; // need_vertical
  const horizontal = resizeRows ? bicubicTaps(place.width, outWidth) : undefined;
  const rowBytes = outWidth * 3;
  const row = new Uint8Array(rowBytes);
  const out = new Uint8Array(outHeight * rowBytes);
  if (!resizeColumns) {
    for (let y = 0; y < image.height; y++) {
      canvasRow(image, y, place, horizontal, out.subarray((place.top + y) * rowBytes, (place.top + y + 1) * rowBytes));
    }
    return { width: outWidth, height: outHeight, data: out };
  }
  // Vertical pass by scattering: acc[j] = 1<<21 + sum over canvas rows y of weight(j, y) * row(y).
  const vertical = bicubicTaps(place.height, outHeight);
  const acc = new Float64Array(outHeight * rowBytes).fill(ROUNDING);
  let firstOutput = 0; // the first output row whose window reaches the current canvas row
  for (let y = 0; y < image.height; y++) {
    const canvasY = place.top + y;
    canvasRow(image, y, place, horizontal, row);
    while (firstOutput < outHeight && vertical.first[firstOutput] + vertical.count[firstOutput] <= canvasY)
      firstOutput++;
    for (let j = firstOutput; j < outHeight && vertical.first[j] <= canvasY; j++) {
      const weight = vertical.weights[j * vertical.stride + canvasY - vertical.first[j]];
      if (weight === 0) continue;
      const base = j * rowBytes;
      for (let i = 0; i < rowBytes; i++) acc[base + i] += weight * row[i];
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = clip8(acc[i]);
  return { width: outWidth, height: outHeight, data: out };
}

/** Canvas row `top + y` after the horizontal pass (or as it is, when the width is unchanged). */
function canvasRow(image: RgbImage, y: number, place: Canvas, taps: Taps | undefined, row: Uint8Array): void {
  const source = image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3);
  if (taps === undefined) {
    row.fill(0);
    row.set(source, place.left * 3);
    return;
  }
  const { first, count, weights, stride } = taps;
  for (let x = 0; x < first.length; x++) {
    // Only the taps on the image: the canvas around it is black and adds nothing.
    const from = Math.max(first[x], place.left);
    const to = Math.min(first[x] + count[x], place.left + image.width);
    let red = ROUNDING;
    let green = ROUNDING;
    let blue = ROUNDING;
    for (let c = from, k = x * stride + from - first[x], p = (from - place.left) * 3; c < to; c++, k++, p += 3) {
      const weight = weights[k];
      red += weight * source[p];
      green += weight * source[p + 1];
      blue += weight * source[p + 2];
    }
    row[x * 3] = clip8(red);
    row[x * 3 + 1] = clip8(green);
    row[x * 3 + 2] = clip8(blue);
  }
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for BICUBIC over the box (0, inSize). */
export function bicubicTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const kernel = new Float64Array(stride);
  const inverseScale = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < n; x++) {
      kernel[x] = keysCubic((x + xmin - center + 0.5) * inverseScale);
      total += kernel[x];
    }
    for (let x = 0; x < n; x++) {
      const weight = total !== 0 ? kernel[x] / total : kernel[x];
      // Round half away from zero, as Pillow's (int)(w * 2^22 +- 0.5).
      weights[xx * stride + x] = weight < 0 ? Math.trunc(-0.5 + weight * ONE) : Math.trunc(0.5 + weight * ONE);
    }
    first[xx] = xmin;
    count[xx] = Math.max(n, 0);
  }
  return { first, count, weights, stride };
}

/** Keys' cubic convolution kernel with a = -0.5 (Pillow's bicubic_filter). */
function keysCubic(t: number): number {
  const a = -0.5;
  const x = Math.abs(t);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Fixed-point sum -> uint8: floor(sum / 2^22) clipped to 0..255 (Pillow's clip8). */
function clip8(sum: number): number {
  if (sum <= 0) return 0;
  const value = Math.floor(sum / ONE);
  return value > 255 ? 255 : value;
}
