/**
 * Conversions between f32 and the 16-bit float formats (IEEE half and bfloat16), done on the CPU
 * at upload and readback. Both round to nearest, ties to even, as PyTorch's `.half()` / `.bfloat16()`.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> IEEE binary16 bits. */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // inf / nan
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, round to nearest even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    const roundUp = rest > midpoint || (rest === midpoint && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  const roundUp = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1);
  // A carry out of the mantissa correctly bumps the exponent (and may reach inf).
  return sign | (half + (roundUp ? 1 : 0));
}

/** IEEE binary16 bits -> f32. */
/** 2^(e - 15) for each 5-bit exponent e of an f16 (quantizers call f16BitsToF32 per group: no Math.pow there). */
const F16_EXPONENT_SCALE = Float64Array.from({ length: 32 }, (_, e) => 2 ** (e - 15));

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * F16_EXPONENT_SCALE[exponent];
}

/** f32 -> bfloat16 bits (the top half of the f32, rounded to nearest even). */
export function f32ToBf16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff; // nan stays nan
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

export function f32ArrayToF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

let f16Table: Float32Array | undefined;

/** IEEE binary16 bits -> f32 through a 65536-entry table (a 136M-value embedding converts in ~0.5 s, not ~15 s). */
export function f16ArrayToF32(bits: ArrayLike<number>): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  const table = f16Table;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i] & 0xffff];
  return out;
}

export function f32ArrayToBf16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToBf16Bits(values[i]);
  return out;
}

export function bf16ArrayToF32(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  const view = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) view[i] = (bits[i] & 0xffff) << 16;
  return out;
}

let bf16ToF16Table: Uint16Array | undefined;

/**
 * bfloat16 bits -> IEEE binary16 bits, in place, through a 65536-entry table (no f32 copy: a
 * 545M-value embedding converts in the buffer it was read into). Exact for every bfloat16 value in
 * f16's normal range (bfloat16's 8 significant bits fit f16's 11); below 6.1e-5 the result is f16's
 * subnormal nearest (within 3e-8), above 65504 it would be infinity: such values are not converted
 * and their count is returned, so the caller can refuse the tensor. NaN stays NaN.
 */
export function bf16ToF16InPlace(bits: Uint16Array): { overflows: number } {
  if (!bf16ToF16Table) {
    bf16ToF16Table = new Uint16Array(65536);
    const f32 = bf16ArrayToF32(Uint16Array.from({ length: 65536 }, (_, i) => i));
    for (let i = 0; i < 65536; i++) bf16ToF16Table[i] = f32ToF16Bits(f32[i]);
  }
  const table = bf16ToF16Table;
  let overflows = 0;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const h = table[b];
    // f16 infinity from a finite bfloat16 (exponent field below 0xff) is an overflow.
    if ((h & 0x7fff) === 0x7c00 && (b & 0x7f80) !== 0x7f80) overflows++;
    else bits[i] = h;
  }
  return { overflows };
}
