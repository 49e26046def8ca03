/**
 * Paths the user names as outputs, checked before any work: the file (if there) must be a regular
 * file, its folder must exist and take new files. Folders are made level by level (makeFolderSync),
 * never with `mkdir(recursive)`, which loops forever where mkdir answers ENOENT for an existing parent (/proc).
 * "Takes new files" is tested by creating and removing an empty file: permission bits say nothing
 * to root, nor about read-only or virtual file systems.
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileKind } from '@fastvlm/image/node';
import { makeFolderSync } from '@fastvlm/tensor/node';
import { PathError } from './path-error.js';

/** The stats of `path`, or undefined when nothing is there; other failures are PathErrors. */
async function statIfThere(what: string, shown: string, path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (path === resolve(shown)) throw PathError.fromStat(what, shown, cause);
    throw PathError.fromSystem(what, shown, `${path} cannot be used`, cause);
  }
}

/** Throws unless a file can be created in `folder` (creates and removes an empty one). */
async function checkTakesFiles(what: string, shown: string, folder: string): Promise<void> {
  const probe = join(folder, `.fastvlm-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (cause) {
    throw PathError.fromSystem(what, shown, `cannot create files in ${folder}`, cause);
  }
  await rm(probe, { force: true });
}

/** The nearest folder at or above `path` that exists (checked to be a folder), and the levels below it that do not. */
export async function existingAncestor(
  what: string,
  shown: string,
  path: string,
): Promise<{ folder: string; missing: string[] }> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    const stats = await statIfThere(what, shown, current);
    if (stats !== undefined) {
      if (!stats.isDirectory()) {
        const where = current === resolve(path) ? 'is' : `is inside ${current}, which is`;
        throw new PathError(what, shown, `${where} not a folder: it is ${fileKind(stats)}`);
      }
      return { folder: current, missing: missing.reverse() };
    }
    if (dirname(current) === current) throw new PathError(what, shown, 'no part of the path exists');
    missing.push(current);
  }
}

/** Throws a PathError unless `path` can be written as a file: not a folder or a FIFO, in an existing folder that takes files. */
export async function checkOutputFile(what: string, path: string): Promise<void> {
  if (path === '') throw new PathError(what, "''", 'the path is empty');
  const stats = await statIfThere(what, path, resolve(path));
  if (stats !== undefined && !stats.isFile())
    throw new PathError(what, path, `is not a regular file: it is ${fileKind(stats)}`);
  const folder = dirname(resolve(path));
  const folderStats = await statIfThere(what, path, folder);
  if (folderStats === undefined) throw new PathError(what, path, `the folder ${folder} does not exist`);
  if (!folderStats.isDirectory())
    throw new PathError(what, path, `${folder} is not a folder: it is ${fileKind(folderStats)}`);
  await checkTakesFiles(what, path, folder);
}

/** Throws a PathError unless `path` is a folder that takes files, or one that can be made (nothing is created). */
export async function checkOutputFolder(what: string, path: string): Promise<void> {
  if (path === '') throw new PathError(what, "''", 'the path is empty');
  const { folder } = await existingAncestor(what, path, path);
  await checkTakesFiles(what, path, folder);
}

/** Makes `path` and any missing folders above it, one level at a time; errors name the level that failed. */
export async function makeFolder(what: string, path: string): Promise<void> {
  if (path === '') throw new PathError(what, "''", 'the path is empty');
  await existingAncestor(what, path, path); // a part that is a file, a loop...: said in words first
  try {
    makeFolderSync(path);
  } catch (cause) {
    const level = (cause as NodeJS.ErrnoException).path ?? path;
    throw PathError.fromSystem(what, path, `cannot make the folder ${level}`, cause);
  }
}
