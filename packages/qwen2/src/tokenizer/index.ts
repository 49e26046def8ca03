export { Tokenizer, type DecodeOptions, type EncodeOptions } from './tokenizer.js';
export { StreamDecoder } from './stream-decoder.js';
export { TokenizerError } from './errors.js';
export type { AddedToken } from './added-tokens.js';
export type { TokenizerFileName, TokenizerFiles } from './load.js';
export type { NormalizationForm, TokenizerSpec } from './spec.js';
export { QWEN2_SPLIT_PATTERN } from './pretokenize.js';
