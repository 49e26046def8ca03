/**
 * Lazy reader of one safetensors file: `open` reads and validates only the header; each tensor's
 * bytes are read by name, with ranged reads, when asked for. The file comes from any model-folder
 * source (disk, HTTP, a picked Blob).
 */
import { SafetensorsError } from '../errors.js';
import { locateInFolder } from '../folder/open-folder.js';
import { ModelSourceError, type FolderFile } from '../folder/model-folder.js';
import { bytesToFloat32 } from './convert.js';
import { parseSafetensorsHeader, readHeaderLength } from './header.js';
import type { TensorEntry } from './header.js';

/** Reads `target.byteLength` bytes at `position`, a source's error turned into a SafetensorsError for the tensor. */
async function readExactly(file: FolderFile, target: Uint8Array, position: number, tensor?: string): Promise<void> {
  try {
    await file.readInto(target, position);
  } catch (cause) {
    if (cause instanceof ModelSourceError) throw new SafetensorsError(file.path, cause.problem, tensor, { cause });
    throw cause;
  }
}

export class SafetensorsFile {
  /** How the file is named in errors: its path or URL. */
  readonly path: string;
  /** Size of the file in bytes when it was opened. */
  readonly size: number;
  /** Absolute offset of the data section (8 + header length). */
  readonly dataStart: number;
  /** The header's `__metadata__`, or `{}`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #entries: ReadonlyMap<string, TensorEntry>;
  #file: FolderFile | null;

  private constructor(file: FolderFile, dataStart: number, metadata: Record<string, string>, entries: TensorEntry[]) {
    this.path = file.path;
    this.size = file.size;
    this.dataStart = dataStart;
    this.metadata = Object.freeze(metadata);
    this.#entries = new Map(entries.map((e) => [e.name, e]));
    this.#file = file;
  }

  /**
   * Opens a file and validates its header; no tensor data is read. `input`: a path (Node), a URL, or
   * a file opened from a model folder (which the SafetensorsFile then owns and closes).
   */
  static async open(input: string | FolderFile): Promise<SafetensorsFile> {
    let file: FolderFile;
    if (typeof input === 'string') {
      const { folder, file: name } = await locateInFolder(input).catch((cause: unknown) => {
        throw cause instanceof ModelSourceError
          ? new SafetensorsError(cause.location, cause.problem, undefined, { cause })
          : cause;
      });
      if (name === undefined) throw new SafetensorsError(input, 'is a folder, not a safetensors file');
      const opened = await folder.open(name);
      if (opened === undefined) throw new SafetensorsError(input, 'no such file');
      file = opened;
    } else {
      file = input;
    }
    try {
      const size = file.size;
      const prefix = new Uint8Array(Math.min(8, size));
      await readExactly(file, prefix, 0);
      const headerLength = readHeaderLength(prefix, size, file.path);
      const bytes = new Uint8Array(8 + headerLength);
      bytes.set(prefix);
      await readExactly(file, bytes.subarray(8), 8);
      const header = parseSafetensorsHeader(bytes, size, file.path);
      return new SafetensorsFile(file, header.dataStart, header.metadata, header.tensors);
    } catch (error) {
      await file.close().catch(() => undefined);
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

  /** Closes the file; later reads fail. Closing twice is harmless. */
  async close(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    if (file !== null) await file.close();
  }

  async #readEntry(entry: TensorEntry, target: Uint8Array): Promise<void> {
    if (this.#file === null) throw new SafetensorsError(this.path, 'file is closed', entry.name);
    await readExactly(this.#file, target, entry.fileOffset, entry.name);
  }
}
