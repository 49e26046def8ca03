/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1, in the hub's URL layout (see
 * src/hub/endpoint.ts): the revision and tree APIs (paginated with Link headers), and resolve,
 * which serves small files itself and redirects LFS files to a second server (another origin,
 * like the hub's CDN). Both honour `Range: bytes=N-`. Failure modes are switched on per test.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  readonly path: string;
  readonly content: Uint8Array;
  /** Listed with `lfs: { oid: sha256 }` and served from the CDN server. */
  readonly lfs?: boolean;
  /** What the listing says instead of the truth. */
  readonly listedSize?: number;
  readonly listedHash?: string;
}

export interface FakeRepo {
  readonly id: string;
  readonly commit: string;
  readonly files: readonly FakeFile[];
  /** Extra raw tree entries (e.g. a path escaping the folder). */
  readonly extraEntries?: readonly unknown[];
}

export interface FakeHubOptions {
  readonly repos: readonly FakeRepo[];
  /** Tree entries per page (default: all in one page). */
  readonly pageSize?: number;
  /** Break the connection after this many body bytes of the file, the first `times` times it is served. */
  readonly drop?: { readonly path: string; readonly afterBytes: number; readonly times: number };
  /** Send headers and the first bytes of this file, then nothing (the socket stays open). */
  readonly stall?: { readonly path: string; readonly afterBytes: number };
  /** Listed files whose resolve answers 404. */
  readonly missing?: readonly string[];
  /** Answer Range requests with the whole file (200). */
  readonly ignoreRange?: boolean;
  /** Every API and resolve request answers 401 (a gated or private repository). */
  readonly unauthorized?: boolean;
  /** The tree API sends a JSON array that never ends (entries until the client hangs up). */
  readonly endlessListing?: boolean;
  /** The status for an unknown repository: 404, or 401 as huggingface.co answers requests without a token. */
  readonly missingRepoStatus?: 401 | 404;
}

export interface LoggedRequest {
  readonly server: 'hub' | 'cdn';
  readonly path: string;
  readonly range: string | undefined;
  readonly authorization: string | undefined;
}

export interface FakeHub {
  readonly url: string;
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
export const gitBlobId = (bytes: Uint8Array): string =>
  createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: LoggedRequest[] = [];
  const dropsLeft = new Map<string, number>(options.drop ? [[options.drop.path, options.drop.times]] : []);
  const byHash = new Map<string, Uint8Array>();
  for (const repo of options.repos)
    for (const file of repo.files) if (file.lfs === true) byHash.set(sha256Hex(file.content), file.content);

  const log = (server: 'hub' | 'cdn', request: IncomingMessage): void => {
    requests.push({
      server,
      path: request.url ?? '',
      range: request.headers.range,
      authorization: request.headers.authorization,
    });
  };

  const sendFile = (request: IncomingMessage, response: ServerResponse, path: string, content: Uint8Array): void => {
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    let start = 0;
    if (range !== null && options.ignoreRange !== true) {
      start = Number(range[1]);
      if (start >= content.length) {
        response.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-length': content.length - start,
        'content-range': `bytes ${start}-${content.length - 1}/${content.length}`,
      });
    } else {
      response.writeHead(200, { 'content-length': content.length, 'accept-ranges': 'bytes' });
    }
    const body = content.subarray(start);
    const drops = dropsLeft.get(path) ?? 0;
    if (options.drop?.path === path && drops > 0) {
      dropsLeft.set(path, drops - 1);
      response.write(body.subarray(0, options.drop.afterBytes), () => setTimeout(() => response.socket?.destroy(), 20));
    } else if (options.stall?.path === path) {
      response.write(body.subarray(0, options.stall.afterBytes));
    } else {
      response.end(body);
    }
  };

  const cdn = createServer((request, response) => {
    log('cdn', request);
    const hash = /^\/lfs\/([0-9a-f]{64})$/.exec(new URL(request.url ?? '/', 'http://x').pathname);
    const content = hash === null ? undefined : byHash.get(hash[1]);
    if (hash === null || content === undefined) return void response.writeHead(404).end();
    const path = findPathByHash(options.repos, hash[1]);
    sendFile(request, response, path, content);
  });
  const cdnUrl = await listen(cdn);

  const hub = createServer((request, response) => {
    log('hub', request);
    const url = new URL(request.url ?? '/', 'http://x');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void =>
      void response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
    if (options.unauthorized === true) return json(401, { error: 'Access to this repository is restricted' });

    const api = /^\/api\/models\/(.+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = options.repos.find((candidate) => candidate.id === repoId);
    if (repo === undefined)
      return json(
        options.missingRepoStatus ?? 404,
        { error: 'Repository not found' },
        { 'x-error-code': 'RepoNotFound' },
      );
    const revision = decodeURIComponent((api?.[3] ?? resolve?.[2]) as string);
    if (revision !== 'main' && revision !== repo.commit)
      return json(404, { error: 'Invalid rev id' }, { 'x-error-code': 'RevisionNotFound' });

    if (api?.[2] === 'revision')
      return json(200, {
        id: repo.id,
        sha: repo.commit,
        siblings: repo.files.map((file) => ({ rfilename: file.path })),
      });
    if (api?.[2] === 'tree' && options.endlessListing === true) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
      const entry = (n: number): string =>
        `${JSON.stringify({ type: 'file', oid: gitBlobId(Buffer.from(String(n))), size: 1, path: `f/${n}.txt` })},`;
      let n = 0;
      const entries = (): string => Array.from({ length: 500 }, () => entry(n++)).join(''); // ~64 KB a write
      const more = (): void => {
        // Write while the socket takes it; wait for 'drain' otherwise; stop when the client hangs up.
        while (!response.destroyed && response.write(entries()));
        if (!response.destroyed) response.once('drain', more);
      };
      more();
      return;
    }
    if (api?.[2] === 'tree') {
      const entries = treeEntries(repo);
      const pageSize = options.pageSize ?? entries.length;
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const headers: Record<string, string> = {};
      if (cursor + pageSize < entries.length)
        headers.link = `<${url.pathname}?recursive=true&cursor=${cursor + pageSize}>; rel="next"`;
      return json(200, entries.slice(cursor, cursor + pageSize), headers);
    }
    const path = decodeURIComponent((resolve as RegExpExecArray)[3]);
    const file = repo.files.find((candidate) => candidate.path === path);
    if (file === undefined || options.missing?.includes(path))
      return json(404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    if (file.lfs === true)
      return void response.writeHead(302, { location: `${cdnUrl}/lfs/${sha256Hex(file.content)}?expires=soon` }).end();
    sendFile(request, response, path, file.content);
  });
  const hubUrl = await listen(hub);

  return {
    url: hubUrl,
    requests,
    close: async () => {
      await Promise.all(
        [hub, cdn].map(
          (server) =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

/** The tree API's entries: a directory entry for each folder, then the files. */
function treeEntries(repo: FakeRepo): unknown[] {
  const folders = new Set<string>();
  for (const file of repo.files) {
    const parts = file.path.split('/');
    for (let depth = 1; depth < parts.length; depth++) folders.add(parts.slice(0, depth).join('/'));
  }
  const entries: unknown[] = [...folders].map((path) => ({ type: 'directory', oid: '0'.repeat(40), size: 0, path }));
  for (const file of repo.files) {
    const size = file.listedSize ?? file.content.length;
    if (file.lfs === true) {
      const lfs = { oid: file.listedHash ?? sha256Hex(file.content), size, pointerSize: 134 };
      entries.push({ type: 'file', oid: '1'.repeat(40), size, path: file.path, lfs });
    } else {
      entries.push({ type: 'file', oid: file.listedHash ?? gitBlobId(file.content), size, path: file.path });
    }
  }
  return [...entries, ...(repo.extraEntries ?? [])];
}

function findPathByHash(repos: readonly FakeRepo[], hash: string): string {
  for (const repo of repos)
    for (const file of repo.files) if (file.lfs === true && sha256Hex(file.content) === hash) return file.path;
  return '';
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
