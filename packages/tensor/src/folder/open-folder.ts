/**
 * From what a user gives (a path, a URL, or a folder object) to a `ModelFolder`: a URL is read over
 * HTTP, a path from disk (Node only), a `ModelFolder` is used as it is.
 */
import { isNode, nodeEntry } from '../runtime.js';
import { httpFolder, type HttpFolderOptions } from './http-folder.js';
import { ModelSourceError, splitLast, type ModelFolder } from './model-folder.js';

/** A model folder: a path (Node), an http(s) URL (a Hugging Face repository or a static server), or a source object. */
export type FolderInput = string | ModelFolder;

export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

function checkFolderObject(input: unknown): ModelFolder {
  const folder = input as Partial<ModelFolder> | null;
  if (
    folder === null ||
    typeof folder !== 'object' ||
    typeof folder.open !== 'function' ||
    typeof folder.pathOf !== 'function' ||
    typeof folder.location !== 'string'
  ) {
    throw new ModelSourceError(
      String(input),
      'is not a model folder: give a path, an http(s) URL or a ModelFolder (httpFolder, blobFolder, nodeFolder)',
    );
  }
  return folder as ModelFolder;
}

/** The folder `input` names. A path that is not a folder, or one given outside Node, is a `ModelSourceError`. */
export async function openModelFolder(input: FolderInput, http: HttpFolderOptions = {}): Promise<ModelFolder> {
  if (typeof input !== 'string') return checkFolderObject(input);
  if (isUrl(input)) return httpFolder(input, http);
  if (!isNode()) {
    throw new ModelSourceError(
      input,
      'a file path can be read only in Node: in a browser give a URL or a picked folder',
    );
  }
  return (await nodeEntry()).nodeFolder(input);
}

/**
 * A folder and, when `input` names a file of it (a `.safetensors` or `.json` URL, or a path to a
 * regular file), that file's name.
 */
export async function locateInFolder(
  input: FolderInput,
  http: HttpFolderOptions = {},
): Promise<{ folder: ModelFolder; file: string | undefined }> {
  if (typeof input !== 'string') return { folder: checkFolderObject(input), file: undefined };
  if (isUrl(input)) {
    const url = new URL(input);
    const [base, name] = splitLast(url.pathname);
    if (/\.(safetensors|json)$/.test(name)) {
      url.pathname = `${base}/`;
      return { folder: httpFolder(url.href, http), file: decodeURIComponent(name) };
    }
    return { folder: httpFolder(input, http), file: undefined };
  }
  if (!isNode()) {
    throw new ModelSourceError(
      input,
      'a file path can be read only in Node: in a browser give a URL or a picked folder',
    );
  }
  return (await nodeEntry()).locateNodePath(input);
}
