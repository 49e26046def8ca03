/** What the benchmark scripts share of their command lines: the repository's root and `--name value` flags. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (this file is tools/dist/bench/command-line.js once built). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The value after `--name` on the command line, or `fallback` when the flag or its value is absent. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
