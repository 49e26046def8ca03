/**
 * Model folders over HTTP(S): Range reads in blocks, Hugging Face repository URLs, a block store for
 * the next visit, and peers that fail or misbehave (errors, stalls, bodies cut short, wrong ranges,
 * too many bytes, no Range support) — retried where a retry can help, a typed error naming the URL
 * otherwise, never a hang.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeSafetensors,
  httpFolder,
  HttpSourceError,
  ModelSourceError,
  readTextFile,
  resolveFolderUrl,
  SafetensorsCheckpoint,
  type BlockStore,
} from '../src/index.js';
import { startPeer, type Peer } from './http-peer.js';

const FAST = { retries: 2, backoffMs: 1, timeoutMs: 2000 };

function checkpointBytes(): { bytes: Uint8Array; values: Float32Array } {
  const values = Float32Array.from({ length: 30_000 }, (_, i) => Math.sin(i));
  const small = new Float32Array([1, 2, 3]);
  return {
    bytes: encodeSafetensors({
      big: { dtype: 'F32', shape: [300, 100], data: values },
      small: { dtype: 'F32', shape: [3], data: small },
    }),
    values,
  };
}

/** A fetch that answers from `routes` (URL -> response factory) and records what it was asked. */
function fakeFetch(routes: Record<string, () => Response>, asked: string[] = []): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input);
    asked.push(url);
    const route = routes[url];
    return route ? route() : new Response('not found', { status: 404 });
  }) as typeof fetch;
}

describe('httpFolder against a Range server', () => {
  let peer: Peer;
  const { bytes, values } = checkpointBytes();
  beforeEach(async () => {
    peer = await startPeer({ 'model.safetensors': bytes, 'config.json': new TextEncoder().encode('{"a":1}') });
  });
  afterEach(async () => {
    await peer.close();
  });

  it('reads a checkpoint in a few block requests and gives the same values as the file', async () => {
    const folder = httpFolder(peer.url, { ...FAST, blockBytes: 64 * 1024 });
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(checkpoint.names().sort()).toEqual(['big', 'small']);
    expect(await checkpoint.readAsFloat32('big')).toEqual(values);
    expect(Array.from(await checkpoint.readAsFloat32('small'))).toEqual([1, 2, 3]);
    await checkpoint.close();
    // one probe, then ceil(120 KB / 64 KiB) = 2 blocks, each fetched once
    const ranged = peer.requests.filter((r) => r.path === 'model.safetensors' && r.range !== 'bytes=0-0');
    expect(ranged.length).toBe(Math.ceil(bytes.byteLength / (64 * 1024)));
    expect(folder.stats.downloadedBytes).toBe(bytes.byteLength);
    expect(await readTextFile(folder, 'config.json')).toBe('{"a":1}');
    expect(await folder.open('absent.json')).toBeUndefined();
  });

  it('keeps downloaded blocks in a store: a second visit downloads nothing', async () => {
    const saved = new Map<string, Uint8Array>();
    const store: BlockStore = {
      get: async (key) => saved.get(key),
      put: async (key, value) => void saved.set(key, value),
    };
    const first = httpFolder(peer.url, { ...FAST, store, blockBytes: 64 * 1024 });
    const a = await SafetensorsCheckpoint.open(first);
    await a.readAsFloat32('big');
    await a.close();
    expect(first.stats.downloadedBytes).toBe(bytes.byteLength);
    const second = httpFolder(peer.url, { ...FAST, store, blockBytes: 64 * 1024 });
    const b = await SafetensorsCheckpoint.open(second);
    expect(await b.readAsFloat32('big')).toEqual(values);
    await b.close();
    expect(second.stats.downloadedBytes).toBe(0);
    expect(second.stats.storedBytesRead).toBe(bytes.byteLength);
    // a store that refuses (quota) costs the cache, not the load
    const refusing: BlockStore = {
      get: async () => undefined,
      put: () => Promise.reject(new Error('QuotaExceededError')),
    };
    const refused: unknown[] = [];
    const third = httpFolder(peer.url, { ...FAST, store: refusing, onStoreError: (e) => refused.push(e) });
    const c = await SafetensorsCheckpoint.open(third);
    expect(await c.readAsFloat32('big')).toEqual(values);
    await c.close();
    expect(refused.length).toBeGreaterThan(0);
  });

  it('retries server errors and bodies cut short, resuming where the body stopped', async () => {
    peer.misbehave = (r) => {
      if (r.path !== 'model.safetensors') return undefined;
      if (r.count < 2) return { status: 503, headers: { 'Retry-After': '0' } };
      if (r.count === 3) return { cutAfter: 1000 };
      return undefined;
    };
    const folder = httpFolder(peer.url, { ...FAST, blockBytes: 1 << 20 });
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(await checkpoint.readAsFloat32('big')).toEqual(values);
    await checkpoint.close();
    expect(folder.stats.retries).toBe(3);
    const resumed = peer.requests.filter((r) => r.path === 'model.safetensors').at(-1)!;
    expect(resumed.range).toMatch(/^bytes=1000-/);
  });

  it('gives up after the retries with an error naming the URL and the last failure', async () => {
    peer.misbehave = (r) => (r.path === 'config.json' ? { status: 500 } : undefined);
    const folder = httpFolder(peer.url, FAST);
    const error = await readTextFile(folder, 'config.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpSourceError);
    expect(String(error)).toMatch(/config\.json: failed after 3 tries: HTTP 500/);
    expect(peer.requests.filter((r) => r.path === 'config.json').length).toBe(3);
  });

  it('times out a peer that never answers or stalls mid-body', async () => {
    peer.misbehave = (r) => (r.path === 'config.json' ? { stall: true } : undefined);
    const folder = httpFolder(peer.url, { retries: 1, backoffMs: 1, timeoutMs: 150 });
    await expect(readTextFile(folder, 'config.json')).rejects.toThrow(/failed after 2 tries: no answer within 150 ms/);
  });

  it('refuses wrong ranges, extra bytes, a file that changed, and access denied, without retrying', async () => {
    const folder = (): ReturnType<typeof httpFolder> => httpFolder(peer.url, { ...FAST, blockBytes: 4096 });
    const read = async (): Promise<unknown> => {
      const checkpoint = await SafetensorsCheckpoint.open(folder());
      try {
        return await checkpoint.read('big');
      } finally {
        await checkpoint.close();
      }
    };
    peer.misbehave = (r) =>
      r.range !== 'bytes=0-0' && r.path === 'model.safetensors'
        ? { contentRange: `bytes 5-9/${bytes.byteLength}` }
        : undefined;
    await expect(read()).rejects.toThrow(/the server sent 5-9/);
    peer.misbehave = (r) =>
      r.range !== 'bytes=0-0' && r.path === 'model.safetensors' ? { extraBytes: 10 } : undefined;
    await expect(read()).rejects.toThrow(/sent more than the \d+ bytes asked for/);
    peer.misbehave = () => undefined;
    const checkpoint = await SafetensorsCheckpoint.open(folder());
    peer.files.set('model.safetensors', bytes.subarray(0, bytes.byteLength - 4));
    await expect(checkpoint.read('big')).rejects.toThrow(/changed on the server/);
    await checkpoint.close();
    peer.misbehave = () => ({ status: 401, headers: { 'X-Error-Code': 'GatedRepo' } });
    const before = peer.requests.length;
    await expect(readTextFile(folder(), 'config.json')).rejects.toThrow(/gated.*HTTP 401/);
    expect(peer.requests.length).toBe(before + 1);
  });

  it('reads a small file from a server without Range support, and says so for a large one', async () => {
    peer.misbehave = () => ({ ignoreRange: true });
    expect(await readTextFile(httpFolder(peer.url, FAST), 'config.json')).toBe('{"a":1}');
    const huge = fakeFetch({
      'http://h/m/model.safetensors': () =>
        new Response(new Uint8Array(16), { status: 200, headers: { 'Content-Length': String(2 ** 31) } }),
    });
    await expect(SafetensorsCheckpoint.open(httpFolder('http://h/m', { fetch: huge }))).rejects.toThrow(
      /ignores HTTP Range requests, needed to read a 2147483648-byte file/,
    );
  });

  it('stops at once when the caller aborts', async () => {
    peer.misbehave = () => ({ stall: true });
    const controller = new AbortController();
    const folder = httpFolder(peer.url, { ...FAST, signal: controller.signal, timeoutMs: 60_000 });
    const pending = readTextFile(folder, 'config.json');
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/abort/i);
    expect(peer.requests.length).toBe(1);
  });
});

describe('Hugging Face repository URLs', () => {
  it('map to the resolve endpoint and the API listing', () => {
    const repo = resolveFolderUrl('https://huggingface.co/apple/FastVLM-0.5B');
    expect(repo.base).toBe('https://huggingface.co/apple/FastVLM-0.5B/resolve/main/');
    expect(repo.listing).toBe('https://huggingface.co/api/models/apple/FastVLM-0.5B/tree/main?recursive=true');
    expect(resolveFolderUrl('https://huggingface.co/apple/FastVLM-0.5B/tree/v1.0').base).toBe(
      'https://huggingface.co/apple/FastVLM-0.5B/resolve/v1.0/',
    );
    expect(resolveFolderUrl('https://huggingface.co/apple/FastVLM-0.5B', 'abc123').base).toMatch(/resolve\/abc123\/$/);
    expect(resolveFolderUrl('http://127.0.0.1:8080/models/tiny').base).toBe('http://127.0.0.1:8080/models/tiny/');
    expect(resolveFolderUrl('http://127.0.0.1:8080/models/tiny').listing).toBeUndefined();
    expect(() => resolveFolderUrl('ftp://x/y')).toThrow(/only http: and https: URLs/);
    expect(() => resolveFolderUrl('http://')).toThrow(ModelSourceError);
  });

  it('read files from resolve/<revision>/ and list the repository through the API', async () => {
    const asked: string[] = [];
    const config = '{"model_type":"llava_qwen2"}';
    const fetchFn = fakeFetch(
      {
        'https://huggingface.co/apple/FastVLM-0.5B/resolve/main/config.json': () =>
          new Response(config.slice(0, 1), {
            status: 206,
            headers: { 'Content-Range': `bytes 0-0/${config.length}` },
          }),
        'https://huggingface.co/api/models/apple/FastVLM-0.5B/tree/main?recursive=true': () =>
          Response.json([
            { type: 'file', path: 'config.json', size: 28 },
            { type: 'directory', path: 'sub' },
            { type: 'file', path: 'model.safetensors', size: 10 },
          ]),
      },
      asked,
    );
    const folder = httpFolder('https://huggingface.co/apple/FastVLM-0.5B', { fetch: fetchFn });
    expect(folder.location).toBe('https://huggingface.co/apple/FastVLM-0.5B');
    const file = await folder.open('config.json');
    expect(file?.size).toBe(config.length);
    expect(await folder.list!()).toEqual(['config.json', 'model.safetensors']);
    const bad = httpFolder('https://huggingface.co/a/b', {
      fetch: fakeFetch({
        'https://huggingface.co/api/models/a/b/tree/main?recursive=true': () => new Response('<html>'),
      }),
    });
    await expect(bad.list!()).rejects.toThrow(/listing is not valid JSON/);
    const missing = httpFolder('https://huggingface.co/a/b', {
      fetch: fakeFetch({
        'https://huggingface.co/a/b/resolve/main/config.json': () =>
          new Response('', { status: 401, headers: { 'X-Error-Code': 'RepoNotFound' } }),
      }),
      ...FAST,
    });
    await expect(missing.open('config.json')).rejects.toThrow(/no such repository, or it is private/);
  });
});
