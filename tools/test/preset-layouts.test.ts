/**
 * `fastvlm init-random --preset 0.5b|1.5b|7b` lays each folder out as the PyTorch reference does
 * (tools/python/make_layout_fixtures.py, `npm run fixtures`): config.json, every file's tensors
 * (names, dtypes, shapes, in stored order), the 7B's shard split and its index, at full depth and
 * with 2 layers. Then the writer itself: shards, index, bfloat16 rounding and the head copy.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsCheckpoint } from '@fastvlm/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectModelFolder } from '../src/checkpoint/inspect.js';
import { APPLE_PRESETS } from '../src/checkpoint/presets.js';
import {
  planRandomCheckpoint,
  produceRandom,
  writeRandomCheckpoint,
  type RandomSlot,
} from '../src/checkpoint/random-checkpoint.js';
import { fillRandom, initRule } from '../src/checkpoint/random-init.js';
import { RandomStream } from '../src/checkpoint/random-stream.js';
import { tensorBytes } from '../src/checkpoint/stream-safetensors.js';

const LAYOUTS = fileURLToPath(new URL('../../.cache/fixtures/layouts/', import.meta.url));

interface ReferenceLayout {
  config: Record<string, unknown>;
  files: { file: string; tensors: [string, string, number[]][] }[];
  index: string | null;
}

const FULL_DEPTH = { '0.5b': 24, '1.5b': 28, '7b': 28 } as const;
const CASES = APPLE_PRESETS.flatMap((preset) => [
  { preset, layers: FULL_DEPTH[preset] },
  { preset, layers: 2 },
]);

const readLayout = (preset: string, layers: number): ReferenceLayout =>
  JSON.parse(readFileSync(join(LAYOUTS, `${preset}-${layers}.json`), 'utf8')) as ReferenceLayout;

describe('init-random presets against the PyTorch reference layout', () => {
  it.each(CASES)(
    '$preset with $layers layers: config.json, files, tensors in stored order, index',
    ({ preset, layers }) => {
      const want = readLayout(preset, layers);
      const plan = planRandomCheckpoint({ preset, layers });
      expect(plan.configJson).toEqual(want.config);
      const files = plan.files.map(({ file, tensors }) => ({
        file,
        tensors: tensors.map((t): [string, string, number[]] => [t.name, t.dtype, [...t.shape]]),
      }));
      expect(files.map((f) => f.file)).toEqual(want.files.map((f) => f.file));
      for (const [i, file] of files.entries()) expect(file, file.file).toEqual(want.files[i]);
      expect(plan.index ?? null).toEqual(want.index);
    },
  );

  it('the full 7B: 4 shards split where the Hub lists them, the untied head alone in the last', () => {
    const plan = planRandomCheckpoint({ preset: '7b' });
    const dataBytes = plan.files.map((f) => f.tensors.reduce((sum, t) => sum + tensorBytes(t), 0));
    expect(dataBytes).toEqual([4_877_648_896, 4_932_737_024, 4_628_795_680, 1_089_994_752]);
    expect(plan.files[3].tensors.map((t) => [t.name, t.shape])).toEqual([['lm_head.weight', [152064, 3584]]]);
    const index = JSON.parse(plan.index ?? '') as { metadata: { total_size: number } };
    expect(index.metadata.total_size).toBe(15_529_176_352);
  });
});

describe('the writer', () => {
  let root: string | undefined;
  afterAll(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it('writes the planned shards and index, each file as planned, weights rounded to bfloat16', async () => {
    root = await mkdtemp(join(tmpdir(), 'fastvlm-presets-'));
    const options = { preset: 'tiny' as const, dtype: 'bfloat16' as const, maxShardBytes: 100_000_000, seed: 5 };
    const plan = planRandomCheckpoint(options);
    expect(plan.files.length).toBe(3);
    const result = await writeRandomCheckpoint(root, { ...options, tokenizer: false });
    expect(result.files).toEqual(['config.json', ...plan.files.map((f) => f.file), 'model.safetensors.index.json']);
    expect(await readFile(join(root, 'model.safetensors.index.json'), 'utf8')).toBe(plan.index);
    for (const { file, tensors } of plan.files) {
      const checkpoint = await SafetensorsCheckpoint.open(join(root, file));
      try {
        const stored = checkpoint
          .names()
          .map((name) => checkpoint.entry(name))
          .sort((a, b) => a.fileOffset - b.fileOffset)
          .map(({ name, dtype, shape }) => [name, dtype, shape]);
        expect(stored).toEqual(tensors.map((t) => [t.name, t.dtype, [...t.shape]]));
      } finally {
        await checkpoint.close();
      }
    }
    // bfloat16: the f32 draw rounded to nearest, ties to even (checked here by distance, not by bits).
    const name = 'model.layers.1.mlp.down_proj.weight';
    const checkpoint = await SafetensorsCheckpoint.open(root);
    const stored = await checkpoint.readAsFloat32(name).finally(() => checkpoint.close());
    const drawn = new Float32Array(stored.length);
    fillRandom(initRule({ name, shape: [64, 128], identityFolded: false }), new RandomStream(5, name), drawn, 0);
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    let ties = 0;
    for (let i = 0; i < drawn.length; i++) {
      asFloat[0] = drawn[i];
      const low = bits[0] & 0xffff0000;
      bits[0] = low;
      const down = asFloat[0];
      bits[0] = low + 0x10000;
      const up = asFloat[0];
      const [dDown, dUp] = [Math.abs(drawn[i] - down), Math.abs(up - drawn[i])];
      if (dDown === dUp) ties++;
      const want = dDown < dUp || (dDown === dUp && (low & 0x10000) === 0) ? down : up;
      expect(stored[i], `element ${i}`).toBe(want);
    }
    expect(ties).toBeLessThan(drawn.length / 100);
    const report = await inspectModelFolder(root);
    expect(report.complete).toBe(true);
    expect(report.sharded).toBe(true);
  }, 120_000);

  it("draws a stored head copy from the embedding's stream: bit-identical", async () => {
    const plan = planRandomCheckpoint({ preset: '1.5b', layers: 1 });
    const all = plan.files.flatMap((f) => f.tensors);
    const head = all.find((t) => t.name === 'lm_head.weight');
    const embed = all.find((t) => t.name === 'model.embed_tokens.weight');
    expect(head).toMatchObject({ source: 'model.embed_tokens.weight', dtype: 'BF16', shape: [151936, 1536] });
    // The same draw at a smaller shape (the stream does not depend on the shape).
    const small = (slot: RandomSlot): RandomSlot => ({ ...slot, shape: [300, 1536] });
    const bytesOf = async (slot: RandomSlot): Promise<Uint8Array> => {
      const chunks: Uint8Array[] = [];
      await produceRandom(small(slot), 0, async (bytes) => void chunks.push(bytes.slice()));
      return Buffer.concat(chunks);
    };
    const [headBytes, embedBytes] = [await bytesOf(head!), await bytesOf(embed!)];
    expect(headBytes.byteLength).toBe(2 * 300 * 1536);
    expect(Buffer.compare(headBytes, embedBytes)).toBe(0);
    const untied = planRandomCheckpoint({ preset: '7b', layers: 1 }).files.flatMap((f) => f.tensors);
    expect(untied.find((t) => t.name === 'lm_head.weight')?.source).toBe('lm_head.weight');
  });
});
