import type { RgbImage } from '@fastvlm/image';

/**
 * Channel order of pixel values: 'nchw' is PyTorch's `pixel_values` [1, 3, N, N]; 'nhwc' is
 * [N, N, 3], the channels-last layout our vision tower runs in.
 */
export type PixelLayout = 'nchw' | 'nhwc';

/** Float32 pixel values with their shape. */
export interface PixelValues {
  data: Float32Array;
  shape: number[];
  layout: PixelLayout;
}

/**
 * uint8 -> float32 exactly as transformers' rescale (x * (1/255) in float64, then float32);
 * FastVLM normalises with mean 0 / std 1, which changes nothing.
 */
const SCALED = Float32Array.from({ length: 256 }, (_, value) => value * (1 / 255));

/** [H, W, 3] uint8 -> [1, 3, H, W] ('nchw') or [H, W, 3] ('nhwc') float32 in [0, 1]. */
export function toPixelValues(image: RgbImage, layout: PixelLayout = 'nchw'): PixelValues {
  const { width, height, data: pixels } = image;
  const data = new Float32Array(pixels.length);
  if (layout === 'nhwc') {
    for (let i = 0; i < pixels.length; i++) data[i] = SCALED[pixels[i]];
    return { data, shape: [height, width, 3], layout };
  }
  const plane = width * height;
  for (let p = 0; p < plane; p++) {
    data[p] = SCALED[pixels[p * 3]];
    data[plane + p] = SCALED[pixels[p * 3 + 1]];
    data[2 * plane + p] = SCALED[pixels[p * 3 + 2]];
  }
  return { data, shape: [1, 3, height, width], layout };
}
