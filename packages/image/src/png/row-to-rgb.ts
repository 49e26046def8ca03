/**
 * Unfiltered PNG rows -> 8-bit RGB pixels, as Pillow's `Image.open(...).convert('RGB')` gives them
 * (checked against Pillow by the preprocess fixtures):
 * - alpha (RGBA, gray + alpha) is dropped, never composited; tRNS changes nothing;
 * - gray is expanded; 1/2/4-bit gray is scaled to 0..255 (x255, x85, x17);
 * - 16-bit RGB, RGBA and gray + alpha keep the high byte, but 16-bit gray without alpha is opened
 *   by PIL as mode I;16 and its RGB conversion clips: min(v, 255);
 * - palette indices without a PLTE entry (or without PLTE at all) give black, as in Pillow.
 */
import type { Pass } from './adam7.js';
import type { PngHeader } from './png-header.js';
import type { RowSink } from './scanlines.js';

/** A sink writing each row's pixels into `out` (width x height x 3), at their place in the image. */
export function rgbRowWriter(header: PngHeader, palette: Uint8Array | undefined, out: Uint8Array): RowSink {
  const pixel = pixelReader(header, palette);
  const rgb = new Uint8Array(3);
  const stride = header.width * 3;
  return (pass: Pass, y: number, row: Uint8Array) => {
    let o = (pass.y0 + y * pass.dy) * stride + pass.x0 * 3;
    const step = pass.dx * 3;
    for (let i = 0; i < pass.width; i++, o += step) {
      pixel(row, i, rgb);
      out[o] = rgb[0];
      out[o + 1] = rgb[1];
      out[o + 2] = rgb[2];
    }
  };
}

type PixelReader = (row: Uint8Array, i: number, rgb: Uint8Array) => void;

function pixelReader(header: PngHeader, palette: Uint8Array | undefined): PixelReader {
  const { colorType, bitDepth } = header;
  if (colorType === 3) {
    const entries = palette ?? new Uint8Array(0);
    const index = lowBitSample(bitDepth);
    return (row, i, rgb) => {
      const at = index(row, i) * 3;
      if (at + 2 < entries.length) rgb.set(entries.subarray(at, at + 3));
      else rgb.fill(0);
    };
  }
  if (colorType === 0) {
    if (bitDepth === 16) return (row, i, rgb) => void rgb.fill(Math.min((row[2 * i] << 8) | row[2 * i + 1], 255));
    if (bitDepth === 8) return (row, i, rgb) => void rgb.fill(row[i]);
    const scale = 255 / ((1 << bitDepth) - 1); // 255, 85 or 17: exact integers
    const sample = lowBitSample(bitDepth);
    return (row, i, rgb) => void rgb.fill(sample(row, i) * scale);
  }
  // Gray + alpha (2 samples), RGB (3), RGBA (4): the first sample(s) at 8 bits or the high byte of 16.
  const samples = colorType === 4 ? 2 : colorType === 2 ? 3 : 4;
  const bytes = (samples * bitDepth) >> 3;
  const sampleBytes = bitDepth >> 3;
  if (colorType === 4) return (row, i, rgb) => void rgb.fill(row[i * bytes]);
  return (row, i, rgb) => {
    const at = i * bytes;
    rgb[0] = row[at];
    rgb[1] = row[at + sampleBytes];
    rgb[2] = row[at + 2 * sampleBytes];
  };
}

/** Sample i of a row of 1-, 2-, 4- or 8-bit samples packed most significant bits first. */
function lowBitSample(bitDepth: number): (row: Uint8Array, i: number) => number {
  if (bitDepth === 8) return (row, i) => row[i];
  const mask = (1 << bitDepth) - 1;
  return (row, i) => {
    const bit = i * bitDepth;
    return (row[bit >> 3] >> (8 - bitDepth - (bit & 7))) & mask;
  };
}
