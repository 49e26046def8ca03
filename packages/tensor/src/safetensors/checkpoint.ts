/**
 * A checkpoint: one safetensors file, or a Hugging Face sharded folder described by
 * `model.safetensors.index.json`, from any model-folder source (disk, HTTP, picked files). Every
 * shard's header is opened and cross-checked against the index up front; tensor data is still read
 * lazily, by name.
 */
import { SafetensorsError } from '../errors.js';
import { locateInFolder, type FolderInput } from '../folder/open-folder.js';
import { ModelSourceError, readTextFile, type ModelFolder } from '../folder/model-folder.js';
import { SafetensorsFile } from './file.js';
import type { TensorEntry } from './header.js';
import { INDEX_FILE_NAME, SINGLE_FILE_NAME, parseShardIndex } from './shard-index.js';

/** A source's error about `name` as a SafetensorsError naming the same place. */
function asSafetensorsError(cause: unknown): unknown {
  return cause instanceof ModelSourceError
    ? new SafetensorsError(cause.location, cause.problem, undefined, { cause })
    : cause;
}

async function openFile(folder: ModelFolder, name: string): Promise<SafetensorsFile | undefined> {
  const file = await folder.open(name).catch((cause: unknown) => {
    throw asSafetensorsError(cause);
  });
  return file === undefined ? undefined : SafetensorsFile.open(file);
}

async function openShards(
  folder: ModelFolder,
  indexPath: string,
  shards: readonly string[],
): Promise<Map<string, SafetensorsFile>> {
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const shard of shards) {
      const file = await openFile(folder, shard);
      if (file === undefined)
        throw new SafetensorsError(
          indexPath,
          `shard '${shard}' named in weight_map is missing (${folder.pathOf(shard)})`,
        );
      files.set(shard, file);
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
   * Opens a checkpoint: a folder (a path, a URL, or a `ModelFolder`) holding `model.safetensors` or
   * (failing that) `model.safetensors.index.json`, or a path/URL naming a `.safetensors` file or an
   * index `.json` file.
   */
  static async open(input: FolderInput): Promise<SafetensorsCheckpoint> {
    let located: Awaited<ReturnType<typeof locateInFolder>>;
    try {
      located = await locateInFolder(input);
    } catch (cause) {
      throw asSafetensorsError(cause);
    }
    const { folder, file } = located;
    if (file !== undefined) {
      const opened = file.endsWith('.json')
        ? await SafetensorsCheckpoint.#openIndex(folder, file)
        : await openFile(folder, file).then((single) => single && SafetensorsCheckpoint.#fromSingle(single));
      if (opened === undefined) throw new SafetensorsError(folder.pathOf(file), 'no such file');
      return opened;
    }
    const single = await openFile(folder, SINGLE_FILE_NAME);
    if (single !== undefined) return SafetensorsCheckpoint.#fromSingle(single);
    const index = await SafetensorsCheckpoint.#openIndex(folder, INDEX_FILE_NAME);
    if (index !== undefined) return index;
    throw new SafetensorsError(folder.location, `folder holds neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}`);
  }

  static #fromSingle(file: SafetensorsFile): SafetensorsCheckpoint {
    return new SafetensorsCheckpoint(file.path, [file], new Map(file.names().map((n) => [n, file])), {});
  }

  /** The sharded checkpoint of index `name`; undefined when the folder has no such file. */
  static async #openIndex(folder: ModelFolder, name: string): Promise<SafetensorsCheckpoint | undefined> {
    const indexPath = folder.pathOf(name);
    let text: string | undefined;
    try {
      text = await readTextFile(folder, name);
    } catch (cause) {
      throw asSafetensorsError(cause);
    }
    if (text === undefined) return undefined;
    const index = parseShardIndex(text, indexPath);
    const files = await openShards(folder, indexPath, index.shards);
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
