/**
 * Which files of a pulled folder were verified, so a second `pull` need not hash gigabytes again: for
 * each file, the size and modification time it had when its content matched the listed hash. A file
 * whose size or mtime changed since (or that has no record) is hashed again before it is trusted.
 * Kept in `<folder>/.cache/fastvlm/verified.json`; an unreadable record is as good as none.
 */
import type { Stats } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder } from '../fs/output-paths.js';

interface Entry {
  readonly size: number;
  readonly mtimeMs: number;
  /** 'sha256:<hex>' or 'git blob sha1:<hex>', as ContentHash.expectedId. */
  readonly id: string;
}

export const RECORD_FOLDER = join('.cache', 'fastvlm');
const RECORD_NAME = 'verified.json';

export class VerifiedRecord {
  private constructor(
    private readonly folder: string,
    private readonly entries: Map<string, Entry>,
  ) {}

  /** The record of `folder` (empty when there is none or it cannot be read). */
  static async open(folder: string): Promise<VerifiedRecord> {
    const entries = new Map<string, Entry>();
    try {
      const parsed: unknown = JSON.parse(await readFile(join(folder, RECORD_FOLDER, RECORD_NAME), 'utf8'));
      if (typeof parsed === 'object' && parsed !== null)
        for (const [path, entry] of Object.entries(parsed as Record<string, unknown>))
          if (isEntry(entry)) entries.set(path, entry);
    } catch {
      // no record yet, or a damaged one: every file will be hashed
    }
    return new VerifiedRecord(folder, entries);
  }

  /** Whether `path` was verified against `id` with exactly this size and mtime. */
  matches(path: string, stats: Stats, id: string): boolean {
    const entry = this.entries.get(path);
    return entry !== undefined && entry.id === id && entry.size === stats.size && entry.mtimeMs === stats.mtimeMs;
  }

  /** Records `path` as verified against `id` with these stats, and saves the record. */
  async remember(path: string, stats: Stats, id: string): Promise<void> {
    this.entries.set(path, { size: stats.size, mtimeMs: stats.mtimeMs, id });
    await this.save();
  }

  /** Forgets `path` (its content is being replaced). */
  async forget(path: string): Promise<void> {
    if (this.entries.delete(path)) await this.save();
  }

  private async save(): Promise<void> {
    const dir = join(this.folder, RECORD_FOLDER);
    await makeFolder('the verification record folder', dir);
    const target = join(dir, RECORD_NAME);
    const partial = `${target}.partial-${process.pid}`;
    await writeFile(partial, `${JSON.stringify(Object.fromEntries(this.entries), null, 1)}\n`);
    await rename(partial, target);
  }
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const { size, mtimeMs, id } = value as Record<string, unknown>;
  return typeof size === 'number' && typeof mtimeMs === 'number' && typeof id === 'string';
}
