export { flatIndex, grid1d, GRID_BUILTINS } from './grid.js';
export { loaderFn, wgslStorageType, WGSL_GELU } from './wgsl-loaders.js';
export { isTensor, weightDType, weightShape, type Weight, type WeightDType } from './weight.js';
export { activate, activationExpr, add, binary, gelu, layerScaleResidual, mul, relu, sigmoid, silu, siluMul, type Activation, type BinaryOp } from './elementwise.js';
