/**
 * Whether what `pull` is about to download fits in the free space of the output folder's file
 * system, checked once the listing is known and before any file is fetched: a listing may name a
 * file of 909 TiB, and a disk filled to the last byte breaks more than this download.
 */
import { stat, statfs } from 'node:fs/promises';
import { existingAncestor } from '../fs/output-paths.js';
import { formatBytes } from '../format-bytes.js';
import { HubError } from './errors.js';
import type { HubFile } from './listing.js';

/** Kept free beyond the download itself (logs, the verification record, other programs). */
export const FREE_SPACE_MARGIN_BYTES = 64 * 2 ** 20;

async function sizeIfFile(path: string): Promise<number | undefined> {
  const stats = await stat(path).catch(() => undefined);
  return stats?.isFile() === true ? stats.size : undefined;
}

/** Bytes still to write: each file's size, less a copy of the listed size or a `.part` already there. */
export async function bytesToDownload(targets: readonly { file: HubFile; target: string }[]): Promise<number> {
  let total = 0;
  for (const { file, target } of targets) {
    if ((await sizeIfFile(target)) === file.size) continue;
    const part = (await sizeIfFile(`${target}.part`)) ?? 0;
    total += file.size - (part <= file.size ? part : 0);
  }
  return total;
}

/** Throws a HubError ('disk-space') unless `needed` bytes fit in the free space where `outDir` is (or will be). */
export async function checkFreeSpace(repo: string, outDir: string, needed: number): Promise<void> {
  const { folder } = await existingAncestor('--out', outDir, outDir);
  const info = await statfs(folder);
  const free = info.bavail * info.bsize;
  if (needed + FREE_SPACE_MARGIN_BYTES > free) {
    throw new HubError(
      repo,
      undefined,
      'disk-space',
      `the files to download take ${formatBytes(needed)} but ${folder} has ${formatBytes(free)} free ` +
        `(${formatBytes(FREE_SPACE_MARGIN_BYTES)} is kept free); nothing was downloaded ` +
        `(free some space, choose another --out, or pass --no-space-check to try anyway)`,
    );
  }
}
