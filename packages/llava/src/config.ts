/**
 * FastVLM's config.json (`model_type` llava_qwen2): Qwen2's fields at the top level plus the
 * vision tower and projector fields of Apple's LLaVA fork (spec section 7). Everything this
 * package can run is checked here; anything else is a ConfigError naming the field.
 */
import { ConfigError, parseQwen2Config, type Qwen2Config } from '@fastvlm/qwen2';

export { ConfigError };

/** conv_exp's output width: the image features the projector reads. */
export const FASTVITHD_FEATURE_WIDTH = 3072;

/** The tower's feature map is the input downsampled 64x (stem 4x, four 2x patch embeds). */
export const FASTVITHD_DOWNSAMPLING = 64;

export interface FastVlmConfig {
  /** The decoder's hyperparameters (hidden size, layers, heads, vocab, tied head...). */
  llm: Qwen2Config;
  /** `mobileclip_l_N`, as config.json names it. */
  visionTower: string;
  /** N: the tower reads N x N pixels. */
  imageSize: number;
  /** Image tokens the projector yields: (N / 64)^2. */
  imageTokens: number;
  /** mm_hidden_size: the projector's input width (3072). */
  mmHiddenSize: number;
  projectorType: 'mlp2x_gelu';
  /** How images are squared before resizing: 'pad' (centred on black). */
  imageAspectRatio: 'pad';
  /** `torch_dtype` (or `dtype`): the weights' stored float type per the config, when given. */
  torchDtype: string | undefined;
  bosTokenId: number | undefined;
}

type Json = Record<string, unknown>;

const TOWER_NAME = /^mobileclip_l_(\d+)$/;

function requireString(json: Json, field: string): string {
  const value = json[field];
  if (value === undefined || value === null) throw new ConfigError(field, 'is missing');
  if (typeof value !== 'string') throw new ConfigError(field, `must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** `mobileclip_l_1024` -> 1024 (a positive multiple of 64). */
export function towerImageSize(visionTower: string): number {
  const match = TOWER_NAME.exec(visionTower);
  if (match === null) {
    throw new ConfigError(
      'mm_vision_tower',
      `'${visionTower}' is not supported (FastVLM's tower is 'mobileclip_l_N', N a multiple of 64)`,
    );
  }
  const size = Number(match[1]);
  if (size < FASTVITHD_DOWNSAMPLING || size % FASTVITHD_DOWNSAMPLING !== 0) {
    throw new ConfigError(
      'mm_vision_tower',
      `image size ${size} in '${visionTower}' must be a positive multiple of 64`,
    );
  }
  return size;
}

function checkEqual(json: Json, field: string, expected: unknown, why: string): void {
  const value = json[field];
  if (value !== undefined && value !== expected) {
    throw new ConfigError(field, `${JSON.stringify(value)} is not supported (${why})`);
  }
}

function optionalTokenId(json: Json, field: string): number | undefined {
  const value = json[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new ConfigError(field, `must be a token id, got ${JSON.stringify(value)}`);
  return value;
}

function torchDtype(json: Json): string | undefined {
  for (const field of ['torch_dtype', 'dtype']) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (value !== 'float16' && value !== 'float32' && value !== 'bfloat16') {
      throw new ConfigError(
        field,
        `${JSON.stringify(value)} is not a weight dtype this loader knows (float16, bfloat16, float32)`,
      );
    }
    return value;
  }
  return undefined;
}

/** Reads and checks a parsed FastVLM config.json. */
export function parseFastVlmConfig(json: unknown): FastVlmConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError('(root)', 'config.json must hold a JSON object');
  const c = json as Json;
  const modelType = requireString(c, 'model_type');
  if (modelType !== 'llava_qwen2')
    throw new ConfigError('model_type', `'${modelType}' is not a FastVLM model (expected 'llava_qwen2')`);
  const llm = parseQwen2Config(c);

  const visionTower = requireString(c, 'mm_vision_tower');
  const imageSize = towerImageSize(visionTower);
  const grid = imageSize / FASTVITHD_DOWNSAMPLING;

  if (c.mm_hidden_size === undefined) throw new ConfigError('mm_hidden_size', 'is missing');
  if (c.mm_hidden_size !== FASTVITHD_FEATURE_WIDTH) {
    throw new ConfigError(
      'mm_hidden_size',
      `${JSON.stringify(c.mm_hidden_size)} does not match the FastViTHD tower's ${FASTVITHD_FEATURE_WIDTH} feature channels`,
    );
  }
  // Apple's builder falls back to a single 'linear' projector when the field is absent.
  const projectorType = requireString(c, 'mm_projector_type');
  if (projectorType !== 'mlp2x_gelu') {
    throw new ConfigError(
      'mm_projector_type',
      `'${projectorType}' is not supported (only 'mlp2x_gelu': Linear, GELU, Linear)`,
    );
  }
  const aspect = requireString(c, 'image_aspect_ratio');
  if (aspect !== 'pad')
    throw new ConfigError('image_aspect_ratio', `'${aspect}' is not supported (only 'pad': centred on a black square)`);
  checkEqual(c, 'mm_patch_merge_type', 'flat', "only 'flat' image features are supported");
  checkEqual(c, 'mm_use_im_start_end', false, 'image start/end tokens are not supported');

  return {
    llm,
    visionTower,
    imageSize,
    imageTokens: grid * grid,
    mmHiddenSize: FASTVITHD_FEATURE_WIDTH,
    projectorType,
    imageAspectRatio: aspect,
    torchDtype: torchDtype(c),
    bosTokenId: optionalTokenId(c, 'bos_token_id'),
  };
}
