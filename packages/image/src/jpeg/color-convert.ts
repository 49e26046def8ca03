/**
 * Colour conversion of upsampled rows to PIL's 8-bit RGB.
 * - YCbCr -> RGB with libjpeg's fixed-point tables (jdcolor.c: 16 fractional bits, R and B
 *   rounded per table entry, G summed from two scaled entries then shifted, results clamped).
 * - CMYK / YCCK: libjpeg gives CMYK (YCCK's YCC part converted as above and inverted); PIL reads
 *   Adobe-inverted CMYK ("CMYK;I") and convert('RGB') computes (255 - K) - C' (255 - K) / 255 per
 *   channel with its rounding MULDIV255 (Convert.c cmyk2rgb).
 */

const SCALE_BITS = 16;
const ONE_HALF = 1 << (SCALE_BITS - 1);
const fix = (value: number): number => Math.floor(value * (1 << SCALE_BITS) + 0.5);

const CR_TO_RED = new Int32Array(256);
const CB_TO_BLUE = new Int32Array(256);
const CR_TO_GREEN = new Int32Array(256);
const CB_TO_GREEN = new Int32Array(256); // includes ONE_HALF
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_TO_RED[i] = (fix(1.402) * x + ONE_HALF) >> SCALE_BITS;
  CB_TO_BLUE[i] = (fix(1.772) * x + ONE_HALF) >> SCALE_BITS;
  CR_TO_GREEN[i] = -fix(0.71414) * x;
  CB_TO_GREEN[i] = -fix(0.34414) * x + ONE_HALF;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** width pixels of YCbCr rows -> RGB at out[offset...]. */
export function yccToRgb(
  luma: Uint8Array,
  cb: Uint8Array,
  cr: Uint8Array,
  width: number,
  out: Uint8Array,
  offset: number,
): void {
  for (let x = 0, o = offset; x < width; x++, o += 3) {
    const y = luma[x];
    const blue = cb[x];
    const red = cr[x];
    out[o] = clamp(y + CR_TO_RED[red]);
    out[o + 1] = clamp(y + ((CB_TO_GREEN[blue] + CR_TO_GREEN[red]) >> SCALE_BITS));
    out[o + 2] = clamp(y + CB_TO_BLUE[blue]);
  }
}

/** Three rows taken as R, G, B as they are (Adobe transform 0, or 'R','G','B' component ids). */
export function interleaveRgb(
  red: Uint8Array,
  green: Uint8Array,
  blue: Uint8Array,
  width: number,
  out: Uint8Array,
  offset: number,
): void {
  for (let x = 0, o = offset; x < width; x++, o += 3) {
    out[o] = red[x];
    out[o + 1] = green[x];
    out[o + 2] = blue[x];
  }
}

/** A gray row copied into R, G and B (PIL's convert('RGB') of mode L). */
export function grayToRgb(gray: Uint8Array, width: number, out: Uint8Array, offset: number): void {
  for (let x = 0, o = offset; x < width; x++, o += 3) {
    out[o] = out[o + 1] = out[o + 2] = gray[x];
  }
}

/** CMYK rows as libjpeg outputs them (Adobe-inverted) -> PIL's RGB. */
export function cmykToRgb(
  c: Uint8Array,
  m: Uint8Array,
  y: Uint8Array,
  k: Uint8Array,
  width: number,
  out: Uint8Array,
  offset: number,
): void {
  for (let x = 0, o = offset; x < width; x++, o += 3) {
    const notBlack = k[x]; // PIL's inversion: 255 - (255 - k)
    out[o] = cmykChannel(255 - c[x], notBlack);
    out[o + 1] = cmykChannel(255 - m[x], notBlack);
    out[o + 2] = cmykChannel(255 - y[x], notBlack);
  }
}

/** YCCK rows -> libjpeg's CMYK (jdcolor.c ycck_cmyk_convert) -> PIL's RGB. */
export function ycckToRgb(
  luma: Uint8Array,
  cb: Uint8Array,
  cr: Uint8Array,
  k: Uint8Array,
  width: number,
  out: Uint8Array,
  offset: number,
): void {
  for (let x = 0, o = offset; x < width; x++, o += 3) {
    const y = luma[x];
    const notBlack = k[x];
    // libjpeg writes C = 255 - R; PIL's inversion undoes it.
    out[o] = cmykChannel(clamp(y + CR_TO_RED[cr[x]]), notBlack);
    out[o + 1] = cmykChannel(clamp(y + ((CB_TO_GREEN[cb[x]] + CR_TO_GREEN[cr[x]]) >> SCALE_BITS)), notBlack);
    out[o + 2] = cmykChannel(clamp(y + CB_TO_BLUE[cb[x]]), notBlack);
  }
}

/** PIL's cmyk2rgb channel: nk - MULDIV255(c, nk), with c the ink and nk = 255 - K. */
function cmykChannel(ink: number, notBlack: number): number {
  const product = ink * notBlack + 128;
  return clamp(notBlack - (((product >> 8) + product) >> 8));
}
