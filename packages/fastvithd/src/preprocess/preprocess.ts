/**
 * FastVLM's image preprocessing (spec section 1): decode to 8-bit RGB -> pad to a black square,
 * image centred -> Pillow bicubic resize of the uint8 square to N x N -> x 1/255 (mean 0, std 1).
 * The same pixels as Apple's predict.py (PIL + CLIPImageProcessor).
 */
import { ImageError, loadImage, type ImageInput, type LoadImageOptions, type RgbImage } from '@fastvlm/image';
import { squarePlacement } from './pad-to-square.js';
import { resizeBicubic } from './resize-bicubic.js';
import { toPixelValues, type PixelLayout, type PixelValues } from './to-pixel-values.js';

export interface PreprocessOptions extends LoadImageOptions {
  /** The tower's input side N (1024 for FastVLM-0.5B's mobileclip_l_1024). Default 1024. */
  size?: number;
  /** 'nchw' -> [1, 3, N, N] (PyTorch's pixel_values, the default); 'nhwc' -> [N, N, 3]. */
  layout?: PixelLayout;
}

export const DEFAULT_IMAGE_SIZE = 1024;

/**
 * 8-bit RGB -> the uint8 N x N square the tower sees: the image centred on a black square of
 * side max(W, H), resized with Pillow's bicubic. The square canvas is never built.
 */
export function padAndResize(image: RgbImage, size: number): RgbImage {
  const { side, left, top } = squarePlacement(image.width, image.height);
  return resizeBicubic(image, size, size, { width: side, height: side, left, top });
}

/** Any input form -> pixel values [1, 3, N, N] (or [N, N, 3] with layout 'nhwc'), f32 in [0, 1]. */
export async function preprocessImage(input: ImageInput, options: PreprocessOptions = {}): Promise<PixelValues> {
  const size = options.size ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(size) || size <= 0) {
    throw new ImageError(options.source ?? 'preprocess', `size must be a positive integer, got ${size}`);
  }
  const image = await loadImage(input, options);
  return toPixelValues(padAndResize(image, size), options.layout ?? 'nchw');
}
