/**
 * Random-weight FastVLM checkpoint folders laid out exactly as Apple's files are (presets.ts,
 * hf-shards.ts): config.json, the checkpoint (one model.safetensors, or shards with
 * model.safetensors.index.json past 5 GB) and Qwen2's tokenizer files, as
 * tools/python/init_random_checkpoint.py writes them (same presets, config fields, tensor names,
 * shapes, dtypes, shard split and in-file order; the init rules of random-init.ts drawn from our own
 * seeded generator, so not torch's numbers).
 *
 * The Apple presets (0.5b, 1.5b, 7b) are stored in bfloat16; the tied 0.5b and 1.5b also store
 * lm_head.weight as a bit-identical copy of the embedding (as Apple's files do), the untied 7b its
 * own 152064-row head. `tiny` (our demo model) stores no head copy and defaults to float16.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointLayout, parseFastVlmConfig, type FastVlmConfig } from '@fastvlm/llava';
import { f32ToF16Bits, type SafetensorsDType } from '@fastvlm/tensor';
import {
  HF_MAX_SHARD_BYTES,
  INDEX_FILE,
  indexJson,
  moduleOrder,
  planShards,
  safetensorsOrder,
  shardFileNames,
  type PartSlot,
} from './hf-shards.js';
import {
  presetShape,
  randomCheckpointConfig,
  type RandomConfigOptions,
  type RandomPreset,
  type RandomWeightDtype,
} from './presets.js';
import { fillRandom, initRule, type RuleInput } from './random-init.js';
import { RandomStream } from './random-stream.js';
import { planSafetensors, writeSafetensorsStreaming, type WriteBytes } from './stream-safetensors.js';
import { writeQwen2TokenizerFiles } from './tokenizer-files.js';
import { makeFolder } from '../fs/output-paths.js';

export { randomCheckpointConfig, type RandomConfigOptions, type RandomPreset, type RandomWeightDtype };

export interface WriteProgress {
  /** The tensor just written. */
  tensor: string;
  tensorsDone: number;
  tensorCount: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface RandomCheckpointOptions extends RandomConfigOptions {
  preset?: RandomPreset;
  seed?: number;
  /** Open a new shard past this many bytes (default 5e9, transformers' "5GB"). */
  maxShardBytes?: number;
  /** Write tokenizer.json + tokenizer_config.json too (default true). */
  tokenizer?: boolean;
  /** Called after each tensor is written. */
  onProgress?: (progress: WriteProgress) => void;
  /** Stops the write (checked every million elements); nothing of it is left in the folder. */
  signal?: AbortSignal;
}

/** A tensor to write, with what its init rule is chosen by; `source`: the tensor whose values it copies. */
export type RandomSlot = PartSlot & RuleInput & { source: string };

/** One checkpoint file: its name in the folder and its tensors in stored order. */
export interface PlannedFile {
  file: string;
  tensors: RandomSlot[];
}

/** Everything a random checkpoint folder will hold, decided before any byte is written. */
export interface RandomCheckpointPlan {
  preset: RandomPreset;
  /** config.json as written. */
  configJson: Record<string, unknown>;
  config: FastVlmConfig;
  files: PlannedFile[];
  /** model.safetensors.index.json's text, when there are shards. */
  index?: string;
}

export interface RandomCheckpointResult {
  dir: string;
  config: FastVlmConfig;
  tensorCount: number;
  elementCount: number;
  /** Size of the checkpoint's files together (headers included). */
  fileBytes: number;
  /** Every file written, relative to `dir`. */
  files: string[];
  seconds: number;
}

/** Elements generated and converted per write (even, so normal pairs never straddle chunks). */
const CHUNK_ELEMENTS = 1 << 20;

/** The header's `__metadata__`, as PyTorch writes it. */
const METADATA = { format: 'pt' } as const;
const EMBED = 'model.embed_tokens.weight';
const LM_HEAD = 'lm_head.weight';
const STORED_DTYPES: Readonly<Record<RandomWeightDtype, SafetensorsDType>> = {
  bfloat16: 'BF16',
  float16: 'F16',
  float32: 'F32',
};

/** Lays out a preset's folder: config.json, the tensors of each checkpoint file in stored order, the index. */
export function planRandomCheckpoint(options: RandomCheckpointOptions = {}): RandomCheckpointPlan {
  const { preset = 'tiny', maxShardBytes = HF_MAX_SHARD_BYTES } = options;
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes < 1)
    throw new RangeError(`maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  const configJson = randomCheckpointConfig(preset, options);
  const config = parseFastVlmConfig(configJson);
  const stored = STORED_DTYPES[configJson.torch_dtype as RandomWeightDtype];
  const slots: RandomSlot[] = checkpointLayout(config).map(({ name, shape, part, integer, identityFolded }) => ({
    name,
    shape,
    part,
    dtype: integer ? 'I64' : stored,
    identityFolded,
    source: name,
  }));
  // Apple's tied models store lm_head.weight as a copy of the embedding; our demo model does not.
  if (preset !== 'tiny' && presetShape(preset).tie_word_embeddings) {
    const embed = slots.find((slot) => slot.name === EMBED);
    if (embed === undefined) throw new Error(`the layout has no ${EMBED}`);
    slots.push({ ...embed, name: LM_HEAD, source: EMBED });
  }
  const shards = planShards(moduleOrder(slots), maxShardBytes);
  const names = shardFileNames(shards.length);
  const files = shards.map((shard, i) => ({ file: names[i], tensors: safetensorsOrder(shard) }));
  return shards.length === 1
    ? { preset, configJson, config, files }
    : { preset, configJson, config, files, index: indexJson(shards, names) };
}

/**
 * f32 -> f16 bits, round to nearest even, as f32ToF16Bits but inlined for normal-range halves (the
 * bulk of random weights); subnormals, overflow and NaN go through f32ToF16Bits.
 */
function roundToF16(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const exponent = ((x >>> 23) & 0xff) - 112; // rebias 127 -> 15
    if (exponent <= 0 || exponent >= 31) {
      out[i] = f32ToF16Bits(values[i]);
      continue;
    }
    const half = ((x >>> 16) & 0x8000) | (exponent << 10) | ((x >>> 13) & 0x3ff);
    const rest = x & 0x1fff;
    out[i] = half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0); // a carry may reach inf, correctly
  }
}

/** f32 -> bfloat16 bits (the top 16), round to nearest even; the values here are finite. */
function roundToBf16(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

/** Streams one tensor's random values, chunk by chunk, in its stored dtype. */
export async function produceRandom(
  tensor: RandomSlot,
  seed: number,
  write: WriteBytes,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (tensor.dtype === 'I64') {
    await write(new Uint8Array(8 * count)); // num_batches_tracked: zeros
    return;
  }
  // A copy draws its source's values: the same rule and stream give the same bits.
  const rule = initRule({ ...tensor, name: tensor.source });
  const random = new RandomStream(seed, tensor.source);
  const values = new Float32Array(Math.min(count, CHUNK_ELEMENTS));
  const halves = tensor.dtype === 'F32' ? undefined : new Uint16Array(values.length);
  const round = tensor.dtype === 'BF16' ? roundToBf16 : roundToF16;
  for (let start = 0; start < count; start += CHUNK_ELEMENTS) {
    const chunk = values.subarray(0, Math.min(CHUNK_ELEMENTS, count - start));
    signal?.throwIfAborted();
    fillRandom(rule, random, chunk, start);
    if (halves === undefined) {
      await write(new Uint8Array(chunk.buffer, 0, chunk.byteLength));
    } else {
      round(chunk, halves);
      await write(new Uint8Array(halves.buffer, 0, 2 * chunk.length));
    }
  }
}

/**
 * Writes a random-weight checkpoint folder (created if needed) for a preset. The files are written
 * into a staging folder inside `dir` and moved into place only once all are complete, so a failed
 * or aborted write leaves no partial file (and replaces no existing one).
 */
export async function writeRandomCheckpoint(
  dir: string,
  options: RandomCheckpointOptions = {},
): Promise<RandomCheckpointResult> {
  const started = performance.now();
  const { seed = 0, tokenizer = true, onProgress } = options;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const plan = planRandomCheckpoint(options);
  const tensorCount = plan.files.reduce((n, f) => n + f.tensors.length, 0);

  await makeFolder('the checkpoint folder', dir);
  const staging = await mkdtemp(join(dir, '.partial-'));
  const files = ['config.json'];
  let bytesDone = 0;
  let bytesTotal = 0;
  let tensorsDone = 0;
  let elementCount = 0;
  let fileBytes = 0;
  for (const { tensors } of plan.files) bytesTotal += planSafetensors(tensors, METADATA).fileBytes;
  try {
    await writeFile(join(staging, 'config.json'), `${JSON.stringify(plan.configJson, null, 2)}\n`);
    for (const { file, tensors } of plan.files) {
      const written = await writeSafetensorsStreaming(
        join(staging, file),
        tensors,
        (_tensor, index, write) => produceRandom(tensors[index], seed, write, options.signal),
        {
          metadata: METADATA,
          onTensorWritten: (tensor, index, { header, byteLengths }) => {
            elementCount += tensor.shape.reduce((a, b) => a * b, 1);
            bytesDone += (index === 0 ? header.byteLength : 0) + byteLengths[index];
            onProgress?.({ tensor: tensor.name, tensorsDone: ++tensorsDone, tensorCount, bytesDone, bytesTotal });
          },
        },
      );
      fileBytes += written.fileBytes;
      files.push(file);
    }
    if (plan.index !== undefined) {
      await writeFile(join(staging, INDEX_FILE), plan.index);
      files.push(INDEX_FILE);
    }
    if (tokenizer) files.push(...(await writeQwen2TokenizerFiles(staging)));
    options.signal?.throwIfAborted();
    for (const name of files) await rename(join(staging, name), join(dir, name));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    dir,
    config: plan.config,
    tensorCount,
    elementCount,
    fileBytes,
    files,
    seconds: (performance.now() - started) / 1000,
  };
}
