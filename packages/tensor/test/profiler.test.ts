import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DeviceError, Tensor, type Device, type DispatchProfile } from '../src/index.js';

// out[i] = a[i] * p.scale, repeated p.reps times: enough work per dispatch to time.
const SCALE = /* wgsl */ `
struct Params { n: u32, reps: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= p.n) { return; }
  var v = a[id.x];
  for (var r = 0u; r < p.reps; r++) { v = v * p.scale + 1.0; }
  out[id.x] = v;
}`;

function params(n: number, reps: number, scale: number): Uint32Array {
  const u = new Uint32Array(4);
  u.set([n, reps]);
  new Float32Array(u.buffer)[2] = scale;
  return u;
}

/** Two sections: 'small' (3 dispatches of 10 reps), 'big' (2 dispatches of 2000 reps). */
async function profileWork(device: Device): Promise<{ profile: DispatchProfile; values: Float32Array }> {
  const n = 4096;
  const a = Tensor.fromArray(device, new Float32Array(n).fill(1), [n], 'f32');
  const out = Tensor.empty(device, [n], 'f32');
  const kernel = device.kernel(SCALE, 'scale');
  device.beginProfile();
  device.markProfile('small');
  for (let i = 0; i < 3; i++)
    device.dispatch(kernel, [a, out, { uniform: params(n, 10, 1) }], [n / 64], { flops: 2 * n * 10, detail: 'x10' });
  device.markProfile('big');
  for (let i = 0; i < 2; i++)
    device.dispatch(kernel, [a, out, { uniform: params(n, 2000, 0.5) }], [n / 64], {
      flops: 2 * n * 2000,
      detail: 'x2000',
    });
  const profile = await device.endProfile();
  const values = await out.read();
  a.dispose();
  out.dispose();
  return { profile, values };
}

describe('dispatch profiles', () => {
  let device: Device;
  let cpuDevice: Device;
  beforeAll(async () => {
    device = await createDevice();
    cpuDevice = await createDevice({ disableFeatures: ['timestamp-query'] });
  });
  afterAll(() => {
    device.destroy();
    cpuDevice.destroy();
  });

  for (const [name, pick, timing] of [
    ['GPU timestamps', () => device, 'timestamp-query'],
    ['CPU wall time', () => cpuDevice, 'cpu'],
  ] as const) {
    it(`times every captured dispatch by ${name}, per section and kernel`, async () => {
      const target = pick();
      if (timing === 'timestamp-query' && !target.has('timestamp-query')) return; // adapter without timestamps: covered by the CPU case
      const { profile, values } = await profileWork(target);
      expect(profile.timing).toBe(timing);
      expect(profile.dispatches).toBe(5);
      expect(profile.sections.map((s) => [s.name, s.dispatches])).toEqual([
        ['small', 3],
        ['big', 2],
      ]);
      const [small, big] = profile.sections;
      expect(big.flops).toBe(2 * 2 * 4096 * 2000);
      // 200x the loop trips: the big dispatches must take longer than the small ones
      expect(big.ms).toBeGreaterThan(small.ms);
      expect(profile.kernels[0]).toMatchObject({ section: 'big', label: 'scale', detail: 'x2000', dispatches: 2 });
      expect(profile.totalMs).toBeCloseTo(small.ms + big.ms, 6);
      // the replay binds its own copy of the captured uniforms: the last dispatch (scale 0.5, 2000 reps) leaves v = 2
      expect(values[0]).toBeCloseTo(2, 5);
    });
  }

  it('refuses endProfile without beginProfile', async () => {
    await expect(device.endProfile()).rejects.toBeInstanceOf(DeviceError);
  });

  it('marks are free outside a profile', () => {
    device.markProfile('ignored');
    expect(device.profiling).toBe(false);
  });
});
