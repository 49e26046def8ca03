/**
 * The published FastVLM models (tools/python/fastvlm_reference/CHECKPOINTS.md): apple/FastVLM-0.5B,
 * -1.5B and -7B are FastViTHD at 1024 px with Qwen2-0.5B / 1.5B / 7B, stored in bfloat16; `tiny` is
 * our demo model (the real tower at 256 px, a 2-layer, 64-wide Qwen2). Their config.json as the Hub
 * ships it (the 0.5B's fields and values, read verbatim; the LLM fields of 1.5B / 7B are Qwen2's),
 * as tools/python/fastvlm_reference/checkpoint.py's make_config writes it.
 */

export type RandomPreset = 'tiny' | '0.5b' | '1.5b' | '7b';
export const RANDOM_PRESETS: readonly RandomPreset[] = ['tiny', '0.5b', '1.5b', '7b'];
/** The presets that are Apple's published models (named by `inspect`). */
export const APPLE_PRESETS = ['0.5b', '1.5b', '7b'] as const;
export type ApplePreset = (typeof APPLE_PRESETS)[number];

export type RandomWeightDtype = 'bfloat16' | 'float16' | 'float32';

/** The LLM's shape fields of config.json per preset, and the tower's default input size. */
export interface PresetShape {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  tie_word_embeddings: boolean;
  /** Unused (no sliding window) but carried as the published configs carry it. */
  sliding_window: number;
  imageSize: number;
  /** The dtype the weights are written in by default (Apple's: bfloat16). */
  dtype: RandomWeightDtype;
}

export const PRESET_SHAPES: Readonly<Record<RandomPreset, Readonly<PresetShape>>> = {
  '0.5b': {
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    vocab_size: 151936,
    tie_word_embeddings: true,
    sliding_window: 32768,
    imageSize: 1024,
    dtype: 'bfloat16',
  },
  '1.5b': {
    hidden_size: 1536,
    intermediate_size: 8960,
    num_hidden_layers: 28,
    num_attention_heads: 12,
    num_key_value_heads: 2,
    vocab_size: 151936,
    tie_word_embeddings: true,
    sliding_window: 32768,
    imageSize: 1024,
    dtype: 'bfloat16',
  },
  '7b': {
    hidden_size: 3584,
    intermediate_size: 18944,
    num_hidden_layers: 28,
    num_attention_heads: 28,
    num_key_value_heads: 4,
    vocab_size: 152064,
    tie_word_embeddings: false,
    sliding_window: 131072,
    imageSize: 1024,
    dtype: 'bfloat16',
  },
  tiny: {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 151936,
    tie_word_embeddings: true,
    sliding_window: 32768,
    imageSize: 256,
    dtype: 'float16',
  },
};

/** What remote code needs to find Apple's classes on the Hub. */
const HUB_AUTO_MAP = {
  AutoConfig: 'llava_qwen.LlavaConfig',
  AutoModelForCausalLM: 'llava_qwen.LlavaQwen2ForCausalLM',
};

export interface RandomConfigOptions {
  /** Qwen2 layers (default: the preset's). */
  layers?: number;
  /** Tower input size, a multiple of 64 (default: the preset's). */
  imageSize?: number;
  /** Stored float dtype (default: the preset's). */
  dtype?: RandomWeightDtype;
}

const DTYPES: readonly RandomWeightDtype[] = ['bfloat16', 'float16', 'float32'];

/** A preset's shape, checked (a RangeError names a bad preset). */
export function presetShape(preset: RandomPreset): Readonly<PresetShape> {
  const shape = (PRESET_SHAPES as Partial<Record<string, PresetShape>>)[preset];
  if (shape === undefined)
    throw new RangeError(
      `unknown preset '${String(preset)}' (expected ${RANDOM_PRESETS.map((p) => `'${p}'`).join(', ')})`,
    );
  return shape;
}

/** config.json for a preset: apple/FastVLM-0.5B's fields (keys sorted, as the Hub's file), the preset's shapes. */
export function randomCheckpointConfig(
  preset: RandomPreset,
  { layers, imageSize, dtype }: RandomConfigOptions = {},
): Record<string, unknown> {
  const { imageSize: defaultSize, dtype: defaultDtype, ...shape } = presetShape(preset);
  if (layers !== undefined && (!Number.isSafeInteger(layers) || layers < 1))
    throw new RangeError(`layers must be a positive integer, got ${layers}`);
  const torchDtype = dtype ?? defaultDtype;
  if (!DTYPES.includes(torchDtype))
    throw new RangeError(`dtype must be ${DTYPES.map((d) => `'${d}'`).join(', ')}, got '${String(torchDtype)}'`);
  const size = imageSize ?? defaultSize;
  const numHiddenLayers = layers ?? shape.num_hidden_layers;
  const config: Record<string, unknown> = {
    _name_or_path: './llava-v1.5-13b',
    architectures: ['LlavaQwen2ForCausalLM'],
    auto_map: HUB_AUTO_MAP,
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    freeze_mm_mlp_adapter: false,
    hidden_act: 'silu',
    image_aspect_ratio: 'pad',
    image_grid_pinpoints: null,
    initializer_range: 0.02,
    max_position_embeddings: 32768,
    max_window_layers: numHiddenLayers,
    mm_hidden_size: 3072,
    mm_patch_merge_type: 'flat',
    mm_projector_lr: null,
    mm_projector_type: 'mlp2x_gelu',
    mm_use_im_patch_token: false,
    mm_use_im_start_end: false,
    mm_vision_select_feature: 'patch',
    mm_vision_select_layer: -2,
    mm_vision_tower: `mobileclip_l_${size}`,
    model_type: 'llava_qwen2',
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    tokenizer_model_max_length: 8192,
    tokenizer_padding_side: 'right',
    torch_dtype: torchDtype,
    transformers_version: '4.39.3',
    tune_mm_mlp_adapter: false,
    unfreeze_mm_vision_tower: true,
    use_cache: true,
    use_mm_proj: true,
    use_sliding_window: false,
    ...shape,
    num_hidden_layers: numHiddenLayers,
  };
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
