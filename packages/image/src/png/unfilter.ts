/**
 * PNG's five row filters undone in place (PNG specification, section 9): each byte was stored as
 * the difference from a prediction made from the byte `bpp` to its left (a), the byte above (b)
 * and the byte above-left (c), all in the already unfiltered rows; arithmetic modulo 256.
 */

/** Undoes filter `type` on `row`, given the previous unfiltered row of the same pass (zeros for the first). */
export function unfilterRow(type: number, row: Uint8Array, previous: Uint8Array, bpp: number): boolean {
  const n = row.length;
  switch (type) {
    case 0: // None
      return true;
    case 1: // Sub: a
      for (let i = bpp; i < n; i++) row[i] += row[i - bpp];
      return true;
    case 2: // Up: b
      for (let i = 0; i < n; i++) row[i] += previous[i];
      return true;
    case 3: // Average: floor((a + b) / 2)
      for (let i = 0; i < bpp; i++) row[i] += previous[i] >> 1;
      for (let i = bpp; i < n; i++) row[i] += (row[i - bpp] + previous[i]) >> 1;
      return true;
    case 4: // Paeth: whichever of a, b, c is closest to a + b - c (ties: a, then b)
      for (let i = 0; i < bpp; i++) row[i] += previous[i];
      for (let i = bpp; i < n; i++) {
        const a = row[i - bpp];
        const b = previous[i];
        const c = previous[i - bpp];
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        row[i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      return true;
    default:
      return false;
  }
}
