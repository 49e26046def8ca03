/**
 * GPU weight memory of FastVLM-0.5B, -1.5B and -7B per weight dtype, computed from the module tree
 * that a config builds (nn's parameterBytes: the same rule the loader follows), without loading
 * anything. Each release's config is its `init-random` preset's (the widths of Apple's released
 * config.json files: Qwen2-0.5B, -1.5B, -7B).
 */
import { buildParts, parseFastVlmConfig, PART_PREFIXES } from '@fastvlm/llava';
import { parameterBytes, type WeightDType } from '@fastvlm/nn';
import { randomCheckpointConfig, type RandomPreset } from '../checkpoint/random-checkpoint.js';

/** Apple's released models and the preset (tools/src/checkpoint/presets.ts) that states each one's widths. */
export const RELEASES = {
  'FastVLM-0.5B': '0.5b',
  'FastVLM-1.5B': '1.5b',
  'FastVLM-7B': '7b',
} as const satisfies Record<string, RandomPreset>;

export type Release = keyof typeof RELEASES;

export interface WeightMemory {
  /** The decoder's and projector's parameters (embedding and LM head included). */
  llmAndProjector: number;
  /** The decoder layers' linears alone (what int4 quantizes, with the projector). */
  decoderLinears: number;
  /** Weight bytes one decode step reads: the decoder layers and the LM head (a single embedding row aside). */
  perDecodeToken: number;
  /** The vision tower in `towerDtype`. */
  tower: number;
}

/** Bytes of `release`'s weights with the decoder and projector in `dtype` and the tower in `towerDtype`. */
export function weightMemory(release: Release, dtype: WeightDType, towerDtype: WeightDType = 'f16'): WeightMemory {
  const config = parseFastVlmConfig(randomCheckpointConfig(RELEASES[release]));
  const parts = buildParts(config);
  const sum = (entries: [string, Parameters<typeof parameterBytes>[0]][], d: WeightDType): number =>
    entries.reduce((total, [, p]) => total + parameterBytes(p, d), 0);
  const llm = parts.llm.namedParameters(PART_PREFIXES.llm);
  const projector = parts.projector.namedParameters(PART_PREFIXES.projector);
  const linears = llm.filter(([name, p]) => name.includes('.layers.') && p.kind === 'matrix');
  const layers = llm.filter(([name]) => name.includes('.layers.'));
  const head = llm.filter(
    ([name]) => name === 'lm_head.weight' || (config.llm.tieWordEmbeddings && name.endsWith('embed_tokens.weight')),
  );
  return {
    llmAndProjector: sum(llm, dtype) + sum(projector, dtype),
    decoderLinears: sum(linears, dtype),
    perDecodeToken: sum(layers, dtype) + sum(head, dtype),
    tower: sum(parts.vision.namedParameters(PART_PREFIXES.vision), towerDtype),
  };
}
