/**
 * Decoded coefficients -> 8-bit RGB: each component's blocks through the islow IDCT into a sample
 * plane, then row by row: upsampled to full resolution and colour-converted, as libjpeg's output
 * pass does (and PIL's convert('RGB') after it, for gray and CMYK).
 */
import type { RgbImage } from '../rgb-image.js';
import { cmykToRgb, grayToRgb, interleaveRgb, yccToRgb, ycckToRgb } from './color-convert.js';
import type { Frame, FrameComponent } from './frame.js';
import { idctIslow } from './idct-islow.js';
import { rowUpsampler, type ComponentPlane } from './upsample.js';

/** How the components are coded (libjpeg's jpeg_color_space). */
export type JpegColorSpace = 'gray' | 'ycc' | 'rgb' | 'cmyk' | 'ycck';

/** A component no scan latched a table for decodes to flat grey, as in libjpeg (zero multipliers). */
const NO_QUANT_TABLE = new Int32Array(64);

export function renderRgb(frame: Frame, colorSpace: JpegColorSpace): RgbImage {
  const { width, height } = frame;
  const workspace = new Int32Array(64); // the IDCT's scratch
  const upsamplers = frame.components.map((component) => {
    const plane = samplePlane(component, workspace);
    component.coefficients = new Int16Array(0); // let them go before the next plane is made
    return rowUpsampler(plane, frame);
  });
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const rows = upsamplers.map((upsample) => upsample(y));
    const offset = y * width * 3;
    switch (colorSpace) {
      case 'gray':
        grayToRgb(rows[0], width, data, offset);
        break;
      case 'ycc':
        yccToRgb(rows[0], rows[1], rows[2], width, data, offset);
        break;
      case 'rgb':
        interleaveRgb(rows[0], rows[1], rows[2], width, data, offset);
        break;
      case 'cmyk':
        cmykToRgb(rows[0], rows[1], rows[2], rows[3], width, data, offset);
        break;
      case 'ycck':
        ycckToRgb(rows[0], rows[1], rows[2], rows[3], width, data, offset);
        break;
    }
  }
  return { width, height, data };
}

/** The component's real blocks through the IDCT: [heightInBlocks * 8, widthInBlocks * 8] samples. */
function samplePlane(component: FrameComponent, workspace: Int32Array): ComponentPlane {
  const stride = component.widthInBlocks * 8;
  const samples = new Uint8Array(stride * component.heightInBlocks * 8);
  const quant = component.quantTable ?? NO_QUANT_TABLE;
  for (let blockRow = 0; blockRow < component.heightInBlocks; blockRow++) {
    for (let blockColumn = 0; blockColumn < component.widthInBlocks; blockColumn++) {
      const offset = (blockRow * component.blocksPerLine + blockColumn) * 64;
      idctIslow(
        component.coefficients,
        offset,
        quant,
        samples,
        blockRow * 8 * stride + blockColumn * 8,
        stride,
        workspace,
      );
    }
  }
  return { component, samples, stride };
}
