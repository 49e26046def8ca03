/**
 * Writing a safetensors file whose tensors are produced one at a time, so that a checkpoint far
 * larger than memory (FastVLM-0.5B is 1.2 GB in f16) never exists whole: the header is laid out
 * from names, dtypes and shapes alone, then each tensor's bytes are streamed after it.
 */
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SafetensorsError, type SafetensorsDType } from '@fastvlm/tensor';

export interface TensorSlot {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
}

export interface SafetensorsPlan {
  /** Length prefix + header JSON, padded with spaces to a multiple of 8 bytes. */
  header: Uint8Array;
  /** Bytes of each tensor's data, in the order given. */
  byteLengths: number[];
  /** Whole file size. */
  fileBytes: number;
}

const BYTES_PER_ELEMENT: Readonly<Record<SafetensorsDType, number>> = {
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

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes of a tensor's data. */
export const tensorBytes = ({ dtype, shape }: Pick<TensorSlot, 'dtype' | 'shape'>): number =>
  elementCount(shape) * BYTES_PER_ELEMENT[dtype];

/** Lays out the header for `tensors`, stored in the order given. */
export function planSafetensors(
  tensors: readonly TensorSlot[],
  metadata?: Readonly<Record<string, string>>,
): SafetensorsPlan {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = { ...metadata };
  const byteLengths: number[] = [];
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    if (name === '__metadata__' || Object.hasOwn(header, name))
      throw new SafetensorsError('<plan>', 'duplicate or reserved tensor name', name);
    const bytes = tensorBytes({ dtype, shape });
    Object.defineProperty(header, name, {
      value: { dtype, shape: [...shape], data_offsets: [offset, offset + bytes] },
      enumerable: true,
    });
    byteLengths.push(bytes);
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return { header: bytes, byteLengths, fileBytes: bytes.byteLength + offset };
}

/** Appends bytes to the file being written. */
export type WriteBytes = (bytes: Uint8Array) => Promise<void>;

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

export interface StreamingWriteOptions {
  /** The header's `__metadata__` (PyTorch writes `{ format: 'pt' }`). */
  metadata?: Readonly<Record<string, string>>;
  /** Called after each tensor's bytes are written. */
  onTensorWritten?: (tensor: TensorSlot, index: number, plan: SafetensorsPlan) => void;
}

/**
 * Writes `tensors` to `path`; `produce(tensor, index, write)` must write exactly that tensor's
 * bytes through `write` (checked). The file is written under a temporary name and renamed at the
 * end, so an interrupted write leaves no plausible-looking `path`.
 */
export async function writeSafetensorsStreaming(
  path: string,
  tensors: readonly TensorSlot[],
  produce: (tensor: TensorSlot, index: number, write: WriteBytes) => Promise<void>,
  { metadata, onTensorWritten }: StreamingWriteOptions = {},
): Promise<SafetensorsPlan> {
  const plan = planSafetensors(tensors, metadata);
  const partial = `${path}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(partial, 'w', 0o644);
  } catch (cause) {
    throw new SafetensorsError(path, `cannot create file: ${(cause as Error).message}`, undefined, { cause });
  }
  try {
    await writeAll(handle, plan.header);
    for (let index = 0; index < tensors.length; index++) {
      let written = 0;
      await produce(tensors[index], index, async (bytes) => {
        written += bytes.byteLength;
        await writeAll(handle, bytes);
      });
      if (written !== plan.byteLengths[index]) {
        throw new SafetensorsError(
          path,
          `producer wrote ${written} bytes, the header says ${plan.byteLengths[index]}`,
          tensors[index].name,
        );
      }
      onTensorWritten?.(tensors[index], index, plan);
    }
    await handle.close();
    await rename(partial, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
  return plan;
}
