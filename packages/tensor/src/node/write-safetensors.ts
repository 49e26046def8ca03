/** Writing safetensors files to disk (Node only), streaming each tensor: no whole-file buffer. */
import { open as openFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SafetensorsError } from '../errors.js';
import { layoutSafetensors, type SafetensorsLayout, type TensorsToWrite } from '../safetensors/writer.js';

/** Largest single write handed to the OS (Node caps one call below 2 GiB). */
const IO_CHUNK_BYTES = 1 << 30;

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** Wraps an OS error (ENOENT, EACCES, ...) met while creating or writing `fileName`. */
export function osError(fileName: string, action: string, cause: unknown): SafetensorsError {
  return new SafetensorsError(fileName, `cannot ${action}: ${describe(cause)}`, undefined, { cause });
}

/** Writes all of `bytes` at the handle's current position. */
async function writeAll(handle: FileHandle, bytes: Uint8Array, fileName: string): Promise<void> {
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

/** Writes a validated layout to `path`, streaming each tensor (no whole-file buffer). */
export async function writeLayout(path: string, layout: SafetensorsLayout): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await openFile(path, 'w');
  } catch (cause) {
    throw osError(path, 'create file', cause);
  }
  try {
    await writeAll(handle, layout.header, path);
    for (const part of layout.parts) await writeAll(handle, part, path);
  } finally {
    await handle.close();
  }
}

/** Writes tensors (and optional string metadata) to one safetensors file at `path`. */
export async function writeSafetensors(
  path: string,
  tensors: TensorsToWrite,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeLayout(path, layoutSafetensors(tensors, metadata, path));
}
