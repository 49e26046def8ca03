/**
 * `fastvlm pull` against a fake hub on 127.0.0.1 (fake-hub.ts): a whole folder, resume after a
 * dropped connection and from a leftover .part file, and each failure as a one-line HubError.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { hubConfigFromEnv, resolveUrl } from '../src/hub/endpoint.js';
import { HubError, type HubProblem } from '../src/hub/errors.js';
import { pull, type PullEvent, type PullOptions } from '../src/hub/pull.js';
import { ContentHash } from '../src/hub/verify.js';
import { startFakeHub, type FakeFile, type FakeHub, type FakeHubOptions } from './fake-hub.js';

const REPO = 'acme/tiny-vlm';
const COMMIT = 'c0ffee'.padEnd(40, '0');
const TOKEN = 'hf_test_token';
const WEIGHTS = randomBytes(300_000);
const FILES: FakeFile[] = [
  { path: 'config.json', content: Buffer.from('{"model_type": "llava_qwen2"}\n') },
  { path: 'model.safetensors', content: WEIGHTS, lfs: true },
  { path: 'tokenizer/vocab.json', content: Buffer.from('{"a": 0, "b": 1}') },
  { path: 'tokenizer/merges.txt', content: Buffer.from('#version: 0.2\na b\n') },
  { path: 'empty.txt', content: Buffer.alloc(0) },
];

let hub: FakeHub | undefined;
let out: string;

beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'fastvlm-pull-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  vi.unstubAllEnvs();
  await rm(out, { recursive: true, force: true });
});

async function serve(options: Partial<FakeHubOptions> & { files?: FakeFile[] } = {}): Promise<FakeHub> {
  hub = await startFakeHub({ repos: [{ id: REPO, commit: COMMIT, files: options.files ?? FILES }], ...options });
  return hub;
}

/** pull() with the fake hub, fast retries and short timeouts; events are collected. */
async function pullFake(
  extra: Partial<PullOptions> = {},
  events: PullEvent[] = [],
): Promise<Awaited<ReturnType<typeof pull>>> {
  const url = (hub as FakeHub).url;
  return pull({
    repo: REPO,
    outDir: out,
    hub: { endpoint: url, token: TOKEN },
    retries: 3,
    retryDelayMs: 5,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 2000,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

async function expectHubError(
  promise: Promise<unknown>,
  problem: HubProblem,
  file: string | undefined,
  text: RegExp,
  repo = REPO,
): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  const hubError = error as HubError;
  expect({ problem: hubError.problem, file: hubError.file }).toEqual({ problem, file });
  expect(hubError.message).toMatch(text);
  expect(hubError.message.startsWith(`${repo}${file === undefined ? '' : ` ${file}`}: `)).toBe(true);
  expect(hubError.message).not.toContain('\n');
  return hubError;
}

function expectFolderMatches(files: readonly FakeFile[]): void {
  for (const file of files) expect(readFileSync(join(out, file.path)).equals(file.content), file.path).toBe(true);
  const leftovers = readdirSync(out, { recursive: true }).filter((name) => String(name).endsWith('.part'));
  expect(leftovers).toEqual([]);
}

describe('pull', { timeout: 20_000 }, () => {
  it('downloads every file, LFS ones through a redirect to another host, and verifies them', async () => {
    await serve({ pageSize: 2 });
    const events: PullEvent[] = [];
    const result = await pullFake({}, events);
    expectFolderMatches(FILES);
    expect(result.commit).toBe(COMMIT);
    expect(result.downloaded.toSorted()).toEqual(FILES.map((file) => file.path).toSorted());
    const requests = (hub as FakeHub).requests;
    // Files are fetched at the commit the revision resolved to; the listing took 4 pages of 2 (3 folders... + 5 files).
    expect(
      requests
        .filter((request) => request.path.includes('/resolve/'))
        .every((request) => request.path.includes(`/resolve/${COMMIT}/`)),
    ).toBe(true);
    expect(requests.filter((request) => request.path.includes('/tree/')).length).toBe(3);
    // The token goes to the hub only, never to the CDN host a redirect leads to.
    expect(
      requests
        .filter((request) => request.server === 'hub')
        .every((request) => request.authorization === `Bearer ${TOKEN}`),
    ).toBe(true);
    expect(requests.filter((request) => request.server === 'cdn').map((request) => request.authorization)).toEqual([
      undefined,
    ]);
    const listed = events.find((event) => event.type === 'listed');
    expect(listed?.type === 'listed' && listed.totalBytes).toBe(
      FILES.reduce((sum, file) => sum + file.content.length, 0),
    );
  });

  it('finds a complete folder already there and downloads nothing', async () => {
    await serve();
    await pullFake();
    const before = (hub as FakeHub).requests.length;
    const again = await pullFake();
    expect(again.downloaded).toEqual([]);
    expect(again.present.length).toBe(FILES.length);
    expect((hub as FakeHub).requests.slice(before).some((request) => request.path.includes('/resolve/'))).toBe(false);
  });

  it('resumes with a Range request after the connection drops mid-file', async () => {
    await serve({ drop: { path: 'model.safetensors', afterBytes: 100_000, times: 2 } });
    const events: PullEvent[] = [];
    await pullFake({}, events);
    expectFolderMatches(FILES);
    const cdnRanges = (hub as FakeHub).requests
      .filter((request) => request.server === 'cdn')
      .map((request) => request.range);
    expect(cdnRanges[0]).toBeUndefined();
    expect(cdnRanges.length).toBe(3);
    // Each retry asks for the rest of the file from where the part file ends.
    expect(cdnRanges.slice(1).every((range) => range !== undefined && /^bytes=[1-9]\d*-$/.test(range))).toBe(true);
    expect(events.filter((event) => event.type === 'retry').length).toBe(2);
  });

  it('gives up on a connection that keeps dropping after the bounded number of tries', async () => {
    await serve({ drop: { path: 'model.safetensors', afterBytes: 1000, times: 100 } });
    await expectHubError(pullFake({ retries: 2 }), 'dropped', 'model.safetensors', /broke.*gave up after 3 tries/);
    expect((hub as FakeHub).requests.filter((request) => request.server === 'cdn').length).toBe(3);
  });

  it('gives up on a server that stalls mid-file (idle timeout)', async () => {
    await serve({ stall: { path: 'model.safetensors', afterBytes: 5000 } });
    await expectHubError(
      pullFake({ retries: 1, idleTimeoutMs: 300 }),
      'dropped',
      'model.safetensors',
      /sent nothing for 0.3 s/,
    );
  });

  it('resumes a .part file left by an earlier run, hashing what it holds first', async () => {
    await serve();
    writeFileSync(join(out, 'model.safetensors.part'), WEIGHTS.subarray(0, 123_456));
    await pullFake();
    expectFolderMatches(FILES);
    const cdn = (hub as FakeHub).requests.filter((request) => request.server === 'cdn');
    expect(cdn.map((request) => request.range)).toEqual(['bytes=123456-']);
  });

  it('starts over when the server ignores the Range header', async () => {
    await serve({ ignoreRange: true });
    writeFileSync(join(out, 'model.safetensors.part'), WEIGHTS.subarray(0, 5000));
    await pullFake();
    expectFolderMatches(FILES);
  });

  it('fails with a 404 for an unknown repository', async () => {
    await serve();
    await expectHubError(
      pullFake({ repo: 'acme/no-such-model' }),
      'not-found',
      undefined,
      /repository not found/,
      'acme/no-such-model',
    );
  });

  it('reads a 401 with X-Error-Code RepoNotFound (what huggingface.co answers without a token) as not found', async () => {
    await serve({ missingRepoStatus: 401 });
    await expectHubError(
      pullFake({ repo: 'acme/private' }),
      'not-found',
      undefined,
      /repository not found: .*HF_TOKEN \(HTTP 401\)/,
      'acme/private',
    );
  });

  it('fails with a 404 for an unknown revision', async () => {
    await serve();
    await expectHubError(pullFake({ revision: 'v9' }), 'not-found', undefined, /revision 'v9' not found/);
  });

  it('fails with a 404 for a listed file the hub does not serve, naming the file', async () => {
    await serve({ missing: ['tokenizer/merges.txt'] });
    await expectHubError(pullFake(), 'not-found', 'tokenizer/merges.txt', /file not found at revision 'main'/);
  });

  it('fails on a size mismatch and deletes the partial file', async () => {
    const files = FILES.map((file) =>
      file.path === 'model.safetensors' ? { ...file, listedSize: WEIGHTS.length + 10 } : file,
    );
    await serve({ files });
    await expectHubError(
      pullFake(),
      'size-mismatch',
      'model.safetensors',
      /lists 300010 bytes, the server sends 300000.*deleted/,
    );
    expect(existsSync(join(out, 'model.safetensors.part'))).toBe(false);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
  });

  it('fails on an LFS sha256 mismatch and deletes the partial file', async () => {
    const files = FILES.map((file) =>
      file.path === 'model.safetensors' ? { ...file, listedHash: 'ab'.repeat(32) } : file,
    );
    await serve({ files });
    await expectHubError(
      pullFake(),
      'hash-mismatch',
      'model.safetensors',
      /sha256 mismatch: got [0-9a-f]{64}, the hub lists (ab){32}/,
    );
    expect(existsSync(join(out, 'model.safetensors.part'))).toBe(false);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
  });

  it('fails on a git blob id mismatch for a small file', async () => {
    const files = FILES.map((file) => (file.path === 'config.json' ? { ...file, listedHash: 'cd'.repeat(20) } : file));
    await serve({ files });
    await expectHubError(pullFake(), 'hash-mismatch', 'config.json', /git blob sha1 mismatch/);
    expect(readdirSync(out).filter((name) => name.startsWith('config.json'))).toEqual([]);
  });

  it.each(['../escape.txt', 'tokenizer/../../escape.txt', '/etc/escape.txt', 'C:/escape.txt', 'a\\..\\escape.txt'])(
    'refuses a listed path that leaves the folder (%s) before downloading anything',
    async (path) => {
      hub = await startFakeHub({
        repos: [
          {
            id: REPO,
            commit: COMMIT,
            files: FILES,
            extraEntries: [{ type: 'file', oid: '2'.repeat(40), size: 3, path }],
          },
        ],
      });
      mkdirSync(join(out, 'inner'));
      await expectHubError(
        pullFake({ outDir: join(out, 'inner') }),
        'unsafe-path',
        path,
        /outside the repository folder/,
      );
      expect(hub.requests.some((request) => request.path.includes('/resolve/'))).toBe(false);
      expect(readdirSync(out)).toEqual(['inner']);
    },
  );

  it('says to set HF_TOKEN when the repository is private or gated', async () => {
    await serve({ unauthorized: true });
    await expectHubError(
      pullFake({ hub: { endpoint: (hub as FakeHub).url, token: undefined } }),
      'unauthorized',
      undefined,
      /set HF_TOKEN.*HTTP 401/,
    );
  });

  it('fails with "cannot reach" when nothing listens at the hub address', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = pull({
      repo: REPO,
      outDir: out,
      hub: { endpoint: `http://127.0.0.1:${port}`, token: undefined },
      retries: 1,
      retryDelayMs: 5,
    });
    await expectHubError(
      error,
      'unreachable',
      undefined,
      /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*gave up after 2 tries/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails with a filesystem error, before any request, when the output folder cannot be made', async () => {
    await serve();
    const blocker = join(out, 'a-file');
    writeFileSync(blocker, 'not a folder');
    await expectHubError(
      pullFake({ outDir: blocker }),
      'filesystem',
      undefined,
      /: --out .*a-file: is not a folder: it is a regular file$/,
    );
    expect((hub as FakeHub).requests).toEqual([]);
  });

  it('rejects a malformed repository id without a request', async () => {
    await expectHubError(
      pull({ repo: 'acme/../etc', outDir: out, hub: { endpoint: 'http://127.0.0.1:9', token: undefined } }),
      'usage',
      undefined,
      /not a repository id/,
      'acme/../etc',
    );
  });
});

describe('hub addresses', () => {
  it('reads FASTVLM_HUB_URL before HF_ENDPOINT, and HF_TOKEN', () => {
    expect(hubConfigFromEnv({})).toEqual({ endpoint: 'https://huggingface.co', token: undefined });
    expect(hubConfigFromEnv({ HF_ENDPOINT: 'https://mirror.example/', HF_TOKEN: 'x' })).toEqual({
      endpoint: 'https://mirror.example',
      token: 'x',
    });
    expect(
      hubConfigFromEnv({ HF_ENDPOINT: 'https://mirror.example', FASTVLM_HUB_URL: 'http://127.0.0.1:8080' }).endpoint,
    ).toBe('http://127.0.0.1:8080');
  });

  it('encodes the revision as one segment and the path segment by segment', () => {
    const config = { endpoint: 'https://huggingface.co', token: undefined };
    expect(resolveUrl(config, 'apple/FastVLM-0.5B', 'refs/pr/1', 'sub dir/a#b.json')).toBe(
      'https://huggingface.co/apple/FastVLM-0.5B/resolve/refs%2Fpr%2F1/sub%20dir/a%23b.json',
    );
  });

  it("computes git's blob id (sha1 of 'blob {size}\\0' + content)", () => {
    // `printf 'hello\n' | git hash-object --stdin`
    const hash = new ContentHash({
      path: 'hello.txt',
      size: 6,
      sha256: undefined,
      gitBlobId: 'ce013625030ba8dba906f756967f9e9ca394464a',
    });
    hash.update(Buffer.from('hello\n'));
    expect(hash.mismatch()).toBeUndefined();
  });
});

describe('fastvlm pull (the command, in-process)', { timeout: 20_000 }, () => {
  it('downloads to --out, prints the folder on stdout and exits 0', async () => {
    await serve();
    vi.stubEnv('FASTVLM_HUB_URL', (hub as FakeHub).url);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(['node', 'fastvlm', 'pull', REPO, '--out', out], {
      writeOut: (text) => stdout.push(text),
      writeErr: (text) => stderr.push(text),
    });
    expect(code).toBe(0);
    expect(stdout.join('')).toBe(`${out}\n`);
    expect(stderr.join('')).toMatch(/5 files.*pull: 100%.*pulled acme\/tiny-vlm at c0ffee000000: 5 downloaded/s);
    expectFolderMatches(FILES);
  });

  it('prints one error line and exits 1 for a missing repository', async () => {
    await serve();
    vi.stubEnv('FASTVLM_HUB_URL', (hub as FakeHub).url);
    const stderr: string[] = [];
    const code = await runCli(['node', 'fastvlm', 'pull', 'acme/missing', '--out', out, '--quiet'], {
      writeOut: () => {},
      writeErr: (text) => stderr.push(text),
    });
    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(/^error: acme\/missing: repository not found[^\n]*\n$/);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
