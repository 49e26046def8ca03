export { FastVLM, type LoadFastVlmOptions } from './fast-vlm.js';
export { LoadOptionsError, ModelFolderError, PromptError } from './errors.js';
export { defaultVisionDtype, loadParts, type LoadProgress, type LoadStage, type PartDTypes } from './load-parts.js';
export { dumpPipeline, type DumpedTensor, type PipelineDump } from './pipeline-dump.js';
export { Projector } from './projector.js';
export {
  DEFAULT_SYSTEM_PROMPT,
  encodeFollowUp,
  encodePrompt,
  formatPrompt,
  IMAGE_TOKEN_INDEX,
  type ChatMessage,
  type Prompt,
  type PromptOptions,
} from './prompt.js';
export { openFastVlmFolder, readFastVlmConfig } from './read-config.js';
export {
  checkAnswerOptions,
  checkRequest,
  DEFAULT_MAX_NEW_TOKENS,
  type AnswerOptions,
  type GenerateRequest,
  type GenerateResult,
  type GenerateTimings,
} from './request.js';
export {
  ChatBusyError,
  ChatContextError,
  ChatSession,
  DEFAULT_CHAT_CONTEXT,
  type ChatOptions,
  type ChatTurnOptions,
  type ChatTurnResult,
  type ChatTurnTimings,
} from './chat.js';
