import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpPipeline, encodePrompt, FastVLM, IMAGE_TOKEN_INDEX } from '../src/model/index.js';
import {
  compareDump,
  DUMP_NAMES,
  IMAGE_PATH,
  MODEL_FOLDER,
  readE2eReference,
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

describe('FastVLM (tiny random checkpoint, f32) vs the float64 PyTorch reference', () => {
  let model: FastVLM;
  let reference: E2eReference;
  const report: string[] = [];
  beforeAll(async () => {
    reference = await readE2eReference();
    const started = performance.now();
    model = await FastVLM.load(MODEL_FOLDER, { dtype: 'f32' });
    report.push(`load (f32): ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
  afterAll(() => {
    console.log(`FastVLM end to end:\n  ${report.join('\n  ')}`);
    model?.dispose();
  });

  it("builds the spec's prompt ids for 'Describe the image.' (text around <image> tokenized separately)", () => {
    const ids = encodePrompt(model.tokenizer, 'Describe the image.', { image: true });
    expect(ids).toEqual(reference.promptIds);
    expect(ids.filter((id) => id === IMAGE_TOKEN_INDEX)).toHaveLength(1);
  });

  it('pixels, vision features, image embeddings, inputs embeddings and prefill logits at every position', async () => {
    const started = performance.now();
    const dump = await dumpPipeline(model, await readFile(IMAGE_PATH), 'Describe the image.');
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

  it('the first 32 greedy tokens are the reference ones', async () => {
    const result = await model.generate({
      image: IMAGE_PATH,
      prompt: 'Describe the image.',
      maxNewTokens: 32,
      profile: true,
    });
    const t = result.timings;
    report.push(
      `generate 32 tokens: preprocess ${t.preprocessMs.toFixed(0)} ms, vision ${t.visionMs?.toFixed(0)} ms, projector ${t.projectorMs?.toFixed(0)} ms, ` +
        `prefill ${t.prefillMs?.toFixed(0)} ms, ttft ${t.ttftMs?.toFixed(0)} ms, decode ${t.decodeTokensPerSecond?.toFixed(1)} tok/s`,
    );
    report.push(`smallest reference top-1 - top-2 gap: ${Math.min(...reference.greedyGaps).toExponential(2)}`);
    expect(result.promptTokenIds).toEqual(reference.promptIds);
    expect(result.tokenIds).toEqual(reference.greedyIds);
    expect(result.finishReason).toBe('max-tokens');
    expect(result.text).toBe(model.tokenizer.decode(reference.greedyIds, { skipSpecial: true }));
  });

  it('streaming yields the same text as generate, unprofiled', async () => {
    const stream = model.stream({ image: IMAGE_PATH, prompt: 'Describe the image.', maxNewTokens: 8 });
    let streamed = '';
    let step = await stream.next();
    while (!step.done) {
      streamed += step.value;
      step = await stream.next();
    }
    expect(step.value.tokenIds).toEqual(reference.greedyIds.slice(0, 8));
    expect(streamed).toBe(step.value.text);
    expect(step.value.timings.visionMs).toBeNull();
    expect(step.value.timings.ttftMs).toBeGreaterThan(0);
  });
});
