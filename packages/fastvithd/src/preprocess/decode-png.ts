/**
 * PNG -> 8-bit RGB exactly as PIL's `Image.open(...).convert('RGB')` gives it (checked against
 * Pillow 12 by the preprocess fixtures):
 * - alpha (RGBA, LA, palette tRNS) is dropped, never composited; a tRNS colour key on gray or
 *   RGB images changes nothing (pngjs would zero those pixels, so the chunk is removed first);
 * - gray and palette images are expanded; 1/2/4-bit gray is scaled to 0..255 (x255, x85, x17);
 * - 16-bit RGB, RGBA and gray+alpha keep the high byte (v >> 8), but 16-bit gray without alpha
 *   is opened by PIL as mode I;16 and its RGB conversion clips: min(v, 255);
 * - gAMA / iCCP / sRGB are ignored, as PIL ignores them.
 */
import { PNG } from 'pngjs';
import { describeError, ImageError } from './errors.js';
import type { RgbImage } from './rgb-image.js';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

const SIGNATURE_BYTES = 8;
const CHUNK_OVERHEAD = 12; // length, type, CRC
const VALID_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16], // gray
  2: [8, 16], // RGB
  3: [1, 2, 4, 8], // palette
  4: [8, 16], // gray + alpha
  6: [8, 16], // RGBA
};

/** The IHDR fields, read without touching the image data (so the pixel budget is checked first). */
export function readPngHeader(bytes: Uint8Array, source: string): PngHeader {
  if (bytes.length < SIGNATURE_BYTES + CHUNK_OVERHEAD + 13) {
    throw new ImageError(source, `PNG data is truncated (${bytes.length} bytes, the header alone needs 33)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || chunkType(bytes, 12) !== 'IHDR') {
    throw new ImageError(source, 'corrupt PNG: the first chunk is not a 13-byte IHDR');
  }
  const header = {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24],
    colorType: bytes[25],
  };
  if (!(VALID_DEPTHS[header.colorType] ?? []).includes(header.bitDepth)) {
    throw new ImageError(
      source,
      `corrupt PNG: colour type ${header.colorType} with bit depth ${header.bitDepth} is not valid`,
    );
  }
  return header;
}

/** Decodes a PNG whose header has already been read and checked against the pixel budget. */
export function decodePng(bytes: Uint8Array, header: PngHeader, source: string): RgbImage {
  const keyless = header.colorType === 0 || header.colorType === 2 ? withoutChunk(bytes, 'tRNS') : bytes;
  let decoded: { width: number; height: number; data: Uint8Array | Uint16Array };
  try {
    const buffer = Buffer.from(keyless.buffer, keyless.byteOffset, keyless.byteLength);
    decoded = PNG.sync.read(buffer, { skipRescale: true, checkCRC: true });
  } catch (error) {
    throw new ImageError(source, `corrupt or truncated PNG data (${describeError(error)})`, { cause: error });
  }
  const { width, height } = header;
  if (decoded.width !== width || decoded.height !== height || decoded.data.length < width * height * 4) {
    throw new ImageError(
      source,
      `corrupt PNG: decoded ${decoded.width}x${decoded.height}, header says ${width}x${height}`,
    );
  }
  const toByte = sampleToByte(header);
  const rgba = decoded.data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = toByte(rgba[i]);
    data[j + 1] = toByte(rgba[i + 1]);
    data[j + 2] = toByte(rgba[i + 2]);
  }
  return { width, height, data };
}

/** How one decoded colour sample (pngjs with skipRescale) becomes PIL's 8-bit value. */
function sampleToByte(header: PngHeader): (sample: number) => number {
  if (header.colorType === 3 || header.bitDepth === 8) return (sample) => sample; // palette entries are 8-bit
  if (header.bitDepth === 16) {
    return header.colorType === 0 ? (sample) => Math.min(sample, 255) : (sample) => sample >> 8;
  }
  const scale = 255 / ((1 << header.bitDepth) - 1); // 255, 85 or 17: exact integers
  return (sample) => sample * scale;
}

/** The PNG without its chunks of one type (CRCs stay valid: whole chunks are removed). */
function withoutChunk(bytes: Uint8Array, type: string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, SIGNATURE_BYTES)];
  let offset = SIGNATURE_BYTES;
  let removed = false;
  while (offset + CHUNK_OVERHEAD <= bytes.length) {
    const end = offset + CHUNK_OVERHEAD + view.getUint32(offset);
    if (end > bytes.length) break; // truncated: left for the decoder to report
    if (chunkType(bytes, offset + 4) === type) removed = true;
    else kept.push(bytes.subarray(offset, end));
    offset = end;
  }
  if (!removed) return bytes;
  kept.push(bytes.subarray(offset));
  const result = new Uint8Array(kept.reduce((sum, part) => sum + part.length, 0));
  let position = 0;
  for (const part of kept) {
    result.set(part, position);
    position += part.length;
  }
  return result;
}

function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}
