/**
 * The server behind `fastvlm web`: the page (bundled at start), and a local model folder under
 * /model/ answering Range requests as a Hugging Face repository does, so the page reads it with the
 * same HTTP source. Files are opened through `nodeFolder`: a name that leaves the folder, a FIFO or a
 * device is refused, never opened. GET and HEAD only; by default on 127.0.0.1.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ModelSourceError, relativeNameProblem, type FolderFile, type ModelFolder } from '@fastvlm/tensor';
import { nodeFolder } from '@fastvlm/tensor/node';
import { bundlePage, PAGE_DIR, type Bundle } from './bundle.js';

export const MODEL_PREFIX = '/model/';
/** Bytes read from disk per write to the socket. */
const CHUNK_BYTES = 1 << 20;

export interface WebServerOptions {
  /** A local model folder to serve under /model/ (the page's default model then). */
  model?: string;
  port?: number;
  host?: string;
  /** The page bundle (built at start when not given). */
  bundle?: Bundle;
  /**
   * Test hook: bytes after which the body of a model file is cut (the connection dropped), by file
   * name, to show what the page does with a download that fails mid-way.
   */
  cutAfter?: ReadonlyMap<string, number>;
}

export interface WebServer {
  url: string;
  server: Server;
  bundle: Bundle;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
};

function contentType(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/** `Range: bytes=a-b` (one range; `a-`, `-n` too) for a file of `size`: [start, end], 'bad' or undefined (none). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'bad' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) return undefined; // several ranges: send it all
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'bad';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'bad';
  return [start, end];
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${text}\n`);
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: FolderFile,
  name: string,
  etag: string,
  cutAfter: number | undefined,
): Promise<void> {
  const range = parseRange(req.headers.range, file.size);
  if (range === 'bad') {
    res.writeHead(416, { 'Content-Range': `bytes */${file.size}` });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, file.size - 1];
  const length = Math.max(0, end - start + 1);
  const headers: Record<string, string> = {
    'Content-Type': contentType(name),
    'Content-Length': String(length),
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Cache-Control': 'no-cache',
  };
  if (range !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
  res.writeHead(range === undefined ? 200 : 206, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  let sent = 0;
  while (sent < length) {
    const n = Math.min(CHUNK_BYTES, length - sent);
    // a fresh buffer per chunk: the socket may still hold the previous one
    const chunk = new Uint8Array(n);
    await file.readInto(chunk, start + sent);
    if (cutAfter !== undefined && start + sent + n > cutAfter) {
      res.write(chunk.subarray(0, Math.max(0, cutAfter - start - sent)));
      res.destroy();
      return;
    }
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
    if (res.destroyed) return;
    sent += n;
  }
  res.end();
}

async function serveModel(
  req: IncomingMessage,
  res: ServerResponse,
  folder: ModelFolder,
  name: string,
  cutAfter: ReadonlyMap<string, number> | undefined,
): Promise<void> {
  if (relativeNameProblem(name) !== null) return send(res, 404, 'not found');
  let file: FolderFile | undefined;
  try {
    file = await folder.open(name);
  } catch (error) {
    return send(res, 403, error instanceof ModelSourceError ? error.problem : 'cannot be read');
  }
  if (file === undefined) return send(res, 404, 'not found');
  try {
    const info = await stat(folder.pathOf(name));
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`;
    await sendFile(req, res, file, name, etag, cutAfter?.get(name));
  } finally {
    await file.close();
  }
}

/** The page's HTML, with the local model named as the default when there is one. */
async function pageHtml(model: boolean): Promise<string> {
  const html = await readFile(join(PAGE_DIR, 'index.html'), 'utf8');
  return model ? html.replace('<head>', `<head>\n    <meta name="fastvlm-model" content="${MODEL_PREFIX}" />`) : html;
}

export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const folder = options.model === undefined ? undefined : await nodeFolder(options.model);
  const bundle = options.bundle ?? (await bundlePage());
  const html = await pageHtml(folder !== undefined);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'bad path');
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : html);
      return;
    }
    const asset = bundle.files.get(path.slice(1));
    if (asset !== undefined) {
      res.writeHead(200, { 'Content-Type': contentType(path), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : asset);
      return;
    }
    if (folder !== undefined && path.startsWith(MODEL_PREFIX)) {
      serveModel(req, res, folder, path.slice(MODEL_PREFIX.length), options.cutAfter).catch(() => {
        if (!res.headersSent) send(res, 500, 'read failed');
        else res.destroy();
      });
      return;
    }
    send(res, 404, 'not found');
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    server,
    bundle,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
