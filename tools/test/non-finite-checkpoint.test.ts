/**
 * A checkpoint holding a NaN or an infinity (a norm, a bias, the embedding, the vision tower's
 * BatchNorm) is refused by FastVLM.load naming the tensor, with every weight dtype, instead of
 * answering garbage with exit 0; through the CLI it is one line and exit 1.
 */
import { constants } from 'node:fs';
import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FastVLM } from '@fastvlm/llava';
import { NonFiniteWeightError, SafetensorsFile } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = join(ROOT, '.cache/fixtures/llava/tiny');
const IMAGE = join(ROOT, '.cache/fixtures/llava/image.png');
const F16_BITS = { NaN: 0x7e00, Infinity: 0x7c00, '-Infinity': 0xfc00 } as const;

describe('non-finite weights in a model folder', () => {
  let dir: string;
  let offsets: Map<string, number>;
  const patched: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-nonfinite-model-'));
    for (const name of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      await copyFile(join(MODEL, name), join(dir, name), constants.COPYFILE_FICLONE);
    }
    const file = await SafetensorsFile.open(join(dir, 'model.safetensors'));
    offsets = new Map(file.names().map((name) => [name, file.entry(name).fileOffset]));
    await file.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Sets F16 element `index` of `tensor` to `value`, runs `body`, and puts the original bits back. */
  async function withBadValue(tensor: string, index: number, value: keyof typeof F16_BITS, body: () => Promise<void>) {
    const at = offsets.get(tensor);
    expect(at, tensor).toBeDefined();
    patched.push((at as number) + 2 * index);
    const handle = await open(join(dir, 'model.safetensors'), 'r+');
    const original = Buffer.alloc(2);
    await handle.read(original, 0, 2, (at as number) + 2 * index);
    const bad = Buffer.alloc(2);
    bad.writeUInt16LE(F16_BITS[value]);
    await handle.write(bad, 0, 2, (at as number) + 2 * index);
    try {
      await body();
    } finally {
      await handle.write(original, 0, 2, (at as number) + 2 * index);
      await handle.close();
    }
  }

  const cases: Array<[string, number, keyof typeof F16_BITS, 'f32' | 'f16' | 'int8']> = [
    ['model.layers.0.self_attn.q_proj.bias', 17, 'Infinity', 'f16'],
    ['model.embed_tokens.weight', 64 * 1000 + 5, '-Infinity', 'int8'],
    ['model.vision_tower.vision_tower.model.network.2.0.convffn.conv.bn.running_var', 9, 'NaN', 'f16'],
  ];
  for (const [tensor, index, value, dtype] of cases) {
    it(`${value} in ${tensor.split('.').slice(-3).join('.')} is refused at load (dtype ${dtype})`, async () => {
      await withBadValue(tensor, index, value, async () => {
        const error = await FastVLM.load(dir, { dtype }).then(
          (model) => {
            model.dispose();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(NonFiniteWeightError);
        expect((error as NonFiniteWeightError).tensor).toBe(tensor);
        expect((error as Error).message).toContain(`checkpoint tensor '${tensor}': holds ${value} at element ${index}`);
      });
    });
  }

  it('the CLI reports it in one line, exit 1, before generating anything', async () => {
    await withBadValue('model.layers.1.post_attention_layernorm.weight', 0, 'NaN', async () => {
      let out = '';
      let err = '';
      const code = await runCli(['node', 'fastvlm', 'describe', IMAGE, '--model', dir, '--max-new-tokens', '2'], {
        writeOut: (text) => void (out += text),
        writeErr: (text) => void (err += text),
      });
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toMatch(
        /^error: checkpoint tensor 'model\.layers\.1\.post_attention_layernorm\.weight': holds NaN at element 0; weights must be finite \(the checkpoint is corrupt\)\n$/,
      );
    });
  });

  it("the patches were undone: every patched element is the fixture's again", async () => {
    expect(patched.length).toBe(cases.length + 1);
    const [copy, original] = await Promise.all([
      open(join(dir, 'model.safetensors')),
      open(join(MODEL, 'model.safetensors')),
    ]);
    for (const at of patched) {
      const [a, b] = [Buffer.alloc(2), Buffer.alloc(2)];
      await Promise.all([copy.read(a, 0, 2, at), original.read(b, 0, 2, at)]);
      expect(a.equals(b), `bytes at ${at}`).toBe(true);
    }
    await Promise.all([copy.close(), original.close()]);
  });
});
