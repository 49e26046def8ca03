/** Small checks for JSON read from tokenizer files: each failure is a TokenizerError naming the file and the field. */
import { TokenizerError } from './errors.js';

/** How a JSON value reads in an error message: "an array", "null", "number 4", "string 'x'". */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TokenizerError(file, `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export function asObject(value: unknown, file: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerError(file, `${what} must be a JSON object, got ${describeJson(value)}`);
  }
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, file: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw new TokenizerError(file, `${what} must be an array, got ${describeJson(value)}`);
  return value;
}

export function asString(value: unknown, file: string, what: string): string {
  if (typeof value !== 'string') throw new TokenizerError(file, `${what} must be a string, got ${describeJson(value)}`);
  return value;
}

/** A boolean, or `fallback` when the field is absent (undefined). */
export function asBoolean(value: unknown, file: string, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TokenizerError(file, `${what} must be true or false, got ${describeJson(value)}`);
  return value;
}

/** A token id: a non-negative integer below 2^31. */
export function asId(value: unknown, file: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** 31) {
    throw new TokenizerError(file, `${what} must be a non-negative integer id, got ${describeJson(value)}`);
  }
  return value;
}
