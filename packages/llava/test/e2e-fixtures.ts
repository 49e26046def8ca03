/**
 * The end-to-end fixtures written by tools/python/make_llava_fixtures.py: a random model folder, the
 * test image and the float64 reference's dumps, per variant: .cache/fixtures/llava/ (tiny: a 64-wide
 * Qwen2) and .cache/fixtures/llava-real/ (the real Qwen2-0.5B widths, 2 layers).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '@fastvlm/tensor';
import type { DumpTolerance } from './tolerances.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const LLAVA_FIXTURES = join(ROOT, '.cache/fixtures/llava');
export const MODEL_FOLDER = join(LLAVA_FIXTURES, 'tiny');
export const IMAGE_PATH = join(LLAVA_FIXTURES, 'image.png');

/** The real-width variant: FastViTHD at 256 px, 2 Qwen2 layers of width 896, the real vocabulary. */
export const REAL_WIDTH_FIXTURES = join(ROOT, '.cache/fixtures/llava-real');
export const REAL_WIDTH_MODEL_FOLDER = join(REAL_WIDTH_FIXTURES, 'model');
export const REAL_WIDTH_IMAGE_PATH = join(REAL_WIDTH_FIXTURES, 'image.png');

export const DUMP_NAMES = [
  'pixel_values',
  'vision_features',
  'image_embeds',
  'inputs_embeds',
  'prefill_logits',
] as const;
export type DumpName = (typeof DUMP_NAMES)[number];

export interface E2eReference {
  promptIds: number[];
  dumps: Record<DumpName, { data: Float32Array; shape: number[] }>;
  greedyIds: number[];
  greedyGaps: Float32Array;
}

export function checkFixtures(fixtures = LLAVA_FIXTURES): void {
  if (!existsSync(join(fixtures, 'reference.safetensors'))) {
    throw new Error(
      `fixtures ${fixtures} are missing: run '.venv/bin/python tools/python/make_llava_fixtures.py --out .cache/fixtures'`,
    );
  }
}

/** Reads `fixtures`/reference.safetensors (default: the tiny variant's). */
export async function readE2eReference(fixtures = LLAVA_FIXTURES): Promise<E2eReference> {
  checkFixtures(fixtures);
  const file = await SafetensorsFile.open(join(fixtures, 'reference.safetensors'));
  try {
    const ids = async (name: string): Promise<number[]> => {
      const bytes = await file.read(name);
      return [...new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
    };
    const dumps = {} as E2eReference['dumps'];
    for (const name of DUMP_NAMES)
      dumps[name] = { data: await file.readAsFloat32(name), shape: [...file.entry(name).shape] };
    return {
      promptIds: await ids('prompt_ids'),
      dumps,
      greedyIds: await ids('greedy_ids'),
      greedyGaps: await file.readAsFloat32('greedy_gaps'),
    };
  } finally {
    await file.close();
  }
}

export interface DumpError {
  /** max |actual - expected| / max |expected| */
  relativeToMax: number;
  /** The smallest atol (x max) that would pass with the tolerance's rtol. */
  neededAtol: number;
  passes: boolean;
}

export function compareDump(actual: Float32Array, expected: Float32Array, tolerance: DumpTolerance): DumpError {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let max = 0;
  for (const v of expected) max = Math.max(max, Math.abs(v));
  let worst = 0;
  let needed = 0;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
    needed = Math.max(needed, (error - tolerance.rtol * Math.abs(expected[i])) / (max || 1));
  }
  return { relativeToMax: worst / (max || 1), neededAtol: needed, passes: needed <= tolerance.atol };
}
