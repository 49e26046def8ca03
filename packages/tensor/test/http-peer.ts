/**
 * A local HTTP peer for the model-folder tests: serves files from memory with Range support, and can
 * be told to misbehave per request (fail with a status, stall, cut a body short, lie about ranges).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PeerRequest {
  path: string;
  range: string | undefined;
  /** How many requests this path has had before this one. */
  count: number;
}

/** What to do with a request: undefined serves it normally. */
export type Misbehaviour =
  | { status: number; headers?: Record<string, string> }
  | { stall: true }
  | { cutAfter: number }
  | { ignoreRange: true }
  | { contentRange: string }
  | { extraBytes: number };

export interface Peer {
  url: string;
  requests: PeerRequest[];
  files: Map<string, Uint8Array>;
  misbehave: (request: PeerRequest) => Misbehaviour | undefined;
  close(): Promise<void>;
}

function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const match = header === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(header);
  if (match === null) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return [start, end];
}

export async function startPeer(files: Record<string, Uint8Array>): Promise<Peer> {
  const peer: Peer = {
    url: '',
    requests: [],
    files: new Map(Object.entries(files)),
    misbehave: () => undefined,
    close: async () => undefined,
  };
  const counts = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
    const count = counts.get(path) ?? 0;
    counts.set(path, count + 1);
    const request: PeerRequest = { path, range: req.headers.range, count };
    peer.requests.push(request);
    const how = peer.misbehave(request);
    if (how && 'stall' in how) return; // never answers
    if (how && 'status' in how) {
      res.writeHead(how.status, how.headers ?? {});
      res.end('no');
      return;
    }
    const file = peer.files.get(path);
    if (file === undefined) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const range = how && 'ignoreRange' in how ? undefined : parseRange(req.headers.range, file.byteLength);
    if (range === undefined) {
      res.writeHead(200, { 'Content-Length': String(file.byteLength), ETag: '"v1"' });
      res.end(file);
      return;
    }
    const [start, end] = range;
    if (start >= file.byteLength) {
      res.writeHead(416, { 'Content-Range': `bytes */${file.byteLength}` });
      res.end();
      return;
    }
    let body = file.subarray(start, end + 1);
    const headers: Record<string, string> = {
      'Content-Range': how && 'contentRange' in how ? how.contentRange : `bytes ${start}-${end}/${file.byteLength}`,
      ETag: '"v1"',
    };
    if (how && 'extraBytes' in how) body = Buffer.concat([body, Buffer.alloc(how.extraBytes)]);
    if (how && 'cutAfter' in how) {
      // Promise the whole range, send part of it, then drop the connection.
      res.writeHead(206, { ...headers, 'Content-Length': String(body.byteLength) });
      res.write(body.subarray(0, how.cutAfter), () => res.destroy());
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Length': String(body.byteLength) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  peer.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return peer;
}
