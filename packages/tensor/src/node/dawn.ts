/** Dawn's Node binding (npm `webgpu`): loading it, asking it for adapters quietly, and the JS thread's priority. */
import { setPriority } from 'node:os';
import { DeviceError } from '../errors.js';
import { shaderCacheForProcess } from './shader-cache.js';
import { withStderrFiltered } from './stderr-filter.js';

/** What Dawn's Vulkan backend prints while it enumerates lavapipe (limits it clamps, harmless). */
const DAWN_ENUMERATION_NOTICES = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

export async function createDawnGpu(flags: readonly string[]): Promise<GPU> {
  // Dawn prints errors when this is unset.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  // Compiled pipelines kept across processes (shader-cache.ts); read when Dawn creates its instance.
  shaderCacheForProcess();
  const specifier = 'webgpu';
  let dawn: { create(flags: string[]): GPU; globals: object };
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as typeof dawn;
  } catch (cause) {
    throw new DeviceError(
      `could not load Dawn's Node binding (npm package 'webgpu'): ${String(cause)}. Run 'npm ci' in the repository root.`,
      { cause },
    );
  }
  // GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  return dawn.create([...flags]);
}

/** `gpu.requestAdapter` with Dawn's adapter-enumeration notices dropped from stderr (they print synchronously inside the call). */
export function requestAdapterQuietly(gpu: GPU, options: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  return withStderrFiltered(() => gpu.requestAdapter(options), DAWN_ENUMERATION_NOTICES);
}

/** Lowers the calling (JS) thread's priority on Linux; not permitted or not supported: only slower. */
export function lowerJsThreadPriority(): void {
  try {
    setPriority(19);
  } catch {
    // not permitted here
  }
}
