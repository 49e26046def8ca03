/** `pull`: downloads a Hugging Face model repository into a folder, file by file. */
import { resolve, sep } from 'node:path';
import { checkOutputFolder } from '../fs/output-paths.js';
import { PathError } from '../fs/path-error.js';
import { bytesToDownload, checkFreeSpace } from './disk-space.js';
import { downloadFile, type FileStatus } from './download.js';
import { checkRequest, hubConfigFromEnv, repoName, type HubConfig } from './endpoint.js';
import { HubError } from './errors.js';
import { HttpClient, type TransportError } from './http.js';
import { DEFAULT_LISTING_LIMITS, listRepo, type HubFile, type ListingLimits } from './listing.js';
import { VerifiedRecord } from './verified-record.js';

export interface PullOptions {
  /** 'owner/name'. */
  readonly repo: string;
  /** A branch, tag or commit; default 'main'. */
  readonly revision?: string;
  /** Default `./models/<repo name>`. */
  readonly outDir?: string;
  /** Default: from FASTVLM_HUB_URL / HF_ENDPOINT / HF_TOKEN. */
  readonly hub?: HubConfig;
  /** Tries after the first for each request and each file (default 5). */
  readonly retries?: number;
  /** The wait before the first retry, doubling after (default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** How much listing is read before giving up (default DEFAULT_LISTING_LIMITS). */
  readonly listingLimits?: Partial<ListingLimits>;
  /** Check that the files fit in the free disk space before downloading (default true). */
  readonly checkSpace?: boolean;
  readonly onEvent?: (event: PullEvent) => void;
}

export type PullEvent =
  | {
      readonly type: 'listed';
      readonly commit: string;
      readonly files: readonly HubFile[];
      readonly totalBytes: number;
    }
  | { readonly type: 'progress'; readonly file: HubFile; readonly done: number }
  | { readonly type: 'retry'; readonly file: HubFile; readonly retry: number; readonly reason: string }
  | { readonly type: 'corrupt'; readonly file: HubFile; readonly detail: string }
  | { readonly type: 'file-done'; readonly file: HubFile; readonly status: FileStatus };

export interface PullResult {
  readonly outDir: string;
  readonly commit: string;
  readonly downloaded: readonly string[];
  /** Files that were already there, their content verified. */
  readonly present: readonly string[];
  /** Files that were there but corrupt (their hash did not match), downloaded again. */
  readonly refetched: readonly string[];
}

/** Downloads every file of `repo` at `revision` into `outDir`; throws a HubError on any failure. */
export async function pull(options: PullOptions): Promise<PullResult> {
  const { repo, revision = 'main', onEvent } = options;
  const config = options.hub ?? hubConfigFromEnv();
  checkRequest(config, repo, revision);
  const outDir = resolve(options.outDir ?? resolve('models', repoName(repo)));
  const policy = { retries: options.retries ?? 5, delayMs: options.retryDelayMs ?? 1000 };
  const client = new HttpClient({
    token: config.token,
    connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxRedirects: 10,
  });
  try {
    await checkOutputFolder('--out', outDir);
  } catch (error) {
    throw error instanceof PathError ? new HubError(repo, undefined, 'filesystem', error.message) : error;
  }
  try {
    const limits: ListingLimits = {
      maxBytes: options.listingLimits?.maxBytes ?? DEFAULT_LISTING_LIMITS.maxBytes,
      maxFiles: options.listingLimits?.maxFiles ?? DEFAULT_LISTING_LIMITS.maxFiles,
    };
    const { commit, files } = await listRepo(client, config, repo, revision, policy, limits);
    const targets = files.map((file) => ({ file, target: targetPath(repo, outDir, file) }));
    onEvent?.({ type: 'listed', commit, files, totalBytes: files.reduce((sum, file) => sum + file.size, 0) });
    if (options.checkSpace !== false) await checkFreeSpace(repo, outDir, await bytesToDownload(targets));
    const downloaded: string[] = [];
    const present: string[] = [];
    const refetched: string[] = [];
    const context = {
      record: await VerifiedRecord.open(outDir),
      onCorrupt: (file: HubFile, detail: string) => onEvent?.({ type: 'corrupt', file, detail }),
      client,
      config,
      repo,
      commit,
      revision,
      policy,
      onProgress: (file: HubFile, done: number) => onEvent?.({ type: 'progress', file, done }),
      onRetry: (file: HubFile, error: TransportError, retry: number) =>
        onEvent?.({ type: 'retry', file, retry, reason: error.message }),
    };
    for (const { file, target } of targets) {
      const status = await downloadFile(context, file, target);
      ({ downloaded, present, refetched })[status].push(file.path);
      onEvent?.({ type: 'file-done', file, status });
    }
    return { outDir, commit, downloaded, present, refetched };
  } finally {
    client.close();
  }
}

/** Where a listed file goes; the listing's paths were checked, this is the second line of defence. */
function targetPath(repo: string, outDir: string, file: HubFile): string {
  const target = resolve(outDir, ...file.path.split('/'));
  if (!target.startsWith(outDir + sep)) {
    throw new HubError(
      repo,
      file.path,
      'unsafe-path',
      'the listing names a path outside the output folder; nothing was downloaded',
    );
  }
  return target;
}
