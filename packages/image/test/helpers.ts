/** Test helpers of the image package: error expectations, a seeded PRNG, and PNG/JPEG byte builders. */
import { crc32, deflateSync } from 'node:zlib';
import { FastVlmError } from '@fastvlm/tensor';
import { expect } from 'vitest';
import { ImageError } from '../src/errors.js';

/** Runs `action` (sync or async), expecting an ImageError (of `type` if given) whose message matches every pattern. */
export async function expectImageError<T extends ImageError = ImageError>(
  action: () => unknown,
  ...patterns: Array<RegExp | (new (...args: never[]) => T)>
): Promise<T> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'an ImageError was thrown').toBeInstanceOf(ImageError);
  expect(caught).toBeInstanceOf(FastVlmError);
  const error = caught as T;
  expect(error.code).toBe('IMAGE');
  for (const pattern of patterns) {
    if (pattern instanceof RegExp) expect(error.message).toMatch(pattern);
    else expect(error).toBeInstanceOf(pattern);
  }
  expect(error.message, 'one line').not.toMatch(/\n/);
  return error;
}

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC (a wrong CRC with `badCrc`). */
export function pngChunk(type: string, data: Uint8Array, badCrc = false): Uint8Array {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((crc32(body) ^ (badCrc ? 1 : 0)) >>> 0, body.length + 4);
  return out;
}

export function ihdr(width: number, height: number, bitDepth = 8, colorType = 2, interlace = 0): Uint8Array {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colorType;
  data[12] = interlace;
  return pngChunk('IHDR', data);
}

/** A PNG signature and IHDR only (no image data): enough to be judged by its header. */
export function pngHeaderOnly(width: number, height: number, bitDepth = 8, colorType = 2): Uint8Array {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, bitDepth, colorType)]);
}

export interface PngParts {
  width: number;
  height: number;
  bitDepth?: number;
  colorType?: number;
  interlace?: number;
  /** The raw (filtered) scanlines, filter bytes included, to be zlib-compressed into IDAT. */
  raw: Uint8Array;
  /** Chunks between IHDR and IDAT (PLTE, tRNS...). */
  before?: Uint8Array[];
  /** Split the compressed data into this many IDAT chunks. */
  idatChunks?: number;
  /** Leave out IEND. */
  noEnd?: boolean;
}

/** A PNG file from raw scanlines. */
export function pngFile(parts: PngParts): Uint8Array {
  const compressed = deflateSync(parts.raw);
  const pieces = parts.idatChunks ?? 1;
  const step = Math.ceil(compressed.length / pieces);
  const idats: Uint8Array[] = [];
  for (let at = 0; at < compressed.length; at += step) idats.push(pngChunk('IDAT', compressed.subarray(at, at + step)));
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(parts.width, parts.height, parts.bitDepth, parts.colorType, parts.interlace),
    ...(parts.before ?? []),
    ...idats,
    ...(parts.noEnd === true ? [] : [pngChunk('IEND', new Uint8Array(0))]),
  ]);
}

/** SOI + a baseline SOF0 for a 3-component image of the given size (no tables, no scan) + EOI. */
export function jpegHeaderOnly(width: number, height: number, sampling = 0x22): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3];
  sof.push(1, sampling, 0, 2, 0x11, 1, 3, 0x11, 1);
  return Uint8Array.from([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}
