/** The files of a repository at a revision, as the hub lists them (see endpoint.ts for the API). */
import { isAbsolute } from 'node:path';
import { revisionUrl, treeUrl, type HubConfig } from './endpoint.js';
import { HubError } from './errors.js';
import { readBodyUpTo, type HttpClient } from './http.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { throwForStatus } from './status.js';

export interface HubFile {
  /** The path in the repository, '/'-separated, checked to stay inside the repository folder. */
  readonly path: string;
  readonly size: number;
  /** The sha256 of the content (hex), for LFS files. */
  readonly sha256: string | undefined;
  /** The git blob id, sha1 of "blob {size}\0" + content (hex), for files stored in git itself. */
  readonly gitBlobId: string | undefined;
}

export interface RepoListing {
  /** The commit the revision pointed at; files are fetched at this commit, so a moving branch cannot mix two versions. */
  readonly commit: string;
  readonly files: readonly HubFile[];
}

/**
 * How much listing `pull` reads before giving up: a hub (or anything answering at its address) may
 * send a listing that never ends, or pages that never stop linking to a next one.
 */
export interface ListingLimits {
  /** Bytes of JSON over all the listing's responses (default 16 MiB: ~80,000 entries). */
  readonly maxBytes: number;
  /** Files listed (default 10,000; FastVLM's repositories hold about 10). */
  readonly maxFiles: number;
}

export const DEFAULT_LISTING_LIMITS: ListingLimits = { maxBytes: 16 * 2 ** 20, maxFiles: 10_000 };

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const MAX_PAGES = 10_000;

/** Lists the files of `repo` at `revision`, within `limits`. */
export async function listRepo(
  client: HttpClient,
  config: HubConfig,
  repo: string,
  revision: string,
  policy: RetryPolicy,
  limits: ListingLimits = DEFAULT_LISTING_LIMITS,
): Promise<RepoListing> {
  const asked = { kind: 'listing', revision } as const;
  let bytesLeft = limits.maxBytes;
  const getJson = (url: string): Promise<{ value: unknown; next: string | undefined }> =>
    withRetries(policy, repo, undefined, async () => {
      const response = await client.get(url, { accept: 'application/json' });
      if (response.status !== 200) return throwForStatus(response, repo, asked, config.token !== undefined);
      const { text, truncated } = await readBodyUpTo(response.body, new URL(response.url).host, bytesLeft);
      if (truncated)
        throw new HubError(
          repo,
          undefined,
          'too-large',
          `the file listing is larger than ${limits.maxBytes} bytes, the limit (raise it with --max-listing-bytes)`,
        );
      bytesLeft -= Buffer.byteLength(text);
      try {
        return { value: JSON.parse(text) as unknown, next: nextPage(response.headers.link, response.url) };
      } catch (error) {
        throw new HubError(repo, undefined, 'bad-response', `${url} did not answer JSON`, { cause: error });
      }
    });

  const info = (await getJson(revisionUrl(config, repo, revision))).value as { sha?: unknown } | null;
  const commit = typeof info?.sha === 'string' && COMMIT.test(info.sha) ? info.sha : revision;

  const files: HubFile[] = [];
  let url: string | undefined = treeUrl(config, repo, commit);
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES)
      throw new HubError(repo, undefined, 'bad-response', `the file listing has more than ${MAX_PAGES} pages`);
    const { value, next } = await getJson(url);
    if (!Array.isArray(value))
      throw new HubError(repo, undefined, 'bad-response', `the file listing ${url} is not a JSON array`);
    for (const entry of value) {
      const file = parseEntry(entry, repo);
      if (file !== undefined) files.push(file);
      if (files.length > limits.maxFiles)
        throw new HubError(
          repo,
          undefined,
          'too-large',
          `the repository lists more than ${limits.maxFiles} files, the limit (raise it with --max-files)`,
        );
    }
    url = next;
  }
  return { commit, files };
}

/** The URL of a `Link: <url>; rel="next"` header, resolved against the page it came with. */
function nextPage(link: string | string[] | undefined, base: string): string | undefined {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(Array.isArray(link) ? link.join(', ') : (link ?? ''));
  return match === null ? undefined : new URL(match[1], base).href;
}

/** One tree entry as a HubFile; undefined for directories. Throws on a malformed entry or an unsafe path. */
function parseEntry(entry: unknown, repo: string): HubFile | undefined {
  const bad = (what: string): HubError =>
    new HubError(
      repo,
      undefined,
      'bad-response',
      `the file listing has ${what}: ${JSON.stringify(entry).slice(0, 200)}`,
    );
  if (typeof entry !== 'object' || entry === null) throw bad('an entry that is not an object');
  const { type, path, size, oid, lfs } = entry as Record<string, unknown>;
  if (typeof path !== 'string') throw bad('an entry without a path');
  if (type === 'directory') return undefined;
  if (type !== 'file') throw bad(`an entry of unknown type`);
  checkRelativePath(repo, path);
  if (lfs !== undefined && lfs !== null) {
    const { oid: sha256, size: lfsSize } = lfs as Record<string, unknown>;
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw bad('an LFS entry without a sha256 oid');
    if (!isSize(lfsSize)) throw bad('an LFS entry without a size');
    return { path, size: lfsSize, sha256, gitBlobId: undefined };
  }
  if (!isSize(size)) throw bad('a file without a size');
  return { path, size, sha256: undefined, gitBlobId: typeof oid === 'string' && COMMIT.test(oid) ? oid : undefined };
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Throws unless `path` is a plain relative path: no absolute path, no '..' or '.' or empty segment, no backslash. */
export function checkRelativePath(repo: string, path: string): void {
  const segments = path.split('/');
  const unsafe =
    path === '' ||
    isAbsolute(path) ||
    /^[A-Za-z]:/.test(path) ||
    path.includes('\\') ||
    path.includes('\0') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (unsafe)
    throw new HubError(
      repo,
      path,
      'unsafe-path',
      'the listing names a path outside the repository folder; nothing was downloaded',
    );
}
