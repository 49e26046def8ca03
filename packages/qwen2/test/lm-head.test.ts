/**
 * The LM head as transformers picks it (lm-head.ts), on the tiny fixtures of make_qwen2_fixtures.py:
 * a tied config whose checkpoint also stores lm_head.weight is tied when the copy is bit-identical
 * (tiny-f32 plus a copy: its tied reference logits), and uses the stored head when it differs
 * (tiny-untied with tie_word_embeddings set true: still its untied reference logits, as transformers
 * 5.18 computes them, tools/python/tests/test_reference.py).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDevice,
  SafetensorsCheckpoint,
  SafetensorsFile,
  type Device,
  type SafetensorsDType,
} from '@fastvlm/tensor';
import { writeSafetensors } from '@fastvlm/tensor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLmHead, lmHeadSource, loadQwen2, readQwen2Config, type LmHeadSource } from '../src/index.js';
import { expectLogitsClose, promptLogits, readReference, variantFolder } from './model-fixtures.js';
import { MODEL_TOLERANCE } from './model-tolerances.js';

/** A copy of fixture `variant` with `tie` in config.json and lm_head.weight set by `head` (null: none). */
async function variantCopy(
  dir: string,
  variant: string,
  tie: boolean,
  head: (tensors: Map<string, Uint8Array>) => Uint8Array | null,
): Promise<string> {
  const source = variantFolder(variant);
  const config = JSON.parse(await readFile(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  const folder = await mkdtemp(join(dir, `${variant}-`));
  await writeFile(join(folder, 'config.json'), JSON.stringify({ ...config, tie_word_embeddings: tie }));
  const file = await SafetensorsFile.open(join(source, 'model.safetensors'));
  const tensors: Record<string, { dtype: SafetensorsDType; shape: number[]; data: Uint8Array }> = {};
  const raw = new Map<string, Uint8Array>();
  try {
    for (const name of file.names()) {
      const data = await file.read(name);
      raw.set(name, data);
      tensors[name] = { dtype: file.entry(name).dtype, shape: [...file.entry(name).shape], data };
    }
  } finally {
    await file.close();
  }
  const stored = head(raw);
  const embed = tensors['model.embed_tokens.weight'];
  if (stored === null) delete tensors['lm_head.weight'];
  else tensors['lm_head.weight'] = { ...embed, data: stored };
  await writeSafetensors(join(folder, 'model.safetensors'), tensors);
  return folder;
}

async function sourceOf(folder: string): Promise<LmHeadSource> {
  const checkpoint = await SafetensorsCheckpoint.open(folder);
  try {
    return await lmHeadSource(checkpoint, await readQwen2Config(folder));
  } finally {
    await checkpoint.close();
  }
}

describe('the LM head of a tied config that stores lm_head.weight: what transformers uses', () => {
  let device: Device;
  let dir: string;
  beforeAll(async () => {
    device = await createDevice();
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-lm-head-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    device.destroy();
  });

  it('a bit-identical copy: tied, the copy is not loaded, logits are the tied reference', async () => {
    const folder = await variantCopy(dir, 'tiny-f32', true, (t) => t.get('model.embed_tokens.weight')!.slice());
    expect(await sourceOf(folder)).toBe('tied-stored-copy');
    const model = await loadQwen2(device, folder, { dtype: 'f32' });
    try {
      expect(model.lm_head).toBeUndefined();
      const reference = await readReference('tiny-f32');
      expectLogitsClose(
        await promptLogits(model, reference.promptIds),
        reference.logits,
        MODEL_TOLERANCE.f32Logits,
        'copy',
      );
    } finally {
      model.dispose();
    }
  });

  it('a different head: not tied, the stored head is used, logits are the untied reference', async () => {
    const folder = await variantCopy(dir, 'tiny-untied', true, (t) => t.get('lm_head.weight')!);
    expect(await sourceOf(folder)).toBe('stored-differs');
    const model = await loadQwen2(device, folder, { dtype: 'f32' });
    try {
      expect(model.lm_head).toBeDefined();
      const reference = await readReference('tiny-untied');
      expectLogitsClose(
        await promptLogits(model, reference.promptIds),
        reference.logits,
        MODEL_TOLERANCE.f32Logits,
        'differs',
      );
    } finally {
      model.dispose();
    }
  });

  it('one differing value is enough to untie; no stored head, or an untied config, is decided by the config', async () => {
    const oneOff = await variantCopy(dir, 'tiny-f32', true, (t) => {
      const copy = t.get('model.embed_tokens.weight')!.slice();
      copy[copy.length - 1] ^= 1; // the last mantissa bit of the last value
      return copy;
    });
    expect(await sourceOf(oneOff)).toBe('stored-differs');
    expect(await sourceOf(await variantCopy(dir, 'tiny-f32', true, () => null))).toBe('tied');
    expect(await sourceOf(variantFolder('tiny-untied'))).toBe('untied');
    for (const source of ['untied', 'tied', 'tied-stored-copy', 'stored-differs'] as const)
      expect(describeLmHead(source)).toMatch(/lm_head|embed_tokens/);
  });
});
