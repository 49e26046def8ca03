export { Parameter, type ParameterKind, type ParameterOptions, type ParameterValue } from './parameter.js';
export { Module, type Child } from './module.js';
export {
  loadWeights,
  parameterBytes,
  parameterStorage,
  type LoadWeightsOptions,
  type WeightDType,
} from './load-weights.js';
export { Linear } from './linear.js';
export { RmsNorm } from './rms-norm.js';
export { LayerNorm } from './layer-norm.js';
export { Embedding } from './embedding.js';
export { Conv2d, PointwiseConv2d, type Conv2dOptions, type PointwiseOptions } from './conv2d.js';
export { BatchNorm2d } from './batch-norm.js';
export { DepthwiseConvBatchNorm } from './conv-batch-norm.js';
export { fitsOneBinding, stackLinears } from './stack-rows.js';
