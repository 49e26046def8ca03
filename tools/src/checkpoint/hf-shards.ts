/**
 * How Hugging Face's save_pretrained (transformers 4.39, the version Apple's configs name) lays a
 * FastVLM state_dict out in files (tools/python/fastvlm_reference/shards.py states the same rules):
 *   - the state_dict is in module order: LlavaQwen2ForCausalLM's `model.` (embed_tokens, layers,
 *     norm, then the vision tower and the projector inside it), then `lm_head`;
 *   - a new shard opens when the next tensor would take the current one past 5 GB (5e9 bytes); one
 *     shard is `model.safetensors`, more are `model-0000i-of-0000n.safetensors` with
 *     `model.safetensors.index.json` (sorted keys, indent 2);
 *   - inside a file, safetensors' save_file stores tensors by dtype, widest first (I64, F32, then
 *     BF16 / F16), then by name.
 */
import type { PartName } from '@fastvlm/llava';
import type { SafetensorsDType } from '@fastvlm/tensor';
import { tensorBytes, type TensorSlot } from './stream-safetensors.js';

/** transformers' default max_shard_size "5GB". */
export const HF_MAX_SHARD_BYTES = 5_000_000_000;
export const INDEX_FILE = 'model.safetensors.index.json';
const LM_HEAD = 'lm_head.weight';

/** A tensor with the model part it belongs to. */
export type PartSlot = TensorSlot & { part: PartName };

/** LlavaQwen2ForCausalLM's module order of the parts: the decoder body, tower, projector, then lm_head. */
const PART_ORDER: Readonly<Record<PartName, number>> = { llm: 0, vision: 1, projector: 2 };

/** The slots in module order (stable within a part: each part's own order is kept). */
export function moduleOrder<T extends PartSlot>(slots: readonly T[]): T[] {
  const rank = (slot: T): number => (slot.name === LM_HEAD ? 3 : PART_ORDER[slot.part]);
  return slots
    .map((slot, index) => ({ slot, index }))
    .sort((a, b) => rank(a.slot) - rank(b.slot) || a.index - b.index)
    .map(({ slot }) => slot);
}

/** Splits slots in module order into shards of at most `maxShardBytes` (a tensor larger than that alone). */
export function planShards<T extends TensorSlot>(slots: readonly T[], maxShardBytes = HF_MAX_SHARD_BYTES): T[][] {
  const shards: T[][] = [[]];
  let size = 0;
  for (const slot of slots) {
    const bytes = tensorBytes(slot);
    if (size + bytes > maxShardBytes && shards[shards.length - 1].length > 0) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(slot);
    size += bytes;
  }
  return shards;
}

// safetensors' Dtype enum order (its sort key, descending), for the dtypes it can store.
const DTYPE_RANK: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  F16: 4,
  BF16: 5,
  I32: 6,
  F32: 7,
  F64: 8,
  I64: 9,
};

const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The slots in the order safetensors' save_file stores them: dtype descending, then name by bytes. */
export function safetensorsOrder<T extends TensorSlot>(slots: readonly T[]): T[] {
  return [...slots].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || byteCompare(a.name, b.name));
}

/** `model.safetensors`, or `model-00001-of-0000n.safetensors` ... for n > 1 shards. */
export function shardFileNames(count: number): string[] {
  if (count === 1) return ['model.safetensors'];
  const pad = (n: number): string => String(n).padStart(5, '0');
  return Array.from({ length: count }, (_, i) => `model-${pad(i + 1)}-of-${pad(count)}.safetensors`);
}

/** model.safetensors.index.json's text as save_pretrained writes it (keys sorted, indent 2, final newline). */
export function indexJson(shards: readonly (readonly TensorSlot[])[], files: readonly string[]): string {
  const entries = shards.flatMap((shard, i) => shard.map((slot): [string, string] => [slot.name, files[i]]));
  entries.sort(([a], [b]) => byteCompare(a, b));
  const totalSize = shards.flat().reduce((sum, slot) => sum + tensorBytes(slot), 0);
  const index = { metadata: { total_size: totalSize }, weight_map: Object.fromEntries(entries) };
  return `${JSON.stringify(index, null, 2)}\n`;
}
