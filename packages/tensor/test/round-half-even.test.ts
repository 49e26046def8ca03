/**
 * roundHalfEven, the quantizers' rounding (torch.round's): ties go to the even integer on both sides
 * of zero, at the int8/int4 range and far beyond it, where the fast path hands over to the exact one.
 */
import { describe, expect, it } from 'vitest';
import { quantizeInt8, roundHalfEven } from '../src/int8-weight.js';

/** The plain definition: the nearest integer, ties to the even one. */
function nearestEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

describe('roundHalfEven', () => {
  it('sends ties to the even integer, both signs', () => {
    const ties = [0.5, 1.5, 2.5, 3.5, 126.5, 127.5, -0.5, -1.5, -2.5, -126.5, -127.5];
    expect(ties.map(roundHalfEven).map((v) => v + 0)).toEqual([0, 2, 2, 4, 126, 128, 0, -2, -2, -126, -128]);
  });

  it('rounds everything else to the nearest integer', () => {
    const cases = [
      0,
      0.49999999999999994,
      0.5000000000000001,
      1.25,
      -1.75,
      126.49999,
      127.00001,
      -127.00001,
      1e9 + 0.5,
    ];
    for (const x of cases) expect(roundHalfEven(x) + 0).toBe(nearestEven(x) + 0);
  });

  it('agrees with the definition over a sweep of quarters, f32 quotients and doubles up to 2^54', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
    const values: number[] = [];
    for (let i = -1024; i <= 1024; i++) values.push(i / 4);
    for (let i = 0; i < 20000; i++) values.push(Math.fround(random() * 300), random() * 2 ** 40, random() * 2 ** 54);
    for (const e of [51, 52, 53]) for (const d of [-1, -0.5, 0, 0.5, 1]) values.push(2 ** e + d, -(2 ** e) + d);
    const wrong = values.filter((x) => roundHalfEven(x) + 0 !== nearestEven(x) + 0);
    expect(wrong).toEqual([]);
  });

  it('is what quantizeInt8 rounds with: a group whose quotients land on ties', () => {
    // max 127 makes the scale exactly 1, so each value is its own quotient
    const row = Float32Array.of(127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5);
    const { values, scales } = quantizeInt8(row, 1, 8, 8);
    expect(scales[0]).toBe(1);
    expect(Array.from(values)).toEqual([127, 0, 2, 2, 0, -2, -2, 126]);
  });
});
