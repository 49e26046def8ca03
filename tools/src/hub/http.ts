/**
 * GET over http or https with node:http(s): redirects followed (to other hosts too, without the
 * token), a connect timeout and an idle timeout on every request, and network failures turned into
 * TransportErrors that say whether trying again may help.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface HttpOptions {
  /** Sent as `Authorization: Bearer` to the origin of the URL asked for, never to a redirect's other host. */
  readonly token: string | undefined;
  /** Longest wait for a TCP connection. */
  readonly connectTimeoutMs: number;
  /** Longest silence once connected: waiting for headers, or between two chunks of a body. */
  readonly idleTimeoutMs: number;
  readonly maxRedirects: number;
}

/**
 * The network failed: 'unreachable' (no connection could be made), 'dropped' (the connection broke
 * or stalled), 'busy' (HTTP 429 or 5xx) are worth another try; 'protocol' (a redirect loop, a
 * redirect to a non-http URL) is not.
 */
export class TransportError extends Error {
  readonly kind: 'unreachable' | 'dropped' | 'busy' | 'protocol';
  constructor(kind: TransportError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'TransportError';
  }
  get retryable(): boolean {
    return this.kind !== 'protocol';
  }
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  readonly url: string;
  /** The body, unread: the caller consumes it or calls `body.resume()` to discard it. */
  readonly body: IncomingMessage;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);
const USER_AGENT = 'fastvlm-ts';

/** A Node network error as a TransportError (unreachable before a connection, dropped after). */
export function asTransportError(error: unknown, host: string): TransportError {
  if (error instanceof TransportError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = (error as Error).message;
  if (UNREACHABLE_CODES.has(code))
    return new TransportError('unreachable', `cannot reach ${host} (${code}): is the network up?`, { cause: error });
  return new TransportError('dropped', `the connection to ${host} broke (${code || message})`, { cause: error });
}

export class HttpClient {
  private readonly options: HttpOptions;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(options: HttpOptions) {
    this.options = options;
  }

  /** GETs `url`, following redirects. Any status is returned; only network failures throw. */
  async get(url: string, headers: Readonly<Record<string, string>> = {}): Promise<HttpResponse> {
    const tokenOrigin = new URL(url).origin;
    let target = new URL(url);
    for (let hops = 0; ; hops++) {
      const sent: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
      if (this.options.token !== undefined && target.origin === tokenOrigin)
        sent.authorization = `Bearer ${this.options.token}`;
      const body = await this.requestOnce(target, sent);
      const status = body.statusCode ?? 0;
      const location = body.headers.location;
      if (!REDIRECT_STATUSES.has(status) || location === undefined)
        return { status, headers: body.headers, url: target.href, body };
      body.resume();
      if (hops >= this.options.maxRedirects)
        throw new TransportError('protocol', `more than ${this.options.maxRedirects} redirects from ${url}`);
      target = new URL(location, target);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        throw new TransportError('protocol', `redirected to a non-http URL (${target.protocol})`);
      }
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private requestOnce(target: URL, headers: Record<string, string>): Promise<IncomingMessage> {
    const { connectTimeoutMs, idleTimeoutMs } = this.options;
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const request = (secure ? https : http).request(
        target,
        { method: 'GET', headers, agent: secure ? this.httpsAgent : this.httpAgent },
        (answer) => {
          response = answer;
          resolve(answer);
        },
      );
      const fail = (error: TransportError): void => {
        response?.destroy(error);
        request.destroy(error);
      };
      const connectTimer = setTimeout(
        () =>
          fail(
            new TransportError('unreachable', `no connection to ${target.host} within ${connectTimeoutMs / 1000} s`),
          ),
        connectTimeoutMs,
      );
      request.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.setTimeout(idleTimeoutMs, () =>
        fail(new TransportError('dropped', `${target.host} sent nothing for ${idleTimeoutMs / 1000} s`)),
      );
      request.on('error', (error) => {
        clearTimeout(connectTimer);
        reject(asTransportError(error, target.host));
      });
      request.on('close', () => clearTimeout(connectTimer));
      request.end();
    });
  }
}

/**
 * Reads a whole (small) body as text, at most `limit` bytes: a longer body is cut off there (the
 * connection is dropped rather than read to an end that may never come) and `truncated` is set.
 */
export async function readBodyUpTo(
  body: IncomingMessage,
  host: string,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let truncated = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length > limit) {
        truncated = true;
        break;
      }
    }
  } catch (error) {
    throw asTransportError(error, host);
  } finally {
    if (!body.complete) body.destroy();
  }
  return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), truncated };
}

/** Reads at most `limit` bytes of a body as text, silently cut off there (for error bodies). */
export async function readBody(body: IncomingMessage, host: string, limit: number): Promise<string> {
  return (await readBodyUpTo(body, host, limit)).text;
}
