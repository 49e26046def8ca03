/**
 * PNG -> 8-bit RGB exactly as Pillow's `Image.open(...).convert('RGB')` gives it (row-to-rgb.ts
 * says how each colour type maps). Runs unchanged in Node and browsers: the zlib stream is
 * inflated by fflate, fed a slice at a time so no more than ~4 MB is inflated ahead of the rows;
 * rows are unfiltered as they arrive and written straight into the output. Memory: the output
 * (width x height x 3) and two rows; work: linear in the file and the image. Inflated data past
 * the last row is never produced (a zlib bomb stops at the image's size).
 */
import { Unzlib } from 'fflate';
import { describeError, ImageError } from '../errors.js';
import type { RgbImage } from '../rgb-image.js';
import { imagePasses } from './adam7.js';
import { pngChunks } from './chunks.js';
import { rowBytes, type PngHeader } from './png-header.js';
import { rgbRowWriter } from './row-to-rgb.js';
import { ScanlineReader } from './scanlines.js';

/** Compressed bytes handed to the inflater at a time: deflate expands at most ~1032x, so ~4 MB out. */
const INFLATE_SLICE = 4 << 10;

/** Decodes a PNG whose header has already been read and checked against the budget. */
export function decodePng(bytes: Uint8Array, header: PngHeader, source: string): RgbImage {
  let palette: Uint8Array | undefined;
  const imageData: Uint8Array[] = [];
  for (const chunk of pngChunks(bytes, source)) {
    if (chunk.type === 'PLTE') palette ??= chunk.data;
    else if (chunk.type === 'IDAT') imageData.push(chunk.data);
  }
  if (imageData.length === 0) throw new ImageError(source, 'PNG data is truncated: it has no image data (IDAT)');

  const { width, height } = header;
  const data = new Uint8Array(width * height * 3);
  const rows = new ScanlineReader(
    header,
    imagePasses(width, height, header.interlaced),
    rgbRowWriter(header, palette, data),
    source,
  );
  const inflater = new Unzlib((chunk) => rows.push(chunk));
  try {
    for (let part = 0; part < imageData.length && !rows.done; part++) {
      const compressed = imageData[part];
      for (let at = 0; at < compressed.length && !rows.done; at += INFLATE_SLICE) {
        const end = Math.min(at + INFLATE_SLICE, compressed.length);
        inflater.push(compressed.subarray(at, end), part === imageData.length - 1 && end === compressed.length);
      }
    }
  } catch (error) {
    if (error instanceof ImageError) throw error;
    const problem = describeError(error);
    if (/unexpected EOF/i.test(problem)) throw truncated(source, rows);
    throw new ImageError(source, `corrupt PNG image data (zlib: ${problem})`, { cause: error });
  }
  if (!rows.done) throw truncated(source, rows);
  return { width, height, data };
}

/** Bytes the decoder allocates for an image: the RGB output and two rows of the widest pass. */
export function pngDecodeBytes(header: PngHeader): number {
  return header.width * header.height * 3 + 2 * (1 + rowBytes(header, header.width));
}

function truncated(source: string, rows: ScanlineReader): ImageError {
  return new ImageError(
    source,
    `PNG data is truncated: the image data ends after ${rows.rows} of ${rows.totalRows} rows`,
  );
}
