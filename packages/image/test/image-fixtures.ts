/**
 * Reads the PIL fixtures written by tools/python/make_preprocess_fixtures.py (regenerate with
 * `npm run fixtures`) and measures differences between uint8 / float images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '@fastvlm/tensor';
import type { RgbImage } from '../src/rgb-image.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURE_DIR = join(ROOT, '.cache/fixtures/preprocess');

export interface FixtureImage {
  name: string;
  /** Absolute path of the image file. */
  path: string;
  format: 'png' | 'jpg';
  /** PIL's mode after Image.open (before convert('RGB')). */
  mode: string;
  width: number;
  height: number;
}

export interface FixtureIndex {
  pillow: string;
  sizes: number[];
  checkSize: number;
  /** [width, height] of the non-square resizes of each decoded image. */
  freeResizes: Array<[number, number]>;
  images: FixtureImage[];
  /** Small JPEGs checked for decoding only: PIL's RGB of each is `<name>` in jpeg_variants.safetensors. */
  jpegVariants: FixtureImage[];
}

interface IndexJson {
  pillow: string;
  sizes: number[];
  check_size: number;
  free_resizes: Array<[number, number]>;
  images: Array<{ name: string; file: string; format: 'png' | 'jpg'; mode: string; width: number; height: number }>;
  jpeg_variants: Array<{ name: string; file: string; mode: string; width: number; height: number }>;
}

export function readFixtureIndex(): FixtureIndex {
  const indexPath = join(FIXTURE_DIR, 'index.json');
  if (!existsSync(indexPath)) throw new Error(`fixture ${indexPath} is missing: run 'npm run fixtures'`);
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as IndexJson;
  return {
    pillow: index.pillow,
    sizes: index.sizes,
    checkSize: index.check_size,
    freeResizes: index.free_resizes,
    jpegVariants: index.jpeg_variants.map(({ file, ...image }) => ({
      ...image,
      format: 'jpg' as const,
      path: join(FIXTURE_DIR, file),
    })),
    images: index.images.map(({ file, ...image }) => ({ ...image, path: join(FIXTURE_DIR, file) })),
  };
}

/** One image's PIL tensors: decoded, padded, resized_<N>, decoded_resized_<W>x<H> (uint8 [H, W, 3]), pixel_values_<N>. */
export class ImageFixture {
  private constructor(private readonly file: SafetensorsFile) {}

  /** `<name>.safetensors`; 'jpeg_variants' holds the decodings of the small JPEG variants. */
  static async open(name: string): Promise<ImageFixture> {
    return new ImageFixture(await SafetensorsFile.open(join(FIXTURE_DIR, `${name}.safetensors`)));
  }

  async rgb(role: string): Promise<RgbImage> {
    const [height, width] = this.file.entry(role).shape;
    return { width, height, data: await this.file.read(role) };
  }

  async float32(role: string): Promise<Float32Array> {
    return this.file.readAsFloat32(role);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

export interface Difference {
  /** Largest |a - b|. */
  max: number;
  /** Mean |a - b|. */
  mean: number;
  /** How many elements differ at all. */
  count: number;
}

export function difference(actual: ArrayLike<number>, expected: ArrayLike<number>): Difference {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let max = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (d > 0) count++;
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / Math.max(expected.length, 1), count };
}
