/**
 * Encoding of safetensors files: header JSON padded with spaces to a multiple of 8 bytes, then the
 * tensors' bytes contiguous, in insertion order. Writing them to disk is Node-only
 * (`writeSafetensors` in `@fastvlm/tensor/node`).
 */
import { SafetensorsError } from '../errors.js';
import { badDimIndex, formatShape, isSafetensorsDType, tensorByteLength } from './dtypes.js';
import type { SafetensorsDType } from './dtypes.js';

/** A tensor to write: its raw little-endian bytes (any typed array or DataView) with dtype and shape. */
export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: ArrayBufferView;
}

export type TensorsToWrite = Readonly<Record<string, TensorToWrite>>;

/** The validated layout of one file: its header bytes (length prefix included) and data parts. */
export interface SafetensorsLayout {
  header: Uint8Array;
  parts: Uint8Array[];
  byteLength: number;
}

interface HeaderEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data_offsets: [number, number];
}

function checkTensor(name: string, tensor: TensorToWrite, fileName: string): Uint8Array {
  const fail = (problem: string): SafetensorsError => new SafetensorsError(fileName, problem, name);
  if (name === '__metadata__') throw fail('__metadata__ is reserved and cannot name a tensor');
  if (!isSafetensorsDType(tensor.dtype)) throw fail(`unknown dtype '${String(tensor.dtype)}'`);
  if (!Array.isArray(tensor.shape) || badDimIndex(tensor.shape) >= 0) {
    throw fail(
      `shape ${formatShape(Array.isArray(tensor.shape) ? tensor.shape : [])} must be an array of non-negative integers`,
    );
  }
  const needed = tensorByteLength(tensor.shape, tensor.dtype);
  const { buffer, byteOffset, byteLength } = tensor.data;
  if (BigInt(byteLength) !== needed) {
    throw fail(
      `data holds ${byteLength} bytes but shape ${formatShape(tensor.shape)} of ${tensor.dtype} needs ${needed}`,
    );
  }
  return new Uint8Array(buffer, byteOffset, byteLength);
}

/** Validates the tensors and lays them out; `fileName` names the target in errors. */
export function layoutSafetensors(
  tensors: TensorsToWrite,
  metadata: Readonly<Record<string, string>> | undefined,
  fileName: string,
): SafetensorsLayout {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string')
        throw new SafetensorsError(fileName, `__metadata__ value for key '${key}' must be a string`);
    }
    header.__metadata__ = Object.fromEntries(Object.entries(metadata));
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const bytes = checkTensor(name, tensor, fileName);
    Object.defineProperty(header, name, {
      value: { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.byteLength] },
      enumerable: true,
    });
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { header: head, parts, byteLength: head.byteLength + offset };
}

/** Encodes tensors (and optional string metadata) as the bytes of one safetensors file. */
export function encodeSafetensors(tensors: TensorsToWrite, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const layout = layoutSafetensors(tensors, metadata, '<encodeSafetensors>');
  const out = new Uint8Array(layout.byteLength);
  out.set(layout.header);
  let at = layout.header.byteLength;
  for (const part of layout.parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
