/**
 * The Qwen2 reference fixtures written by tools/python/make_qwen2_fixtures.py (`npm run fixtures`):
 * one folder per variant under .cache/fixtures/qwen2/, a model folder plus reference.safetensors.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '@fastvlm/tensor';
import { expect } from 'vitest';
import { generateTokens, type Qwen2ForCausalLM } from '../src/index.js';
import type { Tolerance } from './model-tolerances.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const QWEN2_FIXTURES = join(ROOT, '.cache/fixtures/qwen2');
export const TOKENIZER_FOLDER = join(ROOT, '.cache/fixtures/tokenizer/qwen2-json');

export interface Reference {
  promptIds: Int32Array;
  /** [T, V] */
  logits: Float32Array;
  vocab: number;
  greedyIds: number[];
  /** Top-1 minus top-2 logit at each greedy step in the reference. */
  greedyGaps: Float32Array;
}

export function variantFolder(variant: string): string {
  const folder = join(QWEN2_FIXTURES, variant);
  if (!existsSync(join(folder, 'reference.safetensors')))
    throw new Error(`fixture ${folder} is missing: run 'npm run fixtures'`);
  return folder;
}

export async function readReference(variant: string): Promise<Reference> {
  const file = await SafetensorsFile.open(join(variantFolder(variant), 'reference.safetensors'));
  try {
    const ids = async (name: string): Promise<Int32Array> => {
      const bytes = await file.read(name);
      return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return {
      promptIds: await ids('prompt_ids'),
      logits: await file.readAsFloat32('logits'),
      vocab: file.entry('logits').shape[1],
      greedyIds: [...(await ids('greedy_ids'))],
      greedyGaps: await file.readAsFloat32('greedy_gaps'),
    };
  } finally {
    await file.close();
  }
}

export interface LogitsError {
  maxAbs: number;
  /** Max abs error over the RMS of the reference logits. */
  maxAbsOverRms: number;
  /** RMS of the reference logits. */
  rms: number;
  /** RMS of the error. */
  rmsError: number;
}

/** Fails unless |actual - expected| <= atol + rtol * |expected| everywhere; returns the errors seen. */
export function expectLogitsClose(
  actual: Float32Array,
  expected: Float32Array,
  tolerance: Tolerance,
  what: string,
): LogitsError {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let maxAbs = 0;
  let sumSquares = 0;
  let errorSquares = 0;
  let worst = -1;
  let worstExcess = 1;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    sumSquares += expected[i] * expected[i];
    errorSquares += diff * diff;
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = Number.isNaN(diff) ? Infinity : diff;
    const excess = diff / (tolerance.atol + tolerance.rtol * Math.abs(expected[i]));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  const rms = Math.sqrt(sumSquares / expected.length);
  if (worst >= 0)
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tolerance.atol}, rtol ${tolerance.rtol}; max abs error ${maxAbs.toExponential(2)})`,
    );
  return { maxAbs, maxAbsOverRms: maxAbs / rms, rms, rmsError: Math.sqrt(errorSquares / expected.length) };
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Index of the largest value in row `row` of a [R, V] array. */
export function rowArgmax(values: Float32Array, vocab: number, row: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if (values[row * vocab + i] > values[row * vocab + best]) best = i;
  return best;
}

/** Logits [T, V] of the whole prompt in one prefill pass. */
export async function promptLogits(model: Qwen2ForCausalLM, ids: Int32Array): Promise<Float32Array> {
  const cache = model.createCache(ids.length);
  try {
    const logits = model.forward({ ids }, cache, 0, 'all');
    const values = await logits.read();
    logits.dispose();
    return values;
  } finally {
    cache.dispose();
  }
}

/** Greedy ids with EOS stopping off, as the reference was generated. */
export async function greedyIds(model: Qwen2ForCausalLM, ids: Int32Array, count: number): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generateTokens(model, { ids }, { maxNewTokens: count, stopTokenIds: [] })) out.push(id);
  return out;
}

/** Cosine of the last position's logits and the share of positions whose top-1 agrees. */
export function int8Agreement(
  actual: Float32Array,
  expected: Float32Array,
  vocab: number,
): { lastCosine: number; top1: number } {
  const rows = expected.length / vocab;
  let agree = 0;
  for (let r = 0; r < rows; r++) if (rowArgmax(actual, vocab, r) === rowArgmax(expected, vocab, r)) agree++;
  const last = (a: Float32Array): Float32Array => a.subarray((rows - 1) * vocab, rows * vocab);
  return { lastCosine: cosine(last(actual), last(expected)), top1: agree / rows };
}
