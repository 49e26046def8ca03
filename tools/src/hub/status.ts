/** Turns a hub response that is not a success into the error that says what happened. */
import { HubError } from './errors.js';
import { readBody, TransportError, type HttpResponse } from './http.js';

/** What was asked for, to word a 404: the repository listing, or one file. */
export type Asked = { kind: 'listing'; revision: string } | { kind: 'file'; revision: string; file: string };

/**
 * Reads the error body and throws: a TransportError ('busy') for 429 and 5xx, which a retry may
 * cure, a HubError for the rest.
 */
export async function throwForStatus(
  response: HttpResponse,
  repo: string,
  asked: Asked,
  hasToken: boolean,
): Promise<never> {
  const { status, headers } = response;
  const host = new URL(response.url).host;
  const body = await readBody(response.body, host, 4096).catch(() => '');
  const code = String(headers['x-error-code'] ?? '');
  const hubMessage = String(headers['x-error-message'] ?? '') || messageFromBody(body);
  const said = hubMessage === '' ? '' : ` (the hub says: ${hubMessage.replace(/\s+/g, ' ').slice(0, 200)})`;
  const file = asked.kind === 'file' ? asked.file : undefined;
  if (status === 429 || status >= 500) throw new TransportError('busy', `${host} answered HTTP ${status}${said}`);
  // The hub answers 401, not 404, for a repository that does not exist (or that this token may not see).
  if (code === 'RepoNotFound' || code === 'RevisionNotFound' || code === 'EntryNotFound' || status === 404) {
    throw new HubError(repo, file, 'not-found', `${notFound(code, asked)} (HTTP ${status})${said}`);
  }
  if (status === 401 || status === 403 || code === 'GatedRepo') {
    const why =
      code === 'GatedRepo'
        ? 'the repository is gated: accept its terms on its hub page, then set HF_TOKEN to a token of that account'
        : hasToken
          ? 'access denied: the token in HF_TOKEN was refused or has no access to this repository'
          : 'access denied: the repository is private or gated: set HF_TOKEN to a Hugging Face access token';
    throw new HubError(repo, file, 'unauthorized', `${why} (HTTP ${status})${said}`);
  }
  throw new HubError(repo, file, 'http', `the hub answered HTTP ${status} for ${response.url}${said}`);
}

function notFound(code: string, asked: Asked): string {
  if (code === 'RepoNotFound') return 'repository not found: check the id; a private repository needs HF_TOKEN';
  if (code === 'RevisionNotFound') return `revision '${asked.revision}' not found`;
  if (asked.kind === 'file') return `file not found at revision '${asked.revision}'`;
  return `repository or revision '${asked.revision}' not found: check the id; a private repository needs HF_TOKEN`;
}

/** The `error` field of a JSON error body, if it has one. */
function messageFromBody(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // not JSON: say nothing rather than quote an HTML page
  }
  return '';
}
