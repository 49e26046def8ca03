/**
 * Numbers given on the command line, read strictly: plain decimal digits only. `Number()` would
 * take '0x10' as 16, '1e3' as 1000, ' 16' and '' as numbers; a flag that looks wrong is refused
 * with a UsageError naming the flag and quoting what was given, before any work starts.
 */
import { UsageError } from './errors.js';

const INTEGER = /^-?\d+$/;
// Digits with an optional fraction; an exponent only on a decimal mantissa ('1e-3', '2.5E2'), never hex.
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

export interface IntegerBounds {
  /** Smallest value allowed (default: no lower bound but the safe-integer range). */
  readonly min?: number;
  /** Largest value allowed (default: Number.MAX_SAFE_INTEGER). */
  readonly max?: number;
}

function quoted(value: string): string {
  return `'${value}'`;
}

function rangeWords(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` in [${min}, ${max}]`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

/** An integer in written digits (no sign but '-', no spaces, no hex, no exponent), within bounds. */
export function integerFlag(name: string, value: string | undefined, bounds: IntegerBounds = {}): number | undefined {
  if (value === undefined) return undefined;
  const { min, max } = bounds;
  const n = Number(value);
  if (
    !INTEGER.test(value) ||
    !Number.isSafeInteger(n) ||
    (min !== undefined && n < min) ||
    (max !== undefined && n > max)
  )
    throw new UsageError(`${name} must be an integer${rangeWords(min, max)}, got ${quoted(value)}`);
  return n;
}

export interface RealBounds {
  readonly min?: number;
  /** Whether `min` itself is refused (an open interval). */
  readonly minExclusive?: boolean;
  readonly max?: number;
}

/** A finite decimal number ('0.7', '1e-3'; never '0x1', 'Infinity', ' 1'), within bounds. */
export function realFlag(name: string, value: string | undefined, bounds: RealBounds = {}): number | undefined {
  if (value === undefined) return undefined;
  const { min, minExclusive = false, max } = bounds;
  const n = Number(value);
  const belowMin = min !== undefined && (minExclusive ? n <= min : n < min);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || belowMin || (max !== undefined && n > max)) {
    const range =
      min !== undefined && max !== undefined
        ? ` in ${minExclusive ? '(' : '['}${min}, ${max}]`
        : min !== undefined
          ? ` ${minExclusive ? '>' : '>='} ${min}`
          : rangeWords(undefined, max);
    throw new UsageError(`${name} must be a number${range}, got ${quoted(value)}`);
  }
  return n;
}
