/**
 * Paths the user names as inputs, checked before they are opened: a regular file must be a regular
 * file (a FIFO would block the read forever, a device would never end), a folder a folder. Files are
 * opened non-blocking and checked again, so a path swapped for a FIFO in between cannot hang us.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { fileKind } from '@fastvlm/image/node';
import { PathError } from './path-error.js';

async function statOf(what: string, path: string): Promise<Stats> {
  if (path === '') throw new PathError(what, "''", 'the path is empty');
  try {
    return await stat(path);
  } catch (cause) {
    throw PathError.fromStat(what, path, cause);
  }
}

/** Throws a PathError unless `path` is an existing regular file (symbolic links followed). */
export async function checkInputFile(what: string, path: string): Promise<void> {
  const stats = await statOf(what, path);
  if (!stats.isFile()) throw new PathError(what, path, `is not a regular file: it is ${fileKind(stats)}`);
}

/** Throws a PathError unless `path` is an existing folder (symbolic links followed). */
export async function checkInputFolder(what: string, path: string): Promise<void> {
  const stats = await statOf(what, path);
  if (!stats.isDirectory()) throw new PathError(what, path, `is not a folder: it is ${fileKind(stats)}`);
}

/** Reads a whole regular file of at most `maxBytes`, checked before and after it is opened. */
export async function readInputFile(what: string, path: string, maxBytes: number): Promise<Uint8Array> {
  const check = (stats: Stats): void => {
    if (!stats.isFile()) throw new PathError(what, path, `is not a regular file: it is ${fileKind(stats)}`);
    if (stats.size > maxBytes)
      throw new PathError(what, path, `is ${stats.size} bytes, above the limit of ${maxBytes} bytes`);
  };
  check(await statOf(what, path));
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw PathError.fromSystem(what, path, 'cannot be opened', cause);
  }
  try {
    check(await handle.stat());
    return await handle.readFile();
  } catch (error) {
    if (error instanceof PathError) throw error;
    throw PathError.fromSystem(what, path, 'cannot be read', error);
  } finally {
    await handle.close();
  }
}
