/**
 * Positioned reads that either fill the whole target or fail: a short read (file truncated after
 * it was opened or validated) raises `SafetensorsError`, never leaves garbage in the target.
 */
import type { FileHandle } from 'node:fs/promises';
import { SafetensorsError } from '../errors.js';

/** Largest single read or write handed to the OS (Node caps one call below 2 GiB). */
export const IO_CHUNK_BYTES = 1 << 30;

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** Reads exactly `target.byteLength` bytes starting at absolute `position` of the file. */
export async function readExactly(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  fileName: string,
  tensor?: string,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, IO_CHUNK_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(target, done, length, position + done));
    } catch (cause) {
      throw new SafetensorsError(
        fileName,
        `read of ${target.byteLength} bytes at offset ${position} failed: ${describe(cause)}`,
        tensor,
        { cause },
      );
    }
    if (bytesRead === 0) {
      throw new SafetensorsError(
        fileName,
        `file is truncated: expected ${target.byteLength} bytes at offset ${position}, the file ends after ${done}`,
        tensor,
      );
    }
    done += bytesRead;
  }
}

/** Writes all of `bytes` at the handle's current position. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, fileName: string): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, IO_CHUNK_BYTES);
    try {
      const { bytesWritten } = await handle.write(bytes, done, length);
      done += bytesWritten;
    } catch (cause) {
      throw new SafetensorsError(fileName, `write failed: ${describe(cause)}`, undefined, { cause });
    }
  }
}

/** Wraps an OS error (ENOENT, EACCES, ...) met while opening or inspecting a path. */
export function osError(fileName: string, action: string, cause: unknown): SafetensorsError {
  return new SafetensorsError(fileName, `cannot ${action}: ${describe(cause)}`, undefined, { cause });
}
