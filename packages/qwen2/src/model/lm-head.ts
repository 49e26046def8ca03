/**
 * Which matrix is the LM head, decided as transformers decides it when it loads a checkpoint
 * (verified with 5.18, tools/python/fastvlm_reference/CHECKPOINTS.md):
 *   - tie_word_embeddings false: `lm_head.weight`;
 *   - tied, no `lm_head.weight` stored: the embedding;
 *   - tied, `lm_head.weight` stored bit-identical to the embedding (Apple's FastVLM-0.5B and -1.5B
 *     ship such a copy): the embedding, the copy is not loaded;
 *   - tied, `lm_head.weight` stored and different: the stored head, not tied (transformers warns
 *     that the config is wrong and keeps both).
 */
import type { SafetensorsCheckpoint } from '@fastvlm/tensor';
import type { Qwen2Config } from './config.js';

export type LmHeadSource =
  /** tie_word_embeddings false: the checkpoint's lm_head.weight. */
  | 'untied'
  /** Tied, no lm_head.weight stored. */
  | 'tied'
  /** Tied, lm_head.weight stored as an exact copy of the embedding (ignored). */
  | 'tied-stored-copy'
  /** Tied in config.json, but the stored lm_head.weight differs from the embedding: it is the head. */
  | 'stored-differs';

/** Whether the model needs an lm_head of its own for `source`. */
export function hasOwnLmHead(source: LmHeadSource): boolean {
  return source === 'untied' || source === 'stored-differs';
}

/** One line naming the head and why, for `inspect` and load reports. */
export function describeLmHead(source: LmHeadSource): string {
  switch (source) {
    case 'untied':
      return 'lm_head.weight (tie_word_embeddings false)';
    case 'tied':
      return 'model.embed_tokens.weight (tie_word_embeddings true)';
    case 'tied-stored-copy':
      return 'model.embed_tokens.weight (tied; the stored lm_head.weight is a bit-identical copy, not loaded)';
    case 'stored-differs':
      return 'the stored lm_head.weight: tie_word_embeddings is true but it differs from the embedding, so transformers does not tie them';
  }
}

/** Byte equality, four bytes at a time where the views allow it. */
function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.byteLength !== y.byteLength) return false;
  let i = 0;
  if (x.byteOffset % 4 === 0 && y.byteOffset % 4 === 0) {
    const words = x.byteLength >>> 2;
    const a = new Uint32Array(x.buffer, x.byteOffset, words);
    const b = new Uint32Array(y.buffer, y.byteOffset, words);
    for (; i < words; i++) if (a[i] !== b[i]) return false;
    i = words * 4;
  }
  for (; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}

async function sameValues(checkpoint: SafetensorsCheckpoint, a: string, b: string): Promise<boolean> {
  const ea = checkpoint.entry(a);
  const eb = checkpoint.entry(b);
  if (ea.shape.length !== eb.shape.length || ea.shape.some((d, i) => d !== eb.shape[i])) return false;
  if (ea.dtype === eb.dtype) {
    return sameBytes(await checkpoint.read(a), await checkpoint.read(b));
  }
  const x = await checkpoint.readAsFloat32(a);
  const y = await checkpoint.readAsFloat32(b);
  return x.every((v, i) => v === y[i]);
}

/**
 * Decides the LM head for `config` from what `checkpoint` stores under `prefix` (reads both
 * matrices once when a tied config also stores lm_head.weight, to compare them).
 */
export async function lmHeadSource(
  checkpoint: SafetensorsCheckpoint,
  config: Qwen2Config,
  prefix = '',
): Promise<LmHeadSource> {
  if (!config.tieWordEmbeddings) return 'untied';
  const head = `${prefix}lm_head.weight`;
  const embed = `${prefix}model.embed_tokens.weight`;
  if (!checkpoint.has(head) || !checkpoint.has(embed)) return 'tied';
  return (await sameValues(checkpoint, embed, head)) ? 'tied-stored-copy' : 'stored-differs';
}
