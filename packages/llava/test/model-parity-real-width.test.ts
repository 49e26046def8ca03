/**
 * End-to-end parity at the real widths: FastViTHD's (at 256 px, 16 image tokens), 2 Qwen2-0.5B layers
 * of the real width (hidden 896, 14 query / 2 KV heads, intermediate 4864) and the real 151936-row
 * vocabulary, random weights stored float16, loaded f32, against the float64 PyTorch reference
 * (.cache/fixtures/llava-real/, tools/python/make_llava_fixtures.py).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpPipeline, encodePrompt, FastVLM, IMAGE_TOKEN_INDEX } from '../src/model/index.js';
import {
  compareDump,
  DUMP_NAMES,
  readE2eReference,
  REAL_WIDTH_FIXTURES,
  REAL_WIDTH_IMAGE_PATH,
  REAL_WIDTH_MODEL_FOLDER,
  type DumpName,
  type E2eReference,
} from './e2e-fixtures.js';
import { E2E_TOLERANCE, type DumpTolerance } from './tolerances.js';

const TOLERANCES: Record<DumpName, DumpTolerance> = {
  pixel_values: E2E_TOLERANCE.pixels,
  vision_features: E2E_TOLERANCE.features,
  image_embeds: E2E_TOLERANCE.embeds,
  inputs_embeds: E2E_TOLERANCE.embeds,
  prefill_logits: E2E_TOLERANCE.logits,
};
const GREEDY_TOKENS = 32;

describe('FastVLM (real widths, 2 Qwen2 layers, random checkpoint, f32) vs the float64 PyTorch reference', () => {
  let model: FastVLM;
  let reference: E2eReference;
  const report: string[] = [];
  beforeAll(async () => {
    reference = await readE2eReference(REAL_WIDTH_FIXTURES);
    const started = performance.now();
    model = await FastVLM.load(REAL_WIDTH_MODEL_FOLDER, { dtype: 'f32' });
    report.push(`load (f32): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
  afterAll(() => {
    console.log(`FastVLM end to end, real widths:\n  ${report.join('\n  ')}`);
    model?.dispose();
  });

  it('has the real widths', () => {
    expect(reference.dumps.vision_features.shape).toEqual([16, 3072]);
    expect(reference.dumps.image_embeds.shape).toEqual([16, 896]);
    expect(reference.dumps.prefill_logits.shape).toEqual([reference.promptIds.length + 15, 151936]);
  });

  it("builds the spec's prompt ids for 'Describe the image.'", () => {
    const ids = encodePrompt(model.tokenizer, 'Describe the image.', { image: true });
    expect(ids).toEqual(reference.promptIds);
    expect(ids.filter((id) => id === IMAGE_TOKEN_INDEX)).toHaveLength(1);
  });

  it('pixels, vision features, image embeddings, inputs embeddings and prefill logits at every position', async () => {
    const started = performance.now();
    const dump = await dumpPipeline(model, await readFile(REAL_WIDTH_IMAGE_PATH), 'Describe the image.');
    report.push(`dump pipeline: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(dump.promptTokenIds).toEqual(reference.promptIds);
    for (const name of DUMP_NAMES) {
      expect(dump[name].shape, name).toEqual(reference.dumps[name].shape);
      const error = compareDump(dump[name].data, reference.dumps[name].data, TOLERANCES[name]);
      report.push(
        `${name} ${dump[name].shape.join('x')}: max error / max |ref| ${error.relativeToMax.toExponential(2)}, needs atol ${error.neededAtol.toExponential(2)} (bound ${TOLERANCES[name].atol})`,
      );
      expect(error.passes, `${name}: needs atol ${error.neededAtol}`).toBe(true);
    }
  });

  it("the reference's greedy steps are decisive: every top-1 minus top-2 gap is far above the logits' tolerance", () => {
    const logits = reference.dumps.prefill_logits.data;
    let max = 0;
    for (const v of logits) max = Math.max(max, Math.abs(v));
    const smallestGap = Math.min(...reference.greedyGaps);
    report.push(
      `smallest reference top-1 - top-2 gap: ${smallestGap.toExponential(2)} (${(smallestGap / max).toExponential(2)} of max |logit|)`,
    );
    expect(reference.greedyGaps).toHaveLength(GREEDY_TOKENS);
    // Two logits each within the logits' bound (atol * max + rtol * |v| <= (atol + rtol) * max) of
    // the reference cannot swap places unless their gap is below twice that bound.
    const bound = (E2E_TOLERANCE.logits.atol + E2E_TOLERANCE.logits.rtol) * max;
    report.push(`smallest gap / (2 x the logits' bound): ${(smallestGap / (2 * bound)).toFixed(1)}`);
    expect(smallestGap).toBeGreaterThan(2 * bound);
  });

  it(`the first ${GREEDY_TOKENS} greedy tokens are the reference ones`, async () => {
    const result = await model.generate({
      image: REAL_WIDTH_IMAGE_PATH,
      prompt: 'Describe the image.',
      maxNewTokens: GREEDY_TOKENS,
      profile: true,
    });
    const t = result.timings;
    report.push(
      `generate ${GREEDY_TOKENS} tokens: preprocess ${t.preprocessMs.toFixed(0)} ms, vision ${t.visionMs?.toFixed(0)} ms, projector ${t.projectorMs?.toFixed(0)} ms, ` +
        `prefill ${t.prefillMs?.toFixed(0)} ms, ttft ${t.ttftMs?.toFixed(0)} ms, decode ${t.decodeTokensPerSecond?.toFixed(1)} tok/s`,
    );
    expect(result.promptTokenIds).toEqual(reference.promptIds);
    expect(result.tokenIds).toEqual(reference.greedyIds);
    expect(result.finishReason).toBe('max-tokens');
    expect(result.text).toBe(model.tokenizer.decode(reference.greedyIds, { skipSpecial: true }));
  });
});
