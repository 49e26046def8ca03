/**
 * A small landscape drawn in code (sky, sun, hills, a house, a tree), so the notebooks have an image
 * to look at without shipping a photo. Wider than tall, so FastVLM's padding to a square shows.
 */
import type { Rgb } from './images.ts';

type Color = readonly [number, number, number];

function mix(a: Color, b: Color, t: number): Color {
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * t)) as unknown as Color;
}

/** The scene, `width` x `height` (default 640 x 420). */
export function drawScene(width = 640, height = 420): Rgb {
  const data = new Uint8Array(width * height * 3);
  const put = (x: number, y: number, c: Color) => data.set(c, (y * width + x) * 3);
  const horizon = height * 0.62;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      // Sky: deep blue at the top to pale near the horizon.
      let c: Color = mix([40, 90, 170], [190, 220, 240], Math.min(1, y / horizon));
      // Sun, upper right, with a soft edge.
      const sun = Math.hypot(u - 0.8, (v - 0.2) * (height / width));
      if (sun < 0.07) c = mix([255, 236, 120], c, Math.max(0, (sun - 0.06) / 0.01));
      // Two hills.
      const hillFar = horizon - 40 * Math.sin(u * Math.PI * 1.3 + 0.4);
      const hillNear = horizon + 25 - 30 * Math.cos(u * Math.PI * 2.1);
      if (y > hillFar) c = mix([90, 140, 90], [70, 120, 70], (y - hillFar) / height);
      if (y > hillNear) c = mix([100, 170, 60], [60, 120, 40], (y - hillNear) / (height - hillNear));
      put(x, y, c);
    }
  }
  const rect = (x0: number, y0: number, x1: number, y1: number, c: Color) => {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(height, Math.round(y1)); y++)
      for (let x = Math.max(0, Math.round(x0)); x < Math.min(width, Math.round(x1)); x++) put(x, y, c);
  };
  // The house: walls, a door, two windows, a roof.
  const hx = width * 0.18;
  const hy = horizon + 10;
  const hw = width * 0.22;
  const hh = height * 0.2;
  rect(hx, hy, hx + hw, hy + hh, [225, 205, 170]);
  rect(hx + hw * 0.42, hy + hh * 0.45, hx + hw * 0.58, hy + hh, [120, 70, 40]);
  rect(hx + hw * 0.12, hy + hh * 0.25, hx + hw * 0.3, hy + hh * 0.55, [150, 200, 235]);
  rect(hx + hw * 0.7, hy + hh * 0.25, hx + hw * 0.88, hy + hh * 0.55, [150, 200, 235]);
  for (let y = Math.round(hy - hh * 0.7); y < hy; y++) {
    const half = ((y - (hy - hh * 0.7)) / (hh * 0.7)) * (hw * 0.6);
    rect(hx + hw / 2 - half, y, hx + hw / 2 + half, y + 1, [170, 50, 40]);
  }
  // The tree: a trunk and a round crown.
  const tx = width * 0.62;
  rect(tx - 8, horizon - 10, tx + 8, horizon + 70, [100, 65, 35]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.hypot(x - tx, y - (horizon - 45));
      if (d < 55) put(x, y, mix([40, 110, 40], [20, 80, 25], d / 55));
    }
  }
  return { width, height, data };
}
