/**
 * Every tensor of a FastVLM checkpoint in Apple's layout (shared/spec/fastvlm-0.5b-tensors.txt):
 * the FastViTHD tower in its reparameterized form (its widths are fixed; the image size changes
 * no weight), the mlp2x_gelu projector, and the Qwen2 decoder sized by config.json.
 */
import type { SafetensorsDType } from '@fastvlm/tensor';
import { FASTVITHD_FEATURE_WIDTH, type FastVlmConfig } from './config.js';

export type TensorGroup = 'vision tower' | 'projector' | 'llm layers' | 'embeddings';

export const TENSOR_GROUPS: readonly TensorGroup[] = ['vision tower', 'projector', 'llm layers', 'embeddings'];

export interface ExpectedTensor {
  name: string;
  shape: readonly number[];
  /**
   * I64 for BatchNorm's num_batches_tracked; for float tensors the dtype config.json's torch_dtype
   * names (F16 for float16), or undefined when the config names none.
   */
  dtype?: SafetensorsDType;
}

export const VISION_TOWER_PREFIX = 'model.vision_tower.vision_tower.model.';
export const PROJECTOR_PREFIX = 'model.mm_projector.';

/** MobileCLIP-L's image tower: stage widths, depths and token mixers. */
const STAGE_WIDTHS = [96, 192, 384, 768, 1536];
const STAGE_DEPTHS = [2, 12, 24, 4, 2];
const STAGE_ATTENTION = [false, false, false, true, true];
const MLP_RATIO = 4;
const SE_WIDTH = FASTVITHD_FEATURE_WIDTH / 16;
const CLIP_EMBED_WIDTH = 768;

const FLOAT_DTYPES: Readonly<Record<string, SafetensorsDType>> = { float16: 'F16', bfloat16: 'BF16', float32: 'F32' };

/** The safetensors dtype of config.json's `torch_dtype` ('float16' -> 'F16'), if it names one. */
export function safetensorsDtypeOf(torchDtype: string | undefined): SafetensorsDType | undefined {
  return torchDtype === undefined ? undefined : FLOAT_DTYPES[torchDtype];
}

/** Which part of the model a checkpoint tensor belongs to. */
export function tensorGroup(name: string): TensorGroup {
  if (name.startsWith(VISION_TOWER_PREFIX)) return 'vision tower';
  if (name.startsWith(PROJECTOR_PREFIX)) return 'projector';
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return 'embeddings';
  return 'llm layers';
}

type Add = (name: string, shape: readonly number[], integer?: boolean) => void;

function convWithBias(add: Add, name: string, cout: number, cinPerGroup: number, kernel: number): void {
  add(`${name}.weight`, [cout, cinPerGroup, kernel, kernel]);
  add(`${name}.bias`, [cout]);
}

/** ConvFFN: depthwise 7x7 (no bias) -> BatchNorm -> fc1 1x1 C->4C -> GELU -> fc2 1x1 4C->C. */
function convFfn(add: Add, name: string, width: number): void {
  const hidden = MLP_RATIO * width;
  add(`${name}.conv.conv.weight`, [width, 1, 7, 7]);
  for (const field of ['weight', 'bias', 'running_mean', 'running_var']) add(`${name}.conv.bn.${field}`, [width]);
  add(`${name}.conv.bn.num_batches_tracked`, [], true);
  convWithBias(add, `${name}.fc1`, hidden, width, 1);
  convWithBias(add, `${name}.fc2`, width, hidden, 1);
}

function repMixerBlock(add: Add, name: string, width: number): void {
  convWithBias(add, `${name}.token_mixer.reparam_conv`, width, 1, 3);
  convFfn(add, `${name}.convffn`, width);
  add(`${name}.layer_scale`, [width, 1, 1]);
}

function attentionBlock(add: Add, name: string, width: number): void {
  add(`${name}.norm.weight`, [width]);
  add(`${name}.norm.bias`, [width]);
  add(`${name}.token_mixer.qkv.weight`, [3 * width, width]);
  add(`${name}.token_mixer.proj.weight`, [width, width]);
  add(`${name}.token_mixer.proj.bias`, [width]);
  convFfn(add, `${name}.convffn`, width);
  add(`${name}.layer_scale_1`, [width, 1, 1]);
  add(`${name}.layer_scale_2`, [width, 1, 1]);
}

function visionTower(add: Add): void {
  const p = VISION_TOWER_PREFIX;
  const stem = STAGE_WIDTHS[0];
  convWithBias(add, `${p}patch_embed.0.reparam_conv`, stem, 3, 3); // 3x3 s2, 3 -> 96
  convWithBias(add, `${p}patch_embed.1.reparam_conv`, stem, 1, 3); // depthwise 3x3 s2
  convWithBias(add, `${p}patch_embed.2.reparam_conv`, stem, stem, 1);
  let index = 0;
  STAGE_WIDTHS.forEach((width, stage) => {
    if (stage > 0) {
      // Downsample: 7x7 s2 grouped by input channel (multiplier 2), then 1x1.
      convWithBias(add, `${p}network.${index}.proj.0.lkb_reparam`, width, 1, 7);
      convWithBias(add, `${p}network.${index}.proj.1.reparam_conv`, width, width, 1);
      index++;
    }
    if (STAGE_ATTENTION[stage]) {
      convWithBias(add, `${p}network.${index}.reparam_conv`, width, 1, 7); // RepCPE
      index++;
    }
    for (let block = 0; block < STAGE_DEPTHS[stage]; block++) {
      const name = `${p}network.${index}.${block}`;
      if (STAGE_ATTENTION[stage]) attentionBlock(add, name, width);
      else repMixerBlock(add, name, width);
    }
    index++;
  });
  convWithBias(add, `${p}conv_exp.reparam_conv`, FASTVITHD_FEATURE_WIDTH, 1, 3); // 1536 -> 3072, groups 1536
  convWithBias(add, `${p}conv_exp.se.reduce`, SE_WIDTH, FASTVITHD_FEATURE_WIDTH, 1);
  convWithBias(add, `${p}conv_exp.se.expand`, FASTVITHD_FEATURE_WIDTH, SE_WIDTH, 1);
  add(`${p}head.proj`, [FASTVITHD_FEATURE_WIDTH, CLIP_EMBED_WIDTH]); // MobileCLIP's head, unused by the VLM
}

function decoderLayers(add: Add, config: FastVlmConfig): void {
  const { hiddenSize: h, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim } = config.llm;
  const q = numAttentionHeads * headDim;
  const kv = numKeyValueHeads * headDim;
  for (let i = 0; i < numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    add(`${p}.input_layernorm.weight`, [h]);
    add(`${p}.self_attn.q_proj.weight`, [q, h]);
    add(`${p}.self_attn.q_proj.bias`, [q]);
    add(`${p}.self_attn.k_proj.weight`, [kv, h]);
    add(`${p}.self_attn.k_proj.bias`, [kv]);
    add(`${p}.self_attn.v_proj.weight`, [kv, h]);
    add(`${p}.self_attn.v_proj.bias`, [kv]);
    add(`${p}.self_attn.o_proj.weight`, [h, q]);
    add(`${p}.post_attention_layernorm.weight`, [h]);
    add(`${p}.mlp.gate_proj.weight`, [intermediateSize, h]);
    add(`${p}.mlp.up_proj.weight`, [intermediateSize, h]);
    add(`${p}.mlp.down_proj.weight`, [h, intermediateSize]);
  }
}

/**
 * The tensors a checkpoint for `config` must hold, in the model's module order (embeddings,
 * decoder layers, final norm, tower, projector, then lm_head only when the head is untied).
 */
export function expectedTensors(config: FastVlmConfig): ExpectedTensor[] {
  const floatDtype = safetensorsDtypeOf(config.torchDtype);
  const tensors: ExpectedTensor[] = [];
  const add: Add = (name, shape, integer = false) => {
    const dtype = integer ? 'I64' : floatDtype;
    tensors.push(dtype === undefined ? { name, shape } : { name, shape, dtype });
  };
  const { hiddenSize, vocabSize, tieWordEmbeddings } = config.llm;
  add('model.embed_tokens.weight', [vocabSize, hiddenSize]);
  decoderLayers(add, config);
  add('model.norm.weight', [hiddenSize]);
  visionTower(add);
  add(`${PROJECTOR_PREFIX}0.weight`, [hiddenSize, config.mmHiddenSize]);
  add(`${PROJECTOR_PREFIX}0.bias`, [hiddenSize]);
  add(`${PROJECTOR_PREFIX}2.weight`, [hiddenSize, hiddenSize]);
  add(`${PROJECTOR_PREFIX}2.bias`, [hiddenSize]);
  if (!tieWordEmbeddings) add('lm_head.weight', [vocabSize, hiddenSize]);
  return tensors;
}
