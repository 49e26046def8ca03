/**
 * Writing a Hugging Face style sharded checkpoint: `model-0000k-of-0000n.safetensors` files plus
 * `model.safetensors.index.json` mapping each tensor to its shard.
 */
import { writeFile } from 'node:fs/promises';
import { makeFolderSync } from './make-folder.js';
import { join } from 'node:path';
import { SafetensorsError } from '../errors.js';
import { INDEX_FILE_NAME } from '../safetensors/shard-index.js';
import { layoutSafetensors, type TensorToWrite, type TensorsToWrite } from '../safetensors/writer.js';
import { osError, writeLayout } from './write-safetensors.js';

export interface ShardedWriteResult {
  /** Path of the written `model.safetensors.index.json`. */
  indexPath: string;
  /** Shard file names, relative to the folder, in order. */
  shards: string[];
}

function shardName(k: number, n: number): string {
  const pad = (i: number): string => String(i).padStart(5, '0');
  return `model-${pad(k)}-of-${pad(n)}.safetensors`;
}

/**
 * Splits tensors, in insertion order, into shards of at most `maxShardBytes` tensor-data bytes
 * (a tensor larger than that gets a shard of its own; empty tensors never open a new one), then writes every shard with `metadata`
 * as its `__metadata__`, and the index with `metadata.total_size`. Always writes the sharded
 * layout, even when everything fits in one shard. Creates `folder` if needed.
 */
export async function writeShardedSafetensors(
  folder: string,
  tensors: TensorsToWrite,
  maxShardBytes: number,
  metadata?: Readonly<Record<string, string>>,
): Promise<ShardedWriteResult> {
  const indexPath = join(folder, INDEX_FILE_NAME);
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new SafetensorsError(indexPath, `maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  }
  const groups: Record<string, TensorToWrite>[] = [];
  let current: Record<string, TensorToWrite> = {};
  let currentBytes = 0;
  let count = 0;
  let totalSize = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const bytes = tensor.data.byteLength;
    if (count > 0 && bytes > 0 && currentBytes + bytes > maxShardBytes) {
      groups.push(current);
      current = {};
      currentBytes = 0;
      count = 0;
    }
    Object.defineProperty(current, name, { value: tensor, enumerable: true });
    currentBytes += bytes;
    totalSize += bytes;
    count++;
  }
  groups.push(current);

  const shards = groups.map((_, i) => shardName(i + 1, groups.length));
  // Validate every shard before writing any, so a bad tensor leaves no partial checkpoint.
  const layouts = groups.map((group, i) => layoutSafetensors(group, metadata, join(folder, shards[i])));
  try {
    makeFolderSync(folder);
  } catch (cause) {
    throw osError(folder, 'create folder', cause);
  }
  for (let i = 0; i < layouts.length; i++) await writeLayout(join(folder, shards[i]), layouts[i]);

  const weightMap: Record<string, string> = {};
  groups.forEach((group, i) => {
    for (const name of Object.keys(group))
      Object.defineProperty(weightMap, name, { value: shards[i], enumerable: true });
  });
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  try {
    await writeFile(indexPath, `${JSON.stringify(index, null, 2)}\n`);
  } catch (cause) {
    throw osError(indexPath, 'write index', cause);
  }
  return { indexPath, shards };
}
