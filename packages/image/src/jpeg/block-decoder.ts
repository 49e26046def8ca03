/**
 * Huffman decoding of one 8x8 block of a scan into quantized coefficients (natural order), for
 * each kind of scan: sequential (baseline / extended), and the four progressive kinds (DC first,
 * DC refinement, AC first, AC refinement with end-of-band runs). Follows libjpeg's jdhuff.c and
 * jdphuff.c step for step, including how they treat corrupt data (run lengths past the block's
 * end land on position 63; coefficients are cut to 16 bits).
 */
import type { EntropyReader } from './entropy-reader.js';
import type { HuffmanTable } from './huffman-table.js';
import { corrupt } from './jpeg-error.js';
import { NATURAL_ORDER } from './natural-order.js';

export type ScanKind = 'sequential' | 'dcFirst' | 'dcRefine' | 'acFirst' | 'acRefine';

export interface BlockCoding {
  kind: ScanKind;
  /** Per scan component: its DC / AC table (undefined where the scan kind needs none). */
  dcTables: Array<HuffmanTable | undefined>;
  acTables: Array<HuffmanTable | undefined>;
  spectralStart: number;
  spectralEnd: number;
  /** The point transform Al. */
  shift: number;
}

const INT32_LIMIT = 2 ** 31;

export class BlockDecoder {
  /** Decodes one block of scan component `slot` into coefficients[offset, offset + 64). */
  readonly decode: (coefficients: Int16Array, offset: number, slot: number) => void;
  private readonly lastDc: Float64Array;
  private endOfBandRun = 0;

  constructor(
    private readonly reader: EntropyReader,
    private readonly coding: BlockCoding,
  ) {
    this.lastDc = new Float64Array(coding.dcTables.length);
    const decoders = {
      sequential: this.decodeSequential,
      dcFirst: this.decodeDcFirst,
      dcRefine: this.decodeDcRefine,
      acFirst: this.decodeAcFirst,
      acRefine: this.decodeAcRefine,
    };
    this.decode = decoders[coding.kind];
  }

  /** At a restart marker: DC predictions and the end-of-band run start over. */
  restart(): void {
    this.lastDc.fill(0);
    this.endOfBandRun = 0;
  }

  private readonly decodeSequential = (coefficients: Int16Array, offset: number, slot: number): void => {
    const reader = this.reader;
    const dc = (this.lastDc[slot] + reader.signed(reader.symbol(this.coding.dcTables[slot] as HuffmanTable))) | 0;
    this.lastDc[slot] = dc;
    coefficients[offset] = dc;
    const acTable = this.coding.acTables[slot] as HuffmanTable;
    for (let k = 1; k < 64; k++) {
      const runAndSize = reader.symbol(acTable);
      const size = runAndSize & 15;
      if (size !== 0) {
        k += runAndSize >> 4;
        coefficients[offset + NATURAL_ORDER[k]] = reader.signed(size);
      } else {
        if (runAndSize >> 4 !== 15) break; // end of block
        k += 15; // sixteen zeros
      }
    }
  };

  private readonly decodeDcFirst = (coefficients: Int16Array, offset: number, slot: number): void => {
    const reader = this.reader;
    const dc = this.lastDc[slot] + reader.signed(reader.symbol(this.coding.dcTables[slot] as HuffmanTable));
    if (dc >= INT32_LIMIT || dc < -INT32_LIMIT) throw corrupt('a DC coefficient overflows'); // libjpeg's JERR_BAD_DCT_COEF
    this.lastDc[slot] = dc;
    coefficients[offset] = dc << this.coding.shift;
  };

  private readonly decodeDcRefine = (coefficients: Int16Array, offset: number): void => {
    if (this.reader.bit() !== 0) coefficients[offset] |= 1 << this.coding.shift;
  };

  private readonly decodeAcFirst = (coefficients: Int16Array, offset: number): void => {
    if (this.endOfBandRun > 0) {
      this.endOfBandRun--;
      return;
    }
    const { reader } = this;
    const { spectralEnd, shift } = this.coding;
    const acTable = this.coding.acTables[0] as HuffmanTable;
    for (let k = this.coding.spectralStart; k <= spectralEnd; k++) {
      const runAndSize = reader.symbol(acTable);
      const run = runAndSize >> 4;
      const size = runAndSize & 15;
      if (size !== 0) {
        k += run;
        coefficients[offset + NATURAL_ORDER[k]] = reader.signed(size) << shift;
      } else if (run === 15) {
        k += 15;
      } else {
        this.endOfBandRun = (1 << run) + reader.bits(run) - 1;
        break;
      }
    }
  };

  private readonly decodeAcRefine = (coefficients: Int16Array, offset: number): void => {
    const { reader } = this;
    const { spectralEnd } = this.coding;
    const plusOne = 1 << this.coding.shift;
    const minusOne = -1 << this.coding.shift;
    const acTable = this.coding.acTables[0] as HuffmanTable;
    let k = this.coding.spectralStart;
    if (this.endOfBandRun === 0) {
      for (; k <= spectralEnd; k++) {
        const runAndSize = reader.symbol(acTable);
        let run = runAndSize >> 4;
        let value = 0; // the newly nonzero coefficient, if any
        if ((runAndSize & 15) !== 0) {
          value = reader.bit() !== 0 ? plusOne : minusOne; // size must be 1; libjpeg only warns
        } else if (run !== 15) {
          this.endOfBandRun = (1 << run) + reader.bits(run);
          break; // the rest of the block is handled as part of the run
        }
        // Skip `run` zero coefficients, refining the nonzero ones passed on the way.
        do {
          const at = offset + NATURAL_ORDER[k];
          if (coefficients[at] !== 0) {
            refine(coefficients, at, reader.bit(), plusOne, minusOne);
          } else if (--run < 0) {
            break;
          }
          k++;
        } while (k <= spectralEnd);
        if (value !== 0) coefficients[offset + NATURAL_ORDER[k]] = value;
      }
    }
    if (this.endOfBandRun > 0) {
      // Inside a run of blocks with no new coefficients: refine the nonzero ones left.
      for (; k <= spectralEnd; k++) {
        const at = offset + NATURAL_ORDER[k];
        if (coefficients[at] !== 0) refine(coefficients, at, reader.bit(), plusOne, minusOne);
      }
      this.endOfBandRun--;
    }
  };
}

/** A correction bit of 1 moves a nonzero coefficient one step (1 << Al) away from zero, once. */
function refine(coefficients: Int16Array, at: number, bit: number, plusOne: number, minusOne: number): void {
  if (bit !== 0 && (coefficients[at] & plusOne) === 0) {
    coefficients[at] += coefficients[at] >= 0 ? plusOne : minusOne;
  }
}
