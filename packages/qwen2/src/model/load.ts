/**
 * Loading Qwen2 from a Hugging Face folder (config.json + model.safetensors or a sharded index) or
 * from an open checkpoint whose config the caller has read (FastVLM's LLM uses the same names):
 * the module tree built from the config, its weights loaded by name, then the inference-time
 * fusions applied.
 */
import { loadWeights, type WeightDType } from '@fastvlm/nn';
import {
  ModelSourceError,
  openModelFolder,
  readTextFile,
  SafetensorsCheckpoint,
  type Device,
  type FolderInput,
} from '@fastvlm/tensor';
import { ConfigError, parseQwen2Config, type Qwen2Config } from './config.js';
import { fuseForInference } from './fusions.js';
import { lmHeadSource } from './lm-head.js';
import { Qwen2ForCausalLM } from './qwen2-model.js';

/** How linear and embedding weights are held on the GPU; norms and biases are f32. */
export type ModelDType = WeightDType;

export interface LoadQwen2Options {
  /** Default 'f16'. */
  dtype?: ModelDType;
  /** Put before every name (default ''; the checkpoint's own names are `model.layers.0...` and `lm_head.weight`). */
  prefix?: string;
}

/** Reads and checks the folder's config.json (a path in Node, a URL, or a `ModelFolder`). */
export async function readQwen2Config(input: FolderInput): Promise<Qwen2Config> {
  let text: string | undefined;
  let path = 'config.json';
  try {
    const folder = await openModelFolder(input);
    path = folder.pathOf('config.json');
    text = await readTextFile(folder, 'config.json');
  } catch (cause) {
    if (cause instanceof ModelSourceError) throw new ConfigError('(file)', `cannot read ${path}: ${cause.message}`);
    throw cause;
  }
  if (text === undefined) throw new ConfigError('(file)', `cannot read ${path}: no such file`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('(file)', `${path} is not valid JSON: ${String(cause)}`);
  }
  return parseQwen2Config(json);
}

/**
 * Loads from an open checkpoint (the caller keeps it open and closes it). A missing tensor or a
 * wrong shape is a CheckpointError naming the tensor; nothing stays allocated after a failure.
 */
export async function loadQwen2FromCheckpoint(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  config: Qwen2Config,
  options: LoadQwen2Options = {},
): Promise<Qwen2ForCausalLM> {
  const model = new Qwen2ForCausalLM(config, await lmHeadSource(checkpoint, config, options.prefix));
  await loadWeights(model, device, checkpoint, { dtype: options.dtype ?? 'f16', prefix: options.prefix });
  fuseForInference(model);
  return model;
}

/** Loads a Hugging Face Qwen2 folder: config.json and model.safetensors (or model.safetensors.index.json). */
export async function loadQwen2(
  device: Device,
  folder: FolderInput,
  options: LoadQwen2Options = {},
): Promise<Qwen2ForCausalLM> {
  const config = await readQwen2Config(folder);
  const checkpoint = await SafetensorsCheckpoint.open(folder);
  try {
    return await loadQwen2FromCheckpoint(device, checkpoint, config, options);
  } finally {
    await checkpoint.close();
  }
}
