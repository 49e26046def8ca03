export type { Weight, WeightDType } from './weight.js';
export {
  activate,
  add,
  binary,
  gelu,
  layerScaleResidual,
  mul,
  relu,
  sigmoid,
  silu,
  siluMul,
  type BinaryOp,
} from './elementwise.js';
export type { Activation } from './shared/math.js';
export { layerNorm } from './layer-norm.js';
export { rmsNorm } from './rms-norm.js';
export { batchNorm, foldBatchNorm } from './batch-norm.js';
export { softmax, type SoftmaxOptions } from './softmax.js';
export { rope, ropeInverseFrequencies } from './rope.js';
export { ropeQkvIntoCache } from './rope-qkv.js';
export { conv2d, type Conv2dOptions } from './conv2d.js';
export { depthwiseConv2d, type DepthwiseConv2dOptions } from './depthwise-conv2d.js';
export { globalAvgPool, squeezeExcite, type PointwiseConv, type SqueezeExciteWeights } from './pooling.js';
export type { BatchNorm, FloatTensor } from './conv-weights.js';
export { foldBatchNormIntoConv } from './fold-batch-norm.js';
export { visionAttention, visionAttentionTiling, type VisionAttentionTiling } from './vision-attention.js';
export { causalAttention, type CausalAttentionOptions, type CausalAttentionPath } from './causal-attention.js';
export { appendKv, KvCache, type KvCacheOptions } from './kv-cache.js';
export { checkTokenIds, embedding } from './embedding.js';
export { spliceRows } from './splice-rows.js';
export { argmax } from './sampling/argmax.js';
export {
  checkSamplingOptions,
  drawToken,
  MAX_TEMPERATURE,
  MIN_TEMPERATURE,
  NonFiniteLogitsError,
  sample,
  samplingDistribution,
  SamplingError,
  type SamplingOptions,
  type TokenDistribution,
} from './sampling/sampling.js';
export { SeededRandom, type RandomSource } from './sampling/rng.js';
export { linear, linearSwiGlu, type InputNorm, type LinearOptions } from './linear/linear.js';
