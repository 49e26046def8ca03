/**
 * `pull` against hostile or broken hubs and folders (fake-hub.ts on 127.0.0.1): a listing that never
 * ends or lists too much is cut off at its stated limit, a download larger than the free disk space
 * is refused before any byte is fetched, and a file already there is trusted only once its content
 * matches the listed hash (a corrupt one is fetched again; the verification record spares hashing
 * an unchanged file twice).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { HubError, type HubProblem } from '../src/hub/errors.js';
import { pull, type PullEvent, type PullOptions } from '../src/hub/pull.js';
import { RECORD_FOLDER } from '../src/hub/verified-record.js';
import { startFakeHub, type FakeFile, type FakeHub, type FakeHubOptions } from './fake-hub.js';

const REPO = 'acme/tiny-vlm';
const COMMIT = 'beef'.padEnd(40, '0');
const WEIGHTS = randomBytes(200_000);
const FILES: FakeFile[] = [
  { path: 'config.json', content: Buffer.from('{"model_type": "llava_qwen2"}\n') },
  { path: 'model.safetensors', content: WEIGHTS, lfs: true },
  { path: 'tokenizer.json', content: Buffer.from('{"model": {}}\n') },
];
const TIB = 2 ** 40;

let hub: FakeHub | undefined;
let out: string;

beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'fastvlm-pull-bounds-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(out, { recursive: true, force: true });
});

async function serve(options: Partial<FakeHubOptions> & { files?: FakeFile[] } = {}): Promise<FakeHub> {
  hub = await startFakeHub({ repos: [{ id: REPO, commit: COMMIT, files: options.files ?? FILES }], ...options });
  return hub;
}

function pullFake(extra: Partial<PullOptions> = {}, events: PullEvent[] = []): ReturnType<typeof pull> {
  return pull({
    repo: REPO,
    outDir: out,
    hub: { endpoint: (hub as FakeHub).url, token: undefined },
    retries: 1,
    retryDelayMs: 5,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 2000,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

async function hubError(promise: Promise<unknown>, problem: HubProblem, text: RegExp): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).problem).toBe(problem);
  expect((error as HubError).message).toMatch(text);
  expect((error as HubError).message).not.toContain('\n');
  return error as HubError;
}

const resolveRequests = (): number =>
  (hub as FakeHub).requests.filter((request) => request.path.includes('/resolve/')).length;

describe('bad input: hub listing and download size', { timeout: 60_000 }, () => {
  it('cuts off a listing that never ends at the byte limit, and the option raises the limit', async () => {
    await serve({ endlessListing: true });
    const started = Date.now();
    await hubError(
      pullFake({ listingLimits: { maxBytes: 256 * 1024 }, idleTimeoutMs: 10_000 }),
      'too-large',
      /the file listing is larger than 262144 bytes, the limit \(raise it with --max-listing-bytes\)/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(resolveRequests()).toBe(0);
  });

  it('takes the limit from --max-listing-bytes on the command line, one line and exit 1', async () => {
    await serve({ endlessListing: true });
    vi.stubEnv('FASTVLM_HUB_URL', (hub as FakeHub).url);
    let stderr = '';
    const code = await runCli(
      ['node', 'fastvlm', 'pull', REPO, '--out', out, '--quiet', '--max-listing-bytes', '65536'],
      { writeOut: () => undefined, writeErr: (text) => void (stderr += text) },
    );
    vi.unstubAllEnvs();
    expect(code).toBe(1);
    expect(stderr).toBe(
      `error: ${REPO}: the file listing is larger than 65536 bytes, the limit (raise it with --max-listing-bytes)\n`,
    );
  });

  it('refuses a listing of more files than --max-files, over several pages', async () => {
    const many = Array.from({ length: 30 }, (_, n) => ({ path: `shard-${n}.txt`, content: Buffer.from(`${n}`) }));
    await serve({ files: many, pageSize: 7 });
    await hubError(
      pullFake({ listingLimits: { maxFiles: 20 } }),
      'too-large',
      /lists more than 20 files, the limit \(raise it with --max-files\)/,
    );
    await expect(pullFake({ listingLimits: { maxFiles: 30 } })).resolves.toMatchObject({ present: [] });
  });

  it('refuses a listed file of 909 TiB before fetching anything, naming the sizes', async () => {
    await serve({ files: [...FILES.slice(0, 1), { ...FILES[1], listedSize: 909 * TIB }] });
    await hubError(
      pullFake(),
      'disk-space',
      /the files to download take 909\.0 TiB but .* free .*nothing was downloaded.*--no-space-check/,
    );
    expect(resolveRequests()).toBe(0);
  });

  it('counts many files together against the free space, not each one alone', async () => {
    const files = Array.from({ length: 4 }, (_, n) => ({
      path: `part-${n}.bin`,
      content: Buffer.from([n]),
      listedSize: 300 * TIB,
    }));
    await serve({ files });
    await hubError(pullFake(), 'disk-space', /take 1\.2 PiB|take 1200\.0 TiB/);
  });

  it('with the check off (--no-space-check), goes on to the download, which the size check then stops', async () => {
    await serve({ files: [{ ...FILES[0], listedSize: 909 * TIB }] });
    await hubError(pullFake({ checkSpace: false }), 'size-mismatch', /size mismatch/);
  });

  it('reads the bounds from the command line strictly', async () => {
    await serve({ endlessListing: true });
    const errors: string[] = [];
    const run = (...args: string[]): Promise<number> =>
      runCli(['node', 'fastvlm', 'pull', REPO, '--out', out, '--quiet', ...args], {
        writeOut: () => undefined,
        writeErr: (text) => void errors.push(text),
      });
    for (const bad of ['0x10', '1e3', '-1', ' 5', '']) {
      errors.length = 0;
      expect(await run('--max-files', bad)).toBe(2);
      expect(errors.join('')).toMatch(/^error: --max-files must be an integer >= 1, got '.*'\n$/);
    }
  });
});

describe('bad input: files already there', { timeout: 20_000 }, () => {
  it('fetches again an LFS file whose content is corrupt though its size matches', async () => {
    await serve();
    await pullFake();
    const target = join(out, 'model.safetensors');
    const corrupt = Buffer.from(WEIGHTS);
    corrupt[1234] ^= 0xff;
    writeFileSync(target, corrupt);
    const events: PullEvent[] = [];
    const result = await pullFake({}, events);
    expect(result.refetched).toEqual(['model.safetensors']);
    expect(result.present).toEqual(['config.json', 'tokenizer.json']);
    expect(readFileSync(target).equals(WEIGHTS)).toBe(true);
    const corruptEvent = events.find((event) => event.type === 'corrupt');
    expect(corruptEvent?.type === 'corrupt' && corruptEvent.detail).toMatch(/^sha256 mismatch: got [0-9a-f]{64}/);
  });

  it('fetches again a small (git) file whose content is corrupt, checked by its git blob id', async () => {
    await serve();
    await pullFake();
    const target = join(out, 'config.json');
    const original = readFileSync(target);
    writeFileSync(target, Buffer.from(original.toString().replace('llava', 'LLAVA')));
    const result = await pullFake();
    expect(result.refetched).toEqual(['config.json']);
    expect(readFileSync(target).equals(original)).toBe(true);
  });

  it('verifies a file it did not download itself (no record yet) before trusting it', async () => {
    await serve();
    writeFileSync(join(out, 'tokenizer.json'), Buffer.alloc(FILES[2].content.length, 0x20));
    writeFileSync(join(out, 'config.json'), FILES[0].content);
    const result = await pullFake();
    expect(result.refetched).toEqual(['tokenizer.json']);
    expect(result.present).toEqual(['config.json']);
    expect(result.downloaded).toEqual(['model.safetensors']);
  });

  it('trusts the verification record while size and mtime are unchanged, and re-hashes once they change', async () => {
    await serve();
    await pullFake();
    const target = join(out, 'model.safetensors');
    // A whole-second mtime, which utimes can set back exactly; the next pull hashes the file and records it.
    const atime = new Date(2026, 0, 1);
    const mtime = new Date(2026, 0, 2);
    utimesSync(target, atime, mtime);
    expect((await pullFake()).present).toContain('model.safetensors');
    expect(statSync(target).mtimeMs).toBe(mtime.getTime());
    // Same size, same mtime: the record says verified, so the file is not hashed (the edit goes unseen).
    const edited = Buffer.from(WEIGHTS);
    edited[0] ^= 1;
    writeFileSync(target, edited);
    utimesSync(target, atime, mtime);
    expect((await pullFake()).present).toContain('model.safetensors');
    // A new mtime: hashed again, found corrupt, fetched again.
    utimesSync(target, atime, new Date(mtime.getTime() + 5000));
    expect((await pullFake()).refetched).toEqual(['model.safetensors']);
    expect(readFileSync(target).equals(WEIGHTS)).toBe(true);
  });

  it('treats a damaged verification record as no record: every file is hashed, none is lost', async () => {
    await serve();
    await pullFake();
    writeFileSync(join(out, RECORD_FOLDER, 'verified.json'), '{ not json');
    const result = await pullFake();
    expect(result.present.length).toBe(FILES.length);
    expect(resolveRequests()).toBe(3);
  });
});
