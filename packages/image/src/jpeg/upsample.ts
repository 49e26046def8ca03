/**
 * Chroma upsampling as libjpeg-turbo does it with do_fancy_upsampling on (PIL's default; merged
 * upsampling is then never used), jdsample.c:
 * - h2v1 (4:2:2) and h2v2 (4:2:0), when the component is more than 2 samples wide: the "fancy"
 *   triangle filter, each output sample 3/4 of its nearest input sample and 1/4 of the next
 *   nearest (3/4 x 3/4, 3/4 x 1/4, 1/4 x 1/4 in 2-D), with libjpeg's alternating rounding biases;
 * - h1v2 (4:4:0): the same filter vertically;
 * - any other integral factors (and h2 when 1 or 2 samples wide): sample replication.
 * At the image edges the nearest real sample stands in for the missing neighbour (libjpeg
 * replicates the first and last rows and columns, jdmainct.c / jdsample.c).
 */
import type { Frame, FrameComponent } from './frame.js';
import { unsupported } from './jpeg-error.js';

/** A component's samples: plane[y * stride + x] for x < component.width, y < component.height. */
export interface ComponentPlane {
  component: FrameComponent;
  samples: Uint8Array;
  stride: number;
}

/** Output row y (0..frame.height-1) of a component at full resolution: >= frame.width samples. */
export type RowUpsampler = (y: number) => Uint8Array;

export function rowUpsampler(plane: ComponentPlane, frame: Frame): RowUpsampler {
  const { component, samples, stride } = plane;
  const { width, height } = component;
  if (frame.maxH % component.h !== 0 || frame.maxV % component.v !== 0) {
    throw unsupported(
      `sampling factors ${component.h}x${component.v} against ${frame.maxH}x${frame.maxV} are not integral ratios`,
    );
  }
  const hRatio = frame.maxH / component.h;
  const vRatio = frame.maxV / component.v;
  if (hRatio === 1 && vRatio === 1) return (y) => samples.subarray(y * stride, y * stride + width);
  const row = new Uint8Array(width * hRatio);
  /** The row above (even output rows) or below (odd) the nearest, clamped to the image. */
  const neighbourRow = (y: number, nearest: number): number =>
    (y & 1) === 0 ? Math.max(nearest - 1, 0) : Math.min(nearest + 1, height - 1);

  if (hRatio === 2 && vRatio === 1 && width > 2) {
    return (y) => {
      const at = y * stride;
      for (let x = 0; x < width; x++) {
        const near = samples[at + x] * 3;
        row[2 * x] = (near + samples[at + Math.max(x - 1, 0)] + 1) >> 2;
        row[2 * x + 1] = (near + samples[at + Math.min(x + 1, width - 1)] + 2) >> 2;
      }
      return row;
    };
  }
  if (hRatio === 2 && vRatio === 2 && width > 2) {
    const columnSums = new Int32Array(width);
    return (y) => {
      const nearest = y >> 1;
      const near = nearest * stride;
      const far = neighbourRow(y, nearest) * stride;
      for (let x = 0; x < width; x++) columnSums[x] = samples[near + x] * 3 + samples[far + x];
      for (let x = 0; x < width; x++) {
        const sum = columnSums[x] * 3;
        row[2 * x] = (sum + columnSums[Math.max(x - 1, 0)] + 8) >> 4;
        row[2 * x + 1] = (sum + columnSums[Math.min(x + 1, width - 1)] + 7) >> 4;
      }
      return row;
    };
  }
  if (hRatio === 1 && vRatio === 2) {
    return (y) => {
      const nearest = y >> 1;
      const near = nearest * stride;
      const far = neighbourRow(y, nearest) * stride;
      const bias = (y & 1) === 0 ? 1 : 2;
      for (let x = 0; x < width; x++) row[x] = (samples[near + x] * 3 + samples[far + x] + bias) >> 2;
      return row;
    };
  }
  return (y) => {
    const at = Math.floor(y / vRatio) * stride;
    for (let x = 0, out = 0; x < width; x++) {
      row.fill(samples[at + x], out, (out += hRatio));
    }
    return row;
  };
}
