/**
 * The frame (SOFn segment): image size, components with their sampling factors, and the geometry
 * libjpeg derives from them (jdinput.c initial_setup): each component's downsampled size, its
 * blocks, and the MCU grid of interleaved scans. Coefficients are kept per component, in natural
 * order, padded to whole MCUs, for all scans to refine.
 */
import { corrupt, unsupported } from './jpeg-error.js';

export interface FrameComponent {
  id: number;
  /** Sampling factors (1..4). */
  h: number;
  v: number;
  quantTableIndex: number;
  /** Samples of this component: ceil(imageWidth * h / maxH) x ceil(imageHeight * v / maxV). */
  width: number;
  height: number;
  /** Blocks holding real samples: ceil(width / 8) x ceil(height / 8). */
  widthInBlocks: number;
  heightInBlocks: number;
  /** Blocks allocated: the MCU grid x h (or v). */
  blocksPerLine: number;
  blocksPerColumn: number;
  /**
   * [blocksPerColumn, blocksPerLine, 64] quantized coefficients, natural order (libjpeg's JCOEF);
   * emptied once turned into samples.
   */
  coefficients: Int16Array;
  /** The quantization table (natural order), latched at the first scan that holds the component. */
  quantTable: Int32Array | undefined;
}

export interface Frame {
  width: number;
  height: number;
  precision: number;
  progressive: boolean;
  components: FrameComponent[];
  maxH: number;
  maxV: number;
  /** The MCU grid of interleaved scans. */
  mcusPerLine: number;
  mcusPerColumn: number;
}

const MAX_COMPONENTS = 10; // libjpeg's MAX_COMPONENTS

/**
 * Parses a SOFn segment body (after the length field) of `length` bytes, once the frame is known
 * to be one we decode (8-bit, 1, 3 or 4 components). Nothing is allocated: the coefficients are
 * empty until `allocateCoefficients`, so the decoding budget can be checked from the geometry.
 */
export function parseFrame(data: Uint8Array, start: number, length: number, progressive: boolean): Frame {
  if (length < 6) throw corrupt('the frame header (SOF) is too short');
  const precision = data[start];
  const height = (data[start + 1] << 8) | data[start + 2];
  const width = (data[start + 3] << 8) | data[start + 4];
  const count = data[start + 5];
  if (width === 0 || height === 0 || count === 0)
    throw corrupt(`the frame is empty (${width}x${height}, ${count} components)`);
  if (count > MAX_COMPONENTS) throw corrupt(`the frame has ${count} components (at most ${MAX_COMPONENTS})`);
  if (length !== 6 + 3 * count)
    throw corrupt(`the frame header (SOF) has length ${length + 2} for ${count} components`);
  if (precision !== 8) throw unsupported(`${precision}-bit JPEGs are not supported (only 8-bit samples)`);
  if (count !== 1 && count !== 3 && count !== 4) throw unsupported(`JPEGs with ${count} components are not supported`);
  const specs: Array<{ id: number; h: number; v: number; quantTableIndex: number }> = [];
  for (let i = 0; i < count; i++) {
    const at = start + 6 + 3 * i;
    const h = data[at + 1] >> 4;
    const v = data[at + 1] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4)
      throw corrupt(`component ${data[at]} has sampling factors ${h}x${v} (1..4 allowed)`);
    specs.push({ id: data[at], h, v, quantTableIndex: data[at + 2] });
  }
  const maxH = Math.max(...specs.map((spec) => spec.h));
  const maxV = Math.max(...specs.map((spec) => spec.v));
  const mcusPerLine = Math.ceil(width / (8 * maxH));
  const mcusPerColumn = Math.ceil(height / (8 * maxV));
  const components = specs.map((spec): FrameComponent => {
    const blocksPerLine = mcusPerLine * spec.h;
    const blocksPerColumn = mcusPerColumn * spec.v;
    const componentWidth = Math.ceil((width * spec.h) / maxH);
    const componentHeight = Math.ceil((height * spec.v) / maxV);
    return {
      ...spec,
      width: componentWidth,
      height: componentHeight,
      widthInBlocks: Math.ceil(componentWidth / 8),
      heightInBlocks: Math.ceil(componentHeight / 8),
      blocksPerLine,
      blocksPerColumn,
      coefficients: new Int16Array(0),
      quantTable: undefined,
    };
  });
  return { width, height, precision, progressive, components, maxH, maxV, mcusPerLine, mcusPerColumn };
}

/** Gives each component its zeroed coefficients (blocksPerColumn x blocksPerLine x 64). */
export function allocateCoefficients(frame: Frame): void {
  for (const component of frame.components) {
    component.coefficients = new Int16Array(component.blocksPerLine * component.blocksPerColumn * 64);
  }
}

/** Coefficients held for the whole frame: what one pass over every block visits. */
export function coefficientCount(frame: Frame): number {
  return frame.components.reduce((sum, c) => sum + c.blocksPerLine * c.blocksPerColumn * 64, 0);
}

/**
 * Bytes decoding the frame allocates: every component's coefficients (16-bit) and sample plane,
 * the RGB output, and per component an upsampled row and its column sums (5 bytes a pixel).
 */
export function frameDecodeBytes(frame: Frame): number {
  const planes = frame.components.reduce((sum, c) => sum + c.widthInBlocks * 64 * c.heightInBlocks, 0);
  return (
    2 * coefficientCount(frame) + planes + frame.width * frame.height * 3 + frame.components.length * frame.width * 5
  );
}
