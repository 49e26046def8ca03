/**
 * WGSL generators memoised by their arguments. A launcher asks for its source on every call (a
 * decode step records ~350 dispatches); building a several-KB string each time, and hashing it
 * again for the kernel cache's lookup, cost tens of microseconds per dispatch. The same string
 * object back is free: V8 keeps a string's hash.
 */
export function memoSource<A extends readonly unknown[]>(generate: (...args: A) => string): (...args: A) => string {
  const cache = new Map<string, string>();
  return (...args: A): string => {
    const key = JSON.stringify(args);
    let source = cache.get(key);
    if (source === undefined) {
      source = generate(...args);
      cache.set(key, source);
    }
    return source;
  };
}
