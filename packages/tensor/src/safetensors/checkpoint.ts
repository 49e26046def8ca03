/**
 * A checkpoint: one safetensors file, or a Hugging Face sharded folder described by
 * `model.safetensors.index.json`. Every shard's header is opened and cross-checked against the
 * index up front; tensor data is still read lazily, by name.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { SafetensorsError } from '../errors.js';
import { SafetensorsFile } from './file.js';
import type { TensorEntry } from './header.js';
import { osError } from './io.js';
import { INDEX_FILE_NAME, SINGLE_FILE_NAME, parseShardIndex } from './shard-index.js';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function openShards(indexPath: string, shards: readonly string[]): Promise<Map<string, SafetensorsFile>> {
  const folder = dirname(indexPath);
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const shard of shards) {
      const path = join(folder, shard);
      const rel = relative(resolve(folder), resolve(path));
      if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..') {
        throw new SafetensorsError(indexPath, `shard file name '${shard}' escapes the checkpoint folder`);
      }
      if (!(await isFile(path)))
        throw new SafetensorsError(indexPath, `shard '${shard}' named in weight_map is missing (${path})`);
      files.set(shard, await SafetensorsFile.open(path));
    }
  } catch (error) {
    await Promise.all([...files.values()].map((f) => f.close().catch(() => undefined)));
    throw error;
  }
  return files;
}

/** Checks that the shards hold exactly what the weight map says, and returns tensor -> file. */
function crossCheck(
  indexPath: string,
  weightMap: ReadonlyMap<string, string>,
  files: ReadonlyMap<string, SafetensorsFile>,
): Map<string, SafetensorsFile> {
  const owner = new Map<string, SafetensorsFile>();
  const ownerShard = new Map<string, string>();
  for (const [shard, file] of files) {
    for (const name of file.names()) {
      const seen = ownerShard.get(name);
      if (seen !== undefined)
        throw new SafetensorsError(indexPath, `appears in both shard '${seen}' and shard '${shard}'`, name);
      const claimed = weightMap.get(name);
      if (claimed === undefined)
        throw new SafetensorsError(indexPath, `is in shard '${shard}' but not in weight_map`, name);
      if (claimed !== shard)
        throw new SafetensorsError(indexPath, `is in shard '${shard}' but weight_map assigns it to '${claimed}'`, name);
      owner.set(name, file);
      ownerShard.set(name, shard);
    }
  }
  for (const [name, shard] of weightMap) {
    if (!owner.has(name))
      throw new SafetensorsError(indexPath, `weight_map assigns it to shard '${shard}', which does not hold it`, name);
  }
  return owner;
}

export class SafetensorsCheckpoint {
  /** The single file or the index file the checkpoint was opened from; errors name it. */
  readonly path: string;
  /** The open files: one, or one per shard in index order. */
  readonly files: readonly SafetensorsFile[];
  /** `__metadata__` of the (first) file, or `{}`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The index's `metadata` for a sharded checkpoint (e.g. `total_size`), else `{}`. */
  readonly indexMetadata: Readonly<Record<string, unknown>>;
  readonly #owner: ReadonlyMap<string, SafetensorsFile>;

  private constructor(
    path: string,
    files: SafetensorsFile[],
    owner: Map<string, SafetensorsFile>,
    indexMetadata: Record<string, unknown>,
  ) {
    this.path = path;
    this.files = files;
    this.metadata = files.length > 0 ? files[0].metadata : {};
    this.indexMetadata = Object.freeze(indexMetadata);
    this.#owner = owner;
  }

  /**
   * Opens a `.safetensors` file, an index `.json` file, or a folder holding `model.safetensors`
   * or (failing that) `model.safetensors.index.json`.
   */
  static async open(pathOrFolder: string): Promise<SafetensorsCheckpoint> {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(pathOrFolder)).isDirectory();
    } catch (cause) {
      throw osError(pathOrFolder, 'open checkpoint', cause);
    }
    if (isDirectory) {
      const single = join(pathOrFolder, SINGLE_FILE_NAME);
      if (await isFile(single)) return SafetensorsCheckpoint.#openSingle(single);
      const index = join(pathOrFolder, INDEX_FILE_NAME);
      if (await isFile(index)) return SafetensorsCheckpoint.#openIndex(index);
      throw new SafetensorsError(pathOrFolder, `folder holds neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}`);
    }
    if (basename(pathOrFolder).endsWith('.json')) return SafetensorsCheckpoint.#openIndex(pathOrFolder);
    return SafetensorsCheckpoint.#openSingle(pathOrFolder);
  }

  static async #openSingle(path: string): Promise<SafetensorsCheckpoint> {
    const file = await SafetensorsFile.open(path);
    return new SafetensorsCheckpoint(path, [file], new Map(file.names().map((n) => [n, file])), {});
  }

  static async #openIndex(indexPath: string): Promise<SafetensorsCheckpoint> {
    let text: string;
    try {
      text = await readFile(indexPath, 'utf8');
    } catch (cause) {
      throw osError(indexPath, 'read index', cause);
    }
    const index = parseShardIndex(text, indexPath);
    const files = await openShards(indexPath, index.shards);
    try {
      const owner = crossCheck(indexPath, index.weightMap, files);
      return new SafetensorsCheckpoint(indexPath, [...files.values()], owner, index.metadata);
    } catch (error) {
      await Promise.all([...files.values()].map((f) => f.close().catch(() => undefined)));
      throw error;
    }
  }

  /** Tensor names: header order for one file, shard then header order for a sharded one. */
  names(): string[] {
    return [...this.#owner.keys()];
  }

  has(name: string): boolean {
    return this.#owner.has(name);
  }

  /** The file that holds `name`; throws `SafetensorsError` when no file does. */
  fileOf(name: string): SafetensorsFile {
    const file = this.#owner.get(name);
    if (file === undefined)
      throw new SafetensorsError(this.path, `no such tensor in this checkpoint (it holds ${this.#owner.size})`, name);
    return file;
  }

  entry(name: string): TensorEntry {
    return this.fileOf(name).entry(name);
  }

  read(name: string): Promise<Uint8Array> {
    return this.#call(name, (f) => f.read(name));
  }

  readInto(name: string, target: Uint8Array): Promise<void> {
    return this.#call(name, (f) => f.readInto(name, target));
  }

  readAsFloat32(name: string): Promise<Float32Array> {
    return this.#call(name, (f) => f.readAsFloat32(name));
  }

  /** Closes every file. */
  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }

  async #call<T>(name: string, fn: (file: SafetensorsFile) => Promise<T>): Promise<T> {
    return fn(this.fileOf(name));
  }
}
