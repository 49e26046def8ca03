/**
 * Downloads one file of a repository to `{target}.part`, resuming a partial file with a Range
 * request, checks its size and hash, and only then renames it to `target`. A file already at
 * `target` is trusted only once its content matches the listed hash, as a download's would (the
 * verification record spares hashing it again while its size and mtime stay the same); a file that
 * does not match is fetched again.
 */
import type { Stats } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { resolveUrl, type HubConfig } from './endpoint.js';
import { HubError } from './errors.js';
import { asTransportError, TransportError, type HttpClient, type HttpResponse } from './http.js';
import type { HubFile } from './listing.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { throwForStatus } from './status.js';
import { ContentHash } from './verify.js';
import type { VerifiedRecord } from './verified-record.js';
import { makeFolder } from '../fs/output-paths.js';
import { PathError } from '../fs/path-error.js';

export interface DownloadContext {
  readonly client: HttpClient;
  readonly config: HubConfig;
  readonly repo: string;
  /** The commit files are fetched at. */
  readonly commit: string;
  /** The revision as the user named it, for messages. */
  readonly revision: string;
  readonly policy: RetryPolicy;
  /** Called with the bytes of the file on disk so far: on start, after each chunk, and when done. */
  readonly onProgress?: (file: HubFile, done: number) => void;
  readonly onRetry?: (file: HubFile, error: TransportError, retry: number) => void;
  /** A file already there did not match the listing and is fetched again. */
  readonly onCorrupt?: (file: HubFile, detail: string) => void;
  /** Which files already there were verified, and when. */
  readonly record: VerifiedRecord;
}

/** 'present': already there and verified; 'downloaded'; 'refetched': there but corrupt, downloaded again. */
export type FileStatus = 'downloaded' | 'present' | 'refetched';

/** Fetches `file` to `target`, unless a verified copy is already there. */
export async function downloadFile(context: DownloadContext, file: HubFile, target: string): Promise<FileStatus> {
  try {
    const existing = await statFile(target);
    let refetch = false;
    if (existing?.size === file.size) {
      const problem = await verifyExisting(context, file, target, existing);
      if (problem === undefined) {
        context.onProgress?.(file, file.size);
        return 'present';
      }
      context.onCorrupt?.(file, problem);
      await context.record.forget(file.path);
      refetch = true;
    }
    await makeFolder('the output folder', dirname(target));
    await withRetries(
      context.policy,
      context.repo,
      file.path,
      () => attempt(context, file, target),
      (error, retry) => context.onRetry?.(file, error, retry),
    );
    const id = new ContentHash(file).expectedId;
    if (id !== undefined) await context.record.remember(file.path, await stat(target), id);
    return refetch ? 'refetched' : 'downloaded';
  } catch (error) {
    if (error instanceof HubError) throw error;
    if (error instanceof PathError) throw new HubError(context.repo, file.path, 'filesystem', error.message);
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === undefined) throw error;
    throw new HubError(context.repo, file.path, 'filesystem', `cannot write ${target}: ${message}`, { cause: error });
  }
}

/**
 * Undefined when the file at `target` (of the listed size) matches the listed hash, from the record
 * when its size and mtime are the ones verified, else by hashing it; otherwise what is wrong.
 */
async function verifyExisting(
  context: DownloadContext,
  file: HubFile,
  target: string,
  stats: Stats,
): Promise<string | undefined> {
  const hash = new ContentHash(file);
  const id = hash.expectedId;
  if (id === undefined || context.record.matches(file.path, stats, id)) return undefined;
  await hash.updateFromFile(target);
  const problem = hash.mismatch();
  if (problem === undefined) await context.record.remember(file.path, stats, id);
  return problem;
}

/** One try: resume or start the part file, stream the body into it, verify, rename. */
async function attempt(context: DownloadContext, file: HubFile, target: string): Promise<void> {
  const { client, repo } = context;
  const part = `${target}.part`;
  const fail = async (problem: 'size-mismatch' | 'hash-mismatch', detail: string): Promise<never> => {
    await rm(part, { force: true });
    throw new HubError(repo, file.path, problem, `${detail}; the partial file was deleted`);
  };

  let offset = (await sizeOf(part)) ?? 0;
  if (offset > file.size) {
    await rm(part);
    offset = 0;
  }
  let hash = new ContentHash(file);
  if (offset > 0) await hash.updateFromFile(part);
  context.onProgress?.(file, offset);

  if (offset < file.size) {
    const url = resolveUrl(context.config, repo, context.commit, file.path);
    const response = await client.get(url, offset > 0 ? { range: `bytes=${offset}-` } : {});
    if (response.status === 200 && offset > 0) {
      // The server ignored the Range header: start over.
      offset = 0;
      hash = new ContentHash(file);
      context.onProgress?.(file, 0);
    } else if (response.status === 206 && offset > 0) {
      const start = /^bytes (\d+)-/.exec(String(response.headers['content-range'] ?? ''));
      if (start === null || Number(start[1]) !== offset) {
        response.body.resume();
        await rm(part, { force: true });
        throw new TransportError(
          'dropped',
          `the server resumed at the wrong offset (${response.headers['content-range'] ?? 'no Content-Range'})`,
        );
      }
    } else if (response.status !== 200) {
      await throwForStatus(
        response,
        repo,
        { kind: 'file', revision: context.revision, file: file.path },
        context.config.token !== undefined,
      );
    }
    const length = contentLength(response);
    if (length !== undefined && offset + length !== file.size) {
      response.body.resume();
      return fail(
        'size-mismatch',
        `size mismatch: the hub lists ${file.size} bytes, the server sends ${offset + length}`,
      );
    }
    offset = await appendBody(response, part, offset, file, hash, context);
    if (offset > file.size)
      return fail('size-mismatch', `size mismatch: the hub lists ${file.size} bytes, the server sent more`);
    if (offset < file.size) {
      // A body without Content-Length that ends early is a dropped connection; one that sent all it announced is short.
      if (length === undefined)
        throw new TransportError('dropped', `the connection closed after ${offset} of ${file.size} bytes`);
      return fail('size-mismatch', `size mismatch: the hub lists ${file.size} bytes, the server sent ${offset}`);
    }
  }
  if (file.size === 0) await writeFile(part, new Uint8Array(0));
  const mismatch = hash.mismatch();
  if (mismatch !== undefined) return fail('hash-mismatch', mismatch);
  await rename(part, target);
}

/** Streams the body onto the part file (appending when `offset` > 0); returns the part's new size. */
async function appendBody(
  response: HttpResponse,
  part: string,
  offset: number,
  file: HubFile,
  hash: ContentHash,
  context: DownloadContext,
): Promise<number> {
  const host = new URL(response.url).host;
  const handle = await open(part, offset > 0 ? 'a' : 'w');
  const chunks = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    while (offset <= file.size) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw asTransportError(error, host);
      }
      if (next.done === true) break;
      await handle.write(next.value);
      hash.update(next.value);
      offset += next.value.length;
      context.onProgress?.(file, Math.min(offset, file.size));
    }
  } finally {
    if (!response.body.complete) response.body.destroy();
    await handle.close();
  }
  return offset;
}

function contentLength(response: HttpResponse): number | undefined {
  const header = response.headers['content-length'];
  return header === undefined || !/^\d+$/.test(header) ? undefined : Number(header);
}

async function statFile(path: string): Promise<Stats | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  return (await statFile(path))?.size;
}
