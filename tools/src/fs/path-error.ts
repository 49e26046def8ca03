/** A path the user gave cannot be used: the message names what it is for, the path, and why. */
import { describeFileError } from '@fastvlm/image/node';
import { InputError } from '../cli/errors.js';

export class PathError extends InputError {
  /** The path at fault. */
  readonly path: string;
  constructor(what: string, path: string, problem: string, options?: { cause?: unknown }) {
    super(`${what} ${path}: ${problem}`, options);
    this.path = path;
  }

  /** The error for a failed system call on `path`, in words, without Node's repeat of the path. */
  static fromSystem(what: string, path: string, doing: string, cause: unknown): PathError {
    return new PathError(what, path, `${doing}: ${describeFileError(cause)}`, { cause });
  }

  /** The error for a failed stat of `path`: 'does not exist', or the system's reason. */
  static fromStat(what: string, path: string, cause: unknown): PathError {
    const code = (cause as NodeJS.ErrnoException).code;
    return new PathError(what, path, code === 'ENOENT' ? 'does not exist' : describeFileError(cause), { cause });
  }
}
