/**
 * JPEG -> 8-bit RGB with jpeg-js. Baseline and progressive Huffman JPEGs, gray (expanded to RGB)
 * or YCbCr, any chroma subsampling. EXIF orientation is not applied (as PIL's open() does not).
 *
 * Not bit-identical to PIL: libjpeg-turbo (PIL) upsamples chroma with a triangle filter and
 * converts YCbCr with rounded fixed-point tables; jpeg-js repeats chroma samples and truncates.
 * The preprocess test states the measured difference.
 *
 * Refused with an ImageError: CMYK / YCCK (4 components; PIL would convert them with its own
 * formula, which we do not reproduce), lossless and arithmetic-coded JPEGs, 12-bit samples, and
 * files without an end-of-image marker (PIL refuses those too: "image file is truncated").
 */
import { decode } from 'jpeg-js';
import { describeError, ImageError } from './errors.js';
import type { RgbImage } from './rgb-image.js';

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** Bits per sample (8 for every JPEG we decode). */
  precision: number;
  /** The SOF marker's low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, 9+ arithmetic. */
  process: number;
  /** Where the first scan (SOS) or, failing that, the end of the header walk is. */
  scanOffset: number;
}

const SOI_BYTES = 2;
const BYTES_PER_PIXEL_WORKING_SET = 24; // jpeg-js holds coefficients, planes and output at once

/** The frame header (SOFn), found by walking the marker segments before any scan data. */
export function readJpegHeader(bytes: Uint8Array, source: string): JpegHeader {
  let offset = SOI_BYTES;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) throw new ImageError(source, `corrupt JPEG: expected a marker at byte ${offset}`);
    while (offset < bytes.length && bytes[offset] === 0xff) offset++; // fill bytes
    if (offset + 2 >= bytes.length) break;
    const marker = bytes[offset];
    const length = (bytes[offset + 1] << 8) | bytes[offset + 2];
    const segment = offset + 3; // first byte after the length
    if (marker === 0xda) throw new ImageError(source, 'corrupt JPEG: a scan starts before the frame header (SOF)');
    if (marker === 0xd9) break;
    if (isStandalone(marker)) {
      offset++;
      continue;
    }
    if (length < 2) throw new ImageError(source, `corrupt JPEG: marker 0x${marker.toString(16)} has length ${length}`);
    if (isStartOfFrame(marker)) {
      if (segment + 6 > bytes.length) break;
      return {
        precision: bytes[segment],
        height: (bytes[segment + 1] << 8) | bytes[segment + 2],
        width: (bytes[segment + 3] << 8) | bytes[segment + 4],
        components: bytes[segment + 5],
        process: marker & 0x0f,
        scanOffset: offset + 1 + length,
      };
    }
    offset += 1 + length;
  }
  throw new ImageError(source, 'JPEG data is truncated: it ends before the frame header (SOF)');
}

/** Decodes a JPEG whose header has already been read and checked against the pixel budget. */
export function decodeJpeg(bytes: Uint8Array, header: JpegHeader, source: string, maxPixels: number): RgbImage {
  refuseUnsupported(header, source);
  if (!hasEndOfImage(bytes, header.scanOffset)) {
    throw new ImageError(source, 'JPEG data is truncated: no end-of-image marker after the scan data');
  }
  const { width, height } = header;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((width * height * BYTES_PER_PIXEL_WORKING_SET) / 2 ** 20) + 16,
    });
  } catch (error) {
    throw new ImageError(source, `corrupt JPEG data (${describeError(error)})`, { cause: error });
  }
  if (decoded.width !== width || decoded.height !== height || decoded.data.length !== width * height * 3) {
    throw new ImageError(source, `corrupt JPEG: decoded ${decoded.width}x${decoded.height}, header says ${width}x${height}`);
  }
  return { width, height, data: decoded.data };
}

function refuseUnsupported(header: JpegHeader, source: string): void {
  if (header.components === 4) {
    throw new ImageError(source, 'CMYK/YCCK JPEGs (4 components) are not supported; convert the image to RGB first');
  }
  if (header.components !== 1 && header.components !== 3) {
    throw new ImageError(source, `JPEGs with ${header.components} components are not supported (only gray and YCbCr/RGB)`);
  }
  if (header.process === 3 || header.process >= 9) {
    const kind = header.process === 3 ? 'lossless' : 'arithmetic-coded';
    throw new ImageError(source, `${kind} JPEGs are not supported (only baseline and progressive Huffman)`);
  }
  if (header.precision !== 8) {
    throw new ImageError(source, `${header.precision}-bit JPEGs are not supported (only 8-bit samples)`);
  }
}

/**
 * Whether an EOI marker (FF D9) follows the header. Entropy-coded data cannot contain one (an FF
 * there is followed by 00 or a restart marker), so its absence means the file was cut short.
 */
function hasEndOfImage(bytes: Uint8Array, from: number): boolean {
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers without a length field: TEM, RST0..7, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}
