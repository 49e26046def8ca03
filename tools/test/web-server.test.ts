/**
 * `fastvlm web`'s server: the page with the local model named as its default, and the model folder
 * under /model/ with Range requests as the Hub answers them; paths that leave the folder, FIFOs and
 * folders are refused, never opened. And the page's own HTTP source reads a checkpoint through it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, httpFolder, SafetensorsCheckpoint } from '@fastvlm/tensor';
import { UsageError } from '../src/cli/errors.js';
import { runWeb } from '../src/cli/commands/web.js';
import { parseRange, startWebServer, type WebServer } from '../src/web/server.js';

const weights = encodeSafetensors({
  w: { dtype: 'F32', shape: [1000], data: Float32Array.from({ length: 1000 }, (_, i) => i) },
});

describe('fastvlm web', () => {
  let dir: string;
  let server: WebServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastvlm-web-'));
    await writeFile(join(dir, 'model.safetensors'), weights);
    await writeFile(join(dir, 'config.json'), '{"a":1}');
    execFileSync('mkfifo', [join(dir, 'tokenizer.json')]);
    server = await startWebServer({ model: dir, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page with the local model as its default, and the bundle', async () => {
    const html = await (await fetch(server.url)).text();
    expect(html).toContain('<meta name="fastvlm-model" content="/model/" />');
    const app = await fetch(`${server.url}app.js`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect((await app.arrayBuffer()).byteLength).toBe(server.bundle.bytes);
    expect((await fetch(`${server.url}nope.js`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('answers Range requests on the model folder as the Hub does', async () => {
    const part = await fetch(`${server.url}model/model.safetensors`, { headers: { Range: 'bytes=8-15' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 8-15/${weights.byteLength}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(weights.subarray(8, 16));
    const whole = await fetch(`${server.url}model/config.json`);
    expect(whole.status).toBe(200);
    expect(await whole.text()).toBe('{"a":1}');
    const beyond = await fetch(`${server.url}model/config.json`, { headers: { Range: 'bytes=99-' } });
    expect(beyond.status).toBe(416);
    expect((await fetch(`${server.url}model/absent.json`)).status).toBe(404);
    expect((await fetch(`${server.url}model/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    const fifo = await fetch(`${server.url}model/tokenizer.json`);
    expect(fifo.status).toBe(403);
    expect(await fifo.text()).toMatch(/is not a regular file: it is a FIFO/);
    expect(parseRange('bytes=-4', 10)).toEqual([6, 9]);
    expect(parseRange('bytes=5-', 10)).toEqual([5, 9]);
    expect(parseRange('bytes=0-0,5-6', 10)).toBeUndefined();
  });

  it('is read by the page source (httpFolder) like any Range server', async () => {
    const checkpoint = await SafetensorsCheckpoint.open(httpFolder(`${server.url}model/`, { blockBytes: 4096 }));
    expect((await checkpoint.readAsFloat32('w'))[999]).toBe(999);
    await checkpoint.close();
  });

  it('says what is wrong with its flags and folder in one line', async () => {
    const output = { out: () => undefined, err: () => undefined };
    await expect(runWeb({ port: '99999' }, output)).rejects.toThrow(UsageError);
    await expect(runWeb({ port: '0', model: join(dir, 'absent') }, output)).rejects.toThrow(/absent: no such folder/);
    const port = String(new URL(server.url).port);
    await expect(runWeb({ port }, output)).rejects.toThrow(/port \d+ is in use/);
  });
});
