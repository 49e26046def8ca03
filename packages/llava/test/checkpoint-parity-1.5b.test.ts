/**
 * FastVLM-1.5B's widths against PyTorch (tools/python/make_checkpoint_fixtures.py, variant 1.5b):
 * hidden 1536, 12 query / 2 KV heads (each KV head serves 6), head dim 128, MLP 8960, 2 decoder
 * layers, bfloat16 storage, 151646 embedding rows (a checkpoint cut to the tokenizer, as Apple's
 * loader does), Apple's llava-fastvithd folder form (vocab.json + merges.txt, no auto_map), and
 * tie_word_embeddings true with a STORED lm_head.weight that differs from the embedding: transformers
 * then uses the stored head, and so must we. Loaded f16: bfloat16 values convert to f16 exactly
 * unless below f16's normal range (6.1e-5), where f16 keeps them to 6e-8, so the end-to-end bounds
 * of tolerances.ts apply unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastVLM } from '../src/model/index.js';
import { checkParity, readCheckpointFixture, type CheckpointFixture } from './checkpoint-fixtures.js';

describe('FastVLM at FastVLM-1.5B widths (bf16, stored lm_head with tie, 151646 rows) vs PyTorch', () => {
  let model: FastVLM;
  let fixture: CheckpointFixture;
  const report: string[] = [];
  beforeAll(async () => {
    fixture = await readCheckpointFixture('1.5b');
    const started = performance.now();
    model = await FastVLM.load(fixture.modelFolder, { dtype: 'f16' });
    report.push(`load (f16): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);
  afterAll(() => {
    console.log(`FastVLM-1.5B widths:\n  ${report.join('\n  ')}`);
    model?.dispose();
  });

  it('is the 1.5B layout: GQA 6, head dim 128, 151646 rows, tied config with a stored head', () => {
    const llm = model.config.llm;
    expect([llm.hiddenSize, llm.numAttentionHeads, llm.numKeyValueHeads, llm.headDim, llm.intermediateSize]).toEqual([
      1536, 12, 2, 128, 8960,
    ]);
    expect(llm.vocabSize).toBe(151646);
    expect(llm.tieWordEmbeddings).toBe(true);
    expect(model.config.torchDtype).toBe('bfloat16');
    expect(fixture.head).toMatch(/^lm_head\.weight/);
    expect(model.llm.lmHead).toBe('stored-differs'); // as transformers: the stored head, not the embedding
    expect(model.llm.lm_head).toBeDefined();
    expect(fixture.dumps.prefill_logits.shape).toEqual([fixture.promptIds.length + 3, 151646]);
  });

  it('embeddings, logits at every position and greedy tokens as PyTorch', async () => {
    report.push(...(await checkParity(model, fixture)));
  }, 600_000);
});
