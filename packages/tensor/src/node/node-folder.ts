/**
 * A model folder on disk. Every path is checked before it is opened: the folder must be a folder,
 * each file a regular file. A FIFO, a device, a socket or a symbolic-link loop is refused with an
 * error naming the path — never opened, so never a read that blocks forever — and the descriptor is
 * opened non-blocking and checked again, so a file swapped for a FIFO after the check is refused too.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { checkRelativeName, ModelSourceError, type FolderFile, type ModelFolder } from '../folder/model-folder.js';

/** Largest single read handed to the OS (Node caps one call below 2 GiB). */
const IO_CHUNK_BYTES = 1 << 30;

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** What a path is, in words, when it is not what was expected. */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFile()) return 'a regular file';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The error for a failed stat/open of `path`, by errno, or undefined for "no such path". */
function pathError(path: string, cause: unknown, what: 'file' | 'folder'): ModelSourceError | undefined {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || (code === 'ENOTDIR' && what === 'file')) return undefined;
  if (code === 'ELOOP') return new ModelSourceError(path, 'is a loop of symbolic links', { cause });
  if (code === 'EACCES' || code === 'EPERM') return new ModelSourceError(path, 'permission denied', { cause });
  if (code === 'ENAMETOOLONG') return new ModelSourceError(path, 'the path is too long', { cause });
  if (code === 'ENOTDIR') return new ModelSourceError(path, 'a part of the path is not a folder', { cause });
  return new ModelSourceError(path, `cannot open the ${what}: ${describe(cause)}`, { cause });
}

/** Checks that `path` is an existing folder (following symbolic links) and returns it as a model folder. */
export async function nodeFolder(path: string): Promise<ModelFolder> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (cause) {
    throw pathError(path, cause, 'folder') ?? new ModelSourceError(path, 'no such folder', { cause });
  }
  if (!stats.isDirectory()) throw new ModelSourceError(path, `is not a folder: it is ${kindOf(stats)}`);
  return new NodeFolder(path);
}

/** Opens `path` if it is a regular file; undefined when there is nothing at `path`. */
export async function openNodeFile(path: string): Promise<FolderFile | undefined> {
  let before: Stats;
  try {
    before = await stat(path);
  } catch (cause) {
    const error = pathError(path, cause, 'file');
    if (error) throw error;
    return undefined;
  }
  if (!before.isFile()) throw new ModelSourceError(path, `is not a regular file: it is ${kindOf(before)}`);
  let handle: FileHandle;
  try {
    // Non-blocking: should the path have become a FIFO since the check, the open still returns.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const error = pathError(path, cause, 'file');
    if (error) throw error;
    return undefined;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ModelSourceError(path, `is not a regular file: it is ${kindOf(stats)}`);
    return new NodeFile(path, handle, stats.size);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error instanceof ModelSourceError ? error : new ModelSourceError(path, `cannot open: ${describe(error)}`);
  }
}

class NodeFolder implements ModelFolder {
  readonly location: string;
  constructor(private readonly root: string) {
    this.location = root;
  }

  pathOf(name: string): string {
    return join(this.root, name);
  }

  async open(name: string): Promise<FolderFile | undefined> {
    checkRelativeName(this.location, name);
    return openNodeFile(this.pathOf(name));
  }
}

class NodeFile implements FolderFile {
  #handle: FileHandle | null;
  constructor(
    readonly path: string,
    handle: FileHandle,
    readonly size: number,
  ) {
    this.#handle = handle;
  }

  async readInto(target: Uint8Array, position: number): Promise<void> {
    const handle = this.#handle;
    if (handle === null) throw new ModelSourceError(this.path, 'the file is closed');
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(target.byteLength - done, IO_CHUNK_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(target, done, length, position + done));
      } catch (cause) {
        throw new ModelSourceError(
          this.path,
          `read of ${target.byteLength} bytes at offset ${position} failed: ${describe(cause)}`,
          { cause },
        );
      }
      if (bytesRead === 0) {
        throw new ModelSourceError(
          this.path,
          `file is truncated: expected ${target.byteLength} bytes at offset ${position}, the file ends after ${done}`,
        );
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    if (handle !== null) await handle.close();
  }
}

/** A path that is a folder, or a regular file (then: its folder and its name); anything else is refused by name. */
export async function locateNodePath(path: string): Promise<{ folder: ModelFolder; file: string | undefined }> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (cause) {
    throw pathError(path, cause, 'folder') ?? new ModelSourceError(path, 'no such file or folder', { cause });
  }
  if (stats.isDirectory()) return { folder: new NodeFolder(path), file: undefined };
  if (!stats.isFile()) throw new ModelSourceError(path, `is not a regular file or a folder: it is ${kindOf(stats)}`);
  return { folder: new NodeFolder(dirname(path)), file: basename(path) };
}
