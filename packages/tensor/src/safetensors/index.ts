/** Safetensors I/O: validated, lazy reading of files and sharded checkpoints, and writing. */
export { SAFETENSORS_DTYPES, bytesPerElement, isSafetensorsDType } from './dtypes.js';
export type { SafetensorsDType } from './dtypes.js';
export { MAX_HEADER_BYTES, parseSafetensorsHeader } from './header.js';
export type { SafetensorsHeader, TensorEntry } from './header.js';
export { bytesToFloat32 } from './convert.js';
export { SafetensorsFile } from './file.js';
export { SafetensorsCheckpoint } from './checkpoint.js';
export {
  INDEX_FILE_NAME,
  SINGLE_FILE_NAME,
  parseShardIndex,
  shardNameProblem,
  type ShardIndex,
} from './shard-index.js';
export { encodeSafetensors, layoutSafetensors } from './writer.js';
export type { SafetensorsLayout, TensorToWrite, TensorsToWrite } from './writer.js';
