export { ConfigError, parseQwen2Config, type Qwen2Config } from './config.js';
export { Attention } from './attention.js';
export { Mlp } from './mlp.js';
export { DecoderLayer } from './decoder-layer.js';
export { Qwen2ForCausalLM, Qwen2Model, type ForwardInput, type ForwardOutput } from './qwen2-model.js';
export { fuseForInference } from './fusions.js';
export { describeLmHead, hasOwnLmHead, lmHeadSource, type LmHeadSource } from './lm-head.js';
export { loadQwen2, loadQwen2FromCheckpoint, readQwen2Config, type LoadQwen2Options, type ModelDType } from './load.js';
export {
  checkGenerationOptions,
  checkGenerationRequest,
  generateTokens,
  GenerationError,
  type CheckedGeneration,
  type FinishReason,
  type GenerationOptions,
} from './generate.js';
export { DecodeSteps, type DecodeStepMode, type DecodeStepsOptions } from './decode-steps.js';
export { checkStopStrings, StopStringMatcher } from './stop-strings.js';
export {
  defaultStopTokenIds,
  generateText,
  streamText,
  type TextGenerationOptions,
  type TextGenerationResult,
} from './text-generation.js';
