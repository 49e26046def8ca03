import { FastVlmError } from '@fastvlm/tensor';

/**
 * An image could not be read, decoded or preprocessed: empty, truncated or corrupt data, a format
 * other than PNG or JPEG, dimensions over the pixel budget, or malformed raw pixels.
 */
export class ImageError extends FastVlmError {
  /** The file path, or the name given for bytes / raw pixels. */
  readonly source: string;
  /** What is wrong, without the source's name. */
  readonly problem: string;
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super('IMAGE', `${source}: ${problem}`, options);
    this.source = source;
    this.problem = problem;
  }
}

/** The message of whatever a third-party decoder threw, for wrapping in an ImageError. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
