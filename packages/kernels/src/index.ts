export { flatIndex, grid1d, GRID_BUILTINS } from './grid.js';
export { loaderFn, wgslStorageType, WGSL_GELU } from './wgsl-loaders.js';
export { isTensor, weightDType, weightShape, type Weight, type WeightDType } from './weight.js';
export {
  activate,
  activationExpr,
  add,
  binary,
  gelu,
  layerScaleResidual,
  mul,
  relu,
  sigmoid,
  silu,
  siluMul,
  type Activation,
  type BinaryOp,
} from './elementwise.js';
export { layerNorm } from './layer-norm.js';
export { rmsNorm } from './rms-norm.js';
export { batchNorm, foldBatchNorm } from './batch-norm.js';
export { softmax, type SoftmaxOptions } from './softmax.js';
export { rope, ropeInverseFrequencies } from './rope.js';
export { ropeQkvIntoCache } from './rope-qkv.js';
export { checkFloatDType, type FloatDType } from './row-wise.js';
export { conv2d, type Conv2dOptions } from './conv2d.js';
export { depthwiseConv2d, type DepthwiseConv2dOptions } from './depthwise-conv2d.js';
export { globalAvgPool, squeezeExcite, type PointwiseConv, type SqueezeExciteWeights } from './pooling.js';
export { packConvWeights, type BatchNorm, type FloatTensor } from './conv-weights.js';
export { visionAttention, visionAttentionTiling, type VisionAttentionTiling } from './vision-attention.js';
export { causalAttention, type CausalAttentionOptions, type CausalAttentionPath } from './causal-attention.js';
export { appendKv, KvCache, type KvCacheOptions } from './kv-cache.js';
export { checkTokenIds, embedding } from './embedding.js';
export { spliceRows } from './splice-rows.js';
export { argmax } from './argmax.js';
export {
  checkSamplingOptions,
  drawToken,
  sample,
  samplingDistribution,
  SamplingError,
  type SamplingOptions,
  type TokenDistribution,
} from './sampling.js';
export { SeededRandom, type RandomSource } from './rng.js';
export { linear, linearSwiGlu, type LinearOptions } from './linear.js';
