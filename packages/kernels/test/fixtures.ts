/**
 * Reads the PyTorch fixtures written by tools/python/make_kernel_fixtures.py (regenerate with
 * `npm run fixtures`) and compares kernel outputs with them.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '@fastvlm/tensor';
import { expect } from 'vitest';
import type { Tolerance } from './tolerances.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURE_DIR = join(ROOT, '.cache/fixtures/kernels');

export interface FixtureCase {
  name: string;
  [param: string]: unknown;
}

export interface Fixture {
  cases: FixtureCase[];
  /** The case's tensor `role` as f32 values and its shape. */
  get(caseName: string, role: string): Promise<{ data: Float32Array; shape: number[] }>;
  /** The raw bytes of a tensor (for int8 / f16 bit patterns). */
  raw(caseName: string, role: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openFixture(family: string): Promise<Fixture> {
  const path = join(FIXTURE_DIR, `${family}.safetensors`);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing: run 'npm run fixtures'`);
  const file = await SafetensorsFile.open(path);
  const cases = JSON.parse(file.metadata.cases ?? '[]') as FixtureCase[];
  return {
    cases,
    async get(caseName, role) {
      const name = `${caseName}.${role}`;
      return { data: await file.readAsFloat32(name), shape: [...file.entry(name).shape] };
    },
    raw: (caseName, role) => file.read(`${caseName}.${role}`),
    close: () => file.close(),
  };
}

export interface Comparison {
  maxAbs: number;
  maxRel: number;
  worst: number;
}

/** Compares elementwise; fails naming the worst element. Returns the error figures. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: string,
): Comparison {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const diff = Math.abs(actual[i] - e);
    if (!(diff <= tolerance.atol + tolerance.rtol * Math.abs(e))) {
      const excess = Number.isNaN(diff) ? Infinity : diff / (tolerance.atol + tolerance.rtol * Math.abs(e));
      if (excess > worstExcess || worst < 0) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (diff > maxAbs) maxAbs = diff;
    if (Math.abs(e) > 1e-6) maxRel = Math.max(maxRel, diff / Math.abs(e));
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tolerance.atol}, rtol ${tolerance.rtol}; max abs error ${maxAbs.toExponential(2)})`,
    );
  }
  return { maxAbs, maxRel, worst };
}
