export {
  ConfigError,
  FASTVITHD_FEATURE_WIDTH,
  parseFastVlmConfig,
  towerImageSize,
  type FastVlmConfig,
} from './config.js';
export {
  buildParts,
  checkpointLayout,
  expectedTensors,
  PART_PREFIXES,
  PROJECTOR_PREFIX,
  safetensorsDtypeOf,
  TENSOR_GROUPS,
  tensorGroup,
  VISION_TOWER_PREFIX,
  type ExpectedTensor,
  type LayoutTensor,
  type ModelParts,
  type PartName,
  type TensorGroup,
} from './checkpoint-layout.js';
export * from './model/index.js';
