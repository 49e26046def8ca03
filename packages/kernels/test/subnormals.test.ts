/**
 * No kernel of an activation or a softmax produces a subnormal float: CPU adapters do not flush
 * them, and each one read or written costs a microcode assist (a GEMM with 10% subnormal inputs
 * ran 7.7x slower on lavapipe). Where the exact value would be subnormal the kernels give 0.
 */
import { Tensor, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gelu, linear, sigmoid, silu, siluMul, softmax, visionAttention } from '../src/index.js';
import { testDevice } from './fixtures.js';

const MIN_NORMAL = 2 ** -126;

function subnormals(values: Float32Array): number[] {
  const found: number[] = [];
  values.forEach((v, i) => {
    if (v !== 0 && Math.abs(v) < MIN_NORMAL) found.push(i);
  });
  return found;
}

/** Inputs across the ranges where exp, erfc and their products underflow. */
const EXTREMES = Float32Array.from([
  -1e30, -1e4, -200, -120, -100, -90, -88, -87.4, -87, -60, -20, -14, -13.3, -13, -12.5, -12, -11, -10, -5, -1, -1e-3,
  0, 1e-3, 1, 5, 10, 12, 13, 14, 20, 87, 88, 90, 100, 1e4, 1e30,
]);

describe('no subnormal results', () => {
  let device: Device;
  beforeAll(async () => {
    device = await testDevice();
  });
  afterAll(() => device.destroy());

  for (const [name, op, exact] of [
    ['gelu', gelu, (x: number) => 0.5 * x * erfc(-x / Math.SQRT2)],
    ['silu', silu, (x: number) => x / (1 + Math.exp(-x))],
    ['sigmoid', sigmoid, (x: number) => 1 / (1 + Math.exp(-x))],
  ] as const) {
    it(`${name}: none at the extremes, and within 1e-5 (relative) or 1e-30 (absolute) of the exact value`, async () => {
      const y = await device.scope(() => op(Tensor.fromArray(device, EXTREMES, [EXTREMES.length], 'f32'))).read();
      expect(subnormals(y), `${name} subnormal outputs at inputs`).toEqual([]);
      EXTREMES.forEach((x, i) => {
        const want = exact(x);
        expect(Math.abs(y[i] - want), `${name}(${x}) = ${y[i]}, exact ${want}`).toBeLessThanOrEqual(
          1e-30 + 1e-5 * Math.abs(want),
        );
      });
    });
  }

  it('silu * mul and a GELU epilogue: none', async () => {
    const x = Tensor.fromArray(device, EXTREMES, [EXTREMES.length], 'f32');
    const ones = Tensor.fromArray(device, new Float32Array(EXTREMES.length).fill(1e-3), [EXTREMES.length], 'f32');
    const gated = await device.scope(() => siluMul(x, ones)).read();
    expect(subnormals(gated), 'silu(x) * 1e-3: subnormal at inputs').toEqual([]);
    // one input column, weight 1: the GEMM's epilogue applies GELU to each x
    const w = Tensor.fromArray(device, new Float32Array(8).fill(1), [1, 8], 'f32');
    const rows = Tensor.fromArray(
      device,
      Float32Array.from(Array.from(EXTREMES).flatMap((v) => [v, 0, 0, 0, 0, 0, 0, 0])),
      [EXTREMES.length, 8],
      'f32',
    );
    const out = await device.scope(() => linear(rows, w, { activation: 'gelu' })).read();
    expect(subnormals(out)).toEqual([]);
    for (const t of [x, ones, w, rows]) t.dispose();
  });

  it('softmax over logits 200 apart: none, the far ones exactly 0', async () => {
    const logits = Float32Array.from({ length: 64 }, (_, i) => -i * 4); // 0 .. -252
    const p = await device.scope(() => softmax(Tensor.fromArray(device, logits, [1, 64], 'f32'))).read();
    expect(subnormals(p)).toEqual([]);
    expect(p[63]).toBe(0);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-4) / (1 - Math.exp(-4))), 6);
  });

  it('vision attention with scores far apart: none', async () => {
    // one head (32 wide), 16 tokens; q and k large so that scores differ by thousands
    const n = 16;
    const qkv = new Float32Array(n * 96);
    for (let t = 0; t < n; t++)
      for (let d = 0; d < 32; d++) {
        qkv[t * 96 + d] = 10 * (t + 1); // q
        qkv[t * 96 + 32 + d] = t % 2 === 0 ? 10 * (t + 1) : -10 * (t + 1); // k
        qkv[t * 96 + 64 + d] = Math.sin(t + d); // v
      }
    const y = await device.scope(() => visionAttention(Tensor.fromArray(device, qkv, [n, 96], 'f32'), 1)).read();
    expect(subnormals(y)).toEqual([]);
  });
});

/** erfc(z) to ~1e-15 relative: 1 - the series for |z| < 3, the continued fraction beyond (no cancellation). */
function erfc(z: number): number {
  if (z < 0) return 2 - erfc(-z);
  if (z < 3) {
    let sum = 0;
    let term = z;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-z * z) / (n + 1);
      if (Math.abs(term) < 1e-18) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...))))
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
