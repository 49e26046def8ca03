/**
 * Ctrl-C (SIGINT) and SIGTERM during a command that writes files: the first signal aborts the work,
 * which stops at its next check and removes what it was writing, and the command ends with an
 * InterruptedError (exit 130 or 143); a second signal ends the process at once.
 */
import { InterruptedError } from './errors.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Runs `work` with SIGINT/SIGTERM turned into an abort of the signal it is given. */
export async function abortOnSignal<T>(
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  target: NodeJS.EventEmitter = process,
): Promise<T> {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort(
      new InterruptedError(signal, `interrupted (${signal}): ${what} was not written; nothing partial is left`),
    );
  };
  for (const signal of SIGNALS) target.on(signal, handler);
  try {
    return await work(controller.signal);
  } catch (error) {
    // Whatever the work threw on its way out, the interruption is what the user should read.
    if (controller.signal.aborted) throw controller.signal.reason as InterruptedError;
    throw error;
  } finally {
    for (const signal of SIGNALS) target.off(signal, handler);
  }
}
