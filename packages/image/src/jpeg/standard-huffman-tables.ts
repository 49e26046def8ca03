/**
 * The Huffman tables of the JPEG standard (ITU T.81 Annex K.3), which libjpeg installs in DC and AC
 * slots 0 and 1 when a file defines none there (Motion-JPEG frames leave them out; libjpeg-turbo's
 * std_huff_tables). Each: the number of codes of each length 1..16, then the symbols in code order.
 */
import type { HuffmanDefinition } from './segments.js';

function table(counts: number[], symbolsHex: string): HuffmanDefinition {
  return {
    counts: Uint8Array.from(counts),
    symbols: Uint8Array.from(symbolsHex.match(/../g) ?? [], (byte) => parseInt(byte, 16)),
  };
}

/** Fresh definitions for DC slots 0, 1 and AC slots 0, 1 (luminance, chrominance). */
export function standardHuffmanTables(): { dc: HuffmanDefinition[]; ac: HuffmanDefinition[] } {
  return {
    dc: [
      table([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], '000102030405060708090a0b'),
      table([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], '000102030405060708090a0b'),
    ],
    ac: [
      table(
        [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125],
        '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728' +
          '292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a83848586878889' +
          '8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2' +
          'e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
      ),
      table(
        [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119],
        '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26' +
          '2728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a828384858687' +
          '88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9da' +
          'e2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
      ),
    ],
  };
}
