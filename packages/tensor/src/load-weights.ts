/**
 * Moves checkpoint tensors onto the GPU by their checkpoint names, in the dtype the model asks for,
 * checking each one's shape against what the model's config implies.
 */
import type { Device } from './device.js';
import { FastVlmError } from './errors.js';
import { bf16ToF16InPlace, f32ArrayToBf16, f32ArrayToF16 } from './half.js';
import { Int4Weight } from './int4-weight.js';
import { Int8Weight } from './int8-weight.js';
import { checkFinite, checkFiniteHalf } from './non-finite.js';
import { bytesToFloat32, type SafetensorsCheckpoint } from './safetensors/index.js';
import { formatShape, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

/** A checkpoint does not hold what the model's config says it must (a tensor missing or of the wrong shape). */
export class CheckpointError extends FastVlmError {
  constructor(
    readonly tensor: string,
    readonly problem: string,
  ) {
    super('CHECKPOINT', `checkpoint tensor '${tensor}': ${problem}`);
  }
}

export type FloatStorage = 'f32' | 'f16' | 'bf16';

export interface LoadTensorOptions {
  /** The GPU dtype to hold the tensor in. */
  dtype: FloatStorage;
  /** The shape the model expects; a mismatch is a CheckpointError. */
  shape: readonly number[];
  /** Split above this many bytes per block (defaults to the device's binding limit). */
  maxBlockBytes?: number;
}

function checkEntry(checkpoint: SafetensorsCheckpoint, name: string, shape: readonly number[]): void {
  if (!checkpoint.has(name)) throw new CheckpointError(name, 'is missing');
  const entry = checkpoint.entry(name);
  if (!sameShape(entry.shape, shape))
    throw new CheckpointError(name, `has shape ${formatShape(entry.shape)}, the config implies ${formatShape(shape)}`);
  if (!['F32', 'F16', 'BF16'].includes(entry.dtype))
    throw new CheckpointError(name, `has dtype ${entry.dtype}, expected a float type (F32, F16, BF16)`);
}

/**
 * Reads `name` from the checkpoint and uploads it as `options.dtype`. F16 stays as is when asked for
 * f16 (no conversion). A NaN or infinity, or a value beyond the target dtype's range, is a
 * NonFiniteWeightError naming the tensor and the element (checked on the values uploaded).
 */
export async function loadTensor(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  name: string,
  options: LoadTensorOptions,
): Promise<Tensor> {
  checkEntry(checkpoint, name, options.shape);
  const entry = checkpoint.entry(name);
  const tensorOptions = { label: name, maxBlockBytes: options.maxBlockBytes };
  if ((entry.dtype === 'F16' && options.dtype === 'f16') || (entry.dtype === 'BF16' && options.dtype === 'bf16')) {
    const bytes = await checkpoint.read(name);
    const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    checkFiniteHalf(name, options.shape, bits, options.dtype);
    return Tensor.fromArray(device, bits, options.shape, options.dtype, tensorOptions);
  }
  if (entry.dtype === 'BF16' && options.dtype === 'f16') {
    // bfloat16 -> f16 in the buffer read (no f32 copy): exact in f16's normal range.
    const bytes = await checkpoint.read(name);
    const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    const { overflows } = bf16ToF16InPlace(bits);
    if (overflows > 0)
      throw new CheckpointError(
        name,
        `holds ${overflows} bfloat16 values beyond f16's range (|x| > 65504): load it with dtype f32 (or int8)`,
      );
    checkFiniteHalf(name, options.shape, bits, 'f16'); // a bfloat16 NaN/Inf stays one in f16
    return Tensor.fromArray(device, bits, options.shape, 'f16', tensorOptions);
  }
  const values = await checkpoint.readAsFloat32(name);
  if (options.dtype === 'f32') {
    checkFinite(name, options.shape, values);
    return Tensor.fromArray(device, values, options.shape, 'f32', tensorOptions);
  }
  const bits = options.dtype === 'f16' ? f32ArrayToF16(values) : f32ArrayToBf16(values);
  checkFiniteHalf(name, options.shape, bits, options.dtype, values);
  return Tensor.fromArray(device, bits, options.shape, options.dtype, tensorOptions);
}

/**
 * Reads a 2-D weight `[out, in]` and quantizes it to int8 with per-row (or per-group) scales; a
 * non-finite value is found while quantizing (a NonFiniteWeightError).
 * `storedShape` is the checkpoint's shape when it differs only by unit dimensions (a 1x1
 * convolution's [out, in, 1, 1]).
 */
export async function loadInt8Weight(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  name: string,
  shape: readonly [number, number],
  options: QuantizedLoadOptions = {},
): Promise<Int8Weight> {
  const readRows = await matrixRows(checkpoint, name, shape, options.storedShape);
  return Int8Weight.quantizeRows(device, shape, readRows, {
    groupSize: options.groupSize,
    maxBlockBytes: options.maxBlockBytes,
    label: name,
  });
}

/**
 * Reads a 2-D weight `[out, in]` and quantizes it to group-wise int4 (default group
 * INT4_GROUP_SIZE); a non-finite value, or a group beyond f16 scales, is a NonFiniteWeightError.
 */
export async function loadInt4Weight(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  name: string,
  shape: readonly [number, number],
  options: QuantizedLoadOptions = {},
): Promise<Int4Weight> {
  const readRows = await matrixRows(checkpoint, name, shape, options.storedShape);
  return Int4Weight.quantizeRows(device, shape, readRows, {
    groupSize: options.groupSize,
    maxBlockBytes: options.maxBlockBytes,
    label: name,
  });
}

export interface QuantizedLoadOptions {
  groupSize?: number;
  maxBlockBytes?: number;
  /** The checkpoint's shape when it differs from the matrix's only by unit dimensions. */
  storedShape?: readonly number[];
}

/** The checkpoint's bytes of `name` once, and a reader converting a block of its rows to f32. */
async function matrixRows(
  checkpoint: SafetensorsCheckpoint,
  name: string,
  shape: readonly [number, number],
  storedShape: readonly number[] = shape,
): Promise<(start: number, count: number) => Float32Array> {
  if (storedShape.reduce((a, b) => a * b, 1) !== shape[0] * shape[1] || storedShape[0] !== shape[0]) {
    throw new CheckpointError(
      name,
      `a stored shape ${formatShape(storedShape)} cannot be read as the matrix ${formatShape(shape)}`,
    );
  }
  checkEntry(checkpoint, name, storedShape);
  const entry = checkpoint.entry(name);
  // The raw bytes once, converted to f32 a block of rows at a time while quantizing.
  const bytes = await checkpoint.read(name);
  const size = entry.dtype === 'F32' ? 4 : 2;
  const cols = shape[1];
  return (start, count) =>
    bytesToFloat32(entry.dtype, bytes.subarray(start * cols * size, (start + count) * cols * size));
}

/** Reads a tensor to the CPU as f32 after checking its shape and that it is finite (for weights folded at load, e.g. BatchNorm). */
export async function readFloat32(
  checkpoint: SafetensorsCheckpoint,
  name: string,
  shape: readonly number[],
): Promise<Float32Array> {
  checkEntry(checkpoint, name, shape);
  const values = await checkpoint.readAsFloat32(name);
  checkFinite(name, shape, values);
  return values;
}
