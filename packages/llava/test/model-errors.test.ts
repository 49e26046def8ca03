import { readFile, rm } from 'node:fs/promises';
import { ImageError } from '@fastvlm/fastvithd';
import { GenerationError } from '@fastvlm/qwen2';
import { CheckpointError, createDevice, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastVLM, LoadOptionsError, ModelFolderError, PromptError, type GenerateRequest } from '../src/model/index.js';
import { folderWithConfig, folderWithoutATensor } from './broken-folders.js';
import { checkFixtures, IMAGE_PATH, MODEL_FOLDER } from './e2e-fixtures.js';

const TEXT_REQUEST: GenerateRequest = { prompt: 'Say something.', maxNewTokens: 3 };

describe('FastVLM: bad inputs are typed errors, and the model keeps working (f16 weights)', () => {
  let device: Device;
  let model: FastVLM;
  let baseline: number;
  let expectedTokens: number[];
  const report: string[] = [];
  const folders: string[] = [];
  beforeAll(async () => {
    checkFixtures();
    device = await createDevice();
    model = await FastVLM.load(MODEL_FOLDER, { dtype: 'f16', device });
    expectedTokens = (await model.generate(TEXT_REQUEST)).tokenIds;
    await device.sync();
    baseline = device.liveBytes;
  });
  afterAll(async () => {
    console.log(`FastVLM errors and reuse:\n  ${report.join('\n  ')}`);
    model?.dispose();
    device?.destroy();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  /** The model answers a plain request as before and holds no more GPU memory than after loading. */
  async function expectStillWorks(): Promise<void> {
    expect((await model.generate(TEXT_REQUEST)).tokenIds).toEqual(expectedTokens);
    expect(device.liveBytes).toBe(baseline);
  }

  it('a missing folder is a ModelFolderError', async () => {
    await expect(FastVLM.load('/nonexistent/fastvlm-model', { device })).rejects.toThrow(ModelFolderError);
    await expectStillWorks();
  });

  it('a folder whose checkpoint lacks a tensor is a CheckpointError naming it; nothing stays allocated', async () => {
    const { folder, removed } = await folderWithoutATensor(MODEL_FOLDER);
    folders.push(folder);
    const error = await FastVLM.load(folder, { dtype: 'f16', device }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).tensor).toBe(removed);
    report.push(`removed tensor: ${(error as Error).message}`);
    await expectStillWorks();
  });

  it('a config.json disagreeing with the tensor shapes is a CheckpointError', async () => {
    const folder = await folderWithConfig(MODEL_FOLDER, (config) => {
      config.intermediate_size = 256;
    });
    folders.push(folder);
    await expect(FastVLM.load(folder, { dtype: 'f16', device })).rejects.toThrow(CheckpointError);
    await expectStillWorks();
  });

  it('an unknown weight dtype is a LoadOptionsError naming the option', async () => {
    await expect(FastVLM.load(MODEL_FOLDER, { dtype: 'int2' as 'int8', device })).rejects.toThrow(
      /dtype must be 'f32', 'f16', 'int8', 'int4', got "int2"/,
    );
    // int4 is for the decoder and projector only
    await expect(FastVLM.load(MODEL_FOLDER, { visionDtype: 'int4' as 'int8', device })).rejects.toThrow(
      /visionDtype must be 'f32', 'f16', 'int8', got "int4"/,
    );
    await expect(FastVLM.load(MODEL_FOLDER, { visionDtype: 'bf16' as 'f16', device })).rejects.toThrow(
      LoadOptionsError,
    );
    await expect(FastVLM.load(MODEL_FOLDER, { warmPipelines: 'yes' as unknown as boolean, device })).rejects.toThrow(
      /warmPipelines must be true or false, got "yes"/,
    );
    await expectStillWorks();
  });

  it('a corrupt image is an ImageError', async () => {
    const bytes = await readFile(IMAGE_PATH);
    await expect(model.generate({ ...TEXT_REQUEST, image: bytes.subarray(0, 200) })).rejects.toThrow(ImageError);
    await expect(
      model.generate({ ...TEXT_REQUEST, image: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) }),
    ).rejects.toThrow(ImageError);
    await expectStillWorks();
  });

  it('an empty prompt is a PromptError', async () => {
    await expect(model.generate({ ...TEXT_REQUEST, prompt: '' })).rejects.toThrow(PromptError);
    await expect(model.generate({ ...TEXT_REQUEST, prompt: '  \n ', image: IMAGE_PATH })).rejects.toThrow(PromptError);
    await expect(model.generate({ ...TEXT_REQUEST, prompt: [] })).rejects.toThrow(PromptError);
    await expectStillWorks();
  });

  it('a prompt over the context length, or too many new tokens, is a GenerationError before any GPU work', async () => {
    const { dispatches } = device.stats;
    const long = 'hello '.repeat(model.config.llm.maxPositionEmbeddings + 10);
    await expect(model.generate({ ...TEXT_REQUEST, prompt: long, image: IMAGE_PATH })).rejects.toThrow(GenerationError);
    await expect(
      model.generate({ ...TEXT_REQUEST, maxNewTokens: model.config.llm.maxPositionEmbeddings }),
    ).rejects.toThrow(GenerationError);
    expect(device.stats.dispatches).toBe(dispatches);
    await expectStillWorks();
  });

  it('maxNewTokens <= 0 (or not an integer) is a GenerationError', async () => {
    for (const maxNewTokens of [0, -1, 1.5])
      await expect(model.generate({ ...TEXT_REQUEST, maxNewTokens })).rejects.toThrow(GenerationError);
    await expectStillWorks();
  });

  it('stopTokenIds: [] decodes exactly maxNewTokens; a bad stop id is a GenerationError', async () => {
    const free = await model.generate({ ...TEXT_REQUEST, maxNewTokens: 6, stopTokenIds: [] });
    expect(free.tokenIds).toHaveLength(6);
    expect(free.finishReason).toBe('max-tokens');
    // stopping on the first token produced: nothing is emitted
    const first = free.tokenIds[0];
    const stopped = await model.generate({ ...TEXT_REQUEST, maxNewTokens: 6, stopTokenIds: [first] });
    expect(stopped.tokenIds).toEqual([]);
    expect(stopped.finishReason).toBe('stop-token');
    for (const bad of [-1, 1.5])
      await expect(model.generate({ ...TEXT_REQUEST, stopTokenIds: [bad] })).rejects.toThrow(GenerationError);
    await expectStillWorks();
  });

  it('an aborted request throws the reason and frees what it held', async () => {
    const controller = new AbortController();
    const stream = model.stream({
      image: IMAGE_PATH,
      prompt: 'Describe the image.',
      maxNewTokens: 20,
      signal: controller.signal,
    });
    await stream.next();
    controller.abort(new Error('stop now'));
    await expect(stream.next()).rejects.toThrow('stop now');
    await expectStillWorks();
  });

  it('20 consecutive requests (an image every 5th) leave device.liveBytes where it was', async () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      const request: GenerateRequest =
        i % 5 === 0
          ? { image: IMAGE_PATH, prompt: 'Describe the image.', maxNewTokens: 3 }
          : { ...TEXT_REQUEST, temperature: 0.7, seed: i };
      const result = await model.generate(request);
      expect(result.tokenIds.length).toBeGreaterThan(0);
      expect(device.liveBytes, `live bytes after request ${i}`).toBe(baseline);
    }
    report.push(`20 requests: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  for (const visionDtype of ['f16', 'int8'] as const) {
    it(`int8 weights (vision tower ${visionDtype}) load and answer (no parity bound here: quantisation noise, see bench:int8)`, async () => {
      const int8 = await FastVLM.load(MODEL_FOLDER, { dtype: 'int8', visionDtype, device });
      try {
        expect(int8.visionDtype).toBe(visionDtype);
        const result = await int8.generate({
          image: IMAGE_PATH,
          prompt: 'Describe the image.',
          maxNewTokens: 4,
          stopTokenIds: [],
        });
        expect(result.tokenIds).toHaveLength(4);
        report.push(
          `int8 (vision ${visionDtype}): ${JSON.stringify(result.tokenIds)}, ttft ${result.timings.ttftMs?.toFixed(0)} ms`,
        );
      } finally {
        int8.dispose();
      }
      expect(device.liveBytes).toBe(baseline);
    });
  }
});
