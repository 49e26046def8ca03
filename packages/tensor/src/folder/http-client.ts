/**
 * HTTP requests for model folders: each with a timeout (to the response, and between body chunks),
 * retried with exponential backoff on network errors, timeouts, 408/429/5xx and bodies cut short,
 * never retried after the caller aborts. A peer that answers wrongly (a bad Content-Range, more bytes
 * than asked, a non-numeric size) is an `HttpSourceError` at once.
 */
import { ModelSourceError } from './model-folder.js';

export interface HttpOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Aborts every request in flight and every later one. */
  signal?: AbortSignal;
  /** Headers for every request, e.g. `{ Authorization: 'Bearer hf_...' }` for a gated repository. */
  headers?: Readonly<Record<string, string>>;
  /** Milliseconds to wait for a response, and between two chunks of a body. Default 30 000. */
  timeoutMs?: number;
  /** Tries after the first, per request. Default 4. */
  retries?: number;
  /** First wait before a retry, doubled each time (a server's Retry-After is honoured up to 30 s). Default 500 ms. */
  backoffMs?: number;
}

/** An HTTP peer that failed or misbehaved: `status` is the HTTP status when there was one. */
export class HttpSourceError extends ModelSourceError {
  readonly status: number | undefined;
  constructor(url: string, problem: string, status?: number, options?: { cause?: unknown }) {
    super(url, problem, options);
    this.status = status;
  }
}

/** Thrown inside a try to ask for another one (the reason is kept for the final message). */
class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const MAX_RETRY_AFTER_MS = 30_000;

export interface ResolvedHttpOptions {
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
}

export function resolveHttpOptions(options: HttpOptions): ResolvedHttpOptions {
  const fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchFn !== 'function') throw new ModelSourceError('http', 'this environment has no fetch()');
  const number = (name: string, value: number | undefined, fallback: number, min: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < min)
      throw new ModelSourceError('http', `${name} must be a number >= ${min}, got ${v}`);
    return v;
  };
  return {
    fetch: fetchFn,
    signal: options.signal,
    headers: options.headers ?? {},
    timeoutMs: number('timeoutMs', options.timeoutMs, 30_000, 1),
    retries: Math.floor(number('retries', options.retries, 4, 0)),
    backoffMs: number('backoffMs', options.backoffMs, 500, 0),
  };
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS);
}

/** One attempt's controls: an abort signal that fires on the caller's abort or on a stall. */
export class Attempt {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private readonly onAbort = (): void => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly outer: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Restarts the stall timer (call on each chunk of a body). */
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Retryable(`no answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  /** The error to act on after `cause` was thrown inside the attempt. */
  classify(cause: unknown): unknown {
    if (this.outer?.aborted) return this.outer.reason;
    if (this.timedOut) return new Retryable(`no answer within ${this.timeoutMs} ms`);
    if (cause instanceof Retryable || cause instanceof ModelSourceError) return cause;
    // fetch rejects with a TypeError on network failures (refused, reset, DNS).
    return new Retryable(`network error: ${describe(cause)}`);
  }

  end(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Runs `attempt` until it returns, retrying `Retryable` failures with backoff. `what` names the
 * request in the final error ("GET bytes 0-99 of URL").
 */
export async function withRetries<T>(
  url: string,
  options: ResolvedHttpOptions,
  attempt: (controls: Attempt) => Promise<T>,
): Promise<T> {
  let last = '';
  for (let tryIndex = 0; tryIndex <= options.retries; tryIndex++) {
    const controls = new Attempt(options.signal, options.timeoutMs);
    let wait: number | undefined;
    try {
      return await attempt(controls);
    } catch (cause) {
      const error = controls.classify(cause);
      if (!(error instanceof Retryable)) throw error;
      last = error.message;
      wait = error.retryAfterMs;
    } finally {
      controls.end();
    }
    if (tryIndex < options.retries) await sleep(wait ?? options.backoffMs * 2 ** tryIndex, options.signal);
  }
  const tries = options.retries + 1;
  throw new HttpSourceError(url, `failed after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${last}`);
}

/** Turns a non-success status into the error to act on; returns normally for 2xx. */
export function checkStatus(url: string, response: Response): void {
  const status = response.status;
  if (status >= 200 && status < 300) return;
  if (status === 408 || status === 429 || status >= 500) {
    throw new Retryable(`HTTP ${status} ${response.statusText}`.trim(), retryAfterMs(response));
  }
  const code = response.headers.get('x-error-code');
  if (status === 401 || status === 403) {
    const why =
      code === 'GatedRepo'
        ? 'the repository is gated: accept its terms on the Hub and pass a token (headers.Authorization)'
        : code === 'RepoNotFound'
          ? 'no such repository, or it is private (pass a token to read a private one)'
          : 'access denied (a private or gated repository needs a token)';
    throw new HttpSourceError(url, `${why} (HTTP ${status})`, status);
  }
  throw new HttpSourceError(url, `HTTP ${status} ${response.statusText}`.trim(), status);
}

/** Fetches `url` with the attempt's signal and the folder's headers (plus `extra`). */
export function request(
  url: string,
  options: ResolvedHttpOptions,
  controls: Attempt,
  extra: Record<string, string> = {},
): Promise<Response> {
  return options.fetch(url, { headers: { ...options.headers, ...extra }, signal: controls.signal });
}

/**
 * Reads a body into `target`, at most `target.byteLength` bytes, counting what arrived in
 * `received.bytes` as it arrives (so that a body cut short can be resumed). More bytes than room is
 * a misbehaving peer. A stall past the timeout aborts it.
 */
export async function readBody(
  url: string,
  response: Response,
  target: Uint8Array,
  controls: Attempt,
  received: { bytes: number } = { bytes: 0 },
): Promise<number> {
  if (response.body === null) return 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return received.bytes;
      controls.arm();
      if (received.bytes + chunk.value.byteLength > target.byteLength) {
        throw new HttpSourceError(url, `the server sent more than the ${target.byteLength} bytes asked for`);
      }
      target.set(chunk.value, received.bytes);
      received.bytes += chunk.value.byteLength;
    }
  } finally {
    reader.releaseLock();
    void response.body.cancel().catch(() => undefined);
  }
}

/** `Content-Range: bytes a-b/total` (total may be `*`), or a misbehaving-peer error. */
export function parseContentRange(
  url: string,
  value: string | null,
): { start: number; end: number; total: number | undefined } {
  const match = value === null ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim());
  if (match === null)
    throw new HttpSourceError(url, `the server answered a Range request with Content-Range ${JSON.stringify(value)}`);
  const [start, end] = [Number(match[1]), Number(match[2])];
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    end < start ||
    (total !== undefined && !Number.isSafeInteger(total))
  ) {
    throw new HttpSourceError(url, `the server sent an impossible Content-Range ${JSON.stringify(value)}`);
  }
  return { start, end, total };
}

export { Retryable };
