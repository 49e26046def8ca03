/**
 * `@fastvlm/tensor/node`: what only Node can do — model folders on disk, writing safetensors files,
 * Dawn's Node binding. The package's main entry bundles for browsers without any of it.
 */
export { createDawnGpu, lowerJsThreadPriority, requestAdapterQuietly } from './dawn.js';
export {
  configureShaderCache,
  shaderCacheDir,
  shaderCacheForProcess,
  type ShaderCacheSetting,
} from './shader-cache.js';
export { makeFolderSync, missingLevels } from './make-folder.js';
export { withStderrFiltered } from './stderr-filter.js';
export { shortHash, wgslDumpName, wgslFileDump } from './wgsl-dump.js';
export { kindOf, locateNodePath, nodeFolder, openNodeFile } from './node-folder.js';
export { writeSafetensors } from './write-safetensors.js';
export { writeShardedSafetensors, type ShardedWriteResult } from './write-sharded-safetensors.js';
