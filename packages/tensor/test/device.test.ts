import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, Tensor, type Device } from '../src/index.js';

// out[i] = a[i] + b[i] * p.scale: a tiny kernel to exercise recording, uniforms and caching.
const AXPY = /* wgsl */ `
struct Params { n: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < p.n) { out[id.x] = a[id.x] + b[id.x] * p.scale; }
}`;

function params(n: number, scale: number): Uint32Array {
  const u = new Uint32Array(2);
  u[0] = n;
  new Float32Array(u.buffer)[1] = scale;
  return u;
}

describe('Device', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  it('names its adapter and reports limits and optional features', () => {
    expect(device.name.length).toBeGreaterThan(0);
    expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(device.limits.maxBufferSize).toBeGreaterThanOrEqual(device.limits.maxStorageBufferBindingSize);
    for (const f of device.features) expect(['shader-f16', 'subgroups', 'timestamp-query']).toContain(f);
  });

  it('records many dispatches into one submit and reads the result back', async () => {
    const n = 1000;
    const a = Tensor.fromArray(
      device,
      Float32Array.from({ length: n }, (_, i) => i),
      [n],
      'f32',
    );
    const b = Tensor.fromArray(device, new Float32Array(n).fill(1), [n], 'f32');
    const kernel = device.kernel(AXPY, 'axpy');
    const submitsBefore = device.stats.submits;
    // Ping-pong 50 times: x <- x + 1*b, each dispatch with its own uniform values.
    let x = a;
    for (let step = 0; step < 50; step++) {
      const next = Tensor.empty(device, [n], 'f32');
      device.dispatch(kernel, [x, b, next, { uniform: params(n, step % 2 === 0 ? 1 : 2) }], [Math.ceil(n / 64)]);
      if (x !== a) x.dispose();
      x = next;
    }
    expect(device.stats.submits).toBe(submitsBefore); // nothing submitted yet
    const out = await x.read();
    expect(device.stats.submits).toBe(submitsBefore + 1);
    // 25 steps of +1 and 25 of +2
    for (let i = 0; i < n; i += 97) expect(out[i]).toBe(i + 75);
    for (const t of [a, b, x]) t.dispose();
  });

  it('compiles a kernel once and reuses its bind groups', () => {
    const compiled = device.kernels.compiled;
    const k1 = device.kernel(AXPY, 'axpy');
    const k2 = device.kernel(AXPY, 'axpy again');
    expect(k1).toBe(k2);
    expect(device.kernels.compiled).toBe(compiled);
    const a = Tensor.zeros(device, [64], 'f32');
    const out = Tensor.empty(device, [64], 'f32');
    const created = device.kernels.bindGroupsCreated;
    for (let i = 0; i < 10; i++) device.dispatch(k1, [a, a, out, { uniform: params(64, i) }], [1]);
    // distinct uniform slots within a batch, then the same slots again in the next batch
    device.submit();
    const afterFirst = device.kernels.bindGroupsCreated;
    for (let i = 0; i < 10; i++) device.dispatch(k1, [a, a, out, { uniform: params(64, i) }], [1]);
    device.submit();
    expect(afterFirst - created).toBeLessThanOrEqual(10);
    expect(device.kernels.bindGroupsCreated).toBe(afterFirst);
    a.dispose();
    out.dispose();
  });

  it('turns a WGSL error into a DeviceError at the next sync', async () => {
    const bad = device.kernel('@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }', 'broken');
    expect(bad.label).toBe('broken');
    await expect(device.sync()).rejects.toThrow(/GPU error/);
    // the device stays usable
    const t = Tensor.fromArray(device, [1, 2, 3], [3], 'f32');
    expect(Array.from(await t.read())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('works with shader-f16 and subgroups turned off, as on SwiftShader', async () => {
    const plain = await createDevice({ disableFeatures: ['shader-f16', 'subgroups'] });
    try {
      expect(plain.has('shader-f16')).toBe(false);
      expect(plain.has('subgroups')).toBe(false);
      const t = Tensor.fromArray(plain, [0.5, -2, 65504], [3], 'f16');
      expect(Array.from(await t.toFloat32())).toEqual([0.5, -2, 65504]);
    } finally {
      plain.destroy();
    }
  });

  it('refuses a feature the caller requires but the device was told to lack', async () => {
    await expect(createDevice({ requireFeatures: ['shader-f16'], disableFeatures: ['shader-f16'] })).rejects.toThrow(
      /lacks the required feature 'shader-f16'/,
    );
  });
});
