/** `pull`: downloads a Hugging Face model repository into a folder, file by file. */
import { resolve, sep } from 'node:path';
import { downloadFile } from './download.js';
import { checkRequest, hubConfigFromEnv, repoName, type HubConfig } from './endpoint.js';
import { HubError } from './errors.js';
import { HttpClient, type TransportError } from './http.js';
import { listRepo, type HubFile } from './listing.js';

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
  | { readonly type: 'file-done'; readonly file: HubFile; readonly status: 'downloaded' | 'present' };

export interface PullResult {
  readonly outDir: string;
  readonly commit: string;
  readonly downloaded: readonly string[];
  /** Files that were already there with the listed size. */
  readonly present: readonly string[];
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
    const { commit, files } = await listRepo(client, config, repo, revision, policy);
    const targets = files.map((file) => ({ file, target: targetPath(repo, outDir, file) }));
    onEvent?.({ type: 'listed', commit, files, totalBytes: files.reduce((sum, file) => sum + file.size, 0) });
    const downloaded: string[] = [];
    const present: string[] = [];
    const context = {
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
      (status === 'downloaded' ? downloaded : present).push(file.path);
      onEvent?.({ type: 'file-done', file, status });
    }
    return { outDir, commit, downloaded, present };
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
