/**
 * What one image may cost, stated and checked before the work: a small file can claim a huge image
 * (a 777 KB 16-bit PNG of 9999 x 9999) or, for a progressive JPEG, any number of scans.
 * - `maxDecodedBytes` (default 512 MiB): the bytes the decoder allocates for the image, computed
 *   from the header before any pixel is decoded: PNG: the RGB output and two rows; JPEG: every
 *   component's 16-bit coefficients and sample plane plus the RGB output; raw pixels: the RGB copy.
 *   (Fixed overheads come on top: up to ~4 MB of inflated PNG data in flight.)
 * - `maxCoefficientPasses` (default 16): JPEG scans may visit the image's coefficients at most this
 *   many times in all (a scan visits its blocks once per coefficient of its band); the JPEG
 *   standard's successive approximation allows at most 14, so no conforming file is refused.
 * - `maxFileBytes` (default 512 MiB): the size of an image file read from a path.
 * - `maxImageSide` (default 65535, JPEG's own limit): the longer side in pixels. Resizing to the
 *   tower's square works and allocates in proportion to the padded square's side, not to the
 *   pixels: a 1 x 178,000,000 PNG fits maxDecodedBytes yet would take gigabytes of resampling taps
 *   and hours of work. At 65535 the worst case costs what the largest square image does.
 */
import { ImageError } from './errors.js';

export interface ImageBudget {
  maxDecodedBytes?: number;
  maxCoefficientPasses?: number;
  maxFileBytes?: number;
  maxImageSide?: number;
}

export const DEFAULT_IMAGE_BUDGET: Readonly<Required<ImageBudget>> = {
  maxDecodedBytes: 512 * 2 ** 20,
  maxCoefficientPasses: 16,
  maxFileBytes: 512 * 2 ** 20,
  maxImageSide: 65_535,
};

/** The budget with defaults filled in; a limit that is not a positive number is an ImageError. */
export function resolveBudget(budget: ImageBudget = {}): Required<ImageBudget> {
  const resolved = { ...DEFAULT_IMAGE_BUDGET };
  for (const key of Object.keys(DEFAULT_IMAGE_BUDGET) as Array<keyof ImageBudget>) {
    const value = budget[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value > 0))
      throw new ImageError('image budget', `${key} must be a positive number, got ${String(value)}`);
    resolved[key] = value;
  }
  return resolved;
}

/** A byte count for messages: '300.0 MiB'. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
