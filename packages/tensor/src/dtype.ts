/**
 * Element types a GPU tensor can hold. 16-bit floats and 8-bit integers are storage types:
 * kernels read them packed in `u32` words (two halves or four bytes a word) and compute in f32,
 * so they work on adapters without `shader-f16`.
 */
export type DType = 'f32' | 'f16' | 'bf16' | 'i32' | 'u32' | 'i8' | 'u8';

export const DTYPES: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i8', 'u8'];

const BYTES: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, i32: 4, u32: 4, i8: 1, u8: 1 };

export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

/** The typed array `Tensor.read()` returns for each dtype (16-bit floats come back as raw bits). */
export interface TypedArrayFor {
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  i32: Int32Array;
  u32: Uint32Array;
  i8: Int8Array;
  u8: Uint8Array;
}

/** Wraps raw bytes as the typed array of `dtype` (no copy; `bytes` must be suitably aligned). */
export function typedView<D extends DType>(
  dtype: D,
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
): TypedArrayFor[D] {
  switch (dtype) {
    case 'f32':
      return new Float32Array(buffer, byteOffset, length) as TypedArrayFor[D];
    case 'f16':
    case 'bf16':
      return new Uint16Array(buffer, byteOffset, length) as TypedArrayFor[D];
    case 'i32':
      return new Int32Array(buffer, byteOffset, length) as TypedArrayFor[D];
    case 'u32':
      return new Uint32Array(buffer, byteOffset, length) as TypedArrayFor[D];
    case 'i8':
      return new Int8Array(buffer, byteOffset, length) as TypedArrayFor[D];
    case 'u8':
      return new Uint8Array(buffer, byteOffset, length) as TypedArrayFor[D];
  }
  throw new Error(`unknown dtype ${String(dtype)}`);
}
