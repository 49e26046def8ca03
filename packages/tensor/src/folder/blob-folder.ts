/**
 * A model folder a browser user picked: the `File`s of `<input type="file" webkitdirectory>` (or of a
 * drop), or a File System Access API directory handle (`showDirectoryPicker()`). Reads are
 * `blob.slice(a, b).arrayBuffer()`: nothing is read until asked for.
 */
import { checkRelativeName, ModelSourceError, type FolderFile, type ModelFolder } from './model-folder.js';

/** A picked file: a Blob with a name, and the path inside the picked folder where the browser gives one. */
export interface PickedFile extends Blob {
  readonly name: string;
  readonly webkitRelativePath?: string;
}

/** The parts of `FileSystemDirectoryHandle` used here (so that no DOM typings are needed). */
export interface DirectoryHandle {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string): Promise<DirectoryHandle>;
  getFileHandle(name: string): Promise<{ getFile(): Promise<Blob> }>;
  entries?(): AsyncIterableIterator<[string, { kind: 'file' | 'directory' }]>;
}

/** Files listed at most, and folder depth walked, when a directory handle is listed. */
const MAX_LISTED_FILES = 10_000;
const MAX_LIST_DEPTH = 8;

class BlobFile implements FolderFile {
  private closed = false;
  constructor(
    readonly path: string,
    private readonly blob: Blob,
  ) {}

  get size(): number {
    return this.blob.size;
  }

  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (this.closed) throw new ModelSourceError(this.path, 'the file is closed');
    const end = position + target.byteLength;
    if (!Number.isSafeInteger(position) || position < 0 || end > this.blob.size) {
      throw new ModelSourceError(
        this.path,
        `file is truncated: expected ${target.byteLength} bytes at offset ${position}, the file is ${this.blob.size} bytes`,
      );
    }
    let bytes: ArrayBuffer;
    try {
      bytes = await this.blob.slice(position, end).arrayBuffer();
    } catch (cause) {
      // A picked file that changed or went away since it was picked (NotReadableError).
      throw new ModelSourceError(this.path, `cannot be read (was it changed or moved since it was picked?)`, { cause });
    }
    if (bytes.byteLength !== target.byteLength) {
      throw new ModelSourceError(this.path, `read ${bytes.byteLength} bytes where ${target.byteLength} were expected`);
    }
    target.set(new Uint8Array(bytes));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Files picked with `<input webkitdirectory>` (names from `webkitRelativePath`, less the picked folder's
 * own name), dropped files (their names), or a `{ name: Blob }` map.
 */
export function blobFolder(
  files: Iterable<PickedFile> | ArrayLike<PickedFile> | Readonly<Record<string, Blob>>,
  label?: string,
): ModelFolder {
  const byName = new Map<string, Blob>();
  let top: string | undefined;
  const isRecord = !(Symbol.iterator in Object(files)) && typeof (files as ArrayLike<PickedFile>).length !== 'number';
  if (isRecord) {
    for (const [name, blob] of Object.entries(files as Record<string, Blob>)) byName.set(name, blob);
  } else {
    for (const file of Array.from(files as ArrayLike<PickedFile>)) {
      const relative = file.webkitRelativePath || file.name;
      const slash = relative.indexOf('/');
      // `webkitRelativePath` starts with the picked folder's own name.
      const name = file.webkitRelativePath && slash >= 0 ? relative.slice(slash + 1) : relative;
      if (file.webkitRelativePath && slash >= 0) top ??= relative.slice(0, slash);
      byName.set(name, file);
    }
  }
  const location = label ?? `picked folder ${JSON.stringify(top ?? 'files')}`;
  return {
    location,
    pathOf: (name) => `${location}/${name}`,
    async open(name) {
      checkRelativeName(location, name);
      const blob = byName.get(name);
      return blob === undefined ? undefined : new BlobFile(`${location}/${name}`, blob);
    },
    async list() {
      return [...byName.keys()];
    },
  };
}

function domErrorName(error: unknown): string {
  return typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';
}

/** A folder picked with the File System Access API (`await showDirectoryPicker()`). */
export function directoryHandleFolder(root: DirectoryHandle): ModelFolder {
  const location = `picked folder ${JSON.stringify(root.name)}`;
  const pathOf = (name: string): string => `${location}/${name}`;
  return {
    location,
    pathOf,
    async open(name) {
      checkRelativeName(location, name);
      const parts = name.split('/');
      let folder = root;
      try {
        for (const part of parts.slice(0, -1)) folder = await folder.getDirectoryHandle(part);
        const handle = await folder.getFileHandle(parts[parts.length - 1]);
        return new BlobFile(pathOf(name), await handle.getFile());
      } catch (cause) {
        const kind = domErrorName(cause);
        if (kind === 'NotFoundError') return undefined;
        if (kind === 'TypeMismatchError')
          throw new ModelSourceError(pathOf(name), 'is a folder, not a file', { cause });
        if (kind === 'NotAllowedError')
          throw new ModelSourceError(pathOf(name), 'permission to read it was not granted', { cause });
        throw new ModelSourceError(pathOf(name), `cannot be opened: ${String(cause)}`, { cause });
      }
    },
    async list() {
      const names: string[] = [];
      const walk = async (folder: DirectoryHandle, prefix: string, depth: number): Promise<void> => {
        if (folder.entries === undefined || depth > MAX_LIST_DEPTH) return;
        for await (const [name, entry] of folder.entries()) {
          if (names.length >= MAX_LISTED_FILES) return;
          if (entry.kind === 'file') names.push(`${prefix}${name}`);
          else await walk(await folder.getDirectoryHandle(name), `${prefix}${name}/`, depth + 1);
        }
      };
      await walk(root, '', 0);
      return names;
    },
  };
}
