/**
 * Reads the bits of entropy-coded scan data: FF 00 is a data byte FF, padding FFs before a marker
 * are skipped, and a marker (FF xx) ends the data. As in libjpeg, reading past the end gives zero
 * bits; once any such bit has been used the data counts as exhausted, and the scan decoder leaves
 * the remaining MCUs of the restart interval at zero (uniform grey), as libjpeg does.
 */
import type { HuffmanTable } from './huffman-table.js';
import { LOOKAHEAD_BITS } from './huffman-table.js';

export class EntropyReader {
  /** The next byte to read; once a marker is hit, the last FF before the marker code. */
  position: number;
  /** A marker (or the end of the data) stopped the reading: only zero bits follow. */
  private atMarker = false;
  /** Holds `bitCount` unread bits in its low bits (bitCount <= 32). */
  private buffer = 0;
  private bitCount = 0;
  /** How many of the buffered bits are padding zeros from past the end of the data. */
  private fakeBits = 0;

  constructor(
    private readonly data: Uint8Array,
    start: number,
  ) {
    this.position = start;
  }

  /** Whether a bit from past the end of the data has been used. */
  get exhausted(): boolean {
    return this.bitCount < this.fakeBits;
  }

  /** Whether reading stopped at a marker, which now sits at `position`. */
  get stoppedAtMarker(): boolean {
    return this.atMarker;
  }

  /** Drops the buffered bits (at a restart marker or the end of a scan). */
  discardBits(): void {
    this.bitCount = 0;
    this.fakeBits = 0;
  }

  /** Reads only zero bits from now on: a marker sits at `position` and is left for later. */
  stopAtMarker(): void {
    this.atMarker = true;
  }

  /** Continues at `position`, after a marker the caller has consumed. */
  resumeAt(position: number): void {
    this.position = position;
    this.atMarker = false;
    this.discardBits();
  }

  /** Tops the buffer up to more than 24 bits. */
  private fill(): void {
    const data = this.data;
    while (this.bitCount <= 24) {
      let byte = 0;
      if (!this.atMarker) {
        let next = this.position;
        if (next >= data.length) {
          this.atMarker = true;
        } else if ((byte = data[next]) !== 0xff) {
          this.position = next + 1;
        } else {
          while (next + 1 < data.length && data[next + 1] === 0xff) next++; // padding FFs
          if (next + 1 < data.length && data[next + 1] === 0) {
            this.position = next + 2; // FF 00: a data byte FF
          } else {
            this.position = next; // FF xx: a marker ends the data
            this.atMarker = true;
            byte = 0;
          }
        }
      }
      if (this.atMarker) this.fakeBits += 8;
      this.buffer = (this.buffer << 8) | byte;
      this.bitCount += 8;
    }
  }

  /** The next `count` bits (0..16) as an unsigned number. */
  bits(count: number): number {
    if (this.bitCount < count) this.fill();
    this.bitCount -= count;
    return (this.buffer >>> this.bitCount) & ((1 << count) - 1);
  }

  bit(): number {
    if (this.bitCount < 1) this.fill();
    this.bitCount--;
    return (this.buffer >>> this.bitCount) & 1;
  }

  /** A `size`-bit value sign-extended as JPEG codes it (HUFF_EXTEND); size 0 is 0. */
  signed(size: number): number {
    if (size === 0) return 0;
    const value = this.bits(size);
    return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
  }

  /** The next Huffman-coded symbol. A bit pattern that is no code gives 0, as in libjpeg. */
  symbol(table: HuffmanTable): number {
    if (this.bitCount < 17) this.fill();
    const entry = table.lookup[(this.buffer >>> (this.bitCount - LOOKAHEAD_BITS)) & ((1 << LOOKAHEAD_BITS) - 1)];
    if (entry !== 0) {
      this.bitCount -= entry >> 8;
      return entry & 0xff;
    }
    const next16 = (this.buffer >>> (this.bitCount - 16)) & 0xffff;
    for (let length = LOOKAHEAD_BITS + 1; length <= 16; length++) {
      const code = next16 >>> (16 - length);
      if (code <= table.maxCode[length]) {
        this.bitCount -= length;
        return table.symbols[table.valueOffset[length] + code];
      }
    }
    this.bitCount -= 17; // libjpeg reads 17 bits before giving up on a bad code
    return 0;
  }
}
