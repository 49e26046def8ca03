/**
 * The FastViTHD tower's shape. Only the input size varies between FastVLM releases: it comes from
 * `mm_vision_tower` = `mobileclip_l_N` in config.json (N a multiple of 64, five halvings of the
 * map after the stem's two); widths, depths and mixers are the MobileCLIP-L image tower's.
 */
import { FastVlmError } from '@fastvlm/tensor';

export type TokenMixer = 'repmixer' | 'attention';

export interface FastVitHdConfig {
  /** N: the tower reads [N, N, 3] pixels. */
  imageSize: number;
  /** Channels of stages 0..4. */
  widths: readonly number[];
  /** Blocks in stages 0..4. */
  depths: readonly number[];
  tokenMixers: readonly TokenMixer[];
  /** ConvFFN hidden width = mlpRatio * C. */
  mlpRatio: number;
  /** Width of an attention head (24 heads at 768 channels, 48 at 1536). */
  headDim: number;
  /** conv_exp's output channels: the image feature width (mm_hidden_size). */
  embedDim: number;
  /** conv_exp.se's reduced width (embedDim / 16). */
  seWidth: number;
  /** Side of the final feature map: N / 64. */
  gridSize: number;
  /** Image tokens: (N / 64)^2. */
  tokens: number;
}

/** config.json's `mm_vision_tower` names no tower this package can build. */
export class VisionConfigError extends FastVlmError {
  constructor(
    /** The config.json field at fault. */
    readonly field: string,
    readonly problem: string,
  ) {
    super('CONFIG', `config.json field '${field}': ${problem}`);
  }
}

const TOWER_NAME = /^mobileclip_l_(\d+)$/;

/** The tower for a square input of `imageSize` pixels (a multiple of 64). */
export function fastVitHdConfig(imageSize: number): FastVitHdConfig {
  if (!Number.isInteger(imageSize) || imageSize < 64 || imageSize % 64 !== 0) {
    throw new VisionConfigError(
      'mm_vision_tower',
      `the FastViTHD image size must be a positive multiple of 64, got ${imageSize}`,
    );
  }
  const gridSize = imageSize / 64;
  return {
    imageSize,
    widths: [96, 192, 384, 768, 1536],
    depths: [2, 12, 24, 4, 2],
    tokenMixers: ['repmixer', 'repmixer', 'repmixer', 'attention', 'attention'],
    mlpRatio: 4,
    headDim: 32,
    embedDim: 3072,
    seWidth: 192,
    gridSize,
    tokens: gridSize * gridSize,
  };
}

/** The tower named by config.json's `mm_vision_tower`, e.g. `mobileclip_l_1024`. */
export function visionTowerConfig(mmVisionTower: string): FastVitHdConfig {
  const match = TOWER_NAME.exec(mmVisionTower);
  if (!match)
    throw new VisionConfigError(
      'mm_vision_tower',
      `'${mmVisionTower}' is not a FastViTHD tower (expected mobileclip_l_N)`,
    );
  return fastVitHdConfig(Number(match[1]));
}
