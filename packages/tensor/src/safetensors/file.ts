/**
 * Lazy reader of one safetensors file: `open` reads and validates only the header; each tensor's
 * bytes are read from disk by name, with positioned reads, when asked for.
 */
import { open as openFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SafetensorsError } from '../errors.js';
import { bytesToFloat32 } from './convert.js';
import { parseSafetensorsHeader, readHeaderLength } from './header.js';
import type { TensorEntry } from './header.js';
import { osError, readExactly } from './io.js';

export class SafetensorsFile {
  /** The path the file was opened with; errors name it. */
  readonly path: string;
  /** Size of the file in bytes when it was opened. */
  readonly size: number;
  /** Absolute offset of the data section (8 + header length). */
  readonly dataStart: number;
  /** The header's `__metadata__`, or `{}`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #entries: ReadonlyMap<string, TensorEntry>;
  #handle: FileHandle | null;

  private constructor(
    path: string,
    handle: FileHandle,
    size: number,
    dataStart: number,
    metadata: Record<string, string>,
    entries: TensorEntry[],
  ) {
    this.path = path;
    this.size = size;
    this.dataStart = dataStart;
    this.metadata = Object.freeze(metadata);
    this.#entries = new Map(entries.map((e) => [e.name, e]));
    this.#handle = handle;
  }

  /** Opens `path` and validates its header; no tensor data is read. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await openFile(path, 'r');
    } catch (cause) {
      throw osError(path, 'open file', cause);
    }
    try {
      let size: number;
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw new SafetensorsError(path, 'not a regular file');
        size = stat.size;
      } catch (cause) {
        throw cause instanceof SafetensorsError ? cause : osError(path, 'stat file', cause);
      }
      const prefix = new Uint8Array(Math.min(8, size));
      await readExactly(handle, prefix, 0, path);
      const headerLength = readHeaderLength(prefix, size, path);
      const bytes = new Uint8Array(8 + headerLength);
      bytes.set(prefix);
      await readExactly(handle, bytes.subarray(8), 8, path);
      const header = parseSafetensorsHeader(bytes, size, path);
      return new SafetensorsFile(path, handle, size, header.dataStart, header.metadata, header.tensors);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** Tensor names, in header order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The tensor's header entry; throws `SafetensorsError` when the file has no such tensor. */
  entry(name: string): TensorEntry {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new SafetensorsError(this.path, `no such tensor in this file (it holds ${this.#entries.size})`, name);
    }
    return entry;
  }

  /** All entries, in header order. */
  entries(): TensorEntry[] {
    return [...this.#entries.values()];
  }

  /** Reads the tensor's raw little-endian bytes into a fresh buffer. */
  async read(name: string): Promise<Uint8Array> {
    const entry = this.entry(name);
    const out = new Uint8Array(entry.byteLength);
    await this.#readEntry(entry, out);
    return out;
  }

  /** Reads the tensor's raw bytes into `target`, whose byte length must equal the tensor's. */
  async readInto(name: string, target: Uint8Array): Promise<void> {
    const entry = this.entry(name);
    if (target.byteLength !== entry.byteLength) {
      throw new SafetensorsError(
        this.path,
        `readInto target holds ${target.byteLength} bytes, the tensor ${entry.byteLength}`,
        name,
      );
    }
    await this.#readEntry(entry, target);
  }

  /** Reads the tensor and converts it to f32, whatever its dtype. */
  async readAsFloat32(name: string): Promise<Float32Array> {
    const entry = this.entry(name);
    if (entry.dtype === 'F32') {
      // Already f32: read straight into the result, no second copy.
      const out = new Float32Array(entry.byteLength / 4);
      await this.#readEntry(entry, new Uint8Array(out.buffer));
      return out;
    }
    return bytesToFloat32(entry.dtype, await this.read(name));
  }

  /** Closes the file handle; later reads fail. Closing twice is harmless. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    if (handle !== null) await handle.close();
  }

  async #readEntry(entry: TensorEntry, target: Uint8Array): Promise<void> {
    if (this.#handle === null) throw new SafetensorsError(this.path, 'file is closed', entry.name);
    await readExactly(this.#handle, target, entry.fileOffset, this.path, entry.name);
  }
}
