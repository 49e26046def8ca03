/**
 * inspectModelFolder on folders built from headers alone (the data section is a sparse file of the
 * right size: inspect reads no tensor data): a complete 0.5B-shaped folder, incomplete and
 * wrong-shape ones, and each way a folder cannot be loaded, as one typed error.
 */
import { mkdir, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, expectedTensors, ModelFolderError, parseFastVlmConfig } from '@fastvlm/llava';
import { SafetensorsError } from '@fastvlm/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInspectReport } from '../src/checkpoint/inspect-format.js';
import { inspectModelFolder } from '../src/checkpoint/inspect.js';
import { randomCheckpointConfig } from '../src/checkpoint/random-checkpoint.js';
import { planSafetensors, type TensorSlot } from '../src/checkpoint/stream-safetensors.js';

const CONFIG = randomCheckpointConfig('0.5b', { dtype: 'float16' });
const LAYOUT: TensorSlot[] = expectedTensors(parseFastVlmConfig(CONFIG)).map(({ name, shape, dtype }) => ({
  name,
  shape,
  dtype: dtype ?? 'F16',
}));
const EMBED = 'model.embed_tokens.weight';
const QKV = 'model.vision_tower.vision_tower.model.network.7.0.token_mixer.qkv.weight';
const BN_COUNT = 'model.vision_tower.vision_tower.model.network.0.0.convffn.conv.bn.num_batches_tracked';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fastvlm-inspect-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A safetensors file with `tensors`' header and a sparse, zero data section. */
async function writeHeaderOnly(path: string, tensors: readonly TensorSlot[]): Promise<void> {
  const plan = planSafetensors(tensors, { format: 'pt' });
  await writeFile(path, plan.header);
  await truncate(path, plan.fileBytes);
}

let folders = 0;
/** A model folder with config.json and, unless `tensors` is null, model.safetensors. */
async function modelFolder(tensors: readonly TensorSlot[] | null = LAYOUT, config: unknown = CONFIG): Promise<string> {
  const dir = join(root, `model-${folders++}`);
  await mkdir(dir);
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (tensors !== null) await writeHeaderOnly(join(dir, 'model.safetensors'), tensors);
  return dir;
}

const replaced = (name: string, change: Partial<TensorSlot>): TensorSlot[] =>
  LAYOUT.map((t) => (t.name === name ? { ...t, ...change } : t));

async function folderError(dir: string): Promise<ModelFolderError> {
  const error: unknown = await inspectModelFolder(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFolderError);
  const { message } = error as ModelFolderError;
  expect(message).not.toContain('\n');
  expect(message.startsWith(dir)).toBe(true);
  return error as ModelFolderError;
}

describe('inspectModelFolder', () => {
  it('reports a complete FastVLM-0.5B folder: config, parts, dtypes, sizes', async () => {
    const dir = await modelFolder();
    await writeFile(join(dir, 'tokenizer.json'), '{}');
    const report = await inspectModelFolder(dir);
    expect(report.complete).toBe(true);
    expect(report.config).toMatchObject({ imageSize: 1024, imageTokens: 256 });
    expect(report.tensors).toHaveLength(923);
    expect(report.files).toEqual([{ file: 'model.safetensors', bytes: expect.any(Number) as number }]);
    expect(report.sharded).toBe(false);
    const parts = Object.fromEntries(report.groups.map((g) => [g.group, [g.tensors, g.dtypes]]));
    expect(parts).toEqual({
      'vision tower': [629, { F16: 585, I64: 44 }],
      projector: [4, { F16: 4 }],
      'llm layers': [24 * 12 + 1, { F16: 289 }],
      embeddings: [1, { F16: 1 }],
    });
    // The spec's total: 622699148 elements, 1245398560 bytes of tensor data.
    expect(report.groups.reduce((sum, g) => sum + g.elements, 0)).toBe(622699148);
    expect(report.groups.reduce((sum, g) => sum + g.bytes, 0)).toBe(1245398560);
    expect(report.tokenizerFiles).toEqual(['tokenizer.json']);
    expect(report.tokenizerUsable).toBe(true);
    const text = formatInspectReport(report);
    expect(text).toContain('complete: yes, all 923 expected tensors');
    expect(text).toContain('mobileclip_l_1024 (1024 px, 256 image tokens)');
    expect(text).toMatch(/vision tower\s+629/);
  });

  it('lists missing, unexpected, wrong-shape and wrong-dtype tensors', async () => {
    const incomplete = await inspectModelFolder(await modelFolder(LAYOUT.filter((t) => t.name !== QKV)));
    expect(incomplete.complete).toBe(false);
    expect(incomplete.missing).toEqual([{ name: QKV, shape: [2304, 768], dtype: 'F16' }]);
    expect(incomplete.tokenizerUsable).toBe(false);
    expect(formatInspectReport(incomplete)).toContain(`complete: NO: 1 missing, 0 unexpected`);

    const wrongShape = await inspectModelFolder(await modelFolder(replaced(QKV, { shape: [768, 2304] })));
    expect(wrongShape.complete).toBe(false);
    expect(wrongShape.wrongShape).toEqual([{ name: QKV, expected: [2304, 768], actual: [768, 2304] }]);
    expect(formatInspectReport(wrongShape)).toContain(`${QKV}: [768, 2304], expected [2304, 768]`);

    const extra = await inspectModelFolder(
      await modelFolder([...LAYOUT, { name: 'model.layers.24.input_layernorm.weight', dtype: 'F16', shape: [896] }]),
    );
    expect(extra.unexpected.map((t) => t.name)).toEqual(['model.layers.24.input_layernorm.weight']);
    expect(extra.complete).toBe(false);

    const wrongDtype = await inspectModelFolder(await modelFolder(replaced(BN_COUNT, { dtype: 'F32' })));
    expect(wrongDtype.wrongDtype).toEqual([{ name: BN_COUNT, expected: 'I64', actual: 'F32' }]);
  });

  it('accepts float32 weights in a float16 config, with a note', async () => {
    const report = await inspectModelFolder(await modelFolder(replaced(EMBED, { dtype: 'F32' })));
    expect(report.complete).toBe(true);
    expect(report.notes).toEqual([
      "1 float tensors are stored in a dtype other than config.json's float16 (converted at load)",
    ]);
    expect(report.storedDtypes).toEqual({ F16: 878, F32: 1 });
  });

  it('decides the LM head as transformers: a stored copy is tied, a different head is used', async () => {
    // A 0.5B-wide model with 1 layer and 1000 rows, so the two matrices compared are small.
    const config = { ...randomCheckpointConfig('0.5b', { layers: 1, dtype: 'bfloat16' }), vocab_size: 1000 };
    const layout: TensorSlot[] = expectedTensors(parseFastVlmConfig(config)).map(({ name, shape, dtype }) => ({
      name,
      shape,
      dtype: dtype ?? 'BF16',
    }));
    const withHead = [...layout, { name: 'lm_head.weight', dtype: 'BF16' as const, shape: [1000, 896] }];
    const copy = await inspectModelFolder(await modelFolder(withHead, config));
    expect(copy.model.lmHead).toBe('tied-stored-copy');
    expect(copy.complete).toBe(true);
    expect(copy.unexpected).toEqual([]);
    expect(copy.notes).toEqual([]);
    expect(formatInspectReport(copy)).toContain(
      'lm_head: model.embed_tokens.weight (tied; the stored lm_head.weight is a bit-identical copy, not loaded)',
    );

    const differs = await modelFolder(withHead, config);
    const plan = planSafetensors(withHead, { format: 'pt' });
    const headStart = plan.header.byteLength + plan.byteLengths.slice(0, -1).reduce((a, b) => a + b, 0);
    const file = await open(join(differs, 'model.safetensors'), 'r+');
    await file.write(new Uint8Array([0x80, 0x3f]), 0, 2, headStart + 2 * 896 * 500); // row 500: 1.0 in bfloat16
    await file.close();
    const report = await inspectModelFolder(differs);
    expect(report.model.lmHead).toBe('stored-differs');
    expect(report.complete).toBe(true);
    expect(report.notes).toEqual([
      'lm_head.weight differs from the embedding although tie_word_embeddings is true: as transformers, the two are not tied and the stored head is used',
    ]);
    // The separate head is a parameter of its own.
    expect(report.model.parameters - copy.model.parameters).toBe(1000 * 896);
  });

  it('reads a sharded checkpoint', async () => {
    const dir = await modelFolder(null);
    const half = Math.floor(LAYOUT.length / 2);
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    await writeHeaderOnly(join(dir, shards[0]), LAYOUT.slice(0, half));
    await writeHeaderOnly(join(dir, shards[1]), LAYOUT.slice(half));
    const weightMap = Object.fromEntries(LAYOUT.map((t, i) => [t.name, shards[i < half ? 0 : 1]]));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const report = await inspectModelFolder(dir);
    expect(report.sharded).toBe(true);
    expect(report.files.map((f) => f.file)).toEqual(shards);
    expect(report.complete).toBe(true);
  });
});

describe('inspectModelFolder on folders that cannot be loaded', () => {
  it('missing folder, a file, no config.json', async () => {
    expect((await folderError(join(root, 'absent'))).reason).toBe('no such folder');
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    expect((await folderError(file)).reason).toBe('is not a folder: it is a regular file');
    const empty = join(root, 'empty');
    await mkdir(empty);
    expect((await folderError(empty)).reason).toBe('no config.json in the folder');
  });

  it('broken config JSON, or a config it cannot run', async () => {
    const broken = await folderError(await modelFolder(LAYOUT, '{"model_type": "llava_qwen2",'));
    expect(broken.reason).toMatch(/^config.json is not valid JSON: /);
    expect(broken.cause).toBeInstanceOf(SyntaxError);
    const projector = await folderError(await modelFolder(LAYOUT, { ...CONFIG, mm_projector_type: 'linear' }));
    expect(projector.cause).toBeInstanceOf(ConfigError);
    expect(projector.reason).toBe(
      "config.json field 'mm_projector_type': 'linear' is not supported (only 'mlp2x_gelu': Linear, GELU, Linear)",
    );
  });

  it('no checkpoint, or a malformed safetensors file', async () => {
    expect((await folderError(await modelFolder(null))).reason).toMatch(
      /holds neither model.safetensors nor model.safetensors.index.json/,
    );
    const garbage = await modelFolder(null);
    await writeFile(
      join(garbage, 'model.safetensors'),
      new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"a": {"dtype"')]),
    );
    const malformed = await folderError(garbage);
    expect(malformed.cause).toBeInstanceOf(SafetensorsError);
    const truncated = await modelFolder();
    await truncate(join(truncated, 'model.safetensors'), 4096);
    expect((await folderError(truncated)).cause).toBeInstanceOf(SafetensorsError);
  });

  it('a shard missing, or named outside the folder', async () => {
    const indexed = async (weightMap: Record<string, string>): Promise<string> => {
      const dir = await modelFolder(null);
      await writeHeaderOnly(join(dir, 'model-00001-of-00002.safetensors'), LAYOUT.slice(0, 1));
      await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
      return dir;
    };
    const missing = await folderError(
      await indexed({
        [LAYOUT[0].name]: 'model-00001-of-00002.safetensors',
        [LAYOUT[1].name]: 'model-00002-of-00002.safetensors',
      }),
    );
    expect(missing.cause).toBeInstanceOf(SafetensorsError);
    expect(missing.reason).toMatch(/shard 'model-00002-of-00002.safetensors' named in weight_map is missing/);
    const outside = await folderError(
      await indexed({
        [LAYOUT[0].name]: 'model-00001-of-00002.safetensors',
        [LAYOUT[1].name]: '../elsewhere.safetensors',
      }),
    );
    expect(outside.cause).toBeInstanceOf(SafetensorsError);
    expect(outside.reason).toMatch(/escapes the checkpoint folder/);
  });
});
