/**
 * Parsers of the marker segments other than the frame header: quantization tables (DQT), Huffman
 * tables (DHT), the restart interval (DRI), scan headers (SOS), and the JFIF (APP0) and Adobe
 * (APP14) markers that decide the colour space. Each takes the segment body: `length` bytes from
 * `start`, after the length field. Checks and leniencies follow libjpeg's jdmarker.c.
 */
import type { Frame, FrameComponent } from './frame.js';
import { buildHuffmanTable, type HuffmanTable } from './huffman-table.js';
import { corrupt } from './jpeg-error.js';
import { NATURAL_ORDER } from './natural-order.js';

/** A DHT table as defined; built (and checked) when a scan first uses it, as libjpeg does. */
export interface HuffmanDefinition {
  counts: Uint8Array;
  symbols: Uint8Array;
  built?: HuffmanTable;
}

export interface ScanComponent {
  component: FrameComponent;
  dcTableIndex: number;
  acTableIndex: number;
}

export interface ScanHeader {
  components: ScanComponent[];
  /** Spectral selection: the first and last zigzag index coded. */
  spectralStart: number;
  spectralEnd: number;
  /** Successive approximation: the previous and the current point transform. */
  approximationHigh: number;
  approximationLow: number;
}

const TABLE_SLOTS = 4;
const MAX_COMPONENTS_IN_SCAN = 4;

/** Reads DQT tables into `tables` (natural order). Short tables are padded with 1s, as libjpeg does. */
export function parseQuantTables(
  data: Uint8Array,
  start: number,
  length: number,
  tables: Array<Int32Array | undefined>,
): void {
  const end = start + length;
  let at = start;
  while (at < end) {
    const wide = data[at] >> 4 !== 0; // 16-bit entries
    const slot = data[at] & 15;
    at++;
    if (slot >= TABLE_SLOTS) throw corrupt(`a quantization table has slot ${slot} (0..3 allowed)`);
    const entryBytes = wide ? 2 : 1;
    const count = Math.min(64, Math.floor((end - at) / entryBytes));
    const table = new Int32Array(64).fill(1);
    for (let i = 0; i < count; i++, at += entryBytes) {
      table[NATURAL_ORDER[i]] = wide ? (data[at] << 8) | data[at + 1] : data[at];
    }
    tables[slot] = table;
  }
  if (at !== end) throw corrupt('a quantization table segment (DQT) has a bad length');
}

/** Reads DHT tables into the DC and AC slots. */
export function parseHuffmanTables(
  data: Uint8Array,
  start: number,
  length: number,
  dcTables: Array<HuffmanDefinition | undefined>,
  acTables: Array<HuffmanDefinition | undefined>,
): void {
  const end = start + length;
  let at = start;
  while (at < end) {
    if (end - at < 17) throw corrupt('a Huffman table segment (DHT) is too short');
    const classAndSlot = data[at];
    const counts = data.slice(at + 1, at + 17);
    const total = counts.reduce((sum, count) => sum + count, 0);
    at += 17;
    if (total > 256 || total > end - at) throw corrupt(`a Huffman table declares ${total} codes`);
    const symbols = data.slice(at, at + total);
    at += total;
    const isAc = (classAndSlot & 0x10) !== 0;
    const slot = isAc ? classAndSlot - 0x10 : classAndSlot;
    if (slot >= TABLE_SLOTS) throw corrupt(`a Huffman table has class/slot byte 0x${classAndSlot.toString(16)}`);
    (isAc ? acTables : dcTables)[slot] = { counts, symbols };
  }
}

/** The table of a slot, built on first use. */
export function huffmanTable(
  definitions: Array<HuffmanDefinition | undefined>,
  slot: number,
  isDc: boolean,
): HuffmanTable {
  const definition = definitions[slot];
  if (definition === undefined)
    throw corrupt(`a scan uses ${isDc ? 'DC' : 'AC'} Huffman table ${slot}, which is not defined`);
  definition.built ??= buildHuffmanTable(definition.counts, definition.symbols, isDc);
  return definition.built;
}

export function parseRestartInterval(data: Uint8Array, start: number, length: number): number {
  if (length !== 2) throw corrupt('the restart interval segment (DRI) has a bad length');
  return (data[start] << 8) | data[start + 1];
}

export function parseScanHeader(data: Uint8Array, start: number, length: number, frame: Frame): ScanHeader {
  const count = data[start];
  if (count < 1 || count > MAX_COMPONENTS_IN_SCAN || length !== 4 + 2 * count) {
    throw corrupt(`the scan header (SOS) has length ${length + 2} for ${count} components`);
  }
  const components: ScanComponent[] = [];
  for (let i = 0; i < count; i++) {
    const id = data[start + 1 + 2 * i];
    const component = frame.components.find((candidate) => candidate.id === id);
    if (component === undefined || components.some((scanned) => scanned.component === component)) {
      throw corrupt(`a scan names component ${id}, which the frame lacks or the scan repeats`);
    }
    const tables = data[start + 2 + 2 * i];
    components.push({ component, dcTableIndex: tables >> 4, acTableIndex: tables & 15 });
  }
  const at = start + 1 + 2 * count;
  return {
    components,
    spectralStart: data[at],
    spectralEnd: data[at + 1],
    approximationHigh: data[at + 2] >> 4,
    approximationLow: data[at + 2] & 15,
  };
}

/** Checks a DAC body (arithmetic-coding conditioning) as libjpeg's get_dac does; the values are unused. */
export function checkArithmeticConditioning(data: Uint8Array, start: number, length: number): void {
  if (length % 2 !== 0) throw corrupt('an arithmetic conditioning segment (DAC) has a bad length');
  for (let at = start; at < start + length; at += 2) {
    const index = data[at];
    const value = data[at + 1];
    if (index >= 32) throw corrupt(`an arithmetic conditioning table has index ${index}`);
    if (index < 16 && (value & 15) > value >> 4)
      throw corrupt(`an arithmetic DC conditioning has L > U (0x${value.toString(16)})`);
  }
}

/** Whether an APP0 body is JFIF's (libjpeg needs at least 14 bytes). */
export function isJfifSegment(data: Uint8Array, start: number, length: number): boolean {
  return length >= 14 && ascii(data, start, 5) === 'JFIF\0';
}

/** The Adobe colour transform flag of an APP14 body (0 none, 1 YCbCr, 2 YCCK), if it is Adobe's. */
export function adobeTransform(data: Uint8Array, start: number, length: number): number | undefined {
  return length >= 12 && ascii(data, start, 5) === 'Adobe' ? data[start + 11] : undefined;
}

function ascii(data: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...data.subarray(start, start + length));
}
