/**
 * Quantized weights for the linear parity suites: the case's f32 weight quantized again in TypeScript
 * (as the model loader does) and checked bit for bit against the values and scales PyTorch stored in
 * the fixture, which its reference output was computed from.
 */
import { Int4Weight, Int8Weight, type Device, type TensorOptions } from '@fastvlm/tensor';
import { expectIdentical, type Fixture } from './fixtures.js';

export type FixtureWeightDType = 'f32' | 'f16' | 'bf16' | 'int8' | 'int4';

/** 'int8g64' -> int8 with 64 inputs per scale; 'int8' -> one scale per row; 'int4g32' -> int4, 32 inputs per scale. */
export function parseWeightDType(dtype: string): { base: FixtureWeightDType; groupSize?: number } {
  if (!dtype.startsWith('int')) return { base: dtype as FixtureWeightDType };
  return {
    base: dtype.startsWith('int4') ? 'int4' : 'int8',
    groupSize: dtype.length > 4 ? Number(dtype.slice(5)) : undefined,
  };
}

/**
 * `weight` ([rows, cols] f32) quantized as `base` in groups of `groupSize`; its values and scales must
 * be the fixture case's `values` and `scales` (int4: packed nibbles and f16 scale bits; int8: i8 and f32).
 */
export async function quantizeLikePyTorch(
  on: Device,
  fixture: Fixture,
  caseName: string,
  weight: { data: Float32Array; shape: readonly number[] },
  base: 'int8' | 'int4',
  groupSize: number | undefined,
  options: TensorOptions = {},
): Promise<Int8Weight | Int4Weight> {
  const shape: [number, number] = [weight.shape[0], weight.shape[1]];
  const stored = { values: await fixture.raw(caseName, 'values'), scales: await fixture.raw(caseName, 'scales') };
  if (base === 'int4') {
    const int4 = Int4Weight.quantize(on, weight.data, shape, { groupSize, ...options });
    expectIdentical(await int4.values.read(), stored.values, `${caseName}: int4 values`);
    expectIdentical(
      await int4.scales.read(),
      new Uint16Array(stored.scales.slice().buffer),
      `${caseName}: int4 scales (f16 bits)`,
    );
    return int4;
  }
  const int8 = Int8Weight.quantize(on, weight.data, shape, { groupSize, ...options });
  expectIdentical(await int8.values.read(), new Int8Array(stored.values.slice().buffer), `${caseName}: int8 values`);
  expectIdentical(await int8.scales.read(), new Float32Array(stored.scales.slice().buffer), `${caseName}: int8 scales`);
  return int8;
}
