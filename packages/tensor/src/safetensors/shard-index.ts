/**
 * Parsing and validation of a Hugging Face sharded-checkpoint index, `model.safetensors.index.json`:
 * `{ "metadata"?: {...}, "weight_map": { tensorName: shardFile } }`.
 */
import { SafetensorsError } from '../errors.js';
import { relativeNameProblem } from '../folder/model-folder.js';

export const INDEX_FILE_NAME = 'model.safetensors.index.json';
export const SINGLE_FILE_NAME = 'model.safetensors';

export interface ShardIndex {
  /** The index's `metadata` (Hugging Face puts `total_size` there), or `{}`. */
  metadata: Record<string, unknown>;
  /** Tensor name -> shard file name, relative to the index's folder, in index order. */
  weightMap: Map<string, string>;
  /** The distinct shard file names, in order of first mention. */
  shards: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a shard file name is not a plain relative path inside the index's folder, or null. */
export function shardNameProblem(name: string): string | null {
  return relativeNameProblem(name, 'the checkpoint folder');
}

/** Parses the index text read from `indexPath` (named in errors). */
export function parseShardIndex(text: string, indexPath: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    throw new SafetensorsError(indexPath, `index is not valid JSON${detail}`, undefined, { cause });
  }
  if (!isPlainObject(json)) throw new SafetensorsError(indexPath, 'index must be a JSON object');
  const metadata = json.metadata ?? {};
  if (!isPlainObject(metadata)) throw new SafetensorsError(indexPath, "index 'metadata' must be an object");
  const map = json.weight_map;
  if (!isPlainObject(map)) throw new SafetensorsError(indexPath, "index has no 'weight_map' object");

  const weightMap = new Map<string, string>();
  const shards = new Set<string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') {
      throw new SafetensorsError(
        indexPath,
        `weight_map value must be a shard file name (string), got ${JSON.stringify(shard)}`,
        tensor,
      );
    }
    const problem = shardNameProblem(shard);
    if (problem !== null) throw new SafetensorsError(indexPath, `shard file name '${shard}' ${problem}`, tensor);
    shards.add(shard);
    weightMap.set(tensor, shard);
  }
  return { metadata: { ...metadata }, weightMap, shards: [...shards] };
}
