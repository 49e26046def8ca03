/**
 * Any input form -> 8-bit RGB, as PIL's `Image.open(...).convert('RGB')`: encoded PNG/JPEG bytes,
 * pixels decoded elsewhere (a browser's ImageData), or, in Node only, a file path (read by
 * `@fastvlm/image/node`, which a browser bundle never reaches: its specifier is not a literal).
 */
import { DEFAULT_IMAGE_BUDGET, resolveBudget, type ImageBudget } from './budget.js';
import { checkDecodedBytes, checkDimensions, checkImageSide, decodeImage } from './decode.js';
import { ImageError } from './errors.js';
import type * as NodeEntry from './node/index.js';
import { dropAlpha, type RawPixels, type RgbImage } from './rgb-image.js';

/** A file path (Node), encoded PNG/JPEG bytes, or pixels already decoded (RGB or RGBA). */
export type ImageInput = string | Uint8Array | ArrayBuffer | RawPixels;

export interface LoadImageOptions extends ImageBudget {
  /** Names the image in errors; default: the path, '<image bytes>' or '<raw pixels>'. */
  source?: string;
}

export async function loadImage(input: ImageInput, options: LoadImageOptions = {}): Promise<RgbImage> {
  if (typeof input === 'string') {
    const source = options.source ?? input;
    const bytes = await (await nodeEntry(source)).readImageFile(input, { ...options, source });
    return decodeImage(bytes, { ...options, source });
  }
  if (input instanceof Uint8Array) return decodeImage(input, { ...options, source: options.source ?? '<image bytes>' });
  if (input instanceof ArrayBuffer) {
    return decodeImage(new Uint8Array(input), { ...options, source: options.source ?? '<image bytes>' });
  }
  const { maxDecodedBytes, maxImageSide } = resolveBudget(options);
  return rgbFromRawPixels(input, options.source ?? '<raw pixels>', maxDecodedBytes, maxImageSide);
}

/** Checks raw pixels (size, channels, length, budget) and copies them as RGB. */
export function rgbFromRawPixels(
  pixels: RawPixels,
  source: string,
  maxDecodedBytes: number,
  maxImageSide: number = DEFAULT_IMAGE_BUDGET.maxImageSide,
): RgbImage {
  const { width, height, data } = pixels;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new ImageError(source, 'raw pixels must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes');
  }
  checkDimensions(width, height, source);
  const count = width * height;
  checkDecodedBytes(count * 3, maxDecodedBytes, source, `${width}x${height} raw pixels`);
  checkImageSide(width, height, source, maxImageSide);
  const channels = pixels.channels ?? (data.length === count * 4 ? 4 : data.length === count * 3 ? 3 : undefined);
  if (channels !== 3 && channels !== 4) {
    throw new ImageError(source, `raw pixels: ${data.length} bytes is neither RGB nor RGBA for ${width}x${height}`);
  }
  if (data.length !== count * channels) {
    throw new ImageError(
      source,
      `raw pixels: ${width}x${height}x${channels} needs ${count * channels} bytes, got ${data.length}`,
    );
  }
  return { width, height, data: dropAlpha(data, count, channels) };
}

/** `@fastvlm/image/node`, loaded on first use; outside Node a path cannot be read. */
async function nodeEntry(source: string): Promise<typeof NodeEntry> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new ImageError(
      source,
      'a file path can only be read in Node; in a browser pass the encoded bytes (a Uint8Array) or decoded pixels (ImageData)',
    );
  }
  const specifier = '@fastvlm/image/node';
  return (await import(/* @vite-ignore */ specifier)) as typeof NodeEntry;
}
