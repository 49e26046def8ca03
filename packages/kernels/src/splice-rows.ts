/**
 * Splicing the image rows into the text embeddings: the prompt's placeholder row `at` is replaced
 * by the projector's rows, out = text[:at] ++ image ++ text[at+1:].
 */
import { formatShape, ShapeError, Tensor } from '@fastvlm/tensor';
import { flatIndex, GRID_BUILTINS, grid1d } from './shared/grid.js';
import { memoSource } from './shared/memo-source.js';

const WG = 256;

/** `vector`: rows are read and written as vec4<f32> (the width, in elements, is a multiple of 4). */
function spliceSourceUncached(vector: boolean): string {
  const element = vector ? 'vec4<f32>' : 'f32';
  return /* wgsl */ `
struct Params { rows: u32, width: u32, at: u32, image_rows: u32 }  // width in ${element}s
@group(0) @binding(0) var<storage, read> text: array<${element}>;
@group(0) @binding(1) var<storage, read> image: array<${element}>;
@group(0) @binding(2) var<storage, read_write> out: array<${element}>;
@group(0) @binding(3) var<uniform> params: Params;
@compute @workgroup_size(${WG})
fn main(${GRID_BUILTINS}) {
  let i = ${flatIndex(WG)};
  if (i >= params.rows * params.width) { return; }
  let row = i / params.width;
  let col = i - row * params.width;
  if (row < params.at) {
    out[i] = text[i];
  } else if (row < params.at + params.image_rows) {
    out[i] = image[(row - params.at) * params.width + col];
  } else {
    out[i] = text[(row - params.image_rows + 1u) * params.width + col];
  }
}`;
}

/**
 * text [T, D], image [I, D] -> [T - 1 + I, D]: row `at` of `text` (the image placeholder) replaced
 * by the I image rows. With `at` null there is no placeholder and the result is a copy of `text`.
 */
export function spliceRows(text: Tensor<'f32'>, image: Tensor<'f32'>, at: number | null): Tensor<'f32'> {
  for (const [name, t] of [
    ['text', text],
    ['image', image],
  ] as const) {
    if (t.dtype !== 'f32' || t.rank !== 2)
      throw new ShapeError(`spliceRows: ${name} must be f32 [rows, D], got ${formatShape(t.shape)} ${t.dtype}`);
  }
  const [textRows, dim] = text.shape;
  if (image.shape[1] !== dim)
    throw new ShapeError(
      `spliceRows: image ${formatShape(image.shape)} and text ${formatShape(text.shape)} differ in width`,
    );
  if (at !== null && !(Number.isInteger(at) && at >= 0 && at < textRows)) {
    throw new ShapeError(`spliceRows: placeholder row ${at} is outside the ${textRows} text rows`);
  }
  const imageRows = at === null ? 0 : image.shape[0];
  const rows = at === null ? textRows : textRows - 1 + imageRows;
  const device = text.device;
  const out = Tensor.empty(device, [rows, dim], 'f32'); // [T, D] + [I, D] -> [T - 1 + I, D]
  const vector = dim % 4 === 0;
  const width = vector ? dim / 4 : dim;
  const params = new Uint32Array([rows, width, at ?? textRows, imageRows]);
  device.dispatch(
    device.kernel(spliceSource(vector), 'splice-rows'),
    [text, image, out, { uniform: params }],
    grid1d(device, rows * width, WG),
  );
  return out;
}

const spliceSource = memoSource(spliceSourceUncached);
