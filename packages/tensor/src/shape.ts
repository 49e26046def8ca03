import { ShapeError } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(shape: Shape, what = 'shape'): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ShapeError(`${what} ${formatShape(shape)} has an invalid dimension ${d}`);
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Resolves a reshape target that may hold one -1 against `size` elements. */
export function resolveReshape(size: number, target: Shape): number[] {
  const out = [...target];
  const inferred = out.indexOf(-1);
  if (inferred !== out.lastIndexOf(-1)) throw new ShapeError(`reshape to ${formatShape(target)}: at most one -1`);
  if (inferred >= 0) {
    const known = numel(out.filter((_, i) => i !== inferred));
    if (known === 0 || size % known !== 0)
      throw new ShapeError(`cannot reshape ${size} elements to ${formatShape(target)}`);
    out[inferred] = size / known;
  }
  checkShape(out, 'reshape target');
  if (numel(out) !== size) throw new ShapeError(`cannot reshape ${size} elements to ${formatShape(target)}`);
  return out;
}
