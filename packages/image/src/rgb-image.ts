/** An 8-bit RGB image: `data` holds height x width x 3 bytes, row-major, channels interleaved. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pixels already decoded elsewhere (e.g. a browser ImageData): RGB or RGBA, row-major. */
export interface RawPixels {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** 3 (RGB) or 4 (RGBA); inferred from the data length when left out (ImageData has none). */
  channels?: 3 | 4;
}

/** RGB(A) pixels as RGB: alpha is dropped, not composited (as PIL's convert('RGB') does). */
export function dropAlpha(data: Uint8Array | Uint8ClampedArray, pixels: number, channels: 3 | 4): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, pixels * 3).slice();
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    rgb[i * 3] = data[j];
    rgb[i * 3 + 1] = data[j + 1];
    rgb[i * 3 + 2] = data[j + 2];
  }
  return rgb;
}
