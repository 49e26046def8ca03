import { DeviceError } from './errors.js';

/**
 * Finds the WebGPU entry point: `navigator.gpu` in a browser, Dawn's Node binding (npm `webgpu`)
 * in Node. The Dawn object is returned to the caller, who must keep it referenced for as long as
 * the device lives: if it is garbage-collected the process aborts on the next await.
 */
export async function findGpu(dawnFlags: readonly string[] = []): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new DeviceError('this browser has no WebGPU (navigator.gpu is missing): use a browser with WebGPU enabled');
  }
  // Dawn prints errors when this is unset.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
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
  return dawn.create([...dawnFlags]);
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter was found. On a machine without a GPU install a CPU Vulkan driver: on Debian bookworm, ' +
  "add the 'bookworm-backports' suite to apt and run 'apt-get install -t bookworm-backports mesa-vulkan-drivers' " +
  "(bash tools/setup/install-webgpu-driver.sh does this); elsewhere install your GPU vendor's Vulkan, Metal or D3D12 driver.";
