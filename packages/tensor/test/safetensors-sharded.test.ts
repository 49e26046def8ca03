import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SafetensorsError } from '../src/errors.js';
import { f32ArrayToF16 } from '../src/half.js';
import { INDEX_FILE_NAME, SafetensorsCheckpoint, encodeSafetensors } from '../src/safetensors/index.js';
import type { TensorToWrite } from '../src/safetensors/index.js';
import { bytesOf, makeTempDir, removeTempDir, writeBytes } from './safetensors-helpers.js';
import { writeShardedSafetensors } from '../src/node/index.js';

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** Seven tensors, 40 bytes each except `big` (200 bytes) and an empty one. */
function tensors(): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (let i = 0; i < 5; i++)
    out[`layers.${i}.weight`] = { dtype: 'F32', shape: [2, 5], data: new Float32Array(10).map((_, j) => i * 10 + j) };
  out.big = { dtype: 'F16', shape: [100], data: f32ArrayToF16(Array.from({ length: 100 }, (_, j) => j / 4)) };
  out.empty = { dtype: 'I32', shape: [0, 3], data: new Int32Array(0) };
  return out;
}

async function writeIndex(weightMap: Record<string, string>, extra: object = {}): Promise<string> {
  const path = join(dir, INDEX_FILE_NAME);
  await writeFile(path, JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap, ...extra }));
  return path;
}

const one = (name: string): Uint8Array =>
  encodeSafetensors({ [name]: { dtype: 'U8', shape: [2], data: new Uint8Array([7, 8]) } });

async function expectRejected(target: string, pattern: RegExp): Promise<void> {
  const opening = SafetensorsCheckpoint.open(target);
  await expect(opening).rejects.toBeInstanceOf(SafetensorsError);
  await expect(opening).rejects.toThrow(pattern);
}

describe('sharded safetensors checkpoints', () => {
  it('writes >= 3 shards with an index as Hugging Face does, and reads every tensor back', async () => {
    const input = tensors();
    const result = await writeShardedSafetensors(dir, input, 100, { format: 'pt' });
    expect(result.shards).toEqual([
      'model-00001-of-00004.safetensors',
      'model-00002-of-00004.safetensors',
      'model-00003-of-00004.safetensors',
      'model-00004-of-00004.safetensors',
    ]);
    expect((await readdir(dir)).sort()).toEqual([...result.shards, INDEX_FILE_NAME].sort());
    const index = JSON.parse(await readFile(result.indexPath, 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    expect(index.metadata.total_size).toBe(5 * 40 + 200);
    expect(index.weight_map['layers.0.weight']).toBe('model-00001-of-00004.safetensors');
    expect(index.weight_map['layers.2.weight']).toBe('model-00002-of-00004.safetensors');
    expect(index.weight_map['layers.4.weight']).toBe('model-00003-of-00004.safetensors');
    expect(index.weight_map.big).toBe('model-00004-of-00004.safetensors');
    expect(index.weight_map.empty).toBe('model-00004-of-00004.safetensors');

    for (const target of [dir, result.indexPath]) {
      const ckpt = await SafetensorsCheckpoint.open(target);
      try {
        expect(ckpt.files).toHaveLength(4);
        expect(ckpt.names()).toEqual(Object.keys(input));
        expect(ckpt.metadata).toEqual({ format: 'pt' });
        expect(ckpt.indexMetadata).toEqual({ total_size: 400 });
        for (const [name, t] of Object.entries(input)) {
          expect(ckpt.has(name)).toBe(true);
          expect(ckpt.entry(name)).toMatchObject({
            dtype: t.dtype,
            shape: t.shape,
            file: join(dir, index.weight_map[name]),
          });
          expect(await ckpt.read(name)).toEqual(new Uint8Array(bytesOf(t.data)));
        }
        expect(Array.from(await ckpt.readAsFloat32('layers.4.weight'))).toEqual([
          40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
        ]);
        expect((await ckpt.readAsFloat32('big'))[99]).toBe(24.75);
        const target4 = new Uint8Array(40);
        await ckpt.readInto('layers.3.weight', target4);
        expect(new Float32Array(target4.buffer)[0]).toBe(30);
      } finally {
        await ckpt.close();
      }
    }
  });

  it('refuses a non-positive shard size and bad tensors before writing anything', async () => {
    await expect(writeShardedSafetensors(join(dir, 'a'), tensors(), 0)).rejects.toThrow(
      /maxShardBytes must be a positive integer, got 0/,
    );
    const bad = { ...tensors(), wrong: { dtype: 'F32' as const, shape: [3], data: new Float32Array(2) } };
    await expect(writeShardedSafetensors(join(dir, 'b'), bad, 100)).rejects.toThrow(
      /tensor 'wrong': data holds 8 bytes but shape \[3\] of F32 needs 12/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects a missing shard, naming it', async () => {
    await writeShardedSafetensors(dir, tensors(), 100);
    await rm(join(dir, 'model-00002-of-00004.safetensors'));
    await expectRejected(
      dir,
      /model\.safetensors\.index\.json: shard 'model-00002-of-00004\.safetensors' named in weight_map is missing/,
    );
  });

  it.each([
    [
      '../outside.safetensors',
      /tensor 'a': shard file name '\.\.\/outside\.safetensors' escapes the checkpoint folder/,
    ],
    ['sub/../../x.safetensors', /escapes the checkpoint folder/],
    ['/etc/passwd', /shard file name '\/etc\/passwd' is an absolute path/],
    ['C:/model.safetensors', /is an absolute path/],
    ['..\\x.safetensors', /contains a backslash/],
    ['', /shard file name '' is empty/],
  ])('rejects the shard path %j', async (shard, pattern) => {
    await writeBytes(dir, 'ok.safetensors', one('a'));
    await expectRejected(await writeIndex({ a: shard }), pattern);
  });

  it('rejects a weight_map naming a tensor its shard lacks', async () => {
    await writeBytes(dir, 's1.safetensors', one('a'));
    await expectRejected(
      await writeIndex({ a: 's1.safetensors', ghost: 's1.safetensors' }),
      /tensor 'ghost': weight_map assigns it to shard 's1\.safetensors', which does not hold it/,
    );
  });

  it('rejects a tensor held by one shard but claimed by another, or by none', async () => {
    await writeBytes(dir, 's1.safetensors', one('a'));
    await writeBytes(dir, 's2.safetensors', one('b'));
    await expectRejected(
      await writeIndex({ a: 's2.safetensors', b: 's2.safetensors' }),
      /tensor 'a': is in shard 's1\.safetensors' but weight_map assigns it to 's2\.safetensors'|tensor 'a': weight_map assigns it to shard 's2\.safetensors', which does not hold it/,
    );
    await writeBytes(
      dir,
      's2.safetensors',
      encodeSafetensors({
        b: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
        stray: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
      }),
    );
    await expectRejected(
      await writeIndex({ a: 's1.safetensors', b: 's2.safetensors' }),
      /tensor 'stray': is in shard 's2\.safetensors' but not in weight_map/,
    );
  });

  it('rejects the same tensor in two shards', async () => {
    await writeBytes(dir, 's1.safetensors', one('a'));
    await writeBytes(
      dir,
      's2.safetensors',
      encodeSafetensors({
        a: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
        b: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
      }),
    );
    await expectRejected(
      await writeIndex({ a: 's1.safetensors', b: 's2.safetensors' }),
      /tensor 'a': appears in both shard 's1\.safetensors' and shard 's2\.safetensors'/,
    );
  });

  it.each([
    ['not JSON', '{"weight_map": {', /model\.safetensors\.index\.json: index is not valid JSON/],
    ['a JSON array', '[]', /index must be a JSON object/],
    ['without weight_map', '{"metadata": {}}', /index has no 'weight_map' object/],
    ['with weight_map an array', '{"weight_map": ["a"]}', /index has no 'weight_map' object/],
    [
      'with a non-string shard',
      '{"weight_map": {"a": 3}}',
      /tensor 'a': weight_map value must be a shard file name \(string\), got 3/,
    ],
    ['with metadata not an object', '{"metadata": 5, "weight_map": {}}', /index 'metadata' must be an object/],
  ])('rejects an index %s', async (_what, text, pattern) => {
    const path = join(dir, INDEX_FILE_NAME);
    await writeFile(path, text);
    await expectRejected(dir, pattern);
    await expectRejected(path, pattern);
  });

  it('rejects a malformed shard, naming the shard file', async () => {
    await writeBytes(dir, 's1.safetensors', one('a'));
    await writeFile(join(dir, 's2.safetensors'), new Uint8Array(3));
    await expectRejected(
      await writeIndex({ a: 's1.safetensors', b: 's2.safetensors' }),
      /s2\.safetensors: file is 3 bytes, too short/,
    );
  });
});
