/** A PNG's IHDR, read and checked without touching the image data (so budgets are checked first). */
import { ImageError } from '../errors.js';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colorType: number;
  /** Adam7 interlacing (IHDR interlace method 1). */
  interlaced: boolean;
}

export const SIGNATURE_BYTES = 8;
/** Length, type and CRC around each chunk's data. */
export const CHUNK_OVERHEAD = 12;
const IHDR_BYTES = 13;

const VALID_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16], // gray
  2: [8, 16], // RGB
  3: [1, 2, 4, 8], // palette
  4: [8, 16], // gray + alpha
  6: [8, 16], // RGBA
};
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function readPngHeader(bytes: Uint8Array, source: string): PngHeader {
  if (bytes.length < SIGNATURE_BYTES + CHUNK_OVERHEAD + IHDR_BYTES) {
    throw new ImageError(source, `PNG data is truncated (${bytes.length} bytes, the header alone needs 33)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== IHDR_BYTES || chunkType(bytes, 12) !== 'IHDR') {
    throw new ImageError(source, 'corrupt PNG: the first chunk is not a 13-byte IHDR');
  }
  const [bitDepth, colorType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (!(VALID_DEPTHS[colorType] ?? []).includes(bitDepth)) {
    throw new ImageError(source, `corrupt PNG: colour type ${colorType} with bit depth ${bitDepth} is not valid`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw new ImageError(
      source,
      `corrupt PNG: compression method ${compression}, filter method ${filter}, interlace method ${interlace} (0, 0 and 0 or 1 are defined)`,
    );
  }
  return { width: view.getUint32(16), height: view.getUint32(20), bitDepth, colorType, interlaced: interlace === 1 };
}

/** Samples per pixel: 1 (gray, palette), 2 (gray + alpha), 3 (RGB), 4 (RGBA). */
export function channelsOf(header: PngHeader): number {
  return CHANNELS[header.colorType];
}

/** Bytes of one filtered row of `width` pixels, without its filter-type byte. */
export function rowBytes(header: PngHeader, width: number): number {
  return Math.ceil((width * channelsOf(header) * header.bitDepth) / 8);
}

export function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}
