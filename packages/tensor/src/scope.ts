/**
 * Scopes free temporaries: every disposable created while a scope is open is registered with it and
 * disposed when the scope ends, unless it is part of the scope's result (which moves to the
 * enclosing scope) or was kept with `keep()`.
 */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

export class ScopeStack {
  private readonly stack: Set<Disposable>[] = [];

  get depth(): number {
    return this.stack.length;
  }

  track(item: Disposable): void {
    this.stack[this.stack.length - 1]?.add(item);
  }

  /** Removes `item` from every open scope, so it outlives them (its owner must dispose it). */
  keep(item: Disposable): void {
    for (const scope of this.stack) scope.delete(item);
  }

  run<T>(fn: () => T): T {
    this.stack.push(new Set());
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.close(undefined);
      throw error;
    }
    this.close(result);
    return result;
  }

  async runAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.stack.push(new Set());
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      this.close(undefined);
      throw error;
    }
    this.close(result);
    return result;
  }

  private close(result: unknown): void {
    const scope = this.stack.pop()!;
    const kept = new Set<Disposable>();
    collectDisposables(result, kept, 0);
    const parent = this.stack[this.stack.length - 1];
    for (const item of scope) {
      if (kept.has(item)) parent?.add(item);
      else if (!item.disposed) item.dispose();
    }
  }
}

function isDisposable(value: unknown): value is Disposable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Disposable).dispose === 'function' &&
    'disposed' in value
  );
}

/** Finds disposables in a scope's result: the value itself, or inside arrays and plain objects. */
function collectDisposables(value: unknown, out: Set<Disposable>, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectDisposables(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectDisposables(v, out, depth + 1);
  }
}
