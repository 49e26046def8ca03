/**
 * JPEG -> 8-bit RGB, the pixels PIL's `Image.open(...).convert('RGB')` gives, bit for bit: our own
 * decoder (this folder) follows libjpeg-turbo as PIL runs it (islow integer IDCT, fancy chroma
 * upsampling, fixed-point YCbCr -> RGB). Baseline, extended and progressive Huffman JPEGs; gray
 * (expanded to RGB), YCbCr, RGB, and CMYK / YCCK (converted as PIL converts Adobe CMYK). EXIF
 * orientation is not applied (as PIL's open() does not).
 *
 * Refused with an ImageError: lossless, hierarchical and arithmetic-coded JPEGs, 12-bit samples,
 * 2-component images, and files without an end-of-image marker (PIL refuses those too: "image
 * file is truncated"). Corrupt entropy-coded data decodes as libjpeg decodes it (it only warns).
 */
import { ImageBudgetError, ImageError } from '../errors.js';
import type { RgbImage } from '../rgb-image.js';
import { frameDecodeBytes, parseFrame } from './frame.js';
import { decodeJpegRgb } from './jpeg-decoder.js';
import { JpegError } from './jpeg-error.js';
import { isStartOfFrame } from './markers.js';

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
  /** The frame header's body (after its length field). */
  frameStart: number;
  frameLength: number;
}

const SOI_BYTES = 2;

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
        frameStart: segment,
        frameLength: length - 2,
      };
    }
    offset += 1 + length;
  }
  throw new ImageError(source, 'JPEG data is truncated: it ends before the frame header (SOF)');
}

/**
 * Bytes decoding the JPEG allocates (coefficients, sample planes, RGB output), from its frame
 * header; throws an ImageError for JPEG kinds we do not decode or a malformed frame header.
 */
export function jpegDecodeBytes(bytes: Uint8Array, header: JpegHeader, source: string): number {
  refuseUnsupported(header, source);
  const end = header.frameStart + header.frameLength;
  if (end > bytes.length) throw new ImageError(source, 'JPEG data is truncated: it ends inside the frame header (SOF)');
  try {
    return frameDecodeBytes(parseFrame(bytes, header.frameStart, header.frameLength, false));
  } catch (error) {
    throw asImageError(error, source);
  }
}

/** Decodes a JPEG whose header has already been read and checked against the byte budget. */
export function decodeJpeg(
  bytes: Uint8Array,
  header: JpegHeader,
  source: string,
  maxCoefficientPasses: number,
): RgbImage {
  refuseUnsupported(header, source);
  if (!hasEndOfImage(bytes, header.scanOffset)) {
    throw new ImageError(source, 'JPEG data is truncated: no end-of-image marker after the scan data');
  }
  let decoded: RgbImage;
  try {
    decoded = decodeJpegRgb(bytes, maxCoefficientPasses);
  } catch (error) {
    throw asImageError(error, source, maxCoefficientPasses);
  }
  if (decoded.width !== header.width || decoded.height !== header.height) {
    throw new ImageError(
      source,
      `corrupt JPEG: decoded ${decoded.width}x${decoded.height}, header says ${header.width}x${header.height}`,
    );
  }
  return decoded;
}

/** A JpegError as an ImageError; anything else escaping the decoder is a bug, not bad data: rethrown. */
function asImageError(error: unknown, source: string, maxCoefficientPasses = 0): ImageError {
  if (!(error instanceof JpegError)) throw error;
  if (error.kind === 'budget') {
    return new ImageBudgetError(
      source,
      error.message,
      'maxCoefficientPasses',
      maxCoefficientPasses,
      maxCoefficientPasses + 1,
    );
  }
  const problem = error.kind === 'corrupt' ? `corrupt JPEG data (${error.message})` : error.message;
  return new ImageError(source, problem, { cause: error });
}

function refuseUnsupported(header: JpegHeader, source: string): void {
  if (header.components !== 1 && header.components !== 3 && header.components !== 4) {
    throw new ImageError(
      source,
      `JPEGs with ${header.components} components are not supported (only gray, YCbCr/RGB and CMYK/YCCK)`,
    );
  }
  if (header.process === 3 || header.process >= 9) {
    const kind = header.process === 3 ? 'lossless' : 'arithmetic-coded';
    throw new ImageError(source, `${kind} JPEGs are not supported (only baseline, extended and progressive Huffman)`);
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

/** Markers without a length field: TEM, RST0..7, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}
