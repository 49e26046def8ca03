/**
 * `mkdir -p` that always ends: Node's `mkdir(path, { recursive: true })` loops forever where mkdir
 * answers ENOENT for a parent that exists (/proc, and some virtual file systems). Here the nearest
 * existing ancestor is found with stat, then each missing level is made on its own; any failure
 * throws the system error of the level that failed.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The levels of `path` that do not exist yet, outermost first (a stat error other than ENOENT throws). */
export function missingLevels(path: string): string[] {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      statSync(current);
      return missing.reverse();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
}

/** Makes `path` and the folders above it that are missing, one level at a time. */
export function makeFolderSync(path: string, mode?: number): void {
  for (const level of missingLevels(path)) {
    try {
      mkdirSync(level, { mode });
    } catch (error) {
      // Made in between by someone else: fine if it is a folder now.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw error;
    }
  }
  if (!statSync(path).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', path });
  }
}
