/**
 * Typed errors. Every error a user can provoke with bad input is one of these: it carries a
 * stable `code`, names the thing that was wrong, and prints as one readable line.
 */
export class FastVlmError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** No WebGPU adapter or device could be obtained, or the one found lacks what is required. */
export class DeviceError extends FastVlmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEVICE', message, options);
  }
}

/** A tensor had the wrong shape, dtype or size for the operation asked of it. */
export class ShapeError extends FastVlmError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/**
 * A tensor, buffer, model or chat was used after `dispose()`, or (`whileGenerating`) disposed
 * while a generation was running, which then ends with this error.
 */
export class DisposedError extends FastVlmError {
  constructor(what: string, options?: { whileGenerating?: boolean; cause?: unknown }) {
    super(
      'DISPOSED',
      options?.whileGenerating === true ? `${what} was disposed while generating` : `${what} was used after dispose()`,
      options,
    );
  }
}

/** A safetensors file (or a sharded checkpoint's index) is malformed or does not hold what was asked. */
export class SafetensorsError extends FastVlmError {
  /** The file at fault. */
  readonly file: string;
  /** The tensor at fault, when the problem is one tensor's. */
  readonly tensor: string | undefined;
  /** What is wrong, without the file and tensor names. */
  readonly problem: string;
  constructor(file: string, problem: string, tensor?: string, options?: { cause?: unknown }) {
    super('SAFETENSORS', `${file}${tensor === undefined ? '' : `: tensor '${tensor}'`}: ${problem}`, options);
    this.file = file;
    this.tensor = tensor;
    this.problem = problem;
  }
}
