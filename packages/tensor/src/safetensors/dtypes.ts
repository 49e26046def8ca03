/**
 * The element types a safetensors file may hold here, their sizes, and shape arithmetic.
 */

/** Every dtype this reader and writer accept, in the spelling the safetensors header uses. */
export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;

export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

const BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isSafetensorsDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.hasOwn(BYTES, value);
}

/** Bytes one element of `dtype` takes on disk. */
export function bytesPerElement(dtype: SafetensorsDType): number {
  return BYTES[dtype];
}

/** `[2, 3]` for messages. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : JSON.stringify(d))).join(', ')}]`;
}

/**
 * The index of the first dim of `shape` that is not a non-negative safe integer, or -1 when all are.
 */
export function badDimIndex(shape: readonly unknown[]): number {
  return shape.findIndex((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0);
}

/**
 * Exact bytes a tensor of `shape` and `dtype` occupies, as a bigint so that absurd shapes cannot
 * overflow into a plausible number. The shape must already be valid (see `badDimIndex`).
 */
export function tensorByteLength(shape: readonly number[], dtype: SafetensorsDType): bigint {
  let n = BigInt(bytesPerElement(dtype));
  for (const d of shape) n *= BigInt(d);
  return n;
}
