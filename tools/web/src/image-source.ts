/**
 * How an image reaches the model in the browser: a picked or dropped file (its bytes, decoded by our
 * PNG/JPEG decoders, bit-exact to Pillow), or a webcam frame (drawn to a canvas, read back as RGBA
 * ImageData). Either way the model gets the same thing: 8-bit RGB pixels, decoded once, which the
 * preview shows.
 */
import { loadImage, type RgbImage } from '@fastvlm/fastvithd';
import { ui } from './dom.js';

/** Largest picked file read (the decoder's own budgets apply after this). */
const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;

export class ImageFileError extends Error {}

/** A picked or dropped file, decoded. A non-image or damaged file is an ImageError naming it. */
export async function imageFromFile(file: File): Promise<RgbImage> {
  if (file.size > MAX_IMAGE_FILE_BYTES) {
    throw new ImageFileError(
      `${file.name}: ${file.size} bytes, above the ${MAX_IMAGE_FILE_BYTES}-byte limit for an image`,
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  return loadImage(bytes, { source: file.name });
}

/** The video's current frame as RGB pixels (a canvas draw, then ImageData read back). */
export function imageFromVideo(video: HTMLVideoElement): RgbImage {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (width === 0 || height === 0) throw new ImageFileError('the webcam has not delivered a frame yet');
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) throw new ImageFileError('this browser cannot read pixels from a canvas');
  context.drawImage(video, 0, 0, width, height);
  const frame = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = frame.data[i];
    rgb[j + 1] = frame.data[i + 1];
    rgb[j + 2] = frame.data[i + 2];
  }
  return { width, height, data: rgb };
}

/** Draws RGB pixels into the preview canvas. */
export function showPreview(image: RgbImage): void {
  const canvas = ui.preview;
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  if (context === null) return;
  const rgba = new ImageData(image.width, image.height);
  for (let i = 0, j = 0; i < image.data.length; i += 3, j += 4) {
    rgba.data[j] = image.data[i];
    rgba.data[j + 1] = image.data[i + 1];
    rgba.data[j + 2] = image.data[i + 2];
    rgba.data[j + 3] = 255;
  }
  context.putImageData(rgba, 0, 0);
  canvas.style.display = 'block';
  ui.dropHint.style.display = 'none';
}

/** Starts the webcam into the page's video element; stop it with the returned function. */
export async function startWebcam(): Promise<() => void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new ImageFileError('this browser gives no access to a camera');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  ui.video.srcObject = stream;
  ui.video.style.display = 'block';
  await ui.video.play();
  return () => {
    for (const track of stream.getTracks()) track.stop();
    ui.video.srcObject = null;
    ui.video.style.display = 'none';
  };
}
