/**
 * Reads an image file in Node, checked before it is opened: it must exist and be a regular file
 * (a FIFO or a device such as /dev/zero would block or never end), within `maxFileBytes`. It is
 * opened non-blocking and checked again, so a path swapped for a FIFO in between cannot hang us.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { resolveBudget, formatMiB, type ImageBudget } from '../budget.js';
import { ImageBudgetError, ImageError } from '../errors.js';
import { describeFileError, fileKind } from './file-errors.js';

export interface ReadImageFileOptions extends ImageBudget {
  /** Names the file in errors (default: the path). */
  source?: string;
}

export async function readImageFile(path: string, options: ReadImageFileOptions = {}): Promise<Uint8Array> {
  const source = options.source ?? path;
  const { maxFileBytes } = resolveBudget(options);
  if (path === '') throw new ImageError('<image path>', 'the image path is empty');
  const fail = (what: string, error: unknown): ImageError =>
    new ImageError(source, `${what} (${describeFileError(error)})`, { cause: error });
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw fail('cannot read the image file', error);
  }
  checkStats(stats, source, maxFileBytes);
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fail('cannot open the image file', error);
  }
  try {
    checkStats(await file.stat(), source, maxFileBytes);
    return await file.readFile();
  } catch (error) {
    if (error instanceof ImageError) throw error;
    throw fail('cannot read the image file', error);
  } finally {
    await file.close();
  }
}

function checkStats(stats: import('node:fs').Stats, source: string, maxFileBytes: number): void {
  if (!stats.isFile()) throw new ImageError(source, `not a regular file but ${fileKind(stats)}`);
  if (stats.size > maxFileBytes) {
    throw new ImageBudgetError(
      source,
      `the file is ${formatMiB(stats.size)}, over the budget of ${formatMiB(maxFileBytes)} (option maxFileBytes)`,
      'maxFileBytes',
      maxFileBytes,
      stats.size,
    );
  }
}
