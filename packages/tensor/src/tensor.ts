import type { PooledBuffer } from './buffer-pool.js';
import type { Device } from './device.js';
import { bytesPerElement, typedView, type DType, type TypedArrayFor } from './dtype.js';
import { DisposedError, ShapeError } from './errors.js';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from './half.js';
import type { BindingRef } from './kernel-cache.js';
import type { Disposable } from './scope.js';
import { checkShape, formatShape, numel, resolveReshape, type Shape } from './shape.js';

/** Data accepted for upload: the dtype's own typed array, f32 values for any float dtype, or plain numbers. */
export type TensorData = ArrayLike<number> | TypedArrayFor[DType];

/** One GPU buffer holding bytes [byteStart, byteStart + byteLength) of the tensor's data. */
interface StorageBlock {
  readonly entry: PooledBuffer;
  readonly byteStart: number;
  readonly byteLength: number;
}

/** GPU buffers shared by a tensor and its views; returned to the pool when the last one is disposed. */
class Storage {
  refs = 1;
  constructor(
    readonly device: Device,
    readonly blocks: readonly StorageBlock[],
  ) {}
  release(): void {
    if (--this.refs === 0) for (const b of this.blocks) this.device.release(b.entry);
  }
}

/** A block of rows of a tensor split across buffers, as kernels bind it. */
export interface TensorBlock {
  readonly rowStart: number;
  readonly rowCount: number;
  readonly ref: BindingRef;
}

export interface TensorOptions {
  label?: string;
  /**
   * Largest buffer one block may have. Defaults to the adapter's maxStorageBufferBindingSize; a
   * tensor above it is split along its first dimension into row blocks.
   */
  maxBlockBytes?: number;
}

/**
 * An n-dimensional array on the GPU. Row-major; its buffers come from the device's pool and go back
 * when it is disposed (or when the scope it was created in ends).
 */
export class Tensor<D extends DType = DType> implements Disposable {
  readonly shape: readonly number[];
  private storageRef: Storage | undefined;

  private constructor(
    readonly device: Device,
    shape: Shape,
    readonly dtype: D,
    storage: Storage,
    /** Byte offset of this view into a single-block storage. */
    private readonly byteOffset: number,
  ) {
    this.shape = Object.freeze([...shape]);
    this.storageRef = storage;
    device.track(this);
  }

  /** An uninitialised tensor. */
  static empty<D extends DType>(device: Device, shape: Shape, dtype: D, options: TensorOptions = {}): Tensor<D> {
    checkShape(shape);
    const byteLength = numel(shape) * bytesPerElement(dtype);
    const blocks = planBlocks(shape, dtype, options.maxBlockBytes ?? device.limits.maxStorageBufferBindingSize).map(
      (b) => ({
        ...b,
        entry: device.allocate(b.byteLength, options.label),
      }),
    );
    if (blocks.length === 0) blocks.push({ entry: device.allocate(4, options.label), byteStart: 0, byteLength });
    return new Tensor(device, shape, dtype, new Storage(device, blocks), 0);
  }

  /** Uploads `data` (converted to `dtype`: f32 values become f16/bf16 bits). */
  static fromArray<D extends DType>(
    device: Device,
    data: TensorData,
    shape: Shape,
    dtype: D,
    options: TensorOptions = {},
  ): Tensor<D> {
    checkShape(shape);
    if (data.length !== numel(shape)) {
      throw new ShapeError(
        `${data.length} values given for a tensor of shape ${formatShape(shape)} (${numel(shape)} elements)`,
      );
    }
    const typed = toStorageArray(data, dtype);
    const tensor = Tensor.empty(device, shape, dtype, options);
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    for (const block of tensor.storage.blocks) {
      device.upload(block.entry, 0, bytes.subarray(block.byteStart, block.byteStart + block.byteLength));
    }
    return tensor;
  }

  /**
   * Overwrites the data with `data` (as `fromArray` converts it). Submits the commands recorded so
   * far first: an upload runs before any command not yet submitted, which may read the old data.
   */
  write(data: TensorData): void {
    if (data.length !== this.size) {
      throw new ShapeError(`${data.length} values given to overwrite a tensor of shape ${formatShape(this.shape)}`);
    }
    const typed = toStorageArray(data, this.dtype);
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    const storage = this.storage;
    this.device.submit();
    if (storage.blocks.length === 1) {
      this.device.upload(storage.blocks[0].entry, this.byteOffset, bytes);
      return;
    }
    for (const block of storage.blocks) {
      this.device.upload(block.entry, 0, bytes.subarray(block.byteStart, block.byteStart + block.byteLength));
    }
  }

  static zeros<D extends DType>(device: Device, shape: Shape, dtype: D, options: TensorOptions = {}): Tensor<D> {
    const bytes = numel(shape) * bytesPerElement(dtype);
    return Tensor.fromArray(
      device,
      typedView(dtype, new ArrayBuffer(Math.ceil(bytes / 4) * 4), 0, numel(shape)),
      shape,
      dtype,
      options,
    );
  }

  get size(): number {
    return numel(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get byteLength(): number {
    return this.size * bytesPerElement(this.dtype);
  }

  get disposed(): boolean {
    return this.storageRef === undefined;
  }

  /** Whether the data is split over several buffers (see `blocks()`). */
  get isSplit(): boolean {
    return this.storage.blocks.length > 1;
  }

  private get storage(): Storage {
    if (!this.storageRef) throw new DisposedError(`tensor ${formatShape(this.shape)} ${this.dtype}`);
    return this.storageRef;
  }

  /** The buffer range of an unsplit tensor, for a kernel binding. */
  bindingRef(): BindingRef {
    const blocks = this.storage.blocks;
    if (blocks.length !== 1) {
      throw new ShapeError(
        `tensor ${formatShape(this.shape)} ${this.dtype} is split into ${blocks.length} row blocks: bind its blocks() instead`,
      );
    }
    const b = blocks[0];
    return {
      buffer: b.entry.buffer,
      bufferId: b.entry.id,
      offset: this.byteOffset,
      size: Math.max(4, Math.ceil(this.byteLength / 4) * 4),
    };
  }

  /** The row blocks (along the first dimension) the data lives in; one block unless the tensor is split. */
  blocks(): TensorBlock[] {
    const rowBytes = this.rank === 0 ? this.byteLength : this.byteLength / Math.max(1, this.shape[0]);
    if (!this.isSplit) return [{ rowStart: 0, rowCount: this.shape[0] ?? 1, ref: this.bindingRef() }];
    return this.storage.blocks.map((b) => ({
      rowStart: b.byteStart / rowBytes,
      rowCount: b.byteLength / rowBytes,
      ref: { buffer: b.entry.buffer, bufferId: b.entry.id, offset: 0, size: Math.ceil(b.byteLength / 4) * 4 },
    }));
  }

  /** A view of the same data with another shape (one dimension may be -1). No copy. */
  reshape(shape: Shape): Tensor<D> {
    const storage = this.storage;
    const target = resolveReshape(this.size, shape);
    if (storage.blocks.length > 1) {
      const rowBytes = (this.byteLength / target[0]) | 0;
      const aligned =
        target.length > 0 && storage.blocks.every((b) => b.byteStart % rowBytes === 0 && b.byteLength % rowBytes === 0);
      if (!aligned)
        throw new ShapeError(
          `cannot reshape split tensor ${formatShape(this.shape)} to ${formatShape(target)}: rows would straddle its blocks`,
        );
    }
    storage.refs++;
    return new Tensor(this.device, target, this.dtype, storage, this.byteOffset);
  }

  /**
   * Rows [start, end) of the first dimension as a view, when they start on a binding-offset
   * boundary of an unsplit tensor; otherwise a ShapeError (copy them with a kernel instead).
   */
  sliceRows(start: number, end: number): Tensor<D> {
    const rows = this.shape[0];
    if (this.rank === 0 || !(0 <= start && start <= end && end <= rows)) {
      throw new ShapeError(`rows [${start}, ${end}) are outside tensor ${formatShape(this.shape)}`);
    }
    const rowBytes = this.byteLength / rows;
    const offset = this.byteOffset + start * rowBytes;
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    if (this.isSplit || offset % align !== 0) {
      throw new ShapeError(
        `rows [${start}, ${end}) of ${formatShape(this.shape)} do not start on a ${align}-byte boundary of one buffer`,
      );
    }
    this.storage.refs++;
    return new Tensor(this.device, [end - start, ...this.shape.slice(1)], this.dtype, this.storage, offset);
  }

  /** Takes this tensor out of the open scopes: it lives until `dispose()`. */
  keep(): this {
    this.device.scopes.keep(this);
    return this;
  }

  /** Reads the data back (16-bit floats as raw bits). Submits pending work and waits for it. */
  async read(): Promise<TypedArrayFor[D]> {
    const storage = this.storage;
    const ranges = storage.blocks.map((b, i) => ({
      buffer: b.entry.buffer,
      bufferId: b.entry.id,
      offset: i === 0 ? this.byteOffset : 0,
      size: storage.blocks.length === 1 ? this.byteLength : b.byteLength,
    }));
    const parts = await this.device.read(ranges);
    const out = new Uint8Array(Math.ceil(this.byteLength / 4) * 4);
    let at = 0;
    for (const part of parts) {
      out.set(new Uint8Array(part), at);
      at += part.byteLength;
    }
    return typedView(this.dtype, out.buffer, 0, this.size);
  }

  /** Reads the data back as f32 values, whatever the dtype. */
  async toFloat32(): Promise<Float32Array> {
    const data = await this.read();
    if (this.dtype === 'f16') return f16ArrayToF32(data as Uint16Array);
    if (this.dtype === 'bf16') return bf16ArrayToF32(data as Uint16Array);
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  dispose(): void {
    if (!this.storageRef) return;
    this.storageRef.release();
    this.storageRef = undefined;
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.isSplit ? `, ${this.storage.blocks.length} blocks` : ''})`;
  }
}

/** Splits a tensor's bytes into blocks of whole rows, each at most `maxBlockBytes` and a multiple of 4 bytes. */
function planBlocks(shape: Shape, dtype: DType, maxBlockBytes: number): { byteStart: number; byteLength: number }[] {
  const total = numel(shape) * bytesPerElement(dtype);
  if (total <= maxBlockBytes) return total === 0 ? [] : [{ byteStart: 0, byteLength: total }];
  const rows = shape[0];
  const rowBytes = total / rows;
  const granule = 4 / gcd(rowBytes, 4); // rows a block must be a multiple of so it stays 4-byte sized
  const rowsPerBlock = Math.floor(maxBlockBytes / rowBytes / granule) * granule;
  if (rowsPerBlock < 1) {
    throw new ShapeError(
      `tensor ${formatShape(shape)} ${dtype} exceeds the binding limit of ${maxBlockBytes} bytes and cannot be split into row blocks`,
    );
  }
  const blocks = [];
  for (let row = 0; row < rows; row += rowsPerBlock) {
    const count = Math.min(rowsPerBlock, rows - row);
    blocks.push({ byteStart: row * rowBytes, byteLength: count * rowBytes });
  }
  return blocks;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function toStorageArray(data: TensorData, dtype: DType): ArrayBufferView {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array ? data : Float32Array.from(data);
    case 'f16':
      return data instanceof Uint16Array ? data : f32ArrayToF16(data);
    case 'bf16':
      return data instanceof Uint16Array ? data : f32ArrayToBf16(data);
    case 'i32':
      return data instanceof Int32Array ? data : Int32Array.from(data);
    case 'u32':
      return data instanceof Uint32Array ? data : Uint32Array.from(data);
    case 'i8':
      return data instanceof Int8Array ? data : Int8Array.from(data);
    case 'u8':
      return data instanceof Uint8Array ? data : Uint8Array.from(data);
  }
}
