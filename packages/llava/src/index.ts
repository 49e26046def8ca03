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
export {
  randomCheckpointConfig,
  writeRandomCheckpoint,
  type RandomCheckpointOptions,
  type RandomCheckpointResult,
  type RandomConfigOptions,
  type RandomPreset,
  type RandomWeightDtype,
  type WriteProgress,
} from './random-checkpoint.js';
export { fillRandom, initRule, type InitRule } from './random-init.js';
export { RandomStream } from './random-stream.js';
export {
  planSafetensors,
  writeSafetensorsStreaming,
  type SafetensorsPlan,
  type StreamingWriteOptions,
  type TensorSlot,
  type WriteBytes,
} from './stream-safetensors.js';
export { QWEN2_ADDED_TOKENS, writeQwen2TokenizerFiles } from './tokenizer-files.js';
export {
  inspectModelFolder,
  ModelFolderError,
  TOKENIZER_FILES,
  type GroupSummary,
  type InspectReport,
  type Mismatch,
  type StoredTensor,
} from './inspect.js';
export { formatBytes, formatInspectReport } from './inspect-format.js';
export * from './model/index.js';
