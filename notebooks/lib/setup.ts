/**
 * What every notebook starts with: a WebGPU device on Dawn, the model folder, the image to look at,
 * and paths printed relative to the repository (outputs are committed; they must not name a machine).
 *
 * - `FASTVLM_MODEL=DIR`: a FastVLM model folder (e.g. from `npx fastvlm pull apple/FastVLM-0.5B`);
 *   relative paths are taken from the repository root. Without it the notebooks use the random-weight
 *   demo model in `.cache/demo-model/` (what `npm run demo` uses), written on first use by the
 *   repository's own CLI (`fastvlm init-random`).
 * - `FASTVLM_IMAGE=FILE`: a PNG or JPEG to use instead of the scene drawn by `scene.ts`.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, type Device, type DeviceOptions } from '@fastvlm/tensor';
import { createDawnGpu } from '@fastvlm/tensor/node';

/** The repository root (this file is notebooks/lib/setup.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `path` relative to the repository root when it lies inside it, else as it is. */
export function shown(path: string): string {
  const inside = relative(REPO_ROOT, path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

/**
 * A device on Dawn (npm `webgpu`), the engine the library runs on in Node. Deno has a WebGPU of its
 * own (wgpu) at `navigator.gpu`, which `createDevice()` would pick up first; passing Dawn keeps the
 * notebooks on the same implementation as the CLI and the tests.
 */
export async function openDevice(options: Omit<DeviceOptions, 'gpu'> = {}): Promise<Device> {
  // As createDevice does for Dawn: exact timestamps for profiles.
  const gpu = await createDawnGpu(['disable-dawn-features=timestamp_quantization', ...(options.dawnFlags ?? [])]);
  return createDevice({ ...options, gpu });
}

export interface ModelChoice {
  /** The model folder. */
  folder: string;
  /** True for the random-weight demo model: its outputs are noise, its shapes and costs are real. */
  random: boolean;
}

/** `FASTVLM_MODEL`, or the demo model (written on first use). */
export async function modelFolder(): Promise<ModelChoice> {
  const given = Deno.env.get('FASTVLM_MODEL')?.trim();
  if (given) {
    const folder = resolve(REPO_ROOT, given);
    if (!existsSync(resolve(folder, 'config.json')))
      throw new Error(`FASTVLM_MODEL=${given}: ${shown(folder)} has no config.json (not a model folder)`);
    return { folder, random: false };
  }
  const cache = Deno.env.get('FASTVLM_CACHE')?.trim() || resolve(REPO_ROOT, '.cache');
  const folder = resolve(cache, 'demo-model');
  if (!existsSync(resolve(folder, 'model.safetensors')) || !existsSync(resolve(folder, 'tokenizer.json'))) {
    // The same folder `npm run demo` writes: preset 'tiny', seed 0. Written aside, then renamed.
    const partial = `${folder}.partial-${Deno.pid}`;
    const cli = resolve(REPO_ROOT, 'tools/bin/fastvlm.js');
    const args = [cli, 'init-random', partial, '--preset', 'tiny', '--seed', '0', '--quiet'];
    const { code, stderr } = await new Deno.Command('node', { args, stdout: 'null', stderr: 'piped' }).output();
    if (code !== 0) throw new Error(`fastvlm init-random failed: ${new TextDecoder().decode(stderr)}`);
    await rm(folder, { recursive: true, force: true });
    await rename(partial, folder);
  }
  return { folder, random: true };
}

/** `FASTVLM_IMAGE` if set, else undefined (the notebook draws its own scene). */
export function imagePath(): string | undefined {
  const given = Deno.env.get('FASTVLM_IMAGE')?.trim();
  return given ? resolve(REPO_ROOT, given) : undefined;
}
