/**
 * A failure never leaves state behind (#15 classes 2 and 3): aborts mid-prefill and mid-decode,
 * dispose() of the model or the chat mid-generation, a bad image in a chat's first turn, a second
 * message while one is answered, reset after a failure, non-finite values at each stage. After
 * each, the object either answers as before or says plainly that it was disposed, and
 * device.liveBytes is back where it started.
 */
import { readFile } from 'node:fs/promises';
import { ImageError } from '@fastvlm/fastvithd';
import { createDevice, DisposedError, NonFiniteActivationError, type Device } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstF32Parameter, poison } from '../../qwen2/test/poison.js';
import { ChatBusyError, FastVLM, type GenerateRequest } from '../src/model/index.js';
import { checkFixtures, IMAGE_PATH, MODEL_FOLDER } from './e2e-fixtures.js';

const TEXT: GenerateRequest = { prompt: 'Say something.', maxNewTokens: 4, stopTokenIds: [] };
/** Long enough for decode steps replayed from a recording (from the 4th on). */
const LONG_TEXT: GenerateRequest = { prompt: 'Say something.', maxNewTokens: 8, stopTokenIds: [] };
const IMAGE: GenerateRequest = { image: IMAGE_PATH, prompt: 'Describe the image.', maxNewTokens: 4, stopTokenIds: [] };

/** Calls `action` when the device starts its `n`-th readback from now (while the GPU works on it); returns the undo. */
function onReadback(device: Device, n: number, action: () => void): () => void {
  const original = device.read.bind(device);
  let count = 0;
  device.read = (ranges) => {
    const reading = original(ranges);
    if (++count === n) action();
    return reading;
  };
  return () => {
    device.read = original;
  };
}

/** Reads a stream to its end; returns the pieces and the error it ended with (undefined if none). */
async function drain(stream: AsyncGenerator<string, unknown>): Promise<{ pieces: string[]; error: unknown }> {
  const pieces: string[] = [];
  try {
    for (let step = await stream.next(); !step.done; step = await stream.next()) pieces.push(step.value);
    return { pieces, error: undefined };
  } catch (error) {
    return { pieces, error };
  }
}

// Counted by tools/setup/count-tests.mjs under its area.
describe('bad input: failures mid-generation', () => {
  describe('FastVLM and ChatSession after failures (tiny random checkpoint, f32)', () => {
    let device: Device;
    let model: FastVLM;
    let baseline: number;
    let textTokens: number[];
    let imageTokens: number[];
    let chatFirst: number[];
    beforeAll(async () => {
      checkFixtures();
      device = await createDevice();
      model = await FastVLM.load(MODEL_FOLDER, { dtype: 'f32', device });
      textTokens = (await model.generate(TEXT)).tokenIds;
      imageTokens = (await model.generate(IMAGE)).tokenIds;
      const chat = model.chat({ image: IMAGE_PATH, maxContext: 256 });
      chatFirst = (await chat.reply('Describe the image.', { maxNewTokens: 3 })).tokenIds;
      chat.dispose();
      await device.sync();
      baseline = device.liveBytes;
    });
    afterAll(() => {
      model?.dispose();
      device?.destroy();
    });

    /** The model answers as before (with the image too when `image`) and holds no more GPU memory than after loading. */
    async function expectModelWorks(image = false): Promise<void> {
      expect(device.liveBytes).toBe(baseline);
      expect((await model.generate(TEXT)).tokenIds).toEqual(textTokens);
      if (image) expect((await model.generate(IMAGE)).tokenIds).toEqual(imageTokens);
      expect(device.liveBytes).toBe(baseline);
    }

    it('an abort before work, mid-prefill (image or text) and mid-decode throws the reason; the model answers as before', async () => {
      const reason = new Error('stopped by the user');
      // before any work, then during the readback of readback n (1: the prefill's token, 3: decode step 2's)
      for (const [request, n] of [
        [IMAGE, 0],
        [IMAGE, 1],
        [TEXT, 1],
        [TEXT, 3],
        [LONG_TEXT, 7],
      ] as const) {
        const controller = new AbortController();
        if (n === 0) controller.abort(reason);
        const undo = onReadback(device, n, () => controller.abort(reason));
        try {
          const { pieces, error } = await drain(model.stream({ ...request, signal: controller.signal }));
          expect(error, `${request.image === undefined ? 'text' : 'image'}, readback ${n}`).toBe(reason);
          if (n <= 1) expect(pieces).toEqual([]);
        } finally {
          undo();
        }
        expect(device.liveBytes).toBe(baseline);
      }
      await expectModelWorks();
    }, 300_000);

    it('dispose() mid-prefill, mid-decode or between pieces ends the generation with one DisposedError; nothing is left', async () => {
      for (const moment of ['prefill', 'decode', 'replayed decode', 'between pieces'] as const) {
        const other = await FastVLM.load(MODEL_FOLDER, { dtype: 'f32', device });
        const stream = other.stream(moment === 'prefill' ? IMAGE : moment === 'replayed decode' ? LONG_TEXT : TEXT);
        let result: { pieces: string[]; error: unknown };
        if (moment === 'between pieces') {
          const first = await stream.next();
          expect(first.done).toBe(false);
          other.dispose();
          result = await drain(stream);
        } else {
          const n = { prefill: 1, decode: 3, 'replayed decode': 7 }[moment];
          const undo = onReadback(device, n, () => other.dispose());
          try {
            result = await drain(stream);
          } finally {
            undo();
          }
        }
        expect(result.error, moment).toBeInstanceOf(DisposedError);
        expect((result.error as Error).message).toBe('the FastVLM model was disposed while generating');
        expect(device.liveBytes, moment).toBe(baseline);
        await expect(other.generate(TEXT)).rejects.toThrow('the FastVLM model was used after dispose()');
      }
      await expectModelWorks();
    }, 300_000);

    it('dispose() of a model that owns its device, mid-readback: the DisposedError, not the readback failure', async () => {
      for (const n of [1, 3, 7]) {
        const owner = await FastVLM.load(MODEL_FOLDER, { dtype: 'f32' });
        const undo = onReadback(owner.device, n, () => owner.dispose());
        try {
          const { error } = await drain(owner.stream(LONG_TEXT));
          expect(error, `readback ${n}`).toBeInstanceOf(DisposedError);
          expect((error as Error).message).toBe('the FastVLM model was disposed while generating');
        } finally {
          undo();
        }
      }
    }, 300_000);

    it('a chat: dispose() mid-turn (chat or model), reset() mid-turn, a second message while one runs', async () => {
      // the chat disposed during the prefill's and a decode step's readback, and between pieces
      for (const n of [1, 3, 0]) {
        const chat = model.chat({ image: n === 1 ? IMAGE_PATH : undefined, maxContext: 256 });
        const stream = chat.send('Describe the image.', { maxNewTokens: 8 });
        let result: { pieces: string[]; error: unknown };
        if (n === 0) {
          await stream.next();
          chat.dispose();
          result = await drain(stream);
        } else {
          const undo = onReadback(device, n, () => chat.dispose());
          try {
            result = await drain(stream);
          } finally {
            undo();
          }
        }
        expect((result.error as Error).message, `readback ${n}`).toBe('the chat session was disposed while generating');
        expect(device.liveBytes).toBe(baseline);
        await expect(chat.reply('Hello.')).rejects.toThrow(DisposedError);
        expect(() => chat.reset()).toThrow(DisposedError);
      }

      // the model disposed under a chat's turn
      const other = await FastVLM.load(MODEL_FOLDER, { dtype: 'f32', device });
      const orphan = other.chat({ maxContext: 128 });
      const undo = onReadback(device, 2, () => other.dispose());
      try {
        const { error } = await drain(orphan.send('Hello.', { maxNewTokens: 6 }));
        expect((error as Error).message).toBe('the FastVLM model was disposed while generating');
      } finally {
        undo();
      }
      await expect(orphan.reply('Again.', { maxNewTokens: 2 })).rejects.toThrow(
        'the FastVLM model was used after dispose()',
      );
      orphan.dispose();
      expect(device.liveBytes).toBe(baseline);

      // a second message while the first is answered is refused; the first goes on; reset() ends it
      const chat = model.chat({ image: IMAGE_PATH, maxContext: 256 });
      try {
        const first = chat.send('Describe the image.', { maxNewTokens: 3 });
        expect((await first.next()).done).toBe(false);
        await expect(chat.send('Second.').next()).rejects.toThrow(ChatBusyError);
        await expect(chat.reply('Third.')).rejects.toThrow(/still answering the previous message/);
        const rest = await drain(first);
        expect(rest.error).toBeUndefined();
        expect((await chat.reply('More.', { maxNewTokens: 2 })).tokenIds).toHaveLength(2);

        chat.reset();
        const running = chat.send('Describe the image.', { maxNewTokens: 6 });
        await running.next();
        chat.reset();
        const { error } = await drain(running);
        expect(error).toBeInstanceOf(ChatBusyError);
        expect((error as Error).message).toBe('the chat was reset while answering');
        expect(chat.position).toBe(0);
        expect((await chat.reply('Describe the image.', { maxNewTokens: 3 })).tokenIds).toEqual(chatFirst);
      } finally {
        chat.dispose();
      }
      await expectModelWorks();
    }, 300_000);

    it('a chat whose first turn fails on a bad image is not left busy, before or after reset()', async () => {
      const bytes = await readFile(IMAGE_PATH);
      for (const image of [
        bytes.subarray(0, 200),
        new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
        '/nonexistent/photo.png',
      ]) {
        const chat = model.chat({ image, maxContext: 256 });
        try {
          const turn = { maxNewTokens: 4 };
          await expect(chat.reply('Describe the image.', turn)).rejects.toThrow(ImageError);
          await expect(chat.reply('Describe the image.', turn)).rejects.toThrow(ImageError); // not "busy"
          chat.reset();
          await expect(chat.reply('Describe the image.', turn)).rejects.toThrow(ImageError);
          expect(chat.position).toBe(0);
        } finally {
          chat.dispose();
        }
      }
      // a good chat right after, on the same model
      const chat = model.chat({ image: IMAGE_PATH, maxContext: 256 });
      try {
        expect((await chat.reply('Describe the image.', { maxNewTokens: 3 })).tokenIds).toEqual(chatFirst);
      } finally {
        chat.dispose();
      }
      await expectModelWorks();
    }, 300_000);

    it('non-finite values stop generation naming the stage: vision tower, projector, prefill, decode step N', async () => {
      const stageOf = async (request: GenerateRequest): Promise<string> => {
        const { error } = await drain(model.stream(request));
        expect(error).toBeInstanceOf(NonFiniteActivationError);
        return (error as NonFiniteActivationError).stage;
      };
      const [visionName, vision] = firstF32Parameter(model.vision.namedParameters());
      const [projectorName, projector] = firstF32Parameter(model.projector.namedParameters());
      const llmNorm = model.llm.model.layers[0].input_layernorm.weight;
      for (const value of [NaN, Infinity]) {
        const cases = [
          [vision, IMAGE, 'vision tower'],
          [projector, IMAGE, 'projector'],
          [llmNorm, IMAGE, 'prefill'],
          [llmNorm, TEXT, 'prefill'],
          [llmNorm, { ...TEXT, temperature: 0.9, seed: 4 }, 'prefill'],
        ] as const;
        // NaN at every stage; an infinity where it is cheap (no image)
        for (const [parameter, request, stage] of Number.isNaN(value) ? cases : cases.slice(3)) {
          const restore = poison(parameter, value);
          try {
            expect(
              await stageOf(request),
              `${value} in ${parameter === vision ? visionName : parameter === projector ? projectorName : 'layer 0 input_layernorm'}`,
            ).toBe(stage);
          } finally {
            restore();
          }
        }
        // poisoned while readback n is under way: decode step n (the step that reads it first) is named
        for (const n of [1, 3, 6]) {
          let restore = (): void => {};
          const undo = onReadback(device, n, () => (restore = poison(model.llm.model.norm.weight, value)));
          try {
            expect(await stageOf(LONG_TEXT)).toBe(`decode step ${n}`);
          } finally {
            undo();
            restore();
          }
        }
      }
      await expectModelWorks();

      // in a chat: the failed turn leaves the conversation as it was; the next turn answers as before
      const chat = model.chat({ maxContext: 256 });
      try {
        await chat.reply('Hello.', { maxNewTokens: 3 });
        const position = chat.position;
        const restore = poison(llmNorm);
        try {
          await expect(chat.reply('More.', { maxNewTokens: 3 })).rejects.toThrow(
            /the prefill produced values that are not finite/,
          );
        } finally {
          restore();
        }
        expect(chat.position).toBe(position);
        const again = model.chat({ maxContext: 256 });
        try {
          await again.reply('Hello.', { maxNewTokens: 3 });
          expect((await chat.reply('More.', { maxNewTokens: 3 })).tokenIds).toEqual(
            (await again.reply('More.', { maxNewTokens: 3 })).tokenIds,
          );
        } finally {
          again.dispose();
        }
      } finally {
        chat.dispose();
      }
      await expectModelWorks(true);
    }, 300_000);
  });
});
