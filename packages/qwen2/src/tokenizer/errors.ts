import { FastVlmError } from '@fastvlm/tensor';

/** A tokenizer file is missing or malformed, or an id/token has no place in the vocabulary. */
export class TokenizerError extends FastVlmError {
  /** The file at fault (a path, or a file name for in-memory files); undefined for runtime misuse. */
  readonly file: string | undefined;
  /** What is wrong, without the file name. */
  readonly problem: string;
  constructor(file: string | undefined, problem: string, options?: { cause?: unknown }) {
    super('TOKENIZER', file === undefined ? problem : `${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}
