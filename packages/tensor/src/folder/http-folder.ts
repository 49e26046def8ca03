/**
 * A model folder served over HTTP(S): a Hugging Face repository (`https://huggingface.co/org/repo`,
 * files read from `/resolve/<revision>/<file>`, listed by the Hub's API) or any static server that
 * answers Range requests (`npx fastvlm web` does). Files are read in aligned blocks of `blockBytes`
 * so that many small tensors cost few requests; a few blocks stay in memory, and a `BlockStore`
 * (the browser's Cache Storage) keeps every block for the next visit.
 */
import {
  checkStatus,
  HttpSourceError,
  parseContentRange,
  readBody,
  request,
  resolveHttpOptions,
  Retryable,
  withRetries,
  type HttpOptions,
  type ResolvedHttpOptions,
} from './http-client.js';
import {
  checkRelativeName,
  MAX_WHOLE_FILE_BYTES,
  ModelSourceError,
  type FolderFile,
  type ModelFolder,
} from './model-folder.js';

/** Persistent storage of downloaded blocks, e.g. `cacheStorageBlocks()` in a browser. */
export interface BlockStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
}

export interface HttpFolderOptions extends HttpOptions {
  /** A Hugging Face repository's branch, tag or commit. Default 'main'. */
  revision?: string;
  /** Bytes per ranged request (and per cached block). Default 8 MiB. */
  blockBytes?: number;
  /** Blocks kept in memory per file, most recently used first. Default 4. */
  memoryBlocks?: number;
  /** Where downloaded blocks are kept across visits. Default: nowhere. */
  store?: BlockStore;
  /** Called when the store refuses a block (quota exceeded): loading goes on without it. */
  onStoreError?: (error: unknown) => void;
}

/** Bytes moved so far, for progress and for telling a cached load from a download. */
export interface HttpFolderStats {
  requests: number;
  retries: number;
  downloadedBytes: number;
  storedBytesRead: number;
}

/** Largest Hub listing read: 16 MiB of JSON, 100 000 entries. */
const MAX_LISTING_BYTES = 16 * 1024 * 1024;
const MAX_LISTING_ENTRIES = 100_000;
const HUB_HOSTS = ['huggingface.co', 'hf.co'];

interface Location {
  /** Files are `${base}${name}`. */
  base: string;
  /** The Hub API's listing URL, for a Hugging Face repository. */
  listing: string | undefined;
  /** How errors name the folder. */
  label: string;
}

/**
 * Where the files of `url` are: a Hub repository URL (`https://huggingface.co/org/repo`, optionally
 * `/tree/<rev>` or `/resolve/<rev>`) maps to its resolve endpoint; any other URL is the folder itself.
 */
export function resolveFolderUrl(url: string, revision = 'main'): Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ModelSourceError(url, 'is not a valid URL', { cause });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ModelSourceError(url, `only http: and https: URLs can be read, not ${parsed.protocol}`);
  }
  parsed.hash = '';
  parsed.search = '';
  if (HUB_HOSTS.includes(parsed.hostname)) {
    const parts = parsed.pathname.split('/').filter(Boolean);
    const [org, repo, verb, rev] = parts;
    if (parts.length === 2 || (parts.length === 4 && (verb === 'tree' || verb === 'resolve'))) {
      const ref = encodeURIComponent(parts.length === 4 ? rev : revision);
      const origin = `${parsed.protocol}//${parsed.host}`;
      return {
        base: `${origin}/${org}/${repo}/resolve/${ref}/`,
        listing: `${origin}/api/models/${org}/${repo}/tree/${ref}?recursive=true`,
        label: `${origin}/${org}/${repo}`,
      };
    }
  }
  const base = parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
  return { base, listing: undefined, label: base };
}

export function httpFolder(url: string, options: HttpFolderOptions = {}): ModelFolder & { stats: HttpFolderStats } {
  return new HttpFolder(resolveFolderUrl(url, options.revision), options);
}

class HttpFolder implements ModelFolder {
  readonly location: string;
  readonly stats: HttpFolderStats = { requests: 0, retries: 0, downloadedBytes: 0, storedBytesRead: 0 };
  private readonly http: ResolvedHttpOptions;
  private readonly blockBytes: number;
  private readonly memoryBlocks: number;

  constructor(
    private readonly where: Location,
    private readonly options: HttpFolderOptions,
  ) {
    this.location = where.label;
    this.http = resolveHttpOptions(options);
    this.blockBytes = options.blockBytes ?? 8 * 1024 * 1024;
    this.memoryBlocks = options.memoryBlocks ?? 4;
    if (!Number.isSafeInteger(this.blockBytes) || this.blockBytes < 4096)
      throw new ModelSourceError(this.location, `blockBytes must be an integer >= 4096, got ${this.blockBytes}`);
    if (!Number.isSafeInteger(this.memoryBlocks) || this.memoryBlocks < 1)
      throw new ModelSourceError(this.location, `memoryBlocks must be an integer >= 1, got ${this.memoryBlocks}`);
  }

  pathOf(name: string): string {
    return `${this.where.base}${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  async open(name: string): Promise<FolderFile | undefined> {
    checkRelativeName(this.location, name);
    const url = this.pathOf(name);
    const probe = await this.retrying(url, async (controls) => {
      this.stats.requests++;
      const response = await request(url, this.http, controls, { Range: 'bytes=0-0' });
      if (response.status === 404 || response.status === 410) {
        void response.body?.cancel().catch(() => undefined);
        return undefined;
      }
      if (response.status === 416) {
        // Only an empty file has no byte 0.
        void response.body?.cancel().catch(() => undefined);
        const total = parseContentRange(url, response.headers.get('content-range')?.replace('*', '0-0') ?? null).total;
        if (total !== 0) throw new HttpSourceError(url, 'the server refused the range of byte 0 (HTTP 416)', 416);
        return { size: 0, tag: '', whole: undefined };
      }
      checkStatus(url, response);
      const tag = response.headers.get('etag') ?? '';
      if (response.status === 206) {
        const range = parseContentRange(url, response.headers.get('content-range'));
        void response.body?.cancel().catch(() => undefined);
        if (range.start !== 0 || range.total === undefined)
          throw new HttpSourceError(
            url,
            `the server answered bytes 0-0 with Content-Range ${range.start}-${range.end}/*`,
          );
        return { size: range.total, tag, whole: undefined };
      }
      // 200: the server ignores Range. A small file is read whole now; a large one cannot be read.
      const length = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(length) && length > MAX_WHOLE_FILE_BYTES) {
        void response.body?.cancel().catch(() => undefined);
        throw new HttpSourceError(
          url,
          `the server ignores HTTP Range requests, needed to read a ${length}-byte file (serve the folder with one that supports them, e.g. npx fastvlm web)`,
          200,
        );
      }
      const buffer = new Uint8Array(MAX_WHOLE_FILE_BYTES + 1);
      const got = await readBody(url, response, buffer, controls).catch((error: unknown) => {
        if (error instanceof HttpSourceError)
          throw new HttpSourceError(
            url,
            `the server ignores HTTP Range requests and the file is above ${MAX_WHOLE_FILE_BYTES} bytes`,
            200,
          );
        throw error;
      });
      if (Number.isFinite(length) && got < length)
        throw new Retryable(`the body ended after ${got} of ${length} bytes`);
      this.stats.downloadedBytes += got;
      return { size: got, tag, whole: buffer.slice(0, got) };
    });
    if (probe === undefined) return undefined;
    return new HttpFile(this, url, probe.size, probe.tag, probe.whole);
  }

  async list(): Promise<string[]> {
    const listing = this.where.listing;
    if (listing === undefined) throw new ModelSourceError(this.location, 'a plain HTTP folder cannot be listed');
    const bytes = new Uint8Array(MAX_LISTING_BYTES);
    const length = await this.retrying(listing, async (controls) => {
      this.stats.requests++;
      const response = await request(listing, this.http, controls);
      checkStatus(listing, response);
      const got = await readBody(listing, response, bytes, controls).catch((error: unknown) => {
        if (error instanceof HttpSourceError)
          throw new HttpSourceError(listing, `the listing is above ${MAX_LISTING_BYTES} bytes`);
        throw error;
      });
      return got;
    });
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, length)));
    } catch (cause) {
      throw new HttpSourceError(listing, 'the listing is not valid JSON', undefined, { cause });
    }
    if (!Array.isArray(json)) throw new HttpSourceError(listing, 'the listing is not a JSON array');
    if (json.length > MAX_LISTING_ENTRIES)
      throw new HttpSourceError(listing, `the listing has more than ${MAX_LISTING_ENTRIES} entries`);
    return json
      .filter(
        (e): e is { type: string; path: string } =>
          typeof e === 'object' &&
          e !== null &&
          (e as { type?: unknown }).type === 'file' &&
          typeof (e as { path?: unknown }).path === 'string',
      )
      .map((e) => e.path);
  }

  /** `withRetries`, counting retries. */
  retrying<T>(url: string, attempt: Parameters<typeof withRetries<T>>[2]): Promise<T> {
    let first = true;
    return withRetries(url, this.http, (controls) => {
      if (!first) this.stats.retries++;
      first = false;
      return attempt(controls);
    });
  }

  get settings(): {
    http: ResolvedHttpOptions;
    blockBytes: number;
    memoryBlocks: number;
    store: BlockStore | undefined;
    onStoreError: ((error: unknown) => void) | undefined;
  } {
    return {
      http: this.http,
      blockBytes: this.blockBytes,
      memoryBlocks: this.memoryBlocks,
      store: this.options.store,
      onStoreError: this.options.onStoreError,
    };
  }
}

class HttpFile implements FolderFile {
  private readonly blocks = new Map<number, Promise<Uint8Array>>();
  private closed = false;

  constructor(
    private readonly folder: HttpFolder,
    readonly path: string,
    readonly size: number,
    private readonly tag: string,
    /** The whole file, when the server ignored Range and sent it all. */
    private readonly whole: Uint8Array | undefined,
  ) {}

  async readInto(target: Uint8Array, position: number): Promise<void> {
    if (this.closed) throw new ModelSourceError(this.path, 'the file is closed');
    const end = position + target.byteLength;
    if (!Number.isSafeInteger(position) || position < 0 || end > this.size) {
      throw new ModelSourceError(
        this.path,
        `file is truncated: expected ${target.byteLength} bytes at offset ${position}, the file is ${this.size} bytes`,
      );
    }
    if (this.whole !== undefined) {
      target.set(this.whole.subarray(position, end));
      return;
    }
    const { blockBytes } = this.folder.settings;
    let done = 0;
    while (done < target.byteLength) {
      const at = position + done;
      const index = Math.floor(at / blockBytes);
      const block = await this.block(index);
      const from = at - index * blockBytes;
      const n = Math.min(block.byteLength - from, target.byteLength - done);
      target.set(block.subarray(from, from + n), done);
      done += n;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.blocks.clear();
  }

  /** Block `index`: from memory, from the store, or downloaded (and then stored). */
  private block(index: number): Promise<Uint8Array> {
    let pending = this.blocks.get(index);
    if (pending !== undefined) {
      // most recently used last
      this.blocks.delete(index);
      this.blocks.set(index, pending);
      return pending;
    }
    pending = this.loadBlock(index);
    pending.catch(() => this.blocks.delete(index));
    this.blocks.set(index, pending);
    const { memoryBlocks } = this.folder.settings;
    while (this.blocks.size > memoryBlocks) this.blocks.delete(this.blocks.keys().next().value as number);
    return pending;
  }

  private async loadBlock(index: number): Promise<Uint8Array> {
    const { blockBytes, store, onStoreError } = this.folder.settings;
    const start = index * blockBytes;
    const length = Math.min(blockBytes, this.size - start);
    const key = `${this.path}?fastvlm-block=${index}&block-bytes=${blockBytes}&size=${this.size}&etag=${encodeURIComponent(this.tag)}`;
    if (store !== undefined) {
      const stored = await store.get(key).catch(() => undefined);
      if (stored !== undefined && stored.byteLength === length) {
        this.folder.stats.storedBytesRead += length;
        return stored;
      }
    }
    const bytes = await this.download(start, length);
    if (store !== undefined) await store.put(key, bytes).catch((error: unknown) => onStoreError?.(error));
    return bytes;
  }

  /** Bytes [start, start + length), resuming where a body that was cut short stopped. */
  private async download(start: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    let done = 0;
    const { http } = this.folder.settings;
    await this.folder.retrying(this.path, async (controls) => {
      const from = start + done;
      const to = start + length - 1;
      this.folder.stats.requests++;
      const response = await request(this.path, http, controls, { Range: `bytes=${from}-${to}` });
      checkStatus(this.path, response);
      if (response.status !== 206) {
        void response.body?.cancel().catch(() => undefined);
        throw new HttpSourceError(
          this.path,
          `the server answered a Range request with HTTP ${response.status}, not 206`,
          response.status,
        );
      }
      const range = parseContentRange(this.path, response.headers.get('content-range'));
      if (range.total !== undefined && range.total !== this.size) {
        void response.body?.cancel().catch(() => undefined);
        throw new HttpSourceError(
          this.path,
          `the file changed on the server while it was read (${this.size} -> ${range.total} bytes)`,
        );
      }
      if (range.start !== from || range.end !== to) {
        void response.body?.cancel().catch(() => undefined);
        throw new HttpSourceError(
          this.path,
          `asked for bytes ${from}-${to}, the server sent ${range.start}-${range.end}`,
        );
      }
      const received = { bytes: 0 };
      try {
        await readBody(this.path, response, bytes.subarray(done), controls, received);
      } finally {
        done += received.bytes;
        this.folder.stats.downloadedBytes += received.bytes;
      }
      if (done < length) throw new Retryable(`the body ended after ${received.bytes} of ${to - from + 1} bytes`);
    });
    return bytes;
  }
}
