export {
  createDevice,
  Device,
  type Binding,
  type DeviceLimits,
  type DeviceOptions,
  type FeatureLevel,
  type KernelShape,
  type ObservedDispatch,
  KERNEL_SHAPES,
  type OptionalFeature,
} from './device.js';
export {
  KERNEL_LIMITS,
  requiredLimitsFor,
  type KernelLimitName,
  type LimitCaps,
  type LimitNeed,
} from './device-limits.js';
export { adapterName, describeAdapter, type AdapterDescription } from './adapter-info.js';
export { Tensor, type TensorBlock, type TensorData, type TensorOptions } from './tensor.js';
export { Int8Weight, quantizeInt8 } from './int8-weight.js';
export { dequantizeInt4, INT4_GROUP_SIZE, Int4Weight, quantizeInt4 } from './int4-weight.js';
export { findNonFinite, NonFiniteActivationError, NonFiniteWeightError } from './non-finite.js';
export { concatRows } from './concat-rows.js';
export { rowSpans, type RowSpan } from './row-spans.js';
export { DTYPES, bytesPerElement, typedView, type DType, type TypedArrayFor } from './dtype.js';
export { checkShape, formatShape, numel, sameShape, type Shape } from './shape.js';
export type { BindingRef, Kernel } from './kernel-cache.js';
export type { DispatchAccess, DispatchProfile, DispatchWork, KernelProfile, SectionProfile } from './profiler.js';
export {
  recordedBufferIds,
  recordedUniforms,
  sameStructure,
  StepUniforms,
  type RecordedCommand,
  type RecordedUniform,
  type RecordedWork,
} from './recorded-work.js';
export type { PooledBuffer } from './buffer-pool.js';
export type { Disposable } from './scope.js';
export { sizeClass } from './buffer-pool.js';
export { DeviceError, DisposedError, FastVlmError, SafetensorsError, ShapeError } from './errors.js';
export {
  bf16ArrayToF32,
  bf16ToF16InPlace,
  f16ArrayToF32,
  f16BitsToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16Bits,
  f32ToF16Bits,
} from './half.js';
export { NO_ADAPTER_HELP, NO_WEBGPU_HELP } from './gpu-provider.js';
export { isNode } from './runtime.js';
export * from './safetensors/index.js';
export {
  CheckpointError,
  loadInt4Weight,
  loadInt8Weight,
  loadTensor,
  readFloat32,
  type FloatStorage,
  type LoadTensorOptions,
  type QuantizedLoadOptions,
} from './load-weights.js';
export {
  checkRelativeName,
  MAX_WHOLE_FILE_BYTES,
  ModelSourceError,
  readTextFile,
  readWholeFile,
  relativeNameProblem,
  type FolderFile,
  type ModelFolder,
} from './folder/model-folder.js';
export { isUrl, locateInFolder, openModelFolder, type FolderInput } from './folder/open-folder.js';
export {
  httpFolder,
  resolveFolderUrl,
  type BlockStore,
  type HttpFolderOptions,
  type HttpFolderStats,
} from './folder/http-folder.js';
export { HttpSourceError, type HttpOptions } from './folder/http-client.js';
export { blobFolder, directoryHandleFolder, type DirectoryHandle, type PickedFile } from './folder/blob-folder.js';
export { cacheStorageBlocks, clearCacheStorageBlocks, WEIGHT_CACHE_NAME } from './folder/cache-storage.js';
export { watchFolder, type ReadProgress } from './folder/watch-folder.js';
