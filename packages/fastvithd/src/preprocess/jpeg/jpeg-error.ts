/**
 * What the JPEG decoder throws: 'corrupt' for data that breaks the format (libjpeg would stop with
 * an error too), 'unsupported' for valid JPEGs outside what we decode. decode-jpeg.ts turns it into
 * an ImageError; any other exception escaping the decoder is a bug, not bad input.
 */
export class JpegError extends Error {
  readonly kind: 'corrupt' | 'unsupported';
  constructor(kind: 'corrupt' | 'unsupported', message: string) {
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
