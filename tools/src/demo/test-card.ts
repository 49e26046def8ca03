/**
 * The repository's sample image, drawn by code: a 480x320 colour test card (bars, a grey ramp, a
 * hue ramp, a checkerboard and a circle) written as an RGB PNG with our own small encoder
 * (zlib's deflate, CRC-32 per chunk), so no image file is committed and no dependency is needed.
 */
import { deflateSync } from 'node:zlib';

export const TEST_CARD_WIDTH = 480;
export const TEST_CARD_HEIGHT = 320;

const BARS: readonly (readonly [number, number, number])[] = [
  [235, 235, 235],
  [235, 235, 16],
  [16, 235, 235],
  [16, 235, 16],
  [235, 16, 235],
  [235, 16, 16],
  [16, 16, 235],
];

/** HSV hue in [0, 1) at full saturation and value -> RGB bytes. */
function hue(h: number): [number, number, number] {
  const sector = Math.floor(h * 6);
  const f = h * 6 - sector;
  const up = Math.round(255 * f);
  const down = 255 - up;
  const table: [number, number, number][] = [
    [255, up, 0],
    [down, 255, 0],
    [0, 255, up],
    [0, down, 255],
    [up, 0, 255],
    [255, 0, down],
  ];
  return table[sector % 6];
}

/** The test card as RGB bytes, row-major. */
export function drawTestCard(width = TEST_CARD_WIDTH, height = TEST_CARD_HEIGHT): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const [cx, cy, radius] = [width * 0.5, height * 0.55, height * 0.22];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let pixel: readonly [number, number, number];
      if (y < height * 0.5) pixel = BARS[Math.floor((x * BARS.length) / width)];
      else if (y < height * 0.65)
        pixel = Array(3).fill(Math.round((255 * x) / (width - 1))) as [number, number, number];
      else if (y < height * 0.8) pixel = hue(x / width);
      else pixel = (Math.floor(x / 20) + Math.floor(y / 20)) % 2 === 0 ? [20, 20, 20] : [230, 230, 230];
      if ((x - cx) ** 2 + (y - cy) ** 2 < radius ** 2 && (x - cx) ** 2 + (y - cy) ** 2 > (radius - 6) ** 2)
        pixel = [255, 255, 255];
      rgb.set(pixel, (y * width + x) * 3);
    }
  }
  return rgb;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** RGB bytes -> an 8-bit RGB PNG (filter 0 on every row). */
export function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, colour type RGB, deflate, no filter method, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
