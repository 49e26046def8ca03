import type { Device } from './device.js';
import { ShapeError } from './errors.js';
import type { Disposable } from './scope.js';
import { NonFiniteWeightError } from './non-finite.js';
import { formatShape } from './shape.js';
import { concatRows } from './concat-rows.js';
import { Tensor, type TensorOptions } from './tensor.js';

/** Values converted to f32 per block while quantizing (4 MiB of f32). */
const QUANTIZE_BLOCK_VALUES = 1 << 20;

/**
 * An INT8 weight-only matrix `[out, in]`: symmetric int8 values and f32 scales, one scale per output
 * row (per channel) or per `groupSize` consecutive inputs of a row (per group).
 * `w[o, i] ≈ values[o, i] * scales[o, floor(i / groupSize)]`. Values are stored four to a u32 word.
 */
export class Int8Weight implements Disposable {
  private constructor(
    readonly values: Tensor<'i8'>,
    readonly scales: Tensor<'f32'>,
    /** Inputs sharing one scale; equals `in` for per-channel scales. */
    readonly groupSize: number,
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
  ): Int8Weight {
    const [rows, cols] = shape;
    if (weights.length !== rows * cols)
      throw new ShapeError(`${weights.length} values given for an int8 weight of shape ${formatShape(shape)}`);
    return Int8Weight.quantizeRows(
      device,
      shape,
      (start, count) => weights.subarray(start * cols, (start + count) * cols),
      options,
    );
  }

  /**
   * Quantizes a matrix handed over a block of rows at a time (`readRows(start, count)` returns
   * those rows as f32), so that a large matrix (a 151936-row embedding) never exists in f32 whole.
   * A NaN or infinity is a NonFiniteWeightError naming `options.label` (the checkpoint name).
   */
  static quantizeRows(
    device: Device,
    shape: readonly [number, number],
    readRows: (start: number, count: number) => Float32Array,
    options: { groupSize?: number } & TensorOptions = {},
  ): Int8Weight {
    const [rows, cols] = shape;
    const groupSize = options.groupSize ?? cols;
    if (groupSize <= 0 || cols % groupSize !== 0)
      throw new ShapeError(`group size ${groupSize} does not divide the ${cols} inputs of ${formatShape(shape)}`);
    const values = new Int8Array(rows * cols);
    const scales = new Float32Array(rows * (cols / groupSize));
    const blockRows = Math.max(1, Math.floor(QUANTIZE_BLOCK_VALUES / Math.max(cols, 1)));
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      const block = quantizeInt8(readRows(start, count), count, cols, groupSize);
      if (block.nonFinite !== undefined) {
        const { index, value } = block.nonFinite;
        throw new NonFiniteWeightError(options.label ?? 'int8 weight', shape, start * cols + index, value);
      }
      values.set(block.values, start * cols);
      scales.set(block.scales, start * (cols / groupSize));
    }
    return new Int8Weight(
      Tensor.fromArray(device, values, shape, 'i8', options),
      Tensor.fromArray(device, scales, [rows, cols / groupSize], 'f32', options),
      groupSize,
    );
  }

  /** The rows of `parts` one after another (same inputs and group size): a fused weight such as [gate; up]. */
  static concatRows(parts: readonly Int8Weight[], options: TensorOptions = {}): Int8Weight {
    const first = parts[0];
    if (first === undefined) throw new ShapeError('Int8Weight.concatRows: no weights given');
    const mismatch = parts.findIndex((p) => p.shape[1] !== first.shape[1] || p.groupSize !== first.groupSize);
    if (mismatch >= 0) {
      const p = parts[mismatch];
      throw new ShapeError(
        `Int8Weight.concatRows: part ${mismatch} is ${formatShape(p.shape)} in groups of ${p.groupSize}, not [n, ${first.shape[1]}] in groups of ${first.groupSize}`,
      );
    }
    const values = concatRows(
      parts.map((p) => p.values),
      options,
    );
    try {
      return new Int8Weight(
        values,
        concatRows(
          parts.map((p) => p.scales),
          options,
        ),
        first.groupSize,
      );
    } catch (error) {
      values.dispose();
      throw error;
    }
  }

  get shape(): readonly number[] {
    return this.values.shape;
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

/**
 * Symmetric int8 quantization: scale = max|w| / 127 per group, q = round(w / scale) in [-127, 127],
 * rounding half to even as `torch.round` does, so the reference script quantizes identically.
 * A group whose max is not finite holds a NaN or an infinity: quantizing stops and `nonFinite`
 * says where (the first such value, its index in `weights`).
 */
export function quantizeInt8(
  weights: Float32Array,
  rows: number,
  cols: number,
  groupSize: number,
): { values: Int8Array; scales: Float32Array; nonFinite?: { index: number; value: number } } {
  const groups = cols / groupSize;
  const values = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const start = r * cols + g * groupSize;
      let max = 0;
      for (let i = 0; i < groupSize; i++) max = Math.max(max, Math.abs(weights[start + i]));
      if (max - max !== 0) {
        let index = start;
        while (weights[index] - weights[index] === 0) index++;
        return { values, scales, nonFinite: { index, value: weights[index] } };
      }
      // f32 arithmetic throughout, as torch does it: scale = fp32(max / 127), q = round(fp32(w / scale)).
      const scale = Math.fround(max / 127);
      scales[r * groups + g] = scale;
      if (scale === 0) continue; // the values stay 0
      for (let i = start; i < start + groupSize; i++) {
        const q = roundHalfEven(Math.fround(weights[i] / scale));
        values[i] = q > 127 ? 127 : q < -127 ? -127 : q;
      }
    }
  }
  return { values, scales };
}

/** 1.5 * 2^52: a double this size has no fraction bits, and adding it leaves |x| < 2^51 room on either side. */
const ROUND_TO_EVEN = 6755399441055744;

/**
 * Rounds half to even, as `torch.round` (a zero's sign is not kept). Below 2^51 the sum x + 1.5 * 2^52
 * lies in [2^52, 2^53), where doubles are the integers: the FPU rounds x to one, ties to even (1.5 * 2^52
 * is even), and subtracting gives it back exactly. This is the quantizers' inner loop: no `%`, no branch.
 */
export function roundHalfEven(x: number): number {
  if (Math.abs(x) < 2 ** 51) return x + ROUND_TO_EVEN - ROUND_TO_EVEN;
  // 2^51 <= |x|: the fraction is 0 or 0.5.
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
