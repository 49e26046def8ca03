/**
 * FastVLM's image preprocessing (spec section 1): decode to 8-bit RGB -> pad to a black square,
 * image centred -> Pillow bicubic resize of the uint8 square to N x N -> x 1/255 (mean 0, std 1).
 * The same pixels as Apple's predict.py (PIL + CLIPImageProcessor), up to JPEG decoding.
 */
import type { FileHandle } from 'node:fs/promises';
import { checkDimensions, decodeImage, DEFAULT_MAX_PIXELS } from './decode.js';
import { describeError, ImageError } from './errors.js';
import { squarePlacement } from './pad-to-square.js';
import { resizeBicubic } from './resize-bicubic.js';
import { dropAlpha, type RawPixels, type RgbImage } from './rgb-image.js';
import { toPixelValues, type PixelLayout, type PixelValues } from './to-pixel-values.js';

/** A file path (Node), encoded PNG/JPEG bytes, or pixels already decoded (RGB or RGBA). */
export type ImageInput = string | Uint8Array | ArrayBuffer | RawPixels;

export interface LoadImageOptions {
  /** Names the image in errors; default: the path, '<image bytes>' or '<raw pixels>'. */
  source?: string;
  /** Largest width x height accepted, checked before decoding. Default 100 M pixels. */
  maxPixels?: number;
}

export interface PreprocessOptions extends LoadImageOptions {
  /** The tower's input side N (1024 for FastVLM-0.5B's mobileclip_l_1024). Default 1024. */
  size?: number;
  /** 'nchw' -> [1, 3, N, N] (PyTorch's pixel_values, the default); 'nhwc' -> [N, N, 3]. */
  layout?: PixelLayout;
}

export const DEFAULT_IMAGE_SIZE = 1024;

/** Any input form -> 8-bit RGB, as PIL's `Image.open(...).convert('RGB')`. */
export async function loadImage(input: ImageInput, options: LoadImageOptions = {}): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof input === 'string') {
    const source = options.source ?? input;
    return decodeImage(await readImageFile(input, source), { source, maxPixels });
  }
  if (input instanceof Uint8Array) return decodeImage(input, { source: options.source ?? '<image bytes>', maxPixels });
  if (input instanceof ArrayBuffer) {
    return decodeImage(new Uint8Array(input), { source: options.source ?? '<image bytes>', maxPixels });
  }
  return rgbFromRawPixels(input, options.source ?? '<raw pixels>', maxPixels);
}

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

async function readImageFile(path: string, source: string): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new ImageError(source, `cannot open the file (${describeError(error)})`, { cause: error });
  }
  try {
    const stats = await file.stat();
    // Reading a device or FIFO (/dev/zero, /dev/stdin) could never end.
    if (!stats.isFile()) throw new ImageError(source, 'not a regular file');
    return await file.readFile();
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw new ImageError(source, `cannot read the file (${describeError(error)})`, { cause: error });
  } finally {
    await file.close();
  }
}

function rgbFromRawPixels(pixels: RawPixels, source: string, maxPixels: number): RgbImage {
  const { width, height, data } = pixels;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new ImageError(source, 'raw pixels must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes');
  }
  checkDimensions(width, height, maxPixels, source);
  const count = width * height;
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
