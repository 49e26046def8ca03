/**
 * A model folder, wherever it lives: the files' names, sizes and ranged reads. Three sources
 * implement it: a folder on disk (Node: `nodeFolder` in `@fastvlm/tensor/node`), a folder served
 * over HTTP(S) with Range requests (`httpFolder`: a Hugging Face repository or any static server)
 * and files a browser user picked (`blobFolder`, `directoryHandleFolder`). Everything that reads a
 * model (safetensors checkpoints, config.json, the tokenizer files) reads through this interface.
 */
import { FastVlmError } from '../errors.js';

/** One file of a model folder, open for ranged reads. */
export interface FolderFile {
  /** How errors name the file: a path, a URL, `picked folder 'X'/config.json`. */
  readonly path: string;
  /** Bytes in the file. */
  readonly size: number;
  /**
   * Fills `target` with the file's bytes from `position` on, or rejects with a typed error (a file
   * that ends early, a failed read, a peer that misbehaves); never leaves half-read garbage unreported.
   */
  readInto(target: Uint8Array, position: number): Promise<void>;
  /** Releases what the file holds (a handle). Later reads fail. */
  close(): Promise<void>;
}

export interface ModelFolder {
  /** How errors name the folder. */
  readonly location: string;
  /** How errors name file `name` of the folder, before it is opened. */
  pathOf(name: string): string;
  /**
   * Opens file `name` (a relative path with forward slashes), or resolves `undefined` when the folder
   * has no such file. Anything else that is wrong (not a regular file, no permission, an
   * unreachable server) rejects with a `ModelSourceError` naming the path.
   */
  open(name: string): Promise<FolderFile | undefined>;
  /** The files' relative paths, where the source can list them (picked files, a Hugging Face repository). */
  list?(): Promise<string[]>;
}

/** A model folder, or one file of it, that cannot be read: it names what and where. */
export class ModelSourceError extends FastVlmError {
  /** The path or URL at fault. */
  readonly location: string;
  /** What is wrong, without the location. */
  readonly problem: string;
  constructor(location: string, problem: string, options?: { cause?: unknown }) {
    super('MODEL_SOURCE', `${location}: ${problem}`, options);
    this.location = location;
    this.problem = problem;
  }
}

/** Largest file read whole into memory (config.json, tokenizer.json, an index): 64 MiB. */
export const MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads file `name` whole, or `undefined` when the folder has no such file. A file above `maxBytes`
 * is refused before a byte of it is read.
 */
export async function readWholeFile(
  folder: ModelFolder,
  name: string,
  maxBytes = MAX_WHOLE_FILE_BYTES,
): Promise<Uint8Array | undefined> {
  const file = await folder.open(name);
  if (file === undefined) return undefined;
  try {
    if (file.size > maxBytes) {
      throw new ModelSourceError(
        file.path,
        `is ${file.size} bytes, above the ${maxBytes}-byte limit for a file read whole`,
      );
    }
    const bytes = new Uint8Array(file.size);
    await file.readInto(bytes, 0);
    return bytes;
  } finally {
    await file.close();
  }
}

/** `readWholeFile` decoded as UTF-8; a file that is not valid UTF-8 is a `ModelSourceError`. */
export async function readTextFile(
  folder: ModelFolder,
  name: string,
  maxBytes = MAX_WHOLE_FILE_BYTES,
): Promise<string | undefined> {
  const bytes = await readWholeFile(folder, name, maxBytes);
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new ModelSourceError(folder.pathOf(name), 'is not valid UTF-8 text', { cause });
  }
}

/** Splits `path` at its last '/': the folder part (without the slash) and the file name. */
export function splitLast(path: string): [string, string] {
  const at = path.lastIndexOf('/');
  return at < 0 ? ['', path] : [path.slice(0, at), path.slice(at + 1)];
}

/**
 * Why `name` is not a plain relative path that stays inside its folder, or null when it is one.
 * Forward-slash subfolders are allowed; `..`, `.`, empty segments, backslashes, drive letters,
 * absolute paths and NUL are not.
 */
export function relativeNameProblem(name: string, folder = 'the folder'): string | null {
  if (name.length === 0) return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  for (const segment of name.split('/')) {
    if (segment === '..') return `escapes ${folder} through '..'`;
    if (segment === '' || segment === '.') return 'has an empty or "." path segment';
  }
  return null;
}

/** Throws a `ModelSourceError` when `name` is not a plain relative path inside the folder. */
export function checkRelativeName(location: string, name: string): void {
  const problem = relativeNameProblem(name);
  if (problem !== null) throw new ModelSourceError(location, `file name ${JSON.stringify(name)} ${problem}`);
}
