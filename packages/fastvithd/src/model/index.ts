export {
  fastVitHdConfig,
  visionTowerConfig,
  VisionConfigError,
  type FastVitHdConfig,
  type TokenMixer,
} from './config.js';
export { Blocks, FastViTHD, GlobalPool2D, type EncodeResult, type Layer } from './fastvithd.js';
export {
  checkInferenceForm,
  loadFastVitHd,
  VISION_TOWER_PREFIX,
  type LoadFastVitHdOptions,
  type VisionDType,
} from './load.js';
export { fuseForInference } from './fusions.js';
export { AttentionBlock, MultiHeadSelfAttention } from './attention-block.js';
export { ConvExp, SEBlock } from './conv-exp.js';
export { ConvFFN } from './conv-ffn.js';
export { MobileOneBlock } from './mobile-one-block.js';
export { PatchEmbed, ReparamLargeKernelConv } from './patch-embed.js';
export { RepCPE } from './rep-cpe.js';
export { RepMixer, RepMixerBlock } from './rep-mixer-block.js';
