/** Recognises an image format from its first bytes (magic numbers), not from a file name. */

/** The formats this package decodes. */
export type SupportedFormat = 'PNG' | 'JPEG';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

/** Signatures of formats recognised only to name them in the error that refuses them. */
const OTHER_FORMATS: ReadonlyArray<{ name: string; matches: (bytes: Uint8Array) => boolean }> = [
  { name: 'GIF', matches: (b) => ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a' },
  { name: 'WebP', matches: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP' },
  { name: 'BMP', matches: (b) => ascii(b, 0, 2) === 'BM' },
  { name: 'TIFF', matches: (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*' },
  { name: 'ICO', matches: (b) => startsWith(b, [0, 0, 1, 0]) },
  { name: 'AVIF', matches: (b) => ascii(b, 4, 4) === 'ftyp' && ['avif', 'avis'].includes(ascii(b, 8, 4)) },
  {
    name: 'HEIF',
    matches: (b) => ascii(b, 4, 4) === 'ftyp' && ['heic', 'heix', 'mif1', 'msf1'].includes(ascii(b, 8, 4)),
  },
  {
    name: 'JPEG 2000',
    matches: (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51]),
  },
  {
    name: 'JPEG XL',
    matches: (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]),
  },
  { name: 'QOI', matches: (b) => ascii(b, 0, 4) === 'qoif' },
  { name: 'Photoshop (PSD)', matches: (b) => ascii(b, 0, 4) === '8BPS' },
  { name: 'PDF', matches: (b) => ascii(b, 0, 5) === '%PDF-' },
  { name: 'SVG/XML', matches: (b) => /^\s*<(\?xml|svg)/i.test(ascii(b, 0, 64)) },
];

export type DetectedFormat = { supported: SupportedFormat } | { unsupported: string };

/** The format the bytes start with; `unsupported` names it, or says it is unrecognised. */
export function detectFormat(bytes: Uint8Array): DetectedFormat {
  // A file cut inside the signature is still recognised, so that it is reported as truncated.
  if (startsWith(bytes, PNG_SIGNATURE.slice(0, bytes.length))) return { supported: 'PNG' };
  if (startsWith(bytes, JPEG_SIGNATURE.slice(0, bytes.length))) return { supported: 'JPEG' };
  const other = OTHER_FORMATS.find((format) => format.matches(bytes));
  return { unsupported: other === undefined ? 'an unrecognised format' : other.name };
}

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((value, i) => bytes[i] === value);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}
