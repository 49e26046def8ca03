/** Bounded retries of network work, and the HubError a failure becomes once they are used up. */
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, type HubProblem } from './errors.js';
import { TransportError } from './http.js';

export interface RetryPolicy {
  /** Tries after the first (at most 2 when the host is unreachable); 0 tries once. */
  readonly retries: number;
  /** The wait before the first retry; it doubles each time (at most 30 s). */
  readonly delayMs: number;
}

const UNREACHABLE_RETRIES = 2;

const PROBLEM_OF: Record<TransportError['kind'], HubProblem> = {
  unreachable: 'unreachable',
  dropped: 'dropped',
  busy: 'http',
  protocol: 'bad-response',
};

/**
 * Runs `attempt(n)` (n = 0, 1, ...) until it returns, throws anything but a retryable
 * TransportError, or has failed `retries + 1` times; a TransportError left over becomes a HubError
 * naming `repo` and `file`.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  repo: string,
  file: string | undefined,
  attempt: (n: number) => Promise<T>,
  onRetry?: (error: TransportError, retry: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      // A host that refuses or cannot be resolved rarely comes back within seconds: fewer tries.
      const retries = error.kind === 'unreachable' ? Math.min(policy.retries, UNREACHABLE_RETRIES) : policy.retries;
      if (!error.retryable || n >= retries) {
        const tries = n + 1 === 1 ? '' : ` (gave up after ${n + 1} tries)`;
        throw new HubError(repo, file, PROBLEM_OF[error.kind], `${error.message}${tries}`, { cause: error });
      }
      onRetry?.(error, n + 1);
      await sleep(Math.min(policy.delayMs * 2 ** n, 30_000));
    }
  }
}
