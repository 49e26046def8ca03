/**
 * Conversion of raw little-endian tensor bytes of any supported dtype to f32.
 */
import { bf16ArrayToF32, f16ArrayToF32 } from '../half.js';
import { bytesPerElement } from './dtypes.js';
import type { SafetensorsDType } from './dtypes.js';

/**
 * Decodes `bytes` (little-endian, as stored in safetensors; the host is assumed little-endian, as
 * every WebGPU platform is) holding elements of `dtype` into a fresh Float32Array. Integers wider
 * than f32's 24-bit mantissa round; BOOL becomes 0 / 1.
 */
export function bytesToFloat32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array {
  const size = bytesPerElement(dtype);
  // Typed views need an aligned offset; a copy makes one.
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = src.byteLength / size;
  const { buffer, byteOffset } = src;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, byteOffset, n).slice();
    case 'F16':
      return f16ArrayToF32(new Uint16Array(buffer, byteOffset, n));
    case 'BF16':
      return bf16ArrayToF32(new Uint16Array(buffer, byteOffset, n));
    case 'F64':
      return Float32Array.from(new Float64Array(buffer, byteOffset, n));
    case 'I64': {
      const ints = new BigInt64Array(buffer, byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(ints[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(buffer, byteOffset, n));
    case 'I16':
      return Float32Array.from(new Int16Array(buffer, byteOffset, n));
    case 'I8':
      return Float32Array.from(new Int8Array(buffer, byteOffset, n));
    case 'U8':
      return Float32Array.from(src);
    case 'BOOL': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i] === 0 ? 0 : 1;
      return out;
    }
  }
}
