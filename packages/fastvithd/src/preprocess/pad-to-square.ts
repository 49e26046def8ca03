import type { RgbImage } from '@fastvlm/image';

/** Where an image sits on FastVLM's square canvas: side max(W, H), offset ((S-W)//2, (S-H)//2). */
export interface SquarePlacement {
  side: number;
  left: number;
  top: number;
}

export function squarePlacement(width: number, height: number): SquarePlacement {
  const side = Math.max(width, height);
  return { side, left: (side - width) >> 1, top: (side - height) >> 1 };
}

/**
 * Apple's `expand2square` with the processor mean (0) x 255: the image pasted centred on a black
 * square canvas. [H, W, 3] -> [S, S, 3]. (The pipeline does not build this canvas: the resize
 * reads it virtually; this is for callers and tests that want the square itself.)
 */
export function padToSquare(image: RgbImage): RgbImage {
  const { side, left, top } = squarePlacement(image.width, image.height);
  const data = new Uint8Array(side * side * 3);
  const rowBytes = image.width * 3;
  for (let y = 0; y < image.height; y++) {
    const from = y * rowBytes;
    data.set(image.data.subarray(from, from + rowBytes), ((top + y) * side + left) * 3);
  }
  return { width: side, height: side, data };
}
