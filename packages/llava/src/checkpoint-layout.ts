/**
 * The layout of a FastVLM checkpoint, stated once: FastVLM's three parts as module trees built from
 * config.json, and where each sits in the checkpoint. A tensor's name is its part's prefix plus the
 * parameter's path in the part's tree (`model.vision_tower.vision_tower.model.` +
 * `network.7.0.token_mixer.qkv.weight`), its shape the one the module declares. Loading
 * (load-parts.ts), inspect's completeness check and random checkpoints (tools) all read it from here.
 *
 * To support another checkpoint layout, change the modules (a parameter declared there is loaded,
 * expected and written) or the prefixes below; nothing else lists names or shapes.
 */
import { fastVitHdConfig, FastViTHD, VISION_TOWER_PREFIX } from '@fastvlm/fastvithd';
import type { Parameter, ParameterKind } from '@fastvlm/nn';
import { Qwen2ForCausalLM, type LmHeadSource } from '@fastvlm/qwen2';
import type { SafetensorsDType } from '@fastvlm/tensor';
import type { FastVlmConfig } from './config.js';
import { Projector } from './model/projector.js';

export { VISION_TOWER_PREFIX };
export const PROJECTOR_PREFIX = 'model.mm_projector.';

/** FastVLM's parts: the FastViTHD tower, the projector and the Qwen2 decoder. */
export interface ModelParts {
  vision: FastViTHD;
  projector: Projector;
  llm: Qwen2ForCausalLM;
}

export type PartName = keyof ModelParts;

/**
 * Where each part's tree sits in the checkpoint (Apple's LlavaQwen2ForCausalLM: the decoder's own
 * names, `model.layers.0...` and `lm_head`, with the tower and projector inside `model.`).
 */
export const PART_PREFIXES: Readonly<Record<PartName, string>> = {
  vision: VISION_TOWER_PREFIX,
  projector: PROJECTOR_PREFIX,
  llm: '',
};

/**
 * The parts for `config`, their parameters declared and not loaded. `lmHead`: where the LM head
 * comes from, when the checkpoint has been looked at (qwen2's lmHeadSource); by default from the
 * config alone (lm_head.weight expected only when untied).
 */
export function buildParts(config: FastVlmConfig, lmHead?: LmHeadSource): ModelParts {
  return {
    vision: new FastViTHD(fastVitHdConfig(config.imageSize)),
    projector: new Projector(config.mmHiddenSize, config.llm.hiddenSize),
    llm: new Qwen2ForCausalLM(config.llm, lmHead),
  };
}

/** One tensor of the layout: its checkpoint name, its shape and what it is to the model. */
export interface LayoutTensor {
  name: string;
  shape: readonly number[];
  part: PartName;
  kind: ParameterKind;
  /** BatchNorm's num_batches_tracked (I64); every other tensor is a float. */
  integer: boolean;
  /** A reparameterized convolution whose identity branch is folded in (see ParameterOptions). */
  identityFolded: boolean;
}

function layoutTensor(part: PartName, name: string, parameter: Parameter): LayoutTensor {
  const { shape, kind, options } = parameter;
  return {
    name,
    shape,
    part,
    kind,
    integer: options.integer ?? false,
    identityFolded: options.identityFolded ?? false,
  };
}

/**
 * Every tensor a checkpoint for `config` holds, part by part, each in its module order (with
 * lm_head.weight when `lmHead` gives the model a head of its own).
 */
export function checkpointLayout(config: FastVlmConfig, lmHead?: LmHeadSource): LayoutTensor[] {
  const parts = buildParts(config, lmHead);
  return (Object.keys(PART_PREFIXES) as PartName[]).flatMap((part) =>
    parts[part].namedParameters(PART_PREFIXES[part]).map(([name, p]) => layoutTensor(part, name, p)),
  );
}

export type TensorGroup = 'vision tower' | 'projector' | 'llm layers' | 'embeddings';

export const TENSOR_GROUPS: readonly TensorGroup[] = ['vision tower', 'projector', 'llm layers', 'embeddings'];

/** Which part of the model a checkpoint tensor belongs to (any name, expected or not). */
export function tensorGroup(name: string): TensorGroup {
  if (name.startsWith(VISION_TOWER_PREFIX)) return 'vision tower';
  if (name.startsWith(PROJECTOR_PREFIX)) return 'projector';
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return 'embeddings';
  return 'llm layers';
}

export interface ExpectedTensor {
  name: string;
  shape: readonly number[];
  /**
   * I64 for BatchNorm's num_batches_tracked; for float tensors the dtype config.json's torch_dtype
   * names (F16 for float16), or undefined when the config names none.
   */
  dtype?: SafetensorsDType;
}

const FLOAT_DTYPES: Readonly<Record<string, SafetensorsDType>> = { float16: 'F16', bfloat16: 'BF16', float32: 'F32' };

/** The safetensors dtype of config.json's `torch_dtype` ('float16' -> 'F16'), if it names one. */
export function safetensorsDtypeOf(torchDtype: string | undefined): SafetensorsDType | undefined {
  return torchDtype === undefined ? undefined : FLOAT_DTYPES[torchDtype];
}

/**
 * The tensors a checkpoint for `config` must hold, with the dtypes config.json implies (`lmHead`:
 * the LM head decided from the checkpoint, as checkpointLayout takes it).
 */
export function expectedTensors(config: FastVlmConfig, lmHead?: LmHeadSource): ExpectedTensor[] {
  const floatDtype = safetensorsDtypeOf(config.torchDtype);
  return checkpointLayout(config, lmHead).map(({ name, shape, integer }) => {
    const dtype = integer ? 'I64' : floatDtype;
    return dtype === undefined ? { name, shape } : { name, shape, dtype };
  });
}
