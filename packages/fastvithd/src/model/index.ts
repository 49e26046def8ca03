export {
  fastVitHdConfig,
  visionTowerConfig,
  VisionConfigError,
  type FastVitHdConfig,
  type TokenMixer,
} from './config.js';
export { Blocks, FastViTHD, type EncodeResult, type Layer } from './fastvithd.js';
export { checkInferenceForm, loadFastVitHd, VISION_TOWER_PREFIX, type LoadFastVitHdOptions } from './load.js';
export { AttentionBlock } from './attention-block.js';
export { ConvExp } from './conv-exp.js';
export { ConvFFN } from './conv-ffn.js';
export { PatchEmbedDownsample } from './patch-embed-downsample.js';
export { pointwiseConv, type PointwiseOptions } from './pointwise.js';
export { RepCPE } from './rep-cpe.js';
export { RepMixerBlock } from './rep-mixer-block.js';
export { Stem } from './stem.js';
export { TowerWeights, type ConvWeights, type MatrixWeights, type VisionDType } from './weights.js';
