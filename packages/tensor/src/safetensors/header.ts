/**
 * Parsing and validation of a safetensors header, purely in memory. Everything the reader later
 * relies on (dtypes, shapes, byte ranges inside the data section, no overlaps) is checked here,
 * before a single data byte is touched.
 */
import { SafetensorsError } from '../errors.js';
import { SAFETENSORS_DTYPES, badDimIndex, formatShape, isSafetensorsDType, tensorByteLength } from './dtypes.js';
import type { SafetensorsDType } from './dtypes.js';

/** Largest header accepted, as the reference implementation does: 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a safetensors file, as its validated header describes it. */
export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Bytes the tensor occupies: product(shape) * bytes per element. */
  byteLength: number;
  /** Absolute offset of its first byte in the file. */
  fileOffset: number;
  /** `[begin, end]` relative to the start of the data section, as written in the header. */
  dataOffsets: [number, number];
  /** The file that holds it. */
  file: string;
}

export interface SafetensorsHeader {
  /** N, the byte length of the JSON header. */
  headerLength: number;
  /** Absolute offset of the data section: 8 + N. */
  dataStart: number;
  /** Bytes in the data section: file size - 8 - N. */
  dataByteLength: number;
  metadata: Record<string, string>;
  /** The tensors, in header order. */
  tensors: TensorEntry[];
}

const ENTRY_KEYS = ['dtype', 'shape', 'data_offsets'];

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${clip(JSON.stringify(value))}`;
}

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads N from the first 8 bytes and checks it against the file size. `prefix` must hold at
 * least the 8 bytes; the file must be at least 8 bytes long.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, fileName: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError(
      fileName,
      `file is ${Math.min(fileSize, prefix.byteLength)} bytes, too short to hold the 8-byte header length`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n) throw new SafetensorsError(fileName, `header length ${n} is too small to hold a JSON object`);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(fileName, `header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const length = Number(n);
  if (8 + length > fileSize) {
    throw new SafetensorsError(
      fileName,
      `header length ${length} runs past the end of the file (8 + ${length} > ${fileSize} bytes)`,
    );
  }
  return length;
}

function parseMetadata(value: unknown, fileName: string): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(fileName, `__metadata__ must be an object of strings, got ${kindOf(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(fileName, `__metadata__ value for key '${key}' must be a string, got ${kindOf(v)}`);
    }
  }
  // fromEntries defines own properties, so even a key named __proto__ survives as data.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function parseEntry(
  name: string,
  value: unknown,
  dataStart: number,
  dataByteLength: number,
  fileName: string,
): TensorEntry {
  const fail = (problem: string): SafetensorsError => new SafetensorsError(fileName, problem, name);
  if (!isPlainObject(value))
    throw fail(`entry must be an object with dtype, shape and data_offsets, got ${kindOf(value)}`);
  for (const key of Object.keys(value)) {
    if (!ENTRY_KEYS.includes(key)) throw fail(`unknown key '${key}' in entry (expected only ${ENTRY_KEYS.join(', ')})`);
  }
  for (const key of ENTRY_KEYS) if (!Object.hasOwn(value, key)) throw fail(`missing '${key}'`);

  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw fail(`dtype must be a string, got ${kindOf(dtype)}`);
  if (!isSafetensorsDType(dtype))
    throw fail(`unknown dtype '${clip(dtype)}' (supported: ${SAFETENSORS_DTYPES.join(', ')})`);

  if (!Array.isArray(shape)) throw fail(`shape must be an array of non-negative integers, got ${kindOf(shape)}`);
  const bad = badDimIndex(shape);
  if (bad >= 0)
    throw fail(
      `shape ${clip(formatShape(shape))} has dim ${bad} = ${clip(JSON.stringify(shape[bad]))}, not a non-negative integer`,
    );

  if (!Array.isArray(offsets) || offsets.length !== 2 || badDimIndex(offsets) >= 0) {
    throw fail(`data_offsets must be two non-negative integers [begin, end], got ${clip(JSON.stringify(offsets))}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] have begin > end`);
  if (end > dataByteLength) {
    throw fail(`data_offsets [${begin}, ${end}] run past the end of the data section (${dataByteLength} bytes)`);
  }
  const needed = tensorByteLength(shape as number[], dtype);
  if (BigInt(end - begin) !== needed) {
    throw fail(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${formatShape(shape)} of ${dtype} needs ${needed}`,
    );
  }
  return {
    name,
    dtype,
    shape: [...(shape as number[])],
    byteLength: end - begin,
    fileOffset: dataStart + begin,
    dataOffsets: [begin, end],
    file: fileName,
  };
}

function checkNoOverlap(tensors: readonly TensorEntry[], fileName: string): void {
  // Empty tensors hold no bytes and so overlap nothing.
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.dataOffsets[0] < prev.dataOffsets[1]) {
      throw new SafetensorsError(
        fileName,
        `data_offsets [${cur.dataOffsets.join(', ')}] overlap tensor '${prev.name}' at [${prev.dataOffsets.join(', ')}]`,
        cur.name,
      );
    }
  }
}

/**
 * Parses and validates the header of a safetensors file held in memory. `bytes` starts at the
 * beginning of the file and holds at least the 8-byte length and the N header bytes (it may hold
 * more, e.g. the whole file); `fileSize` is the size of the whole file, against which the data
 * offsets are checked; `fileName` names the file in errors. Throws `SafetensorsError` on any fault.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, fileName: string): SafetensorsHeader {
  const headerLength = readHeaderLength(bytes, fileSize, fileName);
  const dataStart = 8 + headerLength;
  if (bytes.byteLength < dataStart) {
    throw new SafetensorsError(fileName, `only ${bytes.byteLength} bytes given, the header needs ${dataStart}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch (cause) {
    throw new SafetensorsError(fileName, 'header is not valid UTF-8', undefined, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    throw new SafetensorsError(fileName, `header is not valid JSON${detail}`, undefined, { cause });
  }
  if (!isPlainObject(json)) throw new SafetensorsError(fileName, `header must be a JSON object, got ${kindOf(json)}`);

  const dataByteLength = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fileName);
    else tensors.push(parseEntry(name, value, dataStart, dataByteLength, fileName));
  }
  checkNoOverlap(tensors, fileName);
  return { headerLength, dataStart, dataByteLength, metadata, tensors };
}
