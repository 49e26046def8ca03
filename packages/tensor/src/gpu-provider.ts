import { DeviceError } from './errors.js';
import { isNode, nodeEntry } from './runtime.js';

/**
 * Finds the WebGPU entry point: `navigator.gpu` in a browser, Dawn's Node binding (npm `webgpu`)
 * in Node. The Dawn object is returned to the caller, who must keep it referenced for as long as
 * the device lives: if it is garbage-collected the process aborts on the next await.
 */
export async function findGpu(dawnFlags: readonly string[] = []): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) throw new DeviceError(NO_WEBGPU_HELP);
  return (await nodeEntry()).createDawnGpu(dawnFlags);
}

/**
 * `gpu.requestAdapter(options)`. In Node, Dawn prints two notices about limits it clamps while it
 * enumerates adapters (`maxDynamic...BuffersPerPipelineLayout artificially reduced ...`), which no
 * user can act on: they are filtered out of stderr there, and anything else Dawn prints is kept.
 */
export async function requestAdapter(gpu: GPU, options: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (isNode() && nav?.gpu !== gpu) return (await nodeEntry()).requestAdapterQuietly(gpu, options);
  return gpu.requestAdapter(options);
}

/** Node only, on CPU adapters: see `DeviceOptions.lowerJsThreadPriority`. Does nothing elsewhere. */
export async function lowerJsThreadPriority(): Promise<void> {
  if (isNode()) (await nodeEntry()).lowerJsThreadPriority();
}

/** Node only: the shader writer `FASTVLM_DUMP_WGSL=DIR` asks for (see `DeviceOptions.onShaderCompiled`), else undefined. */
export async function wgslDumpFromEnvironment(): Promise<((label: string, code: string) => void) | undefined> {
  const dir = isNode() ? process.env.FASTVLM_DUMP_WGSL : undefined;
  return dir ? (await nodeEntry()).wgslFileDump(dir) : undefined;
}

export const NO_WEBGPU_HELP =
  'This browser has no WebGPU (navigator.gpu is missing): use a recent Chrome, Edge or Safari, or enable WebGPU in ' +
  "your browser's settings (Chromium on Linux: --enable-unsafe-webgpu).";

export const NO_ADAPTER_HELP =
  'No WebGPU adapter was found. On a machine without a GPU install a CPU Vulkan driver: on Debian bookworm, ' +
  "add the 'bookworm-backports' suite to apt and run 'apt-get install -t bookworm-backports mesa-vulkan-drivers' " +
  "(bash tools/setup/install-webgpu-driver.sh does this); elsewhere install your GPU vendor's Vulkan, Metal or D3D12 driver.";

const NO_BROWSER_ADAPTER_HELP =
  'The browser offers WebGPU but no adapter (the GPU may be blocklisted or WebGPU disabled): check chrome://gpu, ' +
  'or start Chromium with --enable-unsafe-webgpu (add --use-webgpu-adapter=opengles for a compatibility adapter).';

export function noAdapterHelp(): string {
  return isNode() ? NO_ADAPTER_HELP : NO_BROWSER_ADAPTER_HELP;
}
