/**
 * A tiny random checkpoint written by TypeScript: Apple's layout, the Python reference's init
 * rules, loadable by our PyTorch reference (strict names), with a working Qwen2 tokenizer.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkpointLayout, expectedTensors, parseFastVlmConfig, type LayoutTensor } from '@fastvlm/llava';
import { Tokenizer } from '@fastvlm/qwen2';
import { SafetensorsCheckpoint } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModelFolder } from '../src/checkpoint/inspect.js';
import {
  writeRandomCheckpoint,
  type RandomCheckpointResult,
  type WriteProgress,
} from '../src/checkpoint/random-checkpoint.js';
import { fillRandom, initRule } from '../src/checkpoint/random-init.js';
import { RandomStream } from '../src/checkpoint/random-stream.js';
import { randomCheckpointConfig } from '../src/checkpoint/random-checkpoint.js';

const tinyLayout = (): LayoutTensor[] => checkpointLayout(parseFastVlmConfig(randomCheckpointConfig('tiny')));

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = join(REPO_ROOT, '.venv/bin/python');
const TOWER = 'model.vision_tower.vision_tower.model.';

// Spec section 5: the FastVLM prompt on either side of <image>, and its ids.
const PROMPT_PIECES: [string, number[]][] = [
  [
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n',
    [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198],
  ],
  [
    '\nDescribe the image.<|im_end|>\n<|im_start|>assistant\n',
    [198, 74785, 279, 2168, 13, 151645, 198, 151644, 77091, 198],
  ],
];

function stats(values: Float32Array): { min: number; max: number; mean: number; std: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(squares / values.length) };
}

describe('tiny random checkpoint', () => {
  let dir: string;
  let result: RandomCheckpointResult;
  const progress: WriteProgress[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-random-'));
    result = await writeRandomCheckpoint(dir, { preset: 'tiny', seed: 7, onProgress: (p) => progress.push(p) });
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("is written in Apple's layout, tensor by tensor with progress", async () => {
    expect(result.files).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(result.config).toMatchObject({
      imageSize: 256,
      imageTokens: 16,
      llm: { hiddenSize: 64, numHiddenLayers: 2, vocabSize: 151936 },
    });
    expect(progress).toHaveLength(result.tensorCount);
    expect(progress.at(-1)).toMatchObject({
      tensorsDone: result.tensorCount,
      bytesDone: result.fileBytes,
      bytesTotal: result.fileBytes,
    });
    const checkpoint = await SafetensorsCheckpoint.open(dir);
    try {
      expect(checkpoint.metadata).toEqual({ format: 'pt' });
      expect(checkpoint.files[0].size).toBe(result.fileBytes);
      const stored = checkpoint.names().map((name) => {
        const { dtype, shape, fileOffset } = checkpoint.entry(name);
        if (dtype === 'I64') expect(fileOffset % 8).toBe(0);
        return { name, dtype, shape };
      });
      const expected = expectedTensors(result.config).map(({ name, shape, dtype }) => ({ name, shape, dtype }));
      const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
      expect(stored.sort(byName)).toEqual(expected.sort(byName));
    } finally {
      await checkpoint.close();
    }
    const report = await inspectModelFolder(dir);
    expect(report.complete).toBe(true);
    expect(report.tokenizerUsable).toBe(true);
    expect(report.notes).toEqual([]);
  });

  it("draws each tensor by the Python reference's init rules", async () => {
    const checkpoint = await SafetensorsCheckpoint.open(dir);
    try {
      const read = (name: string): Promise<Float32Array> => checkpoint.readAsFloat32(name);
      const within = async (name: string, low: number, high: number): Promise<void> => {
        const s = stats(await read(name));
        expect(s.min, name).toBeGreaterThanOrEqual(low);
        expect(s.max, name).toBeLessThanOrEqual(high);
        expect(s.max - s.min, name).toBeGreaterThan((high - low) / 2);
      };
      const normal = async (name: string, std: number, mean = 0): Promise<void> => {
        const s = stats(await read(name));
        expect(Math.abs(s.mean - mean), name).toBeLessThan(0.1 * std + 1e-3);
        expect(s.std / std, name).toBeGreaterThan(0.93);
        expect(s.std / std, name).toBeLessThan(1.07);
      };
      const block = `${TOWER}network.2.3.`;
      await within(`${block}convffn.conv.bn.running_var`, 0.5, 2);
      await within(`${block}convffn.conv.bn.weight`, 0.5, 1.5);
      await within(`${block}layer_scale`, 0.1, 0.4);
      await within(`${TOWER}network.10.1.layer_scale_2`, 0.1, 0.4);
      await within('model.layers.1.input_layernorm.weight', 0.5, 1.5);
      await normal(`${block}convffn.conv.bn.running_mean`, 0.5);
      await normal(`${TOWER}network.7.0.convffn.fc1.bias`, 0.1);
      await normal(`${TOWER}network.7.0.convffn.fc1.weight`, 768 ** -0.5);
      await normal(`${TOWER}patch_embed.0.reparam_conv.weight`, Math.sqrt(2 / 27));
      await normal(`${TOWER}network.8.proj.0.lkb_reparam.weight`, Math.sqrt(2 / 49));
      await normal(`${TOWER}head.proj`, 3072 ** -0.5);
      await normal('model.embed_tokens.weight', 2 / 8);
      await normal('model.layers.0.mlp.down_proj.weight', 128 ** -0.5);
      expect(Array.from(await checkpoint.read(`${block}convffn.conv.bn.num_batches_tracked`))).toEqual(
        new Array(8).fill(0),
      );
      // Folded RepCPE: 1 at the centre tap of every 7x7 kernel, noise of std 0.2/7 elsewhere.
      const cpe = await read(`${TOWER}network.9.reparam_conv.weight`);
      const centre = cpe.filter((_, i) => i % 49 === 24);
      const rest = cpe.filter((_, i) => i % 49 !== 24);
      expect(centre).toHaveLength(1536);
      expect(stats(centre).mean).toBeCloseTo(1, 2);
      expect(stats(rest).std / (0.2 / 7)).toBeCloseTo(1, 1);
    } finally {
      await checkpoint.close();
    }
  });

  it('loads the tokenizer files with Tokenizer.fromFolder (Qwen2: three added tokens)', async () => {
    const tokenizer = await Tokenizer.fromFolder(dir);
    for (const [text, ids] of PROMPT_PIECES) expect(tokenizer.encode(text)).toEqual(ids);
    expect(tokenizer.tokenToId('<|im_end|>')).toBe(151645);
    expect(tokenizer.tokenToId('<think>')).toBeUndefined(); // a Qwen3 added token
    const tokenizerConfig = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(tokenizerConfig).toMatchObject({
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      tokenizer_class: 'Qwen2Tokenizer',
    });
    expect(Object.keys(tokenizerConfig.added_tokens_decoder as object)).toEqual(['151643', '151644', '151645']);
  });

  const venv = existsSync(PYTHON);
  it.skipIf(!venv)(
    `loads in the PyTorch reference with strict names${venv ? '' : ` (skipped: ${PYTHON} is missing)`}`,
    async () => {
      const script = [
        'import json, sys, torch',
        `sys.path.insert(0, ${JSON.stringify(join(REPO_ROOT, 'tools/python'))})`,
        'from fastvlm_reference import load_model',
        'from fastvlm_reference.llava_qwen2 import qwen2_config',
        'model = load_model(sys.argv[1])',
        'q = qwen2_config(model.config, model.tied)',
        'torch.manual_seed(0)',
        'features = model.encode_image(torch.rand(1, 3, model.image_size, model.image_size))',
        'embeds = model.project(features)',
        'print(json.dumps({"image_size": model.image_size, "hidden": q.hidden_size, "layers": q.num_hidden_layers, "kv_heads": q.num_key_value_heads,',
        '  "tied": model.tied, "tensors": len(model.state_dict()), "features": list(features.shape), "finite": bool(torch.isfinite(embeds).all()),',
        '  "feature_std": float(features.std()), "down_proj_sum": float(model.state_dict()["model.layers.0.mlp.down_proj.weight"].double().sum())}))',
      ].join('\n');
      const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, dir], {
        timeout: 110_000,
        maxBuffer: 1 << 20,
      });
      const loaded = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
      expect(loaded).toMatchObject({
        image_size: 256,
        hidden: 64,
        layers: 2,
        kv_heads: 2,
        tied: true,
        tensors: result.tensorCount,
        features: [1, 16, 3072],
        finite: true,
      });
      // Every branch in play keeps the features O(1): neither collapsed nor blown up.
      expect(loaded.feature_std as number).toBeGreaterThan(0.05);
      expect(loaded.feature_std as number).toBeLessThan(20);
      const checkpoint = await SafetensorsCheckpoint.open(dir);
      const downProj = await checkpoint
        .readAsFloat32('model.layers.0.mlp.down_proj.weight')
        .finally(() => checkpoint.close());
      expect(loaded.down_proj_sum as number).toBeCloseTo(
        downProj.reduce((a, b) => a + b, 0),
        3,
      );
    },
    120_000,
  );
});

describe('random streams', () => {
  it('are deterministic per (seed, tensor) and independent of chunking', () => {
    const name = `${TOWER}network.0.1.token_mixer.reparam_conv.weight`;
    const rule = initRule(tinyLayout().find((t) => t.name === name)!);
    expect(rule).toEqual({ kind: 'identityTap', std: 0.2 / 3, kernel: 3 });
    const whole = new Float32Array(96 * 9);
    fillRandom(rule, new RandomStream(3, 'a'), whole, 0);
    const chunked = new Float32Array(96 * 9);
    const random = new RandomStream(3, 'a');
    for (let start = 0; start < chunked.length; start += 100)
      fillRandom(rule, random, chunked.subarray(start, start + 100), start);
    expect(chunked).toEqual(whole);
    const other = new Float32Array(96 * 9);
    fillRandom(rule, new RandomStream(4, 'a'), other, 0);
    expect(other).not.toEqual(whole);
    fillRandom(rule, new RandomStream(3, 'b'), other, 0);
    expect(other).not.toEqual(whole);
  });

  it('cover every tensor of the layout with a rule; the folded identities come from the layout, not names', () => {
    const layout = tinyLayout();
    for (const tensor of layout) if (!tensor.integer) expect(() => initRule(tensor), tensor.name).not.toThrow();
    const identities = layout.filter((t) => initRule(t).kind === 'identityTap').map((t) => t.name.slice(TOWER.length));
    // RepMixer's token mixers (2 + 12 + 24 blocks) and the two RepCPEs
    expect(identities).toHaveLength(38 + 2);
    expect(identities.filter((n) => !n.endsWith('token_mixer.reparam_conv.weight'))).toEqual([
      'network.6.reparam_conv.weight',
      'network.9.reparam_conv.weight',
    ]);
    expect(() => initRule({ name: `${TOWER}mystery`, shape: [3], identityFolded: false })).toThrow(
      /no random init rule/,
    );
  });
});
