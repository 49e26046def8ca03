/**
 * A Huffman table from a DHT segment, ready for decoding: codes of up to LOOKAHEAD_BITS bits are
 * found with one table look-up, longer ones (up to 16 bits) by comparing against the largest code
 * of each length (libjpeg's jpeg_make_d_derived_tbl, with the same validity checks).
 */
import { corrupt } from './jpeg-error.js';

export const LOOKAHEAD_BITS = 9;

export interface HuffmanTable {
  /** [2^LOOKAHEAD_BITS]: (code length << 8) | symbol for codes of <= LOOKAHEAD_BITS bits, else 0. */
  lookup: Uint16Array;
  /** [18]: the largest code of each length (-1 if none); [17] is a sentinel above every code. */
  maxCode: Int32Array;
  /** [17]: symbols[valueOffset[l] + code] is the symbol of a code of length l. */
  valueOffset: Int32Array;
  symbols: Uint8Array;
}

/**
 * counts[l - 1] codes of length l (l = 1..16), then their symbols in code order. DC tables carry
 * bit counts, which must be <= 15 (libjpeg refuses others too).
 */
export function buildHuffmanTable(counts: Uint8Array, symbols: Uint8Array, isDc: boolean): HuffmanTable {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total > 256 || total !== symbols.length) throw corrupt(`a Huffman table declares ${total} codes`);
  if (isDc && symbols.some((symbol) => symbol > 15)) throw corrupt('a DC Huffman table has a symbol above 15');
  const lookup = new Uint16Array(1 << LOOKAHEAD_BITS);
  const maxCode = new Int32Array(18).fill(-1);
  const valueOffset = new Int32Array(17);
  let code = 0;
  let index = 0;
  for (let length = 1; length <= 16; length++) {
    const count = counts[length - 1];
    valueOffset[length] = index - code;
    for (let i = 0; i < count; i++, code++, index++) {
      if (length <= LOOKAHEAD_BITS) {
        const shift = LOOKAHEAD_BITS - length;
        lookup.fill((length << 8) | symbols[index], code << shift, (code + 1) << shift);
      }
    }
    if (count > 0) maxCode[length] = code - 1;
    // The all-ones code of a length is reserved: libjpeg's JERR_BAD_HUFF_TABLE.
    if (code >= 1 << length) {
      throw corrupt('a Huffman table has more codes than its code lengths allow');
    }
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { lookup, maxCode, valueOffset, symbols };
}
