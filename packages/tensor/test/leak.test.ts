import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, Int8Weight, Tensor, type Device } from '../src/index.js';

const SCALE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&y)) { y[id.x] = x[id.x] * 3.0; }
}`;

describe('GPU memory', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  it('1,000 create/compute/dispose cycles end with live GPU bytes back at the start value', async () => {
    const kernel = device.kernel(SCALE, 'scale');
    const start = device.liveBytes;
    for (let cycle = 0; cycle < 1000; cycle++) {
      const n = 64 + (cycle % 7) * 100; // several size classes
      device.scope(() => {
        const x = Tensor.fromArray(device, new Float32Array(n).fill(cycle), [n], 'f32');
        const y = Tensor.empty(device, [n], 'f32');
        device.dispatch(kernel, [x, y], [Math.ceil(n / 64)]);
        const z = y.reshape([1, n]);
        const w = Int8Weight.quantize(device, new Float32Array(n).fill(1), [1, n]);
        void z;
        void w;
      });
      if (cycle % 100 === 99) {
        const check = Tensor.fromArray(device, [cycle], [1], 'f32');
        const y = Tensor.empty(device, [1], 'f32');
        device.dispatch(kernel, [check, y], [1]);
        expect((await y.read())[0]).toBe(cycle * 3);
        check.dispose();
        y.dispose();
      }
    }
    await device.sync();
    expect(device.liveBytes).toBe(start);
    expect(device.pool.liveBuffers).toBe(0);
    // the pool reused buffers instead of allocating 5,000 of them
    expect(device.pool.pooledBytes).toBeLessThan(1 << 20);
  });
});
