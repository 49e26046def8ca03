/**
 * libjpeg's accurate integer inverse DCT (JDCT_ISLOW, PIL's default): the Loeffler-Ligtenberg-
 * Moschytz factorisation in fixed point with 13 fractional bits (CONST_BITS), columns first into
 * a workspace kept 2 bits (PASS1_BITS) above the sample scale, then rows; each result rounded
 * (DESCALE: add half, shift right arithmetically), level-shifted by 128 and clamped to 0..255.
 *
 * The arithmetic is that of libjpeg-turbo's SIMD version, which PIL runs on x86-64 (jidctint.c
 * gives the same pixels for every coefficient an encoder can produce; they differ only on corrupt
 * or crafted data, and there PIL's pixels are the SIMD ones, as measured against Pillow 12):
 * values travel in 16-bit lanes. Dequantisation keeps the low 16 bits of coefficient x quant; a
 * block whose coefficients outside the first row are all zero takes a shortcut that shifts the
 * dequantised first row left by PASS1_BITS in 16 bits; otherwise the sums in0 +- in4, in7 + in3
 * and in5 + in1 wrap to 16 bits, products and other sums are 32-bit, pass-1 results saturate to
 * 16 bits and pass-2 results saturate to -128..127 before the level shift.
 */

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

const PASS1_SHIFT = CONST_BITS - PASS1_BITS;
const PASS1_ROUND = 1 << (PASS1_SHIFT - 1);
const PASS2_SHIFT = CONST_BITS + PASS1_BITS + 3;
const PASS2_ROUND = 1 << (PASS2_SHIFT - 1);

/** The low 16 bits as a signed number (a 16-bit lane's wrap-around). */
function wrap16(value: number): number {
  return (value << 16) >> 16;
}

function saturate16(value: number): number {
  return value < -32768 ? -32768 : value > 32767 ? 32767 : value;
}

/** A pass-2 result -> sample: saturated to -128..127, then level-shifted. */
function toSample(value: number): number {
  return (value < -128 ? -128 : value > 127 ? 127 : value) + 128;
}

/** idct8's outputs. */
const SUMS = new Int32Array(8);

/**
 * One 8-point IDCT of d0..d7 (16-bit inputs) into sums[0..7], before descaling: outputs 0..7 in
 * order, each scaled by 2^CONST_BITS. Int32Array storage keeps them modulo 2^32, as 32-bit lanes do.
 */
function idct8(
  d0: number,
  d1: number,
  d2: number,
  d3: number,
  d4: number,
  d5: number,
  d6: number,
  d7: number,
  sums: Int32Array,
): void {
  // Even part: the rotation sqrt(2) c6 on (d2, d6), and d0 +- d4 in 16 bits.
  const even3 = d2 * (FIX_0_541196100 + FIX_0_765366865) + d6 * FIX_0_541196100;
  const even2 = d2 * FIX_0_541196100 + d6 * (FIX_0_541196100 - FIX_1_847759065);
  const even0 = wrap16(d0 + d4) * (1 << CONST_BITS);
  const even1 = wrap16(d0 - d4) * (1 << CONST_BITS);
  const tmp10 = even0 + even3;
  const tmp13 = even0 - even3;
  const tmp11 = even1 + even2;
  const tmp12 = even1 - even2;
  // Odd part: z3 = d7 + d3 and z4 = d5 + d1 in 16 bits; every product pairs two 16-bit values.
  const z3 = wrap16(d7 + d3);
  const z4 = wrap16(d5 + d1);
  const z3Rotated = z3 * (FIX_1_175875602 - FIX_1_961570560) + z4 * FIX_1_175875602;
  const z4Rotated = z3 * FIX_1_175875602 + z4 * (FIX_1_175875602 - FIX_0_390180644);
  const odd0 = d7 * (FIX_0_298631336 - FIX_0_899976223) - d1 * FIX_0_899976223 + z3Rotated;
  const odd1 = d5 * (FIX_2_053119869 - FIX_2_562915447) - d3 * FIX_2_562915447 + z4Rotated;
  const odd2 = d3 * (FIX_3_072711026 - FIX_2_562915447) - d5 * FIX_2_562915447 + z3Rotated;
  const odd3 = d1 * (FIX_1_501321110 - FIX_0_899976223) - d7 * FIX_0_899976223 + z4Rotated;
  sums[0] = tmp10 + odd3;
  sums[7] = tmp10 - odd3;
  sums[1] = tmp11 + odd2;
  sums[6] = tmp11 - odd2;
  sums[2] = tmp12 + odd1;
  sums[5] = tmp12 - odd1;
  sums[3] = tmp13 + odd0;
  sums[4] = tmp13 - odd0;
}

/**
 * The 8x8 block at coefficients[offset..offset+64) (natural order), dequantized by `quant`,
 * -> 8x8 samples written at output[outputOffset + row * stride + column]. `workspace`: 64 ints.
 */
export function idctIslow(
  coefficients: Int16Array,
  offset: number,
  quant: Int32Array,
  output: Uint8Array,
  outputOffset: number,
  stride: number,
  workspace: Int32Array,
): void {
  const sums = SUMS;
  let firstRowOnly = true;
  for (let i = offset + 8; i < offset + 64; i++) {
    if (coefficients[i] !== 0) {
      firstRowOnly = false;
      break;
    }
  }
  // Pass 1: columns -> workspace (16-bit values, scaled up by 2^PASS1_BITS).
  for (let column = 0; column < 8; column++) {
    const c = offset + column;
    if (firstRowOnly) {
      const dc = wrap16(wrap16(coefficients[c] * quant[column]) << PASS1_BITS);
      for (let row = 0; row < 64; row += 8) workspace[row + column] = dc;
      continue;
    }
    if (
      coefficients[c + 8] === 0 &&
      coefficients[c + 16] === 0 &&
      coefficients[c + 24] === 0 &&
      coefficients[c + 32] === 0 &&
      coefficients[c + 40] === 0 &&
      coefficients[c + 48] === 0 &&
      coefficients[c + 56] === 0
    ) {
      // A flat column: what the full computation gives for it, 4 x d0 saturated.
      const dc = saturate16(wrap16(coefficients[c] * quant[column]) * (1 << PASS1_BITS));
      for (let row = 0; row < 64; row += 8) workspace[row + column] = dc;
      continue;
    }
    idct8(
      wrap16(coefficients[c] * quant[column]),
      wrap16(coefficients[c + 8] * quant[column + 8]),
      wrap16(coefficients[c + 16] * quant[column + 16]),
      wrap16(coefficients[c + 24] * quant[column + 24]),
      wrap16(coefficients[c + 32] * quant[column + 32]),
      wrap16(coefficients[c + 40] * quant[column + 40]),
      wrap16(coefficients[c + 48] * quant[column + 48]),
      wrap16(coefficients[c + 56] * quant[column + 56]),
      sums,
    );
    for (let row = 0; row < 8; row++)
      workspace[row * 8 + column] = saturate16((sums[row] + PASS1_ROUND) >> PASS1_SHIFT);
  }
  // Pass 2: rows of the workspace -> samples, removing 2^PASS1_BITS and the IDCT's factor 8.
  for (let row = 0; row < 64; row += 8) {
    const out = outputOffset + (row >> 3) * stride;
    if (
      workspace[row + 1] === 0 &&
      workspace[row + 2] === 0 &&
      workspace[row + 3] === 0 &&
      workspace[row + 4] === 0 &&
      workspace[row + 5] === 0 &&
      workspace[row + 6] === 0 &&
      workspace[row + 7] === 0
    ) {
      // A flat row: what the full computation gives for it.
      output.fill(toSample((workspace[row] + (1 << (PASS1_BITS + 2))) >> (PASS1_BITS + 3)), out, out + 8);
      continue;
    }
    idct8(
      workspace[row],
      workspace[row + 1],
      workspace[row + 2],
      workspace[row + 3],
      workspace[row + 4],
      workspace[row + 5],
      workspace[row + 6],
      workspace[row + 7],
      sums,
    );
    for (let column = 0; column < 8; column++)
      output[out + column] = toSample((sums[column] + PASS2_ROUND) >> PASS2_SHIFT);
  }
}
