/**
 * Decodes one scan's entropy-coded data into the frame's coefficient arrays: walks the MCUs
 * (interleaved scans: the frame's MCU grid, h x v blocks per component; single-component scans:
 * the component's own blocks, one per MCU), handles restart markers and their resynchronisation
 * (libjpeg's read_restart_marker and jpeg_resync_to_restart), and leaves MCUs at zero once the
 * data ran out within a restart interval, as libjpeg does.
 */
import { BlockDecoder, type BlockCoding, type ScanKind } from './block-decoder.js';
import { EntropyReader } from './entropy-reader.js';
import type { Frame } from './frame.js';
import { corrupt } from './jpeg-error.js';
import { isRestart, MARKER, nextMarker } from './markers.js';
import { huffmanTable, type HuffmanDefinition, type ScanHeader } from './segments.js';

const MAX_BLOCKS_IN_MCU = 10; // libjpeg's D_MAX_BLOCKS_IN_MCU

export interface HuffmanSlots {
  dc: Array<HuffmanDefinition | undefined>;
  ac: Array<HuffmanDefinition | undefined>;
}

/** Decodes the scan whose data starts at `start`; returns where to look for the next marker. */
export function decodeScan(
  data: Uint8Array,
  start: number,
  frame: Frame,
  scan: ScanHeader,
  huffman: HuffmanSlots,
  restartInterval: number,
): number {
  const reader = new EntropyReader(data, start);
  const decoder = new BlockDecoder(reader, blockCoding(frame, scan, huffman));
  const components = scan.components.map((scanned) => scanned.component);
  let mcuCount: number;
  let decodeMcu: (mcu: number) => void;
  if (components.length === 1) {
    const [component] = components;
    mcuCount = component.widthInBlocks * component.heightInBlocks;
    decodeMcu = (mcu) => {
      const row = Math.floor(mcu / component.widthInBlocks);
      const column = mcu - row * component.widthInBlocks;
      decoder.decode(component.coefficients, (row * component.blocksPerLine + column) * 64, 0);
    };
  } else {
    const blocksInMcu = components.reduce((sum, component) => sum + component.h * component.v, 0);
    if (blocksInMcu > MAX_BLOCKS_IN_MCU)
      throw corrupt(`an MCU of ${blocksInMcu} blocks (at most ${MAX_BLOCKS_IN_MCU})`);
    mcuCount = frame.mcusPerLine * frame.mcusPerColumn;
    decodeMcu = (mcu) => {
      const mcuRow = Math.floor(mcu / frame.mcusPerLine);
      const mcuColumn = mcu - mcuRow * frame.mcusPerLine;
      for (let slot = 0; slot < components.length; slot++) {
        const { h, v, blocksPerLine, coefficients } = components[slot];
        for (let y = 0; y < v; y++) {
          const rowStart = (mcuRow * v + y) * blocksPerLine + mcuColumn * h;
          for (let x = 0; x < h; x++) decoder.decode(coefficients, (rowStart + x) * 64, slot);
        }
      }
    };
  }
  let outOfData = false;
  let nextRestart = 0;
  for (let mcu = 0; mcu < mcuCount; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      outOfData ||= reader.exhausted; // before the restart drops the buffered bits
      if (readRestartMarker(data, reader, nextRestart)) outOfData = false;
      nextRestart = (nextRestart + 1) & 7;
      decoder.restart();
    }
    outOfData ||= reader.exhausted;
    if (!outOfData) decodeMcu(mcu);
  }
  return reader.position;
}

/** Which block decoder the scan needs, with the scan parameters checked as libjpeg checks them. */
function blockCoding(frame: Frame, scan: ScanHeader, huffman: HuffmanSlots): BlockCoding {
  const { spectralStart, spectralEnd, approximationHigh, approximationLow } = scan;
  let kind: ScanKind = 'sequential';
  if (frame.progressive) {
    const isDc = spectralStart === 0;
    const bad =
      (isDc ? spectralEnd !== 0 : spectralStart > spectralEnd || spectralEnd > 63 || scan.components.length !== 1) ||
      (approximationHigh !== 0 && approximationLow !== approximationHigh - 1) ||
      approximationLow > 13;
    if (bad) {
      throw corrupt(
        `a progressive scan has Ss=${spectralStart} Se=${spectralEnd} Ah=${approximationHigh} Al=${approximationLow} for ${scan.components.length} components`,
      );
    }
    if (isDc) kind = approximationHigh === 0 ? 'dcFirst' : 'dcRefine';
    else kind = approximationHigh === 0 ? 'acFirst' : 'acRefine';
  }
  const needsDc = kind === 'sequential' || kind === 'dcFirst';
  const needsAc = kind === 'sequential' || kind === 'acFirst' || kind === 'acRefine';
  return {
    kind,
    dcTables: scan.components.map((scanned) =>
      needsDc ? huffmanTable(huffman.dc, scanned.dcTableIndex, true) : undefined,
    ),
    acTables: scan.components.map((scanned) =>
      needsAc ? huffmanTable(huffman.ac, scanned.acTableIndex, false) : undefined,
    ),
    spectralStart,
    spectralEnd,
    shift: approximationLow,
  };
}

/**
 * Expects restart marker RSTn (n = `expected`) where the reader stands. Returns whether a marker
 * was consumed (the data goes on); false when an unexpected marker is left in place, so the rest
 * of the interval decodes from zero bits, as libjpeg's resynchronisation does.
 */
function readRestartMarker(data: Uint8Array, reader: EntropyReader, expected: number): boolean {
  reader.discardBits();
  let at = reader.stoppedAtMarker ? reader.position : nextMarker(data, reader.position);
  for (;;) {
    if (at < 0) throw corrupt('the data ends inside a scan');
    const marker = data[at + 1];
    const distance = isRestart(marker) ? (marker - MARKER.RST0 - expected) & 7 : -1;
    if (distance === 1 || distance === 2 || (distance < 0 && marker >= 0xc0)) {
      // One of the next two restarts, or another segment: we missed data; leave the marker.
      reader.position = at;
      reader.stopAtMarker();
      return false;
    }
    if (distance === 6 || distance === 7 || marker < 0xc0) {
      at = nextMarker(data, at + 2); // a restart already passed, or not a valid marker: skip it
      continue;
    }
    reader.resumeAt(at + 2); // the expected restart, or one too far off to reason about
    return true;
  }
}
