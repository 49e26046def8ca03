/**
 * Loading Qwen2 from a Hugging Face folder (config.json + model.safetensors or a sharded index) or
 * from an open checkpoint whose config the caller has read (FastVLM's LLM uses the same names).
 */
import {
  loadInt8Weight,
  loadTensor,
  ModelSourceError,
  openModelFolder,
  readFloat32,
  readTextFile,
  SafetensorsCheckpoint,
  Tensor,
  type Device,
  type FolderInput,
} from '@fastvlm/tensor';
import { ConfigError, parseQwen2Config, type Qwen2Config } from './config.js';
import { Qwen2ForCausalLM } from './qwen2-model.js';
import { Weights, type ModelDType, type ParameterSource } from './weights.js';

export interface LoadQwen2Options {
  /** How linear and embedding weights are held on the GPU (default 'f16'); norms and biases are f32. */
  dtype?: ModelDType;
  /** Put before every decoder name (default 'model.': `model.layers.0.self_attn.q_proj.weight`). */
  prefix?: string;
  /** The untied LM head's module name (default 'lm_head'); unused when embeddings are tied. */
  lmHeadName?: string;
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

/** Parameters read from a safetensors checkpoint, converted or quantized as asked. */
export function checkpointSource(device: Device, checkpoint: SafetensorsCheckpoint): ParameterSource {
  return {
    has: (name) => checkpoint.has(name),
    async tensor(name, shape, dtype) {
      if (dtype === 'f32' && checkpoint.has(name) && checkpoint.entry(name).dtype === 'F16') {
        return Tensor.fromArray(device, await readFloat32(checkpoint, name, shape), shape, 'f32', { label: name });
      }
      return loadTensor(device, checkpoint, name, { dtype, shape });
    },
    int8: (name, shape) => loadInt8Weight(device, checkpoint, name, shape),
  };
}

/** Builds the model from any parameter source (a checkpoint, random values). Frees what it loaded if it fails. */
export async function loadQwen2FromSource(
  source: ParameterSource,
  config: Qwen2Config,
  options: LoadQwen2Options = {},
): Promise<Qwen2ForCausalLM> {
  const weights = Weights.root(source, options.dtype ?? 'f16', options.prefix ?? 'model.');
  try {
    return await Qwen2ForCausalLM.load(weights, config, options.lmHeadName);
  } catch (error) {
    weights.disposeAll();
    throw error;
  }
}

/** Loads from an open checkpoint (the caller keeps it open and closes it). */
export function loadQwen2FromCheckpoint(
  device: Device,
  checkpoint: SafetensorsCheckpoint,
  config: Qwen2Config,
  options: LoadQwen2Options = {},
): Promise<Qwen2ForCausalLM> {
  return loadQwen2FromSource(checkpointSource(device, checkpoint), config, options);
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
