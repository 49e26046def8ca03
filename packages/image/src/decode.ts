/**
 * Image bytes -> 8-bit RGB, as PIL's `Image.open(...).convert('RGB')` gives it. The format is
 * found from the magic bytes; the header is read and the image's decoding cost checked against
 * the budget (budget.ts) before any pixel data is decoded.
 */
import { formatMiB, resolveBudget, type ImageBudget } from './budget.js';
import { detectFormat, type SupportedFormat } from './detect-format.js';
import { ImageBudgetError, ImageError } from './errors.js';
import { decodeJpeg, jpegDecodeBytes, readJpegHeader, type JpegHeader } from './jpeg/decode-jpeg.js';
import { decodePng, pngDecodeBytes } from './png/decode-png.js';
import { readPngHeader, type PngHeader } from './png/png-header.js';
import type { RgbImage } from './rgb-image.js';

export interface DecodeOptions extends ImageBudget {
  /** Names the image in errors (a file path, a URL...). Default '<image bytes>'. */
  source?: string;
}

/** What the header says, read without decoding pixels. */
export interface ImageHeader {
  format: SupportedFormat;
  width: number;
  height: number;
  /** Bytes the decoder will allocate for this image (what `maxDecodedBytes` bounds). */
  decodedBytes: number;
  /** Words for messages: '16-bit RGBA PNG', 'progressive JPEG, 3 components'. */
  kind: string;
  png?: PngHeader;
  jpeg?: JpegHeader;
}

const PNG_COLOR_TYPES: Record<number, string> = { 0: 'gray', 2: 'RGB', 3: 'palette', 4: 'gray + alpha', 6: 'RGBA' };

/**
 * Reads and checks the header: a supported format, positive dimensions, and a decoding cost
 * within `maxDecodedBytes`. Throws an ImageError (ImageBudgetError over budget) naming the source.
 */
export function readImageHeader(bytes: Uint8Array, options: DecodeOptions = {}): ImageHeader {
  const source = options.source ?? '<image bytes>';
  const { maxDecodedBytes, maxImageSide } = resolveBudget(options);
  if (bytes.length === 0) throw new ImageError(source, 'the image is empty (0 bytes)');
  const format = detectFormat(bytes);
  if ('unsupported' in format) {
    throw new ImageError(source, `the data is ${format.unsupported}; only PNG and JPEG images are supported`);
  }
  let header: ImageHeader;
  if (format.supported === 'PNG') {
    const png = readPngHeader(bytes, source);
    checkDimensions(png.width, png.height, source);
    const kind = `${png.bitDepth}-bit ${PNG_COLOR_TYPES[png.colorType]}${png.interlaced ? ' interlaced' : ''} PNG`;
    header = { format: 'PNG', width: png.width, height: png.height, decodedBytes: pngDecodeBytes(png), kind, png };
  } else {
    const jpeg = readJpegHeader(bytes, source);
    checkDimensions(jpeg.width, jpeg.height, source);
    const coding = jpeg.process === 2 ? 'progressive' : 'baseline';
    header = {
      format: 'JPEG',
      width: jpeg.width,
      height: jpeg.height,
      decodedBytes: jpegDecodeBytes(bytes, jpeg, source),
      kind: `${coding} JPEG, ${jpeg.components} component${jpeg.components === 1 ? '' : 's'}`,
      jpeg,
    };
  }
  checkDecodedBytes(header.decodedBytes, maxDecodedBytes, source, `${header.width}x${header.height} ${header.kind}`);
  checkImageSide(header.width, header.height, source, maxImageSide);
  return header;
}

/** Decodes PNG or JPEG bytes, after `readImageHeader`'s checks; the JPEG scans' work is bounded too. */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RgbImage {
  const source = options.source ?? '<image bytes>';
  const { maxCoefficientPasses } = resolveBudget(options);
  const header = readImageHeader(bytes, options);
  if (header.png !== undefined) return decodePng(bytes, header.png, source);
  return decodeJpeg(bytes, header.jpeg as JpegHeader, source, maxCoefficientPasses);
}

/** Throws unless width and height are positive integers. */
export function checkDimensions(width: number, height: number, source: string): void {
  if (typeof width !== 'number' || typeof height !== 'number') {
    const shown = (value: unknown): string =>
      typeof value === 'number' ? String(value) : `no number (${typeof value})`;
    throw new ImageError(
      source,
      `width and height must be positive integers, got width ${shown(width)} and height ${shown(height)}`,
    );
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageError(source, `the image is ${width}x${height}: width and height must be positive integers`);
  }
}

/** Throws an ImageBudgetError when the longer side is over `maxImageSide` (see budget.ts). */
export function checkImageSide(width: number, height: number, source: string, maxImageSide: number): void {
  const side = Math.max(width, height);
  if (side <= maxImageSide) return;
  throw new ImageBudgetError(
    source,
    `the image is ${width}x${height}: its longer side of ${side} pixels is over the budget of ${maxImageSide} (option maxImageSide)`,
    'maxImageSide',
    maxImageSide,
    side,
  );
}

/** Throws an ImageBudgetError when decoding `what` would allocate more than the budget. */
export function checkDecodedBytes(needed: number, maxDecodedBytes: number, source: string, what: string): void {
  if (needed <= maxDecodedBytes) return;
  throw new ImageBudgetError(
    source,
    `the image is ${what}: decoding it takes ${formatMiB(needed)}, over the budget of ${formatMiB(maxDecodedBytes)} (option maxDecodedBytes)`,
    'maxDecodedBytes',
    maxDecodedBytes,
    needed,
  );
}
