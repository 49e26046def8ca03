/**
 * `@fastvlm/llava/node`: what writes or inspects model folders on disk (random checkpoints, the
 * tokenizer-file writer, streaming safetensors writes, inspect). The main entry bundles for browsers
 * without any of it.
 */
export {
  randomCheckpointConfig,
  writeRandomCheckpoint,
  type RandomCheckpointOptions,
  type RandomCheckpointResult,
  type RandomConfigOptions,
  type RandomPreset,
  type RandomWeightDtype,
  type WriteProgress,
} from '../random-checkpoint.js';
export {
  planSafetensors,
  writeSafetensorsStreaming,
  type SafetensorsPlan,
  type StreamingWriteOptions,
  type TensorSlot,
  type WriteBytes,
} from '../stream-safetensors.js';
export { QWEN2_ADDED_TOKENS, writeQwen2TokenizerFiles } from '../tokenizer-files.js';
export {
  inspectModelFolder,
  TOKENIZER_FILES,
  type GroupSummary,
  type InspectReport,
  type Mismatch,
  type StoredTensor,
} from '../inspect.js';
export { formatInspectReport } from '../inspect-format.js';
