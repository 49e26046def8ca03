/** FastVLM image preprocessing: PNG/JPEG decoding, padding to a square, Pillow bicubic resize. */
export { ImageError } from './errors.js';
export { dropAlpha, type RawPixels, type RgbImage } from './rgb-image.js';
export { detectFormat, type DetectedFormat, type SupportedFormat } from './detect-format.js';
export { checkDimensions, decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions } from './decode.js';
export { decodePng, readPngHeader, type PngHeader } from './decode-png.js';
export { decodeJpeg, readJpegHeader, type JpegHeader } from './decode-jpeg.js';
export { padToSquare, squarePlacement, type SquarePlacement } from './pad-to-square.js';
export { resizeBicubic, type Canvas } from './resize-bicubic.js';
export { toPixelValues, type PixelLayout, type PixelValues } from './to-pixel-values.js';
export {
  DEFAULT_IMAGE_SIZE,
  loadImage,
  padAndResize,
  preprocessImage,
  type ImageInput,
  type LoadImageOptions,
  type PreprocessOptions,
} from './preprocess.js';
