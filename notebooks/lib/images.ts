/**
 * Pictures of tensors as PNG bytes (fast-png encodes them): RGB images, and heat maps of 2-D maps
 * in the viridis colour scale, alone or tiled into a grid.
 */
import { encode } from 'fast-png';
import { Plot } from './plot.ts';

export interface Rgb {
  width: number;
  height: number;
  /** height x width x 3 bytes, row-major. */
  data: Uint8Array;
}

/** A 2-D map of values, row-major. */
export interface Map2d {
  width: number;
  height: number;
  values: ArrayLike<number>;
}

/** 8-bit RGB pixels to PNG, each pixel drawn as `scale` x `scale` pixels. */
export function rgbPng(image: Rgb, scale = 1): Uint8Array {
  const { width, height, data } = scale === 1 ? image : upscale(image, scale);
  return encode({ width, height, data, channels: 3, depth: 8 });
}

function upscale(image: Rgb, scale: number): Rgb {
  const width = image.width * scale;
  const height = image.height * scale;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor(y / scale) * image.width + Math.floor(x / scale)) * 3;
      data.set(image.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/** Viridis as 256 RGB triples, from Observable Plot's colour scale. */
const VIRIDIS: Uint8Array = (() => {
  const scale = Plot.scale({ color: { type: 'linear', scheme: 'viridis', domain: [0, 255] } });
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const css = String(scale.apply(i));
    const hex = /^#([0-9a-f]{6})$/i.exec(css);
    const rgb = hex
      ? [0, 2, 4].map((k) => parseInt(hex[1].slice(k, k + 2), 16))
      : (css.match(/\d+/g) ?? []).map(Number);
    table.set(rgb.slice(0, 3), i * 3);
  }
  return table;
})();

/** Writes `map` into `out` (an Rgb canvas) at (left, top), scaled to its own min..max. */
function paintMap(out: Rgb, map: Map2d, left: number, top: number, scale: number): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < map.values.length; i++) {
    min = Math.min(min, map.values[i]);
    max = Math.max(max, map.values[i]);
  }
  const span = max > min ? max - min : 1;
  for (let y = 0; y < map.height * scale; y++) {
    for (let x = 0; x < map.width * scale; x++) {
      const v = map.values[Math.floor(y / scale) * map.width + Math.floor(x / scale)];
      const level = Math.round(((v - min) / span) * 255);
      out.data.set(VIRIDIS.subarray(level * 3, level * 3 + 3), ((top + y) * out.width + left + x) * 3);
    }
  }
}

/** One map as a viridis heat map (its own min to max), each value `scale` x `scale` pixels. */
export function heatmapPng(map: Map2d, scale = 1): Uint8Array {
  return gridPng([map], { columns: 1, scale, gap: 0 });
}

/** Maps of one size tiled in rows of `columns`, each scaled to its own min..max, `gap` white pixels apart. */
export function gridPng(maps: readonly Map2d[], { columns = 8, scale = 1, gap = 2 } = {}): Uint8Array {
  if (maps.length === 0) throw new Error('gridPng: no maps');
  const cellWidth = maps[0].width * scale;
  const cellHeight = maps[0].height * scale;
  const rows = Math.ceil(maps.length / columns);
  const cols = Math.min(columns, maps.length);
  const out: Rgb = {
    width: cols * cellWidth + (cols - 1) * gap,
    height: rows * cellHeight + (rows - 1) * gap,
    data: new Uint8Array(0),
  };
  out.data = new Uint8Array(out.width * out.height * 3).fill(255);
  maps.forEach((map, i) => {
    const left = (i % columns) * (cellWidth + gap);
    const top = Math.floor(i / columns) * (cellHeight + gap);
    paintMap(out, map, left, top, scale);
  });
  return rgbPng(out);
}
