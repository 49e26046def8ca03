import { FastVlmError } from '@fastvlm/tensor';

/**
 * An image could not be read, decoded or preprocessed: empty, truncated or corrupt data, a format
 * other than PNG or JPEG, or malformed raw pixels.
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

/** The option that states each budget (see budget.ts). */
export type ImageBudgetName = 'maxDecodedBytes' | 'maxCoefficientPasses' | 'maxFileBytes' | 'maxImageSide';

/** An image would take more than a budget allows; raising that option (`budget`) lets it through. */
export class ImageBudgetError extends ImageError {
  readonly budget: ImageBudgetName;
  /** The budget in force, and what this image needs (at least). */
  readonly limit: number;
  readonly needed: number;
  constructor(source: string, problem: string, budget: ImageBudgetName, limit: number, needed: number) {
    super(source, problem);
    this.budget = budget;
    this.limit = limit;
    this.needed = needed;
  }
}

/** The message of whatever a third-party decoder threw, for wrapping in an ImageError. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
