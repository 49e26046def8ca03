/**
 * The device on any adapter: the limits the kernels need are requested (and an adapter below them
 * refused by name), compatibility mode on request and as the fallback when no core adapter exists,
 * a useful name when the adapter's strings are blank, and no Dawn enumeration notices on stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  adapterName,
  createDevice,
  describeAdapter,
  DeviceError,
  KERNEL_LIMITS,
  requiredLimitsFor,
  Tensor,
} from '../src/index.js';
import { createDawnGpu } from '../src/node/index.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../../..');

// 256 invocations in one dimension, as the elementwise kernels use.
const DOUBLE_256 = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&x)) { y[id.x] = 2.0 * x[id.x]; }
}`;

/** Limits as a compatibility-mode adapter's defaults are (the lowest WebGPU allows). */
function compatDefaults(): Record<string, number> {
  return {
    maxComputeInvocationsPerWorkgroup: 128,
    maxComputeWorkgroupSizeX: 128,
    maxStorageBuffersPerShaderStage: 4,
    maxComputeWorkgroupStorageSize: 16384,
    maxStorageBufferBindingSize: 128 * 2 ** 20,
    maxBufferSize: 256 * 2 ** 20,
    maxComputeWorkgroupsPerDimension: 65535,
  };
}

function info(fields: Partial<GPUAdapterInfo>): GPUAdapter {
  return { info: { vendor: '', architecture: '', device: '', description: '', ...fields } } as unknown as GPUAdapter;
}

describe('requiredLimitsFor', () => {
  it('asks for every limit of the table at min(want, adapter), nothing else', () => {
    const adapter = { ...compatDefaults(), maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 };
    Object.assign(adapter, { maxStorageBuffersPerShaderStage: 16, maxComputeWorkgroupStorageSize: 32768 });
    const required = requiredLimitsFor(adapter as unknown as GPUSupportedLimits, 'test');
    expect(Object.keys(required).sort()).toEqual(Object.keys(KERNEL_LIMITS).sort());
    expect(required.maxComputeWorkgroupSizeX).toBe(256);
    expect(required.maxComputeInvocationsPerWorkgroup).toBe(256);
    expect(required.maxStorageBuffersPerShaderStage).toBe(8);
    expect(required.maxComputeWorkgroupStorageSize).toBe(16912);
    expect(required.maxStorageBufferBindingSize).toBe(128 * 2 ** 20); // the adapter's: want is unbounded
  });

  it('refuses an adapter below a need, naming the limit, and checks caps', () => {
    const small = compatDefaults(); // 128 invocations per workgroup
    expect(() => requiredLimitsFor(small as unknown as GPUSupportedLimits, 'tiny gpu')).toThrow(
      /tiny gpu is too small.*maxComputeInvocationsPerWorkgroup is 128, at least 256/,
    );
    const ok = { ...small, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };
    expect(() => requiredLimitsFor(ok as unknown as GPUSupportedLimits, 'gpu')).toThrow(
      /maxStorageBuffersPerShaderStage is 4, at least 8/,
    );
    const fine = { ...ok, maxStorageBuffersPerShaderStage: 10 };
    const capped = requiredLimitsFor(fine as unknown as GPUSupportedLimits, 'gpu', {
      maxStorageBufferBindingSize: 1 << 20,
    });
    expect(capped.maxStorageBufferBindingSize).toBe(1 << 20);
    expect(() =>
      requiredLimitsFor(fine as unknown as GPUSupportedLimits, 'gpu', { maxStorageBufferBindingSize: -1 }),
    ).toThrow(DeviceError);
  });
});

describe('adapter names', () => {
  it('uses the description, else what a browser tells, else says it is unnamed', () => {
    expect(adapterName(describeAdapter(info({ description: 'llvmpipe (LLVM 15)', vendor: 'mesa' })))).toBe(
      'llvmpipe (LLVM 15) (mesa)',
    );
    // Chromium's SwiftShader: description and device blank
    const swiftshader = describeAdapter(
      info({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }),
    );
    expect(adapterName(swiftshader)).toBe('swiftshader (google)');
    expect(swiftshader.isCpu && swiftshader.isFallback).toBe(true);
    // Chromium's compatibility adapter over ANGLE: every string blank
    expect(adapterName(describeAdapter(info({})))).toBe('unnamed adapter');
  });
});

describe('createDevice on any adapter', () => {
  it('requests the workgroup size and storage limits the kernels use and runs a 256-wide kernel', async () => {
    const device = await createDevice();
    try {
      expect(device.featureLevel).toBe('core');
      expect(device.limits.maxComputeWorkgroupSizeX).toBeGreaterThanOrEqual(256);
      expect(device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
      expect(device.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16912);
    } finally {
      device.destroy();
    }
  });

  it('gives a compatibility-mode device on request, which runs 256-wide workgroups', async () => {
    const device = await createDevice({ featureLevel: 'compatibility' });
    try {
      expect(device.featureLevel).toBe('compatibility');
      expect(device.name).toMatch(/compatibility mode/);
      const x = Tensor.fromArray(
        device,
        Float32Array.from({ length: 1000 }, (_, i) => i),
        [1000],
        'f32',
      );
      const y = Tensor.empty(device, [1000], 'f32');
      device.dispatch(device.kernel(DOUBLE_256, 'double-256'), [x, y], [4]);
      const out = await y.read();
      expect(out[999]).toBe(1998);
      expect(out[300]).toBe(600);
      x.dispose();
      y.dispose();
    } finally {
      device.destroy();
    }
  });

  it('falls back to a compatibility adapter when no core adapter exists', async () => {
    const dawn = await createDawnGpu([]);
    const asked: (string | undefined)[] = [];
    const compatOnly = {
      requestAdapter: (options?: GPURequestAdapterOptions) => {
        asked.push(options?.featureLevel);
        return options?.featureLevel === 'compatibility' ? dawn.requestAdapter(options) : Promise.resolve(null);
      },
    } as unknown as GPU;
    const device = await createDevice({ gpu: compatOnly });
    try {
      expect(asked).toEqual(['core', 'compatibility']);
      expect(device.featureLevel).toBe('compatibility');
    } finally {
      device.destroy();
    }
    const none = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
    await expect(createDevice({ gpu: none })).rejects.toThrow(/No WebGPU adapter was found/);
    await expect(createDevice({ featureLevel: 'webgl' as 'core' })).rejects.toThrow(/featureLevel must be/);
  });

  it('caps the binding size when asked, so tensors split into small row blocks', async () => {
    const device = await createDevice({ limitCaps: { maxStorageBufferBindingSize: 4096 } });
    try {
      expect(device.limits.maxStorageBufferBindingSize).toBe(4096);
      const t = Tensor.zeros(device, [16, 256], 'f32'); // 16 KiB: four blocks of 4 KiB
      expect(t.blocks().length).toBe(4);
      t.dispose();
    } finally {
      device.destroy();
    }
  });
});

describe("Dawn's adapter-enumeration notices", () => {
  it('are dropped from stderr (a pipe, or a file opened for appending) while other lines are kept', async () => {
    await run('npx', ['tsc', '-b', 'packages/tensor'], { cwd: REPO });
    const dir = await mkdtemp(join(tmpdir(), 'fastvlm-notices-'));
    try {
      const script = join(dir, 'make-device.mjs');
      const tensor = join(REPO, 'packages/tensor/dist/index.js');
      await writeFile(
        script,
        `import { createDevice } from ${JSON.stringify(tensor)};\n` +
          `const device = await createDevice();\nprocess.stderr.write('a line of our own\\n');\ndevice.destroy();\n`,
      );
      const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
      const piped = await run('bash', ['-c', `node ${script} 2>&1 | cat`], { env });
      expect(piped.stdout).toContain('a line of our own');
      expect(piped.stdout).not.toContain('artificially reduced');
      const log = join(dir, 'stderr.log');
      await run('bash', ['-c', `node ${script} 2>>${log}`], { env });
      const appended = await readFile(log, 'utf8');
      expect(appended).toContain('a line of our own');
      expect(appended).not.toContain('artificially reduced');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
