/**
 * FastVLM-7B's widths against PyTorch (tools/python/make_checkpoint_fixtures.py, variant 7b): hidden
 * 3584, 28 query / 4 KV heads (each KV head serves 7), head dim 128, MLP 18944, 2 decoder layers,
 * bfloat16 storage, an untied lm_head over 152064 rows, sharded as transformers shards (4 files and
 * model.safetensors.index.json). Loaded f16 (bfloat16 -> f16 is exact but for values below f16's
 * normal range, kept to 6e-8), so the end-to-end bounds of tolerances.ts apply unchanged.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastVLM } from '../src/model/index.js';
import { checkParity, readCheckpointFixture, type CheckpointFixture } from './checkpoint-fixtures.js';

describe('FastVLM at FastVLM-7B widths (bf16, untied head, 152064 rows, 4 shards) vs PyTorch', () => {
  let model: FastVLM;
  let fixture: CheckpointFixture;
  const report: string[] = [];
  beforeAll(async () => {
    fixture = await readCheckpointFixture('7b');
    const started = performance.now();
    model = await FastVLM.load(fixture.modelFolder, { dtype: 'f16' });
    report.push(`load (f16): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);
  afterAll(() => {
    console.log(`FastVLM-7B widths:\n  ${report.join('\n  ')}`);
    model?.dispose();
  });

  it('is the 7B layout: GQA 7 with 4 KV heads, head dim 128, 152064 rows, untied, sharded', async () => {
    const llm = model.config.llm;
    expect([llm.hiddenSize, llm.numAttentionHeads, llm.numKeyValueHeads, llm.headDim, llm.intermediateSize]).toEqual([
      3584, 28, 4, 128, 18944,
    ]);
    expect(llm.vocabSize).toBe(152064);
    expect(llm.tieWordEmbeddings).toBe(false);
    expect(model.config.torchDtype).toBe('bfloat16');
    const shards = (await readdir(fixture.modelFolder)).filter((f) => /^model-\d{5}-of-00004\.safetensors$/.test(f));
    expect(shards).toHaveLength(4);
    expect(fixture.dumps.prefill_logits.shape).toEqual([fixture.promptIds.length + 3, 152064]);
  });

  it('embeddings, logits at every position and greedy tokens as PyTorch', async () => {
    report.push(...(await checkParity(model, fixture)));
  }, 900_000);
});
