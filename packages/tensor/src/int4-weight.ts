import type { Device } from './device.js';
import { ShapeError } from './errors.js';
import { f16BitsToF32, f32ToF16Bits } from './half.js';
import type { Disposable } from './scope.js';
import { NonFiniteWeightError } from './non-finite.js';
import { formatShape } from './shape.js';
import { concatRows } from './concat-rows.js';
import { roundHalfEven } from './int8-weight.js';
import { Tensor, type TensorOptions } from './tensor.js';

/** Inputs per scale unless told otherwise: what llama.cpp's Q4_0, MLC's q4f16_1 and ONNX Runtime's MatMulNBits ship. */
export const INT4_GROUP_SIZE = 32;

/** Values converted to f32 per block while quantizing (4 MiB of f32). */
const QUANTIZE_BLOCK_VALUES = 1 << 20;

/** The largest magnitude of a 4-bit value: symmetric, so -8 is never used. */
const INT4_MAX = 7;

/**
 * An INT4 weight-only matrix `[out, in]`, group-wise: symmetric 4-bit values q in [-7, 7] and one
 * f16 scale per `groupSize` consecutive inputs of a row, `w[o, i] ≈ q[o, i] * scales[o, floor(i / groupSize)]`.
 *
 * Values are two's-complement nibbles, two to a byte (input 2j in the low nibble), each row starting
 * on a byte (`values` is u8 [out, ceil(in / 2)]; an odd row ends in a zero nibble). When `in` is a
 * multiple of 8, each row is whole u32 words whose nibble i is input 8w + i. Scales are f16 bits
 * (read with unpack2x16float, so no `shader-f16` is needed): 4.5 bits per weight at group 32.
 */
export class Int4Weight implements Disposable {
  private constructor(
    /** u8 [out, ceil(in / 2)]: two nibbles a byte. */
    readonly values: Tensor<'u8'>,
    /** f16 [out, in / groupSize]. */
    readonly scales: Tensor<'f16'>,
    /** Inputs sharing one scale. */
    readonly groupSize: number,
    /** The matrix's inputs (`in`): the values' rows hold ceil(in / 2) bytes. */
    readonly inFeatures: number,
  ) {
    values.device.scopes.keep(values);
    values.device.scopes.keep(scales);
    values.device.track(this);
  }

  /** Quantizes a row-major f32 matrix on the CPU. */
  static quantize(
    device: Device,
    weights: Float32Array,
    shape: readonly [number, number],
    options: { groupSize?: number } & TensorOptions = {},
  ): Int4Weight {
    const [rows, cols] = shape;
    if (weights.length !== rows * cols)
      throw new ShapeError(`${weights.length} values given for an int4 weight of shape ${formatShape(shape)}`);
    return Int4Weight.quantizeRows(
      device,
      shape,
      (start, count) => weights.subarray(start * cols, (start + count) * cols),
      options,
    );
  }

  /**
   * Quantizes a matrix handed over a block of rows at a time (`readRows(start, count)` returns
   * those rows as f32), so that the matrix never exists in f32 whole. A NaN or infinity, or a group
   * whose scale overflows f16, is a NonFiniteWeightError naming `options.label`.
   */
  static quantizeRows(
    device: Device,
    shape: readonly [number, number],
    readRows: (start: number, count: number) => Float32Array,
    options: { groupSize?: number } & TensorOptions = {},
  ): Int4Weight {
    const [rows, cols] = shape;
    const groupSize = options.groupSize ?? INT4_GROUP_SIZE;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
      throw new ShapeError(`an int4 weight must be [out >= 1, in >= 1], got ${formatShape(shape)}`);
    if (!Number.isInteger(groupSize) || groupSize <= 0 || cols % groupSize !== 0)
      throw new ShapeError(
        `int4 group size ${groupSize} does not divide the ${cols} inputs of ${formatShape(shape)}${options.label ? ` ('${options.label}')` : ''}`,
      );
    const rowBytes = Math.ceil(cols / 2);
    const groups = cols / groupSize;
    const values = new Uint8Array(rows * rowBytes);
    const scales = new Uint16Array(rows * groups);
    const blockRows = Math.max(1, Math.floor(QUANTIZE_BLOCK_VALUES / cols));
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      const block = quantizeInt4(readRows(start, count), count, cols, groupSize);
      if (block.bad !== undefined) {
        const { index, value, overflow } = block.bad;
        const label = options.label ?? 'int4 weight';
        throw new NonFiniteWeightError(label, shape, start * cols + index, value, overflow);
      }
      values.set(block.values, start * rowBytes);
      scales.set(block.scales, start * groups);
    }
    return new Int4Weight(
      Tensor.fromArray(device, values, [rows, rowBytes], 'u8', options),
      Tensor.fromArray(device, scales, [rows, groups], 'f16', options),
      groupSize,
      cols,
    );
  }

  /** The rows of `parts` one after another (same inputs and group size): a fused weight such as [gate; up]. */
  static concatRows(parts: readonly Int4Weight[], options: TensorOptions = {}): Int4Weight {
    const first = parts[0];
    if (first === undefined) throw new ShapeError('Int4Weight.concatRows: no weights given');
    const mismatch = parts.findIndex((p) => p.inFeatures !== first.inFeatures || p.groupSize !== first.groupSize);
    if (mismatch >= 0) {
      const p = parts[mismatch];
      throw new ShapeError(
        `Int4Weight.concatRows: part ${mismatch} is ${formatShape(p.shape)} in groups of ${p.groupSize}, not [n, ${first.inFeatures}] in groups of ${first.groupSize}`,
      );
    }
    const values = concatRows(
      parts.map((p) => p.values),
      options,
    );
    try {
      const scales = concatRows(
        parts.map((p) => p.scales),
        options,
      );
      return new Int4Weight(values, scales, first.groupSize, first.inFeatures);
    } catch (error) {
      values.dispose();
      throw error;
    }
  }

  /** [out, in]. */
  get shape(): readonly number[] {
    return [this.values.shape[0], this.inFeatures];
  }

  get device(): Device {
    return this.values.device;
  }

  /** Bytes on the GPU: values plus scales. */
  get byteLength(): number {
    return this.values.byteLength + this.scales.byteLength;
  }

  get disposed(): boolean {
    return this.values.disposed;
  }

  dispose(): void {
    this.values.dispose();
    this.scales.dispose();
  }
}

/** Where quantizing stopped: the first NaN / infinity, or a value whose group's scale overflows f16. */
interface BadValue {
  index: number;
  value: number;
  overflow?: string;
}

/**
 * Symmetric group-wise int4 quantization, as tools/python/kernel_cases/linear.py does it in torch:
 * scale = f16(f32(max|w| / 7)) per group, q = round(f32(w / f32(scale))) clamped to [-7, 7], rounding
 * half to even as `torch.round`. A zero scale (an all-zero group, or one so small that its scale
 * underflows f16) gives q = 0. Values come back packed (see Int4Weight), scales as f16 bits.
 */
export function quantizeInt4(
  weights: Float32Array,
  rows: number,
  cols: number,
  groupSize: number,
): { values: Uint8Array; scales: Uint16Array; bad?: BadValue } {
  const groups = cols / groupSize;
  const rowBytes = Math.ceil(cols / 2);
  const values = new Uint8Array(rows * rowBytes);
  const scales = new Uint16Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const start = r * cols + g * groupSize;
      let max = 0;
      let maxIndex = start;
      for (let i = 0; i < groupSize; i++) {
        const a = Math.abs(weights[start + i]);
        if (a > max || a !== a) {
          // a NaN stays, and stops below
          max = a;
          maxIndex = start + i;
        }
      }
      if (max - max !== 0) {
        let index = start;
        while (weights[index] - weights[index] === 0) index++;
        return { values, scales, bad: { index, value: weights[index] } };
      }
      const bits = f32ToF16Bits(Math.fround(max / INT4_MAX));
      if ((bits & 0x7c00) === 0x7c00)
        return { values, scales, bad: { index: maxIndex, value: weights[maxIndex], overflow: 'int4 (f16 scales)' } };
      scales[r * groups + g] = bits;
      const scale = f16BitsToF32(bits);
      if (scale === 0) continue; // the nibbles stay 0
      const rowStart = r * rowBytes;
      for (let i = 0; i < groupSize; i++) {
        const q = roundHalfEven(Math.fround(weights[start + i] / scale));
        const nibble = (q > INT4_MAX ? INT4_MAX : q < -INT4_MAX ? -INT4_MAX : q) & 0xf;
        const k = g * groupSize + i;
        values[rowStart + (k >> 1)] |= k & 1 ? nibble << 4 : nibble;
      }
    }
  }
  return { values, scales };
}

/** The dequantized matrix (q * scale in f32, exact): what a kernel's result is compared against. */
export function dequantizeInt4(
  values: Uint8Array,
  scales: Uint16Array,
  rows: number,
  cols: number,
  groupSize: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  const rowBytes = Math.ceil(cols / 2);
  const groups = cols / groupSize;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const byte = values[r * rowBytes + (k >> 1)];
      const nibble = k & 1 ? byte >> 4 : byte & 0xf;
      const q = nibble >= 8 ? nibble - 16 : nibble;
      out[r * cols + k] = q * f16BitsToF32(scales[r * groups + Math.floor(k / groupSize)]);
    }
  }
  return out;
}
