/**
 * A `BlockStore` over the browser's Cache Storage: downloaded blocks of model files survive the
 * page, so a second visit reads them locally. Keys are the file's URL plus its block index, size and
 * ETag, so a file that changes on the server is downloaded again.
 */
import type { BlockStore } from './http-folder.js';

/** The part of the Cache Storage API used here (no DOM typings needed). */
interface CacheLike {
  match(request: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | undefined>;
  put(request: string, response: unknown): Promise<void>;
}
interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  delete(name: string): Promise<boolean>;
}

/** The default cache name of the page; bump it to drop every block stored by an older layout. */
export const WEIGHT_CACHE_NAME = 'fastvlm-weights-v1';

function cacheStorage(): CacheStorageLike | undefined {
  return (globalThis as { caches?: CacheStorageLike }).caches;
}

/** A block store in Cache Storage, or undefined where there is none (Node, an insecure page). */
export function cacheStorageBlocks(name = WEIGHT_CACHE_NAME): BlockStore | undefined {
  const storage = cacheStorage();
  if (storage === undefined) return undefined;
  const cache = storage.open(name);
  return {
    async get(key) {
      const hit = await (await cache).match(key);
      return hit === undefined ? undefined : new Uint8Array(await hit.arrayBuffer());
    },
    async put(key, bytes) {
      await (await cache).put(key, new Response(bytes as Uint8Array<ArrayBuffer>));
    },
  };
}

/** Drops every stored block; true when there was a cache to drop. */
export async function clearCacheStorageBlocks(name = WEIGHT_CACHE_NAME): Promise<boolean> {
  return (await cacheStorage()?.delete(name)) ?? false;
}
