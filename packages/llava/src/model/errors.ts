/** Typed errors of the end-to-end model that no lower package already names. */
import { FastVlmError } from '@fastvlm/tensor';

/** A prompt that cannot be built: empty text, a malformed conversation. */
export class PromptError extends FastVlmError {
  constructor(message: string) {
    super('PROMPT', message);
  }
}

/** FastVLM.load was given options it cannot honour (an unknown weight dtype). */
export class LoadOptionsError extends FastVlmError {
  constructor(message: string) {
    super('LOAD_OPTIONS', message);
  }
}

/** A model folder cannot be loaded at all; `reason` says why in one line, `cause` holds the typed error behind it. */
export class ModelFolderError extends FastVlmError {
  constructor(
    readonly folder: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('MODEL_FOLDER', `${folder}: ${reason.replace(/\s*\n\s*/g, ' ')}`, options);
  }
}
