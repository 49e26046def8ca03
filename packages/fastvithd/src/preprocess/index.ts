/**
 * FastVLM's image preprocessing: decode (`@fastvlm/image`), pad to a square, Pillow bicubic
 * resize, pixel values. The image types and errors are re-exported for the model's users.
 */
export {
  DEFAULT_IMAGE_BUDGET,
  ImageBudgetError,
  ImageError,
  loadImage,
  type ImageBudget,
  type ImageInput,
  type RawPixels,
  type RgbImage,
} from '@fastvlm/image';
export { padToSquare, squarePlacement, type SquarePlacement } from './pad-to-square.js';
export { resizeBicubic, type Canvas } from './resize-bicubic.js';
export { toPixelValues, type PixelLayout, type PixelValues } from './to-pixel-values.js';
export { DEFAULT_IMAGE_SIZE, padAndResize, preprocessImage, type PreprocessOptions } from './preprocess.js';
