/**
 * Where the code runs, and the door to this package's Node-only entry. Browser bundlers never follow
 * `nodeEntry()` (its specifier is not a literal), so the browser entry carries no Node built-in.
 */
import type * as NodeEntry from './node/index.js';

/** True in Node (and in Node-based test runners), false in a browser or worker. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** `@fastvlm/tensor/node`, loaded on first use; only call it when `isNode()`. */
export async function nodeEntry(): Promise<typeof NodeEntry> {
  const specifier = '@fastvlm/tensor/node';
  return (await import(/* @vite-ignore */ specifier)) as typeof NodeEntry;
}
