/**
 * How the CLI fails: every error becomes ONE line on stderr and a non-zero exit code. Errors the
 * user can cause (FastVlmError and its kinds, Node's file-system errors) print their message; any
 * other error is a bug, printed with a hint to set FASTVLM_DEBUG=1 for the stack.
 */
import { FastVlmError } from '@fastvlm/tensor';
import { CommanderError } from 'commander';

/** The command line asks for something impossible (a missing or contradictory option). */
export class UsageError extends FastVlmError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** An input the user named (a file, a folder) cannot be used. */
export class InputError extends FastVlmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT', message, options);
  }
}

/** The user interrupted the command (Ctrl-C, SIGTERM); whatever it was writing was removed. */
export class InterruptedError extends FastVlmError {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals, message: string) {
    super('INTERRUPTED', message);
    this.signal = signal;
  }
}

export const EXIT_FAILURE = 1;
/** Every command line that is refused, by commander or by our checks. */
export const EXIT_USAGE = 2;
/** 128 + the signal's number, as shells report a process a signal ended. */
const EXIT_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Whether FASTVLM_DEBUG asks for stack traces. */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.FASTVLM_DEBUG?.trim() ?? '';
  return value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** Writes `error` as one line (plus its stack under FASTVLM_DEBUG) and returns the exit code to use. */
export function reportError(
  error: unknown,
  writeErr: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): number {
  // Commander has already printed its own one-line message (or the help it was asked for); a
  // command line it refuses is a usage error like ours, with the same exit code.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  let line: string;
  let exitCode = EXIT_FAILURE;
  if (error instanceof FastVlmError) {
    line = error.message;
    if (error instanceof UsageError) exitCode = EXIT_USAGE;
    if (error instanceof InterruptedError) exitCode = EXIT_SIGNAL[error.signal] ?? EXIT_FAILURE;
  } else if (isSystemError(error)) {
    line = error.message;
  } else {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    line = `unexpected ${what}${debugEnabled(env) ? '' : ' (set FASTVLM_DEBUG=1 to see the stack trace)'}`;
  }
  writeErr(`error: ${oneLine(line)}\n`);
  if (debugEnabled(env)) writeErr(`${stackOf(error)}\n`);
  return exitCode;
}

/** A Node error from the file system or the OS: "ENOENT: no such file or directory, open 'x'". */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The stack of `error` and of each error in its `cause` chain. */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}
