/**
 * Reads the FastViTHD fixtures written by tools/python/make_fastvithd_fixtures.py (regenerate with
 * `npm run fixtures`) and measures how far the tower's outputs are from them.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsCheckpoint, SafetensorsFile, Tensor, type Device } from '@fastvlm/tensor';
import { expect } from 'vitest';
import {
  fastVitHdConfig,
  loadFastVitHd,
  type EncodeResult,
  type FastViTHD,
  type VisionDType,
} from '../src/model/index.js';
import { TOLERANCE, type StageTolerance } from './tolerances.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURE_DIR = join(ROOT, '.cache/fixtures/fastvithd');

export function fixturePath(name: string): string {
  const path = join(FIXTURE_DIR, name);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing: run 'npm run fixtures'`);
  return path;
}

/** forward-N.safetensors: pixels and the float64 reference's stage outputs, channels-last. */
export interface ForwardFixture {
  imageSize: number;
  stages: string[];
  metadata: Readonly<Record<string, string>>;
  has(name: string): boolean;
  get(name: string): Promise<{ data: Float32Array; shape: number[] }>;
  close(): Promise<void>;
}

export async function openForward(imageSize: number): Promise<ForwardFixture> {
  const file = await SafetensorsFile.open(fixturePath(`forward-${imageSize}.safetensors`));
  return {
    imageSize,
    stages: JSON.parse(file.metadata.stages ?? '[]') as string[],
    metadata: file.metadata,
    has: (name) => file.names().includes(name),
    async get(name) {
      return { data: await file.readAsFloat32(name), shape: [...file.entry(name).shape] };
    },
    close: () => file.close(),
  };
}

export interface StageError {
  /** max |actual - expected| / max |expected|: the headline figure per stage. */
  relativeToMax: number;
  maxAbs: number;
  maxAbsExpected: number;
}

function maxAbsOf(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * Checks a stage elementwise, |a - e| <= atol * max|e| + rtol * |e| (atol is relative to the
 * stage's largest value, as the maps' scales differ by stage), and its max error relative to the max
 * against `tolerance.relativeToMax`. Fails naming the worst element.
 */
export function expectStageClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: StageTolerance,
  what: string,
): StageError {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const maxAbsExpected = maxAbsOf(expected);
  const atol = tolerance.atol * maxAbsExpected;
  let maxAbs = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const allowed = atol + tolerance.rtol * Math.abs(expected[i]);
    if (!(diff <= allowed)) {
      const excess = Number.isNaN(diff) ? Infinity : diff / allowed;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = Number.isNaN(diff) ? Infinity : diff;
  }
  const relativeToMax = maxAbs / maxAbsExpected;
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tolerance.atol} x max|ref| ${maxAbsExpected.toPrecision(3)}, rtol ${tolerance.rtol}; max abs error ${maxAbs.toExponential(2)})`,
    );
  }
  expect(relativeToMax, `${what}: max abs error / max |ref|`).toBeLessThanOrEqual(tolerance.relativeToMax);
  return { relativeToMax, maxAbs, maxAbsExpected };
}

/** The fixture tower (tower-f32 or tower-f16.safetensors; int8 is quantized from the f16 one at load) loaded as `dtype`. */
export async function loadFixtureTower(device: Device, dtype: VisionDType, imageSize: number): Promise<FastViTHD> {
  const checkpoint = await SafetensorsCheckpoint.open(
    fixturePath(`tower-${dtype === 'int8' ? 'f16' : dtype}.safetensors`),
  );
  try {
    return await loadFastVitHd(device, checkpoint, { config: fastVitHdConfig(imageSize), dtype });
  } finally {
    await checkpoint.close();
  }
}

/** Runs the tower on the fixture's pixels, keeping every stage; also returns the forward's wall time (recording + GPU). */
export async function encodeFixture(
  device: Device,
  tower: FastViTHD,
  fixture: ForwardFixture,
): Promise<EncodeResult & { seconds: number }> {
  const pixels = await fixture.get('pixels');
  const started = performance.now();
  const result = device.scope(() => tower.encodeWithStages(Tensor.fromArray(device, pixels.data, pixels.shape, 'f32')));
  await device.sync();
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/**
 * Checks every stage the fixture holds for `dtype` (`f32.<stage>` / `f16.<stage>`: the float64
 * reference with the same weights) and returns one report line: relative-to-max error per stage,
 * with PyTorch float32's own in brackets where the fixture records it.
 */
export async function checkStages(result: EncodeResult, fixture: ForwardFixture, dtype: VisionDType): Promise<string> {
  const torchF32 = JSON.parse(fixture.metadata.torch_f32_vs_f64 ?? '{}') as Record<string, number>;
  const parts: string[] = [];
  for (const name of fixture.stages) {
    if (!fixture.has(`${dtype}.${name}`)) continue;
    const expected = await fixture.get(`${dtype}.${name}`);
    const actual = name === 'features' ? result.features : result.stages[name];
    expect(actual.shape, name).toEqual(expected.shape);
    const error = expectStageClose(
      await actual.read(),
      expected.data,
      TOLERANCE.tower,
      `${fixture.imageSize} px ${dtype} ${name}`,
    );
    const baseline = dtype === 'f32' && torchF32[name] !== undefined ? ` (${torchF32[name].toExponential(1)})` : '';
    parts.push(`${name} ${error.relativeToMax.toExponential(1)}${baseline}`);
  }
  return parts.join(', ');
}

export function disposeResult(result: EncodeResult): void {
  result.features.dispose();
  for (const t of Object.values(result.stages)) t.dispose();
}
