/**
 * `@fastvlm/image`: PNG and JPEG decoding to 8-bit RGB, bit-exact to Pillow's
 * `Image.open(...).convert('RGB')`, in Node and browsers alike, with every image's cost bounded
 * before decoding (budget.ts). File paths are read by the Node-only entry `@fastvlm/image/node`.
 */
export { DEFAULT_IMAGE_BUDGET, type ImageBudget } from './budget.js';
export { ImageBudgetError, ImageError, type ImageBudgetName } from './errors.js';
export { dropAlpha, type RawPixels, type RgbImage } from './rgb-image.js';
export { detectFormat, type DetectedFormat, type SupportedFormat } from './detect-format.js';
export { decodeImage, readImageHeader, type DecodeOptions, type ImageHeader } from './decode.js';
export { loadImage, rgbFromRawPixels, type ImageInput, type LoadImageOptions } from './load-image.js';
