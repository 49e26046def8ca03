/**
 * The chunks of a PNG after its signature, each checked against its CRC, up to IEND. A file may
 * end without IEND (Pillow does not need it either); a chunk cut short is truncation.
 */
import { ImageError } from '../errors.js';
import { crc32 } from './crc32.js';
import { CHUNK_OVERHEAD, chunkType, SIGNATURE_BYTES } from './png-header.js';

export interface PngChunk {
  type: string;
  /** The chunk's data, a view into the file's bytes. */
  data: Uint8Array;
}

const MAX_CHUNK_LENGTH = 2 ** 31 - 1; // the PNG specification's limit

export function* pngChunks(bytes: Uint8Array, source: string): Generator<PngChunk> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE_BYTES;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) {
      throw new ImageError(source, `PNG data is truncated: it ends inside a chunk header at byte ${offset}`);
    }
    const length = view.getUint32(offset);
    const type = chunkType(bytes, offset + 4);
    if (length > MAX_CHUNK_LENGTH) {
      throw new ImageError(source, `corrupt PNG: chunk '${printable(type)}' at byte ${offset} claims ${length} bytes`);
    }
    const end = offset + CHUNK_OVERHEAD + length;
    if (end > bytes.length) {
      throw new ImageError(
        source,
        `PNG data is truncated: chunk '${printable(type)}' at byte ${offset} needs ${length} bytes and a CRC, ${bytes.length - offset - 8} bytes are left`,
      );
    }
    if (crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) {
      throw new ImageError(source, `corrupt PNG: chunk '${printable(type)}' at byte ${offset} fails its CRC check`);
    }
    yield { type, data: bytes.subarray(offset + 8, end - 4) };
    if (type === 'IEND') return;
    offset = end;
  }
}

/** A chunk type as it can be printed: letters kept, anything else as \xNN. */
function printable(type: string): string {
  return type.replace(/[^A-Za-z]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
