/**
 * Test helpers of the kernel parity suites: the PyTorch fixtures written by
 * tools/python/make_kernel_fixtures.py (regenerate with `npm run fixtures`), a suite's device and
 * fixture opened before its tests and closed after (`paritySuite`), and the comparison.
 *
 * The same suites run in Node and, unchanged, in Chromium (`npm run test:browser`, Vitest's browser
 * mode): the fixtures are found relative to this file, a path in Node and a URL on the test server
 * in the browser (served with Range requests, read as the page reads a model).
 */
import {
  createDevice,
  isNode,
  SafetensorsFile,
  Tensor,
  type Device,
  type DeviceOptions,
  type DType,
  type FeatureLevel,
} from '@fastvlm/tensor';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import type { Tolerance } from './tolerances.js';

/** The fixture folder: a path in Node, a URL in a browser. */
export const FIXTURE_DIR = ((): string => {
  const url = new URL('../../../.cache/fixtures/kernels/', import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : url.href;
})();

declare module 'vitest' {
  export interface ProvidedContext {
    /** The feature level a browser project's adapter needs (vitest.browser.config.ts); unset in Node. */
    featureLevel?: FeatureLevel;
    /** Run one case per variant (`cases`), to bound the browser runs' time; unset in Node. */
    paritySubset?: boolean;
  }
}

/**
 * A device for a test: `createDevice(options)`, at the feature level the run asks for (in Chromium,
 * the lavapipe adapter is only offered to a compatibility-mode request).
 */
export function testDevice(options: DeviceOptions = {}): Promise<Device> {
  const featureLevel = inject('featureLevel');
  return createDevice(featureLevel === undefined ? options : { featureLevel, ...options });
}

/** The largest error of every comparison of this test file, by kernel dtype (see `expectClose`). */
const parity = new Map<string, { maxAbs: number; maxRel: number; comparisons: number }>();

/** The dtype a comparison names (`k_proj.f16 ...`, `decode_m3.int8g64 ...`), else f32. */
function dtypeOf(what: string): string {
  return /(?<![a-z0-9])(bf16|f16|int8|int4)(?=g\d|[^a-z0-9]|$)/.exec(what)?.[1] ?? 'f32';
}

// One line per test file, `[parity] {...}`: tools/web-ci/parity-reporter.ts collects them, so the
// browser run prints each adapter's errors next to Node's.
afterAll(() => {
  if (parity.size === 0) return;
  const file = (expect.getState().testPath ?? 'unknown').replace(/^.*\/test\//, '').replace(/\.test\.ts$/, '');
  const runtime = isNode() ? 'node' : 'browser';
  console.log(`[parity] ${JSON.stringify({ file, runtime, dtypes: Object.fromEntries(parity) })}`);
});

/** The fixture files, one per family of kernel cases (tools/python/kernel_cases/<family>.py). */
export type FixtureFamily = 'attention' | 'conv' | 'elementwise' | 'linear' | 'llm_plumbing' | 'norms';

export interface FixtureCase {
  name: string;
  [param: string]: unknown;
}

export interface Fixture {
  readonly family: FixtureFamily;
  /** Every case of the file; prefer `cases(filter)`, which fails when nothing matches. */
  readonly allCases: readonly FixtureCase[];
  /**
   * The cases passing `filter`. Throws when there are none, so that a suite whose fixture lost its
   * cases (or whose filter is wrong) fails instead of passing with zero tests. In a subset run (the
   * browser projects), only the first case of each variant: cases that differ only in their name and
   * sizes (numeric parameters) are one variant; every op, dtype, shape name, activation and flag stays.
   */
  cases(filter?: (c: FixtureCase) => boolean): FixtureCase[];
  /** The case called `name`; throws when it is missing. */
  case(name: string): FixtureCase;
  /** The case's tensor `role` as f32 values and its shape. */
  get(caseName: string, role: string): Promise<{ data: Float32Array; shape: number[] }>;
  /** The raw bytes of a tensor (for int8 / f16 bit patterns). */
  raw(caseName: string, role: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A case's variant: its parameters other than the name and numbers (sizes). */
function variantOf(c: FixtureCase): string {
  const kept = Object.entries(c).filter(([key, value]) => key !== 'name' && typeof value !== 'number');
  return JSON.stringify(kept.filter(([, value]) => typeof value !== 'object').sort());
}

function firstOfEachVariant(cases: FixtureCase[]): FixtureCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => !seen.has(variantOf(c)) && seen.add(variantOf(c)) !== undefined);
}

export async function openFixture(family: FixtureFamily): Promise<Fixture> {
  const path = `${FIXTURE_DIR}${FIXTURE_DIR.endsWith('/') ? '' : '/'}${family}.safetensors`;
  const file = await SafetensorsFile.open(path).catch((cause: unknown) => {
    throw new Error(`fixture ${path} cannot be read (run 'npm run fixtures'): ${String(cause)}`, { cause });
  });
  const allCases = JSON.parse(file.metadata.cases ?? '[]') as FixtureCase[];
  return {
    family,
    allCases,
    cases(filter = () => true) {
      const found = allCases.filter(filter);
      if (found.length === 0)
        throw new Error(`fixture ${family}: no case matches ${String(filter)} (${allCases.length} cases in the file)`);
      return inject('paritySubset') === true ? firstOfEachVariant(found) : found;
    },
    case(name) {
      const found = allCases.find((c) => c.name === name);
      if (!found) throw new Error(`fixture ${family}: no case '${name}'`);
      return found;
    },
    async get(caseName, role) {
      const name = `${caseName}.${role}`;
      return { data: await file.readAsFloat32(name), shape: [...file.entry(name).shape] };
    },
    raw: (caseName, role) => file.read(`${caseName}.${role}`),
    close: () => file.close(),
  };
}

/** A device for the tests of one `describe`: created before them, destroyed after. */
export interface DeviceSuite {
  /** Valid inside tests and hooks. */
  readonly device: Device;
}

/** Registers the hooks that create a device (with `options`) before the enclosing suite's tests and destroy it after. */
export function deviceSuite(options?: DeviceOptions, onEnd?: () => Promise<void> | void): DeviceSuite {
  let device: Device | undefined;
  beforeAll(async () => {
    device = await testDevice(options);
  });
  afterAll(async () => {
    device?.destroy();
    device = undefined;
    await onEnd?.();
  });
  return {
    get device(): Device {
      if (!device) throw new Error('the suite device exists only inside tests and hooks');
      return device;
    },
  };
}

/** A parity suite: its fixture, a device and an error report printed after the suite. */
export interface ParitySuite extends DeviceSuite {
  readonly fixture: Fixture;
  /** Uploads a case's tensor as `dtype` (f16 / bf16 fixture values are pre-rounded, so exact). */
  upload<D extends DType = 'f32'>(caseName: string, role: string, dtype?: D): Promise<Tensor<D>>;
  /** Adds a line to the report printed when the suite ends. */
  report(line: string): void;
}

/**
 * Opens `family`'s fixture and registers the hooks that create a device before the suite's tests
 * and free both after them. Call at the top of an async `describe`.
 */
export async function paritySuite(
  family: FixtureFamily,
  options: { device?: DeviceOptions; title?: string } = {},
): Promise<ParitySuite> {
  const fixture = await openFixture(family);
  const lines: string[] = [];
  const gpu = deviceSuite(options.device, async () => {
    if (lines.length > 0) console.log(`${options.title ?? family} max errors:\n${lines.join('\n')}`);
    await fixture.close();
  });
  return {
    fixture,
    get device(): Device {
      return gpu.device;
    },
    async upload<D extends DType = 'f32'>(caseName: string, role: string, dtype?: D): Promise<Tensor<D>> {
      const { data, shape } = await fixture.get(caseName, role);
      return Tensor.fromArray(gpu.device, data, shape, (dtype ?? 'f32') as D);
    },
    report: (line) => lines.push(line),
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
  const dtype = dtypeOf(what);
  const seen = parity.get(dtype) ?? { maxAbs: 0, maxRel: 0, comparisons: 0 };
  parity.set(dtype, {
    maxAbs: Math.max(seen.maxAbs, maxAbs),
    maxRel: Math.max(seen.maxRel, maxRel),
    comparisons: seen.comparisons + 1,
  });
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tolerance.atol}, rtol ${tolerance.rtol}; max abs error ${maxAbs.toExponential(2)})`,
    );
  }
  return { maxAbs, maxRel, worst };
}

/** `expectClose` plus a report line `name shape: max abs .., max rel ..`. */
export function expectCloseReported(
  suite: ParitySuite,
  actual: ArrayLike<number>,
  expected: { data: ArrayLike<number>; shape: readonly number[] },
  tolerance: Tolerance,
  what: string,
): Comparison {
  const result = expectClose(actual, expected.data, tolerance, what);
  suite.report(
    `  ${what} ${expected.shape.join('x')}: max abs ${result.maxAbs.toExponential(2)}, max rel ${result.maxRel.toExponential(2)}`,
  );
  return result;
}

/** Bit-exact equality (a loop: vitest's deep equality is slow on millions of elements). */
export function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      expect.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Runs `work` and returns its result with the labels of the kernels it dispatched. */
export async function withKernelLabels<T>(
  device: Device,
  work: () => Promise<T>,
): Promise<{ result: T; labels: string[] }> {
  const labels = new Set<string>();
  const stop = device.observeDispatches(({ kernel }) => labels.add(kernel.label));
  try {
    return { result: await work(), labels: [...labels] };
  } finally {
    stop();
  }
}
