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

/** Maps a value of `values` to 0..255 over their min..max. */
function levelOf(values: ArrayLike<number>): (value: number) => number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const span = max > min ? max - min : 1;
  return (value) => Math.round(((value - min) / span) * 255);
}

/** The viridis colour of `level` in 0..255. */
function viridis(level: number): Uint8Array {
  return VIRIDIS.subarray(level * 3, level * 3 + 3);
}

/**
 * `map` drawn over a square `image` at `size` x `size` pixels: the image dimmed to grey, the map's
 * values (scaled to their own min..max) in viridis over it, half and half; `mark` outlines one
 * cell of the map in white (e.g. an attention query).
 */
export function overlay(image: Rgb, map: Map2d, size: number, mark?: { x: number; y: number }): Rgb {
  const level = levelOf(map.values);
  const data = new Uint8Array(size * size * 3);
  const cell = size / map.width;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (Math.floor((y * image.height) / size) * image.width + Math.floor((x * image.width) / size)) * 3;
      const grey = (image.data[from] + image.data[from + 1] + image.data[from + 2]) / 3;
      const mx = Math.floor(x / cell);
      const my = Math.floor(y * (map.height / size));
      const colour = viridis(level(map.values[my * map.width + mx]));
      const edge =
        mark &&
        mx === mark.x &&
        my === mark.y &&
        (x % cell < 2 || y % cell < 2 || x % cell >= cell - 2 || y % cell >= cell - 2);
      for (let k = 0; k < 3; k++)
        data[(y * size + x) * 3 + k] = edge ? 255 : Math.round(0.45 * grey + 0.55 * colour[k]);
    }
  }
  return { width: size, height: size, data };
}

/** Images of one size tiled in rows of `columns`, `gap` white pixels apart, as PNG. */
export function tilesPng(images: readonly Rgb[], { columns = 8, gap = 4 } = {}): Uint8Array {
  if (images.length === 0) throw new Error('tilesPng: no images');
  const { width, height } = images[0];
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / columns);
  const out: Rgb = {
    width: cols * width + (cols - 1) * gap,
    height: rows * height + (rows - 1) * gap,
    data: new Uint8Array(0),
  };
  out.data = new Uint8Array(out.width * out.height * 3).fill(255);
  images.forEach((image, i) => {
    const left = (i % columns) * (width + gap);
    const top = Math.floor(i / columns) * (height + gap);
    for (let y = 0; y < height; y++)
      out.data.set(image.data.subarray(y * width * 3, (y + 1) * width * 3), ((top + y) * out.width + left) * 3);
  });
  return rgbPng(out);
}

/** `map` as a viridis heat map (its own min to max), each value `scale` x `scale` pixels. */
export function heatmap(map: Map2d, scale = 1): Rgb {
  const level = levelOf(map.values);
  const width = map.width * scale;
  const height = map.height * scale;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = map.values[Math.floor(y / scale) * map.width + Math.floor(x / scale)];
      data.set(viridis(level(v)), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

/** Maps of one size as heat maps (each to its own range) tiled in rows of `columns`, as PNG. */
export function gridPng(maps: readonly Map2d[], { columns = 8, scale = 1, gap = 2 } = {}): Uint8Array {
  return tilesPng(
    maps.map((map) => heatmap(map, scale)),
    { columns, gap },
  );
}
