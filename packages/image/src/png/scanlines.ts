/**
 * Turns the inflated image data, pushed in pieces of any size, into unfiltered rows, pass by pass:
 * only the row being filled and the one above it are kept, so decoding needs the output image and
 * two rows, never the whole inflated stream.
 */
import { ImageError } from '../errors.js';
import type { Pass } from './adam7.js';
import { channelsOf, rowBytes, type PngHeader } from './png-header.js';
import { unfilterRow } from './unfilter.js';

/** Receives each unfiltered row (without its filter byte) of `pass`, row `y` of the pass. */
export type RowSink = (pass: Pass, y: number, row: Uint8Array) => void;

export class ScanlineReader {
  private readonly passes: readonly Pass[];
  private readonly header: PngHeader;
  private readonly onRow: RowSink;
  private readonly source: string;
  /** Bytes per complete pixel, at least 1: the filters' left neighbour distance. */
  private readonly bpp: number;
  private current: Uint8Array;
  private previous: Uint8Array;
  private passIndex = 0;
  private y = 0;
  /** Bytes of the current row received so far, its filter byte included. */
  private filled = 0;
  private rowLength = 0;
  /** Rows completed over all passes. */
  rows = 0;

  constructor(header: PngHeader, passes: readonly Pass[], onRow: RowSink, source: string) {
    this.header = header;
    this.passes = passes;
    this.onRow = onRow;
    this.source = source;
    this.bpp = Math.max(1, (channelsOf(header) * header.bitDepth) >> 3);
    const longest = 1 + Math.max(0, ...passes.map((pass) => rowBytes(header, pass.width)));
    this.current = new Uint8Array(longest);
    this.previous = new Uint8Array(longest);
    this.startPass();
  }

  /** Every row of every pass has been read. */
  get done(): boolean {
    return this.passIndex >= this.passes.length;
  }

  /** Rows in all passes together. */
  get totalRows(): number {
    return this.passes.reduce((sum, pass) => sum + pass.height, 0);
  }

  /** Takes the next inflated bytes; what comes after the last row is ignored. */
  push(data: Uint8Array): void {
    let at = 0;
    while (at < data.length && !this.done) {
      const take = Math.min(this.rowLength - this.filled, data.length - at);
      this.current.set(data.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.rowLength) this.finishRow();
    }
  }

  private finishRow(): void {
    const pass = this.passes[this.passIndex];
    const row = this.current.subarray(1, this.rowLength);
    if (!unfilterRow(this.current[0], row, this.previous.subarray(1, this.rowLength), this.bpp)) {
      throw new ImageError(
        this.source,
        `corrupt PNG: row ${this.rows} has filter type ${this.current[0]} (0..4 exist)`,
      );
    }
    this.onRow(pass, this.y, row);
    [this.current, this.previous] = [this.previous, this.current];
    this.filled = 0;
    this.rows++;
    if (++this.y === pass.height) {
      this.passIndex++;
      this.y = 0;
      this.startPass();
    }
  }

  private startPass(): void {
    if (this.done) return;
    this.rowLength = 1 + rowBytes(this.header, this.passes[this.passIndex].width);
    this.previous.fill(0); // the first row of a pass has zeros above it
  }
}
