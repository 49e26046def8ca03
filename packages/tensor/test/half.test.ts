import { describe, expect, it } from 'vitest';
import { bf16ArrayToF32, bf16ToF16InPlace, f16ArrayToF32, f32ArrayToBf16 } from '../src/index.js';

describe('bf16ToF16InPlace', () => {
  it('is exact for every bfloat16 value in f16 normal range, and agrees with the f32 route elsewhere', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const bits = all.slice();
    const { overflows } = bf16ToF16InPlace(bits);
    const before = bf16ArrayToF32(all);
    const after = f16ArrayToF32(bits);
    let exact = 0;
    let overflowed = 0;
    for (let i = 0; i < 65536; i++) {
      const v = before[i];
      if (Number.isNaN(v)) {
        expect(Number.isNaN(after[i]), `bits ${i}`).toBe(true);
      } else if (Math.abs(v) > 65504) {
        overflowed++;
        if (Number.isFinite(v)) expect(bits[i], 'an overflow is left as it was').toBe(all[i]);
        else expect(after[i]).toBe(v); // infinities convert
      } else if (Math.abs(v) >= 2 ** -14 || v === 0) {
        expect(after[i], `bits ${i}`).toBe(v);
        exact++;
      } else {
        // f16 subnormal: the nearest multiple of 2^-24
        expect(Math.abs(after[i] - v)).toBeLessThanOrEqual(2 ** -25);
      }
    }
    expect(exact).toBe(30 * 128 * 2 + 2); // exponents 2^-14 .. 2^15, 128 mantissas, two signs; +-0
    expect(overflows).toBe(overflowed - 2); // +-infinity are not overflows
  });

  it('counts finite values beyond f16 and leaves the rest converted', () => {
    const bits = f32ArrayToBf16([1.5, 70000, -1e30, 0.25]);
    expect(bf16ToF16InPlace(bits).overflows).toBe(2);
    expect(f16ArrayToF32(Uint16Array.of(bits[0], bits[3]))).toEqual(Float32Array.of(1.5, 0.25));
  });
});
