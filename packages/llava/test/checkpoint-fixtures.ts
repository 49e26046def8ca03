/**
 * The wide-model fixtures of tools/python/make_checkpoint_fixtures.py: per variant (`1.5b`, `7b`) a
 * random model folder of FastVLM-1.5B's or -7B's widths (2 decoder layers, bfloat16, the tower at
 * 128 px: 4 image tokens), the test image and PyTorch's float32 dumps on the stored weights.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { SafetensorsFile } from '@fastvlm/tensor';
import { dumpPipeline, FastVLM } from '../src/model/index.js';
import { compareDump } from './e2e-fixtures.js';
import { E2E_TOLERANCE, type DumpTolerance } from './tolerances.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export type CheckpointVariant = '1.5b' | '7b';

export const CHECKPOINT_DUMPS = ['image_embeds', 'inputs_embeds', 'prefill_logits'] as const;
type CheckpointDump = (typeof CHECKPOINT_DUMPS)[number];

const TOLERANCES: Record<CheckpointDump, DumpTolerance> = {
  image_embeds: E2E_TOLERANCE.embeds,
  inputs_embeds: E2E_TOLERANCE.embeds,
  prefill_logits: E2E_TOLERANCE.logits,
};

export interface CheckpointFixture {
  folder: string;
  modelFolder: string;
  imagePath: string;
  promptIds: number[];
  dumps: Record<CheckpointDump, { data: Float32Array; shape: number[] }>;
  greedyIds: number[];
  greedyGaps: Float32Array;
  /** Which matrix PyTorch (transformers' rule) used as the LM head. */
  head: string;
}

export async function readCheckpointFixture(variant: CheckpointVariant): Promise<CheckpointFixture> {
  const folder = join(ROOT, '.cache/fixtures/checkpoints', variant);
  const path = join(folder, 'reference.safetensors');
  if (!existsSync(path)) {
    throw new Error(
      `fixtures ${folder} are missing: run '.venv/bin/python tools/python/make_checkpoint_fixtures.py --out .cache/fixtures --only ${variant}'`,
    );
  }
  const file = await SafetensorsFile.open(path);
  try {
    const ids = async (name: string): Promise<number[]> => {
      const bytes = await file.read(name);
      return [...new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
    };
    const dumps = {} as CheckpointFixture['dumps'];
    for (const name of CHECKPOINT_DUMPS)
      dumps[name] = { data: await file.readAsFloat32(name), shape: [...file.entry(name).shape] };
    return {
      folder,
      modelFolder: join(folder, 'model'),
      imagePath: join(folder, 'image.png'),
      promptIds: await ids('prompt_ids'),
      dumps,
      greedyIds: await ids('greedy_ids'),
      greedyGaps: await file.readAsFloat32('greedy_gaps'),
      head: file.metadata.head ?? '(not recorded)',
    };
  } finally {
    await file.close();
  }
}

/**
 * The checks every variant gets: the three dumps within the end-to-end tolerances, the reference's
 * greedy steps decisive against those tolerances, and the greedy tokens identical. Returns report lines.
 */
export async function checkParity(model: FastVLM, fixture: CheckpointFixture): Promise<string[]> {
  const report: string[] = [];
  const dump = await dumpPipeline(model, await readFile(fixture.imagePath), 'Describe the image.');
  expect(dump.promptTokenIds).toEqual(fixture.promptIds);
  for (const name of CHECKPOINT_DUMPS) {
    expect(dump[name].shape, name).toEqual(fixture.dumps[name].shape);
    const error = compareDump(dump[name].data, fixture.dumps[name].data, TOLERANCES[name]);
    report.push(
      `${name} ${dump[name].shape.join('x')}: max error / max |ref| ${error.relativeToMax.toExponential(2)} (atol bound ${TOLERANCES[name].atol})`,
    );
    expect(error.passes, `${name}: needs atol ${error.neededAtol}`).toBe(true);
  }

  let max = 0;
  for (const v of fixture.dumps.prefill_logits.data) max = Math.max(max, Math.abs(v));
  const smallestGap = Math.min(...fixture.greedyGaps);
  const bound = (E2E_TOLERANCE.logits.atol + E2E_TOLERANCE.logits.rtol) * max;
  report.push(
    `smallest reference top-1 - top-2 gap ${smallestGap.toExponential(2)} = ${(smallestGap / (2 * bound)).toFixed(1)} x twice the logits' bound`,
  );
  expect(smallestGap).toBeGreaterThan(2 * bound);

  const result = await model.generate({
    image: fixture.imagePath,
    prompt: 'Describe the image.',
    maxNewTokens: fixture.greedyIds.length,
  });
  expect(result.tokenIds).toEqual(fixture.greedyIds);
  report.push(`greedy: ${result.tokenIds.length} tokens identical to PyTorch's`);
  return report;
}
