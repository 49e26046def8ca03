/**
 * Random-weight FastVLM checkpoint folders in Apple's layout: config.json, model.safetensors and
 * Qwen2's tokenizer files, as tools/python/init_random_checkpoint.py writes them (same presets,
 * config fields and init rules; our own seeded generator, so not torch's numbers).
 *
 * Presets: `0.5b` is apple/FastVLM-0.5B's shape (tower at 1024, Qwen2-0.5B); `tiny` is the real
 * FastViTHD at 256 px (16 image tokens) with a 2-layer, 64-wide Qwen2 over the real vocabulary.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointLayout, parseFastVlmConfig, type FastVlmConfig } from '@fastvlm/llava';
import { f32ToF16Bits, type SafetensorsDType } from '@fastvlm/tensor';
import { fillRandom, initRule, type RuleInput } from './random-init.js';
import { RandomStream } from './random-stream.js';
import { writeSafetensorsStreaming, type TensorSlot, type WriteBytes } from './stream-safetensors.js';
import { writeQwen2TokenizerFiles } from './tokenizer-files.js';
import { makeFolder } from '../fs/output-paths.js';

export type RandomPreset = 'tiny' | '0.5b';
export type RandomWeightDtype = 'float16' | 'float32';

const QWEN2_SHAPES: Readonly<Record<RandomPreset, Readonly<Record<string, number>>>> = {
  '0.5b': {
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
  },
  tiny: {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
};
const DEFAULT_IMAGE_SIZE: Readonly<Record<RandomPreset, number>> = { '0.5b': 1024, tiny: 256 };

export interface RandomConfigOptions {
  /** Qwen2 layers (default: the preset's). */
  layers?: number;
  /** Tower input size, a multiple of 64 (default: 1024 for 0.5b, 256 for tiny). */
  imageSize?: number;
  dtype?: RandomWeightDtype;
}

/** config.json for a preset, with every field FastVLM-0.5B's carries (spec section 7). */
export function randomCheckpointConfig(
  preset: RandomPreset,
  { layers, imageSize, dtype = 'float16' }: RandomConfigOptions = {},
): Record<string, unknown> {
  const shape = QWEN2_SHAPES[preset];
  if (shape === undefined) throw new RangeError(`unknown preset '${String(preset)}' (expected 'tiny' or '0.5b')`);
  if (layers !== undefined && (!Number.isSafeInteger(layers) || layers < 1))
    throw new RangeError(`layers must be a positive integer, got ${layers}`);
  if (dtype !== 'float16' && dtype !== 'float32')
    throw new RangeError(`dtype must be 'float16' or 'float32', got '${String(dtype)}'`);
  const numHiddenLayers = layers ?? shape.num_hidden_layers;
  const size = imageSize ?? DEFAULT_IMAGE_SIZE[preset];
  return {
    architectures: ['LlavaQwen2ForCausalLM'],
    model_type: 'llava_qwen2',
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_act: 'silu',
    ...shape,
    num_hidden_layers: numHiddenLayers,
    initializer_range: 0.02,
    max_position_embeddings: 32768,
    max_window_layers: numHiddenLayers,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    use_sliding_window: false,
    tie_word_embeddings: true,
    use_cache: true,
    vocab_size: 151936,
    image_aspect_ratio: 'pad',
    mm_hidden_size: 3072,
    mm_patch_merge_type: 'flat',
    mm_projector_lr: null,
    mm_projector_type: 'mlp2x_gelu',
    mm_use_im_patch_token: false,
    mm_use_im_start_end: false,
    mm_vision_select_feature: 'patch',
    mm_vision_select_layer: -2,
    mm_vision_tower: `mobileclip_l_${size}`,
    tokenizer_model_max_length: 8192,
    tokenizer_padding_side: 'right',
    tune_mm_mlp_adapter: false,
    unfreeze_mm_vision_tower: true,
    use_mm_proj: true,
    torch_dtype: dtype,
    dtype,
  };
}

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
  /** Write tokenizer.json + tokenizer_config.json too (default true). */
  tokenizer?: boolean;
  /** Called after each tensor is written. */
  onProgress?: (progress: WriteProgress) => void;
  /** Stops the write (checked every million elements); nothing of it is left in the folder. */
  signal?: AbortSignal;
}

export interface RandomCheckpointResult {
  dir: string;
  config: FastVlmConfig;
  tensorCount: number;
  elementCount: number;
  /** Size of model.safetensors. */
  fileBytes: number;
  /** Every file written, relative to `dir`. */
  files: string[];
  seconds: number;
}

/** Elements generated and converted per write (even, so normal pairs never straddle chunks). */
const CHUNK_ELEMENTS = 1 << 20;

/** Storage order: 8-byte dtypes first so every tensor is naturally aligned, then by name. */
function storageOrder(a: TensorSlot, b: TensorSlot): number {
  const wide = (slot: TensorSlot): number => (slot.dtype === 'I64' ? 0 : 1);
  return wide(a) - wide(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
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

/** A tensor to write, with what its init rule is chosen by. */
type RandomSlot = TensorSlot & RuleInput;

/** Streams one tensor's random values, chunk by chunk, in its stored dtype. */
async function produceRandom(
  tensor: RandomSlot,
  seed: number,
  write: WriteBytes,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (tensor.dtype === 'I64') {
    await write(new Uint8Array(8 * count)); // num_batches_tracked: zeros
    return;
  }
  const rule = initRule(tensor);
  const random = new RandomStream(seed, tensor.name);
  const values = new Float32Array(Math.min(count, CHUNK_ELEMENTS));
  const halves = tensor.dtype === 'F16' ? new Uint16Array(values.length) : undefined;
  for (let start = 0; start < count; start += CHUNK_ELEMENTS) {
    const chunk = values.subarray(0, Math.min(CHUNK_ELEMENTS, count - start));
    signal?.throwIfAborted();
    fillRandom(rule, random, chunk, start);
    if (halves === undefined) {
      await write(new Uint8Array(chunk.buffer, 0, chunk.byteLength));
    } else {
      roundToF16(chunk, halves);
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
  const { preset = 'tiny', seed = 0, tokenizer = true, onProgress } = options;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const configJson = randomCheckpointConfig(preset, options);
  const config = parseFastVlmConfig(configJson);
  const storedDtype: SafetensorsDType = options.dtype === 'float32' ? 'F32' : 'F16';
  const slots: RandomSlot[] = checkpointLayout(config)
    .map(({ name, shape, integer, identityFolded }) => ({
      name,
      shape,
      dtype: integer ? ('I64' as const) : storedDtype,
      identityFolded,
    }))
    .sort(storageOrder);

  await makeFolder('the checkpoint folder', dir);
  const staging = await mkdtemp(join(dir, '.partial-'));
  const files = ['config.json', 'model.safetensors'];
  let bytesDone = 0;
  let elementCount = 0;
  let plan;
  try {
    await writeFile(join(staging, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
    plan = await writeSafetensorsStreaming(
      join(staging, 'model.safetensors'),
      slots,
      (_tensor, index, write) => produceRandom(slots[index], seed, write, options.signal),
      {
        metadata: { format: 'pt' },
        onTensorWritten: (tensor, index, { header, byteLengths, fileBytes }) => {
          elementCount += tensor.shape.reduce((a, b) => a * b, 1);
          bytesDone += (index === 0 ? header.byteLength : 0) + byteLengths[index];
          onProgress?.({
            tensor: tensor.name,
            tensorsDone: index + 1,
            tensorCount: slots.length,
            bytesDone,
            bytesTotal: fileBytes,
          });
        },
      },
    );
    if (tokenizer) files.push(...(await writeQwen2TokenizerFiles(staging)));
    options.signal?.throwIfAborted();
    for (const name of files) await rename(join(staging, name), join(dir, name));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    dir,
    config,
    tensorCount: slots.length,
    elementCount,
    fileBytes: plan.fileBytes,
    files,
    seconds: (performance.now() - started) / 1000,
  };
}
