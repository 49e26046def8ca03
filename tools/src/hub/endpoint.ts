/**
 * Where the hub is and how its URLs are laid out. This is the Hugging Face Hub's HTTP API as the
 * `huggingface_hub` client uses it:
 *
 *   GET {hub}/api/models/{repo}/revision/{revision}
 *       -> { "sha": "<commit>", "siblings": [...] }: resolves a branch or tag to the commit it points at.
 *   GET {hub}/api/models/{repo}/tree/{revision}?recursive=true
 *       -> [{ "type": "file" | "directory", "path", "size", "oid", "lfs"?: { "oid", "size", "pointerSize" } }]
 *          `oid` is the git blob id (sha1 of "blob {size}\0" + content); `lfs.oid` is the sha256 of an
 *          LFS file's content. Long listings are paginated: a `Link: <url>; rel="next"` header names the next page.
 *   GET {hub}/{repo}/resolve/{revision}/{path}
 *       -> the file's bytes, usually after a 302/307 redirect to a CDN host; honours `Range`.
 *
 * `revision` is encoded as one path segment ("refs/pr/1" -> "refs%2Fpr%2F1"), the file path segment by
 * segment. Failures carry `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo)
 * and `X-Error-Message` headers. A token, when given, goes in `Authorization: Bearer <token>`.
 */
import { HubError } from './errors.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubConfig {
  /** The hub's base URL, without a trailing slash. */
  readonly endpoint: string;
  /** A Hugging Face access token for private and gated repositories. */
  readonly token: string | undefined;
}

/** The hub from FASTVLM_HUB_URL, else HF_ENDPOINT, else huggingface.co; the token from HF_TOKEN. */
export function hubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const endpoint = nonEmpty(env.FASTVLM_HUB_URL) ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  return { endpoint: endpoint.replace(/\/+$/, ''), token: nonEmpty(env.HF_TOKEN) };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

// "name" or "owner/name": letters, digits, '-', '_', '.'; never "..".
const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** Throws a HubError unless the repository id, revision and hub address are well-formed. */
export function checkRequest(config: HubConfig, repo: string, revision: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..')) {
    throw new HubError(
      repo,
      undefined,
      'usage',
      "is not a repository id (expected 'owner/name', e.g. 'apple/FastVLM-0.5B')",
    );
  }
  if (revision === '' || revision.includes('..')) {
    throw new HubError(repo, undefined, 'usage', `'${revision}' is not a revision (a branch, tag or commit)`);
  }
  let protocol: string;
  try {
    protocol = new URL(config.endpoint).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new HubError(
      repo,
      undefined,
      'usage',
      `the hub address '${config.endpoint}' is not an http(s) URL (check FASTVLM_HUB_URL / HF_ENDPOINT)`,
    );
  }
}

/** The folder name a repository is pulled to by default: its name without the owner. */
export function repoName(repo: string): string {
  return repo.slice(repo.lastIndexOf('/') + 1);
}

export function revisionUrl(config: HubConfig, repo: string, revision: string): string {
  return `${config.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
}

export function treeUrl(config: HubConfig, repo: string, revision: string): string {
  return `${config.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
}

export function resolveUrl(config: HubConfig, repo: string, revision: string, path: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `${config.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
}
