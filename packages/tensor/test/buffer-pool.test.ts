import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, sizeClass, type Device } from '../src/index.js';

describe('buffer pool', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device.destroy());

  it('hands out the lowest free id of a class, whatever order the buffers were freed in', () => {
    const [a, b, c] = [device.allocate(5000), device.allocate(5000), device.allocate(5000)];
    for (const entry of [b, c, a]) device.release(entry);
    const again = [device.allocate(5000), device.allocate(5000), device.allocate(5000)];
    expect(again.map((e) => e.id)).toEqual([a, b, c].map((e) => e.id).sort((x, y) => x - y));
    for (const entry of again) device.release(entry);
  });

  it('serves a request from a free buffer of a larger class up to twice its own, never beyond', () => {
    const big = device.allocate(1 << 20); // class 1 MiB
    device.release(big);
    const pooled = device.pool.pooledBytes;
    const fits = device.allocate(600_000); // class 640 KiB: 1 MiB is within 2x
    expect(sizeClass(600_000)).toBeLessThan(1 << 20);
    expect(fits.id).toBe(big.id);
    expect(fits.capacity).toBe(1 << 20);
    expect(device.pool.pooledBytes).toBe(pooled - (1 << 20));
    device.release(fits);
    const small = device.allocate(300_000); // class 320 KiB: 1 MiB is more than 2x, a new buffer
    expect(small.id).not.toBe(big.id);
    device.release(small);
  });

  it('counts live bytes by the capacity actually held', () => {
    const before = device.liveBytes;
    const big = device.allocate(1 << 20);
    device.release(big);
    const reused = device.allocate(600_000);
    expect(device.liveBytes - before).toBe(reused.capacity);
    device.release(reused);
    expect(device.liveBytes).toBe(before);
  });
});
