/**
 * A JPEG decoder that gives the pixels PIL gives (libjpeg-turbo with PIL's settings: islow IDCT,
 * fancy upsampling, RGB output; then PIL's convert('RGB')). Baseline, extended (8-bit) and
 * progressive Huffman JPEGs; gray, YCbCr, RGB, CMYK and YCCK. Walks the marker segments, decodes
 * every scan into per-component coefficients, then renders them (render-rgb.ts). Throws a
 * JpegError for corrupt or unsupported data, and tolerates what libjpeg (as PIL runs it) tolerates.
 */
import type { RgbImage } from '../rgb-image.js';
import { allocateCoefficients, coefficientCount, parseFrame, type Frame } from './frame.js';
import { corrupt, JpegError, unsupported } from './jpeg-error.js';
import { isRestart, isStartOfFrame, MARKER, nextMarker } from './markers.js';
import { renderRgb, type JpegColorSpace } from './render-rgb.js';
import { decodeScan, type HuffmanSlots } from './scan-decoder.js';
import { standardHuffmanTables } from './standard-huffman-tables.js';
import {
  type ScanHeader,
  adobeTransform,
  checkArithmeticConditioning,
  isJfifSegment,
  parseHuffmanTables,
  parseQuantTables,
  parseRestartInterval,
  parseScanHeader,
} from './segments.js';

const SOF_PROGRESSIVE = 0xc2;

/**
 * `maxCoefficientPasses` bounds the work the scans may ask for: each scan visits its components'
 * blocks once per coefficient of its spectral band, and the visits of all scans together may not
 * exceed that many times the frame's coefficients (checked at each scan header, before decoding it).
 */
export function decodeJpegRgb(data: Uint8Array, maxCoefficientPasses: number): RgbImage {
  if (data.length < 2 || data[0] !== 0xff || data[1] !== MARKER.SOI) throw corrupt('no start-of-image marker');
  const quantTables: Array<Int32Array | undefined> = [];
  const huffman: HuffmanSlots = standardHuffmanTables(); // slots 0 and 1 until a DHT redefines them
  let frame: Frame | undefined;
  let restartInterval = 0;
  let jfif = false;
  let adobe: number | undefined;
  let scans = 0;
  let visits = 0; // coefficient visits asked for by the scans so far
  // A sequential image whose first scan holds every component is complete after that scan. PIL
  // still reads on to the end-of-image marker (jpeg_finish_decompress) and fails on bad markers,
  // but keeps the image if the data runs out first.
  let complete = false;
  let at = 2;
  for (;;) {
    const markerAt = nextMarker(data, at);
    if (markerAt < 0) {
      if (complete) break;
      throw corrupt('the data ends before the end-of-image marker');
    }
    const marker = data[markerAt + 1];
    at = markerAt + 2;
    if (marker === MARKER.EOI) break;
    if (isRestart(marker) || marker === MARKER.TEM) continue; // stray markers without data: libjpeg ignores them
    if (marker === MARKER.SOI) throw corrupt('a second start-of-image marker');
    if (!isSegment(marker)) throw corrupt(`unknown marker 0x${marker.toString(16)}`); // before its length, as libjpeg
    if (isStartOfFrame(marker)) {
      if (frame !== undefined) throw corrupt('a second frame header (SOF)');
      if (marker > SOF_PROGRESSIVE) {
        throw unsupported(
          `JPEG process SOF${marker & 15} is not supported (only baseline, extended and progressive Huffman)`,
        );
      }
    }
    const start = at + 2;
    const length = start <= data.length ? ((data[at] << 8) | data[at + 1]) - 2 : 0;
    if (length < 0) throw corrupt(`marker 0x${marker.toString(16)} has length ${length + 2}`);
    if (start + length > data.length) {
      if (complete) break;
      throw corrupt(`the data ends inside marker segment 0x${marker.toString(16)}`);
    }
    at = start + length;
    if (isStartOfFrame(marker)) {
      frame = parseFrame(data, start, length, marker === SOF_PROGRESSIVE);
      allocateCoefficients(frame);
    } else if (marker === MARKER.SOS) {
      if (frame === undefined) throw corrupt('a scan starts before the frame header (SOF)');
      if (complete) throw corrupt('another scan after a single-scan image'); // libjpeg's JERR_EOI_EXPECTED
      const scan = parseScanHeader(data, start, length, frame);
      for (const { component } of scan.components) {
        component.quantTable ??= quantTables[component.quantTableIndex];
        if (component.quantTable === undefined)
          throw corrupt(`quantization table ${component.quantTableIndex} is not defined`);
      }
      visits += scanVisits(frame, scan);
      if (visits > maxCoefficientPasses * coefficientCount(frame)) {
        throw new JpegError(
          'budget',
          `scan ${scans + 1} takes the decoding work past ${maxCoefficientPasses} passes over the image's coefficients (a conforming JPEG needs at most 14), the budget (option maxCoefficientPasses)`,
        );
      }
      at = decodeScan(data, at, frame, scan, huffman, restartInterval);
      scans++;
      complete = scans === 1 && !frame.progressive && scan.components.length === frame.components.length;
    } else if (marker === MARKER.DHT) {
      parseHuffmanTables(data, start, length, huffman.dc, huffman.ac);
    } else if (marker === MARKER.DQT) {
      parseQuantTables(data, start, length, quantTables);
    } else if (marker === MARKER.DRI) {
      restartInterval = parseRestartInterval(data, start, length);
    } else if (marker === MARKER.APP0) {
      jfif ||= isJfifSegment(data, start, length);
    } else if (marker === MARKER.APP14) {
      adobe = adobeTransform(data, start, length) ?? adobe;
    } else if (marker === MARKER.DAC) {
      checkArithmeticConditioning(data, start, length);
    }
  }
  if (frame === undefined || scans === 0) throw corrupt('no image data before the end-of-image marker');
  return renderRgb(frame, colorSpace(frame, jfif, adobe));
}

/** Coefficients a scan visits: its blocks (the MCU grid's when interleaved) times its spectral band. */
function scanVisits(frame: Frame, scan: ScanHeader): number {
  // A malformed band (Ss > Se, Se > 63) is refused by decodeScan; here it counts as 1..64.
  const band = frame.progressive ? Math.min(64, Math.max(1, scan.spectralEnd - scan.spectralStart + 1)) : 64;
  if (scan.components.length === 1) {
    const { component } = scan.components[0];
    return component.widthInBlocks * component.heightInBlocks * band;
  }
  const blocksInMcu = scan.components.reduce((sum, { component }) => sum + component.h * component.v, 0);
  return frame.mcusPerLine * frame.mcusPerColumn * blocksInMcu * band;
}

/**
 * Markers followed by a length and a body that libjpeg reads or skips: SOFn, DHT, DQT, DRI, SOS,
 * DAC (arithmetic conditioning, checked only: such frames are refused at the SOF), and the skipped
 * APPn, COM and DNL.
 */
function isSegment(marker: number): boolean {
  return (
    isStartOfFrame(marker) ||
    marker === MARKER.DHT ||
    marker === MARKER.DQT ||
    marker === MARKER.DRI ||
    marker === MARKER.SOS ||
    (marker >= MARKER.APP0 && marker <= MARKER.APP15) ||
    marker === MARKER.COM ||
    marker === MARKER.DNL ||
    marker === MARKER.DAC
  );
}

/** libjpeg's default_decompress_parms: the colour space from JFIF / Adobe markers or component ids. */
function colorSpace(frame: Frame, jfif: boolean, adobe: number | undefined): JpegColorSpace {
  const ids = frame.components.map((component) => component.id).join(',');
  switch (frame.components.length) {
    case 1:
      return 'gray';
    case 3:
      if (jfif) return 'ycc';
      if (adobe !== undefined) return adobe === 0 ? 'rgb' : 'ycc';
      return ids === '82,71,66' ? 'rgb' : 'ycc'; // 'R', 'G', 'B'
    default:
      return adobe === undefined || adobe === 0 ? 'cmyk' : 'ycck';
  }
}
