/**
 * What the JPEG decoder throws: 'corrupt' for data that breaks the format (libjpeg would stop with
 * an error too), 'unsupported' for valid JPEGs outside what we decode, 'budget' for scans asking
 * for more decoding work than allowed. decode-jpeg.ts turns it into an ImageError; any other
 * exception escaping the decoder is a bug, not bad input.
 */
export class JpegError extends Error {
  readonly kind: 'corrupt' | 'unsupported' | 'budget';
  constructor(kind: JpegError['kind'], message: string) {
    super(message);
    this.name = 'JpegError';
    this.kind = kind;
  }
}

export function corrupt(message: string): JpegError {
  return new JpegError('corrupt', message);
}

export function unsupported(message: string): JpegError {
  return new JpegError('unsupported', message);
}
