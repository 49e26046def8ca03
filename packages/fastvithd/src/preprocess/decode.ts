/**
 * Image bytes -> 8-bit RGB, as PIL's `Image.open(...).convert('RGB')` gives it. The format is
 * found from the magic bytes; the dimensions are read from the header and checked against the
 * pixel budget before any pixel data is decoded (a small file can claim a huge image).
 */
import { decodeJpeg, readJpegHeader } from './decode-jpeg.js';
import { decodePng, readPngHeader } from './decode-png.js';
import { detectFormat } from './detect-format.js';
import { ImageError } from './errors.js';
import type { RgbImage } from './rgb-image.js';

/** The default pixel budget: 100 megapixels (a 10000 x 10000 image). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Names the image in errors (a file path, a URL...). Default '<image bytes>'. */
  source?: string;
  /** Largest width x height accepted; checked from the header before decoding. Default 100 M. */
  maxPixels?: number;
}

export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RgbImage {
  const source = options.source ?? '<image bytes>';
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new ImageError(source, 'the image is empty (0 bytes)');
  const format = detectFormat(bytes);
  if ('unsupported' in format) {
    throw new ImageError(source, `the data is ${format.unsupported}; only PNG and JPEG images are supported`);
  }
  if (format.supported === 'PNG') {
    const header = readPngHeader(bytes, source);
    checkDimensions(header.width, header.height, maxPixels, source);
    return decodePng(bytes, header, source);
  }
  const header = readJpegHeader(bytes, source);
  checkDimensions(header.width, header.height, maxPixels, source);
  return decodeJpeg(bytes, header, source, maxPixels);
}

/** Throws unless width and height are positive integers whose product is within the budget. */
export function checkDimensions(width: number, height: number, maxPixels: number, source: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageError(source, `the image is ${width}x${height}: width and height must be positive integers`);
  }
  if (width * height > maxPixels) {
    const megapixels = ((width * height) / 1e6).toFixed(1);
    throw new ImageError(
      source,
      `the image is ${width}x${height} (${megapixels} MP), over the pixel budget of ${maxPixels / 1e6} MP (option maxPixels)`,
    );
  }
}
