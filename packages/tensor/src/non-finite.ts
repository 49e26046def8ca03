/**
 * Weights that are not finite (NaN, +-Inf) are found at load, where every value is touched anyway
 * (converted to f32 or f16, or quantized to int8), and refused naming the tensor and the element:
 * a checkpoint holding one would otherwise answer garbage with no error.
 */
import { FastVlmError } from './errors.js';
import { f16BitsToF32 } from './half.js';

/** A checkpoint tensor holds a NaN or an infinity, or a value too large for the dtype it is loaded as. */
export class NonFiniteWeightError extends FastVlmError {
  /** The tensor's checkpoint name. */
  readonly tensor: string;
  /** The first bad element (row-major index). */
  readonly index: number;
  /** Its value as stored (NaN, Infinity, or the finite value that overflowed). */
  readonly value: number;
  constructor(tensor: string, shape: readonly number[], index: number, value: number, overflow?: string) {
    const where = `element ${index}${shape.length > 1 ? ` ([${unravel(index, shape).join(', ')}])` : ''}`;
    const problem =
      overflow === undefined
        ? `holds ${value} at ${where}; weights must be finite (the checkpoint is corrupt)`
        : `holds ${value} at ${where}, beyond ${overflow}'s range: load it in a wider dtype`;
    super('CHECKPOINT', `checkpoint tensor '${tensor}': ${problem}`);
    this.tensor = tensor;
    this.index = index;
    this.value = value;
  }
}

/**
 * A generation met a NaN or an infinity and was stopped; `stage` says where the values first were
 * not finite: 'vision tower', 'projector', 'prefill' or 'decode step N' (N from 1).
 */
export class NonFiniteActivationError extends FastVlmError {
  constructor(
    readonly stage: string,
    options?: { cause?: unknown },
  ) {
    super(
      'NON_FINITE',
      `the ${stage} produced values that are not finite (NaN or infinity); generation stopped`,
      options,
    );
  }
}

/** The index of the first NaN or infinity in `values`, or -1. */
export function findNonFinite(values: ArrayLike<number>): number {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v - v !== 0) return i; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

/** The index of the first f16 / bf16 NaN or infinity (all exponent bits set) in `bits`, or -1. */
export function findNonFiniteHalf(bits: Uint16Array, dtype: 'f16' | 'bf16'): number {
  return findAllOnes(bits, dtype === 'f16' ? 0x7c00 : 0x7f80);
}

/** The first element whose `mask` bits are all set; two at a time through 32-bit words when aligned. */
function findAllOnes(bits: Uint16Array, mask: number): number {
  const n = bits.length;
  let start = 0;
  if (bits.byteOffset % 4 === 0) {
    const words = new Uint32Array(bits.buffer, bits.byteOffset, n >> 1);
    const high = mask << 16; // 0x7c000000 or 0x7f800000: positive as an int32
    const count = words.length;
    let w = 0;
    for (; w < count; w++) {
      const word = words[w];
      if ((word & mask) === mask || (word & high) === high) break;
    }
    start = 2 * w; // little-endian: the low half of a word is the earlier element
  }
  for (let i = start; i < n; i++) if ((bits[i] & mask) === mask) return i;
  return -1;
}

/**
 * Throws NonFiniteWeightError if `bits` (the tensor as it goes to the GPU) holds a non-finite
 * value; `source` (the f32 values converted from, if any) tells a corrupt value from an overflow.
 */
export function checkFiniteHalf(
  name: string,
  shape: readonly number[],
  bits: Uint16Array,
  dtype: 'f16' | 'bf16',
  source?: Float32Array,
): void {
  const at = findNonFiniteHalf(bits, dtype);
  if (at < 0) return;
  const stored = source?.[at] ?? (dtype === 'f16' ? f16BitsToF32(bits[at]) : bf16Value(bits[at]));
  throw new NonFiniteWeightError(name, shape, at, stored, Number.isFinite(stored) ? dtype : undefined);
}

/** Throws NonFiniteWeightError if `values` holds a NaN or an infinity. */
export function checkFinite(name: string, shape: readonly number[], values: ArrayLike<number>): void {
  const at = findNonFinite(values);
  if (at >= 0) throw new NonFiniteWeightError(name, shape, at, values[at]);
}

function bf16Value(bits: number): number {
  return new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0];
}

function unravel(index: number, shape: readonly number[]): number[] {
  const position: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    position.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return position;
}
