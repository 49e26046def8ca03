/** The passes of a PNG image: one for a plain image, Adam7's seven for an interlaced one. */

export interface Pass {
  /** Where the pass's first pixel sits in the image, and the spacing of its pixels. */
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  /** Pixels per row and rows of the pass (0 when the image is too small for it). */
  width: number;
  height: number;
}

const ADAM7: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** The non-empty passes, in the order their rows are stored. */
export function imagePasses(width: number, height: number, interlaced: boolean): Pass[] {
  if (!interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1, width, height }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    x0,
    y0,
    dx,
    dy,
    width: Math.ceil(Math.max(0, width - x0) / dx),
    height: Math.ceil(Math.max(0, height - y0) / dy),
  })).filter((pass) => pass.width > 0 && pass.height > 0);
}
